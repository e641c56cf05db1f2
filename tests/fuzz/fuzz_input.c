/*
 * fuzz_input.c - fuzz target for what dnad serve reads from outside, on the
 * shipped rules (rules/):
 *
 *   first byte % 6 == 0   an event envelope (eng_event, as POST /v1/events)
 *                    1   a source webhook body, mapped by each declared
 *                        source (wh_map, as POST /v1/sources/NAME), and
 *                        the envelope it maps to run
 *                    2   a Retry-After header (conn_judge): a time it
 *                        gives must lie within the next hour
 *                    3   a connector's answer to a finance call, fed back
 *                        (eng_call_result, then eng_event)
 *                    4   Standard Webhooks headers: "TIMESTAMP\nSIGNATURES\n
 *                        BODY" (wh_stdwh_check); with bit 3 of the first
 *                        byte set (28, not 4), the right "v1,..." entry is spliced into
 *                        the list at the offset byte 2 names.  Accepted
 *                        only with that entry and a time stamp within the
 *                        tolerance; refused otherwise (no forgery)
 *                    5   source webhook headers, "Name: value" lines, a
 *                        blank line, then the body: every declared source's
 *                        wh_verify, then its map (hmac_sha256 prefixes and
 *                        encodings, header lookups)
 *
 * Each input runs on a fresh engine whose state a few fixed events set up
 * (a lead, a deal, a won deal approved so that a finance call exists).
 * Nothing may crash, leak or read out of bounds (ASan/UBSan).
 *
 * With DNA_LIBFUZZER this is a libFuzzer target; otherwise main() replays
 * the files and directories named, and `--mutate N SEED` runs N random
 * mutations of every seed in them.
 */
#include "deliver/connector.h"
#include "engine/engine.h"
#include "base/json.h"
#include "base/jsonw.h"
#include "engine/state.h"
#include "serve/webhook.h"
#include "../vm/compile_util.h"

#include <dirent.h>
#include <jansson.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <strings.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static Project pr;
static DnaBundle b;
static int ready;

static const char *const setup[] = {
    "{\"id\":\"s1\",\"type\":\"contact_updated\",\"source\":\"crm\",\"occurred_at\":\"2026-10-01T08:00:00Z\","
    "\"subject\":{\"entity\":\"lead\",\"email\":\"ada@example.com\"},\"data\":{\"first_name\":\"Ada\",\"seniority\":\"vp\"}}",
    "{\"id\":\"s2\",\"type\":\"deal_created\",\"source\":\"crm\",\"occurred_at\":\"2026-10-01T09:00:00Z\","
    "\"subject\":{\"entity\":\"deal\",\"deal_id\":\"D-1\"},\"data\":{\"name\":\"Big\",\"contact\":\"ada@example.com\",\"value\":\"1000\"}}",
    "{\"id\":\"s3\",\"type\":\"deal_stage_changed\",\"source\":\"crm\",\"occurred_at\":\"2026-10-01T10:00:00Z\","
    "\"subject\":{\"entity\":\"deal\",\"deal_id\":\"D-1\"},\"data\":{\"stage\":\"closed_won\"}}",
    "{\"id\":\"s4\",\"type\":\"approval\",\"occurred_at\":\"2026-10-01T11:00:00Z\",\"data\":{\"id\":1,\"decision\":\"approve\"}}",
};

typedef struct Sink { char *call; size_t len; } Sink;

static void sink(void *ud, const EngEffect *ef)
{
    Sink *s = ud;
    if (ef->kind == EFF_CONNECTOR && !s->call) {
        s->call = malloc(ef->len + 1);
        if (s->call) { memcpy(s->call, ef->line, ef->len); s->call[ef->len] = 0; s->len = ef->len; }
    }
}

static const char *no_header(void *ud, const char *name) { (void)ud; (void)name; return NULL; }

static void run_env(Engine *e, const char *text, size_t len);

/* mode 4: the Standard Webhooks check on headers from the input */
#define SW_SECRET "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"      /* the scheme's own test key */
#define SW_NOW 1790000000000

static void std_webhooks(const char *in, size_t n, int splice, unsigned at)
{
    const char *nl1 = memchr(in, '\n', n);
    const char *nl2 = nl1 ? memchr(nl1 + 1, '\n', (size_t)(in + n - nl1 - 1)) : NULL;
    if (!nl2) return;
    char ts[64], sigs[1024];
    size_t tl = (size_t)(nl1 - in), sl = (size_t)(nl2 - nl1 - 1);
    if (tl >= sizeof ts || sl >= sizeof sigs - 64 || memchr(in, 0, (size_t)(nl2 - in))) return;
    memcpy(ts, in, tl);
    ts[tl] = 0;
    memcpy(sigs, nl1 + 1, sl);
    sigs[sl] = 0;
    const char *body = nl2 + 1;
    size_t bl = (size_t)(in + n - body);
    if (splice) {                   /* the right signature, spliced in at a space */
        unsigned char key[64];
        int kn = EVP_DecodeBlock(key, (const unsigned char *)SW_SECRET + 6, (int)strlen(SW_SECRET) - 6);
        size_t ml = strlen("msg_fuzz") + 1 + tl + 1 + bl;
        unsigned char *msg = malloc(ml ? ml : 1), mac[EVP_MAX_MD_SIZE];
        unsigned int mn = 0;
        if (!msg || kn <= 0) abort();
        memcpy(msg, "msg_fuzz.", 9);
        memcpy(msg + 9, ts, tl);
        msg[9 + tl] = '.';
        memcpy(msg + 10 + tl, body, bl);
        if (!HMAC(EVP_sha256(), key, kn, msg, ml, mac, &mn)) abort();
        free(msg);
        char entry[80] = "v1,";
        EVP_EncodeBlock((unsigned char *)entry + 3, mac, (int)mn);
        size_t el = strlen(entry), pos = sl ? at % (sl + 1) : 0;
        while (pos < sl && sigs[pos] != ' ') pos++;            /* between entries: after a space, or at the end */
        if (pos < sl) pos++;
        else if (sl) { memmove(entry + 1, entry, el + 1); entry[0] = ' '; el++; }
        memmove(sigs + pos + el + 1, sigs + pos, sl - pos + 1);
        memcpy(sigs + pos, entry, el);
        sigs[pos + el] = ' ';
    }
    char why[256];
    int64_t tol = 5 * 60 * 1000;
    int rc = wh_stdwh_check(SW_SECRET, "msg_fuzz", ts, sigs, body, bl, SW_NOW, tol, why, sizeof why);
    if (rc == 0 && !splice) abort();                        /* accepted without the key: a forgery */
    int in_time = tl > 0 && tl <= 12 && strspn(ts, "0123456789") == tl;
    if (in_time) {
        long long t = atoll(ts);
        in_time = t * 1000 >= SW_NOW - tol && t * 1000 <= SW_NOW + tol;
    }
    if (rc == 0 && !in_time) abort();                       /* accepted outside the window */
    /* the right entry, in time, among well-formed entries: accepted */
    int well_formed = 1;
    for (const char *q = sigs; *q && well_formed;) {
        while (*q == ' ') q++;
        const char *t = q;
        while (*q && *q != ' ') q++;
        if (q > t && !memchr(t, ',', (size_t)(q - t))) well_formed = 0;
    }
    if (splice && in_time && well_formed && rc != 0) abort();
}

/* mode 5: each declared source's signature check and map, on headers from the input */
typedef struct Hdrs { char names[16][64], values[16][256]; int n; } Hdrs;

static const char *hdr_lookup(void *ud, const char *name)
{
    Hdrs *h = ud;
    for (int i = 0; i < h->n; i++)
        if (!strcasecmp(h->names[i], name)) return h->values[i];
    return NULL;
}

static void source_headers(Engine *e, const char *in, size_t n)
{
    Hdrs h;
    h.n = 0;
    const char *p = in, *end = in + n;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        size_t ll = nl ? (size_t)(nl - p) : (size_t)(end - p);
        if (ll == 0) { p++; break; }                        /* the blank line */
        const char *colon = memchr(p, ':', ll);
        if (colon && h.n < 16 && (size_t)(colon - p) < 64 && ll - (size_t)(colon - p) < 256) {
            memcpy(h.names[h.n], p, (size_t)(colon - p));
            h.names[h.n][colon - p] = 0;
            const char *v = colon + 1;
            while (v < p + ll && *v == ' ') v++;
            memcpy(h.values[h.n], v, (size_t)(p + ll - v));
            h.values[h.n][p + ll - v] = 0;
            if (!memchr(h.names[h.n], 0, (size_t)(colon - p)) && strlen(h.values[h.n]) == (size_t)(p + ll - v)) h.n++;
        }
        p += ll + (nl ? 1 : 0);
    }
    size_t bl = (size_t)(end - p);
    JsonError je;
    json_t *body = dna_json_parse(p, bl, &je);
    for (uint32_t i = 0; i < b.nsources; i++) {
        char why[256];
        (void)wh_verify(&b, &b.sources[i], p, bl, hdr_lookup, &h, SW_NOW, why, sizeof why);
        json_t *env = body ? wh_map(&b, &b.sources[i], body, hdr_lookup, &h, why, sizeof why) : NULL;
        char *text = env ? json_dumps(env, JSON_COMPACT) : NULL;
        if (text) run_env(e, text, strlen(text));
        free(text);
        json_decref(env);
    }
    json_decref(body);
}

static void run_env(Engine *e, const char *text, size_t len)
{
    char why[256];
    (void)eng_event(e, text, len, why, sizeof why);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!ready) {
        if (cu_load(&pr, "rules", NULL, DNA_RULES_DIR, &b)) abort();
        /* the shipped sources' secrets, so their checks run to the end */
        for (uint32_t i = 0; i < b.nsources; i++) {
            const char *env = wh_secret_env(&b, &b.sources[i]);
            if (*env) setenv(env, strstr(env, "EMAIL") ? SW_SECRET : "fuzz-secret", 1);
        }
        ready = 1;
    }
    if (size < 1) return 0;
    int mode = data[0] % 6;
    if (mode == 4) {
        std_webhooks((const char *)data + 1, size - 1, (data[0] >> 3) & 1, size > 2 ? data[2] : 0);
        return 0;
    }
    const char *in = (const char *)data + 1;
    size_t n = size - 1;
    if (mode == 2) {
        char ra[256];
        size_t k = n < sizeof ra - 1 ? n : sizeof ra - 1;
        memcpy(ra, in, k);
        ra[k] = 0;
        int64_t now = 1790000000000, nb = 0;
        ConnVerdict v = conn_judge(429, 0, ra, now, &nb);
        if (v != CONN_RETRY || (nb && (nb < now || nb > now + CONN_RETRY_AFTER_MAX_MS))) abort();
        return 0;
    }
    Sink sk = { NULL, 0 };
    Store *st = store_mem_new();
    Engine *e = st ? eng_new(&b, st, sink, &sk) : NULL;
    if (!e) abort();
    for (size_t i = 0; i < sizeof setup / sizeof setup[0]; i++) run_env(e, setup[i], strlen(setup[i]));
    if (mode == 0) run_env(e, in, n);
    else if (mode == 5) source_headers(e, in, n);
    else if (mode == 1) {
        JsonError je;
        json_t *body = dna_json_parse(in, n, &je);
        for (uint32_t i = 0; body && i < b.nsources; i++) {
            char why[256];
            json_t *env = wh_map(&b, &b.sources[i], body, no_header, NULL, why, sizeof why);
            char *text = env ? json_dumps(env, JSON_COMPACT) : NULL;
            if (text) run_env(e, text, strlen(text));
            free(text);
            json_decref(env);
        }
        json_decref(body);
    } else if (sk.call) {
        JsonW w;
        jw_init(&w);
        char why[256];
        if (eng_call_result(e, sk.call, sk.len, "fuzz-result", 1790000000000, n ? in : "null", n ? n : 4, &w, why,
                            sizeof why) == 0 && w.p)
            run_env(e, w.p, w.n);
        jw_free(&w);
        jw_init(&w);
        (void)eng_call_request(e, sk.call, sk.len, &w, why, sizeof why);
        jw_free(&w);
    } else abort();                 /* the setup no longer makes a call: fix the setup */
    free(sk.call);
    eng_free(e);
    st->ops->free(st);
    return 0;
}

#ifndef DNA_LIBFUZZER
static unsigned long runs;

static int run_file(const char *path, int mutate, unsigned long *seed)
{
    FILE *f = fopen(path, "rb");
    if (!f) { perror(path); return -1; }
    static uint8_t buf[1 << 16];
    size_t len = fread(buf, 1, sizeof buf, f);
    fclose(f);
    LLVMFuzzerTestOneInput(buf, len);
    runs++;
    static uint8_t m[1 << 16];
    for (int i = 0; i < mutate; i++) {
        size_t ml = len;
        memcpy(m, buf, len);
        int edits = 1 + (int)(*seed % 4);
        for (int k = 0; k < edits && ml; k++) {
            *seed = *seed * 6364136223846793005ull + 1442695040888963407ull;
            size_t at = 1 + (size_t)(*seed >> 33) % (ml > 1 ? ml - 1 : 1);
            switch ((*seed >> 20) % 3) {
            case 0: m[at % ml] = (uint8_t)(*seed >> 40); break;                     /* flip a byte */
            case 1: ml = at < ml ? at : ml; break;                                 /* truncate */
            default:                                                               /* insert */
                if (ml + 1 < sizeof m) { memmove(m + at + 1, m + at, ml - at); m[at] = (uint8_t)(*seed >> 48); ml++; }
            }
        }
        LLVMFuzzerTestOneInput(m, ml);
        runs++;
    }
    return 0;
}

int main(int argc, char **argv)
{
    int mutate = 0;
    unsigned long seed = 1;
    int rc = 0;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--mutate") && i + 2 < argc) { mutate = atoi(argv[i + 1]); seed = strtoul(argv[i + 2], NULL, 10); i += 2; continue; }
        struct stat sb;
        if (stat(argv[i], &sb)) { perror(argv[i]); return 2; }
        if (S_ISDIR(sb.st_mode)) {
            DIR *d = opendir(argv[i]);
            struct dirent *de;
            char **names = NULL;
            size_t nn = 0;
            while (d && (de = readdir(d))) {
                if (de->d_name[0] == '.') continue;
                names = realloc(names, (nn + 1) * sizeof *names);
                names[nn++] = strdup(de->d_name);
            }
            if (d) closedir(d);
            for (size_t k = 0; k < nn; k++) {
                char p[4096];
                snprintf(p, sizeof p, "%s/%s", argv[i], names[k]);
                if (run_file(p, mutate, &seed)) rc = 2;
                free(names[k]);
            }
            free(names);
        } else if (run_file(argv[i], mutate, &seed)) rc = 2;
    }
    if (ready) { bundle_free(&b); proj_free(&pr); }
    printf("fuzz_input: %lu inputs, no crash\n", runs);
    return rc;
}
#endif
