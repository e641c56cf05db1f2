/*
 * webhook.c - source webhooks: signatures and maps (webhook.h).
 */
#include "serve/webhook.h"
#include "base/clock.h"
#include "base/json.h"
#include "base/mem.h"
#include "bundle/ops.h"
#include "vm/vm.h"

#include <ctype.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define WHY(...) do { snprintf(why, wl, __VA_ARGS__); } while (0)
#define WH_TS_DIGITS 12             /* webhook-timestamp: seconds up to the year 33658 */

const DnaSource *wh_find(const DnaBundle *b, const char *name)
{
    for (uint32_t i = 0; i < b->nsources; i++)
        if (!strcmp(bundle_str(b, b->sources[i].name), name)) return &b->sources[i];
    return NULL;
}

static const DnaOpt *opt_get(const DnaBundle *b, const DnaSource *s, const char *key)
{
    for (uint32_t i = 0; i < s->nopts; i++) {
        const DnaOpt *o = &b->opts[s->opt + i];
        if (!strcmp(bundle_str(b, o->key), key)) return o;
    }
    return NULL;
}

/* A setting's string: a word, a constant string; NULL if none. */
static const char *opt_str(const DnaBundle *b, const DnaSource *s, const char *key)
{
    const DnaOpt *o = opt_get(b, s, key);
    if (!o) return NULL;
    if (o->word != DNA_NIL) return bundle_str(b, o->word);
    if (o->konst != DNA_NIL && o->konst < b->nconsts && b->consts[o->konst].type == DT_STR)
        return bundle_str(b, b->consts[o->konst].str);
    return NULL;
}

const char *wh_secret_env(const DnaBundle *b, const DnaSource *s)
{
    const DnaOpt *o = opt_get(b, s, "signature.secret");
    return o && o->env != DNA_NIL ? bundle_str(b, o->env) : "";
}

int wh_tolerance_ignored(const DnaBundle *b, const DnaSource *s)
{
    const char *scheme = opt_str(b, s, "signature");
    return opt_get(b, s, "tolerance") && (!scheme || strcmp(scheme, "standard_webhooks"));
}

/* ---- signatures ---------------------------------------------------------------- */

static int b64_decode(const char *in, size_t n, unsigned char *out, size_t cap)
{
    while (n && (in[n - 1] == ' ' || in[n - 1] == '\n' || in[n - 1] == '\r')) n--;
    if (n % 4 || (n / 4) * 3 > cap || n == 0) return -1;
    int len = EVP_DecodeBlock(out, (const unsigned char *)in, (int)n);
    if (len < 0) return -1;
    if (in[n - 1] == '=') len--;
    if (in[n - 2] == '=') len--;
    return len;
}

static int hex_decode(const char *in, size_t n, unsigned char *out, size_t cap)
{
    if (n % 2 || n / 2 > cap) return -1;
    for (size_t i = 0; i < n / 2; i++) {
        int hi = isxdigit((unsigned char)in[2 * i]) ? (isdigit((unsigned char)in[2 * i]) ? in[2 * i] - '0' : (tolower((unsigned char)in[2 * i]) - 'a' + 10)) : -1;
        int lo = isxdigit((unsigned char)in[2 * i + 1]) ? (isdigit((unsigned char)in[2 * i + 1]) ? in[2 * i + 1] - '0' : (tolower((unsigned char)in[2 * i + 1]) - 'a' + 10)) : -1;
        if (hi < 0 || lo < 0) return -1;
        out[i] = (unsigned char)(hi << 4 | lo);
    }
    return (int)(n / 2);
}

int wh_hmac_check(const char *secret, const char *body, size_t len, const char *sig, const char *prefix, int base64,
                   char *why, size_t wl)
{
    if (!secret || !*secret) { WHY("the source's secret is not configured"); return -1; }
    if (!sig) { WHY("missing signature header"); return -1; }
    if (prefix && *prefix) {
        size_t pl = strlen(prefix);
        if (strncmp(sig, prefix, pl)) { WHY("the signature lacks the prefix '%s'", prefix); return -1; }
        sig += pl;
    }
    unsigned char want[EVP_MAX_MD_SIZE], got[64];
    unsigned int wn = 0;
    if (!HMAC(EVP_sha256(), secret, (int)strlen(secret), (const unsigned char *)body, len, want, &wn)) {
        WHY("HMAC failed");
        return -1;
    }
    int gn = base64 ? b64_decode(sig, strlen(sig), got, sizeof got) : hex_decode(sig, strlen(sig), got, sizeof got);
    if (gn < 0) { WHY("the signature is not %s", base64 ? "base64" : "hex"); return -1; }
    if ((unsigned)gn != wn || CRYPTO_memcmp(got, want, wn)) { WHY("wrong signature"); return -1; }
    return 0;
}

int wh_stdwh_check(const char *secret, const char *id, const char *ts, const char *sigs, const char *body, size_t len,
                    int64_t now_ms, int64_t tolerance_ms, char *why, size_t wl)
{
    if (!secret || !*secret) { WHY("the source's secret is not configured"); return -1; }
    if (!id || !*id) { WHY("missing webhook-id header"); return -1; }
    if (!ts || !*ts) { WHY("missing webhook-timestamp header"); return -1; }
    if (!sigs || !*sigs) { WHY("missing webhook-signature header"); return -1; }
    /* decimal digits only (no sign, no space), at most 12 of them: the
     * arithmetic below cannot overflow, whatever the header says */
    size_t tl0 = strlen(ts);
    if (tl0 > WH_TS_DIGITS) { WHY("webhook-timestamp is out of range"); return -1; }
    int64_t t = 0;
    for (size_t i = 0; i < tl0; i++) {
        if (ts[i] < '0' || ts[i] > '9') { WHY("webhook-timestamp is not a number of seconds"); return -1; }
        t = t * 10 + (ts[i] - '0');
    }
    if (tolerance_ms < 0) tolerance_ms = 0;
    int64_t skew = now_ms - t * 1000;
    if (skew > tolerance_ms) { WHY("webhook-timestamp is too old"); return -1; }
    if (skew < -tolerance_ms) { WHY("webhook-timestamp is in the future"); return -1; }
    const char *k = secret;
    if (!strncmp(k, "whsec_", 6)) k += 6;
    unsigned char key[256];
    int kn = b64_decode(k, strlen(k), key, sizeof key);
    if (kn <= 0) { WHY("the source's secret is not whsec_<base64>"); return -1; }
    /* id.timestamp.body */
    size_t il = strlen(id), tl = strlen(ts);
    unsigned char *msg = dna_malloc(il + tl + len + 2);
    if (!msg) { WHY("out of memory"); return -1; }
    memcpy(msg, id, il);
    msg[il] = '.';
    memcpy(msg + il + 1, ts, tl);
    msg[il + 1 + tl] = '.';
    memcpy(msg + il + tl + 2, body, len);
    unsigned char mac[EVP_MAX_MD_SIZE];
    unsigned int mn = 0;
    unsigned char *ok = HMAC(EVP_sha256(), key, kn, msg, il + tl + len + 2, mac, &mn);
    dna_free(msg, il + tl + len + 2);
    if (!ok) { WHY("HMAC failed"); return -1; }
    /* "v1,<b64> v1,<b64> ..." : any one matching signs it */
    int seen = 0;
    const char *p = sigs;
    while (*p) {
        while (*p == ' ') p++;
        if (!*p) break;
        const char *e = p;
        while (*e && *e != ' ') e++;
        const char *comma = memchr(p, ',', (size_t)(e - p));
        if (!comma) { WHY("malformed webhook-signature entry"); return -1; }
        seen++;
        if (comma - p == 2 && !strncmp(p, "v1", 2)) {
            unsigned char got[64];
            int gn = b64_decode(comma + 1, (size_t)(e - comma - 1), got, sizeof got);
            if (gn == (int)mn && !CRYPTO_memcmp(got, mac, mn)) return 0;
        }
        p = e;
    }
    if (!seen) { WHY("malformed webhook-signature header"); return -1; }
    WHY("wrong signature");
    return -1;
}

int wh_verify(const DnaBundle *b, const DnaSource *s, const char *body, size_t len, WhHeaderFn hdr, void *ud,
               int64_t now_ms, char *why, size_t wl)
{
    const char *scheme = opt_str(b, s, "signature");
    if (!scheme) return 0;                  /* a source without a signature clause */
    const char *env = wh_secret_env(b, s);
    const char *secret = *env ? getenv(env) : NULL;
    if (!strcmp(scheme, "hmac_sha256")) {
        const char *h = opt_str(b, s, "signature.header");
        const char *enc = opt_str(b, s, "signature.encoding");
        if (!h) { WHY("the source names no signature header"); return -1; }
        return wh_hmac_check(secret, body, len, hdr(ud, h), opt_str(b, s, "signature.prefix"), enc && !strcmp(enc, "base64"),
                              why, wl);
    }
    if (!strcmp(scheme, "standard_webhooks")) {
        int64_t tol = 5 * CLK_MINUTE;
        const DnaOpt *o = opt_get(b, s, "tolerance");
        if (o && o->konst != DNA_NIL && o->konst < b->nconsts) tol = b->consts[o->konst].i;
        return wh_stdwh_check(secret, hdr(ud, "webhook-id"), hdr(ud, "webhook-timestamp"), hdr(ud, "webhook-signature"),
                               body, len, now_ms, tol, why, wl);
    }
    WHY("unknown signature scheme '%s'", scheme);
    return -1;
}

/* ---- maps ------------------------------------------------------------------------ */

typedef struct MapCtx {
    const DnaBundle *b;
    json_t *body;
    WhHeaderFn hdr;
    void *ud;
    char *why;
    size_t wl;
    int failed;
} MapCtx;

static int truthy(json_t *v)
{
    if (!v || json_is_null(v) || json_is_false(v)) return 0;
    if (json_is_string(v)) return json_string_length(v) > 0;
    if (json_is_integer(v)) return json_integer_value(v) != 0;
    if (json_is_real(v)) return json_real_value(v) != 0;
    return 1;
}

static json_t *const_json(const DnaBundle *b, uint32_t k)
{
    if (k >= b->nconsts) return NULL;
    const DnaConst *c = &b->consts[k];
    switch (c->type) {
    case DT_STR: case DT_ENUM: return json_string(bundle_str(b, c->str));
    case DT_BOOL: return json_boolean(c->i);
    case DT_DEC: return json_real((double)c->i / 1000.0);
    case DT_VOID: return NULL;
    default: return json_integer(c->i);
    }
}

/* Evaluate the subtree at *at (prefix order); *at moves past it.  NULL:
 * absent.  Returns a new reference. */
static json_t *jeval(MapCtx *m, uint32_t *at)
{
    const DnaBundle *b = m->b;
    if (*at >= b->njnodes) { m->failed = 1; snprintf(m->why, m->wl, "bad map expression"); return NULL; }
    const DnaJNode *j = &b->jnodes[(*at)++];
    switch ((DnaJOp)j->op) {
    case DJ_PATH: {
        json_t *v = dna_json_path(m->body, bundle_str(b, j->arg));
        return v ? json_incref(v) : NULL;
    }
    case DJ_CONST: return const_json(b, j->arg);
    case DJ_HEADER: {
        const char *h = m->hdr(m->ud, bundle_str(b, j->arg));
        return h ? json_string(h) : NULL;
    }
    case DJ_NOT: {
        json_t *a = jeval(m, at);
        int t = truthy(a);
        json_decref(a);
        return json_boolean(!t);
    }
    case DJ_BINARY: {
        json_t *a = jeval(m, at), *c = jeval(m, at), *r = NULL;
        if (!dna_op_text(j->arg)) {
            m->failed = 1;
            snprintf(m->why, m->wl, "unknown operator %u in a source map", j->arg);
        } else switch ((DnaOp)j->arg) {         /* every code of bundle/ops.h */
        case DOP_OR: r = json_boolean(truthy(a) || truthy(c)); break;
        case DOP_AND: r = json_boolean(truthy(a) && truthy(c)); break;
        case DOP_EQ: r = json_boolean(a && c ? json_equal(a, c) : !a && !c); break;
        case DOP_NE: r = json_boolean(!(a && c ? json_equal(a, c) : !a && !c)); break;
        case DOP_LT: case DOP_LE: case DOP_GT: case DOP_GE:
            if (json_is_number(a) && json_is_number(c)) {
                double x = json_number_value(a), y = json_number_value(c);
                r = json_boolean(j->arg == DOP_LT ? x < y : j->arg == DOP_LE ? x <= y : j->arg == DOP_GT ? x > y : x >= y);
            } else if (json_is_string(a) && json_is_string(c)) {
                int k = strcmp(json_string_value(a), json_string_value(c));
                r = json_boolean(j->arg == DOP_LT ? k < 0 : j->arg == DOP_LE ? k <= 0 : j->arg == DOP_GT ? k > 0 : k >= 0);
            } else r = json_false();
            break;
        case DOP_CONTAINS:
            r = json_boolean(json_is_string(a) && json_is_string(c) && strstr(json_string_value(a), json_string_value(c)));
            break;
        }
        json_decref(a);
        json_decref(c);
        return r;
    }
    case DJ_CALL: {
        json_t *args[4] = { NULL, NULL, NULL, NULL };
        for (uint8_t i = 0; i < j->n; i++) {
            json_t *v = jeval(m, at);
            if (i < 4) args[i] = v; else json_decref(v);
        }
        json_t *r = NULL;
        switch ((VmBuiltin)j->arg) {
        case VM_BI_coalesce: r = args[0] ? json_incref(args[0]) : args[1] ? json_incref(args[1]) : NULL; break;
        case VM_BI_is_set: r = json_boolean(args[0] != NULL); break;
        case VM_BI_lower: case VM_BI_upper: case VM_BI_trim:
            if (json_is_string(args[0])) {
                const char *s = json_string_value(args[0]);
                size_t n = json_string_length(args[0]);
                char *c = dna_malloc(n + 1);
                if (!c) break;
                size_t a0 = 0, a1 = n;
                if (j->arg == VM_BI_trim) {
                    while (a0 < n && isspace((unsigned char)s[a0])) a0++;
                    while (a1 > a0 && isspace((unsigned char)s[a1 - 1])) a1--;
                }
                for (size_t i = a0; i < a1; i++)
                    c[i - a0] = j->arg == VM_BI_lower ? (char)tolower((unsigned char)s[i])
                              : j->arg == VM_BI_upper ? (char)toupper((unsigned char)s[i]) : s[i];
                r = json_stringn(c, a1 - a0);
                dna_free(c, n + 1);
            }
            break;
        default:
            m->failed = 1;
            snprintf(m->why, m->wl, "%s() is not supported in source maps yet", bc_builtin_name(j->arg));
        }
        for (int i = 0; i < 4; i++) json_decref(args[i]);
        return r;
    }
    default:
        m->failed = 1;
        snprintf(m->why, m->wl, "bad map expression");
        return NULL;
    }
}

/* ids and identities are strings; numbers are written out */
static json_t *as_string(json_t *v)
{
    if (!v) return NULL;
    if (json_is_string(v)) return v;
    char buf[64];
    if (json_is_integer(v)) snprintf(buf, sizeof buf, "%lld", (long long)json_integer_value(v));
    else { json_decref(v); return NULL; }
    json_decref(v);
    return json_string(buf);
}

/* occurred_at: RFC 3339 as is; a number is Unix seconds (or ms when
 * large), between the years 1 and 9999 (else NULL with why: the number is
 * checked before it is converted) */
#define WH_MS_MIN (-62135596800000.0)     /* 0001-01-01T00:00:00Z */
#define WH_MS_MAX 253402300799999.0       /* 9999-12-31T23:59:59.999Z */

static json_t *as_time(json_t *v, char *why, size_t wl)
{
    if (!v || json_is_string(v)) return v;
    if (!json_is_number(v)) return v;
    double d = json_number_value(v);
    double ms = d > 1e11 ? d : d * 1000.0;
    if (!(ms >= WH_MS_MIN && ms <= WH_MS_MAX)) {    /* NaN fails too */
        WHY("occurred_at %.17g is out of range (Unix seconds or milliseconds, years 1 to 9999)", d);
        json_decref(v);
        return NULL;
    }
    char buf[32];
    clk_format((int64_t)ms, buf);
    json_decref(v);
    json_t *r = json_string(buf);
    if (!r) WHY("out of memory");
    return r;
}

json_t *wh_map(const DnaBundle *b, const DnaSource *s, json_t *body, WhHeaderFn hdr, void *ud, char *why, size_t wl)
{
    const char *sname = bundle_str(b, s->name);
    /* an envelope of one of the declared `events` passes through */
    json_t *jt = json_object_get(body, "type");
    if (json_is_object(body) && json_is_string(jt) && json_object_get(body, "subject")) {
        for (uint32_t i = 0; i < s->nevents; i++)
            if (s->events[i] < b->nevents && !strcmp(bundle_str(b, b->events[s->events[i]].name), json_string_value(jt))) {
                json_t *env = json_deep_copy(body);
                if (env && !json_object_get(env, "source")) json_object_set_new(env, "source", json_string(sname));
                return env;
            }
    }
    MapCtx m = { b, body, hdr, ud, why, wl, 0 };
    for (uint32_t mi = 0; mi < s->nmaps; mi++) {
        const DnaMap *mp = &b->maps[s->map + mi];
        if (mp->when != DNA_NIL) {
            uint32_t at = mp->when;
            json_t *w = jeval(&m, &at);
            int t = truthy(w);
            json_decref(w);
            if (m.failed) return NULL;
            if (!t) continue;
        }
        json_t *env = json_object(), *sub = json_object(), *data = json_object();
        if (!env || !sub || !data) { json_decref(env); json_decref(sub); json_decref(data); WHY("out of memory"); return NULL; }
        for (uint32_t ai = 0; ai < mp->nassigns; ai++) {
            const DnaAssign *a = &b->assigns[mp->assign + ai];
            const char *t = bundle_str(b, a->target);
            uint32_t at = a->expr;
            json_t *v = a->expr != DNA_NIL ? jeval(&m, &at) : NULL;
            if (m.failed) { json_decref(v); json_decref(env); json_decref(sub); json_decref(data); return NULL; }
            if (!v) continue;                   /* absent: the field is left out */
            if (!strcmp(t, "id")) { v = as_string(v); if (v) json_object_set_new(env, "id", v); }
            else if (!strcmp(t, "occurred_at")) {
                if (!(v = as_time(v, why, wl))) { json_decref(env); json_decref(sub); json_decref(data); return NULL; }
                json_object_set_new(env, "occurred_at", v);
            }
            else if (!strncmp(t, "subject.", 8)) { v = as_string(v); if (v) json_object_set_new(sub, t + 8, v); }
            else json_object_set_new(data, t, v);
        }
        json_object_set_new(env, "type", json_string(mp->event < b->nevents ? bundle_str(b, b->events[mp->event].name) : "?"));
        json_object_set_new(env, "source", json_string(sname));
        json_object_set_new(env, "subject", sub);
        json_object_set_new(env, "data", data);
        return env;
    }
    WHY("no map of source '%s' accepts this body", sname);
    return NULL;
}
