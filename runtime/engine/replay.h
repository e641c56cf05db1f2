/*
 * replay.h - `dnad replay`: a bundle over historical events, effects
 * captured instead of sent, output in the replay contract
 * (architecture brief, "Replay output"):
 *
 *   DIR/state.jsonl     one line per entity, sorted by kind then key
 *   DIR/effects.jsonl   one line per effect, in the order produced
 *                       (--effects external: those for the outbox only)
 *   DIR/diff.jsonl      with a baseline: entities whose score, grade,
 *                       intent, route, owner, alerts or actions differ,
 *                       with the external actions added and removed
 *   stdout              a summary (text or markdown); with a baseline the
 *                       review of the difference comes first
 */
#ifndef DNA_REPLAY_H
#define DNA_REPLAY_H

#include "bundle/bundle.h"
#include <stdio.h>

/* Events from a store instead of a file (`dnad replay --from sqlite:PATH`):
 * next() gives the next envelope in acceptance order and the watermark the
 * daemon had advanced to before it (has_wm 0: none); 1: one more, 0: the
 * end, -1: an error (why[]).  final_wm: the watermark the daemon reached
 * after the last one: replay advances exactly there, so its effects are
 * the daemon's, byte for byte. */
typedef struct RepSource {
    int (*next)(void *ud, const char **body, size_t *len, int64_t *wm, int *has_wm, char *why, size_t wl);
    void *ud;
    int64_t final_wm;
    int has_final;
} RepSource;

typedef struct ReplayOpts {
    const char *events;         /* JSONL file, "-" for stdin */
    const char *out;            /* directory */
    const DnaBundle *baseline;  /* or NULL */
    int64_t until;              /* final state time; 0: the last event's */
    int has_until;
    int strict;                 /* a rejected line makes the exit status 1 */
    int markdown;               /* the summary as markdown */
    int quiet;
    int threads;                /* parser threads; the engine is one thread whatever this is */
    const RepSource *source;    /* or NULL: events from the file */
    int64_t max_future_ms;      /* an occurred_at further ahead of wall_ms is refused; 0: no limit */
    int64_t wall_ms;            /* the wall clock when the run started (read by dnad, not here) */
    uint64_t limit;             /* rows of the baseline diff's table; 0: 50 */
    int effects;                /* what effects.jsonl holds: REP_EFFECTS_* */
} ReplayOpts;

/* --effects: every effect (the default), only those that would enter the
 * outbox under `dnad serve` (external, not shadow, naming a connector), or
 * none (effects.jsonl is written empty). */
enum { REP_EFFECTS_ALL, REP_EFFECTS_EXTERNAL, REP_EFFECTS_NONE };

/* Returns the exit status: 0 ok, 1 rejected lines under --strict, 2 I/O. */
int rep_run(const DnaBundle *b, const ReplayOpts *o, FILE *summary);

#endif
