/*
 * sim_core.c - deterministic simulation of the scheduling core
 * (scheduler/core.h) over years of virtual time, with faults.
 *
 * The real core is driven by a fake clock, a fake store (each persist batch
 * completes after a random delay, in order, and may fail), a fake resource
 * manager (agents whose free resources are offered, offers rescinded, tasks
 * that run, finish, fail or get lost, status updates delayed, every run id
 * ever started remembered) and random requests (create, replace, delete, run
 * now, kill, mark success) on jobs with ISO 8601 and cron schedules in UTC
 * and DST zones, dependents, retries, deadlines, finite repeats, disabled
 * jobs.  Crashes (random, and after every store failure) destroy the core
 * and rebuild it from the store's durable content only.  Each seed runs the
 * core with a launch lead of 0, 50, 200 or 1000 ms (seed % 4).
 *
 * Invariants, checked as things happen (see check_* below):
 *  1. every instant of every scheduled job's schedule epoch ends as exactly
 *     one scheduled run or exactly one ledgered instant, in order, with none
 *     skipped: an oracle per job walks the schedule independently
 *     (chr_schedule_next from the epoch's start) over the durable batches;
 *     at the end every instant up to the end is handled and every run
 *     recorded long enough ago was launched;
 *  2. no task starts before its due_ms (nor a retry before its delay
 *     passed), no run is launched earlier than the launch lead before
 *     that, nor before its record is durable; the fake resource manager
 *     starts a task at max(launch, the LAUNCH's not_before_ms), as the
 *     real ones do;
 *  3. no dependent run made unless every parent succeeded since the child
 *     last started;
 *  4. nothing acknowledged lost: after a restart every job whose PUT was
 *     answered OK exists with that definition, every acknowledged delete
 *     holds;
 *  5. no run id started twice by the resource manager;
 *  6. the core's counts stay bounded (runs, offers, replies, ledger and
 *     history per job);
 *  7. liveness: no head-of-line blocking.  A first attempt that is ready
 *     (queued, due, its job free to start) while some agent that admits it
 *     (invariant 8) could give it what it needs — the agent's outstanding
 *     offer fits it, or, with none outstanding, its free resources do — for
 *     LIVENESS_BOUND_MS without a break is a failure, however many runs
 *     ahead of it fit nothing, need an agent that is busy, or have
 *     constraints no agent meets; and an acknowledged delete of a job
 *     leaves none of its runs waiting;
 *  8. every launch is on an offer of an agent that admits its job: every
 *     constraint holds for the agent's attributes and hostname, and a job
 *     with a container is on an agent whose manager runs containers.  The
 *     simulator knows which agents each constraint of its menu admits from
 *     its own table (cmenu), not from the core;
 *  9. a WAITING notice (notify_waiting_ms: off, 30 s or 10 min, seed / 2 % 3) is
 *     durable at most once per run, in the batch that records that run as
 *     told (wait_notified), after the run waited at least the bound, and
 *     never for a run the resource manager has started.
 * A faults-on phase is followed by a faults-off phase that must converge.
 *
 * Agents carry attributes (rack, cores, zones, ports: TEXT, SCALAR, SET and
 * RANGES as the Mesos adapter renders them) and a hostname; the third one's
 * manager runs no containers.  The local manager's host has no attributes
 * and runs no containers.  One job in eight gets one or two constraints from
 * a menu (some no agent meets, more only one agent meets), one in twenty a
 * container.
 *
 * Resource managers, by seed: three agents of different sizes offering
 * Mesos-style (a decline filters the agent for refuse_ms; REVIVE clears
 * filters; other frameworks take and give back part of an agent at
 * times), or, one seed in four, the local manager's single host (a
 * declined offer comes back only after a REVIVE or a task's end, so a
 * missed REVIVE is a stall, not a delay).  Jobs need the default, up to
 * two cpus, up to seven (only the biggest agent fits them), or sixteen
 * (nothing fits them: refused at PUT by the local manager's limits, kept
 * waiting by Mesos).
 *
 * Usage: sim_core [--seed N | --seeds N] [--days D] [-v]
 * Prints the seed first, and on failure the line that reproduces it; the
 * last line is "N passed, N failed" (N counts seeds).
 */
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/alloc.h"
#include "common/limits.h"
#include "common/strmap.h"
#include "iso8601/iso8601.h"
#include "scheduler/core.h"

#define N_NAMES 24
#define N_AGENTS 3
#define HISTORY_MAX 5
#define RESTART_MIN_MS (10 * 1000)
#define END_MARGIN_MS (12 * CHR_MS_PER_HOUR)
/* Invariant 7's bound on a ready run's wait while an agent has room for it:
 * a decline's filter (refuse_ms, 5 s) plus an offer's way back (check
 * 0-2 s, delivery 0-0.5 s), with room to spare; the longest wait seen is
 * printed per seed. */
#define LIVENESS_BOUND_MS (30 * 1000)

/* ---- Agents' attributes and the constraints jobs choose from ------------------ */

static const char *const agent_hosts[N_AGENTS] = {"agent-0.sim", "agent-1.sim", "agent-2.sim"};
#define N_AGENT_ATTRS 4
static const struct chr_offer_attr agent_attrs[N_AGENTS][N_AGENT_ATTRS] = {
    {{"rack", "r1"}, {"cores", "8"}, {"zones", "{a,b}"}, {"ports", "[31000-32000]"}},
    {{"rack", "r2"}, {"cores", "4"}, {"zones", "{b}"}, {"ports", "[31000-32000]"}},
    {{"rack", "r2"}, {"cores", "2"}, {"zones", "{c}"}, {"ports", "[31000-32000]"}},
};
/* Mesos seeds: whose manager runs containers (bit a: agent a). */
#define MESOS_CONTAINERS 3u
#define LOCAL_HOST "localhost"

/* The menu of constraints, with the agents each admits (bit a: agent a)
 * among Mesos agents and on the local host (agent 0): worked out by hand
 * from the tables above and Chronos's rules (constraint.h). */
static const struct {
    const char *attr;
    enum chr_constraint_op op;
    const char *value;
    unsigned mesos, local;
} cmenu[] = {
    {"rack", CHR_CONSTRAINT_EQUALS, "r1", 1, 0},
    {"rack", CHR_CONSTRAINT_LIKE, "r[12]", 7, 0},
    {"rack", CHR_CONSTRAINT_UNLIKE, "r1", 6, 0},     /* absent on the local host: false */
    {"zones", CHR_CONSTRAINT_LIKE, "b", 3, 0},       /* a SET: any item */
    {"cores", CHR_CONSTRAINT_LIKE, "[48]\\.0", 3, 0}, /* a SCALAR as Java prints it */
    {"hostname", CHR_CONSTRAINT_EQUALS, "agent-1.sim", 2, 0},
    {"hostname", CHR_CONSTRAINT_LIKE, "local.*", 0, 1},
    {"rack", CHR_CONSTRAINT_EQUALS, "nowhere", 0, 0},
    {"ports", CHR_CONSTRAINT_LIKE, ".*", 0, 0},      /* RANGES: never */
};
#define N_CMENU (sizeof cmenu / sizeof cmenu[0])

/* ---- Random numbers (splitmix64: deterministic per seed) -------------------- */

struct rng {
    uint64_t s;
};

static uint64_t rnd(struct rng *r)
{
    uint64_t z = (r->s += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

/* Uniform in [lo, hi]. */
static int64_t rnd_in(struct rng *r, int64_t lo, int64_t hi)
{
    return lo + (int64_t)(rnd(r) % (uint64_t)(hi - lo + 1));
}

static bool chance(struct rng *r, double p)
{
    return (double)(rnd(r) >> 11) / 9007199254740992.0 < p;
}

/* ---- The simulation's state ------------------------------------------------------ */

struct pitem { /* a persist item, deep-copied when emitted */
    enum chr_persist_op op;
    char name[CHR_JOB_NAME_MAX + 1];
    bool has_job, has_state, has_run;
    struct chr_job job;
    struct chr_job_state st;
    struct chr_run run;
    int64_t at_ms; /* when the core made it */
    /* NOTICE: its kind, run and (WAITING) how long the run waited */
    enum chr_notice_kind kind;
    char notice_run[CHR_RUN_ID_MAX];
    int64_t waited_ms;
};

struct pbatch {
    uint64_t id;
    int64_t done_at;
    struct pitem *items;
    size_t n;
};

struct djob { /* the store's durable content */
    bool present;
    struct chr_job def;
    struct chr_job_state st;
};

struct drun {
    struct chr_run run;
};

/* The oracle's view of one job name. */
struct ojob {
    /* Durable (from completed batches). */
    bool exists;
    bool has_epoch;
    char *epoch_sched, *epoch_tz;
    struct chr_schedule sched;
    int64_t frontier;            /* the next instant that must be handled */
    struct chr_ledger_entry ledger[CHR_LEDGER_MAX];
    uint32_t ledger_len;
    /* The core's current definition (from emitted JOB items). */
    char *parents[CHR_JOB_PARENTS_MAX];
    uint32_t n_parents;
    bool soft_error;
    bool core_present;
    bool concurrent;
    int64_t nonconc_since;       /* when it last became non-concurrent */
    int64_t deadline_ms;
    int64_t retry_base_ms;
    /* Events at the resource manager / core. */
    int64_t last_success_ms, last_start_ms;
    /* Acknowledged requests. */
    int acked;                   /* 0 none, 1 put, 2 delete */
    struct chr_job acked_def;
    bool uncertain;              /* a request on it was in flight at a crash */
};

struct agent {
    double cpus, mem, disk;          /* free: neither offered, used nor taken */
    double cap_cpus, cap_mem, cap_disk; /* its size */
    double ext_cpus, ext_mem;        /* taken by other frameworks (Mesos) */
    /* Mesos: a decline filters what was declined until filtered_until; free
     * resources that are not within it (more came back) are offered anyway. */
    int64_t filtered_until;
    double f_cpus, f_mem, f_disk;
    bool held;                       /* local manager: declined until REVIVE or a task end */
    bool offered;
    bool check_pending;
    int64_t check_at;                /* the earliest check pending */
};

/* Invariant 7: since when a ready run has had room somewhere. */
struct waiter {
    char id[CHR_RUN_ID_MAX];
    int64_t since;
};

struct offer_rec {
    uint64_t id;
    int agent;
    double cpus, mem, disk;
    bool valid, used;
};

enum tstate { T_RUNNING = 1, T_ENDED };

struct task {
    char *id;
    int job;
    int agent;
    double cpus, mem, disk;
    enum tstate state;
    enum chr_run_state outcome;
    int32_t exit_code;
    bool reported_running;
    bool ended_unstarted;        /* killed before its start: never ran */
    int64_t start_at;            /* max(launch, not_before_ms): when it starts */
    int64_t last_msg_at;
    int64_t fail_seen_at;        /* first delivery of its failure to the core */
    int64_t retry_base_ms;       /* the job's retry delay then */
};

enum sev_type {
    SEV_MSG = 1, SEV_TASK_END, SEV_OFFER_CHECK, SEV_REQUEST, SEV_CRASH, SEV_RESTART, SEV_RESIZE
};

struct sev {
    int64_t at;
    uint64_t seq;
    enum sev_type type;
    uint32_t inc;                /* core incarnation (messages) */
    int a;                       /* agent or task index */
    struct chr_event ev;         /* SEV_MSG */
    char *run_id;                /* SEV_MSG status: owned */
    char *reason;
};

struct inflight {
    uint64_t id;
    enum chr_event_type type;
    int job;
    struct chr_job def;          /* PUT */
};

struct sim {
    uint64_t seed;
    struct rng rng;
    bool verbose, faults, failed;
    char fail_msg[512];
    int64_t fail_at;
    int64_t now, end_ms;
    int64_t lead;                /* the core's launch_lead_ms */
    int64_t started_at;          /* the current core's creation */
    int running_by_job[N_NAMES];
    struct chr_tzdb *db;
    struct chr_core_config cfg;
    struct chr_core *core;       /* NULL while down */
    uint32_t inc;
    bool crash_armed;            /* crash right after the next step that persists */
    uint64_t req_seq, offer_seq, ev_seq;
    size_t time_steps_same_now;
    /* store */
    struct djob djobs[N_NAMES];
    struct drun *druns;
    size_t n_druns, cap_druns;
    char (*told)[CHR_RUN_ID_MAX]; /* runs whose WAITING notice is durable (invariant 9) */
    size_t n_told, cap_told;
    struct pbatch *pending;
    size_t n_pending, cap_pending;
    int64_t last_done_at;
    /* oracle and model */
    struct ojob oj[N_NAMES];
    struct inflight *infl;
    size_t n_infl, cap_infl;
    /* resource manager */
    struct agent agents[N_AGENTS];
    struct offer_rec *offers;
    size_t n_offers, cap_offers;
    bool suppressed;
    bool local_rm;               /* the local manager's one host (see the top) */
    struct waiter *waits;        /* invariant 7 */
    size_t n_waits, cap_waits;
    int64_t max_wait_ms;         /* the longest wait with room seen */
    struct task *tasks;
    size_t n_tasks, cap_tasks;
    int32_t *task_index;         /* open addressing on id -> task */
    size_t cap_index;
    /* events */
    struct sev *pq;
    size_t n_pq, cap_pq;
    /* stats */
    uint64_t n_steps, n_launch, n_crash, n_store_fail, n_ledgered, n_sched_runs, n_requests;
    uint64_t n_enomem;
    uint64_t n_early;            /* launches before the task's start (the lead at work) */
    uint64_t n_resizes, n_waiting_deletes, n_refused_big;
    uint64_t n_constrained, n_containers; /* launches of jobs with constraints, a container */
};

static const char *const zones[] = {NULL, "UTC", "America/New_York", "Europe/London",
                                    "Australia/Lord_Howe"};

static void fail(struct sim *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void fail(struct sim *s, const char *fmt, ...)
{
    if (s->failed)
        return;
    s->failed = true;
    s->fail_at = s->now;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(s->fail_msg, sizeof s->fail_msg, fmt, ap);
    va_end(ap);
}

static void *xcalloc(size_t n, size_t size)
{
    void *p = chr_calloc(n, size);
    if (p == NULL) {
        fprintf(stderr, "sim: out of memory\n");
        exit(2);
    }
    return p;
}

static void grow(void **v, size_t *cap, size_t need, size_t elem)
{
    if (need <= *cap)
        return;
    size_t n = *cap < 16 ? 16 : *cap * 2;
    while (n < need)
        n *= 2;
    void *p = chr_realloc(*v, n * elem);
    if (p == NULL) {
        fprintf(stderr, "sim: out of memory\n");
        exit(2);
    }
    *v = p;
    *cap = n;
}

static char *xdup(const char *s)
{
    if (s == NULL)
        return NULL;
    char *p = chr_strndup(s, strlen(s));
    if (p == NULL) {
        fprintf(stderr, "sim: out of memory\n");
        exit(2);
    }
    return p;
}

static int name_index(const char *name)
{
    if (name == NULL || name[0] != 'j' || name[1] < '0' || name[1] > '9' || name[2] < '0' ||
        name[2] > '9' || name[3] != '\0')
        return -1;
    int i = (name[1] - '0') * 10 + (name[2] - '0');
    return i < N_NAMES ? i : -1;
}

static void job_name(int i, char buf[8])
{
    unsigned v = (unsigned)i % 100u; /* no snprintf: called for every job at every step */
    buf[0] = 'j', buf[1] = (char)('0' + v / 10), buf[2] = (char)('0' + v % 10), buf[3] = '\0';
}

static void run_copy(struct chr_run *dst, const struct chr_run *src)
{
    *dst = *src;
    dst->arguments = xdup(src->arguments);
}

static void job_copy(struct chr_job *dst, const struct chr_job *src)
{
    if (chr_job_copy(dst, src) != CHR_OK) {
        fprintf(stderr, "sim: out of memory\n");
        exit(2);
    }
}

static void state_copy(struct chr_job_state *dst, const struct chr_job_state *src)
{
    if (chr_job_state_copy(dst, src) != CHR_OK) {
        fprintf(stderr, "sim: out of memory\n");
        exit(2);
    }
}

/* ---- Event queue (time, seq) ------------------------------------------------------ */

static bool sev_less(const struct sev *a, const struct sev *b)
{
    return a->at != b->at ? a->at < b->at : a->seq < b->seq;
}

static void pq_push(struct sim *s, struct sev e)
{
    grow((void **)&s->pq, &s->cap_pq, s->n_pq + 1, sizeof *s->pq);
    e.seq = ++s->ev_seq;
    size_t i = s->n_pq++;
    while (i > 0 && sev_less(&e, &s->pq[(i - 1) / 2])) {
        s->pq[i] = s->pq[(i - 1) / 2];
        i = (i - 1) / 2;
    }
    s->pq[i] = e;
}

static struct sev pq_pop(struct sim *s)
{
    struct sev top = s->pq[0], last = s->pq[--s->n_pq];
    size_t i = 0;
    for (;;) {
        size_t l = 2 * i + 1, m = i;
        const struct sev *best = &last;
        if (l < s->n_pq && sev_less(&s->pq[l], best))
            m = l, best = &s->pq[l];
        if (l + 1 < s->n_pq && sev_less(&s->pq[l + 1], best))
            m = l + 1;
        if (m == i)
            break;
        s->pq[i] = s->pq[m];
        i = m;
    }
    if (s->n_pq > 0)
        s->pq[i] = last;
    return top;
}

static void sev_free(struct sev *e)
{
    chr_free(e->run_id);
    chr_free(e->reason);
    e->run_id = e->reason = NULL;
}

/* ---- Oracle of instants (invariant 1) ------------------------------------------- */

static const char *norm_tz(const char *z)
{
    return z == NULL || z[0] == '\0' || strcmp(z, "null") == 0 ? NULL : z;
}

static bool str_eq(const char *a, const char *b)
{
    return a == NULL || b == NULL ? a == b : strcmp(a, b) == 0;
}

static void epoch_clear(struct ojob *o)
{
    chr_free(o->epoch_sched);
    chr_free(o->epoch_tz);
    o->epoch_sched = o->epoch_tz = NULL;
    o->has_epoch = false;
}

static int64_t sched_next(const struct chr_schedule *sc, int64_t after)
{
    int64_t n;
    return chr_schedule_next(sc, after, &n) == CHR_OK ? n : INT64_MAX;
}

/* A new schedule epoch starts where the core promises: the first instant
 * after the definition was applied, minus the start grace of 5 s. */
static void epoch_new(struct sim *s, struct ojob *o, const struct chr_job *def, int64_t at_ms)
{
    epoch_clear(o);
    if (def->schedule == NULL)
        return;
    const struct chr_tz *zone = NULL;
    struct chr_error err;
    const char *z = norm_tz(def->schedule_tz);
    if ((z != NULL && chr_tzdb_get(s->db, z, &zone, &err) != CHR_OK) ||
        chr_schedule_parse(def->schedule, zone, s->db, &o->sched, &err) != CHR_OK) {
        fail(s, "(1) job '%s' stored with a schedule that does not parse: %s", def->name,
             err.message);
        return;
    }
    o->has_epoch = true;
    o->epoch_sched = xdup(def->schedule);
    o->epoch_tz = xdup(z);
    o->frontier = sched_next(&o->sched, at_ms - 5000);
}

static bool epoch_same(const struct ojob *o, const struct chr_job *def)
{
    if (!o->has_epoch)
        return def->schedule == NULL;
    return str_eq(o->epoch_sched, def->schedule) && str_eq(o->epoch_tz, norm_tz(def->schedule_tz));
}

enum oev_kind { OEV_RANGE, OEV_EXTEND, OEV_RUN };

struct oev {
    int job;
    enum oev_kind kind;
    int64_t key, first, last, count;
    size_t order;
};

struct oevs {
    struct oev *v;
    size_t n, cap;
};

static void oev_add(struct oevs *e, struct oev x)
{
    grow((void **)&e->v, &e->cap, e->n + 1, sizeof *e->v);
    x.order = e->n;
    e->v[e->n++] = x;
}

static bool entry_eq(const struct chr_ledger_entry *a, const struct chr_ledger_entry *b)
{
    return a->first_ms == b->first_ms && a->last_ms == b->last_ms && a->count == b->count &&
           a->reason == b->reason;
}

/* Where the previous tail sits in the new ledger (entries only get appended,
 * the tail extended, and the oldest dropped when full); -1 if nowhere. */
static long ledger_align(const struct ojob *o, const struct chr_job_state *st)
{
    const struct chr_ledger_entry *pt = &o->ledger[o->ledger_len - 1];
    for (long d = 0; d <= 8 && d < (long)o->ledger_len; d++) {
        long idx = (long)o->ledger_len - 1 - d;
        if (idx >= (long)st->ledger_len)
            continue;
        bool ok = st->ledger[idx].first_ms == pt->first_ms && st->ledger[idx].reason == pt->reason;
        for (long i = 0; ok && i < idx; i++)
            ok = entry_eq(&st->ledger[i], &o->ledger[d + i]);
        if (ok)
            return idx;
    }
    return -1;
}

/* What a stored ledger added since the previous one, as oracle events. */
static void ledger_diff(struct sim *s, int ji, const struct chr_job_state *st, struct oevs *ev)
{
    struct ojob *o = &s->oj[ji];
    size_t k = 0;
    if (o->ledger_len > 0) {
        long idx = ledger_align(o, st);
        if (idx < 0) {
            fail(s, "(1) j%02d: the stored ledger lost its entries", ji);
            return;
        }
        const struct chr_ledger_entry *pt = &o->ledger[o->ledger_len - 1], *ce = &st->ledger[idx];
        if (ce->count < pt->count || ce->last_ms < pt->last_ms)
            fail(s, "(1) j%02d: a ledger entry shrank", ji);
        else if (ce->count > pt->count)
            oev_add(ev, (struct oev){ji, OEV_EXTEND, pt->last_ms + 1, pt->last_ms, ce->last_ms,
                                     ce->count - pt->count, 0});
        k = (size_t)idx + 1;
    }
    for (size_t i = k; i < st->ledger_len; i++)
        oev_add(ev, (struct oev){ji, OEV_RANGE, st->ledger[i].first_ms, st->ledger[i].first_ms,
                                 st->ledger[i].last_ms, st->ledger[i].count, 0});
    o->ledger_len = st->ledger_len;
    if (st->ledger_len > 0)
        memcpy(o->ledger, st->ledger, st->ledger_len * sizeof *st->ledger);
}

static void fmt_ms(int64_t ms, char buf[CHR_INSTANT_TEXT_MAX])
{
    if (ms == INT64_MAX)
        snprintf(buf, CHR_INSTANT_TEXT_MAX, "never");
    else
        chr_instant_format(ms, buf);
}

/* Checks one event against the job's frontier and moves the frontier. */
static void oracle_apply(struct sim *s, const struct oev *e)
{
    struct ojob *o = &s->oj[e->job];
    char a[CHR_INSTANT_TEXT_MAX], b[CHR_INSTANT_TEXT_MAX];
    if (!o->has_epoch) {
        fail(s, "(1) j%02d: an instant was handled while it has no schedule", e->job);
        return;
    }
    int64_t t = o->frontier;
    if (e->kind != OEV_EXTEND && e->first != t) {
        fmt_ms(e->first, a);
        fmt_ms(t, b);
        fail(s, "(1) j%02d: %s handles %s but the next unhandled instant is %s", e->job,
             e->kind == OEV_RUN ? "a scheduled run" : "a ledger entry", a, b);
        return;
    }
    int64_t n = e->kind == OEV_RUN ? 1 : e->count;
    for (int64_t i = 1; i < n && t != INT64_MAX; i++)
        t = sched_next(&o->sched, t);
    if (e->kind != OEV_RUN && t != e->last) {
        fmt_ms(t, a);
        fmt_ms(e->last, b);
        fail(s, "(1) j%02d: a ledger range of %lld instants ends at %s, not %s", e->job,
             (long long)n, b, a);
        return;
    }
    if (e->kind == OEV_RUN)
        s->n_sched_runs++;
    else
        s->n_ledgered += (uint64_t)n;
    o->frontier = sched_next(&o->sched, t);
}

static int oev_cmp(const void *x, const void *y)
{
    const struct oev *a = x, *b = y;
    if (a->job != b->job)
        return a->job < b->job ? -1 : 1;
    if (a->key != b->key)
        return a->key < b->key ? -1 : 1;
    return a->order < b->order ? -1 : (a->order > b->order);
}

/* ---- The store ------------------------------------------------------------------- */

static struct drun *drun_find(struct sim *s, const char *id)
{
    for (size_t i = 0; i < s->n_druns; i++)
        if (strcmp(s->druns[i].run.id, id) == 0)
            return &s->druns[i];
    return NULL;
}

static void drun_remove(struct sim *s, struct drun *d)
{
    chr_free(d->run.arguments);
    *d = s->druns[--s->n_druns];
}

static void check_state_bounds(struct sim *s, int ji, const struct chr_job_state *st)
{
    if (st->ledger_len > CHR_LEDGER_MAX || st->history_len > HISTORY_MAX)
        fail(s, "(6) j%02d: ledger %u or history %u over its bound", ji, st->ledger_len,
             st->history_len);
}

static void apply_job_item(struct sim *s, struct pitem *it, int ji, struct oevs *ev)
{
    struct djob *d = &s->djobs[ji];
    struct ojob *o = &s->oj[ji];
    if (!o->exists || !epoch_same(o, &it->job)) {
        epoch_new(s, o, &it->job, it->at_ms);
        o->ledger_len = it->st.ledger_len;
        if (o->ledger_len > 0)
            memcpy(o->ledger, it->st.ledger, it->st.ledger_len * sizeof *o->ledger);
    } else {
        ledger_diff(s, ji, &it->st, ev);
    }
    o->exists = true;
    chr_job_free(&d->def);
    chr_job_state_free(&d->st);
    d->def = it->job;
    d->st = it->st;
    it->has_job = it->has_state = false;
    d->present = true;
    check_state_bounds(s, ji, &d->st);
}

static void apply_delete_item(struct sim *s, int ji)
{
    struct djob *d = &s->djobs[ji];
    char name[8];
    job_name(ji, name);
    for (size_t i = 0; i < s->n_druns; i++)
        if (strcmp(s->druns[i].run.job, name) == 0)
            fail(s, "(1) deleting j%02d left its run '%s' stored", ji, s->druns[i].run.id);
    chr_job_free(&d->def);
    chr_job_state_free(&d->st);
    d->present = false;
    s->oj[ji].exists = false;
    s->oj[ji].ledger_len = 0;
    epoch_clear(&s->oj[ji]);
}

static void apply_run_item(struct sim *s, struct pitem *it, int ji, struct oevs *ev)
{
    struct drun *d = drun_find(s, it->run.id);
    if (d != NULL) {
        chr_free(d->run.arguments);
    } else {
        grow((void **)&s->druns, &s->cap_druns, s->n_druns + 1, sizeof *s->druns);
        d = &s->druns[s->n_druns++];
    }
    d->run = it->run;
    it->has_run = false;
    if (d->run.state == CHR_RUN_RECORDING && d->run.cause == CHR_CAUSE_SCHEDULED &&
        d->run.attempt == 0)
        oev_add(ev, (struct oev){ji, OEV_RUN, d->run.due_ms, d->run.due_ms, d->run.due_ms, 1, 0});
}

/* Invariant 9: a durable WAITING notice, once per run, with the run told
 * in its batch (applied before it), after the bound, for a run never
 * started. */
static void check_waiting_notice(struct sim *s, const struct pitem *it)
{
    const struct drun *d = drun_find(s, it->notice_run);
    if (d == NULL || !d->run.wait_notified)
        fail(s, "(9) WAITING notice for run '%s' without the run recorded as told",
             it->notice_run);
    if (s->cfg.notify_waiting_ms <= 0 || it->waited_ms < s->cfg.notify_waiting_ms)
        fail(s, "(9) WAITING notice for run '%s' after %lld ms (bound %lld)", it->notice_run,
             (long long)it->waited_ms, (long long)s->cfg.notify_waiting_ms);
    if (d != NULL && d->run.state != CHR_RUN_QUEUED)
        fail(s, "(9) WAITING notice for run '%s' in state %d", it->notice_run, (int)d->run.state);
    for (size_t i = 0; i < s->n_told; i++)
        if (strcmp(s->told[i], it->notice_run) == 0)
            fail(s, "(9) a second WAITING notice for run '%s'", it->notice_run);
    grow((void **)&s->told, &s->cap_told, s->n_told + 1, sizeof *s->told);
    snprintf(s->told[s->n_told++], CHR_RUN_ID_MAX, "%s", it->notice_run);
}

static void apply_item(struct sim *s, struct pitem *it, struct oevs *ev)
{
    int ji = name_index(it->name);
    if (ji < 0) {
        fail(s, "store: item for unknown job '%s'", it->name);
        return;
    }
    struct drun *d;
    switch (it->op) {
    case CHR_PERSIST_JOB:
        apply_job_item(s, it, ji, ev);
        break;
    case CHR_PERSIST_STATE:
        if (!s->djobs[ji].present) {
            fail(s, "store: state of j%02d, which is not stored", ji);
            return;
        }
        ledger_diff(s, ji, &it->st, ev);
        chr_job_state_free(&s->djobs[ji].st);
        s->djobs[ji].st = it->st;
        it->has_state = false;
        check_state_bounds(s, ji, &s->djobs[ji].st);
        break;
    case CHR_PERSIST_RUN:
        apply_run_item(s, it, ji, ev);
        break;
    case CHR_PERSIST_RUN_DONE:
        if ((d = drun_find(s, it->run.id)) != NULL)
            drun_remove(s, d);
        break;
    case CHR_PERSIST_DELETE_JOB:
        apply_delete_item(s, ji);
        break;
    case CHR_PERSIST_NOTICE: /* the server's outbox: nothing of the job's */
        if (it->kind == CHR_NOTICE_WAITING)
            check_waiting_notice(s, it);
        break;
    }
}

static void pbatch_free(struct pbatch *b)
{
    for (size_t i = 0; i < b->n; i++) {
        struct pitem *it = &b->items[i];
        if (it->has_job)
            chr_job_free(&it->job);
        if (it->has_state)
            chr_job_state_free(&it->st);
        if (it->has_run)
            chr_free(it->run.arguments);
    }
    chr_free(b->items);
    b->items = NULL;
    b->n = 0;
}

/* A batch becomes durable: the store takes it, the oracle checks it. */
static void store_apply(struct sim *s, struct pbatch *b)
{
    struct oevs ev = {0};
    for (size_t i = 0; i < b->n && !s->failed; i++)
        apply_item(s, &b->items[i], &ev);
    if (ev.n > 1)
        qsort(ev.v, ev.n, sizeof *ev.v, oev_cmp);
    for (size_t i = 0; i < ev.n && !s->failed; i++)
        oracle_apply(s, &ev.v[i]);
    chr_free(ev.v);
    pbatch_free(b);
}

static void pending_pop(struct sim *s)
{
    memmove(s->pending, s->pending + 1, (s->n_pending - 1) * sizeof *s->pending);
    s->n_pending--;
}

/* ---- The resource manager ----------------------------------------------------------- */

/* The task index's hash: common's (nothing iterates the index, so the
 * simulation does not depend on it). */
static uint64_t id_hash(const char *id)
{
    return chr_str_hash(id, strlen(id));
}

static struct task *task_find(struct sim *s, const char *id)
{
    if (s->cap_index == 0)
        return NULL;
    for (size_t i = id_hash(id) & (s->cap_index - 1);; i = (i + 1) & (s->cap_index - 1)) {
        int32_t k = s->task_index[i];
        if (k < 0)
            return NULL;
        if (strcmp(s->tasks[k].id, id) == 0)
            return &s->tasks[k];
    }
}

static void index_put(int32_t *idx, size_t cap, const char *id, int32_t k)
{
    size_t i = id_hash(id) & (cap - 1);
    while (idx[i] >= 0)
        i = (i + 1) & (cap - 1);
    idx[i] = k;
}

static struct task *task_add(struct sim *s, const char *id)
{
    if ((s->n_tasks + 1) * 2 > s->cap_index) {
        size_t cap = s->cap_index < 1024 ? 1024 : s->cap_index * 2;
        int32_t *idx = xcalloc(cap, sizeof *idx);
        for (size_t i = 0; i < cap; i++)
            idx[i] = -1;
        for (size_t k = 0; k < s->n_tasks; k++)
            index_put(idx, cap, s->tasks[k].id, (int32_t)k);
        chr_free(s->task_index);
        s->task_index = idx;
        s->cap_index = cap;
    }
    grow((void **)&s->tasks, &s->cap_tasks, s->n_tasks + 1, sizeof *s->tasks);
    struct task *t = &s->tasks[s->n_tasks];
    memset(t, 0, sizeof *t);
    t->id = xdup(id);
    index_put(s->task_index, s->cap_index, id, (int32_t)s->n_tasks);
    s->n_tasks++;
    return t;
}

static int64_t msg_delay(struct sim *s)
{
    if (s->faults && chance(&s->rng, 0.02))
        return rnd_in(&s->rng, 10000, 120000);
    return rnd_in(&s->rng, 0, 2000);
}

/* A status update to the core, after a delay, in order per task. */
static void send_status_offer(struct sim *s, const char *id, struct task *t,
                              enum chr_run_state st, int32_t code, const char *reason,
                              uint64_t offer_id)
{
    if (s->core == NULL)
        return;
    struct sev e = {.type = SEV_MSG, .inc = s->inc};
    /* A task says it runs only once it started (it may wait for its due_ms). */
    bool early = t != NULL && st == CHR_RUN_RUNNING && t->start_at > s->now;
    e.at = (early ? t->start_at : s->now) + msg_delay(s);
    if (t != NULL) {
        if (e.at < t->last_msg_at)
            e.at = t->last_msg_at;
        t->last_msg_at = e.at;
    }
    e.ev.type = CHR_EV_TASK_STATUS;
    e.ev.u.status.state = st;
    e.ev.u.status.exit_code = code;
    e.ev.u.status.offer_id = offer_id;
    /* Updates are delivered at least once: sometimes twice, the copy late. */
    if (s->faults && chance(&s->rng, 0.02)) {
        struct sev d = e;
        d.at = e.at + rnd_in(&s->rng, 0, 600000);
        d.run_id = xdup(id);
        d.reason = xdup(reason);
        pq_push(s, d);
    }
    e.run_id = xdup(id);
    e.reason = xdup(reason);
    pq_push(s, e);
}

static void send_status(struct sim *s, const char *id, struct task *t, enum chr_run_state st,
                        int32_t code, const char *reason)
{
    send_status_offer(s, id, t, st, code, reason, 0);
}

/* An offer check of agent a at `at`, unless one is due by then (a check
 * that comes later than needed is harmless: rm_offer offers at most once). */
static void offer_check_later(struct sim *s, int a, int64_t at)
{
    struct agent *ag = &s->agents[a];
    if (ag->check_pending && ag->check_at <= at)
        return;
    ag->check_pending = true;
    ag->check_at = at;
    pq_push(s, (struct sev){.at = at, .type = SEV_OFFER_CHECK, .a = a});
}

static void offer_checks_all(struct sim *s)
{
    for (int a = 0; a < N_AGENTS; a++)
        offer_check_later(s, a, s->now + rnd_in(&s->rng, 0, 1000));
}

static struct offer_rec *offer_find(struct sim *s, uint64_t id)
{
    for (size_t i = 0; i < s->n_offers; i++)
        if (s->offers[i].id == id)
            return &s->offers[i];
    return NULL;
}

/* Gives an offer's resources back to its agent and forgets the offer. */
static void offer_close(struct sim *s, struct offer_rec *o)
{
    struct agent *ag = &s->agents[o->agent];
    ag->cpus += o->cpus;
    ag->mem += o->mem;
    ag->disk += o->disk;
    ag->offered = false;
    offer_check_later(s, o->agent, s->now + rnd_in(&s->rng, 100, 2000));
    *o = s->offers[--s->n_offers];
}

static void rm_offer(struct sim *s, int a)
{
    struct agent *ag = &s->agents[a];
    if (s->now >= ag->check_at)
        ag->check_pending = false;
    if (s->core == NULL || s->suppressed || ag->offered || ag->held || ag->cpus < 0.1 - 1e-6 ||
        ag->mem < 32)
        return;
    if (s->now < ag->filtered_until && ag->cpus <= ag->f_cpus + 1e-9 &&
        ag->mem <= ag->f_mem + 1e-9 && ag->disk <= ag->f_disk + 1e-9) {
        offer_check_later(s, a, ag->filtered_until);
        return;
    }
    /* Mesos may offer part of an agent (the rest goes to others first); the
     * local manager always offers all that is free. */
    double frac = s->faults && !s->local_rm && chance(&s->rng, 0.3)
                      ? (double)rnd_in(&s->rng, 20, 100) / 100
                      : 1;
    struct offer_rec o = {.id = ++s->offer_seq, .agent = a, .valid = true};
    o.cpus = ag->cpus * frac, o.mem = ag->mem * frac, o.disk = ag->disk * frac;
    ag->cpus -= o.cpus, ag->mem -= o.mem, ag->disk -= o.disk;
    ag->offered = true;
    grow((void **)&s->offers, &s->cap_offers, s->n_offers + 1, sizeof *s->offers);
    s->offers[s->n_offers++] = o;
    struct sev e = {.type = SEV_MSG, .inc = s->inc, .at = s->now + rnd_in(&s->rng, 0, 500)};
    e.ev.type = CHR_EV_OFFER;
    e.ev.u.offer.id = o.id;
    snprintf(e.ev.u.offer.agent, sizeof e.ev.u.offer.agent, "agent-%d", a);
    e.ev.u.offer.cpus = o.cpus, e.ev.u.offer.mem_mb = o.mem, e.ev.u.offer.disk_mb = o.disk;
    /* Static tables: valid whenever the message is delivered. */
    e.ev.u.offer.hostname = s->local_rm ? LOCAL_HOST : agent_hosts[a];
    e.ev.u.offer.attrs = s->local_rm ? NULL : agent_attrs[a];
    e.ev.u.offer.n_attrs = s->local_rm ? 0 : N_AGENT_ATTRS;
    e.ev.u.offer.containers = !s->local_rm && (MESOS_CONTAINERS >> a & 1u) != 0;
    pq_push(s, e);
    if (s->faults && chance(&s->rng, 0.05)) {
        struct sev r = {.type = SEV_MSG, .inc = s->inc, .at = e.at + rnd_in(&s->rng, 1, 60000)};
        r.ev.type = CHR_EV_OFFER_RESCINDED;
        r.ev.u.offer.id = o.id;
        r.a = -1; /* marks a rescind the manager itself decided */
        pq_push(s, r);
    }
}

static double need_of(double v, double dflt)
{
    return v > 0 ? v : dflt;
}

/* The agents that admit def (invariant 8), by the simulator's own tables. */
static unsigned admitted(struct sim *s, const struct chr_job *def)
{
    unsigned mask = def->container_json == NULL ? 7u : s->local_rm ? 0u : MESOS_CONTAINERS;
    for (uint32_t i = 0; i < def->n_constraints; i++) {
        const struct chr_constraint *k = &def->constraints[i];
        size_t m = 0;
        while (m < N_CMENU && (strcmp(cmenu[m].attr, k->attribute) != 0 || cmenu[m].op != k->op ||
                               strcmp(cmenu[m].value, k->value) != 0))
            m++;
        if (m == N_CMENU) {
            fail(s, "(8) job %s has a constraint not from the menu", def->name);
            return 0;
        }
        mask &= s->local_rm ? cmenu[m].local : cmenu[m].mesos;
    }
    return mask;
}

/* How a launched task goes: its duration and outcome. */
static void task_plan(struct sim *s, struct task *t, int64_t *duration)
{
    uint64_t p = rnd(&s->rng) % 1000;
    t->outcome = CHR_RUN_FINISHED;
    t->exit_code = 0;
    if (p < 10) { /* cannot even start: command not found */
        t->outcome = CHR_RUN_FAILED;
        t->exit_code = 127;
        *duration = rnd_in(&s->rng, 0, 2000);
        return;
    }
    uint64_t d = rnd(&s->rng) % 100;
    *duration = d < 70 ? rnd_in(&s->rng, 1000, 300000)
                       : d < 95 ? rnd_in(&s->rng, 300000, 3600000)
                                : rnd_in(&s->rng, 3600000, 6 * 3600000);
    if (p < 160) {
        t->outcome = CHR_RUN_FAILED;
        t->exit_code = 1;
    } else if (p < 190 && s->faults) {
        t->outcome = CHR_RUN_LOST;
        t->exit_code = -1;
    }
}

/* A retry does not start before the job's retry delay after the failure
 * reached the core, and is not launched earlier than the lead before that:
 * checked with (at = the start, slack 0) and (at = the launch, the lead). */
static bool retry_check(struct sim *s, const struct chr_run *r, int64_t at, int64_t slack)
{
    char prev[CHR_RUN_ID_MAX];
    if (r->attempt < 1)
        return true;
    snprintf(prev, sizeof prev, "ct:%lld:%d:%s", (long long)r->due_ms, (int)r->attempt - 1,
             r->job);
    struct task *p = task_find(s, prev);
    int ji = name_index(r->job);
    int64_t base = p != NULL ? p->retry_base_ms : 0;
    if (ji >= 0 && s->oj[ji].retry_base_ms < base)
        base = s->oj[ji].retry_base_ms; /* the job changed meanwhile */
    if (p == NULL || p->fail_seen_at == 0 || at >= p->fail_seen_at + base - slack)
        return true;
    fail(s, "(policy) retry '%s' %s %lld ms after the failure (delay %lld ms, slack %lld ms)",
         r->id, slack > 0 ? "launched" : "started", (long long)(at - p->fail_seen_at),
         (long long)base, (long long)slack);
    return false;
}

/* Invariant 2 for a launch at now of a task that starts at start_ms. */
static bool launch_checks(struct sim *s, const struct chr_run *r, int64_t start_ms)
{
    char a[CHR_INSTANT_TEXT_MAX], b[CHR_INSTANT_TEXT_MAX];
    if (s->now < r->due_ms - s->lead || start_ms < r->due_ms) {
        fmt_ms(s->now < r->due_ms - s->lead ? s->now : start_ms, a);
        fmt_ms(r->due_ms, b);
        fail(s, "(2) run '%s' %s at %s, due at %s (lead %lld ms)", r->id,
             s->now < r->due_ms - s->lead ? "launched" : "starts", a, b, (long long)s->lead);
        return false;
    }
    if (drun_find(s, r->id) == NULL) {
        fail(s, "(2) run '%s' launched before its record is durable", r->id);
        return false;
    }
    struct task *t = task_find(s, r->id);
    if (t != NULL && t->state != 0) {
        fail(s, "(5) DUPLICATE: run '%s' was started before", r->id);
        return false;
    }
    int ji = name_index(r->job);
    if (ji >= 0 && !s->oj[ji].concurrent && s->running_by_job[ji] > 0) {
        fail(s, "(policy) run '%s' launched while another run of non-concurrent %s runs", r->id,
             r->job);
        return false;
    }
    return retry_check(s, r, s->now, s->lead) && retry_check(s, r, start_ms, 0);
}

/* A task starts at its not_before_ms (the run's due_ms, a retry's end of
 * delay) when launched earlier: it holds its resources from the launch. */
static void rm_launch(struct sim *s, const struct chr_run *r, const struct chr_job *def,
                      uint64_t offer_id, int64_t not_before_ms)
{
    int64_t start_ms = not_before_ms > s->now ? not_before_ms : s->now;
    if (!launch_checks(s, r, start_ms))
        return;
    struct offer_rec *o = offer_find(s, offer_id);
    bool lost = s->faults && chance(&s->rng, 0.03); /* the accept raced a rescind */
    if (o == NULL || !o->valid || lost) { /* the offer is gone: never started */
        if (o != NULL)
            o->used = true; /* consumed all the same: its resources go back */
        send_status_offer(s, r->id, NULL, CHR_RUN_QUEUED, 0, "offer no longer valid", offer_id);
        return;
    }
    if ((admitted(s, def) >> o->agent & 1u) == 0) {
        fail(s, "(8) run '%s' launched on agent %d, which its constraints or container refuse",
             r->id, o->agent);
        return;
    }
    s->n_constrained += def->n_constraints > 0;
    s->n_containers += def->container_json != NULL;
    double cpus = need_of(def->cpus, 0.1), mem = need_of(def->mem_mb, 128);
    double disk = need_of(def->disk_mb, 256);
    if (o->cpus + 1e-6 < cpus || o->mem + 1e-6 < mem || o->disk + 1e-6 < disk) {
        fail(s, "offer %llu overcommitted by run '%s'", (unsigned long long)offer_id, r->id);
        return;
    }
    o->cpus -= cpus, o->mem -= mem, o->disk -= disk;
    o->used = true;
    struct task *t = task_add(s, r->id);
    t->job = name_index(r->job);
    t->agent = o->agent;
    t->cpus = cpus, t->mem = mem, t->disk = disk;
    t->state = T_RUNNING;
    t->start_at = start_ms;
    if (t->job >= 0)
        s->running_by_job[t->job]++;
    int64_t duration;
    task_plan(s, t, &duration);
    if (t->job >= 0)
        s->oj[t->job].last_start_ms = (int64_t)s->n_steps;
    s->n_launch++;
    s->n_early += start_ms > s->now;
    if (t->exit_code != 127) {
        t->reported_running = true;
        send_status(s, r->id, t, CHR_RUN_RUNNING, 0, "");
    }
    pq_push(s, (struct sev){.at = start_ms + duration, .type = SEV_TASK_END,
                            .a = (int)(t - s->tasks)});
}

static void task_end(struct sim *s, struct task *t, enum chr_run_state outcome, int32_t code)
{
    if (t->state != T_RUNNING)
        return;
    t->state = T_ENDED;
    t->ended_unstarted = s->now < t->start_at;
    if (t->job >= 0)
        s->running_by_job[t->job]--;
    t->outcome = outcome;
    t->exit_code = code;
    struct agent *ag = &s->agents[t->agent];
    ag->cpus += t->cpus, ag->mem += t->mem, ag->disk += t->disk;
    if (s->local_rm)
        ag->held = false; /* resources came back: the loop offers them */
    offer_check_later(s, t->agent, s->now + rnd_in(&s->rng, 0, 1000));
    send_status(s, t->id, t, outcome, code, outcome == CHR_RUN_FINISHED ? "" : "task ended");
}

static void rm_kill(struct sim *s, const char *id)
{
    struct task *t = task_find(s, id);
    if (t == NULL)
        send_status(s, id, NULL, CHR_RUN_KILLED, -1, "unknown task killed");
    else if (t->state == T_RUNNING)
        task_end(s, t, CHR_RUN_KILLED, -1);
}

static void rm_reconcile(struct sim *s, const char *id)
{
    struct task *t = task_find(s, id);
    if (t == NULL)
        send_status(s, id, NULL, CHR_RUN_QUEUED, 0, "unknown task");
    else if (t->state == T_RUNNING)
        send_status(s, id, t, CHR_RUN_RUNNING, 0, "");
    else
        send_status(s, id, t, t->outcome, t->exit_code, "reconciled");
}

static void rm_decline(struct sim *s, uint64_t offer_id, int64_t refuse_ms)
{
    struct offer_rec *o = offer_find(s, offer_id);
    if (o == NULL)
        return;
    struct agent *ag = &s->agents[o->agent];
    if (s->local_rm) {
        /* The loop offers again on REVIVE or a task end; one that ended while
         * this offer was out (its resources came back to the agent) has made
         * a fresh offer already. */
        ag->held = ag->cpus < 1e-9 && ag->mem < 1e-9 && ag->disk < 1e-9;
    } else {
        ag->filtered_until = s->now + refuse_ms;
        ag->f_cpus = o->cpus, ag->f_mem = o->mem, ag->f_disk = o->disk;
    }
    offer_close(s, o);
}

/* Mesos: another framework takes part of an agent's free resources, or gives
 * back what it took; the agent offers the difference when it can. */
static void rm_resize(struct sim *s)
{
    struct agent *ag = &s->agents[rnd(&s->rng) % N_AGENTS];
    if (ag->ext_cpus > 0 || ag->ext_mem > 0) {
        ag->cpus += ag->ext_cpus, ag->mem += ag->ext_mem;
        ag->ext_cpus = ag->ext_mem = 0;
    } else {
        double frac = (double)rnd_in(&s->rng, 25, 75) / 100;
        ag->ext_cpus = ag->cap_cpus * frac < ag->cpus ? ag->cap_cpus * frac : ag->cpus;
        ag->ext_mem = ag->cap_mem * frac < ag->mem ? ag->cap_mem * frac : ag->mem;
        ag->cpus -= ag->ext_cpus, ag->mem -= ag->ext_mem;
    }
    s->n_resizes++;
    offer_check_later(s, (int)(ag - s->agents), s->now + rnd_in(&s->rng, 0, 1000));
}

/* Offers launched on in a step are consumed; the rest goes back. */
static void rm_consume_used(struct sim *s)
{
    for (size_t i = 0; i < s->n_offers;) {
        if (s->offers[i].used)
            offer_close(s, &s->offers[i]);
        else
            i++;
    }
}

/* ---- Executing the core's actions ------------------------------------------------------ */

static void core_view_job(struct sim *s, int ji, const struct chr_job *def)
{
    struct ojob *o = &s->oj[ji];
    for (uint32_t i = 0; i < o->n_parents; i++)
        chr_free(o->parents[i]);
    o->n_parents = def->n_parents;
    for (uint32_t i = 0; i < def->n_parents; i++)
        o->parents[i] = xdup(def->parents[i]);
    o->soft_error = def->soft_error;
    o->core_present = true;
    o->deadline_ms = def->starting_deadline_ms;
    if (o->concurrent && !def->concurrent)
        o->nonconc_since = s->now; /* runs made before may still wait, several */
    o->concurrent = def->concurrent;
    o->retry_base_ms = def->retry_delay_ms > 0 ? def->retry_delay_ms : 60000;
}

/* Invariant 3, when the core makes a dependent run. */
static void check_dependent(struct sim *s, int ji, const struct chr_run *r)
{
    struct ojob *o = &s->oj[ji];
    for (uint32_t i = 0; i < o->n_parents; i++) {
        int pi = name_index(o->parents[i]);
        if (pi < 0 || s->oj[pi].last_success_ms > o->last_start_ms)
            continue;
        fail(s, "(3) dependent run '%s' made, but parent '%s' did not succeed since j%02d last "
                "started",
             r->id, o->parents[i], ji);
    }
}

static void copy_item(struct sim *s, struct pitem *it, const struct chr_persist_item *src)
{
    memset(it, 0, sizeof *it);
    it->op = src->op;
    it->at_ms = s->now;
    snprintf(it->name, sizeof it->name, "%s", src->name != NULL ? src->name : "");
    if (src->job != NULL) {
        job_copy(&it->job, src->job);
        it->has_job = true;
    }
    if (src->state != NULL) {
        state_copy(&it->st, src->state);
        it->has_state = true;
    }
    if (src->run != NULL) {
        run_copy(&it->run, src->run);
        it->has_run = true;
    }
    if (src->notice != NULL) {
        it->kind = src->notice->kind;
        snprintf(it->notice_run, sizeof it->notice_run, "%s", src->notice->run_id);
        it->waited_ms = src->notice->last_ms - src->notice->first_ms;
    }
    int ji = name_index(it->name);
    if (ji < 0)
        return;
    if (src->op == CHR_PERSIST_JOB)
        core_view_job(s, ji, src->job);
    if (src->op == CHR_PERSIST_DELETE_JOB)
        s->oj[ji].core_present = false;
    if (src->op == CHR_PERSIST_RUN && src->run->state == CHR_RUN_RECORDING &&
        src->run->cause == CHR_CAUSE_DEPENDENT)
        check_dependent(s, ji, src->run);
    if (src->op == CHR_PERSIST_RUN && src->run->state == CHR_RUN_RECORDING &&
        src->run->cause == CHR_CAUSE_SCHEDULED && s->oj[ji].deadline_ms >= 0 &&
        s->now - src->run->due_ms > s->oj[ji].deadline_ms)
        fail(s, "(1) run '%s' made %lld ms late, past the job's starting deadline", src->run->id,
             (long long)(s->now - src->run->due_ms));
}

static void exec_persist(struct sim *s, const struct chr_action *a)
{
    grow((void **)&s->pending, &s->cap_pending, s->n_pending + 1, sizeof *s->pending);
    struct pbatch *b = &s->pending[s->n_pending++];
    b->id = a->u.persist.batch_id;
    b->n = a->u.persist.n;
    b->items = xcalloc(b->n, sizeof *b->items);
    for (size_t i = 0; i < b->n; i++)
        copy_item(s, &b->items[i], &a->u.persist.items[i]);
    int64_t d = rnd_in(&s->rng, 1, 20);
    if (s->faults && chance(&s->rng, 0.01))
        d += rnd_in(&s->rng, 1000, 5000);
    b->done_at = s->now + d > s->last_done_at ? s->now + d : s->last_done_at;
    s->last_done_at = b->done_at;
}

static struct inflight *infl_find(struct sim *s, uint64_t id)
{
    for (size_t i = 0; i < s->n_infl; i++)
        if (s->infl[i].id == id)
            return &s->infl[i];
    return NULL;
}

static void infl_remove(struct sim *s, struct inflight *f)
{
    chr_job_free(&f->def);
    *f = s->infl[--s->n_infl];
}

static void exec_reply(struct sim *s, const struct chr_action *a)
{
    struct inflight *f = infl_find(s, a->u.reply.request_id);
    if (f == NULL) {
        fail(s, "reply to unknown request %llu", (unsigned long long)a->u.reply.request_id);
        return;
    }
    struct ojob *o = &s->oj[f->job];
    if (a->u.reply.result == CHR_OK && f->type == CHR_EV_PUT_JOB) {
        chr_job_free(&o->acked_def);
        job_copy(&o->acked_def, &f->def);
        o->acked = 1;
    } else if (a->u.reply.result == CHR_OK && f->type == CHR_EV_DELETE_JOB) {
        o->acked = 2;
        char name[8];
        const struct chr_run *runs[4];
        job_name(f->job, name);
        if (chr_core_job_runs(s->core, name, runs, 4) > 0)
            fail(s, "(7) %s deleted, but its run '%s' is still %d", name, runs[0]->id,
                 (int)runs[0]->state);
    }
    if (f->type == CHR_EV_PUT_JOB && a->u.reply.result == CHR_EINVAL &&
        strstr(a->u.reply.message, "exceeds what this host offers") != NULL)
        s->n_refused_big++;
    if (s->verbose)
        printf("  reply %llu: %s %s\n", (unsigned long long)f->id,
               chr_err_name(a->u.reply.result), a->u.reply.message);
    infl_remove(s, f);
}

/* A waiting run's reason: its needs, or the container runtime (only for a
 * job with a container) or a constraint of its job that no held offer
 * meets. */
static bool waiting_reason_ok(struct sim *s, const struct chr_run *r)
{
    static const char pre[] = "waiting for resources: ";
    const char *why = r->reason + sizeof pre - 1;
    if (strncmp(r->reason, pre, sizeof pre - 1) != 0)
        return false;
    if (strncmp(why, "needs cpus ", 11) == 0 ||
        strncmp(why, "no offer matches all its constraints at once", 44) == 0)
        return true;
    const struct chr_job *def = chr_core_job(s->core, r->job, NULL);
    if (def == NULL)
        return false;
    if (strncmp(why, "needs a container runtime", 25) == 0)
        return def->container_json != NULL;
    for (uint32_t i = 0; i < def->n_constraints; i++) {
        char want[160];
        snprintf(want, sizeof want, "no offer matches constraint %s %s %s (",
                 def->constraints[i].attribute, chr_constraint_op_name(def->constraints[i].op),
                 def->constraints[i].value);
        if (strncmp(why, want, strlen(want)) == 0)
            return true;
    }
    return false;
}

static void exec_action(struct sim *s, const struct chr_action *a)
{
    if (s->verbose && (a->type == CHR_ACT_SUPPRESS || a->type == CHR_ACT_REVIVE ||
                       a->type == CHR_ACT_DECLINE || a->type == CHR_ACT_LAUNCH))
        printf("  t=%lld %s %s\n", (long long)s->now,
               a->type == CHR_ACT_SUPPRESS  ? "SUPPRESS"
               : a->type == CHR_ACT_REVIVE  ? "REVIVE"
               : a->type == CHR_ACT_DECLINE ? "DECLINE"
                                            : "LAUNCH",
               a->type == CHR_ACT_LAUNCH ? a->u.launch.run->id : "");
    switch (a->type) {
    case CHR_ACT_PERSIST:
        exec_persist(s, a);
        break;
    case CHR_ACT_LAUNCH:
        rm_launch(s, a->u.launch.run, a->u.launch.job, a->u.launch.offer_id,
                  a->u.launch.not_before_ms);
        break;
    case CHR_ACT_KILL:
        rm_kill(s, a->u.run.run->id);
        break;
    case CHR_ACT_DECLINE:
        rm_decline(s, a->u.decline.offer_id, a->u.decline.refuse_ms);
        break;
    case CHR_ACT_REPLY:
        exec_reply(s, a);
        break;
    case CHR_ACT_SUPPRESS:
        s->suppressed = true;
        break;
    case CHR_ACT_REVIVE:
        s->suppressed = false;
        for (int i = 0; i < N_AGENTS; i++)
            s->agents[i].filtered_until = 0, s->agents[i].held = false;
        offer_checks_all(s);
        break;
    case CHR_ACT_RECONCILE:
        rm_reconcile(s, a->u.run.run->id);
        break;
    case CHR_ACT_NOTE:
        if (s->verbose)
            printf("  note: %s\n", a->u.note.text);
        break;
    case CHR_ACT_WAITING:
        if (a->u.run.run->state != CHR_RUN_QUEUED || !waiting_reason_ok(s, a->u.run.run))
            fail(s, "(7) WAITING for run '%s' in state %d says '%s'", a->u.run.run->id,
                 (int)a->u.run.run->state, a->u.run.run->reason);
        if (s->verbose)
            printf("  %s is %s\n", a->u.run.run->id, a->u.run.run->reason);
        break;
    }
}

static void crash(struct sim *s, bool store_failed);

/* Policy: a non-concurrent job never has two scheduled runs waiting that
 * this core made and never tried to launch (the second instant is coalesced
 * into the first), and no job two such dependent ones (later parent
 * successes are absorbed). */
/* The coalescing policy for job i, whose runs are runs[0..n). */
static void check_coalescing(struct sim *s, int i, const char *name, const struct chr_run *const *runs,
                             size_t n)
{
    size_t waiting[2] = {0, 0};
    for (size_t k = 0; k < n; k++) {
        bool w = runs[k]->created_ms >= s->started_at &&
                 runs[k]->created_ms > s->oj[i].nonconc_since && runs[k]->launched_ms == INT64_MIN &&
                 (runs[k]->state == CHR_RUN_RECORDING || runs[k]->state == CHR_RUN_QUEUED);
        waiting[0] += w && !s->oj[i].concurrent && runs[k]->cause == CHR_CAUSE_SCHEDULED &&
                      runs[k]->attempt == 0;
        waiting[1] += w && runs[k]->cause == CHR_CAUSE_DEPENDENT;
    }
    if (waiting[0] > 1 || waiting[1] > 1)
        fail(s, "(policy) %s has %zu scheduled, %zu dependent runs waiting", name, waiting[0],
             waiting[1]);
}

/* Invariant 6 after every step. */
static void check_counts(struct sim *s)
{
    struct chr_core_counts c;
    chr_core_counts(s->core, &c);
    if (c.runs > 40 * N_NAMES || c.runs_waiting > c.runs || c.offers_held > s->n_offers ||
        c.replies_pending > s->n_infl || c.batches_pending > s->n_pending)
        fail(s, "(6) counts out of bounds: runs %zu waiting %zu offers %zu/%zu replies %zu/%zu "
                "batches %zu/%zu",
             c.runs, c.runs_waiting, c.offers_held, s->n_offers, c.replies_pending, s->n_infl,
             c.batches_pending, s->n_pending);
}

/* Whether some agent of `agents` (bit a) could give the core cpus/mem/disk
 * now: its outstanding offer fits, or with none outstanding its free
 * resources do. */
static bool room_for(const struct sim *s, unsigned agents, double cpus, double mem, double disk)
{
    for (int a = 0; a < N_AGENTS; a++) {
        const struct agent *ag = &s->agents[a];
        if ((agents >> a & 1u) == 0)
            continue;
        double c = ag->cpus, m = ag->mem, d = ag->disk;
        for (size_t i = 0; i < s->n_offers; i++) {
            const struct offer_rec *o = &s->offers[i];
            if (o->agent == a && o->valid && !o->used)
                c = o->cpus, m = o->mem, d = o->disk;
        }
        if (c + 1e-9 >= cpus && m + 1e-9 >= mem && d + 1e-9 >= disk)
            return true;
    }
    return false;
}

/* A run the core should launch as soon as it has an offer that fits: a
 * first attempt made by this core, queued and due, whose job has no other
 * run started (when it is not concurrent) or left from before a restart. */
static bool ready_first_attempt(const struct sim *s, int ji, const struct chr_run *r,
                                const struct chr_run *const *all, size_t n)
{
    if (r->state != CHR_RUN_QUEUED || r->attempt != 0 || r->created_ms < s->started_at ||
        r->due_ms > s->now)
        return false;
    for (size_t k = 0; k < n; k++) {
        if (all[k] == r)
            continue;
        if (all[k]->created_ms < s->started_at)
            return false; /* reconciling: the job's counters are in doubt */
        if (!s->oj[ji].concurrent &&
            (all[k]->state == CHR_RUN_LAUNCHING || all[k]->state == CHR_RUN_RUNNING))
            return false;
    }
    return s->oj[ji].concurrent || s->running_by_job[ji] == 0;
}

static int64_t waiter_since(struct sim *s, const struct waiter *old, size_t n_old, const char *id)
{
    for (size_t i = 0; i < n_old; i++)
        if (strcmp(old[i].id, id) == 0)
            return old[i].since;
    return s->now;
}

/* The coalescing policy (check_coalescing) and invariant 7 after every
 * step: every ready run with room somewhere is launched within
 * LIVENESS_BOUND_MS.  One lookup of each job's runs serves both (the checks
 * made three lookups per job and step, a fifth of the simulation's time);
 * its definition is looked up only for a job with a ready run. */
static void check_runs(struct sim *s)
{
    struct waiter old[256];
    size_t n_old = s->n_waits < 256 ? s->n_waits : 256;
    if (n_old > 0)
        memcpy(old, s->waits, n_old * sizeof *old);
    s->n_waits = 0;
    const struct chr_run *runs[64];
    for (int i = 0; i < N_NAMES && !s->failed; i++) {
        if (!s->oj[i].core_present)
            continue;
        char name[8];
        job_name(i, name);
        size_t n = chr_core_job_runs(s->core, name, runs, 64);
        check_coalescing(s, i, name, runs, n);
        const struct chr_job *def = NULL;
        for (size_t k = 0; k < n && !s->failed; k++) {
            if (!ready_first_attempt(s, i, runs[k], runs, n))
                continue;
            if (def == NULL && (def = chr_core_job(s->core, name, NULL)) == NULL) {
                fail(s, "(7) job %s has runs but no definition", name);
                break;
            }
            if (!room_for(s, admitted(s, def), need_of(def->cpus, 0.1),
                          need_of(def->mem_mb, 128), need_of(def->disk_mb, 256)))
                continue;
            int64_t since = waiter_since(s, old, n_old, runs[k]->id);
            if (s->now - since > s->max_wait_ms)
                s->max_wait_ms = s->now - since;
            if (s->now - since > LIVENESS_BOUND_MS) {
                struct chr_core_counts c;
                chr_core_counts(s->core, &c);
                fail(s, "(7) run '%s' (needs cpus %g) is ready and has had room for %lld ms, "
                        "not launched; %s, core holds %zu offers; agents: %g%s%s %g%s%s %g%s%s",
                     runs[k]->id, need_of(def->cpus, 0.1), (long long)(s->now - since),
                     s->suppressed ? "suppressed" : "not suppressed", c.offers_held,
                     s->agents[0].cpus, s->agents[0].offered ? " offered" : "",
                     s->agents[0].filtered_until > s->now ? " filtered" : "", s->agents[1].cpus,
                     s->agents[1].offered ? " offered" : "",
                     s->agents[1].filtered_until > s->now ? " filtered" : "", s->agents[2].cpus,
                     s->agents[2].offered ? " offered" : "",
                     s->agents[2].filtered_until > s->now ? " filtered" : "");
            }
            grow((void **)&s->waits, &s->cap_waits, s->n_waits + 1, sizeof *s->waits);
            snprintf(s->waits[s->n_waits].id, CHR_RUN_ID_MAX, "%s", runs[k]->id);
            s->waits[s->n_waits++].since = since;
        }
    }
}

/* One step; under faults, sometimes with the n-th allocation failing.  On
 * ENOMEM the event was not applied and stays ours: fed again. */
static enum chr_err step_once(struct sim *s, struct chr_event *ev, bool inject)
{
    struct chr_actions out;
    s->n_steps++;
    if (inject)
        chr_alloc_fail_after((long)rnd_in(&s->rng, 1, 6));
    enum chr_err e = chr_core_step(s->core, s->now, ev, &out);
    chr_alloc_fail_after(-1);
    for (size_t i = 0; i < out.n && !s->failed; i++)
        exec_action(s, &out.v[i]);
    rm_consume_used(s);
    return e;
}

static void step(struct sim *s, struct chr_event *ev)
{
    enum chr_err e = step_once(s, ev, s->faults && chance(&s->rng, 0.05));
    if (e == CHR_ENOMEM) {
        s->n_enomem++;
        e = step_once(s, ev, false);
    }
    if (e == CHR_EUNAVAIL) {
        crash(s, true);
        return;
    }
    if (e != CHR_OK)
        fail(s, "step returned %s", chr_err_name(e));
    else
        check_counts(s), check_runs(s);
    if (s->crash_armed && s->n_pending > 0 && s->faults) {
        s->crash_armed = false;
        crash(s, false);
    }
}

/* ---- Random jobs and requests ------------------------------------------------------------ */

static bool core_has(const struct sim *s, int ji)
{
    return s->oj[ji].core_present;
}

static char *gen_start(struct sim *s, bool z)
{
    int64_t t = s->now + rnd_in(&s->rng, -30, 10) * CHR_MS_PER_DAY;
    t -= chr_floor_mod(t, CHR_MS_PER_HOUR);
    t += rnd_in(&s->rng, 0, 3) * 15 * CHR_MS_PER_MIN;
    struct chr_civil c;
    chr_ms_to_civil(t, &c);
    char buf[64];
    snprintf(buf, sizeof buf, "%04lld-%02d-%02dT%02d:%02d:00%s", (long long)c.year, c.month,
             c.day, c.hour, c.minute, z ? "Z" : "");
    return xdup(buf);
}

static const char *const crons[] = {
    "0 * * * *",   "30 2 * * *", "0 1 * * 0",  "15 */3 * * *", "0 9 * * 1-5",
    "45 1 * * *",  "0 2 * * *",  "0 0 1 * *",  "*/30 * * * *", "10 4,16 * * *",
};

static char *gen_schedule(struct sim *s)
{
    static const int hours[] = {1, 2, 3, 6, 8, 12};
    char buf[128];
    uint64_t k = rnd(&s->rng) % 100;
    if (k < 35)
        return xdup(crons[rnd(&s->rng) % (sizeof crons / sizeof crons[0])]);
    char *start = gen_start(s, chance(&s->rng, 0.3));
    if (k < 60)
        snprintf(buf, sizeof buf, "R/%s/PT%dH", start, hours[rnd(&s->rng) % 6]);
    else if (k < 72)
        snprintf(buf, sizeof buf, "R/%s/P1D", start);
    else if (k < 82)
        snprintf(buf, sizeof buf, "R%d/%s/PT%dH", (int)rnd_in(&s->rng, 1, 40), start,
                 hours[rnd(&s->rng) % 6]);
    else if (k < 88)
        snprintf(buf, sizeof buf, "R/%s/PT30M", start);
    else if (k < 94)
        snprintf(buf, sizeof buf, "R/%s/P1W", start);
    else
        snprintf(buf, sizeof buf, "R/%s/P1M", start);
    chr_free(start);
    return xdup(buf);
}

static void gen_parents(struct sim *s, int ji, struct chr_job *j)
{
    int n = (int)rnd_in(&s->rng, 1, 3);
    j->parents = xcalloc((size_t)n, sizeof *j->parents);
    for (int tries = 0; tries < 20 && (int)j->n_parents < n; tries++) {
        int p = (int)(rnd(&s->rng) % N_NAMES);
        char name[8];
        job_name(p, name);
        bool dup = p == ji || !core_has(s, p);
        for (uint32_t i = 0; i < j->n_parents && !dup; i++)
            dup = strcmp(j->parents[i], name) == 0;
        if (!dup)
            j->parents[j->n_parents++] = xdup(name);
    }
}

static void gen_job(struct sim *s, int ji, struct chr_job *j)
{
    char name[8];
    job_name(ji, name);
    memset(j, 0, sizeof *j);
    j->name = xdup(name);
    j->command = xdup("work");
    j->shell = true;
    if (chance(&s->rng, 0.3))
        gen_parents(s, ji, j);
    if (j->n_parents == 0) {
        chr_free(j->parents);
        j->parents = NULL;
        j->schedule = gen_schedule(s);
        j->schedule_tz = xdup(zones[rnd(&s->rng) % (sizeof zones / sizeof zones[0])]);
    }
    j->retries = (int32_t)(rnd(&s->rng) % 4);
    j->retry_delay_ms = chance(&s->rng, 0.5) ? 0 : rnd_in(&s->rng, 10, 600) * 1000;
    j->retry_backoff = chance(&s->rng, 0.3);
    j->starting_deadline_ms = chance(&s->rng, 0.25) ? rnd_in(&s->rng, 1, 30) * 60000 : -1;
    j->disabled = chance(&s->rng, 0.08);
    j->concurrent = chance(&s->rng, 0.3);
    j->high_priority = chance(&s->rng, 0.2);
    j->soft_error = chance(&s->rng, 0.1);
    uint64_t size = rnd(&s->rng) % 100;
    j->cpus = size < 45   ? 0                                       /* the default */
              : size < 85 ? (double)rnd_in(&s->rng, 2, 8) / 4      /* fits any agent */
              : size < 95 ? (double)rnd_in(&s->rng, 5, 14) / 2     /* the biggest only */
                          : (double)rnd_in(&s->rng, 12, 16);       /* nothing */
    j->mem_mb = chance(&s->rng, 0.5) ? 0 : (double)rnd_in(&s->rng, 64, 1024);
    if (chance(&s->rng, 0.12)) {
        uint32_t n = (uint32_t)rnd_in(&s->rng, 1, 2);
        j->constraints = xcalloc(n, sizeof *j->constraints);
        j->n_constraints = n;
        for (uint32_t i = 0; i < n; i++) {
            /* One that no agent meets keeps offers cycling for as long as
             * its job lives (so do the sixteen-cpu jobs): fewer of those. */
            size_t m = rnd(&s->rng) % N_CMENU;
            if ((s->local_rm ? cmenu[m].local : cmenu[m].mesos) == 0 && chance(&s->rng, 0.9))
                m = rnd(&s->rng) % N_CMENU;
            j->constraints[i] = (struct chr_constraint){xdup(cmenu[m].attr), cmenu[m].op,
                                                        xdup(cmenu[m].value)};
        }
    }
    if (chance(&s->rng, 0.05))
        j->container_json = xdup("{\"type\":\"DOCKER\",\"image\":\"busybox\"}");
}

/* A replacement of the job as the store has it, or a new definition. */
static void gen_replace(struct sim *s, int ji, struct chr_job *j)
{
    if (!s->djobs[ji].present || chance(&s->rng, 0.5)) {
        gen_job(s, ji, j);
        return;
    }
    job_copy(j, &s->djobs[ji].def);
    uint64_t k = rnd(&s->rng) % 3;
    if (k == 0)
        j->disabled = !j->disabled;
    else if (k == 1)
        j->concurrent = !j->concurrent;
    else
        j->retries = (int32_t)(rnd(&s->rng) % 4);
}

static void send_request(struct sim *s, int ji, enum chr_event_type type)
{
    char name[8];
    job_name(ji, name);
    grow((void **)&s->infl, &s->cap_infl, s->n_infl + 1, sizeof *s->infl);
    struct inflight *f = &s->infl[s->n_infl++];
    memset(f, 0, sizeof *f);
    f->id = ++s->req_seq;
    f->type = type;
    f->job = ji;
    struct chr_event ev = {.type = type, .request_id = f->id};
    char args[32];
    if (type == CHR_EV_PUT_JOB) {
        if (s->djobs[ji].present && chance(&s->rng, 0.6))
            gen_replace(s, ji, &f->def);
        else
            gen_job(s, ji, &f->def);
        job_copy(&ev.u.job.job, &f->def);
    } else {
        ev.u.named.name = name;
        if (type == CHR_EV_RUN_JOB && chance(&s->rng, 0.3)) {
            snprintf(args, sizeof args, "--n=%d", (int)rnd_in(&s->rng, 1, 99));
            ev.u.named.arguments = args;
        }
        if (type == CHR_EV_MARK_SUCCESS)
            s->oj[ji].last_success_ms = (int64_t)s->n_steps + 1;
    }
    s->n_requests++;
    if (s->verbose)
        printf("t=%lld request %llu: type %d on %s\n", (long long)s->now,
               (unsigned long long)f->id, (int)type, name);
    step(s, &ev);
}

/* A job whose run waits for resources (its reason says so), or -1. */
static int job_waiting(struct sim *s)
{
    const struct chr_run *runs[64];
    int start = (int)(rnd(&s->rng) % N_NAMES);
    for (int k = 0; k < N_NAMES; k++) {
        int i = (start + k) % N_NAMES;
        char name[8];
        job_name(i, name);
        size_t n = s->djobs[i].present ? chr_core_job_runs(s->core, name, runs, 64) : 0;
        for (size_t r = 0; r < n; r++)
            if (runs[r]->state == CHR_RUN_QUEUED && runs[r]->reason[0] != '\0')
                return i;
    }
    return -1;
}

static void do_request(struct sim *s)
{
    int ji = (int)(rnd(&s->rng) % N_NAMES);
    int waiting = chance(&s->rng, 0.2) ? job_waiting(s) : -1;
    if (waiting >= 0) { /* deleting a job that waits for resources frees its place */
        s->n_waiting_deletes++;
        send_request(s, waiting, CHR_EV_DELETE_JOB);
        return;
    }
    uint64_t p = rnd(&s->rng) % 100;
    enum chr_event_type t = CHR_EV_PUT_JOB;
    if (!s->djobs[ji].present || p < 35)
        t = CHR_EV_PUT_JOB;
    else if (p < 45)
        t = CHR_EV_DELETE_JOB;
    else if (p < 70)
        t = CHR_EV_RUN_JOB;
    else if (p < 80)
        t = CHR_EV_KILL_JOB;
    else if (p < 87)
        t = CHR_EV_MARK_SUCCESS;
    send_request(s, ji, t);
}

/* ---- Crash and restart ------------------------------------------------------------------------ */

static bool def_equal(const struct chr_job *a, const struct chr_job *b)
{
    if (!str_eq(a->name, b->name) || !str_eq(a->command, b->command) ||
        !str_eq(a->schedule, b->schedule) || !str_eq(a->schedule_tz, b->schedule_tz) ||
        a->n_parents != b->n_parents || a->retries != b->retries ||
        a->retry_delay_ms != b->retry_delay_ms || a->disabled != b->disabled ||
        a->concurrent != b->concurrent || a->high_priority != b->high_priority ||
        a->soft_error != b->soft_error || a->cpus != b->cpus || a->mem_mb != b->mem_mb ||
        a->starting_deadline_ms != b->starting_deadline_ms || a->n_constraints != b->n_constraints ||
        !str_eq(a->container_json, b->container_json))
        return false;
    for (uint32_t i = 0; i < a->n_constraints; i++)
        if (a->constraints[i].op != b->constraints[i].op ||
            !str_eq(a->constraints[i].attribute, b->constraints[i].attribute) ||
            !str_eq(a->constraints[i].value, b->constraints[i].value))
            return false;
    for (uint32_t i = 0; i < a->n_parents; i++)
        if (strcmp(a->parents[i], b->parents[i]) != 0)
            return false;
    return true;
}

/* Invariant 4: what was acknowledged is what the store holds. */
static void check_acked(struct sim *s)
{
    for (int i = 0; i < N_NAMES; i++) {
        struct ojob *o = &s->oj[i];
        struct djob *d = &s->djobs[i];
        if (o->uncertain) {
            o->uncertain = false;
            chr_job_free(&o->acked_def);
            o->acked = d->present ? 1 : (o->acked != 0 ? 2 : 0);
            if (d->present)
                job_copy(&o->acked_def, &d->def);
            continue;
        }
        if (o->acked == 1 && !d->present)
            fail(s, "(4) j%02d: its PUT was acknowledged but the job is gone", i);
        else if (o->acked == 1 && !def_equal(&o->acked_def, &d->def))
            fail(s, "(4) j%02d: the stored definition is not the acknowledged one", i);
        else if (o->acked == 2 && d->present)
            fail(s, "(4) j%02d: its delete was acknowledged but the job is back", i);
    }
}

static void crash(struct sim *s, bool store_failed)
{
    if (s->core == NULL)
        return;
    size_t k = store_failed ? 0 : (size_t)rnd_in(&s->rng, 0, (int64_t)s->n_pending);
    for (size_t i = 0; i < s->n_pending; i++) {
        if (i < k)
            store_apply(s, &s->pending[i]);
        else
            pbatch_free(&s->pending[i]);
    }
    s->n_pending = 0;
    s->n_waits = 0;
    s->last_done_at = s->now;
    chr_core_destroy(s->core);
    s->core = NULL;
    s->inc++;
    while (s->n_infl > 0) {
        s->oj[s->infl[0].job].uncertain = true;
        infl_remove(s, &s->infl[0]);
    }
    while (s->n_offers > 0)
        offer_close(s, &s->offers[0]);
    s->suppressed = false;
    s->n_crash++;
    s->n_store_fail += store_failed;
    if (s->verbose)
        printf("t=%lld crash (%s), %zu batches made it\n", (long long)s->now,
               store_failed ? "store failed" : "random", k);
    /* Failover usually takes a ZooKeeper session timeout or so; sometimes
     * nobody is leader for minutes or hours (missed instants pile up). */
    uint64_t p = rnd(&s->rng) % 100;
    int64_t down = p < 80   ? rnd_in(&s->rng, 0, 50000)
                   : p < 95 ? rnd_in(&s->rng, 1, 30) * CHR_MS_PER_MIN
                            : rnd_in(&s->rng, 1, 24) * CHR_MS_PER_HOUR;
    pq_push(s, (struct sev){.at = s->now + RESTART_MIN_MS + down, .type = SEV_RESTART});
}

static void load_jobs(struct sim *s)
{
    for (int i = 0; i < N_NAMES && !s->failed && s->core != NULL; i++) {
        struct ojob *o = &s->oj[i];
        o->core_present = false;
        if (!s->djobs[i].present)
            continue;
        core_view_job(s, i, &s->djobs[i].def);
        struct chr_event ev = {.type = CHR_EV_LOAD_JOB};
        job_copy(&ev.u.job.job, &s->djobs[i].def);
        state_copy(&ev.u.job.state, &s->djobs[i].st);
        step(s, &ev);
    }
    for (size_t i = 0; i < s->n_druns && !s->failed && s->core != NULL; i++) {
        struct chr_event ev = {.type = CHR_EV_LOAD_RUN};
        run_copy(&ev.u.run, &s->druns[i].run);
        step(s, &ev);
    }
}

static void restart(struct sim *s)
{
    if (chr_core_create(&s->cfg, &s->core) != CHR_OK) {
        fail(s, "chr_core_create failed");
        return;
    }
    s->started_at = s->now;
    check_acked(s);
    load_jobs(s);
    struct chr_event done = {.type = CHR_EV_LOAD_DONE};
    if (s->core != NULL && !s->failed)
        step(s, &done);
    offer_checks_all(s);
}

/* ---- The loop ----------------------------------------------------------------------------------- */

static void deliver(struct sim *s, struct sev *e)
{
    if (e->inc != s->inc || s->core == NULL)
        return;
    if (e->ev.type == CHR_EV_OFFER_RESCINDED && e->a == -1) {
        struct offer_rec *o = offer_find(s, e->ev.u.offer.id);
        if (o == NULL)
            return; /* declined or used meanwhile */
        offer_close(s, o);
    }
    if (e->ev.type == CHR_EV_TASK_STATUS) {
        e->ev.u.status.run_id = e->run_id;
        e->ev.u.status.reason = e->reason;
        const char *colon = strrchr(e->run_id, ':');
        int ji = name_index(colon != NULL ? colon + 1 : "");
        enum chr_run_state st = e->ev.u.status.state;
        bool soft = ji >= 0 && s->oj[ji].soft_error &&
                    (st == CHR_RUN_FAILED || st == CHR_RUN_LOST);
        if (ji >= 0 && (st == CHR_RUN_FINISHED || soft))
            s->oj[ji].last_success_ms = (int64_t)s->n_steps + 1;
        struct task *t = task_find(s, e->run_id);
        if (t != NULL && t->ended_unstarted && st == CHR_RUN_RUNNING)
            return; /* sent at launch for its start, which never came */
        if (t != NULL && t->fail_seen_at == 0 && (st == CHR_RUN_FAILED || st == CHR_RUN_LOST)) {
            t->fail_seen_at = s->now;
            t->retry_base_ms = ji >= 0 ? s->oj[ji].retry_base_ms : 0;
        }
    }
    step(s, &e->ev);
}

static void handle_sev(struct sim *s, struct sev e)
{
    switch (e.type) {
    case SEV_MSG:
        deliver(s, &e);
        break;
    case SEV_TASK_END:
        task_end(s, &s->tasks[e.a], s->tasks[e.a].outcome, s->tasks[e.a].exit_code);
        break;
    case SEV_OFFER_CHECK:
        rm_offer(s, e.a);
        break;
    case SEV_REQUEST:
        if (s->core != NULL)
            do_request(s);
        pq_push(s, (struct sev){.at = s->now + rnd_in(&s->rng, 60000, 12 * CHR_MS_PER_HOUR),
                                .type = SEV_REQUEST});
        break;
    case SEV_CRASH:
        if (!s->faults)
            break;
        if (chance(&s->rng, 0.7))
            s->crash_armed = true; /* with batches in flight */
        else
            crash(s, false);
        pq_push(s, (struct sev){.at = s->now + rnd_in(&s->rng, 1, 20 * CHR_MS_PER_DAY),
                                .type = SEV_CRASH});
        break;
    case SEV_RESTART:
        restart(s);
        break;
    case SEV_RESIZE:
        rm_resize(s);
        pq_push(s, (struct sev){.at = s->now + rnd_in(&s->rng, 10, 360) * CHR_MS_PER_MIN,
                                .type = SEV_RESIZE});
        break;
    }
    sev_free(&e);
}

static void store_complete(struct sim *s)
{
    struct pbatch b = s->pending[0];
    pending_pop(s);
    struct chr_event ev = {.type = CHR_EV_STORE_DONE};
    ev.u.store.batch_id = b.id;
    ev.u.store.result = CHR_OK;
    if (s->faults && chance(&s->rng, 0.0005)) {
        pbatch_free(&b);
        ev.u.store.result = CHR_EIO;
    } else {
        store_apply(s, &b);
    }
    step(s, &ev);
}

static void time_step(struct sim *s, int64_t *last_time_step)
{
    if (*last_time_step == s->now) {
        if (++s->time_steps_same_now > 100000)
            fail(s, "the core keeps waking at the same instant");
    } else {
        s->time_steps_same_now = 0;
    }
    *last_time_step = s->now;
    struct chr_event ev = {.type = CHR_EV_TIME};
    step(s, &ev);
}

/* Runs until `until`; with `drain`, completes everything due by then. */
static void run_phase(struct sim *s, int64_t until, bool faults)
{
    s->faults = faults;
    int64_t last_time_step = INT64_MIN;
    while (!s->failed) {
        int64_t t = until;
        if (s->n_pending > 0 && s->pending[0].done_at < t)
            t = s->pending[0].done_at;
        if (s->n_pq > 0 && s->pq[0].at < t)
            t = s->pq[0].at;
        int64_t w = s->core != NULL ? chr_core_next_wakeup(s->core) : INT64_MAX;
        if (w < t)
            t = w;
        if (t < s->now)
            t = s->now;
        if (t >= until)
            break;
        s->now = t;
        if (s->n_pending > 0 && s->pending[0].done_at <= s->now)
            store_complete(s);
        else if (s->n_pq > 0 && s->pq[0].at <= s->now)
            handle_sev(s, pq_pop(s));
        else
            time_step(s, &last_time_step);
    }
    s->now = until;
}

/* At the end: everything the store holds must have been completed, every
 * instant up to now handled, every run recorded long enough ago launched. */
static void drain(struct sim *s)
{
    int64_t last = INT64_MIN;
    for (int i = 0; i < 1000000 && !s->failed; i++) {
        if (s->n_pending > 0)
            store_complete(s);
        else if (s->n_pq > 0 && s->pq[0].at <= s->now)
            handle_sev(s, pq_pop(s));
        else if (s->core != NULL && chr_core_next_wakeup(s->core) <= s->now)
            time_step(s, &last);
        else
            return;
    }
}

static bool fits_any_agent(struct sim *s, const struct chr_job *def)
{
    unsigned agents = admitted(s, def);
    for (int a = 0; a < N_AGENTS; a++) {
        const struct agent *ag = &s->agents[a];
        if ((agents >> a & 1u) != 0 && ag->cap_cpus + 1e-9 >= need_of(def->cpus, 0.1) &&
            ag->cap_mem + 1e-9 >= need_of(def->mem_mb, 128) &&
            ag->cap_disk + 1e-9 >= need_of(def->disk_mb, 256))
            return true;
    }
    return false;
}

static void final_checks(struct sim *s)
{
    char a[CHR_INSTANT_TEXT_MAX], b[CHR_INSTANT_TEXT_MAX];
    if (s->core == NULL)
        return;
    for (int i = 0; i < N_NAMES && !s->failed; i++) {
        struct djob *d = &s->djobs[i];
        struct ojob *o = &s->oj[i];
        if (!d->present || !o->has_epoch)
            continue;
        fmt_ms(o->frontier, a);
        fmt_ms(d->st.next_ms, b);
        if (d->st.next_ms != o->frontier)
            fail(s, "(1) j%02d: the core's next instant %s is not the oracle's %s", i, b, a);
        else if (!d->def.disabled && o->frontier <= s->now)
            fail(s, "(1) j%02d: instants up to now are not all handled (next %s)", i, a);
    }
    for (size_t i = 0; i < s->n_druns && !s->failed; i++) {
        const struct chr_run *r = &s->druns[i].run;
        struct task *t = task_find(s, r->id);
        int ji = name_index(r->job);
        if (ji >= 0 && s->djobs[ji].present && !fits_any_agent(s, &s->djobs[ji].def))
            continue; /* waits, as it must, with its reason */
        if ((t == NULL || t->state == 0) && r->created_ms < s->now - 2 * CHR_MS_PER_DAY)
            fail(s, "(1) run '%s' recorded long ago was never launched", r->id);
    }
}

/* ---- One seed ------------------------------------------------------------------------------------ */

static void sim_free(struct sim *s)
{
    chr_core_destroy(s->core);
    for (size_t i = 0; i < s->n_pending; i++)
        pbatch_free(&s->pending[i]);
    chr_free(s->pending);
    for (int i = 0; i < N_NAMES; i++) {
        chr_job_free(&s->djobs[i].def);
        chr_job_state_free(&s->djobs[i].st);
        epoch_clear(&s->oj[i]);
        for (uint32_t k = 0; k < s->oj[i].n_parents; k++)
            chr_free(s->oj[i].parents[k]);
        chr_job_free(&s->oj[i].acked_def);
    }
    for (size_t i = 0; i < s->n_druns; i++)
        chr_free(s->druns[i].run.arguments);
    chr_free(s->druns);
    chr_free(s->told);
    while (s->n_infl > 0)
        infl_remove(s, &s->infl[0]);
    chr_free(s->infl);
    chr_free(s->offers);
    chr_free(s->waits);
    for (size_t i = 0; i < s->n_tasks; i++)
        chr_free(s->tasks[i].id);
    chr_free(s->tasks);
    chr_free(s->task_index);
    for (size_t i = 0; i < s->n_pq; i++)
        sev_free(&s->pq[i]);
    chr_free(s->pq);
    chr_tzdb_destroy(s->db);
    chr_free(s);
}

static struct sim *sim_new(uint64_t seed, bool verbose)
{
    struct sim *s = xcalloc(1, sizeof *s);
    s->seed = seed;
    s->rng.s = seed * 0x2545f4914f6cdd1dULL + 1;
    s->verbose = verbose;
    if (chr_tzdb_create(NULL, &s->db) != CHR_OK) {
        fprintf(stderr, "sim: no tz database\n");
        exit(2);
    }
    for (size_t z = 1; z < sizeof zones / sizeof zones[0]; z++) { /* as the server's adapters do */
        const struct chr_tz *tz;
        struct chr_error e;
        if (chr_tzdb_get(s->db, zones[z], &tz, &e) != CHR_OK) {
            fprintf(stderr, "sim: %s\n", e.message);
            exit(2);
        }
    }
    s->cfg = (struct chr_core_config){
        .tzdb = s->db, .default_cpus = 0.1, .default_mem_mb = 128, .default_disk_mb = 256,
        .default_retry_delay_ms = 60000, .offer_refuse_ms = 5000, .history_max = HISTORY_MAX,
    };
    static const int64_t leads[] = {0, 50, 200, 1000};
    s->lead = leads[seed % 4];
    s->cfg.launch_lead_ms = s->lead;
    static const int64_t waits[] = {0, 30000, 600000};
    s->cfg.notify_waiting_ms = waits[seed / 2 % 3];
    struct chr_error err;
    chr_instant_parse("2025-01-01T00:00:00Z", &s->now, &err);
    s->now += (int64_t)(seed % 365) * CHR_MS_PER_DAY;
    s->local_rm = seed / 4 % 4 == 3;
    static const double sizes[N_AGENTS][3] = {{8, 8192, 200000}, {4, 4096, 100000},
                                              {2, 2048, 50000}};
    static const double none[3] = {0, 0, 0};
    for (int a = 0; a < N_AGENTS; a++) {
        const double *z = s->local_rm ? (a == 0 ? sizes[1] : none) : sizes[a];
        s->agents[a] = (struct agent){.cpus = z[0], .mem = z[1], .disk = z[2], .cap_cpus = z[0],
                                      .cap_mem = z[1], .cap_disk = z[2]};
    }
    if (s->local_rm) { /* the local manager refuses what this host cannot hold */
        s->cfg.max_cpus = sizes[1][0], s->cfg.max_mem_mb = sizes[1][1];
        s->cfg.max_disk_mb = sizes[1][2];
    }
    return s;
}

static bool run_seed(uint64_t seed, int64_t days, bool verbose)
{
    printf("seed %llu\n", (unsigned long long)seed);
    fflush(stdout);
    struct sim *s = sim_new(seed, verbose);
    int64_t start = s->now;
    restart(s);
    pq_push(s, (struct sev){.at = s->now + 1000, .type = SEV_REQUEST});
    pq_push(s, (struct sev){.at = s->now + rnd_in(&s->rng, 1, 10) * CHR_MS_PER_DAY,
                            .type = SEV_CRASH});
    if (!s->local_rm)
        pq_push(s, (struct sev){.at = s->now + rnd_in(&s->rng, 10, 360) * CHR_MS_PER_MIN,
                                .type = SEV_RESIZE});
    run_phase(s, start + days * CHR_MS_PER_DAY * 85 / 100, true);
    run_phase(s, start + days * CHR_MS_PER_DAY, false);
    drain(s);
    if (!s->failed)
        final_checks(s);
    bool ok = !s->failed;
    char at[CHR_INSTANT_TEXT_MAX];
    fmt_ms(s->failed ? s->fail_at : s->now, at);
    if (ok)
        printf("  ok: %s, lead %lld ms, %llu steps, %llu requests, %llu launches, %llu scheduled "
               "runs, %llu instants ledgered, %llu crashes (%llu store failures), %llu ENOMEM, "
               "%llu launched early, %llu resizes, %llu deletes of waiting jobs, %llu too big "
               "refused, %llu launches with constraints, %llu with a container, longest wait "
               "with room %lld ms, %zu waiting notices (bound %lld ms)\n",
               s->local_rm ? "local" : "mesos", (long long)s->lead, (unsigned long long)s->n_steps,
               (unsigned long long)s->n_requests, (unsigned long long)s->n_launch,
               (unsigned long long)s->n_sched_runs, (unsigned long long)s->n_ledgered,
               (unsigned long long)s->n_crash,
               (unsigned long long)s->n_store_fail, (unsigned long long)s->n_enomem,
               (unsigned long long)s->n_early, (unsigned long long)s->n_resizes,
               (unsigned long long)s->n_waiting_deletes, (unsigned long long)s->n_refused_big,
               (unsigned long long)s->n_constrained, (unsigned long long)s->n_containers,
               (long long)s->max_wait_ms, s->n_told, (long long)s->cfg.notify_waiting_ms);
    else
        printf("FAIL seed %llu at %s (step %llu): %s\n  reproduce: build/test/sim/sim_core "
               "--seed %llu\n",
               (unsigned long long)seed, at, (unsigned long long)s->n_steps, s->fail_msg,
               (unsigned long long)seed);
    sim_free(s);
    return ok;
}

static bool parse_u64(const char *s, uint64_t *out)
{
    char *end;
    unsigned long long v = strtoull(s, &end, 10);
    if (*s == '\0' || *end != '\0')
        return false;
    *out = v;
    return true;
}

int main(int argc, char **argv)
{
    uint64_t first = 1, n = 8, days = 400, v;
    bool verbose = false;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--seed") == 0 && i + 1 < argc && parse_u64(argv[i + 1], &v)) {
            first = v, n = 1, i++;
        } else if (strcmp(argv[i], "--seeds") == 0 && i + 1 < argc && parse_u64(argv[i + 1], &v)) {
            n = v, i++;
        } else if (strcmp(argv[i], "--first") == 0 && i + 1 < argc && parse_u64(argv[i + 1], &v)) {
            first = v, i++;
        } else if (strcmp(argv[i], "--days") == 0 && i + 1 < argc && parse_u64(argv[i + 1], &v)) {
            days = v, i++;
        } else if (strcmp(argv[i], "-v") == 0) {
            verbose = true;
        } else {
            fprintf(stderr, "usage: sim_core [--seed N | --seeds N [--first N]] [--days D] [-v]\n");
            return 2;
        }
    }
    unsigned long long passed = 0, failed = 0;
    for (uint64_t k = 0; k < n; k++)
        *(run_seed(first + k, (int64_t)days, verbose) ? &passed : &failed) += 1;
    printf("%llu passed, %llu failed\n", passed, failed);
    return failed == 0 ? 0 : 1;
}
