/*
 * clock.h - the one place chronos reads a clock: the wall clock
 * (CLOCK_REALTIME: instants, in ms since the epoch) and the monotonic one
 * (CLOCK_MONOTONIC: durations and deadlines, in ms since some start).  The
 * two never mix: an instant is never compared with a monotonic reading.
 * `make lint` refuses clock_gettime, gettimeofday and time() anywhere else
 * in the product (tests and the simulator keep their own).
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
/* The monotonic clock in ns, for latencies finer than a millisecond (a
 * store write's); same start as chr_clock_mono_ms. */
int64_t chr_clock_mono_ns(void);

/* An instant in ms as an absolute timespec: tv_sec is at_ms / 1000 rounded
 * down (towards -infinity), tv_nsec the rest in [0, 999999999], so that
 * -1 ms is {-1, 999000000}; defined for every int64_t.  chr_clock_wall_ts
 * is for waits on CLOCK_REALTIME (pthread_cond_timedwait's default clock,
 * a CLOCK_REALTIME timerfd), chr_clock_mono_ts for waits on CLOCK_MONOTONIC
 * (a condition variable whose condattr says so).  They convert only: the
 * kernel times the wait by its own clock even when a test replaced the
 * source. */
struct timespec chr_clock_wall_ts(int64_t at_ms);
struct timespec chr_clock_mono_ts(int64_t at_ms);

#ifdef CHR_TESTING
/* Replaces the clocks (NULL: the kernel's again; a NULL member: that clock
 * from the kernel).  mono_ms also answers chr_clock_mono_ns (times 10^6).
 * Not thread-safe: set it before the threads that read it start. */
struct chr_clock_source {
    int64_t (*wall_ms)(void *ctx);
    int64_t (*mono_ms)(void *ctx);
    void *ctx;
};
void chr_clock_set_source(const struct chr_clock_source *src);
#endif

#endif
