/*
 * value.h - a value in a VM register or a state slot.
 *
 * Types are static (the checker knows them), so a value carries only what
 * memory safety needs: whether it is none, and which member of the union
 * is a pointer.  Representations by language type:
 *
 *   int, enum (value index), bool (0/1)   i
 *   decimal                               i, thousandths
 *   duration                              i, milliseconds
 *   timestamp                             i, milliseconds since 1970-01-01 UTC
 *   time of day                           i, minutes after midnight
 *   entity reference                      i, the engine's handle
 *   string                                s, len bytes (UTF-8, not NUL-terminated)
 *   list                                  items, len values
 *   an entity's slots (after DEREF)       items, len slots
 *
 * Strings and lists point into the bundle, the state or the evaluation's
 * scratch buffer; a value never owns memory.
 */
#ifndef DNA_VALUE_H
#define DNA_VALUE_H

#include <stdint.h>

typedef enum DnaKind {
    DNA_VK_NONE = 0,        /* absent (zeroed memory is none) */
    DNA_VK_INT,             /* every scalar: u.i */
    DNA_VK_STR,             /* u.s, len */
    DNA_VK_LIST,            /* u.items, len */
    DNA_VK_SLOTS            /* u.items, len: an entity's slots */
} DnaKind;

typedef struct DnaValue {
    union {
        int64_t i;
        const char *s;
        const struct DnaValue *items;
    } u;
    uint32_t len;
    uint8_t kind;           /* DnaKind */
    uint8_t pad[3];
} DnaValue;

static inline DnaValue dna_int(int64_t i) { DnaValue v = { .u.i = i, .kind = DNA_VK_INT }; return v; }
static inline DnaValue dna_none(void) { DnaValue v = { .u.i = 0, .kind = DNA_VK_NONE }; return v; }
static inline DnaValue dna_str(const char *s, uint32_t len)
{
    DnaValue v = { .u.s = s, .len = len, .kind = DNA_VK_STR };
    return v;
}

#endif
