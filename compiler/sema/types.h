/*
 * types.h - the types of the language and the checked program's tables.
 *
 * The resolver (resolve.c) fills a Program: modules, the global schema
 * (events, entities, connectors, teams, sequences, signals) and each
 * module's consts and fns.  The checker (check.c) then types every
 * expression, guided by the type a place expects, so that a bare name such
 * as `c_level` resolves against the enum it is compared with.
 */
#ifndef DNA_TYPES_H
#define DNA_TYPES_H

#include "front/ast.h"
#include "front/diag.h"

typedef enum TyKind {
    TY_ERROR,       /* already reported: compatible with everything */
    TY_STRING, TY_INT, TY_DECIMAL, TY_BOOL, TY_DURATION, TY_TIMESTAMP,
    TY_TIMEOFDAY, TY_ENUM, TY_ENTITY, TY_LIST, TY_NONE,
    TY_SCORE,       /* entity.score: a decimal with components as members */
    TY_INTENT,      /* entity.intent: primary, confidence, per-category points */
    TY_TOUCH,       /* entity.first_touch / last_touch */
    TY_EVENT,       /* the `event` of a rule */
    TY_JSON,        /* a source payload (body, response): checked at run time */
    TY_MODULE, TY_CONNECTOR, TY_METHOD, TY_TEAM, TY_STRATEGY, TY_FN, TY_EFFECT
} TyKind;

typedef struct Sym Sym;
typedef struct Type Type;
typedef struct Entity Entity;

struct Type {
    TyKind kind;
    uint8_t optional;
    const char *name;           /* enum: its field name; entity/event: decl name */
    Type *elem;                 /* list element */
    Type *opt, *base;           /* the optional / non-optional twin */
    const char **values;        /* enum values, in declaration order */
    int nvalues;
    Entity *entity;             /* TY_ENTITY, TY_SCORE, TY_INTENT */
    Sym *sym;                   /* TY_EVENT, TY_MODULE, TY_CONNECTOR, TY_METHOD, TY_TEAM, TY_FN */
};

typedef enum FieldKind { FLD_DECLARED, FLD_IDENTITY, FLD_DERIVED, FLD_BUILTIN } FieldKind;

typedef struct Field {
    const char *name;
    Type *ty;
    Node *decl;                 /* N_FIELD, N_IDENT (identity) or N_DERIVE */
    FieldKind kind;
    int checking;               /* derive: being checked (cycle guard) */
} Field;

struct Entity {
    Sym *sym;
    Field *fields;
    int nfields, capfields;
    Type *ty;
    Type *intent_primary;       /* enum of intent categories */
    const char **categories;
    int ncategories, capcategories;
    Sym **scores;               /* score components for this entity */
    int nscores, capscores;
};

typedef enum SymKind {
    SYM_CONST, SYM_FN, SYM_EVENT, SYM_ENTITY, SYM_SCORE, SYM_SIGNAL,
    SYM_CONNECTOR, SYM_TEAM, SYM_SEQUENCE, SYM_SOURCE, SYM_WORKFLOW,
    SYM_TEST, SYM_MODULE, SYM__COUNT
} SymKind;

typedef struct Module Module;

struct Sym {
    SymKind kind;
    const char *name;
    Node *decl;
    Module *mod;
    Type *ty;                   /* const: value type; event: TY_EVENT; ... */
    Entity *entity;             /* SYM_ENTITY */
    int state;                  /* 0 unchecked, 1 checking, 2 done */
    int uses;
};

typedef struct SymTab {
    Sym **slots;
    uint32_t cap, n;
} SymTab;

struct Module {
    const char *name;
    Node **files;               /* N_FILE nodes of this module */
    int nfiles, capfiles;
    SymTab values;              /* consts, fns, import aliases */
    const char *timezone;
    Node *tz_node;
    int is_stdlib;
};

typedef struct Program {
    Arena *arena;
    Interner *in;
    DiagList *diags;
    SrcSet *src;
    Module **mods;
    int nmods, capmods;
    SymTab global[SYM__COUNT];  /* schema kinds; consts/fns live in modules */
    Node **derives;
    int nderives, capderives;
    int oom;                    /* an allocation failed: the results are incomplete */
    /* common types */
    Type *t_error, *t_string, *t_int, *t_decimal, *t_bool, *t_duration,
         *t_timestamp, *t_timeofday, *t_none, *t_json, *t_effect, *t_strategy,
         *t_touch;
} Program;

/* types.c */
void  ty_init(Program *p);
Type *ty_new(Program *p, TyKind k);
Type *ty_optional(Program *p, Type *t);
Type *ty_base(Type *t);
int   ty_is_numeric(const Type *t);
int   ty_assignable(const Type *to, const Type *from);
int   ty_comparable(const Type *a, const Type *b);
/* A readable name, e.g. "int", "string?", "enum seniority"; in a small
 * rotating buffer, valid until a few more calls. */
const char *ty_name(const Type *t);

Sym  *sym_get(const SymTab *t, const char *name);
int   sym_put(SymTab *t, Sym *s);       /* 0 on OOM */
void  sym_free(SymTab *t);

Field *ty_ent_field(Entity *e, const char *name);
Field *ty_ent_add_field(Program *p, Entity *e, const char *name, Type *ty, Node *decl, FieldKind k);

/* resolve.c: collect declarations; check.c: type everything. */
void res_program(Program *p, Node **files, uint32_t nfiles);
void check_program(Program *p);
void prog_free(Program *p);

#endif
