/*
 * project.c - gathering the files of a compilation and checking them.
 */
#include "sema/project.h"

#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

void proj_init(Project *pr, const char *stdlib_dir)
{
    memset(pr, 0, sizeof *pr);
    arena_init(&pr->arena);
    ast_intern_init(&pr->in, &pr->arena);
    src_init(&pr->src);
    diag_init(&pr->diags, &pr->src);
    pr->stdlib_dir = stdlib_dir;
}

void proj_free(Project *pr)
{
    prog_free(&pr->prog);
    diag_free(&pr->diags);
    src_free(&pr->src);
    ast_intern_free(&pr->in);
    dna_free(pr->files, sizeof(Node *) * pr->cap);
    dna_free(pr->comments, sizeof(Comment *) * pr->cap);
    arena_free(&pr->arena);
}

static int ensure(Project *pr, uint32_t id)
{
    if (id < pr->cap) return 1;
    uint32_t nc = pr->cap ? pr->cap : 16;
    while (nc <= id) nc *= 2;
    Node **nf = dna_malloc(sizeof(Node *) * nc);
    Comment **ncm = dna_malloc(sizeof(Comment *) * nc);
    if (!nf || !ncm) {
        dna_free(nf, sizeof(Node *) * nc);
        dna_free(ncm, sizeof(Comment *) * nc);
        return 0;
    }
    memset(nf, 0, sizeof(Node *) * nc);
    memset(ncm, 0, sizeof(Comment *) * nc);
    if (pr->cap) {
        memcpy(nf, pr->files, sizeof(Node *) * pr->cap);
        memcpy(ncm, pr->comments, sizeof(Comment *) * pr->cap);
    }
    dna_free(pr->files, sizeof(Node *) * pr->cap);
    dna_free(pr->comments, sizeof(Comment *) * pr->cap);
    pr->files = nf;
    pr->comments = ncm;
    pr->cap = nc;
    return 1;
}

int proj_add_source(Project *pr, const char *name, const char *text, size_t len)
{
    uint32_t id = src_add(&pr->src, name, text, len);
    if (!id || !ensure(pr, id)) {
        snprintf(pr->io_error, sizeof pr->io_error, "%s: out of memory", name);
        return 0;
    }
    pr->nuser++;
    return 1;
}

static int has_ext(const char *name)
{
    size_t n = strlen(name);
    return n > 4 && !strcmp(name + n - 4, ".dna");
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static int add_dir(Project *pr, const char *dir, int depth)
{
    if (depth > 32) {
        snprintf(pr->io_error, sizeof pr->io_error, "%s: directories nested too deeply", dir);
        return 0;
    }
    DIR *d = opendir(dir);
    if (!d) {
        snprintf(pr->io_error, sizeof pr->io_error, "cannot read directory '%s': %s", dir, strerror(errno));
        return 0;
    }
    char **names = NULL;
    size_t n = 0, cap = 0;
    struct dirent *e;
    int ok = 1;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.') continue;
        if (n == cap) {
            size_t nc = cap ? cap * 2 : 32;
            char **nn = realloc(names, sizeof(char *) * nc);
            if (!nn) { ok = 0; break; }
            names = nn;
            cap = nc;
        }
        size_t len = strlen(dir) + strlen(e->d_name) + 2;
        names[n] = malloc(len);
        if (!names[n]) { ok = 0; break; }
        snprintf(names[n], len, "%s%s%s", dir, dir[strlen(dir) - 1] == '/' ? "" : "/", e->d_name);
        n++;
    }
    closedir(d);
    qsort(names, n, sizeof(char *), cmp_str);
    for (size_t i = 0; i < n; i++) {
        struct stat st;
        if (ok && stat(names[i], &st) == 0) {
            if (S_ISDIR(st.st_mode)) ok = add_dir(pr, names[i], depth + 1);
            else if (S_ISREG(st.st_mode) && has_ext(names[i])) ok = proj_add_path(pr, names[i]);
        }
        free(names[i]);
    }
    free(names);
    if (!ok && !pr->io_error[0]) snprintf(pr->io_error, sizeof pr->io_error, "out of memory");
    return ok;
}

int proj_add_path(Project *pr, const char *path)
{
    struct stat st;
    if (stat(path, &st) != 0) {
        snprintf(pr->io_error, sizeof pr->io_error, "cannot read '%s': %s", path, strerror(errno));
        return 0;
    }
    if (S_ISDIR(st.st_mode)) return add_dir(pr, path, 0);
    uint32_t id = src_load(&pr->src, path);
    if (!id) {
        snprintf(pr->io_error, sizeof pr->io_error, "cannot read '%s': %s", path, strerror(errno));
        return 0;
    }
    if (!ensure(pr, id)) {
        snprintf(pr->io_error, sizeof pr->io_error, "out of memory");
        return 0;
    }
    pr->nuser++;
    return 1;
}

/* ---- imports ----------------------------------------------------------- */

static Node *module_decl(Node *file)
{
    for (Node *d = file ? file->list : NULL; d; d = d->next)
        if (d->kind == N_MODULE) return d;
    return NULL;
}

static int module_loaded(Project *pr, const char *name)
{
    for (uint32_t i = 1; i < pr->src.n; i++) {
        Node *m = module_decl(pr->files[i]);
        if (m && m->name == name) return 1;
    }
    return 0;
}

static void parse_new(Project *pr)
{
    for (uint32_t i = 1; i < pr->src.n; i++) {
        if (pr->files[i]) continue;
        pr->files[i] = parse_file(&pr->arena, &pr->in, &pr->diags, i, pr->src.files[i], &pr->comments[i]);
    }
}

static void load_import(Project *pr, Node *imp)
{
    const char *name = imp->name;
    if (module_loaded(pr, name)) return;
    if (strncmp(name, "stdlib.", 7) != 0 || !pr->stdlib_dir) goto missing;
    char path[1024];
    int n = snprintf(path, sizeof path, "%s/", pr->stdlib_dir);
    for (const char *s = name + 7; *s && n < (int)sizeof path - 8; s++) path[n++] = *s == '.' ? '/' : *s;
    snprintf(path + n, sizeof path - n, ".dna");
    struct stat st;
    if (stat(path, &st) != 0 || !S_ISREG(st.st_mode)) goto missing;
    uint32_t id = src_load(&pr->src, path);
    if (!id || !ensure(pr, id)) {
        diag_error(&pr->diags, DIAG_E017, imp->span, "cannot read '%s' for module '%s': %s", path, name,
                   strerror(errno));
        return;
    }
    pr->src.files[id]->is_stdlib = 1;
    pr->files[id] = parse_file(&pr->arena, &pr->in, &pr->diags, id, pr->src.files[id], &pr->comments[id]);
    Node *m = module_decl(pr->files[id]);
    if (!m || m->name != name)
        diag_error(&pr->diags, DIAG_E017, imp->span, "'%s' does not declare module '%s'", path, name);
    return;
missing:;
    Diag *g = diag_error(&pr->diags, DIAG_E017, imp->span, "unknown module '%s'", name);
    Suggest sg;
    suggest_init(&sg, name);
    for (uint32_t i = 1; i < pr->src.n; i++) {
        Node *m = module_decl(pr->files[i]);
        if (m) suggest_add(&sg, m->name);
    }
    static const char *const std[] = { "stdlib.grades", "stdlib.weights", "stdlib.signals", "stdlib.deals",
                                       "stdlib.text", "stdlib.time" };
    for (size_t i = 0; i < sizeof std / sizeof *std; i++) suggest_add(&sg, std[i]);
    if (suggest_best(&sg)) diag_help(g, "did you mean '%s'?", suggest_best(&sg));
    else if (!pr->stdlib_dir) diag_help(g, "the standard library was not found; set DNA_STDLIB");
}

uint32_t proj_check(Project *pr)
{
    uint64_t refused = dna_mem_refused();       /* the interner and the parser's buffers too */
    parse_new(pr);
    /* imports may import further modules: loop until nothing new */
    for (uint32_t i = 1; i < pr->src.n; i++)
        for (Node *d = pr->files[i] ? pr->files[i]->list : NULL; d; d = d->next)
            if (d->kind == N_IMPORT) load_import(pr, d);
    Program *p = &pr->prog;
    memset(p, 0, sizeof *p);
    if (pr->arena.failed || dna_mem_refused() != refused) {
        /* a partial tree is not worth checking */
        diag_error(&pr->diags, DIAG_E001, (Span){ 0, 0, 0 }, "out of memory while parsing");
        diag_sort(&pr->diags);
        return pr->diags.nerrors;
    }
    p->arena = &pr->arena;
    p->in = &pr->in;
    p->diags = &pr->diags;
    p->src = &pr->src;
    ty_init(p);
    res_program(p, pr->files + 1, pr->src.n ? pr->src.n - 1 : 0);
    check_program(p);
    if (pr->arena.failed || p->oom || dna_mem_refused() != refused)
        diag_error(&pr->diags, DIAG_E001, (Span){ 0, 0, 0 }, "out of memory: the check is incomplete");
    diag_sort(&pr->diags);
    return pr->diags.nerrors;
}

const char *proj_find_stdlib(const char *argv0)
{
    static char buf[4096];
    struct stat st;
    const char *env = getenv("DNA_STDLIB");
    if (env && *env) return env;
    char exe[4096];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n <= 0 && argv0) { snprintf(exe, sizeof exe, "%s", argv0); n = (ssize_t)strlen(exe); }
    if (n > 0) {
        exe[n] = 0;
        char *slash = strrchr(exe, '/');
        if (slash) {
            *slash = 0;
            const char *rel[] = { "/../stdlib", "/../share/dna/stdlib", "/../../stdlib" };
            for (size_t i = 0; i < sizeof rel / sizeof *rel; i++) {
                char cand[4200];
                snprintf(cand, sizeof cand, "%s%s/grades.dna", exe, rel[i]);
                if (stat(cand, &st) == 0) {
                    snprintf(cand, sizeof cand, "%s%s", exe, rel[i]);
                    if (realpath(cand, buf)) return buf;
                }
            }
        }
    }
#ifdef DNA_STDLIB_DIR
    if (stat(DNA_STDLIB_DIR, &st) == 0) return DNA_STDLIB_DIR;
#endif
    return NULL;
}
