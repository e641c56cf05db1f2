/*
 * emit_expr.c - compiling checked expressions into register bytecode.
 *
 * One expression becomes one code unit: instructions that leave its value
 * in register 0 and a RET.  Registers are allocated like a stack (a
 * subexpression's temporaries are released when it is done).  Control flow
 * only jumps forward: `and`/`or` short-circuit, `in [..]` chains and match
 * arms skip ahead to a common end.  User fns are inlined at each call
 * (the checker guarantees they do not recurse); their parameters are
 * registers bound by name while the body is compiled.
 *
 * Representations (runtime/bundle/value.h): ints, enums (value index), bools,
 * durations (ms), timestamps (ms) and times of day are raw int64;
 * decimals are int64 thousandths, so an int meeting a decimal is widened
 * with I2D first.
 */
#include "emit/emit_int.h"

#include <string.h>

typedef enum Rep { RP_INT, RP_DEC, RP_BOOL, RP_STR, RP_ENUM, RP_DUR, RP_TS, RP_TOD, RP_REF, RP_LIST, RP_NONE, RP_BAD } Rep;

static Rep rep_of(Type *t)
{
    if (!t) return RP_BAD;
    switch (ty_base(t)->kind) {
    case TY_INT: return RP_INT;
    case TY_DECIMAL: case TY_SCORE: return RP_DEC;
    case TY_BOOL: return RP_BOOL;
    case TY_STRING: return RP_STR;
    case TY_ENUM: return RP_ENUM;
    case TY_DURATION: return RP_DUR;
    case TY_TIMESTAMP: return RP_TS;
    case TY_TIMEOFDAY: return RP_TOD;
    case TY_ENTITY: return RP_REF;
    case TY_LIST: return RP_LIST;
    case TY_NONE: return RP_NONE;
    default: return RP_BAD;
    }
}

static int is_num(Rep r) { return r == RP_INT || r == RP_DEC; }

/* ---- instructions ----------------------------------------------------------- */

static uint32_t here(EmitCtx *e) { return e->b.ncode; }

static void loc(EmitCtx *e)
{
    Span sp = e->u.span;
    if (e->u.last_set && sp.file == e->u.last.file && sp.start == e->u.last.start) return;
    e->u.last = sp;
    e->u.last_set = 1;
    SrcFile *f = src_get(&e->pr->src, sp.file);
    if (!f) return;
    uint32_t line, col;
    src_linecol(f, sp.start, &line, &col);
    DnaSrcLoc *l = EX_NEW(e, locs);
    l->pc = here(e);
    l->file = sp.file - 1;
    l->line = line;
    l->col = col;
}

static uint32_t ins(EmitCtx *e, uint32_t w)
{
    loc(e);
    uint32_t *c = EX_NEW(e, code);
    *c = w;
    return here(e) - 1;
}

static void abc(EmitCtx *e, VmOp op, int a, int b, int c) { ins(e, DNA_MK_ABC(op, a, b, c)); }
static void abx(EmitCtx *e, VmOp op, int a, uint32_t bx)
{
    if (bx >= DNA_MAX_BX) ex_error(e, e->u.span, "too many constants or slots for one bundle (%u)", bx);
    ins(e, DNA_MK_ABX(op, a, bx));
}

static int reg(EmitCtx *e)
{
    if (e->u.top >= DNA_MAX_REGS) {
        ex_error(e, e->u.span, "expression needs more than %d registers; split it into a fn or a const", DNA_MAX_REGS);
        return DNA_MAX_REGS - 1;
    }
    int r = e->u.top++;
    if (e->u.top > e->u.maxregs) e->u.maxregs = e->u.top;
    return r;
}

static uint32_t jump(EmitCtx *e, VmOp op, int a) { return ins(e, DNA_MK_ABX(op, a, 0)); }

static void patch(EmitCtx *e, uint32_t at)
{
    uint32_t off = here(e) - (at + 1);
    if (off > DNA_MAX_JUMP) { ex_error(e, e->u.span, "expression too long for a forward jump"); off = 0; }
    e->b.code[at] = DNA_MK_ABX(DNA_INS_OP(e->b.code[at]), DNA_INS_A(e->b.code[at]), off);
}

static void load_int(EmitCtx *e, int dst, int64_t v, uint8_t type)
{
    if (v >= DNA_MIN_IMM && v <= DNA_MAX_IMM) abx(e, VM_OP_LOADI, dst, (uint32_t)(uint16_t)(int16_t)v);
    else abx(e, VM_OP_LOADK, dst, ex_const(e, type, v, DNA_NIL));
}

/* ---- expressions -------------------------------------------------------------- */

static void expr(EmitCtx *e, Node *n, int dst);

static void expr_as(EmitCtx *e, Node *n, int dst, Rep want)
{
    if (want == RP_DEC && rep_of(n->ty) == RP_INT) {
        DnaConst k;
        int64_t d;
        Span saved = e->u.span;
        e->u.span = n->span;
        if (ex_fold(e, n, &k) && k.type == DT_INT && !__builtin_mul_overflow(k.i, (int64_t)1000, &d)) {
            load_int(e, dst, d, DT_DEC);        /* widen a constant at compile time */
        } else {
            expr(e, n, dst);
            abc(e, VM_OP_I2D, dst, dst, 0);
        }
        e->u.span = saved;
        return;
    }
    expr(e, n, dst);
}

static int bound(EmitCtx *e, const char *name)
{
    for (int i = e->nbinds - 1; i >= 0; i--)
        if (e->binds[i].name == name) return e->binds[i].reg;
    return -1;
}

static int is_self(EmitCtx *e, Node *n)
{
    if (n->kind != N_NAME || n->sym || (n->flags & 1) || bound(e, n->name) >= 0) return 0;
    Type *t = ty_base(n->ty);
    return t && t->kind == TY_ENTITY && e->u.entity != DNA_NIL && ex_entity(e, t->entity) == e->u.entity;
}

static int64_t enum_index(Type *t, const char *v)
{
    t = ty_base(t);
    for (int i = 0; t && i < t->nvalues; i++)
        if (t->values[i] == v) return i;
    return -1;
}

/* A read of entity field `slotname` on `obj` (self or a reference). */
static void entity_read(EmitCtx *e, Node *obj, Entity *ent, const char *slotname, int dst)
{
    uint32_t kind = ex_entity(e, ent);
    uint32_t slot = ex_slot(e, kind, slotname);
    if (slot == DNA_NIL) { ex_error(e, e->u.span, "no slot '%s' on entity", slotname); return; }
    if (is_self(e, obj)) { abx(e, VM_OP_LDS, dst, slot); return; }
    expr(e, obj, dst);
    abx(e, VM_OP_DEREF, dst, kind);
    abx(e, VM_OP_LDF, dst, slot);
}

static void member(EmitCtx *e, Node *n, int dst)
{
    Type *ot = ty_base(n->a->ty);
    char name[256];
    switch (ot ? ot->kind : TY_ERROR) {
    case TY_EVENT: {
        uint32_t ev = ex_event(e, ot->sym);
        if (ev != e->u.event) { ex_error(e, n->span, "this code has no event '%s' to read", ot->name); return; }
        uint32_t slot = ex_event_slot(e, ev, n->name);
        if (slot == DNA_NIL) { ex_error(e, n->span, "event '%s' has no slot '%s'", ot->name, n->name); return; }
        abx(e, VM_OP_LDE, dst, slot);
        return;
    }
    case TY_ENTITY:
        entity_read(e, n->a, ot->entity, n->name, dst);
        return;
    case TY_SCORE: case TY_INTENT: case TY_TOUCH: {
        Node *fld = n->a;               /* lead.score */
        if (fld->kind != N_MEMBER || !fld->a->ty || ty_base(fld->a->ty)->kind != TY_ENTITY) break;
        snprintf(name, sizeof name, "%s.%s", fld->name, n->name);
        entity_read(e, fld->a, ty_base(fld->a->ty)->entity, name, dst);
        return;
    }
    case TY_MODULE: {
        Sym *s = n->sym;
        if (s && s->kind == SYM_CONST) { expr(e, s->decl->a, dst); return; }
        break;
    }
    default: break;
    }
    ex_error(e, n->span, "'%s' cannot be read by rule code", n->name);
}

uint32_t ex_path_slot(EmitCtx *e, Node *n, uint32_t entity)
{
    if (!n || n->kind != N_MEMBER || !n->a->ty) return DNA_NIL;
    Type *ot = ty_base(n->a->ty);
    if (ot->kind == TY_ENTITY && n->a->kind == N_NAME && ex_entity(e, ot->entity) == entity)
        return ex_slot(e, entity, n->name);
    if ((ot->kind == TY_SCORE || ot->kind == TY_INTENT || ot->kind == TY_TOUCH) && n->a->kind == N_MEMBER) {
        char name[256];
        snprintf(name, sizeof name, "%s.%s", n->a->name, n->name);
        Node *obj = n->a->a;
        if (obj->kind == N_NAME && obj->ty && ty_base(obj->ty)->kind == TY_ENTITY &&
            ex_entity(e, ty_base(obj->ty)->entity) == entity)
            return ex_slot(e, entity, name);
    }
    return DNA_NIL;
}

static int builtin_id(const char *name)
{
    for (unsigned i = 0; i < VM_BUILTIN__COUNT; i++)
        if (!strcmp(bc_builtin_name(i), name)) return (int)i;
    return -1;
}

static void call(EmitCtx *e, Node *n, int dst)
{
    Node *callee = n->a;
    Type *ct = callee->ty;
    if (callee->kind == N_NAME && !callee->sym && bound(e, callee->name) < 0 && (!ct || ct->kind != TY_FN)) {
        int id = builtin_id(callee->name);
        if (id < 0) { ex_error(e, n->span, "unknown function '%s'", callee->name); return; }
        if (bc_builtin_nargs((unsigned)id) > 2) return;
        Rep want = rep_of(n->ty);
        if (id == VM_BI_coalesce && n->list && n->list->next) {
            Rep r0 = rep_of(n->list->ty), r1 = rep_of(n->list->next->ty);
            if (is_num(r0) && is_num(r1) && r0 != r1 && want != RP_DEC) {
                /* the checker types coalesce(x, y) as y's type, so
                 * coalesce(decimal?, 0) would read a decimal as an int */
                Diag *g = diag_emit(&e->pr->diags, SEV_ERROR, "B001", n->span,
                                    "coalesce() of %s and %s: both must be decimals or both ints",
                                    ty_name(n->list->ty), ty_name(n->list->next->ty));
                diag_help(g, "write the default with a decimal point, e.g. 0.0");
                e->errors++;
                return;
            }
        }
        int base = e->u.top;
        int i = 0;
        for (Node *a = n->list; a; a = a->next, i++) {
            int r = reg(e);
            Rep ar = rep_of(a->ty);
            /* numbers meet as decimals when the result is one; round()'s
             * count of places stays an int */
            int places = id == VM_BI_round && i == 1;
            expr_as(e, a, r, want == RP_DEC && is_num(ar) && !places ? RP_DEC : ar);
        }
        abc(e, VM_OP_CALL, dst, id, i ? base : 0);
        e->u.top = base;
        return;
    }
    Sym *fs = ct && ct->kind == TY_FN ? ct->sym : NULL;
    if (!fs || fs->kind != SYM_FN) { ex_error(e, n->span, "this call cannot be compiled into rule code"); return; }
    if (e->u.depth > 64) { ex_error(e, n->span, "fns nested too deeply"); return; }
    Node *d = fs->decl;
    int base = e->u.top;
    Bind saved[64];
    int nsaved = e->nbinds;
    memcpy(saved, e->binds, sizeof(Bind) * (size_t)nsaved);
    Bind nb[64];
    int k = 0;
    Node *prm = d->list;
    for (Node *a = n->list; a && prm; a = a->next, prm = prm->next) {
        int r = reg(e);
        expr_as(e, a, r, rep_of(prm->ty));
        if (k < 64) nb[k++] = (Bind){ prm->name, r };
    }
    memcpy(e->binds, nb, sizeof(Bind) * (size_t)k);
    e->nbinds = k;
    Span sp = e->u.span;
    e->u.depth++;
    expr_as(e, d->b, dst, rep_of(fs->ty));
    e->u.depth--;
    e->u.span = sp;
    memcpy(e->binds, saved, sizeof(Bind) * (size_t)nsaved);
    e->nbinds = nsaved;
    e->u.top = base;
}

/* The representation two operands are compared in. */
static Rep common(Type *ta, Type *tb)
{
    Rep a = rep_of(ta), b = rep_of(tb);
    if (a == RP_NONE) return b;
    if (b == RP_NONE) return a;
    if (a == RP_STR || b == RP_STR) return RP_STR;
    if (is_num(a) && is_num(b)) return a == RP_DEC || b == RP_DEC ? RP_DEC : RP_INT;
    return a;
}

/* dst = (ra OP b) where ra already holds a's value. */
static void compare_reg(EmitCtx *e, Op op, int dst, int ra, Type *ta, Node *bn)
{
    int base = e->u.top;
    if (bn->kind == N_NONE || rep_of(ta) == RP_NONE) {
        int r = ra;
        if (rep_of(ta) == RP_NONE) { r = reg(e); expr(e, bn, r); }
        if (op == OP_EQ) abc(e, VM_OP_ISNONE, dst, r, 0);
        else if (op == OP_NE) abc(e, VM_OP_ISSET, dst, r, 0);
        else load_int(e, dst, 0, DT_BOOL);
        e->u.top = base;
        return;
    }
    Rep c = common(ta, bn->ty);
    if (c == RP_DEC && rep_of(ta) == RP_INT) {
        int t = reg(e);
        abc(e, VM_OP_I2D, t, ra, 0);
        ra = t;
    }
    int rb = reg(e);
    expr_as(e, bn, rb, c);
    int s = c == RP_STR;
    VmOp o;
    int x = ra, y = rb;
    switch (op) {
    case OP_EQ: o = s ? VM_OP_EQ_S : VM_OP_EQ_I; break;
    case OP_NE: o = s ? VM_OP_NE_S : VM_OP_NE_I; break;
    case OP_LT: o = s ? VM_OP_LT_S : VM_OP_LT_I; break;
    case OP_LE: o = s ? VM_OP_LE_S : VM_OP_LE_I; break;
    case OP_GT: o = s ? VM_OP_LT_S : VM_OP_LT_I; x = rb; y = ra; break;
    case OP_GE: o = s ? VM_OP_LE_S : VM_OP_LE_I; x = rb; y = ra; break;
    default: ex_error(e, bn->span, "not a comparison"); e->u.top = base; return;
    }
    abc(e, o, dst, x, y);
    e->u.top = base;
}

static void compare(EmitCtx *e, Op op, int dst, Node *a, Node *b)
{
    if (a->kind == N_NONE && b->kind != N_NONE) { Node *t = a; a = b; b = t; }
    int base = e->u.top;
    int ra = reg(e);
    Rep c = common(a->ty, b->ty);
    expr_as(e, a, ra, c == RP_DEC ? RP_DEC : rep_of(a->ty));
    Type *ta = c == RP_DEC ? e->p->t_decimal : a->ty;
    compare_reg(e, op, dst, ra, ta, b);
    e->u.top = base;
}

/* x in [a, b, c]  /  [a, b, c] contains x: an equality chain. */
static void in_list(EmitCtx *e, int dst, Node *x, Node *list)
{
    if (!list->list) { load_int(e, dst, 0, DT_BOOL); return; }
    int base = e->u.top;
    Type *et = list->list->ty;
    Rep c = common(x->ty, et);
    int rx = reg(e);
    expr_as(e, x, rx, c == RP_DEC ? RP_DEC : rep_of(x->ty));
    Type *tx = c == RP_DEC ? e->p->t_decimal : x->ty;
    uint32_t jumps[256];
    int nj = 0;
    for (Node *it = list->list; it; it = it->next) {
        compare_reg(e, OP_EQ, dst, rx, tx, it);
        if (it->next) {
            if (nj < 256) jumps[nj++] = jump(e, VM_OP_JT, dst);
            else ex_error(e, list->span, "list too long");
        }
    }
    for (int i = 0; i < nj; i++) patch(e, jumps[i]);
    e->u.top = base;
}

static void has(EmitCtx *e, int dst, Node *listn, Node *x)
{
    int base = e->u.top;
    int rl = reg(e), rx = reg(e);
    expr(e, listn, rl);
    expr(e, x, rx);
    abc(e, rep_of(x->ty) == RP_STR ? VM_OP_HAS_S : VM_OP_HAS_I, dst, rl, rx);
    e->u.top = base;
}

static void arith(EmitCtx *e, Node *n, int dst)
{
    Op op = (Op)n->op;
    Rep rr = rep_of(n->ty), ra = rep_of(n->a->ty), rb = rep_of(n->b->ty);
    int base = e->u.top;
    if (rr == RP_STR) {                             /* concatenation */
        int x = reg(e), y = reg(e);
        expr(e, n->a, x);
        expr(e, n->b, y);
        abc(e, VM_OP_SBEGIN, dst, 0, 0);
        abc(e, VM_OP_SADD, dst, x, VM_FMT_STR);
        abc(e, VM_OP_SADD, dst, y, VM_FMT_STR);
        e->u.top = base;
        return;
    }
    Rep wa = ra, wb = rb;
    VmOp o = VM_OP_ADD;
    switch (op) {
    case OP_ADD: case OP_SUB:
        if (rr == RP_DEC) wa = wb = RP_DEC;
        o = op == OP_ADD ? VM_OP_ADD : VM_OP_SUB;
        break;
    case OP_MUL:
        if (rr == RP_INT) o = VM_OP_MUL;
        else if (rr == RP_DEC) { wa = wb = RP_DEC; o = VM_OP_MUL_D; }
        else o = (ra == RP_DEC || rb == RP_DEC) ? VM_OP_MUL_D : VM_OP_MUL;   /* duration * number */
        break;
    case OP_DIV:
        if (rr == RP_DEC) wa = RP_DEC;
        wb = RP_DEC;                                /* duration / number too */
        o = VM_OP_DIV_D;
        break;
    case OP_MOD: o = VM_OP_MOD; break;
    default: ex_error(e, n->span, "unknown operator"); return;
    }
    int y = reg(e);
    expr_as(e, n->a, dst, wa);
    expr_as(e, n->b, y, wb);
    abc(e, o, dst, dst, y);
    e->u.top = base;
}

static void logic(EmitCtx *e, Node *n, int dst)
{
    expr(e, n->a, dst);
    if (ty_base(n->a->ty) != n->a->ty || n->a->ty->optional) abc(e, VM_OP_BOOL, dst, dst, 0);
    uint32_t j = jump(e, n->op == OP_AND ? VM_OP_JF : VM_OP_JT, dst);
    expr(e, n->b, dst);
    if (n->b->ty && n->b->ty->optional) abc(e, VM_OP_BOOL, dst, dst, 0);
    patch(e, j);
}

static Node *list_literal(Node *n);

static void binary(EmitCtx *e, Node *n, int dst)
{
    Op op = (Op)n->op;
    switch (op) {
    case OP_AND: case OP_OR: logic(e, n, dst); return;
    case OP_EQ: case OP_NE: case OP_LT: case OP_LE: case OP_GT: case OP_GE:
        compare(e, op, dst, n->a, n->b);
        return;
    case OP_CONTAINS:
        if (rep_of(n->a->ty) == RP_STR) {
            int base = e->u.top, y = reg(e);
            expr(e, n->a, dst);
            expr(e, n->b, y);
            abc(e, VM_OP_CONTAINS, dst, dst, y);
            e->u.top = base;
        } else if (list_literal(n->a)) in_list(e, dst, n->b, list_literal(n->a));
        else if (rep_of(n->a->ty) == RP_LIST) has(e, dst, n->a, n->b);
        else ex_error(e, n->span, "'contains' on %s cannot be compiled", ty_name(n->a->ty));
        return;
    case OP_IN:
        if (list_literal(n->b)) in_list(e, dst, n->a, list_literal(n->b));
        else if (rep_of(n->b->ty) == RP_LIST) has(e, dst, n->b, n->a);
        else ex_error(e, n->span, "'in' on %s cannot be compiled", ty_name(n->b->ty));
        return;
    default: arith(e, n, dst); return;
    }
}

/* A list literal, directly or through a const (`in FREE_MAIL`). */
static Node *list_literal(Node *n)
{
    for (int guard = 0; n && guard < 32; guard++) {
        if (n->kind == N_LIST) return n;
        if ((n->kind != N_NAME && n->kind != N_MEMBER) || !n->sym) return NULL;
        Sym *s = n->sym;
        if (s->kind != SYM_CONST || !s->decl) return NULL;
        n = s->decl->a;
    }
    return NULL;
}

static void match(EmitCtx *e, Node *n, int dst)
{
    int base = e->u.top;
    int rs = reg(e);
    expr(e, n->a, rs);
    Rep want = rep_of(n->ty);
    uint32_t ends[256];
    int nends = 0, wild = 0;
    for (Node *arm = n->list; arm; arm = arm->next) {
        if (!arm->a) {                  /* _ -> result: the rest never runs */
            expr_as(e, arm->b, dst, want);
            wild = 1;
            break;
        }
        int t = reg(e);
        compare_reg(e, arm->op == OP_NONE ? OP_EQ : (Op)arm->op, t, rs, n->a->ty, arm->a);
        uint32_t skip = jump(e, VM_OP_JF, t);
        e->u.top = rs + 1;
        expr_as(e, arm->b, dst, want);
        if (nends < 256) ends[nends++] = jump(e, VM_OP_JMP, 0);
        else ex_error(e, n->span, "match has too many arms");
        patch(e, skip);
    }
    if (!wild) abc(e, VM_OP_LOADNONE, dst, 0, 0);   /* no arm matched */
    for (int i = 0; i < nends; i++) patch(e, ends[i]);
    e->u.top = base;
}

static void template(EmitCtx *e, Node *n, int dst)
{
    int base = e->u.top;
    int regs[128];
    int k = 0;
    for (Node *q = n->list; q; q = q->next) {
        if (q->kind == N_STRPART) continue;
        if (k >= 128) { ex_error(e, q->span, "too many template holes"); break; }
        int r = reg(e);
        regs[k++] = r;
        Span sp = e->u.span;
        expr(e, q, r);
        e->u.span = sp;
        if (rep_of(q->ty) == RP_ENUM) abx(e, VM_OP_ENAME, r, ex_enum(e, ty_base(q->ty)));
    }
    abc(e, VM_OP_SBEGIN, dst, 0, 0);
    k = 0;
    for (Node *q = n->list; q; q = q->next) {
        if (q->kind == N_STRPART) {
            if (q->name && q->name[0]) {
                uint32_t s = ex_cstr(e, q->name);
                abx(e, VM_OP_SADDK, dst, ex_const(e, DT_STR, 0, s));
            }
            continue;
        }
        if (k >= 128) break;
        int r = regs[k++];
        VmFmt f;
        switch (rep_of(q->ty)) {
        case RP_STR: case RP_ENUM: f = VM_FMT_STR; break;
        case RP_INT: f = VM_FMT_INT; break;
        case RP_DEC: f = VM_FMT_DEC; break;
        case RP_BOOL: f = VM_FMT_BOOL; break;
        case RP_TS: f = VM_FMT_TS; break;
        case RP_DUR: f = VM_FMT_DUR; break;
        case RP_TOD: f = VM_FMT_TOD; break;
        case RP_NONE: continue;
        default: ex_error(e, q->span, "%s cannot be put in a string", ty_name(q->ty)); continue;
        }
        abc(e, VM_OP_SADD, dst, r, f);
    }
    e->u.top = base;
}

static void expr(EmitCtx *e, Node *n, int dst)
{
    if (!n) return;
    Span saved = e->u.span;
    e->u.span = n->span;
    switch ((NodeKind)n->kind) {
    case N_INT: load_int(e, dst, n->num, DT_INT); break;
    case N_DECIMAL: load_int(e, dst, n->num, DT_DEC); break;
    case N_DURATION: {
        int64_t ms;
        if (__builtin_mul_overflow(n->num, (int64_t)1000, &ms)) ex_error(e, n->span, "duration too long");
        load_int(e, dst, ms, DT_DUR);
        break;
    }
    case N_TIMEOFDAY: load_int(e, dst, n->num, DT_TOD); break;
    case N_BOOL: load_int(e, dst, n->num ? 1 : 0, DT_BOOL); break;
    case N_NONE: abc(e, VM_OP_LOADNONE, dst, 0, 0); break;
    case N_STRING:
        if (n->flags & 1) template(e, n, dst);
        else abx(e, VM_OP_LOADK, dst, ex_const(e, DT_STR, 0, ex_cstr(e, n->name ? n->name : "")));
        break;
    case N_NAME: {
        int r;
        if (n->flags & 1) {
            int64_t i = enum_index(n->ty, n->name);
            if (i < 0) ex_error(e, n->span, "'%s' is not a value of %s", n->name, ty_name(n->ty));
            load_int(e, dst, i, DT_ENUM);
        } else if (!n->sym && (r = bound(e, n->name)) >= 0) {
            if (r != dst) abc(e, VM_OP_MOVE, dst, r, 0);
        } else if (n->sym && ((Sym *)n->sym)->kind == SYM_CONST) {
            int nb = e->nbinds;
            e->nbinds = 0;                          /* a const sees no parameters */
            expr(e, ((Sym *)n->sym)->decl->a, dst);
            e->nbinds = nb;
        } else if (is_self(e, n)) {
            abc(e, VM_OP_LDSELF, dst, 0, 0);
        } else {
            ex_error(e, n->span, "'%s' cannot be read by rule code here", n->name);
        }
        break;
    }
    case N_MEMBER: member(e, n, dst); break;
    case N_CALL: call(e, n, dst); break;
    case N_UNARY:
        expr(e, n->a, dst);
        abc(e, n->op == OP_NOT ? VM_OP_NOT : VM_OP_NEG, dst, dst, 0);
        break;
    case N_BINARY: binary(e, n, dst); break;
    case N_MATCH: match(e, n, dst); break;
    case N_EVENTREF: ex_error(e, n->span, "the event itself is not a value; read one of its fields"); break;
    case N_LIST: ex_error(e, n->span, "a list is only a value after `in` or before `contains`"); break;
    default: ex_error(e, n->span, "%s cannot be compiled into rule code", ast_kind_name(n->kind)); break;
    }
    e->u.span = saved;
}

uint32_t ex_unit(EmitCtx *e, Node *n, Type *want, uint32_t rule, uint32_t event, uint32_t entity, const char *tz)
{
    if (!n) return DNA_NIL;
    int errs = e->errors;
    memset(&e->u, 0, sizeof e->u);
    e->u.event = event;
    e->u.entity = entity;
    e->u.rule = rule;
    e->u.span = n->span;
    e->nbinds = 0;
    uint32_t pc = here(e);
    int r = reg(e);
    Rep w = want ? rep_of(want) : rep_of(n->ty);
    expr_as(e, n, r, w);
    e->u.span = n->span;
    abc(e, VM_OP_RET, r, 0, 0);
    if (e->errors != errs) return DNA_NIL;
    DnaUnit *u = EX_NEW(e, units);
    u->pc = pc;
    u->len = here(e) - pc;
    u->nregs = (uint32_t)e->u.maxregs;
    Type *t = want ? want : n->ty;
    u->type = ex_type(e, t);
    if (want && n->ty && n->ty->optional) u->type.optional = 1;
    u->event = event;
    u->entity = entity;
    u->tz = tz ? ex_cstr(e, tz) : DNA_NIL;
    u->rule = rule;
    return e->b.nunits - 1;
}

int ex_fold(EmitCtx *e, Node *n, DnaConst *out)
{
    memset(out, 0, sizeof *out);
    out->str = DNA_NIL;
    if (!n) return 0;
    switch ((NodeKind)n->kind) {
    case N_INT: out->type = DT_INT; out->i = n->num; return 1;
    case N_DECIMAL: out->type = DT_DEC; out->i = n->num; return 1;
    case N_DURATION: out->type = DT_DUR; return !__builtin_mul_overflow(n->num, (int64_t)1000, &out->i);
    case N_TIMEOFDAY: out->type = DT_TOD; out->i = n->num; return 1;
    case N_BOOL: out->type = DT_BOOL; out->i = n->num ? 1 : 0; return 1;
    case N_NONE: out->type = DT_VOID; return 1;
    case N_STRING:
        if (n->flags & 1) return 0;
        out->type = DT_STR;
        out->str = ex_cstr(e, n->name ? n->name : "");
        return 1;
    case N_NAME:
        if (n->flags & 1) { out->type = DT_ENUM; out->i = enum_index(n->ty, n->name); return out->i >= 0; }
        if (n->sym && ((Sym *)n->sym)->kind == SYM_CONST) return ex_fold(e, ((Sym *)n->sym)->decl->a, out);
        return 0;
    case N_MEMBER:
        if (n->sym && n->a->ty && ty_base(n->a->ty)->kind == TY_MODULE && ((Sym *)n->sym)->kind == SYM_CONST)
            return ex_fold(e, ((Sym *)n->sym)->decl->a, out);
        return 0;
    case N_UNARY:
        if (n->op == OP_NEG && ex_fold(e, n->a, out) && out->type != DT_STR && out->i != INT64_MIN) {
            out->i = -out->i;
            return 1;
        }
        return 0;
    default: return 0;
    }
}
