/*
 * store_mem.c - the in-memory store: entities by handle, identities in a
 * hash table, event ids in a compact exact set.  Used by replay, `dnac
 * test` and `dnad serve`'s engine.
 */
#include "engine/state.h"
#include "base/mem.h"

#include <string.h>

/* ---- slot values ------------------------------------------------------- */

void ent_set(Ent *e, uint32_t slot, DnaValue v)
{
    if (slot >= e->nslots) return;
    DnaValue *d = &e->slots[slot];
    if (d->kind == DNA_VK_STR && d->u.s) dna_free((void *)d->u.s, (size_t)d->len + 1);
    if (v.kind == DNA_VK_STR) {
        char *c = dna_malloc((size_t)v.len + 1);
        if (!c) { *d = dna_none(); return; }
        memcpy(c, v.u.s, v.len);
        c[v.len] = 0;
        v.u.s = c;
    } else if (v.kind == DNA_VK_LIST || v.kind == DNA_VK_SLOTS) {
        v = dna_none();                         /* entities hold scalars and strings only */
    }
    *d = v;
    e->dirty = 1;
}

void ent_free(Ent *e)
{
    for (uint32_t i = 0; i < e->nslots; i++)
        if (e->slots[i].kind == DNA_VK_STR && e->slots[i].u.s)
            dna_free((void *)e->slots[i].u.s, (size_t)e->slots[i].len + 1);
    dna_free(e->slots, sizeof(DnaValue) * e->nslots);
    for (uint32_t i = 0; i < e->nledgers; i++) led_free(&e->ledgers[i]);
    dna_free(e->ledgers, sizeof(Ledger) * e->nledgers);
    dna_free(e->caps, sizeof(EntCap) * e->capcaps);
    dna_free(e->obs, sizeof(EntObs) * e->capobs);
    dna_free(e->signals, sizeof(EntSignal) * e->capsignals);
    dna_free(e->enrolls, sizeof(EntEnroll) * e->capenrolls);
    dna_free(e, sizeof *e);
}

uint64_t ent_bytes(const Ent *e)
{
    uint64_t b = sizeof *e + sizeof(DnaValue) * e->nslots + sizeof(Ledger) * e->nledgers +
                 sizeof(EntCap) * e->capcaps + sizeof(EntObs) * e->capobs + sizeof(EntSignal) * e->capsignals + sizeof(EntEnroll) * e->capenrolls;
    for (uint32_t i = 0; i < e->nslots; i++)
        if (e->slots[i].kind == DNA_VK_STR) b += e->slots[i].len + 1;
    for (uint32_t i = 0; i < e->nledgers; i++) b += led_bytes(&e->ledgers[i]);
    return b;
}

/* ---- a string-keyed hash table -------------------------------------------- */

typedef struct HEntry { char *key; uint32_t len; uint32_t hash; uint64_t val; } HEntry;
typedef struct HTab {
    HEntry *v;
    uint32_t cap, n;
    uint64_t bytes;
    Arena keys;                 /* the keys, back to back: no allocation each */
} HTab;

static uint32_t fnv(const char *s, uint32_t n, uint32_t seed)
{
    uint32_t h = 2166136261u ^ seed;
    for (uint32_t i = 0; i < n; i++) h = (h ^ (unsigned char)s[i]) * 16777619u;
    return h ? h : 1;
}

static HEntry *h_find(HTab *t, const char *k, uint32_t n, uint32_t h)
{
    if (!t->cap) return NULL;
    for (uint32_t i = h & (t->cap - 1);; i = (i + 1) & (t->cap - 1)) {
        HEntry *e = &t->v[i];
        if (!e->key) return e;
        if (e->hash == h && e->len == n && !memcmp(e->key, k, n)) return e;
    }
}

static int h_grow(HTab *t)
{
    uint32_t nc = t->cap ? t->cap * 2 : 1024;
    HEntry *nv = dna_malloc(sizeof(HEntry) * nc);
    if (!nv) return 0;
    memset(nv, 0, sizeof(HEntry) * nc);
    for (uint32_t i = 0; i < t->cap; i++) {
        HEntry *e = &t->v[i];
        if (!e->key) continue;
        uint32_t j = e->hash & (nc - 1);
        while (nv[j].key) j = (j + 1) & (nc - 1);
        nv[j] = *e;
    }
    dna_free(t->v, sizeof(HEntry) * t->cap);
    t->v = nv;
    t->cap = nc;
    return 1;
}

/* Insert if absent; returns the entry (existing or new), NULL on OOM. */
static HEntry *h_put(HTab *t, const char *k, uint32_t n, uint32_t h, uint64_t val, int *fresh)
{
    if ((t->n + 1) * 4 > t->cap * 3 && !h_grow(t)) return NULL;
    HEntry *e = h_find(t, k, n, h);
    *fresh = !e->key;
    if (e->key) return e;
    e->key = arena_alloc(&t->keys, n ? n : 1);
    if (!e->key) return NULL;
    memcpy(e->key, k, n);
    e->len = n;
    e->hash = h;
    e->val = val;
    t->n++;
    t->bytes += n;
    return e;
}

static void h_free(HTab *t)
{
    dna_free(t->v, sizeof(HEntry) * t->cap);
    arena_free(&t->keys);
    memset(t, 0, sizeof *t);
}

/* ---- the event ids seen: a compact exact set ----------------------------------
 *
 * Every id is kept (a duplicate is never missed) and compared in full (a
 * new id is never taken for a duplicate).  The ids lie back to back in one
 * byte buffer, each behind its length as a varint; the table holds, per
 * slot, the id's offset + 1 (4 bytes, 0 = empty) and 8 bits of its hash
 * (1 byte, so that nearly every probe of another id is settled without
 * reading it).  ~13 bytes for "evt_00000001" and ~6 to 10 of table, where
 * a general hash entry and its key took ~60. */

typedef struct IdSet {
    uint32_t *off;              /* offset + 1 into keys, 0: empty */
    uint8_t *tag;
    uint32_t cap, n;            /* slots (a power of two), ids */
    uint8_t *keys;
    size_t nkeys, capkeys;
} IdSet;

static uint64_t id_hash(const char *s, uint32_t n)
{
    uint64_t h = 0x9E3779B97F4A7C15ULL ^ n;
    uint32_t i = 0;
    for (; i + 8 <= n; i += 8) {
        uint64_t w;
        memcpy(&w, s + i, 8);
        h = (h ^ w) * 0xBF58476D1CE4E5B9ULL;
        h ^= h >> 29;
    }
    uint64_t w = 0;
    for (uint32_t k = 0; i < n; i++, k += 8) w |= (uint64_t)(unsigned char)s[i] << k;
    h = (h ^ w) * 0x94D049BB133111EBULL;
    return h ^ (h >> 31);
}

/* the id at a stored offset: its bytes and length */
static const uint8_t *id_at(const IdSet *t, uint32_t off1, uint32_t *len)
{
    const uint8_t *p = t->keys + off1 - 1;
    uint32_t v = 0;
    for (int sh = 0;; sh += 7) {
        v |= (uint32_t)(*p & 0x7f) << sh;
        if (!(*p++ & 0x80)) break;
    }
    *len = v;
    return p;
}

static int ids_grow(IdSet *t)
{
    uint32_t nc = t->cap ? t->cap * 2 : 4096;
    if (!nc) return 0;
    uint32_t *no = dna_malloc(sizeof(uint32_t) * nc);
    uint8_t *ng = dna_malloc(nc);
    if (!no || !ng) { dna_free(no, sizeof(uint32_t) * nc); dna_free(ng, nc); return 0; }
    memset(no, 0, sizeof(uint32_t) * nc);
    for (uint32_t i = 0; i < t->cap; i++) {
        if (!t->off[i]) continue;
        uint32_t len;
        const uint8_t *k = id_at(t, t->off[i], &len);
        uint64_t h = id_hash((const char *)k, len);
        uint32_t j = (uint32_t)h & (nc - 1);
        while (no[j]) j = (j + 1) & (nc - 1);
        no[j] = t->off[i];
        ng[j] = (uint8_t)(h >> 56);
    }
    dna_free(t->off, sizeof(uint32_t) * t->cap);
    dna_free(t->tag, t->cap);
    t->off = no;
    t->tag = ng;
    t->cap = nc;
    return 1;
}

/* 1 if id was in the set, 0 if it was not (it is now), -1 out of memory */
static int ids_add(IdSet *t, const char *id, uint32_t len)
{
    if ((uint64_t)(t->n + 1) * 5 > (uint64_t)t->cap * 4 && !ids_grow(t)) return -1;     /* at most 80% full */
    uint64_t h = id_hash(id, len);
    uint8_t tg = (uint8_t)(h >> 56);
    uint32_t i = (uint32_t)h & (t->cap - 1);
    for (; t->off[i]; i = (i + 1) & (t->cap - 1)) {
        if (t->tag[i] != tg) continue;
        uint32_t kl;
        const uint8_t *k = id_at(t, t->off[i], &kl);
        if (kl == len && !memcmp(k, id, len)) return 1;
    }
    size_t need = t->nkeys + 5 + len;
    if (need >= UINT32_MAX) return -1;          /* offsets are 32 bits: 4 GB of ids */
    if (need > t->capkeys) {
        size_t nc = t->capkeys ? t->capkeys * 2 : 65536;
        while (nc < need) nc *= 2;
        uint8_t *nk = dna_realloc(t->keys, t->capkeys, nc);
        if (!nk) return -1;
        t->keys = nk;
        t->capkeys = nc;
    }
    t->off[i] = (uint32_t)t->nkeys + 1;
    t->tag[i] = tg;
    uint8_t *p = t->keys + t->nkeys;
    uint32_t v = len;
    while (v >= 0x80) { *p++ = (uint8_t)(v | 0x80); v >>= 7; }
    *p++ = (uint8_t)v;
    memcpy(p, id, len);
    t->nkeys = (size_t)(p - t->keys) + len;
    t->n++;
    return 0;
}

static uint64_t ids_bytes(const IdSet *t) { return (uint64_t)t->cap * 5 + t->capkeys; }

static void ids_free(IdSet *t)
{
    dna_free(t->off, sizeof(uint32_t) * t->cap);
    dna_free(t->tag, t->cap);
    dna_free(t->keys, t->capkeys);
    memset(t, 0, sizeof *t);
}

/* ---- the store -------------------------------------------------------------- */

typedef struct MemStore {
    Store base;
    Ent **ents;                 /* by handle - 1 */
    uint64_t n, cap;
    HTab ids;                   /* kind, slot, value -> handle */
    IdSet events;               /* event ids seen */
} MemStore;

static Ent *m_get(Store *s, uint64_t h)
{
    MemStore *m = (MemStore *)s;
    return h && h <= m->n ? m->ents[h - 1] : NULL;
}

static uint32_t id_key(char *buf, uint32_t kind, uint32_t slot, const char *v, uint32_t len, uint32_t *n)
{
    memcpy(buf, &kind, 4);
    memcpy(buf + 4, &slot, 4);
    uint32_t k = len > 4000 ? 4000 : len;
    memcpy(buf + 8, v, k);
    *n = 8 + k;
    return fnv(buf, *n, 0);
}

static uint64_t m_find(Store *s, uint32_t kind, uint32_t slot, const char *v, uint32_t len)
{
    MemStore *m = (MemStore *)s;
    char buf[4100];
    uint32_t n, h = id_key(buf, kind, slot, v, len, &n);
    HEntry *e = h_find(&m->ids, buf, n, h);
    return e && e->key ? e->val : 0;
}

static int m_bind(Store *s, uint32_t kind, uint32_t slot, const char *v, uint32_t len, uint64_t handle)
{
    MemStore *m = (MemStore *)s;
    char buf[4100];
    uint32_t n, h = id_key(buf, kind, slot, v, len, &n);
    int fresh;
    HEntry *e = h_put(&m->ids, buf, n, h, handle, &fresh);
    if (!e) return 0;
    e->val = handle;
    return 1;
}

static Ent *m_create(Store *s, uint32_t kind, uint32_t nslots, uint32_t nledgers)
{
    MemStore *m = (MemStore *)s;
    if (m->n == m->cap) {
        uint64_t nc = m->cap ? m->cap * 2 : 1024;
        Ent **ne = dna_realloc(m->ents, sizeof(Ent *) * m->cap, sizeof(Ent *) * nc);
        if (!ne) return NULL;
        m->ents = ne;
        m->cap = nc;
    }
    Ent *e = dna_malloc(sizeof *e);
    if (!e) return NULL;
    memset(e, 0, sizeof *e);
    e->clock = INT64_MIN;
    e->slots = dna_malloc(sizeof(DnaValue) * (nslots ? nslots : 1));
    e->ledgers = dna_malloc(sizeof(Ledger) * (nledgers ? nledgers : 1));
    if (!e->slots || !e->ledgers) {
        dna_free(e->slots, sizeof(DnaValue) * (nslots ? nslots : 1));
        dna_free(e->ledgers, sizeof(Ledger) * (nledgers ? nledgers : 1));
        dna_free(e, sizeof *e);
        return NULL;
    }
    memset(e->slots, 0, sizeof(DnaValue) * (nslots ? nslots : 1));
    for (uint32_t i = 0; i < nledgers; i++) led_init(&e->ledgers[i]);
    e->nslots = nslots ? nslots : 1;
    e->nledgers = nledgers ? nledgers : 1;
    if (!nledgers) led_init(&e->ledgers[0]);
    e->kind = kind;
    e->handle = ++m->n;
    m->ents[e->handle - 1] = e;
    return e;
}

static int m_seen(Store *s, const char *id, uint32_t len)
{
    return ids_add(&((MemStore *)s)->events, id, len) == 1;
}

static uint64_t m_count(Store *s) { return ((MemStore *)s)->n; }

static void m_free(Store *s)
{
    MemStore *m = (MemStore *)s;
    for (uint64_t i = 0; i < m->n; i++) if (m->ents[i]) ent_free(m->ents[i]);
    dna_free(m->ents, sizeof(Ent *) * m->cap);
    h_free(&m->ids);
    ids_free(&m->events);
    dna_free(m, sizeof *m);
}

static const StoreOps mem_ops = { m_get, m_find, m_bind, m_create, m_seen, m_count, m_free };

Store *store_mem_new(void)
{
    MemStore *m = dna_malloc(sizeof *m);
    if (!m) return NULL;
    memset(m, 0, sizeof *m);
    m->base.ops = &mem_ops;
    return &m->base;
}

uint64_t store_mem_bytes(Store *s)
{
    MemStore *m = (MemStore *)s;
    uint64_t b = sizeof *m + sizeof(Ent *) * m->cap + sizeof(HEntry) * m->ids.cap + m->ids.bytes + ids_bytes(&m->events);
    for (uint64_t i = 0; i < m->n; i++) if (m->ents[i]) b += ent_bytes(m->ents[i]);
    return b;
}
