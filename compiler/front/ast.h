/*
 * ast.h - the syntax tree.
 *
 * One node struct for every construct, allocated in the compilation's arena.
 * Each kind uses a few of the generic slots; the table below says which.
 * Lists are singly linked through `next`.  Names are interned (ast_intern),
 * so two names are equal exactly when their pointers are.
 *
 *  kind          name       name2     a           b          c         num/op        list        list2
 *  ----          ----       -----     -           -          -         ------        ----        -----
 *  N_FILE                                                                            decls
 *  N_MODULE      dotted               timezone
 *  N_IMPORT      dotted     alias
 *  N_CONST       name                 value
 *  N_FN          name                 ret type    body                               params
 *  N_PARAM       name                 type
 *  N_EVENT       name                                                                fields
 *  N_ENTITY      name                                                                fields      identity
 *  N_FIELD       name                 type        default
 *  N_TYPE        base|NULL            elem(list)                       optional      enum values
 *  N_SCORE       name       entity    priority               N_IDENT(entity)        rules
 *  N_INTENT                 entity    priority               N_IDENT(entity)        categories
 *  (N_SIGNAL, N_ROUTE, N_WORKFLOW and N_SEQUENCE also keep the entity's N_IDENT in c)
 *  N_CATEGORY    name                                                                rules
 *  N_RULE                             on          when       amount                  options
 *  N_LIMIT       unit|chan            count
 *  N_EXPIRE                           duration
 *  N_DECAY       kind|NULL            duration
 *  N_DERIVE                           target      value
 *  N_SIGNAL      name       entity                                                   clauses
 *  N_ON                               event       when
 *  N_WEIGHT                           value
 *  N_PRIORITY    level|NULL           value|NULL
 *  N_ROUTE                  entity                                                   clauses
 *  N_WHEN                             cond
 *  N_RMATCH                           subject                                        arms
 *  N_RARM                             pattern|NULL (wildcard)                        actions
 *  N_ELSE                                                                            actions
 *  N_DO                                                                              actions
 *  N_WORKFLOW    name       entity                                                   clauses
 *  N_TRIGGER     signal               subject     value      duration  TrigKind
 *  N_MODE        mode
 *  N_ACTION      name                 (see ActKind)                    ActKind       args
 *  N_SOURCE      name                                                                clauses
 *  N_OPTION      key        word      value                            (generic `key value` clause)
 *  N_SIGNATURE   scheme                                                              options
 *  N_EVENTS                                                                          idents
 *  N_MAP         event                when                                           assigns
 *  N_ASSIGN                           target      value
 *  N_CONNECTOR   name       kind                                                     options     methods
 *  N_METHOD      name       verb      path                                           params      stores
 *  N_TEAM        name                                                                members
 *  N_TMEMBER                          email                                          options
 *  N_SEQUENCE    name       entity                                                   clauses
 *  N_STEP        channel    via       template    wait
 *  N_CHLIMITS                                                                        limits
 *  N_WINDOW      day_from   day_to    from        to         tz
 *  N_EXIT                             when        event
 *  N_TEST                             title                                          steps
 *  N_GIVEN       entity               record
 *  N_TEVENT      type                 at          record     subject
 *  N_TWAIT                            duration
 *  N_EXPECT      target               expr|NULL  tstring               ExpKind, flags  
 *  N_IDENT       name
 *  -- expressions --
 *  N_INT                                                               value
 *  N_DECIMAL                                                           thousandths
 *  N_DURATION                                                          seconds
 *  N_TIMEOFDAY                                                         minutes
 *  N_STRING      text                                                  is_template   parts (N_STRPART / expr)
 *  N_STRPART     text
 *  N_BOOL                                                              0/1
 *  N_NONE
 *  N_NAME        name
 *  N_EVENTREF                                                          (the keyword `event`)
 *  N_MEMBER      field                object                           depth
 *  N_CALL                             callee                           depth         args
 *  N_NAMEDARG    name                 value
 *  N_UNARY                            operand                          Op, depth
 *  N_BINARY                           left        right                Op, depth
 *  N_LIST                                                                            items
 *  N_RECORD                                                                          N_OPTION(key, value)
 *  N_MATCH                            subject                                        arms
 *  N_ARM                              pattern|NULL result              Op (0: equal)
 *  N_ERROR                                                             (a syntax error, already reported)
 */
#ifndef DNA_AST_H
#define DNA_AST_H

#include "front/source.h"
#include "base/mem.h"
#include <stdint.h>

typedef enum NodeKind {
    N_FILE, N_MODULE, N_IMPORT, N_CONST, N_FN, N_PARAM, N_EVENT, N_ENTITY,
    N_FIELD, N_TYPE, N_SCORE, N_INTENT, N_CATEGORY, N_RULE, N_LIMIT, N_EXPIRE,
    N_DECAY, N_DERIVE, N_SIGNAL, N_ON, N_WEIGHT, N_PRIORITY, N_ROUTE, N_WHEN,
    N_RMATCH, N_RARM, N_ELSE, N_DO, N_WORKFLOW, N_TRIGGER, N_MODE, N_ACTION,
    N_SOURCE, N_OPTION, N_SIGNATURE, N_EVENTS, N_MAP, N_ASSIGN, N_CONNECTOR,
    N_METHOD, N_TEAM, N_TMEMBER, N_SEQUENCE, N_STEP, N_CHLIMITS, N_WINDOW,
    N_EXIT, N_TEST, N_GIVEN, N_TEVENT, N_TWAIT, N_EXPECT, N_IDENT,
    /* expressions */
    N_INT, N_DECIMAL, N_DURATION, N_TIMEOFDAY, N_STRING, N_STRPART, N_BOOL,
    N_NONE, N_NAME, N_EVENTREF, N_MEMBER, N_CALL, N_NAMEDARG, N_UNARY,
    N_BINARY, N_LIST, N_RECORD, N_MATCH, N_ARM,
    N_ERROR,            /* an expression the parser could not read (reported) */
    N__COUNT
} NodeKind;

typedef enum Op {
    OP_NONE, OP_OR, OP_AND, OP_NOT, OP_EQ, OP_NE, OP_LT, OP_LE, OP_GT, OP_GE,
    OP_CONTAINS, OP_IN, OP_ADD, OP_SUB, OP_MUL, OP_DIV, OP_MOD, OP_NEG
} Op;

typedef enum TrigKind {
    TRIG_EVENT,         /* on EVENT  /  on lead.changed            */
    TRIG_CROSSES_ABOVE, /* on PATH crosses above VALUE             */
    TRIG_CROSSES_BELOW,
    TRIG_BECOMES,       /* on PATH becomes VALUE                   */
    TRIG_CHANGES,       /* on PATH changes                         */
    TRIG_STAYS,         /* on PATH stays VALUE for DURATION        */
    TRIG_INACTIVE,      /* on ENTITY inactive for DURATION         */
    TRIG_OVERDUE,       /* on alert [SIGNAL] overdue               */
    TRIG_SCHEDULE       /* on schedule "CRON"                      */
} TrigKind;

typedef enum ActKind {
    ACT_SET,            /* a = target, b = value                   */
    ACT_MOVE,           /* a = target (deal), b = stage            */
    ACT_ASSIGN,         /* a = assignee or strategy call           */
    ACT_ROUTE,          /* re-run routing                          */
    ACT_PIPELINE,       /* a = pipeline name                       */
    ACT_CREATE,         /* name = what (deal)                      */
    ACT_TASK,           /* a = title, b = due, c = assignee        */
    ACT_NOTIFY,         /* a = target, b = channel, c = message    */
    ACT_WEBHOOK,        /* name = connector, a = event name        */
    ACT_CALL,           /* a = connector method call               */
    ACT_ENROLL,         /* name = sequence                         */
    ACT_EMIT            /* name = event, a = record                */
} ActKind;

typedef enum ExpKind {
    EXP_TRUE,           /* expect EXPR                              */
    EXP_SIGNAL, EXP_ALERT, EXP_NOTIFY, EXP_TASK, EXP_CALL, EXP_WEBHOOK,
    EXP_EMIT, EXP_ROUTE, EXP_ENROLL
} ExpKind;

#define EXPECT_NEGATED 1

typedef struct Node Node;
struct Node {
    uint8_t kind;           /* NodeKind */
    uint8_t op;             /* Op, TrigKind, ActKind, ExpKind */
    uint16_t flags;
    Span span;
    Node *next;
    Node *a, *b, *c;
    const char *name, *name2;
    int64_t num;
    Node *list, *list2;
    struct Type *ty;        /* set by the checker on expressions */
    void *sym;              /* set by the resolver */
};

typedef struct NodeList { Node *head, *tail; } NodeList;

/* Interned names: a hash set of strings living in the arena. */
typedef struct Interner {
    Arena *arena;
    const char **slots;
    uint32_t cap, n;
} Interner;

void        ast_intern_init(Interner *in, Arena *a);
void        ast_intern_free(Interner *in);
const char *ast_intern(Interner *in, const char *s, size_t n);

Node    *ast_new(Arena *a, NodeKind k, Span sp);
NodeList ast_list1(Node *n);
NodeList ast_append(NodeList l, Node *n);
int      ast_count(const Node *list);
const char *ast_kind_name(NodeKind k);
const char *ast_op_text(Op op);

#endif
