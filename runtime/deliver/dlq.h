/*
 * dlq.h - the dead-letter queue and disabled connectors, on a store.
 * Shared by `dnad dlq`, `dnad connector` and the operator API.  JSON
 * results are malloc'd.
 */
#ifndef DNA_DLQ_H
#define DNA_DLQ_H

#include <sqlite3.h>
#include <stdint.h>

char *dlq_list(sqlite3 *db, int limit);                         /* {"dead":[...]} */
int   dlq_retry(sqlite3 *db, int64_t seq, int64_t now_ms);      /* 1 done, 0 no such dead letter, -1 error */
int   dlq_drop(sqlite3 *db, int64_t seq, int64_t now_ms);
int   dlq_connector_enable(sqlite3 *db, const char *name);       /* 1 it was disabled, 0 it was not, -1 error */

#endif
