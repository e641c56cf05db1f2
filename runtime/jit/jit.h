/*
 * jit.h - rule code compiled to machine code with LLVM, the interpreter's
 * exact equal.
 *
 * jit_compile() turns every code unit of a verified bundle into one
 * function (LLVM IR through the C API, compiled by ORC's LLJIT; one module
 * and one LLJIT per bundle).  A compiled unit gives exactly what vm_eval()
 * gives for the same unit and state: the same value, the same error code,
 * with DnaVm.err, err_pc, err_unit and scratch_used set the same way.  The
 * interpreter (vm/vm.c) is the reference; operations that are rare or long
 * (builtins, string building, decimal division...) call its own functions
 * (vm/vm_ops.h).
 *
 * The JIT is optional twice.  At build time: without LLVM 14 the project
 * builds jit_stub.c, where every compilation fails with "built without
 * LLVM" and everything runs on the interpreter.  At run time: the mode
 * (jit_mode) is `on`, `off` or `auto` (compile bundles of at least
 * JIT_AUTO_MIN_CODE instructions, where compile time pays back); a failed
 * compilation (any LLVM error) leaves that bundle on the interpreter, and
 * jit_describe() says so.
 *
 * jit_eval() is the one entry point for evaluating a unit: the compiled
 * function when there is one, vm_eval() otherwise.
 */
#ifndef DNA_JIT_H
#define DNA_JIT_H

#include "bundle/bundle.h"
#include "vm/vm.h"

#include <stddef.h>
#include <stdint.h>

typedef enum JitMode { JIT_OFF, JIT_ON, JIT_AUTO } JitMode;

/* auto compiles a bundle with at least this many instructions */
#define JIT_AUTO_MIN_CODE 2000

/* A compiled unit: the arguments of vm_eval() but the unit. */
typedef VmResult (*JitFn)(DnaVm *vm, const DnaBundle *b, const DnaState *st, DnaValue *out);

typedef struct DnaJit {
    JitMode mode;               /* the mode it was made under */
    uint32_t nunits;
    JitFn *fn;                  /* [nunits], or NULL: the bundle runs on the interpreter */
    double compile_ms;          /* IR, optimisation and machine code, wall clock */
    char why[240];              /* fn == NULL: why not ("off", an LLVM error...) */
    void *impl;                 /* the backend's (the LLJIT) */
    int refs;                   /* jit_acquire's count */
} DnaJit;

/* ---- the mode: jit_set_mode()'s, else DNA_JIT's (on|off|auto), else auto ---- */
int         jit_parse_mode(const char *s, JitMode *m);    /* 0, or -1 when s is none of them */
const char *jit_mode_name(JitMode m);
void        jit_set_mode(JitMode m);
JitMode     jit_mode(void);
int         jit_built(void);        /* 1 when built with LLVM */

/* Where LLVM errors are reported (once per failed bundle, when the mode
 * asked for the JIT); NULL: nowhere.  Programs point it at stderr. */
void jit_set_log(void (*log)(const char *msg));

/* ---- compiling ---- */
typedef struct JitOpts {
    const char *triple;         /* NULL: the host's; another target makes LLVM fail (tests) */
} JitOpts;

/* Compile every unit of b (verified).  Always returns a DnaJit (NULL only
 * when out of memory): with fn set, or fn NULL and why[] saying why
 * ("out of memory" when one of our allocations was refused). */
DnaJit *jit_compile(const DnaBundle *b, const JitOpts *o);
void    jit_free(DnaJit *j);

/* The JIT of bundle b under the current mode, shared by everyone who
 * asks for the same bundle (serve's worker and validator, a reload of the
 * same rules): compiled on the first jit_acquire; after the last
 * jit_release it is kept while it is one of the two most recently idle,
 * so engines made and freed one after the other compile once.  Never NULL
 * unless out of memory; fn NULL when the mode, the size or LLVM said no. */
DnaJit *jit_acquire(const DnaBundle *b);
void    jit_release(DnaJit *j);
/* Free the kept JITs no engine uses; the bytes they hold of dna_malloc's
 * (memory accounting in tests). */
void    jit_flush(void);
size_t  jit_kept_bytes(void);

/* One line for logs and the replay summary: "on: 199 units compiled in
 * 12.3 ms", "off", "off (auto: 872 instructions, below 2000)", "off (LLVM
 * failed: ...)". */
void jit_describe(const DnaJit *j, char *buf, size_t len);

/* The LLVM IR of b's units after the JIT's optimisations, as text
 * (dna_free'd by the caller, *len bytes); NULL with why[] on failure. */
char *jit_ir(const DnaBundle *b, size_t *len, char *why, size_t wl);

/* ---- evaluating ---- */
static inline VmResult jit_eval(DnaVm *vm, const DnaJit *j, const DnaBundle *b, uint32_t unit, const DnaState *st,
                                DnaValue *out)
{
    if (j && j->fn && unit < j->nunits && !vm->trace) {
        vm->err_unit = unit;
        return j->fn[unit](vm, b, st, out);
    }
    return vm_eval(vm, b, unit, st, out);
}

#endif
