/*
 * check.h - shared by the checker's two halves: check_expr.c types
 * expressions, check.c checks declarations, clauses and actions.
 */
#ifndef DNA_CHECK_H
#define DNA_CHECK_H

#include "sema/types.h"

typedef struct Ctx {
    Program *p;
    Module *mod;
    Entity *ent;            /* the block's entity: `for lead` */
    Type *event;            /* TY_EVENT of the rule's trigger, NULL if none */
    const char *no_event;   /* why `event` is unavailable, for the message */
    Node *params;           /* fn or connector method parameters */
    Sym *fn;                /* the fn being checked */
    uint8_t in_source;      /* `body` and header() are available */
    uint8_t in_method;      /* `response` is available */
    uint8_t in_test;        /* every entity is reachable by name */
    uint8_t config;         /* env() is allowed */
    uint8_t constant;       /* only constants: const values, defaults */
} Ctx;

#define I(s) ast_intern(c->p->in, s, strlen(s))

Type *chk_expr(Ctx *c, Node *n, Type *expect);
/* Check n and require it to fit `want`; reports E021 naming `what`. */
Type *chk_want(Ctx *c, Node *n, Type *want, const char *what);
void  chk_bool(Ctx *c, Node *n, const char *what);
int64_t chk_const_int(Ctx *c, Node *n, int64_t dflt);
void  chk_const(Ctx *c, Sym *s);
void  chk_fn(Ctx *c, Sym *s);
void  chk_derive(Program *p, Node *d);
Sym  *chk_lookup_global(Ctx *c, SymKind k, const char *name, Span sp, DiagCode code, const char *what);
void  chk_suggest_tab(Diag *g, const SymTab *t, const char *name);
/* check.c: the event NAME names, counted as used; E010 when there is none. */
Sym  *chk_event_named(Ctx *c, Node *n);
/* check_test.c: a `test` block. */
void  chk_test(Ctx *c, Node *d);

Type   *res_type(Program *p, Node *n, const char *field_name);
Entity *res_entity(Program *p, const char *name, Span sp, const char *what);

#endif
