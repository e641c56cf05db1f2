/*
 * replay_int.h - what replay.c and replay_diff.c share: one run of a
 * bundle over the events, and its entities in state.jsonl order.
 */
#ifndef DNA_REPLAY_INT_H
#define DNA_REPLAY_INT_H

#include "engine/replay.h"
#include "engine/engine.h"
#include "engine/state.h"

#include <stdint.h>
#include <stdio.h>

#define MAX_REPORTED 20     /* rejected lines listed in the summary */

typedef struct Rejected { uint64_t line; char why[256]; } Rejected;

typedef struct Run {
    const DnaBundle *b;
    Engine *eng;
    Store *st;
    FILE *effects;              /* or NULL */
    int which;                  /* what goes to effects: REP_EFFECTS_* */
    uint64_t lines, rejected, duplicates;
    uint64_t after_until;       /* events later than --until: read, not applied */
    Rejected rej[MAX_REPORTED];
    Rejected dup[MAX_REPORTED];
    Rejected late[MAX_REPORTED];    /* the first late lines, with their times */
    uint64_t nlate;
    int64_t final;
    double seconds;
    int collect;                /* keep every external action (a baseline diff follows) */
    struct RepAction **acts;    /* replay_diff.c's: the external actions, per entity */
    uint64_t nacts, capacts;
} Run;

typedef struct Row { const char *kind, *key; uint64_t h; } Row;

/* The run's entities sorted by kind then key; *nrows set; NULL when out of memory. */
Row *rep_sorted_rows(Run *r, uint64_t *nrows);

/* The sink's share of the diff: an effect of the run, counted per entity. */
void rep_diff_note(Run *r, const EngEffect *ef);

/* Frees what rep_diff_note kept. */
void rep_diff_free(Run *r);

/* diff.jsonl at path and the review on out (headline, the first `limit`
 * rows, actions, totals, score deltas); returns 0 or 2 (I/O). */
int rep_diff_write(Run *base, Run *cur, const char *path, FILE *out, int markdown, uint64_t limit);

#endif
