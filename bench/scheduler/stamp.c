/*
 * stamp.c - the task of the lateness benchmark: prints CLOCK_REALTIME in ns
 * as the first thing it does after exec, so that the benchmark can tell the
 * exec instant to the microsecond (the supervisor copies stdout into the
 * run's `stdout` file).  Linked statically when possible so that dynamic
 * loading adds nothing measurable between exec and the clock read.
 */
#include <stdio.h>
#include <time.h>

int main(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    printf("%lld\n", (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec);
    return 0;
}
