/*
 * mem.h - the one allocation hook and the arena allocator.
 *
 * Every allocation in dna goes through dna_malloc / dna_realloc / dna_free,
 * so tests can count allocations, cap memory or fail the Nth allocation.
 * Arenas hand out memory that is freed as a whole: one per compilation, one
 * per loaded bundle, one per event (reset after each event).
 */
#ifndef DNA_MEM_H
#define DNA_MEM_H

#include <stddef.h>
#include <stdint.h>

/* The hook.  A NULL return means out of memory; callers report it. */
typedef void *(*dna_alloc_fn)(void *ud, void *ptr, size_t osize, size_t nsize);

void  dna_set_allocator(dna_alloc_fn fn, void *ud);
void *dna_malloc(size_t n);
void *dna_realloc(void *p, size_t osize, size_t nsize);
void  dna_free(void *p, size_t size);
char *dna_strndup(const char *s, size_t n);

/* Counters for tests and benchmarks. */
typedef struct MemStats {
    uint64_t allocs;        /* successful allocations and growths */
    uint64_t bytes_live;    /* bytes currently allocated through the hook */
    uint64_t bytes_peak;
    uint64_t fail_after;    /* 0: never; N: the Nth allocation from now fails */
} MemStats;
MemStats *dna_mem_stats(void);
/* How many allocations the hook has refused on this thread so far: a call
 * that sees it move knows some part of its work is missing, wherever the
 * NULL was met (the engine turns that into ENG_NOMEM). */
uint64_t dna_mem_refused(void);

/* Arenas: bump allocation in chunks; no individual frees. */
typedef struct ArenaChunk ArenaChunk;
typedef struct Arena {
    ArenaChunk *head;
    char *cur, *end;
    size_t total;           /* bytes handed out */
    int failed;             /* an allocation failed: results are incomplete */
} Arena;

void  arena_init(Arena *a);
void *arena_alloc(Arena *a, size_t n);          /* zeroed, 8-aligned; NULL on OOM */
char *arena_strndup(Arena *a, const char *s, size_t n);
void  arena_reset(Arena *a);                    /* keep the first chunk */
void  arena_free(Arena *a);

#endif
