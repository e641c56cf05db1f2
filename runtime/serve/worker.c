/*
 * worker.c - the daemon's worker thread (serve_int.h): it owns the live
 * engine on the in-memory store.  At start it rebuilds the state by
 * replaying the events table's processed events in acceptance order,
 * advancing to the watermark recorded with each (event sourcing).  Then it
 * takes pending events in acceptance order, runs them, and commits each
 * batch's statuses, effects and outbox rows and the watermark in one
 * transaction.  A crash before that COMMIT leaves the events pending and
 * the rebuilt state without them: they run again, once.  The watermark's
 * target (event time minus the lateness, or the wall clock when quiet) is
 * computed here too.
 */
#include "serve/serve_int.h"
#include "serve/worker.h"
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

void wk_sink(void *ud, const EngEffect *ef)
{
    Worker *w = ud;
    if (!w->capture) return;                        /* rebuilding: the effects were written before */
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
    /* history is not news: an evaluation before the daemon went live */
    pthread_mutex_lock(&w->s->mu);
    e->history = !w->s->cfg.deliver_history && (w->s->live_at == INT64_MIN || ef->at < w->s->live_at);
    pthread_mutex_unlock(&w->s->mu);
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


static const char *const mode_names[] = { "live", "approval", "shadow" };

/* Write a batch's effects, outbox rows, statuses and the watermark: one transaction. */
static int commit_batch(Srv *s, Worker *w, Pending *p, size_t np, int64_t wm)
{
    sqlite3 *db = s->pdb;
    static const char *const sqls[] = {
        "INSERT INTO effects (tenant, event_id, entity, entity_kind, entity_key, kind, line) VALUES ('" DB_TENANT "', ?, ?, ?, ?, ?, ?)",
        "INSERT INTO outbox (tenant, effect, event_id, kind, mode, connector, idem_key, line, next_at, created_at, status) "
        "VALUES ('" DB_TENANT "', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        "UPDATE events SET status = ?, error = ?, watermark = ?, processed_at = ?, bundle = ? WHERE seq = ?",
    };
    sqlite3_stmt **st = w->st;              /* prepared once, kept by the worker */
    int ok = 1;
    for (int i = 0; i < 3 && ok; i++)
        if (!st[i]) ok = sqlite3_prepare_v3(db, sqls[i], -1, SQLITE_PREPARE_PERSISTENT, &st[i], NULL) == SQLITE_OK;
    pthread_mutex_lock(&s->wmu);
    ok = ok && db_exec(db, "BEGIN IMMEDIATE") == 0;
    int64_t now = srv_wall_ms();
    uint64_t nout = 0, nhist = 0;
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
        sqlite3_bind_text(o, 10, e->history ? "history" : "pending", -1, SQLITE_STATIC);
        ok = sqlite3_step(o) == SQLITE_DONE;
        sqlite3_reset(o);
        if (e->history) nhist++; else nout++;
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
        s->history += nhist;
        if (nout && s->dlv) dlv_wake(s->dlv);
        for (size_t i = 0; i < np; i++) {
            uint32_t t = srv_type_index_locked(s, p[i].type);
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
int64_t wk_replay_history(Srv *s, Worker *w, Engine *eng)
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
    int64_t n = wk_replay_history(s, w, s->eng);
    if (n < 0) return -1;
    int64_t wm, live;
    int have_wm = db_meta_get(s->pdb, "watermark", &wm), have_live = db_meta_get(s->pdb, "live_at", &live);
    pthread_mutex_lock(&s->mu);
    s->watermark = have_wm ? wm : INT64_MIN;
    s->live_at = have_live ? live : INT64_MIN;
    if (db_scalar(s->pdb, "SELECT count(*) FROM events")) {
        s->max_occ = db_scalar(s->pdb, "SELECT max(occurred_at) FROM events WHERE tenant = '" DB_TENANT "'");
        s->have_occ = 1;
    }
    pthread_mutex_unlock(&s->mu);
    slog("info", "state rebuilt from the events table", "events", SL_INT, n, "entities", SL_INT,
         (int64_t)eng_count(s->eng), "watermark_ms", SL_INT, s->watermark, "bundle", SL_STR, s->bundle_id, NULL);
    return 0;
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

/* The watermark the worker may advance to now: the highest accepted
 * occurred_at minus the lateness, or, quiet for a lateness, the wall clock
 * minus it (--no-wall-clock: never); never backwards.  Under mu. */
int64_t srv_target_watermark_locked(Srv *s, int64_t wall)
{
    int64_t t = s->watermark;
    if (s->have_occ && s->max_occ - s->cfg.lateness_ms > t) t = s->max_occ - s->cfg.lateness_ms;
    /* the wall clock only once live: before, it would fire every old timer
     * at once, ahead of the backfill's events that precede it */
    if (s->cfg.wall_clock && s->live_at != INT64_MIN &&
        (s->last_arrival == 0 || wall - s->last_arrival >= s->cfg.lateness_ms) && wall - s->cfg.lateness_ms > t)
        t = wall - s->cfg.lateness_ms;
    return t;
}

int64_t srv_now_locked(Srv *s, int64_t wall)
{
    if (s->live_at != INT64_MIN || !s->have_occ) return s->have_occ && s->max_occ > wall ? s->max_occ : wall;
    return s->max_occ;
}

#define WORK_BATCH 512
#define COMMIT_EFFECTS 256          /* about 4 ms of writing on this machine */

static void fail_fatal(Srv *s)
{
    atomic_store(&s->fatal, 1);
    kill(getpid(), SIGTERM);
}

void *srv_worker(void *arg)
{
    Srv *s = arg;
    Worker w;
    memset(&w, 0, sizeof w);
    w.s = s;
    pthread_mutex_lock(&s->emu);
    s->st = store_mem_new();
    s->eng = s->st ? eng_new(srv_b(s), s->st, wk_sink, &w) : NULL;
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
        wk_reload(s, &w);
        /* the target first, then the pending rows: every event that moved
         * the target is committed, so it is among the rows fetched, and an
         * idle advance (no rows) never passes an event that is waiting */
        pthread_mutex_lock(&s->mu);
        int64_t target = srv_target_watermark_locked(s, srv_wall_ms());
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
                uint64_t late = eng_stats(s->eng)->late;
                EngResult r = eng_event(s->eng, p[i].body, (size_t)p[i].bodylen, why, sizeof why);
                if (eng_stats(s->eng)->late != late)
                    slog("info", "late event: older than its entity's clock, evaluated at the clock", "id", SL_STR, p[i].id,
                         "occurred_at_ms", SL_INT, p[i].at, NULL);
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
        if (s->stop_work) {             /* the srv_committer has stopped: nothing new can come */
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
