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

/* room for n more bytes and the NUL; 0 when out of memory */
static int reserve(JsonW *w, size_t n)
{
    if (w->oom) return 0;
    if (w->n + n + 1 <= w->cap) return 1;
    size_t nc = w->cap ? w->cap : 256;
    while (nc < w->n + n + 1) nc *= 2;
    char *np = dna_realloc(w->p, w->cap, nc);
    if (!np) { w->oom = 1; return 0; }
    w->p = np;
    w->cap = nc;
    return 1;
}

static void put(JsonW *w, const char *s, size_t n)
{
    if (!reserve(w, n)) return;
    memcpy(w->p + w->n, s, n);
    w->n += n;
    w->p[w->n] = 0;
}

static void putc_(JsonW *w, char c)
{
    if (!reserve(w, 1)) return;
    w->p[w->n++] = c;
    w->p[w->n] = 0;
}

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

/* bytes that need an escape in a JSON string: '"', '\\', controls, DEL */
static const unsigned char needs_escape[256] = {
    1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1, 1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,
    0,0,1,0,0,0,0,0,0,0,0,0,0,0,0,0, 0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,
    0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0, 0,0,0,0,0,0,0,0,0,0,0,0,1,0,0,0,
    0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0, 0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,1,
};

#define ONES 0x0101010101010101ULL
#define HIGHS 0x8080808080808080ULL

/* Whether any of 8 bytes needs an escape (exact: a yes always has such a
 * byte, a no never does): one below 0x20, or equal to '"', '\\' or DEL.
 * Bytes of 0x80 and above are UTF-8 and pass as they are. */
static int word_needs_escape(uint64_t x)
{
    uint64_t lt20 = (x - ONES * 0x20) & ~x;
    uint64_t q = x ^ (ONES * '"'), bs = x ^ (ONES * '\\'), del = x ^ (ONES * 0x7f);
    uint64_t eq = ((q - ONES) & ~q) | ((bs - ONES) & ~bs) | ((del - ONES) & ~del);
    return ((lt20 | eq) & HIGHS) != 0;
}

static void escape(JsonW *w, unsigned char c)
{
    static const char hex[] = "0123456789abcdef";
    char buf[6] = { '\\', 0, 0, 0, 0, 0 };
    size_t n = 2;
    switch (c) {
    case '"': buf[1] = '"'; break;
    case '\\': buf[1] = '\\'; break;
    case '\n': buf[1] = 'n'; break;
    case '\r': buf[1] = 'r'; break;
    case '\t': buf[1] = 't'; break;
    default:                                    /* other controls and DEL: \u00XX */
        buf[1] = 'u'; buf[2] = '0'; buf[3] = '0'; buf[4] = hex[c >> 4]; buf[5] = hex[c & 15];
        n = 6;
    }
    put(w, buf, n);
}

/* the index of the first byte of s that needs an escape, or n */
static size_t clean_prefix(const char *s, size_t n)
{
    size_t i = 0;
    uint64_t x;
    while (i + 8 <= n && (memcpy(&x, s + i, 8), !word_needs_escape(x))) i += 8;
    while (i < n && !needs_escape[(unsigned char)s[i]]) i++;     /* the tail, or the word with the escape */
    return i;
}

/* pre + "s" + post, s needing no escape: one reservation, one copy */
static void put_quoted_clean(JsonW *w, char pre, const char *s, size_t n, char post)
{
    if (!reserve(w, n + 4)) return;
    char *d = w->p + w->n;
    if (pre) *d++ = pre;
    *d++ = '"';
    memcpy(d, s, n);
    d += n;
    *d++ = '"';
    if (post) *d++ = post;
    *d = 0;
    w->n = (size_t)(d - w->p);
}

/* s as a JSON string: scanned 8 bytes at a time, copied in runs */
static void quoted(JsonW *w, const char *s, size_t n)
{
    size_t i = clean_prefix(s, n);
    if (i == n) { put_quoted_clean(w, 0, s, n, 0); return; }
    putc_(w, '"');
    size_t run = 0;
    for (;;) {
        uint64_t x;
        while (i + 8 <= n && (memcpy(&x, s + i, 8), !word_needs_escape(x))) i += 8;
        while (i < n && !needs_escape[(unsigned char)s[i]]) i++;
        if (i >= n) break;
        put(w, s + run, i - run);
        escape(w, (unsigned char)s[i]);
        run = ++i;
    }
    put(w, s + run, n - run);
    putc_(w, '"');
}

/* the comma sep() would write, without writing it */
static char comma(JsonW *w)
{
    uint8_t f = w->first[w->depth];
    w->first[w->depth] = 0;
    return f ? 0 : ',';
}

void jw_key(JsonW *w, const char *k)
{
    size_t n = strlen(k);
    if (clean_prefix(k, n) == n) put_quoted_clean(w, comma(w), k, n, ':');
    else {
        sep(w);
        quoted(w, k, n);
        putc_(w, ':');
    }
    w->first[w->depth] = 2;
}

void jw_strn(JsonW *w, const char *s, size_t n)
{
    if (!s) { s = ""; n = 0; }
    if (clean_prefix(s, n) == n) put_quoted_clean(w, comma(w), s, n, 0);
    else { sep(w); quoted(w, s, n); }
}
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

/* A time stamp needs no escapes; the last one is kept formatted (an
 * effect writes the event's time several times, and so do its neighbours). */
void jw_time(JsonW *w, int64_t ms)
{
    if (!w->tlen || w->tms != ms) {
        w->tbuf[0] = '"';
        clk_format(ms, w->tbuf + 1);
        size_t n = strlen(w->tbuf);
        w->tbuf[n] = '"';
        w->tlen = (uint8_t)(n + 1);
        w->tms = ms;
    }
    sep(w);
    put(w, w->tbuf, w->tlen);
}

void jw_raw(JsonW *w, const char *s, size_t n) { sep(w); put(w, s, n); }
void jw_newline(JsonW *w) { putc_(w, '\n'); }
