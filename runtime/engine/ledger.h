/*
 * ledger.h - score and intent points over time: expiry and decay.
 *
 * A component (a score like `engagement`, or an intent category) is a sum of
 * ledger entries, each `points` (thousandths) applied at `at`.  Entries
 * that share a lifetime rule form a group, and each group keeps running
 * aggregates so that reading a component costs the same however long the
 * entity's history is:
 *
 *   plain          sum
 *   expire D       sum of live entries; a heap of expiry times drops the
 *                  rest (an entry counts fully while now < at + D)
 *   linear D       Σp·(1 − (now − at)/D) over live entries, kept as Σp and
 *                  Σp·(at − base) in exact integers; a heap drops entries at
 *                  at + D
 *   half_life H    Σp·0.5^((now − at)/H), kept as one accumulator rebased
 *                  to the latest entry
 *
 * A component is computed in double in group order and rounded half-even
 * to thousandths when read (led_read_at), so runs are reproducible byte
 * for byte.  Entries may be added in any order of `at` (late events keep
 * their own time): the aggregates stay exact.  Reads are pure
 * (led_value_at, led_read_at: nothing dropped, whatever the time read);
 * only an evaluation drops dead entries (led_expire at the entity's clock,
 * which never runs backwards).  Reads are taken at max(now, latest entry).
 */
#ifndef DNA_LEDGER_H
#define DNA_LEDGER_H

#include <stdint.h>

typedef enum LedKind { LED_PLAIN, LED_EXPIRE, LED_LINEAR, LED_HALF_LIFE } LedKind;

typedef struct LedItem { int64_t due; int64_t points; int64_t at; } LedItem;

typedef struct LedGroup {
    uint8_t kind;               /* LedKind */
    int64_t dur;                /* ms: D or H */
    int64_t max_at;             /* latest entry */
    int64_t sum;                /* plain, expire: live points; linear: Σp */
    int64_t base;               /* linear: time origin of Σp·(at − base) */
    __int128 sum_pt;            /* linear */
    double acc;                 /* half-life accumulator at max_at */
    LedItem *heap;              /* expire, linear: live entries by due time */
    uint32_t n, cap;
} LedGroup;

typedef struct Ledger {
    LedGroup *g;
    uint32_t n, cap;
} Ledger;

void    led_init(Ledger *l);
void    led_free(Ledger *l);
/* Add points; returns 0 on out of memory. */
int     led_add(Ledger *l, LedKind kind, int64_t dur_ms, int64_t at_ms, int64_t points);
/* The component at `now`, in double (unrounded) and rounded to
 * thousandths.  Pure: the ledger does not change. */
double  led_value_at(const Ledger *l, int64_t now_ms);
int64_t led_read_at(const Ledger *l, int64_t now_ms);
/* Drop the entries whose life ended by `now` (due <= now): the mutating
 * half, for evaluations only.  The value at any time >= now is the same
 * before and after. */
void    led_expire(Ledger *l, int64_t now_ms);
/* Round half to even to an integer number of thousandths. */
int64_t led_round(double thousandths);
/* Fold `from` into `to` (entity merge); `from` is left empty. */
int     led_merge(Ledger *to, Ledger *from);
/* Bytes held beyond the struct itself (for state-size figures). */
uint64_t led_bytes(const Ledger *l);

#endif
