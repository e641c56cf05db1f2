/*
 * test_vm_diff.c - randomized differential test of the emitter and VM.
 *
 * For fixed seeds: generate random well-typed expressions as .dna source
 * text (conditions, decimal points, ints, strings, templates, match, user
 * fns, builtins, optionals, enums), compile them with the real compiler,
 * then evaluate each against random states twice: through the VM (both
 * dispatch builds) and through an independent tree-walking evaluator over
 * the checked AST written here.  Results and error kinds must agree.
 */
#include "compile_util.h"
#include "vmtest.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdint.h>

/* ---- random ----------------------------------------------------------------- */

static uint64_t rng;
static uint64_t rnd(void)
{
    rng ^= rng >> 12; rng ^= rng << 25; rng ^= rng >> 27;
    return rng * 2685821657736338717ull;
}
static int pick(int n) { return (int)(rnd() % (uint64_t)n); }

/* ---- source generation ------------------------------------------------------ */

typedef struct Src { char *p; size_t n, cap; } Src;

static void out(Src *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void out(Src *s, const char *fmt, ...)
{
    va_list ap;
    for (;;) {
        va_start(ap, fmt);
        int k = vsnprintf(s->p + s->n, s->cap - s->n, fmt, ap);
        va_end(ap);
        if ((size_t)k < s->cap - s->n) { s->n += (size_t)k; return; }
        s->cap = s->cap * 2 + (size_t)k + 64;
        s->p = realloc(s->p, s->cap);
    }
}

static const char *const str_pool[] = { "a", "/pricing", "Hello World", "", "  x  ", "linkedin", "ab", "B" };

static void g_bool(Src *s, int d);
static void g_int(Src *s, int d);
static void g_dec(Src *s, int d);
static void g_str(Src *s, int d);

static void g_int(Src *s, int d)
{
    if (d <= 0 || pick(3) == 0) {
        switch (pick(8)) {
        case 0: out(s, "%d", pick(40)); break;
        case 1: out(s, "(-%d)", pick(40)); break;
        case 2: out(s, "event.n"); break;
        case 3: out(s, "event.m"); break;
        case 4: out(s, "lead.x"); break;
        case 5: out(s, "K1"); break;
        case 6: out(s, pick(4) ? "%d" : "9000000000000000000", pick(5) + 1); break;
        default: out(s, "coalesce(event.on, %d)", pick(9)); break;
        }
        return;
    }
    switch (pick(11)) {
    case 0: out(s, "("); g_int(s, d - 1); out(s, " + "); g_int(s, d - 1); out(s, ")"); break;
    case 1: out(s, "("); g_int(s, d - 1); out(s, " - "); g_int(s, d - 1); out(s, ")"); break;
    case 2: out(s, "("); g_int(s, d - 1); out(s, " * "); g_int(s, d - 1); out(s, ")"); break;
    case 3: out(s, "("); g_int(s, d - 1); out(s, " %% "); g_int(s, d - 1); out(s, ")"); break;
    case 4: out(s, "(-"); g_int(s, d - 1); out(s, ")"); break;
    case 5: out(s, "min("); g_int(s, d - 1); out(s, ", "); g_int(s, d - 1); out(s, ")"); break;
    case 6: out(s, "max("); g_int(s, d - 1); out(s, ", "); g_int(s, d - 1); out(s, ")"); break;
    case 7: out(s, "abs("); g_int(s, d - 1); out(s, ")"); break;
    case 8: out(s, "len("); g_str(s, d - 1); out(s, ")"); break;
    case 9:
        out(s, "(match "); g_int(s, d - 1); out(s, " { >= "); g_int(s, 0); out(s, " -> "); g_int(s, d - 1);
        out(s, ", == "); g_int(s, 0); out(s, " -> "); g_int(s, d - 1); out(s, ", _ -> "); g_int(s, d - 1); out(s, " })");
        break;
    default: out(s, "coalesce(event.on, "); g_int(s, d - 1); out(s, ")"); break;
    }
}

static void g_dec(Src *s, int d)
{
    if (d <= 0 || pick(3) == 0) {
        switch (pick(6)) {
        case 0: out(s, "%d.%03d", pick(100), pick(1000)); break;
        case 1: out(s, "(-%d.%d)", pick(10), pick(10)); break;
        case 2: out(s, "event.d"); break;
        case 3: out(s, "lead.y"); break;
        case 4: out(s, "K2"); break;
        default: out(s, "coalesce(event.od, %d.5)", pick(9)); break;
        }
        return;
    }
    switch (pick(13)) {
    case 0: out(s, "("); g_dec(s, d - 1); out(s, " + "); g_dec(s, d - 1); out(s, ")"); break;
    case 1: out(s, "("); g_dec(s, d - 1); out(s, " - "); g_int(s, d - 1); out(s, ")"); break;
    case 2: out(s, "("); g_int(s, d - 1); out(s, " + "); g_dec(s, d - 1); out(s, ")"); break;
    case 3: out(s, "("); g_dec(s, d - 1); out(s, " * "); g_dec(s, d - 1); out(s, ")"); break;
    case 4: out(s, "("); g_dec(s, d - 1); out(s, " / "); g_dec(s, d - 1); out(s, ")"); break;
    case 5: out(s, "("); g_int(s, d - 1); out(s, " / "); g_int(s, d - 1); out(s, ")"); break;
    case 6: out(s, "f("); g_int(s, d - 1); out(s, ", "); g_dec(s, d - 1); out(s, ")"); break;
    case 7: out(s, "min("); g_dec(s, d - 1); out(s, ", "); g_int(s, d - 1); out(s, ")"); break;
    case 8: out(s, "abs("); g_dec(s, d - 1); out(s, ")"); break;
    case 9: out(s, "(-"); g_dec(s, d - 1); out(s, ")"); break;
    case 10: out(s, "("); g_int(s, d - 1); out(s, " * "); g_dec(s, d - 1); out(s, ")"); break;
    case 11:
        out(s, "round(");
        if (pick(2)) g_dec(s, d - 1); else g_int(s, d - 1);
        out(s, ", ");
        if (pick(4)) out(s, "%d", pick(7) - 3);
        else out(s, "%s", pick(2) ? "event.n" : "coalesce(event.on, 1)");
        out(s, ")");
        break;
    default:
        out(s, "(match "); g_dec(s, d - 1); out(s, " { < "); g_int(s, 0); out(s, " -> "); g_int(s, d - 1);
        out(s, ", <= "); g_dec(s, 0); out(s, " -> "); g_dec(s, d - 1); out(s, ", _ -> "); g_dec(s, d - 1); out(s, " })");
        break;
    }
}

static void g_hole(Src *s)
{
    static const char *const holes[] = { "event.n", "lead.y", "event.c", "event.b", "event.s", "lead.z",
                                         "event.on", "(event.n * 2)", "event.du", "lead.k", "event.od", "K2" };
    out(s, "{%s}", holes[pick((int)(sizeof holes / sizeof *holes))]);
}

static void g_str(Src *s, int d)
{
    if (d <= 0 || pick(3) == 0) {
        switch (pick(6)) {
        case 0: case 1: out(s, "\"%s\"", str_pool[pick(8)]); break;
        case 2: out(s, "event.s"); break;
        case 3: out(s, "event.t"); break;
        case 4: out(s, "coalesce(event.os, \"%s\")", str_pool[pick(8)]); break;
        default: out(s, "coalesce(lead.z, \"zz\")"); break;
        }
        return;
    }
    switch (pick(7)) {
    case 0: out(s, "lower("); g_str(s, d - 1); out(s, ")"); break;
    case 1: out(s, "upper("); g_str(s, d - 1); out(s, ")"); break;
    case 2: out(s, "trim("); g_str(s, d - 1); out(s, ")"); break;
    case 3: out(s, "g("); g_str(s, d - 1); out(s, ")"); break;
    case 4: out(s, "("); g_str(s, d - 1); out(s, " + "); g_str(s, d - 1); out(s, ")"); break;
    default: {
        out(s, "\"[");
        int n = 1 + pick(3);
        for (int i = 0; i < n; i++) { g_hole(s); out(s, "%s", i + 1 < n ? "|" : ""); }
        out(s, "]\"");
        break;
    }
    }
}

static void g_bool(Src *s, int d)
{
    static const char *const cmp[] = { "==", "!=", "<", "<=", ">", ">=" };
    if (d <= 0 || pick(4) == 0) {
        switch (pick(8)) {
        case 0: out(s, "event.b"); break;
        case 1: out(s, pick(2) ? "true" : "false"); break;
        case 2: out(s, "is_set(event.os)"); break;
        case 3: out(s, "lead.k == %s", pick(2) ? "p" : "r"); break;
        case 4: out(s, "event.c == green"); break;
        case 5: out(s, "event.on == none"); break;
        case 6: out(s, "lead.z != none"); break;
        default: out(s, "event.c in [red, blue]"); break;
        }
        return;
    }
    switch (pick(14)) {
    case 0: out(s, "("); g_bool(s, d - 1); out(s, " and "); g_bool(s, d - 1); out(s, ")"); break;
    case 1: out(s, "("); g_bool(s, d - 1); out(s, " or "); g_bool(s, d - 1); out(s, ")"); break;
    case 2: out(s, "not ("); g_bool(s, d - 1); out(s, ")"); break;
    case 3: out(s, "("); g_int(s, d - 1); out(s, " %s ", cmp[pick(6)]); g_int(s, d - 1); out(s, ")"); break;
    case 4: out(s, "("); g_dec(s, d - 1); out(s, " %s ", cmp[pick(6)]); g_dec(s, d - 1); out(s, ")"); break;
    case 5: out(s, "("); g_int(s, d - 1); out(s, " %s ", cmp[pick(6)]); g_dec(s, d - 1); out(s, ")"); break;
    case 6: out(s, "("); g_str(s, d - 1); out(s, " %s ", cmp[pick(6)]); g_str(s, d - 1); out(s, ")"); break;
    case 7: out(s, "("); g_str(s, d - 1); out(s, " contains "); g_str(s, d - 1); out(s, ")"); break;
    case 8: out(s, "%s(", pick(2) ? "starts_with" : "ends_with"); g_str(s, d - 1); out(s, ", "); g_str(s, d - 1); out(s, ")"); break;
    case 9: out(s, "("); g_int(s, d - 1); out(s, " in ["); g_int(s, 0); out(s, ", "); g_int(s, d - 1); out(s, ", "); g_int(s, 0); out(s, "])"); break;
    case 10: out(s, "(event.on %s ", cmp[pick(6)]); g_int(s, d - 1); out(s, ")"); break;
    case 11: out(s, "(event.od %s ", cmp[pick(6)]); g_dec(s, d - 1); out(s, ")"); break;
    case 12: out(s, "(lead.z %s ", cmp[pick(6)]); g_str(s, d - 1); out(s, ")"); break;
    default: out(s, "(["); g_str(s, 0); out(s, ", \"ab\"] contains "); g_str(s, d - 1); out(s, ")"); break;
    }
}

static const char prelude[] =
    "module diff\n"
    "event ev { s: string, t: string, os: string?, n: int, m: int, on: int?, d: decimal, od: decimal?,\n"
    "           c: enum(red, green, blue), b: bool, du: duration }\n"
    "entity lead {\n  identity email\n  x: int\n  y: decimal\n  z: string?\n  k: enum(p, q, r)?\n}\n"
    "const K1 = 7\n"
    "const K2 = 2.5\n"
    "fn f(a: int, b: decimal) -> decimal = a * b + K2\n"
    "fn g(s: string) -> string = upper(trim(s)) + \"!\"\n";

#define NRULES 60
#define NSETS 30

/* ---- the reference evaluator -------------------------------------------------- */

typedef struct TV { int none; int64_t i; const char *s; uint32_t len; int is_str; } TV;
typedef enum { E_OK, E_OVERFLOW, E_DIVZERO } Err;

typedef struct Eval {
    const DnaBundle *b;
    const DnaValue *ev, *lead;
    uint32_t evk, leadk;
    Err err;
    struct { const char *name; TV v; } env[16];
    int nenv;
    char *pool[4096];
    int npool;
} Eval;

static TV tv_none(void) { TV v = { 1, 0, NULL, 0, 0 }; return v; }
static TV tv_int(int64_t i) { TV v = { 0, i, NULL, 0, 0 }; return v; }
static TV tv_str(Eval *E, const char *s, size_t n)
{
    char *p = malloc(n + 1);
    memcpy(p, s, n);
    p[n] = 0;
    if (E->npool < 4096) E->pool[E->npool++] = p;
    TV v = { 0, 0, p, (uint32_t)n, 1 };
    return v;
}

typedef enum { K_INT, K_DEC, K_STR, K_OTHER } K;
static K kind_of(Type *t)
{
    switch (ty_base(t)->kind) {
    case TY_DECIMAL: case TY_SCORE: return K_DEC;
    case TY_STRING: return K_STR;
    case TY_INT: return K_INT;
    default: return K_OTHER;
    }
}

static int64_t chk_mul(Eval *E, int64_t a, int64_t b)
{
    int64_t r;
    if (__builtin_mul_overflow(a, b, &r)) { if (!E->err) E->err = E_OVERFLOW; return 0; }
    return r;
}

static TV widen(Eval *E, TV v, Type *from, K to)
{
    if (!v.none && to == K_DEC && kind_of(from) == K_INT) v.i = chk_mul(E, v.i, 1000);
    return v;
}

/* round half to even of n / d (d != 0) */
static int64_t rdiv(Eval *E, __int128 n, __int128 d)
{
    int neg = (n < 0) != (d < 0);
    __int128 an = n < 0 ? -n : n, ad = d < 0 ? -d : d;
    __int128 q = an / ad, r = an % ad;
    if (r * 2 > ad || (r * 2 == ad && (q % 2) == 1)) q++;
    if (neg) q = -q;
    if (q > INT64_MAX || q < INT64_MIN) { if (!E->err) E->err = E_OVERFLOW; return 0; }
    return (int64_t)q;
}

static TV ev_(Eval *E, Node *n);

static TV evk(Eval *E, Node *n, K k) { return widen(E, ev_(E, n), n->ty, k); }

static int truthy(TV v) { return !v.none && v.i != 0; }

static K common_k(Node *a, Node *b)
{
    K x = a->kind == N_NONE ? kind_of(b->ty) : kind_of(a->ty), y = b->kind == N_NONE ? x : kind_of(b->ty);
    if (x == K_STR || y == K_STR) return K_STR;
    if (x == K_DEC || y == K_DEC) return K_DEC;
    return K_INT;
}

static int cmp_vals(TV a, TV b, K k)
{
    if (k == K_STR) {
        uint32_t n = a.len < b.len ? a.len : b.len;
        int c = memcmp(a.s, b.s, n);
        if (c) return c < 0 ? -1 : 1;
        return a.len < b.len ? -1 : a.len > b.len;
    }
    return a.i < b.i ? -1 : a.i > b.i;
}

static int compare(TV a, TV b, K k, Op op)
{
    if (op == OP_EQ || op == OP_NE) {
        int eq = (a.none || b.none) ? (a.none && b.none) : cmp_vals(a, b, k) == 0;
        return op == OP_EQ ? eq : !eq;
    }
    if (a.none || b.none) return 0;
    int c = cmp_vals(a, b, k);
    switch (op) {
    case OP_LT: return c < 0;
    case OP_LE: return c <= 0;
    case OP_GT: return c > 0;
    default: return c >= 0;
    }
}

static void fmt_dec(char *buf, size_t len, int64_t v)
{
    uint64_t a = v < 0 ? -(uint64_t)v : (uint64_t)v;
    char frac[8] = "";
    if (a % 1000) {
        snprintf(frac, sizeof frac, ".%03u", (unsigned)(a % 1000));
        while (frac[strlen(frac) - 1] == '0') frac[strlen(frac) - 1] = 0;
    }
    snprintf(buf, len, "%s%" PRIu64 "%s", v < 0 ? "-" : "", a / 1000, frac);
}

static void fmt_dur(char *buf, size_t len, int64_t ms)
{
    if (ms % 86400000 == 0) snprintf(buf, len, "%" PRId64 "d", ms / 86400000);
    else if (ms % 3600000 == 0) snprintf(buf, len, "%" PRId64 "h", ms / 3600000);
    else if (ms % 60000 == 0) snprintf(buf, len, "%" PRId64 "m", ms / 60000);
    else if (ms % 1000 == 0) snprintf(buf, len, "%" PRId64 "s", ms / 1000);
    else snprintf(buf, len, "%" PRId64 "ms", ms);
}

static TV read_slot(Eval *E, const DnaValue *base, uint32_t idx)
{
    const DnaValue *v = &base[idx];
    if (v->kind == DNA_VK_NONE) return tv_none();
    if (v->kind == DNA_VK_STR) { TV t = { 0, 0, v->u.s, v->len, 1 }; return t; }
    (void)E;
    return tv_int(v->u.i);
}

static TV call_builtin(Eval *E, Node *n)
{
    const char *name = n->a->name;
    Node *a0 = n->list, *a1 = a0 ? a0->next : NULL;
    K want = kind_of(n->ty);
    if (!strcmp(name, "is_set")) { TV v = ev_(E, a0); return tv_int(!v.none); }
    if (!strcmp(name, "coalesce")) {
        TV x = evk(E, a0, want), y = evk(E, a1, want);
        return x.none ? y : x;
    }
    TV x = a0 ? evk(E, a0, !strcmp(name, "len") ? K_STR : want) : tv_none();
    TV y = a1 ? evk(E, a1, !strcmp(name, "round") ? K_INT : want) : tv_none();
    if (x.none || (a1 && y.none)) return tv_none();
    if (!strcmp(name, "lower") || !strcmp(name, "upper")) {
        TV r = tv_str(E, x.s, x.len);
        for (uint32_t i = 0; i < r.len; i++) {
            char c = r.s[i];
            if (name[0] == 'l' && c >= 'A' && c <= 'Z') ((char *)r.s)[i] = (char)(c + 32);
            if (name[0] == 'u' && c >= 'a' && c <= 'z') ((char *)r.s)[i] = (char)(c - 32);
        }
        return r;
    }
    if (!strcmp(name, "trim")) {
        uint32_t s = 0, e = x.len;
        while (s < e && (x.s[s] == ' ' || x.s[s] == '\t' || x.s[s] == '\n' || x.s[s] == '\r')) s++;
        while (e > s && (x.s[e - 1] == ' ' || x.s[e - 1] == '\t' || x.s[e - 1] == '\n' || x.s[e - 1] == '\r')) e--;
        return tv_str(E, x.s + s, e - s);
    }
    if (!strcmp(name, "len")) {
        int64_t k = 0;
        for (uint32_t i = 0; i < x.len; i++) k += ((unsigned char)x.s[i] & 0xC0) != 0x80;
        return tv_int(k);
    }
    if (!strcmp(name, "starts_with")) return tv_int(y.len <= x.len && !memcmp(x.s, y.s, y.len));
    if (!strcmp(name, "ends_with")) return tv_int(y.len <= x.len && !memcmp(x.s + x.len - y.len, y.s, y.len));
    if (!strcmp(name, "min")) return tv_int(x.i < y.i ? x.i : y.i);
    if (!strcmp(name, "max")) return tv_int(x.i > y.i ? x.i : y.i);
    if (!strcmp(name, "abs")) {
        if (x.i == INT64_MIN) { if (!E->err) E->err = E_OVERFLOW; return tv_int(0); }
        return tv_int(x.i < 0 ? -x.i : x.i);
    }
    if (!strcmp(name, "round")) {
        /* by floor division: x = base + r, 0 <= r < unit; halves go away from zero */
        if (y.i >= 3) return x;
        if (y.i < -18) return tv_int(0);
        __int128 unit = 1;
        for (int64_t k = y.i; k < 3; k++) unit *= 10;
        __int128 r = ((__int128)x.i % unit + unit) % unit, base = (__int128)x.i - r;
        __int128 v = 2 * r > unit || (2 * r == unit && x.i >= 0) ? base + unit : base;
        if (v > INT64_MAX || v < INT64_MIN) { if (!E->err) E->err = E_OVERFLOW; return tv_int(0); }
        return tv_int((int64_t)v);
    }
    fprintf(stderr, "evaluator: builtin %s not modelled\n", name);
    abort();
}

static TV call_fn(Eval *E, Node *n)
{
    Sym *fs = n->a->ty->sym;
    Node *d = fs->decl;
    TV args[16];
    int k = 0;
    Node *p = d->list;
    for (Node *a = n->list; a && p; a = a->next, p = p->next) args[k++] = evk(E, a, kind_of(p->ty));
    int saved = E->nenv;
    __typeof__(E->env) old;
    memcpy(old, E->env, sizeof old);
    E->nenv = 0;
    p = d->list;
    for (int i = 0; i < k; i++, p = p->next) { E->env[i].name = p->name; E->env[i].v = args[i]; E->nenv++; }
    TV r = evk(E, d->b, kind_of(fs->ty));
    memcpy(E->env, old, sizeof old);
    E->nenv = saved;
    return r;
}

static int64_t enum_idx(Type *t, const char *v)
{
    t = ty_base(t);
    for (int i = 0; i < t->nvalues; i++) if (t->values[i] == v) return i;
    return -1;
}

static TV ev_(Eval *E, Node *n)
{
    switch ((NodeKind)n->kind) {
    case N_INT: case N_DECIMAL: case N_TIMEOFDAY: return tv_int(n->num);
    case N_BOOL: return tv_int(n->num != 0);
    case N_DURATION: return tv_int(n->num * 1000);
    case N_NONE: return tv_none();
    case N_STRING: {
        if (!(n->flags & 1)) return tv_str(E, n->name, strlen(n->name));
        char buf[2048];
        size_t len = 0;
        for (Node *q = n->list; q; q = q->next) {
            char tmp[256];
            const char *piece = tmp;
            size_t pl;
            if (q->kind == N_STRPART) { piece = q->name; pl = strlen(piece); }
            else {
                TV v = ev_(E, q);
                Type *t = ty_base(q->ty);
                if (v.none) { tmp[0] = 0; }
                else if (t->kind == TY_STRING) { snprintf(tmp, sizeof tmp, "%.*s", (int)v.len, v.s); }
                else if (t->kind == TY_DECIMAL) fmt_dec(tmp, sizeof tmp, v.i);
                else if (t->kind == TY_BOOL) snprintf(tmp, sizeof tmp, "%s", v.i ? "true" : "false");
                else if (t->kind == TY_ENUM) snprintf(tmp, sizeof tmp, "%s", t->values[v.i]);
                else if (t->kind == TY_DURATION) fmt_dur(tmp, sizeof tmp, v.i);
                else snprintf(tmp, sizeof tmp, "%" PRId64, v.i);
                pl = strlen(tmp);
            }
            if (len + pl < sizeof buf) { memcpy(buf + len, piece, pl); len += pl; }
        }
        return tv_str(E, buf, len);
    }
    case N_NAME: {
        if (n->flags & 1) return tv_int(enum_idx(n->ty, n->name));
        for (int i = E->nenv - 1; i >= 0; i--) if (E->env[i].name == n->name && !n->sym) return E->env[i].v;
        if (n->sym && ((Sym *)n->sym)->kind == SYM_CONST) {
            int saved = E->nenv;
            E->nenv = 0;
            TV v = ev_(E, ((Sym *)n->sym)->decl->a);
            E->nenv = saved;
            return v;
        }
        fprintf(stderr, "evaluator: name %s not modelled\n", n->name);
        abort();
    }
    case N_MEMBER: {
        Type *ot = ty_base(n->a->ty);
        if (ot->kind == TY_EVENT) return read_slot(E, E->ev, bundle_event_slot(E->b, E->evk, n->name));
        return read_slot(E, E->lead, bundle_slot(E->b, E->leadk, n->name));
    }
    case N_CALL:
        if (n->a->ty && n->a->ty->kind == TY_FN) return call_fn(E, n);
        return call_builtin(E, n);
    case N_UNARY: {
        TV v = ev_(E, n->a);
        if (n->op == OP_NOT) return tv_int(!truthy(v));
        if (v.none) return v;
        if (v.i == INT64_MIN) { if (!E->err) E->err = E_OVERFLOW; return tv_int(0); }
        return tv_int(-v.i);
    }
    case N_BINARY: {
        Op op = (Op)n->op;
        if (op == OP_AND || op == OP_OR) {
            int a = truthy(ev_(E, n->a));
            if (op == OP_AND ? !a : a) return tv_int(a);
            return tv_int(truthy(ev_(E, n->b)));
        }
        if (op == OP_IN || (op == OP_CONTAINS && n->a->kind == N_LIST)) {
            Node *x = op == OP_IN ? n->a : n->b, *list = op == OP_IN ? n->b : n->a;
            K k = list->list ? common_k(x, list->list) : K_INT;
            TV xv = evk(E, x, k);
            for (Node *it = list->list; it; it = it->next)
                if (compare(xv, evk(E, it, k), k, OP_EQ)) return tv_int(1);
            return tv_int(0);
        }
        if (op == OP_CONTAINS) {
            TV a = ev_(E, n->a), b = ev_(E, n->b);
            if (a.none || b.none) return tv_int(0);
            if (!b.len) return tv_int(1);
            return tv_int(b.len <= a.len && memmem(a.s, a.len, b.s, b.len) != NULL);
        }
        if (op >= OP_EQ && op <= OP_GE) {
            if (n->b->kind == N_NONE || n->a->kind == N_NONE) {
                TV v = ev_(E, n->a->kind == N_NONE ? n->b : n->a);
                return tv_int(op == OP_EQ ? v.none : op == OP_NE ? !v.none : 0);
            }
            K k = common_k(n->a, n->b);
            TV a = evk(E, n->a, k), b = evk(E, n->b, k);
            return tv_int(compare(a, b, k, op));
        }
        K rk = kind_of(n->ty);
        if (rk == K_STR) {
            TV a = ev_(E, n->a), b = ev_(E, n->b);
            char buf[4096];
            size_t la = a.none ? 0 : a.len, lb = b.none ? 0 : b.len;
            if (la + lb > sizeof buf) abort();
            if (la) memcpy(buf, a.s, la);
            if (lb) memcpy(buf + la, b.s, lb);
            return tv_str(E, buf, la + lb);
        }
        K wk = rk == K_DEC || op == OP_DIV ? K_DEC : K_INT;
        TV a = evk(E, n->a, wk), b = evk(E, n->b, wk);
        if (a.none || b.none) return tv_none();
        int64_t r = 0;
        switch (op) {
        case OP_ADD: if (__builtin_add_overflow(a.i, b.i, &r) && !E->err) E->err = E_OVERFLOW; break;
        case OP_SUB: if (__builtin_sub_overflow(a.i, b.i, &r) && !E->err) E->err = E_OVERFLOW; break;
        case OP_MUL:
            if (wk == K_DEC) r = rdiv(E, (__int128)a.i * b.i, 1000);
            else r = chk_mul(E, a.i, b.i);
            break;
        case OP_DIV:
            if (b.i == 0) { if (!E->err) E->err = E_DIVZERO; break; }
            r = rdiv(E, (__int128)a.i * 1000, b.i);
            break;
        case OP_MOD:
            if (b.i == 0) { if (!E->err) E->err = E_DIVZERO; break; }
            r = b.i == -1 ? 0 : a.i % b.i;
            break;
        default: abort();
        }
        return tv_int(r);
    }
    case N_MATCH: {
        TV s = ev_(E, n->a);
        K want = kind_of(n->ty);
        for (Node *arm = n->list; arm; arm = arm->next) {
            if (!arm->a) return evk(E, arm->b, want);
            K k = common_k(n->a, arm->a);
            TV sv = widen(E, s, n->a->ty, k);
            TV pv = evk(E, arm->a, k);
            if (compare(sv, pv, k, arm->op == OP_NONE ? OP_EQ : (Op)arm->op)) return evk(E, arm->b, want);
        }
        return tv_none();
    }
    default:
        fprintf(stderr, "evaluator: node %s not modelled\n", ast_kind_name(n->kind));
        abort();
    }
}

/* ---- the run ------------------------------------------------------------------------ */

static DnaValue S_(const char *s) { return dna_str(s, (uint32_t)strlen(s)); }

static void random_state(const DnaBundle *b, uint32_t evk_, uint32_t leadk, DnaValue *ev, DnaValue *lead)
{
    memset(ev, 0, sizeof(DnaValue) * b->events[evk_].nslots);
    memset(lead, 0, sizeof(DnaValue) * b->entities[leadk].nslots);
#define EV(name) ev[bundle_event_slot(b, evk_, name)]
#define LD(name) lead[bundle_slot(b, leadk, name)]
    EV("s") = S_(str_pool[pick(8)]);
    EV("t") = S_(str_pool[pick(8)]);
    EV("os") = pick(3) ? S_(str_pool[pick(8)]) : dna_none();
    EV("n") = dna_int(pick(60) - 20);
    EV("m") = dna_int(pick(4) ? pick(9) - 3 : 0);
    EV("on") = pick(3) ? dna_int(pick(20) - 5) : dna_none();
    EV("d") = dna_int((int64_t)pick(200000) - 100000);
    EV("od") = pick(3) ? dna_int((int64_t)pick(20000) - 5000) : dna_none();
    EV("c") = dna_int(pick(3));
    EV("b") = dna_int(pick(2));
    EV("du") = dna_int((int64_t)pick(100) * (pick(2) ? 3600000 : 1500));
    LD("x") = dna_int(pick(2) ? pick(100) - 50 : INT64_MAX - pick(3));
    LD("y") = dna_int((int64_t)pick(100000) - 50000);
    LD("z") = pick(3) ? S_(str_pool[pick(8)]) : dna_none();
    LD("k") = pick(3) ? dna_int(pick(3)) : dna_none();
#undef EV
#undef LD
}

static long ncases, nerrors_agreed;

static void compare_unit(DnaVm *vm, const DnaBundle *b, uint32_t unit, Node *expr, Type *want, const DnaState *st,
                         Eval *E, const char *src, const char *what)
{
    DnaValue out[2];
    VmResult res[2];
    for (int k = 0; k < 2; k++) {
        vm->use_switch = k;
        res[k] = vm_eval(vm, b, unit, st, &out[k]);
    }
    E->err = E_OK;
    E->nenv = 0;
    TV r = expr ? widen(E, ev_(E, expr), expr->ty, want ? kind_of(want) : kind_of(expr->ty)) : tv_none();
    VmResult expect = E->err == E_OVERFLOW ? VM_ERR_OVERFLOW : E->err == E_DIVZERO ? VM_ERR_DIV_ZERO : VM_OK;
    ncases++;
    int ok = res[0] == expect && res[1] == expect;
    if (ok && expect == VM_OK) {
        for (int k = 0; k < 2; k++) {
            if (r.none) ok &= out[k].kind == DNA_VK_NONE;
            else if (r.is_str) ok &= out[k].kind == DNA_VK_STR && out[k].len == r.len && !memcmp(out[k].u.s, r.s, r.len);
            else ok &= out[k].kind == DNA_VK_INT && out[k].u.i == r.i;
        }
    }
    if (expect != VM_OK && ok) nerrors_agreed++;
    {
        uint32_t s = expr->span.start, e = expr->span.end;
        CHECK(ok, "%s: vm %s/%s (kind %d, %lld, \"%.*s\") vs tree walker %s (%s%lld \"%.*s\")\n  expr: %.*s", what,
              vm_result_name(res[0]), vm_result_name(res[1]), out[0].kind, (long long)out[0].u.i,
              out[0].kind == DNA_VK_STR ? (int)out[0].len : 0, out[0].kind == DNA_VK_STR ? out[0].u.s : "",
              vm_result_name(expect), r.none ? "none " : "", (long long)r.i, r.is_str ? (int)r.len : 0,
              r.is_str ? r.s : "", (int)(e - s), src + s);
    }
    for (int i = 0; i < E->npool; i++) free(E->pool[i]);
    E->npool = 0;
}

static void run_seed(uint64_t seed, int states)
{
    rng = seed * 0x9E3779B97F4A7C15ull + 1;
    Src s = { malloc(1024), 0, 1024 };
    out(&s, "%s", prelude);
    out(&s, "score sc for lead {\n");
    for (int i = 0; i < NRULES; i++) {
        out(&s, "  on ev when ");
        g_bool(&s, 1 + pick(4));
        out(&s, " add ");
        if (pick(2)) g_dec(&s, pick(4)); else g_int(&s, pick(4));
        out(&s, "\n");
    }
    out(&s, "}\n");
    static const char *const fields[] = { "x", "y", "z" };
    for (int i = 0; i < NSETS; i++) {
        int f = pick(3);
        out(&s, "workflow w%d for lead {\n  on ev\n  do set lead.%s = ", i, fields[f]);
        if (f == 0) g_int(&s, 1 + pick(4));
        else if (f == 1) g_dec(&s, 1 + pick(4));
        else g_str(&s, 1 + pick(4));
        out(&s, "\n}\n");
    }
    Project pr;
    DnaBundle b;
    char name[32];
    snprintf(name, sizeof name, "diff%llu.dna", (unsigned long long)seed);
    if (cu_load(&pr, name, s.p, NULL, &b)) {
        CHECK(0, "seed %llu: generated source does not compile:\n%s", (unsigned long long)seed, s.p);
        proj_free(&pr);
        free(s.p);
        return;
    }
    const char *text = pr.src.files[1]->text;
    uint32_t evk_ = bundle_event(&b, "ev"), leadk = bundle_entity(&b, "lead");
    DnaValue ev[32], lead[64];
    Eval *E = calloc(1, sizeof *E);
    E->b = &b;
    E->evk = evk_;
    E->leadk = leadk;
    E->ev = ev;
    E->lead = lead;
    DnaVm *vm = malloc(sizeof *vm);
    vm_init(vm);
    DnaState st = { ev, b.events[evk_].nslots, lead, b.entities[leadk].nslots, 1, 0, NULL, NULL, NULL };
    for (int k = 0; k < states; k++) {
        random_state(&b, evk_, leadk, ev, lead);
        Node *file = pr.files[1];
        int ri = 0, wi = 0;
        for (Node *d = file->list; d; d = d->next) {
            if (d->kind == N_SCORE) {
                int i = 1;
                for (Node *r = d->list; r; r = r->next, i++) {
                    char rn[32];
                    snprintf(rn, sizeof rn, "sc#%d", i);
                    const DnaRule *rule = &b.rules[bundle_rule(&b, rn)];
                    compare_unit(vm, &b, rule->cond, r->b, NULL, &st, E, text, "condition");
                    compare_unit(vm, &b, rule->value, r->c, pr.prog.t_decimal, &st, E, text, "points");
                    ri++;
                }
            } else if (d->kind == N_WORKFLOW) {
                const DnaRule *rule = &b.rules[bundle_rule(&b, d->name)];
                const DnaAction *act = &b.actions[b.arms[rule->arm].action];
                Node *set = NULL;
                for (Node *x = d->list; x; x = x->next) if (x->kind == N_DO) set = x->list;
                compare_unit(vm, &b, b.args[act->arg].unit, set->b, set->a->ty, &st, E, text, "set value");
                wi++;
            }
        }
        (void)ri; (void)wi;
    }
    free(vm);
    free(E);
    bundle_free(&b);
    proj_free(&pr);
    free(s.p);
}

int main(int argc, char **argv)
{
    int seeds = argc > 1 ? atoi(argv[1]) : 20;
    int states = argc > 2 ? atoi(argv[2]) : 12;
    for (int seed = 1; seed <= seeds; seed++) run_seed((uint64_t)seed, states);
    printf("differential: %ld evaluations compared (%ld agreed on an error), both dispatchers\n", ncases, nerrors_agreed);
    return t_done("test_vm_diff");
}
