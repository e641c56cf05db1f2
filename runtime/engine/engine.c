/*
 * engine.c - events, entities and the order of an evaluation (engine.h).
 *
 * One evaluation of an entity, by an event or by one of its timers, runs:
 *   1. refresh the computed slots (score, components, intent) at `now`
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

int eng_eval(Engine *e, Ent *x, uint32_t unit, DnaValue *out)
{
    *out = dna_none();
    if (unit == DNA_NIL || unit >= e->b->nunits) return 0;
    const DnaUnit *u = &e->b->units[unit];
    if (u->event != DNA_NIL && u->event != e->evtype) return 0;   /* reads an event this is not */
    DnaState s = eng_state(e, x);
    if (vm_eval(&e->vm, e->b, unit, &s, out) != VM_OK) {
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

int eng_eval_at(Engine *e, uint64_t h, uint32_t unit, int64_t now, DnaValue *out, char *msg, size_t ml)
{
    Ent *x = h ? eng_live(e, h) : NULL;
    int64_t saved = e->now;
    e->now = now;
    if (x) eng_settle(e, x, now);
    DnaState s = eng_state(e, x);
    VmResult r = vm_eval(&e->vm, e->b, unit, &s, out);
    e->now = saved;
    if (r == VM_OK) return 0;
    vm_error_text(&e->vm, e->b, msg, ml);
    return -1;
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

/* Fold b into a (a is older): fields a lacks, points, caps, signals. */
static void merge(Engine *e, Ent *a, Ent *b)
{
    const DnaEntity *en = &e->b->entities[a->kind];
    for (uint32_t s = 0; s < en->nslots && s < b->nslots; s++) {
        uint8_t k = en->slots[s].kind;
        if ((k == DS_IDENTITY || k == DS_DECLARED) && a->slots[s].kind == DNA_VK_NONE && b->slots[s].kind != DNA_VK_NONE)
            ent_set(a, s, b->slots[s]);
    }
    for (uint32_t i = 0; i < a->nledgers && i < b->nledgers; i++) led_merge(&a->ledgers[i], &b->ledgers[i]);
    for (uint32_t i = 0; i < b->ncaps; i++) {
        EntCap *bc = &b->caps[i], *ac = NULL;
        for (uint32_t j = 0; j < a->ncaps; j++) if (a->caps[j].rule == bc->rule) ac = &a->caps[j];
        if (!ac) {
            if (a->ncaps == a->capcaps) {
                uint32_t nc = a->capcaps ? a->capcaps * 2 : 4;
                EntCap *n2 = dna_realloc(a->caps, sizeof(EntCap) * a->capcaps, sizeof(EntCap) * nc);
                if (!n2) continue;
                a->caps = n2;
                a->capcaps = nc;
            }
            a->caps[a->ncaps++] = *bc;
        } else if (ac->window == bc->window) ac->count += bc->count;
        else if (bc->window > ac->window) *ac = *bc;
    }
    for (uint32_t i = 0; i < b->nsignals; i++) {
        if (a->nsignals == a->capsignals) {
            uint32_t nc = a->capsignals ? a->capsignals * 2 : 4;
            EntSignal *n2 = dna_realloc(a->signals, sizeof(EntSignal) * a->capsignals, sizeof(EntSignal) * nc);
            if (!n2) continue;
            a->signals = n2;
            a->capsignals = nc;
        }
        a->signals[a->nsignals++] = b->signals[i];
    }
    a->routed |= b->routed;
    if (b->hold_team) {                         /* one open assignment per entity: a keeps its own */
        if (!a->hold_team) { a->hold_team = b->hold_team; a->hold_member = b->hold_member; b->hold_team = 0; }
        else eng_release(e, b);
    }
    /* b's identities now name a */
    for (uint32_t i = 0; i < en->nidentity; i++) {
        DnaValue v = b->slots[en->identity[i]];
        if (v.kind == DNA_VK_STR) e->st->ops->bind(e->st, a->kind, en->identity[i], v.u.s, v.len, a->handle);
    }
    b->merged_into = a->handle;
    b->dirty = a->dirty = 1;
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

/* An accepted event moves time: timers due by its occurred_at fire first,
 * then it becomes the evaluation in progress. */
static void accept_at(Engine *e, int64_t at, const char *id, uint32_t evtype)
{
    e->stats.events++;
    if (e->have_clock && at < e->clock) e->stats.late++;
    eng_first_time(e, at);
    eng_advance(e, at);
    if (!e->have_clock || at > e->clock) e->clock = at;
    e->have_clock = 1;
    e->now = at;
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

static EngResult event_doc(Engine *e, json_t *root, char *why, size_t whylen);

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

static EngResult event_doc(Engine *e, json_t *root, char *why, size_t whylen)
{
    const DnaBundle *b = e->b;
    EngResult rc = ENG_OK;
    int ack = 0;
    uint32_t kind = DNA_NIL, ev = DNA_NIL;
    if (!json_is_object(root)) REJECT("an event is a JSON object");
    json_t *jid = json_object_get(root, "id"), *jtype = json_object_get(root, "type"),
           *jat = json_object_get(root, "occurred_at"), *jsub = json_object_get(root, "subject"),
           *jdata = json_object_get(root, "data"), *jsrc = json_object_get(root, "source");
    if (!jid) REJECT("missing \"id\"");
    if (!json_is_string(jid) || !json_string_length(jid)) REJECT("\"id\" must be a non-empty string");
    if (json_string_length(jid) > 200) REJECT("\"id\" is longer than 200 bytes");
    if (!jtype) REJECT("missing \"type\"");
    if (!json_is_string(jtype)) REJECT("\"type\" must be a string");
    const char *type = json_string_value(jtype);
    ev = bundle_event(b, type);
    ack = !strcmp(type, "alert_ack");
    int cres = ev == DNA_NIL && !strcmp(type, "connector_result");
    if (ev == DNA_NIL && !ack && !cres && strcmp(type, "approval")) REJECT("unknown event type '%.60s'", type);
    int64_t at;
    if (!jat) REJECT("missing \"occurred_at\"");
    if (!json_is_string(jat) || clk_parse(json_string_value(jat), json_string_length(jat), &at))
        REJECT("\"occurred_at\" must be an RFC 3339 time stamp");
    /* timers run from one event to the next: a year 9999 would fire a
     * daily schedule for eight thousand years */
    if (at < ENG_TIME_MIN || at >= ENG_TIME_MAX) REJECT("\"occurred_at\" must lie between 1970 and 2199");
    if (jsrc && !json_is_string(jsrc)) REJECT("\"source\" must be a string");
    if (ev == DNA_NIL && !strcmp(type, "approval")) {
        /* the built-in decision on a parked workflow run: data {id, decision} */
        json_t *jn = jdata ? json_object_get(jdata, "id") : NULL, *jd = jdata ? json_object_get(jdata, "decision") : NULL;
        if (!jn || !json_is_integer(jn) || json_integer_value(jn) < 1) REJECT("\"data.id\" must be an approval id (an integer)");
        if (!jd || !json_is_string(jd) || (strcmp(json_string_value(jd), "approve") && strcmp(json_string_value(jd), "reject")))
            REJECT("\"data.decision\" must be \"approve\" or \"reject\"");
        /* the envelope is well formed: the id counts as seen (a validating
         * engine, like dnad serve's, stops here), then the decision applies */
        if (e->st->ops->seen_event(e->st, json_string_value(jid), (uint32_t)json_string_length(jid))) {
            e->stats.duplicates++;
            rc = ENG_DUPLICATE;
            goto done;
        }
        EngPending *p = eng_pending(e, (uint64_t)json_integer_value(jn));
        if (!p) REJECT("there is no approval %lld", (long long)json_integer_value(jn));
        if (p->status != PEND_OPEN)
            REJECT("approval %lld was already %s", (long long)p->id, p->status == PEND_APPROVED ? "approved" : "rejected");
        accept_at(e, at, json_string_value(jid), DNA_NIL);
        /* timers that fired may have parked more runs and moved the list: look it up again */
        eng_decide(e, eng_pending(e, (uint64_t)json_integer_value(jn)), !strcmp(json_string_value(jd), "approve"));
        goto done;
    }
    if (!jsub || !json_is_object(jsub)) REJECT("missing \"subject\" object");
    if (jdata && !json_is_object(jdata) && !json_is_null(jdata)) REJECT("\"data\" must be an object");
    /* the subject's entity kind */
    json_t *jent = json_object_get(jsub, "entity");
    if (jent) {
        if (!json_is_string(jent)) REJECT("\"subject.entity\" must be a string");
        kind = bundle_entity(b, json_string_value(jent));
        if (kind == DNA_NIL) REJECT("unknown entity '%.60s' in subject", json_string_value(jent));
    }
    const char *key;
    json_t *val;
    int nids = 0;
    json_object_foreach(jsub, key, val) {
        if (!strcmp(key, "entity")) continue;
        uint32_t k = kind;
        if (k == DNA_NIL)
            for (uint32_t i = 0; i < b->nentities && k == DNA_NIL; i++)
                for (uint32_t j = 0; j < b->entities[i].nidentity; j++)
                    if (!strcmp(bundle_str(b, b->entities[i].slots[b->entities[i].identity[j]].name), key)) { k = i; break; }
        if (k == DNA_NIL) REJECT("\"subject.%.40s\" is not an identity of any entity", key);
        uint32_t s = slot_named(b, k, key);
        int is_id = 0;
        for (uint32_t j = 0; s != DNA_NIL && j < b->entities[k].nidentity; j++) is_id |= b->entities[k].identity[j] == s;
        if (!is_id) REJECT("\"subject.%.40s\" is not an identity of %s", key, bundle_str(b, b->entities[k].name));
        if (!json_is_string(val) || !json_string_length(val)) REJECT("\"subject.%.40s\" must be a non-empty string", key);
        kind = k;
        nids++;
    }
    if (!nids) REJECT("the subject names no identity");
    if (cres) {
        /* the built-in response of a connector call (eng_connector.c) */
        uint32_t mi;
        uint64_t hs[ENG_MAX_PARAMS];
        if (!jdata || !json_is_object(jdata)) REJECT("connector_result needs a \"data\" object");
        if (eng_call_check(e, jdata, &mi, why, whylen)) goto reject;
        if (e->st->ops->seen_event(e->st, json_string_value(jid), (uint32_t)json_string_length(jid))) {
            e->stats.duplicates++;
            rc = ENG_DUPLICATE;
            goto done;
        }
        if (eng_call_resolve(e, jdata, mi, hs, why, whylen)) goto reject;
        accept_at(e, at, json_string_value(jid), DNA_NIL);
        eng_call_apply(e, jdata, mi, hs);
        goto done;
    }
    /* payload */
    if (!ack) {
        const DnaEvent *de = &b->events[ev];
        if (de->nslots > e->capevslots) {
            DnaValue *ns = dna_realloc(e->evslots, sizeof(DnaValue) * e->capevslots, sizeof(DnaValue) * de->nslots);
            if (!ns) { rc = ENG_NOMEM; goto done; }
            e->evslots = ns;
            e->capevslots = de->nslots;
        }
        e->nevslots = de->nslots;
        memset(e->evslots, 0, sizeof(DnaValue) * de->nslots);
        e->evslots[0] = dna_str(json_string_value(jid), (uint32_t)json_string_length(jid));
        e->evslots[1] = dna_str(type, (uint32_t)json_string_length(jtype));
        e->evslots[2] = jsrc ? dna_str(json_string_value(jsrc), (uint32_t)json_string_length(jsrc)) : dna_str("", 0);
        e->evslots[3] = dna_int(at);
        if (jdata && json_is_object(jdata))
            json_object_foreach(jdata, key, val) {
                uint32_t s = bundle_event_slot(b, ev, key);
                if (s == DNA_NIL || s < 4) REJECT("\"data.%.40s\" is not a field of %s", key, type);
            }
        for (uint32_t s = 4; s < de->nslots; s++) {
            const DnaSlot *sl = &de->slots[s];
            const char *fname = bundle_str(b, sl->name);
            json_t *v = jdata && json_is_object(jdata) ? json_object_get(jdata, fname) : NULL;
            if (!v) {
                if (!sl->type.optional && sl->dflt == DNA_NIL) REJECT("\"data.%s\" is missing", fname);
                e->evslots[s] = sl->dflt != DNA_NIL ? b->kvals[sl->dflt] : dna_none();
                continue;
            }
            char msg[128];
            if (sl->type.code == DT_REF) {
                if (!json_is_string(v) && !json_is_object(v)) REJECT("\"data.%s\" must name a %s", fname,
                                                                      bundle_str(b, b->entities[sl->type.ref].name));
                continue;                       /* resolved below, once the event is accepted */
            }
            if (!eng_type_ok(b, sl->type, v, &e->evslots[s], msg, sizeof msg)) REJECT("\"data.%s\" %s", fname, msg);
        }
    }
    uint32_t ack_signal = DNA_NIL;
    uint64_t ack_alert = 0;
    if (ack) {
        json_t *sig = jdata && json_is_object(jdata) ? json_object_get(jdata, "signal") : NULL;
        if (sig) {
            if (!json_is_string(sig)) REJECT("\"data.signal\" must be a string");
            for (uint32_t i = 0; i < b->nsignals; i++)
                if (!strcmp(bundle_str(b, b->signals[i].name), json_string_value(sig))) ack_signal = i;
            if (ack_signal == DNA_NIL) REJECT("alert_ack names unknown signal '%.60s'", json_string_value(sig));
        }
        json_t *jal = jdata && json_is_object(jdata) ? json_object_get(jdata, "alert") : NULL;
        if (jal) {
            if (!json_is_integer(jal) || json_integer_value(jal) < 1) REJECT("\"data.alert\" must be an alert id (an integer)");
            ack_alert = (uint64_t)json_integer_value(jal);
        }
    }
    if (e->st->ops->seen_event(e->st, json_string_value(jid), (uint32_t)json_string_length(jid))) {
        e->stats.duplicates++;
        rc = ENG_DUPLICATE;
        goto done;
    }
    if (ack) {
        /* the envelope is well formed, so its id counts as seen (a validating
         * engine, like dnad serve's, stops above); an acknowledgement is about
         * an entity that exists, and a named alert must be one it holds */
        const DnaEntity *en = &b->entities[kind];
        uint64_t found = 0;
        for (uint32_t i = 0; i < en->nidentity && !found; i++) {
            json_t *v = json_object_get(jsub, bundle_str(b, en->slots[en->identity[i]].name));
            if (v && json_is_string(v))
                found = e->st->ops->find(e->st, kind, en->identity[i], json_string_value(v), (uint32_t)json_string_length(v));
        }
        if (!found) REJECT("alert_ack for a %s that does not exist", bundle_str(b, en->name));
        if (ack_alert) {
            Ent *y = eng_live(e, found);
            const EntSignal *as = NULL;
            for (uint32_t i = 0; y && i < y->nsignals; i++) if (y->signals[i].alert == ack_alert) as = &y->signals[i];
            if (!as) REJECT("the %s holds no alert %llu", bundle_str(b, en->name), (unsigned long long)ack_alert);
            if (ack_signal != DNA_NIL && as->signal != ack_signal)
                REJECT("alert %llu is not a %s alert", (unsigned long long)ack_alert, bundle_str(b, b->signals[ack_signal].name));
            if (as->status == AL_ACKED) REJECT("alert %llu was already acknowledged", (unsigned long long)ack_alert);
        }
    }
    accept_at(e, at, json_string_value(jid), ack ? DNA_NIL : ev);
    int created = 0;
    Ent *x = resolve(e, kind, jsub, &created);
    if (!x) { rc = ENG_NOMEM; goto done; }
    if (!ack) {
        const DnaEvent *de = &b->events[ev];
        for (uint32_t s = 4; s < de->nslots; s++) {
            if (de->slots[s].type.code != DT_REF) continue;
            json_t *v = jdata ? json_object_get(jdata, bundle_str(b, de->slots[s].name)) : NULL;
            if (!v) continue;
            json_t *sub = v;
            if (json_is_string(v)) {
                /* a bare value: the first identity of that entity */
                const DnaEntity *te = &b->entities[de->slots[s].type.ref];
                sub = json_object();
                json_object_set(sub, bundle_str(b, te->slots[te->identity[0]].name), v);
            }
            int c2 = 0;
            Ent *r = resolve(e, de->slots[s].type.ref, sub, &c2);
            if (sub != v) json_decref(sub);
            e->evslots[s] = r ? dna_int((int64_t)r->handle) : dna_none();
            if (r && c2) { e->evtype = ev; eng_evaluate(e, r, 1); x = eng_live(e, x->handle); }
        }
        /* attribution: the first touch is the earliest event with a
         * source, the last touch the latest (late events fit in between) */
        if (jsrc) {
            uint32_t cs = bundle_event_slot(b, ev, "utm_campaign");
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
    if (ack) {
        eng_ack(e, x, ack_signal, ack_alert);
    } else {
        eng_evaluate(e, x, created);
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

/* Find, create or merge the entity a subject names; bind its identities. */
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
        x = eng_live(e, min);
        for (int k = 0; k < nf; k++) {
            if (found[k] == min) continue;
            Ent *y = eng_live(e, found[k]);
            if (!y || y == x) continue;
            char ykey[256], xkey[256];
            snprintf(ykey, sizeof ykey, "%s", eng_key_of(e, y));
            snprintf(xkey, sizeof xkey, "%s", eng_key_of(e, x));
            merge(e, x, y);
            eff_begin(e, x, EFF_MERGE, DNA_NIL);
            jw_key(&e->w, "merged");
            jw_str(&e->w, ykey);
            jw_key(&e->w, "into");
            jw_str(&e->w, xkey);
            eff_end(e, x, EFF_MERGE, DNA_NIL);
        }
    }
    for (uint32_t i = 0; i < en->nidentity; i++) {
        uint32_t s = en->identity[i];
        json_t *v = json_object_get(subject, bundle_str(b, en->slots[s].name));
        if (!v || !json_is_string(v)) continue;
        e->st->ops->bind(e->st, kind, s, json_string_value(v), (uint32_t)json_string_length(v), x->handle);
        if (x->slots[s].kind == DNA_VK_NONE) {
            ent_set(x, s, dna_str(json_string_value(v), (uint32_t)json_string_length(v)));
            if (!*created) set_time_slot(e, x, "updated_at", e->now);
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

/* ---- computed slots ------------------------------------------------------------- */

void eng_refresh(Engine *e, Ent *x, int64_t now)
{
    const DnaEntity *en = &e->b->entities[x->kind];
    const uint32_t *lo = e->ledger_of[x->kind];
    int64_t score = 0, itotal = 0, itop = 0;
    int64_t iprimary = -1, ncat = 0;
    uint32_t s_score = DNA_NIL, s_prim = DNA_NIL, s_conf = DNA_NIL, s_total = DNA_NIL;
    for (uint32_t s = 0; s < en->nslots; s++) {
        switch (en->slots[s].kind) {
        case DS_COMPONENT: {
            int64_t v = led_read(&x->ledgers[lo[s]], now);
            x->slots[s] = dna_int(v);
            score += v;
            break;
        }
        case DS_INTENT_CATEGORY: {
            int64_t v = led_read(&x->ledgers[lo[s]], now);
            x->slots[s] = dna_int(v);
            itotal += v;
            if (v > itop || iprimary < 0) { if (v > itop) { itop = v; iprimary = ncat; } else if (iprimary < 0 && v > 0) iprimary = ncat; }
            ncat++;
            break;
        }
        case DS_SCORE: s_score = s; break;
        case DS_INTENT_PRIMARY: s_prim = s; break;
        case DS_INTENT_CONFIDENCE: s_conf = s; break;
        case DS_INTENT_TOTAL: s_total = s; break;
        default: break;
        }
    }
    if (s_score != DNA_NIL) x->slots[s_score] = dna_int(score);
    if (s_total != DNA_NIL) x->slots[s_total] = dna_int(itotal);
    if (s_prim != DNA_NIL) x->slots[s_prim] = itotal > 0 && itop > 0 ? dna_int(iprimary) : dna_none();
    if (s_conf != DNA_NIL) x->slots[s_conf] = dna_int(itotal > 0 ? led_round((double)itop * 1000.0 / (double)itotal) : 0);
}

void eng_settle(Engine *e, Ent *x, int64_t now)
{
    int64_t saved = e->now;
    uint32_t saved_type = e->evtype;
    e->now = now;
    e->evtype = DNA_NIL;
    eng_refresh(e, x, now);
    eng_derive(e, x);
    e->now = saved;
    e->evtype = saved_type;
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

void eng_evaluate(Engine *e, Ent *x, int created)
{
    uint64_t h = x->handle;
    eng_stage_sync(e, x);                       /* a new (or given) stage: entered now */
    eng_refresh(e, x, e->now);
    eng_state_triggers(e, x);
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
    eng_state_triggers(e, x);
    x = eng_live(e, h);
    eng_route(e, x);
    x = eng_live(e, h);
    if (e->evtype != DNA_NIL) {                 /* activity moves inactivity timers */
        const DnaTrigger *t = eng_trigger(e, DK_TIMER_INACTIVE, x->kind);
        for (uint32_t i = 0; t && i < t->nrules; i++) {
            const DnaRule *r = &e->b->rules[t->rules[i]];
            TimerKey k = { x->handle, t->rules[i], TK_INACTIVE };
            tmr_set(&e->timers, k, e->now + r->duration_ms, 0);
        }
    }
    x->dirty = 0;
}

int eng_advance(Engine *e, int64_t wm)
{
    uint64_t refused = dna_mem_refused();
    Timer t;
    uint32_t saved_type = e->evtype;
    const char *saved_id = e->evid;
    int64_t saved_now = e->now;
    e->evtype = DNA_NIL;
    e->evid = NULL;
    while (tmr_pop_due(&e->timers, wm, &t)) {
        e->stats.timers++;
        e->now = t.due;
        if (!e->have_clock || t.due > e->clock) { e->clock = t.due; e->have_clock = 1; }
        eng_fire_timer(e, &t);
    }
    e->evtype = saved_type;
    e->evid = saved_id;
    e->now = saved_now;
    return dna_mem_refused() != refused ? -1 : 0;
}

/* ---- the state line of an entity (the replay contract) ------------------------------- */

/* {"engagement":20.0,...}: the slots of one kind (score components or
 * intent categories), named without their "score." / "intent." prefix */
static void write_points(const DnaBundle *b, JsonW *w, const Ent *x, uint8_t kind)
{
    const DnaEntity *en = &b->entities[x->kind];
    jw_obj(w);
    for (uint32_t s = 0; s < en->nslots; s++) {
        if (en->slots[s].kind != kind) continue;
        const char *n = bundle_str(b, en->slots[s].name);
        const char *dot = strchr(n, '.');
        jw_key(w, dot ? dot + 1 : n);
        jw_milli(w, x->slots[s].u.i);
    }
    jw_end_obj(w);
}

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

int eng_entity_json(Engine *e, uint64_t h, int64_t now, JsonW *w)
{
    Ent *x = e->st->ops->get(e->st, h);
    if (!x || x->merged_into) return 0;
    const DnaBundle *b = e->b;
    const DnaEntity *en = &b->entities[x->kind];
    uint64_t refused = dna_mem_refused();
    eng_settle(e, x, now);
    if (dna_mem_refused() != refused) w->oom = 1;      /* a field could not be derived: the line is incomplete */
    jw_obj(w);
    jw_key(w, "entity"); jw_str(w, bundle_str(b, en->name));
    jw_key(w, "key"); jw_str(w, eng_key_of(e, x));
    jw_key(w, "identities");
    eng_write_identities(e, w, x);
    jw_key(w, "fields");
    jw_obj(w);
    uint32_t grade = DNA_NIL;
    for (uint32_t s = 0; s < en->nslots; s++) {
        const DnaSlot *sl = &en->slots[s];
        if (sl->kind == DS_DERIVED && !strcmp(bundle_str(b, sl->name), "grade")) { grade = s; continue; }
        if (sl->kind != DS_DECLARED && sl->kind != DS_DERIVED) continue;
        if (x->slots[s].kind == DNA_VK_NONE) continue;
        const char *name = bundle_str(b, sl->name);
        if (!strcmp(name, "owner")) continue;
        jw_key(w, name);
        eng_write_value(e, w, x->slots[s], sl->type);
    }
    for (uint32_t s = 0; s < en->nslots; s++) {     /* attribution and times */
        const DnaSlot *sl = &en->slots[s];
        if (sl->kind != DS_TOUCH && sl->kind != DS_BUILTIN) continue;
        const char *name = bundle_str(b, sl->name);
        if (!strcmp(name, "owner") || !strcmp(name, "pipeline") || x->slots[s].kind == DNA_VK_NONE) continue;
        jw_key(w, name);
        eng_write_value(e, w, x->slots[s], sl->type);
    }
    jw_end_obj(w);
    jw_key(w, "score");
    jw_obj(w);
    uint32_t ss = bundle_slot(b, x->kind, "score");
    jw_key(w, "total"); jw_milli(w, ss != DNA_NIL ? x->slots[ss].u.i : 0);
    jw_key(w, "components");
    write_points(b, w, x, DS_COMPONENT);
    jw_end_obj(w);
    jw_key(w, "grade");
    if (grade != DNA_NIL && x->slots[grade].kind != DNA_VK_NONE) eng_write_value(e, w, x->slots[grade], en->slots[grade].type);
    else jw_null(w);
    uint32_t ip = bundle_slot(b, x->kind, "intent.primary");
    if (ip != DNA_NIL) {
        jw_key(w, "intent");
        jw_obj(w);
        jw_key(w, "primary"); eng_write_value(e, w, x->slots[ip], en->slots[ip].type);
        uint32_t ic = bundle_slot(b, x->kind, "intent.confidence");
        jw_key(w, "confidence"); jw_milli(w, ic != DNA_NIL ? x->slots[ic].u.i : 0);
        jw_key(w, "points");
        write_points(b, w, x, DS_INTENT_CATEGORY);
        jw_end_obj(w);
    }
    jw_key(w, "signals");
    jw_arr(w);
    for (uint32_t i = 0; i < x->nsignals; i++) {
        const EntSignal *s = &x->signals[i];
        const DnaSignal *ds = &b->signals[s->signal];
        int64_t age = now - s->at;
        if (ds->decay_ms > 0 && age >= ds->decay_ms) continue;
        double f = ds->decay_ms > 0 ? 1.0 - (double)age / (double)ds->decay_ms : 1.0;
        jw_obj(w);
        jw_key(w, "signal"); jw_str(w, bundle_str(b, ds->name));
        jw_key(w, "weight"); jw_milli(w, led_round((double)s->weight * f));
        jw_key(w, "detected_at"); jw_time(w, s->at);
        jw_end_obj(w);
    }
    jw_end_arr(w);
    jw_key(w, "alerts");
    jw_arr(w);
    static const char *const st[] = { "open", "acknowledged", "overdue" };
    static const char *const pr[] = { "critical", "high", "medium", "low" };
    for (uint32_t i = 0; i < x->nsignals; i++) {
        const EntSignal *s = &x->signals[i];
        jw_obj(w);
        jw_key(w, "id"); jw_int(w, (int64_t)s->alert);
        jw_key(w, "signal"); jw_str(w, bundle_str(b, b->signals[s->signal].name));
        jw_key(w, "priority"); jw_str(w, pr[b->signals[s->signal].priority % 4]);
        jw_key(w, "due"); jw_time(w, s->due);
        jw_key(w, "status"); jw_str(w, st[s->status % 3]);
        jw_end_obj(w);
    }
    jw_end_arr(w);
    uint32_t ps = bundle_slot(b, x->kind, "pipeline"), os = bundle_slot(b, x->kind, "owner");
    jw_key(w, "pipeline");
    if (ps != DNA_NIL && x->slots[ps].kind == DNA_VK_STR) jw_strn(w, x->slots[ps].u.s, x->slots[ps].len); else jw_null(w);
    jw_key(w, "owner");
    if (os != DNA_NIL && x->slots[os].kind == DNA_VK_STR) jw_strn(w, x->slots[os].u.s, x->slots[os].len); else jw_null(w);
    jw_end_obj(w);
    return 1;
}
