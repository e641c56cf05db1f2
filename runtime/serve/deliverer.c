/*
 * deliverer.c - the delivery loop's thread (deliver/deliver.h) and its hooks
 * into the daemon: the wall clock, entity state for webhook bodies, REST
 * requests built from the engine's state at send time, and a connector's
 * answer fed back to the engine as a built-in envelope.
 */
#include "serve/serve_int.h"
#include "base/clock.h"
#include "base/json.h"
#include "base/jsonw.h"
#include "base/mem.h"

#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* ---- delivery: the loop's hooks into the daemon, and its thread ---------------------- */

static int64_t hk_now(void *ud) { (void)ud; return srv_wall_ms(); }

static char *hk_entity(void *ud, const char *kind, const char *key)
{
    char *out = NULL;
    if (srv_entity_state(ud, kind, key, &out) == 200) return out;
    free(out);
    return NULL;
}

static char *hk_call_request(void *ud, const char *line, size_t len, char *why, size_t whylen)
{
    Srv *s = ud;
    JsonW w;
    jw_init(&w);
    pthread_mutex_lock(&s->emu);
    int rc = eng_call_request(s->eng, line, len, &w, why, whylen);
    pthread_mutex_unlock(&s->emu);
    char *r = rc == 0 && !w.oom && w.p ? strndup(w.p, w.n) : NULL;
    jw_free(&w);
    return r;
}

static char *hk_call_result(void *ud, const char *line, size_t len, const char *id, int64_t at_ms, const char *resp, size_t rlen)
{
    Srv *s = ud;
    JsonW w;
    jw_init(&w);
    char why[256];
    pthread_mutex_lock(&s->emu);
    int rc = eng_call_result(s->eng, line, len, id, at_ms, resp, rlen, &w, why, sizeof why);
    pthread_mutex_unlock(&s->emu);
    char *r = rc == 0 && !w.oom && w.p ? strndup(w.p, w.n) : NULL;
    if (rc) slog("warn", "a connector's answer cannot be fed back", "id", SL_STR, id, "error", SL_STR, why, NULL);
    jw_free(&w);
    return r;
}

static void hk_fed_back(void *ud)
{
    Srv *s = ud;
    pthread_mutex_lock(&s->mu);
    s->in_by_type[s->ntypes - 1]++;         /* a connector_result: a built-in envelope */
    pthread_cond_signal(&s->workcond);
    pthread_mutex_unlock(&s->mu);
}

Dlv *srv_new_delivery(Srv *s, const DnaBundle *b)
{
    DlvConfig dc = { .db = s->ddb, .wmu = &s->wmu, .retry_base_ms = s->cfg.retry_base_ms, .seed = (uint64_t)srv_wall_ms() };
    DlvHooks hk = { s, hk_now, hk_entity, hk_call_request, hk_call_result, hk_fed_back };
    return dlv_new(b, &dc, &hk);
}

void *srv_deliverer(void *arg)
{
    Srv *s = arg;
    while (!atomic_load(&s->ready)) {           /* the state first: requests read it */
        pthread_mutex_lock(&s->mu);
        int stop = s->stop_deliver;
        pthread_mutex_unlock(&s->mu);
        if (stop || atomic_load(&s->fatal)) return NULL;
        struct timespec ts = { 0, 20 * 1000000L };
        nanosleep(&ts, NULL);
    }
    const DnaBundle *b = srv_b(s);
    int stopping = 0;
    int64_t stop_at = 0;
    for (;;) {
        const DnaBundle *nb = srv_b(s);
        if (nb != b) { dlv_set_bundle(s->dlv, nb); b = nb; }
        pthread_mutex_lock(&s->mu);
        int stop = s->stop_deliver;
        pthread_mutex_unlock(&s->mu);
        if (stop && !stopping) {                /* finish what is in flight, start nothing */
            stopping = 1;
            stop_at = srv_wall_ms();
            dlv_stop_feeding(s->dlv);
        }
        if (stopping && (dlv_inflight(s->dlv) == 0 || srv_wall_ms() - stop_at > 10000)) break;
        if (dlv_step(s->dlv, 200) < 0) {
            slog("error", "the delivery loop cannot write to the store; retrying", "error", SL_STR, sqlite3_errmsg(s->ddb), NULL);
            struct timespec ts = { 1, 0 };
            nanosleep(&ts, NULL);
        }
    }
    if (dlv_inflight(s->dlv))
        slog("warn", "stopped with deliveries in flight: they stay pending and go again, with the same key",
             "inflight", SL_INT, (int64_t)dlv_inflight(s->dlv), NULL);
    return NULL;
}
