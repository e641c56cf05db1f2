/*
 * test_bundle.c - the .dnab file: determinism, a write/read round trip,
 * every refusal with its own message, a runtime error that names its rule
 * and source line, and the sketch's rules evaluated against a small
 * in-memory state.
 */
#include "compile_util.h"
#include "vmtest.h"

#include <stdint.h>

#define SKETCH DNA_SOURCE_DIR "/tests/check/sketch.dna"

static void put32(uint8_t *p, uint32_t v) { for (int i = 0; i < 4; i++) p[i] = (uint8_t)(v >> (8 * i)); }

static void fix_checksum(uint8_t *p, size_t n)
{
    uint8_t sum[32];
    memset(p + 24, 0, 32);
    dna_sha256(p, n, sum);
    memcpy(p + 24, sum, 32);
}

static void expect_refusal(const uint8_t *p, size_t n, DnaLoadError want, const char *msg, const char *what)
{
    DnaBundle b;
    DnaLoadResult res;
    DnaLoadError e = bundle_read(p, n, &b, &res);
    CHECK(e == want, "%s: got %s (%s), expected %s", what, bundle_error_name(e), res.msg, bundle_error_name(want));
    CHECK(strstr(res.msg, msg) != NULL, "%s: message \"%s\" lacks \"%s\"", what, res.msg, msg);
    bundle_free(&b);
}

/* offset of section `tag` in a bundle */
static size_t section_at(const uint8_t *p, size_t n, const char *tag)
{
    size_t at = DNA_BUNDLE_HEADER;
    while (at + 16 <= n) {
        uint64_t len = 0;
        for (int i = 7; i >= 0; i--) len = len << 8 | p[at + 8 + i];
        if (!memcmp(p + at, tag, 4)) return at;
        at += 16 + len;
    }
    return 0;
}

static void test_file_format(void)
{
    Project pr1, pr2;
    DnaBuf a = { 0 }, b = { 0 };
    CHECK(cu_compile(&pr1, "sketch", NULL, SKETCH, &a) == 0, "sketch compiles");
    CHECK(cu_compile(&pr2, "sketch", NULL, SKETCH, &b) == 0, "sketch compiles twice");
    CHECK(a.n == b.n && a.n && memcmp(a.p, b.p, a.n) == 0, "same sources give identical bytes");
    proj_free(&pr1);
    proj_free(&pr2);
    dna_buf_free(&b);

    DnaBundle x;
    DnaLoadResult res;
    CHECK(bundle_read(a.p, a.n, &x, &res) == DNA_LOAD_OK, "load: %s", res.msg);
    DnaBuf again = { 0 };
    CHECK(bundle_write(&x, &again) == 0, "rewrite");
    CHECK(again.n == a.n && memcmp(again.p, a.p, a.n) == 0, "read then write gives the same bytes");
    dna_buf_free(&again);
    bundle_free(&x);

    uint8_t *p = malloc(a.n + 16);
    size_t n = a.n;
    memcpy(p, a.p, n);
    expect_refusal(p, 0, DNA_LOAD_TRUNCATED, "the file is empty", "empty");
    expect_refusal(p, 50, DNA_LOAD_TRUNCATED, "shorter than the 92-byte header", "header cut");
    expect_refusal(p, n - 10, DNA_LOAD_TRUNCATED, "bundle is truncated: the file has", "truncated");
    memcpy(p + n, "garbage!", 8);
    expect_refusal(p, n + 8, DNA_LOAD_TRAILING, "8 bytes of trailing garbage", "trailing garbage");
    memcpy(p, a.p, n);
    p[8] = 2;
    expect_refusal(p, n, DNA_LOAD_VERSION, "format version 2 is not supported: this build reads version 1", "version");
    memcpy(p, a.p, n);
    p[n / 2] ^= 0x10;
    expect_refusal(p, n, DNA_LOAD_CHECKSUM, "checksum mismatch", "flipped byte");
    memcpy(p, a.p, n);
    p[0] = 'X';
    expect_refusal(p, n, DNA_LOAD_MAGIC, "not a dna bundle", "magic");
    expect_refusal((const uint8_t *)"hello", 5, DNA_LOAD_MAGIC, "not a dna bundle", "text file");
    /* a section out of place, checksum made right: the parser refuses it */
    memcpy(p, a.p, n);
    size_t enm = section_at(p, n, "ENUM");
    CHECK(enm > 0, "ENUM section found");
    memcpy(p + enm, "MUNE", 4);
    fix_checksum(p, n);
    expect_refusal(p, n, DNA_LOAD_MALFORMED, "expected section ENUM", "section tag");
    /* a count larger than the bytes behind it */
    memcpy(p, a.p, n);
    size_t cnst = section_at(p, n, "CNST");
    put32(p + cnst + 16, 0x7fffffff);
    fix_checksum(p, n);
    expect_refusal(p, n, DNA_LOAD_MALFORMED, "section CNST", "constant count");
    /* a backward jump in the code, checksum made right: the verifier refuses it */
    memcpy(p, a.p, n);
    size_t code = section_at(p, n, "CODE");
    put32(p + code + 20, DNA_MK_ABX(VM_OP_JMP, 0, (uint16_t)(int16_t)-1));
    fix_checksum(p, n);
    expect_refusal(p, n, DNA_LOAD_VERIFY, "backward jump", "backward jump");
    /* a register beyond the unit's count */
    memcpy(p, a.p, n);
    put32(p + code + 20, DNA_MK_ABC(VM_OP_MOVE, 200, 0, 0));
    fix_checksum(p, n);
    expect_refusal(p, n, DNA_LOAD_VERIFY, "register 200 is out of range", "register");
    free(p);
    dna_buf_free(&a);

    /* files on disk */
    DnaBundle y;
    CHECK(bundle_load_file("/nonexistent/x.dnab", &y, &res) == DNA_LOAD_IO, "missing file");
    CHECK(strstr(res.msg, "cannot open bundle '/nonexistent/x.dnab'") != NULL, "io message: %s", res.msg);
    bundle_free(&y);
}

static const char runtime_src[] =
    "module t\n"
    "event ev { n: int, m: int }\n"
    "entity lead { identity email }\n"
    "score sc for lead {\n"
    "  on ev when event.n % event.m == 0 add 1\n"
    "}\n";

static void test_runtime_error(void)
{
    Project pr;
    DnaBundle b;
    if (cu_load(&pr, "t.dna", runtime_src, NULL, &b)) { CHECK(0, "runtime_src compiles"); proj_free(&pr); return; }
    uint32_t r = bundle_rule(&b, "sc#1");
    CHECK(r != DNA_NIL, "rule sc#1 exists");
    DnaValue ev[6] = { dna_str("e", 1), dna_str("ev", 2), dna_str("t", 1), dna_int(0), dna_int(7), dna_int(0) };
    DnaState st = { ev, 6, NULL, 0, 0, 0, NULL, NULL, NULL };
    DnaVm *vm = malloc(sizeof *vm);
    vm_init(vm);
    DnaValue out;
    VmResult res = vm_eval(vm, &b, b.rules[r].cond, &st, &out);
    CHECK(res == VM_ERR_DIV_ZERO, "division by zero: %s", vm_result_name(res));
    char msg[256];
    vm_error_text(vm, &b, msg, sizeof msg);
    CHECK_STR(msg, "rule sc#1 (t.dna:5:14): division by zero");
    ev[5] = dna_int(7);
    res = vm_eval(vm, &b, b.rules[r].cond, &st, &out);
    CHECK(res == VM_OK && out.u.i == 1, "7 %% 7 == 0");
    free(vm);
    bundle_free(&b);
    proj_free(&pr);
}

/* The sketch's rules against an in-memory lead. */
static void test_sketch_rules(void)
{
    Project pr;
    DnaBundle b;
    if (cu_load(&pr, "sketch", NULL, SKETCH, &b)) { CHECK(0, "sketch loads"); proj_free(&pr); return; }
    uint32_t lead = bundle_entity(&b, "lead"), pv = bundle_event(&b, "page_visit");
    DnaValue ls[64], ev[8];
    memset(ls, 0, sizeof ls);
    memset(ev, 0, sizeof ev);
    CHECK(b.entities[lead].nslots <= 64, "lead slots fit");
    ls[bundle_slot(&b, lead, "email")] = dna_str("ada@example.com", 15);
    ls[bundle_slot(&b, lead, "score")] = dna_int(85500);
    ls[bundle_slot(&b, lead, "intent.confidence")] = dna_int(700);
    ev[bundle_event_slot(&b, pv, "url")] = dna_str("/en/pricing", 11);
    DnaState st = { ev, b.events[pv].nslots, ls, b.entities[lead].nslots, 1, 0, NULL, NULL, NULL };
    DnaVm *vm = malloc(sizeof *vm);
    vm_init(vm);
    DnaValue out;
    const DnaRule *r = &b.rules[bundle_rule(&b, "engagement#1")];
    CHECK(vm_eval(vm, &b, r->cond, &st, &out) == VM_OK && out.u.i == 1, "pricing visit matches");
    CHECK(vm_eval(vm, &b, r->value, &st, &out) == VM_OK && out.u.i == 20000, "adds 20.000");
    r = &b.rules[bundle_rule(&b, "intent.b2b#1")];
    CHECK(vm_eval(vm, &b, r->cond, &st, &out) == VM_OK && out.u.i == 0, "not an enterprise visit");
    r = &b.rules[bundle_rule(&b, "lead.grade")];
    CHECK(vm_eval(vm, &b, r->value, &st, &out) == VM_OK && out.kind == DNA_VK_STR && out.len == 1 && out.u.s[0] == 'A',
          "grade A at 85.5");
    ls[bundle_slot(&b, lead, "score")] = dna_int(59999);
    CHECK(vm_eval(vm, &b, r->value, &st, &out) == VM_OK && out.len == 1 && out.u.s[0] == 'C', "grade C at 59.999");
    ls[bundle_slot(&b, lead, "score")] = dna_int(85500);
    r = &b.rules[bundle_rule(&b, "route.lead")];
    CHECK(vm_eval(vm, &b, r->cond, &st, &out) == VM_OK && out.u.i == 1, "qualified for routing");
    r = &b.rules[bundle_rule(&b, "hot_lead")];
    const DnaArm *arm = &b.arms[r->arm];
    const DnaAction *notify = &b.actions[arm->action];
    const DnaArg *msg = &b.args[notify->arg + 1];
    CHECK_STR(bundle_str(&b, msg->key), "message");
    CHECK(vm_eval(vm, &b, msg->unit, &st, &out) == VM_OK, "message evaluates");
    char text[128];
    snprintf(text, sizeof text, "%.*s", (int)out.len, out.u.s);
    CHECK_STR(text, "Hot lead ada@example.com: 85.5 points");
    uint64_t before = dna_mem_stats()->allocs;
    for (int i = 0; i < 1000; i++) vm_eval(vm, &b, msg->unit, &st, &out);
    CHECK_EQ_I(dna_mem_stats()->allocs - before, 0);
    free(vm);
    bundle_free(&b);
    proj_free(&pr);
}

/* The format's action kinds: the emitter maps each AST action onto its own
 * one, and every kind has its AST action (the names are pinned by the golden
 * disassembly). */
static void test_action_kinds(void)
{
    int seen[DACT__COUNT + 1] = { 0 };
    for (int k = ACT_SET; k <= ACT_EMIT; k++) {
        DnaActKind d = emit_action_kind((ActKind)k);
        CHECK(d < DACT__COUNT, "AST action %d maps onto no bundle action kind", k);
        if (d < DACT__COUNT) CHECK(seen[d]++ == 0, "two AST actions map onto bundle action %s", bundle_action_name(d));
    }
    for (int d = 0; d < DACT__COUNT; d++) CHECK(seen[d] == 1, "bundle action %s has no AST action", bundle_action_name((unsigned)d));
    CHECK(!strcmp(bundle_action_name(DACT_NOTIFY), "notify") && !strcmp(bundle_action_name(DACT__COUNT), "?"),
          "action names: %s, %s", bundle_action_name(DACT_NOTIFY), bundle_action_name(DACT__COUNT));
}

int main(void)
{
    test_action_kinds();
    test_file_format();
    test_runtime_error();
    test_sketch_rules();
    return t_done("test_bundle");
}
