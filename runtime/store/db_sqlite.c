/*
 * db_sqlite.c - the daemon's SQLite store: opening a connection (WAL,
 * synchronous=FULL, a busy timeout), applying migrations/sqlite/ (built
 * into the binary from the .sql files) and the small `meta` table.
 */
#include "store/db_sqlite.h"
#include "base/slog.h"

#include <sqlite3.h>
#include "sqlite_migrations.h"      /* generated: dna_sqlite_migration_N[] */

#include <stdio.h>
#include <string.h>

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

sqlite3 *db_open(const char *path, char *err, size_t errlen)
{
    sqlite3 *db = NULL;
    int rc = sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL);
    if (rc != SQLITE_OK) {
        snprintf(err, errlen, "cannot open '%s': %s", path, db ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
        sqlite3_close(db);
        return NULL;
    }
    sqlite3_busy_timeout(db, 10000);
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
