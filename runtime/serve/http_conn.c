/*
 * http_conn.c - connection limits, deadlines for slow clients and the drain
 * at stop (http_conn.h).
 */
#include "serve/http_conn.h"
#include "base/mem.h"
#include "base/slog.h"

#include <netinet/in.h>
#include <pthread.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

typedef enum { HC_IDLE, HC_BODY, HC_HANDLING } HcState;

#define HC_SETTLE_MS 250

struct HcConn {
    HcConn *prev, *next;
    HttpConns *owner;
    int fd;
    uint32_t ip;                    /* network order; 0: not IPv4 */
    int ops_only;
    int closing;                    /* the reaper shut it down */
    int in_request;                 /* counted in inflight */
    unsigned served;                /* requests answered on it */
    HcState state;
    int64_t since;                  /* monotonic ms: the current deadline's start */
};

struct HttpConns {
    HcConfig cfg;
    pthread_mutex_t mu;
    pthread_cond_t cond;            /* the reaper's tick; the drain's wake-up */
    HcConn *head;
    unsigned ordinary, ops_only;
    int inflight;
    int64_t last_begin;             /* monotonic ms of the latest request begun */
    int draining, stop;
    pthread_t reaper;
    uint64_t refused, timed_out, ops_only_total, drained;
};

static int64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static const char http_408[] = "HTTP/1.1 408 Request Timeout\r\nConnection: close\r\nContent-Type: application/json\r\n"
                               "Content-Length: 45\r\n\r\n{\"error\":\"the request took too long to come\"}";

/* Close k's socket under the daemon's feet (its thread sees EOF and ends). */
static void cut(HcConn *k, int say_408)
{
    if (k->closing || k->fd < 0) return;
    k->closing = 1;
    if (say_408) (void)!send(k->fd, http_408, sizeof http_408 - 1, MSG_DONTWAIT | MSG_NOSIGNAL);
    shutdown(k->fd, SHUT_RDWR);
}

static void *reaper(void *arg)
{
    HttpConns *h = arg;
    pthread_mutex_lock(&h->mu);
    while (!h->stop) {
        int64_t now = mono_ms();
        for (HcConn *k = h->head; k; k = k->next) {
            int64_t limit = k->state == HC_IDLE ? (k->ops_only ? h->cfg.ops_header_ms : h->cfg.header_ms)
                          : k->state == HC_BODY ? h->cfg.request_ms : 0;
            if (!limit || k->closing || now - k->since <= limit) continue;
            h->timed_out++;
            /* an idle kept-alive connection is closed without a word: a
             * client may be sending its next request on it right now */
            cut(k, k->state != HC_IDLE || k->served == 0);
        }
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_nsec += 100 * 1000000L;
        if (ts.tv_nsec >= 1000000000L) { ts.tv_sec++; ts.tv_nsec -= 1000000000L; }
        pthread_cond_timedwait(&h->cond, &h->mu, &ts);
    }
    pthread_mutex_unlock(&h->mu);
    return NULL;
}

HttpConns *hc_new(const HcConfig *cfg)
{
    HttpConns *h = dna_malloc(sizeof *h);
    if (!h) return NULL;
    memset(h, 0, sizeof *h);
    h->cfg = *cfg;
    pthread_mutex_init(&h->mu, NULL);
    pthread_cond_init(&h->cond, NULL);
    if (pthread_create(&h->reaper, NULL, reaper, h)) {
        pthread_cond_destroy(&h->cond);
        pthread_mutex_destroy(&h->mu);
        dna_free(h, sizeof *h);
        return NULL;
    }
    return h;
}

void hc_free(HttpConns *h)
{
    if (!h) return;
    pthread_mutex_lock(&h->mu);
    h->stop = 1;
    pthread_cond_broadcast(&h->cond);
    pthread_mutex_unlock(&h->mu);
    pthread_join(h->reaper, NULL);
    for (HcConn *k = h->head, *n; k; k = n) { n = k->next; dna_free(k, sizeof *k); }
    pthread_cond_destroy(&h->cond);
    pthread_mutex_destroy(&h->mu);
    dna_free(h, sizeof *h);
}

static void count_client(HttpConns *h, uint32_t ip, unsigned *ordinary, unsigned *ops)
{
    *ordinary = *ops = 0;
    for (HcConn *k = h->head; k; k = k->next)
        if (k->ip == ip) { if (k->ops_only) (*ops)++; else (*ordinary)++; }
}

void hc_notify(void *cls, struct MHD_Connection *c, void **socket_context, enum MHD_ConnectionNotificationCode code)
{
    HttpConns *h = cls;
    if (code == MHD_CONNECTION_NOTIFY_STARTED) {
        const union MHD_ConnectionInfo *fi = MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD);
        const union MHD_ConnectionInfo *ai = MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
        int fd = fi ? fi->connect_fd : -1;
        uint32_t ip = 0;
        if (ai && ai->client_addr && ai->client_addr->sa_family == AF_INET)
            ip = ((const struct sockaddr_in *)(const void *)ai->client_addr)->sin_addr.s_addr;
        HcConn *k = dna_malloc(sizeof *k);
        pthread_mutex_lock(&h->mu);
        unsigned mine, mine_ops;
        count_client(h, ip, &mine, &mine_ops);
        int ordinary = h->ordinary < h->cfg.max_conns && mine < h->cfg.per_client;
        int ops = !ordinary && h->ops_only < h->cfg.reserve && mine_ops < h->cfg.reserve_per_client;
        if (!k || (!ordinary && !ops)) {
            /* no room at all: closed at once (its thread sees EOF) */
            h->refused++;
            pthread_mutex_unlock(&h->mu);
            if (k) dna_free(k, sizeof *k);
            if (fd >= 0) shutdown(fd, SHUT_RDWR);
            *socket_context = NULL;
            return;
        }
        memset(k, 0, sizeof *k);
        k->owner = h;
        k->fd = fd;
        k->ip = ip;
        k->ops_only = !ordinary;
        k->state = HC_IDLE;
        k->since = mono_ms();
        if (k->ops_only) { h->ops_only++; h->ops_only_total++; } else h->ordinary++;
        k->next = h->head;
        if (h->head) h->head->prev = k;
        h->head = k;
        pthread_mutex_unlock(&h->mu);
        *socket_context = k;
        return;
    }
    HcConn *k = *socket_context;                /* closed: before libmicrohttpd closes the fd */
    if (!k) return;
    pthread_mutex_lock(&h->mu);
    if (k->prev) k->prev->next = k->next; else h->head = k->next;
    if (k->next) k->next->prev = k->prev;
    if (k->ops_only) h->ops_only--; else h->ordinary--;
    if (k->in_request) { h->inflight--; pthread_cond_broadcast(&h->cond); }
    pthread_mutex_unlock(&h->mu);
    dna_free(k, sizeof *k);
    *socket_context = NULL;
}

HcConn *hc_of(struct MHD_Connection *c)
{
    const union MHD_ConnectionInfo *i = MHD_get_connection_info(c, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
    return i ? i->socket_context : NULL;
}

int hc_ops_only(const HcConn *k) { return k && k->ops_only; }

int hc_close_after(HcConn *k)
{
    if (!k) return 0;
    if (k->ops_only) return 1;
    return hc_draining(k->owner);
}

int hc_begin(HttpConns *h, HcConn *k, int has_body)
{
    pthread_mutex_lock(&h->mu);
    int draining = h->draining;
    if (k && !k->in_request) {
        k->in_request = 1;
        h->inflight++;
        h->last_begin = mono_ms();
        k->state = has_body ? HC_BODY : HC_HANDLING;
        k->since = mono_ms();
    }
    pthread_mutex_unlock(&h->mu);
    return draining;
}

void hc_handling(HttpConns *h, HcConn *k)
{
    if (!k) return;
    pthread_mutex_lock(&h->mu);
    k->state = HC_HANDLING;
    pthread_mutex_unlock(&h->mu);
}

void hc_done(HttpConns *h, HcConn *k)
{
    if (!k) return;
    pthread_mutex_lock(&h->mu);
    if (k->in_request) {
        k->in_request = 0;
        k->served++;
        h->inflight--;
        if (h->draining) h->drained++;
        pthread_cond_broadcast(&h->cond);
    }
    k->state = HC_IDLE;                         /* kept alive: the next request's headers are due */
    k->since = mono_ms();
    pthread_mutex_unlock(&h->mu);
}

int hc_drain(HttpConns *h, int64_t timeout_ms)
{
    int64_t start = mono_ms(), end = start + timeout_ms;
    pthread_mutex_lock(&h->mu);
    h->draining = 1;
    /* a connection accepted just before the listening socket closed may
     * not have begun its request yet (its headers are in the socket, its
     * thread not yet run): those in flight, and a short settling time */
    while ((h->inflight > 0 || mono_ms() - start < HC_SETTLE_MS || mono_ms() - h->last_begin < HC_SETTLE_MS) &&
           mono_ms() < end) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_nsec += 50 * 1000000L;
        if (ts.tv_nsec >= 1000000000L) { ts.tv_sec++; ts.tv_nsec -= 1000000000L; }
        pthread_cond_timedwait(&h->cond, &h->mu, &ts);
    }
    int left = h->inflight;
    pthread_mutex_unlock(&h->mu);
    return left;
}

int hc_draining(HttpConns *h)
{
    pthread_mutex_lock(&h->mu);
    int d = h->draining;
    pthread_mutex_unlock(&h->mu);
    return d;
}

void hc_stats(HttpConns *h, HcStats *st)
{
    pthread_mutex_lock(&h->mu);
    st->open = h->ordinary + h->ops_only;
    st->ops_only = h->ops_only;
    st->refused = h->refused;
    st->timed_out = h->timed_out;
    st->ops_only_total = h->ops_only_total;
    st->drained = h->drained;
    pthread_mutex_unlock(&h->mu);
}
