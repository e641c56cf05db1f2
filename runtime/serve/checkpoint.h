/*
 * checkpoint.h - the WAL checkpoint of `dnad serve`, on its own thread.
 *
 * SQLite checkpoints the WAL inside whichever commit first finds it longer
 * than 1000 pages: an intake commit (a client waits for its 202) or the
 * worker's (events wait behind it).  The daemon turns that off on its
 * connections (sqlite3_wal_autocheckpoint 0) and runs this thread
 * instead: a PASSIVE checkpoint on its own connection every CKPT_EVERY_MS
 * while the WAL has frames not yet copied, and one at stop.  PASSIVE never
 * takes a lock a writer or reader waits for; what it cannot copy now it
 * copies on a later round.
 */
#ifndef DNA_CHECKPOINT_H
#define DNA_CHECKPOINT_H

#include <sqlite3.h>
#include <stddef.h>
#include <stdint.h>

#define CKPT_EVERY_MS 200

typedef struct Ckpt Ckpt;

/* Turn off checkpoint-in-commit on the daemon's n connections, open the
 * thread's own to path and start it; NULL (logged) on failure. */
Ckpt *ckpt_start(const char *path, sqlite3 *const *conns, int n, char *err, size_t errlen);
/* A last checkpoint, then stop and close. */
void  ckpt_stop(Ckpt *c);
/* Checkpoints that found frames to copy, so far. */
uint64_t ckpt_runs(const Ckpt *c);
/* Turn off SQLite's checkpoint-in-commit on a connection of the daemon. */
void  ckpt_not_in_commit(sqlite3 *db);

#endif
