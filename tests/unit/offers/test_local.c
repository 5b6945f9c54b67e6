/*
 * test_local.c - the local resource manager with real processes: launch,
 * output, environment, exit codes, exec failures, kills of whole process
 * groups, maxCompletionTime, output caps, idempotent launches, re-attach
 * after the "server" (an instance here) is destroyed and made again,
 * supervisors that die, runAsUser, resources and collect.
 *
 * The supervisor is `chronos run-task`: the binary named by $CHRONOS_BIN, or
 * else this test binary itself, whose main() answers `run-task` exactly as
 * the chronos binary does (both call chr_local_run_task).  Every test runs in
 * its own directory under /tmp; waits poll a condition against a deadline;
 * the teardown kills every process a test started, also when it failed.
 */
#include "../unit.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stdbool.h>
#include <stdlib.h>
#include <sys/statvfs.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "common/alloc.h"
#include "common/clock.h"
#include "common/limits.h"
#include "offers/local.h"
#include "offers/local_int.h"

extern char **environ;

/* The supervisor binary, and this test binary; set once in main. */
static char supervisor_bin[4096], self_bin[4096];

#define WAIT_MS 15000 /* generous: sanitizer builds on a busy 2-core VM */

/* ---- Events ------------------------------------------------------------- */

struct rec {
    enum chr_local_state state;
    char id[CHR_LOCAL_RUN_ID_MAX + 1];
    int pid;
    int64_t start_ms, end_ms;
    int exit_code, signal;
    bool out_trunc, err_trunc, reattached;
    char reason[256];
};

#define RECS_MAX 256

struct fixture {
    char dir[64], runs[96];
    struct chr_local *l;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    struct rec recs[RECS_MAX];
    size_t n;
    /* When set: the event handler launches this task on the DROPPED event
     * of run `chain_after` (as a scheduler that reacts at once would). */
    const char *chain_after;
    struct chr_local_task chain;
};

static void on_event(void *ctx, const struct chr_local_event *ev)
{
    struct fixture *f = ctx;
    pthread_mutex_lock(&f->mu);
    if (f->n < RECS_MAX) {
        struct rec *r = &f->recs[f->n++];
        r->state = ev->state;
        snprintf(r->id, sizeof r->id, "%s", ev->run_id);
        r->pid = ev->pid;
        r->start_ms = ev->start_ms;
        r->end_ms = ev->end_ms;
        r->exit_code = ev->exit_code;
        r->signal = ev->signal;
        r->out_trunc = ev->stdout_truncated;
        r->err_trunc = ev->stderr_truncated;
        r->reattached = ev->reattached;
        snprintf(r->reason, sizeof r->reason, "%s", ev->reason);
    }
    bool chain = f->chain_after != NULL && ev->state == CHR_LOCAL_DROPPED &&
                 strcmp(ev->run_id, f->chain_after) == 0;
    pthread_cond_broadcast(&f->cv);
    pthread_mutex_unlock(&f->mu);
    if (chain) {
        struct chr_error err;
        memset(&err, 0, sizeof err);
        if (chr_local_launch(f->l, &f->chain, &err) != CHR_OK)
            fprintf(stderr, "chained launch %s: %s\n", f->chain.run_id, err.message);
    }
}

static const struct rec *find_rec(struct fixture *f, const char *id, enum chr_local_state st)
{
    for (size_t i = 0; i < f->n; i++)
        if (strcmp(f->recs[i].id, id) == 0 && (st == 0 || f->recs[i].state == st))
            return &f->recs[i];
    return NULL;
}

/* Waits for an event of run `id` in state `st` (0: a terminal one). */
static struct rec wait_event(struct fixture *f, const char *id, enum chr_local_state st)
{
    int64_t deadline = test_mono_ms() + WAIT_MS;
    struct rec out;
    pthread_mutex_lock(&f->mu);
    for (;;) {
        const struct rec *r = NULL;
        for (size_t i = 0; i < f->n && !r; i++)
            if (strcmp(f->recs[i].id, id) == 0 &&
                (st ? f->recs[i].state == st : chr_local_state_terminal(f->recs[i].state)))
                r = &f->recs[i];
        if (r) {
            out = *r;
            break;
        }
        if (test_mono_ms() >= deadline) {
            pthread_mutex_unlock(&f->mu);
            fail_msg("no %s event for run %s within %d ms", st ? chr_local_state_name(st)
                     : "terminal", id, WAIT_MS);
        }
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_nsec += 20 * 1000000;
        if (ts.tv_nsec >= 1000000000) {
            ts.tv_sec++;
            ts.tv_nsec -= 1000000000;
        }
        pthread_cond_timedwait(&f->cv, &f->mu, &ts);
    }
    pthread_mutex_unlock(&f->mu);
    return out;
}

static size_t count_events(struct fixture *f, const char *id)
{
    pthread_mutex_lock(&f->mu);
    size_t n = 0;
    for (size_t i = 0; i < f->n; i++)
        n += strcmp(f->recs[i].id, id) == 0;
    pthread_mutex_unlock(&f->mu);
    return n;
}

/* ---- Files -------------------------------------------------------------- */

static char *slurp(const char *path, size_t *len)
{
    char *text = NULL;
    return chr_local_file_read(AT_FDCWD, path, 64 * 1024 * 1024, &text, len) == CHR_OK ? text
                                                                                    : NULL;
}

static char *run_file(struct fixture *f, const char *id, const char *name, size_t *len)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s/%s", f->runs, id, name);
    return slurp(path, len);
}

static bool exists(const char *path)
{
    return access(path, F_OK) == 0;
}

static void wait_file(const char *path)
{
    int64_t deadline = test_mono_ms() + WAIT_MS;
    while (!exists(path)) {
        if (test_mono_ms() >= deadline)
            fail_msg("%s did not appear within %d ms", path, WAIT_MS);
        usleep(5000);
    }
}

/* Waits until run `id` has a complete exit record (written in place: a
 * reader may see it empty for a moment). */
static void wait_exit_record(struct fixture *f, const char *id)
{
    char dir[256];
    snprintf(dir, sizeof dir, "%s/%s", f->runs, id);
    int fd = open(dir, O_RDONLY | O_DIRECTORY);
    assert_true(fd >= 0);
    int64_t deadline = test_mono_ms() + WAIT_MS;
    struct chr_local_exitrec e;
    while (chr_local_exitrec_read(fd, &e) != CHR_OK) {
        if (test_mono_ms() >= deadline)
            fail_msg("run %s recorded no outcome within %d ms", id, WAIT_MS);
        usleep(2000);
    }
    close(fd);
}

static void touch(const char *path)
{
    int fd = open(path, O_WRONLY | O_CREAT, 0644);
    assert_true(fd >= 0);
    close(fd);
}

static int count_lines(const char *path)
{
    size_t len = 0;
    char *text = slurp(path, &len);
    int n = 0;
    for (size_t i = 0; text && i < len; i++)
        n += text[i] == '\n';
    chr_free(text);
    return n;
}

/* ---- The fixture ---------------------------------------------------------- */

static void make_instance_grouped(struct fixture *f, bool grouped)
{
    struct chr_local_config cfg = {
        .group_launches = grouped,
        .runs_dir = f->runs,
        .chronos_bin = supervisor_bin,
        .hostname = "testhost",
        .total = {4, 4096, 4096},
        .kill_grace_ms = 300,
        .keep_done_per_job = 2,
        .on_event = on_event,
        .ctx = f,
    };
    struct chr_error err;
    memset(&err, 0, sizeof err);
    enum chr_err e = chr_local_create(&cfg, &f->l, &err);
    if (e != CHR_OK)
        fail_msg("chr_local_create: %s", err.message);
}

static void make_instance(struct fixture *f)
{
    make_instance_grouped(f, false);
}

static int setup(void **state)
{
    struct fixture *f = chr_calloc(1, sizeof *f);
    if (!f)
        return -1;
    snprintf(f->dir, sizeof f->dir, "/tmp/chr-local-XXXXXX");
    if (!mkdtemp(f->dir))
        return -1;
    snprintf(f->runs, sizeof f->runs, "%s/runs", f->dir);
    pthread_mutex_init(&f->mu, NULL);
    pthread_cond_init(&f->cv, NULL);
    make_instance(f);
    *state = f;
    return 0;
}

/* Kills the supervisor and the task group of every run under dir. */
static void kill_runs_in(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d)
        return;
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        if (!chr_local_run_id_valid(de->d_name))
            continue;
        char path[512];
        snprintf(path, sizeof path, "%s/%s", dir, de->d_name);
        int fd = open(path, O_RDONLY | O_DIRECTORY);
        if (fd < 0)
            continue;
        struct chr_local_claim c;
        struct chr_local_pidrec p;
        if (chr_local_claim_read(fd, &c) == CHR_OK && !c.abandoned) {
            int pfd = chr_local_proc_watch(c.pid, c.ticks, c.boot_id);
            if (pfd >= 0) {
                chr_local_pidfd_signal(pfd, SIGKILL);
                close(pfd);
            }
        }
        if (chr_local_pidrec_read(fd, &p) == CHR_OK)
            chr_local_kill_orphans(p.pid, p.ticks, p.boot_id);
        close(fd);
    }
    closedir(d);
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    chr_local_destroy(f->l);
    kill_runs_in(f->runs);
    /* Reap our supervisors (children of this process). */
    int64_t deadline = test_mono_ms() + 2000;
    while (waitpid(-1, NULL, WNOHANG) >= 0 && test_mono_ms() < deadline)
        usleep(2000);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", f->dir);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", f->dir);
    pthread_mutex_destroy(&f->mu);
    pthread_cond_destroy(&f->cv);
    chr_free(f);
    return 0;
}

static struct chr_local_task shell_task(const char *id, const char *cmd)
{
    return (struct chr_local_task){
        .run_id = id, .job_name = "job1", .owner = "me@example.com", .command = cmd,
        .shell = true, .res = {0.5, 128, 256}, .due_ms = 1700000000000, .attempt = 0,
    };
}

static void launch_ok(struct fixture *f, const struct chr_local_task *t)
{
    struct chr_error err;
    memset(&err, 0, sizeof err);
    enum chr_err e = chr_local_launch(f->l, t, &err);
    if (e != CHR_OK)
        fail_msg("launch %s: %s (%s)", t->run_id, chr_err_name(e), err.message);
}

/* ---- Tests: running --------------------------------------------------- */

static void test_echo_shell(void **state)
{
    struct fixture *f = *state;
    struct chr_local_task t = shell_task("r1", "echo hello; echo oops >&2");
    launch_ok(f, &t);
    struct rec fin = wait_event(f, "r1", 0);
    assert_int_equal(fin.state, CHR_LOCAL_FINISHED);
    assert_int_equal(fin.exit_code, 0);
    assert_string_equal(fin.reason, "");
    assert_false(fin.reattached);
    assert_true(fin.pid > 0);
    assert_true(fin.end_ms >= fin.start_ms);
    /* STARTING, RUNNING, FINISHED: in that order, once each. */
    pthread_mutex_lock(&f->mu);
    const struct rec *s = find_rec(f, "r1", CHR_LOCAL_STARTING);
    const struct rec *r = find_rec(f, "r1", CHR_LOCAL_RUNNING);
    assert_non_null(s);
    assert_non_null(r);
    assert_true(s < r);
    assert_int_equal(r->pid, fin.pid);
    pthread_mutex_unlock(&f->mu);
    assert_int_equal(count_events(f, "r1"), 3);
    size_t len = 0;
    char *out = run_file(f, "r1", "stdout", &len);
    assert_non_null(out);
    assert_string_equal(out, "hello\n");
    chr_free(out);
    char *err = run_file(f, "r1", "stderr", &len);
    assert_string_equal(err, "oops\n");
    chr_free(err);
    /* Its resources are free again. */
    struct chr_local_offer o;
    chr_local_offer(f->l, &o);
    assert_string_equal(o.host, "testhost");
    assert_true(o.free.cpus == 4 && o.free.mem_mb == 4096 && o.free.disk_mb == 4096);
}

static void test_no_shell_arguments(void **state)
{
    struct fixture *f = *state;
    char *const args[] = {"%s|%s|%s\n", "a b", "$HOME", "*"};
    struct chr_local_task t = shell_task("r2", "printf");
    t.shell = false;
    t.arguments = args;
    t.n_arguments = 4;
    launch_ok(f, &t);
    struct rec fin = wait_event(f, "r2", 0);
    assert_int_equal(fin.state, CHR_LOCAL_FINISHED);
    char *out = run_file(f, "r2", "stdout", NULL);
    assert_string_equal(out, "a b|$HOME|*\n"); /* no shell: nothing expanded */
    chr_free(out);
}

static bool has_line(const char *text, const char *line)
{
    size_t n = strlen(line);
    for (const char *p = text; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL)
        if (strncmp(p, line, n) == 0 && (p[n] == '\n' || p[n] == '\0'))
            return true;
    return false;
}

static void test_environment(void **state)
{
    struct fixture *f = *state;
    const struct chr_env_var env[] = {
        {"FOO", "bar baz"}, {"CHRONOS_JOB_NAME", "impostor"}, {"HOST", "elsewhere"},
        {"PATH", "/usr/bin:/bin:/opt/x"},
    };
    struct chr_local_task t = shell_task("ct:1700000000000:2:job1", "env");
    t.env = env;
    t.n_env = 4;
    t.attempt = 2;
    t.res = (struct chr_local_resources){3, 128, 0.25};
    setenv("CHR_TEST_SECRET", "x", 1); /* the server's environment */
    launch_ok(f, &t);
    assert_int_equal(wait_event(f, t.run_id, 0).state, CHR_LOCAL_FINISHED);
    char *out = run_file(f, t.run_id, "stdout", NULL);
    assert_non_null(out);
    const char *want[] = {
        "FOO=bar baz", "CHRONOS_JOB_NAME=job1", "CHRONOS_JOB_OWNER=me@example.com",
        "CHRONOS_JOB_RUN_TIME=1700000000000", "CHRONOS_JOB_RUN_ATTEMPT=2",
        "CHRONOS_RESOURCE_CPU=3.0", "CHRONOS_RESOURCE_MEM=128.0",
        "CHRONOS_RESOURCE_DISK=0.25", "MESOS_TASK_ID=ct:1700000000000:2:job1",
        "mesos_task_id=ct:1700000000000:2:job1", "HOST=testhost",
        "PATH=/usr/bin:/bin:/opt/x",
    };
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++)
        if (!has_line(out, want[i]))
            fail_msg("the task's environment lacks %s:\n%s", want[i], out);
    assert_true(strstr(out, "HOME=") != NULL);
    assert_true(strstr(out, "USER=") != NULL);
    assert_false(has_line(out, "CHRONOS_JOB_NAME=impostor"));
    /* Nothing of the server's own environment leaks into the task. */
    unsetenv("CHR_TEST_SECRET");
    assert_null(strstr(out, "CHR_TEST_SECRET"));
    chr_free(out);
}

static void test_exit_codes(void **state)
{
    struct fixture *f = *state;
    struct chr_local_task a = shell_task("exit3", "exit 3");
    struct chr_local_task b = shell_task("segv", "kill -SEGV $$");
    struct chr_local_task c = shell_task("nf", "no_such_command_xyz");
    launch_ok(f, &a);
    launch_ok(f, &b);
    launch_ok(f, &c);
    struct rec ra = wait_event(f, "exit3", 0);
    assert_int_equal(ra.state, CHR_LOCAL_FAILED);
    assert_int_equal(ra.exit_code, 3);
    assert_string_equal(ra.reason, "exit 3");
    struct rec rb = wait_event(f, "segv", 0);
    assert_int_equal(rb.state, CHR_LOCAL_FAILED);
    assert_int_equal(rb.exit_code, -1);
    assert_int_equal(rb.signal, SIGSEGV);
    assert_non_null(strstr(rb.reason, "SIGSEGV"));
    /* The shell ran, the command did not: the shell's 127. */
    struct rec rc = wait_event(f, "nf", 0);
    assert_int_equal(rc.state, CHR_LOCAL_FAILED);
    assert_int_equal(rc.exit_code, 127);
    assert_string_equal(rc.reason, "exit 127 (command not found)");
    assert_non_null(find_rec(f, "nf", CHR_LOCAL_RUNNING));
}

static void write_file(const char *path, const char *text, mode_t mode)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, mode);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    close(fd);
    assert_int_equal(chmod(path, mode), 0);
}

static void test_exec_failure(void **state)
{
    struct fixture *f = *state;
    char plain[128], script[128], want[256];
    snprintf(plain, sizeof plain, "%s/plain", f->dir);
    snprintf(script, sizeof script, "%s/script", f->dir);
    write_file(plain, "echo never\n", 0644);
    write_file(script, "echo from-script \"$1\"\n", 0755); /* no "#!": run by sh */
    struct chr_local_task t = shell_task("nosuch", "/no/such/program");
    t.shell = false;
    struct chr_local_task u = shell_task("nopath", "no_such_program_in_path");
    u.shell = false;
    struct chr_local_task v = shell_task("noexec", plain);
    v.shell = false;
    char *const args[] = {"arg 1"};
    struct chr_local_task w = shell_task("script", script);
    w.shell = false;
    w.arguments = args;
    w.n_arguments = 1;
    launch_ok(f, &t);
    launch_ok(f, &u);
    launch_ok(f, &v);
    launch_ok(f, &w);
    struct rec r = wait_event(f, "nosuch", 0);
    assert_int_equal(r.state, CHR_LOCAL_FAILED);
    assert_int_equal(r.exit_code, 127);
    assert_string_equal(r.reason, "exec failed: /no/such/program: No such file or directory: "
                                  "exit 127 (command not found)");
    /* It never ran: STARTING, then FAILED, no RUNNING. */
    assert_null(find_rec(f, "nosuch", CHR_LOCAL_RUNNING));
    r = wait_event(f, "nopath", 0);
    assert_int_equal(r.exit_code, 127);
    assert_non_null(strstr(r.reason, "exec failed: no_such_program_in_path"));
    r = wait_event(f, "noexec", 0);
    assert_int_equal(r.state, CHR_LOCAL_FAILED);
    assert_int_equal(r.exit_code, 126);
    snprintf(want, sizeof want, "exec failed: %s: Permission denied: exit 126", plain);
    if (!strstr(r.reason, want))
        fail_msg("reason: %s", r.reason);
    r = wait_event(f, "script", 0);
    assert_int_equal(r.state, CHR_LOCAL_FINISHED);
    char *out = run_file(f, "script", "stdout", NULL);
    assert_string_equal(out, "from-script arg 1\n");
    chr_free(out);
}

/* ---- Tests: killing ----------------------------------------------------- */

static pid_t read_pid_file(const char *path)
{
    char *text = slurp(path, NULL);
    long pid = text ? strtol(text, NULL, 10) : 0;
    chr_free(text);
    return (pid_t)pid;
}

/* Waits until no process is left in the group (bounded).  Orphans of a dead
 * supervisor come to this process (a subreaper, see main): reap them. */
static void assert_group_gone(pid_t pgid)
{
    int64_t deadline = test_mono_ms() + WAIT_MS;
    for (;;) {
        while (waitpid(-1, NULL, WNOHANG) > 0)
            ;
        if (kill(-pgid, 0) != 0)
            break;
        if (test_mono_ms() >= deadline)
            fail_msg("process group %d still has members", (int)pgid);
        usleep(2000);
    }
    assert_int_equal(errno, ESRCH);
}

static void test_kill_process_group(void **state)
{
    struct fixture *f = *state;
    char cmd[512], bg[128];
    snprintf(bg, sizeof bg, "%s/bg.pid", f->dir);
    snprintf(cmd, sizeof cmd, "sleep 100 & echo $! > %s; sleep 100", bg);
    struct chr_local_task t = shell_task("k1", cmd);
    launch_ok(f, &t);
    struct rec run = wait_event(f, "k1", CHR_LOCAL_RUNNING);
    wait_file(bg);
    int64_t deadline = test_mono_ms() + WAIT_MS;
    pid_t bg_pid = 0;
    while ((bg_pid = read_pid_file(bg)) <= 0 && test_mono_ms() < deadline)
        usleep(2000);
    assert_true(bg_pid > 0);
    assert_int_equal(chr_local_kill(f->l, "k1"), CHR_OK);
    struct rec fin = wait_event(f, "k1", 0);
    assert_int_equal(fin.state, CHR_LOCAL_KILLED);
    assert_string_equal(fin.reason, "killed");
    /* The supervisor reaps the whole group before it records KILLED. */
    assert_int_equal(kill(-run.pid, 0), -1);
    assert_int_equal(errno, ESRCH);
    assert_int_equal(kill(bg_pid, 0), -1);
    assert_int_equal(chr_local_kill(f->l, "k1"), CHR_ENOENT); /* ended */
    assert_int_equal(chr_local_kill(f->l, "../k1"), CHR_ENOENT);
}

static void test_kill_right_after_launch(void **state)
{
    struct fixture *f = *state;
    char cmd[512], marker[128];
    snprintf(marker, sizeof marker, "%s/ran", f->dir);
    snprintf(cmd, sizeof cmd, "touch %s; sleep 100", marker);
    struct chr_local_task t = shell_task("k2", cmd);
    launch_ok(f, &t);
    assert_int_equal(chr_local_kill(f->l, "k2"), CHR_OK);
    struct rec fin = wait_event(f, "k2", 0);
    assert_int_equal(fin.state, CHR_LOCAL_KILLED);
    /* Killed before the claim ("killed before start") or after: either
     * way nothing of it is left. */
    if (fin.pid > 0)
        assert_group_gone(fin.pid);
}

static void test_max_completion_time(void **state)
{
    struct fixture *f = *state;
    struct chr_local_task t = shell_task("slow", "sleep 100");
    t.max_completion_ms = 300;
    /* A task that ignores SIGTERM gets SIGKILL after the grace period. */
    struct chr_local_task u = shell_task("stubborn", "trap '' TERM; sleep 100 & wait; wait");
    u.max_completion_ms = 300;
    int64_t t0 = test_mono_ms();
    launch_ok(f, &t);
    launch_ok(f, &u);
    struct rec r = wait_event(f, "slow", 0);
    assert_int_equal(r.state, CHR_LOCAL_FAILED);
    assert_string_equal(r.reason, "exceeded maxCompletionTime (300 ms)");
    assert_int_equal(r.signal, SIGTERM);
    struct rec s = wait_event(f, "stubborn", 0);
    assert_int_equal(s.state, CHR_LOCAL_FAILED);
    assert_string_equal(s.reason, "exceeded maxCompletionTime (300 ms)");
    assert_true(test_mono_ms() - t0 >= 300);
    assert_group_gone(s.pid);
}

/* ---- Tests: a start held until not_before_ms ------------------------------- */

/* The wall clock in ns that the task printed (`date +%s%N`) in its stdout. */
static int64_t printed_ns(struct fixture *f, const char *id)
{
    char *out = run_file(f, id, "stdout", NULL);
    assert_non_null(out);
    int64_t ns = strtoll(out, NULL, 10);
    chr_free(out);
    assert_true(ns > 0);
    return ns;
}

/* Waits until run `id` has a pid record: its task is forked and recorded,
 * and (with a start ahead) held by its supervisor.  The record's task pid. */
static pid_t wait_pid_record(struct fixture *f, const char *id, struct chr_local_pidrec *p)
{
    char dir[256];
    snprintf(dir, sizeof dir, "%s/%s", f->runs, id);
    wait_file(dir);
    int fd = open(dir, O_RDONLY | O_DIRECTORY);
    assert_true(fd >= 0);
    int64_t deadline = test_mono_ms() + WAIT_MS;
    while (chr_local_pidrec_read(fd, p) != CHR_OK) {
        if (test_mono_ms() >= deadline)
            fail_msg("run %s has no pid record within %d ms", id, WAIT_MS);
        usleep(2000);
    }
    close(fd);
    return p->pid;
}

static void test_not_before_holds_exec(void **state)
{
    struct fixture *f = *state;
    struct chr_local_task t = shell_task("nb", "date +%s%N");
    /* Far enough ahead that even a loaded machine records the pid before
     * the instant (a supervisor started late records when it started). */
    t.not_before_ms = chr_clock_wall_ms() + 1500;
    launch_ok(f, &t);
    struct chr_local_pidrec p;
    wait_pid_record(f, "nb", &p);
    assert_true(p.start_ms == t.not_before_ms); /* recorded ahead of it */
    struct rec run = wait_event(f, "nb", CHR_LOCAL_RUNNING);
    assert_true(run.start_ms >= t.not_before_ms);
    struct rec fin = wait_event(f, "nb", 0);
    assert_int_equal(fin.state, CHR_LOCAL_FINISHED);
    assert_true(fin.start_ms == run.start_ms);
    int64_t late_ns = printed_ns(f, "nb") - t.not_before_ms * 1000000;
    if (late_ns < 0 || late_ns >= 200 * 1000000LL)
        fail_msg("the task started %lld us after its not_before", (long long)(late_ns / 1000));
    assert_int_equal(count_events(f, "nb"), 3); /* STARTING, RUNNING, FINISHED */
}

/* A kill while the supervisor holds the task: KILLED, and the task never
 * ran; the held child is gone. */
static void test_kill_while_held(void **state)
{
    struct fixture *f = *state;
    char cmd[512], marker[128];
    snprintf(marker, sizeof marker, "%s/ran", f->dir);
    snprintf(cmd, sizeof cmd, "touch %s", marker);
    struct chr_local_task t = shell_task("held", cmd);
    t.not_before_ms = chr_clock_wall_ms() + 20000;
    launch_ok(f, &t);
    struct chr_local_pidrec p;
    pid_t child = wait_pid_record(f, "held", &p);
    assert_int_equal(chr_local_kill(f->l, "held"), CHR_OK);
    struct rec fin = wait_event(f, "held", 0);
    assert_int_equal(fin.state, CHR_LOCAL_KILLED);
    assert_string_equal(fin.reason, "killed before start");
    assert_int_equal(fin.pid, 0);
    assert_true(fin.start_ms == INT64_MIN);
    assert_true(chr_clock_wall_ms() < t.not_before_ms);
    assert_null(find_rec(f, "held", CHR_LOCAL_RUNNING));
    assert_group_gone(child);
    assert_false(exists(marker));
}

/* A new instance finds a supervisor holding its task: STARTING (re-attached)
 * while it waits, RUNNING once its start has come.  (The task waits for
 * `go`: one that ended between two looks would go from STARTING to its end.) */
static void test_reattach_while_held(void **state)
{
    struct fixture *f = *state;
    char cmd[512], go[128];
    snprintf(go, sizeof go, "%s/go", f->dir);
    snprintf(cmd, sizeof cmd, "date +%%s%%N; while [ ! -e %s ]; do sleep 0.01; done", go);
    struct chr_local_task t = shell_task("rh", cmd);
    t.not_before_ms = chr_clock_wall_ms() + 3000;
    launch_ok(f, &t);
    struct chr_local_pidrec p;
    wait_pid_record(f, "rh", &p);
    chr_local_destroy(f->l);
    f->l = NULL;
    f->n = 0;
    make_instance(f);
    assert_int_equal(chr_local_reattach(f->l, NULL), CHR_OK);
    bool ahead = chr_clock_wall_ms() < t.not_before_ms; /* a very slow machine: not */
    struct rec run = wait_event(f, "rh", CHR_LOCAL_RUNNING);
    assert_true(run.start_ms >= t.not_before_ms);
    assert_int_equal(run.pid, p.pid);
    pthread_mutex_lock(&f->mu);
    const struct rec *first = find_rec(f, "rh", 0);
    assert_true(first->reattached);
    if (ahead) {
        assert_int_equal(first->state, CHR_LOCAL_STARTING);
        assert_int_equal(first->pid, 0);
    }
    pthread_mutex_unlock(&f->mu);
    touch(go);
    assert_int_equal(wait_event(f, "rh", 0).state, CHR_LOCAL_FINISHED);
    assert_true(printed_ns(f, "rh") >= t.not_before_ms * 1000000);
}

/* ---- Tests: output -------------------------------------------------------- */

static void test_output_cap(void **state)
{
    struct fixture *f = *state;
    /* seq 1 20000 prints 108894 bytes. */
    struct chr_local_task t = shell_task("cap", "seq 1 20000; echo small >&2");
    t.stdout_max_bytes = 1000;
    t.stderr_max_bytes = 1000;
    launch_ok(f, &t);
    struct rec r = wait_event(f, "cap", 0);
    assert_int_equal(r.state, CHR_LOCAL_FINISHED);
    assert_true(r.out_trunc);
    assert_false(r.err_trunc);
    size_t len = 0;
    char *out = run_file(f, "cap", "stdout", &len);
    assert_non_null(out);
    assert_true(len <= 1000 + CHR_LOCAL_OUTPUT_TAIL + 200);
    assert_memory_equal(out, "1\n2\n3\n", 6);
    const char *note = strstr(out, "\n[chronos: ");
    assert_non_null(note);
    assert_int_equal(note - out, 1000);
    assert_non_null(strstr(note, "bytes of output omitted after the first 1000"));
    const char *end = "19999\n20000\n";
    assert_string_equal(out + len - strlen(end), end);
    chr_free(out);
    char *err = run_file(f, "cap", "stderr", &len);
    assert_string_equal(err, "small\n");
    chr_free(err);
    /* The exit record counts what the task wrote. */
    char *exit_text = run_file(f, "cap", "exit", NULL);
    assert_non_null(strstr(exit_text, "\"stdout_bytes\":108894"));
    chr_free(exit_text);
}

/* ---- Tests: idempotence and re-attach -------------------------------------- */

static void test_idempotent_launch(void **state)
{
    struct fixture *f = *state;
    char cmd[512], count[128], go[128];
    snprintf(count, sizeof count, "%s/count", f->dir);
    snprintf(go, sizeof go, "%s/go", f->dir);
    snprintf(cmd, sizeof cmd, "echo x >> %s; while [ ! -e %s ]; do sleep 0.01; done", count, go);
    struct chr_local_task t = shell_task("once", cmd);
    launch_ok(f, &t);
    launch_ok(f, &t); /* tracked: a no-op */
    wait_event(f, "once", CHR_LOCAL_RUNNING);
    /* A new instance (a restarted server) launches it again: it is running,
     * so it is watched, not started. */
    chr_local_destroy(f->l);
    f->l = NULL;
    make_instance(f);
    launch_ok(f, &t);
    touch(go);
    struct rec fin = wait_event(f, "once", 0);
    assert_int_equal(fin.state, CHR_LOCAL_FINISHED);
    /* And once it ended, launching it again reports the end again. */
    size_t before = count_events(f, "once");
    launch_ok(f, &t);
    int64_t deadline = test_mono_ms() + WAIT_MS;
    while (count_events(f, "once") == before && test_mono_ms() < deadline)
        usleep(2000);
    assert_int_equal(count_lines(count), 1);
}

/* The spec the server writes for t (host "testhost", run timeout 300 s). */
static char *encode_spec(const struct chr_local_task *t, size_t *len)
{
    char *spec = NULL;
    struct chr_error err;
    assert_int_equal(chr_local_spec_encode(t, "testhost", 300, &spec, len, &err), CHR_OK);
    return spec;
}

/* A run directory f->runs/NAME holding SPEC, as the server writes it before
 * it starts a supervisor; its path in dir.  Returns the directory, open. */
static int put_run_dir(const struct fixture *f, const char *name, const char *spec, size_t len,
                       char *dir, size_t cap)
{
    snprintf(dir, cap, "%s/%s", f->runs, name);
    assert_int_equal(mkdir(dir, 0750), 0);
    int dfd = open(dir, O_RDONLY | O_DIRECTORY);
    assert_true(dfd >= 0);
    assert_int_equal(chr_local_file_write(dfd, "spec", spec, len, false), CHR_OK);
    return dfd;
}

/* Runs two supervisors of one unclaimed run at once: one runs it. */
static void test_claim_race(void **state)
{
    struct fixture *f = *state;
    char cmd[512], count[128], dir[256];
    snprintf(count, sizeof count, "%s/count", f->dir);
    snprintf(cmd, sizeof cmd, "echo x >> %s", count);
    struct chr_local_task t = shell_task("race", cmd);
    size_t len = 0;
    char *spec = encode_spec(&t, &len);
    close(put_run_dir(f, "race", spec, len, dir, sizeof dir));
    chr_free(spec);
    pid_t pids[4];
    for (int i = 0; i < 4; i++) {
        char *argv[] = {supervisor_bin, "run-task", dir, NULL};
        assert_int_equal(posix_spawn(&pids[i], supervisor_bin, NULL, NULL, argv, environ), 0);
    }
    int ran = 0, refused = 0;
    for (int i = 0; i < 4; i++) {
        int st = 0;
        assert_int_equal(waitpid(pids[i], &st, 0), pids[i]);
        assert_true(WIFEXITED(st));
        ran += WEXITSTATUS(st) == 0;
        refused += WEXITSTATUS(st) == CHR_LOCAL_EXIT_CLAIMED;
    }
    assert_int_equal(ran, 1);
    assert_int_equal(refused, 3);
    assert_int_equal(count_lines(count), 1);
}

/* The supervisor takes who the task runs as from the spec's ident (the
 * server resolved it) and loads no user database: a spec whose ident says
 * home /ident-home runs the task with HOME=/ident-home, which no passwd
 * entry says. */
static void test_supervisor_takes_the_ident(void **state)
{
    struct fixture *f = *state;
    char cmd[512], out[128], dir[256];
    snprintf(out, sizeof out, "%s/home", f->dir);
    snprintf(cmd, sizeof cmd, "echo \"$HOME\" > %s", out);
    struct chr_local_task t = shell_task("ident", cmd);
    size_t len = 0;
    char *spec = encode_spec(&t, &len);
    json_t *o = json_loadb(spec, len, 0, NULL);
    chr_free(spec);
    json_t *id = json_object_get(o, "ident");
    assert_non_null(id); /* the server's own user: resolved */
    assert_int_equal(json_object_set_new(id, "home", json_string("/ident-home")), 0);
    char *text = json_dumps(o, JSON_COMPACT);
    json_decref(o);
    close(put_run_dir(f, "ident", text, strlen(text), dir, sizeof dir));
    free(text); /* lint: allow (jansson's allocation) */
    char *argv[] = {supervisor_bin, "run-task", dir, NULL};
    pid_t pid;
    int st = 0;
    assert_int_equal(posix_spawn(&pid, supervisor_bin, NULL, NULL, argv, environ), 0);
    assert_int_equal(waitpid(pid, &st, 0), pid);
    assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    char *home = slurp(out, &len);
    assert_non_null(home);
    assert_string_equal(home, "/ident-home\n");
    chr_free(home);
}

static void test_reattach_running(void **state)
{
    struct fixture *f = *state;
    char cmd[512], go[128];
    snprintf(go, sizeof go, "%s/go", f->dir);
    snprintf(cmd, sizeof cmd, "while [ ! -e %s ]; do sleep 0.01; done; echo done", go);
    struct chr_local_task t = shell_task("ra", cmd);
    t.res.cpus = 2;
    launch_ok(f, &t);
    struct rec run = wait_event(f, "ra", CHR_LOCAL_RUNNING);
    chr_local_destroy(f->l); /* the "server" dies; the supervisor does not */
    f->l = NULL;
    f->n = 0;
    assert_int_equal(kill(run.pid, 0), 0);
    make_instance(f);
    size_t n = 0;
    assert_int_equal(chr_local_reattach(f->l, &n), CHR_OK);
    assert_int_equal(n, 1);
    struct rec again = wait_event(f, "ra", CHR_LOCAL_RUNNING);
    assert_true(again.reattached);
    assert_int_equal(again.pid, run.pid);
    /* The pid record's start (written before the exec: the later of its
     * writing and not_before_ms) is at most the exec's own, a little later
     * when the record was written after not_before_ms. */
    assert_true(again.start_ms <= run.start_ms && run.start_ms - again.start_ms < 1000);
    /* Its resources are held by the new instance. */
    struct chr_local_offer o;
    chr_local_offer(f->l, &o);
    assert_true(o.free.cpus == 2);
    touch(go);
    struct rec fin = wait_event(f, "ra", 0);
    assert_int_equal(fin.state, CHR_LOCAL_FINISHED);
    char *out = run_file(f, "ra", "stdout", NULL);
    assert_string_equal(out, "done\n");
    chr_free(out);
    chr_local_offer(f->l, &o);
    assert_true(o.free.cpus == 4);
}

/* `test_local fake-server RUNS GO`: a server that launches one run "srv" and
 * waits to be killed (by test_server_killed). */
static void fake_server_event(void *ctx, const struct chr_local_event *ev)
{
    (void)ctx;
    (void)ev;
}

static int fake_server_main(char **argv)
{
    struct chr_local_config cfg = {
        .runs_dir = argv[1], .chronos_bin = supervisor_bin, .hostname = "testhost",
        .total = {4, 4096, 4096}, .on_event = fake_server_event,
    };
    struct chr_local *l = NULL;
    struct chr_error err;
    if (chr_local_create(&cfg, &l, &err) != CHR_OK)
        return 1;
    char cmd[512];
    snprintf(cmd, sizeof cmd, "while [ ! -e %s ]; do sleep 0.01; done; echo survived", argv[2]);
    struct chr_local_task t = shell_task("srv", cmd);
    if (chr_local_launch(l, &t, &err) != CHR_OK)
        return 1;
    for (;;)
        pause(); /* until SIGKILL */
}

static void test_server_killed(void **state)
{
    struct fixture *f = *state;
    char go[128], pid_path[256];
    snprintf(go, sizeof go, "%s/go", f->dir);
    snprintf(pid_path, sizeof pid_path, "%s/srv/pid", f->runs);
    char *argv[] = {self_bin, "fake-server", f->runs, go, NULL};
    pid_t server;
    assert_int_equal(posix_spawn(&server, self_bin, NULL, NULL, argv, environ), 0);
    wait_file(pid_path);
    assert_int_equal(kill(server, SIGKILL), 0); /* no destroy, no cleanup */
    assert_int_equal(waitpid(server, NULL, 0), server);
    assert_int_equal(chr_local_reattach(f->l, NULL), CHR_OK);
    struct rec r = wait_event(f, "srv", CHR_LOCAL_RUNNING);
    assert_true(r.pid > 0);
    /* Reported by the re-attach: as RUNNING, or as STARTING when the pid
     * record was still being written (then RUNNING once it is). */
    pthread_mutex_lock(&f->mu);
    const struct rec *first = find_rec(f, "srv", 0);
    assert_true(first->reattached);
    assert_true(first->state == CHR_LOCAL_RUNNING || first->state == CHR_LOCAL_STARTING);
    pthread_mutex_unlock(&f->mu);
    touch(go);
    assert_int_equal(wait_event(f, "srv", 0).state, CHR_LOCAL_FINISHED);
    char *out = run_file(f, "srv", "stdout", NULL);
    assert_string_equal(out, "survived\n");
    chr_free(out);
}

static void test_reattach_finished_and_collect(void **state)
{
    struct fixture *f = *state;
    char cmd[512], go[128], exit_path[256];
    snprintf(go, sizeof go, "%s/go", f->dir);
    snprintf(cmd, sizeof cmd, "while [ ! -e %s ]; do sleep 0.01; done; exit 4", go);
    struct chr_local_task t = shell_task("rf", cmd);
    launch_ok(f, &t);
    wait_event(f, "rf", CHR_LOCAL_RUNNING);
    chr_local_destroy(f->l);
    f->l = NULL;
    f->n = 0;
    touch(go); /* it ends while no instance watches */
    snprintf(exit_path, sizeof exit_path, "%s/rf/exit", f->runs);
    wait_exit_record(f, "rf");
    /* A launch cut short by a crash leaves a temp dir: re-attach removes it. */
    char stale[256];
    snprintf(stale, sizeof stale, "%s/.tmp-1-7", f->runs);
    assert_int_equal(mkdir(stale, 0750), 0);
    snprintf(stale, sizeof stale, "%s/.tmp-1-7/spec", f->runs);
    touch(stale);
    make_instance(f);
    assert_int_equal(chr_local_reattach(f->l, NULL), CHR_OK);
    snprintf(stale, sizeof stale, "%s/.tmp-1-7", f->runs);
    assert_false(exists(stale));
    struct rec fin = wait_event(f, "rf", 0);
    assert_int_equal(fin.state, CHR_LOCAL_FAILED);
    assert_int_equal(fin.exit_code, 4);
    assert_true(fin.reattached);
    assert_int_equal(count_events(f, "rf"), 1);
    /* Collected: out of the way of re-attach, output kept under .done. */
    assert_int_equal(chr_local_collect(f->l, "rf"), CHR_OK);
    assert_false(exists(exit_path));
    char kept[256];
    snprintf(kept, sizeof kept, "%s/.done/job1/rf/exit", f->runs);
    assert_true(exists(kept));
    assert_int_equal(chr_local_collect(f->l, "rf"), CHR_OK); /* nothing left: fine */
    size_t n = 9;
    assert_int_equal(chr_local_reattach(f->l, &n), CHR_OK);
    assert_int_equal(n, 0);
}

static void test_collect_keeps_newest(void **state)
{
    struct fixture *f = *state;
    const char *ids[] = {"c1", "c2", "c3"};
    for (int i = 0; i < 3; i++) {
        struct chr_local_task t = shell_task(ids[i], "true");
        launch_ok(f, &t);
        assert_int_equal(wait_event(f, ids[i], 0).state, CHR_LOCAL_FINISHED);
        usleep(20000); /* distinct directory times (not a wait for correctness) */
    }
    for (int i = 0; i < 3; i++)
        assert_int_equal(chr_local_collect(f->l, ids[i]), CHR_OK);
    char path[256];
    snprintf(path, sizeof path, "%s/.done/job1/c1", f->runs);
    assert_false(exists(path)); /* keep_done_per_job = 2: the oldest went */
    snprintf(path, sizeof path, "%s/.done/job1/c3/stdout", f->runs);
    assert_true(exists(path));
    /* The job is deleted: its kept runs go. */
    assert_int_equal(chr_local_forget_job(f->l, "job1"), CHR_OK);
    snprintf(path, sizeof path, "%s/.done/job1", f->runs);
    assert_false(exists(path));
    assert_int_equal(chr_local_forget_job(f->l, "job1"), CHR_OK);
    assert_int_equal(chr_local_forget_job(f->l, ".."), CHR_EINVAL);
}

static void test_spec_without_claim(void **state)
{
    struct fixture *f = *state;
    char cmd[512], count[128], dir[256], claim[300];
    snprintf(count, sizeof count, "%s/count", f->dir);
    snprintf(cmd, sizeof cmd, "echo x >> %s", count);
    struct chr_local_task t = shell_task("unclaimed", cmd);
    /* What a server leaves when it dies between recording and spawning. */
    size_t len = 0;
    char *spec = encode_spec(&t, &len);
    close(put_run_dir(f, "unclaimed", spec, len, dir, sizeof dir));
    chr_free(spec);
    assert_int_equal(chr_local_reattach(f->l, NULL), CHR_OK);
    struct rec r = wait_event(f, "unclaimed", 0);
    assert_int_equal(r.state, CHR_LOCAL_DROPPED);
    assert_string_equal(r.reason, "never started");
    assert_true(r.reattached);
    assert_false(exists(count));
    /* Abandoned: a supervisor arriving late cannot start it... */
    snprintf(claim, sizeof claim, "%s/claim", dir);
    assert_true(exists(claim));
    char *argv[] = {supervisor_bin, "run-task", dir, NULL};
    pid_t pid;
    int st = 0;
    assert_int_equal(posix_spawn(&pid, supervisor_bin, NULL, NULL, argv, environ), 0);
    assert_int_equal(waitpid(pid, &st, 0), pid);
    assert_int_equal(WEXITSTATUS(st), CHR_LOCAL_EXIT_CLAIMED);
    assert_false(exists(count));
    /* ...but the core may launch it again (its QUEUED): it runs once. */
    launch_ok(f, &t);
    assert_int_equal(wait_event(f, "unclaimed", CHR_LOCAL_FINISHED).state, CHR_LOCAL_FINISHED);
    assert_int_equal(count_lines(count), 1);
}

/* A leader's lease, asked at the last step: counts the asks, answers `yes`. */
struct gate {
    int asked;
    bool yes;
};

static bool gate_ask(void *ctx)
{
    struct gate *g = ctx;
    g->asked++;
    return g->yes;
}

/* A launch whose lease lapsed meanwhile (a leader stopped or stalled after
 * it decided) starts nothing and leaves nothing: no task, no run directory,
 * no resources held; the same run launched with the lease runs once. */
static void test_may_start_refused(void **state)
{
    struct fixture *f = *state;
    char cmd[512], count[128], dir[256];
    snprintf(count, sizeof count, "%s/count", f->dir);
    snprintf(cmd, sizeof cmd, "echo x >> %s", count);
    struct chr_local_task t = shell_task("gated", cmd);
    struct gate g = {0, false};
    t.may_start = gate_ask;
    t.may_start_ctx = &g;
    struct chr_error err;
    memset(&err, 0, sizeof err);
    assert_int_equal(chr_local_launch(f->l, &t, &err), CHR_EUNAVAIL);
    assert_int_equal(g.asked, 1);
    assert_non_null(strstr(err.message, "gated"));
    snprintf(dir, sizeof dir, "%s/gated", f->runs);
    assert_false(exists(dir));
    struct chr_local_offer o;
    chr_local_offer(f->l, &o);
    assert_true(o.free.cpus == 4 && o.free.mem_mb == 4096 && o.free.disk_mb == 4096);
    usleep(200 * 1000);
    assert_false(exists(count));
    assert_int_equal(count_events(f, "gated"), 0);
    g.yes = true;
    launch_ok(f, &t);
    assert_int_equal(g.asked, 2);
    assert_int_equal(wait_event(f, "gated", CHR_LOCAL_FINISHED).state, CHR_LOCAL_FINISHED);
    assert_int_equal(count_lines(count), 1);
}

/* The disk the host offers is its file system's size, not the free space
 * of the moment: a disk full when the manager starts must not offer no disk
 * (and refuse every job) for the manager's whole life. */
static void test_disk_is_the_file_systems_size(void **state)
{
    struct fixture *f = *state;
    struct chr_local_config cfg = {.runs_dir = f->runs, .chronos_bin = supervisor_bin,
                                   .hostname = "testhost", .total = {1, 64, 0},
                                   .on_event = on_event, .ctx = f};
    struct chr_error err;
    memset(&err, 0, sizeof err);
    struct chr_local *l = NULL;
    assert_int_equal(chr_local_create(&cfg, &l, &err), CHR_OK);
    struct chr_local_resources total;
    chr_local_total(l, &total);
    chr_local_destroy(l);
    struct statvfs vfs;
    assert_int_equal(statvfs(f->runs, &vfs), 0);
    double size_mb = (double)vfs.f_blocks * (double)vfs.f_frsize / 1048576.0;
    assert_true(total.disk_mb > size_mb - 1 && total.disk_mb < size_mb + 1);
    assert_true(total.cpus == 1 && total.mem_mb == 64); /* given ones are kept */
}

/* A supervisor that exits before it claims the run (it could not write the
 * claim: a full disk, say) never started the task: the run is dropped - the
 * core queues it again - not failed, and the next launch runs it once. */
static void test_supervisor_exits_before_claim(void **state)
{
    struct fixture *f = *state;
    char cmd[512], count[128], saved[sizeof supervisor_bin];
    snprintf(count, sizeof count, "%s/count", f->dir);
    snprintf(cmd, sizeof cmd, "echo x >> %s", count);
    struct chr_local_task t = shell_task("noclaim", cmd);
    chr_local_destroy(f->l);
    memcpy(saved, supervisor_bin, sizeof saved);
    snprintf(supervisor_bin, sizeof supervisor_bin, "/bin/false"); /* exits 1 at once */
    make_instance(f);
    launch_ok(f, &t);
    struct rec r = wait_event(f, "noclaim", 0);
    memcpy(supervisor_bin, saved, sizeof saved);
    assert_int_equal(r.state, CHR_LOCAL_DROPPED);
    assert_non_null(strstr(r.reason, "never started: the supervisor exited with status 1"));
    assert_false(exists(count));
    chr_local_destroy(f->l);
    make_instance(f);
    launch_ok(f, &t);
    assert_int_equal(wait_event(f, "noclaim", CHR_LOCAL_FINISHED).state, CHR_LOCAL_FINISHED);
    assert_int_equal(count_lines(count), 1);
}

/* The pid cannot be recorded (a directory is in the way, as a full disk
 * would): the task must not run, and the run is dropped saying why - the
 * host failed, not the task - so the core queues it again; once the pid can
 * be recorded, the same run id runs once. */
static void test_pid_record_failure(void **state)
{
    struct fixture *f = *state;
    char cmd[512], count[128], dir[256], pid_dir[300];
    snprintf(count, sizeof count, "%s/count", f->dir);
    snprintf(cmd, sizeof cmd, "echo x >> %s", count);
    struct chr_local_task t = shell_task("nopid", cmd);
    size_t len = 0;
    char *spec = encode_spec(&t, &len);
    close(put_run_dir(f, "nopid", spec, len, dir, sizeof dir));
    chr_free(spec);
    snprintf(pid_dir, sizeof pid_dir, "%s/pid", dir);
    assert_int_equal(mkdir(pid_dir, 0750), 0);
    pid_dir[strlen(pid_dir) - 3] = '\0';
    snprintf(pid_dir + strlen(pid_dir), 32, "pid/x");
    touch(pid_dir); /* not empty: rename cannot replace it */
    launch_ok(f, &t);
    struct rec r = wait_event(f, "nopid", 0);
    assert_int_equal(r.state, CHR_LOCAL_DROPPED);
    assert_string_equal(r.reason, "never started: supervisor: cannot record the task's pid");
    assert_null(find_rec(f, "nopid", CHR_LOCAL_RUNNING));
    assert_false(exists(count));
    char cmd_rm[400];
    snprintf(cmd_rm, sizeof cmd_rm, "rm -rf '%s/pid'", dir);
    assert_int_equal(system(cmd_rm), 0); /* the disk has room again */
    launch_ok(f, &t);
    assert_int_equal(wait_event(f, "nopid", CHR_LOCAL_FINISHED).state, CHR_LOCAL_FINISHED);
    assert_int_equal(count_lines(count), 1);
}

/* A run whose records are from another boot: the host restarted under it. */
static void test_reboot_is_lost(void **state)
{
    struct fixture *f = *state;
    struct chr_local_task t = shell_task("rebooted", "true");
    char *spec = NULL, dir[256];
    size_t len = 0;
    struct chr_error err;
    assert_int_equal(chr_local_spec_encode(&t, "testhost", 300, &spec, &len, &err), CHR_OK);
    int dfd = put_run_dir(f, "rebooted", spec, len, dir, sizeof dir);
    chr_free(spec);
    const char *boot = "00000000-0000-0000-0000-000000000000";
    char line[128];
    snprintf(line, sizeof line, "999999 5 %s\n", boot);
    assert_int_equal(chr_local_file_create(dfd, "claim", line), CHR_OK);
    snprintf(line, sizeof line, "999998 1700000000000 %s 6\n", boot);
    assert_int_equal(chr_local_file_write(dfd, "pid", line, strlen(line), false), CHR_OK);
    close(dfd);
    size_t n = 0;
    assert_int_equal(chr_local_reattach(f->l, &n), CHR_OK);
    assert_int_equal(n, 1);
    struct rec r = wait_event(f, "rebooted", 0);
    assert_int_equal(r.state, CHR_LOCAL_LOST);
    assert_string_equal(r.reason, "the host restarted during the run");
    assert_int_equal(r.pid, 999998);
    assert_true(r.start_ms == 1700000000000);
    /* Its resources were never held. */
    struct chr_local_offer o;
    chr_local_offer(f->l, &o);
    assert_true(o.free.cpus == 4);
}

static void test_reconcile(void **state)
{
    struct fixture *f = *state;
    assert_int_equal(chr_local_reconcile(f->l, "never-heard-of"), CHR_OK);
    struct rec r = wait_event(f, "never-heard-of", 0);
    assert_int_equal(r.state, CHR_LOCAL_DROPPED);
    assert_string_equal(r.reason, "unknown run");
    assert_int_equal(chr_local_reconcile(f->l, "../x"), CHR_EINVAL);
    char cmd[512], go[128];
    snprintf(go, sizeof go, "%s/go", f->dir);
    snprintf(cmd, sizeof cmd, "while [ ! -e %s ]; do sleep 0.01; done", go);
    struct chr_local_task t = shell_task("rec", cmd);
    launch_ok(f, &t);
    wait_event(f, "rec", CHR_LOCAL_RUNNING);
    assert_int_equal(chr_local_reconcile(f->l, "rec"), CHR_OK);
    int64_t deadline = test_mono_ms() + WAIT_MS;
    while (count_events(f, "rec") < 3 && test_mono_ms() < deadline)
        usleep(2000);
    pthread_mutex_lock(&f->mu);
    const struct rec *last = &f->recs[f->n - 1];
    assert_int_equal(last->state, CHR_LOCAL_RUNNING);
    assert_true(last->reattached);
    pthread_mutex_unlock(&f->mu);
    touch(go);
    assert_int_equal(wait_event(f, "rec", 0).state, CHR_LOCAL_FINISHED);
}

/* A launch made while the monitor reports (from the event handler itself,
 * between the monitor's wake-up and its reading of that wake-up) is still
 * watched: its RUNNING and its end arrive.  The monitor once read the
 * wake-up after taking the pending work, so this launch waited forever. */
static void test_launch_from_event_handler(void **state)
{
    struct fixture *f = *state;
    f->chain = shell_task("chained", "echo chained");
    f->chain_after = "trigger";
    assert_int_equal(chr_local_reconcile(f->l, "trigger"), CHR_OK);
    assert_int_equal(wait_event(f, "trigger", 0).state, CHR_LOCAL_DROPPED);
    assert_int_equal(wait_event(f, "chained", CHR_LOCAL_RUNNING).state, CHR_LOCAL_RUNNING);
    assert_int_equal(wait_event(f, "chained", 0).state, CHR_LOCAL_FINISHED);
}

static void test_supervisor_killed_is_lost(void **state)
{
    struct fixture *f = *state;
    char cmd[512], bg[128], dir[256];
    snprintf(bg, sizeof bg, "%s/bg.pid", f->dir);
    snprintf(cmd, sizeof cmd, "sleep 100 & echo $! > %s; sleep 100", bg);
    struct chr_local_task t = shell_task("lost", cmd);
    launch_ok(f, &t);
    struct rec run = wait_event(f, "lost", CHR_LOCAL_RUNNING);
    wait_file(bg);
    snprintf(dir, sizeof dir, "%s/lost", f->runs);
    int dfd = open(dir, O_RDONLY | O_DIRECTORY);
    struct chr_local_claim c;
    assert_int_equal(chr_local_claim_read(dfd, &c), CHR_OK);
    close(dfd);
    assert_int_equal(kill(c.pid, SIGKILL), 0);
    struct rec fin = wait_event(f, "lost", 0);
    assert_int_equal(fin.state, CHR_LOCAL_LOST);
    assert_string_equal(fin.reason, "the supervisor died without recording an outcome");
    assert_int_equal(fin.pid, run.pid);
    /* No task of a lost run keeps running: a retry cannot overlap it. */
    assert_group_gone(run.pid);
}

/* ---- Tests: a group of runs under one supervisor ------------------------------ */

/* The claim's supervisor pid of run `id`. */
static pid_t claim_pid(struct fixture *f, const char *id)
{
    char dir[256];
    snprintf(dir, sizeof dir, "%s/%s", f->runs, id);
    int dfd = open(dir, O_RDONLY | O_DIRECTORY);
    struct chr_local_claim c;
    memset(&c, 0, sizeof c);
    if (dfd < 0 || chr_local_claim_read(dfd, &c) != CHR_OK)
        fail_msg("no claim in %s", dir);
    close(dfd);
    return c.pid;
}

/* Launches held for a flush run under one supervisor; each run keeps its
 * own output, exit status and outcome. */
static void test_group_one_supervisor(void **state)
{
    struct fixture *f = *state;
    chr_local_destroy(f->l);
    make_instance_grouped(f, true);
    const char *ids[] = {"g1", "g2", "g3"};
    const char *cmds[] = {"echo one", "echo two >&2; exit 3", "echo three"};
    for (int i = 0; i < 3; i++) {
        struct chr_local_task t = shell_task(ids[i], cmds[i]);
        t.res.cpus = 0.1;
        launch_ok(f, &t);
    }
    usleep(100 * 1000);
    assert_int_equal(count_events(f, "g1"), 0); /* held until the flush */
    chr_local_flush(f->l);
    struct rec r1 = wait_event(f, "g1", 0), r2 = wait_event(f, "g2", 0),
               r3 = wait_event(f, "g3", 0);
    assert_int_equal(r1.state, CHR_LOCAL_FINISHED);
    assert_int_equal(r2.state, CHR_LOCAL_FAILED);
    assert_int_equal(r2.exit_code, 3);
    assert_int_equal(r3.state, CHR_LOCAL_FINISHED);
    pid_t sup = claim_pid(f, "g1");
    assert_true(sup == claim_pid(f, "g2") && sup == claim_pid(f, "g3"));
    /* Its runs were all told by their "E" lines: the supervisor is still
     * reaped (by the group's watch), no zombie is left. */
    int64_t deadline = test_mono_ms() + WAIT_MS;
    while (kill(sup, 0) == 0 && test_mono_ms() < deadline)
        usleep(2000);
    assert_int_equal(kill(sup, 0), -1);
    char *o1 = run_file(f, "g1", "stdout", NULL), *e2 = run_file(f, "g2", "stderr", NULL),
         *o3 = run_file(f, "g3", "stdout", NULL);
    assert_string_equal(o1, "one\n");
    assert_string_equal(e2, "two\n");
    assert_string_equal(o3, "three\n");
    chr_free(o1);
    chr_free(e2);
    chr_free(o3);
    struct chr_local_offer o;
    chr_local_offer(f->l, &o);
    assert_true(o.free.cpus == 4);
}

/* Three sleeping runs of one group: `n` of them are started. */
static void launch_sleepers(struct fixture *f, const char *go, int n)
{
    char cmd[512], id[16];
    snprintf(cmd, sizeof cmd, "sleep 100 & while [ ! -e %s ]; do sleep 0.01; done; echo done", go);
    for (int i = 0; i < n; i++) {
        snprintf(id, sizeof id, "s%d", i);
        struct chr_local_task t = shell_task(id, cmd);
        t.res.cpus = 0.1;
        launch_ok(f, &t);
    }
    chr_local_flush(f->l);
}

/* A kill reaches only the run it names, not the others of its supervisor. */
static void test_group_kill_one(void **state)
{
    struct fixture *f = *state;
    char go[128];
    snprintf(go, sizeof go, "%s/go", f->dir);
    chr_local_destroy(f->l);
    make_instance_grouped(f, true);
    launch_sleepers(f, go, 3);
    struct rec s0 = wait_event(f, "s0", CHR_LOCAL_RUNNING);
    struct rec s1 = wait_event(f, "s1", CHR_LOCAL_RUNNING);
    struct rec s2 = wait_event(f, "s2", CHR_LOCAL_RUNNING);
    assert_int_equal(chr_local_kill(f->l, "s1"), CHR_OK);
    struct rec k = wait_event(f, "s1", 0);
    assert_int_equal(k.state, CHR_LOCAL_KILLED);
    assert_string_equal(k.reason, "killed");
    assert_group_gone(s1.pid);
    assert_int_equal(kill(s0.pid, 0), 0);
    assert_int_equal(kill(s2.pid, 0), 0);
    touch(go);
    assert_int_equal(wait_event(f, "s0", 0).state, CHR_LOCAL_FINISHED);
    assert_int_equal(wait_event(f, "s2", 0).state, CHR_LOCAL_FINISHED);
    assert_group_gone(s0.pid); /* its "sleep 100" too, once the run ended */
}

/* A group supervisor killed with kill -9: each of its runs ends as the run
 * of a killed supervisor of one run does (LOST, nothing of it left). */
static void test_group_supervisor_killed(void **state)
{
    struct fixture *f = *state;
    char go[128];
    snprintf(go, sizeof go, "%s/go", f->dir);
    chr_local_destroy(f->l);
    make_instance_grouped(f, true);
    launch_sleepers(f, go, 3);
    pid_t pgid[3];
    for (int i = 0; i < 3; i++) {
        char id[16];
        snprintf(id, sizeof id, "s%d", i);
        pgid[i] = wait_event(f, id, CHR_LOCAL_RUNNING).pid;
    }
    assert_int_equal(kill(claim_pid(f, "s0"), SIGKILL), 0);
    for (int i = 0; i < 3; i++) {
        char id[16];
        snprintf(id, sizeof id, "s%d", i);
        struct rec fin = wait_event(f, id, 0);
        assert_int_equal(fin.state, CHR_LOCAL_LOST);
        assert_string_equal(fin.reason, "the supervisor died without recording an outcome");
        assert_int_equal(fin.pid, pgid[i]);
        assert_group_gone(pgid[i]);
    }
}

/* After a restart the server has no pipe from a group's supervisor, which
 * lives on with its other runs: a run that ends is found by its record. */
static void test_group_reattach_one_ends(void **state)
{
    struct fixture *f = *state;
    char go[128], cmd[512];
    snprintf(go, sizeof go, "%s/go", f->dir);
    chr_local_destroy(f->l);
    make_instance_grouped(f, true);
    snprintf(cmd, sizeof cmd, "while [ ! -e %s ]; do sleep 0.01; done", go);
    struct chr_local_task quick = shell_task("q", cmd), slow = shell_task("w", "sleep 100");
    launch_ok(f, &quick);
    launch_ok(f, &slow);
    chr_local_flush(f->l);
    wait_event(f, "q", CHR_LOCAL_RUNNING);
    struct rec w = wait_event(f, "w", CHR_LOCAL_RUNNING);
    chr_local_destroy(f->l);
    f->l = NULL;
    f->n = 0;
    make_instance(f);
    assert_int_equal(chr_local_reattach(f->l, NULL), CHR_OK);
    assert_true(wait_event(f, "q", CHR_LOCAL_RUNNING).reattached);
    touch(go);
    assert_int_equal(wait_event(f, "q", 0).state, CHR_LOCAL_FINISHED);
    assert_int_equal(kill(w.pid, 0), 0); /* the other run goes on */
    assert_int_equal(chr_local_kill(f->l, "w"), CHR_OK);
    assert_int_equal(wait_event(f, "w", 0).state, CHR_LOCAL_KILLED);
}

/* ---- Tests: users, resources, bad input ------------------------------------- */

static void test_run_as_user(void **state)
{
    struct fixture *f = *state;
    struct chr_local_task t = shell_task("u1", "id -u; echo $HOME $USER");
    t.run_as_user = "nobody";
    struct chr_local_task u = shell_task("u2", "true");
    u.run_as_user = "no_such_user_xyz";
    launch_ok(f, &t);
    launch_ok(f, &u);
    struct rec r = wait_event(f, "u1", 0);
    if (geteuid() == 0) {
        assert_int_equal(r.state, CHR_LOCAL_FINISHED);
        char *out = run_file(f, "u1", "stdout", NULL);
        assert_non_null(strstr(out, "65534\n"));
        assert_non_null(strstr(out, " nobody\n"));
        chr_free(out);
    } else {
        assert_int_equal(r.state, CHR_LOCAL_FAILED);
        assert_non_null(strstr(r.reason, "not root: it cannot switch user"));
    }
    r = wait_event(f, "u2", 0);
    assert_int_equal(r.state, CHR_LOCAL_FAILED);
    assert_string_equal(r.reason, "runAsUser 'no_such_user_xyz': no such user");
}

static void test_resources_and_bad_tasks(void **state)
{
    struct fixture *f = *state;
    struct chr_error err;
    struct chr_local_task t = shell_task("big", "true");
    t.res.cpus = 4.5;
    assert_int_equal(chr_local_launch(f->l, &t, &err), CHR_ERANGE);
    t.res.cpus = 0.4;
    t.run_id = ".hidden";
    assert_int_equal(chr_local_launch(f->l, &t, &err), CHR_EINVAL);
    assert_string_equal(err.field, "run_id");
    t.run_id = "empty";
    t.command = "";
    assert_int_equal(chr_local_launch(f->l, &t, &err), CHR_EINVAL);
    t.command = "true";
    t.not_before_ms = chr_clock_wall_ms() + CHR_LOCAL_LEAD_MAX_MS + 60000;
    assert_int_equal(chr_local_launch(f->l, &t, &err), CHR_EINVAL);
    assert_string_equal(err.field, "not_before_ms");
    /* Nothing was left behind by the refusals. */
    char path[256];
    snprintf(path, sizeof path, "%s/big", f->runs);
    assert_false(exists(path));
    assert_int_equal(f->n, 0);
    /* Ten runs of 0.4 cpu fit in 4 cpus (sums of doubles). */
    char go[128], cmd[512], ids[10][16];
    snprintf(go, sizeof go, "%s/go", f->dir);
    snprintf(cmd, sizeof cmd, "while [ ! -e %s ]; do sleep 0.01; done", go);
    for (int i = 0; i < 10; i++) {
        snprintf(ids[i], sizeof ids[i], "p%d", i);
        struct chr_local_task p = shell_task(ids[i], cmd);
        p.res = (struct chr_local_resources){0.4, 100, 10};
        launch_ok(f, &p);
    }
    struct chr_local_offer o;
    chr_local_offer(f->l, &o);
    assert_true(o.free.cpus < 1e-6 && o.free.mem_mb > 3095 && o.free.mem_mb < 3097);
    struct chr_local_task extra = shell_task("extra", "true");
    extra.res.cpus = 0.1;
    assert_int_equal(chr_local_launch(f->l, &extra, &err), CHR_ERANGE);
    touch(go);
    for (int i = 0; i < 10; i++)
        assert_int_equal(wait_event(f, ids[i], 0).state, CHR_LOCAL_FINISHED);
    chr_local_offer(f->l, &o);
    assert_true(o.free.cpus == 4);
}

/* Every allocation of launch may fail: it fails cleanly, then succeeds. */
static void test_launch_alloc_failures(void **state)
{
    struct fixture *f = *state;
    struct chr_local_task t = shell_task("alloc", "echo ok");
    char path[256];
    snprintf(path, sizeof path, "%s/alloc", f->runs);
    enum chr_err e = CHR_ENOMEM;
    long n = 1;
    for (; n < 50 && e != CHR_OK; n++) {
        struct chr_error err;
        chr_alloc_fail_after(n);
        e = chr_local_launch(f->l, &t, &err);
        chr_alloc_fail_after(-1);
        if (e != CHR_OK) {
            assert_int_equal(e, CHR_ENOMEM);
            assert_false(exists(path)); /* no partial state */
            struct chr_local_offer o;
            chr_local_offer(f->l, &o);
            assert_true(o.free.cpus == 4);
        }
    }
    assert_int_equal(e, CHR_OK);
    assert_true(n > 2); /* some allocation did fail */
    assert_int_equal(wait_event(f, "alloc", 0).state, CHR_LOCAL_FINISHED);
    assert_int_equal(count_events(f, "alloc"), 3);
}

static void test_create_errors(void **state)
{
    (void)state;
    struct chr_local *l = NULL;
    struct chr_error err;
    struct chr_local_config cfg = {.runs_dir = "", .on_event = on_event};
    assert_int_equal(chr_local_create(&cfg, &l, &err), CHR_EINVAL);
    assert_string_equal(err.field, "runs_dir");
    cfg.runs_dir = "/proc/no/such/dir";
    assert_int_equal(chr_local_create(&cfg, &l, &err), CHR_EIO);
    assert_null(l);
    /* Defaults come from the machine. */
    char dir[] = "/tmp/chr-local-XXXXXX";
    assert_non_null(mkdtemp(dir));
    cfg.runs_dir = dir;
    assert_int_equal(chr_local_create(&cfg, &l, &err), CHR_OK);
    struct chr_local_offer o;
    chr_local_offer(l, &o);
    assert_true(o.free.cpus >= 1 && o.free.mem_mb > 0 && o.free.disk_mb > 0);
    assert_true(o.host[0] != '\0');
    chr_local_destroy(l);
    /* Allocation failures: CHR_ENOMEM and nothing made, until it works. */
    enum chr_err e = CHR_ENOMEM;
    for (long n = 1; n < 20 && e != CHR_OK; n++) {
        l = NULL;
        chr_alloc_fail_after(n);
        e = chr_local_create(&cfg, &l, &err);
        chr_alloc_fail_after(-1);
        if (e != CHR_OK) {
            assert_int_equal(e, CHR_ENOMEM);
            assert_null(l);
        }
    }
    assert_int_equal(e, CHR_OK);
    chr_local_destroy(l);
    rmdir(dir);
}

/* ---- main: the tests, or `run-task` when this binary is the supervisor ---- */

static int supervisor_main(int argc, char **argv)
{
    int fd = -1;
    int i = 1;
    if (argc > 3 && strcmp(argv[1], "--notify-fd") == 0) {
        fd = (int)strtol(argv[2], NULL, 10);
        i = 3;
    }
    if (i >= argc)
        return 2;
    if (argc - i == 1)
        return chr_local_run_task(argv[i], fd);
    return chr_local_run_group((const char *const *)(argv + i), (size_t)(argc - i), fd);
}

int main(int argc, char **argv)
{
    if (argc >= 2 && strcmp(argv[1], "run-task") == 0)
        return supervisor_main(argc - 1, argv + 1);
    ssize_t n = readlink("/proc/self/exe", self_bin, sizeof self_bin - 1);
    if (n <= 0)
        return 1;
    self_bin[n] = '\0';
    const char *bin = getenv("CHRONOS_BIN");
    snprintf(supervisor_bin, sizeof supervisor_bin, "%s", bin && bin[0] ? bin : self_bin);
    if (argc == 4 && strcmp(argv[1], "fake-server") == 0)
        return fake_server_main(argv + 1);
    printf("supervisor: %s\n", supervisor_bin);
    /* Like init, but reaping: the orphans of a supervisor killed by a test
     * come here rather than to a pid 1 that may never reap them. */
    prctl(PR_SET_CHILD_SUBREAPER, 1);
#define TC(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
    const struct CMUnitTest tests[] = {
        TC(test_echo_shell),
        TC(test_no_shell_arguments),
        TC(test_environment),
        TC(test_exit_codes),
        TC(test_exec_failure),
        TC(test_kill_process_group),
        TC(test_kill_right_after_launch),
        TC(test_max_completion_time),
        TC(test_not_before_holds_exec),
        TC(test_kill_while_held),
        TC(test_reattach_while_held),
        TC(test_output_cap),
        TC(test_idempotent_launch),
        TC(test_claim_race),
        TC(test_supervisor_takes_the_ident),
        TC(test_reattach_running),
        TC(test_server_killed),
        TC(test_reattach_finished_and_collect),
        TC(test_collect_keeps_newest),
        TC(test_spec_without_claim),
        TC(test_may_start_refused),
        TC(test_supervisor_exits_before_claim),
        TC(test_disk_is_the_file_systems_size),
        TC(test_pid_record_failure),
        TC(test_reboot_is_lost),
        TC(test_reconcile),
        TC(test_launch_from_event_handler),
        TC(test_supervisor_killed_is_lost),
        TC(test_group_one_supervisor),
        TC(test_group_kill_one),
        TC(test_group_supervisor_killed),
        TC(test_group_reattach_one_ends),
        TC(test_run_as_user),
        TC(test_resources_and_bad_tasks),
        TC(test_launch_alloc_failures),
        cmocka_unit_test(test_create_errors),
    };
#undef TC
    return cmocka_run_group_tests(tests, NULL, NULL);
}
