/*
 * core_run.c - the run state machine: a run is RECORDING until its record is
 * durable, then QUEUED (delayed while a retry waits, then ready), LAUNCHING
 * once sent to an offer, RUNNING, and finally FINISHED, FAILED, KILLED or
 * LOST, when its record is deleted in the same batch that records the
 * outcome: the job's counters, a retry, and the dependents it fires.
 *
 * Rules (core.h has the contract; these are the choices):
 * - A run is never launched before its record is durable, nor earlier than
 *   the launch lead before its due_ms or (retries) the end of its delay; the
 *   LAUNCH says when that is (not_before_ms) and the resource manager does
 *   not start the task before it.
 * - Retries: attempt < retries gives a retry run with the same due_ms and
 *   attempt + 1, persisted (so failover keeps it), dispatchable after the
 *   job's retry delay (x 2^attempt with retryBackoff, capped), and also
 *   after a previous failure (unlike Chronos).  Killed runs are not retried.
 * - Dependents: a child counts successes of each parent since it last
 *   started (launch).  When every count is >= 1 and the child has no waiting
 *   run, it gets a DEPENDENT run in the parent's batch; successes while a run
 *   waits are absorbed into it.  Counters reset when a run of the child is
 *   launched; that reset is persisted with the launch so a restart knows.
 * - A job whose runs keep failing before they start is flagged after
 *   CORE_LAUNCH_FAILURES_FLAG in a row; its retries then back off.
 *
 * No I/O, no clock.
 */
#include "scheduler/core_int.h"

#include <stdio.h>
#include <string.h>

/* ---- Creation and linking ------------------------------------------------- */

void core_run_free(struct core_run *r)
{
    if (r == NULL)
        return;
    chr_free(r->r.arguments);
    chr_free(r);
}

struct core_run *core_run_new(struct chr_core *c, struct core_job *j, enum chr_run_cause cause,
                              int64_t due_ms, int32_t attempt, const char *arguments)
{
    struct core_run *r = chr_calloc(1, sizeof *r);
    if (r == NULL)
        return NULL;
    if (arguments != NULL && (r->r.arguments = chr_strndup(arguments, strlen(arguments))) == NULL) {
        chr_free(r);
        return NULL;
    }
    if ((cause == CHR_CAUSE_MANUAL || cause == CHR_CAUSE_DEPENDENT) &&
        due_ms <= j->st.last_run_due_ms)
        due_ms = j->st.last_run_due_ms + 1;
    snprintf(r->r.id, sizeof r->r.id, "ct:%lld:%d:%s", (long long)due_ms, (int)attempt,
             j->def->name);
    snprintf(r->r.job, sizeof r->r.job, "%s", j->def->name);
    r->r.cause = cause;
    r->r.state = CHR_RUN_RECORDING;
    r->r.due_ms = due_ms;
    r->r.attempt = attempt;
    r->r.created_ms = c->now_ms;
    r->r.launched_ms = r->r.started_ms = r->r.ended_ms = INT64_MIN;
    r->job = j;
    r->seq = core_seq(c);
    r->ready_ms = due_ms;
    r->heap_idx = -1;
    r->wait_idx = -1;
    return r;
}

static enum chr_err heap_room(struct core_heap *h, size_t need)
{
    return need > h->n ? core_heap_reserve(h, need - h->n) : CHR_OK;
}

enum chr_err core_run_reserve(struct chr_core *c, size_t n)
{
    enum chr_err e;
    if ((e = core_runmap_reserve(&c->runs, n)) != CHR_OK ||
        (e = heap_room(&c->delayed, c->runs.n + n)) != CHR_OK ||
        (e = heap_room(&c->ready, c->runs.n + n)) != CHR_OK)
        return e;
    return CHR_OK;
}

void core_run_count(struct chr_core *c, struct core_run *r, enum core_run_count to)
{
    struct core_job *j = r->job;
    if (r->counted == CORE_COUNT_WAITING) {
        j->n_waiting--;
        c->n_waiting--;
    } else if (r->counted == CORE_COUNT_STARTED) {
        j->n_started--;
    }
    if (to == CORE_COUNT_WAITING) {
        j->n_waiting++;
        c->n_waiting++;
    } else if (to == CORE_COUNT_STARTED) {
        j->n_started++;
    }
    r->counted = (uint8_t)to;
}

static void job_list_add(struct core_job *j, struct core_run *r)
{
    r->job_next = NULL;
    r->job_prev = j->runs_tail;
    if (j->runs_tail != NULL)
        j->runs_tail->job_next = r;
    else
        j->runs = r;
    j->runs_tail = r;
}

static void job_list_remove(struct core_job *j, struct core_run *r)
{
    if (r->job_prev != NULL)
        r->job_prev->job_next = r->job_next;
    else
        j->runs = r->job_next;
    if (r->job_next != NULL)
        r->job_next->job_prev = r->job_prev;
    else
        j->runs_tail = r->job_prev;
    r->job_prev = r->job_next = NULL;
}

static void rec_remove(struct chr_core *c, struct core_run *r)
{
    if (r->rec_prev != NULL)
        r->rec_prev->rec_next = r->rec_next;
    else
        c->rec_head = r->rec_next;
    if (r->rec_next != NULL)
        r->rec_next->rec_prev = r->rec_prev;
    else
        c->rec_tail = r->rec_prev;
    r->rec_prev = r->rec_next = NULL;
}

void core_run_attach(struct chr_core *c, struct core_run *r)
{
    core_runmap_insert(&c->runs, r);
    job_list_add(r->job, r);
}

void core_run_record(struct chr_core *c, struct core_run *r)
{
    struct core_job *j = r->job;
    core_run_attach(c, r);
    r->r.state = CHR_RUN_RECORDING;
    r->rec_batch = core_batch_id(c);
    r->rec_next = NULL;
    r->rec_prev = c->rec_tail;
    if (c->rec_tail != NULL)
        c->rec_tail->rec_next = r;
    else
        c->rec_head = r;
    c->rec_tail = r;
    core_run_count(c, r, CORE_COUNT_WAITING);
    if (r->r.due_ms > j->st.last_run_due_ms)
        j->st.last_run_due_ms = r->r.due_ms;
    core_batch_run(c, r);
}

void core_run_heap_out(struct chr_core *c, struct core_run *r)
{
    if (r->where == CORE_IN_DELAYED)
        core_heap_remove(&c->delayed, r->heap_idx);
    else if (r->where == CORE_IN_READY)
        core_heap_remove(&c->ready, r->heap_idx);
    r->where = CORE_NOWHERE;
}

static void push_ready(struct chr_core *c, struct core_run *r)
{
    r->high = r->job->def->high_priority;
    core_heap_push(&c->ready, r->high ? 0 : 1, r->r.due_ms, r->seq, r);
    r->where = CORE_IN_READY;
    c->dispatch_dirty = true;
    c->demand_new = true;
}

/* Before this the task must not start: its due_ms, or a retry's end of
 * delay.  It is launched from a lead before. */
static int64_t not_before_ms(const struct core_run *r)
{
    return r->ready_ms > r->r.due_ms ? r->ready_ms : r->r.due_ms;
}

void core_run_enqueue(struct chr_core *c, struct core_run *r)
{
    r->r.state = CHR_RUN_QUEUED;
    int64_t ready = not_before_ms(r);
    if (ready > core_horizon_ms(c)) {
        core_heap_push(&c->delayed, ready, 0, r->seq, r);
        r->where = CORE_IN_DELAYED;
    } else {
        push_ready(c, r);
    }
}

void core_runs_recorded(struct chr_core *c, uint64_t batch)
{
    while (c->rec_head != NULL && c->rec_head->rec_batch <= batch) {
        struct core_run *r = c->rec_head;
        rec_remove(c, r);
        core_run_enqueue(c, r);
    }
}

void core_runs_promote(struct chr_core *c)
{
    const struct core_heap_ent *top;
    while ((top = core_heap_top(&c->delayed)) != NULL && top->k1 <= core_horizon_ms(c)) {
        struct core_run *r = top->owner;
        core_heap_remove(&c->delayed, r->heap_idx);
        push_ready(c, r);
    }
}

void core_run_unlink(struct chr_core *c, struct core_run *r)
{
    core_run_heap_out(c, r);
    core_wait_out(c, r);
    if (r->r.state == CHR_RUN_RECORDING)
        rec_remove(c, r);
    core_run_count(c, r, CORE_COUNT_NONE);
    core_runmap_remove(&c->runs, r);
    job_list_remove(r->job, r);
    r->grave_next = c->grave_runs;
    c->grave_runs = r;
    c->dispatch_dirty = true;
    c->demand_new = true; /* its job may start another run; resources came back */
}

/* ---- Launch ------------------------------------------------------------------- */

bool core_job_may_start(const struct core_job *j)
{
    return j->def->concurrent || j->n_started == 0;
}

bool core_job_reset_counters(struct core_job *j)
{
    bool any = false;
    for (uint32_t i = 0; i < j->st.n_parent_successes; i++) {
        any = any || j->st.parent_successes[i] != 0;
        j->st.parent_successes[i] = 0;
    }
    if (any)
        j->unsaved = true;
    return any;
}

size_t core_launch_bytes(const struct chr_core *c, const struct core_run *r)
{
    return core_run_snap_size(&r->r) + core_state_snap_bound(c, &r->job->st);
}

void core_run_launch(struct chr_core *c, struct core_run *r, uint64_t offer_id)
{
    struct core_job *j = r->job;
    CHR_ASSERT(r->where == CORE_NOWHERE && r->r.state == CHR_RUN_QUEUED);
    r->r.state = CHR_RUN_LAUNCHING;
    r->r.launched_ms = c->now_ms;
    r->r.offer_id = offer_id;
    r->res_wait = false;
    core_wait_out(c, r);
    r->r.reason[0] = '\0';
    core_run_count(c, r, CORE_COUNT_STARTED);
    core_job_reset_counters(j);
    if (j->def->n_parents > 0) {
        /* The counters' reset must survive a restart together with the fact
         * that this run was launched: core_load.c reads the run's state to
         * tell counts from before the launch from counts after it.  The
         * launch does not wait for this batch. */
        core_batch_begin(c);
        core_batch_run(c, r);
        core_batch_state(c, j);
        core_batch_end(c);
    }
    core_emit_launch(c, r, offer_id, not_before_ms(r));
}

/* ---- Retries and counters ------------------------------------------------------ */

int64_t core_retry_delay_ms(const struct chr_core *c, const struct core_job *j, int32_t attempt)
{
    int64_t base = j->def->retry_delay_ms > 0 ? j->def->retry_delay_ms : c->cfg.default_retry_delay_ms;
    int64_t shift = j->def->retry_backoff ? attempt : 0;
    if (j->st.flagged && j->st.launch_failures > shift)
        shift = j->st.launch_failures;
    if (shift <= 0)
        return base;
    int64_t d = base;
    for (int64_t i = 0; i < shift && d < CHR_JOB_RETRY_BACKOFF_CAP_MS; i++)
        d *= 2;
    if (d > CHR_JOB_RETRY_BACKOFF_CAP_MS)
        d = CHR_JOB_RETRY_BACKOFF_CAP_MS;
    return d > base ? d : base;
}

void core_stats_success(struct chr_core *c, struct core_job *j)
{
    j->st.stats.success_count++;
    j->st.stats.errors_since_last_success = 0;
    j->st.stats.last_success_ms = c->now_ms;
}

void core_stats_failure(struct chr_core *c, struct core_job *j)
{
    j->st.stats.error_count++;
    j->st.stats.errors_since_last_success++;
    j->st.stats.last_error_ms = c->now_ms;
}

void core_stats_task_time(struct core_job *j, const struct chr_run *r)
{
    if (r->started_ms < 0 || r->ended_ms <= r->started_ms) /* INT64_MIN: never */
        return;
    int64_t d = r->ended_ms - r->started_ms, *t = &j->st.stats.task_time_ms;
    *t = *t > INT64_MAX - d ? INT64_MAX : *t + d;
}

/* ---- Dependents ------------------------------------------------------------------- */

/* Would child fire if parent number idx succeeded now? */
static bool child_fires(const struct chr_core *c, const struct core_job *child, uint32_t idx,
                        size_t runs_extra)
{
    const struct chr_job_state *st = &child->st;
    if (child->def->disabled || child->pre != NULL || child->n_waiting > 0 || child->dead)
        return false;
    if (st->n_parent_successes != child->def->n_parents || c->runs.n + runs_extra >= CHR_RUNS_ACTIVE_MAX)
        return false;
    for (uint32_t i = 0; i < st->n_parent_successes; i++)
        if (st->parent_successes[i] == 0 && i != idx)
            return false;
    return true;
}

enum chr_err core_fire_prepare(struct chr_core *c, struct core_job *p, size_t extra_runs,
                               size_t *items, size_t *bytes)
{
    if (core_prep_reserve(c, p->n_children) != CHR_OK)
        return CHR_ENOMEM;
    size_t n = 0;
    for (uint32_t k = 0; k < p->n_children; k++) {
        struct core_job *child = p->children[k].child;
        struct core_run *r = NULL;
        if (child_fires(c, child, p->children[k].parent_idx, extra_runs + n)) {
            r = core_run_new(c, child, CHR_CAUSE_DEPENDENT, c->now_ms, 0, NULL);
            if (r == NULL) {
                for (uint32_t i = 0; i < k; i++)
                    core_run_free(c->prep[i]);
                return CHR_ENOMEM;
            }
            n++;
            *items += 1;
            *bytes += core_run_snap_size(&r->r);
        }
        c->prep[k] = r;
        *items += 1;
        *bytes += core_state_snap_bound(c, &child->st);
    }
    if (core_run_reserve(c, extra_runs + n) != CHR_OK) {
        core_fire_cancel(c, p);
        return CHR_ENOMEM;
    }
    return CHR_OK;
}

void core_fire_cancel(struct chr_core *c, struct core_job *p)
{
    for (uint32_t k = 0; k < p->n_children; k++) {
        core_run_free(c->prep[k]);
        c->prep[k] = NULL;
    }
}

void core_fire_commit(struct chr_core *c, struct core_job *p)
{
    for (uint32_t k = 0; k < p->n_children; k++) {
        struct core_job *child = p->children[k].child;
        uint32_t idx = p->children[k].parent_idx;
        if (idx < child->st.n_parent_successes && child->st.parent_successes[idx] < UINT32_MAX)
            child->st.parent_successes[idx]++;
        if (c->prep[k] != NULL)
            core_run_record(c, c->prep[k]);
        else if (child->pre == NULL && child->n_waiting > 0)
            core_note(c, "job '%s': parent '%s' succeeded while a run waits; absorbed into it",
                      child->def->name, p->def->name);
        c->prep[k] = NULL;
        core_batch_state(c, child);
    }
}

void core_check_add(struct chr_core *c, struct core_job *j)
{
    if (j->in_checks || j->def->n_parents == 0)
        return;
    j->in_checks = true;
    j->check_next = c->checks;
    c->checks = j;
}

/* A dependent job whose counters changed outside a parent's success (a
 * restart's doubt resolved): fire it if it is ready now. */
static enum chr_err check_one(struct chr_core *c, struct core_job *j)
{
    const struct chr_job_state *st = &j->st;
    bool ready = !j->dead && !j->def->disabled && j->pre == NULL && j->n_waiting == 0 &&
                 st->n_parent_successes > 0 && st->n_parent_successes == j->def->n_parents &&
                 c->runs.n < CHR_RUNS_ACTIVE_MAX;
    for (uint32_t i = 0; ready && i < st->n_parent_successes; i++)
        ready = st->parent_successes[i] > 0;
    if (!ready && !j->unsaved)
        return CHR_OK;
    struct core_run *r = NULL;
    if (ready && (r = core_run_new(c, j, CHR_CAUSE_DEPENDENT, c->now_ms, 0, NULL)) == NULL)
        return CHR_ENOMEM;
    size_t bytes = core_state_snap_bound(c, st) + (r != NULL ? core_run_snap_size(&r->r) : 0);
    if ((r != NULL && core_run_reserve(c, 1) != CHR_OK) || core_reserve(c, 1, 2, bytes) != CHR_OK) {
        core_run_free(r);
        return CHR_ENOMEM;
    }
    core_batch_begin(c);
    if (r != NULL)
        core_run_record(c, r);
    core_batch_state(c, j);
    core_batch_end(c);
    return CHR_OK;
}

void core_checks_process(struct chr_core *c)
{
    while (c->checks != NULL) {
        struct core_job *j = c->checks;
        if (check_one(c, j) != CHR_OK) {
            c->more_work = true;
            return;
        }
        c->checks = j->check_next;
        j->in_checks = false;
        j->check_next = NULL;
    }
}
