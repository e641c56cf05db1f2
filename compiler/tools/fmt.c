/*
 * fmt.c - printing a syntax tree back in the canonical layout (fmt.h).
 *
 * The printer walks the tree and writes tokens into a buffer.  Comments are
 * not in the tree: they sit on a list ordered by position, and the printer
 * flushes every comment that lies before the node it is about to print.  A
 * comment that shares its source line with code before it stays at the end
 * of that line; one that stood on its own line is printed on its own line
 * before the next element.  Choices that depend on width (one line or
 * several, where a list wraps) are made by printing the short form, then
 * undoing it when it does not fit (Mark / undo).
 *
 * Indentation is by column: a block's elements are indented two spaces
 * from the line that opened it, so a `match` inside an action aligned under
 * `do` still nests properly.
 */
#include "tools/fmt.h"

#include <stdio.h>
#include <string.h>

typedef struct Fmt {
    char *buf;
    size_t n, cap;
    int oom;
    const char *src;
    uint32_t srclen;
    const Comment *cm;      /* next comment not yet printed */
    int ind;                /* indentation (spaces) of new element lines */
    int line_ind;           /* indentation of the current line */
    int pad;                /* >= 0: indentation of the next line instead of ind */
    int col;                /* current column in code points */
    int at_bol;             /* nothing printed on this line yet */
    int space;              /* a space is due before the next token */
    int line_cmt;           /* a // comment ends this line */
    int fresh;              /* a block just opened: no blank line before its first element */
    int in_hole;            /* printing a template hole: a string is one line, so nothing wraps */
} Fmt;

typedef struct Mark {
    size_t n;
    int ind, line_ind, pad, col, at_bol, space, line_cmt, fresh;
    const Comment *cm;
} Mark;

/* ---- output ------------------------------------------------------------ */

static void raw(Fmt *F, const char *s, size_t n)
{
    if (F->oom) return;
    if (F->n + n + 1 > F->cap) {
        size_t nc = F->cap ? F->cap : 4096;
        while (nc < F->n + n + 1) nc *= 2;
        char *nb = dna_realloc(F->buf, F->cap, nc);
        if (!nb) { F->oom = 1; return; }
        F->buf = nb;
        F->cap = nc;
    }
    memcpy(F->buf + F->n, s, n);
    F->n += n;
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '\n') F->col = 0;
        else if (((unsigned char)s[i] & 0xC0) != 0x80) F->col++;
    }
}

static void newline(Fmt *F)
{
    raw(F, "\n", 1);
    F->at_bol = 1;
    F->space = 0;
    F->line_cmt = 0;
}

static void emit(Fmt *F, const char *s, size_t n)
{
    if (F->line_cmt) {                      /* a // comment mid-line: continue below */
        int cont = F->ind + 4;
        newline(F);
        F->pad = cont;
    }
    if (F->at_bol) {
        int k = F->pad >= 0 ? F->pad : F->ind;
        F->pad = -1;
        for (int i = 0; i < k; i++) raw(F, " ", 1);
        F->line_ind = k;
        F->at_bol = 0;
        F->space = 0;
    } else if (F->space) {
        raw(F, " ", 1);
        F->space = 0;
    }
    raw(F, s, n);
}

static void put(Fmt *F, const char *s) { emit(F, s, strlen(s)); }
static void sp(Fmt *F) { if (!F->at_bol) F->space = 1; }
static void putsp(Fmt *F, const char *s) { put(F, s); sp(F); }

static void blank(Fmt *F)
{
    if (!F->at_bol) newline(F);
    if (F->n == 0 || (F->n >= 2 && F->buf[F->n - 1] == '\n' && F->buf[F->n - 2] == '\n')) return;
    newline(F);
}

static Mark mark(const Fmt *F)
{
    Mark m = { F->n, F->ind, F->line_ind, F->pad, F->col, F->at_bol, F->space, F->line_cmt, F->fresh, F->cm };
    return m;
}

static void undo(Fmt *F, Mark m)
{
    F->n = m.n;
    F->ind = m.ind; F->line_ind = m.line_ind; F->pad = m.pad; F->col = m.col;
    F->at_bol = m.at_bol; F->space = m.space; F->line_cmt = m.line_cmt; F->fresh = m.fresh;
    F->cm = m.cm;
}

/* The first output line after the mark runs past the width. */
static int overflows(const Fmt *F, Mark m)
{
    if (F->in_hole) return 0;
    int col = m.col;
    for (size_t i = m.n; i < F->n; i++) {
        unsigned char c = (unsigned char)F->buf[i];
        if (c == '\n') return col > FMT_WIDTH;
        if ((c & 0xC0) != 0x80) col++;
    }
    return col > FMT_WIDTH;
}

/* What was printed since the mark is one line, fits, and took no comment. */
static int fits(const Fmt *F, Mark m)
{
    if (F->oom || F->cm != m.cm || F->line_cmt || overflows(F, m)) return 0;
    return memchr(F->buf + m.n, '\n', F->n - m.n) == NULL;
}

/* ---- comments ---------------------------------------------------------- */

static int is_ws(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\f' || c == '\v'; }

/* Nothing but blanks before the comment on its source line. */
static int first_on_line(const Fmt *F, const Comment *c)
{
    uint32_t i = c->span.start;
    while (i > 0 && is_ws(F->src[i - 1]) && F->src[i - 1] != '\n') i--;
    return i == 0 || F->src[i - 1] == '\n';
}

/* An empty line right before `pos` in the source (not at the file start). */
static int blank_before(const Fmt *F, uint32_t pos)
{
    int nls = 0;
    uint32_t i = pos > F->srclen ? F->srclen : pos;
    while (i > 0 && is_ws(F->src[i - 1])) nls += F->src[--i] == '\n';
    return i > 0 && nls >= 2;
}

static int is_line_comment(const Fmt *F, const Comment *c)
{
    return c->span.end - c->span.start >= 2 && F->src[c->span.start + 1] == '/';
}

static void put_comment(Fmt *F, const Comment *c)
{
    uint32_t s = c->span.start, e = c->span.end;
    int line = is_line_comment(F, c);
    if (line) while (e > s && is_ws(F->src[e - 1])) e--;
    emit(F, F->src + s, e - s);
    if (line) F->line_cmt = 1;
    else F->space = 1;
}

/* At a line start: the comments before `pos`, each on its own line unless
 * it followed another comment on the same source line. */
static void cm_lead(Fmt *F, uint32_t pos)
{
    int printed = 0;
    while (F->cm && F->cm->span.start < pos) {
        const Comment *c = F->cm;
        if (printed && !F->at_bol && !F->line_cmt && !first_on_line(F, c)) {
            F->space = 1;
        } else {
            if (!F->at_bol) newline(F);
            if (!F->fresh && blank_before(F, c->span.start)) blank(F);
        }
        put_comment(F, c);
        F->cm = c->next;
        printed = 1;
        F->fresh = 0;
    }
    if (printed && !F->at_bol) newline(F);
}

/* Mid-line: the comments before `pos` go inline (a // comment breaks the
 * line; the code continues on the next one). */
static void cm_inline(Fmt *F, uint32_t pos)
{
    while (F->cm && F->cm->span.start < pos) {
        sp(F);
        put_comment(F, F->cm);
        F->cm = F->cm->next;
    }
}

/* End of an element's line: comments that sat on the same source line. */
static void line_end(Fmt *F, uint32_t limit)
{
    while (F->cm && F->cm->span.start < limit && !first_on_line(F, F->cm)) {
        sp(F);
        put_comment(F, F->cm);
        F->cm = F->cm->next;
        if (F->line_cmt) break;
    }
    newline(F);
}

static void elem_begin(Fmt *F, uint32_t pos, int keep_blank)
{
    cm_lead(F, pos);
    if (keep_blank && !F->fresh && blank_before(F, pos)) blank(F);
    F->fresh = 0;
}

/* ---- blocks -------------------------------------------------------------- */

typedef struct Blk { int saved, opener; uint32_t close; } Blk;

/* Print ` {`; returns 0 after printing `{}` for an empty block. */
static int blk_open(Fmt *F, Blk *k, const Node *first, uint32_t close)
{
    sp(F);
    put(F, "{");
    k->close = close;
    if (!first && !(F->cm && F->cm->span.start < close)) { put(F, "}"); return 0; }
    k->saved = F->ind;
    k->opener = F->line_ind;
    F->ind = k->opener + 2;
    line_end(F, first ? first->span.start : close);
    F->fresh = 1;
    return 1;
}

static void blk_close(Fmt *F, Blk *k)
{
    cm_lead(F, k->close);
    F->ind = k->opener;
    put(F, "}");
    F->ind = k->saved;
}

typedef void (*ItemFn)(Fmt *F, const Node *n);

static void block(Fmt *F, const Node *items, uint32_t close, ItemFn fn)
{
    Blk k;
    if (!blk_open(F, &k, items, close)) return;
    for (const Node *it = items; it; it = it->next) {
        elem_begin(F, it->span.start, 1);
        fn(F, it);
        line_end(F, it->next ? it->next->span.start : close);
    }
    blk_close(F, &k);
}

static uint32_t close_of(const Node *n) { return n->span.end ? n->span.end - 1 : 0; }

/* ---- literals ------------------------------------------------------------ */

static void put_escaped(Fmt *F, const char *s)
{
    char tmp[256];
    size_t k = 0;
    for (; *s; s++) {
        const char *e = NULL;
        switch (*s) {
        case '\\': e = "\\\\"; break;
        case '"': e = "\\\""; break;
        case '\n': e = "\\n"; break;
        case '\t': e = "\\t"; break;
        case '{': e = "\\{"; break;
        case '}': e = "\\}"; break;
        default: break;
        }
        if (k + 3 > sizeof tmp) { raw(F, tmp, k); k = 0; }
        if (e) { memcpy(tmp + k, e, 2); k += 2; }
        else tmp[k++] = *s;
    }
    raw(F, tmp, k);
}

static void expr(Fmt *F, const Node *n);

static void str(Fmt *F, const Node *n)
{
    cm_inline(F, n->span.start);
    put(F, "\"");
    if (n->flags & 1) {
        for (const Node *q = n->list; q; q = q->next) {
            if (q->kind == N_STRPART) { put_escaped(F, q->name ? q->name : ""); continue; }
            raw(F, "{", 1);
            F->in_hole++;
            expr(F, q);
            F->in_hole--;
            raw(F, "}", 1);
        }
    } else {
        put_escaped(F, n->name ? n->name : "");
    }
    raw(F, "\"", 1);
}

static void put_num(Fmt *F, const char *fmt, long long v)
{
    char b[32];
    snprintf(b, sizeof b, fmt, v);
    put(F, b);
}

static void put_decimal(Fmt *F, int64_t th)
{
    char b[48];
    long long ip = (long long)(th / 1000), fp = (long long)(th % 1000);
    int n = snprintf(b, sizeof b, "%lld.%03lld", ip, fp);
    while (n > 0 && b[n - 1] == '0' && b[n - 2] != '.') b[--n] = 0;
    put(F, b);
}

/* ---- expressions ---------------------------------------------------------- */

static int prec(const Node *n)
{
    if (n->kind == N_BINARY) {
        switch ((Op)n->op) {
        case OP_OR: return 1;
        case OP_AND: return 2;
        case OP_ADD: case OP_SUB: return 5;
        case OP_MUL: case OP_DIV: case OP_MOD: return 6;
        default: return 4;                  /* comparisons, contains, in: non-associative */
        }
    }
    if (n->kind == N_UNARY) return n->op == OP_NOT ? 3 : 7;
    return 8;
}

static void expr_min(Fmt *F, const Node *n, int min)
{
    if (prec(n) >= min) { expr(F, n); return; }
    cm_inline(F, n->span.start);
    put(F, "(");
    expr(F, n);
    put(F, ")");
}

static void fill(Fmt *F, const Node *items, ItemFn fn)
{
    int align = F->col;
    for (const Node *it = items; it; it = it->next) {
        if (it == items) { fn(F, it); continue; }
        Mark m = mark(F);
        putsp(F, ",");
        fn(F, it);
        if (overflows(F, m)) {
            undo(F, m);
            put(F, ",");
            newline(F);
            F->pad = align;
            fn(F, it);
        }
    }
}

static void arm(Fmt *F, const Node *a)
{
    if (!a->a) put(F, "_");
    else {
        if (a->op != OP_NONE) putsp(F, ast_op_text((Op)a->op));
        expr(F, a->a);
    }
    sp(F);
    putsp(F, "->");
    expr(F, a->b);
    put(F, ",");
}

static void kv(Fmt *F, const Node *o)
{
    cm_inline(F, o->span.start);
    put(F, o->name);
    putsp(F, ":");
    expr(F, o->a);
}

static void kv_line(Fmt *F, const Node *o) { kv(F, o); put(F, ","); }

static void record(Fmt *F, const Node *r)
{
    cm_inline(F, r->span.start);
    if (!r->list && !(F->cm && F->cm->span.start < close_of(r))) { put(F, "{}"); return; }
    Mark m = mark(F);
    putsp(F, "{");
    for (const Node *o = r->list; o; o = o->next) {
        kv(F, o);
        if (o->next) putsp(F, ",");
    }
    sp(F);
    put(F, "}");
    if (fits(F, m)) return;
    undo(F, m);
    block(F, r->list, close_of(r), kv_line);
}

static void call_arg(Fmt *F, const Node *a)
{
    if (a->kind == N_NAMEDARG) {
        cm_inline(F, a->span.start);
        put(F, a->name);
        putsp(F, ":");
        expr(F, a->a);
    } else {
        expr(F, a);
    }
}

static void expr(Fmt *F, const Node *n)
{
    if (!n) return;
    cm_inline(F, n->span.start);
    switch ((NodeKind)n->kind) {
    case N_INT: put_num(F, "%lld", (long long)n->num); break;
    case N_DECIMAL: put_decimal(F, n->num); break;
    case N_DURATION: emit(F, F->src + n->span.start, n->span.end - n->span.start); break;
    case N_TIMEOFDAY: {
        char b[16];
        snprintf(b, sizeof b, "%02d:%02d", (int)(n->num / 60), (int)(n->num % 60));
        put(F, b);
        break;
    }
    case N_STRING: str(F, n); break;
    case N_BOOL: put(F, n->num ? "true" : "false"); break;
    case N_NONE: put(F, "none"); break;
    case N_NAME: case N_IDENT: put(F, n->name); break;
    case N_EVENTREF: put(F, "event"); break;
    case N_MEMBER:
        expr_min(F, n->a, 8);
        put(F, ".");
        put(F, n->name);
        break;
    case N_CALL:
        expr_min(F, n->a, 8);
        put(F, "(");
        fill(F, n->list, call_arg);
        put(F, ")");
        break;
    case N_NAMEDARG: call_arg(F, n); break;
    case N_UNARY:
        if (n->op == OP_NOT) { putsp(F, "not"); expr_min(F, n->a, 3); }
        else {
            put(F, "-");
            if (n->a->kind == N_UNARY) { put(F, "("); expr(F, n->a); put(F, ")"); }
            else expr_min(F, n->a, 7);
        }
        break;
    case N_BINARY: {
        /* a left-leaning chain (a + b + c ...) is printed without recursing
         * down its spine: such chains can be as long as the file */
        int p = prec(n);
        size_t depth = 1;
        const Node *lhs = n->a;
        if (p != 4)
            while (lhs->kind == N_BINARY && prec(lhs) == p) { lhs = lhs->a; depth++; }
        const Node *small[16], **spine = depth <= 16 ? small : dna_malloc(sizeof(Node *) * depth);
        if (!spine) { F->oom = 1; break; }
        const Node *x = n;
        for (size_t i = 0; i < depth; i++, x = x->a) spine[i] = x;
        expr_min(F, lhs, p == 4 ? p + 1 : p);
        for (size_t k = depth; k-- > 0;) {
            sp(F);
            putsp(F, ast_op_text((Op)spine[k]->op));
            expr_min(F, spine[k]->b, p + 1);
        }
        if (spine != small) dna_free(spine, sizeof(Node *) * depth);
        break;
    }
    case N_LIST:
        put(F, "[");
        fill(F, n->list, expr);
        put(F, "]");
        break;
    case N_RECORD: record(F, n); break;
    case N_MATCH:
        putsp(F, "match");
        expr(F, n->a);
        block(F, n->list, close_of(n), arm);
        break;
    case N_ARM: arm(F, n); break;
    default: break;
    }
}

/* ---- types and small clauses ---------------------------------------------- */

static void type(Fmt *F, const Node *t)
{
    cm_inline(F, t->span.start);
    if (t->a) { put(F, "["); type(F, t->a); put(F, "]"); }
    else if (t->name) put(F, t->name);
    else { put(F, "enum("); fill(F, t->list, expr); put(F, ")"); }
    if (t->num) put(F, "?");
}

static void field(Fmt *F, const Node *f)
{
    put(F, f->name);
    putsp(F, ":");
    type(F, f->a);
    if (f->b) { sp(F); putsp(F, "="); expr(F, f->b); }
}

static void kw_expr(Fmt *F, const char *kw, const Node *e)
{
    putsp(F, kw);
    expr(F, e);
}

static void rule_opt(Fmt *F, const Node *o)
{
    cm_inline(F, o->span.start);
    switch ((NodeKind)o->kind) {
    case N_LIMIT: kw_expr(F, "limit", o->a); sp(F); putsp(F, "per"); put(F, o->name); break;
    case N_EXPIRE: kw_expr(F, "expire", o->a); break;
    case N_DECAY:
        putsp(F, "decay");
        if (o->name) putsp(F, o->name);
        expr(F, o->a);
        break;
    case N_PRIORITY:
        putsp(F, "priority");
        if (o->name) put(F, o->name); else expr(F, o->a);
        break;
    default: break;
    }
}

static void rule(Fmt *F, const Node *r)
{
    kw_expr(F, "on", r->a);
    if (r->b) { sp(F); kw_expr(F, "when", r->b); }
    sp(F);
    kw_expr(F, "add", r->c);
    for (const Node *o = r->list; o; o = o->next) { sp(F); rule_opt(F, o); }
}

static void category(Fmt *F, const Node *c)
{
    put(F, c->name);
    block(F, c->list, close_of(c), rule);
}

static void signal_item(Fmt *F, const Node *x)
{
    switch ((NodeKind)x->kind) {
    case N_ON:
        kw_expr(F, "on", x->a);
        if (x->b) { sp(F); kw_expr(F, "when", x->b); }
        break;
    case N_WEIGHT: kw_expr(F, "weight", x->a); break;
    default: rule_opt(F, x); break;
    }
}

/* ---- actions --------------------------------------------------------------- */

/* `then` between two actions in the source (outside comments). */
static int then_between(const Fmt *F, uint32_t from, uint32_t to)
{
    for (uint32_t i = from; i < to && i < F->srclen; i++) {
        char c = F->src[i];
        if (c == '/' && i + 1 < to && F->src[i + 1] == '/') { while (i < to && F->src[i] != '\n') i++; continue; }
        if (c == '/' && i + 1 < to && F->src[i + 1] == '*') {
            i += 2;
            while (i + 1 < to && !(F->src[i] == '*' && F->src[i + 1] == '/')) i++;
            i++;
            continue;
        }
        if (c == 't' && i + 4 <= to && !memcmp(F->src + i, "then", 4)) return 1;
    }
    return 0;
}

static void action(Fmt *F, const Node *a)
{
    cm_inline(F, a->span.start);
    switch ((ActKind)a->op) {
    case ACT_SET: kw_expr(F, "set", a->a); sp(F); kw_expr(F, "=", a->b); break;
    case ACT_MOVE: kw_expr(F, "move", a->a); sp(F); kw_expr(F, "to", a->b); break;
    case ACT_ASSIGN: kw_expr(F, "assign", a->a); break;
    case ACT_ROUTE: put(F, "route"); break;
    case ACT_PIPELINE: putsp(F, "pipeline"); str(F, a->a); break;
    case ACT_CREATE: putsp(F, "create"); put(F, a->name); break;
    case ACT_TASK:
        putsp(F, "create");
        putsp(F, "task");
        str(F, a->a);
        for (const Node *o = a->list; o; o = o->next) { sp(F); kw_expr(F, o->name, o->a); }
        break;
    case ACT_NOTIFY:
        kw_expr(F, "notify", a->a);
        if (a->b) { sp(F); str(F, a->b); }
        sp(F);
        str(F, a->c);
        break;
    case ACT_WEBHOOK:
        putsp(F, "webhook");
        put(F, a->name);
        if (a->a) { sp(F); str(F, a->a); }
        break;
    case ACT_CALL: kw_expr(F, "call", a->a); break;
    case ACT_ENROLL: putsp(F, "enroll"); putsp(F, "in"); put(F, a->name); break;
    case ACT_EMIT:
        putsp(F, "emit");
        put(F, a->name);
        if (a->a) { sp(F); record(F, a->a); }
        break;
    }
}

static int needs_then(const Fmt *F, const Node *prev, const Node *a)
{
    /* `create task "x" assign y` would read the assign as the task's */
    if (prev->op == ACT_TASK && a->op == ACT_ASSIGN) return 1;
    return then_between(F, prev->span.end, a->span.start);
}

/* Actions after `do` / `->`: on one line when `inline_ok` and they fit,
 * else one per line under the first. */
static void actions(Fmt *F, const Node *acts, int inline_ok)
{
    const Node *prev = NULL;
    if (inline_ok) {
        Mark m = mark(F);
        for (const Node *a = acts; a; prev = a, a = a->next) {
            if (prev) { sp(F); if (needs_then(F, prev, a)) putsp(F, "then"); }
            action(F, a);
        }
        if (fits(F, m)) return;
        undo(F, m);
        prev = NULL;
    }
    int saved = F->ind;
    int align = F->col + (F->space ? 1 : 0);
    for (const Node *a = acts; a; prev = a, a = a->next) {
        if (prev) {
            line_end(F, a->span.start);
            F->ind = align;
            elem_begin(F, a->span.start, 0);
            if (needs_then(F, prev, a)) putsp(F, "then");
        }
        action(F, a);
    }
    F->ind = saved;
}

/* ---- declarations' clauses ---------------------------------------------------- */

static void rarm(Fmt *F, const Node *r)
{
    if (r->a) put(F, r->a->name); else put(F, "_");
    sp(F);
    putsp(F, "->");
    actions(F, r->list, 1);
}

static void route_item(Fmt *F, const Node *x)
{
    switch ((NodeKind)x->kind) {
    case N_WHEN: kw_expr(F, "when", x->a); break;
    case N_RMATCH:
        kw_expr(F, "match", x->a);
        block(F, x->list, close_of(x), rarm);
        break;
    case N_ELSE: putsp(F, "else"); putsp(F, "->"); actions(F, x->list, 1); break;
    case N_DO: putsp(F, "do"); actions(F, x->list, 0); break;
    default: break;
    }
}

static void trigger(Fmt *F, const Node *t)
{
    putsp(F, "on");
    switch ((TrigKind)t->op) {
    case TRIG_EVENT: expr(F, t->a); break;
    case TRIG_CROSSES_ABOVE: case TRIG_CROSSES_BELOW:
        expr(F, t->a);
        sp(F);
        putsp(F, "crosses");
        kw_expr(F, t->op == TRIG_CROSSES_ABOVE ? "above" : "below", t->b);
        break;
    case TRIG_BECOMES: expr(F, t->a); sp(F); kw_expr(F, "becomes", t->b); break;
    case TRIG_CHANGES: expr(F, t->a); sp(F); put(F, "changes"); break;
    case TRIG_STAYS:
        expr(F, t->a); sp(F);
        kw_expr(F, "stays", t->b); sp(F);
        kw_expr(F, "for", t->c);
        break;
    case TRIG_INACTIVE: expr(F, t->a); sp(F); putsp(F, "inactive"); kw_expr(F, "for", t->c); break;
    case TRIG_OVERDUE:
        putsp(F, "alert");
        if (t->name) putsp(F, t->name);
        put(F, "overdue");
        break;
    case TRIG_SCHEDULE: putsp(F, "schedule"); str(F, t->b); break;
    }
}

static void wf_item(Fmt *F, const Node *x)
{
    switch ((NodeKind)x->kind) {
    case N_TRIGGER: trigger(F, x); break;
    case N_WHEN: kw_expr(F, "when", x->a); break;
    case N_MODE: putsp(F, "mode"); put(F, x->name); break;
    case N_PRIORITY: kw_expr(F, "priority", x->a); break;
    case N_DO: putsp(F, "do"); actions(F, x->list, 0); break;
    default: break;
    }
}

static void option(Fmt *F, const Node *o)
{
    cm_inline(F, o->span.start);
    if (!strcmp(o->name, "auth")) { putsp(F, "auth"); putsp(F, o->name2); expr(F, o->a); }
    else if (!strcmp(o->name, "rate")) { kw_expr(F, "rate", o->a); sp(F); putsp(F, "per"); put(F, o->name2); }
    else kw_expr(F, o->name, o->a);
}

static void assign_item(Fmt *F, const Node *a)
{
    expr(F, a->a);
    sp(F);
    kw_expr(F, "=", a->b);
}

static void source_item(Fmt *F, const Node *x)
{
    switch ((NodeKind)x->kind) {
    case N_OPTION: option(F, x); break;
    case N_SIGNATURE:
        putsp(F, "signature");
        put(F, x->name);
        for (const Node *o = x->list; o; o = o->next) { sp(F); option(F, o); }
        break;
    case N_EVENTS: putsp(F, "events"); fill(F, x->list, expr); break;
    case N_MAP:
        putsp(F, "map");
        put(F, x->name);
        if (x->a) { sp(F); kw_expr(F, "when", x->a); }
        block(F, x->list, close_of(x), assign_item);
        break;
    default: break;
    }
}

static void method(Fmt *F, const Node *m)
{
    put(F, m->name);
    put(F, "(");
    fill(F, m->list, call_arg);
    put(F, ")");
    sp(F);
    putsp(F, m->name2);
    str(F, m->a);
    for (const Node *s = m->list2; s; s = s->next) {
        sp(F);
        cm_inline(F, s->span.start);
        putsp(F, "set");
        assign_item(F, s);
    }
}

static void member(Fmt *F, const Node *m)
{
    kw_expr(F, "member", m->a);
    for (const Node *o = m->list; o; o = o->next) { sp(F); option(F, o); }
}

static void chan_limit(Fmt *F, const Node *l)
{
    cm_inline(F, l->span.start);
    putsp(F, l->name);
    expr(F, l->a);
    sp(F);
    putsp(F, "per");
    put(F, l->name2);
}

static void seq_item(Fmt *F, const Node *x)
{
    switch ((NodeKind)x->kind) {
    case N_STEP:
        putsp(F, "step");
        putsp(F, x->name);
        if (x->a) { str(F, x->a); sp(F); }
        putsp(F, "via");
        put(F, x->name2);
        if (x->b) { sp(F); kw_expr(F, "wait", x->b); }
        break;
    case N_CHLIMITS: putsp(F, "limit"); fill(F, x->list, chan_limit); break;
    case N_WINDOW:
        putsp(F, "window");
        put(F, x->name); put(F, ".."); put(F, x->name2);
        sp(F);
        expr(F, x->a); put(F, ".."); expr(F, x->b);
        if (x->c) { sp(F); str(F, x->c); }
        break;
    case N_EXIT:
        putsp(F, "exit");
        if (x->a) kw_expr(F, "when", x->a);
        else kw_expr(F, "on", x->b);
        break;
    default: break;
    }
}

static void test_item(Fmt *F, const Node *x)
{
    switch ((NodeKind)x->kind) {
    case N_GIVEN: putsp(F, "given"); putsp(F, x->name); record(F, x->a); break;
    case N_TEVENT:
        putsp(F, "event");
        putsp(F, x->name);
        putsp(F, "at");
        str(F, x->a);
        if (x->b) { sp(F); record(F, x->b); }
        if (x->c) { sp(F); putsp(F, "for"); record(F, x->c); }
        break;
    case N_TWAIT: kw_expr(F, "wait", x->a); break;
    case N_EXPECT:
        putsp(F, "expect");
        if (x->flags & EXPECT_NEGATED) putsp(F, "no");
        switch ((ExpKind)x->op) {
        case EXP_TRUE: expr(F, x->a); break;
        case EXP_SIGNAL: putsp(F, "signal"); put(F, x->name); break;
        case EXP_ALERT: put(F, "alert"); if (x->name) { sp(F); put(F, x->name); } break;
        case EXP_NOTIFY:
            put(F, "notify");
            if (x->name) { sp(F); put(F, x->name); }
            if (x->b) { sp(F); str(F, x->b); }
            break;
        case EXP_TASK: put(F, "task"); if (x->b) { sp(F); str(F, x->b); } break;
        case EXP_CALL: kw_expr(F, "call", x->a); break;
        case EXP_WEBHOOK: putsp(F, "webhook"); put(F, x->name); break;
        case EXP_EMIT: putsp(F, "emit"); put(F, x->name); break;
        case EXP_ROUTE: put(F, "route"); if (x->b) { sp(F); str(F, x->b); } break;
        case EXP_ENROLL: putsp(F, "enroll"); putsp(F, "in"); put(F, x->name); break;
        }
        break;
    default: break;
    }
}

static void param(Fmt *F, const Node *p)
{
    cm_inline(F, p->span.start);
    put(F, p->name);
    putsp(F, ":");
    type(F, p->a);
}

static void head_priority(Fmt *F, const Node *p)
{
    if (p) { sp(F); kw_expr(F, "priority", p->a); }
}

/* ---- declarations ---------------------------------------------------------- */

static void event_decl(Fmt *F, const Node *d)
{
    Mark m = mark(F);
    putsp(F, "event");
    put(F, d->name);
    sp(F);
    if (!d->list) put(F, "{}");
    else {
        putsp(F, "{");
        for (const Node *f = d->list; f; f = f->next) {
            cm_inline(F, f->span.start);
            field(F, f);
            if (f->next) putsp(F, ",");
        }
        sp(F);
        put(F, "}");
    }
    if (fits(F, m) && !(F->cm && F->cm->span.start < close_of(d))) return;
    undo(F, m);
    putsp(F, "event");
    put(F, d->name);
    block(F, d->list, close_of(d), field);
}

static void ident(Fmt *F, const Node *n) { expr(F, n); }

static void entity_decl(Fmt *F, const Node *d)
{
    putsp(F, "entity");
    put(F, d->name);
    Blk k;
    const Node *first = d->list2 ? d->list2 : d->list;
    uint32_t close = close_of(d);
    if (!blk_open(F, &k, first, close)) return;
    if (d->list2) {
        /* the keyword precedes the first name */
        uint32_t at = d->list2->span.start;
        while (at > 0 && is_ws(F->src[at - 1])) at--;
        if (at >= 8 && !memcmp(F->src + at - 8, "identity", 8)) at -= 8;
        else at = d->list2->span.start;
        elem_begin(F, at, 1);
        putsp(F, "identity");
        fill(F, d->list2, ident);
        line_end(F, d->list ? d->list->span.start : close);
    }
    for (const Node *f = d->list; f; f = f->next) {
        elem_begin(F, f->span.start, 1);
        field(F, f);
        line_end(F, f->next ? f->next->span.start : close);
    }
    blk_close(F, &k);
}

static void connector_decl(Fmt *F, const Node *d)
{
    putsp(F, "connector");
    putsp(F, d->name);
    put(F, d->name2);
    for (const Node *o = d->list; o; o = o->next) { sp(F); option(F, o); }
    if (d->list2) block(F, d->list2, close_of(d), method);
}

static void decl(Fmt *F, const Node *d)
{
    switch ((NodeKind)d->kind) {
    case N_MODULE:
        putsp(F, "module");
        put(F, d->name);
        if (d->a) { sp(F); putsp(F, "timezone"); str(F, d->a); }
        break;
    case N_IMPORT:
        putsp(F, "import");
        put(F, d->name);
        if (d->name2) { sp(F); putsp(F, "as"); put(F, d->name2); }
        break;
    case N_CONST: putsp(F, "const"); putsp(F, d->name); kw_expr(F, "=", d->a); break;
    case N_FN:
        putsp(F, "fn");
        put(F, d->name);
        put(F, "(");
        fill(F, d->list, param);
        put(F, ")");
        sp(F);
        putsp(F, "->");
        type(F, d->a);
        sp(F);
        kw_expr(F, "=", d->b);
        break;
    case N_EVENT: event_decl(F, d); break;
    case N_ENTITY: entity_decl(F, d); break;
    case N_SCORE:
        putsp(F, "score"); putsp(F, d->name); putsp(F, "for"); put(F, d->name2);
        head_priority(F, d->a);
        block(F, d->list, close_of(d), rule);
        break;
    case N_DERIVE: kw_expr(F, "derive", d->a); sp(F); kw_expr(F, "=", d->b); break;
    case N_INTENT:
        putsp(F, "intent"); putsp(F, "for"); put(F, d->name2);
        head_priority(F, d->a);
        block(F, d->list, close_of(d), category);
        break;
    case N_SIGNAL:
        putsp(F, "signal"); putsp(F, d->name); putsp(F, "for"); put(F, d->name2);
        block(F, d->list, close_of(d), signal_item);
        break;
    case N_ROUTE:
        putsp(F, "route"); put(F, d->name2);
        block(F, d->list, close_of(d), route_item);
        break;
    case N_WORKFLOW:
        putsp(F, "workflow"); putsp(F, d->name); putsp(F, "for"); put(F, d->name2);
        block(F, d->list, close_of(d), wf_item);
        break;
    case N_SOURCE:
        putsp(F, "source"); put(F, d->name);
        block(F, d->list, close_of(d), source_item);
        break;
    case N_CONNECTOR: connector_decl(F, d); break;
    case N_TEAM:
        putsp(F, "team"); put(F, d->name);
        block(F, d->list, close_of(d), member);
        break;
    case N_SEQUENCE:
        putsp(F, "sequence"); putsp(F, d->name); putsp(F, "for"); put(F, d->name2);
        block(F, d->list, close_of(d), seq_item);
        break;
    case N_TEST:
        putsp(F, "test"); str(F, d->a);
        block(F, d->list, close_of(d), test_item);
        break;
    default: break;
    }
}

/* Top level: a blank line between declarations, except between one-line
 * declarations of the same kind that were adjacent in the source. */
static void file(Fmt *F, const Node *f)
{
    int prev_kind = -1, prev_multi = 0;
    F->fresh = 1;
    for (const Node *d = f ? f->list : NULL; d; d = d->next) {
        size_t sep_at = F->n;
        uint32_t first = F->cm && F->cm->span.start < d->span.start ? F->cm->span.start : d->span.start;
        int src_blank = blank_before(F, first);
        F->fresh = 1;
        elem_begin(F, d->span.start, 1);
        size_t start = F->n;
        decl(F, d);
        int multi = memchr(F->buf + start, '\n', F->n - start) != NULL;
        if (prev_kind >= 0 && (prev_kind != d->kind || prev_multi || multi || src_blank) && !F->oom) {
            raw(F, "\n", 1);                /* grow, then open the gap */
            if (!F->oom) {
                memmove(F->buf + sep_at + 1, F->buf + sep_at, F->n - 1 - sep_at);
                F->buf[sep_at] = '\n';
            }
        }
        prev_kind = d->kind;
        prev_multi = multi;
        line_end(F, d->next ? d->next->span.start : F->srclen);
    }
    F->fresh = prev_kind < 0;
    elem_begin(F, F->srclen + 1, 0);
}

char *fmt_file(const Node *f, const Comment *comments, const SrcFile *src, size_t *len)
{
    Fmt F;
    memset(&F, 0, sizeof F);
    F.src = src->text;
    F.srclen = src->len;
    F.cm = comments;
    F.pad = -1;
    F.at_bol = 1;
    file(&F, f);
    raw(&F, "", 0);
    if (F.oom || !F.buf) {
        if (F.buf) dna_free(F.buf, F.cap);
        if (F.oom) return NULL;
        char *e = dna_malloc(1);
        if (e) e[0] = 0;
        *len = 0;
        return e;
    }
    /* hand back an exact-size copy so the caller frees len + 1 */
    char *out = dna_malloc(F.n + 1);
    if (out) {
        memcpy(out, F.buf, F.n);
        out[F.n] = 0;
        *len = F.n;
    }
    dna_free(F.buf, F.cap);
    return out;
}
