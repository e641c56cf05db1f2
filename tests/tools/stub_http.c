/*
 * stub_http.c - a scripted local HTTP server for connector tests and
 * benchmarks (libmicrohttpd only).
 *
 *   stub_http --port 0 --log FILE [--delay-ms N] [--threads N]
 *
 * Listens on 127.0.0.1 and prints "port N" on stdout once it does.  Every
 * request to a path not starting with "/_" is appended to the log as one
 * JSON line {"t": ms, "method", "path", "headers": {lowercased names},
 * "body": string} and answered with the next scripted answer, or the
 * default (`200 {"ok":true}`) when the script is empty.  An answer line:
 *
 *   STATUS [retry-after=SECS] [retry-after-date=+SECS] [location=URL]
 *          [delay=MS] [BODY...]          e.g.  201 {"id":"cus_1"}
 *   hang MS [ANSWER]                     ANSWER (default 200) after MS ms
 *
 * Control (not logged, not counted):
 *   PUT  /_script   replace the script with the body's lines
 *   POST /_script   append the body's lines
 *   PUT  /_default  the answer when the script is empty (one line)
 *   GET  /_log      the log lines          GET /_count  requests received
 *   POST /_reset    empty the script, the log and the count; default back
 *
 * Delays (--delay-ms for every answer, `delay=`, `hang`) suspend the
 * connection and a timer thread resumes it, so a waiting request holds no
 * thread.  SIGTERM / SIGINT: pending delays end at once, then it stops.
 */
#include <microhttpd.h>

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#define MAX_BODY (16u << 20)

typedef struct Answer {
    int status;
    int delay_ms;               /* -1: the server's --delay-ms */
    int retry_after;            /* -1: none */
    int retry_date;             /* -1: none; else seconds from the answer's time */
    char *location;
    char *body;
} Answer;

typedef struct Buf { char *p; size_t n, cap; } Buf;

/* A request in progress. */
typedef struct Req {
    Buf body;
    int phase;                  /* 0 receiving, 1 suspended with `ans`, 2 answered */
    int too_big;
    int suspended;              /* counted in S.waiting until completed */
    Answer ans;
} Req;

typedef struct Pending { int64_t due; struct MHD_Connection *c; } Pending;

static struct {
    pthread_mutex_t mu;         /* script, default, log */
    Answer *q;
    size_t qhead, qn, qcap;
    Answer dflt;
    FILE *log;
    const char *log_path;
    Buf mem;                    /* the log when there is no file */
    atomic_ulong count;
    atomic_long waiting;        /* suspended requests not yet completed */
    int delay_ms;

    pthread_mutex_t tmu;        /* the timer heap */
    pthread_cond_t tcv;
    Pending *heap;
    size_t nheap, capheap;
    int stopping;
} S = { .mu = PTHREAD_MUTEX_INITIALIZER, .tmu = PTHREAD_MUTEX_INITIALIZER, .tcv = PTHREAD_COND_INITIALIZER };

static int64_t now_ms(clockid_t id)
{
    struct timespec ts;
    clock_gettime(id, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int buf_add(Buf *b, const void *p, size_t n)
{
    if (b->n + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 256;
        while (cap < b->n + n + 1) cap *= 2;
        char *q = realloc(b->p, cap);
        if (!q) return -1;
        b->p = q;
        b->cap = cap;
    }
    memcpy(b->p + b->n, p, n);
    b->n += n;
    b->p[b->n] = 0;
    return 0;
}

static void buf_fmt(Buf *b, const char *fmt, ...)
{
    char tmp[256];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    if (n > 0) buf_add(b, tmp, (size_t)n < sizeof tmp ? (size_t)n : sizeof tmp - 1);
}

/* A JSON string; bytes that are not UTF-8 become \u00XX. */
static void buf_jstr(Buf *b, const char *s, size_t n)
{
    buf_add(b, "\"", 1);
    for (size_t i = 0; i < n;) {
        unsigned char c = (unsigned char)s[i];
        if (c == '"' || c == '\\') { char e[2] = { '\\', (char)c }; buf_add(b, e, 2); i++; continue; }
        if (c < 0x20 || c == 0x7f) {
            const char *e = c == '\n' ? "\\n" : c == '\r' ? "\\r" : c == '\t' ? "\\t" : NULL;
            if (e) buf_add(b, e, 2); else buf_fmt(b, "\\u%04x", c);
            i++;
            continue;
        }
        if (c < 0x80) { buf_add(b, s + i, 1); i++; continue; }
        size_t len = c >= 0xf0 && c < 0xf5 ? 4 : c >= 0xe0 ? 3 : c >= 0xc2 && c < 0xe0 ? 2 : 0;
        if (c >= 0xf5) len = 0;
        int ok = len && i + len <= n;
        for (size_t k = 1; ok && k < len; k++) ok = ((unsigned char)s[i + k] & 0xc0) == 0x80;
        if (ok) { buf_add(b, s + i, len); i += len; }
        else { buf_fmt(b, "\\u%04x", c); i++; }
    }
    buf_add(b, "\"", 1);
}

/* ---- answers ------------------------------------------------------------------ */

static void answer_free(Answer *a)
{
    free(a->location);
    free(a->body);
    memset(a, 0, sizeof *a);
}

static Answer answer_copy(const Answer *a)
{
    Answer c = *a;
    c.location = a->location ? strdup(a->location) : NULL;
    c.body = a->body ? strdup(a->body) : NULL;
    return c;
}

static int int_token(const char **p, long lo, long hi, long *out)
{
    char *end;
    errno = 0;
    long v = strtol(*p, &end, 10);
    if (end == *p || errno || v < lo || v > hi || (*end && !isspace((unsigned char)*end))) return -1;
    *out = v;
    *p = end;
    return 0;
}

/* One script line (n bytes, no newline) into *a.  0, or -1. */
static int answer_parse(const char *s, size_t n, Answer *a)
{
    char *line = strndup(s, n);
    if (!line) return -1;
    memset(a, 0, sizeof *a);
    a->delay_ms = -1;
    a->retry_after = -1;
    a->retry_date = -1;
    const char *p = line;
    long v;
    int rc = -1;
    while (isspace((unsigned char)*p)) p++;
    if (!strncmp(p, "hang", 4) && isspace((unsigned char)p[4])) {
        p += 4;
        while (isspace((unsigned char)*p)) p++;
        if (int_token(&p, 0, 3600000, &v)) goto out;
        while (isspace((unsigned char)*p)) p++;
        if (*p) { if (answer_parse(p, strlen(p), a)) goto out; }
        else { a->status = 200; a->retry_after = a->retry_date = -1; }
        a->delay_ms = (int)v;
        rc = 0;
        goto out;
    }
    if (int_token(&p, 100, 599, &v)) goto out;
    a->status = (int)v;
    for (;;) {
        while (isspace((unsigned char)*p)) p++;
        if (!*p) break;
        if (!strncmp(p, "retry-after=", 12)) {
            p += 12;
            if (int_token(&p, 0, 100000000, &v)) goto out;
            a->retry_after = (int)v;
        } else if (!strncmp(p, "retry-after-date=", 17)) {
            p += 17;
            if (*p == '+') p++;
            if (int_token(&p, 0, 100000000, &v)) goto out;
            a->retry_date = (int)v;
        } else if (!strncmp(p, "delay=", 6)) {
            p += 6;
            if (int_token(&p, 0, 3600000, &v)) goto out;
            a->delay_ms = (int)v;
        } else if (!strncmp(p, "location=", 9)) {
            p += 9;
            const char *e = p;
            while (*e && !isspace((unsigned char)*e)) e++;
            free(a->location);
            a->location = strndup(p, (size_t)(e - p));
            p = e;
        } else {                                    /* the rest is the body */
            size_t bl = strlen(p);
            while (bl && isspace((unsigned char)p[bl - 1])) bl--;
            a->body = strndup(p, bl);
            break;
        }
    }
    rc = 0;
out:
    free(line);
    if (rc) answer_free(a);
    return rc;
}

/* Every line of text; -1 with the bad line's number in *bad. */
static int script_parse(const char *text, size_t n, Answer **out, size_t *nout, size_t *bad)
{
    Answer *v = NULL;
    size_t k = 0, cap = 0, lineno = 0;
    for (size_t i = 0; i < n;) {
        size_t e = i;
        while (e < n && text[e] != '\n') e++;
        lineno++;
        size_t s = i, t = e;
        while (s < t && isspace((unsigned char)text[s])) s++;
        while (t > s && isspace((unsigned char)text[t - 1])) t--;
        i = e + 1;
        if (s == t || text[s] == '#') continue;
        if (k == cap) {
            cap = cap ? cap * 2 : 16;
            Answer *nv = realloc(v, sizeof *v * cap);
            if (!nv) goto fail;
            v = nv;
        }
        if (answer_parse(text + s, t - s, &v[k])) goto fail;
        k++;
    }
    *out = v;
    *nout = k;
    return 0;
fail:
    for (size_t j = 0; j < k; j++) answer_free(&v[j]);
    free(v);
    *bad = lineno;
    return -1;
}

static void script_clear(void)
{
    for (size_t i = S.qhead; i < S.qn; i++) answer_free(&S.q[i]);
    S.qhead = S.qn = 0;
}

static void script_append(Answer *v, size_t n)
{
    if (S.qhead == S.qn) S.qhead = S.qn = 0;
    if (S.qn + n > S.qcap) {
        size_t cap = S.qcap ? S.qcap : 16;
        while (cap < S.qn + n) cap *= 2;
        Answer *q = realloc(S.q, sizeof *q * cap);
        if (!q) { for (size_t i = 0; i < n; i++) answer_free(&v[i]); return; }
        S.q = q;
        S.qcap = cap;
    }
    memcpy(S.q + S.qn, v, sizeof *v * n);
    S.qn += n;
}

static void default_reset(void)
{
    answer_free(&S.dflt);
    answer_parse("200 {\"ok\":true}", 15, &S.dflt);
}

/* ---- the timer thread ------------------------------------------------------------ */

static void heap_push(Pending p)
{
    if (S.nheap == S.capheap) {
        size_t cap = S.capheap ? S.capheap * 2 : 64;
        Pending *h = realloc(S.heap, sizeof *h * cap);
        if (!h) abort();                            /* a test tool: no memory, no test */
        S.heap = h;
        S.capheap = cap;
    }
    size_t i = S.nheap++;
    while (i && S.heap[(i - 1) / 2].due > p.due) { S.heap[i] = S.heap[(i - 1) / 2]; i = (i - 1) / 2; }
    S.heap[i] = p;
}

static Pending heap_pop(void)
{
    Pending top = S.heap[0], last = S.heap[--S.nheap];
    size_t i = 0;
    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= S.nheap) break;
        if (c + 1 < S.nheap && S.heap[c + 1].due < S.heap[c].due) c++;
        if (S.heap[c].due >= last.due) break;
        S.heap[i] = S.heap[c];
        i = c;
    }
    if (S.nheap) S.heap[i] = last;
    return top;
}

static void *timer_main(void *arg)
{
    (void)arg;
    struct MHD_Connection *due[256];
    pthread_mutex_lock(&S.tmu);
    for (;;) {
        size_t n = 0;
        int64_t t = now_ms(CLOCK_MONOTONIC);
        while (S.nheap && n < 256 && (S.stopping || S.heap[0].due <= t)) due[n++] = heap_pop().c;
        if (n) {
            pthread_mutex_unlock(&S.tmu);
            for (size_t i = 0; i < n; i++) MHD_resume_connection(due[i]);
            pthread_mutex_lock(&S.tmu);
            continue;
        }
        if (S.stopping) break;
        if (!S.nheap) { pthread_cond_wait(&S.tcv, &S.tmu); continue; }
        int64_t until = S.heap[0].due - t;
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        ts.tv_sec += until / 1000;
        ts.tv_nsec += (until % 1000) * 1000000;
        if (ts.tv_nsec >= 1000000000) { ts.tv_sec++; ts.tv_nsec -= 1000000000; }
        pthread_cond_timedwait(&S.tcv, &S.tmu, &ts);
    }
    pthread_mutex_unlock(&S.tmu);
    return NULL;
}

/* ---- requests ----------------------------------------------------------------------- */

typedef struct HdrCtx { Buf *b; int first; } HdrCtx;

static enum MHD_Result hdr_it(void *cls, enum MHD_ValueKind kind, const char *key, const char *value)
{
    (void)kind;
    HdrCtx *h = cls;
    char low[256];
    size_t n = strlen(key);
    if (n >= sizeof low) n = sizeof low - 1;
    for (size_t i = 0; i < n; i++) low[i] = (char)tolower((unsigned char)key[i]);
    if (!h->first) buf_add(h->b, ",", 1);
    h->first = 0;
    buf_jstr(h->b, low, n);
    buf_add(h->b, ":", 1);
    buf_jstr(h->b, value ? value : "", value ? strlen(value) : 0);
    return MHD_YES;
}

static void log_request(struct MHD_Connection *c, const char *method, const char *url, const Buf *body)
{
    Buf b = { 0 };
    buf_fmt(&b, "{\"t\":%lld,\"method\":", (long long)now_ms(CLOCK_REALTIME));
    buf_jstr(&b, method, strlen(method));
    buf_add(&b, ",\"path\":", 8);
    buf_jstr(&b, url, strlen(url));
    buf_add(&b, ",\"headers\":{", 12);
    HdrCtx h = { &b, 1 };
    MHD_get_connection_values(c, MHD_HEADER_KIND, hdr_it, &h);
    buf_add(&b, "},\"body\":", 9);
    buf_jstr(&b, body->p ? body->p : "", body->n);
    buf_add(&b, "}\n", 2);
    pthread_mutex_lock(&S.mu);
    if (S.log) { fwrite(b.p, 1, b.n, S.log); fflush(S.log); }
    else buf_add(&S.mem, b.p, b.n);
    pthread_mutex_unlock(&S.mu);
    free(b.p);
}

static enum MHD_Result reply(struct MHD_Connection *c, int status, const char *ctype, const char *body, size_t n,
                             const Answer *a)
{
    struct MHD_Response *r = MHD_create_response_from_buffer(n, (void *)body, MHD_RESPMEM_MUST_COPY);
    if (!r) return MHD_NO;
    if (ctype && n) MHD_add_response_header(r, "Content-Type", ctype);
    if (a) {
        char v[64];
        if (a->retry_after >= 0) {
            snprintf(v, sizeof v, "%d", a->retry_after);
            MHD_add_response_header(r, "Retry-After", v);
        }
        if (a->retry_date >= 0) {
            time_t t = time(NULL) + a->retry_date;
            struct tm tm;
            gmtime_r(&t, &tm);
            strftime(v, sizeof v, "%a, %d %b %Y %H:%M:%S GMT", &tm);
            MHD_add_response_header(r, "Retry-After", v);
        }
        if (a->location) MHD_add_response_header(r, "Location", a->location);
    }
    enum MHD_Result ok = MHD_queue_response(c, (unsigned)status, r);
    MHD_destroy_response(r);
    return ok;
}

static enum MHD_Result reply_text(struct MHD_Connection *c, int status, const char *text)
{
    return reply(c, status, "text/plain", text, strlen(text), NULL);
}

static enum MHD_Result answer(struct MHD_Connection *c, const Answer *a)
{
    char dflt[64];
    const char *body = a->body;
    if (!body) {
        if (a->status >= 200 && a->status < 300) body = a->status == 204 ? "" : "{\"ok\":true}";
        else { snprintf(dflt, sizeof dflt, "{\"error\":\"status %d\"}", a->status); body = dflt; }
    }
    if (a->status == 204 || a->status == 304) body = "";
    const char *ct = *body == '{' || *body == '[' ? "application/json" : "text/plain";
    return reply(c, a->status, ct, body, strlen(body), a);
}

static enum MHD_Result control(struct MHD_Connection *c, const char *method, const char *url, Req *q)
{
    const char *body = q->body.p ? q->body.p : "";
    if (!strcmp(url, "/_script") && (!strcmp(method, "PUT") || !strcmp(method, "POST"))) {
        Answer *v;
        size_t n, bad;
        if (script_parse(body, q->body.n, &v, &n, &bad)) {
            char msg[64];
            snprintf(msg, sizeof msg, "bad script line %zu\n", bad);
            return reply_text(c, 400, msg);
        }
        pthread_mutex_lock(&S.mu);
        if (!strcmp(method, "PUT")) script_clear();
        script_append(v, n);
        size_t left = S.qn - S.qhead;
        pthread_mutex_unlock(&S.mu);
        free(v);
        char msg[64];
        snprintf(msg, sizeof msg, "%zu\n", left);
        return reply_text(c, 200, msg);
    }
    if (!strcmp(url, "/_default") && !strcmp(method, "PUT")) {
        Answer a;
        size_t n = q->body.n;
        while (n && isspace((unsigned char)body[n - 1])) n--;
        if (!n || memchr(body, '\n', n) || answer_parse(body, n, &a)) return reply_text(c, 400, "bad answer line\n");
        pthread_mutex_lock(&S.mu);
        answer_free(&S.dflt);
        S.dflt = a;
        pthread_mutex_unlock(&S.mu);
        return reply_text(c, 200, "ok\n");
    }
    if (!strcmp(url, "/_count") && !strcmp(method, "GET")) {
        char msg[32];
        snprintf(msg, sizeof msg, "%lu\n", (unsigned long)atomic_load(&S.count));
        return reply_text(c, 200, msg);
    }
    if (!strcmp(url, "/_log") && !strcmp(method, "GET")) {
        Buf out = { 0 };
        pthread_mutex_lock(&S.mu);
        if (S.log) {
            fflush(S.log);
            FILE *f = fopen(S.log_path, "rb");
            char chunk[65536];
            size_t n;
            while (f && (n = fread(chunk, 1, sizeof chunk, f)) > 0) buf_add(&out, chunk, n);
            if (f) fclose(f);
        } else if (S.mem.n) buf_add(&out, S.mem.p, S.mem.n);
        pthread_mutex_unlock(&S.mu);
        enum MHD_Result r = reply(c, 200, "application/x-ndjson", out.p ? out.p : "", out.n, NULL);
        free(out.p);
        return r;
    }
    if (!strcmp(url, "/_reset") && !strcmp(method, "POST")) {
        pthread_mutex_lock(&S.mu);
        script_clear();
        default_reset();
        atomic_store(&S.count, 0);
        if (S.log) { fflush(S.log); if (ftruncate(fileno(S.log), 0)) { /* reported by the next read */ } rewind(S.log); }
        S.mem.n = 0;
        pthread_mutex_unlock(&S.mu);
        return reply_text(c, 200, "ok\n");
    }
    return reply_text(c, 404, "no such control\n");
}

static enum MHD_Result handler(void *cls, struct MHD_Connection *c, const char *url, const char *method,
                               const char *version, const char *upload, size_t *upload_size, void **con_cls)
{
    (void)cls;
    (void)version;
    Req *q = *con_cls;
    if (!q) {
        q = calloc(1, sizeof *q);
        if (!q) return MHD_NO;
        *con_cls = q;
        return MHD_YES;
    }
    if (*upload_size) {
        if (q->body.n + *upload_size > MAX_BODY) q->too_big = 1;
        else if (buf_add(&q->body, upload, *upload_size)) return MHD_NO;
        *upload_size = 0;
        return MHD_YES;
    }
    if (q->phase == 1) {                            /* resumed after its delay */
        q->phase = 2;
        return answer(c, &q->ans);
    }
    if (q->phase == 2) return MHD_YES;
    if (q->too_big) { q->phase = 2; return reply_text(c, 413, "too large\n"); }
    if (!strncmp(url, "/_", 2)) { q->phase = 2; return control(c, method, url, q); }

    log_request(c, method, url, &q->body);
    atomic_fetch_add(&S.count, 1);
    pthread_mutex_lock(&S.mu);
    q->ans = S.qhead < S.qn ? S.q[S.qhead++] : answer_copy(&S.dflt);
    pthread_mutex_unlock(&S.mu);
    int delay = q->ans.delay_ms >= 0 ? q->ans.delay_ms : S.delay_ms;
    if (delay > 0) {
        pthread_mutex_lock(&S.tmu);
        if (!S.stopping) {
            q->phase = 1;
            q->suspended = 1;
            atomic_fetch_add(&S.waiting, 1);
            MHD_suspend_connection(c);
            heap_push((Pending){ now_ms(CLOCK_MONOTONIC) + delay, c });
            pthread_cond_signal(&S.tcv);
            pthread_mutex_unlock(&S.tmu);
            return MHD_YES;
        }
        pthread_mutex_unlock(&S.tmu);
    }
    q->phase = 2;
    return answer(c, &q->ans);
}

static void completed(void *cls, struct MHD_Connection *c, void **con_cls, enum MHD_RequestTerminationCode toe)
{
    (void)cls;
    (void)c;
    (void)toe;
    Req *q = *con_cls;
    if (!q) return;
    if (q->suspended) atomic_fetch_sub(&S.waiting, 1);      /* answered (or the client left) */
    free(q->body.p);
    answer_free(&q->ans);
    free(q);
    *con_cls = NULL;
}

static void usage(void)
{
    fprintf(stderr, "usage: stub_http --port N --log FILE [--delay-ms N] [--threads N]\n");
    exit(2);
}

int main(int argc, char **argv)
{
    long port = -1, threads = 4;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (i + 1 >= argc) usage();
        const char *v = argv[++i];
        char *end;
        long n = strtol(v, &end, 10);
        if (!strcmp(a, "--log")) { S.log_path = v; continue; }
        if (*end || end == v) usage();
        if (!strcmp(a, "--port") && n >= 0 && n < 65536) port = n;
        else if (!strcmp(a, "--delay-ms") && n >= 0 && n <= 3600000) S.delay_ms = (int)n;
        else if (!strcmp(a, "--threads") && n >= 1 && n <= 256) threads = n;
        else usage();
    }
    if (port < 0) usage();
    if (S.log_path) {
        S.log = fopen(S.log_path, "a");
        if (!S.log) { perror(S.log_path); return 1; }
    }
    default_reset();

    /* signals: waited for in main, blocked in every thread */
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGPIPE);
    pthread_sigmask(SIG_BLOCK, &set, NULL);

    pthread_t timer;
    if (pthread_create(&timer, NULL, timer_main, NULL)) { fprintf(stderr, "stub_http: no timer thread\n"); return 1; }
    struct sockaddr_in sa;
    memset(&sa, 0, sizeof sa);
    sa.sin_family = AF_INET;
    sa.sin_port = htons((uint16_t)port);
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_AUTO | MHD_ALLOW_SUSPEND_RESUME | MHD_USE_ERROR_LOG;
    struct MHD_Daemon *d = MHD_start_daemon(
        flags, 0, NULL, NULL, handler, NULL,
        MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sa,
        MHD_OPTION_THREAD_POOL_SIZE, (unsigned int)threads,
        MHD_OPTION_CONNECTION_LIMIT, (unsigned int)4000,
        MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int)120,
        MHD_OPTION_LISTEN_BACKLOG_SIZE, (unsigned int)1024,
        MHD_OPTION_NOTIFY_COMPLETED, completed, NULL,
        MHD_OPTION_END);
    if (!d) { fprintf(stderr, "stub_http: cannot listen on 127.0.0.1:%ld\n", port); return 1; }
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT);
    printf("port %u\n", info ? (unsigned)info->port : (unsigned)port);
    fflush(stdout);

    int sig = 0;
    sigdelset(&set, SIGPIPE);
    while (sigwait(&set, &sig) == 0 && sig != SIGTERM && sig != SIGINT) {}

    /* no new connections; pending delays end now and are answered (for at
     * most 2 s); then stop */
    MHD_socket ls = MHD_quiesce_daemon(d);
    if (ls != MHD_INVALID_SOCKET) close(ls);
    pthread_mutex_lock(&S.tmu);
    S.stopping = 1;
    pthread_cond_signal(&S.tcv);
    pthread_mutex_unlock(&S.tmu);
    pthread_join(timer, NULL);
    for (int i = 0; i < 200 && atomic_load(&S.waiting) > 0; i++) usleep(10000);
    MHD_stop_daemon(d);
    pthread_mutex_lock(&S.mu);
    script_clear();
    free(S.q);
    answer_free(&S.dflt);
    if (S.log) fclose(S.log);
    free(S.mem.p);
    pthread_mutex_unlock(&S.mu);
    free(S.heap);
    return 0;
}
