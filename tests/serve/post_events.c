/*
 * post_events.c - a load and acceptance client for `dnad serve` (libcurl).
 *
 *   post_events URL TOKEN EVENTS.jsonl OUT [--conns N] [--batch K] [--rate R] [--healthz]
 *
 * Posts the envelopes of EVENTS.jsonl to URL/v1/events over N keep-alive
 * connections (threads), K envelopes per request (a JSON array when K > 1),
 * and writes OUT: one line per envelope, "STATUS ID", where STATUS is 202
 * (accepted now), 200 (a repeat), another HTTP status, or 0 (no answer:
 * the daemon was gone).  Prints requests, events, events/s and the p50/p99
 * latency of the answers.  With --healthz it also times GET /healthz over
 * the same connections for the ratio.  With --rate it paces the requests so
 * that R envelopes a second are offered in all (request k leaves at k*K/R
 * seconds, or as soon after as a connection is free), for latency at a
 * given load rather than at saturation.  Exit 0 unless it could not start.
 */
#include <curl/curl.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef struct Line { char *text; size_t len; char id[256]; int status; } Line;

static Line *lines;
static size_t nlines, next_req;
static int batch = 1;
static const char *url, *token;
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static double *lat;
static size_t nlat;
static int healthz;
static double rate, t_start;            /* --rate: envelopes per second; the run's start */

typedef struct Buf { char *p; size_t n; } Buf;

static size_t on_data(char *p, size_t sz, size_t n, void *ud)
{
    Buf *b = ud;
    char *q = realloc(b->p, b->n + sz * n + 1);
    if (!q) return 0;
    memcpy(q + b->n, p, sz * n);
    b->n += sz * n;
    q[b->n] = 0;
    b->p = q;
    return sz * n;
}

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static void *run(void *arg)
{
    (void)arg;
    CURL *c = curl_easy_init();
    char ev_url[1024], hz_url[1024], auth[512];
    snprintf(ev_url, sizeof ev_url, "%s/v1/events", url);
    snprintf(hz_url, sizeof hz_url, "%s/healthz", url);
    snprintf(auth, sizeof auth, "Authorization: Bearer %s", token);
    struct curl_slist *h = curl_slist_append(NULL, auth);
    h = curl_slist_append(h, "Content-Type: application/json");
    h = curl_slist_append(h, "Expect:");
    char *body = NULL;
    size_t cap = 0;
    for (;;) {
        pthread_mutex_lock(&mu);
        size_t a = next_req;
        next_req += (size_t)batch;
        pthread_mutex_unlock(&mu);
        if (a >= nlines) break;
        if (rate > 0) {                                 /* open loop: wait for this request's time */
            double due = t_start + (double)a * 1000.0 / rate, t = now_ms();
            if (due > t) {
                struct timespec ts = { (time_t)((due - t) / 1000), (long)(fmod(due - t, 1000.0) * 1e6) };
                nanosleep(&ts, NULL);
            }
        }
        size_t b = a + (size_t)batch > nlines ? nlines : a + (size_t)batch;
        size_t need = 3;
        for (size_t i = a; i < b; i++) need += lines[i].len + 1;
        if (need > cap) { cap = need * 2; body = realloc(body, cap); }
        size_t n = 0;
        if (batch > 1) body[n++] = '[';
        for (size_t i = a; i < b; i++) {
            if (i > a) body[n++] = ',';
            memcpy(body + n, lines[i].text, lines[i].len);
            n += lines[i].len;
        }
        if (batch > 1) body[n++] = ']';
        Buf resp = { NULL, 0 };
        curl_easy_reset(c);
        curl_easy_setopt(c, CURLOPT_URL, ev_url);
        curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
        curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)n);
        curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_data);
        curl_easy_setopt(c, CURLOPT_WRITEDATA, &resp);
        curl_easy_setopt(c, CURLOPT_TIMEOUT, 60L);
        double t0 = now_ms();
        CURLcode rc = curl_easy_perform(c);
        double dt = now_ms() - t0;
        long code = 0;
        if (rc == CURLE_OK) curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
        /* per envelope: accepted (in "accepted") or a repeat */
        const char *acc = resp.p ? strstr(resp.p, "\"accepted\":[") : NULL;
        const char *dup = resp.p ? strstr(resp.p, "\"duplicates\":[") : NULL;
        for (size_t i = a; i < b; i++) {
            int st = (int)code;
            if ((code == 202 || code == 200) && acc && dup) {
                char pat[300];
                snprintf(pat, sizeof pat, "\"%s\"", lines[i].id);
                const char *f = strstr(acc, pat);
                st = f && f < dup ? 202 : 200;
            }
            lines[i].status = st;
        }
        free(resp.p);
        pthread_mutex_lock(&mu);
        if (code == 202 || code == 200) lat[nlat++] = dt;
        pthread_mutex_unlock(&mu);
    }
    free(body);
    curl_slist_free_all(h);
    curl_easy_cleanup(c);
    return NULL;
}

static int cmpd(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double healthz_rate(int conns)
{
    /* simple: one connection, 2000 GETs, per second; times conns */
    CURL *c = curl_easy_init();
    char hz[1024];
    snprintf(hz, sizeof hz, "%s/healthz", url);
    Buf sink = { NULL, 0 };
    curl_easy_setopt(c, CURLOPT_URL, hz);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_data);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &sink);
    double t0 = now_ms();
    int n = 2000;
    for (int i = 0; i < n; i++) { curl_easy_perform(c); sink.n = 0; }
    double dt = now_ms() - t0;
    free(sink.p);
    curl_easy_cleanup(c);
    (void)conns;
    return n / (dt / 1e3);
}

int main(int argc, char **argv)
{
    if (argc < 5) {
        fprintf(stderr, "usage: post_events URL TOKEN EVENTS.jsonl OUT [--conns N] [--batch K] [--rate R] [--healthz]\n");
        return 2;
    }
    url = argv[1];
    token = argv[2];
    int conns = 4;
    for (int i = 5; i < argc; i++) {
        if (!strcmp(argv[i], "--conns") && i + 1 < argc) conns = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--batch") && i + 1 < argc) batch = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--rate") && i + 1 < argc) rate = atof(argv[++i]);
        else if (!strcmp(argv[i], "--healthz")) healthz = 1;
        else { fprintf(stderr, "post_events: unknown option %s\n", argv[i]); return 2; }
    }
    if (conns < 1) conns = 1;
    if (batch < 1) batch = 1;
    FILE *f = fopen(argv[3], "rb");
    if (!f) { perror(argv[3]); return 2; }
    char *ln = NULL;
    size_t lcap = 0, cap = 0;
    ssize_t n;
    while ((n = getline(&ln, &lcap, f)) > 0) {
        while (n && (ln[n - 1] == '\n' || ln[n - 1] == '\r')) ln[--n] = 0;
        if (!n) continue;
        if (nlines == cap) { cap = cap ? cap * 2 : 1024; lines = realloc(lines, cap * sizeof *lines); }
        Line *L = &lines[nlines++];
        memset(L, 0, sizeof *L);
        L->text = strndup(ln, (size_t)n);
        L->len = (size_t)n;
        const char *p = strstr(ln, "\"id\"");
        if (p && (p = strchr(p + 4, '"'))) {
            const char *e = strchr(p + 1, '"');
            if (e) snprintf(L->id, sizeof L->id, "%.*s", (int)(e - p - 1), p + 1);
        }
    }
    free(ln);
    fclose(f);
    lat = calloc(nlines + 1, sizeof(double));
    curl_global_init(CURL_GLOBAL_DEFAULT);
    pthread_t *t = calloc((size_t)conns, sizeof *t);
    double t0 = now_ms();
    t_start = t0;
    for (int i = 0; i < conns; i++) pthread_create(&t[i], NULL, run, NULL);
    for (int i = 0; i < conns; i++) pthread_join(t[i], NULL);
    double dt = now_ms() - t0;
    FILE *o = fopen(argv[4], "wb");
    if (!o) { perror(argv[4]); return 2; }
    size_t acc = 0;
    for (size_t i = 0; i < nlines; i++) {
        fprintf(o, "%d %s\n", lines[i].status, lines[i].id);
        acc += lines[i].status == 202;
    }
    fclose(o);
    qsort(lat, nlat, sizeof(double), cmpd);
    double p50 = nlat ? lat[nlat / 2] : 0, p99 = nlat ? lat[(size_t)((double)nlat * 0.99)] : 0;
    printf("post_events: %zu envelopes in %zu requests over %d connections, batch %d: %.3f s, %.0f envelopes/s "
           "(%zu accepted now); latency to answer p50 %.2f ms, p99 %.2f ms\n",
           nlines, nlat, conns, batch, dt / 1e3, (double)nlines / (dt / 1e3), acc, p50, p99);
    if (healthz) {
        double hz = healthz_rate(conns);
        printf("post_events: GET /healthz on one connection: %.0f requests/s; intake requests/s over healthz: %.2f\n", hz,
               ((double)nlat / (dt / 1e3)) / hz);
    }
    for (size_t i = 0; i < nlines; i++) free(lines[i].text);
    free(lines);
    free(lat);
    free(t);
    curl_global_cleanup();
    return 0;
}
