/*
 * test_ledger.c - the ledger's aggregates against an entry-by-entry sum.
 */
#include "engine/ledger.h"
#include "base/mem.h"
#include "check_macros.h"

#include <math.h>
#include <stdlib.h>

#define H (3600 * 1000LL)

typedef struct Entry { LedKind k; int64_t dur, at, p; } Entry;

/* the definition in the language brief, one entry at a time */
static double naive(const Entry *e, int n, int64_t now)
{
    double v = 0;
    for (int i = 0; i < n; i++) {
        int64_t t = now;
        for (int j = 0; j < n; j++)             /* reads are at max(now, latest entry of the group) */
            if (e[j].k == e[i].k && e[j].dur == e[i].dur && e[j].at > t) t = e[j].at;
        double age = (double)(t - e[i].at);
        switch (e[i].k) {
        case LED_PLAIN: v += (double)e[i].p; break;
        case LED_EXPIRE: if (t < e[i].at + e[i].dur) v += (double)e[i].p; break;
        case LED_LINEAR: { double f = 1 - age / (double)e[i].dur; if (f > 0 && t < e[i].at + e[i].dur) v += (double)e[i].p * f; break; }
        case LED_HALF_LIFE: v += (double)e[i].p * pow(0.5, age / (double)e[i].dur); break;
        }
    }
    return v;
}

int main(void)
{
    Ledger l;
    /* the brief: 20 points, expire 30d */
    led_init(&l);
    led_add(&l, LED_EXPIRE, 30 * 24 * H, 0, 20000);
    CHECK_EQ_I(led_read_at(&l, 30 * 24 * H - 1), 20000);
    CHECK_EQ_I(led_read_at(&l, 30 * 24 * H), 0);
    led_free(&l);
    /* decay linear 72h: half way is half the points; gone at 72h */
    led_add(&l, LED_LINEAR, 72 * H, 0, 20000);
    CHECK_EQ_I(led_read_at(&l, 36 * H), 10000);
    CHECK_EQ_I(led_read_at(&l, 72 * H), 0);
    led_free(&l);
    /* half_life 7d: a quarter after 14 days */
    led_add(&l, LED_HALF_LIFE, 7 * 24 * H, 0, 20000);
    CHECK_EQ_I(led_read_at(&l, 14 * 24 * H), 5000);
    led_free(&l);
    /* rounding is half to even */
    CHECK_EQ_I(led_round(2.5), 2);
    CHECK_EQ_I(led_round(3.5), 4);
    CHECK_EQ_I(led_round(-2.5), -2);

    /* random histories, including late entries, against the definition */
    srand(7);
    enum { N = 400 };
    static Entry e[N];
    for (int round = 0; round < 50; round++) {
        led_init(&l);
        int64_t t = 0;
        const int64_t durs[] = { 24 * H, 72 * H, 7 * 24 * H };
        for (int i = 0; i < N; i++) {
            t += rand() % (6 * H);
            e[i].k = (LedKind)(rand() % 4);
            e[i].dur = e[i].k == LED_PLAIN ? 0 : durs[rand() % 3];
            e[i].at = rand() % 10 == 0 ? t - rand() % (12 * H) : t;    /* some late */
            e[i].p = (rand() % 50000) - 5000;
            CHECK(led_add(&l, e[i].k, e[i].dur, e[i].at, e[i].p));
            if (i % 17 == 0) {
                double a = led_value_at(&l, t), b = naive(e, i + 1, t);
                CHECK_MSG(fabs(a - b) < 1.0, "aggregate differs from the entry-by-entry sum by a thousandth or more");
            }
        }
        double a = led_value_at(&l, t + 100 * H), b = naive(e, N, t + 100 * H);
        CHECK(fabs(a - b) < 1.0);
        /* reads are pure: a read far ahead drops nothing, so an earlier
         * time reads the same again; led_expire changes no value at or
         * after its time */
        double before = led_value_at(&l, t);
        (void)led_value_at(&l, t + 1000 * H);
        CHECK(led_value_at(&l, t) == before);
        led_expire(&l, t);
        CHECK(led_value_at(&l, t) == before);
        CHECK(led_value_at(&l, t + 100 * H) == a);
        /* merging two ledgers equals adding everything to one */
        Ledger x, y, z;
        led_init(&x); led_init(&y); led_init(&z);
        for (int i = 0; i < N; i++) {
            led_add(i % 2 ? &x : &y, e[i].k, e[i].dur, e[i].at, e[i].p);
            led_add(&z, e[i].k, e[i].dur, e[i].at, e[i].p);
        }
        CHECK(led_merge(&x, &y));
        CHECK(fabs(led_value_at(&x, t + H) - led_value_at(&z, t + H)) < 1.0);
        led_free(&x); led_free(&y); led_free(&z);
        led_free(&l);
    }
    CHECK_EQ_I(dna_mem_stats()->bytes_live, 0);
    return check_report("ledger");
}
