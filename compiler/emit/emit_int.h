/*
 * emit_int.h - shared by the emitter's parts: emit.c lays out the schema,
 * rules and trigger index; emit_config.c the configuration (sources,
 * connectors, teams, sequences); emit_expr.c compiles expressions into code
 * units.
 */
#ifndef DNA_EMIT_INT_H
#define DNA_EMIT_INT_H

#include "emit/emit.h"
#include "sema/check.h"
#include "bundle/bundle.h"
#include "vm/vm.h"

typedef struct Bind {
    const char *name;           /* interned */
    int reg;
} Bind;

typedef struct EmitCtx {
    Project *pr;
    Program *p;
    Arena arena;                /* everything the emitter builds */
    DnaBundle b;                /* arrays grow in `arena` */
    struct {
        uint32_t strs, files, enums, events, entities, consts, units, rules, arms, actions, args, triggers,
                 signals, opts, jnodes, assigns, maps, sources, methods, connectors, teams, sequences, code, locs;
    } cap;
    uint32_t *strhash;          /* open addressing: string index + 1 */
    uint32_t strhash_cap;
    /* declaration order -> index */
    Sym **event_syms, **entity_syms, **signal_syms, **conn_syms, **team_syms, **seq_syms;
    Node **method_decls;        /* N_METHOD per bundle method */
    uint32_t nmethod_decls;
    /* the unit being compiled */
    struct {
        uint32_t event, entity, rule;
        Entity *ent;
        int top, maxregs;
        Span span;              /* node being compiled */
        Span last;              /* last location recorded */
        int last_set;
        int depth;
    } u;
    Bind binds[64];             /* fn parameters of the inlined call */
    int nbinds;
    int errors;
} EmitCtx;

/* emit.c */
void *ex_push(EmitCtx *e, void **arr, uint32_t *n, uint32_t *cap, size_t esz);
#define EX_NEW(e, field) \
    ((__typeof__(e->b.field))ex_push((e), (void **)&(e)->b.field, &(e)->b.n##field, &(e)->cap.field, sizeof *(e)->b.field))
uint32_t ex_str(EmitCtx *e, const char *s, size_t n);
uint32_t ex_cstr(EmitCtx *e, const char *s);
uint32_t ex_const(EmitCtx *e, uint8_t type, int64_t i, uint32_t str);
uint32_t ex_entity(EmitCtx *e, const Entity *ent);
uint32_t ex_event(EmitCtx *e, const Sym *ev);
uint32_t ex_enum(EmitCtx *e, const Type *t);
DnaType  ex_type(EmitCtx *e, Type *t);
uint32_t ex_slot(EmitCtx *e, uint32_t entity, const char *name);
uint32_t ex_event_slot(EmitCtx *e, uint32_t event, const char *name);
void     ex_error(EmitCtx *e, Span sp, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
void     ex_oom(EmitCtx *e);            /* E001 "out of memory", once */
/* A constant expression as a constant index (DNA_NIL: not constant); as an
 * int (dflt: not constant). */
uint32_t ex_fold_const(EmitCtx *e, Node *n);
int64_t  ex_fold_int(EmitCtx *e, Node *n, int64_t dflt);
/* The index of S (or of the one named NAME) in a declaration table; DNA_NIL. */
uint32_t ex_sym_index(Sym **arr, uint32_t n, const Sym *s);
uint32_t ex_sym_named(Sym **arr, uint32_t n, const char *name);
/* The time zone of D's module, NULL for UTC; the entity a block names. */
const char *ex_tz_of(EmitCtx *e, Node *d);
Entity     *ex_block_entity(EmitCtx *e, Node *d);

/* emit_config.c: a source, connector, team or sequence declaration as data. */
void ex_source_decl(EmitCtx *e, Node *d);
void ex_connector_decl(EmitCtx *e, Node *d);
void ex_team_decl(EmitCtx *e, Node *d);
void ex_sequence_decl(EmitCtx *e, Node *d);

/* emit_expr.c: compile one expression into a new code unit.  `want` is
 * the result type the place needs (an int is widened to a decimal), NULL
 * for the expression's own.  Returns the unit index, DNA_NIL on error. */
uint32_t ex_unit(EmitCtx *e, Node *expr, Type *want, uint32_t rule, uint32_t event, uint32_t entity,
                 const char *tz);
/* The entity slot a watched path names (`lead.score`, `deal.stage`,
 * `lead.score.fit`), DNA_NIL when it is not a path on `entity`. */
uint32_t ex_path_slot(EmitCtx *e, Node *path, uint32_t entity);
/* Fold a constant expression; returns 0 when it is not constant. */
int ex_fold(EmitCtx *e, Node *n, DnaConst *out);

#endif
