/*
 * vmtest.h - a tiny test harness for the VM tests: CHECK macros that count
 * failures and keep going, and a main() helper that prints the tally.
 */
#ifndef DNA_VMTEST_H
#define DNA_VMTEST_H

#include <stdio.h>
#include <string.h>

static int t_fail, t_pass;

#define CHECK(cond, ...) do { \
        if (cond) t_pass++; \
        else { t_fail++; fprintf(stderr, "%s:%d: check failed: %s: ", __FILE__, __LINE__, #cond); \
               fprintf(stderr, __VA_ARGS__); fputc('\n', stderr); } \
    } while (0)

#define CHECK_EQ_I(a, b) do { long long a_ = (long long)(a), b_ = (long long)(b); \
        CHECK(a_ == b_, "%s = %lld, expected %lld", #a, a_, b_); } while (0)

#define CHECK_STR(a, b) do { const char *a_ = (a), *b_ = (b); \
        CHECK(a_ && b_ && strcmp(a_, b_) == 0, "%s = \"%s\", expected \"%s\"", #a, a_ ? a_ : "(null)", b_); } while (0)

static int t_done(const char *name)
{
    printf("%s: %d passed, %d failed\n", name, t_pass, t_fail);
    return t_fail ? 1 : 0;
}

#endif
