/*
 * compile_util.h - compile .dna text or files into a loaded bundle, for
 * the VM tests (header-only; each test is one program).
 */
#ifndef DNA_COMPILE_UTIL_H
#define DNA_COMPILE_UTIL_H

#include "emit/emit.h"
#include "sema/project.h"
#include "vm/vm.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Compile; on errors print them and return -1.  The project stays alive
 * (the caller frees it) so tests can walk the checked AST. */
static int cu_compile(Project *pr, const char *name, const char *text, const char *path, DnaBuf *out)
{
    proj_init(pr, DNA_STDLIB_DIR);
    int ok = text ? proj_add_source(pr, name, text, strlen(text)) : proj_add_path(pr, path);
    if (!ok) { fprintf(stderr, "cannot load %s: %s\n", name, pr->io_error); return -1; }
    if (proj_check(pr) || emit_bundle(pr, out)) {
        diag_sort(&pr->diags);
        diag_print(&pr->diags, DIAG_TEXT, stderr, 0);
        return -1;
    }
    return 0;
}

/* Compile and load. */
static int cu_load(Project *pr, const char *name, const char *text, const char *path, DnaBundle *b)
{
    DnaBuf buf;
    memset(&buf, 0, sizeof buf);
    if (cu_compile(pr, name, text, path, &buf)) return -1;
    DnaLoadResult res;
    DnaLoadError e = bundle_read(buf.p, buf.n, b, &res);
    dna_buf_free(&buf);
    if (e) { fprintf(stderr, "load: %s\n", res.msg); return -1; }
    return 0;
}

#endif
