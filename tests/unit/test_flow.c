/*
 * test_flow.c - the engine's workflow machinery driven through its API:
 * cron parsing and next occurrences across DST, weighted routing over 600
 * qualifying leads, sequence channel limits, approval decisions.  Rule
 * sets are compiled from text; effects are collected as JSON lines.
 */
#include "../vm/compile_util.h"
#include "engine/eng_int.h"
#include "base/clock.h"
#include "check_macros.h"
#include "effect_lines.h"

#include <stdarg.h>

/* ---- a small harness ------------------------------------------------------- */

typedef struct Run { Project pr; DnaBundle b; Store *st; Engine *e; Lines out; int nev; } Run;

static int run_open(Run *r, const char *src)
{
    memset(r, 0, sizeof *r);
    if (cu_load(&r->pr, "flow.dna", src, NULL, &r->b)) return -1;
    r->st = store_mem_new();
    r->e = eng_new(&r->b, r->st, sink, &r->out);
    return r->e ? 0 : -1;
}

static void run_close(Run *r)
{
    eng_free(r->e);
    r->st->ops->free(r->st);
    bundle_free(&r->b);
    proj_free(&r->pr);
    lines_free(&r->out);
}

static EngResult ev(Run *r, const char *type, const char *at, const char *subject, const char *data, char *why)
{
    char buf[1024];
    snprintf(buf, sizeof buf, "{\"id\":\"e%d\",\"type\":\"%s\",\"occurred_at\":\"%s\",\"subject\":%s,\"data\":%s}",
             ++r->nev, type, at, subject, data);
    char w[256];
    EngResult res = eng_event(r->e, buf, strlen(buf), why ? why : w, sizeof w);
    return res;
}

static int64_t T(const char *s)
{
    int64_t ms = 0;
    clk_parse(s, strlen(s), &ms);
    return ms;
}

/* ---- cron ---------------------------------------------------------------------- */

static void next_is(const char *cron, const char *zone, const char *after, const char *want)
{
    Cron c;
    int ok = cron_parse(cron, &c) == 0;
    CHECK_MSG(ok, cron);
    if (!ok) return;
    int64_t n = cron_next(&c, clk_zone(zone), T(after));
    char got[32] = "none";
    if (n >= 0) clk_format(n, got);
    CHECK_EQ_S(got, want);
}

static void test_cron(void)
{
    Cron c;
    const char *bad[] = { "", "* * * *", "* * * * * *", "60 * * * *", "* 24 * * *", "* * 0 * *", "* * * 13 *",
                          "* * * * 8", "1- * * * *", "*/0 * * * *", "5,,6 * * * *", "5, * * * *", "a * * * *", NULL };
    for (int i = 0; bad[i]; i++) CHECK_MSG(cron_parse(bad[i], &c) != 0, bad[i]);
    /* Berlin, spring forward on 2026-03-29 (02:00 CET -> 03:00 CEST) */
    next_is("0 8 * * *", "Europe/Berlin", "2026-03-28T00:00:00Z", "2026-03-28T07:00:00Z");
    next_is("0 8 * * *", "Europe/Berlin", "2026-03-28T07:00:00Z", "2026-03-29T06:00:00Z");
    next_is("30 2 * * *", "Europe/Berlin", "2026-03-28T12:00:00Z", "2026-03-29T01:30:00Z");   /* 03:30 CEST */
    next_is("30 2 * * *", "Europe/Berlin", "2026-03-29T01:30:00Z", "2026-03-30T00:30:00Z");
    next_is("0 2 * * *", "Europe/Berlin", "2026-03-28T12:00:00Z", "2026-03-29T01:00:00Z");    /* 03:00 CEST */
    next_is("59 1 * * *", "Europe/Berlin", "2026-03-28T12:00:00Z", "2026-03-29T00:59:00Z");
    next_is("0 3 * * *", "Europe/Berlin", "2026-03-28T12:00:00Z", "2026-03-29T01:00:00Z");
    /* every 15 minutes through the gap: 01:45 CET, then 03:00 CEST; no repeats */
    next_is("*/15 * * * *", "Europe/Berlin", "2026-03-29T00:45:00Z", "2026-03-29T01:00:00Z");
    next_is("*/15 * * * *", "Europe/Berlin", "2026-03-29T01:00:00Z", "2026-03-29T01:15:00Z");
    /* fall back on 2026-10-25 (03:00 CEST -> 02:00 CET): 02:xx twice, fired at the first */
    next_is("30 2 * * *", "Europe/Berlin", "2026-10-24T12:00:00Z", "2026-10-25T00:30:00Z");
    next_is("30 2 * * *", "Europe/Berlin", "2026-10-25T00:30:00Z", "2026-10-26T01:30:00Z");
    next_is("*/30 * * * *", "Europe/Berlin", "2026-10-25T00:30:00Z", "2026-10-25T02:00:00Z");  /* 03:00 CET */
    next_is("0 8 * * *", "Europe/Berlin", "2026-10-24T12:00:00Z", "2026-10-25T07:00:00Z");
    /* UTC, days of the week, Vixie day-or-weekday, leap days, never */
    next_is("0 8 * * *", "UTC", "2026-03-28T08:00:00Z", "2026-03-29T08:00:00Z");
    next_is("0 9 * * 1-5", "UTC", "2026-10-02T10:00:00Z", "2026-10-05T09:00:00Z");            /* Fri -> Mon */
    next_is("0 9 * * 0", "UTC", "2026-10-02T10:00:00Z", "2026-10-04T09:00:00Z");
    next_is("0 9 * * 7", "UTC", "2026-10-02T10:00:00Z", "2026-10-04T09:00:00Z");
    next_is("0 0 13 * 5", "UTC", "2026-10-01T00:00:00Z", "2026-10-02T00:00:00Z");             /* Friday or the 13th */
    next_is("0 0 13 * *", "UTC", "2026-10-01T00:00:00Z", "2026-10-13T00:00:00Z");
    next_is("0 0 29 2 *", "UTC", "2026-03-01T00:00:00Z", "2028-02-29T00:00:00Z");
    next_is("0 0 30 2 *", "UTC", "2026-03-01T00:00:00Z", "none");
    next_is("5/20 10 * * *", "UTC", "2026-10-01T10:06:00Z", "2026-10-01T10:25:00Z");
    next_is("0 12 1 1,7 *", "America/New_York", "2026-01-01T18:00:00Z", "2026-07-01T16:00:00Z");
}

/* ---- weighted routing ----------------------------------------------------------------- */

static const char *routing_src =
    "module flow\n"
    "event visit {}\n"
    "entity lead { identity email }\n"
    "score fit for lead { on visit add 50 }\n"
    "team partners {\n"
    "  member \"eva@x\" weight 3\n"
    "  member \"fin@x\" weight 2\n"
    "  member \"gus@x\" weight 1\n"
    "}\n"
    "route lead {\n"
    "  when lead.score >= 40\n"
    "  do pipeline \"co\" assign weighted(partners)\n"
    "}\n";

static void test_weighted(void)
{
    Run r;
    if (run_open(&r, routing_src)) { CHECK_MSG(0, "compile"); return; }
    char subj[96], at[32];
    for (int i = 0; i < 600; i++) {
        snprintf(subj, sizeof subj, "{\"email\":\"l%d@example.com\"}", i);
        clk_format(T("2026-10-01T00:00:00Z") + (int64_t)i * CLK_MINUTE, at);
        CHECK_EQ_I(ev(&r, "visit", at, subj, "{}", NULL), ENG_OK);
    }
    CHECK_EQ_I(count(&r.out, "\"kind\":\"assign\"", (char *)NULL), 600);
    CHECK_EQ_I(count(&r.out, "\"kind\":\"assign\"", "\"owner\":\"eva@x\"", (char *)NULL), 300);
    CHECK_EQ_I(count(&r.out, "\"kind\":\"assign\"", "\"owner\":\"fin@x\"", (char *)NULL), 200);
    CHECK_EQ_I(count(&r.out, "\"kind\":\"assign\"", "\"owner\":\"gus@x\"", (char *)NULL), 100);
    /* smooth: the first six picks interleave as e f e g f e */
    const char *want[6] = { "eva@x", "fin@x", "eva@x", "gus@x", "fin@x", "eva@x" };
    int k = 0;
    for (int i = 0; i < r.out.n && k < 6; i++) {
        if (!strstr(r.out.v[i], "\"kind\":\"assign\"")) continue;
        char needle[64];
        snprintf(needle, sizeof needle, "\"owner\":\"%s\"", want[k]);
        CHECK_MSG(strstr(r.out.v[i], needle) != NULL, want[k]);
        k++;
    }
    /* no capacity (no max): current grows */
    CHECK_EQ_I(r.e->teams[0].current[0], 300);
    CHECK_EQ_I(r.e->teams[0].current[2], 100);
    run_close(&r);
}

/* ---- sequence limits ---------------------------------------------------------------------- */

static const char *seq_src =
    "module flow timezone \"Europe/Berlin\"\n"
    "event signup {}\n"
    "entity lead { identity email }\n"
    "connector mailer webhook url env(\"MAILER_URL\")\n"
    "sequence drip for lead {\n"
    "  step email \"hello\" via mailer wait 1d\n"
    "  step email \"again\" via mailer\n"
    "  limit email 2 per day\n"
    "  window mon..fri 09:00..17:00\n"
    "}\n"
    "workflow start for lead { on signup do enroll in drip }\n";

static void test_sequence_limits(void)
{
    Run r;
    if (run_open(&r, seq_src)) { CHECK_MSG(0, "compile"); return; }
    char subj[96];
    for (int i = 0; i < 5; i++) {           /* Monday 2026-10-05, 10:00 Berlin */
        snprintf(subj, sizeof subj, "{\"email\":\"l%d@example.com\"}", i);
        CHECK_EQ_I(ev(&r, "signup", "2026-10-05T08:00:00Z", subj, "{}", NULL), ENG_OK);
    }
    eng_advance(r.e, T("2026-10-10T00:00:00Z"));
    const char *S1 = "\"template\":\"hello\"", *S2 = "\"template\":\"again\"";
    /* 2 per Berlin day: hello l0 l1 on Monday; Tuesday 09:00 Berlin opens with hello l2 l3 (put off by
     * the limit), and the again steps of l0 l1 due Tuesday 10:00 wait for Wednesday 09:00 ... */
    CHECK_EQ_I(count(&r.out, "sequence_step", S1, (char *)NULL), 5);
    CHECK_EQ_I(count(&r.out, "sequence_step", S2, (char *)NULL), 5);
    CHECK_EQ_I(count(&r.out, "sequence_step", "\"at\":\"2026-10-05", (char *)NULL), 2);
    CHECK_EQ_I(count(&r.out, "sequence_step", "\"at\":\"2026-10-06", (char *)NULL), 2);
    CHECK_EQ_I(count(&r.out, "sequence_step", "\"at\":\"2026-10-07", (char *)NULL), 2);
    CHECK_EQ_I(count(&r.out, "sequence_step", "\"at\":\"2026-10-08", (char *)NULL), 2);
    CHECK_EQ_I(count(&r.out, "sequence_step", "\"at\":\"2026-10-09", (char *)NULL), 2);
    CHECK_EQ_I(count(&r.out, "sequence_step", "\"at\":\"2026-10-06T07:00:00Z\"", "\"deferred\":\"limit\"", S1,
                     (char *)NULL), 2);
    CHECK_EQ_I(count(&r.out, "sequence_step", "\"count\":3", (char *)NULL), 0);     /* never over the limit */
    CHECK_EQ_I(count(&r.out, "sequence_exit", "completed", (char *)NULL), 5);
    /* no step outside Monday..Friday 09:00..17:00 Berlin (07:00..15:00Z in October) */
    for (int i = 0; i < r.out.n; i++) {
        const char *a = strstr(r.out.v[i], "\"at\":\"");
        if (!strstr(r.out.v[i], "sequence_step") || !a) continue;
        int hh = atoi(a + 17);
        CHECK_MSG(hh >= 7 && hh < 15, r.out.v[i]);
    }
    run_close(&r);
}

/* ---- approval decisions --------------------------------------------------------------------- */

static const char *appr_src =
    "module flow\n"
    "event won {}\n"
    "entity deal { identity deal_id  note: string = \"\" }\n"
    "connector hooks webhook url env(\"HOOK\")\n"
    "workflow w for deal {\n"
    "  on won\n"
    "  mode approval\n"
    "  do set deal.note = \"done\"\n"
    "     webhook hooks \"deal.won\"\n"
    "}\n";

static void test_approvals(void)
{
    Run r;
    if (run_open(&r, appr_src)) { CHECK_MSG(0, "compile"); return; }
    const char *d1 = "{\"entity\":\"deal\",\"deal_id\":\"d-1\"}", *d2 = "{\"entity\":\"deal\",\"deal_id\":\"d-2\"}";
    char why[256];
    CHECK_EQ_I(ev(&r, "won", "2026-10-01T09:00:00Z", d1, "{}", NULL), ENG_OK);
    CHECK_EQ_I(ev(&r, "won", "2026-10-01T09:05:00Z", d2, "{}", NULL), ENG_OK);
    CHECK_EQ_I(count(&r.out, "\"kind\":\"approval\"", "\"id\":1", "\"status\":\"pending\"", "d-1", (char *)NULL), 1);
    CHECK_EQ_I(count(&r.out, "\"kind\":\"approval\"", "\"id\":2", "d-2", (char *)NULL), 1);
    CHECK_EQ_I(count(&r.out, "\"kind\":\"webhook\"", (char *)NULL), 0);
    Ent *x = eng_live(r.e, 1);
    uint32_t note = bundle_slot(&r.b, 0, "note");
    CHECK(x && x->slots[note].len == 0);
    /* malformed and unknown decisions are refused */
    CHECK_EQ_I(ev(&r, "approval", "2026-10-01T10:00:00Z", "{}", "{\"id\":3,\"decision\":\"approve\"}", why), ENG_REJECTED);
    CHECK_EQ_I(ev(&r, "approval", "2026-10-01T10:00:00Z", "{}", "{\"id\":1,\"decision\":\"maybe\"}", why), ENG_REJECTED);
    CHECK_EQ_I(ev(&r, "approval", "2026-10-01T10:00:00Z", "{}", "{\"decision\":\"approve\"}", why), ENG_REJECTED);
    /* approve 1: performed now */
    CHECK_EQ_I(ev(&r, "approval", "2026-10-01T10:00:00Z", "{}", "{\"id\":1,\"decision\":\"approve\"}", why), ENG_OK);
    CHECK_EQ_I(count(&r.out, "\"kind\":\"webhook\"", "\"approval\":1", "\"at\":\"2026-10-01T10:00:00Z\"", (char *)NULL), 1);
    CHECK(x && x->slots[note].len == 4);
    /* decided once */
    CHECK_EQ_I(ev(&r, "approval", "2026-10-01T10:01:00Z", "{}", "{\"id\":1,\"decision\":\"reject\"}", why), ENG_REJECTED);
    CHECK(strstr(why, "already approved") != NULL);
    /* reject 2: nothing performed */
    CHECK_EQ_I(ev(&r, "approval", "2026-10-01T10:02:00Z", d2, "{\"id\":2,\"decision\":\"reject\"}", why), ENG_OK);
    CHECK_EQ_I(count(&r.out, "\"kind\":\"rejected\"", "\"id\":2", (char *)NULL), 1);
    CHECK_EQ_I(count(&r.out, "\"kind\":\"webhook\"", (char *)NULL), 1);
    Ent *y = eng_live(r.e, 2);
    CHECK(y && y->slots[note].len == 0);
    run_close(&r);
}

int main(void)
{
    test_cron();
    test_weighted();
    test_sequence_limits();
    test_approvals();
    return check_report("flow");
}
