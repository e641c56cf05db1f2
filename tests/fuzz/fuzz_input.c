/*
 * fuzz_input.c - fuzz target for what dnad serve reads from outside, on the
 * shipped rules (rules/):
 *
 *   first byte % 4 == 0   an event envelope (eng_event, as POST /v1/events)
 *                    1   a source webhook body, mapped by each declared
 *                        source (wh_map, as POST /v1/sources/NAME), and
 *                        the envelope it maps to run
 *                    2   a Retry-After header (conn_judge): a time it
 *                        gives must lie within the next hour
 *                    3   a connector's answer to a finance call, fed back
 *                        (eng_call_result, then eng_event)
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
#include "base/jsonw.h"
#include "engine/state.h"
#include "serve/webhook.h"
#include "../vm/compile_util.h"

#include <dirent.h>
#include <jansson.h>
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
        ready = 1;
    }
    if (size < 1) return 0;
    int mode = data[0] % 4;
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
    else if (mode == 1) {
        json_t *body = json_loadb(in, n, JSON_DECODE_ANY, NULL);
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
