/*
 * fuzz_check.c - libFuzzer target over the whole front end: lexer, parser,
 * resolver and checker, then the three diagnostic renderers.
 *
 * One input is one in-memory file.  It may import stdlib modules, which are
 * read from the source tree (DNA_STDLIB_DIR).  Built as a real libFuzzer
 * binary with DNA_FUZZ=ON (clang, -fsanitize=fuzzer), and otherwise linked
 * with replay_main.c, which runs the corpus and the crashers in every test
 * run.
 */
#include "sema/project.h"

#include <stdint.h>
#include <stdio.h>

#ifndef DNA_STDLIB_DIR
#error "DNA_STDLIB_DIR must name the stdlib directory"
#endif

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static FILE *sink;
    if (!sink) sink = fopen("/dev/null", "w");
    if (size > (1u << 20)) return 0;            /* the fuzzer's -max_len is far below */
    Project pr;
    proj_init(&pr, DNA_STDLIB_DIR);
    if (proj_add_source(&pr, "fuzz.dna", (const char *)data, size)) {
        proj_check(&pr);
        if (sink) {
            diag_print(&pr.diags, DIAG_TEXT, sink, 1);
            diag_print(&pr.diags, DIAG_JSON, sink, 0);
            diag_print(&pr.diags, DIAG_GITHUB, sink, 0);
        }
    }
    proj_free(&pr);
    return 0;
}
