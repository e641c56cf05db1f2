/*
 * parse.h - turning one source file into a syntax tree.
 *
 * The grammar lives in grammar/parser.y and grammar/lexer.l; this is the
 * driver they share: the parse context (the scanner's extra data and the
 * parser's parameter), comment capture for the formatter, and the
 * sub-parser for template holes in strings.
 */
#ifndef DNA_PARSE_H
#define DNA_PARSE_H

#include "front/ast.h"
#include "front/diag.h"

#define PARSE_MAX_DEPTH 256     /* nesting of ( [ { and template holes */

typedef struct Comment {
    Span span;
    struct Comment *next;
} Comment;

#define PARSE_BRACES 64

typedef struct ParseCtx {
    Arena *arena;
    Interner *in;
    DiagList *diags;
    SrcFile *file;
    uint32_t file_id;
    uint32_t base;          /* byte offset of the text being scanned */
    uint32_t pos;           /* scanner position, absolute */
    int depth;              /* open brackets */
    uint32_t brace_at[PARSE_BRACES];    /* where the open '{' are, innermost last */
    int braces;             /* open '{' (may exceed PARSE_BRACES; the deepest are not kept) */
    int fatal;              /* stop: the scanner returns end of input */
    int start_token;        /* first token to hand the parser (START_*) */
    uint32_t comment_start;
    Node *result;
    Comment *comments, *comments_tail;
    int template_depth;
} ParseCtx;

/* Parse a whole file.  Returns the N_FILE node (possibly partial after
 * errors; never NULL unless out of memory).  Errors go to `diags`. */
Node *parse_file(Arena *a, Interner *in, DiagList *diags, uint32_t file_id,
                 SrcFile *f, Comment **comments);

/* Parse a template string body (the bytes between the quotes, at `off` in
 * the file) into an N_STRING node with its parts. */
Node *parse_string(ParseCtx *pc, uint32_t off, uint32_t len, Span sp);

/* Decode escapes of a plain string slice into the arena. */
const char *parse_unescape(ParseCtx *pc, const char *s, size_t n, uint32_t off);

#endif
