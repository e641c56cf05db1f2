/*
 * emit.h - compiling a checked project into a bundle (.dnab bytes).
 *
 * emit_bundle() runs after proj_check() found no errors.  It lays out the
 * schema (events and entities as slot tables), compiles every expression
 * of every rule into register bytecode (emit_expr.c), records the rules,
 * actions, configuration and the trigger index, and serializes the result
 * with bundle_write().  The same sources give the same bytes.
 */
#ifndef DNA_EMIT_H
#define DNA_EMIT_H

#include "project.h"
#include "../runtime/bundle.h"

/* Returns the number of errors reported to pr->diags (constructs the
 * bundle cannot hold yet); on 0, *out holds the bytes (dna_buf_free). */
uint32_t emit_bundle(Project *pr, DnaBuf *out);

#endif
