/*
 * db_sqlite.c - the daemon's SQLite store: opening a connection (WAL,
 * synchronous=FULL, waits for a lock with backoff), applying migrations/sqlite/ (built
 * into the binary from the .sql files), the small `meta` table, the file
 * identity /readyz checks, and SQLite's allocations through the hook.
 */
#include "store/db_sqlite.h"
#include "base/mem.h"
#include "base/slog.h"

#include <sqlite3.h>
#include "sqlite_migrations.h"      /* generated: dna_sqlite_migration_N[] */

#include <errno.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

/* ---- lock waits ----------------------------------------------------------------- */

static _Atomic int64_t g_long_wait_at = INT64_MIN / 2;     /* monotonic ms of the last call in a wait over 1 s */
static atomic_int g_cancel;

static int64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* a waiting connection calls the handler at least every 500 ms */
int db_lock_waiting(void) { return mono_ms() - atomic_load(&g_long_wait_at) < 750; }
void db_cancel_waits(int on) { atomic_store(&g_cancel, on); }

/* SQLite's busy handler: ud is the bound in ms (0: none); n the calls so
 * far for this wait.  Sleeps 1, 2, 4 ... 500 ms; returns 0 to give up. */
static int busy_wait(void *ud, int n)
{
    int64_t bound = (int64_t)(intptr_t)ud;
    int64_t step = n < 9 ? (int64_t)1 << n : 500;
    /* the time waited so far, from the steps taken (n is at most INT_MAX) */
    int64_t waited = n < 9 ? ((int64_t)1 << n) - 1 : 511 + (int64_t)(n - 9) * 500;
    if (atomic_load(&g_cancel) || (bound && waited >= bound)) return 0;
    if (waited + step >= 1000) {
        if (waited < 1000)
            slog("warn", "waiting for the store's write lock (another process holds it); not ready meanwhile", NULL);
        atomic_store(&g_long_wait_at, mono_ms());
    }
    struct timespec ts = { (time_t)(step / 1000), (long)(step % 1000) * 1000000L };
    nanosleep(&ts, NULL);
    return 1;
}

/* ---- helpers -------------------------------------------------------------------- */

int db_exec(sqlite3 *db, const char *sql)
{
    char *msg = NULL;
    int rc = sqlite3_exec(db, sql, NULL, NULL, &msg);
    if (rc != SQLITE_OK) {
        slog("error", "sqlite", "sql", SL_STR, sql, "error", SL_STR, msg ? msg : sqlite3_errstr(rc), NULL);
        sqlite3_free(msg);
        return -1;
    }
    return 0;
}

int64_t db_scalar(sqlite3 *db, const char *sql)
{
    sqlite3_stmt *st;
    int64_t v = 0;
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK) return 0;
    if (sqlite3_step(st) == SQLITE_ROW) v = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return v;
}

int db_meta_get(sqlite3 *db, const char *key, int64_t *v)
{
    sqlite3_stmt *st;
    int found = 0;
    if (sqlite3_prepare_v2(db, "SELECT value FROM meta WHERE tenant = '" DB_TENANT "' AND key = ?", -1, &st, NULL) != SQLITE_OK)
        return 0;
    sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
    if (sqlite3_step(st) == SQLITE_ROW) { *v = sqlite3_column_int64(st, 0); found = 1; }
    sqlite3_finalize(st);
    return found;
}

int db_meta_set(sqlite3 *db, const char *key, int64_t v)
{
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(db, "INSERT INTO meta (tenant, key, value) VALUES ('" DB_TENANT "', ?, ?) "
                               "ON CONFLICT (tenant, key) DO UPDATE SET value = excluded.value", -1, &st, NULL) != SQLITE_OK)
        return -1;
    sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, v);
    int rc = sqlite3_step(st);
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? 0 : -1;
}

/* ---- opening ------------------------------------------------------------------- */

static sqlite3 *open_with(const char *path, int64_t busy_ms, char *err, size_t errlen);

sqlite3 *db_open(const char *path, char *err, size_t errlen) { return open_with(path, 0, err, errlen); }

sqlite3 *db_open_bounded(const char *path, int64_t busy_ms, char *err, size_t errlen)
{
    return open_with(path, busy_ms > 0 ? busy_ms : 1, err, errlen);
}

static sqlite3 *open_with(const char *path, int64_t busy_ms, char *err, size_t errlen)
{
    sqlite3 *db = NULL;
    int rc = sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL);
    if (rc != SQLITE_OK) {
        snprintf(err, errlen, "cannot open '%s': %s", path, db ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
        sqlite3_close(db);
        return NULL;
    }
    sqlite3_busy_handler(db, busy_wait, (void *)(intptr_t)busy_ms);
    char *msg = NULL;
    if (sqlite3_exec(db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON;", NULL, NULL, &msg) != SQLITE_OK) {
        snprintf(err, errlen, "cannot set up '%s': %s", path, msg ? msg : sqlite3_errmsg(db));
        sqlite3_free(msg);
        sqlite3_close(db);
        return NULL;
    }
    /* migrations, in order, each in its own transaction; idempotent */
    for (size_t i = 0; i < sizeof dna_sqlite_migrations / sizeof dna_sqlite_migrations[0]; i++) {
        int64_t have = 0;
        sqlite3_stmt *st;
        if (sqlite3_prepare_v2(db, "SELECT count(*) FROM schema_version WHERE version = ?", -1, &st, NULL) == SQLITE_OK) {
            sqlite3_bind_int64(st, 1, (int64_t)(i + 1));
            if (sqlite3_step(st) == SQLITE_ROW) have = sqlite3_column_int64(st, 0);
            sqlite3_finalize(st);
        }
        if (have) continue;
        char *m2 = NULL;
        if (sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK ||
            sqlite3_exec(db, dna_sqlite_migrations[i], NULL, NULL, &m2) != SQLITE_OK ||
            sqlite3_exec(db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK) {
            snprintf(err, errlen, "migration %zu on '%s' failed: %s", i + 1, path, m2 ? m2 : sqlite3_errmsg(db));
            sqlite3_free(m2);
            sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
            sqlite3_close(db);
            return NULL;
        }
    }
    return db;
}

/* ---- the file ------------------------------------------------------------------- */

int db_file_id(const char *path, DbFileId *id)
{
    struct stat sb;
    if (stat(path, &sb)) return -1;
    id->dev = (uint64_t)sb.st_dev;
    id->ino = (uint64_t)sb.st_ino;
    return 0;
}

int db_same_file(const char *path, const DbFileId *id, char *why, size_t wl)
{
    DbFileId now;
    if (db_file_id(path, &now)) {
        snprintf(why, wl, "the database file '%s' is gone (%s): what is written now is lost at restart", path, strerror(errno));
        return -1;
    }
    if (now.dev != id->dev || now.ino != id->ino) {
        snprintf(why, wl, "the database file '%s' was replaced by another file", path);
        return -1;
    }
    return 0;
}

/* ---- SQLite's allocations through base/mem.h's hook ------------------------------ */

static void *sq_malloc(int n) { return n > 0 ? dna_umalloc((size_t)n) : NULL; }
static void sq_free(void *p) { dna_ufree(p); }
static void *sq_realloc(void *p, int n) { return n > 0 ? dna_urealloc(p, (size_t)n) : NULL; }
static int sq_size(void *p) { return p ? (int)dna_usize(p) : 0; }
static int sq_roundup(int n) { return (n + 7) & ~7; }
static int sq_init(void *ud) { (void)ud; return SQLITE_OK; }
static void sq_shutdown(void *ud) { (void)ud; }

int db_use_dna_alloc(void)
{
    static const sqlite3_mem_methods m = { sq_malloc, sq_free, sq_realloc, sq_size, sq_roundup, sq_init, sq_shutdown, NULL };
    return sqlite3_config(SQLITE_CONFIG_MALLOC, &m) == SQLITE_OK ? 0 : -1;
}
