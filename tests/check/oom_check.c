/*
 * oom_check.c - allocation failure, one allocation at a time, through the
 * whole pipeline: checking a program, compiling it (emit + bundle_write),
 * loading the bundle (bundle_read + verify) and replaying a small events
 * file through the engine.
 *
 * Each phase runs once to count its allocations (K), then again for every
 * N in 1..K with the Nth allocation of the phase failing (dna_mem_stats()->
 * fail_after = N), in a forked child so a crash is counted and the points
 * after it are still tried.  Each run must end without a crash, give every
 * byte back (bytes_live returns to where it was before the phase), and,
 * when the failure was hit, report it as what it is: a diagnostic or I/O
 * error saying out of memory from the check or the compilation,
 * DNA_LOAD_NOMEM from the loader, ENG_NOMEM from the engine's events or -1
 * from its timers (or a NULL engine or store, or state output marked out
 * of memory).  Work that lost memory must not look clean, nor fail for a
 * reason it does not have.  The sanitizer build of this test also catches
 * use of a NULL or of freed memory on the failure paths.
 *
 * jansson (which parses the events) is routed through the same hook, so
 * its documents count as live bytes; its own allocations are not failed
 * (see j_malloc).
 *
 *   oom_check FILE.dna|DIR [EVENTS.jsonl [LINES]]
 *                                       check, compile, load; replay too (of
 *                                       the first LINES lines)
 *   OOM_ONLY=PHASE:N oom_check ...      fail allocation N of PHASE (check,
 *                                       compile, load, replay) only, in this
 *                                       process, and say what was reported
 */
#include "emit/emit.h"
#include "engine/engine.h"
#include "sema/project.h"

#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *buf = n >= 0 ? malloc((size_t)n + 1) : NULL;
    if (buf && fread(buf, 1, (size_t)n, f) != (size_t)n) { free(buf); buf = NULL; }
    fclose(f);
    if (buf) { buf[n] = 0; *len = (size_t)n; }
    return buf;
}

/* jansson through dna_malloc, so a document the engine keeps or drops a
 * reference too many shows as bytes not given back; a size header, since
 * json_free_t has none.  Its allocations do not count towards fail_after:
 * jansson 2.14 does not survive every failure (an assert in
 * lex_scan_string, load.c:442, when a string's copy cannot be made). */
typedef union JHead { size_t n; max_align_t align; } JHead;
static uint64_t j_allocs;               /* not failure points */

static void *j_malloc(size_t n)
{
    MemStats *ms = dna_mem_stats();
    uint64_t armed = ms->fail_after;
    ms->fail_after = 0;
    JHead *h = dna_malloc(sizeof *h + n);
    ms->fail_after = armed;
    if (!h) return NULL;
    j_allocs++;
    h->n = n;
    return h + 1;
}

static void j_free(void *p)
{
    if (!p) return;
    JHead *h = (JHead *)p - 1;
    dna_free(h, sizeof *h + h->n);
}

/* ---- the inputs and the phases ------------------------------------------------ */

typedef struct Input {
    const char *path;           /* a directory: its files, through proj_add_path */
    const char *name;           /* a file: its text as "rules.dna" */
    char *text;
    size_t len;
    char *events;               /* NULL: no replay phase */
    size_t elen;
    DnaBuf bundle;              /* compiled once, for load and replay */
    DnaBundle b;                /* loaded once, for replay */
} Input;

/* A phase runs once with the planned failure armed; it returns how many
 * errors it reported, *why says the first and *oom whether one of them
 * says out of memory (a failure must be reported as what it is). */
typedef int (*PhaseFn)(Input *in, char *why, size_t wl, int *oom);

static int says_oom(const char *msg) { return strstr(msg, "out of memory") || strstr(msg, strerror(ENOMEM)); }

static int add_checked(Project *pr, Input *in)
{
    proj_init(pr, DNA_STDLIB_DIR);
    if (!(in->text ? proj_add_source(pr, in->name, in->text, in->len) : proj_add_path(pr, in->path)))
        return 1;                                                   /* reported as I/O by the CLI */
    return (int)proj_check(pr);
}

/* the first diagnostic (or I/O error) into why; whether any says out of memory */
static int first_diag(Project *pr, char *why, size_t wl)
{
    snprintf(why, wl, "%s", pr->io_error[0] ? pr->io_error : pr->diags.n ? pr->diags.v[0].msg : "no diagnostic");
    int oom = says_oom(pr->io_error);
    for (uint32_t i = 0; i < pr->diags.n && !oom; i++) oom = says_oom(pr->diags.v[i].msg);
    return oom;
}

static int ph_check(Input *in, char *why, size_t wl, int *oom)
{
    Project pr;
    int nerr = add_checked(&pr, in);
    *oom = first_diag(&pr, why, wl);
    proj_free(&pr);
    return nerr;
}

/* compile: the check is armed too, as `dnac compile` runs both */
static int ph_compile(Input *in, char *why, size_t wl, int *oom)
{
    Project pr;
    int nerr = add_checked(&pr, in);
    DnaBuf out;
    memset(&out, 0, sizeof out);
    if (!nerr) nerr = (int)emit_bundle(&pr, &out);
    *oom = first_diag(&pr, why, wl);
    if (!nerr && (!out.p || out.oom)) { nerr = 1; snprintf(why, wl, "no bundle bytes"); }
    dna_buf_free(&out);
    proj_free(&pr);
    return nerr;
}

static int ph_load(Input *in, char *why, size_t wl, int *oom)
{
    DnaBundle b;
    DnaLoadResult res;
    DnaLoadError err = bundle_read(in->bundle.p, in->bundle.n, &b, &res);
    *oom = err == DNA_LOAD_NOMEM;
    if (err != DNA_LOAD_OK) { snprintf(why, wl, "%s", res.msg); return 1; }
    bundle_free(&b);
    return 0;
}

typedef struct Sink { uint64_t effects; } Sink;

static void sink(void *ud, const EngEffect *e)
{
    (void)e;
    ((Sink *)ud)->effects++;
}

/* replay: the events in order through the engine, the timers after them,
 * then every entity's state line, as `dnad replay` does */
static int ph_replay(Input *in, char *why, size_t wl, int *oom)
{
    *oom = 1;                   /* only out-of-memory results are counted below */
    Sink sk = { 0 };
    Store *st = store_mem_new();
    Engine *e = st ? eng_new(&in->b, st, sink, &sk) : NULL;
    if (!e) {
        snprintf(why, wl, "no %s", st ? "engine" : "store");
        if (st) st->ops->free(st);
        return 1;
    }
    int reported = 0;
    why[0] = 0;
    for (char *line = in->events, *end = in->events + in->elen; line < end;) {
        char *nl = memchr(line, '\n', (size_t)(end - line));
        size_t n = nl ? (size_t)(nl - line) : (size_t)(end - line);
        if (n) {
            char msg[256];
            EngResult r = eng_event(e, line, n, msg, sizeof msg);
            if (r == ENG_NOMEM && !reported++) snprintf(why, wl, "event: %s", msg);   /* a rejected line is the case's own */
        }
        line += n + 1;
    }
    int64_t now = eng_clock(e);
    if (eng_advance(e, now) && !reported++) snprintf(why, wl, "timers: out of memory");
    JsonW w;
    jw_init(&w);
    for (uint64_t h = 1; h <= eng_count(e); h++) {
        eng_entity_json(e, h, now, &w);
        jw_newline(&w);
    }
    if (w.oom && !reported++) snprintf(why, wl, "state: out of memory");
    jw_free(&w);
    eng_free(e);
    st->ops->free(st);
    return reported;
}

static const struct { const char *name; PhaseFn fn; } phases[] = {
    { "check", ph_check }, { "compile", ph_compile }, { "load", ph_load }, { "replay", ph_replay },
};
enum { NPHASES = sizeof phases / sizeof *phases };

/* One run of phase P failing allocation N (0: none).  *hit: the failure
 * happened.  Returns the reported count; *leaked: bytes not given back. */
static int run_once(Input *in, int p, uint64_t n, int *hit, int64_t *leaked, char *why, size_t wl, int *oom)
{
    MemStats *ms = dna_mem_stats();
    uint64_t live0 = ms->bytes_live;
    ms->fail_after = n;
    int reported = phases[p].fn(in, why, wl, oom);
    *hit = n && ms->fail_after == 0;
    ms->fail_after = 0;
    *leaked = (int64_t)(ms->bytes_live - live0);
    return reported;
}

/* Every failure point of phase P; returns the number of bad points. */
static int sweep(Input *in, int p)
{
    MemStats *ms = dna_mem_stats();
    char why[300];
    int hit, oom;
    int64_t leaked;
    uint64_t a0 = ms->allocs - j_allocs;
    int clean = run_once(in, p, 0, &hit, &leaked, why, sizeof why, &oom);
    uint64_t k = ms->allocs - j_allocs - a0;
    if (clean) { printf("FAIL %s: the run without a failure reports %d errors: %s\n", phases[p].name, clean, why); return 1; }
    if (leaked) { printf("FAIL %s: the run without a failure keeps %lld bytes\n", phases[p].name, (long long)leaked); return 1; }

    int crashes = 0, silent = 0, wrong = 0, leaks = 0, missed = 0, shown = 0;
    fflush(stdout);
    for (uint64_t n = 1; n <= k; n++) {
        pid_t pid = fork();
        if (pid < 0) { perror("fork"); exit(2); }
        if (pid == 0) {
            int reported = run_once(in, p, n, &hit, &leaked, why, sizeof why, &oom);
            int code = 0;
            if (leaked) code |= 1;
            if (hit && !reported) code |= 2;
            if (!hit) code |= 4;
            if (hit && reported && !oom) { code |= 8; printf("  %s: allocation %llu: %s\n", phases[p].name, (unsigned long long)n, why); }
            fflush(stdout);
            _exit(32 | code);
        }
        int st;
        if (waitpid(pid, &st, 0) != pid) { perror("waitpid"); exit(2); }
        const char *what = NULL;
        if (WIFSIGNALED(st)) { crashes++; what = strsignal(WTERMSIG(st)); }
        else if ((WEXITSTATUS(st) & ~15) != 32) { crashes++; what = "a sanitizer report"; }
        else {
            int code = WEXITSTATUS(st) & 15;
            if (code & 1) { leaks++; what = "memory not given back"; }
            if (code & 2) { silent++; what = "no error reported"; }
            if (code & 8) { wrong++; what = "reported, but not as out of memory"; }
            if (code & 4) { missed++; what = "the allocation was not made this time"; }
        }
        if (what && shown++ < 20)
            printf("  %s: allocation %llu of %llu failing: %s\n", phases[p].name, (unsigned long long)n,
                   (unsigned long long)k, what);
    }
    if (shown > 20) printf("  ... %d more\n", shown - 20);
    int bad = crashes + leaks + silent + wrong + missed;
    printf("%-7s %5llu failure points: %d crashed, %d leaked, %d passed silently, %d misreported, %d not reached%s\n",
           phases[p].name, (unsigned long long)k, crashes, leaks, silent, wrong, missed, bad ? "  FAIL" : "");
    return bad;
}

int main(int argc, char **argv)
{
    if (argc < 2 || argc > 4) { fprintf(stderr, "usage: oom_check FILE.dna|DIR [EVENTS.jsonl [LINES]]\n"); return 2; }
    Input in;
    memset(&in, 0, sizeof in);
    in.path = argv[1];
    in.name = "rules.dna";
    struct stat sb;
    if (stat(argv[1], &sb) != 0) { perror(argv[1]); return 2; }
    if (!S_ISDIR(sb.st_mode) && !(in.text = slurp(argv[1], &in.len))) { perror(argv[1]); return 2; }
    if (argc >= 3 && !(in.events = slurp(argv[2], &in.elen))) { perror(argv[2]); return 2; }
    if (argc == 4) {                    /* the first LINES lines only */
        long lines = strtol(argv[3], NULL, 10);
        char *q = in.events;
        for (long i = 0; i < lines && q && q < in.events + in.elen; i++) {
            q = memchr(q, '\n', in.elen - (size_t)(q - in.events));
            if (q) q++;
        }
        if (q) in.elen = (size_t)(q - in.events);
    }
    json_set_alloc_funcs(j_malloc, j_free);

    /* the bundle the load and replay phases start from */
    Project pr;
    if (add_checked(&pr, &in) || emit_bundle(&pr, &in.bundle)) {
        fprintf(stderr, "FAIL: %s does not compile\n", argv[1]);
        diag_print(&pr.diags, DIAG_TEXT, stderr, 0);
        return 1;
    }
    proj_free(&pr);
    DnaLoadResult res;
    if (bundle_read(in.bundle.p, in.bundle.n, &in.b, &res) != DNA_LOAD_OK) {
        fprintf(stderr, "FAIL: the bundle of %s does not load: %s\n", argv[1], res.msg);
        return 1;
    }
    int nphases = in.events ? NPHASES : NPHASES - 1;

    const char *only = getenv("OOM_ONLY");
    if (only) {
        const char *colon = strchr(only, ':');
        for (int p = 0; p < nphases; p++)
            if (colon && (size_t)(colon - only) == strlen(phases[p].name) && !strncmp(only, phases[p].name, colon - only)) {
                char why[300];
                int hit, oom;
                int64_t leaked;
                int reported = run_once(&in, p, strtoull(colon + 1, NULL, 10), &hit, &leaked, why, sizeof why, &oom);
                printf("%s: failure %s; %d reported (%s%s); %lld bytes kept\n", phases[p].name, hit ? "hit" : "not reached",
                       reported, reported ? why : "-", reported && !oom ? ", not as out of memory" : "", (long long)leaked);
                return 0;
            }
        fprintf(stderr, "OOM_ONLY=PHASE:N, PHASE one of check, compile, load%s\n", in.events ? ", replay" : "");
        return 2;
    }

    int bad = 0;
    for (int p = 0; p < nphases; p++) bad += sweep(&in, p);
    bundle_free(&in.b);
    dna_buf_free(&in.bundle);
    free(in.text);
    free(in.events);
    if (bad) { printf("FAIL\n"); return 1; }
    printf("ok: no crash, no leak, every failure reported\n");
    return 0;
}
