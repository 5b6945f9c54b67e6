/*
 * core_status.c - what the resource manager says about a run: it runs, it
 * ended (finished, failed, killed, lost), or — answering a reconciliation or
 * a launch whose offer was gone — it never started.
 *
 * A terminal status is one atomic batch: the run's record deleted, the job's
 * counters and history, a retry run, and the runs of dependents it fires.  A
 * status for an id the core does not track is noted; a RUNNING one is a
 * zombie (its job was deleted) and gets a KILL.  No I/O, no clock.
 */
#include "scheduler/core_int.h"

#include <stdio.h>
#include <string.h>

static const char *state_name(enum chr_run_state s)
{
    switch (s) {
    case CHR_RUN_RECORDING: return "RECORDING";
    case CHR_RUN_QUEUED: return "QUEUED";
    case CHR_RUN_LAUNCHING: return "LAUNCHING";
    case CHR_RUN_RUNNING: return "RUNNING";
    case CHR_RUN_FINISHED: return "FINISHED";
    case CHR_RUN_FAILED: return "FAILED";
    case CHR_RUN_KILLED: return "KILLED";
    case CHR_RUN_LOST: return "LOST";
    }
    return "?";
}

static enum chr_err status_unknown(struct chr_core *c, const struct chr_event *ev, const char *id)
{
    bool kill = ev->u.status.state == CHR_RUN_RUNNING;
    if (core_reserve(c, 2, 0, kill ? sizeof(struct chr_run) + 64 : 0) != CHR_OK)
        return CHR_ENOMEM;
    core_note(c, "status %s for unknown run '%.200s'%s", state_name(ev->u.status.state), id,
              kill ? ": a zombie, killed" : ": ignored");
    if (kill) {
        const char *colon = strrchr(id, ':');
        core_emit_kill_id(c, id, colon != NULL ? colon + 1 : "");
    }
    return CHR_OK;
}

/* A loaded run's answer settles the doubt about its job's counters (see
 * core_job.pre): if it started, the loaded counts were from before it. */
static void resolve_pre(struct chr_core *c, struct core_run *r, bool started)
{
    struct core_job *j = r->job;
    if (!r->pre_launch)
        return;
    r->pre_launch = false;
    if (j->pre == NULL)
        return;
    if (started) {
        for (uint32_t i = 0; i < j->st.n_parent_successes; i++)
            j->st.parent_successes[i] -= j->pre[i] < j->st.parent_successes[i]
                                             ? j->pre[i]
                                             : j->st.parent_successes[i];
        j->n_pre_runs = 0;
        j->unsaved = true;
    } else if (--j->n_pre_runs > 0) {
        return;
    }
    chr_free(j->pre);
    j->pre = NULL;
    core_check_add(c, j);
}

/* The run started at the manager without a launch of ours (a reconciled or
 * re-queued run): the counters' reset the launch would have made. */
static void started_elsewhere(struct chr_core *c, struct core_run *r)
{
    bool ours = r->counted == CORE_COUNT_STARTED && !r->reconciling;
    if (r->reconciling)
        resolve_pre(c, r, true);
    else if (!ours)
        core_job_reset_counters(r->job);
    r->reconciling = false;
}

static enum chr_err status_running(struct chr_core *c, struct core_run *r)
{
    struct core_job *j = r->job;
    if (r->r.state == CHR_RUN_RUNNING && !r->reconciling)
        return CHR_OK;
    if (core_reserve(c, 1, 1, core_state_snap_bound(c, &j->st)) != CHR_OK)
        return CHR_ENOMEM;
    core_run_heap_out(c, r);
    started_elsewhere(c, r);
    core_run_count(c, r, CORE_COUNT_STARTED);
    r->r.state = CHR_RUN_RUNNING;
    if (r->r.started_ms == INT64_MIN)
        r->r.started_ms = c->now_ms;
    bool changed = j->st.launch_failures != 0 || j->st.flagged;
    j->st.launch_failures = 0;
    j->st.flagged = false;
    if (changed || j->unsaved) {
        core_batch_begin(c);
        core_batch_state(c, j);
        core_batch_end(c);
    }
    return CHR_OK;
}

static enum chr_err status_not_started(struct chr_core *c, struct core_run *r, uint64_t offer_id)
{
    if (core_reserve(c, 1, 0, 0) != CHR_OK)
        return CHR_ENOMEM;
    bool ours = (r->reconciling && offer_id == 0) ||
                (!r->reconciling && r->r.state == CHR_RUN_LAUNCHING && offer_id != 0 &&
                 offer_id == r->r.offer_id);
    if (!ours) {
        core_note(c, "run '%s' is %s here; 'never started' (offer %llu) ignored", r->r.id,
                  state_name(r->r.state), (unsigned long long)offer_id);
        return CHR_OK;
    }
    if (r->reconciling)
        resolve_pre(c, r, false);
    int64_t delay = 0;
    if (!r->reconciling && r->not_started < 30) {
        int64_t d = r->not_started == 0 ? 0 : 1000LL << (r->not_started - 1);
        delay = d > CORE_NOT_STARTED_BACKOFF_MAX_MS ? CORE_NOT_STARTED_BACKOFF_MAX_MS : d;
        r->not_started++;
    } else if (!r->reconciling) {
        delay = CORE_NOT_STARTED_BACKOFF_MAX_MS;
    }
    r->reconciling = false;
    core_run_count(c, r, CORE_COUNT_WAITING);
    r->r.offer_id = 0; /* launched_ms stays: when the last launch was sent */
    if (delay > 0 && r->ready_ms < c->now_ms + delay)
        r->ready_ms = c->now_ms + delay;
    core_run_enqueue(c, r);
    core_note(c, "run '%s' never started; queued for launch%s", r->r.id,
              delay > 0 ? " after a pause" : "");
    return CHR_OK;
}

static void launch_account(struct chr_core *c, struct core_job *j, const struct chr_run *r)
{
    bool fail = r->state == CHR_RUN_FAILED || r->state == CHR_RUN_LOST;
    bool no_start = r->started_ms == INT64_MIN || r->exit_code == 126 || r->exit_code == 127;
    if (fail && no_start) {
        j->st.launch_failures++;
        if (!j->st.flagged && j->st.launch_failures >= CORE_LAUNCH_FAILURES_FLAG) {
            j->st.flagged = true;
            core_note(c, "job '%s' flagged: %lld launches in a row failed to start (%s)",
                      j->def->name, (long long)j->st.launch_failures, r->reason);
        }
    } else if (r->state == CHR_RUN_FINISHED) {
        j->st.launch_failures = 0;
        j->st.flagged = false;
    }
}

/* The notices of a run's end, in its batch: the outcome for the job
 * (failed or disabled, recovered, recurrences exhausted) and what the run
 * itself tells (lost, timed out).  `disabled`: the job's new definition,
 * when this failure disables it (NULL otherwise). */
static void terminal_notices(struct chr_core *c, struct core_run *r, bool retry, bool recovered,
                             bool disabled)
{
    struct core_job *j = r->job;
    enum chr_run_state st = r->r.state;
    bool fail = st == CHR_RUN_FAILED || st == CHR_RUN_LOST;
    if (fail && !retry)
        core_batch_notice(c, j, disabled ? CHR_NOTICE_DISABLED : CHR_NOTICE_FAILED, &r->r);
    else if (st == CHR_RUN_FINISHED && j->scheduled && j->st.next_ms == INT64_MAX &&
             j->runs == NULL)
        core_batch_notice(c, j, CHR_NOTICE_EXHAUSTED, &r->r);
    else if (st == CHR_RUN_FINISHED && recovered)
        core_batch_notice(c, j, CHR_NOTICE_RECOVERED, &r->r);
    if (st == CHR_RUN_LOST)
        core_batch_notice(c, j, CHR_NOTICE_LOST, &r->r);
    else if (st == CHR_RUN_FAILED && strncmp(r->r.reason, CHR_REASON_MAX_COMPLETION,
                                             strlen(CHR_REASON_MAX_COMPLETION)) == 0)
        core_batch_notice(c, j, CHR_NOTICE_TIMEOUT, &r->r);
}

/* Would a final failure now disable the job (--disable_after_failures)? */
static bool disables(const struct chr_core *c, const struct core_job *j)
{
    int64_t n = c->cfg.disable_after_failures;
    return n > 0 && !j->def->disabled && j->st.stats.errors_since_last_success + 1 >= n;
}

static void terminal_commit(struct chr_core *c, struct core_run *r, struct core_run *retry,
                            const struct chr_event *ev, bool fire, struct chr_job *disabled)
{
    struct core_job *j = r->job;
    enum chr_run_state st = ev->u.status.state;
    started_elsewhere(c, r);
    r->r.state = st;
    r->r.ended_ms = c->now_ms;
    r->r.exit_code = ev->u.status.exit_code;
    snprintf(r->r.reason, sizeof r->r.reason, "%s",
             ev->u.status.reason != NULL ? ev->u.status.reason : "");
    launch_account(c, j, &r->r);
    core_stats_task_time(j, &r->r);
    bool recovered = j->st.stats.errors_since_last_success > 0;
    core_batch_begin(c);
    core_history_add(c, j, &r->r);
    core_batch_run_done(c, r);
    core_run_unlink(c, r);
    if (st == CHR_RUN_FINISHED)
        core_stats_success(c, j);
    else if ((st == CHR_RUN_FAILED || st == CHR_RUN_LOST) && retry == NULL)
        core_stats_failure(c, j);
    if (retry != NULL) {
        retry->ready_ms = c->now_ms + core_retry_delay_ms(c, j, r->r.attempt);
        core_run_record(c, retry);
    }
    if (fire)
        core_fire_commit(c, j);
    if (disabled != NULL) { /* the definition is immutable: a disabled copy replaces it */
        core_grave_def(c, j->def);
        j->def = disabled;
        core_due_requeue(c, j);
        core_note(c, "job '%s' disabled after %lld failures in a row (disable_after_failures)",
                  j->def->name, (long long)j->st.stats.errors_since_last_success);
        core_batch_job(c, j);
    } else {
        core_batch_state(c, j);
    }
    terminal_notices(c, r, retry != NULL, recovered, disabled != NULL);
    core_batch_end(c);
}

/* A disabled copy of j's definition, boxed; NULL on ENOMEM. */
static struct chr_job *disabled_copy(struct chr_core *c, const struct core_job *j)
{
    struct chr_job *box = chr_job_box_new();
    if (box == NULL || core_grave_def_reserve(c) != CHR_OK || chr_job_copy(box, j->def) != CHR_OK) {
        chr_job_unbox(box);
        return NULL;
    }
    box->disabled = true;
    return box;
}

static enum chr_err status_terminal(struct chr_core *c, struct core_run *r,
                                    const struct chr_event *ev)
{
    struct core_job *j = r->job;
    enum chr_run_state st = ev->u.status.state;
    bool fail = st == CHR_RUN_FAILED || st == CHR_RUN_LOST;
    bool retry = fail && r->r.attempt < j->def->retries && c->runs.n < CHR_RUNS_ACTIVE_MAX;
    bool fire = st == CHR_RUN_FINISHED || (fail && !retry && j->def->soft_error);
    /* 3 items, and up to 2 notices */
    size_t items = 5, bytes = core_state_snap_bound(c, &j->st) + 2 * core_run_snap_size(&r->r) +
                              2 * core_notice_bytes();
    if (core_state_arrays(c, &j->st, false, true) != CHR_OK)
        return CHR_ENOMEM;
    struct chr_job *disabled = NULL;
    if (fail && !retry && disables(c, j) && (disabled = disabled_copy(c, j)) == NULL)
        return CHR_ENOMEM;
    struct core_run *rr = NULL;
    if (retry) {
        rr = core_run_new(c, j, CHR_CAUSE_RETRY, r->r.due_ms, r->r.attempt + 1, r->r.arguments);
        if (rr == NULL)
            return CHR_ENOMEM;
    }
    size_t extra = rr != NULL ? 1 : 0;
    enum chr_err e = fire ? core_fire_prepare(c, j, extra, &items, &bytes)
                          : core_run_reserve(c, extra);
    if (e == CHR_OK && (e = core_reserve(c, 3 + j->n_children, items, bytes)) != CHR_OK && fire)
        core_fire_cancel(c, j);
    if (e != CHR_OK) {
        core_run_free(rr);
        chr_job_unbox(disabled);
        return e;
    }
    terminal_commit(c, r, rr, ev, fire, disabled);
    return CHR_OK;
}

enum chr_err core_task_status(struct chr_core *c, const struct chr_event *ev)
{
    const char *id = ev->u.status.run_id != NULL ? ev->u.status.run_id : "";
    struct core_run *r = core_runmap_find(&c->runs, id);
    if (r == NULL)
        return status_unknown(c, ev, id);
    switch (ev->u.status.state) {
    case CHR_RUN_RUNNING:
        if (r->r.state != CHR_RUN_RECORDING)
            return status_running(c, r);
        break;
    case CHR_RUN_QUEUED:
        return status_not_started(c, r, ev->u.status.offer_id);
    case CHR_RUN_FINISHED:
    case CHR_RUN_FAILED:
    case CHR_RUN_KILLED:
    case CHR_RUN_LOST:
        if (r->r.state != CHR_RUN_RECORDING)
            return status_terminal(c, r, ev);
        break;
    default:
        break;
    }
    if (core_reserve(c, 1, 0, 0) != CHR_OK)
        return CHR_ENOMEM;
    core_note(c, "status %s for run '%s' (%s) ignored", state_name(ev->u.status.state), r->r.id,
              state_name(r->r.state));
    return CHR_OK;
}
