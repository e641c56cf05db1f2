/*
 * emit.c - laying out a checked program as a bundle.
 *
 * Walks the declarations in source order (files in load order, each
 * file's declarations top to bottom), so the result does not depend on
 * any hash table's order: the same sources give the same bundle bytes.
 *
 *  - schema: each event is a slot table (id, type, source, occurred_at,
 *    then its payload fields); each entity too (identities, declared
 *    fields, built-ins, score total and components "score.X", intent
 *    "intent.primary"/"intent.confidence"/"intent.total"/"intent.X",
 *    touches "first_touch.source", derived fields).  Rule code reads them
 *    by slot index.
 *  - rules: one per scoring / intent / signal `on` clause (named
 *    "engagement#1", "intent.research#2", "PRICING_PAGE#1"), one per
 *    route ("route.lead"), workflow ("hot_lead") and derived field
 *    ("lead.grade", in dependency order).  Each expression of a rule is a
 *    code unit (emit_expr.c); actions are records whose arguments are
 *    units or constants.
 *  - configuration as data: signals here; sources (map expressions over
 *    the body as prefix-ordered nodes), connectors (environment variable
 *    NAMES only), teams and sequences in emit_config.c.
 *  - the trigger index: event type, watched field, timers -> rules in run
 *    order (priority, higher first, then source order).
 */
#include "emit/emit_int.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

/* ---- growth, strings, constants -------------------------------------------- */

/* Out of memory: one error, however many allocations fail after it. */
void ex_oom(EmitCtx *e)
{
    if (!e->errors++) diag_error(&e->pr->diags, DIAG_E001, (Span){ 0, 0, 0 }, "out of memory");
}

void *ex_push(EmitCtx *e, void **arr, uint32_t *n, uint32_t *cap, size_t esz)
{
    static uint64_t sink[16];
    if (*n == *cap) {
        uint32_t nc = *cap ? *cap * 2 : 16;
        void *na = arena_alloc(&e->arena, esz * nc);
        if (!na) {
            ex_oom(e);
            memset(sink, 0, sizeof sink);
            return sink;
        }
        if (*n) memcpy(na, *arr, esz * *n);
        *arr = na;
        *cap = nc;
    }
    void *p = (char *)*arr + esz * (*n)++;
    memset(p, 0, esz);
    return p;
}

void ex_error(EmitCtx *e, Span sp, const char *fmt, ...)
{
    char buf[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    e->errors++;
    diag_emit(&e->pr->diags, SEV_ERROR, "B001", sp, "%s", buf);
}

static uint32_t fnv(const char *s, size_t n, uint32_t seed)
{
    uint32_t h = 2166136261u ^ seed;
    for (size_t i = 0; i < n; i++) { h ^= (unsigned char)s[i]; h *= 16777619u; }
    return h;
}

static int rehash(EmitCtx *e)
{
    uint32_t nc = e->strhash_cap ? e->strhash_cap * 2 : 1024;
    uint32_t *nt = arena_alloc(&e->arena, sizeof(uint32_t) * nc);
    if (!nt) return 0;
    for (uint32_t i = 0; i < e->b.nstrs; i++) {
        uint32_t j = fnv(e->b.strs[i].s, e->b.strs[i].len, 0) & (nc - 1);
        while (nt[j]) j = (j + 1) & (nc - 1);
        nt[j] = i + 1;
    }
    e->strhash = nt;
    e->strhash_cap = nc;
    return 1;
}

uint32_t ex_str(EmitCtx *e, const char *s, size_t n)
{
    if ((e->b.nstrs + 1) * 2 > e->strhash_cap && !rehash(e)) return 0;
    uint32_t j = fnv(s, n, 0) & (e->strhash_cap - 1);
    for (; e->strhash[j]; j = (j + 1) & (e->strhash_cap - 1)) {
        DnaStr *x = &e->b.strs[e->strhash[j] - 1];
        if (x->len == n && memcmp(x->s, s, n) == 0) return e->strhash[j] - 1;
    }
    char *copy = arena_strndup(&e->arena, s, n);
    DnaStr *x = EX_NEW(e, strs);
    x->s = copy ? copy : "";
    x->len = copy ? (uint32_t)n : 0;
    e->strhash[j] = e->b.nstrs;
    return e->b.nstrs - 1;
}

uint32_t ex_cstr(EmitCtx *e, const char *s) { return ex_str(e, s, strlen(s)); }

uint32_t ex_const(EmitCtx *e, uint8_t type, int64_t i, uint32_t str)
{
    /* constants are few per unit; a linear scan of the last ones keeps
     * duplicates rare without a second hash table */
    uint32_t from = e->b.nconsts > 4096 ? e->b.nconsts - 4096 : 0;
    for (uint32_t k = from; k < e->b.nconsts; k++) {
        DnaConst *c = &e->b.consts[k];
        if (c->type == type && c->i == i && c->str == str) return k;
    }
    DnaConst *c = EX_NEW(e, consts);
    c->type = type;
    c->i = i;
    c->str = str;
    return e->b.nconsts - 1;
}

uint32_t ex_fold_const(EmitCtx *e, Node *n)
{
    DnaConst k;
    if (!ex_fold(e, n, &k)) return DNA_NIL;
    return ex_const(e, k.type, k.i, k.str);
}

/* ---- schema ------------------------------------------------------------------ */

uint32_t ex_sym_index(Sym **arr, uint32_t n, const Sym *s)
{
    for (uint32_t i = 0; i < n; i++)
        if (arr[i] == s) return i;
    return DNA_NIL;
}

uint32_t ex_sym_named(Sym **arr, uint32_t n, const char *name)
{
    for (uint32_t i = 0; i < n; i++)
        if (arr[i]->name == name || !strcmp(arr[i]->name, name)) return i;
    return DNA_NIL;
}

uint32_t ex_entity(EmitCtx *e, const Entity *ent)
{
    return ent ? ex_sym_index(e->entity_syms, e->b.nentities, ent->sym) : DNA_NIL;
}

uint32_t ex_event(EmitCtx *e, const Sym *ev) { return ev ? ex_sym_index(e->event_syms, e->b.nevents, ev) : DNA_NIL; }

uint32_t ex_enum(EmitCtx *e, const Type *t)
{
    t = ty_base((Type *)t);
    const char *name = t->name ? t->name : "";
    for (uint32_t i = 0; i < e->b.nenums; i++) {
        DnaEnum *x = &e->b.enums[i];
        if (x->nvalues != (uint32_t)t->nvalues || strcmp(e->b.strs[x->name].s, name)) continue;
        int same = 1;
        for (int k = 0; k < t->nvalues && same; k++) same = !strcmp(e->b.strs[x->values[k]].s, t->values[k]);
        if (same) return i;
    }
    uint32_t nm = ex_cstr(e, name);
    uint32_t *vals = arena_alloc(&e->arena, sizeof(uint32_t) * (size_t)(t->nvalues ? t->nvalues : 1));
    for (int k = 0; vals && k < t->nvalues; k++) vals[k] = ex_cstr(e, t->values[k]);
    DnaEnum *x = EX_NEW(e, enums);
    x->name = nm;
    x->nvalues = vals ? (uint32_t)t->nvalues : 0;
    x->values = vals;
    return e->b.nenums - 1;
}

static uint8_t code_of(EmitCtx *e, Type *t, uint32_t *ref)
{
    *ref = DNA_NIL;
    switch (ty_base(t)->kind) {
    case TY_BOOL: return DT_BOOL;
    case TY_INT: return DT_INT;
    case TY_DECIMAL: case TY_SCORE: return DT_DEC;
    case TY_STRING: return DT_STR;
    case TY_DURATION: return DT_DUR;
    case TY_TIMESTAMP: return DT_TS;
    case TY_TIMEOFDAY: return DT_TOD;
    case TY_ENUM: *ref = ex_enum(e, t); return DT_ENUM;
    case TY_ENTITY: *ref = ex_entity(e, ty_base(t)->entity); return DT_REF;
    case TY_LIST: return DT_LIST;
    case TY_JSON: return DT_JSON;
    default: return DT_VOID;
    }
}

DnaType ex_type(EmitCtx *e, Type *t)
{
    DnaType d;
    memset(&d, 0, sizeof d);
    d.ref = DNA_NIL;
    if (!t) return d;
    d.code = code_of(e, t, &d.ref);
    d.optional = t->optional ? 1 : 0;
    if (d.code == DT_LIST && ty_base(t)->elem) d.elem = code_of(e, ty_base(t)->elem, &d.ref);
    return d;
}

uint32_t ex_slot(EmitCtx *e, uint32_t entity, const char *name)
{
    if (entity >= e->b.nentities) return DNA_NIL;
    DnaEntity *x = &e->b.entities[entity];
    for (uint32_t i = 0; i < x->nslots; i++)
        if (!strcmp(e->b.strs[x->slots[i].name].s, name)) return i;
    return DNA_NIL;
}

uint32_t ex_event_slot(EmitCtx *e, uint32_t event, const char *name)
{
    if (event >= e->b.nevents) return DNA_NIL;
    DnaEvent *x = &e->b.events[event];
    for (uint32_t i = 0; i < x->nslots; i++)
        if (!strcmp(e->b.strs[x->slots[i].name].s, name)) return i;
    return DNA_NIL;
}

typedef struct SlotList { DnaSlot *v; uint32_t n, cap; } SlotList;

static void add_slot(EmitCtx *e, SlotList *l, const char *name, DnaType t, DnaSlotKind kind, uint32_t dflt)
{
    DnaSlot *s = ex_push(e, (void **)&l->v, &l->n, &l->cap, sizeof *l->v);
    s->name = ex_cstr(e, name);
    s->type = t;
    s->kind = (uint8_t)kind;
    s->dflt = dflt;
}

static DnaType prim(uint8_t code, int optional)
{
    DnaType t = { code, (uint8_t)optional, 0, 0, DNA_NIL };
    return t;
}

static void event_schema(EmitCtx *e, Sym *s)
{
    SlotList l = { 0 };
    add_slot(e, &l, "id", prim(DT_STR, 0), DS_BUILTIN, DNA_NIL);
    add_slot(e, &l, "type", prim(DT_STR, 0), DS_BUILTIN, DNA_NIL);
    add_slot(e, &l, "source", prim(DT_STR, 0), DS_BUILTIN, DNA_NIL);
    add_slot(e, &l, "occurred_at", prim(DT_TS, 0), DS_BUILTIN, DNA_NIL);
    for (Node *f = s->decl->list; f; f = f->next)
        add_slot(e, &l, f->name, ex_type(e, res_type(e->p, f->a, f->name)), DS_PAYLOAD,
                 f->b ? ex_fold_const(e, f->b) : DNA_NIL);
    DnaEvent *x = &e->b.events[ex_sym_index(e->event_syms, e->b.nevents, s)];
    x->name = ex_cstr(e, s->name);
    x->slots = l.v;
    x->nslots = l.n;
}

static void entity_schema(EmitCtx *e, Sym *s)
{
    Entity *ent = s->entity;
    SlotList l = { 0 };
    char name[256];
    DnaType dec = prim(DT_DEC, 0);
    for (int i = 0; i < ent->nfields; i++) {
        Field *f = &ent->fields[i];
        Type *t = f->ty;
        TyKind k = t ? ty_base(t)->kind : TY_ERROR;
        if (k == TY_SCORE) {
            add_slot(e, &l, f->name, dec, DS_SCORE, DNA_NIL);
            for (int j = 0; j < ent->nscores; j++) {
                snprintf(name, sizeof name, "%s.%s", f->name, ent->scores[j]->name);
                add_slot(e, &l, name, dec, DS_COMPONENT, DNA_NIL);
            }
        } else if (k == TY_INTENT) {
            snprintf(name, sizeof name, "%s.primary", f->name);
            add_slot(e, &l, name, ex_type(e, ent->intent_primary), DS_INTENT_PRIMARY, DNA_NIL);
            snprintf(name, sizeof name, "%s.confidence", f->name);
            add_slot(e, &l, name, dec, DS_INTENT_CONFIDENCE, DNA_NIL);
            snprintf(name, sizeof name, "%s.total", f->name);
            add_slot(e, &l, name, dec, DS_INTENT_TOTAL, DNA_NIL);
            for (int j = 0; j < ent->ncategories; j++) {
                snprintf(name, sizeof name, "%s.%s", f->name, ent->categories[j]);
                add_slot(e, &l, name, dec, DS_INTENT_CATEGORY, DNA_NIL);
            }
        } else if (k == TY_TOUCH) {
            snprintf(name, sizeof name, "%s.source", f->name);
            add_slot(e, &l, name, prim(DT_STR, 1), DS_TOUCH, DNA_NIL);
            snprintf(name, sizeof name, "%s.campaign", f->name);
            add_slot(e, &l, name, prim(DT_STR, 1), DS_TOUCH, DNA_NIL);
            snprintf(name, sizeof name, "%s.at", f->name);
            add_slot(e, &l, name, prim(DT_TS, 1), DS_TOUCH, DNA_NIL);
        } else {
            DnaSlotKind sk = f->kind == FLD_IDENTITY ? DS_IDENTITY : f->kind == FLD_DERIVED ? DS_DERIVED
                           : f->kind == FLD_BUILTIN ? DS_BUILTIN : DS_DECLARED;
            uint32_t dflt = f->decl && f->decl->kind == N_FIELD && f->decl->b ? ex_fold_const(e, f->decl->b) : DNA_NIL;
            add_slot(e, &l, f->name, ex_type(e, t), sk, dflt);
        }
    }
    uint32_t idx = ex_sym_index(e->entity_syms, e->b.nentities, s);
    DnaEntity *x = &e->b.entities[idx];
    x->name = ex_cstr(e, s->name);
    x->slots = l.v;
    x->nslots = l.n;
    uint32_t nid = 0;
    for (Node *id = s->decl->list2; id; id = id->next) nid++;
    x->identity = arena_alloc(&e->arena, sizeof(uint32_t) * (nid ? nid : 1));
    for (Node *id = s->decl->list2; id && x->identity; id = id->next) {
        uint32_t sl = ex_slot(e, idx, id->name);
        if (sl != DNA_NIL) x->identity[x->nidentity++] = sl;
    }
}

/* ---- declarations in source order ---------------------------------------------- */

#define FOR_DECLS(e, d) \
    for (uint32_t fi_ = 1; fi_ < (e)->pr->src.n; fi_++) \
        for (Node *d = (e)->pr->files[fi_] ? (e)->pr->files[fi_]->list : NULL; d; d = d->next)

static Sym **collect(EmitCtx *e, NodeKind k, uint32_t *n)
{
    uint32_t cnt = 0;
    FOR_DECLS(e, d) if (d->kind == k && d->sym) cnt++;
    Sym **v = arena_alloc(&e->arena, sizeof(Sym *) * (cnt ? cnt : 1));
    *n = 0;
    if (!v) return NULL;
    FOR_DECLS(e, d) if (d->kind == k && d->sym) v[(*n)++] = d->sym;
    return v;
}

static Module *module_of(EmitCtx *e, Node *d)
{
    Program *p = e->p;
    for (int i = 0; i < p->nmods; i++)
        for (int j = 0; j < p->mods[i]->nfiles; j++)
            if (p->mods[i]->files[j]->span.file == d->span.file) return p->mods[i];
    return NULL;
}

const char *ex_tz_of(EmitCtx *e, Node *d)
{
    Module *m = module_of(e, d);
    return m && m->timezone && strcmp(m->timezone, "UTC") ? m->timezone : NULL;
}

/* ---- rules ---------------------------------------------------------------------- */

typedef struct RuleCtx {
    uint32_t rule, event, entity;
    const char *tz;
} RuleCtx;

static uint32_t new_rule(EmitCtx *e, const char *name, DnaRuleKind kind, uint32_t entity, Node *at, int64_t prio)
{
    DnaRule *r = EX_NEW(e, rules);
    r->name = ex_cstr(e, name);
    r->kind = (uint8_t)kind;
    r->entity = entity;
    r->event = r->watch = r->target = r->cond = r->value = r->schedule = DNA_NIL;
    r->priority = prio;
    SrcFile *f = src_get(&e->pr->src, at->span.file);
    r->file = at->span.file - 1;
    if (f) src_linecol(f, at->span.start, &r->line, &r->col);
    return e->b.nrules - 1;
}

static DnaRule *R(EmitCtx *e, uint32_t i) { return &e->b.rules[i]; }

static void rule_on(EmitCtx *e, uint32_t ri, Node *on)
{
    DnaRule *r = R(e, ri);
    if (!on) return;
    if (on->kind == N_NAME) {
        r->trig = DTR_EVENT;
        r->event = ex_event(e, on->sym);
    } else if (on->kind == N_MEMBER) {
        r->trig = !strcmp(on->name, "created") ? DTR_CREATED : DTR_CHANGED;
    }
}

int64_t ex_fold_int(EmitCtx *e, Node *n, int64_t dflt)
{
    DnaConst k;
    return n && ex_fold(e, n, &k) && k.type != DT_STR ? k.i : dflt;
}

static void arg_unit(EmitCtx *e, const char *key, Node *x, Type *want, RuleCtx *rc)
{
    if (!x) return;
    uint32_t u = ex_unit(e, x, want, rc->rule, rc->event, rc->entity, rc->tz);
    DnaArg *a = EX_NEW(e, args);
    a->key = ex_cstr(e, key);
    a->unit = u;
    a->konst = DNA_NIL;
}

static void arg_konst(EmitCtx *e, const char *key, uint32_t k)
{
    DnaArg *a = EX_NEW(e, args);
    a->key = ex_cstr(e, key);
    a->unit = DNA_NIL;
    a->konst = k;
}

static uint32_t method_index(EmitCtx *e, Node *m)
{
    for (uint32_t i = 0; i < e->nmethod_decls; i++)
        if (e->method_decls[i] == m) return i;
    return DNA_NIL;
}

DnaActKind emit_action_kind(ActKind k)
{
    switch (k) {
    case ACT_SET: return DACT_SET;
    case ACT_MOVE: return DACT_MOVE;
    case ACT_ASSIGN: return DACT_ASSIGN;
    case ACT_ROUTE: return DACT_ROUTE;
    case ACT_PIPELINE: return DACT_PIPELINE;
    case ACT_CREATE: return DACT_CREATE;
    case ACT_TASK: return DACT_TASK;
    case ACT_NOTIFY: return DACT_NOTIFY;
    case ACT_WEBHOOK: return DACT_WEBHOOK;
    case ACT_CALL: return DACT_CALL;
    case ACT_ENROLL: return DACT_ENROLL;
    case ACT_EMIT: return DACT_EMIT;
    }
    return DACT__COUNT;                         /* not an ActKind: the verifier would refuse it */
}

static void action(EmitCtx *e, Node *a, RuleCtx *rc)
{
    uint32_t ai = e->b.nactions;
    DnaAction *x = EX_NEW(e, actions);
    x->kind = (uint8_t)emit_action_kind((ActKind)a->op);
    x->ref = x->ref2 = DNA_NIL;
    uint32_t first = e->b.nargs;
    uint32_t ref = DNA_NIL, ref2 = DNA_NIL;
    Program *p = e->p;
    switch ((ActKind)a->op) {
    case ACT_SET:
        ref = ex_path_slot(e, a->a, rc->entity);
        if (ref == DNA_NIL) ex_error(e, a->a->span, "set can only change a field of this block's entity");
        arg_unit(e, "value", a->b, a->a->ty, rc);
        break;
    case ACT_MOVE: {
        Type *t = ty_base(a->a->ty);
        uint32_t ent = t && t->kind == TY_ENTITY ? ex_entity(e, t->entity) : DNA_NIL;
        if (ent != rc->entity || a->a->kind != N_NAME) ex_error(e, a->a->span, "move can only move this block's entity");
        ref = ex_slot(e, rc->entity, "stage");
        arg_unit(e, "value", a->b, NULL, rc);
        break;
    }
    case ACT_ASSIGN: {
        Node *c = a->a;
        if (c->kind == N_CALL && c->a->kind == N_NAME && c->list && c->list->kind == N_NAME && c->list->sym &&
            ((Sym *)c->list->sym)->kind == SYM_TEAM) {
            ref = ex_sym_index(e->team_syms, e->b.nteams, c->list->sym);
            ref2 = ex_cstr(e, c->a->name);
            for (Node *na = c->list->next; na; na = na->next) {
                if (na->kind != N_NAMEDARG) continue;
                if (!strcmp(na->name, "skills") && na->a->kind == N_LIST) {
                    for (Node *s = na->a->list; s; s = s->next)
                        arg_konst(e, "skill", ex_const(e, DT_STR, 0, ex_cstr(e, s->name ? s->name : "")));
                } else arg_unit(e, na->name, na->a, NULL, rc);
            }
        } else arg_unit(e, "owner", c, NULL, rc);
        break;
    }
    case ACT_ROUTE: break;
    case ACT_PIPELINE: arg_unit(e, "pipeline", a->a, NULL, rc); break;
    case ACT_CREATE: ref = ex_sym_named(e->entity_syms, e->b.nentities, a->name); break;
    case ACT_TASK:
        arg_unit(e, "title", a->a, NULL, rc);
        if (a->b) {
            uint32_t k = ex_fold_const(e, a->b);
            if (k != DNA_NIL) arg_konst(e, "due", k);
            else arg_unit(e, "due", a->b, NULL, rc);
        }
        arg_unit(e, "assignee", a->c, NULL, rc);
        break;
    case ACT_NOTIFY:
        if (a->a->kind == N_NAME && a->a->sym && ((Sym *)a->a->sym)->kind == SYM_CONNECTOR) {
            ref = ex_sym_index(e->conn_syms, e->b.nconnectors, a->a->sym);
            arg_unit(e, "channel", a->b, NULL, rc);
        } else arg_unit(e, "recipient", a->a, NULL, rc);
        arg_unit(e, "message", a->c, p->t_string, rc);
        break;
    case ACT_WEBHOOK:
        ref = ex_sym_named(e->conn_syms, e->b.nconnectors, a->name);
        arg_unit(e, "event", a->a, NULL, rc);
        break;
    case ACT_CALL: {
        Node *c = a->a;
        if (c->kind == N_CALL && c->a->kind == N_MEMBER && c->a->a->kind == N_NAME) {
            ref = ex_sym_named(e->conn_syms, e->b.nconnectors, c->a->a->name);
            ref2 = method_index(e, c->a->sym);
            for (Node *x2 = c->list; x2; x2 = x2->next) arg_unit(e, "arg", x2, NULL, rc);
        }
        break;
    }
    case ACT_ENROLL: ref = ex_sym_named(e->seq_syms, e->b.nsequences, a->name); break;
    case ACT_EMIT:
        ref = ex_sym_named(e->event_syms, e->b.nevents, a->name);
        if (a->a) for (Node *kv = a->a->list; kv; kv = kv->next) arg_unit(e, kv->name, kv->a, NULL, rc);
        break;
    }
    x = &e->b.actions[ai];
    x->ref = ref;
    x->ref2 = ref2;
    x->arg = first;
    x->nargs = e->b.nargs - first;
}

/* One arm: its actions, contiguous. */
static void arm(EmitCtx *e, DnaArmKind kind, uint32_t pattern, Node *acts, RuleCtx *rc)
{
    uint32_t first = e->b.nactions;
    /* the arm record must exist before its actions so arms stay in order */
    uint32_t ai = e->b.narms;
    DnaArm *x = EX_NEW(e, arms);
    x->kind = (uint8_t)kind;
    x->pattern = pattern;
    for (Node *a = acts; a; a = a->next) action(e, a, rc);
    x = &e->b.arms[ai];
    x->action = first;
    x->nactions = e->b.nactions - first;
}

static void rule_options(EmitCtx *e, uint32_t ri, Node *opts, Entity *ent)
{
    for (Node *o = opts; o; o = o->next) {
        DnaRule *r = R(e, ri);
        switch (o->kind) {
        case N_LIMIT:
            r->limit = (uint32_t)ex_fold_int(e, o->a, 1);
            r->window = !strcmp(o->name, "day") ? DW_DAY : !strcmp(o->name, "week") ? DW_WEEK
                      : !strcmp(o->name, "month") ? DW_MONTH : DW_LIFETIME;
            (void)ent;
            break;
        case N_EXPIRE: r->decay = DD_EXPIRE; r->decay_ms = ex_fold_int(e, o->a, 0); break;
        case N_DECAY:
            r->decay = o->name && !strcmp(o->name, "half_life") ? DD_HALF_LIFE : DD_LINEAR;
            r->decay_ms = ex_fold_int(e, o->a, 0);
            break;
        case N_PRIORITY: r->priority = ex_fold_int(e, o->a, 0); break;
        default: break;
        }
    }
}

/* on EVENT [when C] add N [options] */
static void points_rule(EmitCtx *e, Node *r, const char *name, DnaRuleKind kind, uint32_t entity, uint32_t target,
                        int64_t prio, const char *tz, Entity *ent)
{
    uint32_t ri = new_rule(e, name, kind, entity, r, prio);
    rule_on(e, ri, r->a);
    RuleCtx rc = { ri, R(e, ri)->event, entity, tz };
    uint32_t cond = ex_unit(e, r->b, e->p->t_bool, ri, rc.event, entity, tz);
    uint32_t val = ex_unit(e, r->c, e->p->t_decimal, ri, rc.event, entity, tz);
    R(e, ri)->cond = cond;
    R(e, ri)->value = val;
    R(e, ri)->target = target;
    rule_options(e, ri, r->list, ent);
}

Entity *ex_block_entity(EmitCtx *e, Node *d)
{
    Sym *s = sym_get(&e->p->global[SYM_ENTITY], d->name2);
    return s ? s->entity : NULL;
}

static void score_decl(EmitCtx *e, Node *d)
{
    Entity *ent = ex_block_entity(e, d);
    uint32_t entity = ex_entity(e, ent);
    char slot[256], name[300];
    snprintf(slot, sizeof slot, "score.%s", d->name);
    uint32_t target = ex_slot(e, entity, slot);
    int64_t prio = d->a ? ex_fold_int(e, d->a->a, 0) : 0;
    int i = 1;
    for (Node *r = d->list; r; r = r->next, i++) {
        snprintf(name, sizeof name, "%s#%d", d->name, i);
        points_rule(e, r, name, DR_SCORE, entity, target, prio, ex_tz_of(e, d), ent);
    }
}

static void intent_decl(EmitCtx *e, Node *d)
{
    Entity *ent = ex_block_entity(e, d);
    uint32_t entity = ex_entity(e, ent);
    int64_t prio = d->a ? ex_fold_int(e, d->a->a, 0) : 0;
    char slot[256], name[300];
    for (Node *cat = d->list; cat; cat = cat->next) {
        snprintf(slot, sizeof slot, "intent.%s", cat->name);
        uint32_t target = ex_slot(e, entity, slot);
        int i = 1;
        for (Node *r = cat->list; r; r = r->next, i++) {
            snprintf(name, sizeof name, "intent.%s#%d", cat->name, i);
            points_rule(e, r, name, DR_INTENT, entity, target, prio, ex_tz_of(e, d), ent);
        }
    }
}

static const char *const prio_names[] = { "critical", "high", "medium", "low" };
static const int64_t prio_sla_ms[] = { 3600000, 4 * 3600000, 24 * 3600000, 72 * 3600000 };

static void signal_decl(EmitCtx *e, Node *d)
{
    Entity *ent = ex_block_entity(e, d);
    uint32_t entity = ex_entity(e, ent);
    uint32_t si = ex_sym_index(e->signal_syms, e->b.nsignals, d->sym);
    if (si == DNA_NIL) return;
    const char *tz = ex_tz_of(e, d);
    char name[300];
    int i = 1;
    for (Node *x = d->list; x; x = x->next) {
        if (x->kind == N_ON) {
            snprintf(name, sizeof name, "%s#%d", d->name, i++);
            uint32_t ri = new_rule(e, name, DR_SIGNAL, entity, x, 0);
            rule_on(e, ri, x->a);
            uint32_t cond = ex_unit(e, x->b, e->p->t_bool, ri, R(e, ri)->event, entity, tz);
            R(e, ri)->cond = cond;
            R(e, ri)->target = si;
        }
    }
    DnaSignal *s = &e->b.signals[si];
    s->name = ex_cstr(e, d->name);
    s->entity = entity;
    s->weight = DNA_NIL;
    for (Node *x = d->list; x; x = x->next) {
        if (x->kind == N_WEIGHT) {
            uint32_t u = ex_unit(e, x->a, e->p->t_decimal, DNA_NIL, DNA_NIL, entity, tz);
            e->b.signals[si].weight = u;
        } else if (x->kind == N_DECAY) e->b.signals[si].decay_ms = ex_fold_int(e, x->a, 0);
        else if (x->kind == N_PRIORITY)
            for (uint32_t k = 0; k < 4; k++)
                if (x->name && !strcmp(x->name, prio_names[k])) {
                    e->b.signals[si].priority = k;
                    e->b.signals[si].sla_ms = prio_sla_ms[k];
                }
    }
}

static void route_decl(EmitCtx *e, Node *d)
{
    Entity *ent = ex_block_entity(e, d);
    uint32_t entity = ex_entity(e, ent);
    char name[300];
    snprintf(name, sizeof name, "route.%s", d->name2);
    uint32_t ri = new_rule(e, name, DR_ROUTE, entity, d, 0);
    R(e, ri)->trig = DTR_STATE;
    RuleCtx rc = { ri, DNA_NIL, entity, ex_tz_of(e, d) };
    uint32_t first = e->b.narms;
    for (Node *x = d->list; x; x = x->next) {
        if (x->kind == N_WHEN) {
            uint32_t u = ex_unit(e, x->a, e->p->t_bool, ri, DNA_NIL, entity, rc.tz);
            R(e, ri)->cond = u;
        } else if (x->kind == N_RMATCH) {
            uint32_t u = ex_unit(e, x->a, NULL, ri, DNA_NIL, entity, rc.tz);
            R(e, ri)->value = u;
            Type *st = ty_base(x->a->ty);
            for (Node *a = x->list; a; a = a->next) {
                uint32_t pat = DNA_NIL;
                if (a->a)
                    for (int k = 0; st && k < st->nvalues; k++)
                        if (st->values[k] == a->a->name) pat = (uint32_t)k;
                if (a->a && pat == DNA_NIL) ex_error(e, a->a->span, "'%s' is not a value of the match", a->a->name);
                arm(e, a->a ? DA_MATCH : DA_WILDCARD, pat, a->list, &rc);
            }
        }
    }
    for (Node *x = d->list; x; x = x->next) {
        if (x->kind == N_ELSE) arm(e, DA_ELSE, DNA_NIL, x->list, &rc);
        else if (x->kind == N_DO) arm(e, DA_DO, DNA_NIL, x->list, &rc);
    }
    R(e, ri)->arm = first;
    R(e, ri)->narms = e->b.narms - first;
}

static void workflow_decl(EmitCtx *e, Node *d)
{
    Entity *ent = ex_block_entity(e, d);
    uint32_t entity = ex_entity(e, ent);
    uint32_t ri = new_rule(e, d->name, DR_WORKFLOW, entity, d, 0);
    RuleCtx rc = { ri, DNA_NIL, entity, ex_tz_of(e, d) };
    Node *t = NULL;
    for (Node *x = d->list; x; x = x->next) if (x->kind == N_TRIGGER) { t = x; break; }
    if (t) {
        DnaRule *r = R(e, ri);
        switch ((TrigKind)t->op) {
        case TRIG_EVENT: rule_on(e, ri, t->a); rc.event = R(e, ri)->event; break;
        case TRIG_CROSSES_ABOVE: case TRIG_CROSSES_BELOW: case TRIG_BECOMES: case TRIG_CHANGES: case TRIG_STAYS: {
            static const uint8_t map[] = { [TRIG_CROSSES_ABOVE] = DTR_CROSSES_ABOVE, [TRIG_CROSSES_BELOW] = DTR_CROSSES_BELOW,
                                           [TRIG_BECOMES] = DTR_BECOMES, [TRIG_CHANGES] = DTR_CHANGES, [TRIG_STAYS] = DTR_STAYS };
            r->trig = map[t->op];
            r->watch = ex_path_slot(e, t->a, entity);
            if (r->watch == DNA_NIL) ex_error(e, t->a->span, "a state trigger watches a field of this block's entity");
            if (t->b) {
                Type *want = t->op == TRIG_CROSSES_ABOVE || t->op == TRIG_CROSSES_BELOW ? e->p->t_decimal
                           : ty_base(t->a->ty);
                uint32_t u = ex_unit(e, t->b, want, ri, DNA_NIL, entity, rc.tz);
                R(e, ri)->value = u;
            }
            if (t->c) R(e, ri)->duration_ms = ex_fold_int(e, t->c, 0);
            break;
        }
        case TRIG_INACTIVE: r->trig = DTR_INACTIVE; r->duration_ms = ex_fold_int(e, t->c, 0); break;
        case TRIG_OVERDUE:
            r->trig = DTR_OVERDUE;
            r->target = t->name ? ex_sym_named(e->signal_syms, e->b.nsignals, t->name) : DNA_NIL;
            break;
        case TRIG_SCHEDULE: {
            r->trig = DTR_SCHEDULE;
            r->schedule = ex_cstr(e, t->b->name ? t->b->name : "");
            /* value: the cron text as a unit, which carries the module's time zone to the engine */
            uint32_t u = ex_unit(e, t->b, e->p->t_string, ri, DNA_NIL, entity, rc.tz);
            R(e, ri)->value = u;
            break;
        }
        }
    }
    uint32_t first = e->b.narms;
    for (Node *x = d->list; x; x = x->next) {
        switch (x->kind) {
        case N_WHEN: {
            uint32_t u = ex_unit(e, x->a, e->p->t_bool, ri, rc.event, entity, rc.tz);
            R(e, ri)->cond = u;
            break;
        }
        case N_MODE:
            R(e, ri)->mode = !strcmp(x->name, "approval") ? DM_APPROVAL : !strcmp(x->name, "shadow") ? DM_SHADOW : DM_LIVE;
            break;
        case N_PRIORITY: R(e, ri)->priority = ex_fold_int(e, x->a, 0); break;
        case N_DO: arm(e, DA_DO, DNA_NIL, x->list, &rc); break;
        default: break;
        }
    }
    R(e, ri)->arm = first;
    R(e, ri)->narms = e->b.narms - first;
}

/* derived fields, dependencies first */
static void derive_walk(Node *n, Node **deps, int *ndeps)
{
    for (; n; n = n->next) {
        if (n->kind == N_MEMBER && n->sym && n->a && n->a->ty && ty_base(n->a->ty)->kind == TY_ENTITY) {
            Field *f = n->sym;
            if (f->kind == FLD_DERIVED && f->decl && *ndeps < 64) deps[(*ndeps)++] = f->decl;
        }
        derive_walk(n->a, deps, ndeps);
        derive_walk(n->b, deps, ndeps);
        derive_walk(n->c, deps, ndeps);
        derive_walk(n->list, deps, ndeps);
    }
}

static void derive_decl(EmitCtx *e, Node *d, Node **done, int *ndone, int depth)
{
    for (int i = 0; i < *ndone; i++) if (done[i] == d) return;
    if (depth > 64) return;
    Node *deps[64];
    int nd = 0;
    derive_walk(d->b, deps, &nd);
    for (int i = 0; i < nd; i++) derive_decl(e, deps[i], done, ndone, depth + 1);
    for (int i = 0; i < *ndone; i++) if (done[i] == d) return;
    done[(*ndone)++] = d;
    Node *t = d->a;
    Sym *es = sym_get(&e->p->global[SYM_ENTITY], t->a->name);
    uint32_t entity = es ? ex_entity(e, es->entity) : DNA_NIL;
    char name[300];
    snprintf(name, sizeof name, "%s.%s", t->a->name, t->name);
    uint32_t ri = new_rule(e, name, DR_DERIVE, entity, d, 0);
    R(e, ri)->trig = DTR_STATE;
    R(e, ri)->watch = ex_slot(e, entity, t->name);
    uint32_t u = ex_unit(e, d->b, NULL, ri, DNA_NIL, entity, ex_tz_of(e, d));
    R(e, ri)->value = u;
}

/* ---- trigger index ------------------------------------------------------------------ */

typedef struct Key { uint8_t kind; uint32_t a, b, rule; int64_t prio; } Key;

static int key_cmp(const void *x, const void *y)
{
    const Key *p = x, *q = y;
    if (p->kind != q->kind) return p->kind < q->kind ? -1 : 1;
    if (p->a != q->a) return p->a < q->a ? -1 : 1;
    if (p->b != q->b) return p->b < q->b ? -1 : 1;
    if (p->prio != q->prio) return p->prio > q->prio ? -1 : 1;     /* higher priority first */
    return p->rule < q->rule ? -1 : p->rule > q->rule;
}

static void trigger_index(EmitCtx *e)
{
    uint32_t cap = e->b.nrules * 2 + 1, n = 0;
    Key *keys = arena_alloc(&e->arena, sizeof(Key) * cap);
    if (!keys) return;
    for (uint32_t i = 0; i < e->b.nrules; i++) {
        DnaRule *r = &e->b.rules[i];
        Key k = { 0, r->entity, 0, i, r->priority };
        switch ((DnaTrig)r->trig) {
        case DTR_EVENT: k.kind = DK_EVENT; k.a = r->event; break;
        case DTR_CHANGED: k.kind = DK_CHANGED; break;
        case DTR_CREATED: k.kind = DK_CREATED; break;
        case DTR_CROSSES_ABOVE: case DTR_CROSSES_BELOW: case DTR_BECOMES: case DTR_CHANGES: case DTR_STAYS:
            k.kind = DK_FIELD;
            k.b = r->watch;
            if (r->trig == DTR_STAYS) keys[n++] = (Key){ DK_TIMER_STAYS, r->entity, 0, i, r->priority };
            break;
        case DTR_INACTIVE: k.kind = DK_TIMER_INACTIVE; break;
        case DTR_OVERDUE: k.kind = DK_OVERDUE; break;
        case DTR_SCHEDULE: k.kind = DK_SCHEDULE; break;
        case DTR_STATE: k.kind = r->kind == DR_DERIVE ? DK_DERIVE : DK_ROUTE; break;
        default: continue;
        }
        keys[n++] = k;
    }
    qsort(keys, n, sizeof *keys, key_cmp);
    for (uint32_t i = 0; i < n;) {
        uint32_t j = i;
        while (j < n && keys[j].kind == keys[i].kind && keys[j].a == keys[i].a && keys[j].b == keys[i].b) j++;
        DnaTrigger *t = EX_NEW(e, triggers);
        t->kind = keys[i].kind;
        t->a = keys[i].a;
        t->b = keys[i].b;
        t->rules = arena_alloc(&e->arena, sizeof(uint32_t) * (j - i));
        for (uint32_t k = i; k < j && t->rules; k++) t->rules[t->nrules++] = keys[k].rule;
        i = j;
    }
}

/* ---- the whole bundle ----------------------------------------------------------------- */

static const char *stored_path(EmitCtx *e, SrcFile *f, char *buf, size_t len)
{
    const char *dir = e->pr->stdlib_dir;
    size_t n = dir ? strlen(dir) : 0;
    if (f->is_stdlib && dir && !strncmp(f->path, dir, n) && f->path[n] == '/') {
        snprintf(buf, len, "stdlib%s", f->path + n);
        return buf;
    }
    return f->path;
}

static void put32(uint8_t *p, uint32_t v) { for (int i = 0; i < 4; i++) p[i] = (uint8_t)(v >> (8 * i)); }

/* The entity kind an expectation reads: the first entity it names. */
static const Entity *named_entity(Node *n)
{
    if (!n) return NULL;
    if (n->kind == N_NAME && n->ty && ty_base(n->ty)->kind == TY_ENTITY && !n->sym) return ty_base(n->ty)->entity;
    const Entity *x;
    if ((x = named_entity(n->a)) != NULL) return x;
    if ((x = named_entity(n->b)) != NULL) return x;
    for (Node *c = n->list; c; c = c->next)
        if ((x = named_entity(c)) != NULL) return x;
    return NULL;
}

static void test_units(EmitCtx *e, EmitTests *t)
{
    FOR_DECLS(e, d) {
        if (d->kind != N_TEST) continue;
        for (Node *x = d->list; x; x = x->next) {
            if (x->kind != N_EXPECT || x->op != EXP_TRUE || !x->a) continue;
            const Entity *ent = named_entity(x->a);
            uint32_t ek = ent ? ex_entity(e, ent) : DNA_NIL;
            if (t->n == t->cap) {
                uint32_t nc = t->cap ? t->cap * 2 : 16;
                EmitExpect *nv = dna_realloc(t->v, sizeof(EmitExpect) * t->cap, sizeof(EmitExpect) * nc);
                if (!nv) { e->errors++; return; }
                t->v = nv;
                t->cap = nc;
            }
            EmitExpect *ee = &t->v[t->n++];
            ee->expect = x;
            ee->entity = ek;
            ee->unit = ex_unit(e, x->a, e->p->t_bool, DNA_NIL, DNA_NIL, ek, NULL);
            ee->actual = DNA_NIL;
            if (x->a->kind == N_BINARY && x->a->op >= OP_EQ && x->a->op <= OP_GE && x->a->a->kind != N_INT &&
                x->a->a->kind != N_DECIMAL && x->a->a->kind != N_STRING)
                ee->actual = ex_unit(e, x->a->a, NULL, DNA_NIL, DNA_NIL, ek, NULL);
        }
    }
}

void emit_tests_free(EmitTests *t)
{
    dna_free(t->v, sizeof(EmitExpect) * t->cap);
    memset(t, 0, sizeof *t);
}

uint32_t emit_bundle(Project *pr, DnaBuf *out) { return emit_bundle_tests(pr, out, NULL); }

uint32_t emit_bundle_tests(Project *pr, DnaBuf *out, EmitTests *tests)
{
    memset(out, 0, sizeof *out);
    EmitCtx *e = dna_malloc(sizeof *e);
    if (!e) { diag_error(&pr->diags, DIAG_E001, (Span){ 0, 0, 0 }, "out of memory"); return 1; }
    memset(e, 0, sizeof *e);
    e->pr = pr;
    e->p = &pr->prog;
    arena_init(&e->arena);
    e->b.version = DNA_BUNDLE_VERSION;

    /* files and the sources' hash: (u32 path length, path, u32 text length, text)* */
    {
        size_t total = 0;
        char buf[4096];
        for (uint32_t i = 1; i < pr->src.n; i++)
            total += 8 + strlen(stored_path(e, pr->src.files[i], buf, sizeof buf)) + pr->src.files[i]->len;
        uint8_t *h = dna_malloc(total ? total : 1);
        if (!h) ex_oom(e);
        size_t at = 0;
        for (uint32_t i = 1; i < pr->src.n; i++) {
            SrcFile *f = pr->src.files[i];
            const char *path = stored_path(e, f, buf, sizeof buf);
            DnaFile *x = EX_NEW(e, files);
            x->path = ex_cstr(e, path);
            x->stdlib = (uint32_t)f->is_stdlib;
            if (!h) continue;
            size_t pl = strlen(path);
            put32(h + at, (uint32_t)pl);
            memcpy(h + at + 4, path, pl);
            at += 4 + pl;
            put32(h + at, f->len);
            memcpy(h + at + 4, f->text, f->len);
            at += 4 + f->len;
        }
        if (h) dna_sha256(h, at, e->b.source_hash);
        dna_free(h, total ? total : 1);
    }

    /* declaration tables, in source order */
    uint32_t n;
    e->event_syms = collect(e, N_EVENT, &n);
    for (uint32_t i = 0; i < n; i++) EX_NEW(e, events);
    e->entity_syms = collect(e, N_ENTITY, &n);
    for (uint32_t i = 0; i < n; i++) EX_NEW(e, entities);
    e->signal_syms = collect(e, N_SIGNAL, &n);
    for (uint32_t i = 0; i < n; i++) EX_NEW(e, signals);
    e->conn_syms = collect(e, N_CONNECTOR, &n);
    for (uint32_t i = 0; i < n; i++) EX_NEW(e, connectors);
    e->team_syms = collect(e, N_TEAM, &n);
    for (uint32_t i = 0; i < n; i++) EX_NEW(e, teams);
    e->seq_syms = collect(e, N_SEQUENCE, &n);
    for (uint32_t i = 0; i < n; i++) EX_NEW(e, sequences);
    /* connector methods get global indexes in connector order */
    {
        uint32_t nm = 0;
        for (uint32_t i = 0; i < e->b.nconnectors; i++) nm += (uint32_t)ast_count(e->conn_syms[i]->decl->list2);
        e->method_decls = arena_alloc(&e->arena, sizeof(Node *) * (nm ? nm : 1));
        for (uint32_t i = 0; i < e->b.nconnectors && e->method_decls; i++)
            for (Node *m = e->conn_syms[i]->decl->list2; m; m = m->next) e->method_decls[e->nmethod_decls++] = m;
    }

    for (uint32_t i = 0; i < e->b.nentities; i++) entity_schema(e, e->entity_syms[i]);
    for (uint32_t i = 0; i < e->b.nevents; i++) event_schema(e, e->event_syms[i]);

    /* rules and configuration, in source order; derived fields after the
     * others, dependencies first */
    FOR_DECLS(e, d) {
        switch (d->kind) {
        case N_SCORE: score_decl(e, d); break;
        case N_INTENT: intent_decl(e, d); break;
        case N_SIGNAL: signal_decl(e, d); break;
        case N_ROUTE: route_decl(e, d); break;
        case N_WORKFLOW: workflow_decl(e, d); break;
        case N_SOURCE: ex_source_decl(e, d); break;
        case N_CONNECTOR: ex_connector_decl(e, d); break;
        case N_TEAM: ex_team_decl(e, d); break;
        case N_SEQUENCE: ex_sequence_decl(e, d); break;
        default: break;
        }
    }
    {
        Node **done = arena_alloc(&e->arena, sizeof(Node *) * (size_t)(e->p->nderives + 1));
        int ndone = 0;
        FOR_DECLS(e, d) if (d->kind == N_DERIVE && d->sym && done) derive_decl(e, d, done, &ndone, 0);
    }
    trigger_index(e);
    if (tests) test_units(e, tests);

    if (e->arena.failed) ex_oom(e);         /* a table the emitter could not make is missing */
    uint32_t errors = (uint32_t)e->errors;
    if (!errors) {
        if (bundle_write(&e->b, out) != 0) {
            diag_error(&pr->diags, DIAG_E001, (Span){ 0, 0, 0 }, "out of memory writing the bundle");
            errors = 1;
        }
    }
    arena_free(&e->arena);
    dna_free(e, sizeof *e);
    return errors;
}
