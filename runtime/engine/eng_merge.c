/*
 * eng_merge.c - two entities one event names become one whole entity.
 *
 * When an event's identifiers name two entities, the younger (higher
 * handle) folds into the older, and everything the younger held moves:
 *   - identities, and the declared fields the survivor lacks;
 *   - points (every ledger entry, with its own time);
 *   - cap counts: the two latest windows of both, counts of one window
 *     added, so a `per lead` cap counts the applications of both and the
 *     merge never re-applies a capped rule;
 *   - signals and alerts: one open alert per signal, the one with the
 *     earlier deadline (the other's timer is cancelled and it is dropped);
 *     closed alerts move as they are;
 *   - routing: the survivor keeps its own route; when it has none it takes
 *     the other's pipeline, owner and held capacity; when both are routed
 *     the younger's capacity is released (and the open deal its routing
 *     created folds into the survivor's, so one open deal remains);
 *   - sequence enrollments: one per sequence, the one enrolled earlier;
 *   - timers: the younger's alert, sequence and inactivity timers move to
 *     the survivor (inactivity: the later of the two), its `stays` timers
 *     end (the survivor's observations stand);
 *   - the entity clock: the later of the two.
 * References to the younger (deal.lead) lead to the survivor (eng_live).
 * The merge is one `merge` effect whose detail says what moved.
 */
#include "engine/eng_int.h"
#include "base/mem.h"

#include <assert.h>
#include <stdio.h>
#include <string.h>

#define B (e->b)
#define S(i) bundle_str(e->b, (i))

/* Move the timer of key `from` to key `to` (same due time and argument). */
static void move_timer(Engine *e, TimerKey from, TimerKey to)
{
    const Timer *t = tmr_get(&e->timers, from);
    if (!t) return;
    int64_t due = t->due, arg = t->arg;
    tmr_cancel(&e->timers, from);
    tmr_set(&e->timers, to, due, arg);
}

static TimerKey alert_key(uint64_t h, const EntSignal *s)
{
    TimerKey k = { h, s->signal, TK_ALERT | (uint32_t)(s->alert & 0x0FFFFFFF) };
    return k;
}

/* ---- caps ---------------------------------------------------------------------- */

typedef struct Win { int64_t w; uint32_t n; } Win;

static void add_win(Win *v, int *n, int64_t w, uint32_t c)
{
    if (w == INT64_MIN) return;
    for (int i = 0; i < *n; i++)
        if (v[i].w == w) { v[i].n += c; return; }
    v[(*n)++] = (Win){ w, c };
}

/* The two latest windows of both, counts of a window both had added. */
static void merge_cap(EntCap *into, const EntCap *from)
{
    Win v[4];
    int n = 0;
    add_win(v, &n, into->window, into->count);
    add_win(v, &n, into->prev_window, into->prev_count);
    add_win(v, &n, from->window, from->count);
    add_win(v, &n, from->prev_window, from->prev_count);
    for (int i = 0; i < n; i++)                 /* latest first */
        for (int j = i + 1; j < n; j++)
            if (v[j].w > v[i].w) { Win t = v[i]; v[i] = v[j]; v[j] = t; }
    into->window = n > 0 ? v[0].w : 0;
    into->count = n > 0 ? v[0].n : 0;
    into->prev_window = n > 1 ? v[1].w : INT64_MIN;
    into->prev_count = n > 1 ? v[1].n : 0;
}

static int merge_caps(Ent *a, const Ent *b)
{
    int moved = 0;
    for (uint32_t i = 0; i < b->ncaps; i++) {
        const EntCap *bc = &b->caps[i];
        EntCap *ac = NULL;
        for (uint32_t j = 0; j < a->ncaps; j++) if (a->caps[j].rule == bc->rule) ac = &a->caps[j];
        moved++;
        if (ac) { merge_cap(ac, bc); continue; }
        if (a->ncaps == a->capcaps) {
            uint32_t nc = a->capcaps ? a->capcaps * 2 : 4;
            EntCap *n2 = dna_realloc(a->caps, sizeof(EntCap) * a->capcaps, sizeof(EntCap) * nc);
            if (!n2) continue;
            a->caps = n2;
            a->capcaps = nc;
        }
        a->caps[a->ncaps++] = *bc;
    }
    return moved;
}

/* ---- signals and alerts ------------------------------------------------------------ */

static EntSignal *push_signal(Ent *x, const EntSignal *s)
{
    if (x->nsignals == x->capsignals) {
        uint32_t nc = x->capsignals ? x->capsignals * 2 : 4;
        EntSignal *n2 = dna_realloc(x->signals, sizeof(EntSignal) * x->capsignals, sizeof(EntSignal) * nc);
        if (!n2) return NULL;
        x->signals = n2;
        x->capsignals = nc;
    }
    x->signals[x->nsignals] = *s;
    return &x->signals[x->nsignals++];
}

static void merge_signals(Engine *e, Ent *a, Ent *b, JsonW *w)
{
    jw_key(w, "alerts");
    jw_arr(w);
    for (uint32_t i = 0; i < b->nsignals; i++) {
        EntSignal bs = b->signals[i];
        EntSignal *open = NULL;
        if (bs.status == AL_OPEN)
            for (uint32_t j = 0; j < a->nsignals; j++)
                if (a->signals[j].signal == bs.signal && a->signals[j].status == AL_OPEN) open = &a->signals[j];
        if (!open) {                            /* moves as it is; an open one keeps its deadline */
            if (bs.status == AL_OPEN) move_timer(e, alert_key(b->handle, &bs), alert_key(a->handle, &bs));
            push_signal(a, &bs);
            jw_int(w, (int64_t)bs.alert);
            continue;
        }
        /* one open alert per signal: the earlier deadline; the latest detection */
        int64_t seen = open->at > bs.at ? open->at : bs.at, weight = open->at >= bs.at ? open->weight : bs.weight;
        if (bs.due < open->due) {
            tmr_cancel(&e->timers, alert_key(a->handle, open));
            move_timer(e, alert_key(b->handle, &bs), alert_key(a->handle, &bs));
            *open = bs;
            jw_int(w, (int64_t)bs.alert);
        } else {
            tmr_cancel(&e->timers, alert_key(b->handle, &bs));
        }
        open->at = seen;
        open->weight = weight;
    }
    jw_end_arr(w);
    b->nsignals = 0;
}

/* ---- routing and capacity ----------------------------------------------------------- */

static void copy_slot(Engine *e, Ent *a, const Ent *b, const char *name)
{
    uint32_t s = eng_slot(e, a->kind, name);
    if (s != DNA_NIL && s < b->nslots) ent_set(a, s, b->slots[s]);
}

static int deal_open(Engine *e, Ent *d)
{
    uint32_t s = eng_slot(e, d->kind, "stage");
    if (s == DNA_NIL || d->slots[s].kind != DNA_VK_INT) return 1;
    const DnaSlot *sl = &B->entities[d->kind].slots[s];
    if (sl->type.code != DT_ENUM || sl->type.ref >= B->nenums) return 1;
    const DnaEnum *en = &B->enums[sl->type.ref];
    if ((uint64_t)d->slots[s].u.i >= en->nvalues) return 1;
    const char *name = S(en->values[d->slots[s].u.i]);
    return strcmp(name, "closed_won") && strcmp(name, "closed_lost");
}

static void merge_route(Engine *e, Ent *a, Ent *b, JsonW *w)
{
    jw_key(w, "route");
    if (b->routed && !a->routed) {
        /* the survivor had none: it takes the other's route whole */
        eng_release(e, a);
        copy_slot(e, a, b, "pipeline");
        copy_slot(e, a, b, "owner");
        a->hold_team = b->hold_team;
        a->hold_member = b->hold_member;
        b->hold_team = 0;
        a->routed = 1;
        if (!a->deal) { a->deal = b->deal; b->deal = 0; }
        jw_str(w, "taken");
    } else {
        /* the survivor keeps its own: what the other held is given back */
        jw_str(w, a->routed ? "kept" : "none");
        if (a->routed || a->hold_team) {
            eng_release(e, b);
            Ent *db = b->routed && b->deal ? eng_live(e, b->deal) : NULL;
            if (a->routed && db) eng_release(e, db);         /* both routed: the younger's capacity */
        } else if (b->hold_team) {
            a->hold_team = b->hold_team;
            a->hold_member = b->hold_member;
            b->hold_team = 0;
            copy_slot(e, a, b, "owner");
        }
    }
    /* two open deals the engine created for them: the younger folds in */
    jw_key(w, "deals");
    jw_arr(w);
    Ent *da = a->deal ? eng_live(e, a->deal) : NULL, *db = b->deal ? eng_live(e, b->deal) : NULL;
    if (!a->deal && db) { a->deal = b->deal; db = NULL; }
    if (da && db && da != db && da->kind == db->kind && deal_open(e, da) && deal_open(e, db)) {
        jw_str(w, eng_key_of(e, db));
        eng_merge(e, da, db);
    }
    jw_end_arr(w);
}

/* ---- sequences and other timers --------------------------------------------------------- */

static EntEnroll *enroll_of(Ent *x, uint32_t seq)
{
    for (uint32_t i = 0; i < x->nenrolls; i++) if (x->enrolls[i].seq == seq) return &x->enrolls[i];
    return NULL;
}

void eng_enroll_drop(Ent *x, uint32_t seq)
{
    for (uint32_t i = 0; i < x->nenrolls; i++)
        if (x->enrolls[i].seq == seq) { x->enrolls[i] = x->enrolls[--x->nenrolls]; return; }
}

int eng_enroll_add(Ent *x, uint32_t seq, int64_t at)
{
    EntEnroll *r = enroll_of(x, seq);
    if (r) { r->at = at; return 1; }
    if (x->nenrolls == x->capenrolls) {
        uint32_t nc = x->capenrolls ? x->capenrolls * 2 : 2;
        EntEnroll *n2 = dna_realloc(x->enrolls, sizeof(EntEnroll) * x->capenrolls, sizeof(EntEnroll) * nc);
        if (!n2) return 0;
        x->enrolls = n2;
        x->capenrolls = nc;
    }
    x->enrolls[x->nenrolls++] = (EntEnroll){ seq, at };
    return 1;
}

static void merge_timers(Engine *e, Ent *a, Ent *b, JsonW *w)
{
    jw_key(w, "enrollments");
    jw_arr(w);
    for (uint32_t i = 0; i < b->nenrolls; i++) {
        EntEnroll be = b->enrolls[i];
        TimerKey kb = { b->handle, be.seq, TK_SEQ }, ka = { a->handle, be.seq, TK_SEQ };
        EntEnroll *ae = enroll_of(a, be.seq);
        if (ae && ae->at <= be.at) { tmr_cancel(&e->timers, kb); continue; }    /* one per sequence: the earlier */
        tmr_cancel(&e->timers, ka);
        move_timer(e, kb, ka);
        eng_enroll_add(a, be.seq, be.at);
        jw_str(w, S(B->sequences[be.seq].name));
    }
    jw_end_arr(w);
    b->nenrolls = 0;
    for (uint32_t ri = 0; ri < B->nrules; ri++) {
        const DnaRule *r = &B->rules[ri];
        if (r->kind != DR_WORKFLOW || (r->entity != DNA_NIL && r->entity != a->kind)) continue;
        TimerKey kb = { b->handle, ri, TK_STAYS };
        tmr_cancel(&e->timers, kb);
        TimerKey ib = { b->handle, ri, TK_INACTIVE }, ia = { a->handle, ri, TK_INACTIVE };
        const Timer *tb = tmr_get(&e->timers, ib), *ta = tmr_get(&e->timers, ia);
        if (tb && (!ta || tb->due > ta->due)) move_timer(e, ib, ia);
        else tmr_cancel(&e->timers, ib);
    }
}

/* ---- the merge ----------------------------------------------------------------------- */

void eng_merge(Engine *e, Ent *a, Ent *b)
{
    assert(a != b && a->kind == b->kind && !a->merged_into && !b->merged_into);
    const DnaEntity *en = &B->entities[a->kind];
    char ykey[256], xkey[256];
    snprintf(ykey, sizeof ykey, "%s", eng_key_of(e, b));
    snprintf(xkey, sizeof xkey, "%s", eng_key_of(e, a));
    if (b->clock > a->clock) a->clock = b->clock;
    if (a->clock > e->now) e->now = a->clock;
    JsonW mw;                                   /* what moved, written as it moves */
    jw_init(&mw);
    jw_obj(&mw);
    jw_key(&mw, "identities");
    jw_arr(&mw);
    for (uint32_t i = 0; i < en->nidentity; i++) {
        uint32_t s = en->identity[i];
        if (b->slots[s].kind == DNA_VK_STR && a->slots[s].kind == DNA_VK_NONE) jw_str(&mw, S(en->slots[s].name));
    }
    jw_end_arr(&mw);
    jw_key(&mw, "fields");
    jw_arr(&mw);
    for (uint32_t s = 0; s < en->nslots && s < b->nslots; s++) {
        uint8_t k = en->slots[s].kind;
        if ((k == DS_IDENTITY || k == DS_DECLARED) && a->slots[s].kind == DNA_VK_NONE && b->slots[s].kind != DNA_VK_NONE) {
            if (k == DS_DECLARED) jw_str(&mw, S(en->slots[s].name));
            ent_set(a, s, b->slots[s]);
        }
    }
    jw_end_arr(&mw);
    jw_key(&mw, "points");
    jw_obj(&mw);
    const uint32_t *lo = e->ledger_of[a->kind];
    for (uint32_t s = 0; s < en->nslots; s++) {
        if (lo[s] == DNA_NIL || lo[s] >= b->nledgers) continue;
        int64_t v = led_read_at(&b->ledgers[lo[s]], e->now);
        const char *n = S(en->slots[s].name), *dot = strchr(n, '.');
        if (v) { jw_key(&mw, dot ? dot + 1 : n); jw_milli(&mw, v); }
        led_merge(&a->ledgers[lo[s]], &b->ledgers[lo[s]]);
    }
    jw_end_obj(&mw);
    jw_key(&mw, "caps");
    jw_int(&mw, merge_caps(a, b));
    merge_signals(e, a, b, &mw);
    merge_route(e, a, b, &mw);
    merge_timers(e, a, b, &mw);
    jw_end_obj(&mw);
    /* b's identities now name a */
    for (uint32_t i = 0; i < en->nidentity; i++) {
        DnaValue v = b->slots[en->identity[i]];
        if (v.kind == DNA_VK_STR) e->st->ops->bind(e->st, a->kind, en->identity[i], v.u.s, v.len, a->handle);
    }
    b->merged_into = a->handle;
    b->dirty = a->dirty = 1;
    eff_begin(e, a, EFF_MERGE, DNA_NIL);
    jw_key(&e->w, "merged");
    jw_str(&e->w, ykey);
    jw_key(&e->w, "into");
    jw_str(&e->w, xkey);
    jw_key(&e->w, "moved");
    if (mw.p && !mw.oom) jw_raw(&e->w, mw.p, mw.n); else jw_null(&e->w);
    eff_end(e, a, EFF_MERGE, DNA_NIL);
    jw_free(&mw);
}
