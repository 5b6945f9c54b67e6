/*
 * local_supervise.c - the supervisor of a group of local runs (`chronos
 * run-task`): the local twin of a Mesos executor with checkpointing.
 *
 * The server starts one supervisor for the runs it launches in one step (at
 * most CHR_LOCAL_GROUP_MAX; one run is a group of one), so that a run costs
 * a fork of the task and a few file writes, not a process of its own that
 * execs and loads its libraries.  For each run it claims the run
 * (exclusively: a run claimed by another supervisor is left to it), makes
 * the run's cgroup where the host allows (local_cgroup.c: mem, cpus, a pids
 * limit), forks the task into its own process group and that cgroup, and
 * writes the task's pid record while the child waits on a pipe.  The pid
 * records of the whole group are made durable together (one syncfs), then
 * each task is held until its run's not_before_ms (so all of this is done by
 * the due instant when the server launched the runs ahead of it) and let
 * exec.  It reports exec failures distinctly, copies stdout and stderr into
 * bounded files, kills a run on request (its "kill" file and SIGUSR1; SIGTERM
 * kills every run of the group) or past maxCompletionTime (SIGTERM, then
 * SIGKILL after the grace period), kills what is left of a run when its task
 * ends, and records each outcome once every process of the run is gone; the
 * outcomes of runs that end together are made durable together too.  The
 * server hears "R <pid> <start_ms> <run-id>" when a task exec'd and
 * "E <run-id>" when a run's outcome is durable (or the run is not ours).  It
 * never depends on the server: it was started detached and keeps going if
 * the server dies.  A supervisor killed with kill -9 leaves each of its runs
 * as a killed supervisor of one run did: claimed with no pid record (never
 * started: dropped), or with one and no outcome (lost; its tasks die with it,
 * PR_SET_PDEATHSIG).
 *
 * A kill reaches every process of the run, wherever it went: the task's
 * process group, every member of the run's cgroup, and every descendant of
 * the supervisor that is the run's (the supervisor is the child subreaper,
 * so that a process that leaves the task's group or session comes back to it
 * as an orphan rather than to PID 1; local_sweep.c).  An orphan is the run's
 * whose process group or cgroup it is in; one that left both (only where no
 * cgroup could be made) is killed with the next run of the group that ends.
 * Single-threaded; after fork the child only makes system calls.  Signals
 * arrive through a signalfd, never a handler.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sched.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/timerfd.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "common/alloc.h"
#include "common/clock.h"
#include "common/limits.h"
#include "offers/local_int.h"

#define DEFAULT_PATH "/usr/local/bin:/usr/bin:/bin"

extern char **environ;

/* One captured stream: the first `cap` bytes go to the file, the last
 * CHR_LOCAL_OUTPUT_TAIL bytes past the cap are kept for the end. */
struct stream {
    int pipe_fd;  /* our read end; -1 at EOF */
    int file_fd;
    int64_t cap, written, total;
    char tail[CHR_LOCAL_OUTPUT_TAIL];
    size_t tail_len, tail_pos;
    bool truncated;
};

/* What the child reports through its error pipe before it dies. */
struct child_error {
    int stage; /* STAGE_* */
    int err;   /* errno */
};
enum { STAGE_USER = 1, STAGE_EXEC = 2 };

/* Where a run of the group is. */
enum phase {
    P_NEW = 0, /* claimed, being set up */
    P_HELD,    /* forked, pid recorded: waits to be let exec */
    P_LIVE,    /* let exec (or failed to): supervised to its end */
    P_DONE,    /* outcome written, not yet durable and told */
    P_GONE,    /* told (or never ours): nothing more to do */
};

struct grp;

struct sup {
    struct grp *g;
    enum phase phase;
    int status;        /* what a supervisor of this run alone would exit with */
    const char *dir;   /* the run's directory, as given */
    const char *id;    /* its last component: the run id the server knows */
    int dirfd;
    int go_fd, errp_fd; /* a held task's go pipe and exec-error pipe */
    char cg_leaf[256];  /* the cgroup's name: "chronos-<our pid>-<run id>" */
    size_t left;        /* processes of the run the last sweep found */
    /* The task's process shares our memory until its exec (CLONE_VM, as
     * posix_spawn: no page tables copied and torn down per run): its stack,
     * what it is given, and the argv of `sh` for a script without "#!". */
    void *stack;
    int cfd[9];
    pid_t parent;
    char **sh_argv;
    struct chr_local_spec spec;
    /* The user to run as. */
    bool switch_user;
    uid_t uid;
    gid_t gid;
    gid_t *groups;
    int n_groups;
    char *home;
    char *base_env[6]; /* PATH, HOME, USER, LOGNAME, SHELL, NULL */
    char **envp;       /* pointers into spec.env and base_env; a container run's
                        * own strings (the runtime's environment) */
    char **ctr_argv;   /* a container run: `<runtime> run ...` (the task) */
    /* The task. */
    pid_t pid;
    bool released;     /* let exec: from here a kill goes to its group */
    int64_t start_ms, start_mono, end_mono;
    struct child_error child_err;
    bool leader_exited;
    siginfo_t leader;
    bool kill_requested, timed_out, hard_killed;
    int64_t term_mono; /* when SIGTERM went to the group; 0: not yet */
    struct stream out, err;
    struct chr_local_cgroup cg; /* the run's own, where one could be made */
    bool oom;                   /* the kernel killed a member past `mem` */
};

/* The group: what its runs share. */
struct grp {
    int sigfd, notify_fd, tfd; /* tfd: the wall-clock timer of the next release */
    char boot_id[CHR_LOCAL_BOOT_ID_LEN + 1];
    struct chr_local_cg_host *cg_host; /* read once for every run's cgroup */
    struct sup *runs;
    size_t n;
    bool unsynced; /* records written since the last syncfs */
    int sync_fd;   /* a directory of the file system to sync */
    int devnull;   /* every task's stdin */
};

/* ---- Recording the outcome ------------------------------------------------ */

static int record(struct sup *s, enum chr_local_state state, int32_t code, int32_t sig,
                  const char *reason)
{
    struct chr_local_exitrec e = {
        .state = state, .pid = s->pid, .exit_code = code, .signal = sig,
        .start_ms = s->start_ms, .end_ms = chr_clock_wall_ms(),
        .stdout_bytes = s->out.total, .stderr_bytes = s->err.total,
        .stdout_truncated = s->out.truncated, .stderr_truncated = s->err.truncated,
    };
    snprintf(e.reason, sizeof e.reason, "%s", reason);
    size_t len = 0;
    char *text = chr_local_exitrec_format(&e, &len);
    /* Durable with the group's next syncfs, before the server is told. */
    enum chr_err r = text ? chr_local_file_put(s->dirfd, CHR_LOCAL_EXIT_FILE, text, len)
                          : CHR_ENOMEM;
    chr_free(text);
    s->phase = P_DONE;
    s->g->unsynced = true;
    s->status = r == CHR_OK ? 0 : 1;
    return s->status;
}

static const char *exit_meaning(const struct sup *s, int code)
{
    if (s->ctr_argv && code == 125)
        return " (the container runtime failed: see stderr)";
    return code == 127 ? " (command not found)" : code == 126 ? " (command not executable)" : "";
}

static int record_outcome(struct sup *s)
{
    char reason[256];
    const char *cmd = s->ctr_argv ? s->ctr_argv[0] : s->spec.argv[0];
    if (s->child_err.stage == STAGE_USER) {
        snprintf(reason, sizeof reason, "runAsUser '%s': %s", s->spec.user ? s->spec.user : "",
                 strerror(s->child_err.err));
        return record(s, CHR_LOCAL_FAILED, -1, 0, reason);
    }
    if (s->child_err.stage == STAGE_EXEC) {
        int code = s->child_err.err == ENOENT ? 127 : 126;
        snprintf(reason, sizeof reason, "exec failed: %s: %s: exit %d%s", cmd,
                 strerror(s->child_err.err), code, exit_meaning(s, code));
        return record(s, CHR_LOCAL_FAILED, code, 0, reason);
    }
    int code = s->leader.si_code == CLD_EXITED ? s->leader.si_status : -1;
    int sig = s->leader.si_code == CLD_EXITED ? 0 : s->leader.si_status;
    if (s->kill_requested)
        return record(s, CHR_LOCAL_KILLED, code, sig, "killed");
    if (s->timed_out) {
        snprintf(reason, sizeof reason, "exceeded maxCompletionTime (%lld ms)",
                 (long long)s->spec.max_completion_ms);
        return record(s, CHR_LOCAL_FAILED, code, sig, reason);
    }
    if (s->oom && code != 0) {
        snprintf(reason, sizeof reason, "exceeded mem (%g MB): killed by the kernel's "
                 "out-of-memory killer", s->spec.res.mem_mb);
        return record(s, CHR_LOCAL_FAILED, code, sig, reason);
    }
    if (code == 0)
        return record(s, CHR_LOCAL_FINISHED, 0, 0, "");
    if (code > 0)
        snprintf(reason, sizeof reason, "exit %d%s", code, exit_meaning(s, code));
    else {
        const char *abbrev = sigabbrev_np(sig);
        snprintf(reason, sizeof reason, "killed by signal %d (SIG%s)", sig,
                 abbrev ? abbrev : "?");
    }
    return record(s, CHR_LOCAL_FAILED, code, sig, reason);
}

/* ---- The user and the environment ---------------------------------------- */

static char *kv(const char *name, const char *value)
{
    size_t ln = strlen(name), lv = strlen(value);
    char *p = chr_malloc(ln + lv + 2);
    if (p) {
        memcpy(p, name, ln);
        p[ln] = '=';
        memcpy(p + ln + 1, value, lv + 1);
    }
    return p;
}

/* getpwnam_r / getpwuid_r with a buffer that grows; *buf is chr_malloc'd. */
static bool lookup_user(const char *name, uid_t uid, struct passwd *pw, char **buf)
{
    struct passwd *res = NULL;
    for (size_t cap = 4096; cap <= 1024 * 1024; cap *= 4) {
        chr_free(*buf);
        if (!(*buf = chr_malloc(cap)))
            return false;
        int r = name ? getpwnam_r(name, pw, *buf, cap, &res) : getpwuid_r(uid, pw, *buf, cap, &res);
        if (r != ERANGE)
            return r == 0 && res != NULL;
    }
    return false;
}

static bool load_groups(struct sup *s, const char *name)
{
    int n = 64;
    for (int tries = 0; tries < 4; tries++) {
        chr_free(s->groups);
        if (!(s->groups = chr_calloc((size_t)n, sizeof *s->groups)))
            return false;
        int want = n;
        if (getgrouplist(name, s->gid, s->groups, &want) >= 0) {
            s->n_groups = want;
            return true;
        }
        n = want > n ? want : n * 2;
    }
    return false;
}

/* Chooses the user; fills reason (and returns false) when the run cannot
 * run as the user it asks for. */
/* Who the task runs as: from the server's ident when it made one for this
 * user (local_int.h: no user database loaded here), else looked up. */
struct who {
    bool found;
    uid_t uid;
    gid_t gid;
    const char *name, *home, *shell;
};

/* The spec's ident, if it is of the user asked for. */
static bool who_from_ident(const struct sup *s, struct who *w)
{
    const struct chr_local_ident *id = &s->spec.ident;
    if (!id->set || (s->spec.user != NULL && strcmp(s->spec.user, id->name) != 0))
        return false;
    *w = (struct who){true, (uid_t)id->uid, (gid_t)id->gid, id->name, id->home, id->shell};
    return true;
}

static bool groups_from_ident(struct sup *s)
{
    const struct chr_local_ident *id = &s->spec.ident;
    chr_free(s->groups);
    if (!(s->groups = chr_calloc((size_t)id->n_groups + 1, sizeof *s->groups)))
        return false;
    for (uint32_t i = 0; i < id->n_groups; i++)
        s->groups[i] = (gid_t)id->groups[i];
    s->n_groups = (int)id->n_groups;
    return true;
}

static bool resolve_user(struct sup *s, char *reason, size_t cap)
{
    struct passwd pw;
    struct who w = {false, 0, 0, NULL, NULL, NULL};
    char *buf = NULL;
    uid_t euid = geteuid();
    const char *want = s->spec.user;
    bool ident = who_from_ident(s, &w);
    if (!ident && lookup_user(want, euid, &pw, &buf))
        w = (struct who){true, pw.pw_uid, pw.pw_gid, pw.pw_name, pw.pw_dir, pw.pw_shell};
    bool ok = true;
    if (want && !w.found) {
        snprintf(reason, cap, "runAsUser '%s': no such user", want);
        ok = false;
    } else if (want && w.uid != euid && euid != 0) {
        snprintf(reason, cap,
                 "runAsUser '%s': chronos runs as uid %ld, not root: it cannot switch user", want,
                 (long)euid);
        ok = false;
    } else if (want && w.uid != euid) {
        s->switch_user = true;
        s->uid = w.uid;
        s->gid = w.gid;
        ok = ident ? groups_from_ident(s) : load_groups(s, want);
        if (!ok)
            snprintf(reason, cap, "runAsUser '%s': cannot read its groups", want);
    }
    char uid_txt[24];
    snprintf(uid_txt, sizeof uid_txt, "%ld", (long)euid);
    const char *home = w.found && w.home[0] ? w.home : "/";
    const char *name = w.found ? w.name : uid_txt;
    const char *shell = w.found && w.shell[0] ? w.shell : "/bin/sh";
    s->home = chr_strndup(home, strlen(home));
    s->base_env[0] = kv("PATH", DEFAULT_PATH);
    s->base_env[1] = kv("HOME", home);
    s->base_env[2] = kv("USER", name);
    s->base_env[3] = kv("LOGNAME", name);
    s->base_env[4] = kv("SHELL", shell);
    chr_free(buf);
    return ok;
}

static bool build_env(struct sup *s)
{
    for (int i = 0; i < 5; i++)
        if (!s->base_env[i])
            return false;
    return s->home && (s->envp = chr_local_env_merge(s->spec.env, s->base_env)) != NULL;
}

/* A container run: the runtime runs as we do (it switches no user: the
 * container gets runAsUser's uid and gid as --user), with our environment
 * (the server's) and the task's variables passed on (local.h,
 * "Containers").  False with reason filled when the run cannot start. */
static bool prepare_container(struct sup *s, char *reason, size_t cap)
{
    struct passwd pw;
    char *buf = NULL;
    unsigned long uid = (unsigned long)geteuid(), gid = (unsigned long)getegid();
    if (s->spec.user && !lookup_user(s->spec.user, 0, &pw, &buf)) {
        snprintf(reason, cap, "runAsUser '%s': no such user", s->spec.user);
        chr_free(buf);
        return false;
    }
    if (s->spec.user) {
        uid = (unsigned long)pw.pw_uid;
        gid = (unsigned long)pw.pw_gid;
    }
    chr_free(buf);
    const char *entry = s->spec.entrypoint;
    struct chr_local_ctr_run r = {
        .runtime = s->spec.runtime, .c = &s->spec.ctr, .run_id = s->spec.run_id,
        .uid = uid, .gid = gid, .res = s->spec.res, .task_env = s->spec.env,
        .runtime_env = environ, .entrypoint = entry, .args = s->spec.argv,
    };
    s->home = chr_strndup("/", 1);
    if (!s->home || chr_local_container_run_argv(&r, &s->ctr_argv, &s->envp) != CHR_OK) {
        snprintf(reason, cap, "supervisor: out of memory");
        return false;
    }
    return true;
}

/* ---- The child ------------------------------------------------------------ */

/*
 * The task's process shares the supervisor's memory until its exec (clone
 * with CLONE_VM), errno included: glibc's errno lives in the thread's
 * storage, which the child reaches through the same thread pointer.  A
 * failed call of the child (each miss of exec's PATH search, a chdir to a
 * home that does not exist) would write the supervisor's errno while the
 * supervisor runs, between one of its own failed calls and its reading of
 * errno (an EAGAIN read as ENOENT: a pipe taken for broken).  So the child
 * makes its system calls raw: they return -errno and write no memory.
 * Where this file has no raw calls for the machine, the child is a copy
 * (fork's memory, not shared) and the libc calls are safe.
 */
#if defined(__x86_64__)
#define CHILD_CLONE (CLONE_VM | SIGCHLD)
static long raw(long n, long a, long b, long c, long d)
{
    long ret;
    register long r10 __asm__("r10") = d;
    __asm__ volatile("syscall"
                     : "=a"(ret)
                     : "a"(n), "D"(a), "S"(b), "d"(c), "r"(r10)
                     : "rcx", "r11", "memory");
    return ret;
}
#elif defined(__aarch64__)
#define CHILD_CLONE (CLONE_VM | SIGCHLD)
static long raw(long n, long a, long b, long c, long d)
{
    register long x8 __asm__("x8") = n;
    register long x0 __asm__("x0") = a;
    register long x1 __asm__("x1") = b;
    register long x2 __asm__("x2") = c;
    register long x3 __asm__("x3") = d;
    __asm__ volatile("svc 0" : "+r"(x0) : "r"(x8), "r"(x1), "r"(x2), "r"(x3) : "memory");
    return x0;
}
#else
#define CHILD_CLONE SIGCHLD
static long raw(long n, long a, long b, long c, long d)
{
    long r = syscall(n, a, b, c, d);
    return r < 0 ? -errno : r;
}
#endif
#define RAW1(n, a) raw((n), (long)(a), 0, 0, 0)
#define RAW2(n, a, b) raw((n), (long)(a), (long)(b), 0, 0)
#define RAW3(n, a, b, c) raw((n), (long)(a), (long)(b), (long)(c), 0)
#define RAW4(n, a, b, c, d) raw((n), (long)(a), (long)(b), (long)(c), (long)(d))

/* dup2 in the child (dup3 refuses equal descriptors; dup2 leaves them). */
static long child_dup2(int from, int to)
{
    return from == to ? to : RAW3(SYS_dup3, from, to, 0);
}

static const char *env_path(char *const *envp)
{
    for (size_t i = 0; envp[i]; i++)
        if (strncmp(envp[i], "PATH=", 5) == 0)
            return envp[i] + 5;
    return DEFAULT_PATH;
}

/* execve, and for a file that is no binary and has no "#!" line, what
 * execvp does: run it with /bin/sh.  Returns errno. */
static int exec_file(const char *path, char *const *argv, char *const *envp, char **sh)
{
    long e = -RAW3(SYS_execve, path, argv, envp);
    if (e != ENOEXEC)
        return (int)e;
    size_t n = 0;
    while (argv[n])
        n++;
    /* sh: room for n + 2 pointers, made before the task's process was (it
     * shares our memory until its exec: it allocates nothing). */
    if (!sh)
        return ENOEXEC;
    sh[0] = "/bin/sh";
    sh[1] = (char *)path;
    for (size_t i = 1; i < n; i++)
        sh[i + 1] = argv[i];
    RAW3(SYS_execve, "/bin/sh", sh, envp);
    return ENOEXEC;
}

/* execvp's search, in the task's PATH rather than ours; returns errno. */
static int exec_search(char *const *argv, char *const *envp, char **sh)
{
    const char *file = argv[0];
    if (strchr(file, '/'))
        return exec_file(file, argv, envp, sh);
    size_t lf = strlen(file);
    int result = ENOENT;
    bool denied = false;
    for (const char *p = env_path(envp);; p++) {
        const char *end = strchrnul(p, ':');
        size_t ld = (size_t)(end - p);
        char path[PATH_MAX];
        if (ld + lf + 2 <= sizeof path) {
            memcpy(path, ld ? p : ".", ld ? ld : 1);
            size_t at = ld ? ld : 1;
            path[at] = '/';
            memcpy(path + at + 1, file, lf + 1);
            result = exec_file(path, argv, envp, sh);
            denied |= result == EACCES;
            if (result != ENOENT && result != ENOTDIR && result != EACCES && result != ESTALE)
                return result;
        }
        if (*end == '\0')
            break;
        p = end;
    }
    return denied ? EACCES : result;
}

static void child_fail(int fd, int stage, int err)
{
    struct child_error ce = {stage, err};
    RAW3(SYS_write, fd, &ce, sizeof ce);
    _exit(stage == STAGE_EXEC && err == ENOENT ? 127 : 126);
}

/* The pipes of start_task: fd[0] go (read), fd[1] go (write), fd[2] exec
 * error (read), fd[3] exec error (write), fd[4..5] stdout, fd[6..7] stderr,
 * fd[8] /dev/null. */
enum { GO_R, GO_W, ERR_R, ERR_W, OUT_R, OUT_W, ERROUT_R, ERROUT_W, DEVNULL, N_FDS };

/* In the child: wait until the pid is recorded, become the task, exec. */
static void child_run(const struct sup *s, pid_t parent, const int *fd)
{
    /* The parent's ends: with our copy of the go pipe's write end open, a
     * parent that gives up would leave us waiting forever. */
    RAW1(SYS_close, fd[GO_W]);
    RAW1(SYS_close, fd[ERR_R]);
    RAW1(SYS_close, fd[OUT_R]);
    RAW1(SYS_close, fd[ERROUT_R]);
    /* We hold copies of the go pipes of tasks forked before us (closed at
     * exec): if the supervisor dies, we die too, not wait on them. */
    RAW2(SYS_prctl, PR_SET_PDEATHSIG, SIGKILL);
    if (RAW1(SYS_getppid, 0) != parent)
        _exit(126);
    RAW2(SYS_setpgid, 0, 0);
    if (child_dup2(fd[DEVNULL], 0) < 0 || child_dup2(fd[OUT_W], 1) < 0 ||
        child_dup2(fd[ERROUT_W], 2) < 0)
        _exit(126);
    int err_fd = fd[ERR_W];
    char c;
    long r;
    do
        r = RAW3(SYS_read, fd[GO_R], &c, 1);
    while (r == -EINTR);
    if (r != 1)
        _exit(126); /* the pid could not be recorded: never exec */
    if (s->switch_user) {
        long e = RAW2(SYS_setgroups, s->n_groups, s->groups);
        if (e == 0)
            e = RAW1(SYS_setgid, s->gid);
        if (e == 0)
            e = RAW1(SYS_setuid, s->uid);
        if (e != 0)
            child_fail(err_fd, STAGE_USER, (int)-e);
    }
    /* After the credentials change, which clears it. */
    RAW2(SYS_prctl, PR_SET_PDEATHSIG, SIGKILL);
    if (RAW1(SYS_getppid, 0) != parent)
        _exit(126);
    if (RAW1(SYS_chdir, s->home) != 0 && RAW1(SYS_chdir, "/") != 0)
        _exit(126);
    /* Every signal to its default, none blocked: the kernel's sigaction
     * (handler, flags, restorer, mask) and 8-byte sets. */
    struct {
        void (*handler)(int);
        unsigned long flags;
        void *restorer;
        unsigned long mask;
    } dfl = {SIG_DFL, 0, NULL, 0};
    for (int sig = 1; sig <= 64; sig++)
        if (sig != SIGKILL && sig != SIGSTOP)
            RAW4(SYS_rt_sigaction, sig, &dfl, 0, 8);
    unsigned long none = 0;
    RAW4(SYS_rt_sigprocmask, SIG_SETMASK, &none, 0, 8);
    child_fail(err_fd, STAGE_EXEC,
               exec_search(s->ctr_argv ? s->ctr_argv : s->spec.argv, s->envp, s->sh_argv));
}

/* ---- Starting the task ------------------------------------------------------ */

static void close_fds(int *fds, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (fds[i] >= 0) {
            close(fds[i]);
            fds[i] = -1;
        }
}

/* Makes the task's pipes and forks it; the child waits on the go pipe
 * (fd[GO_R]).  Leaves fd[GO_W] and fd[ERR_R] open for the caller; false when
 * nothing was forked (reason filled, every descriptor closed). */
/* The task's process, from clone: it runs child_run on its own stack. */
static int child_main(void *arg)
{
    const struct sup *s = arg;
    child_run(s, s->parent, s->cfd);
    return 126;
}

/* Frees the stack of a task's process once it no longer runs on it (it
 * exec'd, or it was reaped). */
static void free_stack(struct sup *s)
{
    if (s->stack != NULL)
        munmap(s->stack, CHR_LOCAL_TASK_STACK);
    s->stack = NULL;
}

static bool fork_task(struct sup *s, int *fd, char *reason, size_t cap)
{
    const char *const *argv = (const char *const *)(s->ctr_argv ? s->ctr_argv : s->spec.argv);
    size_t n = 0;
    while (argv[n])
        n++;
    s->sh_argv = chr_calloc(n + 2, sizeof *s->sh_argv);
    s->stack = mmap(NULL, CHR_LOCAL_TASK_STACK, PROT_READ | PROT_WRITE,
                    MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
    if (s->stack == MAP_FAILED)
        s->stack = NULL;
    if (!s->sh_argv || !s->stack || pipe2(fd + GO_R, O_CLOEXEC) || pipe2(fd + ERR_R, O_CLOEXEC) ||
        pipe2(fd + OUT_R, O_CLOEXEC) || pipe2(fd + ERROUT_R, O_CLOEXEC) ||
        (fd[DEVNULL] = dup(s->g->devnull)) < 0) {
        snprintf(reason, cap, "supervisor: pipe: %s", strerror(errno));
        close_fds(fd, N_FDS);
        free_stack(s);
        return false;
    }
    s->parent = getpid();
    memcpy(s->cfd, fd, sizeof s->cfd);
    /* Its own descriptor table (no CLONE_FILES) and signal handlers; our
     * memory until its exec, where it allocates nothing and only makes
     * system calls. */
    s->pid = clone(child_main, (char *)s->stack + CHR_LOCAL_TASK_STACK, CHILD_CLONE, s);
    int child_ends[] = {fd[GO_R], fd[ERR_W], fd[OUT_W], fd[ERROUT_W], fd[DEVNULL]};
    close_fds(child_ends, 5);
    if (s->pid < 0) {
        s->pid = 0;
        snprintf(reason, cap, "supervisor: clone: %s", strerror(errno));
        int rest[] = {fd[GO_W], fd[ERR_R], fd[OUT_R], fd[ERROUT_R]};
        close_fds(rest, 4);
        free_stack(s);
        return false;
    }
    setpgid(s->pid, s->pid);
    /* Into the run's cgroup before it may exec (it waits on the go pipe),
     * so that everything it ever starts is a member. */
    chr_local_cg_enter(&s->cg, s->pid);
    s->out.pipe_fd = fd[OUT_R];
    s->err.pipe_fd = fd[ERROUT_R];
    fcntl(fd[OUT_R], F_SETFL, O_NONBLOCK);
    fcntl(fd[ERROUT_R], F_SETFL, O_NONBLOCK);
    return true;
}


/* One line to the server, whole (shorter than PIPE_BUF: written at once).
 * The server may be gone: it re-attaches from the records. */
static void notify_line(struct grp *g, const char *line, int n)
{
    if (g->notify_fd < 0 || n <= 0)
        return;
    ssize_t w;
    do
        w = write(g->notify_fd, line, (size_t)n);
    while (w < 0 && errno == EINTR);
}

static void notify_running(struct sup *s)
{
    char line[CHR_LOCAL_RUN_ID_MAX + 64];
    int n = snprintf(line, sizeof line, "R %ld %lld %s\n", (long)s->pid, (long long)s->start_ms,
                     s->spec.run_id);
    notify_line(s->g, line, n);
}

/* ---- Output ------------------------------------------------------------- */

static void tail_add(struct stream *st, const char *p, size_t n)
{
    if (n >= sizeof st->tail) {
        memcpy(st->tail, p + n - sizeof st->tail, sizeof st->tail);
        st->tail_len = sizeof st->tail;
        st->tail_pos = 0;
        return;
    }
    size_t first = sizeof st->tail - st->tail_pos;
    if (first > n)
        first = n;
    memcpy(st->tail + st->tail_pos, p, first);
    memcpy(st->tail, p + first, n - first);
    st->tail_pos = (st->tail_pos + n) % sizeof st->tail;
    st->tail_len = st->tail_len + n > sizeof st->tail ? sizeof st->tail : st->tail_len + n;
}

static void file_put(int fd, const char *p, size_t n)
{
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return; /* a full disk loses output, not the run */
        p += w;
        n -= (size_t)w;
    }
}

static void pump(struct stream *st)
{
    char buf[65536];
    for (;;) {
        ssize_t n = read(st->pipe_fd, buf, sizeof buf);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return; /* EAGAIN: drained for now */
        if (n == 0) {
            close(st->pipe_fd);
            st->pipe_fd = -1;
            return;
        }
        int64_t room = st->cap - st->written;
        size_t head = (int64_t)n < room ? (size_t)n : (size_t)(room > 0 ? room : 0);
        file_put(st->file_fd, buf, head);
        st->written += (int64_t)head;
        if ((size_t)n > head)
            tail_add(st, buf + head, (size_t)n - head);
        st->total += n;
    }
}

/* Past the cap: a note, then the tail, so the file ends as the output did. */
static void stream_finish(struct stream *st)
{
    int64_t omitted = st->total - st->written - (int64_t)st->tail_len;
    if (omitted > 0) {
        char note[160];
        int n = snprintf(note, sizeof note,
                         "\n[chronos: %lld bytes of output omitted after the first %lld; the "
                         "last %zu follow]\n",
                         (long long)omitted, (long long)st->written, st->tail_len);
        file_put(st->file_fd, note, (size_t)n);
        st->truncated = true;
    }
    if (st->tail_len == sizeof st->tail) { /* full: oldest byte at tail_pos */
        file_put(st->file_fd, st->tail + st->tail_pos, sizeof st->tail - st->tail_pos);
        file_put(st->file_fd, st->tail, st->tail_pos);
    } else
        file_put(st->file_fd, st->tail, st->tail_len);
    if (st->file_fd >= 0)
        close(st->file_fd);
    st->file_fd = -1;
}

/* ---- Supervising ------------------------------------------------------------ */

/* A container run: `<runtime> kill` or `rm` on its container, waited for
 * (at most CHR_LOCAL_CTR_CTL_MS: a hung runtime must not hold the run),
 * output discarded, failure ignored (`rm` of a container already gone
 * fails; what matters is that none is left).  The runtime's own process is
 * killed as any task's is: this reaches the container where the process
 * tree does not (docker's containers are children of its daemon). */
static void container_ctl(struct sup *s, enum chr_local_ctr_ctl what)
{
    if (!s->ctr_argv)
        return;
    char **argv = chr_local_container_ctl_argv(s->spec.runtime, what, s->spec.run_id);
    size_t n = 0;
    while (argv && argv[n])
        n++;
    char **sh = argv ? chr_calloc(n + 2, sizeof *sh) : NULL;
    pid_t pid = argv && sh ? fork() : -1;
    if (pid == 0) {
        int fd = open("/dev/null", O_RDWR);
        if (fd < 0 || dup2(fd, 0) < 0 || dup2(fd, 1) < 0 || dup2(fd, 2) < 0)
            _exit(126);
        sigset_t none;
        sigemptyset(&none);
        sigprocmask(SIG_SETMASK, &none, NULL);
        exec_search(argv, s->envp, sh);
        _exit(127);
    }
    if (pid > 0) {
        int pfd = chr_local_pidfd_open(pid);
        struct pollfd p = {pfd, POLLIN, 0};
        if (pfd < 0 || poll(&p, 1, CHR_LOCAL_CTR_CTL_MS) <= 0)
            kill(pid, SIGKILL);
        if (pfd >= 0)
            close(pfd);
        waitpid(pid, NULL, 0);
    }
    chr_free(sh);
    chr_local_strv_free(argv);
}

static void kill_group(struct sup *s, int sig)
{
    if (s->pid > 0)
        kill(-s->pid, sig);
}

/* ---- Which run a process is ------------------------------------------------ */

/* Whether /proc/<pid>/cgroup names the cgroup `leaf` (a line ending in it). */
static bool in_cgroup(pid_t pid, const char *leaf)
{
    char buf[4096];
    if (!chr_local_proc_read(pid, "cgroup", buf, sizeof buf))
        return false;
    size_t ll = strlen(leaf);
    for (char *p = buf; (p = strstr(p, leaf)) != NULL; p += ll)
        if (p > buf && p[-1] == '/' && (p[ll] == '\n' || p[ll] == '\0'))
            return true;
    return false;
}

/* The run (index) a child of ours belongs to: the task of a run whose task
 * still runs is left alone (-1: its run is not over); an orphan is the run's
 * whose process group or cgroup it is in.  `want` says which runs are being
 * swept; an orphan that is no run's goes to the first of them. */
struct owner_ctx {
    struct grp *g;
    const bool *want;
};

static int owner_of(pid_t pid, void *arg)
{
    struct owner_ctx *c = arg;
    struct grp *g = c->g;
    int first = -1;
    for (size_t i = 0; i < g->n; i++) {
        const struct sup *s = &g->runs[i];
        if (s->pid == pid && s->pid > 0 && !s->leader_exited)
            return -1;
        if (first < 0 && c->want[i])
            first = (int)i;
    }
    pid_t pg = getpgid(pid);
    for (size_t i = 0; i < g->n; i++) {
        const struct sup *s = &g->runs[i];
        if (s->pid > 0 && (pg == s->pid || (s->cg_leaf[0] && in_cgroup(pid, s->cg_leaf))))
            return c->want[i] ? (int)i : -1;
    }
    return first;
}

/* One walk of /proc for the runs of `want`: signals each's processes with
 * sig (0: none) and sets its `left`. */
static void sweep_runs(struct grp *g, const bool *want, int sig)
{
    int sigs[CHR_LOCAL_GROUP_MAX];
    size_t live[CHR_LOCAL_GROUP_MAX];
    for (size_t i = 0; i < g->n; i++)
        sigs[i] = sig;
    struct owner_ctx c = {g, want};
    chr_local_sweep_owned(getpid(), owner_of, &c, sigs, live, g->n);
    for (size_t i = 0; i < g->n; i++)
        if (want[i])
            g->runs[i].left = live[i];
}

static void sweep_one(struct sup *s, int sig)
{
    bool want[CHR_LOCAL_GROUP_MAX] = {false};
    want[s - s->g->runs] = true;
    sweep_runs(s->g, want, sig);
}

/* ---- Supervising ------------------------------------------------------------ */

/* A polite signal to every process of the run: its group, its cgroup, and
 * every descendant of ours that is the run's (those that left the group or
 * the session). */
static void signal_all(struct sup *s, int sig)
{
    kill_group(s, sig);
    chr_local_cg_signal(&s->cg, sig);
    sweep_one(s, sig);
}

/* SIGKILL to every process of the run: the cgroup at once where it can. */
static void kill_all(struct sup *s)
{
    kill_group(s, SIGKILL);
    chr_local_cg_kill(&s->cg);
    sweep_one(s, SIGKILL);
}

static void begin_kill(struct sup *s)
{
    if (s->leader_exited)
        return;
    if (s->term_mono == 0) {
        container_ctl(s, CHR_LOCAL_CTR_TERM);
        signal_all(s, SIGTERM);
        signal_all(s, SIGCONT);
        s->term_mono = chr_clock_mono_ms();
        if (s->term_mono == 0)
            s->term_mono = 1;
    } else if (!s->hard_killed) {
        container_ctl(s, CHR_LOCAL_CTR_KILL);
        kill_all(s); /* asked twice: no more grace */
        s->hard_killed = true;
    }
}

static struct sup *run_of_pid(struct grp *g, pid_t pid)
{
    for (size_t i = 0; i < g->n; i++)
        if (g->runs[i].pid == pid && pid > 0 && !g->runs[i].leader_exited &&
            (g->runs[i].phase == P_LIVE || g->runs[i].phase == P_HELD))
            return &g->runs[i];
    return NULL;
}

/* A run's task has ended: nothing of it may stay.  Its group while the
 * group id is still ours (the leader is only peeked at), then it is
 * reaped; what escaped the group is swept by the caller. */
static void leader_gone(struct sup *s, const siginfo_t *si)
{
    s->leader = *si;
    container_ctl(s, CHR_LOCAL_CTR_RM); /* no container may stay either */
    kill_group(s, SIGKILL);
    chr_local_cg_kill(&s->cg);
    waitpid(s->pid, NULL, 0);
    free_stack(s);
    s->leader_exited = true;
    s->end_mono = chr_clock_mono_ms();
}

/* Reaps children: tasks that ended, and orphans of tasks.  A held task that
 * died before it was let exec is reaped too (its release then fails). */
static void reap_all(struct grp *g)
{
    for (;;) {
        siginfo_t si;
        memset(&si, 0, sizeof si);
        if (waitid(P_ALL, 0, &si, WEXITED | WNOHANG | WNOWAIT) != 0 || si.si_pid == 0)
            return;
        struct sup *s = run_of_pid(g, si.si_pid);
        if (s != NULL && s->phase == P_LIVE)
            leader_gone(s, &si);
        else {
            waitpid(si.si_pid, NULL, 0);
            if (s != NULL) { /* held: it never became the task */
                s->leader_exited = true;
                free_stack(s);
            }
        }
    }
}

static void on_kill_request(struct sup *s)
{
    if (s->leader_exited || s->kill_requested)
        return;
    s->kill_requested = true;
    if (s->phase == P_LIVE && s->released) /* before: the task is simply never let exec */
        begin_kill(s);
}

static void on_signals(struct grp *g)
{
    struct signalfd_siginfo si;
    while (read(g->sigfd, &si, sizeof si) == (ssize_t)sizeof si) {
        bool all = si.ssi_signo == SIGTERM || si.ssi_signo == SIGINT;
        if (!all && si.ssi_signo != SIGUSR1)
            continue;
        /* SIGTERM: every run; SIGUSR1: the runs the server asked to kill. */
        for (size_t i = 0; i < g->n; i++) {
            struct sup *s = &g->runs[i];
            if ((s->phase == P_NEW || s->phase == P_HELD || s->phase == P_LIVE) &&
                (all || faccessat(s->dirfd, CHR_LOCAL_KILL_FILE, F_OK, 0) == 0))
                on_kill_request(s);
        }
    }
}

/* The next instant (monotonic ms) at which something is due; -1: none. */
static int64_t next_deadline(const struct sup *s)
{
    if (s->leader_exited)
        return s->end_mono + CHR_LOCAL_DRAIN_MS;
    if (s->term_mono && !s->hard_killed)
        return s->term_mono + s->spec.kill_grace_ms;
    if (s->spec.max_completion_ms > 0 && !s->timed_out)
        return s->start_mono + s->spec.max_completion_ms;
    return -1;
}

static void on_time(struct sup *s, int64_t now)
{
    if (s->leader_exited)
        return;
    if (s->term_mono && !s->hard_killed && now >= s->term_mono + s->spec.kill_grace_ms) {
        container_ctl(s, CHR_LOCAL_CTR_KILL);
        kill_all(s);
        s->hard_killed = true;
    }
    if (s->spec.max_completion_ms > 0 && !s->timed_out &&
        now >= s->start_mono + s->spec.max_completion_ms) {
        s->timed_out = true;
        begin_kill(s);
    }
}

/* The run is over once the task has ended and no process of it is left
 * (group, cgroup, descendants: `left`, from this round's sweep; what is
 * found is killed again), and its output is closed or has had
 * CHR_LOCAL_DRAIN_MS to drain. */
static bool finished(struct sup *s, int64_t now)
{
    if (!s->leader_exited)
        return false;
    bool group_gone = kill(-s->pid, 0) != 0 && errno == ESRCH;
    if (!group_gone || !chr_local_cg_empty(&s->cg) || s->left != 0) {
        kill_group(s, SIGKILL);
        chr_local_cg_kill(&s->cg);
        return false;
    }
    return (s->out.pipe_fd < 0 && s->err.pipe_fd < 0) || now >= s->end_mono + CHR_LOCAL_DRAIN_MS;
}

/* ---- Setup -------------------------------------------------------------------- */

static int open_output(struct sup *s, struct stream *st, const char *name, int64_t cap)
{
    st->pipe_fd = -1;
    st->cap = cap;
    st->file_fd = openat(s->dirfd, name, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW,
                         0640);
    return st->file_fd;
}

/* Blocks the signals we take through the signalfd (the server spawns us
 * with them blocked already, so a kill is never lost to a default action). */
static int signals_setup(void)
{
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGHUP);
    sigaddset(&set, SIGCHLD);
    sigaddset(&set, SIGUSR1);
    sigprocmask(SIG_BLOCK, &set, NULL);
    signal(SIGPIPE, SIG_IGN);
    return signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
}

static int claim(struct sup *s)
{
    struct chr_local_claim c = {.pid = getpid()};
    if (!chr_local_proc_start(c.pid, &c.ticks))
        return 1;
    memcpy(c.boot_id, s->g->boot_id, sizeof c.boot_id);
    char line[128];
    chr_local_claim_format(&c, line, sizeof line);
    enum chr_err e = chr_local_file_create(s->dirfd, CHR_LOCAL_CLAIM_FILE, line);
    return e == CHR_OK ? 0 : e == CHR_ECONFLICT ? CHR_LOCAL_EXIT_CLAIMED : 1;
}

/* The run's cgroup ("chronos-<our pid>-<run id>"), recorded in the run
 * directory so that the server can clean it up if we die first. */
static void make_cgroup(struct sup *s)
{
    char rec[CHR_LOCAL_RECORD_MAX];
    snprintf(s->cg_leaf, sizeof s->cg_leaf, "chronos-%ld-%.200s", (long)getpid(),
             s->spec.run_id);
    for (char *p = s->cg_leaf; *p; p++)
        if (*p == ':')
            *p = '_';
    chr_local_cg_create_on(s->g->cg_host, s->cg_leaf, &s->spec.res, &s->cg);
    size_t n = chr_local_cg_format(&s->cg, rec, sizeof rec);
    if (n > 0)
        chr_local_file_put(s->dirfd, CHR_LOCAL_CGROUP_FILE, rec, n);
    else
        s->cg_leaf[0] = '\0';
}

/* Once the run is over: no member may be left, and the cgroup goes.  Its
 * record stays, stale and harmless (the server reads it only for a run
 * whose supervisor died without an exit record, and a cgroup that is gone
 * reads as empty): deleting it freed an inode per run, and ext4 without a
 * journal skips each inode freed in the last seconds, one by one, in every
 * later allocation of the group (find_inode_bit: recently_deleted), so a
 * burst's file creations, the server's and the supervisors', grew slower
 * with every run (12-22% of their CPU in a burst of 2,000). */
static void drop_cgroup(struct sup *s)
{
    bool any = false;
    for (int k = 0; k < CHR_LOCAL_CG_N; k++)
        any |= s->cg.dir[k][0] != '\0';
    if (!any)
        return;
    for (int i = 0; i < 100 && !chr_local_cg_empty(&s->cg); i++)
        chr_local_cg_kill(&s->cg);
    chr_local_cg_remove(&s->cg);
}

/* Everything between the claim and the fork: the spec, the user, the
 * environment, the output files, the cgroup.  False when the run ended
 * here (its outcome written). */
static bool prepare(struct sup *s)
{
    char reason[256] = "";
    if (chr_local_spec_read(s->dirfd, &s->spec) != CHR_OK) {
        record(s, CHR_LOCAL_FAILED, -1, 0, "supervisor: the run's spec is unreadable");
        return false;
    }
    if (s->spec.kill_grace_ms <= 0)
        s->spec.kill_grace_ms = CHR_LOCAL_KILL_GRACE_MS;
    bool ok = true;
    if (s->spec.has_ctr)
        ok = prepare_container(s, reason, sizeof reason);
    else if (!resolve_user(s, reason, sizeof reason))
        ok = false;
    else if (!build_env(s)) {
        snprintf(reason, sizeof reason, "supervisor: out of memory");
        ok = false;
    }
    if (!ok) {
        record(s, CHR_LOCAL_FAILED, -1, 0, reason);
        return false;
    }
    if (s->kill_requested) {
        record(s, CHR_LOCAL_KILLED, -1, 0, "killed before start");
        return false;
    }
    if (open_output(s, &s->out, CHR_LOCAL_STDOUT_FILE, s->spec.stdout_max) < 0 ||
        open_output(s, &s->err, CHR_LOCAL_STDERR_FILE, s->spec.stderr_max) < 0) {
        record(s, CHR_LOCAL_DROPPED, -1, 0,
               "never started: the supervisor cannot create the output files");
        return false;
    }
    if (s->spec.cgroup)
        make_cgroup(s);
    return true;
}

/* A task that was never let exec: it exits (its go pipe closed without the
 * byte), its cgroup goes, and the run ends as `state` with `why`. */
static void end_unstarted(struct sup *s, enum chr_local_state state, const char *why)
{
    if (s->go_fd >= 0)
        close(s->go_fd);
    if (s->errp_fd >= 0)
        close(s->errp_fd);
    s->go_fd = s->errp_fd = -1;
    if (s->pid > 0 && !s->leader_exited) {
        /* Held on its go pipe, of which tasks forked after it hold copies
         * until their exec: it is killed rather than waited out. */
        kill(s->pid, SIGKILL);
        waitpid(s->pid, NULL, 0);
    }
    free_stack(s);
    drop_cgroup(s);
    s->pid = 0; /* it never became the task */
    s->start_ms = INT64_MIN;
    record(s, state, -1, 0, why);
}

/* Forks the task, which waits on its go pipe; false when the run ended here. */
static bool fork_held(struct sup *s)
{
    int fd[N_FDS] = {-1, -1, -1, -1, -1, -1, -1, -1, -1};
    char reason[256], why[300];
    if (!fork_task(s, fd, reason, sizeof reason)) {
        drop_cgroup(s);
        snprintf(why, sizeof why, "never started: %s", reason);
        record(s, CHR_LOCAL_DROPPED, -1, 0, why);
        return false;
    }
    s->go_fd = fd[GO_W];
    s->errp_fd = fd[ERR_R];
    s->phase = P_HELD;
    return true;
}

/* The task's pid record, written (durable with the group's syncfs). */
static bool record_pid(struct sup *s)
{
    struct chr_local_pidrec p = {.pid = s->pid};
    if (!chr_local_proc_start(s->pid, &p.ticks))
        return false;
    memcpy(p.boot_id, s->g->boot_id, sizeof p.boot_id);
    /* When the task will be let exec: a reader takes a start still ahead
     * as "not started yet". */
    int64_t now = chr_clock_wall_ms();
    p.start_ms = now > s->spec.not_before_ms ? now : s->spec.not_before_ms;
    char line[128];
    size_t n = chr_local_pidrec_format(&p, line, sizeof line);
    return chr_local_file_put(s->dirfd, CHR_LOCAL_PID_FILE, line, n) == CHR_OK;
}

/* Makes what was written durable: one syncfs for the whole group (every
 * record of every run, and their directories), not two fsyncs a record. */
static bool sync_group(struct grp *g)
{
    if (!g->unsynced)
        return true;
    g->unsynced = false;
    return g->sync_fd >= 0 && syncfs(g->sync_fd) == 0;
}

/* Durable outcomes are told ("E <run-id>"). */
static void flush_done(struct grp *g)
{
    sync_group(g); /* a failure loses nothing the server reads: the records are there */
    for (size_t i = 0; i < g->n; i++) {
        struct sup *s = &g->runs[i];
        if (s->phase != P_DONE)
            continue;
        s->phase = P_GONE;
        /* A supervisor of one run exits right after: the server reports the
         * run at its exit, as it always did (then no process with the run's
         * name is left, the supervisor included, and an exit status names
         * why a run could not be claimed). */
        if (g->n == 1)
            continue;
        char line[CHR_LOCAL_RUN_ID_MAX + 8];
        int n = snprintf(line, sizeof line, "E %s\n", s->id);
        notify_line(g, line, n);
    }
}

/* ---- Releasing held tasks ------------------------------------------------------ */

/* Lets every held task whose start has come exec (all of them first, then
 * each one's exec is waited for: they exec side by side); a held run that
 * was killed ends without ever exec'ing. */
static void release_due(struct grp *g)
{
    int64_t now = chr_clock_wall_ms();
    bool sent[CHR_LOCAL_GROUP_MAX] = {false};
    for (size_t i = 0; i < g->n; i++) {
        struct sup *s = &g->runs[i];
        if (s->phase != P_HELD)
            continue;
        if (s->kill_requested) {
            end_unstarted(s, CHR_LOCAL_KILLED, "killed before start");
            continue;
        }
        if (now < s->spec.not_before_ms)
            continue;
        s->start_ms = chr_clock_wall_ms();
        s->released = true;
        sent[i] = !s->leader_exited && write(s->go_fd, "g", 1) == 1; /* EPIPE: it died */
        close(s->go_fd); /* without the byte: the child exits, never execs */
        s->go_fd = -1;
        s->start_mono = chr_clock_mono_ms();
        s->phase = P_LIVE;
    }
    for (size_t i = 0; i < g->n; i++) {
        struct sup *s = &g->runs[i];
        if (s->phase != P_LIVE || s->errp_fd < 0)
            continue;
        ssize_t r;
        do
            r = read(s->errp_fd, &s->child_err, sizeof s->child_err);
        while (r < 0 && errno == EINTR);
        close(s->errp_fd);
        s->errp_fd = -1;
        if (r != (ssize_t)sizeof s->child_err)
            memset(&s->child_err, 0, sizeof s->child_err);
        if (!sent[i]) {
            s->released = false;
            end_unstarted(s, CHR_LOCAL_DROPPED,
                          "never started: supervisor: the task's process died before its exec");
        } else if (s->child_err.stage == 0)
            notify_running(s);
    }
}

/* The wall-clock instant (ms) of the next release; INT64_MAX: none held. */
static int64_t next_release(const struct grp *g)
{
    int64_t at = INT64_MAX;
    for (size_t i = 0; i < g->n; i++)
        if (g->runs[i].phase == P_HELD && g->runs[i].spec.not_before_ms < at)
            at = g->runs[i].spec.not_before_ms;
    return at;
}

/* An absolute timer on the wall clock at the next release (it follows clock
 * steps, and ignores timer slack).  False when there is no timer: poll's
 * timeout then, with no 50 us slack. */
static bool arm_release(struct grp *g, int64_t at_ms)
{
    if (g->tfd < 0) {
        g->tfd = timerfd_create(CLOCK_REALTIME, TFD_CLOEXEC | TFD_NONBLOCK);
        if (g->tfd < 0) {
            prctl(PR_SET_TIMERSLACK, 1UL);
            return false;
        }
    }
    struct itimerspec it = {.it_value = chr_clock_wall_ts(at_ms)};
    return timerfd_settime(g->tfd, TFD_TIMER_ABSTIME, &it, NULL) == 0;
}

/* ---- The loop ------------------------------------------------------------------ */

/* The outcome of a run whose processes are all gone. */
static void complete(struct sup *s)
{
    if (s->out.pipe_fd >= 0)
        pump(&s->out);
    if (s->err.pipe_fd >= 0)
        pump(&s->err);
    stream_finish(&s->out);
    stream_finish(&s->err);
    s->oom = (s->cg.enforced & CHR_LOCAL_CG_MEM) != 0 && chr_local_cg_oom(&s->cg);
    drop_cgroup(s);
    record_outcome(s);
}

/* Runs whose task ended: one sweep for all of them, then those with nothing
 * left are completed. */
static void settle_ended(struct grp *g)
{
    bool want[CHR_LOCAL_GROUP_MAX] = {false}, any = false;
    for (size_t i = 0; i < g->n; i++) {
        struct sup *s = &g->runs[i];
        want[i] = s->phase == P_LIVE && s->leader_exited;
        any |= want[i];
    }
    if (!any)
        return;
    sweep_runs(g, want, SIGKILL);
    int64_t now = chr_clock_mono_ms();
    for (size_t i = 0; i < g->n; i++)
        if (want[i] && finished(&g->runs[i], now))
            complete(&g->runs[i]);
}

/* How long poll may wait (ms, -1: for ever), from every live run's next
 * deadline and the next release where no timer watches it. */
static int poll_timeout(struct grp *g, bool timer)
{
    int64_t now = chr_clock_mono_ms();
    int64_t best = -1;
    for (size_t i = 0; i < g->n; i++) {
        struct sup *s = &g->runs[i];
        if (s->phase != P_LIVE)
            continue;
        int64_t due = next_deadline(s), t;
        if (due < 0)
            continue;
        t = due <= now ? 0 : due - now > 60000 ? 60000 : due - now;
        if (s->leader_exited && t > 10) /* the last ones die without a signal to us */
            t = now < s->end_mono + CHR_LOCAL_DRAIN_MS ? 10 : 100;
        best = best < 0 || t < best ? t : best;
    }
    int64_t at = next_release(g);
    if (at != INT64_MAX && !timer) {
        int64_t wall = chr_clock_wall_ms();
        int64_t t = at <= wall ? 0 : at - wall > 60000 ? 60000 : at - wall;
        best = best < 0 || t < best ? t : best;
    }
    return (int)best;
}

static bool any_active(const struct grp *g)
{
    for (size_t i = 0; i < g->n; i++)
        if (g->runs[i].phase == P_HELD || g->runs[i].phase == P_LIVE)
            return true;
    return false;
}

static void supervise(struct grp *g)
{
    struct pollfd p[2 + 2 * CHR_LOCAL_GROUP_MAX];
    struct stream *st[2 + 2 * CHR_LOCAL_GROUP_MAX];
    for (;;) {
        reap_all(g);
        release_due(g);
        int64_t now = chr_clock_mono_ms();
        for (size_t i = 0; i < g->n; i++)
            if (g->runs[i].phase == P_LIVE)
                on_time(&g->runs[i], now);
        settle_ended(g);
        flush_done(g);
        if (!any_active(g))
            break;
        int64_t at = next_release(g);
        bool timer = at != INT64_MAX && arm_release(g, at);
        size_t n = 0;
        p[n++] = (struct pollfd){g->sigfd, POLLIN, 0};
        p[n++] = (struct pollfd){timer ? g->tfd : -1, POLLIN, 0};
        for (size_t i = 0; i < g->n; i++) {
            struct sup *s = &g->runs[i];
            struct stream *both[2] = {&s->out, &s->err};
            for (int k = 0; s->phase == P_LIVE && k < 2; k++)
                if (both[k]->pipe_fd >= 0) {
                    st[n] = both[k];
                    p[n++] = (struct pollfd){both[k]->pipe_fd, POLLIN, 0};
                }
        }
        if (poll(p, (nfds_t)n, poll_timeout(g, timer)) < 0 && errno != EINTR) {
            /* Cannot watch: sleep a little and look again, never start early. */
            struct timespec nap = {0, 10 * 1000000};
            nanosleep(&nap, NULL);
            continue;
        }
        if (p[0].revents)
            on_signals(g);
        if (p[1].revents) {
            uint64_t ticks;
            ssize_t r = read(g->tfd, &ticks, sizeof ticks);
            (void)r; /* the releases read the clock themselves */
        }
        for (size_t i = 2; i < n; i++)
            if (p[i].revents)
                pump(st[i]);
    }
}

/* ---- The group ----------------------------------------------------------------- */

/* Claims, sets up and forks runs [from, to) of the group, then records
 * their pids durably together. */
static void start_chunk(struct grp *g, size_t from, size_t to)
{
    for (size_t i = from; i < to; i++) {
        struct sup *s = &g->runs[i];
        s->dirfd = open(s->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        s->status = s->dirfd < 0 ? 1 : claim(s);
        if (s->status != 0) /* not ours: the server looks at it again */
            s->phase = P_DONE;
    }
    on_signals(g);
    for (size_t i = from; i < to; i++) {
        struct sup *s = &g->runs[i];
        if (s->phase == P_NEW && prepare(s))
            fork_held(s);
    }
    for (size_t i = from; i < to; i++) {
        struct sup *s = &g->runs[i];
        if (s->phase == P_HELD) {
            g->unsynced = true;
            if (!record_pid(s))
                end_unstarted(s, CHR_LOCAL_DROPPED,
                              "never started: supervisor: cannot record the task's pid");
        }
    }
    if (!sync_group(g))
        for (size_t i = from; i < to; i++)
            if (g->runs[i].phase == P_HELD)
                end_unstarted(&g->runs[i], CHR_LOCAL_DROPPED,
                              "never started: supervisor: cannot record the task's pid");
}

/* The group is started CHR_LOCAL_GROUP_CHUNK runs at a time, each chunk's
 * tasks let exec (when due) before the next is set up: in a burst, the
 * first tasks of a group start after a quarter of its setup, not all of it,
 * for a syncfs more per chunk. */
static void start_group(struct grp *g)
{
    g->cg_host = chr_local_cg_host_load();
    for (size_t from = 0; from < g->n; from += CHR_LOCAL_GROUP_CHUNK) {
        size_t to = g->n - from > CHR_LOCAL_GROUP_CHUNK ? from + CHR_LOCAL_GROUP_CHUNK : g->n;
        start_chunk(g, from, to);
        release_due(g);
        flush_done(g);
    }
}

static void sup_free(struct sup *s)
{
    free_stack(s);
    chr_free(s->sh_argv);
    chr_local_spec_free(&s->spec);
    chr_free(s->groups);
    chr_free(s->home);
    for (int i = 0; i < 5; i++)
        chr_free(s->base_env[i]);
    if (s->ctr_argv) { /* the container run's envp owns its strings */
        chr_local_strv_free(s->ctr_argv);
        chr_local_strv_free(s->envp);
    } else
        chr_free(s->envp);
    int fds[] = {s->dirfd, s->go_fd, s->errp_fd, s->out.pipe_fd, s->out.file_fd,
                 s->err.pipe_fd, s->err.file_fd};
    close_fds(fds, sizeof fds / sizeof fds[0]);
}

static void sup_init(struct grp *g, struct sup *s, const char *dir)
{
    memset(s, 0, sizeof *s);
    s->g = g;
    s->dir = dir;
    const char *slash = strrchr(dir, '/');
    s->id = slash && slash[1] ? slash + 1 : dir;
    s->start_ms = INT64_MIN;
    s->dirfd = s->go_fd = s->errp_fd = -1;
    s->out.pipe_fd = s->out.file_fd = s->err.pipe_fd = s->err.file_fd = -1;
}

int chr_local_run_group(const char *const *run_dirs, size_t n, int notify_fd)
{
    if (n == 0 || n > CHR_LOCAL_GROUP_MAX)
        return 1;
    struct grp g;
    memset(&g, 0, sizeof g);
    g.notify_fd = notify_fd;
    g.tfd = g.sync_fd = g.devnull = -1;
    if (notify_fd >= 0)
        fcntl(notify_fd, F_SETFD, FD_CLOEXEC);
    g.runs = chr_calloc(n, sizeof *g.runs);
    g.sigfd = signals_setup();
    if (g.runs == NULL || g.sigfd < 0 || !chr_local_boot_id(g.boot_id)) {
        chr_free(g.runs);
        return 1;
    }
    g.n = n;
    for (size_t i = 0; i < n; i++)
        sup_init(&g, &g.runs[i], run_dirs[i]);
    g.sync_fd = open(run_dirs[0], O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    g.devnull = open("/dev/null", O_RDWR | O_CLOEXEC);
    /* Orphans of the tasks come to us, to be reaped and counted out. */
    prctl(PR_SET_CHILD_SUBREAPER, 1);
    start_group(&g);
    supervise(&g);
    flush_done(&g);
    int status = 0;
    for (size_t i = 0; i < n; i++) {
        if (g.runs[i].status == 1 || (n == 1 && g.runs[i].status != 0))
            status = g.runs[i].status;
        sup_free(&g.runs[i]);
    }
    int fds[] = {g.sigfd, g.notify_fd, g.tfd, g.sync_fd, g.devnull};
    close_fds(fds, 5);
    chr_free(g.runs);
    chr_free(g.cg_host);
    return status;
}

int chr_local_run_task(const char *run_dir, int notify_fd)
{
    return chr_local_run_group(&run_dir, 1, notify_fd);
}
