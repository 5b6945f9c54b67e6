/*
 * conformance.h - the store's semantics that every backend shares (store.h),
 * written once and run by each backend's test binary: test_store.c (the
 * local directory) and test_zk.c (a real ZooKeeper).  Versions, op errors,
 * parents and children, atomic batches and their per-op results, completions
 * in submission order, re-entry from a completion, the bounded queue.
 *
 * A backend's test file owns the fixture: its cmocka state is a struct whose
 * first member is a struct cf_fx (the store, freshly opened and empty, and a
 * struct cf_backend saying how to reopen it and where ZooKeeper's documented
 * differences apply).  It registers the tests with CF_TEST, under the names
 * they had in both binaries ("test_op_errors").  Nothing here knows which
 * backend it drives, or asserts what only one of them promises: that stays in
 * the backend's own file.  Include after ../unit.h (cmocka).
 */
#ifndef CHR_TEST_ZKSTORE_CONFORMANCE_H
#define CHR_TEST_ZKSTORE_CONFORMANCE_H

#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>

#include "common/alloc.h"
#include "zkstore/store.h"

#include "ops.h"

struct cf_fx;

/* What the suite needs to know of a backend. */
struct cf_backend {
    /* Closes fx->s and opens the same data again with cfg (NULL: defaults)
     * into fx->s; fails the test if it cannot. */
    void (*reopen)(struct cf_fx *fx, const struct chr_store_config *cfg);
    /* chr_store_stats counts nodes (the local directory; ZooKeeper's says 0). */
    bool counts_nodes;
    /* A passing CHECK of version -1 reports the node's version (local);
     * ZooKeeper's multi carries no stat for a check, so it reports -1. */
    bool check_any_reports_version;
};

/* The first member of a backend's fixture: *state points at it. */
struct cf_fx {
    struct chr_store *s;
    const struct cf_backend *be;
};

/* A conformance test as a cmocka case, named as the backends' own tests are. */
#define CF_TEST(name, setup, teardown) {"test_" #name, cf_##name, (setup), (teardown), NULL}

/* The stats once every batch submitted so far has completed.  Both backends
 * count a batch after its completion has returned, which can be after
 * chr_store_submit_wait has: flush first, or the count races. */
static void cf_stats(struct chr_store *s, struct chr_store_stats *out)
{
    assert_int_equal(chr_store_flush(s), CHR_OK);
    chr_store_stats(s, out);
}

/* ---- Basic operations ------------------------------------------------------------ */

static void cf_empty_store(void **state)
{
    struct cf_fx *c = *state;
    assert_node(c->s, "/", "", 0);
    assert_children(c->s, "/", "");
    assert_absent(c->s, "/a");
    struct chr_store_stats st;
    cf_stats(c->s, &st);
    if (c->be->counts_nodes)
        assert_int_equal(st.nodes, 1);
    assert_int_equal(st.seq, 0);
    assert_int_equal(chr_store_state(c->s), CHR_OK);
    assert_int_equal(chr_store_checkpoint(c->s), CHR_OK);
}

static void cf_create_get_set_delete(void **state)
{
    struct cf_fx *c = *state;
    assert_int_equal(one(c->s, op_create("/a", "hello")), CHR_OK);
    assert_node(c->s, "/a", "hello", 0);
    assert_int_equal(one(c->s, op_set("/a", "v1", 0)), CHR_OK);
    assert_node(c->s, "/a", "v1", 1);
    assert_int_equal(one(c->s, op_set("/a", "any", -1)), CHR_OK);
    assert_node(c->s, "/a", "any", 2);
    assert_int_equal(one(c->s, op_create("/b", NULL)), CHR_OK);
    assert_node(c->s, "/b", "", 0);
    assert_int_equal(one(c->s, op_del("/a", 2)), CHR_OK);
    assert_absent(c->s, "/a");
    assert_children(c->s, "/", "b");
    /* get with only a version: a stat. */
    int32_t v = -5;
    assert_int_equal(chr_store_get(c->s, "/b", NULL, NULL, &v), CHR_OK);
    assert_int_equal(v, 0);
    struct chr_store_stats st;
    cf_stats(c->s, &st);
    assert_int_equal(st.batches, 5);
    assert_int_equal(st.seq, 5);
}

static void cf_op_errors(void **state)
{
    struct cf_fx *c = *state;
    assert_int_equal(one(c->s, op_create("/a", "x")), CHR_OK);
    assert_int_equal(one(c->s, op_create("/a", "y")), CHR_ECONFLICT);
    assert_int_equal(one(c->s, op_set("/a", "y", 5)), CHR_ECONFLICT);
    assert_int_equal(one(c->s, op_del("/a", 1)), CHR_ECONFLICT);
    assert_int_equal(one(c->s, op_set("/nope", "y", -1)), CHR_ENOENT);
    assert_int_equal(one(c->s, op_del("/nope", -1)), CHR_ENOENT);
    /* CHECK with -1 still requires the node: ZooKeeper answers ZNONODE. */
    assert_int_equal(one(c->s, op_check("/nope", -1)), CHR_ENOENT);
    assert_int_equal(one(c->s, op_check("/a", 1)), CHR_ECONFLICT);
    assert_int_equal(one(c->s, op_check("/a", 0)), CHR_OK);
    assert_int_equal(one(c->s, op_check("/a", -1)), CHR_OK);
    assert_node(c->s, "/a", "x", 0);
}

static void cf_parents_and_children(void **state)
{
    struct cf_fx *c = *state;
    assert_int_equal(one(c->s, op_create("/p/q", "x")), CHR_ENOENT);
    assert_int_equal(one(c->s, op_create("/p", "")), CHR_OK);
    assert_int_equal(one(c->s, op_create("/p/q", "x")), CHR_OK);
    assert_int_equal(one(c->s, op_create("/p/a", "y")), CHR_OK);
    assert_int_equal(one(c->s, op_create("/p/q/r", "z")), CHR_OK);
    assert_children(c->s, "/p", "a q");
    assert_children(c->s, "/p/q", "r");
    assert_children(c->s, "/p/a", "");
    /* ZooKeeper's ZNOTEMPTY. */
    assert_int_equal(one(c->s, op_del("/p", -1)), CHR_ECONFLICT);
    assert_int_equal(one(c->s, op_del("/p/q", -1)), CHR_ECONFLICT);
    assert_int_equal(one(c->s, op_del("/p/q/r", -1)), CHR_OK);
    assert_int_equal(one(c->s, op_del("/p/q", -1)), CHR_OK);
    assert_int_equal(one(c->s, op_del("/p/a", -1)), CHR_OK);
    assert_int_equal(one(c->s, op_del("/p", -1)), CHR_OK);
    assert_children(c->s, "/", "");
    struct chr_store_names *names = (void *)1;
    assert_int_equal(chr_store_children(c->s, "/p", &names), CHR_ENOENT);
    assert_null(names);
    assert_int_equal(chr_store_mkdirs(c->s, "/m/n/o"), CHR_OK);
    assert_node(c->s, "/m/n/o", "", 0);
    assert_int_equal(chr_store_mkdirs(c->s, "/m/n/o"), CHR_OK);
    /* Sorted bytewise, whatever order they came in. */
    const char *order[] = {"b", "B", "a-", "a", "_", "0", "%2E"};
    for (size_t i = 0; i < sizeof order / sizeof order[0]; i++) {
        char path[32];
        snprintf(path, sizeof path, "/m/%s", order[i]);
        assert_int_equal(one(c->s, op_create(path, "")), CHR_OK);
    }
    assert_children(c->s, "/m", "%2E 0 B _ a a- b n");
}

/* ---- Batches ------------------------------------------------------------------------ */

static void cf_batch_sees_own_effects(void **state)
{
    struct cf_fx *c = *state;
    struct chr_store_op ops[] = {
        op_create("/p", "1"), op_create("/p/q", "2"), op_set("/p/q", "3", 0),
        op_check("/p/q", 1),  op_set("/p/q", "4", 1),  op_del("/p/q", 2),
        op_create("/p/q", "5"), op_check("/p", -1),
    };
    struct chr_store_result res[8];
    assert_int_equal(chr_store_submit_wait(c->s, ops, 8, res), CHR_OK);
    /* The last: CHECK -1 (see check_any_reports_version). */
    const int32_t want[] = {0, 0, 1, 1, 2, -1, 0, c->be->check_any_reports_version ? 0 : -1};
    for (int i = 0; i < 8; i++) {
        assert_int_equal(res[i].err, CHR_OK);
        assert_int_equal(res[i].version, want[i]);
    }
    assert_node(c->s, "/p/q", "5", 0);
}

/* Asserts that the stats show no write since `before`. */
static void cf_assert_no_write(struct chr_store *s, const struct chr_store_stats *before)
{
    struct chr_store_stats after;
    cf_stats(s, &after);
    assert_int_equal(after.seq, before->seq);
    assert_int_equal(after.nodes, before->nodes);
}

static void cf_conflict_fails_whole_batch(void **state)
{
    struct cf_fx *c = *state;
    assert_int_equal(one(c->s, op_create("/a", "orig")), CHR_OK);
    assert_int_equal(one(c->s, op_create("/b", "b")), CHR_OK);
    struct chr_store_stats before;
    cf_stats(c->s, &before);
    struct chr_store_op ops[] = {
        op_create("/x", "new"), op_set("/b", "changed", 0), op_del("/b", -1),
        op_set("/a", "bad", 3), /* /a is at version 0 */
        op_create("/y", "never"),
    };
    struct chr_store_result res[5];
    assert_int_equal(chr_store_submit_wait(c->s, ops, 5, res), CHR_ECONFLICT);
    const enum chr_err want[] = {CHR_OK, CHR_OK, CHR_OK, CHR_ECONFLICT, CHR_ENONE};
    for (int i = 0; i < 5; i++) {
        assert_int_equal(res[i].err, want[i]);
        assert_int_equal(res[i].version, -1);
    }
    /* Nothing changed, nothing was written. */
    assert_absent(c->s, "/x");
    assert_absent(c->s, "/y");
    assert_node(c->s, "/a", "orig", 0);
    assert_node(c->s, "/b", "b", 0);
    cf_assert_no_write(c->s, &before);
    /* ENOENT in the middle. */
    struct chr_store_op ops2[] = {op_create("/x", "new"), op_create("/no/such", ""),
                                  op_create("/z", "")};
    assert_int_equal(chr_store_submit_wait(c->s, ops2, 3, res), CHR_ENOENT);
    assert_int_equal(res[0].err, CHR_OK);
    assert_int_equal(res[1].err, CHR_ENOENT);
    assert_int_equal(res[2].err, CHR_ENONE);
    assert_absent(c->s, "/x");
    cf_assert_no_write(c->s, &before);
    c->be->reopen(c, NULL);
    assert_absent(c->s, "/x");
    assert_node(c->s, "/b", "b", 0);
}

static void cf_failed_batch_leaves_group_intact(void **state)
{
    struct cf_fx *c = *state;
    /* Three batches in flight together (one commit group of the local
     * directory; pipelined to ZooKeeper): the failing middle one must
     * neither apply nor disturb its neighbours. */
    struct chr_store_op a = op_create("/g1", "1");
    struct chr_store_op b[] = {op_create("/g2", "2"), op_create("/g1", "dup")};
    struct chr_store_op d[] = {op_create("/g2", "3"), op_set("/g1", "4", 0)};
    assert_int_equal(chr_store_submit(c->s, &a, 1, NULL, NULL), CHR_OK);
    assert_int_equal(chr_store_submit(c->s, b, 2, NULL, NULL), CHR_OK);
    assert_int_equal(chr_store_submit(c->s, d, 2, NULL, NULL), CHR_OK);
    assert_int_equal(chr_store_flush(c->s), CHR_OK);
    assert_node(c->s, "/g1", "4", 1);
    assert_node(c->s, "/g2", "3", 0);
}

static void cf_check_guards_batch(void **state)
{
    struct cf_fx *c = *state;
    /* The leader-epoch pattern: a batch guarded by a check of /epoch. */
    assert_int_equal(one(c->s, op_create("/epoch", "1")), CHR_OK);
    assert_int_equal(one(c->s, op_create("/job", "v0")), CHR_OK);
    assert_int_equal(one(c->s, op_set("/epoch", "2", 0)), CHR_OK); /* a new leader */
    struct chr_store_op stale[] = {op_check("/epoch", 0), op_set("/job", "stale", -1)};
    struct chr_store_result res[2];
    assert_int_equal(chr_store_submit_wait(c->s, stale, 2, res), CHR_ECONFLICT);
    assert_int_equal(res[0].err, CHR_ECONFLICT);
    assert_int_equal(res[1].err, CHR_ENONE);
    assert_node(c->s, "/job", "v0", 0);
    struct chr_store_op fresh[] = {op_check("/epoch", 1), op_set("/job", "fresh", -1)};
    assert_int_equal(chr_store_submit_wait(c->s, fresh, 2, res), CHR_OK);
    assert_int_equal(res[0].version, 1);
    assert_int_equal(res[1].version, 1);
    assert_node(c->s, "/job", "fresh", 1);
}

/* ---- Completions -------------------------------------------------------------------- */

/* Completions record their tags' ids, in the order they run. */
struct order {
    pthread_mutex_t mu;
    int *seen;
    int n_seen;
    int bad; /* completions that were not one op, succeeded */
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

static void cf_callbacks_in_order(void **state)
{
    struct cf_fx *c = *state;
    /* Fewer than CHR_STORE_QUEUE_MAX: every submit is accepted. */
    enum { N = 3000 };
    struct order o = {.seen = calloc(N, sizeof(int))};
    pthread_mutex_init(&o.mu, NULL);
    struct tag *tags = calloc(N, sizeof *tags);
    assert_int_equal(one(c->s, op_create("/ctr", "0")), CHR_OK);
    for (int i = 0; i < N; i++) {
        char data[16];
        snprintf(data, sizeof data, "%d", i + 1);
        tags[i] = (struct tag){.o = &o, .id = i};
        struct chr_store_op op = op_set("/ctr", data, i); /* each needs the one before */
        assert_int_equal(chr_store_submit(c->s, &op, 1, order_done, &tags[i]), CHR_OK);
    }
    assert_int_equal(chr_store_flush(c->s), CHR_OK);
    assert_int_equal(o.n_seen, N);
    assert_int_equal(o.bad, 0);
    for (int i = 0; i < N; i++)
        assert_int_equal(o.seen[i], i);
    char want[16];
    snprintf(want, sizeof want, "%d", N);
    assert_node(c->s, "/ctr", want, N);
    struct chr_store_stats st;
    chr_store_stats(c->s, &st);
    assert_true(st.syncs <= (uint64_t)N + 1); /* group commit may merge; never more */
    pthread_mutex_destroy(&o.mu);
    free(tags);
    free(o.seen);
}

/* What the store's calls answered inside a completion. */
struct reentry {
    struct chr_store *s;
    enum chr_err flush, wait, ckpt, mkdirs, get, children, submit;
    int32_t version;
    size_t len;
};

static void reentry_done(void *ctx, enum chr_err result, const struct chr_store_result *res,
                         size_t n)
{
    (void)result, (void)res, (void)n;
    struct reentry *r = ctx;
    struct chr_store_op op = op_create("/inner", "i");
    /* The waiting calls refuse rather than deadlock. */
    r->flush = chr_store_flush(r->s);
    r->wait = chr_store_submit_wait(r->s, &op, 1, NULL);
    r->ckpt = chr_store_checkpoint(r->s);
    r->mkdirs = chr_store_mkdirs(r->s, "/d/e");
    /* Reads (ZooKeeper's: answered by its IO thread) and async submits are
     * allowed, and see the batch just done. */
    void *data = NULL;
    r->get = chr_store_get(r->s, "/outer", &data, &r->len, &r->version);
    chr_free(data);
    struct chr_store_names *names = NULL;
    r->children = chr_store_children(r->s, "/", &names);
    chr_store_names_free(names);
    r->submit = chr_store_submit(r->s, &op, 1, NULL, NULL);
}

static void cf_callback_reentry(void **state)
{
    struct cf_fx *c = *state;
    struct reentry r = {.s = c->s};
    struct chr_store_op op = op_create("/outer", "o");
    assert_int_equal(chr_store_submit(c->s, &op, 1, reentry_done, &r), CHR_OK);
    assert_int_equal(chr_store_flush(c->s), CHR_OK);
    assert_int_equal(chr_store_flush(c->s), CHR_OK); /* the inner submit */
    assert_int_equal(r.flush, CHR_EINVAL);
    assert_int_equal(r.wait, CHR_EINVAL);
    assert_int_equal(r.ckpt, CHR_EINVAL);
    assert_int_equal(r.mkdirs, CHR_EINVAL);
    assert_int_equal(r.get, CHR_OK);
    assert_int_equal(r.version, 0);
    assert_int_equal(r.len, 1);
    assert_int_equal(r.children, CHR_OK);
    assert_int_equal(r.submit, CHR_OK);
    assert_node(c->s, "/inner", "i", 0);
}

/* The first completion blocks the completion thread until released, so the
 * bounded queue fills up behind it. */
struct gate {
    pthread_mutex_t mu;
    pthread_cond_t cond;
    bool entered, open;
};

static void gate_done(void *ctx, enum chr_err result, const struct chr_store_result *res,
                      size_t n)
{
    (void)result, (void)res, (void)n;
    struct gate *g = ctx;
    pthread_mutex_lock(&g->mu);
    g->entered = true;
    pthread_cond_broadcast(&g->cond);
    while (!g->open)
        pthread_cond_wait(&g->cond, &g->mu);
    pthread_mutex_unlock(&g->mu);
}

static void cf_queue_full_never_blocks(void **state)
{
    struct cf_fx *c = *state;
    struct chr_store_config cfg = {.queue_max = 4};
    c->be->reopen(c, &cfg);
    struct gate g = {.entered = false, .open = false};
    pthread_mutex_init(&g.mu, NULL);
    pthread_cond_init(&g.cond, NULL);
    struct chr_store_op op = op_create("/first", "");
    assert_int_equal(chr_store_submit(c->s, &op, 1, gate_done, &g), CHR_OK);
    pthread_mutex_lock(&g.mu);
    while (!g.entered)
        pthread_cond_wait(&g.cond, &g.mu);
    pthread_mutex_unlock(&g.mu);
    struct chr_store_op chk = op_check("/", -1);
    for (int i = 0; i < 4; i++)
        assert_int_equal(chr_store_submit(c->s, &chk, 1, NULL, NULL), CHR_OK);
    assert_int_equal(chr_store_submit(c->s, &chk, 1, NULL, NULL), CHR_EUNAVAIL);
    pthread_mutex_lock(&g.mu);
    g.open = true;
    pthread_cond_broadcast(&g.cond);
    pthread_mutex_unlock(&g.mu);
    assert_int_equal(chr_store_flush(c->s), CHR_OK);
    assert_int_equal(chr_store_submit(c->s, &chk, 1, NULL, NULL), CHR_OK);
    assert_int_equal(chr_store_flush(c->s), CHR_OK);
    pthread_cond_destroy(&g.cond);
    pthread_mutex_destroy(&g.mu);
}

#endif
