/*
 * status.h - what a Mesos status update means for a run: the state the
 * core is told (CHR_EV_TASK_STATUS), an exit code and a reason a person can
 * read.  Pure: no I/O, no clock.
 *
 * The promise is that each scheduled instant is launched once: not twice,
 * not never.  QUEUED tells the core "this task never started and may be
 * launched again" (with the same task id), so it is given only where Mesos
 * says the task cannot have run.  Where it may have run (or may still be
 * running somewhere we cannot see), the run ends LOST and the job's retry
 * policy decides: a possible duplicate is never made by us.
 *
 * state / reason                          outcome    why
 * --------------------------------------- ---------- -----------------------------
 * STAGING, STARTING                       nothing    on its way; RUNNING follows
 * RUNNING                                 RUNNING    (reconciliation answers too)
 * KILLING                                 nothing    KILLED follows
 * UNREACHABLE                             nothing    the agent is partitioned; the
 *                                                    task may still run and come
 *                                                    back: the run stays open
 * FINISHED                                FINISHED   exit 0
 * FAILED                                  FAILED     exit code as below; the reason
 *                                                    names the limit hit (memory,
 *                                                    disk), a preemption, ...
 * FAILED, REASON_CONTAINER_LAUNCH_FAILED  FAILED     the command never ran, but the
 *                                                    usual cause is the job's own
 *                                                    (bad image, bad fetch URI):
 *                                                    QUEUED would relaunch it for
 *                                                    ever; retries cover a
 *                                                    transient cause
 * KILLED (any reason, also                KILLED     someone asked for it (a user,
 *   REASON_TASK_KILLED_DURING_LAUNCH)                a deleted job, the wiring's
 *                                                    maxCompletionTime kill,
 *                                                    which the wiring reports as
 *                                                    FAILED itself)
 * ERROR (REASON_TASK_INVALID,             FAILED     never started, but the same
 *   REASON_TASK_UNAUTHORIZED, ...)                   task would be refused again:
 *                                                    not QUEUED (a loop); exit 1
 * DROPPED (any reason)                    QUEUED     Mesos's definition: failed to
 *                                                    launch, the executor never
 *                                                    started (PARTITION_AWARE's
 *                                                    "invalid offer" too)
 * LOST, REASON_INVALID_OFFERS             QUEUED     the master refused the ACCEPT
 *                                                    (offer gone, rescinded or
 *                                                    bad): nothing reached an agent
 * LOST, REASON_RECONCILIATION, no agent   QUEUED     a framework without
 *                                                    PARTITION_AWARE gets LOST where
 *                                                    one with it gets UNKNOWN: the
 *                                                    row below
 * LOST, REASON_RECONCILIATION, agent id   LOST       without PARTITION_AWARE this is
 *                                                    any of GONE, UNREACHABLE,
 *                                                    GONE_BY_OPERATOR, UNKNOWN
 *                                                    below: it may run on a
 *                                                    partitioned agent
 * LOST, any other reason                  LOST       the agent, its executor or
 *                                                    the master lost it after the
 *                                                    launch: it may have run
 * GONE, REASON_RECONCILIATION             QUEUED     the answer to a reconcile
 *                                                    that named the agent, for a
 *                                                    task the master does not know
 *                                                    on a registered agent: it
 *                                                    never reached that agent (one
 *                                                    that ran there and ended would
 *                                                    still be known: its terminal
 *                                                    update waits for our
 *                                                    acknowledgement, given only
 *                                                    once the outcome is durable)
 * GONE, any other reason                  LOST       its agent was terminated with
 *                                                    its tasks: it may have run
 * GONE_BY_OPERATOR                        LOST       the operator marked its agent
 *                                                    gone: it may have run
 * UNKNOWN, no agent id                    QUEUED     the master knows neither the
 *                                                    task nor (we named none) its
 *                                                    agent: the launch never
 *                                                    reached it (the usual case:
 *                                                    the intent was recorded, then
 *                                                    the leader died before
 *                                                    ACCEPT).  The one way it may
 *                                                    have run: a master failover
 *                                                    forgets the tasks of agents
 *                                                    still partitioned; the wiring
 *                                                    names the agent whenever it
 *                                                    knows it to close that gap
 * UNKNOWN, with an agent id               LOST       the master forgot the agent
 *                                                    (removed, or unreachable for
 *                                                    long): the task ran there
 *                                                    and may still run
 *
 * Exit codes: FINISHED 0; FAILED the update's (u->has_exit_code), else
 * what its message says ("... exited with status N" gives N, "...
 * terminated with signal ..." gives -1, as for a local run killed by a
 * signal), else 1; ERROR 1; KILLED and LOST -1 (no exit status).
 * The reason: a short phrase for the state and Mesos's reason, then the
 * update's message ("memory limit exceeded: Memory limit exceeded:
 * Requested 64MB, maximum usage 64MB"), cut to fit.
 */
#ifndef CHR_OFFERS_MESOS_STATUS_H
#define CHR_OFFERS_MESOS_STATUS_H

#include <stdbool.h>
#include <stdint.h>

#include "offers/mesos/types.h"
#include "scheduler/core.h"

struct chr_mesos_outcome {
    enum chr_run_state state; /* 0 = nothing to report */
    int32_t exit_code;
    char reason[CHR_RUN_REASON_MAX];
};

/* The outcome of update `u` (the table above).  Fills every field. */
void chr_mesos_outcome_of(const struct chr_mesos_update *u, struct chr_mesos_outcome *out);

/*
 * The exit code a Mesos executor's message states: "Command exited with
 * status N" (the command executor; "Container exited with status N" from
 * Docker's) gives N; "... terminated with signal ..." gives -1.  False when
 * the message says neither.  For the update decoder as well.
 */
bool chr_mesos_exit_code_parse(const char *message, int32_t *code);

#endif
