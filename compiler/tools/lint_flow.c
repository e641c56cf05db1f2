/*
 * lint_flow.c - the lint passes that follow values through rules (lint_int.h):
 * L006, a `crosses` threshold above what the capped score can reach, and
 * L008, workflows whose actions re-trigger themselves.
 */
#include "tools/lint_int.h"

#include <stdio.h>
#include <string.h>

/* ---- L006: thresholds out of reach ------------------------------------------------------- */

/* The most the rules can add over an entity's life, in thousandths, or -1
 * when some rule is not capped per entity (or not constant). */
static int64_t rules_max(Node *rules, const char *entity, int *nrules)
{
    int64_t total = 0;
    for (Node *r = rules; r; r = r->next) {
        (*nrules)++;
        const Node *cap = NULL;
        for (Node *o = r->list; o; o = o->next)
            if (o->kind == N_LIMIT && o->name == entity) cap = o;
        Val pts = lint_fold(r->c, 0);
        if (!cap || pts.k != V_NUM) return -1;
        Val cnt = lint_fold(cap->a, 0);
        if (cnt.k != V_NUM || cnt.num <= 0) return -1;
        int64_t add = 0;
        if (pts.num > 0 && __builtin_mul_overflow(pts.num, cnt.num / 1000, &add)) return -1;
        if (__builtin_add_overflow(total, add, &total)) return -1;
    }
    return total;
}

void lint_thresholds(Lint *L)
{
    FOR_DECLS(L, d) {
        if (d->kind != N_WORKFLOW) continue;
        for (Node *t = d->list; t; t = t->next) {
            if (t->kind != N_TRIGGER || t->op != TRIG_CROSSES_ABOVE || t->a->kind != N_MEMBER) continue;
            Node *path = t->a;
            Node *obj = path->a;
            const char *comp = NULL;
            int intent = 0;
            if (!strcmp(path->name, "score")) {
            } else if (obj->kind == N_MEMBER && (!strcmp(obj->name, "score") || !strcmp(obj->name, "intent"))) {
                comp = path->name;
                intent = !strcmp(obj->name, "intent");
                obj = obj->a;
            } else continue;
            if (!obj->ty || ty_base(obj->ty)->kind != TY_ENTITY) continue;
            if (intent && (!strcmp(comp, "primary") || !strcmp(comp, "confidence") || !strcmp(comp, "total")))
                continue;
            const char *ent = ty_base(obj->ty)->entity->sym->name;
            Val th = lint_fold(t->b, 0);
            if (th.k != V_NUM) continue;
            int64_t max = 0;
            int nrules = 0, unbounded = 0;
            FOR_DECLS(L, s) {
                if (unbounded) break;
                int64_t m = 0;
                if (!intent && s->kind == N_SCORE && s->name2 == ent && (!comp || s->name == comp))
                    m = rules_max(s->list, ent, &nrules);
                else if (intent && s->kind == N_INTENT && s->name2 == ent) {
                    for (Node *c = s->list; c && m >= 0; c = c->next)
                        if (c->name == comp) {
                            int64_t cm = rules_max(c->list, ent, &nrules);
                            m = cm < 0 ? -1 : m + cm;
                        }
                } else continue;
                if (m < 0) unbounded = 1;
                else if (__builtin_add_overflow(max, m, &max)) unbounded = 1;
            }
            if (unbounded || max >= th.num) continue;
            char mx[48], tv[48];
            lint_fmt_val(mx, sizeof mx, lint_vnum(max, 1));
            lint_fmt_val(tv, sizeof tv, th);
            Diag *g;
            if (!nrules)
                g = lint_find(L, LINT_L006, t->b->span, "no rule adds to this value, so it never crosses above %s", tv);
            else
                g = lint_find(L, LINT_L006, t->b->span, "the rules can add at most %s over a %s's life (every one is "
                         "capped per %s), so this never crosses above %s", mx, ent, ent, tv);
            diag_help(g, "lower the threshold, or raise the caps of the rules that feed it");
        }
    }
}

/* ---- L008: workflows that re-trigger themselves -------------------------------------------- */

typedef struct Wf { Node *d, *trig; Entity *ent; } Wf;
typedef struct Edge { int from, to; Node *act; } Edge;

static Entity *path_entity(const Node *obj)
{
    if (!obj || !obj->ty) return NULL;
    const Type *b = ty_base(obj->ty);
    return b->kind == TY_ENTITY ? b->entity : NULL;
}

/* Does `trig` watch field `field` of entity `e`? */
static int watches(const Node *trig, Entity *e, const char *field)
{
    if (trig->op == TRIG_EVENT)
        return trig->a->kind == N_MEMBER && !strcmp(trig->a->name, "changed") && trig->a->a->kind == N_NAME &&
               e && trig->a->a->name == e->sym->name;
    if (trig->op != TRIG_BECOMES && trig->op != TRIG_CHANGES && trig->op != TRIG_CROSSES_ABOVE &&
        trig->op != TRIG_CROSSES_BELOW)
        return 0;
    return trig->a->kind == N_MEMBER && trig->a->name == field && path_entity(trig->a->a) == e;
}

/* Setting the watched field to `v` can fire the trigger. */
static int value_fires(const Node *trig, Val v)
{
    if (v.k == V_UNKNOWN) return 1;
    Val t = trig->b ? lint_fold(trig->b, 0) : lint_unknown;
    if (t.k == V_UNKNOWN) return 1;
    switch ((TrigKind)trig->op) {
    case TRIG_BECOMES: return lint_same_val(v, t);
    case TRIG_CROSSES_ABOVE: return v.k != V_NUM || t.k != V_NUM || v.num >= t.num;
    case TRIG_CROSSES_BELOW: return v.k != V_NUM || t.k != V_NUM || v.num < t.num;
    default: return 1;
    }
}

/* Some score (or intent) rule of entity e that feeds `trig` runs on event `ev`. */
static int feeds(Lint *L, const Node *trig, Entity *e, const char *ev)
{
    if ((trig->op != TRIG_CROSSES_ABOVE && trig->op != TRIG_CROSSES_BELOW) || trig->a->kind != N_MEMBER) return 0;
    const Node *path = trig->a;
    const char *comp = NULL;
    int intent = 0;
    if (!strcmp(path->name, "score")) {
        if (path_entity(path->a) != e) return 0;
    } else if (path->a->kind == N_MEMBER && (!strcmp(path->a->name, "score") || !strcmp(path->a->name, "intent"))) {
        if (path_entity(path->a->a) != e) return 0;
        comp = path->name;
        intent = !strcmp(path->a->name, "intent");
    } else return 0;
    FOR_DECLS(L, s) {
        if (!e || s->name2 != e->sym->name) continue;
        if (!intent && s->kind == N_SCORE && (!comp || s->name == comp)) {
            for (Node *r = s->list; r; r = r->next)
                if (r->a->kind == N_NAME && r->a->name == ev) return 1;
        } else if (intent && s->kind == N_INTENT) {
            for (Node *c = s->list; c; c = c->next)
                if (c->name == comp || !strcmp(comp, "primary") || !strcmp(comp, "confidence") || !strcmp(comp, "total"))
                    for (Node *r = c->list; r; r = r->next)
                        if (r->a->kind == N_NAME && r->a->name == ev) return 1;
        }
    }
    return 0;
}

/* The field an action writes, if any. */
static int action_writes(const Node *a, Entity *self, Entity **e, const char **field, Val *v, Interner *in)
{
    *v = lint_unknown;
    switch ((ActKind)a->op) {
    case ACT_SET:
        if (a->a->kind != N_MEMBER) return 0;
        *e = path_entity(a->a->a);
        *field = a->a->name;
        *v = lint_fold(a->b, 0);
        return *e != NULL;
    case ACT_MOVE:
        *e = path_entity(a->a);
        *field = ast_intern(in, "stage", 5);
        *v = lint_fold(a->b, 0);
        return *e != NULL;
    case ACT_ASSIGN: *e = self; *field = ast_intern(in, "owner", 5); return self != NULL;
    case ACT_PIPELINE: *e = self; *field = ast_intern(in, "pipeline", 8); return self != NULL;
    default: return 0;
    }
}

static int action_triggers(Lint *L, const Wf *w, const Node *a, const Wf *w2)
{
    if (a->op == ACT_EMIT) {
        if (w2->trig->op == TRIG_EVENT && w2->trig->a->kind == N_NAME && w2->trig->a->name == a->name) return 1;
        return w2->ent == w->ent && feeds(L, w2->trig, w->ent, a->name);
    }
    Entity *e;
    const char *field;
    Val v;
    if (!action_writes(a, w->ent, &e, &field, &v, L->p->in)) return 0;
    /* writing the value the workflow's own `becomes` just saw changes nothing */
    if (w->trig->op == TRIG_BECOMES && watches(w->trig, e, field) && v.k != V_UNKNOWN) {
        Val t = lint_fold(w->trig->b, 0);
        if (t.k != V_UNKNOWN && lint_same_val(t, v)) return 0;
    }
    return watches(w2->trig, e, field) && (w2->trig->op == TRIG_EVENT || value_fires(w2->trig, v));
}

static void describe(Lint *L, char *buf, size_t n, const Node *a)
{
    (void)L;
    if (a->op == ACT_EMIT) snprintf(buf, n, "emits '%s'", a->name);
    else if (a->op == ACT_SET && a->a->kind == N_MEMBER && path_entity(a->a->a))
        snprintf(buf, n, "sets %s.%s", path_entity(a->a->a)->sym->name, a->a->name);
    else if (a->op == ACT_MOVE) snprintf(buf, n, "moves the stage");
    else if (a->op == ACT_ASSIGN) snprintf(buf, n, "assigns the owner");
    else snprintf(buf, n, "sets the pipeline");
}

void lint_cycles(Lint *L)
{
    int nw = 0, cap = 0, ne = 0, ecap = 0;
    Wf *ws = NULL;
    Edge *es = NULL;
    FOR_DECLS(L, d) {
        if (d->kind != N_WORKFLOW || !d->sym) continue;
        Node *trig = NULL;
        for (Node *x = d->list; x; x = x->next) if (x->kind == N_TRIGGER && !trig) trig = x;
        Sym *es_ = sym_get(&L->p->global[SYM_ENTITY], d->name2);
        if (!trig || !es_ || !es_->entity) continue;
        if (nw == cap) {
            int nc = cap ? cap * 2 : 16;
            Wf *nv = dna_realloc(ws, sizeof(Wf) * (size_t)cap, sizeof(Wf) * (size_t)nc);
            if (!nv) goto out;
            ws = nv;
            cap = nc;
        }
        ws[nw].d = d;
        ws[nw].trig = trig;
        ws[nw].ent = es_->entity;
        nw++;
    }
    for (int i = 0; i < nw; i++)
        for (Node *x = ws[i].d->list; x; x = x->next) {
            if (x->kind != N_DO) continue;
            for (Node *a = x->list; a; a = a->next)
                for (int j = 0; j < nw; j++) {
                    if (!action_triggers(L, &ws[i], a, &ws[j])) continue;
                    int dup = 0;
                    for (int k = 0; k < ne && !dup; k++) dup = es[k].from == i && es[k].to == j;
                    if (dup) continue;
                    if (ne == ecap) {
                        int nc = ecap ? ecap * 2 : 32;
                        Edge *nv = dna_realloc(es, sizeof(Edge) * (size_t)ecap, sizeof(Edge) * (size_t)nc);
                        if (!nv) goto out;
                        es = nv;
                        ecap = nc;
                    }
                    es[ne].from = i;
                    es[ne].to = j;
                    es[ne].act = a;
                    ne++;
                }
        }
    /* for each workflow not yet reported: the shortest way back to itself */
    {
        int *prev = dna_malloc(sizeof(int) * (size_t)(nw ? nw : 1));
        int *queue = dna_malloc(sizeof(int) * (size_t)(nw ? nw : 1));
        int *done = dna_malloc(sizeof(int) * (size_t)(nw ? nw : 1));
        if (!prev || !queue || !done) goto out2;
        memset(done, 0, sizeof(int) * (size_t)nw);
        for (int s = 0; s < nw; s++) {
            if (done[s]) continue;
            for (int i = 0; i < nw; i++) prev[i] = -2;
            int qh = 0, qt = 0, found = -1;
            for (int k = 0; k < ne && found < 0; k++)
                if (es[k].from == s) {
                    if (es[k].to == s) found = k;
                    else if (prev[es[k].to] == -2) { prev[es[k].to] = s; queue[qt++] = es[k].to; }
                }
            int last = -1;
            while (found < 0 && qh < qt) {
                int v = queue[qh++];
                for (int k = 0; k < ne; k++) {
                    if (es[k].from != v) continue;
                    if (es[k].to == s) { last = v; found = k; break; }
                    if (prev[es[k].to] == -2 && !done[es[k].to]) { prev[es[k].to] = v; queue[qt++] = es[k].to; }
                }
            }
            if (found < 0) continue;
            /* the cycle s -> ... -> last -> s */
            int path[64], np = 0;
            for (int v = last; v >= 0 && v != s && np < 64; v = prev[v]) path[np++] = v;
            done[s] = 1;
            for (int i = 0; i < np; i++) done[path[i]] = 1;
            const Node *first_act = NULL;
            int next = np ? path[np - 1] : s;
            for (int k = 0; k < ne && !first_act; k++)
                if (es[k].from == s && es[k].to == next) first_act = es[k].act;
            char what[128];
            describe(L, what, sizeof what, first_act);
            Diag *g;
            if (!np) {
                g = lint_find(L, LINT_L008, first_act->span, "workflow '%s' can re-trigger itself: it %s, which its "
                         "own trigger watches", ws[s].d->name, what);
            } else {
                char chain[512];
                size_t off = (size_t)snprintf(chain, sizeof chain, "%s", ws[s].d->name);
                for (int i = np - 1; i >= 0 && off < sizeof chain - 80; i--)
                    off += (size_t)snprintf(chain + off, sizeof chain - off, " -> %s", ws[path[i]].d->name);
                snprintf(chain + off, sizeof chain - off, " -> %s", ws[s].d->name);
                g = lint_find(L, LINT_L008, first_act->span, "workflows trigger each other in a cycle: %s "
                         "(here it %s)", chain, what);
            }
            diag_help(g, "add a `when` that is false once the work is done, or trigger on `becomes` a final value");
        }
    out2:
        dna_free(prev, sizeof(int) * (size_t)(nw ? nw : 1));
        dna_free(queue, sizeof(int) * (size_t)(nw ? nw : 1));
        dna_free(done, sizeof(int) * (size_t)(nw ? nw : 1));
    }
out:
    dna_free(ws, sizeof(Wf) * (size_t)cap);
    dna_free(es, sizeof(Edge) * (size_t)ecap);
}
