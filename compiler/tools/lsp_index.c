/*
 * lsp_index.c - the language server's analyses: the checked unit around a
 * document, UTF-16 positions, nodes under the cursor, what a name refers
 * to (definition) and what it is (hover), and the diagnostics as the
 * protocol has them.
 *
 * A unit is the document's project: every *.dna file under the project's
 * root (project_root: the document's folder, or the highest folder above
 * it such that each folder on the way holds .dna files), open buffers
 * instead of their files on disk, plus the standard-library modules they
 * import, checked together as `dnac check ROOT` would and linted when they
 * check clean.  Units are built per request; a folder of
 * rules checks in milliseconds.
 */
#include "tools/lsp_int.h"
#include "tools/lint.h"
#include "base/mem.h"

#include <dirent.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* ---- URIs --------------------------------------------------------------- */

static int hexval(int c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

char *lsp_uri_to_path(const char *uri)
{
    if (strncmp(uri, "file://", 7) != 0) return NULL;
    const char *p = uri + 7;
    if (!strncmp(p, "localhost/", 10)) p += 9;
    if (*p != '/') return NULL;
    char *out = malloc(strlen(p) + 1), *o = out;
    if (!out) return NULL;
    for (; *p; p++) {
        if (*p == '%' && hexval(p[1]) >= 0 && hexval(p[2]) >= 0) {
            *o++ = (char)(hexval(p[1]) * 16 + hexval(p[2]));
            p += 2;
        } else *o++ = *p;
    }
    *o = 0;
    if (strlen(out) != (size_t)(o - out)) { free(out); return NULL; }    /* %00 */
    return out;
}

char *lsp_path_to_uri(const char *path)
{
    size_t n = strlen(path);
    char *out = malloc(7 + 3 * n + 1), *o = out;
    if (!out) return NULL;
    memcpy(o, "file://", 7);
    o += 7;
    for (const unsigned char *p = (const unsigned char *)path; *p; p++) {
        if ((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') ||
            strchr("-._~/", *p))
            *o++ = (char)*p;
        else o += sprintf(o, "%%%02X", *p);
    }
    *o = 0;
    return out;
}

/* The URI a source file is known by: an open document's own, else its path's. */
static json_t *src_uri(const LspUnit *u, const SrcFile *f)
{
    if (u->doc->path && !strcmp(f->path, u->doc->path)) return json_string(u->doc->uri);
    if (!u->doc->path && !strcmp(f->path, u->doc->uri)) return json_string(u->doc->uri);
    char abs[4096];
    const char *path = f->path[0] == '/' || !realpath(f->path, abs) ? f->path : abs;
    char *uri = path[0] == '/' ? lsp_path_to_uri(path) : strdup(path);
    json_t *j = uri ? json_string(uri) : NULL;
    free(uri);
    return j;
}

/* ---- units -------------------------------------------------------------- */

static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

#define LSP_MAX_FILES 4096         /* .dna files of one project */
#define LSP_MAX_DEPTH 16           /* folders below the project's root */

typedef struct Files { char **v; size_t n, cap; } Files;

static int files_add(Files *f, char *path)
{
    if (!path) return 0;
    if (f->n == f->cap) {
        size_t nc = f->cap ? f->cap * 2 : 32;
        char **nv = realloc(f->v, nc * sizeof *nv);
        if (!nv) { free(path); return 0; }
        f->v = nv;
        f->cap = nc;
    }
    f->v[f->n++] = path;
    return 1;
}

static int is_dna(const char *name)
{
    size_t l = strlen(name);
    return name[0] != '.' && l > 4 && !strcmp(name + l - 4, ".dna");
}

/* Every *.dna file under dir (dot folders skipped), as `dnac check DIR`. */
static void collect(Files *f, const char *dir, int depth)
{
    DIR *d = depth <= LSP_MAX_DEPTH ? opendir(dir) : NULL;
    struct dirent *e;
    while (d && (e = readdir(d)) != NULL && f->n < LSP_MAX_FILES) {
        if (e->d_name[0] == '.') continue;
        char *path = NULL;
        if (asprintf(&path, "%s%s%s", dir, strcmp(dir, "/") ? "/" : "", e->d_name) < 0) break;
        struct stat st;
        if (stat(path, &st) != 0) { free(path); continue; }
        if (S_ISDIR(st.st_mode)) { collect(f, path, depth + 1); free(path); }
        else if (S_ISREG(st.st_mode) && is_dna(e->d_name)) files_add(f, path);
        else free(path);
    }
    if (d) closedir(d);
}

static int has_entry(const char *dir, const char *name, int dna)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    int found = 0;
    while (d && !found && (e = readdir(d)) != NULL) found = dna ? is_dna(e->d_name) : !strcmp(e->d_name, name);
    if (d) closedir(d);
    return found;
}

static void parent_of(char *dir)
{
    char *slash = strrchr(dir, '/');
    if (slash == dir) dir[1] = 0; else if (slash) *slash = 0;
}

/* The project's root: the document's folder, and up from there while the
 * parent folder holds .dna files too (rules/tests/x.dna belongs to rules/),
 * stopping at a repository root (a folder with .git). */
static char *project_root(const char *self)
{
    char *dir = strdup(self);
    if (!dir) return NULL;
    parent_of(dir);
    for (int up = 0; up < 64 && strcmp(dir, "/") != 0 && !has_entry(dir, ".git", 0); up++) {
        char *parent = strdup(dir);
        if (!parent) break;
        parent_of(parent);
        if (!has_entry(parent, NULL, 1)) { free(parent); break; }
        free(dir);
        dir = parent;
    }
    return dir;
}

/* The *.dna files of the project, sorted, with `self` among them. */
static char **project_files(const char *self, int disk, size_t *n)
{
    Files f = { NULL, 0, 0 };
    char *root = disk ? project_root(self) : NULL;
    if (root) collect(&f, root, 0);
    free(root);
    int have_self = 0;
    for (size_t i = 0; i < f.n; i++) have_self |= !strcmp(f.v[i], self);
    if (!have_self) files_add(&f, strdup(self));
    if (f.v) qsort(f.v, f.n, sizeof *f.v, cmp_str);
    *n = f.n;
    return f.v;
}

static const LspDoc *open_doc_at(Lsp *s, const char *path)
{
    for (size_t i = 0; i < s->ndocs; i++)
        if (s->docs[i].path && !strcmp(s->docs[i].path, path)) return &s->docs[i];
    return NULL;
}

/* Add the document itself: the given text, its buffer, or its file. */
static void add_self(Lsp *s, LspUnit *u, const char *name, const char *text, size_t len)
{
    if (text) proj_add_source(&u->pr, name, text, len);
    else if (u->doc->text) proj_add_source(&u->pr, name, u->doc->text, u->doc->len);
    else if (!s->opt.no_disk) proj_add_path(&u->pr, name);
}

static void add_folder(Lsp *s, LspUnit *u, const char *text, size_t len)
{
    const char *self = u->doc->path;
    size_t n = 0;
    char **files = project_files(self, !s->opt.no_disk, &n);
    for (size_t i = 0; files && i < n; i++) {
        const LspDoc *od;
        if (!strcmp(files[i], self)) add_self(s, u, self, text, len);
        else if ((od = open_doc_at(s, files[i])) != NULL) proj_add_source(&u->pr, files[i], od->text, od->len);
        else proj_add_path(&u->pr, files[i]);
        free(files[i]);
    }
    free(files);
}

static void lint_unit(LspUnit *u, int disk)
{
    LintConfig cfg;
    lint_config_default(&cfg);
    char path[4096], err[512];
    const char *where = u->doc->path;
    char dir[4096];
    if (where && disk) {
        snprintf(dir, sizeof dir, "%s", where);
        char *slash = strrchr(dir, '/');
        if (slash && slash != dir) *slash = 0;
        if (lint_config_find(dir, path, sizeof path)) lint_config_load(&cfg, path, err, sizeof err);
    }
    lint_program(&u->pr.prog, &cfg, &u->pr.diags);
    diag_sort(&u->pr.diags);
}

int lsp_unit_build(Lsp *s, LspUnit *u, const LspDoc *doc, const char *text, size_t len, int lint)
{
    memset(u, 0, sizeof *u);
    u->doc = doc;
    proj_init(&u->pr, s->opt.stdlib_dir);
    if (doc->path) add_folder(s, u, text, len);
    else add_self(s, u, doc->uri, text, len);
    proj_check(&u->pr);
    const char *name = doc->path ? doc->path : doc->uri;
    for (uint32_t i = 1; i < u->pr.src.n; i++)
        if (!u->pr.src.files[i]->is_stdlib && !strcmp(u->pr.src.files[i]->path, name)) { u->file = i; break; }
    if (lint && !u->pr.diags.nerrors && !u->pr.arena.failed) lint_unit(u, !s->opt.no_disk);
    return 1;
}

void lsp_unit_free(LspUnit *u)
{
    proj_free(&u->pr);
}

/* ---- positions ------------------------------------------------------------ */

/* Bytes and UTF-16 units of the character at p (invalid bytes count one). */
static int char_width(const unsigned char *p, const unsigned char *end, int *units)
{
    int n = *p < 0x80 ? 1 : *p >= 0xF0 && *p < 0xF8 ? 4 : *p >= 0xE0 ? 3 : *p >= 0xC0 ? 2 : 1;
    if (p + n > end) n = 1;
    for (int i = 1; i < n; i++)
        if ((p[i] & 0xC0) != 0x80) { n = 1; break; }
    *units = n == 4 ? 2 : 1;
    return n;
}

json_t *lsp_pos_json(const SrcFile *f, uint32_t off)
{
    if (off > f->len) off = f->len;
    uint32_t lo = 0, hi = f->nlines;
    while (hi - lo > 1) {
        uint32_t mid = (lo + hi) / 2;
        if (f->lines[mid] <= off) lo = mid; else hi = mid;
    }
    const unsigned char *p = (const unsigned char *)f->text + (f->nlines ? f->lines[lo] : 0);
    const unsigned char *at = (const unsigned char *)f->text + off, *end = (const unsigned char *)f->text + f->len;
    int64_t col = 0;
    while (p < at) {
        int units;
        p += char_width(p, end, &units);
        col += units;
    }
    return json_pack("{s:I,s:I}", "line", (json_int_t)lo, "character", (json_int_t)col);
}

json_t *lsp_range_json(const SrcFile *f, uint32_t start, uint32_t end)
{
    return json_pack("{s:o,s:o}", "start", lsp_pos_json(f, start), "end", lsp_pos_json(f, end < start ? start : end));
}

uint32_t lsp_text_offset(const char *text, size_t len, int64_t line, int64_t ch)
{
    const unsigned char *p = (const unsigned char *)text, *end = p + len;
    for (int64_t l = 0; l < line && p < end; p++)
        if (*p == '\n') l++;
    for (int64_t c = 0; c < ch && p < end && *p != '\n';) {
        int units;
        p += char_width(p, end, &units);
        c += units;
    }
    return (uint32_t)(p - (const unsigned char *)text);
}

int lsp_param_offset(const LspDoc *d, json_t *params, uint32_t *off)
{
    json_t *pos = json_object_get(params, "position");
    json_t *l = json_object_get(pos, "line"), *c = json_object_get(pos, "character");
    if (!json_is_integer(l) || !json_is_integer(c) || json_integer_value(l) < 0 || json_integer_value(c) < 0)
        return 0;
    *off = lsp_text_offset(d->text, d->len, json_integer_value(l), json_integer_value(c));
    return 1;
}

/* ---- the syntax tree -------------------------------------------------------- */

#define PATH_MAX_DEPTH 600

static int holds(const Node *n, uint32_t off)
{
    return n->span.file && n->span.start <= off && off <= n->span.end && n->span.end > n->span.start;
}

/* The chain of nodes from a top-level declaration down to the innermost
 * one holding off; returns its length. */
static int path_at(Node *file, uint32_t off, Node **path)
{
    int n = 0;
    Node *cur = NULL;
    for (Node *d = file ? file->list : NULL; d; d = d->next)
        if (holds(d, off)) { cur = d; break; }
    while (cur && n < PATH_MAX_DEPTH) {
        path[n++] = cur;
        Node *next = NULL;
        Node *kids[3] = { cur->a, cur->b, cur->c };
        for (int i = 0; i < 3 && !next; i++)
            if (kids[i] && holds(kids[i], off)) next = kids[i];
        for (Node *k = cur->list; k && !next; k = k->next)
            if (holds(k, off)) next = k;
        for (Node *k = cur->list2; k && !next; k = k->next)
            if (holds(k, off)) next = k;
        cur = next;
    }
    return n;
}

Node *lsp_node_at(Node *file, uint32_t off, Node **outer)
{
    Node *path[PATH_MAX_DEPTH];
    int n = path_at(file, off, path);
    if (outer) *outer = n ? path[0] : NULL;
    return n ? path[n - 1] : NULL;
}

Node *lsp_node_of(Node *file, uint32_t off, const NodeKind *kinds)
{
    Node *path[PATH_MAX_DEPTH];
    int n = path_at(file, off, path);
    for (int i = n - 1; i >= 0; i--)
        for (const NodeKind *k = kinds; *k != N__COUNT; k++)
            if (path[i]->kind == *k) return path[i];
    return NULL;
}

static int is_word(int c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_'; }

int lsp_word_at(const char *t, size_t len, uint32_t off, uint32_t *ws, uint32_t *we)
{
    if (off > len) off = (uint32_t)len;
    uint32_t a = off, b = off;
    while (a > 0 && is_word((unsigned char)t[a - 1])) a--;
    while (b < len && is_word((unsigned char)t[b])) b++;
    *ws = a;
    *we = b;
    return b > a;
}

/* ---- what a name refers to ------------------------------------------------- */

typedef struct Target {
    Node *decl;                 /* the declaring node */
    const char *name;           /* the name to select inside it */
    const char *what;           /* "event", "field", ... */
    Type *ty;                   /* the type, when known */
} Target;

/* The range of `name` inside decl: its first whole-word occurrence after
 * the declaration's first word (the keyword), else the whole span. */
static void name_span(const SrcFile *f, const Node *decl, const char *name, uint32_t *s, uint32_t *e)
{
    *s = decl->span.start;
    *e = decl->span.end;
    size_t nl = name ? strlen(name) : 0;
    if (!nl || decl->span.end > f->len) return;
    for (int pass = 0; pass < 2; pass++) {
        uint32_t i = decl->span.start;
        if (!pass) while (i < decl->span.end && is_word((unsigned char)f->text[i])) i++;
        for (; i + nl <= decl->span.end; i++) {
            if (memcmp(f->text + i, name, nl) != 0) continue;
            if ((i > 0 && is_word((unsigned char)f->text[i - 1])) ||
                (i + nl < f->len && is_word((unsigned char)f->text[i + nl])))
                continue;
            *s = i;
            *e = i + (uint32_t)nl;
            return;
        }
    }
}

static Module *module_named(Program *p, const char *name)
{
    for (int i = 0; i < p->nmods; i++)
        if (p->mods[i]->name == name) return p->mods[i];
    return NULL;
}

static Node *module_decl_of(Project *pr, const char *name)
{
    for (uint32_t i = 1; i < pr->src.n; i++)
        for (Node *d = pr->files[i] ? pr->files[i]->list : NULL; d; d = d->next)
            if (d->kind == N_MODULE && d->name == name) return d;
    return NULL;
}

static Module *module_of_file(Program *p, const Node *file)
{
    for (int i = 0; i < p->nmods; i++)
        for (int k = 0; k < p->mods[i]->nfiles; k++)
            if (p->mods[i]->files[k] == file) return p->mods[i];
    return NULL;
}

/* The declaration of an enum value: the field whose type it is, or an
 * intent category. */
static int enum_value_target(Project *pr, Type *t, const char *v, Target *out)
{
    Program *p = &pr->prog;
    for (uint32_t i = 0; i < p->global[SYM_ENTITY].cap; i++) {
        Sym *s = p->global[SYM_ENTITY].slots[i];
        if (!s || !s->entity) continue;
        Entity *e = s->entity;
        for (int k = 0; k < e->nfields; k++)
            if (e->fields[k].ty && ty_base(e->fields[k].ty) == t && e->fields[k].decl) {
                *out = (Target){ e->fields[k].decl, v, "enum value", t };
                return 1;
            }
        if (e->intent_primary == t) {
            for (uint32_t f = 1; f < pr->src.n; f++)
                for (Node *d = pr->files[f] ? pr->files[f]->list : NULL; d; d = d->next)
                    for (Node *c = d->kind == N_INTENT ? d->list : NULL; c; c = c->next)
                        if (c->kind == N_CATEGORY && c->name == v) {
                            *out = (Target){ c, v, "intent category", t };
                            return 1;
                        }
        }
    }
    return 0;
}

static int member_target(Project *pr, Node *n, Target *out)
{
    Program *p = &pr->prog;
    Type *ot = n->a ? n->a->ty : NULL;
    if (!ot && n->a && n->a->kind == N_NAME) {
        Sym *es = sym_get(&p->global[SYM_ENTITY], n->a->name);
        if (es && es->entity) ot = es->entity->ty;
    }
    Type *ob = ot ? ty_base(ot) : NULL;
    Sym *cs = !ob && n->a && n->a->kind == N_NAME ? sym_get(&p->global[SYM_CONNECTOR], n->a->name) : NULL;
    if (cs && cs->decl) {                      /* `call crm.method(...)`: the callee is not typed */
        for (Node *m = cs->decl->list2; m; m = m->next)
            if (m->name == n->name) { *out = (Target){ m, n->name, "connector method", NULL }; return 1; }
        return 0;
    }
    if (!ob) return 0;
    switch (ob->kind) {
    case TY_ENTITY: {
        Field *f = ob->entity ? ty_ent_field(ob->entity, n->name) : NULL;
        if (!f || !f->decl) return 0;
        *out = (Target){ f->decl, n->name, f->kind == FLD_DERIVED ? "derived field" : "field", f->ty };
        return 1;
    }
    case TY_EVENT:
        for (Node *f = ob->sym && ob->sym->decl ? ob->sym->decl->list : NULL; f; f = f->next)
            if (f->name == n->name) { *out = (Target){ f, n->name, "event field", n->ty }; return 1; }
        return 0;
    case TY_SCORE:
        for (int i = 0; ob->entity && i < ob->entity->nscores; i++)
            if (ob->entity->scores[i]->name == n->name) {
                *out = (Target){ ob->entity->scores[i]->decl, n->name, "score", n->ty };
                return 1;
            }
        return 0;
    case TY_INTENT:
        return ob->entity && ob->entity->intent_primary &&
               enum_value_target(pr, ob->entity->intent_primary, n->name, out);
    case TY_MODULE: {
        Module *m = ob->sym && ob->sym->decl ? module_named(p, ob->sym->decl->name) : NULL;
        Sym *s = m ? sym_get(&m->values, n->name) : NULL;
        if (!s || !s->decl) return 0;
        *out = (Target){ s->decl, n->name, s->kind == SYM_FN ? "fn" : "const", s->ty };
        return 1;
    }
    case TY_CONNECTOR:
        for (Node *m = ob->sym && ob->sym->decl ? ob->sym->decl->list2 : NULL; m; m = m->next)
            if (m->name == n->name) { *out = (Target){ m, n->name, "connector method", NULL }; return 1; }
        return 0;
    default:
        return 0;
    }
}

static const struct { SymKind k; const char *what; } global_kinds[] = {
    { SYM_EVENT, "event" }, { SYM_ENTITY, "entity" }, { SYM_CONNECTOR, "connector" }, { SYM_TEAM, "team" },
    { SYM_SEQUENCE, "sequence" }, { SYM_SIGNAL, "signal" }, { SYM_SCORE, "score" }, { SYM_SOURCE, "source" },
    { SYM_WORKFLOW, "workflow" },
};

/* A name looked up where it is used: fn parameters, the file's module's
 * consts and fns (import aliases lead to the module), then the schema. */
static int name_target(Project *pr, Node **path, int depth, const char *name, Target *out)
{
    Program *p = &pr->prog;
    for (int i = depth - 1; i >= 0; i--)
        for (Node *q = path[i]->kind == N_FN ? path[i]->list : NULL; q; q = q->next)
            if (q->name == name) { *out = (Target){ q, name, "parameter", NULL }; return 1; }
    Module *m = depth ? module_of_file(p, pr->files[path[0]->span.file]) : NULL;
    Sym *s = m ? sym_get(&m->values, name) : NULL;
    if (s && s->kind == SYM_MODULE && s->decl) {
        Node *md = module_decl_of(pr, s->decl->name);
        if (md) { *out = (Target){ md, md->name, "module", NULL }; return 1; }
    }
    if (s && s->decl) { *out = (Target){ s->decl, name, s->kind == SYM_FN ? "fn" : "const", s->ty }; return 1; }
    for (size_t i = 0; i < sizeof global_kinds / sizeof *global_kinds; i++) {
        Sym *g = sym_get(&p->global[global_kinds[i].k], name);
        if (g && g->decl) {
            *out = (Target){ g->decl, name, global_kinds[i].what, g->entity ? g->entity->ty : g->ty };
            return 1;
        }
    }
    return 0;
}

/* A bare name in a match arm: a value of the matched enum. */
static int arm_target(Project *pr, Node **path, int depth, const char *name, Target *out)
{
    for (int i = depth - 1; i >= 0; i--) {
        Node *m = path[i];
        if ((m->kind != N_MATCH && m->kind != N_RMATCH) || !m->a || !m->a->ty) continue;
        Type *t = ty_base(m->a->ty);
        if (t->kind != TY_ENUM) continue;
        for (int k = 0; k < t->nvalues; k++)
            if (t->values[k] == name) return enum_value_target(pr, t, name, out);
    }
    return 0;
}

/* What the word at `off` of the unit's document refers to. */
static int target_at(LspUnit *u, uint32_t off, Target *out)
{
    Project *pr = &u->pr;
    if (!u->file) return 0;
    SrcFile *f = pr->src.files[u->file];
    Node *path[PATH_MAX_DEPTH];
    int depth = path_at(pr->files[u->file], off, path);
    uint32_t ws, we;
    if (!depth || !lsp_word_at(f->text, f->len, off, &ws, &we)) return 0;
    Node *n = path[depth - 1];
    if (n->kind == N_IMPORT) {
        Node *md = module_decl_of(pr, n->name);
        if (!md) return 0;
        *out = (Target){ md, md->name, "module", NULL };
        return 1;
    }
    const char *word = ast_intern(&pr->in, f->text + ws, we - ws);
    if (!word) return 0;
    if (n->kind == N_MEMBER && n->name == word && we == n->span.end) return member_target(pr, n, out);
    if (n->kind == N_NAME && n->ty && ty_base(n->ty)->kind == TY_ENUM && (n->flags & 1))
        return enum_value_target(pr, ty_base(n->ty), word, out);
    if (arm_target(pr, path, depth, word, out)) return 1;
    return name_target(pr, path, depth, word, out);
}

static json_t *location(LspUnit *u, const Target *t)
{
    SrcFile *f = src_get(&u->pr.src, t->decl->span.file);
    if (!f) return NULL;
    uint32_t s, e;
    name_span(f, t->decl, t->name, &s, &e);
    return json_pack("{s:o,s:o}", "uri", src_uri(u, f), "range", lsp_range_json(f, s, e));
}

json_t *lsp_definition(Lsp *s, const LspDoc *d, json_t *params)
{
    uint32_t off;
    LspUnit u;
    if (!lsp_param_offset(d, params, &off) || !lsp_unit_build(s, &u, d, NULL, 0, 0)) return NULL;
    Target t;
    json_t *r = target_at(&u, off, &t) ? location(&u, &t) : NULL;
    lsp_unit_free(&u);
    return r;
}

/* ---- hover ------------------------------------------------------------------ */

typedef struct Buf { char *p; size_t n, cap; } Buf;

static void bputs(Buf *b, const char *s, size_t n)
{
    if (b->n + n + 1 > b->cap) {
        size_t nc = (b->n + n + 1) * 2;
        char *np = realloc(b->p, nc);
        if (!np) return;
        b->p = np;
        b->cap = nc;
    }
    memcpy(b->p + b->n, s, n);
    b->n += n;
    b->p[b->n] = 0;
}

static void bprintf(Buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void bprintf(Buf *b, const char *fmt, ...)
{
    char tmp[1024];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    if (n > 0) bputs(b, tmp, (size_t)n < sizeof tmp ? (size_t)n : sizeof tmp - 1);
}

static void explain_code(Buf *b, const char *code)
{
    const char *title = diag_code_title(code), *text = diag_code_text(code);
    if (!title) { title = lint_code_title(code); text = lint_code_text(code); }
    if (title) bprintf(b, "**%s: %s**\n\n%s\n", code, title, text ? text : "");
}

static void enum_values(Buf *b, const Type *t)
{
    t = ty_base((Type *)t);
    if (!t || t->kind != TY_ENUM) return;
    bprintf(b, "\nvalues: ");
    for (int i = 0; i < t->nvalues; i++) bprintf(b, "%s`%s`", i ? ", " : "", t->values[i]);
    bprintf(b, "\n");
}

/* The declaration's first line of source (with `code`), and where it is. */
static void declared(Buf *b, LspUnit *u, const Target *t, int code)
{
    SrcFile *f = src_get(&u->pr.src, t->decl->span.file);
    if (!f) return;
    uint32_t s = t->decl->span.start, e = s;
    while (e < f->len && e < t->decl->span.end && f->text[e] != '\n') e++;
    if (code) {
        bprintf(b, "```dna\n");
        bputs(b, f->text + s, e - s);
        bprintf(b, "\n```\n");
    }
    uint32_t line, col;
    src_linecol(f, s, &line, &col);
    const char *base = strrchr(f->path, '/');
    const Type *ty = t->ty && t->ty->kind != TY_EVENT && t->ty->kind != TY_ENTITY ? t->ty : NULL;
    bprintf(b, "\n%s `%s`%s%s, declared in %s line %u\n", t->what, t->name, ty ? ": " : "",
            ty ? ty_name(ty) : "", base ? base + 1 : f->path, line);
    if (code) enum_values(b, t->ty);
}

/* An expression's type: `lead.score: decimal`. */
static int typed_expr(Buf *b, LspUnit *u, uint32_t off)
{
    Node *n = lsp_node_at(u->pr.files[u->file], off, NULL);
    if (!n || !n->ty || n->kind < N_INT || n->kind == N_ERROR) return 0;
    switch (ty_base(n->ty)->kind) {
    case TY_ERROR: case TY_MODULE: case TY_CONNECTOR: case TY_METHOD: case TY_TEAM: case TY_STRATEGY:
    case TY_FN: case TY_EFFECT:
        return 0;                              /* not a value: its declaration says more */
    default: break;
    }
    SrcFile *f = u->pr.src.files[u->file];
    uint32_t len = n->span.end - n->span.start;
    if (len > 200) return 0;
    bprintf(b, "```dna\n");
    bputs(b, f->text + n->span.start, len);
    bprintf(b, ": %s\n```\n", ty_name(n->ty));
    enum_values(b, n->ty);
    return 1;
}

static int looks_like_code(const char *s, size_t n)
{
    return n == 4 && (s[0] == 'E' || s[0] == 'L') && is_word(s[1]) && s[1] >= '0' && s[1] <= '9' &&
           s[2] >= '0' && s[2] <= '9' && s[3] >= '0' && s[3] <= '9';
}

json_t *lsp_hover(Lsp *s, const LspDoc *d, json_t *params)
{
    uint32_t off, ws, we;
    LspUnit u;
    if (!lsp_param_offset(d, params, &off) || !lsp_unit_build(s, &u, d, NULL, 0, 1)) return NULL;
    Buf b = { NULL, 0, 0 };
    int have_word = lsp_word_at(d->text, d->len, off, &ws, &we);
    if (have_word && looks_like_code(d->text + ws, we - ws)) {
        char code[5];
        memcpy(code, d->text + ws, 4);
        code[4] = 0;
        explain_code(&b, code);
    } else if (u.file) {
        Target t;
        int typed = typed_expr(&b, &u, off);
        if (have_word && target_at(&u, off, &t)) declared(&b, &u, &t, !typed);
        for (uint32_t i = 0; i < u.pr.diags.n; i++) {        /* the diagnostics under the cursor */
            Diag *g = &u.pr.diags.v[i];
            if (g->span.file != u.file || off < g->span.start || off > g->span.end) continue;
            bprintf(&b, "%s", b.n ? "\n---\n\n" : "");
            explain_code(&b, g->code);
        }
    }
    json_t *r = NULL;
    if (b.n) {
        r = json_pack("{s:{s:s,s:s}}", "contents", "kind", "markdown", "value", b.p);
        if (have_word && u.file) json_object_set_new(r, "range", lsp_range_json(u.pr.src.files[u.file], ws, we));
    }
    free(b.p);
    lsp_unit_free(&u);
    return r;
}

/* ---- diagnostics --------------------------------------------------------------- */

static json_t *diag_json(const SrcFile *f, const Diag *g)
{
    char *msg = NULL;
    if (g->help && asprintf(&msg, "%s\nhelp: %s", g->msg, g->help) < 0) msg = NULL;
    int sev = g->sev == SEV_ERROR ? 1 : g->sev == SEV_WARNING ? 2 : 3;
    json_t *j = json_pack("{s:o,s:i,s:s,s:s,s:s}", "range", lsp_range_json(f, g->span.start, g->span.end),
                          "severity", sev, "code", g->code ? g->code : "", "source", "dnac", "message",
                          msg ? msg : g->msg);
    free(msg);
    return j;
}

json_t *lsp_diagnostics(LspUnit *u)
{
    Project *pr = &u->pr;
    json_t *out = json_array();
    json_t **lists = calloc(pr->src.n ? pr->src.n : 1, sizeof *lists);
    if (!lists) return out;
    for (uint32_t i = 1; i < pr->src.n; i++)
        if (!pr->src.files[i]->is_stdlib) lists[i] = json_array();
    for (uint32_t i = 0; i < pr->diags.n; i++) {
        Diag *g = &pr->diags.v[i];
        uint32_t fid = g->span.file < pr->src.n && lists[g->span.file] ? g->span.file : u->file;
        if (!fid || !lists[fid]) continue;
        const SrcFile *f = pr->src.files[fid];
        Diag copy = *g;
        if (fid != g->span.file) copy.span = (Span){ fid, 0, 0 };     /* no place of its own */
        json_array_append_new(lists[fid], diag_json(f, &copy));
    }
    for (uint32_t i = 1; i < pr->src.n; i++) {
        if (!lists[i]) continue;
        json_array_append_new(out, json_pack("[o,o]", src_uri(u, pr->src.files[i]), lists[i]));
    }
    free(lists);
    return out;
}
