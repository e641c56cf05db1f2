/*
 * bench_conditions.h - the typical rule conditions of the VM and JIT
 * benchmarks (bench_vm.c, bench_jit.c): a small rule set, a few rotating
 * in-memory states, and each condition written by hand in C over the same
 * slot arrays (header-only; each benchmark is one program).
 */
#ifndef DNA_BENCH_CONDITIONS_H
#define DNA_BENCH_CONDITIONS_H

#include "compile_util.h"

#include <inttypes.h>
#include <time.h>

static const char rules[] =
    "module bench\n"
    "event page_visit { url: string }\n"
    "entity lead {\n"
    "  identity email\n"
    "  seniority: enum(c_level, vp, director, manager, ic)?\n"
    "}\n"
    "score engagement for lead {\n"
    "  on page_visit when event.url contains \"/pricing\" add 20\n"
    "  on page_visit when lead.seniority == c_level add 20\n"
    "  on page_visit when lead.score >= 40 and lead.intent.confidence >= 0.6 add 1\n"
    "  on page_visit when (event.url contains \"/pricing\" or event.url contains \"/demo\")\n"
    "                 and lead.seniority in [c_level, vp] and lead.score >= 40 add 1\n"
    "}\n"
    "intent for lead { research { on page_visit add 1 } }\n"
    "connector slack slack_webhook url env(\"SLACK_WEBHOOK_URL\")\n"
    "workflow hot for lead {\n"
    "  on page_visit\n"
    "  do notify slack \"#hot\" \"Hot lead {lead.email}: {lead.score} points\"\n"
    "}\n";

#define NSTATES 4
static DnaValue ev[NSTATES][8], ld[NSTATES][64];
static uint32_t s_url, s_sen, s_score, s_conf, s_email;

static inline double now_ns(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec * 1e9 + (double)t.tv_nsec;
}

/* ---- the same conditions in C ------------------------------------------------- */

static int c_contains(const DnaValue *v, const char *needle, size_t n)
{
    return v->kind == DNA_VK_STR && n <= v->len && memmem(v->u.s, v->len, needle, n) != NULL;
}

static int64_t c_url_pricing(int k) { return c_contains(&ev[k][s_url], "/pricing", 8); }
static int64_t c_enum_eq(int k) { const DnaValue *v = &ld[k][s_sen]; return v->kind != DNA_VK_NONE && v->u.i == 0; }
static int64_t c_thresholds(int k)
{
    return ld[k][s_score].u.i >= 40000 && ld[k][s_conf].u.i >= 600;
}
static int64_t c_mixed(int k)
{
    const DnaValue *url = &ev[k][s_url], *sen = &ld[k][s_sen];
    return (c_contains(url, "/pricing", 8) || c_contains(url, "/demo", 5)) &&
           sen->kind != DNA_VK_NONE && (sen->u.i == 0 || sen->u.i == 1) && ld[k][s_score].u.i >= 40000;
}
static char c_buf[256];
static int64_t c_template(int k)
{
    const DnaValue *email = &ld[k][s_email];
    int64_t sc = ld[k][s_score].u.i;
    char num[32];
    int n = snprintf(num, sizeof num, "%" PRId64, sc / 1000);
    if (sc % 1000) {
        int f = (int)(sc % 1000), digits = 3;
        while (f % 10 == 0) { f /= 10; digits--; }
        n += snprintf(num + n, sizeof num - (size_t)n, ".%0*d", digits, f);
    }
    size_t len = 0;
    memcpy(c_buf, "Hot lead ", 9);
    len = 9;
    memcpy(c_buf + len, email->u.s, email->len);
    len += email->len;
    memcpy(c_buf + len, ": ", 2);
    len += 2;
    memcpy(c_buf + len, num, (size_t)n);
    len += (size_t)n;
    memcpy(c_buf + len, " points", 7);
    len += 7;
    return (int64_t)len;
}

typedef struct Case {
    const char *name;
    uint32_t unit;
    int64_t (*c)(int k);
} Case;

#define NCASES 5

/* Compile the rules into *b and fill cases[NCASES] and the states;
 * returns the page_visit event and lead entity through *pv, *lead. */
static int bc_setup(Project *pr, DnaBundle *b, Case *cases, uint32_t *pv_, uint32_t *lead_)
{
    if (cu_load(pr, "bench.dna", rules, NULL, b)) return -1;
    uint32_t pv = bundle_event(b, "page_visit"), lead = bundle_entity(b, "lead");
    s_url = bundle_event_slot(b, pv, "url");
    s_sen = bundle_slot(b, lead, "seniority");
    s_score = bundle_slot(b, lead, "score");
    s_conf = bundle_slot(b, lead, "intent.confidence");
    s_email = bundle_slot(b, lead, "email");
    static const char *const urls[NSTATES] = { "/en/pricing/enterprise", "/blog/2026/10/how-we-score-leads",
                                               "/demo", "/" };
    static const char *const emails[NSTATES] = { "ada@example.com", "ben@dna.example", "cem@x.io", "dia@y.org" };
    for (int k = 0; k < NSTATES; k++) {
        ev[k][s_url] = dna_str(urls[k], (uint32_t)strlen(urls[k]));
        ld[k][s_sen] = k == 3 ? dna_none() : dna_int(k);
        ld[k][s_score] = dna_int(20000 + 15500 * k);
        ld[k][s_conf] = dna_int(500 + 100 * k);
        ld[k][s_email] = dna_str(emails[k], (uint32_t)strlen(emails[k]));
    }
    const DnaRule *hot = &b->rules[bundle_rule(b, "hot")];
    const DnaAction *notify = &b->actions[b->arms[hot->arm].action];
    const Case all[NCASES] = {
        { "url contains \"/pricing\"", b->rules[bundle_rule(b, "engagement#1")].cond, c_url_pricing },
        { "enum equality", b->rules[bundle_rule(b, "engagement#2")].cond, c_enum_eq },
        { "thresholds joined by and", b->rules[bundle_rule(b, "engagement#3")].cond, c_thresholds },
        { "contains/or/in/and mix", b->rules[bundle_rule(b, "engagement#4")].cond, c_mixed },
        { "template (notify message)", b->args[notify->arg + 1].unit, c_template },
    };
    memcpy(cases, all, sizeof all);
    *pv_ = pv;
    *lead_ = lead;
    return 0;
}

/* whether a unit's result is what the C version computes for state k */
static int bc_agrees(const Case *c, int k, const DnaValue *out)
{
    int64_t want = c->c(k);
    int64_t got = out->kind == DNA_VK_STR ? (int64_t)out->len : out->u.i;
    return got == want && (out->kind != DNA_VK_STR || !memcmp(out->u.s, c_buf, out->len));
}

#endif
