/*
 * local_watch.c - the monitor thread of the local resource manager, and
 * reading a run's state off its directory.
 *
 * The monitor waits (epoll) on each supervisor's pidfd and on its notify pipe
 * ("R <pid> <start_ms>" once the task exec'd), and reports every event: a
 * run's STARTING/RUNNING when it is launched or re-attached, RUNNING when the
 * task exec'd, and its end when its supervisor exits - read from the exit
 * record, never guessed from the supervisor's status.  A supervisor that
 * dies without a record leaves a LOST run, and what is left of its task's
 * process group is killed, so a retry never overlaps the lost run.
 *
 * It holds the lock only to touch the table, never while it reports.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/alloc.h"
#include "common/clock.h"
#include "common/limits.h"
#include "offers/local_int.h"

void chr_local_wake(struct chr_local *l)
{
    uint64_t one = 1;
    ssize_t w = write(l->wake_fd, &one, sizeof one);
    (void)w; /* EAGAIN: a wake-up is pending anyway */
}

/* ---- A run's directory ------------------------------------------------------ */

static void assess_claimed(int fd, struct chr_local_assess *out)
{
    out->has_pid = chr_local_pidrec_read(fd, &out->pid) == CHR_OK;
    out->sup_fd = chr_local_proc_watch(out->claim.pid, out->claim.ticks, out->claim.boot_id);
    if (out->sup_fd >= 0) {
        out->kind = CHR_LOCAL_D_ALIVE;
        return;
    }
    /* It may have recorded its outcome and exited since we looked. */
    out->kind = chr_local_exitrec_read(fd, &out->exit) == CHR_OK ? CHR_LOCAL_D_DONE
                                                                 : CHR_LOCAL_D_DEAD;
}

void chr_local_assess(struct chr_local *l, const char *id, bool with_res,
                      struct chr_local_assess *out)
{
    memset(out, 0, sizeof *out);
    out->sup_fd = -1;
    out->kind = CHR_LOCAL_D_NONE;
    int fd = openat(l->runs_fd, id, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0)
        return;
    struct chr_local_spec spec;
    if (with_res && chr_local_spec_read(fd, &spec) == CHR_OK) {
        out->res = spec.res;
        chr_local_spec_free(&spec);
    }
    bool done = chr_local_exitrec_read(fd, &out->exit) == CHR_OK;
    enum chr_err e = chr_local_claim_read(fd, &out->claim);
    if (done) {
        out->kind = CHR_LOCAL_D_DONE;
        out->has_pid = chr_local_pidrec_read(fd, &out->pid) == CHR_OK;
    } else if (e == CHR_ENOENT)
        out->kind = CHR_LOCAL_D_UNCLAIMED;
    else if (e == CHR_OK && out->claim.abandoned)
        out->kind = CHR_LOCAL_D_ABANDONED;
    else if (e == CHR_OK)
        assess_claimed(fd, out);
    else
        out->kind = CHR_LOCAL_D_DEAD; /* an unreadable claim: someone claimed it */
    close(fd);
}

void chr_local_settle(struct chr_local *l, const char *id, bool with_res,
                      struct chr_local_assess *out)
{
    chr_local_assess(l, id, with_res, out);
    /* A supervisor claimed it just now: look again. */
    if (out->kind == CHR_LOCAL_D_UNCLAIMED && chr_local_abandon(l, id) == CHR_ECONFLICT)
        chr_local_assess(l, id, with_res, out);
}

enum chr_err chr_local_abandon(struct chr_local *l, const char *id)
{
    int fd = openat(l->runs_fd, id, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0)
        return errno == ENOENT ? CHR_ENOENT : CHR_EIO;
    struct chr_local_claim c = {.abandoned = true};
    char line[64];
    chr_local_claim_format(&c, line, sizeof line);
    enum chr_err e = chr_local_file_create(fd, CHR_LOCAL_CLAIM_FILE, line);
    close(fd);
    return e;
}

/* The event a run's directory calls for once its supervisor is gone.
 * `sup_status`: our supervisor's exit status, -1 when unknown. */
static void disk_event(const struct chr_local_assess *a, bool tracked, bool kill_requested,
                       int sup_status, struct chr_local_event *ev, char *reason, size_t cap)
{
    ev->pid = a->has_pid ? a->pid.pid : 0;
    ev->start_ms = a->has_pid ? a->pid.start_ms : INT64_MIN;
    ev->end_ms = INT64_MIN;
    ev->exit_code = -1;
    ev->reason = reason;
    char boot[CHR_LOCAL_BOOT_ID_LEN + 1] = "";
    switch (a->kind) {
    case CHR_LOCAL_D_DONE:
        ev->state = a->exit.state;
        ev->pid = a->exit.pid;
        ev->start_ms = a->exit.start_ms;
        ev->end_ms = a->exit.end_ms;
        ev->exit_code = a->exit.exit_code;
        ev->signal = a->exit.signal;
        ev->stdout_truncated = a->exit.stdout_truncated;
        ev->stderr_truncated = a->exit.stderr_truncated;
        snprintf(reason, cap, "%s", a->exit.reason);
        break;
    case CHR_LOCAL_D_DEAD:
        if (!a->has_pid) { /* the pid is recorded before the task may exec */
            ev->state = CHR_LOCAL_DROPPED;
            snprintf(reason, cap, "never started: the supervisor died before it started the task");
            break;
        }
        ev->state = CHR_LOCAL_LOST;
        chr_local_boot_id(boot);
        snprintf(reason, cap, "%s",
                 a->claim.pid > 0 && strcmp(boot, a->claim.boot_id) != 0
                     ? "the host restarted during the run"
                     : "the supervisor died without recording an outcome");
        break;
    case CHR_LOCAL_D_UNCLAIMED:
    case CHR_LOCAL_D_ABANDONED:
        /* Unclaimed, so the task never ran and never will under that
         * supervisor: dropped, and the core queues it again (with a growing
         * pause).  A supervisor that exits before its claim could not write
         * it - a full disk, say - which is not the task's failure. */
        ev->state = kill_requested ? CHR_LOCAL_KILLED : CHR_LOCAL_DROPPED;
        if (!kill_requested && sup_status >= 0 && a->kind == CHR_LOCAL_D_UNCLAIMED)
            snprintf(reason, cap,
                     "never started: the supervisor exited with status %d before it claimed the "
                     "run", sup_status);
        else
            snprintf(reason, cap, "%s", kill_requested ? "killed before start" : "never started");
        break;
    default: /* NONE; ALIVE is never asked */
        ev->state = tracked ? CHR_LOCAL_LOST : CHR_LOCAL_DROPPED;
        snprintf(reason, cap, "%s", tracked ? "the run's directory disappeared" : "unknown run");
        break;
    }
}

/* Cleans up after a supervisor gone without us: reaps it if it is our
 * zombie; kills what is left of a dead run's process group. */
static void disk_cleanup(const struct chr_local_assess *a)
{
    bool claimed = !a->claim.abandoned && a->claim.pid > 0;
    if (claimed && (a->kind == CHR_LOCAL_D_DONE || a->kind == CHR_LOCAL_D_DEAD))
        chr_local_reap(a->claim.pid, a->claim.ticks, a->claim.boot_id);
    if (a->kind == CHR_LOCAL_D_DEAD && a->has_pid)
        chr_local_kill_orphans(a->pid.pid, a->pid.ticks, a->pid.boot_id);
}

void chr_local_report_disk(struct chr_local *l, const char *id, struct chr_local_assess *a,
                           bool reattached)
{
    disk_cleanup(a);
    if (a->kind == CHR_LOCAL_D_DEAD) { /* what escaped the group is in the run's cgroup */
        int fd = openat(l->runs_fd, id, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
        if (fd >= 0) {
            chr_local_cg_cleanup(fd);
            close(fd);
        }
    }
    struct chr_local_qev *q = chr_calloc(1, sizeof *q);
    if (!q)
        return; /* the next reattach or reconcile reports it */
    snprintf(q->id, sizeof q->id, "%s", id);
    disk_event(a, false, false, -1, &q->ev, q->reason, sizeof q->reason);
    q->ev.run_id = q->id;
    q->ev.reason = q->reason;
    q->ev.reattached = reattached;
    pthread_mutex_lock(&l->mu);
    *l->queue_tail = q;
    l->queue_tail = &q->next;
    pthread_mutex_unlock(&l->mu);
}

void chr_local_report_unstarted(struct chr_local *l, const char *id, bool killed,
                                const char *reason)
{
    struct chr_local_qev *q = chr_calloc(1, sizeof *q);
    if (!q)
        return; /* the next reattach or reconcile reports it */
    snprintf(q->id, sizeof q->id, "%s", id);
    snprintf(q->reason, sizeof q->reason, "%s", reason);
    q->ev = (struct chr_local_event){
        .state = killed ? CHR_LOCAL_KILLED : CHR_LOCAL_DROPPED, .run_id = q->id,
        .start_ms = INT64_MIN, .end_ms = INT64_MIN, .exit_code = -1, .reason = q->reason,
    };
    pthread_mutex_lock(&l->mu);
    *l->queue_tail = q;
    l->queue_tail = &q->next;
    pthread_mutex_unlock(&l->mu);
}

/* ---- The monitor ---------------------------------------------------------- */

static void emit(struct chr_local *l, struct chr_local_event *ev)
{
    l->on_event(l->ctx, ev);
}

static void emit_state(struct chr_local *l, const struct chr_local_run *r,
                       enum chr_local_state state, bool reattached)
{
    struct chr_local_event ev = {
        .state = state, .run_id = r->id, .pid = r->task_pid, .start_ms = r->start_ms,
        .end_ms = INT64_MIN, .exit_code = -1, .reason = "", .reattached = reattached,
    };
    emit(l, &ev);
}

static void watch_add(struct chr_local *l, int fd, struct chr_local_watch *w)
{
    struct epoll_event ev = {.events = EPOLLIN, .data.ptr = w};
    epoll_ctl(l->epfd, EPOLL_CTL_ADD, fd, &ev);
}

static void watch_close(struct chr_local *l, int *fd)
{
    if (*fd < 0)
        return;
    epoll_ctl(l->epfd, EPOLL_CTL_DEL, *fd, NULL);
    pthread_mutex_lock(&l->mu);
    close(*fd);
    *fd = -1;
    pthread_mutex_unlock(&l->mu);
}

/* The task exec'd (pid record or "R" line): RUNNING, once. */
static void set_running(struct chr_local *l, struct chr_local_run *r, pid_t pid, int64_t start)
{
    pthread_mutex_lock(&l->mu);
    bool first = r->state != CHR_LOCAL_RUNNING;
    r->state = CHR_LOCAL_RUNNING;
    r->task_pid = pid;
    r->start_ms = start;
    if (r->poll_pid) {
        r->poll_pid = false;
        l->n_polling--;
    }
    pthread_mutex_unlock(&l->mu);
    if (first)
        emit_state(l, r, CHR_LOCAL_RUNNING, false);
}

static void on_supervisor_exit(struct chr_local *l, struct chr_local_run *r,
                               struct chr_local_run **dead);

/* One line of a supervisor: "R <pid> <start_ms> <id>" (the task exec'd) or
 * "E <id>" (the run's outcome is durable, or the run is not that
 * supervisor's: look at its directory).  Lines about runs no longer tracked
 * are ignored. */
static void notify_line(struct chr_local *l, char *line, struct chr_local_run **dead)
{
    long pid = 0;
    long long start = 0;
    char id[CHR_LOCAL_RUN_ID_MAX + 1];
    bool running = sscanf(line, "R %ld %lld %255s", &pid, &start, id) == 3 && pid > 0;
    bool ended = !running && sscanf(line, "E %255s", id) == 1;
    if (!running && !ended)
        return;
    pthread_mutex_lock(&l->mu);
    struct chr_local_run *r = chr_local_find(l, id);
    bool live = r != NULL && !r->dead && r->sup_fd >= 0;
    pthread_mutex_unlock(&l->mu);
    if (!live) /* only this thread frees runs and closes sup_fd */
        return;
    if (running)
        set_running(l, r, (pid_t)pid, start);
    else
        on_supervisor_exit(l, r, dead);
}

/* The pipe ended: the supervisor is exiting (or died).  Its runs may all be
 * over already (each told by an "E" line, their pidfds closed): the group
 * reaps it, once it has exited, so that no zombie is left. */
static void group_close(struct chr_local *l, struct chr_local_group *g)
{
    if (g->fd >= 0) {
        epoll_ctl(l->epfd, EPOLL_CTL_DEL, g->fd, NULL);
        close(g->fd);
        g->fd = -1;
    }
    if (!g->reaping && g->pidfd >= 0) {
        /* Readable once it has exited: reaped after its runs' own pidfds
         * are looked at (they read its exit status). */
        g->reaping = g->fresh = true;
        watch_add(l, g->pidfd, &g->w);
        return;
    }
    siginfo_t si;
    memset(&si, 0, sizeof si);
    if (g->pidfd >= 0 &&
        waitid((idtype_t)P_PIDFD, (id_t)g->pidfd, &si, WEXITED | WNOHANG) == 0 && si.si_pid == 0)
        return; /* not yet exited: readable again when it has */
    if (g->pidfd >= 0) {
        epoll_ctl(l->epfd, EPOLL_CTL_DEL, g->pidfd, NULL);
        close(g->pidfd);
    }
    struct chr_local_group **p = &l->groups;
    while (*p != g)
        p = &(*p)->next;
    *p = g->next;
    chr_free(g);
}

static void on_notify(struct chr_local *l, struct chr_local_group *g, struct chr_local_run **dead)
{
    for (;;) {
        ssize_t n = read(g->fd, g->buf + g->len, sizeof g->buf - 1 - g->len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return; /* EAGAIN */
        if (n == 0) {
            group_close(l, g);
            return;
        }
        g->len += (size_t)n;
        g->buf[g->len] = '\0';
        char *p = g->buf, *nl;
        while ((nl = strchr(p, '\n')) != NULL) {
            *nl = '\0';
            notify_line(l, p, dead);
            p = nl + 1;
        }
        g->len -= (size_t)(p - g->buf);
        memmove(g->buf, p, g->len);
        if (g->len == sizeof g->buf - 1)
            g->len = 0; /* no line is this long: drop it */
    }
}

/* Reports the run's end and drops it from the table (its resources free). */
static void finish(struct chr_local *l, struct chr_local_run *r, struct chr_local_event *ev,
                   struct chr_local_run **dead)
{
    watch_close(l, &r->sup_fd);
    pthread_mutex_lock(&l->mu);
    chr_local_unlink_run(l, r);
    if (r->pending) { /* announced by a reconcile meanwhile: too late */
        struct chr_local_run **p = &l->pending;
        while (*p != r)
            p = &(*p)->pending_next;
        *p = r->pending_next;
        r->pending = false;
    }
    if (r->poll_pid) {
        r->poll_pid = false;
        l->n_polling--;
    }
    if (r->poll_exit) {
        r->poll_exit = false;
        l->n_polling--;
    }
    r->dead = true;
    r->dead_next = *dead;
    *dead = r;
    pthread_mutex_unlock(&l->mu);
    ev->run_id = r->id;
    emit(l, ev);
}

/* Another supervisor holds the claim (ours lost the race, or we watched the
 * wrong one): watch that one instead. */
static void switch_supervisor(struct chr_local *l, struct chr_local_run *r,
                              struct chr_local_assess *a)
{
    pthread_mutex_lock(&l->mu);
    r->sup_fd = a->sup_fd;
    r->kill_sent = false;
    if (r->kill_requested)
        chr_local_send_kill(l, r);
    bool started = a->has_pid && chr_local_pidrec_started(&a->pid, chr_clock_wall_ms());
    if (!started && r->state != CHR_LOCAL_RUNNING && !r->poll_pid) {
        r->poll_pid = true; /* that supervisor has no notify pipe to us */
        l->n_polling++;
    }
    if (!r->poll_exit) { /* nor tells us of the run's end while it has others */
        r->poll_exit = true;
        l->n_polling++;
    }
    pthread_mutex_unlock(&l->mu);
    watch_add(l, r->sup_fd, &r->w_sup);
    if (started)
        set_running(l, r, a->pid.pid, a->pid.start_ms);
}

static void on_supervisor_exit(struct chr_local *l, struct chr_local_run *r,
                               struct chr_local_run **dead)
{
    siginfo_t si;
    memset(&si, 0, sizeof si);
    int status = -1;
    if (waitid((idtype_t)P_PIDFD, (id_t)r->sup_fd, &si, WEXITED | WNOHANG) == 0 && si.si_pid)
        status = si.si_code == CLD_EXITED ? si.si_status : 128 + si.si_status;
    watch_close(l, &r->sup_fd);
    struct chr_local_assess a;
    /* Unclaimed: ours died before claiming (and the run is abandoned now). */
    chr_local_settle(l, r->id, false, &a);
    if (a.kind == CHR_LOCAL_D_ALIVE) {
        switch_supervisor(l, r, &a);
        return;
    }
    disk_cleanup(&a);
    char reason[256];
    struct chr_local_event ev = {0};
    disk_event(&a, true, r->kill_requested, status, &ev, reason, sizeof reason);
    finish(l, r, &ev, dead);
}

/* Runs re-attached before their task was let exec (no pid record yet, or
 * its start still ahead): look again.  And runs with no notify pipe (their
 * supervisor, alive, may have other runs): look for their exit record,
 * CHR_LOCAL_EXIT_POLL_MAX of them every CHR_LOCAL_EXIT_POLL_MS. */
static void poll_pids(struct chr_local *l, struct chr_local_run **dead)
{
    struct chr_local_run *found[64], *ended[CHR_LOCAL_EXIT_POLL_MAX];
    size_t n = 0, n_ended = 0;
    int64_t now = chr_clock_mono_ms();
    bool exits = now - l->exit_poll_mono >= CHR_LOCAL_EXIT_POLL_MS;
    pthread_mutex_lock(&l->mu);
    size_t pos = 0;
    uint64_t v;
    while (n < 64 && chr_strmap_next(&l->runs, &pos, NULL, &v)) {
        struct chr_local_run *r = (struct chr_local_run *)(uintptr_t)v;
        if (r->poll_pid)
            found[n++] = r;
    }
    if (exits) {
        l->exit_poll_mono = now;
        pos = l->exit_poll_pos;
        size_t seen = 0;
        while (n_ended < CHR_LOCAL_EXIT_POLL_MAX && seen++ < l->runs.len + 1) {
            if (!chr_strmap_next(&l->runs, &pos, NULL, &v)) {
                pos = 0;
                continue;
            }
            struct chr_local_run *r = (struct chr_local_run *)(uintptr_t)v;
            if (r->poll_exit && r->sup_fd >= 0)
                ended[n_ended++] = r;
        }
        l->exit_poll_pos = pos;
    }
    pthread_mutex_unlock(&l->mu);
    /* Only this thread frees runs: the pointers stay valid. */
    for (size_t i = 0; i < n; i++) {
        int fd = openat(l->runs_fd, found[i]->id, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        struct chr_local_pidrec p;
        if (fd >= 0 && chr_local_pidrec_read(fd, &p) == CHR_OK &&
            chr_local_pidrec_started(&p, chr_clock_wall_ms()))
            set_running(l, found[i], p.pid, p.start_ms);
        if (fd >= 0)
            close(fd);
    }
    for (size_t i = 0; i < n_ended; i++) {
        struct chr_local_run *r = ended[i];
        int fd = openat(l->runs_fd, r->id, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        bool done = fd >= 0 && faccessat(fd, CHR_LOCAL_EXIT_FILE, F_OK, 0) == 0;
        if (fd >= 0)
            close(fd);
        if (done && !r->dead && r->sup_fd >= 0)
            on_supervisor_exit(l, r, dead);
    }
}

/* Registers new runs (and supervisors' notify pipes) and reports the
 * states asked for. */
static void take_pending(struct chr_local *l)
{
    pthread_mutex_lock(&l->mu);
    struct chr_local_group *g = l->new_groups;
    l->new_groups = NULL;
    pthread_mutex_unlock(&l->mu);
    while (g) {
        struct chr_local_group *next = g->next;
        g->next = l->groups;
        l->groups = g;
        watch_add(l, g->fd, &g->w);
        g = next;
    }
    for (;;) {
        pthread_mutex_lock(&l->mu);
        struct chr_local_run *r = l->pending;
        if (r) {
            l->pending = r->pending_next;
            r->pending = false;
        }
        bool announce = r && r->announce, reattached = r && r->announce_reattached;
        if (r)
            r->announce = false;
        bool add = r && !r->in_epoll && r->sup_fd >= 0;
        if (add)
            r->in_epoll = true;
        pthread_mutex_unlock(&l->mu);
        if (!r)
            return;
        if (add)
            watch_add(l, r->sup_fd, &r->w_sup);
        if (announce)
            emit_state(l, r, r->state, reattached);
    }
}

static void take_queue(struct chr_local *l)
{
    pthread_mutex_lock(&l->mu);
    struct chr_local_qev *q = l->queue;
    l->queue = NULL;
    l->queue_tail = &l->queue;
    pthread_mutex_unlock(&l->mu);
    while (q) {
        struct chr_local_qev *next = q->next;
        emit(l, &q->ev);
        chr_free(q);
        q = next;
    }
}

static void drain_wake(struct chr_local *l)
{
    uint64_t v;
    ssize_t r = read(l->wake_fd, &v, sizeof v);
    (void)r; /* EAGAIN: read already */
}

static void on_ready(struct chr_local *l, struct chr_local_watch *w, struct chr_local_run **dead)
{
    if (w->kind == CHR_LOCAL_W_SUP && !w->run->dead && w->run->sup_fd >= 0)
        on_supervisor_exit(l, w->run, dead);
}

void *chr_local_monitor_main(void *arg)
{
    struct chr_local *l = arg;
    struct epoll_event evs[64];
    for (;;) {
        pthread_mutex_lock(&l->mu);
        bool stop = l->stop, polling = l->n_polling > 0;
        pthread_mutex_unlock(&l->mu);
        int timeout = polling ? CHR_LOCAL_STARTING_POLL_MS : -1;
        if (stop)
            break;
        int n = epoll_wait(l->epfd, evs, 64, timeout);
        struct chr_local_run *dead = NULL;
        /* The wake-up first, the work it announces after: a wake-up written
         * while we take the work (an event handler that launches, say) stays
         * for the next epoll_wait instead of being read unseen. */
        for (int i = 0; i < n; i++)
            if (((struct chr_local_watch *)evs[i].data.ptr)->kind == CHR_LOCAL_W_WAKE)
                drain_wake(l);
        take_pending(l);
        take_queue(l);
        /* The notify pipes first: a supervisor writes its last lines before
         * it exits, so a run is RUNNING before it ends.  A group's watch is
         * freed at the pipe's end: none is met twice in one batch. */
        for (int i = 0; i < n; i++) {
            struct chr_local_watch *w = evs[i].data.ptr;
            if (w->kind == CHR_LOCAL_W_NOTIFY && w->group->fd >= 0)
                on_notify(l, w->group, &dead);
        }
        for (int i = 0; i < n; i++)
            on_ready(l, evs[i].data.ptr, &dead);
        /* Supervisors that exited, once their runs have read their status.
         * A group whose pipe ended in this batch is only now watched by its
         * pidfd: it is not in this batch's events. */
        for (int i = 0; i < n; i++) {
            struct chr_local_watch *w = evs[i].data.ptr;
            if (w->kind != CHR_LOCAL_W_NOTIFY || w->group->fd >= 0)
                continue;
            if (w->group->fresh) /* watched from this batch on: next time */
                w->group->fresh = false;
            else
                group_close(l, w->group);
        }
        if (polling)
            poll_pids(l, &dead);
        while (dead) {
            struct chr_local_run *next = dead->dead_next;
            chr_free(dead);
            dead = next;
        }
    }
    return NULL;
}
