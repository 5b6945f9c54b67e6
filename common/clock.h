/*
 * clock.h - the one place chronos reads a clock: the wall clock
 * (CLOCK_REALTIME: instants, in ms since the epoch) and the monotonic one
 * (CLOCK_MONOTONIC: durations and deadlines, in ms since some start).  The
 * two never mix: an instant is never compared with a monotonic reading.
 *
 * Test builds (CHR_TESTING) may replace the source, so that glue code runs
 * under a simulated clock; release builds read the kernel's clocks only.
 * The core and the time engine read no clock at all: time is an argument.
 */
#ifndef CHR_COMMON_CLOCK_H
#define CHR_COMMON_CLOCK_H

#include <stdint.h>
#include <time.h>

/* The wall clock: ms since 1970-01-01T00:00:00Z. */
int64_t chr_clock_wall_ms(void);
/* The monotonic clock: ms since an arbitrary start, never going back. */
int64_t chr_clock_mono_ms(void);
/* The wall-clock instant at_ms as an absolute timespec, for
 * pthread_cond_timedwait (whose default clock is CLOCK_REALTIME). */
struct timespec chr_clock_wall_ts(int64_t at_ms);

#ifdef CHR_TESTING
/* Replaces the clocks (NULL: the kernel's again).  Not thread-safe: set it
 * before the threads that read it start. */
struct chr_clock_source {
    int64_t (*wall_ms)(void *ctx);
    int64_t (*mono_ms)(void *ctx);
    void *ctx;
};
void chr_clock_set_source(const struct chr_clock_source *src);
#endif

#endif
