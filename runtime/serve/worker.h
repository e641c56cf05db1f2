/*
 * worker.h - the worker's own types, shared by worker.c and reload.c (a
 * reload runs on the worker's thread, between two events).
 */
#ifndef DNA_SERVE_WORKER_H
#define DNA_SERVE_WORKER_H

#include "serve/serve_int.h"

typedef struct Eff {
    char *event_id;                 /* NULL: a timer */
    uint64_t entity;
    char *ekind, *ekey;
    uint8_t kind, mode, external;
    char *connector;                /* external and naming a connector: it enters the outbox */
    char idem[48];                  /* its idempotency key */
    int history;                    /* its evaluation came before the daemon went live: outbox status `history` */
    char *line;
    size_t len;
} Eff;

typedef struct Worker {
    Srv *s;
    int capture;                    /* 0 while rebuilding: effects were written before */
    const char *cur_event;
    uint32_t ordinal;               /* effects of cur_event so far: part of the idempotency key */
    sqlite3_stmt *st[3];            /* commit_batch's statements */
    Eff *effs;
    size_t n, cap;
} Worker;

typedef struct Pending {
    int64_t seq;
    char *id, *type, *body;
    int bodylen;
    int64_t at;                     /* occurred_at */
    int status;                     /* 1 processed, 2 failed */
    char error[256];
    int64_t wm;
} Pending;

/* The engine's effect sink: captures effects for the next commit. */
void wk_sink(void *ud, const EngEffect *ef);
/* Replays the processed log into eng (no effects captured); the count, or -1. */
int64_t wk_replay_history(Srv *s, Worker *w, Engine *eng);
/* On the worker: take a waiting reload, if any, and answer it. */
void wk_reload(Srv *s, Worker *w);

#endif
