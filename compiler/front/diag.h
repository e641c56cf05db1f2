/*
 * diag.h - diagnostics: collected while compiling, printed by the CLI.
 *
 * The compiler never stops at the first error: each pass calls diag_emit()
 * and carries on.  Library code never prints; the CLI renders the list as
 * text (source line and carets), JSON or GitHub annotations.
 */
#ifndef DNA_DIAG_H
#define DNA_DIAG_H

#include "front/source.h"
#include <stdio.h>

typedef enum DiagCode {
#define DIAG(code, title, text) DIAG_##code,
#include "front/diag_codes.h"
#undef DIAG
    DIAG__COUNT
} DiagCode;

typedef enum Severity { SEV_ERROR, SEV_WARNING, SEV_NOTE } Severity;

typedef struct Diag {
    Severity sev;
    const char *code;       /* "E011", or a lint code */
    Span span;
    char *msg;
    char *help;             /* NULL or a suggestion */
} Diag;

#define DIAG_MAX_PER_FILE 100

typedef struct DiagList {
    SrcSet *src;
    Diag *v;
    uint32_t n, cap;
    uint32_t nerrors, nwarnings;
    uint32_t *per_file;     /* emitted per file id, to cap a flood */
    uint32_t per_file_cap;
    uint32_t suppressed;
} DiagList;

void  diag_init(DiagList *d, SrcSet *src);
void  diag_free(DiagList *d);
/* Record a diagnostic; returns it so a help line can be attached, or NULL
 * when the file's cap is reached (the caller need not check). */
Diag *diag_emit(DiagList *d, Severity sev, const char *code, Span span,
                const char *fmt, ...) __attribute__((format(printf, 5, 6)));
Diag *diag_error(DiagList *d, DiagCode code, Span span, const char *fmt, ...)
        __attribute__((format(printf, 4, 5)));
void  diag_help(Diag *g, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
const char *diag_code_name(DiagCode c);
const char *diag_code_title(const char *code);
const char *diag_code_text(const char *code);
/* The index of `code` in a table of code names (diag_codes.h's, lint_codes.h's), or -1. */
int diag_code_find(const char *const *names, int n, const char *code);

/* Sort by file, position; stable for equal positions. */
void diag_sort(DiagList *d);

typedef enum DiagFormat { DIAG_TEXT, DIAG_JSON, DIAG_GITHUB } DiagFormat;
void diag_print(const DiagList *d, DiagFormat fmt, FILE *out, int color);

/* The closest candidate to `name` by edit distance, or NULL when none is
 * close enough to suggest. */
typedef struct Suggest {
    const char *name;
    const char *best;
    unsigned best_dist;
} Suggest;
void suggest_init(Suggest *s, const char *name);
void suggest_add(Suggest *s, const char *candidate);
const char *suggest_best(const Suggest *s);

#endif
