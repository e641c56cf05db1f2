/*
 * diag.c - collecting and printing diagnostics (see diag.h).
 */
#include "front/diag.h"
#include "base/mem.h"

#include <jansson.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

static const char *const code_names[] = {
#define DIAG(code, title, text) #code,
#include "front/diag_codes.h"
#undef DIAG
};
static const char *const code_titles[] = {
#define DIAG(code, title, text) title,
#include "front/diag_codes.h"
#undef DIAG
};
static const char *const code_texts[] = {
#define DIAG(code, title, text) text,
#include "front/diag_codes.h"
#undef DIAG
};

const char *diag_code_name(DiagCode c) { return code_names[c]; }

int diag_code_find(const char *const *names, int n, const char *code)
{
    for (int i = 0; code && i < n; i++)
        if (!strcmp(names[i], code)) return i;
    return -1;
}

static int code_index(const char *code) { return diag_code_find(code_names, DIAG__COUNT, code); }

const char *diag_code_title(const char *code)
{
    int i = code_index(code);
    return i < 0 ? NULL : code_titles[i];
}

const char *diag_code_text(const char *code)
{
    int i = code_index(code);
    return i < 0 ? NULL : code_texts[i];
}

void diag_init(DiagList *d, SrcSet *src)
{
    memset(d, 0, sizeof *d);
    d->src = src;
}

void diag_free(DiagList *d)
{
    for (uint32_t i = 0; i < d->n; i++) {
        free(d->v[i].msg);
        free(d->v[i].help);
    }
    dna_free(d->v, sizeof(Diag) * d->cap);
    dna_free(d->per_file, sizeof(uint32_t) * d->per_file_cap);
    diag_init(d, d->src);
}

static char *vfmt(const char *fmt, va_list ap)
{
    char *s = NULL;
    if (vasprintf(&s, fmt, ap) < 0) return NULL;
    return s;
}

static int bump_file(DiagList *d, uint32_t file)
{
    if (file >= d->per_file_cap) {
        uint32_t nc = file + 16;
        uint32_t *np = dna_realloc(d->per_file, sizeof(uint32_t) * d->per_file_cap,
                                   sizeof(uint32_t) * nc);
        if (!np) return 0;
        memset(np + d->per_file_cap, 0, sizeof(uint32_t) * (nc - d->per_file_cap));
        d->per_file = np;
        d->per_file_cap = nc;
    }
    return ++d->per_file[file] <= DIAG_MAX_PER_FILE;
}

/* Follow-on errors of one mistake are dropped.  An error where a token was already refused (E001-E008: syntax, strings,
 * characters, numbers) is a follow-on of that one mistake: an invalid
 * number the checker then finds of the wrong type, a token the lexer
 * refused that the parser then does not expect.  It is dropped. */
static int token_error(const Diag *g)
{
    return g->sev == SEV_ERROR && !strncmp(g->code, "E00", 3) && g->code[3] >= '1' && g->code[3] <= '8' && !g->code[4];
}

/* ... and a declaration said to lack a clause (E023) when a syntax error
 * inside it is why the clause is missing. */
static int follow_on(const DiagList *d, Severity sev, const char *code, Span span)
{
    if (sev != SEV_ERROR) return 0;
    for (uint32_t i = d->n, k = 0; i-- > 0 && k < 16; k++) {
        const Diag *g = &d->v[i];
        if (token_error(g) && g->span.file == span.file && g->span.start == span.start) return 1;
    }
    if (strcmp(code, "E023")) return 0;
    for (uint32_t i = 0; i < d->n; i++) {
        const Diag *g = &d->v[i];
        if (token_error(g) && g->span.file == span.file && g->span.start > span.start && g->span.start < span.end)
            return 1;
    }
    return 0;
}

static Diag *vemit(DiagList *d, Severity sev, const char *code, Span span,
                   const char *fmt, va_list ap)
{
    if (follow_on(d, sev, code, span)) return NULL;
    if (sev == SEV_ERROR) d->nerrors++;
    else if (sev == SEV_WARNING) d->nwarnings++;
    if (!bump_file(d, span.file)) { d->suppressed++; return NULL; }
    if (d->n == d->cap) {
        uint32_t nc = d->cap ? d->cap * 2 : 32;
        Diag *nv = dna_realloc(d->v, sizeof(Diag) * d->cap, sizeof(Diag) * nc);
        if (!nv) { d->suppressed++; return NULL; }
        d->v = nv;
        d->cap = nc;
    }
    Diag *g = &d->v[d->n++];
    g->sev = sev;
    g->code = code;
    g->span = span;
    g->msg = vfmt(fmt, ap);
    g->help = NULL;
    return g;
}

Diag *diag_emit(DiagList *d, Severity sev, const char *code, Span span, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    Diag *g = vemit(d, sev, code, span, fmt, ap);
    va_end(ap);
    return g;
}

Diag *diag_error(DiagList *d, DiagCode code, Span span, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    Diag *g = vemit(d, SEV_ERROR, code_names[code], span, fmt, ap);
    va_end(ap);
    return g;
}

void diag_help(Diag *g, const char *fmt, ...)
{
    if (!g) return;
    va_list ap;
    va_start(ap, fmt);
    free(g->help);
    g->help = vfmt(fmt, ap);
    va_end(ap);
}

void diag_sort(DiagList *d)
{
    /* insertion sort: stable, and the list is short (capped per file) and
     * nearly sorted already */
    for (uint32_t i = 1; i < d->n; i++) {
        Diag t = d->v[i];
        uint32_t j = i;
        while (j > 0 && (d->v[j - 1].span.file > t.span.file ||
                         (d->v[j - 1].span.file == t.span.file &&
                          d->v[j - 1].span.start > t.span.start))) {
            d->v[j] = d->v[j - 1];
            j--;
        }
        d->v[j] = t;
    }
}

/* ---- rendering ------------------------------------------------------- */

static const char *sev_name(Severity s)
{
    return s == SEV_ERROR ? "error" : s == SEV_WARNING ? "warning" : "note";
}

#define SHOW_MAX 160        /* columns of a long line shown around the span */

static void print_snippet(FILE *out, const SrcFile *f, Span sp, uint32_t line, int color)
{
    uint32_t ls = f->lines[line - 1];
    uint32_t le = ls;
    while (le < f->len && f->text[le] != '\n') le++;
    if (le > ls && f->text[le - 1] == '\r') le--;
    uint32_t s = sp.start < ls ? ls : sp.start > le ? le : sp.start;
    uint32_t e = sp.end > le ? le : sp.end < s ? s : sp.end;
    /* window: long lines are cut around the span */
    uint32_t ws = ls, we = le;
    if (le - ls > SHOW_MAX) {
        ws = s > ls + SHOW_MAX / 4 ? s - SHOW_MAX / 4 : ls;
        we = ws + SHOW_MAX < le ? ws + SHOW_MAX : le;
        while (ws > ls && ((unsigned char)f->text[ws] & 0xC0) == 0x80) ws--;
        while (we < le && ((unsigned char)f->text[we] & 0xC0) == 0x80) we++;
        if (e > we) e = we;
    }
    /* never echo bytes that are not UTF-8 to a terminal: stop before them */
    long bad = src_utf8_invalid(f->text + ws, we - ws);
    if (bad >= 0) {
        we = ws + (uint32_t)bad;
        if (s > we) s = we;
        if (e > we) e = we;
    }
    char num[16];
    int w = snprintf(num, sizeof num, "%u", line);
    fprintf(out, " %s |%s%s", num, ws > ls ? " ..." : " ", "");
    for (uint32_t i = ws; i < we; i++) {               /* control characters as '?' */
        unsigned char c = (unsigned char)f->text[i];
        fputc(c < 0x20 && c != '\t' ? '?' : c == 0x7f ? '?' : c, out);
    }
    fprintf(out, "%s\n", we < le ? "..." : "");
    fprintf(out, " %*s | %s", w, "", ws > ls ? "   " : "");
    for (uint32_t i = ws; i < s; i++) {
        unsigned char c = (unsigned char)f->text[i];
        if ((c & 0xC0) == 0x80) continue;
        fputc(c == '\t' ? '\t' : ' ', out);
    }
    if (color) fputs("\033[1;31m", out);
    fputc('^', out);
    int first = 1;
    for (uint32_t i = s; i < e; i++) {
        unsigned char c = (unsigned char)f->text[i];
        if ((c & 0xC0) == 0x80) continue;
        if (first) { first = 0; continue; }
        fputc('~', out);
    }
    if (color) fputs("\033[0m", out);
    fputc('\n', out);
}

static void print_text(const DiagList *d, FILE *out, int color)
{
    for (uint32_t i = 0; i < d->n; i++) {
        const Diag *g = &d->v[i];
        const SrcFile *f = src_get(d->src, g->span.file);
        const char *sev = sev_name(g->sev);
        if (color) fputs("\033[1m", out);
        if (f) {
            uint32_t line, col;
            src_linecol(f, g->span.start, &line, &col);
            fprintf(out, "%s:%u:%u: ", f->path, line, col);
            if (color) fputs(g->sev == SEV_ERROR ? "\033[31m" : "\033[33m", out);
            fprintf(out, "%s[%s]: ", sev, g->code);
            if (color) fputs("\033[0;1m", out);
            fprintf(out, "%s\n", g->msg ? g->msg : "(out of memory)");
            if (color) fputs("\033[0m", out);
            print_snippet(out, f, g->span, line, color);
        } else {
            fprintf(out, "%s[%s]: %s\n", sev, g->code, g->msg ? g->msg : "(out of memory)");
            if (color) fputs("\033[0m", out);
        }
        if (g->help) fprintf(out, "  = help: %s\n", g->help);
    }
    if (d->suppressed)
        fprintf(out, "note: %u further diagnostics not shown (at most %d per file)\n",
                d->suppressed, DIAG_MAX_PER_FILE);
}

static void print_json(const DiagList *d, FILE *out)
{
    for (uint32_t i = 0; i < d->n; i++) {
        const Diag *g = &d->v[i];
        const SrcFile *f = src_get(d->src, g->span.file);
        json_t *o = json_object();
        json_object_set_new(o, "severity", json_string(sev_name(g->sev)));
        json_object_set_new(o, "code", json_string(g->code));
        json_object_set_new(o, "message", json_string(g->msg ? g->msg : ""));
        if (f) {
            uint32_t l1, c1, l2, c2;
            src_linecol(f, g->span.start, &l1, &c1);
            src_linecol(f, g->span.end, &l2, &c2);
            json_object_set_new(o, "file", json_string(f->path));
            json_object_set_new(o, "line", json_integer(l1));
            json_object_set_new(o, "col", json_integer(c1));
            json_object_set_new(o, "end_line", json_integer(l2));
            json_object_set_new(o, "end_col", json_integer(c2));
        }
        if (g->help) json_object_set_new(o, "help", json_string(g->help));
        char *s = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
        if (s) { fprintf(out, "%s\n", s); free(s); }
        json_decref(o);
    }
}

/* GitHub workflow commands: %, CR and LF are escaped in data; also , and :
 * in properties. */
static void gh_escape(FILE *out, const char *s, int prop)
{
    for (; s && *s; s++) {
        switch (*s) {
        case '%': fputs("%25", out); break;
        case '\r': fputs("%0D", out); break;
        case '\n': fputs("%0A", out); break;
        case ':': fputs(prop ? "%3A" : ":", out); break;
        case ',': fputs(prop ? "%2C" : ",", out); break;
        default: fputc(*s, out);
        }
    }
}

static void print_github(const DiagList *d, FILE *out)
{
    for (uint32_t i = 0; i < d->n; i++) {
        const Diag *g = &d->v[i];
        const SrcFile *f = src_get(d->src, g->span.file);
        fprintf(out, "::%s ", g->sev == SEV_ERROR ? "error" : g->sev == SEV_WARNING ? "warning" : "notice");
        if (f) {
            uint32_t l1, c1, l2, c2;
            src_linecol(f, g->span.start, &l1, &c1);
            src_linecol(f, g->span.end, &l2, &c2);
            fputs("file=", out);
            gh_escape(out, f->path, 1);
            fprintf(out, ",line=%u,col=%u,endLine=%u,endColumn=%u,", l1, c1, l2, c2);
        }
        fputs("title=", out);
        gh_escape(out, g->code, 1);
        fputs("::", out);
        gh_escape(out, g->msg, 0);
        if (g->help) { fputs(" (help: ", out); gh_escape(out, g->help, 0); fputs(")", out); }
        fputc('\n', out);
    }
}

void diag_print(const DiagList *d, DiagFormat fmt, FILE *out, int color)
{
    switch (fmt) {
    case DIAG_TEXT: print_text(d, out, color); break;
    case DIAG_JSON: print_json(d, out); break;
    case DIAG_GITHUB: print_github(d, out); break;
    }
}

/* ---- suggestions ----------------------------------------------------- */

static unsigned edit_distance(const char *a, const char *b, unsigned limit)
{
    size_t la = strlen(a), lb = strlen(b);
    if (la > 64 || lb > 64) return limit + 1;
    if ((la > lb ? la - lb : lb - la) > limit) return limit + 1;
    unsigned row[65];
    for (size_t j = 0; j <= lb; j++) row[j] = (unsigned)j;
    for (size_t i = 1; i <= la; i++) {
        unsigned prev = row[0], best = row[0] = (unsigned)i;
        for (size_t j = 1; j <= lb; j++) {
            unsigned cur = row[j];
            unsigned sub = prev + (a[i - 1] != b[j - 1]);
            unsigned del = row[j] + 1, ins = row[j - 1] + 1;
            row[j] = sub < del ? (sub < ins ? sub : ins) : (del < ins ? del : ins);
            if (row[j] < best) best = row[j];
            prev = cur;
        }
        if (best > limit) return limit + 1;
    }
    return row[lb];
}

void suggest_init(Suggest *s, const char *name)
{
    s->name = name;
    s->best = NULL;
    s->best_dist = ~0u;
}

void suggest_add(Suggest *s, const char *cand)
{
    if (!cand || strcmp(cand, s->name) == 0) return;
    size_t n = strlen(s->name);
    unsigned limit = n < 3 ? 1 : (unsigned)(n + 2) / 3;
    unsigned dist = edit_distance(s->name, cand, limit);
    if (dist <= limit && dist < s->best_dist) {
        s->best = cand;
        s->best_dist = dist;
    }
}

const char *suggest_best(const Suggest *s) { return s->best; }
