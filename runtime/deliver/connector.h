/*
 * connector.h - the pure parts of delivering effects to connectors: a
 * connector's settings from its bundle and the environment, the HTTP
 * request for an effect (Slack incoming webhook, a Standard Webhooks signed
 * webhook, a REST call), judging the answer, the retry backoff, the rate
 * limit and the circuit breaker.  Nothing here does I/O or reads a clock:
 * the delivery loop (deliver.c, libcurl multi) passes `now` in and sends
 * the ConnReq it gets.
 *
 * Memory: ConnCfg and ConnReq own plain malloc'd strings (libcurl and
 * jansson hand out the same kind), freed by conn_config_free and
 * conn_req_free; both are safe on a zeroed or half-built value.
 */
#ifndef DNA_CONNECTOR_H
#define DNA_CONNECTOR_H

#include "bundle/bundle.h"

#include <stddef.h>
#include <stdint.h>

/* ---- settings -------------------------------------------------------------- */

typedef enum ConnKind { CONN_SLACK, CONN_WEBHOOK, CONN_REST } ConnKind;
/* `auth bearer|token env(X)` both send "Authorization: Bearer X"; `auth basic`
 * sends "Basic base64(X)" (X is "user:password"). */
typedef enum ConnAuth { CONN_AUTH_NONE, CONN_AUTH_BEARER, CONN_AUTH_BASIC } ConnAuth;

#define CONN_TIMEOUT_MS 10000       /* without `timeout` */
#define CONN_RETRIES 8              /* attempts in all, without `retries` */

typedef struct ConnCfg {
    char *name;                 /* the connector's name in the rules */
    ConnKind kind;
    char *url;                  /* `url` (slack_webhook, webhook) or `base` (rest); NULL when unset */
    char *secret;               /* `sign env(..)`: the signing secret, or NULL */
    char *token;                /* `auth .. env(..)`: the credential, or NULL */
    ConnAuth auth;
    /* `rate N per UNIT`: rate_n events per rate_period_ms; rate_n 0 = no limit */
    int64_t rate_n, rate_period_ms;
    int rate_burst;             /* tokens the bucket holds: 1 (strict spacing) */
    int64_t timeout_ms;         /* per attempt */
    int retries;                /* attempts in all before the dead-letter queue */
} ConnCfg;

/* The connector named NAME, or DNA_NIL. */
uint32_t conn_find(const DnaBundle *b, const char *name);

/* The settings of connector ci, with env() values read from the process
 * environment now.  0: complete.  -1: err says what is wrong (the first
 * unset environment variable, by name, or a bad setting); *out is still
 * filled as far as possible (url NULL when its variable is unset).  Call
 * conn_config_free in both cases. */
int conn_config(const DnaBundle *b, uint32_t ci, ConnCfg *out, char *err, size_t errlen);
void conn_config_free(ConnCfg *c);
const char *conn_kind_name(ConnKind k);

/* ---- requests -------------------------------------------------------------- */

typedef struct ConnReq {
    char *url;
    const char *verb;           /* "POST", ... (static) */
    char **headers;             /* "Name: value", ready for curl_slist_append */
    size_t nheaders;
    char *body;
    size_t bodylen;
} ConnReq;

void conn_req_free(ConnReq *r);
/* The value of header NAME (case-insensitive), or NULL. */
const char *conn_req_header(const ConnReq *r, const char *name);

/* Every builder adds `Idempotency-Key: KEY` and `Content-Type:
 * application/json`.  0, or -1 with err (and *req freed). */

/* A `notify` effect (its effects.jsonl line) -> a Slack incoming-webhook
 * message: `text`, `channel` when the effect names one, and `blocks`: the
 * message (mrkdwn), then, when entity_json is given (the entity as GET
 * /v1/entities/{kind}/{key} renders it, or its "state" object), fields
 * Score, Grade, Intent (with confidence), Owner, and Intent points when the
 * lead has no owner yet or the message is about routing; a context block
 * names the rule and the entity. */
int conn_slack(const ConnCfg *c, const char *effect_line, size_t len, const char *entity_json, const char *key,
               ConnReq *req, char *err, size_t errlen);

/* A `webhook` effect (detail {connector, event}) -> POST url with
 *   {"type": EVENT, "id": KEY, "timestamp": RFC 3339 of now,
 *    "data": {"entity": {"kind", "key"}, "rule": RULE, "effect_at": AT,
 *             ...the entity's state (less its "entity"/"key") when given}}
 * signed the Standard Webhooks way when the connector has a secret:
 * webhook-id KEY, webhook-timestamp (seconds), webhook-signature
 * "v1,base64(HMAC-SHA256(key, id.timestamp.body))", where a "whsec_"
 * secret is base64-decoded after the prefix and any other secret is used
 * as its bytes. */
int conn_webhook(const ConnCfg *c, const char *effect_line, size_t len, const char *entity_json, const char *key,
                 int64_t now_ms, ConnReq *req, char *err, size_t errlen);

/* A REST call: VERB (any case: get post put patch delete) base + path
 * (exactly one slash between them), the body as given (may be NULL),
 * Authorization from `auth`. */
int conn_rest(const ConnCfg *c, const char *verb, const char *path, const char *body, size_t blen, const char *key,
              ConnReq *req, char *err, size_t errlen);

/* The Standard Webhooks signature "v1,<base64>" of id.ts.body into out
 * (at least 64 bytes).  0, or -1 when the secret is not usable. */
int conn_sign(const char *secret, const char *id, const char *ts, const char *body, size_t len, char *out,
              size_t outlen);

/* ---- answers ---------------------------------------------------------------- */

#define CONN_VERDICTS(X) \
    X(SENT, "sent")     /* 2xx */ \
    X(RETRY, "retry")   /* transport error or timeout, 408, 429, 5xx */ \
    X(GONE, "gone")     /* 410: disable the connector, raise an alert */ \
    X(FAIL, "fail")     /* 3xx, other 4xx: not retried */

typedef enum ConnVerdict {
#define X(n, s) CONN_##n,
    CONN_VERDICTS(X)
#undef X
} ConnVerdict;

#define CONN_RETRY_AFTER_MAX_MS (3600 * 1000LL)

/* The verdict on one attempt.  For RETRY with a usable Retry-After
 * (delta-seconds or an HTTP-date), *not_before_ms is when to try again,
 * clamped to [now, now + 1 h]; otherwise 0 (use conn_backoff_ms).  A
 * status below 100 counts as a transport error. */
ConnVerdict conn_judge(long http_status, int transport_error, const char *retry_after, int64_t now_ms,
                       int64_t *not_before_ms);
const char *conn_verdict_name(ConnVerdict v);
/* Whether the breaker counts the verdict as a success (only RETRY fails). */
int conn_verdict_ok_for_breaker(ConnVerdict v);

/* ---- backoff ----------------------------------------------------------------- */

#define CONN_BACKOFF_BASE_MS 1000
#define CONN_BACKOFF_MAX_MS (3600 * 1000LL)

/* The wait before attempt+1 (attempt 1 = after the first failure): the
 * exponential step e = min(1 s * 2^(attempt-1), 1 h), with equal jitter:
 * e/2 + a random part in [0, e/2].  *rng is the caller's PRNG state
 * (splitmix64; any seed, 0 included). */
int64_t conn_backoff_ms(int attempt, uint64_t *rng);
uint64_t conn_rand(uint64_t *rng);

/* ---- rate limit: a token bucket ---------------------------------------------- */

typedef struct ConnRate {
    int64_t per, period_ms;     /* `per` tokens every period_ms; per 0 = no limit */
    int64_t credit, cap;        /* in token-parts: one token = period_ms parts, `per` parts a ms */
    int64_t last;
    int started;
} ConnRate;

/* The bucket starts full (burst tokens; burst < 1 counts as 1). */
void conn_rate_init(ConnRate *r, int64_t per, int64_t period_ms, int burst);
/* 0: a token was taken.  Otherwise the ms until the next token (none taken). */
int64_t conn_rate_take(ConnRate *r, int64_t now_ms);

/* ---- circuit breaker ----------------------------------------------------------- */

typedef enum ConnBreakerState { CONN_CLOSED, CONN_OPEN, CONN_HALF_OPEN } ConnBreakerState;

#define CONN_BREAKER_BUCKETS 30
#define CONN_BREAKER_WINDOW_MS 30000
#define CONN_BREAKER_MIN_REQUESTS 5
#define CONN_BREAKER_FAIL_PCT 50
#define CONN_BREAKER_COOLDOWN_MS 30000
#define CONN_BREAKER_COOLDOWN_MAX_MS 600000

typedef struct ConnBreaker {
    int64_t window_ms, cooldown_base_ms, cooldown_max_ms;
    int min_requests, fail_pct;
    ConnBreakerState state;     /* OPEN may have become HALF_OPEN by time: ask conn_breaker_state */
    int64_t open_until, cooldown_ms;
    int probe_out;              /* half-open: a probe is in flight */
    int trips;                  /* times it opened, for metrics */
    struct { int64_t epoch; uint32_t ok, fail; } b[CONN_BREAKER_BUCKETS];   /* the sliding window */
} ConnBreaker;

/* Parameters <= 0 take the defaults above. */
void conn_breaker_init(ConnBreaker *br, int64_t window_ms, int min_requests, int fail_pct, int64_t cooldown_ms,
                       int64_t cooldown_max_ms);
/* 1: send now.  Closed: always.  Open: no, until the cool-down ends, then
 * half-open.  Half-open: one probe; then no until its outcome is recorded. */
int conn_breaker_allow(ConnBreaker *br, int64_t now);
/* The outcome of a request it allowed (ok: conn_verdict_ok_for_breaker).
 * Closed: into the window; opens when at least min_requests in the window
 * failed fail_pct % or more.  Half-open: the probe's outcome closes it
 * (window cleared, cool-down reset) or opens it again with the cool-down
 * doubled (up to the maximum).  Open: ignored (answers from before). */
void conn_breaker_record(ConnBreaker *br, int64_t now, int ok);
ConnBreakerState conn_breaker_state(const ConnBreaker *br, int64_t now);
const char *conn_breaker_state_name(ConnBreakerState s);
/* When an open breaker will admit a probe (0 if not open). */
int64_t conn_breaker_retry_at(const ConnBreaker *br);

#endif
