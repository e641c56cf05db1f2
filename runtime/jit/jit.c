/*
 * jit.c - the JIT's policy: the mode (jit_set_mode, DNA_JIT, auto), one
 * compiled JIT per bundle shared by all its engines, the log of LLVM
 * failures and the one-line description.  The compiling is the backend's
 * (jit_llvm.c, or jit_stub.c without LLVM).
 */
#include "jit/jit_int.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static int mode_set;
static JitMode mode_chosen;
static void (*logger)(const char *msg);

/* The shared JITs, by what their code depends on (jit_digest) and mode.
 * Released ones stay until JIT_KEEP newer ones are idle too: a program
 * that makes and frees engines over the same bundle (dnac test, the fuzz
 * targets) compiles it once. */
#define JIT_KEEP 2
typedef struct Shared { DnaJit *j; uint8_t digest[32]; uint64_t idle; struct Shared *next; } Shared;
static Shared *shared;
static uint64_t idle_clock;

int jit_parse_mode(const char *s, JitMode *m)
{
    if (!s) return -1;
    if (!strcmp(s, "on")) *m = JIT_ON;
    else if (!strcmp(s, "off")) *m = JIT_OFF;
    else if (!strcmp(s, "auto")) *m = JIT_AUTO;
    else return -1;
    return 0;
}

const char *jit_mode_name(JitMode m)
{
    return m == JIT_ON ? "on" : m == JIT_OFF ? "off" : "auto";
}

void jit_set_mode(JitMode m)
{
    pthread_mutex_lock(&mu);
    mode_chosen = m;
    mode_set = 1;
    pthread_mutex_unlock(&mu);
}

JitMode jit_mode(void)
{
    pthread_mutex_lock(&mu);
    int set = mode_set;
    JitMode m = mode_chosen;
    pthread_mutex_unlock(&mu);
    if (set) return m;
    JitMode env;
    if (!jit_parse_mode(getenv("DNA_JIT"), &env)) return env;
    return JIT_AUTO;
}

int jit_built(void) { return jit_backend_llvm; }

void jit_set_log(void (*log)(const char *msg)) { logger = log; }

static DnaJit *jit_new(const DnaBundle *b, JitMode m)
{
    DnaJit *j = dna_malloc(sizeof *j);
    if (!j) return NULL;
    memset(j, 0, sizeof *j);
    j->mode = m;
    j->nunits = b->nunits;
    return j;
}

DnaJit *jit_compile(const DnaBundle *b, const JitOpts *o)
{
    DnaJit *j = jit_new(b, JIT_ON);
    if (j && jit_backend_compile(j, b, o) != 0) {
        j->fn = NULL;
        j->impl = NULL;
    }
    return j;
}

void jit_free(DnaJit *j)
{
    if (!j) return;
    jit_backend_free(j);
    dna_free(j, sizeof *j);
}

/* SHA-256 of everything compiled code depends on besides what it reads at
 * run time through the bundle pointer: the code, the units' shapes and the
 * constants' kinds, lengths and integers.  Two bundles with the same
 * digest can share machine code. */
static int jit_digest(const DnaBundle *b, uint8_t out[32])
{
    size_t n = 16 + 4 * (size_t)b->ncode + 12 * (size_t)b->nunits + 16 * (size_t)b->nconsts, k = 0;
    uint8_t *buf = dna_malloc(n);
    if (!buf) return -1;
#define PUT(v) do { uint64_t v_ = (uint64_t)(v); memcpy(buf + k, &v_, 4); k += 4; } while (0)
#define PUT8(v) do { uint64_t v_ = (uint64_t)(v); memcpy(buf + k, &v_, 8); k += 8; } while (0)
    PUT(b->ncode); PUT(b->nunits); PUT(b->nconsts); PUT(0);
    for (uint32_t i = 0; i < b->ncode; i++) PUT(b->code[i]);
    for (uint32_t i = 0; i < b->nunits; i++) { PUT(b->units[i].pc); PUT(b->units[i].len); PUT(b->units[i].nregs); }
    for (uint32_t i = 0; i < b->nconsts; i++) {
        const DnaValue *v = &b->kvals[i];
        PUT(v->kind); PUT(v->len);
        PUT8(v->kind == DNA_VK_INT ? v->u.i : 0);
    }
#undef PUT
#undef PUT8
    dna_sha256(buf, k, out);
    dna_free(buf, n);
    return 0;
}

static uint32_t code_size(const DnaBundle *b)
{
    uint32_t n = 0;
    for (uint32_t i = 0; i < b->nunits; i++) n += b->units[i].len;
    return n;
}

/* a new JIT for b under mode m: compiled, or why not */
static DnaJit *make(const DnaBundle *b, JitMode m)
{
    uint32_t size = code_size(b);
    if (m == JIT_OFF || (m == JIT_AUTO && size < JIT_AUTO_MIN_CODE)) {
        DnaJit *j = jit_new(b, m);
        if (!j) return NULL;
        if (m == JIT_OFF) snprintf(j->why, sizeof j->why, "off");
        else snprintf(j->why, sizeof j->why, "auto: %u instructions, below %u", size, JIT_AUTO_MIN_CODE);
        return j;
    }
    DnaJit *j = jit_compile(b, NULL);
    if (!j) return NULL;
    if (!j->fn && !strcmp(j->why, "out of memory")) { jit_free(j); return NULL; }   /* the caller reports it */
    j->mode = m;
    static int told_unbuilt;            /* "built without LLVM" is said once */
    if (!j->fn && logger && (m == JIT_ON || jit_backend_llvm) && !(!jit_backend_llvm && told_unbuilt++)) {
        char msg[320];
        snprintf(msg, sizeof msg, "jit: %s; the bundle runs on the interpreter", j->why);
        logger(msg);
    }
    return j;
}

static Shared *find(const uint8_t digest[32], JitMode m)
{
    for (Shared *s = shared; s; s = s->next)
        if (s->j->mode == m && !memcmp(s->digest, digest, 32)) return s;
    return NULL;
}

DnaJit *jit_acquire(const DnaBundle *b)
{
    JitMode m = jit_mode();
    uint8_t digest[32];
    if (jit_digest(b, digest) != 0) return NULL;
    pthread_mutex_lock(&mu);
    Shared *s = find(digest, m);
    if (s) s->j->refs++;
    pthread_mutex_unlock(&mu);
    if (s) return s->j;
    /* compile outside the lock: another bundle's engine need not wait */
    DnaJit *j = make(b, m);
    s = j ? dna_malloc(sizeof *s) : NULL;
    if (!s) { jit_free(j); return NULL; }
    pthread_mutex_lock(&mu);
    Shared *t = find(digest, m);
    if (t) {                                    /* someone was quicker */
        t->j->refs++;
        pthread_mutex_unlock(&mu);
        jit_free(j);
        dna_free(s, sizeof *s);
        return t->j;
    }
    j->refs = 1;
    s->j = j;
    memcpy(s->digest, digest, 32);
    s->next = shared;
    shared = s;
    pthread_mutex_unlock(&mu);
    return j;
}

void jit_release(DnaJit *j)
{
    if (!j) return;
    DnaJit *gone = NULL;
    pthread_mutex_lock(&mu);
    if (--j->refs == 0 && !j->fn) {            /* nothing compiled: nothing worth keeping */
        for (Shared **p = &shared; *p; p = &(*p)->next)
            if ((*p)->j == j) {
                Shared *s = *p;
                *p = s->next;
                dna_free(s, sizeof *s);
                break;
            }
        gone = j;
    } else if (j->refs == 0) {
        Shared *me = NULL, **oldest = NULL;
        unsigned nidle = 0;
        for (Shared **p = &shared; *p; p = &(*p)->next) {
            if ((*p)->j == j) { me = *p; me->idle = ++idle_clock; }
            if ((*p)->j->refs == 0) {
                nidle++;
                if (!oldest || (*p)->idle < (*oldest)->idle) oldest = p;
            }
        }
        (void)me;
        if (nidle > JIT_KEEP && oldest) {
            Shared *s = *oldest;
            *oldest = s->next;
            gone = s->j;
            dna_free(s, sizeof *s);
        }
    }
    pthread_mutex_unlock(&mu);
    jit_free(gone);
}

size_t jit_kept_bytes(void)
{
    size_t n = 0;
    pthread_mutex_lock(&mu);
    for (Shared *s = shared; s; s = s->next)
        if (!s->j->refs)
            n += sizeof *s + sizeof *s->j + (s->j->fn ? sizeof *s->j->fn * (s->j->nunits ? s->j->nunits : 1) : 0);
    pthread_mutex_unlock(&mu);
    return n;
}

void jit_flush(void)
{
    pthread_mutex_lock(&mu);
    Shared *keep = NULL, *idle = NULL;
    while (shared) {
        Shared *s = shared;
        shared = s->next;
        if (s->j->refs) { s->next = keep; keep = s; }
        else { s->next = idle; idle = s; }
    }
    shared = keep;
    pthread_mutex_unlock(&mu);
    while (idle) {
        Shared *s = idle;
        idle = s->next;
        jit_free(s->j);
        dna_free(s, sizeof *s);
    }
}

void jit_describe(const DnaJit *j, char *buf, size_t len)
{
    if (!j) snprintf(buf, len, "off (out of memory)");
    else if (j->fn) snprintf(buf, len, "on: %u units compiled in %.1f ms", j->nunits, j->compile_ms);
    else if (!strcmp(j->why, "off")) snprintf(buf, len, "off");
    else snprintf(buf, len, "off (%s)", j->why);
}

char *jit_ir(const DnaBundle *b, size_t *len, char *why, size_t wl)
{
    return jit_backend_ir(b, len, why, wl);
}
