/*
 * bundle_names.c - finding events, entities, slots and rules by name.
 *
 * Envelopes name their type, entity kind, identities and fields by string,
 * once or more per event; a linear strcmp over the bundle's declarations
 * for each was a good part of an event's cost.  bundle_prepare (at
 * bundle_read) builds one open-addressing hash table over every name in
 * the bundle, keyed by (namespace, owner, name): a lookup is one hash of
 * the name and, nearly always, one memcmp.  A bundle built by hand without
 * bundle_prepare has no index and is searched linearly, with the same
 * results (the first declaration of a name wins in both).
 */
#include "bundle/bundle.h"

#include <string.h>

enum { NS_EVENT = 1, NS_ENTITY, NS_SLOT, NS_EVENT_SLOT, NS_RULE };

typedef struct NameEntry {
    uint32_t hash;              /* 0: empty */
    uint32_t ns_owner;          /* namespace << 24 | owner (an entity or event index) */
    uint32_t str;               /* the name, a string index */
    uint32_t idx;               /* what it names */
} NameEntry;

struct DnaNames {
    uint32_t mask;
    NameEntry *v;
};

static uint32_t name_hash(uint32_t ns_owner, const char *s, size_t n)
{
    uint64_t h = 0xcbf29ce484222325ULL ^ ns_owner;
    for (size_t i = 0; i < n; i++) h = (h ^ (unsigned char)s[i]) * 0x100000001b3ULL;
    uint32_t r = (uint32_t)(h ^ h >> 32);
    return r ? r : 1;
}

static void put(const DnaBundle *b, DnaNames *t, uint32_t ns_owner, uint32_t str, uint32_t idx)
{
    if (str >= b->nstrs) return;
    const char *s = b->strs[str].s;
    uint32_t h = name_hash(ns_owner, s, strlen(s));     /* up to a NUL, as strcmp compares */
    for (uint32_t i = h & t->mask;; i = (i + 1) & t->mask) {
        NameEntry *e = &t->v[i];
        if (!e->hash) { *e = (NameEntry){ h, ns_owner, str, idx }; return; }
        if (e->hash == h && e->ns_owner == ns_owner && !strcmp(b->strs[e->str].s, s))
            return;                                 /* the first declaration wins */
    }
}

int bundle_index_names(DnaBundle *b)
{
    uint64_t n = (uint64_t)b->nevents + b->nentities + b->nrules;
    for (uint32_t i = 0; i < b->nentities; i++) n += b->entities[i].nslots;
    for (uint32_t i = 0; i < b->nevents; i++) n += b->events[i].nslots;
    if (b->nentities >= 1u << 24 || b->nevents >= 1u << 24 || n > (1u << 28)) { b->names = NULL; return 0; }
    uint32_t cap = 16;
    while (cap < 2 * n) cap *= 2;                   /* at most half full */
    DnaNames *t = arena_alloc(&b->arena, sizeof *t);
    NameEntry *v = t ? arena_alloc(&b->arena, sizeof(NameEntry) * cap) : NULL;
    if (!v) return -1;
    t->mask = cap - 1;
    t->v = v;
    for (uint32_t i = 0; i < b->nevents; i++) {
        put(b, t, NS_EVENT << 24, b->events[i].name, i);
        for (uint32_t k = 0; k < b->events[i].nslots; k++)
            put(b, t, NS_EVENT_SLOT << 24 | i, b->events[i].slots[k].name, k);
    }
    for (uint32_t i = 0; i < b->nentities; i++) {
        put(b, t, NS_ENTITY << 24, b->entities[i].name, i);
        for (uint32_t k = 0; k < b->entities[i].nslots; k++)
            put(b, t, NS_SLOT << 24 | i, b->entities[i].slots[k].name, k);
    }
    for (uint32_t i = 0; i < b->nrules; i++) put(b, t, NS_RULE << 24, b->rules[i].name, i);
    b->names = t;
    return 0;
}

static uint32_t lookup(const DnaBundle *b, uint32_t ns_owner, const char *name)
{
    const DnaNames *t = b->names;
    size_t n = strlen(name);
    uint32_t h = name_hash(ns_owner, name, n);
    for (uint32_t i = h & t->mask;; i = (i + 1) & t->mask) {
        const NameEntry *e = &t->v[i];
        if (!e->hash) return DNA_NIL;
        if (e->hash == h && e->ns_owner == ns_owner && !strcmp(b->strs[e->str].s, name)) return e->idx;
    }
}

uint32_t bundle_event(const DnaBundle *b, const char *name)
{
    if (b->names) return lookup(b, NS_EVENT << 24, name);
    for (uint32_t i = 0; i < b->nevents; i++)
        if (!strcmp(bundle_str(b, b->events[i].name), name)) return i;
    return DNA_NIL;
}

uint32_t bundle_entity(const DnaBundle *b, const char *name)
{
    if (b->names) return lookup(b, NS_ENTITY << 24, name);
    for (uint32_t i = 0; i < b->nentities; i++)
        if (!strcmp(bundle_str(b, b->entities[i].name), name)) return i;
    return DNA_NIL;
}

uint32_t bundle_slot(const DnaBundle *b, uint32_t entity, const char *name)
{
    if (entity >= b->nentities) return DNA_NIL;
    if (b->names) return lookup(b, NS_SLOT << 24 | entity, name);
    const DnaEntity *e = &b->entities[entity];
    for (uint32_t i = 0; i < e->nslots; i++)
        if (!strcmp(bundle_str(b, e->slots[i].name), name)) return i;
    return DNA_NIL;
}

uint32_t bundle_event_slot(const DnaBundle *b, uint32_t event, const char *name)
{
    if (event >= b->nevents) return DNA_NIL;
    if (b->names) return lookup(b, NS_EVENT_SLOT << 24 | event, name);
    const DnaEvent *e = &b->events[event];
    for (uint32_t i = 0; i < e->nslots; i++)
        if (!strcmp(bundle_str(b, e->slots[i].name), name)) return i;
    return DNA_NIL;
}

uint32_t bundle_rule(const DnaBundle *b, const char *name)
{
    if (b->names) return lookup(b, NS_RULE << 24, name);
    for (uint32_t i = 0; i < b->nrules; i++)
        if (!strcmp(bundle_str(b, b->rules[i].name), name)) return i;
    return DNA_NIL;
}
