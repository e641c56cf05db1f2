/*
 * oom_check.c - allocation failure, one allocation at a time.
 *
 * Checks FILE once to count its allocations (K), then for every N in 1..K
 * checks it again with the Nth allocation failing (dna_mem_stats()->
 * fail_after = N).  Each run must end without a crash, give every byte back
 * (bytes_live returns to where it started), and, when the failure was hit,
 * report at least one error: a compilation that lost memory must not look
 * clean.  Every failure point runs in a forked child, so a crash is counted
 * and the points after it are still tried.  The sanitizer build of this test also catches use of a NULL or
 * of freed memory on the failure paths.
 *
 *   oom_check FILE.dna
 *   OOM_ONLY=N oom_check FILE.dna     fail allocation N only, in this process
 *                                     (to debug it), and print the diagnostics
 */
#include "sema/project.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
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

/* One compilation; returns its error count.  *hit says whether the
 * planned allocation failure happened. */
static uint32_t check_once(const char *name, const char *text, size_t len, uint64_t fail_after, int *hit)
{
    MemStats *ms = dna_mem_stats();
    ms->fail_after = fail_after;
    Project pr;
    proj_init(&pr, DNA_STDLIB_DIR);
    uint32_t nerr;
    if (!proj_add_source(&pr, name, text, len)) nerr = 1;      /* reported as I/O by the CLI */
    else nerr = proj_check(&pr);
    proj_free(&pr);
    *hit = fail_after && ms->fail_after == 0;
    ms->fail_after = 0;
    return nerr;
}

int main(int argc, char **argv)
{
    if (argc != 2) { fprintf(stderr, "usage: oom_check FILE.dna\n"); return 2; }
    size_t len;
    char *text = slurp(argv[1], &len);
    if (!text) { perror(argv[1]); return 2; }
    MemStats *ms = dna_mem_stats();

    uint64_t live0 = ms->bytes_live, a0 = ms->allocs;
    int hit;
    uint32_t clean = check_once("sketch.dna", text, len, 0, &hit);
    uint64_t k = ms->allocs - a0;
    if (clean) { fprintf(stderr, "FAIL: %s does not check clean (%u errors)\n", argv[1], clean); return 1; }
    if (ms->bytes_live != live0) {
        fprintf(stderr, "FAIL: a clean check leaks %llu bytes\n", (unsigned long long)(ms->bytes_live - live0));
        return 1;
    }
    printf("a clean check of %s makes %llu allocations\n", argv[1], (unsigned long long)k);
    if (getenv("OOM_ONLY")) {
        ms->fail_after = strtoull(getenv("OOM_ONLY"), NULL, 10);
        Project pr;
        proj_init(&pr, DNA_STDLIB_DIR);
        if (proj_add_source(&pr, "sketch.dna", text, len)) proj_check(&pr);
        else printf("proj_add_source failed: %s\n", pr.io_error);
        printf("failure %s; %u errors\n", ms->fail_after ? "not reached" : "hit", pr.diags.nerrors);
        diag_print(&pr.diags, DIAG_TEXT, stdout, 0);
        proj_free(&pr);
        free(text);
        return 0;
    }

    /* Each failure point runs in a child, so one crash does not hide the
     * points after it. */
    int crashes = 0, silent = 0, leaks = 0, missed = 0, shown = 0;
    fflush(stdout);
    for (uint64_t n = 1; n <= k; n++) {
        pid_t pid = fork();
        if (pid < 0) { perror("fork"); return 2; }
        if (pid == 0) {
            uint64_t before = ms->bytes_live;
            uint32_t nerr = check_once("sketch.dna", text, len, n, &hit);
            int code = 0;
            if (ms->bytes_live != before) code |= 1;
            if (hit && nerr == 0) code |= 2;
            if (!hit) code |= 4;
            _exit(16 | code);
        }
        int st;
        if (waitpid(pid, &st, 0) != pid) { perror("waitpid"); return 2; }
        const char *what = NULL;
        if (WIFSIGNALED(st)) { crashes++; what = strsignal(WTERMSIG(st)); }
        else if ((WEXITSTATUS(st) & ~7) != 16) { crashes++; what = "a sanitizer report"; }
        else {
            int code = WEXITSTATUS(st) & 7;
            if (code & 1) { leaks++; what = "memory not given back"; }
            if (code & 2) { silent++; what = "the check reports no error"; }
            if (code & 4) { missed++; what = "the allocation was not made this time"; }
        }
        if (what && shown++ < 20)
            printf("  allocation %llu of %llu failing: %s\n", (unsigned long long)n, (unsigned long long)k, what);
    }
    if (shown > 20) printf("  ... %d more\n", shown - 20);
    free(text);
    printf("%llu failure points: %d crashed, %d leaked, %d passed silently as clean, %d not reached\n",
           (unsigned long long)k, crashes, leaks, silent, missed);
    if (crashes || leaks || silent || missed) { printf("FAIL\n"); return 1; }
    printf("ok: no crash, no leak, every failure reported\n");
    return 0;
}
