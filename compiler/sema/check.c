/*
 * check.c - checking declarations: every clause, trigger and action.
 *
 * Runs after resolve.c has filled the tables.  Each declaration is checked
 * in a context (check.h) saying which entity the block is for and which
 * event, if any, `event` refers to; expressions are typed by
 * check_expr.c, test blocks by check_test.c.  Every error is reported and
 * checking carries on.
 */
#include "sema/check.h"

#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

static Diag *err_at(Ctx *c, DiagCode code, Span sp, const char *fmt, const char *a, const char *b)
{
    return diag_error(c->p->diags, code, sp, fmt, a, b);
}

/* ---- consts, fns, derives ---------------------------------------------- */

void chk_const(Ctx *c, Sym *s)
{
    if (s->state == 2) return;
    if (s->state == 1) {
        Diag *g = diag_error(c->p->diags, DIAG_E028, s->decl->span, "const '%s' is defined through itself", s->name);
        (void)g;
        s->ty = c->p->t_error;
        s->state = 2;
        return;
    }
    s->state = 1;
    Ctx sub = *c;
    sub.mod = s->mod;
    sub.constant = 1;
    sub.ent = NULL;
    sub.event = NULL;
    sub.params = NULL;
    sub.no_event = "a const cannot read an event";
    s->ty = chk_expr(&sub, s->decl->a, NULL);
    s->state = 2;
}

void chk_fn(Ctx *c, Sym *s)
{
    if (s->state == 2) return;
    if (s->state == 1) {
        Diag *g = diag_error(c->p->diags, DIAG_E028, s->decl->span, "fn '%s' calls itself", s->name);
        diag_help(g, "functions may not recurse, directly or through others: evaluation must be bounded");
        s->state = 3;                               /* reported */
        return;
    }
    if (s->state == 3) return;
    s->state = 1;
    Node *d = s->decl;
    for (Node *q = d->list; q; q = q->next) {
        q->ty = res_type(c->p, q->a, q->name);
        for (Node *r = d->list; r != q; r = r->next)
            if (r->name == q->name)
                diag_error(c->p->diags, DIAG_E022, q->span, "parameter '%s' is listed twice", q->name);
    }
    s->ty = res_type(c->p, d->a, NULL);
    Ctx sub = *c;
    sub.mod = s->mod;
    sub.params = d->list;
    sub.fn = s;
    sub.ent = NULL;
    sub.event = NULL;
    sub.constant = 0;
    sub.no_event = "a fn sees only its parameters";
    chk_want(&sub, d->b, s->ty, "the result");
    if (s->state == 1) s->state = 2;
}

static Module *module_of(Program *p, Node *decl)
{
    for (int i = 0; i < p->nmods; i++)
        for (int j = 0; j < p->mods[i]->nfiles; j++)
            if (p->mods[i]->files[j]->span.file == decl->span.file) return p->mods[i];
    return p->nmods ? p->mods[0] : NULL;
}

void chk_derive(Program *p, Node *d)
{
    Node *t = d->a;
    /* a malformed target (`derive grade = ...`) was reported by resolve.c */
    if (!t || t->kind != N_MEMBER || !t->a || t->a->kind != N_NAME) return;
    Sym *es = sym_get(&p->global[SYM_ENTITY], t->a->name);
    if (!es || !es->entity) return;
    Field *f = ty_ent_field(es->entity, t->name);
    if (!f || f->decl != d || f->ty) return;
    f->checking = 1;
    Ctx c;
    memset(&c, 0, sizeof c);
    c.p = p;
    c.mod = module_of(p, d);
    c.ent = es->entity;
    c.no_event = "a derived field depends on state, not on an event";
    Type *ty = chk_expr(&c, d->b, NULL);
    if (!f->ty) f->ty = ty;
    f->checking = 0;
}

/* ---- small helpers ------------------------------------------------------ */

static int is_env_call(Node *n)
{
    return n && n->kind == N_CALL && n->a->kind == N_NAME && !strcmp(n->a->name, "env");
}

/* Settings that hold secrets or endpoints must come from env(). */
static void want_env(Ctx *c, Node *n, const char *what)
{
    if (!n) return;
    Ctx sub = *c;
    sub.config = 1;
    chk_want(&sub, n, c->p->t_string, what);
    if (!is_env_call(n)) {
        Diag *g = diag_error(c->p->diags, DIAG_E029, n->span, "%s must come from the environment", what);
        diag_help(g, "write env(\"NAME\") and set NAME where dnad runs");
    }
}

static void want_duration(Ctx *c, Node *n, const char *what)
{
    chk_want(c, n, c->p->t_duration, what);
}

static void want_count(Ctx *c, Node *n, const char *what)
{
    Type *t = chk_want(c, n, c->p->t_int, what);
    if (t->kind == TY_INT && chk_const_int(c, n, 1) <= 0)
        diag_error(c->p->diags, DIAG_E025, n->span, "%s must be at least 1", what);
}

static int one_of(const char *s, const char *const *set)
{
    for (; *set; set++)
        if (!strcmp(s, *set)) return 1;
    return 0;
}

static void bad_word(Ctx *c, Span sp, const char *what, const char *word, const char *const *set)
{
    char buf[256];
    int off = 0;
    for (const char *const *s = set; *s && off < 200; s++)
        off += snprintf(buf + off, sizeof buf - off, "%s%s", s == set ? "" : ", ", *s);
    Diag *g = diag_error(c->p->diags, DIAG_E025, sp, "'%s' is not a %s", word, what);
    Suggest sg;
    suggest_init(&sg, word);
    for (const char *const *s = set; *s; s++) suggest_add(&sg, *s);
    if (suggest_best(&sg)) diag_help(g, "did you mean '%s'?", suggest_best(&sg));
    else diag_help(g, "one of: %s", buf);
}

static Entity *block_entity(Ctx *c, Node *d, const char *what)
{
    return res_entity(c->p, d->name2, d->c ? d->c->span : d->span, what);
}

Sym *chk_event_named(Ctx *c, Node *n)
{
    Sym *s = sym_get(&c->p->global[SYM_EVENT], n->name);
    if (s) { s->uses++; return s; }
    Diag *g = diag_error(c->p->diags, DIAG_E010, n->span, "unknown event '%s'", n->name);
    chk_suggest_tab(g, &c->p->global[SYM_EVENT], n->name);
    return NULL;
}

/* `on X`: an event name, or ENTITY.changed / ENTITY.created. */
static void rule_event(Ctx *c, Node *on)
{
    c->event = NULL;
    c->no_event = NULL;
    if (!on) return;
    if (on->kind == N_NAME) {
        Sym *s = chk_event_named(c, on);
        on->sym = s;
        c->event = s ? s->ty : c->p->t_error;
        return;
    }
    if (on->kind == N_MEMBER && on->a->kind == N_NAME) {
        if (!strcmp(on->name, "changed") || !strcmp(on->name, "created")) {
            if (!c->ent || on->a->name != c->ent->sym->name) {
                Diag *g = diag_error(c->p->diags, DIAG_E015, on->a->span, "'%s.%s' is not about this block's entity",
                                     on->a->name, on->name);
                if (c->ent) diag_help(g, "write `on %s.%s`", c->ent->sym->name, on->name);
            }
            c->no_event = "this rule runs on a change of state, not on an event; read the entity instead";
            return;
        }
        Diag *g = diag_error(c->p->diags, DIAG_E010, on->span, "'%s.%s' is not an event",
                             on->a->name, on->name);
        diag_help(g, "rules run on an event name, or on ENTITY.changed / ENTITY.created");
        return;
    }
    diag_error(c->p->diags, DIAG_E010, on->span, "expected an event name here");
}

/* ---- scoring, intent, signals -------------------------------------------- */

static const char *const calendar_units[] = { "day", "week", "month", NULL };
static const char *const decay_kinds[] = { "linear", "half_life", NULL };
static const char *const priorities[] = { "critical", "high", "medium", "low", NULL };

static void check_rule(Ctx *c, Node *r)
{
    rule_event(c, r->a);
    if (r->b) chk_bool(c, r->b, "when");
    if (r->c) {
        Type *t = chk_expr(c, r->c, c->p->t_decimal);
        if (t->kind != TY_ERROR && (!ty_is_numeric(ty_base(t)) || t->optional)) {
            Diag *g = diag_error(c->p->diags, DIAG_E021, r->c->span, "add needs a number of points, not %s", ty_name(t));
            if (ty_base(t)->kind == TY_DURATION)
                diag_help(g, "a duration such as 30d is a length of time; write the points as a plain number");
            else if (t->optional) diag_help(g, "the value may be missing; use coalesce(value, 0)");
        }
    }
    int seen[4] = { 0 };
    for (Node *o = r->list; o; o = o->next) {
        int k = o->kind == N_LIMIT ? 0 : o->kind == N_EXPIRE ? 1 : o->kind == N_DECAY ? 2 : 3;
        if (seen[k]++) diag_error(c->p->diags, DIAG_E023, o->span, "%s is given twice", ast_kind_name(o->kind));
        if (k == 1 && seen[2]) diag_error(c->p->diags, DIAG_E023, o->span, "points either expire or decay, not both");
        if (k == 2 && seen[1]) diag_error(c->p->diags, DIAG_E023, o->span, "points either expire or decay, not both");
        switch (o->kind) {
        case N_LIMIT:
            want_count(c, o->a, "the limit");
            if (!one_of(o->name, calendar_units) && !(c->ent && o->name == c->ent->sym->name)) {
                const char *set[] = { "day", "week", "month", c->ent ? c->ent->sym->name : "lead", NULL };
                bad_word(c, o->span, "limit window", o->name, set);
            }
            break;
        case N_EXPIRE: want_duration(c, o->a, "expire"); break;
        case N_DECAY:
            if (!o->name) {
                Diag *g = diag_error(c->p->diags, DIAG_E025, o->span, "say how points decay");
                diag_help(g, "write `decay linear 72h` or `decay half_life 7d`");
            } else if (!one_of(o->name, decay_kinds)) bad_word(c, o->span, "decay kind", o->name, decay_kinds);
            want_duration(c, o->a, "decay");
            break;
        case N_PRIORITY: chk_want(c, o->a, c->p->t_int, "priority"); break;
        default: break;
        }
    }
}

static void check_rules(Ctx *c, Node *rules)
{
    for (Node *r = rules; r; r = r->next) check_rule(c, r);
}

static void check_signal(Ctx *c, Node *d)
{
    c->ent = block_entity(c, d, "signal");
    int non = 0, nweight = 0, ndecay = 0, nprio = 0;
    for (Node *x = d->list; x; x = x->next) {
        switch (x->kind) {
        case N_ON:
            non++;
            rule_event(c, x->a);
            if (x->b) chk_bool(c, x->b, "when");
            break;
        case N_WEIGHT:
            if (nweight++) diag_error(c->p->diags, DIAG_E023, x->span, "weight is given twice");
            c->event = NULL; c->no_event = "the weight is a number";
            chk_want(c, x->a, c->p->t_decimal, "weight");
            break;
        case N_DECAY:
            if (ndecay++) diag_error(c->p->diags, DIAG_E023, x->span, "decay is given twice");
            if (x->name && strcmp(x->name, "linear"))
                bad_word(c, x->span, "signal decay (signals decay linearly)", x->name, (const char *const[]){ "linear", NULL });
            want_duration(c, x->a, "decay");
            break;
        case N_PRIORITY:
            if (nprio++) diag_error(c->p->diags, DIAG_E023, x->span, "priority is given twice");
            if (!one_of(x->name, priorities)) bad_word(c, x->span, "priority", x->name, priorities);
            break;
        default: break;
        }
    }
    if (!non) err_at(c, DIAG_E023, d->span, "signal '%s' has no `on` clause%s", d->name, "");
    if (!nweight) err_at(c, DIAG_E023, d->span, "signal '%s' has no weight%s", d->name, "");
    if (!nprio) {
        Diag *g = err_at(c, DIAG_E023, d->span, "signal '%s' has no priority%s", d->name, "");
        diag_help(g, "add `priority critical|high|medium|low`: it sets the alert's deadline");
    }
}

/* ---- actions ---------------------------------------------------------------- */

static void check_strategy(Ctx *c, Node *call)
{
    Program *p = c->p;
    const char *name = call->a->name;
    if (!one_of(name, (const char *const[]){ "round_robin", "weighted", "territory", "skill_based", "least_loaded", NULL })) {
        bad_word(c, call->a->span, "assignment strategy", name,
                 (const char *const[]){ "round_robin", "weighted", "territory", "skill_based", "least_loaded", NULL });
        return;
    }
    Node *team = call->list;
    if (!team || team->kind != N_NAME) {
        Diag *g = diag_error(p->diags, DIAG_E024, call->span, "%s() needs a team as its first argument", name);
        diag_help(g, "write `%s(TEAM)`", name);
        return;
    }
    Sym *ts = chk_lookup_global(c, SYM_TEAM, team->name, team->span, DIAG_E018, "team");
    team->sym = ts;
    for (Node *a = team->next; a; a = a->next) {
        if (a->kind != N_NAMEDARG) {
            diag_error(p->diags, DIAG_E024, a->span, "%s() takes the team, then named arguments", name);
            chk_expr(c, a, NULL);
            continue;
        }
        if (!strcmp(a->name, "region")) chk_want(c, a->a, ty_optional(p, p->t_string), "region");
        else if (!strcmp(a->name, "skills")) {
            Type *lt = ty_new(p, TY_LIST);
            lt->elem = p->t_string;
            if (a->a->kind == N_LIST) {
                for (Node *x = a->a->list; x; x = x->next)
                    if (x->kind != N_NAME && x->kind != N_STRING)
                        diag_error(p->diags, DIAG_E021, x->span, "a skill is a name");
            } else chk_want(c, a->a, lt, "skills");
        } else {
            Diag *g = diag_error(p->diags, DIAG_E024, a->span, "%s() has no argument '%s'", name, a->name);
            diag_help(g, "the named arguments are region: and skills:");
        }
    }
}

static void check_target_field(Ctx *c, Node *t, Type **out)
{
    Type *tt = chk_expr(c, t, NULL);
    *out = tt;
    if (tt->kind == TY_ERROR) return;
    Field *f = t->kind == N_MEMBER ? t->sym : NULL;
    if (!f || t->a->ty == NULL || ty_base(t->a->ty)->kind != TY_ENTITY) {
        Diag *g = diag_error(c->p->diags, DIAG_E030, t->span, "only an entity field can be set");
        diag_help(g, "write `set %s.FIELD = value`", c->ent ? c->ent->sym->name : "lead");
        *out = c->p->t_error;
        return;
    }
    if (f->kind == FLD_BUILTIN || f->kind == FLD_DERIVED) {
        Diag *g = diag_error(c->p->diags, DIAG_E030, t->span, "'%s' is %s; it cannot be set", f->name,
                             f->kind == FLD_DERIVED ? "derived" : "computed by the engine");
        if (!strcmp(f->name, "owner")) diag_help(g, "use `assign` to set the owner");
        else if (!strcmp(f->name, "pipeline")) diag_help(g, "use `pipeline \"NAME\"` or `route`");
        *out = c->p->t_error;
    }
}

static void check_actions(Ctx *c, Node *acts);

static void check_action(Ctx *c, Node *a)
{
    Program *p = c->p;
    switch ((ActKind)a->op) {
    case ACT_SET: {
        Type *tt;
        check_target_field(c, a->a, &tt);
        chk_want(c, a->b, tt, "the value");
        break;
    }
    case ACT_MOVE: {
        Type *tt = chk_expr(c, a->a, NULL);
        Type *tb = ty_base(tt);
        if (tb->kind == TY_ENTITY) {
            Field *st = ty_ent_field(tb->entity, I("stage"));
            if (!st) {
                diag_error(p->diags, DIAG_E011, a->a->span, "'%s' has no stage to move", tb->entity->sym->name);
                chk_expr(c, a->b, NULL);
            } else chk_want(c, a->b, st->ty, "the stage");
        } else if (tt->kind != TY_ERROR) {
            Diag *g = diag_error(p->diags, DIAG_E021, a->a->span, "move needs an entity with a stage, not %s", ty_name(tt));
            diag_help(g, "write `move deal to proposal`");
            chk_expr(c, a->b, NULL);
        }
        break;
    }
    case ACT_ASSIGN:
        if (a->a->kind == N_CALL && a->a->a->kind == N_NAME && !sym_get(&c->mod->values, a->a->a->name))
            check_strategy(c, a->a);
        else
            chk_want(c, a->a, ty_optional(p, p->t_string), "the owner");
        break;
    case ACT_ROUTE: break;
    case ACT_PIPELINE: chk_want(c, a->a, p->t_string, "the pipeline"); break;
    case ACT_CREATE:
        if (strcmp(a->name, "deal")) {
            Diag *g = diag_error(p->diags, DIAG_E025, a->span, "cannot create '%s'", a->name);
            diag_help(g, "actions create a `deal` or a `task \"TITLE\"`");
        } else if (!sym_get(&p->global[SYM_ENTITY], a->name)) {
            diag_error(p->diags, DIAG_E015, a->span, "create deal needs an entity named 'deal'");
        }
        break;
    case ACT_TASK:
        chk_want(c, a->a, p->t_string, "the task title");
        if (a->b) want_duration(c, a->b, "due");
        if (a->c) chk_want(c, a->c, ty_optional(p, p->t_string), "the assignee");
        break;
    case ACT_NOTIFY: {
        Sym *cs = a->a->kind == N_NAME ? sym_get(&p->global[SYM_CONNECTOR], a->a->name) : NULL;
        if (cs) {
            cs->uses++;
            a->a->sym = cs;
            a->a->ty = p->t_effect;
            if (!a->b) {
                Diag *g = diag_error(p->diags, DIAG_E023, a->span, "notify through a connector needs a channel");
                diag_help(g, "write `notify %s \"#channel\" \"message\"`", cs->name);
            } else chk_want(c, a->b, p->t_string, "the channel");
        } else {
            if (a->a->kind == N_NAME && !sym_get(&c->mod->values, a->a->name) &&
                !(c->ent && c->ent->sym->name == a->a->name)) {
                Diag *g = diag_error(p->diags, DIAG_E014, a->a->span, "unknown connector '%s'", a->a->name);
                chk_suggest_tab(g, &p->global[SYM_CONNECTOR], a->a->name);
                a->a->ty = p->t_error;
            } else {
                chk_want(c, a->a, ty_optional(p, p->t_string), "the recipient");
            }
            if (a->b) {
                Diag *g = diag_error(p->diags, DIAG_E023, a->b->span, "a channel is only for a connector");
                diag_help(g, "write `notify CONNECTOR \"#channel\" \"message\"`, or `notify OWNER \"message\"`");
            }
        }
        chk_want(c, a->c, p->t_string, "the message");
        break;
    }
    case ACT_WEBHOOK: {
        Span sp = a->span;
        Sym *cs = chk_lookup_global(c, SYM_CONNECTOR, a->name, sp, DIAG_E014, "connector");
        if (cs && cs->decl->name2 && strcmp(cs->decl->name2, "webhook") && strcmp(cs->decl->name2, "slack_webhook"))
            err_at(c, DIAG_E014, sp, "connector '%s' is a %s connector, not a webhook", cs->name, cs->decl->name2);
        if (a->a) chk_want(c, a->a, p->t_string, "the webhook's event name");
        break;
    }
    case ACT_CALL: {
        Node *x = a->a;
        if (x->kind != N_CALL) {
            Diag *g = diag_error(p->diags, DIAG_E024, x->span, "call needs a connector method call");
            diag_help(g, "write `call CONNECTOR.METHOD(args)`");
            chk_expr(c, x, NULL);
            break;
        }
        Type *t = chk_expr(c, x, NULL);
        if (t->kind != TY_EFFECT && t->kind != TY_ERROR) {
            Diag *g = diag_error(p->diags, DIAG_E024, x->span, "call is for connector methods, not %s", ty_name(t));
            diag_help(g, "write `call CONNECTOR.METHOD(args)`");
        }
        break;
    }
    case ACT_ENROLL: {
        Sym *s = chk_lookup_global(c, SYM_SEQUENCE, a->name, a->span, DIAG_E019, "sequence");
        if (s && c->ent && s->decl->name2 != c->ent->sym->name)
            err_at(c, DIAG_E019, a->span, "sequence '%s' is for %s", s->name, s->decl->name2);
        break;
    }
    case ACT_EMIT: {
        Node fake = *a;
        fake.kind = N_NAME;
        Sym *ev = chk_event_named(c, &fake);
        if (ev && a->a) {
            for (Node *kv = a->a->list; kv; kv = kv->next) {
                Node *f = NULL;
                for (Node *x = ev->decl->list; x; x = x->next)
                    if (x->name == kv->name) f = x;
                if (!f) {
                    Diag *g = diag_error(p->diags, DIAG_E011, kv->span, "event '%s' has no field '%s'", ev->name, kv->name);
                    if (g) {
                        Suggest sg;
                        suggest_init(&sg, kv->name);
                        for (Node *x = ev->decl->list; x; x = x->next) suggest_add(&sg, x->name);
                        if (suggest_best(&sg)) diag_help(g, "did you mean '%s'?", suggest_best(&sg));
                    }
                    chk_expr(c, kv->a, NULL);
                    continue;
                }
                chk_want(c, kv->a, res_type(p, f->a, f->name), "the field value");
            }
        }
        break;
    }
    }
}

static void check_actions(Ctx *c, Node *acts)
{
    for (Node *a = acts; a; a = a->next) check_action(c, a);
}

/* ---- routes and workflows ------------------------------------------------- */

static void check_route(Ctx *c, Node *d)
{
    c->ent = block_entity(c, d, "route");
    c->event = NULL;
    c->no_event = "routing runs on the entity's state, not on one event";
    int nwhen = 0, nmatch = 0, nelse = 0, ndo = 0;
    for (Node *x = d->list; x; x = x->next) {
        switch (x->kind) {
        case N_WHEN:
            if (nwhen++) diag_error(c->p->diags, DIAG_E023, x->span, "route has two `when` clauses");
            chk_bool(c, x->a, "when");
            break;
        case N_RMATCH: {
            if (nmatch++) diag_error(c->p->diags, DIAG_E023, x->span, "route has two `match` clauses");
            if (ndo) diag_error(c->p->diags, DIAG_E023, x->span, "route has both `match` and `do`");
            Type *st = chk_expr(c, x->a, NULL);
            for (Node *arm = x->list; arm; arm = arm->next) {
                if (arm->a) {
                    Node pat = *arm->a;
                    pat.kind = N_NAME;
                    Type *pt = chk_expr(c, &pat, st);
                    if (pt->kind != TY_ERROR && !ty_comparable(pt, st))
                        diag_error(c->p->diags, DIAG_E020, arm->a->span, "pattern '%s' cannot match %s",
                                   arm->a->name, ty_name(st));
                    for (Node *o = x->list; o != arm; o = o->next)
                        if (o->a && o->a->name == arm->a->name)
                            diag_error(c->p->diags, DIAG_E022, arm->a->span, "'%s' has an arm already", arm->a->name);
                }
                check_actions(c, arm->list);
            }
            break;
        }
        case N_ELSE:
            if (nelse++) diag_error(c->p->diags, DIAG_E023, x->span, "route has two `else` clauses");
            check_actions(c, x->list);
            break;
        case N_DO:
            ndo++;
            check_actions(c, x->list);
            break;
        default: break;
        }
    }
    if (!nwhen) {
        Diag *g = diag_error(c->p->diags, DIAG_E023, d->span, "route for '%s' has no `when`", d->name2);
        diag_help(g, "say when an entity qualifies, e.g. `when %s.score >= 40`", d->name2);
    }
    if (!nmatch && !ndo) {
        Diag *g = diag_error(c->p->diags, DIAG_E023, d->span, "route for '%s' routes nowhere", d->name2);
        diag_help(g, "add `match EXPR { VALUE -> pipeline \"NAME\" assign ... }` or `do pipeline \"NAME\"`");
    }
}

static int cron_field_ok(const char *f, size_t n, int lo, int hi)
{
    /* each comma-separated item: *, N, A-B, optionally followed by /STEP */
    size_t i = 0;
    while (i < n) {
        size_t j = i;
        while (j < n && f[j] != ',') j++;
        const char *s = f + i;
        size_t len = j - i;
        if (!len) return 0;
        int a = lo, b = hi, step = 1;
        size_t k = 0;
        if (s[0] == '*') k = 1;
        else {
            if (k >= len || s[k] < '0' || s[k] > '9') return 0;
            a = 0;
            while (k < len && s[k] >= '0' && s[k] <= '9') { a = a * 10 + (s[k] - '0'); k++; if (a > 1000) return 0; }
            b = a;
            if (k < len && s[k] == '-') {
                k++;
                if (k >= len || s[k] < '0' || s[k] > '9') return 0;
                b = 0;
                while (k < len && s[k] >= '0' && s[k] <= '9') { b = b * 10 + (s[k] - '0'); k++; if (b > 1000) return 0; }
            }
        }
        if (k < len && s[k] == '/') {
            k++;
            if (k >= len) return 0;
            step = 0;
            while (k < len && s[k] >= '0' && s[k] <= '9') { step = step * 10 + (s[k] - '0'); k++; if (step > 1000) return 0; }
            if (!step) return 0;
        }
        if (k != len || a < lo || b > hi || a > b) return 0;
        i = j + 1;
        if (j == n) break;
        if (i == n) return 0;
    }
    return n > 0;
}

/* Five fields: minute hour day-of-month month day-of-week. */
static const char *cron_error(const char *s)
{
    static const int lo[5] = { 0, 0, 1, 1, 0 }, hi[5] = { 59, 23, 31, 12, 7 };
    static const char *const names[5] = { "minute (0-59)", "hour (0-23)", "day of month (1-31)",
                                          "month (1-12)", "day of week (0-7)" };
    int k = 0;
    while (*s) {
        while (*s == ' ') s++;
        if (!*s) break;
        const char *e = s;
        while (*e && *e != ' ') e++;
        if (k >= 5) return "a schedule has five fields: minute hour day month weekday";
        if (!cron_field_ok(s, (size_t)(e - s), lo[k], hi[k])) return names[k];
        k++;
        s = e;
    }
    return k == 5 ? NULL : "a schedule has five fields: minute hour day month weekday";
}

static void check_trigger(Ctx *c, Node *t)
{
    Program *p = c->p;
    c->event = NULL;
    c->no_event = "this workflow runs on a change of state or a timer, not on an event";
    switch ((TrigKind)t->op) {
    case TRIG_EVENT:
        rule_event(c, t->a);
        break;
    case TRIG_CROSSES_ABOVE: case TRIG_CROSSES_BELOW: {
        Type *v = chk_expr(c, t->a, NULL);
        if (v->kind != TY_ERROR && !ty_is_numeric(ty_base(v)))
            diag_error(p->diags, DIAG_E021, t->a->span, "crosses needs a number to watch, not %s", ty_name(v));
        chk_want(c, t->b, p->t_decimal, "the threshold");
        break;
    }
    case TRIG_BECOMES: case TRIG_STAYS: {
        Type *v = chk_expr(c, t->a, NULL);
        if (t->a->kind != N_MEMBER && v->kind != TY_ERROR)
            diag_error(p->diags, DIAG_E021, t->a->span, "a state trigger watches a field, e.g. %s",
                       "deal.stage");
        chk_want(c, t->b, ty_base(v), "the value");
        if (t->op == TRIG_STAYS) want_duration(c, t->c, "the time");
        break;
    }
    case TRIG_CHANGES: {
        Type *v = chk_expr(c, t->a, NULL);
        if (t->a->kind != N_MEMBER && v->kind != TY_ERROR)
            diag_error(p->diags, DIAG_E021, t->a->span, "changes watches a field, e.g. %s", "lead.status");
        break;
    }
    case TRIG_INACTIVE:
        if (t->a->kind != N_NAME || !c->ent || t->a->name != c->ent->sym->name) {
            Diag *g = diag_error(p->diags, DIAG_E021, t->a->span, "inactive watches the block's entity%s", "");
            diag_help(g, "write `on %s inactive for 30d`", c->ent ? c->ent->sym->name : "lead");
        }
        want_duration(c, t->c, "the time");
        break;
    case TRIG_OVERDUE:
        if (t->name) {
            Span sp = t->span;
            chk_lookup_global(c, SYM_SIGNAL, t->name, sp, DIAG_E027, "signal");
        }
        break;
    case TRIG_SCHEDULE: {
        const char *why = t->b->list ? "a schedule cannot be a template" : cron_error(t->b->name);
        if (why) {
            Diag *g = diag_error(p->diags, DIAG_E025, t->b->span, "invalid schedule: %s", why);
            diag_help(g, "cron fields: minute hour day month weekday, e.g. \"0 8 * * 1-5\"");
        }
        break;
    }
    }
}

static const char *const modes[] = { "live", "approval", "shadow", NULL };

static void check_workflow(Ctx *c, Node *d)
{
    c->ent = block_entity(c, d, "workflow");
    Node *trig = NULL;
    int nwhen = 0, nmode = 0, ndo = 0, nprio = 0;
    /* the trigger decides what `event` means, so check it first */
    for (Node *x = d->list; x; x = x->next) {
        if (x->kind != N_TRIGGER) continue;
        if (trig) {
            Diag *g = diag_error(c->p->diags, DIAG_E023, x->span, "workflow '%s' has two triggers", d->name);
            diag_help(g, "one trigger per workflow; write a second workflow for the other");
            continue;
        }
        trig = x;
        check_trigger(c, x);
    }
    if (!trig) {
        Diag *g = diag_error(c->p->diags, DIAG_E023, d->span, "workflow '%s' has no trigger", d->name);
        diag_help(g, "start it with `on EVENT`, `on %s.FIELD crosses above N`, `on schedule \"...\"`, ...",
                  d->name2);
    }
    for (Node *x = d->list; x; x = x->next) {
        switch (x->kind) {
        case N_WHEN:
            if (nwhen++) diag_error(c->p->diags, DIAG_E023, x->span, "workflow has two `when` clauses");
            chk_bool(c, x->a, "when");
            break;
        case N_MODE:
            if (nmode++) diag_error(c->p->diags, DIAG_E023, x->span, "workflow has two modes");
            if (!one_of(x->name, modes)) bad_word(c, x->span, "mode", x->name, modes);
            break;
        case N_PRIORITY:
            if (nprio++) diag_error(c->p->diags, DIAG_E023, x->span, "workflow has two priorities");
            chk_want(c, x->a, c->p->t_int, "priority");
            break;
        case N_DO:
            ndo++;
            check_actions(c, x->list);
            break;
        default: break;
        }
    }
    if (!ndo) {
        Diag *g = diag_error(c->p->diags, DIAG_E023, d->span, "workflow '%s' does nothing", d->name);
        diag_help(g, "add `do ACTION ...`");
    }
}

/* ---- sources, connectors, teams, sequences -------------------------------- */

static const char *const sig_schemes[] = { "hmac_sha256", "standard_webhooks", NULL };

static void check_source(Ctx *c, Node *d)
{
    Program *p = c->p;
    c->ent = NULL;
    c->event = NULL;
    c->no_event = "a source maps a request body: read it through `body`";
    int npath = 0, nsig = 0;
    Node *tolerance = NULL;
    const char *scheme = NULL;
    for (Node *x = d->list; x; x = x->next) {
        switch (x->kind) {
        case N_OPTION:
            if (!strcmp(x->name, "tolerance")) tolerance = x;
            if (!strcmp(x->name, "path")) {
                npath++;
                Type *t = chk_want(c, x->a, p->t_string, "path");
                if (t->kind == TY_STRING && x->a->kind == N_STRING && x->a->name && x->a->name[0] != '/')
                    diag_error(p->diags, DIAG_E025, x->a->span, "a path starts with '/'%s", "");
            } else want_duration(c, x->a, "tolerance");
            break;
        case N_SIGNATURE: {
            if (nsig++) diag_error(p->diags, DIAG_E023, x->span, "source has two signatures");
            scheme = x->name;
            if (!one_of(x->name, sig_schemes)) bad_word(c, x->span, "signature scheme", x->name, sig_schemes);
            int has_secret = 0;
            for (Node *o = x->list; o; o = o->next) {
                if (!strcmp(o->name, "secret")) { has_secret = 1; want_env(c, o->a, "the secret"); }
                else if (!strcmp(o->name, "header") || !strcmp(o->name, "prefix"))
                    chk_want(c, o->a, p->t_string, o->name);
                else if (!strcmp(o->name, "encoding")) {
                    if (o->a->kind != N_NAME || !one_of(o->a->name, (const char *const[]){ "hex", "base64", NULL }))
                        diag_error(p->diags, DIAG_E025, o->a->span, "encoding is hex or base64%s", "");
                } else {
                    Diag *g = diag_error(p->diags, DIAG_E023, o->span, "unknown signature setting '%s'", o->name);
                    diag_help(g, "settings: header, secret, encoding, prefix");
                    Ctx sub = *c; sub.config = 1;
                    chk_expr(&sub, o->a, NULL);
                }
            }
            if (!has_secret) {
                Diag *g = diag_error(p->diags, DIAG_E023, x->span, "a signature needs a secret%s", "");
                diag_help(g, "add `secret env(\"NAME\")`");
            }
            break;
        }
        case N_EVENTS:
            for (Node *e = x->list; e; e = e->next) e->sym = chk_event_named(c, e);
            break;
        case N_MAP: {
            Node fake = *x;
            fake.kind = N_NAME;
            Sym *ev = chk_event_named(c, &fake);
            x->sym = ev;
            Ctx sub = *c;
            sub.in_source = 1;
            if (x->a) chk_bool(&sub, x->a, "when");
            for (Node *as = x->list; as; as = as->next) {
                Node *t = as->a;
                Type *want = NULL;
                if (t->kind == N_NAME && (!strcmp(t->name, "id") || !strcmp(t->name, "source")))
                    want = p->t_string;
                else if (t->kind == N_NAME && !strcmp(t->name, "occurred_at")) want = p->t_timestamp;
                else if (t->kind == N_MEMBER && t->a->kind == N_NAME && !strcmp(t->a->name, "subject")) {
                    int found = !strcmp(t->name, "entity");
                    for (uint32_t i = 0; i < p->global[SYM_ENTITY].cap && !found; i++) {
                        Sym *es = p->global[SYM_ENTITY].slots[i];
                        if (!es || !es->entity) continue;
                        Field *f = ty_ent_field(es->entity, t->name);
                        found = f && (f->kind == FLD_IDENTITY || (f->decl && f->decl->kind == N_FIELD &&
                                                                   es->decl->list2 != NULL));
                        for (Node *id = es->decl->list2; id && !found; id = id->next) found = id->name == t->name;
                    }
                    if (!found) {
                        Diag *g = diag_error(p->diags, DIAG_E011, t->span, "'%s' is not an identity of any entity", t->name);
                        (void)g;
                    }
                    want = p->t_string;
                } else if (t->kind == N_NAME && ev) {
                    for (Node *f = ev->decl->list; f; f = f->next)
                        if (f->name == t->name) want = res_type(p, f->a, f->name);
                    if (!want) {
                        Diag *g = diag_error(p->diags, DIAG_E011, t->span, "event '%s' has no field '%s'", ev->name, t->name);
                        if (g) {
                            Suggest sg;
                            suggest_init(&sg, t->name);
                            for (Node *f = ev->decl->list; f; f = f->next) suggest_add(&sg, f->name);
                            suggest_add(&sg, "id");
                            suggest_add(&sg, "occurred_at");
                            if (suggest_best(&sg)) diag_help(g, "did you mean '%s'?", suggest_best(&sg));
                        }
                    }
                } else if (ev) {
                    Diag *g = diag_error(p->diags, DIAG_E023, t->span, "a map sets id, occurred_at, subject.KEY or a field%s", "");
                    (void)g;
                }
                chk_want(&sub, as->b, want, "the value");
            }
            break;
        }
        default: break;
        }
    }
    if (!npath) {
        Diag *g = diag_error(p->diags, DIAG_E023, d->span, "source '%s' has no path", d->name);
        diag_help(g, "add `path \"/v1/sources/%s\"`", d->name);
    }
    /* a skew window needs a time stamp the signature covers: only
     * standard_webhooks signs one (hmac_sha256 signs the body alone) */
    if (tolerance && (!scheme || strcmp(scheme, "standard_webhooks"))) {
        Diag *g = scheme ? diag_error(p->diags, DIAG_E023, tolerance->span, "`tolerance` needs a signed time stamp; %s signs none", scheme)
                         : diag_error(p->diags, DIAG_E023, tolerance->span, "`tolerance` needs a signed time stamp; the source has no signature%s", "");
        diag_help(g, "remove `tolerance`, or sign with `standard_webhooks` (its webhook-timestamp header is signed)");
    }
}

static const char *const conn_kinds[] = { "slack_webhook", "webhook", "rest", NULL };
static const char *const http_verbs[] = { "get", "post", "put", "patch", "delete", NULL };
static const char *const rate_units[] = { "second", "minute", "hour", NULL };

static void check_connector(Ctx *c, Node *d)
{
    Program *p = c->p;
    c->ent = NULL;
    c->event = NULL;
    c->no_event = "connector settings cannot read an event";
    if (!one_of(d->name2, conn_kinds)) bad_word(c, d->span, "connector kind", d->name2, conn_kinds);
    int rest = !strcmp(d->name2, "rest");
    for (Node *o = d->list; o; o = o->next) {
        if (!strcmp(o->name, "url") || !strcmp(o->name, "base") || !strcmp(o->name, "sign")) want_env(c, o->a, o->name);
        else if (!strcmp(o->name, "auth")) {
            if (!one_of(o->name2, (const char *const[]){ "token", "bearer", "basic", NULL }))
                bad_word(c, o->span, "auth scheme", o->name2, (const char *const[]){ "token", "bearer", "basic", NULL });
            want_env(c, o->a, "the credential");
        } else if (!strcmp(o->name, "rate")) {
            want_count(c, o->a, "the rate");
            if (!one_of(o->name2, rate_units)) bad_word(c, o->span, "rate unit", o->name2, rate_units);
        } else if (!strcmp(o->name, "timeout")) want_duration(c, o->a, "timeout");
        else if (!strcmp(o->name, "retries")) chk_want(c, o->a, p->t_int, "retries");
        else {
            Diag *g = diag_error(p->diags, DIAG_E023, o->span, "unknown connector setting '%s'", o->name);
            Suggest sg;
            suggest_init(&sg, o->name);
            const char *const known[] = { "url", "base", "sign", "auth", "rate", "timeout", "retries", NULL };
            for (const char *const *k = known; *k; k++) suggest_add(&sg, *k);
            if (suggest_best(&sg)) diag_help(g, "did you mean '%s'?", suggest_best(&sg));
            else diag_help(g, "settings: url, base, sign, auth, rate, timeout, retries");
        }
    }
    if (d->list2 && !rest)
        diag_error(p->diags, DIAG_E023, d->list2->span, "only a rest connector declares methods%s", "");
    for (Node *m = d->list2; m; m = m->next) {
        for (Node *o = d->list2; o != m; o = o->next)
            if (o->name == m->name) diag_error(p->diags, DIAG_E022, m->span, "method '%s' is declared twice", m->name);
        for (Node *prm = m->list; prm; prm = prm->next) {
            if (prm->kind != N_NAME) { diag_error(p->diags, DIAG_E024, prm->span, "a method parameter is an entity name%s", ""); continue; }
            res_entity(p, prm->name, prm->span, "method parameter");
            prm->name2 = prm->name;
        }
        if (!one_of(m->name2, http_verbs)) bad_word(c, m->span, "HTTP method", m->name2, http_verbs);
        Ctx sub = *c;
        sub.in_method = 1;
        sub.params = m->list;
        chk_want(&sub, m->a, p->t_string, "the path");
        for (Node *s = m->list2; s; s = s->next) {
            Type *tt;
            check_target_field(&sub, s->a, &tt);
            chk_want(&sub, s->b, tt, "the value");
        }
    }
}

static void check_team(Ctx *c, Node *d)
{
    Program *p = c->p;
    c->ent = NULL;
    c->constant = 1;
    if (!d->list) diag_error(p->diags, DIAG_E023, d->span, "team '%s' has no members", d->name);
    for (Node *m = d->list; m; m = m->next) {
        chk_want(c, m->a, p->t_string, "the member");
        for (Node *o = m->list; o; o = o->next) {
            if (!strcmp(o->name, "region")) chk_want(c, o->a, p->t_string, "region");
            else if (!strcmp(o->name, "max") || !strcmp(o->name, "weight")) want_count(c, o->a, o->name);
            else if (!strcmp(o->name, "skills")) {
                if (o->a->kind != N_LIST) diag_error(p->diags, DIAG_E021, o->a->span, "skills are a list: [a, b]%s", "");
                else for (Node *x = o->a->list; x; x = x->next)
                    if (x->kind != N_NAME && x->kind != N_STRING)
                        diag_error(p->diags, DIAG_E021, x->span, "a skill is a name%s", "");
            } else {
                Diag *g = diag_error(p->diags, DIAG_E023, o->span, "unknown member setting '%s'", o->name);
                diag_help(g, "settings: region, max, weight, skills");
            }
        }
    }
    c->constant = 0;
}

static const char *const days[] = { "mon", "tue", "wed", "thu", "fri", "sat", "sun", NULL };

static int tz_valid(const char *tz)
{
    if (!strcmp(tz, "UTC")) return 1;
    if (!*tz || tz[0] == '/' || strstr(tz, "..")) return 0;
    for (const char *s = tz; *s; s++)
        if (!((*s >= 'A' && *s <= 'Z') || (*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') ||
              *s == '/' || *s == '_' || *s == '-' || *s == '+'))
            return 0;
    struct stat st;
    char path[512];
    if (stat("/usr/share/zoneinfo", &st) != 0) return strchr(tz, '/') != NULL;
    snprintf(path, sizeof path, "/usr/share/zoneinfo/%s", tz);
    return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

static void check_tz(Ctx *c, Node *s)
{
    if (!s) return;
    if (s->list || !tz_valid(s->name)) {
        Diag *g = diag_error(c->p->diags, DIAG_E025, s->span, "unknown time zone \"%s\"", s->name ? s->name : "");
        diag_help(g, "use an IANA name such as \"Europe/Berlin\" or \"UTC\"");
    }
}

static void check_sequence(Ctx *c, Node *d)
{
    Program *p = c->p;
    c->ent = block_entity(c, d, "sequence");
    c->event = NULL;
    c->no_event = "a sequence runs on the entity's state";
    int nsteps = 0, nwindow = 0;
    for (Node *x = d->list; x; x = x->next) {
        switch (x->kind) {
        case N_STEP: {
            nsteps++;
            Sym *cs = chk_lookup_global(c, SYM_CONNECTOR, x->name2, x->span, DIAG_E014, "connector");
            (void)cs;
            if (x->a) chk_want(c, x->a, p->t_string, "the template");
            if (x->b) want_duration(c, x->b, "wait");
            break;
        }
        case N_CHLIMITS:
            for (Node *l = x->list; l; l = l->next) {
                int used = 0;
                for (Node *s = d->list; s; s = s->next)
                    used |= s->kind == N_STEP && (s->name == l->name || s->name2 == l->name);
                if (!used) {
                    Diag *g = diag_error(p->diags, DIAG_E025, l->span, "no step uses channel '%s'", l->name);
                    Suggest sg;
                    suggest_init(&sg, l->name);
                    for (Node *s = d->list; s; s = s->next)
                        if (s->kind == N_STEP) { suggest_add(&sg, s->name); suggest_add(&sg, s->name2); }
                    if (suggest_best(&sg)) diag_help(g, "did you mean '%s'?", suggest_best(&sg));
                }
                want_count(c, l->a, "the limit");
                if (!one_of(l->name2, calendar_units)) bad_word(c, l->span, "limit window", l->name2, calendar_units);
            }
            break;
        case N_WINDOW:
            if (nwindow++) diag_error(p->diags, DIAG_E023, x->span, "sequence has two windows%s", "");
            if (!one_of(x->name, days)) bad_word(c, x->span, "day", x->name, days);
            if (!one_of(x->name2, days)) bad_word(c, x->span, "day", x->name2, days);
            if (x->a && x->b && x->a->num >= x->b->num)
                diag_error(p->diags, DIAG_E025, x->span, "the window must end after it starts%s", "");
            check_tz(c, x->c);
            break;
        case N_EXIT:
            if (x->a) chk_bool(c, x->a, "exit when");
            if (x->b) {
                if (x->b->kind == N_NAME) x->b->sym = chk_event_named(c, x->b);
                else diag_error(p->diags, DIAG_E010, x->b->span, "exit on needs an event name%s", "");
            }
            break;
        default: break;
        }
    }
    if (!nsteps) diag_error(p->diags, DIAG_E023, d->span, "sequence '%s' has no steps", d->name);
}

/* ---- declarations ------------------------------------------------------------ */

static void check_fields(Ctx *c, Node *fields, const char *owner, int report_dups)
{
    for (Node *f = fields; f; f = f->next) {
        for (Node *g = fields; g != f && report_dups; g = g->next)
            if (g->name == f->name) {
                diag_error(c->p->diags, DIAG_E022, f->span, "field '%s' is declared twice in %s", f->name, owner);
                break;
            }
        if (!f->b) continue;
        Type *t = res_type(c->p, f->a, f->name);
        c->constant = 1;
        chk_want(c, f->b, t, "the default");
        c->constant = 0;
    }
}

static void check_decl(Ctx *c, Node *d)
{
    c->ent = NULL;
    c->event = NULL;
    c->params = NULL;
    c->no_event = NULL;
    switch ((NodeKind)d->kind) {
    case N_MODULE: check_tz(c, d->a); break;
    case N_IMPORT: break;                       /* resolved by the project loader */
    case N_CONST: if (d->sym) chk_const(c, d->sym); break;
    case N_FN: if (d->sym) chk_fn(c, d->sym); break;
    case N_EVENT:
        for (Node *f = d->list; f; f = f->next) res_type(c->p, f->a, f->name);
        check_fields(c, d->list, "this event", 1);
        break;
    case N_ENTITY: check_fields(c, d->list, "this entity", 0); break;     /* resolve.c reported duplicates */
    case N_SCORE: {
        Sym *es = sym_get(&c->p->global[SYM_ENTITY], d->name2);       /* an unknown one was reported */
        c->ent = es ? es->entity : NULL;
        if (d->a) chk_want(c, d->a->a, c->p->t_int, "priority");
        check_rules(c, d->list);
        break;
    }
    case N_INTENT:
        c->ent = sym_get(&c->p->global[SYM_ENTITY], d->name2) ? sym_get(&c->p->global[SYM_ENTITY], d->name2)->entity : NULL;
        if (d->a) chk_want(c, d->a->a, c->p->t_int, "priority");
        for (Node *cat = d->list; cat; cat = cat->next) check_rules(c, cat->list);
        break;
    case N_DERIVE: chk_derive(c->p, d); break;
    case N_SIGNAL: check_signal(c, d); break;
    case N_ROUTE: check_route(c, d); break;
    case N_WORKFLOW: check_workflow(c, d); break;
    case N_SOURCE: check_source(c, d); break;
    case N_CONNECTOR: check_connector(c, d); break;
    case N_TEAM: check_team(c, d); break;
    case N_SEQUENCE: check_sequence(c, d); break;
    case N_TEST: chk_test(c, d); break;
    default: break;
    }
}

void check_program(Program *p)
{
    Ctx c;
    memset(&c, 0, sizeof c);
    c.p = p;
    for (int mi = 0; mi < p->nmods; mi++) {
        Module *m = p->mods[mi];
        c.mod = m;
        for (int fi = 0; fi < m->nfiles; fi++)
            for (Node *d = m->files[fi]->list; d; d = d->next) check_decl(&c, d);
    }
    /* two routes for one entity would race for it */
    for (int mi = 0; mi < p->nmods; mi++)
        for (int fi = 0; fi < p->mods[mi]->nfiles; fi++)
            for (Node *d = p->mods[mi]->files[fi]->list; d; d = d->next) {
                if (d->kind != N_ROUTE) continue;
                for (int mj = 0; mj <= mi; mj++)
                    for (int fj = 0; fj < p->mods[mj]->nfiles; fj++)
                        for (Node *e = p->mods[mj]->files[fj]->list; e; e = e->next) {
                            if (mj == mi && fj == fi && e == d) goto next;
                            if (e->kind == N_ROUTE && e->name2 == d->name2) {
                                Diag *g = diag_error(p->diags, DIAG_E022, d->span, "a second route for '%s'", d->name2);
                                diag_help(g, "an entity is routed once: put every arm in one route block");
                                goto next;
                            }
                        }
            next:;
            }
}
