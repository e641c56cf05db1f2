/*
 * jsonw.h - writing JSON text: the replay files, effects, traces, the
 * operator API.  Output is deterministic (keys in the order written) and
 * points print as fixed-point decimals ("35.0", "12.345"), which a JSON
 * library printing doubles cannot promise.
 */
#ifndef DNA_JSONW_H
#define DNA_JSONW_H

#include <stddef.h>
#include <stdint.h>

typedef struct JsonW {
    char *p;
    size_t n, cap;
    int oom;
    uint8_t first[64];          /* per nesting level: no comma needed yet */
    int depth;
    int64_t tms;                /* jw_time's last time stamp ... */
    char tbuf[40];              /* ... written out, quoted (tlen bytes; 0: none yet) */
    uint8_t tlen;
} JsonW;

void jw_init(JsonW *w);
void jw_free(JsonW *w);
void jw_reset(JsonW *w);
void jw_obj(JsonW *w);                          /* { */
void jw_end_obj(JsonW *w);                      /* } */
void jw_arr(JsonW *w);                          /* [ */
void jw_end_arr(JsonW *w);                      /* ] */
void jw_key(JsonW *w, const char *k);           /* "k": (inside an object) */
void jw_str(JsonW *w, const char *s);
void jw_strn(JsonW *w, const char *s, size_t n);
void jw_int(JsonW *w, int64_t v);
void jw_milli(JsonW *w, int64_t thousandths);   /* 35000 -> 35.0, 12345 -> 12.345 */
void jw_bool(JsonW *w, int v);
void jw_null(JsonW *w);
void jw_time(JsonW *w, int64_t ms);             /* RFC 3339 string */
void jw_raw(JsonW *w, const char *s, size_t n); /* an already encoded value */
void jw_newline(JsonW *w);

#endif
