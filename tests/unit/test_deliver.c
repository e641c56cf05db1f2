/*
 * test_deliver.c - the delivery loop (deliver.c) against a real local
 * server (tests/tools/stub_http) on a clock the test moves: the schedule
 * of attempts (backoff with the loop's seeded jitter, Retry-After), the
 * dead-letter queue and its retry, 410 disabling a connector until it is
 * enabled, a redirect not followed, a hang past the timeout, the breaker
 * closed -> open -> half-open -> closed, and the rate limit.
 *
 *   test_deliver STUB_HTTP WORKDIR
 */
#include "deliver/connector.h"
#include "store/db_sqlite.h"
#include "deliver/deliver.h"
#include "deliver/dlq.h"
#include "../vm/compile_util.h"

#include <curl/curl.h>
#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static int failures;
#define CHECK(c) do { if (!(c)) { fprintf(stderr, "%s:%d: FAIL: %s\n", __FILE__, __LINE__, #c); failures++; } } while (0)
#define CHECK_EQ(a, b) do { long long a_ = (long long)(a), b_ = (long long)(b); if (a_ != b_) { \
    fprintf(stderr, "%s:%d: FAIL: %s == %lld, want %lld\n", __FILE__, __LINE__, #a, a_, b_); failures++; } } while (0)

static const char *RULES =
    "module dt\n"
    "connector hook webhook url env(\"DT_URL\") sign env(\"DT_SECRET\") retries 3 timeout 1s\n"
    "connector slow webhook url env(\"DT_URL\") rate 1 per second\n"
    "connector flaky webhook url env(\"DT_URL\") retries 2\n"
    "connector unset webhook url env(\"DT_NOT_SET\")\n"
    "connector chat slack_webhook url env(\"DT_URL\")\n";

static int64_t fake_now = 1790000000000;   /* 2026-09-21 */
static int64_t clock_now(void *ud) { (void)ud; return fake_now; }

static pid_t stub_pid;
static char base[64];

static void stub_start(const char *stub, const char *log)
{
    int p[2];
    if (pipe(p)) exit(2);
    stub_pid = fork();
    if (stub_pid == 0) {
        dup2(p[1], 1);
        close(p[0]);
        execl(stub, stub, "--port", "0", "--log", log, (char *)NULL);
        _exit(127);
    }
    close(p[1]);
    FILE *f = fdopen(p[0], "r");
    int port = 0;
    if (!f || fscanf(f, "port %d", &port) != 1) { fprintf(stderr, "stub_http did not start\n"); exit(2); }
    fclose(f);
    snprintf(base, sizeof base, "http://127.0.0.1:%d", port);
}

/* A control request to the stub: METHOD PATH BODY; returns the answer body. */
static char *ctl(const char *method, const char *path, const char *body)
{
    char url[128];
    snprintf(url, sizeof url, "%s%s", base, path);
    char *out = NULL;
    size_t n = 0;
    FILE *m = open_memstream(&out, &n);
    CURL *h = curl_easy_init();
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method);
    if (body) curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, m);
    CURLcode rc = curl_easy_perform(h);
    curl_easy_cleanup(h);
    fclose(m);
    if (rc != CURLE_OK) { fprintf(stderr, "stub control %s %s: %s\n", method, path, curl_easy_strerror(rc)); exit(2); }
    return out;
}

static int stub_count(void)
{
    char *c = ctl("GET", "/_count", NULL);
    int n = atoi(c);
    free(c);
    return n;
}

static sqlite3 *db;
static int64_t effect_seq;

/* An outbox row for connector CONN; returns its seq. */
static int64_t add_row(const char *conn, const char *key)
{
    char line[512];
    snprintf(line, sizeof line,
             "{\"event\":\"e-%s\",\"at\":\"2026-09-21T10:00:00Z\",\"rule\":\"w\",\"kind\":\"webhook\","
             "\"entity\":{\"kind\":\"lead\",\"key\":\"a@x\"},\"mode\":\"live\",\"detail\":{\"connector\":\"%s\",\"event\":\"lead.hot\"},"
             "\"trace\":{}}", key, conn);
    sqlite3_stmt *st;
    sqlite3_prepare_v2(db, "INSERT INTO effects (entity, kind, line) VALUES (1, 'webhook', ?)", -1, &st, NULL);
    sqlite3_bind_text(st, 1, line, -1, SQLITE_STATIC);
    CHECK(sqlite3_step(st) == SQLITE_DONE);
    sqlite3_finalize(st);
    effect_seq = sqlite3_last_insert_rowid(db);
    sqlite3_prepare_v2(db, "INSERT INTO outbox (effect, event_id, kind, mode, connector, idem_key, line, next_at, created_at) "
                           "VALUES (?, ?, 'webhook', 'live', ?, ?, ?, 0, ?)", -1, &st, NULL);
    sqlite3_bind_int64(st, 1, effect_seq);
    char ev[64];
    snprintf(ev, sizeof ev, "e-%s", key);
    sqlite3_bind_text(st, 2, ev, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 3, conn, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 4, key, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 5, line, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 6, fake_now);
    CHECK(sqlite3_step(st) == SQLITE_DONE);
    sqlite3_finalize(st);
    return sqlite3_last_insert_rowid(db);
}

/* A Slack notification a timer produced (event null). */
static int64_t add_notify(const char *key, const char *at, const char *chan, const char *msg)
{
    char line[512];
    snprintf(line, sizeof line,
             "{\"event\":null,\"at\":\"%s\",\"rule\":\"daily_digest\",\"kind\":\"notify\","
             "\"entity\":{\"kind\":\"lead\",\"key\":\"%s@x\"},\"mode\":\"live\",\"detail\":{\"connector\":\"chat\","
             "\"channel\":\"%s\",\"message\":\"%s\"},\"trace\":{\"timer\":true}}", at, key, chan, msg);
    sqlite3_stmt *st;
    sqlite3_prepare_v2(db, "INSERT INTO effects (entity, kind, line) VALUES (1, 'notify', ?)", -1, &st, NULL);
    sqlite3_bind_text(st, 1, line, -1, SQLITE_STATIC);
    CHECK(sqlite3_step(st) == SQLITE_DONE);
    sqlite3_finalize(st);
    int64_t eff = sqlite3_last_insert_rowid(db);
    sqlite3_prepare_v2(db, "INSERT INTO outbox (effect, event_id, kind, mode, connector, idem_key, line, next_at, created_at) "
                           "VALUES (?, NULL, 'notify', 'live', 'chat', ?, ?, 0, ?)", -1, &st, NULL);
    sqlite3_bind_int64(st, 1, eff);
    sqlite3_bind_text(st, 2, key, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, line, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 4, fake_now);
    CHECK(sqlite3_step(st) == SQLITE_DONE);
    sqlite3_finalize(st);
    return sqlite3_last_insert_rowid(db);
}

typedef struct Row { char status[16]; int attempts; int64_t next_at; long code; } Row;

static Row row(int64_t seq)
{
    Row r;
    memset(&r, 0, sizeof r);
    sqlite3_stmt *st;
    sqlite3_prepare_v2(db, "SELECT status, attempts, next_at, coalesce(last_code, -1) FROM outbox WHERE seq = ?", -1, &st, NULL);
    sqlite3_bind_int64(st, 1, seq);
    if (sqlite3_step(st) == SQLITE_ROW) {
        snprintf(r.status, sizeof r.status, "%s", (const char *)sqlite3_column_text(st, 0));
        r.attempts = sqlite3_column_int(st, 1);
        r.next_at = sqlite3_column_int64(st, 2);
        r.code = (long)sqlite3_column_int64(st, 3);
    }
    sqlite3_finalize(st);
    return r;
}

/* Step until `want` outcomes are recorded (real time passes; the fake clock stands). */
static void outcomes(Dlv *d, int want)
{
    int got = 0;
    for (int i = 0; i < 100 && got < want; i++) {
        int r = dlv_step(d, 100);
        CHECK(r >= 0);
        if (r > 0) got += r;
    }
    CHECK_EQ(got, want);
}

/* Steps that must start nothing. */
static void quiet(Dlv *d)
{
    int before = stub_count();
    for (int i = 0; i < 3; i++) CHECK_EQ(dlv_step(d, 20), 0);
    CHECK_EQ(dlv_inflight(d), 0);
    CHECK_EQ(stub_count(), before);
}

static void script(const char *lines)
{
    free(ctl("PUT", "/_script", lines));
}

int main(int argc, char **argv)
{
    if (argc != 3) { fprintf(stderr, "usage: test_deliver STUB_HTTP WORKDIR\n"); return 2; }
    signal(SIGPIPE, SIG_IGN);
    curl_global_init(CURL_GLOBAL_DEFAULT);
    mkdir(argv[2], 0755);
    char path[512], log[512];
    snprintf(path, sizeof path, "%s/deliver.db", argv[2]);
    snprintf(log, sizeof log, "%s/stub.jsonl", argv[2]);
    unlink(path);
    unlink(log);
    stub_start(argv[1], log);
    char url[128];
    snprintf(url, sizeof url, "%s/hook", base);
    setenv("DT_URL", url, 1);
    setenv("DT_SECRET", "whsec_c2VjcmV0", 1);
    unsetenv("DT_NOT_SET");

    Project pr;
    DnaBundle b;
    memset(&b, 0, sizeof b);
    if (cu_load(&pr, "dt.dna", RULES, NULL, &b)) return 2;
    char err[256];
    db = db_open(path, err, sizeof err);
    if (!db) { fprintf(stderr, "%s\n", err); return 2; }
    DlvConfig cfg = { .db = db, .seed = 42, .retry_base_ms = 1000 };
    DlvHooks hk = { .now = clock_now };
    Dlv *d = dlv_new(&b, &cfg, &hk);
    CHECK(d != NULL);
    uint64_t rng = 42;                     /* the loop's jitter, replayed */

    /* 1. 500, then 429 with Retry-After 120, then 200: three attempts on schedule */
    script("500\n429 retry-after=120\n200\n");
    int64_t a = add_row("hook", "k-1");
    outcomes(d, 1);
    Row r = row(a);
    CHECK(!strcmp(r.status, "pending"));
    CHECK_EQ(r.attempts, 1);
    CHECK_EQ(r.code, 500);
    int64_t want = fake_now + conn_backoff_ms(1, &rng);
    CHECK_EQ(r.next_at, want);
    fake_now = want - 1;
    quiet(d);                               /* not a millisecond early */
    fake_now = want;
    outcomes(d, 1);
    r = row(a);
    CHECK_EQ(r.attempts, 2);
    CHECK_EQ(r.code, 429);
    (void)conn_backoff_ms(2, &rng);          /* drawn, then Retry-After wins */
    CHECK_EQ(r.next_at, fake_now + 120000);
    fake_now += 119999;
    quiet(d);
    fake_now += 1;
    outcomes(d, 1);
    r = row(a);
    CHECK(!strcmp(r.status, "sent"));
    CHECK_EQ(r.attempts, 3);
    /* every attempt carried the same key, and a signature */
    char *lg = ctl("GET", "/_log", NULL);
    int keys = 0, sigs = 0;
    for (char *p = lg; (p = strstr(p, "\"idempotency-key\":\"k-1\"")); p++) keys++;
    for (char *p = lg; (p = strstr(p, "\"webhook-signature\":\"v1,")); p++) sigs++;
    CHECK_EQ(keys, 3);
    CHECK_EQ(sigs, 3);
    free(lg);

    /* 2. the last attempt fails: the dead-letter queue; retried by hand, delivered once */
    script("503\n500\n500\n");
    int64_t dl = add_row("hook", "k-2");
    for (int i = 1; i <= 3; i++) {
        outcomes(d, 1);
        r = row(dl);
        CHECK_EQ(r.attempts, i);
        if (i < 3) { CHECK(!strcmp(r.status, "pending")); fake_now = r.next_at; }
    }
    CHECK(!strcmp(r.status, "dead"));
    char *list = dlq_list(db, 100);
    CHECK(list && strstr(list, "\"idempotency_key\":\"k-2\"") && strstr(list, "\"attempts\":3"));
    free(list);
    quiet(d);
    CHECK_EQ(dlq_retry(db, dl, fake_now), 1);
    CHECK_EQ(dlq_retry(db, dl, fake_now), 0);       /* not dead any more */
    int before = stub_count();
    outcomes(d, 1);
    CHECK(!strcmp(row(dl).status, "sent"));
    CHECK_EQ(stub_count(), before + 1);
    quiet(d);

    /* those five failures of seven opened hook's breaker: a minute later
     * it admits a probe again, and the window has forgotten them */
    fake_now += 60000;

    /* 3. a redirect is an answer: dead at once, not followed */
    script("302 location=/elsewhere\n");
    int64_t rd = add_row("hook", "k-3");
    outcomes(d, 1);
    r = row(rd);
    CHECK(!strcmp(r.status, "dead"));
    CHECK_EQ(r.attempts, 1);
    CHECK_EQ(r.code, 302);

    /* 4. a hang past the 1 s timeout: no answer, tried again */
    script("hang 3000\n200\n");
    int64_t hg = add_row("hook", "k-4");
    outcomes(d, 1);
    r = row(hg);
    CHECK(!strcmp(r.status, "pending"));
    CHECK_EQ(r.code, 0);
    fake_now = r.next_at;
    outcomes(d, 1);
    CHECK(!strcmp(row(hg).status, "sent"));

    /* 5. 410: dead, the connector disabled; the next row waits until enabled */
    script("410\n");
    int64_t g = add_row("hook", "k-5");
    outcomes(d, 1);
    CHECK(!strcmp(row(g).status, "dead"));
    CHECK_EQ(row(g).code, 410);
    int64_t w = add_row("hook", "k-6");
    fake_now += 5000;
    quiet(d);
    CHECK(!strcmp(row(w).status, "pending"));
    CHECK_EQ(dlq_connector_enable(db, "hook"), 1);
    fake_now += 5000;                       /* the loop looks again every 2 s */
    outcomes(d, 1);
    CHECK(!strcmp(row(w).status, "sent"));

    /* 6. the breaker: 5 failures open it; nothing goes while open; after
     *    the cool-down one probe; its success closes it */
    script("500\n500\n500\n500\n500\n");
    int64_t fl[8];
    for (int i = 0; i < 8; i++) {
        char k[16];
        snprintf(k, sizeof k, "f-%d", i);
        fl[i] = add_row("flaky", k);
    }
    outcomes(d, 8);                         /* all 8 in flight at once: 5 answered 500, 3 got 200 */
    FILE *mf;
    char *mt = NULL;
    size_t ml = 0;
    mf = open_memstream(&mt, &ml);
    dlv_metrics(d, mf);
    fclose(mf);
    CHECK(strstr(mt, "dna_breaker_state{connector=\"flaky\"} 1"));
    free(mt);
    int failed = 0;
    for (int i = 0; i < 8; i++) failed += !strcmp(row(fl[i]).status, "pending");
    CHECK_EQ(failed, 5);
    fake_now += 20000;                      /* due again, but the breaker is open (30 s) */
    quiet(d);
    fake_now += 10001;
    int c0 = stub_count();
    outcomes(d, 1);                         /* half-open: exactly one probe */
    CHECK_EQ(stub_count(), c0 + 1);
    outcomes(d, 4);                         /* it succeeded: closed, the rest go */
    for (int i = 0; i < 8; i++) CHECK(!strcmp(row(fl[i]).status, "sent"));
    mt = NULL;
    mf = open_memstream(&mt, &ml);
    dlv_metrics(d, mf);
    fclose(mf);
    CHECK(strstr(mt, "dna_breaker_state{connector=\"flaky\"} 0"));
    CHECK(strstr(mt, "dna_deliveries_total{connector=\"flaky\",outcome=\"sent\"} 8"));
    free(mt);

    /* 7. rate 1 per second: three due rows go one a second */
    int64_t s1 = add_row("slow", "s-1"), s2 = add_row("slow", "s-2"), s3 = add_row("slow", "s-3");
    outcomes(d, 1);
    quiet(d);
    fake_now += 999;
    quiet(d);
    fake_now += 1;
    outcomes(d, 1);
    fake_now += 1000;
    outcomes(d, 1);
    CHECK(!strcmp(row(s1).status, "sent") && !strcmp(row(s2).status, "sent") && !strcmp(row(s3).status, "sent"));

    /* 8. a connector whose environment is not set: its rows wait, nothing lost */
    int64_t un = add_row("unset", "u-1");
    fake_now += 10000;
    quiet(d);
    CHECK(!strcmp(row(un).status, "pending"));

    /* 9. a connector the bundle does not declare: dead with the reason */
    int64_t gone = add_row("nosuch", "n-1");
    fake_now += 10000;
    quiet(d);
    CHECK(!strcmp(row(gone).status, "dead"));

    /* 10. a schedule's Slack notifications of one rule, channel and time go
     *     out as one digest; another channel is another message */
    free(ctl("POST", "/_reset", NULL));
    int64_t g1 = add_notify("g1", "2026-10-02T06:00:00Z", "#digest", "A-lead g1: 90 points");
    int64_t g2 = add_notify("g2", "2026-10-02T06:00:00Z", "#digest", "A-lead g2: 85 points");
    int64_t g3 = add_notify("g3", "2026-10-02T06:00:00Z", "#other", "A-lead g3: 99 points");
    int64_t g4 = add_notify("g4", "2026-10-02T06:00:00Z", "#digest", "A-lead g4: 81 points");
    outcomes(d, 2);
    CHECK_EQ(stub_count(), 2);
    CHECK(!strcmp(row(g1).status, "sent") && !strcmp(row(g2).status, "sent") && !strcmp(row(g3).status, "sent") &&
          !strcmp(row(g4).status, "sent"));
    lg = ctl("GET", "/_log", NULL);
    const char *dg = strstr(lg, "A-lead g1: 90 points");                     /* one body lists all three */
    const char *eol = dg ? strchr(dg, '\n') : NULL;
    CHECK(dg && eol && strstr(dg, "A-lead g2: 85 points") && strstr(dg, "A-lead g2: 85 points") < eol &&
          strstr(dg, "A-lead g4: 81 points") && strstr(dg, "A-lead g4: 81 points") < eol);
    CHECK(strstr(lg, "A-lead g3: 99 points"));
    free(lg);

    dlv_free(d);
    sqlite3_close(db);
    bundle_free(&b);
    proj_free(&pr);
    kill(stub_pid, SIGTERM);
    waitpid(stub_pid, NULL, 0);
    curl_global_cleanup();
    if (failures) { fprintf(stderr, "%d failures\n", failures); return 1; }
    printf("test_deliver: ok\n");
    return 0;
}
