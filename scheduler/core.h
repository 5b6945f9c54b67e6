/*
 * core.h - the scheduling core of chronos: registry, due-time queue,
 * dependency DAG, run state machine, offer matching, and the retry,
 * concurrency and missed-run policies.
 *
 * The core is sans-IO (docs/design.md): it does no I/O,
 * reads no clock, starts no thread and calls no callback.  Its whole
 * interface is
 *
 *     chr_core_step(core, now_ms, &event, &actions)
 *     chr_core_next_wakeup(core)
 *
 * Time, requests, store completions, offers and task status updates come in
 * as events; what must happen goes out as actions, which the adapters
 * (server glue) execute after the step returns.  A step never blocks.
 *
 * The exactly-once protocol.  Every due instant of a job ends as exactly one
 * of: launched (a run), coalesced (missed while down or while a previous run
 * of a non-concurrent job was still waiting), or skipped by policy
 * (startingDeadlineSeconds) — the last two recorded in the job's bounded
 * ledger.  Handling an instant emits ONE atomic persist batch that both
 * advances the job's stored progress past the instant and records the run
 * (or the ledger entry); the run is launched only after that batch is
 * reported durable (CHR_EV_STORE_DONE).  (The server may write several
 * batches of a step as one store batch, whole batches only and in order,
 * and report its completion as STORE_DONE of the last: see STORE_DONE.)
 * A crash before durability loses
 * nothing the server acknowledged (the instant is handled again after
 * restart); a crash after it finds the run record at restart and
 * re-issues its launch, which the resource manager makes idempotent by run
 * id (the local manager's claim file, Mesos task ids + reconciliation).  So
 * an instant is launched once, not twice, not never.
 *
 * The launch lead (chr_core_config.launch_lead_ms = L).  The core works L
 * ms ahead of the clock, so that recording and launching a run is done by
 * its instant: an instant is handled (its run recorded) once now >= instant
 * - L, a durable run is launched once now >= due_ms - L (a retry: once now
 * >= the end of its delay - L; a run due in the past at once), and
 * chr_core_next_wakeup is earlier by L.  So with a lead, LAUNCH may precede
 * due_ms by up to launch_lead_ms; the resource manager starts the task at
 * due_ms (the action's not_before_ms), not before.  Everything else holds as
 * without a lead: a starting deadline is measured against the start, which
 * is never before due_ms (a run handled early is never late); a run of a
 * non-concurrent job waits while another is launching or running.  A manual
 * or dependent run made just after an instant was handled early gets that
 * instant + 1 ms as its due_ms (run ids never repeat), so it may start up to
 * L + 1 ms after the request.
 *
 * Requests (put/delete/run/kill) are validated against the registry, applied
 * to it at once (so later requests see them), persisted, and answered with a
 * CHR_ACT_REPLY only once their batch is durable.  A failed batch
 * (CHR_EV_STORE_DONE with an error) puts the core in the failed state: it
 * launches and accepts nothing more, and answers everything with
 * CHR_EUNAVAIL; the server must then reload from the store (restart, or on
 * ZooKeeper step down and rejoin).  Nothing unacknowledged is ever visible as
 * durable.
 *
 * Policies (decided; core_*.c say why):
 * - A new job, or a replaced one whose schedule or zone changed (a new
 *   schedule_epoch), starts at the first instant after now - 5 s: a start of
 *   "now" still runs, earlier instants are not caught up.  A replace with the
 *   same schedule and zone keeps the progress.  A disabled job is not in the
 *   due queue; re-enabling it ledgers the instants it missed
 *   (SKIPPED_DISABLED).
 * - Of a job's instants <= now the latest is the candidate, the earlier ones
 *   are ledgered: COALESCED_DOWN when no core was loaded at the time or they
 *   are over a minute old, else COALESCED_BUSY (the loop lagged).  The
 *   candidate is ledgered SKIPPED_DEADLINE when later than
 *   startingDeadlineSeconds, COALESCED_WAITING when a run of the job
 *   already waits for resources no offer had (concurrent or not),
 *   COALESCED_BUSY when the job is not concurrent and already has a waiting
 *   (recording or queued) run; else it runs.
 * - Run ids never repeat for a job (the state keeps the highest due_ms used;
 *   a manual or dependent run in the same ms goes 1 ms later).
 * - Offers: matched first fit without head-of-line blocking (an offer fits a
 *   run when it has the resources, satisfies every constraint of the job,
 *   and can run containers if the job has one); an offer used is
 *   consumed; offers no waiting run fits are declined (refuse_ms) at the end
 *   of the matching pass.  SUPPRESS once when no run waits for an offer;
 *   REVIVE when one does, none is held, and either offers were suppressed
 *   or a run became ready that no offer was matched against since (a
 *   decline's filter must not keep a new run from the resources it fits).
 *   A run that fits no held offer keeps its place and says why (WAITING,
 *   its reason); a later non-concurrent instant is then ledgered
 *   COALESCED_WAITING.
 * - Dependents: a child counts each parent's successes since it last
 *   started (was launched); it fires when all are >= 1 and it has no
 *   waiting run (later successes are absorbed into the waiting run).  The
 *   reset at launch is persisted with the launch, so a restart can tell
 *   pre-launch counts from post-launch ones.
 * - Deleting a job others depend on is refused (CHR_ECONFLICT).
 */
#ifndef CHR_CORE_H
#define CHR_CORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/err.h"
#include "iso8601/iso8601.h"
#include "scheduler/job.h"

/* Run ids are Chronos task ids, "ct:<due_ms>:<attempt>:<job name>", so tools
 * that parse Chronos task ids keep working. */
#define CHR_RUN_ID_MAX (CHR_JOB_NAME_MAX + 48)
/* Why a run ended ("exit 1", "killed by signal 9 (SIGKILL)", ...). */
#define CHR_RUN_REASON_MAX 160
/* The reason kept in a job's history: shorter, as it is kept per run. */
#define CHR_RUN_HISTORY_REASON_MAX 96

enum chr_run_state {
    CHR_RUN_RECORDING = 1, /* its record is being made durable */
    CHR_RUN_QUEUED,        /* durable; waiting for an offer that fits */
    CHR_RUN_LAUNCHING,     /* launch sent to the resource manager */
    CHR_RUN_RUNNING,
    CHR_RUN_FINISHED,      /* exit 0 */
    CHR_RUN_FAILED,        /* non-zero exit, exec failure, exceeded time */
    CHR_RUN_KILLED,        /* by a user or by deletion of its job */
    CHR_RUN_LOST,          /* the resource manager lost it */
};

enum chr_run_cause {
    CHR_CAUSE_SCHEDULED = 1, /* a due instant of the schedule */
    CHR_CAUSE_DEPENDENT,     /* all parents succeeded */
    CHR_CAUSE_MANUAL,        /* PUT /job/{name} */
    CHR_CAUSE_RETRY,         /* an earlier attempt failed */
};

/* One run as the core tracks, persists (/runs) and reports it. */
struct chr_run {
    char id[CHR_RUN_ID_MAX];
    char job[CHR_JOB_NAME_MAX + 1];
    enum chr_run_cause cause;
    enum chr_run_state state;
    int64_t due_ms;      /* the scheduled instant (or request/trigger time) */
    int32_t attempt;     /* 0 for the first try */
    int64_t created_ms, launched_ms, started_ms, ended_ms; /* INT64_MIN = not yet */
    int32_t exit_code;   /* valid when ended; -1 when killed by a signal */
    /* Why it ended; while QUEUED, why no held offer fits it ("waiting for
     * resources: ..."; not persisted); else "". */
    char reason[CHR_RUN_REASON_MAX];
    char *arguments;     /* manual ?arguments= override, owned, NULL if none */
    uint64_t offer_id;   /* the offer it was launched on */
    /* A WAITING notice was emitted for it (persisted with it, so that a
     * restart or a failover does not tell it twice). */
    bool wait_notified;
};

/* Why an instant did not become a launch. */
enum chr_ledger_reason {
    CHR_LEDGER_COALESCED_DOWN = 1, /* missed while no leader ran */
    CHR_LEDGER_COALESCED_BUSY,     /* a previous run of a non-concurrent job still waited */
    CHR_LEDGER_SKIPPED_DEADLINE,   /* later than startingDeadlineSeconds */
    CHR_LEDGER_SKIPPED_DISABLED,   /* the job was disabled at the time */
    CHR_LEDGER_COALESCED_WAITING,  /* a previous run of the job still waited for
                                    * resources no offer had */
};
#define CHR_LEDGER_REASON_LAST CHR_LEDGER_COALESCED_WAITING
/* The reason's name as the API shows it ("coalesced-busy"); "unknown" for
 * a value outside the enum. */
const char *chr_ledger_reason_name(enum chr_ledger_reason r);

/* A run of consecutive instants with one outcome (bounded per job). */
struct chr_ledger_entry {
    int64_t first_ms, last_ms;
    int64_t count;
    enum chr_ledger_reason reason;
};

/* One finished run, kept in the job's bounded history (job/stat, the
 * dashboard).  A run's full record is deleted when it ends. */
struct chr_run_summary {
    int64_t due_ms, started_ms, ended_ms; /* started_ms INT64_MIN: never seen running */
    int32_t attempt, exit_code;
    enum chr_run_cause cause;
    enum chr_run_state state; /* FINISHED, FAILED, KILLED or LOST */
    char reason[CHR_RUN_HISTORY_REASON_MAX]; /* the run's reason, cut */
};

/*
 * Progress of a job, persisted under /state with every change.  The arrays
 * are allocated with chr_malloc & co.  A state handed to the core (LOAD_JOB)
 * becomes the core's, which may reallocate its arrays; a state the core
 * hands out (persist items, queries) is read-only and the core's.  The
 * store's codec, the simulator and tests use chr_job_state_init/_copy/_free.
 */
struct chr_job_state {
    struct chr_job_stats stats;
    int64_t next_ms;         /* next due instant not yet handled; INT64_MAX: none */
    int64_t instants_handled;/* instants handled (launched or ledgered) this epoch */
    int64_t schedule_epoch;  /* bumped when the schedule is replaced */
    /* The highest due_ms any run id of this job has used (INT64_MIN: none).
     * New run ids stay above it, so an id never repeats: the resource manager
     * would take a repeated id for a duplicate launch of a finished task. */
    int64_t last_run_due_ms;
    /* Dependency counters: successes of each parent since this job last
     * started (Chronos semantics, but persisted).  Parallel to job.parents:
     * n_parent_successes == job.n_parents; NULL when 0. */
    uint32_t *parent_successes;
    int64_t launch_failures; /* consecutive launch (not task) failures */
    struct chr_ledger_entry *ledger;  /* oldest first, at most CHR_LEDGER_MAX; NULL when 0 */
    struct chr_run_summary *history;  /* oldest first, at most config.history_max */
    /* The counts together (the core holds a state per job: no padding). */
    uint32_t n_parent_successes;
    uint32_t ledger_len;
    uint32_t history_len;
    bool flagged;            /* launches keep failing: backing off */
};

/* A fresh state: stats never run, next_ms INT64_MAX, no arrays. */
void chr_job_state_init(struct chr_job_state *st);
/* Frees the arrays and re-initialises; NULL is allowed. */
void chr_job_state_free(struct chr_job_state *st);
/* True when a and b hold the same state, field by field and item by item
 * (the decoders' differential tests). */
bool chr_job_state_equal(const struct chr_job_state *a, const struct chr_job_state *b);
/* A deep copy; CHR_ENOMEM leaves *dst initialised and empty. */
enum chr_err chr_job_state_copy(struct chr_job_state *dst, const struct chr_job_state *src);

/* ---- Events ---------------------------------------------------------------- */

enum chr_event_type {
    CHR_EV_TIME = 1,        /* time passed; nothing else */
    CHR_EV_LOAD_JOB,        /* startup: a stored job with its state */
    CHR_EV_LOAD_RUN,        /* startup: a stored open run */
    CHR_EV_LOAD_DONE,       /* startup done: reconcile runs, catch up missed instants.
                             * Requests before it are answered CHR_EUNAVAIL. */
    CHR_EV_PUT_JOB,         /* request: create or replace (the job is validated) */
    CHR_EV_DELETE_JOB,      /* request */
    CHR_EV_RUN_JOB,         /* request: run now (manual), optional arguments */
    CHR_EV_KILL_JOB,        /* request: kill the job's active runs */
    CHR_EV_MARK_SUCCESS,    /* request: count as a success, fire dependents */
    CHR_EV_STORE_DONE,      /* a persist batch completed (durable, or failed) */
    CHR_EV_OFFER,           /* resources offered */
    CHR_EV_OFFER_RESCINDED,
    CHR_EV_TASK_STATUS,     /* a run's state changed at the resource manager */
};

/* An agent's attributes as an offer carries them, and the bounds the core
 * accepts (those of offers/mesos/types.h, whose decoder refuses more). */
#define CHR_OFFER_HOST_MAX 256       /* the hostname, with its NUL */
#define CHR_OFFER_ATTRS_MAX 64
#define CHR_OFFER_ATTR_NAME_MAX 128  /* with the NUL */
#define CHR_OFFER_ATTR_VALUE_MAX 256 /* with the NUL */

/* One agent attribute, its value as text the way the Mesos adapter renders
 * it: TEXT as is, SCALAR as a decimal number ("2", "2.5"), SET as "{a,b}",
 * RANGES as "[1-10,20-30]".  The core reads the type back from that shape,
 * which is unambiguous for Mesos attributes (a TEXT value is never a number
 * and has no bracket: Mesos parses agent attributes by the same rule). */
struct chr_offer_attr {
    const char *name;
    const char *value;
};

/*
 * An offer.  hostname and attrs are borrowed for the step that takes the
 * event: the core copies what it keeps (it holds offers across steps).  An
 * offer with more than CHR_OFFER_ATTRS_MAX attributes, or a longer name,
 * value or hostname, is declined at once with a note.
 */
struct chr_offer {
    uint64_t id;
    char agent[64];
    double cpus, mem_mb, disk_mb;
    const char *hostname;               /* NULL: "" */
    const struct chr_offer_attr *attrs; /* n_attrs of them; NULL when 0 */
    size_t n_attrs;
    /* Its resource manager can run container jobs (a job with a container):
     * Mesos, or the local manager with a container runtime. */
    bool containers;
};

struct chr_event {
    enum chr_event_type type;
    uint64_t request_id;    /* requests: echoed in the reply */
    union {
        /* LOAD_JOB, PUT_JOB: ownership of job (and state) moves to the core,
         * whatever the step returns (a refused job is freed). */
        struct {
            struct chr_job job;
            struct chr_job_state state; /* LOAD_JOB only */
            /* LOAD_JOB: no state was stored (a job written into the store
             * by hand): it starts as a job just created would. */
            bool stateless;
        } job;
        /* LOAD_RUN: ownership of run.arguments moves.  Its state as stored
         * does not matter: every loaded run is "reconciling" until the
         * resource manager answers the RECONCILE the core sends for it. */
        struct chr_run run;
        struct { /* DELETE_JOB, RUN_JOB, KILL_JOB, MARK_SUCCESS */
            const char *name;
            const char *arguments; /* RUN_JOB: NULL = the job's own; copied */
            const char *run_id;    /* KILL_JOB: the one run to kill; NULL = every
                                    * active run of the job */
            /* DELETE_JOB of a job others depend on: false refuses it (naming
             * them); true deletes it and rewrites each child in the same batch
             * (core_req.c "Forced delete"). */
            bool force;
        } named;
        /* STORE_DONE.  Batches complete in the order they were emitted:
         * STORE_DONE(b, CHR_OK) means b and every earlier batch is durable. */
        struct {
            uint64_t batch_id;
            enum chr_err result;
        } store;
        struct chr_offer offer; /* OFFER; OFFER_RESCINDED uses offer.id */
        /* TASK_STATUS: RUNNING, a terminal state, or QUEUED meaning "this
         * task never started and may be launched again": the answer to a
         * RECONCILE for an id the manager does not know (offer_id 0), or to
         * a launch whose offer was gone (offer_id: that launch's offer).
         * QUEUED is taken only when it matches (a reconciling run, or the
         * run's current launch), so a late or repeated one cannot cause a
         * second launch.  A status for an unknown id is noted; a RUNNING
         * one is answered with a KILL (a zombie). */
        struct {
            const char *run_id;
            uint64_t offer_id;
            enum chr_run_state state;
            int32_t exit_code;
            const char *reason;
        } status;
    } u;
};

/* ---- Actions --------------------------------------------------------------- */

enum chr_persist_op {
    CHR_PERSIST_JOB = 1,   /* put the job definition (and its state) */
    CHR_PERSIST_STATE,     /* put the job's state */
    CHR_PERSIST_RUN,       /* put an open run */
    CHR_PERSIST_RUN_DONE,  /* delete an open run (its outcome is in the state) */
    CHR_PERSIST_DELETE_JOB,/* delete the job, its state and ledger */
    CHR_PERSIST_NOTICE,    /* a notification to deliver (item.notice): the server
                            * puts it in its outbox in the same batch */
};

/* What a notification is about (docs/operations.md "Notifications").  The
 * core says what happened; the server decides whom it tells (its flags, the
 * job's own switch) and delivers from a durable outbox. */
enum chr_notice_kind {
    CHR_NOTICE_FAILED = 1,  /* a failure after the last retry: Chronos's "job failed!" */
    CHR_NOTICE_DISABLED,    /* disabled by config.disable_after_failures */
    CHR_NOTICE_EXHAUSTED,   /* a run finished and the schedule has no instant left */
    CHR_NOTICE_DELETED,
    CHR_NOTICE_LOST,        /* the resource manager lost a run */
    CHR_NOTICE_TIMEOUT,     /* a run killed by its maxCompletionTime */
    CHR_NOTICE_SKIPPED,     /* instants coalesced or skipped (the ledger) */
    CHR_NOTICE_RECOVERED,   /* a success after failures */
    /* A queued run that no offer fitted for config.notify_waiting_ms: once
     * per run (chr_run.wait_notified, persisted in the same batch). */
    CHR_NOTICE_WAITING,
    CHR_NOTICE_TEST,        /* never from the core: `chronos notify test` */
};
#define CHR_NOTICE_KIND_LAST CHR_NOTICE_TEST
/* Every kind a server or a job can switch (all but TEST), as a mask of
 * (1 << kind): what a job's notifyEvents and the server's --notify_events
 * choose from. */
#define CHR_NOTICE_SWITCHABLE (((1u << CHR_NOTICE_TEST) - 1u) & ~1u)
/* Their names, for messages that list them. */
#define CHR_NOTICE_SWITCHABLE_NAMES \
    "failed, disabled, exhausted, deleted, lost, timeout, skipped, recovered, waiting"
/* The kind's name as flags, job fields and payloads spell it ("failed",
 * "waiting", "test"); NULL for a value outside the enum. */
const char *chr_notice_kind_name(enum chr_notice_kind k);
/* The kind named by the `len` bytes at `name` (0 when none). */
enum chr_notice_kind chr_notice_kind_of(const char *name, size_t len);

/* The reason a run ends with when its maxCompletionTime killed it (the
 * resource managers write it; the core tells TIMEOUT by it). */
#define CHR_REASON_MAX_COMPLETION "exceeded maxCompletionTime"

/* One notification, as the core saw it (a snapshot, like other items). */
struct chr_notice {
    enum chr_notice_kind kind;
    const struct chr_job *job;  /* the definition then (DISABLED: the disabled one) */
    struct chr_job_stats stats; /* the job's counters after the change */
    char run_id[CHR_RUN_ID_MAX];/* "" when no run is concerned */
    int32_t attempt, exit_code;
    int64_t started_ms, ended_ms; /* INT64_MIN: never */
    char reason[CHR_RUN_REASON_MAX];
    int64_t count, first_ms, last_ms; /* SKIPPED: the instants, the first and last */
};

struct chr_persist_item {
    enum chr_persist_op op;
    const char *name;                  /* the job */
    const struct chr_job *job;         /* JOB */
    const struct chr_job_state *state; /* JOB, STATE */
    const struct chr_run *run;         /* RUN, RUN_DONE */
    const struct chr_notice *notice;   /* NOTICE */
};

enum chr_action_type {
    CHR_ACT_PERSIST = 1, /* write items atomically; answer with STORE_DONE(batch_id) */
    CHR_ACT_LAUNCH,      /* launch run on offer */
    CHR_ACT_KILL,        /* kill run */
    CHR_ACT_DECLINE,     /* decline offer for refuse_ms */
    CHR_ACT_REPLY,       /* answer request_id */
    CHR_ACT_SUPPRESS,    /* nothing is waiting: stop offers */
    CHR_ACT_REVIVE,      /* something is waiting: offers again */
    CHR_ACT_RECONCILE,   /* ask the resource manager about an open run */
    CHR_ACT_NOTE,        /* a log line: what happened and why */
    CHR_ACT_WAITING,     /* a queued run's wait for resources began or changed
                          * (u.run.run->reason says why) */
};

struct chr_action {
    enum chr_action_type type;
    union {
        struct {
            uint64_t batch_id;
            const struct chr_persist_item *items;
            size_t n;
        } persist;
        /* LAUNCH.  With a launch lead (chr_core_config) it may come up to
         * launch_lead_ms before not_before_ms: the resource manager starts
         * the task at not_before_ms, not before. */
        struct {
            const struct chr_run *run;
            const struct chr_job *job;
            uint64_t offer_id;
            int64_t not_before_ms; /* run->due_ms, or a retry's end of delay */
        } launch;
        struct {
            const struct chr_run *run; /* KILL, RECONCILE, WAITING */
        } run;
        struct {
            uint64_t offer_id;
            int64_t refuse_ms;
        } decline;
        struct {
            uint64_t request_id;
            enum chr_err result;
            char message[CHR_ERROR_MESSAGE_MAX];
        } reply;
        struct {
            char text[256];
        } note;
    } u;
};

/*
 * The actions of one step.  Owned by the core; everything they point to stays
 * valid until the next chr_core_step or chr_core_destroy.  The adapters
 * execute them in order, whatever the step returned.  A persist item's state
 * and run are snapshots taken when the item was made, so two batches of one
 * step never share a later change.  Launches that share an offer_id go in one
 * accept; an offer the core launched on is consumed (the manager offers the
 * rest again).
 */
struct chr_actions {
    const struct chr_action *v;
    size_t n;
};

/* ---- Lifecycle ------------------------------------------------------------- */

struct chr_core_config {
    struct chr_tzdb *tzdb;          /* zones for schedules; borrowed */
    double default_cpus, default_mem_mb, default_disk_mb; /* 0.1 / 128 / 256 */
    int64_t default_retry_delay_ms; /* --failure_retry, 60000 */
    int64_t offer_refuse_ms;        /* decline filter, 5000 */
    uint32_t history_max;           /* finished runs kept per job (for job/stat) */
    /* How long before its instant a run is prepared, so that the chain
     * before its exec (persist, launch, spawn) is done by then.  0: at the
     * instant (no lead); clamped to 0..CHR_CORE_LAUNCH_LEAD_MAX_MS.  With a
     * lead L, an instant is handled (its run recorded) at instant - L and a
     * durable run is launched at due_ms - L (a retry: at the end of its delay
     * minus L), at once when that is past: LAUNCH may precede due_ms by up
     * to launch_lead_ms; the resource manager starts the task at due_ms
     * (launch.not_before_ms), not before. */
    int64_t launch_lead_ms;
    /* The most that one offer can ever hold: a job that needs more in any of
     * them is refused at PUT (its runs could never start).  The local
     * manager: this host's totals.  A field <= 0: unknown, no check (Mesos:
     * an agent may join at any time). */
    double max_cpus, max_mem_mb, max_disk_mb;
    /* The shortest time allowed between two instants of a schedule (PUT
     * refuses shorter with a 400 naming "schedule"); 0: no minimum.  Jobs
     * already stored are loaded whatever their period. */
    int64_t min_period_ms;
    /* Chronos's --disable_after_failures: a job whose errorsSinceLastSuccess
     * reaches it after a final failure is disabled (a NOTICE DISABLED goes
     * in the same batch); 0: never. */
    int64_t disable_after_failures;
    /* --notify_waiting_ms: a queued run that no held offer has fitted for
     * this long (counted from the first matching pass that found none)
     * gets one NOTICE WAITING, in a batch that also records the run with
     * wait_notified; the deadline is part of chr_core_next_wakeup.  0: off. */
    int64_t notify_waiting_ms;
    /* --max_jobs: the most jobs the registry holds; a PUT of a new job past
     * it is refused (400 naming "name").  0: CHR_JOBS_DEFAULT; at most
     * CHR_JOBS_MAX.  Jobs already stored are all loaded. */
    size_t jobs_max;
};

/* A lead is there to hide launch latency (milliseconds); a longer one would
 * hold offered resources idle and record runs long before their instant. */
#define CHR_CORE_LAUNCH_LEAD_MAX_MS 10000

struct chr_core;

enum chr_err chr_core_create(const struct chr_core_config *cfg, struct chr_core **out);
void chr_core_destroy(struct chr_core *core);

/*
 * Feeds one event at instant now_ms (never earlier than a previous step's)
 * and returns the actions to execute.  Ownership of the event's payload is as
 * documented per event type; strings in events are copied.  Besides the
 * event, a step does the work that is due: instants whose time came, retries
 * whose delay passed, matching queued runs to held offers.  A step emits at
 * most about CHR_STEP_ACTIONS_MAX actions; work left over keeps
 * chr_core_next_wakeup at now.
 *
 * Returns CHR_OK; CHR_ENOMEM when the event could not be applied (nothing of
 * it changed; feed it again; work left undone for lack of memory is retried
 * at the next step); CHR_EUNAVAIL once the core has failed (a STORE_DONE with
 * an error, this step's or an earlier one's): then *out holds CHR_EUNAVAIL
 * replies to every pending and new request, and nothing else is done.
 * *out is always filled, and its actions executed, whatever the result.
 */
enum chr_err chr_core_step(struct chr_core *core, int64_t now_ms, struct chr_event *ev,
                           struct chr_actions *out);

/* The earliest instant at which the core wants a CHR_EV_TIME step
 * (INT64_MAX: none).  O(1). */
int64_t chr_core_next_wakeup(const struct chr_core *core);

/* ---- Queries (read-only; the scheduler thread calls them between steps) ------ */

size_t chr_core_job_count(const struct chr_core *core);
/* The job named `name`, or NULL; valid until the next step. */
const struct chr_job *chr_core_job(const struct chr_core *core, const char *name,
                                   const struct chr_job_state **state);
/* Calls fn for every job, in the order they were registered (loaded or
 * created): deterministic, never hash order.  Callers sort if they need to. */
void chr_core_each_job(const struct chr_core *core, void (*fn)(void *ctx, const struct chr_job *,
                                                               const struct chr_job_state *),
                       void *ctx);
/* The active runs of a job (queued, launching, running) into out[], up to max. */
size_t chr_core_job_runs(const struct chr_core *core, const char *name, const struct chr_run **out,
                         size_t max);
/* When an active run (one chr_core_job_runs gave) may start at the earliest:
 * its due instant, or for a retry the end of its delay. */
int64_t chr_core_run_ready_ms(const struct chr_run *run);

/* What the core holds, for metrics and for tests of its bounds. */
struct chr_core_counts {
    size_t jobs;
    size_t runs;            /* active runs: recording .. running */
    size_t runs_waiting;    /* recording or queued */
    size_t offers_held;
    size_t batches_pending; /* emitted, not yet reported durable */
    size_t replies_pending; /* requests waiting for their batch */
    bool loaded, failed;
};
void chr_core_counts(const struct chr_core *core, struct chr_core_counts *out);

#endif
