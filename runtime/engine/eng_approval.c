/*
 * eng_approval.c - `mode approval`: parked workflow runs and decisions.
 *
 * When an approval-mode workflow fires (trigger and `when` hold) its
 * actions are not performed: the run is parked under a new approval id
 * (1, 2, ... in the order runs are parked) with the values of every action
 * argument as they are now, so what a person approves is what runs.  An
 * `approval` effect lists the parked actions.  An input envelope of the
 * built-in type `approval` decides:
 *
 *   {"id": "...", "type": "approval", "occurred_at": "...",
 *    "subject": {...}, "data": {"id": 1, "decision": "approve"}}
 *
 * (the subject may be left out).  `approve` records an `approved` effect
 * and performs the actions then, with now = the approval's occurred_at;
 * their effects carry "approval": ID.  `reject` records a `rejected`
 * effect and drops the actions.  An approval is decided once; another
 * decision on it is refused.
 */
#include "engine/eng_int.h"
#include "base/mem.h"

#include <string.h>

#define B (e->b)
#define S(i) bundle_str(e->b, (i))


EngPending *eng_pending(Engine *e, uint64_t id)
{
    return id >= 1 && id <= e->npend ? &e->pend[id - 1] : NULL;
}

static void free_vals(EngPending *p)
{
    if (!p->vals) return;
    for (uint32_t i = 0; i < p->nargs; i++)
        if (p->vals[i].kind == DNA_VK_STR) dna_free((void *)p->vals[i].u.s, (size_t)p->vals[i].len + 1);
    dna_free(p->vals, sizeof(DnaValue) * p->nargs);
    p->vals = NULL;
}

void eng_pending_free(Engine *e)
{
    for (uint32_t i = 0; i < e->npend; i++) free_vals(&e->pend[i]);
    dna_free(e->pend, sizeof(EngPending) * e->cappend);
    e->pend = NULL;
    e->npend = e->cappend = 0;
}

static DnaType arg_type(Engine *e, uint32_t g)
{
    const DnaArg *a = &B->args[g];
    DnaType t = { 0 };
    if (a->unit != DNA_NIL && a->unit < B->nunits) t = B->units[a->unit].type;
    else if (a->konst != DNA_NIL && a->konst < B->nconsts) t.code = B->consts[a->konst].type;
    return t;
}

/* One parked action, as data: what it is, what it names, its arguments
 * (left out once the run is decided: the values are freed then). */
static void describe(Engine *e, JsonW *w, uint32_t kind, const EngPending *p, const DnaAction *a)
{
    jw_obj(w);
    jw_key(w, "action"); jw_str(w, bundle_action_name(a->kind));
    switch (a->kind) {
    case DACT_SET:
        if (kind < B->nentities && a->ref < B->entities[kind].nslots) { jw_key(w, "field"); jw_str(w, S(B->entities[kind].slots[a->ref].name)); }
        break;
    case DACT_ASSIGN:
        if (a->ref < B->nteams) {
            jw_key(w, "team"); jw_str(w, S(B->teams[a->ref].name));
            jw_key(w, "strategy"); jw_str(w, a->ref2 != DNA_NIL ? S(a->ref2) : "round_robin");
        }
        break;
    case DACT_CREATE: if (a->ref < B->nentities) { jw_key(w, "entity"); jw_str(w, S(B->entities[a->ref].name)); } break;
    case DACT_NOTIFY: case DACT_WEBHOOK:
        if (a->ref < B->nconnectors) { jw_key(w, "connector"); jw_str(w, S(B->connectors[a->ref].name)); }
        break;
    case DACT_CALL:
        if (a->ref < B->nconnectors) { jw_key(w, "connector"); jw_str(w, S(B->connectors[a->ref].name)); }
        if (a->ref2 < B->nmethods) { jw_key(w, "method"); jw_str(w, S(B->methods[a->ref2].name)); }
        break;
    case DACT_ENROLL: if (a->ref < B->nsequences) { jw_key(w, "sequence"); jw_str(w, S(B->sequences[a->ref].name)); } break;
    case DACT_EMIT: if (a->ref < B->nevents) { jw_key(w, "event"); jw_str(w, S(B->events[a->ref].name)); } break;
    default: break;
    }
    int list = 0;                               /* call arguments and skills are positional */
    for (uint32_t k = 0; p->vals && k < a->nargs; k++) {
        uint32_t g = a->arg + k;
        const char *key = S(B->args[g].key);
        if (!strcmp(key, "arg") || !strcmp(key, "skill")) { list = 1; continue; }
        jw_key(w, key);
        eng_write_value(e, w, p->vals[g - p->argbase], arg_type(e, g));
    }
    if (list) {
        jw_key(w, "args");
        jw_arr(w);
        for (uint32_t k = 0; k < a->nargs; k++) {
            uint32_t g = a->arg + k;
            const char *key = S(B->args[g].key);
            if (strcmp(key, "arg") && strcmp(key, "skill")) continue;
            eng_write_value(e, w, p->vals[g - p->argbase], arg_type(e, g));
        }
        jw_end_arr(w);
    }
    jw_end_obj(w);
}

void eng_park(Engine *e, Ent *x, uint32_t ri)
{
    const DnaRule *r = &B->rules[ri];
    uint32_t lo = UINT32_MAX, hi = 0;
    for (uint32_t i = r->arm; i < r->arm + r->narms && i < B->narms; i++)
        for (uint32_t k = B->arms[i].action; k < B->arms[i].action + B->arms[i].nactions && k < B->nactions; k++) {
            const DnaAction *a = &B->actions[k];
            if (a->arg < lo) lo = a->arg;
            if (a->arg + a->nargs > hi) hi = a->arg + a->nargs;
        }
    if (lo > hi) lo = hi = 0;
    if (e->npend == e->cappend) {
        uint32_t nc = e->cappend ? e->cappend * 2 : 8;
        EngPending *np = dna_realloc(e->pend, sizeof(EngPending) * e->cappend, sizeof(EngPending) * nc);
        if (!np) return;
        e->pend = np;
        e->cappend = nc;
    }
    EngPending *p = &e->pend[e->npend];
    memset(p, 0, sizeof *p);
    p->id = e->npend + 1;
    p->rule = ri;
    p->entity = x->handle;
    p->at = e->now;
    p->status = PEND_OPEN;
    p->argbase = lo;
    p->nargs = hi - lo;
    if (p->nargs) {
        p->vals = dna_malloc(sizeof(DnaValue) * p->nargs);
        if (!p->vals) return;
        for (uint32_t i = 0; i < p->nargs; i++) {
            DnaValue v = eng_arg(e, x, lo + i);
            if (v.kind == DNA_VK_STR) {
                char *c = dna_malloc((size_t)v.len + 1);
                if (c) { memcpy(c, v.u.s, v.len); c[v.len] = 0; v.u.s = c; }
                else v = dna_none();
            } else if (v.kind != DNA_VK_INT) v = dna_none();
            p->vals[i] = v;
        }
    }
    e->npend++;
    JsonW *w = &e->w;
    eff_begin(e, x, EFF_APPROVAL, ri);
    jw_key(w, "id"); jw_int(w, (int64_t)p->id);
    jw_key(w, "status"); jw_str(w, "pending");
    jw_key(w, "actions");
    jw_arr(w);
    for (uint32_t i = r->arm; i < r->arm + r->narms && i < B->narms; i++)
        for (uint32_t k = B->arms[i].action; k < B->arms[i].action + B->arms[i].nactions && k < B->nactions; k++)
            describe(e, w, x->kind, p, &B->actions[k]);
    jw_end_arr(w);
    eff_end(e, x, EFF_APPROVAL, ri);
}

void eng_decide(Engine *e, EngPending *p, int approve)
{
    if (!p || p->status != PEND_OPEN) return;
    Ent *x = eng_live(e, p->entity);
    p->status = approve ? PEND_APPROVED : PEND_REJECTED;
    if (!x) { p->decided = e->now; free_vals(p); return; }
    uint64_t h = x->handle;
    int64_t saved = eng_enter(e, x);            /* the entity clock */
    p->decided = e->now;
    JsonW *w = &e->w;
    EffKind k = approve ? EFF_APPROVED : EFF_REJECTED;
    eff_begin(e, x, k, p->rule);
    jw_key(w, "id"); jw_int(w, (int64_t)p->id);
    jw_key(w, "parked"); jw_time(w, p->at);
    eff_end(e, x, k, p->rule);
    if (approve) {
        const DnaRule *r = &B->rules[p->rule];
        eng_refresh(e, x, e->now);
        e->approving = p->id;
        e->approving_rule = p->rule;
        e->snap = p->vals;
        e->snap_base = p->argbase;
        e->snap_n = p->vals ? p->nargs : 0;
        for (uint32_t i = 0; i < r->narms; i++) {
            Ent *y = eng_live(e, h);
            if (y) eng_arm(e, y, p->rule, r->arm + i);
        }
        e->approving = 0;
        e->snap = NULL;
        e->snap_n = 0;
    }
    free_vals(p);
    if (approve) eng_after(e, h);
    eng_leave(e, h, saved);
}

/* ---- what operators look at (engine.h) ---- */

uint64_t eng_approvals(const Engine *e) { return e->npend; }

int eng_approval(Engine *e, uint64_t id, EngApproval *out)
{
    EngPending *p = eng_pending(e, id);
    if (!p) return 0;
    Ent *x = eng_live(e, p->entity);
    out->id = p->id;
    out->entity = x ? x->handle : 0;
    out->rule = p->rule;
    out->status = p->status;
    out->parked = p->at;
    out->decided = p->status == PEND_OPEN ? 0 : p->decided;
    return 1;
}

void eng_approval_actions(Engine *e, uint64_t id, JsonW *w)
{
    EngPending *p = eng_pending(e, id);
    jw_arr(w);
    if (p) {
        const DnaRule *r = &B->rules[p->rule];
        for (uint32_t i = r->arm; i < r->arm + r->narms && i < B->narms; i++)
            for (uint32_t k = B->arms[i].action; k < B->arms[i].action + B->arms[i].nactions && k < B->nactions; k++)
                describe(e, w, r->entity, p, &B->actions[k]);
    }
    jw_end_arr(w);
}
