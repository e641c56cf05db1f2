/*
 * replay_diff.c - `dnad replay --baseline`: what the candidate bundle did
 * differently from the baseline, entity by entity (diff.jsonl and the
 * table in the summary).
 */
#include "engine/replay_int.h"
#include "engine/engine.h"
#include "base/jsonw.h"
#include "base/mem.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

void rep_diff_note(Run *r, const EngEffect *ef)
{
    if (ef->entity && (ef->kind >= EFF_ROUTE && ef->kind <= EFF_EMIT)) {
        if (ef->entity >= r->nactions) {
            uint64_t nc = r->nactions ? r->nactions : 1024;
            while (nc <= ef->entity) nc *= 2;
            uint32_t *na = dna_realloc(r->actions, sizeof(uint32_t) * r->nactions, sizeof(uint32_t) * nc);
            if (!na) return;
            memset(na + r->nactions, 0, sizeof(uint32_t) * (nc - r->nactions));
            r->actions = na;
            r->nactions = nc;
        }
        r->actions[ef->entity]++;
    }
}

/* ---- the baseline diff ------------------------------------------------------- */

typedef struct Facts { char grade[16], pipeline[64], owner[128]; uint32_t alerts, actions; } Facts;

void rep_diff_free(Run *r)
{
    dna_free(r->actions, sizeof(uint32_t) * r->nactions);
    r->actions = NULL;
    r->nactions = 0;
}

static void facts(Run *r, uint64_t h, Facts *f)
{
    memset(f, 0, sizeof *f);
    Ent *x = eng_entity(r->eng, h);
    if (!x) return;
    eng_settle(r->eng, x, r->final);
    const DnaBundle *b = r->b;
    uint32_t gs = bundle_slot(b, x->kind, "grade"), ps = bundle_slot(b, x->kind, "pipeline"),
             os = bundle_slot(b, x->kind, "owner");
    if (gs != DNA_NIL && x->slots[gs].kind == DNA_VK_STR) snprintf(f->grade, sizeof f->grade, "%.*s", (int)x->slots[gs].len, x->slots[gs].u.s);
    if (ps != DNA_NIL && x->slots[ps].kind == DNA_VK_STR) snprintf(f->pipeline, sizeof f->pipeline, "%.*s", (int)x->slots[ps].len, x->slots[ps].u.s);
    if (os != DNA_NIL && x->slots[os].kind == DNA_VK_STR) snprintf(f->owner, sizeof f->owner, "%.*s", (int)x->slots[os].len, x->slots[os].u.s);
    f->alerts = x->nsignals;
    f->actions = h < r->nactions ? r->actions[h] : 0;
}

static void diff_pair(JsonW *w, const char *name, const char *a, const char *b)
{
    jw_key(w, name);
    jw_arr(w);
    if (*a) jw_str(w, a); else jw_null(w);
    if (*b) jw_str(w, b); else jw_null(w);
    jw_end_arr(w);
}

int rep_diff_write(Run *base, Run *cur, const char *path, FILE *out, int markdown)
{
    FILE *f = fopen(path, "wb");
    if (!f) { fprintf(stderr, "dnad: cannot write '%s': %s\n", path, strerror(errno)); return 2; }
    uint64_t na, nb;
    Row *ra = rep_sorted_rows(base, &na), *rb = rep_sorted_rows(cur, &nb);
    uint64_t i = 0, j = 0, changed = 0, cg = 0, cr = 0, co = 0, cal = 0, cac = 0;
    JsonW w;
    jw_init(&w);
    if (markdown) fprintf(out, "\n| entity | grade | pipeline | owner | alerts | actions |\n|---|---|---|---|---|---|\n");
    else fprintf(out, "\n%-8s %-32s %-9s %-24s %-28s %-9s %-9s\n", "entity", "key", "grade", "pipeline", "owner", "alerts", "actions");
    while (ra && rb && (i < na || j < nb)) {
        int c = i >= na ? 1 : j >= nb ? -1 : strcmp(ra[i].kind, rb[j].kind) ? strcmp(ra[i].kind, rb[j].kind) : strcmp(ra[i].key, rb[j].key);
        Facts fa, fb;
        memset(&fa, 0, sizeof fa);
        memset(&fb, 0, sizeof fb);
        const char *kind, *key;
        if (c <= 0) facts(base, ra[i].h, &fa);
        if (c >= 0) facts(cur, rb[j].h, &fb);
        kind = c <= 0 ? ra[i].kind : rb[j].kind;
        key = c <= 0 ? ra[i].key : rb[j].key;
        if (c <= 0) i++;
        if (c >= 0) j++;
        int dg = strcmp(fa.grade, fb.grade) != 0, dr = strcmp(fa.pipeline, fb.pipeline) != 0,
            dow = strcmp(fa.owner, fb.owner) != 0, dal = fa.alerts != fb.alerts, dac = fa.actions != fb.actions;
        if (!(dg || dr || dow || dal || dac)) continue;
        changed++;
        cg += dg; cr += dr; co += dow; cal += dal; cac += dac;
        jw_reset(&w);
        jw_obj(&w);
        jw_key(&w, "entity"); jw_str(&w, kind);
        jw_key(&w, "key"); jw_str(&w, key);
        jw_key(&w, "changes");
        jw_obj(&w);
        if (dg) diff_pair(&w, "grade", fa.grade, fb.grade);
        if (dr) diff_pair(&w, "pipeline", fa.pipeline, fb.pipeline);
        if (dow) diff_pair(&w, "owner", fa.owner, fb.owner);
        if (dal) { jw_key(&w, "alerts"); jw_arr(&w); jw_int(&w, fa.alerts); jw_int(&w, fb.alerts); jw_end_arr(&w); }
        if (dac) { jw_key(&w, "actions"); jw_arr(&w); jw_int(&w, fa.actions); jw_int(&w, fb.actions); jw_end_arr(&w); }
        jw_end_obj(&w);
        jw_end_obj(&w);
        fwrite(w.p, 1, w.n, f);
        fputc('\n', f);
        if (changed <= 50) {
            char g[40], p[140], o2[260], al[40], ac[40];
            snprintf(g, sizeof g, "%s", dg ? "" : "=");
            if (dg) snprintf(g, sizeof g, "%s->%s", *fa.grade ? fa.grade : "-", *fb.grade ? fb.grade : "-");
            snprintf(p, sizeof p, "%s", dr ? "" : "=");
            if (dr) snprintf(p, sizeof p, "%s->%s", *fa.pipeline ? fa.pipeline : "-", *fb.pipeline ? fb.pipeline : "-");
            snprintf(o2, sizeof o2, "%s", dow ? "" : "=");
            if (dow) snprintf(o2, sizeof o2, "%s->%s", *fa.owner ? fa.owner : "-", *fb.owner ? fb.owner : "-");
            snprintf(al, sizeof al, "%s", dal ? "" : "=");
            if (dal) snprintf(al, sizeof al, "%u->%u", fa.alerts, fb.alerts);
            snprintf(ac, sizeof ac, "%s", dac ? "" : "=");
            if (dac) snprintf(ac, sizeof ac, "%u->%u", fa.actions, fb.actions);
            if (markdown) fprintf(out, "| %s `%s` | %s | %s | %s | %s | %s |\n", kind, key, g, p, o2, al, ac);
            else fprintf(out, "%-8s %-32s %-9s %-24s %-28s %-9s %-9s\n", kind, key, g, p, o2, al, ac);
        }
    }
    if (changed > 50) fprintf(out, markdown ? "\n…and %llu more (see diff.jsonl)\n" : "... and %llu more (see diff.jsonl)\n",
                              (unsigned long long)(changed - 50));
    fprintf(out, markdown ? "\n**%llu entities differ**: grade %llu, pipeline %llu, owner %llu, alerts %llu, actions %llu\n"
                          : "%llu entities differ: grade %llu, pipeline %llu, owner %llu, alerts %llu, actions %llu\n",
            (unsigned long long)changed, (unsigned long long)cg, (unsigned long long)cr, (unsigned long long)co,
            (unsigned long long)cal, (unsigned long long)cac);
    jw_free(&w);
    free(ra);
    free(rb);
    return fclose(f) ? 2 : 0;
}

