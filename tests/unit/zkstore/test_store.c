/*
 * test_store.c - the store's semantics through the public API, on the local
 * backend: the conformance suite that the ZooKeeper backend runs too
 * (conformance.h: versions, parents and children, atomic multi-op batches,
 * completions in submission order, re-entry, the bounded queue), and what
 * this backend adds: mkdirs and wide listings, concurrent submitters, limits
 * and argument checks, the directory lock, allocation failures, and state
 * surviving close + reopen.  Crashes and file damage: test_durable.c.
 */
#include "../unit.h"

#include <dirent.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/alloc.h"
#include "zkstore/store.h"

#include "conformance.h"
#include "fixture.h"
#include "ops.h"

/* The fixture: a store in "<tmp>/db"; conformance.h's tests see its first member. */
struct lfx {
    struct cf_fx cf;
    char tmp[64];
    char dir[96];
};

static void reopen_cfg(struct cf_fx *c, const struct chr_store_config *cfg)
{
    struct lfx *f = (struct lfx *)(void *)c;
    chr_store_close(f->cf.s);
    f->cf.s = NULL;
    assert_int_equal(chr_store_open_local(f->dir, cfg, &f->cf.s, NULL), CHR_OK);
}

static void reopen(struct lfx *f)
{
    reopen_cfg(&f->cf, NULL);
}

static const struct cf_backend local_backend = {
    .reopen = reopen_cfg,
    .counts_nodes = true,
    .check_any_reports_version = true,
};

static int setup(void **state)
{
    struct lfx *f = calloc(1, sizeof *f);
    f->cf.be = &local_backend;
    snprintf(f->tmp, sizeof f->tmp, "/tmp/chr-store-XXXXXX");
    if (mkdtemp(f->tmp) == NULL)
        return -1;
    snprintf(f->dir, sizeof f->dir, "%s/db", f->tmp);
    if (chr_store_open_local(f->dir, NULL, &f->cf.s, NULL) != CHR_OK)
        return -1;
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct lfx *f = *state;
    chr_store_close(f->cf.s);
    rm_tree(f->tmp);
    free(f);
    return 0;
}

/* ---- listings and mkdirs (the rest of the basics: conformance.h) ------------------ */

static void test_children_many_sorted(void **state)
{
    struct lfx *f = *state;
    assert_int_equal(chr_store_mkdirs(f->cf.s, "/chronos/jobs/00"), CHR_OK);
    struct chr_store_op ops[100];
    char paths[100][64];
    for (int i = 0; i < 100; i++) {
        snprintf(paths[i], sizeof paths[i], "/chronos/jobs/00/j%03d", 99 - i);
        ops[i] = op_create(paths[i], "{}");
    }
    assert_int_equal(chr_store_submit_wait(f->cf.s, ops, 100, NULL), CHR_OK);
    struct chr_store_names *names = NULL;
    assert_int_equal(chr_store_children(f->cf.s, "/chronos/jobs/00", &names), CHR_OK);
    assert_int_equal(names->n, 100);
    for (size_t i = 0; i < names->n; i++) {
        char want[32];
        snprintf(want, sizeof want, "j%03u", (unsigned)i);
        assert_string_equal(names->names[i], want);
    }
    chr_store_names_free(names);
}

static void test_mkdirs(void **state)
{
    struct lfx *f = *state;
    assert_int_equal(chr_store_mkdirs(f->cf.s, "/a/b/c"), CHR_OK);
    assert_node(f->cf.s, "/a", "", 0);
    assert_node(f->cf.s, "/a/b/c", "", 0);
    assert_int_equal(chr_store_mkdirs(f->cf.s, "/a/b/c"), CHR_OK); /* idempotent */
    assert_int_equal(chr_store_mkdirs(f->cf.s, "/"), CHR_OK);
    assert_int_equal(chr_store_mkdirs(f->cf.s, "/a//b"), CHR_EINVAL);
}

/* ---- completions (struct order and order_done: conformance.h) ----------------------- */

struct submitter {
    struct chr_store *s;
    struct order *o;
    int thread;
    struct tag tags[400];
};

static void *submit_thread(void *arg)
{
    struct submitter *sb = arg;
    for (int i = 0; i < 400; i++) {
        char path[32];
        snprintf(path, sizeof path, "/t%d-%d", sb->thread, i);
        sb->tags[i] = (struct tag){.o = sb->o, .id = sb->thread * 1000 + i};
        struct chr_store_op op = op_create(path, "x");
        enum chr_err e;
        while ((e = chr_store_submit(sb->s, &op, 1, order_done, &sb->tags[i])) == CHR_EUNAVAIL)
            chr_store_flush(sb->s);
        if (e != CHR_OK)
            abort();
    }
    return NULL;
}

static void test_concurrent_submitters(void **state)
{
    struct lfx *f = *state;
    enum { T = 4 };
    struct order o = {.seen = calloc(T * 400, sizeof(int))};
    pthread_mutex_init(&o.mu, NULL);
    struct submitter *sb = calloc(T, sizeof *sb);
    pthread_t th[T];
    for (int t = 0; t < T; t++) {
        sb[t] = (struct submitter){.s = f->cf.s, .o = &o, .thread = t};
        pthread_create(&th[t], NULL, submit_thread, &sb[t]);
    }
    for (int t = 0; t < T; t++)
        pthread_join(th[t], NULL);
    assert_int_equal(chr_store_flush(f->cf.s), CHR_OK);
    assert_int_equal(o.n_seen, T * 400);
    assert_int_equal(o.bad, 0);
    /* Each thread's batches complete in its submission order. */
    int last[T] = {-1, -1, -1, -1};
    for (int i = 0; i < T * 400; i++) {
        int t = o.seen[i] / 1000, k = o.seen[i] % 1000;
        assert_true(k > last[t]);
        last[t] = k;
    }
    struct chr_store_stats st;
    chr_store_stats(f->cf.s, &st);
    assert_int_equal(st.nodes, 1 + T * 400);
    pthread_mutex_destroy(&o.mu);
    free(sb);
    free(o.seen);
}

/* ---- limits and arguments --------------------------------------------------------- */

static int never_called;

static void never_done(void *ctx, enum chr_err result, const struct chr_store_result *res,
                       size_t n)
{
    (void)ctx;
    (void)result;
    (void)res;
    (void)n;
    never_called++;
}

static void test_bad_arguments(void **state)
{
    struct lfx *f = *state;
    struct {
        struct chr_store_op op;
        enum chr_err want;
    } cases[] = {
        {op_create("a", "x"), CHR_EINVAL},
        {op_create("/a/", "x"), CHR_EINVAL},
        {op_create("/a/../b", "x"), CHR_EINVAL},
        {op_create("/", "x"), CHR_EINVAL},
        {op_del("/", -1), CHR_EINVAL},
        {op_create("/zookeeper", "x"), CHR_EINVAL},
        {op_set("/a", "x", -2), CHR_EINVAL},
        {{.type = 99, .path = "/a"}, CHR_EINVAL},
        {{.type = CHR_STORE_SET, .path = "/a", .data = NULL, .len = 3}, CHR_EINVAL},
        {{.type = CHR_STORE_CREATE, .path = "/a", .data = "", .len = CHR_STORE_NODE_MAX + 1},
         CHR_ERANGE},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        enum chr_err e = chr_store_submit(f->cf.s, &cases[i].op, 1, never_done, NULL);
        if (e != cases[i].want)
            fail_msg("case %zu: %s, want %s", i, chr_err_name(e), chr_err_name(cases[i].want));
    }
    struct chr_store_op ok = op_create("/a", "x");
    assert_int_equal(chr_store_submit(f->cf.s, &ok, 0, never_done, NULL), CHR_EINVAL);
    assert_int_equal(chr_store_submit(f->cf.s, NULL, 1, never_done, NULL), CHR_EINVAL);
    assert_int_equal(chr_store_get(f->cf.s, "/a/../a", NULL, NULL, NULL), CHR_EINVAL);
    assert_int_equal(chr_store_get(f->cf.s, "", NULL, NULL, NULL), CHR_EINVAL);
    assert_int_equal(chr_store_flush(f->cf.s), CHR_OK);
    assert_int_equal(never_called, 0);
    assert_children(f->cf.s, "/", "");
}

static void test_size_limits(void **state)
{
    struct lfx *f = *state;
    enum { OPS = CHR_STORE_BATCH_OPS_MAX + 1 };
    struct chr_store_op *ops = calloc(OPS, sizeof *ops);
    for (int i = 0; i < OPS; i++)
        ops[i] = op_check("/", -1);
    assert_int_equal(chr_store_submit(f->cf.s, ops, OPS, never_done, NULL), CHR_ERANGE);
    assert_int_equal(chr_store_submit_wait(f->cf.s, ops, OPS - 1, NULL), CHR_OK);
    /* One node of exactly the maximum size round-trips. */
    char *big = malloc(CHR_STORE_NODE_MAX);
    for (size_t i = 0; i < CHR_STORE_NODE_MAX; i++)
        big[i] = (char)(i * 13);
    struct chr_store_op op = {.type = CHR_STORE_CREATE, .path = "/big", .data = big,
                              .len = CHR_STORE_NODE_MAX, .version = -1};
    assert_int_equal(chr_store_submit_wait(f->cf.s, &op, 1, NULL), CHR_OK);
    /* Two such ops exceed the batch bound. */
    struct chr_store_op two[] = {op, op};
    two[0].path = "/big2";
    two[1].type = CHR_STORE_SET;
    assert_int_equal(chr_store_submit(f->cf.s, two, 2, never_done, NULL), CHR_ERANGE);
    reopen(f);
    void *data = NULL;
    size_t len = 0;
    assert_int_equal(chr_store_get(f->cf.s, "/big", &data, &len, NULL), CHR_OK);
    assert_int_equal(len, CHR_STORE_NODE_MAX);
    assert_memory_equal(data, big, len);
    chr_free(data);
    free(big);
    free(ops);
    assert_int_equal(never_called, 0);
}

static void test_children_limit(void **state)
{
    struct lfx *f = *state;
    assert_int_equal(one(f->cf.s, op_create("/wide", "")), CHR_OK);
    enum { PER = CHR_STORE_BATCH_OPS_MAX };
    struct chr_store_op *ops = calloc(PER, sizeof *ops);
    char(*paths)[32] = calloc(PER, sizeof *paths);
    for (int done = 0; done <= CHR_STORE_CHILDREN_MAX;) {
        int n = 0;
        for (; n < PER && done <= CHR_STORE_CHILDREN_MAX; n++, done++) {
            snprintf(paths[n], sizeof paths[n], "/wide/c%d", done);
            ops[n] = op_create(paths[n], NULL);
        }
        assert_int_equal(chr_store_submit_wait(f->cf.s, ops, (size_t)n, NULL), CHR_OK);
        if (done == CHR_STORE_CHILDREN_MAX) {
            struct chr_store_names *names = NULL;
            assert_int_equal(chr_store_children(f->cf.s, "/wide", &names), CHR_OK);
            assert_int_equal(names->n, CHR_STORE_CHILDREN_MAX);
            chr_store_names_free(names);
        }
    }
    struct chr_store_names *names = (void *)1;
    assert_int_equal(chr_store_children(f->cf.s, "/wide", &names), CHR_ERANGE);
    assert_null(names);
    free(paths);
    free(ops);
}

static void test_directory_lock(void **state)
{
    struct lfx *f = *state;
    struct chr_store *second = NULL;
    assert_int_equal(chr_store_open_local(f->dir, NULL, &second, NULL), CHR_EUNAVAIL);
    assert_null(second);
    reopen(f); /* released by close */
    assert_int_equal(chr_store_open_local("", NULL, &second, NULL), CHR_EINVAL);
    assert_int_equal(chr_store_open_local("/nonexistent-parent/x/y", NULL, &second, NULL), CHR_EIO);
}

static void test_state_survives_reopen(void **state)
{
    struct lfx *f = *state;
    assert_int_equal(chr_store_mkdirs(f->cf.s, "/chronos/jobs/7b"), CHR_OK);
    assert_int_equal(one(f->cf.s, op_create("/chronos/jobs/7b/nightly", "{\"name\":1}")), CHR_OK);
    assert_int_equal(one(f->cf.s, op_set("/chronos/jobs/7b/nightly", "{\"name\":2}", 0)), CHR_OK);
    assert_int_equal(one(f->cf.s, op_create("/gone", "")), CHR_OK);
    assert_int_equal(one(f->cf.s, op_del("/gone", 0)), CHR_OK);
    assert_int_equal(one(f->cf.s, op_set("/", "rootdata", 0)), CHR_OK);
    for (int round = 0; round < 3; round++) {
        reopen(f);
        assert_node(f->cf.s, "/chronos/jobs/7b/nightly", "{\"name\":2}", 1);
        assert_node(f->cf.s, "/", "rootdata", 1);
        assert_absent(f->cf.s, "/gone");
        assert_children(f->cf.s, "/chronos/jobs", "7b");
        assert_int_equal(chr_store_checkpoint(f->cf.s), CHR_OK); /* then from a snapshot */
    }
    struct chr_store_stats st;
    chr_store_stats(f->cf.s, &st);
    assert_int_equal(st.seq, 8);
    assert_int_equal(st.nodes, 5);
}

/* ---- allocation failures ------------------------------------------------------------ */

static void test_alloc_failures(void **state)
{
    struct lfx *f = *state;
    /* submit: fails cleanly (no callback) or completes with OK or ENOMEM. */
    for (long n = 1; n < 12; n++) {
        char path[32];
        snprintf(path, sizeof path, "/n%ld", n);
        struct chr_store_op ops[] = {op_create(path, "data"), op_check("/", -1)};
        struct chr_store_result res[2];
        chr_alloc_fail_after(n);
        enum chr_err e = chr_store_submit_wait(f->cf.s, ops, 2, res);
        chr_alloc_fail_after(-1);
        assert_true(e == CHR_OK || e == CHR_ENOMEM);
        int32_t v;
        assert_int_equal(chr_store_get(f->cf.s, path, NULL, NULL, &v),
                         e == CHR_OK ? CHR_OK : CHR_ENOENT);
    }
    /* get and children. */
    chr_alloc_fail_after(1);
    void *data = NULL;
    assert_int_equal(chr_store_get(f->cf.s, "/", &data, NULL, NULL), CHR_ENOMEM);
    assert_null(data);
    struct chr_store_names *names = NULL;
    chr_alloc_fail_after(1);
    assert_int_equal(chr_store_children(f->cf.s, "/", &names), CHR_ENOMEM);
    chr_alloc_fail_after(-1);
    /* open: every allocation in turn, on a store with data to load. */
    assert_int_equal(chr_store_checkpoint(f->cf.s), CHR_OK);
    assert_int_equal(one(f->cf.s, op_create("/after", "x")), CHR_OK);
    chr_store_close(f->cf.s);
    f->cf.s = NULL;
    for (long n = 1; n < 40; n++) {
        struct chr_store *s = NULL;
        chr_alloc_fail_after(n);
        enum chr_err e = chr_store_open_local(f->dir, NULL, &s, NULL);
        chr_alloc_fail_after(-1);
        assert_true(e == CHR_OK || e == CHR_ENOMEM);
        if (e == CHR_OK) {
            assert_node(s, "/after", "x", 0);
            chr_store_close(s);
        }
    }
    reopen(f);
    assert_node(f->cf.s, "/after", "x", 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        CF_TEST(empty_store, setup, teardown),
        CF_TEST(create_get_set_delete, setup, teardown),
        CF_TEST(op_errors, setup, teardown),
        CF_TEST(parents_and_children, setup, teardown),
        cmocka_unit_test_setup_teardown(test_children_many_sorted, setup, teardown),
        cmocka_unit_test_setup_teardown(test_mkdirs, setup, teardown),
        CF_TEST(batch_sees_own_effects, setup, teardown),
        CF_TEST(conflict_fails_whole_batch, setup, teardown),
        CF_TEST(failed_batch_leaves_group_intact, setup, teardown),
        CF_TEST(check_guards_batch, setup, teardown),
        CF_TEST(callbacks_in_order, setup, teardown),
        cmocka_unit_test_setup_teardown(test_concurrent_submitters, setup, teardown),
        CF_TEST(callback_reentry, setup, teardown),
        CF_TEST(queue_full_never_blocks, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_arguments, setup, teardown),
        cmocka_unit_test_setup_teardown(test_size_limits, setup, teardown),
        cmocka_unit_test_setup_teardown(test_children_limit, setup, teardown),
        cmocka_unit_test_setup_teardown(test_directory_lock, setup, teardown),
        cmocka_unit_test_setup_teardown(test_state_survives_reopen, setup, teardown),
        cmocka_unit_test_setup_teardown(test_alloc_failures, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
