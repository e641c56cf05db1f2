/*
 * bundle_write.c - serializing a DnaBundle into .dnab bytes.
 *
 * Every integer is written explicitly in little-endian order, field by
 * field (bundle_fields.h), never as a struct dump, so the file does not
 * depend on the compiler's padding or the host's byte order.  Output is a
 * pure function of the bundle: no time stamps, no pointers, no hash-table
 * order.  Section payloads:
 *
 *   STRS n, (u32 len, bytes)*          FILE n, FILE*
 *   ENUM n, (name, nvalues, u32*)*     EVNT n, (name, nslots, SLOT*)*
 *   ENTY n, (name, nslots, SLOT*, nidentity, u32*)*
 *   CNST n, CONST*   UNIT n, UNIT*   RULE n, RULE*   ARMS n, ARM*
 *   ACTS n, ACTION*  ARGS n, ARG*
 *   TRIG n, (u8 kind, a, b, nrules, u32*)*
 *   SIGN n, SIGNAL*  OPTS n, OPT*
 *   JEXP n, JNODE*, n, ASSIGN*, n, MAP*
 *   SRCS n, (SOURCE, nevents, u32*)*
 *   CONN n, (METHOD, nparams, u32*)*, n, CONN*
 *   TEAM n, (name, nmembers, (MEMBER, nskills, u32*)*)*
 *   SEQN n, (SEQ, nsteps, STEP*)*
 *   CODE n, u32*     SMAP n, LOC*
 */
#include "bundle/bundle.h"
#include "bundle/bundle_fields.h"

#include <assert.h>
#include <string.h>
#include <openssl/sha.h>

void dna_sha256(const void *data, size_t len, uint8_t out[32])
{
    SHA256((const unsigned char *)data, len, out);
}

void dna_buf_free(DnaBuf *b)
{
    dna_free(b->p, b->cap);
    memset(b, 0, sizeof *b);
}

static uint8_t *grow(DnaBuf *b, size_t n)
{
    if (b->oom) return NULL;
    if (b->n + n > b->cap) {
        size_t nc = b->cap ? b->cap : 4096;
        while (nc < b->n + n) nc *= 2;
        uint8_t *np = dna_realloc(b->p, b->cap, nc);
        if (!np) { b->oom = 1; return NULL; }
        b->p = np;
        b->cap = nc;
    }
    uint8_t *p = b->p + b->n;
    b->n += n;
    return p;
}

static void put_u8(DnaBuf *b, uint8_t v)
{
    uint8_t *p = grow(b, 1);
    if (p) p[0] = v;
}

static void put_u32(DnaBuf *b, uint32_t v)
{
    uint8_t *p = grow(b, 4);
    if (p) for (int i = 0; i < 4; i++) p[i] = (uint8_t)(v >> (8 * i));
}

static void put_u64(DnaBuf *b, uint64_t v)
{
    uint8_t *p = grow(b, 8);
    if (p) for (int i = 0; i < 8; i++) p[i] = (uint8_t)(v >> (8 * i));
}

static void put_i64(DnaBuf *b, int64_t v) { put_u64(b, (uint64_t)v); }

static void put_ty(DnaBuf *b, DnaType t)
{
    put_u8(b, t.code);
    put_u8(b, t.optional);
    put_u8(b, t.elem);
    put_u8(b, 0);
    put_u32(b, t.ref);
}

static void put_bytes(DnaBuf *b, const void *s, size_t n)
{
    uint8_t *p = grow(b, n);
    if (p && n) memcpy(p, s, n);
}

#define W(width, field, ref) put_##width(o, x->field);
#define REC(fn, T, LIST) static void fn(DnaBuf *o, const T *x) { LIST(W) }
REC(w_file, DnaFile, DNA_F_FILE)
REC(w_slot, DnaSlot, DNA_F_SLOT)
REC(w_const, DnaConst, DNA_F_CONST)
REC(w_unit, DnaUnit, DNA_F_UNIT)
REC(w_rule, DnaRule, DNA_F_RULE)
REC(w_arm, DnaArm, DNA_F_ARM)
REC(w_action, DnaAction, DNA_F_ACTION)
REC(w_arg, DnaArg, DNA_F_ARG)
REC(w_signal, DnaSignal, DNA_F_SIGNAL)
REC(w_opt, DnaOpt, DNA_F_OPT)
REC(w_jnode, DnaJNode, DNA_F_JNODE)
REC(w_assign, DnaAssign, DNA_F_ASSIGN)
REC(w_map, DnaMap, DNA_F_MAP)
REC(w_member, DnaMember, DNA_F_MEMBER)
REC(w_step, DnaStep, DNA_F_STEP)
REC(w_seq, DnaSequence, DNA_F_SEQ)
REC(w_source, DnaSource, DNA_F_SOURCE)
REC(w_method, DnaMethod, DNA_F_METHOD)
REC(w_conn, DnaConnector, DNA_F_CONN)
REC(w_loc, DnaSrcLoc, DNA_F_LOC)
#undef REC
#undef W

#define ARRAY(o, n, arr, fn) do { put_u32(o, n); for (uint32_t i_ = 0; i_ < (n); i_++) fn(o, &(arr)[i_]); } while (0)

static void u32s(DnaBuf *o, uint32_t n, const uint32_t *v)
{
    put_u32(o, n);
    for (uint32_t i = 0; i < n; i++) put_u32(o, v[i]);
}

static void sec_STRS(DnaBuf *o, const DnaBundle *b)
{
    put_u32(o, b->nstrs);
    for (uint32_t i = 0; i < b->nstrs; i++) {
        put_u32(o, b->strs[i].len);
        put_bytes(o, b->strs[i].s, b->strs[i].len);
    }
}
static void sec_FILE(DnaBuf *o, const DnaBundle *b) { ARRAY(o, b->nfiles, b->files, w_file); }
static void sec_ENUM(DnaBuf *o, const DnaBundle *b)
{
    put_u32(o, b->nenums);
    for (uint32_t i = 0; i < b->nenums; i++) {
        put_u32(o, b->enums[i].name);
        u32s(o, b->enums[i].nvalues, b->enums[i].values);
    }
}
static void sec_EVNT(DnaBuf *o, const DnaBundle *b)
{
    put_u32(o, b->nevents);
    for (uint32_t i = 0; i < b->nevents; i++) {
        put_u32(o, b->events[i].name);
        ARRAY(o, b->events[i].nslots, b->events[i].slots, w_slot);
    }
}
static void sec_ENTY(DnaBuf *o, const DnaBundle *b)
{
    put_u32(o, b->nentities);
    for (uint32_t i = 0; i < b->nentities; i++) {
        const DnaEntity *e = &b->entities[i];
        put_u32(o, e->name);
        ARRAY(o, e->nslots, e->slots, w_slot);
        u32s(o, e->nidentity, e->identity);
    }
}
static void sec_CNST(DnaBuf *o, const DnaBundle *b) { ARRAY(o, b->nconsts, b->consts, w_const); }
static void sec_UNIT(DnaBuf *o, const DnaBundle *b) { ARRAY(o, b->nunits, b->units, w_unit); }
static void sec_RULE(DnaBuf *o, const DnaBundle *b) { ARRAY(o, b->nrules, b->rules, w_rule); }
static void sec_ARMS(DnaBuf *o, const DnaBundle *b) { ARRAY(o, b->narms, b->arms, w_arm); }
static void sec_ACTS(DnaBuf *o, const DnaBundle *b) { ARRAY(o, b->nactions, b->actions, w_action); }
static void sec_ARGS(DnaBuf *o, const DnaBundle *b) { ARRAY(o, b->nargs, b->args, w_arg); }
static void sec_TRIG(DnaBuf *o, const DnaBundle *b)
{
    put_u32(o, b->ntriggers);
    for (uint32_t i = 0; i < b->ntriggers; i++) {
        const DnaTrigger *t = &b->triggers[i];
        put_u8(o, t->kind);
        put_u32(o, t->a);
        put_u32(o, t->b);
        u32s(o, t->nrules, t->rules);
    }
}
static void sec_SIGN(DnaBuf *o, const DnaBundle *b) { ARRAY(o, b->nsignals, b->signals, w_signal); }
static void sec_OPTS(DnaBuf *o, const DnaBundle *b) { ARRAY(o, b->nopts, b->opts, w_opt); }
static void sec_JEXP(DnaBuf *o, const DnaBundle *b)
{
    ARRAY(o, b->njnodes, b->jnodes, w_jnode);
    ARRAY(o, b->nassigns, b->assigns, w_assign);
    ARRAY(o, b->nmaps, b->maps, w_map);
}
static void sec_SRCS(DnaBuf *o, const DnaBundle *b)
{
    put_u32(o, b->nsources);
    for (uint32_t i = 0; i < b->nsources; i++) {
        w_source(o, &b->sources[i]);
        u32s(o, b->sources[i].nevents, b->sources[i].events);
    }
}
static void sec_CONN(DnaBuf *o, const DnaBundle *b)
{
    put_u32(o, b->nmethods);
    for (uint32_t i = 0; i < b->nmethods; i++) {
        w_method(o, &b->methods[i]);
        u32s(o, b->methods[i].nparams, b->methods[i].params);
    }
    ARRAY(o, b->nconnectors, b->connectors, w_conn);
}
static void sec_TEAM(DnaBuf *o, const DnaBundle *b)
{
    put_u32(o, b->nteams);
    for (uint32_t i = 0; i < b->nteams; i++) {
        const DnaTeam *t = &b->teams[i];
        put_u32(o, t->name);
        put_u32(o, t->nmembers);
        for (uint32_t j = 0; j < t->nmembers; j++) {
            w_member(o, &t->members[j]);
            u32s(o, t->members[j].nskills, t->members[j].skills);
        }
    }
}
static void sec_SEQN(DnaBuf *o, const DnaBundle *b)
{
    put_u32(o, b->nsequences);
    for (uint32_t i = 0; i < b->nsequences; i++) {
        w_seq(o, &b->sequences[i]);
        ARRAY(o, b->sequences[i].nsteps, b->sequences[i].steps, w_step);
    }
}
static void sec_CODE(DnaBuf *o, const DnaBundle *b) { u32s(o, b->ncode, b->code); }
static void sec_SMAP(DnaBuf *o, const DnaBundle *b) { ARRAY(o, b->nlocs, b->locs, w_loc); }

static void section(DnaBuf *o, const char tag[4], void (*fn)(DnaBuf *, const DnaBundle *), const DnaBundle *b)
{
    put_bytes(o, tag, 4);
    put_u32(o, 0);
    size_t at = o->n;
    put_u64(o, 0);
    size_t start = o->n;
    fn(o, b);
    if (o->oom) return;
    assert(o->n >= start && at + 8 == start);
    uint64_t len = o->n - start;
    for (int i = 0; i < 8; i++) o->p[at + i] = (uint8_t)(len >> (8 * i));
}

int bundle_write(const DnaBundle *b, DnaBuf *o)
{
    memset(o, 0, sizeof *o);
    put_bytes(o, DNA_BUNDLE_MAGIC, 8);
    put_u32(o, DNA_BUNDLE_VERSION);
    put_u32(o, 0);
    put_u64(o, 0);                                  /* length, patched below */
    uint8_t zero[32] = { 0 };
    put_bytes(o, zero, 32);                         /* checksum, patched below */
    put_bytes(o, b->source_hash, 32);
    uint32_t nsec = 0;
#define COUNT(tag, doc) nsec++;
    DNA_SECTIONS(COUNT)
#undef COUNT
    put_u32(o, nsec);
    assert(o->oom || o->n == DNA_BUNDLE_HEADER);    /* the header of bundle.h's layout */
#define SEC(tag, doc) section(o, #tag, sec_##tag, b);
    DNA_SECTIONS(SEC)
#undef SEC
    if (o->oom) { dna_buf_free(o); return -1; }
    for (int i = 0; i < 8; i++) o->p[16 + i] = (uint8_t)((uint64_t)o->n >> (8 * i));
    uint8_t sum[32];
    dna_sha256(o->p, o->n, sum);
    memcpy(o->p + 24, sum, 32);
    return 0;
}
