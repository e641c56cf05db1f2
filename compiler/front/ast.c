/*
 * ast.c - syntax tree nodes and the name interner.
 */
#include "front/ast.h"

#include <string.h>

static uint32_t hash_str(const char *s, size_t n)
{
    uint32_t h = 2166136261u;               /* FNV-1a */
    for (size_t i = 0; i < n; i++) h = (h ^ (unsigned char)s[i]) * 16777619u;
    return h;
}

void ast_intern_init(Interner *in, Arena *a)
{
    memset(in, 0, sizeof *in);
    in->arena = a;
}

void ast_intern_free(Interner *in)
{
    dna_free(in->slots, sizeof(char *) * in->cap);
    in->slots = NULL;
    in->cap = in->n = 0;
}

static int grow(Interner *in)
{
    uint32_t nc = in->cap ? in->cap * 2 : 256;
    const char **ns = dna_malloc(sizeof(char *) * nc);
    if (!ns) return 0;
    memset(ns, 0, sizeof(char *) * nc);
    for (uint32_t i = 0; i < in->cap; i++) {
        const char *s = in->slots[i];
        if (!s) continue;
        uint32_t j = hash_str(s, strlen(s)) & (nc - 1);
        while (ns[j]) j = (j + 1) & (nc - 1);
        ns[j] = s;
    }
    dna_free(in->slots, sizeof(char *) * in->cap);
    in->slots = ns;
    in->cap = nc;
    return 1;
}

const char *ast_intern(Interner *in, const char *s, size_t n)
{
    if ((in->n + 1) * 4 > in->cap * 3 && !grow(in)) return NULL;
    uint32_t j = hash_str(s, n) & (in->cap - 1);
    for (;;) {
        const char *t = in->slots[j];
        if (!t) break;
        if (strncmp(t, s, n) == 0 && t[n] == 0) return t;
        j = (j + 1) & (in->cap - 1);
    }
    char *d = arena_strndup(in->arena, s, n);
    if (!d) return NULL;
    in->slots[j] = d;
    in->n++;
    return d;
}

Node *ast_new(Arena *a, NodeKind k, Span sp)
{
    Node *n = arena_alloc(a, sizeof *n);
    if (!n) return NULL;
    n->kind = (uint8_t)k;
    n->span = sp;
    return n;
}

NodeList ast_list1(Node *n)
{
    NodeList l = { n, n };
    return l;
}

NodeList ast_append(NodeList l, Node *n)
{
    if (!n) return l;
    if (!l.head) return ast_list1(n);
    l.tail->next = n;
    l.tail = n;
    return l;
}

int ast_count(const Node *list)
{
    int n = 0;
    for (; list; list = list->next) n++;
    return n;
}

const char *ast_kind_name(NodeKind k)
{
    static const char *const names[N__COUNT] = {
        "file", "module", "import", "const", "fn", "parameter", "event", "entity",
        "field", "type", "score", "intent", "intent category", "rule", "limit",
        "expire", "decay", "derive", "signal", "on", "weight", "priority",
        "route", "when", "match", "match arm", "else", "do", "workflow",
        "trigger", "mode", "action", "source", "option", "signature", "events",
        "map", "assignment", "connector", "method", "team", "member",
        "sequence", "step", "limit", "window", "exit", "test", "given",
        "test event", "wait", "expect", "name",
        "int", "decimal", "duration", "time of day", "string", "string part",
        "bool", "none", "name", "event", "member", "call", "named argument",
        "unary", "binary", "list", "record", "match", "match arm", "error",
    };
    return k < N__COUNT ? names[k] : "?";
}

const char *ast_op_text(Op op)
{
    static const char *const t[] = {
        "", "or", "and", "not", "==", "!=", "<", "<=", ">", ">=",
        "contains", "in", "+", "-", "*", "/", "%", "-",
    };
    return op < sizeof t / sizeof *t ? t[op] : "?";
}
