/*
 * dnac.c - the compiler's command line: dnac check | lint | fmt | info | explain | test | compile | disasm.
 *
 * Library code reports through diagnostics; only this file prints and
 * chooses exit codes: 0 clean, 1 errors in the rules, 2 usage or I/O.
 */
#include "sema/project.h"
#include "tools/lint.h"
#include "tools/fmt.h"
#include "tools/lsp.h"
#include "emit/emit.h"
#include "dnac/testrun.h"
#include "bundle/bundle.h"
#include "bundle/disasm.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define DNA_VERSION "0.1.0"

static const char usage_text[] =
    "usage: dnac COMMAND [OPTIONS] PATH...\n"
    "\n"
    "Commands:\n"
    "  check   [--format text|json|github] PATH...   check names and types; every error is reported\n"
    "  lint    [--format text|json|github] PATH...   check, then report what compiles but is wrong\n"
    "                                                (codes L001...; severities from .dnalint)\n"
    "  fmt     [--check [--diff]] PATH...            rewrite files in the canonical layout;\n"
    "                                                --check lists files that would change,\n"
    "                                                --diff shows how (a unified diff)\n"
    "  info    PATH...                               check, then list what the rules declare\n"
    "  explain CODE                                  explain a diagnostic or lint code, e.g. E011, L005\n"
    "  test    [-v] [--filter TEXT] [--coverage] [--format text|json|github|junit] PATH...\n"
    "                                                run the test blocks; ends with \"N passed, N failed\"\n"
    "                                                (on stderr for json and junit, whose results\n"
    "                                                are stdout); a --filter no test name contains\n"
    "                                                exits 1; --coverage lists the rules, arms and\n"
    "                                                actions no test reaches\n"
    "  compile PATH... -o OUT.dnab                   check, then write the compiled bundle\n"
    "  disasm  OUT.dnab                              print a bundle: schema, rules, bytecode, source lines\n"
    "  lsp     [--stdlib DIR]                        the language server for editors, on stdin/stdout\n"
    "\n"
    "PATH is a .dna file or a directory searched for .dna files.\n"
    "Imports of stdlib.* are found in $DNA_STDLIB, beside dnac, or in the source tree.\n"
    "\n"
    "Options:\n"
    "  --format FMT   text (default; carets under the span), json (one object per line),\n"
    "                 github (::error annotations for GitHub Actions); test also junit (JUnit XML)\n"
    "  --stdlib DIR   the standard library directory\n"
    "  -o FILE        compile: where to write the bundle\n"
    "  --color / --no-color\n"
    "  -h, --help     this text\n"
    "  --version      the version\n"
    "  --check        (fmt) change nothing; list the files that are not formatted\n"
    "  --diff         (fmt) change nothing; print what formatting would change\n"
    "\n"
    "Lint severities: a file .dnalint in the directory of the first PATH or a parent\n"
    "(up to the repository root) with lines like `L005 = off|warning|error`.\n"
    "\n"
    "Exit status: 0 clean, 1 errors in the rules (lint: a finding of severity error;\n"
    "fmt --check: a file would change; fmt: a file does not parse; test: a test failed or\n"
    "--filter matched none), 2 usage or I/O error.\n";

static int usage_error(const char *fmt, const char *arg)
{
    fprintf(stderr, "dnac: ");
    fprintf(stderr, fmt, arg);
    fprintf(stderr, "\nTry 'dnac --help'.\n");
    return 2;
}

/* The options a command takes beyond the common ones (--format, --stdlib, --color). */
enum { OPT_OUTPUT = 1, OPT_FMT = 2, OPT_TEST = 4 };

typedef struct Opts {
    DiagFormat format;
    TestFormat test_format;     /* test: text, json, github or junit */
    const char *stdlib;
    int color;                  /* -1 auto */
    const char **paths;
    int npaths;
    const char *output;         /* compile -o */
    int check, diff;            /* fmt --check --diff */
    int verbose, coverage;      /* test -v --coverage */
    const char *filter;         /* test --filter */
} Opts;

static int parse_format(Opts *o, const char *v, unsigned allow)
{
    static const struct { const char *name; DiagFormat d; TestFormat t; } f[] = {
        { "text", DIAG_TEXT, TF_TEXT }, { "json", DIAG_JSON, TF_JSON }, { "github", DIAG_GITHUB, TF_GITHUB },
        { "junit", DIAG_TEXT, TF_JUNIT } };        /* junit: diagnostics as text on stderr */
    for (size_t i = 0; i < sizeof f / sizeof f[0]; i++) {
        if (strcmp(v, f[i].name)) continue;
        if (f[i].t == TF_JUNIT && !(allow & OPT_TEST)) break;
        o->format = f[i].d;
        o->test_format = f[i].t;
        return 0;
    }
    return usage_error(allow & OPT_TEST ? "unknown format '%s' (text, json, github or junit)"
                                        : "unknown format '%s' (text, json or github)", v);
}

static int parse_opts(int argc, char **argv, Opts *o, unsigned allow)
{
    memset(o, 0, sizeof *o);
    o->format = DIAG_TEXT;
    o->color = -1;
    o->paths = calloc((size_t)argc + 1, sizeof(char *));
    if (!o->paths) return usage_error("%s", "out of memory");
    int only_paths = 0;
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i];
        if (only_paths || a[0] != '-' || !a[1]) { o->paths[o->npaths++] = a; continue; }
        if (!strcmp(a, "--")) only_paths = 1;
        else if (!strcmp(a, "--format") || !strncmp(a, "--format=", 9)) {
            const char *v = a[8] == '=' ? a + 9 : (i + 1 < argc ? argv[++i] : NULL);
            if (!v) return usage_error("%s needs a value: text, json or github", "--format");
            if (parse_format(o, v, allow)) return 2;
        } else if (!strcmp(a, "--stdlib")) {
            if (i + 1 >= argc) return usage_error("%s needs a directory", "--stdlib");
            o->stdlib = argv[++i];
        } else if ((allow & OPT_OUTPUT) && (!strcmp(a, "-o") || !strcmp(a, "--output"))) {
            if (i + 1 >= argc) return usage_error("%s needs a file name", a);
            o->output = argv[++i];
        } else if (!strcmp(a, "--color")) o->color = 1;
        else if (!strcmp(a, "--no-color")) o->color = 0;
        else if ((allow & OPT_FMT) && !strcmp(a, "--check")) o->check = 1;
        else if ((allow & OPT_FMT) && !strcmp(a, "--diff")) o->diff = 1;
        else if ((allow & OPT_TEST) && (!strcmp(a, "-v") || !strcmp(a, "--verbose"))) o->verbose = 1;
        else if ((allow & OPT_TEST) && !strcmp(a, "--coverage")) o->coverage = 1;
        else if ((allow & OPT_TEST) && !strcmp(a, "--filter")) {
            if (i + 1 >= argc) return usage_error("%s needs a text", "--filter");
            o->filter = argv[++i];
        } else return usage_error("unknown option '%s'", a);
    }
    return 0;
}

static int load(Project *pr, Opts *o, const char *argv0)
{
    proj_init(pr, o->stdlib ? o->stdlib : proj_find_stdlib(argv0));
    if (!o->npaths) {
        proj_free(pr);
        return usage_error("%s", "no PATH given: name .dna files or directories");
    }
    for (int i = 0; i < o->npaths; i++)
        if (!proj_add_path(pr, o->paths[i])) {
            fprintf(stderr, "dnac: %s\n", pr->io_error);
            proj_free(pr);
            return 2;
        }
    if (!pr->nuser) {
        fprintf(stderr, "dnac: no .dna files found in %s%s\n", o->paths[0], o->npaths > 1 ? " ..." : "");
        proj_free(pr);
        return 2;
    }
    return 0;
}

static int report(Project *pr, Opts *o)
{
    FILE *out = o->format == DIAG_TEXT ? stderr : stdout;
    int color = o->color >= 0 ? o->color : (o->format == DIAG_TEXT && isatty(2) && !getenv("NO_COLOR"));
    diag_print(&pr->diags, o->format, out, color);
    if (o->format == DIAG_TEXT && pr->diags.nerrors)
        fprintf(stderr, "%u error%s in %d file%s\n", pr->diags.nerrors, pr->diags.nerrors == 1 ? "" : "s",
                pr->nuser, pr->nuser == 1 ? "" : "s");
    return pr->diags.nerrors ? 1 : 0;
}

/* Every command that reads rules opens the same way: its options, the
 * files, and (check != 0) names and types.  Returns 0 with pr loaded, or
 * the exit status with nothing to free. */
static int open_project(int argc, char **argv, const char *argv0, unsigned allow, int check, Opts *o, Project *pr)
{
    int rc = parse_opts(argc, argv, o, allow);
    if (!rc) rc = load(pr, o, argv0);
    if (rc) { free(o->paths); return rc; }
    if (check) proj_check(pr);
    return 0;
}

static int close_project(Project *pr, Opts *o, int rc)
{
    proj_free(pr);
    free(o->paths);
    return rc;
}

static int cmd_check(int argc, char **argv, const char *argv0)
{
    Opts o;
    Project pr;
    int rc = open_project(argc, argv, argv0, 0, 1, &o, &pr);
    return rc ? rc : close_project(&pr, &o, report(&pr, &o));
}

/* ---- lint ---------------------------------------------------------------- */

static int cmd_lint(int argc, char **argv, const char *argv0)
{
    Opts o;
    Project pr;
    int rc = open_project(argc, argv, argv0, 0, 1, &o, &pr);
    if (rc) return rc;
    if (pr.diags.nerrors) {                 /* lint only a program that checks clean */
        rc = report(&pr, &o);
        goto out;
    }
    LintConfig cfg;
    lint_config_default(&cfg);
    char cfgpath[4096], err[600];
    if (lint_config_find(o.paths[0], cfgpath, sizeof cfgpath) &&
        !lint_config_load(&cfg, cfgpath, err, sizeof err)) {
        fprintf(stderr, "dnac: %s\n", err);
        rc = 2;
        goto out;
    }
    lint_program(&pr.prog, &cfg, &pr.diags);
    diag_sort(&pr.diags);
    FILE *dst = o.format == DIAG_TEXT ? stderr : stdout;
    int color = o.color >= 0 ? o.color : (o.format == DIAG_TEXT && isatty(2) && !getenv("NO_COLOR"));
    diag_print(&pr.diags, o.format, dst, color);
    if (o.format == DIAG_TEXT && (pr.diags.nerrors || pr.diags.nwarnings))
        fprintf(stderr, "lint: %u error%s, %u warning%s in %d file%s\n", pr.diags.nerrors,
                pr.diags.nerrors == 1 ? "" : "s", pr.diags.nwarnings, pr.diags.nwarnings == 1 ? "" : "s",
                pr.nuser, pr.nuser == 1 ? "" : "s");
    rc = pr.diags.nerrors ? 1 : 0;
out:
    return close_project(&pr, &o, rc);
}

/* ---- fmt ----------------------------------------------------------------- */

/* Replace `path` by `text`: a temporary file beside it, then rename. */
static int write_atomic(const char *path, const char *text, size_t len)
{
    char real[4096];
    if (!realpath(path, real)) snprintf(real, sizeof real, "%s", path);
    struct stat st;
    mode_t mode = stat(real, &st) == 0 ? (st.st_mode & 07777) : 0644;
    char tmp[4200];
    snprintf(tmp, sizeof tmp, "%s.fmt-XXXXXX", real);
    int fd = mkstemp(tmp);
    if (fd < 0) return 0;
    size_t off = 0;
    while (off < len) {
        ssize_t w = write(fd, text + off, len - off);
        if (w <= 0) { close(fd); unlink(tmp); return 0; }
        off += (size_t)w;
    }
    if (fchmod(fd, mode) != 0 || fsync(fd) != 0 || close(fd) != 0) { unlink(tmp); return 0; }
    if (rename(tmp, real) != 0) { unlink(tmp); return 0; }
    return 1;
}

static int cmd_fmt(int argc, char **argv, const char *argv0)
{
    Opts o;
    Project pr;
    int rc = open_project(argc, argv, argv0, OPT_FMT, 0, &o, &pr);
    if (rc) return rc;
    if (o.diff) o.check = 1;                    /* --diff shows, never writes */
    uint32_t nfiles = pr.src.n;
    int unformatted = 0;
    for (uint32_t i = 1; i < nfiles && rc != 2; i++) {
        SrcFile *f = pr.src.files[i];
        uint32_t before = pr.diags.nerrors;
        Comment *cm = NULL;
        Node *file = parse_file(&pr.arena, &pr.in, &pr.diags, i, f, &cm);
        if (pr.diags.nerrors != before) { rc = 1; continue; }   /* refuse: it does not parse */
        size_t len = 0;
        char *out = fmt_file(file, cm, f, &len);
        if (!out) { fprintf(stderr, "dnac: out of memory formatting %s\n", f->path); rc = 2; break; }
        if (len != f->len || memcmp(out, f->text, len) != 0) {
            /* never write what would not parse back */
            DiagList scratch;
            diag_init(&scratch, &pr.src);
            uint32_t id = src_add(&pr.src, f->path, out, len);
            if (id) parse_file(&pr.arena, &pr.in, &scratch, id, pr.src.files[id], NULL);
            int bad = !id || scratch.nerrors;
            diag_free(&scratch);
            if (bad) {
                fprintf(stderr, "dnac: internal error: formatting %s gives text that does not parse; "
                        "file left unchanged\n", f->path);
                rc = 2;
            } else if (o.check) {
                if (o.diff) {
                    size_t dl = 0;
                    char *d = fmt_diff(f->path, f->text, f->len, out, len, &dl);
                    if (d) fwrite(d, 1, dl, stdout);
                    else printf("%s\n", f->path);
                    dna_free(d, dl + 1);
                } else printf("%s\n", f->path);
                unformatted = 1;
            } else if (!write_atomic(f->path, out, len)) {
                fprintf(stderr, "dnac: cannot write '%s': %s\n", f->path, strerror(errno));
                rc = 2;
            }
        }
        dna_free(out, len + 1);
    }
    if (pr.diags.n) {
        diag_sort(&pr.diags);
        int color = o.color >= 0 ? o.color : (o.format == DIAG_TEXT && isatty(2) && !getenv("NO_COLOR"));
        diag_print(&pr.diags, o.format, o.format == DIAG_TEXT ? stderr : stdout, color);
        if (o.format == DIAG_TEXT)
            fprintf(stderr, "fmt: %u error%s; files that do not parse are left unchanged\n", pr.diags.nerrors,
                    pr.diags.nerrors == 1 ? "" : "s");
    }
    if (!rc && unformatted) rc = 1;
    return close_project(&pr, &o, rc);
}

static void list_kind(Project *pr, NodeKind k, const char *title)
{
    int n = 0;
    for (uint32_t i = 1; i < pr->src.n; i++) {
        if (pr->src.files[i]->is_stdlib) continue;
        for (Node *d = pr->files[i] ? pr->files[i]->list : NULL; d; d = d->next) {
            if (d->kind != k) continue;
            if (!n++) printf("%s:\n", title);
            switch (k) {
            case N_ENTITY: printf("  %-24s %d fields\n", d->name, ast_count(d->list) + ast_count(d->list2)); break;
            case N_EVENT: printf("  %-24s %d fields\n", d->name, ast_count(d->list)); break;
            case N_SCORE: printf("  %-24s for %-10s %d rules\n", d->name, d->name2, ast_count(d->list)); break;
            case N_INTENT: {
                printf("  for %-20s", d->name2);
                for (Node *c = d->list; c; c = c->next) printf(" %s(%d)", c->name, ast_count(c->list));
                printf("\n");
                break;
            }
            case N_SIGNAL: {
                const char *prio = "";
                for (Node *x = d->list; x; x = x->next) if (x->kind == N_PRIORITY) prio = x->name;
                printf("  %-24s for %-10s %s\n", d->name, d->name2, prio);
                break;
            }
            case N_WORKFLOW: {
                const char *mode = "live";
                for (Node *x = d->list; x; x = x->next) if (x->kind == N_MODE) mode = x->name;
                printf("  %-24s for %-10s %s\n", d->name, d->name2, mode);
                break;
            }
            case N_ROUTE: printf("  for %s\n", d->name2); break;
            case N_DERIVE: printf("  %s.%s\n", d->a->a->name, d->a->name); break;
            case N_CONNECTOR: printf("  %-24s %s\n", d->name, d->name2); break;
            case N_TEAM: printf("  %-24s %d members\n", d->name, ast_count(d->list)); break;
            case N_SEQUENCE: {
                int steps = 0;
                for (Node *x = d->list; x; x = x->next) steps += x->kind == N_STEP;
                printf("  %-24s for %-10s %d steps\n", d->name, d->name2, steps);
                break;
            }
            case N_TEST: printf("  \"%s\"\n", d->a->name ? d->a->name : ""); break;
            default: printf("  %s\n", d->name ? d->name : "");
            }
        }
    }
}

static int cmd_info(int argc, char **argv, const char *argv0)
{
    Opts o;
    Project pr;
    int rc = open_project(argc, argv, argv0, 0, 1, &o, &pr);
    if (rc) return rc;
    rc = report(&pr, &o);
    if (!rc) {
        printf("%d file%s, %d module%s\n", pr.nuser, pr.nuser == 1 ? "" : "s", pr.prog.nmods,
               pr.prog.nmods == 1 ? "" : "s");
        list_kind(&pr, N_SOURCE, "sources");
        list_kind(&pr, N_EVENT, "events");
        list_kind(&pr, N_ENTITY, "entities");
        list_kind(&pr, N_SCORE, "scores");
        list_kind(&pr, N_DERIVE, "derived");
        list_kind(&pr, N_INTENT, "intent");
        list_kind(&pr, N_SIGNAL, "signals");
        list_kind(&pr, N_ROUTE, "routes");
        list_kind(&pr, N_WORKFLOW, "workflows");
        list_kind(&pr, N_SEQUENCE, "sequences");
        list_kind(&pr, N_TEAM, "teams");
        list_kind(&pr, N_CONNECTOR, "connectors");
        list_kind(&pr, N_TEST, "tests");
    }
    return close_project(&pr, &o, rc);
}

static int cmd_explain(int argc, char **argv)
{
    if (argc != 1) return usage_error("%s", "explain takes one code, e.g. dnac explain E011");
    const char *title = diag_code_title(argv[0]);
    const char *text = diag_code_text(argv[0]);
    if (!title) { title = lint_code_title(argv[0]); text = lint_code_text(argv[0]); }
    if (!title) return usage_error("unknown code '%s'", argv[0]);
    printf("%s: %s\n\n%s\n", argv[0], title, text);
    return 0;
}

static int cmd_compile(int argc, char **argv, const char *argv0)
{
    Opts o;
    Project pr;
    int rc = open_project(argc, argv, argv0, OPT_OUTPUT, 0, &o, &pr);
    if (rc) return rc;
    if (!o.output) return close_project(&pr, &o, usage_error("%s", "compile needs -o OUT.dnab"));
    proj_check(&pr);
    rc = report(&pr, &o);
    DnaBuf buf = { 0 };
    if (!rc) {
        if (emit_bundle(&pr, &buf)) {
            diag_sort(&pr.diags);
            rc = report(&pr, &o);
            if (!rc) rc = 1;
        }
    }
    if (!rc) {
        /* write beside the target, then rename: a reader never sees half a bundle */
        size_t n = strlen(o.output) + 16;
        char *tmp = malloc(n);
        FILE *f = NULL;
        if (tmp) {
            snprintf(tmp, n, "%s.tmp%ld", o.output, (long)getpid());
            f = fopen(tmp, "wb");
        }
        int ok = f && fwrite(buf.p, 1, buf.n, f) == buf.n;
        if (f && fclose(f) != 0) ok = 0;
        if (ok && rename(tmp, o.output) != 0) ok = 0;
        if (!ok) {
            fprintf(stderr, "dnac: cannot write '%s'\n", o.output);
            if (tmp) remove(tmp);
            rc = 2;
        }
        free(tmp);
    }
    dna_buf_free(&buf);
    return close_project(&pr, &o, rc);
}

/* Source lines for the disassembler, read on demand; stdlib/... paths are
 * looked up in the standard library directory. */
typedef struct LineCache {
    const char *stdlib;
    char *path, *text;
    size_t len;
} LineCache;

static const char *source_line(void *ud, const char *path, uint32_t line)
{
    LineCache *c = ud;
    if (!c->path || strcmp(c->path, path)) {
        free(c->path);
        free(c->text);
        c->path = strdup(path);
        c->text = NULL;
        char full[4096];
        if (!strncmp(path, "stdlib/", 7) && c->stdlib) snprintf(full, sizeof full, "%s/%s", c->stdlib, path + 7);
        else snprintf(full, sizeof full, "%s", path);
        FILE *f = fopen(full, "rb");
        if (f) {
            size_t cap = 65536, n = 0;
            char *t = malloc(cap + 1);
            size_t got;
            while (t && (got = fread(t + n, 1, cap - n, f)) > 0) {
                n += got;
                if (n == cap) { char *nt = realloc(t, cap * 2 + 1); if (!nt) break; t = nt; cap *= 2; }
            }
            fclose(f);
            if (t) { t[n] = 0; c->text = t; c->len = n; }
        }
    }
    if (!c->text) return NULL;
    const char *s = c->text;
    for (uint32_t i = 1; i < line && s; i++) {
        s = strchr(s, '\n');
        if (s) s++;
    }
    return s;
}

static int cmd_test(int argc, char **argv, const char *argv0)
{
    Opts o;
    Project pr;
    int rc = open_project(argc, argv, argv0, OPT_TEST, 1, &o, &pr);
    if (rc) return rc;
    rc = report(&pr, &o);
    if (rc && o.test_format == TF_JUNIT) tr_print_junit_error(stdout, pr.diags.nerrors);
    if (!rc) {
        TestSummary sum;
        TestOpts to = { o.test_format, o.verbose, o.filter, o.coverage };
        /* stdout holds the results; in json and junit the closing count goes to stderr */
        FILE *closing = o.test_format == TF_JSON || o.test_format == TF_JUNIT ? stderr : stdout;
        if (tr_run(&pr, stdout, &to, &sum) != 0) {
            report(&pr, &o);
            if (o.test_format == TF_JUNIT) tr_print_junit_error(stdout, pr.diags.nerrors);
            rc = 1;
        } else {
            fflush(stdout);
            fprintf(closing, "%u passed, %u failed\n", sum.passed, sum.failed);
            rc = sum.failed ? 1 : 0;
            if (o.filter && !sum.selected) {
                fprintf(stderr, "dnac: no test name contains '%s'\n", o.filter);
                rc = 1;
            }
        }
    }
    return close_project(&pr, &o, rc);
}

static int cmd_disasm(int argc, char **argv, const char *argv0)
{
    const char *stdlib = NULL, *path = NULL;
    for (int i = 0; i < argc; i++) {
        if (!strcmp(argv[i], "--stdlib") && i + 1 < argc) stdlib = argv[++i];
        else if (argv[i][0] == '-' && argv[i][1]) return usage_error("unknown option '%s'", argv[i]);
        else if (path) return usage_error("%s", "disasm takes one bundle");
        else path = argv[i];
    }
    if (!path) return usage_error("%s", "disasm needs a bundle: dnac disasm OUT.dnab");
    DnaBundle b;
    DnaLoadResult res;
    DnaLoadError e = bundle_load_file(path, &b, &res);
    if (e) {
        fprintf(stderr, "dnac: %s\n", res.msg);
        bundle_free(&b);
        return e == DNA_LOAD_IO ? 2 : 1;
    }
    LineCache lc = { stdlib ? stdlib : proj_find_stdlib(argv0), NULL, NULL, 0 };
    dis_bundle(&b, stdout, source_line, &lc);
    free(lc.path);
    free(lc.text);
    bundle_free(&b);
    return ferror(stdout) ? 2 : 0;
}

/* dnac lsp [--stdlib DIR] [--stdio]: the language server on stdin/stdout */
static int cmd_lsp(int argc, char **argv, const char *argv0)
{
    LspOptions lo = { NULL, 0 };
    for (int i = 0; i < argc; i++) {
        if (!strcmp(argv[i], "--stdlib") && i + 1 < argc) lo.stdlib_dir = argv[++i];
        else if (strcmp(argv[i], "--stdio") != 0) return usage_error("lsp: unknown argument '%s'", argv[i]);
    }
    if (!lo.stdlib_dir) lo.stdlib_dir = proj_find_stdlib(argv0);
    return lsp_serve(stdin, stdout, &lo);
}

int main(int argc, char **argv)
{
    if (argc < 2) { fputs(usage_text, stderr); return 2; }
    const char *cmd = argv[1];
    if (!strcmp(cmd, "-h") || !strcmp(cmd, "--help") || !strcmp(cmd, "help")) { fputs(usage_text, stdout); return 0; }
    if (!strcmp(cmd, "--version")) { printf("dnac %s\n", DNA_VERSION); return 0; }
    for (int i = 2; i < argc; i++)
        if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) { fputs(usage_text, stdout); return 0; }
    if (!strcmp(cmd, "check")) return cmd_check(argc - 2, argv + 2, argv[0]);
    if (!strcmp(cmd, "lint")) return cmd_lint(argc - 2, argv + 2, argv[0]);
    if (!strcmp(cmd, "fmt")) return cmd_fmt(argc - 2, argv + 2, argv[0]);
    if (!strcmp(cmd, "info")) return cmd_info(argc - 2, argv + 2, argv[0]);
    if (!strcmp(cmd, "explain")) return cmd_explain(argc - 2, argv + 2);
    if (!strcmp(cmd, "compile")) return cmd_compile(argc - 2, argv + 2, argv[0]);
    if (!strcmp(cmd, "disasm")) return cmd_disasm(argc - 2, argv + 2, argv[0]);
    if (!strcmp(cmd, "test")) return cmd_test(argc - 2, argv + 2, argv[0]);
    if (!strcmp(cmd, "lsp")) return cmd_lsp(argc - 2, argv + 2, argv[0]);
    return usage_error("unknown command '%s'", cmd);
}
