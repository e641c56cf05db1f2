/*
 * eng_read.c - reading an entity changes nothing.
 *
 * An evaluation refreshes an entity's computed slots (eng_refresh: the
 * ledgers drop their dead entries at the entity's clock, then the values
 * are computed) and derives its fields.  A read - the state line of
 * replay and of the operator API, `dnac test` expectations, the body of a
 * REST connector request built when it is sent - computes the same values
 * at its own time into a view (a copy of the slots) and leaves the entity
 * alone: no ledger entry dropped, no clock moved, no observation recorded,
 * no effect written.  Reading every entity between every two events
 * changes no output byte (tests/engine/reads.sh).
 */
#include "engine/eng_int.h"
#include "base/mem.h"

#include <stdio.h>
#include <string.h>

#define B (e->b)
#define S(i) bundle_str(e->b, (i))

/* ---- computed slots ------------------------------------------------------------ */

/* Score, components and intent of x at `now`, into slots[] (x's layout).
 * Pure: reads the ledgers only. */
void eng_compute(Engine *e, const Ent *x, int64_t now, DnaValue *slots)
{
    const DnaEntity *en = &B->entities[x->kind];
    const uint32_t *lo = e->ledger_of[x->kind];
    int64_t score = 0, itotal = 0, itop = 0;
    int64_t iprimary = -1, ncat = 0;
    uint32_t s_score = DNA_NIL, s_prim = DNA_NIL, s_conf = DNA_NIL, s_total = DNA_NIL;
    for (uint32_t s = 0; s < en->nslots; s++) {
        switch (en->slots[s].kind) {
        case DS_COMPONENT: {
            int64_t v = led_read_at(&x->ledgers[lo[s]], now);
            slots[s] = dna_int(v);
            score += v;
            break;
        }
        case DS_INTENT_CATEGORY: {
            int64_t v = led_read_at(&x->ledgers[lo[s]], now);
            slots[s] = dna_int(v);
            itotal += v;
            /* arg max, ties to the category declared first */
            if (v > itop) { itop = v; iprimary = ncat; }
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
    if (s_score != DNA_NIL) slots[s_score] = dna_int(score);
    if (s_total != DNA_NIL) slots[s_total] = dna_int(itotal);
    if (s_prim != DNA_NIL) slots[s_prim] = itotal > 0 && itop > 0 ? dna_int(iprimary) : dna_none();
    if (s_conf != DNA_NIL) slots[s_conf] = dna_int(itotal > 0 ? led_round((double)itop * 1000.0 / (double)itotal) : 0);
}

/* The evaluation's half: the entity's clock is `now`, so dead entries go. */
void eng_refresh(Engine *e, Ent *x, int64_t now)
{
    for (uint32_t i = 0; i < x->nledgers; i++) led_expire(&x->ledgers[i], now);
    eng_compute(e, x, now, x->slots);
}

/* ---- views ---------------------------------------------------------------------- */

void eng_view_free(EngView *v)
{
    for (uint32_t i = 0; i < v->nown; i++) dna_free(v->own[i].p, v->own[i].len);
    dna_free(v->own, sizeof *v->own * v->capown);
    dna_free(v->slots, sizeof(DnaValue) * (v->n ? v->n : 1));
    memset(v, 0, sizeof *v);
}

/* A string of the view: copied, since the VM's scratch is reused. */
static DnaValue keep(EngView *v, DnaValue s)
{
    if (s.kind != DNA_VK_STR) return s;
    if (v->nown == v->capown) {
        uint32_t nc = v->capown ? v->capown * 2 : 8;
        void *no = dna_realloc(v->own, sizeof *v->own * v->capown, sizeof *v->own * nc);
        if (!no) return dna_none();
        v->own = no;
        v->capown = nc;
    }
    char *c = dna_malloc((size_t)s.len + 1);
    if (!c) return dna_none();
    memcpy(c, s.u.s, s.len);
    c[s.len] = 0;
    v->own[v->nown].p = c;
    v->own[v->nown++].len = (size_t)s.len + 1;
    return dna_str(c, s.len);
}

int eng_view(Engine *e, const Ent *x, int64_t now, EngView *v)
{
    memset(v, 0, sizeof *v);
    v->now = now;
    v->slots = dna_malloc(sizeof(DnaValue) * (x->nslots ? x->nslots : 1));
    if (!v->slots) return 0;
    v->n = x->nslots;
    memcpy(v->slots, x->slots, sizeof(DnaValue) * x->nslots);
    eng_compute(e, x, now, v->slots);
    /* derived fields, in derive order, each reading the view so far; a
     * runtime error leaves the field unset and writes no effect */
    const DnaTrigger *t = eng_trigger(e, DK_DERIVE, x->kind);
    DnaState st;
    memset(&st, 0, sizeof st);
    for (uint32_t i = 0; t && i < t->nrules; i++) {
        const DnaRule *r = &B->rules[t->rules[i]];
        if (r->value == DNA_NIL || r->watch >= v->n) continue;
        st = eng_state(e, NULL);
        st.event = NULL;
        st.nevent = 0;
        st.entity = v->slots;
        st.nentity = v->n;
        st.self = (int64_t)x->handle;
        st.now_ms = now;
        DnaValue out;
        if (B->units[r->value].event != DNA_NIL || eng_vm(e, r->value, &st, &out) != VM_OK) out = dna_none();
        v->slots[r->watch] = keep(v, out);
    }
    return 1;
}

/* ---- the state line of an entity (the replay contract) ------------------------------- */

/* {"engagement":20.0,...}: the slots of one kind (score components or
 * intent categories), named without their "score." / "intent." prefix */
static void write_points(const DnaBundle *b, JsonW *w, const Ent *x, const DnaValue *slots, uint8_t kind)
{
    const DnaEntity *en = &b->entities[x->kind];
    jw_obj(w);
    for (uint32_t s = 0; s < en->nslots; s++) {
        if (en->slots[s].kind != kind) continue;
        const char *n = bundle_str(b, en->slots[s].name);
        const char *dot = strchr(n, '.');
        jw_key(w, dot ? dot + 1 : n);
        jw_milli(w, slots[s].u.i);
    }
    jw_end_obj(w);
}

static void write_alerts(Engine *e, JsonW *w, const Ent *x, int64_t now)
{
    jw_key(w, "signals");
    jw_arr(w);
    for (uint32_t i = 0; i < x->nsignals; i++) {
        const EntSignal *s = &x->signals[i];
        const DnaSignal *ds = &B->signals[s->signal];
        int64_t age = now - s->at;
        if (ds->decay_ms > 0 && age >= ds->decay_ms) continue;
        double f = ds->decay_ms > 0 ? 1.0 - (double)age / (double)ds->decay_ms : 1.0;
        jw_obj(w);
        jw_key(w, "signal"); jw_str(w, S(ds->name));
        jw_key(w, "weight"); jw_milli(w, led_round((double)s->weight * f));
        jw_key(w, "detected_at"); jw_time(w, s->at);
        jw_end_obj(w);
    }
    jw_end_arr(w);
    jw_key(w, "alerts");
    jw_arr(w);
    static const char *const st[] = { "open", "acknowledged", "overdue" };
    for (uint32_t i = 0; i < x->nsignals; i++) {
        const EntSignal *s = &x->signals[i];
        jw_obj(w);
        jw_key(w, "id"); jw_int(w, (int64_t)s->alert);
        jw_key(w, "signal"); jw_str(w, S(B->signals[s->signal].name));
        jw_key(w, "priority"); jw_str(w, eng_priority_name(B->signals[s->signal].priority));
        jw_key(w, "due"); jw_time(w, s->due);
        jw_key(w, "status"); jw_str(w, st[s->status % 3]);
        jw_end_obj(w);
    }
    jw_end_arr(w);
}

static void write_fields(Engine *e, JsonW *w, const Ent *x, const DnaValue *slots, uint32_t *grade)
{
    const DnaEntity *en = &B->entities[x->kind];
    jw_obj(w);
    for (uint32_t s = 0; s < en->nslots; s++) {
        const DnaSlot *sl = &en->slots[s];
        if (sl->kind == DS_DERIVED && !strcmp(S(sl->name), "grade")) { *grade = s; continue; }
        if (sl->kind != DS_DECLARED && sl->kind != DS_DERIVED) continue;
        if (slots[s].kind == DNA_VK_NONE) continue;
        const char *name = S(sl->name);
        if (!strcmp(name, "owner")) continue;
        jw_key(w, name);
        eng_write_value(e, w, slots[s], sl->type);
    }
    for (uint32_t s = 0; s < en->nslots; s++) {     /* attribution and times */
        const DnaSlot *sl = &en->slots[s];
        if (sl->kind != DS_TOUCH && sl->kind != DS_BUILTIN) continue;
        const char *name = S(sl->name);
        if (!strcmp(name, "owner") || !strcmp(name, "pipeline") || slots[s].kind == DNA_VK_NONE) continue;
        jw_key(w, name);
        eng_write_value(e, w, slots[s], sl->type);
    }
    jw_end_obj(w);
}

int eng_entity_json(Engine *e, uint64_t h, int64_t now, JsonW *w)
{
    Ent *x = e->st->ops->get(e->st, h);
    if (!x || x->merged_into) return 0;
    const DnaEntity *en = &B->entities[x->kind];
    EngView v;
    uint64_t refused = dna_mem_refused();
    if (!eng_view(e, x, now, &v)) { eng_view_free(&v); w->oom = 1; return 0; }
    if (dna_mem_refused() != refused) w->oom = 1;      /* a field could not be derived: the line is incomplete */
    const DnaValue *sl = v.slots;
    jw_obj(w);
    jw_key(w, "entity"); jw_str(w, S(en->name));
    jw_key(w, "key"); jw_str(w, eng_key_of(e, x));
    jw_key(w, "identities");
    eng_write_identities(e, w, x);
    jw_key(w, "fields");
    uint32_t grade = DNA_NIL;
    write_fields(e, w, x, sl, &grade);
    jw_key(w, "score");
    jw_obj(w);
    uint32_t ss = bundle_slot(B, x->kind, "score");
    jw_key(w, "total"); jw_milli(w, ss != DNA_NIL ? sl[ss].u.i : 0);
    jw_key(w, "components");
    write_points(B, w, x, sl, DS_COMPONENT);
    jw_end_obj(w);
    jw_key(w, "grade");
    if (grade != DNA_NIL && sl[grade].kind != DNA_VK_NONE) eng_write_value(e, w, sl[grade], en->slots[grade].type);
    else jw_null(w);
    uint32_t ip = bundle_slot(B, x->kind, "intent.primary");
    if (ip != DNA_NIL) {
        jw_key(w, "intent");
        jw_obj(w);
        jw_key(w, "primary"); eng_write_value(e, w, sl[ip], en->slots[ip].type);
        uint32_t ic = bundle_slot(B, x->kind, "intent.confidence");
        jw_key(w, "confidence"); jw_milli(w, ic != DNA_NIL ? sl[ic].u.i : 0);
        jw_key(w, "points");
        write_points(B, w, x, sl, DS_INTENT_CATEGORY);
        jw_end_obj(w);
    }
    write_alerts(e, w, x, now);
    uint32_t ps = bundle_slot(B, x->kind, "pipeline"), os = bundle_slot(B, x->kind, "owner");
    jw_key(w, "pipeline");
    if (ps != DNA_NIL && sl[ps].kind == DNA_VK_STR) jw_strn(w, sl[ps].u.s, sl[ps].len); else jw_null(w);
    jw_key(w, "owner");
    if (os != DNA_NIL && sl[os].kind == DNA_VK_STR) jw_strn(w, sl[os].u.s, sl[os].len); else jw_null(w);
    jw_end_obj(w);
    eng_view_free(&v);
    return 1;
}

int64_t eng_read_time(const Engine *e, uint64_t h, int64_t at)
{
    Ent *x = e->st->ops->get(e->st, h);
    while (x && x->merged_into) x = e->st->ops->get(e->st, x->merged_into);
    return x && x->clock > at ? x->clock : at;
}

int eng_eval_at(Engine *e, uint64_t h, uint32_t unit, int64_t now, DnaValue *out, char *msg, size_t ml)
{
    Ent *x = h ? eng_live(e, h) : NULL;
    EngView v;
    memset(&v, 0, sizeof v);
    if (x && !eng_view(e, x, now, &v)) { eng_view_free(&v); snprintf(msg, ml, "out of memory"); return -1; }
    uint32_t saved_type = e->evtype;
    e->evtype = DNA_NIL;
    DnaState s = eng_state(e, x);
    e->evtype = saved_type;
    s.now_ms = now;
    if (x) { s.entity = v.slots; s.nentity = v.n; }
    VmResult r = eng_vm(e, unit, &s, out);
    /* a string result points into the view or the VM's scratch: keep it in
     * the engine's buffer until the next call */
    if (r == VM_OK && out->kind == DNA_VK_STR) {
        if (out->len + 1 > e->readcap) {
            char *nb = dna_realloc(e->readbuf, e->readcap, (size_t)out->len + 1);
            if (!nb) { eng_view_free(&v); snprintf(msg, ml, "out of memory"); return -1; }
            e->readbuf = nb;
            e->readcap = (size_t)out->len + 1;
        }
        memcpy(e->readbuf, out->u.s, out->len);
        e->readbuf[out->len] = 0;
        out->u.s = e->readbuf;
    }
    eng_view_free(&v);
    if (r == VM_OK) return 0;
    vm_error_text(&e->vm, B, msg, ml);
    return -1;
}
