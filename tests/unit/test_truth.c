/*
 * test_truth.c - the engine tells the truth (issue 15): each divergence
 * the issue lists, driven through the engine's API on small rule sets.
 *   - late events are evaluated at the entity clock: values never jump back
 *     to an earlier moment, a past crossing that no longer holds does not
 *     fire, expiring components read at one moment;
 *   - caps count by the window of occurred_at, an application older than
 *     both kept windows against the older;
 *   - late signals: detection and deadline never move back, a deadline
 *     already passed is overdue at once;
 *   - reads (eng_entity_json, eng_eval_at) change nothing, even far ahead;
 *   - merges keep one whole entity: route, owner and capacity, one
 *     enrollment per sequence, one open alert per signal, one open deal;
 *   - a new entity's state is its first observation (no `becomes "F"`);
 *   - routing: territory without a region matches nobody, `else` keeps no
 *     pipeline of the arm that could not assign;
 *   - a notification records the values of its moment.
 */
#include "../vm/compile_util.h"
#include "engine/eng_int.h"
#include "base/clock.h"
#include "check_macros.h"
#include "effect_lines.h"

#include <stdarg.h>

typedef struct Run { Project pr; DnaBundle b; Store *st; Engine *e; Lines out; int nev; int64_t read_at; } Run;

static int run_open(Run *r, const char *src)
{
    memset(r, 0, sizeof *r);
    if (cu_load(&r->pr, "truth.dna", src, NULL, &r->b)) return -1;
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

/* Read every entity (state line) at r->read_at, if set: reads must change nothing. */
static void read_all(Run *r)
{
    if (!r->read_at) return;
    JsonW w;
    jw_init(&w);
    for (uint64_t h = 1; h <= eng_count(r->e); h++) {
        jw_reset(&w);
        eng_entity_json(r->e, h, eng_read_time(r->e, h, r->read_at), &w);
    }
    jw_free(&w);
}

static EngResult ev(Run *r, const char *type, const char *at, const char *subject, const char *data)
{
    char buf[1024], why[256];
    read_all(r);
    snprintf(buf, sizeof buf, "{\"id\":\"e%d\",\"type\":\"%s\",\"occurred_at\":\"%s\",\"subject\":%s,\"data\":%s}",
             ++r->nev, type, at, subject, data);
    EngResult res = eng_event(r->e, buf, strlen(buf), why, sizeof why);
    if (res != ENG_OK) fprintf(stderr, "event %d: %s\n", r->nev, why);
    return res;
}

static int64_t T(const char *s)
{
    int64_t ms = 0;
    clk_parse(s, strlen(s), &ms);
    return ms;
}

/* The state line of the entity keyed `key` at time `at`, into buf. */
static const char *state(Run *r, const char *kind, const char *key, const char *at, char *buf, size_t n)
{
    uint64_t h = eng_find(r->e, kind, key);
    JsonW w;
    jw_init(&w);
    int ok = h && eng_entity_json(r->e, h, eng_read_time(r->e, h, T(at)), &w);
    snprintf(buf, n, "%.*s", ok ? (int)w.n : 0, ok ? w.p : "");
    jw_free(&w);
    return buf;
}

/* ---- late events: the entity clock ------------------------------------------------- */

static const char *late_src =
    "module truth_late\n"
    "event visit {}\nevent touch {}\nevent ping {}\n"
    "entity lead { identity email }\n"
    "connector slack slack_webhook url env(\"SLACK_WEBHOOK_URL\")\n"
    "score a for lead { on visit add 15 expire 2h }\n"
    "score b for lead { on touch add 30 decay linear 10h }\n"
    "score c for lead { on ping add 0 }\n"
    "workflow hot for lead {\n  on lead.score crosses above 50\n  do notify slack \"#hot\" \"hot {lead.email}: {lead.score}\"\n}\n";

static void test_late(void)
{
    Run r;
    if (run_open(&r, late_src)) { CHECK_MSG(0, "late rules compile"); return; }
    const char *who = "{\"email\":\"a@x\"}";
    ev(&r, "visit", "2026-10-01T00:00:00Z", who, "{}");
    ev(&r, "touch", "2026-10-01T00:00:00Z", who, "{}");
    ev(&r, "ping", "2026-10-01T09:00:00Z", who, "{}");
    /* late: at 01:00 the lead would hold 15 + 27 + 30 = 72 (a crossing);
     * at its clock, 09:00, it holds 0 + 3 + 6 = 9 */
    ev(&r, "touch", "2026-10-01T01:00:00Z", who, "{}");
    CHECK_EQ_I(count(&r.out, "\"kind\":\"notify\"", NULL), 0);
    CHECK_EQ_I(count(&r.out, "\"event\":\"e4\"", "\"at\":\"2026-10-01T09:00:00Z\"", "\"value\":9.0", "\"total\":9.0",
                     "\"ledger\":{\"at\":\"2026-10-01T01:00:00Z\"", NULL), 1);
    CHECK_EQ_I(eng_stats(r.e)->late, 1);
    /* the late entry keeps its time: it reads 3 at 10:00, 0 at 11:00 */
    char buf[4096];
    CHECK(strstr(state(&r, "lead", "a@x", "2026-10-01T10:00:00Z", buf, sizeof buf), "\"b\":3.0") != NULL);
    run_close(&r);
}

/* ---- caps by the window of occurred_at ------------------------------------------- */

static void test_caps(void)
{
    Run r;
    if (run_open(&r, "module truth_caps\nevent visit {}\nentity lead { identity email }\n"
                     "score a for lead { on visit add 1 limit 1 per day }\n")) { CHECK_MSG(0, "caps compile"); return; }
    const char *who = "{\"email\":\"a@x\"}";
    ev(&r, "visit", "2026-10-03T10:00:00Z", who, "{}");
    ev(&r, "visit", "2026-10-02T10:00:00Z", who, "{}");     /* late, its own day: applies */
    ev(&r, "visit", "2026-10-02T11:00:00Z", who, "{}");     /* that day's cap */
    ev(&r, "visit", "2026-10-01T10:00:00Z", who, "{}");     /* older than both kept days: against Oct 2 */
    CHECK_EQ_I(count(&r.out, "\"kind\":\"score\"", NULL), 2);
    CHECK_EQ_I(count(&r.out, "\"kind\":\"capped\"", NULL), 2);
    run_close(&r);
}

/* ---- signals of late events -------------------------------------------------------- */

static const char *sig_src =
    "module truth_signals\nevent visit { url: string }\nevent ping {}\n"
    "entity lead { identity email }\n"
    "signal PRICING for lead {\n  on visit when event.url contains \"/pricing\"\n  weight 20\n  decay linear 72h\n  priority critical\n}\n";

static void test_signals(void)
{
    Run r;
    if (run_open(&r, sig_src)) { CHECK_MSG(0, "signal rules compile"); return; }
    char buf[4096];
    ev(&r, "visit", "2026-10-01T10:00:00Z", "{\"email\":\"a@x\"}", "{\"url\":\"/pricing\"}");
    ev(&r, "visit", "2026-10-01T09:30:00Z", "{\"email\":\"a@x\"}", "{\"url\":\"/pricing\"}");   /* a late repeat */
    state(&r, "lead", "a@x", "2026-10-01T10:30:00Z", buf, sizeof buf);
    CHECK(strstr(buf, "\"detected_at\":\"2026-10-01T10:00:00Z\"") != NULL);
    CHECK(strstr(buf, "\"due\":\"2026-10-01T11:00:00Z\"") != NULL);
    /* a late first signal whose deadline has passed at the clock: overdue now */
    ev(&r, "ping", "2026-10-01T13:00:00Z", "{\"email\":\"b@x\"}", "{}");
    ev(&r, "visit", "2026-10-01T11:00:00Z", "{\"email\":\"b@x\"}", "{\"url\":\"/pricing\"}");
    CHECK_EQ_I(count(&r.out, "\"event\":\"e4\"", "\"kind\":\"overdue\"", "\"at\":\"2026-10-01T13:00:00Z\"", NULL), 1);
    CHECK_EQ_I(count(&r.out, "\"kind\":\"alert\"", "\"due\":\"2026-10-01T12:00:00Z\"", NULL), 1);
    /* a timer due exactly at an event's time fires before it */
    ev(&r, "ping", "2026-10-01T11:00:00Z", "{\"email\":\"c@x\"}", "{}");
    CHECK_EQ_I(count(&r.out, "\"kind\":\"overdue\"", "\"key\":\"a@x\"", NULL), 1);
    CHECK(strstr(r.out.v[r.out.n - 1], "\"kind\":\"overdue\"") != NULL);
    run_close(&r);
}

/* ---- reads change nothing ---------------------------------------------------------- */

static void reads_run(Run *r, int64_t read_at)
{
    const char *who = "{\"email\":\"a@x\"}";
    r->read_at = read_at;
    ev(r, "visit", "2026-10-01T00:00:00Z", who, "{}");
    ev(r, "touch", "2026-10-01T01:00:00Z", who, "{}");
    ev(r, "visit", "2026-10-01T01:30:00Z", who, "{}");
    ev(r, "touch", "2026-10-01T00:30:00Z", who, "{}");
    ev(r, "ping", "2026-10-01T03:00:00Z", who, "{}");
}

static void test_reads(void)
{
    Run a, b;
    if (run_open(&a, late_src) || run_open(&b, late_src)) { CHECK_MSG(0, "read rules compile"); return; }
    reads_run(&a, 0);
    reads_run(&b, T("2026-12-01T00:00:00Z"));       /* far ahead: nothing expires for real */
    CHECK_EQ_I(a.out.n, b.out.n);
    for (int i = 0; i < a.out.n && i < b.out.n; i++) CHECK_EQ_S(a.out.v[i], b.out.v[i]);
    /* dnac test's reads too */
    uint64_t h = eng_find(b.e, "lead", "a@x");
    DnaValue v;
    char msg[128];
    uint32_t unit = DNA_NIL;
    for (uint32_t i = 0; i < b.b.nrules && unit == DNA_NIL; i++)
        if (b.b.rules[i].kind == DR_WORKFLOW) unit = b.b.rules[i].value;
    if (unit != DNA_NIL) CHECK(eng_eval_at(b.e, h, unit, T("2026-12-01T00:00:00Z"), &v, msg, sizeof msg) == 0);
    ev(&a, "visit", "2026-10-01T03:10:00Z", "{\"email\":\"a@x\"}", "{}");
    ev(&b, "visit", "2026-10-01T03:10:00Z", "{\"email\":\"a@x\"}", "{}");
    CHECK_EQ_S(a.out.v[a.out.n - 1], b.out.v[b.out.n - 1]);
    run_close(&a);
    run_close(&b);
}

/* ---- merges keep one whole entity ------------------------------------------------------ */

static const char *merge_src =
    "module truth_merge\n"
    "event visit { url: string }\nevent link {}\nevent signup {}\n"
    "entity lead { identity portal_id, email\n  region: string? }\n"
    "entity deal { identity deal_id\n  name: string\n  lead: lead?\n"
    "  stage: enum(prospecting, proposal, closed_won, closed_lost) = prospecting }\n"
    "score fit for lead { on visit when event.url == \"/hot\" add 50 }\n"
    "intent for lead { b2b { on visit add 10 } }\n"
    "team ae {\n  member \"ana@dna.example\" max 1\n  member \"ben@dna.example\" max 1\n}\n"
    "connector slack slack_webhook url env(\"SLACK_WEBHOOK_URL\")\n"
    "connector mailer webhook url env(\"MAILER_URL\")\n"
    "sequence nurture for lead {\n  step email \"one\" via mailer wait 2d\n  step email \"two\" via mailer\n}\n"
    "workflow start for lead {\n  on signup\n  do enroll in nurture\n}\n"
    "signal PRICING for lead {\n  on visit when event.url == \"/pricing\"\n  weight 20\n  decay linear 72h\n  priority critical\n}\n"
    "route lead {\n  when lead.score >= 40\n  match lead.intent.primary {\n"
    "    b2b -> pipeline \"b2b\" assign round_robin(ae) create deal\n  }\n"
    "  else -> notify slack \"#lead-routing\" \"Routing needed for {lead.email}\"\n}\n";

static void test_merges(void)
{
    Run r;
    if (run_open(&r, merge_src)) { CHECK_MSG(0, "merge rules compile"); return; }
    char buf[8192];
    /* an unrouted lead (older) absorbs a routed one: it takes its route */
    ev(&r, "visit", "2026-10-01T09:00:00Z", "{\"portal_id\":\"p-1\"}", "{\"url\":\"/pricing\"}");
    ev(&r, "visit", "2026-10-01T09:05:00Z", "{\"email\":\"b@x\"}", "{\"url\":\"/hot\"}");
    ev(&r, "visit", "2026-10-01T09:06:00Z", "{\"email\":\"b@x\"}", "{\"url\":\"/pricing\"}");
    ev(&r, "signup", "2026-10-01T09:10:00Z", "{\"portal_id\":\"p-1\"}", "{}");
    ev(&r, "signup", "2026-10-01T09:20:00Z", "{\"email\":\"b@x\"}", "{}");
    ev(&r, "link", "2026-10-01T09:30:00Z", "{\"portal_id\":\"p-1\",\"email\":\"b@x\"}", "{}");
    CHECK_EQ_I(count(&r.out, "\"kind\":\"merge\"", "\"route\":\"taken\"", NULL), 1);
    state(&r, "lead", "p-1", "2026-10-01T09:40:00Z", buf, sizeof buf);
    CHECK(strstr(buf, "\"pipeline\":\"b2b\"") != NULL);
    CHECK(strstr(buf, "\"owner\":\"ana@dna.example\"") != NULL);
    /* one open alert of PRICING: the earlier deadline (10:00) */
    CHECK(strstr(buf, "\"due\":\"2026-10-01T10:00:00Z\"") != NULL);
    CHECK(strstr(buf, "\"due\":\"2026-10-01T10:06:00Z\"") == NULL);
    /* ana's capacity stays taken: the next lead gets ben, the one after nobody */
    ev(&r, "visit", "2026-10-01T09:50:00Z", "{\"email\":\"c@x\"}", "{\"url\":\"/hot\"}");
    ev(&r, "visit", "2026-10-01T09:55:00Z", "{\"email\":\"d@x\"}", "{\"url\":\"/hot\"}");
    CHECK_EQ_I(count(&r.out, "\"kind\":\"assign\"", "\"key\":\"c@x\"", "ben@dna.example", NULL), 1);
    CHECK_EQ_I(count(&r.out, "\"kind\":\"notify\"", "Routing needed for d@x", NULL), 1);
    /* one enrollment: the second step is sent once; one overdue alert */
    ev(&r, "visit", "2026-10-05T12:00:00Z", "{\"email\":\"z@x\"}", "{\"url\":\"/\"}");
    CHECK_EQ_I(count(&r.out, "\"kind\":\"sequence_step\"", "\"step\":2", NULL), 1);
    CHECK_EQ_I(count(&r.out, "\"kind\":\"overdue\"", "\"key\":\"p-1\"", NULL), 1);
    run_close(&r);

    /* two routed leads, each with an open deal: one lead, one open deal, and
     * the younger's capacity comes back */
    if (run_open(&r, merge_src)) return;
    ev(&r, "visit", "2026-10-01T09:00:00Z", "{\"portal_id\":\"p-1\"}", "{\"url\":\"/hot\"}");
    ev(&r, "visit", "2026-10-01T09:05:00Z", "{\"email\":\"b@x\"}", "{\"url\":\"/hot\"}");
    ev(&r, "link", "2026-10-01T09:30:00Z", "{\"portal_id\":\"p-1\",\"email\":\"b@x\"}", "{}");
    int deals = 0;
    for (uint64_t h = 1; h <= eng_count(r.e); h++) {
        const char *kind, *key = eng_entity_key(r.e, h, &kind);
        deals += key && !strcmp(kind, "deal");
    }
    CHECK_EQ_I(deals, 1);
    CHECK_EQ_I(count(&r.out, "\"kind\":\"merge\"", "\"route\":\"kept\"", NULL), 1);
    ev(&r, "visit", "2026-10-01T09:50:00Z", "{\"email\":\"c@x\"}", "{\"url\":\"/hot\"}");
    CHECK_EQ_I(count(&r.out, "\"kind\":\"assign\"", "\"key\":\"c@x\"", "ben@dna.example", NULL), 1);
    run_close(&r);
}

/* ---- state triggers on a new entity, routing, notifications ------------------------------ */

static void test_new_entity(void)
{
    Run r;
    if (run_open(&r, "module truth_new\nevent visit {}\nentity lead { identity email }\n"
                     "connector slack slack_webhook url env(\"SLACK_WEBHOOK_URL\")\n"
                     "score fit for lead { on visit add 5 }\n"
                     "derive lead.grade = match lead.score { >= 80 -> \"A\", _ -> \"F\" }\n"
                     "workflow dropped for lead {\n  on lead.grade becomes \"F\"\n  do notify slack \"#f\" \"dropped\"\n}\n"
                     "workflow moved for lead {\n  on lead.grade changes\n  do notify slack \"#g\" \"moved\"\n}\n")) {
        CHECK_MSG(0, "new-entity rules compile");
        return;
    }
    ev(&r, "visit", "2026-10-01T09:00:00Z", "{\"email\":\"a@x\"}", "{}");
    CHECK_EQ_I(count(&r.out, "\"kind\":\"notify\"", NULL), 0);
    run_close(&r);
}

static void test_routing(void)
{
    Run r;
    if (run_open(&r, "module truth_route\nevent visit {}\nentity lead { identity email\n  region: string? }\n"
                     "score fit for lead { on visit add 50 }\n"
                     "team ae { member \"ana@dna.example\" region \"EU\" }\n"
                     "connector slack slack_webhook url env(\"SLACK_WEBHOOK_URL\")\n"
                     "route lead {\n  when lead.score >= 40\n  do pipeline \"eu\" assign territory(ae)\n"
                     "  else -> notify slack \"#lead-routing\" \"Routing needed for {lead.email} at {lead.score}\"\n}\n")) {
        CHECK_MSG(0, "routing rules compile");
        return;
    }
    char buf[4096];
    ev(&r, "visit", "2026-10-01T09:00:00Z", "{\"email\":\"a@x\"}", "{}");
    CHECK_EQ_I(count(&r.out, "\"kind\":\"assign\"", NULL), 0);
    CHECK_EQ_I(count(&r.out, "\"kind\":\"notify\"", "Routing needed for a@x", NULL), 1);
    state(&r, "lead", "a@x", "2026-10-01T09:00:00Z", buf, sizeof buf);
    CHECK(strstr(buf, "\"pipeline\":null") != NULL);
    /* the notification carries the values of its moment */
    CHECK_EQ_I(count(&r.out, "\"kind\":\"notify\"", "\"state\":{\"score\":{\"total\":50.0}", NULL), 1);
    run_close(&r);
}

int main(void)
{
    test_late();
    test_caps();
    test_signals();
    test_reads();
    test_merges();
    test_new_entity();
    test_routing();
    return check_report("truth");
}
