/*
 * rm_mesos.c - a Mesos cluster as the core's resource manager (rm_mesos.h).
 *
 * Three threads meet here: the client's stream thread (on_event: offers,
 * updates, subscriptions), the scheduler thread (the rm.h table) and a
 * housekeeping thread of our own (deferred REVIVE, the reconciliation
 * grace and the periodic reconciliation).  One mutex guards everything
 * below; nothing blocks under it but the client's calls, which only queue.
 * Held offers are freed on the scheduler thread only (a rescind marks one
 * gone and tells the core), so an offer event in the loop's queue never
 * points at freed memory.
 */
#include "server/rm_mesos.h"

#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "common/alloc.h"
#include "common/clock.h"
#include "common/log.h"
#include "common/strmap.h"
#include "offers/mesos/status.h"
#include "offers/mesos/task.h"
#include "server/loop_int.h"

/* Launches gathered on one offer in one step (the core's batch bound). */
#define HELD_TASKS_MAX 64
/* A launched task with no update for this long is reconciled. */
#define LAUNCH_QUIET_MS 3000
/* Agents whose figures are kept (their last offer), at most: a bound on
 * what a master can make us keep; beyond it an agent is not shown. */
#define AGENTS_KEPT_MAX 16384

/* An agent as its offers showed it. */
struct agent_fig {
    char *id, *host;
    struct chr_rm_res offered; /* its last offer */
};

/* A task chronos launched and that has not ended: where, and with what. */
struct live_task {
    char *task;
    size_t agent; /* into figs */
    struct chr_rm_res res;
};

struct held {
    uint64_t id;       /* the core's offer id */
    bool gone;         /* rescinded or dropped; freed when the core was told */
    bool used;         /* the core launched on it this step */
    struct chr_mesos_offer o;
    struct chr_offer_attr attrs[CHR_MESOS_ATTRS_MAX]; /* into o, for the core */
    json_t *tasks[HELD_TASKS_MAX];
    char run_ids[HELD_TASKS_MAX][CHR_RUN_ID_MAX]; /* the tasks' runs (= task ids) */
    int64_t not_before_ms;  /* wall: the ACCEPT waits for the latest task's instant */
    size_t n_tasks;
};

/* An update to acknowledge once what it changed is durable. */
struct ack {
    uint64_t token;
    uint64_t batch;     /* UINT64_MAX: not stepped yet */
    char agent[CHR_MESOS_ID_MAX];
    char task[CHR_MESOS_ID_MAX];
    uint8_t uuid[16];
};

struct rm_mesos {
    struct chr_rm rm; /* first */
    struct chr_loop *loop;
    struct chr_rm_mesos_config cfg;
    char root[256];
    char framework_id[CHR_MESOS_ID_MAX];
    struct chr_mesos_client *client;
    pthread_mutex_t mu;
    pthread_cond_t cond;
    pthread_t house;
    bool house_started, stopping;
    bool subscribed, ready;
    int64_t ready_deadline_ms; /* mono: offers go to the core from then at the latest */
    int64_t next_reconcile_ms; /* mono */
    int64_t last_revive_ms;    /* mono */
    bool revive_pending;
    bool want_suppressed; /* the core's last word: SUPPRESS (true) or REVIVE */
    int64_t last_offer_ms; /* mono: the last offer that came */
    uint64_t offer_seq;
    struct held **held;
    size_t n_held, cap_held;
    /* task id -> agent index + 1 (0: not known); agents: interned ids. */
    struct chr_strmap task_agent;
    char **agents;
    size_t n_agents;
    struct chr_strmap reconciling; /* task ids asked about, no answer yet */
    /* maxCompletionTime: task -> its limit (ms) until it runs, then task ->
     * the monotonic instant it is killed at; overdue: killed for it. */
    struct chr_strmap max_ms, deadline, overdue;
    /* Launched, no update yet: task -> when it was last asked about.  An
     * ACCEPT can be lost (a 503, a dropped connection): such a task is
     * reconciled every LAUNCH_QUIET_MS until the master answers (TASK_GONE
     * for a task it never got: the run is launched again). */
    struct chr_strmap launching;
    struct ack *acks;
    size_t n_acks, cap_acks;
    uint64_t next_token, durable_batch;
    /* The figures (resources): agent id -> index + 1 into figs; task id ->
     * index + 1 into live. */
    struct chr_strmap fig_ix, live_ix;
    struct agent_fig *figs;
    size_t n_figs, cap_figs;
    struct live_task *live;
    size_t n_live, cap_live;
};

static struct rm_mesos *rmm(struct chr_rm *rm)
{
    return (struct rm_mesos *)rm;
}

#define logm(r, ...)                                                                             \
    do {                                                                                         \
        if ((r)->cfg.verbose)                                                                    \
            chr_log(__VA_ARGS__);                                                                \
    } while (0)

/* ---- Tasks and their agents (under mu) --------------------------------------- */

static const char *agent_of(struct rm_mesos *r, const char *task)
{
    uint64_t ix = 0;
    return chr_strmap_get(&r->task_agent, task, &ix) && ix > 0 ? r->agents[ix - 1] : NULL;
}

static void note_agent(struct rm_mesos *r, const char *task, const char *agent)
{
    if (agent == NULL || agent[0] == '\0')
        return;
    size_t i = 0;
    while (i < r->n_agents && strcmp(r->agents[i], agent) != 0)
        i++;
    if (i == r->n_agents) {
        char **grown = chr_realloc(r->agents, (r->n_agents + 1) * sizeof *grown);
        char *copy = chr_strndup(agent, strlen(agent));
        if (grown == NULL || copy == NULL) {
            chr_free(copy);
            if (grown != NULL)
                r->agents = grown;
            return; /* out of memory: KILL and RECONCILE go without the agent */
        }
        r->agents = grown;
        r->agents[r->n_agents++] = copy;
    }
    (void)chr_strmap_put(&r->task_agent, task, i + 1);
}

/* ---- The figures (under mu) ------------------------------------------------------ */

static void offer_sums(const struct chr_mesos_offer *o, struct chr_rm_res *out)
{
    *out = (struct chr_rm_res){0, 0, 0};
    for (size_t i = 0; i < o->n_res; i++) {
        const struct chr_mesos_resource *res = &o->res[i];
        if (strcmp(res->name, "cpus") == 0)
            out->cpus += res->value;
        else if (strcmp(res->name, "mem") == 0)
            out->mem_mb += res->value;
        else if (strcmp(res->name, "disk") == 0)
            out->disk_mb += res->value;
    }
}

/* The agent's index in figs, added when new; SIZE_MAX when it cannot be
 * kept (out of memory, AGENTS_KEPT_MAX). */
static size_t fig_of(struct rm_mesos *r, const char *agent, const char *host)
{
    uint64_t ix = 0;
    if (chr_strmap_get(&r->fig_ix, agent, &ix))
        return (size_t)ix - 1;
    if (r->n_figs == AGENTS_KEPT_MAX)
        return SIZE_MAX;
    if (r->n_figs == r->cap_figs) {
        size_t cap = r->cap_figs ? 2 * r->cap_figs : 16;
        struct agent_fig *grown = chr_realloc(r->figs, cap * sizeof *grown);
        if (grown == NULL)
            return SIZE_MAX;
        r->figs = grown, r->cap_figs = cap;
    }
    struct agent_fig f = {chr_strndup(agent, strlen(agent)), chr_strndup(host, strlen(host)),
                          {0, 0, 0}};
    if (f.id == NULL || f.host == NULL ||
        chr_strmap_put(&r->fig_ix, agent, r->n_figs + 1) != CHR_OK) {
        chr_free(f.id);
        chr_free(f.host);
        return SIZE_MAX;
    }
    r->figs[r->n_figs] = f;
    return r->n_figs++;
}

static void note_offered(struct rm_mesos *r, const struct chr_mesos_offer *o)
{
    size_t ix = fig_of(r, o->agent_id, o->hostname);
    if (ix != SIZE_MAX)
        offer_sums(o, &r->figs[ix].offered);
}

/* A task launched on the agent of `o` with `res`: used there until it ends. */
static void live_add(struct rm_mesos *r, const char *task, const struct chr_mesos_offer *o,
                     const struct chr_rm_res *res)
{
    size_t agent = fig_of(r, o->agent_id, o->hostname);
    if (agent == SIZE_MAX || chr_strmap_get(&r->live_ix, task, NULL))
        return; /* not shown; or launched again with the same id: counted once */
    if (r->n_live == r->cap_live) {
        size_t cap = r->cap_live ? 2 * r->cap_live : 64;
        struct live_task *grown = chr_realloc(r->live, cap * sizeof *grown);
        if (grown == NULL)
            return;
        r->live = grown, r->cap_live = cap;
    }
    char *copy = chr_strndup(task, strlen(task));
    if (copy == NULL || chr_strmap_put(&r->live_ix, task, r->n_live + 1) != CHR_OK) {
        chr_free(copy);
        return;
    }
    r->live[r->n_live++] = (struct live_task){copy, agent, *res};
}

static void live_del(struct rm_mesos *r, const char *task)
{
    uint64_t ix = 0;
    if (!chr_strmap_get(&r->live_ix, task, &ix))
        return;
    size_t i = (size_t)ix - 1;
    chr_strmap_del(&r->live_ix, task);
    chr_free(r->live[i].task);
    r->live[i] = r->live[--r->n_live];
    if (i < r->n_live)
        (void)chr_strmap_put(&r->live_ix, r->live[i].task, i + 1); /* a replace: no allocation */
}

static void res_add(struct chr_rm_res *to, const struct chr_rm_res *r)
{
    to->cpus += r->cpus, to->mem_mb += r->mem_mb, to->disk_mb += r->disk_mb;
}

/* ---- Held offers (under mu) ---------------------------------------------------- */

static struct held *held_find(struct rm_mesos *r, uint64_t id)
{
    for (size_t i = 0; i < r->n_held; i++)
        if (r->held[i]->id == id)
            return r->held[i];
    return NULL;
}

static bool grow_held(struct rm_mesos *r)
{
    size_t cap = r->cap_held ? 2 * r->cap_held : 16;
    struct held **grown = chr_realloc(r->held, cap * sizeof *grown);
    if (grown == NULL)
        return false;
    r->held = grown, r->cap_held = cap;
    return true;
}

static void held_free_at(struct rm_mesos *r, size_t i)
{
    struct held *h = r->held[i];
    for (size_t k = 0; k < h->n_tasks; k++)
        json_decref(h->tasks[k]);
    chr_free(h);
    r->held[i] = r->held[--r->n_held];
}

static void held_drop(struct rm_mesos *r, uint64_t id)
{
    for (size_t i = 0; i < r->n_held; i++)
        if (r->held[i]->id == id) {
            held_free_at(r, i);
            return;
        }
}

/* ---- Acknowledgements (under mu) ----------------------------------------------- */

static void ack_send(struct rm_mesos *r, const struct ack *a)
{
    if (chr_mesos_acknowledge(r->client, a->agent, a->task, a->uuid, NULL) != CHR_OK)
        logm(r, "mesos: acknowledgement of %s not sent (not subscribed): it comes again", a->task);
}

static void acks_flush(struct rm_mesos *r)
{
    size_t k = 0;
    for (size_t i = 0; i < r->n_acks; i++) {
        if (r->acks[i].batch <= r->durable_batch)
            ack_send(r, &r->acks[i]);
        else
            r->acks[k++] = r->acks[i];
    }
    r->n_acks = k;
}

static uint64_t ack_add(struct rm_mesos *r, const struct chr_mesos_update *u)
{
    if (r->n_acks == r->cap_acks) {
        size_t cap = r->cap_acks ? 2 * r->cap_acks : 64;
        struct ack *grown = chr_realloc(r->acks, cap * sizeof *grown);
        if (grown == NULL)
            return 0; /* not acknowledged: the agent sends it again */
        r->acks = grown, r->cap_acks = cap;
    }
    struct ack *a = &r->acks[r->n_acks++];
    *a = (struct ack){.token = ++r->next_token, .batch = UINT64_MAX};
    snprintf(a->agent, sizeof a->agent, "%s", u->agent_id);
    snprintf(a->task, sizeof a->task, "%s", u->task_id);
    memcpy(a->uuid, u->uuid, 16);
    return a->token;
}

/* ---- Reconciliation (under mu) ------------------------------------------------- */

/* Explicit RECONCILE of every task asked about and every live one, then an
 * implicit one. */
static void reconcile_all(struct rm_mesos *r)
{
    size_t n = r->task_agent.len + r->reconciling.len, k = 0, pos = 0;
    struct chr_mesos_task_ref *refs = n ? chr_calloc(n, sizeof *refs) : NULL;
    const char *key = NULL;
    uint64_t v = 0;
    while (refs != NULL && chr_strmap_next(&r->reconciling, &pos, &key, &v))
        refs[k++] = (struct chr_mesos_task_ref){key, agent_of(r, key)};
    pos = 0;
    while (refs != NULL && chr_strmap_next(&r->task_agent, &pos, &key, &v))
        if (!chr_strmap_get(&r->reconciling, key, NULL))
            refs[k++] = (struct chr_mesos_task_ref){key, v ? r->agents[v - 1] : NULL};
    if (k > 0)
        (void)chr_mesos_reconcile(r->client, refs, k, NULL);
    (void)chr_mesos_reconcile(r->client, NULL, 0, NULL);
    chr_free(refs);
    r->next_reconcile_ms = chr_clock_mono_ms() + r->cfg.reconcile_interval_ms;
}

static void check_ready(struct rm_mesos *r)
{
    if (r->ready || !r->subscribed)
        return;
    if (r->reconciling.len == 0 || chr_clock_mono_ms() >= r->ready_deadline_ms) {
        r->ready = true;
        if (r->reconciling.len > 0)
            chr_log("mesos: %zu runs still unanswered after %lld ms of reconciliation; "
                    "offers are used again (those runs stay reconciling)",
                    r->reconciling.len, (long long)r->cfg.reconcile_grace_ms);
    }
}

/* ---- maxCompletionTime (under mu) ------------------------------------------------- */

/* A task that runs gets its deadline; one that ended is forgotten; one
 * killed for running too long ends as a failure, as on this host. */
static void track_deadline(struct rm_mesos *r, const char *task, struct chr_mesos_outcome *out)
{
    uint64_t max = 0;
    if (out->state == CHR_RUN_RUNNING && chr_strmap_get(&r->max_ms, task, &max)) {
        chr_strmap_del(&r->max_ms, task);
        (void)chr_strmap_put(&r->deadline, task, (uint64_t)(chr_clock_mono_ms() + (int64_t)max));
        pthread_cond_broadcast(&r->cond);
    }
    if (out->state < CHR_RUN_FINISHED && out->state != CHR_RUN_QUEUED)
        return;
    chr_strmap_del(&r->max_ms, task);
    chr_strmap_del(&r->deadline, task);
    if (chr_strmap_del(&r->overdue, task) && out->state == CHR_RUN_KILLED) {
        out->state = CHR_RUN_FAILED;
        out->exit_code = -1;
        snprintf(out->reason, sizeof out->reason,
                 "killed: it ran longer than its maxCompletionTime");
    }
}

/* A launch the master never answered: ask about it (chr_strmap_filter keeps
 * every entry; the update removes it). */
static bool ask_if_quiet(const char *task, uint64_t *at, void *ctx)
{
    struct rm_mesos *r = ctx;
    int64_t now = chr_clock_mono_ms();
    if (r->subscribed && now - (int64_t)*at >= LAUNCH_QUIET_MS) {
        struct chr_mesos_task_ref ref = {task, agent_of(r, task)};
        (void)chr_mesos_reconcile(r->client, &ref, 1, NULL);
        *at = (uint64_t)now;
    }
    return true;
}

static bool kill_if_overdue(const char *task, uint64_t *at, void *ctx)
{
    struct rm_mesos *r = ctx;
    if ((int64_t)*at > chr_clock_mono_ms())
        return true;
    chr_log("mesos: %s ran past its maxCompletionTime: killed", task);
    (void)chr_strmap_put(&r->overdue, task, *at);
    (void)chr_mesos_kill(r->client, task, agent_of(r, task), -1, NULL);
    return false;
}

/* ---- Events from the client's stream thread --------------------------------------- */

static void persist_framework_id(struct rm_mesos *r, const char *id)
{
    char path[320];
    snprintf(path, sizeof path, "%s/%s", r->root, CHR_RM_MESOS_FRAMEWORK_NODE);
    struct chr_store_op op = {CHR_STORE_SET, path, id, strlen(id), -1};
    enum chr_err e = chr_store_submit_wait(r->cfg.store, &op, 1, NULL);
    if (e == CHR_ENOENT) {
        op.type = CHR_STORE_CREATE;
        e = chr_store_submit_wait(r->cfg.store, &op, 1, NULL);
    }
    if (e != CHR_OK)
        chr_log("mesos: cannot store the framework id %s: %s", id, chr_err_message(e));
}

static void on_subscribed(struct rm_mesos *r, const struct chr_mesos_event *ev)
{
    const char *id = ev->u.subscribed.framework_id;
    pthread_mutex_lock(&r->mu);
    bool fresh = strcmp(id, r->framework_id) != 0;
    snprintf(r->framework_id, sizeof r->framework_id, "%s", id);
    pthread_mutex_unlock(&r->mu);
    if (fresh) /* before anything else: every later subscription reuses it */
        persist_framework_id(r, id);
    chr_log("mesos: subscribed to %s as framework %s", ev->u.subscribed.master
            ? ev->u.subscribed.master : "?", id);
    pthread_mutex_lock(&r->mu);
    r->subscribed = true;
    r->ready = false;
    r->ready_deadline_ms = chr_clock_mono_ms() + r->cfg.reconcile_grace_ms;
    if (r->want_suppressed) /* a subscription starts unsuppressed */
        (void)chr_mesos_suppress(r->client);
    reconcile_all(r);
    check_ready(r);
    pthread_cond_broadcast(&r->cond);
    pthread_mutex_unlock(&r->mu);
}

/* Every held offer is gone with the stream: the core is told. */
static void on_disconnected(struct rm_mesos *r, const char *why)
{
    chr_log("mesos: disconnected: %s", why ? why : "");
    pthread_mutex_lock(&r->mu);
    r->subscribed = r->ready = false;
    for (size_t i = 0; i < r->n_held; i++) {
        if (r->held[i]->gone)
            continue;
        r->held[i]->gone = true;
        struct chr_event ev = {.type = CHR_EV_OFFER_RESCINDED};
        ev.u.offer.id = r->held[i]->id;
        chr_loop_rm_push(r->loop, &ev, NULL, NULL, 0);
    }
    pthread_mutex_unlock(&r->mu);
}

/* What the core matches constraints and container jobs against. */
static void offer_extra(struct held *h, struct chr_event *ev)
{
    for (size_t i = 0; i < h->o.n_attrs; i++)
        h->attrs[i] = (struct chr_offer_attr){h->o.attrs[i].name, h->o.attrs[i].value};
    ev->u.offer.hostname = h->o.hostname;
    ev->u.offer.attrs = h->o.n_attrs ? h->attrs : NULL;
    ev->u.offer.n_attrs = h->o.n_attrs;
    ev->u.offer.containers = true; /* the agents' containerizers */
}

static void offer_event(struct held *h, struct chr_event *ev)
{
    *ev = (struct chr_event){.type = CHR_EV_OFFER};
    ev->u.offer.id = h->id;
    if (snprintf(ev->u.offer.agent, sizeof ev->u.offer.agent, "%s", h->o.hostname) < 0)
        ev->u.offer.agent[0] = '\0'; /* a long host name is cut: it is only shown */
    struct chr_rm_res sum;
    offer_sums(&h->o, &sum);
    ev->u.offer.cpus = sum.cpus, ev->u.offer.mem_mb = sum.mem_mb, ev->u.offer.disk_mb = sum.disk_mb;
    offer_extra(h, ev);
}

static void on_offer(struct rm_mesos *r, const struct chr_mesos_offer *o)
{
    pthread_mutex_lock(&r->mu);
    r->last_offer_ms = chr_clock_mono_ms();
    note_offered(r, o);
    check_ready(r);
    struct held *h = NULL;
    if (r->ready && (r->n_held < r->cap_held || grow_held(r)))
        h = chr_calloc(1, sizeof *h);
    if (h == NULL) {
        pthread_mutex_unlock(&r->mu);
        const char *id = o->id;
        (void)chr_mesos_decline(r->client, &id, 1, r->cfg.decline_refuse_s, NULL);
        return;
    }
    h->id = ++r->offer_seq;
    h->o = *o;
    r->held[r->n_held++] = h;
    struct chr_event ev;
    offer_event(h, &ev);
    chr_loop_rm_push(r->loop, &ev, NULL, NULL, 0);
    pthread_mutex_unlock(&r->mu);
}

static void on_rescind(struct rm_mesos *r, const char *offer_id)
{
    pthread_mutex_lock(&r->mu);
    for (size_t i = 0; i < r->n_held; i++) {
        struct held *h = r->held[i];
        if (h->gone || strcmp(h->o.id, offer_id) != 0)
            continue;
        h->gone = true;
        struct chr_event ev = {.type = CHR_EV_OFFER_RESCINDED};
        ev.u.offer.id = h->id;
        chr_loop_rm_push(r->loop, &ev, NULL, NULL, 0);
    }
    pthread_mutex_unlock(&r->mu);
}

static void on_update(struct rm_mesos *r, const struct chr_mesos_update *u)
{
    struct chr_mesos_outcome out;
    chr_mesos_outcome_of(u, &out);
    pthread_mutex_lock(&r->mu);
    note_agent(r, u->task_id, u->agent_id);
    chr_strmap_del(&r->launching, u->task_id);
    track_deadline(r, u->task_id, &out);
    chr_strmap_del(&r->reconciling, u->task_id);
    if (out.state >= CHR_RUN_FINISHED || out.state == CHR_RUN_QUEUED) {
        chr_strmap_del(&r->task_agent, u->task_id); /* no longer live */
        live_del(r, u->task_id);
    }
    check_ready(r);
    uint64_t token = 0;
    if (u->has_uuid && out.state != 0)
        token = ack_add(r, u);
    else if (u->has_uuid) { /* nothing to record: acknowledged now */
        struct ack a = {0};
        snprintf(a.agent, sizeof a.agent, "%s", u->agent_id);
        snprintf(a.task, sizeof a.task, "%s", u->task_id);
        memcpy(a.uuid, u->uuid, 16);
        ack_send(r, &a);
    }
    pthread_mutex_unlock(&r->mu);
    if (out.state == 0)
        return;
    struct chr_event ev = {.type = CHR_EV_TASK_STATUS};
    ev.u.status.state = out.state;
    ev.u.status.exit_code = out.exit_code;
    chr_loop_rm_push(r->loop, &ev, u->task_id, out.reason, token);
}

static void on_event(void *ctx, const struct chr_mesos_event *ev)
{
    struct rm_mesos *r = ctx;
    switch (ev->type) {
    case CHR_MESOS_EV_SUBSCRIBED: on_subscribed(r, ev); break;
    case CHR_MESOS_EV_DISCONNECTED: on_disconnected(r, ev->u.reason); break;
    case CHR_MESOS_EV_OFFER: on_offer(r, ev->u.offer); break;
    case CHR_MESOS_EV_RESCIND: on_rescind(r, ev->u.offer_id); break;
    case CHR_MESOS_EV_UPDATE: on_update(r, ev->u.update); break;
    case CHR_MESOS_EV_FAILURE:
        chr_log("mesos: agent %s failed", ev->u.agent_id ? ev->u.agent_id : "?");
        break;
    case CHR_MESOS_EV_ERROR: chr_log("mesos: error from the master: %s", ev->u.reason); break;
    }
}

/* ---- The scheduler thread (rm.h) ---------------------------------------------------- */

static enum chr_err mesos_launch(struct chr_rm *rm, const struct chr_rm_launch *l,
                                 struct chr_error *err)
{
    struct rm_mesos *r = rmm(rm);
    pthread_mutex_lock(&r->mu);
    struct held *h = held_find(r, l->offer_id);
    enum chr_err e = CHR_OK;
    if (h == NULL || h->gone)
        e = chr_error_set(err, CHR_ERANGE, "offer", "the offer was rescinded");
    else if (h->n_tasks == HELD_TASKS_MAX)
        e = chr_error_set(err, CHR_ERANGE, "offer", "more than %d launches on one offer",
                          HELD_TASKS_MAX);
    json_t *task = NULL;
    if (h != NULL && !h->gone)
        h->used = true;
    if (e == CHR_OK) {
        struct chr_mesos_task_cmd cmd = {l->cmd->command, l->cmd->shell,
                                         l->cmd->arguments,
                                         l->cmd->n_arguments};
        struct chr_mesos_task_params p = {l->job, l->run, &h->o, l->user, r->cfg.fw.name,
                                          &cmd, l->cpus, l->mem_mb, l->disk_mb, 0};
        e = chr_mesos_task_build(&p, &task, err);
        if (e == CHR_OK) /* the next task on this offer is built from what is left */
            chr_mesos_offer_take(&h->o, l->cpus, l->mem_mb, l->disk_mb);
    }
    if (e == CHR_OK) {
        snprintf(h->run_ids[h->n_tasks], sizeof h->run_ids[0], "%s", l->run->id);
        h->tasks[h->n_tasks++] = task;
        if (l->not_before_ms > h->not_before_ms)
            h->not_before_ms = l->not_before_ms;
        note_agent(r, l->run->id, h->o.agent_id);
        live_add(r, l->run->id, &h->o, &(struct chr_rm_res){l->cpus, l->mem_mb, l->disk_mb});
        if (l->job->max_completion_ms > 0)
            (void)chr_strmap_put(&r->max_ms, l->run->id, (uint64_t)l->job->max_completion_ms);
    }
    pthread_mutex_unlock(&r->mu);
    return e;
}

/* Tells the core that held task k of h never started (under mu). */
static void never_started(struct rm_mesos *r, struct held *h, size_t k, const char *why)
{
    struct chr_event ev = {.type = CHR_EV_TASK_STATUS};
    ev.u.status.state = CHR_RUN_QUEUED;
    ev.u.status.offer_id = h->id;
    ev.u.status.exit_code = -1;
    chr_strmap_del(&r->task_agent, h->run_ids[k]);
    chr_strmap_del(&r->launching, h->run_ids[k]);
    live_del(r, h->run_ids[k]);
    chr_loop_rm_push(r->loop, &ev, h->run_ids[k], why, 0);
}

/* The launches held on offer i go out in one ACCEPT (under mu); one that
 * cannot be queued (the stream is down, the offer is gone) launched
 * nothing: its runs never started.  A gone offer stays until the core
 * heard of its rescind (settle); a used one is freed (what it did not use
 * comes back in a new offer).  Returns whether offer i was freed. */
static bool accept_held(struct rm_mesos *r, size_t i)
{
    struct held *h = r->held[i];
    const struct chr_rm_gate *g = &r->cfg.may_start;
    if (!h->gone && g->fn != NULL && !g->fn(g->ctx)) {
        /* Held past the lease: send nothing and tell the core nothing (it
         * is stepping down); the runs stay as recorded for the next leader. */
        held_free_at(r, i);
        return true;
    }
    enum chr_err e = h->gone ? CHR_EUNAVAIL
                             : chr_mesos_accept(r->client, h->o.id, h->tasks, h->n_tasks, 0, NULL);
    for (size_t k = 0; k < h->n_tasks; k++) {
        if (e != CHR_OK)
            never_started(r, h, k, "the offer was gone at launch");
        else
            (void)chr_strmap_put(&r->launching, h->run_ids[k], (uint64_t)chr_clock_mono_ms());
    }
    if (!h->gone) {
        held_free_at(r, i);
        return true;
    }
    for (size_t k = 0; k < h->n_tasks; k++)
        json_decref(h->tasks[k]);
    h->n_tasks = 0;
    return false;
}

/* Every held launch whose instant came (under mu); the next instant one
 * waits for (INT64_MAX: none). */
static int64_t accept_due(struct rm_mesos *r)
{
    int64_t now = chr_clock_wall_ms(), next = INT64_MAX;
    for (size_t i = 0; i < r->n_held;) {
        struct held *h = r->held[i];
        if (h->n_tasks == 0 && h->used && !h->gone) {
            /* The core took it, every launch on it failed: give it back. */
            const char *id = h->o.id;
            (void)chr_mesos_decline(r->client, &id, 1, 0, NULL);
            held_free_at(r, i);
            continue;
        }
        if (h->n_tasks > 0 && !h->gone && h->not_before_ms > now) {
            next = h->not_before_ms < next ? h->not_before_ms : next;
            i++;
            continue;
        }
        if (h->n_tasks == 0 || !accept_held(r, i))
            i++;
    }
    return next;
}

/* The launches of this step, one ACCEPT per offer, at their instant: with
 * a launch lead the core launches early (the offer is there when the
 * instant comes), and an agent starts a task as soon as it gets it, so the
 * ACCEPT is held until the instant (the housekeeping thread sends it). */
static void mesos_actions_done(struct chr_rm *rm)
{
    struct rm_mesos *r = rmm(rm);
    pthread_mutex_lock(&r->mu);
    if (accept_due(r) != INT64_MAX)
        pthread_cond_broadcast(&r->cond);
    pthread_mutex_unlock(&r->mu);
}

/* A run killed while its launch is held: it is taken out and never
 * launched (under mu); true when it was held. */
static bool unhold(struct rm_mesos *r, const char *run_id)
{
    for (size_t i = 0; i < r->n_held; i++) {
        struct held *h = r->held[i];
        for (size_t k = 0; k < h->n_tasks; k++) {
            if (strcmp(h->run_ids[k], run_id) != 0)
                continue;
            json_decref(h->tasks[k]);
            h->n_tasks--;
            h->tasks[k] = h->tasks[h->n_tasks];
            memcpy(h->run_ids[k], h->run_ids[h->n_tasks], sizeof h->run_ids[0]);
            chr_strmap_del(&r->task_agent, run_id);
            live_del(r, run_id);
            struct chr_event ev = {.type = CHR_EV_TASK_STATUS};
            ev.u.status.state = CHR_RUN_KILLED;
            ev.u.status.exit_code = -1;
            chr_loop_rm_push(r->loop, &ev, run_id, "killed before its launch", 0);
            return true;
        }
    }
    return false;
}

static void mesos_kill(struct chr_rm *rm, const struct chr_run *run)
{
    struct rm_mesos *r = rmm(rm);
    pthread_mutex_lock(&r->mu);
    if (!unhold(r, run->id) && r->client != NULL) /* kept by the client until subscribed */
        (void)chr_mesos_kill(r->client, run->id, agent_of(r, run->id), -1, NULL);
    pthread_mutex_unlock(&r->mu);
}

static void mesos_reconcile(struct chr_rm *rm, const struct chr_run *run)
{
    struct rm_mesos *r = rmm(rm);
    pthread_mutex_lock(&r->mu);
    (void)chr_strmap_put(&r->reconciling, run->id, 1);
    if (r->subscribed) {
        struct chr_mesos_task_ref ref = {run->id, agent_of(r, run->id)};
        (void)chr_mesos_reconcile(r->client, &ref, 1, NULL);
    }
    pthread_mutex_unlock(&r->mu);
}

static void mesos_decline(struct chr_rm *rm, uint64_t offer_id, int64_t refuse_ms)
{
    struct rm_mesos *r = rmm(rm);
    pthread_mutex_lock(&r->mu);
    struct held *h = held_find(r, offer_id);
    if (h != NULL && !h->gone) {
        const char *id = h->o.id;
        (void)chr_mesos_decline(r->client, &id, 1, (double)refuse_ms / 1000.0, NULL);
    }
    if (h != NULL && !h->gone)
        held_drop(r, offer_id);
    pthread_mutex_unlock(&r->mu);
}

static void mesos_suppress(struct chr_rm *rm)
{
    struct rm_mesos *r = rmm(rm);
    pthread_mutex_lock(&r->mu);
    r->revive_pending = false;
    r->want_suppressed = true;
    if (r->subscribed)
        (void)chr_mesos_suppress(r->client);
    pthread_mutex_unlock(&r->mu);
}

/* At most one REVIVE per min_revive_interval_ms; one asked sooner is sent
 * by the housekeeping thread when the interval ends. */
static void mesos_revive(struct chr_rm *rm)
{
    struct rm_mesos *r = rmm(rm);
    pthread_mutex_lock(&r->mu);
    r->want_suppressed = false;
    int64_t now = chr_clock_mono_ms();
    if (!r->subscribed) {
        /* a new subscription is not suppressed: nothing to undo */
    } else if (now - r->last_revive_ms >= r->cfg.min_revive_interval_ms) {
        r->last_revive_ms = now;
        r->revive_pending = false;
        (void)chr_mesos_revive(r->client);
    } else {
        r->revive_pending = true;
        pthread_cond_broadcast(&r->cond);
    }
    pthread_mutex_unlock(&r->mu);
}

static void mesos_settle(struct chr_rm *rm, const struct chr_event *ev, uint64_t token,
                         uint64_t last_batch)
{
    struct rm_mesos *r = rmm(rm);
    pthread_mutex_lock(&r->mu);
    if (ev->type == CHR_EV_OFFER_RESCINDED) {
        struct held *h = held_find(r, ev->u.offer.id);
        for (size_t k = 0; h != NULL && h->gone && k < h->n_tasks; k++)
            never_started(r, h, k, "the offer was rescinded before its launch");
        if (h != NULL && h->gone)
            held_drop(r, h->id);
    }
    for (size_t i = 0; token != 0 && i < r->n_acks; i++)
        if (r->acks[i].token == token)
            r->acks[i].batch = last_batch;
    acks_flush(r);
    pthread_mutex_unlock(&r->mu);
}

static void mesos_stored(struct chr_rm *rm, uint64_t batch_id, enum chr_err result)
{
    struct rm_mesos *r = rmm(rm);
    pthread_mutex_lock(&r->mu);
    if (result == CHR_OK && batch_id > r->durable_batch)
        r->durable_batch = batch_id;
    acks_flush(r);
    pthread_mutex_unlock(&r->mu);
}

static enum chr_err mesos_collect(struct chr_rm *rm, const char *run_id)
{
    (void)rm, (void)run_id; /* the agents keep sandboxes (their own gc) */
    return CHR_ENOENT;
}

static void mesos_forget_job(struct chr_rm *rm, const char *job)
{
    (void)rm, (void)job;
}

static void mesos_max_offer(struct chr_rm *rm, double *cpus, double *mem_mb, double *disk_mb)
{
    (void)rm; /* an agent may join at any time */
    *cpus = *mem_mb = *disk_mb = 0;
}

/* Any thread.  Agents in the order their first offer came; used from the
 * tasks launched here that have not ended (a previous leader's tasks are
 * not known with their resources: not counted). */
static void mesos_resources(struct chr_rm *rm, struct chr_rm_resources *out)
{
    struct rm_mesos *r = rmm(rm);
    *out = (struct chr_rm_resources){0};
    pthread_mutex_lock(&r->mu);
    size_t n = r->n_figs, listed = n < CHR_RM_AGENTS_MAX ? n : CHR_RM_AGENTS_MAX;
    struct chr_rm_res *used = n ? chr_calloc(n, sizeof *used) : NULL;
    out->agents = listed ? chr_calloc(listed, sizeof *out->agents) : NULL;
    if (out->agents == NULL)
        listed = 0;
    out->n_agents = listed, out->n_unlisted = n - listed;
    for (size_t i = 0; i < r->n_live; i++) {
        res_add(&out->used, &r->live[i].res);
        if (used != NULL)
            res_add(&used[r->live[i].agent], &r->live[i].res);
    }
    for (size_t i = 0; i < n; i++) {
        res_add(&out->offered, &r->figs[i].offered);
        if (i >= listed)
            continue;
        struct chr_rm_agent *a = &out->agents[i];
        snprintf(a->id, sizeof a->id, "%s", r->figs[i].id);
        snprintf(a->hostname, sizeof a->hostname, "%s", r->figs[i].host);
        a->offered = r->figs[i].offered;
        if (used != NULL)
            a->used = used[i];
    }
    for (size_t i = 0; i < r->n_held; i++) {
        struct chr_rm_res h;
        offer_sums(&r->held[i]->o, &h);
        if (!r->held[i]->gone)
            res_add(&out->held, &h);
    }
    pthread_mutex_unlock(&r->mu);
    chr_free(used);
}

/* ---- Housekeeping ------------------------------------------------------------------ */

static void *house_main(void *arg)
{
    struct rm_mesos *r = arg;
    pthread_mutex_lock(&r->mu);
    while (!r->stopping) {
        int64_t now = chr_clock_mono_ms(), wake = now + 1000;
        if (r->revive_pending && r->subscribed &&
            now - r->last_revive_ms >= r->cfg.min_revive_interval_ms) {
            r->last_revive_ms = now;
            r->revive_pending = false;
            (void)chr_mesos_revive(r->client);
        }
        if (r->subscribed && now >= r->next_reconcile_ms)
            reconcile_all(r);
        /* A REVIVE can be lost (a 503): while runs wait and no offer came
         * for a while, ask again. */
        int64_t quiet = 2 * r->cfg.min_revive_interval_ms < 5000 ? 5000
                                                                 : 2 * r->cfg.min_revive_interval_ms;
        if (r->subscribed && !r->want_suppressed && now - r->last_offer_ms >= quiet &&
            now - r->last_revive_ms >= quiet) {
            r->last_revive_ms = now;
            (void)chr_mesos_revive(r->client);
        }
        if (r->client != NULL) {
            int64_t next = accept_due(r), in = next - chr_clock_wall_ms();
            if (next != INT64_MAX && in < wake - now)
                wake = now + (in > 0 ? in : 0);
            chr_strmap_filter(&r->deadline, kill_if_overdue, r);
            chr_strmap_filter(&r->launching, ask_if_quiet, r);
        }
        check_ready(r);
        if (r->revive_pending && r->last_revive_ms + r->cfg.min_revive_interval_ms < wake)
            wake = r->last_revive_ms + r->cfg.min_revive_interval_ms;
        struct timespec ts = chr_clock_mono_ts(wake);
        pthread_cond_timedwait(&r->cond, &r->mu, &ts);
    }
    pthread_mutex_unlock(&r->mu);
    return NULL;
}

static enum chr_err mesos_start(struct chr_rm *rm, struct chr_error *err)
{
    struct rm_mesos *r = rmm(rm);
    struct chr_mesos_client_config cc = {
        .master = r->cfg.master, .fw = r->cfg.fw,
        .framework_id = r->framework_id[0] ? r->framework_id : NULL,
        .on_event = on_event, .ctx = r,
    };
    enum chr_err e = chr_mesos_client_start(&cc, &r->client, err);
    if (e != CHR_OK)
        return e;
    if (pthread_create(&r->house, NULL, house_main, r) != 0)
        return chr_error_set(err, CHR_EIO, "mesos", "cannot start a thread");
    r->house_started = true;
    return CHR_OK;
}

static void mesos_stop(struct chr_rm *rm)
{
    struct rm_mesos *r = rmm(rm);
    pthread_mutex_lock(&r->mu);
    r->stopping = true;
    pthread_cond_broadcast(&r->cond);
    pthread_mutex_unlock(&r->mu);
    if (r->house_started)
        pthread_join(r->house, NULL);
    r->house_started = false;
    chr_mesos_client_stop(r->client); /* never a TEARDOWN: the tasks go on */
    r->client = NULL;
}

static void mesos_destroy(struct chr_rm *rm)
{
    if (rm == NULL)
        return;
    struct rm_mesos *r = rmm(rm);
    mesos_stop(rm);
    while (r->n_held > 0)
        held_free_at(r, 0);
    chr_free(r->held);
    for (size_t i = 0; i < r->n_agents; i++)
        chr_free(r->agents[i]);
    chr_free(r->agents);
    chr_free(r->acks);
    chr_strmap_free(&r->task_agent);
    chr_strmap_free(&r->reconciling);
    chr_strmap_free(&r->max_ms);
    chr_strmap_free(&r->deadline);
    chr_strmap_free(&r->overdue);
    chr_strmap_free(&r->launching);
    for (size_t i = 0; i < r->n_figs; i++) {
        chr_free(r->figs[i].id);
        chr_free(r->figs[i].host);
    }
    chr_free(r->figs);
    for (size_t i = 0; i < r->n_live; i++)
        chr_free(r->live[i].task);
    chr_free(r->live);
    chr_strmap_free(&r->fig_ix);
    chr_strmap_free(&r->live_ix);
    pthread_cond_destroy(&r->cond);
    pthread_mutex_destroy(&r->mu);
    chr_free(r);
}

static const struct chr_rm_ops mesos_ops = {
    mesos_launch, mesos_kill,         mesos_reconcile, mesos_decline,    mesos_suppress,
    mesos_revive, mesos_actions_done, mesos_settle,    mesos_stored,     mesos_collect,
    mesos_forget_job, mesos_max_offer, mesos_resources, mesos_start, mesos_stop,
    mesos_destroy,
};

static void read_framework_id(struct rm_mesos *r)
{
    char path[320];
    snprintf(path, sizeof path, "%s/%s", r->root, CHR_RM_MESOS_FRAMEWORK_NODE);
    void *data = NULL;
    size_t len = 0;
    if (chr_store_get(r->cfg.store, path, &data, &len, NULL) == CHR_OK && len > 0 &&
        len < sizeof r->framework_id && memchr(data, '\0', len) == NULL) {
        memcpy(r->framework_id, data, len);
        r->framework_id[len] = '\0';
    }
    chr_free(data);
}

enum chr_err chr_rm_mesos_create(const struct chr_rm_mesos_config *cfg, struct chr_loop *loop,
                                 struct chr_rm **out, struct chr_error *err)
{
    struct rm_mesos *r = chr_calloc(1, sizeof *r);
    if (r == NULL)
        return chr_error_set(err, CHR_ENOMEM, "", "out of memory");
    r->rm.ops = &mesos_ops;
    r->loop = loop;
    r->cfg = *cfg;
    if (r->cfg.min_revive_interval_ms <= 0)
        r->cfg.min_revive_interval_ms = 1000;
    if (r->cfg.reconcile_interval_ms <= 0)
        r->cfg.reconcile_interval_ms = 600000;
    if (r->cfg.reconcile_grace_ms <= 0)
        r->cfg.reconcile_grace_ms = 30000;
    if (r->cfg.decline_refuse_s <= 0)
        r->cfg.decline_refuse_s = 2;
    snprintf(r->root, sizeof r->root, "%s", cfg->root ? cfg->root : "");
    r->last_revive_ms = chr_clock_mono_ms() - r->cfg.min_revive_interval_ms;
    pthread_mutex_init(&r->mu, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC); /* waits are on chr_clock_mono_ts */
    pthread_cond_init(&r->cond, &ca);
    pthread_condattr_destroy(&ca);
    read_framework_id(r);
    if (r->framework_id[0])
        chr_log("mesos: framework id %s (stored)", r->framework_id);
    *out = &r->rm;
    return CHR_OK;
}
