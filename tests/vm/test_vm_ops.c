/*
 * test_vm_ops.c - one test (at least) per opcode, run through both
 * dispatch builds (computed goto and switch), which must agree; error
 * paths (overflow, division by zero, a full scratch buffer, wrong kinds)
 * and the error message naming the rule and its source; and the
 * verifier's refusals (backward jumps, registers, constants, slots, ...).
 *
 * The bundle is built by hand here, so the VM is tested apart from the
 * emitter.  At the end every opcode must have been executed at least once.
 */
#include "vm/vm.h"
#include "vmtest.h"

#include <stdint.h>

#define ABC(op, a, b, c) DNA_MK_ABC(VM_OP_##op, a, b, c)
#define ABX(op, a, bx) DNA_MK_ABX(VM_OP_##op, a, bx)
#define ASBX(op, a, s) DNA_MK_ABX(VM_OP_##op, a, (uint16_t)(int16_t)(s))

static const char *const strings[] = {
    "", "hello", "ell", "ev", "id", "type", "source", "occurred_at", "url", "n",
    "lead", "name", "x", "ref", "tags", "color", "red", "green", "blue", "nums",
    "HeLLo", "  pad  ", "Ada@Example.COM", "https://user@www.Example.com:8080/x?y", "h\xc3\xa9llo", "Europe/Test",
    "rule#1", "t.dna", "lo", "big", "b",
};
enum { S_EMPTY, S_HELLO, S_ELL, S_HELLO_MIXED = 20, S_PAD, S_EMAIL, S_URL, S_UTF8, S_TZ, S_RULE, S_FILE, S_LO, S_BIG };

static DnaStr strs[64];
static char big[3000];
static DnaConst consts[] = {
    { DT_INT, {0}, DNA_NIL, 5 },            /* k0 */
    { DT_STR, {0}, S_HELLO, 0 },            /* k1 */
    { DT_STR, {0}, S_ELL, 0 },              /* k2 */
    { DT_DEC, {0}, DNA_NIL, 1500 },         /* k3 1.5 */
    { DT_INT, {0}, DNA_NIL, INT64_MAX },    /* k4 */
    { DT_INT, {0}, DNA_NIL, INT64_MIN },    /* k5 */
    { DT_STR, {0}, S_HELLO_MIXED, 0 },      /* k6 */
    { DT_STR, {0}, S_PAD, 0 },              /* k7 */
    { DT_STR, {0}, S_EMAIL, 0 },            /* k8 */
    { DT_STR, {0}, S_URL, 0 },              /* k9 */
    { DT_STR, {0}, S_UTF8, 0 },             /* k10 */
    { DT_VOID, {0}, DNA_NIL, 0 },           /* k11 none */
    { DT_STR, {0}, S_EMPTY, 0 },            /* k12 */
    { DT_STR, {0}, S_LO, 0 },               /* k13 */
    { DT_TS, {0}, DNA_NIL, 1790838000123 }, /* k14 2026-10-01T07:00:00.123Z */
    { DT_STR, {0}, S_BIG, 0 },              /* k15: 3000 bytes */
    { DT_DUR, {0}, DNA_NIL, 129600000 },    /* k16 36h */
    { DT_STR, {0}, 30, 0 },                 /* k17 "b" */
    { DT_DEC, {0}, DNA_NIL, 54625 },        /* k18 54.625 */
    { DT_DEC, {0}, DNA_NIL, -2500 },        /* k19 -2.5 */
};

static DnaSlot ev_slots[6], lead_slots[5];
static DnaEvent events[1];
static DnaEntity entities[1];
static uint32_t color_values[] = { 16, 17, 18 };
static DnaEnum enums[1] = { { 15, 3, color_values } };
static DnaRule rules[1];
static DnaFile files[1] = { { S_FILE, 0 } };
static DnaSrcLoc locs[1] = { { 0, 0, 3, 5 } };
static uint32_t code[4096];
static DnaUnit units[1];
static DnaBundle B;

/* state */
static DnaValue ev_vals[6], lead_vals[5], other_vals[3], tags[2], nums[3];

static const DnaValue *deref(void *ud, uint32_t kind, int64_t handle, uint32_t *n)
{
    (void)ud;
    if (kind != 0 || handle != 1) return NULL;
    *n = 3;
    return other_vals;
}

static int32_t tz_offset(void *ud, const char *tz, int64_t ts)
{
    (void)ud; (void)ts;
    return !strcmp(tz, "Europe/Test") ? 2 * 3600 : 0;
}

static DnaState S;
static int tested[VM_OP__COUNT];

static void setup(void)
{
    for (size_t i = 0; i < sizeof strings / sizeof *strings; i++) strs[i] = (DnaStr){ strings[i], (uint32_t)strlen(strings[i]) };
    memset(big, 'x', sizeof big);
    strs[S_BIG] = (DnaStr){ big, sizeof big };
    const char *evn[] = { "id", "type", "source", "occurred_at", "url", "n" };
    uint8_t evt[] = { DT_STR, DT_STR, DT_STR, DT_TS, DT_STR, DT_INT };
    for (int i = 0; i < 6; i++) {
        ev_slots[i].name = 4 + (uint32_t)i;
        ev_slots[i].type = (DnaType){ evt[i], 0, 0, 0, DNA_NIL };
        ev_slots[i].dflt = DNA_NIL;
        (void)evn;
    }
    uint32_t ln[] = { 11, 12, 13, 14, 19 };
    DnaType lt[] = { { DT_STR, 0, 0, 0, DNA_NIL }, { DT_INT, 0, 0, 0, DNA_NIL }, { DT_REF, 1, 0, 0, 0 },
                     { DT_LIST, 0, DT_STR, 0, DNA_NIL }, { DT_LIST, 0, DT_INT, 0, DNA_NIL } };
    for (int i = 0; i < 5; i++) { lead_slots[i].name = ln[i]; lead_slots[i].type = lt[i]; lead_slots[i].dflt = DNA_NIL; }
    events[0] = (DnaEvent){ 3, 6, ev_slots };
    entities[0] = (DnaEntity){ 10, 5, lead_slots, 0, NULL };
    memset(&rules[0], 0, sizeof rules[0]);
    rules[0].name = S_RULE;
    rules[0].entity = 0;
    rules[0].event = rules[0].watch = rules[0].target = rules[0].cond = rules[0].value = rules[0].schedule = DNA_NIL;
    rules[0].file = 0;
    B.version = 1;
    B.strs = strs; B.nstrs = sizeof strings / sizeof *strings;
    B.consts = consts; B.nconsts = sizeof consts / sizeof *consts;
    B.events = events; B.nevents = 1;
    B.entities = entities; B.nentities = 1;
    B.enums = enums; B.nenums = 1;
    B.rules = rules; B.nrules = 1;
    B.files = files; B.nfiles = 1;
    B.locs = locs; B.nlocs = 1;
    B.code = code;
    B.units = units; B.nunits = 1;
    if (bundle_prepare(&B) != 0) { fprintf(stderr, "prepare failed\n"); }

    ev_vals[0] = dna_str("e1", 2);
    ev_vals[1] = dna_str("ev", 2);
    ev_vals[2] = dna_str("test", 4);
    ev_vals[3] = dna_int(1000);
    ev_vals[4] = dna_str("/pricing/page", 13);
    ev_vals[5] = dna_int(7);
    tags[0] = dna_str("a", 1);
    tags[1] = dna_str("b", 1);
    nums[0] = dna_int(1); nums[1] = dna_int(2); nums[2] = dna_int(3);
    lead_vals[0] = dna_str("Ada", 3);
    lead_vals[1] = dna_int(42);
    lead_vals[2] = dna_int(1);
    lead_vals[3] = (DnaValue){ .u.items = tags, .len = 2, .kind = DNA_VK_LIST };
    lead_vals[4] = (DnaValue){ .u.items = nums, .len = 3, .kind = DNA_VK_LIST };
    other_vals[0] = dna_str("Bob", 3);
    other_vals[1] = dna_int(7);
    other_vals[2] = dna_none();
    S = (DnaState){ ev_vals, 6, lead_vals, 5, 99, 1790838000123, deref, tz_offset, NULL };
}

static DnaVm vm_goto, vm_switch;

/* Run `n` words as unit 0 with both dispatchers; they must agree. */
static DnaValue run_tz(const uint32_t *w, uint32_t n, uint32_t nregs, uint32_t tz, VmResult *res, char *err, size_t errlen)
{
    memcpy(code, w, sizeof(uint32_t) * n);
    B.ncode = n;
    units[0] = (DnaUnit){ 0, n, nregs, { DT_INT, 0, 0, 0, DNA_NIL }, 0, 0, tz, 0 };
    char msg[200];
    if (bundle_verify(&B, msg, sizeof msg) != 0) {
        CHECK(0, "verifier refused a test unit: %s", msg);
        *res = VM_ERR__COUNT;
        return dna_none();
    }
    for (uint32_t i = 0; i < n; i++) tested[DNA_INS_OP(w[i])] = 1;
    DnaValue a, b;
    vm_goto.use_switch = 0;
    vm_switch.use_switch = 1;
    VmResult ra = vm_eval(&vm_goto, &B, 0, &S, &a);
    VmResult rb = vm_eval(&vm_switch, &B, 0, &S, &b);
    CHECK(ra == rb, "goto %s, switch %s", vm_result_name(ra), vm_result_name(rb));
    CHECK(a.kind == b.kind && a.len == b.len, "goto and switch results differ in kind");
    if (a.kind == DNA_VK_STR && b.kind == DNA_VK_STR)
        CHECK(a.len == b.len && memcmp(a.u.s, b.u.s, a.len) == 0, "goto and switch strings differ");
    else if (a.kind == DNA_VK_INT)
        CHECK(a.u.i == b.u.i, "goto %lld, switch %lld", (long long)a.u.i, (long long)b.u.i);
    *res = ra;
    if (err) vm_error_text(&vm_goto, &B, err, errlen);
    return a;
}

static DnaValue run(const uint32_t *w, uint32_t n, uint32_t nregs, VmResult *res)
{
    return run_tz(w, n, nregs, DNA_NIL, res, NULL, 0);
}

#define RUN(nregs, ...) ({ const uint32_t w_[] = { __VA_ARGS__ }; VmResult r_; \
        DnaValue v_ = run(w_, sizeof w_ / sizeof *w_, nregs, &r_); \
        CHECK(r_ == VM_OK, "line %d: %s", __LINE__, vm_result_name(r_)); v_; })
#define RUN_ERR(nregs, want, ...) do { const uint32_t w_[] = { __VA_ARGS__ }; VmResult r_; \
        run(w_, sizeof w_ / sizeof *w_, nregs, &r_); \
        CHECK(r_ == (want), "line %d: got %s, expected %s", __LINE__, vm_result_name(r_), vm_result_name(want)); } while (0)

#define EXPECT_INT(v, want) do { DnaValue x_ = (v); CHECK(x_.kind == DNA_VK_INT && x_.u.i == (int64_t)(want), \
        "line %d: got kind %d value %lld, expected %lld", __LINE__, x_.kind, (long long)x_.u.i, (long long)(want)); } while (0)
#define EXPECT_NONE(v) do { DnaValue x_ = (v); CHECK(x_.kind == DNA_VK_NONE, "line %d: expected none, got kind %d", __LINE__, x_.kind); } while (0)
#define EXPECT_STR(v, want) do { DnaValue x_ = (v); const char *w__ = (want); \
        CHECK(x_.kind == DNA_VK_STR && x_.len == strlen(w__) && memcmp(x_.u.s, w__, x_.len) == 0, \
              "line %d: got \"%.*s\", expected \"%s\"", __LINE__, x_.kind == DNA_VK_STR ? (int)x_.len : 0, \
              x_.kind == DNA_VK_STR ? x_.u.s : "", w__); } while (0)

static void test_loads(void)
{
    EXPECT_INT(RUN(1, ABX(LOADK, 0, 0), ABC(RET, 0, 0, 0)), 5);
    EXPECT_STR(RUN(1, ABX(LOADK, 0, 1), ABC(RET, 0, 0, 0)), "hello");
    EXPECT_INT(RUN(1, ASBX(LOADI, 0, -7), ABC(RET, 0, 0, 0)), -7);
    EXPECT_INT(RUN(1, ASBX(LOADI, 0, 32767), ABC(RET, 0, 0, 0)), 32767);
    EXPECT_NONE(RUN(1, ASBX(LOADI, 0, 3), ABC(LOADNONE, 0, 0, 0), ABC(RET, 0, 0, 0)));
    EXPECT_INT(RUN(2, ASBX(LOADI, 1, 9), ABC(MOVE, 0, 1, 0), ABC(RET, 0, 0, 0)), 9);
    EXPECT_STR(RUN(1, ABX(LDE, 0, 4), ABC(RET, 0, 0, 0)), "/pricing/page");
    EXPECT_INT(RUN(1, ABX(LDE, 0, 5), ABC(RET, 0, 0, 0)), 7);
    EXPECT_INT(RUN(1, ABX(LDS, 0, 1), ABC(RET, 0, 0, 0)), 42);
    EXPECT_INT(RUN(1, ABC(LDSELF, 0, 0, 0), ABC(RET, 0, 0, 0)), 99);
    /* another entity through a reference */
    EXPECT_INT(RUN(1, ABX(LDS, 0, 2), ABX(DEREF, 0, 0), ABX(LDF, 0, 1), ABC(RET, 0, 0, 0)), 7);
    EXPECT_STR(RUN(1, ABX(LDS, 0, 2), ABX(DEREF, 0, 0), ABX(LDF, 0, 0), ABC(RET, 0, 0, 0)), "Bob");
    EXPECT_NONE(RUN(1, ASBX(LOADI, 0, 2), ABX(DEREF, 0, 0), ABX(LDF, 0, 1), ABC(RET, 0, 0, 0)));
    EXPECT_NONE(RUN(1, ABC(LOADNONE, 0, 0, 0), ABX(DEREF, 0, 0), ABX(LDF, 0, 1), ABC(RET, 0, 0, 0)));
    RUN_ERR(1, VM_ERR_TYPE, ABX(LDS, 0, 0), ABX(DEREF, 0, 0), ABC(RET, 0, 0, 0));
    RUN_ERR(1, VM_ERR_TYPE, ABX(LDS, 0, 1), ABX(LDF, 0, 0), ABC(RET, 0, 0, 0));
    RUN_ERR(1, VM_ERR_SLOT, ABX(LDS, 0, 2), ABX(DEREF, 0, 0), ABX(LDF, 0, 4), ABC(RET, 0, 0, 0));
    /* a state with fewer slots than the schema */
    S.nevent = 4;
    RUN_ERR(1, VM_ERR_SLOT, ABX(LDE, 0, 5), ABC(RET, 0, 0, 0));
    S.nevent = 6;
    S.deref = NULL;
    RUN_ERR(1, VM_ERR_DEREF, ABX(LDS, 0, 2), ABX(DEREF, 0, 0), ABC(RET, 0, 0, 0));
    S.deref = deref;
}

static void test_jumps(void)
{
    EXPECT_INT(RUN(1, ASBX(LOADI, 0, 1), ASBX(JMP, 0, 1), ASBX(LOADI, 0, 2), ABC(RET, 0, 0, 0)), 1);
    EXPECT_INT(RUN(1, ASBX(LOADI, 0, 1), ASBX(JMP, 0, 0), ASBX(LOADI, 0, 2), ABC(RET, 0, 0, 0)), 2);
    EXPECT_INT(RUN(2, ASBX(LOADI, 1, 0), ASBX(LOADI, 0, 1), ASBX(JF, 1, 1), ASBX(LOADI, 0, 2), ABC(RET, 0, 0, 0)), 1);
    EXPECT_INT(RUN(2, ASBX(LOADI, 1, 5), ASBX(LOADI, 0, 1), ASBX(JF, 1, 1), ASBX(LOADI, 0, 2), ABC(RET, 0, 0, 0)), 2);
    EXPECT_INT(RUN(2, ABC(LOADNONE, 1, 0, 0), ASBX(LOADI, 0, 1), ASBX(JF, 1, 1), ASBX(LOADI, 0, 2), ABC(RET, 0, 0, 0)), 1);
    EXPECT_INT(RUN(2, ASBX(LOADI, 1, 5), ASBX(LOADI, 0, 1), ASBX(JT, 1, 1), ASBX(LOADI, 0, 2), ABC(RET, 0, 0, 0)), 1);
    EXPECT_INT(RUN(2, ABC(LOADNONE, 1, 0, 0), ASBX(LOADI, 0, 1), ASBX(JT, 1, 1), ASBX(LOADI, 0, 2), ABC(RET, 0, 0, 0)), 2);
}

#define BIN(op, x, y) RUN(3, x, y, ABC(op, 0, 1, 2), ABC(RET, 0, 0, 0))
#define I1(v) ASBX(LOADI, 1, v)
#define I2(v) ASBX(LOADI, 2, v)
#define N1 ABC(LOADNONE, 1, 0, 0)
#define N2 ABC(LOADNONE, 2, 0, 0)
#define K1(k) ABX(LOADK, 1, k)
#define K2(k) ABX(LOADK, 2, k)

static void test_logic_and_compare(void)
{
    EXPECT_INT(RUN(2, I1(0), ABC(NOT, 0, 1, 0), ABC(RET, 0, 0, 0)), 1);
    EXPECT_INT(RUN(2, I1(3), ABC(NOT, 0, 1, 0), ABC(RET, 0, 0, 0)), 0);
    EXPECT_INT(RUN(2, N1, ABC(NOT, 0, 1, 0), ABC(RET, 0, 0, 0)), 1);
    EXPECT_INT(RUN(2, I1(3), ABC(BOOL, 0, 1, 0), ABC(RET, 0, 0, 0)), 1);
    EXPECT_INT(RUN(2, N1, ABC(BOOL, 0, 1, 0), ABC(RET, 0, 0, 0)), 0);
    EXPECT_INT(RUN(2, N1, ABC(ISNONE, 0, 1, 0), ABC(RET, 0, 0, 0)), 1);
    EXPECT_INT(RUN(2, I1(0), ABC(ISNONE, 0, 1, 0), ABC(RET, 0, 0, 0)), 0);
    EXPECT_INT(RUN(2, I1(0), ABC(ISSET, 0, 1, 0), ABC(RET, 0, 0, 0)), 1);
    EXPECT_INT(RUN(2, N1, ABC(ISSET, 0, 1, 0), ABC(RET, 0, 0, 0)), 0);

    EXPECT_INT(BIN(EQ_I, I1(4), I2(4)), 1);
    EXPECT_INT(BIN(EQ_I, I1(4), I2(5)), 0);
    EXPECT_INT(BIN(EQ_I, N1, N2), 1);
    EXPECT_INT(BIN(EQ_I, N1, I2(0)), 0);
    EXPECT_INT(BIN(NE_I, I1(4), I2(5)), 1);
    EXPECT_INT(BIN(NE_I, N1, I2(0)), 1);
    EXPECT_INT(BIN(NE_I, N1, N2), 0);
    EXPECT_INT(BIN(LT_I, I1(-4), I2(5)), 1);
    EXPECT_INT(BIN(LT_I, I1(5), I2(5)), 0);
    EXPECT_INT(BIN(LT_I, N1, I2(5)), 0);
    EXPECT_INT(BIN(LE_I, I1(5), I2(5)), 1);
    EXPECT_INT(BIN(LE_I, I1(5), N2), 0);

    EXPECT_INT(BIN(EQ_S, K1(1), K2(1)), 1);
    EXPECT_INT(BIN(EQ_S, K1(1), K2(2)), 0);
    EXPECT_INT(BIN(EQ_S, N1, N2), 1);
    EXPECT_INT(BIN(EQ_S, N1, K2(12)), 0);
    EXPECT_INT(BIN(NE_S, K1(1), K2(2)), 1);
    EXPECT_INT(BIN(NE_S, K1(12), N2), 1);
    EXPECT_INT(BIN(LT_S, K1(2), K2(1)), 1);       /* "ell" < "hello" */
    EXPECT_INT(BIN(LT_S, K1(1), K2(1)), 0);
    EXPECT_INT(BIN(LT_S, K1(12), K2(1)), 1);      /* "" < "hello" */
    EXPECT_INT(BIN(LT_S, N1, K2(1)), 0);
    EXPECT_INT(BIN(LE_S, K1(1), K2(1)), 1);
    EXPECT_INT(BIN(LE_S, K1(1), K2(2)), 0);
    RUN_ERR(3, VM_ERR_TYPE, I1(1), K2(1), ABC(EQ_S, 0, 1, 2), ABC(RET, 0, 0, 0));

    EXPECT_INT(BIN(CONTAINS, K1(1), K2(2)), 1);
    EXPECT_INT(BIN(CONTAINS, K1(2), K2(1)), 0);
    EXPECT_INT(BIN(CONTAINS, K1(1), K2(12)), 1);   /* the empty string is in every string */
    EXPECT_INT(BIN(CONTAINS, N1, K2(2)), 0);
    RUN_ERR(3, VM_ERR_TYPE, I1(1), K2(1), ABC(CONTAINS, 0, 1, 2), ABC(RET, 0, 0, 0));

    EXPECT_INT(RUN(3, ABX(LDS, 1, 4), I2(2), ABC(HAS_I, 0, 1, 2), ABC(RET, 0, 0, 0)), 1);
    EXPECT_INT(RUN(3, ABX(LDS, 1, 4), I2(5), ABC(HAS_I, 0, 1, 2), ABC(RET, 0, 0, 0)), 0);
    EXPECT_INT(RUN(3, ABX(LDS, 1, 4), N2, ABC(HAS_I, 0, 1, 2), ABC(RET, 0, 0, 0)), 0);
    RUN_ERR(3, VM_ERR_TYPE, I1(3), I2(5), ABC(HAS_I, 0, 1, 2), ABC(RET, 0, 0, 0));
    EXPECT_INT(RUN(3, ABX(LDS, 1, 3), ABX(LDE, 2, 1), ABC(HAS_S, 0, 1, 2), ABC(RET, 0, 0, 0)), 0);
    EXPECT_INT(RUN(3, ABX(LDS, 1, 3), K2(17), ABC(HAS_S, 0, 1, 2), ABC(RET, 0, 0, 0)), 1);
    RUN_ERR(3, VM_ERR_TYPE, ABX(LDS, 1, 3), I2(1), ABC(HAS_S, 0, 1, 2), ABC(RET, 0, 0, 0));
}

static void test_arith(void)
{
    EXPECT_INT(BIN(ADD, I1(40), I2(2)), 42);
    EXPECT_NONE(BIN(ADD, N1, I2(2)));
    RUN_ERR(3, VM_ERR_OVERFLOW, K1(4), I2(1), ABC(ADD, 0, 1, 2), ABC(RET, 0, 0, 0));
    EXPECT_INT(BIN(SUB, I1(40), I2(50)), -10);
    RUN_ERR(3, VM_ERR_OVERFLOW, K1(5), I2(1), ABC(SUB, 0, 1, 2), ABC(RET, 0, 0, 0));
    EXPECT_INT(BIN(MUL, I1(-6), I2(7)), -42);
    RUN_ERR(3, VM_ERR_OVERFLOW, K1(4), I2(2), ABC(MUL, 0, 1, 2), ABC(RET, 0, 0, 0));
    EXPECT_INT(BIN(MOD, I1(17), I2(5)), 2);
    EXPECT_INT(BIN(MOD, I1(-17), I2(5)), -2);
    EXPECT_INT(BIN(MOD, K1(5), I2(-1)), 0);
    RUN_ERR(3, VM_ERR_DIV_ZERO, I1(17), I2(0), ABC(MOD, 0, 1, 2), ABC(RET, 0, 0, 0));
    EXPECT_INT(BIN(MUL_D, K1(3), K2(3)), 2250);      /* 1.5 * 1.5 */
    EXPECT_INT(BIN(MUL_D, I1(1), I2(500)), 0);       /* 0.0005 -> 0 (half to even) */
    EXPECT_INT(BIN(MUL_D, I1(3), I2(500)), 2);       /* 0.0015 -> 0.002 */
    EXPECT_INT(BIN(MUL_D, I1(-3), I2(500)), -2);
    EXPECT_NONE(BIN(MUL_D, I1(3), N2));
    RUN_ERR(3, VM_ERR_OVERFLOW, K1(4), K2(4), ABC(MUL_D, 0, 1, 2), ABC(RET, 0, 0, 0));
    EXPECT_INT(BIN(DIV_D, I1(1000), I2(3000)), 333);
    EXPECT_INT(BIN(DIV_D, I1(2000), I2(3000)), 667);
    EXPECT_INT(BIN(DIV_D, I1(1), I2(2000)), 0);      /* 0.0005 -> 0 */
    EXPECT_INT(BIN(DIV_D, I1(-1000), I2(3000)), -333);
    RUN_ERR(3, VM_ERR_DIV_ZERO, I1(1), I2(0), ABC(DIV_D, 0, 1, 2), ABC(RET, 0, 0, 0));
    RUN_ERR(3, VM_ERR_OVERFLOW, K1(4), I2(1), ABC(DIV_D, 0, 1, 2), ABC(RET, 0, 0, 0));
    EXPECT_INT(RUN(2, I1(5), ABC(NEG, 0, 1, 0), ABC(RET, 0, 0, 0)), -5);
    EXPECT_NONE(RUN(2, N1, ABC(NEG, 0, 1, 0), ABC(RET, 0, 0, 0)));
    RUN_ERR(2, VM_ERR_OVERFLOW, K1(5), ABC(NEG, 0, 1, 0), ABC(RET, 0, 0, 0));
    EXPECT_INT(RUN(2, I1(5), ABC(I2D, 0, 1, 0), ABC(RET, 0, 0, 0)), 5000);
    EXPECT_NONE(RUN(2, N1, ABC(I2D, 0, 1, 0), ABC(RET, 0, 0, 0)));
    RUN_ERR(2, VM_ERR_OVERFLOW, K1(4), ABC(I2D, 0, 1, 0), ABC(RET, 0, 0, 0));
}

#define CALL1(id, x) RUN(3, x, ABC(CALL, 0, VM_BI_##id, 1), ABC(RET, 0, 0, 0))
#define CALL2(id, x, y) RUN(3, x, y, ABC(CALL, 0, VM_BI_##id, 1), ABC(RET, 0, 0, 0))

static void test_builtins(void)
{
    EXPECT_STR(CALL1(lower, K1(6)), "hello");
    EXPECT_STR(CALL1(upper, K1(6)), "HELLO");
    EXPECT_NONE(CALL1(lower, N1));
    EXPECT_STR(CALL1(trim, K1(7)), "pad");
    EXPECT_INT(CALL1(len, K1(10)), 5);
    EXPECT_INT(CALL2(starts_with, K1(1), K2(2)), 0);
    EXPECT_INT(CALL2(starts_with, K1(1), K2(12)), 1);
    EXPECT_INT(CALL2(ends_with, K1(1), K2(13)), 1);
    EXPECT_NONE(CALL2(ends_with, K1(1), N2));
    EXPECT_STR(CALL1(domain, K1(8)), "example.com");
    EXPECT_STR(CALL1(domain, K1(9)), "www.example.com");
    EXPECT_INT(RUN(1, ABC(CALL, 0, VM_BI_now, 0), ABC(RET, 0, 0, 0)), 1790838000123);
    EXPECT_INT(CALL1(age, K1(14)), 0);
    EXPECT_INT(CALL1(age, I1(123)), 1790838000000);
    EXPECT_INT(CALL1(hour, K1(14)), 7);
    EXPECT_INT(CALL1(weekday, I1(0)), 4);                /* 1970-01-01: Thursday */
    EXPECT_INT(CALL1(weekday, K1(14)), 4);               /* 2026-10-01: Thursday */
    {
        const uint32_t w[] = { K1(14), ABC(CALL, 0, VM_BI_hour, 1), ABC(RET, 0, 0, 0) };
        VmResult r;
        EXPECT_INT(run_tz(w, 3, 3, S_TZ, &r, NULL, 0), 9);  /* UTC+2 */
    }
    EXPECT_INT(CALL1(days, K1(16)), 1500);
    EXPECT_INT(CALL1(hours, K1(16)), 36000);
    EXPECT_INT(CALL2(min, I1(3), I2(-4)), -4);
    EXPECT_INT(CALL2(max, I1(3), I2(-4)), 3);
    EXPECT_INT(CALL1(abs, I1(-9)), 9);
    RUN_ERR(3, VM_ERR_OVERFLOW, K1(5), ABC(CALL, 0, VM_BI_abs, 1), ABC(RET, 0, 0, 0));
    /* round(x, places): x in thousandths, halves away from zero */
    EXPECT_INT(CALL2(round, K1(18), I2(2)), 54630);
    EXPECT_INT(CALL2(round, K1(18), I2(1)), 54600);
    EXPECT_INT(CALL2(round, K1(18), I2(0)), 55000);
    EXPECT_INT(CALL2(round, K1(18), I2(3)), 54625);
    EXPECT_INT(CALL2(round, K1(18), I2(9)), 54625);
    EXPECT_INT(CALL2(round, K1(18), I2(-1)), 50000);
    EXPECT_INT(CALL2(round, K1(18), I2(-2)), 100000);
    EXPECT_INT(CALL2(round, K1(18), I2(-19)), 0);
    EXPECT_INT(CALL2(round, K1(19), I2(0)), -3000);
    EXPECT_INT(CALL2(round, I1(2499), I2(0)), 2000);
    EXPECT_INT(CALL2(round, I1(-2499), I2(0)), -2000);
    EXPECT_INT(CALL2(round, I1(-1450), I2(1)), -1500);
    EXPECT_NONE(CALL2(round, N1, I2(1)));
    EXPECT_NONE(CALL2(round, K1(18), N2));
    RUN_ERR(3, VM_ERR_OVERFLOW, K1(4), I2(0), ABC(CALL, 0, VM_BI_round, 1), ABC(RET, 0, 0, 0));
    RUN_ERR(3, VM_ERR_OVERFLOW, K1(5), I2(-1), ABC(CALL, 0, VM_BI_round, 1), ABC(RET, 0, 0, 0));
    EXPECT_INT(CALL1(is_set, N1), 0);
    EXPECT_INT(CALL1(is_set, I1(0)), 1);
    EXPECT_INT(CALL2(coalesce, N1, I2(5)), 5);
    EXPECT_INT(CALL2(coalesce, I1(1), I2(5)), 1);
    EXPECT_STR(CALL2(coalesce, K1(1), N2), "hello");
}

static void test_strings(void)
{
    /* "x=42 d=1.5 true 2026-10-01T07:00:00.123Z 36h 09:30" */
    EXPECT_STR(RUN(3, ABX(LDS, 1, 1), ABC(SBEGIN, 0, 0, 0), ABX(SADDK, 0, 1), ABC(SADD, 0, 1, VM_FMT_INT),
                   K2(3), ABC(SADD, 0, 2, VM_FMT_DEC), I2(1), ABC(SADD, 0, 2, VM_FMT_BOOL),
                   K2(14), ABC(SADD, 0, 2, VM_FMT_TS), K2(16), ABC(SADD, 0, 2, VM_FMT_DUR),
                   I2(570), ABC(SADD, 0, 2, VM_FMT_TOD), N2, ABC(SADD, 0, 2, VM_FMT_STR),
                   ABX(LDS, 2, 0), ABC(SADD, 0, 2, VM_FMT_STR), ABC(RET, 0, 0, 0)),
               "hello421.5true2026-10-01T07:00:00.123Z36h09:30Ada");
    EXPECT_STR(RUN(1, ABC(SBEGIN, 0, 0, 0), ABC(RET, 0, 0, 0)), "");
    EXPECT_STR(RUN(3, ASBX(LOADI, 2, -1500), ABC(SBEGIN, 0, 0, 0), ABC(SADD, 0, 2, VM_FMT_DEC), ABC(RET, 0, 0, 0)), "-1.5");
    /* the scratch buffer is bounded: a 3000-byte constant fits once, not twice */
    RUN(1, ABC(SBEGIN, 0, 0, 0), ABX(SADDK, 0, 15), ABC(RET, 0, 0, 0));
    RUN_ERR(1, VM_ERR_SCRATCH, ABC(SBEGIN, 0, 0, 0), ABX(SADDK, 0, 15), ABX(SADDK, 0, 15), ABC(RET, 0, 0, 0));
    /* appending to something that is not the open builder */
    RUN_ERR(2, VM_ERR_TYPE, ABC(SBEGIN, 0, 0, 0), ABC(SBEGIN, 1, 0, 0), ABX(SADDK, 1, 1), ABX(SADDK, 0, 1), ABC(RET, 0, 0, 0));
    RUN_ERR(2, VM_ERR_TYPE, I1(3), ABX(SADDK, 1, 1), ABC(RET, 0, 0, 0));
    EXPECT_STR(RUN(1, ASBX(LOADI, 0, 1), ABX(ENAME, 0, 0), ABC(RET, 0, 0, 0)), "green");
    EXPECT_NONE(RUN(1, ABC(LOADNONE, 0, 0, 0), ABX(ENAME, 0, 0), ABC(RET, 0, 0, 0)));
    RUN_ERR(1, VM_ERR_TYPE, ASBX(LOADI, 0, 3), ABX(ENAME, 0, 0), ABC(RET, 0, 0, 0));
}

static void test_error_text(void)
{
    const uint32_t w[] = { I1(1), I2(0), ABC(MOD, 0, 1, 2), ABC(RET, 0, 0, 0) };
    VmResult r;
    char msg[200];
    run_tz(w, 4, 3, DNA_NIL, &r, msg, sizeof msg);
    CHECK_EQ_I(r, VM_ERR_DIV_ZERO);
    CHECK_EQ_I(vm_goto.err_pc, 2);
    CHECK_STR(msg, "rule rule#1 (t.dna:3:5): division by zero");
}

/* ---- the verifier ------------------------------------------------------------ */

static void refuse(const uint32_t *w, uint32_t n, uint32_t nregs, const char *want, int line)
{
    memcpy(code, w, sizeof(uint32_t) * n);
    B.ncode = n;
    units[0] = (DnaUnit){ 0, n, nregs, { DT_INT, 0, 0, 0, DNA_NIL }, 0, 0, DNA_NIL, 0 };
    char msg[200];
    int rc = bundle_verify(&B, msg, sizeof msg);
    CHECK(rc != 0 && strstr(msg, want), "line %d: verifier said \"%s\" (rc %d), expected \"%s\"", line,
          rc ? msg : "", rc, want);
}

#define REFUSE(nregs, want, ...) do { const uint32_t w_[] = { __VA_ARGS__ }; \
        refuse(w_, sizeof w_ / sizeof *w_, nregs, want, __LINE__); } while (0)

static void test_verifier(void)
{
    REFUSE(1, "backward jump", ASBX(LOADI, 0, 1), ASBX(JMP, 0, -2), ABC(RET, 0, 0, 0));
    REFUSE(1, "backward jump", ASBX(LOADI, 0, 1), ASBX(JF, 0, -1), ABC(RET, 0, 0, 0));
    REFUSE(1, "leaves the unit", ASBX(JMP, 0, 1), ABC(RET, 0, 0, 0));
    REFUSE(1, "leaves the unit", ASBX(LOADI, 0, 1), ASBX(JT, 0, 7), ABC(RET, 0, 0, 0));
    REFUSE(2, "register 5 is out of range", ASBX(LOADI, 5, 1), ABC(RET, 0, 0, 0));
    REFUSE(2, "register 2 is out of range", ABC(ADD, 0, 1, 2), ABC(RET, 0, 0, 0));
    REFUSE(1, "register 3 is out of range", ABC(RET, 3, 0, 0));
    REFUSE(1, "constant 200 is out of range", ABX(LOADK, 0, 200), ABC(RET, 0, 0, 0));
    REFUSE(1, "is not a string", ABC(SBEGIN, 0, 0, 0), ABX(SADDK, 0, 0), ABC(RET, 0, 0, 0));
    REFUSE(1, "event slot 6 is out of range", ABX(LDE, 0, 6), ABC(RET, 0, 0, 0));
    REFUSE(1, "entity slot 5 is out of range", ABX(LDS, 0, 5), ABC(RET, 0, 0, 0));
    REFUSE(1, "slot 9 is out of range", ABX(LDF, 0, 9), ABC(RET, 0, 0, 0));
    REFUSE(1, "entity kind 1 is out of range", ABX(DEREF, 0, 1), ABC(RET, 0, 0, 0));
    REFUSE(1, "enum 1 is out of range", ABX(ENAME, 0, 1), ABC(RET, 0, 0, 0));
    REFUSE(1, "unknown opcode", 0xffu, ABC(RET, 0, 0, 0));
    REFUSE(1, "does not end with RET", ASBX(LOADI, 0, 1));
    REFUSE(3, "not allowed in rule code", ABC(CALL, 0, VM_BI_env, 1), ABC(RET, 0, 0, 0));
    REFUSE(3, "builtin 200 is out of range", ABC(CALL, 0, 200, 1), ABC(RET, 0, 0, 0));
    REFUSE(3, "register 3 is out of range", ABC(CALL, 0, VM_BI_min, 2), ABC(RET, 0, 0, 0));
    REFUSE(3, "format 9 is out of range", ABC(SADD, 0, 1, 9), ABC(RET, 0, 0, 0));
    REFUSE(0, "0 registers", ABC(RET, 0, 0, 0));
    /* a unit whose event or entity the code reads but does not declare */
    memcpy(code, (uint32_t[]){ ABX(LDE, 0, 4), ABC(RET, 0, 0, 0) }, 8);
    B.ncode = 2;
    units[0] = (DnaUnit){ 0, 2, 1, { DT_INT, 0, 0, 0, DNA_NIL }, DNA_NIL, 0, DNA_NIL, 0 };
    char msg[200];
    CHECK(bundle_verify(&B, msg, sizeof msg) != 0 && strstr(msg, "event slot"), "unit without an event: %s", msg);
    units[0] = (DnaUnit){ 1, 5, 1, { DT_INT, 0, 0, 0, DNA_NIL }, 0, 0, DNA_NIL, 0 };
    CHECK(bundle_verify(&B, msg, sizeof msg) != 0 && strstr(msg, "code range"), "unit past the code: %s", msg);
    /* references outside code */
    units[0] = (DnaUnit){ 0, 2, 1, { DT_INT, 0, 0, 0, DNA_NIL }, 0, 0, DNA_NIL, 0 };
    rules[0].cond = 7;
    CHECK(bundle_verify(&B, msg, sizeof msg) != 0 && strstr(msg, "rule 0: cond 7 is out of range"), "rule cond: %s", msg);
    rules[0].cond = DNA_NIL;
    CHECK(bundle_verify(&B, msg, sizeof msg) == 0, "restored bundle verifies: %s", msg);
    /* a source map's operator must be a code of bundle/ops.h (3, `not`, is a node of its own), its
     * calls a built-in of DNA_MAP_BUILTINS */
    DnaJNode jn[3] = { { DJ_BINARY, 2, { 0, 0 }, DOP_CONTAINS }, { DJ_CONST, 0, { 0, 0 }, 0 }, { DJ_CONST, 0, { 0, 0 }, 0 } };
    B.jnodes = jn;
    B.njnodes = 3;
    CHECK(bundle_verify(&B, msg, sizeof msg) == 0, "a map expression with 'contains' verifies: %s", msg);
    jn[0].arg = 3;
    CHECK(bundle_verify(&B, msg, sizeof msg) != 0 && strstr(msg, "body expression 0: unknown operator 3"), "operator 3: %s", msg);
    jn[0].arg = 11;
    CHECK(bundle_verify(&B, msg, sizeof msg) != 0 && strstr(msg, "unknown operator 11"), "operator 11: %s", msg);
    jn[0] = (DnaJNode){ DJ_CALL, 2, { 0, 0 }, VM_BI_coalesce };
    CHECK(bundle_verify(&B, msg, sizeof msg) == 0, "a map expression with coalesce() verifies: %s", msg);
    jn[0].arg = VM_BI_domain;
    CHECK(bundle_verify(&B, msg, sizeof msg) != 0 && strstr(msg, "cannot be evaluated in a source map"), "domain(): %s", msg);
    B.jnodes = NULL;
    B.njnodes = 0;
    /* an action's kind must be one of bundle.h's DnaActKind */
    DnaAction act = { DACT_EMIT, { 0, 0, 0 }, DNA_NIL, DNA_NIL, 0, 0 };
    B.actions = &act;
    B.nactions = 1;
    CHECK(bundle_verify(&B, msg, sizeof msg) == 0, "an emit action verifies: %s", msg);
    act.kind = DACT__COUNT;
    CHECK(bundle_verify(&B, msg, sizeof msg) != 0 && strstr(msg, "action 0: unknown kind 12"), "action kind 12: %s", msg);
    B.actions = NULL;
    B.nactions = 0;
}

#ifndef NDEBUG
static int traced;
static void trace(void *ud, const DnaBundle *b, uint32_t pc, const DnaValue *regs)
{
    (void)ud; (void)b; (void)regs;
    traced += (int)pc + 1;
}

/* debug builds can trace every instruction */
static void test_trace(void)
{
    vm_goto.trace = trace;
    vm_switch.trace = trace;
    traced = 0;
    RUN(1, ASBX(LOADI, 0, 1), ASBX(JMP, 0, 1), ASBX(LOADI, 0, 2), ABC(RET, 0, 0, 0));
    CHECK_EQ_I(traced, 2 * (1 + 2 + 4));       /* pcs 0, 1, 3 in each build */
    vm_goto.trace = vm_switch.trace = NULL;
}
#endif

int main(void)
{
    setup();
    vm_init(&vm_goto);
    vm_init(&vm_switch);
    test_loads();
    test_jumps();
    test_logic_and_compare();
    test_arith();
    test_builtins();
    test_strings();
    test_error_text();
#ifndef NDEBUG
    test_trace();
    printf("trace: tested (asserts on)\n");
#else
    printf("trace: not built (NDEBUG)\n");
#endif
    for (int op = 0; op < VM_OP__COUNT; op++)
        CHECK(tested[op], "opcode %s has no test", bc_op_name((unsigned)op));
    test_verifier();
    printf("dispatch: %s\n", vm_has_computed_goto ? "computed goto + switch" : "switch only");
    return t_done("test_vm_ops");
}
