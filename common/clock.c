/*
 * clock.c - the clocks (clock.h): clock_gettime, read here and nowhere else
 * (make lint checks it), with a replaceable source in test builds.
 */
#include "common/clock.h"

#include <stddef.h>

#ifdef CHR_TESTING
static const struct chr_clock_source *source; /* lint: allow (test builds only) */

void chr_clock_set_source(const struct chr_clock_source *src)
{
    source = src;
}
#endif

static int64_t read_ns(clockid_t id)
{
    struct timespec ts;
    clock_gettime(id, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

int64_t chr_clock_wall_ms(void)
{
#ifdef CHR_TESTING
    if (source != NULL && source->wall_ms != NULL)
        return source->wall_ms(source->ctx);
#endif
    return read_ns(CLOCK_REALTIME) / 1000000;
}

int64_t chr_clock_mono_ns(void)
{
#ifdef CHR_TESTING
    if (source != NULL && source->mono_ms != NULL)
        return source->mono_ms(source->ctx) * 1000000;
#endif
    return read_ns(CLOCK_MONOTONIC);
}

int64_t chr_clock_mono_ms(void)
{
#ifdef CHR_TESTING
    if (source != NULL && source->mono_ms != NULL)
        return source->mono_ms(source->ctx);
#endif
    return read_ns(CLOCK_MONOTONIC) / 1000000;
}

/* at_ms split into whole seconds rounded down and the nanoseconds left. */
static struct timespec ms_to_ts(int64_t at_ms)
{
    int64_t s = at_ms / 1000, ms = at_ms % 1000;
    if (ms < 0) {
        s -= 1;
        ms += 1000;
    }
    return (struct timespec){(time_t)s, (long)ms * 1000000L};
}

struct timespec chr_clock_wall_ts(int64_t at_ms)
{
    return ms_to_ts(at_ms);
}

struct timespec chr_clock_mono_ts(int64_t at_ms)
{
    return ms_to_ts(at_ms);
}
