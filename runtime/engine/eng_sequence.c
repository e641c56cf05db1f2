/*
 * eng_sequence.c - sequences: enrollment, steps, waits, send windows,
 * channel limits and exits.
 *
 * `enroll in S` starts an enrollment of the entity in S (one at a time per
 * entity and sequence; enrolling again while enrolled changes nothing).  An
 * enrollment is its timer: key (entity, sequence, TK_SEQ), Timer.arg = the
 * step to run next (low 32 bits) and why it was put off (bit 32: the
 * window, bit 33: a channel limit).  Running a step:
 *   1. `exit when COND` holds: the entity leaves (sequence_exit "condition");
 *   2. outside the send window (days, times, in the window's zone, else
 *      the module's, else UTC): wait for the next opening;
 *   3. the step's channel has reached its limit in the current calendar
 *      day (week, month) of that zone: wait for the next window's start;
 *   4. otherwise the step is performed as a connector effect
 *      (sequence_step: sequence, step, channel, template, connector) and
 *      the next step is due after the step's wait (moved into the window);
 *      after the last step the enrollment ends (sequence_exit "completed").
 * An `exit on EVENT` event about the entity ends it at once (before that
 * event's rules run).  The first step runs when the entity is enrolled if
 * the window and limit allow, else at the next allowed time.
 * Channel limits count per sequence, over all entities.
 */
#include "engine/eng_int.h"
#include "base/clock.h"

#include <string.h>

#define B (e->b)
#define S(i) bundle_str(e->b, (i))

#define DEFER_WINDOW (1LL << 32)
#define DEFER_LIMIT  (1LL << 33)

static const Zone *seq_zone(Engine *e, const DnaSequence *q)
{
    const Zone *z = q->tz != DNA_NIL ? clk_zone(S(q->tz)) : NULL;
    return z ? z : clk_zone("UTC");
}

static int in_days(const DnaSequence *q, unsigned wd)      /* wd: 1 = Monday .. 7 = Sunday */
{
    if (!q->day_from) return 1;
    unsigned from = q->day_from, to = q->day_to ? q->day_to : q->day_from;
    return from <= to ? wd >= from && wd <= to : wd >= from || wd <= to;
}

/* The earliest instant >= t inside the send window. */
static int64_t window_next(Engine *e, const DnaSequence *q, int64_t t)
{
    if (!q->day_from) return t;
    const Zone *z = seq_zone(e, q);
    LocalTime lt;
    clk_local(z, t, &lt);
    int64_t day = clk_days_from_civil(lt.year, lt.month, lt.day);
    for (int i = 0; i < 9; i++, day++) {
        unsigned wd = (unsigned)(((day % 7) + 7 + 3) % 7) + 1;
        if (!in_days(q, wd)) continue;
        int64_t open = clk_from_local(z, day * CLK_DAY + (int64_t)q->from_min * CLK_MINUTE);
        int64_t close = q->to_min > q->from_min ? clk_from_local(z, day * CLK_DAY + (int64_t)q->to_min * CLK_MINUTE)
                                                : clk_from_local(z, (day + 1) * CLK_DAY);
        if (t < open) return open;
        if (t < close) return t;
    }
    return t;
}

/* The start of the calendar window after the one holding t. */
static int64_t next_window_start(const Zone *z, int64_t t, ClkWindow w)
{
    LocalTime lt;
    clk_local(z, t, &lt);
    int64_t day = clk_days_from_civil(lt.year, lt.month, lt.day);
    switch (w) {
    case CLK_PER_WEEK: day += 8 - lt.weekday; break;
    case CLK_PER_MONTH:
        day = lt.month == 12 ? clk_days_from_civil(lt.year + 1, 1, 1) : clk_days_from_civil(lt.year, lt.month + 1, 1);
        break;
    default: day += 1; break;
    }
    return clk_from_local(z, day * CLK_DAY);
}

/* The limit on a channel: its settings index, or DNA_NIL. */
static uint32_t limit_of(Engine *e, const DnaSequence *q, const char *channel, int64_t *max, ClkWindow *w)
{
    for (uint32_t j = q->limit; j < q->limit + q->nlimits && j < B->nopts; j++) {
        const DnaOpt *o = &B->opts[j];
        if (strcmp(S(o->key), channel) || o->konst == DNA_NIL || o->konst >= B->nconsts) continue;
        *max = B->consts[o->konst].i;
        const char *word = o->word != DNA_NIL ? S(o->word) : "day";
        *w = !strcmp(word, "week") ? CLK_PER_WEEK : !strcmp(word, "month") ? CLK_PER_MONTH : CLK_PER_DAY;
        return j;
    }
    return DNA_NIL;
}

static void seq_exit(Engine *e, Ent *x, uint32_t qi, const char *reason, uint32_t step)
{
    JsonW *w = &e->w;
    TimerKey k = { x->handle, qi, TK_SEQ };
    tmr_cancel(&e->timers, k);
    eng_enroll_drop(x, qi);
    eff_begin(e, x, EFF_SEQUENCE_EXIT, DNA_NIL);
    jw_key(w, "sequence"); jw_str(w, S(B->sequences[qi].name));
    jw_key(w, "reason"); jw_str(w, reason);
    jw_key(w, "step"); jw_int(w, step + 1);
    if (!strcmp(reason, "event") && e->evtype != DNA_NIL) { jw_key(w, "on"); jw_str(w, S(B->events[e->evtype].name)); }
    eff_end(e, x, EFF_SEQUENCE_EXIT, DNA_NIL);
}

/* Run step idx now, or put it off to when it may run. */
static void seq_run(Engine *e, Ent *x, uint32_t qi, uint32_t idx, int64_t deferred)
{
    const DnaSequence *q = &B->sequences[qi];
    JsonW *w = &e->w;
    TimerKey k = { x->handle, qi, TK_SEQ };
    tmr_cancel(&e->timers, k);
    if (idx >= q->nsteps) { seq_exit(e, x, qi, "completed", idx ? idx - 1 : 0); return; }
    if (q->exit_when != DNA_NIL && eng_truthy(e, x, q->exit_when)) { seq_exit(e, x, qi, "condition", idx); return; }
    const DnaStep *st = &q->steps[idx];
    const char *channel = S(st->channel);
    int64_t due = window_next(e, q, e->now), max = 0;
    if (due > e->now) deferred |= DEFER_WINDOW;
    ClkWindow cw = CLK_PER_DAY;
    SeqCount *sc = NULL;
    uint32_t lj = limit_of(e, q, channel, &max, &cw);
    if (lj != DNA_NIL && due == e->now) {
        const Zone *z = seq_zone(e, q);
        int64_t win = clk_window(z, e->now, cw);
        sc = &e->seqcount[lj];
        if (sc->window != win) { sc->window = win; sc->count = 0; }
        if (sc->count >= max) {
            due = window_next(e, q, next_window_start(z, e->now, cw));
            deferred |= DEFER_LIMIT;
        }
    }
    if (due > e->now) { tmr_set(&e->timers, k, due, (int64_t)idx | deferred); return; }
    if (sc) sc->count++;
    eff_begin(e, x, EFF_SEQUENCE_STEP, DNA_NIL);
    jw_key(w, "sequence"); jw_str(w, S(q->name));
    jw_key(w, "step"); jw_int(w, idx + 1);
    jw_key(w, "of"); jw_int(w, q->nsteps);
    jw_key(w, "channel"); jw_str(w, channel);
    jw_key(w, "connector"); jw_str(w, st->via < B->nconnectors ? S(B->connectors[st->via].name) : "?");
    if (st->tmpl != DNA_NIL) {
        DnaValue v;
        eng_eval(e, x, st->tmpl, &v);
        jw_key(w, "template");
        eng_write_value(e, w, v, (DnaType){ .code = DT_STR });
    }
    if (sc) { jw_key(w, "count"); jw_int(w, sc->count); jw_key(w, "limit"); jw_int(w, max); }
    if (deferred) {
        jw_key(w, "deferred");
        jw_str(w, (deferred & DEFER_LIMIT) ? "limit" : "window");
    }
    eff_end(e, x, EFF_SEQUENCE_STEP, DNA_NIL);
    if (idx + 1 >= q->nsteps) { seq_exit(e, x, qi, "completed", idx); return; }
    int64_t next = e->now + st->wait_ms, at = window_next(e, q, next);
    tmr_set(&e->timers, k, at, (int64_t)(idx + 1) | (at > next ? DEFER_WINDOW : 0));
}

void eng_enroll(Engine *e, Ent *x, uint32_t ri, const DnaAction *a, int perform)
{
    JsonW *w = &e->w;
    if (a->ref >= B->nsequences) return;
    TimerKey k = { x->handle, a->ref, TK_SEQ };
    int already = tmr_get(&e->timers, k) != NULL;
    eff_begin(e, x, EFF_ENROLL, ri);
    jw_key(w, "sequence"); jw_str(w, S(B->sequences[a->ref].name));
    if (already) { jw_key(w, "already"); jw_bool(w, 1); }
    eff_end(e, x, EFF_ENROLL, ri);
    if (perform && !already) {
        eng_enroll_add(x, a->ref, e->now);
        seq_run(e, x, a->ref, 0, 0);
    }
}

void eng_seq_timer(Engine *e, Ent *x, const Timer *t)
{
    if (t->key.rule >= B->nsequences) return;
    seq_run(e, x, t->key.rule, (uint32_t)(t->arg & 0xffffffff), t->arg & (DEFER_WINDOW | DEFER_LIMIT));
}

void eng_seq_event(Engine *e, Ent *x)
{
    for (uint32_t qi = 0; qi < B->nsequences; qi++) {
        const DnaSequence *q = &B->sequences[qi];
        if (q->exit_event == DNA_NIL || q->exit_event != e->evtype || q->entity != x->kind) continue;
        TimerKey k = { x->handle, qi, TK_SEQ };
        const Timer *t = tmr_get(&e->timers, k);
        if (t) seq_exit(e, x, qi, "event", (uint32_t)(t->arg & 0xffffffff));
    }
}
