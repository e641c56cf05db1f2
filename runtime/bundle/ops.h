/*
 * ops.h - the operator codes a bundle stores.
 *
 * A source map's `when` and values are stored as prefix-ordered nodes
 * (DnaJNode, bundle.h); a DJ_BINARY node's `arg` is one of these codes,
 * a DJ_CALL node's one of the built-ins listed at the end.
 * They belong to the format, not to the compiler: the emitter maps the
 * AST's Op onto them (compiler/emit/emit_config.c, a switch), the verifier
 * refuses any other code, and the webhook evaluator (runtime/serve/webhook.c)
 * and the disassembler read them from here.  `not` is a node of its own
 * (DJ_NOT), so code 3 is not used; the codes are stored in files and are
 * never renumbered (a change is a new DNA_BUNDLE_VERSION).
 *
 * X(NAME, code, text): DOP_NAME = code; text is the operator's spelling.
 */
#ifndef DNA_BUNDLE_OPS_H
#define DNA_BUNDLE_OPS_H

#include "bundle/opcodes.h"

#include <stddef.h>
#include <stdint.h>

#define DNA_OPS(X)              \
    X(OR,        1, "or")       \
    X(AND,       2, "and")      \
    X(EQ,        4, "==")       \
    X(NE,        5, "!=")       \
    X(LT,        6, "<")        \
    X(LE,        7, "<=")       \
    X(GT,        8, ">")        \
    X(GE,        9, ">=")       \
    X(CONTAINS, 10, "contains")

typedef enum DnaOp {
#define DNA_OP_ENUM(name, code, text) DOP_##name = code,
    DNA_OPS(DNA_OP_ENUM)
#undef DNA_OP_ENUM
} DnaOp;

/* The spelling of a stored operator code; NULL for a code the format does
 * not define. */
static inline const char *dna_op_text(uint32_t code)
{
    switch (code) {
#define DNA_OP_TEXT(name, c, text) case c: return text;
        DNA_OPS(DNA_OP_TEXT)
#undef DNA_OP_TEXT
    default: return NULL;
    }
}

/* The built-in functions a DJ_CALL node may name (VmBuiltin ids of
 * opcodes.h): the ones the webhook evaluator computes over JSON.  The
 * emitter refuses any other in a source map, the verifier any other id. */
#define DNA_MAP_BUILTINS(X) X(coalesce) X(is_set) X(lower) X(upper) X(trim)

static inline int dna_map_builtin(uint32_t id)
{
    switch (id) {
#define DNA_MAP_BI(name) case VM_BI_##name: return 1;
        DNA_MAP_BUILTINS(DNA_MAP_BI)
#undef DNA_MAP_BI
    default: return 0;
    }
}

#endif
