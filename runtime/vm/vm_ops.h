/*
 * vm_ops.h - the interpreter's operations that compiled code calls too.
 *
 * The JIT (runtime/jit/) compiles the common instructions to machine code
 * and calls these functions for the rest, so that there is one definition
 * of each rare operation: the interpreter loop (vm.c) calls the very same
 * functions.  Scratch-buffer operations read and advance
 * DnaVm.scratch_used, the cursor of the evaluation in progress (the loop
 * writes its local cursor back before it calls them).
 *
 * Results follow vm.h: VM_OK or the error the instruction throws.
 */
#ifndef DNA_VM_OPS_H
#define DNA_VM_OPS_H

#include "vm/vm.h"

#include <stdint.h>

/* CALL: builtin `id` of x (and y, for two-argument builtins), into *res.
 * Includes the none rules: a none argument gives none. */
VmResult vm_op_call(DnaVm *vm, const DnaBundle *b, const DnaUnit *u, const DnaState *st, unsigned id,
                    const DnaValue *x, const DnaValue *y, DnaValue *res);
/* SADD (and SADDK with x a string constant, fmt VM_FMT_STR): append x,
 * formatted as fmt, to the string under construction in *d. */
VmResult vm_op_sadd(DnaVm *vm, DnaValue *d, const DnaValue *x, unsigned fmt);
/* ENAME: *r (an int or none) becomes the name of its value in enum e. */
VmResult vm_op_ename(const DnaBundle *b, uint32_t e, DnaValue *r);
/* HAS_I / HAS_S over a list's items (the caller checked the kinds). */
int vm_op_has_i(const DnaValue *items, uint32_t n, int64_t x);
int vm_op_has_s(const DnaValue *items, uint32_t n, const char *s, uint32_t len);
/* CONTAINS of two strings; string order (memcmp, then length). */
int vm_op_contains(const char *x, uint32_t xn, const char *y, uint32_t yn);
int vm_op_str_cmp(const char *x, uint32_t xn, const char *y, uint32_t yn);
/* MUL_D: x * y / 1000, DIV_D: x * 1000 / y (y != 0), half-even; 1 on overflow. */
int vm_op_mul_d(int64_t x, int64_t y, int64_t *r);
int vm_op_div_d(int64_t x, int64_t y, int64_t *r);

#endif
