/*
 * effect_lines.h - the engine tests' harness for effects: a growing list of
 * JSON lines, the engine sink that fills it, and counting the lines that
 * contain every one of a NULL-terminated list of needles.  Shared by
 * test_flow.c, test_truth.c and test_calls.c.
 */
#ifndef DNA_TEST_EFFECT_LINES_H
#define DNA_TEST_EFFECT_LINES_H

#include "engine/engine.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

typedef struct Lines { char **v; int n, cap; } Lines;

static inline void lines_push(Lines *l, const char *s, size_t n)
{
    if (l->n == l->cap) {
        l->cap = l->cap ? l->cap * 2 : 256;
        l->v = realloc(l->v, sizeof(char *) * (size_t)l->cap);
    }
    l->v[l->n++] = strndup(s, n);
}

/* the engine's effect sink: ud is a Lines */
static inline void sink(void *ud, const EngEffect *ef) { lines_push(ud, ef->line, ef->len); }

static inline void lines_free(Lines *l)
{
    for (int i = 0; i < l->n; i++) free(l->v[i]);
    free(l->v);
    memset(l, 0, sizeof *l);
}

/* lines from index `from` on containing every needle of ap */
static inline int lines_vcount(const Lines *l, int from, va_list ap)
{
    int n = 0;
    for (int i = from; i < l->n; i++) {
        va_list cp;
        va_copy(cp, ap);
        int ok = 1;
        for (const char *s; (s = va_arg(cp, const char *));) ok &= strstr(l->v[i], s) != NULL;
        va_end(cp);
        n += ok;
    }
    return n;
}

/* effects containing every one of the NULL-terminated needles */
static inline int count(const Lines *l, ...)
{
    va_list ap;
    va_start(ap, l);
    int n = lines_vcount(l, 0, ap);
    va_end(ap);
    return n;
}

#endif
