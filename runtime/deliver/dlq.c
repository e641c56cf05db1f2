/*
 * dlq.c - the dead-letter queue and disabled connectors on a store
 * (dlq.h): what `dnad dlq`, `dnad connector` and the operator API's
 * /v1/dlq and /v1/connectors/NAME/enable do.  The delivery loop
 * (deliver.c) picks up what they change: a retried letter is a pending
 * row again, an enabled connector is seen within two seconds.
 */
#include "deliver/dlq.h"
#include "base/clock.h"
#include "base/json.h"

#include <jansson.h>
#include <stdlib.h>

#define TENANT "default"

char *dlq_list(sqlite3 *db, int limit)
{
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(db, "SELECT seq, connector, kind, event_id, attempts, last_code, last_error, created_at, done_at, line, idem_key "
                               "FROM outbox WHERE tenant = '" TENANT "' AND status = 'dead' ORDER BY seq LIMIT ?",
                           -1, &st, NULL) != SQLITE_OK)
        return NULL;
    sqlite3_bind_int(st, 1, limit > 0 ? limit : 1000);
    json_t *arr = json_array();
    while (arr && sqlite3_step(st) == SQLITE_ROW) {
        json_t *o = json_object();
        json_object_set_new(o, "id", json_integer(sqlite3_column_int64(st, 0)));
        json_object_set_new(o, "connector", json_string((const char *)sqlite3_column_text(st, 1)));
        json_object_set_new(o, "kind", json_string((const char *)sqlite3_column_text(st, 2)));
        const char *ev = (const char *)sqlite3_column_text(st, 3);
        json_object_set_new(o, "event", ev ? json_string(ev) : json_null());
        json_object_set_new(o, "attempts", json_integer(sqlite3_column_int(st, 4)));
        json_object_set_new(o, "last_status", json_integer(sqlite3_column_int64(st, 5)));
        const char *le = (const char *)sqlite3_column_text(st, 6);
        json_object_set_new(o, "last_error", le ? json_string(le) : json_null());
        char t[32];
        clk_format(sqlite3_column_int64(st, 7), t);
        json_object_set_new(o, "created_at", json_string(t));
        clk_format(sqlite3_column_int64(st, 8), t);
        json_object_set_new(o, "dead_at", json_string(t));
        json_object_set_new(o, "idempotency_key", json_string((const char *)sqlite3_column_text(st, 10)));
        JsonError je;
        json_t *line = dna_json_parse((const char *)sqlite3_column_text(st, 9), (size_t)sqlite3_column_bytes(st, 9), &je);
        json_object_set_new(o, "effect", line ? line : json_null());
        json_array_append_new(arr, o);
    }
    sqlite3_finalize(st);
    json_t *root = json_pack("{s:o}", "dead", arr);
    char *out = root ? json_dumps(root, JSON_COMPACT) : NULL;
    json_decref(root);
    return out;
}

static int dlq_set(sqlite3 *db, const char *sql, int64_t seq, int64_t now)
{
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK) return -1;
    sqlite3_bind_int64(st, 1, now);
    sqlite3_bind_int64(st, 2, seq);
    int rc = sqlite3_step(st);
    sqlite3_finalize(st);
    return rc != SQLITE_DONE ? -1 : sqlite3_changes(db) == 1;
}

int dlq_retry(sqlite3 *db, int64_t seq, int64_t now_ms)
{
    /* a fresh start: attempts from zero, due now; the key stays */
    return dlq_set(db, "UPDATE outbox SET status = 'pending', attempts = 0, next_at = ?1, done_at = NULL "
                       "WHERE tenant = '" TENANT "' AND seq = ?2 AND status = 'dead'", seq, now_ms);
}

int dlq_drop(sqlite3 *db, int64_t seq, int64_t now_ms)
{
    return dlq_set(db, "UPDATE outbox SET status = 'dropped', done_at = ?1 WHERE tenant = '" TENANT "' AND seq = ?2 AND status = 'dead'",
                   seq, now_ms);
}

int dlq_connector_enable(sqlite3 *db, const char *name)
{
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(db, "DELETE FROM connector_state WHERE tenant = '" TENANT "' AND connector = ? AND disabled_at IS NOT NULL",
                           -1, &st, NULL) != SQLITE_OK)
        return -1;
    sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    sqlite3_finalize(st);
    return rc != SQLITE_DONE ? -1 : sqlite3_changes(db) == 1;
}
