/*
 * resolve.c - name resolution: modules, imports and the declaration tables.
 *
 * Pass 1 puts every declaration of every file in its table and reports
 * duplicates.  Pass 2 gives entities their fields (declared, identity,
 * built in), score components and intent categories, and registers derived
 * fields, so that the checker (check.c) can look any name up.
 *
 * Scoping: the schema (events, entities, signals, connectors, teams,
 * sequences, sources, workflows, tests) is one namespace for the whole
 * bundle; consts and fns belong to their module and are reached from other
 * modules through an import (`grades.band(...)`).
 */
#include "sema/types.h"

#include <string.h>

static const char *const sym_kind_names[SYM__COUNT] = {
    "const", "fn", "event", "entity", "score", "signal", "connector", "team",
    "sequence", "source", "workflow", "test", "import",
};

#define I(s) ast_intern(p->in, s, strlen(s))

/* A declaration's span runs from its keyword to its end; diagnostics about
 * the declaration as a whole point at its first line. */
static Span name_span(Node *decl)
{
    return decl->span;
}

static Module *module_get(Program *p, const char *name)
{
    for (int i = 0; i < p->nmods; i++)
        if (p->mods[i]->name == name) return p->mods[i];
    Module *m = arena_alloc(p->arena, sizeof *m);
    if (!m) return NULL;
    m->name = name;
    if (p->nmods == p->capmods) {
        int nc = p->capmods ? p->capmods * 2 : 8;
        Module **nm = arena_alloc(p->arena, sizeof(Module *) * (size_t)nc);
        if (!nm) return NULL;
        if (p->nmods) memcpy(nm, p->mods, sizeof(Module *) * (size_t)p->nmods);
        p->mods = nm;
        p->capmods = nc;
    }
    p->mods[p->nmods++] = m;
    return m;
}

static void module_add_file(Program *p, Module *m, Node *f)
{
    if (m->nfiles == m->capfiles) {
        int nc = m->capfiles ? m->capfiles * 2 : 4;
        Node **nf = arena_alloc(p->arena, sizeof(Node *) * (size_t)nc);
        if (!nf) return;
        if (m->nfiles) memcpy(nf, m->files, sizeof(Node *) * (size_t)m->nfiles);
        m->files = nf;
        m->capfiles = nc;
    }
    m->files[m->nfiles++] = f;
}

static Sym *declare(Program *p, SymTab *tab, SymKind k, const char *name, Node *decl, Module *m)
{
    if (!name) return NULL;
    Sym *old = sym_get(tab, name);
    if (old) {
        Diag *g = diag_error(p->diags, DIAG_E022, name_span(decl), "%s '%s' is declared twice",
                             sym_kind_names[k], name);
        if (g && old->decl) {
            SrcFile *f = src_get(p->src, old->decl->span.file);
            uint32_t line, col;
            if (f) {
                src_linecol(f, old->decl->span.start, &line, &col);
                diag_help(g, "the first declaration is at %s:%u:%u; rename or remove one", f->path, line, col);
            }
        }
        return NULL;
    }
    Sym *s = arena_alloc(p->arena, sizeof *s);
    if (!s) return NULL;
    s->kind = k;
    s->name = name;
    s->decl = decl;
    s->mod = m;
    if (!sym_put(tab, s)) { p->oom = 1; return NULL; }
    return s;
}

static SymKind decl_kind(NodeKind k)
{
    switch (k) {
    case N_CONST: return SYM_CONST;
    case N_FN: return SYM_FN;
    case N_EVENT: return SYM_EVENT;
    case N_ENTITY: return SYM_ENTITY;
    case N_SCORE: return SYM_SCORE;
    case N_SIGNAL: return SYM_SIGNAL;
    case N_CONNECTOR: return SYM_CONNECTOR;
    case N_TEAM: return SYM_TEAM;
    case N_SEQUENCE: return SYM_SEQUENCE;
    case N_SOURCE: return SYM_SOURCE;
    case N_WORKFLOW: return SYM_WORKFLOW;
    default: return SYM__COUNT;
    }
}

/* ---- types of fields -------------------------------------------------- */

static const char *const prim_names[] = {
    "string", "int", "decimal", "bool", "duration", "timestamp",
};

static Type *prim_type(Program *p, const char *name)
{
    if (!strcmp(name, "string")) return p->t_string;
    if (!strcmp(name, "int")) return p->t_int;
    if (!strcmp(name, "decimal")) return p->t_decimal;
    if (!strcmp(name, "bool")) return p->t_bool;
    if (!strcmp(name, "duration")) return p->t_duration;
    if (!strcmp(name, "timestamp")) return p->t_timestamp;
    return NULL;
}

static Type *res_type_new(Program *p, Node *n, const char *field_name);

/* A type node is resolved once: its enum is one type wherever the field is
 * read, and its errors are reported once. */
Type *res_type(Program *p, Node *n, const char *field_name)
{
    if (!n) return p->t_error;
    if (!n->ty) n->ty = res_type_new(p, n, field_name);
    return n->ty;
}

static Type *res_type_new(Program *p, Node *n, const char *field_name)
{
    Type *t;
    if (n->a) {                                     /* [T] */
        t = ty_new(p, TY_LIST);
        t->elem = ty_base(res_type(p, n->a, field_name));
    } else if (!n->name) {                          /* enum(a, b, c) */
        t = ty_new(p, TY_ENUM);
        t->name = field_name;
        int nv = ast_count(n->list);
        t->values = arena_alloc(p->arena, sizeof(char *) * (size_t)(nv ? nv : 1));
        if (!t->values) return p->t_error;
        for (Node *v = n->list; v; v = v->next) {
            int dup = 0;
            for (int i = 0; i < t->nvalues; i++) dup |= t->values[i] == v->name;
            if (dup) {
                diag_error(p->diags, DIAG_E022, v->span, "enum value '%s' is listed twice", v->name);
                continue;
            }
            t->values[t->nvalues++] = v->name;
        }
    } else if ((t = prim_type(p, n->name)) != NULL) {
    } else {
        Sym *e = sym_get(&p->global[SYM_ENTITY], n->name);
        if (e && e->entity) {
            t = e->entity->ty;
        } else {
            Diag *g = diag_error(p->diags, DIAG_E016, n->span, "unknown type '%s'", n->name);
            Suggest sg;
            suggest_init(&sg, n->name);
            for (size_t i = 0; i < sizeof prim_names / sizeof *prim_names; i++) suggest_add(&sg, prim_names[i]);
            for (uint32_t i = 0; i < p->global[SYM_ENTITY].cap; i++)
                if (p->global[SYM_ENTITY].slots[i]) suggest_add(&sg, p->global[SYM_ENTITY].slots[i]->name);
            if (suggest_best(&sg)) diag_help(g, "did you mean '%s'?", suggest_best(&sg));
            else diag_help(g, "types are string, int, decimal, bool, duration, timestamp, enum(...), an entity, or [T]");
            return p->t_error;
        }
    }
    return n->num ? ty_optional(p, t) : t;
}

static void add_category(Program *p, Entity *e, const char *name)
{
    for (int i = 0; i < e->ncategories; i++)
        if (e->categories[i] == name) return;
    if (e->ncategories == e->capcategories) {
        int nc = e->capcategories ? e->capcategories * 2 : 8;
        const char **nv = arena_alloc(p->arena, sizeof(char *) * (size_t)nc);
        if (!nv) return;
        if (e->ncategories) memcpy(nv, e->categories, sizeof(char *) * (size_t)e->ncategories);
        e->categories = nv;
        e->capcategories = nc;
    }
    e->categories[e->ncategories++] = name;
}

static void add_score(Program *p, Entity *e, Sym *s)
{
    if (e->nscores == e->capscores) {
        int nc = e->capscores ? e->capscores * 2 : 8;
        Sym **nv = arena_alloc(p->arena, sizeof(Sym *) * (size_t)nc);
        if (!nv) return;
        if (e->nscores) memcpy(nv, e->scores, sizeof(Sym *) * (size_t)e->nscores);
        e->scores = nv;
        e->capscores = nc;
    }
    e->scores[e->nscores++] = s;
}

Entity *res_entity(Program *p, const char *name, Span sp, const char *what)
{
    Sym *s = sym_get(&p->global[SYM_ENTITY], name);
    if (s && s->entity) { s->uses++; return s->entity; }
    Diag *g = diag_error(p->diags, DIAG_E015, sp, "unknown entity '%s'%s%s", name,
                         what ? " in " : "", what ? what : "");
    Suggest sg;
    suggest_init(&sg, name);
    for (uint32_t i = 0; i < p->global[SYM_ENTITY].cap; i++)
        if (p->global[SYM_ENTITY].slots[i]) suggest_add(&sg, p->global[SYM_ENTITY].slots[i]->name);
    if (suggest_best(&sg)) diag_help(g, "did you mean '%s'?", suggest_best(&sg));
    return NULL;
}

/* the `for ENTITY` name of a block (kept in slot c), else the block */
static Span head_span(Node *decl, const char *name2)
{
    (void)name2;
    return decl->c ? decl->c->span : decl->span;
}

static void entity_fields(Program *p, Sym *s)
{
    Entity *e = s->entity;
    Node *d = s->decl;
    for (Node *id = d->list2; id; id = id->next) {
        if (ty_ent_field(e, id->name)) {
            diag_error(p->diags, DIAG_E022, id->span, "identity '%s' is listed twice", id->name);
            continue;
        }
        ty_ent_add_field(p, e, id->name, ty_optional(p, p->t_string), id, FLD_IDENTITY);
    }
    for (Node *f = d->list; f; f = f->next) {
        Field *old = ty_ent_field(e, f->name);
        Type *t = res_type(p, f->a, f->name);
        if (old && old->kind == FLD_IDENTITY) {
            /* an identity may also be declared with its type */
            old->ty = t;
            old->decl = f;
            old->kind = FLD_DECLARED;
            continue;
        }
        if (old) {
            diag_error(p->diags, DIAG_E022, f->span, "field '%s' is declared twice in entity '%s'",
                       f->name, s->name);
            continue;
        }
        if (!strcmp(f->name, "score") || !strcmp(f->name, "intent") || !strcmp(f->name, "first_touch") ||
            !strcmp(f->name, "last_touch")) {
            Diag *g = diag_error(p->diags, DIAG_E022, f->span, "'%s' is built into every entity", f->name);
            diag_help(g, "the engine computes %s.%s; name this field differently", s->name, f->name);
            continue;
        }
        ty_ent_add_field(p, e, f->name, t, f, FLD_DECLARED);
    }
    if (!d->list2) {
        Diag *g = diag_error(p->diags, DIAG_E023, d->span, "entity '%s' has no identity", s->name);
        diag_help(g, "name the keys events identify it by, e.g. `identity email`");
    }
}

static void entity_builtins(Program *p, Entity *e)
{
    static const char *const ts[] = { "created_at", "updated_at", "last_activity_at" };
    if (!ty_ent_field(e, I("score"))) {
        Type *t = ty_new(p, TY_SCORE);
        t->entity = e;
        ty_ent_add_field(p, e, I("score"), t, NULL, FLD_BUILTIN);
    }
    if (e->ncategories && !ty_ent_field(e, I("intent"))) {
        Type *t = ty_new(p, TY_INTENT);
        t->entity = e;
        Type *pe = ty_new(p, TY_ENUM);
        pe->name = I("intent");
        pe->values = e->categories;
        pe->nvalues = e->ncategories;
        e->intent_primary = ty_optional(p, pe);
        ty_ent_add_field(p, e, I("intent"), t, NULL, FLD_BUILTIN);
    }
    for (size_t i = 0; i < sizeof ts / sizeof *ts; i++)
        if (!ty_ent_field(e, I(ts[i]))) ty_ent_add_field(p, e, I(ts[i]), p->t_timestamp, NULL, FLD_BUILTIN);
    if (!ty_ent_field(e, I("owner"))) ty_ent_add_field(p, e, I("owner"), ty_optional(p, p->t_string), NULL, FLD_BUILTIN);
    if (!ty_ent_field(e, I("pipeline"))) ty_ent_add_field(p, e, I("pipeline"), ty_optional(p, p->t_string), NULL, FLD_BUILTIN);
    if (!ty_ent_field(e, I("first_touch"))) ty_ent_add_field(p, e, I("first_touch"), p->t_touch, NULL, FLD_BUILTIN);
    if (!ty_ent_field(e, I("last_touch"))) ty_ent_add_field(p, e, I("last_touch"), p->t_touch, NULL, FLD_BUILTIN);
    Field *st = ty_ent_field(e, I("stage"));
    if (st && ty_base(st->ty)->kind == TY_ENUM) {
        if (!ty_ent_field(e, I("stage_entered_at")))
            ty_ent_add_field(p, e, I("stage_entered_at"), p->t_timestamp, NULL, FLD_BUILTIN);
        if (!ty_ent_field(e, I("probability")))
            ty_ent_add_field(p, e, I("probability"), p->t_decimal, NULL, FLD_BUILTIN);
    }
}

void res_program(Program *p, Node **files, uint32_t nfiles)
{
    /* pass 1: modules and declarations */
    for (uint32_t i = 0; i < nfiles; i++) {
        Node *f = files[i];
        if (!f) continue;
        Node *mdecl = NULL;
        for (Node *d = f->list; d; d = d->next) {
            if (d->kind != N_MODULE) continue;
            if (mdecl) {
                Diag *g = diag_error(p->diags, DIAG_E023, d->span, "a file declares at most one module");
                diag_help(g, "split the file, one module per file");
                continue;
            }
            mdecl = d;
        }
        Module *m = module_get(p, mdecl ? mdecl->name : I("main"));
        if (!m) return;
        SrcFile *sf = src_get(p->src, f->span.file);
        if (sf && sf->is_stdlib) m->is_stdlib = 1;
        module_add_file(p, m, f);
        if (mdecl && mdecl->a) {
            if (m->timezone && m->timezone != mdecl->a->name)
                diag_error(p->diags, DIAG_E023, mdecl->a->span,
                           "module '%s' already has time zone \"%s\"", m->name, m->timezone);
            m->timezone = mdecl->a->name;
            m->tz_node = mdecl->a;
        }
        for (Node *d = f->list; d; d = d->next) {
            SymKind k = decl_kind(d->kind);
            if (k == SYM__COUNT) continue;
            SymTab *tab = (k == SYM_CONST || k == SYM_FN) ? &m->values : &p->global[k];
            Sym *s = declare(p, tab, k, d->name, d, m);
            if (!s) continue;
            d->sym = s;
            if (k == SYM_ENTITY) {
                s->entity = arena_alloc(p->arena, sizeof(Entity));
                if (!s->entity) return;
                s->entity->sym = s;
                s->entity->ty = ty_new(p, TY_ENTITY);
                s->entity->ty->name = s->name;
                s->entity->ty->entity = s->entity;
            } else if (k == SYM_EVENT) {
                s->ty = ty_new(p, TY_EVENT);
                s->ty->name = s->name;
                s->ty->sym = s;
            }
        }
    }
    /* pass 2: entity fields, components, categories, derived fields */
    for (uint32_t i = 0; i < p->global[SYM_ENTITY].cap; i++) {
        Sym *s = p->global[SYM_ENTITY].slots[i];
        if (s) entity_fields(p, s);
    }
    for (int mi = 0; mi < p->nmods; mi++) {
        Module *m = p->mods[mi];
        for (int fi = 0; fi < m->nfiles; fi++)
            for (Node *d = m->files[fi]->list; d; d = d->next) {
                if (d->kind == N_SCORE && d->sym) {
                    Entity *e = res_entity(p, d->name2, head_span(d, d->name2), "score");
                    if (e) add_score(p, e, d->sym);
                } else if (d->kind == N_INTENT) {
                    Entity *e = res_entity(p, d->name2, head_span(d, d->name2), "intent");
                    if (!e) continue;
                    for (Node *c = d->list; c; c = c->next) {
                        for (int k = 0; k < e->ncategories; k++)
                            if (e->categories[k] == c->name)
                                diag_error(p->diags, DIAG_E022, c->span,
                                           "intent category '%s' is declared twice", c->name);
                        add_category(p, e, c->name);
                    }
                } else if (d->kind == N_IMPORT) {
                    const char *alias = d->name2;
                    if (!alias) {
                        const char *dot = strrchr(d->name, '.');
                        alias = dot ? I(dot + 1) : d->name;
                    }
                    Sym *old = sym_get(&m->values, alias);
                    if (old && old->kind == SYM_MODULE && old->decl->name == d->name) {
                        d->sym = old;                   /* the same import in another file */
                        continue;
                    }
                    Sym *s = declare(p, &m->values, SYM_MODULE, alias, d, m);
                    if (s) { s->ty = ty_new(p, TY_MODULE); s->ty->sym = s; d->sym = s; }
                }
            }
    }
    for (uint32_t i = 0; i < p->global[SYM_ENTITY].cap; i++) {
        Sym *s = p->global[SYM_ENTITY].slots[i];
        if (s) entity_builtins(p, s->entity);
    }
    /* scores and intent categories are members of entity.score / .intent;
     * a score sharing its name with an entity field is fine */
    for (int mi = 0; mi < p->nmods; mi++) {
        Module *m = p->mods[mi];
        for (int fi = 0; fi < m->nfiles; fi++)
            for (Node *d = m->files[fi]->list; d; d = d->next) {
                if (d->kind != N_DERIVE) continue;
                Node *t = d->a;
                if (!t || t->kind != N_MEMBER || !t->a || t->a->kind != N_NAME) {
                    Diag *g = diag_error(p->diags, DIAG_E023, t ? t->span : d->span,
                                         "derive defines a field of an entity");
                    diag_help(g, "write `derive lead.grade = ...`");
                    continue;
                }
                Entity *e = res_entity(p, t->a->name, t->a->span, "derive");
                if (!e) continue;
                Field *old = ty_ent_field(e, t->name);
                if (old) {
                    Diag *g = diag_error(p->diags, DIAG_E022, t->span, "'%s.%s' is already %s",
                                         t->a->name, t->name,
                                         old->kind == FLD_DERIVED ? "derived elsewhere" :
                                         old->kind == FLD_BUILTIN ? "built in" : "a declared field");
                    diag_help(g, "derive a new field name");
                    continue;
                }
                Field *f = ty_ent_add_field(p, e, t->name, NULL, d, FLD_DERIVED);
                (void)f;
                d->sym = e->sym;
                if (p->nderives == p->capderives) {
                    int nc = p->capderives ? p->capderives * 2 : 8;
                    Node **nd = arena_alloc(p->arena, sizeof(Node *) * (size_t)nc);
                    if (!nd) return;
                    if (p->nderives) memcpy(nd, p->derives, sizeof(Node *) * (size_t)p->nderives);
                    p->derives = nd;
                    p->capderives = nc;
                }
                p->derives[p->nderives++] = d;
            }
    }
}

void prog_free(Program *p)
{
    for (int i = 0; i < SYM__COUNT; i++) sym_free(&p->global[i]);
    for (int i = 0; i < p->nmods; i++) sym_free(&p->mods[i]->values);
}
