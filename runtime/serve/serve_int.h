/*
 * serve_int.h - what the daemon's parts share: serve.c (start and stop),
 * intake.c (validation and the group commit), worker.c (the worker and the
 * watermark), reload.c (bundle reload), deliverer.c (the delivery thread),
 * http_api.c (the HTTP handlers), http_ops.c and http_admin.c (the
 * operator API's answers).
 *
 * Locks, every one of them, and the order they are taken in (a thread
 * holding one may take only those after it):
 *
 *   reload_mu  one reload at a time (srv_reload, held while it waits)
 *   emu        the worker's engine and store: eng, st (worker,
 *              reload's swap, the operator API's reads, delivery's hooks)
 *   vmu        the validating engine: val, valst (intake; the swap takes
 *              it inside emu to replace both engines at once)
 *   mu         the commit queue, the watermark inputs, the counters, the
 *              bundle's identity, the reload request and answer, the
 *              stop flags; every condition variable (qcond, donecond,
 *              workcond, reloadcond) waits on mu
 *   rmu        the operator API's reader connection (its dead-letter and
 *              connector actions write through it, so they take wmu inside)
 *   wmu        the store's one writer (committer, worker, delivery loop,
 *              those actions): never held while taking another lock
 *
 * So: reload_mu -> emu -> vmu -> mu, and rmu -> wmu; no thread holds a lock
 * of one chain while taking a lock of the other.
 *
 * The bundle: `live` is the one the worker runs now (srv_b).  A reload
 * swaps it, with the engines, between two events; older bundles stay
 * loaded until exit, so a pointer a request took stays valid.
 */
#ifndef DNA_SERVE_INT_H
#define DNA_SERVE_INT_H

#include "serve/serve.h"
#include "store/db_sqlite.h"
#include "deliver/deliver.h"
#include "deliver/dlq.h"
#include "engine/engine.h"
#include "base/slog.h"

#include <pthread.h>
#include <sqlite3.h>
#include <stdatomic.h>
#include <stdint.h>

#define SRV_MAX_BATCH 10000          /* envelopes in one POST */
#define SRV_OPS_RESERVE 16           /* connections beyond --max-connections: /healthz, /readyz, /metrics only */
#define SRV_OPS_RESERVE_PER_CLIENT 4
#define SRV_OPS_HEADER_MS 2000       /* the headers' deadline on those */
#define SRV_HEADER_BYTES (64u << 10) /* request line and headers of one request (libmicrohttpd: 431 past it) */
#define SRV_DRAIN_MS 10000           /* at stop: the longest wait for requests in flight */
#define SRV_COMMIT_WAIT_MS 5000      /* the intake's longest wait for the store's write lock */
#define SRV_LAT_BUCKETS 12


/* One envelope on its way to the events table. */
typedef struct Env {
    char *id, *type, *body;
    size_t bodylen;
    int64_t at;
    int fresh;                      /* set by the commit: 1 new, 0 a repeat */
} Env;

typedef struct Job {
    Env *env;
    size_t n;
    int done, failed;
    struct Job *next;
} Job;

typedef struct Srv {
    _Atomic(const DnaBundle *) live;
    char bundle_id[17];             /* first 16 hex digits of live's checksum (under mu) */
    const DnaBundle *types_b;       /* under mu: the bundle the counters by type follow */
    uint32_t ntypes;                /* counters by type: types_b->nevents + 1 (the last: built-ins) */
    DnaBundle **loaded;             /* bundles loaded by reloads, freed at exit */
    size_t nloaded;
    SrvConfig cfg;

    /* reload: a request for the worker, and its answer */
    pthread_mutex_t reload_mu;
    pthread_cond_t reloadcond;
    DnaBundle *reload_req;          /* under mu */
    int reload_done, reload_rc;     /* under mu */
    int worker_gone;                /* under mu: nobody will answer a reload */
    char reload_msg[256];
    uint64_t reloads;
    int64_t started_ms;

    /* commit queue (group commit) */
    pthread_mutex_t mu;
    pthread_cond_t qcond, donecond, workcond;
    Job *qhead, *qtail;
    sqlite3 *wdb;                   /* the committer's connection */
    int stop_commit;                /* set after HTTP is down: drain and exit */
    int commit_running;

    /* watermark inputs (under mu) */
    int64_t max_occ;                /* highest occurred_at accepted */
    int have_occ;
    int64_t last_arrival;           /* wall clock of the last accepted event, 0: none */
    int64_t watermark;              /* what the engine was advanced to (persisted in meta) */
    int64_t live_at;                /* the moment the daemon went live: the occurred_at of the first
                                     * accepted event within the lateness of the wall clock (never a
                                     * built-in envelope); INT64_MIN: not yet.  In meta "live_at" */

    /* engines (under emu) */
    pthread_mutex_t emu;
    Engine *eng;                    /* the worker's, the live state */
    Store *st;
    pthread_mutex_t vmu;            /* the validator's own lock: intake does not wait for the worker */
    Engine *val;                    /* validates envelopes: its store has seen every id (under vmu) */
    Store *valst;

    /* the worker */
    sqlite3 *pdb;
    int stop_work;                  /* finish pending events, then exit */
    atomic_int ready;
    atomic_int fatal;

    /* the delivery loop (deliver.h), on its own thread and connection */
    Dlv *dlv;
    sqlite3 *ddb;
    int stop_deliver;               /* under mu */

    /* one writer at a time, without SQLite's sleeping busy handler */
    pthread_mutex_t wmu;

    /* the operator API's reader */
    pthread_mutex_t rmu;
    sqlite3 *rdb;

    /* HTTP: connection limits and the drain (http_conn.h) */
    struct HttpConns *hc;
    /* the database file opened at start (/readyz checks it is still there) */
    DbFileId dbid;
    int have_dbid;

    /* counters (under mu) */
    uint64_t *in_by_type, *done_by_type, *failed_by_type;   /* nevents + 1 */
    uint64_t duplicates, late /* behind the watermark when accepted */, rejected_400, rejected_413, rejected_422, unauthorized;
    uint64_t effects[EFF__COUNT];
    uint64_t commits, committed_events, timers;
    uint64_t history;               /* external effects recorded as history (not delivered) */
    uint64_t lat_bucket[SRV_LAT_BUCKETS + 1];   /* intake latency to 202, ms buckets */
    double lat_sum;
    uint64_t lat_count;
} Srv;

extern const double srv_lat_bounds[SRV_LAT_BUCKETS];

static inline const DnaBundle *srv_b(Srv *s) { return atomic_load(&s->live); }

/* Load a new bundle and make the worker run it from the next event on.
 * data NULL: read cfg.bundle_path again; else the bundle's bytes, which
 * replace the file at cfg.bundle_path (atomically) once the worker runs
 * them, so a restart runs the same rules.  Waits for the swap.  Returns 0, or -1
 * with the reason in msg (nothing changed).  On success msg holds the new
 * bundle's id. */
int srv_reload(Srv *s, const void *data, size_t len, char *msg, size_t msglen);

int64_t srv_wall_ms(void);
/* {"error": MESSAGE} (malloc'd; NULL only when out of memory). */
char *srv_err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* ---- the threads (serve.c starts them) ---- */
void *srv_committer(void *arg);     /* intake.c: the group commit */
void *srv_worker(void *arg);        /* worker.c */
void *srv_deliverer(void *arg);     /* deliverer.c */
/* deliverer.c: the delivery loop on s->ddb with the daemon's hooks */
Dlv *srv_new_delivery(Srv *s, const DnaBundle *b);

/* intake.c: an engine that validates envelopes (its store has seen every id) */
Engine *srv_new_validator(const DnaBundle *b, Store **st);
/* the counters' slot of an event type (the last one: built-ins); under mu */
uint32_t srv_type_index_locked(Srv *s, const char *type);
/* worker.c: the watermark the worker may advance to now; under mu */
int64_t srv_target_watermark_locked(Srv *s, int64_t wall);
/* worker.c: the daemon's now, for built-in envelopes: the wall clock once
 * live, else the latest accepted occurred_at (the wall clock if none); under mu */
int64_t srv_now_locked(Srv *s, int64_t wall);
/* intake.c: a built-in envelope type (alert_ack, approval, connector_result) */
int srv_builtin_type(const char *type);
/* reload.c: bundle_id from b's checksum; under mu */
void srv_set_bundle_id_locked(Srv *s, const DnaBundle *b);

/* import.c: `dnad import` (cfg.import_path) on a started daemon without
 * HTTP; returns the exit status.  Refused (1, said on stderr) when the
 * store has events: checked before the threads start. */
int srv_import(Srv *s);
int srv_import_refused(Srv *s);

/* ---- intake: parse, validate, commit.  Returns the HTTP status and a
 * JSON body in *out (malloc'd). ---- */
int srv_intake(Srv *s, const char *body, size_t len, char **out);

/* ---- operator API: JSON bodies (malloc'd); the status is returned ---- */
int srv_entity(Srv *s, const char *kind, const char *key, char **out);
int srv_entity_state(Srv *s, const char *kind, const char *key, char **out);    /* without the trace */
int srv_event(Srv *s, const char *id, char **out);
int srv_metrics(Srv *s, char **out);

/* ---- operator actions (http_admin.c): GET /v1/alerts, /v1/approvals,
 * POST /v1/alerts/{id}/ack, /v1/approvals/{id}/approve|reject.  `arg`
 * looks up a query argument; `body` is the POST body (may be empty). ---- */
typedef const char *(*SrvLookup)(void *ud, const char *name);
int srv_admin_path(const char *url);                     /* 1: one of the above */
int srv_admin(Srv *s, const char *method, const char *url, SrvLookup arg, void *ud,
              const char *body, size_t len, char **out);

/* ---- HTTP (http_api.c; the limits are http_conn.h's) ---- */
struct MHD_Daemon;
struct MHD_Daemon *http_start(Srv *s, char *err, size_t errlen);
/* Accept nothing more; wait (at most SRV_DRAIN_MS) for the requests in flight to be answered. */
void http_quiesce(Srv *s, struct MHD_Daemon *d);
void http_stop(Srv *s, struct MHD_Daemon *d);

#endif
