/*
 * source.h - source files: loading, UTF-8 validation, line tables, spans.
 *
 * A span is a byte range [start, end) in one file.  Line and column are
 * computed only when a diagnostic is printed: columns count code points,
 * starting at 1.
 */
#ifndef DNA_SOURCE_H
#define DNA_SOURCE_H

#include <stddef.h>
#include <stdint.h>

typedef struct Span {
    uint32_t file;          /* index into the SrcSet, 0 = no file */
    uint32_t start, end;    /* byte offsets, end exclusive */
} Span;

typedef struct SrcFile {
    char *path;             /* as given by the user */
    char *text;             /* NUL-terminated copy of the contents */
    uint32_t len;
    uint32_t *lines;        /* byte offset of each line start */
    uint32_t nlines;
    int is_stdlib;          /* loaded to satisfy an import */
} SrcFile;

typedef struct SrcSet {
    SrcFile **files;        /* files[0] is unused so that span.file 0 = none */
    uint32_t n, cap;
} SrcSet;

void     src_init(SrcSet *s);
void     src_free(SrcSet *s);
/* Add a file with the given contents (copied).  Returns its id, 0 on OOM. */
uint32_t src_add(SrcSet *s, const char *path, const char *text, size_t len);
/* Read a file from disk; returns its id, or 0 with errno set. */
uint32_t src_load(SrcSet *s, const char *path);
SrcFile *src_get(const SrcSet *s, uint32_t id);

/* 1-based line and column (in code points) of a byte offset. */
void src_linecol(const SrcFile *f, uint32_t off, uint32_t *line, uint32_t *col);
/* Offset of the first byte that is not valid UTF-8, or -1 when valid. */
long src_utf8_invalid(const char *s, size_t n);

#endif
