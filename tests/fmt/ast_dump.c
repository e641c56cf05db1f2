/*
 * ast_dump.c - every node's kind, op, flags, names, number and children,
 * in order; spans, types and symbols (set by later passes) are left out.
 */
#include "ast_dump.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct Out { char *p; size_t n, cap; } Out;

static void add(Out *o, const char *fmt, ...)
{
    va_list ap;
    for (;;) {
        size_t room = o->cap - o->n;
        va_start(ap, fmt);
        int k = vsnprintf(o->p ? o->p + o->n : NULL, room, fmt, ap);
        va_end(ap);
        if (k < 0) return;
        if ((size_t)k < room) { o->n += (size_t)k; return; }
        size_t nc = o->cap ? o->cap * 2 : 4096;
        while (nc < o->n + (size_t)k + 1) nc *= 2;
        char *np = realloc(o->p, nc);
        if (!np) abort();
        o->p = np;
        o->cap = nc;
    }
}

static void str(Out *o, const char *s)
{
    if (!s) { add(o, "-"); return; }
    add(o, "\"");
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\') add(o, "\\%c", c);
        else if (c < 0x20) add(o, "\\x%02x", c);
        else add(o, "%c", c);
    }
    add(o, "\"");
}

static void dump(Out *o, const Node *n, int depth)
{
    add(o, "%*s", depth * 2, "");
    if (!n) { add(o, "nil\n"); return; }
    add(o, "%d:%s op=%d flags=%d num=%lld name=", n->kind, ast_kind_name((NodeKind)n->kind), n->op, n->flags,
        (long long)n->num);
    str(o, n->name);
    add(o, " name2=");
    str(o, n->name2);
    add(o, "\n");
    const Node *const kids[3] = { n->a, n->b, n->c };
    for (int i = 0; i < 3; i++) {
        if (!kids[i]) continue;
        add(o, "%*s%c:\n", depth * 2 + 1, "", "abc"[i]);
        dump(o, kids[i], depth + 1);
    }
    if (n->list) {
        add(o, "%*slist:\n", depth * 2 + 1, "");
        for (const Node *x = n->list; x; x = x->next) dump(o, x, depth + 1);
    }
    if (n->list2) {
        add(o, "%*slist2:\n", depth * 2 + 1, "");
        for (const Node *x = n->list2; x; x = x->next) dump(o, x, depth + 1);
    }
}

char *ast_dump(const Node *n)
{
    Out o = { 0 };
    add(&o, "%s", "");
    dump(&o, n, 0);
    return o.p;
}
