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

typedef struct Failure { char text[1024]; } Failure;

static void failf(Failure *v, int *n, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void failf(Failure *v, int *n, const char *fmt, ...)
{
    if (*n < 16) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(v[*n].text, sizeof v[0].text, fmt, ap);
        va_end(ap);
    }
    (*n)++;
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

static int run_test(Project *pr, const DnaBundle *b, const EmitTests *et, Node *t, FILE *out, int verbose)
{
    TestCtx cap = { 0 };
    Store *st = store_mem_new();
    Engine *eng = st ? eng_new(b, st, capture, &cap) : NULL;
    char why[512], where[600], txt[300];
    Failure fails[16];
    int nfail = 0;
    if (!eng) { fprintf(out, "out of memory\n"); if (st) st->ops->free(st); return 0; }
    int64_t clock = 0;
    first_time(t, &clock);
    uint64_t last[64] = { 0 };               /* the last entity seen, per kind */
    uint64_t first_given = 0;
    uint32_t first_kind = DNA_NIL;
    int nev = 0;
    JsonW w;
    jw_init(&w);
#define FAIL(...) failf(fails, &nfail, __VA_ARGS__)
    for (Node *x = t->list; x; x = x->next) {
        switch (x->kind) {
        case N_GIVEN: {
            jw_reset(&w);
            if (!record(&w, x->a, why, sizeof why)) { FAIL("%s: given: %s", loc(pr, x->span, where, sizeof where), why); break; }
            uint64_t h = eng_given(eng, x->name, w.p, w.n, clock, why, sizeof why);
            if (!h) { FAIL("%s: given %s: %s", loc(pr, x->span, where, sizeof where), x->name, why); break; }
            uint32_t k = bundle_entity(b, x->name);
            if (k < 64) last[k] = h;
            if (!first_given) { first_given = h; first_kind = k; }
            break;
        }
        case N_TEVENT: {
            int64_t at;
            if (!x->a->name || clk_parse(x->a->name, strlen(x->a->name), &at)) break;   /* the checker said */
            if (at > clock) clock = at;
            jw_reset(&w);
            jw_obj(&w);
            char id[32];
            snprintf(id, sizeof id, "test-%d", ++nev);
            jw_key(&w, "id"); jw_str(&w, id);
            jw_key(&w, "type"); jw_str(&w, x->name);
            jw_key(&w, "source"); jw_str(&w, "test");
            jw_key(&w, "occurred_at"); jw_str(&w, x->a->name);
            jw_key(&w, "subject");
            if (x->c) {
                if (!record(&w, x->c, why, sizeof why)) { FAIL("%s: %s", loc(pr, x->span, where, sizeof where), why); goto next; }
            } else if (first_given) {
                /* the first given entity's identities */
                Ent *g = eng_entity(eng, first_given);
                const DnaEntity *en = &b->entities[first_kind];
                jw_obj(&w);
                jw_key(&w, "entity"); jw_str(&w, bundle_str(b, en->name));
                for (uint32_t i = 0; g && i < en->nidentity; i++) {
                    DnaValue v = g->slots[en->identity[i]];
                    if (v.kind != DNA_VK_STR) continue;
                    jw_key(&w, bundle_str(b, en->slots[en->identity[i]].name));
                    jw_strn(&w, v.u.s, v.len);
                }
                jw_end_obj(&w);
            } else {
                FAIL("%s: the event has no subject: add `for { email: \"...\" }` or a `given`",
                     loc(pr, x->span, where, sizeof where));
                goto next;
            }
            jw_key(&w, "data");
            if (!record(&w, x->b, why, sizeof why)) { FAIL("%s: %s", loc(pr, x->span, where, sizeof where), why); goto next; }
            jw_end_obj(&w);
            uint64_t before = eng_count(eng);
            EngResult r = eng_event(eng, w.p, w.n, why, sizeof why);
            if (r != ENG_OK) { FAIL("%s: the event was refused: %s", loc(pr, x->span, where, sizeof where), why); break; }
            /* entities the event created (a deal by routing, ...) are the last of their kind */
            for (uint64_t h = before + 1; h <= eng_count(eng); h++) {
                Ent *e2 = eng_entity(eng, h);
                if (e2 && !e2->merged_into && e2->kind < 64) last[e2->kind] = h;
            }
            /* remember the subject */
            for (uint64_t h = eng_count(eng); h >= 1; h--) {
                Ent *e2 = eng_entity(eng, h);
                if (e2 && !e2->merged_into) {
                    int64_t la = DNA_NIL;
                    uint32_t ls = bundle_slot(b, e2->kind, "last_activity_at");
                    if (ls != DNA_NIL && e2->slots[ls].kind == DNA_VK_INT) la = e2->slots[ls].u.i;
                    if (la == at && e2->kind < 64) { last[e2->kind] = h; break; }
                }
            }
            break;
        }
        case N_TWAIT: {
            int64_t d = x->a && x->a->kind == N_DURATION ? x->a->num * 1000 : 0;
            clock += d;
            uint64_t before = eng_count(eng);
            eng_advance(eng, clock);
            for (uint64_t h = before + 1; h <= eng_count(eng); h++) {
                Ent *e2 = eng_entity(eng, h);
                if (e2 && !e2->merged_into && e2->kind < 64) last[e2->kind] = h;
            }
            break;
        }
        case N_EXPECT: {
            int neg = (x->flags & EXPECT_NEGATED) != 0;
            if (x->op == EXP_TRUE) {
                const EmitExpect *ee = NULL;
                for (uint32_t i = 0; i < et->n; i++) if (et->v[i].expect == x) ee = &et->v[i];
                if (!ee || ee->unit == DNA_NIL) break;
                Ent *ent = ee->entity < 64 && last[ee->entity] ? eng_entity(eng, last[ee->entity]) : NULL;
                for (int g = 0; ent && ent->merged_into && g < 64; g++) ent = eng_entity(eng, ent->merged_into);
                if (ee->entity != DNA_NIL && !ent) {
                    FAIL("%s: expect %s: there is no %s in this test", loc(pr, x->span, where, sizeof where),
                         node_text(pr, x->a, txt, sizeof txt), bundle_str(b, b->entities[ee->entity].name));
                    break;
                }
                DnaValue v;
                if (eng_eval_at(eng, ent ? ent->handle : 0, ee->unit, clock, &v, why, sizeof why) != 0) {
                    FAIL("%s: expect %s: %s", loc(pr, x->span, where, sizeof where), node_text(pr, x->a, txt, sizeof txt), why);
                    break;
                }
                if (v.kind == DNA_VK_INT && v.u.i) break;
                char actual[256] = "";
                if (ee->actual != DNA_NIL) {
                    DnaValue a;
                    if (eng_eval_at(eng, ent ? ent->handle : 0, ee->actual, clock, &a, why, sizeof why) == 0) {
                        JsonW aw;
                        jw_init(&aw);
                        eng_value_json(eng, &aw, a, b->units[ee->actual].type);
                        char lt[200];
                        snprintf(actual, sizeof actual, "\n      %s is %s", node_text(pr, x->a->a, lt, sizeof lt), aw.p ? aw.p : "?");
                        jw_free(&aw);
                    }
                }
                FAIL("%s: expect %s: false%s", loc(pr, x->span, where, sizeof where), node_text(pr, x->a, txt, sizeof txt), actual);
            } else {
                int found = 0;
                for (uint32_t i = 0; i < cap.n && !found; i++) found = effect_matches(x, &cap.v[i]);
                if (found == neg)
                    FAIL("%s: %s: %s", loc(pr, x->span, where, sizeof where), node_text(pr, x, txt, sizeof txt),
                         neg ? "it happened" : "it did not happen");
            }
            break;
        }
        default: break;
        }
    next:;
    }
    char name[256];
    snprintf(name, sizeof name, "%s", t->a && t->a->name ? t->a->name : "?");
    fprintf(out, "%s \"%s\" (%s)\n", nfail ? "FAIL" : "ok  ", name, loc(pr, t->span, where, sizeof where));
    for (int i = 0; i < nfail && i < 16; i++) fprintf(out, "    %s\n", fails[i].text);
    if (nfail > 16) fprintf(out, "    ... and %d more\n", nfail - 16);
    if ((nfail || verbose) && cap.n) {
        fprintf(out, "    effects:\n");
        for (uint32_t i = 0; i < cap.n; i++) fprintf(out, "      %s\n", cap.v[i].line);
    }
    jw_free(&w);
    eng_free(eng);
    st->ops->free(st);
    captured_free(&cap);
    return nfail == 0;
}

int tr_run(Project *pr, FILE *out, int verbose, const char *filter, TestSummary *sum)
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
    for (uint32_t i = 1; i < pr->src.n; i++) {
        if (pr->src.files[i]->is_stdlib) continue;
        for (Node *d = pr->files[i] ? pr->files[i]->list : NULL; d; d = d->next) {
            if (d->kind != N_TEST) continue;
            if (filter && (!d->a->name || !strstr(d->a->name, filter))) continue;
            if (run_test(pr, &b, &et, d, out, verbose)) sum->passed++;
            else sum->failed++;
        }
    }
    bundle_free(&b);
    emit_tests_free(&et);
    return 0;
}
