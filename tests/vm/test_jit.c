/*
 * test_jit.c - the JIT's policy and its fallback: modes and their names,
 * DNA_JIT, auto's size threshold, one compiled JIT shared by the engines of
 * a bundle (and kept for the next one), jit_describe's lines, and a bundle
 * LLVM fails on (compiled for a target this LLVM has not got): the failure
 * is reported and the bundle runs on the interpreter with the same results.
 * The IR of `dnac disasm --ir` has no floating point and no fast-math flag.
 */
#include "compile_util.h"
#include "jit/jit.h"
#include "vmtest.h"

#include <stdlib.h>

static const char rules[] =
    "module t\n"
    "event visit { url: string, n: int }\n"
    "entity lead {\n  identity email\n}\n"
    "score s for lead {\n"
    "  on visit when event.url contains \"/pricing\" add 5\n"
    "  on visit when event.n * 1000 > 3 add 1\n"
    "  on visit when event.n % (event.n - 7) == 1 add 2\n"
    "}\n";

static int logged;
static void count_log(const char *msg) { (void)msg; logged++; }

static void test_modes(void)
{
    JitMode m;
    CHECK(!jit_parse_mode("on", &m) && m == JIT_ON, "on");
    CHECK(!jit_parse_mode("off", &m) && m == JIT_OFF, "off");
    CHECK(!jit_parse_mode("auto", &m) && m == JIT_AUTO, "auto");
    CHECK(jit_parse_mode("yes", &m) == -1 && jit_parse_mode(NULL, &m) == -1, "refuses others");
    CHECK_STR(jit_mode_name(JIT_AUTO), "auto");
    setenv("DNA_JIT", "on", 1);
    CHECK(jit_mode() == JIT_ON, "DNA_JIT=on");
    setenv("DNA_JIT", "bogus", 1);
    CHECK(jit_mode() == JIT_AUTO, "an unknown DNA_JIT is auto");
    unsetenv("DNA_JIT");
    CHECK(jit_mode() == JIT_AUTO, "default auto");
    jit_set_mode(JIT_OFF);
    setenv("DNA_JIT", "on", 1);
    CHECK(jit_mode() == JIT_OFF, "jit_set_mode (--jit) wins over DNA_JIT");
    unsetenv("DNA_JIT");
}

/* every unit of b through the interpreter and through j: same result */
static void same_results(const DnaBundle *b, const DnaJit *j, uint32_t ev)
{
    static const char *const urls[] = { "/pricing", "/", "" };
    static const int64_t ns[] = { 7, 8, 0, -3, INT64_MAX };
    DnaValue slots[8];
    DnaVm *a = malloc(sizeof *a), *c = malloc(sizeof *c);
    vm_init(a);
    vm_init(c);
    uint32_t su = bundle_event_slot(b, ev, "url"), sn = bundle_event_slot(b, ev, "n");
    for (int u = 0; u < 3; u++)
        for (int n = 0; n < 5; n++) {
            memset(slots, 0, sizeof slots);
            slots[su] = dna_str(urls[u], (uint32_t)strlen(urls[u]));
            slots[sn] = dna_int(ns[n]);
            DnaState st = { slots, b->events[ev].nslots, NULL, 0, 1, 0, NULL, NULL, NULL };
            for (uint32_t i = 0; i < b->nunits; i++) {
                DnaValue x, y;
                VmResult rx = vm_eval(a, b, i, &st, &x), ry = jit_eval(c, j, b, i, &st, &y);
                CHECK(rx == ry && x.kind == y.kind && x.u.i == y.u.i && a->err_pc == c->err_pc,
                      "unit %u: vm %s %lld, jit %s %lld", i, vm_result_name(rx), (long long)x.u.i, vm_result_name(ry),
                      (long long)y.u.i);
            }
        }
    free(a);
    free(c);
}

static void test_fallback(const DnaBundle *b, uint32_t ev)
{
    JitOpts o = { "bogus-unknown-nothing" };
    DnaJit *j = jit_compile(b, &o);
    CHECK(j && !j->fn, "a target LLVM does not have cannot compile");
    if (!j) return;
    CHECK(jit_built() ? !strncmp(j->why, "LLVM failed: ", 13) : !strcmp(j->why, "built without LLVM"), "why: %s", j->why);
    char d[300];
    jit_describe(j, d, sizeof d);
    CHECK(!strncmp(d, "off (", 5), "describe: %s", d);
    same_results(b, j, ev);             /* on the interpreter */
    jit_free(j);
}

static void test_sharing(const DnaBundle *b, const DnaBundle *copy)
{
    jit_set_mode(JIT_ON);
    logged = 0;
    DnaJit *x = jit_acquire(b), *y = jit_acquire(copy);
    CHECK(x && x == y, "the same code shares one JIT (two loads of one bundle)");
    CHECK(x && x->refs == 2, "refs %d", x ? x->refs : -1);
    char d[300];
    jit_describe(x, d, sizeof d);
    if (jit_built()) CHECK(!strncmp(d, "on: ", 4) && strstr(d, " units compiled in "), "describe: %s", d);
    else CHECK(!strcmp(d, "off (built without LLVM)") && logged == 1, "describe: %s, %d logged", d, logged);
    jit_release(y);
    jit_release(x);
    DnaJit *z = jit_acquire(b);
    CHECK(!jit_built() || z == x, "released and acquired again: kept, not compiled again");
    jit_release(z);
    jit_flush();
    jit_set_mode(JIT_OFF);
    z = jit_acquire(b);
    jit_describe(z, d, sizeof d);
    CHECK(z && !z->fn && !strcmp(d, "off"), "off: %s", d);
    jit_release(z);
    jit_set_mode(JIT_AUTO);
    z = jit_acquire(b);
    jit_describe(z, d, sizeof d);
    CHECK(z && !z->fn && strstr(d, "below 2000"), "a small bundle under auto: %s", d);
    jit_release(z);
}

static void test_ir(const DnaBundle *b)
{
    char why[256];
    size_t n = 0;
    char *ir = jit_ir(b, &n, why, sizeof why);
    if (!jit_built()) { CHECK(!ir && !strcmp(why, "built without LLVM"), "no IR without LLVM"); return; }
    CHECK(ir && n > 0, "IR: %s", ir ? "" : why);
    if (!ir) return;
    CHECK(strstr(ir, "define internal i32 @dna_u0(") != NULL, "one function per unit");
    CHECK(strstr(ir, "@dna_units = ") != NULL, "the table of units");
    static const char *const fp[] = { " fadd ", " fsub ", " fmul ", " fdiv ", " fast ", " contract ", "double", "float" };
    for (size_t i = 0; i < sizeof fp / sizeof *fp; i++) CHECK(!strstr(ir, fp[i]), "the IR has \"%s\"", fp[i]);
    dna_free(ir, n + 1);
}

int main(void)
{
    jit_set_log(count_log);
    test_modes();
    Project pr, pr2;
    DnaBundle b, copy;
    if (cu_load(&pr, "t.dna", rules, NULL, &b) || cu_load(&pr2, "t.dna", rules, NULL, &copy)) return 1;
    uint32_t ev = bundle_event(&b, "visit");
    DnaJit *j = jit_compile(&b, NULL);
    CHECK(j && (jit_built() ? j->fn != NULL : !j->fn), "compiles: %s", j ? j->why : "out of memory");
    if (j) same_results(&b, j, ev);
    jit_free(j);
    test_fallback(&b, ev);
    test_sharing(&b, &copy);
    test_ir(&b);
    jit_flush();
    bundle_free(&b);
    bundle_free(&copy);
    proj_free(&pr);
    proj_free(&pr2);
    printf("jit: %s\n", jit_built() ? "built with LLVM" : "built without LLVM");
    return t_done("test_jit");
}
