/*
 * bench_jansson.c - the parse-only floor of run_bench_replay.sh: jansson
 * alone over the same JSONL, as a program that only reads events would use
 * it: getline, json_loadb and json_decref per line, the default allocator,
 * one thread.
 *
 *   build/tests/bench/bench_jansson EVENTS.jsonl
 *
 * Prints "jansson: LINES lines, BAD unparsable, SECONDS s".
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

int main(int argc, char **argv)
{
    if (argc != 2) { fprintf(stderr, "usage: bench_jansson EVENTS.jsonl\n"); return 2; }
    FILE *f = fopen(argv[1], "rb");
    if (!f) { perror(argv[1]); return 2; }
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;
    unsigned long long lines = 0, bad = 0;
    while ((n = getline(&line, &cap, f)) > 0) {
        json_error_t err;
        json_t *j = json_loadb(line, (size_t)n, 0, &err);
        lines++;
        if (!j) bad++;
        json_decref(j);
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    free(line);
    fclose(f);
    printf("jansson: %llu lines, %llu unparsable, %.3f s\n", lines, bad,
           (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9);
    return bad ? 1 : 0;
}
