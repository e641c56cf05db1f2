/*
 * fmt_prop.c - properties of `dnac fmt` over many files.
 *
 *   fmt_prop [--corpus DIR]... [--mutate N] PATH...
 *
 * For every file (directories: *.dna and *.input, recursively; --corpus:
 * every file, and those that do not parse are skipped):
 *   - the formatted text parses without a diagnostic,
 *   - its tree equals the original tree (ast_dump, spans ignored),
 *   - its comments are the original comments, in order,
 *   - formatting it again changes nothing (idempotence).
 * --mutate N also checks N variants of each file with comments inserted
 * at random places between tokens (deterministic seed).
 * Prints one line per failure and a closing count; exit 1 on any failure.
 */
#include "tools/fmt.h"
#include "ast_dump.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static int failures, checked, skipped;

typedef struct Parsed {
    Arena arena;
    Interner in;
    SrcSet src;
    DiagList diags;
    Node *file;
    Comment *comments;
} Parsed;

static void parse_text(Parsed *p, const char *name, const char *text, size_t len)
{
    arena_init(&p->arena);
    ast_intern_init(&p->in, &p->arena);
    src_init(&p->src);
    diag_init(&p->diags, &p->src);
    uint32_t id = src_add(&p->src, name, text, len);
    p->comments = NULL;
    p->file = parse_file(&p->arena, &p->in, &p->diags, id, p->src.files[id], &p->comments);
}

static void parsed_free(Parsed *p)
{
    diag_free(&p->diags);
    src_free(&p->src);
    ast_intern_free(&p->in);
    arena_free(&p->arena);
}

/* The comments' texts, trailing blanks trimmed, one per line. */
static char *comment_texts(const Parsed *p)
{
    size_t cap = 64, n = 0;
    char *s = malloc(cap);
    const char *t = p->src.files[1]->text;
    for (const Comment *c = p->comments; c; c = c->next) {
        uint32_t a = c->span.start, e = c->span.end;
        while (e > a && (t[e - 1] == ' ' || t[e - 1] == '\t' || t[e - 1] == '\r')) e--;
        while (n + (e - a) + 2 > cap) { cap *= 2; s = realloc(s, cap); }
        memcpy(s + n, t + a, e - a);
        n += e - a;
        s[n++] = '\n';
    }
    s[n] = 0;
    return s;
}

static char *format(Parsed *p, size_t *len)
{
    return fmt_file(p->file, p->comments, p->src.files[1], len);
}

static void fail(const char *name, const char *what, const char *text)
{
    failures++;
    printf("FAIL %s: %s\n", name, what);
    if (text && getenv("FMT_PROP_VERBOSE")) printf("---- text ----\n%s\n--------------\n", text);
}

/* Check one text; `want_tree` is the tree it must keep (NULL: its own). */
static void check_text(const char *name, const char *text, size_t len, const char *want_tree)
{
    Parsed a, b, c;
    parse_text(&a, name, text, len);
    if (a.diags.nerrors) { skipped++; parsed_free(&a); return; }
    checked++;
    char *tree_a = ast_dump(a.file);
    char *cm_a = comment_texts(&a);
    if (want_tree && strcmp(want_tree, tree_a)) fail(name, "mutation changed the tree (test bug)", NULL);
    size_t l1 = 0, l2 = 0;
    char *out1 = format(&a, &l1);
    if (!out1) { fail(name, "out of memory", NULL); goto done_a; }
    parse_text(&b, name, out1, l1);
    if (b.diags.nerrors) {
        fail(name, "formatted text does not parse", out1);
        diag_print(&b.diags, DIAG_TEXT, stdout, 0);
        goto done_b;
    }
    char *tree_b = ast_dump(b.file);
    if (strcmp(tree_a, tree_b)) fail(name, "formatted text has a different tree", out1);
    char *cm_b = comment_texts(&b);
    if (strcmp(cm_a, cm_b)) fail(name, "comments changed", out1);
    char *out2 = format(&b, &l2);
    if (!out2 || l1 != l2 || memcmp(out1, out2, l1)) {
        fail(name, "formatting is not idempotent", out1);
        if (out2 && getenv("FMT_PROP_VERBOSE")) printf("---- second ----\n%s\n", out2);
    }
    parse_text(&c, name, out2 ? out2 : "", out2 ? l2 : 0);
    parsed_free(&c);
    if (out2) dna_free(out2, l2 + 1);
    free(tree_b);
    free(cm_b);
done_b:
    parsed_free(&b);
    dna_free(out1, l1 + 1);
done_a:
    free(tree_a);
    free(cm_a);
    parsed_free(&a);
}

/* Insert comments at random blanks outside strings and comments. */
static char *mutate(const char *text, size_t len, const Comment *cms, unsigned *seed, size_t *outlen)
{
    size_t cap = len * 2 + 256, n = 0;
    char *o = malloc(cap);
    int in_str = 0;
    const Comment *c = cms;
    for (size_t i = 0; i < len; i++) {
        while (c && c->span.end <= i) c = c->next;
        int in_cm = c && c->span.start <= i && i < c->span.end;
        char ch = text[i];
        if (!in_cm) {
            if (in_str) {
                if (ch == '\\') { o[n++] = ch; if (i + 1 < len) o[n++] = text[++i]; continue; }
                if (ch == '"' || ch == '\n') in_str = 0;
            } else if (ch == '"') in_str = 1;
        }
        if (!in_cm && !in_str && (ch == ' ' || ch == '\n')) {
            *seed = *seed * 1103515245u + 12345u;
            unsigned r = (*seed >> 16) % 16;
            const char *ins = r == 0 ? " /* m */ " : r == 1 ? " // m\n" : r == 2 ? "\n\n" : NULL;
            if (ins) {
                size_t k = strlen(ins);
                if (n + k + 2 > cap) { cap = cap * 2 + k; o = realloc(o, cap); }
                memcpy(o + n, ins, k);
                n += k;
            }
        }
        if (n + 2 > cap) { cap *= 2; o = realloc(o, cap); }
        o[n++] = ch;
    }
    o[n] = 0;
    *outlen = n;
    return o;
}

static void check_file(const char *path, int mutations)
{
    FILE *f = fopen(path, "rb");
    if (!f) { fail(path, "cannot read", NULL); return; }
    size_t cap = 4096, n = 0, k;
    char *buf = malloc(cap);
    while ((k = fread(buf + n, 1, cap - n, f)) > 0) {
        n += k;
        if (n == cap) { cap *= 2; buf = realloc(buf, cap); }
    }
    fclose(f);
    check_text(path, buf, n, NULL);
    if (mutations > 0) {
        Parsed a;
        parse_text(&a, path, buf, n);
        if (!a.diags.nerrors) {
            char *tree = ast_dump(a.file);
            unsigned seed = 12345;
            for (const char *s = path; *s; s++) seed = seed * 31 + (unsigned char)*s;
            for (int i = 0; i < mutations; i++) {
                size_t ml;
                char *m = mutate(buf, n, a.comments, &seed, &ml);
                char label[4200];
                snprintf(label, sizeof label, "%s (mutation %d)", path, i + 1);
                check_text(label, m, ml, tree);
                free(m);
            }
            free(tree);
        }
        parsed_free(&a);
    }
    free(buf);
}

static int has_ext(const char *name, const char *ext)
{
    size_t n = strlen(name), e = strlen(ext);
    return n > e && !strcmp(name + n - e, ext);
}

static int cmp(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

static void walk(const char *path, int all, int mutations)
{
    struct stat st;
    if (stat(path, &st) != 0) return;               /* a folder that does not exist yet */
    if (!S_ISDIR(st.st_mode)) { check_file(path, mutations); return; }
    DIR *d = opendir(path);
    if (!d) return;
    char **names = NULL;
    size_t n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.') continue;
        names = realloc(names, sizeof(char *) * (n + 1));
        size_t l = strlen(path) + strlen(e->d_name) + 2;
        names[n] = malloc(l);
        snprintf(names[n++], l, "%s/%s", path, e->d_name);
    }
    closedir(d);
    qsort(names, n, sizeof *names, cmp);
    for (size_t i = 0; i < n; i++) {
        struct stat s2;
        if (stat(names[i], &s2) == 0) {
            if (S_ISDIR(s2.st_mode)) walk(names[i], all, mutations);
            else if (all || has_ext(names[i], ".dna") || has_ext(names[i], ".input")) check_file(names[i], mutations);
        }
        free(names[i]);
    }
    free(names);
}

int main(int argc, char **argv)
{
    int mutations = 0;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--mutate") && i + 1 < argc) mutations = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--corpus") && i + 1 < argc) walk(argv[++i], 1, 0);
        else walk(argv[i], 0, mutations);
    }
    printf("fmt properties: %d files checked, %d skipped (do not parse), %d failures\n", checked, skipped, failures);
    return failures ? 1 : 0;
}
