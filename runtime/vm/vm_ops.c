/*
 * vm_ops.c - the VM's out-of-line operations (vm_ops.h): builtins, string
 * building, enum names, list and string tests, decimal arithmetic.  Both
 * the interpreter loop and JIT-compiled code call these.
 */
#include "vm/vm_ops.h"

#include <string.h>

#define THROW(e) return (e)
#define SPACE(n) do { if ((size_t)(n) > sizeof vm->scratch - vm->scratch_used) THROW(VM_ERR_SCRATCH); } while (0)
#define NEED_STR(x) do { if ((x)->kind != DNA_VK_STR) THROW(VM_ERR_TYPE); } while (0)

static int64_t div_half_even(__int128 n, __int128 d, int *ovf)
{
    __int128 q = n / d, r = n % d;
    __int128 ar = r < 0 ? -r : r, ad = d < 0 ? -d : d;
    if (2 * ar > ad || (2 * ar == ad && (q & 1))) q += ((n < 0) != (d < 0)) ? -1 : 1;
    if (q > INT64_MAX || q < INT64_MIN) { *ovf = 1; return 0; }
    return (int64_t)q;
}

int vm_op_mul_d(int64_t x, int64_t y, int64_t *r)
{
    int ovf = 0;
    *r = div_half_even((__int128)x * y, 1000, &ovf);
    return ovf;
}

int vm_op_div_d(int64_t x, int64_t y, int64_t *r)
{
    int ovf = 0;
    *r = div_half_even((__int128)x * 1000, y, &ovf);
    return ovf;
}

static int str_eq(const char *x, uint32_t xn, const char *y, uint32_t yn)
{
    return xn == yn && (!xn || memcmp(x, y, xn) == 0);
}

int vm_op_str_cmp(const char *x, uint32_t xn, const char *y, uint32_t yn)
{
    uint32_t n = xn < yn ? xn : yn;
    int c = n ? memcmp(x, y, n) : 0;
    if (c) return c;
    return xn < yn ? -1 : xn > yn;
}

int vm_op_contains(const char *x, uint32_t xn, const char *y, uint32_t yn)
{
    return yn == 0 || (yn <= xn && memmem(x, xn, y, yn) != NULL);
}

int vm_op_has_i(const DnaValue *items, uint32_t n, int64_t x)
{
    for (uint32_t i = 0; i < n; i++)
        if (items[i].kind != DNA_VK_NONE && items[i].u.i == x) return 1;
    return 0;
}

int vm_op_has_s(const DnaValue *items, uint32_t n, const char *s, uint32_t len)
{
    for (uint32_t i = 0; i < n; i++)
        if (items[i].kind == DNA_VK_STR && str_eq(items[i].u.s, items[i].len, s, len)) return 1;
    return 0;
}

VmResult vm_op_ename(const DnaBundle *b, uint32_t e, DnaValue *r)
{
    if (r->kind == DNA_VK_NONE) return VM_OK;
    const DnaEnum *en = &b->enums[e];
    if (r->u.i < 0 || (uint64_t)r->u.i >= en->nvalues) return VM_ERR_TYPE;
    const DnaStr *s = &b->strs[en->values[r->u.i]];
    *r = dna_str(s->s, s->len);
    return VM_OK;
}

VmResult vm_op_sadd(DnaVm *vm, DnaValue *d, const DnaValue *x, unsigned fmt)
{
    char *const at = vm->scratch + vm->scratch_used;
    if (d->kind != DNA_VK_STR || d->u.s + d->len != at) THROW(VM_ERR_TYPE);
    if (x->kind == DNA_VK_NONE) return VM_OK;
    uint32_t n;
    if (fmt == VM_FMT_STR) {
        NEED_STR(x);
        SPACE(x->len);
        if (x->len) memcpy(at, x->u.s, x->len);
        n = x->len;
    } else {
        int k = bc_format(at, sizeof vm->scratch - vm->scratch_used, fmt, x->u.i);
        if (k < 0) THROW(VM_ERR_SCRATCH);
        n = (uint32_t)k;
    }
    vm->scratch_used += n;
    d->len += n;
    return VM_OK;
}

/* ---- builtins ------------------------------------------------------------------ */

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

/* lower, upper, domain: a new string in the scratch buffer */
static VmResult scratch_builtin(DnaVm *vm, unsigned id, const DnaValue *x, DnaValue *res)
{
    NEED_STR(x);
    uint32_t from = 0, to = x->len;
    if (id == VM_BI_domain) domain_of(x->u.s, x->len, &from, &to);
    SPACE(to - from);
    char *d = vm->scratch + vm->scratch_used;
    for (uint32_t i = from; i < to; i++) d[i - from] = id == VM_BI_upper ? upper_ascii(x->u.s[i]) : lower_ascii(x->u.s[i]);
    *res = dna_str(d, to - from);
    vm->scratch_used += to - from;
    return VM_OK;
}

/* hour, weekday: in the unit's time zone */
static VmResult clock_builtin(const DnaBundle *b, const DnaUnit *u, const DnaState *st, unsigned id, int64_t ts,
                              DnaValue *res)
{
    int64_t off = 0;
    if (u->tz != DNA_NIL && st->tz_offset) off = (int64_t)st->tz_offset(st->ud, bundle_str(b, u->tz), ts) * 1000;
    int64_t local;
    if (__builtin_add_overflow(ts, off, &local)) THROW(VM_ERR_OVERFLOW);
    if (id == VM_BI_hour) *res = dna_int(floor_div(local, 3600000) - floor_div(local, 86400000) * 24);
    else {
        int64_t d = floor_div(local, 86400000);
        *res = dna_int(((d % 7 + 7 + 3) % 7) + 1);      /* 1970-01-01 was a Thursday */
    }
    return VM_OK;
}

VmResult vm_op_call(DnaVm *vm, const DnaBundle *b, const DnaUnit *u, const DnaState *st, unsigned id,
                    const DnaValue *x, const DnaValue *y, DnaValue *res)
{
    if (id == VM_BI_is_set) { *res = dna_int(x->kind != DNA_VK_NONE); return VM_OK; }
    if (id == VM_BI_coalesce) { *res = x->kind != DNA_VK_NONE ? *x : *y; return VM_OK; }
    if (id == VM_BI_now) { *res = dna_int(st->now_ms); return VM_OK; }
    *res = dna_none();
    if (x->kind == DNA_VK_NONE || (bc_builtin_nargs(id) == 2 && y->kind == DNA_VK_NONE)) return VM_OK;
    switch ((VmBuiltin)id) {
    case VM_BI_lower: case VM_BI_upper: case VM_BI_domain:
        return scratch_builtin(vm, id, x, res);
    case VM_BI_trim: {
        NEED_STR(x);
        uint32_t s = 0, e = x->len;
        while (s < e && is_space(x->u.s[s])) s++;
        while (e > s && is_space(x->u.s[e - 1])) e--;
        *res = dna_str(x->u.s + s, e - s);
        return VM_OK;
    }
    case VM_BI_len: {
        NEED_STR(x);
        int64_t n = 0;
        for (uint32_t i = 0; i < x->len; i++) n += ((unsigned char)x->u.s[i] & 0xC0) != 0x80;
        *res = dna_int(n);
        return VM_OK;
    }
    case VM_BI_starts_with:
        NEED_STR(x); NEED_STR(y);
        *res = dna_int(y->len <= x->len && (!y->len || memcmp(x->u.s, y->u.s, y->len) == 0));
        return VM_OK;
    case VM_BI_ends_with:
        NEED_STR(x); NEED_STR(y);
        *res = dna_int(y->len <= x->len && (!y->len || memcmp(x->u.s + x->len - y->len, y->u.s, y->len) == 0));
        return VM_OK;
    case VM_BI_age: {
        int64_t r;
        if (__builtin_sub_overflow(st->now_ms, x->u.i, &r)) THROW(VM_ERR_OVERFLOW);
        *res = dna_int(r);
        return VM_OK;
    }
    case VM_BI_hour: case VM_BI_weekday:
        return clock_builtin(b, u, st, id, x->u.i, res);
    case VM_BI_days: case VM_BI_hours: {
        int ovf = 0;
        *res = dna_int(div_half_even((__int128)x->u.i * 1000, id == VM_BI_days ? 86400000 : 3600000, &ovf));
        if (ovf) { *res = dna_none(); THROW(VM_ERR_OVERFLOW); }
        return VM_OK;
    }
    case VM_BI_min: *res = dna_int(x->u.i < y->u.i ? x->u.i : y->u.i); return VM_OK;
    case VM_BI_max: *res = dna_int(x->u.i > y->u.i ? x->u.i : y->u.i); return VM_OK;
    case VM_BI_abs:
        if (x->u.i == INT64_MIN) THROW(VM_ERR_OVERFLOW);
        *res = dna_int(x->u.i < 0 ? -x->u.i : x->u.i);
        return VM_OK;
    case VM_BI_round: {
        int ovf = 0;
        *res = dna_int(round_places(x->u.i, y->u.i, &ovf));
        if (ovf) { *res = dna_none(); THROW(VM_ERR_OVERFLOW); }
        return VM_OK;
    }
    default:
        THROW(VM_ERR_TYPE);     /* env(), header(): refused by the verifier */
    }
}
