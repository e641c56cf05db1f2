/*
 * fuzz_bundle.c - fuzz target for the bundle loader, verifier and VM.
 *
 * Any input must be refused with a message or load and verify; a bundle
 * that loads then has every code unit run against an all-none state.
 * Nothing may crash, leak or read out of bounds (run under ASan/UBSan).
 *
 * Built with -DDNA_FUZZ=ON (clang, libFuzzer) this is a libFuzzer target.
 * Otherwise main() replays files and directories given on the command
 * line (the kept corpus and crashers), and `--mutate FILE N SEED` runs N
 * mutations of a valid bundle: random byte flips, truncations and
 * insertions.  Every input is tried as it is and again with its length
 * and checksum recomputed, so that mutations reach the section parser,
 * the verifier and the VM instead of stopping at the checksum.
 */
#include "bundle/bundle.h"
#include "vm/vm.h"

#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static DnaValue none_slots[DNA_MAX_BX];
static DnaVm fuzz_vm;
static unsigned long loaded, refused, ran;

static void fix_checksum(uint8_t *p, size_t n)
{
    if (n < DNA_BUNDLE_HEADER) return;
    for (int k = 0; k < 8; k++) p[16 + k] = (uint8_t)((uint64_t)n >> (8 * k));
    uint8_t sum[32];
    memset(p + 24, 0, 32);
    dna_sha256(p, n, sum);
    memcpy(p + 24, sum, 32);
}

static int one(const uint8_t *data, size_t size);

/* Each input twice: as it is, and with its length and checksum made right
 * so that mutations reach the section parser, the verifier and the VM. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    one(data, size);
    if (size >= DNA_BUNDLE_HEADER) {
        uint8_t *copy = malloc(size);
        if (!copy) return 0;
        memcpy(copy, data, size);
        fix_checksum(copy, size);
        one(copy, size);
        free(copy);
    }
    return 0;
}

static int one(const uint8_t *data, size_t size)
{
    DnaBundle b;
    DnaLoadResult res;
    DnaLoadError e = bundle_read(data, size, &b, &res);
    if (e != DNA_LOAD_OK) {
        if (!res.msg[0]) abort();               /* every refusal says why */
        refused++;
        bundle_free(&b);
        return 0;
    }
    loaded++;
    for (uint32_t u = 0; u < b.nunits; u++) {
        const DnaUnit *un = &b.units[u];
        DnaState st;
        memset(&st, 0, sizeof st);
        st.event = none_slots;
        st.nevent = un->event < b.nevents ? b.events[un->event].nslots : 0;
        st.entity = none_slots;
        st.nentity = un->entity < b.nentities ? b.entities[un->entity].nslots : 0;
        DnaValue out;
        fuzz_vm.use_switch = (int)(u & 1);
        vm_eval(&fuzz_vm, &b, u, &st, &out);
        ran++;
    }
    bundle_free(&b);
    return 0;
}

#ifndef DNA_LIBFUZZER

static uint8_t *read_file(const char *path, size_t *n)
{
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long len = ftell(f);
    fseek(f, 0, SEEK_SET);
    uint8_t *p = malloc(len > 0 ? (size_t)len : 1);
    *n = p && len > 0 ? fread(p, 1, (size_t)len, f) : 0;
    fclose(f);
    return p;
}

static int replay(const char *path)
{
    struct stat st;
    if (stat(path, &st) != 0) { fprintf(stderr, "fuzz_bundle: cannot read %s\n", path); return 1; }
    if (S_ISDIR(st.st_mode)) {
        DIR *d = opendir(path);
        if (!d) return 1;
        struct dirent *e;
        int rc = 0;
        while ((e = readdir(d)) != NULL) {
            if (e->d_name[0] == '.') continue;
            char full[4096];
            snprintf(full, sizeof full, "%s/%s", path, e->d_name);
            rc |= replay(full);
        }
        closedir(d);
        return rc;
    }
    size_t n;
    uint8_t *p = read_file(path, &n);
    if (!p) return 1;
    LLVMFuzzerTestOneInput(p, n);
    free(p);
    return 0;
}

static uint64_t rng;
static uint64_t rnd(void)
{
    rng ^= rng >> 12; rng ^= rng << 25; rng ^= rng >> 27;
    return rng * 2685821657736338717ull;
}

static int mutate(const char *path, long count, uint64_t seed)
{
    size_t n;
    uint8_t *orig = read_file(path, &n);
    if (!orig || n < DNA_BUNDLE_HEADER) { fprintf(stderr, "fuzz_bundle: %s is not a bundle\n", path); return 1; }
    uint8_t *buf = malloc(n + 64);
    rng = seed * 0x9E3779B97F4A7C15ull + 1;
    for (long i = 0; i < count; i++) {
        memcpy(buf, orig, n);
        size_t len = n;
        int kind = (int)(rnd() % 8);
        if (kind == 0) len = (size_t)(rnd() % n);                        /* truncate */
        else if (kind == 1) {                                            /* insert bytes */
            size_t at = (size_t)(rnd() % n), k = 1 + (size_t)(rnd() % 16);
            memmove(buf + at + k, buf + at, n - at);
            for (size_t j = 0; j < k; j++) buf[at + j] = (uint8_t)rnd();
            len = n + k;
        } else {                                                         /* flip bytes */
            int flips = 1 + (int)(rnd() % 4);
            for (int j = 0; j < flips; j++) {
                size_t at = DNA_BUNDLE_HEADER + (size_t)(rnd() % (n - DNA_BUNDLE_HEADER));
                if (rnd() % 8 == 0) at = (size_t)(rnd() % n);
                buf[at] ^= (uint8_t)(1u << (rnd() % 8));
                if (rnd() % 4 == 0) buf[at] = (uint8_t)rnd();
            }
        }
        LLVMFuzzerTestOneInput(buf, len);     /* as is, then with the checksum fixed */
    }
    free(buf);
    free(orig);
    return 0;
}

int main(int argc, char **argv)
{
    vm_init(&fuzz_vm);
    int rc = 0;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--mutate") && i + 3 < argc) {
            rc |= mutate(argv[i + 1], atol(argv[i + 2]), (uint64_t)atoll(argv[i + 3]));
            i += 3;
        } else rc |= replay(argv[i]);
    }
    printf("fuzz_bundle: %lu loaded, %lu refused, %lu units run\n", loaded, refused, ran);
    return rc;
}

#endif
