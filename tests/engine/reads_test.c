/*
 * reads_test.c - reads change nothing: a bundle over an events file twice,
 * once plainly and once reading every entity between every two events
 * (its state line, as the operator API and replay write it: every
 * computed and derived value on a view), alternately at the later of
 * the run's clock and the entity's clock and thirty days after that (so
 * anything a read could expire would be gone).  The two effect streams
 * and the final states must be byte-identical.
 *
 *   reads_test BUNDLE EVENTS.jsonl
 *
 * Prints "reads: N events, M reads, K effects: identical" or the first
 * difference; exit 0 when identical.
 */
#include "engine/engine.h"
#include "base/jsonw.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct Stream { uint64_t n, hash; char **keep; uint64_t nkeep; } Stream;

static void sink(void *ud, const EngEffect *ef)
{
    Stream *s = ud;
    for (size_t i = 0; i < ef->len; i++) s->hash = (s->hash ^ (unsigned char)ef->line[i]) * 1099511628211ULL;
    s->hash = (s->hash ^ '\n') * 1099511628211ULL;
    if (s->n < s->nkeep) s->keep[s->n] = strndup(ef->line, ef->len);
    s->n++;
}

static uint64_t final_state(Engine *e, JsonW *w)
{
    uint64_t h = 1469598103934665603ULL;
    for (uint64_t i = 1; i <= eng_count(e); i++) {
        jw_reset(w);
        if (!eng_entity_json(e, i, eng_read_time(e, i, eng_clock(e)), w)) continue;
        for (size_t k = 0; k < w->n; k++) h = (h ^ (unsigned char)w->p[k]) * 1099511628211ULL;
    }
    return h;
}

static int run(const DnaBundle *b, const char *path, int reads, Stream *s, uint64_t *state, uint64_t *nreads, uint64_t *nev)
{
    FILE *f = fopen(path, "rb");
    if (!f) { perror(path); return -1; }
    Store *st = store_mem_new();
    Engine *e = eng_new(b, st, sink, s);
    JsonW w;
    jw_init(&w);
    char *line = NULL, why[256];
    size_t cap = 0;
    ssize_t len;
    uint64_t lineno = 0;
    while ((len = getline(&line, &cap, f)) > 0) {
        lineno++;
        if (reads) {
            int64_t at = eng_clock(e) + (lineno % 2 ? 0 : 30LL * 86400000);
            for (uint64_t h = 1; h <= eng_count(e); h++) {
                jw_reset(&w);
                if (!eng_entity_json(e, h, eng_read_time(e, h, at), &w)) continue;
                (*nreads)++;
            }
        }
        eng_event(e, line, (size_t)len, why, sizeof why);
        (*nev)++;
    }
    free(line);
    fclose(f);
    eng_advance(e, eng_clock(e));
    *state = final_state(e, &w);
    jw_free(&w);
    eng_free(e);
    st->ops->free(st);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc != 3) { fprintf(stderr, "usage: reads_test BUNDLE EVENTS.jsonl\n"); return 2; }
    DnaBundle b;
    DnaLoadResult res;
    if (bundle_load_file(argv[1], &b, &res) != DNA_LOAD_OK) { fprintf(stderr, "reads_test: %s\n", res.msg); return 2; }
    static char *keep_a[1 << 16], *keep_b[1 << 16];
    Stream a = { 0, 1469598103934665603ULL, keep_a, 1 << 16 }, c = { 0, 1469598103934665603ULL, keep_b, 1 << 16 };
    uint64_t sa = 0, sc = 0, nreads = 0, nev = 0, nev2 = 0, nr2 = 0;
    if (run(&b, argv[2], 0, &a, &sa, &nr2, &nev) || run(&b, argv[2], 1, &c, &sc, &nreads, &nev2)) return 2;
    int same = a.n == c.n && a.hash == c.hash && sa == sc;
    if (!same) {
        uint64_t n = a.n < c.n ? a.n : c.n;
        if (n > a.nkeep) n = a.nkeep;
        for (uint64_t i = 0; i < n; i++)
            if (strcmp(keep_a[i], keep_b[i])) {
                fprintf(stderr, "effect %llu differs:\n  plain: %s\n  read:  %s\n", (unsigned long long)i + 1, keep_a[i], keep_b[i]);
                break;
            }
        fprintf(stderr, "reads: effects %llu vs %llu, state %s\n", (unsigned long long)a.n, (unsigned long long)c.n,
                sa == sc ? "same" : "differs");
    } else {
        printf("reads: %llu events, %llu reads, %llu effects: identical\n", (unsigned long long)nev,
               (unsigned long long)nreads, (unsigned long long)a.n);
    }
    for (uint64_t i = 0; i < a.n && i < a.nkeep; i++) free(keep_a[i]);
    for (uint64_t i = 0; i < c.n && i < c.nkeep; i++) free(keep_b[i]);
    bundle_free(&b);
    return same ? 0 : 1;
}
