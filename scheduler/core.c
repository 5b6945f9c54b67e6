/*
 * core.c - the scheduling core's entry points (core.h): create/destroy, the
 * step that turns one event into actions, the wake-up time, the read-only
 * queries, and the registry helpers the other core_*.c files share.
 *
 * A step: free what the previous step retired, promote retries whose delay
 * passed, handle due instants (both a launch lead early, core.h), apply the
 * event, handle instants that became due through it, match queued runs to
 * held offers, then decide about offers (decline, suppress, revive).  The
 * core never does I/O, never reads a clock (now_ms is an argument), never
 * starts a thread, never calls back.
 */
#include "scheduler/core_int.h"

#include <stddef.h>
#include <string.h>

uint64_t core_seq(struct chr_core *c)
{
    return ++c->seq;
}

/* ---- Lifecycle ------------------------------------------------------------ */

enum chr_err chr_core_create(const struct chr_core_config *cfg, struct chr_core **out)
{
    struct chr_core *c = chr_calloc(1, sizeof *c);
    if (c == NULL)
        return CHR_ENOMEM;
    c->cfg = *cfg;
    if (c->cfg.default_cpus <= 0)
        c->cfg.default_cpus = 0.1;
    if (c->cfg.default_mem_mb <= 0)
        c->cfg.default_mem_mb = 128;
    if (c->cfg.default_disk_mb <= 0)
        c->cfg.default_disk_mb = 256;
    if (c->cfg.default_retry_delay_ms <= 0)
        c->cfg.default_retry_delay_ms = 60000;
    if (c->cfg.offer_refuse_ms <= 0)
        c->cfg.offer_refuse_ms = 5000;
    if (c->cfg.launch_lead_ms < 0)
        c->cfg.launch_lead_ms = 0;
    if (c->cfg.launch_lead_ms > CHR_CORE_LAUNCH_LEAD_MAX_MS)
        c->cfg.launch_lead_ms = CHR_CORE_LAUNCH_LEAD_MAX_MS;
    c->now_ms = INT64_MIN;
    c->loaded_ms = INT64_MIN;
    core_heap_init(&c->due, offsetof(struct core_job, heap_idx));
    core_heap_init(&c->delayed, offsetof(struct core_run, heap_idx));
    core_heap_init(&c->ready, offsetof(struct core_run, heap_idx));
    core_heap_init(&c->waits, offsetof(struct core_run, wait_idx));
    core_out_init(&c->out);
    c->tombs = chr_calloc(CORE_TOMBSTONES_MAX, sizeof *c->tombs);
    if (c->tombs == NULL) {
        chr_free(c);
        return CHR_ENOMEM;
    }
    *out = c;
    return CHR_OK;
}

void core_job_destroy(struct core_job *j)
{
    chr_job_unbox(j->def);
    chr_constraints_free(j->cons);
    chr_job_state_free(&j->st);
    chr_free(j->children);
    chr_free(j->pre);
    chr_free(j);
}

static void graveyard_free(struct chr_core *c)
{
    while (c->grave_runs != NULL) {
        struct core_run *r = c->grave_runs;
        c->grave_runs = r->grave_next;
        core_run_free(r);
    }
    while (c->grave_jobs != NULL) {
        struct core_job *j = c->grave_jobs;
        c->grave_jobs = j->grave_next;
        core_job_destroy(j);
    }
    for (size_t i = 0; i < c->n_grave_defs; i++)
        chr_job_unbox(c->grave_defs[i]);
    c->n_grave_defs = 0;
}

void chr_core_destroy(struct chr_core *c)
{
    if (c == NULL)
        return;
    graveyard_free(c);
    for (size_t i = 0; i < c->runs.cap; i++) {
        struct core_run *r = c->runs.buckets[i];
        while (r != NULL) {
            struct core_run *next = r->id_next;
            core_run_free(r);
            r = next;
        }
    }
    while (c->loading != NULL) {
        struct core_run *r = c->loading;
        c->loading = r->job_next;
        core_run_free(r);
    }
    struct core_job *j = c->reg_head;
    while (j != NULL) {
        struct core_job *next = j->reg_next;
        core_job_destroy(j);
        j = next;
    }
    core_runmap_free(&c->runs);
    core_jobmap_free(&c->jobs);
    core_heap_free(&c->due);
    core_heap_free(&c->delayed);
    core_heap_free(&c->ready);
    core_heap_free(&c->waits);
    core_out_free(&c->out);
    core_offers_clear(c);
    chr_free(c->offers);
    chr_free(c->replies);
    chr_free(c->tombs);
    chr_free(c->grave_defs);
    chr_free(c->dfs_job);
    chr_free(c->dfs_idx);
    chr_free(c->prep);
    chr_free(c);
}

/* ---- Registry helpers ------------------------------------------------------- */

struct core_job *core_job_find(const struct chr_core *c, const char *name)
{
    return core_jobmap_find(&c->jobs, name, core_hash(name));
}

void core_job_register(struct chr_core *c, struct core_job *j)
{
    j->hash = core_hash(j->def->name);
    j->seq = core_seq(c);
    core_jobmap_insert(&c->jobs, j);
    j->reg_prev = c->reg_tail;
    j->reg_next = NULL;
    if (c->reg_tail != NULL)
        c->reg_tail->reg_next = j;
    else
        c->reg_head = j;
    c->reg_tail = j;
}

void core_job_unregister(struct chr_core *c, struct core_job *j)
{
    core_jobmap_remove(&c->jobs, j);
    if (j->reg_prev != NULL)
        j->reg_prev->reg_next = j->reg_next;
    else
        c->reg_head = j->reg_next;
    if (j->reg_next != NULL)
        j->reg_next->reg_prev = j->reg_prev;
    else
        c->reg_tail = j->reg_prev;
    j->reg_prev = j->reg_next = NULL;
}

enum chr_err core_children_room(struct core_job *p, uint32_t extra)
{
    if (p->n_children + extra <= p->cap_children)
        return CHR_OK;
    uint32_t cap = p->cap_children < 4 ? 4 : p->cap_children;
    while (cap < p->n_children + extra)
        cap *= 2;
    struct core_edge *v = chr_realloc(p->children, cap * sizeof *v);
    if (v == NULL)
        return CHR_ENOMEM;
    p->children = v;
    p->cap_children = cap;
    return CHR_OK;
}

enum chr_err core_edges_reserve(struct chr_core *c, const struct chr_job *def)
{
    for (uint32_t i = 0; i < def->n_parents; i++) {
        struct core_job *p = core_job_find(c, def->parents[i]);
        if (p != NULL && core_children_room(p, 1) != CHR_OK)
            return CHR_ENOMEM;
    }
    return CHR_OK;
}

void core_edges_add(struct chr_core *c, struct core_job *j)
{
    for (uint32_t i = 0; i < j->def->n_parents; i++) {
        struct core_job *p = core_job_find(c, j->def->parents[i]);
        if (p == NULL)
            continue;
        CHR_ASSERT(p->n_children < p->cap_children);
        p->children[p->n_children++] = (struct core_edge){j, i};
    }
}

void core_edges_remove(struct chr_core *c, struct core_job *j)
{
    for (uint32_t i = 0; i < j->def->n_parents; i++) {
        struct core_job *p = core_job_find(c, j->def->parents[i]);
        if (p == NULL)
            continue;
        for (uint32_t k = 0; k < p->n_children; k++) {
            if (p->children[k].child != j)
                continue;
            memmove(&p->children[k], &p->children[k + 1],
                    (p->n_children - k - 1) * sizeof *p->children);
            p->n_children--;
            break;
        }
    }
}

enum chr_err core_grave_def_reserve(struct chr_core *c)
{
    return core_grave_defs_reserve(c, 1);
}

enum chr_err core_grave_defs_reserve(struct chr_core *c, size_t n)
{
    if (c->n_grave_defs + n <= c->cap_grave_defs)
        return CHR_OK;
    size_t cap = c->cap_grave_defs < 8 ? 8 : c->cap_grave_defs * 2;
    while (cap < c->n_grave_defs + n)
        cap *= 2;
    const struct chr_job **v = chr_realloc(c->grave_defs, cap * sizeof *v);
    if (v == NULL)
        return CHR_ENOMEM;
    c->grave_defs = v;
    c->cap_grave_defs = cap;
    return CHR_OK;
}

void core_grave_def(struct chr_core *c, const struct chr_job *def)
{
    CHR_ASSERT(c->n_grave_defs < c->cap_grave_defs);
    c->grave_defs[c->n_grave_defs++] = def;
}

enum chr_err core_prep_reserve(struct chr_core *c, size_t n)
{
    if (n <= c->cap_prep)
        return CHR_OK;
    size_t cap = c->cap_prep < 16 ? 16 : c->cap_prep;
    while (cap < n)
        cap *= 2;
    struct core_run **v = chr_realloc(c->prep, cap * sizeof *v);
    if (v == NULL)
        return CHR_ENOMEM;
    c->prep = v;
    c->cap_prep = cap;
    return CHR_OK;
}

/* ---- The step --------------------------------------------------------------- */

/* Frees what an event hands over when the core does not take it. */
static void event_discard(struct chr_event *ev)
{
    if (ev->type == CHR_EV_PUT_JOB || ev->type == CHR_EV_LOAD_JOB) {
        chr_job_free(&ev->u.job.job);
        if (ev->type == CHR_EV_LOAD_JOB)
            chr_job_state_free(&ev->u.job.state);
    } else if (ev->type == CHR_EV_LOAD_RUN) {
        chr_free(ev->u.run.arguments);
        ev->u.run.arguments = NULL;
    }
}

static bool is_request(enum chr_event_type t)
{
    return t == CHR_EV_PUT_JOB || t == CHR_EV_DELETE_JOB || t == CHR_EV_RUN_JOB ||
           t == CHR_EV_KILL_JOB || t == CHR_EV_MARK_SUCCESS;
}

/* An event the core cannot act on now (failed, or not loaded yet). */
static void refuse_event(struct chr_core *c, struct chr_event *ev, const char *why)
{
    if (is_request(ev->type)) {
        if (core_reply_reserve(c) == CHR_OK)
            core_reply(c, ev->request_id, CHR_EUNAVAIL, "%s", why);
    } else if (ev->type == CHR_EV_OFFER) {
        if (core_reserve(c, 1, 0, 0) == CHR_OK)
            core_emit_decline(c, ev->u.offer.id, c->cfg.offer_refuse_ms);
    } else if (core_reserve(c, 1, 0, 0) == CHR_OK) {
        core_note(c, "event %d ignored: %s", (int)ev->type, why);
    }
    event_discard(ev);
}

static enum chr_err store_done(struct chr_core *c, const struct chr_event *ev)
{
    uint64_t b = ev->u.store.batch_id;
    if (ev->u.store.result != CHR_OK) {
        c->failed = true;
        if (core_reserve(c, 1, 0, 0) == CHR_OK)
            core_note(c, "store batch %llu failed (%s): the core stops; reload from the store",
                      (unsigned long long)b, chr_err_name(ev->u.store.result));
        return CHR_EUNAVAIL;
    }
    if (b > c->last_batch) {
        if (core_reserve(c, 1, 0, 0) == CHR_OK)
            core_note(c, "store reported batch %llu, which was never emitted: ignored",
                      (unsigned long long)b);
        return CHR_OK;
    }
    if (b > c->durable_batch) {
        c->durable_batch = b;
        core_runs_recorded(c, b);
    }
    core_replies_flush(c, false);
    return CHR_OK;
}

static enum chr_err apply_loaded(struct chr_core *c, struct chr_event *ev)
{
    switch (ev->type) {
    case CHR_EV_TIME:
        return CHR_OK;
    case CHR_EV_PUT_JOB:
        return core_put_job(c, ev);
    case CHR_EV_DELETE_JOB:
        return core_delete_job(c, ev);
    case CHR_EV_RUN_JOB:
        return core_run_job(c, ev);
    case CHR_EV_KILL_JOB:
        return core_kill_job(c, ev);
    case CHR_EV_MARK_SUCCESS:
        return core_mark_success(c, ev);
    case CHR_EV_STORE_DONE:
        return store_done(c, ev);
    case CHR_EV_OFFER:
        return core_offer_add(c, &ev->u.offer);
    case CHR_EV_OFFER_RESCINDED:
        core_offer_rescind(c, ev->u.offer.id);
        return CHR_OK;
    case CHR_EV_TASK_STATUS:
        return core_task_status(c, ev);
    default:
        refuse_event(c, ev, "loading is over");
        return CHR_OK;
    }
}

static enum chr_err apply_loading(struct chr_core *c, struct chr_event *ev)
{
    switch (ev->type) {
    case CHR_EV_TIME:
        return CHR_OK;
    case CHR_EV_LOAD_JOB:
        return core_load_job(c, ev);
    case CHR_EV_LOAD_RUN:
        return core_load_run(c, ev);
    case CHR_EV_LOAD_DONE:
        return core_load_done(c);
    default:
        refuse_event(c, ev, "not loaded yet");
        return CHR_OK;
    }
}

static enum chr_err finish(struct chr_core *c, enum chr_err e, struct chr_actions *out)
{
    if (c->failed) {
        core_replies_flush(c, true);
        e = CHR_EUNAVAIL;
    }
    core_out_finish(c, out);
    return e;
}

enum chr_err chr_core_step(struct chr_core *c, int64_t now_ms, struct chr_event *ev,
                           struct chr_actions *out)
{
    if (now_ms > c->now_ms)
        c->now_ms = now_ms;
    graveyard_free(c);
    core_out_reset(&c->out);
    c->more_work = false;
    c->iter_budget = CORE_DUE_ITER_BUDGET;
    if (c->failed) {
        refuse_event(c, ev, "the core has failed (store error); it must be reloaded");
        return finish(c, CHR_EUNAVAIL, out);
    }
    if (!c->loaded) {
        enum chr_err e = apply_loading(c, ev);
        if (!c->loaded)
            return finish(c, e, out);
        core_checks_process(c);
        core_due_process(c);
        core_dispatch(c);
        core_offers_policy(c);
        return finish(c, e, out);
    }
    core_runs_promote(c);
    core_due_process(c);
    enum chr_err e = apply_loaded(c, ev);
    if (!c->failed) {
        core_replies_flush(c, false);
        core_checks_process(c);
        core_due_process(c);
        core_runs_promote(c);
        core_dispatch(c);
        core_waits_process(c);
        core_offers_policy(c);
    }
    return finish(c, e, out);
}

int64_t chr_core_next_wakeup(const struct chr_core *c)
{
    if (!c->loaded || c->failed)
        return INT64_MAX;
    if (c->more_work || c->dispatch_dirty)
        return c->now_ms;
    /* Both queues are keyed by instant; the work on them starts a lead
     * before (core.h). */
    int64_t t = INT64_MAX;
    const struct core_heap_ent *e = core_heap_top(&c->due);
    if (e != NULL && e->k1 < t)
        t = e->k1;
    e = core_heap_top(&c->delayed);
    if (e != NULL && e->k1 < t)
        t = e->k1;
    t = t == INT64_MAX ? t : core_lead_ms(c, t);
    /* A WAITING notice is due at its instant, no lead. */
    e = core_heap_top(&c->waits);
    return e != NULL && e->k1 < t ? e->k1 : t;
}

/* ---- Queries ------------------------------------------------------------------ */

size_t chr_core_job_count(const struct chr_core *c)
{
    return c->jobs.n;
}

const struct chr_job *chr_core_job(const struct chr_core *c, const char *name,
                                   const struct chr_job_state **state)
{
    struct core_job *j = core_job_find(c, name);
    if (state != NULL)
        *state = j != NULL ? &j->st : NULL;
    return j != NULL ? j->def : NULL;
}

void chr_core_each_job(const struct chr_core *c,
                       void (*fn)(void *ctx, const struct chr_job *, const struct chr_job_state *),
                       void *ctx)
{
    for (const struct core_job *j = c->reg_head; j != NULL; j = j->reg_next)
        fn(ctx, j->def, &j->st);
}

size_t chr_core_job_runs(const struct chr_core *c, const char *name, const struct chr_run **out,
                         size_t max)
{
    struct core_job *j = core_job_find(c, name);
    size_t n = 0;
    for (struct core_run *r = j != NULL ? j->runs : NULL; r != NULL && n < max; r = r->job_next)
        out[n++] = &r->r;
    return n;
}

int64_t chr_core_run_ready_ms(const struct chr_run *run)
{
    /* Every run the core hands out is the `r` of one of its core_runs. */
    const struct core_run *r =
        (const struct core_run *)(const void *)((const char *)run - offsetof(struct core_run, r));
    return r->ready_ms > r->r.due_ms ? r->ready_ms : r->r.due_ms;
}

void chr_core_counts(const struct chr_core *c, struct chr_core_counts *out)
{
    memset(out, 0, sizeof *out);
    out->jobs = c->jobs.n;
    out->runs = c->runs.n;
    out->runs_waiting = c->n_waiting;
    out->offers_held = c->n_offers;
    out->batches_pending = (size_t)(c->last_batch - c->durable_batch);
    out->replies_pending = c->n_replies;
    out->loaded = c->loaded;
    out->failed = c->failed;
}
