/*
 * test_local_snap.c - the snapshot reader (zkstore/local_snap.c) on bytes the
 * writer made: a round trip gives the same tree; every flipped byte, every
 * cut and every byte added is damage (a snapshot is never torn: it is
 * renamed into place only once whole and fsync'd), and nothing of a damaged
 * snapshot's tree is used; a tree out of order is damage too.
 */
#include "../unit.h"

#include <fcntl.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include "zkstore/local_int.h"

static void add(struct lindex *ix, const char *path, const char *data, int32_t version)
{
    size_t plen = strlen(path);
    struct lblob *b = lblob_new(path, plen, data, strlen(data), version);
    struct lnode *spare = malloc(sizeof *spare);
    assert_int_equal(lindex_apply(ix, CHR_STORE_CREATE, b, &spare), CHR_OK);
    free(spare); /* NULL: taken */
}

static const char *const paths[] = {"/a", "/a/b", "/a/b/c", "/d", "/a/e"};
static const char *const datas[] = {"alpha", "", "{\"x\":1}", "delta-delta", "e"};

static void make_tree(struct lindex *ix)
{
    assert_int_equal(lindex_init(ix), CHR_OK);
    for (size_t i = 0; i < sizeof paths / sizeof paths[0]; i++)
        add(ix, paths[i], datas[i], (int32_t)(i * 3));
}

/* The snapshot bytes of ix as of seq; blobs in capture (pre-order) order,
 * or with two of them swapped. */
static unsigned char *encode(struct lindex *ix, uint64_t seq, size_t swap_a, size_t swap_b,
                             size_t *len)
{
    struct ck_job job = {.seq = seq};
    assert_int_equal(lindex_capture(ix, &job.blobs, &job.n), CHR_OK);
    struct lblob *t = job.blobs[swap_a];
    job.blobs[swap_a] = job.blobs[swap_b];
    job.blobs[swap_b] = t;
    unsigned char *out = NULL;
    assert_int_equal(lsnap_encode(&job, &out, len), CHR_OK);
    for (size_t i = 0; i < job.n; i++)
        lblob_unref(job.blobs[i]);
    free(job.blobs);
    return out;
}

static enum chr_err load(const unsigned char *buf, size_t len, uint64_t *seq, uint64_t *bad,
                         char why[LWHAT_MAX])
{
    struct lindex ix;
    assert_int_equal(lindex_init(&ix), CHR_OK);
    uint64_t nodes = 0;
    enum chr_err e = lsnap_load_buf(&ix, buf, len, false, seq, &nodes, bad, why);
    lindex_free(&ix);
    return e;
}

static void test_round_trip(void **state)
{
    (void)state;
    struct lindex ix, back;
    make_tree(&ix);
    size_t len = 0;
    unsigned char *buf = encode(&ix, 77, 0, 0, &len);
    assert_int_equal(lindex_init(&back), CHR_OK);
    uint64_t seq = 0, nodes = 0, bad = 0;
    char why[LWHAT_MAX];
    assert_int_equal(lsnap_load_buf(&back, buf, len, false, &seq, &nodes, &bad, why), CHR_OK);
    assert_int_equal(seq, 77);
    assert_int_equal(nodes, 6);
    assert_int_equal(back.n_nodes, 6);
    for (size_t i = 0; i < sizeof paths / sizeof paths[0]; i++) {
        size_t plen = strlen(paths[i]);
        const struct lnode *n = lindex_find(&back, paths[i], plen, chr_str_hash(paths[i], plen));
        assert_non_null(n);
        assert_int_equal(n->blob->version, (int32_t)(i * 3));
        assert_string_equal(lblob_data(n->blob), datas[i]);
    }
    lindex_free(&back);
    lindex_free(&ix);
    free(buf);
}

/* The snapshot's bytes, captured in order, as lsnap_encode writes them. */
static unsigned char *encode_all(const struct lindex *ix, uint64_t seq, size_t *len)
{
    struct ck_job job = {.seq = seq, .cold = ix->cold};
    assert_int_equal(lindex_capture(ix, &job.blobs, &job.n), CHR_OK);
    unsigned char *out = NULL;
    assert_int_equal(lsnap_encode(&job, &out, len), CHR_OK);
    for (size_t i = 0; i < job.n; i++)
        lblob_unref(job.blobs[i]);
    free(job.blobs);
    return out;
}

/* Every node of `want` (inline) is in `got` (cold) with the same version and
 * bytes, read back through lcold_read at random (seq false) or in order. */
static void assert_same_nodes(const struct lindex *want, const struct lindex *got, bool seq)
{
    struct lblob **blobs = NULL;
    size_t n = 0;
    assert_int_equal(lindex_capture(want, &blobs, &n), CHR_OK);
    assert_int_equal(got->n_nodes, n);
    char *bytes = malloc(CHR_STORE_NODE_MAX);
    char why[160];
    for (size_t i = 0; i < n; i++) {
        const struct lblob *w = blobs[i];
        const struct lnode *g = lindex_find(got, lblob_path(w), w->path_len,
                                            chr_str_hash(lblob_path(w), w->path_len));
        assert_non_null(g);
        assert_int_equal(g->blob->version, w->version);
        assert_int_equal(g->blob->data_len, w->data_len);
        assert_int_equal(lblob_cold(g->blob), w->data_len > 0);
        assert_int_equal(lcold_read(got->cold, g->blob, bytes, seq, why), CHR_OK);
        assert_memory_equal(bytes, lblob_data(w), w->data_len);
        lblob_unref(blobs[i]);
    }
    free(bytes);
    free(blobs);
}

/* Loading a snapshot "cold" (its data left in the file, as an open does)
 * gives the tree the copying load gives: each node's bytes read back equal,
 * from the open's mapping, then with pread at random and in order (through
 * the window: 1.5 MB of data), and a checkpoint written from it is byte for
 * byte the one written from the copies.  A byte changed in the file after
 * the load is reported by the read, by node and offset, never served. */
static void test_cold_load_matches_copying_load(void **state)
{
    (void)state;
    struct lindex ix, hot, cold;
    assert_int_equal(lindex_init(&ix), CHR_OK);
    add(&ix, "/j", "", 0);
    char path[32], data[320];
    for (int i = 0; i < 5000; i++) {
        snprintf(path, sizeof path, "/j/%05d", i);
        snprintf(data, sizeof data, "%0300d", i * 7919);
        add(&ix, path, data, i % 5);
    }
    size_t len = 0;
    unsigned char *buf = encode(&ix, 9, 0, 0, &len);
    char file[] = "/tmp/chr-test-cold-XXXXXX";
    int fd = mkstemp(file);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, buf, len), (ssize_t)len);
    void *map = mmap(NULL, len, PROT_READ, MAP_PRIVATE, fd, 0);
    assert_true(map != MAP_FAILED);
    uint64_t seq = 0, nodes = 0, bad = 0;
    char why[LWHAT_MAX];
    assert_int_equal(lindex_init(&hot), CHR_OK);
    assert_int_equal(lsnap_load_buf(&hot, buf, len, false, &seq, &nodes, &bad, why), CHR_OK);
    assert_int_equal(lindex_init(&cold), CHR_OK);
    assert_int_equal(lsnap_load_buf(&cold, map, len, true, &seq, &nodes, &bad, why), CHR_OK);
    assert_int_equal(lcold_create(fd, map, len, &cold.cold), CHR_OK);
    assert_same_nodes(&hot, &cold, false); /* warm: from the mapping */
    lcold_cool(cold.cold);
    assert_same_nodes(&hot, &cold, false); /* pread */
    /* The window, backwards (the tree lists a directory's children in the
     * reverse of the file's order), then forwards: 1.5 MB in 1 MiB windows
     * each way, not a window a node. */
    assert_same_nodes(&hot, &cold, true);
    lcold_seq_end(cold.cold);
    uint64_t fills = lcold_window_fills(cold.cold);
    assert_true(fills >= 2 && fills <= 3);
    size_t f_len = 0;
    unsigned char *fwd = encode_all(&cold, 10, &f_len); /* a checkpoint of the tree */
    assert_true(lcold_window_fills(cold.cold) - fills <= 3);
    struct lindex again;
    assert_int_equal(lindex_init(&again), CHR_OK);
    assert_int_equal(lsnap_load_buf(&again, fwd, f_len, false, &seq, &nodes, &bad, why), CHR_OK);
    fills = lcold_window_fills(cold.cold);
    assert_same_nodes(&again, &cold, true); /* the other way */
    lcold_seq_end(cold.cold);
    assert_true(lcold_window_fills(cold.cold) - fills <= 3);
    lindex_free(&again);
    free(fwd);
    size_t a_len = 0, b_len = 0;
    unsigned char *a = encode_all(&hot, 10, &a_len), *b = encode_all(&cold, 10, &b_len);
    assert_int_equal(a_len, b_len);
    assert_memory_equal(a, b, a_len);
    /* A byte of node /j/04321's data changes on disk. */
    const char *victim = "/j/04321";
    const struct lnode *n = lindex_find(&cold, victim, 8, chr_str_hash(victim, 8));
    assert_non_null(n);
    unsigned char x = 'X';
    assert_int_equal(pwrite(fd, &x, 1, (off_t)lblob_cold_off(n->blob) + 17), 1);
    char *bytes = malloc(CHR_STORE_NODE_MAX);
    char msg[160];
    for (int s = 0; s < 2; s++) {
        msg[0] = '\0';
        assert_int_equal(lcold_read(cold.cold, n->blob, bytes, s == 1, msg), CHR_EDAMAGED);
        assert_non_null(strstr(msg, "/j/04321"));
        assert_non_null(strstr(msg, "no longer matches its checksum"));
    }
    /* ... and a checkpoint of that tree fails instead of copying it. */
    struct ck_job job = {.seq = 11, .cold = cold.cold};
    assert_int_equal(lindex_capture(&cold, &job.blobs, &job.n), CHR_OK);
    unsigned char *out = NULL;
    assert_int_equal(lsnap_encode(&job, &out, &len), CHR_EDAMAGED);
    for (size_t i = 0; i < job.n; i++)
        lblob_unref(job.blobs[i]);
    free(job.blobs);
    free(bytes);
    free(a);
    free(b);
    lindex_free(&cold); /* closes fd, unmaps */
    lindex_free(&hot);
    lindex_free(&ix);
    unlink(file);
    free(buf);
}

/* The index's last-parent hint never outlives its node: a parent deleted
 * and created again is found anew (ASan would see a use after free). */
static void test_last_parent_hint_follows_deletes(void **state)
{
    (void)state;
    struct lindex ix;
    assert_int_equal(lindex_init(&ix), CHR_OK);
    add(&ix, "/a", "", 0);
    add(&ix, "/a/x", "1", 0);
    struct lblob *del = lblob_new("/a/x", 4, NULL, 0, -1);
    assert_int_equal(lindex_apply(&ix, CHR_STORE_DELETE, del, NULL), CHR_OK);
    lblob_unref(del);
    del = lblob_new("/a", 2, NULL, 0, -1);
    assert_int_equal(lindex_apply(&ix, CHR_STORE_DELETE, del, NULL), CHR_OK);
    lblob_unref(del);
    assert_null(ix.last_parent);
    add(&ix, "/a", "again", 0);
    add(&ix, "/a/y", "2", 0);
    const struct lnode *a = lindex_find(&ix, "/a", 2, chr_str_hash("/a", 2));
    const struct lnode *y = lindex_find(&ix, "/a/y", 4, chr_str_hash("/a/y", 4));
    assert_non_null(y);
    assert_ptr_equal(y->parent, a);
    assert_int_equal(a->n_children, 1);
    lindex_free(&ix);
}

/* A snapshot of more nodes than the index's first table sizes the table
 * once for its count (no rehash of every node at each doubling), and every
 * node is found. */
static void test_big_snapshot_sizes_the_index_once(void **state)
{
    (void)state;
    struct lindex ix, back;
    assert_int_equal(lindex_init(&ix), CHR_OK);
    add(&ix, "/j", "", 0);
    char path[32];
    for (int i = 0; i < 5000; i++) {
        snprintf(path, sizeof path, "/j/%05d", i);
        add(&ix, path, "{}", 0);
    }
    size_t len = 0;
    unsigned char *buf = encode(&ix, 9, 0, 0, &len);
    assert_int_equal(lindex_init(&back), CHR_OK);
    size_t first = back.mask + 1;
    assert_true(first < 5002); /* else this test shows nothing */
    uint64_t seq = 0, nodes = 0, bad = 0;
    char why[LWHAT_MAX];
    assert_int_equal(lsnap_load_buf(&back, buf, len, false, &seq, &nodes, &bad, why), CHR_OK);
    assert_int_equal(back.mask + 1, 8192); /* 5,002 nodes: one table of 8,192 */
    assert_int_equal(back.rehashes, 1);      /* made once, not doubled thrice */
    for (int i = 0; i < 5000; i += 7) {
        snprintf(path, sizeof path, "/j/%05d", i);
        assert_non_null(lindex_find(&back, path, strlen(path), chr_str_hash(path, strlen(path))));
    }
    lindex_free(&back);
    lindex_free(&ix);
    free(buf);
}

static void test_every_flip_cut_and_extension_is_damage(void **state)
{
    (void)state;
    struct lindex ix;
    make_tree(&ix);
    size_t len = 0;
    unsigned char *buf = encode(&ix, 5, 0, 0, &len);
    unsigned char *c = malloc(len + 1);
    uint64_t seq, bad;
    char why[LWHAT_MAX];
    for (size_t p = 0; p < len; p++) {
        for (int bit = 0; bit < 8; bit++) {
            memcpy(c, buf, len);
            c[p] ^= (unsigned char)(1u << bit);
            if (load(c, len, &seq, &bad, why) != CHR_EDAMAGED)
                fail_msg("bit %d of byte %zu flipped: loaded", bit, p);
            assert_true(bad < len);
        }
    }
    for (size_t cut = 0; cut < len; cut++)
        assert_int_equal(load(buf, cut, &seq, &bad, why), CHR_EDAMAGED);
    memcpy(c, buf, len);
    c[len] = 0;
    assert_int_equal(load(c, len + 1, &seq, &bad, why), CHR_EDAMAGED);
    /* A checksum flip names the checksum's own offset. */
    memcpy(c, buf, len);
    c[len - 2] ^= 1;
    assert_int_equal(load(c, len, &seq, &bad, why), CHR_EDAMAGED);
    assert_int_equal(bad, len - 4);
    assert_non_null(strstr(why, "checksum"));
    lindex_free(&ix);
    free(c);
    free(buf);
}

/* Checksummed, well framed, but a child before its parent, or "/" not
 * first: damage at that node. */
static void test_tree_out_of_order_is_damage(void **state)
{
    (void)state;
    struct lindex ix;
    make_tree(&ix);
    struct ck_job job = {0};
    assert_int_equal(lindex_capture(&ix, &job.blobs, &job.n), CHR_OK);
    /* Find /a and /a/b in the capture and put the child first. */
    size_t ia = 0, ib = 0;
    for (size_t i = 0; i < job.n; i++) {
        if (strcmp(lblob_path(job.blobs[i]), "/a") == 0)
            ia = i;
        if (strcmp(lblob_path(job.blobs[i]), "/a/b") == 0)
            ib = i;
    }
    assert_true(ia < ib);
    for (size_t i = 0; i < job.n; i++)
        lblob_unref(job.blobs[i]);
    free(job.blobs);
    size_t len = 0;
    unsigned char *buf = encode(&ix, 1, ia, ib, &len);
    uint64_t seq, bad;
    char why[LWHAT_MAX];
    assert_int_equal(load(buf, len, &seq, &bad, why), CHR_EDAMAGED);
    assert_true(bad > 32 && bad < len - 4);
    assert_non_null(strstr(why, "/a/b"));
    free(buf);
    buf = encode(&ix, 1, 0, 1, &len); /* "/" second */
    assert_int_equal(load(buf, len, &seq, &bad, why), CHR_EDAMAGED);
    assert_int_equal(bad, 32);
    free(buf);
    lindex_free(&ix);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_round_trip),
        cmocka_unit_test(test_big_snapshot_sizes_the_index_once),
        cmocka_unit_test(test_cold_load_matches_copying_load),
        cmocka_unit_test(test_last_parent_hint_follows_deletes),
        cmocka_unit_test(test_every_flip_cut_and_extension_is_damage),
        cmocka_unit_test(test_tree_out_of_order_is_damage),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
