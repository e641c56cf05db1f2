/*
 * disasm.h - printing a bundle readably (see disasm.c).
 */
#ifndef DNA_DISASM_H
#define DNA_DISASM_H

#include "bundle/bundle.h"

#include <stdio.h>

/* The text of line `line` (1-based) of source file `path`, or NULL. */
typedef const char *(*DisLineFn)(void *ud, const char *path, uint32_t line);

void dis_bundle(const DnaBundle *b, FILE *out, DisLineFn line, void *ud);

#endif
