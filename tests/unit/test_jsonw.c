/*
 * test_jsonw.c - the JSON writer's strings: the word-at-a-time escape scan
 * of base/jsonw.c against a byte-at-a-time reference, for every byte value
 * at every position of strings around the 8-byte word; jw_time's kept
 * time stamp; keys, numbers and nesting as the effects write them.
 */
#include "base/jsonw.h"
#include "base/clock.h"
#include "check_macros.h"

#include <stdio.h>
#include <string.h>

/* the JSON string of s as RFC 8259 and the replay contract spell it */
static size_t reference(const char *s, size_t n, char *out)
{
    size_t k = 0;
    out[k++] = '"';
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '"') { out[k++] = '\\'; out[k++] = '"'; }
        else if (c == '\\') { out[k++] = '\\'; out[k++] = '\\'; }
        else if (c == '\n') { out[k++] = '\\'; out[k++] = 'n'; }
        else if (c == '\r') { out[k++] = '\\'; out[k++] = 'r'; }
        else if (c == '\t') { out[k++] = '\\'; out[k++] = 't'; }
        else if (c < 0x20 || c == 0x7f) k += (size_t)sprintf(out + k, "\\u%04x", c);
        else out[k++] = (char)c;
    }
    out[k++] = '"';
    out[k] = 0;
    return k;
}

int main(void)
{
    JsonW w;
    jw_init(&w);
    char s[40], want[300];
    int bad = 0;
    for (int c = 0; c < 256; c++)
        for (size_t len = 1; len <= 19; len++)
            for (size_t at = 0; at < len; at++) {
                for (size_t i = 0; i < len; i++) s[i] = (char)('a' + i % 26);
                s[at] = (char)c;
                if (len > 10 && at + 9 < len) s[at + 9] = (char)(c ^ 0x80);      /* a second byte, high bit flipped */
                size_t wl = reference(s, len, want);
                jw_reset(&w);
                jw_strn(&w, s, len);
                if (w.n != wl || memcmp(w.p, want, wl)) {
                    if (!bad++) fprintf(stderr, "byte 0x%02x at %zu of %zu: %s, want %s\n", c, at, len, w.p, want);
                }
            }
    CHECK_EQ_I(bad, 0);

    /* UTF-8 passes as it is */
    jw_reset(&w);
    jw_str(&w, "Müller – 東京 \xf0\x9f\x98\x80");
    CHECK(!strcmp(w.p, "\"Müller – 東京 \xf0\x9f\x98\x80\""));

    /* an effect's shape: keys, the kept time stamp, numbers, nesting */
    int64_t t;
    CHECK(clk_parse("2026-10-01T00:00:02.271Z", 24, &t) == 0);
    jw_reset(&w);
    jw_obj(&w);
    jw_key(&w, "at"); jw_time(&w, t);
    jw_key(&w, "again"); jw_time(&w, t);
    jw_key(&w, "next"); jw_time(&w, t + 1000 - 271);
    jw_key(&w, "l"); jw_arr(&w); jw_milli(&w, 35000); jw_milli(&w, -12345); jw_int(&w, -7); jw_null(&w); jw_end_arr(&w);
    jw_key(&w, "k\"ey"); jw_bool(&w, 1);
    jw_end_obj(&w);
    CHECK(!strcmp(w.p, "{\"at\":\"2026-10-01T00:00:02.271Z\",\"again\":\"2026-10-01T00:00:02.271Z\","
                       "\"next\":\"2026-10-01T00:00:03Z\",\"l\":[35.0,-12.345,-7,null],\"k\\\"ey\":true}"));
    jw_free(&w);
    return check_report("jsonw");
}
