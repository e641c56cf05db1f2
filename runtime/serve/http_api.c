/*
 * http_api.c - the daemon's HTTP surface on libmicrohttpd (a thread per
 * connection, so concurrent intake requests wait together on one group
 * commit): routing, the bearer token, the body size limit (413 from the
 * Content-Length header before any of the body is read) and replies.
 *
 *   POST /v1/events                 one envelope or a JSON array (token)
 *   GET  /v1/events/{id}            status and error (token)
 *   GET  /v1/entities/{kind}/{key}  state line and trace (token)
 *   GET  /metrics                   Prometheus text (token)
 *   GET  /v1/alerts, /v1/approvals  lists (token; http_admin.c)
 *   POST /v1/alerts/{id}/ack        operator actions, through the intake
 *   POST /v1/approvals/{id}/approve|reject        (token; http_admin.c)
 *   POST /v1/sources/{name}         a tool's webhook: its signature, not
 *                                   the token; mapped onto an envelope
 *   GET  /healthz, /readyz          no token
 */
#include "serve/serve_int.h"
#include "base/json.h"
#include "base/mem.h"
#include "serve/http_conn.h"
#include "serve/webhook.h"

#include <arpa/inet.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <openssl/crypto.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

typedef struct Req {
    const DnaBundle *b;             /* the bundle src belongs to */
    const DnaSource *src;           /* a source webhook, or NULL: /v1/events */
    int bundle;                     /* POST /v1/bundle */
    int admin;                      /* an operator action (http_admin.c) */
    size_t limit;                   /* bytes of body kept */
    char *buf;
    size_t n, cap;
    size_t too_big;                 /* bytes dropped past the limit */
} Req;

#define BUNDLE_MAX_BYTES (64u << 20)

/* close: the request's framing is in doubt, read nothing more after it */
static enum MHD_Result reply_full(struct MHD_Connection *c, unsigned code, char *body, const char *ctype, int close)
{
    if (!body) { body = strdup("{\"error\":\"out of memory\"}"); code = 503; }
    if (!body) return MHD_NO;
    struct MHD_Response *r = MHD_create_response_from_buffer(strlen(body), body, MHD_RESPMEM_MUST_FREE);
    if (!r) { free(body); return MHD_NO; }
    MHD_add_response_header(r, "Content-Type", ctype);
    if (code == 401) MHD_add_response_header(r, "WWW-Authenticate", "Bearer");
    if (close || code == 503 || hc_close_after(hc_of(c))) {
        MHD_add_response_header(r, MHD_HTTP_HEADER_CONNECTION, "close");
        if (code == 503) MHD_add_response_header(r, MHD_HTTP_HEADER_RETRY_AFTER, "1");
    }
    enum MHD_Result ok = MHD_queue_response(c, code, r);
    MHD_destroy_response(r);
    return ok;
}

static enum MHD_Result reply(struct MHD_Connection *c, unsigned code, char *body, const char *ctype)
{
    return reply_full(c, code, body, ctype, 0);
}

static enum MHD_Result reply_json(struct MHD_Connection *c, unsigned code, char *body)
{
    return reply(c, code, body, "application/json");
}

static enum MHD_Result reply_err(struct MHD_Connection *c, unsigned code, const char *msg)
{
    char tmp[300];
    snprintf(tmp, sizeof tmp, "{\"error\":\"%s\"}", msg);   /* fixed messages without quotes */
    return reply_json(c, code, strdup(tmp));
}

static int authorized(Srv *s, struct MHD_Connection *c)
{
    if (s->cfg.no_auth) return 1;
    const char *h = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_AUTHORIZATION);
    if (!h || strncasecmp(h, "Bearer ", 7)) return 0;
    h += 7;
    while (*h == ' ') h++;
    size_t a = strlen(h), b = strlen(s->cfg.token);
    if (a != b) return 0;
    return CRYPTO_memcmp(h, s->cfg.token, a) == 0;
}

static void count(Srv *s, uint64_t *c)
{
    pthread_mutex_lock(&s->mu);
    (*c)++;
    pthread_mutex_unlock(&s->mu);
}

static const char *conn_header(void *ud, const char *name)
{
    return MHD_lookup_connection_value(ud, MHD_HEADER_KIND, name);
}

static const char *conn_arg(void *ud, const char *name)
{
    return MHD_lookup_connection_value(ud, MHD_GET_ARGUMENT_KIND, name);
}


/* A source webhook: the signature, then the map, then the intake. */
static enum MHD_Result source_post(Srv *s, struct MHD_Connection *c, Req *r)
{
    char why[256];
    const char *body = r->buf ? r->buf : "";
    if (wh_verify(r->b, r->src, body, r->n, conn_header, c, srv_wall_ms(), why, sizeof why)) {
        count(s, &s->unauthorized);
        slog("warn", "source signature refused", "source", SL_STR, bundle_str(r->b, r->src->name), "reason", SL_STR, why, NULL);
        return reply_json(c, 401, srv_err("%s", why));
    }
    JsonError je;
    json_t *root = dna_json_parse(body, r->n, &je);
    if (!root) {
        count(s, &s->rejected_400);
        char msg[300];
        snprintf(msg, sizeof msg, "malformed JSON at line %d, column %d: %s", je.line, je.column, je.text);
        return reply_json(c, 400, srv_err("%s", msg));
    }
    json_t *env = wh_map(r->b, r->src, root, conn_header, c, why, sizeof why);
    json_decref(root);
    if (!env) {
        count(s, &s->rejected_422);
        return reply_json(c, 422, srv_err("%s", why));
    }
    char *text = json_dumps(env, JSON_COMPACT);
    json_decref(env);
    if (!text) return reply_err(c, 503, "out of memory");
    char *out = NULL;
    int code = srv_intake(s, text, strlen(text), &out);
    free(text);
    return reply_json(c, (unsigned)code, out);
}

/* The dead-letter queue and disabled connectors (deliver.h). */
static enum MHD_Result dlq_request(Srv *s, struct MHD_Connection *c, const char *url, int get, int post)
{
    if (!strcmp(url, "/v1/dlq")) {
        if (!get) return reply_err(c, 405, "method not allowed");
        pthread_mutex_lock(&s->rmu);
        char *out = dlq_list(s->rdb, 1000);
        pthread_mutex_unlock(&s->rmu);
        return out ? reply_json(c, 200, out) : reply_err(c, 503, "store error");
    }
    if (!strcmp(url, "/v1/connectors")) {
        if (!get) return reply_err(c, 405, "method not allowed");
        if (!s->dlv) return reply_err(c, 404, "delivery is off (--no-delivery)");
        pthread_mutex_lock(&s->rmu);
        char *out = dlv_status(s->dlv, s->rdb);
        pthread_mutex_unlock(&s->rmu);
        return out ? reply_json(c, 200, out) : reply_err(c, 503, "store error");
    }
    if (!post) return reply_err(c, 405, "method not allowed");
    int r = -2;
    const char *done = NULL;
    if (!strncmp(url, "/v1/dlq/", 8)) {
        char *end;
        long long seq = strtoll(url + 8, &end, 10);
        if (end == url + 8 || seq < 1) return reply_err(c, 404, "no such dead letter");
        int retry = !strcmp(end, "/retry");
        if (!retry && strcmp(end, "/drop")) return reply_err(c, 404, "use /v1/dlq/{id}/retry or /v1/dlq/{id}/drop");
        pthread_mutex_lock(&s->rmu);
        pthread_mutex_lock(&s->wmu);
        r = retry ? dlq_retry(s->rdb, seq, srv_wall_ms()) : dlq_drop(s->rdb, seq, srv_wall_ms());
        pthread_mutex_unlock(&s->wmu);
        pthread_mutex_unlock(&s->rmu);
        done = retry ? "{\"status\":\"pending\"}" : "{\"status\":\"dropped\"}";
        if (r == 0) return reply_err(c, 404, "no such dead letter");
        if (r > 0) slog("info", retry ? "dead letter queued again" : "dead letter dropped", "outbox", SL_INT, (int64_t)seq, NULL);
    } else {
        const char *name = url + 15, *slash = strchr(name, '/');
        if (!slash || slash == name || strcmp(slash, "/enable")) return reply_err(c, 404, "use /v1/connectors/{name}/enable");
        char nbuf[128];
        snprintf(nbuf, sizeof nbuf, "%.*s", (int)(slash - name), name);
        const DnaBundle *b = srv_b(s);
        uint32_t ci = 0;
        while (ci < b->nconnectors && strcmp(bundle_str(b, b->connectors[ci].name), nbuf)) ci++;
        if (ci == b->nconnectors || (size_t)(slash - name) >= sizeof nbuf) return reply_err(c, 404, "no such connector");
        pthread_mutex_lock(&s->rmu);
        pthread_mutex_lock(&s->wmu);
        r = dlq_connector_enable(s->rdb, nbuf);
        pthread_mutex_unlock(&s->wmu);
        pthread_mutex_unlock(&s->rmu);
        done = r > 0 ? "{\"status\":\"enabled\"}" : "{\"status\":\"was not disabled\"}";
    }
    if (r < 0) return reply_err(c, 503, "store error");
    if (s->dlv) dlv_wake(s->dlv);
    return reply_json(c, 200, strdup(done));
}

/* Content-Length: decimal digits, and one value however many times it is
 * sent; not with Transfer-Encoding.  Else the body's end is in doubt (a
 * proxy in front may see another request in it): 400, and closed. */
typedef struct Framing { const char *cl; int bad, te; } Framing;

static enum MHD_Result framing_header(void *cls, enum MHD_ValueKind kind, const char *key, const char *value)
{
    (void)kind;
    Framing *f = cls;
    if (!strcasecmp(key, MHD_HTTP_HEADER_TRANSFER_ENCODING)) f->te = 1;
    if (strcasecmp(key, MHD_HTTP_HEADER_CONTENT_LENGTH)) return MHD_YES;
    if (!value || !*value || strspn(value, "0123456789") != strlen(value) || strlen(value) > 18) f->bad = 1;
    else if (f->cl && strcmp(f->cl, value)) f->bad = 2;
    f->cl = value;
    return MHD_YES;
}

static int framing_bad(struct MHD_Connection *c, char *why, size_t wl)
{
    Framing f = { NULL, 0, 0 };
    MHD_get_connection_values(c, MHD_HEADER_KIND, framing_header, &f);
    if (f.bad == 2) snprintf(why, wl, "two different Content-Length headers");
    else if (f.bad) snprintf(why, wl, "Content-Length is not a number of bytes");
    else if (f.cl && f.te) snprintf(why, wl, "both Content-Length and Transfer-Encoding");
    else return 0;
    return 1;
}

/* Ready: the state is rebuilt, no fatal store error, the database file is
 * still the one opened, and no write lock held elsewhere is being waited for. */
static enum MHD_Result readyz(Srv *s, struct MHD_Connection *c)
{
    char why[300];
    const char *status = "ready";
    if (atomic_load(&s->fatal)) status = "failed", snprintf(why, sizeof why, "a fatal store error: the daemon is stopping");
    else if (!atomic_load(&s->ready)) status = "starting", snprintf(why, sizeof why, "rebuilding the state");
    else if (s->hc && hc_draining(s->hc)) status = "stopping", snprintf(why, sizeof why, "draining for a stop");
    else if (s->have_dbid && db_same_file(s->cfg.db_path, &s->dbid, why, sizeof why)) status = "store file lost";
    else if (db_lock_waiting()) status = "waiting", snprintf(why, sizeof why, "waiting for the store's write lock, held by another process");
    if (!strcmp(status, "ready")) return reply_json(c, 200, strdup("{\"status\":\"ready\"}"));
    json_t *o = json_pack("{s:s,s:s}", "status", status, "reason", why);
    char *t = o ? json_dumps(o, JSON_COMPACT) : NULL;
    json_decref(o);
    return reply_json(c, 503, t);
}

/* A request with a body: refuse it by its Content-Length (413, before
 * reading it), else keep up to `limit` bytes of it in a new Req. */
enum { BODY_INTAKE, BODY_SOURCE, BODY_ADMIN, BODY_BUNDLE };

static enum MHD_Result begin_body(Srv *s, struct MHD_Connection *c, void **con_cls, int kind, size_t limit,
                                  const DnaBundle *b, const DnaSource *src)
{
    const char *cl = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
    if (cl && strtoull(cl, NULL, 10) > limit) {
        count(s, &s->rejected_413);
        return reply_err(c, 413, kind == BODY_BUNDLE ? "a bundle is at most 64 MiB" : "body over the size limit");
    }
    Req *r = dna_malloc(sizeof *r);
    if (!r) return MHD_NO;
    memset(r, 0, sizeof *r);
    r->b = b;
    r->src = src;
    r->admin = kind == BODY_ADMIN;
    r->bundle = kind == BODY_BUNDLE;
    r->limit = limit;
    *con_cls = r;
    return MHD_YES;
}

static enum MHD_Result handler(void *cls, struct MHD_Connection *c, const char *url, const char *method,
                               const char *version, const char *upload, size_t *upload_size, void **con_cls)
{
    (void)version;
    Srv *s = cls;
    int post = !strcmp(method, MHD_HTTP_METHOD_POST), get = !strcmp(method, MHD_HTTP_METHOD_GET);
    int intake = !strcmp(url, "/v1/events");
    Req *r = *con_cls;
    HcConn *k = hc_of(c);
    if (!r) {                                   /* the request's first call: its headers are in */
        int ops = get && (!strcmp(url, "/healthz") || !strcmp(url, "/readyz") || !strcmp(url, "/metrics"));
        int draining = s->hc && hc_begin(s->hc, k, !get);
        if (draining && !ops) return reply_err(c, 503, "shutting down");
        if (hc_ops_only(k) && !ops)
            return reply_err(c, 503, "too many connections: this one is answered for /healthz, /readyz and /metrics only");
        char why[160];
        if (framing_bad(c, why, sizeof why)) {
            count(s, &s->rejected_400);
            return reply_full(c, 400, srv_err("%s", why), "application/json", 1);
        }
    }
    if (!r && !strncmp(url, "/v1/sources/", 12)) {
        const DnaBundle *b = srv_b(s);
        const DnaSource *src = wh_find(b, url + 12);
        if (!src) return reply_err(c, 404, "no such source");
        if (!post) return reply_err(c, 405, "method not allowed");
        return begin_body(s, c, con_cls, BODY_SOURCE, s->cfg.max_body, b, src);
    }
    if (!r) {
        /* headers only: everything but an intake body is answered now */
        if (!strcmp(url, "/healthz")) {
            if (!get) return reply_err(c, 405, "method not allowed");
            return reply_json(c, 200, strdup("{\"status\":\"ok\"}"));
        }
        if (!strcmp(url, "/readyz")) {
            if (!get) return reply_err(c, 405, "method not allowed");
            return readyz(s, c);
        }
        int bundle = !strcmp(url, "/v1/bundle");
        int dlq = !strcmp(url, "/v1/dlq") || !strncmp(url, "/v1/dlq/", 8) || !strcmp(url, "/v1/connectors") ||
                  !strncmp(url, "/v1/connectors/", 15);
        int admin = srv_admin_path(url);
        int known = intake || bundle || dlq || admin || !strcmp(url, "/metrics") || !strncmp(url, "/v1/events/", 11) ||
                    !strncmp(url, "/v1/entities/", 13);
        if (!known) return reply_err(c, 404, "no such endpoint");
        if (!authorized(s, c)) {
            count(s, &s->unauthorized);
            return reply_err(c, 401, "missing or wrong bearer token");
        }
        if (admin && post)                      /* an action: its (optional) body first */
            return begin_body(s, c, con_cls, BODY_ADMIN, s->cfg.max_body, NULL, NULL);
        if (admin) {
            char *out = NULL;
            int code = srv_admin(s, method, url, conn_arg, c, NULL, 0, &out);
            return reply_json(c, (unsigned)code, out);
        }
        if (intake) {
            if (!post) return reply_err(c, 405, "method not allowed");
            return begin_body(s, c, con_cls, BODY_INTAKE, s->cfg.max_body, NULL, NULL);
        }
        if (dlq) return dlq_request(s, c, url, get, post);
        if (bundle) {
            if (get) {
                char tmp[160];
                pthread_mutex_lock(&s->mu);
                snprintf(tmp, sizeof tmp, "{\"bundle\":\"%s\",\"reloads\":%llu}", s->bundle_id, (unsigned long long)s->reloads);
                pthread_mutex_unlock(&s->mu);
                return reply_json(c, 200, strdup(tmp));
            }
            if (!post) return reply_err(c, 405, "method not allowed");
            return begin_body(s, c, con_cls, BODY_BUNDLE, BUNDLE_MAX_BYTES, NULL, NULL);
        }
        if (!get) return reply_err(c, 405, "method not allowed");
        char *out = NULL;
        int code;
        if (!strcmp(url, "/metrics")) {
            code = srv_metrics(s, &out);
            return reply(c, (unsigned)code, out, "text/plain; version=0.0.4");
        }
        if (!strncmp(url, "/v1/events/", 11)) {
            if (!url[11]) return reply_err(c, 404, "no such event");
            code = srv_event(s, url + 11, &out);
            return reply_json(c, (unsigned)code, out);
        }
        const char *kind = url + 13, *slash = strchr(kind, '/');
        if (!slash || !slash[1] || slash == kind) return reply_err(c, 404, "use /v1/entities/{kind}/{key}");
        char kbuf[128];
        snprintf(kbuf, sizeof kbuf, "%.*s", (int)(slash - kind), kind);
        code = srv_entity(s, kbuf, slash + 1, &out);
        return reply_json(c, (unsigned)code, out);
    }
    if (*upload_size) {                         /* a piece of the body */
        if (r->too_big || r->n + *upload_size > r->limit) {
            /* chunked (no Content-Length to refuse it by): a 413 cannot be
             * queued while the body comes.  What passes the limit is read
             * and dropped up to the limit once more, for a 413 at its end;
             * past that the connection is closed, unanswered */
            r->too_big += *upload_size;
            if (r->n + r->too_big > 2 * r->limit) {
                count(s, &s->rejected_413);
                slog("warn", "a chunked body passed twice the size limit: connection closed", "path", SL_STR, url, "limit",
                     SL_INT, (int64_t)r->limit, NULL);
                return MHD_NO;
            }
            *upload_size = 0;
            return MHD_YES;
        }
        if (r->n + *upload_size > r->cap) {
            size_t nc = r->cap ? r->cap : 4096;
            while (nc < r->n + *upload_size) nc *= 2;
            char *nb = dna_realloc(r->buf, r->cap, nc);
            if (!nb) return MHD_NO;
            r->buf = nb;
            r->cap = nc;
        }
        memcpy(r->buf + r->n, upload, *upload_size);
        r->n += *upload_size;
        *upload_size = 0;
        return MHD_YES;
    }
    hc_handling(s->hc, k);                      /* all of it is in: no deadline while it is served */
    if (r->too_big) {
        count(s, &s->rejected_413);
        return reply_err(c, 413, "body over the size limit");
    }
    char *out = NULL;
    if (r->admin) {
        int code = srv_admin(s, method, url, conn_arg, c, r->buf ? r->buf : "", r->n, &out);
        return reply_json(c, (unsigned)code, out);
    }
    if (r->src) return source_post(s, c, r);
    if (r->bundle) {                            /* empty: read the bundle file again */
        char msg[300];
        if (srv_reload(s, r->n ? r->buf : NULL, r->n, msg, sizeof msg)) return reply_json(c, 422, srv_err("%s", msg));
        json_t *o = json_pack("{s:s}", "bundle", msg);
        char *t = o ? json_dumps(o, JSON_COMPACT) : NULL;
        json_decref(o);
        return reply_json(c, 200, t);
    }
    int code = srv_intake(s, r->buf ? r->buf : "", r->n, &out);
    return reply_json(c, (unsigned)code, out);
}

static void completed(void *cls, struct MHD_Connection *c, void **con_cls, enum MHD_RequestTerminationCode toe)
{
    (void)toe;
    Srv *s = cls;
    if (s->hc) hc_done(s->hc, hc_of(c));
    Req *r = *con_cls;
    if (r) { dna_free(r->buf, r->cap); dna_free(r, sizeof *r); }
    *con_cls = NULL;
}

static void mhd_log(void *cls, const char *fmt, va_list ap)
{
    (void)cls;
    char msg[512];
    vsnprintf(msg, sizeof msg, fmt, ap);
    size_t n = strlen(msg);
    while (n && (msg[n - 1] == '\n' || msg[n - 1] == '\r')) msg[--n] = 0;
    slog("warn", "http", "detail", SL_STR, msg, NULL);
}

struct MHD_Daemon *http_start(Srv *s, char *err, size_t errlen)
{
    struct sockaddr_in sa;
    memset(&sa, 0, sizeof sa);
    sa.sin_family = AF_INET;
    sa.sin_port = htons(s->cfg.port);
    if (inet_pton(AF_INET, s->cfg.host, &sa.sin_addr) != 1) {
        snprintf(err, errlen, "'%s' is not an IPv4 address", s->cfg.host);
        return NULL;
    }
    HcConfig hcfg = { s->cfg.max_conns, s->cfg.max_conns_per_client ? s->cfg.max_conns_per_client : s->cfg.max_conns,
                      SRV_OPS_RESERVE, SRV_OPS_RESERVE_PER_CLIENT, s->cfg.header_timeout_ms, s->cfg.request_timeout_ms,
                      SRV_OPS_HEADER_MS };
    if (hcfg.header_ms <= 0) hcfg.header_ms = 10000;
    if (hcfg.request_ms <= 0) hcfg.request_ms = 60000;
    if (!(s->hc = hc_new(&hcfg))) { snprintf(err, errlen, "out of memory"); return NULL; }
    /* libmicrohttpd's own bound only backs ours up: a connection it refuses
     * is closed before anything is known of it */
    unsigned hard = s->cfg.max_conns + SRV_OPS_RESERVE + 64;
    struct MHD_Daemon *d = MHD_start_daemon(
        MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_POLL | MHD_USE_ITC | MHD_USE_ERROR_LOG,
        s->cfg.port, NULL, NULL, handler, s,
        MHD_OPTION_EXTERNAL_LOGGER, mhd_log, s,
        MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sa,
        MHD_OPTION_CONNECTION_LIMIT, hard,
        MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int)30,
        MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)SRV_HEADER_BYTES,
        MHD_OPTION_NOTIFY_COMPLETED, completed, s,
        MHD_OPTION_NOTIFY_CONNECTION, hc_notify, s->hc,
        MHD_OPTION_LISTENING_ADDRESS_REUSE, (unsigned int)1,
        MHD_OPTION_END);
    if (!d) {
        snprintf(err, errlen, "cannot listen on %s:%u (in use, or not permitted)", s->cfg.host, (unsigned)s->cfg.port);
        hc_free(s->hc);
        s->hc = NULL;
    }
    return d;
}

void http_quiesce(Srv *s, struct MHD_Daemon *d)
{
    MHD_socket fd = MHD_quiesce_daemon(d);
    if (fd != MHD_INVALID_SOCKET) close(fd);
    /* requests in flight run to their answer (the committer still runs);
     * new ones on kept-alive connections get 503 */
    int left = s->hc ? hc_drain(s->hc, SRV_DRAIN_MS) : 0;
    if (left) slog("warn", "stopped waiting for requests in flight", "requests", SL_INT, (int64_t)left, "waited_ms", SL_INT,
                   (int64_t)SRV_DRAIN_MS, NULL);
}

void http_stop(Srv *s, struct MHD_Daemon *d)
{
    MHD_stop_daemon(d);
    hc_free(s->hc);
    s->hc = NULL;
}
