/*
 * bench_replay.c - replay throughput of the engine over a generated month,
 * and the generator of that month (also used by tests/replay/determinism.sh).
 *
 * The generator writes a deterministic JSONL of event envelopes for the
 * shipped rules (rules/schema.dna): several sources (portal, email tool,
 * LinkedIn, forms, CRM, intent data), skewed activity (a few leads do most
 * things), identities that appear late (anonymous portal visits by
 * portal_id, linked to an email by a sign-up or a form, which merges the
 * portal lead with the email lead the email tool already knew), deals,
 * alert acknowledgements, ~0.5% late events and ~0.1% duplicate ids.
 *
 * The benchmark then, in one process and on the same file:
 *   1. parse only: getline + dna_json_parse per line (the floor),
 *   2. replay: getline + eng_event per line through the engine with the
 *      in-memory store, effects counted by the sink (not written), timers
 *      fired to the clock of the last event,
 * and prints events/s of both, their ratio, peak RSS (getrusage), and bytes
 * of state per lead (store_mem_bytes / leads).
 *
 *   cmake --build build --target bench_replay
 *   build/dnac compile rules -o /tmp/rules.dnab
 *   build/tests/bench/bench_replay /tmp/rules.dnab            1,000,000 events, 50,000 leads
 *   build/tests/bench/bench_replay /tmp/rules.dnab N LEADS [FILE]
 *   build/tests/bench/bench_replay --generate FILE N LEADS      only write the events
 *   build/tests/bench/bench_replay --generate-bench FILE N LEADS
 *   build/tests/bench/bench_replay --file FILE BUNDLE     replay FILE (kept), no generation
 *        only write the events of tests/bench/bench_rules.dna (run_bench_replay.sh)
 * or sh tests/bench/run_bench_replay.sh (builds, compiles the rules, runs).
 * FILE defaults to bench_replay_events.jsonl in $TMPDIR (or /tmp); it is
 * removed afterwards unless given.
 */
#include "bundle/bundle.h"
#include "engine/engine.h"
#include "base/json.h"
#include "base/mem.h"
#include "engine/state.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

/* ---- the generator ---------------------------------------------------------- */

static uint64_t rng_state;

static uint64_t rnd(void)               /* splitmix64: deterministic everywhere */
{
    uint64_t z = (rng_state += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
}
static double unif(void) { return (double)(rnd() >> 11) / 9007199254740992.0; }
static uint32_t pick(uint32_t n) { return (uint32_t)(rnd() % n); }
#define ONE_OF(a) ((a)[pick((uint32_t)(sizeof(a) / sizeof((a)[0])))])

typedef struct Lead {
    uint8_t portal_linked;      /* portal_id and email shown together */
    uint8_t email_known;        /* the email tool and CRM know the email */
    uint8_t has_deal;
    uint32_t deal_stage;
} Lead;

static const char *const domains[] = { "gmail.com", "gmx.de", "uni-heidelberg.de", "charite.de", "biontech.example",
                                       "roche.example", "bayer.example", "qiagen.example", "ethz.ch", "mpg.de",
                                       "startup-bio.example", "labcorp.example" };
static const char *const pages[] = { "/", "/blog/long-read-sequencing", "/blog/single-cell", "/pricing",
                                     "/publications/nature-2025", "/methods/rna-seq", "/enterprise", "/services/wgs",
                                     "/co-creation", "/compare/illumina", "/careers", "/about", "/pricing/enterprise",
                                     "/services/proteomics", "/publications/cell-2024" };
static const char *const campaigns[] = { "autumn-launch", "webinar-series", "newsletter-10", "retargeting", "conference" };
static const char *const forms[] = { "contact", "sample_request", "partnership", "newsletter", "contact" };
static const char *const signals[] = { "PRICING_PAGE", "DEMO_REQUEST", "CONTENT_DOWNLOAD", "WEBSITE_VISIT",
                                       "EMAIL_OPEN", "EMAIL_CLICK", "JOB_CHANGE", "WEBINAR_ATTENDED" };
static const char *const seniorities[] = { "c_level", "vp", "director", "manager", "ic", "ic", "manager" };
static const char *const regions[] = { "EU", "DACH", "US", "APAC", "DACH" };
static const char *const stages[] = { "qualification", "discovery", "proposal", "negotiation", "commit", "closed_won",
                                      "closed_lost" };
static const char *const news[] = { "funding_round", "grant", "hiring", "tech_stack_change", "acquisition" };

static void iso(int64_t ms, char out[80])
{
    time_t s = (time_t)(ms / 1000);
    struct tm tm;
    gmtime_r(&s, &tm);
    snprintf(out, 80, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
             tm.tm_min, tm.tm_sec, (int)(ms % 1000));
}

/* One envelope; returns its length (no newline). */
static int envelope(char *buf, size_t cap, uint64_t id, const char *type, const char *source, int64_t at,
                    const char *subject, const char *data)
{
    char t[80];
    iso(at, t);
    return snprintf(buf, cap,
                    "{\"id\":\"evt_%08" PRIu64 "\",\"type\":\"%s\",\"source\":\"%s\",\"occurred_at\":\"%s\","
                    "\"subject\":{%s},\"data\":{%s}}",
                    id, type, source, t, subject, data);
}

/* Write n events over nleads leads to f. */
static int generate(FILE *f, uint64_t n, uint32_t nleads)
{
    rng_state = 0x5EEDF00DULL;
    Lead *leads = calloc(nleads ? nleads : 1, sizeof(Lead));
    if (!leads) return -1;
    for (uint32_t i = 0; i < nleads; i++) leads[i].email_known = unif() < 0.45;
    const int64_t start = 1790812800000LL;      /* 2026-10-01T00:00:00Z */
    const int64_t span = 31LL * 86400000;
    char line[2048], subj[512], data[1024], prev[2048];
    size_t prevlen = 0;
    uint64_t next_id = 1;
    for (uint64_t k = 0; k < n; k++) {
        if (prevlen && unif() < 0.001) {        /* a webhook retried: the same envelope again */
            fwrite(prev, 1, prevlen, f);
            fputc('\n', f);
            continue;
        }
        int64_t step = span / (int64_t)(n ? n : 1);
        int64_t at = start + (int64_t)((double)span * (double)k / (double)n) + (int64_t)pick((uint32_t)(step > 1 ? step : 1));
        if (unif() < 0.005) at -= (int64_t)pick(7200000);       /* late by up to 2h */
        uint32_t li = (uint32_t)((double)nleads * pow(unif(), 2.5));    /* skewed */
        if (li >= nleads) li = nleads - 1;
        Lead *L = &leads[li];
        const char *dom = domains[li % (sizeof domains / sizeof domains[0])];
        char email[96], portal[32], linked[64], crm[32];
        snprintf(email, sizeof email, "\"email\":\"lead%u@%s\"", li, dom);
        snprintf(portal, sizeof portal, "\"portal_id\":\"p-%u\"", li);
        snprintf(linked, sizeof linked, "\"linkedin_url\":\"https://linkedin.example/in/l%u\"", li);
        snprintf(crm, sizeof crm, "\"crm_id\":\"c-%u\"", li);
        const char *type = "page_visit", *source = "portal";
        double r = unif();
        data[0] = 0;
        if (r < 0.42) {                          /* portal */
            const char *page = ONE_OF(pages);
            if (unif() < 0.3)
                snprintf(data, sizeof data, "\"url\":\"%s\",\"utm_source\":\"ads\",\"utm_campaign\":\"%s\"", page, ONE_OF(campaigns));
            else
                snprintf(data, sizeof data, "\"url\":\"%s\",\"title\":\"Page\"", page);
            if (L->portal_linked) snprintf(subj, sizeof subj, "\"entity\":\"lead\",%s", unif() < 0.5 ? portal : email);
            else snprintf(subj, sizeof subj, "\"entity\":\"lead\",%s", portal);
        } else if (r < 0.45) {                   /* the portal learns who it is: a late identity */
            type = unif() < 0.5 ? "portal_signup" : "paper_download";
            if (type[1] == 'o') snprintf(data, sizeof data, "\"plan\":\"free\"");
            else snprintf(data, sizeof data, "\"paper\":\"wp-%u\",\"topic\":\"genomics\"", pick(20));
            snprintf(subj, sizeof subj, "\"entity\":\"lead\",%s,%s", portal, email);
            L->portal_linked = 1;
            L->email_known = 1;
        } else if (r < 0.74) {                   /* the email tool */
            source = "emailtool";
            const char *camp = ONE_OF(campaigns);
            double e = unif();
            if (e < 0.35) { type = "email_sent"; snprintf(data, sizeof data, "\"campaign\":\"%s\"", camp); }
            else if (e < 0.75) { type = "email_open"; snprintf(data, sizeof data, "\"campaign\":\"%s\"", camp); }
            else if (e < 0.9) { type = "email_click"; snprintf(data, sizeof data, "\"campaign\":\"%s\",\"link\":\"%s\"", camp, ONE_OF(pages)); }
            else if (e < 0.95) { type = "email_reply"; snprintf(data, sizeof data, "\"campaign\":\"%s\"", camp); }
            else if (e < 0.98) { type = "email_bounce"; snprintf(data, sizeof data, "\"campaign\":\"%s\",\"hard\":%s", camp, unif() < 0.3 ? "true" : "false"); }
            else { type = "unsubscribe"; snprintf(data, sizeof data, "\"campaign\":\"%s\"", camp); }
            snprintf(subj, sizeof subj, "\"entity\":\"lead\",%s", email);
            L->email_known = 1;
        } else if (r < 0.80) {                   /* forms */
            source = "formtool";
            double e = unif();
            if (e < 0.5) {
                type = "form_submit";
                snprintf(data, sizeof data, "\"form\":\"%s\",\"company\":\"%s\"", ONE_OF(forms), dom);
            } else if (e < 0.75) { type = "webinar_registered"; snprintf(data, sizeof data, "\"webinar\":\"research-%u\"", pick(6)); }
            else if (e < 0.92) { type = "webinar_attended"; snprintf(data, sizeof data, "\"webinar\":\"%s-%u\",\"minutes\":%u", unif() < 0.5 ? "research" : "partner", pick(6), 5 + pick(55)); }
            else if (e < 0.97) { type = "demo_request"; snprintf(data, sizeof data, "\"product\":\"wgs\""); }
            else { type = "trial_started"; snprintf(data, sizeof data, "\"product\":\"cloud\""); }
            if (L->portal_linked || unif() < 0.5) snprintf(subj, sizeof subj, "\"entity\":\"lead\",%s", email);
            else { snprintf(subj, sizeof subj, "\"entity\":\"lead\",%s,%s", email, portal); L->portal_linked = 1; }
            L->email_known = 1;
        } else if (r < 0.85) {                   /* LinkedIn */
            source = "linkedin";
            double e = unif();
            if (e < 0.6) { type = "linkedin_connect"; snprintf(data, sizeof data, "\"campaign\":\"%s\"", ONE_OF(campaigns)); }
            else if (e < 0.9) { type = "linkedin_reply"; snprintf(data, sizeof data, "\"message\":\"hi\""); }
            else { type = "job_change"; snprintf(data, sizeof data, "\"company\":\"%s\",\"title\":\"Head of Lab\"", ONE_OF(domains)); }
            if (L->email_known && unif() < 0.3) snprintf(subj, sizeof subj, "\"entity\":\"lead\",%s,%s", linked, email);
            else snprintf(subj, sizeof subj, "\"entity\":\"lead\",%s", linked);
        } else if (r < 0.93) {                   /* CRM */
            source = "crm";
            double e = unif();
            if (e < 0.6 || !L->email_known) {
                type = "contact_updated";
                snprintf(data, sizeof data, "\"first_name\":\"F%u\",\"last_name\":\"L%u\",\"seniority\":\"%s\",\"region\":\"%s\"%s",
                         li, li, ONE_OF(seniorities), ONE_OF(regions), unif() < 0.4 ? ",\"phone\":\"+49 30 1234\"" : "");
                snprintf(subj, sizeof subj, "\"entity\":\"lead\",%s,%s", crm, email);
                L->email_known = 1;
            } else if (e < 0.75) {
                type = "meeting_scheduled";
                char t2[80];
                iso(at + 86400000, t2);
                snprintf(data, sizeof data, "\"starts_at\":\"%s\",\"kind\":\"%s\"", t2, unif() < 0.2 ? "partnership" : "intro");
                snprintf(subj, sizeof subj, "\"entity\":\"lead\",%s", crm);
            } else if (!L->has_deal) {
                type = "deal_created";
                snprintf(data, sizeof data, "\"name\":\"Deal %u\",\"contact\":\"lead%u@%s\",\"value\":%u.50", li, li, dom, 1000 + pick(90000));
                snprintf(subj, sizeof subj, "\"entity\":\"deal\",\"deal_id\":\"d-%u\"", li);
                L->has_deal = 1;
            } else {
                type = "deal_stage_changed";
                if (L->deal_stage < sizeof stages / sizeof stages[0] - 1) L->deal_stage++;
                snprintf(data, sizeof data, "\"stage\":\"%s\"", stages[L->deal_stage]);
                snprintf(subj, sizeof subj, "\"entity\":\"deal\",\"deal_id\":\"d-%u\"", li);
            }
        } else if (r < 0.97) {                   /* third parties */
            source = "intel";
            if (unif() < 0.6) { type = "intent_data"; snprintf(data, sizeof data, "\"provider\":\"%s\",\"topic\":\"%s\"", unif() < 0.5 ? "g2" : "bombora", unif() < 0.3 ? "illumina alternative" : "sequencing"); }
            else { type = "company_news"; snprintf(data, sizeof data, "\"kind\":\"%s\"", ONE_OF(news)); }
            snprintf(subj, sizeof subj, "\"entity\":\"lead\",%s", L->email_known ? email : portal);
        } else {                                 /* someone in sales acknowledges an alert */
            type = "alert_ack";
            source = "app";
            snprintf(data, sizeof data, "\"signal\":\"%s\"", ONE_OF(signals));
            snprintf(subj, sizeof subj, "\"entity\":\"lead\",%s", L->email_known ? email : portal);
        }
        int len = envelope(line, sizeof line, next_id++, type, source, at, subj, data);
        if (len < 0 || (size_t)len >= sizeof line) { free(leads); return -1; }
        fwrite(line, 1, (size_t)len, f);
        fputc('\n', f);
        memcpy(prev, line, (size_t)len);
        prevlen = (size_t)len;
    }
    free(leads);
    return ferror(f) ? -1 : 0;
}

/* ---- the generator of tests/bench/bench_rules.dna's events -------------------
 *
 * Nine event types over nleads leads, lead ids skewed (a few leads do most
 * things).  A lead is known by up to three identities: the portal sees
 * portal_id (anonymous until a download or a form names the email too,
 * which merges the two), the email tool sees the email, the CRM crm_id
 * with the email.  ~0.5% of events are late by up to 2 h, ~0.1% are a
 * webhook retried (the same envelope again). */

static const char *const b_pages[] = { "/", "/blog/long-read-sequencing", "/pricing", "/publications/nature-2025",
                                       "/methods/rna-seq", "/enterprise", "/services/wgs", "/co-creation",
                                       "/pricing/enterprise", "/publications/cell-2024", "/about", "/careers" };
static const char *const b_forms[] = { "contact", "partnership", "newsletter", "sample_request", "contact" };
static const char *const b_kinds[] = { "intro", "intro", "partnership", "demo" };

static int generate_bench(FILE *f, uint64_t n, uint32_t nleads)
{
    rng_state = 0xB0A710ADULL;
    uint8_t *linked = calloc(nleads ? nleads : 1, 1);          /* portal_id and email shown together */
    if (!linked) return -1;
    const int64_t start = 1790812800000LL;      /* 2026-10-01T00:00:00Z */
    const int64_t span = 31LL * 86400000;
    char line[1024], subj[256], data[512], prev[1024];
    size_t prevlen = 0;
    uint64_t next_id = 1;
    for (uint64_t k = 0; k < n; k++) {
        if (prevlen && unif() < 0.001) {
            fwrite(prev, 1, prevlen, f);
            fputc('\n', f);
            continue;
        }
        int64_t step = span / (int64_t)(n ? n : 1);
        int64_t at = start + (int64_t)((double)span * (double)k / (double)n) + (int64_t)pick((uint32_t)(step > 1 ? step : 1));
        if (unif() < 0.005) at -= (int64_t)pick(7200000);
        uint32_t li = (uint32_t)((double)nleads * pow(unif(), 2.5));
        if (li >= nleads) li = nleads - 1;
        char email[64], portal[32], crm[32];
        snprintf(email, sizeof email, "\"email\":\"lead%u@%s\"", li, domains[li % (sizeof domains / sizeof domains[0])]);
        snprintf(portal, sizeof portal, "\"portal_id\":\"p-%u\"", li);
        snprintf(crm, sizeof crm, "\"crm_id\":\"c-%u\"", li);
        const char *type, *source;
        double r = unif();
        if (r < 0.40) {
            type = "page_visit"; source = "portal";
            snprintf(data, sizeof data, "\"url\":\"%s\"", ONE_OF(b_pages));
            snprintf(subj, sizeof subj, "\"entity\":\"lead\",%s", linked[li] && unif() < 0.5 ? email : portal);
        } else if (r < 0.60) {
            type = "email_open"; source = "emailtool";
            snprintf(data, sizeof data, "\"campaign\":\"%s\"", ONE_OF(campaigns));
            snprintf(subj, sizeof subj, "\"entity\":\"lead\",%s", email);
        } else if (r < 0.68) {
            type = "email_click"; source = "emailtool";
            snprintf(data, sizeof data, "\"campaign\":\"%s\",\"link\":\"%s\"", ONE_OF(campaigns), ONE_OF(b_pages));
            snprintf(subj, sizeof subj, "\"entity\":\"lead\",%s", email);
        } else if (r < 0.73) {
            type = "form_submit"; source = "formtool";
            snprintf(data, sizeof data, "\"form\":\"%s\"", ONE_OF(b_forms));
            if (linked[li]) snprintf(subj, sizeof subj, "\"entity\":\"lead\",%s", email);
            else { snprintf(subj, sizeof subj, "\"entity\":\"lead\",%s,%s", email, portal); linked[li] = 1; }
        } else if (r < 0.78) {
            type = "webinar_attended"; source = "formtool";
            snprintf(data, sizeof data, "\"webinar\":\"%s-%u\",\"minutes\":%u", unif() < 0.5 ? "research" : "partner",
                     pick(6), 5 + pick(55));
            snprintf(subj, sizeof subj, "\"entity\":\"lead\",%s", email);
        } else if (r < 0.80) {
            type = "demo_request"; source = "formtool";
            snprintf(data, sizeof data, "\"product\":\"wgs\"");
            snprintf(subj, sizeof subj, "\"entity\":\"lead\",%s", email);
        } else if (r < 0.88) {
            type = "paper_download"; source = "portal";
            snprintf(data, sizeof data, "\"paper\":\"wp-%u\"", pick(20));
            snprintf(subj, sizeof subj, "\"entity\":\"lead\",%s,%s", portal, email);
            linked[li] = 1;
        } else if (r < 0.90) {
            type = "meeting_scheduled"; source = "crm";
            snprintf(data, sizeof data, "\"kind\":\"%s\"", ONE_OF(b_kinds));
            snprintf(subj, sizeof subj, "\"entity\":\"lead\",%s", crm);
        } else {
            type = "contact_updated"; source = "crm";
            snprintf(data, sizeof data, "\"seniority\":\"%s\"%s", ONE_OF(seniorities),
                     unif() < 0.4 ? ",\"phone\":\"+49 30 1234\"" : "");
            snprintf(subj, sizeof subj, "\"entity\":\"lead\",%s,%s", crm, email);
        }
        int len = envelope(line, sizeof line, next_id++, type, source, at, subj, data);
        if (len < 0 || (size_t)len >= sizeof line) { free(linked); return -1; }
        fwrite(line, 1, (size_t)len, f);
        fputc('\n', f);
        memcpy(prev, line, (size_t)len);
        prevlen = (size_t)len;
    }
    free(linked);
    return ferror(f) ? -1 : 0;
}

/* ---- the benchmark ------------------------------------------------------------ */

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static uint64_t effects_seen, effect_bytes;
static void count_sink(void *ud, const EngEffect *ef)
{
    (void)ud;
    effects_seen++;
    effect_bytes += ef->len + 1;
}

int main(int argc, char **argv)
{
    if (argc == 5 && (!strcmp(argv[1], "--generate") || !strcmp(argv[1], "--generate-bench"))) {
        FILE *f = fopen(argv[2], "wb");
        if (!f) { perror(argv[2]); return 2; }
        uint64_t n = strtoull(argv[3], NULL, 10);
        uint32_t nl = (uint32_t)strtoul(argv[4], NULL, 10);
        int rc = argv[1][10] ? generate_bench(f, n, nl) : generate(f, n, nl);
        if (fclose(f) || rc) { fprintf(stderr, "bench_replay: cannot write %s\n", argv[2]); return 2; }
        return 0;
    }
    const char *given = NULL;                   /* --file FILE: replay these events, do not generate */
    if (argc == 4 && !strcmp(argv[1], "--file")) {
        given = argv[2];
        argv += 2;
        argc = 2;
    }
    if (argc < 2 || argc > 5 || argv[1][0] == '-') {
        fprintf(stderr, "usage: bench_replay BUNDLE [EVENTS [LEADS [FILE]]]\n"
                        "       bench_replay --generate FILE EVENTS LEADS\n"
                        "       bench_replay --generate-bench FILE EVENTS LEADS\n"
                        "       bench_replay --file FILE BUNDLE\n");
        return 2;
    }
    uint64_t n = argc > 2 ? strtoull(argv[2], NULL, 10) : 1000000;
    uint32_t nleads = argc > 3 ? (uint32_t)strtoul(argv[3], NULL, 10) : 50000;
    char path[4096];
    const char *tmpdir = getenv("TMPDIR");
    if (given) snprintf(path, sizeof path, "%s", given);
    else if (argc > 4) snprintf(path, sizeof path, "%s", argv[4]);
    else snprintf(path, sizeof path, "%s/bench_replay_events.jsonl", tmpdir && *tmpdir ? tmpdir : "/tmp");

    DnaBundle b;
    DnaLoadResult res;
    if (bundle_load_file(argv[1], &b, &res) != DNA_LOAD_OK) { fprintf(stderr, "bench_replay: %s\n", res.msg); return 1; }

    double t0 = now_s();
    FILE *f = given ? NULL : fopen(path, "wb");
    if (!given && (!f || generate(f, n, nleads) || fclose(f))) { fprintf(stderr, "bench_replay: cannot write %s\n", path); return 2; }
    double tgen = now_s() - t0;

    /* pass 1: read and parse only */
    char *line = NULL;
    size_t cap = 0;
    ssize_t len;
    uint64_t lines = 0, bytes = 0, bad = 0;
    f = fopen(path, "rb");
    if (!f) { perror(path); return 2; }
    t0 = now_s();
    while ((len = getline(&line, &cap, f)) > 0) {
        lines++;
        bytes += (uint64_t)len;
        JsonError je;
        json_t *j = dna_json_parse(line, (size_t)len, &je);
        if (!j) bad++;
        json_decref(j);
    }
    double tparse = now_s() - t0;
    fclose(f);

    /* pass 2: replay through the engine */
    Store *st = store_mem_new();
    Engine *e = st ? eng_new(&b, st, count_sink, NULL) : NULL;
    if (!e) { fprintf(stderr, "bench_replay: out of memory\n"); return 2; }
    f = fopen(path, "rb");
    if (!f) { perror(path); return 2; }
    char why[256];
    uint64_t rejected = 0;
    t0 = now_s();
    while ((len = getline(&line, &cap, f)) > 0) {
        while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r')) len--;
        EngResult r = eng_event(e, line, (size_t)len, why, sizeof why);
        if (r == ENG_REJECTED || r == ENG_NOMEM) {
            if (!rejected) fprintf(stderr, "bench_replay: first rejected line: %s\n", why);
            rejected++;
        }
    }
    eng_advance(e, eng_clock(e));
    double treplay = now_s() - t0;
    fclose(f);
    free(line);

    const EngStats *s = eng_stats(e);
    uint64_t ents = 0, leadn = 0;
    for (uint64_t h = 1; h <= eng_count(e); h++) {
        const char *kind;
        if (eng_entity_key(e, h, &kind)) { ents++; leadn += !strcmp(kind, "lead"); }
    }
    uint64_t state_bytes = store_mem_bytes(st);
    /* where an entity's bytes go (ent_bytes' terms) */
    uint64_t b_ent = 0, b_slots = 0, b_led = 0, b_caps = 0, b_obs = 0, b_sig = 0, nsig = 0;
    for (uint64_t h = 1; h <= eng_count(e); h++) {
        Ent *x = eng_entity(e, h);
        if (!x) continue;
        b_ent += ent_bytes(x);
        b_slots += sizeof(DnaValue) * x->nslots;
        for (uint32_t i = 0; i < x->nslots; i++)
            if (x->slots[i].kind == DNA_VK_STR) b_slots += x->slots[i].len + 1;
        b_led += sizeof(Ledger) * x->nledgers;
        for (uint32_t i = 0; i < x->nledgers; i++) b_led += led_bytes(&x->ledgers[i]);
        b_caps += sizeof(EntCap) * x->capcaps;
        b_obs += sizeof(EntObs) * x->capobs;
        b_sig += sizeof(EntSignal) * x->capsignals;
        nsig += x->nsignals;
    }
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);

    double eps_parse = (double)lines / tparse, eps_replay = (double)lines / treplay;
    printf("bench_replay: %" PRIu64 " lines (%.1f MB) over %u leads, generated in %.2f s\n", lines, (double)bytes / 1e6,
           nleads, tgen);
    printf("  parse only : %.3f s, %.0f lines/s (%" PRIu64 " unparsable)\n", tparse, eps_parse, bad);
    printf("  replay     : %.3f s, %.0f events/s (%" PRIu64 " accepted, %" PRIu64 " rejected, %" PRIu64
           " duplicates, %" PRIu64 " late, %" PRIu64 " timers)\n",
           treplay, eps_replay, s->events, rejected, s->duplicates, s->late, s->timers);
    printf("  replay / parse-only speed: %.2f (1.0 = as fast as parsing alone)\n", eps_replay / eps_parse);
    printf("  effects    : %" PRIu64 " (%.1f MB of effect lines), rule runs %" PRIu64 "\n", effects_seen,
           (double)effect_bytes / 1e6, s->rule_runs);
    printf("  entities   : %" PRIu64 " live (%" PRIu64 " leads), %" PRIu64 " handles issued\n", ents, leadn, eng_count(e));
    printf("  state      : %.1f MB in the store, %.0f bytes per lead (store bytes / live leads)\n",
           (double)state_bytes / 1e6, leadn ? (double)state_bytes / (double)leadn : 0.0);
    printf("  of which   : entities %.1f MB (slots %.1f, ledgers %.1f, caps %.1f, observations %.1f,"
           " signals/alerts %.1f for %" PRIu64 " kept), indexes and the rest %.1f MB\n",
           (double)b_ent / 1e6, (double)b_slots / 1e6, (double)b_led / 1e6, (double)b_caps / 1e6, (double)b_obs / 1e6,
           (double)b_sig / 1e6, nsig, (double)(state_bytes > b_ent ? state_bytes - b_ent : 0) / 1e6);
    printf("  peak RSS   : %.1f MB\n", (double)ru.ru_maxrss / 1024.0);

    eng_free(e);
    st->ops->free(st);
    bundle_free(&b);
    if (argc <= 4 && !given) remove(path);
    return rejected ? 1 : 0;
}
