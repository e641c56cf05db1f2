/*
 * http_admin.c - the operator API's alerts and approvals (serve_int.h):
 *
 *   GET  /v1/alerts[?state=open|acked|all][&entity=KIND/KEY][&limit=N]
 *   POST /v1/alerts/{id}/ack                   body {"by": "..."} optional
 *   GET  /v1/approvals[?state=pending|decided|all][&limit=N]
 *   POST /v1/approvals/{id}/approve|reject     body {"by": "..."} optional
 *
 * Lists are read from the live engine under `emu` (engine.h's alert and
 * approval read API), as the worker has processed events so far.
 *
 * An action is not applied here: it becomes the engine's built-in input
 * envelope (`alert_ack` with the alert's subject, signal and id;
 * `approval` with the id and decision; `by` travels in `data`) and goes
 * through the intake like any event, so it is durable before the answer,
 * is processed by the worker in acceptance order, and is replayed at
 * start-up like every other event.  Its `occurred_at` is the daemon's now:
 * the wall clock, never earlier than an accepted event (with
 * --no-wall-clock: the latest `occurred_at` accepted), so it is not late.
 *
 * The envelope id is derived from the target: "ack-ALERT-DUEMS" and
 * "approval-ID-PARKEDMS" (the id plus the time the alert was raised for /
 * the run parked, so an id the engine gives a different alert after a
 * rebuild on another bundle is another envelope).  An alert is
 * acknowledged once and an approval decided once, so the target is the
 * natural idempotency key: a client may repeat a request safely; while the
 * first is pending the repeat is answered 200 with the same event id, once
 * processed 409 with the state.  An Idempotency-Key header is not needed
 * and not read.  202 means accepted; whether the engine applied it (a
 * decision posted through /v1/events may have come first) is the event's
 * status, GET /v1/events/{id}.
 */
#include "serve/serve_int.h"
#include "base/clock.h"
#include "base/json.h"
#include "base/jsonw.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define LIST_DEFAULT 1000
#define LIST_MAX 10000
#define BY_MAX 200


static char *take(JsonW *w, int *code)
{
    char *r = w->oom ? NULL : strndup(w->p, w->n);
    jw_free(w);
    if (!r) { *code = 503; return srv_err("out of memory"); }
    return r;
}

/* "17" -> 17; 0 for anything that is not a positive decimal */
static uint64_t parse_id(const char *s, size_t n)
{
    if (!n || n > 18) return 0;
    uint64_t v = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9') return 0;
        v = v * 10 + (uint64_t)(s[i] - '0');
    }
    return v;
}

static int parse_limit(const char *v, size_t *out)
{
    *out = LIST_DEFAULT;
    if (!v) return 0;
    uint64_t n = parse_id(v, strlen(v));
    if (!n || n > LIST_MAX) return -1;
    *out = (size_t)n;
    return 0;
}

/* The view's time: the watermark, or the engine's clock if ahead (emu held). */
static int64_t view_time(Srv *s)
{
    pthread_mutex_lock(&s->mu);
    int64_t t = s->watermark;
    pthread_mutex_unlock(&s->mu);
    if (eng_clock(s->eng) > t) t = eng_clock(s->eng);
    return t;
}

/* When an operator's action happens (emu held; mu after it, the lock order). */
static int64_t action_time(Srv *s)
{
    /* the daemon's now: the wall clock once live, else the latest
     * accepted occurred_at (a built-in envelope never makes it live) */
    pthread_mutex_lock(&s->mu);
    int64_t t = srv_now_locked(s, srv_wall_ms());
    pthread_mutex_unlock(&s->mu);
    return t;
}

/* The entity's kind name and the first identity it has a value for. */
static int entity_ident(Srv *s, uint64_t h, const char **kind, const char **idname, const DnaValue **val)
{
    Ent *x = h ? eng_entity(s->eng, h) : NULL;
    if (!x) return 0;
    const DnaEntity *en = &srv_b(s)->entities[x->kind];
    *kind = bundle_str(srv_b(s), en->name);
    for (uint32_t i = 0; i < en->nidentity; i++) {
        const DnaValue *v = &x->slots[en->identity[i]];
        if (v->kind == DNA_VK_STR) {
            *idname = bundle_str(srv_b(s), en->slots[en->identity[i]].name);
            *val = v;
            return 1;
        }
    }
    return 0;
}

static void write_entity(Srv *s, JsonW *w, uint64_t h)
{
    const char *kind, *idname;
    const DnaValue *v;
    if (!entity_ident(s, h, &kind, &idname, &v)) { jw_null(w); return; }
    jw_obj(w);
    jw_key(w, "kind"); jw_str(w, kind);
    jw_key(w, "key"); jw_strn(w, v->u.s, v->len);
    jw_end_obj(w);
}

/* ---- alerts ---------------------------------------------------------------------- */

static const char *const alert_status[] = { "open", "acknowledged", "overdue" };

static void write_alert(Srv *s, JsonW *w, const EngAlert *a)
{
    const DnaSignal *ds = &srv_b(s)->signals[a->signal];
    jw_obj(w);
    jw_key(w, "id"); jw_int(w, (int64_t)a->id);
    jw_key(w, "entity"); write_entity(s, w, a->entity);
    jw_key(w, "signal"); jw_str(w, bundle_str(srv_b(s), ds->name));
    jw_key(w, "priority"); jw_str(w, eng_priority_name(ds->priority));
    jw_key(w, "status"); jw_str(w, alert_status[a->status % 3]);
    jw_key(w, "raised_at"); jw_time(w, a->raised);
    jw_key(w, "last_seen_at"); jw_time(w, a->seen);
    jw_key(w, "due"); jw_time(w, a->due);
    jw_key(w, "overdue"); jw_bool(w, a->status == AL_OVERDUE);
    jw_key(w, "acked"); jw_bool(w, a->status == AL_ACKED);
    jw_key(w, "closed_at");
    if (a->status == AL_OPEN) jw_null(w); else jw_time(w, a->closed);
    jw_end_obj(w);
}

typedef struct AlertList {
    int want;                       /* 0 open (not acknowledged), 1 acknowledged, 2 all */
    uint64_t entity;                /* 0: every entity */
    EngAlert *v;
    size_t n, cap;
    int oom;
} AlertList;

static int collect(void *ud, const EngAlert *a)
{
    AlertList *l = ud;
    if (l->entity && a->entity != l->entity) return 0;
    if (l->want == 0 && a->status == AL_ACKED) return 0;
    if (l->want == 1 && a->status != AL_ACKED) return 0;
    if (l->n == l->cap) {
        size_t nc = l->cap ? l->cap * 2 : 64;
        EngAlert *nv = realloc(l->v, nc * sizeof *nv);
        if (!nv) { l->oom = 1; return 1; }
        l->v = nv;
        l->cap = nc;
    }
    l->v[l->n++] = *a;
    return 0;
}

static int by_due(const void *pa, const void *pb)
{
    const EngAlert *a = pa, *b = pb;
    if (a->due != b->due) return a->due < b->due ? -1 : 1;
    return a->id < b->id ? -1 : a->id > b->id;
}

/* KIND/KEY -> the live entity's handle, 0 if none; -1 if KIND is unknown */
static int64_t find_entity(Srv *s, const char *spec)
{
    const char *slash = strchr(spec, '/');
    if (!slash || slash == spec || !slash[1]) return -1;
    char kind[128];
    snprintf(kind, sizeof kind, "%.*s", (int)(slash - spec), spec);
    uint32_t k = bundle_entity(srv_b(s), kind);
    if (k == DNA_NIL) return -1;
    const DnaEntity *en = &srv_b(s)->entities[k];
    const char *key = slash + 1;
    uint64_t h = 0;
    for (uint32_t i = 0; i < en->nidentity && !h; i++)
        h = s->st->ops->find(s->st, k, en->identity[i], key, (uint32_t)strlen(key));
    Ent *x = h ? eng_entity(s->eng, h) : NULL;
    for (int guard = 0; x && x->merged_into && guard < 64; guard++) x = eng_entity(s->eng, x->merged_into);
    return x && !x->merged_into ? (int64_t)x->handle : 0;
}

static int srv_alerts(Srv *s, SrvLookup arg, void *ud, char **out)
{
    const char *state = arg(ud, "state"), *entity = arg(ud, "entity");
    AlertList l;
    memset(&l, 0, sizeof l);
    if (!state || !strcmp(state, "open")) l.want = 0;
    else if (!strcmp(state, "acked") || !strcmp(state, "acknowledged")) l.want = 1;
    else if (!strcmp(state, "all")) l.want = 2;
    else { *out = srv_err("state must be open, acked or all"); return 400; }
    size_t limit;
    if (parse_limit(arg(ud, "limit"), &limit)) { *out = srv_err("limit must be 1 to %d", LIST_MAX); return 400; }
    JsonW w;
    jw_init(&w);
    int code = 200;
    pthread_mutex_lock(&s->emu);
    if (entity) {
        int64_t h = find_entity(s, entity);
        if (h <= 0) code = h < 0 ? 400 : 404;
        l.entity = (uint64_t)h;
    }
    if (code == 200) {
        eng_alerts(s->eng, collect, &l);
        if (l.oom) code = 503;
    }
    if (code == 200) {
        qsort(l.v, l.n, sizeof *l.v, by_due);
        jw_obj(&w);
        jw_key(&w, "at"); jw_time(&w, view_time(s));
        jw_key(&w, "count"); jw_int(&w, (int64_t)l.n);
        jw_key(&w, "truncated"); jw_bool(&w, l.n > limit);
        jw_key(&w, "alerts");
        jw_arr(&w);
        for (size_t i = 0; i < l.n && i < limit; i++) write_alert(s, &w, &l.v[i]);
        jw_end_arr(&w);
        jw_end_obj(&w);
    }
    pthread_mutex_unlock(&s->emu);
    free(l.v);
    if (code != 200) {
        jw_free(&w);
        *out = srv_err("%s", code == 400 ? "entity must be KIND/KEY of a declared entity kind"
                               : code == 404 ? "no such entity" : "out of memory");
        return code;
    }
    *out = take(&w, &code);
    return code;
}

/* ---- approvals ------------------------------------------------------------------- */

static const char *const approval_status[] = { "pending", "approved", "rejected" };

static void write_approval(Srv *s, JsonW *w, const EngApproval *a)
{
    jw_obj(w);
    jw_key(w, "id"); jw_int(w, (int64_t)a->id);
    jw_key(w, "workflow"); jw_str(w, bundle_str(srv_b(s), srv_b(s)->rules[a->rule].name));
    jw_key(w, "entity"); write_entity(s, w, a->entity);
    jw_key(w, "status"); jw_str(w, approval_status[a->status % 3]);
    jw_key(w, "parked_at"); jw_time(w, a->parked);
    jw_key(w, "decided_at");
    if (a->status) jw_time(w, a->decided); else jw_null(w);
    jw_key(w, "actions"); eng_approval_actions(s->eng, a->id, w);
    jw_end_obj(w);
}

static int srv_approvals(Srv *s, SrvLookup arg, void *ud, char **out)
{
    const char *state = arg(ud, "state");
    int want;
    if (!state || !strcmp(state, "pending")) want = 0;
    else if (!strcmp(state, "decided")) want = 1;
    else if (!strcmp(state, "all")) want = 2;
    else { *out = srv_err("state must be pending, decided or all"); return 400; }
    size_t limit;
    if (parse_limit(arg(ud, "limit"), &limit)) { *out = srv_err("limit must be 1 to %d", LIST_MAX); return 400; }
    JsonW w;
    jw_init(&w);
    pthread_mutex_lock(&s->emu);
    jw_obj(&w);
    jw_key(&w, "at"); jw_time(&w, view_time(s));
    jw_key(&w, "approvals");
    jw_arr(&w);
    size_t n = 0;
    uint64_t total = eng_approvals(s->eng);
    for (uint64_t id = 1; id <= total; id++) {
        EngApproval a;
        if (!eng_approval(s->eng, id, &a)) continue;
        if ((want == 0 && a.status) || (want == 1 && !a.status)) continue;
        if (n++ < limit) write_approval(s, &w, &a);
    }
    jw_end_arr(&w);
    jw_key(&w, "count"); jw_int(&w, (int64_t)n);
    jw_key(&w, "truncated"); jw_bool(&w, n > limit);
    jw_end_obj(&w);
    pthread_mutex_unlock(&s->emu);
    int code = 200;
    *out = take(&w, &code);
    return code;
}

/* ---- actions --------------------------------------------------------------------- */

/* The optional body {"by": "..."}: 0 ok (*by may stay NULL), else the status. */
static int parse_by(const char *body, size_t len, char **by, char **out)
{
    *by = NULL;
    size_t i = 0;
    while (i < len && (body[i] == ' ' || body[i] == '\n' || body[i] == '\r' || body[i] == '\t')) i++;
    if (i == len) return 0;
    JsonError je;
    json_t *root = dna_json_parse(body, len, &je);
    if (!root) { *out = srv_err("malformed JSON at line %d, column %d: %s", je.line, je.column, je.text); return 400; }
    int code = 0;
    json_t *jb = json_is_object(root) ? json_object_get(root, "by") : NULL;
    if (!json_is_object(root)) code = 422, *out = srv_err("the body is an object: {\"by\": \"who\"}");
    else if (json_object_size(root) > (jb ? 1u : 0u)) code = 422, *out = srv_err("the body takes only \"by\"");
    else if (jb && (!json_is_string(jb) || json_string_length(jb) > BY_MAX))
        code = 422, *out = srv_err("\"by\" is a string of at most %d bytes", BY_MAX);
    else if (jb && strlen(json_string_value(jb)) != json_string_length(jb))     /* it would be cut: the intake's rule */
        code = 400, *out = srv_err("\"by\" holds a NUL character (\\u0000)");
    else if (jb && !(*by = strdup(json_string_value(jb)))) code = 503, *out = srv_err("out of memory");
    json_decref(root);
    return code;
}

/* Hand the envelope to the intake; 202/200 are answered with `reply`'s
 * fields, anything else passes through. */
static int submit(Srv *s, JsonW *env, const char *eid, JsonW *reply, char **out)
{
    if (env->oom || reply->oom) { *out = srv_err("out of memory"); return 503; }
    char *res = NULL;
    int code = srv_intake(s, env->p, env->n, &res);
    if (code != 202 && code != 200) { *out = res; return code; }
    free(res);
    jw_key(reply, "event"); jw_str(reply, eid);
    jw_key(reply, "duplicate"); jw_bool(reply, code == 200);
    jw_end_obj(reply);
    *out = take(reply, &code);
    return code;
}

/* Open an operator's built-in envelope: id, type, source, occurred_at
 * (emu held, as action_time needs). */
static void envelope_head(Srv *s, JsonW *env, const char *eid, const char *type)
{
    jw_obj(env);
    jw_key(env, "id"); jw_str(env, eid);
    jw_key(env, "type"); jw_str(env, type);
    jw_key(env, "source"); jw_str(env, "operator");
    jw_key(env, "occurred_at"); jw_time(env, action_time(s));
}

/* 409: the target was decided before; the answer shows it as it is now. */
typedef void (*WriteItem)(Srv *s, JsonW *w, const void *item);
static void wr_alert(Srv *s, JsonW *w, const void *a) { write_alert(s, w, a); }
static void wr_approval(Srv *s, JsonW *w, const void *a) { write_approval(s, w, a); }

static char *already(Srv *s, JsonW *reply, const char *msg, const char *key, WriteItem wr, const void *item, int *code)
{
    *code = 409;
    jw_obj(reply);
    jw_key(reply, "error"); jw_str(reply, msg);
    jw_key(reply, key); wr(s, reply, item);
    jw_end_obj(reply);
    return take(reply, code);
}

static int alert_ack(Srv *s, uint64_t id, const char *body, size_t len, char **out)
{
    char *by;
    int code = parse_by(body, len, &by, out);
    if (code) return code;
    JsonW env, reply;
    jw_init(&env);
    jw_init(&reply);
    char eid[64];
    pthread_mutex_lock(&s->emu);
    EngAlert a;
    const char *kind, *idname;
    const DnaValue *v;
    if (!eng_alert(s->eng, id, &a) || !entity_ident(s, a.entity, &kind, &idname, &v)) {
        code = 404;
        *out = srv_err("no such alert: %llu", (unsigned long long)id);
    } else if (a.status == AL_ACKED) {
        *out = already(s, &reply, "the alert was already acknowledged", "alert", wr_alert, &a, &code);
    } else {
        snprintf(eid, sizeof eid, "ack-%llu-%lld", (unsigned long long)id, (long long)a.due);
        envelope_head(s, &env, eid, "alert_ack");
        jw_key(&env, "subject");
        jw_obj(&env);
        jw_key(&env, "entity"); jw_str(&env, kind);
        jw_key(&env, idname); jw_strn(&env, v->u.s, v->len);
        jw_end_obj(&env);
        jw_key(&env, "data");
        jw_obj(&env);
        jw_key(&env, "signal"); jw_str(&env, bundle_str(srv_b(s), srv_b(s)->signals[a.signal].name));
        jw_key(&env, "alert"); jw_int(&env, (int64_t)id);
        if (by) { jw_key(&env, "by"); jw_str(&env, by); }
        jw_end_obj(&env);
        jw_end_obj(&env);
        jw_obj(&reply);
        jw_key(&reply, "alert"); jw_int(&reply, (int64_t)id);
    }
    pthread_mutex_unlock(&s->emu);
    if (!code) {
        code = submit(s, &env, eid, &reply, out);
        if (code == 202) slog("info", "alert acknowledged", "alert", SL_INT, (int64_t)id, "event", SL_STR, eid, "by", SL_STR, by, NULL);
    }
    jw_free(&env);
    jw_free(&reply);
    free(by);
    return code;
}

/* The decision an envelope already stored under `eid` carries: 1 approve,
 * 0 reject, -1 unknown. */
static int stored_decision(Srv *s, const char *eid)
{
    int d = -1;
    pthread_mutex_lock(&s->rmu);
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(s->rdb, "SELECT body FROM events WHERE tenant = '" DB_TENANT "' AND id = ?", -1, &st, NULL) == SQLITE_OK) {
        sqlite3_bind_text(st, 1, eid, -1, SQLITE_STATIC);
        if (sqlite3_step(st) == SQLITE_ROW) {
            JsonError je;
            json_t *root = dna_json_parse((const char *)sqlite3_column_text(st, 0), (size_t)sqlite3_column_bytes(st, 0), &je);
            json_t *data = root ? json_object_get(root, "data") : NULL, *jd = data ? json_object_get(data, "decision") : NULL;
            if (jd && json_is_string(jd)) d = !strcmp(json_string_value(jd), "approve");
            json_decref(root);
        }
    }
    sqlite3_finalize(st);
    pthread_mutex_unlock(&s->rmu);
    return d;
}

static int approval_decide(Srv *s, uint64_t id, int approve, const char *body, size_t len, char **out)
{
    char *by;
    int code = parse_by(body, len, &by, out);
    if (code) return code;
    JsonW env, reply;
    jw_init(&env);
    jw_init(&reply);
    char eid[64];
    const char *decision = approve ? "approve" : "reject";
    pthread_mutex_lock(&s->emu);
    EngApproval a;
    if (!eng_approval(s->eng, id, &a)) {
        code = 404;
        *out = srv_err("no such approval: %llu", (unsigned long long)id);
    } else if (a.status) {
        *out = already(s, &reply, a.status == 1 ? "the approval was already approved" : "the approval was already rejected",
                       "approval", wr_approval, &a, &code);
    } else {
        snprintf(eid, sizeof eid, "approval-%llu-%lld", (unsigned long long)id, (long long)a.parked);
        envelope_head(s, &env, eid, "approval");
        jw_key(&env, "data");
        jw_obj(&env);
        jw_key(&env, "id"); jw_int(&env, (int64_t)id);
        jw_key(&env, "decision"); jw_str(&env, decision);
        if (by) { jw_key(&env, "by"); jw_str(&env, by); }
        jw_end_obj(&env);
        jw_end_obj(&env);
        jw_obj(&reply);
        jw_key(&reply, "approval"); jw_int(&reply, (int64_t)id);
        jw_key(&reply, "decision"); jw_str(&reply, decision);
    }
    pthread_mutex_unlock(&s->emu);
    if (!code) {
        code = submit(s, &env, eid, &reply, out);
        /* a repeat while the first is pending: the same decision is the same
         * request; the other one is a conflict */
        if (code == 200 && stored_decision(s, eid) != approve) {
            free(*out);
            code = 409;
            *out = srv_err("approval %llu is already being %s (event %s is pending)", (unsigned long long)id,
                            approve ? "rejected" : "approved", eid);
        }
        if (code == 202)
            slog("info", approve ? "approval approved" : "approval rejected", "approval", SL_INT, (int64_t)id, "event", SL_STR, eid,
                 "by", SL_STR, by, NULL);
    }
    jw_free(&env);
    jw_free(&reply);
    free(by);
    return code;
}

/* ---- routing --------------------------------------------------------------------- */

int srv_admin_path(const char *url)
{
    return !strcmp(url, "/v1/alerts") || !strncmp(url, "/v1/alerts/", 11) || !strcmp(url, "/v1/approvals") ||
           !strncmp(url, "/v1/approvals/", 14);
}

int srv_admin(Srv *s, const char *method, const char *url, SrvLookup arg, void *ud, const char *body, size_t len, char **out)
{
    int get = !strcmp(method, "GET"), post = !strcmp(method, "POST");
    if (!atomic_load(&s->ready)) { *out = srv_err("not ready: the state is being rebuilt"); return 503; }
    if (!strcmp(url, "/v1/alerts") || !strcmp(url, "/v1/approvals")) {
        if (!get) { *out = srv_err("method not allowed"); return 405; }
        return !strcmp(url, "/v1/alerts") ? srv_alerts(s, arg, ud, out) : srv_approvals(s, arg, ud, out);
    }
    int alerts = !strncmp(url, "/v1/alerts/", 11);
    const char *p = url + (alerts ? 11 : 14), *slash = strchr(p, '/');
    uint64_t id = slash ? parse_id(p, (size_t)(slash - p)) : 0;
    const char *verb = slash ? slash + 1 : "";
    int action = alerts ? !strcmp(verb, "ack") : !strcmp(verb, "approve") || !strcmp(verb, "reject");
    if (!id || !action) {
        *out = srv_err("%s", alerts ? "use POST /v1/alerts/{id}/ack" : "use POST /v1/approvals/{id}/approve or /reject");
        return 404;
    }
    if (!post) { *out = srv_err("method not allowed"); return 405; }
    if (alerts) return alert_ack(s, id, body, len, out);
    return approval_decide(s, id, !strcmp(verb, "approve"), body, len, out);
}
