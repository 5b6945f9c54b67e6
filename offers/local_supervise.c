/*
 * local_supervise.c - the supervisor of one local run (`chronos run-task`):
 * the local twin of a Mesos executor with checkpointing.
 *
 * It claims the run (exclusively: a second supervisor of the same run exits
 * at once), makes the run's cgroup where the host allows (local_cgroup.c:
 * mem, cpus, a pids limit), forks the task into its own process group and
 * that cgroup, records the task's pid durably while the child waits on a
 * pipe, holds it until the run's not_before_ms (so all of this is done by
 * the due instant when the server launched the run ahead of it), lets it
 * exec, reports exec failures distinctly, copies stdout and stderr into
 * bounded files, kills on request (SIGTERM to the supervisor) or past
 * maxCompletionTime (SIGTERM, then SIGKILL after the grace period), kills
 * what is left when the task ends, and records the outcome durably once
 * every process of the run is gone.  It never depends on the server: it was
 * started detached and keeps going if the server dies.
 *
 * A kill reaches every process of the run, wherever it went: the task's
 * process group, every member of the run's cgroup, and every descendant of
 * the supervisor, which is the child subreaper, so that a process that
 * leaves the group or the session (setsid, setpgrp, a double fork) comes
 * back to it as an orphan rather than to PID 1 (local_sweep.c).  The task
 * dies with it (PR_SET_PDEATHSIG), so a task never runs unsupervised.
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
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
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

struct sup {
    int dirfd, notify_fd, sigfd;
    struct chr_local_spec spec;
    char boot_id[CHR_LOCAL_BOOT_ID_LEN + 1];
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
    enum chr_err r = text ? chr_local_file_record(s->dirfd, CHR_LOCAL_EXIT_FILE, text, len)
                          : CHR_ENOMEM;
    chr_free(text);
    return r == CHR_OK ? 0 : 1;
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

static const char *env_path(char *const *envp)
{
    for (size_t i = 0; envp[i]; i++)
        if (strncmp(envp[i], "PATH=", 5) == 0)
            return envp[i] + 5;
    return DEFAULT_PATH;
}

/* execve, and for a file that is no binary and has no "#!" line, what
 * execvp does: run it with /bin/sh.  Returns errno. */
static int exec_file(const char *path, char *const *argv, char *const *envp)
{
    execve(path, argv, envp);
    if (errno != ENOEXEC)
        return errno;
    size_t n = 0;
    while (argv[n])
        n++;
    /* Single-threaded after fork: allocating is safe here. */
    char **sh = chr_calloc(n + 2, sizeof *sh);
    if (!sh)
        return ENOEXEC;
    sh[0] = "/bin/sh";
    sh[1] = (char *)path;
    for (size_t i = 1; i < n; i++)
        sh[i + 1] = argv[i];
    execve("/bin/sh", sh, envp);
    return ENOEXEC;
}

/* execvp's search, in the task's PATH rather than ours; returns errno. */
static int exec_search(char *const *argv, char *const *envp)
{
    const char *file = argv[0];
    if (strchr(file, '/'))
        return exec_file(file, argv, envp);
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
            result = exec_file(path, argv, envp);
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
    ssize_t w = write(fd, &ce, sizeof ce);
    (void)w;
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
    close(fd[GO_W]);
    close(fd[ERR_R]);
    close(fd[OUT_R]);
    close(fd[ERROUT_R]);
    setpgid(0, 0);
    if (dup2(fd[DEVNULL], 0) < 0 || dup2(fd[OUT_W], 1) < 0 || dup2(fd[ERROUT_W], 2) < 0)
        _exit(126);
    int err_fd = fd[ERR_W];
    char c;
    ssize_t r;
    do
        r = read(fd[GO_R], &c, 1);
    while (r < 0 && errno == EINTR);
    if (r != 1)
        _exit(126); /* the pid could not be recorded: never exec */
    if (s->switch_user && (setgroups((size_t)s->n_groups, s->groups) != 0 ||
                           setgid(s->gid) != 0 || setuid(s->uid) != 0))
        child_fail(err_fd, STAGE_USER, errno);
    /* After the credentials change, which clears it. */
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent)
        _exit(126);
    if (chdir(s->home) != 0 && chdir("/") != 0)
        _exit(126);
    for (int sig = 1; sig < NSIG; sig++)
        signal(sig, SIG_DFL);
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    child_fail(err_fd, STAGE_EXEC, exec_search(s->ctr_argv ? s->ctr_argv : s->spec.argv, s->envp));
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

static bool record_pid(struct sup *s)
{
    struct chr_local_pidrec p = {.pid = s->pid};
    if (!chr_local_proc_start(s->pid, &p.ticks))
        return false;
    memcpy(p.boot_id, s->boot_id, sizeof p.boot_id);
    /* When the task will be let exec: a reader takes a start still ahead
     * as "not started yet". */
    int64_t now = chr_clock_wall_ms();
    p.start_ms = now > s->spec.not_before_ms ? now : s->spec.not_before_ms;
    char line[128];
    size_t n = chr_local_pidrec_format(&p, line, sizeof line);
    return chr_local_file_record(s->dirfd, CHR_LOCAL_PID_FILE, line, n) == CHR_OK;
}

static void on_signals(struct sup *s);

/* Makes the task's pipes and forks it; the child waits on the go pipe
 * (fd[GO_R]).  Leaves fd[GO_W] and fd[ERR_R] open for the caller; false when
 * nothing was forked (reason filled, every descriptor closed). */
static bool fork_task(struct sup *s, int *fd, char *reason, size_t cap)
{
    if (pipe2(fd + GO_R, O_CLOEXEC) || pipe2(fd + ERR_R, O_CLOEXEC) ||
        pipe2(fd + OUT_R, O_CLOEXEC) || pipe2(fd + ERROUT_R, O_CLOEXEC) ||
        (fd[DEVNULL] = open("/dev/null", O_RDWR | O_CLOEXEC)) < 0) {
        snprintf(reason, cap, "supervisor: pipe: %s", strerror(errno));
        close_fds(fd, N_FDS);
        return false;
    }
    pid_t parent = getpid();
    s->pid = fork();
    if (s->pid == 0)
        child_run(s, parent, fd);
    int child_ends[] = {fd[GO_R], fd[ERR_W], fd[OUT_W], fd[ERROUT_W], fd[DEVNULL]};
    close_fds(child_ends, 5);
    if (s->pid < 0) {
        s->pid = 0;
        snprintf(reason, cap, "supervisor: fork: %s", strerror(errno));
        int rest[] = {fd[GO_W], fd[ERR_R], fd[OUT_R], fd[ERROUT_R]};
        close_fds(rest, 4);
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

/* An absolute timer on the wall clock at `at_ms` (it follows clock steps,
 * and ignores timer slack); -1 when none could be made. */
static int start_timer(int64_t at_ms)
{
    int tfd = timerfd_create(CLOCK_REALTIME, TFD_CLOEXEC | TFD_NONBLOCK);
    struct itimerspec it = {.it_value = chr_clock_wall_ts(at_ms)};
    if (tfd >= 0 && timerfd_settime(tfd, TFD_TIMER_ABSTIME, &it, NULL) != 0) {
        close(tfd);
        tfd = -1;
    }
    if (tfd < 0)
        prctl(PR_SET_TIMERSLACK, 1UL); /* poll's timeout instead: no 50 us slack */
    return tfd;
}

/* Holds the task until the spec's not_before_ms, watching for a kill.
 * Returns false when the run was killed meanwhile (it must never exec). */
static bool wait_start(struct sup *s)
{
    int64_t at = s->spec.not_before_ms;
    int tfd = -1;
    bool armed = false;
    for (;;) {
        on_signals(s);
        int64_t now = chr_clock_wall_ms();
        if (s->kill_requested || now >= at)
            break;
        if (!armed) {
            tfd = start_timer(at);
            armed = true;
        }
        int timeout = tfd >= 0 ? -1 : (int)(at - now > 60000 ? 60000 : at - now);
        struct pollfd p[2] = {{s->sigfd, POLLIN, 0}, {tfd, POLLIN, 0}};
        if (poll(p, 2, timeout) < 0 && errno != EINTR) {
            /* Cannot watch: sleep a little and look again, never start early. */
            struct timespec nap = {0, 10 * 1000000};
            nanosleep(&nap, NULL);
            continue;
        }
        if (p[1].revents) {
            on_signals(s);
            break; /* the timer's own reading of the clock: due */
        }
    }
    if (tfd >= 0)
        close(tfd);
    return !s->kill_requested;
}

/* Forks the task; it execs only once its pid is durable and its
 * not_before_ms has come.  Returns false when nothing ran (reason filled; a
 * kill while it waited leaves kill_requested set); an exec failure returns
 * true with child_err set. */
static bool start_task(struct sup *s, char *reason, size_t cap)
{
    int fd[N_FDS] = {-1, -1, -1, -1, -1, -1, -1, -1, -1};
    if (!fork_task(s, fd, reason, cap))
        return false;
    bool recorded = record_pid(s);
    bool go = recorded && wait_start(s);
    if (go) {
        s->start_ms = chr_clock_wall_ms();
        s->released = true;
        go = write(fd[GO_W], "g", 1) == 1; /* EPIPE: the child died meanwhile */
    }
    close(fd[GO_W]); /* without the byte: the child exits, never execs */
    s->start_mono = chr_clock_mono_ms();
    ssize_t r;
    do
        r = read(fd[ERR_R], &s->child_err, sizeof s->child_err);
    while (r < 0 && errno == EINTR);
    close(fd[ERR_R]);
    if (r != (ssize_t)sizeof s->child_err)
        memset(&s->child_err, 0, sizeof s->child_err);
    if (!go) {
        s->start_ms = INT64_MIN;
        s->released = false;
        snprintf(reason, cap, "%s",
                 !recorded            ? "supervisor: cannot record the task's pid"
                 : s->kill_requested ? "killed before start"
                                     : "supervisor: the task's process died before its exec");
    }
    return go;
}

static void notify_running(struct sup *s)
{
    if (s->notify_fd < 0)
        return;
    char line[64];
    int n = snprintf(line, sizeof line, "R %ld %lld\n", (long)s->pid, (long long)s->start_ms);
    ssize_t w = write(s->notify_fd, line, (size_t)n);
    (void)w; /* the server may be gone: it re-attaches from the pid record */
    close(s->notify_fd);
    s->notify_fd = -1;
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
    pid_t pid = argv ? fork() : -1;
    if (pid == 0) {
        int fd = open("/dev/null", O_RDWR);
        if (fd < 0 || dup2(fd, 0) < 0 || dup2(fd, 1) < 0 || dup2(fd, 2) < 0)
            _exit(126);
        sigset_t none;
        sigemptyset(&none);
        sigprocmask(SIG_SETMASK, &none, NULL);
        exec_search(argv, s->envp);
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
    chr_local_strv_free(argv);
}

static void kill_group(struct sup *s, int sig)
{
    if (s->pid > 0)
        kill(-s->pid, sig);
}

/* The sweep of our descendants (local_sweep.c), which walks all of /proc,
 * only when we have a child: as the subreaper we have a descendant only
 * then.  Most runs end with none, and a burst of runs would otherwise walk
 * /proc once per run with every other run's processes in it. */
static size_t sweep(int sig)
{
    siginfo_t si;
    memset(&si, 0, sizeof si);
    if (waitid(P_ALL, 0, &si, WEXITED | WNOHANG | WNOWAIT) != 0 && errno == ECHILD)
        return 0;
    return chr_local_sweep(getpid(), sig);
}

/* A polite signal to every process of the run: its group, its cgroup, and
 * every descendant of ours (those that left the group or the session). */
static void signal_all(struct sup *s, int sig)
{
    kill_group(s, sig);
    chr_local_cg_signal(&s->cg, sig);
    sweep(sig);
}

/* SIGKILL to every process of the run: the cgroup at once where it can. */
static void kill_all(struct sup *s)
{
    kill_group(s, SIGKILL);
    chr_local_cg_kill(&s->cg);
    sweep(SIGKILL);
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

/* Reaps children.  The task's exit is only peeked at first (WNOWAIT) so
 * what is left of the run is killed while its pid, hence the group id, is
 * still ours. */
static void reap(struct sup *s)
{
    while (!s->leader_exited) {
        siginfo_t si;
        memset(&si, 0, sizeof si);
        if (waitid(P_ALL, 0, &si, WEXITED | WNOHANG | WNOWAIT) != 0 || si.si_pid == 0)
            break;
        if (si.si_pid != s->pid) {
            waitpid(si.si_pid, NULL, 0); /* an orphan of the task */
            continue;
        }
        s->leader = si;
        container_ctl(s, CHR_LOCAL_CTR_RM); /* no container may stay either */
        /* The task has ended: nothing of it may stay.  Its group while the
         * group id is still ours, then (once it is reaped, so that a run
         * that left nothing has no child) whatever escaped the group. */
        kill_group(s, SIGKILL);
        chr_local_cg_kill(&s->cg);
        waitpid(s->pid, NULL, 0);
        sweep(SIGKILL);
        s->leader_exited = true;
        s->end_mono = chr_clock_mono_ms();
    }
    if (s->leader_exited)
        while (waitpid(-1, NULL, WNOHANG) > 0)
            ;
}

static void on_signals(struct sup *s)
{
    struct signalfd_siginfo si;
    while (read(s->sigfd, &si, sizeof si) == (ssize_t)sizeof si) {
        /* Once the task has ended on its own, a kill changes nothing. */
        if ((si.ssi_signo == SIGTERM || si.ssi_signo == SIGINT) && !s->leader_exited) {
            s->kill_requested = true;
            if (s->released) /* before: the task is simply never let exec */
                begin_kill(s);
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
 * (group, cgroup, descendants; what is found is killed again), and its
 * output is closed or has had CHR_LOCAL_DRAIN_MS to drain. */
static bool finished(struct sup *s, int64_t now)
{
    if (!s->leader_exited)
        return false;
    bool group_gone = kill(-s->pid, 0) != 0 && errno == ESRCH;
    if (!group_gone || !chr_local_cg_empty(&s->cg) || sweep(0) != 0) {
        kill_all(s);
        return false;
    }
    return (s->out.pipe_fd < 0 && s->err.pipe_fd < 0) || now >= s->end_mono + CHR_LOCAL_DRAIN_MS;
}

static void supervise(struct sup *s)
{
    for (;;) {
        reap(s);
        int64_t now = chr_clock_mono_ms();
        on_time(s, now);
        if (finished(s, now))
            break;
        int64_t due = next_deadline(s);
        int timeout = due < 0 ? -1 : due <= now ? 0 : (int)(due - now > 60000 ? 60000 : due - now);
        if (s->leader_exited && timeout > 10) /* the last ones die without a signal to us */
            timeout = now < s->end_mono + CHR_LOCAL_DRAIN_MS ? 10 : 100;
        struct pollfd p[3] = {{s->sigfd, POLLIN, 0}, {s->out.pipe_fd, POLLIN, 0},
                              {s->err.pipe_fd, POLLIN, 0}};
        if (poll(p, 3, timeout) < 0 && errno != EINTR)
            break;
        if (p[0].revents)
            on_signals(s);
        if (p[1].revents)
            pump(&s->out);
        if (p[2].revents)
            pump(&s->err);
    }
    if (s->out.pipe_fd >= 0)
        pump(&s->out);
    if (s->err.pipe_fd >= 0)
        pump(&s->err);
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
    sigprocmask(SIG_BLOCK, &set, NULL);
    signal(SIGPIPE, SIG_IGN);
    return signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
}

static int claim(struct sup *s)
{
    struct chr_local_claim c = {.pid = getpid()};
    if (!chr_local_boot_id(s->boot_id) || !chr_local_proc_start(c.pid, &c.ticks))
        return 1;
    memcpy(c.boot_id, s->boot_id, sizeof c.boot_id);
    char line[128];
    chr_local_claim_format(&c, line, sizeof line);
    enum chr_err e = chr_local_file_create(s->dirfd, CHR_LOCAL_CLAIM_FILE, line);
    return e == CHR_OK ? 0 : e == CHR_ECONFLICT ? CHR_LOCAL_EXIT_CLAIMED : 1;
}

/* The run's cgroup ("chronos-<our pid>-<run id>"), recorded in the run
 * directory so that the server can clean it up if we die first. */
static void make_cgroup(struct sup *s)
{
    char name[256], rec[CHR_LOCAL_RECORD_MAX];
    snprintf(name, sizeof name, "chronos-%ld-%.200s", (long)getpid(), s->spec.run_id);
    for (char *p = name; *p; p++)
        if (*p == ':')
            *p = '_';
    chr_local_cg_create(name, &s->spec.res, &s->cg);
    size_t n = chr_local_cg_format(&s->cg, rec, sizeof rec);
    if (n > 0)
        chr_local_file_write(s->dirfd, CHR_LOCAL_CGROUP_FILE, rec, n, false);
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

/* Everything between the claim and the task's end. */
static int run_claimed(struct sup *s)
{
    char reason[256] = "";
    if (chr_local_spec_read(s->dirfd, &s->spec) != CHR_OK)
        return record(s, CHR_LOCAL_FAILED, -1, 0, "supervisor: the run's spec is unreadable");
    if (s->spec.kill_grace_ms <= 0)
        s->spec.kill_grace_ms = CHR_LOCAL_KILL_GRACE_MS;
    if (s->spec.has_ctr) {
        if (!prepare_container(s, reason, sizeof reason))
            return record(s, CHR_LOCAL_FAILED, -1, 0, reason);
    } else if (!resolve_user(s, reason, sizeof reason)) {
        return record(s, CHR_LOCAL_FAILED, -1, 0, reason);
    } else if (!build_env(s)) {
        return record(s, CHR_LOCAL_FAILED, -1, 0, "supervisor: out of memory");
    }
    on_signals(s);
    if (s->kill_requested)
        return record(s, CHR_LOCAL_KILLED, -1, 0, "killed before start");
    if (open_output(s, &s->out, CHR_LOCAL_STDOUT_FILE, s->spec.stdout_max) < 0 ||
        open_output(s, &s->err, CHR_LOCAL_STDERR_FILE, s->spec.stderr_max) < 0)
        return record(s, CHR_LOCAL_DROPPED, -1, 0,
                      "never started: the supervisor cannot create the output files");
    if (s->spec.cgroup)
        make_cgroup(s);
    if (!start_task(s, reason, sizeof reason)) {
        if (s->pid > 0)
            waitpid(s->pid, NULL, 0); /* it exits without exec */
        drop_cgroup(s);
        if (!s->kill_requested) { /* the host's failure (a full disk), not the task's */
            char why[300];
            snprintf(why, sizeof why, "never started: %s", reason);
            s->pid = 0;
            return record(s, CHR_LOCAL_DROPPED, -1, 0, why);
        }
        s->pid = 0; /* it never became the task */
        return record(s, CHR_LOCAL_KILLED, -1, 0, reason);
    }
    if (s->child_err.stage == 0)
        notify_running(s);
    supervise(s);
    stream_finish(&s->out);
    stream_finish(&s->err);
    s->oom = (s->cg.enforced & CHR_LOCAL_CG_MEM) != 0 && chr_local_cg_oom(&s->cg);
    drop_cgroup(s);
    return record_outcome(s);
}

static void sup_free(struct sup *s)
{
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
    int fds[] = {s->dirfd, s->sigfd, s->notify_fd, s->out.pipe_fd, s->out.file_fd,
                 s->err.pipe_fd, s->err.file_fd};
    close_fds(fds, sizeof fds / sizeof fds[0]);
}

int chr_local_run_task(const char *run_dir, int notify_fd)
{
    struct sup s;
    memset(&s, 0, sizeof s);
    s.notify_fd = notify_fd;
    s.start_ms = INT64_MIN;
    s.out.pipe_fd = s.out.file_fd = s.err.pipe_fd = s.err.file_fd = -1;
    if (notify_fd >= 0)
        fcntl(notify_fd, F_SETFD, FD_CLOEXEC);
    s.sigfd = signals_setup();
    s.dirfd = open(run_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    int status = s.sigfd < 0 || s.dirfd < 0 ? 1 : claim(&s);
    if (status == 0) {
        /* Orphans of the task come to us, to be reaped and counted out. */
        prctl(PR_SET_CHILD_SUBREAPER, 1);
        status = run_claimed(&s);
    }
    sup_free(&s);
    return status;
}
