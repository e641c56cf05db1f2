/*
 * state.h - the state of one entity, and the store that keeps entities.
 *
 * An entity's slots follow its bundle layout (DnaEntity.slots): identity
 * keys, declared and derived fields, and the engine's computed values
 * (score, components, intent, touches).  Strings in slots are owned by the
 * entity.  Points live in ledgers (ledger.h), one per score component and
 * intent category; the computed slots are refreshed from them at `now`
 * before rule code runs.
 *
 * The store interface is what the engine needs from persistence; replay
 * and `dnac test` use the in-memory store (store_mem.c), the daemon its
 * SQLite and PostgreSQL stores.
 */
#ifndef DNA_STATE_H
#define DNA_STATE_H

#include "bundle/bundle.h"
#include "engine/ledger.h"
#include "bundle/value.h"

#include <stdint.h>

typedef struct EntCap {         /* a capped rule's applications: the two latest windows it applied in */
    uint32_t rule;
    uint32_t count;
    int64_t window;             /* the latest (start of the calendar window of occurred_at; 0: per entity) */
    uint32_t prev_count;        /* the one before it, INT64_MIN when none: late applications count here */
    int64_t prev_window;
} EntCap;

typedef struct EntEnroll {      /* an enrollment in a sequence (its timer holds the next step) */
    uint32_t seq;
    int64_t at;                 /* enrolled */
} EntEnroll;

typedef struct EntObs {         /* the last observation of a watched slot */
    uint32_t slot;
    uint8_t present;
    int64_t v;                  /* scalar value; strings by hash */
} EntObs;

typedef enum AlertStatus { AL_OPEN, AL_ACKED, AL_OVERDUE } AlertStatus;

typedef struct EntSignal {
    uint32_t signal;            /* DnaBundle.signals index */
    int64_t at;                 /* detected */
    int64_t weight;             /* thousandths, before decay */
    uint64_t alert;             /* the alert's id */
    uint8_t status;             /* AlertStatus */
    int64_t due;                /* the alert's deadline */
    int64_t closed_at;          /* acknowledged or overdue */
} EntSignal;

typedef struct Ent {
    uint64_t handle;            /* 1.. in creation order */
    uint32_t kind;              /* entity kind */
    uint64_t merged_into;       /* 0, or the entity this one became */
    DnaValue *slots;
    uint32_t nslots;
    Ledger *ledgers;            /* per slot of kind DS_COMPONENT / DS_INTENT_CATEGORY, by ledger index */
    uint32_t nledgers;
    EntCap *caps;
    uint32_t ncaps, capcaps;
    EntObs *obs;
    uint32_t nobs, capobs;
    EntSignal *signals;
    uint32_t nsignals, capsignals;
    uint8_t routed;
    uint8_t dirty;
    uint8_t stage_known;        /* stage_seen is set */
    int64_t stage_seen;         /* the `stage` value last seen (enum index) */
    uint32_t hold_team;         /* an open assignment this entity holds: team + 1, 0 = none */
    uint32_t hold_member;       /* ... and the member's index in the team */
    int64_t clock;              /* the entity clock: the latest `now` it was evaluated at; INT64_MIN: never */
    EntEnroll *enrolls;
    uint32_t nenrolls, capenrolls;
    uint64_t deal;              /* the latest deal `create deal` made for it (handle), 0: none */
} Ent;

/* ---- slot values owned by the entity ---- */
void ent_set(Ent *e, uint32_t slot, DnaValue v);    /* copies strings */
void ent_free(Ent *e);
uint64_t ent_bytes(const Ent *e);

/* ---- the store ---- */
typedef struct Store Store;
typedef struct StoreOps {
    Ent *(*get)(Store *s, uint64_t handle);                     /* NULL if none */
    uint64_t (*find)(Store *s, uint32_t kind, uint32_t slot, const char *v, uint32_t len);
    int (*bind)(Store *s, uint32_t kind, uint32_t slot, const char *v, uint32_t len, uint64_t handle);
    Ent *(*create)(Store *s, uint32_t kind, uint32_t nslots, uint32_t nledgers);
    int (*seen_event)(Store *s, const char *id, uint32_t len);  /* 1 if seen before; records it */
    uint64_t (*count)(Store *s);                                 /* handles issued */
    void (*free)(Store *s);
} StoreOps;

struct Store {
    const StoreOps *ops;
};

Store *store_mem_new(void);
uint64_t store_mem_bytes(Store *s);

#endif
