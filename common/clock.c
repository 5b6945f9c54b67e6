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

static int64_t read_ms(clockid_t id)
{
    struct timespec ts;
    clock_gettime(id, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t chr_clock_wall_ms(void)
{
#ifdef CHR_TESTING
    if (source != NULL && source->wall_ms != NULL)
        return source->wall_ms(source->ctx);
#endif
    return read_ms(CLOCK_REALTIME);
}

int64_t chr_clock_mono_ms(void)
{
#ifdef CHR_TESTING
    if (source != NULL && source->mono_ms != NULL)
        return source->mono_ms(source->ctx);
#endif
    return read_ms(CLOCK_MONOTONIC);
}

struct timespec chr_clock_wall_ts(int64_t at_ms)
{
    struct timespec ts = {(time_t)(at_ms / 1000), (long)(at_ms % 1000) * 1000000L};
    if (ts.tv_nsec < 0) {
        ts.tv_sec -= 1;
        ts.tv_nsec += 1000000000L;
    }
    return ts;
}
