/*
 * fmt_diff.c - `dnac fmt --check --diff`: what the formatter would change,
 * as a unified diff (fmt.h).
 *
 * Lines are compared after the common head and tail are set aside; the
 * middle gets a longest-common-subsequence table when it is small enough
 * (FMT_DIFF_CELLS), else it is shown removed and added whole.  Hunks have
 * three lines of context, like `diff -u`.
 */
#include "tools/fmt.h"
#include "base/mem.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#define FMT_DIFF_CELLS (4u << 20)       /* LCS table cells (uint16_t) at most */
#define CONTEXT 3

typedef struct Lines { const char **p; size_t *n; size_t count; } Lines;

static int split(const char *t, size_t len, Lines *l)
{
    size_t cap = 1;
    for (size_t i = 0; i < len; i++) cap += t[i] == '\n';
    l->p = dna_malloc(sizeof(char *) * cap);
    l->n = dna_malloc(sizeof(size_t) * cap);
    l->count = 0;
    if (!l->p || !l->n) return 0;
    size_t s = 0;
    for (size_t i = 0; i <= len; i++) {
        if (i < len && t[i] != '\n') continue;
        if (i == len && s == len) break;            /* no text after the last newline */
        l->p[l->count] = t + s;
        l->n[l->count++] = i - s + (i < len);       /* with its newline, if any */
        s = i + 1;
    }
    return 1;
}

static void lines_free(Lines *l, size_t cap)
{
    dna_free(l->p, sizeof(char *) * cap);
    dna_free(l->n, sizeof(size_t) * cap);
}

static int same(const Lines *a, size_t i, const Lines *b, size_t j)
{
    return a->n[i] == b->n[j] && !memcmp(a->p[i], b->p[j], a->n[i]);
}

/* The output: ' ', '-', '+' per line of the edit script. */
typedef struct Out { char *p; size_t n, cap; int oom; } Out;

static void put(Out *o, const char *s, size_t n)
{
    if (o->oom) return;
    if (o->n + n + 2 > o->cap) {
        size_t nc = o->cap ? o->cap : 4096;
        while (nc < o->n + n + 2) nc *= 2;
        char *np = dna_realloc(o->p, o->cap, nc);
        if (!np) { o->oom = 1; return; }
        o->p = np;
        o->cap = nc;
    }
    memcpy(o->p + o->n, s, n);
    o->n += n;
    o->p[o->n] = 0;
}

static void putf(Out *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void putf(Out *o, const char *fmt, ...)
{
    char buf[8300];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    if (n > 0) put(o, buf, (size_t)n < sizeof buf ? (size_t)n : sizeof buf - 1);
}

typedef struct Edit { char op; size_t ai, bi; } Edit;   /* op ' ' '-' '+'; line indexes */

/* The edit script of a[lo..] against b[lo..] (head and tail trimmed by the caller). */
static Edit *script(const Lines *a, const Lines *b, size_t head, size_t tail, size_t *nedits)
{
    size_t na = a->count - head - tail, nb = b->count - head - tail;
    Edit *e = dna_malloc(sizeof(Edit) * (a->count + b->count + 1));
    if (!e) return NULL;
    size_t k = 0;
    for (size_t i = 0; i < head; i++) e[k++] = (Edit){ ' ', i, i };
    uint16_t *t = NULL;
    size_t cells = (na + 1) * (nb + 1);
    if (na && nb && cells <= FMT_DIFF_CELLS && na < 65535 && nb < 65535) t = dna_malloc(sizeof(uint16_t) * cells);
    if (t) {                                        /* t[i][j]: LCS of a[i..] and b[j..] */
        for (size_t i = na + 1; i-- > 0;)
            for (size_t j = nb + 1; j-- > 0;) {
                uint16_t *c = &t[i * (nb + 1) + j];
                if (i == na || j == nb) *c = 0;
                else if (same(a, head + i, b, head + j)) *c = (uint16_t)(t[(i + 1) * (nb + 1) + j + 1] + 1);
                else {
                    uint16_t d = t[(i + 1) * (nb + 1) + j], r = t[i * (nb + 1) + j + 1];
                    *c = d > r ? d : r;
                }
            }
        size_t i = 0, j = 0;
        while (i < na || j < nb) {
            if (i < na && j < nb && same(a, head + i, b, head + j)) { e[k++] = (Edit){ ' ', head + i, head + j }; i++; j++; }
            else if (i < na && (j == nb || t[(i + 1) * (nb + 1) + j] >= t[i * (nb + 1) + j + 1])) { e[k++] = (Edit){ '-', head + i, head + j }; i++; }
            else { e[k++] = (Edit){ '+', head + i, head + j }; j++; }
        }
        dna_free(t, sizeof(uint16_t) * cells);
    } else {
        for (size_t i = 0; i < na; i++) e[k++] = (Edit){ '-', head + i, head };
        for (size_t j = 0; j < nb; j++) e[k++] = (Edit){ '+', head + na, head + j };
    }
    for (size_t i = 0; i < tail; i++) e[k++] = (Edit){ ' ', head + na + i, head + nb + i };
    *nedits = k;
    return e;
}

static void line_out(Out *o, char op, const char *p, size_t n)
{
    put(o, &op, 1);
    put(o, p, n);
    if (!n || p[n - 1] != '\n') put(o, "\n\\ No newline at end of file\n", 29);
}

static void hunks(Out *o, const Lines *a, const Lines *b, const Edit *e, size_t ne)
{
    size_t i = 0;
    while (i < ne) {
        while (i < ne && e[i].op == ' ') i++;
        if (i == ne) break;
        size_t start = i > CONTEXT ? i - CONTEXT : 0, end = i;
        for (;;) {                                  /* extend while changes are within 2*CONTEXT */
            while (end < ne && e[end].op != ' ') end++;
            size_t gap = end;
            while (gap < ne && e[gap].op == ' ' && gap - end < 2 * CONTEXT + 1) gap++;
            if (gap < ne && e[gap].op != ' ' && gap - end <= 2 * CONTEXT) { end = gap; continue; }
            end = end + CONTEXT < ne ? end + CONTEXT : ne;
            break;
        }
        size_t as = e[start].ai, bs = e[start].bi, ac = 0, bc = 0;
        for (size_t k = start; k < end; k++) { ac += e[k].op != '+'; bc += e[k].op != '-'; }
        putf(o, "@@ -%zu,%zu +%zu,%zu @@\n", ac ? as + 1 : as, ac, bc ? bs + 1 : bs, bc);
        for (size_t k = start; k < end; k++) {
            if (e[k].op == '+') line_out(o, '+', b->p[e[k].bi], b->n[e[k].bi]);
            else line_out(o, e[k].op, a->p[e[k].ai], a->n[e[k].ai]);
        }
        i = end;
    }
}

char *fmt_diff(const char *path, const char *a, size_t alen, const char *b, size_t blen, size_t *len)
{
    Lines la = { 0 }, lb = { 0 };
    size_t capa = 1, capb = 1;
    for (size_t i = 0; i < alen; i++) capa += a[i] == '\n';
    for (size_t i = 0; i < blen; i++) capb += b[i] == '\n';
    Out o = { 0 };
    if (!split(a, alen, &la) || !split(b, blen, &lb)) { lines_free(&la, capa); lines_free(&lb, capb); return NULL; }
    size_t head = 0, tail = 0;
    while (head < la.count && head < lb.count && same(&la, head, &lb, head)) head++;
    while (tail < la.count - head && tail < lb.count - head && same(&la, la.count - 1 - tail, &lb, lb.count - 1 - tail)) tail++;
    size_t ne = 0;
    Edit *e = script(&la, &lb, head, tail, &ne);
    if (e) {
        putf(&o, "--- %s\n+++ %s (formatted)\n", path, path);
        hunks(&o, &la, &lb, e, ne);
        dna_free(e, sizeof(Edit) * (la.count + lb.count + 1));
    }
    lines_free(&la, capa);
    lines_free(&lb, capb);
    if (!e || o.oom) { dna_free(o.p, o.cap); return NULL; }
    /* the caller frees with dna_free(p, *len + 1): give it exactly that size */
    char *r = dna_malloc(o.n + 1);
    if (r) { memcpy(r, o.p, o.n + 1); *len = o.n; }
    dna_free(o.p, o.cap);
    return r;
}
