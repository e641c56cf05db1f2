/*
 * eng_rules.c - what rules do: points with caps, signals and alerts,
 * derived fields, state triggers, routing and assignment, workflow
 * actions, timers firing, and the effect lines that explain each of them.
 */
#include "engine/eng_int.h"
#include "base/clock.h"
#include "base/mem.h"

#include <assert.h>
#include <stdio.h>
#include <string.h>

#define B (e->b)
#define S(i) bundle_str(e->b, (i))

static const char *const mode_names[] = { "live", "approval", "shadow" };
static const char *const prio_names[] = { "critical", "high", "medium", "low" };

/* ---- effects --------------------------------------------------------------- */

void eng_write_value(Engine *e, JsonW *w, DnaValue v, DnaType t)
{
    if (v.kind == DNA_VK_NONE) { jw_null(w); return; }
    if (v.kind == DNA_VK_STR) { jw_strn(w, v.u.s, v.len); return; }
    if (v.kind != DNA_VK_INT) { jw_null(w); return; }
    switch (t.code) {
    case DT_BOOL: jw_bool(w, v.u.i != 0); break;
    case DT_DEC: jw_milli(w, v.u.i); break;
    case DT_TS: jw_time(w, v.u.i); break;
    case DT_ENUM:
        if (t.ref < B->nenums && (uint64_t)v.u.i < B->enums[t.ref].nvalues) jw_str(w, S(B->enums[t.ref].values[v.u.i]));
        else jw_int(w, v.u.i);
        break;
    case DT_REF: {
        Ent *r = eng_live(e, (uint64_t)v.u.i);
        jw_str(w, r ? eng_key_of(e, r) : "");
        break;
    }
    case DT_DUR: {
        char b[32];
        int64_t ms = v.u.i;
        if (ms % 86400000 == 0) snprintf(b, sizeof b, "%lldd", (long long)(ms / 86400000));
        else if (ms % 3600000 == 0) snprintf(b, sizeof b, "%lldh", (long long)(ms / 3600000));
        else if (ms % 60000 == 0) snprintf(b, sizeof b, "%lldm", (long long)(ms / 60000));
        else snprintf(b, sizeof b, "%llds", (long long)(ms / 1000));
        jw_str(w, b);
        break;
    }
    default: jw_int(w, v.u.i);
    }
}

static void write_reads(Engine *e, Ent *x, uint32_t unit, int *opened)
{
    if (unit == DNA_NIL || unit >= B->nunits) return;
    const UnitReads *r = &e->reads[unit];
    JsonW *w = &e->w;
    for (uint32_t i = 0; i < r->n; i++) {
        char key[160];
        DnaValue v = dna_none();
        DnaType t = { 0 };
        if (r->v[i].from_event) {
            if (e->evtype == DNA_NIL || r->v[i].slot >= e->nevslots) continue;
            const DnaSlot *sl = &B->events[e->evtype].slots[r->v[i].slot];
            snprintf(key, sizeof key, "event.%s", S(sl->name));
            v = e->evslots[r->v[i].slot];
            t = sl->type;
        } else {
            if (!x || r->v[i].slot >= x->nslots) continue;
            const DnaSlot *sl = &B->entities[x->kind].slots[r->v[i].slot];
            snprintf(key, sizeof key, "%s.%s", S(B->entities[x->kind].name), S(sl->name));
            v = x->slots[r->v[i].slot];
            t = sl->type;
        }
        if (!*opened) { jw_key(w, "read"); jw_obj(w); *opened = 1; }
        jw_key(w, key);
        eng_write_value(e, w, v, t);
    }
}

void eff_begin(Engine *e, Ent *x, EffKind k, uint32_t rule)
{
    JsonW *w = &e->w;
    jw_reset(w);
    jw_obj(w);
    jw_key(w, "event");
    if (e->evid) jw_str(w, e->evid); else jw_null(w);
    jw_key(w, "at");
    jw_time(w, e->now);
    jw_key(w, "rule");
    if (rule != DNA_NIL && rule < B->nrules) jw_str(w, S(B->rules[rule].name)); else jw_null(w);
    jw_key(w, "kind");
    jw_str(w, eng_effect_name(k));
    jw_key(w, "entity");
    if (x) {
        jw_obj(w);
        jw_key(w, "kind");
        jw_str(w, S(B->entities[x->kind].name));
        jw_key(w, "key");
        jw_str(w, eng_key_of(e, x));
        jw_end_obj(w);
    } else jw_null(w);
    if (rule != DNA_NIL && rule < B->nrules && B->rules[rule].kind == DR_WORKFLOW) {
        jw_key(w, "mode");
        jw_str(w, mode_names[B->rules[rule].mode % 3]);
        if (e->approving) { jw_key(w, "approval"); jw_int(w, (int64_t)e->approving); }
    }
    jw_key(w, "detail");
    jw_obj(w);
}

void eff_end(Engine *e, Ent *x, EffKind k, uint32_t rule)
{
    JsonW *w = &e->w;
    jw_end_obj(w);                              /* detail */
    jw_key(w, "trace");
    jw_obj(w);
    if (rule != DNA_NIL && rule < B->nrules) {
        const DnaRule *r = &B->rules[rule];
        jw_key(w, "source");
        char loc[512];
        snprintf(loc, sizeof loc, "%s:%u:%u", r->file < B->nfiles ? S(B->files[r->file].path) : "?", r->line, r->col);
        jw_str(w, loc);
        int opened = 0;
        write_reads(e, x, r->cond, &opened);
        if (r->kind == DR_SCORE || r->kind == DR_INTENT || r->kind == DR_WORKFLOW) write_reads(e, x, r->value, &opened);
        if (opened) jw_end_obj(w);
    }
    if (e->call_conn) {                         /* a connector_result's sets */
        jw_key(w, "connector"); jw_str(w, e->call_conn);
        jw_key(w, "method"); jw_str(w, e->call_method);
    }
    if (!e->evid) { jw_key(w, "timer"); jw_bool(w, 1); }
    if (e->depth) { jw_key(w, "chain"); jw_int(w, e->depth); }
    jw_end_obj(w);
    jw_end_obj(w);
    e->stats.effects[k]++;
    if (e->sink && !w->oom) {
        int external = k == EFF_TASK || k == EFF_NOTIFY || k == EFF_WEBHOOK || k == EFF_CONNECTOR || k == EFF_ENROLL ||
                       k == EFF_SEQUENCE_STEP;
        EngEffect ef = { k, rule != DNA_NIL && rule < B->nrules ? B->rules[rule].mode : 0,
                         (uint8_t)external, x ? x->handle : 0, e->now, w->p, w->n };
        e->sink(e->ud, &ef);
    }
}

/* ---- points ----------------------------------------------------------------- */

static const char *unit_tz(Engine *e, const DnaRule *r)
{
    uint32_t u = r->value != DNA_NIL ? r->value : r->cond;
    if (u == DNA_NIL || u >= B->nunits || B->units[u].tz == DNA_NIL) return NULL;
    return S(B->units[u].tz);
}

static int64_t window_of(Engine *e, const DnaRule *r)
{
    const char *tz = unit_tz(e, r);
    const Zone *z = clk_zone(tz);
    if (!z) z = clk_zone("UTC");
    switch ((DnaWindow)r->window) {
    case DW_DAY: return clk_window(z, e->at, CLK_PER_DAY);
    case DW_WEEK: return clk_window(z, e->at, CLK_PER_WEEK);
    case DW_MONTH: return clk_window(z, e->at, CLK_PER_MONTH);
    default: return 0;
    }
}

/* Count an application in the calendar window of its occurred_at; 0 when
 * the limit is reached there (the caller traces it).  The counts of the
 * two latest windows the rule applied in are kept: an application in a
 * newer window starts it (the latest becomes the one before), one in
 * either counts there, one between them replaces the older, and one older
 * than both counts against the older of the two. */
static int cap_take(Engine *e, Ent *x, uint32_t ri, uint32_t *count)
{
    const DnaRule *r = &B->rules[ri];
    if (!r->limit) return 1;
    int64_t win = window_of(e, r);
    EntCap *c = NULL;
    for (uint32_t i = 0; i < x->ncaps; i++) if (x->caps[i].rule == ri) c = &x->caps[i];
    if (!c) {
        if (x->ncaps == x->capcaps) {
            uint32_t nc = x->capcaps ? x->capcaps * 2 : 4;
            EntCap *n2 = dna_realloc(x->caps, sizeof(EntCap) * x->capcaps, sizeof(EntCap) * nc);
            if (!n2) return 0;
            x->caps = n2;
            x->capcaps = nc;
        }
        c = &x->caps[x->ncaps++];
        memset(c, 0, sizeof *c);
        c->rule = ri;
        c->window = win;
        c->prev_window = INT64_MIN;
    }
    assert(c->prev_window == INT64_MIN || c->prev_window < c->window);
    uint32_t *n;
    if (win == c->window) n = &c->count;
    else if (win > c->window) {
        c->prev_window = c->window;
        c->prev_count = c->count;
        c->window = win;
        c->count = 0;
        n = &c->count;
    } else if (win == c->prev_window || (c->prev_window != INT64_MIN && win < c->prev_window)) n = &c->prev_count;
    else {                                      /* between the two, or older than the only one */
        c->prev_window = win;
        c->prev_count = 0;
        n = &c->prev_count;
    }
    *count = *n;
    if (*n >= r->limit) return 0;
    (*n)++;
    *count = *n;
    return 1;
}

static const char *const window_names[] = { "", "day", "week", "month", "lifetime" };
static const char *const decay_names[] = { "", "expire", "linear", "half_life" };

static int64_t as_points(Engine *e, uint32_t unit, DnaValue v)
{
    if (v.kind != DNA_VK_INT) return 0;
    if (unit < B->nunits && B->units[unit].type.code == DT_INT) return v.u.i * 1000;
    return v.u.i;
}

static void points(Engine *e, Ent *x, uint32_t ri)
{
    const DnaRule *r = &B->rules[ri];
    if (!eng_truthy(e, x, r->cond)) return;
    DnaValue pv;
    eng_eval(e, x, r->value, &pv);
    int64_t pts = as_points(e, r->value, pv);
    uint32_t count = 0;
    const char *comp = S(B->entities[x->kind].slots[r->target].name);
    const char *dot = strchr(comp, '.');
    comp = dot ? dot + 1 : comp;
    if (!cap_take(e, x, ri, &count)) {
        eff_begin(e, x, EFF_CAPPED, ri);
        jw_key(&e->w, r->kind == DR_SCORE ? "component" : "category");
        jw_str(&e->w, comp);
        jw_key(&e->w, "points");
        jw_milli(&e->w, pts);
        jw_key(&e->w, "limit");
        jw_int(&e->w, r->limit);
        jw_key(&e->w, "per");
        jw_str(&e->w, window_names[r->window % 5]);
        eff_end(e, x, EFF_CAPPED, ri);
        return;
    }
    uint32_t li = e->ledger_of[x->kind][r->target];
    if (li == DNA_NIL) return;
    LedKind lk = r->decay == DD_EXPIRE ? LED_EXPIRE : r->decay == DD_LINEAR ? LED_LINEAR
               : r->decay == DD_HALF_LIFE ? LED_HALF_LIFE : LED_PLAIN;
    led_add(&x->ledgers[li], lk, r->decay_ms, e->at, pts);      /* dated by its occurred_at */
    x->dirty = 1;
    eng_refresh(e, x, e->now);
    EffKind k = r->kind == DR_SCORE ? EFF_SCORE : EFF_INTENT;
    eff_begin(e, x, k, ri);
    JsonW *w = &e->w;
    jw_key(w, r->kind == DR_SCORE ? "component" : "category");
    jw_str(w, comp);
    jw_key(w, "points");
    jw_milli(w, pts);
    jw_key(w, "value");
    jw_milli(w, x->slots[r->target].u.i);
    uint32_t ss = r->kind == DR_SCORE ? eng_slot(e, x->kind, "score") : eng_slot(e, x->kind, "intent.total");
    if (ss != DNA_NIL) { jw_key(w, "total"); jw_milli(w, x->slots[ss].u.i); }
    jw_key(w, "ledger");
    jw_obj(w);
    jw_key(w, "at");
    jw_time(w, e->at);
    jw_key(w, "points");
    jw_milli(w, pts);
    if (r->decay) {
        jw_key(w, decay_names[r->decay % 4]);
        eng_write_value(e, w, dna_int(r->decay_ms), (DnaType){ .code = DT_DUR });
    }
    if (r->limit) {
        jw_key(w, "count");
        jw_int(w, count);
        jw_key(w, "limit");
        jw_int(w, r->limit);
        jw_key(w, "per");
        jw_str(w, window_names[r->window % 5]);
    }
    jw_end_obj(w);
    eff_end(e, x, k, ri);
}

/* ---- signals and alerts -------------------------------------------------------- */

static EntSignal *add_signal(Ent *x)
{
    if (x->nsignals == x->capsignals) {
        uint32_t nc = x->capsignals ? x->capsignals * 2 : 4;
        EntSignal *n2 = dna_realloc(x->signals, sizeof(EntSignal) * x->capsignals, sizeof(EntSignal) * nc);
        if (!n2) return NULL;
        x->signals = n2;
        x->capsignals = nc;
    }
    EntSignal *s = &x->signals[x->nsignals++];
    memset(s, 0, sizeof *s);
    return s;
}

/* Forget signals that have decayed to nothing and whose alert is closed. */
static void prune_signals(Engine *e, Ent *x)
{
    uint32_t k = 0;
    for (uint32_t i = 0; i < x->nsignals; i++) {
        EntSignal *s = &x->signals[i];
        const DnaSignal *ds = &B->signals[s->signal];
        int dead = s->status != AL_OPEN && e->now >= s->at + ds->decay_ms && e->now >= s->closed_at + ds->decay_ms;
        if (!dead) x->signals[k++] = *s;
    }
    x->nsignals = k;
}

static void overdue(Engine *e, Ent *x, EntSignal *s);

#ifndef NDEBUG
/* an entity holds at most one open alert per signal */
static int open_alerts(const Ent *x, uint32_t sig)
{
    int n = 0;
    for (uint32_t i = 0; i < x->nsignals; i++) n += x->signals[i].signal == sig && x->signals[i].status == AL_OPEN;
    return n;
}
#endif

/* A signal is detected at the event's occurred_at and its alert is due
 * SLA after that.  Seen again while its alert is open: the detection moves
 * forward (never back); a late repeat, older than the latest detection of
 * that signal, moves nothing.  A deadline already passed at `now` (a late
 * event) makes the alert overdue at this evaluation. */
static void signal(Engine *e, Ent *x, uint32_t ri)
{
    const DnaRule *r = &B->rules[ri];
    if (!eng_truthy(e, x, r->cond) || r->target >= B->nsignals) return;
    const DnaSignal *ds = &B->signals[r->target];
    DnaValue wv;
    eng_eval(e, x, ds->weight, &wv);
    int64_t weight = as_points(e, ds->weight, wv);
    prune_signals(e, x);
    EntSignal *open = NULL, *last = NULL;
    for (uint32_t i = 0; i < x->nsignals; i++) {
        EntSignal *si = &x->signals[i];
        if (si->signal != r->target) continue;
        if (si->status == AL_OPEN) open = si;
        if (!last || si->at > last->at) last = si;
    }
    JsonW *w = &e->w;
    EntSignal *again = open ? open : last && last->at >= e->at ? last : NULL;
    if (again) {
        int moves = e->at > again->at && again->status == AL_OPEN;
        if (moves) { again->at = e->at; again->weight = weight; }
        eff_begin(e, x, EFF_SIGNAL, ri);
        jw_key(w, "signal"); jw_str(w, S(ds->name));
        jw_key(w, "weight"); jw_milli(w, weight);
        jw_key(w, "alert"); jw_int(w, (int64_t)again->alert);
        jw_key(w, "again"); jw_bool(w, 1);
        if (e->at < again->at) { jw_key(w, "late"); jw_bool(w, 1); }
        eff_end(e, x, EFF_SIGNAL, ri);
        return;
    }
    EntSignal *s = add_signal(x);
    if (!s) return;
    s->signal = r->target;
    s->at = e->at;
    s->weight = weight;
    s->alert = ++e->next_alert;
    s->status = AL_OPEN;
    s->due = e->at + ds->sla_ms;
    uint64_t alert = s->alert;
    assert(open_alerts(x, r->target) == 1);
    x->dirty = 1;
    eff_begin(e, x, EFF_SIGNAL, ri);
    jw_key(w, "signal"); jw_str(w, S(ds->name));
    jw_key(w, "weight"); jw_milli(w, weight);
    jw_key(w, "decay"); eng_write_value(e, w, dna_int(ds->decay_ms), (DnaType){ .code = DT_DUR });
    jw_key(w, "priority"); jw_str(w, prio_names[ds->priority % 4]);
    if (e->at != e->now) { jw_key(w, "detected_at"); jw_time(w, e->at); }
    eff_end(e, x, EFF_SIGNAL, ri);
    eff_begin(e, x, EFF_ALERT, ri);
    jw_key(w, "alert"); jw_int(w, (int64_t)s->alert);
    jw_key(w, "signal"); jw_str(w, S(ds->name));
    jw_key(w, "priority"); jw_str(w, prio_names[ds->priority % 4]);
    jw_key(w, "due"); jw_time(w, s->due);
    eff_end(e, x, EFF_ALERT, ri);
    if (s->due <= e->now) { overdue(e, x, s); return; }
    TimerKey k = { x->handle, r->target, TK_ALERT | (uint32_t)(alert & 0x0FFFFFFF) };
    tmr_set(&e->timers, k, s->due, (int64_t)alert);
}

void eng_ack(Engine *e, Ent *x, uint32_t sig, uint64_t alert)
{
    for (uint32_t i = 0; i < x->nsignals; i++) {
        EntSignal *s = &x->signals[i];
        if (s->status == AL_ACKED || (sig != DNA_NIL && s->signal != sig) || (alert && s->alert != alert)) continue;
        int was_overdue = s->status == AL_OVERDUE;
        s->status = AL_ACKED;
        s->closed_at = e->now;
        TimerKey k = { x->handle, s->signal, TK_ALERT | (uint32_t)(s->alert & 0x0FFFFFFF) };
        tmr_cancel(&e->timers, k);
        x->dirty = 1;
        eff_begin(e, x, EFF_ACK, DNA_NIL);
        jw_key(&e->w, "alert"); jw_int(&e->w, (int64_t)s->alert);
        jw_key(&e->w, "signal"); jw_str(&e->w, S(B->signals[s->signal].name));
        jw_key(&e->w, "late"); jw_bool(&e->w, was_overdue || e->now > s->due);
        eff_end(e, x, EFF_ACK, DNA_NIL);
    }
}

/* ---- alerts as operators see them (engine.h) ----------------------------------- */

const char *eng_priority_name(uint32_t p) { return prio_names[p % 4]; }

static void alert_of(Engine *e, const Ent *x, const EntSignal *s, EngAlert *a)
{
    a->id = s->alert;
    a->entity = x->handle;
    a->signal = s->signal;
    a->status = s->status;
    a->raised = s->due - B->signals[s->signal].sla_ms;
    a->seen = s->at;
    a->due = s->due;
    a->closed = s->status == AL_OPEN ? 0 : s->closed_at;
}

void eng_alerts(Engine *e, int (*fn)(void *ud, const EngAlert *a), void *ud)
{
    uint64_t n = e->st->ops->count(e->st);
    for (uint64_t h = 1; h <= n; h++) {
        Ent *x = e->st->ops->get(e->st, h);
        if (!x || x->merged_into) continue;         /* a merged entity's alerts moved to the one it became */
        for (uint32_t i = 0; i < x->nsignals; i++) {
            EngAlert a;
            alert_of(e, x, &x->signals[i], &a);
            if (fn(ud, &a)) return;
        }
    }
}

typedef struct AlertFind { uint64_t id; EngAlert *out; int found; } AlertFind;

static int find_alert(void *ud, const EngAlert *a)
{
    AlertFind *f = ud;
    if (a->id != f->id) return 0;
    *f->out = *a;
    f->found = 1;
    return 1;
}

int eng_alert(Engine *e, uint64_t id, EngAlert *out)
{
    AlertFind f = { id, out, 0 };
    if (id) eng_alerts(e, find_alert, &f);
    return f.found;
}

/* ---- routing and assignment ------------------------------------------------------ */

static int member_ok(Engine *e, const DnaTeam *t, TeamState *ts, uint32_t m, const char *region,
                     const DnaArg *skills, uint32_t nskills)
{
    const DnaMember *mb = &t->members[m];
    if (mb->max > 0 && ts->current && ts->current[m] >= mb->max) return 0;
    if (region && (mb->region == DNA_NIL || strcmp(S(mb->region), region))) return 0;
    for (uint32_t i = 0; i < nskills; i++) {
        if (skills[i].konst == DNA_NIL) continue;
        const char *want = S(B->consts[skills[i].konst].str);
        int has = 0;
        for (uint32_t k = 0; k < mb->nskills; k++) has |= !strcmp(S(mb->skills[k]), want);
        if (!has) return 0;
    }
    return 1;
}

/* Pick a member by the strategy; -1 when nobody can take the entity. */
static int pick(Engine *e, uint32_t team, const char *strategy, const char *region, const DnaArg *skills,
                uint32_t nskills)
{
    if (team >= B->nteams) return -1;
    const DnaTeam *t = &B->teams[team];
    TeamState *ts = &e->teams[team];
    uint32_t n = t->nmembers;
    if (!n || !ts->current) return -1;
    if (!strcmp(strategy, "weighted")) {
        int64_t total = 0;
        int best = -1;
        for (uint32_t m = 0; m < n; m++) {
            if (!member_ok(e, t, ts, m, region, skills, nskills)) continue;
            int64_t wgt = t->members[m].weight > 0 ? t->members[m].weight : 1;
            ts->credit[m] += wgt;
            total += wgt;
            if (best < 0 || ts->credit[m] > ts->credit[best]) best = (int)m;
        }
        if (best >= 0) ts->credit[best] -= total;
        return best;
    }
    if (!strcmp(strategy, "least_loaded")) {
        int best = -1;
        for (uint32_t m = 0; m < n; m++) {
            if (!member_ok(e, t, ts, m, region, skills, nskills)) continue;
            int64_t mx = t->members[m].max > 0 ? t->members[m].max : INT32_MAX;
            /* current/max < best.current/best.max, compared without division */
            if (best < 0) { best = (int)m; continue; }
            int64_t bmx = t->members[best].max > 0 ? t->members[best].max : INT32_MAX;
            if ((__int128)ts->current[m] * bmx < (__int128)ts->current[best] * mx) best = (int)m;
        }
        return best;
    }
    /* round_robin, territory, skill_based: rotate a cursor over the eligible */
    for (uint32_t i = 0; i < n; i++) {
        uint32_t m = (uint32_t)((ts->cursor + i) % n);
        if (member_ok(e, t, ts, m, region, skills, nskills)) {
            ts->cursor = m + 1;
            return (int)m;
        }
    }
    return -1;
}

static const DnaArg *arg_of(Engine *e, const DnaAction *a, const char *key)
{
    for (uint32_t i = 0; i < a->nargs; i++)
        if (!strcmp(S(B->args[a->arg + i].key), key)) return &B->args[a->arg + i];
    return NULL;
}

DnaValue eng_arg(Engine *e, Ent *x, uint32_t argi)
{
    DnaValue v = dna_none();
    if (argi >= B->nargs) return v;
    if (e->snap && argi >= e->snap_base && argi - e->snap_base < e->snap_n) return e->snap[argi - e->snap_base];
    const DnaArg *g = &B->args[argi];
    if (g->unit != DNA_NIL) eng_eval(e, x, g->unit, &v);
    else if (g->konst != DNA_NIL && g->konst < B->nconsts) v = B->kvals[g->konst];
    return v;
}

static DnaValue arg_value(Engine *e, Ent *x, const DnaAction *a, const char *key)
{
    const DnaArg *g = arg_of(e, a, key);
    return g ? eng_arg(e, x, (uint32_t)(g - B->args)) : dna_none();
}

int eng_performs(Engine *e, uint32_t ri)
{
    const DnaRule *r = &B->rules[ri];
    return r->kind != DR_WORKFLOW || r->mode == DM_LIVE ||
           (r->mode == DM_APPROVAL && e->approving && e->approving_rule == ri);
}

static void write_arg(Engine *e, Ent *x, const DnaAction *a, const char *key, const char *as)
{
    const DnaArg *g = arg_of(e, a, key);
    if (!g) return;
    DnaValue v = arg_value(e, x, a, key);
    DnaType t = { 0 };
    if (g->unit != DNA_NIL && g->unit < B->nunits) t = B->units[g->unit].type;
    else if (g->konst != DNA_NIL) t.code = B->consts[g->konst].type;
    jw_key(&e->w, as ? as : key);
    eng_write_value(e, &e->w, v, t);
}

static void set_owner(Engine *e, Ent *x, const char *owner, size_t len)
{
    uint32_t s = eng_slot(e, x->kind, "owner");
    if (s != DNA_NIL) ent_set(x, s, owner ? dna_str(owner, (uint32_t)len) : dna_none());
}

/* The keys a strategy matches members by.  0 when a key it needs is
 * absent: `territory` without a region (the argument's or the entity's
 * `region`), `region:` given but unset, `skill_based` without skills; such
 * a strategy matches no member. */
static int strategy_keys(Engine *e, Ent *x, const DnaAction *a, const char *strategy, char region[128], int *has_region,
                         const DnaArg **skills, uint32_t *nskills)
{
    const DnaArg *rg = arg_of(e, a, "region");
    DnaValue rv = rg ? eng_arg(e, x, (uint32_t)(rg - B->args)) : dna_none();
    *has_region = rv.kind == DNA_VK_STR;
    if (*has_region) snprintf(region, 128, "%.*s", (int)rv.len, rv.u.s);
    if (rg && !*has_region) return 0;
    if (!strcmp(strategy, "territory") && !*has_region) {
        uint32_t rs = eng_slot(e, x->kind, "region");
        if (rs == DNA_NIL || x->slots[rs].kind != DNA_VK_STR) return 0;
        snprintf(region, 128, "%.*s", (int)x->slots[rs].len, x->slots[rs].u.s);
        *has_region = 1;
    }
    *skills = NULL;
    *nskills = 0;
    for (uint32_t i = 0; i < a->nargs; i++)
        if (!strcmp(S(B->args[a->arg + i].key), "skill")) { if (!*skills) *skills = &B->args[a->arg + i]; (*nskills)++; }
    if (!strcmp(strategy, "skill_based") && !*nskills) return 0;
    return 1;
}

/* Could the arm's team assignments find a member now?  (Nothing moves.) */
static int arm_assignable(Engine *e, Ent *x, const DnaArm *arm)
{
    for (uint32_t i = 0; i < arm->nactions; i++) {
        const DnaAction *a = &B->actions[arm->action + i];
        if (a->kind != DACT_ASSIGN || a->ref == DNA_NIL) continue;      /* an assignment to a team */
        if (a->ref >= B->nteams) return 0;
        const char *strategy = a->ref2 != DNA_NIL ? S(a->ref2) : "round_robin";
        char region[128];
        int has_region;
        const DnaArg *skills;
        uint32_t nskills;
        if (!strategy_keys(e, x, a, strategy, region, &has_region, &skills, &nskills)) return 0;
        const DnaTeam *t = &B->teams[a->ref];
        TeamState *ts = &e->teams[a->ref];
        int any = 0;
        for (uint32_t m = 0; m < t->nmembers && !any && ts->current; m++)
            any = member_ok(e, t, ts, m, has_region ? region : NULL, skills, nskills);
        if (!any) return 0;
    }
    return 1;
}

/* assign: returns 0 when the strategy found nobody (routing falls back) */
static int assign(Engine *e, Ent *x, uint32_t ri, const DnaAction *a, int perform)
{
    JsonW *w = &e->w;
    if (a->ref == DNA_NIL) {
        DnaValue v = arg_value(e, x, a, "owner");
        if (perform) {
            /* another owner (or none) ends the open assignment the entity holds */
            if (x->hold_team && x->hold_team <= B->nteams) {
                const char *held = S(B->teams[x->hold_team - 1].members[x->hold_member].email);
                if (v.kind != DNA_VK_STR || strlen(held) != v.len || memcmp(held, v.u.s, v.len)) eng_release(e, x);
            }
            set_owner(e, x, v.kind == DNA_VK_STR ? v.u.s : NULL, v.len);
        }
        eff_begin(e, x, EFF_ASSIGN, ri);
        write_arg(e, x, a, "owner", NULL);
        eff_end(e, x, EFF_ASSIGN, ri);
        return 1;
    }
    const char *strategy = a->ref2 != DNA_NIL ? S(a->ref2) : "round_robin";
    char region[128];
    int has_region;
    const DnaArg *skills;
    uint32_t nskills;
    if (!strategy_keys(e, x, a, strategy, region, &has_region, &skills, &nskills)) return 0;
    if (a->ref >= B->nteams) return 0;
    const DnaTeam *t = &B->teams[a->ref];
    TeamState *ts = &e->teams[a->ref];
    int m = -1;
    if (perform) m = pick(e, a->ref, strategy, has_region ? region : NULL, skills, nskills);
    else if (t->nmembers <= 256 && ts->credit) {
        /* shadow: who would it be?  The team's cursor and credits stay as they were */
        int64_t credit[256];
        uint64_t cursor = ts->cursor;
        memcpy(credit, ts->credit, sizeof(int64_t) * t->nmembers);
        m = pick(e, a->ref, strategy, has_region ? region : NULL, skills, nskills);
        memcpy(ts->credit, credit, sizeof(int64_t) * t->nmembers);
        ts->cursor = cursor;
    }
    if (perform && m < 0) return 0;
    if (perform) {
        const char *who = S(t->members[m].email);
        eng_release(e, x);                      /* the assignment it held before, if any */
        set_owner(e, x, who, strlen(who));
        eng_hold(e, x, a->ref, (uint32_t)m);
    }
    eff_begin(e, x, EFF_ASSIGN, ri);
    jw_key(w, "owner");
    if (m >= 0) jw_str(w, S(t->members[m].email)); else jw_null(w);
    jw_key(w, "team"); jw_str(w, S(t->name));
    jw_key(w, "strategy"); jw_str(w, strategy);
    if (has_region) { jw_key(w, "region"); jw_str(w, region); }
    if (m >= 0 && ts->current) {
        jw_key(w, "current"); jw_int(w, ts->current[m]);
        if (t->members[m].max > 0) { jw_key(w, "max"); jw_int(w, t->members[m].max); }
    }
    eff_end(e, x, EFF_ASSIGN, ri);
    return 1;
}

/* "state": the values of the moment the rule fires (score, grade, intent,
 * owner), recorded with a notification: it shows them whenever it is sent. */
static void write_moment(Engine *e, Ent *x)
{
    EngView v;
    JsonW *w = &e->w;
    if (!eng_view(e, x, e->now, &v)) { eng_view_free(&v); return; }
    const DnaEntity *en = &B->entities[x->kind];
    jw_key(w, "state");
    jw_obj(w);
    uint32_t ss = eng_slot(e, x->kind, "score"), gs = eng_slot(e, x->kind, "grade"), ip = eng_slot(e, x->kind, "intent.primary"),
             ic = eng_slot(e, x->kind, "intent.confidence"), os = eng_slot(e, x->kind, "owner");
    if (ss != DNA_NIL) { jw_key(w, "score"); jw_obj(w); jw_key(w, "total"); jw_milli(w, v.slots[ss].u.i); jw_end_obj(w); }
    if (gs != DNA_NIL) { jw_key(w, "grade"); eng_write_value(e, w, v.slots[gs], en->slots[gs].type); }
    if (ip != DNA_NIL) {
        jw_key(w, "intent");
        jw_obj(w);
        jw_key(w, "primary"); eng_write_value(e, w, v.slots[ip], en->slots[ip].type);
        if (ic != DNA_NIL) { jw_key(w, "confidence"); jw_milli(w, v.slots[ic].u.i); }
        jw_key(w, "points");
        jw_obj(w);
        for (uint32_t s = 0; s < en->nslots; s++) {
            if (en->slots[s].kind != DS_INTENT_CATEGORY) continue;
            const char *n = S(en->slots[s].name), *dot = strchr(n, '.');
            jw_key(w, dot ? dot + 1 : n);
            jw_milli(w, v.slots[s].u.i);
        }
        jw_end_obj(w);
        jw_end_obj(w);
    }
    if (os != DNA_NIL) {
        jw_key(w, "owner");
        if (v.slots[os].kind == DNA_VK_STR) jw_strn(w, v.slots[os].u.s, v.slots[os].len); else jw_null(w);
    }
    jw_end_obj(w);
    eng_view_free(&v);
}

/* ---- actions ------------------------------------------------------------------------- */

static void emit_event(Engine *e, Ent *x, uint32_t ri, const DnaAction *a);

/* Run one arm's actions.  Returns 0 when an assignment found nobody (the
 * caller may fall back); the actions before it have run. */
static int run_arm(Engine *e, Ent *x, uint32_t ri, const DnaArm *arm)
{
    int perform = eng_performs(e, ri);
    JsonW *w = &e->w;
    for (uint32_t i = 0; i < arm->nactions; i++) {
        const DnaAction *a = &B->actions[arm->action + i];
        x = eng_live(e, x->handle);
        switch (a->kind) {
        case DACT_SET: {
            DnaValue v = arg_value(e, x, a, "value");
            const DnaSlot *sl = a->ref < x->nslots ? &B->entities[x->kind].slots[a->ref] : NULL;
            if (!sl) break;
            if (perform) { ent_set(x, a->ref, v); x->dirty = 1; }
            eff_begin(e, x, EFF_SET, ri);
            jw_key(w, "field"); jw_str(w, S(sl->name));
            jw_key(w, "value"); eng_write_value(e, w, v, sl->type);
            eff_end(e, x, EFF_SET, ri);
            if (perform) eng_stage_sync(e, x);
            break;
        }
        case DACT_MOVE: {
            DnaValue v = arg_value(e, x, a, "value");
            if (a->ref >= x->nslots) break;
            const DnaSlot *sl = &B->entities[x->kind].slots[a->ref];
            if (perform && !(x->slots[a->ref].kind == v.kind && x->slots[a->ref].u.i == v.u.i)) {
                ent_set(x, a->ref, v);
                x->dirty = 1;
            }
            eff_begin(e, x, EFF_MOVE, ri);
            jw_key(w, "stage"); eng_write_value(e, w, v, sl->type);
            eff_end(e, x, EFF_MOVE, ri);
            if (perform) eng_stage_sync(e, x);          /* stage_entered_at, probability, capacity */
            break;
        }
        case DACT_ASSIGN:
            if (!assign(e, x, ri, a, perform)) return 0;
            break;
        case DACT_ROUTE:
            if (perform) { x->routed = 0; eng_route(e, x); }
            else {                                  /* shadow: recorded, not routed */
                eff_begin(e, x, EFF_ROUTE, ri);
                jw_key(w, "reroute"); jw_bool(w, 1);
                eff_end(e, x, EFF_ROUTE, ri);
            }
            break;
        case DACT_PIPELINE: {
            DnaValue v = arg_value(e, x, a, "pipeline");
            uint32_t ps = eng_slot(e, x->kind, "pipeline");
            if (perform && ps != DNA_NIL) ent_set(x, ps, v);
            eff_begin(e, x, EFF_ROUTE, ri);
            jw_key(w, "pipeline"); eng_write_value(e, w, v, (DnaType){ .code = DT_STR });
            eff_end(e, x, EFF_ROUTE, ri);
            break;
        }
        case DACT_CREATE:
            eng_create_deal(e, x, ri, a, perform);
            break;
        case DACT_TASK: {
            eff_begin(e, x, EFF_TASK, ri);
            write_arg(e, x, a, "title", NULL);
            DnaValue due = arg_value(e, x, a, "due");
            if (due.kind == DNA_VK_INT) { jw_key(w, "due"); jw_time(w, e->now + due.u.i); }
            write_arg(e, x, a, "assignee", NULL);
            eff_end(e, x, EFF_TASK, ri);
            break;
        }
        case DACT_NOTIFY: {
            eff_begin(e, x, EFF_NOTIFY, ri);
            if (a->ref != DNA_NIL && a->ref < B->nconnectors) {
                jw_key(w, "connector"); jw_str(w, S(B->connectors[a->ref].name));
                write_arg(e, x, a, "channel", NULL);
            } else write_arg(e, x, a, "recipient", NULL);
            write_arg(e, x, a, "message", NULL);
            write_moment(e, x);
            eff_end(e, x, EFF_NOTIFY, ri);
            break;
        }
        case DACT_WEBHOOK: {
            eff_begin(e, x, EFF_WEBHOOK, ri);
            jw_key(w, "connector"); jw_str(w, a->ref < B->nconnectors ? S(B->connectors[a->ref].name) : "?");
            write_arg(e, x, a, "event", NULL);
            eff_end(e, x, EFF_WEBHOOK, ri);
            break;
        }
        case DACT_CALL: {
            eff_begin(e, x, EFF_CONNECTOR, ri);
            jw_key(w, "connector"); jw_str(w, a->ref < B->nconnectors ? S(B->connectors[a->ref].name) : "?");
            jw_key(w, "method"); jw_str(w, a->ref2 < B->nmethods ? S(B->methods[a->ref2].name) : "?");
            jw_key(w, "args");
            jw_arr(w);
            for (uint32_t k = 0; k < a->nargs; k++) {
                const DnaArg *g = &B->args[a->arg + k];
                DnaValue v = eng_arg(e, x, a->arg + k);
                DnaType t = g->unit < B->nunits ? B->units[g->unit].type : (DnaType){ 0 };
                eng_write_value(e, w, v, t);
            }
            jw_end_arr(w);
            eff_end(e, x, EFF_CONNECTOR, ri);
            break;
        }
        case DACT_ENROLL:
            eng_enroll(e, x, ri, a, perform);
            break;
        case DACT_EMIT:
            emit_event(e, x, ri, a);
            break;
        }
    }
    return 1;
}

int eng_chain_cut(Engine *e, Ent *x, uint32_t ri, const char *what, const char *name)
{
    assert(e->depth >= 0 && e->depth <= ENG_MAX_CHAIN);
    if (e->depth < ENG_MAX_CHAIN) return 0;
    eff_begin(e, x, EFF_CHAIN_CUT, ri);
    jw_key(&e->w, what); jw_str(&e->w, name);
    jw_key(&e->w, "depth"); jw_int(&e->w, e->depth);
    eff_end(e, x, EFF_CHAIN_CUT, ri);
    return 1;
}

static void emit_event(Engine *e, Ent *x, uint32_t ri, const DnaAction *a)
{
    int perform = eng_performs(e, ri);
    JsonW *w = &e->w;
    if (a->ref >= B->nevents) return;
    const DnaEvent *ev = &B->events[a->ref];
    if (eng_chain_cut(e, x, ri, "event", S(ev->name))) return;
    /* the emitted event's slots, from the action's arguments (read in the
     * current context), in a frame of their own */
    DnaValue slots[256];
    uint32_t n = ev->nslots < 256 ? ev->nslots : 256;
    memset(slots, 0, sizeof(DnaValue) * n);
    char idbuf[256];
    snprintf(idbuf, sizeof idbuf, "%s/%s", e->evid ? e->evid : "timer", S(ev->name));
    slots[0] = dna_str(idbuf, (uint32_t)strlen(idbuf));
    slots[1] = dna_str(S(ev->name), (uint32_t)strlen(S(ev->name)));
    slots[2] = dna_str("dna", 3);
    slots[3] = dna_int(e->now);
    /* string values must outlive the next evaluation: copy them */
    char strbuf[4096];
    size_t used = 0;
    for (uint32_t s = 4; s < n; s++) {
        DnaValue v = arg_value(e, x, a, S(ev->slots[s].name));
        if (v.kind == DNA_VK_STR) {
            if (used + v.len + 1 > sizeof strbuf) v = dna_none();
            else { memcpy(strbuf + used, v.u.s, v.len); v.u.s = strbuf + used; used += v.len + 1; }
        } else if (v.kind == DNA_VK_NONE && ev->slots[s].dflt != DNA_NIL) v = B->kvals[ev->slots[s].dflt];
        slots[s] = v;
    }
    eff_begin(e, x, EFF_EMIT, ri);
    jw_key(w, "event"); jw_str(w, S(ev->name));
    eff_end(e, x, EFF_EMIT, ri);
    if (!perform) return;
    DnaValue *saved = e->evslots;
    uint32_t saved_n = e->nevslots, saved_type = e->evtype;
    const char *saved_id = e->evid;
    uint64_t saved_appr = e->approving;         /* the chain is not the approved run itself */
    const DnaValue *saved_snap = e->snap;
    e->approving = 0;
    e->snap = NULL;
    int64_t saved_at = e->at;
    e->evslots = slots;
    e->nevslots = n;
    e->evtype = a->ref;
    e->evid = idbuf;
    e->at = e->now;                             /* the emitted event occurs now */
    e->depth++;
    eng_evaluate(e, x, 0);
    e->depth--;
    e->at = saved_at;
    e->evslots = saved;
    e->nevslots = saved_n;
    e->evtype = saved_type;
    e->evid = saved_id;
    e->approving = saved_appr;
    e->snap = saved_snap;
}

void eng_run_actions(Engine *e, Ent *x, uint32_t ri, uint32_t armi)
{
    if (armi < B->narms) run_arm(e, x, ri, &B->arms[armi]);
}

int eng_arm(Engine *e, Ent *x, uint32_t ri, uint32_t armi)
{
    return armi < B->narms ? run_arm(e, x, ri, &B->arms[armi]) : 1;
}

/* ---- rules ------------------------------------------------------------------------------ */

void eng_run_rule(Engine *e, Ent *x, uint32_t ri)
{
    if (ri >= B->nrules) return;
    const DnaRule *r = &B->rules[ri];
    if (r->entity != DNA_NIL && r->entity != x->kind) return;     /* an event's rules for other kinds */
    e->stats.rule_runs++;
    switch ((DnaRuleKind)r->kind) {
    case DR_SCORE: case DR_INTENT: points(e, x, ri); break;
    case DR_SIGNAL: signal(e, x, ri); break;
    case DR_WORKFLOW:
        if (!eng_truthy(e, x, r->cond)) return;
        if (r->mode == DM_APPROVAL && !(e->approving && e->approving_rule == ri)) { eng_park(e, x, ri); return; }
        for (uint32_t i = 0; i < r->narms; i++) run_arm(e, x, ri, &B->arms[r->arm + i]);
        break;
    default: break;
    }
}

void eng_derive(Engine *e, Ent *x)
{
    const DnaTrigger *t = eng_trigger(e, DK_DERIVE, x->kind);
    for (uint32_t i = 0; t && i < t->nrules; i++) {
        const DnaRule *r = &B->rules[t->rules[i]];
        DnaValue v;
        if (!eng_eval(e, x, r->value, &v)) v = dna_none();
        DnaValue *cur = &x->slots[r->watch];
        int same = cur->kind == v.kind && (v.kind != DNA_VK_STR ? cur->u.i == v.u.i
                                           : cur->len == v.len && !memcmp(cur->u.s, v.u.s, v.len));
        if (!same) ent_set(x, r->watch, v);
    }
}

void eng_route(Engine *e, Ent *x)
{
    if (!x || x->routed) return;
    const DnaTrigger *t = eng_trigger(e, DK_ROUTE, x->kind);
    for (uint32_t i = 0; t && i < t->nrules; i++) {
        uint32_t ri = t->rules[i];
        const DnaRule *r = &B->rules[ri];
        if (!eng_truthy(e, x, r->cond)) continue;
        x->routed = 1;
        x->dirty = 1;
        const DnaArm *chosen = NULL, *els = NULL;
        DnaValue sv = dna_none();
        if (r->value != DNA_NIL) eng_eval(e, x, r->value, &sv);
        for (uint32_t k = 0; k < r->narms; k++) {
            const DnaArm *arm = &B->arms[r->arm + k];
            if (arm->kind == DA_ELSE) els = arm;
            else if (!chosen && arm->kind == DA_DO) chosen = arm;
            else if (!chosen && arm->kind == DA_WILDCARD) chosen = arm;
            else if (!chosen && arm->kind == DA_MATCH && sv.kind == DNA_VK_INT && (uint64_t)sv.u.i == arm->pattern) chosen = arm;
        }
        /* an arm no member can take falls to `else` before any of its
         * actions run: only the else actions apply */
        if (chosen && arm_assignable(e, x, chosen) && run_arm(e, x, ri, chosen)) return;
        if (els) run_arm(e, x, ri, els);
        return;
    }
}

/* ---- state triggers --------------------------------------------------------------------- */

static uint64_t str_hash(const char *s, uint32_t n)
{
    uint64_t h = 1469598103934665603ULL;
    for (uint32_t i = 0; i < n; i++) h = (h ^ (unsigned char)s[i]) * 1099511628211ULL;
    return h;
}

int64_t eng_obs_scalar(DnaValue v) { return v.kind == DNA_VK_NONE ? 0 : v.kind == DNA_VK_STR ? (int64_t)str_hash(v.u.s, v.len) : v.u.i; }
#define scalar eng_obs_scalar

static int value_eq(DnaValue a, DnaValue b)
{
    if (a.kind != b.kind) return 0;
    if (a.kind == DNA_VK_NONE) return 1;
    if (a.kind == DNA_VK_STR) return a.len == b.len && !memcmp(a.u.s, b.u.s, a.len);
    return a.u.i == b.u.i;
}

static int64_t threshold(Engine *e, Ent *x, const DnaRule *r, int *ok)
{
    DnaValue v;
    *ok = eng_eval(e, x, r->value, &v) && v.kind == DNA_VK_INT;
    return *ok ? as_points(e, r->value, v) : 0;
}

static int64_t watched_points(Engine *e, Ent *x, uint32_t slot, DnaValue v)
{
    /* decimals are thousandths already; ints compare after scaling */
    const DnaSlot *sl = &B->entities[x->kind].slots[slot];
    return sl->type.code == DT_INT ? v.u.i * 1000 : v.u.i;
}

static void stays(Engine *e, Ent *x, uint32_t ri, DnaValue cur)
{
    const DnaRule *r = &B->rules[ri];
    DnaValue want;
    int holds = eng_eval(e, x, r->value, &want) && value_eq(cur, want);
    uint32_t key = 0x80000000u | ri;
    EntObs *st = eng_obs_get(x, key);
    int64_t state = st ? st->v : 0;
    TimerKey k = { x->handle, ri, TK_STAYS };
    if (holds && state == 0) {
        tmr_set(&e->timers, k, e->now + r->duration_ms, 0);
        eng_obs_set(e, x, key, 1, 1);
    } else if (!holds && state != 0) {
        tmr_cancel(&e->timers, k);
        eng_obs_set(e, x, key, 1, 0);
    }
}

void eng_state_triggers(Engine *e, Ent *x)
{
    uint64_t h = x->handle;
    const uint32_t *fl = e->trig_fields[x->kind];
    for (uint32_t fi = 0; fl[fi]; fi++) {
        const DnaTrigger *t = &B->triggers[fl[fi] - 1];
        x = eng_live(e, h);
        if (!x || t->b >= x->nslots) return;
        DnaValue cur = x->slots[t->b];
        EntObs *o = eng_obs_get(x, t->b);
        int had = o != NULL, prev_present = o ? o->present : 0;
        int64_t prev = o ? o->v : 0;
        int cur_present = cur.kind != DNA_VK_NONE;
        int64_t curv = cur_present ? scalar(cur) : 0;
        eng_obs_set(e, x, t->b, cur_present, curv);
        for (uint32_t i = 0; i < t->nrules; i++) {
            uint32_t ri = t->rules[i];
            const DnaRule *r = &B->rules[ri];
            x = eng_live(e, h);
            if (r->trig == DTR_STAYS) { stays(e, x, ri, cur); continue; }
            if (!had) continue;                 /* the first observation is the baseline */
            int fire = 0, ok;
            switch ((DnaTrig)r->trig) {
            case DTR_CHANGES: fire = prev_present != cur_present || prev != curv; break;
            case DTR_BECOMES: {
                DnaValue want;
                if (!eng_eval(e, x, r->value, &want)) break;
                int64_t wv = want.kind == DNA_VK_NONE ? 0 : scalar(want);
                int now_is = cur_present == (want.kind != DNA_VK_NONE) && curv == wv;
                int was = prev_present == (want.kind != DNA_VK_NONE) && prev == wv;
                fire = now_is && !was;
                break;
            }
            case DTR_CROSSES_ABOVE: case DTR_CROSSES_BELOW: {
                int64_t T = threshold(e, x, r, &ok);
                if (!ok || !prev_present || !cur_present) break;
                int64_t p = watched_points(e, x, t->b, (DnaValue){ .u.i = prev, .kind = DNA_VK_INT });
                int64_t c = watched_points(e, x, t->b, cur);
                fire = r->trig == DTR_CROSSES_ABOVE ? (p < T && c >= T) : (p >= T && c < T);
                break;
            }
            default: break;
            }
            if (fire) eng_run_rule(e, x, ri);
        }
    }
}

/* An open alert past its deadline: overdue, once; `on alert overdue` rules run. */
static void overdue(Engine *e, Ent *x, EntSignal *s)
{
    uint64_t h = x->handle;
    int64_t alert = (int64_t)s->alert;
    s->status = AL_OVERDUE;
    s->closed_at = e->now;
    x->dirty = 1;
    uint32_t sig = s->signal;
    eff_begin(e, x, EFF_OVERDUE, DNA_NIL);
    jw_key(&e->w, "alert"); jw_int(&e->w, alert);
    jw_key(&e->w, "signal"); jw_str(&e->w, S(B->signals[sig].name));
    jw_key(&e->w, "priority"); jw_str(&e->w, prio_names[B->signals[sig].priority % 4]);
    eff_end(e, x, EFF_OVERDUE, DNA_NIL);
    const DnaTrigger *tr = eng_trigger(e, DK_OVERDUE, x->kind);
    for (uint32_t i = 0; tr && i < tr->nrules; i++) {
        const DnaRule *r = &B->rules[tr->rules[i]];
        Ent *y = eng_live(e, h);
        if (y && (r->target == DNA_NIL || r->target == sig)) eng_run_rule(e, y, tr->rules[i]);
    }
}

/* ---- timers ------------------------------------------------------------------------------- */

void eng_after(Engine *e, uint64_t h)
{
    Ent *x = eng_live(e, h);
    if (!x) return;
    eng_stage_sync(e, x);
    eng_refresh(e, x, e->now);
    eng_derive(e, x);
    eng_state_triggers(e, x);
    eng_route(e, eng_live(e, h));
}

void eng_fire_timer(Engine *e, const Timer *t)
{
    if (TK_KIND(t->key.slot) == TK_SCHEDULE) { eng_fire_schedule(e, t); return; }
    Ent *x = eng_live(e, t->key.entity);
    if (!x) return;
    uint64_t h = x->handle;
    int64_t saved = eng_enter(e, x);            /* the entity clock */
    eng_refresh(e, x, e->now);
    eng_derive(e, x);
    eng_state_triggers(e, x);
    x = eng_live(e, h);
    switch (TK_KIND(t->key.slot)) {
    case TK_ALERT: {
        EntSignal *s = NULL;
        for (uint32_t i = 0; i < x->nsignals; i++) if (x->signals[i].alert == (uint64_t)t->arg) s = &x->signals[i];
        if (s && s->status == AL_OPEN) overdue(e, x, s);
        break;
    }
    case TK_STAYS: {
        const DnaRule *r = &B->rules[t->key.rule];
        DnaValue want;
        if (r->watch < x->nslots && eng_eval(e, x, r->value, &want) && value_eq(x->slots[r->watch], want)) {
            eng_obs_set(e, x, 0x80000000u | t->key.rule, 1, 2);
            eng_run_rule(e, x, t->key.rule);
        }
        break;
    }
    case TK_INACTIVE:
        eng_run_rule(e, x, t->key.rule);
        break;
    case TK_SEQ:
        eng_seq_timer(e, x, t);
        break;
    }
    eng_after(e, h);
    eng_leave(e, h, saved);
}
