/*
 * mem.c - the allocation hook and arenas (see mem.h).
 */
#include "base/mem.h"

#include <assert.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static void *default_alloc(void *ud, void *ptr, size_t osize, size_t nsize)
{
    (void)ud; (void)osize;
    if (nsize == 0) { free(ptr); return NULL; }
    return realloc(ptr, nsize);
}

static dna_alloc_fn g_alloc = default_alloc;
static void *g_ud;
static MemStats g_stats;
static _Thread_local uint64_t t_refused;

uint64_t dna_mem_refused(void) { return t_refused; }

void dna_set_allocator(dna_alloc_fn fn, void *ud)
{
    g_alloc = fn ? fn : default_alloc;
    g_ud = ud;
}

MemStats *dna_mem_stats(void) { return &g_stats; }

void *dna_realloc(void *p, size_t osize, size_t nsize)
{
    /* the caller's sizes are the hook's only record: a block that is not
     * there has no size, and a live block is part of bytes_live */
    assert(p || osize == 0);
    assert(__atomic_load_n(&g_stats.bytes_live, __ATOMIC_RELAXED) >= osize);
    /* the counters are shared by the daemon's threads: relaxed atomics */
    if (nsize == 0) {
        g_alloc(g_ud, p, osize, 0);
        __atomic_fetch_sub(&g_stats.bytes_live, osize, __ATOMIC_RELAXED);
        return NULL;
    }
    if (__atomic_load_n(&g_stats.fail_after, __ATOMIC_RELAXED) &&
        __atomic_sub_fetch(&g_stats.fail_after, 1, __ATOMIC_RELAXED) == 0) {
        t_refused++;
        return NULL;
    }
    void *q = g_alloc(g_ud, p, osize, nsize);
    if (!q) { t_refused++; return NULL; }
    __atomic_fetch_add(&g_stats.allocs, 1, __ATOMIC_RELAXED);
    uint64_t live = __atomic_add_fetch(&g_stats.bytes_live, nsize - osize, __ATOMIC_RELAXED);
    uint64_t peak = __atomic_load_n(&g_stats.bytes_peak, __ATOMIC_RELAXED);
    while (live > peak &&
           !__atomic_compare_exchange_n(&g_stats.bytes_peak, &peak, live, 1, __ATOMIC_RELAXED, __ATOMIC_RELAXED))
        ;
    return q;
}

void *dna_malloc(size_t n) { return dna_realloc(NULL, 0, n ? n : 1); }

void dna_free(void *p, size_t size)
{
    if (p) dna_realloc(p, size, 0);
}

char *dna_strndup(const char *s, size_t n)
{
    char *d = dna_malloc(n + 1);
    if (!d) return NULL;
    memcpy(d, s, n);
    d[n] = 0;
    return d;
}

void *dna_calloc(size_t n, size_t size)
{
    if (size && n > SIZE_MAX / size) return NULL;
    void *p = dna_malloc(n * size);
    if (p) memset(p, 0, n * size);
    return p;
}

/* ---- unsized: a header holds the size ---------------------------------- */

#define UHDR 16                 /* keeps the block 16-aligned, as malloc's */

void *dna_umalloc(size_t n)
{
    if (n > SIZE_MAX - UHDR) return NULL;
    char *b = dna_malloc(n + UHDR);
    if (!b) return NULL;
    memcpy(b, &n, sizeof n);
    return b + UHDR;
}

void *dna_ucalloc(size_t n, size_t size)
{
    if (size && n > SIZE_MAX / size) return NULL;
    void *p = dna_umalloc(n * size);
    if (p) memset(p, 0, n * size);
    return p;
}

size_t dna_usize(const void *p)
{
    size_t n;
    memcpy(&n, (const char *)p - UHDR, sizeof n);
    return n;
}

void *dna_urealloc(void *p, size_t n)
{
    if (!p) return dna_umalloc(n);
    if (n == 0) { dna_ufree(p); return NULL; }
    if (n > SIZE_MAX - UHDR) return NULL;
    size_t o = dna_usize(p);
    char *b = dna_realloc((char *)p - UHDR, o + UHDR, n + UHDR);
    if (!b) return NULL;
    memcpy(b, &n, sizeof n);
    return b + UHDR;
}

void dna_ufree(void *p)
{
    if (p) dna_free((char *)p - UHDR, dna_usize(p) + UHDR);
}

char *dna_ustrndup(const char *s, size_t n)
{
    char *d = dna_umalloc(n + 1);
    if (!d) return NULL;
    memcpy(d, s, n);
    d[n] = 0;
    return d;
}

char *dna_ustrdup(const char *s) { return dna_ustrndup(s, strlen(s)); }

/* ---- arenas ---------------------------------------------------------- */

struct ArenaChunk {
    ArenaChunk *next;
    size_t size;            /* of data[] */
    _Alignas(16) char data[];
};

#define ARENA_CHUNK 65536

void arena_init(Arena *a) { memset(a, 0, sizeof *a); }

void *arena_alloc(Arena *a, size_t n)
{
    n = (n + 7) & ~(size_t)7;
    if (n == 0) n = 8;
    if ((size_t)(a->end - a->cur) < n) {
        size_t sz = n > ARENA_CHUNK / 4 ? n : ARENA_CHUNK;
        ArenaChunk *c = dna_malloc(sizeof *c + sz);
        if (!c) { a->failed = 1; return NULL; }
        c->size = sz;
        if (n > ARENA_CHUNK / 4 && a->head) {
            /* a big block gets its own chunk behind the current one */
            c->next = a->head->next;
            a->head->next = c;
            a->total += n;
            memset(c->data, 0, n);
            return c->data;
        }
        c->next = a->head;
        a->head = c;
        a->cur = c->data;
        a->end = c->data + sz;
    }
    void *p = a->cur;
    assert(((uintptr_t)p & 7) == 0 && a->cur + n <= a->end);      /* 8-aligned, inside its chunk */
    a->cur += n;
    a->total += n;
    memset(p, 0, n);
    return p;
}

char *arena_strndup(Arena *a, const char *s, size_t n)
{
    char *d = arena_alloc(a, n + 1);
    if (!d) return NULL;
    memcpy(d, s, n);
    d[n] = 0;
    return d;
}

static void free_chain(ArenaChunk *c)
{
    while (c) {
        ArenaChunk *n = c->next;
        dna_free(c, sizeof *c + c->size);
        c = n;
    }
}

void arena_reset(Arena *a)
{
    if (!a->head) return;
    /* keep the most recent chunk if it is a standard one */
    ArenaChunk *keep = a->head;
    free_chain(keep->next);
    keep->next = NULL;
    a->cur = keep->data;
    a->end = keep->data + keep->size;
    a->total = 0;
    a->failed = 0;
}

void arena_free(Arena *a)
{
    free_chain(a->head);
    arena_init(a);
}
