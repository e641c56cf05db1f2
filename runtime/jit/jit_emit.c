/*
 * jit_emit.c - bytecode to LLVM IR: one function per code unit, the same
 * steps as the interpreter loop (vm/vm.c) instruction by instruction.
 *
 * A unit becomes
 *
 *   i32 @dna_uN(ptr vm, ptr bundle, ptr state, ptr out)
 *
 * returning the VmResult.  Registers live in three allocas each (kind i8,
 * payload i64, length i32), which SROA turns into SSA values: the verifier
 * forbids backward jumps, so a unit is a DAG and every register becomes a
 * few phis.  Everything outside the function is reached through its four
 * arguments plus offsetof() of the C structs: the event and entity slots,
 * the scratch buffer, the constants' string bytes.  No address is baked
 * into the code except those of the helper functions, which the linker
 * resolves (jit_syms).  Constants' kinds, lengths and integers are
 * immediates: a bundle's constants never change.
 *
 * Every throw of the interpreter is a branch to the one `fail` block with
 * the error code and the instruction's pc, which stores what the
 * interpreter's fail: label stores.  There is no floating point anywhere
 * (all numbers are int64 fixed point), so no fast-math flag and no FP
 * contraction can arise.
 */
#include "jit/jit_int.h"
#include "vm/vm_ops.h"

#include <stddef.h>
#include <stdio.h>
#include <string.h>

enum {
    H_CALL, H_SADD, H_ENAME, H_HAS_I, H_HAS_S, H_CONTAINS, H_STR_CMP, H_MUL_D, H_DIV_D, H_MEMCMP, H__COUNT
};

const JitSym jit_syms[] = {
    { "vm_op_call", (void *)vm_op_call },
    { "vm_op_sadd", (void *)vm_op_sadd },
    { "vm_op_ename", (void *)vm_op_ename },
    { "vm_op_has_i", (void *)vm_op_has_i },
    { "vm_op_has_s", (void *)vm_op_has_s },
    { "vm_op_contains", (void *)vm_op_contains },
    { "vm_op_str_cmp", (void *)vm_op_str_cmp },
    { "vm_op_mul_d", (void *)vm_op_mul_d },
    { "vm_op_div_d", (void *)vm_op_div_d },
    { "memcmp", (void *)memcmp },
    /* what LLVM itself may call: bcmp for a memcmp only tested for zero */
    { "bcmp", (void *)memcmp },
    { "memcpy", (void *)memcpy },
    { "memmove", (void *)memmove },
    { "memset", (void *)memset },
};
const unsigned jit_nsyms = sizeof jit_syms / sizeof *jit_syms;

/* offsets into the C structs */
#define V_U offsetof(DnaValue, u)
#define V_LEN offsetof(DnaValue, len)
#define V_KIND offsetof(DnaValue, kind)

typedef struct Val { LLVMValueRef k, p, l; } Val;      /* kind i8, payload i64, length i32 */

typedef struct Em {
    LLVMContextRef cx;
    LLVMModuleRef m;
    LLVMBuilderRef bd;
    LLVMTypeRef t1, t8, t32, t64, tp, tfn;
    LLVMTypeRef hty[H__COUNT];
    LLVMValueRef hfn[H__COUNT];
    const DnaBundle *b;
    /* the unit being emitted */
    const DnaUnit *u;
    uint32_t unit, pc;
    LLVMValueRef fn, vm, bp, st, out;
    LLVMValueRef rk[DNA_MAX_REGS], rp[DNA_MAX_REGS], rl[DNA_MAX_REGS];
    LLVMValueRef used;                  /* alloca i32: the scratch cursor */
    LLVMValueRef tx, ty, td, tn, ti;    /* allocas handed to helpers */
    LLVMValueRef tb;                    /* alloca i32: a result joined over two blocks */
    LLVMBasicBlockRef fail;
    LLVMValueRef ferr, fpc;             /* its phis */
    unsigned nthrows;
    LLVMBasicBlockRef *at;              /* [u->len]: the block starting at an instruction */
} Em;

/* ---- small builders ------------------------------------------------------------- */

static LLVMValueRef c8(Em *e, unsigned v) { return LLVMConstInt(e->t8, v, 0); }
static LLVMValueRef c32(Em *e, uint64_t v) { return LLVMConstInt(e->t32, v, 0); }
static LLVMValueRef c64(Em *e, int64_t v) { return LLVMConstInt(e->t64, (unsigned long long)v, 1); }

static LLVMBasicBlockRef block(Em *e) { return LLVMAppendBasicBlockInContext(e->cx, e->fn, ""); }
static void at(Em *e, LLVMBasicBlockRef bb) { LLVMPositionBuilderAtEnd(e->bd, bb); }

/* a typed pointer to base + off */
static LLVMValueRef fld(Em *e, LLVMValueRef base, LLVMValueRef off, LLVMTypeRef ty)
{
    LLVMValueRef p = LLVMBuildInBoundsGEP2(e->bd, e->t8, base, &off, 1, "");
    return LLVMBuildBitCast(e->bd, p, LLVMPointerType(ty, 0), "");
}

static LLVMValueRef ldo(Em *e, LLVMValueRef base, size_t off, LLVMTypeRef ty)
{
    return LLVMBuildLoad2(e->bd, ty, fld(e, base, c64(e, (int64_t)off), ty), "");
}

static void sto(Em *e, LLVMValueRef base, size_t off, LLVMTypeRef ty, LLVMValueRef v)
{
    LLVMBuildStore(e->bd, v, fld(e, base, c64(e, (int64_t)off), ty));
}

static LLVMValueRef ldp(Em *e, LLVMValueRef base, size_t off)    /* a pointer field */
{
    return ldo(e, base, off, e->tp);
}

/* a DnaValue in memory at ptr (+ idx * sizeof(DnaValue)) */
static LLVMValueRef val_at(Em *e, LLVMValueRef ptr, LLVMValueRef idx)
{
    LLVMValueRef off = LLVMBuildMul(e->bd, LLVMBuildZExt(e->bd, idx, e->t64, ""), c64(e, sizeof(DnaValue)), "");
    return LLVMBuildInBoundsGEP2(e->bd, e->t8, ptr, &off, 1, "");
}

static Val load_val(Em *e, LLVMValueRef p)
{
    Val v = { ldo(e, p, V_KIND, e->t8), ldo(e, p, V_U, e->t64), ldo(e, p, V_LEN, e->t32) };
    return v;
}

static void store_val(Em *e, LLVMValueRef p, Val v)
{
    sto(e, p, V_U, e->t64, v.p);
    sto(e, p, V_LEN, e->t32, v.l);
    sto(e, p, V_KIND, e->t8, v.k);
}

static Val R(Em *e, unsigned r)
{
    Val v = { LLVMBuildLoad2(e->bd, e->t8, e->rk[r], ""), LLVMBuildLoad2(e->bd, e->t64, e->rp[r], ""),
              LLVMBuildLoad2(e->bd, e->t32, e->rl[r], "") };
    return v;
}

static void W(Em *e, unsigned r, Val v)
{
    LLVMBuildStore(e->bd, v.k, e->rk[r]);
    LLVMBuildStore(e->bd, v.p, e->rp[r]);
    LLVMBuildStore(e->bd, v.l, e->rl[r]);
}

static Val vint(Em *e, LLVMValueRef i64) { Val v = { c8(e, DNA_VK_INT), i64, c32(e, 0) }; return v; }
static Val vnone(Em *e) { Val v = { c8(e, DNA_VK_NONE), c64(e, 0), c32(e, 0) }; return v; }
static Val vbool(Em *e, LLVMValueRef i1) { return vint(e, LLVMBuildZExt(e->bd, i1, e->t64, "")); }

static LLVMValueRef is_kind(Em *e, LLVMValueRef k, unsigned kind)
{
    return LLVMBuildICmp(e->bd, LLVMIntEQ, k, c8(e, kind), "");
}
static LLVMValueRef not_kind(Em *e, LLVMValueRef k, unsigned kind)
{
    return LLVMBuildICmp(e->bd, LLVMIntNE, k, c8(e, kind), "");
}
static LLVMValueRef any_none(Em *e, Val x, Val y)
{
    return LLVMBuildOr(e->bd, is_kind(e, x.k, DNA_VK_NONE), is_kind(e, y.k, DNA_VK_NONE), "");
}
static LLVMValueRef truthy(Em *e, Val x)
{
    return LLVMBuildAnd(e->bd, not_kind(e, x.k, DNA_VK_NONE), LLVMBuildICmp(e->bd, LLVMIntNE, x.p, c64(e, 0), ""), "");
}

static LLVMValueRef as_ptr(Em *e, LLVMValueRef i64) { return LLVMBuildIntToPtr(e->bd, i64, e->tp, ""); }
static LLVMValueRef as_int(Em *e, LLVMValueRef ptr) { return LLVMBuildPtrToInt(e->bd, ptr, e->t64, ""); }

static LLVMValueRef call(Em *e, int h, LLVMValueRef *args, unsigned n)
{
    return LLVMBuildCall2(e->bd, e->hty[h], e->hfn[h], args, n, "");
}

/* ---- control ------------------------------------------------------------------------ */

/* if cond: leave through fail with error err (an i32) */
static void throw_if(Em *e, LLVMValueRef cond, LLVMValueRef err)
{
    LLVMBasicBlockRef here = LLVMGetInsertBlock(e->bd), ok = block(e);
    LLVMBuildCondBr(e->bd, cond, e->fail, ok);
    LLVMValueRef pc = c32(e, e->pc);
    LLVMAddIncoming(e->ferr, &err, &here, 1);
    LLVMAddIncoming(e->fpc, &pc, &here, 1);
    e->nthrows++;
    at(e, ok);
}

static void throw_kind(Em *e, LLVMValueRef cond, VmResult r) { throw_if(e, cond, c32(e, r)); }

/* a helper's VmResult: leave when it is not VM_OK */
static void throw_rc(Em *e, LLVMValueRef rc)
{
    throw_if(e, LLVMBuildICmp(e->bd, LLVMIntNE, rc, c32(e, VM_OK), ""), rc);
}

/* if cond: skip to a join block (returned); the caller emits the other
 * case, then branches to the join and continues there */
static LLVMBasicBlockRef skip_if(Em *e, LLVMValueRef cond)
{
    LLVMBasicBlockRef join = block(e), work = block(e);
    LLVMBuildCondBr(e->bd, cond, join, work);
    at(e, work);
    return join;
}

static void join(Em *e, LLVMBasicBlockRef j)
{
    LLVMBuildBr(e->bd, j);
    at(e, j);
}

/* the scratch cursor in and out of DnaVm around a helper call */
static void used_out(Em *e)
{
    sto(e, e->vm, offsetof(DnaVm, scratch_used), e->t32, LLVMBuildLoad2(e->bd, e->t32, e->used, ""));
}
static void used_in(Em *e)
{
    LLVMBuildStore(e->bd, ldo(e, e->vm, offsetof(DnaVm, scratch_used), e->t32), e->used);
}

/* ---- instructions ------------------------------------------------------------------- */

/* LDE / LDS: a slot of the event or the entity, checked against the count */
static void slot_load(Em *e, unsigned a, unsigned s, size_t base_off, size_t count_off)
{
    LLVMValueRef n = ldo(e, e->st, count_off, e->t32);
    throw_kind(e, LLVMBuildICmp(e->bd, LLVMIntUGE, c32(e, s), n, ""), VM_ERR_SLOT);
    W(e, a, load_val(e, val_at(e, ldp(e, e->st, base_off), c32(e, s))));
}

static void emit_loadk(Em *e, unsigned a, unsigned k)
{
    const DnaValue *kv = &e->b->kvals[k];
    Val v = { c8(e, kv->kind), c64(e, kv->u.i), c32(e, kv->len) };
    if (kv->kind == DNA_VK_STR || kv->kind == DNA_VK_LIST || kv->kind == DNA_VK_SLOTS) {
        /* the bytes: through the bundle's constants, never a baked address */
        LLVMValueRef kp = val_at(e, ldp(e, e->bp, offsetof(DnaBundle, kvals)), c32(e, k));
        v.p = ldo(e, kp, V_U, e->t64);
    }
    W(e, a, v);
}

static void emit_deref(Em *e, unsigned a, unsigned kind)
{
    Val r = R(e, a);
    LLVMBasicBlockRef done = skip_if(e, is_kind(e, r.k, DNA_VK_NONE));
    throw_kind(e, not_kind(e, r.k, DNA_VK_INT), VM_ERR_TYPE);
    LLVMValueRef f = ldp(e, e->st, offsetof(DnaState, deref));
    throw_kind(e, LLVMBuildIsNull(e->bd, f, ""), VM_ERR_DEREF);
    LLVMBuildStore(e->bd, c32(e, 0), e->tn);
    LLVMTypeRef pty[] = { e->tp, e->t32, e->t64, LLVMPointerType(e->t32, 0) };
    LLVMTypeRef fty = LLVMFunctionType(e->tp, pty, 4, 0);
    LLVMValueRef fp = LLVMBuildBitCast(e->bd, f, LLVMPointerType(fty, 0), "");
    LLVMValueRef args[] = { ldp(e, e->st, offsetof(DnaState, ud)), c32(e, kind), r.p, e->tn };
    LLVMValueRef p = LLVMBuildCall2(e->bd, fty, fp, args, 4, "");
    LLVMValueRef found = LLVMBuildIsNotNull(e->bd, p, "");
    Val v = { LLVMBuildSelect(e->bd, found, c8(e, DNA_VK_SLOTS), c8(e, DNA_VK_NONE), ""),
              LLVMBuildSelect(e->bd, found, as_int(e, p), c64(e, 0), ""),
              LLVMBuildSelect(e->bd, found, LLVMBuildLoad2(e->bd, e->t32, e->tn, ""), c32(e, 0), "") };
    W(e, a, v);
    join(e, done);
}

static void emit_ldf(Em *e, unsigned a, unsigned s)
{
    Val r = R(e, a);
    LLVMBasicBlockRef done = skip_if(e, is_kind(e, r.k, DNA_VK_NONE));
    throw_kind(e, not_kind(e, r.k, DNA_VK_SLOTS), VM_ERR_TYPE);
    throw_kind(e, LLVMBuildICmp(e->bd, LLVMIntUGE, c32(e, s), r.l, ""), VM_ERR_SLOT);
    W(e, a, load_val(e, val_at(e, as_ptr(e, r.p), c32(e, s))));
    join(e, done);
}

/* EQ_I NE_I LT_I LE_I: none compares equal only to none; orders are false */
static void emit_cmp_i(Em *e, unsigned op, unsigned a, Val x, Val y)
{
    LLVMValueRef none = any_none(e, x, y), r;
    if (op == VM_OP_EQ_I || op == VM_OP_NE_I) {
        r = LLVMBuildSelect(e->bd, none, LLVMBuildICmp(e->bd, LLVMIntEQ, x.k, y.k, ""),
                            LLVMBuildICmp(e->bd, LLVMIntEQ, x.p, y.p, ""), "");
        if (op == VM_OP_NE_I) r = LLVMBuildNot(e->bd, r, "");
    } else {
        LLVMValueRef c = LLVMBuildICmp(e->bd, op == VM_OP_LT_I ? LLVMIntSLT : LLVMIntSLE, x.p, y.p, "");
        r = LLVMBuildAnd(e->bd, LLVMBuildNot(e->bd, none, ""), c, "");
    }
    W(e, a, vbool(e, r));
}

/* EQ_S NE_S: lengths, then the bytes */
static LLVMValueRef str_eq(Em *e, Val x, Val y)
{
    LLVMBasicBlockRef same = block(e), done = block(e);
    LLVMBuildStore(e->bd, c32(e, 0), e->tb);
    LLVMValueRef eqlen = LLVMBuildICmp(e->bd, LLVMIntEQ, x.l, y.l, "");
    LLVMBuildCondBr(e->bd, eqlen, same, done);
    at(e, same);
    LLVMValueRef args[] = { as_ptr(e, x.p), as_ptr(e, y.p), LLVMBuildZExt(e->bd, x.l, e->t64, "") };
    LLVMValueRef mc = call(e, H_MEMCMP, args, 3);
    LLVMValueRef eq = LLVMBuildOr(e->bd, LLVMBuildICmp(e->bd, LLVMIntEQ, x.l, c32(e, 0), ""),
                                  LLVMBuildICmp(e->bd, LLVMIntEQ, mc, c32(e, 0), ""), "");
    LLVMBuildStore(e->bd, LLVMBuildZExt(e->bd, eq, e->t32, ""), e->tb);
    join(e, done);
    return LLVMBuildICmp(e->bd, LLVMIntNE, LLVMBuildLoad2(e->bd, e->t32, e->tb, ""), c32(e, 0), "");
}

/* the string comparisons and tests: none rules first, then kinds, then the test */
static void emit_cmp_s(Em *e, unsigned op, unsigned a, Val x, Val y)
{
    LLVMValueRef none = any_none(e, x, y);
    /* result for the none case: EQ/NE compare kinds, the others are false */
    LLVMValueRef nr = op == VM_OP_EQ_S ? LLVMBuildICmp(e->bd, LLVMIntEQ, x.k, y.k, "")
                    : op == VM_OP_NE_S ? LLVMBuildICmp(e->bd, LLVMIntNE, x.k, y.k, "")
                                       : LLVMConstInt(e->t1, 0, 0);
    W(e, a, vbool(e, nr));
    LLVMBasicBlockRef done = skip_if(e, none);
    if (op == VM_OP_HAS_I || op == VM_OP_HAS_S) {
        throw_kind(e, not_kind(e, x.k, DNA_VK_LIST), VM_ERR_TYPE);
        if (op == VM_OP_HAS_S) throw_kind(e, not_kind(e, y.k, DNA_VK_STR), VM_ERR_TYPE);
    } else {
        throw_kind(e, not_kind(e, x.k, DNA_VK_STR), VM_ERR_TYPE);
        throw_kind(e, not_kind(e, y.k, DNA_VK_STR), VM_ERR_TYPE);
    }
    LLVMValueRef r;
    LLVMValueRef sargs[] = { as_ptr(e, x.p), x.l, as_ptr(e, y.p), y.l };
    switch (op) {
    case VM_OP_EQ_S: r = str_eq(e, x, y); break;
    case VM_OP_NE_S: r = LLVMBuildNot(e->bd, str_eq(e, x, y), ""); break;
    case VM_OP_LT_S: r = LLVMBuildICmp(e->bd, LLVMIntSLT, call(e, H_STR_CMP, sargs, 4), c32(e, 0), ""); break;
    case VM_OP_LE_S: r = LLVMBuildICmp(e->bd, LLVMIntSLE, call(e, H_STR_CMP, sargs, 4), c32(e, 0), ""); break;
    case VM_OP_CONTAINS: r = LLVMBuildICmp(e->bd, LLVMIntNE, call(e, H_CONTAINS, sargs, 4), c32(e, 0), ""); break;
    case VM_OP_HAS_I: {
        LLVMValueRef args[] = { as_ptr(e, x.p), x.l, y.p };
        r = LLVMBuildICmp(e->bd, LLVMIntNE, call(e, H_HAS_I, args, 3), c32(e, 0), "");
        break;
    }
    default: {   /* HAS_S */
        LLVMValueRef args[] = { as_ptr(e, x.p), x.l, as_ptr(e, y.p), y.l };
        r = LLVMBuildICmp(e->bd, LLVMIntNE, call(e, H_HAS_S, args, 4), c32(e, 0), "");
        break;
    }
    }
    W(e, a, vbool(e, r));
    join(e, done);
}

static LLVMValueRef overflow_op(Em *e, const char *name, LLVMValueRef x, LLVMValueRef y, LLVMValueRef *ovf)
{
    unsigned id = LLVMLookupIntrinsicID(name, strlen(name));
    LLVMTypeRef ty = e->t64;
    LLVMValueRef f = LLVMGetIntrinsicDeclaration(e->m, id, &ty, 1);
    LLVMTypeRef fty = LLVMIntrinsicGetType(e->cx, id, &ty, 1);
    LLVMValueRef args[] = { x, y };
    LLVMValueRef r = LLVMBuildCall2(e->bd, fty, f, args, 2, "");
    *ovf = LLVMBuildExtractValue(e->bd, r, 1, "");
    return LLVMBuildExtractValue(e->bd, r, 0, "");
}

/* ADD SUB MUL MOD MUL_D DIV_D: none gives none */
static void emit_arith(Em *e, unsigned op, unsigned a, Val x, Val y)
{
    W(e, a, vnone(e));
    LLVMBasicBlockRef done = skip_if(e, any_none(e, x, y));
    LLVMValueRef r, ovf;
    switch (op) {
    case VM_OP_ADD: r = overflow_op(e, "llvm.sadd.with.overflow", x.p, y.p, &ovf); break;
    case VM_OP_SUB: r = overflow_op(e, "llvm.ssub.with.overflow", x.p, y.p, &ovf); break;
    case VM_OP_MUL: r = overflow_op(e, "llvm.smul.with.overflow", x.p, y.p, &ovf); break;
    case VM_OP_MOD: {
        throw_kind(e, LLVMBuildICmp(e->bd, LLVMIntEQ, y.p, c64(e, 0), ""), VM_ERR_DIV_ZERO);
        LLVMValueRef m1 = LLVMBuildICmp(e->bd, LLVMIntEQ, y.p, c64(e, -1), "");
        LLVMValueRef d = LLVMBuildSelect(e->bd, m1, c64(e, 1), y.p, "");    /* no INT64_MIN % -1 */
        r = LLVMBuildSelect(e->bd, m1, c64(e, 0), LLVMBuildSRem(e->bd, x.p, d, ""), "");
        ovf = NULL;
        break;
    }
    default: {  /* MUL_D, DIV_D */
        if (op == VM_OP_DIV_D) throw_kind(e, LLVMBuildICmp(e->bd, LLVMIntEQ, y.p, c64(e, 0), ""), VM_ERR_DIV_ZERO);
        LLVMValueRef args[] = { x.p, y.p, e->ti };
        ovf = LLVMBuildICmp(e->bd, LLVMIntNE, call(e, op == VM_OP_MUL_D ? H_MUL_D : H_DIV_D, args, 3), c32(e, 0), "");
        throw_kind(e, ovf, VM_ERR_OVERFLOW);
        ovf = NULL;
        r = LLVMBuildLoad2(e->bd, e->t64, e->ti, "");
        break;
    }
    }
    if (ovf) throw_kind(e, ovf, VM_ERR_OVERFLOW);
    W(e, a, vint(e, r));
    join(e, done);
}

/* NEG I2D */
static void emit_unary(Em *e, unsigned op, unsigned a, Val x)
{
    W(e, a, vnone(e));
    LLVMBasicBlockRef done = skip_if(e, is_kind(e, x.k, DNA_VK_NONE));
    LLVMValueRef r;
    if (op == VM_OP_NEG) {
        throw_kind(e, LLVMBuildICmp(e->bd, LLVMIntEQ, x.p, c64(e, INT64_MIN), ""), VM_ERR_OVERFLOW);
        r = LLVMBuildNeg(e->bd, x.p, "");
    } else {
        LLVMValueRef ovf;
        r = overflow_op(e, "llvm.smul.with.overflow", x.p, c64(e, 1000), &ovf);
        throw_kind(e, ovf, VM_ERR_OVERFLOW);
    }
    W(e, a, vint(e, r));
    join(e, done);
}

/* CALL: is_set, coalesce and now inline, the rest through vm_op_call */
static void emit_call(Em *e, unsigned a, unsigned id, unsigned c)
{
    if (id == VM_BI_now) { W(e, a, vint(e, ldo(e, e->st, offsetof(DnaState, now_ms), e->t64))); return; }
    Val x = R(e, c);
    if (id == VM_BI_is_set) { W(e, a, vbool(e, not_kind(e, x.k, DNA_VK_NONE))); return; }
    unsigned nargs = bc_builtin_nargs(id);
    Val y = nargs == 2 && c + 1 < e->u->nregs ? R(e, c + 1) : vnone(e);
    if (id == VM_BI_coalesce) {
        LLVMValueRef has = not_kind(e, x.k, DNA_VK_NONE);
        Val v = { LLVMBuildSelect(e->bd, has, x.k, y.k, ""), LLVMBuildSelect(e->bd, has, x.p, y.p, ""),
                  LLVMBuildSelect(e->bd, has, x.l, y.l, "") };
        W(e, a, v);
        return;
    }
    store_val(e, e->tx, x);
    store_val(e, e->ty, y);
    LLVMValueRef unit = LLVMBuildInBoundsGEP2(e->bd, e->t8, ldp(e, e->bp, offsetof(DnaBundle, units)),
                                              (LLVMValueRef[]){ c64(e, (int64_t)(e->unit * sizeof(DnaUnit))) }, 1, "");
    used_out(e);
    LLVMValueRef args[] = { e->vm, e->bp, unit, e->st, c32(e, id), e->tx, e->ty, e->td };
    LLVMValueRef rc = call(e, H_CALL, args, 8);
    used_in(e);
    throw_rc(e, rc);
    W(e, a, load_val(e, e->td));
}

/* SADDK SADD: through vm_op_sadd on a copy of the register */
static void emit_sadd(Em *e, unsigned a, LLVMValueRef x, unsigned fmt)
{
    store_val(e, e->td, R(e, a));
    used_out(e);
    LLVMValueRef args[] = { e->vm, e->td, x, c32(e, fmt) };
    LLVMValueRef rc = call(e, H_SADD, args, 4);
    used_in(e);
    throw_rc(e, rc);
    W(e, a, load_val(e, e->td));
}

static void emit_ret(Em *e, unsigned a)
{
    Val v = R(e, a);
    LLVMValueRef none = is_kind(e, v.k, DNA_VK_NONE);
    sto(e, e->out, V_U, e->t64, LLVMBuildSelect(e->bd, none, c64(e, 0), v.p, ""));
    sto(e, e->out, V_LEN, e->t32, LLVMBuildSelect(e->bd, none, c32(e, 0), v.l, ""));
    sto(e, e->out, V_KIND, e->t8, v.k);
    used_out(e);
    sto(e, e->vm, offsetof(DnaVm, err), e->t32, c32(e, VM_OK));
    LLVMBuildRet(e->bd, c32(e, VM_OK));
}

static void emit_jump(Em *e, uint32_t i, uint32_t w)
{
    uint32_t op = DNA_INS_OP(w), target = i + 1 + (uint32_t)DNA_INS_SBX(w);
    if (op == VM_OP_JMP) { LLVMBuildBr(e->bd, e->at[target]); return; }
    LLVMValueRef t = truthy(e, R(e, DNA_INS_A(w)));
    if (op == VM_OP_JF) LLVMBuildCondBr(e->bd, t, e->at[i + 1], e->at[target]);
    else LLVMBuildCondBr(e->bd, t, e->at[target], e->at[i + 1]);
}

static void emit_ins(Em *e, uint32_t i, uint32_t w)
{
    unsigned op = DNA_INS_OP(w), a = DNA_INS_A(w), b = DNA_INS_B(w), c = DNA_INS_C(w), bx = DNA_INS_BX(w);
    switch (op) {
    case VM_OP_LOADK: emit_loadk(e, a, bx); break;
    case VM_OP_LOADI: W(e, a, vint(e, c64(e, DNA_INS_SBX(w)))); break;
    case VM_OP_LOADNONE: W(e, a, vnone(e)); break;
    case VM_OP_MOVE: W(e, a, R(e, b)); break;
    case VM_OP_LDE: slot_load(e, a, bx, offsetof(DnaState, event), offsetof(DnaState, nevent)); break;
    case VM_OP_LDS: slot_load(e, a, bx, offsetof(DnaState, entity), offsetof(DnaState, nentity)); break;
    case VM_OP_LDSELF: W(e, a, vint(e, ldo(e, e->st, offsetof(DnaState, self), e->t64))); break;
    case VM_OP_DEREF: emit_deref(e, a, bx); break;
    case VM_OP_LDF: emit_ldf(e, a, bx); break;
    case VM_OP_JMP: case VM_OP_JF: case VM_OP_JT: emit_jump(e, i, w); break;
    case VM_OP_NOT: W(e, a, vbool(e, LLVMBuildNot(e->bd, truthy(e, R(e, b)), ""))); break;
    case VM_OP_BOOL: W(e, a, vbool(e, truthy(e, R(e, b)))); break;
    case VM_OP_ISNONE: W(e, a, vbool(e, is_kind(e, R(e, b).k, DNA_VK_NONE))); break;
    case VM_OP_ISSET: W(e, a, vbool(e, not_kind(e, R(e, b).k, DNA_VK_NONE))); break;
    case VM_OP_EQ_I: case VM_OP_NE_I: case VM_OP_LT_I: case VM_OP_LE_I:
        emit_cmp_i(e, op, a, R(e, b), R(e, c));
        break;
    case VM_OP_EQ_S: case VM_OP_NE_S: case VM_OP_LT_S: case VM_OP_LE_S: case VM_OP_CONTAINS:
    case VM_OP_HAS_I: case VM_OP_HAS_S:
        emit_cmp_s(e, op, a, R(e, b), R(e, c));
        break;
    case VM_OP_ADD: case VM_OP_SUB: case VM_OP_MUL: case VM_OP_MOD: case VM_OP_MUL_D: case VM_OP_DIV_D:
        emit_arith(e, op, a, R(e, b), R(e, c));
        break;
    case VM_OP_NEG: case VM_OP_I2D: emit_unary(e, op, a, R(e, b)); break;
    case VM_OP_CALL: emit_call(e, a, b, c); break;
    case VM_OP_SBEGIN: {
        LLVMValueRef off = LLVMBuildAdd(e->bd, c64(e, offsetof(DnaVm, scratch)),
                                        LLVMBuildZExt(e->bd, LLVMBuildLoad2(e->bd, e->t32, e->used, ""), e->t64, ""), "");
        LLVMValueRef p = LLVMBuildInBoundsGEP2(e->bd, e->t8, e->vm, &off, 1, "");
        Val v = { c8(e, DNA_VK_STR), as_int(e, p), c32(e, 0) };
        W(e, a, v);
        break;
    }
    case VM_OP_SADDK:
        emit_sadd(e, a, val_at(e, ldp(e, e->bp, offsetof(DnaBundle, kvals)), c32(e, bx)), VM_FMT_STR);
        break;
    case VM_OP_SADD:
        store_val(e, e->tx, R(e, b));
        emit_sadd(e, a, e->tx, c);
        break;
    case VM_OP_ENAME: {
        store_val(e, e->td, R(e, a));
        LLVMValueRef args[] = { e->bp, c32(e, bx), e->td };
        throw_rc(e, call(e, H_ENAME, args, 3));
        W(e, a, load_val(e, e->td));
        break;
    }
    case VM_OP_RET: emit_ret(e, a); break;
    default: throw_kind(e, LLVMConstInt(e->t1, 1, 0), VM_ERR_TYPE); break;     /* the verifier refuses these */
    }
}

/* ---- units -------------------------------------------------------------------------- */

static void unit_entry(Em *e)
{
    LLVMBasicBlockRef entry = LLVMAppendBasicBlockInContext(e->cx, e->fn, "entry");
    at(e, entry);
    e->vm = LLVMGetParam(e->fn, 0);
    e->bp = LLVMGetParam(e->fn, 1);
    e->st = LLVMGetParam(e->fn, 2);
    e->out = LLVMGetParam(e->fn, 3);
    LLVMTypeRef tv = LLVMArrayType(e->t64, 2);     /* a DnaValue's 16 bytes, 8-aligned */
    e->tx = LLVMBuildBitCast(e->bd, LLVMBuildAlloca(e->bd, tv, "x"), e->tp, "");
    e->ty = LLVMBuildBitCast(e->bd, LLVMBuildAlloca(e->bd, tv, "y"), e->tp, "");
    e->td = LLVMBuildBitCast(e->bd, LLVMBuildAlloca(e->bd, tv, "d"), e->tp, "");
    e->tn = LLVMBuildAlloca(e->bd, e->t32, "n");
    e->tb = LLVMBuildAlloca(e->bd, e->t32, "b");
    e->ti = LLVMBuildAlloca(e->bd, e->t64, "i");
    e->used = LLVMBuildAlloca(e->bd, e->t32, "used");
    for (uint32_t r = 0; r < e->u->nregs; r++) {
        e->rk[r] = LLVMBuildAlloca(e->bd, e->t8, "");
        e->rp[r] = LLVMBuildAlloca(e->bd, e->t64, "");
        e->rl[r] = LLVMBuildAlloca(e->bd, e->t32, "");
    }
    /* registers start as none (the interpreter clears their kinds) */
    LLVMBuildStore(e->bd, c32(e, 0), e->used);
    for (uint32_t r = 0; r < e->u->nregs; r++) W(e, r, vnone(e));
    /* the fail block: what the interpreter's fail: label does */
    e->fail = LLVMAppendBasicBlockInContext(e->cx, e->fn, "fail");
    at(e, e->fail);
    e->ferr = LLVMBuildPhi(e->bd, e->t32, "err");
    e->fpc = LLVMBuildPhi(e->bd, e->t32, "pc");
    used_out(e);
    sto(e, e->vm, offsetof(DnaVm, err), e->t32, e->ferr);
    sto(e, e->vm, offsetof(DnaVm, err_pc), e->t32, e->fpc);
    sto(e, e->out, 0, e->t64, c64(e, 0));               /* *out = dna_none(): all 16 bytes */
    sto(e, e->out, 8, e->t64, c64(e, 0));
    LLVMBuildRet(e->bd, e->ferr);
    at(e, entry);
}

static int emit_unit(Em *e, uint32_t unit, LLVMBasicBlockRef *blocks)
{
    const DnaUnit *u = &e->b->units[unit];
    char name[32];
    snprintf(name, sizeof name, "dna_u%u", unit);
    e->u = u;
    e->unit = unit;
    e->nthrows = 0;
    e->fn = LLVMAddFunction(e->m, name, e->tfn);
    LLVMSetLinkage(e->fn, LLVMInternalLinkage);
    unit_entry(e);
    /* a block at every jump target and after every conditional jump */
    memset(blocks, 0, sizeof *blocks * (u->len + 1));
    e->at = blocks;
    for (uint32_t i = 0; i < u->len; i++) {
        uint32_t w = e->b->code[u->pc + i], op = DNA_INS_OP(w);
        if (op != VM_OP_JMP && op != VM_OP_JF && op != VM_OP_JT) continue;
        uint32_t t = i + 1 + (uint32_t)DNA_INS_SBX(w);
        if (t >= u->len) return -1;                 /* the verifier keeps jumps inside */
        if (!blocks[t]) blocks[t] = block(e);
        if (!blocks[i + 1]) blocks[i + 1] = block(e);
    }
    LLVMBasicBlockRef first = block(e);
    LLVMBuildBr(e->bd, first);
    at(e, first);
    for (uint32_t i = 0; i < u->len; i++) {
        int ended = LLVMGetBasicBlockTerminator(LLVMGetInsertBlock(e->bd)) != NULL;
        if (blocks[i]) {
            if (!ended) LLVMBuildBr(e->bd, blocks[i]);
            at(e, blocks[i]);
        } else if (ended) {
            at(e, block(e));                        /* unreachable code */
        }
        e->pc = u->pc + i;
        emit_ins(e, i, e->b->code[u->pc + i]);
    }
    if (!LLVMGetBasicBlockTerminator(LLVMGetInsertBlock(e->bd))) return -1;   /* no RET at the end */
    if (!e->nthrows) LLVMDeleteBasicBlock(e->fail);
    return 0;
}

/* A unit whose code cannot throw and does not call a builtin through the
 * helper gives the same machine code as any unit with the same words and
 * registers (nothing of its pc or index is in it): such units share one
 * function (rule points `add 5` are many and alike). */
static int shareable(const DnaBundle *b, const DnaUnit *u)
{
    for (uint32_t i = 0; i < u->len; i++) {
        uint32_t w = b->code[u->pc + i];
        switch (DNA_INS_OP(w)) {
        case VM_OP_LOADK: case VM_OP_LOADI: case VM_OP_LOADNONE: case VM_OP_MOVE: case VM_OP_LDSELF:
        case VM_OP_JMP: case VM_OP_JF: case VM_OP_JT: case VM_OP_NOT: case VM_OP_BOOL: case VM_OP_ISNONE:
        case VM_OP_ISSET: case VM_OP_EQ_I: case VM_OP_NE_I: case VM_OP_LT_I: case VM_OP_LE_I: case VM_OP_RET:
            break;
        case VM_OP_CALL:
            if (DNA_INS_B(w) == VM_BI_is_set || DNA_INS_B(w) == VM_BI_coalesce || DNA_INS_B(w) == VM_BI_now) break;
            return 0;
        default:
            return 0;
        }
    }
    return 1;
}

/* an earlier unit that unit i can share its function with, or DNA_NIL */
static uint32_t twin(const DnaBundle *b, uint32_t i, const uint8_t *share)
{
    const DnaUnit *u = &b->units[i];
    for (uint32_t k = 0; k < i; k++) {
        const DnaUnit *v = &b->units[k];
        if (share[k] && v->len == u->len && v->nregs == u->nregs &&
            !memcmp(&b->code[v->pc], &b->code[u->pc], sizeof(uint32_t) * u->len))
            return k;
    }
    return DNA_NIL;
}

static void declare_helpers(Em *e)
{
    LLVMTypeRef tp = e->tp, t32 = e->t32, t64 = e->t64;
    LLVMTypeRef p64 = LLVMPointerType(t64, 0);
    static const char *const names[H__COUNT] = {
        "vm_op_call", "vm_op_sadd", "vm_op_ename", "vm_op_has_i", "vm_op_has_s", "vm_op_contains",
        "vm_op_str_cmp", "vm_op_mul_d", "vm_op_div_d", "memcmp",
    };
    struct { unsigned n; LLVMTypeRef a[8]; } sig[H__COUNT] = {
        [H_CALL] = { 8, { tp, tp, tp, tp, t32, tp, tp, tp } },
        [H_SADD] = { 4, { tp, tp, tp, t32 } },
        [H_ENAME] = { 3, { tp, t32, tp } },
        [H_HAS_I] = { 3, { tp, t32, t64 } },
        [H_HAS_S] = { 4, { tp, t32, tp, t32 } },
        [H_CONTAINS] = { 4, { tp, t32, tp, t32 } },
        [H_STR_CMP] = { 4, { tp, t32, tp, t32 } },
        [H_MUL_D] = { 3, { t64, t64, p64 } },
        [H_DIV_D] = { 3, { t64, t64, p64 } },
        [H_MEMCMP] = { 3, { tp, tp, t64 } },
    };
    for (int h = 0; h < H__COUNT; h++) {
        e->hty[h] = LLVMFunctionType(t32, sig[h].a, sig[h].n, 0);
        e->hfn[h] = LLVMAddFunction(e->m, names[h], e->hty[h]);
    }
}

static void *zalloc(size_t n)
{
    void *p = dna_malloc(n);
    if (p) memset(p, 0, n);
    return p;
}

static void zfree(void *p, size_t n)
{
    if (p) dna_free(p, n);
}

LLVMModuleRef jit_emit(LLVMContextRef cx, const DnaBundle *b, char *why, size_t wl)
{
    Em *e = zalloc(sizeof *e);
    uint32_t maxlen = 0;
    for (uint32_t i = 0; i < b->nunits; i++) if (b->units[i].len > maxlen) maxlen = b->units[i].len;
    LLVMBasicBlockRef *blocks = zalloc(sizeof *blocks * ((size_t)maxlen + 1));
    LLVMValueRef *fns = zalloc(sizeof *fns * ((size_t)b->nunits + 1));
    uint8_t *share = zalloc((size_t)b->nunits + 1);
    if (!e || !blocks || !fns || !share) {
        zfree(share, (size_t)b->nunits + 1);
        snprintf(why, wl, "out of memory");
        zfree(e, sizeof *e);
        zfree(blocks, sizeof *blocks * ((size_t)maxlen + 1));
        zfree(fns, sizeof *fns * ((size_t)b->nunits + 1));
        return NULL;
    }
    e->cx = cx;
    e->b = b;
    e->m = LLVMModuleCreateWithNameInContext("dna_bundle", cx);
    e->bd = LLVMCreateBuilderInContext(cx);
    e->t1 = LLVMInt1TypeInContext(cx);
    e->t8 = LLVMInt8TypeInContext(cx);
    e->t32 = LLVMInt32TypeInContext(cx);
    e->t64 = LLVMInt64TypeInContext(cx);
    e->tp = LLVMPointerType(e->t8, 0);
    LLVMTypeRef params[] = { e->tp, e->tp, e->tp, e->tp };
    e->tfn = LLVMFunctionType(e->t32, params, 4, 0);
    declare_helpers(e);
    int bad = 0;
    LLVMValueRef *fn_of = zalloc(sizeof *fn_of * ((size_t)b->nunits + 1));
    if (!fn_of) { snprintf(why, wl, "out of memory"); bad = 1; }
    for (uint32_t i = 0; i < b->nunits && !bad; i++) {
        share[i] = (uint8_t)shareable(b, &b->units[i]);
        uint32_t k = share[i] ? twin(b, i, share) : DNA_NIL;
        if (k != DNA_NIL) fn_of[i] = fn_of[k];
        else if (emit_unit(e, i, blocks) != 0) { snprintf(why, wl, "unit %u cannot be compiled", i); bad = 1; }
        else fn_of[i] = e->fn;
        if (!bad) fns[i] = LLVMConstBitCast(fn_of[i], e->tp);
    }
    zfree(fn_of, sizeof *fn_of * ((size_t)b->nunits + 1));
    if (!bad) {
        LLVMTypeRef tt = LLVMArrayType(e->tp, b->nunits);
        LLVMValueRef table = LLVMAddGlobal(e->m, tt, JIT_TABLE);
        LLVMSetInitializer(table, LLVMConstArray(e->tp, fns, b->nunits));
        LLVMSetGlobalConstant(table, 1);
    }
    LLVMDisposeBuilder(e->bd);
    LLVMModuleRef m = e->m;
    if (bad) { LLVMDisposeModule(m); m = NULL; }
    zfree(e, sizeof *e);
    zfree(blocks, sizeof *blocks * ((size_t)maxlen + 1));
    zfree(fns, sizeof *fns * ((size_t)b->nunits + 1));
    zfree(share, (size_t)b->nunits + 1);
    return m;
}
