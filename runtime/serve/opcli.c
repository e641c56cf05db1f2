/*
 * opcli.c - `dnad approvals ...` and `dnad alerts ...`: the operator API
 * over HTTP, its answers as tables (opcli.h).
 */
#include "serve/opcli.h"
#include "base/json.h"
#include "base/jsonw.h"
#include "base/mem.h"

#include <curl/curl.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

typedef struct Body { char *p; size_t n, cap; } Body;

static size_t on_data(char *ptr, size_t size, size_t nmemb, void *ud)
{
    Body *b = ud;
    size_t n = size * nmemb;
    if (b->n + n + 1 > b->cap) {
        size_t nc = b->cap ? b->cap : 16384;
        while (nc < b->n + n + 1) nc *= 2;
        if (nc > (64u << 20)) return 0;                 /* an answer this large is not the API's */
        char *np = dna_realloc(b->p, b->cap, nc);
        if (!np) return 0;
        b->p = np;
        b->cap = nc;
    }
    memcpy(b->p + b->n, ptr, n);
    b->n += n;
    b->p[b->n] = 0;
    return n;
}

/* One request; returns the HTTP status (the body in *b, NUL-ended), or 0 with the reason in `why`. */
static long request(const OpcConfig *c, const char *method, const char *path, const char *body, Body *b, char *why,
                    size_t wl)
{
    CURL *h = curl_easy_init();
    if (!h) { snprintf(why, wl, "cannot start an HTTP client"); return 0; }
    char url[2048], auth[1200], err[CURL_ERROR_SIZE] = "";
    size_t ul = strlen(c->url);
    while (ul && c->url[ul - 1] == '/') ul--;
    snprintf(url, sizeof url, "%.*s%s", (int)ul, c->url, path);
    struct curl_slist *hd = NULL;
    if (c->token && *c->token) {
        snprintf(auth, sizeof auth, "Authorization: Bearer %s", c->token);
        hd = curl_slist_append(hd, auth);
    }
    if (body) hd = curl_slist_append(hd, "Content-Type: application/json");
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, hd);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_data);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, b);
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, err);
    curl_easy_setopt(h, CURLOPT_TIMEOUT, c->timeout_s > 0 ? c->timeout_s : 30L);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
    if (!strcmp(method, "POST")) {
        curl_easy_setopt(h, CURLOPT_POST, 1L);
        curl_easy_setopt(h, CURLOPT_POSTFIELDS, body ? body : "");
    }
    CURLcode rc = curl_easy_perform(h);
    long status = 0;
    if (rc == CURLE_OK) curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
    else snprintf(why, wl, "cannot reach %s: %s", url, *err ? err : curl_easy_strerror(rc));
    curl_slist_free_all(hd);
    curl_easy_cleanup(h);
    if (!b->p && status) {                              /* an empty body */
        b->p = dna_malloc(1);
        if (b->p) { b->p[0] = 0; b->cap = 1; }
    }
    return status;
}

static void body_free(Body *b) { dna_free(b->p, b->cap); memset(b, 0, sizeof *b); }

static const char *jstr(json_t *o, const char *k)
{
    json_t *v = json_object_get(o, k);
    return json_is_string(v) ? json_string_value(v) : NULL;
}

/* The API's {"error": "..."}, or the status. */
static void api_error(FILE *err, long status, const Body *b)
{
    JsonError je;
    json_t *o = b->p && b->n ? dna_json_parse(b->p, b->n, &je) : NULL;
    const char *e = o ? jstr(o, "error") : NULL;
    if (e) fprintf(err, "dnad: %s (HTTP %ld)\n", e, status);
    else if (status == 401) fprintf(err, "dnad: the daemon refused the token (HTTP 401): set DNA_API_TOKEN or --token-file\n");
    else fprintf(err, "dnad: the daemon answered HTTP %ld\n", status);
    json_decref(o);
}

static const char *entity_text(json_t *e, char *buf, size_t n)
{
    snprintf(buf, n, "%s %s", jstr(e, "kind") ? jstr(e, "kind") : "?", jstr(e, "key") ? jstr(e, "key") : "?");
    return buf;
}

/* "call finance.create_customer, call finance.create_offer" */
static void actions_text(json_t *acts, char *buf, size_t n)
{
    size_t at = 0, i;
    json_t *a;
    buf[0] = 0;
    json_array_foreach(acts, i, a) {
        const char *act = jstr(a, "action"), *conn = jstr(a, "connector"), *m = jstr(a, "method");
        int w = snprintf(buf + at, n - at, "%s%s%s%s%s%s", i ? ", " : "", act ? act : "?", conn ? " " : "",
                         conn ? conn : "", m ? "." : "", m ? m : "");
        if (w < 0 || (size_t)w >= n - at) break;
        at += (size_t)w;
    }
}

typedef struct Table { char *cell[256][6]; int n, ncols; } Table;

static void table_print(FILE *out, const Table *t, const char *const *head)
{
    size_t w[6] = { 0 };
    for (int c = 0; c < t->ncols; c++) w[c] = strlen(head[c]);
    for (int r = 0; r < t->n; r++)
        for (int c = 0; c < t->ncols; c++) if (strlen(t->cell[r][c]) > w[c]) w[c] = strlen(t->cell[r][c]);
    for (int r = -1; r < t->n; r++) {
        for (int c = 0; c < t->ncols; c++) {
            const char *s = r < 0 ? head[c] : t->cell[r][c];
            if (c + 1 < t->ncols) fprintf(out, "%-*s  ", (int)w[c], s);
            else fprintf(out, "%s\n", s);
        }
    }
}

static char *dup(const char *s) { return strdup(s ? s : ""); }

static int print_list(OpcWhat what, json_t *o, FILE *out)
{
    json_t *v = json_object_get(o, what == OPC_APPROVALS ? "approvals" : "alerts");
    json_t *count = json_object_get(o, "count");
    static Table t;
    memset(&t, 0, sizeof t);
    t.ncols = what == OPC_APPROVALS ? 6 : 6;
    size_t i;
    json_t *x;
    char buf[1024];
    json_array_foreach(v, i, x) {
        if (t.n == 256) break;
        char **row = t.cell[t.n++];
        snprintf(buf, sizeof buf, "%lld", (long long)json_integer_value(json_object_get(x, "id")));
        row[0] = dup(buf);
        if (what == OPC_APPROVALS) {
            row[1] = dup(jstr(x, "workflow"));
            row[2] = dup(entity_text(json_object_get(x, "entity"), buf, sizeof buf));
            row[3] = dup(jstr(x, "status"));
            row[4] = dup(jstr(x, "parked_at"));
            actions_text(json_object_get(x, "actions"), buf, sizeof buf);
            row[5] = dup(buf);
        } else {
            row[1] = dup(jstr(x, "signal"));
            row[2] = dup(entity_text(json_object_get(x, "entity"), buf, sizeof buf));
            row[3] = dup(jstr(x, "priority"));
            row[4] = dup(jstr(x, "status"));
            row[5] = dup(jstr(x, "due"));
        }
    }
    static const char *const ah[] = { "id", "workflow", "entity", "status", "parked_at", "actions" };
    static const char *const lh[] = { "id", "signal", "entity", "priority", "status", "due" };
    const char *noun = what == OPC_APPROVALS ? "approval" : "alert";
    long long total = json_is_integer(count) ? (long long)json_integer_value(count) : t.n;
    if (!t.n) fprintf(out, "no %ss\n", noun);
    else table_print(out, &t, what == OPC_APPROVALS ? ah : lh);
    if (total > t.n) fprintf(out, "... %lld %ss in all; --json for every one\n", total, noun);
    for (int r = 0; r < t.n; r++)
        for (int c = 0; c < t.ncols; c++) free(t.cell[r][c]);
    return 0;
}

/* Appends ?k=v&... for the values given, escaped. */
static void query(char *path, size_t n, const char *k1, const char *v1, const char *k2, const char *v2)
{
    CURL *h = curl_easy_init();
    const char *ks[2] = { k1, k2 }, *vs[2] = { v1, v2 };
    int first = 1;
    for (int i = 0; i < 2 && h; i++) {
        if (!vs[i]) continue;
        char *e = curl_easy_escape(h, vs[i], 0);
        if (!e) continue;
        size_t l = strlen(path);
        snprintf(path + l, n - l, "%c%s=%s", first ? '?' : '&', ks[i], e);
        first = 0;
        curl_free(e);
    }
    if (h) curl_easy_cleanup(h);
}

int opc_list(const OpcConfig *c, OpcWhat what, const char *state, const char *entity, FILE *out, FILE *err)
{
    char path[1200], why[2200];
    snprintf(path, sizeof path, "%s", what == OPC_APPROVALS ? "/v1/approvals" : "/v1/alerts");
    query(path, sizeof path, "state", state, "entity", entity);
    Body b = { 0 };
    long st = request(c, "GET", path, NULL, &b, why, sizeof why);
    int rc;
    if (!st) { fprintf(err, "dnad: %s\n", why); rc = 2; }
    else if (st != 200) { api_error(err, st, &b); rc = st == 401 || st == 400 || st == 404 ? 1 : 2; }
    else if (c->json) { fwrite(b.p, 1, b.n, out); if (!b.n || b.p[b.n - 1] != '\n') fputc('\n', out); rc = 0; }
    else {
        JsonError je;
        json_t *o = dna_json_parse(b.p, b.n, &je);
        if (!o) { fprintf(err, "dnad: the daemon's answer is not JSON\n"); rc = 2; }
        else rc = print_list(what, o, out);
        json_decref(o);
    }
    body_free(&b);
    return rc;
}

int opc_act(const OpcConfig *c, OpcWhat what, const char *id, const char *verb, const char *by, FILE *out, FILE *err)
{
    char path[256], why[2200];
    for (const char *p = id; *p; p++)
        if (*p < '0' || *p > '9' || p - id > 18) { fprintf(err, "dnad: '%s' is not an id (a number)\n", id); return 2; }
    if (!*id) { fprintf(err, "dnad: no id given\n"); return 2; }
    snprintf(path, sizeof path, "/v1/%s/%s/%s", what == OPC_APPROVALS ? "approvals" : "alerts", id, verb);
    JsonW w;
    jw_init(&w);
    jw_obj(&w);
    if (by) { jw_key(&w, "by"); jw_str(&w, by); }
    jw_end_obj(&w);
    Body b = { 0 };
    long st = w.p ? request(c, "POST", path, w.p, &b, why, sizeof why) : 0;
    if (!w.p) snprintf(why, sizeof why, "out of memory");
    jw_free(&w);
    int rc;
    const char *noun = what == OPC_APPROVALS ? "approval" : "alert";
    if (!st) { fprintf(err, "dnad: %s\n", why); rc = 2; }
    else if (st != 200 && st != 202) {
        if (st == 404) fprintf(err, "dnad: no %s %s (HTTP 404)\n", noun, id);
        else api_error(err, st, &b);
        rc = st >= 500 ? 2 : 1;
    } else if (c->json) { fwrite(b.p, 1, b.n, out); if (!b.n || b.p[b.n - 1] != '\n') fputc('\n', out); rc = 0; }
    else {
        JsonError je;
        json_t *o = dna_json_parse(b.p, b.n, &je);
        const char *ev = o ? jstr(o, "event") : NULL;
        const char *done = !strcmp(verb, "ack") ? "acknowledged" : !strcmp(verb, "approve") ? "approved" : "rejected";
        if (st == 200)
            fprintf(out, "%s %s: %s before, not processed yet (event %s)\n", noun, id, done, ev ? ev : "?");
        else
            fprintf(out, "%s %s: %s (event %s)\n", noun, id, done, ev ? ev : "?");
        json_decref(o);
        rc = 0;
    }
    body_free(&b);
    return rc;
}
