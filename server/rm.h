/*
 * rm.h - the resource manager as the scheduler thread sees it: where the
 * core's LAUNCH, KILL, RECONCILE, DECLINE, SUPPRESS and REVIVE actions go,
 * and what it is told after each step.  Two of them: this host's
 * (rm_local.c, over offers/local.h) and a Mesos cluster's (rm_mesos.c, over
 * offers/mesos/).  The loop (loop.c) knows only this table; each resource
 * manager turns what it hears (a local task's end, a Mesos offer or status
 * update) into the core's events through loop_int.h.
 *
 * Every function here runs on the scheduler thread and must not block on
 * I/O: a launch or a call to Mesos is handed to another thread; the one
 * exception is `resources`, which any thread may call.
 */
#ifndef CHR_SERVER_RM_H
#define CHR_SERVER_RM_H

#include <stdbool.h>
#include <stdint.h>

#include "api/run_cmd.h"
#include "common/err.h"
#include "scheduler/core.h"

struct chr_rm;

/* Agents listed in a resources answer, at most; more are counted, not
 * listed (a cluster of thousands: /v1/status stays small). */
#define CHR_RM_AGENTS_MAX 1024
#define CHR_RM_AGENT_ID_MAX 256
#define CHR_RM_HOST_MAX 256

struct chr_rm_res {
    double cpus, mem_mb, disk_mb;
};

struct chr_rm_agent {
    char id[CHR_RM_AGENT_ID_MAX];
    char hostname[CHR_RM_HOST_MAX];
    struct chr_rm_res offered; /* its last offer (Mesos), or what is free now (this host) */
    struct chr_rm_res used;    /* by chronos's tasks running there */
    struct chr_rm_res total;   /* valid when has_total (this host) */
    bool has_total;
};

/* The figures of the resource manager at one moment.  agents is
 * chr_malloc'd by the resource manager (NULL when there are none, or out of
 * memory: then n_unlisted counts them all); the caller frees it. */
struct chr_rm_resources {
    struct chr_rm_agent *agents;
    size_t n_agents;   /* listed */
    size_t n_unlisted; /* known but beyond CHR_RM_AGENTS_MAX */
    struct chr_rm_res offered, used; /* summed over every agent, listed or not */
    struct chr_rm_res held;          /* in the offers chronos holds now */
    struct chr_rm_res total;         /* valid when has_total */
    bool has_total;
};

/* One launch, checked by the loop (the user policy, the lease) and with the
 * command made (manual arguments are argv). */
struct chr_rm_launch {
    const struct chr_run *run;
    const struct chr_job *job;
    uint64_t offer_id;
    int64_t not_before_ms;       /* the task starts at this instant, not before */
    const char *user;            /* who the task runs as; NULL: the server's user */
    const struct chr_run_cmd *cmd;
    double cpus, mem_mb, disk_mb; /* the job's, defaults applied */
};

/* The leader's lease, as a resource manager asks it again at the step that
 * cannot be taken back (a supervisor started, an ACCEPT sent), which may
 * come later than the launch; false: that step is not taken and the run is
 * left as recorded, for whoever leads next.  fn NULL: always. */
struct chr_rm_gate {
    bool (*fn)(void *ctx);
    void *ctx;
};

struct chr_rm_ops {
    /* Hands a launch over.  An error (err filled) means it never started:
     * CHR_ERANGE, CHR_EIO, CHR_ENOMEM may be tried again; anything else
     * fails the run. */
    enum chr_err (*launch)(struct chr_rm *rm, const struct chr_rm_launch *t,
                           struct chr_error *err);
    void (*kill)(struct chr_rm *rm, const struct chr_run *run);
    void (*reconcile)(struct chr_rm *rm, const struct chr_run *run);
    void (*decline)(struct chr_rm *rm, uint64_t offer_id, int64_t refuse_ms);
    void (*suppress)(struct chr_rm *rm);
    void (*revive)(struct chr_rm *rm);
    /* The actions of one step were all executed (launches sharing an offer
     * go out together now). */
    void (*actions_done)(struct chr_rm *rm);
    /* The loop stepped the core with `ev` (from outside the loop) and
     * executed its actions; `token` is what the resource manager pushed it
     * with (loop_int.h), 0 for others; `last_batch` the id of the newest
     * store batch emitted so far: once it is durable (stored()), so is
     * everything this event changed. */
    void (*settle)(struct chr_rm *rm, const struct chr_event *ev, uint64_t token,
                   uint64_t last_batch);
    /* Every batch up to batch_id completed with `result`. */
    void (*stored)(struct chr_rm *rm, uint64_t batch_id, enum chr_err result);
    /* A run's outcome is durable (its local files may go), and a deleted
     * job's leftovers may go.  Called from the store's completion thread. */
    enum chr_err (*collect)(struct chr_rm *rm, const char *run_id); /* CHR_OK: gone */
    void (*forget_job)(struct chr_rm *rm, const char *job);
    /* The most one offer can ever hold (0: unknown; see chr_core_config). */
    void (*max_offer)(struct chr_rm *rm, double *cpus, double *mem_mb, double *disk_mb);
    /* Fills `out` (zeroed first by the callee).  Any thread: the resource
     * manager takes its own lock; callable until destroy. */
    void (*resources)(struct chr_rm *rm, struct chr_rm_resources *out);
    /* Starts talking to the resource manager (after the load). */
    enum chr_err (*start)(struct chr_rm *rm, struct chr_error *err);
    /* Stops its threads; no event is pushed after it returns. */
    void (*stop)(struct chr_rm *rm);
    void (*destroy)(struct chr_rm *rm);
};

struct chr_rm {
    const struct chr_rm_ops *ops;
};

#endif
