/*
 * testrun.c - running test blocks against the engine (testrun.h).
 */
#include "dnac/testrun.h"
#include "emit/emit.h"
#include "base/clock.h"
#include "engine/engine.h"
#include "base/jsonw.h"

#include <jansson.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef struct Captured { EffKind kind; char *line; } Captured;

typedef struct TestCtx {
    Captured *v;
    uint32_t n, cap;
} TestCtx;

static void capture(void *ud, const EngEffect *ef)
{
    TestCtx *t = ud;
    if (t->n == t->cap) {
        uint32_t nc = t->cap ? t->cap * 2 : 32;
        Captured *nv = realloc(t->v, sizeof(Captured) * nc);
        if (!nv) return;
        t->v = nv;
        t->cap = nc;
    }
    t->v[t->n].kind = ef->kind;
    t->v[t->n].line = strndup(ef->line, ef->len);
    if (t->v[t->n].line) t->n++;
}

static void captured_free(TestCtx *t)
{
    for (uint32_t i = 0; i < t->n; i++) free(t->v[i].line);
    free(t->v);
    memset(t, 0, sizeof *t);
}

/* ---- records of literals to JSON ------------------------------------------- */

static int literal(JsonW *w, Node *v, char *why, size_t wl)
{
    switch ((NodeKind)v->kind) {
    case N_STRING:
        if (v->list) { snprintf(why, wl, "a test value cannot be a template"); return 0; }
        jw_str(w, v->name);
        return 1;
    case N_INT: jw_int(w, v->num); return 1;
    case N_DECIMAL: jw_milli(w, v->num); return 1;
    case N_BOOL: jw_bool(w, (int)v->num); return 1;
    case N_NONE: jw_null(w); return 1;
    case N_NAME:
        if (v->sym && ((Sym *)v->sym)->kind == SYM_CONST) return literal(w, ((Sym *)v->sym)->decl->a, why, wl);
        jw_str(w, v->name);                     /* an enum value */
        return 1;
    case N_DURATION: jw_int(w, v->num * 1000); return 1;
    case N_UNARY:
        if (v->op == OP_NEG && v->a->kind == N_INT) { jw_int(w, -v->a->num); return 1; }
        if (v->op == OP_NEG && v->a->kind == N_DECIMAL) { jw_milli(w, -v->a->num); return 1; }
        break;
    default: break;
    }
    snprintf(why, wl, "a test value must be a literal");
    return 0;
}

static int record(JsonW *w, Node *rec, char *why, size_t wl)
{
    jw_obj(w);
    for (Node *kv = rec ? rec->list : NULL; kv; kv = kv->next) {
        jw_key(w, kv->name);
        if (!literal(w, kv->a, why, wl)) return 0;
    }
    jw_end_obj(w);
    return 1;
}

/* ---- expectations on effects -------------------------------------------------- */

static const char *jstr(json_t *o, const char *k1, const char *k2)
{
    json_t *v = json_object_get(o, k1);
    if (k2 && v) v = json_object_get(v, k2);
    return json_is_string(v) ? json_string_value(v) : NULL;
}

static int str_is(const char *a, const char *b) { return a && b && !strcmp(a, b); }

static int effect_matches(Node *x, const Captured *c)
{
    static const EffKind want[] = { [EXP_SIGNAL] = EFF_SIGNAL, [EXP_ALERT] = EFF_ALERT, [EXP_NOTIFY] = EFF_NOTIFY,
                                    [EXP_TASK] = EFF_TASK, [EXP_CALL] = EFF_CONNECTOR, [EXP_WEBHOOK] = EFF_WEBHOOK,
                                    [EXP_EMIT] = EFF_EMIT, [EXP_ROUTE] = EFF_ROUTE, [EXP_ENROLL] = EFF_ENROLL };
    /* a sequence step is a call through its connector: `expect webhook mailer` */
    int step = x->op == EXP_WEBHOOK && c->kind == EFF_SEQUENCE_STEP;
    if (c->kind != want[x->op] && !step) return 0;
    json_t *o = json_loads(c->line, 0, NULL);
    if (!o) return 0;
    const char *mode = jstr(o, "mode", NULL);
    /* parked and shadow actions did not happen; approved ones did ("approval": ID) */
    int ok = !mode || !strcmp(mode, "live") || json_object_get(o, "approval") != NULL;
    switch ((ExpKind)x->op) {
    case EXP_SIGNAL: case EXP_ALERT:
        if (x->name) ok &= str_is(jstr(o, "detail", "signal"), x->name);
        break;
    case EXP_NOTIFY:
        if (x->name) ok &= str_is(jstr(o, "detail", "connector"), x->name);
        if (x->b && x->b->name) ok &= str_is(jstr(o, "detail", "channel"), x->b->name) ||
                                       str_is(jstr(o, "detail", "message"), x->b->name);
        break;
    case EXP_TASK:
        if (x->b && x->b->name) ok &= str_is(jstr(o, "detail", "title"), x->b->name);
        break;
    case EXP_CALL:
        ok &= str_is(jstr(o, "detail", "connector"), x->a->a->name) && str_is(jstr(o, "detail", "method"), x->a->name);
        break;
    case EXP_WEBHOOK: ok &= str_is(jstr(o, "detail", "connector"), x->name); break;
    case EXP_EMIT: ok &= str_is(jstr(o, "detail", "event"), x->name); break;
    case EXP_ROUTE: if (x->b && x->b->name) ok &= str_is(jstr(o, "detail", "pipeline"), x->b->name); break;
    case EXP_ENROLL: ok &= str_is(jstr(o, "detail", "sequence"), x->name); break;
    default: ok = 0;
    }
    json_decref(o);
    return ok;
}

/* ---- one test ------------------------------------------------------------------ */

#define MAX_FAILS 16

/* One test as it runs: the engine, what it captured, what failed. */
typedef struct Run1 {
    Project *pr;
    const DnaBundle *b;
    const EmitTests *et;
    Engine *eng;
    TestCtx cap;
    JsonW w;
    int64_t clock;
    uint64_t last[64];                  /* the last entity seen, per kind */
    uint64_t first_given;
    uint32_t first_kind;
    int nev;
    TestResult *res;
    char why[512], where[600], txt[300];
} Run1;

static void failf(Run1 *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void failf(Run1 *r, const char *fmt, ...)
{
    TestResult *t = r->res;
    if (t->nfails >= MAX_FAILS) { t->more++; return; }
    char buf[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    char *c = strdup(buf);
    if (c) t->fails[t->nfails++] = c;
}

static const char *loc(Project *pr, Span sp, char *buf, size_t n)
{
    SrcFile *f = src_get(&pr->src, sp.file);
    uint32_t l = 0, c = 0;
    if (f) src_linecol(f, sp.start, &l, &c);
    snprintf(buf, n, "%s:%u:%u", f ? f->path : "?", l, c);
    return buf;
}

static const char *node_text(Project *pr, Node *n, char *buf, size_t cap)
{
    SrcFile *f = src_get(&pr->src, n->span.file);
    uint32_t len = n->span.end - n->span.start;
    if (!f || n->span.end > f->len) { snprintf(buf, cap, "?"); return buf; }
    snprintf(buf, cap, "%.*s", (int)(len > cap - 1 ? cap - 1 : len), f->text + n->span.start);
    return buf;
}

static int first_time(Node *t, int64_t *at)
{
    for (Node *x = t->list; x; x = x->next)
        if (x->kind == N_TEVENT && x->a && x->a->name && !clk_parse(x->a->name, strlen(x->a->name), at)) return 1;
    return 0;
}

#define WHERE(x) loc(r->pr, (x)->span, r->where, sizeof r->where)

static void step_given(Run1 *r, Node *x)
{
    jw_reset(&r->w);
    if (!record(&r->w, x->a, r->why, sizeof r->why)) { failf(r, "%s: given: %s", WHERE(x), r->why); return; }
    uint64_t h = eng_given(r->eng, x->name, r->w.p, r->w.n, r->clock, r->why, sizeof r->why);
    if (!h) { failf(r, "%s: given %s: %s", WHERE(x), x->name, r->why); return; }
    uint32_t k = bundle_entity(r->b, x->name);
    if (k < 64) r->last[k] = h;
    if (!r->first_given) { r->first_given = h; r->first_kind = k; }
}

/* Entities made after handle `before` (a deal by routing, ...) are the last of their kind. */
static void note_new(Run1 *r, uint64_t before)
{
    for (uint64_t h = before + 1; h <= eng_count(r->eng); h++) {
        Ent *e2 = eng_entity(r->eng, h);
        if (e2 && !e2->merged_into && e2->kind < 64) r->last[e2->kind] = h;
    }
}

/* The event's subject: its `for { ... }`, or the first given entity's identities. */
static int subject(Run1 *r, Node *x)
{
    if (x->c) {
        if (record(&r->w, x->c, r->why, sizeof r->why)) return 1;
        failf(r, "%s: %s", WHERE(x), r->why);
        return 0;
    }
    if (!r->first_given) {
        failf(r, "%s: the event has no subject: add `for { email: \"...\" }` or a `given`", WHERE(x));
        return 0;
    }
    Ent *g = eng_entity(r->eng, r->first_given);
    const DnaEntity *en = &r->b->entities[r->first_kind];
    jw_obj(&r->w);
    jw_key(&r->w, "entity"); jw_str(&r->w, bundle_str(r->b, en->name));
    for (uint32_t i = 0; g && i < en->nidentity; i++) {
        DnaValue v = g->slots[en->identity[i]];
        if (v.kind != DNA_VK_STR) continue;
        jw_key(&r->w, bundle_str(r->b, en->slots[en->identity[i]].name));
        jw_strn(&r->w, v.u.s, v.len);
    }
    jw_end_obj(&r->w);
    return 1;
}

static void step_event(Run1 *r, Node *x)
{
    int64_t at;
    if (!x->a->name || clk_parse(x->a->name, strlen(x->a->name), &at)) return;   /* the checker said */
    if (at > r->clock) r->clock = at;
    JsonW *w = &r->w;
    jw_reset(w);
    jw_obj(w);
    char id[32];
    snprintf(id, sizeof id, "test-%d", ++r->nev);
    jw_key(w, "id"); jw_str(w, id);
    jw_key(w, "type"); jw_str(w, x->name);
    jw_key(w, "source"); jw_str(w, "test");
    jw_key(w, "occurred_at"); jw_str(w, x->a->name);
    jw_key(w, "subject");
    if (!subject(r, x)) return;
    jw_key(w, "data");
    if (!record(w, x->b, r->why, sizeof r->why)) { failf(r, "%s: %s", WHERE(x), r->why); return; }
    jw_end_obj(w);
    uint64_t before = eng_count(r->eng);
    EngResult res = eng_event(r->eng, w->p, w->n, r->why, sizeof r->why);
    if (res != ENG_OK) { failf(r, "%s: the event was refused: %s", WHERE(x), r->why); return; }
    note_new(r, before);
    /* remember the subject: the newest live entity whose last activity is this event */
    for (uint64_t h = eng_count(r->eng); h >= 1; h--) {
        Ent *e2 = eng_entity(r->eng, h);
        if (!e2 || e2->merged_into) continue;
        int64_t la = DNA_NIL;
        uint32_t ls = bundle_slot(r->b, e2->kind, "last_activity_at");
        if (ls != DNA_NIL && e2->slots[ls].kind == DNA_VK_INT) la = e2->slots[ls].u.i;
        if (la == at && e2->kind < 64) { r->last[e2->kind] = h; break; }
    }
}

static void step_wait(Run1 *r, Node *x)
{
    r->clock += x->a && x->a->kind == N_DURATION ? x->a->num * 1000 : 0;
    uint64_t before = eng_count(r->eng);
    eng_advance(r->eng, r->clock);
    note_new(r, before);
}

/* `expect COND`: evaluated on the last entity of its kind; the left side's value when false. */
static void expect_cond(Run1 *r, Node *x)
{
    const EmitExpect *ee = NULL;
    for (uint32_t i = 0; i < r->et->n; i++) if (r->et->v[i].expect == x) ee = &r->et->v[i];
    if (!ee || ee->unit == DNA_NIL) return;
    Ent *ent = ee->entity < 64 && r->last[ee->entity] ? eng_entity(r->eng, r->last[ee->entity]) : NULL;
    for (int g = 0; ent && ent->merged_into && g < 64; g++) ent = eng_entity(r->eng, ent->merged_into);
    if (ee->entity != DNA_NIL && !ent) {
        failf(r, "%s: expect %s: there is no %s in this test", WHERE(x), node_text(r->pr, x->a, r->txt, sizeof r->txt),
              bundle_str(r->b, r->b->entities[ee->entity].name));
        return;
    }
    DnaValue v;
    if (eng_eval_at(r->eng, ent ? ent->handle : 0, ee->unit, r->clock, &v, r->why, sizeof r->why) != 0) {
        failf(r, "%s: expect %s: %s", WHERE(x), node_text(r->pr, x->a, r->txt, sizeof r->txt), r->why);
        return;
    }
    if (v.kind == DNA_VK_INT && v.u.i) return;
    char actual[256] = "";
    DnaValue a;
    if (ee->actual != DNA_NIL &&
        eng_eval_at(r->eng, ent ? ent->handle : 0, ee->actual, r->clock, &a, r->why, sizeof r->why) == 0) {
        JsonW aw;
        jw_init(&aw);
        eng_value_json(r->eng, &aw, a, r->b->units[ee->actual].type);
        char lt[200];
        snprintf(actual, sizeof actual, "\n      %s is %s", node_text(r->pr, x->a->a, lt, sizeof lt), aw.p ? aw.p : "?");
        jw_free(&aw);
    }
    failf(r, "%s: expect %s: false%s", WHERE(x), node_text(r->pr, x->a, r->txt, sizeof r->txt), actual);
}

static void step_expect(Run1 *r, Node *x)
{
    if (x->op == EXP_TRUE) { expect_cond(r, x); return; }
    int neg = (x->flags & EXPECT_NEGATED) != 0, found = 0;
    for (uint32_t i = 0; i < r->cap.n && !found; i++) found = effect_matches(x, &r->cap.v[i]);
    if (found == neg)
        failf(r, "%s: %s: %s", WHERE(x), node_text(r->pr, x, r->txt, sizeof r->txt), neg ? "it happened" : "it did not happen");
}

static double mono_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void run_test(Project *pr, const DnaBundle *b, const EmitTests *et, Node *t, TestResult *res)
{
    Run1 *r = calloc(1, sizeof *r);
    char **fails = calloc(MAX_FAILS, sizeof(char *));
    memset(res, 0, sizeof *res);
    res->name = strdup(t->a && t->a->name ? t->a->name : "?");
    SrcFile *f = src_get(&pr->src, t->span.file);
    res->path = strdup(f ? f->path : "?");
    if (f) src_linecol(f, t->span.start, &res->line, &res->col);
    res->fails = fails;
    Store *st = r && fails ? store_mem_new() : NULL;
    if (r) r->eng = st ? eng_new(b, st, capture, &r->cap) : NULL;
    if (!r || !r->eng) {
        static char oom[] = "out of memory";
        if (fails) { fails[0] = strdup(oom); res->nfails = fails[0] != NULL; }
        if (!res->nfails) res->more = 1;
        if (st) st->ops->free(st);
        free(r);
        return;
    }
    double t0 = mono_s();
    r->pr = pr;
    r->b = b;
    r->et = et;
    r->res = res;
    r->first_kind = DNA_NIL;
    first_time(t, &r->clock);
    jw_init(&r->w);
    for (Node *x = t->list; x; x = x->next) {
        switch (x->kind) {
        case N_GIVEN: step_given(r, x); break;
        case N_TEVENT: step_event(r, x); break;
        case N_TWAIT: step_wait(r, x); break;
        case N_EXPECT: step_expect(r, x); break;
        default: break;
        }
    }
    res->seconds = mono_s() - t0;
    res->effects = calloc(r->cap.n + 1, sizeof(char *));
    for (uint32_t i = 0; res->effects && i < r->cap.n; i++) {
        res->effects[res->neffects++] = r->cap.v[i].line;
        r->cap.v[i].line = NULL;
    }
    jw_free(&r->w);
    eng_free(r->eng);
    st->ops->free(st);
    captured_free(&r->cap);
    free(r);
}

static void result_free(TestResult *t)
{
    free(t->name);
    free(t->path);
    for (uint32_t i = 0; i < t->nfails; i++) free(t->fails[i]);
    free(t->fails);
    for (uint32_t i = 0; i < t->neffects; i++) free(t->effects[i]);
    free(t->effects);
}

/* ---- coverage: which rules, arms and actions the effects show ---------------- */

/* The effect an action leaves, or EFF__COUNT for none (ACT_ROUTE re-runs routing). */
static EffKind action_effect(uint8_t act)
{
    static const EffKind k[] = { EFF_SET, EFF_MOVE, EFF_ASSIGN, EFF__COUNT, EFF_ROUTE, EFF_CREATE,
                                 EFF_TASK, EFF_NOTIFY, EFF_WEBHOOK, EFF_CONNECTOR, EFF_ENROLL, EFF_EMIT };
    return act < sizeof k / sizeof k[0] ? k[act] : EFF__COUNT;
}

static EffKind effect_kind(const char *name)
{
    for (int k = 0; k < EFF__COUNT; k++) if (!strcmp(eng_effect_name((EffKind)k), name)) return (EffKind)k;
    return EFF__COUNT;
}

/* The constant of an action's argument `key`, or NULL. */
static const char *action_konst(const DnaBundle *b, const DnaAction *a, const char *key)
{
    for (uint32_t i = 0; i < a->nargs; i++) {
        const DnaArg *g = &b->args[a->arg + i];
        if (g->konst != DNA_NIL && !strcmp(bundle_str(b, g->key), key) && b->consts[g->konst].type == DT_STR)
            return bundle_str(b, b->consts[g->konst].str);
    }
    return NULL;
}

/* An effect of rule `ri`: the rule is reached; an action whose effect kind it
 * is, too; an approval stands for every action of the rule.  A route arm
 * whose `pipeline` is the effect's is reached. */
static void cover_effect(const DnaBundle *b, TestCoverage *cv, uint32_t ri, EffKind k, const char *pipeline)
{
    const DnaRule *r = &b->rules[ri];
    cv->rule[ri]++;
    for (uint32_t i = 0; i < r->narms; i++) {
        const DnaArm *arm = &b->arms[r->arm + i];
        int whole = k == EFF_APPROVAL || (r->narms == 1 && arm->nactions);
        for (uint32_t j = 0; j < arm->nactions; j++) {
            const DnaAction *a = &b->actions[arm->action + j];
            EffKind ak = action_effect(a->kind);
            if (ak == EFF__COUNT || (ak != k && k != EFF_APPROVAL)) continue;
            if (ak == EFF_ROUTE && pipeline) {
                const char *p = action_konst(b, a, "pipeline");
                if (p && strcmp(p, pipeline)) continue;
            }
            cv->action[arm->action + j]++;
            if (ak == EFF_ROUTE || ak == EFF_NOTIFY || whole) cv->arm[r->arm + i]++;
        }
    }
}

static void cover(const DnaBundle *b, TestCoverage *cv, const TestResult *t)
{
    for (uint32_t i = 0; i < t->neffects; i++) {
        json_t *o = json_loads(t->effects[i], 0, NULL);
        const char *rule = jstr(o, "rule", NULL), *kind = jstr(o, "kind", NULL);
        if (rule && kind)
            for (uint32_t ri = 0; ri < b->nrules; ri++)
                if (!strcmp(bundle_str(b, b->rules[ri].name), rule))
                    cover_effect(b, cv, ri, effect_kind(kind), jstr(o, "detail", "pipeline"));
        json_decref(o);
    }
}

int tr_run(Project *pr, FILE *out, const TestOpts *o, TestSummary *sum)
{
    memset(sum, 0, sizeof *sum);
    DnaBuf buf;
    EmitTests et = { 0 };
    if (emit_bundle_tests(pr, &buf, &et)) { emit_tests_free(&et); return -1; }
    DnaBundle b;
    DnaLoadResult res;
    if (bundle_read(buf.p, buf.n, &b, &res) != DNA_LOAD_OK) {
        diag_error(&pr->diags, DIAG_E001, (Span){ 0, 0, 0 }, "the test bundle did not load: %s", res.msg);
        dna_buf_free(&buf);
        emit_tests_free(&et);
        return -1;
    }
    dna_buf_free(&buf);
    TestCoverage cv = { calloc(b.nrules + 1, sizeof(uint32_t)), calloc(b.narms + 1, sizeof(uint32_t)),
                        calloc(b.nactions + 1, sizeof(uint32_t)) };
    TestResult *v = NULL;
    uint32_t n = 0, cap = 0;
    for (uint32_t i = 1; i < pr->src.n; i++) {
        if (pr->src.files[i]->is_stdlib) continue;
        for (Node *d = pr->files[i] ? pr->files[i]->list : NULL; d; d = d->next) {
            if (d->kind != N_TEST) continue;
            if (o->filter && (!d->a->name || !strstr(d->a->name, o->filter))) continue;
            if (n == cap) {
                uint32_t nc = cap ? cap * 2 : 32;
                TestResult *nv = realloc(v, sizeof(TestResult) * nc);
                if (!nv) continue;
                v = nv;
                cap = nc;
            }
            TestResult *t = &v[n++];
            run_test(pr, &b, &et, d, t);
            if (t->nfails || t->more) sum->failed++; else sum->passed++;
            if (o->coverage && cv.rule && cv.arm && cv.action) cover(&b, &cv, t);
            if (o->format == TF_TEXT || o->format == TF_GITHUB) { tr_print(out, o, t, 1); fflush(out); }
        }
    }
    sum->selected = n;
    if (o->format == TF_JSON || o->format == TF_JUNIT) tr_print(out, o, v, n);
    if (o->coverage && cv.rule && cv.arm && cv.action) tr_print_coverage(out, o, &b, &cv);
    for (uint32_t i = 0; i < n; i++) result_free(&v[i]);
    free(v);
    free(cv.rule);
    free(cv.arm);
    free(cv.action);
    bundle_free(&b);
    emit_tests_free(&et);
    return 0;
}
