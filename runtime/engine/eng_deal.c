/*
 * eng_deal.c - deals and capacity.
 *
 * Stage bookkeeping for every entity with an enum `stage` field: when the
 * stage changes (by `move`, `set`, a `given`, or creation) the engine sets
 * `stage_entered_at` to now and `probability` from the stage's name, and a
 * move to closed_won or closed_lost ends the open assignment the entity
 * holds.  `create deal` in an action list creates a deal linked to the
 * entity (key "<kind>-<n>", the entity's owner, the field of the
 * entity's kind pointing back; the pipeline stays the entity's).  Team members' `current` counts open assignments: an entity holds
 * at most one (eng_hold), given back when it is reassigned, unassigned, or
 * (a deal) closed (eng_release).
 */
#include "engine/eng_int.h"
#include "base/mem.h"

#include <assert.h>
#include <stdio.h>
#include <string.h>

#define B (e->b)
#define S(i) bundle_str(e->b, (i))

/* The stage probabilities of the brief, equal to stdlib.deals' constants
 * (PROSPECTING 0.1 ... CLOSED_LOST 0.0).  Other stage names: 0. */
static const struct { const char *stage; int64_t milli; } probabilities[] = {
    { "prospecting", 100 }, { "qualification", 200 }, { "discovery", 300 }, { "proposal", 500 },
    { "negotiation", 700 }, { "commit", 900 },         { "closed_won", 1000 }, { "closed_lost", 0 },
};

int64_t eng_stage_probability(const char *stage)
{
    for (size_t i = 0; i < sizeof probabilities / sizeof *probabilities; i++)
        if (!strcmp(probabilities[i].stage, stage)) return probabilities[i].milli;
    return 0;
}

static int is_closed(const char *stage) { return !strcmp(stage, "closed_won") || !strcmp(stage, "closed_lost"); }

/* ---- capacity ------------------------------------------------------------------ */

void eng_hold(Engine *e, Ent *x, uint32_t team, uint32_t member)
{
    assert(!x->hold_team);                      /* one open assignment per entity: released first */
    if (team >= B->nteams || member >= B->teams[team].nmembers || !e->teams[team].current) return;
    e->teams[team].current[member]++;
    x->hold_team = team + 1;
    x->hold_member = member;
}

void eng_release(Engine *e, Ent *x)
{
    if (!x->hold_team) return;
    uint32_t team = x->hold_team - 1, m = x->hold_member;
    x->hold_team = 0;
    x->hold_member = 0;
    if (team >= B->nteams || m >= B->teams[team].nmembers || !e->teams[team].current) return;
    if (e->teams[team].current[m] > 0) e->teams[team].current[m]--;
}

/* ---- stages ------------------------------------------------------------------------ */

void eng_stage_sync(Engine *e, Ent *x)
{
    if (!x) return;
    uint32_t ss = eng_slot(e, x->kind, "stage");
    if (ss == DNA_NIL || ss >= x->nslots) return;
    const DnaSlot *sl = &B->entities[x->kind].slots[ss];
    DnaValue v = x->slots[ss];
    if (sl->type.code != DT_ENUM || v.kind != DNA_VK_INT || sl->type.ref >= B->nenums) return;
    if (x->stage_known && x->stage_seen == v.u.i) return;
    x->stage_known = 1;
    x->stage_seen = v.u.i;
    const DnaEnum *en = &B->enums[sl->type.ref];
    const char *name = (uint64_t)v.u.i < en->nvalues ? S(en->values[v.u.i]) : "";
    uint32_t se = eng_slot(e, x->kind, "stage_entered_at"), ps = eng_slot(e, x->kind, "probability");
    if (se != DNA_NIL) ent_set(x, se, dna_int(e->now));
    if (ps != DNA_NIL) ent_set(x, ps, dna_int(eng_stage_probability(name)));
    if (is_closed(name)) eng_release(e, x);
}

/* ---- create deal ---------------------------------------------------------------------- */

void eng_create_deal(Engine *e, Ent *x, uint32_t ri, const DnaAction *a, int perform)
{
    JsonW *w = &e->w;
    uint32_t kind = a->ref;
    if (kind >= B->nentities) return;
    const DnaEntity *en = &B->entities[kind];
    uint32_t link = DNA_NIL;                    /* the new entity's field of x's kind */
    for (uint32_t s = 0; s < en->nslots && link == DNA_NIL; s++)
        if (en->slots[s].kind == DS_DECLARED && en->slots[s].type.code == DT_REF && en->slots[s].type.ref == x->kind) link = s;
    if (!perform) {
        eff_begin(e, x, EFF_CREATE, ri);
        jw_key(w, "entity"); jw_str(w, S(en->name));
        eff_end(e, x, EFF_CREATE, ri);
        return;
    }
    if (eng_chain_cut(e, x, ri, "create", S(en->name))) return;
    /* a generated key: "<kind>-<n>", n counting the engine's creations */
    char key[160];
    uint32_t id = en->nidentity ? en->identity[0] : DNA_NIL;
    for (int tries = 0; tries < 1000; tries++) {
        snprintf(key, sizeof key, "%s-%llu", S(en->name), (unsigned long long)++e->next_deal);
        if (id == DNA_NIL || !e->st->ops->find(e->st, kind, id, key, (uint32_t)strlen(key))) break;
    }
    uint64_t xh = x->handle;
    Ent *d = eng_create(e, kind);
    if (!d) return;
    x = eng_live(e, xh);
    if (id != DNA_NIL) {
        ent_set(d, id, dna_str(key, (uint32_t)strlen(key)));
        e->st->ops->bind(e->st, kind, id, key, (uint32_t)strlen(key), d->handle);
    }
    if (link != DNA_NIL) ent_set(d, link, dna_int((int64_t)x->handle));
    uint32_t ns = eng_slot(e, kind, "name");
    if (ns != DNA_NIL && en->slots[ns].type.code == DT_STR && (d->slots[ns].kind != DNA_VK_STR || !d->slots[ns].len)) {
        const char *k = eng_key_of(e, x);
        ent_set(d, ns, dna_str(k, (uint32_t)strlen(k)));
    }
    uint32_t from = eng_slot(e, x->kind, "owner"), to = eng_slot(e, kind, "owner");
    if (from != DNA_NIL && to != DNA_NIL && x->slots[from].kind == DNA_VK_STR) ent_set(d, to, x->slots[from]);
    x->deal = d->handle;
    if (x->hold_team) {                         /* the open assignment is the deal now */
        d->hold_team = x->hold_team;
        d->hold_member = x->hold_member;
        x->hold_team = 0;
    }
    eff_begin(e, x, EFF_CREATE, ri);
    jw_key(w, "entity"); jw_str(w, S(en->name));
    jw_key(w, "key"); jw_str(w, key);
    if (link != DNA_NIL) { jw_key(w, "link"); jw_str(w, S(en->slots[link].name)); }
    eff_end(e, x, EFF_CREATE, ri);
    /* the new entity's own evaluation: its `created` rules, not the event's */
    DnaValue *sv = e->evslots;
    uint32_t sn = e->nevslots, st = e->evtype;
    uint64_t sa = e->approving;
    const DnaValue *ss = e->snap;
    e->evtype = DNA_NIL;
    e->approving = 0;
    e->snap = NULL;
    e->depth++;
    eng_evaluate(e, d, 1);
    e->depth--;
    e->evslots = sv;
    e->nevslots = sn;
    e->evtype = st;
    e->approving = sa;
    e->snap = ss;
}
