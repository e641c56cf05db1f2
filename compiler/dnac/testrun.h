/*
 * testrun.h - `dnac test`: run the `test` blocks of a project.
 *
 * Each test gets a fresh engine over an in-memory store, runs its steps in
 * order (given state, events at their times, waits that fire timers) and
 * checks its expectations: a condition on entities (`expect lead.score ==
 * 20`), or an effect that happened or did not (`expect signal X`,
 * `expect no notify slack`).  A failure shows what was expected, what was
 * found, and the effects of the test with their traces.
 */
#ifndef DNA_TESTRUN_H
#define DNA_TESTRUN_H

#include "sema/project.h"
#include <stdio.h>

typedef struct TestSummary { uint32_t passed, failed; } TestSummary;

/* Runs every test of a checked project; prints to `out`.  Returns 0, or
 * -1 when the bundle could not be built (diagnostics in pr->diags). */
int tr_run(Project *pr, FILE *out, int verbose, const char *filter, TestSummary *sum);

#endif
