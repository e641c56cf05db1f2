/*
 * parser.y - the .dna grammar.
 *
 * Pure and reentrant, with byte-range locations.  Two start symbols: a whole
 * file, or one expression (template holes in strings).  Errors recover at
 * the next declaration, rule or clause, so every error of a file is
 * reported.  Names that are keywords elsewhere may still be used as field
 * and member names (`ident`), so `url`, `path` or `score` work as fields;
 * only the operator words (and, or, not, contains, in, then) may not.
 */
%define api.pure full
%define api.prefix {dna_yy}
%define api.location.type {Loc}
%define parse.error custom
/* no default reductions in inconsistent states: a syntax error is found
 * before a reduction, so the expected tokens (and keyword suggestions) are
 * those valid at the error, at almost no cost (LAC costs 6% of a check) */
%define lr.default-reduction consistent
%locations
%expect 0

%code requires {
#include "front/parse.h"
typedef struct Loc { uint32_t start, end; } Loc;
#define YYLLOC_DEFAULT(Cur, Rhs, N)                                  \
    do {                                                             \
        if (N) { (Cur).start = YYRHSLOC(Rhs, 1).start;               \
                 (Cur).end = YYRHSLOC(Rhs, N).end; }                 \
        else   { (Cur).start = (Cur).end = YYRHSLOC(Rhs, 0).end; }   \
    } while (0)
}

%code provides {
int dna_yylex(DNA_YYSTYPE *lval, DNA_YYLTYPE *lloc, void *scanner);
int dna_yyparse(void *scanner, ParseCtx *pc);
}

%code {
#include <string.h>
#define A (pc->arena)
static void dna_yyerror(DNA_YYLTYPE *l, void *scanner, ParseCtx *pc, const char *msg);
static Span S(ParseCtx *pc, Loc l) { Span s = { pc->file_id, l.start, l.end }; return s; }
static Node *mk(ParseCtx *pc, NodeKind k, Loc l) { return ast_new(pc->arena, k, S(pc, l)); }
/* Expression depth, kept in `num` of operator, member and call nodes: a
 * left-deep chain (1+1+1..., a.b.c...) needs no brackets, so the lexer's
 * bracket limit does not bound it; every pass that walks the tree recurses. */
static int64_t depth_of(const Node *n)
{
    if (!n) return 0;
    switch (n->kind) {
    case N_BINARY: case N_UNARY: case N_MEMBER: case N_CALL: return n->num;
    default: return 1;
    }
}

static Node *deep(ParseCtx *pc, Node *n, const Node *x, const Node *y)
{
    if (!n) return n;
    int64_t d = depth_of(x) > depth_of(y) ? depth_of(x) : depth_of(y);
    n->num = d + 1;
    if (n->num > PARSE_MAX_DEPTH && !pc->fatal) {
        Diag *g = diag_error(pc->diags, DIAG_E006, n->span, "expression nested too deeply (the limit is %d levels)",
                             PARSE_MAX_DEPTH);
        diag_help(g, "split the expression into a const or a fn");
        pc->fatal = 1;
    }
    return n;
}

static Node *bin(ParseCtx *pc, Loc l, Op op, Node *x, Node *y)
{
    Node *n = mk(pc, N_BINARY, l);
    if (n) { n->op = op; n->a = x; n->b = y; }
    return deep(pc, n, x, y);
}
static Node *act(ParseCtx *pc, Loc l, ActKind k)
{
    Node *n = mk(pc, N_ACTION, l);
    if (n) n->op = (uint8_t)k;
    return n;
}
static Node *opt(ParseCtx *pc, Loc l, const char *key, Node *v)
{
    Node *n = mk(pc, N_OPTION, l);
    if (n) { n->name = key; n->a = v; }
    return n;
}
static Node *idn(ParseCtx *pc, Loc l, const char *name)
{
    Node *n = mk(pc, N_IDENT, l);
    if (n) n->name = name;
    return n;
}
static void hint(ParseCtx *pc, Loc l, const char *msg)
{
    Diag *g = pc->diags->n ? &pc->diags->v[pc->diags->n - 1] : NULL;
    /* attach to the syntax error just reported at this place */
    if (g && g->span.file == pc->file_id && g->span.start >= l.start && !g->help)
        diag_help(g, "%s", msg);
}
#define K(kw) ast_intern(pc->in, kw, sizeof kw - 1)
#define scanner_ scanner
}

%lex-param {void *scanner}
%parse-param {void *scanner} {ParseCtx *pc}

%union {
    int64_t num;
    const char *str;
    Node *node;
    NodeList list;
}

%token START_FILE START_EXPR
%token <str> NAME "name"
%token <num> INT "integer" DECIMAL "decimal" DURATION "duration" TIMEOFDAY "time of day" BOOL "true or false"
%token <node> STRING "string"
%token MODULE "module" IMPORT "import" AS "as" CONST "const" FN "fn" EVENT "event"
%token ENTITY "entity" IDENTITY "identity" ENUM "enum" SCORE "score" FOR "for"
%token ON "on" WHEN "when" ADD "add" LIMIT "limit" PER "per" EXPIRE "expire"
%token DECAY "decay" DERIVE "derive" MATCH "match" INTENT "intent" SIGNAL "signal"
%token WEIGHT "weight" PRIORITY "priority" ROUTE "route" PIPELINE "pipeline"
%token ASSIGN "assign" ELSE "else" WORKFLOW "workflow" CROSSES "crosses"
%token ABOVE "above" BELOW "below" BECOMES "becomes" CHANGES "changes" STAYS "stays"
%token INACTIVE "inactive" ALERT "alert" OVERDUE "overdue" SCHEDULE "schedule"
%token MODE "mode" DO "do" THEN "then" SET "set" MOVE "move" TO "to" CREATE "create"
%token TASK "task" DUE "due" NOTIFY "notify" WEBHOOK "webhook" CALL "call"
%token ENROLL "enroll" IN "in" EMIT "emit" SOURCE "source" PATH "path"
%token TOLERANCE "tolerance" SIGNATURE "signature" EVENTS "events" MAP "map"
%token CONNECTOR "connector" AUTH "auth" RATE "rate" TEAM "team" MEMBER "member"
%token SEQUENCE "sequence" STEP "step" VIA "via" WAIT "wait" WINDOW "window"
%token EXIT "exit" TEST "test" GIVEN "given" AT "at" EXPECT "expect" NO "no"
%token AND "and" OR "or" NOT "not" CONTAINS "contains" NONE "none"
%token TIMEZONE "timezone" WILDCARD "_"
%token EQ "==" NE "!=" LE "<=" GE ">=" LT "<" GT ">" ARROW "->" DOTDOT ".."

%type <node> decl expr primary type base_type field entity_item rule rule_opt
%type <node> category signal_item route_item rarm action wf_item trigger
%type <node> source_item sig_opt map_assign conn_opt method member member_opt
%type <node> seq_item chan_limit test_item effect record arm path opt_when
%type <node> map_target id_node opt_str opt_record string_expr call_arg kv opt_priority
%type <str> ident dotted opt_alias
%type <list> decls fields entity_items rules rule_opts categories signal_items
%type <list> route_items rarms actions wf_items source_items sig_opts map_assigns
%type <list> conn_opts methods opt_methods members member_opts seq_items chan_limits
%type <list> test_items ids args opt_args arms kvs opt_kvs params exprs opt_exprs
%type <list> task_opts method_sets

%precedence LOW
%precedence ASSIGN
%left OR
%left AND
%precedence NOT
%nonassoc EQ NE LT LE GT GE CONTAINS IN
%left '+' '-'
%left '*' '/' '%'
%precedence UMINUS

%%

start
    : START_FILE decls              { Node *f = mk(pc, N_FILE, @2); if (f) f->list = $2.head; pc->result = f; }
    | START_EXPR expr               { pc->result = $2; }
    ;

decls
    : %empty                        { $$ = (NodeList){0}; }
    | decls decl                    { $$ = ast_append($1, $2); yyerrok; /* a whole declaration: report the next error anew */ }
    | decls error                   { $$ = $1; }
    ;

/* ---- names ---------------------------------------------------------- */

ident
    : NAME
    | MODULE { $$ = K("module"); } | IMPORT { $$ = K("import"); } | AS { $$ = K("as"); }
    | CONST { $$ = K("const"); } | FN { $$ = K("fn"); } | EVENT { $$ = K("event"); }
    | ENTITY { $$ = K("entity"); } | IDENTITY { $$ = K("identity"); } | ENUM { $$ = K("enum"); }
    | SCORE { $$ = K("score"); } | FOR { $$ = K("for"); } | ON { $$ = K("on"); }
    | WHEN { $$ = K("when"); } | ADD { $$ = K("add"); } | LIMIT { $$ = K("limit"); }
    | PER { $$ = K("per"); } | EXPIRE { $$ = K("expire"); } | DECAY { $$ = K("decay"); }
    | DERIVE { $$ = K("derive"); } | MATCH { $$ = K("match"); } | INTENT { $$ = K("intent"); }
    | SIGNAL { $$ = K("signal"); } | WEIGHT { $$ = K("weight"); } | PRIORITY { $$ = K("priority"); }
    | ROUTE { $$ = K("route"); } | PIPELINE { $$ = K("pipeline"); } | ASSIGN { $$ = K("assign"); }
    | ELSE { $$ = K("else"); } | WORKFLOW { $$ = K("workflow"); } | CROSSES { $$ = K("crosses"); }
    | ABOVE { $$ = K("above"); } | BELOW { $$ = K("below"); } | BECOMES { $$ = K("becomes"); }
    | CHANGES { $$ = K("changes"); } | STAYS { $$ = K("stays"); } | INACTIVE { $$ = K("inactive"); }
    | ALERT { $$ = K("alert"); } | OVERDUE { $$ = K("overdue"); } | SCHEDULE { $$ = K("schedule"); }
    | MODE { $$ = K("mode"); } | DO { $$ = K("do"); }
    | SET { $$ = K("set"); } | MOVE { $$ = K("move"); } | TO { $$ = K("to"); }
    | CREATE { $$ = K("create"); } | TASK { $$ = K("task"); } | DUE { $$ = K("due"); }
    | NOTIFY { $$ = K("notify"); } | WEBHOOK { $$ = K("webhook"); } | CALL { $$ = K("call"); }
    | ENROLL { $$ = K("enroll"); } | EMIT { $$ = K("emit"); }
    | SOURCE { $$ = K("source"); } | PATH { $$ = K("path"); } | TOLERANCE { $$ = K("tolerance"); }
    | SIGNATURE { $$ = K("signature"); } | EVENTS { $$ = K("events"); } | MAP { $$ = K("map"); }
    | CONNECTOR { $$ = K("connector"); } | AUTH { $$ = K("auth"); } | RATE { $$ = K("rate"); }
    | TEAM { $$ = K("team"); } | MEMBER { $$ = K("member"); } | SEQUENCE { $$ = K("sequence"); }
    | STEP { $$ = K("step"); } | VIA { $$ = K("via"); } | WAIT { $$ = K("wait"); }
    | WINDOW { $$ = K("window"); } | EXIT { $$ = K("exit"); } | TEST { $$ = K("test"); }
    | GIVEN { $$ = K("given"); } | AT { $$ = K("at"); } | EXPECT { $$ = K("expect"); }
    | NO { $$ = K("no"); } | NONE { $$ = K("none"); } | TIMEZONE { $$ = K("timezone"); }
    ;

dotted
    : NAME
    | dotted '.' ident {
          size_t n1 = strlen($1), n2 = strlen($3);
          char *buf = arena_alloc(A, n1 + n2 + 2);
          if (buf) { memcpy(buf, $1, n1); buf[n1] = '.'; memcpy(buf + n1 + 1, $3, n2 + 1); }
          $$ = buf ? ast_intern(pc->in, buf, n1 + n2 + 1) : $1;
      }
    ;

id_node
    : ident                         { $$ = mk(pc, N_IDENT, @1); if ($$) $$->name = $1; }
    ;

ids
    : id_node                       { $$ = ast_list1($1); }
    | ids ',' id_node               { $$ = ast_append($1, $3); }
    ;

/* a path: NAME.ident.ident... as a member chain */
path
    : NAME                          { $$ = mk(pc, N_NAME, @1); if ($$) $$->name = $1; }
    | EVENT                         { $$ = mk(pc, N_EVENTREF, @1); }
    | path '.' ident                { $$ = mk(pc, N_MEMBER, @$); if ($$) { $$->a = $1; $$->name = $3; } $$ = deep(pc, $$, $1, NULL); }
    ;

/* ---- declarations --------------------------------------------------- */

decl
    : MODULE dotted                 { $$ = mk(pc, N_MODULE, @$); if ($$) $$->name = $2; }
    | MODULE dotted TIMEZONE STRING { $$ = mk(pc, N_MODULE, @$); if ($$) { $$->name = $2; $$->a = $4; } }
    | IMPORT dotted opt_alias       { $$ = mk(pc, N_IMPORT, @$); if ($$) { $$->name = $2; $$->name2 = $3; } }
    | CONST NAME '=' expr           { $$ = mk(pc, N_CONST, @$); if ($$) { $$->name = $2; $$->a = $4; } }
    | FN NAME '(' params ')' ARROW type '=' expr
                                    { $$ = mk(pc, N_FN, @$); if ($$) { $$->name = $2; $$->list = $4.head; $$->a = $7; $$->b = $9; } }
    | EVENT NAME '{' fields '}'     { $$ = mk(pc, N_EVENT, @$); if ($$) { $$->name = $2; $$->list = $4.head; } }
    | ENTITY NAME '{' entity_items '}'
                                    { $$ = mk(pc, N_ENTITY, @$);
                                      if ($$) { $$->name = $2;
                                        /* identity clauses went to list2 through their flag */
                                        NodeList f = {0}, id = {0};
                                        for (Node *n = $4.head, *nx; n; n = nx) {
                                            nx = n->next; n->next = NULL;
                                            if (n->kind == N_IDENT) id = ast_append(id, n); else f = ast_append(f, n);
                                        }
                                        $$->list = f.head; $$->list2 = id.head; } }
    | SCORE NAME FOR NAME opt_priority '{' rules '}'
                                    { $$ = mk(pc, N_SCORE, @$); if ($$) { $$->name = $2; $$->name2 = $4; $$->c = idn(pc, @4, $4); $$->a = $5; $$->list = $7.head; } }
    | DERIVE path '=' expr          { $$ = mk(pc, N_DERIVE, @$); if ($$) { $$->a = $2; $$->b = $4; } }
    | INTENT FOR NAME opt_priority '{' categories '}'
                                    { $$ = mk(pc, N_INTENT, @$); if ($$) { $$->name2 = $3; $$->c = idn(pc, @3, $3); $$->a = $4; $$->list = $6.head; } }
    | SIGNAL NAME FOR NAME '{' signal_items '}'
                                    { $$ = mk(pc, N_SIGNAL, @$); if ($$) { $$->name = $2; $$->name2 = $4; $$->c = idn(pc, @4, $4); $$->list = $6.head; } }
    | ROUTE NAME '{' route_items '}'
                                    { $$ = mk(pc, N_ROUTE, @$); if ($$) { $$->name2 = $2; $$->c = idn(pc, @2, $2); $$->list = $4.head; } }
    | WORKFLOW NAME FOR NAME '{' wf_items '}'
                                    { $$ = mk(pc, N_WORKFLOW, @$); if ($$) { $$->name = $2; $$->name2 = $4; $$->c = idn(pc, @4, $4); $$->list = $6.head; } }
    | SOURCE NAME '{' source_items '}'
                                    { $$ = mk(pc, N_SOURCE, @$); if ($$) { $$->name = $2; $$->list = $4.head; } }
    | CONNECTOR NAME ident conn_opts opt_methods
                                    { $$ = mk(pc, N_CONNECTOR, @$); if ($$) { $$->name = $2; $$->name2 = $3; $$->list = $4.head; $$->list2 = $5.head; } }
    | TEAM NAME '{' members '}'     { $$ = mk(pc, N_TEAM, @$); if ($$) { $$->name = $2; $$->list = $4.head; } }
    | SEQUENCE NAME FOR NAME '{' seq_items '}'
                                    { $$ = mk(pc, N_SEQUENCE, @$); if ($$) { $$->name = $2; $$->name2 = $4; $$->c = idn(pc, @4, $4); $$->list = $6.head; } }
    | TEST STRING '{' test_items '}'
                                    { $$ = mk(pc, N_TEST, @$); if ($$) { $$->a = $2; $$->list = $4.head; } }
    | CONST NAME '=' error          { /* declared all the same, so its uses are not errors too */
                                      $$ = mk(pc, N_CONST, @$); if ($$) { $$->name = $2; $$->a = mk(pc, N_ERROR, @4); } }
    | EVENT NAME error              { $$ = NULL; hint(pc, @3, "an event is declared as `event NAME { field: type, ... }`"); }
    | ENTITY NAME error             { $$ = NULL; hint(pc, @3, "an entity is declared as `entity NAME { identity KEY, ... field: type ... }`"); }
    ;

opt_alias
    : %empty                        { $$ = NULL; }
    | AS NAME                       { $$ = $2; }
    ;

opt_priority
    : %empty                        { $$ = NULL; }
    | PRIORITY expr                 { $$ = mk(pc, N_PRIORITY, @$); if ($$) $$->a = $2; }
    ;

params
    : %empty                        { $$ = (NodeList){0}; }
    | NAME ':' type                 { Node *p = mk(pc, N_PARAM, @$); if (p) { p->name = $1; p->a = $3; } $$ = ast_list1(p); }
    | params ',' NAME ':' type      { Node *p = mk(pc, N_PARAM, @3); if (p) { p->name = $3; p->a = $5; } $$ = ast_append($1, p); }
    ;

/* ---- fields and types ----------------------------------------------- */

fields
    : %empty                        { $$ = (NodeList){0}; }
    | fields field                  { $$ = ast_append($1, $2); }
    | fields field ','              { $$ = ast_append($1, $2); }
    | fields error                  { $$ = $1; }
    ;

field
    : ident ':' type                { $$ = mk(pc, N_FIELD, @$); if ($$) { $$->name = $1; $$->a = $3; } }
    | ident ':' type '=' expr       { $$ = mk(pc, N_FIELD, @$); if ($$) { $$->name = $1; $$->a = $3; $$->b = $5; } }
    ;

entity_items
    : %empty                        { $$ = (NodeList){0}; }
    | entity_items entity_item      { $$ = ast_append($1, $2); }
    | entity_items entity_item ','  { $$ = ast_append($1, $2); }
    | entity_items IDENTITY ids     { $$ = $1; for (Node *n = $3.head, *nx; n; n = nx) { nx = n->next; n->next = NULL; $$ = ast_append($$, n); } }
    | entity_items error            { $$ = $1; }
    ;

entity_item
    : field
    ;

type
    : base_type
    | base_type '?'                 { $$ = $1; if ($$) { $$->num = 1; $$->span.end = @2.end; } }
    ;

base_type
    : NAME                          { $$ = mk(pc, N_TYPE, @$); if ($$) $$->name = $1; }
    | ENUM '(' ids ')'              { $$ = mk(pc, N_TYPE, @$); if ($$) $$->list = $3.head; }
    | '[' type ']'                  { $$ = mk(pc, N_TYPE, @$); if ($$) $$->a = $2; }
    ;

/* ---- scoring and intent --------------------------------------------- */

rules
    : %empty                        { $$ = (NodeList){0}; }
    | rules rule                    { $$ = ast_append($1, $2); }
    | rules error                   { $$ = $1; }
    ;

rule
    : ON path opt_when ADD expr rule_opts
                                    { $$ = mk(pc, N_RULE, @$); if ($$) { $$->a = $2; $$->b = $3; $$->c = $5; $$->list = $6.head; } }
    ;

opt_when
    : %empty                        { $$ = NULL; }
    | WHEN expr                     { $$ = $2; }
    ;

rule_opts
    : %empty                        { $$ = (NodeList){0}; }
    | rule_opts rule_opt            { $$ = ast_append($1, $2); }
    ;

rule_opt
    : LIMIT expr PER ident          { $$ = mk(pc, N_LIMIT, @$); if ($$) { $$->a = $2; $$->name = $4; } }
    | EXPIRE expr                   { $$ = mk(pc, N_EXPIRE, @$); if ($$) $$->a = $2; }
    | DECAY NAME expr               { $$ = mk(pc, N_DECAY, @$); if ($$) { $$->name = $2; $$->a = $3; } }
    | DECAY DURATION                { $$ = mk(pc, N_DECAY, @$); Node *d = mk(pc, N_DURATION, @2); if (d) d->num = $2; if ($$) $$->a = d; }
    | PRIORITY expr                 { $$ = mk(pc, N_PRIORITY, @$); if ($$) $$->a = $2; }
    ;

categories
    : %empty                        { $$ = (NodeList){0}; }
    | categories category           { $$ = ast_append($1, $2); }
    | categories error              { $$ = $1; }
    ;

category
    : ident '{' rules '}'           { $$ = mk(pc, N_CATEGORY, @$); if ($$) { $$->name = $1; $$->list = $3.head; } }
    ;

/* ---- signals --------------------------------------------------------- */

signal_items
    : %empty                        { $$ = (NodeList){0}; }
    | signal_items signal_item      { $$ = ast_append($1, $2); }
    | signal_items error            { $$ = $1; }
    ;

signal_item
    : ON path opt_when              { $$ = mk(pc, N_ON, @$); if ($$) { $$->a = $2; $$->b = $3; } }
    | WEIGHT expr                   { $$ = mk(pc, N_WEIGHT, @$); if ($$) $$->a = $2; }
    | DECAY NAME expr               { $$ = mk(pc, N_DECAY, @$); if ($$) { $$->name = $2; $$->a = $3; } }
    | DECAY DURATION                { $$ = mk(pc, N_DECAY, @$); Node *d = mk(pc, N_DURATION, @2); if (d) d->num = $2; if ($$) $$->a = d; }
    | PRIORITY NAME                 { $$ = mk(pc, N_PRIORITY, @$); if ($$) $$->name = $2; }
    ;

/* ---- routing --------------------------------------------------------- */

route_items
    : %empty                        { $$ = (NodeList){0}; }
    | route_items route_item        { $$ = ast_append($1, $2); }
    | route_items error             { $$ = $1; }
    ;

route_item
    : WHEN expr                     { $$ = mk(pc, N_WHEN, @$); if ($$) $$->a = $2; }
    | MATCH expr '{' rarms '}'      { $$ = mk(pc, N_RMATCH, @$); if ($$) { $$->a = $2; $$->list = $4.head; } }
    | ELSE ARROW actions            { $$ = mk(pc, N_ELSE, @$); if ($$) $$->list = $3.head; }
    | DO actions                    { $$ = mk(pc, N_DO, @$); if ($$) $$->list = $2.head; }
    ;

rarms
    : %empty                        { $$ = (NodeList){0}; }
    | rarms rarm                    { $$ = ast_append($1, $2); }
    | rarms rarm ','                { $$ = ast_append($1, $2); }
    | rarms error                   { $$ = $1; }
    ;

rarm
    : NAME ARROW actions            { Node *p = mk(pc, N_IDENT, @1); if (p) p->name = $1;
                                      $$ = mk(pc, N_RARM, @$); if ($$) { $$->a = p; $$->list = $3.head; } }
    | WILDCARD ARROW actions        { $$ = mk(pc, N_RARM, @$); if ($$) $$->list = $3.head; }
    ;

/* ---- workflows ------------------------------------------------------- */

wf_items
    : %empty                        { $$ = (NodeList){0}; }
    | wf_items wf_item              { $$ = ast_append($1, $2); }
    | wf_items error                { $$ = $1; }
    ;

wf_item
    : trigger
    | WHEN expr                     { $$ = mk(pc, N_WHEN, @$); if ($$) $$->a = $2; }
    | MODE NAME                     { $$ = mk(pc, N_MODE, @$); if ($$) $$->name = $2; }
    | PRIORITY expr                 { $$ = mk(pc, N_PRIORITY, @$); if ($$) $$->a = $2; }
    | DO actions                    { $$ = mk(pc, N_DO, @$); if ($$) $$->list = $2.head; }
    ;

trigger
    : ON path                       { $$ = mk(pc, N_TRIGGER, @$); if ($$) { $$->op = TRIG_EVENT; $$->a = $2; } }
    | ON path CROSSES ABOVE expr    { $$ = mk(pc, N_TRIGGER, @$); if ($$) { $$->op = TRIG_CROSSES_ABOVE; $$->a = $2; $$->b = $5; } }
    | ON path CROSSES BELOW expr    { $$ = mk(pc, N_TRIGGER, @$); if ($$) { $$->op = TRIG_CROSSES_BELOW; $$->a = $2; $$->b = $5; } }
    | ON path BECOMES expr          { $$ = mk(pc, N_TRIGGER, @$); if ($$) { $$->op = TRIG_BECOMES; $$->a = $2; $$->b = $4; } }
    | ON path CHANGES               { $$ = mk(pc, N_TRIGGER, @$); if ($$) { $$->op = TRIG_CHANGES; $$->a = $2; } }
    | ON path STAYS expr FOR expr   { $$ = mk(pc, N_TRIGGER, @$); if ($$) { $$->op = TRIG_STAYS; $$->a = $2; $$->b = $4; $$->c = $6; } }
    | ON path INACTIVE FOR expr     { $$ = mk(pc, N_TRIGGER, @$); if ($$) { $$->op = TRIG_INACTIVE; $$->a = $2; $$->c = $5; } }
    | ON ALERT OVERDUE              { $$ = mk(pc, N_TRIGGER, @$); if ($$) $$->op = TRIG_OVERDUE; }
    | ON ALERT NAME OVERDUE         { $$ = mk(pc, N_TRIGGER, @$); if ($$) { $$->op = TRIG_OVERDUE; $$->name = $3; } }
    | ON SCHEDULE STRING            { $$ = mk(pc, N_TRIGGER, @$); if ($$) { $$->op = TRIG_SCHEDULE; $$->b = $3; } }
    ;

actions
    : action                        { $$ = ast_list1($1); }
    | actions action                { $$ = ast_append($1, $2); }
    | actions THEN action           { $$ = ast_append($1, $3); }
    ;

action
    : SET path '=' expr             { $$ = act(pc, @$, ACT_SET); if ($$) { $$->a = $2; $$->b = $4; } }
    | MOVE path TO expr             { $$ = act(pc, @$, ACT_MOVE); if ($$) { $$->a = $2; $$->b = $4; } }
    | ASSIGN expr                   { $$ = act(pc, @$, ACT_ASSIGN); if ($$) $$->a = $2; }
    | ROUTE                         { $$ = act(pc, @$, ACT_ROUTE); }
    | PIPELINE string_expr          { $$ = act(pc, @$, ACT_PIPELINE); if ($$) $$->a = $2; }
    | CREATE NAME                   { $$ = act(pc, @$, ACT_CREATE); if ($$) $$->name = $2; }
    | CREATE TASK string_expr task_opts %prec LOW
                                    { $$ = act(pc, @$, ACT_TASK);
                                      if ($$) { $$->a = $3;
                                        for (Node *o = $4.head; o; o = o->next)
                                            if (o->name == K("due")) $$->b = o->a; else $$->c = o->a;
                                        $$->list = $4.head; } }
    | NOTIFY expr string_expr       { $$ = act(pc, @$, ACT_NOTIFY); if ($$) { $$->a = $2; $$->c = $3; } }
    | NOTIFY expr string_expr string_expr
                                    { $$ = act(pc, @$, ACT_NOTIFY); if ($$) { $$->a = $2; $$->b = $3; $$->c = $4; } }
    | WEBHOOK NAME                  { $$ = act(pc, @$, ACT_WEBHOOK); if ($$) $$->name = $2; }
    | WEBHOOK NAME string_expr      { $$ = act(pc, @$, ACT_WEBHOOK); if ($$) { $$->name = $2; $$->a = $3; } }
    | CALL expr                     { $$ = act(pc, @$, ACT_CALL); if ($$) $$->a = $2; }
    | ENROLL IN NAME                { $$ = act(pc, @$, ACT_ENROLL); if ($$) $$->name = $3; }
    | EMIT NAME opt_record          { $$ = act(pc, @$, ACT_EMIT); if ($$) { $$->name = $2; $$->a = $3; } }
    ;

task_opts
    : %empty                        { $$ = (NodeList){0}; }
    | task_opts DUE expr            { $$ = ast_append($1, opt(pc, @2, K("due"), $3)); }
    | task_opts ASSIGN expr         { $$ = ast_append($1, opt(pc, @2, K("assign"), $3)); }
    ;

string_expr
    : STRING
    ;

/* ---- sources and connectors ------------------------------------------ */

source_items
    : %empty                        { $$ = (NodeList){0}; }
    | source_items source_item      { $$ = ast_append($1, $2); }
    | source_items error            { $$ = $1; }
    ;

source_item
    : PATH expr                     { $$ = opt(pc, @$, K("path"), $2); }
    | TOLERANCE expr                { $$ = opt(pc, @$, K("tolerance"), $2); }
    | SIGNATURE NAME sig_opts       { $$ = mk(pc, N_SIGNATURE, @$); if ($$) { $$->name = $2; $$->list = $3.head; } }
    | EVENTS ids                    { $$ = mk(pc, N_EVENTS, @$); if ($$) $$->list = $2.head; }
    | MAP NAME opt_when '{' map_assigns '}'
                                    { $$ = mk(pc, N_MAP, @$); if ($$) { $$->name = $2; $$->a = $3; $$->list = $5.head; } }
    ;

sig_opts
    : %empty                        { $$ = (NodeList){0}; }
    | sig_opts sig_opt              { $$ = ast_append($1, $2); }
    ;

sig_opt
    : NAME expr                     { $$ = opt(pc, @$, $1, $2); }
    ;

map_assigns
    : %empty                        { $$ = (NodeList){0}; }
    | map_assigns map_assign        { $$ = ast_append($1, $2); }
    | map_assigns error             { $$ = $1; }
    ;

map_assign
    : map_target '=' expr           { $$ = mk(pc, N_ASSIGN, @$); if ($$) { $$->a = $1; $$->b = $3; } }
    ;

map_target
    : ident                         { $$ = mk(pc, N_NAME, @1); if ($$) $$->name = $1; }
    | map_target '.' ident          { $$ = mk(pc, N_MEMBER, @$); if ($$) { $$->a = $1; $$->name = $3; } $$ = deep(pc, $$, $1, NULL); }
    ;

conn_opts
    : %empty                        { $$ = (NodeList){0}; }
    | conn_opts conn_opt            { $$ = ast_append($1, $2); }
    ;

conn_opt
    : NAME expr                     { $$ = opt(pc, @$, $1, $2); }
    | AUTH NAME expr                { $$ = opt(pc, @$, K("auth"), $3); if ($$) $$->name2 = $2; }
    | RATE expr PER ident           { $$ = opt(pc, @$, K("rate"), $2); if ($$) $$->name2 = $4; }
    ;

opt_methods
    : %empty                        { $$ = (NodeList){0}; }
    | '{' methods '}'               { $$ = $2; }
    ;

methods
    : %empty                        { $$ = (NodeList){0}; }
    | methods method                { $$ = ast_append($1, $2); }
    | methods error                 { $$ = $1; }
    ;

method
    : NAME '(' opt_args ')' NAME string_expr method_sets
                                    { $$ = mk(pc, N_METHOD, @$); if ($$) { $$->name = $1; $$->list = $3.head; $$->name2 = $5; $$->a = $6; $$->list2 = $7.head; } }
    ;

method_sets
    : %empty                        { $$ = (NodeList){0}; }
    | method_sets SET path '=' expr { Node *s = mk(pc, N_ASSIGN, @2); if (s) { s->a = $3; s->b = $5; s->span.end = @5.end; } $$ = ast_append($1, s); }
    ;

/* ---- teams and sequences --------------------------------------------- */

members
    : %empty                        { $$ = (NodeList){0}; }
    | members member                { $$ = ast_append($1, $2); }
    | members error                 { $$ = $1; }
    ;

member
    : MEMBER expr member_opts       { $$ = mk(pc, N_TMEMBER, @$); if ($$) { $$->a = $2; $$->list = $3.head; } }
    ;

member_opts
    : %empty                        { $$ = (NodeList){0}; }
    | member_opts member_opt        { $$ = ast_append($1, $2); }
    ;

member_opt
    : NAME expr                     { $$ = opt(pc, @$, $1, $2); }
    | WEIGHT expr                   { $$ = opt(pc, @$, K("weight"), $2); }
    ;

seq_items
    : %empty                        { $$ = (NodeList){0}; }
    | seq_items seq_item            { $$ = ast_append($1, $2); }
    | seq_items error               { $$ = $1; }
    ;

seq_item
    : STEP ident opt_str VIA NAME   { $$ = mk(pc, N_STEP, @$); if ($$) { $$->name = $2; $$->a = $3; $$->name2 = $5; } }
    | STEP ident opt_str VIA NAME WAIT expr
                                    { $$ = mk(pc, N_STEP, @$); if ($$) { $$->name = $2; $$->a = $3; $$->name2 = $5; $$->b = $7; } }
    | LIMIT chan_limits             { $$ = mk(pc, N_CHLIMITS, @$); if ($$) $$->list = $2.head; }
    | WINDOW NAME DOTDOT NAME TIMEOFDAY DOTDOT TIMEOFDAY opt_str
                                    { $$ = mk(pc, N_WINDOW, @$);
                                      if ($$) { $$->name = $2; $$->name2 = $4;
                                        $$->a = mk(pc, N_TIMEOFDAY, @5); if ($$->a) $$->a->num = $5;
                                        $$->b = mk(pc, N_TIMEOFDAY, @7); if ($$->b) $$->b->num = $7;
                                        $$->c = $8; } }
    | EXIT WHEN expr                { $$ = mk(pc, N_EXIT, @$); if ($$) $$->a = $3; }
    | EXIT ON path                  { $$ = mk(pc, N_EXIT, @$); if ($$) $$->b = $3; }
    ;

opt_str
    : %empty                        { $$ = NULL; }
    | STRING
    ;

chan_limits
    : chan_limit                    { $$ = ast_list1($1); }
    | chan_limits ',' chan_limit    { $$ = ast_append($1, $3); }
    ;

chan_limit
    : ident expr PER ident          { $$ = mk(pc, N_LIMIT, @$); if ($$) { $$->name = $1; $$->a = $2; $$->name2 = $4; } }
    ;

/* ---- tests ----------------------------------------------------------- */

test_items
    : %empty                        { $$ = (NodeList){0}; }
    | test_items test_item          { $$ = ast_append($1, $2); }
    | test_items error              { $$ = $1; }
    ;

test_item
    : GIVEN NAME record             { $$ = mk(pc, N_GIVEN, @$); if ($$) { $$->name = $2; $$->a = $3; } }
    | EVENT NAME AT STRING opt_record
                                    { $$ = mk(pc, N_TEVENT, @$); if ($$) { $$->name = $2; $$->a = $4; $$->b = $5; } }
    | EVENT NAME AT STRING opt_record FOR record
                                    { $$ = mk(pc, N_TEVENT, @$); if ($$) { $$->name = $2; $$->a = $4; $$->b = $5; $$->c = $7; } }
    | WAIT expr                     { $$ = mk(pc, N_TWAIT, @$); if ($$) $$->a = $2; }
    | EXPECT expr                   { $$ = mk(pc, N_EXPECT, @$); if ($$) { $$->op = EXP_TRUE; $$->a = $2; } }
    | EXPECT effect                 { $$ = $2; if ($$) $$->span = S(pc, @$); }
    | EXPECT NO effect              { $$ = $3; if ($$) { $$->flags |= EXPECT_NEGATED; $$->span = S(pc, @$); } }
    ;

effect
    : SIGNAL NAME                   { $$ = mk(pc, N_EXPECT, @$); if ($$) { $$->op = EXP_SIGNAL; $$->name = $2; } }
    | ALERT                         { $$ = mk(pc, N_EXPECT, @$); if ($$) $$->op = EXP_ALERT; }
    | ALERT NAME                    { $$ = mk(pc, N_EXPECT, @$); if ($$) { $$->op = EXP_ALERT; $$->name = $2; } }
    | NOTIFY                        { $$ = mk(pc, N_EXPECT, @$); if ($$) $$->op = EXP_NOTIFY; }
    | NOTIFY NAME opt_str           { $$ = mk(pc, N_EXPECT, @$); if ($$) { $$->op = EXP_NOTIFY; $$->name = $2; $$->b = $3; } }
    | TASK opt_str                  { $$ = mk(pc, N_EXPECT, @$); if ($$) { $$->op = EXP_TASK; $$->b = $2; } }
    | CALL path                     { $$ = mk(pc, N_EXPECT, @$); if ($$) { $$->op = EXP_CALL; $$->a = $2; } }
    | WEBHOOK NAME                  { $$ = mk(pc, N_EXPECT, @$); if ($$) { $$->op = EXP_WEBHOOK; $$->name = $2; } }
    | EMIT NAME                     { $$ = mk(pc, N_EXPECT, @$); if ($$) { $$->op = EXP_EMIT; $$->name = $2; } }
    | ROUTE opt_str                 { $$ = mk(pc, N_EXPECT, @$); if ($$) { $$->op = EXP_ROUTE; $$->b = $2; } }
    | ENROLL IN NAME                { $$ = mk(pc, N_EXPECT, @$); if ($$) { $$->op = EXP_ENROLL; $$->name = $3; } }
    ;

opt_record
    : %empty                        { $$ = NULL; }
    | record
    ;

record
    : '{' opt_kvs '}'               { $$ = mk(pc, N_RECORD, @$); if ($$) $$->list = $2.head; }
    ;

opt_kvs
    : %empty                        { $$ = (NodeList){0}; }
    | kvs
    | kvs ','
    ;

kvs
    : kv                            { $$ = ast_list1($1); }
    | kvs ',' kv                    { $$ = ast_append($1, $3); }
    ;

kv
    : ident ':' expr                { $$ = opt(pc, @$, $1, $3); }
    ;

/* ---- expressions ----------------------------------------------------- */

expr
    : primary
    | expr OR expr                  { $$ = bin(pc, @$, OP_OR, $1, $3); }
    | expr AND expr                 { $$ = bin(pc, @$, OP_AND, $1, $3); }
    | NOT expr                      { $$ = mk(pc, N_UNARY, @$); if ($$) { $$->op = OP_NOT; $$->a = $2; } $$ = deep(pc, $$, $2, NULL); }
    | expr EQ expr                  { $$ = bin(pc, @$, OP_EQ, $1, $3); }
    | expr NE expr                  { $$ = bin(pc, @$, OP_NE, $1, $3); }
    | expr LT expr                  { $$ = bin(pc, @$, OP_LT, $1, $3); }
    | expr LE expr                  { $$ = bin(pc, @$, OP_LE, $1, $3); }
    | expr GT expr                  { $$ = bin(pc, @$, OP_GT, $1, $3); }
    | expr GE expr                  { $$ = bin(pc, @$, OP_GE, $1, $3); }
    | expr CONTAINS expr            { $$ = bin(pc, @$, OP_CONTAINS, $1, $3); }
    | expr IN expr                  { $$ = bin(pc, @$, OP_IN, $1, $3); }
    | expr '+' expr                 { $$ = bin(pc, @$, OP_ADD, $1, $3); }
    | expr '-' expr                 { $$ = bin(pc, @$, OP_SUB, $1, $3); }
    | expr '*' expr                 { $$ = bin(pc, @$, OP_MUL, $1, $3); }
    | expr '/' expr                 { $$ = bin(pc, @$, OP_DIV, $1, $3); }
    | expr '%' expr                 { $$ = bin(pc, @$, OP_MOD, $1, $3); }
    | '-' expr %prec UMINUS         { $$ = mk(pc, N_UNARY, @$); if ($$) { $$->op = OP_NEG; $$->a = $2; } $$ = deep(pc, $$, $2, NULL); }
    ;

primary
    : INT                           { $$ = mk(pc, N_INT, @$); if ($$) $$->num = $1; }
    | DECIMAL                       { $$ = mk(pc, N_DECIMAL, @$); if ($$) $$->num = $1; }
    | DURATION                      { $$ = mk(pc, N_DURATION, @$); if ($$) $$->num = $1; }
    | TIMEOFDAY                     { $$ = mk(pc, N_TIMEOFDAY, @$); if ($$) $$->num = $1; }
    | BOOL                          { $$ = mk(pc, N_BOOL, @$); if ($$) $$->num = $1; }
    | NONE                          { $$ = mk(pc, N_NONE, @$); }
    | STRING
    | NAME                          { $$ = mk(pc, N_NAME, @$); if ($$) $$->name = $1; }
    | EVENT                         { $$ = mk(pc, N_EVENTREF, @$); }
    | primary '.' ident             { $$ = mk(pc, N_MEMBER, @$); if ($$) { $$->a = $1; $$->name = $3; } $$ = deep(pc, $$, $1, NULL); }
    | primary '(' opt_args ')'      { $$ = mk(pc, N_CALL, @$); if ($$) { $$->a = $1; $$->list = $3.head; } $$ = deep(pc, $$, $1, NULL); }
    | '(' expr ')'                  { $$ = $2; }
    | '[' opt_exprs ']'             { $$ = mk(pc, N_LIST, @$); if ($$) $$->list = $2.head; }
    | MATCH expr '{' arms '}'       { $$ = mk(pc, N_MATCH, @$); if ($$) { $$->a = $2; $$->list = $4.head; } }
    | '(' error ')'                 { $$ = mk(pc, N_ERROR, @$); }
    ;

opt_args
    : %empty                        { $$ = (NodeList){0}; }
    | args
    ;

args
    : call_arg                      { $$ = ast_list1($1); }
    | args ',' call_arg             { $$ = ast_append($1, $3); }
    ;

call_arg
    : expr
    | NAME ':' expr                 { $$ = mk(pc, N_NAMEDARG, @$); if ($$) { $$->name = $1; $$->a = $3; } }
    ;

opt_exprs
    : %empty                        { $$ = (NodeList){0}; }
    | exprs
    | exprs ','
    ;

exprs
    : expr                          { $$ = ast_list1($1); }
    | exprs ',' expr                { $$ = ast_append($1, $3); }
    ;

arms
    : arm                           { $$ = ast_list1($1); }
    | arms ',' arm                  { $$ = ast_append($1, $3); }
    | arms ','                      { $$ = $1; }
    ;

arm
    : expr ARROW expr               { $$ = mk(pc, N_ARM, @$); if ($$) { $$->a = $1; $$->b = $3; } }
    | EQ expr ARROW expr            { $$ = mk(pc, N_ARM, @$); if ($$) { $$->op = OP_EQ; $$->a = $2; $$->b = $4; } }
    | NE expr ARROW expr            { $$ = mk(pc, N_ARM, @$); if ($$) { $$->op = OP_NE; $$->a = $2; $$->b = $4; } }
    | LT expr ARROW expr            { $$ = mk(pc, N_ARM, @$); if ($$) { $$->op = OP_LT; $$->a = $2; $$->b = $4; } }
    | LE expr ARROW expr            { $$ = mk(pc, N_ARM, @$); if ($$) { $$->op = OP_LE; $$->a = $2; $$->b = $4; } }
    | GT expr ARROW expr            { $$ = mk(pc, N_ARM, @$); if ($$) { $$->op = OP_GT; $$->a = $2; $$->b = $4; } }
    | GE expr ARROW expr            { $$ = mk(pc, N_ARM, @$); if ($$) { $$->op = OP_GE; $$->a = $2; $$->b = $4; } }
    | WILDCARD ARROW expr           { $$ = mk(pc, N_ARM, @$); if ($$) $$->b = $3; }
    ;

%%

static const char *token_text(yysymbol_kind_t k)
{
    static char buf[4][48];
    static int next;
    if (k == YYSYMBOL_YYEOF) return "end of file";
    if (k >= YYSYMBOL_MODULE && k <= YYSYMBOL_TIMEZONE) {     /* keywords */
        char *b = buf[next++ & 3];
        snprintf(b, sizeof buf[0], "keyword '%s'", yysymbol_name(k));
        return b;
    }
    return yysymbol_name(k);
}

/* Only "memory exhausted" arrives here: the parser stack is full. */
static void dna_yyerror(DNA_YYLTYPE *l, void *scanner, ParseCtx *pc, const char *msg)
{
    (void)scanner; (void)msg;
    Span sp = { pc->file_id, l->start, l->end };
    Diag *g = diag_error(pc->diags, DIAG_E006, sp, "nested too deeply for the parser");
    diag_help(g, "split the expression into a const or a fn");
    pc->fatal = 1;
}

/* A declaration keyword at the start of a line: where a block left open shows. */
static int starts_declaration(ParseCtx *pc, yysymbol_kind_t k, uint32_t at)
{
    switch (k) {
    case YYSYMBOL_MODULE: case YYSYMBOL_IMPORT: case YYSYMBOL_CONST: case YYSYMBOL_FN: case YYSYMBOL_EVENT:
    case YYSYMBOL_ENTITY: case YYSYMBOL_SCORE: case YYSYMBOL_DERIVE: case YYSYMBOL_INTENT: case YYSYMBOL_SIGNAL:
    case YYSYMBOL_ROUTE: case YYSYMBOL_WORKFLOW: case YYSYMBOL_SOURCE: case YYSYMBOL_CONNECTOR: case YYSYMBOL_TEAM:
    case YYSYMBOL_SEQUENCE: case YYSYMBOL_TEST:
        return at == 0 || pc->file->text[at - 1] == '\n';
    default: return 0;
    }
}

/* The '{' still open when a declaration (or the end of the file) comes: the
 * error names where it was opened, with the caret under it. */
static int unclosed_brace(ParseCtx *pc, yysymbol_kind_t found, const YYLTYPE *l)
{
    if (pc->template_depth || pc->braces <= 0 || pc->braces > PARSE_BRACES) return 0;
    if (found != YYSYMBOL_YYEOF && !starts_declaration(pc, found, l->start)) return 0;
    uint32_t open = pc->brace_at[pc->braces - 1], line = 0, col = 0;
    src_linecol(pc->file, found == YYSYMBOL_YYEOF ? pc->file->len : l->start, &line, &col);
    Span sp = { pc->file_id, open, open + 1 };
    Diag *g;
    if (found == YYSYMBOL_YYEOF)
        g = diag_error(pc->diags, DIAG_E001, sp, "this '{' is not closed before the end of the file");
    else
        g = diag_error(pc->diags, DIAG_E001, sp, "this '{' is not closed: %s at line %u starts the next declaration",
                       token_text(found), line);
    diag_help(g, "add '}' at the end of the block");
    pc->braces = 0;                     /* one report per block left open */
    return 1;
}

/* A name where a keyword was expected: the closest keyword valid here. */
static void keyword_typo(ParseCtx *pc, const yypcontext_t *ctx, const YYLTYPE *l)
{
    yysymbol_kind_t exp[YYNTOKENS];
    int n = yypcontext_expected_tokens(ctx, exp, YYNTOKENS);
    char word[48];
    uint32_t len = l->end - l->start;
    if (len >= sizeof word) return;
    memcpy(word, pc->file->text + l->start, len);
    word[len] = 0;
    Suggest sg;
    suggest_init(&sg, word);
    for (int i = 0; i < n; i++)
        if (exp[i] >= YYSYMBOL_MODULE && exp[i] <= YYSYMBOL_TIMEZONE) suggest_add(&sg, yysymbol_name(exp[i]));
    const char *best = suggest_best(&sg);
    Diag *g = pc->diags->n ? &pc->diags->v[pc->diags->n - 1] : NULL;
    if (best && g && g->span.start == l->start) diag_help(g, "did you mean '%s'?", best);
}

static int yyreport_syntax_error(const yypcontext_t *ctx, void *scanner, ParseCtx *pc)
{
    (void)scanner;
    if (pc->fatal) return 0;
    yysymbol_kind_t found = yypcontext_token(ctx);
    yysymbol_kind_t exp[8];
    int n = yypcontext_expected_tokens(ctx, exp, 8);
    const YYLTYPE *l = yypcontext_location(ctx);
    if (unclosed_brace(pc, found, l)) return 0;
    Span sp = { pc->file_id, l->start, l->end };
    char buf[512];
    int off = 0;
    const char *ft = token_text(found);
    if (found == YYSYMBOL_STRING || found == YYSYMBOL_NAME || found == YYSYMBOL_INT ||
        found == YYSYMBOL_DECIMAL || found == YYSYMBOL_DURATION) {
        uint32_t len = l->end - l->start;
        off = snprintf(buf, sizeof buf, "unexpected %s '%.*s'", ft, len > 40 ? 40 : (int)len,
                       pc->file->text + l->start);
    } else {
        off = snprintf(buf, sizeof buf, "unexpected %s", ft);
    }
    if (n > 0 && n <= 6) {
        off += snprintf(buf + off, sizeof buf - off, "; expected ");
        for (int i = 0; i < n && off < (int)sizeof buf - 64; i++)
            off += snprintf(buf + off, sizeof buf - off, "%s%s", i == 0 ? "" : i == n - 1 ? " or " : ", ",
                            token_text(exp[i]));
    } else if (n == 0) {
        /* more than 8 were valid: name the keywords among them when they are few */
        yysymbol_kind_t all[YYNTOKENS];
        int na = yypcontext_expected_tokens(ctx, all, YYNTOKENS), nk = 0, ops = 0, value = 0;
        yysymbol_kind_t kw[4];
        for (int i = 0; i < na; i++) value |= all[i] == YYSYMBOL_INT;
        if (value) { off += snprintf(buf + off, sizeof buf - off, "; expected an expression"); na = 0; }
        for (int i = 0; i < na; i++) {
            if ((all[i] >= YYSYMBOL_EQ && all[i] <= YYSYMBOL_GT) || all[i] == YYSYMBOL_AND || all[i] == YYSYMBOL_OR ||
                all[i] == YYSYMBOL_CONTAINS || all[i] == YYSYMBOL_IN || all[i] == YYSYMBOL_NOT) ops = 1;
            else if (all[i] >= YYSYMBOL_MODULE && all[i] <= YYSYMBOL_TIMEZONE) { if (nk < 4) kw[nk] = all[i]; nk++; }
        }
        if (nk >= 1 && nk <= 3) {
            off += snprintf(buf + off, sizeof buf - off, "; expected ");
            for (int i = 0; i < nk; i++)
                off += snprintf(buf + off, sizeof buf - off, "%s%s", i == 0 ? "" : i == nk - 1 ? " or " : ", ",
                                token_text(kw[i]));
            if (ops) off += snprintf(buf + off, sizeof buf - off, nk == 1 ? " or an operator" : ", or an operator");
        }
    }
    if (found == YYSYMBOL_YYEOF) {
        /* the end of a template hole, or of the file */
        sp.start = sp.end = pc->template_depth ? pc->pos : pc->file->len;
        if (pc->template_depth) {
            Diag *g = diag_error(pc->diags, DIAG_E001, sp, "incomplete expression in a template hole");
            diag_help(g, "a hole holds one expression, without quotes: {lead.email}");
            return 0;
        }
    }
    diag_error(pc->diags, DIAG_E001, sp, "%s", buf);
    if (found == YYSYMBOL_NAME) keyword_typo(pc, ctx, l);
    return 0;
}
