/*
 * test_store.c - the store's semantics through the public API, on the local
 * backend: create/set/delete/check, versions, parents and children, atomic
 * multi-op batches (all or nothing, ZooKeeper-shaped per-op results),
 * completions in submission order, listings, limits and argument checks,
 * the directory lock, the bounded queue, allocation failures, and state
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

#include "fixture.h"
#include "ops.h"

static int setup(void **state)
{
    struct fx *f = calloc(1, sizeof *f);
    snprintf(f->tmp, sizeof f->tmp, "/tmp/chr-store-XXXXXX");
    if (mkdtemp(f->tmp) == NULL)
        return -1;
    snprintf(f->dir, sizeof f->dir, "%s/db", f->tmp);
    if (chr_store_open_local(f->dir, NULL, &f->s) != CHR_OK)
        return -1;
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fx *f = *state;
    chr_store_close(f->s);
    rm_tree(f->tmp);
    free(f);
    return 0;
}

static void reopen(struct fx *f)
{
    chr_store_close(f->s);
    f->s = NULL;
    assert_int_equal(chr_store_open_local(f->dir, NULL, &f->s), CHR_OK);
}

/* ---- basic operations ---------------------------------------------------------- */

static void test_empty_store(void **state)
{
    struct fx *f = *state;
    assert_node(f->s, "/", "", 0);
    assert_children(f->s, "/", "");
    assert_absent(f->s, "/a");
    struct chr_store_stats st;
    chr_store_stats(f->s, &st);
    assert_int_equal(st.nodes, 1);
    assert_int_equal(st.seq, 0);
    assert_int_equal(chr_store_state(f->s), CHR_OK);
}

static void test_create_get_set_delete(void **state)
{
    struct fx *f = *state;
    assert_int_equal(one(f->s, op_create("/a", "hello")), CHR_OK);
    assert_node(f->s, "/a", "hello", 0);
    assert_int_equal(one(f->s, op_set("/a", "v1", 0)), CHR_OK);
    assert_node(f->s, "/a", "v1", 1);
    assert_int_equal(one(f->s, op_set("/a", "any", -1)), CHR_OK);
    assert_node(f->s, "/a", "any", 2);
    assert_int_equal(one(f->s, op_create("/b", NULL)), CHR_OK);
    assert_node(f->s, "/b", "", 0);
    assert_int_equal(one(f->s, op_del("/a", 2)), CHR_OK);
    assert_absent(f->s, "/a");
    assert_children(f->s, "/", "b");
    /* get with only a version: a stat. */
    int32_t v = -5;
    assert_int_equal(chr_store_get(f->s, "/b", NULL, NULL, &v), CHR_OK);
    assert_int_equal(v, 0);
}

static void test_op_errors(void **state)
{
    struct fx *f = *state;
    assert_int_equal(one(f->s, op_create("/a", "x")), CHR_OK);
    assert_int_equal(one(f->s, op_create("/a", "y")), CHR_ECONFLICT);
    assert_int_equal(one(f->s, op_set("/a", "y", 5)), CHR_ECONFLICT);
    assert_int_equal(one(f->s, op_del("/a", 1)), CHR_ECONFLICT);
    assert_int_equal(one(f->s, op_set("/nope", "y", -1)), CHR_ENOENT);
    assert_int_equal(one(f->s, op_del("/nope", -1)), CHR_ENOENT);
    assert_int_equal(one(f->s, op_check("/nope", -1)), CHR_ENOENT);
    assert_int_equal(one(f->s, op_check("/a", 1)), CHR_ECONFLICT);
    assert_int_equal(one(f->s, op_check("/a", 0)), CHR_OK);
    assert_int_equal(one(f->s, op_check("/a", -1)), CHR_OK);
    assert_node(f->s, "/a", "x", 0);
}

static void test_parents_and_children(void **state)
{
    struct fx *f = *state;
    assert_int_equal(one(f->s, op_create("/p/q", "x")), CHR_ENOENT);
    assert_int_equal(one(f->s, op_create("/p", "")), CHR_OK);
    assert_int_equal(one(f->s, op_create("/p/q", "x")), CHR_OK);
    assert_int_equal(one(f->s, op_create("/p/a", "y")), CHR_OK);
    assert_int_equal(one(f->s, op_create("/p/q/r", "z")), CHR_OK);
    assert_children(f->s, "/p", "a q");
    assert_children(f->s, "/p/q", "r");
    assert_children(f->s, "/p/a", "");
    /* ZooKeeper's ZNOTEMPTY. */
    assert_int_equal(one(f->s, op_del("/p", -1)), CHR_ECONFLICT);
    assert_int_equal(one(f->s, op_del("/p/q", -1)), CHR_ECONFLICT);
    assert_int_equal(one(f->s, op_del("/p/q/r", -1)), CHR_OK);
    assert_int_equal(one(f->s, op_del("/p/q", -1)), CHR_OK);
    assert_int_equal(one(f->s, op_del("/p/a", -1)), CHR_OK);
    assert_int_equal(one(f->s, op_del("/p", -1)), CHR_OK);
    assert_children(f->s, "/", "");
    struct chr_store_names *names = (void *)1;
    assert_int_equal(chr_store_children(f->s, "/p", &names), CHR_ENOENT);
    assert_null(names);
}

static void test_children_many_sorted(void **state)
{
    struct fx *f = *state;
    assert_int_equal(chr_store_mkdirs(f->s, "/chronos/jobs/00"), CHR_OK);
    struct chr_store_op ops[100];
    char paths[100][64];
    for (int i = 0; i < 100; i++) {
        snprintf(paths[i], sizeof paths[i], "/chronos/jobs/00/j%03d", 99 - i);
        ops[i] = op_create(paths[i], "{}");
    }
    assert_int_equal(chr_store_submit_wait(f->s, ops, 100, NULL), CHR_OK);
    struct chr_store_names *names = NULL;
    assert_int_equal(chr_store_children(f->s, "/chronos/jobs/00", &names), CHR_OK);
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
    struct fx *f = *state;
    assert_int_equal(chr_store_mkdirs(f->s, "/a/b/c"), CHR_OK);
    assert_node(f->s, "/a", "", 0);
    assert_node(f->s, "/a/b/c", "", 0);
    assert_int_equal(chr_store_mkdirs(f->s, "/a/b/c"), CHR_OK); /* idempotent */
    assert_int_equal(chr_store_mkdirs(f->s, "/"), CHR_OK);
    assert_int_equal(chr_store_mkdirs(f->s, "/a//b"), CHR_EINVAL);
}

/* ---- batches ----------------------------------------------------------------------- */

static void test_batch_sees_own_effects(void **state)
{
    struct fx *f = *state;
    struct chr_store_op ops[] = {
        op_create("/p", "1"), op_create("/p/q", "2"), op_set("/p/q", "3", 0),
        op_check("/p/q", 1),  op_set("/p/q", "4", 1),  op_del("/p/q", 2),
        op_create("/p/q", "5"),
    };
    struct chr_store_result res[7];
    assert_int_equal(chr_store_submit_wait(f->s, ops, 7, res), CHR_OK);
    const int32_t want[] = {0, 0, 1, 1, 2, -1, 0};
    for (int i = 0; i < 7; i++) {
        assert_int_equal(res[i].err, CHR_OK);
        assert_int_equal(res[i].version, want[i]);
    }
    assert_node(f->s, "/p/q", "5", 0);
}

static void test_conflict_fails_whole_batch(void **state)
{
    struct fx *f = *state;
    assert_int_equal(one(f->s, op_create("/a", "orig")), CHR_OK);
    assert_int_equal(one(f->s, op_create("/b", "b")), CHR_OK);
    struct chr_store_stats before;
    chr_store_stats(f->s, &before);
    struct chr_store_op ops[] = {
        op_create("/x", "new"), op_set("/b", "changed", 0), op_del("/b", -1),
        op_set("/a", "bad", 3), /* /a is at version 0 */
        op_create("/y", "never"),
    };
    struct chr_store_result res[5];
    assert_int_equal(chr_store_submit_wait(f->s, ops, 5, res), CHR_ECONFLICT);
    const enum chr_err want[] = {CHR_OK, CHR_OK, CHR_OK, CHR_ECONFLICT, CHR_ENONE};
    for (int i = 0; i < 5; i++) {
        assert_int_equal(res[i].err, want[i]);
        assert_int_equal(res[i].version, -1);
    }
    /* Nothing changed, nothing was logged. */
    assert_absent(f->s, "/x");
    assert_absent(f->s, "/y");
    assert_node(f->s, "/a", "orig", 0);
    assert_node(f->s, "/b", "b", 0);
    struct chr_store_stats after;
    chr_store_stats(f->s, &after);
    assert_int_equal(after.seq, before.seq);
    assert_int_equal(after.nodes, before.nodes);
    reopen(f);
    assert_absent(f->s, "/x");
    assert_node(f->s, "/b", "b", 0);
}

static void test_failed_batch_leaves_group_intact(void **state)
{
    struct fx *f = *state;
    /* Three batches decided in one group (queued together): the failing
     * middle one must neither apply nor disturb its neighbours. */
    struct chr_store_op a = op_create("/g1", "1");
    struct chr_store_op b[] = {op_create("/g2", "2"), op_create("/g1", "dup")};
    struct chr_store_op c[] = {op_create("/g2", "3"), op_set("/g1", "4", 0)};
    assert_int_equal(chr_store_submit(f->s, &a, 1, NULL, NULL), CHR_OK);
    assert_int_equal(chr_store_submit(f->s, b, 2, NULL, NULL), CHR_OK);
    assert_int_equal(chr_store_submit(f->s, c, 2, NULL, NULL), CHR_OK);
    assert_int_equal(chr_store_flush(f->s), CHR_OK);
    assert_node(f->s, "/g1", "4", 1);
    assert_node(f->s, "/g2", "3", 0);
}

static void test_check_guards_batch(void **state)
{
    struct fx *f = *state;
    /* The leader-epoch pattern: a batch guarded by a check of /epoch. */
    assert_int_equal(one(f->s, op_create("/epoch", "1")), CHR_OK);
    assert_int_equal(one(f->s, op_create("/job", "v0")), CHR_OK);
    assert_int_equal(one(f->s, op_set("/epoch", "2", 0)), CHR_OK); /* a new leader */
    struct chr_store_op stale[] = {op_check("/epoch", 0), op_set("/job", "stale", -1)};
    struct chr_store_result res[2];
    assert_int_equal(chr_store_submit_wait(f->s, stale, 2, res), CHR_ECONFLICT);
    assert_int_equal(res[0].err, CHR_ECONFLICT);
    assert_int_equal(res[1].err, CHR_ENONE);
    assert_node(f->s, "/job", "v0", 0);
    struct chr_store_op fresh[] = {op_check("/epoch", 1), op_set("/job", "fresh", -1)};
    assert_int_equal(chr_store_submit_wait(f->s, fresh, 2, res), CHR_OK);
    assert_int_equal(res[0].version, 1);
    assert_int_equal(res[1].version, 1);
    assert_node(f->s, "/job", "fresh", 1);
}

/* ---- completions ------------------------------------------------------------------- */

struct order {
    pthread_mutex_t mu;
    int *seen;
    int n_seen;
    int bad;
    struct chr_store *s;
};

struct tag {
    struct order *o;
    int id;
};

static void order_done(void *ctx, enum chr_err result, const struct chr_store_result *res,
                       size_t n)
{
    struct tag *t = ctx;
    pthread_mutex_lock(&t->o->mu);
    if (result != CHR_OK || n != 1 || res[0].err != CHR_OK)
        t->o->bad++;
    t->o->seen[t->o->n_seen++] = t->id;
    pthread_mutex_unlock(&t->o->mu);
}

/* Submits, flushing and retrying while the queue is full. */
static void submit_retry(struct chr_store *s, struct chr_store_op *op, chr_store_done_fn *fn,
                         void *ctx)
{
    enum chr_err e;
    while ((e = chr_store_submit(s, op, 1, fn, ctx)) == CHR_EUNAVAIL)
        assert_int_equal(chr_store_flush(s), CHR_OK);
    assert_int_equal(e, CHR_OK);
}

static void test_callbacks_in_order(void **state)
{
    struct fx *f = *state;
    enum { N = 3000 };
    struct order o = {.seen = calloc(N, sizeof(int))};
    pthread_mutex_init(&o.mu, NULL);
    struct tag *tags = calloc(N, sizeof *tags);
    assert_int_equal(one(f->s, op_create("/ctr", "0")), CHR_OK);
    for (int i = 0; i < N; i++) {
        char data[16];
        snprintf(data, sizeof data, "%d", i + 1);
        tags[i] = (struct tag){.o = &o, .id = i};
        struct chr_store_op op = op_set("/ctr", data, i); /* each needs the one before */
        submit_retry(f->s, &op, order_done, &tags[i]);
    }
    assert_int_equal(chr_store_flush(f->s), CHR_OK);
    assert_int_equal(o.n_seen, N);
    assert_int_equal(o.bad, 0);
    for (int i = 0; i < N; i++)
        assert_int_equal(o.seen[i], i);
    char want[16];
    snprintf(want, sizeof want, "%d", N);
    assert_node(f->s, "/ctr", want, N);
    struct chr_store_stats st;
    chr_store_stats(f->s, &st);
    assert_true(st.syncs <= (uint64_t)N + 1); /* group commit may merge; never more */
    pthread_mutex_destroy(&o.mu);
    free(tags);
    free(o.seen);
}

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
    struct fx *f = *state;
    enum { T = 4 };
    struct order o = {.seen = calloc(T * 400, sizeof(int))};
    pthread_mutex_init(&o.mu, NULL);
    struct submitter *sb = calloc(T, sizeof *sb);
    pthread_t th[T];
    for (int t = 0; t < T; t++) {
        sb[t] = (struct submitter){.s = f->s, .o = &o, .thread = t};
        pthread_create(&th[t], NULL, submit_thread, &sb[t]);
    }
    for (int t = 0; t < T; t++)
        pthread_join(th[t], NULL);
    assert_int_equal(chr_store_flush(f->s), CHR_OK);
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
    chr_store_stats(f->s, &st);
    assert_int_equal(st.nodes, 1 + T * 400);
    pthread_mutex_destroy(&o.mu);
    free(sb);
    free(o.seen);
}

struct reentry {
    struct chr_store *s;
    enum chr_err flush, wait, ckpt, get, submit;
    int32_t version;
};

static void reentry_done(void *ctx, enum chr_err result, const struct chr_store_result *res,
                         size_t n)
{
    (void)result;
    (void)res;
    (void)n;
    struct reentry *r = ctx;
    struct chr_store_op op = op_create("/inner", "i");
    r->flush = chr_store_flush(r->s);
    r->wait = chr_store_submit_wait(r->s, &op, 1, NULL);
    r->ckpt = chr_store_checkpoint(r->s);
    /* Reads and async submits are allowed, and see the batch just done. */
    r->get = chr_store_get(r->s, "/outer", NULL, NULL, &r->version);
    r->submit = chr_store_submit(r->s, &op, 1, NULL, NULL);
}

static void test_callback_reentry(void **state)
{
    struct fx *f = *state;
    struct reentry r = {.s = f->s};
    struct chr_store_op op = op_create("/outer", "o");
    assert_int_equal(chr_store_submit(f->s, &op, 1, reentry_done, &r), CHR_OK);
    assert_int_equal(chr_store_flush(f->s), CHR_OK);
    assert_int_equal(chr_store_flush(f->s), CHR_OK); /* the inner submit */
    assert_int_equal(r.flush, CHR_EINVAL);
    assert_int_equal(r.wait, CHR_EINVAL);
    assert_int_equal(r.ckpt, CHR_EINVAL);
    assert_int_equal(r.get, CHR_OK);
    assert_int_equal(r.version, 0);
    assert_int_equal(r.submit, CHR_OK);
    assert_node(f->s, "/inner", "i", 0);
}

/* The first completion blocks the commit thread until released, so the
 * bounded queue fills up behind it. */
struct gate {
    pthread_mutex_t mu;
    pthread_cond_t cond;
    bool entered, open;
};

static void gate_done(void *ctx, enum chr_err result, const struct chr_store_result *res,
                      size_t n)
{
    (void)result;
    (void)res;
    (void)n;
    struct gate *g = ctx;
    pthread_mutex_lock(&g->mu);
    g->entered = true;
    pthread_cond_broadcast(&g->cond);
    while (!g->open)
        pthread_cond_wait(&g->cond, &g->mu);
    pthread_mutex_unlock(&g->mu);
}

static void test_queue_full_never_blocks(void **state)
{
    struct fx *f = *state;
    chr_store_close(f->s);
    struct chr_store_config cfg = {.queue_max = 4};
    assert_int_equal(chr_store_open_local(f->dir, &cfg, &f->s), CHR_OK);
    struct gate g = {.entered = false, .open = false};
    pthread_mutex_init(&g.mu, NULL);
    pthread_cond_init(&g.cond, NULL);
    struct chr_store_op op = op_create("/first", "");
    assert_int_equal(chr_store_submit(f->s, &op, 1, gate_done, &g), CHR_OK);
    pthread_mutex_lock(&g.mu);
    while (!g.entered)
        pthread_cond_wait(&g.cond, &g.mu);
    pthread_mutex_unlock(&g.mu);
    struct chr_store_op chk = op_check("/", -1);
    for (int i = 0; i < 4; i++)
        assert_int_equal(chr_store_submit(f->s, &chk, 1, NULL, NULL), CHR_OK);
    assert_int_equal(chr_store_submit(f->s, &chk, 1, NULL, NULL), CHR_EUNAVAIL);
    pthread_mutex_lock(&g.mu);
    g.open = true;
    pthread_cond_broadcast(&g.cond);
    pthread_mutex_unlock(&g.mu);
    assert_int_equal(chr_store_flush(f->s), CHR_OK);
    assert_int_equal(chr_store_submit(f->s, &chk, 1, NULL, NULL), CHR_OK);
    assert_int_equal(chr_store_flush(f->s), CHR_OK);
    pthread_cond_destroy(&g.cond);
    pthread_mutex_destroy(&g.mu);
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
    struct fx *f = *state;
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
        enum chr_err e = chr_store_submit(f->s, &cases[i].op, 1, never_done, NULL);
        if (e != cases[i].want)
            fail_msg("case %zu: %s, want %s", i, chr_err_name(e), chr_err_name(cases[i].want));
    }
    struct chr_store_op ok = op_create("/a", "x");
    assert_int_equal(chr_store_submit(f->s, &ok, 0, never_done, NULL), CHR_EINVAL);
    assert_int_equal(chr_store_submit(f->s, NULL, 1, never_done, NULL), CHR_EINVAL);
    assert_int_equal(chr_store_get(f->s, "/a/../a", NULL, NULL, NULL), CHR_EINVAL);
    assert_int_equal(chr_store_get(f->s, "", NULL, NULL, NULL), CHR_EINVAL);
    assert_int_equal(chr_store_flush(f->s), CHR_OK);
    assert_int_equal(never_called, 0);
    assert_children(f->s, "/", "");
}

static void test_size_limits(void **state)
{
    struct fx *f = *state;
    enum { OPS = CHR_STORE_BATCH_OPS_MAX + 1 };
    struct chr_store_op *ops = calloc(OPS, sizeof *ops);
    for (int i = 0; i < OPS; i++)
        ops[i] = op_check("/", -1);
    assert_int_equal(chr_store_submit(f->s, ops, OPS, never_done, NULL), CHR_ERANGE);
    assert_int_equal(chr_store_submit_wait(f->s, ops, OPS - 1, NULL), CHR_OK);
    /* One node of exactly the maximum size round-trips. */
    char *big = malloc(CHR_STORE_NODE_MAX);
    for (size_t i = 0; i < CHR_STORE_NODE_MAX; i++)
        big[i] = (char)(i * 13);
    struct chr_store_op op = {.type = CHR_STORE_CREATE, .path = "/big", .data = big,
                              .len = CHR_STORE_NODE_MAX, .version = -1};
    assert_int_equal(chr_store_submit_wait(f->s, &op, 1, NULL), CHR_OK);
    /* Two such ops exceed the batch bound. */
    struct chr_store_op two[] = {op, op};
    two[0].path = "/big2";
    two[1].type = CHR_STORE_SET;
    assert_int_equal(chr_store_submit(f->s, two, 2, never_done, NULL), CHR_ERANGE);
    reopen(f);
    void *data = NULL;
    size_t len = 0;
    assert_int_equal(chr_store_get(f->s, "/big", &data, &len, NULL), CHR_OK);
    assert_int_equal(len, CHR_STORE_NODE_MAX);
    assert_memory_equal(data, big, len);
    chr_free(data);
    free(big);
    free(ops);
    assert_int_equal(never_called, 0);
}

static void test_children_limit(void **state)
{
    struct fx *f = *state;
    assert_int_equal(one(f->s, op_create("/wide", "")), CHR_OK);
    enum { PER = CHR_STORE_BATCH_OPS_MAX };
    struct chr_store_op *ops = calloc(PER, sizeof *ops);
    char(*paths)[32] = calloc(PER, sizeof *paths);
    for (int done = 0; done <= CHR_STORE_CHILDREN_MAX;) {
        int n = 0;
        for (; n < PER && done <= CHR_STORE_CHILDREN_MAX; n++, done++) {
            snprintf(paths[n], sizeof paths[n], "/wide/c%d", done);
            ops[n] = op_create(paths[n], NULL);
        }
        assert_int_equal(chr_store_submit_wait(f->s, ops, (size_t)n, NULL), CHR_OK);
        if (done == CHR_STORE_CHILDREN_MAX) {
            struct chr_store_names *names = NULL;
            assert_int_equal(chr_store_children(f->s, "/wide", &names), CHR_OK);
            assert_int_equal(names->n, CHR_STORE_CHILDREN_MAX);
            chr_store_names_free(names);
        }
    }
    struct chr_store_names *names = (void *)1;
    assert_int_equal(chr_store_children(f->s, "/wide", &names), CHR_ERANGE);
    assert_null(names);
    free(paths);
    free(ops);
}

static void test_directory_lock(void **state)
{
    struct fx *f = *state;
    struct chr_store *second = NULL;
    assert_int_equal(chr_store_open_local(f->dir, NULL, &second), CHR_EUNAVAIL);
    assert_null(second);
    reopen(f); /* released by close */
    assert_int_equal(chr_store_open_local("", NULL, &second), CHR_EINVAL);
    assert_int_equal(chr_store_open_local("/nonexistent-parent/x/y", NULL, &second), CHR_EIO);
}

static void test_state_survives_reopen(void **state)
{
    struct fx *f = *state;
    assert_int_equal(chr_store_mkdirs(f->s, "/chronos/jobs/7b"), CHR_OK);
    assert_int_equal(one(f->s, op_create("/chronos/jobs/7b/nightly", "{\"name\":1}")), CHR_OK);
    assert_int_equal(one(f->s, op_set("/chronos/jobs/7b/nightly", "{\"name\":2}", 0)), CHR_OK);
    assert_int_equal(one(f->s, op_create("/gone", "")), CHR_OK);
    assert_int_equal(one(f->s, op_del("/gone", 0)), CHR_OK);
    assert_int_equal(one(f->s, op_set("/", "rootdata", 0)), CHR_OK);
    for (int round = 0; round < 3; round++) {
        reopen(f);
        assert_node(f->s, "/chronos/jobs/7b/nightly", "{\"name\":2}", 1);
        assert_node(f->s, "/", "rootdata", 1);
        assert_absent(f->s, "/gone");
        assert_children(f->s, "/chronos/jobs", "7b");
        assert_int_equal(chr_store_checkpoint(f->s), CHR_OK); /* then from a snapshot */
    }
    struct chr_store_stats st;
    chr_store_stats(f->s, &st);
    assert_int_equal(st.seq, 8);
    assert_int_equal(st.nodes, 5);
}

/* ---- allocation failures ------------------------------------------------------------ */

static void test_alloc_failures(void **state)
{
    struct fx *f = *state;
    /* submit: fails cleanly (no callback) or completes with OK or ENOMEM. */
    for (long n = 1; n < 12; n++) {
        char path[32];
        snprintf(path, sizeof path, "/n%ld", n);
        struct chr_store_op ops[] = {op_create(path, "data"), op_check("/", -1)};
        struct chr_store_result res[2];
        chr_alloc_fail_after(n);
        enum chr_err e = chr_store_submit_wait(f->s, ops, 2, res);
        chr_alloc_fail_after(-1);
        assert_true(e == CHR_OK || e == CHR_ENOMEM);
        int32_t v;
        assert_int_equal(chr_store_get(f->s, path, NULL, NULL, &v), e == CHR_OK ? CHR_OK : CHR_ENOENT);
    }
    /* get and children. */
    chr_alloc_fail_after(1);
    void *data = NULL;
    assert_int_equal(chr_store_get(f->s, "/", &data, NULL, NULL), CHR_ENOMEM);
    assert_null(data);
    struct chr_store_names *names = NULL;
    chr_alloc_fail_after(1);
    assert_int_equal(chr_store_children(f->s, "/", &names), CHR_ENOMEM);
    chr_alloc_fail_after(-1);
    /* open: every allocation in turn, on a store with data to load. */
    assert_int_equal(chr_store_checkpoint(f->s), CHR_OK);
    assert_int_equal(one(f->s, op_create("/after", "x")), CHR_OK);
    chr_store_close(f->s);
    f->s = NULL;
    for (long n = 1; n < 40; n++) {
        struct chr_store *s = NULL;
        chr_alloc_fail_after(n);
        enum chr_err e = chr_store_open_local(f->dir, NULL, &s);
        chr_alloc_fail_after(-1);
        assert_true(e == CHR_OK || e == CHR_ENOMEM);
        if (e == CHR_OK) {
            assert_node(s, "/after", "x", 0);
            chr_store_close(s);
        }
    }
    reopen(f);
    assert_node(f->s, "/after", "x", 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_empty_store, setup, teardown),
        cmocka_unit_test_setup_teardown(test_create_get_set_delete, setup, teardown),
        cmocka_unit_test_setup_teardown(test_op_errors, setup, teardown),
        cmocka_unit_test_setup_teardown(test_parents_and_children, setup, teardown),
        cmocka_unit_test_setup_teardown(test_children_many_sorted, setup, teardown),
        cmocka_unit_test_setup_teardown(test_mkdirs, setup, teardown),
        cmocka_unit_test_setup_teardown(test_batch_sees_own_effects, setup, teardown),
        cmocka_unit_test_setup_teardown(test_conflict_fails_whole_batch, setup, teardown),
        cmocka_unit_test_setup_teardown(test_failed_batch_leaves_group_intact, setup, teardown),
        cmocka_unit_test_setup_teardown(test_check_guards_batch, setup, teardown),
        cmocka_unit_test_setup_teardown(test_callbacks_in_order, setup, teardown),
        cmocka_unit_test_setup_teardown(test_concurrent_submitters, setup, teardown),
        cmocka_unit_test_setup_teardown(test_callback_reentry, setup, teardown),
        cmocka_unit_test_setup_teardown(test_queue_full_never_blocks, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_arguments, setup, teardown),
        cmocka_unit_test_setup_teardown(test_size_limits, setup, teardown),
        cmocka_unit_test_setup_teardown(test_children_limit, setup, teardown),
        cmocka_unit_test_setup_teardown(test_directory_lock, setup, teardown),
        cmocka_unit_test_setup_teardown(test_state_survives_reopen, setup, teardown),
        cmocka_unit_test_setup_teardown(test_alloc_failures, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
