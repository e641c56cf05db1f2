/*
 * test_timers.c - the timer heap against a sorted reference.
 */
#include "engine/timers.h"
#include "base/mem.h"
#include "check_macros.h"

#include <stdlib.h>

#define NK 300

int main(void)
{
    Timers t;
    tmr_init(&t);
    /* equal due times fire in the order they were set */
    for (uint32_t i = 0; i < 10; i++) tmr_set(&t, (TimerKey){ 1, i, 0 }, 100, i);
    Timer x;
    for (uint32_t i = 0; i < 10; i++) { CHECK(tmr_pop_due(&t, 100, &x)); CHECK_EQ_I(x.key.rule, i); }
    CHECK(!tmr_pop_due(&t, 1000, &x));

    /* random set / move / cancel against a plain array */
    int64_t due[NK];
    uint64_t seq[NK];
    int live[NK] = { 0 };
    uint64_t s = 0;
    srand(11);
    for (int step = 0; step < 200000; step++) {
        int k = rand() % NK, op = rand() % 10;
        TimerKey key = { (uint64_t)k * 7919, (uint32_t)k % 5, (uint32_t)k % 3 };
        if (op < 6) {
            due[k] = rand() % 100000;
            seq[k] = s++;
            live[k] = 1;
            CHECK(tmr_set(&t, key, due[k], k));
        } else if (op < 8) {
            CHECK_EQ_I(tmr_cancel(&t, key), live[k]);
            live[k] = 0;
        } else {
            int64_t wm = rand() % 100000;
            Timer got;
            while (tmr_pop_due(&t, wm, &got)) {
                int best = -1;
                for (int i = 0; i < NK; i++)
                    if (live[i] && (best < 0 || due[i] < due[best] || (due[i] == due[best] && seq[i] < seq[best])))
                        best = i;
                CHECK(best >= 0);
                if (best < 0) break;
                CHECK_EQ_I(got.arg, best);
                CHECK(due[best] <= wm);
                live[best] = 0;
            }
            for (int i = 0; i < NK; i++) if (live[i]) CHECK(due[i] > wm);
        }
        if (step % 997 == 0)
            for (int i = 0; i < NK; i++) {
                TimerKey ki = { (uint64_t)i * 7919, (uint32_t)i % 5, (uint32_t)i % 3 };
                const Timer *g = tmr_get(&t, ki);
                CHECK((g != NULL) == live[i]);
                if (g && live[i]) CHECK_EQ_I(g->due, due[i]);
            }
    }
    tmr_free(&t);
    CHECK_EQ_I(dna_mem_stats()->bytes_live, 0);
    return check_report("timers");
}
