/*
 * test_source.c - source webhook signatures: the known answers of
 * ../shared/testdata/README.md (Standard Webhooks, GitHub-style
 * X-Hub-Signature-256) verify, and each kind of bad signature is refused.
 * Also the bundle's operator codes (bundle/ops.h): the emitter maps every
 * AST operator onto the code of the same spelling or refuses it (B001), every
 * code has its AST operator, and a source map using each of them, and each
 * built-in a map may call, compiles and evaluates in webhook.c.
 */
#include "serve/webhook.h"
#include "bundle/ops.h"
#include "emit/emit.h"
#include "front/ast.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>

static int fails;
#define CHECK(cond, what) do { if (!(cond)) { printf("FAIL: %s\n", what); fails++; } } while (0)

/* Compile TEXT (module t, a source s); 0 on success with *b read back. */
static uint32_t compile(const char *text, DnaBundle *b, char *first, size_t fl)
{
    Project pr;
    proj_init(&pr, NULL);
    uint32_t nerr = proj_add_source(&pr, "t.dna", text, strlen(text)) ? proj_check(&pr) : 1;
    DnaBuf out = { 0 };
    if (!nerr) nerr = emit_bundle(&pr, &out);
    snprintf(first, fl, "%s", pr.diags.n ? pr.diags.v[0].msg : "");
    if (!nerr) {
        DnaLoadResult res;
        if (bundle_read(out.p, out.n, b, &res) != DNA_LOAD_OK) nerr = 1;
    }
    dna_buf_free(&out);
    proj_free(&pr);
    return nerr;
}

static const char *no_header(void *ud, const char *name) { (void)ud; (void)name; return NULL; }

/* The event wh_map makes of BODY (JSON text), or "-" when no map accepts it. */
static const char *mapped(const DnaBundle *b, const char *body, char *buf, size_t bl)
{
    char why[200];
    json_t *j = json_loads(body, 0, NULL);
    json_t *env = j ? wh_map(b, wh_find(b, "s"), j, no_header, NULL, why, sizeof why) : NULL;
    snprintf(buf, bl, "%s", env ? json_string_value(json_object_get(env, "type")) : strstr(why, "no map") ? "-" : why);
    json_decref(env);
    json_decref(j);
    return buf;
}

static void check_ops(void)
{
    /* every AST operator: the code of its spelling, or none; one per code */
    int mapped_to[256] = { 0 };
    unsigned nops = 0;
    for (unsigned op = 0; strcmp(ast_op_text((Op)op), "?"); op++, nops++) {
        uint32_t c = emit_op_code((Op)op);
        if (c == DNA_NIL) continue;
        const char *t = dna_op_text(c);
        CHECK(t && !strcmp(t, ast_op_text((Op)op)), "an AST operator maps onto the bundle code of its spelling");
        CHECK(c < 256 && mapped_to[c]++ == 0, "two AST operators map onto one bundle code");
    }
    CHECK(nops > OP_NEG, "ast_op_text names every AST operator");
#define HAS_AST(name, code, text) CHECK(mapped_to[code] == 1, "bundle operator '" text "' has an AST operator");
    DNA_OPS(HAS_AST)
#undef HAS_AST
    for (uint32_t c = 0; c < 256; c++)
        if (!dna_op_text(c)) CHECK(!mapped_to[c], "an AST operator maps onto a code the format does not define");

    /* each code compiles into a map and evaluates: the first map that holds wins */
    static const char *const prog =
        "module t\n"
        "event e_or { id: string }  event e_and { id: string }  event e_eq { id: string }\n"
        "event e_ne { id: string }  event e_lt { id: string }  event e_le { id: string }\n"
        "event e_gt { id: string }  event e_ge { id: string }  event e_contains { id: string }\n"
        "event e_lower { id: string }  event e_upper { id: string }  event e_trim { id: string }\n"
        "event e_is_set { id: string }  event e_coalesce { id: string }\n"
        "source s {\n"
        "  path \"/v1/sources/s\"\n"
        "  signature hmac_sha256 header \"X-Sig\" secret env(\"S_SECRET\")\n"
        "  map e_or when body.k == \"or\" and (body.a == 1 or body.b == 1) { id = body.id }\n"
        "  map e_and when body.k == \"and\" and body.a == 1 { id = body.id }\n"
        "  map e_eq when body.k == \"eq\" and body.a == body.b { id = body.id }\n"
        "  map e_ne when body.k == \"ne\" and body.a != body.b { id = body.id }\n"
        "  map e_lt when body.k == \"lt\" and body.a < body.b { id = body.id }\n"
        "  map e_le when body.k == \"le\" and body.a <= body.b { id = body.id }\n"
        "  map e_gt when body.k == \"gt\" and body.a > body.b { id = body.id }\n"
        "  map e_ge when body.k == \"ge\" and body.a >= body.b { id = body.id }\n"
        "  map e_contains when body.k == \"contains\" and body.s contains \"ll\" { id = body.id }\n"
        "  map e_lower when body.k == \"lower\" and lower(body.s) == \"ab\" { id = body.id }\n"
        "  map e_upper when body.k == \"upper\" and upper(body.s) == \"AB\" { id = body.id }\n"
        "  map e_trim when body.k == \"trim\" and trim(body.s) == \"ab\" { id = body.id }\n"
        "  map e_is_set when body.k == \"is_set\" and is_set(body.s) { id = body.id }\n"
        "  map e_coalesce when body.k == \"coalesce\" and coalesce(body.s, \"x\") == \"x\" { id = body.id }\n"
        "}\n";
    DnaBundle b;
    char first[300], buf[300];
    uint32_t nerr = compile(prog, &b, first, sizeof first);
    CHECK(nerr == 0, "a source map with every stored operator compiles");
    if (nerr) { printf("  %s\n", first); return; }
    static const struct { const char *body, *want; } cases[] = {
        { "{\"k\":\"or\",\"a\":0,\"b\":1}", "e_or" },  { "{\"k\":\"or\",\"a\":0,\"b\":0}", "-" },
        { "{\"k\":\"and\",\"a\":1}", "e_and" },        { "{\"k\":\"and\",\"a\":2}", "-" },
        { "{\"k\":\"eq\",\"a\":\"x\",\"b\":\"x\"}", "e_eq" }, { "{\"k\":\"eq\",\"a\":1,\"b\":2}", "-" },
        { "{\"k\":\"ne\",\"a\":1,\"b\":2}", "e_ne" },  { "{\"k\":\"ne\",\"a\":2,\"b\":2}", "-" },
        { "{\"k\":\"lt\",\"a\":1,\"b\":2}", "e_lt" },  { "{\"k\":\"lt\",\"a\":2,\"b\":2}", "-" },
        { "{\"k\":\"le\",\"a\":2,\"b\":2}", "e_le" },  { "{\"k\":\"le\",\"a\":3,\"b\":2}", "-" },
        { "{\"k\":\"gt\",\"a\":\"b\",\"b\":\"a\"}", "e_gt" }, { "{\"k\":\"gt\",\"a\":2,\"b\":2}", "-" },
        { "{\"k\":\"ge\",\"a\":2,\"b\":2}", "e_ge" },  { "{\"k\":\"ge\",\"a\":1,\"b\":2}", "-" },
        { "{\"k\":\"contains\",\"s\":\"hello\"}", "e_contains" }, { "{\"k\":\"contains\",\"s\":\"help\"}", "-" },
        { "{\"k\":\"lower\",\"s\":\"aB\"}", "e_lower" },   { "{\"k\":\"lower\",\"s\":\"aC\"}", "-" },
        { "{\"k\":\"upper\",\"s\":\"aB\"}", "e_upper" },   { "{\"k\":\"upper\",\"s\":\"aC\"}", "-" },
        { "{\"k\":\"trim\",\"s\":\" ab \"}", "e_trim" },   { "{\"k\":\"trim\",\"s\":\" a b\"}", "-" },
        { "{\"k\":\"is_set\",\"s\":\"x\"}", "e_is_set" }, { "{\"k\":\"is_set\"}", "-" },
        { "{\"k\":\"coalesce\"}", "e_coalesce" }, { "{\"k\":\"coalesce\",\"s\":\"y\"}", "-" },
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        const char *got = mapped(&b, cases[i].body, buf, sizeof buf);
        if (strcmp(got, cases[i].want)) {
            printf("FAIL: %s maps to %s, not %s\n", cases[i].body, got, cases[i].want);
            fails++;
        }
    }
    bundle_free(&b);

    /* an operator a source map cannot hold is refused when compiling, not per request */
    nerr = compile("module t\nevent e { id: string }\nsource s {\n  path \"/v1/sources/s\"\n"
                   "  signature hmac_sha256 header \"X-Sig\" secret env(\"S_SECRET\")\n"
                   "  map e when body.a + 1 == 2 { id = body.id }\n}\n", &b, first, sizeof first);
    CHECK(nerr && strstr(first, "the operator '+' cannot be stored in a source map"), "'+' in a source map is refused (B001)");
    if (!nerr) bundle_free(&b);
    /* so is a built-in the evaluator does not compute */
    nerr = compile("module t\nevent e { id: string }\nsource s {\n  path \"/v1/sources/s\"\n"
                   "  signature hmac_sha256 header \"X-Sig\" secret env(\"S_SECRET\")\n"
                   "  map e when domain(body.a) == \"x.org\" { id = body.id }\n}\n", &b, first, sizeof first);
    CHECK(nerr && strstr(first, "domain() cannot be used in a source map"), "domain() in a source map is refused (B001)");
    if (!nerr) bundle_free(&b);

    /* `tolerance` only where the signature covers a time stamp: a bundle
     * from before dnac refused it elsewhere is named at start (issue 19) */
    nerr = compile("module t\nevent e { id: string }\n"
                   "source a {\n  path \"/v1/sources/a\"\n  signature hmac_sha256 header \"X-Sig\" secret env(\"A_SECRET\")\n"
                   "  map e { id = body.id }\n}\n"
                   "source w {\n  path \"/v1/sources/w\"\n  signature standard_webhooks secret env(\"W_SECRET\")\n  tolerance 2m\n"
                   "  map e { id = body.id }\n}\n", &b, first, sizeof first);
    CHECK(nerr == 0, first);
    if (!nerr) {
        const DnaSource *sa = wh_find(&b, "a"), *sw = wh_find(&b, "w");
        CHECK(sa && sw && !wh_tolerance_ignored(&b, sa) && !wh_tolerance_ignored(&b, sw), "no tolerance ignored");
        DnaOpt *oa = NULL, *ow = NULL;
        for (uint32_t i = 0; sa && i < sa->nopts; i++)
            if (!strcmp(bundle_str(&b, b.opts[sa->opt + i].key), "signature")) oa = &b.opts[sa->opt + i];
        for (uint32_t i = 0; sw && i < sw->nopts; i++)
            if (!strcmp(bundle_str(&b, b.opts[sw->opt + i].key), "signature")) ow = &b.opts[sw->opt + i];
        CHECK(oa && ow, "the signature settings are in the bundle");
        if (oa && ow) {
            ow->word = oa->word;                /* what an older dnac let through: hmac_sha256 with a tolerance */
            CHECK(wh_tolerance_ignored(&b, sw), "a tolerance on hmac_sha256 is named as ignored");
        }
        bundle_free(&b);
    }
}

int main(void)
{
    char why[256];
    const char *sw_secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", *sw_id = "msg_p5jXN8AQM9LWM0D4loKWxJek",
               *sw_ts = "1614265330", *sw_body = "{\"test\": 2432232314}",
               *sw_sig = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=";
    int64_t now = 1614265330LL * 1000, tol = 300 * 1000;
    size_t bl = strlen(sw_body);
    CHECK(wh_stdwh_check(sw_secret, sw_id, sw_ts, sw_sig, sw_body, bl, now, tol, why, sizeof why) == 0, "standard webhooks known answer");
    CHECK(wh_stdwh_check(sw_secret, sw_id, sw_ts, "v1,bm9wZQ== v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=", sw_body, bl, now, tol,
                          why, sizeof why) == 0, "standard webhooks: the second of two signatures");
    CHECK(wh_stdwh_check(sw_secret, sw_id, sw_ts, sw_sig, sw_body, bl, now + 299 * 1000, tol, why, sizeof why) == 0, "299 s late is fine");
    CHECK(wh_stdwh_check(sw_secret, sw_id, sw_ts, sw_sig, sw_body, bl, now + 301 * 1000, tol, why, sizeof why) != 0 && strstr(why, "too old"),
          "stale time stamp refused");
    CHECK(wh_stdwh_check(sw_secret, sw_id, sw_ts, sw_sig, sw_body, bl, now - 301 * 1000, tol, why, sizeof why) != 0 && strstr(why, "future"),
          "future time stamp refused");
    CHECK(wh_stdwh_check("whsec_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", sw_id, sw_ts, sw_sig, sw_body, bl, now, tol, why, sizeof why) != 0,
          "wrong secret refused");
    CHECK(wh_stdwh_check(sw_secret, sw_id, sw_ts, sw_sig, "{\"test\": 2432232315}", bl, now, tol, why, sizeof why) != 0,
          "changed body refused");
    CHECK(wh_stdwh_check(sw_secret, "msg_other", sw_ts, sw_sig, sw_body, bl, now, tol, why, sizeof why) != 0, "changed id refused");
    CHECK(wh_stdwh_check(sw_secret, sw_id, sw_ts, NULL, sw_body, bl, now, tol, why, sizeof why) != 0 && strstr(why, "missing"),
          "missing signature header refused");
    CHECK(wh_stdwh_check(sw_secret, NULL, sw_ts, sw_sig, sw_body, bl, now, tol, why, sizeof why) != 0, "missing id header refused");
    CHECK(wh_stdwh_check(sw_secret, sw_id, NULL, sw_sig, sw_body, bl, now, tol, why, sizeof why) != 0, "missing timestamp refused");
    CHECK(wh_stdwh_check(sw_secret, sw_id, "16142x", sw_sig, sw_body, bl, now, tol, why, sizeof why) != 0, "bad timestamp refused");
    /* time stamps from outside: checked before any arithmetic (UBSan would stop here otherwise) */
    CHECK(wh_stdwh_check(sw_secret, sw_id, "9223372036854775807", sw_sig, sw_body, bl, now, tol, why, sizeof why) != 0 &&
          strstr(why, "out of range"), "INT64_MAX seconds refused as out of range");
    CHECK(wh_stdwh_check(sw_secret, sw_id, "-9223372036854775808", sw_sig, sw_body, bl, now, tol, why, sizeof why) != 0,
          "INT64_MIN seconds refused");
    CHECK(wh_stdwh_check(sw_secret, sw_id, "999999999999", sw_sig, sw_body, bl, now, tol, why, sizeof why) != 0 && strstr(why, "future"),
          "12 digits: in the future, no overflow");
    CHECK(wh_stdwh_check(sw_secret, sw_id, "-1614265330", sw_sig, sw_body, bl, now, tol, why, sizeof why) != 0, "a sign refused");
    CHECK(wh_stdwh_check(sw_secret, sw_id, "+1614265330", sw_sig, sw_body, bl, now, tol, why, sizeof why) != 0, "a plus sign refused");
    CHECK(wh_stdwh_check(sw_secret, sw_id, " 1614265330", sw_sig, sw_body, bl, now, tol, why, sizeof why) != 0, "a space refused");
    CHECK(wh_stdwh_check(sw_secret, sw_id, sw_ts, sw_sig, sw_body, bl, INT64_MAX, tol, why, sizeof why) != 0, "a clock at INT64_MAX");
    CHECK(wh_stdwh_check(sw_secret, sw_id, sw_ts, sw_sig, sw_body, bl, now, INT64_MAX, why, sizeof why) == 0, "any tolerance");
    CHECK(wh_stdwh_check(sw_secret, sw_id, sw_ts, "g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=", sw_body, bl, now, tol, why, sizeof why) != 0
              && strstr(why, "malformed"), "malformed signature list refused");
    CHECK(wh_stdwh_check(sw_secret, sw_id, sw_ts, "v2,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=", sw_body, bl, now, tol, why, sizeof why) != 0,
          "another version refused");
    CHECK(wh_stdwh_check(sw_secret, sw_id, sw_ts, "v1,!!!", sw_body, bl, now, tol, why, sizeof why) != 0, "garbage base64 refused");
    CHECK(wh_stdwh_check(NULL, sw_id, sw_ts, sw_sig, sw_body, bl, now, tol, why, sizeof why) != 0, "unset secret refused");

    const char *gh_secret = "It's a Secret to Everybody", *gh_body = "Hello, World!",
               *gh_sig = "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17";
    size_t gl = strlen(gh_body);
    CHECK(wh_hmac_check(gh_secret, gh_body, gl, gh_sig, "sha256=", 0, why, sizeof why) == 0, "GitHub known answer");
    CHECK(wh_hmac_check(gh_secret, gh_body, gl, "sha256=757107EA0EB2509FC211221CCE984B8A37570B6D7586C22C46F4379C8B043E17", "sha256=", 0,
                         why, sizeof why) == 0, "hex in upper case");
    CHECK(wh_hmac_check(gh_secret, gh_body, gl, gh_sig + 7, "sha256=", 0, why, sizeof why) != 0, "missing prefix refused");
    CHECK(wh_hmac_check("another secret", gh_body, gl, gh_sig, "sha256=", 0, why, sizeof why) != 0, "wrong secret refused");
    CHECK(wh_hmac_check(gh_secret, "Hello, World?", gl, gh_sig, "sha256=", 0, why, sizeof why) != 0, "changed body refused");
    CHECK(wh_hmac_check(gh_secret, gh_body, gl, NULL, "sha256=", 0, why, sizeof why) != 0, "missing header refused");
    CHECK(wh_hmac_check(gh_secret, gh_body, gl, "sha256=7571", "sha256=", 0, why, sizeof why) != 0, "short signature refused");
    CHECK(wh_hmac_check(gh_secret, gh_body, gl, "sha256=zz", "sha256=", 0, why, sizeof why) != 0, "not hex refused");
    /* the same MAC in base64 */
    CHECK(wh_hmac_check(gh_secret, gh_body, gl, "dXEH6g6yUJ/CESIczphLijdXC211hsIsRvQ3nIsEPhc=", NULL, 1, why, sizeof why) == 0,
          "base64 encoding");

    check_ops();
    printf("%s: %d failed\n", fails ? "FAIL" : "ok", fails);
    return fails != 0;
}
