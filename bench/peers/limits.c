/*
 * limits.c - the machine's own limits, measured in the same run as the peers
 * (bench/peers), so each peer's figure can be read against what this machine
 * can do at best at that moment:
 *
 *   limits spawn N INFLIGHT PROG FILE
 *       posix_spawn PROG FILE limit-<i> (the peers' task, stamp.c), N times,
 *       keeping INFLIGHT children alive (1: sequential, spawn + waitpid);
 *       the latency of one launch is spawn -> its waitpid.  Prints one JSON
 *       object: n, inflight, seconds, rate (launches/s), p50/p99/max_us.
 *   limits timer N
 *       N sleeps to absolute CLOCK_REALTIME deadlines now + 1..10 ms
 *       (clock_nanosleep TIMER_ABSTIME, timer slack 1 ns); lateness = the
 *       clock read after the wake-up - the deadline.  Prints n, p50/p99/max_us.
 *
 * Exits 0, or 2 on bad arguments, 1 when a spawn or wait fails.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <spawn.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

static uint64_t now_ns(clockid_t c)
{
    struct timespec t;
    clock_gettime(c, &t);
    return (uint64_t)t.tv_sec * 1000000000ull + (uint64_t)t.tv_nsec;
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

/* Nearest-rank percentile of an ascending array, in microseconds. */
static double pct_us(const uint64_t *v, size_t n, double p)
{
    size_t k = (size_t)((p / 100.0) * (double)n + 0.999999);
    if (k < 1)
        k = 1;
    if (k > n)
        k = n;
    return (double)v[k - 1] / 1e3;
}

static long arg_long(const char *s, long lo, long hi)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || *end || end == s || v < lo || v > hi) {
        fprintf(stderr, "limits: bad number '%s' (%ld..%ld)\n", s, lo, hi);
        exit(2);
    }
    return v;
}

static pid_t launch(const char *prog, const char *file, long i)
{
    char tag[32];
    snprintf(tag, sizeof tag, "limit-%ld", i);
    char *argv[] = {(char *)prog, (char *)file, tag, NULL};
    pid_t p;
    int rc = posix_spawn(&p, prog, NULL, NULL, argv, environ);
    if (rc != 0) {
        fprintf(stderr, "limits: posix_spawn %s: %s\n", prog, strerror(rc));
        exit(1);
    }
    return p;
}

static int spawn_bench(long n, long inflight, const char *prog, const char *file)
{
    uint64_t *lat = calloc((size_t)n, sizeof *lat);
    pid_t *pids = calloc((size_t)inflight, sizeof *pids);
    uint64_t *start = calloc((size_t)inflight, sizeof *start);
    if (!lat || !pids || !start)
        return 1;
    long started = 0, done = 0;
    uint64_t t0 = now_ns(CLOCK_MONOTONIC);
    for (long k = 0; k < inflight && started < n; k++, started++) {
        start[k] = now_ns(CLOCK_MONOTONIC);
        pids[k] = launch(prog, file, started);
    }
    while (done < n) {
        int st;
        pid_t p = waitpid(-1, &st, 0);
        if (p < 0) {
            perror("limits: waitpid");
            return 1;
        }
        long k = 0;
        while (k < inflight && pids[k] != p)
            k++;
        if (k == inflight)
            continue;
        lat[done++] = now_ns(CLOCK_MONOTONIC) - start[k];
        if (started < n) {
            start[k] = now_ns(CLOCK_MONOTONIC);
            pids[k] = launch(prog, file, started++);
        } else {
            pids[k] = 0;
        }
    }
    double secs = (double)(now_ns(CLOCK_MONOTONIC) - t0) / 1e9;
    qsort(lat, (size_t)n, sizeof *lat, cmp_u64);
    printf("{\"n\": %ld, \"inflight\": %ld, \"seconds\": %.4f, \"rate\": %.1f, "
           "\"p50_us\": %.1f, \"p99_us\": %.1f, \"max_us\": %.1f}\n",
           n, inflight, secs, (double)n / secs, pct_us(lat, (size_t)n, 50),
           pct_us(lat, (size_t)n, 99), (double)lat[n - 1] / 1e3);
    free(lat);
    free(pids);
    free(start);
    return 0;
}

static int timer_bench(long n)
{
    uint64_t *late = calloc((size_t)n, sizeof *late);
    if (!late)
        return 1;
    prctl(PR_SET_TIMERSLACK, 1UL);
    uint64_t seed = 0x9e3779b97f4a7c15ull;
    for (long i = 0; i < n; i++) {
        seed = seed * 6364136223846793005ull + 1442695040888963407ull;
        uint64_t d = 1000000ull + (seed >> 33) % 9000001ull; /* 1..10 ms */
        uint64_t dl = now_ns(CLOCK_REALTIME) + d;
        struct timespec ts = {(time_t)(dl / 1000000000ull), (long)(dl % 1000000000ull)};
        while (clock_nanosleep(CLOCK_REALTIME, TIMER_ABSTIME, &ts, NULL) == EINTR)
            ;
        uint64_t w = now_ns(CLOCK_REALTIME);
        late[i] = w > dl ? w - dl : 0;
    }
    qsort(late, (size_t)n, sizeof *late, cmp_u64);
    printf("{\"n\": %ld, \"p50_us\": %.1f, \"p99_us\": %.1f, \"max_us\": %.1f}\n", n,
           pct_us(late, (size_t)n, 50), pct_us(late, (size_t)n, 99),
           (double)late[n - 1] / 1e3);
    free(late);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc == 6 && strcmp(argv[1], "spawn") == 0)
        return spawn_bench(arg_long(argv[2], 1, 10000000), arg_long(argv[3], 1, 64), argv[4],
                           argv[5]);
    if (argc == 3 && strcmp(argv[1], "timer") == 0)
        return timer_bench(arg_long(argv[2], 1, 10000000));
    fprintf(stderr, "usage: limits spawn N INFLIGHT PROG FILE | limits timer N\n");
    return 2;
}
