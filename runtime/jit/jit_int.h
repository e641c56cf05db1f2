/*
 * jit_int.h - the JIT's insides: what jit.c (modes, sharing) asks of the
 * backend (jit_llvm.c with LLVM, jit_stub.c without), and what the backend
 * asks of the IR emitter (jit_emit.c).  Not a public header.
 */
#ifndef DNA_JIT_INT_H
#define DNA_JIT_INT_H

#include "jit/jit.h"

/* the backend: 0 with j->fn and j->impl set, or -1 with j->why */
int   jit_backend_compile(DnaJit *j, const DnaBundle *b, const JitOpts *o);
void  jit_backend_free(DnaJit *j);
char *jit_backend_ir(const DnaBundle *b, size_t *len, char *why, size_t wl);
extern const int jit_backend_llvm;

#ifdef DNA_HAVE_LLVM
#include <llvm-c/Core.h>

/* The symbol of the module's table of unit functions ([nunits x ptr]). */
#define JIT_TABLE "dna_units"

/* The external functions compiled code calls, by symbol name and address. */
typedef struct JitSym { const char *name; void *addr; } JitSym;
extern const JitSym jit_syms[];
extern const unsigned jit_nsyms;

/* Build the module of b's units (one function each, and the table) in cx;
 * NULL with why[] when a unit cannot be compiled. */
LLVMModuleRef jit_emit(LLVMContextRef cx, const DnaBundle *b, char *why, size_t wl);
#endif

#endif
