/*
 * test_durable.c - what survives: real crashes (a child process SIGKILLed at
 * a random moment while it commits, then the parent reopens and checks that
 * every acknowledged batch is there and the state is exactly a prefix of the
 * submitted batches), torn and corrupt log tails, damaged older logs and
 * snapshots (reported, never skipped), checkpoints and their failures, and
 * injected write/fsync failures (the store fails, nothing pretends).
 *
 * The workload and the file helpers are workload.h's.
 *
 * The random seed is printed; CHR_TEST_SEED=<n> replays it.
 */
#include "../unit.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "common/alloc.h"
#include "zkstore/store.h"

#include "fixture.h"
#include "workload.h"

static uint64_t seed_value(void)
{
    const char *env = getenv("CHR_TEST_SEED");
    if (env != NULL)
        return strtoull(env, NULL, 10);
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_nsec ^ ((uint64_t)getpid() << 32);
}

static uint64_t rng_next(uint64_t *s)
{
    *s ^= *s >> 12;
    *s ^= *s << 25;
    *s ^= *s >> 27;
    return *s * 2685821657736338717ull;
}

/* ---- torn and damaged logs ------------------------------------------------------- */

static void test_torn_tail_every_cut(void **state)
{
    struct fx *f = *state;
    open_store(f, 0);
    run_batches(f->s, 0, 12);
    close_store(f);
    char wal[256];
    assert_true(wal_path(f, 0, wal, sizeof wal));
    size_t len;
    unsigned char *orig = read_file(wal, &len);
    uint32_t prev = 12;
    /* Cut 1, 4, 7... bytes: through the last three records and into more. */
    for (size_t cut = 1; cut < 2600 && cut < len; cut += 3) {
        write_file(wal, orig, len - cut);
        open_store(f, 0);
        uint32_t p = check_prefix(f->s);
        assert_true(p < 12 && p <= prev); /* the cut record is gone, no more */
        prev = p;
        /* The log was cut at the last whole record: new writes land after it
         * and survive the next open. */
        run_batches(f->s, p, p + 1);
        close_store(f);
        open_store(f, 0);
        assert_int_equal(check_prefix(f->s), p + 1);
        close_store(f);
    }
    assert_true(prev < 9); /* the loop went back over several records */
    free(orig);
}

/* What a crash leaves after the last record is cut; anything else after it,
 * or a flipped byte inside it, refuses the open and changes nothing. */
static void test_garbage_after_tail(void **state)
{
    struct fx *f = *state;
    open_store(f, 0);
    run_batches(f->s, 0, 10);
    close_store(f);
    char wal[256];
    assert_true(wal_path(f, 0, wal, sizeof wal));
    size_t len;
    unsigned char *buf = read_file(wal, &len);
    unsigned char *big = calloc(1, len + 8192);
    memcpy(big, buf, len);
    /* Zeros, as a crash after a size update but before the data may leave:
     * cut, and the cut is reported with the file and the offset. */
    write_file(wal, big, len + 8192);
    struct chr_error err;
    assert_int_equal(chr_store_open_local(f->dir, NULL, &f->s, &err), CHR_OK);
    char want[64];
    snprintf(want, sizeof want, "at offset %zu", len);
    assert_non_null(strstr(err.message, "wal.0000000000000001"));
    assert_non_null(strstr(err.message, want));
    struct chr_store_stats st;
    chr_store_stats(f->s, &st);
    assert_int_equal(st.torn_bytes, 8192);
    assert_int_equal(check_prefix(f->s), 10);
    close_store(f);
    assert_int_equal(file_size(wal), (off_t)len);
    /* Bytes that are neither a record nor zeros: damage, left as it is. */
    for (size_t k = 0; k < 4096; k++)
        big[len + k] = (unsigned char)(k * 37 + 11);
    write_file(wal, big, len + 4096);
    struct dir_image before;
    dir_image_take(f->dir, &before);
    assert_int_equal(chr_store_open_local(f->dir, NULL, &f->s, &err), CHR_EDAMAGED);
    assert_null(f->s);
    assert_non_null(strstr(err.message, "wal.0000000000000001"));
    assert_non_null(strstr(err.message, want));
    assert_dir_unchanged(f->dir, &before);
    dir_image_free(&before);
    /* A flipped byte inside the last, acknowledged record: not a torn write. */
    write_file(wal, buf, len);
    flip_byte(wal, (off_t)len - 3);
    dir_image_take(f->dir, &before);
    assert_int_equal(chr_store_open_local(f->dir, NULL, &f->s, &err), CHR_EDAMAGED);
    snprintf(want, sizeof want, "at offset %zu", record_offset(buf, len, 10));
    assert_non_null(strstr(err.message, want));
    assert_non_null(strstr(err.message, "checksum"));
    assert_dir_unchanged(f->dir, &before);
    dir_image_free(&before);
    write_file(wal, buf, len);
    open_store(f, 0);
    assert_int_equal(check_prefix(f->s), 10);
    free(big);
    free(buf);
}

static void test_damaged_older_log_is_an_error(void **state)
{
    struct fx *f = *state;
    make_two_wals(f);
    char old[256];
    assert_true(wal_path(f, 0, old, sizeof old));
    size_t len;
    unsigned char *orig = read_file(old, &len);
    flip_byte(old, (off_t)(len / 2));
    struct chr_store *s = NULL;
    assert_int_equal(chr_store_open_local(f->dir, NULL, &s, NULL), CHR_EDAMAGED);
    assert_null(s);
    /* A torn end of an older log is damage too: it was complete when the
     * newer one started. */
    write_file(old, orig, len - 5);
    assert_int_equal(chr_store_open_local(f->dir, NULL, &s, NULL), CHR_EDAMAGED);
    write_file(old, orig, len);
    open_store(f, 0);
    assert_int_equal(check_prefix(f->s), 30);
    free(orig);
}

static void test_missing_log_is_an_error(void **state)
{
    struct fx *f = *state;
    make_two_wals(f);
    char old[256];
    assert_true(wal_path(f, 0, old, sizeof old));
    assert_int_equal(unlink(old), 0);
    struct chr_store *s = NULL;
    assert_int_equal(chr_store_open_local(f->dir, NULL, &s, NULL), CHR_EDAMAGED);
}

static void test_damaged_snapshot_is_an_error(void **state)
{
    struct fx *f = *state;
    open_store(f, 0);
    run_batches(f->s, 0, 40);
    assert_int_equal(chr_store_checkpoint(f->s), CHR_OK);
    close_store(f);
    char snap[256];
    snprintf(snap, sizeof snap, "%s/snap", f->dir);
    size_t len;
    unsigned char *orig = read_file(snap, &len);
    struct chr_store *s = NULL;
    const off_t spots[] = {0, 20, (off_t)len / 2, (off_t)len - 1};
    for (size_t i = 0; i < sizeof spots / sizeof spots[0]; i++) {
        flip_byte(snap, spots[i]);
        assert_int_equal(chr_store_open_local(f->dir, NULL, &s, NULL), CHR_EDAMAGED);
        write_file(snap, orig, len);
    }
    write_file(snap, orig, len - 1);
    assert_int_equal(chr_store_open_local(f->dir, NULL, &s, NULL), CHR_EDAMAGED);
    write_file(snap, orig, len);
    open_store(f, 0);
    assert_int_equal(check_prefix(f->s), 40);
    free(orig);
}

/* ---- cold nodes: data left in the snapshot read at open ---------------------------- */

/* The offset of the first data byte of node `path` in a snapshot's bytes
 * (the record: 12-byte header, path, data). */
static off_t data_offset(const char *snap, const char *path)
{
    size_t len;
    unsigned char *buf = read_file(snap, &len);
    size_t plen = strlen(path);
    off_t at = -1;
    for (size_t i = 12; i + plen < len && at < 0; i++)
        if (memcmp(buf + i, path, plen) == 0 && buf[i + plen] != '/' &&
            (buf[i + plen] < '0' || buf[i + plen] > '9'))
            at = (off_t)(i + plen);
    free(buf);
    assert_true(at > 0);
    return at;
}

/* Nodes read from the snapshot at open are served, checkpointed and
 * reopened the same after chr_store_loaded lets the open's mapping go (their
 * data is read back from the file). */
static void test_cold_nodes_after_loaded(void **state)
{
    struct fx *f = *state;
    open_store(f, 0);
    run_batches(f->s, 0, 40);
    assert_int_equal(chr_store_checkpoint(f->s), CHR_OK);
    close_store(f);
    open_store(f, 0);
    chr_store_loaded(f->s);
    assert_int_equal(check_prefix(f->s), 40);
    run_batches(f->s, 40, 60);
    assert_int_equal(chr_store_checkpoint(f->s), CHR_OK);
    assert_int_equal(check_prefix(f->s), 60);
    close_store(f);
    open_store(f, 0);
    assert_int_equal(check_prefix(f->s), 60);
    close_store(f);
}

/* A byte of a node's data changed on disk after the open (the snapshot the
 * open read and verified): a read of that node fails, the store fails with
 * a cause naming the node, and nothing serves or copies the changed bytes;
 * before and after chr_store_loaded; a checkpoint fails the same way; the
 * next open refuses the snapshot (its checksum), as for any damage. */
static void test_cold_node_changed_on_disk(void **state)
{
    struct fx *f = *state;
    open_store(f, 0);
    run_batches(f->s, 0, 40);
    assert_int_equal(chr_store_checkpoint(f->s), CHR_OK);
    close_store(f);
    char snap[256];
    snprintf(snap, sizeof snap, "%s/snap", f->dir);
    size_t len;
    unsigned char *orig = read_file(snap, &len);
    off_t at = data_offset(snap, "/n/k38") + 5;
    for (int round = 0; round < 3; round++) {
        open_store(f, 0);
        if (round > 0)
            chr_store_loaded(f->s);
        flip_byte(snap, at);
        struct chr_store_health h;
        if (round < 2) {
            void *data = NULL;
            size_t n = 0;
            assert_int_equal(chr_store_get(f->s, "/n/k38", &data, &n, NULL), CHR_EIO);
            assert_null(data);
            assert_int_equal(chr_store_get(f->s, "/n/k37", &data, &n, NULL), CHR_OK);
            chr_free(data);
        } else {
            run_batches(f->s, 40, 41);
            assert_int_not_equal(chr_store_checkpoint(f->s), CHR_OK);
        }
        chr_store_health(f->s, &h);
        printf("round %d: %s\n", round, h.cause);
        assert_false(h.ok);
        assert_true(h.fatal);
        assert_non_null(strstr(h.cause, "/n/k38"));
        assert_non_null(strstr(h.cause, "no longer matches its checksum"));
        close_store(f);
        struct chr_store *s = NULL;
        assert_int_equal(chr_store_open_local(f->dir, NULL, &s, NULL), CHR_EDAMAGED);
        write_file(snap, orig, len);
    }
    open_store(f, 0);
    assert_int_equal(check_prefix(f->s), 41); /* the batch of round 2 was durable */
    close_store(f);
    free(orig);
}

/* ---- checkpoints ---------------------------------------------------------------------- */

static void test_checkpoints_compact_the_log(void **state)
{
    struct fx *f = *state;
    open_store(f, 16 * 1024);
    /* Checkpoints start between group commits: flush every 50 batches
     * (~25 KiB of log) so that there are many groups. */
    struct chr_store_stats st;
    for (uint32_t i = 0; i < 1500; i += 50) {
        run_batches(f->s, i, i + 50);
        /* Each chunk passes the threshold: let the checkpoint it started
         * end (a loaded machine writes snapshots slower than the log), so
         * the count below depends on sizes, not on speed. */
        for (int64_t end = test_mono_ms() + 10000; test_mono_ms() < end; test_nap_ms(2)) {
            chr_store_stats(f->s, &st);
            if (!st.checkpoint_running)
                break;
        }
    }
    assert_int_equal(chr_store_checkpoint(f->s), CHR_OK); /* also waits for a running one */
    chr_store_stats(f->s, &st);
    printf("%llu checkpoints\n", (unsigned long long)st.checkpoints);
    assert_true(st.checkpoints >= 5);
    assert_int_equal(st.checkpoint_failures, 0);
    assert_int_equal(count_wals(f), 1);
    assert_int_equal(check_prefix(f->s), 1500);
    close_store(f);
    char snap[256];
    snprintf(snap, sizeof snap, "%s/snap", f->dir);
    assert_true(file_size(snap) > 0);
    open_store(f, 16 * 1024);
    assert_int_equal(check_prefix(f->s), 1500);
    run_batches(f->s, 1500, 1600);
    close_store(f);
    open_store(f, 0);
    assert_int_equal(check_prefix(f->s), 1600);
}

static void test_stale_snapshot_tmp_is_ignored(void **state)
{
    struct fx *f = *state;
    open_store(f, 0);
    run_batches(f->s, 0, 10);
    close_store(f);
    char tmp[256];
    snprintf(tmp, sizeof tmp, "%s/snap.tmp", f->dir);
    write_file(tmp, "half a snapshot", 15);
    open_store(f, 0);
    assert_int_equal(check_prefix(f->s), 10);
    struct stat sb;
    assert_int_equal(stat(tmp, &sb), -1);
}

/* A checkpoint failing at each of its syncs and writes leaves a working
 * store and loses nothing. */
static void test_checkpoint_failures_lose_nothing(void **state)
{
    struct fx *f = *state;
    open_store(f, 0);
    uint32_t n = 0;
    const struct {
        enum chr_store_fault kind;
        long nth;
    } faults[] = {
        {CHR_STORE_FAULT_SYNC, 1},  /* the new log file */
        {CHR_STORE_FAULT_SYNC, 2},  /* the directory, for the new log */
        {CHR_STORE_FAULT_SYNC, 3},  /* the snapshot */
        {CHR_STORE_FAULT_SYNC, 4},  /* the directory, after the rename */
        {CHR_STORE_FAULT_WRITE, 1}, /* the snapshot's bytes */
    };
    for (size_t i = 0; i < sizeof faults / sizeof faults[0]; i++) {
        run_batches(f->s, n, n + 10);
        n += 10;
        chr_store_fault_inject(f->s, faults[i].kind, faults[i].nth, 1);
        assert_int_equal(chr_store_checkpoint(f->s), CHR_EIO);
        assert_int_equal(chr_store_state(f->s), CHR_OK);
        run_batches(f->s, n, n + 10);
        n += 10;
        close_store(f);
        open_store(f, 0);
        assert_int_equal(check_prefix(f->s), n);
    }
    assert_int_equal(chr_store_checkpoint(f->s), CHR_OK);
    close_store(f);
    assert_int_equal(count_wals(f), 1);
    open_store(f, 0);
    assert_int_equal(check_prefix(f->s), n);
}

/* ---- log write failures ------------------------------------------------------------------ */

struct outcome {
    int calls;
    enum chr_err result;
    enum chr_err op_errs[4];
};

static void record_done(void *ctx, enum chr_err result, const struct chr_store_result *res,
                        size_t n)
{
    struct outcome *o = ctx;
    o->calls++;
    o->result = result;
    for (size_t i = 0; i < n && i < 4; i++)
        o->op_errs[i] = res[i].err;
}

static void assert_fails_store(struct fx *f, enum chr_store_fault kind)
{
    open_store(f, 0);
    run_batches(f->s, 0, 10);
    chr_store_fault_inject(f->s, kind, 1, -1);
    struct wbatch b;
    size_t n = make_batch(10, &b);
    struct outcome o = {0};
    assert_int_equal(chr_store_submit(f->s, b.ops, n, record_done, &o), CHR_OK);
    assert_int_equal(chr_store_flush(f->s), CHR_EIO);
    assert_int_equal(o.calls, 1);
    assert_int_equal(o.result, CHR_EIO);
    for (size_t i = 0; i < n; i++)
        assert_int_equal(o.op_errs[i], CHR_EIO);
    /* Failed: refuses writes, still serves the last durable state. */
    assert_int_equal(chr_store_state(f->s), CHR_EIO);
    assert_int_equal(chr_store_submit(f->s, b.ops, n, record_done, &o), CHR_EIO);
    assert_int_equal(chr_store_submit_wait(f->s, b.ops, n, NULL), CHR_EIO);
    assert_int_equal(chr_store_checkpoint(f->s), CHR_EIO);
    assert_int_equal(o.calls, 1);
    assert_int_equal(check_prefix(f->s), 10);
    close_store(f);
    /* Reopening recovers; the failed batch was cut off the log. */
    open_store(f, 0);
    assert_int_equal(chr_store_state(f->s), CHR_OK);
    assert_int_equal(check_prefix(f->s), 10);
    run_batches(f->s, 10, 20);
    close_store(f);
    open_store(f, 0);
    assert_int_equal(check_prefix(f->s), 20);
}

static void test_log_fsync_failure_fails_store(void **state)
{
    assert_fails_store(*state, CHR_STORE_FAULT_SYNC);
}

static void test_log_write_failure_fails_store(void **state)
{
    assert_fails_store(*state, CHR_STORE_FAULT_WRITE);
}

static void test_queued_batches_fail_too(void **state)
{
    struct fx *f = *state;
    open_store(f, 0);
    run_batches(f->s, 0, 5);
    /* The second group commit from now fails; chunks of 100 batches with a
     * flush between make sure there is a second one. */
    chr_store_fault_inject(f->s, CHR_STORE_FAULT_SYNC, 2, -1);
    enum { N = 300 };
    struct outcome *o = calloc(N, sizeof *o);
    int refused = 0;
    for (uint32_t i = 0; i < N; i++) {
        struct wbatch b;
        size_t n = make_batch(5 + i, &b);
        enum chr_err e = chr_store_submit(f->s, b.ops, n, record_done, &o[i]);
        if (e == CHR_EIO) {
            refused++;
            o[i].calls = 1;
            o[i].result = CHR_EIO;
        } else {
            assert_int_equal(e, CHR_OK);
        }
        if (i % 100 == 99)
            chr_store_flush(f->s);
    }
    assert_int_equal(chr_store_flush(f->s), CHR_EIO);
    /* Every batch completed once; the successes form a prefix, then EIO. */
    int ok = 0;
    for (int i = 0; i < N; i++) {
        assert_int_equal(o[i].calls, 1);
        if (o[i].result == CHR_OK) {
            assert_int_equal(ok, i);
            ok++;
        } else {
            assert_int_equal(o[i].result, CHR_EIO);
        }
    }
    assert_true(ok > 0 && ok < N);
    printf("%d committed, %d failed in the failing group or after, %d refused at submit\n", ok,
           N - ok - refused, refused);
    assert_int_equal(check_prefix(f->s), 5 + (uint32_t)ok);
    close_store(f);
    open_store(f, 0);
    assert_int_equal(check_prefix(f->s), 5 + (uint32_t)ok);
    free(o);
}

/* ---- real crashes -------------------------------------------------------------------------- */

static void ack_done(void *ctx, enum chr_err result, const struct chr_store_result *res,
                     size_t n)
{
    (void)n;
    int fd = *(int *)ctx;
    uint32_t v = result == CHR_OK ? (uint32_t)res[0].version : UINT32_MAX;
    if (write(fd, &v, sizeof v) != (ssize_t)sizeof v)
        _exit(5);
}

/* The child: continues the workload until killed, acknowledging each
 * durable batch over the pipe. */
static void child_run(const char *dir, int fd, uint64_t checkpoint_bytes)
{
    struct chr_store_config cfg = {.checkpoint_bytes = checkpoint_bytes};
    struct chr_store *s = NULL;
    if (chr_store_open_local(dir, &cfg, &s, NULL) != CHR_OK)
        _exit(3);
    int32_t v = -1;
    uint32_t next = chr_store_get(s, "/c", NULL, NULL, &v) == CHR_OK ? (uint32_t)v + 1 : 0;
    static int ack_fd;
    ack_fd = fd;
    for (uint32_t i = next; i < next + 200000; i++) {
        struct wbatch b;
        size_t n = make_batch(i, &b);
        enum chr_err e;
        while ((e = chr_store_submit(s, b.ops, n, ack_done, &ack_fd)) == CHR_EUNAVAIL)
            chr_store_flush(s);
        if (e != CHR_OK)
            _exit(4);
    }
    chr_store_close(s);
    _exit(0);
}

/* One round: fork, let the child commit, SIGKILL it after `kill_after`
 * acknowledgements; returns the highest acknowledged batch + 1. */
static uint32_t crash_round(const struct fx *f, uint64_t checkpoint_bytes, uint32_t kill_after)
{
    int p[2];
    assert_int_equal(pipe(p), 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        close(p[0]);
        child_run(f->dir, p[1], checkpoint_bytes);
    }
    close(p[1]);
    uint32_t acked = 0, count = 0, v;
    bool killed = false;
    unsigned char buf[4096];
    size_t have = 0;
    for (;;) {
        ssize_t got = read(p[0], buf + have, sizeof buf - have);
        if (got < 0 && errno == EINTR)
            continue;
        if (got <= 0)
            break;
        have += (size_t)got;
        size_t k = 0;
        for (; k + 4 <= have; k += 4) {
            memcpy(&v, buf + k, 4);
            if (v == UINT32_MAX)
                fail_msg("the child saw a failed batch");
            if (v + 1 > acked)
                acked = v + 1;
            count++;
        }
        memmove(buf, buf + k, have - k);
        have -= k;
        if (!killed && count >= kill_after) {
            kill(pid, SIGKILL);
            killed = true;
        }
    }
    close(p[0]);
    int status = 0;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    if (!(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL) &&
        !(WIFEXITED(status) && WEXITSTATUS(status) == 0))
        fail_msg("child ended with status %d", status);
    return acked;
}

static void crash_rounds(struct fx *f, uint64_t checkpoint_bytes, int rounds)
{
    uint64_t seed = seed_value();
    printf("seed=%llu (CHR_TEST_SEED=%llu replays the kill points)\n", (unsigned long long)seed,
           (unsigned long long)seed);
    uint32_t durable = 0;
    for (int r = 0; r < rounds; r++) {
        uint32_t kill_after = 1 + (uint32_t)(rng_next(&seed) % 2500);
        uint32_t acked = crash_round(f, checkpoint_bytes, kill_after);
        open_store(f, checkpoint_bytes);
        uint32_t p = check_prefix(f->s);
        close_store(f);
        if (p < acked || p < durable)
            fail_msg("round %d: store holds %u batches, %u were acknowledged (%u before)", r,
                     p, acked, durable);
        printf("round %d: killed after %u acks; %u acknowledged, %u durable\n", r, kill_after,
               acked, p);
        durable = p;
    }
    assert_true(durable > 0);
}

static void test_crash_kill9(void **state)
{
    crash_rounds(*state, 0, 6);
}

static void test_crash_kill9_during_checkpoints(void **state)
{
    /* A checkpoint every 32 KiB of log: kills land inside them often. */
    crash_rounds(*state, 32 * 1024, 6);
}

static void test_checkpoint_then_crash(void **state)
{
    struct fx *f = *state;
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        struct chr_store *s = NULL;
        if (chr_store_open_local(f->dir, NULL, &s, NULL) != CHR_OK)
            _exit(3);
        for (uint32_t i = 0; i < 300; i++) {
            struct wbatch b;
            size_t n = make_batch(i, &b);
            if (chr_store_submit_wait(s, b.ops, n, NULL) != CHR_OK)
                _exit(4);
            if (i == 150 && chr_store_checkpoint(s) != CHR_OK)
                _exit(5);
        }
        raise(SIGKILL); /* no close: the last 149 batches are only in the log */
        _exit(6);
    }
    int status = 0;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
    open_store(f, 0);
    assert_int_equal(check_prefix(f->s), 300);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_torn_tail_every_cut, wl_setup, wl_teardown),
        cmocka_unit_test_setup_teardown(test_garbage_after_tail, wl_setup, wl_teardown),
        cmocka_unit_test_setup_teardown(test_damaged_older_log_is_an_error, wl_setup, wl_teardown),
        cmocka_unit_test_setup_teardown(test_missing_log_is_an_error, wl_setup, wl_teardown),
        cmocka_unit_test_setup_teardown(test_damaged_snapshot_is_an_error, wl_setup, wl_teardown),
        cmocka_unit_test_setup_teardown(test_cold_nodes_after_loaded, wl_setup, wl_teardown),
        cmocka_unit_test_setup_teardown(test_cold_node_changed_on_disk, wl_setup, wl_teardown),
        cmocka_unit_test_setup_teardown(test_checkpoints_compact_the_log, wl_setup, wl_teardown),
        cmocka_unit_test_setup_teardown(test_stale_snapshot_tmp_is_ignored, wl_setup, wl_teardown),
        cmocka_unit_test_setup_teardown(test_checkpoint_failures_lose_nothing, wl_setup, wl_teardown),
        cmocka_unit_test_setup_teardown(test_log_fsync_failure_fails_store, wl_setup, wl_teardown),
        cmocka_unit_test_setup_teardown(test_log_write_failure_fails_store, wl_setup, wl_teardown),
        cmocka_unit_test_setup_teardown(test_queued_batches_fail_too, wl_setup, wl_teardown),
        cmocka_unit_test_setup_teardown(test_crash_kill9, wl_setup, wl_teardown),
        cmocka_unit_test_setup_teardown(test_crash_kill9_during_checkpoints, wl_setup, wl_teardown),
        cmocka_unit_test_setup_teardown(test_checkpoint_then_crash, wl_setup, wl_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
