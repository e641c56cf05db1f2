/*
 * json.c - strict JSON parsing on top of jansson (see json.h).
 */
#include "base/json.h"
#include "base/mem.h"

#include <stdio.h>
#include <string.h>

static void set_err(JsonError *e, const json_error_t *je, const char *msg)
{
    if (!e) return;
    e->line = je ? je->line : 1;
    e->column = je ? je->column : 1;
    e->position = je ? (size_t)je->position : 0;
    snprintf(e->text, sizeof e->text, "%s", msg ? msg : je->text);
}

/* jansson nests without a bound; refuse deep documents before parsing
 * (brackets inside strings are skipped). */
static int too_deep(const char *s, size_t n, size_t *at)
{
    int depth = 0, in_str = 0;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (in_str) {
            if (c == '\\') i++;
            else if (c == '"') in_str = 0;
            continue;
        }
        if (c == '"') in_str = 1;
        else if (c == '[' || c == '{') {
            if (++depth > DNA_JSON_MAX_DEPTH) { *at = i; return 1; }
        } else if (c == ']' || c == '}') depth--;
    }
    return 0;
}

json_t *dna_json_parse(const char *buf, size_t len, JsonError *err)
{
    const void *nul = memchr(buf, 0, len);
    if (nul) {
        json_error_t je = { .line = 1, .column = 1, .position = (int)((const char *)nul - buf) };
        set_err(err, &je, "NUL byte in JSON text");
        return NULL;
    }
    size_t at;
    if (too_deep(buf, len, &at)) {
        json_error_t je = { .line = 1, .column = 1, .position = (int)at };
        char msg[80];
        snprintf(msg, sizeof msg, "nested deeper than %d levels", DNA_JSON_MAX_DEPTH);
        set_err(err, &je, msg);
        return NULL;
    }
    json_error_t je;
    json_t *j = json_loadb(buf, len, JSON_DECODE_ANY | JSON_ALLOW_NUL, &je);
    if (j) return j;
    if (strstr(je.text, "NUL byte in object key")) {
        /* valid JSON that jansson cannot hold (a key with \u0000): keep the
         * document, with U+FFFD standing in for NUL in keys and values */
        char *copy = dna_malloc(len + 1);
        if (!copy) { set_err(err, &je, "out of memory"); return NULL; }
        memcpy(copy, buf, len);
        for (size_t i = 0; i + 6 <= len; i++)
            if (copy[i] == '\\' && !memcmp(copy + i + 1, "u0000", 5)) {
                /* an escaped backslash before it would make this text, not an escape */
                size_t k = i, bs = 0;
                while (k > 0 && copy[k - 1] == '\\') { k--; bs++; }
                if (bs % 2 == 0) memcpy(copy + i + 2, "fffd", 4);
            }
        j = json_loadb(copy, len, JSON_DECODE_ANY | JSON_ALLOW_NUL, &je);
        dna_free(copy, len + 1);
        if (j) return j;
    }
    set_err(err, &je, NULL);
    return NULL;
}

json_t *dna_json_path(json_t *root, const char *p)
{
    json_t *v = root;
    char seg[256];
    while (v && *p) {
        const char *dot = strchr(p, '.');
        size_t n = dot ? (size_t)(dot - p) : strlen(p);
        snprintf(seg, sizeof seg, "%.*s", (int)n, p);
        v = json_is_object(v) ? json_object_get(v, seg) : NULL;
        p += n + (dot ? 1 : 0);
    }
    return v && !json_is_null(v) ? v : NULL;
}
