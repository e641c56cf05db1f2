/*
 * emit_config.c - the configuration a bundle holds as data: sources (their
 * settings and maps, the map expressions as prefix-ordered nodes over the
 * request body with the operator codes of bundle/ops.h), connectors and
 * their methods (environment variable NAMES only, never values), teams and
 * sequences.  emit.c calls ex_source_decl & co in source order.
 */
#include "emit/emit_int.h"
#include "bundle/ops.h"

#include <stdio.h>
#include <string.h>

static const char *env_name(Node *n)
{
    if (n && n->kind == N_CALL && n->a->kind == N_NAME && !strcmp(n->a->name, "env") && n->list &&
        n->list->kind == N_STRING && !(n->list->flags & 1))
        return n->list->name;
    return NULL;
}

static void opt(EmitCtx *e, const char *key, const char *word, Node *value)
{
    DnaOpt *o = EX_NEW(e, opts);
    o->key = ex_cstr(e, key);
    o->word = word ? ex_cstr(e, word) : DNA_NIL;
    o->env = DNA_NIL;
    o->konst = DNA_NIL;
    const char *env = env_name(value);
    uint32_t envs = env ? ex_cstr(e, env) : DNA_NIL;
    uint32_t k = !env && value ? ex_fold_const(e, value) : DNA_NIL;
    if (value && !env && k == DNA_NIL && value->kind == N_NAME) k = ex_const(e, DT_STR, 0, ex_cstr(e, value->name));
    if (value && !env && k == DNA_NIL) ex_error(e, value->span, "setting '%s' must be a constant or env(\"NAME\")", key);
    o = &e->b.opts[e->b.nopts - 1];
    o->env = envs;
    o->konst = k;
}

uint32_t emit_op_code(Op op)
{
    switch (op) {
    case OP_OR: return DOP_OR;
    case OP_AND: return DOP_AND;
    case OP_EQ: return DOP_EQ;
    case OP_NE: return DOP_NE;
    case OP_LT: return DOP_LT;
    case OP_LE: return DOP_LE;
    case OP_GT: return DOP_GT;
    case OP_GE: return DOP_GE;
    case OP_CONTAINS: return DOP_CONTAINS;
    case OP_NONE: case OP_NOT: case OP_IN: case OP_ADD: case OP_SUB: case OP_MUL: case OP_DIV: case OP_MOD:
    case OP_NEG:
        return DNA_NIL;
    }
    return DNA_NIL;
}

static uint32_t jexpr(EmitCtx *e, Node *n)
{
    if (!n) return DNA_NIL;
    uint32_t at = e->b.njnodes;
    DnaConst k;
    /* a path below the request body (source maps) or the response (method `set`) */
    if (n->kind == N_MEMBER || (n->kind == N_NAME && (!strcmp(n->name, "body") || !strcmp(n->name, "response")))) {
        char path[512];
        size_t len = 0;
        Node *chain[64];
        int depth = 0;
        Node *q = n;
        while (q->kind == N_MEMBER && depth < 64) { chain[depth++] = q; q = q->a; }
        if (q->kind != N_NAME || (strcmp(q->name, "body") && strcmp(q->name, "response"))) {
            ex_error(e, n->span, "only paths below body or response can be stored");
            return DNA_NIL;
        }
        path[0] = 0;
        for (int i = depth - 1; i >= 0; i--)
            len += (size_t)snprintf(path + len, len < sizeof path ? sizeof path - len : 0, "%s%s",
                                    i == depth - 1 ? "" : ".", chain[i]->name);
        DnaJNode *j = EX_NEW(e, jnodes);
        j->op = DJ_PATH;
        j->arg = ex_cstr(e, path);
        return at;
    }
    if (ex_fold(e, n, &k)) {
        uint32_t ki = ex_const(e, k.type, k.i, k.str);
        DnaJNode *j = EX_NEW(e, jnodes);
        j->op = DJ_CONST;
        j->arg = ki;
        return at;
    }
    if (n->kind == N_BINARY) {
        uint32_t code = emit_op_code((Op)n->op);
        if (code == DNA_NIL) {
            ex_error(e, n->span, "the operator '%s' cannot be stored in a source map", ast_op_text((Op)n->op));
            return DNA_NIL;
        }
        DnaJNode *j = EX_NEW(e, jnodes);
        j->op = DJ_BINARY;
        j->n = 2;
        j->arg = code;
        jexpr(e, n->a);
        jexpr(e, n->b);
        return at;
    }
    if (n->kind == N_UNARY && n->op == OP_NOT) {
        DnaJNode *j = EX_NEW(e, jnodes);
        j->op = DJ_NOT;
        j->n = 1;
        jexpr(e, n->a);
        return at;
    }
    if (n->kind == N_CALL && n->a->kind == N_NAME) {
        if (!strcmp(n->a->name, "header") && n->list && n->list->kind == N_STRING && !(n->list->flags & 1)) {
            uint32_t s = ex_cstr(e, n->list->name);
            DnaJNode *j = EX_NEW(e, jnodes);
            j->op = DJ_HEADER;
            j->arg = s;
            return at;
        }
        for (unsigned id = 0; id < VM_BUILTIN__COUNT; id++)
            if (!strcmp(bc_builtin_name(id), n->a->name)) {
                if (!dna_map_builtin(id)) {
                    char can[200];
                    size_t cl = 0;
                    can[0] = 0;
                    for (unsigned k = 0; k < VM_BUILTIN__COUNT && cl < sizeof can; k++)
                        if (dna_map_builtin(k))
                            cl += (size_t)snprintf(can + cl, sizeof can - cl, "%s%s", cl ? ", " : "", bc_builtin_name(k));
                    ex_error(e, n->span, "%s() cannot be used in a source map (these can: %s)", n->a->name, can);
                    return DNA_NIL;
                }
                DnaJNode *j = EX_NEW(e, jnodes);
                j->op = DJ_CALL;
                j->arg = id;
                j->n = (uint8_t)ast_count(n->list);
                for (Node *a = n->list; a; a = a->next) jexpr(e, a);
                return at;
            }
    }
    ex_error(e, n->span, "this source expression cannot be stored in a bundle yet");
    return DNA_NIL;
}

void ex_source_decl(EmitCtx *e, Node *d)
{
    DnaSource *s = EX_NEW(e, sources);
    uint32_t si = e->b.nsources - 1;
    s->name = ex_cstr(e, d->name);
    uint32_t opt0 = e->b.nopts;
    for (Node *x = d->list; x; x = x->next) {
        if (x->kind == N_OPTION) opt(e, x->name, NULL, x->a);
        else if (x->kind == N_SIGNATURE) {
            opt(e, "signature", x->name, NULL);
            char key[128];
            for (Node *o = x->list; o; o = o->next) {
                snprintf(key, sizeof key, "signature.%s", o->name);
                if (o->a && o->a->kind == N_NAME) opt(e, key, o->a->name, NULL);
                else opt(e, key, NULL, o->a);
            }
        }
    }
    uint32_t nopts = e->b.nopts - opt0;
    uint32_t nev = 0;
    for (Node *x = d->list; x; x = x->next) if (x->kind == N_EVENTS) nev += (uint32_t)ast_count(x->list);
    uint32_t *evs = arena_alloc(&e->arena, sizeof(uint32_t) * (nev ? nev : 1));
    uint32_t k = 0;
    for (Node *x = d->list; x && evs; x = x->next)
        if (x->kind == N_EVENTS) for (Node *v = x->list; v; v = v->next) evs[k++] = ex_event(e, v->sym);
    /* maps: their assignments first (contiguous per map), then the map records */
    uint32_t nmaps = 0;
    for (Node *x = d->list; x; x = x->next) if (x->kind == N_MAP) nmaps++;
    DnaMap *maps = arena_alloc(&e->arena, sizeof(DnaMap) * (nmaps ? nmaps : 1));
    uint32_t mi = 0;
    for (Node *x = d->list; x && maps; x = x->next) {
        if (x->kind != N_MAP) continue;
        DnaMap *m = &maps[mi++];
        m->event = ex_event(e, x->sym);
        m->when = jexpr(e, x->a);
        m->assign = e->b.nassigns;
        for (Node *as = x->list; as; as = as->next) {
            char target[256];
            if (as->a->kind == N_MEMBER && as->a->a->kind == N_NAME)
                snprintf(target, sizeof target, "%s.%s", as->a->a->name, as->a->name);
            else snprintf(target, sizeof target, "%s", as->a->name ? as->a->name : "");
            uint32_t t = ex_cstr(e, target);
            uint32_t ex = jexpr(e, as->b);
            DnaAssign *a = EX_NEW(e, assigns);
            a->target = t;
            a->expr = ex;
        }
        m->nassigns = e->b.nassigns - m->assign;
    }
    uint32_t map0 = e->b.nmaps;
    for (uint32_t i = 0; i < mi; i++) *EX_NEW(e, maps) = maps[i];
    s = &e->b.sources[si];
    s->opt = opt0;
    s->nopts = nopts;
    s->map = map0;
    s->nmaps = mi;
    s->events = evs;
    s->nevents = evs ? k : 0;
}

void ex_connector_decl(EmitCtx *e, Node *d)
{
    uint32_t ci = ex_sym_index(e->conn_syms, e->b.nconnectors, d->sym);
    if (ci == DNA_NIL) return;
    uint32_t opt0 = e->b.nopts;
    for (Node *o = d->list; o; o = o->next) opt(e, o->name, o->name2, o->a);
    uint32_t nopts = e->b.nopts - opt0;
    uint32_t m0 = e->b.nmethods;
    for (Node *m = d->list2; m; m = m->next) {
        uint32_t mi = e->b.nmethods;
        DnaMethod *x = EX_NEW(e, methods);
        x->name = ex_cstr(e, m->name);
        x->verb = ex_cstr(e, m->name2 ? m->name2 : "");
        uint32_t np = (uint32_t)ast_count(m->list);
        uint32_t *params = arena_alloc(&e->arena, sizeof(uint32_t) * (np ? np : 1));
        uint32_t k = 0;
        for (Node *prm = m->list; prm && params; prm = prm->next)
            params[k++] = ex_sym_named(e->entity_syms, e->b.nentities, prm->name);
        uint32_t path = ex_unit(e, m->a, e->p->t_string, DNA_NIL, DNA_NIL, params && k ? params[0] : DNA_NIL, NULL);
        uint32_t as0 = e->b.nassigns;
        for (Node *s = m->list2; s; s = s->next) {
            char target[256];
            snprintf(target, sizeof target, "%s.%s", s->a->a && s->a->a->name ? s->a->a->name : "",
                     s->a->name ? s->a->name : "");
            uint32_t t = ex_cstr(e, target);
            uint32_t ex = jexpr(e, s->b);
            DnaAssign *a = EX_NEW(e, assigns);
            a->target = t;
            a->expr = ex;
        }
        x = &e->b.methods[mi];
        x->path = path;
        x->params = params;
        x->nparams = params ? k : 0;
        x->assign = as0;
        x->nassigns = e->b.nassigns - as0;
    }
    DnaConnector *c = &e->b.connectors[ci];
    c->name = ex_cstr(e, d->name);
    c->kind = ex_cstr(e, d->name2 ? d->name2 : "");
    c->opt = opt0;
    c->nopts = nopts;
    c->method = m0;
    c->nmethods = e->b.nmethods - m0;
}

static uint32_t fold_str(EmitCtx *e, Node *n)
{
    if (n && n->kind == N_STRING && !(n->flags & 1)) return ex_cstr(e, n->name ? n->name : "");
    if (n && n->kind == N_NAME && !n->sym) return ex_cstr(e, n->name);
    DnaConst k;
    if (n && ex_fold(e, n, &k) && k.type == DT_STR) return k.str;
    if (n) ex_error(e, n->span, "expected a constant string");
    return DNA_NIL;
}

void ex_team_decl(EmitCtx *e, Node *d)
{
    uint32_t ti = ex_sym_index(e->team_syms, e->b.nteams, d->sym);
    if (ti == DNA_NIL) return;
    uint32_t n = (uint32_t)ast_count(d->list);
    DnaMember *ms = arena_alloc(&e->arena, sizeof(DnaMember) * (n ? n : 1));
    uint32_t k = 0;
    for (Node *m = d->list; m && ms; m = m->next) {
        DnaMember *x = &ms[k++];
        x->email = fold_str(e, m->a);
        x->region = DNA_NIL;
        for (Node *o = m->list; o; o = o->next) {
            if (!strcmp(o->name, "region")) x->region = fold_str(e, o->a);
            else if (!strcmp(o->name, "max")) x->max = ex_fold_int(e, o->a, 0);
            else if (!strcmp(o->name, "weight")) x->weight = ex_fold_int(e, o->a, 0);
            else if (!strcmp(o->name, "skills") && o->a->kind == N_LIST) {
                uint32_t ns = (uint32_t)ast_count(o->a->list);
                x->skills = arena_alloc(&e->arena, sizeof(uint32_t) * (ns ? ns : 1));
                for (Node *s = o->a->list; s && x->skills; s = s->next) x->skills[x->nskills++] = fold_str(e, s);
            }
        }
    }
    DnaTeam *t = &e->b.teams[ti];
    t->name = ex_cstr(e, d->name);
    t->members = ms;
    t->nmembers = ms ? k : 0;
}

static uint32_t day_index(const char *d)
{
    static const char *const days[] = { "mon", "tue", "wed", "thu", "fri", "sat", "sun" };
    for (uint32_t i = 0; i < 7; i++) if (d && !strcmp(d, days[i])) return i + 1;
    return 0;
}

void ex_sequence_decl(EmitCtx *e, Node *d)
{
    uint32_t qi = ex_sym_index(e->seq_syms, e->b.nsequences, d->sym);
    if (qi == DNA_NIL) return;
    Entity *ent = ex_block_entity(e, d);
    uint32_t entity = ex_entity(e, ent);
    const char *tz = ex_tz_of(e, d);
    uint32_t n = 0;
    for (Node *x = d->list; x; x = x->next) n += x->kind == N_STEP;
    DnaStep *steps = arena_alloc(&e->arena, sizeof(DnaStep) * (n ? n : 1));
    uint32_t k = 0, limit0 = e->b.nopts;
    DnaSequence q;
    memset(&q, 0, sizeof q);
    q.exit_when = q.exit_event = q.tz = DNA_NIL;
    for (Node *x = d->list; x; x = x->next) {
        switch (x->kind) {
        case N_STEP: {
            if (!steps) break;
            DnaStep *s = &steps[k++];
            s->channel = ex_cstr(e, x->name ? x->name : "");
            s->via = ex_sym_named(e->conn_syms, e->b.nconnectors, x->name2);
            s->tmpl = ex_unit(e, x->a, e->p->t_string, DNA_NIL, DNA_NIL, entity, tz);
            s->wait_ms = ex_fold_int(e, x->b, 0);
            break;
        }
        case N_CHLIMITS:
            for (Node *l = x->list; l; l = l->next) opt(e, l->name, l->name2, l->a);
            break;
        case N_WINDOW:
            q.day_from = day_index(x->name);
            q.day_to = day_index(x->name2);
            q.from_min = (uint32_t)(x->a ? x->a->num : 0);
            q.to_min = (uint32_t)(x->b ? x->b->num : 0);
            if (x->c) q.tz = fold_str(e, x->c);
            break;
        case N_EXIT:
            if (x->a) q.exit_when = ex_unit(e, x->a, e->p->t_bool, DNA_NIL, DNA_NIL, entity, tz);
            if (x->b) q.exit_event = ex_event(e, x->b->sym);
            break;
        default: break;
        }
    }
    if (q.tz == DNA_NIL && tz) q.tz = ex_cstr(e, tz);     /* a window without a zone: the module's */
    q.name = ex_cstr(e, d->name);
    q.entity = entity;
    q.limit = limit0;
    q.nlimits = e->b.nopts - limit0;
    q.steps = steps;
    q.nsteps = steps ? k : 0;
    e->b.sequences[qi] = q;
}

