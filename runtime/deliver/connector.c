/*
 * connector.c - connector settings, request builders, verdicts, backoff,
 * rate limit and circuit breaker (connector.h).  Pure: no I/O, no clock.
 *
 * Bodies are built with jansson (compact, keys in insertion order); the
 * HMAC and base64 are OpenSSL's; HTTP-dates are parsed by curl_getdate.
 */
#include "deliver/connector.h"
#include "base/clock.h"
#include "base/json.h"
#include "base/mem.h"

#include <ctype.h>
#include <curl/curl.h>
#include <jansson.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define ERR(...) do { if (err && errlen) snprintf(err, errlen, __VA_ARGS__); } while (0)

/* ---- settings ------------------------------------------------------------------- */

uint32_t conn_find(const DnaBundle *b, const char *name)
{
    for (uint32_t i = 0; i < b->nconnectors; i++)
        if (!strcmp(bundle_str(b, b->connectors[i].name), name)) return i;
    return DNA_NIL;
}

const char *conn_kind_name(ConnKind k)
{
    static const char *const names[] = { "slack_webhook", "webhook", "rest" };
    return (unsigned)k < 3 ? names[k] : "?";
}

/* An env() setting: the variable's value (a copy), or NULL with err. */
static char *env_value(const DnaBundle *b, const DnaOpt *o, const char *cname, const char *what, int *bad, char *err,
                       size_t errlen)
{
    if (o->env == DNA_NIL) {
        if (!*bad) ERR("connector '%s': %s must come from env(\"NAME\")", cname, what);
        *bad = 1;
        return NULL;
    }
    const char *var = bundle_str(b, o->env);
    const char *v = getenv(var);
    if (!v || !*v) {
        if (!*bad) ERR("connector '%s': environment variable %s (its %s) is not set", cname, var, what);
        *bad = 1;
        return NULL;
    }
    return dna_ustrdup(v);
}

static int64_t konst_int(const DnaBundle *b, const DnaOpt *o, int *type)
{
    if (o->konst == DNA_NIL || o->konst >= b->nconsts) { *type = -1; return 0; }
    *type = b->consts[o->konst].type;
    return b->consts[o->konst].i;
}

int conn_config(const DnaBundle *b, uint32_t ci, ConnCfg *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    out->timeout_ms = CONN_TIMEOUT_MS;
    out->retries = CONN_RETRIES;
    out->rate_burst = 1;
    if (ci >= b->nconnectors) { ERR("no connector %u", ci); return -1; }
    const DnaConnector *c = &b->connectors[ci];
    const char *cname = bundle_str(b, c->name);
    out->name = dna_ustrdup(cname);
    const char *kind = bundle_str(b, c->kind);
    int bad = 0;
    if (!strcmp(kind, "slack_webhook")) out->kind = CONN_SLACK;
    else if (!strcmp(kind, "webhook")) out->kind = CONN_WEBHOOK;
    else if (!strcmp(kind, "rest")) out->kind = CONN_REST;
    else { ERR("connector '%s': unknown kind '%s'", cname, kind); bad = 1; }
    int has_url = 0;
    for (uint32_t i = 0; i < c->nopts && c->opt + i < b->nopts; i++) {
        const DnaOpt *o = &b->opts[c->opt + i];
        const char *key = bundle_str(b, o->key);
        const char *word = o->word != DNA_NIL ? bundle_str(b, o->word) : "";
        int t;
        if (!strcmp(key, "url") || !strcmp(key, "base")) {
            has_url = 1;
            dna_ufree(out->url);
            out->url = env_value(b, o, cname, key, &bad, err, errlen);
        } else if (!strcmp(key, "sign")) {
            dna_ufree(out->secret);
            out->secret = env_value(b, o, cname, "signing secret", &bad, err, errlen);
        } else if (!strcmp(key, "auth")) {
            out->auth = !strcmp(word, "basic") ? CONN_AUTH_BASIC : CONN_AUTH_BEARER;
            dna_ufree(out->token);
            out->token = env_value(b, o, cname, "credential", &bad, err, errlen);
        } else if (!strcmp(key, "rate")) {
            int64_t n = konst_int(b, o, &t);
            int64_t unit = !strcmp(word, "second") ? 1000 : !strcmp(word, "minute") ? 60000
                         : !strcmp(word, "hour") ? 3600000 : 0;
            if (t == DT_DEC) unit *= 1000;          /* thousandths per period */
            else if (t != DT_INT) unit = 0;
            if (n <= 0 || !unit) {
                if (!bad) ERR("connector '%s': bad rate", cname);
                bad = 1;
            } else {
                out->rate_n = n;
                out->rate_period_ms = unit;
            }
        } else if (!strcmp(key, "timeout")) {
            int64_t ms = konst_int(b, o, &t);
            if (t != DT_DUR || ms <= 0) { if (!bad) ERR("connector '%s': bad timeout", cname); bad = 1; }
            else out->timeout_ms = ms;
        } else if (!strcmp(key, "retries")) {
            int64_t n = konst_int(b, o, &t);
            if (t != DT_INT || n < 1 || n > 1000) { if (!bad) ERR("connector '%s': retries must be 1..1000", cname); bad = 1; }
            else out->retries = (int)n;
        }
        /* settings the checker knows but delivery does not use are ignored */
    }
    if (!has_url && !bad) {
        ERR("connector '%s' has no %s", cname, out->kind == CONN_REST ? "base" : "url");
        bad = 1;
    }
    return bad ? -1 : 0;
}

void conn_config_free(ConnCfg *c)
{
    if (!c) return;
    dna_ufree(c->name);
    dna_ufree(c->url);
    if (c->secret) { memset(c->secret, 0, strlen(c->secret)); dna_ufree(c->secret); }
    if (c->token) { memset(c->token, 0, strlen(c->token)); dna_ufree(c->token); }
    memset(c, 0, sizeof *c);
}

/* ---- requests ------------------------------------------------------------------- */

void conn_req_free(ConnReq *r)
{
    if (!r) return;
    free(r->url);
    for (size_t i = 0; i < r->nheaders; i++) free(r->headers[i]);
    free(r->headers);
    free(r->body);
    memset(r, 0, sizeof *r);
}

const char *conn_req_header(const ConnReq *r, const char *name)
{
    size_t n = strlen(name);
    for (size_t i = 0; i < r->nheaders; i++)
        if (!strncasecmp(r->headers[i], name, n) && r->headers[i][n] == ':')
            return r->headers[i] + n + 1 + (r->headers[i][n + 1] == ' ');
    return NULL;
}

static int add_header(ConnReq *r, const char *fmt, ...)
{
    char **h = realloc(r->headers, sizeof(char *) * (r->nheaders + 1));
    if (!h) return -1;
    r->headers = h;
    va_list ap;
    va_start(ap, fmt);
    int n = vasprintf(&h[r->nheaders], fmt, ap);
    va_end(ap);
    if (n < 0) return -1;
    /* no header injection through a key or a secret */
    for (char *p = h[r->nheaders]; *p; p++) if (*p == '\r' || *p == '\n') *p = ' ';
    r->nheaders++;
    return 0;
}

static int common_headers(ConnReq *r, const char *key)
{
    if (add_header(r, "Content-Type: application/json")) return -1;
    if (key && *key && add_header(r, "Idempotency-Key: %s", key)) return -1;
    return 0;
}

static int set_body(ConnReq *r, json_t *doc)
{
    r->body = json_dumps(doc, JSON_COMPACT | JSON_PRESERVE_ORDER);
    if (!r->body) return -1;
    r->bodylen = strlen(r->body);
    return 0;
}

static json_t *parse(const char *s, size_t n)
{
    JsonError je;
    return s ? dna_json_parse(s, n, &je) : NULL;      /* an escaped NUL is kept inside strings */
}

/* The entity state: the API answer's "state", or the object itself. */
static json_t *state_of(json_t *ent)
{
    if (!json_is_object(ent)) return NULL;
    json_t *s = json_object_get(ent, "state");
    return json_is_object(s) ? s : ent;
}

static const char *jstr(json_t *o, const char *k)
{
    return json_string_value(json_object_get(o, k));
}

/* Slack's three escapes. */
static char *slack_escape(const char *s, size_t max)
{
    size_t n = 0;
    for (const char *p = s; *p; p++) n += *p == '&' ? 5 : (*p == '<' || *p == '>') ? 4 : 1;
    char *o = malloc(n + 4);
    if (!o) return NULL;
    size_t k = 0;
    for (const char *p = s; *p; p++) {
        const char *rep = *p == '&' ? "&amp;" : *p == '<' ? "&lt;" : *p == '>' ? "&gt;" : NULL;
        size_t rl = rep ? strlen(rep) : 1;
        if (k + rl > max) {                         /* cut at a character boundary, mark it */
            if (((unsigned char)*p & 0xC0) == 0x80) {
                while (k > 0 && ((unsigned char)o[k - 1] & 0xC0) == 0x80) k--;
                if (k > 0) k--;                     /* the lead byte */
            }
            memcpy(o + k, "\xe2\x80\xa6", 3);       /* … */
            k += 3;
            break;
        }
        if (rep) memcpy(o + k, rep, rl); else o[k] = *p;
        k += rl;
    }
    o[k] = 0;
    return o;
}

/* A number as people read it: 87, 87.5, 12.345. */
static void num_text(json_t *v, char *buf, size_t n)
{
    if (json_is_integer(v)) snprintf(buf, n, "%lld", (long long)json_integer_value(v));
    else if (json_is_real(v)) {
        snprintf(buf, n, "%.3f", json_real_value(v));
        char *dot = strchr(buf, '.');
        if (dot) {
            char *e = buf + strlen(buf);
            while (e > dot + 1 && e[-1] == '0') *--e = 0;
            if (e == dot + 1) *dot = 0;
        }
    } else if (json_is_string(v)) snprintf(buf, n, "%s", json_string_value(v));
    else snprintf(buf, n, "-");
}

static int add_field(json_t *fields, const char *label, const char *value)
{
    char *esc = slack_escape(value, 1900);
    if (!esc) return -1;
    char *t = NULL;
    int n = asprintf(&t, "*%s*\n%s", label, esc);
    free(esc);
    if (n < 0) return -1;
    json_t *f = json_pack("{s:s, s:s}", "type", "mrkdwn", "text", t);
    free(t);
    return json_array_append_new(fields, f);
}

typedef struct Pt { const char *k; double v; } Pt;
static int pt_cmp(const void *a, const void *b)
{
    const Pt *x = a, *y = b;
    return x->v < y->v ? 1 : x->v > y->v ? -1 : strcmp(x->k, y->k);
}

/* "pricing 40 · demo 25": the categories with points, most first. */
static void points_text(json_t *pts, char *buf, size_t n)
{
    Pt v[32];
    size_t k = 0;
    const char *key;
    json_t *val;
    json_object_foreach(pts, key, val) {
        if (k < 32 && json_is_number(val) && json_number_value(val) != 0) v[k++] = (Pt){ key, json_number_value(val) };
    }
    qsort(v, k, sizeof *v, pt_cmp);
    size_t used = 0;
    buf[0] = 0;
    for (size_t i = 0; i < k && used < n; i++) {
        char num[32];
        json_t *r = json_real(v[i].v);
        num_text(r, num, sizeof num);
        json_decref(r);
        used += (size_t)snprintf(buf + used, n - used, "%s%s %s", i ? " \xc2\xb7 " : "", v[i].k, num);
    }
}

static int icontains(const char *s, const char *needle)
{
    size_t n = strlen(needle);
    for (; s && *s; s++) if (!strncasecmp(s, needle, n)) return 1;
    return 0;
}

static json_t *entity_fields(json_t *st, const char *message)
{
    json_t *fields = json_array();
    char buf[512];
    json_t *score = json_object_get(st, "score");
    if (json_is_object(score)) {
        num_text(json_object_get(score, "total"), buf, sizeof buf);
        add_field(fields, "Score", buf);
    }
    json_t *grade = json_object_get(st, "grade");
    if (grade) {
        if (json_is_null(grade)) snprintf(buf, sizeof buf, "-"); else num_text(grade, buf, sizeof buf);
        add_field(fields, "Grade", buf);
    }
    json_t *intent = json_object_get(st, "intent");
    if (json_is_object(intent)) {
        const char *prim = jstr(intent, "primary");
        json_t *conf = json_object_get(intent, "confidence");
        if (prim && json_is_number(conf)) {
            double c = json_number_value(conf);
            snprintf(buf, sizeof buf, "%s (%.0f%%)", prim, c <= 1.0 ? c * 100.0 : c);
        } else snprintf(buf, sizeof buf, "%s", prim ? prim : "-");
        add_field(fields, "Intent", buf);
    }
    json_t *owner = json_object_get(st, "owner");
    const char *os = json_string_value(owner);
    if (owner || json_object_get(st, "entity")) add_field(fields, "Owner", os && *os ? os : "unassigned");
    /* a routing decision needs the intent points */
    json_t *pts = json_is_object(intent) ? json_object_get(intent, "points") : NULL;
    if (json_is_object(pts) && json_object_size(pts) && (!os || !*os || icontains(message, "routing"))) {
        points_text(pts, buf, sizeof buf);
        if (*buf) add_field(fields, "Intent points", buf);
    }
    if (!json_array_size(fields)) { json_decref(fields); return NULL; }
    return fields;
}

int conn_slack(const ConnCfg *c, const char *effect_line, size_t len, const char *entity_json, const char *key,
               ConnReq *req, char *err, size_t errlen)
{
    memset(req, 0, sizeof *req);
    json_t *ef = parse(effect_line, len), *ent = NULL, *doc = NULL;
    json_t *detail = json_object_get(ef, "detail");
    const char *msg = jstr(detail, "message");
    int rc = -1;
    char synth[512];
    if (!c->url) { ERR("connector '%s' has no url", c->name ? c->name : "?"); goto out; }
    if (!json_is_object(ef) || !json_is_object(detail)) { ERR("the effect is not an effect line"); goto out; }
    if (!msg) {                 /* not a notification: say what happened in one line */
        const char *kind = jstr(ef, "kind"), *ekey = jstr(json_object_get(ef, "entity"), "key");
        if (kind && !strcmp(kind, "sequence_step"))
            snprintf(synth, sizeof synth, "Sequence %s, step %lld of %lld (%s) for %s", jstr(detail, "sequence") ? jstr(detail, "sequence") : "?",
                     (long long)json_integer_value(json_object_get(detail, "step")), (long long)json_integer_value(json_object_get(detail, "of")),
                     jstr(detail, "channel") ? jstr(detail, "channel") : "?", ekey ? ekey : "?");
        else if (jstr(detail, "event"))
            snprintf(synth, sizeof synth, "%s for %s", jstr(detail, "event"), ekey ? ekey : "?");
        else snprintf(synth, sizeof synth, "%s for %s", kind ? kind : "effect", ekey ? ekey : "?");
        msg = synth;
    }
    char *text = slack_escape(msg, 3000);               /* Slack's section text limit */
    char *full = slack_escape(msg, 39000);
    if (!text || !full) { free(text); free(full); ERR("out of memory"); goto out; }
    doc = json_object();
    json_object_set_new(doc, "text", json_string(full));
    free(full);
    const char *ch = jstr(detail, "channel");
    if (ch && *ch) json_object_set_new(doc, "channel", json_string(ch));
    json_t *blocks = json_array();
    json_array_append_new(blocks, json_pack("{s:s, s:{s:s, s:s}}", "type", "section", "text", "type", "mrkdwn",
                                            "text", text));
    free(text);
    json_t *moment = json_object_get(detail, "state");   /* the values of the moment the rule fired */
    if (json_is_object(moment)) {
        json_t *fields = entity_fields(moment, msg);
        if (fields) json_array_append_new(blocks, json_pack("{s:s, s:o}", "type", "section", "fields", fields));
    } else if (entity_json) {
        ent = parse(entity_json, strlen(entity_json));
        json_t *st = state_of(ent);
        if (!st) { ERR("the entity state is not a JSON object"); json_decref(blocks); goto out; }
        json_t *fields = entity_fields(st, msg);
        if (fields) json_array_append_new(blocks, json_pack("{s:s, s:o}", "type", "section", "fields", fields));
    }
    const char *rule = jstr(ef, "rule");
    json_t *er = json_object_get(ef, "entity");
    const char *ekind = jstr(er, "kind"), *ekey = jstr(er, "key");
    if (rule || ekey) {
        char ctx[1024];
        size_t u = 0;
        if (rule) u += (size_t)snprintf(ctx, sizeof ctx, "rule `%s`", rule);
        if (ekey && u < sizeof ctx)
            snprintf(ctx + u, sizeof ctx - u, "%s%s `%s`", u ? " \xc2\xb7 " : "", ekind ? ekind : "entity", ekey);
        char *esc = slack_escape(ctx, 1900);
        if (esc) json_array_append_new(blocks, json_pack("{s:s, s:[{s:s, s:s}]}", "type", "context", "elements",
                                                         "type", "mrkdwn", "text", esc));
        free(esc);
    }
    json_object_set_new(doc, "blocks", blocks);
    req->verb = "POST";
    req->url = strdup(c->url);
    if (!req->url || set_body(req, doc) || common_headers(req, key)) { ERR("out of memory"); goto out; }
    rc = 0;
out:
    json_decref(ef);
    json_decref(ent);
    json_decref(doc);
    if (rc) conn_req_free(req);
    return rc;
}

/* ---- signing ---------------------------------------------------------------------- */

int conn_sign(const char *secret, const char *id, const char *ts, const char *body, size_t len, char *out,
              size_t outlen)
{
    unsigned char keybuf[512];
    const unsigned char *k;
    int kn;
    if (!secret || !*secret || outlen < 64) return -1;
    if (!strncmp(secret, "whsec_", 6)) {
        const char *b64 = secret + 6;
        size_t n = strlen(b64);
        if (n == 0 || n % 4 || n / 4 * 3 > sizeof keybuf) return -1;
        kn = EVP_DecodeBlock(keybuf, (const unsigned char *)b64, (int)n);
        if (kn < 0) return -1;
        if (b64[n - 1] == '=') kn--;
        if (b64[n - 2] == '=') kn--;
        if (kn <= 0) return -1;
        k = keybuf;
    } else {
        k = (const unsigned char *)secret;
        kn = (int)strlen(secret);
    }
    size_t il = strlen(id), tl = strlen(ts);
    unsigned char *msg = malloc(il + tl + len + 2);
    if (!msg) return -1;
    memcpy(msg, id, il);
    msg[il] = '.';
    memcpy(msg + il + 1, ts, tl);
    msg[il + 1 + tl] = '.';
    if (len) memcpy(msg + il + tl + 2, body, len);
    unsigned char mac[EVP_MAX_MD_SIZE];
    unsigned int mn = 0;
    unsigned char *ok = HMAC(EVP_sha256(), k, kn, msg, il + tl + len + 2, mac, &mn);
    free(msg);
    memset(keybuf, 0, sizeof keybuf);
    if (!ok) return -1;
    /* base64 of 32 bytes: 44 characters + NUL, after "v1," */
    memcpy(out, "v1,", 3);
    EVP_EncodeBlock((unsigned char *)out + 3, mac, (int)mn);
    return 0;
}

int conn_webhook(const ConnCfg *c, const char *effect_line, size_t len, const char *entity_json, const char *key,
                 int64_t now_ms, ConnReq *req, char *err, size_t errlen)
{
    memset(req, 0, sizeof *req);
    json_t *ef = parse(effect_line, len), *ent = NULL, *doc = NULL;
    json_t *detail = json_object_get(ef, "detail");
    int rc = -1;
    if (!c->url) { ERR("connector '%s' has no url", c->name ? c->name : "?"); goto out; }
    if (!key || !*key) { ERR("a webhook needs an idempotency key (its webhook-id)"); goto out; }
    if (!json_is_object(ef) || !json_is_object(detail)) { ERR("the effect is not an effect line"); goto out; }
    /* a `webhook` effect names its event; any other effect routed to a
     * webhook connector (a sequence step, a notification) is typed by its
     * kind, e.g. "sequence.email", "notify" */
    char tbuf[128];
    const char *type = jstr(detail, "event"), *kind = jstr(ef, "kind");
    if (!type && kind && !strcmp(kind, "sequence_step") && jstr(detail, "channel")) {
        snprintf(tbuf, sizeof tbuf, "sequence.%s", jstr(detail, "channel"));
        type = tbuf;
    } else if (!type) type = kind;
    if (!type) { ERR("the effect has neither an event nor a kind"); goto out; }
    json_t *data = json_object();
    if (!jstr(detail, "event")) json_object_set(data, "detail", detail);
    json_t *er = json_object_get(ef, "entity");
    json_object_set(data, "entity", json_is_object(er) ? er : json_null());
    if (jstr(ef, "rule")) json_object_set(data, "rule", json_object_get(ef, "rule"));
    if (jstr(ef, "at")) json_object_set(data, "effect_at", json_object_get(ef, "at"));
    if (entity_json) {
        ent = parse(entity_json, strlen(entity_json));
        json_t *st = state_of(ent);
        if (!st) { ERR("the entity state is not a JSON object"); json_decref(data); goto out; }
        const char *k;
        json_t *v;
        json_object_foreach(st, k, v) {
            if (!strcmp(k, "entity") || !strcmp(k, "key") || json_object_get(data, k)) continue;
            json_object_set(data, k, v);
        }
    }
    char ts[32];
    clk_format(now_ms, ts);
    doc = json_pack("{s:s, s:s, s:s, s:o}", "type", type, "id", key, "timestamp", ts, "data", data);
    req->verb = "POST";
    req->url = strdup(c->url);
    if (!doc || !req->url || set_body(req, doc) || common_headers(req, key)) { ERR("out of memory"); goto out; }
    if (c->secret) {
        char secs[24], sig[128];
        snprintf(secs, sizeof secs, "%lld", (long long)(now_ms / 1000));
        if (conn_sign(c->secret, key, secs, req->body, req->bodylen, sig, sizeof sig)) {
            ERR("connector '%s': the signing secret is not usable (whsec_ needs base64 after the prefix)", c->name);
            goto out;
        }
        if (add_header(req, "webhook-id: %s", key) || add_header(req, "webhook-timestamp: %s", secs) ||
            add_header(req, "webhook-signature: %s", sig)) { ERR("out of memory"); goto out; }
    }
    rc = 0;
out:
    json_decref(ef);
    json_decref(ent);
    json_decref(doc);
    if (rc) conn_req_free(req);
    return rc;
}

int conn_rest(const ConnCfg *c, const char *verb, const char *path, const char *body, size_t blen, const char *key,
              ConnReq *req, char *err, size_t errlen)
{
    static const char *const verbs[] = { "GET", "POST", "PUT", "PATCH", "DELETE" };
    memset(req, 0, sizeof *req);
    for (size_t i = 0; i < 5 && verb; i++) if (!strcasecmp(verb, verbs[i])) req->verb = verbs[i];
    if (!req->verb) { ERR("unknown HTTP method '%s'", verb ? verb : "(null)"); return -1; }
    if (!c->url) { ERR("connector '%s' has no base", c->name ? c->name : "?"); return -1; }
    if (!path) path = "";
    size_t bl = strlen(c->url);
    while (bl && c->url[bl - 1] == '/') bl--;
    while (*path == '/') path++;
    if (asprintf(&req->url, "%.*s/%s", (int)bl, c->url, path) < 0) { req->url = NULL; goto oom; }
    if (body) {
        req->body = malloc(blen + 1);
        if (!req->body) goto oom;
        memcpy(req->body, body, blen);
        req->body[blen] = 0;
        req->bodylen = blen;
    }
    if (common_headers(req, key)) goto oom;
    if (c->token && c->auth == CONN_AUTH_BASIC) {
        size_t tl = strlen(c->token);
        char *b64 = malloc(4 * ((tl + 2) / 3) + 1);
        if (!b64) goto oom;
        EVP_EncodeBlock((unsigned char *)b64, (const unsigned char *)c->token, (int)tl);
        int bad = add_header(req, "Authorization: Basic %s", b64);
        free(b64);
        if (bad) goto oom;
    } else if (c->token && add_header(req, "Authorization: Bearer %s", c->token)) goto oom;
    return 0;
oom:
    ERR("out of memory");
    conn_req_free(req);
    return -1;
}

/* ---- verdicts ------------------------------------------------------------------------ */

const char *conn_verdict_name(ConnVerdict v)
{
    static const char *const names[] = {
#define X(n, s) s,
        CONN_VERDICTS(X)
#undef X
    };
    return (unsigned)v < sizeof names / sizeof *names ? names[v] : "?";
}

int conn_verdict_ok_for_breaker(ConnVerdict v)
{
    return v != CONN_RETRY;
}

/* Retry-After: delta-seconds or an HTTP-date; -1 when unusable. */
static int64_t retry_after_at(const char *h, int64_t now_ms)
{
    while (*h == ' ' || *h == '\t') h++;
    if (!*h) return -1;
    int64_t at;
    if (isdigit((unsigned char)*h)) {
        const char *p = h;
        int64_t s = 0;
        while (isdigit((unsigned char)*p)) {
            if (s < CONN_RETRY_AFTER_MAX_MS) s = s * 10 + (*p - '0');
            p++;
        }
        while (*p == ' ' || *p == '\t') p++;
        if (!*p) {
            at = now_ms + (s > CONN_RETRY_AFTER_MAX_MS / 1000 ? CONN_RETRY_AFTER_MAX_MS : s * 1000);
            goto clamp;
        }
    }
    time_t t = curl_getdate(h, NULL);
    if (t == (time_t)-1) return -1;
    at = (int64_t)t * 1000;
clamp:
    if (at < now_ms) at = now_ms;
    if (at > now_ms + CONN_RETRY_AFTER_MAX_MS) at = now_ms + CONN_RETRY_AFTER_MAX_MS;
    return at;
}

ConnVerdict conn_judge(long http_status, int transport_error, const char *retry_after, int64_t now_ms,
                       int64_t *not_before_ms)
{
    if (not_before_ms) *not_before_ms = 0;
    ConnVerdict v;
    if (transport_error || http_status < 100) v = CONN_RETRY;
    else if (http_status < 200) v = CONN_FAIL;          /* a final 1xx is nonsense */
    else if (http_status < 300) v = CONN_SENT;
    else if (http_status == 410) v = CONN_GONE;
    else if (http_status == 408 || http_status == 429 || http_status >= 500) v = CONN_RETRY;
    else v = CONN_FAIL;
    if (v == CONN_RETRY && !transport_error && retry_after && not_before_ms) {
        int64_t at = retry_after_at(retry_after, now_ms);
        if (at >= 0) *not_before_ms = at;
    }
    return v;
}

/* ---- backoff --------------------------------------------------------------------------- */

uint64_t conn_rand(uint64_t *rng)      /* splitmix64 */
{
    uint64_t z = (*rng += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

int64_t conn_backoff_ms(int attempt, uint64_t *rng)
{
    if (attempt < 1) attempt = 1;
    int64_t e = CONN_BACKOFF_MAX_MS;
    if (attempt <= 30) {
        e = (int64_t)CONN_BACKOFF_BASE_MS << (attempt - 1);
        if (e > CONN_BACKOFF_MAX_MS) e = CONN_BACKOFF_MAX_MS;
    }
    int64_t half = e / 2;
    return half + (int64_t)(conn_rand(rng) % (uint64_t)(e - half + 1));
}

/* ---- rate limit ------------------------------------------------------------------------- */

void conn_rate_init(ConnRate *r, int64_t per, int64_t period_ms, int burst)
{
    memset(r, 0, sizeof *r);
    if (per <= 0 || period_ms <= 0) return;             /* no limit */
    r->per = per;
    r->period_ms = period_ms;
    r->cap = (int64_t)(burst < 1 ? 1 : burst) * period_ms;
    r->credit = r->cap;
}

int64_t conn_rate_take(ConnRate *r, int64_t now_ms)
{
    if (!r->per) return 0;
    if (!r->started) { r->started = 1; r->last = now_ms; }
    int64_t dt = now_ms - r->last;
    if (dt > 0) {
        /* credit += dt * per, without overflow */
        if (dt >= (r->cap - r->credit) / r->per + 1) r->credit = r->cap;
        else r->credit += dt * r->per;
        if (r->credit > r->cap) r->credit = r->cap;
        r->last = now_ms;
    }
    if (r->credit >= r->period_ms) {
        r->credit -= r->period_ms;
        return 0;
    }
    int64_t need = r->period_ms - r->credit;
    return (need + r->per - 1) / r->per;
}

/* ---- circuit breaker --------------------------------------------------------------------- */

void conn_breaker_init(ConnBreaker *br, int64_t window_ms, int min_requests, int fail_pct, int64_t cooldown_ms,
                       int64_t cooldown_max_ms)
{
    memset(br, 0, sizeof *br);
    br->window_ms = window_ms > 0 ? window_ms : CONN_BREAKER_WINDOW_MS;
    if (br->window_ms < CONN_BREAKER_BUCKETS) br->window_ms = CONN_BREAKER_BUCKETS;
    br->min_requests = min_requests > 0 ? min_requests : CONN_BREAKER_MIN_REQUESTS;
    br->fail_pct = fail_pct > 0 && fail_pct <= 100 ? fail_pct : CONN_BREAKER_FAIL_PCT;
    br->cooldown_base_ms = cooldown_ms > 0 ? cooldown_ms : CONN_BREAKER_COOLDOWN_MS;
    br->cooldown_max_ms = cooldown_max_ms > 0 ? cooldown_max_ms : CONN_BREAKER_COOLDOWN_MAX_MS;
    if (br->cooldown_max_ms < br->cooldown_base_ms) br->cooldown_max_ms = br->cooldown_base_ms;
    br->cooldown_ms = br->cooldown_base_ms;
    br->state = CONN_CLOSED;
    for (int i = 0; i < CONN_BREAKER_BUCKETS; i++) br->b[i].epoch = INT64_MIN;
}

static void window_clear(ConnBreaker *br)
{
    for (int i = 0; i < CONN_BREAKER_BUCKETS; i++) br->b[i].epoch = INT64_MIN, br->b[i].ok = br->b[i].fail = 0;
}

static int64_t floor_div(int64_t a, int64_t b)
{
    return a / b - (a % b != 0 && (a < 0) != (b < 0));
}

static void open_now(ConnBreaker *br, int64_t now)
{
    br->state = CONN_OPEN;
    br->open_until = now + br->cooldown_ms;
    br->probe_out = 0;
    br->trips++;
}

ConnBreakerState conn_breaker_state(const ConnBreaker *br, int64_t now)
{
    if (br->state == CONN_OPEN && now >= br->open_until) return CONN_HALF_OPEN;
    return br->state;
}

const char *conn_breaker_state_name(ConnBreakerState s)
{
    static const char *const names[] = { "closed", "open", "half_open" };
    return (unsigned)s < 3 ? names[s] : "?";
}

int64_t conn_breaker_retry_at(const ConnBreaker *br)
{
    return br->state == CONN_OPEN ? br->open_until : 0;
}

int conn_breaker_allow(ConnBreaker *br, int64_t now)
{
    if (br->state == CONN_OPEN) {
        if (now < br->open_until) return 0;
        br->state = CONN_HALF_OPEN;
        br->probe_out = 0;
    }
    if (br->state == CONN_HALF_OPEN) {
        if (br->probe_out) return 0;
        br->probe_out = 1;
        return 1;
    }
    return 1;
}

void conn_breaker_record(ConnBreaker *br, int64_t now, int ok)
{
    if (br->state == CONN_OPEN) return;
    if (br->state == CONN_HALF_OPEN) {
        if (!br->probe_out) return;                     /* not the probe's answer */
        if (ok) {
            br->state = CONN_CLOSED;
            br->probe_out = 0;
            br->cooldown_ms = br->cooldown_base_ms;
            window_clear(br);
        } else {
            br->cooldown_ms = br->cooldown_ms > br->cooldown_max_ms / 2 ? br->cooldown_max_ms : br->cooldown_ms * 2;
            open_now(br, now);
        }
        return;
    }
    int64_t bw = br->window_ms / CONN_BREAKER_BUCKETS;
    int64_t ep = floor_div(now, bw);
    int i = (int)(((ep % CONN_BREAKER_BUCKETS) + CONN_BREAKER_BUCKETS) % CONN_BREAKER_BUCKETS);
    if (br->b[i].epoch != ep) br->b[i].epoch = ep, br->b[i].ok = br->b[i].fail = 0;
    if (ok) br->b[i].ok++; else br->b[i].fail++;
    uint64_t total = 0, fails = 0;
    for (int k = 0; k < CONN_BREAKER_BUCKETS; k++)
        if (br->b[k].epoch != INT64_MIN && br->b[k].epoch > ep - CONN_BREAKER_BUCKETS && br->b[k].epoch <= ep) {
            total += br->b[k].ok + br->b[k].fail;
            fails += br->b[k].fail;
        }
    if (total >= (uint64_t)br->min_requests && fails * 100 >= total * (uint64_t)br->fail_pct) {
        window_clear(br);
        open_now(br, now);
    }
}
