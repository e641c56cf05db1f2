/*
 * test_source.c - source webhook signatures: the known answers of
 * ../shared/testdata/README.md (Standard Webhooks, GitHub-style
 * X-Hub-Signature-256) verify, and each kind of bad signature is refused.
 * Also checks that webhook.c's operator codes mirror compiler/ast.h's Op.
 */
#include "serve/webhook.h"
#include "front/ast.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>

static int fails;
#define CHECK(cond, what) do { if (!(cond)) { printf("FAIL: %s\n", what); fails++; } } while (0)

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

    CHECK(OP_OR == 1 && OP_AND == 2 && OP_NOT == 3 && OP_EQ == 4 && OP_NE == 5 && OP_LT == 6 && OP_LE == 7 && OP_GT == 8 &&
              OP_GE == 9 && OP_CONTAINS == 10, "webhook.c's operator codes mirror compiler/ast.h");
    printf("%s: %d failed\n", fails ? "FAIL" : "ok", fails);
    return fails != 0;
}
