/*
 * lsp.h - `dnac lsp`: the Language Server Protocol over a pair of streams.
 *
 * The server reads JSON-RPC 2.0 messages framed with Content-Length headers
 * from `in` and writes its answers to `out` (stdio for an editor).  Each
 * open document is checked with the other .dna files of its folder and the
 * standard-library modules they import, the open buffers' text overriding
 * what is on disk; the diagnostics, lint findings among them, go out as
 * textDocument/publishDiagnostics.  It answers definition, hover,
 * completion and formatting, and ends at `exit`.  Positions are lines and
 * UTF-16 code units, as the protocol says.
 *
 * Bad input never ends the server: broken framing, a message over
 * LSP_MAX_MESSAGE bytes, JSON that does not parse or is not a request, and
 * unknown methods each get a JSON-RPC error and the next message is read.
 */
#ifndef DNA_LSP_H
#define DNA_LSP_H

#include <stdio.h>

#define LSP_MAX_MESSAGE (64u << 20)     /* bytes of one message body */
#define LSP_MAX_HEADER  8192u           /* bytes of one message's header block */

typedef struct LspOptions {
    const char *stdlib_dir;     /* where `import stdlib.X` looks; NULL: none */
    int no_disk;                /* read no file that is not open (fuzzing) */
} LspOptions;

/* Serve until `exit` or the end of `in`.  Returns the process exit status
 * the protocol asks for: 0 after shutdown then exit, 1 otherwise. */
int lsp_serve(FILE *in, FILE *out, const LspOptions *opt);

#endif
