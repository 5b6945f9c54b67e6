/*
 * core_offer.c - offers and matching: the core holds the offers it receives
 * until they are rescinded or used, matches queued runs to them first fit,
 * and tells the resource manager when it needs offers (REVIVE) and when it
 * does not (SUPPRESS, and DECLINE of what it holds).
 *
 * Matching walks ready runs in order (high priority first, then due time,
 * then creation sequence) and takes for each the first held offer, in
 * arrival order, with enough cpus, mem and disk left that admits it: the
 * job's constraints hold for the offer's agent attributes
 * (scheduler/constraint.h), and a container job's offer comes from a
 * manager that runs containers.  A run that fits no offer is skipped, not
 * waited for: no head-of-line blocking.  It keeps its place and says why it
 * waits (its reason, and a WAITING action when it starts to wait): the
 * container runtime or the constraint no held offer has, else what it
 * needs and the admitting offer closest to fitting it.
 * A run of a non-concurrent job waits while another of its runs is
 * launching or running.  An offer used in a step is consumed (the manager
 * offers what is left again); one that no waiting run fits is declined at
 * the end of the pass, so that its resources come back merged with what
 * frees up — holding it would starve a bigger run forever.
 *
 * A decline's filter keeps the manager from offering those resources again
 * for refuse_ms.  A run that becomes ready afterwards was never matched
 * against them, so the core REVIVEs (which clears filters) whenever new
 * demand meets no held offer: a small run due every second never waits
 * behind a big one that fits nowhere.  No I/O, no clock.
 */
#include "scheduler/core_int.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

/* Remainders below this are rounding, not resources. */
#define FIT_EPS 1e-9

enum chr_err core_offer_add(struct chr_core *c, const struct chr_offer *o)
{
    struct chr_error err;
    if (core_reserve(c, 2, 0, 0) != CHR_OK)
        return CHR_ENOMEM;
    if (c->n_offers >= CORE_OFFERS_HELD_MAX) {
        core_emit_decline(c, o->id, c->cfg.offer_refuse_ms);
        return CHR_OK;
    }
    if (c->n_offers == c->cap_offers) {
        size_t cap = c->cap_offers < 8 ? 8 : c->cap_offers * 2;
        struct core_offer *v = chr_realloc(c->offers, cap * sizeof *v);
        if (v == NULL)
            return CHR_ENOMEM;
        c->offers = v;
        c->cap_offers = cap;
    }
    struct chr_attrs *attrs;
    enum chr_err e = chr_attrs_new(o, &attrs, &err);
    if (e == CHR_ENOMEM)
        return e;
    if (e != CHR_OK) { /* the adapter's bounds are ours: it should not happen */
        core_note(c, "offer %llu from '%.64s' declined: %s", (unsigned long long)o->id,
                  o->agent, err.message);
        core_emit_decline(c, o->id, c->cfg.offer_refuse_ms);
        return CHR_OK;
    }
    struct core_offer *held = &c->offers[c->n_offers++];
    *held = (struct core_offer){.o = *o, .attrs = attrs, .used = false};
    held->o.hostname = NULL; /* borrowed for the step: attrs has the copy */
    held->o.attrs = NULL;
    held->o.n_attrs = 0;
    c->dispatch_dirty = true;
    return CHR_OK;
}

void core_offer_rescind(struct chr_core *c, uint64_t id)
{
    for (size_t i = 0; i < c->n_offers; i++) {
        if (c->offers[i].o.id != id)
            continue;
        chr_attrs_free(c->offers[i].attrs);
        memmove(&c->offers[i], &c->offers[i + 1], (c->n_offers - i - 1) * sizeof *c->offers);
        c->n_offers--;
        return;
    }
}

void core_offers_clear(struct chr_core *c)
{
    for (size_t i = 0; i < c->n_offers; i++)
        chr_attrs_free(c->offers[i].attrs);
    c->n_offers = 0;
}

struct need {
    double cpus, mem_mb, disk_mb;
};

static struct need job_need(const struct chr_core *c, const struct chr_job *d)
{
    return (struct need){
        d->cpus > 0 ? d->cpus : c->cfg.default_cpus,
        d->mem_mb > 0 ? d->mem_mb : c->cfg.default_mem_mb,
        d->disk_mb > 0 ? d->disk_mb : c->cfg.default_disk_mb,
    };
}

static bool fits(const struct chr_offer *o, const struct need *n)
{
    return o->cpus + FIT_EPS >= n->cpus && o->mem_mb + FIT_EPS >= n->mem_mb &&
           o->disk_mb + FIT_EPS >= n->disk_mb;
}

static bool spent(const struct chr_offer *o)
{
    return o->cpus < FIT_EPS || o->mem_mb < FIT_EPS || o->disk_mb < FIT_EPS;
}

/* A container job runs only where its manager can run containers. */
static bool needs_containers(const struct core_job *j)
{
    return j->def->container_json != NULL;
}

/* Whether offer o may run j at all, room aside: containers, constraints. */
static bool admits(const struct core_offer *o, const struct core_job *j)
{
    if (needs_containers(j) && !o->o.containers)
        return false;
    return !j->cons_bad && chr_constraints_hold(j->cons, o->attrs);
}

static struct core_offer *first_fit(struct chr_core *c, const struct core_job *j,
                                    const struct need *n)
{
    for (size_t i = 0; i < c->n_offers; i++)
        if (fits(&c->offers[i].o, n) && admits(&c->offers[i], j))
            return &c->offers[i];
    return NULL;
}

/* With no offer held only "is any run waiting for one?" matters: no order. */
static bool any_eligible(const struct chr_core *c)
{
    for (size_t i = 0; i < c->ready.n; i++)
        if (core_job_may_start(((const struct core_run *)c->ready.v[i].owner)->job))
            return true;
    return false;
}

static void drop_used_offers(struct chr_core *c)
{
    size_t w = 0;
    for (size_t i = 0; i < c->n_offers; i++) {
        if (!c->offers[i].used)
            c->offers[w++] = c->offers[i];
        else
            chr_attrs_free(c->offers[i].attrs);
    }
    c->n_offers = w;
}

/* Launches r on offer o if there is room for the step's output. */
static bool launch_on(struct chr_core *c, size_t i, struct core_offer *o, const struct need *n)
{
    struct core_run *r = c->ready.v[i].owner;
    if (c->out.n_acts >= CHR_STEP_ACTIONS_MAX ||
        core_reserve(c, 2, 2, core_launch_bytes(c, r)) != CHR_OK)
        return false;
    o->o.cpus -= n->cpus;
    o->o.mem_mb -= n->mem_mb;
    o->o.disk_mb -= n->disk_mb;
    o->used = true;
    c->ready.v[i].owner = NULL;
    r->heap_idx = -1;
    r->where = CORE_NOWHERE;
    core_run_launch(c, r, o->o.id);
    return true;
}

/* How close offer o comes to fitting n: the smallest of its ratios. */
static double closeness(const struct chr_offer *o, const struct need *n)
{
    double r = n->cpus > 0 ? o->cpus / n->cpus : 1e300;
    if (n->mem_mb > 0 && o->mem_mb / n->mem_mb < r)
        r = o->mem_mb / n->mem_mb;
    if (n->disk_mb > 0 && o->disk_mb / n->disk_mb < r)
        r = o->disk_mb / n->disk_mb;
    return r;
}

/* No held offer admits j because of a constraint: the first one that no
 * offer (that could otherwise run it) satisfies, or all of them together. */
static void constraint_reason(const struct chr_core *c, const struct core_job *j, char *why,
                              size_t cap)
{
    const char *s = c->n_offers == 1 ? "" : "s";
    char d[CHR_RUN_REASON_MAX];
    for (uint32_t i = 0; i < chr_constraints_count(j->cons); i++) {
        bool any = false;
        for (size_t k = 0; k < c->n_offers && !any; k++)
            any = (!needs_containers(j) || c->offers[k].o.containers) &&
                  chr_constraint_holds(j->cons, i, c->offers[k].attrs);
        if (!any) {
            snprintf(why, cap, "waiting for resources: no offer matches constraint %s (held: %zu "
                     "offer%s)", chr_constraints_describe(j->cons, i, d, sizeof d), c->n_offers, s);
            return;
        }
    }
    snprintf(why, cap, "waiting for resources: no offer matches all its constraints at once "
             "(held: %zu offer%s)", c->n_offers, s);
}

/* Why j, needing n, fits no held offer: what no offer admits (a container
 * runtime, a constraint), else what it needs and the admitting offer that
 * comes closest. */
static void wait_reason(const struct chr_core *c, const struct core_job *j, const struct need *n,
                        char *why, size_t cap)
{
    bool runtime = !needs_containers(j);
    for (size_t k = 0; k < c->n_offers && !runtime; k++)
        runtime = c->offers[k].o.containers;
    if (!runtime) {
        snprintf(why, cap, "waiting for resources: needs a container runtime: start with "
                 "--master or --local_containerizer");
        return;
    }
    if (j->cons_bad) {
        snprintf(why, cap, "waiting for resources: its constraints do not compile (stored under "
                 "other rules): replace the job");
        return;
    }
    const struct chr_offer *best = NULL;
    double best_r = -1;
    for (size_t k = 0; k < c->n_offers; k++) {
        double x = closeness(&c->offers[k].o, n);
        if (x > best_r && admits(&c->offers[k], j)) {
            best_r = x;
            best = &c->offers[k].o;
        }
    }
    if (best == NULL) {
        constraint_reason(c, j, why, cap);
        return;
    }
    int w = snprintf(why, cap, "waiting for resources: needs cpus %g, mem %g MB, disk %g MB",
                     n->cpus, n->mem_mb, n->disk_mb);
    if (w > 0 && (size_t)w < cap)
        snprintf(why + w, cap - (size_t)w, "; largest free offer cpus %g, mem %g MB, disk %g MB",
                 fmax(0, best->cpus), fmax(0, best->mem_mb), fmax(0, best->disk_mb));
}

/* When the WAITING notice of a run that starts to wait now is due;
 * INT64_MAX: never (the notice is off, or the run was told already). */
static int64_t wait_deadline_ms(const struct chr_core *c, const struct core_run *r)
{
    int64_t bound = c->cfg.notify_waiting_ms;
    if (bound <= 0 || r->r.wait_notified)
        return INT64_MAX;
    return c->now_ms > INT64_MAX - bound ? INT64_MAX - 1 : c->now_ms + bound;
}

/* r fits no held offer: its reason says why (wait_reason); a WAITING action
 * when it starts to wait (room allowing: else the next pass says it), not
 * at every change of the figures, so that a burst costs no action per pass
 * and run.  When it starts to wait, its notice's deadline goes into
 * core.waits (room allowing, likewise). */
static void note_waiting(struct chr_core *c, struct core_run *r, const struct need *n)
{
    /* The text is refreshed at most once a second: formatting it at every
     * pass would cost more than the matching. */
    if (r->res_wait && c->now_ms - r->wait_text_ms < CORE_WAIT_TEXT_MS)
        return;
    int64_t due = r->res_wait ? INT64_MAX : wait_deadline_ms(c, r);
    bool room = r->res_wait ||
                (c->out.n_acts < CHR_STEP_ACTIONS_MAX && core_reserve(c, 1, 0, 0) == CHR_OK &&
                 (due == INT64_MAX || core_heap_reserve(&c->waits, 1) == CHR_OK));
    if (!room)
        return;
    wait_reason(c, r->job, n, r->r.reason, sizeof r->r.reason);
    r->wait_text_ms = c->now_ms;
    if (!r->res_wait) {
        r->res_wait = true;
        r->wait_since_ms = c->now_ms;
        if (due != INT64_MAX)
            core_heap_push(&c->waits, due, 0, r->seq, r);
        core_emit_run(c, CHR_ACT_WAITING, &r->r);
    }
}

void core_wait_out(struct chr_core *c, struct core_run *r)
{
    if (r->wait_idx >= 0)
        core_heap_remove(&c->waits, r->wait_idx);
    r->wait_idx = -1;
}

/* One run's WAITING notice, in a batch of its own that also records the
 * run as told: a restart reads the flag and does not tell it again. */
static bool tell_waiting(struct chr_core *c, struct core_run *r)
{
    size_t bytes = core_run_snap_size(&r->r) + core_notice_bytes();
    if (c->out.n_acts >= CHR_STEP_ACTIONS_MAX || core_reserve(c, 1, 2, bytes) != CHR_OK)
        return false;
    r->r.wait_notified = true;
    core_batch_begin(c);
    core_batch_run(c, r);
    struct chr_notice *n = core_batch_notice(c, r->job, CHR_NOTICE_WAITING, &r->r);
    n->first_ms = r->wait_since_ms;
    n->last_ms = c->now_ms;
    core_batch_end(c);
    return true;
}

void core_waits_process(struct chr_core *c)
{
    const struct core_heap_ent *top;
    while ((top = core_heap_top(&c->waits)) != NULL && top->k1 <= c->now_ms) {
        struct core_run *r = top->owner;
        bool waiting = r->res_wait && r->where == CORE_IN_READY &&
                       r->r.state == CHR_RUN_QUEUED && core_job_may_start(r->job);
        if (waiting && !tell_waiting(c, r)) {
            c->more_work = true; /* no room in this step: the next one */
            return;
        }
        /* Not waiting for resources any more (its job's other run holds
         * it back): its clock starts again with the next pass that finds
         * no offer for it. */
        if (!waiting)
            r->res_wait = false;
        core_wait_out(c, r);
    }
}

/* Walks the ready runs in order; returns whether a run is left waiting for
 * an offer.  *unmet: a run that had not waited yet fits none of the held
 * offers: they need not be all there is (another agent's may be filtered),
 * so it is still new demand, for a REVIVE once they are declined. */
static bool match(struct chr_core *c, bool *unmet)
{
    bool want = false;
    size_t live = 0;
    for (size_t k = 0; k < c->n_offers; k++)
        live += !spent(&c->offers[k].o);
    core_heap_sort(&c->ready);
    for (size_t i = 0; i < c->ready.n; i++) {
        struct core_run *r = c->ready.v[i].owner;
        if (!core_job_may_start(r->job))
            continue;
        if (live == 0)
            return true; /* the rest wait for the next offer, not for room */
        struct need n = job_need(c, r->job->def);
        struct core_offer *o = first_fit(c, r->job, &n);
        if (o == NULL) {
            *unmet = *unmet || !r->res_wait;
            note_waiting(c, r, &n);
            want = true;
            continue;
        }
        if (!launch_on(c, i, o, &n)) {
            c->more_work = true;
            c->dispatch_dirty = true;
            return true;
        }
        live -= spent(&o->o);
    }
    return want;
}

/* Declines the offers a completed pass left unused: no eligible run fits
 * them, and holding them would keep the manager from offering their
 * resources again together with what frees up.  `again`: the runs that
 * wait were all seen by an earlier pass, which declined too: the filter
 * grows (CORE_REFUSE_MAX_MS). */
static void decline_unused(struct chr_core *c, bool again)
{
    if (core_reserve(c, c->n_offers, 0, 0) != CHR_OK) {
        c->more_work = true;
        return;
    }
    int64_t base = c->cfg.offer_refuse_ms;
    int64_t refuse = again && c->want_offers && c->refuse_ms > base ? c->refuse_ms : base;
    for (size_t i = 0; i < c->n_offers; i++)
        core_emit_decline(c, c->offers[i].o.id, refuse);
    core_offers_clear(c);
    c->refuse_ms = !c->want_offers                   ? base
                   : refuse > CORE_REFUSE_MAX_MS / 2 ? CORE_REFUSE_MAX_MS
                                                     : refuse * 2;
}

void core_dispatch(struct chr_core *c)
{
    if (!c->dispatch_dirty)
        return;
    c->dispatch_dirty = false;
    if (c->n_offers == 0) {
        c->want_offers = any_eligible(c);
        return;
    }
    bool again = !c->demand_new, unmet = false;
    c->want_offers = match(c, &unmet);
    c->demand_new = unmet; /* every ready run met the held offers: those that fit launched */
    core_heap_drop_marked(&c->ready);
    drop_used_offers(c);
    if (!c->dispatch_dirty)
        decline_unused(c, again);
}

void core_offers_policy(struct chr_core *c)
{
    if (core_reserve(c, 1, 0, 0) != CHR_OK) {
        c->more_work = true;
        return;
    }
    if (c->want_offers) {
        if (c->n_offers == 0 && (!c->revived || c->demand_new)) {
            core_emit_simple(c, CHR_ACT_REVIVE);
            c->revived = true;
            c->suppressed = false;
            c->demand_new = false;
        }
        return;
    }
    if (c->n_offers > 0 && !c->dispatch_dirty)
        decline_unused(c, false);
    if (!c->suppressed) {
        core_emit_simple(c, CHR_ACT_SUPPRESS);
        c->suppressed = true;
        c->revived = false;
    }
}
