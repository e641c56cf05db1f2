/*
 * lsp_int.h - what the parts of the language server share: the open
 * documents, a checked unit around one document, positions in UTF-16.
 *
 * lsp.c speaks the protocol and keeps the documents; lsp_index.c builds
 * units and answers definition and hover; lsp_complete.c answers
 * completion and formatting.  Every answer is a jansson value; NULL
 * results become JSON null.
 */
#ifndef DNA_LSP_INT_H
#define DNA_LSP_INT_H

#include "tools/lsp.h"
#include "sema/project.h"

#include <jansson.h>

typedef struct LspDoc {
    char *uri;
    char *path;                 /* the file path of a file: URI, else NULL */
    char *text;
    size_t len;
    int64_t version;
} LspDoc;

typedef struct Lsp {
    FILE *in, *out;
    LspOptions opt;
    LspDoc *docs;
    size_t ndocs, capdocs;
    int initialized, shutdown;
} Lsp;

LspDoc *lsp_doc_find(Lsp *s, const char *uri);

/* file:///a%20b/c.dna <-> /a b/c.dna (malloc'd; NULL when not a file URI) */
char *lsp_uri_to_path(const char *uri);
char *lsp_path_to_uri(const char *path);

/* ---- a unit: the project of one document, checked (and linted) -------- */

typedef struct LspUnit {
    Project pr;
    uint32_t file;              /* source id of the document, 0 if missing */
    const LspDoc *doc;
} LspUnit;

/* Build and check the project `doc` belongs to.  `text` (len bytes), when
 * not NULL, replaces the document's text (completion compiles a patched
 * copy).  `lint`: run the linter when the program checks clean.  Returns 0
 * when out of memory. */
int  lsp_unit_build(Lsp *s, LspUnit *u, const LspDoc *doc, const char *text, size_t len, int lint);
void lsp_unit_free(LspUnit *u);

/* ---- positions: lines from 0, characters in UTF-16 code units ---------- */

json_t  *lsp_pos_json(const SrcFile *f, uint32_t off);
json_t  *lsp_range_json(const SrcFile *f, uint32_t start, uint32_t end);
/* The byte offset of a position in text (clamped to the line's end). */
uint32_t lsp_text_offset(const char *text, size_t len, int64_t line, int64_t ch);
/* The position's byte offset from a request's params.position. */
int      lsp_param_offset(const LspDoc *d, json_t *params, uint32_t *off);

/* ---- the syntax tree ---------------------------------------------------- */

/* The innermost node of `file` whose span holds `off`; `outer` (may be
 * NULL) gets the top-level declaration holding it. */
Node *lsp_node_at(Node *file, uint32_t off, Node **outer);
/* The innermost node of one of `kinds` (ending with N__COUNT) holding off. */
Node *lsp_node_of(Node *file, uint32_t off, const NodeKind *kinds);
/* The word [A-Za-z0-9_.] around `off`: its start and end. */
int   lsp_word_at(const char *t, size_t len, uint32_t off, uint32_t *ws, uint32_t *we);

/* ---- answers --------------------------------------------------------- */

json_t *lsp_definition(Lsp *s, const LspDoc *d, json_t *params);
json_t *lsp_hover(Lsp *s, const LspDoc *d, json_t *params);
json_t *lsp_completion(Lsp *s, const LspDoc *d, json_t *params);
/* Formatting: the edits, or NULL with *err set (a message) when the
 * document does not parse or cannot be formatted. */
json_t *lsp_formatting(Lsp *s, const LspDoc *d, const char **err);
/* The diagnostics of every user file of `u`, as [uri, [diagnostic...]]
 * pairs. */
json_t *lsp_diagnostics(LspUnit *u);

#endif
