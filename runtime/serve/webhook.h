/*
 * webhook.h - source webhooks: verifying a tool's signature and mapping its
 * JSON body onto the canonical event envelope with the bundle's source
 * maps (DnaSource, DnaMap, DnaAssign, DnaJNode in bundle.h).
 *
 * Signatures (OpenSSL HMAC-SHA256, constant-time comparison):
 *   hmac_sha256        HMAC of the raw body with the secret, in a named
 *                      header, hex (default) or base64, with an optional
 *                      prefix such as "sha256=".
 *   standard_webhooks  the Standard Webhooks scheme: secret "whsec_<base64
 *                      key>", headers webhook-id, webhook-timestamp and
 *                      webhook-signature ("v1,<base64>" entries separated by
 *                      spaces) over "id.timestamp.body"; the time stamp must
 *                      be within the source's `tolerance` (default 5 minutes)
 *                      of the wall clock, in either direction.
 * Secrets come from the environment variable the source names; a source
 * whose variable is unset refuses every request.
 */
#ifndef DNA_WEBHOOK_H
#define DNA_WEBHOOK_H

#include "bundle/bundle.h"

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

typedef const char *(*WhHeaderFn)(void *ud, const char *name);   /* case-insensitive; NULL if absent */

/* The source named NAME (its path is /v1/sources/NAME), or NULL. */
const DnaSource *wh_find(const DnaBundle *b, const char *name);
/* The environment variable holding the source's secret ("" if none). */
const char *wh_secret_env(const DnaBundle *b, const DnaSource *s);

/* 1: the source sets a `tolerance` its scheme cannot enforce (it signs no
 * time stamp; dnac refuses this now, a bundle from before may hold it). */
int wh_tolerance_ignored(const DnaBundle *b, const DnaSource *s);

/* 0: the signature is good.  -1: why[] says what is wrong. */
int wh_verify(const DnaBundle *b, const DnaSource *s, const char *body, size_t len, WhHeaderFn hdr, void *ud,
               int64_t now_ms, char *why, size_t wl);

/* The schemes on their own (known-answer tests). */
int wh_hmac_check(const char *secret, const char *body, size_t len, const char *sig, const char *prefix, int base64,
                   char *why, size_t wl);
int wh_stdwh_check(const char *secret, const char *id, const char *ts, const char *sigs, const char *body, size_t len,
                    int64_t now_ms, int64_t tolerance_ms, char *why, size_t wl);

/* Map a body onto an envelope (a new reference), or NULL with why[]: no
 * map accepts it, or an expression failed.  A body that already is an
 * envelope of one of the source's `events` passes through. */
json_t *wh_map(const DnaBundle *b, const DnaSource *s, json_t *body, WhHeaderFn hdr, void *ud, char *why, size_t wl);

#endif
