/*
 * clock.h - time: RFC 3339 time stamps, time zones, calendar windows.
 *
 * Time is milliseconds since the Unix epoch (UTC) in an int64.  Rules never
 * read the wall clock; the engine passes `now` in.  Time zones are read
 * from the system's tzdata (TZif files), so calendar windows (`per day`,
 * `per week`, `per month`, sequence windows, cron schedules) follow the
 * module's zone, daylight saving time included.  glibc's localtime works on
 * one process-wide zone; a bundle can name several, hence this reader.
 */
#ifndef DNA_CLOCK_H
#define DNA_CLOCK_H

#include <stddef.h>
#include <stdint.h>

#define CLK_SECOND 1000LL
#define CLK_MINUTE (60 * CLK_SECOND)
#define CLK_HOUR   (60 * CLK_MINUTE)
#define CLK_DAY    (24 * CLK_HOUR)

/* 0 on success.  Accepts YYYY-MM-DDTHH:MM:SS[.frac](Z|±HH:MM); 't' and
 * 'z' in lower case too.  Fractions beyond milliseconds are truncated. */
int  clk_parse(const char *s, size_t n, int64_t *ms);
/* "2026-10-01T09:00:00Z", or with ".123" when there are milliseconds. */
void clk_format(int64_t ms, char buf[32]);

int64_t clk_days_from_civil(int64_t y, unsigned m, unsigned d);
void    clk_civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d);

typedef struct Zone Zone;

/* Load a zone by IANA name ("Europe/Berlin"); "UTC" needs no file.
 * NULL when unknown.  Zones are cached for the life of the process. */
const Zone *clk_zone(const char *name);
const char *clk_zone_name(const Zone *z);
/* Offset from UTC in seconds at a UTC instant. */
int32_t clk_offset(const Zone *z, int64_t utc_ms);
/* The UTC instant of a local wall-clock time.  In a gap (spring forward)
 * the time is moved forward by the gap; in an overlap the earlier instant
 * is taken. */
int64_t clk_from_local(const Zone *z, int64_t local_ms);

typedef struct LocalTime {
    int64_t year;
    unsigned month, day, hour, minute, second;
    unsigned weekday;           /* 1 = Monday .. 7 = Sunday */
} LocalTime;
void clk_local(const Zone *z, int64_t utc_ms, LocalTime *out);

typedef enum ClkWindow { CLK_PER_DAY, CLK_PER_WEEK, CLK_PER_MONTH } ClkWindow;
/* The index of the calendar window containing the instant, in the zone:
 * days since the epoch, ISO weeks (Monday) since the epoch, or months. */
int64_t clk_window(const Zone *z, int64_t utc_ms, ClkWindow w);

#endif
