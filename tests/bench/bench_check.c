/*
 * bench_check.c - how fast dnac checks a large rule set.
 *
 * Generates, in memory, one file of 10,000 rules: 6,000 scoring rules in 60
 * score blocks, 2,000 signals and 2,000 workflows, with conditions like the
 * ones people write (contains, enum and string comparisons, templates, caps,
 * expiry).  Then parses, resolves and checks it through the library
 * (Project), several times, and prints the best time as rules checked per
 * second (the goal is >= 100,000), with the memory it took.
 *
 *   build/tests/bench/bench_check [RULES] [REPEATS]
 */
#include "sema/project.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* ---- counting allocator ------------------------------------------------- */

static uint64_t g_total;        /* bytes requested, growths included */

static void *count_alloc(void *ud, void *ptr, size_t osize, size_t nsize)
{
    (void)ud;
    if (nsize == 0) { free(ptr); return NULL; }
    if (nsize > osize) g_total += nsize - osize;
    return realloc(ptr, nsize);
}

/* ---- the generated source ------------------------------------------------ */

typedef struct Buf { char *p; size_t n, cap; } Buf;

static void put(Buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void put(Buf *b, const char *fmt, ...)
{
    for (;;) {
        va_list ap;
        va_start(ap, fmt);
        int k = vsnprintf(b->p + b->n, b->cap - b->n, fmt, ap);
        va_end(ap);
        if (k < 0) abort();
        if (b->n + (size_t)k < b->cap) { b->n += (size_t)k; return; }
        b->cap = b->cap * 2 + (size_t)k + 1;
        b->p = realloc(b->p, b->cap);
        if (!b->p) abort();
    }
}

static const char *const seniority[] = { "c_level", "vp", "director", "manager", "ic" };
static const char *const sizes[] = { "enterprise", "mid", "smb" };
static const char *const prios[] = { "critical", "high", "medium", "low" };

static void gen(Buf *b, int nrules)
{
    int nscore = nrules * 6 / 10, nsignal = nrules * 2 / 10, nwf = nrules - nscore - nsignal;
    put(b, "module bench\n\n"
           "event page_visit     { url: string, utm_campaign: string? }\n"
           "event form_submit    { form: string }\n"
           "event demo_request   {}\n"
           "event email_click    { link: string }\n"
           "event paper_download { paper: string }\n\n"
           "entity lead {\n"
           "  identity email, portal_id, linkedin_url\n"
           "  first_name:   string?\n"
           "  seniority:    enum(c_level, vp, director, manager, ic)?\n"
           "  company_size: enum(enterprise, mid, smb)?\n"
           "  region:       string?\n"
           "  status:       enum(new, contacted, qualified, dormant) = new\n"
           "}\n\n"
           "const HOT = 80\n"
           "connector slack slack_webhook url env(\"SLACK_WEBHOOK_URL\")\n\n");
    int r = 0;
    for (int blk = 0; r < nscore; blk++) {
        put(b, "score s%d for lead {\n", blk);
        for (int k = 0; k < 100 && r < nscore; k++, r++) {
            switch (r % 5) {
            case 0:
                put(b, "  on page_visit when event.url contains \"/p/%d\" and lead.seniority == %s"
                       "  add %d  limit 1 per day  expire 30d\n", r, seniority[r % 5], 5 + r % 20);
                break;
            case 1:
                put(b, "  on form_submit when event.form == \"form-%d\" and lead.status != dormant"
                       "  add %d  limit 1 per lead\n", r, 10 + r % 15);
                break;
            case 2:
                put(b, "  on email_click when starts_with(event.link, \"https://dna.example/%d\")"
                       "  add %d  limit 3 per week  decay linear 72h\n", r, 1 + r % 5);
                break;
            case 3:
                put(b, "  on demo_request when lead.region == \"EU\" or lead.company_size == %s"
                       "  add %d  limit 1 per lead\n", sizes[r % 3], 20 + r % 10);
                break;
            default:
                put(b, "  on paper_download when event.paper contains \"genomics-%d\" and lead.score < HOT"
                       "  add %d  decay half_life 7d\n", r, 10);
            }
        }
        put(b, "}\n\n");
    }
    for (int i = 0; i < nsignal; i++, r++)
        put(b, "signal SIG_%d for lead {\n"
               "  on page_visit when event.url contains \"/s/%d\" and lead.status == new\n"
               "  weight %d  decay linear %dh  priority %s\n}\n", i, i, 5 + i % 30, 24 + i % 72, prios[i % 4]);
    for (int i = 0; i < nwf; i++, r++) {
        if (i % 2)
            put(b, "workflow w%d for lead {\n"
                   "  on lead.score crosses above %d\n"
                   "  when lead.status == new and lead.seniority != ic\n"
                   "  do notify slack \"#hot-leads\" \"Lead {lead.email} passed %d: {lead.score} points\"\n"
                   "     create task \"Call {lead.first_name}\" due 1d assign lead.owner\n}\n", i, 20 + i % 80, 20 + i % 80);
        else
            put(b, "workflow w%d for lead {\n"
                   "  on form_submit\n"
                   "  when event.form == \"contact-%d\"\n"
                   "  mode approval\n"
                   "  do set lead.status = contacted\n"
                   "     notify slack \"#forms\" \"{lead.email} sent {event.form}\"\n}\n", i, i);
    }
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
    int nrules = argc > 1 ? atoi(argv[1]) : 10000;
    int reps = argc > 2 ? atoi(argv[2]) : 7;
    if (nrules < 10 || reps < 1) { fprintf(stderr, "usage: bench_check [RULES >= 10] [REPEATS]\n"); return 2; }
    dna_set_allocator(count_alloc, NULL);
    Buf b = { malloc(1 << 20), 0, 1 << 20 };
    if (!b.p) return 1;
    gen(&b, nrules);

    double best = 1e30, total = 0;
    uint64_t bytes = 0, peak = 0, allocs = 0;
    for (int i = 0; i < reps; i++) {
        MemStats *ms = dna_mem_stats();
        uint64_t t0 = g_total, a0 = ms->allocs;
        ms->bytes_peak = ms->bytes_live;
        uint64_t live0 = ms->bytes_live;
        double s = now_s();
        Project pr;
        proj_init(&pr, DNA_STDLIB_DIR);
        if (!proj_add_source(&pr, "bench.dna", b.p, b.n)) { fprintf(stderr, "out of memory\n"); return 1; }
        uint32_t nerr = proj_check(&pr);
        double dt = now_s() - s;
        if (nerr) {
            fprintf(stderr, "the generated rules do not check clean (%u errors):\n", nerr);
            pr.diags.n = pr.diags.n > 5 ? 5 : pr.diags.n;
            diag_print(&pr.diags, DIAG_TEXT, stderr, 0);
            return 1;
        }
        bytes = g_total - t0;
        allocs = ms->allocs - a0;
        peak = ms->bytes_peak - live0;
        proj_free(&pr);
        if (dt < best) best = dt;
        total += dt;
    }
    printf("bench_check: %d rules, %.1f MB of source, %d runs\n", nrules, (double)b.n / 1e6, reps);
    printf("  best   %8.2f ms  = %9.0f rules/s  (goal >= 100000)\n", best * 1e3, nrules / best);
    printf("  mean   %8.2f ms  = %9.0f rules/s\n", total / reps * 1e3, nrules / (total / reps));
    printf("  memory %8.1f MB allocated in %llu allocations, %.1f MB at peak (%.0f bytes per rule)\n",
           (double)bytes / 1e6, (unsigned long long)allocs, (double)peak / 1e6, (double)bytes / nrules);
    free(b.p);
    return 0;
}
