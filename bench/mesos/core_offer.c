/*
 * core_offer.c - what one offer costs the scheduling core, with 1,000,
 * 10,000 and 100,000 jobs loaded (most never due).  Prints figures; never
 * passes or fails.  An offer step must not scan every job: the figures
 * should stay flat as the job count grows.
 *
 * For each job count N: a fresh core, N jobs PUT (daily, first instant in
 * 2099: never due here) and their batches completed, then three timed
 * series of CHR_EV_OFFER steps (only the chr_core_step call of the offer is
 * timed; the store completions and task updates around it are not):
 *   idle     no run waits: the offer is declined
 *   launch   4 manual runs queued (durable) before each offer: the offer
 *            launches them (then they are finished, untimed)
 *   waiting  4 runs queued that fit no offer (cpus 8 > the offer's 4): each
 *            offer is matched against them and declined
 * Each step's time is taken with chr_clock_mono_ns (common/clock.h); the
 * clock's own cost (~20 ns) is in the figures.
 *
 *   cc -O2 -I. bench/mesos/core_offer.c build/rel/libchr.a -ljansson -lpthread -lm
 *   ./a.out [STEPS]     (default 20000 offer steps per series)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/alloc.h"
#include "common/clock.h"
#include "scheduler/core.h"

#define LAUNCH_IDS_MAX 64
#define PER_OFFER 4
#define SERIES_MAX 200000

struct bench {
    struct chr_core *c;
    int64_t now;
    uint64_t offer_id, req_id;
    char ids[LAUNCH_IDS_MAX][CHR_RUN_ID_MAX]; /* launches of the last step */
    size_t n_ids;
    long launched, declined, waiting; /* declines and WAITING actions seen */
    long refused;                      /* requests answered with an error */
};

static char *dup(const char *s)
{
    return chr_strndup(s, strlen(s));
}

static struct chr_job mkjob(long i, double cpus)
{
    char name[32];
    struct chr_job j;
    memset(&j, 0, sizeof j);
    snprintf(name, sizeof name, "job-%06ld", i);
    j.name = dup(name);
    j.command = dup("true");
    j.shell = true;
    j.schedule = dup("R/2099-01-01T00:00:00.000Z/P1D");
    j.owner = dup("ops@example.com");
    j.owner_name = dup("");
    j.description = dup("");
    j.run_as_user = dup("root");
    j.executor = dup("");
    j.executor_flags = dup("");
    j.task_info_data = dup("");
    j.epsilon = dup("PT60S");
    j.starting_deadline_ms = -1;
    j.cpus = cpus;
    j.mem_mb = 16;
    j.disk_mb = 16;
    return j;
}

/* One step; keeps the launches' ids (copied: the actions die at the next
 * step) and returns the last persist batch id (0: none). */
static uint64_t step(struct bench *b, struct chr_event *ev)
{
    struct chr_actions a;
    chr_core_step(b->c, b->now, ev, &a);
    uint64_t last = 0;
    b->n_ids = 0;
    for (size_t i = 0; i < a.n; i++) {
        if (a.v[i].type == CHR_ACT_PERSIST)
            last = a.v[i].u.persist.batch_id;
        b->declined += a.v[i].type == CHR_ACT_DECLINE;
        b->waiting += a.v[i].type == CHR_ACT_WAITING;
        b->refused += a.v[i].type == CHR_ACT_REPLY && a.v[i].u.reply.result != CHR_OK;
        if (a.v[i].type == CHR_ACT_LAUNCH && b->n_ids < LAUNCH_IDS_MAX)
            snprintf(b->ids[b->n_ids++], CHR_RUN_ID_MAX, "%s", a.v[i].u.launch.run->id);
    }
    return last;
}

/* Steps ev, then completes every batch and finishes every launch that
 * follows from it, until the core is quiet. */
static void settle(struct bench *b, struct chr_event *ev)
{
    uint64_t batch = step(b, ev);
    for (int guard = 0; guard < 1000; guard++) {
        char ids[LAUNCH_IDS_MAX][CHR_RUN_ID_MAX];
        size_t n = b->n_ids;
        memcpy(ids, b->ids, n * sizeof ids[0]);
        b->launched += (long)n;
        for (size_t i = 0; i < n; i++) {
            struct chr_event st = {.type = CHR_EV_TASK_STATUS};
            st.u.status.run_id = ids[i];
            st.u.status.state = CHR_RUN_FINISHED;
            uint64_t x = step(b, &st);
            batch = x != 0 ? x : batch;
        }
        if (batch == 0 && b->n_ids == 0)
            return;
        if (batch != 0) {
            struct chr_event done = {.type = CHR_EV_STORE_DONE};
            done.u.store.batch_id = batch;
            batch = step(b, &done);
        }
    }
}

static void run_job(struct bench *b, long i)
{
    char name[32];
    snprintf(name, sizeof name, "job-%06ld", i);
    struct chr_event ev = {.type = CHR_EV_RUN_JOB, .request_id = ++b->req_id};
    ev.u.named.name = name;
    settle(b, &ev);
}

/* One offer (4 cpus, 4096 MB, 10000 MB), timed; returns its nanoseconds. */
static int64_t offer(struct bench *b)
{
    struct chr_event of = {.type = CHR_EV_OFFER};
    of.u.offer.id = ++b->offer_id;
    snprintf(of.u.offer.agent, sizeof of.u.offer.agent, "agent-%llu",
             (unsigned long long)(b->offer_id % 100));
    of.u.offer.cpus = 4, of.u.offer.mem_mb = 4096, of.u.offer.disk_mb = 10000;
    of.u.offer.containers = true;
    int64_t t0 = chr_clock_mono_ns();
    uint64_t batch = step(b, &of);
    int64_t t1 = chr_clock_mono_ns();
    if (batch != 0 || b->n_ids != 0) { /* the launches' batch, their ends: untimed */
        struct chr_event done = {.type = CHR_EV_STORE_DONE};
        done.u.store.batch_id = batch;
        char ids[LAUNCH_IDS_MAX][CHR_RUN_ID_MAX];
        size_t n = b->n_ids;
        memcpy(ids, b->ids, n * sizeof ids[0]);
        b->launched += (long)n;
        if (batch != 0)
            settle(b, &done);
        for (size_t i = 0; i < n; i++) {
            struct chr_event st = {.type = CHR_EV_TASK_STATUS};
            st.u.status.run_id = ids[i];
            st.u.status.state = CHR_RUN_FINISHED;
            settle(b, &st);
        }
    }
    return t1 - t0;
}

static int cmp64(const void *x, const void *y)
{
    int64_t a = *(const int64_t *)x, c = *(const int64_t *)y;
    return a < c ? -1 : a > c;
}

static void report(long n_jobs, const char *what, int64_t *v, long n, long launched,
                   long declined)
{
    qsort(v, (size_t)n, sizeof *v, cmp64);
    double sum = 0;
    for (long i = 0; i < n; i++)
        sum += (double)v[i];
    printf("  %7ld jobs  %-8s  %6ld offers: ns/offer step  p50 %7lld  p99 %7lld  mean %8.0f"
           "  (launched %ld, declined %ld)\n",
           n_jobs, what, n, (long long)v[n / 2], (long long)v[n * 99 / 100], sum / (double)n,
           launched, declined);
}

static void series(long n_jobs, long steps, int64_t *v)
{
    struct chr_tzdb *db;
    struct bench b = {.now = 1893456000000LL}; /* 2030-01-01T00:00Z */
    chr_tzdb_create(NULL, &db);
    struct chr_core_config cfg = {.tzdb = db, .default_cpus = 0.1, .default_mem_mb = 128,
                                  .default_disk_mb = 256, .default_retry_delay_ms = 60000,
                                  .offer_refuse_ms = 5000, .history_max = 5,
                                  .launch_lead_ms = 200};
    chr_core_create(&cfg, &b.c);
    struct chr_event done = {.type = CHR_EV_LOAD_DONE};
    settle(&b, &done);
    for (long i = 0; i < n_jobs; i++) {
        struct chr_event ev = {.type = CHR_EV_PUT_JOB, .request_id = ++b.req_id};
        /* The last PER_OFFER jobs need more cpus than any offer has. */
        ev.u.job.job = mkjob(i, i >= n_jobs - PER_OFFER ? 8 : 0.01);
        settle(&b, &ev);
    }
    /* idle: nothing waits; a warm-up first. */
    for (long i = 0; i < steps / 10; i++, b.now++)
        (void)offer(&b);
    long l0 = b.launched, d0 = b.declined;
    for (long i = 0; i < steps; i++, b.now++)
        v[i] = offer(&b);
    report(n_jobs, "idle", v, steps, b.launched - l0, b.declined - d0);
    l0 = b.launched, d0 = b.declined;
    long rot = n_jobs - PER_OFFER < 1000 ? n_jobs - PER_OFFER : 1000;
    for (long i = 0; i < steps; i++, b.now++) {
        for (long k = 0; k < PER_OFFER; k++)
            run_job(&b, (i * PER_OFFER + k) % rot);
        v[i] = offer(&b);
    }
    report(n_jobs, "launch", v, steps, b.launched - l0, b.declined - d0);
    for (long k = n_jobs - PER_OFFER; k < n_jobs; k++)
        run_job(&b, k);
    l0 = b.launched, d0 = b.declined;
    long w0 = b.waiting;
    for (long i = 0; i < steps; i++, b.now++)
        v[i] = offer(&b);
    report(n_jobs, "waiting", v, steps, b.launched - l0, b.declined - d0);
    printf("  %7ld jobs  (%ld requests refused, %ld runs launched in all, %ld WAITING actions "
           "in the waiting series)\n", n_jobs, b.refused, b.launched, b.waiting - w0);
    chr_core_destroy(b.c);
    chr_tzdb_destroy(db);
}

int main(int argc, char **argv)
{
    long steps = argc > 1 ? strtol(argv[1], NULL, 10) : 20000;
    if (steps < 100 || steps > SERIES_MAX) {
        fprintf(stderr, "usage: %s [STEPS 100..%d]\n", argv[0], SERIES_MAX);
        return 2;
    }
    int64_t *v = chr_malloc((size_t)steps * sizeof *v);
    if (v == NULL)
        return 1;
    printf("one CHR_EV_OFFER step of the core (offer 4 cpus / 4096 MB; jobs daily from 2099, "
           "never due; %d runs per offer)\n", PER_OFFER);
    const long sizes[] = {1000, 10000, 100000};
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++)
        series(sizes[i], steps, v);
    chr_free(v);
    return 0;
}
