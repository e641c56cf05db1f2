/*
 * check_events.c - validate a JSONL file of event envelopes against the
 * schema of a rule project, line by line, the way replay will judge them.
 *
 * The schema comes from the rules themselves (parsed and checked with the
 * compiler library), not from a list kept here: every line must be a JSON
 * object with a unique string `id`, a declared event `type`, a declared
 * `source`, an RFC 3339 UTC `occurred_at` ending in "Z", a `subject` naming
 * a declared entity and only identity fields of it, and `data` holding only
 * declared fields of that event, each of its declared type, with every
 * non-optional field present.  A line that fails is classified (malformed
 * JSON, unknown type, missing type, wrong field type, bad timestamp,
 * duplicate id, undeclared entity, ...).
 *
 * It also reports the order (lines whose occurred_at is earlier than the
 * line before) and the identity story: subjects are joined by the
 * identifiers they carry together, and the tool counts the entities that
 * were first seen without an email and identified later.
 *
 * Exit 0 when the expectations given hold, 1 when not, 2 on usage or I/O.
 */
#include "sema/check.h"
#include "base/clock.h"
#include "base/json.h"
#include "sema/project.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define BAD_KINDS(X) \
    X(B_MALFORMED, "malformed JSON") \
    X(B_NOT_OBJECT, "not an object") \
    X(B_ID, "missing or empty id") \
    X(B_DUPLICATE, "duplicate id") \
    X(B_MISSING_TYPE, "missing type") \
    X(B_UNKNOWN_TYPE, "unknown type") \
    X(B_SOURCE, "unknown or missing source") \
    X(B_TIMESTAMP, "bad timestamp") \
    X(B_SUBJECT, "bad subject") \
    X(B_ENTITY, "undeclared entity") \
    X(B_DATA, "missing data") \
    X(B_UNKNOWN_FIELD, "unknown field") \
    X(B_FIELD_TYPE, "wrong field type") \
    X(B_MISSING_FIELD, "missing field")
#define X_ENUM(e, s) e,
enum { BAD_KINDS(X_ENUM) B__COUNT };
#undef X_ENUM
#define X_NAME(e, s) s,
static const char *const bad_names[] = { BAD_KINDS(X_NAME) };
#undef X_NAME

/* the kinds gen_events --bad produces; --expect-bad wants each of them */
static const int gen_kinds[] = { B_MALFORMED, B_UNKNOWN_TYPE, B_MISSING_TYPE, B_FIELD_TYPE,
                                 B_TIMESTAMP, B_DUPLICATE, B_ENTITY };

typedef struct EvField { const char *name; Type *ty; } EvField;
typedef struct EvDecl {
    const char *name;
    EvField *fields;
    int nfields;
    long count;
} EvDecl;

typedef struct Schema {
    EvDecl *events;
    int nevents;
    Entity **entities;
    int nentities;
    Node **sources;
    int nsources;
} Schema;

/* identities: union-find over "entity\x1fkey\x1fvalue" */
typedef struct Ids {
    json_t *index;              /* key -> integer node */
    int *parent;
    long *first_line;
    unsigned char *is_email, *is_lead;
    int n, cap;
} Ids;

typedef struct Check {
    Schema s;
    Ids ids;
    json_t *seen;               /* id -> line */
    long lines, valid, bad[B__COUNT], first_bad[B__COUNT], out_of_order, linking, unproduced;
    char unproduced_note[160];
    int64_t last_t;
    int verbose;
} Check;

/* ---- the schema ------------------------------------------------------------------ */

static int sch_load(Schema *s, Program *p)
{
    const SymTab *ev = &p->global[SYM_EVENT], *en = &p->global[SYM_ENTITY], *so = &p->global[SYM_SOURCE];
    s->events = calloc(ev->cap ? ev->cap : 1, sizeof *s->events);
    s->entities = calloc(en->cap ? en->cap : 1, sizeof *s->entities);
    s->sources = calloc(so->cap ? so->cap : 1, sizeof *s->sources);
    if (!s->events || !s->entities || !s->sources) return 0;
    for (uint32_t i = 0; i < ev->cap; i++) {
        Sym *sym = ev->slots[i];
        if (!sym || !sym->decl) continue;
        EvDecl *d = &s->events[s->nevents++];
        d->name = sym->name;
        int nf = ast_count(sym->decl->list);
        d->fields = calloc((size_t)(nf ? nf : 1), sizeof *d->fields);
        if (!d->fields) return 0;
        for (Node *f = sym->decl->list; f; f = f->next) {
            d->fields[d->nfields].name = f->name;
            d->fields[d->nfields++].ty = res_type(p, f->a, f->name);
        }
    }
    for (uint32_t i = 0; i < en->cap; i++)
        if (en->slots[i] && en->slots[i]->entity) s->entities[s->nentities++] = en->slots[i]->entity;
    for (uint32_t i = 0; i < so->cap; i++)
        if (so->slots[i] && so->slots[i]->decl) s->sources[s->nsources++] = so->slots[i]->decl;
    return 1;
}

static void sch_free(Schema *s)
{
    for (int i = 0; i < s->nevents; i++) free(s->events[i].fields);
    free(s->events);
    free(s->entities);
    free(s->sources);
}

static EvDecl *sch_event(Schema *s, const char *name)
{
    for (int i = 0; i < s->nevents; i++)
        if (!strcmp(s->events[i].name, name)) return &s->events[i];
    return NULL;
}

static Entity *sch_entity(Schema *s, const char *name)
{
    for (int i = 0; i < s->nentities; i++)
        if (!strcmp(s->entities[i]->sym->name, name)) return s->entities[i];
    return NULL;
}

static Node *sch_source(Schema *s, const char *name)
{
    for (int i = 0; i < s->nsources; i++)
        if (!strcmp(s->sources[i]->name, name)) return s->sources[i];
    return NULL;
}

/* does the source map the event or list it under `events`? */
static int source_produces(const Node *src, const char *event)
{
    for (const Node *c = src->list; c; c = c->next) {
        if (c->kind == N_MAP && c->name && !strcmp(c->name, event)) return 1;
        if (c->kind == N_EVENTS)
            for (const Node *e = c->list; e; e = e->next)
                if (e->name && !strcmp(e->name, event)) return 1;
    }
    return 0;
}

/* the names of the entity's `identity` clause (a field kind is not enough:
 * an identity also declared as a field, like deal.offer_id, is kept as a
 * declared field) */
static int is_identity(const Entity *e, const char *key)
{
    for (const Node *id = e->sym->decl->list2; id; id = id->next)
        if (!strcmp(id->name, key)) return 1;
    return 0;
}

static int time_ok(const char *s)
{
    int64_t ms;
    size_t n = strlen(s);
    return n >= 20 && clk_parse(s, n, &ms) == 0;
}

/* a JSON value against a declared type */
static int value_ok(const Type *t, json_t *v)
{
    if (json_is_null(v)) return t->optional;
    switch (t->kind) {
    case TY_STRING: return json_is_string(v);
    case TY_INT: return json_is_integer(v);
    case TY_DECIMAL: return json_is_number(v);
    case TY_BOOL: return json_is_boolean(v);
    case TY_TIMESTAMP: return json_is_string(v) && time_ok(json_string_value(v));
    case TY_DURATION: return json_is_integer(v) || json_is_string(v);
    case TY_ENTITY: return json_is_string(v) && json_string_length(v) > 0;   /* an identity value */
    case TY_ENUM:
        if (!json_is_string(v)) return 0;
        for (int i = 0; i < t->nvalues; i++)
            if (!strcmp(t->values[i], json_string_value(v))) return 1;
        return 0;
    case TY_LIST: {
        if (!json_is_array(v)) return 0;
        size_t i;
        json_t *x;
        json_array_foreach(v, i, x) if (!value_ok(t->elem, x)) return 0;
        return 1;
    }
    default: return 1;
    }
}

/* ---- identities ------------------------------------------------------------------- */

static int ids_node(Ids *d, const char *entity, const char *key, const char *value, long line)
{
    char buf[512];
    snprintf(buf, sizeof buf, "%s\x1f%s\x1f%s", entity, key, value);
    json_t *v = json_object_get(d->index, buf);
    if (v) return (int)json_integer_value(v);
    if (d->n == d->cap) {
        int nc = d->cap ? d->cap * 2 : 1024;
        int *np = realloc(d->parent, (size_t)nc * sizeof *np);
        if (np) d->parent = np;
        long *nl = realloc(d->first_line, (size_t)nc * sizeof *nl);
        if (nl) d->first_line = nl;
        unsigned char *ne = realloc(d->is_email, (size_t)nc);
        if (ne) d->is_email = ne;
        unsigned char *nd = realloc(d->is_lead, (size_t)nc);
        if (nd) d->is_lead = nd;
        if (!np || !nl || !ne || !nd) return -1;
        d->cap = nc;
    }
    int id = d->n++;
    d->parent[id] = id;
    d->first_line[id] = line;
    d->is_email[id] = !strcmp(key, "email");
    d->is_lead[id] = !strcmp(entity, "lead");
    json_object_set_new(d->index, buf, json_integer(id));
    return id;
}

static int ids_find(Ids *d, int x)
{
    while (d->parent[x] != x) x = d->parent[x] = d->parent[d->parent[x]];
    return x;
}

static void ids_union(Ids *d, int a, int b)
{
    a = ids_find(d, a);
    b = ids_find(d, b);
    if (a != b) d->parent[a > b ? a : b] = a < b ? a : b;
}

/* ---- one line --------------------------------------------------------------------- */

static int bad(Check *c, int kind, long line, const char *detail)
{
    if (!c->bad[kind]) c->first_bad[kind] = line;
    c->bad[kind]++;
    if (c->verbose) printf("line %ld: %s%s%s\n", line, bad_names[kind], detail ? ": " : "", detail ? detail : "");
    return 0;
}

static int check_line(Check *c, const char *text, size_t len, long line)
{
    JsonError err;
    json_t *root = dna_json_parse(text, len, &err);
    if (!root) return bad(c, B_MALFORMED, line, err.text);
    int ok = 0;
    json_t *id = json_object_get(root, "id"), *type = json_object_get(root, "type");
    json_t *source = json_object_get(root, "source"), *at = json_object_get(root, "occurred_at");
    json_t *subject = json_object_get(root, "subject"), *data = json_object_get(root, "data");
    EvDecl *ev = NULL;
    Entity *ent = NULL;
    int64_t t = 0;
    if (!json_is_object(root)) { bad(c, B_NOT_OBJECT, line, NULL); goto done; }
    if (!json_is_string(id) || !json_string_length(id)) { bad(c, B_ID, line, NULL); goto done; }
    if (json_object_get(c->seen, json_string_value(id))) { bad(c, B_DUPLICATE, line, json_string_value(id)); goto done; }
    json_object_set_new(c->seen, json_string_value(id), json_integer(line));
    if (!type) { bad(c, B_MISSING_TYPE, line, NULL); goto done; }
    if (!json_is_string(type) || !(ev = sch_event(&c->s, json_string_value(type)))) {
        bad(c, B_UNKNOWN_TYPE, line, json_is_string(type) ? json_string_value(type) : NULL);
        goto done;
    }
    Node *src = json_is_string(source) ? sch_source(&c->s, json_string_value(source)) : NULL;
    if (!src) { bad(c, B_SOURCE, line, json_is_string(source) ? json_string_value(source) : NULL); goto done; }
    if (!json_is_string(at) || !time_ok(json_string_value(at)) ||
        json_string_value(at)[json_string_length(at) - 1] != 'Z') {
        bad(c, B_TIMESTAMP, line, json_is_string(at) ? json_string_value(at) : NULL);
        goto done;
    }
    clk_parse(json_string_value(at), json_string_length(at), &t);
    if (!json_is_object(subject)) { bad(c, B_SUBJECT, line, "not an object"); goto done; }
    json_t *ename = json_object_get(subject, "entity");
    if (!json_is_string(ename) || !(ent = sch_entity(&c->s, json_string_value(ename)))) {
        bad(c, B_ENTITY, line, json_is_string(ename) ? json_string_value(ename) : NULL);
        goto done;
    }
    const char *key;
    json_t *v;
    int nid = 0;
    json_object_foreach(subject, key, v) {
        if (!strcmp(key, "entity")) continue;
        if (!is_identity(ent, key) || !json_is_string(v) || !json_string_length(v)) {
            bad(c, B_SUBJECT, line, key);
            goto done;
        }
        nid++;
    }
    if (!nid) { bad(c, B_SUBJECT, line, "no identifier"); goto done; }
    if (!json_is_object(data)) { bad(c, B_DATA, line, NULL); goto done; }
    json_object_foreach(data, key, v) {
        EvField *f = NULL;
        for (int i = 0; i < ev->nfields; i++)
            if (!strcmp(ev->fields[i].name, key)) f = &ev->fields[i];
        if (!f) { bad(c, B_UNKNOWN_FIELD, line, key); goto done; }
        if (!value_ok(f->ty, v)) { bad(c, B_FIELD_TYPE, line, key); goto done; }
    }
    for (int i = 0; i < ev->nfields; i++) {
        json_t *x = json_object_get(data, ev->fields[i].name);
        if (!ev->fields[i].ty->optional && (!x || json_is_null(x))) {
            bad(c, B_MISSING_FIELD, line, ev->fields[i].name);
            goto done;
        }
    }

    /* valid */
    ok = 1;
    c->valid++;
    ev->count++;
    if (!source_produces(src, ev->name)) {
        if (!c->unproduced)
            snprintf(c->unproduced_note, sizeof c->unproduced_note, "%s from %s (line %ld)", ev->name, src->name, line);
        c->unproduced++;
    }
    if (c->valid > 1 && t < c->last_t) c->out_of_order++;
    c->last_t = t;
    int first = -1;
    json_object_foreach(subject, key, v) {
        if (!strcmp(key, "entity")) continue;
        int n = ids_node(&c->ids, ent->sym->name, key, json_string_value(v), line);
        if (n < 0) break;
        if (first < 0) first = n;
        else ids_union(&c->ids, first, n);
    }
    if (nid > 1) c->linking++;
done:
    json_decref(root);
    return ok;
}

static int cmp_decl(const void *a, const void *b)
{
    const EvDecl *x = a, *y = b;
    return strcmp(x->name, y->name);
}

/* ---- main ---------------------------------------------------------------------------- */

static void usage(FILE *f)
{
    fputs("usage: check_events --rules PATH [--stdlib DIR] [--expect-clean] [--expect-ordered]\n"
          "                    [--expect-bad] [--expect-late] [--min-lines N] [-v] FILE.jsonl\n"
          "\n"
          "Checks every line of FILE against the events, entities and sources declared\n"
          "by the rule project at PATH and prints a summary.\n"
          "  --expect-clean    fail on any bad line\n"
          "  --expect-ordered  fail when a line's occurred_at is earlier than the line before\n"
          "  --expect-bad      fail unless there are bad lines of every kind gen_events --bad makes\n"
          "  --expect-late     fail unless some line is out of order\n"
          "  --min-lines N     fail with fewer than N lines\n"
          "  -v                print each bad line's number and reason\n", f);
}

int main(int argc, char **argv)
{
    const char *rules = NULL, *stdlib_dir = NULL, *file = NULL;
    int want_clean = 0, want_ordered = 0, want_bad = 0, want_late = 0, verbose = 0;
    long min_lines = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--help")) { usage(stdout); return 0; }
        else if (!strcmp(a, "--rules") && i + 1 < argc) rules = argv[++i];
        else if (!strcmp(a, "--stdlib") && i + 1 < argc) stdlib_dir = argv[++i];
        else if (!strcmp(a, "--min-lines") && i + 1 < argc) min_lines = atol(argv[++i]);
        else if (!strcmp(a, "--expect-clean")) want_clean = 1;
        else if (!strcmp(a, "--expect-ordered")) want_ordered = 1;
        else if (!strcmp(a, "--expect-bad")) want_bad = 1;
        else if (!strcmp(a, "--expect-late")) want_late = 1;
        else if (!strcmp(a, "-v")) verbose = 1;
        else if (a[0] != '-' && !file) file = a;
        else { usage(stderr); return 2; }
    }
    if (!rules || !file) { usage(stderr); return 2; }

    Project pr;
    proj_init(&pr, stdlib_dir ? stdlib_dir : proj_find_stdlib(argv[0]));
    if (!proj_add_path(&pr, rules)) {
        fprintf(stderr, "check_events: %s\n", pr.io_error);
        proj_free(&pr);
        return 2;
    }
    if (proj_check(&pr)) {
        fprintf(stderr, "check_events: the rules at %s do not check; run dnac check\n", rules);
        proj_free(&pr);
        return 2;
    }
    Check c = { 0 };
    c.verbose = verbose;
    c.seen = json_object();
    c.ids.index = json_object();
    FILE *in = fopen(file, "rb");
    if (!c.seen || !c.ids.index || !sch_load(&c.s, &pr.prog) || !in) {
        fprintf(stderr, "check_events: cannot read %s\n", file);
        if (in) fclose(in);
        json_decref(c.seen);
        json_decref(c.ids.index);
        sch_free(&c.s);
        proj_free(&pr);
        return 2;
    }
    char *buf = NULL;
    size_t cap = 0;
    ssize_t n;
    while ((n = getline(&buf, &cap, in)) >= 0) {
        size_t len = (size_t)n;
        while (len && (buf[len - 1] == '\n' || buf[len - 1] == '\r')) len--;
        c.lines++;
        check_line(&c, buf, len, c.lines);
    }
    free(buf);
    fclose(in);

    /* entities: components of identifiers; lead ones first seen without an email */
    long entities = 0, late_identified = 0, anonymous = 0;
    long *email_first = calloc((size_t)(c.ids.n ? c.ids.n : 1), sizeof *email_first);
    long *any_first = calloc((size_t)(c.ids.n ? c.ids.n : 1), sizeof *any_first);
    if (email_first && any_first) {
        for (int i = 0; i < c.ids.n; i++) {
            int r = ids_find(&c.ids, i);
            if (c.ids.is_email[i] && (!email_first[r] || c.ids.first_line[i] < email_first[r])) email_first[r] = c.ids.first_line[i];
            if (!any_first[r] || c.ids.first_line[i] < any_first[r]) any_first[r] = c.ids.first_line[i];
        }
        for (int i = 0; i < c.ids.n; i++) {
            if (ids_find(&c.ids, i) != i || !c.ids.is_lead[i]) continue;
            entities++;
            if (!email_first[i]) anonymous++;
            else if (email_first[i] > any_first[i]) late_identified++;
        }
    }
    free(email_first);
    free(any_first);

    long nbad = 0;
    for (int k = 0; k < B__COUNT; k++) nbad += c.bad[k];
    printf("check_events: %s: %ld lines, %ld valid, %ld bad, %ld out of order\n", file, c.lines, c.valid, nbad, c.out_of_order);
    printf("  types:");
    qsort(c.s.events, (size_t)c.s.nevents, sizeof *c.s.events, cmp_decl);
    for (int i = 0; i < c.s.nevents; i++)
        if (c.s.events[i].count) printf(" %s %ld", c.s.events[i].name, c.s.events[i].count);
    printf("\n  lead entities %ld: %ld identified after being seen without an email, %ld never identified; "
           "%ld lines carry two or more identifiers\n", entities, late_identified, anonymous, c.linking);
    if (c.unproduced)
        printf("  note: %ld valid lines name a source that neither maps nor lists their type, e.g. %s\n",
               c.unproduced, c.unproduced_note);
    for (int k = 0; k < B__COUNT; k++)
        if (c.bad[k]) printf("  bad: %s %ld (first at line %ld)\n", bad_names[k], c.bad[k], c.first_bad[k]);

    int fail = 0;
    if (want_clean && nbad) { fprintf(stderr, "check_events: expected no bad lines, found %ld\n", nbad); fail = 1; }
    if (want_ordered && c.out_of_order) { fprintf(stderr, "check_events: expected time order, %ld lines out of order\n", c.out_of_order); fail = 1; }
    if (want_late && !c.out_of_order) { fprintf(stderr, "check_events: expected lines out of order, found none\n"); fail = 1; }
    if (want_bad)
        for (size_t i = 0; i < sizeof gen_kinds / sizeof *gen_kinds; i++)
            if (!c.bad[gen_kinds[i]]) { fprintf(stderr, "check_events: expected bad lines of kind '%s', found none\n", bad_names[gen_kinds[i]]); fail = 1; }
    if (c.lines < min_lines) { fprintf(stderr, "check_events: expected at least %ld lines, found %ld\n", min_lines, c.lines); fail = 1; }
    if (!c.lines) { fprintf(stderr, "check_events: %s is empty\n", file); fail = 1; }

    json_decref(c.seen);
    json_decref(c.ids.index);
    free(c.ids.parent);
    free(c.ids.first_line);
    free(c.ids.is_email);
    free(c.ids.is_lead);
    sch_free(&c.s);
    proj_free(&pr);
    return fail;
}
