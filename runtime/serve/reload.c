/*
 * reload.c - a new bundle without a restart (SIGHUP, POST /v1/bundle): the
 * request waits for the worker, which, between two events, builds the new
 * engines, rebuilds the state the history gives under the new rules and
 * swaps; the posted file replaces the bundle path only once it runs.
 */
#include "serve/serve_int.h"
#include "serve/worker.h"
#include "base/clock.h"
#include "base/json.h"
#include "base/jsonw.h"
#include "base/mem.h"

#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* ---- reload ------------------------------------------------------------------------ */

void srv_set_bundle_id_locked(Srv *s, const DnaBundle *b)
{
    for (int i = 0; i < 8; i++) snprintf(s->bundle_id + 2 * i, 3, "%02x", b->checksum[i]);
}


/* In the worker, between two events: build the engines of nb, give the
 * new live engine the state the history gives under nb (as a restart on nb
 * would), and swap.  On failure the old bundle stays. */
static int swap_bundle(Srv *s, Worker *w, DnaBundle *nb, char *msg, size_t msglen)
{
    int64_t t0 = srv_wall_ms();
    Store *st = store_mem_new(), *vst = NULL;
    Engine *eng = st ? eng_new(nb, st, wk_sink, w) : NULL;
    Engine *val = eng ? srv_new_validator(nb, &vst) : NULL;
    uint64_t *cin = dna_ucalloc(nb->nevents + 1, sizeof *cin), *cdone = dna_ucalloc(nb->nevents + 1, sizeof *cdone),
             *cfail = dna_ucalloc(nb->nevents + 1, sizeof *cfail);
    int64_t n = val && cin && cdone && cfail ? wk_replay_history(s, w, eng) : -1;
    if (n < 0) {
        snprintf(msg, msglen, "cannot rebuild the state on the new bundle: %s", val ? sqlite3_errmsg(s->pdb) : "out of memory");
        eng_free(eng);
        if (st) st->ops->free(st);
        eng_free(val);
        if (vst) vst->ops->free(vst);
        dna_ufree(cin); dna_ufree(cdone); dna_ufree(cfail);
        return -1;
    }
    pthread_mutex_lock(&s->emu);               /* under emu, live always matches eng */
    Engine *old_eng = s->eng, *old_val = s->val;
    Store *old_st = s->st, *old_vst = s->valst;
    pthread_mutex_lock(&s->vmu);
    s->eng = eng; s->st = st; s->val = val; s->valst = vst;
    pthread_mutex_unlock(&s->vmu);
    atomic_store(&s->live, nb);
    pthread_mutex_unlock(&s->emu);
    pthread_mutex_lock(&s->mu);
    /* counters follow their type by name; the built-ins' slot is last */
    const DnaBundle *ob = s->types_b;
    for (uint32_t t = 0; t < s->ntypes; t++) {
        uint32_t u = t + 1 == s->ntypes ? nb->nevents : bundle_event(nb, bundle_str(ob, ob->events[t].name));
        if (u == DNA_NIL) continue;
        cin[u] += s->in_by_type[t]; cdone[u] += s->done_by_type[t]; cfail[u] += s->failed_by_type[t];
    }
    dna_ufree(s->in_by_type); dna_ufree(s->done_by_type); dna_ufree(s->failed_by_type);
    s->in_by_type = cin; s->done_by_type = cdone; s->failed_by_type = cfail;
    s->ntypes = nb->nevents + 1;
    s->types_b = nb;
    char old_id[17];
    memcpy(old_id, s->bundle_id, sizeof old_id);
    srv_set_bundle_id_locked(s, nb);
    s->reloads++;
    snprintf(msg, msglen, "%s", s->bundle_id);
    pthread_mutex_unlock(&s->mu);
    pthread_mutex_lock(&s->emu);
    eng_free(old_eng);
    old_st->ops->free(old_st);
    eng_free(old_val);
    old_vst->ops->free(old_vst);
    pthread_mutex_unlock(&s->emu);
    slog("info", "bundle reloaded", "from", SL_STR, old_id, "to", SL_STR, msg, "rules", SL_INT, (int64_t)nb->nrules,
         "events_replayed", SL_INT, n, "ms", SL_INT, srv_wall_ms() - t0, NULL);
    return 0;
}

/* The posted bundle goes to PATH.tmp first (synced) and replaces PATH only
 * once the worker runs it: a reload that fails leaves the file alone. */
static int write_bundle_tmp(const char *path, const void *data, size_t len, char *msg, size_t msglen)
{
    char tmp[4096];
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    FILE *f = fopen(tmp, "wb");
    int ok = f && fwrite(data, 1, len, f) == len;
    ok = f && fflush(f) == 0 && fsync(fileno(f)) == 0 && ok;
    if (f && fclose(f)) ok = 0;
    if (!ok) {
        snprintf(msg, msglen, "cannot write the bundle to '%s': %s", tmp, strerror(errno));
        unlink(tmp);
        return -1;
    }
    return 0;
}

static void bundle_tmp_done(const char *path, int keep)
{
    char tmp[4096];
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    if (!keep) { unlink(tmp); return; }
    if (rename(tmp, path))
        slog("error", "the new bundle runs, but it could not replace the bundle file: a restart runs the old one",
             "path", SL_STR, path, "error", SL_STR, strerror(errno), NULL);
}

int srv_reload(Srv *s, const void *data, size_t len, char *msg, size_t msglen)
{
    DnaBundle *nb = dna_ucalloc(1, sizeof *nb);
    if (!nb) { snprintf(msg, msglen, "out of memory"); return -1; }
    DnaLoadResult res;
    DnaLoadError e = data ? bundle_read(data, len, nb, &res) : bundle_load_file(s->cfg.bundle_path, nb, &res);
    if (e != DNA_LOAD_OK) {
        snprintf(msg, msglen, "%s", res.msg);
        bundle_free(nb);
        dna_ufree(nb);
        return -1;
    }
    pthread_mutex_lock(&s->reload_mu);
    if (data && write_bundle_tmp(s->cfg.bundle_path, data, len, msg, msglen)) {
        pthread_mutex_unlock(&s->reload_mu);
        bundle_free(nb);
        dna_ufree(nb);
        return -1;
    }
    pthread_mutex_lock(&s->mu);
    DnaBundle **nl = dna_urealloc(s->loaded, (s->nloaded + 1) * sizeof *nl);
    if (!nl || s->stop_work || s->worker_gone) {
        pthread_mutex_unlock(&s->mu);
        pthread_mutex_unlock(&s->reload_mu);
        if (nl) s->loaded = nl;
        snprintf(msg, msglen, "%s", nl ? "shutting down" : "out of memory");
        if (data) bundle_tmp_done(s->cfg.bundle_path, 0);
        bundle_free(nb);
        dna_ufree(nb);
        return -1;
    }
    s->loaded = nl;
    s->reload_req = nb;
    s->reload_done = 0;
    pthread_cond_broadcast(&s->workcond);
    while (!s->reload_done) pthread_cond_wait(&s->reloadcond, &s->mu);
    int rc = s->reload_rc;
    snprintf(msg, msglen, "%s", s->reload_msg);
    if (rc == 0) s->loaded[s->nloaded++] = nb;      /* freed at exit */
    pthread_mutex_unlock(&s->mu);
    if (data) bundle_tmp_done(s->cfg.bundle_path, rc == 0);
    pthread_mutex_unlock(&s->reload_mu);
    if (rc) { bundle_free(nb); dna_ufree(nb); }
    return rc;
}

/* The worker's side: take a waiting reload, if any, and answer it. */
void wk_reload(Srv *s, Worker *w)
{
    pthread_mutex_lock(&s->mu);
    DnaBundle *nb = s->reload_req;
    s->reload_req = NULL;
    pthread_mutex_unlock(&s->mu);
    if (!nb) return;
    char msg[256];
    int rc = swap_bundle(s, w, nb, msg, sizeof msg);
    if (rc) slog("error", "bundle reload refused", "error", SL_STR, msg, NULL);
    pthread_mutex_lock(&s->mu);
    s->reload_rc = rc;
    snprintf(s->reload_msg, sizeof s->reload_msg, "%s", msg);
    s->reload_done = 1;
    pthread_cond_broadcast(&s->reloadcond);
    pthread_mutex_unlock(&s->mu);
}
