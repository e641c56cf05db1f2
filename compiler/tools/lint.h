/*
 * lint.h - `dnac lint`: what compiles but is wrong.
 *
 * Lint runs on a program that checked clean and reports findings through
 * the diagnostics list, each with a stable code (lint_codes.h), a span and
 * a help line.  Severities come from the code's default or a `.dnalint`
 * file (lines `L005 = off|warning|error`).  Findings inside standard
 * library files are not reported.
 */
#ifndef DNA_LINT_H
#define DNA_LINT_H

#include "sema/types.h"

typedef enum LintCode {
#define LINT(code, sev, title, text) LINT_##code,
#include "tools/lint_codes.h"
#undef LINT
    LINT__COUNT
} LintCode;

#define LINT_OFF (-1)

typedef struct LintConfig {
    int sev[LINT__COUNT];       /* Severity, or LINT_OFF */
} LintConfig;

void lint_config_default(LintConfig *cfg);
/* Find `.dnalint` in the directory of `path` (the directory itself when
 * `path` is one) or a parent, stopping at the repository root (a directory
 * holding `.git`).  Returns 1 and fills `out` when found. */
int  lint_config_find(const char *path, char *out, size_t outlen);
/* Read a config file.  Returns 0 with a message ("FILE:LINE: ...") in
 * `err` when it cannot be read or has a bad line. */
int  lint_config_load(LintConfig *cfg, const char *file, char *err, size_t errlen);

const char *lint_code_name(LintCode c);
const char *lint_code_title(const char *code);      /* NULL if not a lint code */
const char *lint_code_text(const char *code);

/* Lint a checked program; findings go to `out`.  Returns their number. */
uint32_t lint_program(Program *p, const LintConfig *cfg, DiagList *out);

#endif
