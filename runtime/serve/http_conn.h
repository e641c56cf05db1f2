/*
 * http_conn.h - the HTTP layer's bounds on connections and time (see
 * docs/operations.md, "Limits"):
 *
 *   - every client (IPv4 address) holds at most `per_client` ordinary
 *     connections, all clients at most `max_conns`;
 *   - a connection beyond either is "ops-only": it is answered for
 *     GET /healthz, /readyz and /metrics, and gets 503 (Connection: close)
 *     for anything else; it has `ops_header_ms` to send its headers.  At
 *     most `reserve` of them in all, `reserve_per_client` per client; one
 *     more is closed at once, unanswered;
 *   - a request's headers must arrive within `header_ms` of the
 *     connection's start (or of the answer before, on a kept-alive
 *     connection), its body within `request_ms`: else 408 and closed (an
 *     idle kept-alive connection: closed without the 408);
 *   - at stop (hc_drain) nothing new is begun (503, Connection: close) and
 *     requests in flight run to their answer.
 *
 * libmicrohttpd runs a thread per connection; a reaper thread here closes
 * (shutdown(2)) the connections past their deadline.  The connection's
 * record is removed when libmicrohttpd reports it closed, which it does
 * before it closes the socket, so the reaper never touches a reused fd.
 */
#ifndef DNA_HTTP_CONN_H
#define DNA_HTTP_CONN_H

#include <microhttpd.h>
#include <stdint.h>

typedef struct HcConfig {
    unsigned max_conns, per_client;         /* ordinary connections */
    unsigned reserve, reserve_per_client;   /* ops-only ones */
    int64_t header_ms, request_ms, ops_header_ms;
} HcConfig;

typedef struct HcStats {
    uint64_t open, ops_only;                /* now */
    uint64_t refused, timed_out, ops_only_total, drained;
} HcStats;

typedef struct HttpConns HttpConns;
typedef struct HcConn HcConn;

HttpConns *hc_new(const HcConfig *cfg);     /* starts the reaper; NULL when out of memory */
void hc_free(HttpConns *h);                 /* after the HTTP daemon stopped */

/* MHD_OPTION_NOTIFY_CONNECTION's callback (cls: the HttpConns). */
void hc_notify(void *cls, struct MHD_Connection *c, void **socket_context, enum MHD_ConnectionNotificationCode code);

/* The record of a connection (NULL if it has none). */
HcConn *hc_of(struct MHD_Connection *c);
int hc_ops_only(const HcConn *k);
/* Its answers say Connection: close (ops-only, or draining). */
int hc_close_after(HcConn *k);
/* A request's first call: 1 if the daemon is draining (answer 503). */
int hc_begin(HttpConns *h, HcConn *k, int has_body);
/* Its whole body is in: no deadline from now on. */
void hc_handling(HttpConns *h, HcConn *k);
/* Its answer is sent (or it was abandoned). */
void hc_done(HttpConns *h, HcConn *k);

/* Stop beginning requests; wait until those in flight are answered, at
 * most timeout_ms.  Returns how many were still in flight at the end. */
int hc_drain(HttpConns *h, int64_t timeout_ms);
int hc_draining(HttpConns *h);
void hc_stats(HttpConns *h, HcStats *st);

#endif
