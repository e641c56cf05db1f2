/*
 * intake.c - the daemon's intake (serve_int.h): an envelope batch parsed
 * with dna_json_parse and validated on a validating engine (a store that
 * has "seen" every id, so eng_event checks the envelope against the
 * bundle's schema and stops before it changes anything), then queued to
 * the committer, which takes every queued request at once and inserts them
 * in one transaction (group commit, WAL, synchronous=FULL): 202 only after
 * COMMIT.
 */
#include "serve/serve_int.h"
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

enum { JOB_STORE = 1, JOB_BUSY, JOB_FILE_LOST };      /* Job.failed: why */

/* ---- the validating store: every id is "seen", so eng_event stops after the checks -- */

static Ent *vs_get(Store *s, uint64_t h) { (void)s; (void)h; return NULL; }
static uint64_t vs_find(Store *s, uint32_t k, uint32_t sl, const char *v, uint32_t l) { (void)s; (void)k; (void)sl; (void)v; (void)l; return 0; }
static int vs_bind(Store *s, uint32_t k, uint32_t sl, const char *v, uint32_t l, uint64_t h) { (void)s; (void)k; (void)sl; (void)v; (void)l; (void)h; return 0; }
static Ent *vs_create(Store *s, uint32_t k, uint32_t n, uint32_t nl) { (void)s; (void)k; (void)n; (void)nl; return NULL; }
static int vs_seen(Store *s, const char *id, uint32_t len) { (void)s; (void)id; (void)len; return 1; }
static uint64_t vs_count(Store *s) { (void)s; return 0; }
static void vs_free(Store *s) { free(s); }
static const StoreOps vs_ops = { vs_get, vs_find, vs_bind, vs_create, vs_seen, vs_count, vs_free };

/* ---- intake ---------------------------------------------------------------------- */

static void env_free(Env *v, size_t n)
{
    for (size_t i = 0; i < n; i++) { free(v[i].id); free(v[i].type); free(v[i].body); }
    free(v);
}

char *srv_err(const char *fmt, ...)
{
    char tmp[600];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    JsonW w;
    jw_init(&w);
    jw_obj(&w);
    jw_key(&w, "error");
    jw_str(&w, tmp);
    jw_end_obj(&w);
    char *r = strndup(w.p ? w.p : "{}", w.n);
    jw_free(&w);
    return r;
}

/* The counters' index of an event type in the live bundle; built-ins last. */
uint32_t srv_type_index_locked(Srv *s, const char *type)
{
    uint32_t t = bundle_event(s->types_b, type);
    return t < s->ntypes - 1 ? t : s->ntypes - 1;
}

/* A string holding NUL (\u0000, which JSON allows) would be cut wherever
 * it becomes an id, a type, an identity, an entity key or an SQL value:
 * two ids would be one, an email another lead.  The intake refuses any
 * (400, naming where); the path of the first goes to `path`. */
static int nul_inside(json_t *v, char *path, size_t cap, size_t at)
{
    if (json_is_string(v)) return strlen(json_string_value(v)) != json_string_length(v);
    if (json_is_array(v)) {
        for (size_t i = 0; i < json_array_size(v); i++) {
            int k = snprintf(path + at, cap - at, "[%zu]", i);
            size_t nat = at + (size_t)k < cap ? at + (size_t)k : cap - 1;
            if (nul_inside(json_array_get(v, i), path, cap, nat)) return 1;
        }
        path[at] = 0;
        return 0;
    }
    if (json_is_object(v)) {
        const char *key;
        json_t *m;
        json_object_foreach(v, key, m) {
            int k = snprintf(path + at, cap - at, "%s%s", at ? "." : "", key);
            size_t nat = at + (size_t)k < cap ? at + (size_t)k : cap - 1;
            if (nul_inside(m, path, cap, nat)) return 1;
        }
        path[at] = 0;
    }
    return 0;
}

int srv_intake(Srv *s, const char *body, size_t len, char **out)
{
    int64_t t0 = srv_wall_ms();
    struct timespec m0;
    clock_gettime(CLOCK_MONOTONIC, &m0);
    JsonError je;
    json_t *root = dna_json_parse(body, len, &je);
    if (!root) {
        pthread_mutex_lock(&s->mu); s->rejected_400++; pthread_mutex_unlock(&s->mu);
        *out = srv_err("malformed JSON at line %d, column %d: %s", je.line, je.column, je.text);
        return 400;
    }
    size_t n = json_is_array(root) ? json_array_size(root) : 1;
    if (json_is_array(root) && (n == 0 || n > SRV_MAX_BATCH)) {
        json_decref(root);
        pthread_mutex_lock(&s->mu); s->rejected_422++; pthread_mutex_unlock(&s->mu);
        *out = srv_err(n ? "a batch holds at most %d events" : "an empty batch", SRV_MAX_BATCH);
        return 422;
    }
    Env *env = calloc(n, sizeof *env);
    if (!env) { json_decref(root); *out = srv_err("out of memory"); return 503; }
    int status = 0;
    for (size_t i = 0; i < n && !status; i++) {
        json_t *ev = json_is_array(root) ? json_array_get(root, i) : root;
        char *text = json_dumps(ev, JSON_COMPACT | JSON_ENCODE_ANY);
        if (!text) { status = 503; *out = srv_err("out of memory"); break; }
        size_t tl = strlen(text);
        char why[256];
        pthread_mutex_lock(&s->vmu);
        EngResult r = eng_event(s->val, text, tl, why, sizeof why);
        pthread_mutex_unlock(&s->vmu);
        if (r != ENG_DUPLICATE) {
            free(text);
            if (r == ENG_NOMEM) { status = 503; *out = srv_err("out of memory"); break; }
            if (r == ENG_OK) snprintf(why, sizeof why, "internal: the validator processed the event");
            status = 422;
            if (json_is_array(root)) *out = srv_err("event %zu: %s", i, why);
            else *out = srv_err("%s", why);
            break;
        }
        char path[200] = "";
        if (nul_inside(ev, path, sizeof path, 0)) {
            free(text);
            status = 400;
            const char *what = "a NUL character (\\u0000), which would cut an id, identity or key";
            if (json_is_array(root)) *out = srv_err("event %zu: \"%s\" holds %s", i, path, what);
            else *out = srv_err("\"%s\" holds %s", path, what);
            break;
        }
        /* valid: these are present and well formed */
        json_t *jid = json_object_get(ev, "id"), *jt = json_object_get(ev, "type"), *ja = json_object_get(ev, "occurred_at");
        env[i].id = strdup(json_string_value(jid));
        env[i].type = strdup(json_string_value(jt));
        env[i].body = text;
        env[i].bodylen = tl;
        clk_parse(json_string_value(ja), json_string_length(ja), &env[i].at);
        if (env[i].at - t0 > s->cfg.max_future_ms) {
            /* a clock gone wrong upstream: its timers would jump the watermark ahead for everyone */
            status = 422;
            char d[64];
            snprintf(d, sizeof d, "%.1f hours", (double)(env[i].at - t0) / 3.6e6);
            if (json_is_array(root)) *out = srv_err("event %zu: occurred_at is %s in the future (the limit is --max-future)", i, d);
            else *out = srv_err("occurred_at is %s in the future (the limit is --max-future)", d);
        }
        if (!env[i].id || !env[i].type) { status = 503; *out = srv_err("out of memory"); }
    }
    json_decref(root);
    if (status) {
        if (status == 422 || status == 400) {
            pthread_mutex_lock(&s->mu);
            if (status == 422) s->rejected_422++; else s->rejected_400++;
            pthread_mutex_unlock(&s->mu);
        }
        env_free(env, n);
        return status;
    }
    /* queue for the group commit and wait until durable */
    Job job = { env, n, 0, 0, NULL };
    pthread_mutex_lock(&s->mu);
    if (s->stop_commit) {
        pthread_mutex_unlock(&s->mu);
        env_free(env, n);
        *out = srv_err("shutting down");
        return 503;
    }
    if (s->qtail) s->qtail->next = &job; else s->qhead = &job;
    s->qtail = &job;
    pthread_cond_signal(&s->qcond);
    while (!job.done) pthread_cond_wait(&s->donecond, &s->mu);
    pthread_mutex_unlock(&s->mu);
    if (job.failed) {
        env_free(env, n);
        *out = srv_err("%s; nothing was accepted", job.failed == JOB_BUSY ? "the store's write lock is held by another process"
                                                 : job.failed == JOB_FILE_LOST ? "the database file was deleted or replaced"
                                                 : "the store refused the events");
        return 503;
    }
    JsonW w;
    jw_init(&w);
    jw_obj(&w);
    size_t fresh = 0;
    jw_key(&w, "accepted");
    jw_arr(&w);
    for (size_t i = 0; i < n; i++) if (env[i].fresh) { jw_str(&w, env[i].id); fresh++; }
    jw_end_arr(&w);
    jw_key(&w, "duplicates");
    jw_arr(&w);
    for (size_t i = 0; i < n; i++) if (!env[i].fresh) jw_str(&w, env[i].id);
    jw_end_arr(&w);
    jw_end_obj(&w);
    *out = strndup(w.p ? w.p : "{}", w.n);
    jw_free(&w);
    env_free(env, n);
    struct timespec m1;
    clock_gettime(CLOCK_MONOTONIC, &m1);
    double ms = (double)(m1.tv_sec - m0.tv_sec) * 1e3 + (double)(m1.tv_nsec - m0.tv_nsec) / 1e6;
    pthread_mutex_lock(&s->mu);
    int b = 0;
    while (b < SRV_LAT_BUCKETS && ms > srv_lat_bounds[b]) b++;
    s->lat_bucket[b]++;
    s->lat_sum += ms;
    s->lat_count++;
    pthread_mutex_unlock(&s->mu);
    return fresh ? 202 : 200;
}

/* ---- the srv_committer ----------------------------------------------------------------- */

void *srv_committer(void *arg)
{
    Srv *s = arg;
    sqlite3_stmt *ins = NULL;
    if (sqlite3_prepare_v2(s->wdb, "INSERT INTO events (tenant, id, type, occurred_at, received_at, late, body) "
                                   "VALUES ('" DB_TENANT "', ?, ?, ?, ?, ?, ?) ON CONFLICT (tenant, id) DO NOTHING",
                           -1, &ins, NULL) != SQLITE_OK) {
        slog("error", "cannot prepare the intake statement", "error", SL_STR, sqlite3_errmsg(s->wdb), NULL);
        atomic_store(&s->fatal, 1);
    }
    for (;;) {
        pthread_mutex_lock(&s->mu);
        while (!s->qhead && !s->stop_commit) pthread_cond_wait(&s->qcond, &s->mu);
        Job *jobs = s->qhead;
        s->qhead = s->qtail = NULL;
        int64_t wall = srv_wall_ms();
        int64_t wm = srv_target_watermark_locked(s, wall);
        pthread_mutex_unlock(&s->mu);
        if (!jobs) break;                       /* stopping and drained */
        /* the worker may be waiting for a lock another process holds, with
         * wmu: the intake waits a bounded time, then 503 (nothing accepted) */
        struct timespec dl;
        clock_gettime(CLOCK_REALTIME, &dl);
        dl.tv_sec += SRV_COMMIT_WAIT_MS / 1000;
        int why = JOB_STORE;
        int locked = pthread_mutex_timedlock(&s->wmu, &dl) == 0;
        char lost[300];
        int ok = ins && locked;
        if (!locked) why = JOB_BUSY;
        /* never 202 into a file a restart will not open */
        if (ok && s->have_dbid && db_same_file(s->cfg.db_path, &s->dbid, lost, sizeof lost)) {
            slog("error", "refusing events: the database file is not the one opened", "error", SL_STR, lost, NULL);
            ok = 0;
            why = JOB_FILE_LOST;
        }
        ok = ok && db_exec(s->wdb, "BEGIN IMMEDIATE") == 0;
        if (!ok && why == JOB_STORE && locked && sqlite3_errcode(s->wdb) == SQLITE_BUSY) why = JOB_BUSY;
        uint64_t nfresh = 0, nlate = 0;
        pthread_mutex_lock(&s->mu);
        int64_t live_at = s->live_at, went_live = INT64_MIN;
        pthread_mutex_unlock(&s->mu);
        for (Job *j = jobs; ok && j; j = j->next)
            for (size_t i = 0; ok && i < j->n; i++) {
                Env *v = &j->env[i];
                int late = v->at < wm;
                sqlite3_bind_text(ins, 1, v->id, -1, SQLITE_STATIC);
                sqlite3_bind_text(ins, 2, v->type, -1, SQLITE_STATIC);
                sqlite3_bind_int64(ins, 3, v->at);
                sqlite3_bind_int64(ins, 4, wall);
                sqlite3_bind_int(ins, 5, late);
                sqlite3_bind_text(ins, 6, v->body, (int)v->bodylen, SQLITE_STATIC);
                int rc = sqlite3_step(ins);
                sqlite3_reset(ins);
                if (rc != SQLITE_DONE) {
                    slog("error", "insert failed", "error", SL_STR, sqlite3_errmsg(s->wdb), NULL);
                    ok = 0;
                    break;
                }
                v->fresh = sqlite3_changes(s->wdb) == 1;
                nfresh += (uint64_t)v->fresh;
                if (v->fresh && late) {
                    nlate++;
                    slog("warn", "event behind the watermark", "id", SL_STR, v->id, "occurred_at_ms", SL_INT, v->at,
                         "watermark_ms", SL_INT, wm, NULL);
                }
                /* the daemon goes live with the first accepted event within
                 * the lateness of the wall clock (a backfill never does, nor
                 * a built-in envelope); import runs without a wall clock */
                if (v->fresh && live_at == INT64_MIN && went_live == INT64_MIN && !s->cfg.import_path &&
                    !srv_builtin_type(v->type) && wall - v->at <= s->cfg.lateness_ms)
                    went_live = v->at;
            }
        if (ok && went_live != INT64_MIN) ok = db_meta_set(s->wdb, "live_at", went_live) == 0;
        if (ok && db_exec(s->wdb, "COMMIT") != 0) ok = 0;
        if (!ok && locked) db_exec(s->wdb, "ROLLBACK");
        if (locked) pthread_mutex_unlock(&s->wmu);
        pthread_mutex_lock(&s->mu);
        for (Job *j = jobs; j; j = j->next) {
            j->failed = ok ? 0 : why;
            for (size_t i = 0; ok && i < j->n; i++) {
                Env *v = &j->env[i];
                if (!v->fresh) { s->duplicates++; continue; }
                s->in_by_type[srv_type_index_locked(s, v->type)]++;
                if (!s->have_occ || v->at > s->max_occ) s->max_occ = v->at;
                s->have_occ = 1;
                s->last_arrival = wall;
            }
            j->done = 1;
        }
        if (ok) { s->commits++; s->committed_events += nfresh; s->late += nlate; }
        if (ok && went_live != INT64_MIN && s->live_at == INT64_MIN) {
            s->live_at = went_live;
            slog("info", "live: an accepted event is within the lateness of the wall clock; the watermark follows the "
                 "wall clock from now on, and earlier evaluations stay history", "live_at_ms", SL_INT, went_live, NULL);
        }
        pthread_cond_broadcast(&s->donecond);
        if (nfresh) pthread_cond_signal(&s->workcond);
        pthread_mutex_unlock(&s->mu);
    }
    sqlite3_finalize(ins);
    return NULL;
}


int srv_builtin_type(const char *type)
{
    return !strcmp(type, "alert_ack") || !strcmp(type, "approval") || !strcmp(type, "connector_result");
}

Engine *srv_new_validator(const DnaBundle *b, Store **st)
{
    *st = malloc(sizeof **st);
    if (!*st) return NULL;
    (*st)->ops = &vs_ops;
    Engine *e = eng_new(b, *st, NULL, NULL);
    if (!e) { free(*st); *st = NULL; }
    return e;
}
