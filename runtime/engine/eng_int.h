/*
 * eng_int.h - the engine's insides, shared by engine.c (events, entities,
 * timers, evaluation order) and eng_rules.c (rules, actions, routing,
 * effects).  Not a public header.
 */
#ifndef DNA_ENG_INT_H
#define DNA_ENG_INT_H

#include "engine/engine.h"
#include "base/jsonw.h"
#include "jit/jit.h"
#include "vm/vm.h"

#include <jansson.h>

/* timer key slots: what a timer is for (TimerKey.slot's top bits) */
#define TK_ALERT     0x10000000u    /* rule = signal index, slot = TK_ALERT | alert seq (low bits) */
#define TK_STAYS     0x20000000u    /* rule = rule index */
#define TK_INACTIVE  0x30000000u
#define TK_SCHEDULE  0x40000000u    /* entity 0 (global), rule = rule index */
#define TK_SEQ       0x50000000u    /* rule = sequence index; Timer.arg = the next step */
#define TK_KIND(s)   ((s) & 0xF0000000u)

/* what a unit reads, for the trace */
typedef struct UnitRead { uint8_t from_event; uint32_t slot; } UnitRead;
typedef struct UnitReads { UnitRead *v; uint32_t n; } UnitReads;

typedef struct TeamState {
    uint64_t cursor;            /* round robin */
    int64_t *current;           /* open assignments per member */
    int64_t *credit;            /* smooth weighted round robin */
} TeamState;

/* A workflow run parked by `mode approval`: its actions with their
 * argument values as they were when it fired. */
typedef enum PendStatus { PEND_OPEN, PEND_APPROVED, PEND_REJECTED } PendStatus;
typedef struct EngPending {
    uint64_t id;
    uint32_t rule;
    uint64_t entity;            /* handle */
    int64_t at;                 /* parked */
    uint8_t status;             /* PendStatus */
    int64_t decided;            /* when approved or rejected */
    uint32_t argbase, nargs;    /* B->args[argbase .. +nargs) */
    DnaValue *vals;             /* their values (strings owned) */
} EngPending;

typedef struct SeqCount { int64_t window, count; } SeqCount;   /* a sequence channel limit */

/* cron (eng_schedule.c): minute hour day-of-month month day-of-week */
typedef struct Cron {
    uint64_t minute;            /* bit m: minute m */
    uint32_t hour, mday;        /* bits 0..23, 1..31 */
    uint16_t month;             /* bits 1..12 */
    uint8_t wday;               /* bits 0..6, 0 = Sunday (7 folds to 0) */
    uint8_t mday_star, wday_star;
} Cron;
int     cron_parse(const char *s, Cron *c);                  /* 0 on success */
/* The first occurrence strictly after `after` in zone z (local wall-clock
 * times through clk_from_local); -1 when none within eight years. */
struct Zone;
int64_t cron_next(const Cron *c, const struct Zone *z, int64_t after);

struct Engine {
    const DnaBundle *b;
    Store *st;
    EngSink sink;
    void *ud;
    DnaVm vm;
    DnaJit *jit;                /* the bundle's compiled units (shared), or NULL */
    Timers timers;
    int64_t clock;              /* latest occurred_at processed */
    int have_clock;
    EngStats stats;
    JsonW w, tw;                /* effect line, trace */
    uint32_t **ledger_of;       /* [kind][slot] -> ledger index or DNA_NIL */
    uint32_t *nledgers;         /* [kind] */
    UnitReads *reads;           /* per unit */
    TeamState *teams;
    /* the trigger index by key, built once: trigger index + 1, 0 = none */
    uint32_t *trig_event;       /* [event] DK_EVENT */
    uint32_t *trig_kind;        /* [DK__COUNT * nentities] other keys by entity kind */
    uint32_t **trig_fields;     /* [kind] DK_FIELD triggers, 0-terminated (index + 1) */
    /* slot lookups by literal name, cached (names are string literals) */
    struct { const char *name; uint32_t kind, slot; } slot_cache[128];
    uint64_t next_alert;
    /* the evaluation in progress */
    DnaValue *evslots;          /* current event's slots (points into evjson) */
    uint32_t nevslots, capevslots;
    uint32_t evtype;            /* DNA_NIL: a timer */
    const char *evid;
    int64_t now;                /* the evaluation's clock: max(its own time, the entity clock) */
    int64_t at;                 /* its own time: what it records is dated so (occurred_at, due time) */
    int depth;                  /* emit chain */
    uint64_t cause_timer;       /* for the trace of timer-caused effects */
    /* approvals */
    EngPending *pend;
    uint32_t npend, cappend;
    uint64_t approving;         /* the approval whose actions run now, 0: none */
    uint32_t approving_rule;
    const DnaValue *snap;       /* argument values fixed when the actions were parked */
    uint32_t snap_base, snap_n;
    /* schedules, sequences, deals */
    uint8_t armed;              /* schedules armed (at the first time the engine saw) */
    SeqCount *seqcount;         /* [nopts]: sequence channel limits */
    uint64_t next_deal;
    /* a connector_result being applied: its effects name the call in their trace */
    const char *call_conn, *call_method;
    char *readbuf;              /* eng_eval_at's string result */
    size_t readcap;
};

/* engine.c */
const DnaTrigger *eng_trigger(Engine *e, uint8_t key, uint32_t a);
uint32_t eng_slot(Engine *e, uint32_t kind, const char *literal);
DnaState eng_state(Engine *e, Ent *x);
/* every evaluation of a unit: its compiled function, else the interpreter */
VmResult eng_vm(Engine *e, uint32_t unit, const DnaState *s, DnaValue *out);
int      eng_eval(Engine *e, Ent *x, uint32_t unit, DnaValue *out);
int      eng_truthy(Engine *e, Ent *x, uint32_t unit);      /* DNA_NIL unit: true */
void     eng_evaluate(Engine *e, Ent *x, int created);       /* the order of one evaluation */
const char *eng_key_of(Engine *e, Ent *x);
Ent     *eng_live(Engine *e, uint64_t handle);
void     eng_obs_set(Engine *e, Ent *x, uint32_t slot, int present, int64_t v);
int64_t  eng_obs_scalar(DnaValue v);                         /* an observation's value: strings by hash */
EntObs  *eng_obs_get(Ent *x, uint32_t slot);

Ent     *eng_create(Engine *e, uint32_t kind);              /* a new entity with defaults */
/* A JSON value as a value of type t (the payload rules of envelopes);
 * 0 with msg[] when it does not fit. */
int      eng_type_ok(const DnaBundle *b, DnaType t, json_t *v, DnaValue *out, char *msg, size_t ml);
void     eng_first_time(Engine *e, int64_t t);               /* the clock starts: arm schedules */

/* the entity clock: an evaluation of x runs at max(e->now, x's clock);
 * eng_enter returns the `now` to give back to eng_leave, which sets the
 * clock of x (or what x merged into) */
int64_t  eng_enter(Engine *e, Ent *x);
void     eng_leave(Engine *e, uint64_t handle, int64_t saved_now);

/* eng_read.c: computed slots.  eng_compute is pure (into slots[]);
 * eng_refresh is an evaluation's: dead ledger entries go, then compute. */
void eng_compute(Engine *e, const Ent *x, int64_t now, DnaValue *slots);
void eng_refresh(Engine *e, Ent *x, int64_t now);

/* eng_merge.c: fold b into a (a is older); one `merge` effect */
void eng_merge(Engine *e, Ent *a, Ent *b);
int  eng_enroll_add(Ent *x, uint32_t seq, int64_t at);
void eng_enroll_drop(Ent *x, uint32_t seq);

/* eng_rules.c */
int  eng_performs(Engine *e, uint32_t rule);                 /* live, or approved now */
void eng_run_rule(Engine *e, Ent *x, uint32_t ri);
void eng_run_actions(Engine *e, Ent *x, uint32_t ri, uint32_t arm);
void eng_route(Engine *e, Ent *x);
void eng_derive(Engine *e, Ent *x);
void eng_state_triggers(Engine *e, Ent *x);
void eng_fire_timer(Engine *e, const Timer *t);
void eng_ack(Engine *e, Ent *x, uint32_t signal, uint64_t alert);   /* DNA_NIL / 0: any */
/* effects: begin writes the common head and opens "detail"; the caller adds
 * detail keys, then trace_begin opens "trace", and end sends the line */
void eff_begin(Engine *e, Ent *x, EffKind k, uint32_t rule);
void eff_trace(Engine *e, Ent *x, uint32_t rule, uint32_t unit);
void eff_end(Engine *e, Ent *x, EffKind k, uint32_t rule);
void eng_write_value(Engine *e, JsonW *w, DnaValue v, DnaType t);
/* {"email":"a@x",...}: the identities the entity has (an object). */
void eng_write_identities(Engine *e, JsonW *w, const Ent *x);
DnaValue eng_arg(Engine *e, Ent *x, uint32_t argi);         /* an action argument (or its parked value) */
int  eng_arm(Engine *e, Ent *x, uint32_t ri, uint32_t arm); /* run one arm; 0: an assignment found nobody */
void eng_after(Engine *e, uint64_t handle);                 /* refresh, derive, state triggers, route */
/* A workflow chain (emit, create deal) deeper than ENG_MAX_CHAIN is cut:
 * a chain_cut effect {what: name, depth}, and 1. */
int  eng_chain_cut(Engine *e, Ent *x, uint32_t ri, const char *what, const char *name);

/* eng_deal.c: stages, probabilities, deals created by routing, capacity */
void eng_stage_sync(Engine *e, Ent *x);
void eng_create_deal(Engine *e, Ent *x, uint32_t ri, const DnaAction *a, int perform);
void eng_hold(Engine *e, Ent *x, uint32_t team, uint32_t member);
void eng_release(Engine *e, Ent *x);
int64_t eng_stage_probability(const char *stage);           /* thousandths */

/* eng_schedule.c */
void eng_arm_schedules(Engine *e, int64_t t0);
void eng_fire_schedule(Engine *e, const Timer *t);

/* eng_sequence.c */
void eng_enroll(Engine *e, Ent *x, uint32_t ri, const DnaAction *a, int perform);
void eng_seq_timer(Engine *e, Ent *x, const Timer *t);
void eng_seq_event(Engine *e, Ent *x);                      /* `exit on EVENT` */

/* eng_approval.c */
void eng_park(Engine *e, Ent *x, uint32_t ri);
EngPending *eng_pending(Engine *e, uint64_t id);           /* NULL: no such approval */
void eng_decide(Engine *e, EngPending *p, int approve);     /* now, evid: the approval's */
void eng_pending_free(Engine *e);

/* eng_connector.c: the built-in `connector_result` envelope.  check: the
 * data names a known connector and method and the arguments it takes
 * (before the id counts as seen; no state needed).  resolve: the argument
 * entities exist (hs[] gets their handles).  apply: the method's `set`s
 * from data.response, then an evaluation of every entity changed. */
#define ENG_MAX_PARAMS 16
int  eng_call_check(Engine *e, json_t *data, uint32_t *method, char *why, size_t wl);
int  eng_call_resolve(Engine *e, json_t *data, uint32_t method, uint64_t *hs, char *why, size_t wl);
void eng_call_apply(Engine *e, json_t *data, uint32_t method, const uint64_t *hs);

#endif
