/*
 * jit_llvm.c - the LLVM backend: a bundle's module (jit_emit.c) verified,
 * optimised and compiled by its own ORC LLJIT, and the table of unit
 * functions looked up once.
 *
 * One LLJIT per bundle: freeing the bundle's JIT disposes of the LLJIT,
 * which frees the machine code with it.  The target machine is the host's
 * (its CPU and features), code model JIT default, optimisation level
 * JIT_CODEGEN; the IR passes are JIT_PASSES, chosen for compile time
 * (tests/bench/bench_jit.c measures both).  The helpers compiled code
 * calls are defined as absolute symbols in the LLJIT's main JITDylib
 * (jit_syms); nothing else of the process is visible to it, so a stray
 * reference fails the lookup (and the bundle falls back) instead of
 * binding to whatever the process happens to export.
 *
 * Every LLVM error (no target, a module that does not verify, a failed
 * link or lookup) comes back as j->why and the bundle runs on the
 * interpreter.  LLVM's fatal errors (out of memory inside LLVM) abort, as
 * they do in every LLVM user.
 */
#include "jit/jit_int.h"

#include <llvm-c/Analysis.h>
#include <llvm-c/Core.h>
#include <llvm-c/Error.h>
#include <llvm-c/LLJIT.h>
#include <llvm-c/Orc.h>
#include <llvm-c/Target.h>
#include <llvm-c/TargetMachine.h>
#include <llvm-c/Transforms/PassBuilder.h>

#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

const int jit_backend_llvm = 1;

#define JIT_PASSES "function(mem2reg,instcombine,simplifycfg)"
#define JIT_CODEGEN LLVMCodeGenLevelLess

static pthread_once_t init_once = PTHREAD_ONCE_INIT;
static int init_ok;

static void init(void)
{
    init_ok = !LLVMInitializeNativeTarget() && !LLVMInitializeNativeAsmPrinter();
}

static double now_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec * 1e3 + (double)t.tv_nsec / 1e6;
}

/* an LLVMErrorRef into why[] (consumed) */
static int llvm_failed(LLVMErrorRef err, const char *what, char *why, size_t wl)
{
    char *m = LLVMGetErrorMessage(err);
    snprintf(why, wl, "LLVM failed: %s: %s", what, m);
    LLVMDisposeErrorMessage(m);
    return -1;
}

/* The host's target machine, or another triple's (JitOpts.triple). */
static LLVMTargetMachineRef target_machine(const char *want, char *why, size_t wl)
{
    char *triple = want ? NULL : LLVMGetDefaultTargetTriple();
    const char *tr = want ? want : triple;
    LLVMTargetRef t;
    char *err = NULL;
    LLVMTargetMachineRef tm = NULL;
    if (LLVMGetTargetFromTriple(tr, &t, &err)) {
        snprintf(why, wl, "LLVM failed: no target for %s: %s", tr, err ? err : "?");
    } else {
        char *cpu = want ? NULL : LLVMGetHostCPUName(), *feat = want ? NULL : LLVMGetHostCPUFeatures();
        tm = LLVMCreateTargetMachine(t, tr, cpu ? cpu : "", feat ? feat : "", JIT_CODEGEN, LLVMRelocDefault,
                                     LLVMCodeModelJITDefault);
        if (!tm) snprintf(why, wl, "LLVM failed: no target machine for %s", tr);
        if (cpu) LLVMDisposeMessage(cpu);
        if (feat) LLVMDisposeMessage(feat);
    }
    if (err) LLVMDisposeMessage(err);
    if (triple) LLVMDisposeMessage(triple);
    return tm;
}

/* emit, verify and optimise b's module for tm */
static LLVMModuleRef build_module(LLVMContextRef cx, const DnaBundle *b, LLVMTargetMachineRef tm, char *why, size_t wl)
{
    LLVMModuleRef m = jit_emit(cx, b, why, wl);
    if (!m) return NULL;
    char *triple = LLVMGetTargetMachineTriple(tm);
    LLVMSetTarget(m, triple);
    LLVMDisposeMessage(triple);
    LLVMTargetDataRef dl = LLVMCreateTargetDataLayout(tm);
    LLVMSetModuleDataLayout(m, dl);
    LLVMDisposeTargetData(dl);
    char *msg = NULL;
    if (LLVMVerifyModule(m, LLVMReturnStatusAction, &msg)) {
        snprintf(why, wl, "LLVM failed: the module does not verify: %.160s", msg ? msg : "?");
        LLVMDisposeMessage(msg);
        LLVMDisposeModule(m);
        return NULL;
    }
    LLVMDisposeMessage(msg);
    LLVMPassBuilderOptionsRef po = LLVMCreatePassBuilderOptions();
    LLVMErrorRef err = LLVMRunPasses(m, JIT_PASSES, tm, po);
    LLVMDisposePassBuilderOptions(po);
    if (err) {
        llvm_failed(err, "optimising", why, wl);
        LLVMDisposeModule(m);
        return NULL;
    }
    return m;
}

static LLVMErrorRef define_helpers(LLVMOrcLLJITRef J)
{
    LLVMJITCSymbolMapPair syms[32];
    for (unsigned i = 0; i < jit_nsyms && i < 32; i++) {
        syms[i].Name = LLVMOrcLLJITMangleAndIntern(J, jit_syms[i].name);
        syms[i].Sym.Address = (LLVMOrcExecutorAddress)(uintptr_t)jit_syms[i].addr;
        syms[i].Sym.Flags.GenericFlags = LLVMJITSymbolGenericFlagsExported | LLVMJITSymbolGenericFlagsCallable;
        syms[i].Sym.Flags.TargetFlags = 0;
    }
    LLVMOrcMaterializationUnitRef mu = LLVMOrcAbsoluteSymbols(syms, jit_nsyms);
    LLVMErrorRef err = LLVMOrcJITDylibDefine(LLVMOrcLLJITGetMainJITDylib(J), mu);
    if (err) LLVMOrcDisposeMaterializationUnit(mu);
    return err;
}

static void drop_error(void *ctx, LLVMErrorRef err)
{
    (void)ctx;
    LLVMConsumeError(err);
}

/* the LLJIT of tm (which it takes), with the helpers defined */
static LLVMOrcLLJITRef make_jit(LLVMTargetMachineRef tm, char *why, size_t wl)
{
    LLVMOrcLLJITBuilderRef jb = LLVMOrcCreateLLJITBuilder();
    LLVMOrcLLJITBuilderSetJITTargetMachineBuilder(jb, LLVMOrcJITTargetMachineBuilderCreateFromTargetMachine(tm));
    LLVMOrcLLJITRef J = NULL;
    LLVMErrorRef err = LLVMOrcCreateLLJIT(&J, jb);
    if (err) { llvm_failed(err, "creating the JIT", why, wl); return NULL; }
    /* the lookup's error says it all: the session's own report is dropped
     * (its default prints to stderr) */
    LLVMOrcExecutionSessionSetErrorReporter(LLVMOrcLLJITGetExecutionSession(J), drop_error, NULL);
    if ((err = define_helpers(J))) {
        llvm_failed(err, "defining the VM's helpers", why, wl);     /* before the JIT goes */
        LLVMOrcDisposeLLJIT(J);
        return NULL;
    }
    return J;
}

int jit_backend_compile(DnaJit *j, const DnaBundle *b, const JitOpts *o)
{
    pthread_once(&init_once, init);
    if (!init_ok) { snprintf(j->why, sizeof j->why, "LLVM failed: no native target"); return -1; }
    double t0 = now_ms();
    LLVMTargetMachineRef tm = target_machine(o ? o->triple : NULL, j->why, sizeof j->why);
    if (!tm) return -1;
    LLVMOrcThreadSafeContextRef tsc = LLVMOrcCreateNewThreadSafeContext();
    LLVMModuleRef m = build_module(LLVMOrcThreadSafeContextGetContext(tsc), b, tm, j->why, sizeof j->why);
    if (!m) { LLVMDisposeTargetMachine(tm); LLVMOrcDisposeThreadSafeContext(tsc); return -1; }
    LLVMOrcLLJITRef J = make_jit(tm, j->why, sizeof j->why);      /* takes tm */
    if (!J) { LLVMDisposeModule(m); LLVMOrcDisposeThreadSafeContext(tsc); return -1; }
    LLVMOrcThreadSafeModuleRef tsm = LLVMOrcCreateNewThreadSafeModule(m, tsc);
    LLVMOrcDisposeThreadSafeContext(tsc);
    LLVMErrorRef err = LLVMOrcLLJITAddLLVMIRModule(J, LLVMOrcLLJITGetMainJITDylib(J), tsm);
    if (err) {          /* (the message before the JIT: it names the JIT's symbols) */
        llvm_failed(err, "adding the module", j->why, sizeof j->why);
        LLVMOrcDisposeThreadSafeModule(tsm);
        LLVMOrcDisposeLLJIT(J);
        return -1;
    }
    LLVMOrcExecutorAddress table = 0;
    if ((err = LLVMOrcLLJITLookup(J, &table, JIT_TABLE))) {         /* compiles the module */
        llvm_failed(err, "compiling", j->why, sizeof j->why);
        LLVMOrcDisposeLLJIT(J);
        return -1;
    }
    JitFn *fn = dna_malloc(sizeof *fn * (b->nunits ? b->nunits : 1));
    if (!fn) { LLVMOrcDisposeLLJIT(J); snprintf(j->why, sizeof j->why, "out of memory"); return -1; }
    memcpy(fn, (const void *)(uintptr_t)table, sizeof *fn * b->nunits);
    j->fn = fn;
    j->impl = J;
    j->compile_ms = now_ms() - t0;
    return 0;
}

void jit_backend_free(DnaJit *j)
{
    if (j->impl) {
        LLVMErrorRef err = LLVMOrcDisposeLLJIT(j->impl);
        if (err) LLVMConsumeError(err);
    }
    if (j->fn) dna_free(j->fn, sizeof *j->fn * (j->nunits ? j->nunits : 1));
    j->impl = NULL;
    j->fn = NULL;
}

char *jit_backend_ir(const DnaBundle *b, size_t *len, char *why, size_t wl)
{
    pthread_once(&init_once, init);
    if (!init_ok) { snprintf(why, wl, "LLVM failed: no native target"); return NULL; }
    LLVMTargetMachineRef tm = target_machine(NULL, why, wl);
    if (!tm) return NULL;
    LLVMContextRef cx = LLVMContextCreate();
    LLVMModuleRef m = build_module(cx, b, tm, why, wl);
    char *out = NULL;
    if (m) {
        char *text = LLVMPrintModuleToString(m);
        *len = strlen(text);
        out = dna_malloc(*len + 1);
        if (out) memcpy(out, text, *len + 1);
        else snprintf(why, wl, "out of memory");
        LLVMDisposeMessage(text);
        LLVMDisposeModule(m);
    }
    LLVMContextDispose(cx);
    LLVMDisposeTargetMachine(tm);
    return out;
}
