/*
 * jit_stub.c - the backend when the project is built without LLVM 14:
 * nothing compiles, every bundle runs on the interpreter.  This is the
 * build-time off switch (runtime/jit/CMakeLists.txt picks it when CMake
 * finds no LLVM 14, or with -DDNA_JIT=OFF), not a pretend JIT.
 */
#include "jit/jit_int.h"

#include <stdio.h>

const int jit_backend_llvm = 0;

int jit_backend_compile(DnaJit *j, const DnaBundle *b, const JitOpts *o)
{
    (void)b;
    (void)o;
    snprintf(j->why, sizeof j->why, "built without LLVM");
    return -1;
}

void jit_backend_free(DnaJit *j)
{
    (void)j;
}

char *jit_backend_ir(const DnaBundle *b, size_t *len, char *why, size_t wl)
{
    (void)b;
    *len = 0;
    snprintf(why, wl, "built without LLVM");
    return NULL;
}
