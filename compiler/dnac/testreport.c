/*
 * testreport.c - printing `dnac test`'s results: text, json, github, junit,
 * and the coverage of the rules (testrun.h).
 */
#include "dnac/testrun.h"
#include "base/jsonw.h"

#include <stdlib.h>
#include <string.h>

/* ---- text and github --------------------------------------------------------- */

/* "::error" data: % CR LF escaped; properties also : and , */
static void gh_escape(FILE *out, const char *s, int property)
{
    for (; *s; s++) {
        if (*s == '%') fputs("%25", out);
        else if (*s == '\r') fputs("%0D", out);
        else if (*s == '\n') fputs("%0A", out);
        else if (property && *s == ':') fputs("%3A", out);
        else if (property && *s == ',') fputs("%2C", out);
        else fputc(*s, out);
    }
}

/* A failure's text starts "FILE:LINE:COL: "; the rest is the message. */
static const char *split_where(const char *f, char *path, size_t n, unsigned *line, unsigned *col)
{
    const char *p = strstr(f, ": ");
    *line = *col = 0;
    path[0] = 0;
    if (!p) return f;
    const char *c2 = p - 1;
    while (c2 > f && *c2 != ':') c2--;
    const char *c1 = c2 - 1;
    while (c1 > f && *c1 != ':') c1--;
    if (c1 <= f || sscanf(c1, ":%u:%u", line, col) != 2) return f;
    snprintf(path, n, "%.*s", (int)(c1 - f), f);
    return p + 2;
}

static void print_text(FILE *out, const TestOpts *o, const TestResult *t)
{
    int failed = t->nfails || t->more;
    fprintf(out, "%s \"%s\" (%s:%u:%u)\n", failed ? "FAIL" : "ok  ", t->name, t->path, t->line, t->col);
    for (uint32_t i = 0; i < t->nfails; i++) fprintf(out, "    %s\n", t->fails[i]);
    if (t->more) fprintf(out, "    ... and %u more\n", t->more);
    if ((failed || o->verbose) && t->neffects) {
        fprintf(out, "    effects:\n");
        for (uint32_t i = 0; i < t->neffects; i++) fprintf(out, "      %s\n", t->effects[i]);
    }
    if (o->format != TF_GITHUB) return;
    for (uint32_t i = 0; i < t->nfails; i++) {
        char path[512];
        unsigned line, col;
        const char *msg = split_where(t->fails[i], path, sizeof path, &line, &col);
        fputs("::error file=", out);
        gh_escape(out, *path ? path : t->path, 1);
        fprintf(out, ",line=%u,col=%u,title=", line ? line : t->line, line ? col : t->col);
        gh_escape(out, "dnac test: ", 1);
        gh_escape(out, t->name, 1);
        fputs("::", out);
        gh_escape(out, msg, 0);
        fputc('\n', out);
    }
}

/* ---- json: one object per test ---------------------------------------------- */

static void print_json(FILE *out, const TestOpts *o, const TestResult *t)
{
    int failed = t->nfails || t->more;
    JsonW w;
    jw_init(&w);
    jw_obj(&w);
    jw_key(&w, "test"); jw_str(&w, t->name);
    jw_key(&w, "file"); jw_str(&w, t->path);
    jw_key(&w, "line"); jw_int(&w, t->line);
    jw_key(&w, "col"); jw_int(&w, t->col);
    jw_key(&w, "status"); jw_str(&w, failed ? "failed" : "passed");
    jw_key(&w, "failures");
    jw_arr(&w);
    for (uint32_t i = 0; i < t->nfails; i++) jw_str(&w, t->fails[i]);
    jw_end_arr(&w);
    if (t->more) { jw_key(&w, "more_failures"); jw_int(&w, t->more); }
    if (failed || o->verbose) {
        jw_key(&w, "effects");
        jw_arr(&w);
        for (uint32_t i = 0; i < t->neffects; i++) jw_raw(&w, t->effects[i], strlen(t->effects[i]));
        jw_end_arr(&w);
    }
    jw_end_obj(&w);
    if (w.p) fprintf(out, "%.*s\n", (int)w.n, w.p);
    jw_free(&w);
}

/* ---- junit ---------------------------------------------------------------------- */

/* XML text: & < > " escaped; bytes XML 1.0 does not allow become '?'.  In
 * an attribute (attr) line breaks and tabs are character references, which
 * a parser keeps (it turns literal ones into spaces). */
static void xml_text(FILE *out, const char *s, int attr)
{
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (attr && (c == '\n' || c == '\t' || c == '\r')) fprintf(out, "&#%d;", c);
        else if (c == '&') fputs("&amp;", out);
        else if (c == '<') fputs("&lt;", out);
        else if (c == '>') fputs("&gt;", out);
        else if (c == '"') fputs("&quot;", out);
        else if (c < 0x20 && c != '\n' && c != '\t' && c != '\r') fputc('?', out);
        else fputc(c, out);
    }
}

static void xml(FILE *out, const char *s) { xml_text(out, s, 1); }

static void print_junit(FILE *out, const TestResult *v, uint32_t n)
{
    uint32_t failures = 0;
    double total = 0;
    for (uint32_t i = 0; i < n; i++) { failures += v[i].nfails || v[i].more; total += v[i].seconds; }
    fprintf(out, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    fprintf(out, "<testsuites name=\"dnac test\" tests=\"%u\" failures=\"%u\" errors=\"0\" time=\"%.3f\">\n", n, failures,
            total);
    for (uint32_t i = 0; i < n;) {                  /* one suite per file, in file order */
        uint32_t j = i, nf = 0;
        double secs = 0;
        while (j < n && !strcmp(v[j].path, v[i].path)) { nf += v[j].nfails || v[j].more; secs += v[j].seconds; j++; }
        fputs("  <testsuite name=\"", out);
        xml(out, v[i].path);
        fprintf(out, "\" tests=\"%u\" failures=\"%u\" errors=\"0\" skipped=\"0\" time=\"%.3f\">\n", j - i, nf, secs);
        for (uint32_t k = i; k < j; k++) {
            const TestResult *t = &v[k];
            fputs("    <testcase name=\"", out);
            xml(out, t->name);
            fputs("\" classname=\"", out);
            xml(out, t->path);
            fputs("\" file=\"", out);
            xml(out, t->path);
            fprintf(out, "\" line=\"%u\" time=\"%.3f\"", t->line, t->seconds);
            if (!t->nfails && !t->more) { fputs("/>\n", out); continue; }
            fputs(">\n      <failure message=\"", out);
            xml(out, t->nfails ? t->fails[0] : "failed");
            fputs("\" type=\"expectation\">", out);
            for (uint32_t f = 0; f < t->nfails; f++) { xml_text(out, t->fails[f], 0); fputc('\n', out); }
            if (t->more) fprintf(out, "... and %u more\n", t->more);
            if (t->neffects) fputs("effects:\n", out);
            for (uint32_t e = 0; e < t->neffects; e++) { fputs("  ", out); xml_text(out, t->effects[e], 0); fputc('\n', out); }
            fputs("</failure>\n    </testcase>\n", out);
        }
        fputs("  </testsuite>\n", out);
        i = j;
    }
    fputs("</testsuites>\n", out);
}

void tr_print_junit_error(FILE *out, uint32_t nerrors)
{
    fprintf(out, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
                 "<testsuites name=\"dnac test\" tests=\"1\" failures=\"0\" errors=\"1\" time=\"0.000\">\n"
                 "  <testsuite name=\"dnac check\" tests=\"1\" failures=\"0\" errors=\"1\" skipped=\"0\" time=\"0.000\">\n"
                 "    <testcase name=\"the rules check\" classname=\"dnac check\" time=\"0.000\">\n"
                 "      <error message=\"%u error%s in the rules: no test ran (the diagnostics are on stderr)\" type=\"check\"/>\n"
                 "    </testcase>\n  </testsuite>\n</testsuites>\n",
            nerrors, nerrors == 1 ? "" : "s");
}

void tr_print(FILE *out, const TestOpts *o, const TestResult *v, uint32_t n)
{
    if (o->format == TF_JUNIT) { print_junit(out, v, n); return; }
    for (uint32_t i = 0; i < n; i++) {
        if (o->format == TF_JSON) print_json(out, o, &v[i]);
        else print_text(out, o, &v[i]);
    }
}

/* ---- coverage -------------------------------------------------------------------- */

static const char *const act_name[] = { "set", "move", "assign", "route", "pipeline", "create", "task",
                                        "notify", "webhook", "call", "enroll", "emit" };

typedef struct FileCov { uint32_t file, rules, rules_hit, arms, arms_hit, actions, actions_hit; } FileCov;

/* The rules that count: those that leave effects (a derived field leaves none). */
static int counted(const DnaRule *r) { return r->kind != DR_DERIVE; }

static const char *rule_path(const DnaBundle *b, const DnaRule *r)
{
    return r->file < b->nfiles ? bundle_str(b, b->files[r->file].path) : "?";
}

/* The arm's name for a reader: its pipeline, else its kind and place. */
static void arm_name(const DnaBundle *b, const DnaArm *arm, uint32_t k, char *out, size_t n)
{
    static const char *const kind[] = { "match", "_", "else", "do" };
    for (uint32_t j = 0; j < arm->nactions; j++) {
        const DnaAction *a = &b->actions[arm->action + j];
        for (uint32_t g = 0; g < a->nargs; g++) {
            const DnaArg *ar = &b->args[a->arg + g];
            if (a->kind == 4 && ar->konst != DNA_NIL && b->consts[ar->konst].type == DT_STR) {
                snprintf(out, n, "arm %u (%s, pipeline \"%s\")", k + 1, kind[arm->kind % 4], bundle_str(b, b->consts[ar->konst].str));
                return;
            }
        }
    }
    snprintf(out, n, "arm %u (%s)", k + 1, kind[arm->kind % 4]);
}

static void tally(const DnaBundle *b, const TestCoverage *cv, FileCov *fc, uint32_t *nfc, FileCov *all)
{
    memset(all, 0, sizeof *all);
    for (uint32_t ri = 0; ri < b->nrules; ri++) {
        const DnaRule *r = &b->rules[ri];
        if (!counted(r) || (r->file < b->nfiles && b->files[r->file].stdlib)) continue;
        uint32_t k = 0;
        while (k < *nfc && fc[k].file != r->file) k++;
        if (k == *nfc) { memset(&fc[k], 0, sizeof fc[k]); fc[k].file = r->file; (*nfc)++; }
        FileCov *c = &fc[k];
        c->rules++;
        c->rules_hit += cv->rule[ri] != 0;
        for (uint32_t i = 0; i < r->narms; i++) {
            const DnaArm *arm = &b->arms[r->arm + i];
            if (r->narms > 1) { c->arms++; c->arms_hit += cv->arm[r->arm + i] != 0; }
            for (uint32_t j = 0; j < arm->nactions; j++) {
                if (b->actions[arm->action + j].kind == 3) continue;       /* ACT_ROUTE leaves no effect */
                c->actions++;
                c->actions_hit += cv->action[arm->action + j] != 0;
            }
        }
    }
    for (uint32_t k = 0; k < *nfc; k++) {
        all->rules += fc[k].rules; all->rules_hit += fc[k].rules_hit;
        all->arms += fc[k].arms; all->arms_hit += fc[k].arms_hit;
        all->actions += fc[k].actions; all->actions_hit += fc[k].actions_hit;
    }
}

static void cov_json(FILE *out, const DnaBundle *b, const TestCoverage *cv, const FileCov *fc, uint32_t nfc,
                     const FileCov *all)
{
    JsonW w;
    jw_init(&w);
    jw_obj(&w);
    jw_key(&w, "coverage");
    jw_obj(&w);
    jw_key(&w, "rules"); jw_arr(&w); jw_int(&w, all->rules_hit); jw_int(&w, all->rules); jw_end_arr(&w);
    jw_key(&w, "arms"); jw_arr(&w); jw_int(&w, all->arms_hit); jw_int(&w, all->arms); jw_end_arr(&w);
    jw_key(&w, "actions"); jw_arr(&w); jw_int(&w, all->actions_hit); jw_int(&w, all->actions); jw_end_arr(&w);
    jw_key(&w, "files");
    jw_obj(&w);
    for (uint32_t k = 0; k < nfc; k++) {
        const FileCov *c = &fc[k];
        jw_key(&w, c->file < b->nfiles ? bundle_str(b, b->files[c->file].path) : "?");
        jw_obj(&w);
        jw_key(&w, "rules"); jw_arr(&w); jw_int(&w, c->rules_hit); jw_int(&w, c->rules); jw_end_arr(&w);
        jw_key(&w, "arms"); jw_arr(&w); jw_int(&w, c->arms_hit); jw_int(&w, c->arms); jw_end_arr(&w);
        jw_key(&w, "actions"); jw_arr(&w); jw_int(&w, c->actions_hit); jw_int(&w, c->actions); jw_end_arr(&w);
        jw_end_obj(&w);
    }
    jw_end_obj(&w);
    jw_key(&w, "unreached");
    jw_arr(&w);
    for (uint32_t ri = 0; ri < b->nrules; ri++) {
        const DnaRule *r = &b->rules[ri];
        if (!counted(r) || cv->rule[ri] || (r->file < b->nfiles && b->files[r->file].stdlib)) continue;
        jw_obj(&w);
        jw_key(&w, "rule"); jw_str(&w, bundle_str(b, r->name));
        jw_key(&w, "file"); jw_str(&w, rule_path(b, r));
        jw_key(&w, "line"); jw_int(&w, r->line);
        jw_key(&w, "col"); jw_int(&w, r->col);
        jw_end_obj(&w);
    }
    jw_end_arr(&w);
    jw_end_obj(&w);
    jw_end_obj(&w);
    if (w.p) fprintf(out, "%.*s\n", (int)w.n, w.p);
    jw_free(&w);
}

void tr_print_coverage(FILE *out, const TestOpts *o, const DnaBundle *b, const TestCoverage *cv)
{
    FileCov *fc = calloc(b->nfiles + 1, sizeof *fc), all;
    uint32_t nfc = 0;
    if (!fc) return;
    tally(b, cv, fc, &nfc, &all);
    if (o->format == TF_JSON) { cov_json(out, b, cv, fc, nfc, &all); free(fc); return; }
    fprintf(out, "coverage: %u of %u rules, %u of %u arms, %u of %u actions reached by a test\n", all.rules_hit, all.rules,
            all.arms_hit, all.arms, all.actions_hit, all.actions);
    for (uint32_t k = 0; k < nfc; k++)
        fprintf(out, "  %-32s %3u/%-3u rules  %3u/%-3u arms  %3u/%-3u actions\n",
                fc[k].file < b->nfiles ? bundle_str(b, b->files[fc[k].file].path) : "?", fc[k].rules_hit, fc[k].rules,
                fc[k].arms_hit, fc[k].arms, fc[k].actions_hit, fc[k].actions);
    int head = 0;
    for (uint32_t ri = 0; ri < b->nrules; ri++) {
        const DnaRule *r = &b->rules[ri];
        if (!counted(r) || (r->file < b->nfiles && b->files[r->file].stdlib)) continue;
        char what[200];
        for (uint32_t i = 0; i <= r->narms; i++) {
            const char *kind = NULL;
            if (i == r->narms) { if (!cv->rule[ri]) kind = "rule"; }
            else if (cv->rule[ri]) {
                const DnaArm *arm = &b->arms[r->arm + i];
                if (r->narms > 1 && !cv->arm[r->arm + i]) { arm_name(b, arm, i, what, sizeof what); kind = what; }
                for (uint32_t j = 0; !kind && j < arm->nactions; j++) {
                    const DnaAction *a = &b->actions[arm->action + j];
                    if (a->kind != 3 && !cv->action[arm->action + j] && a->kind < 12) {
                        snprintf(what, sizeof what, "action %s", act_name[a->kind]);
                        kind = what;
                    }
                }
            }
            if (!kind) continue;
            if (!head++) fprintf(out, "not reached by any test:\n");
            fprintf(out, "  %s:%u:%u: %s%s %s\n", rule_path(b, r), r->line, r->col, kind, i == r->narms ? "" : " of",
                    bundle_str(b, r->name));
        }
    }
    free(fc);
}
