/*
 * serve.c - the daemon (serve.h): start-up, the intake's group commit, the
 * worker and its watermark, and the graceful stop.
 *
 * Intake (HTTP threads): parse with dna_json_parse, validate every envelope
 * on a validating engine (a store that has "seen" every id, so eng_event
 * checks the envelope against the bundle's schema and stops before it
 * changes anything), then queue the envelopes to the committer and wait.
 * The committer takes every queued request at once and inserts them in one
 * transaction (group commit, WAL, synchronous=FULL): 202 only after COMMIT.
 *
 * The worker (one thread) owns the live engine on the in-memory store.  At
 * start it rebuilds the state by replaying the events table's processed
 * events in acceptance order, advancing to the watermark recorded with each
 * (event sourcing).  Then it takes pending events in acceptance order, runs
 * them, and commits each batch's statuses, effects and outbox rows and the
 * watermark in one transaction.  A crash before that COMMIT leaves the
 * events pending and the rebuilt state without them: they run again, once.
 */
#include "serve/serve_int.h"
#include "serve/webhook.h"
#include "base/clock.h"
#include "base/json.h"
#include "base/jsonw.h"
#include "base/mem.h"

#include <errno.h>
#include <microhttpd.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

const double srv_lat_bounds[SRV_LAT_BUCKETS] = { 0.5, 1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 5000 };

int64_t srv_wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

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
static uint32_t type_index_locked(Srv *s, const char *type)
{
    uint32_t t = bundle_event(s->types_b, type);
    return t < s->ntypes - 1 ? t : s->ntypes - 1;
}

static int64_t target_watermark_locked(Srv *s, int64_t wall)
{
    int64_t t = s->watermark;
    if (s->have_occ && s->max_occ - s->cfg.lateness_ms > t) t = s->max_occ - s->cfg.lateness_ms;
    if (s->cfg.wall_clock && (s->last_arrival == 0 || wall - s->last_arrival >= s->cfg.lateness_ms) &&
        wall - s->cfg.lateness_ms > t)
        t = wall - s->cfg.lateness_ms;
    return t;
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
        if (status == 422) { pthread_mutex_lock(&s->mu); s->rejected_422++; pthread_mutex_unlock(&s->mu); }
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
        *out = srv_err("the store refused the events; nothing was accepted");
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

/* ---- the committer ----------------------------------------------------------------- */

static void *committer(void *arg)
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
        int64_t wm = target_watermark_locked(s, wall);
        pthread_mutex_unlock(&s->mu);
        if (!jobs) break;                       /* stopping and drained */
        pthread_mutex_lock(&s->wmu);
        int ok = ins && db_exec(s->wdb, "BEGIN IMMEDIATE") == 0;
        uint64_t nfresh = 0, nlate = 0;
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
                    slog("warn", "late event", "id", SL_STR, v->id, "occurred_at_ms", SL_INT, v->at, "watermark_ms", SL_INT, wm, NULL);
                }
            }
        if (ok && db_exec(s->wdb, "COMMIT") != 0) ok = 0;
        if (!ok) db_exec(s->wdb, "ROLLBACK");
        pthread_mutex_unlock(&s->wmu);
        pthread_mutex_lock(&s->mu);
        for (Job *j = jobs; j; j = j->next) {
            j->failed = !ok;
            for (size_t i = 0; ok && i < j->n; i++) {
                Env *v = &j->env[i];
                if (!v->fresh) { s->duplicates++; continue; }
                s->in_by_type[type_index_locked(s, v->type)]++;
                if (!s->have_occ || v->at > s->max_occ) s->max_occ = v->at;
                s->have_occ = 1;
                s->last_arrival = wall;
            }
            j->done = 1;
        }
        if (ok) { s->commits++; s->committed_events += nfresh; s->late += nlate; }
        pthread_cond_broadcast(&s->donecond);
        if (nfresh) pthread_cond_signal(&s->workcond);
        pthread_mutex_unlock(&s->mu);
    }
    sqlite3_finalize(ins);
    return NULL;
}

/* ---- the worker -------------------------------------------------------------------- */

typedef struct Eff {
    char *event_id;                 /* NULL: a timer */
    uint64_t entity;
    char *ekind, *ekey;
    uint8_t kind, mode, external;
    char *connector;                /* external and naming a connector: it enters the outbox */
    char idem[48];                  /* its idempotency key */
    char *line;
    size_t len;
} Eff;

typedef struct Worker {
    Srv *s;
    int capture;                    /* 0 while rebuilding: effects were written before */
    const char *cur_event;
    uint32_t ordinal;               /* effects of cur_event so far: part of the idempotency key */
    sqlite3_stmt *st[3];            /* commit_batch's statements */
    Eff *effs;
    size_t n, cap;
} Worker;

static void worker_sink(void *ud, const EngEffect *ef)
{
    Worker *w = ud;
    if (!w->capture || w->s->rendering) return;     /* rebuilding, or the operator API reading */
    if (w->n == w->cap) {
        size_t nc = w->cap ? w->cap * 2 : 256;
        Eff *ne = realloc(w->effs, nc * sizeof *ne);
        if (!ne) return;            /* counted below as a fatal store error at commit */
        w->effs = ne;
        w->cap = nc;
    }
    Eff *e = &w->effs[w->n++];
    memset(e, 0, sizeof *e);
    e->event_id = w->cur_event ? strdup(w->cur_event) : NULL;
    e->entity = ef->entity;
    const char *k = NULL, *key = ef->entity ? eng_entity_key(w->s->eng, ef->entity, &k) : NULL;
    e->ekind = key ? strdup(k) : NULL;
    e->ekey = key ? strdup(key) : NULL;
    e->kind = (uint8_t)ef->kind;
    e->mode = ef->mode;
    e->external = ef->external;
    e->line = strndup(ef->line, ef->len);
    e->len = ef->len;
    if (ef->external && ef->mode != 2 && e->line) {          /* shadow effects never leave */
        json_t *j = json_loadb(ef->line, ef->len, 0, NULL);
        const char *c = json_string_value(json_object_get(json_object_get(j, "detail"), "connector"));
        if (c && *c) {
            e->connector = strdup(c);
            /* derived from the effect: the same on every attempt, and the
             * same again if the history is ever processed anew */
            char salt[24];
            int sl = snprintf(salt, sizeof salt, "#%u", w->ordinal);
            uint8_t h[32];
            size_t bl = ef->len + (size_t)sl;
            char *buf = malloc(bl);
            if (buf) {
                memcpy(buf, ef->line, ef->len);
                memcpy(buf + ef->len, salt, (size_t)sl);
                dna_sha256(buf, bl, h);
                free(buf);
                memcpy(e->idem, "dna_", 4);
                for (int i = 0; i < 16; i++) snprintf(e->idem + 4 + 2 * i, 3, "%02x", h[i]);
            } else {
                free(e->connector);
                e->connector = NULL;
                free(e->line);
                e->line = NULL;         /* counted as a store error at commit */
            }
        }
        json_decref(j);
    }
    w->ordinal++;
}

static void effs_clear(Worker *w)
{
    for (size_t i = 0; i < w->n; i++) {
        Eff *e = &w->effs[i];
        free(e->event_id); free(e->ekind); free(e->ekey); free(e->line); free(e->connector);
    }
    w->n = 0;
}

typedef struct Pending {
    int64_t seq;
    char *id, *type, *body;
    int bodylen;
    int64_t at;                     /* occurred_at */
    int status;                     /* 1 processed, 2 failed */
    char error[256];
    int64_t wm;
} Pending;

static const char *const mode_names[] = { "live", "approval", "shadow" };

/* Write a batch's effects, outbox rows, statuses and the watermark: one transaction. */
static int commit_batch(Srv *s, Worker *w, Pending *p, size_t np, int64_t wm)
{
    sqlite3 *db = s->pdb;
    static const char *const sqls[] = {
        "INSERT INTO effects (tenant, event_id, entity, entity_kind, entity_key, kind, line) VALUES ('" DB_TENANT "', ?, ?, ?, ?, ?, ?)",
        "INSERT INTO outbox (tenant, effect, event_id, kind, mode, connector, idem_key, line, next_at, created_at) "
        "VALUES ('" DB_TENANT "', ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        "UPDATE events SET status = ?, error = ?, watermark = ?, processed_at = ?, bundle = ? WHERE seq = ?",
    };
    sqlite3_stmt **st = w->st;              /* prepared once, kept by the worker */
    int ok = 1;
    for (int i = 0; i < 3 && ok; i++)
        if (!st[i]) ok = sqlite3_prepare_v3(db, sqls[i], -1, SQLITE_PREPARE_PERSISTENT, &st[i], NULL) == SQLITE_OK;
    pthread_mutex_lock(&s->wmu);
    ok = ok && db_exec(db, "BEGIN IMMEDIATE") == 0;
    int64_t now = srv_wall_ms();
    uint64_t nout = 0;
    for (size_t i = 0; ok && i < w->n; i++) {
        Eff *e = &w->effs[i];
        if (!e->line) { ok = 0; break; }
        sqlite3_stmt *a = st[0];
        if (e->event_id) sqlite3_bind_text(a, 1, e->event_id, -1, SQLITE_STATIC); else sqlite3_bind_null(a, 1);
        sqlite3_bind_int64(a, 2, (int64_t)e->entity);
        if (e->ekind) sqlite3_bind_text(a, 3, e->ekind, -1, SQLITE_STATIC); else sqlite3_bind_null(a, 3);
        if (e->ekey) sqlite3_bind_text(a, 4, e->ekey, -1, SQLITE_STATIC); else sqlite3_bind_null(a, 4);
        sqlite3_bind_text(a, 5, eng_effect_name((EffKind)e->kind), -1, SQLITE_STATIC);
        sqlite3_bind_text(a, 6, e->line, (int)e->len, SQLITE_STATIC);
        ok = sqlite3_step(a) == SQLITE_DONE;
        sqlite3_reset(a);
        if (!ok || !e->connector) continue;
        sqlite3_stmt *o = st[1];
        sqlite3_bind_int64(o, 1, sqlite3_last_insert_rowid(db));
        if (e->event_id) sqlite3_bind_text(o, 2, e->event_id, -1, SQLITE_STATIC); else sqlite3_bind_null(o, 2);
        sqlite3_bind_text(o, 3, eng_effect_name((EffKind)e->kind), -1, SQLITE_STATIC);
        sqlite3_bind_text(o, 4, mode_names[e->mode % 3], -1, SQLITE_STATIC);
        sqlite3_bind_text(o, 5, e->connector, -1, SQLITE_STATIC);
        sqlite3_bind_text(o, 6, e->idem, -1, SQLITE_STATIC);
        sqlite3_bind_text(o, 7, e->line, (int)e->len, SQLITE_STATIC);
        sqlite3_bind_int64(o, 8, now);
        sqlite3_bind_int64(o, 9, now);
        ok = sqlite3_step(o) == SQLITE_DONE;
        sqlite3_reset(o);
        nout++;
    }
    for (size_t i = 0; ok && i < np; i++) {
        sqlite3_stmt *u = st[2];
        sqlite3_bind_text(u, 1, p[i].status == 1 ? "processed" : "failed", -1, SQLITE_STATIC);
        if (p[i].status == 1) sqlite3_bind_null(u, 2); else sqlite3_bind_text(u, 2, p[i].error, -1, SQLITE_STATIC);
        sqlite3_bind_int64(u, 3, p[i].wm);
        sqlite3_bind_int64(u, 4, now);
        sqlite3_bind_text(u, 5, s->bundle_id, -1, SQLITE_STATIC);
        sqlite3_bind_int64(u, 6, p[i].seq);
        ok = sqlite3_step(u) == SQLITE_DONE;
        sqlite3_reset(u);
    }
    ok = ok && db_meta_set(db, "watermark", wm) == 0;
    ok = ok && db_exec(db, "COMMIT") == 0;
    if (!ok) {
        slog("error", "cannot commit processed events", "error", SL_STR, sqlite3_errmsg(db), NULL);
        db_exec(db, "ROLLBACK");
    }
    pthread_mutex_unlock(&s->wmu);
    if (ok) {
        pthread_mutex_lock(&s->mu);
        for (size_t i = 0; i < w->n; i++) s->effects[w->effs[i].kind % EFF__COUNT]++;
        if (nout && s->dlv) dlv_wake(s->dlv);
        for (size_t i = 0; i < np; i++) {
            uint32_t t = type_index_locked(s, p[i].type);
            if (p[i].status == 1) s->done_by_type[t]++; else s->failed_by_type[t]++;
        }
        pthread_mutex_unlock(&s->mu);
    }
    effs_clear(w);
    return ok ? 0 : -1;
}

/* Run the processed history (in acceptance order, each event after the
 * watermark recorded with it) through eng without capturing its effects:
 * they were written when the events ran live.  Then advance eng to the
 * persisted watermark.  Returns the number of events, or -1. */
static int64_t replay_history(Srv *s, Worker *w, Engine *eng)
{
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(s->pdb, "SELECT body, watermark FROM events WHERE tenant = '" DB_TENANT "' AND status <> 'pending' ORDER BY seq",
                           -1, &st, NULL) != SQLITE_OK)
        return -1;
    int64_t adv = INT64_MIN, n = 0;
    char why[256];
    w->capture = 0;
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        const char *body = (const char *)sqlite3_column_text(st, 0);
        int len = sqlite3_column_bytes(st, 0);
        pthread_mutex_lock(&s->emu);
        if (sqlite3_column_type(st, 1) != SQLITE_NULL) {
            int64_t wm = sqlite3_column_int64(st, 1);
            if (wm > adv) { eng_advance(eng, wm); adv = wm; }
        }
        eng_event(eng, body, (size_t)len, why, sizeof why);
        pthread_mutex_unlock(&s->emu);
        n++;
    }
    sqlite3_finalize(st);
    int64_t wm;
    if (rc == SQLITE_DONE && db_meta_get(s->pdb, "watermark", &wm) && wm > adv) {
        pthread_mutex_lock(&s->emu);
        eng_advance(eng, wm);
        pthread_mutex_unlock(&s->emu);
    }
    w->capture = 1;
    return rc == SQLITE_DONE ? n : -1;
}

static int rebuild(Srv *s, Worker *w)
{
    int64_t n = replay_history(s, w, s->eng);
    if (n < 0) return -1;
    int64_t wm;
    int have_wm = db_meta_get(s->pdb, "watermark", &wm);
    pthread_mutex_lock(&s->mu);
    s->watermark = have_wm ? wm : INT64_MIN;
    if (db_scalar(s->pdb, "SELECT count(*) FROM events")) {
        s->max_occ = db_scalar(s->pdb, "SELECT max(occurred_at) FROM events WHERE tenant = '" DB_TENANT "'");
        s->have_occ = 1;
    }
    pthread_mutex_unlock(&s->mu);
    slog("info", "state rebuilt from the events table", "events", SL_INT, n, "entities", SL_INT,
         (int64_t)eng_count(s->eng), "watermark_ms", SL_INT, s->watermark, "bundle", SL_STR, s->bundle_id, NULL);
    return 0;
}

/* ---- reload ------------------------------------------------------------------------ */

static void set_bundle_id_locked(Srv *s, const DnaBundle *b)
{
    for (int i = 0; i < 8; i++) snprintf(s->bundle_id + 2 * i, 3, "%02x", b->checksum[i]);
}

static Engine *new_validator(const DnaBundle *b, Store **st)
{
    *st = malloc(sizeof **st);
    if (!*st) return NULL;
    (*st)->ops = &vs_ops;
    Engine *e = eng_new(b, *st, NULL, NULL);
    if (!e) { free(*st); *st = NULL; }
    return e;
}

/* In the worker, between two events: build the engines of nb, give the
 * new live engine the state the history gives under nb (as a restart on nb
 * would), and swap.  On failure the old bundle stays. */
static int swap_bundle(Srv *s, Worker *w, DnaBundle *nb, char *msg, size_t msglen)
{
    int64_t t0 = srv_wall_ms();
    Store *st = store_mem_new(), *vst = NULL;
    Engine *eng = st ? eng_new(nb, st, worker_sink, w) : NULL;
    Engine *val = eng ? new_validator(nb, &vst) : NULL;
    uint64_t *cin = calloc(nb->nevents + 1, sizeof *cin), *cdone = calloc(nb->nevents + 1, sizeof *cdone),
             *cfail = calloc(nb->nevents + 1, sizeof *cfail);
    int64_t n = val && cin && cdone && cfail ? replay_history(s, w, eng) : -1;
    if (n < 0) {
        snprintf(msg, msglen, "cannot rebuild the state on the new bundle: %s", val ? sqlite3_errmsg(s->pdb) : "out of memory");
        eng_free(eng);
        if (st) st->ops->free(st);
        eng_free(val);
        if (vst) vst->ops->free(vst);
        free(cin); free(cdone); free(cfail);
        return -1;
    }
    pthread_mutex_lock(&s->emu);               /* under emu, live always matches eng */
    Engine *old_eng = s->eng, *old_val = s->val;
    Store *old_st = s->st, *old_vst = s->valst;
    pthread_mutex_lock(&s->vmu);
    s->eng = eng; s->st = st; s->val = val; s->valst = vst;
    pthread_mutex_unlock(&s->vmu);
    atomic_store(&s->live, nb);
    pthread_mutex_unlock(&s->emu);
    pthread_mutex_lock(&s->mu);
    /* counters follow their type by name; the built-ins' slot is last */
    const DnaBundle *ob = s->types_b;
    for (uint32_t t = 0; t < s->ntypes; t++) {
        uint32_t u = t + 1 == s->ntypes ? nb->nevents : bundle_event(nb, bundle_str(ob, ob->events[t].name));
        if (u == DNA_NIL) continue;
        cin[u] += s->in_by_type[t]; cdone[u] += s->done_by_type[t]; cfail[u] += s->failed_by_type[t];
    }
    free(s->in_by_type); free(s->done_by_type); free(s->failed_by_type);
    s->in_by_type = cin; s->done_by_type = cdone; s->failed_by_type = cfail;
    s->ntypes = nb->nevents + 1;
    s->types_b = nb;
    char old_id[17];
    memcpy(old_id, s->bundle_id, sizeof old_id);
    set_bundle_id_locked(s, nb);
    s->reloads++;
    snprintf(msg, msglen, "%s", s->bundle_id);
    pthread_mutex_unlock(&s->mu);
    pthread_mutex_lock(&s->emu);
    eng_free(old_eng);
    old_st->ops->free(old_st);
    eng_free(old_val);
    old_vst->ops->free(old_vst);
    pthread_mutex_unlock(&s->emu);
    slog("info", "bundle reloaded", "from", SL_STR, old_id, "to", SL_STR, msg, "rules", SL_INT, (int64_t)nb->nrules,
         "events_replayed", SL_INT, n, "ms", SL_INT, srv_wall_ms() - t0, NULL);
    return 0;
}

/* The posted bundle goes to PATH.tmp first (synced) and replaces PATH only
 * once the worker runs it: a reload that fails leaves the file alone. */
static int write_bundle_tmp(const char *path, const void *data, size_t len, char *msg, size_t msglen)
{
    char tmp[4096];
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    FILE *f = fopen(tmp, "wb");
    int ok = f && fwrite(data, 1, len, f) == len;
    ok = f && fflush(f) == 0 && fsync(fileno(f)) == 0 && ok;
    if (f && fclose(f)) ok = 0;
    if (!ok) {
        snprintf(msg, msglen, "cannot write the bundle to '%s': %s", tmp, strerror(errno));
        unlink(tmp);
        return -1;
    }
    return 0;
}

static void bundle_tmp_done(const char *path, int keep)
{
    char tmp[4096];
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    if (!keep) { unlink(tmp); return; }
    if (rename(tmp, path))
        slog("error", "the new bundle runs, but it could not replace the bundle file: a restart runs the old one",
             "path", SL_STR, path, "error", SL_STR, strerror(errno), NULL);
}

int srv_reload(Srv *s, const void *data, size_t len, char *msg, size_t msglen)
{
    DnaBundle *nb = calloc(1, sizeof *nb);
    if (!nb) { snprintf(msg, msglen, "out of memory"); return -1; }
    DnaLoadResult res;
    DnaLoadError e = data ? bundle_read(data, len, nb, &res) : bundle_load_file(s->cfg.bundle_path, nb, &res);
    if (e != DNA_LOAD_OK) {
        snprintf(msg, msglen, "%s", res.msg);
        bundle_free(nb);
        free(nb);
        return -1;
    }
    pthread_mutex_lock(&s->reload_mu);
    if (data && write_bundle_tmp(s->cfg.bundle_path, data, len, msg, msglen)) {
        pthread_mutex_unlock(&s->reload_mu);
        bundle_free(nb);
        free(nb);
        return -1;
    }
    pthread_mutex_lock(&s->mu);
    DnaBundle **nl = realloc(s->loaded, (s->nloaded + 1) * sizeof *nl);
    if (!nl || s->stop_work || s->worker_gone) {
        pthread_mutex_unlock(&s->mu);
        pthread_mutex_unlock(&s->reload_mu);
        if (nl) s->loaded = nl;
        snprintf(msg, msglen, "%s", nl ? "shutting down" : "out of memory");
        if (data) bundle_tmp_done(s->cfg.bundle_path, 0);
        bundle_free(nb);
        free(nb);
        return -1;
    }
    s->loaded = nl;
    s->reload_req = nb;
    s->reload_done = 0;
    pthread_cond_broadcast(&s->workcond);
    while (!s->reload_done) pthread_cond_wait(&s->reloadcond, &s->mu);
    int rc = s->reload_rc;
    snprintf(msg, msglen, "%s", s->reload_msg);
    if (rc == 0) s->loaded[s->nloaded++] = nb;      /* freed at exit */
    pthread_mutex_unlock(&s->mu);
    if (data) bundle_tmp_done(s->cfg.bundle_path, rc == 0);
    pthread_mutex_unlock(&s->reload_mu);
    if (rc) { bundle_free(nb); free(nb); }
    return rc;
}

/* The worker's side: take a waiting reload, if any, and answer it. */
static void worker_reload(Srv *s, Worker *w)
{
    pthread_mutex_lock(&s->mu);
    DnaBundle *nb = s->reload_req;
    s->reload_req = NULL;
    pthread_mutex_unlock(&s->mu);
    if (!nb) return;
    char msg[256];
    int rc = swap_bundle(s, w, nb, msg, sizeof msg);
    if (rc) slog("error", "bundle reload refused", "error", SL_STR, msg, NULL);
    pthread_mutex_lock(&s->mu);
    s->reload_rc = rc;
    snprintf(s->reload_msg, sizeof s->reload_msg, "%s", msg);
    s->reload_done = 1;
    pthread_cond_broadcast(&s->reloadcond);
    pthread_mutex_unlock(&s->mu);
}

static size_t fetch_pending(Srv *s, Pending *p, size_t max)
{
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(s->pdb, "SELECT seq, id, type, body, occurred_at FROM events WHERE tenant = '" DB_TENANT "' AND status = 'pending' "
                                   "ORDER BY seq LIMIT ?", -1, &st, NULL) != SQLITE_OK)
        return 0;
    sqlite3_bind_int64(st, 1, (int64_t)max);
    size_t n = 0;
    while (n < max && sqlite3_step(st) == SQLITE_ROW) {
        memset(&p[n], 0, sizeof p[n]);
        p[n].seq = sqlite3_column_int64(st, 0);
        p[n].id = strdup((const char *)sqlite3_column_text(st, 1));
        p[n].type = strdup((const char *)sqlite3_column_text(st, 2));
        p[n].bodylen = sqlite3_column_bytes(st, 3);
        p[n].body = strndup((const char *)sqlite3_column_text(st, 3), (size_t)p[n].bodylen);
        p[n].at = sqlite3_column_int64(st, 4);
        if (!p[n].id || !p[n].type || !p[n].body) { free(p[n].id); free(p[n].type); free(p[n].body); break; }
        n++;
    }
    sqlite3_finalize(st);
    return n;
}

#define WORK_BATCH 512
#define COMMIT_EFFECTS 256          /* about 4 ms of writing on this machine */

static void fail_fatal(Srv *s)
{
    atomic_store(&s->fatal, 1);
    kill(getpid(), SIGTERM);
}

static void *worker(void *arg)
{
    Srv *s = arg;
    Worker w;
    memset(&w, 0, sizeof w);
    w.s = s;
    pthread_mutex_lock(&s->emu);
    s->st = store_mem_new();
    s->eng = s->st ? eng_new(srv_b(s), s->st, worker_sink, &w) : NULL;
    pthread_mutex_unlock(&s->emu);
    int ok = s->eng && rebuild(s, &w) == 0;
    if (!ok) {
        slog("error", "cannot rebuild the state", "error", SL_STR, sqlite3_errmsg(s->pdb), NULL);
        fail_fatal(s);
        return NULL;
    }
    atomic_store(&s->ready, 1);
    Pending *p = malloc(sizeof(Pending) * WORK_BATCH);
    size_t carry = 0;                   /* fetched, not yet run: the lowest pending seqs */
    if (!p) { fail_fatal(s); return NULL; }
    for (;;) {
        worker_reload(s, &w);
        /* the target first, then the pending rows: every event that moved
         * the target is committed, so it is among the rows fetched, and an
         * idle advance (no rows) never passes an event that is waiting */
        pthread_mutex_lock(&s->mu);
        int64_t target = target_watermark_locked(s, srv_wall_ms());
        pthread_mutex_unlock(&s->mu);
        size_t np = carry ? carry : fetch_pending(s, p, WORK_BATCH);
        carry = 0;
        pthread_mutex_lock(&s->mu);
        int64_t adv = s->watermark;
        pthread_mutex_unlock(&s->mu);
        if (np) {
            size_t done = np;
            for (size_t i = 0; i < np; i++) {
                /* timers due before this event fire first, but never past an
                 * event that is accepted and still waiting: posted in time
                 * order, the daemon sees exactly the timers replay sees */
                int64_t t = target < p[i].at ? target : p[i].at;
                pthread_mutex_lock(&s->emu);
                if (t > adv) {
                    w.cur_event = NULL;
                    w.ordinal = 0;
                    eng_advance(s->eng, t);
                    adv = t;
                }
                p[i].wm = adv;
                w.cur_event = p[i].id;
                w.ordinal = 0;
                char why[256];
                EngResult r = eng_event(s->eng, p[i].body, (size_t)p[i].bodylen, why, sizeof why);
                w.cur_event = NULL;
                w.ordinal = 0;
                pthread_mutex_unlock(&s->emu);
                if (r == ENG_OK) p[i].status = 1;
                else {
                    p[i].status = 2;
                    snprintf(p[i].error, sizeof p[i].error, "%s", r == ENG_DUPLICATE ? "duplicate event id"
                                                                  : r == ENG_NOMEM ? "out of memory" : why);
                    slog("warn", "event failed", "id", SL_STR, p[i].id, "error", SL_STR, p[i].error, NULL);
                }
                /* a commit holds the store's one write lock: keep it short,
                 * so the intake's commits (and their 202s) do not wait long */
                if (w.n >= COMMIT_EFFECTS && i + 1 < np) { done = i + 1; break; }
            }
            int rc = commit_batch(s, &w, p, done, adv);
            for (size_t i = 0; i < done; i++) { free(p[i].id); free(p[i].type); free(p[i].body); }
            if (rc) {
                for (size_t i = done; i < np; i++) { free(p[i].id); free(p[i].type); free(p[i].body); }
                fail_fatal(s);
                break;
            }
            /* the rest run next, before anything newer is fetched */
            for (size_t i = done; i < np; i++) {
                p[i - done] = p[i];
                memset(p[i - done].error, 0, sizeof p[0].error);
                p[i - done].status = 0;
            }
            carry = np - done;
            pthread_mutex_lock(&s->mu); s->watermark = adv; pthread_mutex_unlock(&s->mu);
            continue;
        }
        if (target > adv) {                     /* idle: timers follow the watermark */
            pthread_mutex_lock(&s->emu);
            w.cur_event = NULL;
            w.ordinal = 0;
            uint64_t before = eng_stats(s->eng)->timers;
            eng_advance(s->eng, target);
            uint64_t fired = eng_stats(s->eng)->timers - before;
            pthread_mutex_unlock(&s->emu);
            if (fired || w.n || s->watermark == INT64_MIN || target - s->watermark >= CLK_SECOND) {
                if (commit_batch(s, &w, NULL, 0, target)) { fail_fatal(s); break; }
                pthread_mutex_lock(&s->mu); s->watermark = target; pthread_mutex_unlock(&s->mu);
            }
            if (fired) {
                pthread_mutex_lock(&s->mu); s->timers += fired; pthread_mutex_unlock(&s->mu);
            }
        }
        pthread_mutex_lock(&s->mu);
        if (s->stop_work) {             /* the committer has stopped: nothing new can come */
            pthread_mutex_unlock(&s->mu);
            break;
        }
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_nsec += 200 * 1000000L;
        if (ts.tv_nsec >= 1000000000L) { ts.tv_sec++; ts.tv_nsec -= 1000000000L; }
        pthread_cond_timedwait(&s->workcond, &s->mu, &ts);
        pthread_mutex_unlock(&s->mu);
    }
    free(p);
    effs_clear(&w);
    free(w.effs);
    for (int i = 0; i < 3; i++) sqlite3_finalize(w.st[i]);
    pthread_mutex_lock(&s->mu);
    s->worker_gone = 1;
    if (s->reload_req) {            /* stopped before it could run */
        s->reload_req = NULL;
        s->reload_rc = -1;
        snprintf(s->reload_msg, sizeof s->reload_msg, "shutting down");
        s->reload_done = 1;
        pthread_cond_broadcast(&s->reloadcond);
    }
    pthread_mutex_unlock(&s->mu);
    return NULL;
}

/* ---- delivery: the loop's hooks into the daemon, and its thread ---------------------- */

static int64_t hk_now(void *ud) { (void)ud; return srv_wall_ms(); }

static char *hk_entity(void *ud, const char *kind, const char *key)
{
    char *out = NULL;
    if (srv_entity_state(ud, kind, key, &out) == 200) return out;
    free(out);
    return NULL;
}

static char *hk_call_request(void *ud, const char *line, size_t len, char *why, size_t whylen)
{
    Srv *s = ud;
    JsonW w;
    jw_init(&w);
    pthread_mutex_lock(&s->emu);
    int rc = eng_call_request(s->eng, line, len, &w, why, whylen);
    pthread_mutex_unlock(&s->emu);
    char *r = rc == 0 && !w.oom && w.p ? strndup(w.p, w.n) : NULL;
    jw_free(&w);
    return r;
}

static char *hk_call_result(void *ud, const char *line, size_t len, const char *id, int64_t at_ms, const char *resp, size_t rlen)
{
    Srv *s = ud;
    JsonW w;
    jw_init(&w);
    char why[256];
    pthread_mutex_lock(&s->emu);
    int rc = eng_call_result(s->eng, line, len, id, at_ms, resp, rlen, &w, why, sizeof why);
    pthread_mutex_unlock(&s->emu);
    char *r = rc == 0 && !w.oom && w.p ? strndup(w.p, w.n) : NULL;
    if (rc) slog("warn", "a connector's answer cannot be fed back", "id", SL_STR, id, "error", SL_STR, why, NULL);
    jw_free(&w);
    return r;
}

static void hk_fed_back(void *ud)
{
    Srv *s = ud;
    pthread_mutex_lock(&s->mu);
    s->in_by_type[s->ntypes - 1]++;         /* a connector_result: a built-in envelope */
    pthread_cond_signal(&s->workcond);
    pthread_mutex_unlock(&s->mu);
}

static void *deliverer(void *arg)
{
    Srv *s = arg;
    while (!atomic_load(&s->ready)) {           /* the state first: requests read it */
        pthread_mutex_lock(&s->mu);
        int stop = s->stop_deliver;
        pthread_mutex_unlock(&s->mu);
        if (stop || atomic_load(&s->fatal)) return NULL;
        struct timespec ts = { 0, 20 * 1000000L };
        nanosleep(&ts, NULL);
    }
    const DnaBundle *b = srv_b(s);
    int stopping = 0;
    int64_t stop_at = 0;
    for (;;) {
        const DnaBundle *nb = srv_b(s);
        if (nb != b) { dlv_set_bundle(s->dlv, nb); b = nb; }
        pthread_mutex_lock(&s->mu);
        int stop = s->stop_deliver;
        pthread_mutex_unlock(&s->mu);
        if (stop && !stopping) {                /* finish what is in flight, start nothing */
            stopping = 1;
            stop_at = srv_wall_ms();
            dlv_stop_feeding(s->dlv);
        }
        if (stopping && (dlv_inflight(s->dlv) == 0 || srv_wall_ms() - stop_at > 10000)) break;
        if (dlv_step(s->dlv, 200) < 0) {
            slog("error", "the delivery loop cannot write to the store; retrying", "error", SL_STR, sqlite3_errmsg(s->ddb), NULL);
            struct timespec ts = { 1, 0 };
            nanosleep(&ts, NULL);
        }
    }
    if (dlv_inflight(s->dlv))
        slog("warn", "stopped with deliveries in flight: they stay pending and go again, with the same key",
             "inflight", SL_INT, (int64_t)dlv_inflight(s->dlv), NULL);
    return NULL;
}

/* ---- start and stop ---------------------------------------------------------------- */

int srv_run(const DnaBundle *b, const SrvConfig *cfg)
{
    Srv *s = calloc(1, sizeof *s);
    if (!s) return 2;
    atomic_store(&s->live, b);
    s->ntypes = b->nevents + 1;
    s->types_b = b;
    set_bundle_id_locked(s, b);
    s->cfg = *cfg;
    s->started_ms = srv_wall_ms();
    s->watermark = INT64_MIN;
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
    s->in_by_type = calloc(nt, sizeof(uint64_t));
    s->done_by_type = calloc(nt, sizeof(uint64_t));
    s->failed_by_type = calloc(nt, sizeof(uint64_t));
    int rc = 2;
    char err[512];
    struct MHD_Daemon *http = NULL;
    pthread_t tc, tw, td;
    int have_c = 0, have_w = 0, have_d = 0;
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
    if (!(s->wdb = db_open(cfg->db_path, err, sizeof err)) || !(s->pdb = db_open(cfg->db_path, err, sizeof err)) ||
        !(s->rdb = db_open(cfg->db_path, err, sizeof err))) {
        slog("error", "cannot open the store", "error", SL_STR, err, NULL);
        goto out;
    }
    /* The worker's commits need not wait for the disk: the WAL is one
     * sequence and every intake commit syncs it, so a power cut loses at
     * most the newest worker commits, whose events are then pending again
     * and run again, effects and all, in one piece. */
    db_exec(s->pdb, "PRAGMA synchronous=NORMAL");
    if (!(s->val = new_validator(b, &s->valst))) goto out;
    if (!cfg->no_delivery) {
        if (!(s->ddb = db_open(cfg->db_path, err, sizeof err))) {
            slog("error", "cannot open the store", "error", SL_STR, err, NULL);
            goto out;
        }
        /* an outcome lost to a power cut means one more attempt, with the
         * same key: the delivery loop's commits need not wait for the disk */
        db_exec(s->ddb, "PRAGMA synchronous=NORMAL");
        DlvConfig dc = { .db = s->ddb, .wmu = &s->wmu, .retry_base_ms = cfg->retry_base_ms, .seed = (uint64_t)srv_wall_ms() };
        DlvHooks hk = { s, hk_now, hk_entity, hk_call_request, hk_call_result, hk_fed_back };
        if (!(s->dlv = dlv_new(b, &dc, &hk))) goto out;
    }
    s->commit_running = 1;
    if (pthread_create(&tc, NULL, committer, s)) goto out;
    have_c = 1;
    if (pthread_create(&tw, NULL, worker, s)) goto out;
    have_w = 1;
    if (s->dlv) {
        if (pthread_create(&td, NULL, deliverer, s)) goto out;
        have_d = 1;
    }
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
    if (http) { http_quiesce(http); http_stop(http); }      /* in-flight requests finish their commit */
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
    free(s->in_by_type);
    free(s->done_by_type);
    free(s->failed_by_type);
    for (size_t i = 0; i < s->nloaded; i++) { bundle_free(s->loaded[i]); free(s->loaded[i]); }
    free(s->loaded);
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
    free(s);
    return rc;
}
