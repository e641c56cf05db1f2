/*
 * fmt.h - the canonical layout of a .dna file (`dnac fmt`).
 *
 * The formatter prints a parsed file back from its syntax tree, with the
 * file's comments put back where they were (before, after or inside the
 * construct they sit next to).  The layout is fixed: two-space indent, one
 * clause per line in blocks, one blank line between top-level
 * declarations (short declarations of one kind that were adjacent stay
 * together), blank lines inside blocks kept where the source had them.
 * Strings are printed from their decoded value with escapes, numbers and
 * times of day canonically, durations as written.  Formatting is
 * idempotent and the result parses to the same tree.
 *
 * Only syntax is needed: the caller parses the file and must not format
 * it when parsing reported errors.
 */
#ifndef DNA_FMT_H
#define DNA_FMT_H

#include "front/parse.h"

#define FMT_WIDTH 100           /* lines are wrapped (where they can be) at this width */

/* Format `file` (parsed from `src`, with its comment list).  Returns the
 * new text, NUL-terminated, allocated with dna_malloc (free with
 * dna_free(p, *len + 1)); NULL when out of memory. */
char *fmt_file(const Node *file, const Comment *comments, const SrcFile *src, size_t *len);

/* fmt_diff.c: a unified diff of `a` (the file at `path`) against `b` (its
 * formatted text), three lines of context.  Allocated as fmt_file's result
 * (free with dna_free(p, *len + 1)); NULL when out of memory. */
char *fmt_diff(const char *path, const char *a, size_t alen, const char *b, size_t blen, size_t *len);

#endif
