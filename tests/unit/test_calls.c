/*
 * test_calls.c - REST connector calls through the engine's API
 * (eng_connector.c) on the rules of tests/unit/calls.dna: requests
 * rendered from the state when they are sent, `connector_result` envelopes
 * storing response values (and firing state triggers), a `then` call that
 * sees what the call before it stored, refusals, duplicates, and a replay
 * of everything fed in giving the same effects.
 */
#include "../vm/compile_util.h"
#include "engine/eng_int.h"
#include "base/clock.h"
#include "base/json.h"
#include "check_macros.h"
#include "effect_lines.h"

#include <stdarg.h>

/* ---- harness ------------------------------------------------------------------ */

/* lines from `from` on containing every NULL-terminated needle */
static int count_from(const Lines *l, int from, ...)
{
    va_list ap;
    va_start(ap, from);
    int n = lines_vcount(l, from, ap);
    va_end(ap);
    return n;
}

static const char *last_with(const Lines *l, const char *a, const char *b)
{
    for (int i = l->n - 1; i >= 0; i--)
        if (strstr(l->v[i], a) && (!b || strstr(l->v[i], b))) return l->v[i];
    return NULL;
}

typedef struct Run { Project pr; DnaBundle b; Store *st; Engine *e; Lines out, fed; int nev; } Run;

static int run_open_path(Run *r, DnaBundle *shared, const char *path)
{
    memset(r, 0, sizeof *r);
    if (!shared && cu_load(&r->pr, path, NULL, path, &r->b)) return -1;
    r->st = store_mem_new();
    r->e = eng_new(shared ? shared : &r->b, r->st, sink, &r->out);
    return r->e ? 0 : -1;
}

static int run_open(Run *r, DnaBundle *shared) { return run_open_path(r, shared, DNA_UNIT_DIR "/calls.dna"); }

static void run_close(Run *r, int own)
{
    eng_free(r->e);
    r->st->ops->free(r->st);
    if (own) { bundle_free(&r->b); proj_free(&r->pr); }
    lines_free(&r->out);
    lines_free(&r->fed);
}

static EngResult feed(Run *r, const char *env, char *why)
{
    char w[256];
    EngResult res = eng_event(r->e, env, strlen(env), why ? why : w, sizeof w);
    if (res == ENG_OK) lines_push(&r->fed, env, strlen(env));
    return res;
}

static EngResult ev(Run *r, const char *type, const char *at, const char *subject, const char *data)
{
    char buf[1024];
    snprintf(buf, sizeof buf, "{\"id\":\"e%d\",\"type\":\"%s\",\"occurred_at\":\"%s\",\"subject\":%s,\"data\":%s}",
             ++r->nev, type, at, subject, data);
    return feed(r, buf, NULL);
}

static int64_t T(const char *s)
{
    int64_t ms = 0;
    clk_parse(s, strlen(s), &ms);
    return ms;
}

/* eng_call_request as parsed JSON (NULL on -1, why[] filled) */
static json_t *request(Run *r, const char *line, char *why, size_t wl)
{
    JsonW w;
    jw_init(&w);
    json_t *j = NULL;
    if (line && eng_call_request(r->e, line, strlen(line), &w, why, wl) == 0) {
        JsonError je;
        j = dna_json_parse(w.p, w.n, &je);
        if (getenv("CALLS_VERBOSE")) printf("request: %.*s\n", (int)w.n, w.p);
    } else CHECK_EQ_I(w.n, 0);                  /* nothing appended on refusal */
    jw_free(&w);
    return j;
}

static const char *jstr(json_t *root, const char *path)
{
    json_t *v = root;
    char seg[64];
    while (v && *path) {
        const char *dot = strchr(path, '.');
        size_t n = dot ? (size_t)(dot - path) : strlen(path);
        snprintf(seg, sizeof seg, "%.*s", (int)n, path);
        v = json_object_get(v, seg);
        path += n + (dot ? 1 : 0);
    }
    return json_is_string(v) ? json_string_value(v) : NULL;
}

/* the result envelope for an effect line, fed to the engine */
static EngResult result(Run *r, const char *line, const char *id, const char *at, const char *resp, char *env_out,
                        size_t envl)
{
    JsonW w;
    jw_init(&w);
    char why[256] = "";
    int rc = eng_call_result(r->e, line, strlen(line), id, T(at), resp, resp ? strlen(resp) : 0, &w, why, sizeof why);
    CHECK_MSG(rc == 0, why);
    if (rc) { jw_free(&w); return ENG_REJECTED; }
    char *env = strndup(w.p, w.n);
    if (env_out) snprintf(env_out, envl, "%s", env);
    EngResult res = feed(r, env, why);
    free(env);
    jw_free(&w);
    return res;
}

static Ent *find(Run *r, const char *kind, const char *key)
{
    uint64_t h = eng_find(r->e, kind, key);
    return h ? eng_live(r->e, h) : NULL;
}

static const char *slot_str(Run *r, Ent *x, const char *field, char *buf, size_t bl)
{
    uint32_t s = bundle_slot(r->e->b, x->kind, field);
    if (s == DNA_NIL || x->slots[s].kind != DNA_VK_STR) return NULL;
    snprintf(buf, bl, "%.*s", (int)x->slots[s].len, x->slots[s].u.s);
    return buf;
}

static int64_t slot_int(Run *r, Ent *x, const char *field)
{
    uint32_t s = bundle_slot(r->e->b, x->kind, field);
    return s != DNA_NIL && x->slots[s].kind == DNA_VK_INT ? x->slots[s].u.i : -1;
}

/* ---- the chain: customer, offer, invoice ------------------------------------------------ */

static const char *LEAD = "{\"entity\":\"lead\",\"email\":\"p@x.example\"}";
static const char *DEAL = "{\"entity\":\"deal\",\"deal_id\":\"d-1\"}";

static void test_chain(void)
{
    Run r;
    if (run_open(&r, NULL)) { CHECK_MSG(0, "compile tests/unit/calls.dna"); return; }
    char why[256], buf[256];
    CHECK_EQ_I(ev(&r, "deal_created", "2026-10-01T09:00:00Z", DEAL,
                  "{\"name\":\"Big\",\"contact\":\"p@x.example\",\"value\":1200.5}"), ENG_OK);
    Ent *lead = find(&r, "lead", "p@x.example"), *deal = find(&r, "deal", "d-1");
    CHECK(lead && deal);
    if (!lead || !deal) { run_close(&r, 1); return; }
    CHECK_EQ_I(eng_find(r.e, "deal", "nobody"), 0);
    CHECK_EQ_I(eng_find(r.e, "nothing", "d-1"), 0);

    /* won: three calls, recorded with their arguments' keys */
    CHECK_EQ_I(ev(&r, "deal_won", "2026-10-01T10:00:00Z", DEAL, "{}"), ENG_OK);
    const char *cust = last_with(&r.out, "\"kind\":\"connector\"", "\"method\":\"create_customer\"");
    const char *offer = last_with(&r.out, "\"kind\":\"connector\"", "\"method\":\"create_offer\"");
    const char *link = last_with(&r.out, "\"kind\":\"connector\"", "\"method\":\"link\"");
    CHECK(cust && offer && link);
    if (!cust || !offer || !link) { run_close(&r, 1); return; }
    CHECK(strstr(cust, "\"args\":[\"p@x.example\"]") != NULL);
    CHECK(strstr(link, "\"args\":[\"p@x.example\",\"d-1\"]") != NULL);

    /* create_customer(lead): POST /customers with the lead as it is */
    int nout = r.out.n;
    json_t *q = request(&r, cust, why, sizeof why);
    CHECK_MSG(q != NULL, why);
    CHECK_EQ_S(jstr(q, "verb"), "POST");
    CHECK_EQ_S(jstr(q, "path"), "/customers");
    CHECK_EQ_S(jstr(q, "body.kind"), "lead");
    CHECK_EQ_S(jstr(q, "body.key"), "p@x.example");
    CHECK_EQ_S(jstr(q, "body.identities.email"), "p@x.example");
    CHECK(q && json_integer_value(json_object_get(json_object_get(json_object_get(q, "body"), "fields"), "customers")) == 0);
    CHECK(jstr(q, "body.fields.finance_customer_id") == NULL);
    json_decref(q);
    CHECK_EQ_I(r.out.n, nout);                  /* rendering a request changes nothing */

    /* create_offer(deal) before the customer exists: the lead without an id */
    q = request(&r, offer, why, sizeof why);
    CHECK_MSG(q != NULL, why);
    CHECK_EQ_S(jstr(q, "path"), "/offers");
    CHECK_EQ_S(jstr(q, "body.key"), "d-1");
    CHECK_EQ_S(jstr(q, "body.fields.name"), "Big");
    CHECK_EQ_S(jstr(q, "body.fields.lead.kind"), "lead");
    CHECK_EQ_S(jstr(q, "body.fields.lead.key"), "p@x.example");
    CHECK(jstr(q, "body.fields.lead.fields.finance_customer_id") == NULL);
    json_decref(q);

    /* link(lead, deal): its path needs the customer id */
    q = request(&r, link, why, sizeof why);
    CHECK(q == NULL);
    CHECK_MSG(strstr(why, "lead.finance_customer_id") && strstr(why, "not set yet"), why);

    /* the customer's response comes back: stored, and the trigger on it fires */
    nout = r.out.n;
    char env[2048];
    CHECK_EQ_I(result(&r, cust, "res-1", "2026-10-01T10:00:05Z", "{ \"id\" : \"cus_1\",\n \"name\": \"P X\" }", env,
                      sizeof env), ENG_OK);
    CHECK(strstr(env, "\"type\":\"connector_result\"") && strstr(env, "\"source\":\"dna\"") &&
          strstr(env, "\"occurred_at\":\"2026-10-01T10:00:05Z\"") &&
          strstr(env, "\"subject\":{\"entity\":\"lead\",\"email\":\"p@x.example\"}") &&
          strstr(env, "\"args\":[{\"kind\":\"lead\",\"key\":\"p@x.example\"}]") &&
          strstr(env, "\"response\":{\"id\":\"cus_1\",\"name\":\"P X\"}"));
    CHECK_EQ_S(slot_str(&r, lead, "finance_customer_id", buf, sizeof buf), "cus_1");
    CHECK_EQ_I(count_from(&r.out, nout, "\"event\":\"res-1\"", "\"kind\":\"set\"", "\"field\":\"finance_customer_id\"",
                          "\"value\":\"cus_1\"", "\"from\":\"response.id\"", "\"connector\":\"finance\"",
                          "\"method\":\"create_customer\"", (char *)NULL), 1);
    CHECK_EQ_I(slot_int(&r, lead, "customers"), 1);             /* `changes` fired */
    CHECK_EQ_I(count_from(&r.out, nout, "\"rule\":\"customer_known\"", "\"kind\":\"webhook\"", (char *)NULL), 1);

    /* the same result again: a duplicate, nothing changes */
    nout = r.out.n;
    CHECK_EQ_I(feed(&r, env, why), ENG_DUPLICATE);
    CHECK_EQ_I(r.out.n, nout);
    CHECK_EQ_I(slot_int(&r, lead, "customers"), 1);

    /* then create_offer: its body now carries the customer id stored on the lead */
    q = request(&r, offer, why, sizeof why);
    CHECK_MSG(q != NULL, why);
    CHECK_EQ_S(jstr(q, "body.fields.lead.fields.finance_customer_id"), "cus_1");
    json_decref(q);
    /* and link renders, with one object per parameter */
    q = request(&r, link, why, sizeof why);
    CHECK_MSG(q != NULL, why);
    CHECK_EQ_S(jstr(q, "verb"), "PUT");
    CHECK_EQ_S(jstr(q, "path"), "/customers/cus_1/deals");
    CHECK_EQ_S(jstr(q, "body.lead.fields.finance_customer_id"), "cus_1");
    CHECK_EQ_S(jstr(q, "body.deal.key"), "d-1");
    CHECK_EQ_S(jstr(q, "body.deal.fields.lead.key"), "p@x.example");
    json_decref(q);

    /* a payment before the offer exists: the invoice call cannot be sent yet */
    CHECK_EQ_I(ev(&r, "payment_received", "2026-10-01T10:01:00Z", DEAL, "{\"amount\":1200.5}"), ENG_OK);
    const char *inv = last_with(&r.out, "\"kind\":\"connector\"", "\"method\":\"create_invoice\"");
    CHECK(inv != NULL);
    q = request(&r, inv, why, sizeof why);
    CHECK(q == NULL);
    CHECK_MSG(strstr(why, "deal.offer_id") && strstr(why, "not set yet"), why);

    /* the offer's response: a numeric id becomes the string id, "99.50" the
     * decimal, "true" the bool; the id is an identity and now finds the deal */
    nout = r.out.n;
    CHECK_EQ_I(result(&r, offer, "res-2", "2026-10-01T10:02:00Z", "{\"id\":123,\"offer\":{\"total\":\"99.50\"},\"ok\":\"true\"}",
                      NULL, 0), ENG_OK);
    CHECK_EQ_S(slot_str(&r, deal, "offer_id", buf, sizeof buf), "123");
    CHECK_EQ_I(slot_int(&r, deal, "offer_total"), 99500);
    CHECK_EQ_I(slot_int(&r, deal, "offer_ok"), 1);
    CHECK_EQ_I(count_from(&r.out, nout, "\"kind\":\"set\"", "\"from\":\"response.offer.total\"", "\"value\":99.5",
                          (char *)NULL), 1);
    CHECK_EQ_I(eng_find(r.e, "deal", "123"), deal->handle);
    uint64_t before = eng_count(r.e);
    CHECK_EQ_I(ev(&r, "payment_received", "2026-10-01T10:03:00Z", "{\"entity\":\"deal\",\"offer_id\":\"123\"}",
                  "{\"amount\":1.0}"), ENG_OK);
    CHECK_EQ_I(eng_count(r.e), before);         /* the same deal, not a new one */

    /* create_invoice now has its path */
    q = request(&r, inv, why, sizeof why);
    CHECK_MSG(q != NULL, why);
    CHECK_EQ_S(jstr(q, "path"), "/offers/123/create_invoice");
    json_decref(q);

    /* an invoice response without an id: the field stays, the effect says why */
    nout = r.out.n;
    CHECK_EQ_I(result(&r, inv, "res-3", "2026-10-01T10:04:00Z", "{\"status\":\"queued\"}", NULL, 0), ENG_OK);
    CHECK(slot_str(&r, deal, "invoice_id", buf, sizeof buf) == NULL);
    CHECK_EQ_I(count_from(&r.out, nout, "\"kind\":\"error\"", "\"field\":\"invoice_id\"", "\"from\":\"response.id\"",
                          "no value at that path", "\"method\":\"create_invoice\"", (char *)NULL), 1);
    CHECK_EQ_I(count_from(&r.out, nout, "\"kind\":\"set\"", (char *)NULL), 0);
    /* a body that is not JSON: response null, the same */
    nout = r.out.n;
    CHECK_EQ_I(result(&r, inv, "res-4", "2026-10-01T10:05:00Z", "<html>oops</html>", env, sizeof env), ENG_OK);
    CHECK(strstr(env, "\"response\":null") != NULL);
    CHECK_EQ_I(count_from(&r.out, nout, "\"kind\":\"error\"", "not JSON", (char *)NULL), 1);
    /* a partial offer response: what is there is stored, the rest reported */
    nout = r.out.n;
    CHECK_EQ_I(result(&r, offer, "res-5", "2026-10-01T10:06:00Z", "{\"id\":\"of_9\",\"ok\":false}", NULL, 0), ENG_OK);
    CHECK_EQ_S(slot_str(&r, deal, "offer_id", buf, sizeof buf), "of_9");
    CHECK_EQ_I(slot_int(&r, deal, "offer_ok"), 0);
    CHECK_EQ_I(slot_int(&r, deal, "offer_total"), 99500);
    CHECK_EQ_I(count_from(&r.out, nout, "\"kind\":\"error\"", "\"field\":\"offer_total\"", (char *)NULL), 1);
    /* a value of the wrong type is reported, not stored */
    nout = r.out.n;
    CHECK_EQ_I(result(&r, offer, "res-6", "2026-10-01T10:07:00Z", "{\"id\":\"of_9\",\"ok\":\"maybe\"}", NULL, 0), ENG_OK);
    CHECK_EQ_I(count_from(&r.out, nout, "\"kind\":\"error\"", "\"field\":\"offer_ok\"", "true or false", (char *)NULL), 1);
    CHECK_EQ_I(slot_int(&r, deal, "offer_ok"), 0);

    /* the invoice at last */
    CHECK_EQ_I(result(&r, inv, "res-7", "2026-10-01T10:08:00Z", "{\"id\":\"inv_1\"}", NULL, 0), ENG_OK);
    CHECK_EQ_S(slot_str(&r, deal, "invoice_id", buf, sizeof buf), "inv_1");

    if (getenv("CALLS_VERBOSE"))
        for (int i = 0; i < r.out.n; i++) printf("effect: %s\n", r.out.v[i]);
    /* replaying every accepted envelope gives the same effects, byte for byte */
    Run r2;
    if (run_open(&r2, &r.b) == 0) {
        for (int i = 0; i < r.fed.n; i++) CHECK_EQ_I(feed(&r2, r.fed.v[i], why), ENG_OK);
        CHECK_EQ_I(r2.out.n, r.out.n);
        for (int i = 0; i < r.out.n && i < r2.out.n; i++) CHECK_EQ_S(r2.out.v[i], r.out.v[i]);
        run_close(&r2, 0);
    } else CHECK_MSG(0, "second engine");
    run_close(&r, 1);
}

/* ---- refusals ---------------------------------------------------------------------------- */

static void test_refusals(void)
{
    Run r;
    if (run_open(&r, NULL)) { CHECK_MSG(0, "compile tests/unit/calls.dna"); return; }
    char why[256];
    CHECK_EQ_I(ev(&r, "deal_created", "2026-10-01T09:00:00Z", DEAL, "{\"name\":\"Big\",\"contact\":\"p@x.example\"}"), ENG_OK);
    int nout = r.out.n;
    const char *env_fmt = "{\"id\":\"%s\",\"type\":\"connector_result\",\"occurred_at\":\"2026-10-01T10:00:00Z\","
                          "\"subject\":%s,\"data\":%s}";
    struct { const char *data, *want; } bad[] = {
        { "{\"connector\":\"billing\",\"method\":\"create_customer\",\"args\":[{\"kind\":\"lead\",\"key\":\"p@x.example\"}],\"response\":{}}",
          "unknown connector 'billing'" },
        { "{\"connector\":\"finance\",\"method\":\"create_refund\",\"args\":[{\"kind\":\"lead\",\"key\":\"p@x.example\"}],\"response\":{}}",
          "has no method 'create_refund'" },
        { "{\"connector\":\"hooks\",\"method\":\"create_customer\",\"args\":[],\"response\":{}}", "has no method" },
        { "{\"connector\":\"finance\",\"method\":\"create_customer\",\"args\":[],\"response\":{}}", "must list the 1 argument" },
        { "{\"connector\":\"finance\",\"method\":\"create_customer\",\"args\":[{\"kind\":\"deal\",\"key\":\"d-1\"}],\"response\":{}}",
          "must be \"lead\"" },
        { "{\"connector\":\"finance\",\"method\":\"create_customer\",\"args\":[{\"kind\":\"lead\",\"key\":\"\"}],\"response\":{}}",
          "non-empty" },
        { "{\"connector\":\"finance\",\"method\":\"create_customer\",\"args\":[{\"kind\":\"lead\",\"key\":\"p@x.example\"}],\"extra\":1}",
          "not a field of connector_result" },
        { "{\"method\":\"create_customer\"}", "data.connector" },
        { "{\"connector\":\"finance\",\"method\":\"create_customer\",\"args\":[{\"kind\":\"lead\",\"key\":\"ghost@x\"}],\"response\":{}}",
          "lead that does not exist" },
        { NULL, NULL },
    };
    for (int i = 0; bad[i].data; i++) {
        char buf[1024], id[16];
        snprintf(id, sizeof id, "bad-%d", i);
        snprintf(buf, sizeof buf, env_fmt, id, LEAD, bad[i].data);
        why[0] = 0;
        CHECK_EQ_I(feed(&r, buf, why), ENG_REJECTED);
        CHECK_MSG(strstr(why, bad[i].want) != NULL, why);
    }
    char buf[1024];
    snprintf(buf, sizeof buf, env_fmt, "bad-x", LEAD, "[]");
    CHECK_EQ_I(feed(&r, buf, why), ENG_REJECTED);
    CHECK_EQ_I(r.out.n, nout);                  /* nothing happened */

    /* effect lines the request functions refuse */
    struct { const char *line, *want; } lines[] = {
        { "{\"kind\":\"notify\",\"detail\":{}}", "not a connector call" },
        { "not json", "not JSON" },
        { "{\"kind\":\"connector\",\"detail\":{\"connector\":\"finance\",\"method\":\"nope\",\"args\":[]}}", "no method 'nope'" },
        { "{\"kind\":\"connector\",\"detail\":{\"connector\":\"finance\",\"method\":\"create_customer\",\"args\":[null]}}",
          "argument 1 (lead) of finance.create_customer is not set" },
        { "{\"kind\":\"connector\",\"detail\":{\"connector\":\"finance\",\"method\":\"create_customer\",\"args\":[\"ghost@x\"]}}",
          "there is no lead 'ghost@x'" },
        { "{\"kind\":\"connector\",\"detail\":{\"connector\":\"finance\",\"method\":\"link\",\"args\":[\"p@x.example\"]}}",
          "takes 2 argument(s)" },
        { NULL, NULL },
    };
    for (int i = 0; lines[i].line; i++) {
        why[0] = 0;
        json_t *q = request(&r, lines[i].line, why, sizeof why);
        CHECK(q == NULL);
        json_decref(q);
        CHECK_MSG(strstr(why, lines[i].want) != NULL, why);
        JsonW w;
        jw_init(&w);
        why[0] = 0;
        CHECK_EQ_I(eng_call_result(r.e, lines[i].line, strlen(lines[i].line), "x", 0, "{}", 2, &w, why, sizeof why), -1);
        CHECK_EQ_I(w.n, 0);
        CHECK_MSG(strstr(why, lines[i].want) != NULL, why);
        jw_free(&w);
    }
    run_close(&r, 1);
}

/* ---- the shipped rules: won_to_finance parks for approval, then calls ---------------------- */

static void test_shipped(void)
{
    Run r;
    if (run_open_path(&r, NULL, DNA_SOURCE_DIR "/rules")) { CHECK_MSG(0, "compile rules/"); return; }
    char why[256], buf[128];
    const char *deal = "{\"entity\":\"deal\",\"crm_deal_id\":\"crm-7\"}";
    CHECK_EQ_I(ev(&r, "deal_created", "2026-10-01T09:00:00Z", deal,
                  "{\"name\":\"Lab\",\"contact\":\"ana@lab.example\",\"value\":5000}"), ENG_OK);
    CHECK_EQ_I(ev(&r, "deal_stage_changed", "2026-10-02T09:00:00Z", deal, "{\"stage\":\"closed_won\"}"), ENG_OK);
    CHECK_EQ_I(count_from(&r.out, 0, "\"kind\":\"approval\"", "\"rule\":\"won_to_finance\"", (char *)NULL), 1);
    CHECK_EQ_I(count_from(&r.out, 0, "\"kind\":\"connector\"", (char *)NULL), 0);
    CHECK_EQ_I(ev(&r, "approval", "2026-10-02T10:00:00Z", "{}", "{\"id\":1,\"decision\":\"approve\"}"), ENG_OK);
    const char *cust = last_with(&r.out, "\"kind\":\"connector\"", "\"method\":\"create_customer\"");
    const char *offer = last_with(&r.out, "\"kind\":\"connector\"", "\"method\":\"create_offer\"");
    CHECK(cust && offer && strstr(cust, "\"approval\":1"));
    if (!cust || !offer) { run_close(&r, 1); return; }
    json_t *q = request(&r, cust, why, sizeof why);
    CHECK_MSG(q != NULL, why);
    CHECK_EQ_S(jstr(q, "path"), "/customers");
    CHECK_EQ_S(jstr(q, "body.identities.email"), "ana@lab.example");
    json_decref(q);
    CHECK_EQ_I(result(&r, cust, "fin-1", "2026-10-02T10:00:01Z", "{\"id\":\"C-1\"}", NULL, 0), ENG_OK);
    Ent *lead = find(&r, "lead", "ana@lab.example");
    CHECK(lead && slot_str(&r, lead, "finance_customer_id", buf, sizeof buf) && !strcmp(buf, "C-1"));
    q = request(&r, offer, why, sizeof why);
    CHECK_MSG(q != NULL, why);
    CHECK_EQ_S(jstr(q, "path"), "/offers");
    CHECK_EQ_S(jstr(q, "body.key"), "crm-7");
    CHECK_EQ_S(jstr(q, "body.fields.lead.fields.finance_customer_id"), "C-1");
    json_decref(q);
    CHECK_EQ_I(result(&r, offer, "fin-2", "2026-10-02T10:00:02Z", "{\"id\":\"OF-1\"}", NULL, 0), ENG_OK);
    /* the finance payment webhook names the offer: the same deal, and the invoice call */
    uint64_t n = eng_count(r.e);
    CHECK_EQ_I(ev(&r, "payment_received", "2026-10-03T09:00:00Z", "{\"entity\":\"deal\",\"offer_id\":\"OF-1\"}",
                  "{\"payment_id\":\"pay-1\",\"amount\":5000,\"currency\":\"EUR\"}"), ENG_OK);
    CHECK_EQ_I(eng_count(r.e), n);
    const char *inv = last_with(&r.out, "\"kind\":\"connector\"", "\"method\":\"create_invoice\"");
    CHECK(inv != NULL);
    q = request(&r, inv, why, sizeof why);
    CHECK_MSG(q != NULL, why);
    CHECK_EQ_S(jstr(q, "path"), "/offers/OF-1/create_invoice");
    json_decref(q);
    run_close(&r, 1);
}

int main(void)
{
    test_chain();
    test_refusals();
    test_shipped();
    return check_report("calls");
}
