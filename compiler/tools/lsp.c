/*
 * lsp.c - the language server's protocol (lsp.h): Content-Length framing,
 * JSON-RPC 2.0 requests and errors, the lifecycle (initialize, shutdown,
 * exit), the open documents and their diagnostics.
 *
 * Every message is answered or dropped by the JSON-RPC rules: a request
 * (it has an id) always gets a response, a notification never does.  A
 * frame that cannot be read gets an error with id null, then the server
 * looks for the next header.
 */
#include "tools/lsp_int.h"
#include "base/json.h"
#include "base/mem.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

enum {
    RPC_PARSE_ERROR = -32700, RPC_INVALID_REQUEST = -32600, RPC_METHOD_NOT_FOUND = -32601,
    RPC_INVALID_PARAMS = -32602, RPC_INTERNAL_ERROR = -32603, RPC_NOT_INITIALIZED = -32002,
    RPC_REQUEST_FAILED = -32803
};

/* ---- writing ------------------------------------------------------------ */

static void send_json(Lsp *s, json_t *msg)
{
    if (!msg) return;
    json_object_set_new(msg, "jsonrpc", json_string("2.0"));
    char *body = json_dumps(msg, JSON_COMPACT);
    json_decref(msg);
    if (!body) return;
    size_t n = strlen(body);
    fprintf(s->out, "Content-Length: %zu\r\n\r\n", n);
    fwrite(body, 1, n, s->out);
    fflush(s->out);
    free(body);
}

static void send_result(Lsp *s, json_t *id, json_t *result)
{
    json_t *m = json_object();
    json_object_set(m, "id", id ? id : json_null());
    json_object_set_new(m, "result", result ? result : json_null());
    send_json(s, m);
}

static void send_error(Lsp *s, json_t *id, int code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static void send_error(Lsp *s, json_t *id, int code, const char *fmt, ...)
{
    char text[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);
    json_t *m = json_object();
    json_object_set(m, "id", id ? id : json_null());
    json_object_set_new(m, "error", json_pack("{s:i,s:s}", "code", code, "message", text));
    send_json(s, m);
}

static void notify(Lsp *s, const char *method, json_t *params)
{
    json_t *m = json_object();
    json_object_set_new(m, "method", json_string(method));
    json_object_set_new(m, "params", params);
    send_json(s, m);
}

/* ---- reading a frame ------------------------------------------------- */

typedef enum { FR_OK, FR_EOF, FR_BAD, FR_TOO_BIG } FrameResult;

/* One header line without its line end; 0 at the end of input.  A line
 * longer than the buffer is read to its end and marked with *toolong. */
static int read_line(FILE *in, char *buf, size_t cap, size_t *total, int *toolong)
{
    size_t n = 0;
    int c, any = 0;
    *toolong = 0;
    while ((c = getc(in)) != EOF) {
        any = 1;
        ++*total;
        if (c == '\n') break;
        if (n + 1 < cap) buf[n++] = (char)c;
        else *toolong = 1;
    }
    if (!any) return 0;
    if (n && buf[n - 1] == '\r') n--;
    buf[n] = 0;
    return 1;
}

/* The header block: returns FR_OK with *len set, FR_EOF, or FR_BAD with
 * `why` filled (the block was read to its blank line). */
static FrameResult read_header(Lsp *s, size_t *len, char *why, size_t whylen)
{
    char line[1024];
    size_t total = 0;
    int have = 0, bad = 0, lines = 0, toolong;
    unsigned long long v = 0;
    *why = 0;
    for (;;) {
        if (!read_line(s->in, line, sizeof line, &total, &toolong)) return lines || have ? FR_BAD : FR_EOF;
        if (!line[0] && !toolong) {
            if (!lines) continue;                          /* blank lines between frames */
            break;
        }
        lines++;
        if (bad) continue;
        if (total > LSP_MAX_HEADER || toolong) {
            snprintf(why, whylen, "header longer than %u bytes", LSP_MAX_HEADER);
            bad = 1;
            continue;
        }
        char *colon = strchr(line, ':');
        if (!colon) {
            snprintf(why, whylen, "header line without ':'");
            bad = 1;
            continue;
        }
        *colon = 0;
        if (strcasecmp(line, "Content-Length") != 0) continue;   /* Content-Type and others */
        char *p = colon + 1, *end;
        while (*p == ' ' || *p == '\t') p++;
        if (!isdigit((unsigned char)*p)) { snprintf(why, whylen, "Content-Length is not a number"); bad = 1; continue; }
        errno = 0;
        v = strtoull(p, &end, 10);
        while (*end == ' ' || *end == '\t') end++;
        if (*end || errno) { snprintf(why, whylen, "Content-Length is not a number"); bad = 1; continue; }
        have = 1;
    }
    if (bad) return FR_BAD;
    if (!have) { snprintf(why, whylen, "no Content-Length header"); return FR_BAD; }
    if (v > LSP_MAX_MESSAGE) {
        snprintf(why, whylen, "message of %llu bytes; the limit is %u", v, LSP_MAX_MESSAGE);
        *len = (size_t)v;
        return FR_TOO_BIG;
    }
    *len = (size_t)v;
    return FR_OK;
}

/* Skip `n` bytes of a body that is not read. */
static int skip_body(FILE *in, unsigned long long n)
{
    char buf[4096];
    while (n) {
        size_t k = fread(buf, 1, n < sizeof buf ? (size_t)n : sizeof buf, in);
        if (!k) return 0;
        n -= k;
    }
    return 1;
}

/* ---- documents -------------------------------------------------------- */

LspDoc *lsp_doc_find(Lsp *s, const char *uri)
{
    for (size_t i = 0; i < s->ndocs; i++)
        if (!strcmp(s->docs[i].uri, uri)) return &s->docs[i];
    return NULL;
}

static void doc_free(LspDoc *d)
{
    free(d->uri);
    free(d->path);
    dna_free(d->text, d->len + 1);
}

static int doc_set_text(LspDoc *d, const char *text, size_t len)
{
    char *t = dna_strndup(text, len);
    if (!t) return 0;
    dna_free(d->text, d->len + 1);
    d->text = t;
    d->len = len;
    return 1;
}

static LspDoc *doc_open(Lsp *s, const char *uri)
{
    LspDoc *d = lsp_doc_find(s, uri);
    if (d) return d;
    if (s->ndocs == s->capdocs) {
        size_t nc = s->capdocs ? s->capdocs * 2 : 8;
        LspDoc *nd = realloc(s->docs, nc * sizeof *nd);
        if (!nd) return NULL;
        s->docs = nd;
        s->capdocs = nc;
    }
    d = &s->docs[s->ndocs];
    memset(d, 0, sizeof *d);
    d->uri = strdup(uri);
    d->path = lsp_uri_to_path(uri);
    d->text = dna_strndup("", 0);
    if (!d->uri || !d->text) { doc_free(d); return NULL; }
    s->ndocs++;
    return d;
}

static void doc_close(Lsp *s, LspDoc *d)
{
    doc_free(d);
    size_t i = (size_t)(d - s->docs);
    memmove(d, d + 1, (s->ndocs - i - 1) * sizeof *d);
    s->ndocs--;
}

/* ---- diagnostics ---------------------------------------------------- */

/* Check the project of `d` and publish the diagnostics of each of its
 * files (an empty list clears a file's old ones). */
static void publish(Lsp *s, const LspDoc *d)
{
    LspUnit u;
    if (!lsp_unit_build(s, &u, d, NULL, 0, 1)) return;
    json_t *pairs = lsp_diagnostics(&u);
    size_t i;
    json_t *pair;
    json_array_foreach(pairs, i, pair) {
        const char *uri = json_string_value(json_array_get(pair, 0));
        if (!uri || !json_is_array(json_array_get(pair, 1))) continue;
        json_t *p = json_object();
        json_object_set(p, "uri", json_array_get(pair, 0));
        json_object_set(p, "diagnostics", json_array_get(pair, 1));
        const LspDoc *od = lsp_doc_find(s, uri);
        if (od && od->version) json_object_set_new(p, "version", json_integer(od->version));
        notify(s, "textDocument/publishDiagnostics", p);
    }
    json_decref(pairs);
    lsp_unit_free(&u);
}

/* An empty list for a document that has left the project. */
static void clear(Lsp *s, const char *uri)
{
    notify(s, "textDocument/publishDiagnostics", json_pack("{s:s,s:[]}", "uri", uri, "diagnostics"));
}

/* ---- text document notifications ------------------------------------- */

static const char *doc_uri(json_t *params)
{
    return json_string_value(json_object_get(json_object_get(params, "textDocument"), "uri"));
}

static void did_open(Lsp *s, json_t *params)
{
    json_t *td = json_object_get(params, "textDocument");
    const char *uri = json_string_value(json_object_get(td, "uri"));
    json_t *text = json_object_get(td, "text");
    if (!uri || !json_is_string(text)) return;
    LspDoc *d = doc_open(s, uri);
    if (!d || !doc_set_text(d, json_string_value(text), json_string_length(text))) return;
    d->version = json_integer_value(json_object_get(td, "version"));
    publish(s, d);
}

/* One content change: the whole text, or a range replaced. */
static int apply_change(LspDoc *d, json_t *ch)
{
    json_t *text = json_object_get(ch, "text");
    if (!json_is_string(text)) return 0;
    json_t *range = json_object_get(ch, "range");
    if (!range) return doc_set_text(d, json_string_value(text), json_string_length(text));
    json_t *st = json_object_get(range, "start"), *en = json_object_get(range, "end");
    uint32_t a = lsp_text_offset(d->text, d->len, json_integer_value(json_object_get(st, "line")),
                                 json_integer_value(json_object_get(st, "character")));
    uint32_t b = lsp_text_offset(d->text, d->len, json_integer_value(json_object_get(en, "line")),
                                 json_integer_value(json_object_get(en, "character")));
    if (b < a) { uint32_t t = a; a = b; b = t; }
    size_t tl = json_string_length(text), nl = d->len - (b - a) + tl;
    if (nl > LSP_MAX_MESSAGE) return 0;
    char *n = dna_malloc(nl + 1);
    if (!n) return 0;
    memcpy(n, d->text, a);
    memcpy(n + a, json_string_value(text), tl);
    memcpy(n + a + tl, d->text + b, d->len - b);
    n[nl] = 0;
    dna_free(d->text, d->len + 1);
    d->text = n;
    d->len = nl;
    return 1;
}

static void did_change(Lsp *s, json_t *params)
{
    LspDoc *d = doc_uri(params) ? lsp_doc_find(s, doc_uri(params)) : NULL;
    if (!d) return;
    size_t i;
    json_t *ch;
    json_array_foreach(json_object_get(params, "contentChanges"), i, ch) apply_change(d, ch);
    json_t *v = json_object_get(json_object_get(params, "textDocument"), "version");
    if (json_is_integer(v)) d->version = json_integer_value(v);
    publish(s, d);
}

static void did_close(Lsp *s, json_t *params)
{
    const char *uri = doc_uri(params);
    LspDoc *d = uri ? lsp_doc_find(s, uri) : NULL;
    if (!d) return;
    char *u = strdup(uri);
    char *path = d->path ? strdup(d->path) : NULL;
    doc_close(s, d);
    if (!u) { free(path); return; }
    /* the file on disk (if any) is what the project has now */
    FILE *f = path && !s->opt.no_disk ? fopen(path, "rb") : NULL;
    if (f) {
        fclose(f);
        LspDoc tmp = { u, path, NULL, 0, 0 };     /* no text: read from disk */
        publish(s, &tmp);
    } else clear(s, u);
    free(u);
    free(path);
}

/* ---- requests ------------------------------------------------------- */

static json_t *initialize_result(void)
{
    json_t *caps = json_pack("{s:{s:b,s:i,s:{s:b}},s:b,s:b,s:b,s:{s:[s],s:b},s:s}",
                             "textDocumentSync", "openClose", 1, "change", 1, "save", "includeText", 0,
                             "definitionProvider", 1, "hoverProvider", 1, "documentFormattingProvider", 1,
                             "completionProvider", "triggerCharacters", ".",
                             "resolveProvider", 0, "positionEncoding", "utf-16");
    return json_pack("{s:o,s:{s:s,s:s}}", "capabilities", caps, "serverInfo", "name", "dnac lsp",
                     "version", "0.1.0");
}

/* A request on a document: the document, or an error answered. */
static LspDoc *req_doc(Lsp *s, json_t *id, json_t *params)
{
    const char *uri = doc_uri(params);
    if (!uri) { send_error(s, id, RPC_INVALID_PARAMS, "params.textDocument.uri is missing"); return NULL; }
    LspDoc *d = lsp_doc_find(s, uri);
    if (!d) send_error(s, id, RPC_INVALID_PARAMS, "'%s' is not open", uri);
    return d;
}

static void doc_request(Lsp *s, const char *method, json_t *id, json_t *params)
{
    LspDoc *d = req_doc(s, id, params);
    if (!d) return;
    uint32_t off;
    if (strcmp(method, "textDocument/formatting") != 0 && !lsp_param_offset(d, params, &off)) {
        send_error(s, id, RPC_INVALID_PARAMS, "params.position needs a line and a character, both >= 0");
        return;
    }
    if (!strcmp(method, "textDocument/definition")) send_result(s, id, lsp_definition(s, d, params));
    else if (!strcmp(method, "textDocument/hover")) send_result(s, id, lsp_hover(s, d, params));
    else if (!strcmp(method, "textDocument/completion")) send_result(s, id, lsp_completion(s, d, params));
    else {
        const char *err = NULL;
        json_t *edits = lsp_formatting(s, d, &err);
        if (edits) send_result(s, id, edits);
        else send_error(s, id, RPC_REQUEST_FAILED, "%s", err ? err : "cannot format");
    }
}

static const char *const doc_methods[] = {
    "textDocument/definition", "textDocument/hover", "textDocument/completion", "textDocument/formatting",
};

static void request(Lsp *s, const char *method, json_t *id, json_t *params)
{
    if (!strcmp(method, "initialize")) {
        if (s->initialized) { send_error(s, id, RPC_INVALID_REQUEST, "initialize was already received"); return; }
        s->initialized = 1;
        send_result(s, id, initialize_result());
        return;
    }
    if (!s->initialized) { send_error(s, id, RPC_NOT_INITIALIZED, "the server is not initialized"); return; }
    if (s->shutdown) { send_error(s, id, RPC_INVALID_REQUEST, "the server is shutting down"); return; }
    if (!strcmp(method, "shutdown")) { s->shutdown = 1; send_result(s, id, NULL); return; }
    for (size_t i = 0; i < sizeof doc_methods / sizeof *doc_methods; i++)
        if (!strcmp(method, doc_methods[i])) { doc_request(s, method, id, params); return; }
    send_error(s, id, RPC_METHOD_NOT_FOUND, "unknown method '%s'", method);
}

static void notification(Lsp *s, const char *method, json_t *params)
{
    if (!s->initialized || s->shutdown) return;        /* dropped, as the protocol says */
    if (!strcmp(method, "textDocument/didOpen")) did_open(s, params);
    else if (!strcmp(method, "textDocument/didChange")) did_change(s, params);
    else if (!strcmp(method, "textDocument/didClose")) did_close(s, params);
    else if (!strcmp(method, "textDocument/didSave")) {
        LspDoc *d = doc_uri(params) ? lsp_doc_find(s, doc_uri(params)) : NULL;
        if (d) publish(s, d);
    }
    else if (!strcmp(method, "workspace/didChangeWatchedFiles")) {
        /* files changed on disk (a checkout, another editor): check the open documents again */
        for (size_t i = 0; i < s->ndocs; i++) publish(s, &s->docs[i]);
    }
    /* initialized, $/cancelRequest, $/setTrace and unknown notifications: nothing to do */
}

/* One message body.  Returns 1 when `exit` was received. */
static int handle(Lsp *s, const char *body, size_t len)
{
    JsonError je;
    json_t *m = dna_json_parse(body, len, &je);
    if (!m) { send_error(s, NULL, RPC_PARSE_ERROR, "parse error at byte %zu: %s", je.position, je.text); return 0; }
    json_t *id = json_object_get(m, "id");
    json_t *method = json_object_get(m, "method");
    const char *ver = json_string_value(json_object_get(m, "jsonrpc"));
    if (id && !json_is_string(id) && !json_is_integer(id) && !json_is_null(id)) id = NULL;
    if (!json_is_object(m) || !ver || strcmp(ver, "2.0") != 0 || (method && !json_is_string(method))) {
        send_error(s, id, RPC_INVALID_REQUEST, "not a JSON-RPC 2.0 request");
        json_decref(m);
        return 0;
    }
    if (!method) { json_decref(m); return 0; }         /* a response: the server sends no requests */
    const char *name = json_string_value(method);
    json_t *params = json_object_get(m, "params");
    int done = 0;
    if (!strcmp(name, "exit")) done = 1;
    else if (id) request(s, name, id, params);
    else notification(s, name, params);
    json_decref(m);
    return done;
}

int lsp_serve(FILE *in, FILE *out, const LspOptions *opt)
{
    Lsp s;
    memset(&s, 0, sizeof s);
    s.in = in;
    s.out = out;
    if (opt) s.opt = *opt;
    int rc = 1;
    for (;;) {
        size_t len = 0;
        char why[160];
        FrameResult fr = read_header(&s, &len, why, sizeof why);
        if (fr == FR_EOF) break;
        if (fr == FR_BAD) { send_error(&s, NULL, RPC_PARSE_ERROR, "bad frame: %s", why); continue; }
        if (fr == FR_TOO_BIG) {
            send_error(&s, NULL, RPC_INVALID_REQUEST, "%s", why);
            if (!skip_body(in, len)) break;
            continue;
        }
        char *body = dna_malloc(len + 1);
        if (!body) {
            send_error(&s, NULL, RPC_INTERNAL_ERROR, "out of memory for a message of %zu bytes", len);
            if (!skip_body(in, len)) break;
            continue;
        }
        size_t got = fread(body, 1, len, in);
        if (got < len) {
            send_error(&s, NULL, RPC_PARSE_ERROR, "bad frame: the input ended %zu bytes into a %zu-byte body",
                       got, len);
            dna_free(body, len + 1);
            break;
        }
        body[len] = 0;
        int done = handle(&s, body, len);
        dna_free(body, len + 1);
        if (done) { rc = s.shutdown ? 0 : 1; break; }
    }
    for (size_t i = 0; i < s.ndocs; i++) doc_free(&s.docs[i]);
    free(s.docs);
    return rc;
}
