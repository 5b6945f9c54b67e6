/*
 * core_req.c - requests: create or replace a job, run it now, kill its
 * runs, mark it successful (deleting one: core_delete.c).
 *
 * Each request is checked against the registry (schedule and zone parse,
 * parents exist, no cycle, no dependents on delete), applied at once so that
 * later requests see it, persisted in one batch, and answered when that batch
 * (and every earlier one) is durable.  Each handler allocates everything it
 * needs before it changes anything, so running out of memory leaves no trace.
 *
 * Choices: a replace with the same schedule and zone keeps the job's
 * progress; a new schedule starts over from now.  Re-enabling a job ledgers
 * the instants it missed while disabled.  Counters never come from a request.
 * No I/O, no clock.
 */
#include "scheduler/core_int.h"

#include <stdio.h>
#include <string.h>

static bool str_eq(const char *a, const char *b)
{
    if (a == NULL || b == NULL)
        return a == b;
    return strcmp(a, b) == 0;
}

/* The job's zone name, NULL when it has none ("" and "null" mean none). */
/* The registry's cap (core.h: jobs_max). */
static size_t core_jobs_cap(const struct chr_core *c)
{
    size_t cap = c->cfg.jobs_max == 0 ? CHR_JOBS_DEFAULT : c->cfg.jobs_max;
    return cap < CHR_JOBS_MAX ? cap : CHR_JOBS_MAX;
}

enum chr_err core_parse_schedule(struct chr_core *c, const struct chr_job *def,
                                 struct chr_schedule *out, struct chr_error *err)
{
    return chr_job_schedule(def, c->cfg.tzdb, out, err);
}

/* ---- Checks against the registry ---------------------------------------------- */

enum chr_err core_dfs_reserve(struct chr_core *c, size_t n)
{
    if (n <= c->cap_dfs)
        return CHR_OK;
    size_t cap = c->cap_dfs < 64 ? 64 : c->cap_dfs;
    while (cap < n)
        cap *= 2;
    struct core_job **a = chr_realloc(c->dfs_job, cap * sizeof *a);
    if (a == NULL)
        return CHR_ENOMEM;
    c->dfs_job = a;
    uint32_t *b = chr_realloc(c->dfs_idx, cap * sizeof *b);
    if (b == NULL)
        return CHR_ENOMEM;
    c->dfs_idx = b;
    c->cap_dfs = cap;
    return CHR_OK;
}

static bool is_new_parent(const struct chr_job *def, const struct core_job *x)
{
    for (uint32_t i = 0; i < def->n_parents; i++)
        if (strcmp(def->parents[i], x->def->name) == 0)
            return true;
    return false;
}

static void cycle_message(struct chr_core *c, size_t depth, struct chr_error *err)
{
    char path[CHR_ERROR_MESSAGE_MAX];
    size_t n = 0;
    for (size_t i = 0; i <= depth && n < sizeof path; i++)
        n += (size_t)snprintf(path + n, sizeof path - n, "%s -> ", c->dfs_job[i]->def->name);
    if (n < sizeof path)
        snprintf(path + n, sizeof path - n, "%s", c->dfs_job[0]->def->name);
    chr_error_set(err, CHR_EINVAL, "parents", "would make a cycle: %s", path);
}

/* Would j with the parents of `def` close a cycle?  That is: is one of the
 * new parents among j's descendants?  Depth-first over the children edges. */
static enum chr_err check_cycle(struct chr_core *c, struct core_job *j, const struct chr_job *def,
                                struct chr_error *err)
{
    if (j->n_children == 0 || def->n_parents == 0)
        return CHR_OK;
    if (core_dfs_reserve(c, c->jobs.n + 1) != CHR_OK)
        return CHR_ENOMEM;
    uint32_t mark = ++c->visit_epoch;
    size_t depth = 0;
    c->dfs_job[0] = j;
    c->dfs_idx[0] = 0;
    j->visit = mark;
    for (;;) {
        struct core_job *x = c->dfs_job[depth];
        if (c->dfs_idx[depth] >= x->n_children) {
            if (depth == 0)
                return CHR_OK;
            depth--;
            continue;
        }
        struct core_job *y = x->children[c->dfs_idx[depth]++].child;
        if (y->visit == mark)
            continue;
        y->visit = mark;
        c->dfs_job[++depth] = y;
        c->dfs_idx[depth] = 0;
        if (is_new_parent(def, y)) {
            cycle_message(c, depth, err);
            return CHR_EINVAL;
        }
    }
}

/* A job that needs more than any offer can hold could never start: refused
 * (config.max_*), so that it cannot sit queued forever unexplained. */
static enum chr_err check_fits(const struct chr_core *c, const struct chr_job *def,
                               struct chr_error *err)
{
    const struct {
        const char *field;
        double want, dflt, max;
        const char *unit;
    } r[] = {
        {"cpus", def->cpus, c->cfg.default_cpus, c->cfg.max_cpus, ""},
        {"mem", def->mem_mb, c->cfg.default_mem_mb, c->cfg.max_mem_mb, " MB"},
        {"disk", def->disk_mb, c->cfg.default_disk_mb, c->cfg.max_disk_mb, " MB"},
    };
    for (size_t i = 0; i < sizeof r / sizeof r[0]; i++) {
        double need = r[i].want > 0 ? r[i].want : r[i].dflt;
        if (r[i].max > 0 && need > r[i].max * (1 + 1e-9))
            return chr_error_set(err, CHR_EINVAL, r[i].field,
                                 "%g%s exceeds what this host offers (%g%s)", need, r[i].unit,
                                 r[i].max, r[i].unit);
    }
    return CHR_OK;
}

/* The shortest gap between two instants of s, looking `span` instants ahead
 * of now (INT64_MAX: it fires at most once). */
static int64_t shortest_gap_ms(const struct chr_core *c, const struct chr_schedule *s, int span)
{
    int64_t prev, next, gap = INT64_MAX;
    if (chr_schedule_next(s, c->now_ms, &prev) != CHR_OK)
        return gap;
    for (int k = 0; k < span && chr_schedule_next(s, prev, &next) == CHR_OK; k++) {
        if (next - prev < gap)
            gap = next - prev;
        prev = next;
    }
    return gap;
}

/* Instants closer than config.min_period_ms are refused: a job that runs
 * back to back forever (PT0.001S) is a storm, not a schedule.  An ISO period
 * of exact time has one gap; a calendar one (days, months) and a cron are
 * walked: a cron's gaps repeat within a day of minutes, and no cron fires
 * more often than once a minute. */
static enum chr_err check_period(const struct chr_core *c, const struct chr_schedule *s,
                                 struct chr_error *err)
{
    int64_t min = c->cfg.min_period_ms, gap;
    if (min <= 0)
        return CHR_OK;
    if (s->kind == CHR_SCHEDULE_ISO8601) {
        const struct chr_interval *iv = &s->u.iso;
        if (iv->count == 0 || iv->count == 1)
            return CHR_OK;
        gap = iv->months == 0 && iv->days == 0 ? iv->elapsed_ms : shortest_gap_ms(c, s, 4);
    } else {
        if (min <= CHR_MS_PER_MIN)
            return CHR_OK;
        gap = shortest_gap_ms(c, s, 24 * 60 + 1);
    }
    if (gap >= min)
        return CHR_OK;
    return chr_error_set(err, CHR_EINVAL, "schedule",
                         "instants %g s apart; the minimum is %g s (--min_period)",
                         (double)gap / 1000.0, (double)min / 1000.0);
}

/* Checks def against the registry (its own validation is done). */
enum chr_err core_check_def(struct chr_core *c, const struct chr_job *def,
                            struct chr_schedule *sched, bool *scheduled, struct chr_error *err)
{
    enum chr_err e = check_fits(c, def, err);
    if (e != CHR_OK)
        return e;
    *scheduled = def->schedule != NULL;
    if (*scheduled && ((e = core_parse_schedule(c, def, sched, err)) != CHR_OK ||
                       (e = check_period(c, sched, err)) != CHR_OK))
        return e;
    for (uint32_t i = 0; i < def->n_parents; i++)
        if (core_job_find(c, def->parents[i]) == NULL)
            return chr_error_set(err, CHR_EINVAL, "parents", "unknown job '%s'",
                                 def->parents[i]);
    struct core_job *j = core_job_find(c, def->name);
    return j != NULL ? check_cycle(c, j, def, err) : CHR_OK;
}

/* ---- Put -------------------------------------------------------------------------- */

/* Counts for the parents of `def`, keeping the old count (of `old`, parallel
 * to old_def's parents) of every parent that stays.  *out is NULL when def
 * has no parents or old is NULL and `always` is false. */
enum chr_err core_remap_counts(const struct chr_job *old_def, const uint32_t *old, uint32_t n_old,
                               const struct chr_job *def, bool always, uint32_t **out)
{
    *out = NULL;
    if (def->n_parents == 0 || (old == NULL && !always))
        return CHR_OK;
    uint32_t *v = chr_calloc(def->n_parents, sizeof *v);
    if (v == NULL)
        return CHR_ENOMEM;
    for (uint32_t i = 0; old != NULL && i < def->n_parents; i++)
        for (uint32_t k = 0; k < old_def->n_parents && k < n_old; k++)
            if (strcmp(def->parents[i], old_def->parents[k]) == 0)
                v[i] = old[k];
    *out = v;
    return CHR_OK;
}

static int64_t first_instant(struct chr_core *c, const struct chr_schedule *s)
{
    int64_t next;
    if (chr_schedule_next(s, c->now_ms - CORE_START_GRACE_MS, &next) != CHR_OK)
        return INT64_MAX;
    return next;
}

static int64_t tombstone_take(struct chr_core *c, const char *name)
{
    for (size_t i = 0; i < c->n_tombs; i++) {
        if (strcmp(c->tombs[i].name, name) != 0)
            continue;
        int64_t v = c->tombs[i].last_run_due_ms;
        c->tombs[i] = c->tombs[--c->n_tombs];
        return v;
    }
    return INT64_MIN;
}

static enum chr_err put_create(struct chr_core *c, struct chr_event *ev,
                               const struct chr_schedule *sched, bool scheduled,
                               struct chr_constraints *cons)
{
    struct chr_job *def = &ev->u.job.job;
    struct core_job *j = chr_calloc(1, sizeof *j);
    struct chr_job *box = chr_job_box_pack(def);
    uint32_t *counters = NULL;
    if (j == NULL || box == NULL || core_remap_counts(def, NULL, 0, def, true, &counters) != CHR_OK ||
        core_jobmap_reserve(&c->jobs, 1) != CHR_OK || core_due_room(c) != CHR_OK ||
        core_edges_reserve(c, def) != CHR_OK || core_reply_reserve(c) != CHR_OK ||
        core_reserve(c, 2, 1, core_state_snap_bound(c, &j->st) + def->n_parents * 4) != CHR_OK) {
        chr_free(counters);
        chr_free(j);
        chr_job_unbox(box);
        return CHR_ENOMEM;
    }
    chr_job_box_fill(box, def);
    j->def = box;
    j->cons = cons;
    chr_job_state_init(&j->st);
    j->st.parent_successes = counters;
    j->st.n_parent_successes = j->def->n_parents;
    j->st.last_run_due_ms = tombstone_take(c, j->def->name);
    j->heap_idx = -1;
    j->skip_until_ms = INT64_MIN;
    j->scheduled = scheduled;
    if (scheduled) {
        j->sched = *sched;
        j->st.next_ms = first_instant(c, sched);
    }
    core_job_register(c, j);
    core_edges_add(c, j);
    core_due_requeue(c, j);
    core_batch_begin(c);
    core_batch_job(c, j);
    core_batch_end(c);
    core_reply(c, ev->request_id, CHR_OK, "created job '%s'", j->def->name);
    return CHR_OK;
}

static bool same_schedule(const struct core_job *j, const struct chr_job *def, bool scheduled)
{
    return j->scheduled == scheduled && str_eq(j->def->schedule, def->schedule) &&
           str_eq(chr_job_zone(j->def), chr_job_zone(def));
}

void core_put_apply(struct chr_core *c, struct core_job *j, struct chr_job *def,
                    struct chr_job *box, const struct chr_schedule *sched, bool scheduled,
                    uint32_t *counters[2], struct chr_constraints *cons)
{
    bool same = same_schedule(j, def, scheduled);
    bool enabled = j->def->disabled && !def->disabled;
    core_edges_remove(c, j);
    core_grave_def(c, j->def);
    chr_job_box_fill(box, def);
    j->def = box;
    chr_constraints_free(j->cons); /* only the core matches: no reader keeps them */
    j->cons = cons;
    j->cons_bad = false;
    core_edges_add(c, j);
    chr_free(j->st.parent_successes);
    j->st.parent_successes = counters[0];
    j->st.n_parent_successes = j->def->n_parents;
    chr_free(j->pre);
    j->pre = counters[1];
    if (j->pre == NULL)
        j->n_pre_runs = 0;
    j->scheduled = scheduled;
    if (scheduled)
        j->sched = *sched;
    if (!same) {
        j->st.schedule_epoch++;
        j->st.instants_handled = 0;
        j->st.next_ms = scheduled ? first_instant(c, sched) : INT64_MAX;
        j->skip_until_ms = INT64_MIN;
        j->ledger_open = false;
    } else if (enabled) {
        j->skip_until_ms = c->now_ms;
    }
    core_due_requeue(c, j);
    if (j->n_waiting > 0) /* its runs' needs or concurrency may have changed */
        c->dispatch_dirty = c->demand_new = true;
}

static enum chr_err put_replace(struct chr_core *c, struct core_job *j, struct chr_event *ev,
                                const struct chr_schedule *sched, bool scheduled,
                                struct chr_constraints *cons)
{
    struct chr_job *def = &ev->u.job.job;
    /* Instants that came under the old definition are handled under it. */
    enum chr_err e = core_due_job_now(c, j);
    if (e != CHR_OK)
        return e;
    uint32_t *counters[2] = {NULL, NULL};
    struct chr_job *box = chr_job_box_pack(def);
    if (box == NULL ||
        core_remap_counts(j->def, j->st.parent_successes, j->st.n_parent_successes, def, true,
                          &counters[0]) != CHR_OK ||
        core_remap_counts(j->def, j->pre, j->st.n_parent_successes, def, false, &counters[1]) !=
            CHR_OK ||
        core_edges_reserve(c, def) != CHR_OK || core_grave_def_reserve(c) != CHR_OK ||
        core_reply_reserve(c) != CHR_OK ||
        core_reserve(c, 2, 1, core_state_snap_bound(c, &j->st) + def->n_parents * 4) != CHR_OK) {
        chr_free(counters[0]);
        chr_free(counters[1]);
        chr_job_unbox(box);
        return CHR_ENOMEM;
    }
    core_put_apply(c, j, def, box, sched, scheduled, counters, cons);
    core_batch_begin(c);
    core_batch_job(c, j);
    core_batch_end(c);
    core_reply(c, ev->request_id, CHR_OK, "replaced job '%s'", j->def->name);
    if (j->def->n_parents > 0)
        core_check_add(c, j);
    return CHR_OK;
}

enum chr_err core_put_job(struct chr_core *c, struct chr_event *ev)
{
    struct chr_job *def = &ev->u.job.job;
    struct chr_schedule sched;
    struct chr_error err;
    bool scheduled = false;
    chr_error_clear(&err);
    if (core_reply_reserve(c) != CHR_OK)
        return CHR_ENOMEM;
    /* The job's own validation compiles its constraints: they are kept. */
    struct chr_constraints *cons = NULL;
    enum chr_err e = chr_job_validate_keep(def, &cons, &err);
    if (e == CHR_OK)
        e = core_check_def(c, def, &sched, &scheduled, &err);
    size_t cap = core_jobs_cap(c);
    if (e == CHR_OK && c->jobs.n >= cap && core_job_find(c, def->name) == NULL)
        e = chr_error_set(&err, CHR_ERANGE, "name",
                          "the registry holds %zu jobs, its cap (max_jobs %zu): delete jobs or "
                          "raise max_jobs", c->jobs.n, cap);
    if (e != CHR_OK)
        chr_constraints_free(cons);
    if (e == CHR_ENOMEM)
        return e;
    if (e != CHR_OK) {
        core_reply(c, ev->request_id, e, "%s", err.message);
        chr_job_free(def);
        return CHR_OK;
    }
    struct core_job *j = core_job_find(c, def->name);
    e = j != NULL ? put_replace(c, j, ev, &sched, scheduled, cons)
                  : put_create(c, ev, &sched, scheduled, cons);
    if (e != CHR_OK)
        chr_constraints_free(cons); /* nothing applied: the event is fed again */
    return e;
}

/* ---- Named requests ---------------------------------------------------------------------- */

/* The job a named request (delete, run, kill, mark success) is about, with
 * its reply reserved.  CHR_ENOMEM: nothing done.  CHR_OK with *j NULL: the
 * request was answered "not found". */
enum chr_err core_named_job(struct chr_core *c, const struct chr_event *ev, const char **name,
                            struct core_job **j)
{
    *name = ev->u.named.name != NULL ? ev->u.named.name : "";
    *j = core_job_find(c, *name);
    if (core_reply_reserve(c) != CHR_OK)
        return CHR_ENOMEM;
    if (*j == NULL)
        core_reply(c, ev->request_id, CHR_ENOENT, "job '%.200s' not found", *name);
    return CHR_OK;
}

/* The snapshot bytes of a job's active runs; their number into *n. */
size_t core_runs_snap_bytes(const struct core_job *j, size_t *n)
{
    size_t bytes = 0;
    *n = 0;
    for (const struct core_run *r = j->runs; r != NULL; r = r->job_next, (*n)++)
        bytes += core_run_snap_size(&r->r);
    return bytes;
}

/* ---- Run now, kill, mark success ------------------------------------------------------ */

enum chr_err core_run_job(struct chr_core *c, const struct chr_event *ev)
{
    const char *name;
    struct core_job *j;
    enum chr_err e = core_named_job(c, ev, &name, &j);
    if (e != CHR_OK || j == NULL)
        return e;
    if (c->runs.n >= CHR_RUNS_ACTIVE_MAX) {
        core_reply(c, ev->request_id, CHR_ERANGE, "%d runs are active already",
                   CHR_RUNS_ACTIVE_MAX);
        return CHR_OK;
    }
    struct core_run *r = core_run_new(c, j, CHR_CAUSE_MANUAL, c->now_ms, 0, ev->u.named.arguments);
    if (r == NULL)
        return CHR_ENOMEM;
    size_t bytes = core_run_snap_size(&r->r) + core_state_snap_bound(c, &j->st);
    if (core_run_reserve(c, 1) != CHR_OK || core_reserve(c, 1, 2, bytes) != CHR_OK) {
        core_run_free(r);
        return CHR_ENOMEM;
    }
    core_batch_begin(c);
    core_run_record(c, r);
    core_batch_state(c, j);
    core_batch_end(c);
    core_reply(c, ev->request_id, CHR_OK, "%s", r->r.id);
    return CHR_OK;
}

/* Kills the job's active runs (only: that one run, when not NULL). */
static void kill_commit(struct chr_core *c, struct core_job *j, const char *only, size_t *killed,
                        size_t *signalled)
{
    core_batch_begin(c);
    struct core_run *next;
    for (struct core_run *r = j->runs; r != NULL; r = next) {
        next = r->job_next;
        if (only != NULL && strcmp(r->r.id, only) != 0)
            continue;
        if (r->counted == CORE_COUNT_STARTED) {
            core_emit_run(c, CHR_ACT_KILL, &r->r);
            (*signalled)++;
            continue;
        }
        core_run_unlink(c, r);
        r->r.state = CHR_RUN_KILLED;
        r->r.ended_ms = c->now_ms;
        r->r.exit_code = -1;
        snprintf(r->r.reason, sizeof r->r.reason, "killed by request before it started");
        core_history_add(c, j, &r->r);
        core_batch_run_done(c, r);
        (*killed)++;
    }
    if (*killed > 0)
        core_batch_state(c, j);
    core_batch_end(c);
}

enum chr_err core_kill_job(struct chr_core *c, const struct chr_event *ev)
{
    const char *name;
    struct core_job *j;
    enum chr_err e = core_named_job(c, ev, &name, &j);
    if (e != CHR_OK || j == NULL)
        return e;
    size_t n = 0, bytes = core_state_snap_bound(c, &j->st) + core_runs_snap_bytes(j, &n);
    if (core_state_arrays(c, &j->st, false, true) != CHR_OK ||
        core_reserve(c, n + 2, n + 1, bytes) != CHR_OK)
        return CHR_ENOMEM;
    size_t killed = 0, signalled = 0;
    const char *only = ev->u.named.run_id;
    kill_commit(c, j, only, &killed, &signalled);
    if (only != NULL && killed + signalled == 0)
        core_reply(c, ev->request_id, CHR_ENOENT, "run '%s' is not active", only);
    else
        core_reply(c, ev->request_id, CHR_OK, "job '%s': %zu waiting runs killed, %zu signalled",
                   name, killed, signalled);
    return CHR_OK;
}

enum chr_err core_mark_success(struct chr_core *c, const struct chr_event *ev)
{
    const char *name;
    struct core_job *j;
    enum chr_err e = core_named_job(c, ev, &name, &j);
    if (e != CHR_OK || j == NULL)
        return e;
    size_t items = 1, bytes = core_state_snap_bound(c, &j->st);
    if (core_fire_prepare(c, j, 0, &items, &bytes) != CHR_OK)
        return CHR_ENOMEM;
    if (core_reserve(c, 2 + j->n_children, items, bytes) != CHR_OK) {
        core_fire_cancel(c, j);
        return CHR_ENOMEM;
    }
    core_batch_begin(c);
    core_stats_success(c, j);
    core_job_reset_counters(j);
    core_fire_commit(c, j);
    core_batch_state(c, j);
    core_batch_end(c);
    core_reply(c, ev->request_id, CHR_OK, "job '%s' marked successful", name);
    return CHR_OK;
}
