/*
 * types.c - type constructors, compatibility and names; symbol tables.
 */
#include "sema/types.h"

#include <stdio.h>
#include <string.h>

Type *ty_new(Program *p, TyKind k)
{
    Type *t = arena_alloc(p->arena, sizeof *t);
    if (!t) return p->t_error;              /* t_error is made first */
    t->kind = k;
    return t;
}

void ty_init(Program *p)
{
    p->t_error = arena_alloc(p->arena, sizeof(Type));
    p->t_string = ty_new(p, TY_STRING);
    p->t_int = ty_new(p, TY_INT);
    p->t_decimal = ty_new(p, TY_DECIMAL);
    p->t_bool = ty_new(p, TY_BOOL);
    p->t_duration = ty_new(p, TY_DURATION);
    p->t_timestamp = ty_new(p, TY_TIMESTAMP);
    p->t_timeofday = ty_new(p, TY_TIMEOFDAY);
    p->t_none = ty_new(p, TY_NONE);
    p->t_json = ty_new(p, TY_JSON);
    p->t_effect = ty_new(p, TY_EFFECT);
    p->t_strategy = ty_new(p, TY_STRATEGY);
    p->t_touch = ty_new(p, TY_TOUCH);
}

Type *ty_optional(Program *p, Type *t)
{
    if (!t || t->optional || t->kind == TY_ERROR || t->kind == TY_NONE || t->kind == TY_JSON)
        return t;
    if (!t->opt) {
        Type *o = ty_new(p, t->kind);
        if (o == p->t_error) return t;
        *o = *t;
        o->optional = 1;
        o->base = t;
        o->opt = NULL;
        t->opt = o;
    }
    return t->opt;
}

Type *ty_base(Type *t) { return t && t->optional && t->base ? t->base : t; }

int ty_is_numeric(const Type *t)
{
    return t->kind == TY_INT || t->kind == TY_DECIMAL || t->kind == TY_SCORE ||
           t->kind == TY_ERROR || t->kind == TY_JSON;
}

static int same_base(const Type *a, const Type *b)
{
    a = a->optional && a->base ? a->base : a;
    b = b->optional && b->base ? b->base : b;
    if (a == b) return 1;
    if (a->kind != b->kind) return 0;
    switch (a->kind) {
    case TY_ENUM: return a->values == b->values;
    case TY_ENTITY: return a->entity == b->entity;
    case TY_LIST: return same_base(a->elem, b->elem);
    default: return 1;
    }
}

int ty_assignable(const Type *to, const Type *from)
{
    if (!to || !from) return 1;
    if (to->kind == TY_ERROR || from->kind == TY_ERROR) return 1;
    if (to->kind == TY_JSON || from->kind == TY_JSON) return 1;
    if (from->kind == TY_NONE) return to->optional;
    if (from->optional && !to->optional) return 0;
    if (to->kind == TY_DECIMAL && (from->kind == TY_INT || from->kind == TY_SCORE)) return 1;
    if (to->kind == TY_LIST && from->kind == TY_LIST && from->elem == NULL) return 1;
    return same_base(to, from);
}

int ty_comparable(const Type *a, const Type *b)
{
    if (a->kind == TY_ERROR || b->kind == TY_ERROR || a->kind == TY_JSON || b->kind == TY_JSON)
        return 1;
    if (a->kind == TY_NONE || b->kind == TY_NONE) return a->optional || b->optional ||
                                                         a->kind == b->kind;
    if (ty_is_numeric(a) && ty_is_numeric(b)) return 1;
    return same_base(a, b);
}

const char *ty_name(const Type *t)
{
    static char bufs[4][96];
    static int next;
    if (!t) return "?";
    char *b = bufs[next++ & 3];
    const char *q = t->optional ? "?" : "";
    switch (t->kind) {
    case TY_ERROR: return "an unknown type";
    case TY_STRING: snprintf(b, 96, "string%s", q); break;
    case TY_INT: snprintf(b, 96, "int%s", q); break;
    case TY_DECIMAL: snprintf(b, 96, "decimal%s", q); break;
    case TY_BOOL: snprintf(b, 96, "bool%s", q); break;
    case TY_DURATION: snprintf(b, 96, "duration%s", q); break;
    case TY_TIMESTAMP: snprintf(b, 96, "timestamp%s", q); break;
    case TY_TIMEOFDAY: snprintf(b, 96, "time of day%s", q); break;
    case TY_ENUM: snprintf(b, 96, "enum %s%s", t->name ? t->name : "", q); break;
    case TY_ENTITY: snprintf(b, 96, "%s%s", t->name, q); break;
    case TY_LIST: snprintf(b, 96, "[%s]%s", t->elem ? ty_name(t->elem) : "", q); break;
    case TY_NONE: return "none";
    case TY_SCORE: return "score (decimal)";
    case TY_INTENT: return "intent";
    case TY_TOUCH: return "touch";
    case TY_EVENT: snprintf(b, 96, "event %s", t->name ? t->name : ""); break;
    case TY_JSON: return "payload value";
    case TY_MODULE: return "module";
    case TY_CONNECTOR: return "connector";
    case TY_METHOD: return "connector method";
    case TY_TEAM: return "team";
    case TY_STRATEGY: return "assignment strategy";
    case TY_FN: return "function";
    case TY_EFFECT: return "action";
    }
    return b;
}

/* ---- symbol tables: open addressing on interned name pointers -------- */

static uint32_t ptr_hash(const char *p)
{
    uintptr_t x = (uintptr_t)p;
    x ^= x >> 17;
    x *= 0xed5ad4bbU;
    x ^= x >> 11;
    return (uint32_t)x;
}

Sym *sym_get(const SymTab *t, const char *name)
{
    if (!t->cap || !name) return NULL;
    for (uint32_t j = ptr_hash(name) & (t->cap - 1);; j = (j + 1) & (t->cap - 1)) {
        Sym *s = t->slots[j];
        if (!s) return NULL;
        if (s->name == name) return s;
    }
}

int sym_put(SymTab *t, Sym *s)
{
    if ((t->n + 1) * 4 > t->cap * 3) {
        uint32_t nc = t->cap ? t->cap * 2 : 32;
        Sym **ns = dna_malloc(sizeof(Sym *) * nc);
        if (!ns) return 0;
        memset(ns, 0, sizeof(Sym *) * nc);
        for (uint32_t i = 0; i < t->cap; i++) {
            Sym *o = t->slots[i];
            if (!o) continue;
            uint32_t j = ptr_hash(o->name) & (nc - 1);
            while (ns[j]) j = (j + 1) & (nc - 1);
            ns[j] = o;
        }
        dna_free(t->slots, sizeof(Sym *) * t->cap);
        t->slots = ns;
        t->cap = nc;
    }
    uint32_t j = ptr_hash(s->name) & (t->cap - 1);
    while (t->slots[j]) j = (j + 1) & (t->cap - 1);
    t->slots[j] = s;
    t->n++;
    return 1;
}

void sym_free(SymTab *t)
{
    dna_free(t->slots, sizeof(Sym *) * t->cap);
    memset(t, 0, sizeof *t);
}

/* ---- entity fields ---------------------------------------------------- */

Field *ty_ent_field(Entity *e, const char *name)
{
    for (int i = 0; i < e->nfields; i++)
        if (e->fields[i].name == name) return &e->fields[i];
    return NULL;
}

Field *ty_ent_add_field(Program *p, Entity *e, const char *name, Type *ty, Node *decl, FieldKind k)
{
    if (e->nfields == e->capfields) {
        int nc = e->capfields ? e->capfields * 2 : 16;
        Field *nf = arena_alloc(p->arena, sizeof(Field) * (size_t)nc);
        if (!nf) return NULL;
        if (e->nfields) memcpy(nf, e->fields, sizeof(Field) * (size_t)e->nfields);
        e->fields = nf;
        e->capfields = nc;
    }
    Field *f = &e->fields[e->nfields++];
    memset(f, 0, sizeof *f);
    f->name = name;
    f->ty = ty;
    f->decl = decl;
    f->kind = k;
    return f;
}
