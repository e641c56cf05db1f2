/*
 * checkpoint.c - the daemon's background WAL checkpoint (checkpoint.h).
 */
#include "serve/checkpoint.h"
#include "store/db_sqlite.h"
#include "base/slog.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <time.h>

struct Ckpt {
    sqlite3 *db;
    pthread_t t;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int stop;
    _Atomic uint64_t runs;
};

void ckpt_not_in_commit(sqlite3 *db)
{
    if (db) sqlite3_wal_autocheckpoint(db, 0);
}

static void once(Ckpt *c)
{
    int log = 0, done = 0;
    if (sqlite3_wal_checkpoint_v2(c->db, NULL, SQLITE_CHECKPOINT_PASSIVE, &log, &done) == SQLITE_OK && log > 0)
        atomic_fetch_add(&c->runs, 1);
}

static void *loop(void *arg)
{
    Ckpt *c = arg;
    pthread_mutex_lock(&c->mu);
    while (!c->stop) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_nsec += (long)CKPT_EVERY_MS * 1000000L;
        ts.tv_sec += ts.tv_nsec / 1000000000L;
        ts.tv_nsec %= 1000000000L;
        pthread_cond_timedwait(&c->cv, &c->mu, &ts);
        if (c->stop) break;
        pthread_mutex_unlock(&c->mu);
        once(c);
        pthread_mutex_lock(&c->mu);
    }
    pthread_mutex_unlock(&c->mu);
    once(c);
    return NULL;
}

Ckpt *ckpt_start(const char *path, sqlite3 *const *conns, int n, char *err, size_t errlen)
{
    for (int i = 0; i < n; i++) ckpt_not_in_commit(conns[i]);
    Ckpt *c = calloc(1, sizeof *c);
    if (!c || !(c->db = db_open(path, err, errlen))) {
        slog("error", "cannot start the checkpoint thread", "error", SL_STR, c ? err : "out of memory", NULL);
        free(c);
        return NULL;
    }
    ckpt_not_in_commit(c->db);
    pthread_mutex_init(&c->mu, NULL);
    pthread_cond_init(&c->cv, NULL);
    if (pthread_create(&c->t, NULL, loop, c)) {
        pthread_mutex_destroy(&c->mu);
        pthread_cond_destroy(&c->cv);
        sqlite3_close(c->db);
        free(c);
        slog("error", "cannot start the checkpoint thread", NULL);
        return NULL;
    }
    return c;
}

void ckpt_stop(Ckpt *c)
{
    if (!c) return;
    pthread_mutex_lock(&c->mu);
    c->stop = 1;
    pthread_cond_signal(&c->cv);
    pthread_mutex_unlock(&c->mu);
    pthread_join(c->t, NULL);
    pthread_mutex_destroy(&c->mu);
    pthread_cond_destroy(&c->cv);
    sqlite3_close(c->db);
    free(c);
}

uint64_t ckpt_runs(const Ckpt *c) { return c ? atomic_load(&((Ckpt *)c)->runs) : 0; }
