/*
 * rm_local.c - this host as the core's resource manager (rm.h over
 * offers/local.h).
 *
 * The core holds at most one offer of this host, made on the scheduler
 * thread from what is free at the moment it is stepped: an offer computed
 * earlier and queued could be stale by then (a launch in between) and the
 * core would over-commit.  A fresh offer is made after a step that used the
 * held one, after a run ended (resources came back) and after a REVIVE.
 * The local manager's monitor thread reports task states; they become the
 * core's status events.  Never blocks: a launch starts a detached
 * supervisor and returns.  `resources` is the one entry any thread calls:
 * `mu` guards what it reads (the local manager, gone after stop, and the
 * held offer).
 */
#include "server/rm_local.h"

#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "common/alloc.h"
#include "offers/local.h"
#include "server/loop_int.h"

struct rm_local {
    struct chr_rm rm; /* first */
    struct chr_loop *loop;
    struct chr_local *local;
    bool no_cgroup;
    bool containers; /* a container runtime is configured */
    struct chr_rm_gate may_start;
    uint64_t offer_seq, offer_outstanding;
    bool suppressed;
    bool want_offer; /* make a fresh offer at the end of this step */
    bool offer_used; /* a launch of this step took the held offer */
    pthread_mutex_t mu;   /* local (its pointer) and held, for `resources` */
    struct chr_rm_res held; /* what the outstanding offer holds */
};

/* The held offer changed (scheduler thread). */
static void set_held(struct rm_local *r, const struct chr_rm_res *held)
{
    pthread_mutex_lock(&r->mu);
    r->held = held != NULL ? *held : (struct chr_rm_res){0, 0, 0};
    pthread_mutex_unlock(&r->mu);
}

static struct rm_local *rl(struct chr_rm *rm)
{
    return (struct rm_local *)rm;
}

/* The monitor thread: status updates become events. */
static void on_local_event(void *ctx, const struct chr_local_event *lev)
{
    struct rm_local *r = ctx;
    struct chr_event ev = {.type = CHR_EV_TASK_STATUS};
    switch (lev->state) {
    case CHR_LOCAL_STARTING:
        return; /* the core learns of RUNNING */
    case CHR_LOCAL_RUNNING: ev.u.status.state = CHR_RUN_RUNNING; break;
    case CHR_LOCAL_FINISHED: ev.u.status.state = CHR_RUN_FINISHED; break;
    case CHR_LOCAL_FAILED: ev.u.status.state = CHR_RUN_FAILED; break;
    case CHR_LOCAL_KILLED: ev.u.status.state = CHR_RUN_KILLED; break;
    case CHR_LOCAL_LOST: ev.u.status.state = CHR_RUN_LOST; break;
    case CHR_LOCAL_DROPPED: ev.u.status.state = CHR_RUN_QUEUED; break;
    }
    ev.u.status.exit_code = lev->exit_code;
    chr_loop_rm_push(r->loop, &ev, lev->run_id, lev->reason ? lev->reason : "", 0);
}

/* Rescinds the held offer, if any, and offers what is free now. */
static void offer_now(struct rm_local *r)
{
    if (r->offer_outstanding != 0) {
        struct chr_event re = {.type = CHR_EV_OFFER_RESCINDED};
        re.u.offer.id = r->offer_outstanding;
        r->offer_outstanding = 0;
        set_held(r, NULL);
        chr_loop_rm_step(r->loop, &re);
    }
    struct chr_local_offer o;
    chr_local_offer(r->local, &o);
    struct chr_event ev = {.type = CHR_EV_OFFER};
    ev.u.offer.id = ++r->offer_seq;
    if (snprintf(ev.u.offer.agent, sizeof ev.u.offer.agent, "%s", o.host) < 0)
        ev.u.offer.agent[0] = '\0'; /* a long host name is cut: it is only shown */
    ev.u.offer.cpus = o.free.cpus;
    ev.u.offer.mem_mb = o.free.mem_mb;
    ev.u.offer.disk_mb = o.free.disk_mb;
    /* This host: its name (constraints on "hostname" see it) and no
     * attributes; containers only with a runtime configured. */
    ev.u.offer.hostname = o.host;
    ev.u.offer.containers = r->containers;
    r->offer_outstanding = ev.u.offer.id;
    set_held(r, &(struct chr_rm_res){o.free.cpus, o.free.mem_mb, o.free.disk_mb});
    chr_loop_rm_step(r->loop, &ev);
}

static enum chr_err local_launch(struct chr_rm *rm, const struct chr_rm_launch *l,
                                 struct chr_error *err)
{
    struct rm_local *r = rl(rm);
    const struct chr_job *job = l->job;
    struct chr_local_task t = {
        .run_id = l->run->id, .job_name = job->name, .owner = job->owner,
        .command = l->cmd->command, .shell = l->cmd->shell,
        .arguments = l->cmd->arguments, .n_arguments = l->cmd->n_arguments,
        .env = job->env, .n_env = job->n_env, .run_as_user = l->user,
        .res = {l->cpus, l->mem_mb, l->disk_mb},
        .due_ms = l->run->due_ms, .attempt = l->run->attempt,
        .max_completion_ms = job->max_completion_ms,
        .container_json = job->container_json, /* never on the host: refused without a runtime */
        .not_before_ms = l->not_before_ms, /* with a launch lead: exec at the instant */
        .no_cgroup = r->no_cgroup,
        .may_start = r->may_start.fn, .may_start_ctx = r->may_start.ctx,
    };
    r->offer_used |= l->offer_id == r->offer_outstanding;
    return chr_local_launch(r->local, &t, err);
}

static void local_kill(struct chr_rm *rm, const struct chr_run *run)
{
    chr_local_kill(rl(rm)->local, run->id);
}

static void local_reconcile(struct chr_rm *rm, const struct chr_run *run)
{
    chr_local_reconcile(rl(rm)->local, run->id);
}

static void local_decline(struct chr_rm *rm, uint64_t offer_id, int64_t refuse_ms)
{
    (void)refuse_ms; /* offered again when something changes, not on a timer */
    struct rm_local *r = rl(rm);
    if (offer_id == r->offer_outstanding) {
        r->offer_outstanding = 0;
        set_held(r, NULL);
    }
}

static void local_suppress(struct chr_rm *rm)
{
    rl(rm)->suppressed = true;
}

static void local_revive(struct chr_rm *rm)
{
    struct rm_local *r = rl(rm);
    r->suppressed = false;
    if (r->offer_outstanding == 0)
        r->want_offer = true;
}

static void local_actions_done(struct chr_rm *rm)
{
    struct rm_local *r = rl(rm);
    /* The step's launches: one supervisor for them all. */
    chr_local_flush(r->local);
    if (!r->offer_used)
        return;
    r->offer_used = false;
    r->offer_outstanding = 0;
    set_held(r, NULL);
    if (!r->suppressed)
        r->want_offer = true;
}

/* Fresh offers while the core keeps using them up (bounded per event; the
 * next one continues). */
static void local_settle(struct chr_rm *rm, const struct chr_event *ev, uint64_t token,
                         uint64_t last_batch)
{
    (void)token, (void)last_batch;
    struct rm_local *r = rl(rm);
    if (ev->type == CHR_EV_TASK_STATUS && ev->u.status.state >= CHR_RUN_FINISHED)
        r->want_offer = true; /* resources came back */
    for (int i = 0; i < 64 && r->want_offer; i++) {
        r->want_offer = false;
        if (!r->suppressed)
            offer_now(r);
    }
}

static void local_stored(struct chr_rm *rm, uint64_t batch_id, enum chr_err result)
{
    (void)rm, (void)batch_id, (void)result;
}

static enum chr_err local_collect(struct chr_rm *rm, const char *run_id)
{
    return chr_local_collect(rl(rm)->local, run_id);
}

static void local_forget_job(struct chr_rm *rm, const char *job)
{
    chr_local_forget_job(rl(rm)->local, job);
}

static void local_max_offer(struct chr_rm *rm, double *cpus, double *mem_mb, double *disk_mb)
{
    struct chr_local_resources total;
    chr_local_total(rl(rm)->local, &total);
    *cpus = total.cpus, *mem_mb = total.mem_mb, *disk_mb = total.disk_mb;
}

/* This host as the one agent: free now offered, total - free used. */
static void local_resources(struct chr_rm *rm, struct chr_rm_resources *out)
{
    struct rm_local *r = rl(rm);
    *out = (struct chr_rm_resources){0};
    pthread_mutex_lock(&r->mu);
    out->held = r->held;
    if (r->local == NULL) { /* stopped */
        pthread_mutex_unlock(&r->mu);
        return;
    }
    struct chr_local_offer o;
    struct chr_local_resources t;
    chr_local_offer(r->local, &o);
    chr_local_total(r->local, &t);
    pthread_mutex_unlock(&r->mu);
    struct chr_rm_res total = {t.cpus, t.mem_mb, t.disk_mb};
    struct chr_rm_res free_ = {o.free.cpus, o.free.mem_mb, o.free.disk_mb};
    struct chr_rm_res used = {total.cpus - free_.cpus, total.mem_mb - free_.mem_mb,
                              total.disk_mb - free_.disk_mb};
    out->offered = free_, out->used = used, out->total = total, out->has_total = true;
    out->agents = chr_calloc(1, sizeof *out->agents);
    if (out->agents == NULL) {
        out->n_unlisted = 1;
        return;
    }
    struct chr_rm_agent *a = &out->agents[0];
    out->n_agents = 1;
    *a = (struct chr_rm_agent){.offered = free_, .used = used, .total = total, .has_total = true};
    snprintf(a->id, sizeof a->id, "%s", o.host);
    snprintf(a->hostname, sizeof a->hostname, "%s", o.host);
}

static enum chr_err local_start(struct chr_rm *rm, struct chr_error *err)
{
    (void)rm, (void)err; /* running since create: the re-attach needs it */
    return CHR_OK;
}

static void local_stop(struct chr_rm *rm)
{
    struct rm_local *r = rl(rm);
    pthread_mutex_lock(&r->mu);
    struct chr_local *l = r->local;
    r->local = NULL;
    pthread_mutex_unlock(&r->mu);
    chr_local_destroy(l);
}

static void local_destroy(struct chr_rm *rm)
{
    if (rm == NULL)
        return;
    struct rm_local *r = rl(rm);
    chr_local_destroy(r->local);
    pthread_mutex_destroy(&r->mu);
    chr_free(r);
}

static const struct chr_rm_ops local_ops = {
    local_launch, local_kill,         local_reconcile, local_decline,    local_suppress,
    local_revive, local_actions_done, local_settle,    local_stored,     local_collect,
    local_forget_job, local_max_offer, local_resources, local_start,  local_stop,
    local_destroy,
};

enum chr_err chr_rm_local_create(const struct chr_rm_local_config *cfg, struct chr_loop *loop,
                                 struct chr_rm **out, struct chr_error *err)
{
    struct rm_local *r = chr_calloc(1, sizeof *r);
    if (r == NULL)
        return chr_error_set(err, CHR_ENOMEM, "", "out of memory");
    *r = (struct rm_local){.rm = {&local_ops}, .loop = loop, .no_cgroup = cfg->cgroups_off,
                           .may_start = cfg->may_start,
                           .containers = cfg->runtime != CHR_LOCAL_RUNTIME_NONE,
                           .suppressed = true};
    pthread_mutex_init(&r->mu, NULL);
    /* One supervisor for a step's launches only where each run gets a
     * cgroup: an orphan that left its task's process group is told apart by
     * its cgroup; without one, each run keeps a supervisor of its own. */
    char cg[256];
    chr_local_cgroup_describe(cg, sizeof cg);
    struct chr_local_config lc = {
        .group_launches = !cfg->cgroups_off && strcmp(cg, "none") != 0,
        .runs_dir = cfg->runs_dir, .runtime = cfg->runtime, .chronos_bin = cfg->chronos_bin, .hostname = NULL,
        .total = cfg->resources, .kill_grace_ms = 0, .keep_done_per_job = -1,
        .on_event = on_local_event, .ctx = r,
    };
    enum chr_err e = chr_local_create(&lc, &r->local, err);
    if (e == CHR_OK && (e = chr_local_reattach(r->local, NULL)) != CHR_OK)
        chr_error_set(err, e, "runs", "cannot scan %s", cfg->runs_dir);
    if (e != CHR_OK) {
        local_destroy(&r->rm);
        return e;
    }
    *out = &r->rm;
    return CHR_OK;
}
