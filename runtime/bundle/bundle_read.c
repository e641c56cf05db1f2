/*
 * bundle_read.c - loading .dnab bytes into a DnaBundle.
 *
 * The checks run from the outside in, each with its own message: magic,
 * format version, recorded length (truncated / trailing garbage),
 * checksum, then the sections (which must parse exactly), then every
 * cross reference and the code (verify.c).  A bad file is refused; the
 * reader never trusts a count before checking that the bytes for it are
 * there, so corrupt input cannot make it allocate without bound.
 */
#include "bundle/bundle.h"
#include "bundle/bundle_fields.h"

#include <assert.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

typedef struct Cur {
    const uint8_t *p, *end;
    int bad;
} Cur;

static int need(Cur *c, size_t n)
{
    assert(c->p <= c->end);                     /* nothing is read past the checks */
    if (c->bad || (size_t)(c->end - c->p) < n) { c->bad = 1; return 0; }
    return 1;
}

static uint8_t get_u8(Cur *c)
{
    if (!need(c, 1)) return 0;
    return *c->p++;
}

static uint32_t get_u32(Cur *c)
{
    if (!need(c, 4)) return 0;
    uint32_t v = (uint32_t)c->p[0] | (uint32_t)c->p[1] << 8 | (uint32_t)c->p[2] << 16 | (uint32_t)c->p[3] << 24;
    c->p += 4;
    return v;
}

static uint64_t get_u64(Cur *c)
{
    if (!need(c, 8)) return 0;
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--) v = v << 8 | c->p[i];
    c->p += 8;
    return v;
}

static int64_t get_i64(Cur *c) { return (int64_t)get_u64(c); }

static DnaType get_ty(Cur *c)
{
    DnaType t;
    t.code = get_u8(c);
    t.optional = get_u8(c);
    t.elem = get_u8(c);
    t.pad = get_u8(c);
    t.ref = get_u32(c);
    if (t.code >= DT__COUNT || t.optional > 1 || t.elem >= DT__COUNT || t.pad) c->bad = 1;
    return t;
}

#define SZ_u8 1
#define SZ_u32 4
#define SZ_i64 8
#define SZ_ty 8
#define SZ(width, field, ref) + SZ_##width
#define R(width, field, ref) x->field = get_##width(c);
#define REC(fn, T, LIST) \
    enum { fn##_size = 0 LIST(SZ) }; \
    static void fn(Cur *c, T *x) { LIST(R) }
REC(r_file, DnaFile, DNA_F_FILE)
REC(r_slot, DnaSlot, DNA_F_SLOT)
REC(r_const, DnaConst, DNA_F_CONST)
REC(r_unit, DnaUnit, DNA_F_UNIT)
REC(r_rule, DnaRule, DNA_F_RULE)
REC(r_arm, DnaArm, DNA_F_ARM)
REC(r_action, DnaAction, DNA_F_ACTION)
REC(r_arg, DnaArg, DNA_F_ARG)
REC(r_signal, DnaSignal, DNA_F_SIGNAL)
REC(r_opt, DnaOpt, DNA_F_OPT)
REC(r_jnode, DnaJNode, DNA_F_JNODE)
REC(r_assign, DnaAssign, DNA_F_ASSIGN)
REC(r_map, DnaMap, DNA_F_MAP)
REC(r_member, DnaMember, DNA_F_MEMBER)
REC(r_step, DnaStep, DNA_F_STEP)
REC(r_seq, DnaSequence, DNA_F_SEQ)
REC(r_source, DnaSource, DNA_F_SOURCE)
REC(r_method, DnaMethod, DNA_F_METHOD)
REC(r_conn, DnaConnector, DNA_F_CONN)
REC(r_loc, DnaSrcLoc, DNA_F_LOC)
#undef REC
#undef R
#undef SZ

typedef struct Rd {
    Cur c;
    DnaBundle *b;
    int nomem;
} Rd;

/* A count of items of at least `minsize` bytes each, checked against the
 * bytes left; then room for them in the arena. */
static void *alloc_n(Rd *r, uint32_t *n, size_t esize, size_t minsize)
{
    *n = get_u32(&r->c);
    if (r->c.bad) return NULL;
    if (minsize && *n > (size_t)(r->c.end - r->c.p) / minsize) { r->c.bad = 1; *n = 0; return NULL; }
    if (!*n) return NULL;
    void *p = arena_alloc(&r->b->arena, esize * *n);
    if (!p) { r->nomem = 1; r->c.bad = 1; *n = 0; }
    return p;
}

#define ARRAY(r, n, arr, T, fn) do { \
        (arr) = alloc_n(r, &(n), sizeof(T), fn##_size); \
        for (uint32_t i_ = 0; i_ < (n) && !(r)->c.bad; i_++) fn(&(r)->c, &(arr)[i_]); \
    } while (0)

static uint32_t *u32s(Rd *r, uint32_t *n)
{
    uint32_t *v = alloc_n(r, n, 4, 4);
    for (uint32_t i = 0; i < *n && !r->c.bad; i++) v[i] = get_u32(&r->c);
    return v;
}

static void sec_STRS(Rd *r)
{
    DnaBundle *b = r->b;
    b->strs = alloc_n(r, &b->nstrs, sizeof(DnaStr), 4);
    for (uint32_t i = 0; i < b->nstrs && !r->c.bad; i++) {
        uint32_t len = get_u32(&r->c);
        if (!need(&r->c, len)) return;
        char *s = arena_strndup(&b->arena, (const char *)r->c.p, len);
        if (!s) { r->nomem = 1; r->c.bad = 1; return; }
        r->c.p += len;
        b->strs[i].s = s;
        b->strs[i].len = len;
    }
}
static void sec_FILE(Rd *r) { ARRAY(r, r->b->nfiles, r->b->files, DnaFile, r_file); }
static void sec_ENUM(Rd *r)
{
    DnaBundle *b = r->b;
    b->enums = alloc_n(r, &b->nenums, sizeof(DnaEnum), 8);
    for (uint32_t i = 0; i < b->nenums && !r->c.bad; i++) {
        b->enums[i].name = get_u32(&r->c);
        b->enums[i].values = u32s(r, &b->enums[i].nvalues);
    }
}
static void sec_EVNT(Rd *r)
{
    DnaBundle *b = r->b;
    b->events = alloc_n(r, &b->nevents, sizeof(DnaEvent), 8);
    for (uint32_t i = 0; i < b->nevents && !r->c.bad; i++) {
        b->events[i].name = get_u32(&r->c);
        ARRAY(r, b->events[i].nslots, b->events[i].slots, DnaSlot, r_slot);
    }
}
static void sec_ENTY(Rd *r)
{
    DnaBundle *b = r->b;
    b->entities = alloc_n(r, &b->nentities, sizeof(DnaEntity), 12);
    for (uint32_t i = 0; i < b->nentities && !r->c.bad; i++) {
        DnaEntity *e = &b->entities[i];
        e->name = get_u32(&r->c);
        ARRAY(r, e->nslots, e->slots, DnaSlot, r_slot);
        e->identity = u32s(r, &e->nidentity);
    }
}
static void sec_CNST(Rd *r) { ARRAY(r, r->b->nconsts, r->b->consts, DnaConst, r_const); }
static void sec_UNIT(Rd *r) { ARRAY(r, r->b->nunits, r->b->units, DnaUnit, r_unit); }
static void sec_RULE(Rd *r) { ARRAY(r, r->b->nrules, r->b->rules, DnaRule, r_rule); }
static void sec_ARMS(Rd *r) { ARRAY(r, r->b->narms, r->b->arms, DnaArm, r_arm); }
static void sec_ACTS(Rd *r) { ARRAY(r, r->b->nactions, r->b->actions, DnaAction, r_action); }
static void sec_ARGS(Rd *r) { ARRAY(r, r->b->nargs, r->b->args, DnaArg, r_arg); }
static void sec_TRIG(Rd *r)
{
    DnaBundle *b = r->b;
    b->triggers = alloc_n(r, &b->ntriggers, sizeof(DnaTrigger), 13);
    for (uint32_t i = 0; i < b->ntriggers && !r->c.bad; i++) {
        DnaTrigger *t = &b->triggers[i];
        t->kind = get_u8(&r->c);
        t->a = get_u32(&r->c);
        t->b = get_u32(&r->c);
        t->rules = u32s(r, &t->nrules);
    }
}
static void sec_SIGN(Rd *r) { ARRAY(r, r->b->nsignals, r->b->signals, DnaSignal, r_signal); }
static void sec_OPTS(Rd *r) { ARRAY(r, r->b->nopts, r->b->opts, DnaOpt, r_opt); }
static void sec_JEXP(Rd *r)
{
    ARRAY(r, r->b->njnodes, r->b->jnodes, DnaJNode, r_jnode);
    ARRAY(r, r->b->nassigns, r->b->assigns, DnaAssign, r_assign);
    ARRAY(r, r->b->nmaps, r->b->maps, DnaMap, r_map);
}
static void sec_SRCS(Rd *r)
{
    DnaBundle *b = r->b;
    b->sources = alloc_n(r, &b->nsources, sizeof(DnaSource), r_source_size + 4);
    for (uint32_t i = 0; i < b->nsources && !r->c.bad; i++) {
        r_source(&r->c, &b->sources[i]);
        b->sources[i].events = u32s(r, &b->sources[i].nevents);
    }
}
static void sec_CONN(Rd *r)
{
    DnaBundle *b = r->b;
    b->methods = alloc_n(r, &b->nmethods, sizeof(DnaMethod), r_method_size + 4);
    for (uint32_t i = 0; i < b->nmethods && !r->c.bad; i++) {
        r_method(&r->c, &b->methods[i]);
        b->methods[i].params = u32s(r, &b->methods[i].nparams);
    }
    ARRAY(r, b->nconnectors, b->connectors, DnaConnector, r_conn);
}
static void sec_TEAM(Rd *r)
{
    DnaBundle *b = r->b;
    b->teams = alloc_n(r, &b->nteams, sizeof(DnaTeam), 8);
    for (uint32_t i = 0; i < b->nteams && !r->c.bad; i++) {
        DnaTeam *t = &b->teams[i];
        t->name = get_u32(&r->c);
        t->members = alloc_n(r, &t->nmembers, sizeof(DnaMember), r_member_size + 4);
        for (uint32_t j = 0; j < t->nmembers && !r->c.bad; j++) {
            r_member(&r->c, &t->members[j]);
            t->members[j].skills = u32s(r, &t->members[j].nskills);
        }
    }
}
static void sec_SEQN(Rd *r)
{
    DnaBundle *b = r->b;
    b->sequences = alloc_n(r, &b->nsequences, sizeof(DnaSequence), r_seq_size + 4);
    for (uint32_t i = 0; i < b->nsequences && !r->c.bad; i++) {
        DnaSequence *s = &b->sequences[i];
        r_seq(&r->c, s);
        ARRAY(r, s->nsteps, s->steps, DnaStep, r_step);
    }
}
static void sec_CODE(Rd *r) { r->b->code = u32s(r, &r->b->ncode); }
static void sec_SMAP(Rd *r) { ARRAY(r, r->b->nlocs, r->b->locs, DnaSrcLoc, r_loc); }

const char *bundle_error_name(DnaLoadError e)
{
    static const char *const names[] = { "ok", "truncated", "not a bundle", "format version", "trailing garbage",
                                         "checksum", "malformed", "verification", "out of memory", "i/o" };
    return (unsigned)e < sizeof names / sizeof *names ? names[e] : "?";
}

static DnaLoadError fail(DnaLoadResult *res, DnaLoadError e, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static DnaLoadError fail(DnaLoadResult *res, DnaLoadError e, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(res->msg, sizeof res->msg, fmt, ap);
    va_end(ap);
    res->error = e;
    return e;
}

void bundle_free(DnaBundle *b)
{
    arena_free(&b->arena);
    memset(b, 0, sizeof *b);
}

static DnaLoadError read_bundle(const uint8_t *data, size_t len, DnaBundle *b, DnaLoadResult *res);

DnaLoadError bundle_read(const uint8_t *data, size_t len, DnaBundle *b, DnaLoadResult *res)
{
    DnaLoadResult dummy;
    if (!res) res = &dummy;
    memset(res, 0, sizeof *res);
    memset(b, 0, sizeof *b);
    arena_init(&b->arena);
    DnaLoadError e = read_bundle(data, len, b, res);
    if (e != DNA_LOAD_OK) bundle_free(b);       /* nothing half-read stays behind */
    return e;
}

static DnaLoadError read_bundle(const uint8_t *data, size_t len, DnaBundle *b, DnaLoadResult *res)
{
    size_t m = len < 8 ? len : 8;
    if (memcmp(data, DNA_BUNDLE_MAGIC, m) != 0 || len == 0)
        return fail(res, len ? DNA_LOAD_MAGIC : DNA_LOAD_TRUNCATED,
                    len ? "not a dna bundle (the file does not start with the .dnab magic bytes)"
                        : "bundle is truncated: the file is empty");
    if (len < DNA_BUNDLE_HEADER)
        return fail(res, DNA_LOAD_TRUNCATED, "bundle is truncated: %zu bytes, shorter than the %d-byte header",
                    len, DNA_BUNDLE_HEADER);
    Cur c = { data + 8, data + len, 0 };
    uint32_t version = get_u32(&c);
    uint32_t flags = get_u32(&c);
    uint64_t total = get_u64(&c);
    if (version != DNA_BUNDLE_VERSION)
        return fail(res, DNA_LOAD_VERSION,
                    "bundle format version %u is not supported: this build reads version %d; "
                    "recompile the rules with a matching dnac", version, DNA_BUNDLE_VERSION);
    if (total > len)
        return fail(res, DNA_LOAD_TRUNCATED, "bundle is truncated: the file has %zu bytes, its header says %llu",
                    len, (unsigned long long)total);
    if (total < len)
        return fail(res, DNA_LOAD_TRAILING,
                    "bundle has %zu bytes of trailing garbage after its recorded end at byte %llu",
                    len - (size_t)total, (unsigned long long)total);
    {
        uint8_t sum[32];
        uint8_t *copy = dna_malloc(len);
        if (!copy) return fail(res, DNA_LOAD_NOMEM, "out of memory reading the bundle");
        memcpy(copy, data, len);
        memset(copy + 24, 0, 32);
        dna_sha256(copy, len, sum);
        dna_free(copy, len);
        if (memcmp(sum, data + 24, 32) != 0)
            return fail(res, DNA_LOAD_CHECKSUM, "bundle checksum mismatch: the file is corrupted or was modified "
                        "after dnac wrote it");
        memcpy(b->checksum, sum, 32);
    }
    if (flags != 0)
        return fail(res, DNA_LOAD_MALFORMED, "malformed bundle: unknown flags %#x", flags);
    b->version = version;
    memcpy(b->source_hash, data + 56, 32);
    c.p = data + 88;
    uint32_t nsec = get_u32(&c);
    uint32_t want = 0;
#define COUNT(tag, doc) want++;
    DNA_SECTIONS(COUNT)
#undef COUNT
    if (nsec != want)
        return fail(res, DNA_LOAD_MALFORMED, "malformed bundle: %u sections, expected %u", nsec, want);
    Rd r = { c, b, 0 };
#define SEC(tag, doc) \
    { \
        if (!need(&r.c, 16) || memcmp(r.c.p, #tag, 4) != 0) \
            return fail(res, DNA_LOAD_MALFORMED, "malformed bundle: expected section %s (%s)", #tag, doc); \
        r.c.p += 4; \
        (void)get_u32(&r.c); \
        uint64_t slen = get_u64(&r.c); \
        if (slen > (uint64_t)(r.c.end - r.c.p)) \
            return fail(res, DNA_LOAD_MALFORMED, "malformed bundle: section %s runs past the end", #tag); \
        Cur outer = r.c; \
        r.c.end = r.c.p + slen; \
        sec_##tag(&r); \
        if (r.nomem) return fail(res, DNA_LOAD_NOMEM, "out of memory loading section %s", #tag); \
        if (r.c.bad || r.c.p != r.c.end) \
            return fail(res, DNA_LOAD_MALFORMED, "malformed bundle: section %s (%s) does not parse", #tag, doc); \
        r.c.end = outer.end; \
    }
    DNA_SECTIONS(SEC)
#undef SEC
    if (r.c.p != r.c.end)
        return fail(res, DNA_LOAD_MALFORMED, "malformed bundle: data after the last section");
    char msg[200];
    if (bundle_verify(b, msg, sizeof msg) != 0)
        return fail(res, DNA_LOAD_VERIFY, "bundle failed verification: %s", msg);
    if (bundle_prepare(b) != 0) return fail(res, DNA_LOAD_NOMEM, "out of memory preparing constants");
    return DNA_LOAD_OK;
}

DnaLoadError bundle_load_file(const char *path, DnaBundle *b, DnaLoadResult *res)
{
    memset(b, 0, sizeof *b);
    memset(res, 0, sizeof *res);
    FILE *f = fopen(path, "rb");
    if (!f) return fail(res, DNA_LOAD_IO, "cannot open bundle '%s': %s", path, strerror(errno));
    size_t cap = 65536, n = 0;
    uint8_t *buf = dna_malloc(cap);
    while (buf) {
        if (n == cap) {
            uint8_t *nb = dna_realloc(buf, cap, cap * 2);
            if (!nb) { dna_free(buf, cap); buf = NULL; break; }
            buf = nb;
            cap *= 2;
        }
        size_t got = fread(buf + n, 1, cap - n, f);
        n += got;
        if (got == 0) break;
    }
    int err = ferror(f);
    fclose(f);
    if (!buf) return fail(res, DNA_LOAD_NOMEM, "out of memory reading '%s'", path);
    if (err) { dna_free(buf, cap); return fail(res, DNA_LOAD_IO, "cannot read bundle '%s'", path); }
    DnaLoadError e = bundle_read(buf, n, b, res);
    dna_free(buf, cap);
    if (e) {
        char tmp[sizeof res->msg];
        memcpy(tmp, res->msg, sizeof tmp);
        int n = snprintf(res->msg, sizeof res->msg, "%.120s: ", path);
        if (n > 0 && (size_t)n < sizeof res->msg) snprintf(res->msg + n, sizeof res->msg - (size_t)n, "%.*s",
                                                           (int)(sizeof res->msg - (size_t)n - 1), tmp);
    }
    return e;
}

int bundle_prepare(DnaBundle *b)
{
    if (bundle_index_names(b) != 0) return -1;
    if (!b->nconsts) return 0;
    b->kvals = arena_alloc(&b->arena, sizeof(DnaValue) * b->nconsts);
    if (!b->kvals) return -1;
    for (uint32_t i = 0; i < b->nconsts; i++) {
        const DnaConst *k = &b->consts[i];
        if (k->type == DT_VOID) b->kvals[i] = dna_none();
        else if (k->type == DT_STR) b->kvals[i] = dna_str(b->strs[k->str].s, b->strs[k->str].len);
        else b->kvals[i] = dna_int(k->i);
    }
    return 0;
}

/* ---- lookups ------------------------------------------------------------- */

const char *bundle_str(const DnaBundle *b, uint32_t idx)
{
    return idx < b->nstrs ? b->strs[idx].s : "";
}

uint32_t bundle_find_str(const DnaBundle *b, const char *s)
{
    for (uint32_t i = 0; i < b->nstrs; i++)
        if (!strcmp(b->strs[i].s, s)) return i;
    return DNA_NIL;
}

const DnaSrcLoc *bundle_loc(const DnaBundle *b, uint32_t pc)
{
    /* the last entry with loc.pc <= pc */
    uint32_t lo = 0, hi = b->nlocs;
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        if (b->locs[mid].pc <= pc) lo = mid + 1;
        else hi = mid;
    }
    return lo ? &b->locs[lo - 1] : NULL;
}
