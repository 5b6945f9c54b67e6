/*
 * loop.h - the scheduler thread: the one owner of the core.  It pops events
 * from one queue (requests from HTTP threads, store completions, resource
 * manager updates), steps the core with the wall clock, executes the actions
 * (persist into the store, launch and kill on the local resource manager,
 * replies), and sleeps until the core's next wakeup or the next event.
 *
 * Everything else talks to the loop through chr_loop_request and
 * chr_loop_query, which are safe from any thread; their callbacks run on the
 * scheduler thread and must be quick.
 */
#ifndef CHR_SERVER_LOOP_H
#define CHR_SERVER_LOOP_H

#include "api/job_json.h"
#include "api/sched.h"
#include "offers/local.h"
#include "scheduler/core.h"
#include "api/metrics.h"
#include "api/users.h"
#include "api/view.h"
#include "server/rm_mesos.h"
#include "zkstore/store.h"

struct chr_loop_config {
    struct chr_core_config core;
    struct chr_store *store;     /* borrowed; opened */
    const char *root;            /* the tree's root, e.g. "/chronos" */
    const char *runs_dir;        /* the local resource manager's runs */
    const char *chronos_bin;     /* for run-task; NULL: chronos-run-task beside us, else ourselves */
    struct chr_local_resources resources; /* 0s: from the machine */
    struct chr_job_defaults defaults;
    /* Who tasks may run as (users.h), checked again before each launch;
     * NULL: no check, a job without runAsUser runs as the server's user. */
    const struct chr_users *users;
    bool cgroups_off;            /* no cgroup per run (offers/local.h) */
    /* A Mesos cluster runs the tasks (rm_mesos.h; its store and root are
     * this config's); NULL: this host (the local resource manager). */
    const struct chr_rm_mesos_config *mesos;
    /* Runs jobs with a container (--local_containerizer); NONE: such runs
     * are refused by the local resource manager, never run on the host. */
    enum chr_local_runtime runtime;
    bool verbose;                /* one log line per event */
    /* ZooKeeper mode (all NULL on one machine).  fence_path: every batch
     * first checks that this node (the leader's election node) exists, so
     * a deposed leader's writes fail whole.  may_launch: asked before every
     * launch (the leader's lease); false drops the launch (the run stays
     * recorded: the next leader reconciles it).  on_fenced fires once, on
     * the scheduler thread, when the loop must be stopped by its owner: a
     * launch was fenced, or the store failed.  It must not stop the loop. */
    const char *fence_path;
    /* Keep packs of the jobs (packs.h) so a new leader loads them fast:
     * ZooKeeper mode. */
    bool packs;
    /* Notifications (server/notify.h): NULL or no sink configured: none. */
    const struct chr_notify_config *notify;
    bool (*may_launch)(void *ctx);
    void (*on_fenced)(void *ctx, const char *why);
    void *fence_ctx;
};

struct chr_loop;

/* Loads every job and open run from the store into a new core, starts the
 * local resource manager and the scheduler thread.  Fills `err` on failure. */
enum chr_err chr_loop_start(const struct chr_loop_config *cfg, struct chr_loop **out,
                            struct chr_error *err);
/* Stops the thread (answering waiting requests with CHR_EUNAVAIL) and frees
 * everything.  NULL is allowed. */
void chr_loop_stop(struct chr_loop *loop);
/* The same for a process about to exit: every thread stopped, every request
 * answered, what was submitted durable, the packs flushed, but the core's
 * jobs, the read model and the maps of names (a million jobs: ~10 million
 * allocations, 15-25 s of freeing at a SIGTERM) are left to the exit.  The
 * test builds (CHR_TESTING) free everything, for their leak checks. */
void chr_loop_stop_exit(struct chr_loop *loop);

/* Called on the scheduler thread with the outcome of a request. */
typedef chr_sched_done_fn chr_loop_done_fn;
/* Called on the scheduler thread with read access to the core. */
typedef void chr_loop_query_fn(void *ctx, const struct chr_core *core, int64_t now_ms);

/*
 * Queues a request event (PUT_JOB, DELETE_JOB, RUN_JOB, KILL_JOB,
 * MARK_SUCCESS); `done` fires once, when the core replies (after the change
 * is durable) or with CHR_EUNAVAIL when the loop stops.  The event's payload
 * moves into the loop (a PUT_JOB's job; names and arguments are copied).
 * Returns CHR_OK, or CHR_ENOMEM / CHR_EUNAVAIL (then `done` never fires and
 * the job is freed).
 */
enum chr_err chr_loop_request(struct chr_loop *loop, struct chr_event *ev,
                              chr_loop_done_fn *done, void *ctx);
/* Queues a read-only query; `fn` fires once on the scheduler thread (with a
 * NULL core when the loop stops first). */
enum chr_err chr_loop_query(struct chr_loop *loop, chr_loop_query_fn *fn, void *ctx);

/* The loop as the API sees it (api/sched.h): mutations through
 * chr_loop_request; the read model the scheduler thread publishes (view.h)
 * and the metrics, both living as long as the loop and safe from any
 * thread; the zones of the loop's core (for previews); whether the loop
 * schedules (else why: the store's cause, with the file, offset and error).
 * NULL for a NULL loop. */
struct chr_sched *chr_loop_sched(struct chr_loop *loop);

#endif
