/*
 * check_macros.h - the assertions of the C unit tests: each failure prints
 * file:line and what differed, and the test keeps going; check_report()
 * prints the count and gives the exit status.
 */
#ifndef DNA_CHECK_MACROS_H
#define DNA_CHECK_MACROS_H

#include <stdio.h>
#include <string.h>

static int check_failures, check_count;

#define CHECK_MSG(cond, msg)                                                    \
    do {                                                                        \
        check_count++;                                                          \
        if (!(cond)) {                                                          \
            check_failures++;                                                   \
            fprintf(stderr, "%s:%d: check failed: %s (%s)\n", __FILE__, __LINE__, #cond, msg); \
        }                                                                       \
    } while (0)
#define CHECK(cond) CHECK_MSG(cond, "")
#define CHECK_EQ_I(a, b)                                                        \
    do {                                                                        \
        long long a_ = (long long)(a), b_ = (long long)(b);                    \
        check_count++;                                                          \
        if (a_ != b_) {                                                         \
            check_failures++;                                                   \
            fprintf(stderr, "%s:%d: %s == %s: %lld != %lld\n", __FILE__, __LINE__, #a, #b, a_, b_); \
        }                                                                       \
    } while (0)
#define CHECK_EQ_S(a, b)                                                        \
    do {                                                                        \
        const char *a_ = (a), *b_ = (b);                                        \
        check_count++;                                                          \
        if (!a_ || !b_ || strcmp(a_, b_)) {                                     \
            check_failures++;                                                   \
            fprintf(stderr, "%s:%d: %s == %s: \"%s\" != \"%s\"\n", __FILE__, __LINE__, #a, #b, \
                    a_ ? a_ : "(null)", b_ ? b_ : "(null)");                   \
        }                                                                       \
    } while (0)

static inline int check_report(const char *name)
{
    printf("%s: %d checks, %d failed\n", name, check_count, check_failures);
    return check_failures ? 1 : 0;
}

#endif
