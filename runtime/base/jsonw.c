/*
 * jsonw.c - a small JSON writer into a growable buffer (see jsonw.h).
 */
#include "base/jsonw.h"
#include "base/clock.h"
#include "base/mem.h"

#include <assert.h>
#include <stdio.h>
#include <string.h>

void jw_init(JsonW *w) { memset(w, 0, sizeof *w); w->first[0] = 1; }

void jw_free(JsonW *w)
{
    dna_free(w->p, w->cap);
    jw_init(w);
}

void jw_reset(JsonW *w)
{
    w->n = 0;
    w->depth = 0;
    w->first[0] = 1;
    w->oom = 0;
}

static void put(JsonW *w, const char *s, size_t n)
{
    if (w->oom) return;
    if (w->n + n + 1 > w->cap) {
        size_t nc = w->cap ? w->cap : 256;
        while (nc < w->n + n + 1) nc *= 2;
        char *np = dna_realloc(w->p, w->cap, nc);
        if (!np) { w->oom = 1; return; }
        w->p = np;
        w->cap = nc;
    }
    memcpy(w->p + w->n, s, n);
    w->n += n;
    w->p[w->n] = 0;
}

static void putc_(JsonW *w, char c) { put(w, &c, 1); }

/* a comma before every value but the first of its container; a value
 * after a key needs none */
static void sep(JsonW *w)
{
    if (w->first[w->depth] == 2) { w->first[w->depth] = 0; return; }
    if (!w->first[w->depth]) putc_(w, ',');
    w->first[w->depth] = 0;
}

static void open_(JsonW *w, char c)
{
    sep(w);
    putc_(w, c);
    assert(w->depth < 63);                      /* first[] has a level per container */
    if (w->depth < 63) w->depth++;
    w->first[w->depth] = 1;
}

static void close_(JsonW *w, char c)
{
    assert(w->depth > 0);                       /* closes a container that is open */
    if (w->depth > 0) w->depth--;
    putc_(w, c);
}

void jw_obj(JsonW *w) { open_(w, '{'); }
void jw_end_obj(JsonW *w) { close_(w, '}'); }
void jw_arr(JsonW *w) { open_(w, '['); }
void jw_end_arr(JsonW *w) { close_(w, ']'); }

/* bytes that need an escape in a JSON string */
static const unsigned char needs_escape[256] = {
    1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1, 1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,
    0,0,1,0,0,0,0,0,0,0,0,0,0,0,0,0, 0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,
    0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0, 0,0,0,0,0,0,0,0,0,0,0,0,1,0,0,0,
    0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0, 0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,1,
};

static void quoted(JsonW *w, const char *s, size_t n)
{
    putc_(w, '"');
    size_t run = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (!needs_escape[c]) continue;
        const char *esc = NULL;
        char buf[8];
        if (c == '"') esc = "\\\"";
        else if (c == '\\') esc = "\\\\";
        else if (c == '\n') esc = "\\n";
        else if (c == '\r') esc = "\\r";
        else if (c == '\t') esc = "\\t";
        else if (c < 0x20 || c == 0x7f) { snprintf(buf, sizeof buf, "\\u%04x", c); esc = buf; }
        if (!esc) continue;
        put(w, s + run, i - run);
        put(w, esc, strlen(esc));
        run = i + 1;
    }
    put(w, s + run, n - run);
    putc_(w, '"');
}

void jw_key(JsonW *w, const char *k)
{
    sep(w);
    quoted(w, k, strlen(k));
    putc_(w, ':');
    w->first[w->depth] = 2;
}

void jw_strn(JsonW *w, const char *s, size_t n) { sep(w); quoted(w, s ? s : "", s ? n : 0); }
void jw_str(JsonW *w, const char *s) { jw_strn(w, s, s ? strlen(s) : 0); }

/* digits of u at the end of buf; returns the first */
static char *utoa_end(char *end, uint64_t u)
{
    do { *--end = (char)('0' + u % 10); u /= 10; } while (u);
    return end;
}

void jw_int(JsonW *w, int64_t v)
{
    char b[24], *e = b + sizeof b;
    uint64_t a = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
    char *p = utoa_end(e, a);
    if (v < 0) *--p = '-';
    sep(w);
    put(w, p, (size_t)(e - p));
}

void jw_milli(JsonW *w, int64_t t)
{
    char b[32], *e = b + sizeof b;
    uint64_t a = t < 0 ? (uint64_t)0 - (uint64_t)t : (uint64_t)t;
    unsigned frac = (unsigned)(a % 1000);
    /* 35000 -> "35.0", 12340 -> "12.34", 12345 -> "12.345" */
    char f[3] = { (char)('0' + frac / 100), (char)('0' + frac / 10 % 10), (char)('0' + frac % 10) };
    int nf = f[2] != '0' ? 3 : f[1] != '0' ? 2 : 1;
    char *p = e - nf;
    memcpy(p, f, (size_t)nf);
    *--p = '.';
    p = utoa_end(p, a / 1000);
    if (t < 0) *--p = '-';
    sep(w);
    put(w, p, (size_t)(e - p));
}

void jw_bool(JsonW *w, int v) { sep(w); put(w, v ? "true" : "false", v ? 4 : 5); }
void jw_null(JsonW *w) { sep(w); put(w, "null", 4); }

void jw_time(JsonW *w, int64_t ms)
{
    char b[32];
    clk_format(ms, b);
    jw_str(w, b);
}

void jw_raw(JsonW *w, const char *s, size_t n) { sep(w); put(w, s, n); }
void jw_newline(JsonW *w) { putc_(w, '\n'); }
