/*
 * eng_connector.c - calls to REST connectors at run time: the request a
 * `connector` effect becomes when it is sent, the `connector_result`
 * envelope its response comes back as, and the `set`s that envelope
 * performs (engine.h).
 *
 * A request is rendered from the state at the time it is SENT, not when
 * the effect was recorded, so that `do call a(x) then call b(y)` lets b see
 * what a's response stored: the path unit of the method runs against the
 * current first argument, and the body is the current state of the
 * argument entities, entity references among their fields expanded one
 * level.  The response comes back as an input envelope of the built-in
 * type `connector_result`; applying it stores the values the method's
 * `set ENTITY.FIELD = response.PATH` name, records a `set` effect for each
 * (an `error` effect when the path is missing), then evaluates each changed
 * entity as an event would, so `changes` / `becomes` triggers fire.
 */
#include "engine/eng_int.h"
#include "base/clock.h"
#include "base/json.h"
#include "base/mem.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define B (e->b)
#define S(i) bundle_str(e->b, (i))
#define WHY(...) (snprintf(why, wl, __VA_ARGS__), -1)

/* ---- finding things by name ------------------------------------------------ */

uint64_t eng_find(Engine *e, const char *kind, const char *key)
{
    uint32_t k = kind ? bundle_entity(B, kind) : DNA_NIL;
    if (k == DNA_NIL || !key || !*key) return 0;
    const DnaEntity *en = &B->entities[k];
    uint64_t first = 0;
    /* a key is the entity's first identity with a value; an older key (an
     * identity that came later moved it) still finds it through its binding */
    for (uint32_t i = 0; i < en->nidentity; i++) {
        uint64_t h = e->st->ops->find(e->st, k, en->identity[i], key, (uint32_t)strlen(key));
        Ent *x = h ? eng_live(e, h) : NULL;
        if (!x || x->kind != k) continue;
        if (!strcmp(eng_key_of(e, x), key)) return x->handle;
        if (!first) first = x->handle;
    }
    return first;
}

static const DnaMethod *method_named(Engine *e, const char *conn, const char *meth, uint32_t *ci, char *why, size_t wl)
{
    for (uint32_t c = 0; c < B->nconnectors; c++) {
        const DnaConnector *cn = &B->connectors[c];
        if (strcmp(S(cn->name), conn)) continue;
        for (uint32_t m = cn->method; m < cn->method + cn->nmethods && m < B->nmethods; m++)
            if (!strcmp(S(B->methods[m].name), meth)) { if (ci) *ci = c; return &B->methods[m]; }
        snprintf(why, wl, "connector '%.60s' has no method '%.60s'", conn, meth);
        return NULL;
    }
    snprintf(why, wl, "unknown connector '%.60s'", conn);
    return NULL;
}

static const char *conn_of(Engine *e, const DnaMethod *m)
{
    uint32_t mi = (uint32_t)(m - B->methods);
    for (uint32_t c = 0; c < B->nconnectors; c++)
        if (mi >= B->connectors[c].method && mi < B->connectors[c].method + B->connectors[c].nmethods)
            return S(B->connectors[c].name);
    return "?";
}

/* A `connector` effect line: its method and the keys of its arguments. */
typedef struct CallLine {
    json_t *root;
    const DnaMethod *m;
    const char *conn;
    uint64_t hs[ENG_MAX_PARAMS];
} CallLine;

static int call_line(Engine *e, const char *line, size_t len, CallLine *c, char *why, size_t wl)
{
    memset(c, 0, sizeof *c);
    JsonError je;
    c->root = dna_json_parse(line, len, &je);
    if (!c->root) return WHY("the effect is not JSON: %s", je.text);
    json_t *kind = json_object_get(c->root, "kind"), *d = json_object_get(c->root, "detail");
    if (!json_is_string(kind) || strcmp(json_string_value(kind), "connector") || !json_is_object(d))
        return WHY("not a connector call effect");
    json_t *jc = json_object_get(d, "connector"), *jm = json_object_get(d, "method"), *ja = json_object_get(d, "args");
    if (!json_is_string(jc) || !json_is_string(jm) || !json_is_array(ja)) return WHY("a connector effect names connector, method and args");
    c->m = method_named(e, json_string_value(jc), json_string_value(jm), NULL, why, wl);
    if (!c->m) return -1;
    c->conn = json_string_value(jc);
    const char *mn = S(c->m->name);
    if (json_array_size(ja) != c->m->nparams || c->m->nparams > ENG_MAX_PARAMS)
        return WHY("%s.%s takes %u argument(s), the effect has %zu", c->conn, mn, c->m->nparams, json_array_size(ja));
    for (uint32_t i = 0; i < c->m->nparams; i++) {
        json_t *a = json_array_get(ja, i);
        const char *kn = c->m->params[i] < B->nentities ? S(B->entities[c->m->params[i]].name) : "?";
        if (json_is_null(a)) return WHY("argument %u (%s) of %s.%s is not set", i + 1, kn, c->conn, mn);
        if (!json_is_string(a)) return WHY("argument %u of %s.%s is not an entity key", i + 1, c->conn, mn);
        c->hs[i] = eng_find(e, kn, json_string_value(a));
        if (!c->hs[i]) return WHY("there is no %s '%.80s' (argument %u of %s.%s)", kn, json_string_value(a), i + 1, c->conn, mn);
    }
    return 0;
}

/* ---- requests ---------------------------------------------------------------- */

/* {"kind","key","identities","fields"}; references among the fields are
 * expanded the same way (without their own references) while `expand`. */
static void write_entity(Engine *e, JsonW *w, Ent *x, int expand)
{
    const DnaEntity *en = &B->entities[x->kind];
    EngView v;                                  /* read at send time; the entity does not change */
    if (!eng_view(e, x, eng_read_time(e, x->handle, e->clock), &v)) { eng_view_free(&v); w->oom = 1; return; }
    jw_obj(w);
    jw_key(w, "kind"); jw_str(w, S(en->name));
    jw_key(w, "key"); jw_str(w, eng_key_of(e, x));
    jw_key(w, "identities");
    eng_write_identities(e, w, x);
    jw_key(w, "fields");
    jw_obj(w);
    for (uint32_t s = 0; s < en->nslots && s < v.n; s++) {
        const DnaSlot *sl = &en->slots[s];
        if ((sl->kind != DS_DECLARED && sl->kind != DS_DERIVED) || v.slots[s].kind == DNA_VK_NONE) continue;
        jw_key(w, S(sl->name));
        Ent *r = sl->type.code == DT_REF && v.slots[s].kind == DNA_VK_INT ? eng_live(e, (uint64_t)v.slots[s].u.i) : NULL;
        if (sl->type.code == DT_REF && expand) {
            if (r) write_entity(e, w, r, 0); else jw_null(w);
        } else eng_write_value(e, w, v.slots[s], sl->type);
    }
    jw_end_obj(w);
    jw_end_obj(w);
    eng_view_free(&v);
}

int eng_call_request(Engine *e, const char *line, size_t len, JsonW *out, char *why, size_t wl)
{
    CallLine c;
    int rc = call_line(e, line, len, &c, why, wl);
    char *path = NULL;
    size_t plen = 0;
    if (rc) goto out;
    const DnaMethod *m = c.m;
    const char *mn = S(m->name);
    /* the path: the method's unit against the first argument as it is now */
    if (m->path != DNA_NIL && m->path < B->nunits) {
        Ent *x = m->nparams ? eng_live(e, c.hs[0]) : NULL;
        const UnitReads *rd = &e->reads[m->path];
        for (uint32_t i = 0; x && i < rd->n; i++) {
            if (rd->v[i].from_event || rd->v[i].slot >= x->nslots || x->slots[rd->v[i].slot].kind != DNA_VK_NONE) continue;
            rc = WHY("the path of %s.%s needs %s.%s, which is not set yet", c.conn, mn, S(B->entities[x->kind].name),
                     S(B->entities[x->kind].slots[rd->v[i].slot].name));
            goto out;
        }
        int64_t saved_now = e->now;
        uint32_t saved_type = e->evtype;
        e->now = e->clock;
        e->evtype = DNA_NIL;
        DnaState st = eng_state(e, x);
        DnaValue v;
        VmResult r = eng_vm(e, m->path, &st, &v);
        e->now = saved_now;
        e->evtype = saved_type;
        if (r != VM_OK) {
            char msg[200];
            vm_error_text(&e->vm, B, msg, sizeof msg);
            rc = WHY("the path of %s.%s: %s", c.conn, mn, msg);
            goto out;
        }
        if (v.kind != DNA_VK_STR) { rc = WHY("the path of %s.%s is not set", c.conn, mn); goto out; }
        path = dna_malloc((size_t)v.len + 1);
        if (!path) { rc = WHY("out of memory"); goto out; }
        memcpy(path, v.u.s, v.len);
        path[v.len] = 0;
        plen = v.len;
    }
    char verb[16];
    size_t k = 0;
    for (const char *p = S(m->verb); *p && k + 1 < sizeof verb; p++) verb[k++] = (char)toupper((unsigned char)*p);
    verb[k] = 0;
    jw_obj(out);
    jw_key(out, "verb"); jw_str(out, verb);
    jw_key(out, "path"); if (path) jw_strn(out, path, plen); else jw_str(out, "");
    jw_key(out, "body");
    if (m->nparams == 1) write_entity(e, out, eng_live(e, c.hs[0]), 1);
    else {
        jw_obj(out);
        for (uint32_t i = 0; i < m->nparams; i++) {
            /* keyed by the parameter (its entity kind); a kind taken twice gets _2, _3 ... */
            char key[160];
            uint32_t n = 1;
            for (uint32_t j = 0; j < i; j++) n += m->params[j] == m->params[i];
            const char *kn = S(B->entities[m->params[i]].name);
            if (n > 1) snprintf(key, sizeof key, "%s_%u", kn, n); else snprintf(key, sizeof key, "%s", kn);
            jw_key(out, key);
            write_entity(e, out, eng_live(e, c.hs[i]), 1);
        }
        jw_end_obj(out);
    }
    jw_end_obj(out);
    if (out->oom) rc = WHY("out of memory");
out:
    dna_free(path, path ? plen + 1 : 0);
    json_decref(c.root);
    return rc;
}

/* ---- results -------------------------------------------------------------------- */

/* JSON text without the whitespace between tokens (it was parsed already) */
static void write_compact(JsonW *w, const char *s, size_t n)
{
    char *c = dna_malloc(n ? n : 1);
    if (!c) { w->oom = 1; return; }
    size_t k = 0;
    int in = 0, esc = 0;
    for (size_t i = 0; i < n; i++) {
        char ch = s[i];
        if (in) {
            if (esc) esc = 0;
            else if (ch == '\\') esc = 1;
            else if (ch == '"') in = 0;
        } else if (ch == '"') in = 1;
        else if (ch == ' ' || ch == '\t' || ch == '\n' || ch == '\r') continue;
        c[k++] = ch;
    }
    jw_raw(w, c, k);
    dna_free(c, n ? n : 1);
}

int eng_call_result(Engine *e, const char *line, size_t len, const char *id, int64_t at_ms, const char *resp, size_t rlen,
                    JsonW *out, char *why, size_t wl)
{
    CallLine c;
    int rc = call_line(e, line, len, &c, why, wl);
    if (rc) { json_decref(c.root); return rc; }
    if (!id || !*id) { json_decref(c.root); return WHY("a connector_result needs an id"); }
    if (!c.m->nparams) { json_decref(c.root); return WHY("%s.%s takes no entity: nothing to report on", c.conn, S(c.m->name)); }
    JsonError je;
    json_t *r = resp && rlen ? dna_json_parse(resp, rlen, &je) : NULL;
    Ent *x = eng_live(e, c.hs[0]);
    const DnaEntity *en = &B->entities[x->kind];
    jw_obj(out);
    jw_key(out, "id"); jw_str(out, id);
    jw_key(out, "type"); jw_str(out, "connector_result");
    jw_key(out, "source"); jw_str(out, "dna");
    jw_key(out, "occurred_at"); jw_time(out, at_ms);
    jw_key(out, "subject");
    jw_obj(out);
    jw_key(out, "entity"); jw_str(out, S(en->name));
    for (uint32_t i = 0; i < en->nidentity; i++) {     /* the identity the key is */
        DnaValue v = x->slots[en->identity[i]];
        if (v.kind != DNA_VK_STR) continue;
        jw_key(out, S(en->slots[en->identity[i]].name));
        jw_strn(out, v.u.s, v.len);
        break;
    }
    jw_end_obj(out);
    jw_key(out, "data");
    jw_obj(out);
    jw_key(out, "connector"); jw_str(out, c.conn);
    jw_key(out, "method"); jw_str(out, S(c.m->name));
    jw_key(out, "args");
    jw_arr(out);
    for (uint32_t i = 0; i < c.m->nparams; i++) {
        Ent *y = eng_live(e, c.hs[i]);
        jw_obj(out);
        jw_key(out, "kind"); jw_str(out, S(B->entities[y->kind].name));
        jw_key(out, "key"); jw_str(out, eng_key_of(e, y));
        jw_end_obj(out);
    }
    jw_end_arr(out);
    jw_key(out, "response");
    if (r) write_compact(out, resp, rlen); else jw_null(out);
    jw_end_obj(out);
    jw_end_obj(out);
    json_decref(r);
    json_decref(c.root);
    return out->oom ? WHY("out of memory") : 0;
}

/* ---- the connector_result envelope ------------------------------------------------ */

int eng_call_check(Engine *e, json_t *data, uint32_t *mi, char *why, size_t wl)
{
    json_t *jc = json_object_get(data, "connector"), *jm = json_object_get(data, "method"),
           *ja = json_object_get(data, "args");
    if (!json_is_string(jc)) return WHY("\"data.connector\" must be a connector name");
    if (!json_is_string(jm)) return WHY("\"data.method\" must be a method name");
    const DnaMethod *m = method_named(e, json_string_value(jc), json_string_value(jm), NULL, why, wl);
    if (!m) return -1;
    if (!json_is_array(ja) || json_array_size(ja) != m->nparams || m->nparams > ENG_MAX_PARAMS)
        return WHY("\"data.args\" must list the %u argument(s) of %s.%s", m->nparams, json_string_value(jc),
                   json_string_value(jm));
    for (uint32_t i = 0; i < m->nparams; i++) {
        json_t *a = json_array_get(ja, i), *k = json_object_get(a, "kind"), *key = json_object_get(a, "key");
        const char *kn = m->params[i] < B->nentities ? S(B->entities[m->params[i]].name) : "?";
        if (!json_is_string(k) || strcmp(json_string_value(k), kn))
            return WHY("\"data.args[%u].kind\" must be \"%s\"", i, kn);
        if (!json_is_string(key) || !json_string_length(key)) return WHY("\"data.args[%u].key\" must be a non-empty string", i);
    }
    json_t *r = json_object_get(data, "response");
    const char *k;
    json_t *v;
    json_object_foreach(data, k, v)
        if (strcmp(k, "connector") && strcmp(k, "method") && strcmp(k, "args") && strcmp(k, "response"))
            return WHY("\"data.%.40s\" is not a field of connector_result", k);
    (void)r;                                    /* any JSON, or null: the body was not JSON */
    *mi = (uint32_t)(m - B->methods);
    return 0;
}

int eng_call_resolve(Engine *e, json_t *data, uint32_t mi, uint64_t *hs, char *why, size_t wl)
{
    const DnaMethod *m = &B->methods[mi];
    json_t *ja = json_object_get(data, "args");
    for (uint32_t i = 0; i < m->nparams; i++) {
        json_t *a = json_array_get(ja, i);
        const char *kn = S(B->entities[m->params[i]].name), *key = json_string_value(json_object_get(a, "key"));
        hs[i] = eng_find(e, kn, key);
        if (!hs[i]) return WHY("connector_result for a %s that does not exist ('%.80s')", kn, key);
    }
    return 0;
}

/* A response value as JSON the slot's type accepts: ids that come as
 * numbers become strings, numbers that come as strings become numbers,
 * "true"/"false" booleans, Unix times RFC 3339.  A new reference. */
static json_t *coerce(json_t *v, DnaType t)
{
    char buf[64];
    switch (t.code) {
    case DT_STR: case DT_ENUM:
        if (json_is_integer(v)) { snprintf(buf, sizeof buf, "%lld", (long long)json_integer_value(v)); return json_string(buf); }
        if (json_is_real(v)) { snprintf(buf, sizeof buf, "%.15g", json_real_value(v)); return json_string(buf); }
        if (json_is_boolean(v) && t.code == DT_STR) return json_string(json_is_true(v) ? "true" : "false");
        break;
    case DT_INT: case DT_DUR: case DT_DEC:
        if (json_is_string(v) && json_string_length(v)) {
            const char *s = json_string_value(v);
            char *end;
            errno = 0;
            if (t.code != DT_DEC) {
                long long i = strtoll(s, &end, 10);
                if (!*end && !errno) return json_integer(i);
            } else {
                double d = strtod(s, &end);
                if (!*end && !errno) return json_real(d);
            }
        }
        break;
    case DT_BOOL:
        if (json_is_string(v) && !strcmp(json_string_value(v), "true")) return json_true();
        if (json_is_string(v) && !strcmp(json_string_value(v), "false")) return json_false();
        break;
    case DT_TS:
        if (json_is_number(v)) {
            double d = json_number_value(v);
            clk_format(d > 1e11 ? (int64_t)d : (int64_t)(d * 1000.0), buf);
            return json_string(buf);
        }
        break;
    default: break;
    }
    return json_incref(v);
}

/* The value an assignment names: a path below the response (AV_JSON, *jv
 * borrowed; a JSON null counts as absent), or a constant (AV_CONST). */
typedef enum AsgVal { AV_ABSENT, AV_JSON, AV_CONST, AV_UNSUPPORTED } AsgVal;

static AsgVal assigned(Engine *e, const DnaAssign *a, json_t *resp, char *from, size_t fl, json_t **jv, DnaValue *konst)
{
    *jv = NULL;
    if (a->expr >= B->njnodes) { snprintf(from, fl, "?"); return AV_UNSUPPORTED; }
    const DnaJNode *j = &B->jnodes[a->expr];
    if (j->op == DJ_CONST && j->arg < B->nconsts) {
        snprintf(from, fl, "constant");
        *konst = B->kvals[j->arg];
        return AV_CONST;
    }
    if (j->op != DJ_PATH) { snprintf(from, fl, "an expression"); return AV_UNSUPPORTED; }
    const char *p = S(j->arg);
    snprintf(from, fl, "response%s%s", *p ? "." : "", p);
    json_t *v = dna_json_path(resp, p);
    if (!v) return AV_ABSENT;
    *jv = v;
    return AV_JSON;
}

static void result_error(Engine *e, Ent *x, const char *field, const char *from, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

static void result_error(Engine *e, Ent *x, const char *field, const char *from, const char *fmt, ...)
{
    char msg[400];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    eff_begin(e, x, EFF_ERROR, DNA_NIL);
    jw_key(&e->w, "message"); jw_str(&e->w, msg);
    if (field) { jw_key(&e->w, "field"); jw_str(&e->w, field); }
    if (from) { jw_key(&e->w, "from"); jw_str(&e->w, from); }
    eff_end(e, x, EFF_ERROR, DNA_NIL);
}

void eng_call_apply(Engine *e, json_t *data, uint32_t mi, const uint64_t *hs)
{
    const DnaMethod *m = &B->methods[mi];
    json_t *resp = json_object_get(data, "response");
    if (resp && json_is_null(resp)) resp = NULL;
    const char *cn = conn_of(e, m), *mn = S(m->name);
    uint8_t changed[ENG_MAX_PARAMS] = { 0 };
    e->call_conn = cn;
    e->call_method = mn;
    for (uint32_t ai = m->assign; ai < m->assign + m->nassigns && ai < B->nassigns; ai++) {
        const DnaAssign *a = &B->assigns[ai];
        const char *target = S(a->target), *dot = strchr(target, '.');
        if (!dot) continue;
        /* the argument of that kind */
        uint32_t p = DNA_NIL;
        for (uint32_t i = 0; i < m->nparams && p == DNA_NIL; i++)
            if (strlen(S(B->entities[m->params[i]].name)) == (size_t)(dot - target) &&
                !strncmp(S(B->entities[m->params[i]].name), target, (size_t)(dot - target)))
                p = i;
        Ent *x = p != DNA_NIL ? eng_live(e, hs[p]) : NULL;
        if (!x) continue;
        const char *field = dot + 1;
        uint32_t slot = bundle_slot(B, x->kind, field);
        if (slot == DNA_NIL || slot >= x->nslots) continue;
        const DnaSlot *sl = &B->entities[x->kind].slots[slot];
        char from[300];
        json_t *jv;
        DnaValue v = dna_none();
        AsgVal av = assigned(e, a, resp, from, sizeof from, &jv, &v);
        const char *en_name = S(B->entities[x->kind].name);
        if (av == AV_UNSUPPORTED) {
            result_error(e, x, field, from, "%s.%s: this `set` expression is not supported at run time; %s.%s keeps its value",
                         cn, mn, en_name, field);
            continue;
        }
        if (av == AV_ABSENT) {
            result_error(e, x, field, from, "%s.%s: %s; %s.%s keeps its value", cn, mn,
                         resp ? "the response has no value at that path" : "the response was not JSON", en_name, field);
            continue;
        }
        if (av == AV_JSON) {
            json_t *cv = coerce(jv, sl->type);
            char msg[160];
            if (!cv || !eng_type_ok(B, sl->type, cv, &v, msg, sizeof msg)) {
                result_error(e, x, field, from, "%s.%s: %s %s; %s.%s keeps its value", cn, mn, from,
                             cv ? msg : "out of memory", en_name, field);
                json_decref(cv);
                continue;
            }
            ent_set(x, slot, v);                /* copies a string before cv goes */
            json_decref(cv);
        } else ent_set(x, slot, v);
        x->dirty = 1;
        changed[p] = 1;
        /* an identity (deal.offer_id) finds the entity from now on */
        const DnaEntity *en = &B->entities[x->kind];
        for (uint32_t i = 0; i < en->nidentity; i++)
            if (en->identity[i] == slot && x->slots[slot].kind == DNA_VK_STR)
                e->st->ops->bind(e->st, x->kind, slot, x->slots[slot].u.s, x->slots[slot].len, x->handle);
        eff_begin(e, x, EFF_SET, DNA_NIL);
        jw_key(&e->w, "field"); jw_str(&e->w, field);
        jw_key(&e->w, "value"); eng_write_value(e, &e->w, x->slots[slot], sl->type);
        jw_key(&e->w, "from"); jw_str(&e->w, from);
        eff_end(e, x, EFF_SET, DNA_NIL);
    }
    e->call_conn = e->call_method = NULL;
    /* the changed entities are evaluated as an event would evaluate them */
    for (uint32_t i = 0; i < m->nparams; i++) {
        if (!changed[i]) continue;
        int dup = 0;
        for (uint32_t j = 0; j < i; j++) dup |= changed[j] && eng_live(e, hs[j]) == eng_live(e, hs[i]);
        Ent *x = eng_live(e, hs[i]);
        if (!dup && x) eng_evaluate(e, x, 0);
    }
}
