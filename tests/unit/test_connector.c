/*
 * test_connector.c - the pure parts of delivery (runtime/deliver/connector.h) with
 * an injected clock: the breaker's states, rate-limit spacing, backoff
 * bounds, Retry-After in both forms, the verdict per status, the Slack
 * body, a signed webhook checked by webhook.c's verifier, REST URLs and
 * auth, and connector settings from a compiled bundle with and without
 * its environment.
 */
#include "../vm/compile_util.h"
#include "deliver/connector.h"
#include "serve/webhook.h"
#include "check_macros.h"

#include <jansson.h>
#include <time.h>

#define T0 1790000000000LL          /* 2026-09-21T...Z, a whole second */

static void test_breaker(void)
{
    ConnBreaker br;
    conn_breaker_init(&br, 0, 0, 0, 0, 0);
    CHECK_EQ_I(br.window_ms, 30000);
    CHECK_EQ_I(conn_breaker_state(&br, T0), CONN_CLOSED);
    CHECK_EQ_S(conn_breaker_state_name(CONN_HALF_OPEN), "half_open");
    /* fewer than 5 requests never open it, whatever they are */
    for (int i = 0; i < 4; i++) { CHECK(conn_breaker_allow(&br, T0)); conn_breaker_record(&br, T0, 0); }
    CHECK_EQ_I(conn_breaker_state(&br, T0), CONN_CLOSED);
    /* the fifth: 5 of 5 failed -> open */
    CHECK(conn_breaker_allow(&br, T0 + 1000));
    conn_breaker_record(&br, T0 + 1000, 0);
    CHECK_EQ_I(conn_breaker_state(&br, T0 + 1000), CONN_OPEN);
    CHECK_EQ_I(br.trips, 1);
    CHECK(!conn_breaker_allow(&br, T0 + 1000));
    CHECK(!conn_breaker_allow(&br, T0 + 30999));
    CHECK_EQ_I(conn_breaker_retry_at(&br), T0 + 31000);
    conn_breaker_record(&br, T0 + 2000, 1);                 /* an answer from before: ignored */
    CHECK_EQ_I(conn_breaker_state(&br, T0 + 2000), CONN_OPEN);
    /* the cool-down ends: half-open, one probe only */
    CHECK_EQ_I(conn_breaker_state(&br, T0 + 31000), CONN_HALF_OPEN);
    CHECK(conn_breaker_allow(&br, T0 + 31000));
    CHECK(!conn_breaker_allow(&br, T0 + 31001));
    CHECK(!conn_breaker_allow(&br, T0 + 35000));
    CHECK_EQ_I(conn_breaker_state(&br, T0 + 35000), CONN_HALF_OPEN);
    conn_breaker_record(&br, T0 + 35000, 1);                /* probe succeeded */
    CHECK_EQ_I(conn_breaker_state(&br, T0 + 35000), CONN_CLOSED);
    CHECK(conn_breaker_allow(&br, T0 + 35000));
    CHECK(conn_breaker_allow(&br, T0 + 35000));
    /* the window was cleared: one failure now does not reopen it */
    conn_breaker_record(&br, T0 + 36000, 0);
    CHECK_EQ_I(conn_breaker_state(&br, T0 + 36000), CONN_CLOSED);

    /* 50 %: 3 ok + 3 failures opens, 3 ok + 2 failures does not */
    conn_breaker_init(&br, 0, 0, 0, 0, 0);
    for (int i = 0; i < 3; i++) conn_breaker_record(&br, T0, 1);
    conn_breaker_record(&br, T0, 0);
    conn_breaker_record(&br, T0, 0);
    CHECK_EQ_I(conn_breaker_state(&br, T0), CONN_CLOSED);
    conn_breaker_record(&br, T0, 0);
    CHECK_EQ_I(conn_breaker_state(&br, T0), CONN_OPEN);

    /* half-open -> open on a failed probe, with the cool-down doubling up to 10 min */
    int64_t t = T0 + 30000;
    int64_t want_cool = 60000;
    for (int round = 0; round < 8; round++) {
        CHECK_EQ_I(conn_breaker_state(&br, t), CONN_HALF_OPEN);
        CHECK(conn_breaker_allow(&br, t));
        conn_breaker_record(&br, t, 0);
        CHECK_EQ_I(conn_breaker_state(&br, t), CONN_OPEN);
        CHECK_EQ_I(conn_breaker_retry_at(&br), t + want_cool);
        CHECK(!conn_breaker_allow(&br, t + want_cool - 1));
        t += want_cool;
        want_cool = want_cool * 2 > 600000 ? 600000 : want_cool * 2;
    }
    CHECK_EQ_I(br.cooldown_ms, 600000);
    CHECK(conn_breaker_allow(&br, t));
    conn_breaker_record(&br, t, 1);
    CHECK_EQ_I(conn_breaker_state(&br, t), CONN_CLOSED);
    CHECK_EQ_I(br.cooldown_ms, 30000);                      /* reset once closed */

    /* the window slides: failures older than 30 s are forgotten */
    conn_breaker_init(&br, 0, 0, 0, 0, 0);
    for (int i = 0; i < 4; i++) conn_breaker_record(&br, T0, 0);
    conn_breaker_record(&br, T0 + 31000, 0);
    CHECK_EQ_I(conn_breaker_state(&br, T0 + 31000), CONN_CLOSED);
    for (int i = 0; i < 3; i++) conn_breaker_record(&br, T0 + 32000, 0);
    CHECK_EQ_I(conn_breaker_state(&br, T0 + 32000), CONN_CLOSED);  /* 4 in the window */
    conn_breaker_record(&br, T0 + 32000, 0);
    CHECK_EQ_I(conn_breaker_state(&br, T0 + 32000), CONN_OPEN);    /* 5 in the window, all failed */

    /* only RETRY-class outcomes count as failures */
    CHECK(!conn_verdict_ok_for_breaker(CONN_RETRY));
    CHECK(conn_verdict_ok_for_breaker(CONN_FAIL));
    CHECK(conn_verdict_ok_for_breaker(CONN_SENT));
    CHECK(conn_verdict_ok_for_breaker(CONN_GONE));
    conn_breaker_init(&br, 0, 0, 0, 0, 0);
    for (int i = 0; i < 20; i++) {
        int64_t nb;
        conn_breaker_record(&br, T0 + i, conn_verdict_ok_for_breaker(conn_judge(404, 0, NULL, T0, &nb)));
    }
    CHECK_EQ_I(conn_breaker_state(&br, T0 + 20), CONN_CLOSED);
}

static void test_rate(void)
{
    ConnRate r;
    conn_rate_init(&r, 1, 1000, 1);                         /* rate 1 per second */
    CHECK_EQ_I(conn_rate_take(&r, T0), 0);
    CHECK_EQ_I(conn_rate_take(&r, T0), 1000);
    CHECK_EQ_I(conn_rate_take(&r, T0 + 400), 600);
    CHECK_EQ_I(conn_rate_take(&r, T0 + 1000), 0);
    CHECK_EQ_I(conn_rate_take(&r, T0 + 1000), 1000);
    CHECK_EQ_I(conn_rate_take(&r, T0 + 60000), 0);          /* idle time fills one token, no more */
    CHECK_EQ_I(conn_rate_take(&r, T0 + 60000), 1000);

    /* a sender that waits as told: sends are exactly 1/rate apart */
    conn_rate_init(&r, 30, 3600000, 1);                     /* rate 30 per hour */
    int64_t t = T0, prev = -1;
    int sent = 0;
    while (t < T0 + 3600000) {
        int64_t w = conn_rate_take(&r, t);
        if (w) { CHECK(w > 0); t += w; continue; }
        if (prev >= 0) CHECK_EQ_I(t - prev, 120000);
        prev = t;
        sent++;
    }
    CHECK_EQ_I(sent, 30);

    /* 2 per second, burst 3: three at once, then every 500 ms */
    conn_rate_init(&r, 2, 1000, 3);
    for (int i = 0; i < 3; i++) CHECK_EQ_I(conn_rate_take(&r, T0), 0);
    CHECK_EQ_I(conn_rate_take(&r, T0), 500);
    CHECK_EQ_I(conn_rate_take(&r, T0 + 500), 0);
    CHECK_EQ_I(conn_rate_take(&r, T0 + 700), 300);

    /* a fractional rate (0.5 per second as thousandths over 1000 s) */
    conn_rate_init(&r, 500, 1000000, 1);
    CHECK_EQ_I(conn_rate_take(&r, T0), 0);
    CHECK_EQ_I(conn_rate_take(&r, T0), 2000);

    /* no limit; a clock that goes back takes nothing it has not earned */
    conn_rate_init(&r, 0, 0, 0);
    for (int i = 0; i < 100; i++) CHECK_EQ_I(conn_rate_take(&r, T0), 0);
    conn_rate_init(&r, 1, 1000, 1);
    CHECK_EQ_I(conn_rate_take(&r, T0), 0);
    CHECK(conn_rate_take(&r, T0 - 5000) > 0);
    CHECK_EQ_I(conn_rate_take(&r, T0 + 1000), 0);
}

static void test_backoff(void)
{
    uint64_t rng = 42, rng2 = 42;
    int varied = 0;
    for (int a = 1; a <= 20; a++) {
        int64_t e = a <= 13 ? 1000LL << (a - 1) : 3600000;
        if (e > 3600000) e = 3600000;
        for (int k = 0; k < 50; k++) {
            int64_t d = conn_backoff_ms(a, &rng);
            CHECK_MSG(d >= e / 2 && d <= e, "backoff out of bounds");
            if (d != e / 2) varied++;
            CHECK_EQ_I(conn_backoff_ms(a, &rng2), d);       /* the same seed, the same waits */
        }
    }
    CHECK(varied > 900);
    CHECK(conn_backoff_ms(0, &rng) <= 1000);
    CHECK(conn_backoff_ms(1000, &rng) <= 3600000);
    rng = 0;
    CHECK(conn_backoff_ms(3, &rng) >= 2000);
}

static void test_judge(void)
{
    static const struct { long st; int te; ConnVerdict v; } cases[] = {
        { 200, 0, CONN_SENT }, { 201, 0, CONN_SENT }, { 204, 0, CONN_SENT },
        { 301, 0, CONN_FAIL }, { 302, 0, CONN_FAIL }, { 400, 0, CONN_FAIL }, { 404, 0, CONN_FAIL },
        { 408, 0, CONN_RETRY }, { 409, 0, CONN_FAIL }, { 410, 0, CONN_GONE }, { 429, 0, CONN_RETRY },
        { 500, 0, CONN_RETRY }, { 502, 0, CONN_RETRY }, { 503, 0, CONN_RETRY },
        { 0, 1, CONN_RETRY }, { 200, 1, CONN_RETRY }, { 0, 0, CONN_RETRY },
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        int64_t nb = -1;
        ConnVerdict v = conn_judge(cases[i].st, cases[i].te, NULL, T0, &nb);
        if (v != cases[i].v)
            fprintf(stderr, "status %ld transport %d: %s\n", cases[i].st, cases[i].te, conn_verdict_name(v));
        CHECK_EQ_I(v, cases[i].v);
        CHECK_EQ_I(nb, 0);
    }
    CHECK_EQ_S(conn_verdict_name(CONN_SENT), "sent");
    CHECK_EQ_S(conn_verdict_name(CONN_GONE), "gone");

    /* Retry-After: delta-seconds */
    int64_t nb;
    CHECK_EQ_I(conn_judge(429, 0, "2", T0, &nb), CONN_RETRY);
    CHECK_EQ_I(nb, T0 + 2000);
    conn_judge(503, 0, " 120 ", T0, &nb);
    CHECK_EQ_I(nb, T0 + 120000);
    conn_judge(503, 0, "0", T0, &nb);
    CHECK_EQ_I(nb, T0);
    conn_judge(429, 0, "999999999999999999999", T0, &nb);   /* clamped to an hour */
    CHECK_EQ_I(nb, T0 + 3600000);
    /* an HTTP-date, relative to the injected now */
    char date[64];
    time_t at = (time_t)(T0 / 1000 + 90);
    struct tm tm;
    gmtime_r(&at, &tm);
    strftime(date, sizeof date, "%a, %d %b %Y %H:%M:%S GMT", &tm);
    conn_judge(429, 0, date, T0, &nb);
    CHECK_EQ_I(nb, T0 + 90000);
    at = (time_t)(T0 / 1000 - 600);                         /* in the past: now */
    gmtime_r(&at, &tm);
    strftime(date, sizeof date, "%a, %d %b %Y %H:%M:%S GMT", &tm);
    conn_judge(503, 0, date, T0, &nb);
    CHECK_EQ_I(nb, T0);
    at = (time_t)(T0 / 1000 + 86400);                       /* a day ahead: an hour */
    gmtime_r(&at, &tm);
    strftime(date, sizeof date, "%a, %d %b %Y %H:%M:%S GMT", &tm);
    conn_judge(503, 0, date, T0, &nb);
    CHECK_EQ_I(nb, T0 + 3600000);
    /* garbage is ignored */
    static const char *const junk[] = { "soon", "", "  ", "-5", "12abc", "1.5", "Xyz, 99 Foo 2026" };
    for (size_t i = 0; i < sizeof junk / sizeof *junk; i++) {
        nb = -1;
        CHECK_EQ_I(conn_judge(429, 0, junk[i], T0, &nb), CONN_RETRY);
        if (nb != 0) fprintf(stderr, "Retry-After '%s' gave %lld\n", junk[i], (long long)(nb - T0));
        CHECK_EQ_I(nb, 0);
    }
    /* not for a success or a final failure */
    conn_judge(200, 0, "5", T0, &nb);
    CHECK_EQ_I(nb, 0);
    conn_judge(400, 0, "5", T0, &nb);
    CHECK_EQ_I(nb, 0);
}

static const char *EFFECT =
    "{\"event\":\"b8\",\"at\":\"2026-10-01T10:07:00Z\",\"rule\":\"hot_lead\",\"kind\":\"notify\","
    "\"entity\":{\"kind\":\"lead\",\"key\":\"p5@x\"},\"mode\":\"live\",\"detail\":{\"connector\":\"slack\","
    "\"channel\":\"#hot\",\"message\":\"Hot lead p5@x: 87.5 points <A&B>\"},\"trace\":{\"source\":\"w.dna:1:1\"}}";
static const char *ENTITY =
    "{\"state\":{\"entity\":\"lead\",\"key\":\"p5@x\",\"identities\":{\"email\":\"p5@x\"},\"fields\":{\"company\":\"X\"},"
    "\"score\":{\"total\":87.5,\"components\":{\"fit\":40.0}},\"grade\":\"A\",\"intent\":{\"primary\":\"demo\","
    "\"confidence\":0.82,\"points\":{\"pricing\":10.0,\"demo\":45.0}},\"signals\":[],\"alerts\":[],"
    "\"pipeline\":null,\"owner\":%s},\"at\":\"2026-10-01T10:07:00Z\",\"trace\":[]}";

/* The text of field LABEL in blocks[1], or NULL. */
static const char *field(json_t *doc, const char *label)
{
    json_t *fields = json_object_get(json_array_get(json_object_get(doc, "blocks"), 1), "fields");
    size_t i;
    json_t *f;
    size_t ll = strlen(label);
    json_array_foreach(fields, i, f) {
        const char *t = json_string_value(json_object_get(f, "text"));
        if (t && t[0] == '*' && !strncmp(t + 1, label, ll) && t[ll + 1] == '*') return t + ll + 3;
    }
    return NULL;
}

static void test_slack(void)
{
    ConnCfg c = { .name = "slack", .kind = CONN_SLACK, .url = "http://127.0.0.1:1/hook" };
    ConnReq r;
    char err[256] = "", ent[2048];
    snprintf(ent, sizeof ent, ENTITY, "\"ana@x\"");
    CHECK_EQ_I(conn_slack(&c, EFFECT, strlen(EFFECT), ent, "fx-1", &r, err, sizeof err), 0);
    CHECK_EQ_S(r.verb, "POST");
    CHECK_EQ_S(r.url, "http://127.0.0.1:1/hook");
    CHECK_EQ_S(conn_req_header(&r, "idempotency-key"), "fx-1");
    CHECK_EQ_S(conn_req_header(&r, "Content-Type"), "application/json");
    json_error_t je;
    json_t *doc = json_loadb(r.body, r.bodylen, 0, &je);
    CHECK_MSG(doc != NULL, je.text);
    CHECK_EQ_S(json_string_value(json_object_get(doc, "text")), "Hot lead p5@x: 87.5 points &lt;A&amp;B&gt;");
    CHECK_EQ_S(json_string_value(json_object_get(doc, "channel")), "#hot");
    json_t *blocks = json_object_get(doc, "blocks");
    CHECK_EQ_I(json_array_size(blocks), 3);
    json_t *b0 = json_array_get(blocks, 0);
    CHECK_EQ_S(json_string_value(json_object_get(b0, "type")), "section");
    CHECK_EQ_S(json_string_value(json_object_get(json_object_get(b0, "text"), "type")), "mrkdwn");
    CHECK_EQ_S(field(doc, "Score"), "87.5");
    CHECK_EQ_S(field(doc, "Grade"), "A");
    CHECK_EQ_S(field(doc, "Intent"), "demo (82%)");
    CHECK_EQ_S(field(doc, "Owner"), "ana@x");
    CHECK(field(doc, "Intent points") == NULL);             /* owned, not about routing */
    json_t *b2 = json_array_get(blocks, 2);
    CHECK_EQ_S(json_string_value(json_object_get(b2, "type")), "context");
    const char *ctx = json_string_value(json_object_get(json_array_get(json_object_get(b2, "elements"), 0), "text"));
    CHECK(ctx && strstr(ctx, "hot_lead") && strstr(ctx, "p5@x"));
    json_decref(doc);
    conn_req_free(&r);

    /* routing needed: no owner -> the intent points, most first */
    snprintf(ent, sizeof ent, ENTITY, "null");
    CHECK_EQ_I(conn_slack(&c, EFFECT, strlen(EFFECT), ent, "fx-2", &r, err, sizeof err), 0);
    doc = json_loadb(r.body, r.bodylen, 0, &je);
    CHECK(doc != NULL);
    CHECK_EQ_S(field(doc, "Owner"), "unassigned");
    CHECK_EQ_S(field(doc, "Intent points"), "demo 45 \xc2\xb7 pricing 10");
    json_decref(doc);
    conn_req_free(&r);

    /* without the entity: the message and the context, no fields; no channel */
    const char *plain = "{\"rule\":\"digest\",\"kind\":\"notify\",\"entity\":null,\"detail\":{\"connector\":\"slack\","
                        "\"message\":\"Daily digest\"}}";
    CHECK_EQ_I(conn_slack(&c, plain, strlen(plain), NULL, "fx-3", &r, err, sizeof err), 0);
    doc = json_loadb(r.body, r.bodylen, 0, &je);
    CHECK(doc != NULL);
    CHECK(json_object_get(doc, "channel") == NULL);
    CHECK_EQ_I(json_array_size(json_object_get(doc, "blocks")), 2);
    json_decref(doc);
    conn_req_free(&r);

    /* a long message is cut for the section, at a character boundary */
    char *big = malloc(10000), *line = malloc(12000);
    size_t n = 0;
    while (n < 9000) { memcpy(big + n, "\xc3\xa9", 2); n += 2; }
    big[n] = 0;
    snprintf(line, 12000, "{\"rule\":\"r\",\"detail\":{\"message\":\"%s\"}}", big);
    CHECK_EQ_I(conn_slack(&c, line, strlen(line), NULL, "fx-4", &r, err, sizeof err), 0);
    doc = json_loadb(r.body, r.bodylen, 0, &je);
    CHECK_MSG(doc != NULL, "truncated text is valid UTF-8 JSON");
    const char *t0 = json_string_value(json_object_get(json_object_get(json_array_get(json_object_get(doc, "blocks"), 0),
                                                                       "text"), "text"));
    CHECK(t0 && strlen(t0) <= 3003);
    json_decref(doc);
    conn_req_free(&r);
    free(big);
    free(line);

    /* refusals */
    CHECK_EQ_I(conn_slack(&c, "not json", 8, NULL, "k", &r, err, sizeof err), -1);
    CHECK(r.body == NULL && r.headers == NULL);
    /* an effect without a message (a sequence step, a webhook) is told in one line */
    const char *step = "{\"kind\":\"sequence_step\",\"entity\":{\"kind\":\"lead\",\"key\":\"a@x\"},"
                       "\"detail\":{\"sequence\":\"nurture\",\"step\":2,\"of\":3,\"channel\":\"email\",\"connector\":\"slack\"}}";
    CHECK_EQ_I(conn_slack(&c, step, strlen(step), NULL, "k", &r, err, sizeof err), 0);
    CHECK(r.body && strstr(r.body, "Sequence nurture, step 2 of 3 (email) for a@x"));
    conn_req_free(&r);
    CHECK_EQ_I(conn_slack(&c, EFFECT, strlen(EFFECT), "[1]", "k", &r, err, sizeof err), -1);
    ConnCfg nourl = { .name = "slack" };
    CHECK_EQ_I(conn_slack(&nourl, EFFECT, strlen(EFFECT), NULL, "k", &r, err, sizeof err), -1);
}

typedef struct Hdrs { const ConnReq *r; } Hdrs;
static const char *hdr(void *ud, const char *name)
{
    return conn_req_header(((Hdrs *)ud)->r, name);
}

static void test_webhook(void)
{
    /* "whsec_" + base64("a secret of thirty-two bytes!!!!") */
    const char *secret = "whsec_YSBzZWNyZXQgb2YgdGhpcnR5LXR3byBieXRlcyEhISE=";
    ConnCfg c = { .name = "hook", .kind = CONN_WEBHOOK, .url = "http://127.0.0.1:1/in", .secret = (char *)secret };
    const char *effect = "{\"event\":\"e1\",\"at\":\"2026-10-01T10:07:00Z\",\"rule\":\"qualified\",\"kind\":\"webhook\","
                         "\"entity\":{\"kind\":\"lead\",\"key\":\"p5@x\"},\"detail\":{\"connector\":\"hook\","
                         "\"event\":\"lead.qualified\"}}";
    char ent[2048], err[256] = "";
    snprintf(ent, sizeof ent, ENTITY, "\"ana@x\"");
    ConnReq r;
    int64_t now = T0 + 123;
    CHECK_EQ_I(conn_webhook(&c, effect, strlen(effect), ent, "fx-77", now, &r, err, sizeof err), 0);
    CHECK_EQ_S(r.verb, "POST");
    CHECK_EQ_S(conn_req_header(&r, "webhook-id"), "fx-77");
    CHECK_EQ_S(conn_req_header(&r, "idempotency-key"), "fx-77");
    char secs[32];
    snprintf(secs, sizeof secs, "%lld", (long long)(T0 / 1000));
    CHECK_EQ_S(conn_req_header(&r, "webhook-timestamp"), secs);
    const char *sig = conn_req_header(&r, "webhook-signature");
    CHECK(sig && !strncmp(sig, "v1,", 3) && strlen(sig) == 47);
    json_t *doc = json_loadb(r.body, r.bodylen, 0, NULL);
    CHECK(doc != NULL);
    CHECK_EQ_S(json_string_value(json_object_get(doc, "type")), "lead.qualified");
    CHECK_EQ_S(json_string_value(json_object_get(doc, "id")), "fx-77");
    CHECK_EQ_S(json_string_value(json_object_get(doc, "timestamp")), "2026-09-21T14:13:20.123Z");
    json_t *data = json_object_get(doc, "data");
    CHECK_EQ_S(json_string_value(json_object_get(json_object_get(data, "entity"), "kind")), "lead");
    CHECK_EQ_S(json_string_value(json_object_get(json_object_get(data, "entity"), "key")), "p5@x");
    CHECK_EQ_S(json_string_value(json_object_get(data, "rule")), "qualified");
    CHECK(json_real_value(json_object_get(json_object_get(data, "score"), "total")) == 87.5);
    CHECK_EQ_S(json_string_value(json_object_get(data, "owner")), "ana@x");
    json_decref(doc);

    /* webhook.c's verifier accepts it, within its tolerance */
    char why[256] = "";
    Hdrs h = { &r };
    CHECK_EQ_I(wh_stdwh_check(secret, hdr(&h, "webhook-id"), hdr(&h, "webhook-timestamp"), hdr(&h, "webhook-signature"),
                               r.body, r.bodylen, now + 1000, 300000, why, sizeof why), 0);
    if (*why) fprintf(stderr, "verify: %s\n", why);
    /* ... and refuses a wrong secret, a changed body, a changed id */
    CHECK_EQ_I(wh_stdwh_check("whsec_b3RoZXIgc2VjcmV0IG9mIHRoaXJ0eS10d28gYnl0ZXMhIQ==", hdr(&h, "webhook-id"),
                               hdr(&h, "webhook-timestamp"), sig, r.body, r.bodylen, now, 300000, why, sizeof why), -1);
    CHECK(strstr(why, "wrong signature") != NULL);
    r.body[r.bodylen - 2] ^= 1;
    CHECK_EQ_I(wh_stdwh_check(secret, "fx-77", secs, sig, r.body, r.bodylen, now, 300000, why, sizeof why), -1);
    r.body[r.bodylen - 2] ^= 1;
    CHECK_EQ_I(wh_stdwh_check(secret, "fx-78", secs, sig, r.body, r.bodylen, now, 300000, why, sizeof why), -1);
    conn_req_free(&r);

    /* conn_sign against a fixed answer (the Standard Webhooks reference vector) */
    char s2[128];
    const char *vec_body = "{\"test\": 2432232314}";
    CHECK_EQ_I(conn_sign("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "msg_p5jXN8AQM9LWM0D4loKWxJek", "1614265330", vec_body,
                         strlen(vec_body), s2, sizeof s2), 0);
    CHECK_EQ_S(s2, "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
    CHECK_EQ_I(conn_sign("whsec_not base64!", "a", "1", "", 0, s2, sizeof s2), -1);

    /* unsigned without a secret; refusals */
    c.secret = NULL;
    CHECK_EQ_I(conn_webhook(&c, effect, strlen(effect), NULL, "fx-1", now, &r, err, sizeof err), 0);
    CHECK(conn_req_header(&r, "webhook-signature") == NULL);
    doc = json_loadb(r.body, r.bodylen, 0, NULL);
    CHECK(json_object_get(json_object_get(doc, "data"), "score") == NULL);
    json_decref(doc);
    conn_req_free(&r);
    const char *noev = "{\"detail\":{\"connector\":\"hook\"}}";       /* neither an event nor a kind */
    CHECK_EQ_I(conn_webhook(&c, noev, strlen(noev), NULL, "fx-1", now, &r, err, sizeof err), -1);
    /* a sequence step through a webhook connector (the email tool): typed by its channel, its detail kept */
    const char *step = "{\"kind\":\"sequence_step\",\"entity\":{\"kind\":\"lead\",\"key\":\"a@x\"},"
                       "\"detail\":{\"sequence\":\"nurture\",\"step\":1,\"of\":3,\"channel\":\"email\",\"connector\":\"hook\",\"template\":\"welcome\"}}";
    CHECK_EQ_I(conn_webhook(&c, step, strlen(step), NULL, "fx-2", now, &r, err, sizeof err), 0);
    doc = json_loadb(r.body, r.bodylen, 0, NULL);
    CHECK(!strcmp(json_string_value(json_object_get(doc, "type")), "sequence.email"));
    CHECK(!strcmp(json_string_value(json_object_get(json_object_get(json_object_get(doc, "data"), "detail"), "template")), "welcome"));
    json_decref(doc);
    conn_req_free(&r);
    CHECK_EQ_I(conn_webhook(&c, effect, strlen(effect), NULL, "", now, &r, err, sizeof err), -1);
    c.secret = "whsec_***";
    CHECK_EQ_I(conn_webhook(&c, effect, strlen(effect), NULL, "fx-1", now, &r, err, sizeof err), -1);
    CHECK(strstr(err, "secret") != NULL);
    CHECK(r.headers == NULL);
}

static void test_rest(void)
{
    ConnCfg c = { .name = "fin", .kind = CONN_REST, .url = "http://127.0.0.1:9/api/", .token = "tok-1",
                  .auth = CONN_AUTH_BEARER };
    ConnReq r;
    char err[256];
    const char *body = "{\"name\":\"X\"}";
    CHECK_EQ_I(conn_rest(&c, "post", "/customers", body, strlen(body), "fx-9", &r, err, sizeof err), 0);
    CHECK_EQ_S(r.url, "http://127.0.0.1:9/api/customers");
    CHECK_EQ_S(r.verb, "POST");
    CHECK_EQ_S(r.body, body);
    CHECK_EQ_I(r.bodylen, strlen(body));
    CHECK_EQ_S(conn_req_header(&r, "authorization"), "Bearer tok-1");
    CHECK_EQ_S(conn_req_header(&r, "idempotency-key"), "fx-9");
    conn_req_free(&r);
    c.url = "http://127.0.0.1:9/api";
    CHECK_EQ_I(conn_rest(&c, "GET", "offers/o_1/create_invoice", NULL, 0, "fx-10", &r, err, sizeof err), 0);
    CHECK_EQ_S(r.url, "http://127.0.0.1:9/api/offers/o_1/create_invoice");
    CHECK(r.body == NULL && r.bodylen == 0);
    conn_req_free(&r);
    c.auth = CONN_AUTH_BASIC;
    c.token = "user:pass";
    CHECK_EQ_I(conn_rest(&c, "Delete", "//x", NULL, 0, "k", &r, err, sizeof err), 0);
    CHECK_EQ_S(r.url, "http://127.0.0.1:9/api/x");
    CHECK_EQ_S(conn_req_header(&r, "Authorization"), "Basic dXNlcjpwYXNz");
    conn_req_free(&r);
    c.token = NULL;
    CHECK_EQ_I(conn_rest(&c, "put", "x", NULL, 0, "k\r\nX-Evil: 1", &r, err, sizeof err), 0);
    CHECK(conn_req_header(&r, "authorization") == NULL);
    CHECK(conn_req_header(&r, "X-Evil") == NULL);           /* no header injection */
    conn_req_free(&r);
    CHECK_EQ_I(conn_rest(&c, "fetch", "x", NULL, 0, "k", &r, err, sizeof err), -1);
    CHECK(strstr(err, "fetch") != NULL);
}

static const char *RULES =
    "module t\n"
    "connector slack slack_webhook url env(\"CONNT_SLACK_URL\") rate 1 per second\n"
    "connector hook webhook url env(\"CONNT_HOOK_URL\") sign env(\"CONNT_HOOK_SECRET\") timeout 3s retries 5\n"
    "connector fin rest base env(\"CONNT_FIN_URL\") auth bearer env(\"CONNT_FIN_TOKEN\") rate 30 per hour timeout 15s\n";

static void test_config(void)
{
    Project pr;
    DnaBundle b;
    memset(&b, 0, sizeof b);
    if (cu_load(&pr, "conn.dna", RULES, NULL, &b)) { CHECK_MSG(0, "compile"); proj_free(&pr); return; }
    uint32_t si = conn_find(&b, "slack"), hi = conn_find(&b, "hook"), fi = conn_find(&b, "fin");
    CHECK(si != DNA_NIL && hi != DNA_NIL && fi != DNA_NIL);
    CHECK_EQ_I(conn_find(&b, "nope"), DNA_NIL);
    setenv("CONNT_SLACK_URL", "http://127.0.0.1:1/slack", 1);
    setenv("CONNT_HOOK_URL", "http://127.0.0.1:1/hook", 1);
    setenv("CONNT_HOOK_SECRET", "whsec_c2VjcmV0", 1);
    setenv("CONNT_FIN_URL", "http://127.0.0.1:1/fin", 1);
    setenv("CONNT_FIN_TOKEN", "t0k", 1);
    ConnCfg c;
    char err[256] = "";
    CHECK_EQ_I(conn_config(&b, si, &c, err, sizeof err), 0);
    CHECK_EQ_S(c.name, "slack");
    CHECK_EQ_I(c.kind, CONN_SLACK);
    CHECK_EQ_S(c.url, "http://127.0.0.1:1/slack");
    CHECK(c.secret == NULL && c.token == NULL);
    CHECK_EQ_I(c.rate_n, 1);
    CHECK_EQ_I(c.rate_period_ms, 1000);
    CHECK_EQ_I(c.rate_burst, 1);
    CHECK_EQ_I(c.timeout_ms, 10000);
    CHECK_EQ_I(c.retries, 8);
    conn_config_free(&c);
    CHECK_EQ_I(conn_config(&b, hi, &c, err, sizeof err), 0);
    CHECK_EQ_I(c.kind, CONN_WEBHOOK);
    CHECK_EQ_S(c.secret, "whsec_c2VjcmV0");
    CHECK_EQ_I(c.timeout_ms, 3000);
    CHECK_EQ_I(c.retries, 5);
    CHECK_EQ_I(c.rate_n, 0);
    conn_config_free(&c);
    CHECK_EQ_I(conn_config(&b, fi, &c, err, sizeof err), 0);
    CHECK_EQ_I(c.kind, CONN_REST);
    CHECK_EQ_S(c.url, "http://127.0.0.1:1/fin");
    CHECK_EQ_S(c.token, "t0k");
    CHECK_EQ_I(c.auth, CONN_AUTH_BEARER);
    CHECK_EQ_I(c.rate_n, 30);
    CHECK_EQ_I(c.rate_period_ms, 3600000);
    CHECK_EQ_I(c.timeout_ms, 15000);
    conn_config_free(&c);
    /* unset (or empty) variables are named */
    unsetenv("CONNT_HOOK_SECRET");
    CHECK_EQ_I(conn_config(&b, hi, &c, err, sizeof err), -1);
    CHECK(strstr(err, "CONNT_HOOK_SECRET") != NULL);
    CHECK_EQ_S(c.url, "http://127.0.0.1:1/hook");           /* the rest is still there */
    CHECK(c.secret == NULL);
    conn_config_free(&c);
    setenv("CONNT_SLACK_URL", "", 1);
    CHECK_EQ_I(conn_config(&b, si, &c, err, sizeof err), -1);
    CHECK(strstr(err, "CONNT_SLACK_URL") != NULL);
    CHECK(c.url == NULL);
    conn_config_free(&c);
    unsetenv("CONNT_FIN_TOKEN");
    CHECK_EQ_I(conn_config(&b, fi, &c, err, sizeof err), -1);
    CHECK(strstr(err, "CONNT_FIN_TOKEN") != NULL);
    conn_config_free(&c);
    CHECK_EQ_I(conn_config(&b, 99, &c, err, sizeof err), -1);
    conn_config_free(&c);
    bundle_free(&b);
    proj_free(&pr);
}

/* The shipped rules' connectors all load with their environment set. */
static void test_shipped(void)
{
    Project pr;
    DnaBundle b;
    memset(&b, 0, sizeof b);
    if (cu_load(&pr, "rules", NULL, DNA_RULES_DIR, &b)) { CHECK_MSG(0, "compile the shipped rules"); proj_free(&pr); return; }
    static const char *const vars[] = { "SLACK_WEBHOOK_URL", "CRM_HOOK_URL", "CRM_HOOK_SECRET", "MAILER_URL", "MAILER_SECRET",
                                        "LINKEDIN_TOOL_URL", "LINKEDIN_TOOL_SECRET", "FINANCE_URL", "FINANCE_TOKEN" };
    for (size_t i = 0; i < sizeof vars / sizeof *vars; i++) setenv(vars[i], "whsec_c2VjcmV0", 1);
    CHECK(b.nconnectors >= 5);
    for (uint32_t i = 0; i < b.nconnectors; i++) {
        ConnCfg c;
        char err[256] = "";
        CHECK_EQ_I(conn_config(&b, i, &c, err, sizeof err), 0);
        if (*err) fprintf(stderr, "%s\n", err);
        conn_config_free(&c);
    }
    ConnCfg c;
    char err[256];
    CHECK_EQ_I(conn_config(&b, conn_find(&b, "finance"), &c, err, sizeof err), 0);
    CHECK_EQ_I(c.kind, CONN_REST);
    CHECK_EQ_I(c.auth, CONN_AUTH_BEARER);
    CHECK_EQ_I(c.rate_n, 2);
    CHECK_EQ_I(c.rate_period_ms, 1000);
    CHECK_EQ_I(c.timeout_ms, 15000);
    CHECK_EQ_I(c.retries, 5);
    conn_config_free(&c);
    unsetenv("MAILER_SECRET");
    CHECK_EQ_I(conn_config(&b, conn_find(&b, "mailer"), &c, err, sizeof err), -1);
    CHECK(strstr(err, "MAILER_SECRET") != NULL);
    conn_config_free(&c);
    bundle_free(&b);
    proj_free(&pr);
}

int main(void)
{
    test_breaker();
    test_rate();
    test_backoff();
    test_judge();
    test_slack();
    test_webhook();
    test_rest();
    test_config();
    test_shipped();
    return check_report("connector");
}
