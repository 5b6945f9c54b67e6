/*
 * local_int.h - what the files of the local resource manager share: the run
 * directory's records (names, contents, atomic writes), the spec, process
 * identities (pid + /proc start ticks + boot id, since pids are reused: this
 * host's pid_max is 32768), pidfd wrappers and the two clocks.
 *
 *   local.c            the server's API: run table, launch, kill, reattach
 *   local_watch.c      the monitor thread: supervisors' exits, notifications,
 *                      and reading a run's state off its directory
 *   local_collect.c    collect: the archive of finished runs, bounded per job
 *   local_rundir.c     records, files, identities, clocks
 *   local_spec.c       the spec (JSON), argv and the task's environment
 *   local_supervise.c  the supervisor (`chronos run-task`)
 */
#ifndef CHR_OFFERS_LOCAL_INT_H
#define CHR_OFFERS_LOCAL_INT_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "common/limits.h"
#include "common/strmap.h"
#include "offers/local.h"

#define CHR_LOCAL_SPEC_FILE "spec"
#define CHR_LOCAL_CLAIM_FILE "claim"
#define CHR_LOCAL_PID_FILE "pid"
#define CHR_LOCAL_EXIT_FILE "exit"
#define CHR_LOCAL_STDOUT_FILE "stdout"
#define CHR_LOCAL_STDERR_FILE "stderr"
/* Made by the server to ask the run's supervisor (then sent SIGUSR1) to kill it. */
#define CHR_LOCAL_KILL_FILE "kill"
/* Under runs_dir: finished runs after collect. */
#define CHR_LOCAL_DONE_DIR ".done"
#define CHR_LOCAL_ABANDONED "abandoned"



/* /proc/sys/kernel/random/boot_id: 36 characters. */
#define CHR_LOCAL_BOOT_ID_LEN 36

/* ---- Files ------------------------------------------------------------- */

/* Reads the file `name` under dirfd whole (at most max bytes) into a
 * NUL-terminated chr_malloc'd *out.  CHR_ENOENT when it does not exist,
 * CHR_ERANGE when larger than max, CHR_EIO, CHR_ENOMEM. */
enum chr_err chr_local_file_read(int dirfd, const char *name, size_t max, char **out,
                                 size_t *len);

/* Writes `name` under dirfd atomically (a temp file renamed over it); with
 * durable, fsyncs the file before and the directory after the rename. */
enum chr_err chr_local_file_write(int dirfd, const char *name, const void *data, size_t len,
                                  bool durable);

/* Creates the record `name` under dirfd, durably (file and directory
 * fsync'd) and only once (CHR_ECONFLICT when it exists).  Not atomic: a
 * reader may see it torn while it is written, or after a crash in the
 * middle; readers take a record that does not parse as absent.  Costs one
 * journal commit where write-temp-and-rename costs two. */
enum chr_err chr_local_file_record(int dirfd, const char *name, const void *data, size_t len);

/* Creates the record `name` under dirfd (CHR_ECONFLICT when it exists),
 * not durably: a group supervisor makes a group's records durable together
 * (syncfs) before it acts on them.  Not atomic, as chr_local_file_record. */
enum chr_err chr_local_file_put(int dirfd, const char *name, const void *data, size_t len);

/* Creates `name` under dirfd holding `text`, atomically and only if it does
 * not exist (a complete temp file hard-linked to the name).  CHR_ECONFLICT
 * when it exists. */
enum chr_err chr_local_file_create(int dirfd, const char *name, const char *text);

/* Removes every entry of the flat directory `name` under dirfd, then it. */
enum chr_err chr_local_dir_remove(int dirfd, const char *name);

/* ---- Process identity ------------------------------------------------------ */

/* The start time of process `pid` in clock ticks since boot (field 22 of
 * /proc/<pid>/stat); false when there is no such process. */
bool chr_local_proc_start(pid_t pid, uint64_t *ticks);
/* Fields 3 (state: 'R', 'S', 'Z', ...), 4 (ppid) and 22 (start ticks) of
 * /proc/<pid>/stat; false when the process is gone or the line is odd. */
bool chr_local_proc_stat(pid_t pid, char *state, pid_t *ppid, uint64_t *ticks);
/* /proc/<pid>/<file>'s first cap - 1 bytes into buf, NUL-terminated; false
 * when it cannot be read or is empty. */
bool chr_local_proc_read(pid_t pid, const char *file, char *buf, size_t cap);

/* This boot's id; false when it cannot be read. */
bool chr_local_boot_id(char out[CHR_LOCAL_BOOT_ID_LEN + 1]);

/* pidfd_open(2) and pidfd_send_signal(2); -1 with errno on failure. */
int chr_local_pidfd_open(pid_t pid);
int chr_local_pidfd_signal(int pidfd, int sig);

/*
 * A pidfd for the live process (pid, ticks) of this boot, or -1 when that
 * process is gone (a zombie, or its pid is free or someone else's).  The pidfd is taken before the
 * start time is checked, so it cannot refer to a later process with the pid.
 */
int chr_local_proc_watch(pid_t pid, uint64_t ticks, const char *boot_id);

/* Reaps the process (pid, ticks) when it is a zombie child of ours (a
 * supervisor that ended while no instance watched it). */
void chr_local_reap(pid_t pid, uint64_t ticks, const char *boot_id);

/*
 * SIGKILLs what is left of a task's process group after its supervisor died:
 * only when the group still exists and its id is not someone else's (the
 * leader is gone, or is the task itself by start ticks).  Same boot only.
 */
void chr_local_kill_orphans(pid_t pgid, uint64_t leader_ticks, const char *boot_id);

/* ---- Records ------------------------------------------------------------- */

struct chr_local_claim {
    bool abandoned;
    pid_t pid;       /* the supervisor */
    uint64_t ticks;
    char boot_id[CHR_LOCAL_BOOT_ID_LEN + 1];
};

struct chr_local_pidrec {
    pid_t pid;       /* the task, and its process group */
    int64_t start_ms; /* when it is let exec: may be ahead while it waits */
    uint64_t ticks;
    char boot_id[CHR_LOCAL_BOOT_ID_LEN + 1];
};

struct chr_local_exitrec {
    enum chr_local_state state; /* FINISHED, FAILED or KILLED */
    pid_t pid;
    int32_t exit_code, signal;
    int64_t start_ms, end_ms;
    int64_t stdout_bytes, stderr_bytes;
    bool stdout_truncated, stderr_truncated;
    char reason[256];
};

/* Text of a record into buf (NUL-terminated); its length. */
size_t chr_local_claim_format(const struct chr_local_claim *c, char *buf, size_t cap);
size_t chr_local_pidrec_format(const struct chr_local_pidrec *p, char *buf, size_t cap);
/* JSON text of an exit record, chr_malloc'd. */
char *chr_local_exitrec_format(const struct chr_local_exitrec *e, size_t *len);

/* True when the task of a pid record has been let exec by now_ms (wall):
 * false while its supervisor holds it until its start. */
bool chr_local_pidrec_started(const struct chr_local_pidrec *p, int64_t now_ms);

/* Parse the text of a record (len bytes; no NUL needed, one ends it): pure.
 * CHR_OK, or CHR_EINVAL when malformed (then *out is zeroed). */
enum chr_err chr_local_claim_parse(const char *text, size_t len, struct chr_local_claim *c);
enum chr_err chr_local_pidrec_parse(const char *text, size_t len, struct chr_local_pidrec *p);
enum chr_err chr_local_exitrec_parse(const char *text, size_t len, struct chr_local_exitrec *e);

/* Read a record from the run directory dirfd.  CHR_ENOENT when absent,
 * CHR_EINVAL when unreadable (a torn write after a crash), CHR_EIO. */
enum chr_err chr_local_claim_read(int dirfd, struct chr_local_claim *c);
enum chr_err chr_local_pidrec_read(int dirfd, struct chr_local_pidrec *p);
enum chr_err chr_local_exitrec_read(int dirfd, struct chr_local_exitrec *e);

/* ---- Containers (local_container.c) ------------------------------------------ */

struct chr_local_volume {
    char *host;      /* NULL: an anonymous volume */
    char *container; /* absolute */
    bool ro;
};

struct chr_local_param {
    char *key, *value; /* one `--key=value` of the runtime */
};

/* A job's `container`, checked; everything chr_malloc'd. */
struct chr_local_container {
    char *image;
    char *network;   /* "host", "bridge", "none" or a network's name */
    bool force_pull;
    struct chr_local_volume *volumes;
    uint32_t n_volumes;
    struct chr_local_param *params;
    uint32_t n_params;
};

/* Parses and checks Chronos's container JSON text (type DOCKER or MESOS,
 * image required, network, volumes with absolute paths, forcePullImage,
 * parameters from a list of allowed options).  CHR_EINVAL with err naming
 * the field ("container.image", "container.volumes[1]", ...), CHR_ENOMEM;
 * on failure *out holds nothing. */
enum chr_err chr_local_container_parse(const char *text, struct chr_local_container *out,
                                       struct chr_error *err);
void chr_local_container_free(struct chr_local_container *c);
/* True for a `docker run` option (without "--") a job may pass. */
bool chr_local_container_param_allowed(const char *key);

/* The container's name: "chronos-" + the run id with every character a
 * runtime refuses made '_', cut to fit, + "-" + 8 hex digits of a hash of
 * the whole id (two ids alike once sanitized stay apart).  Deterministic:
 * the supervisor and whoever cleans up after it find the same name. */
void chr_local_container_name(const char *run_id, char out[CHR_LOCAL_CTR_NAME_MAX + 1]);

/* What `<runtime> run` is built from (local.h, "Containers"). */
struct chr_local_ctr_run {
    enum chr_local_runtime runtime;
    const struct chr_local_container *c;
    const char *run_id;
    unsigned long uid, gid;        /* --user */
    struct chr_local_resources res;/* --cpus, --memory (0: left out) */
    char *const *task_env;         /* "NAME=value": the job's variables and built-ins */
    char *const *runtime_env;      /* the runtime's own environment (the server's) */
    const char *entrypoint;        /* NULL: the image's */
    char *const *args;             /* after the image; NULL-terminated, may be empty */
};

/* The runtime's argv and envp (NULL-terminated, chr_malloc'd: free each with
 * chr_local_strv_free).  CHR_ENOMEM leaves both NULL. */
enum chr_err chr_local_container_run_argv(const struct chr_local_ctr_run *r, char ***argv,
                                          char ***envp);

enum chr_local_ctr_ctl {
    CHR_LOCAL_CTR_TERM = 1, /* `kill --signal TERM <name>` */
    CHR_LOCAL_CTR_KILL,     /* `kill --signal KILL <name>` */
    CHR_LOCAL_CTR_RM,       /* `rm -f [-t 0] <name>`: stopped at once and removed */
};
/* The argv of a control command on the run's container; NULL when out of memory. */
char **chr_local_container_ctl_argv(enum chr_local_runtime rt, enum chr_local_ctr_ctl what,
                                    const char *run_id);
void chr_local_strv_free(char **v);

/* ---- The spec ---------------------------------------------------------------- */

/* A run as its supervisor needs it; everything chr_malloc'd. */
/* Groups an ident carries at most; a user in more is resolved by the
 * supervisor itself.  Its texts (name, home, shell) are shorter than
 * CHR_LOCAL_IDENT_TEXT_MAX. */
#define CHR_LOCAL_IDENT_GROUPS_MAX 256
#define CHR_LOCAL_IDENT_TEXT_MAX 1024

/* Who a task runs as, as the server's user database said when it made the
 * spec (getpwnam/getpwuid and getgrouplist, in the server, where the NSS
 * modules are loaded once): the supervisor uses it instead of loading them
 * for every run (dlopen of libnss_* and what they link, ~1.3 ms of CPU a
 * run here).  set false: the supervisor resolves the user itself. */
struct chr_local_ident {
    bool set;
    uint32_t uid, gid;
    char *name, *home, *shell;
    uint32_t groups[CHR_LOCAL_IDENT_GROUPS_MAX];
    uint32_t n_groups;
};

struct chr_local_spec {
    char *run_id, *job;
    char *user;           /* NULL: the supervisor's own user */
    struct chr_local_ident ident; /* `user` (or ours) resolved by the server */
    char **argv;          /* NULL-terminated: what to exec ({sh, -c, cmd} for a shell) */
    char **env;           /* NULL-terminated "NAME=value": job env + built-ins */
    struct chr_local_resources res;
    int64_t not_before_ms; /* 0: none (a spec from before it existed) */
    int64_t max_completion_ms, kill_grace_ms;
    int64_t stdout_max, stderr_max;
    bool cgroup;           /* a cgroup of its own where one can be made */
    /* A container task (has_ctr): argv is what follows the image (may be
     * empty: the image's default), run by `runtime`. */
    bool has_ctr;
    struct chr_local_container ctr;
    enum chr_local_runtime runtime;
    char *entrypoint;      /* NULL: the image's */
};

void chr_local_spec_free(struct chr_local_spec *s);

/* A job name that can name a directory (Chronos's [A-Za-z0-9_.-], not "."
 * or ".."). */
bool chr_local_job_name_ok(const char *name);

/* Checks a task; fills err naming the field.  CHR_EINVAL or CHR_OK. */
enum chr_err chr_local_task_check(const struct chr_local_task *t, struct chr_error *err);

/* The JSON text of the spec of a (checked) task launched on `host`,
 * chr_malloc'd; CHR_EINVAL when a string is not UTF-8 or the whole is over
 * CHR_LOCAL_SPEC_MAX. */
enum chr_err chr_local_spec_encode(const struct chr_local_task *t, const char *host,
                                   int64_t kill_grace_ms, char **out, size_t *len,
                                   struct chr_error *err);

/* The same for a run of the manager whose container runtime is `rt`
 * (NONE: a task with a container is CHR_EUNAVAIL). */
enum chr_err chr_local_spec_encode_rt(const struct chr_local_task *t, const char *host,
                                      int64_t kill_grace_ms, enum chr_local_runtime rt,
                                      char **out, size_t *len, struct chr_error *err);

/* Parses spec text.  CHR_EINVAL when malformed. */
enum chr_err chr_local_spec_decode(const char *text, size_t len, struct chr_local_spec *out);

/* Reads the spec of the run directory dirfd. */
enum chr_err chr_local_spec_read(int dirfd, struct chr_local_spec *out);

/*
 * The task's environment: `base` ("NAME=value" strings for names nobody else
 * set: PATH, HOME...) under the spec's env.  A NULL-terminated array of
 * pointers into spec->env and base (nothing copied), chr_malloc'd.
 */
char **chr_local_env_merge(char *const *spec_env, char *const *base);

/* ---- Containment (local_cgroup.c, local_sweep.c) ---------------------------- */

/* The hierarchies a run's cgroup may have a directory in: the unified (v2)
 * one, and the v1 controllers a hybrid host mounts separately. */
enum chr_local_cg_kind {
    CHR_LOCAL_CG_V2 = 0,
    CHR_LOCAL_CG_MEMORY,
    CHR_LOCAL_CG_CPU,
    CHR_LOCAL_CG_PIDS,
    CHR_LOCAL_CG_FREEZER,
    CHR_LOCAL_CG_N
};

/* What a run's cgroup enforces. */
#define CHR_LOCAL_CG_MEM 1u   /* mem: a memory limit, swap included */
#define CHR_LOCAL_CG_CPUS 2u  /* cpus: a CPU quota per 100 ms */
#define CHR_LOCAL_CG_PIDS_MAX 4u  /* CHR_LOCAL_TASK_PIDS_MAX */
#define CHR_LOCAL_CG_KILL 8u  /* a kill of every member at once (cgroup.kill, a freezer) */

/* A run's cgroup: a directory in each hierarchy it got one in. */
struct chr_local_cgroup {
    char dir[CHR_LOCAL_CG_N][CHR_LOCAL_CG_PATH_MAX]; /* "" where none */
    unsigned enforced, of[CHR_LOCAL_CG_N];            /* what each directory enforces */
};

/* Where this host mounts cgroups, and where this process sits in each. */
struct chr_local_cg_host {
    char point[CHR_LOCAL_CG_N][CHR_LOCAL_CG_PATH_MAX]; /* "": not mounted */
    char root[CHR_LOCAL_CG_N][CHR_LOCAL_CG_PATH_MAX];  /* the mount's root in its tree */
    char self[CHR_LOCAL_CG_N][CHR_LOCAL_CG_PATH_MAX];  /* "": not in it */
};

/* Pure parsers of /proc/self/mountinfo and /proc/self/cgroup text into h
 * (zero it first); unknown lines are skipped. */
void chr_local_cg_parse_mounts(const char *mountinfo, struct chr_local_cg_host *h);
void chr_local_cg_parse_self(const char *proc_cgroup, struct chr_local_cg_host *h);
/* The directory of this process in hierarchy k: false when unknown. */
bool chr_local_cg_home(const struct chr_local_cg_host *h, int k, char *out, size_t cap);
/* The values written: a memory limit in bytes, and a CPU quota per period
 * (at least 1 ms per 100 ms); the name of a kind ("memory", ...). */
long long chr_local_cg_mem_bytes(double mem_mb);
long chr_local_cg_cpu_quota_us(double cpus);
#define CHR_LOCAL_CG_CPU_PERIOD_US 100000L
const char *chr_local_cg_kind_name(int k);

/*
 * Makes the run's cgroup `name` (under this process's own cgroup in each
 * hierarchy; on v2, under <mount>/chronos-runs when the controllers cannot
 * be enabled there) and sets its limits from `res`.  Best effort: what
 * cannot be made is left out (cg->enforced says what is); never fails.
 */
void chr_local_cg_create(const char *name, const struct chr_local_resources *res,
                         struct chr_local_cgroup *cg);
/* This process's cgroup mounts and places, read once (chr_malloc'd; NULL
 * when /proc cannot be read), and chr_local_cg_create with them: a group
 * supervisor makes many runs' cgroups from one reading. */
struct chr_local_cg_host *chr_local_cg_host_load(void);
void chr_local_cg_create_on(const struct chr_local_cg_host *h, const char *name,
                            const struct chr_local_resources *res, struct chr_local_cgroup *cg);
/* Moves process pid into every directory of cg (one that refuses it is
 * removed); false when it is in none. */
bool chr_local_cg_enter(struct chr_local_cgroup *cg, pid_t pid);
/* Sends sig to every member; the number of members found. */
size_t chr_local_cg_signal(const struct chr_local_cgroup *cg, int sig);
/* SIGKILLs every member, at once where the host can (cgroup.kill, or
 * freeze, kill, thaw), else one by one. */
void chr_local_cg_kill(const struct chr_local_cgroup *cg);
/* True when no process is left in any directory of cg. */
bool chr_local_cg_empty(const struct chr_local_cgroup *cg);
/* True when the kernel killed a member for passing the memory limit. */
bool chr_local_cg_oom(const struct chr_local_cgroup *cg);
/* Removes every directory (they must be empty) and forgets them. */
void chr_local_cg_remove(struct chr_local_cgroup *cg);
/* The record of cg in a run directory ("cgroup": one "<kind> <dir>" line
 * each), and back; parse keeps only absolute paths under /sys/fs/cgroup. */
size_t chr_local_cg_format(const struct chr_local_cgroup *cg, char *buf, size_t cap);
void chr_local_cg_parse(const char *text, struct chr_local_cgroup *cg);
#define CHR_LOCAL_CGROUP_FILE "cgroup"
/* After a supervisor died: kills what its record names, waits a little for
 * the members to go, and removes the directories. */
void chr_local_cg_cleanup(int rundirfd);

/*
 * Every descendant of `root` (this process: the supervisor, a subreaper,
 * so orphans of the task stay its descendants), found through /proc: sends
 * sig to each (0: none; checked against pid reuse) and returns how many
 * live ones there were (zombies are not counted).
 */
size_t chr_local_sweep(pid_t root, int sig);

/*
 * The sweep of a group supervisor (root), whose children are several runs'
 * tasks and their orphans: one walk of /proc, each child of root given to a
 * run by owner (an index < n_owners, or -1: left alone), and every live
 * process under a child given to run k counted in live[k] and sent sig[k]
 * (0: none).  Out of memory: every live[k] is 1 (never "none left").
 */
void chr_local_sweep_owned(pid_t root, int (*owner)(pid_t pid, void *ctx), void *ctx,
                           const int *sig, size_t *live, size_t n_owners);

/* ---- The server side (local.c, local_watch.c, local_collect.c) ------------- */

enum chr_local_watch_kind { CHR_LOCAL_W_WAKE = 1, CHR_LOCAL_W_SUP, CHR_LOCAL_W_NOTIFY };

struct chr_local_group;

/* What epoll's data points at. */
struct chr_local_watch {
    enum chr_local_watch_kind kind;
    struct chr_local_run *run; /* NULL for the wake-up eventfd and a group */
    struct chr_local_group *group; /* a group supervisor's notify pipe */
};

/* The notify pipe of one supervisor (of a group of runs): "R <pid>
 * <start_ms> <id>" and "E <id>" lines.  Owned by the monitor thread from
 * when it takes it off `new_groups`; freed at the pipe's end. */
struct chr_local_group {
    int fd;     /* the pipe; -1 once it ended */
    int pidfd;  /* the supervisor, watched from the pipe's end until it is reaped */
    bool reaping; /* the pidfd is in epoll */
    bool fresh;   /* ... since this epoll batch */
    struct chr_local_watch w;
    char buf[CHR_LOCAL_RUN_ID_MAX + 64]; /* a line cut by a read */
    size_t len;
    struct chr_local_group *next;
};

/* A run this instance supervises (from launch or re-attach to its end). */
struct chr_local_run {
    char id[CHR_LOCAL_RUN_ID_MAX + 1];
    struct chr_local_resources res;
    enum chr_local_state state;  /* STARTING or RUNNING */
    int sup_fd;                  /* pidfd of the supervisor; -1 while spawning */
    pid_t task_pid;
    int64_t start_ms;
    bool in_epoll;               /* sup_fd is registered */
    bool pending;                /* on the monitor's list of runs to look at */
    bool announce;               /* report the current state (reconcile) */
    bool announce_reattached;
    bool poll_pid;               /* claimed, no pid record yet: look again */
    bool poll_exit;              /* no notify pipe (re-attached): look for the
                                  * exit record now and then */
    bool kill_requested, kill_sent;
    bool dead;                   /* reported terminal; freed after the batch */
    struct chr_local_watch w_sup;
    struct chr_local_run *pending_next, *dead_next;
};

/* An event made outside the monitor thread, waiting to be reported. */
struct chr_local_qev {
    struct chr_local_qev *next;
    struct chr_local_event ev;
    char id[CHR_LOCAL_RUN_ID_MAX + 1];
    char reason[256];
};

struct chr_local {
    char *runs_dir, *bin, *host;
    int runs_fd;
    struct chr_local_resources total, used;
    enum chr_local_runtime runtime; /* NONE: container tasks are refused */
    int64_t kill_grace_ms;
    int32_t keep_done;
    unsigned long tmp_seq; /* names temp dirs; atomic */
    bool group_launches;
    /* Launches held for the next supervisor (scheduler thread only). */
    struct chr_local_run *batch[CHR_LOCAL_GROUP_MAX];
    size_t n_batch, batch_cap; /* batch_cap: this group's size, doubling in a step */
    bool (*may_start)(void *ctx);
    void *may_start_ctx;
    chr_local_event_fn on_event;
    void *ctx;

    pthread_t thread;
    bool thread_started;
    int epfd, wake_fd;
    struct chr_local_watch w_wake;

    pthread_mutex_t mu; /* guards everything below, and runs' fields */
    struct chr_strmap runs; /* run id -> struct chr_local_run *: the run table */
    struct chr_local_run *pending;       /* runs the monitor must look at */
    struct chr_local_qev *queue, **queue_tail;
    struct chr_local_group *new_groups; /* to watch; then the monitor's */
    struct chr_local_group *groups;     /* watched (monitor thread only) */
    size_t n_polling;
    int64_t exit_poll_mono;             /* the last look for exit records */
    size_t exit_poll_pos;
    bool stop;
};

/* What a run directory says about its run. */
enum chr_local_disk {
    CHR_LOCAL_D_NONE = 1, /* no directory */
    CHR_LOCAL_D_UNCLAIMED,/* a spec, no claim: never started */
    CHR_LOCAL_D_ABANDONED,/* the server gave it up before it started */
    CHR_LOCAL_D_ALIVE,    /* its supervisor runs (pidfd in sup_fd) */
    CHR_LOCAL_D_DEAD,     /* claimed, no outcome, supervisor gone */
    CHR_LOCAL_D_DONE,     /* outcome recorded */
};

struct chr_local_assess {
    enum chr_local_disk kind;
    int sup_fd;                       /* ALIVE: a pidfd, the caller's */
    struct chr_local_claim claim;     /* ALIVE, DEAD */
    bool has_pid;
    struct chr_local_pidrec pid;
    struct chr_local_exitrec exit;    /* DONE */
    struct chr_local_resources res;   /* from the spec; 0 when unreadable */
};

/* local_watch.c */
void *chr_local_monitor_main(void *arg);
/* Reads what run `id`'s directory says; with_res also reads the spec for
 * the resources (a JSON parse: only for runs about to be tracked). */
void chr_local_assess(struct chr_local *l, const char *id, bool with_res,
                      struct chr_local_assess *out);
/* chr_local_assess, and a run found unclaimed is abandoned so that it never
 * starts (its kind stays UNCLAIMED); if a supervisor claims it first, the
 * run is assessed again. */
void chr_local_settle(struct chr_local *l, const char *id, bool with_res,
                      struct chr_local_assess *out);
/* Marks a run that never started as abandoned; CHR_ECONFLICT when it was
 * claimed meanwhile. */
enum chr_err chr_local_abandon(struct chr_local *l, const char *id);
/* Queues the event that an untracked run's directory calls for (terminal,
 * LOST, DROPPED), killing orphans of a dead one.  Call without the lock. */
void chr_local_report_disk(struct chr_local *l, const char *id, struct chr_local_assess *a,
                           bool reattached);
void chr_local_wake(struct chr_local *l);

/* local.c, with l->mu held */
struct chr_local_run *chr_local_find(struct chr_local *l, const char *id);
void chr_local_unlink_run(struct chr_local *l, struct chr_local_run *r);
void chr_local_push_pending(struct chr_local *l, struct chr_local_run *r);
void chr_local_send_kill(struct chr_local *l, struct chr_local_run *r);
/* local_watch.c: queues the event of a run that never started (DROPPED, or
 * KILLED when kill_requested), with reason. */
void chr_local_report_unstarted(struct chr_local *l, const char *id, bool killed,
                                const char *reason);

#endif
