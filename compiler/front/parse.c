/*
 * parse.c - the parser driver: files, template strings and escapes.
 */
#include "front/parse.h"
#include "parser.h"
#define YYSTYPE DNA_YYSTYPE
#define YYLTYPE DNA_YYLTYPE
#include "lexer.h"

#include <string.h>

static int run(ParseCtx *pc, const char *text, uint32_t len, int start)
{
    yyscan_t sc;
    if (dna_yylex_init_extra(pc, &sc) != 0) return -1;
    pc->start_token = start;
    YY_BUFFER_STATE b = dna_yy_scan_bytes(text, (int)len, sc);
    int rc = b ? dna_yyparse(sc, pc) : -1;
    if (b) dna_yy_delete_buffer(b, sc);
    dna_yylex_destroy(sc);
    return rc;
}

Node *parse_file(Arena *a, Interner *in, DiagList *diags, uint32_t file_id,
                 SrcFile *f, Comment **comments)
{
    ParseCtx pc;
    memset(&pc, 0, sizeof pc);
    pc.arena = a;
    pc.in = in;
    pc.diags = diags;
    pc.file = f;
    pc.file_id = file_id;
    Span whole = { file_id, 0, f->len };
    long bad = src_utf8_invalid(f->text, f->len);
    if (bad >= 0) {
        Span s = { file_id, (uint32_t)bad, (uint32_t)bad + 1 };
        Diag *g = diag_error(diags, DIAG_E004, s, "file is not UTF-8 (byte 0x%02X)",
                             (unsigned char)f->text[bad]);
        diag_help(g, "save the file as UTF-8");
        return ast_new(a, N_FILE, whole);
    }
    if (f->len > INT32_MAX) {
        diag_error(diags, DIAG_E001, whole, "file too large to compile");
        return ast_new(a, N_FILE, whole);
    }
    int rc = run(&pc, f->text, f->len, START_FILE);
    if (comments) *comments = pc.comments;
    if (rc == 2 && !pc.fatal) diag_error(diags, DIAG_E001, whole, "out of memory while parsing");
    if (!pc.result) pc.result = ast_new(a, N_FILE, whole);
    return pc.result;
}

/* Decode the escapes of s[0..n) into the arena.  `off` is the absolute
 * offset of s, for diagnostics. */
const char *parse_unescape(ParseCtx *pc, const char *s, size_t n, uint32_t off)
{
    char *d = arena_alloc(pc->arena, n + 1);
    if (!d) return NULL;
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] != '\\') { d[k++] = s[i]; continue; }
        if (i + 1 >= n) break;
        char c = s[++i];
        switch (c) {
        case 'n': d[k++] = '\n'; break;
        case 't': d[k++] = '\t'; break;
        case '"': case '\\': case '{': case '}': d[k++] = c; break;
        default: {
            Span sp = { pc->file_id, off + (uint32_t)i - 1, off + (uint32_t)i + 1 };
            while (((unsigned char)s[sp.end - off] & 0xC0) == 0x80 && sp.end - off < n) sp.end++;
            Diag *g = diag_error(pc->diags, DIAG_E007, sp, "unknown escape '\\%c'", c);
            diag_help(g, "the escapes are \\\" \\\\ \\n \\t \\{ \\}");
            d[k++] = c;
        }
        }
    }
    return ast_intern(pc->in, d, k);
}

static Node *part_text(ParseCtx *pc, uint32_t off, uint32_t len)
{
    Span sp = { pc->file_id, off, off + len };
    Node *n = ast_new(pc->arena, N_STRPART, sp);
    if (n) n->name = parse_unescape(pc, pc->file->text + off, len, off);
    return n;
}

Node *parse_string(ParseCtx *pc, uint32_t off, uint32_t len, Span sp)
{
    const char *t = pc->file->text;
    Node *str = ast_new(pc->arena, N_STRING, sp);
    if (!str) return NULL;
    NodeList parts = {0};
    uint32_t lit = off, end = off + len;
    int holes = 0;
    for (uint32_t i = off; i < end; i++) {
        if (t[i] == '\\') { i++; continue; }
        if (t[i] == '}') {
            Span s = { pc->file_id, i, i + 1 };
            Diag *g = diag_error(pc->diags, DIAG_E007, s, "'}' without a template hole to close");
            diag_help(g, "write \\} for a literal brace");
            continue;
        }
        if (t[i] != '{') continue;
        uint32_t j = i + 1;
        while (j < end && t[j] != '}' && t[j] != '{') j++;
        if (j >= end || t[j] == '{') {
            Span s = { pc->file_id, i, j < end ? j : end };
            Diag *g = diag_error(pc->diags, DIAG_E007, s, "template hole is not closed");
            diag_help(g, "close it with '}', or write \\{ for a literal brace");
            break;
        }
        if (i > lit) parts = ast_append(parts, part_text(pc, lit, i - lit));
        uint32_t k = i + 1;
        while (k < j && (t[k] == ' ' || t[k] == '\t')) k++;
        const char *q = memchr(t + i + 1, '\\', j - i - 1);
        if (!q) q = memchr(t + i + 1, '"', j - i - 1);
        if (k == j) {
            Span s = { pc->file_id, i, j + 1 };
            diag_error(pc->diags, DIAG_E007, s, "empty template hole");
        } else if (q) {
            Span s = { pc->file_id, (uint32_t)(q - t), (uint32_t)(q - t) + 1 };
            Diag *g = diag_error(pc->diags, DIAG_E007, s, "a template hole cannot hold a string or an escape");
            diag_help(g, "put the text in a const and use its name in the hole");
        } else {
            ParseCtx sub = *pc;
            sub.pos = i + 1;
            sub.depth = 0;
            sub.result = NULL;
            sub.comments = sub.comments_tail = NULL;
            sub.fatal = 0;
            sub.template_depth = 1;
            run(&sub, t + i + 1, j - i - 1, START_EXPR);
            if (sub.result) parts = ast_append(parts, sub.result);
        }
        holes = 1;
        lit = i = j;
        lit++;
    }
    if (holes) {
        if (end > lit) parts = ast_append(parts, part_text(pc, lit, end - lit));
        str->flags = 1;
        str->list = parts.head;
    } else {
        str->name = parse_unescape(pc, t + off, len, off);
    }
    return str;
}
