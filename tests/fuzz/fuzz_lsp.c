/*
 * fuzz_lsp.c - fuzz target for what `dnac lsp` reads: the input is a whole
 * session on the server's stdin (Content-Length frames of JSON-RPC
 * messages, or anything else), served to the end with the answers thrown
 * away.  No file is read from disk (LspOptions.no_disk): documents exist
 * only as the session opens them.  Nothing may crash, leak, hang or read
 * out of bounds (ASan/UBSan).
 *
 * Built with replay_main.c it replays tests/fuzz/corpus_lsp (ctest
 * fuzz/replay_lsp); with -fsanitize=fuzzer it is the libFuzzer target.
 */
#include "tools/lsp.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static FILE *sink;
    if (!sink && !(sink = fopen("/dev/null", "w"))) abort();
    if (!size) return 0;
    FILE *in = fmemopen((void *)data, size, "rb");
    if (!in) abort();
    LspOptions o = { DNA_STDLIB_DIR, 1 };
    int rc = lsp_serve(in, sink, &o);
    if (rc != 0 && rc != 1) abort();
    fclose(in);
    return 0;
}
