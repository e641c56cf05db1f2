/*
 * engine.h - the rule engine: events in, state and effects out.
 *
 * For each event the engine resolves the subject entity from its
 * identifiers (finding, creating or merging entities), keeps attribution,
 * runs only the rules the trigger index names for the event, in order
 * (priority, then source), applies their effects (score and intent points
 * with caps, expiry and decay; signals and alerts; derived fields; routing;
 * workflow actions), detects state triggers (changes, becomes, crosses),
 * schedules timers (alert deadlines, `stays ... for`, inactivity, cron
 * schedules, sequence steps) and fires them in due order as the watermark
 * passes them.  Every effect goes to the caller's sink as one JSON line
 * with the trace of why it happened.
 *
 * Besides the bundle's events, eng_event() takes two built-in envelope
 * types: `alert_ack` (data {signal}, {alert} or both) acknowledges alerts of
 * the subject (all of them, those of the signal, or the one alert: then the
 * subject must hold it and it must not be acknowledged yet), and
 * `approval` (data {id, decision: "approve"|"reject"}, no subject needed)
 * decides a workflow run parked by `mode approval` (eng_approval.c);
 * `connector_result` (eng_connector.c) brings back the response of a REST
 * connector call and performs the method's `set`s.
 *
 * Time: an evaluation of an entity runs at `now` = max(its own time, the
 * entity clock): its own time is the event's occurred_at or the timer's
 * due time, the entity clock the latest `now` the entity was evaluated
 * at, so time never runs backwards for an entity.  A late event (older
 * than its entity's clock) is evaluated at the clock while what it
 * records keeps its occurred_at (ledger entries, cap windows, signal
 * detection, alert deadlines).  Timers due at or before an event's
 * occurred_at fire before it.  The engine never reads the wall clock.  The engine is single-threaded and
 * deterministic: the same bundle, events and starting state give the same
 * effects byte for byte.
 */
#ifndef DNA_ENGINE_H
#define DNA_ENGINE_H

#include "bundle/bundle.h"
#include "engine/state.h"
#include "base/jsonw.h"
#include "engine/timers.h"

#include <stddef.h>
#include <stdint.h>

#define ENG_TIME_MIN 0LL                    /* occurred_at: 1970-01-01T00:00:00Z ... */
#define ENG_TIME_MAX 7258118400000LL        /* ... before 2200-01-01T00:00:00Z */
#define ENG_MAX_CHAIN 8             /* emit -> trigger -> emit ... is cut here */

typedef enum EffKind {
#define EFF_KINDS(X) X(SCORE, "score") X(INTENT, "intent") X(CAPPED, "capped") X(SIGNAL, "signal") \
    X(ALERT, "alert") X(OVERDUE, "overdue") X(ACK, "ack") X(ROUTE, "route") X(ASSIGN, "assign")       \
    X(SET, "set") X(MOVE, "move") X(TASK, "task") X(NOTIFY, "notify") X(WEBHOOK, "webhook")           \
    X(CONNECTOR, "connector") X(ENROLL, "enroll") X(SEQUENCE_STEP, "sequence_step")                     \
    X(SEQUENCE_EXIT, "sequence_exit") X(APPROVAL, "approval") X(APPROVED, "approved")                  \
    X(REJECTED, "rejected") X(EMIT, "emit") X(CREATE, "create")                                        \
    X(MERGE, "merge") X(CHAIN_CUT, "chain_cut") X(ERROR, "error")
#define X(e, s) EFF_##e,
    EFF_KINDS(X)
#undef X
    EFF__COUNT
} EffKind;

const char *eng_effect_name(EffKind k);

/* One effect: `line` is the complete JSON object (no newline), valid only
 * during the call. */
typedef struct EngEffect {
    EffKind kind;
    uint8_t mode;               /* DnaMode of the rule: live, approval, shadow */
    uint8_t external;           /* leaves the process: notify, webhook, connector, task, ... */
    uint64_t entity;            /* handle */
    int64_t at;                 /* the evaluation's `now` (the line's "at") */
    const char *line;
    size_t len;
} EngEffect;

typedef void (*EngSink)(void *ud, const EngEffect *e);

typedef struct EngStats {
    uint64_t events, rejected, duplicates, timers;
    uint64_t late;              /* older than their entity's clock: evaluated at the clock */
    uint64_t behind;            /* older than the latest event time seen, not late for their entity */
    uint64_t effects[EFF__COUNT];
    uint64_t rule_runs;
} EngStats;

typedef struct Engine Engine;

Engine *eng_new(const DnaBundle *b, Store *st, EngSink sink, void *ud);
void    eng_free(Engine *e);

typedef enum EngResult { ENG_OK, ENG_REJECTED, ENG_DUPLICATE, ENG_NOMEM } EngResult;

/* Process one envelope (JSON text).  ENG_REJECTED: why[] says why, nothing
 * changed.  ENG_DUPLICATE: the id was seen before, nothing changed.
 * ENG_NOMEM: an allocation was refused while it ran (dna_mem_refused), so
 * part of it may be missing; why[] says out of memory.  Timers due at or
 * before the event's occurred_at fire first. */
EngResult eng_event(Engine *e, const char *json, size_t len, char *why, size_t whylen);
/* The same for an envelope already parsed (replay parses on other threads);
 * the document is borrowed. */
struct json_t;
EngResult eng_event_doc(Engine *e, struct json_t *root, char *why, size_t whylen);
/* Fire every timer due at or before `watermark`.  -1: out of memory (an
 * allocation was refused while they fired), 0 otherwise. */
int  eng_advance(Engine *e, int64_t watermark);
/* The latest event time seen (the watermark in replay). */
int64_t eng_clock(const Engine *e);
const EngStats *eng_stats(const Engine *e);

/* Give an entity field values before any event (`dnac test`'s `given`):
 * `fields` is a JSON object; returns the handle, 0 with why[] on error. */
uint64_t eng_given(Engine *e, const char *kind, const char *fields_json, size_t len, int64_t now,
                   char *why, size_t whylen);

/* Entities: the store's handles run 1..eng_count().  eng_entity_json()
 * writes one state line (the replay contract) for a live entity at `now`;
 * it returns 0 for a merged-away handle.  Out of memory sets w->oom.
 *
 * Reads change nothing: eng_entity_json, eng_view and eng_eval_at compute
 * the entity's values at `now` (score, components, intent, derived fields)
 * without touching it - no ledger entry dropped, no clock moved, no
 * observation recorded, no effect written.  Read at eng_read_time(): the
 * later of a time (the watermark, the run's end) and the entity's clock. */
uint64_t eng_count(const Engine *e);
int      eng_entity_json(Engine *e, uint64_t handle, int64_t now, JsonW *w);
int64_t  eng_read_time(const Engine *e, uint64_t handle, int64_t at);
/* The entity's kind name and key (first identity value), for sorting. */
const char *eng_entity_key(Engine *e, uint64_t handle, const char **kind);
Ent     *eng_entity(Engine *e, uint64_t handle);
/* A view: the entity's slots as they read at `now` (a copy; strings of
 * derived values owned by the view).  0 when out of memory. */
typedef struct EngView {
    DnaValue *slots;
    uint32_t n;
    int64_t now;
    struct EngViewStr { char *p; size_t len; } *own;   /* the derived strings it holds */
    uint32_t nown, capown;
} EngView;
int      eng_view(Engine *e, const Ent *x, int64_t now, EngView *v);
void     eng_view_free(EngView *v);
/* Evaluate a code unit against an entity (0: none) at `now`, as `dnac test`
 * does for its expectations, on a view of the entity.  0, or -1 with msg[]
 * (a runtime error).  A string result stays valid until the next call. */
int      eng_eval_at(Engine *e, uint64_t handle, uint32_t unit, int64_t now, DnaValue *out, char *msg, size_t ml);
/* Whether the bundle's code runs compiled (runtime/jit/jit.h): "on: 199
 * units compiled in 12.3 ms", "off", "off (auto: ...)", "off (LLVM failed: ...)". */
void     eng_jit_describe(const Engine *e, char *buf, size_t len);
/* Write a value of type t as JSON (decimals as fixed point, enums by name). */
void     eng_value_json(Engine *e, JsonW *w, DnaValue v, DnaType t);

/* The live entity of kind `kind` whose key (eng_entity_key) is `key`, or
 * that an identity value `key` names; 0 if none.  Merged-away entities
 * lead to the one they became. */
uint64_t eng_find(Engine *e, const char *kind, const char *key);

/* ---- REST connector calls (eng_connector.c) ----
 * `line` is a `connector` effect exactly as the sink got it: detail
 * {"connector","method","args":[KEY or null ...]}, one entity key per
 * method parameter.  Both functions read the state as it is NOW (call them
 * where eng_event is called, between events), and append one JSON object
 * to `out`; 0, or -1 with why[] and nothing appended.
 *
 * eng_call_request: the HTTP request to send,
 *   {"verb":"POST","path":"/offers/of_1/create_invoice","body":{...}}
 * path: the method's path template evaluated against the first argument;
 * refused when a field it reads is not set (e.g. deal.offer_id before the
 * offer exists).  body: the argument entity, {"kind","key","identities",
 * "fields"} with reference fields (deal.lead) expanded the same way one
 * level deep; for several parameters an object keyed by parameter kind
 * (a kind taken twice: "lead", "lead_2").  Render it when the call is
 * SENT, so that a `then` call sees what the results before it stored.
 *
 * eng_call_result: the `connector_result` envelope to feed to eng_event
 * once the response is in:
 *   {"id":ID,"type":"connector_result","source":"dna","occurred_at":AT,
 *    "subject":{"entity":KIND,IDENTITY:VALUE},
 *    "data":{"connector","method","args":[{"kind","key"}...],"response":JSON}}
 * response is the body as JSON (whitespace removed), or null when the body
 * is empty or not JSON. */
int eng_call_request(Engine *e, const char *line, size_t len, JsonW *out, char *why, size_t whylen);
int eng_call_result(Engine *e, const char *line, size_t len, const char *id, int64_t at_ms,
                    const char *response_json, size_t rlen, JsonW *out, char *why, size_t whylen);

/* ---- reading alerts and approvals (dnad serve's operator API) ----
 * Alert ids run 1, 2, ... in the order alerts are raised, across entities;
 * an entity keeps an acknowledged or overdue alert until its signal has
 * decayed (the entity's next signal then forgets it). */
typedef struct EngAlert {
    uint64_t id;
    uint64_t entity;            /* the live entity holding it */
    uint32_t signal;            /* DnaBundle.signals index */
    uint8_t status;             /* AlertStatus (state.h) */
    int64_t raised, seen, due;  /* seen: the signal's latest detection */
    int64_t closed;             /* acknowledged or overdue at; 0 while open */
} EngAlert;
/* Visit every alert of the live entities, by entity handle then raise
 * order, until fn returns nonzero. */
void     eng_alerts(Engine *e, int (*fn)(void *ud, const EngAlert *a), void *ud);
int      eng_alert(Engine *e, uint64_t id, EngAlert *out);         /* 1 found */
const char *eng_priority_name(uint32_t priority);                  /* DnaSignal.priority */

/* Approval ids run 1..eng_approvals() in the order runs were parked. */
typedef struct EngApproval {
    uint64_t id;
    uint64_t entity;            /* the live entity, 0 if none */
    uint32_t rule;              /* the workflow */
    uint8_t status;             /* 0 pending, 1 approved, 2 rejected */
    int64_t parked, decided;    /* decided: 0 while pending */
} EngApproval;
uint64_t eng_approvals(const Engine *e);
int      eng_approval(Engine *e, uint64_t id, EngApproval *out);   /* 1 found */
/* The parked actions as a JSON array, as the `approval` effect lists them;
 * once decided, without the argument values (freed at the decision). */
void     eng_approval_actions(Engine *e, uint64_t id, JsonW *w);

#endif
