/*
 * timers.h - the scheduler's queue: a binary min-heap of timers ordered by
 * (due, sequence), with an index from a timer's key to its heap slot so a
 * timer can be moved or cancelled in O(log n).
 *
 * A key names what a timer is for: (entity, rule, slot), e.g. an entity's
 * inactivity timer for one workflow.  Setting a key that exists moves the
 * timer; there is at most one timer per key.  Equal due times fire in the
 * order they were set (the sequence), so firing order is deterministic.
 */
#ifndef DNA_TIMERS_H
#define DNA_TIMERS_H

#include <stdint.h>

typedef struct TimerKey { uint64_t entity; uint32_t rule, slot; } TimerKey;

typedef struct Timer {
    int64_t due;                /* ms since the epoch */
    uint64_t seq;
    TimerKey key;
    int64_t arg;                /* for the owner: e.g. the alert id */
} Timer;

typedef struct Timers {
    Timer *heap;
    uint32_t n, cap;
    struct TimerSlot { TimerKey key; uint32_t pos; } *index;   /* open addressing; pos = heap slot + 1, 0 = empty */
    uint32_t icap;
    uint64_t next_seq;
} Timers;

void tmr_init(Timers *t);
void tmr_free(Timers *t);
/* Set or move the timer of `key`.  Returns 0 on out of memory. */
int  tmr_set(Timers *t, TimerKey key, int64_t due, int64_t arg);
/* Cancel; returns 1 if there was one. */
int  tmr_cancel(Timers *t, TimerKey key);
/* The timer of `key`, or NULL. */
const Timer *tmr_get(const Timers *t, TimerKey key);
/* Pop the earliest timer if it is due at or before `watermark`. */
int  tmr_pop_due(Timers *t, int64_t watermark, Timer *out);
const Timer *tmr_peek(const Timers *t);

#endif
