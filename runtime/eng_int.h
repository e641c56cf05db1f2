/*
 * eng_int.h - the engine's insides, shared by engine.c (events, entities,
 * timers, evaluation order) and eng_rules.c (rules, actions, routing,
 * effects).  Not a public header.
 */
#ifndef DNA_ENG_INT_H
#define DNA_ENG_INT_H

#include "engine.h"
#include "jsonw.h"
#include "vm.h"

#include <jansson.h>

/* timer key slots: what a timer is for (TimerKey.slot's top bits) */
#define TK_ALERT     0x10000000u    /* rule = signal index, slot = TK_ALERT | alert seq (low bits) */
#define TK_STAYS     0x20000000u    /* rule = rule index */
#define TK_INACTIVE  0x30000000u
#define TK_KIND(s)   ((s) & 0xF0000000u)

/* what a unit reads, for the trace */
typedef struct UnitRead { uint8_t from_event; uint32_t slot; } UnitRead;
typedef struct UnitReads { UnitRead *v; uint32_t n; } UnitReads;

typedef struct TeamState {
    uint64_t cursor;            /* round robin */
    int64_t *current;           /* open assignments per member */
    int64_t *credit;            /* smooth weighted round robin */
} TeamState;

struct Engine {
    const DnaBundle *b;
    Store *st;
    EngSink sink;
    void *ud;
    DnaVm vm;
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
    int64_t now;
    int depth;                  /* emit chain */
    uint64_t cause_timer;       /* for the trace of timer-caused effects */
};

/* engine.c */
const DnaTrigger *eng_trigger(Engine *e, uint8_t key, uint32_t a);
uint32_t eng_slot(Engine *e, uint32_t kind, const char *literal);
DnaState eng_state(Engine *e, Ent *x);
int      eng_eval(Engine *e, Ent *x, uint32_t unit, DnaValue *out);
int      eng_truthy(Engine *e, Ent *x, uint32_t unit);      /* DNA_NIL unit: true */
void     eng_evaluate(Engine *e, Ent *x, int created);       /* the order of one evaluation */
const char *eng_key_of(Engine *e, Ent *x);
Ent     *eng_live(Engine *e, uint64_t handle);
void     eng_obs_set(Engine *e, Ent *x, uint32_t slot, int present, int64_t v);
EntObs  *eng_obs_get(Ent *x, uint32_t slot);

/* eng_rules.c */
void eng_run_rule(Engine *e, Ent *x, uint32_t ri);
void eng_run_actions(Engine *e, Ent *x, uint32_t ri, uint32_t arm);
void eng_route(Engine *e, Ent *x);
void eng_derive(Engine *e, Ent *x);
void eng_state_triggers(Engine *e, Ent *x);
void eng_fire_timer(Engine *e, const Timer *t);
void eng_ack(Engine *e, Ent *x, uint32_t signal);
/* effects: begin writes the common head and opens "detail"; the caller adds
 * detail keys, then trace_begin opens "trace", and end sends the line */
void eff_begin(Engine *e, Ent *x, EffKind k, uint32_t rule);
void eff_trace(Engine *e, Ent *x, uint32_t rule, uint32_t unit);
void eff_end(Engine *e, Ent *x, EffKind k, uint32_t rule);
void eng_write_value(Engine *e, JsonW *w, DnaValue v, DnaType t);

#endif
