/*
 * replay_diff.c - `dnad replay --baseline`: what the candidate bundle did
 * differently from the baseline, entity by entity (diff.jsonl and the
 * review on stdout: headline, table, actions added and removed, totals by
 * effect kind, the score-delta distribution).
 */
#include "engine/replay_int.h"
#include "engine/eng_int.h"
#include "engine/engine.h"
#include "base/json.h"
#include "base/jsonw.h"
#include "base/mem.h"

#include <errno.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

/* ---- what the sink keeps: every external action, per entity ----------------- */

typedef struct RepAction {
    uint64_t entity;
    char *text;                 /* "kind target (rule)", the diff's unit */
    char *kind, *target, *rule; /* into text's own copy (below) */
    char buf[];
} RepAction;

static int external(const EngEffect *ef) { return ef->external || ef->kind == EFF_APPROVAL; }

static const char *jstr(json_t *o, const char *k)
{
    json_t *v = json_object_get(o, k);
    return json_is_string(v) ? json_string_value(v) : NULL;
}

/* The target of an action: what a reviewer recognises (a channel, a sequence, a method). */
static void target_of(EffKind k, json_t *d, char *t, size_t n)
{
    const char *conn = jstr(d, "connector");
    t[0] = 0;
    switch (k) {
    case EFF_NOTIFY:
        if (conn) snprintf(t, n, "%s %s", conn, jstr(d, "channel") ? jstr(d, "channel") : "");
        else snprintf(t, n, "%s", jstr(d, "recipient") ? jstr(d, "recipient") : "");
        break;
    case EFF_TASK: snprintf(t, n, "%s", jstr(d, "title") ? jstr(d, "title") : ""); break;
    case EFF_WEBHOOK: snprintf(t, n, "%s %s", conn ? conn : "", jstr(d, "event") ? jstr(d, "event") : ""); break;
    case EFF_CONNECTOR: snprintf(t, n, "%s.%s", conn ? conn : "", jstr(d, "method") ? jstr(d, "method") : ""); break;
    case EFF_ENROLL: snprintf(t, n, "%s", jstr(d, "sequence") ? jstr(d, "sequence") : ""); break;
    case EFF_SEQUENCE_STEP: {
        json_t *st = json_object_get(d, "step");
        snprintf(t, n, "%s step %lld", jstr(d, "sequence") ? jstr(d, "sequence") : "",
                 json_is_integer(st) ? (long long)json_integer_value(st) : 0LL);
        break;
    }
    case EFF_APPROVAL: {
        size_t at = 0, i;
        json_t *a;
        json_array_foreach(json_object_get(d, "actions"), i, a) {
            const char *act = jstr(a, "action"), *c = jstr(a, "connector"), *m = jstr(a, "method");
            int w = snprintf(t + at, n - at, "%s%s%s%s%s", i ? ", " : "", act ? act : "", c ? " " : "", c ? c : "",
                             m ? "." : "");
            if (w < 0 || (size_t)w >= n - at) break;
            at += (size_t)w;
            if (m) { w = snprintf(t + at, n - at, "%s", m); if (w < 0 || (size_t)w >= n - at) break; at += (size_t)w; }
        }
        break;
    }
    default: break;
    }
    size_t l = strlen(t);
    while (l && t[l - 1] == ' ') t[--l] = 0;
}

static void keep_action(Run *r, const EngEffect *ef)
{
    JsonError je;
    json_t *o = dna_json_parse(ef->line, ef->len, &je);
    if (!o) return;
    const char *rule = jstr(o, "rule");
    json_t *d = json_object_get(o, "detail");
    if (!rule && ef->kind == EFF_SEQUENCE_STEP) rule = jstr(d, "sequence");
    char target[256];
    target_of(ef->kind, d, target, sizeof target);
    const char *kind = eng_effect_name(ef->kind);
    if (!rule) rule = "";
    size_t kl = strlen(kind), tl = strlen(target), rl = strlen(rule);
    /* text = "kind target (rule)", then the three parts, each NUL-ended */
    size_t tx = kl + 1 + tl + 2 + rl + 2;
    RepAction *a = dna_malloc(sizeof *a + tx + kl + tl + rl + 3);
    if (a && r->nacts == r->capacts) {
        uint64_t nc = r->capacts ? r->capacts * 2 : 256;
        RepAction **na = dna_realloc(r->acts, sizeof(RepAction *) * r->capacts, sizeof(RepAction *) * nc);
        if (!na) { dna_free(a, sizeof *a + tx + kl + tl + rl + 3); a = NULL; }
        else { r->acts = na; r->capacts = nc; }
    }
    if (a) {
        a->entity = ef->entity;
        a->text = a->buf;
        snprintf(a->text, tx, "%s%s%s (%s)", kind, tl ? " " : "", target, rule);
        a->kind = a->text + tx;
        memcpy(a->kind, kind, kl + 1);
        a->target = a->kind + kl + 1;
        memcpy(a->target, target, tl + 1);
        a->rule = a->target + tl + 1;
        memcpy(a->rule, rule, rl + 1);
        r->acts[r->nacts++] = a;
    }
    json_decref(o);
}

void rep_diff_note(Run *r, const EngEffect *ef)
{
    if (r->collect && ef->entity && external(ef)) keep_action(r, ef);
}

static size_t act_size(const RepAction *a)
{
    size_t kl = strlen(a->kind), tl = strlen(a->target), rl = strlen(a->rule);
    return sizeof *a + (kl + 1 + tl + 2 + rl + 2) + kl + tl + rl + 3;
}

void rep_diff_free(Run *r)
{
    for (uint64_t i = 0; i < r->nacts; i++) dna_free(r->acts[i], act_size(r->acts[i]));
    dna_free(r->acts, sizeof(RepAction *) * r->capacts);
    r->acts = NULL;
    r->nacts = r->capacts = 0;
}

static int act_cmp(const void *x, const void *y)
{
    const RepAction *a = *(RepAction *const *)x, *b = *(RepAction *const *)y;
    if (a->entity != b->entity) return a->entity < b->entity ? -1 : 1;
    return strcmp(a->text, b->text);
}

/* The actions of entity h: [*from, *to) of the sorted list. */
static void acts_of(Run *r, uint64_t h, uint64_t *from, uint64_t *to)
{
    uint64_t lo = 0, hi = r->nacts;
    while (lo < hi) {
        uint64_t mid = (lo + hi) / 2;
        if (r->acts[mid]->entity < h) lo = mid + 1; else hi = mid;
    }
    *from = lo;
    while (lo < r->nacts && r->acts[lo]->entity == h) lo++;
    *to = lo;
}

/* ---- one entity's facts and what changed ------------------------------------ */

typedef struct Facts {
    int present;
    int64_t score;              /* thousandths */
    char grade[32], intent[64], pipeline[64], owner[128];
    uint32_t alerts, actions;
} Facts;

static void slot_text(Run *r, Ent *x, const DnaValue *slots, const char *name, char *out, size_t n)
{
    out[0] = 0;
    uint32_t s = bundle_slot(r->b, x->kind, name);
    if (s == DNA_NIL || slots[s].kind == DNA_VK_NONE) return;
    if (slots[s].kind == DNA_VK_STR) { snprintf(out, n, "%.*s", (int)slots[s].len, slots[s].u.s); return; }
    JsonW w;
    jw_init(&w);
    eng_write_value(r->eng, &w, slots[s], r->b->entities[x->kind].slots[s].type);
    if (w.n >= 2 && w.p[0] == '"') snprintf(out, n, "%.*s", (int)(w.n - 2), w.p + 1);
    else if (w.n && strncmp(w.p, "null", w.n)) snprintf(out, n, "%.*s", (int)w.n, w.p);
    jw_free(&w);
}

static void facts(Run *r, uint64_t h, Facts *f)
{
    memset(f, 0, sizeof *f);
    Ent *x = eng_entity(r->eng, h);
    if (!x) return;
    f->present = 1;
    EngView v;                                  /* a read at the run's end: the entity does not change */
    if (!eng_view(r->eng, x, r->final, &v)) { eng_view_free(&v); return; }
    uint32_t ss = bundle_slot(r->b, x->kind, "score");
    if (ss != DNA_NIL && v.slots[ss].kind == DNA_VK_INT) f->score = v.slots[ss].u.i;
    slot_text(r, x, v.slots, "grade", f->grade, sizeof f->grade);
    slot_text(r, x, v.slots, "intent.primary", f->intent, sizeof f->intent);
    slot_text(r, x, v.slots, "pipeline", f->pipeline, sizeof f->pipeline);
    slot_text(r, x, v.slots, "owner", f->owner, sizeof f->owner);
    eng_view_free(&v);
    f->alerts = x->nsignals;
    uint64_t from, to;
    acts_of(r, h, &from, &to);
    f->actions = (uint32_t)(to - from);
}

enum { C_SCORE, C_GRADE, C_INTENT, C_PIPELINE, C_OWNER, C_ALERTS, C_ACTIONS, C__N };
static const char *const col_name[C__N] = { "score", "grade", "intent", "pipeline", "owner", "alerts", "actions" };

typedef struct Change {
    const char *kind, *key;
    Facts a, b;
    int moved[C__N];
    RepAction **added, **removed;
    uint32_t nadded, nremoved;
} Change;

static void diff_pair(JsonW *w, const char *name, const char *a, const char *b)
{
    jw_key(w, name);
    jw_arr(w);
    if (*a) jw_str(w, a); else jw_null(w);
    if (*b) jw_str(w, b); else jw_null(w);
    jw_end_arr(w);
}

static void act_list(JsonW *w, const char *name, RepAction **v, uint32_t n)
{
    jw_key(w, name);
    jw_arr(w);
    for (uint32_t i = 0; i < n; i++) {
        jw_obj(w);
        jw_key(w, "rule"); jw_str(w, v[i]->rule);
        jw_key(w, "kind"); jw_str(w, v[i]->kind);
        jw_key(w, "target"); jw_str(w, v[i]->target);
        jw_end_obj(w);
    }
    jw_end_arr(w);
}

static void change_json(JsonW *w, const Change *c)
{
    jw_reset(w);
    jw_obj(w);
    jw_key(w, "entity"); jw_str(w, c->kind);
    jw_key(w, "key"); jw_str(w, c->key);
    jw_key(w, "changes");
    jw_obj(w);
    if (c->moved[C_SCORE]) { jw_key(w, "score"); jw_arr(w); jw_milli(w, c->a.score); jw_milli(w, c->b.score); jw_end_arr(w); }
    if (c->moved[C_GRADE]) diff_pair(w, "grade", c->a.grade, c->b.grade);
    if (c->moved[C_INTENT]) diff_pair(w, "intent", c->a.intent, c->b.intent);
    if (c->moved[C_PIPELINE]) diff_pair(w, "pipeline", c->a.pipeline, c->b.pipeline);
    if (c->moved[C_OWNER]) diff_pair(w, "owner", c->a.owner, c->b.owner);
    if (c->moved[C_ALERTS]) { jw_key(w, "alerts"); jw_arr(w); jw_int(w, c->a.alerts); jw_int(w, c->b.alerts); jw_end_arr(w); }
    if (c->moved[C_ACTIONS]) { jw_key(w, "actions"); jw_arr(w); jw_int(w, c->a.actions); jw_int(w, c->b.actions); jw_end_arr(w); }
    jw_end_obj(w);
    act_list(w, "added", c->added, c->nadded);
    act_list(w, "removed", c->removed, c->nremoved);
    jw_end_obj(w);
}

/* Actions in one run and not the other, as multisets of "kind target (rule)". */
static int act_delta(Run *base, uint64_t ha, Run *cur, uint64_t hb, Change *c)
{
    uint64_t a0 = 0, a1 = 0, b0 = 0, b1 = 0;
    if (ha) acts_of(base, ha, &a0, &a1);
    if (hb) acts_of(cur, hb, &b0, &b1);
    c->added = dna_malloc(sizeof(RepAction *) * (b1 - b0 + 1));
    c->removed = dna_malloc(sizeof(RepAction *) * (a1 - a0 + 1));
    if (!c->added || !c->removed) return -1;
    while (a0 < a1 || b0 < b1) {
        int d = a0 >= a1 ? 1 : b0 >= b1 ? -1 : strcmp(base->acts[a0]->text, cur->acts[b0]->text);
        if (d < 0) c->removed[c->nremoved++] = base->acts[a0++];
        else if (d > 0) c->added[c->nadded++] = cur->acts[b0++];
        else { a0++; b0++; }
    }
    return 0;
}

static void change_free(Change *c)
{
    dna_free(c->added, sizeof(RepAction *) * (c->nadded + 1));
    dna_free(c->removed, sizeof(RepAction *) * (c->nremoved + 1));
    c->added = c->removed = NULL;
}

/* ---- the review on stdout ------------------------------------------------------ */

#define CELL_MAX 36                 /* characters in a cell before the ellipsis */

/* Characters (not bytes) of UTF-8 s. */
static size_t u8len(const char *s)
{
    size_t n = 0;
    for (; *s; s++) n += ((unsigned char)*s & 0xC0) != 0x80;
    return n;
}

/* s cut to at most max characters, the last one an ellipsis when cut. */
static void cut(char *dst, size_t n, const char *s, size_t max)
{
    if (u8len(s) <= max) { snprintf(dst, n, "%s", s); return; }
    size_t chars = 0, i = 0;
    while (s[i] && chars < max - 1) {
        i++;
        while (((unsigned char)s[i] & 0xC0) == 0x80) i++;
        chars++;
    }
    snprintf(dst, n, "%.*s…", (int)i, s);
}

static void pad(FILE *out, const char *s, size_t width)
{
    fputs(s, out);
    for (size_t k = u8len(s); k < width; k++) fputc(' ', out);
}

static const char *or_none(const char *s) { return *s ? s : "none"; }

static void cell_of(const Change *c, int col, int md, char *out, size_t n)
{
    const char *arrow = md ? " → " : " -> ";
    char tmp[300];
    if (!c->moved[col]) { snprintf(out, n, "="); return; }
    switch (col) {
    case C_SCORE: {
        int64_t d = c->b.score - c->a.score;
        snprintf(tmp, sizeof tmp, "%.1f%s%.1f (%+.1f)", (double)c->a.score / 1000, arrow, (double)c->b.score / 1000,
                 (double)d / 1000);
        break;
    }
    case C_GRADE: snprintf(tmp, sizeof tmp, "%s%s%s", or_none(c->a.grade), arrow, or_none(c->b.grade)); break;
    case C_INTENT: snprintf(tmp, sizeof tmp, "%s%s%s", or_none(c->a.intent), arrow, or_none(c->b.intent)); break;
    case C_PIPELINE: snprintf(tmp, sizeof tmp, "%s%s%s", or_none(c->a.pipeline), arrow, or_none(c->b.pipeline)); break;
    case C_OWNER: snprintf(tmp, sizeof tmp, "%s%s%s", or_none(c->a.owner), arrow, or_none(c->b.owner)); break;
    case C_ALERTS: snprintf(tmp, sizeof tmp, "%u%s%u", c->a.alerts, arrow, c->b.alerts); break;
    default:
        if (c->nadded && c->nremoved) snprintf(tmp, sizeof tmp, "+%u -%u", c->nadded, c->nremoved);
        else if (c->nadded) snprintf(tmp, sizeof tmp, "+%u", c->nadded);
        else snprintf(tmp, sizeof tmp, "-%u", c->nremoved);
        break;
    }
    cut(out, n, tmp, CELL_MAX + 12);
}

typedef struct Review {
    Change *v;
    uint64_t n, cap;
    uint64_t moved[C__N];
    uint64_t grades_up, grades_down;
    uint64_t entities_a, entities_b;
} Review;

/* A reviewer's name for a group of actions: "#hot-leads messages", "tasks";
 * the byte \001 in it stands for the plural's "s". */
static void group_name(const RepAction *a, char *out, size_t n)
{
    const char *sp = strrchr(a->target, ' ');
    if (!strcmp(a->kind, "notify")) {
        if (sp && sp[1] == '#') snprintf(out, n, "%s message\001", sp + 1);
        else snprintf(out, n, "notification\001");
    } else if (!strcmp(a->kind, "task")) snprintf(out, n, "task\001");
    else if (!strcmp(a->kind, "webhook")) snprintf(out, n, "%s webhook\001", a->target);
    else if (!strcmp(a->kind, "connector")) snprintf(out, n, "%s call\001", a->target);
    else if (!strcmp(a->kind, "enroll")) snprintf(out, n, "enrollment\001 in %s", a->target);
    else if (!strcmp(a->kind, "sequence_step")) snprintf(out, n, "sequence step\001");
    else snprintf(out, n, "%s\001", a->kind);
}

static void print_group(FILE *out, const char *name, int64_t delta)
{
    fprintf(out, "; %+lld ", (long long)delta);
    for (const char *p = name; *p; p++)
        if (*p != '\001') fputc(*p, out);
        else if (delta != 1 && delta != -1) fputc('s', out);
}

typedef struct Group { char name[160]; int64_t delta; } Group;

static void group_add(Group *g, int *ng, int max, const RepAction *a, int d)
{
    char name[160];
    group_name(a, name, sizeof name);
    for (int i = 0; i < *ng; i++)
        if (!strcmp(g[i].name, name)) { g[i].delta += d; return; }
    if (*ng < max) { snprintf(g[*ng].name, sizeof g[0].name, "%s", name); g[(*ng)++].delta = d; }
}

static int group_cmp(const void *x, const void *y)
{
    const Group *a = x, *b = y;
    int64_t da = a->delta < 0 ? -a->delta : a->delta, db = b->delta < 0 ? -b->delta : b->delta;
    if (da != db) return da > db ? -1 : 1;
    return strcmp(a->name, b->name);
}

/* "12 leads would change; +9 #hot-leads messages; 3 grades up" */
static void headline(FILE *out, const Review *rv, int md)
{
    const char *kinds[8];
    uint64_t counts[8];
    int nk = 0;
    for (uint64_t i = 0; i < rv->n; i++) {
        int k = 0;
        while (k < nk && strcmp(kinds[k], rv->v[i].kind)) k++;
        if (k == nk) { if (nk == 8) continue; kinds[nk] = rv->v[i].kind; counts[nk++] = 0; }
        counts[k]++;
    }
    if (md) fputs("**", out);
    if (!rv->n) fputs("nothing would change", out);
    for (int k = 0; k < nk; k++)
        fprintf(out, "%s%llu %s%s", k ? (k + 1 == nk ? " and " : ", ") : "", (unsigned long long)counts[k], kinds[k],
                counts[k] == 1 ? "" : "s");
    if (rv->n) fprintf(out, " would change");
    Group g[64];
    int ng = 0;
    for (uint64_t i = 0; i < rv->n; i++) {
        for (uint32_t k = 0; k < rv->v[i].nadded; k++) group_add(g, &ng, 64, rv->v[i].added[k], 1);
        for (uint32_t k = 0; k < rv->v[i].nremoved; k++) group_add(g, &ng, 64, rv->v[i].removed[k], -1);
    }
    qsort(g, (size_t)ng, sizeof(Group), group_cmp);
    int shown = 0;
    for (int i = 0; i < ng && shown < 3; i++)
        if (g[i].delta) { print_group(out, g[i].name, g[i].delta); shown++; }
    if (rv->grades_up) fprintf(out, "; %llu grade%s up", (unsigned long long)rv->grades_up, rv->grades_up == 1 ? "" : "s");
    if (rv->grades_down)
        fprintf(out, "; %llu grade%s down", (unsigned long long)rv->grades_down, rv->grades_down == 1 ? "" : "s");
    fputs(md ? "**\n" : "\n", out);
}

/* The table's order: what a reviewer acts on first (grade, route, owner,
 * intent, alerts, actions), then the largest score moves, then the key. */
static int weight_of(const Change *c)
{
    return c->moved[C_GRADE] * 32 + c->moved[C_PIPELINE] * 16 + c->moved[C_OWNER] * 8 + c->moved[C_ACTIONS] * 4 +
           c->moved[C_INTENT] * 2 + c->moved[C_ALERTS];
}

static int review_cmp(const void *x, const void *y)
{
    const Change *a = x, *b = y;
    int wa = weight_of(a), wb = weight_of(b);
    if (wa != wb) return wa > wb ? -1 : 1;
    int64_t da = a->b.score - a->a.score, db = b->b.score - b->a.score;
    if (da < 0) da = -da;
    if (db < 0) db = -db;
    if (da != db) return da > db ? -1 : 1;
    int k = strcmp(a->kind, b->kind);
    return k ? k : strcmp(a->key, b->key);
}

static void table(FILE *out, const Review *rv, int md, uint64_t limit)
{
    int cols[C__N + 1], nc = 0;
    cols[nc++] = -1;                                            /* the entity */
    for (int c = 0; c < C__N; c++) if (rv->moved[c]) cols[nc++] = c;
    uint64_t rows = rv->n < limit ? rv->n : limit;
    size_t width[C__N + 1];
    char cell[400];
    for (int k = 0; k < nc; k++) width[k] = u8len(cols[k] < 0 ? "entity" : col_name[cols[k]]);
    for (uint64_t i = 0; i < rows; i++)
        for (int k = 0; k < nc; k++) {
            if (cols[k] < 0) {
                char key[300];
                cut(key, sizeof key, rv->v[i].key, CELL_MAX);
                snprintf(cell, sizeof cell, md ? "%s `%s`" : "%s %s", rv->v[i].kind, key);
            } else cell_of(&rv->v[i], cols[k], md, cell, sizeof cell);
            if (u8len(cell) > width[k]) width[k] = u8len(cell);
        }
    fputc('\n', out);
    for (int k = 0; k < nc; k++) {
        if (md) fputs(k ? " | " : "| ", out); else if (k) fputs("  ", out);
        if (md || k + 1 < nc) pad(out, cols[k] < 0 ? "entity" : col_name[cols[k]], width[k]);
        else fputs(col_name[cols[k]], out);
    }
    fputs(md ? " |\n" : "\n", out);
    for (int k = 0; k < nc; k++) {
        fputs(md ? (k ? " | " : "| ") : (k ? "  " : ""), out);
        for (size_t j = 0; j < width[k]; j++) fputc('-', out);
    }
    fputs(md ? " |\n" : "\n", out);
    for (uint64_t i = 0; i < rows; i++) {
        for (int k = 0; k < nc; k++) {
            if (cols[k] < 0) {
                char key[300];
                cut(key, sizeof key, rv->v[i].key, CELL_MAX);
                snprintf(cell, sizeof cell, md ? "%s `%s`" : "%s %s", rv->v[i].kind, key);
            } else cell_of(&rv->v[i], cols[k], md, cell, sizeof cell);
            if (md) fputs(k ? " | " : "| ", out); else if (k) fputs("  ", out);
            if (md || k + 1 < nc) pad(out, cell, width[k]); else fputs(cell, out);
        }
        fputs(md ? " |\n" : "\n", out);
    }
    if (rv->n > rows)
        fprintf(out, md ? "\n…and %llu more (see diff.jsonl)\n" : "... and %llu more (see diff.jsonl)\n",
                (unsigned long long)(rv->n - rows));
}

static void actions_section(FILE *out, const Review *rv, int md, uint64_t limit)
{
    uint64_t rows = rv->n < limit ? rv->n : limit, any = 0;
    char text[400];
    for (uint64_t i = 0; i < rows; i++) {
        const Change *c = &rv->v[i];
        if (!c->nadded && !c->nremoved) continue;
        if (!any++) fputs(md ? "\n#### actions added and removed\n" : "\nactions added and removed:\n", out);
        if (md) fprintf(out, "\n%s `%s`\n```diff\n", c->kind, c->key);
        else fprintf(out, "  %s %s\n", c->kind, c->key);
        for (int pass = 0; pass < 2; pass++) {
            RepAction **v = pass ? c->added : c->removed;
            uint32_t n = pass ? c->nadded : c->nremoved;
            for (uint32_t k = 0, same; k < n; k += same) {    /* sorted: repeats are neighbours */
                for (same = 1; k + same < n && !strcmp(v[k + same]->text, v[k]->text); same++) {}
                cut(text, sizeof text, v[k]->text, 100);
                if (same > 1) fprintf(out, "%s%c %s ×%u\n", md ? "" : "    ", pass ? '+' : '-', text, same);
                else fprintf(out, "%s%c %s\n", md ? "" : "    ", pass ? '+' : '-', text);
            }
        }
        if (md) fputs("```\n", out);
    }
}

/* Effects by kind before and after: the kinds that changed, then a count of the rest. */
static void totals(FILE *out, Run *base, Run *cur, int md)
{
    const EngStats *a = eng_stats(base->eng), *b = eng_stats(cur->eng);
    int same = 0, changed = 0;
    for (int k = 0; k < EFF__COUNT; k++) {
        if (!a->effects[k] && !b->effects[k]) continue;
        long long d = (long long)b->effects[k] - (long long)a->effects[k];
        if (!d) { same++; continue; }
        if (!changed++)
            fputs(md ? "\n#### effects by kind\n\n| effect | before | after | change |\n| --- | ---: | ---: | ---: |\n"
                     : "\neffects by kind:     before      after     change\n", out);
        if (md) fprintf(out, "| %s | %llu | %llu | %+lld |\n", eng_effect_name((EffKind)k),
                        (unsigned long long)a->effects[k], (unsigned long long)b->effects[k], d);
        else fprintf(out, "  %-16s %10llu %10llu %+10lld\n", eng_effect_name((EffKind)k),
                     (unsigned long long)a->effects[k], (unsigned long long)b->effects[k], d);
    }
    if (!changed) fputs(md ? "\nEffects by kind: no change.\n" : "\neffects by kind: no change\n", out);
    if (changed && same) fprintf(out, md ? "\n%d other kind%s unchanged.\n" : "  %d other kind%s unchanged\n", same,
                                 same == 1 ? "" : "s");
}

/* Score deltas of the entities in both runs, in buckets a reviewer reads at a glance. */
static void distribution(FILE *out, const uint64_t *bucket, int md)
{
    static const char *const name[] = { "below -20", "-20 to -5", "-5 to 0", "unchanged", "0 to +5", "+5 to +20",
                                         "above +20" };
    fputs(md ? "\n#### score deltas\n\n| delta | entities |\n| --- | ---: |\n" : "\nscore deltas:\n", out);
    for (int i = 0; i < 7; i++) {
        if (!bucket[i]) continue;
        if (md) fprintf(out, "| %s | %llu |\n", name[i], (unsigned long long)bucket[i]);
        else fprintf(out, "  %-16s %10llu\n", name[i], (unsigned long long)bucket[i]);
    }
}

static int bucket_of(int64_t d)
{
    if (d < -20000) return 0;
    if (d < -5000) return 1;
    if (d <= -1) return 2;
    if (d < 1) return 3;
    if (d <= 5000) return 4;
    if (d <= 20000) return 5;
    return 6;
}

/* A grade went up: single letters, A best (the stdlib's bands); else not counted. */
static int grade_dir(const char *a, const char *b)
{
    if (strlen(a) != 1 || strlen(b) != 1) return 0;
    return *b < *a ? 1 : *b > *a ? -1 : 0;
}

static void changes(Review *rv, Change *c)
{
    Facts *fa = &c->a, *fb = &c->b;
    int64_t ds = fb->score - fa->score;
    c->moved[C_SCORE] = ds >= 1 || ds <= -1;
    c->moved[C_GRADE] = strcmp(fa->grade, fb->grade) != 0;
    c->moved[C_INTENT] = strcmp(fa->intent, fb->intent) != 0;
    c->moved[C_PIPELINE] = strcmp(fa->pipeline, fb->pipeline) != 0;
    c->moved[C_OWNER] = strcmp(fa->owner, fb->owner) != 0;
    c->moved[C_ALERTS] = fa->alerts != fb->alerts;
    c->moved[C_ACTIONS] = c->nadded || c->nremoved;
    for (int k = 0; k < C__N; k++) rv->moved[k] += c->moved[k] != 0;
    if (c->moved[C_GRADE]) {
        int g = grade_dir(fa->grade, fb->grade);
        rv->grades_up += g > 0;
        rv->grades_down += g < 0;
    }
}

int rep_diff_write(Run *base, Run *cur, const char *path, FILE *out, int markdown, uint64_t limit)
{
    FILE *f = fopen(path, "wb");
    if (!f) { fprintf(stderr, "dnad: cannot write '%s': %s\n", path, strerror(errno)); return 2; }
    uint64_t na, nb, bucket[7] = { 0 };
    Row *ra = rep_sorted_rows(base, &na), *rb = rep_sorted_rows(cur, &nb);
    if (base->nacts) qsort(base->acts, (size_t)base->nacts, sizeof(RepAction *), act_cmp);
    if (cur->nacts) qsort(cur->acts, (size_t)cur->nacts, sizeof(RepAction *), act_cmp);
    Review rv;
    memset(&rv, 0, sizeof rv);
    JsonW w;
    jw_init(&w);
    uint64_t i = 0, j = 0;
    int rc = ra && rb ? 0 : 2;
    while (!rc && (i < na || j < nb)) {
        int c = i >= na ? 1 : j >= nb ? -1 : strcmp(ra[i].kind, rb[j].kind) ? strcmp(ra[i].kind, rb[j].kind) : strcmp(ra[i].key, rb[j].key);
        Change ch;
        memset(&ch, 0, sizeof ch);
        uint64_t ha = c <= 0 ? ra[i].h : 0, hb = c >= 0 ? rb[j].h : 0;
        if (ha) facts(base, ha, &ch.a);
        if (hb) facts(cur, hb, &ch.b);
        ch.kind = c <= 0 ? ra[i].kind : rb[j].kind;
        ch.key = c <= 0 ? ra[i].key : rb[j].key;
        if (c <= 0) i++;
        if (c >= 0) j++;
        if (ha && hb) bucket[bucket_of(ch.b.score - ch.a.score)]++;
        if (act_delta(base, ha, cur, hb, &ch)) { change_free(&ch); rc = 2; break; }
        changes(&rv, &ch);
        int any = 0;
        for (int k = 0; k < C__N; k++) any |= ch.moved[k];
        if (!any) { change_free(&ch); continue; }
        change_json(&w, &ch);
        fwrite(w.p, 1, w.n, f);
        fputc('\n', f);
        if (rv.n == rv.cap) {
            uint64_t nc = rv.cap ? rv.cap * 2 : 64;
            Change *nv = dna_realloc(rv.v, sizeof(Change) * rv.cap, sizeof(Change) * nc);
            if (!nv) { change_free(&ch); rc = 2; break; }
            rv.v = nv;
            rv.cap = nc;
        }
        rv.v[rv.n++] = ch;
    }
    if (!rc) {
        headline(out, &rv, markdown);
        if (rv.n) {
            qsort(rv.v, (size_t)rv.n, sizeof(Change), review_cmp);         /* rv.n > 0: rv.v is set */
            table(out, &rv, markdown, limit);
            actions_section(out, &rv, markdown, limit);
        }
        totals(out, base, cur, markdown);
        distribution(out, bucket, markdown);
    } else fprintf(stderr, "dnad: out of memory writing the diff\n");
    for (uint64_t k = 0; k < rv.n; k++) change_free(&rv.v[k]);
    dna_free(rv.v, sizeof(Change) * rv.cap);
    jw_free(&w);
    free(ra);
    free(rb);
    return fclose(f) || rc ? 2 : 0;
}
