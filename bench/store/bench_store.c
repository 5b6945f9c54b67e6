/*
 * bench_store.c - what the local-directory store costs: durable batches per
 * second and submit -> completion latency (p50, p99) with 1 and 32
 * concurrent submitters (each keeps one batch in flight, as a request
 * handler does) and with one pipelining submitter, then the time to load
 * 100,000 job nodes of ~600 bytes: replayed from the log, read from a
 * snapshot, and the scheduler's whole startup read (open, list 256 shards,
 * get every job), with the memory the loaded tree takes.
 *
 * Usage: bench_store DIR [RUNS]   DIR must not exist (it is created and left
 * for run.sh to remove).  Each figure is the median over RUNS runs (default
 * 3), the per-run rates are printed too.  Prints figures, never fails on
 * them; exits non-zero only when it cannot run.
 */
#define _POSIX_C_SOURCE 200809L

#include <fcntl.h>
#include <malloc.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/alloc.h"
#include "zkstore/store.h"

#define RUNS_MAX 9
#define JOB_BYTES 600
#define LOAD_JOBS 100000

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void die(const char *what, enum chr_err e)
{
    fprintf(stderr, "bench_store: %s: %s\n", what, chr_err_name(e));
    exit(1);
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double pct(double *v, size_t n, double p)
{
    qsort(v, n, sizeof *v, cmp_double);
    size_t i = (size_t)(p * (double)(n - 1) + 0.5);
    return v[i];
}

static void job_bytes(char *buf, size_t n, unsigned seed)
{
    /* JSON-ish text of a typical job; the content does not matter. */
    for (size_t i = 0; i < n; i++)
        buf[i] = (char)('a' + (seed + i * 7) % 26);
}

/* ---- throughput and latency --------------------------------------------------- */

struct closed {
    struct chr_store *s;
    int id, n;
    double *lat_s;
};

/* One submitter, one batch in flight: set its own state node (600 B) and
 * check a shared epoch node, as a leader's run update would. */
static void *closed_loop(void *arg)
{
    struct closed *c = arg;
    char path[64], data[JOB_BYTES];
    snprintf(path, sizeof path, "/bench/s%d", c->id);
    for (int i = 0; i < c->n; i++) {
        job_bytes(data, sizeof data, (unsigned)i);
        struct chr_store_op ops[] = {
            {.type = CHR_STORE_CHECK, .path = "/bench", .version = 0},
            {.type = CHR_STORE_SET, .path = path, .data = data, .len = sizeof data,
             .version = i},
        };
        double t0 = now_s();
        enum chr_err e = chr_store_submit_wait(c->s, ops, 2, NULL);
        c->lat_s[i] = now_s() - t0;
        if (e != CHR_OK)
            die("submit", e);
    }
    return NULL;
}

struct figures {
    double rate, p50_us, p99_us, per_sync;
};

static struct figures run_closed(struct chr_store *s, int threads, int per_thread)
{
    struct closed *c = calloc((size_t)threads, sizeof *c);
    pthread_t *th = calloc((size_t)threads, sizeof *th);
    double *lat = calloc((size_t)threads * (size_t)per_thread, sizeof *lat);
    struct chr_store_stats a, b;
    chr_store_stats(s, &a);
    double t0 = now_s();
    for (int t = 0; t < threads; t++) {
        c[t] = (struct closed){.s = s, .id = t, .n = per_thread, .lat_s = lat + t * per_thread};
        pthread_create(&th[t], NULL, closed_loop, &c[t]);
    }
    for (int t = 0; t < threads; t++)
        pthread_join(th[t], NULL);
    double dt = now_s() - t0;
    chr_store_stats(s, &b);
    size_t n = (size_t)threads * (size_t)per_thread;
    struct figures f = {.rate = (double)n / dt,
                        .p50_us = pct(lat, n, 0.50) * 1e6,
                        .p99_us = pct(lat, n, 0.99) * 1e6,
                        .per_sync = (double)(b.batches - a.batches) /
                                    (double)(b.syncs > a.syncs ? b.syncs - a.syncs : 1)};
    free(lat);
    free(th);
    free(c);
    return f;
}

/* One submitter pipelining: up to CHR_STORE_QUEUE_MAX batches in flight. */
struct pipe_ctx {
    double *lat_s;
    double *t_submit;
};

struct pipe_tag {
    struct pipe_ctx *p;
    int i;
};

static void pipe_done(void *ctx, enum chr_err result, const struct chr_store_result *res,
                      size_t n)
{
    (void)res;
    (void)n;
    struct pipe_tag *t = ctx;
    if (result != CHR_OK)
        die("pipelined batch", result);
    t->p->lat_s[t->i] = now_s() - t->p->t_submit[t->i];
}

static struct figures run_pipelined(struct chr_store *s, int n)
{
    struct pipe_ctx p = {.lat_s = calloc((size_t)n, sizeof(double)),
                         .t_submit = calloc((size_t)n, sizeof(double))};
    struct pipe_tag *tags = calloc((size_t)n, sizeof *tags);
    char data[JOB_BYTES];
    struct chr_store_stats a, b;
    chr_store_stats(s, &a);
    double t0 = now_s();
    for (int i = 0; i < n; i++) {
        job_bytes(data, sizeof data, (unsigned)i);
        struct chr_store_op op = {.type = CHR_STORE_SET, .path = "/bench/pipe", .data = data,
                                  .len = sizeof data, .version = -1};
        tags[i] = (struct pipe_tag){.p = &p, .i = i};
        p.t_submit[i] = now_s();
        enum chr_err e;
        while ((e = chr_store_submit(s, &op, 1, pipe_done, &tags[i])) == CHR_EUNAVAIL)
            sched_yield(); /* queue full: the back-pressure a caller sees */
        if (e != CHR_OK)
            die("submit", e);
    }
    chr_store_flush(s);
    double dt = now_s() - t0;
    chr_store_stats(s, &b);
    struct figures f = {.rate = n / dt,
                        .p50_us = pct(p.lat_s, (size_t)n, 0.50) * 1e6,
                        .p99_us = pct(p.lat_s, (size_t)n, 0.99) * 1e6,
                        .per_sync = (double)(b.batches - a.batches) /
                                    (double)(b.syncs > a.syncs ? b.syncs - a.syncs : 1)};
    free(tags);
    free(p.t_submit);
    free(p.lat_s);
    return f;
}

static int cmp_rate(const void *a, const void *b)
{
    const struct figures *x = a, *y = b;
    return x->rate < y->rate ? -1 : x->rate > y->rate;
}

static void print_row(const char *name, struct figures *runs, int n)
{
    qsort(runs, (size_t)n, sizeof *runs, cmp_rate);
    struct figures m = runs[n / 2];
    printf("%-44s %9.0f /s  p50 %7.0f us  p99 %7.0f us  %6.1f batches/fsync  (runs:", name,
           m.rate, m.p50_us, m.p99_us, m.per_sync);
    for (int i = 0; i < n; i++)
        printf(" %.0f", runs[i].rate);
    printf(")\n");
}

/* The floor under every figure: append 700 bytes + fdatasync, no store. */
static struct figures run_floor(const char *dir, int n)
{
    char path[4200];
    snprintf(path, sizeof path, "%s.floor", dir);
    int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0644);
    if (fd < 0)
        die("floor file", CHR_EIO);
    double *lat = calloc((size_t)n, sizeof *lat);
    char buf[700] = {0};
    double t0 = now_s();
    for (int i = 0; i < n; i++) {
        double a = now_s();
        if (pwrite(fd, buf, sizeof buf, (off_t)i * (off_t)sizeof buf) != (ssize_t)sizeof buf ||
            fdatasync(fd) != 0)
            die("floor write", CHR_EIO);
        lat[i] = now_s() - a;
    }
    struct figures f = {.rate = n / (now_s() - t0), .p50_us = pct(lat, (size_t)n, 0.5) * 1e6,
                        .p99_us = pct(lat, (size_t)n, 0.99) * 1e6, .per_sync = 1};
    close(fd);
    unlink(path);
    free(lat);
    return f;
}

static void bench_commit(const char *dir, int runs)
{
    struct chr_store *s = NULL;
    enum chr_err e = chr_store_open_local(dir, NULL, &s, NULL);
    if (e != CHR_OK)
        die("open", e);
    if ((e = chr_store_mkdirs(s, "/bench/pipe")) != CHR_OK)
        die("mkdirs", e);
    struct figures floor[RUNS_MAX], one[RUNS_MAX], many[RUNS_MAX], piped[RUNS_MAX];
    for (int r = 0; r < runs; r++) {
        floor[r] = run_floor(dir, 3000);
        char path[32];
        for (int t = 0; t < 32; t++) { /* fresh nodes: versions restart at 0 */
            snprintf(path, sizeof path, "/bench/s%d", t);
            struct chr_store_op ops[] = {{.type = CHR_STORE_DELETE, .path = path, .version = -1},
                                         {.type = CHR_STORE_CREATE, .path = path}};
            if (chr_store_submit_wait(s, r == 0 ? &ops[1] : ops, r == 0 ? 1 : 2, NULL) != CHR_OK)
                die("reset", CHR_EIO);
        }
        one[r] = run_closed(s, 1, 3000);
        for (int t = 0; t < 32; t++) {
            snprintf(path, sizeof path, "/bench/s%d", t);
            struct chr_store_op ops[] = {{.type = CHR_STORE_DELETE, .path = path, .version = -1},
                                         {.type = CHR_STORE_CREATE, .path = path}};
            if (chr_store_submit_wait(s, ops, 2, NULL) != CHR_OK)
                die("reset", CHR_EIO);
        }
        many[r] = run_closed(s, 32, 1000);
        piped[r] = run_pipelined(s, 50000);
    }
    print_row("floor: append 700 B + fdatasync, no store", floor, runs);
    print_row("1 submitter, 1 batch in flight (2 ops)", one, runs);
    print_row("32 submitters, 1 batch in flight each", many, runs);
    print_row("1 submitter pipelining (<= 4096 in flight)", piped, runs);
    chr_store_close(s);
}

/* ---- loading 100k jobs ---------------------------------------------------------------- */

/* Heap bytes in use (glibc): the tree's cost, free of what earlier opens
 * left in malloc's free lists (which RSS would hide). */
static double heap_bytes(void)
{
    struct mallinfo2 mi = mallinfo2();
    return (double)mi.uordblks + (double)mi.hblkhd;
}

static void populate(struct chr_store *s)
{
    char root[] = "/chronos/jobs";
    enum chr_err e = chr_store_mkdirs(s, root);
    for (int sh = 0; sh < CHR_STORE_SHARDS && e == CHR_OK; sh++) {
        char path[64];
        snprintf(path, sizeof path, "%s/%02x", root, sh);
        struct chr_store_op op = {.type = CHR_STORE_CREATE, .path = path};
        e = chr_store_submit_wait(s, &op, 1, NULL);
    }
    if (e != CHR_OK)
        die("shards", e);
    static char paths[100][CHR_STORE_PATH_MAX];
    char data[100][JOB_BYTES];
    for (int i = 0; i < LOAD_JOBS; i += 100) {
        struct chr_store_op ops[100];
        for (int k = 0; k < 100; k++) {
            char name[32];
            snprintf(name, sizeof name, "job-%07d", i + k);
            if (chr_store_job_path(paths[k], "/chronos", name) != CHR_OK)
                die("job path", CHR_EINVAL);
            job_bytes(data[k], JOB_BYTES, (unsigned)(i + k));
            ops[k] = (struct chr_store_op){.type = CHR_STORE_CREATE, .path = paths[k],
                                           .data = data[k], .len = JOB_BYTES};
        }
        if ((e = chr_store_submit_wait(s, ops, 100, NULL)) != CHR_OK)
            die("populate", e);
    }
}

/* The scheduler's startup read: every shard listed, every job fetched. */
static size_t read_all_jobs(struct chr_store *s)
{
    size_t n = 0;
    for (int sh = 0; sh < CHR_STORE_SHARDS; sh++) {
        char dir[64], path[CHR_STORE_PATH_MAX];
        snprintf(dir, sizeof dir, "/chronos/jobs/%02x", sh);
        struct chr_store_names *names = NULL;
        enum chr_err e = chr_store_children(s, dir, &names);
        if (e != CHR_OK)
            die("children", e);
        for (size_t i = 0; i < names->n; i++) {
            snprintf(path, sizeof path, "%s/%s", dir, names->names[i]);
            void *data = NULL;
            size_t len = 0;
            if ((e = chr_store_get(s, path, &data, &len, NULL)) != CHR_OK)
                die("get", e);
            n += len == JOB_BYTES;
            chr_free(data);
        }
        chr_store_names_free(names);
    }
    return n;
}

static void bench_load(const char *dir, int runs)
{
    /* No automatic checkpoint while populating: the first opens replay the
     * whole log (~75 MB), the later ones read the snapshot. */
    struct chr_store_config big = {.checkpoint_bytes = 1ull << 40};
    struct chr_store *s = NULL;
    enum chr_err e = chr_store_open_local(dir, &big, &s, NULL);
    if (e != CHR_OK)
        die("open", e);
    double t0 = now_s();
    populate(s);
    double t_pop = now_s() - t0;
    struct chr_store_stats st;
    chr_store_stats(s, &st);
    chr_store_close(s);
    printf("populate: %d jobs of %d B in batches of 100: %.2f s (%.0f jobs/s durable), log %.1f MB\n",
           LOAD_JOBS, JOB_BYTES, t_pop, LOAD_JOBS / t_pop, (double)st.log_bytes / 1e6);
    double replay[RUNS_MAX], snap[RUNS_MAX], full[RUNS_MAX];
    double heap_delta = 0;
    for (int r = 0; r < runs; r++) {
        t0 = now_s();
        if ((e = chr_store_open_local(dir, &big, &s, NULL)) != CHR_OK)
            die("reopen", e);
        replay[r] = now_s() - t0;
        chr_store_close(s);
    }
    if ((e = chr_store_open_local(dir, &big, &s, NULL)) != CHR_OK || chr_store_checkpoint(s) != CHR_OK)
        die("checkpoint", e);
    chr_store_close(s);
    for (int r = 0; r < runs; r++) {
        double heap0 = heap_bytes();
        t0 = now_s();
        if ((e = chr_store_open_local(dir, &big, &s, NULL)) != CHR_OK)
            die("reopen", e);
        snap[r] = now_s() - t0;
        heap_delta = heap_bytes() - heap0;
        size_t got = read_all_jobs(s);
        full[r] = now_s() - t0;
        if (got != LOAD_JOBS)
            die("jobs read back", CHR_EIO);
        chr_store_close(s);
    }
    qsort(replay, (size_t)runs, sizeof(double), cmp_double);
    qsort(snap, (size_t)runs, sizeof(double), cmp_double);
    qsort(full, (size_t)runs, sizeof(double), cmp_double);
    printf("open, %d jobs all in the log (replay):      %7.0f ms\n", LOAD_JOBS, replay[runs / 2] * 1e3);
    printf("open, %d jobs in a snapshot:                %7.0f ms\n", LOAD_JOBS, snap[runs / 2] * 1e3);
    printf("open + list 256 shards + get all %d jobs:   %7.0f ms\n", LOAD_JOBS, full[runs / 2] * 1e3);
    printf("memory of the loaded tree: heap +%.1f MB = %.0f B per job (%d B of it data)\n",
           heap_delta / 1e6, heap_delta / LOAD_JOBS, JOB_BYTES);
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: bench_store DIR [RUNS]\n");
        return 2;
    }
    int runs = argc > 2 ? (int)strtol(argv[2], NULL, 10) : 3;
    if (runs < 1 || runs > RUNS_MAX)
        runs = 3;
    char commit_dir[4096], load_dir[4096];
    snprintf(commit_dir, sizeof commit_dir, "%s/commit", argv[1]);
    snprintf(load_dir, sizeof load_dir, "%s/load", argv[1]);
    bench_commit(commit_dir, runs);
    bench_load(load_dir, runs);
    return 0;
}
