/*
 * check_test.c - checking `test` blocks: `given` records and test events
 * (an entity's fields, the engine's built-in envelopes, time stamps as RFC
 * 3339 strings), `wait`, and every kind of `expect` (a condition, a
 * signal, alert, notification, webhook, call, emit, enrollment).  check.c
 * calls chk_test for each test declaration.
 */
#include "sema/check.h"

#include <stdio.h>
#include <string.h>

static int parse_rfc3339(const char *s)
{
    /* YYYY-MM-DDTHH:MM:SS[.frac](Z|+HH:MM|-HH:MM) */
    int y, mo, d, h, mi, se, n = 0;
    if (sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2d%n", &y, &mo, &d, &h, &mi, &se, &n) != 6 || n != 19) return 0;
    static const int mdays[] = { 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
    if (mo < 1 || mo > 12 || d < 1 || d > mdays[mo - 1] || h > 23 || mi > 59 || se > 60) return 0;
    if (mo == 2 && d == 29 && !((y % 4 == 0 && y % 100) || y % 400 == 0)) return 0;
    s += 19;
    if (*s == '.') { s++; if (*s < '0' || *s > '9') return 0; while (*s >= '0' && *s <= '9') s++; }
    if (*s == 'Z' || *s == 'z') return s[1] == 0;
    if (*s == '+' || *s == '-') {
        int oh, om;
        if (sscanf(s + 1, "%2d:%2d%n", &oh, &om, &n) != 2 || n != 5 || s[6] || oh > 23 || om > 59) return 0;
        return 1;
    }
    return 0;
}

/* A value in a test record: a time stamp is written as an RFC 3339 string. */
static void test_value(Ctx *c, Node *v, Type *want)
{
    if (want && ty_base(want)->kind == TY_TIMESTAMP && v->kind == N_STRING && !v->list) {
        if (!parse_rfc3339(v->name)) {
            Diag *g = diag_error(c->p->diags, DIAG_E025, v->span, "'%s' is not an RFC 3339 time stamp", v->name);
            diag_help(g, "write it like \"2026-10-01T09:00:00Z\"");
        }
        v->ty = want;
        return;
    }
    chk_want(c, v, want, "the value");
}

static void check_record_for_entity(Ctx *c, Node *rec, Entity *e)
{
    for (Node *kv = rec->list; kv; kv = kv->next) {
        Field *f = ty_ent_field(e, kv->name);
        if (!f) {
            Diag *g = diag_error(c->p->diags, DIAG_E011, kv->span, "unknown field '%s' on entity '%s'", kv->name, e->sym->name);
            Suggest sg;
            suggest_init(&sg, kv->name);
            for (int i = 0; i < e->nfields; i++) suggest_add(&sg, e->fields[i].name);
            if (suggest_best(&sg)) diag_help(g, "did you mean '%s'?", suggest_best(&sg));
            chk_expr(c, kv->a, NULL);
            continue;
        }
        if (f->kind == FLD_BUILTIN || f->kind == FLD_DERIVED) {
            if (strcmp(f->name, "owner") && strcmp(f->name, "pipeline") && strcmp(f->name, "created_at"))
                diag_error(c->p->diags, DIAG_E030, kv->span, "'%s' is computed; a test cannot give it%s", kv->name, "");
        }
        Type *want = f->ty;
        if (want && ty_base(want)->kind == TY_ENTITY) want = ty_optional(c->p, c->p->t_string);  /* by key */
        test_value(c, kv->a, want);
    }
}

void chk_test(Ctx *c, Node *d)
{
    Program *p = c->p;
    c->ent = NULL;
    c->in_test = 1;
    c->event = NULL;
    c->no_event = "in a test, `expect` reads entities, not the event";
    if (d->a && d->a->list) diag_error(p->diags, DIAG_E025, d->a->span, "a test name cannot be a template%s", "");
    int nevents = 0;
    for (Node *x = d->list; x; x = x->next) {
        switch (x->kind) {
        case N_GIVEN: {
            Entity *e = res_entity(p, x->name, x->span, "given");
            if (e) check_record_for_entity(c, x->a, e);
            break;
        }
        case N_TEVENT: {
            nevents++;
            if (!sym_get(&p->global[SYM_EVENT], x->name) && (!strcmp(x->name, "alert_ack") || !strcmp(x->name, "approval"))) {
                /* the engine's built-in envelopes: alert_ack { signal }, approval { id, decision } */
                int ack = x->name[0] == 'a' && x->name[1] == 'l';
                if (x->a->list || !parse_rfc3339(x->a->name))
                    diag_help(diag_error(p->diags, DIAG_E025, x->a->span, "'%s' is not an RFC 3339 time stamp",
                                         x->a->name ? x->a->name : ""), "write it like \"2026-10-01T09:00:00Z\"");
                for (Node *kv = x->b ? x->b->list : NULL; kv; kv = kv->next) {
                    Type *want = ack && !strcmp(kv->name, "signal") ? p->t_string
                               : !ack && !strcmp(kv->name, "id") ? p->t_int
                               : !ack && !strcmp(kv->name, "decision") ? p->t_string : NULL;
                    if (!want) diag_error(p->diags, DIAG_E011, kv->span, "event '%s' has no field '%s'", x->name, kv->name);
                    test_value(c, kv->a, want);
                }
                break;
            }
            Node fake = *x;
            fake.kind = N_NAME;
            Sym *ev = chk_event_named(c, &fake);
            x->sym = ev;
            if (x->a->list || !parse_rfc3339(x->a->name)) {
                Diag *g = diag_error(p->diags, DIAG_E025, x->a->span, "'%s' is not an RFC 3339 time stamp",
                                     x->a->name ? x->a->name : "");
                diag_help(g, "write it like \"2026-10-01T09:00:00Z\"");
            }
            if (ev && x->b)
                for (Node *kv = x->b->list; kv; kv = kv->next) {
                    Node *f = NULL;
                    for (Node *y = ev->decl->list; y; y = y->next) if (y->name == kv->name) f = y;
                    if (!f) {
                        Diag *g = diag_error(p->diags, DIAG_E011, kv->span, "event '%s' has no field '%s'", ev->name, kv->name);
                        Suggest sg;
                        suggest_init(&sg, kv->name);
                        for (Node *y = ev->decl->list; y; y = y->next) suggest_add(&sg, y->name);
                        if (suggest_best(&sg)) diag_help(g, "did you mean '%s'?", suggest_best(&sg));
                        chk_expr(c, kv->a, NULL);
                        continue;
                    }
                    Type *want = res_type(p, f->a, f->name);
                    if (want && ty_base(want)->kind == TY_ENTITY) want = ty_optional(p, p->t_string);  /* by key, as in `given` */
                    test_value(c, kv->a, want);
                }
            if (x->c)
                for (Node *kv = x->c->list; kv; kv = kv->next) {
                    int found = !strcmp(kv->name, "entity");
                    for (uint32_t i = 0; i < p->global[SYM_ENTITY].cap && !found; i++) {
                        Sym *es = p->global[SYM_ENTITY].slots[i];
                        if (es) for (Node *id = es->decl->list2; id; id = id->next) found |= id->name == kv->name;
                    }
                    if (!found) diag_error(p->diags, DIAG_E011, kv->span, "'%s' is not an identity of any entity", kv->name);
                    chk_want(c, kv->a, p->t_string, "the identity");
                }
            break;
        }
        case N_TWAIT: chk_want(c, x->a, c->p->t_duration, "wait"); break;
        case N_EXPECT:
            switch ((ExpKind)x->op) {
            case EXP_TRUE: chk_bool(c, x->a, "expect"); break;
            case EXP_SIGNAL: chk_lookup_global(c, SYM_SIGNAL, x->name, x->span, DIAG_E027, "signal"); break;
            case EXP_ALERT: if (x->name) chk_lookup_global(c, SYM_SIGNAL, x->name, x->span, DIAG_E027, "signal"); break;
            case EXP_NOTIFY: case EXP_WEBHOOK:
                if (x->name) chk_lookup_global(c, SYM_CONNECTOR, x->name, x->span, DIAG_E014, "connector");
                break;
            case EXP_CALL:
                if (x->a->kind != N_MEMBER || x->a->a->kind != N_NAME) {
                    diag_error(p->diags, DIAG_E014, x->a->span, "expect call names CONNECTOR.METHOD%s", "");
                } else {
                    Sym *cs = chk_lookup_global(c, SYM_CONNECTOR, x->a->a->name, x->a->a->span, DIAG_E014, "connector");
                    int found = 0;
                    if (cs) for (Node *m = cs->decl->list2; m; m = m->next) found |= m->name == x->a->name;
                    if (cs && !found) diag_error(p->diags, DIAG_E014, x->a->span, "connector '%s' has no method '%s'", cs->name,
                                                   x->a->name);
                }
                break;
            case EXP_EMIT: {
                Node fake = *x;
                fake.kind = N_NAME;
                chk_event_named(c, &fake);
                break;
            }
            case EXP_ENROLL: chk_lookup_global(c, SYM_SEQUENCE, x->name, x->span, DIAG_E019, "sequence"); break;
            case EXP_TASK: case EXP_ROUTE: break;
            }
            break;
        default: break;
        }
    }
    if (!nevents && !d->list)
        diag_error(p->diags, DIAG_E023, d->span, "test %s is empty", "");
    c->in_test = 0;
}

