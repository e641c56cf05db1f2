/*
 * db_sqlite.h - the daemon's SQLite store: connections with the schema of
 * migrations/sqlite/ applied, and small helpers.
 */
#ifndef DNA_DB_SQLITE_H
#define DNA_DB_SQLITE_H

#include <sqlite3.h>
#include <stddef.h>
#include <stdint.h>

/* the tenant of every row (one tenant until tenants are built) */
#define DB_TENANT "default"

/* Open (creating) PATH in WAL mode, synchronous=FULL, and apply every
 * migration it lacks.  NULL with the reason in err.
 *
 * Lock waits: another process holding the write lock is waited for, with
 * backoff (1 ms doubling to 500 ms), without end on the connections of
 * db_open, or at most busy_ms on those db_open_bounded gives (the intake:
 * a client gets 503 rather than waiting long).  While any connection has
 * waited over a second, db_lock_waiting() says so (the daemon reports
 * not ready); db_cancel_waits() makes every wait give up (SQLITE_BUSY),
 * for a stop. */
sqlite3 *db_open(const char *path, char *err, size_t errlen);
sqlite3 *db_open_bounded(const char *path, int64_t busy_ms, char *err, size_t errlen);
int      db_lock_waiting(void);
void     db_cancel_waits(int on);

/* Route SQLite's allocations through base/mem.h's hook; before any other
 * SQLite call of the process (-1: SQLite was initialized already and keeps
 * its own allocator). */
int      db_use_dna_alloc(void);

/* The file a connection's database is (device and inode), to notice when
 * PATH is deleted or replaced under the daemon. */
typedef struct DbFileId { uint64_t dev, ino; } DbFileId;
int      db_file_id(const char *path, DbFileId *id);        /* 0 ok, -1 no such file */
/* 0: PATH still is that file; else -1 with the reason in why. */
int      db_same_file(const char *path, const DbFileId *id, char *why, size_t wl);
int      db_exec(sqlite3 *db, const char *sql);                  /* 0 ok; errors are logged */
int      db_meta_get(sqlite3 *db, const char *key, int64_t *v);  /* 1 found */
int      db_meta_set(sqlite3 *db, const char *key, int64_t v);   /* 0 ok */
int64_t  db_scalar(sqlite3 *db, const char *sql);                /* first column of the first row, 0 if none */

#endif
