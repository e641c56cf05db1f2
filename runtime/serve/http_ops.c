/*
 * http_ops.c - the operator API's answers (serve_int.h): an entity's state
 * and trace, an event's status, and the Prometheus metrics.
 *
 * The entity's state line is the one `dnad replay` writes to state.jsonl,
 * read at the watermark.  Reading must not change what the engine does
 * next (the daemon's state must stay the one a rebuild from the events
 * table gives), so the slots that settling re-derives are put back after
 * the line is written, and effects raised while reading are dropped.
 */
#include "serve/serve_int.h"
#include "serve/http_conn.h"
#include "base/jsonw.h"
#include "base/mem.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TRACE_MAX 200


static uint64_t root_of(Engine *e, uint64_t h)
{
    for (int guard = 0; guard < 64; guard++) {
        Ent *x = eng_entity(e, h);
        if (!x || !x->merged_into) return x ? h : 0;
        h = x->merged_into;
    }
    return 0;
}

/* The state line: a read, which changes nothing in the engine (eng_read.c). */
static int render(Srv *s, uint64_t h, int64_t now, JsonW *w) { return eng_entity_json(s->eng, h, now, w); }

static int entity(Srv *s, const char *kind, const char *key, int with_trace, char **out);

int srv_entity(Srv *s, const char *kind, const char *key, char **out) { return entity(s, kind, key, 1, out); }
int srv_entity_state(Srv *s, const char *kind, const char *key, char **out) { return entity(s, kind, key, 0, out); }

static int entity(Srv *s, const char *kind, const char *key, int with_trace, char **out)
{
    if (!atomic_load(&s->ready)) { *out = srv_err("not ready: the state is being rebuilt"); return 503; }
    pthread_mutex_lock(&s->emu);               /* the bundle matches the engine under emu */
    const DnaBundle *b = srv_b(s);
    uint32_t k = bundle_entity(b, kind);
    if (k == DNA_NIL) { pthread_mutex_unlock(&s->emu); *out = srv_err("no such entity kind"); return 404; }
    const DnaEntity *en = &b->entities[k];
    JsonW w;
    jw_init(&w);
    uint64_t *hs = NULL;
    size_t nh = 0;
    uint64_t h = 0;
    for (uint32_t i = 0; i < en->nidentity && !h; i++)
        h = s->st->ops->find(s->st, k, en->identity[i], key, (uint32_t)strlen(key));
    h = h ? root_of(s->eng, h) : 0;
    if (h) {
        /* at the later of the watermark and the entity's clock */
        pthread_mutex_lock(&s->mu);
        int64_t now = s->watermark;
        pthread_mutex_unlock(&s->mu);
        if (now == INT64_MIN) now = eng_clock(s->eng);
        now = eng_read_time(s->eng, h, now);
        jw_obj(&w);
        jw_key(&w, "state");
        if (!render(s, h, now, &w)) jw_null(&w);
        jw_key(&w, "at");
        jw_time(&w, now);
        if (!with_trace) {
            jw_end_obj(&w);
            pthread_mutex_unlock(&s->emu);
            *out = w.oom ? srv_err("out of memory") : strndup(w.p, w.n);
            jw_free(&w);
            return *out && !w.oom ? 200 : 503;
        }
        /* this entity and every entity merged into it */
        uint64_t cnt = eng_count(s->eng);
        hs = malloc(sizeof(uint64_t) * 16);
        size_t cap = hs ? 16 : 0;
        if (hs) hs[nh++] = h;
        for (uint64_t i = 1; hs && i <= cnt; i++) {
            Ent *y = eng_entity(s->eng, i);
            if (!y || !y->merged_into || root_of(s->eng, i) != h) continue;
            if (nh == cap) {
                uint64_t *n2 = realloc(hs, sizeof(uint64_t) * cap * 2);
                if (!n2) break;
                hs = n2;
                cap *= 2;
            }
            hs[nh++] = i;
        }
    }
    pthread_mutex_unlock(&s->emu);
    if (!h) { jw_free(&w); *out = srv_err("no such entity"); return 404; }
    /* the trace: the effects on it, newest TRACE_MAX, in the order produced */
    char *sql = malloc(nh * 24 + 200);
    size_t used = 0;
    if (sql) {
        used = (size_t)sprintf(sql, "SELECT line FROM effects WHERE tenant = '" DB_TENANT "' AND entity IN (");
        for (size_t i = 0; i < nh; i++) used += (size_t)sprintf(sql + used, "%s%llu", i ? "," : "", (unsigned long long)hs[i]);
        sprintf(sql + used, ") ORDER BY seq DESC LIMIT %d", TRACE_MAX + 1);
    }
    free(hs);
    char **lines = calloc(TRACE_MAX + 1, sizeof(char *));
    int *lens = calloc(TRACE_MAX + 1, sizeof(int));
    int nl = 0;
    pthread_mutex_lock(&s->rmu);
    sqlite3_stmt *st = NULL;
    if (sql && lines && lens && sqlite3_prepare_v2(s->rdb, sql, -1, &st, NULL) == SQLITE_OK)
        while (nl < TRACE_MAX + 1 && sqlite3_step(st) == SQLITE_ROW) {
            lens[nl] = sqlite3_column_bytes(st, 0);
            lines[nl] = strndup((const char *)sqlite3_column_text(st, 0), (size_t)lens[nl]);
            if (lines[nl]) nl++;
        }
    sqlite3_finalize(st);
    pthread_mutex_unlock(&s->rmu);
    free(sql);
    int truncated = nl > TRACE_MAX;
    jw_key(&w, "trace");
    jw_arr(&w);
    for (int i = (truncated ? TRACE_MAX : nl) - 1; i >= 0; i--) jw_raw(&w, lines[i], (size_t)lens[i]);
    jw_end_arr(&w);
    jw_key(&w, "trace_truncated");
    jw_bool(&w, truncated);
    jw_end_obj(&w);
    for (int i = 0; i < nl; i++) free(lines[i]);
    free(lines);
    free(lens);
    int bad = w.oom;
    *out = bad ? srv_err("out of memory") : strndup(w.p, w.n);
    jw_free(&w);
    return bad ? 503 : 200;
}

int srv_event(Srv *s, const char *id, char **out)
{
    JsonW w;
    jw_init(&w);
    int code = 404;
    pthread_mutex_lock(&s->rmu);
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(s->rdb, "SELECT seq, type, occurred_at, received_at, late, status, error, processed_at, "
                                   "(SELECT count(*) FROM effects f WHERE f.tenant = e.tenant AND f.event_id = e.id), "
                                   "(SELECT count(*) FROM outbox o WHERE o.tenant = e.tenant AND o.event_id = e.id AND o.status = 'history') "
                                   "FROM events e WHERE tenant = '" DB_TENANT "' AND id = ?", -1, &st, NULL) == SQLITE_OK) {
        sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
        if (sqlite3_step(st) == SQLITE_ROW) {
            code = 200;
            jw_obj(&w);
            jw_key(&w, "id"); jw_str(&w, id);
            jw_key(&w, "seq"); jw_int(&w, sqlite3_column_int64(st, 0));
            jw_key(&w, "type"); jw_str(&w, (const char *)sqlite3_column_text(st, 1));
            jw_key(&w, "occurred_at"); jw_time(&w, sqlite3_column_int64(st, 2));
            jw_key(&w, "received_at"); jw_time(&w, sqlite3_column_int64(st, 3));
            jw_key(&w, "late"); jw_bool(&w, sqlite3_column_int(st, 4));
            jw_key(&w, "status"); jw_str(&w, (const char *)sqlite3_column_text(st, 5));
            jw_key(&w, "error");
            if (sqlite3_column_type(st, 6) == SQLITE_NULL) jw_null(&w); else jw_str(&w, (const char *)sqlite3_column_text(st, 6));
            jw_key(&w, "processed_at");
            if (sqlite3_column_type(st, 7) == SQLITE_NULL) jw_null(&w); else jw_time(&w, sqlite3_column_int64(st, 7));
            jw_key(&w, "effects"); jw_int(&w, sqlite3_column_int64(st, 8));
            /* external effects recorded before the daemon went live: not delivered */
            jw_key(&w, "history"); jw_int(&w, sqlite3_column_int64(st, 9));
            jw_end_obj(&w);
        }
    } else code = 503;
    sqlite3_finalize(st);
    pthread_mutex_unlock(&s->rmu);
    if (code != 200) *out = srv_err("%s", code == 404 ? "no such event" : "store error");
    else *out = w.oom ? srv_err("out of memory") : strndup(w.p, w.n);
    jw_free(&w);
    return code;
}

static void type_counter(FILE *f, Srv *s, const char *name, const char *help, const uint64_t *v)
{
    fprintf(f, "# HELP %s %s (type \"builtin\": alert_ack, approval and connector_result envelopes)\n# TYPE %s counter\n", name, help, name);
    const DnaBundle *b = s->types_b;
    for (uint32_t t = 0; t < s->ntypes; t++)
        fprintf(f, "%s{type=\"%s\"} %llu\n", name, t + 1 < s->ntypes && t < b->nevents ? bundle_str(b, b->events[t].name) : "builtin",
                (unsigned long long)v[t]);
}

int srv_metrics(Srv *s, char **out)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    if (!f) { *out = srv_err("out of memory"); return 503; }
    uint64_t rule_runs = 0, entities = 0;
    pthread_mutex_lock(&s->emu);
    uint64_t entity_late = 0;
    if (s->eng) { rule_runs = eng_stats(s->eng)->rule_runs; entities = eng_count(s->eng); entity_late = eng_stats(s->eng)->late; }
    pthread_mutex_unlock(&s->emu);
    pthread_mutex_lock(&s->rmu);
    int64_t pending = db_scalar(s->rdb, "SELECT count(*) FROM events WHERE tenant = '" DB_TENANT "' AND status = 'pending'");
    int64_t outbox = db_scalar(s->rdb, "SELECT count(*) FROM outbox WHERE tenant = '" DB_TENANT "' AND status = 'pending'");
    int64_t dead = db_scalar(s->rdb, "SELECT count(*) FROM outbox WHERE tenant = '" DB_TENANT "' AND status = 'dead'");
    int64_t history = db_scalar(s->rdb, "SELECT count(*) FROM outbox WHERE tenant = '" DB_TENANT "' AND status = 'history'");
    pthread_mutex_unlock(&s->rmu);
    pthread_mutex_lock(&s->mu);
    int64_t live_at = s->live_at;
    type_counter(f, s, "dna_events_received_total", "Events accepted and durable, by type.", s->in_by_type);
    type_counter(f, s, "dna_events_processed_total", "Events the engine processed, by type.", s->done_by_type);
    type_counter(f, s, "dna_events_failed_total", "Events the engine refused at processing, by type.", s->failed_by_type);
    fprintf(f, "# HELP dna_bundle_info The bundle the worker runs (first 16 hex digits of its checksum).\n"
               "# TYPE dna_bundle_info gauge\ndna_bundle_info{id=\"%s\"} 1\n", s->bundle_id);
    fprintf(f, "# HELP dna_bundle_reloads_total Bundles loaded since start (SIGHUP, POST /v1/bundle).\n"
               "# TYPE dna_bundle_reloads_total counter\ndna_bundle_reloads_total %llu\n", (unsigned long long)s->reloads);
    fprintf(f, "# HELP dna_events_duplicate_total Envelopes whose id was accepted before (answered 200).\n"
               "# TYPE dna_events_duplicate_total counter\ndna_events_duplicate_total %llu\n", (unsigned long long)s->duplicates);
    fprintf(f, "# HELP dna_events_late_total Events older than the watermark when accepted.\n"
               "# TYPE dna_events_late_total counter\ndna_events_late_total %llu\n", (unsigned long long)s->late);
    fprintf(f, "# HELP dna_events_entity_late_total Events older than their entity's clock, evaluated at the clock.\n"
               "# TYPE dna_events_entity_late_total counter\ndna_events_entity_late_total %llu\n", (unsigned long long)entity_late);
    fprintf(f, "# HELP dna_live Whether the daemon is live (an accepted event came within the lateness of the wall clock).\n"
               "# TYPE dna_live gauge\ndna_live %d\n", live_at != INT64_MIN);
    fprintf(f, "# HELP dna_outbox_history External effects of evaluations before the daemon went live: recorded, not delivered.\n"
               "# TYPE dna_outbox_history gauge\ndna_outbox_history %lld\n", (long long)history);
    fprintf(f, "# HELP dna_requests_rejected_total Intake requests refused, by status.\n# TYPE dna_requests_rejected_total counter\n"
               "dna_requests_rejected_total{code=\"400\"} %llu\ndna_requests_rejected_total{code=\"401\"} %llu\n"
               "dna_requests_rejected_total{code=\"413\"} %llu\ndna_requests_rejected_total{code=\"422\"} %llu\n",
            (unsigned long long)s->rejected_400, (unsigned long long)s->unauthorized, (unsigned long long)s->rejected_413,
            (unsigned long long)s->rejected_422);
    fprintf(f, "# HELP dna_rule_runs_total Rule evaluations by the engine since start (rebuild included).\n"
               "# TYPE dna_rule_runs_total counter\ndna_rule_runs_total %llu\n", (unsigned long long)rule_runs);
    fprintf(f, "# HELP dna_effects_total Effects produced, by kind.\n# TYPE dna_effects_total counter\n");
    for (int k = 0; k < EFF__COUNT; k++)
        fprintf(f, "dna_effects_total{kind=\"%s\"} %llu\n", eng_effect_name((EffKind)k), (unsigned long long)s->effects[k]);
    fprintf(f, "# HELP dna_timers_fired_total Timers fired by the watermark while idle.\n"
               "# TYPE dna_timers_fired_total counter\ndna_timers_fired_total %llu\n", (unsigned long long)s->timers);
    fprintf(f, "# HELP dna_outbox_depth External effects waiting for delivery.\n"
               "# TYPE dna_outbox_depth gauge\ndna_outbox_depth %lld\n", (long long)outbox);
    fprintf(f, "# HELP dna_dead_letters Effects in the dead-letter queue (dnad dlq list).\n"
               "# TYPE dna_dead_letters gauge\ndna_dead_letters %lld\n", (long long)dead);
    fprintf(f, "# HELP dna_events_pending Accepted events not yet processed.\n"
               "# TYPE dna_events_pending gauge\ndna_events_pending %lld\n", (long long)pending);
    fprintf(f, "# HELP dna_entities Entities in the state.\n# TYPE dna_entities gauge\ndna_entities %llu\n",
            (unsigned long long)entities);
    fprintf(f, "# HELP dna_watermark_seconds The watermark timers fire against (Unix seconds).\n"
               "# TYPE dna_watermark_seconds gauge\ndna_watermark_seconds %.3f\n",
            s->watermark == INT64_MIN ? 0.0 : (double)s->watermark / 1000.0);
    fprintf(f, "# HELP dna_group_commits_total Intake transactions (each holds every request that was waiting).\n"
               "# TYPE dna_group_commits_total counter\ndna_group_commits_total %llu\n", (unsigned long long)s->commits);
    fprintf(f, "# HELP dna_intake_latency_ms Time from a complete POST body to its answer (202/200), ms.\n"
               "# TYPE dna_intake_latency_ms histogram\n");
    uint64_t cum = 0;
    for (int b = 0; b < SRV_LAT_BUCKETS; b++) {
        cum += s->lat_bucket[b];
        fprintf(f, "dna_intake_latency_ms_bucket{le=\"%g\"} %llu\n", srv_lat_bounds[b], (unsigned long long)cum);
    }
    cum += s->lat_bucket[SRV_LAT_BUCKETS];
    fprintf(f, "dna_intake_latency_ms_bucket{le=\"+Inf\"} %llu\ndna_intake_latency_ms_sum %.3f\ndna_intake_latency_ms_count %llu\n",
            (unsigned long long)cum, s->lat_sum, (unsigned long long)s->lat_count);
    fprintf(f, "# HELP dna_ready 1 when the state is rebuilt and the worker runs.\n# TYPE dna_ready gauge\ndna_ready %d\n",
            atomic_load(&s->ready));
    pthread_mutex_unlock(&s->mu);
    if (s->dlv) dlv_metrics(s->dlv, f);
    if (s->hc) {
        HcStats hs;
        hc_stats(s->hc, &hs);
        fprintf(f, "# HELP dna_http_connections Open HTTP connections (ops_only: beyond a limit, /healthz /readyz /metrics only).\n"
                   "# TYPE dna_http_connections gauge\ndna_http_connections{class=\"ordinary\"} %llu\n"
                   "dna_http_connections{class=\"ops_only\"} %llu\n",
                (unsigned long long)(hs.open - hs.ops_only), (unsigned long long)hs.ops_only);
        fprintf(f, "# HELP dna_http_connections_refused_total Connections closed at once: no room, even in the reserve.\n"
                   "# TYPE dna_http_connections_refused_total counter\ndna_http_connections_refused_total %llu\n",
                (unsigned long long)hs.refused);
        fprintf(f, "# HELP dna_http_connections_ops_only_total Connections taken beyond a limit (ops endpoints only).\n"
                   "# TYPE dna_http_connections_ops_only_total counter\ndna_http_connections_ops_only_total %llu\n",
                (unsigned long long)hs.ops_only_total);
        fprintf(f, "# HELP dna_http_connections_timed_out_total Connections closed with 408: headers or body too slow.\n"
                   "# TYPE dna_http_connections_timed_out_total counter\ndna_http_connections_timed_out_total %llu\n",
                (unsigned long long)hs.timed_out);
    }
    fclose(f);
    *out = buf;
    return 200;
}
