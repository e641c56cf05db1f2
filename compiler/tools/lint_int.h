/*
 * lint_int.h - what the lint passes share (lint.c, lint_flow.c): the
 * context, the walk over every declaration, constant folding.
 */
#ifndef DNA_LINT_INT_H
#define DNA_LINT_INT_H

#include "tools/lint.h"

typedef struct Lint {
    Program *p;
    const LintConfig *cfg;
    DiagList *out;
    uint32_t count;
} Lint;

#define FOR_DECLS(L, d)                                                        \
    for (int mi_ = 0; mi_ < (L)->p->nmods; mi_++)                              \
        for (int fi_ = 0; fi_ < (L)->p->mods[mi_]->nfiles; fi_++)              \
            for (Node *d = (L)->p->mods[mi_]->files[fi_]->list; d; d = d->next)

typedef enum VKind { V_UNKNOWN, V_BOOL, V_NUM, V_STR, V_ENUM, V_NULL } VKind;

typedef struct Val {
    VKind k;
    int64_t num;            /* bool 0/1; numbers in thousandths (durations: ms) */
    const char *s;          /* string, enum value (interned) */
} Val;

extern const Val lint_unknown;

/* A finding of `code` at sp (nothing when the code is off or sp is in the stdlib). */
Diag *lint_find(Lint *L, LintCode code, Span sp, const char *fmt, ...) __attribute__((format(printf, 4, 5)));

Val  lint_vnum(int64_t v, int ok);
int  lint_same_val(Val a, Val b);
/* The value of a literal or const expression; V_UNKNOWN for anything else. */
Val  lint_fold(const Node *n, int depth);
void lint_fmt_val(char *buf, size_t n, Val v);

/* lint_flow.c: L006 (thresholds no score reaches), L008 (workflows that re-trigger themselves) */
void lint_thresholds(Lint *L);
void lint_cycles(Lint *L);

#endif
