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

/* An explicit stack, not recursion: a chain like 1+1+1... is as deep as
 * the file is long. */
typedef struct Item { const Node *n; int depth; const char *label; int is_node; } Item;

static void dump(Out *o, const Node *root)
{
    size_t cap = 64, top = 0;
    Item *st = malloc(sizeof(Item) * cap);
    if (!st) abort();
    st[top++] = (Item){ root, 0, NULL, 1 };
    while (top) {
        Item it = st[--top];
        /* depth as a number, not as indentation: output stays linear */
        if (!it.is_node) { add(o, "%d %s:\n", it.depth, it.label); continue; }
        const Node *n = it.n;
        add(o, "%d ", it.depth);
        if (!n) { add(o, "nil\n"); continue; }
        add(o, "%d:%s op=%d flags=%d num=%lld name=", n->kind, ast_kind_name((NodeKind)n->kind), n->op, n->flags,
            (long long)n->num);
        str(o, n->name);
        add(o, " name2=");
        str(o, n->name2);
        add(o, "\n");
        /* children are pushed in reverse so that they come out in order */
        Item kids[1024];
        int nk = 0;
        const Node *const abc[3] = { n->a, n->b, n->c };
        static const char *const names[3] = { "a", "b", "c" };
        for (int i = 0; i < 3; i++) {
            if (!abc[i]) continue;
            kids[nk++] = (Item){ NULL, it.depth, names[i], 0 };
            kids[nk++] = (Item){ abc[i], it.depth + 1, NULL, 1 };
        }
        const Node *const lists[2] = { n->list, n->list2 };
        static const char *const lnames[2] = { "list", "list2" };
        for (int i = 0; i < 2; i++) {
            if (!lists[i]) continue;
            kids[nk++] = (Item){ NULL, it.depth, lnames[i], 0 };
            /* list items may be many: push them straight onto the stack later */
            kids[nk++] = (Item){ lists[i], it.depth + 1, NULL, 2 };
        }
        for (int i = nk - 1; i >= 0; i--) {
            if (kids[i].is_node == 2) {
                size_t cnt = 0;
                for (const Node *x = kids[i].n; x; x = x->next) cnt++;
                while (top + cnt + 8 > cap) { cap *= 2; st = realloc(st, sizeof(Item) * cap); if (!st) abort(); }
                size_t at = top + cnt;
                for (const Node *x = kids[i].n; x; x = x->next) st[--at] = (Item){ x, kids[i].depth, NULL, 1 };
                top += cnt;
                continue;
            }
            if (top + 8 > cap) { cap *= 2; st = realloc(st, sizeof(Item) * cap); if (!st) abort(); }
            st[top++] = kids[i];
        }
    }
    free(st);
}

char *ast_dump(const Node *n)
{
    Out o = { 0 };
    add(&o, "%s", "");
    dump(&o, n);
    return o.p;
}
