/*
 * slog.c - the daemon's logs (slog.h): one JSON object per line on
 * stderr, written whole under a lock so threads never interleave.
 */
#include "base/slog.h"
#include "base/clock.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <time.h>

static int64_t wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static pthread_mutex_t log_mu = PTHREAD_MUTEX_INITIALIZER;

void slog(const char *level, const char *msg, ...)
{
    char buf[4096];
    size_t n = 0;
    char ts[32];
    clk_format(wall_ms(), ts);
    char *p = buf;
    /* a tiny escaper into buf; long values are cut */
#define PUT(c) do { if (n + 8 < sizeof buf) p[n++] = (c); } while (0)
#define PUTS(s) do { for (const char *q_ = (s); *q_; q_++) PUT(*q_); } while (0)
#define PUTESC(s) do { PUT('"'); for (const unsigned char *q_ = (const unsigned char *)(s); *q_; q_++) { \
        if (*q_ == '"' || *q_ == '\\') { PUT('\\'); PUT((char)*q_); }                                      \
        else if (*q_ < 0x20) { char u_[8]; snprintf(u_, sizeof u_, "\\u%04x", *q_); PUTS(u_); }           \
        else PUT((char)*q_); } PUT('"'); } while (0)
    PUTS("{\"ts\":"); PUTESC(ts);
    PUTS(",\"level\":"); PUTESC(level);
    PUTS(",\"msg\":"); PUTESC(msg);
    va_list ap;
    va_start(ap, msg);
    const char *k;
    while ((k = va_arg(ap, const char *)) != NULL) {
        int t = va_arg(ap, int);
        PUT(','); PUTESC(k); PUT(':');
        if (t == SL_STR) { const char *v = va_arg(ap, const char *); if (v) PUTESC(v); else PUTS("null"); }
        else if (t == SL_INT) { char d[32]; snprintf(d, sizeof d, "%lld", (long long)va_arg(ap, int64_t)); PUTS(d); }
        else { char d[48]; snprintf(d, sizeof d, "%.3f", va_arg(ap, double)); PUTS(d); }
    }
    va_end(ap);
    PUT('}');
    p[n++] = '\n';
#undef PUT
#undef PUTS
#undef PUTESC
    pthread_mutex_lock(&log_mu);
    fwrite(buf, 1, n, stderr);
    fflush(stderr);
    pthread_mutex_unlock(&log_mu);
}

