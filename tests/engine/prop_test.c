/*
 * prop_test.c - the entity clock as a property: random arrival orders of a
 * generated stream (a share of the events delayed by up to 12 hours)
 * through the engine and through a small model of the semantics written
 * from the language brief (Time, The entity clock, Caps, Expiry and decay,
 * Signals and alerts, State triggers, Numbers), not from the engine:
 * entries kept one by one and summed entry by entry, cap windows kept as a
 * list, alert deadlines in a list of timers fired in due order before each
 * event whose occurred_at reaches them.  Every effect (score, capped,
 * signal, alert, overdue, notify: which event, which rule, at what time,
 * which values) and every final score must agree.
 *
 *   prop_test [ORDERS]      (default 40 arrival orders)
 */
#include "../vm/compile_util.h"
#include "engine/engine.h"
#include "base/clock.h"

#include <jansson.h>
#include <math.h>
#include <stdint.h>

#define H 3600000LL
#define DAY (24 * H)
#define NLEADS 6
#define NEV 360
#define MAXENT 400

static const char *rules =
    "module prop\n"
    "event visit {}\nevent touch {}\nevent ping {}\n"
    "entity lead { identity email }\n"
    "connector slack slack_webhook url env(\"SLACK_WEBHOOK_URL\")\n"
    "score e for lead { on visit add 10 limit 2 per day expire 30h }\n"
    "score h for lead { on visit add 5 decay half_life 10h }\n"
    "score l for lead { on touch add 20 decay linear 20h }\n"
    "score p for lead { on ping add 1 limit 3 per lead }\n"
    "signal S for lead {\n  on touch\n  weight 10\n  decay linear 24h\n  priority critical\n}\n"
    "workflow up for lead {\n  on lead.score crosses above 60\n  do notify slack \"#up\" \"up\"\n}\n"
    "workflow down for lead {\n  on lead.score crosses below 30\n  do notify slack \"#down\" \"down\"\n}\n";

/* ---- the stream --------------------------------------------------------------- */

typedef struct Ev { int id, lead, type; int64_t at, arrive; } Ev;      /* type: 0 visit, 1 touch, 2 ping */
static const char *const tnames[] = { "visit", "touch", "ping" };

static uint64_t rng;
static uint64_t rnd(void)
{
    rng ^= rng << 13; rng ^= rng >> 7; rng ^= rng << 17;
    return rng;
}

static int by_arrival(const void *a, const void *b)
{
    const Ev *x = a, *y = b;
    if (x->arrive != y->arrive) return x->arrive < y->arrive ? -1 : 1;
    return x->id - y->id;
}

/* ---- the model --------------------------------------------------------------------- */

enum { C_E, C_H, C_L, C_P, NCOMP };

typedef struct Entry { int comp; int64_t at, pts; } Entry;
typedef struct Win { int64_t w; int n; } Win;
typedef struct Sig { int64_t at, due, closed; int open; uint64_t alert; } Sig;
#define MAXSIG 64
typedef struct MLead {
    int exists;
    int64_t clock;
    Entry ent[MAXENT];
    int nent;
    Win caps[2][2];             /* per capped rule (e, p): the two latest windows, [0] latest */
    int ncaps[2];
    int64_t obs;                /* the last observation of lead.score (thousandths) */
    Sig sig[MAXSIG];            /* signal S: detections and their alerts */
    int nsig;
} MLead;

/* alert deadlines: fired in (due, set order) before an event that reaches them */
typedef struct MTimer { int64_t due; uint64_t seq; int lead; uint64_t alert; } MTimer;
static MTimer mtimers[4096];
static int nmt;
static uint64_t mseq, malerts;

typedef struct Rec { char kind[12], rule[8], ev[16], at[32]; int64_t value, total; } Rec;

static double entry_value(const Entry *x, int64_t now)
{
    double age = (double)(now - x->at), p = (double)x->pts;
    switch (x->comp) {
    case C_E: return now < x->at + 30 * H ? p : 0;
    case C_H: return p * pow(0.5, age / (double)(10 * H));
    case C_L: return now < x->at + 20 * H ? p * (1 - age / (double)(20 * H)) : 0;
    default: return p;
    }
}

static int64_t comp_value(const MLead *m, int c, int64_t now)
{
    double v = 0;
    for (int i = 0; i < m->nent; i++) if (m->ent[i].comp == c) v += entry_value(&m->ent[i], now);
    return (int64_t)nearbyint(v);
}

static int64_t score(const MLead *m, int64_t now)
{
    int64_t s = 0;
    for (int c = 0; c < NCOMP; c++) s += comp_value(m, c, now);
    return s;
}

/* The brief's Caps: the counts of the two latest windows the rule applied
 * in; an application older than both counts against the older. */
static int cap_ok(MLead *m, int ci, int64_t win, int limit)
{
    Win *w = m->caps[ci];
    int *n = &m->ncaps[ci];
    Win *slot = NULL;
    for (int i = 0; i < *n; i++) if (w[i].w == win) slot = &w[i];
    if (!slot) {
        if (*n == 0) { w[0] = (Win){ win, 0 }; *n = 1; slot = &w[0]; }
        else if (win > w[0].w) { w[1] = w[0]; w[0] = (Win){ win, 0 }; *n = 2; slot = &w[0]; }
        else if (*n == 1 || win > w[1].w) { w[1] = (Win){ win, 0 }; *n = 2; slot = &w[1]; }
        else slot = &w[1];
    }
    if (slot->n >= limit) return 0;
    slot->n++;
    return 1;
}

static void rec(Rec *r, int *nr, const char *kind, const char *rule, int id, int64_t now, int64_t value, int64_t total)
{
    Rec *x = &r[(*nr)++];
    snprintf(x->kind, sizeof x->kind, "%s", kind);
    snprintf(x->rule, sizeof x->rule, "%s", rule);
    if (id) snprintf(x->ev, sizeof x->ev, "e%d", id); else snprintf(x->ev, sizeof x->ev, "-");
    clk_format(now, x->at);
    x->value = value;
    x->total = total;
}

static void observe(MLead *m, int64_t now, int id, Rec *r, int *nr)
{
    int64_t cur = score(m, now), prev = m->obs;
    if (prev < 60000 && cur >= 60000) rec(r, nr, "notify", "up", id, now, 0, 0);
    if (prev >= 30000 && cur < 30000) rec(r, nr, "notify", "down", id, now, 0, 0);
    m->obs = cur;
}

static void overdue_now(Sig *g, int64_t now, int id, Rec *r, int *nr)
{
    g->open = 0;
    g->closed = now;
    rec(r, nr, "overdue", "-", id, now, 0, 0);
}

/* The brief's Signals and alerts, with the entity clock: detected at the
 * event's occurred_at, due SLA (1h) after; seen again while open: the
 * detection moves forward, never back; a repeat older than the latest
 * detection moves nothing; a deadline passed at `now` is overdue at once.
 * Closed signals are forgotten once decayed (24h after both detection and
 * closing). */
static void model_signal(MLead *m, int lead, const Ev *v, int64_t now, Rec *r, int *nr)
{
    int k = 0;
    for (int i = 0; i < m->nsig; i++) {
        Sig *g = &m->sig[i];
        int dead = !g->open && now >= g->at + DAY && now >= g->closed + DAY;
        if (!dead) m->sig[k++] = *g;
    }
    m->nsig = k;
    Sig *open = NULL, *last = NULL;
    for (int i = 0; i < m->nsig; i++) {
        if (m->sig[i].open) open = &m->sig[i];
        if (!last || m->sig[i].at > last->at) last = &m->sig[i];
    }
    Sig *again = open ? open : last && last->at >= v->at ? last : NULL;
    if (again) {
        if (v->at > again->at && again->open) again->at = v->at;
        rec(r, nr, "signal", "S#1", v->id, now, 0, 0);
        return;
    }
    if (m->nsig == MAXSIG) return;
    Sig *g = &m->sig[m->nsig++];
    *g = (Sig){ v->at, v->at + H, 0, 1, ++malerts };
    rec(r, nr, "signal", "S#1", v->id, now, 0, 0);
    rec(r, nr, "alert", "S#1", v->id, now, 0, 0);
    if (g->due <= now) { overdue_now(g, now, v->id, r, nr); return; }
    if (nmt < 4096) mtimers[nmt++] = (MTimer){ g->due, mseq++, lead, g->alert };
}

/* Fire the alert timers due at or before t, in (due, set order). */
static void model_timers(MLead *ls, int64_t t, Rec *r, int *nr)
{
    for (;;) {
        int best = -1;
        for (int i = 0; i < nmt; i++)
            if (mtimers[i].due <= t && (best < 0 || mtimers[i].due < mtimers[best].due ||
                                         (mtimers[i].due == mtimers[best].due && mtimers[i].seq < mtimers[best].seq)))
                best = i;
        if (best < 0) return;
        MTimer tm = mtimers[best];
        mtimers[best] = mtimers[--nmt];
        MLead *m = &ls[tm.lead];
        int64_t now = tm.due > m->clock ? tm.due : m->clock;
        observe(m, now, 0, r, nr);
        for (int i = 0; i < m->nsig; i++)
            if (m->sig[i].alert == tm.alert && m->sig[i].open) overdue_now(&m->sig[i], now, 0, r, nr);
        observe(m, now, 0, r, nr);
        m->clock = now;
    }
}

static void model_event(MLead *ls, const Ev *v, Rec *r, int *nr)
{
    model_timers(ls, v->at, r, nr);             /* timers due at or before the event fire first */
    MLead *m = &ls[v->lead];
    if (!m->exists) { memset(m, 0, sizeof *m); m->exists = 1; m->clock = INT64_MIN; m->obs = 0; }
    int64_t now = v->at > m->clock ? v->at : m->clock;
    observe(m, now, v->id, r, nr);
    struct { int comp, cap, limit; int64_t pts; const char *rule; } rs[2];
    int n = 0;
    if (v->type == 0) {
        rs[n++] = (typeof(rs[0])){ C_E, 0, 2, 10000, "e#1" };
        rs[n++] = (typeof(rs[0])){ C_H, -1, 0, 5000, "h#1" };
    } else if (v->type == 1) rs[n++] = (typeof(rs[0])){ C_L, -1, 0, 20000, "l#1" };
    else rs[n++] = (typeof(rs[0])){ C_P, 1, 3, 1000, "p#1" };
    for (int i = 0; i < n; i++) {
        int64_t win = rs[i].cap == 0 ? v->at - v->at % DAY : 0;        /* UTC days; `per lead`: one window */
        if (rs[i].cap >= 0 && !cap_ok(m, rs[i].cap, win, rs[i].limit)) {
            rec(r, nr, "capped", rs[i].rule, v->id, now, 0, 0);
            continue;
        }
        if (m->nent < MAXENT) m->ent[m->nent++] = (Entry){ rs[i].comp, v->at, rs[i].pts };
        rec(r, nr, "score", rs[i].rule, v->id, now, comp_value(m, rs[i].comp, now), score(m, now));
    }
    if (v->type == 1) model_signal(m, v->lead, v, now, r, nr);
    observe(m, now, v->id, r, nr);
    m->clock = now;
}

/* ---- the engine -------------------------------------------------------------------------- */

typedef struct Got { Rec *r; int n, cap; } Got;

static void sink(void *ud, const EngEffect *ef)
{
    Got *g = ud;
    if (g->n == g->cap) return;
    json_t *j = json_loadb(ef->line, ef->len, 0, NULL);
    Rec *x = &g->r[g->n++];
    memset(x, 0, sizeof *x);
    snprintf(x->kind, sizeof x->kind, "%s", json_string_value(json_object_get(j, "kind")));
    const char *rule = json_string_value(json_object_get(j, "rule"));
    snprintf(x->rule, sizeof x->rule, "%s", rule ? rule : "-");
    const char *ev = json_string_value(json_object_get(j, "event"));
    snprintf(x->ev, sizeof x->ev, "%s", ev ? ev : "-");
    snprintf(x->at, sizeof x->at, "%s", json_string_value(json_object_get(j, "at")));
    json_t *d = json_object_get(j, "detail");
    if (!strcmp(x->kind, "score")) {
        x->value = (int64_t)llround(json_number_value(json_object_get(d, "value")) * 1000);
        x->total = (int64_t)llround(json_number_value(json_object_get(d, "total")) * 1000);
    }
    json_decref(j);
}

static int same(const Rec *a, const Rec *b)
{
    return !strcmp(a->kind, b->kind) && !strcmp(a->rule, b->rule) && !strcmp(a->ev, b->ev) && !strcmp(a->at, b->at) &&
           llabs(a->value - b->value) <= 1 && llabs(a->total - b->total) <= 4;
}

int main(int argc, char **argv)
{
    int orders = argc > 1 ? atoi(argv[1]) : 40;
    Project pr;
    DnaBundle b;
    if (cu_load(&pr, "prop.dna", rules, NULL, &b)) return 2;
    static Ev evs[NEV];
    static Rec want[NEV * 8], gotr[NEV * 8];
    static MLead leads[NLEADS];
    int failures = 0, late_total = 0;
    int64_t t0 = 1790812800000LL;                   /* 2026-10-01T00:00:00Z */
    for (int o = 0; o < orders && failures < 3; o++) {
        rng = 0x9E3779B97F4A7C15ULL * (uint64_t)(o + 1);
        int64_t t = t0;
        for (int i = 0; i < NEV; i++) {
            t += (int64_t)(rnd() % (40 * 60000));   /* up to 40 minutes apart: about 5 days */
            evs[i].id = i + 1;
            evs[i].lead = (int)(rnd() % NLEADS);
            uint64_t k = rnd() % 10;
            evs[i].type = k < 5 ? 0 : k < 8 ? 1 : 2;
            evs[i].at = t;
            /* a quarter arrive up to 12 hours late (the first order: none) */
            evs[i].arrive = o && rnd() % 4 == 0 ? t + (int64_t)(rnd() % (12 * H)) : t;
        }
        qsort(evs, NEV, sizeof *evs, by_arrival);
        /* the model */
        memset(leads, 0, sizeof leads);
        nmt = 0;
        mseq = malerts = 0;
        int nw = 0;
        for (int i = 0; i < NEV; i++) model_event(leads, &evs[i], want, &nw);
        /* the engine */
        Got g = { gotr, 0, NEV * 8 };
        Store *st = store_mem_new();
        Engine *e = eng_new(&b, st, sink, &g);
        char buf[512], why[256];
        for (int i = 0; i < NEV; i++) {
            char at[32];
            clk_format(evs[i].at, at);
            snprintf(buf, sizeof buf, "{\"id\":\"e%d\",\"type\":\"%s\",\"occurred_at\":\"%s\",\"subject\":{\"email\":\"l%d@x\"}}",
                     evs[i].id, tnames[evs[i].type], at, evs[i].lead);
            if (eng_event(e, buf, strlen(buf), why, sizeof why) != ENG_OK) { fprintf(stderr, "rejected: %s\n", why); failures++; }
        }
        late_total += (int)eng_stats(e)->late;
        int bad = g.n != nw;
        for (int i = 0; i < nw && i < g.n && !bad; i++)
            if (!same(&want[i], &gotr[i])) {
                fprintf(stderr, "order %d, effect %d: model %s %s %s at %s value %lld total %lld; engine %s %s %s at %s value %lld total %lld\n",
                        o, i + 1, want[i].kind, want[i].rule, want[i].ev, want[i].at, (long long)want[i].value, (long long)want[i].total,
                        gotr[i].kind, gotr[i].rule, gotr[i].ev, gotr[i].at, (long long)gotr[i].value, (long long)gotr[i].total);
                bad = 1;
            }
        if (g.n != nw) fprintf(stderr, "order %d: %d effects from the model, %d from the engine\n", o, nw, g.n);
        /* final scores, read at the end of the stream */
        int64_t end = t + DAY;
        for (int l = 0; l < NLEADS && !bad; l++) {
            char key[16];
            snprintf(key, sizeof key, "l%d@x", l);
            uint64_t h = eng_find(e, "lead", key);
            if (!h) continue;
            JsonW w;
            jw_init(&w);
            eng_entity_json(e, h, eng_read_time(e, h, end), &w);
            json_t *j = json_loadb(w.p, w.n, 0, NULL);
            int64_t total = (int64_t)llround(json_number_value(json_object_get(json_object_get(j, "score"), "total")) * 1000);
            int64_t mt = score(&leads[l], end > leads[l].clock ? end : leads[l].clock);
            if (llabs(total - mt) > 4) { fprintf(stderr, "order %d: %s final score %lld, model %lld\n", o, key, (long long)total, (long long)mt); bad = 1; }
            json_decref(j);
            jw_free(&w);
        }
        failures += bad;
        eng_free(e);
        st->ops->free(st);
    }
    bundle_free(&b);
    proj_free(&pr);
    if (failures) { fprintf(stderr, "prop_test: %d of %d orders disagree with the model\n", failures, orders); return 1; }
    if (late_total == 0) { fprintf(stderr, "prop_test: no late events were generated\n"); return 1; }
    printf("prop_test: %d arrival orders (%d late events) agree with the model\n", orders, late_total);
    return 0;
}
