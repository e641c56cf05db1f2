/*
 * test_clock.c - RFC 3339, civil dates, time zones with DST, windows.
 */
#include "base/clock.h"
#include "check_macros.h"

#include <string.h>

static int64_t ts(const char *s)
{
    int64_t ms = 0;
    CHECK(clk_parse(s, strlen(s), &ms) == 0);
    return ms;
}

int main(void)
{
    int64_t ms;
    /* parsing and formatting */
    CHECK_EQ_I(ts("1970-01-01T00:00:00Z"), 0);
    CHECK_EQ_I(ts("2026-10-01T09:00:00Z"), 1790845200000LL);
    CHECK_EQ_I(ts("2026-10-01T11:00:00+02:00"), 1790845200000LL);
    CHECK_EQ_I(ts("2026-10-01T09:00:00.123456Z"), 1790845200123LL);
    CHECK_EQ_I(ts("2024-02-29T00:00:00z"), 1709164800000LL);
    const char *bad[] = { "2026-10-01", "2026-13-01T00:00:00Z", "2026-02-29T00:00:00Z", "2026-10-01T24:00:00Z",
                          "2026-10-01T09:00:00", "2026-10-01T09:00:00+2:00", "2026-10-01 09:00:00Z",
                          "2026-10-01T09:00:00.Z", "2026-10-01T09:00:00Zjunk", "x" };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        CHECK_MSG(clk_parse(bad[i], strlen(bad[i]), &ms) != 0, bad[i]);
    char buf[32];
    clk_format(1790845200000LL, buf);
    CHECK_EQ_S(buf, "2026-10-01T09:00:00Z");
    clk_format(1790845200123LL, buf);
    CHECK_EQ_S(buf, "2026-10-01T09:00:00.123Z");
    clk_format(-1, buf);
    CHECK_EQ_S(buf, "1969-12-31T23:59:59.999Z");

    /* civil round trip over four centuries */
    for (int64_t d = -200000; d < 200000; d += 37) {
        int64_t y; unsigned m, dd;
        clk_civil_from_days(d, &y, &m, &dd);
        CHECK_EQ_I(clk_days_from_civil(y, m, dd), d);
    }

    /* Europe/Berlin: CET +1, CEST +2; 2026 DST from 03-29 01:00Z to 10-25 01:00Z */
    const Zone *be = clk_zone("Europe/Berlin");
    CHECK(be != NULL);
    CHECK_EQ_I(clk_offset(be, ts("2026-03-29T00:59:59Z")), 3600);
    CHECK_EQ_I(clk_offset(be, ts("2026-03-29T01:00:00Z")), 7200);
    CHECK_EQ_I(clk_offset(be, ts("2026-10-25T00:59:59Z")), 7200);
    CHECK_EQ_I(clk_offset(be, ts("2026-10-25T01:00:00Z")), 3600);
    /* far future: past any table, the footer rule decides */
    CHECK_EQ_I(clk_offset(be, ts("2100-07-01T00:00:00Z")), 7200);
    CHECK_EQ_I(clk_offset(be, ts("2100-01-01T00:00:00Z")), 3600);
    /* local to UTC: a normal time, a gap (02:30 does not exist on 03-29), an overlap */
    CHECK_EQ_I(clk_from_local(be, ts("2026-06-01T08:00:00Z")), ts("2026-06-01T06:00:00Z"));
    CHECK_EQ_I(clk_from_local(be, ts("2026-03-29T02:30:00Z")), ts("2026-03-29T01:30:00Z"));
    CHECK_EQ_I(clk_from_local(be, ts("2026-10-25T02:30:00Z")), ts("2026-10-25T00:30:00Z"));
    /* southern hemisphere: Sydney is +11 in January, +10 in July */
    const Zone *syd = clk_zone("Australia/Sydney");
    CHECK(syd != NULL);
    CHECK_EQ_I(clk_offset(syd, ts("2026-01-15T00:00:00Z")), 39600);
    CHECK_EQ_I(clk_offset(syd, ts("2026-07-15T00:00:00Z")), 36000);
    CHECK_EQ_I(clk_offset(syd, ts("2101-01-15T00:00:00Z")), 39600);
    CHECK(clk_zone("Nowhere/City") == NULL);
    CHECK(clk_zone("../etc/passwd") == NULL);

    /* windows: 23:30Z on 2026-10-01 is already 10-02 in Berlin */
    int64_t t = ts("2026-10-01T23:30:00Z");
    CHECK_EQ_I(clk_window(clk_zone("UTC"), t, CLK_PER_DAY) + 1, clk_window(be, t, CLK_PER_DAY));
    /* 2026-10-04 is a Sunday, 10-05 a Monday: a new week */
    CHECK(clk_window(be, ts("2026-10-04T12:00:00Z"), CLK_PER_WEEK) + 1 ==
          clk_window(be, ts("2026-10-05T12:00:00Z"), CLK_PER_WEEK));
    CHECK(clk_window(be, ts("2026-10-31T23:30:00Z"), CLK_PER_MONTH) ==
          clk_window(be, ts("2026-11-01T00:30:00Z"), CLK_PER_MONTH));
    CHECK(clk_window(be, ts("2026-10-31T22:30:00Z"), CLK_PER_MONTH) + 1 ==
          clk_window(be, ts("2026-10-31T23:30:00Z"), CLK_PER_MONTH));
    LocalTime lt;
    clk_local(be, ts("2026-10-05T06:00:00Z"), &lt);
    CHECK_EQ_I(lt.hour, 8);
    CHECK_EQ_I(lt.weekday, 1);
    return check_report("clock");
}
