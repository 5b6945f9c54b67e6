/*
 * core_load.c - startup (and every failover): the stored jobs with their
 * state and the stored open runs come in as LOAD_JOB and LOAD_RUN events;
 * LOAD_DONE links dependencies, asks the resource manager about every open
 * run (RECONCILE), and lets the step catch up missed instants: one late run
 * for each job's latest missed instant (unless past its startingDeadline),
 * the others ledgered as missed while down.
 *
 * A loaded run counts as started (so a non-concurrent job waits) until the
 * manager answers: RUNNING or terminal, or "never started", which queues it
 * for launch again — the manager's launch is idempotent by run id, so a run
 * recorded before a crash is launched once, not twice, not never.
 * No I/O, no clock.
 */
#include "scheduler/core_int.h"

#include <string.h>

/* Gives loaded arrays the capacity the core works with. */
static enum chr_err normalize_ledger(struct chr_job_state *st)
{
    if (st->ledger == NULL) {
        st->ledger_len = 0;
        return CHR_OK;
    }
    if (st->ledger_len > CHR_LEDGER_MAX) {
        memmove(st->ledger, st->ledger + (st->ledger_len - CHR_LEDGER_MAX),
                CHR_LEDGER_MAX * sizeof *st->ledger);
        st->ledger_len = CHR_LEDGER_MAX;
    }
    struct chr_ledger_entry *v = chr_realloc(st->ledger, CHR_LEDGER_MAX * sizeof *v);
    if (v == NULL)
        return CHR_ENOMEM;
    st->ledger = v;
    return CHR_OK;
}

static enum chr_err normalize_history(const struct chr_core *c, struct chr_job_state *st)
{
    uint32_t cap = c->cfg.history_max;
    if (st->history == NULL || cap == 0) {
        chr_free(st->history);
        st->history = NULL;
        st->history_len = 0;
        return CHR_OK;
    }
    if (st->history_len > cap) {
        memmove(st->history, st->history + (st->history_len - cap), cap * sizeof *st->history);
        st->history_len = cap;
    }
    struct chr_run_summary *v = chr_realloc(st->history, cap * sizeof *v);
    if (v == NULL)
        return CHR_ENOMEM;
    st->history = v;
    return CHR_OK;
}

static enum chr_err normalize_counters(const struct chr_job *def, struct chr_job_state *st)
{
    if (st->n_parent_successes == def->n_parents &&
        (def->n_parents == 0 || st->parent_successes != NULL))
        return CHR_OK;
    uint32_t *v = NULL;
    if (def->n_parents > 0 && (v = chr_calloc(def->n_parents, sizeof *v)) == NULL)
        return CHR_ENOMEM;
    for (uint32_t i = 0; st->parent_successes != NULL && i < def->n_parents &&
                         i < st->n_parent_successes; i++)
        v[i] = st->parent_successes[i];
    chr_free(st->parent_successes);
    st->parent_successes = v;
    st->n_parent_successes = def->n_parents;
    return CHR_OK;
}

enum chr_err core_load_job(struct chr_core *c, struct chr_event *ev)
{
    struct chr_job *def = &ev->u.job.job;
    struct chr_job_state *st = &ev->u.job.state;
    if (core_reserve(c, 1, 0, 0) != CHR_OK)
        return CHR_ENOMEM;
    if (def->name == NULL || !chr_job_name_valid(def->name) || core_job_find(c, def->name)) {
        core_note(c, "stored job '%.200s' skipped: bad or repeated name",
                  def->name != NULL ? def->name : "");
        chr_job_free(def);
        chr_job_state_free(st);
        return CHR_OK;
    }
    struct chr_schedule sched;
    struct chr_error err = {{0}, {0}};
    enum chr_err pe = def->schedule != NULL ? core_parse_schedule(c, def, &sched, &err) : CHR_OK;
    if (pe == CHR_ENOMEM)
        return CHR_ENOMEM; /* nothing applied: the event is fed again */
    bool scheduled = def->schedule != NULL && pe == CHR_OK;
    struct chr_constraints *cons = NULL;
    struct chr_error cerr = {{0}, {0}};
    enum chr_err ce = chr_constraints_compile(def->constraints, def->n_constraints, &cons, &cerr);
    struct core_job *j = chr_calloc(1, sizeof *j);
    struct chr_job *box = chr_job_box_pack(def);
    if (ce == CHR_ENOMEM || j == NULL || box == NULL || normalize_ledger(st) != CHR_OK ||
        normalize_history(c, st) != CHR_OK || normalize_counters(def, st) != CHR_OK ||
        core_jobmap_reserve(&c->jobs, 1) != CHR_OK || core_due_room(c) != CHR_OK ||
        core_reserve(c, 2, 0, 0) != CHR_OK) {
        chr_constraints_free(cons);
        chr_free(j);
        chr_job_unbox(box);
        return CHR_ENOMEM;
    }
    if (def->schedule != NULL && !scheduled)
        core_note(c, "stored job '%s' will not run: %s", def->name, err.message);
    if (ce != CHR_OK)
        core_note(c, "stored job '%s' will wait: %s", def->name, cerr.message);
    chr_job_box_fill(box, def);
    j->def = box;
    j->cons = cons;
    j->cons_bad = ce != CHR_OK;
    j->st = *st;
    chr_job_state_init(st);
    j->heap_idx = -1;
    j->skip_until_ms = INT64_MIN;
    j->scheduled = scheduled;
    if (scheduled)
        j->sched = sched;
    int64_t first;
    if (scheduled && ev->u.job.stateless &&
        chr_schedule_next(&j->sched, c->now_ms - CORE_START_GRACE_MS, &first) == CHR_OK)
        j->st.next_ms = first; /* as put_create does */
    core_job_register(c, j);
    core_due_requeue(c, j);
    return CHR_OK;
}

enum chr_err core_load_run(struct chr_core *c, struct chr_event *ev)
{
    struct core_run *r = chr_calloc(1, sizeof *r);
    if (r == NULL)
        return CHR_ENOMEM;
    r->r = ev->u.run;
    ev->u.run.arguments = NULL;
    r->r.id[sizeof r->r.id - 1] = '\0';
    r->r.job[sizeof r->r.job - 1] = '\0';
    r->heap_idx = -1;
    r->wait_idx = -1;
    r->job_next = c->loading; /* reversed at LOAD_DONE */
    c->loading = r;
    return CHR_OK;
}

static bool launched_record(const struct chr_run *r)
{
    return r->state == CHR_RUN_LAUNCHING || r->state == CHR_RUN_RUNNING;
}

/* Everything LOAD_DONE needs, allocated before it changes anything. */
static enum chr_err done_prepare(struct chr_core *c)
{
    size_t n = 0, bytes = 0;
    /* Room for every child of every parent: count them in `visit` (a
     * scratch field, 0 again afterwards, never equal to a DFS mark). */
    for (struct core_job *j = c->reg_head; j != NULL; j = j->reg_next) {
        for (uint32_t i = 0; i < j->def->n_parents; i++) {
            struct core_job *p = core_job_find(c, j->def->parents[i]);
            if (p != NULL)
                p->visit++;
        }
    }
    enum chr_err e = CHR_OK;
    for (struct core_job *p = c->reg_head; p != NULL; p = p->reg_next) {
        if (e == CHR_OK && p->visit > 0)
            e = core_children_room(p, p->visit);
        p->visit = 0;
    }
    if (e != CHR_OK)
        return e;
    for (struct core_run *r = c->loading; r != NULL; r = r->job_next, n++) {
        bytes += core_run_snap_size(&r->r);
        struct core_job *j = core_job_find(c, r->r.job);
        if (j == NULL || launched_record(&r->r) || j->pre != NULL)
            continue;
        bool any = false;
        for (uint32_t i = 0; i < j->st.n_parent_successes; i++)
            any = any || j->st.parent_successes[i] != 0;
        if (!any)
            continue;
        /* Idempotent if LOAD_DONE has to be fed again after ENOMEM. */
        j->pre = chr_malloc(j->st.n_parent_successes * sizeof *j->pre);
        if (j->pre == NULL)
            return CHR_ENOMEM;
        memcpy(j->pre, j->st.parent_successes, j->st.n_parent_successes * sizeof *j->pre);
    }
    if (core_run_reserve(c, n) != CHR_OK || core_reserve(c, 2 * n + 2, n, bytes) != CHR_OK)
        return CHR_ENOMEM;
    return CHR_OK;
}

/* A stored run whose job is gone (or a repeated id): delete and kill it. */
static void load_orphan(struct chr_core *c, struct core_run *r)
{
    core_note(c, "stored run '%s' has no job: deleted and killed", r->r.id);
    core_batch_run_done(c, r);
    core_emit_run(c, CHR_ACT_KILL, &r->r);
    r->grave_next = c->grave_runs;
    c->grave_runs = r;
}

static void load_attach(struct chr_core *c, struct core_run *r, struct core_job *j)
{
    r->job = j;
    r->seq = core_seq(c);
    r->pre_launch = !launched_record(&r->r);
    if (r->pre_launch && j->pre != NULL)
        j->n_pre_runs++;
    r->reconciling = true;
    r->r.state = CHR_RUN_LAUNCHING;
    r->ready_ms = r->r.due_ms;
    if (r->r.cause == CHR_CAUSE_RETRY && r->r.attempt > 0)
        r->ready_ms = r->r.created_ms + core_retry_delay_ms(c, j, r->r.attempt - 1);
    if (r->r.due_ms > j->st.last_run_due_ms)
        j->st.last_run_due_ms = r->r.due_ms;
    core_run_attach(c, r);
    core_run_count(c, r, CORE_COUNT_STARTED);
    core_emit_run(c, CHR_ACT_RECONCILE, &r->r);
}

/* Refuses a loaded job on a dependency cycle (written into the store behind
 * the API's back: the API refuses cycles).  It stays in the store; it is not
 * scheduled, and its open runs are handled as orphans. */
static void refuse_job(struct chr_core *c, struct core_job *j, const struct core_job *via)
{
    core_note(c, "stored job '%s' refused: it is on a dependency cycle (through '%s'); fix or "
              "delete it in the store", j->def->name, via->def->name);
    core_job_unregister(c, j);
    j->dead = true;
    j->grave_next = c->grave_jobs;
    c->grave_jobs = j;
}

/* Depth-first along parent edges from every job (gray: on the path, black:
 * done); a parent found gray closes a cycle, whose jobs (the path from it)
 * are refused.  Jobs downstream of a cycle stay: they wait for parents that
 * never succeed, as any dependent of a missing parent. */
static void refuse_cycles(struct chr_core *c)
{
    uint32_t gray = ++c->visit_epoch, black = ++c->visit_epoch;
    for (struct core_job *start = c->reg_head, *next; start != NULL; start = next) {
        next = start->reg_next;
        if (start->visit == black || start->dead)
            continue;
        size_t depth = 0;
        c->dfs_job[0] = start;
        c->dfs_idx[0] = 0;
        start->visit = gray;
        while (true) {
            struct core_job *x = c->dfs_job[depth];
            if (c->dfs_idx[depth] >= x->def->n_parents) {
                x->visit = black;
                if (depth-- == 0)
                    break;
                continue;
            }
            struct core_job *p = core_job_find(c, x->def->parents[c->dfs_idx[depth]++]);
            if (p == NULL || p->visit == black || p->dead)
                continue;
            if (p->visit == gray) { /* a cycle: p .. x on the path */
                size_t from = depth;
                while (c->dfs_job[from] != p)
                    from--;
                for (size_t k = from; k <= depth; k++)
                    refuse_job(c, c->dfs_job[k], c->dfs_job[k == depth ? from : k + 1]);
                for (size_t k = 0; k <= depth; k++)
                    c->dfs_job[k]->visit = black; /* the rest of this walk is over */
                next = c->reg_head; /* the registry changed: walk it again (black is skipped) */
                break;
            }
            p->visit = gray;
            c->dfs_job[++depth] = p;
            c->dfs_idx[depth] = 0;
        }
    }
    for (struct core_job *j = c->reg_head; j != NULL; j = j->reg_next)
        j->visit = 0; /* done_prepare counts in it from 0 */
}

enum chr_err core_load_done(struct chr_core *c)
{
    if (core_dfs_reserve(c, c->jobs.n + 1) != CHR_OK)
        return CHR_ENOMEM;
    refuse_cycles(c); /* idempotent: what it refused is gone from the registry */
    if (done_prepare(c) != CHR_OK)
        return CHR_ENOMEM;
    struct core_run *rev = NULL;
    while (c->loading != NULL) {
        struct core_run *r = c->loading;
        c->loading = r->job_next;
        r->job_next = rev;
        rev = r;
    }
    for (struct core_job *j = c->reg_head; j != NULL; j = j->reg_next)
        core_edges_add(c, j);
    core_batch_begin(c);
    while (rev != NULL) {
        struct core_run *r = rev;
        rev = r->job_next;
        r->job_next = NULL;
        struct core_job *j = core_job_find(c, r->r.job);
        if (j == NULL || core_runmap_find(&c->runs, r->r.id) != NULL)
            load_orphan(c, r);
        else
            load_attach(c, r, j);
    }
    core_batch_end(c);
    /* A job whose doubt covers no run (all its runs were orphans) has none. */
    for (struct core_job *j = c->reg_head; j != NULL; j = j->reg_next) {
        if (j->pre != NULL && j->n_pre_runs == 0) {
            chr_free(j->pre);
            j->pre = NULL;
        }
    }
    c->loaded = true;
    c->loaded_ms = c->now_ms;
    return CHR_OK;
}
