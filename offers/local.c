/*
 * local.c - the local resource manager's API on the server side: the table of
 * runs it supervises, the resources they hold, and launch, kill, reattach and
 * reconcile.  Events are reported by the monitor thread (local_watch.c);
 * collect and the archive of finished runs are in local_collect.c.
 *
 * It never waits for a task: launch writes the spec, spawns the supervisor
 * (posix_spawn: new session, signals at their defaults, descriptors above 3
 * closed) and returns; with group_launches it holds the run, and
 * chr_local_flush (after the scheduler's step) or a full group spawns one
 * supervisor for the held runs (local_supervise.c).  Every failure of a
 * launch leaves nothing behind: no run in the table, no directory, no
 * event; a group whose supervisor cannot start leaves its runs abandoned and
 * DROPPED.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <sched.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/alloc.h"
#include "common/clock.h"
#include "common/limits.h"
#include "offers/local_int.h"

extern char **environ;

/* ---- The run table (l->mu held) ----------------------------------------- */

struct chr_local_run *chr_local_find(struct chr_local *l, const char *id)
{
    uint64_t v = 0;
    return chr_strmap_get(&l->runs, id, &v) ? (struct chr_local_run *)(uintptr_t)v : NULL;
}

/* Adds r (whose id is not in the table) and its resources; false when
 * memory is short (nothing changed). */
static bool table_insert(struct chr_local *l, struct chr_local_run *r)
{
    if (chr_strmap_put(&l->runs, r->id, (uint64_t)(uintptr_t)r) != CHR_OK)
        return false;
    l->used.cpus += r->res.cpus;
    l->used.mem_mb += r->res.mem_mb;
    l->used.disk_mb += r->res.disk_mb;
    return true;
}

void chr_local_unlink_run(struct chr_local *l, struct chr_local_run *r)
{
    if (chr_local_find(l, r->id) != r)
        return;
    chr_strmap_del(&l->runs, r->id);
    l->used.cpus -= r->res.cpus;
    l->used.mem_mb -= r->res.mem_mb;
    l->used.disk_mb -= r->res.disk_mb;
    if (l->runs.len == 0) /* no drift from rounding while idle */
        memset(&l->used, 0, sizeof l->used);
}

void chr_local_push_pending(struct chr_local *l, struct chr_local_run *r)
{
    if (r->pending)
        return;
    r->pending = true;
    r->pending_next = l->pending;
    l->pending = r;
}

static struct chr_local_run *run_new(const char *id, const struct chr_local_resources *res)
{
    struct chr_local_run *r = chr_calloc(1, sizeof *r);
    if (!r)
        return NULL;
    snprintf(r->id, sizeof r->id, "%s", id);
    r->res = *res;
    r->state = CHR_LOCAL_STARTING;
    r->sup_fd = -1;
    r->start_ms = INT64_MIN;
    r->w_sup = (struct chr_local_watch){CHR_LOCAL_W_SUP, r, NULL};
    return r;
}

/* ---- Lifecycle --------------------------------------------------------------- */

static void machine_resources(const char *runs_dir, struct chr_local_resources *out)
{
    cpu_set_t set;
    if (out->cpus <= 0) {
        long n = sysconf(_SC_NPROCESSORS_ONLN);
        if (sched_getaffinity(0, sizeof set, &set) == 0)
            n = CPU_COUNT(&set);
        out->cpus = n > 0 ? (double)n : 1;
    }
    if (out->mem_mb <= 0) {
        long pages = sysconf(_SC_PHYS_PAGES), size = sysconf(_SC_PAGESIZE);
        out->mem_mb = pages > 0 && size > 0 ? (double)pages * (double)size / 1048576.0 : 0;
    }
    /* The file system's size, not its free space: what is free at start
     * is a moment's reading (a disk full then would offer no disk for the
     * whole life of the loop, and refuse every job); a disk that fills
     * later fails launches, which are retried. */
    struct statvfs vfs;
    if (out->disk_mb <= 0 && statvfs(runs_dir, &vfs) == 0)
        out->disk_mb = (double)vfs.f_blocks * (double)vfs.f_frsize / 1048576.0;
}

static char *dup_or(const char *s, const char *fallback)
{
    const char *v = s && s[0] ? s : fallback;
    return chr_strndup(v, strlen(v));
}

/* The supervisor binary when none is configured: `chronos-run-task` beside
 * our own binary (small: a launch loads no library it does not call), else
 * our own binary, which answers `run-task` too. */
static char *default_bin(void)
{
    char self[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
    if (n > 0 && (size_t)n < sizeof self - sizeof CHR_LOCAL_TASK_BIN) {
        self[n] = '\0';
        char *slash = strrchr(self, '/');
        if (slash != NULL) {
            memcpy(slash + 1, CHR_LOCAL_TASK_BIN, sizeof CHR_LOCAL_TASK_BIN);
            if (access(self, X_OK) == 0)
                return chr_strndup(self, strlen(self));
        }
    }
    return dup_or(NULL, "/proc/self/exe");
}

static enum chr_err config_copy(struct chr_local *l, const struct chr_local_config *cfg,
                                struct chr_error *err)
{
    char host[256] = "localhost";
    if (!cfg->hostname)
        gethostname(host, sizeof host - 1);
    l->runs_dir = dup_or(cfg->runs_dir, "");
    l->bin = cfg->chronos_bin && cfg->chronos_bin[0] ? dup_or(cfg->chronos_bin, "")
                                                     : default_bin();
    l->host = dup_or(cfg->hostname, host);
    if (!l->runs_dir || !l->bin || !l->host)
        return CHR_ENOMEM;
    l->total = cfg->total;
    l->runtime = cfg->runtime;
    if (l->runtime != CHR_LOCAL_RUNTIME_NONE && !chr_local_runtime_name(l->runtime)[0])
        return chr_error_set(err, CHR_EINVAL, "runtime", "is not podman or docker");
    l->kill_grace_ms = cfg->kill_grace_ms > 0 ? cfg->kill_grace_ms : CHR_LOCAL_KILL_GRACE_MS;
    l->keep_done = cfg->keep_done_per_job < 0 ? CHR_LOCAL_KEEP_DONE_DEFAULT
                                              : cfg->keep_done_per_job;
    if (l->keep_done > CHR_LOCAL_KEEP_DONE_MAX)
        return chr_error_set(err, CHR_EINVAL, "keep_done_per_job", "at most %d",
                             CHR_LOCAL_KEEP_DONE_MAX);
    l->group_launches = cfg->group_launches;
    l->batch_cap = CHR_LOCAL_GROUP_FIRST;
    l->on_event = cfg->on_event;
    l->ctx = cfg->ctx;
    if (mkdir(l->runs_dir, 0750) != 0 && errno != EEXIST)
        return chr_error_set(err, CHR_EIO, "runs_dir", "%s: %s", l->runs_dir, strerror(errno));
    l->runs_fd = open(l->runs_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (l->runs_fd < 0)
        return chr_error_set(err, CHR_EIO, "runs_dir", "%s: %s", l->runs_dir, strerror(errno));
    machine_resources(l->runs_dir, &l->total);
    return CHR_OK;
}

static enum chr_err start_monitor(struct chr_local *l, struct chr_error *err)
{
    int probe = chr_local_pidfd_open(getpid());
    if (probe < 0)
        return chr_error_set(err, CHR_EUNAVAIL, "", "pidfd_open: %s (Linux 5.4+ needed)",
                             strerror(errno));
    close(probe);
    l->epfd = epoll_create1(EPOLL_CLOEXEC);
    l->wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (l->epfd < 0 || l->wake_fd < 0)
        return chr_error_set(err, CHR_EIO, "", "epoll/eventfd: %s", strerror(errno));
    l->w_wake = (struct chr_local_watch){CHR_LOCAL_W_WAKE, NULL, NULL};
    struct epoll_event ev = {.events = EPOLLIN, .data.ptr = &l->w_wake};
    if (epoll_ctl(l->epfd, EPOLL_CTL_ADD, l->wake_fd, &ev) != 0)
        return CHR_EIO;
    if (pthread_create(&l->thread, NULL, chr_local_monitor_main, l) != 0)
        return chr_error_set(err, CHR_EIO, "", "cannot start the monitor thread");
    l->thread_started = true;
    return CHR_OK;
}

enum chr_err chr_local_create(const struct chr_local_config *cfg, struct chr_local **out,
                              struct chr_error *err)
{
    *out = NULL;
    if (!cfg || !cfg->runs_dir || !cfg->runs_dir[0])
        return chr_error_set(err, CHR_EINVAL, "runs_dir", "is required");
    if (!cfg->on_event)
        return chr_error_set(err, CHR_EINVAL, "on_event", "is required");
    struct chr_local *l = chr_calloc(1, sizeof *l);
    if (!l)
        return CHR_ENOMEM;
    l->runs_fd = l->epfd = l->wake_fd = -1;
    l->queue_tail = &l->queue;
    pthread_mutex_init(&l->mu, NULL);
    enum chr_err e = config_copy(l, cfg, err);
    if (e == CHR_OK)
        e = start_monitor(l, err);
    if (e != CHR_OK) {
        chr_local_destroy(l);
        return e;
    }
    *out = l;
    return CHR_OK;
}

static void run_free(struct chr_local_run *r)
{
    if (r->sup_fd >= 0)
        close(r->sup_fd);
    chr_free(r);
}

void chr_local_destroy(struct chr_local *l)
{
    if (!l)
        return;
    if (l->thread_started) {
        pthread_mutex_lock(&l->mu);
        l->stop = true;
        pthread_mutex_unlock(&l->mu);
        chr_local_wake(l);
        pthread_join(l->thread, NULL);
    }
    size_t pos = 0;
    uint64_t v;
    while (chr_strmap_next(&l->runs, &pos, NULL, &v))
        run_free((struct chr_local_run *)(uintptr_t)v);
    chr_strmap_free(&l->runs);
    struct chr_local_group *lists[] = {l->groups, l->new_groups};
    for (int i = 0; i < 2; i++)
        for (struct chr_local_group *g = lists[i], *next; g; g = next) {
            next = g->next;
            if (g->fd >= 0)
                close(g->fd);
            if (g->pidfd >= 0)
                close(g->pidfd);
            chr_free(g);
        }
    for (struct chr_local_qev *q = l->queue, *next; q; q = next) {
        next = q->next;
        chr_free(q);
    }
    int fds[] = {l->runs_fd, l->epfd, l->wake_fd};
    for (size_t i = 0; i < 3; i++)
        if (fds[i] >= 0)
            close(fds[i]);
    pthread_mutex_destroy(&l->mu);
    chr_free(l->runs_dir);
    chr_free(l->bin);
    chr_free(l->host);
    chr_free(l);
}

/* ---- Offer ---------------------------------------------------------------- */

void chr_local_offer(struct chr_local *l, struct chr_local_offer *out)
{
    snprintf(out->host, sizeof out->host, "%s", l->host);
    pthread_mutex_lock(&l->mu);
    out->free.cpus = fmax(0, l->total.cpus - l->used.cpus);
    out->free.mem_mb = fmax(0, l->total.mem_mb - l->used.mem_mb);
    out->free.disk_mb = fmax(0, l->total.disk_mb - l->used.disk_mb);
    pthread_mutex_unlock(&l->mu);
    out->containers = l->runtime != CHR_LOCAL_RUNTIME_NONE;
}

bool chr_local_containers(const struct chr_local *l)
{
    return l->runtime != CHR_LOCAL_RUNTIME_NONE; /* set at create, never changed */
}

void chr_local_total(struct chr_local *l, struct chr_local_resources *out)
{
    *out = l->total; /* set at create, never changed */
}

/* ---- Launch --------------------------------------------------------------- */

/* A tolerance for sums of doubles: 0.1 cpu ten times must fit in 1. */
#define FIT_EPSILON 1e-6

static bool fits(const struct chr_local *l, const struct chr_local_resources *r)
{
    return r->cpus <= l->total.cpus - l->used.cpus + FIT_EPSILON &&
           r->mem_mb <= l->total.mem_mb - l->used.mem_mb + FIT_EPSILON &&
           r->disk_mb <= l->total.disk_mb - l->used.disk_mb + FIT_EPSILON;
}

/* Holds the run's place (and resources) in the table: from here a second
 * launch of the id is a no-op.  *run NULL and CHR_OK: already tracked. */
static enum chr_err reserve(struct chr_local *l, const struct chr_local_task *t,
                            struct chr_local_run **run, struct chr_error *err)
{
    *run = NULL;
    struct chr_local_run *r = run_new(t->run_id, &t->res);
    if (!r)
        return CHR_ENOMEM;
    enum chr_err e = CHR_OK;
    pthread_mutex_lock(&l->mu);
    if (chr_local_find(l, t->run_id))
        e = CHR_OK;
    else if (l->runs.len >= CHR_LOCAL_RUNS_MAX)
        e = chr_error_set(err, CHR_ERANGE, "", "%d runs are active already",
                          CHR_LOCAL_RUNS_MAX);
    else if (!fits(l, &t->res))
        e = chr_error_set(err, CHR_ERANGE, "", "cpus %g, mem %g, disk %g do not fit in what is free",
                          t->res.cpus, t->res.mem_mb, t->res.disk_mb);
    else if (table_insert(l, r))
        *run = r;
    else
        e = CHR_ENOMEM;
    pthread_mutex_unlock(&l->mu);
    if (!*run)
        chr_free(r);
    return e;
}

static void release(struct chr_local *l, struct chr_local_run *r)
{
    pthread_mutex_lock(&l->mu);
    chr_local_unlink_run(l, r);
    pthread_mutex_unlock(&l->mu);
    run_free(r);
}

/* Makes <runs>/<id> holding the spec, atomically: a temp dir renamed into
 * place.  CHR_ECONFLICT when the run's directory exists. */
static enum chr_err make_run_dir(struct chr_local *l, const char *id, const char *spec,
                                 size_t len)
{
    char tmp[64];
    snprintf(tmp, sizeof tmp, ".tmp-%ld-%lu", (long)getpid(),
             __atomic_add_fetch(&l->tmp_seq, 1, __ATOMIC_RELAXED));
    if (mkdirat(l->runs_fd, tmp, 0750) != 0)
        return CHR_EIO;
    int fd = openat(l->runs_fd, tmp, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    enum chr_err e = fd < 0 ? CHR_EIO
                            : chr_local_file_write(fd, CHR_LOCAL_SPEC_FILE, spec, len, false);
    if (fd >= 0)
        close(fd);
    if (e == CHR_OK && renameat2(l->runs_fd, tmp, l->runs_fd, id, RENAME_NOREPLACE) != 0)
        e = errno == EEXIST || errno == ENOTEMPTY ? CHR_ECONFLICT : CHR_EIO;
    if (e != CHR_OK)
        chr_local_dir_remove(l->runs_fd, tmp);
    return e;
}

static bool spawn_setup(posix_spawn_file_actions_t *fa, posix_spawnattr_t *at, int notify_w)
{
    sigset_t mask, all;
    sigemptyset(&mask);
    sigaddset(&mask, SIGTERM);
    sigaddset(&mask, SIGINT);
    sigaddset(&mask, SIGHUP);
    sigaddset(&mask, SIGCHLD);
    sigaddset(&mask, SIGUSR1);
    sigfillset(&all);
    return posix_spawn_file_actions_addopen(fa, 0, "/dev/null", O_RDONLY, 0) == 0 &&
           posix_spawn_file_actions_addopen(fa, 1, "/dev/null", O_WRONLY, 0) == 0 &&
           posix_spawn_file_actions_adddup2(fa, 1, 2) == 0 &&
           posix_spawn_file_actions_adddup2(fa, notify_w, 3) == 0 &&
           posix_spawn_file_actions_addclosefrom_np(fa, 4) == 0 &&
           posix_spawnattr_setflags(at, POSIX_SPAWN_SETSID | POSIX_SPAWN_SETSIGMASK |
                                            POSIX_SPAWN_SETSIGDEF) == 0 &&
           posix_spawnattr_setsigmask(at, &mask) == 0 &&
           posix_spawnattr_setsigdefault(at, &all) == 0;
}

/* argv of `chronos run-task --notify-fd 3 <dir>...` for runs[0..n),
 * chr_malloc'd (each string too: free with chr_local_strv_free); NULL when
 * out of memory or a path is too long. */
static char **group_argv(struct chr_local *l, struct chr_local_run *const *runs, size_t n)
{
    char **argv = chr_calloc(n + 5, sizeof *argv);
    if (!argv)
        return NULL;
    const char *fixed[] = {l->bin, "run-task", "--notify-fd", "3"};
    bool ok = true;
    for (size_t i = 0; i < 4 && ok; i++)
        ok = (argv[i] = chr_strndup(fixed[i], strlen(fixed[i]))) != NULL;
    for (size_t i = 0; i < n && ok; i++) {
        size_t len = strlen(l->runs_dir) + strlen(runs[i]->id) + 2;
        ok = len <= PATH_MAX && (argv[4 + i] = chr_malloc(len)) != NULL;
        if (ok)
            snprintf(argv[4 + i], len, "%s/%s", l->runs_dir, runs[i]->id);
    }
    if (!ok) {
        chr_local_strv_free(argv);
        return NULL;
    }
    return argv;
}

/* Hands the notify pipe's read end to the monitor thread. */
static void group_watch(struct chr_local *l, struct chr_local_group *g, int fd, int pidfd)
{
    g->fd = fd;
    g->pidfd = pidfd;
    g->w = (struct chr_local_watch){CHR_LOCAL_W_NOTIFY, NULL, g};
    pthread_mutex_lock(&l->mu);
    g->next = l->new_groups;
    l->new_groups = g;
    pthread_mutex_unlock(&l->mu);
}

/* Starts one supervisor for runs[0..n) (their directories made): its own
 * session, stdio on /dev/null, our descriptors closed, the signals it reads
 * through a signalfd already blocked.  Fills each run's pidfd (one each: a
 * run is watched on its own) and hands the notify pipe to the monitor. */
static enum chr_err spawn_group(struct chr_local *l, struct chr_local_run *const *runs, size_t n)
{
    int p[2];
    char **argv = group_argv(l, runs, n);
    struct chr_local_group *g = chr_calloc(1, sizeof *g);
    if (!argv || !g) {
        chr_local_strv_free(argv);
        chr_free(g);
        return CHR_ENOMEM;
    }
    if (pipe2(p, O_CLOEXEC | O_NONBLOCK) != 0) {
        chr_local_strv_free(argv);
        chr_free(g);
        return CHR_EIO;
    }
    /* Well above 3, so that dup2 onto 3 is never a no-op that keeps CLOEXEC. */
    int w = fcntl(p[1], F_DUPFD_CLOEXEC, 10);
    close(p[1]);
    posix_spawn_file_actions_t fa;
    posix_spawnattr_t at;
    posix_spawn_file_actions_init(&fa);
    posix_spawnattr_init(&at);
    pid_t pid = 0;
    int rc = w >= 0 && spawn_setup(&fa, &at, w) ? posix_spawn(&pid, l->bin, &fa, &at, argv, environ)
                                                : EINVAL;
    posix_spawn_file_actions_destroy(&fa);
    posix_spawnattr_destroy(&at);
    chr_local_strv_free(argv);
    if (w >= 0)
        close(w);
    /* Our unreaped child: its pid cannot be reused before we reap it. */
    int fds[CHR_LOCAL_GROUP_MAX + 1] = {0}; /* one a run, and the group's */
    size_t got = 0;
    while (rc == 0 && got < n + 1 && (fds[got] = chr_local_pidfd_open(pid)) >= 0)
        got++;
    if (got < n + 1) {
        chr_free(g);
        if (rc == 0) { /* unwatchable: it must not run (the caller abandons the runs) */
            kill(pid, SIGKILL);
            waitpid(pid, NULL, 0);
        }
        for (size_t i = 0; i < got; i++)
            close(fds[i]);
        close(p[0]);
        return CHR_EIO;
    }
    fcntl(fds[n], F_SETFD, FD_CLOEXEC);
    group_watch(l, g, p[0], fds[n]);
    pthread_mutex_lock(&l->mu);
    for (size_t i = 0; i < n; i++) {
        struct chr_local_run *r = runs[i];
        fcntl(fds[i], F_SETFD, FD_CLOEXEC);
        r->sup_fd = fds[i];
        r->announce = true;
        r->announce_reattached = false;
        if (r->kill_requested)
            chr_local_send_kill(l, r);
        chr_local_push_pending(l, r);
    }
    pthread_mutex_unlock(&l->mu);
    chr_local_wake(l);
    return CHR_OK;
}

static void flush_group(struct chr_local *l);

void chr_local_flush(struct chr_local *l)
{
    flush_group(l);
    l->batch_cap = CHR_LOCAL_GROUP_FIRST; /* the next step starts small again */
}

static void flush_group(struct chr_local *l)
{
    size_t n = l->n_batch;
    l->n_batch = 0;
    if (n == 0)
        return;
    /* The lease, asked again right before the start: nothing slow between. */
    bool may = l->may_start == NULL || l->may_start(l->may_start_ctx);
    if (may && spawn_group(l, l->batch, n) == CHR_OK)
        return;
    /* Never started: each run's directory is abandoned (a later launch of
     * the id starts afresh), the run is dropped and the core queues it again. */
    for (size_t i = 0; i < n; i++) {
        struct chr_local_run *r = l->batch[i];
        char id[sizeof r->id];
        memcpy(id, r->id, sizeof id);
        bool killed = r->kill_requested;
        chr_local_abandon(l, id);
        release(l, r);
        chr_local_report_unstarted(l, id, killed,
                                   killed ? "killed before start"
                                          : "never started: the supervisor could not be started");
    }
    chr_local_wake(l);
}

/* The run (its directory made) goes to the next supervisor: held for the
 * step's group, or started at once. */
static enum chr_err spawn_supervisor(struct chr_local *l, struct chr_local_run *r,
                                     const struct chr_local_task *t)
{
    if (t->may_start != NULL && !t->may_start(t->may_start_ctx))
        return CHR_EUNAVAIL;
    l->may_start = t->may_start;
    l->may_start_ctx = t->may_start_ctx;
    if (!l->group_launches)
        return spawn_group(l, &r, 1);
    l->batch[l->n_batch++] = r;
    if (l->n_batch >= l->batch_cap) {
        flush_group(l);
        l->batch_cap = l->batch_cap * 2 > CHR_LOCAL_GROUP_MAX ? CHR_LOCAL_GROUP_MAX
                                                               : l->batch_cap * 2;
    }
    return CHR_OK;
}

/* Watches a run whose supervisor lives (a.sup_fd becomes the run's) and
 * reports it as re-attached: RUNNING, or STARTING until its pid record is
 * there and its start has come (the supervisor may hold the task until its
 * not_before_ms).  l->mu held. */
static void watch_alive(struct chr_local *l, struct chr_local_run *r,
                        const struct chr_local_assess *a)
{
    bool started = a->has_pid && chr_local_pidrec_started(&a->pid, chr_clock_wall_ms());
    r->sup_fd = a->sup_fd;
    r->state = started ? CHR_LOCAL_RUNNING : CHR_LOCAL_STARTING;
    r->task_pid = started ? a->pid.pid : 0;
    r->start_ms = started ? a->pid.start_ms : INT64_MIN;
    r->poll_pid = !started;
    r->poll_exit = true; /* no notify pipe: its supervisor may have other runs */
    l->n_polling += r->poll_pid + r->poll_exit;
    r->announce = r->announce_reattached = true;
    chr_local_push_pending(l, r);
}

/* The run's directory exists: a launch before a restart.  Watch it, start it
 * (never started), or report its end; never run it twice. */
static enum chr_err launch_existing(struct chr_local *l, struct chr_local_run *r,
                                    const struct chr_local_task *t, const char *spec, size_t len)
{
    struct chr_local_assess a;
    chr_local_assess(l, r->id, false, &a);
    switch (a.kind) {
    case CHR_LOCAL_D_NONE:
        return make_run_dir(l, r->id, spec, len) == CHR_OK ? spawn_supervisor(l, r, t) : CHR_EIO;
    case CHR_LOCAL_D_UNCLAIMED: /* a supervisor may be on its way: the claim decides */
        return spawn_supervisor(l, r, t);
    case CHR_LOCAL_D_ABANDONED:
        if (chr_local_dir_remove(l->runs_fd, r->id) != CHR_OK ||
            make_run_dir(l, r->id, spec, len) != CHR_OK)
            return CHR_EIO;
        return spawn_supervisor(l, r, t);
    case CHR_LOCAL_D_ALIVE:
        pthread_mutex_lock(&l->mu);
        watch_alive(l, r, &a);
        if (r->kill_requested)
            chr_local_send_kill(l, r);
        pthread_mutex_unlock(&l->mu);
        chr_local_wake(l);
        return CHR_OK;
    case CHR_LOCAL_D_DONE:
    case CHR_LOCAL_D_DEAD:
        /* The task never exec'd (its supervisor said so, or died before
         * recording the pid that comes before any exec): start it afresh. */
        if ((a.kind == CHR_LOCAL_D_DONE && a.exit.state == CHR_LOCAL_DROPPED) ||
            (a.kind == CHR_LOCAL_D_DEAD && !a.has_pid)) {
            if (chr_local_dir_remove(l->runs_fd, r->id) != CHR_OK ||
                make_run_dir(l, r->id, spec, len) != CHR_OK)
                return CHR_EIO;
            return spawn_supervisor(l, r, t);
        }
        /* FALLTHROUGH */
    default: { /* DONE or DEAD: report it, hold nothing */
        char id[sizeof r->id];
        memcpy(id, r->id, sizeof id);
        release(l, r);
        chr_local_report_disk(l, id, &a, true);
        chr_local_wake(l);
        return CHR_OK;
    }
    }
}

/* A run may be launched ahead of its not_before_ms, by a bounded lead. */
static enum chr_err check_lead(const struct chr_local_task *t, struct chr_error *err)
{
    if (t->not_before_ms > chr_clock_wall_ms() + CHR_LOCAL_LEAD_MAX_MS)
        return chr_error_set(err, CHR_EINVAL, "not_before_ms",
                             "more than %d ms ahead of now", CHR_LOCAL_LEAD_MAX_MS);
    return CHR_OK;
}

enum chr_err chr_local_launch(struct chr_local *l, const struct chr_local_task *task,
                              struct chr_error *err)
{
    enum chr_err e = chr_local_task_check(task, err);
    if (e == CHR_OK)
        e = check_lead(task, err);
    char *spec = NULL;
    size_t len = 0;
    if (e == CHR_OK)
        e = chr_local_spec_encode_rt(task, l->host, l->kill_grace_ms, l->runtime, &spec, &len,
                                     err);
    struct chr_local_run *r = NULL;
    if (e == CHR_OK)
        e = reserve(l, task, &r, err);
    if (e != CHR_OK || !r) {
        chr_free(spec);
        return e;
    }
    bool made = false;
    e = make_run_dir(l, r->id, spec, len);
    if (e == CHR_OK) {
        made = true;
        e = spawn_supervisor(l, r, task);
    } else if (e == CHR_ECONFLICT)
        e = launch_existing(l, r, task, spec, len);
    chr_free(spec);
    if (e != CHR_OK) {
        if (made)
            chr_local_dir_remove(l->runs_fd, task->run_id);
        release(l, r);
        if (e == CHR_EUNAVAIL)
            return chr_error_set(err, e, "", "run %s not started: its launcher may launch no more",
                                 task->run_id);
        return chr_error_set(err, e, "", "cannot start the supervisor of run %s (%s)",
                             task->run_id, l->bin);
    }
    return CHR_OK;
}

/* ---- Kill ------------------------------------------------------------------ */

void chr_local_send_kill(struct chr_local *l, struct chr_local_run *r)
{
    if (r->kill_sent || r->sup_fd < 0)
        return;
    r->kill_sent = true;
    /* Not claimed yet: take the claim ourselves and it never starts. */
    if (chr_local_abandon(l, r->id) == CHR_OK)
        return;
    /* Its supervisor may have other runs: the run's "kill" file says which. */
    int fd = openat(l->runs_fd, r->id, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
    if (fd >= 0) {
        chr_local_file_put(fd, CHR_LOCAL_KILL_FILE, "", 0);
        close(fd);
    }
    chr_local_pidfd_signal(r->sup_fd, SIGUSR1);
}

enum chr_err chr_local_kill(struct chr_local *l, const char *run_id)
{
    if (!chr_local_run_id_valid(run_id))
        return CHR_ENOENT;
    pthread_mutex_lock(&l->mu);
    struct chr_local_run *r = chr_local_find(l, run_id);
    if (r) {
        r->kill_requested = true;
        chr_local_send_kill(l, r);
    }
    pthread_mutex_unlock(&l->mu);
    return r ? CHR_OK : CHR_ENOENT;
}

/* ---- Reattach and reconcile ------------------------------------------------ */

/* Tracks a live run found on disk (takes a.sup_fd).  Not when it is tracked
 * meanwhile (its launch reports it) or memory is short (a later reconcile
 * tries again). */
static void adopt(struct chr_local *l, const char *id, struct chr_local_assess *a)
{
    struct chr_local_run *r = run_new(id, &a->res);
    bool ok = false;
    pthread_mutex_lock(&l->mu);
    if (r && !chr_local_find(l, id) && l->runs.len < CHR_LOCAL_RUNS_MAX && table_insert(l, r)) {
        watch_alive(l, r, a);
        ok = true;
    }
    pthread_mutex_unlock(&l->mu);
    if (!ok) {
        chr_free(r);
        close(a->sup_fd);
    }
}

/* Reports run `id` (not tracked) as its directory says; re-attaches it when
 * its supervisor lives.  `unknown_dropped`: no directory means DROPPED. */
static void look_at(struct chr_local *l, const char *id, bool unknown_dropped)
{
    struct chr_local_assess a;
    chr_local_settle(l, id, true, &a);
    if (a.kind == CHR_LOCAL_D_ALIVE)
        adopt(l, id, &a);
    else if (a.kind != CHR_LOCAL_D_NONE || unknown_dropped)
        chr_local_report_disk(l, id, &a, true);
}

static bool tracked_announce(struct chr_local *l, const char *id)
{
    pthread_mutex_lock(&l->mu);
    struct chr_local_run *r = chr_local_find(l, id);
    if (r) {
        r->announce = r->announce_reattached = true;
        chr_local_push_pending(l, r);
    }
    pthread_mutex_unlock(&l->mu);
    return r != NULL;
}

/* ".tmp-<pid>-<n>" of another process: a launch cut short by a crash. */
static bool is_stale_temp(const char *name)
{
    if (strncmp(name, ".tmp-", 5) != 0)
        return false;
    char *end = NULL;
    long pid = strtol(name + 5, &end, 10);
    return end != name + 5 && *end == '-' && pid != (long)getpid();
}

enum chr_err chr_local_reattach(struct chr_local *l, size_t *n)
{
    int fd = openat(l->runs_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
    if (!d) {
        if (fd >= 0)
            close(fd);
        return CHR_EIO;
    }
    size_t count = 0;
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        if (is_stale_temp(de->d_name))
            chr_local_dir_remove(l->runs_fd, de->d_name);
        if (!chr_local_run_id_valid(de->d_name))
            continue; /* ".", "..", ".done", temp dirs */
        count++;
        if (!tracked_announce(l, de->d_name))
            look_at(l, de->d_name, false);
    }
    closedir(d);
    chr_local_wake(l);
    if (n)
        *n = count;
    return CHR_OK;
}

enum chr_err chr_local_reconcile(struct chr_local *l, const char *run_id)
{
    if (!chr_local_run_id_valid(run_id))
        return CHR_EINVAL;
    if (!tracked_announce(l, run_id))
        look_at(l, run_id, true);
    chr_local_wake(l);
    return CHR_OK;
}
