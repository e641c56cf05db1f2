/*
 * parse_arena.c - per-batch memory for replay's JSON documents (see
 * parse_arena.h).
 *
 * The slices are consecutive pieces of one anonymous mapping reserved up
 * front (MAP_NORESERVE: only the pages a batch touches become resident),
 * so "is this pointer slice memory" is one subtraction and one compare,
 * safe on any thread without a lock.
 */
#include "engine/parse_arena.h"

#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/mman.h>

#define SLICE (8u << 20)            /* bytes of address space per batch */
#define ALIGN 16                    /* what malloc gives: jansson stores doubles and pointers */

typedef struct Slice { char *cur, *end; } Slice;

static char *region;
static size_t region_len;
static Slice *slices;
static int nslices;
static _Thread_local Slice *mine;

static void *pa_malloc(size_t n)
{
    Slice *s = mine;
    if (s) {
        size_t k = (n + (ALIGN - 1)) & ~(size_t)(ALIGN - 1);
        if (k >= n && (size_t)(s->end - s->cur) >= k) {
            void *p = s->cur;
            s->cur += k;
            return p;
        }
    }
    return malloc(n);
}

static void pa_free(void *p)
{
    if ((uintptr_t)p - (uintptr_t)region < region_len) return;     /* freed with its batch */
    free(p);
}

int pa_init(int n)
{
    if (region || n <= 0) return region ? 0 : -1;
    size_t len = (size_t)n * SLICE;
    void *m = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (m == MAP_FAILED) return -1;
    slices = calloc((size_t)n, sizeof *slices);
    if (!slices) { munmap(m, len); return -1; }
    region = m;
    region_len = len;
    nslices = n;
    for (int i = 0; i < n; i++) slices[i] = (Slice){ region + (size_t)i * SLICE, region + (size_t)(i + 1) * SLICE };
    json_set_alloc_funcs(pa_malloc, pa_free);
    return 0;
}

void pa_begin(int i)
{
    if (!region || i < 0 || i >= nslices) { mine = NULL; return; }
    slices[i].cur = region + (size_t)i * SLICE;
    mine = &slices[i];
}

void pa_end(void) { mine = NULL; }

void pa_done(void)
{
    if (!region) return;
    json_set_alloc_funcs(malloc, free);
    munmap(region, region_len);
    free(slices);
    region = NULL;
    region_len = 0;
    slices = NULL;
    nslices = 0;
}
