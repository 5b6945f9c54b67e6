/*
 * sched.h - what the REST API needs from the scheduler behind it, and from
 * the resource manager that keeps runs' output, as tables of functions.
 *
 * The API never includes the server or a resource manager: server/ (which
 * wires the parts together) fills these tables - the scheduler thread of
 * server/loop.c, the run directories of offers/local.h - and tests fill them
 * with doubles, so the routes run in-process with no loop and no socket.
 */
#ifndef CHR_API_SCHED_H
#define CHR_API_SCHED_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

#include "common/err.h"
#include "scheduler/core.h"

struct chr_view;
struct chr_metrics;
struct chr_tzdb;

/* The answer to a mutation, called once, on any thread. */
typedef void chr_sched_done_fn(void *ctx, enum chr_err result, const char *message);

struct chr_sched;

/* An answer built elsewhere: a new reference (NULL: out of memory), called
 * once, on any thread. */
typedef void chr_sched_answer_fn(void *ctx, json_t *answer);

struct chr_sched_ops {
    /* Hands a mutation over (the event is copied); CHR_OK: done will be
     * called; else done is never called (CHR_EUNAVAIL: stopping; CHR_ENOMEM). */
    enum chr_err (*request)(struct chr_sched *s, struct chr_event *ev, chr_sched_done_fn *done,
                            void *ctx);
    struct chr_view *(*view)(struct chr_sched *s);       /* the read model (view.h) */
    struct chr_metrics *(*metrics)(struct chr_sched *s); /* its counters (metrics.h) */
    struct chr_tzdb *(*tzdb)(struct chr_sched *s);       /* the loaded zones */
    /* Can the scheduler do its job?  If not, why (a sentence). */
    bool (*healthy)(struct chr_sched *s, char *why, size_t cap);
    /* Can a job with a `container` run here (a container runtime, or Mesos)?
     * NULL: yes.  No: such a job is accepted with a warning, its runs wait. */
    bool (*containers)(struct chr_sched *s);
    /* The resource manager's figures now: what its agents offered, what
     * chronos's tasks use, what it holds (the shape of /v1/status's
     * "resources", server/rm_json.h).  A new reference, or NULL (out of
     * memory).  Any thread.  NULL op: none to show. */
    json_t *(*resources)(struct chr_sched *s);
    /* `chronos notify test`: a test notification about `job` (NULL: none;
     * job and stats borrowed for the call) through every configured sink,
     * each bounded, on threads of their own, not through the outbox (no
     * retry).  done gets the answer (server/notify.h's
     * chr_notify_test_json), also when no sink is configured: it says so.
     * CHR_OK: done will be called; else never (CHR_ERANGE: too many tests
     * at once; CHR_EUNAVAIL: stopping; CHR_ENOMEM).  NULL op: none
     * configured. */
    enum chr_err (*notify_test)(struct chr_sched *s, const struct chr_job *job,
                                const struct chr_job_stats *stats, chr_sched_answer_fn *done,
                                void *ctx);
};

/* An implementation embeds this and hands out its address. */
struct chr_sched {
    const struct chr_sched_ops *ops;
};

/* Runs' captured output ("stdout", "stderr"), wherever the resource manager
 * keeps it.  Any thread. */
struct chr_run_output {
    /* The stream's file descriptor (the caller closes it), or -1 with errno
     * (EINVAL: a bad name; ENOENT: not, or no longer, kept).  *ended: the
     * output will not grow. */
    int (*open)(void *ctx, const char *job, const char *run_id, const char *stream, bool *ended);
    /* True once the run's output is complete. */
    bool (*ended)(void *ctx, const char *job, const char *run_id);
    void *ctx;
};

#endif
