/*
 * mem.h - the one allocation hook and the arena allocator.
 *
 * Every allocation in dna goes through dna_malloc / dna_realloc / dna_free,
 * so tests can count allocations, cap memory or fail the Nth allocation.
 * SQLite and libcurl allocate through it in dnad serve (db_use_dna_alloc,
 * dlv_global_init).  jansson does not: the strings json_dumps returns are
 * freed with free() by code shared between processes with and without a
 * hook (the CLI, the tests) and handed to libmicrohttpd, which frees them
 * with free(); one json_set_alloc_funcs needs all of those changed at once.
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

void *dna_calloc(size_t n, size_t size);       /* zeroed; NULL on overflow too; free with dna_free(p, n * size) */

/* Unsized: the block's size is kept in a 16-byte header before it, for
 * memory whose freer does not know its size (strings handed around, the
 * allocation hooks of SQLite and libcurl).  Through the same hook: counted,
 * and failed by fail_after.  Never mix with dna_free or libc free(). */
void  *dna_umalloc(size_t n);
void  *dna_ucalloc(size_t n, size_t size);
void  *dna_urealloc(void *p, size_t n);
void   dna_ufree(void *p);
char  *dna_ustrdup(const char *s);
char  *dna_ustrndup(const char *s, size_t n);
size_t dna_usize(const void *p);                /* what was asked for */

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
