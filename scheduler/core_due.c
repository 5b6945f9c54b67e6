/*
 * core_due.c - due instants: the queue of scheduled jobs by next instant and
 * what happens to every instant whose time came.
 *
 * Handling a job takes its instants <= now.  The latest one is the candidate
 * for a run; the earlier ones are coalesced into it and ledgered (missed
 * while down, or while the loop lagged) — K8s CronJob's "latest missed
 * instant only", but never silent.  The candidate itself is ledgered instead
 * of run when the job was disabled at the time, when it is later than the
 * job's startingDeadline, when a previous run of the job waits for resources
 * no offer had (concurrent or not: a job the cluster cannot fit now must not
 * pile up runs), or when a previous run of a non-concurrent job is still
 * waiting.  Each handling is ONE atomic persist batch: the job's state
 * (next instant advanced, ledger, counters) plus the new run.  A long backlog
 * is handled in chunks, each its own batch, so a step stays short.  A burst
 * of jobs due at once makes a batch per job in one step; the server writes
 * the batches of a step together, a few to a store batch (server/loop.c,
 * "Grouping"), so each stays atomic without costing a write of its own.
 *
 * With a launch lead (core.h) a job is handled once its next instant is
 * within the lead of now.  An instant after now is then its own candidate:
 * only instants <= now are ever coalesced, so each future one is handled
 * in turn, as the clock would have brought it.
 *
 * No I/O, no clock: "now" is the step's.
 */
#include "scheduler/core_int.h"

#include <stdio.h>

/* Ledger groups in time order: instants while disabled come first (they are
 * before the enable), then those missed while down, then the merely late. */
enum { G_DISABLED, G_DOWN, G_BUSY, G_N };

static const enum chr_ledger_reason group_reason[G_N] = {
    CHR_LEDGER_SKIPPED_DISABLED,
    CHR_LEDGER_COALESCED_DOWN,
    CHR_LEDGER_COALESCED_BUSY,
};

struct group {
    int64_t first_ms, last_ms, count;
};

struct due_scan {
    struct group g[G_N];
    int64_t cand_ms;  /* the latest instant <= now; INT64_MIN when chunked */
    int64_t next_ms;  /* the job's next_ms afterwards */
    int64_t handled;  /* instants consumed */
};

static int classify(const struct chr_core *c, const struct core_job *j, int64_t at_ms)
{
    if (at_ms < j->skip_until_ms)
        return G_DISABLED;
    if (at_ms <= c->loaded_ms || c->now_ms - at_ms > CORE_LATE_TOLERANCE_MS)
        return G_DOWN;
    return G_BUSY;
}

static void group_add(struct group *g, int64_t at_ms)
{
    if (g->count == 0)
        g->first_ms = at_ms;
    g->last_ms = at_ms;
    g->count++;
}

/* Walks the job's instants from next_ms up to now, at most one chunk.  The
 * candidate is the latest instant <= now, or next_ms itself when that is
 * after now (within the lead). */
static void scan(struct chr_core *c, const struct core_job *j, struct due_scan *s)
{
    *s = (struct due_scan){.cand_ms = INT64_MIN};
    int64_t cur = j->st.next_ms;
    for (int64_t k = 0;; k++) {
        int64_t nx;
        if (chr_schedule_next(&j->sched, cur, &nx) != CHR_OK)
            nx = INT64_MAX;
        c->iter_budget--;
        if (nx > c->now_ms) {
            s->cand_ms = cur;
            s->next_ms = nx;
            s->handled = k + 1;
            return;
        }
        group_add(&s->g[classify(c, j, cur)], cur);
        cur = nx;
        if (k + 1 >= CORE_DUE_CHUNK || c->iter_budget <= 0) {
            s->next_ms = cur;
            s->handled = k + 1;
            return;
        }
    }
}

/* True when a queued run of j is waiting for resources no offer had. */
static bool waits_for_resources(const struct core_job *j)
{
    for (const struct core_run *r = j->runs; r != NULL; r = r->job_next)
        if (r->res_wait && r->r.state == CHR_RUN_QUEUED)
            return true;
    return false;
}

/* What becomes of the candidate instant: a run (true) or *reason. */
static bool candidate_runs(struct chr_core *c, const struct core_job *j, int64_t at_ms,
                           enum chr_ledger_reason *reason)
{
    const struct chr_job *d = j->def;
    *reason = CHR_LEDGER_COALESCED_BUSY;
    if (at_ms < j->skip_until_ms)
        *reason = CHR_LEDGER_SKIPPED_DISABLED;
    else if (at_ms <= j->st.last_run_due_ms)
        return false; /* a run id at or after it exists: the instant is taken */
    else if (d->starting_deadline_ms >= 0 && c->now_ms - at_ms > d->starting_deadline_ms)
        *reason = CHR_LEDGER_SKIPPED_DEADLINE;
    else if (j->n_waiting > 0 && waits_for_resources(j))
        *reason = CHR_LEDGER_COALESCED_WAITING; /* even if concurrent: no pile of waiting runs */
    else if (!d->concurrent && j->n_waiting > 0)
        *reason = CHR_LEDGER_COALESCED_BUSY;
    else if (c->runs.n >= CHR_RUNS_ACTIVE_MAX)
        return false;
    else
        return true;
    return false;
}

static bool scan_ledgers(const struct due_scan *s)
{
    for (int g = 0; g < G_N; g++)
        if (s->g[g].count > 0)
            return true;
    return false;
}

const char *chr_ledger_reason_name(enum chr_ledger_reason r)
{
    switch (r) {
    case CHR_LEDGER_COALESCED_DOWN: return "coalesced-down";
    case CHR_LEDGER_COALESCED_BUSY: return "coalesced-busy";
    case CHR_LEDGER_SKIPPED_DEADLINE: return "skipped-deadline";
    case CHR_LEDGER_SKIPPED_DISABLED: return "skipped-disabled";
    case CHR_LEDGER_COALESCED_WAITING: return "coalesced-waiting-for-resources";
    }
    return "unknown";
}

/* One SKIPPED notice for what this pass ledgered: how many instants, the
 * first and last, and the reason of the first group (cand: the candidate's,
 * 0 when it ran). */
static void ledger_notice(struct chr_core *c, struct core_job *j, const struct due_scan *s,
                          enum chr_ledger_reason cand)
{
    struct chr_notice *n = core_batch_notice(c, j, CHR_NOTICE_SKIPPED, NULL);
    enum chr_ledger_reason first = cand;
    n->first_ms = INT64_MAX;
    for (int g = 0; g < G_N; g++) {
        if (s->g[g].count == 0)
            continue;
        n->count += s->g[g].count;
        if (s->g[g].first_ms < n->first_ms) {
            n->first_ms = s->g[g].first_ms;
            first = group_reason[g];
        }
        n->last_ms = s->g[g].last_ms > n->last_ms ? s->g[g].last_ms : n->last_ms;
    }
    if (cand != 0) {
        n->count++;
        n->first_ms = s->cand_ms < n->first_ms ? s->cand_ms : n->first_ms;
        n->last_ms = s->cand_ms > n->last_ms ? s->cand_ms : n->last_ms;
    }
    snprintf(n->reason, sizeof n->reason, "%s", chr_ledger_reason_name(first));
}

static enum chr_err handle_due(struct chr_core *c, struct core_job *j)
{
    struct due_scan s;
    scan(c, j, &s);
    enum chr_ledger_reason cand_reason = CHR_LEDGER_COALESCED_BUSY;
    bool has_cand = s.cand_ms != INT64_MIN;
    bool run = has_cand && candidate_runs(c, j, s.cand_ms, &cand_reason);
    bool ledger = scan_ledgers(&s) || (has_cand && !run);
    struct core_run *r = NULL;
    if (ledger && core_state_arrays(c, &j->st, true, false) != CHR_OK)
        return CHR_ENOMEM;
    if (run) {
        r = core_run_new(c, j, CHR_CAUSE_SCHEDULED, s.cand_ms, 0, NULL);
        if (r == NULL)
            return CHR_ENOMEM;
    }
    size_t bytes = core_state_snap_bound(c, &j->st) + (r != NULL ? core_run_snap_size(&r->r) : 0) +
                   core_notice_bytes();
    if ((r != NULL && core_run_reserve(c, 1) != CHR_OK) || core_reserve(c, 2, 3, bytes) != CHR_OK) {
        core_run_free(r);
        return CHR_ENOMEM;
    }
    core_batch_begin(c);
    for (int g = 0; g < G_N; g++)
        if (s.g[g].count > 0)
            core_ledger_add(j, group_reason[g], s.g[g].first_ms, s.g[g].last_ms, s.g[g].count);
    if (has_cand && !run)
        core_ledger_add(j, cand_reason, s.cand_ms, s.cand_ms, 1);
    j->st.instants_handled += s.handled;
    j->st.next_ms = s.next_ms;
    if (s.next_ms >= j->skip_until_ms)
        j->skip_until_ms = INT64_MIN;
    if (r != NULL) {
        j->ledger_open = false;
        core_run_record(c, r);
    }
    core_batch_state(c, j);
    if (ledger)
        ledger_notice(c, j, &s, has_cand && !run ? cand_reason : (enum chr_ledger_reason)0);
    core_batch_end(c);
    core_due_requeue(c, j);
    return CHR_OK;
}

enum chr_err core_due_room(struct chr_core *c)
{
    /* Every registered job (plus the one being added) may be queued at once. */
    size_t need = c->jobs.n + 1;
    return need > c->due.n ? core_heap_reserve(&c->due, need - c->due.n) : CHR_OK;
}

void core_due_requeue(struct chr_core *c, struct core_job *j)
{
    bool queued = j->scheduled && !j->def->disabled && !j->dead && j->st.next_ms != INT64_MAX;
    if (!queued) {
        if (j->heap_idx >= 0)
            core_heap_remove(&c->due, j->heap_idx);
        return;
    }
    if (j->heap_idx >= 0)
        core_heap_update(&c->due, j->heap_idx, j->st.next_ms, 0, core_seq(c));
    else
        core_heap_push(&c->due, j->st.next_ms, 0, core_seq(c), j);
}

void core_due_process(struct chr_core *c)
{
    for (;;) {
        const struct core_heap_ent *top = core_heap_top(&c->due);
        if (top == NULL || top->k1 > core_horizon_ms(c))
            return;
        if (c->iter_budget <= 0 || c->out.n_acts >= CHR_STEP_ACTIONS_MAX) {
            c->more_work = true;
            return;
        }
        if (handle_due(c, top->owner) != CHR_OK) {
            c->more_work = true;
            return;
        }
    }
}

enum chr_err core_due_job_now(struct chr_core *c, struct core_job *j)
{
    while (j->heap_idx >= 0 && j->st.next_ms <= core_horizon_ms(c)) {
        enum chr_err e = handle_due(c, j);
        if (e != CHR_OK)
            return e;
    }
    return CHR_OK;
}
