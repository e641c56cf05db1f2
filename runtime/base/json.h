/*
 * json.h - the one JSON reader every input path uses (event ingest, JSONL
 * replay, source webhooks, connector responses).
 *
 * jansson does the parsing; this wrapper makes it agree with RFC 8259 where
 * jansson's defaults do not (JSONTestSuite): a raw NUL byte is an error,
 * \u0000 is allowed in strings, duplicate keys keep the last value, and any
 * value may be the top level.
 */
#ifndef DNA_JSON_H
#define DNA_JSON_H

#include <jansson.h>
#include <stddef.h>

#define DNA_JSON_MAX_DEPTH 64       /* deeper documents are refused */

typedef struct JsonError {
    int line, column;
    size_t position;
    char text[160];
} JsonError;

/* Parse a whole buffer.  NULL with `err` filled on any error. */
json_t *dna_json_parse(const char *buf, size_t len, JsonError *err);

/* The value at a dotted path below root ("user.email"; "" is root), or
 * NULL when a step is missing, not an object, or the value is null.  A
 * borrowed reference. */
json_t *dna_json_path(json_t *root, const char *dotted);

#endif
