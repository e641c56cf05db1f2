/*
 * deliver.h - the delivery loop: the outbox to the connectors.
 *
 * One loop (one thread in dnad serve) claims due outbox rows, builds each
 * request (connector.h), sends them with libcurl's multi interface (no
 * thread per request) and records every outcome in the store:
 *
 *   2xx            sent; a rest call's answer is fed back as a
 *                  `connector_result` event in the same transaction
 *   408, 429, 5xx, no answer
 *                  tried again after an exponential backoff with jitter,
 *                  never before a Retry-After; after the connector's last
 *                  attempt, dead (the dead-letter queue)
 *   410            dead, and the connector is disabled until an operator
 *                  enables it (its other rows wait)
 *   3xx, other 4xx dead at once: trying again would get the same answer
 *
 * Every attempt of one row carries the same Idempotency-Key (the outbox's
 * idem_key).  An outcome is recorded after the answer, so a crash between
 * the two sends the row again, with the same key.  A rest connector sends
 * one call at a time in outbox order and waits until the answer it fed
 * back has been processed, so a `then` call sees what the call before it
 * stored.  Per connector: a token-bucket rate limit and a circuit breaker.
 * The dead-letter queue's operations are in dlq.h.
 *
 * The loop only reads its clock through the hooks, so tests drive it with
 * a clock of their own.
 */
#ifndef DNA_DELIVER_H
#define DNA_DELIVER_H

#include "bundle/bundle.h"

#include <pthread.h>
#include <sqlite3.h>
#include <stdint.h>
#include <stdio.h>

typedef struct DlvHooks {
    void *ud;
    int64_t (*now)(void *ud);               /* ms since the epoch */
    /* The entity's state as GET /v1/entities renders it (malloc'd), or NULL. */
    char *(*entity)(void *ud, const char *kind, const char *key);
    /* A rest call's request {"verb","path","body"} rendered from the state
     * now (malloc'd), or NULL with the reason in why. */
    char *(*call_request)(void *ud, const char *line, size_t len, char *why, size_t whylen);
    /* The `connector_result` envelope for a 2xx answer (malloc'd), or NULL. */
    char *(*call_result)(void *ud, const char *line, size_t len, const char *id, int64_t at_ms,
                         const char *resp, size_t rlen);
    /* A connector's answer was added to the events table (once per answer):
     * count it, and wake whoever processes it. */
    void (*fed_back)(void *ud);
} DlvHooks;

typedef struct DlvConfig {
    sqlite3 *db;                    /* the loop's own connection */
    pthread_mutex_t *wmu;           /* held around each write transaction, or NULL */
    int max_inflight;               /* requests in flight, all connectors (default 64) */
    int per_connector;              /* in flight per connector that keeps no order (default 16) */
    int64_t retry_base_ms;          /* the first backoff is about this long (default 1000) */
    uint64_t seed;                  /* jitter */
} DlvConfig;

typedef struct Dlv Dlv;

/* libcurl's global set-up with its allocations through base/mem.h's hook;
 * once, before any other libcurl call, with no other thread running.
 * 0, or -1 when libcurl refused. */
int dlv_global_init(void);

Dlv *dlv_new(const DnaBundle *b, const DlvConfig *cfg, const DlvHooks *hooks);
void dlv_free(Dlv *d);
/* A new bundle: connectors are read again (counters carry over by name). */
void dlv_set_bundle(Dlv *d, const DnaBundle *b);
/* Start what is due, wait up to wait_ms for answers, record outcomes.
 * Returns the number of outcomes recorded, or -1 when the store failed. */
int dlv_step(Dlv *d, int wait_ms);
/* Wake a dlv_step that is waiting (any thread). */
void dlv_wake(Dlv *d);
/* Stopping: start nothing new; dlv_step still records what finishes. */
void dlv_stop_feeding(Dlv *d);
/* Requests in flight now. */
int dlv_inflight(Dlv *d);
/* Prometheus text: deliveries by connector and outcome, breaker states,
 * connectors disabled or not configured (any thread). */
void dlv_metrics(Dlv *d, FILE *f);

/* {"connectors":[{name, kind, configured, why, disabled, breaker, inflight,
 * sent, retried, dead, outbox_pending, dead_letters, disabled_at, ...}]}
 * (malloc'd); db is read for the counts (any thread, with its own db). */
char *dlv_status(Dlv *d, sqlite3 *db);

#endif
