/*
 * lsp_complete.c - the language server's completion and formatting.
 *
 * Completion compiles a patched copy of the document: after `x.` the word
 * being typed is replaced by a placeholder name, so the member node the
 * checker types tells what `x` is (an entity, `event`, a score, a
 * module...) and its members are offered.  Elsewhere the word is taken
 * out: inside a `match` arm's pattern the matched enum's values are
 * offered, after `on` the events, after `enroll in` the sequences, and
 * otherwise the keywords of the enclosing declaration, the names in scope
 * and, at the top level, the declaration keywords.
 *
 * Formatting is `dnac fmt` on the buffer: one edit replacing the whole
 * text, none when it is formatted already, an error when it does not parse.
 */
#include "tools/lsp_int.h"
#include "tools/fmt.h"
#include "base/mem.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#define PLACEHOLDER "__dna_complete__"

/* CompletionItemKind */
enum { CK_METHOD = 2, CK_FUNCTION = 3, CK_FIELD = 5, CK_VARIABLE = 6, CK_CLASS = 7, CK_MODULE = 9,
       CK_KEYWORD = 14, CK_ENUM_MEMBER = 20, CK_CONSTANT = 21, CK_EVENT = 23 };

static void item(json_t *items, const char *label, int kind, const char *detail)
{
    size_t i;
    json_t *it;
    json_array_foreach(items, i, it)
        if (!strcmp(json_string_value(json_object_get(it, "label")), label)) return;
    json_t *j = json_pack("{s:s,s:i}", "label", label, "kind", kind);
    if (detail && *detail) json_object_set_new(j, "detail", json_string(detail));
    json_array_append_new(items, j);
}

/* ---- members after `x.` --------------------------------------------------- */

static void entity_members(json_t *items, Entity *e)
{
    for (int i = 0; i < e->nfields; i++)
        item(items, e->fields[i].name, CK_FIELD, e->fields[i].ty ? ty_name(e->fields[i].ty) : NULL);
}

static void event_members(json_t *items, Project *pr, Sym *ev)
{
    static const char *const builtin[][2] = {
        { "id", "string" }, { "type", "string" }, { "source", "string" }, { "occurred_at", "timestamp" } };
    for (size_t i = 0; i < 4; i++) item(items, builtin[i][0], CK_FIELD, builtin[i][1]);
    for (Node *f = ev && ev->decl ? ev->decl->list : NULL; f; f = f->next) {
        char detail[128] = "";
        SrcFile *sf = f->a ? src_get(&pr->src, f->a->span.file) : NULL;
        if (sf && f->a->span.end - f->a->span.start < sizeof detail)
            snprintf(detail, sizeof detail, "%.*s", (int)(f->a->span.end - f->a->span.start), sf->text + f->a->span.start);
        item(items, f->name, CK_FIELD, detail);
    }
}

static void module_members(json_t *items, Program *p, const char *modname)
{
    for (int i = 0; i < p->nmods; i++) {
        if (p->mods[i]->name != modname) continue;
        SymTab *t = &p->mods[i]->values;
        for (uint32_t k = 0; k < t->cap; k++) {
            Sym *s = t->slots[k];
            if (!s || s->kind == SYM_MODULE) continue;
            item(items, s->name, s->kind == SYM_FN ? CK_FUNCTION : CK_CONSTANT,
                 s->kind == SYM_FN ? "fn" : s->ty ? ty_name(s->ty) : "const");
        }
    }
}

static void members_of(json_t *items, Project *pr, Type *t)
{
    Type *b = ty_base(t);
    Entity *e = b->entity;
    switch (b->kind) {
    case TY_ENTITY: if (e) entity_members(items, e); break;
    case TY_EVENT: event_members(items, pr, b->sym); break;
    case TY_SCORE:
        for (int i = 0; e && i < e->nscores; i++) item(items, e->scores[i]->name, CK_FIELD, "decimal");
        break;
    case TY_INTENT:
        item(items, "primary", CK_FIELD, e && e->intent_primary ? ty_name(e->intent_primary) : NULL);
        item(items, "confidence", CK_FIELD, "decimal");
        item(items, "total", CK_FIELD, "decimal");
        for (int i = 0; e && i < e->ncategories; i++) item(items, e->categories[i], CK_FIELD, "decimal");
        break;
    case TY_TOUCH:
        item(items, "source", CK_FIELD, "string?");
        item(items, "campaign", CK_FIELD, "string?");
        item(items, "at", CK_FIELD, "timestamp?");
        break;
    case TY_MODULE:
        if (b->sym && b->sym->decl) module_members(items, &pr->prog, b->sym->decl->name);
        break;
    case TY_CONNECTOR:
        for (Node *m = b->sym && b->sym->decl ? b->sym->decl->list2 : NULL; m; m = m->next)
            item(items, m->name, CK_METHOD, "connector method");
        break;
    default: break;
    }
}

/* A patched copy: [ws, we) of the document replaced by `with`. */
static char *patch(const LspDoc *d, uint32_t ws, uint32_t we, const char *with, size_t *len)
{
    size_t wl = strlen(with);
    *len = d->len - (we - ws) + wl;
    char *t = malloc(*len + 1);
    if (!t) return NULL;
    memcpy(t, d->text, ws);
    memcpy(t + ws, with, wl);
    memcpy(t + ws + wl, d->text + we, d->len - we);
    t[*len] = 0;
    return t;
}

static void complete_member(Lsp *s, const LspDoc *d, uint32_t ws, uint32_t we, json_t *items)
{
    size_t len;
    char *t = patch(d, ws, we, PLACEHOLDER, &len);
    LspUnit u;
    if (!t || !lsp_unit_build(s, &u, d, t, len, 0)) { free(t); return; }
    static const NodeKind member[] = { N_MEMBER, N__COUNT };
    Node *n = u.file ? lsp_node_of(u.pr.files[u.file], ws + 1, member) : NULL;
    if (n && n->name && !strcmp(n->name, PLACEHOLDER)) {
        Type *ot = n->a ? n->a->ty : NULL;
        if (!ot && n->a && n->a->kind == N_NAME) {            /* a target path the checker did not type */
            Sym *es = sym_get(&u.pr.prog.global[SYM_ENTITY], n->a->name);
            if (es && es->entity) ot = es->entity->ty;
        }
        if (ot) members_of(items, &u.pr, ot);
    }
    lsp_unit_free(&u);
    free(t);
}

/* ---- everything else ------------------------------------------------------- */

static const char *const top_keywords[] = {
    "module", "import", "const", "fn", "event", "entity", "score", "derive", "intent", "signal", "route",
    "workflow", "source", "connector", "team", "sequence", "test", NULL };
static const char *const expr_keywords[] = { "and", "or", "not", "contains", "in", "true", "false", "none",
                                             "match", NULL };
static const char *const rule_keywords[] = { "on", "when", "add", "limit", "per", "expire", "decay",
                                             "priority", NULL };
static const char *const signal_keywords[] = { "on", "when", "weight", "decay", "priority", NULL };
static const char *const action_keywords[] = { "set", "move", "to", "assign", "route", "pipeline", "create",
                                               "task", "due", "notify", "webhook", "call", "enroll", "in",
                                               "emit", "then", NULL };
static const char *const route_keywords[] = { "when", "match", "else", "do", NULL };
static const char *const workflow_keywords[] = { "on", "when", "mode", "priority", "do", "crosses", "above",
                                                 "below", "becomes", "changes", "stays", "inactive", "for",
                                                 "alert", "overdue", "schedule", NULL };
static const char *const source_keywords[] = { "path", "tolerance", "signature", "events", "map", "when", NULL };
static const char *const connector_keywords[] = { "auth", "rate", "per", "set", NULL };
static const char *const team_keywords[] = { "member", "weight", NULL };
static const char *const sequence_keywords[] = { "step", "via", "wait", "limit", "window", "exit", "when",
                                                 "on", NULL };
static const char *const test_keywords[] = { "given", "event", "at", "wait", "expect", "no", NULL };
static const char *const entity_keywords[] = { "identity", "enum", NULL };

static void keywords(json_t *items, const char *const *k)
{
    for (; k && *k; k++) item(items, *k, CK_KEYWORD, NULL);
}

static void block_keywords(json_t *items, NodeKind k)
{
    switch (k) {
    case N_SCORE: case N_INTENT: keywords(items, rule_keywords); break;
    case N_SIGNAL: keywords(items, signal_keywords); break;
    case N_ROUTE: keywords(items, route_keywords); keywords(items, action_keywords); break;
    case N_WORKFLOW: keywords(items, workflow_keywords); keywords(items, action_keywords); break;
    case N_SOURCE: keywords(items, source_keywords); break;
    case N_CONNECTOR: keywords(items, connector_keywords); break;
    case N_TEAM: keywords(items, team_keywords); break;
    case N_SEQUENCE: keywords(items, sequence_keywords); break;
    case N_TEST: keywords(items, test_keywords); break;
    case N_ENTITY: case N_EVENT: keywords(items, entity_keywords); return;
    default: break;
    }
    keywords(items, expr_keywords);
}

static void globals(json_t *items, Program *p, SymKind k, int kind, const char *detail)
{
    SymTab *t = &p->global[k];
    for (uint32_t i = 0; i < t->cap; i++)
        if (t->slots[i]) item(items, t->slots[i]->name, kind, detail);
}

static void in_scope(json_t *items, LspUnit *u, Node *outer)
{
    Program *p = &u->pr.prog;
    for (int i = 0; i < p->nmods; i++) {
        for (int k = 0; k < p->mods[i]->nfiles; k++) {
            if (p->mods[i]->files[k] != u->pr.files[u->file]) continue;
            SymTab *t = &p->mods[i]->values;
            for (uint32_t j = 0; j < t->cap; j++)
                if (t->slots[j])
                    item(items, t->slots[j]->name, t->slots[j]->kind == SYM_FN ? CK_FUNCTION
                         : t->slots[j]->kind == SYM_MODULE ? CK_MODULE : CK_CONSTANT, NULL);
        }
    }
    if (outer && outer->kind == N_FN)
        for (Node *q = outer->list; q; q = q->next) item(items, q->name, CK_VARIABLE, "parameter");
    globals(items, p, SYM_ENTITY, CK_CLASS, "entity");
    item(items, "event", CK_KEYWORD, "the event of this rule");
}

/* The word before [ws]: the previous identifier on the line, if any. */
static int word_before(const LspDoc *d, uint32_t ws, const char *w)
{
    uint32_t e = ws;
    while (e > 0 && (d->text[e - 1] == ' ' || d->text[e - 1] == '\t')) e--;
    uint32_t b = e;
    while (b > 0 && (isalnum((unsigned char)d->text[b - 1]) || d->text[b - 1] == '_')) b--;
    return e - b == strlen(w) && !memcmp(d->text + b, w, e - b) ? (int)b : -1;
}

/* The pattern place of a match arm: only blanks since the line's start
 * (or the match's opening brace). */
static int at_arm_start(const LspDoc *d, uint32_t ws)
{
    uint32_t i = ws;
    while (i > 0 && (d->text[i - 1] == ' ' || d->text[i - 1] == '\t')) i--;
    return i == 0 || d->text[i - 1] == '\n' || d->text[i - 1] == '{' || d->text[i - 1] == ',';
}

static int complete_arm(LspUnit *u, const LspDoc *d, uint32_t ws, json_t *items)
{
    static const NodeKind m[] = { N_MATCH, N_RMATCH, N__COUNT };
    Node *n = lsp_node_of(u->pr.files[u->file], ws, m);
    if (!n || !n->a || !n->a->ty || ws <= n->a->span.end || !at_arm_start(d, ws)) return 0;
    Type *t = ty_base(n->a->ty);
    if (t->kind != TY_ENUM) return 0;
    for (int i = 0; i < t->nvalues; i++) item(items, t->values[i], CK_ENUM_MEMBER, ty_name(t));
    item(items, "_", CK_KEYWORD, "any other value");
    return 1;
}

/* Inside a comment, or the text of a string (a template's hole is code). */
static int in_text(LspUnit *u, uint32_t ws)
{
    for (Comment *c = u->pr.comments[u->file]; c; c = c->next)
        if (c->span.start < ws && ws <= c->span.end) return 1;
    Node *n = lsp_node_at(u->pr.files[u->file], ws, NULL);
    return n && (n->kind == N_STRING || n->kind == N_STRPART) && ws > n->span.start && ws < n->span.end;
}

static void complete_other(Lsp *s, const LspDoc *d, uint32_t ws, uint32_t we, json_t *items)
{
    size_t len;
    char *t = patch(d, ws, we, "", &len);
    LspUnit u;
    if (!t || !lsp_unit_build(s, &u, d, t, len, 0)) { free(t); return; }
    Node *outer = NULL;
    if (u.file) lsp_node_at(u.pr.files[u.file], ws, &outer);
    int on = word_before(d, ws, "on"), in = word_before(d, ws, "in");
    if (!u.file || in_text(&u, ws)) {
    } else if (complete_arm(&u, d, ws, items)) {
    } else if (on >= 0 && outer) {
        globals(items, &u.pr.prog, SYM_EVENT, CK_EVENT, "event");
        globals(items, &u.pr.prog, SYM_ENTITY, CK_CLASS, "entity");
        if (outer->kind == N_WORKFLOW) { item(items, "alert", CK_KEYWORD, NULL); item(items, "schedule", CK_KEYWORD, NULL); }
    } else if (in >= 0 && word_before(d, (uint32_t)in, "enroll") >= 0) {
        globals(items, &u.pr.prog, SYM_SEQUENCE, CK_CLASS, "sequence");
    } else if (!outer || ws < outer->span.start || ws >= outer->span.end) {
        keywords(items, top_keywords);
    } else {
        block_keywords(items, (NodeKind)outer->kind);
        if (outer->kind != N_ENTITY && outer->kind != N_EVENT) in_scope(items, &u, outer);
    }
    lsp_unit_free(&u);
    free(t);
}

static int cmp_label(const void *a, const void *b)
{
    return strcmp(json_string_value(json_object_get(*(json_t *const *)a, "label")),
                  json_string_value(json_object_get(*(json_t *const *)b, "label")));
}

/* The items in label order, so that answers do not depend on hash order. */
static json_t *sorted(json_t *items)
{
    size_t n = json_array_size(items);
    json_t **v = malloc((n ? n : 1) * sizeof *v);
    if (!v) return items;
    for (size_t i = 0; i < n; i++) v[i] = json_incref(json_array_get(items, i));
    qsort(v, n, sizeof *v, cmp_label);
    json_t *out = json_array();
    for (size_t i = 0; i < n; i++) json_array_append_new(out, v[i]);
    free(v);
    json_decref(items);
    return out;
}

json_t *lsp_completion(Lsp *s, const LspDoc *d, json_t *params)
{
    uint32_t off, ws, we;
    if (!lsp_param_offset(d, params, &off)) return NULL;
    lsp_word_at(d->text, d->len, off, &ws, &we);
    we = off;                                   /* the word up to the cursor is what is typed */
    json_t *items = json_array();
    if (ws > 0 && d->text[ws - 1] == '.') complete_member(s, d, ws, we, items);
    else complete_other(s, d, ws, we, items);
    return json_pack("{s:b,s:o}", "isIncomplete", 0, "items", sorted(items));
}

/* ---- formatting --------------------------------------------------------------- */

json_t *lsp_formatting(Lsp *s, const LspDoc *d, const char **err)
{
    (void)s;
    Project pr;
    proj_init(&pr, NULL);
    json_t *r = NULL;
    *err = "out of memory";
    if (!proj_add_source(&pr, d->path ? d->path : d->uri, d->text, d->len)) goto done;
    SrcFile *f = pr.src.files[1];
    Comment *cm = NULL;
    Node *file = parse_file(&pr.arena, &pr.in, &pr.diags, 1, f, &cm);
    if (pr.diags.nerrors || !file) { *err = "the document has syntax errors; fix them to format it"; goto done; }
    size_t len = 0;
    char *out = fmt_file(file, cm, f, &len);
    if (!out) goto done;
    DiagList scratch;                          /* never hand back text that would not parse */
    diag_init(&scratch, &pr.src);
    uint32_t id = src_add(&pr.src, f->path, out, len);
    if (id) parse_file(&pr.arena, &pr.in, &scratch, id, pr.src.files[id], NULL);
    int bad = !id || scratch.nerrors;
    diag_free(&scratch);
    if (bad) *err = "internal error: the formatted text does not parse; the document is left as it is";
    else if (len == d->len && !memcmp(out, d->text, len)) r = json_array();
    else
        r = json_pack("[{s:o,s:s%}]", "range", lsp_range_json(f, 0, f->len), "newText", out, len);
    dna_free(out, len + 1);
done:
    proj_free(&pr);
    return r;
}
