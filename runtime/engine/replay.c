/*
 * replay.c - running a bundle over a JSONL file of events (replay.h).
 */
#include "engine/replay.h"
#include "engine/replay_int.h"
#include "engine/parse_arena.h"
#include "base/clock.h"
#include "engine/engine.h"
#include "base/json.h"
#include "base/jsonw.h"
#include "base/mem.h"

#include <errno.h>
#include <jansson.h>
#include <pthread.h>
#include <stdlib.h>
#include <unistd.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#define OUT_BUFFER (1 << 20) /* effects.jsonl and state.jsonl go out in writes this large */

/* What `dnad serve`'s worker puts in the outbox (worker.c, wk_sink):
 * external, not shadow, with a connector in its detail. */
static int enters_outbox(const EngEffect *ef)
{
    if (!ef->external || ef->mode == DM_SHADOW) return 0;
    json_t *j = json_loadb(ef->line, ef->len, 0, NULL);
    const char *c = json_string_value(json_object_get(json_object_get(j, "detail"), "connector"));
    int yes = c && *c;
    json_decref(j);
    return yes;
}

static void sink(void *ud, const EngEffect *ef)
{
    Run *r = ud;
    if (r->effects && (r->which == REP_EFFECTS_ALL || (r->which == REP_EFFECTS_EXTERNAL && enters_outbox(ef)))) {
        fwrite(ef->line, 1, ef->len, r->effects);
        fputc('\n', r->effects);
    }
    rep_diff_note(r, ef);
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* ---- parsing on other threads ------------------------------------------------
 *
 * A reader thread cuts the file into batches of lines; parser threads turn
 * each batch into JSON documents; the engine, on the calling thread, takes
 * the batches in file order.  The engine alone touches state, so the
 * output does not depend on the number of threads. */

#define BATCH 512
#define RING 16

typedef struct Batch {
    uint64_t seq;
    uint32_t n;
    uint64_t first_line;
    char *buf;                  /* the lines, back to back */
    size_t buflen, bufcap;
    size_t off[BATCH], len[BATCH];
    json_t *doc[BATCH];
    char err[BATCH][96];        /* why a line did not parse */
    int state;                  /* 0 free, 1 read, 2 parsing, 3 parsed */
} Batch;

typedef struct Pipe {
    FILE *in;
    Batch ring[RING];
    uint64_t next_read, next_take, lines;
    int eof, error, stop;
    pthread_mutex_t mu;
    pthread_cond_t cv;
} Pipe;

static void *reader(void *arg)
{
    Pipe *p = arg;
    char *line = NULL;
    size_t cap = 0;
    ssize_t n = 0;
    uint64_t lineno = 0;
    for (;;) {
        pthread_mutex_lock(&p->mu);
        while (!p->stop && p->ring[p->next_read % RING].state != 0) pthread_cond_wait(&p->cv, &p->mu);
        if (p->stop) { pthread_mutex_unlock(&p->mu); break; }
        Batch *b = &p->ring[p->next_read % RING];
        pthread_mutex_unlock(&p->mu);
        b->n = 0;
        b->buflen = 0;
        b->first_line = lineno + 1;
        while (b->n < BATCH && (n = getline(&line, &cap, p->in)) > 0) {
            lineno++;
            while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r')) n--;
            if (b->buflen + (size_t)n + 1 > b->bufcap) {
                size_t nc = b->bufcap ? b->bufcap : 65536;
                while (nc < b->buflen + (size_t)n + 1) nc *= 2;
                char *nb = realloc(b->buf, nc);
                if (!nb) { n = -1; p->error = 1; break; }
                b->buf = nb;
                b->bufcap = nc;
            }
            memcpy(b->buf + b->buflen, line, (size_t)n);
            b->off[b->n] = b->buflen;
            b->len[b->n] = (size_t)n;
            b->buflen += (size_t)n + 1;
            b->buf[b->buflen - 1] = 0;
            b->n++;
        }
        int last = n <= 0;
        pthread_mutex_lock(&p->mu);
        if (ferror(p->in)) p->error = 1;
        b->seq = p->next_read++;
        b->state = 1;
        p->lines = lineno;
        if (last) p->eof = 1;
        pthread_cond_broadcast(&p->cv);
        pthread_mutex_unlock(&p->mu);
        if (last) break;
    }
    free(line);
    return NULL;
}

static void parse_batch(Batch *b)
{
    for (uint32_t i = 0; i < b->n; i++) {
        const char *s = b->buf + b->off[i];
        size_t k = 0;
        while (k < b->len[i] && (s[k] == ' ' || s[k] == '\t')) k++;
        b->doc[i] = NULL;
        b->err[i][0] = 0;
        if (k == b->len[i]) continue;                   /* blank */
        JsonError je;
        b->doc[i] = dna_json_parse(s, b->len[i], &je);
        if (!b->doc[i]) snprintf(b->err[i], sizeof b->err[i], "malformed JSON at column %d: %.60s", je.column, je.text);
    }
}

static void *parser(void *arg)
{
    Pipe *p = arg;
    for (;;) {
        pthread_mutex_lock(&p->mu);
        Batch *b = NULL;
        for (;;) {
            for (int i = 0; i < RING && !b; i++)
                if (p->ring[i].state == 1) b = &p->ring[i];
            if (b || p->stop) break;
            int pending = 0;
            for (int i = 0; i < RING; i++) pending |= p->ring[i].state == 1;
            if (p->eof && !pending) break;
            pthread_cond_wait(&p->cv, &p->mu);
        }
        if (!b) { pthread_mutex_unlock(&p->mu); return NULL; }
        b->state = 2;
        pthread_mutex_unlock(&p->mu);
        pa_begin((int)(b - p->ring));       /* the batch's documents live until it is free again */
        parse_batch(b);
        pa_end();
        pthread_mutex_lock(&p->mu);
        b->state = 3;
        pthread_cond_broadcast(&p->cv);
        pthread_mutex_unlock(&p->mu);
    }
}

/* The progress line on a terminal: lines, events/s and, for a file, the share read and the time left. */
static void progress(Run *r, uint64_t bytes, double t0, uint64_t size, double *next)
{
    double now = now_s();
    if (now < *next) return;
    *next = now + 0.5;
    double eps = now > t0 ? (double)eng_stats(r->eng)->events / (now - t0) : 0;
    fprintf(stderr, "\r\033[Kreplay: %llu lines, %.0f events/s", (unsigned long long)r->lines, eps);
    if (size && bytes && bytes <= size) {
        double left = (now - t0) * (double)(size - bytes) / (double)bytes;
        fprintf(stderr, ", %.0f%%, ETA %.0f s", 100.0 * (double)bytes / (double)size, left);
    }
    fflush(stderr);
}

/* An event the engine counted late: its line, its time and the clock it came behind. */
static void note_late(Run *r, uint64_t lineno, const char *at, int64_t clock)
{
    if (r->nlate < MAX_REPORTED) {
        JsonW w;
        jw_init(&w);
        jw_time(&w, clock);
        r->late[r->nlate].line = lineno;
        snprintf(r->late[r->nlate].why, sizeof r->late[0].why,
                 "late: occurred_at %s is before %.*s, the latest event so far; applied in file order", at,
                 w.n > 2 ? (int)w.n - 2 : 0, w.n > 2 ? w.p + 1 : "");
        jw_free(&w);
    }
    r->nlate++;
}

/* One envelope: --until and --max-future first, then the engine; the
 * counts and the reasons the summary lists. */
static void run_doc(Run *r, const ReplayOpts *o, json_t *doc, const char *perr, uint64_t lineno)
{
    char why[256];
    EngResult res;
    if (doc && (o->has_until || o->max_future_ms > 0)) {
        json_t *ja = json_object_get(doc, "occurred_at");
        int64_t at;
        if (json_is_string(ja) && !clk_parse(json_string_value(ja), json_string_length(ja), &at)) {
            if (o->has_until && at > o->until) { r->after_until++; return; }     /* the state as of --until */
            if (o->max_future_ms > 0 && at - o->wall_ms > o->max_future_ms) {
                snprintf(why, sizeof why, "occurred_at is %.1f hours in the future (the limit is --max-future)",
                         (double)(at - o->wall_ms) / 3.6e6);
                doc = NULL;
                perr = why;
            }
        }
    }
    if (!doc) {
        if (perr != why) snprintf(why, sizeof why, "%s", perr);
        res = ENG_REJECTED;
    } else {
        uint64_t late0 = eng_stats(r->eng)->late;
        int64_t clock0 = eng_clock(r->eng);
        json_t *ja = json_object_get(doc, "occurred_at");
        char at[48];
        snprintf(at, sizeof at, "%s", json_is_string(ja) ? json_string_value(ja) : "?");
        res = eng_event_doc(r->eng, doc, why, sizeof why);
        if (eng_stats(r->eng)->late > late0) note_late(r, lineno, at, clock0);
    }
    if (res == ENG_REJECTED || res == ENG_NOMEM) {
        if (r->rejected < MAX_REPORTED) {
            r->rej[r->rejected].line = lineno;
            snprintf(r->rej[r->rejected].why, sizeof r->rej[0].why, "%s", res == ENG_NOMEM ? "out of memory" : why);
        }
        r->rejected++;
    } else if (res == ENG_DUPLICATE) {
        if (r->duplicates < MAX_REPORTED) {
            r->dup[r->duplicates].line = lineno;
            snprintf(r->dup[r->duplicates].why, sizeof r->dup[0].why, "duplicate event id: seen before, ignored");
        }
        r->duplicates++;
    }
}

/* The events of a store, each after the watermark recorded with it, as
 * the daemon ran them; then exactly to the watermark it reached. */
static int run_source(Run *r, const ReplayOpts *o)
{
    const RepSource *src = o->source;
    double t0 = now_s();
    int64_t adv = INT64_MIN;
    const char *body;
    size_t len;
    int64_t wm;
    int has_wm, rc;
    char why[256];
    while ((rc = src->next(src->ud, &body, &len, &wm, &has_wm, why, sizeof why)) == 1) {
        r->lines++;
        if (has_wm && wm > adv) { eng_advance(r->eng, wm); adv = wm; }
        JsonError je;
        json_t *doc = dna_json_parse(body, len, &je);
        char perr[96];
        if (!doc) snprintf(perr, sizeof perr, "malformed JSON at column %d: %.60s", je.column, je.text);
        run_doc(r, o, doc, perr, r->lines);
        json_decref(doc);
    }
    if (rc < 0) { fprintf(stderr, "dnad: cannot read the store: %s\n", why); return 2; }
    if (src->has_final && src->final_wm > adv) eng_advance(r->eng, src->final_wm);
    int64_t c = eng_clock(r->eng);
    r->final = o->has_until ? o->until : src->has_final && src->final_wm > c ? src->final_wm : c;
    r->seconds = now_s() - t0;
    return 0;
}

static int run_events(Run *r, const DnaBundle *b, const ReplayOpts *o, FILE *effects)
{
    memset(r, 0, sizeof *r);
    r->b = b;
    r->effects = effects;
    r->which = o->effects;
    r->collect = o->baseline != NULL;
    r->st = store_mem_new();
    r->eng = r->st ? eng_new(b, r->st, sink, r) : NULL;
    if (!r->eng) { fprintf(stderr, "dnad: out of memory\n"); return 2; }
    if (o->source) return run_source(r, o);
    Pipe *p = calloc(1, sizeof *p);
    if (!p) { fprintf(stderr, "dnad: out of memory\n"); return 2; }
    p->in = strcmp(o->events, "-") ? fopen(o->events, "rb") : stdin;
    if (!p->in) { fprintf(stderr, "dnad: cannot read '%s': %s\n", o->events, strerror(errno)); free(p); return 2; }
    pthread_mutex_init(&p->mu, NULL);
    pthread_cond_init(&p->cv, NULL);
    json_object_seed(0);                        /* before documents are made on other threads */
    pa_init(RING);                              /* or malloc, if the address space is not there */
    int nthreads = o->threads > 0 ? o->threads : 1;
    if (nthreads > 16) nthreads = 16;
    pthread_t rt, pt[16];
    double t0 = now_s(), next = t0;          /* the first batch shows the line at once */
    struct stat fst;
    uint64_t size = p->in != stdin && fstat(fileno(p->in), &fst) == 0 && S_ISREG(fst.st_mode) ? (uint64_t)fst.st_size : 0;
    int show = !o->quiet && isatty(2);
    uint64_t done_bytes = 0;
    pthread_create(&rt, NULL, reader, p);
    for (int i = 0; i < nthreads; i++) pthread_create(&pt[i], NULL, parser, p);
    for (;;) {
        pthread_mutex_lock(&p->mu);
        Batch *bt = &p->ring[p->next_take % RING];
        while (!(bt->state == 3 && bt->seq == p->next_take) && !(p->eof && p->next_take == p->next_read))
            pthread_cond_wait(&p->cv, &p->mu);
        int done = bt->state != 3 || bt->seq != p->next_take;
        pthread_mutex_unlock(&p->mu);
        if (done) break;
        for (uint32_t i = 0; i < bt->n; i++) {
            uint64_t lineno = bt->first_line + i;
            r->lines = lineno;
            if (!bt->doc[i] && !bt->err[i][0]) continue;          /* blank lines are not events */
            run_doc(r, o, bt->doc[i], bt->err[i], lineno);
            if (bt->doc[i]) json_decref(bt->doc[i]);
            bt->doc[i] = NULL;
        }
        done_bytes += bt->buflen;                       /* each line and its newline (a NUL here) */
        if (show) progress(r, done_bytes, t0, size, &next);
        pthread_mutex_lock(&p->mu);
        bt->state = 0;
        p->next_take++;
        pthread_cond_broadcast(&p->cv);
        pthread_mutex_unlock(&p->mu);
    }
    if (show) { fputs("\r\033[K", stderr); fflush(stderr); }
    pthread_mutex_lock(&p->mu);
    p->stop = 1;
    pthread_cond_broadcast(&p->cv);
    pthread_mutex_unlock(&p->mu);
    pthread_join(rt, NULL);
    for (int i = 0; i < nthreads; i++) pthread_join(pt[i], NULL);
    r->lines = p->lines;
    int err = p->error;
    for (int i = 0; i < RING; i++) {
        for (uint32_t k = 0; k < p->ring[i].n; k++) if (p->ring[i].doc[k]) json_decref(p->ring[i].doc[k]);
        free(p->ring[i].buf);
    }
    pa_done();                                  /* every document of every batch is freed */
    if (p->in != stdin) fclose(p->in);
    pthread_mutex_destroy(&p->mu);
    pthread_cond_destroy(&p->cv);
    free(p);
    if (err) { fprintf(stderr, "dnad: error reading '%s'\n", o->events); return 2; }
    r->final = o->has_until ? o->until : eng_clock(r->eng);
    eng_advance(r->eng, r->final);
    r->seconds = now_s() - t0;
    return 0;
}

static void run_free(Run *r)
{
    eng_free(r->eng);
    if (r->st) r->st->ops->free(r->st);
    rep_diff_free(r);
}

/* ---- state.jsonl, sorted by kind then key ------------------------------------ */

static int row_cmp(const void *a, const void *b)
{
    const Row *x = a, *y = b;
    int c = strcmp(x->kind, y->kind);
    if (c) return c;
    c = strcmp(x->key, y->key);
    if (c) return c;
    return x->h < y->h ? -1 : x->h > y->h;
}

Row *rep_sorted_rows(Run *r, uint64_t *nrows)
{
    uint64_t n = eng_count(r->eng), k = 0;
    Row *rows = malloc(sizeof(Row) * (n ? n : 1));
    if (!rows) return NULL;
    for (uint64_t h = 1; h <= n; h++) {
        const char *kind;
        const char *key = eng_entity_key(r->eng, h, &kind);
        if (key) rows[k++] = (Row){ kind, key, h };
    }
    qsort(rows, k, sizeof(Row), row_cmp);
    *nrows = k;
    return rows;
}

static int write_state(Run *r, const char *path)
{
    FILE *f = fopen(path, "wb");
    if (!f) { fprintf(stderr, "dnad: cannot write '%s': %s\n", path, strerror(errno)); return 2; }
    setvbuf(f, NULL, _IOFBF, OUT_BUFFER);
    uint64_t n;
    Row *rows = rep_sorted_rows(r, &n);
    JsonW w;
    jw_init(&w);
    for (uint64_t i = 0; rows && i < n; i++) {
        jw_reset(&w);
        eng_entity_json(r->eng, rows[i].h, r->final, &w);
        fwrite(w.p, 1, w.n, f);
        fputc('\n', f);
    }
    jw_free(&w);
    free(rows);
    return fclose(f) ? 2 : 0;
}

/* ---- the summary --------------------------------------------------------------- */

typedef struct Tally { char name[64]; uint64_t n; } Tally;

static void tally(Tally *t, int *nt, int max, const char *name, size_t len)
{
    char key[64];
    snprintf(key, sizeof key, "%.*s", (int)(len < 63 ? len : 63), name);
    for (int i = 0; i < *nt; i++)
        if (!strcmp(t[i].name, key)) { t[i].n++; return; }
    if (*nt < max) { snprintf(t[*nt].name, sizeof t[0].name, "%s", key); t[(*nt)++].n = 1; }
}

static int tally_cmp(const void *a, const void *b) { return strcmp(((const Tally *)a)->name, ((const Tally *)b)->name); }

/* What a marketing lead asks first: grades, pipelines, alerts. */
static void business(Run *r, FILE *out, int markdown)
{
    Tally grades[32], pipes[32], alerts[16];
    int ng = 0, np = 0, na = 0;
    static const char *const prio[] = { "critical", "high", "medium", "low" };
    static const char *const status[] = { "open", "acknowledged", "overdue" };
    for (uint64_t h = 1; h <= eng_count(r->eng); h++) {
        Ent *x = eng_entity(r->eng, h);
        if (!x || x->merged_into) continue;
        uint32_t gs = bundle_slot(r->b, x->kind, "grade"), ps = bundle_slot(r->b, x->kind, "pipeline");
        if (gs != DNA_NIL) {
            EngView vw;                         /* a read: the entity does not change */
            if (eng_view(r->eng, x, r->final, &vw)) {
                DnaValue v = vw.slots[gs];
                if (v.kind == DNA_VK_STR) tally(grades, &ng, 32, v.u.s, v.len);
            }
            eng_view_free(&vw);
        }
        if (ps != DNA_NIL && x->slots[ps].kind == DNA_VK_STR) tally(pipes, &np, 32, x->slots[ps].u.s, x->slots[ps].len);
        for (uint32_t i = 0; i < x->nsignals; i++) {
            char k[64];
            int n = snprintf(k, sizeof k, "%s %s", prio[r->b->signals[x->signals[i].signal].priority % 4],
                             status[x->signals[i].status % 3]);
            tally(alerts, &na, 16, k, (size_t)n);
        }
    }
    qsort(grades, (size_t)ng, sizeof(Tally), tally_cmp);
    qsort(pipes, (size_t)np, sizeof(Tally), tally_cmp);
    qsort(alerts, (size_t)na, sizeof(Tally), tally_cmp);
    const char *fmt = markdown ? "| %s | %llu |\n" : "  %-22s %llu\n";
    if (ng) {
        fprintf(out, markdown ? "\n| grade | entities |\n|---|---|\n" : "grades:\n");
        for (int i = 0; i < ng; i++) fprintf(out, fmt, grades[i].name, (unsigned long long)grades[i].n);
    }
    if (np) {
        fprintf(out, markdown ? "\n| pipeline | routed |\n|---|---|\n" : "routed by pipeline:\n");
        for (int i = 0; i < np; i++) fprintf(out, fmt, pipes[i].name, (unsigned long long)pipes[i].n);
    }
    if (na) {
        fprintf(out, markdown ? "\n| alerts | count |\n|---|---|\n" : "alerts by priority:\n");
        for (int i = 0; i < na; i++) fprintf(out, fmt, alerts[i].name, (unsigned long long)alerts[i].n);
    }
}

static void summary(Run *r, FILE *out, int markdown)
{
    const EngStats *s = eng_stats(r->eng);
    uint64_t nent = 0;
    for (uint64_t h = 1; h <= eng_count(r->eng); h++) { const char *k; if (eng_entity_key(r->eng, h, &k)) nent++; }
    double eps = r->seconds > 0 ? (double)s->events / r->seconds : 0;
    if (markdown) {
        fprintf(out, "### dna replay\n\n| | |\n|---|---|\n| lines read | %llu |\n| events | %llu |\n| rejected | %llu |\n"
                     "| duplicates | %llu |\n| late | %llu |\n| entities | %llu |\n",
                (unsigned long long)r->lines, (unsigned long long)s->events, (unsigned long long)r->rejected,
                (unsigned long long)r->duplicates, (unsigned long long)s->late, (unsigned long long)nent);
        if (r->after_until) fprintf(out, "| later than --until, not applied | %llu |\n", (unsigned long long)r->after_until);
        if (r->rejected || r->duplicates || r->nlate) {
            fprintf(out, "\n| line | why |\n|---|---|\n");
            for (uint64_t i = 0; i < r->rejected && i < MAX_REPORTED; i++)
                fprintf(out, "| line %llu | rejected: %s |\n", (unsigned long long)r->rej[i].line, r->rej[i].why);
            for (uint64_t i = 0; i < r->duplicates && i < MAX_REPORTED; i++)
                fprintf(out, "| line %llu | %s |\n", (unsigned long long)r->dup[i].line, r->dup[i].why);
            for (uint64_t i = 0; i < r->nlate && i < MAX_REPORTED; i++)
                fprintf(out, "| line %llu | %s |\n", (unsigned long long)r->late[i].line, r->late[i].why);
        }
        fprintf(out, "\n| timers fired | %llu |\n|---|---|\n", (unsigned long long)s->timers);
        fprintf(out, "\n| effect | count |\n|---|---|\n");
        for (int k = 0; k < EFF__COUNT; k++)
            if (s->effects[k]) fprintf(out, "| %s | %llu |\n", eng_effect_name((EffKind)k), (unsigned long long)s->effects[k]);
        business(r, out, 1);
    } else {
        fprintf(out, "read %llu lines: %llu events, %llu rejected, %llu duplicates, %llu late; %llu entities\n",
                (unsigned long long)r->lines, (unsigned long long)s->events, (unsigned long long)r->rejected,
                (unsigned long long)r->duplicates, (unsigned long long)s->late, (unsigned long long)nent);
        if (r->after_until)
            fprintf(out, "  %llu events later than --until were not applied\n", (unsigned long long)r->after_until);
        for (uint64_t i = 0; i < r->rejected && i < MAX_REPORTED; i++)
            fprintf(out, "  rejected line %llu: %s\n", (unsigned long long)r->rej[i].line, r->rej[i].why);
        if (r->rejected > MAX_REPORTED)
            fprintf(out, "  ... and %llu more rejected lines\n", (unsigned long long)(r->rejected - MAX_REPORTED));
        for (uint64_t i = 0; i < r->duplicates && i < MAX_REPORTED; i++)
            fprintf(out, "  line %llu: %s\n", (unsigned long long)r->dup[i].line, r->dup[i].why);
        if (r->duplicates > MAX_REPORTED)
            fprintf(out, "  ... and %llu more duplicate lines\n", (unsigned long long)(r->duplicates - MAX_REPORTED));
        for (uint64_t i = 0; i < r->nlate && i < MAX_REPORTED; i++)
            fprintf(out, "  line %llu: %s\n", (unsigned long long)r->late[i].line, r->late[i].why);
        if (r->nlate > MAX_REPORTED)
            fprintf(out, "  ... and %llu more late lines\n", (unsigned long long)(r->nlate - MAX_REPORTED));
        fprintf(out, "effects:");
        for (int k = 0; k < EFF__COUNT; k++)
            if (s->effects[k]) fprintf(out, " %s %llu", eng_effect_name((EffKind)k), (unsigned long long)s->effects[k]);
        fprintf(out, "\n");
        fprintf(out, "timers fired: %llu\n", (unsigned long long)s->timers);
        business(r, out, 0);
        fprintf(out, "time %.3f s, %.0f events/s\n", r->seconds, eps);
        char jd[300];
        eng_jit_describe(r->eng, jd, sizeof jd);
        fprintf(out, "jit: %s\n", jd);
    }
}

int rep_run(const DnaBundle *b, const ReplayOpts *o, FILE *out)
{
    if (mkdir(o->out, 0777) != 0 && errno != EEXIST) {
        fprintf(stderr, "dnad: cannot create '%s': %s\n", o->out, strerror(errno));
        return 2;
    }
    char path[4096];
    snprintf(path, sizeof path, "%s/effects.jsonl", o->out);
    FILE *ef = fopen(path, "wb");
    if (!ef) { fprintf(stderr, "dnad: cannot write '%s': %s\n", path, strerror(errno)); return 2; }
    setvbuf(ef, NULL, _IOFBF, OUT_BUFFER);
    Run cur;
    int rc = run_events(&cur, b, o, ef);
    if (fclose(ef) && !rc) rc = 2;
    if (!rc) {
        snprintf(path, sizeof path, "%s/state.jsonl", o->out);
        rc = write_state(&cur, path);
    }
    if (!rc && o->baseline) {                   /* the review first, then the candidate's summary */
        Run base;
        rc = run_events(&base, o->baseline, o, NULL);
        if (!rc) {
            snprintf(path, sizeof path, "%s/diff.jsonl", o->out);
            if (!o->markdown) fprintf(out, "against the baseline: ");
            rc = rep_diff_write(&base, &cur, path, out, o->markdown, o->limit ? o->limit : 50);
            fprintf(out, o->markdown ? "\n<details><summary>the candidate's replay</summary>\n\n" : "\nthe candidate's replay:\n");
        }
        run_free(&base);
    }
    if (!rc) summary(&cur, out, o->markdown);
    if (!rc && o->baseline && o->markdown) fprintf(out, "\n</details>\n");
    if (!rc && o->strict && cur.rejected) rc = 1;
    run_free(&cur);
    return rc;
}
