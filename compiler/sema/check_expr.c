/*
 * check_expr.c - typing expressions.
 *
 * chk_expr() gives every expression node its type, reporting unknown
 * names, fields and enum values (with a suggestion where one is close) and
 * operands that do not fit.  An expected type, when the place has one,
 * resolves bare names against an enum: in `lead.seniority == c_level`,
 * `c_level` is looked up among seniority's values.  A type error yields
 * TY_ERROR, which fits everywhere, so one mistake is reported once.
 */
#include "sema/check.h"

#include <string.h>

typedef enum BType { B_NONE, B_STR, B_INT, B_DEC, B_NUM, B_BOOL, B_DUR, B_TS, B_ANY } BType;
typedef enum BWhere { B_ANYWHERE, B_CONFIG, B_SOURCE } BWhere;

static const struct Builtin {
    const char *name;
    BType ret;
    int nargs;
    BType args[2];
    BWhere where;
} builtins[] = {
#define BUILTIN(name, ret, n, a1, a2, where, doc) { #name, B_##ret, n, { B_##a1, B_##a2 }, B_##where },
#include "stdlib/builtins.h"
#undef BUILTIN
};

static const struct Builtin *builtin_get(const char *name)
{
    for (size_t i = 0; i < sizeof builtins / sizeof *builtins; i++)
        if (!strcmp(builtins[i].name, name)) return &builtins[i];
    return NULL;
}

static const char *const strategies[] = {
    "round_robin", "weighted", "territory", "skill_based", "least_loaded",
};

static int is_strategy(const char *name)
{
    for (size_t i = 0; i < sizeof strategies / sizeof *strategies; i++)
        if (!strcmp(strategies[i], name)) return 1;
    return 0;
}

static Type *err(Ctx *c) { return c->p->t_error; }

static Type *set(Node *n, Type *t) { n->ty = t; return t; }

/* An operand as the error names it: its source text and type ("event.url
 * (string)"), or the type alone when the text is long or spans lines. */
static void operand(Program *p, const Node *n, Type *t, char *out, size_t cap)
{
    SrcFile *f = p->src ? src_get(p->src, n->span.file) : NULL;
    uint32_t len = n->span.end - n->span.start;
    const char *tn = ty_name(t), *par = strstr(tn, " (");
    size_t tl = strlen(tn);
    if (par && tl && tn[tl - 1] == ')') { tn = par + 2; tl = strlen(tn) - 1; }    /* "score (decimal)": decimal */
    if (f && n->span.end <= f->len && len && len <= 40 && !memchr(f->text + n->span.start, '\n', len))
        snprintf(out, cap, "%.*s (%.*s)", (int)len, f->text + n->span.start, (int)tl, tn);
    else
        snprintf(out, cap, "%s", ty_name(t));
}

void chk_suggest_tab(Diag *g, const SymTab *t, const char *name)
{
    if (!g) return;
    Suggest sg;
    suggest_init(&sg, name);
    for (uint32_t i = 0; i < t->cap; i++)
        if (t->slots[i]) suggest_add(&sg, t->slots[i]->name);
    if (suggest_best(&sg)) diag_help(g, "did you mean '%s'?", suggest_best(&sg));
}

Sym *chk_lookup_global(Ctx *c, SymKind k, const char *name, Span sp, DiagCode code, const char *what)
{
    Sym *s = sym_get(&c->p->global[k], name);
    if (s) { s->uses++; return s; }
    Diag *g = diag_error(c->p->diags, code, sp, "unknown %s '%s'", what, name);
    chk_suggest_tab(g, &c->p->global[k], name);
    return NULL;
}

/* ---- names ------------------------------------------------------------ */

static Node *param_get(Node *params, const char *name)
{
    for (Node *q = params; q; q = q->next)
        if (q->name == name) return q;
    return NULL;
}

static int enum_has(const Type *t, const char *v)
{
    for (int i = 0; i < t->nvalues; i++)
        if (t->values[i] == v) return 1;
    return 0;
}

static Type *name_expr(Ctx *c, Node *n, Type *expect)
{
    Program *p = c->p;
    Type *eb = expect ? ty_base(expect) : NULL;
    if (eb && eb->kind == TY_ENUM && enum_has(eb, n->name)) {
        n->flags |= 1;                              /* an enum literal */
        return set(n, eb);
    }
    Node *prm = param_get(c->params, n->name);
    if (prm) {
        if (c->in_method) {                          /* method params are entity names */
            Sym *e = sym_get(&p->global[SYM_ENTITY], n->name);
            return set(n, e && e->entity ? e->entity->ty : err(c));
        }
        return set(n, prm->ty ? prm->ty : err(c));
    }
    if (c->ent && c->ent->sym->name == n->name) return set(n, c->ent->ty);
    if (c->in_test) {
        Sym *e = sym_get(&p->global[SYM_ENTITY], n->name);
        if (e && e->entity) return set(n, e->entity->ty);
    }
    if (c->in_source && !strcmp(n->name, "body")) return set(n, p->t_json);
    if (c->in_method && !strcmp(n->name, "response")) return set(n, p->t_json);
    Sym *s = sym_get(&c->mod->values, n->name);
    if (s) {
        s->uses++;
        n->sym = s;
        if (s->kind == SYM_CONST) { chk_const(c, s); return set(n, s->ty ? s->ty : err(c)); }
        if (s->kind == SYM_FN) { Type *t = ty_new(p, TY_FN); t->sym = s; return set(n, t); }
        return set(n, s->ty);
    }
    /* an entity named where this block is for another one */
    Sym *e = sym_get(&p->global[SYM_ENTITY], n->name);
    if (e && !c->constant) {
        Diag *g = diag_error(p->diags, DIAG_E013, n->span, "'%s' is not in scope here", n->name);
        if (c->ent)
            diag_help(g, "this block is for '%s'; reach a %s through one of its fields",
                      c->ent->sym->name, n->name);
        return set(n, err(c));
    }
    if (eb && eb->kind == TY_ENUM) {
        Diag *g = diag_error(p->diags, DIAG_E012, n->span, "'%s' is not a value of %s", n->name, ty_name(eb));
        Suggest sg;
        suggest_init(&sg, n->name);
        for (int i = 0; i < eb->nvalues; i++) suggest_add(&sg, eb->values[i]);
        if (suggest_best(&sg)) diag_help(g, "did you mean '%s'?", suggest_best(&sg));
        else if (g) {
            char buf[256];
            int off = 0;
            for (int i = 0; i < eb->nvalues && off < 200; i++)
                off += snprintf(buf + off, sizeof buf - off, "%s%s", i ? ", " : "", eb->values[i]);
            diag_help(g, "the values are: %s", buf);
        }
        return set(n, err(c));
    }
    Diag *g = diag_error(p->diags, DIAG_E013, n->span, "unknown name '%s'", n->name);
    if (g) {
        Suggest sg;
        suggest_init(&sg, n->name);
        for (uint32_t i = 0; i < c->mod->values.cap; i++)
            if (c->mod->values.slots[i]) suggest_add(&sg, c->mod->values.slots[i]->name);
        for (Node *q = c->params; q; q = q->next) suggest_add(&sg, q->name);
        if (c->ent) suggest_add(&sg, c->ent->sym->name);
        if (suggest_best(&sg)) diag_help(g, "did you mean '%s'?", suggest_best(&sg));
        else if (c->ent && ty_ent_field(c->ent, n->name))
            diag_help(g, "fields are reached through the entity: `%s.%s`", c->ent->sym->name, n->name);
        else if (c->event && c->event->sym && c->event->sym->decl) {
            for (Node *f = c->event->sym->decl->list; f; f = f->next)
                if (f->name == n->name) { diag_help(g, "event fields are reached through `event`: `event.%s`", n->name); break; }
        }
    }
    return set(n, err(c));
}

/* ---- members ---------------------------------------------------------- */

static Type *unknown_member(Ctx *c, Node *n, const char *what, const char *owner,
                            const char **cands, int ncands, Entity *e)
{
    DiagCode code = strcmp(what, "score component") == 0 || strcmp(what, "intent category") == 0
                  ? DIAG_E026 : DIAG_E011;
    Span sp = n->span;
    /* underline the member name only: it ends the node's span */
    if (sp.end >= (uint32_t)strlen(n->name)) sp.start = sp.end - (uint32_t)strlen(n->name);
    Diag *g = diag_error(c->p->diags, code, sp, "unknown %s '%s' on %s", what, n->name, owner);
    Suggest sg;
    suggest_init(&sg, n->name);
    for (int i = 0; i < ncands; i++) suggest_add(&sg, cands[i]);
    if (e) for (int i = 0; i < e->nfields; i++) suggest_add(&sg, e->fields[i].name);
    if (suggest_best(&sg)) diag_help(g, "did you mean '%s'?", suggest_best(&sg));
    return set(n, err(c));
}

static Type *entity_member(Ctx *c, Node *n, Entity *e, int opt)
{
    Field *f = ty_ent_field(e, n->name);
    if (!f) {
        char owner[96];
        snprintf(owner, sizeof owner, "entity '%s'", e->sym->name);
        return unknown_member(c, n, "field", owner, NULL, 0, e);
    }
    if (f->kind == FLD_DERIVED && !f->ty) {
        if (f->checking) {
            Diag *g = diag_error(c->p->diags, DIAG_E028, n->span,
                                 "'%s.%s' is derived from itself", e->sym->name, n->name);
            diag_help(g, "a derived field may not depend on itself, directly or through others");
            f->ty = err(c);
        } else {
            chk_derive(c->p, f->decl);
        }
    }
    Type *t = f->ty ? f->ty : err(c);
    n->sym = f;
    return set(n, opt ? ty_optional(c->p, t) : t);
}

static Type *member_expr(Ctx *c, Node *n)
{
    Program *p = c->p;
    Type *o = chk_expr(c, n->a, NULL);
    Type *ob = ty_base(o);
    switch (ob->kind) {
    case TY_ERROR: return set(n, err(c));
    case TY_JSON: return set(n, p->t_json);
    case TY_ENTITY: return entity_member(c, n, ob->entity, o->optional);
    case TY_SCORE: {
        Entity *e = ob->entity;
        for (int i = 0; i < e->nscores; i++)
            if (e->scores[i]->name == n->name) { e->scores[i]->uses++; return set(n, p->t_decimal); }
        const char *cands[64];
        int k = 0;
        for (int i = 0; i < e->nscores && k < 64; i++) cands[k++] = e->scores[i]->name;
        char owner[96];
        snprintf(owner, sizeof owner, "'%s.score'", e->sym->name);
        return unknown_member(c, n, "score component", owner, cands, k, NULL);
    }
    case TY_INTENT: {
        Entity *e = ob->entity;
        if (!strcmp(n->name, "primary")) return set(n, e->intent_primary);
        if (!strcmp(n->name, "confidence") || !strcmp(n->name, "total")) return set(n, p->t_decimal);
        for (int i = 0; i < e->ncategories; i++)
            if (e->categories[i] == n->name) return set(n, p->t_decimal);
        const char *cands[66] = { "primary", "confidence", "total" };
        int k = 3;
        for (int i = 0; i < e->ncategories && k < 66; i++) cands[k++] = e->categories[i];
        char owner[96];
        snprintf(owner, sizeof owner, "'%s.intent'", e->sym->name);
        return unknown_member(c, n, "intent category", owner, cands, k, NULL);
    }
    case TY_TOUCH:
        if (!strcmp(n->name, "source") || !strcmp(n->name, "campaign"))
            return set(n, ty_optional(p, p->t_string));
        if (!strcmp(n->name, "at")) return set(n, ty_optional(p, p->t_timestamp));
        {
            const char *cands[] = { "source", "campaign", "at" };
            return unknown_member(c, n, "field", "an attribution touch", cands, 3, NULL);
        }
    case TY_EVENT: {
        Sym *ev = ob->sym;
        if (!strcmp(n->name, "id") || !strcmp(n->name, "type") || !strcmp(n->name, "source"))
            return set(n, p->t_string);
        if (!strcmp(n->name, "occurred_at")) return set(n, p->t_timestamp);
        const char *cands[128] = { "id", "type", "source", "occurred_at" };
        int k = 4;
        for (Node *f = ev->decl ? ev->decl->list : NULL; f; f = f->next) {
            if (f->name == n->name) {
                n->sym = f;
                return set(n, res_type(p, f->a, f->name));
            }
            if (k < 128) cands[k++] = f->name;
        }
        char owner[96];
        snprintf(owner, sizeof owner, "event '%s'", ev->name);
        return unknown_member(c, n, "field", owner, cands, k, NULL);
    }
    case TY_MODULE: {
        Sym *ms = ob->sym;
        const char *modname = ms->decl->name;
        for (int i = 0; i < p->nmods; i++) {
            if (p->mods[i]->name != modname) continue;
            Sym *s = sym_get(&p->mods[i]->values, n->name);
            if (s && s->kind != SYM_MODULE) {
                s->uses++;
                n->sym = s;
                if (s->kind == SYM_CONST) {
                    Ctx sub = *c;
                    sub.mod = p->mods[i];
                    chk_const(&sub, s);
                    return set(n, s->ty ? s->ty : err(c));
                }
                Type *t = ty_new(p, TY_FN);
                t->sym = s;
                return set(n, t);
            }
            Diag *g = diag_error(p->diags, DIAG_E013, n->span, "module '%s' has no '%s'", modname, n->name);
            chk_suggest_tab(g, &p->mods[i]->values, n->name);
            return set(n, err(c));
        }
        return set(n, err(c));                     /* the import was reported */
    }
    case TY_CONNECTOR: {
        Sym *cs = ob->sym;
        for (Node *m = cs->decl->list2; m; m = m->next)
            if (m->name == n->name) {
                Type *t = ty_new(p, TY_METHOD);
                t->sym = cs;
                n->sym = m;
                return set(n, t);
            }
        Diag *g = diag_error(p->diags, DIAG_E014, n->span, "connector '%s' has no method '%s'",
                             cs->name, n->name);
        if (g) {
            Suggest sg;
            suggest_init(&sg, n->name);
            for (Node *m = cs->decl->list2; m; m = m->next) suggest_add(&sg, m->name);
            if (suggest_best(&sg)) diag_help(g, "did you mean '%s'?", suggest_best(&sg));
        }
        return set(n, err(c));
    }
    default: {
        Diag *g = diag_error(p->diags, DIAG_E011, n->span, "%s has no field '%s'", ty_name(o), n->name);
        (void)g;
        return set(n, err(c));
    }
    }
}

/* ---- calls ------------------------------------------------------------ */

static Type *btype(Ctx *c, BType b)
{
    Program *p = c->p;
    switch (b) {
    case B_STR: return p->t_string;
    case B_INT: return p->t_int;
    case B_DEC: return p->t_decimal;
    case B_BOOL: return p->t_bool;
    case B_DUR: return p->t_duration;
    case B_TS: return p->t_timestamp;
    default: return NULL;
    }
}

/* round(x, DIGITS): a decimal keeps three places, so a literal DIGITS above 3
 * cannot mean anything; below -18 every value rounds to 0 */
static void round_digits(Ctx *c, Node *d)
{
    int neg = d && d->kind == N_UNARY && d->op == OP_NEG;
    Node *lit = neg ? d->a : d;
    if (!lit || lit->kind != N_INT) return;
    int64_t v = neg ? -lit->num : lit->num;
    if (v > 3) {
        Diag *g = diag_error(c->p->diags, DIAG_E025, d->span, "round() keeps at most 3 decimal places, not %lld",
                             (long long)v);
        diag_help(g, "round(x, 3) is x itself; write 0, 1 or 2 for fewer places");
    } else if (v < -18) {
        Diag *g = diag_error(c->p->diags, DIAG_E025, d->span, "round() to %lld places rounds every number to 0",
                             (long long)v);
        diag_help(g, "-1 rounds to tens, -2 to hundreds, ...");
    }
}

static Type *builtin_call(Ctx *c, Node *n, const struct Builtin *b)
{
    Program *p = c->p;
    int nargs = ast_count(n->list);
    if (b->where == B_CONFIG && !c->config) {
        Diag *g = diag_error(p->diags, DIAG_E024, n->a->span, "%s() is only for connector and source settings",
                             b->name);
        diag_help(g, "rules must not depend on the environment: put the value in a const");
    } else if (b->where == B_SOURCE && !c->in_source) {
        diag_error(p->diags, DIAG_E024, n->a->span, "%s() is only available in a source's map", b->name);
    }
    if (nargs != b->nargs) {
        diag_error(p->diags, DIAG_E024, n->span, "%s() takes %d argument%s, not %d", b->name, b->nargs,
                   b->nargs == 1 ? "" : "s", nargs);
        for (Node *a = n->list; a; a = a->next) chk_expr(c, a, NULL);
        return set(n, err(c));
    }
    Type *at[2] = { NULL, NULL };
    int i = 0, opt = 0, dec = 0;
    for (Node *a = n->list; a; a = a->next, i++) {
        if (a->kind == N_NAMEDARG) {
            diag_error(p->diags, DIAG_E024, a->span, "%s() takes no named arguments", b->name);
            at[i] = chk_expr(c, a->a, NULL);
            continue;
        }
        Type *want = btype(c, b->args[i]);
        Type *t = chk_expr(c, a, want ? want : (i == 1 ? at[0] : NULL));
        at[i] = t;
        if (t->kind == TY_ERROR) continue;
        if (t->optional && b->args[i] != B_ANY) opt = 1;
        Type *tb = ty_base(t);
        int ok;
        switch (b->args[i]) {
        case B_NUM: ok = ty_is_numeric(tb); dec |= tb->kind != TY_INT; break;
        case B_ANY: ok = 1; break;
        default: ok = ty_assignable(want, tb); break;
        }
        if (!ok)
            diag_error(p->diags, DIAG_E021, a->span, "argument %d of %s() must be %s, not %s", i + 1, b->name,
                       b->args[i] == B_NUM ? "a number" : ty_name(want), ty_name(t));
    }
    Type *r;
    switch (b->ret) {
    case B_NUM: r = dec ? p->t_decimal : p->t_int; break;
    case B_ANY:
        r = at[0] ? at[0] : err(c);
        if (!strcmp(b->name, "coalesce")) {
            if (at[0] && at[1] && !ty_assignable(ty_base(at[0]), ty_base(at[1])) &&
                !(ty_is_numeric(ty_base(at[0])) && ty_is_numeric(ty_base(at[1]))) && at[1]->kind != TY_ERROR)
                diag_error(p->diags, DIAG_E020, n->span, "coalesce() of %s and %s", ty_name(at[0]), ty_name(at[1]));
            if (at[0] && at[1] && ty_is_numeric(ty_base(at[0])) && ty_is_numeric(ty_base(at[1])) &&
                (ty_base(at[0])->kind != TY_INT || ty_base(at[1])->kind != TY_INT))
                return set(n, at[1]->optional ? ty_optional(p, p->t_decimal) : p->t_decimal);
            return set(n, at[1] ? at[1] : err(c));
        }
        break;
    default: r = btype(c, b->ret); break;
    }
    if (!strcmp(b->name, "header")) r = ty_optional(p, r);
    if (!strcmp(b->name, "round")) round_digits(c, n->list->next);
    return set(n, opt ? ty_optional(p, r) : r);
}

static Type *fn_call(Ctx *c, Node *n, Sym *fs)
{
    Program *p = c->p;
    Ctx sub = *c;
    sub.mod = fs->mod;
    chk_fn(&sub, fs);
    Node *d = fs->decl;
    int np = ast_count(d->list), na = ast_count(n->list);
    if (np != na) {
        diag_error(p->diags, DIAG_E024, n->span, "%s() takes %d argument%s, not %d", fs->name, np,
                   np == 1 ? "" : "s", na);
        for (Node *a = n->list; a; a = a->next) chk_expr(c, a, NULL);
        return set(n, fs->ty ? fs->ty : err(c));
    }
    Node *prm = d->list;
    for (Node *a = n->list; a; a = a->next, prm = prm->next) {
        if (a->kind == N_NAMEDARG) {
            diag_error(p->diags, DIAG_E024, a->span, "%s() takes no named arguments", fs->name);
            continue;
        }
        Type *want = prm->ty;
        chk_want(c, a, want, "this argument");
    }
    if (c->fn) {                                    /* record the call for the cycle check */
        fs->uses++;
    }
    return set(n, fs->ty ? fs->ty : err(c));
}

static Type *call_expr(Ctx *c, Node *n)
{
    Program *p = c->p;
    Node *callee = n->a;
    if (!callee) return set(n, err(c));             /* `(error)(...)`: already reported */
    if (callee->kind == N_NAME) {
        if (!param_get(c->params, callee->name) && !sym_get(&c->mod->values, callee->name)) {
            const struct Builtin *b = builtin_get(callee->name);
            if (b) return builtin_call(c, n, b);
            if (is_strategy(callee->name)) {
                Diag *g = diag_error(p->diags, DIAG_E024, n->span,
                                     "%s(...) is an assignment strategy, not a value", callee->name);
                diag_help(g, "use it after `assign`, e.g. `assign %s(team)`", callee->name);
                return set(n, err(c));
            }
            if (sym_get(&p->global[SYM_CONNECTOR], callee->name)) {
                Diag *g = diag_error(p->diags, DIAG_E024, n->span, "a connector is called through a method");
                diag_help(g, "write `call %s.METHOD(...)`", callee->name);
                return set(n, err(c));
            }
            Diag *g = diag_error(p->diags, DIAG_E024, callee->span, "unknown function '%s'", callee->name);
            if (g) {
                Suggest sg;
                suggest_init(&sg, callee->name);
                for (size_t i = 0; i < sizeof builtins / sizeof *builtins; i++) suggest_add(&sg, builtins[i].name);
                for (uint32_t i = 0; i < c->mod->values.cap; i++)
                    if (c->mod->values.slots[i] && c->mod->values.slots[i]->kind == SYM_FN)
                        suggest_add(&sg, c->mod->values.slots[i]->name);
                if (suggest_best(&sg)) diag_help(g, "did you mean '%s'?", suggest_best(&sg));
            }
            for (Node *a = n->list; a; a = a->next) chk_expr(c, a->kind == N_NAMEDARG ? a->a : a, NULL);
            return set(n, err(c));
        }
    }
    /* connector methods: connector.method(args) */
    if (callee->kind == N_MEMBER && callee->a->kind == N_NAME &&
        !param_get(c->params, callee->a->name) &&
        sym_get(&p->global[SYM_CONNECTOR], callee->a->name)) {
        Sym *cs = sym_get(&p->global[SYM_CONNECTOR], callee->a->name);
        cs->uses++;
        Node *m = NULL;
        for (Node *x = cs->decl->list2; x; x = x->next)
            if (x->name == callee->name) m = x;
        if (!m) {
            Diag *g = diag_error(p->diags, DIAG_E014, callee->span, "connector '%s' has no method '%s'",
                                 cs->name, callee->name);
            if (g) {
                Suggest sg;
                suggest_init(&sg, callee->name);
                for (Node *x = cs->decl->list2; x; x = x->next) suggest_add(&sg, x->name);
                if (suggest_best(&sg)) diag_help(g, "did you mean '%s'?", suggest_best(&sg));
                else if (!cs->decl->list2) diag_help(g, "'%s' declares no methods", cs->name);
            }
            for (Node *a = n->list; a; a = a->next) chk_expr(c, a, NULL);
            return set(n, err(c));
        }
        callee->sym = m;
        int np = ast_count(m->list), na = ast_count(n->list);
        if (np != na)
            diag_error(p->diags, DIAG_E024, n->span, "%s.%s() takes %d argument%s, not %d", cs->name, m->name,
                       np, np == 1 ? "" : "s", na);
        Node *prm = m->list;
        for (Node *a = n->list; a; a = a->next) {
            Type *want = NULL;
            if (prm) {
                Sym *e = sym_get(&p->global[SYM_ENTITY], prm->name);
                want = e && e->entity ? e->entity->ty : NULL;
                prm = prm->next;
            }
            if (np == na) chk_want(c, a, want, "this argument");
            else chk_expr(c, a, NULL);
        }
        return set(n, p->t_effect);
    }
    Type *ct = chk_expr(c, callee, NULL);
    if (ct->kind == TY_FN) return fn_call(c, n, ct->sym);
    if (ct->kind != TY_ERROR)
        diag_error(p->diags, DIAG_E024, callee->span, "%s is not a function", ty_name(ct));
    for (Node *a = n->list; a; a = a->next) chk_expr(c, a->kind == N_NAMEDARG ? a->a : a, NULL);
    return set(n, err(c));
}

/* ---- operators -------------------------------------------------------- */

static Type *binary_expr(Ctx *c, Node *n)
{
    Program *p = c->p;
    Op op = (Op)n->op;
    Type *l, *r;
    if (op == OP_AND || op == OP_OR) {
        chk_bool(c, n->a, ast_op_text(op));
        chk_bool(c, n->b, ast_op_text(op));
        return set(n, p->t_bool);
    }
    /* let a bare name on either side resolve against the other side */
    if (n->a->kind == N_NAME && n->b->kind != N_NAME) {
        r = chk_expr(c, n->b, NULL);
        Type *rb = ty_base(r);
        l = chk_expr(c, n->a, op == OP_IN && rb->kind == TY_LIST ? rb->elem : r);
    } else {
        l = chk_expr(c, n->a, NULL);
        Type *lb = ty_base(l);
        Type *ex = l;
        if (l->kind == TY_ERROR && n->b->kind == N_NAME) {
            /* `lead.senority == vp`: the field was reported; vp cannot be
             * judged without its enum, so say nothing more */
            n->b->ty = l;
            return set(n, op <= OP_IN ? p->t_bool : err(c));
        }
        if (op == OP_IN && lb->kind == TY_ENUM && n->b->kind == N_LIST) {
            for (Node *x = n->b->list; x; x = x->next) chk_expr(c, x, lb);
            Type *lt = ty_new(p, TY_LIST);
            lt->elem = lb;
            n->b->ty = lt;
            return set(n, p->t_bool);
        }
        r = chk_expr(c, n->b, ex);
    }
    if (l->kind == TY_ERROR || r->kind == TY_ERROR) {
        switch (op) {
        case OP_EQ: case OP_NE: case OP_LT: case OP_LE: case OP_GT: case OP_GE:
        case OP_CONTAINS: case OP_IN: return set(n, p->t_bool);
        default: return set(n, err(c));
        }
    }
    Type *lb = ty_base(l), *rb = ty_base(r);
    int opt = l->optional || r->optional;
    switch (op) {
    case OP_EQ: case OP_NE:
        if (!ty_comparable(l, r)) break;
        return set(n, p->t_bool);
    case OP_LT: case OP_LE: case OP_GT: case OP_GE:
        if ((ty_is_numeric(lb) && ty_is_numeric(rb)) ||
            (lb->kind == rb->kind && (lb->kind == TY_DURATION || lb->kind == TY_TIMESTAMP ||
                                      lb->kind == TY_TIMEOFDAY || lb->kind == TY_STRING)))
            return set(n, p->t_bool);
        break;
    case OP_CONTAINS:
        if (lb->kind == TY_STRING && rb->kind == TY_STRING) return set(n, p->t_bool);
        if (lb->kind == TY_LIST && (!lb->elem || ty_comparable(lb->elem, rb))) return set(n, p->t_bool);
        if (lb->kind == TY_JSON || rb->kind == TY_JSON) return set(n, p->t_bool);
        break;
    case OP_IN:
        if (rb->kind == TY_LIST && (!rb->elem || ty_comparable(lb, rb->elem))) return set(n, p->t_bool);
        if (rb->kind == TY_JSON) return set(n, p->t_bool);
        if (rb->kind != TY_LIST) {
            Diag *g = diag_error(p->diags, DIAG_E021, n->b->span, "'in' needs a list on its right, not %s",
                                 ty_name(r));
            diag_help(g, "write `x in [a, b]`, or `contains` for a substring");
            return set(n, p->t_bool);
        }
        break;
    case OP_ADD: case OP_SUB: {
        Type *t = NULL;
        if (ty_is_numeric(lb) && ty_is_numeric(rb))
            t = lb->kind == TY_INT && rb->kind == TY_INT ? p->t_int : p->t_decimal;
        else if (lb->kind == TY_DURATION && rb->kind == TY_DURATION) t = p->t_duration;
        else if (lb->kind == TY_TIMESTAMP && rb->kind == TY_DURATION) t = p->t_timestamp;
        else if (op == OP_SUB && lb->kind == TY_TIMESTAMP && rb->kind == TY_TIMESTAMP) t = p->t_duration;
        else if (op == OP_ADD && lb->kind == TY_STRING && rb->kind == TY_STRING) t = p->t_string;
        if (!t) break;
        return set(n, opt ? ty_optional(p, t) : t);
    }
    case OP_MUL: case OP_DIV: {
        Type *t = NULL;
        if (ty_is_numeric(lb) && ty_is_numeric(rb))
            t = lb->kind == TY_INT && rb->kind == TY_INT && op == OP_MUL ? p->t_int : p->t_decimal;
        else if (lb->kind == TY_DURATION && ty_is_numeric(rb)) t = p->t_duration;
        else if (op == OP_MUL && ty_is_numeric(lb) && rb->kind == TY_DURATION) t = p->t_duration;
        if (!t) break;
        return set(n, opt ? ty_optional(p, t) : t);
    }
    case OP_MOD:
        if (lb->kind == TY_INT && rb->kind == TY_INT) return set(n, opt ? ty_optional(p, p->t_int) : p->t_int);
        break;
    default:
        break;
    }
    Diag *g;
    char la[96], ra[96];
    operand(p, n->a, l, la, sizeof la);
    operand(p, n->b, r, ra, sizeof ra);
    if (op == OP_EQ || op == OP_NE || (op >= OP_LT && op <= OP_GE))
        g = diag_error(p->diags, DIAG_E020, n->span, "cannot compare %s with %s", la, ra);
    else
        g = diag_error(p->diags, DIAG_E020, n->span, "'%s' cannot combine %s and %s", ast_op_text(op), la, ra);
    if (g && (lb->kind == TY_STRING) != (rb->kind == TY_STRING) &&
        (n->a->kind == N_STRING || n->b->kind == N_STRING))
        diag_help(g, "remove the quotes to compare numbers, or compare with a string");
    return set(n, op <= OP_IN ? p->t_bool : err(c));
}

static Type *match_expr(Ctx *c, Node *n, Type *expect)
{
    Program *p = c->p;
    Type *st = chk_expr(c, n->a, NULL);
    Type *sb = ty_base(st);
    Type *rt = NULL;
    int wild = 0, nvals = 0;
    for (Node *arm = n->list; arm; arm = arm->next) {
        if (!arm->a) wild = 1;
        else if (arm->op == OP_NONE) {
            Type *pt = chk_expr(c, arm->a, st);
            if (!ty_comparable(pt, st))
                diag_error(p->diags, DIAG_E020, arm->a->span, "pattern of type %s cannot match %s",
                           ty_name(pt), ty_name(st));
            else nvals++;
        } else {
            Type *pt = chk_expr(c, arm->a, st);
            int ok = (ty_is_numeric(ty_base(pt)) && ty_is_numeric(sb)) ||
                     (ty_base(pt)->kind == sb->kind && sb->kind != TY_BOOL && sb->kind != TY_ENUM);
            if (arm->op == OP_EQ || arm->op == OP_NE) ok = ty_comparable(pt, st);
            if (!ok && pt->kind != TY_ERROR && st->kind != TY_ERROR)
                diag_error(p->diags, DIAG_E020, arm->span, "cannot compare %s with %s", ty_name(st), ty_name(pt));
        }
        Type *t = chk_expr(c, arm->b, rt ? rt : expect);
        if (!rt || rt->kind == TY_ERROR) rt = t;
        else if (t->kind == TY_ERROR) continue;
        else if (rt->kind == TY_INT && t->kind == TY_DECIMAL) rt = t;
        else if (t->optional && !rt->optional && ty_assignable(ty_optional(p, rt), t)) rt = t;
        else if (!ty_assignable(rt, t) && !(ty_is_numeric(rt) && ty_is_numeric(t)))
            diag_error(p->diags, DIAG_E021, arm->b->span, "this arm gives %s, the first gives %s",
                       ty_name(t), ty_name(rt));
    }
    if (!rt) rt = err(c);
    int exhaustive = wild || (sb->kind == TY_ENUM && nvals >= sb->nvalues) ||
                     (sb->kind == TY_BOOL && nvals >= 2);
    return set(n, exhaustive ? rt : ty_optional(p, rt));
}

Type *chk_expr(Ctx *c, Node *n, Type *expect)
{
    Program *p = c->p;
    if (!n) return err(c);
    switch ((NodeKind)n->kind) {
    case N_INT: return set(n, p->t_int);
    case N_DECIMAL: return set(n, p->t_decimal);
    case N_DURATION: return set(n, p->t_duration);
    case N_TIMEOFDAY: return set(n, p->t_timeofday);
    case N_BOOL: return set(n, p->t_bool);
    case N_NONE: return set(n, p->t_none);
    case N_STRING:
        for (Node *q = n->list; q; q = q->next) {
            if (q->kind == N_STRPART) continue;
            Type *t = chk_expr(c, q, NULL);
            TyKind k = ty_base(t)->kind;
            if (k == TY_ENTITY || k == TY_MODULE || k == TY_CONNECTOR || k == TY_FN || k == TY_EFFECT ||
                k == TY_EVENT || k == TY_INTENT || k == TY_TOUCH || k == TY_LIST)
                diag_error(p->diags, DIAG_E021, q->span, "%s cannot be put in a string", ty_name(t));
        }
        return set(n, p->t_string);
    case N_NAME:
        if (c->constant && !(expect && ty_base(expect)->kind == TY_ENUM)) {
            Sym *s = sym_get(&c->mod->values, n->name);
            if (!s || (s->kind != SYM_CONST && s->kind != SYM_MODULE)) {
                Type *t = name_expr(c, n, expect);
                if (t->kind != TY_ERROR && !(n->flags & 1)) {
                    diag_error(p->diags, DIAG_E021, n->span, "'%s' is not a constant", n->name);
                    return set(n, err(c));
                }
                return t;
            }
        }
        return name_expr(c, n, expect);
    case N_EVENTREF:
        if (c->event) return set(n, c->event);
        {
            Diag *g = diag_error(p->diags, DIAG_E013, n->span, "there is no event here");
            diag_help(g, "%s", c->no_event ? c->no_event : "`event` is the event a rule runs on");
        }
        return set(n, err(c));
    case N_MEMBER: return member_expr(c, n);
    case N_CALL: return call_expr(c, n);
    case N_NAMEDARG:
        diag_error(p->diags, DIAG_E024, n->span, "a named argument is only for assignment strategies");
        chk_expr(c, n->a, NULL);
        return set(n, err(c));
    case N_UNARY: {
        if (n->op == OP_NOT) { chk_bool(c, n->a, "not"); return set(n, p->t_bool); }
        Type *t = chk_expr(c, n->a, NULL);
        Type *b = ty_base(t);
        if (ty_is_numeric(b) || b->kind == TY_DURATION)
            return set(n, b->kind == TY_SCORE ? p->t_decimal : t);
        diag_error(p->diags, DIAG_E021, n->span, "'-' needs a number, not %s", ty_name(t));
        return set(n, err(c));
    }
    case N_BINARY: return binary_expr(c, n);
    case N_LIST: {
        Type *et = expect && ty_base(expect)->kind == TY_LIST ? ty_base(expect)->elem : NULL;
        Type *first = NULL;
        for (Node *x = n->list; x; x = x->next) {
            Type *t = chk_expr(c, x, et ? et : first);
            if (!first || first->kind == TY_ERROR) first = t;
            else if (t->kind != TY_ERROR && !ty_comparable(first, t))
                diag_error(p->diags, DIAG_E021, x->span, "list items must share a type: %s, then %s",
                           ty_name(first), ty_name(t));
        }
        Type *lt = ty_new(p, TY_LIST);
        lt->elem = first ? ty_base(first) : NULL;
        return set(n, lt);
    }
    case N_MATCH: return match_expr(c, n, expect);
    case N_RECORD:
        diag_error(p->diags, DIAG_E021, n->span, "a record is not a value here");
        return set(n, err(c));
    case N_ERROR:
        return set(n, err(c));
    default:
        return set(n, err(c));
    }
}

Type *chk_want(Ctx *c, Node *n, Type *want, const char *what)
{
    Type *t = chk_expr(c, n, want);
    if (!want || t->kind == TY_ERROR || ty_assignable(want, t)) return t;
    Type *tb = ty_base(t), *wb = ty_base(want);
    Diag *g = diag_error(c->p->diags, DIAG_E021, n->span, "%s must be %s, not %s", what, ty_name(want), ty_name(t));
    if (g) {
        if (tb->kind == TY_DURATION && ty_is_numeric(wb))
            diag_help(g, "a duration such as 30d is a length of time; write a plain number here");
        else if (ty_is_numeric(tb) && wb->kind == TY_DURATION && n->kind == N_INT)
            diag_help(g, "give the unit: %lldd, %lldh or %lldm", (long long)n->num, (long long)n->num,
                      (long long)n->num);
        else if (t->optional && ty_assignable(want, tb))
            diag_help(g, "the value may be missing; use coalesce(value, default)");
    }
    return c->p->t_error;
}

void chk_bool(Ctx *c, Node *n, const char *what)
{
    Type *t = chk_expr(c, n, c->p->t_bool);
    Type *b = ty_base(t);
    if (b->kind == TY_BOOL || b->kind == TY_ERROR || b->kind == TY_JSON) return;
    Diag *g = diag_error(c->p->diags, DIAG_E021, n->span, "%s needs a condition (bool), not %s", what, ty_name(t));
    if (g && n->kind == N_BINARY && n->op == OP_ADD) diag_help(g, "did you mean 'and'?");
}

int64_t chk_const_int(Ctx *c, Node *n, int64_t dflt)
{
    if (!n) return dflt;
    if (n->kind == N_INT || n->kind == N_DURATION) return n->num;
    if (n->kind == N_NAME && n->sym && ((Sym *)n->sym)->kind == SYM_CONST) {
        Node *v = ((Sym *)n->sym)->decl->a;
        if (v && v->kind != N_NAME) return chk_const_int(c, v, dflt);
    }
    return dflt;
}
