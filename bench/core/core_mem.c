/*
 * core_mem.c - what an idle job costs the core, and how fast it takes jobs
 * and handles due instants.  Prints figures; never passes or fails.
 *
 * Builds N jobs the way the API codec fills them (absent text fields are ""),
 * PUTs them into a core and completes their batches, then reads the heap in
 * use (mallinfo2) and the resident set (/proc/self/statm) before and after.
 * Then makes every job due once (hourly schedules with staggered starts),
 * launches and finishes the runs, and measures again (history allocated).
 *
 *   cc -O2 -I. bench/core/core_mem.c build/rel/libchr.a -ljansson -lpthread -lm
 *   ./a.out [N]     (default 100000)
 */
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/alloc.h"
#include "scheduler/core.h"

static char *dup(const char *s)
{
    return s != NULL ? chr_strndup(s, strlen(s)) : NULL;
}

static long rss_kib(void)
{
    FILE *f = fopen("/proc/self/statm", "r");
    long pages = 0, res = 0;
    if (f != NULL) {
        if (fscanf(f, "%ld %ld", &pages, &res) != 2)
            res = 0;
        fclose(f);
    }
    return res * 4;
}

static size_t heap_bytes(void)
{
    struct mallinfo2 m = mallinfo2();
    return m.uordblks + m.hblkhd;
}

static double secs(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t); /* lint: allow (a benchmark) */
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static struct chr_job mkjob(long i)
{
    char name[32], sched[64];
    struct chr_job j;
    memset(&j, 0, sizeof j);
    snprintf(name, sizeof name, "job-%06ld", i);
    /* Hourly, starts staggered by a second per job over the hour. */
    snprintf(sched, sizeof sched, "R/2030-01-01T00:%02ld:%02ld.000Z/PT1H", (i / 60) % 60, i % 60);
    j.name = dup(name);
    j.command = dup("/usr/local/bin/report --daily --out /data/reports");
    j.shell = true;
    j.schedule = dup(sched);
    j.owner = dup("ops@example.com");
    j.owner_name = dup("");
    j.description = dup("");
    j.run_as_user = dup("root");
    j.executor = dup("");
    j.executor_flags = dup("");
    j.task_info_data = dup("");
    j.epsilon = dup("PT60S");
    j.retries = 2;
    j.starting_deadline_ms = -1;
    return j;
}

/* Steps one event; completes every batch it emits, answering offers by
 * launching and finishing what is launched. */
static void step(struct chr_core *c, int64_t now, struct chr_event *ev, long *launched)
{
    struct chr_actions a;
    chr_core_step(c, now, ev, &a);
    uint64_t last = 0;
    char ids[64][CHR_RUN_ID_MAX];
    size_t n_ids = 0;
    for (size_t i = 0; i < a.n; i++) {
        if (a.v[i].type == CHR_ACT_PERSIST)
            last = a.v[i].u.persist.batch_id;
        if (a.v[i].type == CHR_ACT_LAUNCH && n_ids < 64)
            snprintf(ids[n_ids++], CHR_RUN_ID_MAX, "%s", a.v[i].u.launch.run->id);
    }
    for (size_t i = 0; i < n_ids; i++) {
        struct chr_event st = {.type = CHR_EV_TASK_STATUS};
        st.u.status.run_id = ids[i];
        st.u.status.state = CHR_RUN_FINISHED;
        step(c, now, &st, launched);
        (*launched)++;
    }
    if (last != 0) {
        struct chr_event done = {.type = CHR_EV_STORE_DONE};
        done.u.store.batch_id = last;
        step(c, now, &done, launched);
    }
}

int main(int argc, char **argv)
{
    long n = argc > 1 ? strtol(argv[1], NULL, 10) : 100000, launched = 0;
    struct chr_tzdb *db;
    struct chr_core *c;
    chr_tzdb_create(NULL, &db);
    struct chr_core_config cfg = {.tzdb = db, .history_max = 5};
    chr_core_create(&cfg, &c);
    int64_t now = 1893456000000LL - 3600 * 1000; /* 2029-12-31T23:00Z */
    struct chr_event done = {.type = CHR_EV_LOAD_DONE};
    step(c, now, &done, &launched);
    size_t h0 = heap_bytes();
    long r0 = rss_kib();
    double t0 = secs();
    for (long i = 0; i < n; i++) {
        struct chr_event ev = {.type = CHR_EV_PUT_JOB, .request_id = (uint64_t)i + 1};
        ev.u.job.job = mkjob(i);
        step(c, now, &ev, &launched);
    }
    double t1 = secs();
    size_t h1 = heap_bytes();
    long r1 = rss_kib();
    printf("jobs: %ld, put+durable: %.2f us/job\n", n, (t1 - t0) * 1e6 / (double)n);
    printf("idle job, never run: heap %.0f B/job, RSS %.0f B/job\n",
           (double)(h1 - h0) / (double)n, (double)(r1 - r0) * 1024 / (double)n);
    /* One hour: every job due once; offers big enough for everything. */
    double t2 = secs();
    uint64_t offer_id = 1;
    for (int64_t t = now + 3600 * 1000; t <= now + 2 * 3600 * 1000; t += 1000) {
        struct chr_event ti = {.type = CHR_EV_TIME};
        step(c, t, &ti, &launched);
        struct chr_event of = {.type = CHR_EV_OFFER};
        of.u.offer.id = offer_id++;
        of.u.offer.cpus = 1000, of.u.offer.mem_mb = 1e7, of.u.offer.disk_mb = 1e8;
        step(c, t, &of, &launched);
    }
    double t3 = secs();
    size_t h2 = heap_bytes();
    long r2 = rss_kib();
    printf("one hour: %ld runs launched and finished, %.2f us/run (due, persist, launch, "
           "finish)\n",
           launched, (t3 - t2) * 1e6 / (double)(launched > 0 ? launched : 1));
    printf("idle job with history: heap %.0f B/job, RSS %.0f B/job\n",
           (double)(h2 - h0) / (double)n, (double)(r2 - r0) * 1024 / (double)n);
    chr_core_destroy(c);
    chr_tzdb_destroy(db);
    return 0;
}
