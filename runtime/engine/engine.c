/*
 * engine.c - events, entities and the order of an evaluation (engine.h).
 *
 * One evaluation of an entity, by an event or by one of its timers, runs
 * at `now` = max(its own time, the entity's clock) (eng_enter), and then
 * the entity's clock is `now` (eng_leave):
 *   1. refresh the computed slots (score, components, intent) at `now` and
 *      derive fields; a new entity's state is the baseline of its first
 *      observation
 *   2. observe the watched values: changes / becomes / crosses fire here on
 *      what happened since the last evaluation (decay and expiry included)
 *   3. an event ends the sequence enrollments it is the `exit on` event of;
 *      then the event's rules from the trigger index (or the timer's rule),
 *      then `created` and `changed` rules
 *   4. stage bookkeeping (eng_deal.c: stage_entered_at, probability,
 *      capacity of closed deals; also done first, for new stages), then
 *      refresh and derive fields
 *   5. observe the watched values again: triggers caused by step 3
 *   6. routing, for an entity not yet routed
 *   7. timers: inactivity moves, `stays` arms or cancels
 * Rule code never reads the wall clock: `now` is the event's occurred_at
 * or the timer's due time.
 */
#include "engine/eng_int.h"
#include "base/clock.h"
#include "base/json.h"
#include "base/mem.h"

#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const eff_names[] = {
#define X(e, s) s,
    EFF_KINDS(X)
#undef X
};

const char *eng_effect_name(EffKind k) { return k < EFF__COUNT ? eff_names[k] : "?"; }

/* ---- set-up ---------------------------------------------------------------- */

/* dna_malloc, zeroed: what eng_free meets after a failed eng_new is NULL or valid. */
static void *zalloc(size_t n)
{
    void *p = dna_malloc(n);
    if (p) memset(p, 0, n);
    return p;
}

static int unit_reads(Engine *e, uint32_t ui, UnitReads *out)
{
    const DnaBundle *b = e->b;
    const DnaUnit *u = &b->units[ui];
    uint32_t n = 0;
    UnitRead tmp[32];
    for (uint32_t pc = u->pc; pc < u->pc + u->len && n < 32; pc++) {
        uint32_t ins = b->code[pc], op = ins & 0xff, bx = ins >> 16;
        if (op != VM_OP_LDE && op != VM_OP_LDS) continue;
        UnitRead r = { op == VM_OP_LDE, bx };
        int dup = 0;
        for (uint32_t i = 0; i < n; i++) dup |= tmp[i].from_event == r.from_event && tmp[i].slot == r.slot;
        if (!dup) tmp[n++] = r;
    }
    out->n = n;
    out->v = n ? dna_malloc(sizeof(UnitRead) * n) : NULL;
    if (out->v) memcpy(out->v, tmp, sizeof(UnitRead) * n);
    else out->n = 0;
    return out->v || !n;
}

static int build_index(Engine *e)
{
    const DnaBundle *b = e->b;
    uint32_t ne = b->nentities ? b->nentities : 1;
    e->trig_event = zalloc(sizeof(uint32_t) * (b->nevents ? b->nevents : 1));
    e->trig_kind = zalloc(sizeof(uint32_t) * DK__COUNT * ne);
    e->trig_fields = zalloc(sizeof(uint32_t *) * ne);
    if (!e->trig_event || !e->trig_kind || !e->trig_fields) return 0;
    for (uint32_t k = 0; k < b->nentities; k++) {
        uint32_t n = 0;
        for (uint32_t i = 0; i < b->ntriggers; i++) n += b->triggers[i].kind == DK_FIELD && b->triggers[i].a == k;
        e->trig_fields[k] = dna_malloc(sizeof(uint32_t) * (n + 1));
        if (!e->trig_fields[k]) return 0;
        n = 0;
        for (uint32_t i = 0; i < b->ntriggers; i++)
            if (b->triggers[i].kind == DK_FIELD && b->triggers[i].a == k) e->trig_fields[k][n++] = i + 1;
        e->trig_fields[k][n] = 0;
    }
    for (uint32_t i = 0; i < b->ntriggers; i++) {
        const DnaTrigger *t = &b->triggers[i];
        if (t->kind == DK_EVENT) { if (t->a < b->nevents && !e->trig_event[t->a]) e->trig_event[t->a] = i + 1; }
        else if (t->kind != DK_FIELD && t->kind < DK__COUNT && t->a < b->nentities && !e->trig_kind[t->kind * ne + t->a])
            e->trig_kind[t->kind * ne + t->a] = i + 1;
    }
    return 1;
}

const DnaTrigger *eng_trigger(Engine *e, uint8_t key, uint32_t a)
{
    const DnaBundle *b = e->b;
    uint32_t i;
    if (key == DK_EVENT) i = a < b->nevents ? e->trig_event[a] : 0;
    else i = key < DK__COUNT && a < b->nentities ? e->trig_kind[key * (b->nentities ? b->nentities : 1) + a] : 0;
    return i ? &b->triggers[i - 1] : NULL;
}

uint32_t eng_slot(Engine *e, uint32_t kind, const char *lit)
{
    uint32_t h = (uint32_t)(((uintptr_t)lit >> 3) ^ (kind * 2654435761u)) & 127;
    if (e->slot_cache[h].name == lit && e->slot_cache[h].kind == kind) return e->slot_cache[h].slot;
    uint32_t s = bundle_slot(e->b, kind, lit);
    e->slot_cache[h].name = lit;
    e->slot_cache[h].kind = kind;
    e->slot_cache[h].slot = s;
    return s;
}

Engine *eng_new(const DnaBundle *b, Store *st, EngSink sink, void *ud)
{
    Engine *e = dna_malloc(sizeof *e);
    if (!e) return NULL;
    memset(e, 0, sizeof *e);
    e->b = b;
    e->st = st;
    e->sink = sink;
    e->ud = ud;
    vm_init(&e->vm);
    e->jit = jit_acquire(b);
    if (!e->jit) { dna_free(e, sizeof *e); return NULL; }      /* out of memory */
    tmr_init(&e->timers);
    jw_init(&e->w);
    jw_init(&e->tw);
    e->evtype = DNA_NIL;
    e->ledger_of = zalloc(sizeof(uint32_t *) * (b->nentities ? b->nentities : 1));
    e->nledgers = zalloc(sizeof(uint32_t) * (b->nentities ? b->nentities : 1));
    e->reads = zalloc(sizeof(UnitReads) * (b->nunits ? b->nunits : 1));
    e->teams = zalloc(sizeof(TeamState) * (b->nteams ? b->nteams : 1));
    e->seqcount = zalloc(sizeof(SeqCount) * (b->nopts ? b->nopts : 1));
    if (!e->ledger_of || !e->nledgers || !e->reads || !e->teams || !e->seqcount) { eng_free(e); return NULL; }
    for (uint32_t k = 0; k < b->nentities; k++) {
        const DnaEntity *en = &b->entities[k];
        e->ledger_of[k] = dna_malloc(sizeof(uint32_t) * (en->nslots ? en->nslots : 1));
        if (!e->ledger_of[k]) { eng_free(e); return NULL; }
        uint32_t n = 0;
        for (uint32_t s = 0; s < en->nslots; s++) {
            uint8_t sk = en->slots[s].kind;
            e->ledger_of[k][s] = (sk == DS_COMPONENT || sk == DS_INTENT_CATEGORY) ? n++ : DNA_NIL;
        }
        e->nledgers[k] = n;
    }
    for (uint32_t i = 0; i < b->nunits; i++)
        if (!unit_reads(e, i, &e->reads[i])) { eng_free(e); return NULL; }
    if (!build_index(e)) { eng_free(e); return NULL; }
    for (uint32_t i = 0; i < b->nteams; i++) {
        uint32_t m = b->teams[i].nmembers ? b->teams[i].nmembers : 1;
        e->teams[i].current = zalloc(sizeof(int64_t) * m);
        e->teams[i].credit = zalloc(sizeof(int64_t) * m);
        if (!e->teams[i].current || !e->teams[i].credit) { eng_free(e); return NULL; }
    }
    return e;
}

void eng_free(Engine *e)
{
    if (!e) return;
    const DnaBundle *b = e->b;
    jit_release(e->jit);
    if (e->ledger_of)
        for (uint32_t k = 0; k < b->nentities; k++)
            dna_free(e->ledger_of[k], sizeof(uint32_t) * (b->entities[k].nslots ? b->entities[k].nslots : 1));
    dna_free(e->ledger_of, sizeof(uint32_t *) * (b->nentities ? b->nentities : 1));
    dna_free(e->nledgers, sizeof(uint32_t) * (b->nentities ? b->nentities : 1));
    if (e->reads)
        for (uint32_t i = 0; i < b->nunits; i++) dna_free(e->reads[i].v, sizeof(UnitRead) * e->reads[i].n);
    dna_free(e->reads, sizeof(UnitReads) * (b->nunits ? b->nunits : 1));
    if (e->teams)
        for (uint32_t i = 0; i < b->nteams; i++) {
            uint32_t m = b->teams[i].nmembers ? b->teams[i].nmembers : 1;
            dna_free(e->teams[i].current, sizeof(int64_t) * m);
            dna_free(e->teams[i].credit, sizeof(int64_t) * m);
        }
    dna_free(e->teams, sizeof(TeamState) * (b->nteams ? b->nteams : 1));
    dna_free(e->seqcount, sizeof(SeqCount) * (b->nopts ? b->nopts : 1));
    eng_pending_free(e);
    dna_free(e->evslots, sizeof(DnaValue) * e->capevslots);
    dna_free(e->trig_event, sizeof(uint32_t) * (b->nevents ? b->nevents : 1));
    dna_free(e->trig_kind, sizeof(uint32_t) * DK__COUNT * (b->nentities ? b->nentities : 1));
    if (e->trig_fields)
        for (uint32_t k = 0; k < b->nentities; k++) {
            uint32_t n = 0;
            while (e->trig_fields[k] && e->trig_fields[k][n]) n++;
            dna_free(e->trig_fields[k], sizeof(uint32_t) * (n + 1));
        }
    dna_free(e->trig_fields, sizeof(uint32_t *) * (b->nentities ? b->nentities : 1));
    tmr_free(&e->timers);
    dna_free(e->readbuf, e->readcap);
    jw_free(&e->w);
    jw_free(&e->tw);
    dna_free(e, sizeof *e);
}

int64_t eng_clock(const Engine *e) { return e->clock; }
const EngStats *eng_stats(const Engine *e) { return &e->stats; }
uint64_t eng_count(const Engine *e) { return e->st->ops->count(e->st); }

/* ---- VM glue ---------------------------------------------------------------- */

static const DnaValue *deref(void *ud, uint32_t kind, int64_t handle, uint32_t *nslots)
{
    Engine *e = ud;
    Ent *x = eng_live(e, (uint64_t)handle);
    if (!x || x->kind != kind) return NULL;
    *nslots = x->nslots;
    return x->slots;
}

static int32_t tz_offset(void *ud, const char *tz, int64_t ts)
{
    (void)ud;
    const Zone *z = clk_zone(tz);
    return z ? clk_offset(z, ts) : 0;
}

DnaState eng_state(Engine *e, Ent *x)
{
    DnaState s;
    memset(&s, 0, sizeof s);
    s.event = e->evtype != DNA_NIL ? e->evslots : NULL;
    s.nevent = e->evtype != DNA_NIL ? e->nevslots : 0;
    s.entity = x ? x->slots : NULL;
    s.nentity = x ? x->nslots : 0;
    s.self = x ? (int64_t)x->handle : 0;
    s.now_ms = e->now;
    s.deref = deref;
    s.tz_offset = tz_offset;
    s.ud = e;
    return s;
}

VmResult eng_vm(Engine *e, uint32_t unit, const DnaState *s, DnaValue *out)
{
    return jit_eval(&e->vm, e->jit, e->b, unit, s, out);
}

void eng_jit_describe(const Engine *e, char *buf, size_t len) { jit_describe(e->jit, buf, len); }

int eng_eval(Engine *e, Ent *x, uint32_t unit, DnaValue *out)
{
    *out = dna_none();
    if (unit == DNA_NIL || unit >= e->b->nunits) return 0;
    const DnaUnit *u = &e->b->units[unit];
    if (u->event != DNA_NIL && u->event != e->evtype) return 0;   /* reads an event this is not */
    DnaState s = eng_state(e, x);
    if (eng_vm(e, unit, &s, out) != VM_OK) {
        char msg[256];
        vm_error_text(&e->vm, e->b, msg, sizeof msg);
        /* an effect line may be half written (an action's argument failed):
         * the error gets a writer of its own */
        JsonW saved = e->w;
        jw_init(&e->w);
        eff_begin(e, x, EFF_ERROR, u->rule);
        jw_key(&e->w, "message");
        jw_str(&e->w, msg);
        eff_end(e, x, EFF_ERROR, u->rule);
        jw_free(&e->w);
        e->w = saved;
        *out = dna_none();
        return 0;
    }
    return 1;
}

int eng_truthy(Engine *e, Ent *x, uint32_t unit)
{
    if (unit == DNA_NIL) return 1;
    DnaValue v;
    if (!eng_eval(e, x, unit, &v)) return 0;
    return v.kind == DNA_VK_INT ? v.u.i != 0 : v.kind == DNA_VK_STR ? v.len != 0 : 0;
}

void eng_value_json(Engine *e, JsonW *w, DnaValue v, DnaType t) { eng_write_value(e, w, v, t); }

/* ---- entities ---------------------------------------------------------------- */

Ent *eng_live(Engine *e, uint64_t h)
{
    Ent *x = e->st->ops->get(e->st, h);
    for (int guard = 0; x && x->merged_into && guard < 64; guard++) x = e->st->ops->get(e->st, x->merged_into);
    return x;
}

Ent *eng_entity(Engine *e, uint64_t h) { return e->st->ops->get(e->st, h); }

const char *eng_key_of(Engine *e, Ent *x)
{
    const DnaEntity *en = &e->b->entities[x->kind];
    for (uint32_t i = 0; i < en->nidentity; i++) {
        DnaValue v = x->slots[en->identity[i]];
        if (v.kind == DNA_VK_STR) return v.u.s;
    }
    return "";
}

const char *eng_entity_key(Engine *e, uint64_t h, const char **kind)
{
    Ent *x = e->st->ops->get(e->st, h);
    if (!x || x->merged_into) return NULL;
    *kind = bundle_str(e->b, e->b->entities[x->kind].name);
    return eng_key_of(e, x);
}

EntObs *eng_obs_get(Ent *x, uint32_t slot)
{
    for (uint32_t i = 0; i < x->nobs; i++)
        if (x->obs[i].slot == slot) return &x->obs[i];
    return NULL;
}

void eng_obs_set(Engine *e, Ent *x, uint32_t slot, int present, int64_t v)
{
    (void)e;
    EntObs *o = eng_obs_get(x, slot);
    if (!o) {
        if (x->nobs == x->capobs) {
            uint32_t nc = x->capobs ? x->capobs * 2 : 4;
            EntObs *no = dna_realloc(x->obs, sizeof(EntObs) * x->capobs, sizeof(EntObs) * nc);
            if (!no) return;
            x->obs = no;
            x->capobs = nc;
        }
        o = &x->obs[x->nobs++];
        o->slot = slot;
    }
    o->present = (uint8_t)present;
    o->v = v;
}

static void init_defaults(Engine *e, Ent *x)
{
    const DnaEntity *en = &e->b->entities[x->kind];
    for (uint32_t s = 0; s < en->nslots; s++) {
        const DnaSlot *sl = &en->slots[s];
        if (sl->dflt != DNA_NIL && sl->dflt < e->b->nconsts) ent_set(x, s, e->b->kvals[sl->dflt]);
        else if (!sl->type.optional && sl->kind != DS_IDENTITY) {
            switch (sl->type.code) {
            case DT_BOOL: case DT_INT: case DT_DEC: case DT_DUR: case DT_ENUM: ent_set(x, s, dna_int(0)); break;
            case DT_STR: ent_set(x, s, dna_str("", 0)); break;
            default: break;
            }
        }
    }
}

static uint32_t slot_named(const DnaBundle *b, uint32_t kind, const char *name)
{
    return bundle_slot(b, kind, name);
}

static void set_time_slot(Engine *e, Ent *x, const char *name, int64_t t)
{
    uint32_t s = eng_slot(e, x->kind, name);
    if (s != DNA_NIL) ent_set(x, s, dna_int(t));
}

static Ent *create(Engine *e, uint32_t kind)
{
    const DnaEntity *en = &e->b->entities[kind];
    Ent *x = e->st->ops->create(e->st, kind, en->nslots, e->nledgers[kind]);
    if (!x) return NULL;
    init_defaults(e, x);
    set_time_slot(e, x, "created_at", e->now);
    set_time_slot(e, x, "updated_at", e->now);
    set_time_slot(e, x, "last_activity_at", e->now);
    return x;
}

Ent *eng_create(Engine *e, uint32_t kind) { return kind < e->b->nentities ? create(e, kind) : NULL; }

void eng_first_time(Engine *e, int64_t t)
{
    if (e->armed) return;
    e->armed = 1;
    eng_arm_schedules(e, t);
}

/* ---- envelopes ------------------------------------------------------------------ */

#define REJECT(...) do { snprintf(why, whylen, __VA_ARGS__); goto reject; } while (0)

int eng_type_ok(const DnaBundle *b, DnaType t, json_t *v, DnaValue *out, char *msg, size_t ml)
{
    if (json_is_null(v)) {
        if (!t.optional) { snprintf(msg, ml, "is null but not optional"); return 0; }
        *out = dna_none();
        return 1;
    }
    switch (t.code) {
    case DT_STR:
        if (!json_is_string(v)) { snprintf(msg, ml, "must be a string"); return 0; }
        *out = dna_str(json_string_value(v), (uint32_t)json_string_length(v));
        return 1;
    case DT_INT:
        if (!json_is_integer(v)) { snprintf(msg, ml, "must be an integer"); return 0; }
        *out = dna_int(json_integer_value(v));
        return 1;
    case DT_DEC: {
        if (!json_is_number(v)) { snprintf(msg, ml, "must be a number"); return 0; }
        double d = json_number_value(v) * 1000.0;
        if (d > 9.2e18 || d < -9.2e18) { snprintf(msg, ml, "is out of range"); return 0; }
        *out = dna_int(led_round(d));
        return 1;
    }
    case DT_BOOL:
        if (!json_is_boolean(v)) { snprintf(msg, ml, "must be true or false"); return 0; }
        *out = dna_int(json_is_true(v));
        return 1;
    case DT_TS: {
        int64_t ms;
        if (!json_is_string(v) || clk_parse(json_string_value(v), json_string_length(v), &ms)) {
            snprintf(msg, ml, "must be an RFC 3339 time stamp");
            return 0;
        }
        *out = dna_int(ms);
        return 1;
    }
    case DT_DUR:
        if (!json_is_integer(v)) { snprintf(msg, ml, "must be a number of milliseconds"); return 0; }
        *out = dna_int(json_integer_value(v));
        return 1;
    case DT_ENUM: {
        if (!json_is_string(v) || t.ref >= b->nenums) { snprintf(msg, ml, "must be a string"); return 0; }
        const DnaEnum *en = &b->enums[t.ref];
        for (uint32_t i = 0; i < en->nvalues; i++)
            if (!strcmp(bundle_str(b, en->values[i]), json_string_value(v))) { *out = dna_int(i); return 1; }
        snprintf(msg, ml, "'%.40s' is not a value of %s", json_string_value(v), bundle_str(b, en->name));
        return 0;
    }
    default:
        snprintf(msg, ml, "has a type events cannot carry");
        return 0;
    }
}

/* An entity reference in a payload: an identity value or {key: value}. */
static Ent *resolve(Engine *e, uint32_t kind, json_t *subject, int *created);

/* An accepted event moves time: timers due at or before its occurred_at
 * fire first, then it becomes the evaluation in progress, at its own
 * time until its entity is known (eng_enter raises `now` to the entity's
 * clock). */
static void accept_at(Engine *e, int64_t at, const char *id, uint32_t evtype)
{
    e->stats.events++;
    eng_first_time(e, at);
    eng_advance(e, at);
    if (!e->have_clock || at > e->clock) e->clock = at;
    e->have_clock = 1;
    e->now = at;
    e->at = at;
    e->evid = id;
    e->evtype = evtype;
    e->depth = 0;
}

EngResult eng_event(Engine *e, const char *json, size_t len, char *why, size_t whylen)
{
    uint64_t refused = dna_mem_refused();
    JsonError je;
    json_t *root = dna_json_parse(json, len, &je);
    if (!root && dna_mem_refused() != refused) {
        snprintf(why, whylen, "out of memory");
        return ENG_NOMEM;
    }
    if (!root) {
        snprintf(why, whylen, "malformed JSON at column %d: %s", je.column, je.text);
        e->stats.rejected++;
        return ENG_REJECTED;
    }
    EngResult rc = eng_event_doc(e, root, why, whylen);
    json_decref(root);
    return rc;
}

/* The parts of an envelope every type has. */
typedef struct Env {
    json_t *root, *jid, *jtype, *jat, *jsub, *jdata, *jsrc;
    const char *type;
    int64_t at;
    uint32_t ev, kind;          /* the bundle's event (DNA_NIL: a built-in), the subject's kind */
    int ack, cres;
    uint32_t ack_signal;
    uint64_t ack_alert;
} Env;

#define REJECTF(...) do { snprintf(why, whylen, __VA_ARGS__); return 0; } while (0)

static int env_head(Engine *e, Env *v, char *why, size_t whylen)
{
    const DnaBundle *b = e->b;
    json_t *root = v->root;
    if (!json_is_object(root)) REJECTF("an event is a JSON object");
    v->jid = json_object_get(root, "id");
    v->jtype = json_object_get(root, "type");
    v->jat = json_object_get(root, "occurred_at");
    v->jsub = json_object_get(root, "subject");
    v->jdata = json_object_get(root, "data");
    v->jsrc = json_object_get(root, "source");
    if (!v->jid) REJECTF("missing \"id\"");
    if (!json_is_string(v->jid) || !json_string_length(v->jid)) REJECTF("\"id\" must be a non-empty string");
    if (json_string_length(v->jid) > 200) REJECTF("\"id\" is longer than 200 bytes");
    if (!v->jtype) REJECTF("missing \"type\"");
    if (!json_is_string(v->jtype)) REJECTF("\"type\" must be a string");
    v->type = json_string_value(v->jtype);
    v->ev = bundle_event(b, v->type);
    v->ack = !strcmp(v->type, "alert_ack");
    v->cres = v->ev == DNA_NIL && !strcmp(v->type, "connector_result");
    if (v->ev == DNA_NIL && !v->ack && !v->cres && strcmp(v->type, "approval"))
        REJECTF("unknown event type '%.60s'", v->type);
    if (!v->jat) REJECTF("missing \"occurred_at\"");
    if (!json_is_string(v->jat) || clk_parse(json_string_value(v->jat), json_string_length(v->jat), &v->at))
        REJECTF("\"occurred_at\" must be an RFC 3339 time stamp");
    /* timers run from one event to the next: a year 9999 would fire a
     * daily schedule for eight thousand years */
    if (v->at < ENG_TIME_MIN || v->at >= ENG_TIME_MAX) REJECTF("\"occurred_at\" must lie between 1970 and 2199");
    if (v->jsrc && !json_is_string(v->jsrc)) REJECTF("\"source\" must be a string");
    return 1;
}

static int seen(Engine *e, const Env *v)
{
    if (!e->st->ops->seen_event(e->st, json_string_value(v->jid), (uint32_t)json_string_length(v->jid))) return 0;
    e->stats.duplicates++;
    return 1;
}

/* The built-in decision on a parked workflow run: data {id, decision}. */
static EngResult env_approval(Engine *e, Env *v, char *why, size_t whylen)
{
    json_t *jn = v->jdata ? json_object_get(v->jdata, "id") : NULL, *jd = v->jdata ? json_object_get(v->jdata, "decision") : NULL;
    if (!jn || !json_is_integer(jn) || json_integer_value(jn) < 1) REJECT("\"data.id\" must be an approval id (an integer)");
    if (!jd || !json_is_string(jd) || (strcmp(json_string_value(jd), "approve") && strcmp(json_string_value(jd), "reject")))
        REJECT("\"data.decision\" must be \"approve\" or \"reject\"");
    /* the envelope is well formed: the id counts as seen (a validating
     * engine, like dnad serve's, stops here), then the decision applies */
    if (seen(e, v)) return ENG_DUPLICATE;
    EngPending *p = eng_pending(e, (uint64_t)json_integer_value(jn));
    if (!p) REJECT("there is no approval %lld", (long long)json_integer_value(jn));
    if (p->status != PEND_OPEN)
        REJECT("approval %lld was already %s", (long long)p->id, p->status == PEND_APPROVED ? "approved" : "rejected");
    accept_at(e, v->at, json_string_value(v->jid), DNA_NIL);
    /* timers that fired may have parked more runs and moved the list: look it up again */
    eng_decide(e, eng_pending(e, (uint64_t)json_integer_value(jn)), !strcmp(json_string_value(jd), "approve"));
    return ENG_OK;
reject:
    e->stats.rejected++;
    return ENG_REJECTED;
}

/* The subject's entity kind, from "entity" or from the identities named. */
static int env_subject(Engine *e, Env *v, char *why, size_t whylen)
{
    const DnaBundle *b = e->b;
    if (!v->jsub || !json_is_object(v->jsub)) REJECTF("missing \"subject\" object");
    if (v->jdata && !json_is_object(v->jdata) && !json_is_null(v->jdata)) REJECTF("\"data\" must be an object");
    json_t *jent = json_object_get(v->jsub, "entity");
    v->kind = DNA_NIL;
    if (jent) {
        if (!json_is_string(jent)) REJECTF("\"subject.entity\" must be a string");
        v->kind = bundle_entity(b, json_string_value(jent));
        if (v->kind == DNA_NIL) REJECTF("unknown entity '%.60s' in subject", json_string_value(jent));
    }
    const char *key;
    json_t *val;
    int nids = 0;
    json_object_foreach(v->jsub, key, val) {
        if (!strcmp(key, "entity")) continue;
        uint32_t k = v->kind;
        if (k == DNA_NIL)
            for (uint32_t i = 0; i < b->nentities && k == DNA_NIL; i++)
                for (uint32_t j = 0; j < b->entities[i].nidentity; j++)
                    if (!strcmp(bundle_str(b, b->entities[i].slots[b->entities[i].identity[j]].name), key)) { k = i; break; }
        if (k == DNA_NIL) REJECTF("\"subject.%.40s\" is not an identity of any entity", key);
        uint32_t s = slot_named(b, k, key);
        int is_id = 0;
        for (uint32_t j = 0; s != DNA_NIL && j < b->entities[k].nidentity; j++) is_id |= b->entities[k].identity[j] == s;
        if (!is_id) REJECTF("\"subject.%.40s\" is not an identity of %s", key, bundle_str(b, b->entities[k].name));
        if (!json_is_string(val) || !json_string_length(val)) REJECTF("\"subject.%.40s\" must be a non-empty string", key);
        v->kind = k;
        nids++;
    }
    if (!nids) REJECTF("the subject names no identity");
    return 1;
}

/* The payload into the event's slots (references resolve once accepted).
 * -1: out of memory. */
static int env_payload(Engine *e, Env *v, char *why, size_t whylen)
{
    const DnaBundle *b = e->b;
    const DnaEvent *de = &b->events[v->ev];
    if (de->nslots > e->capevslots) {
        DnaValue *ns = dna_realloc(e->evslots, sizeof(DnaValue) * e->capevslots, sizeof(DnaValue) * de->nslots);
        if (!ns) return -1;
        e->evslots = ns;
        e->capevslots = de->nslots;
    }
    e->nevslots = de->nslots;
    memset(e->evslots, 0, sizeof(DnaValue) * de->nslots);
    e->evslots[0] = dna_str(json_string_value(v->jid), (uint32_t)json_string_length(v->jid));
    e->evslots[1] = dna_str(v->type, (uint32_t)json_string_length(v->jtype));
    e->evslots[2] = v->jsrc ? dna_str(json_string_value(v->jsrc), (uint32_t)json_string_length(v->jsrc)) : dna_str("", 0);
    e->evslots[3] = dna_int(v->at);
    json_t *jdata = v->jdata && json_is_object(v->jdata) ? v->jdata : NULL;
    const char *key;
    json_t *val;
    if (jdata)
        json_object_foreach(jdata, key, val) {
            uint32_t s = bundle_event_slot(b, v->ev, key);
            if (s == DNA_NIL || s < 4) REJECTF("\"data.%.40s\" is not a field of %s", key, v->type);
        }
    for (uint32_t s = 4; s < de->nslots; s++) {
        const DnaSlot *sl = &de->slots[s];
        const char *fname = bundle_str(b, sl->name);
        json_t *jv = jdata ? json_object_get(jdata, fname) : NULL;
        if (!jv) {
            if (!sl->type.optional && sl->dflt == DNA_NIL) REJECTF("\"data.%s\" is missing", fname);
            e->evslots[s] = sl->dflt != DNA_NIL ? b->kvals[sl->dflt] : dna_none();
            continue;
        }
        char msg[128];
        if (sl->type.code == DT_REF) {
            if (!json_is_string(jv) && !json_is_object(jv))
                REJECTF("\"data.%s\" must name a %s", fname, bundle_str(b, b->entities[sl->type.ref].name));
            continue;                           /* resolved once the event is accepted */
        }
        if (!eng_type_ok(b, sl->type, jv, &e->evslots[s], msg, sizeof msg)) REJECTF("\"data.%s\" %s", fname, msg);
    }
    return 1;
}

/* alert_ack's data: {signal}, {alert} or both. */
static int env_ack_data(Engine *e, Env *v, char *why, size_t whylen)
{
    const DnaBundle *b = e->b;
    json_t *jdata = v->jdata && json_is_object(v->jdata) ? v->jdata : NULL;
    json_t *sig = jdata ? json_object_get(jdata, "signal") : NULL;
    v->ack_signal = DNA_NIL;
    v->ack_alert = 0;
    if (sig) {
        if (!json_is_string(sig)) REJECTF("\"data.signal\" must be a string");
        for (uint32_t i = 0; i < b->nsignals; i++)
            if (!strcmp(bundle_str(b, b->signals[i].name), json_string_value(sig))) v->ack_signal = i;
        if (v->ack_signal == DNA_NIL) REJECTF("alert_ack names unknown signal '%.60s'", json_string_value(sig));
    }
    json_t *jal = jdata ? json_object_get(jdata, "alert") : NULL;
    if (jal) {
        if (!json_is_integer(jal) || json_integer_value(jal) < 1) REJECTF("\"data.alert\" must be an alert id (an integer)");
        v->ack_alert = (uint64_t)json_integer_value(jal);
    }
    return 1;
}

/* An acknowledgement is about an entity that exists, and a named alert
 * must be one it holds, not acknowledged yet. */
static int env_ack_target(Engine *e, Env *v, char *why, size_t whylen)
{
    const DnaBundle *b = e->b;
    const DnaEntity *en = &b->entities[v->kind];
    uint64_t found = 0;
    for (uint32_t i = 0; i < en->nidentity && !found; i++) {
        json_t *jv = json_object_get(v->jsub, bundle_str(b, en->slots[en->identity[i]].name));
        if (jv && json_is_string(jv))
            found = e->st->ops->find(e->st, v->kind, en->identity[i], json_string_value(jv), (uint32_t)json_string_length(jv));
    }
    if (!found) REJECTF("alert_ack for a %s that does not exist", bundle_str(b, en->name));
    if (!v->ack_alert) return 1;
    Ent *y = eng_live(e, found);
    const EntSignal *as = NULL;
    for (uint32_t i = 0; y && i < y->nsignals; i++) if (y->signals[i].alert == v->ack_alert) as = &y->signals[i];
    if (!as) REJECTF("the %s holds no alert %llu", bundle_str(b, en->name), (unsigned long long)v->ack_alert);
    if (v->ack_signal != DNA_NIL && as->signal != v->ack_signal)
        REJECTF("alert %llu is not a %s alert", (unsigned long long)v->ack_alert, bundle_str(b, b->signals[v->ack_signal].name));
    if (as->status == AL_ACKED) REJECTF("alert %llu was already acknowledged", (unsigned long long)v->ack_alert);
    return 1;
}

/* Attribution: the first touch is the earliest event with a source, the
 * last touch the latest (late events fit in between); activity is the
 * latest occurred_at. */
static void attribute(Engine *e, Ent *x, const Env *v)
{
    const DnaBundle *b = e->b;
    int64_t at = v->at;
    if (v->jsrc) {
        uint32_t cs = bundle_event_slot(b, v->ev, "utm_campaign");
        DnaValue camp = cs != DNA_NIL ? e->evslots[cs] : dna_none();
        DnaValue src = e->evslots[2];
        uint32_t fs = eng_slot(e, x->kind, "first_touch.source"), fa = eng_slot(e, x->kind, "first_touch.at");
        if (fs != DNA_NIL && (x->slots[fs].kind == DNA_VK_NONE ||
                              (fa != DNA_NIL && x->slots[fa].kind == DNA_VK_INT && at < x->slots[fa].u.i))) {
            ent_set(x, fs, src);
            set_time_slot(e, x, "first_touch.at", at);
            uint32_t fc = eng_slot(e, x->kind, "first_touch.campaign");
            if (fc != DNA_NIL) ent_set(x, fc, camp);
        }
        uint32_t ls = eng_slot(e, x->kind, "last_touch.source"), lt = eng_slot(e, x->kind, "last_touch.at");
        if (ls != DNA_NIL && (x->slots[ls].kind == DNA_VK_NONE || lt == DNA_NIL ||
                              x->slots[lt].kind != DNA_VK_INT || at >= x->slots[lt].u.i)) {
            ent_set(x, ls, src);
            set_time_slot(e, x, "last_touch.at", at);
            uint32_t lc = eng_slot(e, x->kind, "last_touch.campaign");
            if (lc != DNA_NIL) ent_set(x, lc, camp);
        }
    }
    uint32_t la = eng_slot(e, x->kind, "last_activity_at");
    if (la != DNA_NIL && (x->slots[la].kind == DNA_VK_NONE || x->slots[la].u.i < at)) ent_set(x, la, dna_int(at));
}

/* The payload's references, now that the event is accepted: entities they
 * create are evaluated (their `created` rules) before the subject. */
static Ent *resolve_refs(Engine *e, const Env *v, Ent *x)
{
    const DnaBundle *b = e->b;
    const DnaEvent *de = &b->events[v->ev];
    for (uint32_t s = 4; s < de->nslots; s++) {
        if (de->slots[s].type.code != DT_REF) continue;
        json_t *jv = v->jdata ? json_object_get(v->jdata, bundle_str(b, de->slots[s].name)) : NULL;
        if (!jv) continue;
        json_t *sub = jv;
        if (json_is_string(jv)) {
            /* a bare value: the first identity of that entity */
            const DnaEntity *te = &b->entities[de->slots[s].type.ref];
            sub = json_object();
            json_object_set(sub, bundle_str(b, te->slots[te->identity[0]].name), jv);
        }
        int c2 = 0;
        Ent *r = resolve(e, de->slots[s].type.ref, sub, &c2);
        if (sub != jv) json_decref(sub);
        e->evslots[s] = r ? dna_int((int64_t)r->handle) : dna_none();
        if (r && c2) { e->evtype = v->ev; eng_evaluate(e, r, 1); x = eng_live(e, x->handle); }
    }
    return x;
}

static EngResult event_doc(Engine *e, json_t *root, char *why, size_t whylen)
{
    EngResult rc = ENG_OK;
    Env v;
    memset(&v, 0, sizeof v);
    v.root = root;
    if (!env_head(e, &v, why, whylen)) goto reject;
    if (v.ev == DNA_NIL && !strcmp(v.type, "approval")) { rc = env_approval(e, &v, why, whylen); goto done; }
    if (!env_subject(e, &v, why, whylen)) goto reject;
    if (v.cres) {
        /* the built-in response of a connector call (eng_connector.c) */
        uint32_t mi;
        uint64_t hs[ENG_MAX_PARAMS];
        if (!v.jdata || !json_is_object(v.jdata)) REJECT("connector_result needs a \"data\" object");
        if (eng_call_check(e, v.jdata, &mi, why, whylen)) goto reject;
        if (seen(e, &v)) { rc = ENG_DUPLICATE; goto done; }
        if (eng_call_resolve(e, v.jdata, mi, hs, why, whylen)) goto reject;
        accept_at(e, v.at, json_string_value(v.jid), DNA_NIL);
        eng_call_apply(e, v.jdata, mi, hs);
        goto done;
    }
    if (!v.ack) {
        int pr = env_payload(e, &v, why, whylen);
        if (pr < 0) { rc = ENG_NOMEM; goto done; }
        if (!pr) goto reject;
    } else if (!env_ack_data(e, &v, why, whylen)) goto reject;
    if (seen(e, &v)) { rc = ENG_DUPLICATE; goto done; }
    /* the envelope is well formed, so its id counts as seen (a validating
     * engine, like dnad serve's, stops above) */
    if (v.ack && !env_ack_target(e, &v, why, whylen)) goto reject;
    accept_at(e, v.at, json_string_value(v.jid), v.ack ? DNA_NIL : v.ev);
    int created = 0;
    Ent *x = resolve(e, v.kind, v.jsub, &created);
    if (!x) { rc = ENG_NOMEM; goto done; }
    if (!created && x->clock != INT64_MIN && v.at < x->clock) e->stats.late++;
    else if (v.at < e->clock) e->stats.behind++;
    if (!v.ack) {
        x = resolve_refs(e, &v, x);
        attribute(e, x, &v);
        eng_evaluate(e, x, created);
    } else {
        uint64_t h = x->handle;
        int64_t saved = eng_enter(e, x);
        eng_ack(e, x, v.ack_signal, v.ack_alert);
        eng_leave(e, h, saved);
    }
    goto done;
reject:
    e->stats.rejected++;
    rc = ENG_REJECTED;
done:
    e->evtype = DNA_NIL;
    e->evid = NULL;
    return rc;
}

/* An allocation refused anywhere in the event (the store, ledgers, timers,
 * effect lines) makes it ENG_NOMEM: part of it did not happen. */
EngResult eng_event_doc(Engine *e, json_t *root, char *why, size_t whylen)
{
    uint64_t refused = dna_mem_refused();
    EngResult rc = event_doc(e, root, why, whylen);
    if (dna_mem_refused() != refused) {
        snprintf(why, whylen, "out of memory");
        rc = ENG_NOMEM;
    }
    return rc;
}

/* Find, create or merge the entity a subject names; bind its identities.
 * Merging entities meet at the later of their clocks. */
static Ent *resolve(Engine *e, uint32_t kind, json_t *subject, int *created)
{
    const DnaBundle *b = e->b;
    const DnaEntity *en = &b->entities[kind];
    uint64_t found[16];
    int nf = 0;
    for (uint32_t i = 0; i < en->nidentity; i++) {
        const char *name = bundle_str(b, en->slots[en->identity[i]].name);
        json_t *v = json_object_get(subject, name);
        if (!v || !json_is_string(v)) continue;
        uint64_t h = e->st->ops->find(e->st, kind, en->identity[i], json_string_value(v), (uint32_t)json_string_length(v));
        Ent *x = h ? eng_live(e, h) : NULL;
        if (!x) continue;
        int dup = 0;
        for (int k = 0; k < nf; k++) dup |= found[k] == x->handle;
        if (!dup && nf < 16) found[nf++] = x->handle;
    }
    Ent *x;
    *created = 0;
    if (!nf) {
        x = create(e, kind);
        if (!x) return NULL;
        *created = 1;
    } else {
        uint64_t min = found[0];
        for (int k = 1; k < nf; k++) if (found[k] < min) min = found[k];
        for (int k = 0; k < nf && nf > 1; k++) {
            Ent *y = eng_live(e, found[k]);
            if (y && y->clock > e->now) e->now = y->clock;
        }
        x = eng_live(e, min);
        for (int k = 0; k < nf; k++) {
            if (found[k] == min) continue;
            Ent *y = eng_live(e, found[k]);
            if (!y || y == x) continue;
            eng_merge(e, x, y);
        }
    }
    for (uint32_t i = 0; i < en->nidentity; i++) {
        uint32_t s = en->identity[i];
        json_t *v = json_object_get(subject, bundle_str(b, en->slots[s].name));
        if (!v || !json_is_string(v)) continue;
        e->st->ops->bind(e->st, kind, s, json_string_value(v), (uint32_t)json_string_length(v), x->handle);
        if (x->slots[s].kind == DNA_VK_NONE) {
            ent_set(x, s, dna_str(json_string_value(v), (uint32_t)json_string_length(v)));
            if (!*created) set_time_slot(e, x, "updated_at", e->now > x->clock ? e->now : x->clock);
        }
    }
    return x;
}

uint64_t eng_given(Engine *e, const char *kind_name, const char *json, size_t len, int64_t now, char *why, size_t whylen)
{
    const DnaBundle *b = e->b;
    uint32_t kind = bundle_entity(b, kind_name);
    if (kind == DNA_NIL) { snprintf(why, whylen, "unknown entity '%s'", kind_name); return 0; }
    JsonError je;
    json_t *root = dna_json_parse(json, len, &je);
    if (!root || !json_is_object(root)) { snprintf(why, whylen, "given: %s", root ? "not an object" : je.text); json_decref(root); return 0; }
    e->now = now;
    e->at = now;
    eng_first_time(e, now);
    if (!e->have_clock || now > e->clock) { e->clock = now; e->have_clock = 1; }
    int created = 0;
    json_t *ids = json_object();
    const DnaEntity *en = &b->entities[kind];
    for (uint32_t i = 0; i < en->nidentity; i++) {
        json_t *v = json_object_get(root, bundle_str(b, en->slots[en->identity[i]].name));
        if (v) json_object_set(ids, bundle_str(b, en->slots[en->identity[i]].name), v);
    }
    Ent *x = json_object_size(ids) ? resolve(e, kind, ids, &created) : (created = 1, create(e, kind));
    json_decref(ids);
    uint64_t h = 0;
    if (!x) { snprintf(why, whylen, "out of memory"); goto out; }
    const char *key;
    json_t *val;
    json_object_foreach(root, key, val) {
        uint32_t s = slot_named(b, kind, key);
        if (s == DNA_NIL) { snprintf(why, whylen, "'%s' is not a field of %s", key, kind_name); goto out; }
        const DnaSlot *sl = &en->slots[s];
        int is_id = 0;
        for (uint32_t j = 0; j < en->nidentity; j++) is_id |= en->identity[j] == s;
        if (is_id) continue;
        DnaValue v;
        char msg[128];
        if (sl->type.code == DT_REF) {
            const DnaEntity *te = &b->entities[sl->type.ref];
            uint64_t r = json_is_string(val) ? e->st->ops->find(e->st, sl->type.ref, te->identity[0], json_string_value(val),
                                                                (uint32_t)json_string_length(val)) : 0;
            if (!r) { snprintf(why, whylen, "'%s': no %s with that key", key, bundle_str(b, te->name)); goto out; }
            v = dna_int((int64_t)r);
        } else if (!eng_type_ok(b, sl->type, val, &v, msg, sizeof msg)) {
            snprintf(why, whylen, "'%s' %s", key, msg);
            goto out;
        }
        ent_set(x, s, v);
    }
    e->evtype = DNA_NIL;
    e->evid = NULL;
    eng_evaluate(e, x, created);
    h = x->handle;
out:
    json_decref(root);
    return h;
}

/* ---- the order of one evaluation --------------------------------------------------- */

static void run_trigger(Engine *e, Ent *x, uint8_t kind, uint32_t a)
{
    const DnaTrigger *t = eng_trigger(e, kind, a);
    if (!t) return;
    for (uint32_t i = 0; i < t->nrules; i++) {
        Ent *y = eng_live(e, x->handle);
        if (!y) return;
        eng_run_rule(e, y, t->rules[i]);
    }
}

int64_t eng_enter(Engine *e, Ent *x)
{
    int64_t saved = e->now;
    if (x && x->clock > e->now) e->now = x->clock;
    return saved;
}

void eng_leave(Engine *e, uint64_t h, int64_t saved)
{
    Ent *x = eng_live(e, h);
    /* time never runs backwards for an entity */
    assert(!x || x->clock == INT64_MIN || e->now >= x->clock);
    if (x && e->now > x->clock) x->clock = e->now;
    e->now = saved;
}

/* The first "before" observation of a new entity is its state at creation
 * (defaults, identities, derived values of that state): a state trigger
 * fires only on a real change. */
static void baseline(Engine *e, Ent *x)
{
    const uint32_t *fl = e->trig_fields[x->kind];
    for (uint32_t fi = 0; fl[fi]; fi++) {
        const DnaTrigger *t = &e->b->triggers[fl[fi] - 1];
        if (t->b >= x->nslots || eng_obs_get(x, t->b)) continue;
        DnaValue cur = x->slots[t->b];
        eng_obs_set(e, x, t->b, cur.kind != DNA_VK_NONE, eng_obs_scalar(cur));
    }
}

/* Activity moves inactivity timers: due the rule's duration after the
 * latest activity (a late event's own time counts only when it is the
 * latest), never into the entity's past. */
static void inactivity(Engine *e, Ent *x)
{
    const DnaTrigger *t = eng_trigger(e, DK_TIMER_INACTIVE, x->kind);
    uint32_t la = eng_slot(e, x->kind, "last_activity_at");
    int64_t last = la != DNA_NIL && x->slots[la].kind == DNA_VK_INT ? x->slots[la].u.i : e->at;
    if (last < e->at) last = e->at;
    for (uint32_t i = 0; t && i < t->nrules; i++) {
        const DnaRule *r = &e->b->rules[t->rules[i]];
        TimerKey k = { x->handle, t->rules[i], TK_INACTIVE };
        const Timer *cur = tmr_get(&e->timers, k);
        int64_t due = last + r->duration_ms;
        if (cur ? due != cur->due : due > e->now) tmr_set(&e->timers, k, due > e->now ? due : e->now, 0);
    }
}

void eng_evaluate(Engine *e, Ent *x, int created)
{
    uint64_t h = x->handle;
    int64_t saved = eng_enter(e, x);
    eng_stage_sync(e, x);                       /* a new (or given) stage: entered now */
    eng_refresh(e, x, e->now);
    eng_derive(e, x);
    if (created) baseline(e, x);
    eng_state_triggers(e, x);                   /* what happened since the last evaluation */
    x = eng_live(e, h);
    if (e->evtype != DNA_NIL) eng_seq_event(e, x);      /* `exit on EVENT` before the event's rules */
    x = eng_live(e, h);
    if (e->evtype != DNA_NIL) run_trigger(e, x, DK_EVENT, e->evtype);
    x = eng_live(e, h);
    if (created) run_trigger(e, x, DK_CREATED, x->kind);
    x = eng_live(e, h);
    if (created || x->dirty) run_trigger(e, x, DK_CHANGED, x->kind);
    x = eng_live(e, h);
    eng_stage_sync(e, x);
    eng_refresh(e, x, e->now);
    eng_derive(e, x);
    eng_state_triggers(e, x);                   /* what this evaluation did */
    x = eng_live(e, h);
    eng_route(e, x);
    x = eng_live(e, h);
    if (e->evtype != DNA_NIL) inactivity(e, x);
    x->dirty = 0;
    eng_leave(e, h, saved);
}

int eng_advance(Engine *e, int64_t wm)
{
    uint64_t refused = dna_mem_refused();
    Timer t;
    uint32_t saved_type = e->evtype;
    const char *saved_id = e->evid;
    int64_t saved_now = e->now, saved_at = e->at;
    e->evtype = DNA_NIL;
    e->evid = NULL;
    while (tmr_pop_due(&e->timers, wm, &t)) {
        e->stats.timers++;
        e->now = t.due;
        e->at = t.due;
        if (!e->have_clock || t.due > e->clock) { e->clock = t.due; e->have_clock = 1; }
        eng_fire_timer(e, &t);
    }
    e->evtype = saved_type;
    e->evid = saved_id;
    e->now = saved_now;
    e->at = saved_at;
    return dna_mem_refused() != refused ? -1 : 0;
}

/* ---- identities ------------------------------------------------------------------------ */

void eng_write_identities(Engine *e, JsonW *w, const Ent *x)
{
    const DnaEntity *en = &e->b->entities[x->kind];
    jw_obj(w);
    for (uint32_t i = 0; i < en->nidentity; i++) {
        DnaValue v = x->slots[en->identity[i]];
        if (v.kind == DNA_VK_NONE) continue;
        jw_key(w, bundle_str(e->b, en->slots[en->identity[i]].name));
        eng_write_value(e, w, v, en->slots[en->identity[i]].type);
    }
    jw_end_obj(w);
}
