/*
 * eng_schedule.c - `on schedule "CRON"` workflows.
 *
 * A cron has five fields (minute hour day-of-month month day-of-week), each
 * `*`, `N`, `N-M`, `*` or a range with `/STEP`, or a comma list of those;
 * `N/STEP` runs from N to the field's end.  Day of week 0 and 7 are Sunday.
 * As in Vixie cron, when both day fields are restricted a day matches either.
 *
 * Times are wall-clock times in the module's time zone (UTC by default),
 * turned into instants by clk_from_local: a time that does not exist (the
 * spring-forward gap) fires at the same wall-clock distance after the gap,
 * e.g. 02:30 on the day Berlin moves 02:00 -> 03:00 fires at 03:30 CEST;
 * a time that exists twice (fall back) fires once, at its first (summer
 * time) instant.  Occurrences never repeat or go backwards.
 *
 * Schedule timers are global (entity 0).  They are armed when the engine
 * first learns the time (the first event or `given`), at the first
 * occurrence at or after it.  When one fires, the workflow runs for every
 * live entity of its kind (its `when` decides), in handle order, each as a
 * timer evaluation; then the next occurrence is armed.
 */
#include "engine/eng_int.h"
#include "base/clock.h"

#include <string.h>

#define B (e->b)
#define S(i) bundle_str(e->b, (i))

static int num(const char **p, const char *end, int *out)
{
    const char *s = *p;
    int v = 0, n = 0;
    while (s < end && *s >= '0' && *s <= '9' && n < 4) { v = v * 10 + (*s - '0'); s++; n++; }
    if (!n) return 0;
    *p = s;
    *out = v;
    return 1;
}

/* One field into a bit set over lo..hi. */
static int field(const char *s, const char *end, int lo, int hi, uint64_t *bits, int *star)
{
    *bits = 0;
    *star = s < end && *s == '*';
    while (s < end) {
        const char *item_end = memchr(s, ',', (size_t)(end - s));
        if (!item_end) item_end = end;
        int a, b, step = 1;
        const char *p = s;
        if (p < item_end && *p == '*') { a = lo; b = hi; p++; }
        else {
            if (!num(&p, item_end, &a)) return -1;
            b = a;
            if (p < item_end && *p == '-') { p++; if (!num(&p, item_end, &b)) return -1; }
            else if (p < item_end && *p == '/') b = hi;     /* N/STEP: N to the end */
        }
        if (p < item_end && *p == '/') { p++; if (!num(&p, item_end, &step) || step < 1) return -1; }
        if (p != item_end || a < lo || b > hi || a > b) return -1;
        for (int v = a; v <= b; v += step) *bits |= 1ULL << v;
        s = item_end < end ? item_end + 1 : end;
        if (item_end < end && s == end) return -1;          /* a trailing comma */
    }
    return *bits ? 0 : -1;
}

int cron_parse(const char *s, Cron *c)
{
    static const int lo[5] = { 0, 0, 1, 1, 0 }, hi[5] = { 59, 23, 31, 12, 7 };
    memset(c, 0, sizeof *c);
    int k = 0;
    while (*s) {
        while (*s == ' ' || *s == '\t') s++;
        if (!*s) break;
        const char *e = s;
        while (*e && *e != ' ' && *e != '\t') e++;
        if (k >= 5) return -1;
        uint64_t bits;
        int star;
        if (field(s, e, lo[k], hi[k], &bits, &star)) return -1;
        switch (k) {
        case 0: c->minute = bits; break;
        case 1: c->hour = (uint32_t)bits; break;
        case 2: c->mday = (uint32_t)bits; c->mday_star = (uint8_t)star; break;
        case 3: c->month = (uint16_t)bits; break;
        case 4: c->wday = (uint8_t)((bits | (bits >> 7)) & 0x7f); c->wday_star = (uint8_t)star; break;
        }
        k++;
        s = e;
    }
    return k == 5 ? 0 : -1;
}

static int day_matches(const Cron *c, int64_t days)
{
    int64_t y;
    unsigned m, d;
    clk_civil_from_days(days, &y, &m, &d);
    if (!(c->month >> m & 1)) return 0;
    unsigned wd = (unsigned)(((days % 7) + 7 + 4) % 7);     /* 1970-01-01 was a Thursday; 0 = Sunday */
    int dm = (c->mday >> d) & 1, ww = (c->wday >> wd) & 1;
    return c->mday_star || c->wday_star ? dm && ww : dm || ww;
}

int64_t cron_next(const Cron *c, const Zone *z, int64_t after)
{
    if (!z) z = clk_zone("UTC");
    int64_t lafter = after + (int64_t)clk_offset(z, after) * 1000;     /* local wall clock of `after` */
    int64_t day0 = lafter >= 0 ? lafter / CLK_DAY : -((-lafter + CLK_DAY - 1) / CLK_DAY);
    for (int64_t days = day0 - 1; days <= day0 + 366 * 8; days++) {
        if (!day_matches(c, days)) continue;
        for (int h = 0; h < 24; h++) {
            if (!(c->hour >> h & 1)) continue;
            for (int mi = 0; mi < 60; mi++) {
                if (!(c->minute >> mi & 1)) continue;
                int64_t local = days * CLK_DAY + (int64_t)h * CLK_HOUR + (int64_t)mi * CLK_MINUTE;
                if (local < lafter - 4 * CLK_HOUR) continue;     /* far before: no offset reaches back */
                int64_t utc = clk_from_local(z, local);
                if (utc > after) return utc;
            }
        }
    }
    return -1;
}

/* ---- the engine's schedules ----------------------------------------------------------- */

static const Zone *rule_zone(Engine *e, const DnaRule *r)
{
    uint32_t u = r->value != DNA_NIL ? r->value : r->cond;     /* the module's zone rides on its units */
    const Zone *z = NULL;
    if (u != DNA_NIL && u < B->nunits && B->units[u].tz != DNA_NIL) z = clk_zone(S(B->units[u].tz));
    return z ? z : clk_zone("UTC");
}

static void arm(Engine *e, uint32_t ri, int64_t after)
{
    const DnaRule *r = &B->rules[ri];
    Cron c;
    if (r->schedule == DNA_NIL || cron_parse(S(r->schedule), &c)) return;
    int64_t next = cron_next(&c, rule_zone(e, r), after);
    TimerKey k = { 0, ri, TK_SCHEDULE };
    if (next >= 0) tmr_set(&e->timers, k, next, 0);
}

void eng_arm_schedules(Engine *e, int64_t t0)
{
    for (uint32_t i = 0; i < B->nrules; i++)
        if (B->rules[i].kind == DR_WORKFLOW && B->rules[i].trig == DTR_SCHEDULE) arm(e, i, t0 - 1);
}

void eng_fire_schedule(Engine *e, const Timer *t)
{
    uint32_t ri = t->key.rule;
    if (ri >= B->nrules) return;
    const DnaRule *r = &B->rules[ri];
    uint64_t n = eng_count(e);                  /* entities created by the run wait for the next one */
    for (uint64_t h = 1; h <= n; h++) {
        Ent *x = e->st->ops->get(e->st, h);
        if (!x || x->merged_into || x->kind != r->entity) continue;
        e->depth = 0;
        int64_t saved = eng_enter(e, x);        /* the entity clock */
        eng_refresh(e, x, e->now);
        eng_derive(e, x);
        eng_state_triggers(e, x);
        x = eng_live(e, h);
        if (x) {
            eng_run_rule(e, x, ri);
            eng_after(e, h);
        }
        eng_leave(e, h, saved);
    }
    arm(e, ri, t->due);
}
