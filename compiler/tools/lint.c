/*
 * lint.c - findings on a checked program (lint.h, codes in lint_codes.h).
 *
 * Each check is a pass over the declarations of every module; the checker
 * has already typed every expression and resolved names (n->ty, n->sym),
 * so the passes read types and symbols rather than guess from names.
 * Constant folding (fold) evaluates literals and consts only; anything
 * that depends on an event or on state is "not constant" and no finding is
 * made from it: lint prefers missing a problem to reporting a false one.
 */
#include "tools/lint.h"
#include "tools/lint_int.h"

#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* ---- codes and configuration ------------------------------------------- */

static const char *const code_names[] = {
#define LINT(code, sev, title, text) #code,
#include "tools/lint_codes.h"
#undef LINT
};
static const int code_sev[] = {
#define LINT(code, sev, title, text) sev,
#include "tools/lint_codes.h"
#undef LINT
};
static const char *const code_titles[] = {
#define LINT(code, sev, title, text) title,
#include "tools/lint_codes.h"
#undef LINT
};
static const char *const code_texts[] = {
#define LINT(code, sev, title, text) text,
#include "tools/lint_codes.h"
#undef LINT
};

const char *lint_code_name(LintCode c) { return code_names[c]; }

static int code_index(const char *code) { return diag_code_find(code_names, LINT__COUNT, code); }

const char *lint_code_title(const char *code)
{
    int i = code_index(code);
    return i < 0 ? NULL : code_titles[i];
}

const char *lint_code_text(const char *code)
{
    int i = code_index(code);
    return i < 0 ? NULL : code_texts[i];
}

void lint_config_default(LintConfig *cfg)
{
    for (int i = 0; i < LINT__COUNT; i++) cfg->sev[i] = code_sev[i];
}

static int is_dir(const char *p)
{
    struct stat st;
    return stat(p, &st) == 0 && S_ISDIR(st.st_mode);
}

static int exists(const char *p)
{
    struct stat st;
    return stat(p, &st) == 0;
}

int lint_config_find(const char *path, char *out, size_t outlen)
{
    char dir[4096];
    if (!realpath(path, dir)) return 0;
    if (!is_dir(dir)) {
        char *slash = strrchr(dir, '/');
        if (!slash) return 0;
        if (slash == dir) slash[1] = 0; else *slash = 0;
    }
    for (;;) {
        char cand[4200];
        snprintf(cand, sizeof cand, "%s%s.dnalint", dir, strcmp(dir, "/") ? "/" : "");
        if (exists(cand)) {
            if (strlen(cand) >= outlen) return 0;
            memcpy(out, cand, strlen(cand) + 1);
            return 1;
        }
        snprintf(cand, sizeof cand, "%s%s.git", dir, strcmp(dir, "/") ? "/" : "");
        if (exists(cand) || !strcmp(dir, "/")) return 0;      /* the repository root */
        char *slash = strrchr(dir, '/');
        if (!slash) return 0;
        if (slash == dir) slash[1] = 0; else *slash = 0;
    }
}

static char *trim(char *s)
{
    while (*s == ' ' || *s == '\t') s++;
    size_t n = strlen(s);
    while (n && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r' || s[n - 1] == '\n')) s[--n] = 0;
    return s;
}

int lint_config_load(LintConfig *cfg, const char *file, char *err, size_t errlen)
{
    FILE *f = fopen(file, "r");
    if (!f) { snprintf(err, errlen, "cannot read '%s'", file); return 0; }
    char line[512];
    int ln = 0, ok = 1;
    while (ok && fgets(line, sizeof line, f)) {
        ln++;
        char *hash = strchr(line, '#');
        if (hash) *hash = 0;
        char *sl = strstr(line, "//");
        if (sl) *sl = 0;
        char *s = trim(line);
        if (!*s) continue;
        char *eq = strchr(s, '=');
        if (!eq) {
            snprintf(err, errlen, "%s:%d: expected `CODE = off|warning|error`", file, ln);
            ok = 0;
            break;
        }
        *eq = 0;
        char *code = trim(s), *val = trim(eq + 1);
        int i = code_index(code);
        if (i < 0) {
            snprintf(err, errlen, "%s:%d: unknown lint code '%.16s' (L001 to %s)", file, ln, code,
                     code_names[LINT__COUNT - 1]);
            ok = 0;
        } else if (!strcmp(val, "off")) cfg->sev[i] = LINT_OFF;
        else if (!strcmp(val, "warning")) cfg->sev[i] = SEV_WARNING;
        else if (!strcmp(val, "error")) cfg->sev[i] = SEV_ERROR;
        else {
            snprintf(err, errlen, "%s:%d: '%.16s' is not a severity (off, warning or error)", file, ln, val);
            ok = 0;
        }
    }
    fclose(f);
    return ok;
}

/* ---- the lint context ------------------------------------------------------ */


static int in_stdlib(Lint *L, Span sp)
{
    SrcFile *f = src_get(L->p->src, sp.file);
    return !f || f->is_stdlib;
}

Diag *lint_find(Lint *L, LintCode code, Span sp, const char *fmt, ...)
{
    int sev = L->cfg->sev[code];
    if (sev == LINT_OFF || in_stdlib(L, sp)) return NULL;
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    L->count++;
    return diag_emit(L->out, (Severity)sev, code_names[code], sp, "%s", msg);
}

static uint32_t line_of(Lint *L, Span sp)
{
    SrcFile *f = src_get(L->p->src, sp.file);
    uint32_t line = 0, col = 0;
    if (f) src_linecol(f, sp.start, &line, &col);
    return line;
}

/* Visit every node under n (n included), in source order. */
typedef void (*VisitFn)(Lint *L, Node *n, void *ud);

static void visit(Lint *L, Node *n, VisitFn fn, void *ud)
{
    for (; n; n = n->next) {
        fn(L, n, ud);
        if (n->a) visit(L, n->a, fn, ud);
        if (n->b && !(n->kind == N_ACTION && n->op == ACT_TASK)) visit(L, n->b, fn, ud);
        if (n->c && !(n->kind == N_ACTION && n->op == ACT_TASK)) visit(L, n->c, fn, ud);
        if (n->list) visit(L, n->list, fn, ud);
        if (n->list2) visit(L, n->list2, fn, ud);
        if (n->kind == N_FILE) break;
    }
}

/* visit() walks siblings; this visits one node and its children only. */
static void visit1(Lint *L, Node *n, VisitFn fn, void *ud)
{
    if (!n) return;
    Node *next = n->next;
    n->next = NULL;
    visit(L, n, fn, ud);
    n->next = next;
}

/* A pointer set (open addressing). */
typedef struct PSet { const void **v; uint32_t cap, n; } PSet;

static uint32_t phash(const void *p)
{
    uintptr_t x = (uintptr_t)p;
    x ^= x >> 17; x *= 0xed5ad4bbu; x ^= x >> 11;
    return (uint32_t)x;
}

static int pset_has(const PSet *s, const void *p)
{
    if (!s->cap || !p) return 0;
    for (uint32_t j = phash(p) & (s->cap - 1);; j = (j + 1) & (s->cap - 1)) {
        if (!s->v[j]) return 0;
        if (s->v[j] == p) return 1;
    }
}

static void pset_add(PSet *s, const void *p)
{
    if (!p || pset_has(s, p)) return;
    if ((s->n + 1) * 2 > s->cap) {
        uint32_t nc = s->cap ? s->cap * 2 : 64;
        const void **nv = dna_malloc(sizeof(void *) * nc);
        if (!nv) return;
        memset(nv, 0, sizeof(void *) * nc);
        for (uint32_t i = 0; i < s->cap; i++) {
            if (!s->v[i]) continue;
            uint32_t j = phash(s->v[i]) & (nc - 1);
            while (nv[j]) j = (j + 1) & (nc - 1);
            nv[j] = s->v[i];
        }
        dna_free(s->v, sizeof(void *) * s->cap);
        s->v = nv;
        s->cap = nc;
    }
    uint32_t j = phash(p) & (s->cap - 1);
    while (s->v[j]) j = (j + 1) & (s->cap - 1);
    s->v[j] = p;
    s->n++;
}

static void pset_free(PSet *s) { dna_free(s->v, sizeof(void *) * s->cap); memset(s, 0, sizeof *s); }

/* ---- constant folding ------------------------------------------------------- */


const Val lint_unknown = { V_UNKNOWN, 0, NULL };

Val lint_vnum(int64_t v, int ok)
{
    Val r = { ok ? V_NUM : V_UNKNOWN, v, NULL };
    return r;
}

static Val vbool(int b)
{
    Val r = { V_BOOL, b != 0, NULL };
    return r;
}

static Val scaled(int64_t v)
{
    int ok = v <= INT64_MAX / 1000 && v >= INT64_MIN / 1000;
    return lint_vnum(ok ? v * 1000 : 0, ok);
}

static Sym *const_sym(const Node *n)
{
    if (n->kind == N_NAME && n->sym && ((Sym *)n->sym)->kind == SYM_CONST) return n->sym;
    if (n->kind == N_MEMBER && n->a && n->a->ty && n->a->ty->kind == TY_MODULE && n->sym &&
        ((Sym *)n->sym)->kind == SYM_CONST)
        return n->sym;
    return NULL;
}

int lint_same_val(Val a, Val b)
{
    if (a.k != b.k) return 0;
    switch (a.k) {
    case V_STR: return !strcmp(a.s, b.s);
    case V_ENUM: return a.s == b.s;
    case V_NULL: return 1;
    default: return a.num == b.num;
    }
}

Val lint_fold(const Node *n, int depth)
{
    if (!n || depth > 64) return lint_unknown;
    switch ((NodeKind)n->kind) {
    case N_INT: return scaled(n->num);
    case N_DECIMAL: return lint_vnum(n->num, 1);
    case N_DURATION: return scaled(n->num);
    case N_TIMEOFDAY: return scaled(n->num);
    case N_BOOL: return vbool((int)n->num);
    case N_NONE: { Val v = { V_NULL, 0, NULL }; return v; }
    case N_STRING:
        if (n->flags & 1) return lint_unknown;
        { Val v = { V_STR, 0, n->name ? n->name : "" }; return v; }
    case N_NAME: case N_MEMBER: {
        if (n->kind == N_NAME && (n->flags & 1)) { Val v = { V_ENUM, 0, n->name }; return v; }
        Sym *s = const_sym(n);
        return s && s->decl ? lint_fold(s->decl->a, depth + 1) : lint_unknown;
    }
    case N_UNARY: {
        Val a = lint_fold(n->a, depth + 1);
        if (n->op == OP_NOT) return a.k == V_BOOL ? vbool(!a.num) : lint_unknown;
        return a.k == V_NUM && a.num != INT64_MIN ? lint_vnum(-a.num, 1) : lint_unknown;
    }
    case N_BINARY: {
        Op op = (Op)n->op;
        Val a = lint_fold(n->a, depth + 1);
        if (op == OP_AND || op == OP_OR) {
            Val b = lint_fold(n->b, depth + 1);
            int stop = op == OP_OR;             /* the value that decides alone */
            if ((a.k == V_BOOL && a.num == stop) || (b.k == V_BOOL && b.num == stop)) return vbool(stop);
            if (a.k == V_BOOL && b.k == V_BOOL) return vbool(!stop);
            return lint_unknown;
        }
        if (op == OP_IN) {
            if (a.k == V_UNKNOWN || n->b->kind != N_LIST) return lint_unknown;
            for (const Node *x = n->b->list; x; x = x->next) {
                Val v = lint_fold(x, depth + 1);
                if (v.k == V_UNKNOWN) return lint_unknown;
                if (lint_same_val(a, v)) return vbool(1);
            }
            return vbool(0);
        }
        Val b = lint_fold(n->b, depth + 1);
        if (a.k == V_UNKNOWN || b.k == V_UNKNOWN) return lint_unknown;
        switch (op) {
        case OP_EQ: return vbool(lint_same_val(a, b));
        case OP_NE: return vbool(!lint_same_val(a, b));
        case OP_LT: case OP_LE: case OP_GT: case OP_GE: {
            int c;
            if (a.k == V_NUM && b.k == V_NUM) c = a.num < b.num ? -1 : a.num > b.num;
            else if (a.k == V_STR && b.k == V_STR) c = strcmp(a.s, b.s);
            else return lint_unknown;
            return vbool(op == OP_LT ? c < 0 : op == OP_LE ? c <= 0 : op == OP_GT ? c > 0 : c >= 0);
        }
        case OP_CONTAINS:
            if (a.k == V_STR && b.k == V_STR) return vbool(strstr(a.s, b.s) != NULL);
            return lint_unknown;
        case OP_ADD: case OP_SUB: case OP_MUL: case OP_DIV: case OP_MOD: {
            if (a.k != V_NUM || b.k != V_NUM) return lint_unknown;
            int64_t r;
            if (op == OP_ADD) return !__builtin_add_overflow(a.num, b.num, &r) ? lint_vnum(r, 1) : lint_unknown;
            if (op == OP_SUB) return !__builtin_sub_overflow(a.num, b.num, &r) ? lint_vnum(r, 1) : lint_unknown;
            if (op == OP_MUL) {
                if (__builtin_mul_overflow(a.num, b.num, &r)) return lint_unknown;
                return lint_vnum(r / 1000, 1);
            }
            if (b.num == 0) return lint_unknown;
            if (op == OP_DIV) {
                if (__builtin_mul_overflow(a.num, (int64_t)1000, &r)) return lint_unknown;
                return lint_vnum(r / b.num, 1);
            }
            return a.num % 1000 || b.num % 1000 ? lint_unknown : lint_vnum((a.num / 1000) % (b.num / 1000) * 1000, 1);
        }
        default: return lint_unknown;
        }
    }
    default: return lint_unknown;
    }
}

void lint_fmt_val(char *buf, size_t n, Val v)
{
    if (v.k == V_NUM) {
        int64_t ip = v.num / 1000, fp = v.num % 1000;
        if (fp < 0) fp = -fp;
        if (!fp) snprintf(buf, n, "%lld", (long long)ip);
        else {
            int k = snprintf(buf, n, "%s%lld.%03lld", v.num < 0 && ip == 0 ? "-" : "", (long long)ip, (long long)fp);
            while (k > 0 && (size_t)k < n && buf[k - 1] == '0') buf[--k] = 0;
        }
    } else if (v.k == V_BOOL) snprintf(buf, n, "%s", v.num ? "true" : "false");
    else if (v.k == V_STR) snprintf(buf, n, "\"%s\"", v.s);
    else if (v.k == V_ENUM) snprintf(buf, n, "%s", v.s);
    else snprintf(buf, n, "none");
}

/* ---- L002 / L003: constant conditions ------------------------------------------ */

static void const_cond(Lint *L, const Node *cond, const char *what, const char *never)
{
    if (!cond) return;
    Val v = lint_fold(cond, 0);
    if (v.k != V_BOOL) return;
    if (!v.num) {
        Diag *g = lint_find(L, LINT_L002, cond->span, "this condition is always false: %s", never);
        diag_help(g, "the condition depends only on literals and consts; fix it or remove the %s", what);
    } else {
        Diag *g = lint_find(L, LINT_L003, cond->span, "this condition is always true");
        diag_help(g, "remove the `when`, or make it depend on the event or the %s's state", what);
    }
}

static void lint_conditions(Lint *L)
{
    FOR_DECLS(L, d) {
        switch ((NodeKind)d->kind) {
        case N_SCORE:
            for (Node *r = d->list; r; r = r->next) const_cond(L, r->b, "rule", "the rule never adds points");
            break;
        case N_INTENT:
            for (Node *c = d->list; c; c = c->next)
                for (Node *r = c->list; r; r = r->next) const_cond(L, r->b, "rule", "the rule never adds points");
            break;
        case N_SIGNAL:
            for (Node *x = d->list; x; x = x->next)
                if (x->kind == N_ON) const_cond(L, x->b, "signal", "the signal is never raised");
            break;
        case N_ROUTE:
            for (Node *x = d->list; x; x = x->next)
                if (x->kind == N_WHEN) const_cond(L, x->a, "route", "no entity is ever routed");
            break;
        case N_WORKFLOW:
            for (Node *x = d->list; x; x = x->next)
                if (x->kind == N_WHEN) const_cond(L, x->a, "workflow", "the workflow never runs");
            break;
        case N_SOURCE:
            for (Node *x = d->list; x; x = x->next)
                if (x->kind == N_MAP) const_cond(L, x->a, "map", "the map never produces its event");
            break;
        case N_SEQUENCE:
            for (Node *x = d->list; x; x = x->next)
                if (x->kind == N_EXIT) const_cond(L, x->a, "sequence", "the sequence never exits this way");
            break;
        default: break;
        }
    }
}

/* ---- L001: events no source produces ---------------------------------------------- */

static void collect_emits(Lint *L, Node *n, void *ud)
{
    (void)L;
    if (n->kind == N_ACTION && n->op == ACT_EMIT) pset_add(ud, n->name);
}

static void never_produced(Lint *L, PSet *produced, const Node *on, const char *what)
{
    if (!on || on->kind != N_NAME || pset_has(produced, on->name)) return;
    Diag *g = lint_find(L, LINT_L001, on->span, "no source produces '%s': this %s can never fire", on->name, what);
    diag_help(g, "map it in a source (`map %s { ... }` or `events %s`), or emit it from a workflow", on->name,
              on->name);
}

static void lint_unproduced(Lint *L)
{
    PSet produced = { 0 };
    int nsources = 0;
    FOR_DECLS(L, d) {
        if (d->kind == N_SOURCE) {
            nsources++;
            for (Node *x = d->list; x; x = x->next) {
                if (x->kind == N_MAP) pset_add(&produced, x->name);
                if (x->kind == N_EVENTS)
                    for (Node *e = x->list; e; e = e->next) pset_add(&produced, e->name);
            }
        } else if (d->kind != N_TEST) {
            visit1(L, d, collect_emits, &produced);
        }
    }
    if (nsources) {
        FOR_DECLS(L, d) {
            switch ((NodeKind)d->kind) {
            case N_SCORE:
                for (Node *r = d->list; r; r = r->next) never_produced(L, &produced, r->a, "rule");
                break;
            case N_INTENT:
                for (Node *c = d->list; c; c = c->next)
                    for (Node *r = c->list; r; r = r->next) never_produced(L, &produced, r->a, "rule");
                break;
            case N_SIGNAL:
                for (Node *x = d->list; x; x = x->next)
                    if (x->kind == N_ON) never_produced(L, &produced, x->a, "signal");
                break;
            case N_WORKFLOW:
                for (Node *x = d->list; x; x = x->next)
                    if (x->kind == N_TRIGGER && x->op == TRIG_EVENT) never_produced(L, &produced, x->a, "workflow");
                break;
            case N_SEQUENCE:
                for (Node *x = d->list; x; x = x->next)
                    if (x->kind == N_EXIT) never_produced(L, &produced, x->b, "exit");
                break;
            default: break;
            }
        }
    }
    pset_free(&produced);
}

/* ---- L004: duplicate rules ------------------------------------------------------------- */

static int same_tree(const Node *a, const Node *b);

static int same_list(const Node *a, const Node *b)
{
    for (; a && b; a = a->next, b = b->next)
        if (!same_tree(a, b)) return 0;
    return !a && !b;
}

static int same_tree(const Node *a, const Node *b)
{
    if (!a || !b) return a == b;
    return a->kind == b->kind && a->op == b->op && a->flags == b->flags && a->num == b->num &&
           a->name == b->name && a->name2 == b->name2 && same_tree(a->a, b->a) && same_tree(a->b, b->b) &&
           same_tree(a->c, b->c) && same_list(a->list, b->list) && same_list(a->list2, b->list2);
}

static void dup_rules(Lint *L, Node *rules)
{
    for (Node *r = rules; r; r = r->next)
        for (Node *q = rules; q != r; q = q->next)
            if (same_tree(q->a, r->a) && same_tree(q->b, r->b) && same_tree(q->c, r->c)) {
                Diag *g = lint_find(L, LINT_L004, r->span, "this rule repeats the rule on line %u: same event, "
                               "condition and points", line_of(L, q->span));
                diag_help(g, "every matching event now counts twice; remove one of them");
                break;
            }
}

static void lint_duplicates(Lint *L)
{
    FOR_DECLS(L, d) {
        if (d->kind == N_SCORE) dup_rules(L, d->list);
        else if (d->kind == N_INTENT)
            for (Node *c = d->list; c; c = c->next) dup_rules(L, c->list);
    }
}

/* ---- L005 / L010: match arms ------------------------------------------------------------- */

typedef struct Iv { int64_t lo, hi; } Iv;          /* closed, in thousandths */

#define IV_MAX 256

/* The numbers an arm takes, as up to two intervals; 0 when unknown. */
static int arm_intervals(const Node *arm, Iv out[2])
{
    if (!arm->a) { out[0].lo = INT64_MIN; out[0].hi = INT64_MAX; return 1; }
    Val v = lint_fold(arm->a, 0);
    if (v.k != V_NUM) return 0;
    int64_t x = v.num;
    switch ((Op)arm->op) {
    case OP_NONE: case OP_EQ: out[0].lo = out[0].hi = x; return 1;
    case OP_GE: out[0].lo = x; out[0].hi = INT64_MAX; return 1;
    case OP_GT: if (x == INT64_MAX) return 0; out[0].lo = x + 1; out[0].hi = INT64_MAX; return 1;
    case OP_LE: out[0].lo = INT64_MIN; out[0].hi = x; return 1;
    case OP_LT: if (x == INT64_MIN) return 0; out[0].lo = INT64_MIN; out[0].hi = x - 1; return 1;
    case OP_NE:
        if (x == INT64_MIN || x == INT64_MAX) return 0;
        out[0].lo = INT64_MIN; out[0].hi = x - 1; out[1].lo = x + 1; out[1].hi = INT64_MAX;
        return 2;
    default: return 0;
    }
}

static int covered(const Iv *u, int nu, Iv want)
{
    int64_t at = want.lo;
    for (;;) {
        int moved = 0;
        for (int i = 0; i < nu; i++)
            if (u[i].lo <= at && at <= u[i].hi) {
                if (u[i].hi >= want.hi) return 1;
                at = u[i].hi + 1;
                moved = 1;
            }
        if (!moved) return 0;
    }
}

static void arm_text(char *buf, size_t n, const Node *arm)
{
    if (!arm->a) { snprintf(buf, n, "_"); return; }
    char v[64];
    lint_fmt_val(v, sizeof v, lint_fold(arm->a, 0));
    snprintf(buf, n, "%s%s%s", arm->op ? ast_op_text((Op)arm->op) : "", arm->op ? " " : "", v);
}

static void match_numeric(Lint *L, const Node *m, int optional)
{
    Iv u[IV_MAX];
    int nu = 0, none = 0;
    for (const Node *arm = m->list; arm; arm = arm->next) {
        Iv mine[2];
        int k = arm_intervals(arm, mine);
        if (arm->a && arm->op == OP_NONE && lint_fold(arm->a, 0).k == V_NULL) { none = 1; continue; }
        if (!k) continue;
        int all = 1;
        for (int i = 0; i < k; i++) all &= covered(u, nu, mine[i]);
        if (all && !arm->a && optional && !none) all = 0;        /* `_` still takes none */
        if (all && nu) {
            /* name the single earlier arm that covers it, when there is one */
            const Node *by = NULL;
            for (const Node *q = m->list; q != arm && !by; q = q->next) {
                Iv qi[2];
                int qk = arm_intervals(q, qi);
                int ok = qk > 0;
                for (int i = 0; i < k && ok; i++) ok = covered(qi, qk, mine[i]);
                if (ok) by = q;
            }
            char t[96];
            Diag *g;
            if (by) {
                arm_text(t, sizeof t, by);
                g = lint_find(L, LINT_L005, arm->span, "this arm can never match: the arm `%s` on line %u "
                         "already takes every value it could", t, line_of(L, by->span));
            } else {
                g = lint_find(L, LINT_L005, arm->span, "this arm can never match: the arms before it already "
                         "take every value it could");
            }
            if (!arm->a) diag_help(g, "remove the `_` arm, or make it the only arm for what is left");
            else diag_help(g, "arms are tried in order; put the narrower arm first (e.g. `>= 40` before `>= 20`)");
        }
        for (int i = 0; i < k && nu < IV_MAX; i++) u[nu++] = mine[i];
    }
}

/* Equality arms over enums, strings and bools. */
static void match_values(Lint *L, const Node *m, const Type *st)
{
    const Type *sb = ty_base((Type *)st);
    int nvals = sb->kind == TY_ENUM ? sb->nvalues : sb->kind == TY_BOOL ? 2 : -1;
    int optional = st->optional;
    int none = 0, ncov = 0;
    const Node *wild = NULL;
    for (const Node *arm = m->list; arm; arm = arm->next) {
        if (wild) {
            Diag *g = lint_find(L, LINT_L005, arm->span, "this arm can never match: `_` on line %u takes every value",
                           line_of(L, wild->span));
            diag_help(g, "move the `_` arm to the end");
            continue;
        }
        if (!arm->a) {
            if (nvals > 0 && ncov >= nvals && (!optional || none)) {
                Diag *g = lint_find(L, LINT_L005, arm->span, "this arm can never match: the arms before it "
                               "cover every value");
                diag_help(g, "remove the `_` arm");
            }
            wild = arm;
            continue;
        }
        if (arm->op != OP_NONE && arm->op != OP_EQ) continue;
        Val v = lint_fold(arm->a, 0);
        if (v.k == V_UNKNOWN) continue;
        if (v.k == V_NULL) { none = 1; continue; }
        const Node *dup = NULL;
        for (const Node *q = m->list; q != arm && !dup; q = q->next)
            if (q->a && (q->op == OP_NONE || q->op == OP_EQ) && lint_same_val(lint_fold(q->a, 0), v)) dup = q;
        if (dup) {
            char t[96];
            lint_fmt_val(t, sizeof t, v);
            Diag *g = lint_find(L, LINT_L005, arm->span, "this arm can never match: %s is taken by the arm on line %u",
                           t, line_of(L, dup->span));
            diag_help(g, "remove one of the two arms");
            continue;
        }
        ncov++;
    }
}

static void missing_values(char *buf, size_t n, const Type *eb, const char *const *have, int nhave)
{
    size_t off = 0;
    int shown = 0, total = 0;
    buf[0] = 0;
    for (int i = 0; i < eb->nvalues; i++) {
        int found = 0;
        for (int j = 0; j < nhave; j++) found |= have[j] == eb->values[i];
        if (found) continue;
        total++;
        if (shown < 6 && off < n - 40) {
            off += (size_t)snprintf(buf + off, n - off, "%s%s", shown ? ", " : "", eb->values[i]);
            shown++;
        }
    }
    if (total > shown) snprintf(buf + off, n - off, " and %d more", total - shown);
}

static void match_exhaustive(Lint *L, const Node *m)
{
    const Type *st = m->a->ty;
    if (!st) return;
    const Type *eb = ty_base((Type *)st);
    if (eb->kind != TY_ENUM) return;
    const char *have[256];
    int nhave = 0;
    for (const Node *arm = m->list; arm; arm = arm->next) {
        if (!arm->a) return;
        if (arm->op != OP_NONE && arm->op != OP_EQ) continue;
        Val v = lint_fold(arm->a, 0);
        if (v.k == V_ENUM && nhave < 256) have[nhave++] = v.s;
    }
    char miss[256];
    missing_values(miss, sizeof miss, eb, have, nhave);
    if (!miss[0]) return;
    Diag *g = lint_find(L, LINT_L010, m->a->span, "this match has no `_` arm and does not cover: %s", miss);
    diag_help(g, "add arms for the missing values, or `_ -> ...` for the rest");
}

static void match_visit(Lint *L, Node *n, void *ud)
{
    (void)ud;
    if (n->kind != N_MATCH || !n->a || !n->a->ty) return;
    const Type *st = n->a->ty;
    const Type *sb = ty_base((Type *)st);
    if (sb->kind == TY_INT || sb->kind == TY_DECIMAL || sb->kind == TY_SCORE || sb->kind == TY_DURATION)
        match_numeric(L, n, st->optional);
    else if (sb->kind == TY_ENUM || sb->kind == TY_BOOL || sb->kind == TY_STRING)
        match_values(L, n, st);
    match_exhaustive(L, n);
}

static void route_arms(Lint *L, Node *route)
{
    int has_else = 0;
    for (Node *x = route->list; x; x = x->next) has_else |= x->kind == N_ELSE;
    for (Node *x = route->list; x; x = x->next) {
        if (x->kind != N_RMATCH) continue;
        const Node *wild = NULL;
        const char *have[256];
        int nhave = 0;
        for (Node *arm = x->list; arm; arm = arm->next) {
            if (wild) {
                Diag *g = lint_find(L, LINT_L005, arm->span, "this arm can never match: `_` on line %u takes every "
                               "value", line_of(L, wild->span));
                diag_help(g, "move the `_` arm to the end");
                continue;
            }
            if (!arm->a) wild = arm;
            else if (nhave < 256) have[nhave++] = arm->a->name;
        }
        const Type *st = x->a ? x->a->ty : NULL;
        if (wild || has_else || !st || ty_base((Type *)st)->kind != TY_ENUM) continue;
        char miss[256];
        missing_values(miss, sizeof miss, ty_base((Type *)st), have, nhave);
        if (!miss[0]) continue;
        Diag *g = lint_find(L, LINT_L010, x->a->span, "this route match has no `_` arm, the route no `else`, and "
                       "it does not cover: %s", miss);
        diag_help(g, "add arms for them, or `else -> notify ...` so that a person decides");
    }
}

static void lint_matches(Lint *L)
{
    FOR_DECLS(L, d) {
        visit1(L, d, match_visit, NULL);
        if (d->kind == N_ROUTE) route_arms(L, d);
    }
}

/* ---- L007: unused declarations ------------------------------------------------------------- */

typedef struct Uses { PSet rules, tests; Program *p; } Uses;

static void mark_use(Lint *L, Node *n, void *ud)
{
    PSet *set = ud;
    Program *p = L->p;
    switch ((NodeKind)n->kind) {
    case N_NAME:
        if (n->sym) {
            Sym *s = n->sym;
            if (s->kind == SYM_CONST || s->kind == SYM_TEAM || s->kind == SYM_CONNECTOR) pset_add(set, s);
        }
        break;
    case N_MEMBER:
        if (const_sym(n)) pset_add(set, const_sym(n));
        if (n->a && n->a->kind == N_NAME) pset_add(set, sym_get(&p->global[SYM_CONNECTOR], n->a->name));
        break;
    case N_ACTION:
        if (n->op == ACT_WEBHOOK) pset_add(set, sym_get(&p->global[SYM_CONNECTOR], n->name));
        if (n->op == ACT_ENROLL) pset_add(set, sym_get(&p->global[SYM_SEQUENCE], n->name));
        break;
    case N_STEP: pset_add(set, sym_get(&p->global[SYM_CONNECTOR], n->name2)); break;
    case N_EXPECT:
        if (n->name) {
            pset_add(set, sym_get(&p->global[SYM_CONNECTOR], n->name));
            pset_add(set, sym_get(&p->global[SYM_SEQUENCE], n->name));
        }
        break;
    case N_CALL:
        /* strategy(team, ...): the team is the first argument */
        if (n->list && n->list->kind == N_NAME) pset_add(set, sym_get(&p->global[SYM_TEAM], n->list->name));
        break;
    default: break;
    }
}

/* The declared name inside a declaration's first line, else the whole span. */
static Span name_span(Lint *L, const Node *d, const char *name)
{
    Span sp = d->span;
    SrcFile *f = src_get(L->p->src, sp.file);
    size_t n = strlen(name);
    if (!f) return sp;
    for (uint32_t i = sp.start; i + n <= sp.end && f->text[i] != '\n'; i++) {
        if (memcmp(f->text + i, name, n)) continue;
        char before = i > 0 ? f->text[i - 1] : ' ', after = i + n < f->len ? f->text[i + n] : ' ';
        if (before != ' ' && before != '\t') continue;
        if ((after >= 'a' && after <= 'z') || (after >= 'A' && after <= 'Z') || (after >= '0' && after <= '9') ||
            after == '_')
            continue;
        sp.start = i;
        sp.end = i + (uint32_t)n;
        return sp;
    }
    return sp;
}

static void unused(Lint *L, Uses *u, Sym *s, const char *what, const char *how)
{
    if (!s || !s->decl || pset_has(&u->rules, s)) return;
    Diag *g = lint_find(L, LINT_L007, name_span(L, s->decl, s->name), "%s '%s' is never used%s", what, s->name,
                   pset_has(&u->tests, s) ? " (only tests mention it)" : "");
    diag_help(g, "remove it, or %s", how);
}

static void lint_unused(Lint *L)
{
    Uses u = { { 0 }, { 0 }, L->p };
    FOR_DECLS(L, d) visit1(L, d, mark_use, d->kind == N_TEST ? &u.tests : &u.rules);
    Program *p = L->p;
    FOR_DECLS(L, d) {
        Sym *s = d->sym;
        if (!s || s->decl != d) continue;
        switch ((NodeKind)d->kind) {
        case N_CONST: unused(L, &u, s, "const", "use it in a rule"); break;
        case N_TEAM: unused(L, &u, s, "team", "assign to it, e.g. `assign round_robin(TEAM)`"); break;
        case N_CONNECTOR: unused(L, &u, s, "connector", "notify, call or webhook through it"); break;
        case N_SEQUENCE: unused(L, &u, s, "sequence", "enroll entities with `enroll in NAME`"); break;
        default: break;
        }
    }
    (void)p;
    pset_free(&u.rules);
    pset_free(&u.tests);
}

/* ---- L009: uncapped scores on frequent events ------------------------------------------------ */

static void lint_uncapped(Lint *L)
{
    static const char *const frequent[] = { "page_visit", "email_open", "email_click" };
    FOR_DECLS(L, d) {
        if (d->kind != N_SCORE) continue;
        for (Node *r = d->list; r; r = r->next) {
            if (r->a->kind != N_NAME) continue;
            int hot = 0;
            for (size_t i = 0; i < sizeof frequent / sizeof *frequent; i++) hot |= !strcmp(r->a->name, frequent[i]);
            if (!hot) continue;
            int capped = 0;
            for (Node *o = r->list; o; o = o->next) capped |= o->kind == N_LIMIT;
            if (capped) continue;
            Diag *g = lint_find(L, LINT_L009, r->a->span, "score rule on '%s' has no limit: a busy visitor inflates "
                           "the score without bound", r->a->name);
            diag_help(g, "add a cap, e.g. `limit 1 per day` or `limit 3 per %s`", d->name2);
        }
    }
}

/* ---- L011: teams no member of which can take the lead --------------------------------------- */

static const Node *member_opt(const Node *m, const char *key)
{
    for (const Node *o = m->list; o; o = o->next)
        if (!strcmp(o->name, key)) return o->a;
    return NULL;
}

static const char *item_name(const Node *x)
{
    return x->kind == N_NAME ? x->name : x->kind == N_STRING && !(x->flags & 1) ? x->name : NULL;
}

static int has_skill(const Node *m, const char *skill)
{
    const Node *l = member_opt(m, "skills");
    if (!l || l->kind != N_LIST) return 0;
    for (const Node *x = l->list; x; x = x->next)
        if (item_name(x) && !strcmp(item_name(x), skill)) return 1;
    return 0;
}

static void strategy_visit(Lint *L, Node *n, void *ud)
{
    (void)ud;
    if (n->kind != N_ACTION || n->op != ACT_ASSIGN || !n->a || n->a->kind != N_CALL) return;
    Node *call = n->a;
    if (call->a->kind != N_NAME || !call->list || call->list->kind != N_NAME) return;
    const char *strat = call->a->name;
    Sym *ts = sym_get(&L->p->global[SYM_TEAM], call->list->name);
    if (!ts || !ts->decl) return;
    const Node *team = ts->decl;
    const Node *region = NULL, *skills = NULL;
    for (Node *a = call->list->next; a; a = a->next) {
        if (a->kind != N_NAMEDARG) continue;
        if (!strcmp(a->name, "region")) region = a;
        if (!strcmp(a->name, "skills")) skills = a->a;
    }
    if (region || !strcmp(strat, "territory")) {
        int any = 0;
        for (const Node *m = team->list; m; m = m->next) any |= member_opt(m, "region") != NULL;
        if (!any) {
            Diag *g = lint_find(L, LINT_L011, call->span, "%s() matches a region, but no member of team '%s' has one",
                           strat, ts->name);
            diag_help(g, "give the members a region, e.g. `member \"ana@example.com\" region \"EU\"`");
        }
    }
    if (!strcmp(strat, "skill_based") && skills && skills->kind == N_LIST) {
        int able = 0;
        for (const Node *m = team->list; m && !able; m = m->next) {
            int all = 1;
            for (const Node *s = skills->list; s && all; s = s->next) all = item_name(s) && has_skill(m, item_name(s));
            able = all;
        }
        if (!able) {
            char list[256];
            size_t off = 0;
            list[0] = 0;
            for (const Node *s = skills->list; s && off < sizeof list - 40; s = s->next)
                off += (size_t)snprintf(list + off, sizeof list - off, "%s%s", off ? ", " : "",
                                        item_name(s) ? item_name(s) : "?");
            Diag *g = lint_find(L, LINT_L011, call->span, "no member of team '%s' has every skill of [%s]", ts->name, list);
            diag_help(g, "skill_based needs one member with all the listed skills; add them with `skills [...]`");
        }
    }
}

static void lint_teams(Lint *L)
{
    FOR_DECLS(L, d)
        if (d->kind != N_TEST) visit1(L, d, strategy_visit, NULL);
}

/* ---- driver ---------------------------------------------------------------------------- */

uint32_t lint_program(Program *p, const LintConfig *cfg, DiagList *out)
{
    Lint L = { p, cfg, out, 0 };
    lint_unproduced(&L);        /* L001 */
    lint_conditions(&L);        /* L002, L003 */
    lint_duplicates(&L);        /* L004 */
    lint_matches(&L);           /* L005, L010 */
    lint_thresholds(&L);        /* L006 */
    lint_unused(&L);            /* L007 */
    lint_cycles(&L);            /* L008 */
    lint_uncapped(&L);          /* L009 */
    lint_teams(&L);             /* L011 */
    return L.count;
}
