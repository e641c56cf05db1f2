/*
 * source.c - loading source files and mapping byte offsets to positions.
 */
#include "front/source.h"
#include "base/mem.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

void src_init(SrcSet *s) { memset(s, 0, sizeof *s); }

static void file_free(SrcFile *f)
{
    if (!f) return;
    if (f->path) dna_free(f->path, strlen(f->path) + 1);
    dna_free(f->text, (size_t)f->len + 1);
    dna_free(f->lines, sizeof(uint32_t) * f->nlines);
    dna_free(f, sizeof *f);
}

void src_free(SrcSet *s)
{
    for (uint32_t i = 1; i < s->n; i++) file_free(s->files[i]);
    dna_free(s->files, sizeof(SrcFile *) * s->cap);
    src_init(s);
}

SrcFile *src_get(const SrcSet *s, uint32_t id)
{
    return id && id < s->n ? s->files[id] : NULL;
}

uint32_t src_add(SrcSet *s, const char *path, const char *text, size_t len)
{
    if (len > UINT32_MAX - 1) { errno = EFBIG; return 0; }
    if (s->n == 0) s->n = 1;
    if (s->n >= s->cap) {
        uint32_t nc = s->cap ? s->cap * 2 : 16;
        SrcFile **nf = dna_realloc(s->files, sizeof(SrcFile *) * s->cap, sizeof(SrcFile *) * nc);
        if (!nf) return 0;
        s->files = nf;
        s->cap = nc;
    }
    SrcFile *f = dna_malloc(sizeof *f);
    if (!f) return 0;
    memset(f, 0, sizeof *f);
    f->path = dna_strndup(path, strlen(path));
    f->text = dna_strndup(text, len);
    f->len = (uint32_t)len;
    uint32_t n = 1;
    for (size_t i = 0; i < len; i++) n += text[i] == '\n';
    f->lines = dna_malloc(sizeof(uint32_t) * n);
    if (!f->path || !f->text || !f->lines) { f->nlines = n; file_free(f); return 0; }
    f->nlines = n;
    f->lines[0] = 0;
    uint32_t k = 1;
    for (size_t i = 0; i < len; i++)
        if (text[i] == '\n') f->lines[k++] = (uint32_t)i + 1;
    s->files[s->n] = f;
    return s->n++;
}

uint32_t src_load(SrcSet *s, const char *path)
{
    FILE *fp = fopen(path, "rb");
    if (!fp) return 0;
    struct stat st;
    if (fstat(fileno(fp), &st) != 0 || S_ISDIR(st.st_mode)) {
        fclose(fp);
        errno = S_ISDIR(st.st_mode) ? EISDIR : errno;
        return 0;
    }
    size_t cap = st.st_size > 0 ? (size_t)st.st_size + 1 : 4096, len = 0;
    char *buf = dna_malloc(cap);
    if (!buf) { fclose(fp); errno = ENOMEM; return 0; }
    for (;;) {
        if (len == cap) {
            char *nb = dna_realloc(buf, cap, cap * 2);
            if (!nb) { dna_free(buf, cap); fclose(fp); errno = ENOMEM; return 0; }
            buf = nb;
            cap *= 2;
        }
        size_t r = fread(buf + len, 1, cap - len, fp);
        len += r;
        if (r == 0) break;
    }
    int err = ferror(fp);
    fclose(fp);
    if (err) { dna_free(buf, cap); errno = EIO; return 0; }
    uint32_t id = src_add(s, path, buf, len);
    dna_free(buf, cap);
    if (!id && !errno) errno = ENOMEM;
    return id;
}

void src_linecol(const SrcFile *f, uint32_t off, uint32_t *line, uint32_t *col)
{
    uint32_t lo = 0, hi = f->nlines;
    while (hi - lo > 1) {                   /* last line start <= off */
        uint32_t mid = lo + (hi - lo) / 2;
        if (f->lines[mid] <= off) lo = mid; else hi = mid;
    }
    uint32_t c = 1;
    for (uint32_t i = f->lines[lo]; i < off && i < f->len; i++)
        if (((unsigned char)f->text[i] & 0xC0) != 0x80) c++;
    *line = lo + 1;
    *col = c;
}

long src_utf8_invalid(const char *s, size_t n)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t i = 0;
    while (i < n) {
        unsigned c = p[i];
        if (c < 0x80) { i++; continue; }
        size_t k;
        unsigned min;
        if (c >= 0xC2 && c <= 0xDF) { k = 1; min = 0x80; }
        else if (c >= 0xE0 && c <= 0xEF) { k = 2; min = 0x800; }
        else if (c >= 0xF0 && c <= 0xF4) { k = 3; min = 0x10000; }
        else return (long)i;
        unsigned cp = c & (0x3F >> k);
        for (size_t j = 1; j <= k; j++) {
            if (i + j >= n || (p[i + j] & 0xC0) != 0x80) return (long)i;
            cp = (cp << 6) | (p[i + j] & 0x3F);
        }
        if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return (long)i;
        i += k + 1;
    }
    return -1;
}
