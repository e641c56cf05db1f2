/*
 * clock.c - time stamps, calendar arithmetic and a TZif reader.
 */
#include "base/clock.h"
#include "base/mem.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- civil dates (Howard Hinnant's algorithms) ------------------------- */

int64_t clk_days_from_civil(int64_t y, unsigned m, unsigned d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    unsigned yoe = (unsigned)(y - era * 400);
    unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (int64_t)doe - 719468;
}

void clk_civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d)
{
    z += 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    unsigned doe = (unsigned)(z - era * 146097);
    unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    unsigned mp = (5 * doy + 2) / 153;
    *d = doy - (153 * mp + 2) / 5 + 1;
    *m = mp < 10 ? mp + 3 : mp - 9;
    *y = (int64_t)yoe + era * 400 + (*m <= 2);
}

static int64_t floordiv(int64_t a, int64_t b)
{
    int64_t q = a / b;
    return (a % b != 0 && ((a < 0) != (b < 0))) ? q - 1 : q;
}

static int digits(const char *s, size_t n, size_t at, int count, int *out)
{
    if (at + (size_t)count > n) return 0;
    int v = 0;
    for (int i = 0; i < count; i++) {
        char c = s[at + (size_t)i];
        if (c < '0' || c > '9') return 0;
        v = v * 10 + (c - '0');
    }
    *out = v;
    return 1;
}

int clk_parse(const char *s, size_t n, int64_t *ms)
{
    int y, mo, d, h, mi, se;
    if (!digits(s, n, 0, 4, &y) || n < 20 || s[4] != '-' || !digits(s, n, 5, 2, &mo) || s[7] != '-' ||
        !digits(s, n, 8, 2, &d) || (s[10] != 'T' && s[10] != 't') || !digits(s, n, 11, 2, &h) ||
        s[13] != ':' || !digits(s, n, 14, 2, &mi) || s[16] != ':' || !digits(s, n, 17, 2, &se))
        return -1;
    static const int mdays[] = { 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
    if (mo < 1 || mo > 12 || d < 1 || d > mdays[mo - 1] || h > 23 || mi > 59 || se > 60) return -1;
    if (mo == 2 && d == 29 && !((y % 4 == 0 && y % 100 != 0) || y % 400 == 0)) return -1;
    if (se == 60) se = 59;                      /* a leap second counts as :59 */
    size_t i = 19;
    int frac = 0, fd = 0;
    if (i < n && s[i] == '.') {
        i++;
        if (i >= n || s[i] < '0' || s[i] > '9') return -1;
        while (i < n && s[i] >= '0' && s[i] <= '9') {
            if (fd < 3) { frac = frac * 10 + (s[i] - '0'); fd++; }
            i++;
        }
        while (fd < 3) { frac *= 10; fd++; }
    }
    if (i >= n) return -1;
    int off = 0;
    if (s[i] == 'Z' || s[i] == 'z') i++;
    else if (s[i] == '+' || s[i] == '-') {
        int oh, om;
        if (!digits(s, n, i + 1, 2, &oh) || i + 3 >= n || s[i + 3] != ':' || !digits(s, n, i + 4, 2, &om) ||
            oh > 23 || om > 59)
            return -1;
        off = (oh * 60 + om) * 60 * (s[i] == '-' ? -1 : 1);
        i += 6;
    } else return -1;
    if (i != n) return -1;
    int64_t days = clk_days_from_civil(y, (unsigned)mo, (unsigned)d);
    *ms = ((days * 86400 + h * 3600 + mi * 60 + se) - off) * 1000 + frac;
    return 0;
}

void clk_format(int64_t ms, char buf[32])
{
    int64_t secs = floordiv(ms, 1000), rem = ms - secs * 1000;
    int64_t days = floordiv(secs, 86400), sod = secs - days * 86400;
    int64_t y;
    unsigned m, d;
    clk_civil_from_days(days, &y, &m, &d);
    if (y < 0) y = 0;                          /* RFC 3339 years have four digits */
    if (y > 9999) y = 9999;
    int yy = (int)y, hh = (int)(sod / 3600) % 24, mi = (int)(sod / 60 % 60), ss = (int)(sod % 60);
    /* by hand: this runs for every time stamp of every effect */
    char *p = buf;
    *p++ = (char)('0' + yy / 1000); *p++ = (char)('0' + yy / 100 % 10);
    *p++ = (char)('0' + yy / 10 % 10); *p++ = (char)('0' + yy % 10);
    *p++ = '-'; *p++ = (char)('0' + m / 10); *p++ = (char)('0' + m % 10);
    *p++ = '-'; *p++ = (char)('0' + d / 10); *p++ = (char)('0' + d % 10);
    *p++ = 'T'; *p++ = (char)('0' + hh / 10); *p++ = (char)('0' + hh % 10);
    *p++ = ':'; *p++ = (char)('0' + mi / 10); *p++ = (char)('0' + mi % 10);
    *p++ = ':'; *p++ = (char)('0' + ss / 10); *p++ = (char)('0' + ss % 10);
    if (rem) {
        int r = (int)rem % 1000;
        *p++ = '.'; *p++ = (char)('0' + r / 100); *p++ = (char)('0' + r / 10 % 10); *p++ = (char)('0' + r % 10);
    }
    *p++ = 'Z';
    *p = 0;
}

/* ---- zones ----------------------------------------------------------------- */

typedef struct Rule {           /* POSIX TZ rule: Mm.w.d/time, Jn/time or n/time */
    char kind;                  /* 'M', 'J', 'D' */
    int m, w, d, n;
    int32_t time;               /* seconds after local midnight */
} Rule;

struct Zone {
    char name[64];
    int64_t *trans;             /* UTC seconds */
    uint8_t *idx;               /* type index per transition */
    int32_t *offs;              /* utoff per type */
    uint8_t *isdst;
    int ntrans, ntypes;
    int32_t off0;               /* before the first transition */
    /* footer rule for instants after the last transition */
    int has_rule, has_dst;
    int32_t std_off, dst_off;
    Rule start, end;
};

static int32_t be32(const unsigned char *p) { return (int32_t)((uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3]); }
static int64_t be64(const unsigned char *p) { return (int64_t)((uint64_t)(uint32_t)be32(p) << 32 | (uint32_t)be32(p + 4)); }

static const char *posix_name(const char *s)
{
    if (*s == '<') { while (*s && *s != '>') s++; return *s ? s + 1 : s; }
    while ((*s >= 'A' && *s <= 'Z') || (*s >= 'a' && *s <= 'z')) s++;
    return s;
}

static const char *posix_time(const char *s, int32_t *out)
{
    int sign = 1, h = 0, m = 0, sec = 0;
    if (*s == '+' || *s == '-') { sign = *s == '-' ? -1 : 1; s++; }
    if (*s < '0' || *s > '9') return NULL;
    while (*s >= '0' && *s <= '9') h = h * 10 + (*s++ - '0');
    if (*s == ':') { s++; while (*s >= '0' && *s <= '9') m = m * 10 + (*s++ - '0'); }
    if (*s == ':') { s++; while (*s >= '0' && *s <= '9') sec = sec * 10 + (*s++ - '0'); }
    *out = sign * (h * 3600 + m * 60 + sec);
    return s;
}

static const char *posix_rule(const char *s, Rule *r)
{
    memset(r, 0, sizeof *r);
    r->time = 7200;
    if (*s == 'M') {
        r->kind = 'M';
        s++;
        r->m = (int)strtol(s, (char **)&s, 10);
        if (*s++ != '.') return NULL;
        r->w = (int)strtol(s, (char **)&s, 10);
        if (*s++ != '.') return NULL;
        r->d = (int)strtol(s, (char **)&s, 10);
    } else if (*s == 'J') {
        r->kind = 'J';
        s++;
        r->n = (int)strtol(s, (char **)&s, 10);
    } else if (*s >= '0' && *s <= '9') {
        r->kind = 'D';
        r->n = (int)strtol(s, (char **)&s, 10);
    } else return NULL;
    if (*s == '/') { s = posix_time(s + 1, &r->time); if (!s) return NULL; }
    return s;
}

static int parse_footer(Zone *z, const char *s)
{
    s = posix_name(s);
    int32_t t;
    if (!(s = posix_time(s, &t))) return 0;
    z->std_off = -t;
    z->has_rule = 1;
    if (!*s) return 1;
    s = posix_name(s);
    z->dst_off = z->std_off + 3600;
    if (*s && *s != ',') { if (!(s = posix_time(s, &t))) return 0; z->dst_off = -t; }
    if (*s != ',') return 1;
    if (!(s = posix_rule(s + 1, &z->start)) || *s != ',') return 0;
    if (!(s = posix_rule(s + 1, &z->end))) return 0;
    z->has_dst = 1;
    return 1;
}

/* Local seconds since the epoch at which a rule fires in a year. */
static int64_t rule_local(const Rule *r, int64_t year)
{
    int64_t day;
    if (r->kind == 'M') {
        int64_t first = clk_days_from_civil(year, (unsigned)r->m, 1);
        int wd1 = (int)((first % 7 + 11) % 7);          /* 0 = Sunday */
        int64_t d = first + (r->d - wd1 + 7) % 7 + (r->w - 1) * 7;
        static const int ml[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
        int len = ml[r->m - 1] + (r->m == 2 && ((year % 4 == 0 && year % 100 != 0) || year % 400 == 0));
        while (d >= first + len) d -= 7;
        day = d;
    } else if (r->kind == 'J') {
        int leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
        day = clk_days_from_civil(year, 1, 1) + r->n - 1 + (leap && r->n >= 60);
    } else {
        day = clk_days_from_civil(year, 1, 1) + r->n;
    }
    return day * 86400 + r->time;
}

static int32_t footer_offset(const Zone *z, int64_t utc)
{
    if (!z->has_dst) return z->std_off;
    int64_t y;
    unsigned m, d;
    clk_civil_from_days(floordiv(utc + z->std_off, 86400), &y, &m, &d);
    int64_t start = rule_local(&z->start, y) - z->std_off;      /* DST begins (in standard time) */
    int64_t end = rule_local(&z->end, y) - z->dst_off;          /* DST ends (in daylight time) */
    if (start < end) return utc >= start && utc < end ? z->dst_off : z->std_off;
    return utc >= end && utc < start ? z->std_off : z->dst_off;  /* southern hemisphere */
}

static Zone *load_tzif(const char *name)
{
    const char *dir = getenv("TZDIR");
    char path[512];
    snprintf(path, sizeof path, "%s/%s", dir && *dir ? dir : "/usr/share/zoneinfo", name);
    if (strstr(name, "..") || name[0] == '/') return NULL;
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    unsigned char *buf = malloc(1 << 20);
    size_t n = buf ? fread(buf, 1, 1 << 20, f) : 0;
    fclose(f);
    Zone *z = NULL;
    if (n < 44 || memcmp(buf, "TZif", 4)) goto out;
    /* skip the v1 block, read the 64-bit v2+ block */
    const unsigned char *h = buf;
    /* counts at 20..40: isutcnt, isstdcnt, leapcnt, timecnt, typecnt, charcnt */
    int32_t isut = be32(h + 20), isstd = be32(h + 24), leap = be32(h + 28), tc = be32(h + 32), ty = be32(h + 36),
            ch = be32(h + 40);
    size_t v1 = 44 + (size_t)tc * 5 + (size_t)ty * 6 + (size_t)ch + (size_t)leap * 8 + (size_t)isstd + (size_t)isut;
    if (h[4] < '2' || v1 + 44 > n) goto out;
    h = buf + v1;
    if (memcmp(h, "TZif", 4)) goto out;
    isut = be32(h + 20); isstd = be32(h + 24); leap = be32(h + 28); tc = be32(h + 32); ty = be32(h + 36);
    ch = be32(h + 40);
    if (tc < 0 || ty <= 0 || ty > 255 || ch < 0 || leap < 0 || isstd < 0 || isut < 0) goto out;
    size_t body = (size_t)tc * 9 + (size_t)ty * 6 + (size_t)ch + (size_t)leap * 12 + (size_t)isstd + (size_t)isut;
    if (v1 + 44 + body > n) goto out;
    z = calloc(1, sizeof *z);
    if (!z) goto out;
    snprintf(z->name, sizeof z->name, "%s", name);
    z->ntrans = tc;
    z->ntypes = ty;
    z->trans = calloc((size_t)tc + 1, sizeof(int64_t));
    z->idx = calloc((size_t)tc + 1, 1);
    z->offs = calloc((size_t)ty, sizeof(int32_t));
    z->isdst = calloc((size_t)ty, 1);
    if (!z->trans || !z->idx || !z->offs || !z->isdst) goto bad;
    const unsigned char *p = h + 44;
    for (int i = 0; i < tc; i++) z->trans[i] = be64(p + i * 8);
    p += (size_t)tc * 8;
    for (int i = 0; i < tc; i++) { z->idx[i] = p[i]; if (p[i] >= ty) goto bad; }
    p += tc;
    for (int i = 0; i < ty; i++) { z->offs[i] = be32(p + i * 6); z->isdst[i] = p[i * 6 + 4]; }
    p += (size_t)ty * 6;
    z->off0 = z->offs[0];
    for (int i = 0; i < ty; i++) if (!z->isdst[i]) { z->off0 = z->offs[i]; break; }
    p += (size_t)ch + (size_t)leap * 12 + (size_t)isstd + (size_t)isut;
    /* footer: \nTZ-string\n */
    if (p < buf + n && *p == '\n') {
        const unsigned char *e = memchr(p + 1, '\n', (size_t)(buf + n - p - 1));
        if (e && e > p + 1) {
            char tz[128];
            size_t len = (size_t)(e - p - 1);
            if (len < sizeof tz) {
                memcpy(tz, p + 1, len);
                tz[len] = 0;
                if (!parse_footer(z, tz)) z->has_rule = 0;
            }
        }
    }
    goto out;
bad:
    free(z->trans); free(z->idx); free(z->offs); free(z->isdst); free(z);
    z = NULL;
out:
    free(buf);
    return z;
}

#define ZONE_CACHE 32
static Zone *cache[ZONE_CACHE];
static int ncache;
static Zone utc_zone = { .name = "UTC" };

static pthread_mutex_t cache_mu = PTHREAD_MUTEX_INITIALIZER;     /* the daemon's engines share the cache */

const Zone *clk_zone(const char *name)
{
    if (!name || !strcmp(name, "UTC") || !strcmp(name, "Etc/UTC")) return &utc_zone;
    pthread_mutex_lock(&cache_mu);
    Zone *z = NULL;
    for (int i = 0; i < ncache && !z; i++)
        if (!strcmp(cache[i]->name, name)) z = cache[i];
    if (!z) {
        z = load_tzif(name);
        if (z && ncache < ZONE_CACHE) cache[ncache++] = z;
    }
    pthread_mutex_unlock(&cache_mu);
    return z;
}

const char *clk_zone_name(const Zone *z) { return z->name; }

int32_t clk_offset(const Zone *z, int64_t utc_ms)
{
    if (z == &utc_zone) return 0;
    int64_t t = floordiv(utc_ms, 1000);
    if (z->ntrans == 0 || t < z->trans[0]) return z->ntrans ? z->off0 : (z->has_rule ? footer_offset(z, t) : z->off0);
    if (t >= z->trans[z->ntrans - 1] && z->has_rule) return footer_offset(z, t);
    int lo = 0, hi = z->ntrans;
    while (hi - lo > 1) {
        int mid = (lo + hi) / 2;
        if (z->trans[mid] <= t) lo = mid; else hi = mid;
    }
    return z->offs[z->idx[lo]];
}

int64_t clk_from_local(const Zone *z, int64_t local_ms)
{
    /* try the offsets in force a day either side; prefer the earlier instant */
    int32_t o1 = clk_offset(z, local_ms - CLK_DAY), o2 = clk_offset(z, local_ms + CLK_DAY);
    int64_t c1 = local_ms - (int64_t)o1 * 1000, c2 = local_ms - (int64_t)o2 * 1000;
    int ok1 = clk_offset(z, c1) == o1, ok2 = clk_offset(z, c2) == o2;
    if (ok1 && ok2) return c1 < c2 ? c1 : c2;
    if (ok1) return c1;
    if (ok2) return c2;
    /* a gap: the wall time does not exist; move forward by the gap */
    return local_ms - (int64_t)(o1 < o2 ? o1 : o2) * 1000;
}

void clk_local(const Zone *z, int64_t utc_ms, LocalTime *out)
{
    int64_t secs = floordiv(utc_ms, 1000) + clk_offset(z, utc_ms);
    int64_t days = floordiv(secs, 86400), sod = secs - days * 86400;
    clk_civil_from_days(days, &out->year, &out->month, &out->day);
    out->hour = (unsigned)(sod / 3600);
    out->minute = (unsigned)(sod / 60 % 60);
    out->second = (unsigned)(sod % 60);
    out->weekday = (unsigned)((days % 7 + 7 + 3) % 7) + 1;     /* 1970-01-01 was a Thursday */
}

int64_t clk_window(const Zone *z, int64_t utc_ms, ClkWindow w)
{
    int64_t secs = floordiv(utc_ms, 1000) + clk_offset(z, utc_ms);
    int64_t days = floordiv(secs, 86400);
    switch (w) {
    case CLK_PER_DAY: return days;
    case CLK_PER_WEEK: return floordiv(days + 3, 7);            /* weeks start on Monday */
    case CLK_PER_MONTH: {
        int64_t y;
        unsigned m, d;
        clk_civil_from_days(days, &y, &m, &d);
        return y * 12 + (int64_t)m - 1;
    }
    }
    return days;
}
