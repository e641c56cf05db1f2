/*
 * bench_jit.c - the JIT against the interpreter and hand-written C, in one
 * process:
 *
 *   1. ns per evaluation of the typical conditions (bench_conditions.h)
 *      through the interpreter (vm_eval), the JIT (jit_eval) and C, and
 *      the ratios JIT/C and VM/JIT (goals: JIT within 1.3x of C, at least
 *      3x faster than the interpreter);
 *   2. JIT compile time of the shipped bundle and of a generated
 *      1,000-rule bundle (goal: at most 50 ms for 1,000 rules);
 *   3. replay events/s through the engine (in-memory store, effects
 *      counted) with the JIT off and on (goal: on >= 1.0x off), given an
 *      events file from `bench_replay --generate`.
 *
 * Every figure is the median of 5 runs.  Before timing, every condition's
 * JIT result is checked against the interpreter's and C's.
 *
 *   bench_jit [ITERATIONS [RULES.dnab [EVENTS.jsonl]]]
 * or sh tests/bench/run_bench_jit.sh (builds, compiles rules/, generates
 * the events, runs).
 */
#include "bench_conditions.h"

#include "engine/engine.h"
#include "jit/jit.h"

#define RUNS 5

static int cmp_d(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double median(double *v)
{
    qsort(v, RUNS, sizeof *v, cmp_d);
    return v[RUNS / 2];
}

static DnaState st;
static volatile int64_t sink;

/* ns per evaluation of unit through the JIT (j) or the interpreter (j NULL) */
static double time_unit(DnaVm *vm, const DnaJit *j, const DnaBundle *b, uint32_t unit, long iters)
{
    double t0 = now_ns();
    for (long i = 0; i < iters; i++) {
        int k = (int)(i & (NSTATES - 1));
        st.event = ev[k];
        st.entity = ld[k];
        DnaValue out;
        if (j) jit_eval(vm, j, b, unit, &st, &out);
        else vm_eval(vm, b, unit, &st, &out);
        sink += out.u.i;
    }
    return (now_ns() - t0) / (double)iters;
}

static double time_c(const Case *c, long iters)
{
    double t0 = now_ns();
    for (long i = 0; i < iters; i++) sink += c->c((int)(i & (NSTATES - 1)));
    return (now_ns() - t0) / (double)iters;
}

static int conditions(long iters)
{
    Project pr;
    DnaBundle b;
    Case cases[NCASES];
    uint32_t pv, lead;
    if (bc_setup(&pr, &b, cases, &pv, &lead)) return 1;
    DnaJit *j = jit_compile(&b, NULL);
    if (!j || !j->fn) { printf("jit: %s\n", j ? j->why : "out of memory"); jit_free(j); return 1; }
    DnaVm *vm = malloc(sizeof *vm);
    vm_init(vm);
    st = (DnaState){ NULL, b.events[pv].nslots, NULL, b.entities[lead].nslots, 1, 0, NULL, NULL, NULL };
    int bad = 0;
    printf("%-28s %9s %9s %9s %8s %8s\n", "condition", "vm ns", "jit ns", "C ns", "jit/C", "vm/jit");
    for (int ci = 0; ci < NCASES; ci++) {
        Case *c = &cases[ci];
        for (int k = 0; k < NSTATES; k++) {
            st.event = ev[k];
            st.entity = ld[k];
            DnaValue a, o;
            VmResult ra = vm_eval(vm, &b, c->unit, &st, &a);
            int va = ra == VM_OK && bc_agrees(c, k, &a);
            VmResult ro = jit_eval(vm, j, &b, c->unit, &st, &o);
            if (!va || ro != VM_OK || !bc_agrees(c, k, &o)) {
                printf("%s: the interpreter, the JIT and C disagree on state %d\n", c->name, k);
                bad = 1;
            }
        }
        double tv[RUNS], tj[RUNS], tc[RUNS];
        for (int r = 0; r < RUNS; r++) {
            tv[r] = time_unit(vm, NULL, &b, c->unit, iters);
            tj[r] = time_unit(vm, j, &b, c->unit, iters);
            tc[r] = time_c(c, iters);
        }
        double v = median(tv), jj = median(tj), cc = median(tc);
        printf("%-28s %9.2f %9.2f %9.2f %7.2fx %7.2fx\n", c->name, v, jj, cc, jj / cc, v / jj);
    }
    free(vm);
    jit_free(j);
    bundle_free(&b);
    proj_free(&pr);
    return bad;
}

/* ---- compile time ---------------------------------------------------------------- */

static double compile_ms(const DnaBundle *b, const char *what)
{
    double t[RUNS], cpu[RUNS];
    uint32_t ncode = 0;
    for (uint32_t i = 0; i < b->nunits; i++) ncode += b->units[i].len;
    for (int r = 0; r < RUNS; r++) {
        struct timespec c0, c1;
        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &c0);
        DnaJit *j = jit_compile(b, NULL);
        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &c1);
        if (!j || !j->fn) { printf("%s: %s\n", what, j ? j->why : "out of memory"); jit_free(j); return -1; }
        t[r] = j->compile_ms;
        cpu[r] = (double)(c1.tv_sec - c0.tv_sec) * 1e3 + (double)(c1.tv_nsec - c0.tv_nsec) / 1e6;
        jit_free(j);
    }
    double m = median(t), mc = median(cpu);
    printf("compile %-24s %5u units %6u instructions: %7.1f ms wall, %7.1f ms cpu (%.0f us cpu/unit)\n", what,
           b->nunits, ncode, m, mc, 1000.0 * mc / (b->nunits ? b->nunits : 1));
    return m;
}

/* 1,000 rules of the kinds the conditions above time, constants varied */
static char *generated_rules(int n)
{
    size_t cap = 256 + (size_t)n * 200, len = 0;
    char *s = malloc(cap);
    len += (size_t)snprintf(s + len, cap - len,
                            "module gen\nevent page_visit { url: string, n: int }\n"
                            "entity lead {\n  identity email\n  seniority: enum(c_level, vp, director, manager, ic)?\n}\n"
                            "intent for lead { research { on page_visit add 1 } }\n"
                            "score engagement for lead {\n");
    for (int i = 0; i < n; i++) {
        switch (i % 4) {
        case 0: len += (size_t)snprintf(s + len, cap - len, "  on page_visit when event.url contains \"/p%d\" add %d\n", i, 1 + i % 9); break;
        case 1: len += (size_t)snprintf(s + len, cap - len, "  on page_visit when lead.seniority == vp and event.n > %d add 2\n", i); break;
        case 2:
            len += (size_t)snprintf(s + len, cap - len,
                                    "  on page_visit when lead.score >= %d and lead.intent.confidence >= 0.%d add 1\n", i % 90,
                                    1 + i % 9);
            break;
        default:
            len += (size_t)snprintf(s + len, cap - len,
                                    "  on page_visit when (event.url contains \"/d%d\" or event.n == %d) and lead.seniority in "
                                    "[c_level, vp] add %d\n",
                                    i, i, 1 + i % 5);
        }
    }
    snprintf(s + len, cap - len, "}\n");
    return s;
}

static int compile_times(const char *shipped)
{
    int bad = 0;
    if (shipped) {
        DnaBundle b;
        DnaLoadResult res;
        if (bundle_load_file(shipped, &b, &res)) { printf("%s: %s\n", shipped, res.msg); return 1; }
        bad |= compile_ms(&b, "shipped rules/") < 0;
        bundle_free(&b);
    }
    char *src = generated_rules(1000);
    Project pr;
    DnaBundle g;
    if (cu_load(&pr, "gen.dna", src, NULL, &g)) { free(src); return 1; }
    double ms = compile_ms(&g, "generated, 1,000 rules");
    bad |= ms < 0;
    printf("  goal: <= 50 ms for 1,000 rules: %s\n", ms >= 0 && ms <= 50 ? "met" : "NOT met");
    bundle_free(&g);
    proj_free(&pr);
    free(src);
    return bad;
}

/* ---- replay ---------------------------------------------------------------------- */

static void count_sink(void *ud, const EngEffect *e) { (void)e; ++*(uint64_t *)ud; }

typedef struct Lines { char **p; size_t *len; size_t n; } Lines;

static int read_lines(const char *path, Lines *L)
{
    FILE *f = fopen(path, "rb");
    if (!f) { printf("cannot read %s\n", path); return -1; }
    size_t cap = 0;
    char *line = NULL;
    size_t lcap = 0;
    ssize_t n;
    memset(L, 0, sizeof *L);
    while ((n = getline(&line, &lcap, f)) > 0) {
        if (L->n == cap) {
            cap = cap ? cap * 2 : 4096;
            L->p = realloc(L->p, cap * sizeof *L->p);
            L->len = realloc(L->len, cap * sizeof *L->len);
        }
        L->p[L->n] = strndup(line, (size_t)n);
        L->len[L->n++] = (size_t)n;
    }
    free(line);
    fclose(f);
    return 0;
}

/* events/s of one replay of L through a fresh engine under mode m */
static double replay_once(const DnaBundle *b, const Lines *L, JitMode m, char *desc, size_t dl)
{
    jit_set_mode(m);
    Store *store = store_mem_new();
    uint64_t effects = 0;
    double t0 = now_ns();
    Engine *e = eng_new(b, store, count_sink, &effects);
    char why[256];
    for (size_t i = 0; i < L->n; i++) eng_event(e, L->p[i], L->len[i], why, sizeof why);
    eng_advance(e, eng_clock(e));
    double s = (now_ns() - t0) / 1e9;
    eng_jit_describe(e, desc, dl);
    eng_free(e);
    store->ops->free(store);
    return (double)L->n / s;
}

static int replays(const char *bundle, const char *events)
{
    DnaBundle b;
    DnaLoadResult res;
    if (bundle_load_file(bundle, &b, &res)) { printf("%s: %s\n", bundle, res.msg); return 1; }
    Lines L;
    if (read_lines(events, &L)) { bundle_free(&b); return 1; }
    double off[RUNS], on[RUNS];
    char doff[300], don[300];
    /* alternate, so that a change in machine load hits both alike */
    for (int r = 0; r < RUNS; r++) {
        off[r] = replay_once(&b, &L, JIT_OFF, doff, sizeof doff);
        on[r] = replay_once(&b, &L, JIT_ON, don, sizeof don);
    }
    double mo = median(off), mj = median(on);
    printf("replay %zu events: jit off %.0f events/s, jit on %.0f events/s: %.2fx  (%s)\n", L.n, mo, mj, mj / mo, don);
    printf("  (the JIT compiles once per bundle: later runs reuse it, see jit_acquire)\n");
    for (size_t i = 0; i < L.n; i++) free(L.p[i]);
    free(L.p);
    free(L.len);
    bundle_free(&b);
    return 0;
}

int main(int argc, char **argv)
{
    long iters = argc > 1 ? atol(argv[1]) : 5000000;
    if (!jit_built()) { printf("bench_jit: built without LLVM, nothing to measure\n"); return 0; }
    int bad = conditions(iters);
    bad |= compile_times(argc > 2 ? argv[2] : NULL);
    if (argc > 3) bad |= replays(argv[2], argv[3]);
    (void)sink;
    return bad;
}
