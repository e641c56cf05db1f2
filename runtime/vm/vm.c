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

#include <assert.h>
#include <string.h>

#if defined(DNA_VM_SWITCH) || !(defined(__GNUC__) || defined(__clang__))
#define VM_USE_GOTO 0
#else
#define VM_USE_GOTO 1
#endif

#ifdef DNA_VM_SWITCH
#define VM_RUN vm_run_switch
#else
#define VM_RUN vm_run_goto
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

static inline int64_t div_half_even(__int128 n, __int128 d, int *ovf)
{
    __int128 q = n / d, r = n % d;
    __int128 ar = r < 0 ? -r : r, ad = d < 0 ? -d : d;
    if (2 * ar > ad || (2 * ar == ad && (q & 1))) q += ((n < 0) != (d < 0)) ? -1 : 1;
    if (q > INT64_MAX || q < INT64_MIN) { *ovf = 1; return 0; }
    return (int64_t)q;
}

static inline int str_cmp(const DnaValue *a, const DnaValue *b)
{
    uint32_t n = a->len < b->len ? a->len : b->len;
    int c = n ? memcmp(a->u.s, b->u.s, n) : 0;
    if (c) return c;
    return a->len < b->len ? -1 : a->len > b->len;
}

static inline int str_eq(const DnaValue *a, const DnaValue *b)
{
    return a->len == b->len && (!a->len || memcmp(a->u.s, b->u.s, a->len) == 0);
}

static inline char lower_ascii(char c) { return c >= 'A' && c <= 'Z' ? (char)(c + 32) : c; }
static inline char upper_ascii(char c) { return c >= 'a' && c <= 'z' ? (char)(c - 32) : c; }

static inline int is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'; }

static inline int64_t floor_div(int64_t a, int64_t b) { int64_t q = a / b; return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q; }

/* round(x, places): x in thousandths, to `places` decimal places (3 or more:
 * x itself; negative: tens, hundreds, ...), halves away from zero as people
 * round by hand (54.625 to 2 places is 54.63, -2.5 to 0 places is -3).
 * Sets *ovf when the rounded value does not fit. */
static int64_t round_places(int64_t x, int64_t places, int *ovf)
{
    if (places >= 3) return x;
    if (places < -18) return 0;                     /* 10^21 thousandths: more than any int64 */
    __int128 unit = 1;
    for (int64_t k = places; k < 3; k++) unit *= 10;
    __int128 q = x / unit, r = x % unit;
    if (2 * (r < 0 ? -r : r) >= unit) q += x < 0 ? -1 : 1;
    __int128 v = q * unit;
    if (v > INT64_MAX || v < INT64_MIN) { *ovf = 1; return 0; }
    return (int64_t)v;
}

/* The domain of an e-mail address or URL (a view into s). */
static void domain_of(const char *s, uint32_t n, uint32_t *from, uint32_t *to)
{
    uint32_t at = n, i;
    for (i = 0; i < n; i++) if (s[i] == '@') at = i;
    uint32_t start = 0;
    for (i = 0; i + 2 < n; i++)
        if (s[i] == ':' && s[i + 1] == '/' && s[i + 2] == '/') { start = i + 3; break; }
    if (start == 0 && at < n) { *from = at + 1; *to = n; return; }
    uint32_t end = start;
    while (end < n && s[end] != '/' && s[end] != '?' && s[end] != '#') end++;
    for (i = start; i < end; i++) if (s[i] == '@') start = i + 1;
    uint32_t colon = end;
    for (i = start; i < end; i++) if (s[i] == ':') { colon = i; break; }
    *from = start;
    *to = colon;
}

VmResult VM_RUN(DnaVm *vm, const DnaBundle *b, const DnaUnit *u, const DnaState *st, DnaValue *out)
{
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
        if (!ANY_NONE(x, y)) { NEED_STR(x); NEED_STR(y); r = str_cmp(x, y) < 0; }
        SETI(R[A_], r);
        VM_NEXT;
    }
    VM_CASE(LE_S) {
        const DnaValue *x = &R[B_], *y = &R[C_];
        int r = 0;
        if (!ANY_NONE(x, y)) { NEED_STR(x); NEED_STR(y); r = str_cmp(x, y) <= 0; }
        SETI(R[A_], r);
        VM_NEXT;
    }
    VM_CASE(CONTAINS) {
        const DnaValue *x = &R[B_], *y = &R[C_];
        int r = 0;
        if (!ANY_NONE(x, y)) {
            NEED_STR(x); NEED_STR(y);
            r = y->len == 0 || (y->len <= x->len && memmem(x->u.s, x->len, y->u.s, y->len) != NULL);
        }
        SETI(R[A_], r);
        VM_NEXT;
    }
    VM_CASE(HAS_I) {
        const DnaValue *l = &R[B_], *x = &R[C_];
        int r = 0;
        if (!ANY_NONE(l, x)) {
            if (l->kind != DNA_VK_LIST) THROW(VM_ERR_TYPE);
            for (uint32_t i = 0; i < l->len && !r; i++)
                r = l->u.items[i].kind != DNA_VK_NONE && l->u.items[i].u.i == x->u.i;
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
            for (uint32_t i = 0; i < l->len && !r; i++)
                r = l->u.items[i].kind == DNA_VK_STR && str_eq(&l->u.items[i], x);
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
        int ovf = 0;
        int64_t r = div_half_even((__int128)x->u.i * y->u.i, 1000, &ovf);
        if (ovf) THROW(VM_ERR_OVERFLOW);
        SETI(R[A_], r);
        VM_NEXT;
    }
    VM_CASE(DIV_D) {
        const DnaValue *x = &R[B_], *y = &R[C_];
        if (ANY_NONE(x, y)) { SETNONE(R[A_]); VM_NEXT; }
        if (y->u.i == 0) THROW(VM_ERR_DIV_ZERO);
        int ovf = 0;
        int64_t r = div_half_even((__int128)x->u.i * 1000, y->u.i, &ovf);
        if (ovf) THROW(VM_ERR_OVERFLOW);
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
        DnaValue res = dna_none();
        unsigned id = B_;
        if (id == VM_BI_is_set) { SETI(R[A_], x->kind != DNA_VK_NONE); VM_NEXT; }
        if (id == VM_BI_coalesce) { const DnaValue *c_ = x->kind != DNA_VK_NONE ? x : y; COPYV(R[A_], *c_); VM_NEXT; }
        if (id == VM_BI_now) { SETI(R[A_], st->now_ms); VM_NEXT; }
        if (x->kind == DNA_VK_NONE || (bc_builtin_nargs(id) == 2 && y->kind == DNA_VK_NONE)) {
            R[A_] = res;
            VM_NEXT;
        }
        switch ((VmBuiltin)id) {
        case VM_BI_lower: case VM_BI_upper: {
            NEED_STR(x);
            SPACE(x->len);
            char *d = scratch + used;
            for (uint32_t i = 0; i < x->len; i++)
                d[i] = id == VM_BI_lower ? lower_ascii(x->u.s[i]) : upper_ascii(x->u.s[i]);
            res = dna_str(d, x->len);
            used += x->len;
            break;
        }
        case VM_BI_trim: {
            NEED_STR(x);
            uint32_t s = 0, e = x->len;
            while (s < e && is_space(x->u.s[s])) s++;
            while (e > s && is_space(x->u.s[e - 1])) e--;
            res = dna_str(x->u.s + s, e - s);
            break;
        }
        case VM_BI_len: {
            NEED_STR(x);
            int64_t n = 0;
            for (uint32_t i = 0; i < x->len; i++) n += ((unsigned char)x->u.s[i] & 0xC0) != 0x80;
            res = dna_int(n);
            break;
        }
        case VM_BI_starts_with:
            NEED_STR(x); NEED_STR(y);
            res = dna_int(y->len <= x->len && (!y->len || memcmp(x->u.s, y->u.s, y->len) == 0));
            break;
        case VM_BI_ends_with:
            NEED_STR(x); NEED_STR(y);
            res = dna_int(y->len <= x->len && (!y->len || memcmp(x->u.s + x->len - y->len, y->u.s, y->len) == 0));
            break;
        case VM_BI_domain: {
            NEED_STR(x);
            uint32_t from, to;
            domain_of(x->u.s, x->len, &from, &to);
            SPACE(to - from);
            char *d = scratch + used;
            for (uint32_t i = from; i < to; i++) d[i - from] = lower_ascii(x->u.s[i]);
            res = dna_str(d, to - from);
            used += to - from;
            break;
        }
        case VM_BI_age: {
            int64_t r;
            if (__builtin_sub_overflow(st->now_ms, x->u.i, &r)) THROW(VM_ERR_OVERFLOW);
            res = dna_int(r);
            break;
        }
        case VM_BI_hour: case VM_BI_weekday: {
            int64_t off = 0;
            if (u->tz != DNA_NIL && st->tz_offset) off = (int64_t)st->tz_offset(st->ud, bundle_str(b, u->tz), x->u.i) * 1000;
            int64_t local;
            if (__builtin_add_overflow(x->u.i, off, &local)) THROW(VM_ERR_OVERFLOW);
            if (id == VM_BI_hour) res = dna_int(floor_div(local, 3600000) - floor_div(local, 86400000) * 24);
            else {
                int64_t d = floor_div(local, 86400000);
                res = dna_int(((d % 7 + 7 + 3) % 7) + 1);      /* 1970-01-01 was a Thursday */
            }
            break;
        }
        case VM_BI_days: case VM_BI_hours: {
            int ovf = 0;
            res = dna_int(div_half_even((__int128)x->u.i * 1000, id == VM_BI_days ? 86400000 : 3600000, &ovf));
            if (ovf) THROW(VM_ERR_OVERFLOW);
            break;
        }
        case VM_BI_min: res = dna_int(x->u.i < y->u.i ? x->u.i : y->u.i); break;
        case VM_BI_max: res = dna_int(x->u.i > y->u.i ? x->u.i : y->u.i); break;
        case VM_BI_abs:
            if (x->u.i == INT64_MIN) THROW(VM_ERR_OVERFLOW);
            res = dna_int(x->u.i < 0 ? -x->u.i : x->u.i);
            break;
        case VM_BI_round: {
            int ovf = 0;
            res = dna_int(round_places(x->u.i, y->u.i, &ovf));
            if (ovf) THROW(VM_ERR_OVERFLOW);
            break;
        }
        default:
            THROW(VM_ERR_TYPE);     /* env(), header(): refused by the verifier */
        }
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
        DnaValue *d = &R[A_];
        const DnaValue *x = &R[B_];
        if (d->kind != DNA_VK_STR || d->u.s + d->len != scratch + used) THROW(VM_ERR_TYPE);
        if (x->kind == DNA_VK_NONE) VM_NEXT;
        uint32_t n;
        if (C_ == VM_FMT_STR) {
            NEED_STR(x);
            SPACE(x->len);
            if (x->len) memcpy(scratch + used, x->u.s, x->len);
            n = x->len;
        } else {
            int k = bc_format(scratch + used, sizeof vm->scratch - used, C_, x->u.i);
            if (k < 0) THROW(VM_ERR_SCRATCH);
            n = (uint32_t)k;
        }
        used += n;
        d->len += n;
        VM_NEXT;
    }
    VM_CASE(ENAME) {
        DnaValue *r = &R[A_];
        if (r->kind == DNA_VK_NONE) VM_NEXT;
        const DnaEnum *e = &b->enums[BX_];
        if (r->u.i < 0 || (uint64_t)r->u.i >= e->nvalues) THROW(VM_ERR_TYPE);
        const DnaStr *s = &b->strs[e->values[r->u.i]];
        *r = dna_str(s->s, s->len);
        VM_NEXT;
    }
    VM_CASE(RET) {
        COPYV(*out, R[A_]);
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
