/*
 * local.h - the local resource manager: this host offers its cpus, memory and
 * disk, and runs tasks as supervised processes that outlive the server.
 *
 * Every run has a directory <runs_dir>/<run-id>/ and a supervisor: the same
 * binary (`chronos run-task <run-dir>`) started detached from the server (own
 * session, stdio on /dev/null, signals at their defaults).  The supervisor
 * claims the run, forks the task, records its pid durably BEFORE the task may
 * exec, captures stdout and stderr into bounded files, enforces
 * maxCompletionTime, and records the outcome durably.  The server may be
 * killed at any moment: a new instance re-attaches to live supervisors and
 * collects the outcomes of finished ones.  Nothing here needs the server to
 * stay alive, and no run is started twice: launching is idempotent per run id.
 *
 * The run directory:
 *
 *   spec    the task as the server launched it (JSON), in the directory
 *           before it gets its name (temp dir + rename); not fsync'd:
 *           nothing durable depends on it
 *   claim   "<supervisor pid> <its /proc start ticks> <boot id>", created
 *           complete and exclusively (temp file + link) by the one
 *           supervisor that runs the task; or "abandoned" when the server
 *           gave up a run that never started.  No claim: the run never
 *           started and never will without a launch.
 *   pid     "<task pid> <start ms> <boot id> <task /proc start ticks>",
 *           created once and fsync'd (file and directory) before the task is
 *           let exec.  Its start is when the task is let exec: the later of
 *           the record's time and the task's not_before_ms.  A start still
 *           in the future: the task waits for it (the run is STARTING).
 *           No pid record: the task never ran; nor did it when the outcome
 *           says "killed before start".
 *   exit    the outcome (JSON: state, pid, exit_code, signal, reason,
 *           start_ms, end_ms, output byte counts), created once, fsync'd.
 *           Present: the run is over.
 *   (pid and exit are written in place, one journal commit each instead of
 *   two for temp + rename: a record that does not parse yet is absent.)
 *   stdout, stderr   the task's output: the first cap bytes; past the cap a
 *           note and the last CHR_LOCAL_OUTPUT_TAIL bytes at the end.
 *
 *   cgroup  the run's cgroup directories ("<hierarchy> <dir>" lines), while
 *           it has them: what the server kills and removes if the
 *           supervisor dies first.
 *
 * Processes.  The task leads its own process group, in a cgroup of its own
 * where the host lets the supervisor make one (v2, or v1 controllers):
 * `mem` is its memory limit, `cpus` its CPU quota, and it may hold at most
 * CHR_LOCAL_TASK_PIDS_MAX processes.  The supervisor is the task's child
 * subreaper, so whatever leaves the group or the session stays its
 * descendant.  Killing a run, or passing maxCompletionTime, sends SIGTERM to
 * all of the run's processes (group, cgroup, descendants) and SIGKILL after
 * the grace period; when the task ends by itself, whatever is left of it is
 * killed (as Mesos destroys a task's container); either way the outcome is
 * recorded only once every process of the run is gone, and the cgroup is
 * removed.  The task dies with its supervisor (PR_SET_PDEATHSIG); the server
 * kills what is left of the group and the cgroup of a run it finds LOST, so
 * a retry never overlaps it.
 *
 * Threads.  One monitor thread per instance watches supervisors (pidfd +
 * epoll) and calls the event callback; every event comes from that thread,
 * in order per run.  The other functions may be called from any thread.
 */
#ifndef CHR_OFFERS_LOCAL_H
#define CHR_OFFERS_LOCAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/err.h"
#include "scheduler/job.h"

/* ---- Tasks and events ---------------------------------------------------- */

struct chr_local_resources {
    double cpus, mem_mb, disk_mb;
};

/*
 * One run to launch.  Every pointer is borrowed for the duration of
 * chr_local_launch only.
 *
 * The task is `/bin/sh -c command` when shell is true (arguments ignored,
 * as Mesos does), else the program `command` (searched in the task's PATH
 * when it has no '/'; a file without "#!" runs under /bin/sh, as with
 * execvp) with argv = {command, arguments...}.  Its environment (nothing of
 * the server's own, as cron does) is PATH=/usr/local/bin:/usr/bin:/bin,
 * HOME, USER, LOGNAME and SHELL of the
 * user it runs as, then `env` (later entries win), then the Chronos built-ins,
 * which win over all: CHRONOS_JOB_NAME, CHRONOS_JOB_OWNER,
 * CHRONOS_JOB_RUN_TIME (due_ms), CHRONOS_JOB_RUN_ATTEMPT,
 * CHRONOS_RESOURCE_CPU|MEM|DISK ("0.1", "128.0"), MESOS_TASK_ID and
 * mesos_task_id (the run id), HOST.  Its working directory is that user's
 * home ("/" when it has none), stdin is /dev/null.
 */
struct chr_local_task {
    const char *run_id;      /* 1..CHR_LOCAL_RUN_ID_MAX of [A-Za-z0-9_.:-], not starting with '.' */
    const char *job_name;    /* [A-Za-z0-9_.-], not "." or ".." (names the archive dir) */
    const char *owner;       /* NULL: "" */
    const char *command;
    bool shell;
    char *const *arguments;
    uint32_t n_arguments;
    const struct chr_env_var *env; /* the job's environmentVariables */
    uint32_t n_env;
    const char *run_as_user; /* NULL: the server's user.  Another user needs root. */
    struct chr_local_resources res;
    int64_t due_ms;
    int32_t attempt;
    /* The task execs no earlier than this wall instant (ms since the epoch):
     * the supervisor claims the run, forks the task and records its pid
     * first, then holds the exec until it, so that a run launched ahead of
     * its due time starts on it.  0 or a past instant: at once.  At most
     * CHR_LOCAL_LEAD_MAX_MS ahead of the launch; a kill while it waits ends
     * the run as KILLED ("killed before start"), the task never exec'd. */
    int64_t not_before_ms;
    int64_t max_completion_ms;  /* 0: none; else the process group is killed after it,
                                 * counted from the exec */
    int64_t stdout_max_bytes;   /* 0: CHR_LOCAL_OUTPUT_DEFAULT */
    int64_t stderr_max_bytes;
    bool no_cgroup;             /* never a cgroup of its own (--cgroups off) */
    /* The job's `container` (Chronos's JSON object, as the job holds it;
     * NULL: none).  A task with one runs in a container of the manager's
     * runtime (see "Containers" below), never on the host: without a
     * runtime, chr_local_launch refuses it. */
    const char *container_json;
    /* Asked last, right before the supervisor is started (the step that
     * cannot be taken back); false: nothing starts, CHR_EUNAVAIL.  A leader
     * passes its lease here, so that one paused after deciding to launch
     * (a stop, a long stall writing the run's directory) starts nothing
     * once another may lead.  NULL: always. */
    bool (*may_start)(void *ctx);
    void *may_start_ctx;
};

enum chr_local_state {
    CHR_LOCAL_STARTING = 1, /* a supervisor is starting the run (or holds it
                             * until its not_before_ms) */
    CHR_LOCAL_RUNNING,      /* the task exec'd (pid, start_ms) */
    CHR_LOCAL_FINISHED,     /* exit 0 */
    CHR_LOCAL_FAILED,       /* non-zero exit, signal, exec failure, bad user,
                             * exceeded maxCompletionTime */
    CHR_LOCAL_KILLED,       /* by chr_local_kill (or SIGTERM to the supervisor) */
    CHR_LOCAL_LOST,         /* the supervisor died without an outcome, or the
                             * host rebooted under the run: the task may have
                             * run; what is left of its process group is killed */
    CHR_LOCAL_DROPPED,      /* never started and never will: may be launched
                             * again with the same run id (the core's QUEUED) */
};

/* True for the states after which nothing more is reported about a run. */
bool chr_local_state_terminal(enum chr_local_state s);
/* "STARTING", "RUNNING", ... (never NULL). */
const char *chr_local_state_name(enum chr_local_state s);

/*
 * What happened to a run.  Strings are valid during the callback only.
 * Terminal events release the run's resources before the callback.
 */
struct chr_local_event {
    enum chr_local_state state;
    const char *run_id;
    int pid;               /* the task's (its process group's); 0 when unknown */
    int64_t start_ms;      /* when the task was let exec; INT64_MIN when unknown */
    int64_t end_ms;        /* terminal: when the outcome was recorded; else INT64_MIN */
    int32_t exit_code;     /* exit status; -1 when none (signal, never ran) */
    int32_t signal;        /* the signal that ended the task, or 0 */
    const char *reason;    /* "" or why: "exit 127 (command not found)",
                            * "exec /no/such: No such file or directory",
                            * "exceeded maxCompletionTime (2 s)", ... */
    bool stdout_truncated, stderr_truncated; /* output was dropped past the cap */
    bool reattached;       /* reported by chr_local_reattach or chr_local_reconcile */
};

/*
 * Called on the monitor thread, with no lock held: it may call
 * chr_local_offer, _launch, _kill, _reconcile and _collect, never
 * chr_local_destroy.
 */
typedef void (*chr_local_event_fn)(void *ctx, const struct chr_local_event *ev);

/* ---- Lifecycle ----------------------------------------------------------- */

/*
 * Containers.  A task with a `container` runs as
 *
 *   <runtime> run --rm --name chronos-<run id, sanitized>-<hash>
 *     [--pull=always] --network host|bridge|none|<name> --user UID:GID
 *     --cpus=<cpus> --memory=<bytes> [-v host:container[:ro]]...
 *     [--<parameter>=<value>]... [-e NAME]... [--entrypoint /bin/sh]
 *     <image> [-c <command> | <command> <arguments>...]
 *
 * executed by the run's supervisor in place of the task (its output, exit
 * code and kill as for a host task; the runtime, not the supervisor, holds
 * the container's cgroup, so the run gets no cgroup of its own).  Mesos's
 * Docker containerizer's mapping: shell=true overrides the image's
 * entrypoint with /bin/sh and passes `-c command`; shell=false passes the
 * command (when not empty) and the arguments to the image's entrypoint; an
 * empty command runs the image's default.  The container's environment is
 * the job's variables and the built-ins (no PATH/HOME of the host: the
 * image's own), passed as `-e NAME` with the value in the runtime's
 * environment, so no value shows on a command line, except for a name the
 * runtime's own environment needs (PATH, HOME...: `-e NAME=value`).  UID:GID
 * is runAsUser's (or the server's user), looked up on this host; the
 * runtime itself runs as the server's user.  A kill stops the container
 * (`<runtime> kill`), and once the run is over `<runtime> rm -f` makes sure
 * that none is left.  See offers/local_container.c for the checks.
 */
enum chr_local_runtime {
    CHR_LOCAL_RUNTIME_NONE = 0, /* container tasks are refused */
    CHR_LOCAL_RUNTIME_PODMAN,
    CHR_LOCAL_RUNTIME_DOCKER,
};
/* "podman", "docker", or "" for NONE. */
const char *chr_local_runtime_name(enum chr_local_runtime rt);
/* "podman" or "docker" into *out; CHR_EINVAL for anything else. */
enum chr_err chr_local_runtime_parse(const char *name, enum chr_local_runtime *out);

/* The small supervisor binary (cli/task/main.c), looked for beside ours. */
#define CHR_LOCAL_TASK_BIN "chronos-run-task"

struct chr_local_config {
    const char *runs_dir;     /* created (one level) if missing */
    enum chr_local_runtime runtime; /* runs container tasks; NONE: refuses them */
    const char *chronos_bin;  /* the binary with `run-task`; NULL: CHR_LOCAL_TASK_BIN
                               * beside /proc/self/exe if there, else that itself */
    const char *hostname;     /* NULL: gethostname() */
    struct chr_local_resources total; /* each 0: from the machine (CPUs this
                                       * process may use, MemTotal, the size
                                       * of the file system under runs_dir) */
    int64_t kill_grace_ms;    /* SIGTERM -> SIGKILL; 0: CHR_LOCAL_KILL_GRACE_MS */
    int32_t keep_done_per_job;/* finished run dirs kept per job after collect;
                               * -1: CHR_LOCAL_KEEP_DONE_DEFAULT; 0: delete */
    bool group_launches;      /* hold launches until chr_local_flush (or a
                               * full group), one supervisor for them all;
                               * false: a supervisor per launch, at once */
    chr_local_event_fn on_event;
    void *ctx;
};

struct chr_local;

/*
 * Makes a manager and starts its monitor thread; strings of cfg are copied.
 * Nothing is reported before chr_local_reattach or a launch.
 * Returns CHR_EINVAL (bad config; err says which field), CHR_EIO (runs_dir
 * unusable), CHR_EUNAVAIL (no pidfd in this kernel: Linux >= 5.4 needed),
 * CHR_ENOMEM.
 */
enum chr_err chr_local_create(const struct chr_local_config *cfg, struct chr_local **out,
                              struct chr_error *err);

/*
 * Starts one supervisor for the launches held since the last flush (with
 * group_launches; a full group of CHR_LOCAL_GROUP_MAX starts at once).  The
 * runs were recorded in their directories by chr_local_launch; a supervisor
 * that cannot be started leaves each of them DROPPED (reported as an event,
 * the run's directory abandoned), never half started.  The scheduler thread
 * calls it after a step's launches.
 */
void chr_local_flush(struct chr_local *l);

/* Stops the monitor thread and frees everything; runs keep running (a later
 * instance re-attaches to them).  NULL is allowed. */
void chr_local_destroy(struct chr_local *l);

/* ---- Operations ---------------------------------------------------------- */

/* The resources not held by active runs, and the host they are on. */
struct chr_local_offer {
    char host[256];
    struct chr_local_resources free;
    bool containers; /* a task with a container can run here (a runtime is set) */
};
void chr_local_offer(struct chr_local *l, struct chr_local_offer *out);
/* True when a container runtime is configured: tasks with a container
 * can be launched.  Any thread. */
bool chr_local_containers(const struct chr_local *l);
/* What this host offers in all (config.total, or the machine's): the most
 * any one run can get. */
void chr_local_total(struct chr_local *l, struct chr_local_resources *out);

/*
 * Launches a run: records its spec, starts its supervisor detached (with
 * group_launches: holds it for the group that chr_local_flush starts, or
 * that starts once full), returns (about a millisecond; the task starts
 * later: STARTING, RUNNING, then one terminal event).  Idempotent per run id: a run this instance tracks is left
 * alone; a run directory that a supervisor claimed (a launch before a
 * restart) is watched and reported, never started again (one that ended
 * has its end reported again); one that never started (DROPPED) is started.
 * Resources are held from here to the terminal event.
 * A task with a container is refused when no runtime is configured:
 * CHR_EUNAVAIL, err naming "container" (nothing is started, no event).
 * Returns CHR_OK; CHR_EINVAL (bad task: err names the field); CHR_ERANGE (does
 * not fit in what is free, or CHR_LOCAL_RUNS_MAX runs); CHR_EIO (the run dir
 * or the supervisor could not be made: nothing is left behind); CHR_ENOMEM.
 * On failure no event is reported.  A held run whose group's supervisor
 * cannot be started is reported DROPPED by chr_local_flush.
 */
enum chr_err chr_local_launch(struct chr_local *l, const struct chr_local_task *task,
                              struct chr_error *err);

/*
 * Kills a run: SIGTERM to the task's process group, SIGKILL after the grace
 * period (the supervisor does it, so it completes without the server); ends
 * as KILLED (whatever the task does with SIGTERM).  A run not yet claimed
 * by its supervisor never starts (KILLED, "killed before start").  Returns
 * CHR_OK, or CHR_ENOENT when this instance does not track the run (never
 * launched or re-attached here, or its end was reported already).
 */
enum chr_err chr_local_kill(struct chr_local *l, const char *run_id);

/*
 * Startup: scans runs_dir and reports every run directory, each as one event
 * with reattached = true: a live run as STARTING or RUNNING (then watched to
 * its end), a finished one that was not collected as its terminal state, a
 * supervisor that died without an outcome as LOST, a run never started as
 * DROPPED (it is marked abandoned first, so a supervisor that was on its way
 * cannot start it any more).  Call once, after create.  Returns the number of
 * runs found in *n (may be NULL); CHR_EIO when runs_dir cannot be read.
 */
enum chr_err chr_local_reattach(struct chr_local *l, size_t *n);

/*
 * Reports the state of one run (the answer to the core's RECONCILE) as one
 * event with reattached = true: its current state if tracked or on disk, or
 * DROPPED when this host never heard of it.  Returns CHR_EINVAL for a bad run
 * id, else CHR_OK.
 */
enum chr_err chr_local_reconcile(struct chr_local *l, const char *run_id);

/*
 * The core has durably recorded the run's outcome: the run directory moves
 * to <runs_dir>/.done/<job>/<run-id> (its output stays readable there), and
 * each job keeps only its newest keep_done_per_job such directories.  A run
 * never started is marked abandoned first.  The run id must not be launched
 * again.  Returns CHR_OK (also when there is nothing to collect),
 * CHR_ECONFLICT when the run is still active, CHR_EIO.
 */
enum chr_err chr_local_collect(struct chr_local *l, const char *run_id);

/* The job's deletion is durable: its kept finished runs (.done/<job>) go,
 * and so do the directories of its runs that ended but were never collected
 * (a run killed with its job); runs still going are left, for the caller to
 * collect when they end.  So runs_dir and the archive stay bounded by the
 * jobs that exist.  CHR_EINVAL for a name that is no job name, CHR_EIO;
 * CHR_OK also when nothing was kept. */
enum chr_err chr_local_forget_job(struct chr_local *l, const char *job);

/*
 * Opens the captured output ("stdout" or "stderr") of a run, wherever its
 * directory is (live under runs_dir, or kept under .done/<job>/ after
 * collect).  Returns the file descriptor (the caller closes it), or -1 with
 * errno: EINVAL (bad job name, run id or stream), ENOENT (the run's output is
 * not, or no longer, kept).  *ended: the run has its outcome recorded, so the
 * output will not grow.  Any thread; reads only the file system.
 */
int chr_local_output_open(const char *runs_dir, const char *job, const char *run_id,
                          const char *stream, bool *ended);
/* True once the run's output is complete (its outcome is recorded, or its
 * directory is gone). */
bool chr_local_output_ended(const char *runs_dir, const char *job, const char *run_id);

/* ---- The supervisor ------------------------------------------------------ */

/*
 * The body of `chronos run-task [--notify-fd N] RUN_DIR`: supervises the run
 * in RUN_DIR to its end and returns the process's exit status: 0 when the
 * outcome is recorded (whatever it is), CHR_LOCAL_EXIT_CLAIMED when another
 * supervisor (or the server) had claimed the run, 1 when nothing could be
 * recorded.  notify_fd (-1: none) receives "R <pid> <start_ms> <run-id>\n"
 * once the task has exec'd and "E <run-id>\n" once the outcome is durable (start_ms: when it was let exec, after its not_before_ms).
 */
#define CHR_LOCAL_EXIT_CLAIMED 3
int chr_local_run_task(const char *run_dir, int notify_fd);

/*
 * The body of `chronos run-task [--notify-fd N] RUN_DIR...`: one supervisor
 * for the n runs (1..CHR_LOCAL_GROUP_MAX) whose directories are given, each
 * run as chr_local_run_task's, the group's pid records and outcomes made
 * durable together.  notify_fd receives "R <pid> <start_ms> <run-id>\n" when
 * a task has exec'd and "E <run-id>\n" when a run's outcome is durable (or
 * the run turned out not to be this supervisor's: claimed elsewhere, or
 * unclaimable); the server then reads the run's directory.  Returns 0 when
 * every run is recorded or was claimed elsewhere, 1 when one could not be
 * (for n = 1, chr_local_run_task's statuses).
 */
int chr_local_run_group(const char *const *run_dirs, size_t n, int notify_fd);

/*
 * What a run's own cgroup enforces on this host, found by making one and
 * removing it at once: "mem (v1 memory), cpus (v1 cpu), pids (v1 pids),
 * kill (v2)", or "none" (no cgroup can be made: mem and cpus are not
 * enforced, a kill is the process group plus the subreaper sweep).  For the
 * server's log at start; the supervisors, made by the server, get the same.
 */
void chr_local_cgroup_describe(char *buf, size_t cap);

/* ---- Helpers (pure; exposed for the tests and the core's glue) ------------ */

/* True when `id` is a valid run id (see struct chr_local_task). */
bool chr_local_run_id_valid(const char *id);

/*
 * Formats a resource as Chronos does (a Java double): the shortest decimal
 * that reads back as `v`, with ".0" when integral: 0.1 -> "0.1", 128 ->
 * "128.0".  buf must hold 32 bytes.
 */
void chr_local_format_double(double v, char buf[32]);

#endif
