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
 * migration it lacks.  NULL with the reason in err. */
sqlite3 *db_open(const char *path, char *err, size_t errlen);
int      db_exec(sqlite3 *db, const char *sql);                  /* 0 ok; errors are logged */
int      db_meta_get(sqlite3 *db, const char *key, int64_t *v);  /* 1 found */
int      db_meta_set(sqlite3 *db, const char *key, int64_t v);   /* 0 ok */
int64_t  db_scalar(sqlite3 *db, const char *sql);                /* first column of the first row, 0 if none */

#endif
