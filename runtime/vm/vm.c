/*
 * vm.c - the interpreter loop (see vm.h).
 *
 * This file is compiled twice: as itself it defines vm_run_goto() with
 * computed-goto dispatch (GCC/Clang "labels as values"; a switch where the
 * compiler lacks it); vm_switch.c defines DNA_VM_SWITCH and includes it to
 * get vm_run_switch(), the same loop through a switch.  The only
 * difference is the VM_* dispatch macros below.
 *
 * The loop trusts the verifier (verify.c) for register, constant and slot
 * indexes and for jumps; it checks value kinds before following a pointer,
 * so a wrong state cannot make it read wild memory.  It never allocates.
 */
#include "vm/vm.h"
#include "vm/vm_ops.h"

#include <assert.h>
#include <string.h>

#if defined(DNA_VM_SWITCH) || !(defined(__GNUC__) || defined(__clang__))
#define VM_USE_GOTO 0
#else
#define VM_USE_GOTO 1
#endif

/* The goto build is vm_eval() itself (one call less on every evaluation);
 * it hands over to the switch build when DnaVm.use_switch is set. */
#ifdef DNA_VM_SWITCH
#define VM_RUN vm_run_switch
#else
#define VM_RUN vm_eval
const int vm_has_computed_goto = VM_USE_GOTO;
#endif

/* Write a register field by field: building a DnaValue temporary and
 * copying it makes the compiler store two halves and reload the whole,
 * which stalls store forwarding on every instruction. */
#define SETI(dst, v) do { DnaValue *d_ = &(dst); d_->u.i = (v); d_->len = 0; d_->kind = DNA_VK_INT; } while (0)
#define COPYV(dst, src) do { DnaValue *d_ = &(dst); const DnaValue *s_ = &(src); \
        d_->u = s_->u; d_->len = s_->len; d_->kind = s_->kind; } while (0)
#define SETNONE(dst) do { DnaValue *d_ = &(dst); d_->u.i = 0; d_->len = 0; d_->kind = DNA_VK_NONE; } while (0)

static inline int truthy(const DnaValue *v) { return v->kind != DNA_VK_NONE && v->u.i != 0; }

static inline int str_eq(const DnaValue *a, const DnaValue *b)
{
    return a->len == b->len && (!a->len || memcmp(a->u.s, b->u.s, a->len) == 0);
}

VmResult VM_RUN(DnaVm *vm, const DnaBundle *b, uint32_t unit, const DnaState *st, DnaValue *out)
{
    if (unit >= b->nunits) {
        vm->err = VM_ERR_UNIT;
        vm->err_unit = unit;
        vm->err_pc = 0;
        *out = dna_none();
        return VM_ERR_UNIT;
    }
#ifndef DNA_VM_SWITCH
    if (vm->use_switch) return vm_run_switch(vm, b, unit, st, out);
#endif
    vm->err_unit = unit;
    const DnaUnit *const u = &b->units[unit];
    const uint32_t *const code = b->code;
    const uint32_t *ip = code + u->pc;
    DnaValue *const R = vm->regs;
    const DnaValue *const K = b->kvals;
    char *const scratch = vm->scratch;
    uint32_t used = 0;
    uint32_t w;
    VmResult err = VM_OK;
    /* Registers start as none.  Only the kind matters: every instruction
     * checks it before it trusts the payload, so a stale payload of an
     * earlier evaluation is never read. */
    for (uint32_t i = 0; i < u->nregs; i++) R[i].kind = DNA_VK_NONE;

#define A_ DNA_INS_A(w)
#define B_ DNA_INS_B(w)
#define C_ DNA_INS_C(w)
#define BX_ DNA_INS_BX(w)
#define SBX_ DNA_INS_SBX(w)
#define THROW(e) do { err = (e); goto fail; } while (0)
#define SPACE(n) do { if ((size_t)(n) > sizeof vm->scratch - used) THROW(VM_ERR_SCRATCH); } while (0)
#define ANY_NONE(x, y) ((x)->kind == DNA_VK_NONE || (y)->kind == DNA_VK_NONE)
#define NEED_STR(x) do { if ((x)->kind != DNA_VK_STR) THROW(VM_ERR_TYPE); } while (0)
#ifndef NDEBUG
    /* debug builds: every instruction is inside its unit, is an opcode, and
     * the fields its format names registers (A, B, C: bits 1, 2, 4 by the
     * operand formats of opcodes.h) are registers of the unit (the
     * verifier's promises); and it can be traced */
    enum { RM_R = 1, RM_RR = 3, RM_RRR = 7, RM_RK = 1, RM_RI = 1, RM_RE = 1, RM_RS = 1, RM_RN = 1, RM_RF = 1,
           RM_J = 0, RM_RJ = 1, RM_RLR = 5, RM_RT = 1, RM_RRX = 3, RM_RU = 1 };
    static const uint8_t regmask[VM_OP__COUNT] = {
#define OP(name, fmt, effect) RM_##fmt,
        DNA_OPCODES(OP)
#undef OP
    };
    assert(u->nregs >= 1 && u->nregs <= DNA_MAX_REGS && u->len >= 1 && u->pc + u->len <= b->ncode);
#define VM_TRACE() do { \
        assert(ip >= code + u->pc && ip < code + u->pc + u->len); \
        assert(DNA_INS_OP(*ip) < VM_OP__COUNT); \
        assert(!(regmask[DNA_INS_OP(*ip)] & 1) || DNA_INS_A(*ip) < u->nregs); \
        assert(!(regmask[DNA_INS_OP(*ip)] & 2) || DNA_INS_B(*ip) < u->nregs); \
        assert(!(regmask[DNA_INS_OP(*ip)] & 4) || DNA_INS_C(*ip) < u->nregs); \
        if (vm->trace) vm->trace(vm->trace_ud, b, (uint32_t)(ip - code), R); \
    } while (0)
#else
#define VM_TRACE() ((void)0)
#endif

#if VM_USE_GOTO
    static const void *const labels[VM_OP__COUNT] = {
#define OP(name, fmt, effect) &&L_##name,
        DNA_OPCODES(OP)
#undef OP
    };
#define VM_DISPATCH() do { VM_TRACE(); w = *ip++; goto *labels[DNA_INS_OP(w)]; } while (0)
#define VM_CASE(name) L_##name:
#define VM_NEXT VM_DISPATCH()
    VM_DISPATCH();
#else
#define VM_CASE(name) case VM_OP_##name:
#define VM_NEXT break
    for (;;) {
        VM_TRACE();
        w = *ip++;
        switch (DNA_INS_OP(w)) {
#endif

    VM_CASE(LOADK) R[A_] = K[BX_]; VM_NEXT;
    VM_CASE(LOADI) SETI(R[A_], SBX_); VM_NEXT;
    VM_CASE(LOADNONE) SETNONE(R[A_]); VM_NEXT;
    VM_CASE(MOVE) COPYV(R[A_], R[B_]); VM_NEXT;
    VM_CASE(LDE) {
        uint32_t s = BX_;
        if (s >= st->nevent) THROW(VM_ERR_SLOT);
        R[A_] = st->event[s];
        VM_NEXT;
    }
    VM_CASE(LDS) {
        uint32_t s = BX_;
        if (s >= st->nentity) THROW(VM_ERR_SLOT);
        R[A_] = st->entity[s];
        VM_NEXT;
    }
    VM_CASE(LDSELF) SETI(R[A_], st->self); VM_NEXT;
    VM_CASE(DEREF) {
        DnaValue *r = &R[A_];
        if (r->kind == DNA_VK_NONE) VM_NEXT;
        if (r->kind != DNA_VK_INT) THROW(VM_ERR_TYPE);
        if (!st->deref) THROW(VM_ERR_DEREF);
        uint32_t n = 0;
        const DnaValue *p = st->deref(st->ud, BX_, r->u.i, &n);
        if (!p) SETNONE(*r);
        else { r->u.items = p; r->len = n; r->kind = DNA_VK_SLOTS; }
        VM_NEXT;
    }
    VM_CASE(LDF) {
        DnaValue *r = &R[A_];
        if (r->kind == DNA_VK_NONE) VM_NEXT;
        if (r->kind != DNA_VK_SLOTS) THROW(VM_ERR_TYPE);
        if (BX_ >= r->len) THROW(VM_ERR_SLOT);
        *r = r->u.items[BX_];
        VM_NEXT;
    }
    VM_CASE(JMP) ip += SBX_; VM_NEXT;
    VM_CASE(JF) if (!truthy(&R[A_])) ip += SBX_; VM_NEXT;
    VM_CASE(JT) if (truthy(&R[A_])) ip += SBX_; VM_NEXT;
    VM_CASE(NOT) SETI(R[A_], !truthy(&R[B_])); VM_NEXT;
    VM_CASE(BOOL) SETI(R[A_], truthy(&R[B_])); VM_NEXT;
    VM_CASE(ISNONE) SETI(R[A_], R[B_].kind == DNA_VK_NONE); VM_NEXT;
    VM_CASE(ISSET) SETI(R[A_], R[B_].kind != DNA_VK_NONE); VM_NEXT;
    VM_CASE(EQ_I) {
        const DnaValue *x = &R[B_], *y = &R[C_];
        int r = ANY_NONE(x, y) ? x->kind == y->kind : x->u.i == y->u.i;
        SETI(R[A_], r);
        VM_NEXT;
    }
    VM_CASE(NE_I) {
        const DnaValue *x = &R[B_], *y = &R[C_];
        int r = ANY_NONE(x, y) ? x->kind == y->kind : x->u.i == y->u.i;
        SETI(R[A_], !r);
        VM_NEXT;
    }
    VM_CASE(LT_I) {
        const DnaValue *x = &R[B_], *y = &R[C_];
        SETI(R[A_], !ANY_NONE(x, y) && x->u.i < y->u.i);
        VM_NEXT;
    }
    VM_CASE(LE_I) {
        const DnaValue *x = &R[B_], *y = &R[C_];
        SETI(R[A_], !ANY_NONE(x, y) && x->u.i <= y->u.i);
        VM_NEXT;
    }
    VM_CASE(EQ_S) {
        const DnaValue *x = &R[B_], *y = &R[C_];
        int r;
        if (ANY_NONE(x, y)) r = x->kind == y->kind;
        else { NEED_STR(x); NEED_STR(y); r = str_eq(x, y); }
        SETI(R[A_], r);
        VM_NEXT;
    }
    VM_CASE(NE_S) {
        const DnaValue *x = &R[B_], *y = &R[C_];
        int r;
        if (ANY_NONE(x, y)) r = x->kind == y->kind;
        else { NEED_STR(x); NEED_STR(y); r = str_eq(x, y); }
        SETI(R[A_], !r);
        VM_NEXT;
    }
    VM_CASE(LT_S) {
        const DnaValue *x = &R[B_], *y = &R[C_];
        int r = 0;
        if (!ANY_NONE(x, y)) { NEED_STR(x); NEED_STR(y); r = vm_op_str_cmp(x->u.s, x->len, y->u.s, y->len) < 0; }
        SETI(R[A_], r);
        VM_NEXT;
    }
    VM_CASE(LE_S) {
        const DnaValue *x = &R[B_], *y = &R[C_];
        int r = 0;
        if (!ANY_NONE(x, y)) { NEED_STR(x); NEED_STR(y); r = vm_op_str_cmp(x->u.s, x->len, y->u.s, y->len) <= 0; }
        SETI(R[A_], r);
        VM_NEXT;
    }
    VM_CASE(CONTAINS) {
        const DnaValue *x = &R[B_], *y = &R[C_];
        int r = 0;
        if (!ANY_NONE(x, y)) {
            NEED_STR(x); NEED_STR(y);
            r = vm_op_contains(x->u.s, x->len, y->u.s, y->len);
        }
        SETI(R[A_], r);
        VM_NEXT;
    }
    VM_CASE(HAS_I) {
        const DnaValue *l = &R[B_], *x = &R[C_];
        int r = 0;
        if (!ANY_NONE(l, x)) {
            if (l->kind != DNA_VK_LIST) THROW(VM_ERR_TYPE);
            r = vm_op_has_i(l->u.items, l->len, x->u.i);
        }
        SETI(R[A_], r);
        VM_NEXT;
    }
    VM_CASE(HAS_S) {
        const DnaValue *l = &R[B_], *x = &R[C_];
        int r = 0;
        if (!ANY_NONE(l, x)) {
            if (l->kind != DNA_VK_LIST) THROW(VM_ERR_TYPE);
            NEED_STR(x);
            r = vm_op_has_s(l->u.items, l->len, x->u.s, x->len);
        }
        SETI(R[A_], r);
        VM_NEXT;
    }
#define ARITH(name, expr_ok) \
    VM_CASE(name) { \
        const DnaValue *x = &R[B_], *y = &R[C_]; \
        if (ANY_NONE(x, y)) { SETNONE(R[A_]); VM_NEXT; } \
        int64_t r; \
        if (expr_ok) THROW(VM_ERR_OVERFLOW); \
        SETI(R[A_], r); \
        VM_NEXT; \
    }
    ARITH(ADD, __builtin_add_overflow(x->u.i, y->u.i, &r))
    ARITH(SUB, __builtin_sub_overflow(x->u.i, y->u.i, &r))
    ARITH(MUL, __builtin_mul_overflow(x->u.i, y->u.i, &r))
#undef ARITH
    VM_CASE(MOD) {
        const DnaValue *x = &R[B_], *y = &R[C_];
        if (ANY_NONE(x, y)) { SETNONE(R[A_]); VM_NEXT; }
        if (y->u.i == 0) THROW(VM_ERR_DIV_ZERO);
        SETI(R[A_], y->u.i == -1 ? 0 : x->u.i % y->u.i);
        VM_NEXT;
    }
    VM_CASE(MUL_D) {
        const DnaValue *x = &R[B_], *y = &R[C_];
        if (ANY_NONE(x, y)) { SETNONE(R[A_]); VM_NEXT; }
        int64_t r;
        if (vm_op_mul_d(x->u.i, y->u.i, &r)) THROW(VM_ERR_OVERFLOW);
        SETI(R[A_], r);
        VM_NEXT;
    }
    VM_CASE(DIV_D) {
        const DnaValue *x = &R[B_], *y = &R[C_];
        if (ANY_NONE(x, y)) { SETNONE(R[A_]); VM_NEXT; }
        if (y->u.i == 0) THROW(VM_ERR_DIV_ZERO);
        int64_t r;
        if (vm_op_div_d(x->u.i, y->u.i, &r)) THROW(VM_ERR_OVERFLOW);
        SETI(R[A_], r);
        VM_NEXT;
    }
    VM_CASE(NEG) {
        const DnaValue *x = &R[B_];
        if (x->kind == DNA_VK_NONE) { SETNONE(R[A_]); VM_NEXT; }
        if (x->u.i == INT64_MIN) THROW(VM_ERR_OVERFLOW);
        SETI(R[A_], -x->u.i);
        VM_NEXT;
    }
    VM_CASE(I2D) {
        const DnaValue *x = &R[B_];
        if (x->kind == DNA_VK_NONE) { SETNONE(R[A_]); VM_NEXT; }
        int64_t r;
        if (__builtin_mul_overflow(x->u.i, (int64_t)1000, &r)) THROW(VM_ERR_OVERFLOW);
        SETI(R[A_], r);
        VM_NEXT;
    }
    VM_CASE(CALL) {
        const DnaValue *x = &R[C_];
        const DnaValue *y = x + 1;       /* only read by two-argument builtins */
        unsigned id = B_;
        if (id == VM_BI_is_set) { SETI(R[A_], x->kind != DNA_VK_NONE); VM_NEXT; }
        if (id == VM_BI_coalesce) { const DnaValue *c_ = x->kind != DNA_VK_NONE ? x : y; COPYV(R[A_], *c_); VM_NEXT; }
        if (id == VM_BI_now) { SETI(R[A_], st->now_ms); VM_NEXT; }
        DnaValue res;
        vm->scratch_used = used;
        VmResult e_ = vm_op_call(vm, b, u, st, id, x, y, &res);
        used = vm->scratch_used;
        if (e_ != VM_OK) THROW(e_);
        COPYV(R[A_], res);
        VM_NEXT;
    }
    VM_CASE(SBEGIN) R[A_] = dna_str(scratch + used, 0); VM_NEXT;
    VM_CASE(SADDK) {
        DnaValue *d = &R[A_];
        const DnaValue *k = &K[BX_];
        if (d->kind != DNA_VK_STR || d->u.s + d->len != scratch + used) THROW(VM_ERR_TYPE);
        SPACE(k->len);
        if (k->len) memcpy(scratch + used, k->u.s, k->len);
        used += k->len;
        d->len += k->len;
        VM_NEXT;
    }
    VM_CASE(SADD) {
        vm->scratch_used = used;
        VmResult e_ = vm_op_sadd(vm, &R[A_], &R[B_], C_);
        used = vm->scratch_used;
        if (e_ != VM_OK) THROW(e_);
        VM_NEXT;
    }
    VM_CASE(ENAME) {
        VmResult e_ = vm_op_ename(b, BX_, &R[A_]);
        if (e_ != VM_OK) THROW(e_);
        VM_NEXT;
    }
    VM_CASE(RET) {
        COPYV(*out, R[A_]);
        /* a none result carries no payload (the register's may be stale) */
        if (out->kind == DNA_VK_NONE) { out->u.i = 0; out->len = 0; }
        vm->scratch_used = used;
        vm->err = VM_OK;
        return VM_OK;
    }

#if !VM_USE_GOTO
        }
    }
#endif

fail:
    vm->scratch_used = used;
    vm->err = err;
    vm->err_pc = (uint32_t)(ip - 1 - code);
    *out = dna_none();
    return err;
}
