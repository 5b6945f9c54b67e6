/*
 * test_zk.c - the ZooKeeper backend against a real ZooKeeper (tests/zk/zk.sh,
 * tickTime 500 ms, sessions of 2000 ms): the session (connect strings,
 * chroot, digest auth and ACLs, expiry, a batch on a handle expired before
 * the event came), the store's semantics through the conformance suite that
 * the local backend runs too (conformance.h: versions, atomic batches and
 * per-op results, children, completion order, the bounded queue, re-entry
 * from completions) and what ZooKeeper adds (pipelined get_many, binary and
 * large nodes, its packet limit), the shard layout's sizes, and leader
 * election (the recipe's watch chain, hand-over, expiry, and the lease of a
 * leader whose server freezes).
 */
#include "../unit.h"

#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdlib.h>

#include "common/alloc.h"
#include "zkstore/store.h"
#include "zkstore/zk.h"
#include "zkstore/zk_int.h"

#include "conformance.h"
#include "ops.h"
#include "zk_fixture.h"

enum { SESSION_MS = 2000 };

/* ---- Events ------------------------------------------------------------------ */

struct rec {
    pthread_mutex_t mu;
    int zk[5];
    int el[4];
};

static void rec_zk(void *ctx, enum chr_zk_event ev)
{
    struct rec *r = ctx;
    pthread_mutex_lock(&r->mu);
    r->zk[ev]++;
    pthread_mutex_unlock(&r->mu);
}

static void rec_el(void *ctx, enum chr_election_event ev)
{
    struct rec *r = ctx;
    pthread_mutex_lock(&r->mu);
    r->el[ev]++;
    pthread_mutex_unlock(&r->mu);
}

static int zk_count(struct rec *r, enum chr_zk_event ev)
{
    pthread_mutex_lock(&r->mu);
    int n = r->zk[ev];
    pthread_mutex_unlock(&r->mu);
    return n;
}

static int el_count(struct rec *r, enum chr_election_event ev)
{
    pthread_mutex_lock(&r->mu);
    int n = r->el[ev];
    pthread_mutex_unlock(&r->mu);
    return n;
}

static struct chr_zk *open_zk(const char *hosts, const char *auth, struct rec *r)
{
    struct chr_zk_config cfg = {.hosts = hosts, .session_timeout_ms = SESSION_MS,
                                .auth = auth, .connect_timeout_ms = 10000,
                                .on_event = r != NULL ? rec_zk : NULL, .ctx = r};
    struct chr_zk *zk = NULL;
    struct chr_error err;
    enum chr_err e = chr_zk_open(&cfg, &zk, &err);
    if (e != CHR_OK)
        fail_msg("chr_zk_open(%s): %s: %s", hosts, chr_err_name(e), err.message);
    return zk;
}

/* The standard trick (zkstore/zk_session.c), as zk.h's test hook does it. */
static void expire_session(struct chr_zk *zk)
{
    chr_zk_test_expire(zk);
}

/* ---- Store fixture and helpers --------------------------------------------- */

/* The fixture: a store under a fresh chroot; conformance.h's tests see its
 * first member. */
struct zfx {
    struct cf_fx cf;
    char hosts[512];
    struct rec rec;
    struct chr_zk *zk;
};

/* A new store on the same session: what the server holds is all there is. */
static void zk_reopen(struct cf_fx *c, const struct chr_store_config *cfg)
{
    struct zfx *f = (struct zfx *)(void *)c;
    chr_store_close(f->cf.s);
    f->cf.s = NULL;
    assert_int_equal(chr_store_open_zk(f->zk, cfg, &f->cf.s), CHR_OK);
}

static const struct cf_backend zk_backend = {
    .reopen = zk_reopen,
    .counts_nodes = false,              /* stats.nodes is 0 */
    .check_any_reports_version = false, /* zk_store.c: a multi's check has no stat */
};

static int store_setup(void **state)
{
    struct zfx *f = calloc(1, sizeof *f);
    f->cf.be = &zk_backend;
    pthread_mutex_init(&f->rec.mu, NULL);
    zkfx_chroot_hosts(f->hosts, sizeof f->hosts, NULL);
    f->zk = open_zk(f->hosts, NULL, &f->rec);
    if (chr_store_open_zk(f->zk, NULL, &f->cf.s) != CHR_OK)
        return -1;
    *state = f;
    return 0;
}

static int store_teardown(void **state)
{
    struct zfx *f = *state;
    chr_store_close(f->cf.s);
    chr_zk_close(f->zk);
    pthread_mutex_destroy(&f->rec.mu);
    free(f);
    return 0;
}

static int never_called;

static void never_done(void *ctx, enum chr_err result, const struct chr_store_result *res,
                       size_t n)
{
    (void)ctx, (void)result, (void)res, (void)n;
    never_called++;
}

static int counted; /* OK completions of count_done */

static void count_done(void *ctx, enum chr_err result, const struct chr_store_result *res,
                       size_t n)
{
    (void)ctx, (void)res, (void)n;
    counted += result == CHR_OK;
}

/* ---- The session --------------------------------------------------------------- */

static void test_open_close(void **state)
{
    (void)state;
    struct rec r = {.zk = {0}};
    pthread_mutex_init(&r.mu, NULL);
    char hosts[512];
    zkfx_chroot_hosts(hosts, sizeof hosts, NULL);
    struct chr_zk *zk = open_zk(hosts, NULL, &r);
    assert_true(chr_zk_alive(zk));
    assert_int_equal(chr_zk_session_timeout_ms(zk), SESSION_MS);
    assert_int_equal(zk_count(&r, CHR_ZK_CONNECTED), 1);
    assert_int_equal(zk_count(&r, CHR_ZK_DISCONNECTED), 0);
    chr_zk_close(zk);
    chr_zk_close(NULL);
    assert_false(chr_zk_alive(NULL));
    pthread_mutex_destroy(&r.mu);
}

static void test_bad_config(void **state)
{
    (void)state;
    const char *bad[] = {
        "", "zk://", "localhost", "localhost:", ":2181", "h:0", "h:65536", "h:12a",
        "h:1,,h:2", "h:1,", "h o:1", "h:1//a", "h:1/a/", "h:1/a/../b",
        "h:1/zookeeper", "[::1:1", "[]:1",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        struct chr_zk_config cfg = {.hosts = bad[i], .connect_timeout_ms = 100};
        struct chr_zk *zk = (void *)1;
        struct chr_error err;
        enum chr_err e = chr_zk_open(&cfg, &zk, &err);
        if (e != CHR_EINVAL)
            fail_msg("'%s': %s, want EINVAL", bad[i], chr_err_name(e));
        assert_null(zk);
        assert_string_equal(err.field, "zk");
    }
    char longest[CHR_ZK_HOSTS_MAX + 8];
    memset(longest, 'a', sizeof longest - 1);
    longest[sizeof longest - 1] = '\0';
    struct chr_zk_config cfg = {.hosts = longest};
    struct chr_zk *zk = NULL;
    struct chr_error err;
    assert_int_equal(chr_zk_open(&cfg, &zk, &err), CHR_EINVAL);
    const char *bad_auth[] = {"nopassword", ":pw", "us\ter:pw"};
    for (size_t i = 0; i < sizeof bad_auth / sizeof bad_auth[0]; i++) {
        cfg = (struct chr_zk_config){.hosts = zkfx_hosts, .auth = bad_auth[i]};
        assert_int_equal(chr_zk_open(&cfg, &zk, &err), CHR_EINVAL);
        assert_string_equal(err.field, "zk_auth");
    }
    cfg = (struct chr_zk_config){.hosts = zkfx_hosts, .session_timeout_ms = -1};
    assert_int_equal(chr_zk_open(&cfg, &zk, &err), CHR_EINVAL);
    assert_int_equal(chr_zk_open(NULL, &zk, &err), CHR_EINVAL);
    /* Valid, but nobody listens there. */
    cfg = (struct chr_zk_config){.hosts = "zk://127.0.0.1:1,[::1]:1/x", .connect_timeout_ms = 300};
    assert_int_equal(chr_zk_open(&cfg, &zk, &err), CHR_EUNAVAIL);
    assert_null(zk);
    assert_non_null(strstr(err.message, "127.0.0.1:1"));
}

static void test_chroot_created(void **state)
{
    (void)state;
    char hosts[512], zkhosts[520];
    zkfx_chroot_hosts(hosts, sizeof hosts, "/a/b");
    snprintf(zkhosts, sizeof zkhosts, "zk://%s", hosts);
    struct chr_zk *zk = open_zk(zkhosts, NULL, NULL);
    struct chr_store *s = NULL;
    assert_int_equal(chr_store_open_zk(zk, NULL, &s), CHR_OK);
    assert_node(s, "/", "", 0);
    assert_children(s, "/", "");
    assert_int_equal(one(s, op_create("/x", "in the chroot")), CHR_OK);
    /* Seen from the root: the chroot and the node under it. */
    struct chr_zk *root = open_zk(zkfx_hosts, NULL, NULL);
    struct chr_store *rs = NULL;
    assert_int_equal(chr_store_open_zk(root, NULL, &rs), CHR_OK);
    char path[256];
    snprintf(path, sizeof path, "%s/x", strchr(hosts, '/'));
    assert_node(rs, path, "in the chroot", 0);
    /* Opening again finds it there. */
    struct chr_zk *again = open_zk(hosts, NULL, NULL);
    chr_zk_close(again);
    chr_store_close(rs);
    chr_zk_close(root);
    chr_store_close(s);
    chr_zk_close(zk);
}

static void hex(const uint8_t *b, size_t n, char *out)
{
    for (size_t i = 0; i < n; i++)
        snprintf(out + 2 * i, 3, "%02x", b[i]);
}

static void test_digest_helpers(void **state)
{
    (void)state;
    struct {
        const char *in, *want;
    } v[] = {
        {"abc", "a9993e364706816aba3e25717850c26c9cd0d89d"},
        {"", "da39a3ee5e6b4b0d3255bfef95601890afd80709"},
        {"abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
         "84983e441c3bd26ebaae4aa1f95129e5e54670f1"},
    };
    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
        uint8_t sum[20];
        char got[41];
        chr_zk_sha1(v[i].in, strlen(v[i].in), sum);
        hex(sum, 20, got);
        assert_string_equal(got, v[i].want);
    }
    /* A million 'a's: many blocks (FIPS 180 test vector). */
    char *a = malloc(1000000);
    memset(a, 'a', 1000000);
    uint8_t sum[20];
    char got[41];
    chr_zk_sha1(a, 1000000, sum);
    hex(sum, 20, got);
    assert_string_equal(got, "34aa973cd4c4daa4f61eeb2bdbad27316534016f");
    free(a);
    char id[CHR_ZK_DIGEST_ID_MAX];
    assert_int_equal(chr_zk_digest_id("alice:secret", id), CHR_OK);
    assert_int_equal(strlen(id), strlen("alice:") + 28);
    assert_int_equal(strncmp(id, "alice:", 6), 0);
    assert_int_equal(chr_zk_digest_id("nocolon", id), CHR_EINVAL);
}

static void test_digest_auth(void **state)
{
    (void)state;
    char hosts[512];
    zkfx_chroot_hosts(hosts, sizeof hosts, NULL);
    struct chr_zk *zk = open_zk(hosts, "alice:secret", NULL);
    struct chr_store *s = NULL;
    assert_int_equal(chr_store_open_zk(zk, NULL, &s), CHR_OK);
    assert_int_equal(one(s, op_create("/secret", "s3")), CHR_OK);
    assert_node(s, "/secret", "s3", 0); /* the digest we computed is the server's */
    struct ACL_vector acl;
    struct Stat st;
    assert_int_equal(zoo_get_acl(zk->zh, "/secret", &acl, &st), ZOK);
    assert_int_equal(acl.count, 1);
    assert_string_equal(acl.data[0].id.scheme, "digest");
    char id[CHR_ZK_DIGEST_ID_MAX];
    chr_zk_digest_id("alice:secret", id);
    assert_string_equal(acl.data[0].id.id, id);
    assert_int_equal(acl.data[0].perms, ZOO_PERM_ALL);
    deallocate_ACL_vector(&acl);
    /* Without the credentials (or with wrong ones): refused, as CHR_EIO. */
    const char *others[] = {NULL, "alice:wrong", "bob:secret"};
    for (size_t i = 0; i < 3; i++) {
        struct chr_zk *o = open_zk(hosts, others[i], NULL);
        struct chr_store *os = NULL;
        assert_int_equal(chr_store_open_zk(o, NULL, &os), CHR_OK);
        assert_int_equal(chr_store_get(os, "/secret", NULL, NULL, NULL), CHR_OK); /* exists */
        void *data = NULL;
        assert_int_equal(chr_store_get(os, "/secret", &data, NULL, NULL), CHR_EIO);
        assert_null(data);
        struct chr_store_names *names = NULL;
        assert_int_equal(chr_store_children(os, "/", &names), CHR_EIO);
        struct chr_store_op ops[] = {op_check("/", -1), op_create("/intruder", "x")};
        struct chr_store_result res[2];
        assert_int_equal(chr_store_submit_wait(os, ops, 2, res), CHR_EIO);
        assert_int_equal(res[0].err, CHR_EIO);
        assert_int_equal(res[1].err, CHR_EIO);
        assert_int_equal(one(os, op_set("/secret", "stolen", -1)), CHR_EIO);
        chr_store_close(os);
        chr_zk_close(o);
    }
    assert_node(s, "/secret", "s3", 0);
    assert_children(s, "/", "secret");
    chr_store_close(s);
    chr_zk_close(zk);
}

/* ---- The store's semantics (the shared tests: conformance.h) --------------- */

/* The empty store, then create/get/set/delete: two conformance tests that
 * the local binary runs as two cases. */
static void test_create_get_set_delete(void **state)
{
    cf_empty_store(state);
    cf_create_get_set_delete(state);
}

/* chr_store_get_many: 2000 pipelined reads, each answered for its own path
 * (data, version, a missing node), larger nodes whole. */
static void test_get_many(void **state)
{
    struct zfx *f = *state;
    enum { N = 2000 };
    static char paths[N][32];
    const char *ptrs[N];
    for (int i = 0; i < N; i++) {
        snprintf(paths[i], sizeof paths[i], "/g%04d", i);
        ptrs[i] = paths[i];
        if (i % 7 == 3)
            continue; /* left missing */
        char data[16];
        snprintf(data, sizeof data, "v%d", i);
        assert_int_equal(one(f->cf.s, op_create(paths[i], data)), CHR_OK);
    }
    assert_int_equal(one(f->cf.s, op_set("/g0001", "v1-again", 0)), CHR_OK);
    static struct chr_store_got got[N];
    assert_int_equal(chr_store_get_many(f->cf.s, ptrs, N, got), CHR_OK);
    for (int i = 0; i < N; i++) {
        if (i % 7 == 3) {
            assert_int_equal(got[i].err, CHR_ENOENT);
            continue;
        }
        char want[16];
        snprintf(want, sizeof want, i == 1 ? "v1-again" : "v%d", i);
        assert_int_equal(got[i].err, CHR_OK);
        assert_string_equal(got[i].data, want);
        assert_int_equal(got[i].len, strlen(want));
        assert_int_equal(got[i].version, i == 1 ? 1 : 0);
    }
    chr_store_got_free(got, N);
    assert_null(got[0].data);
}

/* chr_store_children_stat_many: 40 pipelined listings, each answered for
 * its own directory (names sorted, counters as chr_store_children_stat
 * gives them, a missing directory CHR_ENOENT). */
static void test_children_stat_many(void **state)
{
    struct zfx *f = *state;
    enum { N = 40 };
    char paths[N][32];
    const char *ptrs[N];
    for (int i = 0; i < N; i++) {
        snprintf(paths[i], sizeof paths[i], "/d%02d", i);
        ptrs[i] = paths[i];
        if (i % 5 == 4)
            continue; /* left missing */
        assert_int_equal(one(f->cf.s, op_create(paths[i], "")), CHR_OK);
        for (int k = 0; k < i % 4; k++) {
            char child[48];
            snprintf(child, sizeof child, "%s/c%d", paths[i], 3 - k);
            assert_int_equal(one(f->cf.s, op_create(child, "x")), CHR_OK);
        }
    }
    struct chr_store_names *names[N];
    struct chr_store_dirstat st[N];
    enum chr_err err[N];
    assert_int_equal(chr_store_children_stat_many(f->cf.s, ptrs, N, names, st, err), CHR_OK);
    for (int i = 0; i < N; i++) {
        if (i % 5 == 4) {
            assert_int_equal(err[i], CHR_ENOENT);
            assert_null(names[i]);
            continue;
        }
        struct chr_store_names *one_names = NULL;
        struct chr_store_dirstat one_st;
        assert_int_equal(chr_store_children_stat(f->cf.s, paths[i], &one_names, &one_st), CHR_OK);
        assert_int_equal(err[i], CHR_OK);
        assert_int_equal(names[i]->n, (size_t)(i % 4));
        assert_int_equal(names[i]->n, one_names->n);
        for (size_t k = 0; k < names[i]->n; k++)
            assert_string_equal(names[i]->names[k], one_names->names[k]);
        if (names[i]->n > 1)
            assert_true(strcmp(names[i]->names[0], names[i]->names[1]) < 0);
        assert_int_equal(st[i].cversion, one_st.cversion);
        assert_int_equal(st[i].version, one_st.version);
        assert_int_equal(st[i].cversion, i % 4);
        chr_store_names_free(one_names);
        chr_store_names_free(names[i]);
    }
    const char *bad[] = {"/d00", "no-slash"};
    assert_int_equal(chr_store_children_stat_many(f->cf.s, bad, 2, names, st, err), CHR_EINVAL);
    assert_null(names[0]);
}

static void test_binary_and_large_data(void **state)
{
    struct zfx *f = *state;
    const char bin[] = {'a', '\0', 'b', '\0', '\xff'};
    struct chr_store_op op = {.type = CHR_STORE_CREATE, .path = "/bin", .data = bin,
                              .len = sizeof bin, .version = -1};
    assert_int_equal(one(f->cf.s, op), CHR_OK);
    void *data = NULL;
    size_t len = 0;
    assert_int_equal(chr_store_get(f->cf.s, "/bin", &data, &len, NULL), CHR_OK);
    assert_int_equal(len, sizeof bin);
    assert_memory_equal(data, bin, sizeof bin);
    chr_free(data);
    /* 500 KiB, and the largest node the store allows. */
    size_t sizes[] = {500 * 1024, CHR_STORE_NODE_MAX};
    char *big = malloc(CHR_STORE_NODE_MAX);
    for (size_t i = 0; i < CHR_STORE_NODE_MAX; i++)
        big[i] = (char)(i * 13 + 7);
    for (size_t k = 0; k < 2; k++) {
        char path[16];
        snprintf(path, sizeof path, "/big%zu", k);
        op = (struct chr_store_op){.type = CHR_STORE_CREATE, .path = path, .data = big,
                                   .len = sizes[k], .version = -1};
        assert_int_equal(one(f->cf.s, op), CHR_OK);
        int32_t v = -5;
        assert_int_equal(chr_store_get(f->cf.s, path, &data, &len, &v), CHR_OK);
        assert_int_equal(len, sizes[k]);
        assert_int_equal(v, 0);
        assert_memory_equal(data, big, len);
        assert_int_equal(((char *)data)[len], '\0');
        chr_free(data);
    }
    free(big);
}

static void test_size_limits(void **state)
{
    struct zfx *f = *state;
    char *huge = calloc(1, 2 * 1024 * 1024);
    struct chr_store_op op = {.type = CHR_STORE_CREATE, .path = "/huge", .data = huge,
                              .len = CHR_STORE_NODE_MAX + 1, .version = -1};
    assert_int_equal(chr_store_submit(f->cf.s, &op, 1, never_done, NULL), CHR_ERANGE);
    op.len = 2 * 1024 * 1024; /* past ZooKeeper's 1 MiB packet */
    assert_int_equal(chr_store_submit(f->cf.s, &op, 1, never_done, NULL), CHR_ERANGE);
    free(huge);
    /* A batch under the store's byte bound that the chroot, prefixed to
     * every path, takes past 1 MiB: refused before it is sent. */
    char chroot[251], chroot_hosts[600], comp[225];
    memset(comp, 'c', sizeof comp - 1);
    comp[sizeof comp - 1] = '\0';
    int n = snprintf(chroot, sizeof chroot, "/l%ld_", (long)getpid());
    memset(chroot + n, 'c', sizeof chroot - 1 - (size_t)n);
    chroot[sizeof chroot - 1] = '\0';
    snprintf(chroot_hosts, sizeof chroot_hosts, "%s%s", zkfx_hosts, chroot);
    struct chr_zk *zk = open_zk(chroot_hosts, NULL, NULL);
    struct chr_store *s = NULL;
    assert_int_equal(chr_store_open_zk(zk, NULL, &s), CHR_OK);
    char path[1024];
    snprintf(path, sizeof path, "/%s/%s/%s/%s", comp, comp, comp, comp);
    struct chr_store_op *ops = calloc(CHR_STORE_BATCH_OPS_MAX, sizeof *ops);
    for (int i = 0; i < CHR_STORE_BATCH_OPS_MAX; i++)
        ops[i] = op_check(path, -1);
    assert_true(chr_store_batch_bytes(ops, CHR_STORE_BATCH_OPS_MAX) <= CHR_STORE_BATCH_BYTES_MAX);
    assert_int_equal(chr_store_submit(s, ops, CHR_STORE_BATCH_OPS_MAX, never_done, NULL),
                     CHR_ERANGE);
    /* 800 of them fit: sent, and answered (the node is absent). */
    struct chr_store_result *res = calloc(800, sizeof *res);
    assert_int_equal(chr_store_submit_wait(s, ops, 800, res), CHR_ENOENT);
    assert_int_equal(res[0].err, CHR_ENOENT);
    assert_int_equal(res[799].err, CHR_ENONE);
    free(res);
    free(ops);
    chr_store_close(s);
    chr_zk_close(zk);
    assert_int_equal(never_called, 0);
}

/* ---- Batches and completions: conformance.h ---------------------------------------- */

/* The epoch guard, then a failing batch among pipelined ones: two
 * conformance tests that the local binary runs as two cases. */
static void test_check_guards_batch(void **state)
{
    cf_check_guards_batch(state);
    cf_failed_batch_leaves_group_intact(state);
}

/* ---- The shard layout at scale ---------------------------------------------- */

static void test_shards_hold_a_million_jobs(void **state)
{
    struct zfx *f = *state;
    /* A million job names spread over the 256 shards: ~3,900 each, far
     * below CHR_STORE_CHILDREN_MAX and ZooKeeper's 1 MiB listings. */
    static unsigned counts[CHR_STORE_SHARDS];
    memset(counts, 0, sizeof counts);
    for (int i = 0; i < 1000000; i++) {
        char name[32];
        int len = snprintf(name, sizeof name, "job-%07d", i);
        counts[chr_store_shard(name, (size_t)len)]++;
    }
    unsigned lo = UINT32_MAX, hi = 0;
    for (int i = 0; i < CHR_STORE_SHARDS; i++) {
        lo = counts[i] < lo ? counts[i] : lo;
        hi = counts[i] > hi ? counts[i] : hi;
    }
    assert_true(lo >= 3500 && hi <= 4300);
    assert_true(hi < CHR_STORE_CHILDREN_MAX);
    /* 10,000 children of one shard node, created in pipelined batches of
     * 100, list in order. */
    assert_int_equal(chr_store_mkdirs(f->cf.s, "/jobs/00"), CHR_OK);
    enum { PER = 100, TOTAL = 10000 };
    static char paths[PER][32];
    struct chr_store_op ops[PER];
    int64_t t0 = test_mono_ms();
    for (int b = 0; b < TOTAL / PER; b++) {
        for (int i = 0; i < PER; i++) {
            snprintf(paths[i], sizeof paths[i], "/jobs/00/job-%05d", TOTAL - 1 - (b * PER + i));
            ops[i] = op_create(paths[i], "{\"name\":\"a job\"}");
        }
        assert_int_equal(chr_store_submit(f->cf.s, ops, PER, count_done, NULL), CHR_OK);
    }
    assert_int_equal(chr_store_flush(f->cf.s), CHR_OK);
    int64_t t1 = test_mono_ms();
    struct chr_store_names *names = NULL;
    assert_int_equal(chr_store_children(f->cf.s, "/jobs/00", &names), CHR_OK);
    int64_t t2 = test_mono_ms();
    assert_int_equal(names->n, TOTAL);
    for (size_t i = 0; i < names->n; i++) {
        char want[32];
        snprintf(want, sizeof want, "job-%05u", (unsigned)i);
        assert_string_equal(names->names[i], want);
    }
    chr_store_names_free(names);
    print_message("   10,000 creates in 100 batches: %lld ms; listing them: %lld ms\n",
                  (long long)(t1 - t0), (long long)(t2 - t1));
    assert_int_equal(counted, TOTAL / PER);
}

/* ---- Expiry ------------------------------------------------------------------------ */

static void test_session_expiry(void **state)
{
    (void)state;
    struct rec r = {.zk = {0}};
    pthread_mutex_init(&r.mu, NULL);
    char hosts[512];
    zkfx_chroot_hosts(hosts, sizeof hosts, NULL);
    struct chr_zk *zk = open_zk(hosts, NULL, &r);
    struct chr_store *s = NULL;
    assert_int_equal(chr_store_open_zk(zk, NULL, &s), CHR_OK);
    assert_int_equal(one(s, op_create("/n", "x")), CHR_OK);
    struct rec er = {.zk = {0}};
    pthread_mutex_init(&er.mu, NULL);
    struct chr_election_config ecfg = {.dir = "/leader", .id = "me:1", .on_event = rec_el,
                                       .ctx = &er};
    struct chr_election *e = NULL;
    struct chr_error err;
    assert_int_equal(chr_election_join(zk, &ecfg, &e, &err), CHR_OK);
    WAIT_UNTIL(chr_election_leading(e), 5000);
    assert_true(chr_election_leading(e));

    expire_session(zk);
    WAIT_UNTIL(zk_count(&r, CHR_ZK_EXPIRED) == 1, 10000);
    assert_int_equal(zk_count(&r, CHR_ZK_EXPIRED), 1);
    assert_false(chr_zk_alive(zk));
    assert_int_equal(chr_store_state(s), CHR_EIO);
    struct chr_store_op op = op_create("/m", "y");
    assert_int_equal(chr_store_submit(s, &op, 1, never_done, NULL), CHR_EIO);
    assert_int_equal(chr_store_get(s, "/n", NULL, NULL, NULL), CHR_EIO);
    assert_int_equal(chr_store_flush(s), CHR_EIO);
    /* A batch of several ops on the dead handle, before our watcher would
     * have heard (ZooKeeper 3.8's zoo_amulti frees a stale path there): a
     * clean CHR_EIO, no invalid free. */
    chr_zk_test_seem_alive(zk);
    struct chr_store_op ops[3] = {op_create("/m1", "y"), op_set("/n", "z", -1), op_del("/n", -1)};
    assert_int_equal(chr_store_submit(s, ops, 3, never_done, NULL), CHR_EIO);
    WAIT_UNTIL(el_count(&er, CHR_ELECTION_LOST) == 1, 5000);
    assert_int_equal(el_count(&er, CHR_ELECTION_LOST), 1);
    assert_false(chr_election_leading(e));
    char buf[64];
    assert_false(chr_election_leader(e, buf, sizeof buf));
    assert_int_equal(el_count(&er, CHR_ELECTION_LEADING), 1);
    chr_election_leave(e);
    chr_store_close(s);
    chr_zk_close(zk);
    assert_int_equal(never_called, 0);
    pthread_mutex_destroy(&er.mu);
    pthread_mutex_destroy(&r.mu);
}

/* A completion that holds the completion thread until released. */
struct hold {
    pthread_mutex_t mu;
    pthread_cond_t cond;
    bool entered, released;
};

static void hold_done(void *ctx, enum chr_err result, const struct chr_store_result *res,
                      size_t n)
{
    (void)result, (void)res, (void)n;
    struct hold *h = ctx;
    pthread_mutex_lock(&h->mu);
    h->entered = true;
    pthread_cond_broadcast(&h->cond);
    while (!h->released)
        pthread_cond_wait(&h->cond, &h->mu);
    pthread_mutex_unlock(&h->mu);
}

static bool hold_entered(struct hold *h)
{
    pthread_mutex_lock(&h->mu);
    bool in = h->entered;
    pthread_mutex_unlock(&h->mu);
    return in;
}

/*
 * The client's IO thread marks the handle expired before the completion
 * thread tells us (chr_zk_alive turns false only then, and that thread may
 * be busy with completions): a batch submitted in between must be refused,
 * never handed to zoo_amulti, which on an expired handle frees the first
 * op's request path twice (with a chroot, paths are copies) or a stale one
 * (without: the batch's own first path, as a leader thawed from a freeze
 * did and aborted with "free(): invalid pointer").  `dir` holds the nodes.
 */
static void submit_on_expired_handle(const char *hosts, const char *dir)
{
    struct rec r = {.zk = {0}};
    pthread_mutex_init(&r.mu, NULL);
    struct chr_zk *zk = open_zk(hosts, NULL, &r);
    struct chr_store *s = NULL;
    assert_int_equal(chr_store_open_zk(zk, NULL, &s), CHR_OK);
    char n[CHR_STORE_PATH_MAX], m[CHR_STORE_PATH_MAX];
    snprintf(n, sizeof n, "%s/n", dir);
    snprintf(m, sizeof m, "%s/m", dir);
    if (strcmp(dir, "") != 0)
        assert_int_equal(one(s, op_create(dir, NULL)), CHR_OK);
    struct hold h = {.entered = false};
    pthread_mutex_init(&h.mu, NULL);
    pthread_cond_init(&h.cond, NULL);
    struct chr_store_op first = op_create(n, "x");
    assert_int_equal(chr_store_submit(s, &first, 1, hold_done, &h), CHR_OK);
    WAIT_UNTIL(hold_entered(&h), 5000);
    assert_true(hold_entered(&h)); /* the completion thread is ours now */

    expire_session(zk);
    WAIT_UNTIL(zoo_state(zk->zh) == ZOO_EXPIRED_SESSION_STATE, 10000);
    assert_int_equal(zoo_state(zk->zh), ZOO_EXPIRED_SESSION_STATE);
    assert_true(chr_zk_alive(zk)); /* not told yet: the window */
    struct chr_store_op ops[3] = {op_check(n, -1), op_create(m, "y"), op_set(n, "z", -1)};
    assert_int_equal(chr_store_submit(s, ops, 3, never_done, NULL), CHR_EIO);

    pthread_mutex_lock(&h.mu);
    h.released = true;
    pthread_cond_broadcast(&h.cond);
    pthread_mutex_unlock(&h.mu);
    WAIT_UNTIL(zk_count(&r, CHR_ZK_EXPIRED) == 1, 10000);
    assert_int_equal(zk_count(&r, CHR_ZK_EXPIRED), 1);
    assert_int_equal(chr_store_state(s), CHR_EIO);
    chr_store_close(s);
    chr_zk_close(zk);
    assert_int_equal(never_called, 0);
    pthread_cond_destroy(&h.cond);
    pthread_mutex_destroy(&h.mu);
    pthread_mutex_destroy(&r.mu);
}

static void test_submit_on_expired_handle_chroot(void **state)
{
    (void)state;
    char hosts[512];
    zkfx_chroot_hosts(hosts, sizeof hosts, NULL);
    submit_on_expired_handle(hosts, "");
}

static void test_submit_on_expired_handle_no_chroot(void **state)
{
    (void)state;
    char dir[64];
    snprintf(dir, sizeof dir, "/expired%ld", (long)getpid());
    submit_on_expired_handle(zkfx_hosts, dir);
}

/* ---- Election -------------------------------------------------------------------- */

struct cand {
    struct rec rec;
    struct chr_zk *zk;
    struct chr_election *e;
    char id[32];
};

static void cand_join(struct cand *c, const char *hosts, const char *id)
{
    if (c->zk == NULL) {
        memset(&c->rec, 0, sizeof c->rec);
        pthread_mutex_init(&c->rec.mu, NULL);
        c->zk = open_zk(hosts, NULL, &c->rec);
    }
    snprintf(c->id, sizeof c->id, "%s", id);
    struct chr_election_config cfg = {.dir = "/chronos/leader", .id = c->id,
                                      .on_event = rec_el, .ctx = &c->rec};
    struct chr_error err;
    assert_int_equal(chr_election_join(c->zk, &cfg, &c->e, &err), CHR_OK);
}

static void cand_close(struct cand *c)
{
    chr_election_leave(c->e);
    c->e = NULL;
    chr_zk_close(c->zk);
    c->zk = NULL;
    pthread_mutex_destroy(&c->rec.mu);
}

static bool leader_is(struct chr_election *e, const char *id)
{
    char buf[64];
    return chr_election_leader(e, buf, sizeof buf) && strcmp(buf, id) == 0;
}

static bool pred_is(struct chr_election *e, const char *node)
{
    char buf[CHR_STORE_PATH_MAX];
    return chr_election_predecessor(e, buf, sizeof buf) && strcmp(buf, node) == 0;
}

static void test_election_join_errors(void **state)
{
    (void)state;
    char hosts[512];
    zkfx_chroot_hosts(hosts, sizeof hosts, NULL);
    struct chr_zk *zk = open_zk(hosts, NULL, NULL);
    struct chr_election *e = (void *)1;
    struct chr_error err;
    struct chr_election_config cfg = {.dir = "leader", .id = "h:1"};
    assert_int_equal(chr_election_join(zk, &cfg, &e, &err), CHR_EINVAL);
    assert_null(e);
    assert_string_equal(err.field, "election_dir");
    cfg = (struct chr_election_config){.dir = "/leader", .id = ""};
    assert_int_equal(chr_election_join(zk, &cfg, &e, &err), CHR_EINVAL);
    assert_string_equal(err.field, "election_id");
    assert_int_equal(chr_election_join(NULL, &cfg, &e, &err), CHR_EINVAL);
    assert_false(chr_election_leading(NULL));
    chr_election_leave(NULL);
    chr_zk_close(zk);
}

static void test_election_three(void **state)
{
    (void)state;
    char hosts[512];
    zkfx_chroot_hosts(hosts, sizeof hosts, NULL);
    struct cand c[4];
    memset(c, 0, sizeof c);
    cand_join(&c[0], hosts, "h0:1");
    cand_join(&c[1], hosts, "h1:2");
    cand_join(&c[2], hosts, "h2:3");
    /* Exactly one leads: the first; the others see it, and each watches
     * only the candidate just below it. */
    WAIT_UNTIL(chr_election_leading(c[0].e) && leader_is(c[1].e, "h0:1") &&
                   leader_is(c[2].e, "h0:1"),
               5000);
    assert_true(chr_election_leading(c[0].e));
    assert_false(chr_election_leading(c[1].e));
    assert_false(chr_election_leading(c[2].e));
    assert_true(leader_is(c[0].e, "h0:1"));
    assert_true(leader_is(c[1].e, "h0:1"));
    assert_true(leader_is(c[2].e, "h0:1"));
    assert_int_equal(el_count(&c[0].rec, CHR_ELECTION_LEADING), 1);
    assert_int_equal(el_count(&c[1].rec, CHR_ELECTION_LEADER), 1);
    assert_int_equal(el_count(&c[2].rec, CHR_ELECTION_LEADER), 1);
    char buf[CHR_STORE_PATH_MAX];
    assert_false(chr_election_predecessor(c[0].e, buf, sizeof buf));
    assert_true(pred_is(c[1].e, chr_election_node(c[0].e)));
    assert_true(pred_is(c[2].e, chr_election_node(c[1].e)));
    assert_non_null(strstr(chr_election_node(c[0].e), "/chronos/leader/candidate_"));

    /* The middle one goes: only its successor looks again, at the leader. */
    chr_election_leave(c[1].e);
    c[1].e = NULL;
    WAIT_UNTIL(pred_is(c[2].e, chr_election_node(c[0].e)), 5000);
    assert_true(pred_is(c[2].e, chr_election_node(c[0].e)));
    assert_true(chr_election_leading(c[0].e));
    assert_int_equal(el_count(&c[2].rec, CHR_ELECTION_LEADER), 1);
    /* It joins again, last in line. */
    struct chr_election_config cfg = {.dir = "/chronos/leader", .id = "h1:2",
                                      .on_event = rec_el, .ctx = &c[1].rec};
    struct chr_error err;
    assert_int_equal(chr_election_join(c[1].zk, &cfg, &c[1].e, &err), CHR_OK);
    WAIT_UNTIL(pred_is(c[1].e, chr_election_node(c[2].e)), 5000);
    assert_true(pred_is(c[1].e, chr_election_node(c[2].e)));

    /* The leader goes: the next one leads, the last learns who. */
    int leader_events = el_count(&c[1].rec, CHR_ELECTION_LEADER);
    chr_election_leave(c[0].e);
    c[0].e = NULL;
    WAIT_UNTIL(chr_election_leading(c[2].e) && leader_is(c[1].e, "h2:3"), 5000);
    assert_true(chr_election_leading(c[2].e));
    assert_true(leader_is(c[1].e, "h2:3"));
    assert_true(el_count(&c[1].rec, CHR_ELECTION_LEADER) > leader_events);
    assert_false(chr_election_leading(c[1].e));
    assert_int_equal(el_count(&c[2].rec, CHR_ELECTION_LEADING), 1);

    /* The leader's session expires: it reports LOST, the last one leads
     * once the server has removed the leader's node. */
    expire_session(c[2].zk);
    WAIT_UNTIL(el_count(&c[2].rec, CHR_ELECTION_LOST) == 1, 10000);
    assert_int_equal(el_count(&c[2].rec, CHR_ELECTION_LOST), 1);
    assert_false(chr_election_leading(c[2].e));
    WAIT_UNTIL(chr_election_leading(c[1].e), 10000);
    assert_true(chr_election_leading(c[1].e));
    assert_int_equal(el_count(&c[1].rec, CHR_ELECTION_LEADING), 1);
    assert_false(chr_election_leading(c[2].e));
    assert_int_equal(el_count(&c[2].rec, CHR_ELECTION_LEADING), 1);
    for (int i = 0; i < 3; i++)
        cand_close(&c[i]);
}

/* The server freezes under a leader: its lease lapses within
 * session_timeout/3 of the freeze, it reports LOST, and it never leads
 * again, even once the server is back. */
static int freeze_teardown(void **state)
{
    (void)state;
    pid_t pid = zkfx_pid();
    if (pid > 0)
        kill(pid, SIGCONT);
    return 0;
}

static void test_election_lease_on_frozen_server(void **state)
{
    (void)state;
    char hosts[512];
    zkfx_chroot_hosts(hosts, sizeof hosts, NULL);
    struct cand c;
    memset(&c, 0, sizeof c);
    cand_join(&c, hosts, "solo:1");
    WAIT_UNTIL(chr_election_leading(c.e), 5000);
    assert_true(chr_election_leading(c.e));
    usleep(600 * 1000); /* a few renewals */
    assert_true(chr_election_leading(c.e));
    pid_t pid = zkfx_pid();
    assert_true(pid > 0);
    assert_int_equal(kill(pid, SIGSTOP), 0);
    int64_t t0 = test_mono_ms();
    WAIT_UNTIL(!chr_election_leading(c.e), 3000);
    int64_t lapsed = test_mono_ms() - t0;
    assert_false(chr_election_leading(c.e));
    print_message("   lease lapsed %lld ms after the freeze (session %d ms)\n",
                  (long long)lapsed, SESSION_MS);
    assert_true(lapsed <= SESSION_MS / 3 + 250);
    WAIT_UNTIL(el_count(&c.rec, CHR_ELECTION_LOST) == 1, 5000);
    assert_int_equal(el_count(&c.rec, CHR_ELECTION_LOST), 1);
    assert_int_equal(kill(pid, SIGCONT), 0);
    /* Back: reconnected (or expired); either way no more leading. */
    WAIT_UNTIL(zk_count(&c.rec, CHR_ZK_CONNECTED) >= 2 || zk_count(&c.rec, CHR_ZK_EXPIRED) == 1,
               10000);
    assert_true(zk_count(&c.rec, CHR_ZK_CONNECTED) >= 2 || zk_count(&c.rec, CHR_ZK_EXPIRED) == 1);
    assert_false(chr_election_leading(c.e));
    assert_int_equal(el_count(&c.rec, CHR_ELECTION_LEADING), 1);
    assert_int_equal(el_count(&c.rec, CHR_ELECTION_LOST), 1);
    cand_close(&c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_open_close),
        cmocka_unit_test(test_bad_config),
        cmocka_unit_test(test_chroot_created),
        cmocka_unit_test(test_digest_helpers),
        cmocka_unit_test(test_digest_auth),
        cmocka_unit_test_setup_teardown(test_create_get_set_delete, store_setup, store_teardown),
        CF_TEST(op_errors, store_setup, store_teardown),
        cmocka_unit_test_setup_teardown(test_get_many, store_setup, store_teardown),
        cmocka_unit_test_setup_teardown(test_children_stat_many, store_setup, store_teardown),
        CF_TEST(parents_and_children, store_setup, store_teardown),
        cmocka_unit_test_setup_teardown(test_binary_and_large_data, store_setup, store_teardown),
        cmocka_unit_test_setup_teardown(test_size_limits, store_setup, store_teardown),
        CF_TEST(batch_sees_own_effects, store_setup, store_teardown),
        CF_TEST(conflict_fails_whole_batch, store_setup, store_teardown),
        cmocka_unit_test_setup_teardown(test_check_guards_batch, store_setup, store_teardown),
        CF_TEST(callbacks_in_order, store_setup, store_teardown),
        CF_TEST(callback_reentry, store_setup, store_teardown),
        CF_TEST(queue_full_never_blocks, store_setup, store_teardown),
        cmocka_unit_test_setup_teardown(test_shards_hold_a_million_jobs, store_setup,
                                        store_teardown),
        cmocka_unit_test(test_session_expiry),
        cmocka_unit_test(test_submit_on_expired_handle_chroot),
        cmocka_unit_test(test_submit_on_expired_handle_no_chroot),
        cmocka_unit_test(test_election_join_errors),
        cmocka_unit_test(test_election_three),
        cmocka_unit_test_teardown(test_election_lease_on_frozen_server, freeze_teardown),
    };
    return cmocka_run_group_tests(tests, zkfx_group_setup, zkfx_group_teardown);
}
