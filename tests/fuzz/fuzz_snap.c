/*
 * fuzz_snap.c - libFuzzer target for the local store's snapshot reader
 * (zkstore/local_snap.c: lsnap_load_buf), which reads a file a bad disk may
 * have damaged.
 *
 * The input is a snapshot file's bytes.  Checked: no crash; a refusal names
 * an offset inside the file and says what; a snapshot that loads is encoded
 * again by the writer's own code (lsnap_encode of the loaded tree), and that
 * loads to the same value: the same seq and the same nodes, each with its
 * version and data.  The format is not canonical in one way (siblings may
 * come in any order, and a load reverses them), so the check is on the value,
 * not the bytes.  Each input is read twice: as it is, and with its checksum
 * made right, so that mutations reach the checks behind it (node framing,
 * paths, the tree) instead of stopping at it.
 */
#include "fuzz_check.h"

#include "zkstore/local_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Every node of a is in b with the same version and data. */
static void check_same_tree(struct lindex *a, struct lindex *b)
{
    FUZZ_CHECK(a->n_nodes == b->n_nodes, "%zu nodes, %zu after the round trip", a->n_nodes,
               b->n_nodes);
    struct lblob **blobs = NULL;
    size_t n = 0;
    if (lindex_capture(a, &blobs, &n) != CHR_OK)
        return;
    for (size_t i = 0; i < n; i++) {
        const struct lblob *x = blobs[i];
        const struct lnode *y = lindex_find(b, lblob_path(x), x->path_len,
                                            chr_str_hash(lblob_path(x), x->path_len));
        FUZZ_CHECK(y != NULL, "%s is lost in the round trip", lblob_path(x));
        FUZZ_CHECK(y->blob->version == x->version && y->blob->data_len == x->data_len &&
                       memcmp(lblob_data(y->blob), lblob_data(x), x->data_len) == 0,
                   "%s changed in the round trip", lblob_path(x));
    }
    for (size_t i = 0; i < n; i++)
        lblob_unref(blobs[i]);
    free(blobs);
}

static void round_trip(struct lindex *ix, uint64_t seq)
{
    struct ck_job job = {.seq = seq};
    if (lindex_capture(ix, &job.blobs, &job.n) != CHR_OK)
        return;
    unsigned char *out = NULL;
    size_t len = 0;
    if (lsnap_encode(&job, &out, &len) == CHR_OK) {
        struct lindex back;
        FUZZ_CHECK(lindex_init(&back) == CHR_OK, "out of memory");
        uint64_t seq2 = 0, nodes2 = 0, bad = 0;
        char why[LWHAT_MAX];
        enum chr_err e = lsnap_load_buf(&back, out, len, false, &seq2, &nodes2, &bad, why);
        FUZZ_CHECK(e == CHR_OK, "the writer's own snapshot does not load: %s at %llu: %s",
                   chr_err_name(e), (unsigned long long)bad, why);
        FUZZ_CHECK(seq2 == seq && nodes2 == ix->n_nodes, "seq %llu -> %llu, nodes %zu -> %llu",
                   (unsigned long long)seq, (unsigned long long)seq2, ix->n_nodes,
                   (unsigned long long)nodes2);
        check_same_tree(ix, &back);
        lindex_free(&back);
    }
    for (size_t i = 0; i < job.n; i++)
        lblob_unref(job.blobs[i]);
    free(job.blobs);
    free(out);
}

static void check_snap(const uint8_t *data, size_t size)
{
    struct lindex ix;
    if (lindex_init(&ix) != CHR_OK)
        return;
    uint64_t seq = 0, nodes = 0, bad = UINT64_MAX;
    char why[LWHAT_MAX];
    why[0] = '\0';
    enum chr_err e = lsnap_load_buf(&ix, data, size, false, &seq, &nodes, &bad, why);
    FUZZ_CHECK(e == CHR_OK || e == CHR_EDAMAGED || e == CHR_ENOMEM, "load: %s", chr_err_name(e));
    if (e == CHR_EDAMAGED)
        FUZZ_CHECK(bad <= size && why[0] != '\0' && memchr(why, '\0', sizeof why) != NULL,
                   "damage at %llu of %zu: '%s'", (unsigned long long)bad, size, why);
    if (e == CHR_OK) {
        FUZZ_CHECK(nodes == ix.n_nodes, "header says %llu nodes, the tree has %zu",
                   (unsigned long long)nodes, ix.n_nodes);
        round_trip(&ix, seq);
    }
    lindex_free(&ix);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    check_snap(data, size);
    if (size < 4)
        return 0;
    unsigned char *c = malloc(size);
    if (c == NULL)
        return 0;
    memcpy(c, data, size);
    put32(c + size - 4, chr_crc32c(0, c, size - 4));
    check_snap(c, size);
    free(c);
    return 0;
}
