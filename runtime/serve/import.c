/*
 * import.c - `dnad import`: history into a store that has no events yet.
 *
 * The file's envelopes go through the daemon's own intake (validation,
 * --max-future, the group commit) in batches of lines, and its own worker
 * runs them with replay's watermark: nothing follows the wall clock and
 * nothing makes the daemon live, so the state is what `dnad replay` of
 * the same file gives, and every external effect is recorded as history
 * (with --deliver-history: pending, for the daemon that carries on to
 * deliver).  A line the intake refuses is reported and skipped, as replay
 * skips it.  Then `dnad serve` on the store carries on from it.  Killed
 * half way, the store holds what was accepted; `dnad serve` runs what was
 * not processed yet, and a second import is refused.
 */
#include "serve/serve_int.h"
#include "base/clock.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define IMPORT_BATCH 500

typedef struct Import {
    Srv *s;
    uint64_t lines, accepted, refused, duplicates;
} Import;

static void refuse_line(Import *im, uint64_t line, const char *body)
{
    im->refused++;
    if (im->refused <= 20) fprintf(stderr, "dnad import: line %llu refused: %s\n", (unsigned long long)line, body);
}

/* One batch of lines (JSON texts) through the intake; a batch the intake
 * refuses goes again line by line, so one bad line costs only itself. */
static int flush(Import *im, char **v, uint64_t *lineno, size_t n)
{
    if (!n) return 0;
    size_t len = 2;
    for (size_t i = 0; i < n; i++) len += strlen(v[i]) + 1;
    char *arr = malloc(len + 1), *p = arr;
    if (!arr) return -1;
    *p++ = '[';
    for (size_t i = 0; i < n; i++) {
        size_t l = strlen(v[i]);
        if (i) *p++ = ',';
        memcpy(p, v[i], l);
        p += l;
    }
    *p++ = ']';
    *p = 0;
    char *out = NULL;
    int code = srv_intake(im->s, arr, (size_t)(p - arr), &out);
    free(arr);
    if (code == 202 || code == 200) {
        /* {"accepted":[...],"duplicates":[...]}: count the duplicates */
        const char *d = out ? strstr(out, "\"duplicates\":[") : NULL;
        size_t dups = 0;
        if (d) for (d += 14; *d && *d != ']'; d++) dups += *d == '"';
        im->duplicates += dups / 2;
        im->accepted += n - dups / 2;
        free(out);
        return 0;
    }
    free(out);
    if (code == 503) return -1;
    for (size_t i = 0; i < n; i++) {
        out = NULL;
        code = srv_intake(im->s, v[i], strlen(v[i]), &out);
        if (code == 202) im->accepted++;
        else if (code == 200) im->duplicates++;
        else if (code == 503) { free(out); return -1; }
        else refuse_line(im, lineno[i], out ? out : "?");
        free(out);
    }
    return 0;
}

static int blank(const char *s)
{
    for (; *s; s++) if (*s != ' ' && *s != '\t' && *s != '\r' && *s != '\n') return 0;
    return 1;
}

int srv_import_refused(Srv *s)
{
    if (db_scalar(s->pdb, "SELECT count(*) FROM events WHERE tenant = '" DB_TENANT "'") == 0) return 0;
    fprintf(stderr, "dnad import: the store '%s' has events already; import loads history into an empty store\n",
            s->cfg.db_path);
    return 1;
}

int srv_import(Srv *s)
{
    const char *path = s->cfg.import_path;
    FILE *f = strcmp(path, "-") ? fopen(path, "rb") : stdin;
    if (!f) { fprintf(stderr, "dnad import: cannot read '%s': %s\n", path, strerror(errno)); return 2; }
    Import im = { s, 0, 0, 0, 0 };
    char *v[IMPORT_BATCH];
    uint64_t lineno[IMPORT_BATCH];
    size_t n = 0;
    char *line = NULL;
    size_t cap = 0;
    ssize_t len;
    int rc = 0;
    while (rc == 0 && (len = getline(&line, &cap, f)) > 0) {
        im.lines++;
        while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r')) line[--len] = 0;
        if (blank(line)) continue;
        v[n] = strdup(line);
        lineno[n] = im.lines;
        if (!v[n]) { rc = 2; break; }
        if (++n == IMPORT_BATCH) {
            if (flush(&im, v, lineno, n)) rc = 1;
            for (size_t i = 0; i < n; i++) free(v[i]);
            n = 0;
        }
    }
    if (rc == 0 && flush(&im, v, lineno, n)) rc = 1;
    for (size_t i = 0; i < n; i++) free(v[i]);
    free(line);
    if (ferror(f)) { fprintf(stderr, "dnad import: error reading '%s'\n", path); rc = 2; }
    if (f != stdin) fclose(f);
    if (im.refused > 20) fprintf(stderr, "dnad import: ... and %llu more refused lines\n", (unsigned long long)(im.refused - 20));
    /* wait until the worker has run every accepted event */
    for (;;) {
        if (atomic_load(&s->fatal)) { rc = 1; break; }
        pthread_mutex_lock(&s->rmu);
        int64_t pend = db_scalar(s->rdb, "SELECT count(*) FROM events WHERE tenant = '" DB_TENANT "' AND status = 'pending'");
        pthread_mutex_unlock(&s->rmu);
        if (pend <= 0) break;
        struct timespec ts = { 0, 50 * 1000000L };
        nanosleep(&ts, NULL);
    }
    pthread_mutex_lock(&s->rmu);
    int64_t hist = db_scalar(s->rdb, "SELECT count(*) FROM outbox WHERE tenant = '" DB_TENANT "' AND status = 'history'");
    int64_t pend = db_scalar(s->rdb, "SELECT count(*) FROM outbox WHERE tenant = '" DB_TENANT "' AND status = 'pending'");
    pthread_mutex_unlock(&s->rmu);
    printf("imported %llu lines: %llu events, %llu refused, %llu duplicates; external effects: %lld history (not "
           "delivered), %lld pending\n", (unsigned long long)im.lines, (unsigned long long)im.accepted,
           (unsigned long long)im.refused, (unsigned long long)im.duplicates, (long long)hist, (long long)pend);
    return rc;
}
