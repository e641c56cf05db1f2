/*
 * serve.c - `dnad serve` (serve.h): start-up (the store's connections,
 * the validating engine, the delivery loop, the committer, worker and
 * delivery threads, HTTP), signals (SIGHUP reloads, SIGTERM/SIGINT stop),
 * and the graceful stop: HTTP first, then the committer drains, the worker
 * finishes every accepted event, the delivery loop finishes what is in
 * flight.  The other parts: intake.c, worker.c, reload.c, deliverer.c,
 * http_*.c; what they share and the lock order are in serve_int.h.
 */
#include "serve/checkpoint.h"
#include "serve/serve_int.h"
#include "serve/webhook.h"
#include <microhttpd.h>
#include "base/clock.h"
#include "base/json.h"
#include "base/jsonw.h"
#include "base/mem.h"

#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <time.h>
#include <unistd.h>

const double srv_lat_bounds[SRV_LAT_BUCKETS] = { 0.5, 1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 5000 };

int64_t srv_wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}


/* ---- start and stop ---------------------------------------------------------------- */

/* The libraries' allocations through base/mem.h's hook (jansson's are not:
 * see mem.h), then the store's connections.  0, or -1 (logged). */
static int open_store(Srv *s, const SrvConfig *cfg)
{
    char err[512];
    if (db_use_dna_alloc())
        slog("info", "SQLite keeps its own allocator: it was initialized before the daemon started", NULL);
    if (!cfg->no_delivery && dlv_global_init()) {
        slog("error", "cannot set up libcurl", NULL);
        return -1;
    }
    /* the intake's and the operator API's waits for a lock held elsewhere
     * are bounded (a 503 to the client); the worker's and the delivery's
     * are not: they retry, with backoff, and /readyz says not ready */
    if (!(s->wdb = db_open_bounded(cfg->db_path, SRV_COMMIT_WAIT_MS, err, sizeof err)) ||
        !(s->pdb = db_open(cfg->db_path, err, sizeof err)) ||
        !(s->rdb = db_open_bounded(cfg->db_path, SRV_COMMIT_WAIT_MS, err, sizeof err)) ||
        (!cfg->no_delivery && !(s->ddb = db_open(cfg->db_path, err, sizeof err)))) {
        slog("error", "cannot open the store", "error", SL_STR, err, NULL);
        return -1;
    }
    s->have_dbid = db_file_id(cfg->db_path, &s->dbid) == 0;
    /* The worker's commits need not wait for the disk: the WAL is one
     * sequence and every intake commit syncs it, so a power cut loses at
     * most the newest worker commits, whose events are then pending again
     * and run again, effects and all, in one piece.  An outcome of the
     * delivery loop lost to a power cut means one more attempt, with the
     * same key: its commits need not wait for the disk either. */
    db_exec(s->pdb, "PRAGMA synchronous=NORMAL");
    if (s->ddb) db_exec(s->ddb, "PRAGMA synchronous=NORMAL");
    return 0;
}

int srv_run(const DnaBundle *b, const SrvConfig *cfg)
{
    Srv *s = dna_ucalloc(1, sizeof *s);
    if (!s) return 2;
    atomic_store(&s->live, b);
    s->ntypes = b->nevents + 1;
    s->types_b = b;
    srv_set_bundle_id_locked(s, b);
    s->cfg = *cfg;
    s->started_ms = srv_wall_ms();
    s->watermark = INT64_MIN;
    s->live_at = INT64_MIN;
    pthread_mutex_init(&s->mu, NULL);
    pthread_mutex_init(&s->emu, NULL);
    pthread_mutex_init(&s->rmu, NULL);
    pthread_mutex_init(&s->wmu, NULL);
    pthread_mutex_init(&s->reload_mu, NULL);
    pthread_mutex_init(&s->vmu, NULL);
    pthread_cond_init(&s->reloadcond, NULL);
    pthread_cond_init(&s->qcond, NULL);
    pthread_cond_init(&s->donecond, NULL);
    pthread_cond_init(&s->workcond, NULL);
    size_t nt = (size_t)b->nevents + 1;
    s->in_by_type = dna_ucalloc(nt, sizeof(uint64_t));
    s->done_by_type = dna_ucalloc(nt, sizeof(uint64_t));
    s->failed_by_type = dna_ucalloc(nt, sizeof(uint64_t));
    int rc = 2;
    char err[512];
    struct MHD_Daemon *http = NULL;
    pthread_t tc, tw, td;
    int have_c = 0, have_w = 0, have_d = 0;
    Ckpt *ck = NULL;
    /* signals: blocked in every thread, taken by sigwait below */
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGHUP);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    signal(SIGPIPE, SIG_IGN);
    json_object_seed(0);

    if (!s->in_by_type || !s->done_by_type || !s->failed_by_type) goto out;
    if (open_store(s, cfg)) goto out;
    if (cfg->import_path && srv_import_refused(s)) { rc = 1; goto out; }
    if (s->ddb) ckpt_not_in_commit(s->ddb);     /* see checkpoint.h */
    if (!(ck = ckpt_start(cfg->db_path, (sqlite3 *[]){ s->wdb, s->pdb, s->rdb }, 3, err, sizeof err))) goto out;
    if (!(s->val = srv_new_validator(b, &s->valst))) goto out;
    if (!cfg->no_delivery && !(s->dlv = srv_new_delivery(s, b))) goto out;
    s->commit_running = 1;
    if (pthread_create(&tc, NULL, srv_committer, s)) goto out;
    have_c = 1;
    if (pthread_create(&tw, NULL, srv_worker, s)) goto out;
    have_w = 1;
    if (s->dlv) {
        if (pthread_create(&td, NULL, srv_deliverer, s)) goto out;
        have_d = 1;
    }
    if (cfg->import_path) { rc = srv_import(s); goto out; }        /* dnad import: no HTTP, stop when run */
    if (!(http = http_start(s, err, sizeof err))) {
        slog("error", "cannot listen", "error", SL_STR, err, NULL);
        goto out;
    }
    const union MHD_DaemonInfo *di = MHD_get_daemon_info(http, MHD_DAEMON_INFO_BIND_PORT);
    int port = di ? di->port : cfg->port;
    slog("info", "listening", "addr", SL_STR, cfg->host, "port", SL_INT, (int64_t)port, "db", SL_STR, cfg->db_path,
         "bundle", SL_STR, cfg->bundle_path, "rules", SL_INT, (int64_t)b->nrules, "auth", SL_STR, cfg->no_auth ? "off" : "bearer",
         "lateness_ms", SL_INT, cfg->lateness_ms, "wall_clock", SL_INT, (int64_t)cfg->wall_clock, NULL);
    for (uint32_t i = 0; i < b->nsources; i++) {
        const char *env = wh_secret_env(b, &b->sources[i]);
        if (*env && !getenv(env))
            slog("warn", "a source's secret is not set: its webhooks are refused", "source", SL_STR,
                 bundle_str(b, b->sources[i].name), "env", SL_STR, env, NULL);
        if (wh_tolerance_ignored(b, &b->sources[i]))
            slog("warn", "a source's tolerance does nothing: its signature covers no time stamp (dnac refuses this now)",
                 "source", SL_STR, bundle_str(b, b->sources[i].name), NULL);
    }
    if (cfg->no_auth) slog("warn", "--no-auth: the API answers anyone who can reach it; for local use only", NULL);
    int sig = 0;
    for (;;) {
        sigwait(&set, &sig);
        if (sig != SIGHUP || atomic_load(&s->fatal)) break;
        char msg[256];
        slog("info", "SIGHUP: reloading the bundle", "bundle", SL_STR, cfg->bundle_path, NULL);
        if (srv_reload(s, NULL, 0, msg, sizeof msg))
            slog("error", "bundle reload failed; the old bundle keeps running", "error", SL_STR, msg, NULL);
    }
    rc = atomic_load(&s->fatal) ? 1 : 0;
    slog("info", "stopping: intake closed, finishing accepted events", "signal", SL_INT, (int64_t)sig, NULL);
out:
    if (http) { http_quiesce(s, http); http_stop(s, http); }  /* requests in flight are answered first */
    db_cancel_waits(1);             /* a wait for another process's lock ends: what waits stays pending */
    pthread_mutex_lock(&s->mu);
    s->stop_commit = 1;
    pthread_cond_broadcast(&s->qcond);
    pthread_mutex_unlock(&s->mu);
    if (have_c) pthread_join(tc, NULL);
    pthread_mutex_lock(&s->mu);
    s->commit_running = 0;
    s->stop_work = 1;
    pthread_cond_broadcast(&s->workcond);
    pthread_mutex_unlock(&s->mu);
    if (have_w) pthread_join(tw, NULL);
    pthread_mutex_lock(&s->mu);
    s->stop_deliver = 1;
    pthread_mutex_unlock(&s->mu);
    if (have_d) pthread_join(td, NULL);
    ckpt_stop(ck);                                          /* the last checkpoint, after the last commit */
    dlv_free(s->dlv);
    sqlite3_close(s->ddb);
    if (atomic_load(&s->fatal)) rc = 1;
    if (have_w || have_c) {
        int64_t pend = s->pdb ? db_scalar(s->pdb, "SELECT count(*) FROM events WHERE status = 'pending'") : -1;
        slog(rc ? "error" : "info", "stopped", "pending_events", SL_INT, pend, "exit", SL_INT, (int64_t)rc, NULL);
    }
    eng_free(s->eng);
    if (s->st) s->st->ops->free(s->st);
    eng_free(s->val);
    if (s->valst) s->valst->ops->free(s->valst);
    sqlite3_close(s->wdb);
    sqlite3_close(s->pdb);
    sqlite3_close(s->rdb);
    dna_ufree(s->in_by_type);
    dna_ufree(s->done_by_type);
    dna_ufree(s->failed_by_type);
    for (size_t i = 0; i < s->nloaded; i++) { bundle_free(s->loaded[i]); dna_ufree(s->loaded[i]); }
    dna_ufree(s->loaded);
    pthread_mutex_destroy(&s->reload_mu);
    pthread_mutex_destroy(&s->vmu);
    pthread_cond_destroy(&s->reloadcond);
    pthread_mutex_destroy(&s->mu);
    pthread_mutex_destroy(&s->emu);
    pthread_mutex_destroy(&s->rmu);
    pthread_mutex_destroy(&s->wmu);
    pthread_cond_destroy(&s->qcond);
    pthread_cond_destroy(&s->donecond);
    pthread_cond_destroy(&s->workcond);
    dna_ufree(s);
    return rc;
}
