/*
 * opcodes.c - the names of the instruction set's opcodes, operand effects,
 * built-in functions and format codes, generated from the tables of
 * opcodes.h and stdlib/builtins.h (for the disassembler, the verifier's
 * messages and the VM's error text), and bc_format: how a format code
 * prints a value in a template string.
 */
#include "bundle/opcodes.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

static const char *const op_names[] = {
#define OP(name, fmt, effect) #name,
    DNA_OPCODES(OP)
#undef OP
};

static const char *const op_effects[] = {
#define OP(name, fmt, effect) effect,
    DNA_OPCODES(OP)
#undef OP
};

static const struct { const char *name; unsigned nargs; } builtins[] = {
#define BUILTIN(name, ret, n, a1, a2, where, doc) { #name, n },
#include "stdlib/builtins.h"
#undef BUILTIN
};

static const char *const fmt_names[] = {
#define F(name, text) text,
    DNA_FMTS(F)
#undef F
};

const char *bc_op_name(unsigned op) { return op < VM_OP__COUNT ? op_names[op] : "?"; }
const char *bc_op_effect(unsigned op) { return op < VM_OP__COUNT ? op_effects[op] : "?"; }
const char *bc_builtin_name(unsigned id) { return id < VM_BUILTIN__COUNT ? builtins[id].name : "?"; }
unsigned bc_builtin_nargs(unsigned id) { return id < VM_BUILTIN__COUNT ? builtins[id].nargs : 0; }
const char *bc_fmt_name(unsigned f) { return f < VM_FMT__COUNT ? fmt_names[f] : "?"; }

/* ---- formatting ------------------------------------------------------------ */

static void civil(int64_t days, int64_t *y, unsigned *m, unsigned *d)
{
    /* Howard Hinnant's civil_from_days */
    days += 719468;
    int64_t era = (days >= 0 ? days : days - 146096) / 146097;
    unsigned doe = (unsigned)(days - era * 146097);
    unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t yy = (int64_t)yoe + era * 400;
    unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    unsigned mp = (5 * doy + 2) / 153;
    *d = doy - (153 * mp + 2) / 5 + 1;
    *m = mp < 10 ? mp + 3 : mp - 9;
    *y = yy + (*m <= 2);
}

static int64_t fdiv(int64_t a, int64_t b) { int64_t q = a / b; return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q; }

int bc_format(char *buf, size_t cap, unsigned fmt, int64_t v)
{
    char tmp[64];
    int n = 0;
    switch (fmt) {
    case VM_FMT_INT: n = snprintf(tmp, sizeof tmp, "%" PRId64, v); break;
    case VM_FMT_BOOL: n = snprintf(tmp, sizeof tmp, "%s", v ? "true" : "false"); break;
    case VM_FMT_DEC: {
        uint64_t a = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
        unsigned frac = (unsigned)(a % 1000);
        n = snprintf(tmp, sizeof tmp, "%s%" PRIu64, v < 0 ? "-" : "", a / 1000);
        if (frac) {
            char f[8];
            snprintf(f, sizeof f, "%03u", frac);
            int k = 3;
            while (k > 0 && f[k - 1] == '0') k--;
            f[k] = 0;
            n += snprintf(tmp + n, sizeof tmp - (size_t)n, ".%s", f);
        }
        break;
    }
    case VM_FMT_TS: {
        int64_t days = fdiv(v, 86400000), ms = v - days * 86400000;
        int64_t y;
        unsigned m, d;
        civil(days, &y, &m, &d);
        n = snprintf(tmp, sizeof tmp, "%04" PRId64 "-%02u-%02uT%02u:%02u:%02u", y, m, d, (unsigned)(ms / 3600000),
                     (unsigned)(ms / 60000 % 60), (unsigned)(ms / 1000 % 60));
        if (ms % 1000) n += snprintf(tmp + n, sizeof tmp - (size_t)n, ".%03u", (unsigned)(ms % 1000));
        n += snprintf(tmp + n, sizeof tmp - (size_t)n, "Z");
        break;
    }
    case VM_FMT_DUR: {
        static const struct { int64_t ms; const char *unit; } units[] = {
            { 86400000, "d" }, { 3600000, "h" }, { 60000, "m" }, { 1000, "s" }, { 1, "ms" } };
        for (size_t i = 0; i < sizeof units / sizeof *units; i++)
            if (v % units[i].ms == 0 || units[i].ms == 1) {
                n = snprintf(tmp, sizeof tmp, "%" PRId64 "%s", v / units[i].ms, units[i].unit);
                break;
            }
        break;
    }
    case VM_FMT_TOD: {
        int64_t mm = ((v % 1440) + 1440) % 1440;
        n = snprintf(tmp, sizeof tmp, "%02u:%02u", (unsigned)(mm / 60), (unsigned)(mm % 60));
        break;
    }
    default: return -1;
    }
    if (n < 0 || (size_t)n > cap) return -1;
    memcpy(buf, tmp, (size_t)n);
    return n;
}
