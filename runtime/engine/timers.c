/*
 * timers.c - the timer heap with a key index (see timers.h).
 */
#include "engine/timers.h"
#include "base/mem.h"

#include <string.h>

void tmr_init(Timers *t) { memset(t, 0, sizeof *t); }

void tmr_free(Timers *t)
{
    dna_free(t->heap, sizeof(Timer) * t->cap);
    dna_free(t->index, sizeof *t->index * t->icap);
    tmr_init(t);
}

static uint32_t key_hash(TimerKey k)
{
    uint64_t h = k.entity * 0x9E3779B97F4A7C15ULL ^ ((uint64_t)k.rule << 32 | k.slot) * 0xC2B2AE3D27D4EB4FULL;
    h ^= h >> 29;
    return (uint32_t)h;
}

static int key_eq(TimerKey a, TimerKey b)
{
    return a.entity == b.entity && a.rule == b.rule && a.slot == b.slot;
}

static int before(const Timer *a, const Timer *b)
{
    return a->due < b->due || (a->due == b->due && a->seq < b->seq);
}

/* index slot of a key: the slot holding it, or the empty slot where it goes */
static uint32_t find(const Timers *t, TimerKey k)
{
    uint32_t m = t->icap - 1, i = key_hash(k) & m;
    while (t->index[i].pos && !key_eq(t->index[i].key, k)) i = (i + 1) & m;
    return i;
}

static void set_pos(Timers *t, TimerKey k, uint32_t pos)
{
    uint32_t i = find(t, k);
    t->index[i].key = k;
    t->index[i].pos = pos + 1;
}

static void place(Timers *t, uint32_t pos, Timer tm)
{
    t->heap[pos] = tm;
    set_pos(t, tm.key, pos);
}

static void sift_up(Timers *t, uint32_t i)
{
    Timer tm = t->heap[i];
    while (i > 0) {
        uint32_t p = (i - 1) / 2;
        if (!before(&tm, &t->heap[p])) break;
        place(t, i, t->heap[p]);
        i = p;
    }
    place(t, i, tm);
}

static void sift_down(Timers *t, uint32_t i)
{
    Timer tm = t->heap[i];
    for (;;) {
        uint32_t c = 2 * i + 1;
        if (c >= t->n) break;
        if (c + 1 < t->n && before(&t->heap[c + 1], &t->heap[c])) c++;
        if (!before(&t->heap[c], &tm)) break;
        place(t, i, t->heap[c]);
        i = c;
    }
    place(t, i, tm);
}

static int grow_index(Timers *t)
{
    uint32_t nc = t->icap ? t->icap * 2 : 64;
    struct TimerSlot *ni = dna_malloc(sizeof *ni * nc);
    if (!ni) return 0;
    memset(ni, 0, sizeof *ni * nc);
    dna_free(t->index, sizeof *t->index * t->icap);
    t->index = ni;
    t->icap = nc;
    for (uint32_t i = 0; i < t->n; i++) set_pos(t, t->heap[i].key, i);
    return 1;
}

/* Remove the index entry of a key, keeping the probe chains intact. */
static void unindex(Timers *t, TimerKey k)
{
    uint32_t m = t->icap - 1, i = find(t, k);
    if (!t->index[i].pos) return;
    t->index[i].pos = 0;
    for (uint32_t j = (i + 1) & m; t->index[j].pos; j = (j + 1) & m) {
        struct TimerSlot v = t->index[j];
        t->index[j].pos = 0;
        t->index[find(t, v.key)] = v;
    }
}

int tmr_set(Timers *t, TimerKey key, int64_t due, int64_t arg)
{
    if ((t->n + 1) * 2 > t->icap && !grow_index(t)) return 0;
    uint32_t s = find(t, key);
    Timer tm = { due, t->next_seq++, key, arg };
    if (t->index[s].pos) {
        uint32_t pos = t->index[s].pos - 1;
        t->heap[pos] = tm;
        sift_up(t, pos);
        sift_down(t, t->index[find(t, key)].pos - 1);
        return 1;
    }
    if (t->n == t->cap) {
        uint32_t nc = t->cap ? t->cap * 2 : 64;
        Timer *nh = dna_realloc(t->heap, sizeof(Timer) * t->cap, sizeof(Timer) * nc);
        if (!nh) return 0;
        t->heap = nh;
        t->cap = nc;
    }
    t->heap[t->n++] = tm;
    t->index[s].key = key;
    t->index[s].pos = t->n;
    sift_up(t, t->n - 1);
    return 1;
}

static void remove_at(Timers *t, uint32_t pos)
{
    unindex(t, t->heap[pos].key);
    Timer last = t->heap[--t->n];
    if (pos == t->n) return;
    t->heap[pos] = last;
    set_pos(t, last.key, pos);
    sift_up(t, pos);
    sift_down(t, t->index[find(t, last.key)].pos - 1);
}

int tmr_cancel(Timers *t, TimerKey key)
{
    if (!t->icap) return 0;
    uint32_t s = find(t, key);
    if (!t->index[s].pos) return 0;
    remove_at(t, t->index[s].pos - 1);
    return 1;
}

const Timer *tmr_get(const Timers *t, TimerKey key)
{
    if (!t->icap) return NULL;
    uint32_t s = find(t, key);
    return t->index[s].pos ? &t->heap[t->index[s].pos - 1] : NULL;
}

const Timer *tmr_peek(const Timers *t) { return t->n ? &t->heap[0] : NULL; }

int tmr_pop_due(Timers *t, int64_t watermark, Timer *out)
{
    if (!t->n || t->heap[0].due > watermark) return 0;
    *out = t->heap[0];
    remove_at(t, 0);
    return 1;
}
