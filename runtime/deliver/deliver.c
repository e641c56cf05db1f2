/*
 * deliver.c - the delivery loop (deliver.h): outbox rows to connectors
 * over libcurl's multi interface, and outcomes back into the store (the
 * dead-letter queue's operations are in dlq.c).
 *
 * Each pass of dlv_step: for every connector that may send now (set up,
 * not disabled, its breaker closed or admitting a probe, a rate token,
 * a free slot), read its due rows in outbox order; build and start their
 * requests; poll the sockets; record what finished.  Rows are not marked
 * while in flight: the loop remembers their seq, and a crash leaves them
 * pending, to be sent again with the same key.
 */
#include "deliver/deliver.h"
#include "base/clock.h"
#include "deliver/connector.h"
#include "base/json.h"
#include "base/mem.h"
#include "base/slog.h"

#include <curl/curl.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define TENANT "default"
#define RESP_MAX (1u << 20)         /* bytes of an answer kept */

typedef struct DConn {
    char *name;
    uint32_t index;                 /* in the bundle */
    ConnCfg cfg;
    int configured;                 /* cfg is usable (its environment is set) */
    char why[256];                  /* why not */
    int warned;
    int ordered;                    /* rest: one call at a time, in outbox order */
    int disabled;                   /* a 410 disabled it */
    ConnRate rate;
    ConnBreaker br;
    int inflight;
    char *wait_event;               /* ordered: the fed-back event that must be processed first */
    uint64_t sent, retried, dead, gone, failed_build, bad_answer;
} DConn;

typedef struct Flight {
    Dlv *d;
    DConn *c;
    int64_t seq;
    int64_t *group;                 /* a digest: the other rows it carries */
    int ngroup;
    int attempts;                   /* including this one */
    char *line, *kind, *key, *event_id;
    size_t len;
    CURL *h;
    struct curl_slist *hdrs;
    ConnReq req;
    char *resp;
    size_t rlen;
    int resp_cut;
    char retry_after[128];
    char errbuf[CURL_ERROR_SIZE];
    CURLcode res;                   /* the outcome, once finished */
    int bad;                        /* a 2xx answer the call cannot use (bad_answer) */
    ConnVerdict v;
    int what;
    long code;
    char err[400];
    struct Flight *next;
} Flight;

struct Dlv {
    DlvConfig cfg;
    DlvHooks hooks;
    const DnaBundle *b;
    CURLM *multi;
    DConn *conns;
    size_t nconns;
    Flight *flights;
    int inflight;
    uint64_t rng;
    pthread_mutex_t mu;             /* conns' counters and states, for dlv_metrics */
    uint64_t unknown_dead;          /* rows whose connector the bundle does not declare */
    int64_t last_orphan_check;
    int feeding;                    /* 0 after dlv_stop_feeding */
};

static int64_t now_ms(Dlv *d) { return d->hooks.now(d->hooks.ud); }

/* Every JSON text the loop reads (outbox lines, envelopes, answers) goes
 * through base/json.h: \u0000 inside a string is kept, never refused. */
static json_t *jparse(const char *s, size_t n)
{
    JsonError je;
    return s ? dna_json_parse(s, n, &je) : NULL;
}

/* ---- connectors ---------------------------------------------------------------------- */

static void conn_clear(DConn *c)
{
    dna_ufree(c->name);
    dna_ufree(c->wait_event);
    conn_config_free(&c->cfg);
}

static int is_disabled(Dlv *d, const char *name)
{
    sqlite3_stmt *st;
    int dis = 0;
    if (sqlite3_prepare_v2(d->cfg.db, "SELECT 1 FROM connector_state WHERE tenant = '" TENANT "' AND connector = ? "
                                      "AND disabled_at IS NOT NULL", -1, &st, NULL) != SQLITE_OK)
        return 0;
    sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
    dis = sqlite3_step(st) == SQLITE_ROW;
    sqlite3_finalize(st);
    return dis;
}

void dlv_set_bundle(Dlv *d, const DnaBundle *b)
{
    DConn *nc = dna_ucalloc(b->nconnectors ? b->nconnectors : 1, sizeof *nc);
    if (!nc) return;                /* keep the old table: better than none */
    for (uint32_t i = 0; i < b->nconnectors; i++) {
        DConn *c = &nc[i];
        c->name = dna_ustrdup(bundle_str(b, b->connectors[i].name));
        c->index = i;
        c->configured = conn_config(b, i, &c->cfg, c->why, sizeof c->why) == 0;
        c->ordered = c->configured && c->cfg.kind == CONN_REST;
        if (c->cfg.rate_n > 0) conn_rate_init(&c->rate, c->cfg.rate_n, c->cfg.rate_period_ms, c->cfg.rate_burst);
        conn_breaker_init(&c->br, 0, 0, 0, 0, 0);
        c->disabled = c->name && is_disabled(d, c->name);
        for (size_t j = 0; j < d->nconns; j++)          /* counters and state follow the name */
            if (c->name && !strcmp(d->conns[j].name, c->name)) {
                DConn *o = &d->conns[j];
                c->sent = o->sent; c->retried = o->retried; c->dead = o->dead; c->gone = o->gone;
                c->failed_build = o->failed_build;
                c->bad_answer = o->bad_answer;
                c->br = o->br;
                c->wait_event = o->wait_event;
                o->wait_event = NULL;
            }
    }
    pthread_mutex_lock(&d->mu);
    /* flights keep pointers into the old table: repoint them */
    for (Flight *f = d->flights; f; f = f->next) {
        if (!f->c) continue;
        DConn *to = NULL;
        for (uint32_t i = 0; i < b->nconnectors && !to; i++)
            if (nc[i].name && !strcmp(nc[i].name, f->c->name)) to = &nc[i];
        f->c = to;                  /* NULL: the connector is gone; the outcome is still recorded */
        if (to) to->inflight++;
    }
    for (size_t j = 0; j < d->nconns; j++) conn_clear(&d->conns[j]);
    dna_ufree(d->conns);
    d->conns = nc;
    d->nconns = b->nconnectors;
    d->b = b;
    d->last_orphan_check = INT64_MIN / 2;
    pthread_mutex_unlock(&d->mu);
}

int dlv_global_init(void)
{
    return curl_global_init_mem(CURL_GLOBAL_DEFAULT, dna_umalloc, dna_ufree, dna_urealloc, dna_ustrdup, dna_ucalloc) == CURLE_OK
               ? 0 : -1;
}

Dlv *dlv_new(const DnaBundle *b, const DlvConfig *cfg, const DlvHooks *hooks)
{
    Dlv *d = dna_ucalloc(1, sizeof *d);
    if (!d) return NULL;
    d->cfg = *cfg;
    d->hooks = *hooks;
    if (d->cfg.max_inflight <= 0) d->cfg.max_inflight = 64;
    if (d->cfg.per_connector <= 0) d->cfg.per_connector = 16;
    if (d->cfg.retry_base_ms <= 0) d->cfg.retry_base_ms = 1000;
    d->rng = cfg->seed ? cfg->seed : 0x9e3779b97f4a7c15ull;
    d->feeding = 1;
    d->last_orphan_check = INT64_MIN / 2;
    pthread_mutex_init(&d->mu, NULL);
    d->multi = curl_multi_init();
    if (!d->multi) { pthread_mutex_destroy(&d->mu); dna_ufree(d); return NULL; }
    dlv_set_bundle(d, b);
    return d;
}

static void flight_free(Flight *f)
{
    if (f->h) curl_easy_cleanup(f->h);
    curl_slist_free_all(f->hdrs);
    conn_req_free(&f->req);
    dna_ufree(f->resp);
    dna_ufree(f->line);
    dna_ufree(f->kind);
    dna_ufree(f->key);
    dna_ufree(f->event_id);
    dna_ufree(f->group);
    dna_ufree(f);
}

void dlv_free(Dlv *d)
{
    if (!d) return;
    for (Flight *f = d->flights, *n; f; f = n) {
        n = f->next;
        curl_multi_remove_handle(d->multi, f->h);
        flight_free(f);
    }
    curl_multi_cleanup(d->multi);
    for (size_t j = 0; j < d->nconns; j++) conn_clear(&d->conns[j]);
    dna_ufree(d->conns);
    pthread_mutex_destroy(&d->mu);
    dna_ufree(d);
}

void dlv_wake(Dlv *d) { curl_multi_wakeup(d->multi); }
void dlv_stop_feeding(Dlv *d) { d->feeding = 0; }
int dlv_inflight(Dlv *d) { return d->inflight; }

/* ---- the store ------------------------------------------------------------------------- */

static int tx_begin(Dlv *d)
{
    if (d->cfg.wmu) pthread_mutex_lock(d->cfg.wmu);
    if (sqlite3_exec(d->cfg.db, "BEGIN IMMEDIATE", NULL, NULL, NULL) == SQLITE_OK) return 0;
    if (d->cfg.wmu) pthread_mutex_unlock(d->cfg.wmu);
    return -1;
}

static int tx_end(Dlv *d, int ok)
{
    if (ok && sqlite3_exec(d->cfg.db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK) ok = 0;
    if (!ok) sqlite3_exec(d->cfg.db, "ROLLBACK", NULL, NULL, NULL);
    if (d->cfg.wmu) pthread_mutex_unlock(d->cfg.wmu);
    return ok ? 0 : -1;
}

static int exec_row(sqlite3 *db, const char *sql, int64_t seq, int attempts, int64_t next_at, long code,
                    const char *err, const char *resp, size_t rlen, int64_t done_at)
{
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK) return -1;
    sqlite3_bind_int(st, 1, attempts);
    sqlite3_bind_int64(st, 2, next_at);
    sqlite3_bind_int64(st, 3, (int64_t)code);
    if (err) sqlite3_bind_text(st, 4, err, -1, SQLITE_TRANSIENT); else sqlite3_bind_null(st, 4);
    if (resp) sqlite3_bind_text(st, 5, resp, (int)rlen, SQLITE_TRANSIENT); else sqlite3_bind_null(st, 5);
    if (done_at) sqlite3_bind_int64(st, 6, done_at); else sqlite3_bind_null(st, 6);
    sqlite3_bind_int64(st, 7, seq);
    int rc = sqlite3_step(st);
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? 0 : -1;
}

#define SQL_SENT  "UPDATE outbox SET status = 'sent', attempts = ?1, next_at = ?2, last_code = ?3, last_error = ?4, " \
                  "response = ?5, done_at = ?6 WHERE seq = ?7 AND status = 'pending'"
#define SQL_RETRY "UPDATE outbox SET attempts = ?1, next_at = ?2, last_code = ?3, last_error = ?4, response = ?5, " \
                  "done_at = ?6 WHERE seq = ?7 AND status = 'pending'"
#define SQL_DEAD  "UPDATE outbox SET status = 'dead', attempts = ?1, next_at = ?2, last_code = ?3, last_error = ?4, " \
                  "response = ?5, done_at = ?6 WHERE seq = ?7 AND status = 'pending'"

/* A row that cannot be sent at all (no such connector, a request that
 * cannot be built): to the dead-letter queue with the reason. */
static int bury_chain(Dlv *d, const DConn *c, int64_t seq, const char *event_id);

static int bury(Dlv *d, const DConn *c, int64_t seq, int attempts, long code, const char *why, const char *event_id)
{
    if (tx_begin(d)) return -1;
    int ok = exec_row(d->cfg.db, SQL_DEAD, seq, attempts, 0, code, why, NULL, 0, now_ms(d)) == 0;
    if (ok && c && c->ordered && event_id) ok = bury_chain(d, c, seq, event_id) == 0;
    return tx_end(d, ok);
}

/* The fed-back envelope into the events table: 0, -1 the store failed,
 * -2 the envelope is not one (the answer's fault, not the store's). */
static int insert_event(Dlv *d, const char *env, char *id_out, size_t idlen)
{
    json_t *j = jparse(env, strlen(env));
    json_t *jid = json_object_get(j, "id");
    const char *id = json_string_value(jid);
    const char *type = json_string_value(json_object_get(j, "type"));
    const char *at = json_string_value(json_object_get(j, "occurred_at"));
    int64_t occ = 0;
    int rc = -2;
    if (id && strlen(id) == json_string_length(jid) && type && at && !clk_parse(at, strlen(at), &occ)) {
        rc = -1;
        sqlite3_stmt *st;
        if (sqlite3_prepare_v2(d->cfg.db, "INSERT INTO events (tenant, id, type, occurred_at, received_at, body) "
                                          "VALUES ('" TENANT "', ?, ?, ?, ?, ?) ON CONFLICT (tenant, id) DO NOTHING",
                               -1, &st, NULL) == SQLITE_OK) {
            sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
            sqlite3_bind_text(st, 2, type, -1, SQLITE_STATIC);
            sqlite3_bind_int64(st, 3, occ);
            sqlite3_bind_int64(st, 4, now_ms(d));
            sqlite3_bind_text(st, 5, env, -1, SQLITE_STATIC);
            rc = sqlite3_step(st) == SQLITE_DONE ? 0 : -1;
            sqlite3_finalize(st);
            snprintf(id_out, idlen, "%s", id);
        }
    }
    json_decref(j);
    return rc;
}

static int event_pending(Dlv *d, const char *id)
{
    sqlite3_stmt *st;
    int pend = 0;
    if (sqlite3_prepare_v2(d->cfg.db, "SELECT 1 FROM events WHERE tenant = '" TENANT "' AND id = ? AND status = 'pending'",
                           -1, &st, NULL) != SQLITE_OK)
        return 1;
    sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
    pend = sqlite3_step(st) == SQLITE_ROW;
    sqlite3_finalize(st);
    return pend;
}

/* ---- one request ------------------------------------------------------------------------ */

static size_t on_body(char *p, size_t sz, size_t n, void *ud)
{
    Flight *f = ud;
    size_t k = sz * n;
    if (f->rlen + k > RESP_MAX) { f->resp_cut = 1; return k; }
    char *nb = dna_urealloc(f->resp, f->rlen + k + 1);
    if (!nb) { f->resp_cut = 1; return k; }
    memcpy(nb + f->rlen, p, k);
    f->rlen += k;
    nb[f->rlen] = 0;
    f->resp = nb;
    return k;
}

static size_t on_header(char *p, size_t sz, size_t n, void *ud)
{
    Flight *f = ud;
    size_t k = sz * n;
    if (k > 12 && !strncasecmp(p, "retry-after:", 12)) {
        const char *v = p + 12;
        while (*v == ' ' || *v == '\t') v++;
        size_t l = (size_t)(p + k - v);
        while (l && (v[l - 1] == '\r' || v[l - 1] == '\n' || v[l - 1] == ' ')) l--;
        snprintf(f->retry_after, sizeof f->retry_after, "%.*s", (int)l, v);
    }
    return k;
}

/* The entity {kind, key} an effect line names, as "kind\0key" pieces. */
static int line_entity(json_t *j, const char **kind, const char **key)
{
    json_t *e = json_object_get(j, "entity");
    *kind = json_string_value(json_object_get(e, "kind"));
    *key = json_string_value(json_object_get(e, "key"));
    return *kind && *key;
}

/* Build f->req for its row; 0, or -1 with why. */
static int build(Dlv *d, Flight *f, char *why, size_t whylen)
{
    DConn *c = f->c;
    json_t *j = jparse(f->line, f->len);
    if (!j) { snprintf(why, whylen, "the outbox line is not JSON"); return -1; }
    const char *kind, *key;
    char *state = NULL;
    if (c->cfg.kind != CONN_REST && !f->ngroup && d->hooks.entity && line_entity(j, &kind, &key))
        state = d->hooks.entity(d->hooks.ud, kind, key);
    int rc = -1;
    if (c->cfg.kind == CONN_SLACK) {
        rc = conn_slack(&c->cfg, f->line, f->len, state, f->key, &f->req, why, whylen);
    } else if (c->cfg.kind == CONN_WEBHOOK) {
        rc = conn_webhook(&c->cfg, f->line, f->len, state, f->key, now_ms(d), &f->req, why, whylen);
    } else {
        char *r = d->hooks.call_request ? d->hooks.call_request(d->hooks.ud, f->line, f->len, why, whylen) : NULL;
        json_t *rq = r ? jparse(r, strlen(r)) : NULL;
        const char *verb = json_string_value(json_object_get(rq, "verb"));
        const char *path = json_string_value(json_object_get(rq, "path"));
        char *body = rq ? json_dumps(json_object_get(rq, "body"), JSON_COMPACT | JSON_ENCODE_ANY) : NULL;
        if (verb && path && body) rc = conn_rest(&c->cfg, verb, path, body, strlen(body), f->key, &f->req, why, whylen);
        else if (r) snprintf(why, whylen, "the engine rendered no request");
        else if (!d->hooks.call_request) snprintf(why, whylen, "no engine to render the call");
        free(body);
        json_decref(rq);
        free(r);
    }
    free(state);
    json_decref(j);
    return rc;
}

/* 0: started (or buried: it can never be built); 1: the breaker holds it; -1: out of memory or store. */
static int start(Dlv *d, DConn *c, int64_t seq, int attempts, const char *line, size_t len, const char *kind,
                 const char *key, const char *event_id, int64_t now, int64_t *group, int ngroup)
{
    Flight *f = dna_ucalloc(1, sizeof *f);
    if (!f) { dna_ufree(group); return -1; }
    f->group = group;
    f->ngroup = ngroup;
    f->d = d;
    f->c = c;
    f->seq = seq;
    f->attempts = attempts + 1;
    f->line = dna_ustrndup(line, len);
    f->len = len;
    f->kind = dna_ustrdup(kind);
    f->key = dna_ustrdup(key);
    f->event_id = event_id ? dna_ustrdup(event_id) : NULL;
    char why[256] = "";
    if (!f->line || !f->kind || !f->key) { flight_free(f); return -1; }
    if (build(d, f, why, sizeof why)) {
        c->failed_build++;
        int rc = bury(d, c, seq, f->attempts, 0, why[0] ? why : "cannot build the request", event_id);
        slog("error", "cannot build the request: in the dead-letter queue", "connector", SL_STR, c->name, "outbox", SL_INT, seq,
             "error", SL_STR, why[0] ? why : "cannot build the request", NULL);
        flight_free(f);
        return rc;
    }
    pthread_mutex_lock(&d->mu);
    int allow = conn_breaker_allow(&c->br, now);        /* half-open: this is the probe */
    pthread_mutex_unlock(&d->mu);
    if (!allow) { flight_free(f); return 1; }
    f->h = curl_easy_init();
    if (!f->h) { flight_free(f); return -1; }
    for (size_t i = 0; i < f->req.nheaders; i++) {
        struct curl_slist *n = curl_slist_append(f->hdrs, f->req.headers[i]);
        if (!n) { flight_free(f); return -1; }
        f->hdrs = n;
    }
    curl_easy_setopt(f->h, CURLOPT_URL, f->req.url);
    curl_easy_setopt(f->h, CURLOPT_CUSTOMREQUEST, f->req.verb);
    curl_easy_setopt(f->h, CURLOPT_POSTFIELDS, f->req.body ? f->req.body : "");
    curl_easy_setopt(f->h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)f->req.bodylen);
    curl_easy_setopt(f->h, CURLOPT_HTTPHEADER, f->hdrs);
    curl_easy_setopt(f->h, CURLOPT_TIMEOUT_MS, (long)c->cfg.timeout_ms);
    curl_easy_setopt(f->h, CURLOPT_CONNECTTIMEOUT_MS, (long)(c->cfg.timeout_ms < 10000 ? c->cfg.timeout_ms : 10000));
    curl_easy_setopt(f->h, CURLOPT_FOLLOWLOCATION, 0L);     /* a redirect is an answer, judged below */
    curl_easy_setopt(f->h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(f->h, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(f->h, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(f->h, CURLOPT_WRITEDATA, f);
    curl_easy_setopt(f->h, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(f->h, CURLOPT_HEADERDATA, f);
    curl_easy_setopt(f->h, CURLOPT_ERRORBUFFER, f->errbuf);
    curl_easy_setopt(f->h, CURLOPT_PRIVATE, f);
    curl_easy_setopt(f->h, CURLOPT_USERAGENT, "dnad/0.1");
    if (curl_multi_add_handle(d->multi, f->h) != CURLM_OK) { flight_free(f); return -1; }
    f->next = d->flights;
    d->flights = f;
    d->inflight++;
    c->inflight++;
    return 0;
}

static int in_flight(Dlv *d, int64_t seq)
{
    for (Flight *f = d->flights; f; f = f->next) {
        if (f->seq == seq) return 1;
        for (int i = 0; i < f->ngroup; i++)
            if (f->group[i] == seq) return 1;
    }
    return 0;
}

/* ---- outcomes --------------------------------------------------------------------------- */

static int disable(Dlv *d, DConn *c, const char *why)
{
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(d->cfg.db, "INSERT INTO connector_state (tenant, connector, disabled_at, reason) VALUES ('" TENANT "', ?, ?, ?) "
                                      "ON CONFLICT (tenant, connector) DO UPDATE SET disabled_at = excluded.disabled_at, reason = excluded.reason",
                           -1, &st, NULL) != SQLITE_OK)
        return -1;
    sqlite3_bind_text(st, 1, c->name, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, now_ms(d));
    sqlite3_bind_text(st, 3, why, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st) == SQLITE_DONE ? 0 : -1;
    sqlite3_finalize(st);
    return rc;
}

static void dlog(const char *level, const char *msg, Flight *f, long code, const char *err);

/* A rest call failed for good: the later calls of its event on the same
 * connector (a `then` chain) would act on a state it never made. */
static int bury_chain(Dlv *d, const DConn *c, int64_t seq, const char *event_id)
{
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(d->cfg.db, "UPDATE outbox SET status = 'dead', last_code = 0, last_error = ?, done_at = ? "
                                      "WHERE tenant = '" TENANT "' AND connector = ? AND event_id = ? AND seq > ? AND status = 'pending'",
                           -1, &st, NULL) != SQLITE_OK)
        return -1;
    char why[96];
    snprintf(why, sizeof why, "an earlier call of its chain (outbox %lld) failed", (long long)seq);
    sqlite3_bind_text(st, 1, why, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(st, 2, now_ms(d));
    sqlite3_bind_text(st, 3, c->name, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 4, event_id, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 5, seq);
    int rc = sqlite3_step(st) == SQLITE_DONE ? 0 : -1;
    sqlite3_finalize(st);
    return rc;
}

enum { W_SENT, W_RETRY, W_DEAD, W_GONE };

/* Judge f's answer and write its outcome (inside the caller's transaction). */
/* A rest call's 2xx answer must give what its method's `set`s read: the
 * answer is JSON (within RESP_MAX) holding a value at every
 * `response.PATH`.  0, or 1 with why: a bad answer, which counts as a
 * failed attempt (tried again with the same key, then dead). */
static int bad_answer(Dlv *d, Flight *f, char *why, size_t wl)
{
    const DnaBundle *b = d->b;
    if (!f->c || f->c->index >= b->nconnectors) return 0;
    json_t *jl = jparse(f->line, f->len);
    const char *mn = json_string_value(json_object_get(json_object_get(jl, "detail"), "method"));
    const DnaConnector *cn = &b->connectors[f->c->index];
    const DnaMethod *m = NULL;
    for (uint32_t i = cn->method; mn && i < cn->method + cn->nmethods && i < b->nmethods && !m; i++)
        if (!strcmp(bundle_str(b, b->methods[i].name), mn)) m = &b->methods[i];
    json_decref(jl);
    int reads = 0;
    for (uint32_t i = 0; m && i < m->nassigns; i++) {
        const DnaAssign *as = &b->assigns[m->assign + i];
        reads += as->expr < b->njnodes && b->jnodes[as->expr].op == DJ_PATH;
    }
    if (!reads) return 0;                   /* nothing is read from it: any body will do */
    if (f->resp_cut) { snprintf(why, wl, "the answer is over %u bytes", RESP_MAX); return 1; }
    if (!f->rlen) { snprintf(why, wl, "the answer is empty"); return 1; }
    JsonError je;
    json_t *r = dna_json_parse(f->resp, f->rlen, &je);
    if (!r) { snprintf(why, wl, "the answer is not JSON (%s)", je.text); return 1; }
    int bad = 0;
    for (uint32_t i = 0; i < m->nassigns && !bad; i++) {
        const DnaAssign *as = &b->assigns[m->assign + i];
        if (as->expr >= b->njnodes || b->jnodes[as->expr].op != DJ_PATH) continue;
        const char *path = bundle_str(b, b->jnodes[as->expr].arg);
        if (!dna_json_path(r, path)) {
            snprintf(why, wl, "the answer has no value at response%s%.100s (for %.100s)", *path ? "." : "", path,
                     bundle_str(b, as->target));
            bad = 1;
        }
    }
    json_decref(r);
    return bad;
}

/* A rest call's answer as a `connector_result` envelope in the events
 * table: 0 (or nothing to feed back), -1 the store failed, 1 the answer
 * cannot be fed back (why says so). */
static int feed_back(Dlv *d, Flight *f, int64_t now, char *evid, size_t evlen, char *why, size_t wl)
{
    if (!d->hooks.call_result) return 0;
    /* the answer as it came (the engine reads numbers exactly); not JSON: null */
    json_t *jl = jparse(f->line, f->len);
    const char *at = json_string_value(json_object_get(jl, "at"));
    int64_t at_ms = now;
    if (at) clk_parse(at, strlen(at), &at_ms);
    json_decref(jl);
    char id[128];
    snprintf(id, sizeof id, "result-%s", f->key);
    char *env = d->hooks.call_result(d->hooks.ud, f->line, f->len, id, at_ms, f->rlen ? f->resp : "null", f->rlen ? f->rlen : 4);
    if (!env) return 0;                     /* the hook logged why: the call itself went through */
    int rc = insert_event(d, env, evid, evlen);
    free(env);
    if (rc == -2) { snprintf(why, wl, "the answer does not make a connector_result envelope"); return 1; }
    return rc;
}

/* Judge f's answer and write its outcome (inside the caller's transaction).
 * -1 only when the store fails: an answer, however bad, is an outcome of
 * its own row and never undoes the other rows of the transaction. */
static int record(Dlv *d, Flight *f, CURLcode res)
{
    if (res == CURLE_OK) curl_easy_getinfo(f->h, CURLINFO_RESPONSE_CODE, &f->code);
    int64_t now = now_ms(d), not_before = 0;
    f->v = conn_judge(f->code, res != CURLE_OK, f->retry_after[0] ? f->retry_after : NULL, now, &not_before);
    DConn *c = f->c;
    int rest = c && c->cfg.kind == CONN_REST;
    if (res != CURLE_OK) snprintf(f->err, sizeof f->err, "%s", f->errbuf[0] ? f->errbuf : curl_easy_strerror(res));
    else snprintf(f->err, sizeof f->err, "HTTP %ld%s%.200s", f->code, f->rlen ? ": " : "", f->resp ? f->resp : "");
    char evid[256] = "", bad[300] = "";
    int fb = 0;
    if (f->v == CONN_SENT && rest && !bad_answer(d, f, bad, sizeof bad)) {
        fb = feed_back(d, f, now, evid, sizeof evid, bad, sizeof bad);
        if (fb < 0) return -1;
    }
    f->bad = bad[0] != 0;
    if (f->bad) snprintf(f->err, sizeof f->err, "HTTP %ld, but %s", f->code, bad);
    int max_attempts = c && c->cfg.retries > 0 ? c->cfg.retries : 1;
    int retry = (f->v == CONN_RETRY || f->bad) && f->attempts < max_attempts;
    int sent = f->v == CONN_SENT && !f->bad;
    int64_t next = 0;
    if (retry) {
        next = now + conn_backoff_ms(f->attempts, &d->rng) * d->cfg.retry_base_ms / 1000;
        if (not_before > next) next = not_before;
    }
    int ok = 1;
    for (int i = 0; ok && i < f->ngroup; i++)         /* a digest's other rows share its outcome */
        ok = exec_row(d->cfg.db, sent ? SQL_SENT : retry ? SQL_RETRY : SQL_DEAD, f->group[i], f->attempts, next,
                      f->code, sent ? NULL : f->err, NULL, 0, retry ? 0 : now) == 0;
    if (!ok) return -1;
    if (sent) {
        ok = exec_row(d->cfg.db, SQL_SENT, f->seq, f->attempts, 0, f->code, NULL, rest ? f->resp : NULL, rest ? f->rlen : 0, now) == 0;
        if (ok && evid[0] && c) { dna_ufree(c->wait_event); c->wait_event = dna_ustrdup(evid); }
        f->what = W_SENT;
    } else if (retry) {
        ok = exec_row(d->cfg.db, SQL_RETRY, f->seq, f->attempts, next, f->code, f->err, f->bad ? f->resp : NULL,
                      f->bad ? f->rlen : 0, 0) == 0;
        f->what = W_RETRY;
    } else {
        ok = exec_row(d->cfg.db, SQL_DEAD, f->seq, f->attempts, 0, f->code, f->err, f->bad ? f->resp : NULL,
                      f->bad ? f->rlen : 0, now) == 0;
        if (ok && f->v == CONN_GONE && c) ok = disable(d, c, f->err) == 0;
        if (ok && c && c->ordered && f->event_id) ok = bury_chain(d, c, f->seq, f->event_id) == 0;
        f->what = f->v == CONN_GONE ? W_GONE : W_DEAD;
    }
    return ok ? 0 : -1;
}

/* After the outcomes are committed: counters, the breaker, logs. */
static void report(Dlv *d, Flight *f)
{
    DConn *c = f->c;
    pthread_mutex_lock(&d->mu);
    if (c) {
        if (f->what == W_SENT) c->sent++;
        else if (f->what == W_RETRY) c->retried++;
        else c->dead++;
        if (f->bad) c->bad_answer++;
        if (f->what == W_GONE) { c->gone++; c->disabled = 1; }
        conn_breaker_record(&c->br, now_ms(d), conn_verdict_ok_for_breaker(f->v));
    }
    pthread_mutex_unlock(&d->mu);
    if (f->bad && f->what == W_RETRY) dlog("warn", "bad answer to a call; will try again with the same key", f, f->code, f->err);
    else if (f->bad) dlog("error", "bad answer to a call, for good: in the dead-letter queue", f, f->code, f->err);
    else if (f->what == W_SENT) {
        dlog("info", "delivered", f, f->code, NULL);
        if (c && c->wait_event && d->hooks.fed_back) d->hooks.fed_back(d->hooks.ud);
    } else if (f->what == W_RETRY) dlog("warn", "delivery failed; will try again", f, f->code, f->err);
    else if (f->what == W_GONE) dlog("error", "ALERT: the connector answered 410 Gone and is disabled; its deliveries wait "
                                              "until `dnad connector enable` or POST /v1/connectors/NAME/enable", f, f->code, f->err);
    else dlog("error", "delivery failed for good: in the dead-letter queue", f, f->code, f->err);
}

/* ---- a pass ------------------------------------------------------------------------------ */

/* Rows whose connector the bundle does not declare can never leave. */
static int bury_orphans(Dlv *d)
{
    /* the store picks them out (from the pending index), not a scan here */
    char *sql = dna_umalloc(200 + 2 * d->nconns);
    if (!sql) return -1;
    size_t u = (size_t)sprintf(sql, "SELECT seq, connector, attempts FROM outbox WHERE tenant = '" TENANT "' AND status = 'pending' "
                                    "AND connector NOT IN (");
    for (size_t i = 0; i < d->nconns; i++) u += (size_t)sprintf(sql + u, "%s?", i ? "," : "");
    sprintf(sql + u, ") ORDER BY seq LIMIT 256");
    sqlite3_stmt *st;
    int prc = sqlite3_prepare_v2(d->cfg.db, sql, -1, &st, NULL);
    dna_ufree(sql);
    if (prc != SQLITE_OK) return -1;
    for (size_t i = 0; i < d->nconns; i++) sqlite3_bind_text(st, (int)i + 1, d->conns[i].name ? d->conns[i].name : "", -1, SQLITE_STATIC);
    int64_t seqs[256];
    int att[256];
    char names[256][64];
    int n = 0;
    while (n < 256 && sqlite3_step(st) == SQLITE_ROW) {
        const char *name = (const char *)sqlite3_column_text(st, 1);
        seqs[n] = sqlite3_column_int64(st, 0);
        att[n] = sqlite3_column_int(st, 2);
        snprintf(names[n], sizeof names[n], "%s", name ? name : "");
        n++;
    }
    sqlite3_finalize(st);
    for (int i = 0; i < n; i++) {
        if (in_flight(d, seqs[i])) continue;
        char why[160];
        snprintf(why, sizeof why, "connector '%s' is not declared in the bundle", names[i]);
        if (bury(d, NULL, seqs[i], att[i], 0, why, NULL)) return -1;
        slog("error", "a connector the bundle does not declare: in the dead-letter queue", "outbox", SL_INT, seqs[i],
             "connector", SL_STR, names[i], NULL);
        pthread_mutex_lock(&d->mu);
        d->unknown_dead++;
        pthread_mutex_unlock(&d->mu);
    }
    return 0;
}

/* A Slack notification a timer produced (a schedule such as a morning
 * digest) goes out with its siblings: the due rows of the same rule,
 * channel and time, up to DIGEST_MAX, as one message listing each.  0 with
 * *out NULL when it has none. */
#define DIGEST_MAX 50

static int digest(Dlv *d, DConn *c, int64_t seq, const char *line, size_t len, int64_t now, char **out, int64_t **group,
                  int *ngroup)
{
    *out = NULL;
    json_t *j = jparse(line, len);
    const char *rule = json_string_value(json_object_get(j, "rule"));
    const char *at = json_string_value(json_object_get(j, "at"));
    json_t *detail = json_object_get(j, "detail");
    const char *chan = json_string_value(json_object_get(detail, "channel"));
    const char *msg = json_string_value(json_object_get(detail, "message"));
    sqlite3_stmt *st = NULL;
    int rc = 0;
    if (!rule || !at || !chan || !msg) goto done;
    if (sqlite3_prepare_v2(d->cfg.db, "SELECT seq, line FROM outbox WHERE tenant = '" TENANT "' AND connector = ? AND status = 'pending' "
                                      "AND seq > ? AND next_at <= ? AND event_id IS NULL AND kind = 'notify' "
                                      "AND json_extract(line, '$.rule') = ? AND json_extract(line, '$.at') = ? "
                                      "AND json_extract(line, '$.detail.channel') = ? ORDER BY seq LIMIT ?",
                           -1, &st, NULL) != SQLITE_OK) { rc = -1; goto done; }
    sqlite3_bind_text(st, 1, c->name, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, seq);
    sqlite3_bind_int64(st, 3, now);
    sqlite3_bind_text(st, 4, rule, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 5, at, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 6, chan, -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 7, DIGEST_MAX - 1);
    int64_t *g = dna_umalloc(sizeof *g * DIGEST_MAX);
    char *text = NULL;
    size_t tl = 0;
    FILE *m = g ? open_memstream(&text, &tl) : NULL;
    if (!m) { dna_ufree(g); rc = -1; goto done; }
    fprintf(m, "• %s", msg);
    int n = 0;
    while (sqlite3_step(st) == SQLITE_ROW) {
        int64_t s2 = sqlite3_column_int64(st, 0);
        if (in_flight(d, s2)) continue;
        json_t *j2 = jparse((const char *)sqlite3_column_text(st, 1), (size_t)sqlite3_column_bytes(st, 1));
        const char *m2 = json_string_value(json_object_get(json_object_get(j2, "detail"), "message"));
        if (m2) { fprintf(m, "\n• %s", m2); g[n++] = s2; }
        json_decref(j2);
    }
    fclose(m);
    if (!n) { dna_ufree(g); free(text); goto done; }
    /* the first row's effect, carrying the list, about no one entity */
    json_object_set_new(detail, "message", json_string(text));
    json_object_del(j, "entity");
    free(text);
    *out = json_dumps(j, JSON_COMPACT);
    if (!*out) { dna_ufree(g); rc = -1; goto done; }
    *group = g;
    *ngroup = n;
done:
    sqlite3_finalize(st);
    json_decref(j);
    return rc;
}

static int feed(Dlv *d, DConn *c, int64_t now)
{
    if (!c->name) return 0;
    if (!c->configured) {
        if (!c->warned) {
            c->warned = 1;
            dlog("warn", "connector not configured: its deliveries wait in the outbox", &(Flight){ .c = c }, 0, c->why);
        }
        return 0;
    }
    if (c->disabled) return 0;
    int room = c->ordered ? 1 - c->inflight : d->cfg.per_connector - c->inflight;
    if (d->cfg.max_inflight - d->inflight < room) room = d->cfg.max_inflight - d->inflight;
    if (room <= 0) return 0;
    if (c->ordered && c->wait_event) {
        if (event_pending(d, c->wait_event)) return 0;
        dna_ufree(c->wait_event);
        c->wait_event = NULL;
    }
    sqlite3_stmt *st;
    const char *sql = c->ordered
        ? "SELECT seq, attempts, line, kind, idem_key, event_id, next_at FROM outbox WHERE tenant = '" TENANT "' AND connector = ? "
          "AND status = 'pending' ORDER BY seq LIMIT 1"
        : "SELECT seq, attempts, line, kind, idem_key, event_id, next_at FROM outbox WHERE tenant = '" TENANT "' AND connector = ? "
          "AND status = 'pending' AND next_at <= ? ORDER BY seq LIMIT ?";
    if (sqlite3_prepare_v2(d->cfg.db, sql, -1, &st, NULL) != SQLITE_OK) return -1;
    sqlite3_bind_text(st, 1, c->name, -1, SQLITE_STATIC);
    if (!c->ordered) {
        sqlite3_bind_int64(st, 2, now);
        sqlite3_bind_int(st, 3, room + c->inflight);     /* rows in flight come back too */
    }
    int rc = 0;
    while (room > 0 && sqlite3_step(st) == SQLITE_ROW) {
        int64_t seq = sqlite3_column_int64(st, 0);
        if (in_flight(d, seq)) continue;
        if (sqlite3_column_int64(st, 6) > now) break;   /* ordered: the head waits, and so do the rest */
        pthread_mutex_lock(&d->mu);
        int open = conn_breaker_state(&c->br, now) == CONN_OPEN || (c->br.state == CONN_HALF_OPEN && c->br.probe_out);
        pthread_mutex_unlock(&d->mu);
        if (open) break;
        if (c->cfg.rate_n > 0 && conn_rate_take(&c->rate, now) > 0) break;
        const char *line = (const char *)sqlite3_column_text(st, 2);
        size_t len = (size_t)sqlite3_column_bytes(st, 2);
        const char *kind = (const char *)sqlite3_column_text(st, 3);
        const char *key = (const char *)sqlite3_column_text(st, 4);
        const char *evid = (const char *)sqlite3_column_text(st, 5);
        int64_t *group = NULL;
        int ngroup = 0;
        char *dline = NULL;
        if (c->cfg.kind == CONN_SLACK && !evid && !strcmp(kind, "notify") && digest(d, c, seq, line, len, now, &dline, &group, &ngroup)) {
            rc = -1;
            break;
        }
        int r = dline ? start(d, c, seq, sqlite3_column_int(st, 1), dline, strlen(dline), kind, key, evid, now, group, ngroup)
                      : start(d, c, seq, sqlite3_column_int(st, 1), line, len, kind, key, evid, now, group, ngroup);
        free(dline);
        if (r < 0) { rc = -1; break; }
        if (r == 1) break;                                /* the breaker held it */
        room--;
    }
    sqlite3_finalize(st);
    return rc;
}

int dlv_step(Dlv *d, int wait_ms)
{
    int64_t now = now_ms(d);
    if (now - d->last_orphan_check >= 2000 || now < d->last_orphan_check) {
        d->last_orphan_check = now;
        if (bury_orphans(d)) return -1;
        for (size_t i = 0; i < d->nconns; i++) {      /* an operator may have enabled one */
            DConn *c = &d->conns[i];
            if (c->name && c->disabled && !is_disabled(d, c->name)) {
                pthread_mutex_lock(&d->mu);
                c->disabled = 0;
                pthread_mutex_unlock(&d->mu);
                slog("info", "connector enabled again", "connector", SL_STR, c->name, NULL);
            }
        }
    }
    for (size_t i = 0; d->feeding && i < d->nconns; i++)
        if (feed(d, &d->conns[i], now)) return -1;
    int running = 0;
    curl_multi_perform(d->multi, &running);
    if (wait_ms > 0 && (running > 0 || d->inflight == 0)) {   /* all finished already: record them now */
        curl_multi_poll(d->multi, NULL, 0, wait_ms, NULL);
        curl_multi_perform(d->multi, &running);
    }
    /* everything that finished, recorded in one transaction */
    Flight *fin = NULL;
    int done = 0;
    CURLMsg *m;
    int left;
    while ((m = curl_multi_info_read(d->multi, &left))) {
        if (m->msg != CURLMSG_DONE) continue;
        Flight *f = NULL;
        curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, (char **)&f);
        f->res = m->data.result;
        curl_multi_remove_handle(d->multi, m->easy_handle);
        for (Flight **pp = &d->flights; *pp; pp = &(*pp)->next)
            if (*pp == f) { *pp = f->next; break; }
        d->inflight--;
        if (f->c) f->c->inflight--;
        f->next = fin;
        fin = f;
        done++;
    }
    if (!fin) return 0;
    int began = tx_begin(d) == 0, ok = began;
    for (Flight *f = fin; ok && f; f = f->next) ok = record(d, f, f->res) == 0;
    if (began) ok = tx_end(d, ok) == 0;     /* commits, or rolls back what failed */
    for (Flight *f = fin, *n; f; f = n) {
        n = f->next;
        if (ok) report(d, f);       /* not recorded: still pending, sent again with the same key */
        flight_free(f);
    }
    if (!ok) return -1;
    return done;
}

/* ---- logs and metrics ----------------------------------------------------------------------- */

static void dlog(const char *level, const char *msg, Flight *f, long code, const char *err)
{
    slog(level, msg, "connector", SL_STR, f->c ? f->c->name : "?", "outbox", SL_INT, (int64_t)f->seq, "attempt", SL_INT,
         (int64_t)f->attempts, "kind", SL_STR, f->kind, "key", SL_STR, f->key, "status", SL_INT, (int64_t)code,
         "error", SL_STR, err, NULL);
}

void dlv_metrics(Dlv *d, FILE *f)
{
    pthread_mutex_lock(&d->mu);
    int64_t now = now_ms(d);
    fprintf(f, "# HELP dna_deliveries_total Delivery attempts by connector and outcome.\n# TYPE dna_deliveries_total counter\n");
    for (size_t i = 0; i < d->nconns; i++) {
        DConn *c = &d->conns[i];
        fprintf(f, "dna_deliveries_total{connector=\"%s\",outcome=\"sent\"} %llu\n", c->name, (unsigned long long)c->sent);
        fprintf(f, "dna_deliveries_total{connector=\"%s\",outcome=\"retry\"} %llu\n", c->name, (unsigned long long)c->retried);
        fprintf(f, "dna_deliveries_total{connector=\"%s\",outcome=\"dead\"} %llu\n", c->name, (unsigned long long)c->dead);
        fprintf(f, "dna_deliveries_total{connector=\"%s\",outcome=\"gone\"} %llu\n", c->name, (unsigned long long)c->gone);
        fprintf(f, "dna_deliveries_total{connector=\"%s\",outcome=\"unbuildable\"} %llu\n", c->name,
                (unsigned long long)c->failed_build);
        fprintf(f, "dna_deliveries_total{connector=\"%s\",outcome=\"bad_answer\"} %llu\n", c->name,
                (unsigned long long)c->bad_answer);
    }
    fprintf(f, "# HELP dna_breaker_state Circuit breaker per connector: 0 closed, 1 open, 2 half-open.\n"
               "# TYPE dna_breaker_state gauge\n");
    for (size_t i = 0; i < d->nconns; i++)
        fprintf(f, "dna_breaker_state{connector=\"%s\"} %d\n", d->conns[i].name, (int)conn_breaker_state(&d->conns[i].br, now));
    fprintf(f, "# HELP dna_connector_up 1 if the connector is configured and not disabled.\n# TYPE dna_connector_up gauge\n");
    for (size_t i = 0; i < d->nconns; i++)
        fprintf(f, "dna_connector_up{connector=\"%s\"} %d\n", d->conns[i].name, d->conns[i].configured && !d->conns[i].disabled);
    fprintf(f, "# HELP dna_deliveries_inflight Requests in flight.\n# TYPE dna_deliveries_inflight gauge\n"
               "dna_deliveries_inflight %d\n", d->inflight);
    pthread_mutex_unlock(&d->mu);
}

char *dlv_status(Dlv *d, sqlite3 *db)
{
    json_t *arr = json_array();
    pthread_mutex_lock(&d->mu);
    int64_t now = now_ms(d);
    for (size_t i = 0; arr && i < d->nconns; i++) {
        DConn *c = &d->conns[i];
        json_t *o = json_object();
        json_object_set_new(o, "name", json_string(c->name ? c->name : ""));
        json_object_set_new(o, "kind", json_string(conn_kind_name(c->cfg.kind)));
        json_object_set_new(o, "configured", json_boolean(c->configured));
        if (!c->configured) json_object_set_new(o, "why", json_string(c->why));
        json_object_set_new(o, "disabled", json_boolean(c->disabled));
        json_object_set_new(o, "breaker", json_string(conn_breaker_state_name(conn_breaker_state(&c->br, now))));
        json_object_set_new(o, "inflight", json_integer(c->inflight));
        json_object_set_new(o, "sent", json_integer((json_int_t)c->sent));
        json_object_set_new(o, "retried", json_integer((json_int_t)c->retried));
        json_object_set_new(o, "bad_answers", json_integer((json_int_t)c->bad_answer));
        json_object_set_new(o, "dead", json_integer((json_int_t)(c->dead + c->failed_build)));
        json_object_set_new(o, "outbox_pending", json_integer(0));
        json_object_set_new(o, "dead_letters", json_integer(0));
        json_array_append_new(arr, o);
    }
    pthread_mutex_unlock(&d->mu);
    /* what waits, and why a disabled one was */
    sqlite3_stmt *st;
    if (arr && sqlite3_prepare_v2(db, "SELECT connector, sum(status = 'pending'), sum(status = 'dead') FROM outbox "
                                      "WHERE tenant = '" TENANT "' AND status IN ('pending', 'dead') GROUP BY connector",
                                  -1, &st, NULL) == SQLITE_OK) {
        while (sqlite3_step(st) == SQLITE_ROW) {
            const char *name = (const char *)sqlite3_column_text(st, 0);
            for (size_t i = 0; name && i < json_array_size(arr); i++) {
                json_t *o = json_array_get(arr, i);
                if (strcmp(json_string_value(json_object_get(o, "name")), name)) continue;
                json_object_set_new(o, "outbox_pending", json_integer(sqlite3_column_int64(st, 1)));
                json_object_set_new(o, "dead_letters", json_integer(sqlite3_column_int64(st, 2)));
            }
        }
        sqlite3_finalize(st);
    }
    if (arr && sqlite3_prepare_v2(db, "SELECT connector, disabled_at, reason FROM connector_state WHERE tenant = '" TENANT "' "
                                      "AND disabled_at IS NOT NULL", -1, &st, NULL) == SQLITE_OK) {
        while (sqlite3_step(st) == SQLITE_ROW) {
            const char *name = (const char *)sqlite3_column_text(st, 0);
            for (size_t i = 0; name && i < json_array_size(arr); i++) {
                json_t *o = json_array_get(arr, i);
                if (strcmp(json_string_value(json_object_get(o, "name")), name)) continue;
                char t[32];
                clk_format(sqlite3_column_int64(st, 1), t);
                json_object_set_new(o, "disabled_at", json_string(t));
                json_object_set_new(o, "disabled_because", json_string((const char *)sqlite3_column_text(st, 2)));
            }
        }
        sqlite3_finalize(st);
    }
    json_t *root = arr ? json_pack("{s:o}", "connectors", arr) : NULL;
    char *out = root ? json_dumps(root, JSON_COMPACT) : NULL;
    json_decref(root);
    return out;
}
