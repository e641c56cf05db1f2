/*
 * parse_arena.h - where replay's parser threads put the JSON documents
 * they make: one arena per batch of lines, emptied when the engine is done
 * with the batch, instead of ~40 mallocs per line on the parser thread and
 * as many frees (across threads, through glibc's arena locks) on the
 * engine thread.
 *
 * pa_init installs jansson allocation functions for the whole process
 * (json_set_alloc_funcs) that take memory from the calling thread's
 * current slice, if it has one, and from malloc otherwise; their free
 * ignores slice memory (one range compare) and gives anything else to
 * free().  A slice that runs out falls back to malloc.  Memory from
 * malloc stays malloc's, so documents made before, after or beside the
 * parse stage are unaffected.
 *
 *   pa_init(n)       n slices (one per batch of the ring); 0 or -1
 *   pa_begin(i)      this thread allocates from slice i, emptied first
 *   pa_end()         this thread allocates from malloc again
 *   pa_done()        every document from a slice is freed: unmap them,
 *                    restore jansson's default allocator
 */
#ifndef DNA_PARSE_ARENA_H
#define DNA_PARSE_ARENA_H

int  pa_init(int nslices);
void pa_begin(int slice);
void pa_end(void);
void pa_done(void);

#endif
