/*
 * ledger.c - running aggregates for expiring and decaying points
 * (see ledger.h for the arithmetic).
 */
#include "engine/ledger.h"
#include "base/mem.h"

#include <math.h>
#include <string.h>

void led_init(Ledger *l) { memset(l, 0, sizeof *l); }

void led_free(Ledger *l)
{
    for (uint32_t i = 0; i < l->n; i++) dna_free(l->g[i].heap, sizeof(LedItem) * l->g[i].cap);
    dna_free(l->g, sizeof(LedGroup) * l->cap);
    led_init(l);
}

static LedGroup *group(Ledger *l, LedKind kind, int64_t dur)
{
    for (uint32_t i = 0; i < l->n; i++)
        if (l->g[i].kind == kind && l->g[i].dur == dur) return &l->g[i];
    if (l->n == l->cap) {
        uint32_t nc = l->cap ? l->cap * 2 : 2;
        LedGroup *ng = dna_realloc(l->g, sizeof(LedGroup) * l->cap, sizeof(LedGroup) * nc);
        if (!ng) return NULL;
        l->g = ng;
        l->cap = nc;
    }
    LedGroup *g = &l->g[l->n++];
    memset(g, 0, sizeof *g);
    g->kind = (uint8_t)kind;
    g->dur = dur;
    g->max_at = INT64_MIN;
    return g;
}

/* ---- the due-time heap ----------------------------------------------------- */

static int heap_push(LedGroup *g, LedItem it)
{
    if (g->n == g->cap) {
        uint32_t nc = g->cap ? g->cap * 2 : 4;
        LedItem *nh = dna_realloc(g->heap, sizeof(LedItem) * g->cap, sizeof(LedItem) * nc);
        if (!nh) return 0;
        g->heap = nh;
        g->cap = nc;
    }
    uint32_t i = g->n++;
    while (i > 0) {
        uint32_t p = (i - 1) / 2;
        if (g->heap[p].due <= it.due) break;
        g->heap[i] = g->heap[p];
        i = p;
    }
    g->heap[i] = it;
    return 1;
}

static LedItem heap_pop(LedGroup *g)
{
    LedItem top = g->heap[0], last = g->heap[--g->n];
    uint32_t i = 0;
    for (;;) {
        uint32_t c = 2 * i + 1;
        if (c >= g->n) break;
        if (c + 1 < g->n && g->heap[c + 1].due < g->heap[c].due) c++;
        if (last.due <= g->heap[c].due) break;
        g->heap[i] = g->heap[c];
        i = c;
    }
    if (g->n) g->heap[i] = last;
    return top;
}

/* Drop entries whose life ended by `now` (an evaluation's, never a read's). */
static void drop_dead(LedGroup *g, int64_t now)
{
    while (g->n && g->heap[0].due <= now) {
        LedItem it = heap_pop(g);
        g->sum -= it.points;
        if (g->kind == LED_LINEAR) g->sum_pt -= (__int128)it.points * (it.at - g->base);
    }
}

void led_expire(Ledger *l, int64_t now)
{
    for (uint32_t i = 0; i < l->n; i++)
        if (l->g[i].kind == LED_EXPIRE || l->g[i].kind == LED_LINEAR) drop_dead(&l->g[i], now);
}

int led_add(Ledger *l, LedKind kind, int64_t dur, int64_t at, int64_t points)
{
    if (kind != LED_PLAIN && dur <= 0) kind = LED_PLAIN;
    LedGroup *g = group(l, kind, kind == LED_PLAIN ? 0 : dur);
    if (!g) return 0;
    if (g->kind == LED_HALF_LIFE) {
        /* one accumulator at the latest entry: an older entry is added
         * decayed to that moment, a newer one rebases it */
        if (g->max_at == INT64_MIN) { g->acc = (double)points; g->max_at = at; return 1; }
        if (at >= g->max_at) {
            g->acc = g->acc * pow(0.5, (double)(at - g->max_at) / (double)g->dur) + (double)points;
            g->max_at = at;
        } else {
            g->acc += (double)points * pow(0.5, (double)(g->max_at - at) / (double)g->dur);
        }
        return 1;
    }
    if (g->kind == LED_LINEAR && g->n == 0) { g->base = at; g->sum = 0; g->sum_pt = 0; }
    if (g->kind != LED_PLAIN) {
        LedItem it = { at + g->dur, points, at };
        if (!heap_push(g, it)) return 0;
    }
    g->sum += points;
    /* Σp·(at − base) in exact integers: entries may come in any order */
    if (g->kind == LED_LINEAR) g->sum_pt += (__int128)points * (at - g->base);
    if (at > g->max_at) g->max_at = at;
    return 1;
}

/* The entries of the heap below slot i whose life ended by t (due <= t),
 * without taking them out: the heap orders by due, so a subtree whose
 * root is still alive holds no dead entry.  The cost is the number of
 * dead entries an evaluation has not yet dropped. */
static void dead_sums(const LedGroup *g, uint32_t i, int64_t t, int64_t *sum, __int128 *sum_pt)
{
    if (i >= g->n || g->heap[i].due > t) return;
    *sum += g->heap[i].points;
    *sum_pt += (__int128)g->heap[i].points * (g->heap[i].at - g->base);
    dead_sums(g, 2 * i + 1, t, sum, sum_pt);
    dead_sums(g, 2 * i + 2, t, sum, sum_pt);
}

static double group_value(const LedGroup *g, int64_t now)
{
    if (g->max_at == INT64_MIN) return 0;
    int64_t t = now > g->max_at ? now : g->max_at;
    switch ((LedKind)g->kind) {
    case LED_PLAIN: return (double)g->sum;
    case LED_EXPIRE: case LED_LINEAR: {
        int64_t dsum = 0;
        __int128 dpt = 0;
        dead_sums(g, 0, t, &dsum, &dpt);
        int64_t sum = g->sum - dsum;
        if (g->kind == LED_EXPIRE) return (double)sum;
        /* Σp·(1 − (t − at)/D) = (Σp·(D − (t − base)) + Σp·(at − base)) / D */
        __int128 num = (__int128)sum * (g->dur - (t - g->base)) + (g->sum_pt - dpt);
        return (double)num / (double)g->dur;
    }
    case LED_HALF_LIFE: return g->acc * pow(0.5, (double)(t - g->max_at) / (double)g->dur);
    }
    return 0;
}

double led_value_at(const Ledger *l, int64_t now)
{
    double v = 0;
    for (uint32_t i = 0; i < l->n; i++) v += group_value(&l->g[i], now);
    return v;
}

int64_t led_round(double x)
{
    double r = nearbyint(x);                    /* the default rounding mode: half to even */
    if (r > 9.2e18) return INT64_MAX;
    if (r < -9.2e18) return INT64_MIN;
    return (int64_t)r;
}

int64_t led_read_at(const Ledger *l, int64_t now) { return led_round(led_value_at(l, now)); }

int led_merge(Ledger *to, Ledger *from)
{
    for (uint32_t i = 0; i < from->n; i++) {
        LedGroup *f = &from->g[i];
        if (f->max_at == INT64_MIN) continue;
        if (f->kind == LED_HALF_LIFE) {
            LedGroup *g = group(to, LED_HALF_LIFE, f->dur);
            if (!g) return 0;
            if (g->max_at == INT64_MIN) { g->acc = f->acc; g->max_at = f->max_at; continue; }
            if (f->max_at > g->max_at) {
                g->acc = g->acc * pow(0.5, (double)(f->max_at - g->max_at) / (double)g->dur) + f->acc;
                g->max_at = f->max_at;
            } else {
                g->acc += f->acc * pow(0.5, (double)(g->max_at - f->max_at) / (double)g->dur);
            }
            continue;
        }
        if (f->kind == LED_PLAIN) {
            LedGroup *g = group(to, LED_PLAIN, 0);
            if (!g) return 0;
            g->sum += f->sum;
            if (f->max_at > g->max_at) g->max_at = f->max_at;
            continue;
        }
        for (uint32_t k = 0; k < f->n; k++)
            if (!led_add(to, (LedKind)f->kind, f->dur, f->heap[k].at, f->heap[k].points)) return 0;
    }
    led_free(from);
    return 1;
}

uint64_t led_bytes(const Ledger *l)
{
    uint64_t b = sizeof(LedGroup) * l->cap;
    for (uint32_t i = 0; i < l->n; i++) b += sizeof(LedItem) * l->g[i].cap;
    return b;
}
