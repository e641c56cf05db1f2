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

#include "sema/project.h"
#include "bundle/bundle.h"

/* Returns the number of errors reported to pr->diags (constructs the
 * bundle cannot hold yet); on 0, *out holds the bytes (dna_buf_free). */
uint32_t emit_bundle(Project *pr, DnaBuf *out);

/* `dnac test`: the same bundle plus a code unit for every `expect EXPR`
 * of every test block, and for a comparison also one for its left side
 * (to show the actual value).  Units read the entity the expression
 * names (`lead.score == 20` reads a lead). */
typedef struct EmitExpect {
    Node *expect;               /* the N_EXPECT */
    uint32_t unit;              /* the condition */
    uint32_t actual;            /* the left side of a comparison, or DNA_NIL */
    uint32_t entity;            /* entity kind read, or DNA_NIL */
} EmitExpect;

typedef struct EmitTests {
    EmitExpect *v;
    uint32_t n, cap;
} EmitTests;

uint32_t emit_bundle_tests(Project *pr, DnaBuf *out, EmitTests *tests);

/* The bundle's operator code (DnaOp, bundle/ops.h) a source map stores for
 * an AST operator; DNA_NIL for one a source map cannot hold (B001). */
uint32_t emit_op_code(Op op);
/* The bundle's action kind (DnaActKind, bundle.h) for an AST action. */
DnaActKind emit_action_kind(ActKind k);
void     emit_tests_free(EmitTests *t);

#endif
