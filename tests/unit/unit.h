/*
 * unit.h - shared includes and helpers for the cmocka unit tests.
 */
#ifndef CHR_TEST_UNIT_H
#define CHR_TEST_UNIT_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <cmocka.h>

#include "iso8601/iso8601.h"

/* Parses an instant written in a test ("2024-03-10T07:00:00Z"); fails the test
 * if it does not parse. */
static inline int64_t T(const char *s)
{
    int64_t ms = 0;
    struct chr_error err;
    if (chr_instant_parse(s, &ms, &err) != CHR_OK)
        fail_msg("test instant '%s' does not parse: %s", s, err.message);
    return ms;
}

/* Asserts that instant `got` is `want` (text), printing both as text. */
#define assert_instant(got, want)                                                           \
    do {                                                                                    \
        char got_txt_[CHR_INSTANT_TEXT_MAX];                                                \
        int64_t want_ms_ = T(want);                                                         \
        chr_instant_format((got), got_txt_);                                                \
        if ((got) != want_ms_)                                                              \
            fail_msg("instant %s, want %s", got_txt_, (want));                              \
    } while (0)

/* The monotonic clock in milliseconds, for deadlines in tests. */
static inline int64_t test_mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Sleeps ms milliseconds. */
static inline void test_nap_ms(long ms)
{
    struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

#endif
