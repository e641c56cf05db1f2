/*
 * testrun.h - `dnac test`: run the `test` blocks of a project.
 *
 * Each test gets a fresh engine over an in-memory store, runs its steps in
 * order (given state, events at their times, waits that fire timers) and
 * checks its expectations: a condition on entities (`expect lead.score ==
 * 20`), or an effect that happened or did not (`expect signal X`,
 * `expect no notify slack`).  A failure shows what was expected, what was
 * found, and the effects of the test with their traces.  The results are
 * kept (TestResult) and printed by testreport.c in the chosen format.
 */
#ifndef DNA_TESTRUN_H
#define DNA_TESTRUN_H

#include "sema/project.h"
#include "bundle/bundle.h"
#include <stdio.h>

typedef enum TestFormat { TF_TEXT, TF_JSON, TF_GITHUB, TF_JUNIT } TestFormat;

typedef struct TestOpts {
    TestFormat format;
    int verbose;                /* effects of passing tests too */
    const char *filter;         /* run the tests whose name contains this */
    int coverage;               /* print which rules, arms and actions the tests reached */
} TestOpts;

typedef struct TestSummary { uint32_t passed, failed, selected; } TestSummary;

typedef struct TestResult {
    char *name;
    char *path;                 /* the file of the test block */
    uint32_t line, col;
    char **fails;               /* "FILE:L:C: expect ...: why" */
    uint32_t nfails, more;      /* more: failures beyond those kept */
    char **effects;             /* every effect line of the test, in order */
    uint32_t neffects;
    double seconds;
} TestResult;

/* What the tests reached: per rule, arm and action of the bundle, a count. */
typedef struct TestCoverage {
    uint32_t *rule, *arm, *action;
} TestCoverage;

/* Runs every test of a checked project and prints the results to `out` in
 * o->format (the closing count is the caller's).  Returns 0, or -1 when the
 * bundle could not be built (diagnostics in pr->diags). */
int tr_run(Project *pr, FILE *out, const TestOpts *o, TestSummary *sum);

/* ---- testreport.c: the formats -------------------------------------------- */
void tr_print(FILE *out, const TestOpts *o, const TestResult *v, uint32_t n);
/* JUnit XML for rules that do not check: one testcase with an error, so a
 * CI report shows why no test ran (the diagnostics are on stderr). */
void tr_print_junit_error(FILE *out, uint32_t nerrors);
void tr_print_coverage(FILE *out, const TestOpts *o, const DnaBundle *b, const TestCoverage *cv);

#endif
