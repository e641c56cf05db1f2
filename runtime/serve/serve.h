/*
 * serve.h - `dnad serve`: the live daemon on SQLite.
 *
 * HTTP intake of event envelopes (durable before 202, idempotent by event
 * id), one worker running the engine over the accepted events in
 * acceptance order, the watermark that fires timers, the operator API,
 * metrics, JSON logs on stderr, and a graceful stop on SIGTERM / SIGINT.
 * See docs/operations.md.
 */
#ifndef DNA_SERVE_H
#define DNA_SERVE_H

#include "bundle/bundle.h"

#include <stddef.h>
#include <stdint.h>

typedef struct SrvConfig {
    const char *bundle_path;        /* for logs */
    const char *db_path;            /* SQLite file */
    const char *host;               /* listen address (IPv4 literal) */
    uint16_t port;                  /* 0: any free port (printed in the "listening" log line) */
    const char *token;              /* bearer token, or NULL with no_auth */
    int no_auth;
    size_t max_body;                /* bytes; larger bodies get 413 */
    int64_t lateness_ms;            /* allowed lateness of the watermark */
    int64_t max_future_ms;          /* an occurred_at further ahead of the wall clock is refused (422) */
    int wall_clock;                 /* idle: the watermark follows the wall clock */
    unsigned max_conns;             /* ordinary connections, all clients (docs/operations.md, "Limits") */
    unsigned max_conns_per_client;  /* ordinary connections of one client address; 0: max_conns */
    int64_t header_timeout_ms;      /* a request's headers must come within this (0: 10 s) */
    int64_t request_timeout_ms;     /* and its body within this (0: 60 s) */
    int64_t retry_base_ms;          /* the first delivery backoff is about this long (default 1 s) */
    int no_delivery;                /* effects wait in the outbox (another process delivers) */
    int deliver_history;            /* history (effects of evaluations before the daemon went live) is delivered too */
    const char *import_path;        /* `dnad import`: load this JSONL file into an empty store, run it, stop */
} SrvConfig;

/* Run until SIGTERM / SIGINT.  Returns the exit status: 0 after a clean
 * stop, 1 on a fatal store error, 2 when it cannot start. */
int srv_run(const DnaBundle *b, const SrvConfig *cfg);

#endif
