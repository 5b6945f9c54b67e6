/*
 * zk_fixture.h - a real ZooKeeper for the zkstore tests: one standalone
 * server started by tests/zk/zk.sh for the whole test binary, stopped at the
 * end, at exit, and (by a detached watchdog) even when the binary dies by a
 * signal, so no java process outlives a test run.  Each test works under a
 * chroot of its own ("/t<pid>_<n>").
 */
#ifndef CHR_TEST_ZK_FIXTURE_H
#define CHR_TEST_ZK_FIXTURE_H

#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "fixture.h"

static char zkfx_sh[PATH_MAX];  /* tests/zk/zk.sh */
static char zkfx_dir[64];       /* the server's directory */
static char zkfx_hosts[256];    /* its connect string */
static int zkfx_started;

/* Finds tests/zk/zk.sh from the working directory or above the binary. */
static int zkfx_find_script(void)
{
    if (access("tests/zk/zk.sh", X_OK) == 0)
        return realpath("tests/zk/zk.sh", zkfx_sh) != NULL ? 0 : -1;
    char exe[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n <= 0)
        return -1;
    exe[n] = '\0';
    for (int up = 0; up < 8; up++) {
        char *slash = strrchr(exe, '/');
        if (slash == NULL)
            break;
        *slash = '\0';
        char cand[PATH_MAX + 32];
        snprintf(cand, sizeof cand, "%s/tests/zk/zk.sh", exe);
        if (access(cand, X_OK) == 0 && strlen(cand) < sizeof zkfx_sh) {
            memcpy(zkfx_sh, cand, strlen(cand) + 1);
            return 0;
        }
    }
    return -1;
}

/* The server's pid (0 if unknown). */
static pid_t zkfx_pid(void)
{
    char path[128];
    snprintf(path, sizeof path, "%s/1/pid", zkfx_dir);
    FILE *f = fopen(path, "r");
    long pid = 0;
    if (f != NULL) {
        if (fscanf(f, "%ld", &pid) != 1)
            pid = 0;
        fclose(f);
    }
    return (pid_t)pid;
}

static void zkfx_stop(void)
{
    if (!zkfx_started)
        return;
    zkfx_started = 0;
    pid_t pid = zkfx_pid();
    if (pid > 0)
        kill(pid, SIGCONT);
    char cmd[PATH_MAX + 128];
    snprintf(cmd, sizeof cmd, "'%s' stop '%s' >/dev/null 2>&1", zkfx_sh, zkfx_dir);
    if (system(cmd) != 0)
        fprintf(stderr, "zk fixture: stopping the server failed\n");
    rm_tree(zkfx_dir);
}

/* Starts the server; 0 on success.  For cmocka's group setup. */
static int zkfx_start(void)
{
    if (zkfx_find_script() != 0) {
        fprintf(stderr, "zk fixture: tests/zk/zk.sh not found\n");
        return -1;
    }
    snprintf(zkfx_dir, sizeof zkfx_dir, "/tmp/chr-zk-XXXXXX");
    if (mkdtemp(zkfx_dir) == NULL)
        return -1;
    char cmd[2 * PATH_MAX + 256];
    /* The watchdog: once this process is gone, however it went, stop. */
    snprintf(cmd, sizeof cmd,
             "setsid sh -c 'while kill -0 %ld 2>/dev/null; do sleep 1; done; "
             "\"%s\" stop \"%s\"; rm -rf \"%s\"' </dev/null >/dev/null 2>&1 &",
             (long)getpid(), zkfx_sh, zkfx_dir, zkfx_dir);
    if (system(cmd) != 0)
        return -1;
    zkfx_started = 1;
    atexit(zkfx_stop);
    snprintf(cmd, sizeof cmd, "'%s' start '%s' 1 2>&1", zkfx_sh, zkfx_dir);
    FILE *p = popen(cmd, "r");
    if (p == NULL)
        return -1;
    char line[256];
    zkfx_hosts[0] = '\0';
    while (fgets(line, sizeof line, p) != NULL) {
        line[strcspn(line, "\n")] = '\0';
        if (strncmp(line, "127.0.0.1:", 10) == 0)
            snprintf(zkfx_hosts, sizeof zkfx_hosts, "%s", line);
        else
            fprintf(stderr, "zk.sh: %s\n", line);
    }
    if (pclose(p) != 0 || zkfx_hosts[0] == '\0') {
        fprintf(stderr, "zk fixture: the server did not start\n");
        return -1;
    }
    return 0;
}

/* cmocka group setup and teardown: one server for the whole binary. */
static inline int zkfx_group_setup(void **state)
{
    (void)state;
    return zkfx_start();
}

static inline int zkfx_group_teardown(void **state)
{
    (void)state;
    zkfx_stop();
    return 0;
}

/* "<hosts>/t<pid>_<n><suffix>": a fresh chroot for each call. */
static void zkfx_chroot_hosts(char *out, size_t cap, const char *suffix)
{
    static int n;
    snprintf(out, cap, "%s/t%ld_%d%s", zkfx_hosts, (long)getpid(), ++n,
             suffix != NULL ? suffix : "");
}

/* Polls `cond` every 5 ms until it holds or `ms` pass; assert it after. */
#define WAIT_UNTIL(cond, ms)                                                                 \
    for (int64_t until_ = test_mono_ms() + (ms); !(cond) && test_mono_ms() < until_;)          \
    usleep(5000)

#endif
