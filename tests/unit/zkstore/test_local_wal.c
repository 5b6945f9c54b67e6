/*
 * test_local_wal.c - the log reader's rules (zkstore/local_wal.c), on bytes
 * built here: what is a torn tail (cut) and what is damage (refused), byte by
 * byte; that the format is canonical (decode + encode gives the same bytes);
 * and that replay stops at a record that does not fit the tree.
 *
 * The logs: record i (seq first+i-1) creates /r<seq> holding lowercase
 * letters, of sizes that make records cross 512-byte sectors.  Lowercase
 * letters XOR 0x5a never give a zero byte, so a flipped byte never looks like
 * an unwritten sector.
 */
#include "../unit.h"

#include <stdlib.h>

#include "zkstore/local_int.h"

#define N_REC 6
#define FLIP 0x5a

struct log {
    unsigned char *buf;
    size_t len;
    size_t off[N_REC + 2]; /* off[k]: record k (1-based); off[n+1] = len */
    char paths[N_REC + 1][32];
    unsigned char data[N_REC + 1][2048];
};

static const size_t sizes[N_REC] = {40, 700, 1500, 90, 333, 1210};

static struct lwal_op op_of(struct log *l, int k, uint64_t seq)
{
    snprintf(l->paths[k], sizeof l->paths[k], "/r%llu", (unsigned long long)seq);
    size_t n = sizes[(k - 1) % N_REC];
    for (size_t j = 0; j < n; j++)
        l->data[k][j] = (unsigned char)('a' + (j * 7 + (size_t)k) % 26);
    return (struct lwal_op){.type = CHR_STORE_CREATE, .version = 0, .path = l->paths[k],
                            .plen = (uint32_t)strlen(l->paths[k]), .data = l->data[k],
                            .dlen = (uint32_t)n};
}

/* n records with the given seqs (seqs[i] for record i+1). */
static void build(struct log *l, int n, const uint64_t *seqs)
{
    memset(l, 0, sizeof *l);
    struct lwal_op ops[N_REC];
    size_t total = 0;
    for (int k = 1; k <= n; k++) {
        ops[k - 1] = op_of(l, k, seqs[k - 1]);
        total += lwal_ops_size(&ops[k - 1], 1);
    }
    l->buf = malloc(total + 8192);
    for (int k = 1; k <= n; k++) {
        l->off[k] = l->len;
        l->len += lwal_encode_ops(l->buf + l->len, seqs[k - 1], &ops[k - 1], 1);
    }
    l->off[n + 1] = l->len;
    assert_int_equal(l->len, total);
}

static void build_seq(struct log *l, int n, uint64_t first)
{
    uint64_t seqs[N_REC];
    for (int i = 0; i < n; i++)
        seqs[i] = first + (uint64_t)i;
    build(l, n, seqs);
}

static struct lwal_scan scan(const unsigned char *buf, size_t len, uint64_t first)
{
    struct lwal_scan s;
    memset(&s, 0xa5, sizeof s);
    lwal_scan(buf, len, first, &s);
    return s;
}

static unsigned char *copy_of(const struct log *l, size_t extra)
{
    unsigned char *c = calloc(1, l->len + extra + 1);
    memcpy(c, l->buf, l->len);
    return c;
}

static void test_clean_log_reencodes_to_its_bytes(void **state)
{
    (void)state;
    struct log l;
    build_seq(&l, N_REC, 7);
    struct lwal_scan s = scan(l.buf, l.len, 7);
    assert_int_equal(s.end, LWAL_END_CLEAN);
    assert_int_equal(s.records, N_REC);
    assert_int_equal(s.last_seq, 7 + N_REC - 1);
    assert_int_equal(s.valid_end, l.len);
    unsigned char *again = malloc(l.len);
    size_t o = 0;
    for (int k = 1; k <= N_REC; k++) {
        struct lwal_rec rec;
        assert_true(lwal_record_at(l.buf, l.len, l.off[k], &rec));
        assert_int_equal(rec.seq, 7 + (uint64_t)k - 1);
        struct lwal_op op;
        const unsigned char *p = rec.payload;
        size_t n = rec.payload_len;
        lwal_op_next(&p, &n, &op);
        assert_int_equal(n, 0);
        assert_int_equal(op.dlen, sizes[k - 1]);
        assert_memory_equal(op.path, l.paths[k], strlen(l.paths[k]));
        o += lwal_encode_ops(again + o, rec.seq, &op, 1);
    }
    assert_int_equal(o, l.len);
    assert_memory_equal(again, l.buf, l.len);
    /* An empty file is a clean, empty log. */
    s = scan(l.buf, 0, 7);
    assert_int_equal(s.end, LWAL_END_CLEAN);
    assert_int_equal(s.records, 0);
    assert_int_equal(s.last_seq, 6);
    free(again);
    free(l.buf);
}

static void test_last_record_cut_anywhere_is_torn(void **state)
{
    (void)state;
    struct log l;
    build_seq(&l, N_REC, 1);
    size_t last = l.off[N_REC];
    for (size_t cut = last + 1; cut < l.len; cut++) {
        struct lwal_scan s = scan(l.buf, cut, 1);
        if (s.end != LWAL_END_TORN || s.records != N_REC - 1 || s.valid_end != last)
            fail_msg("cut at %zu: end %d, %llu records, valid to %llu (%s)", cut, (int)s.end,
                     (unsigned long long)s.records, (unsigned long long)s.valid_end, s.what);
    }
    struct lwal_scan s = scan(l.buf, last, 1);
    assert_int_equal(s.end, LWAL_END_CLEAN);
    assert_int_equal(s.records, N_REC - 1);
    free(l.buf);
}

static void test_zeros_after_the_last_record_are_torn(void **state)
{
    (void)state;
    struct log l;
    build_seq(&l, N_REC, 1);
    unsigned char *c = copy_of(&l, 8192);
    for (size_t extra = 1; extra <= 8192; extra *= 2) {
        struct lwal_scan s = scan(c, l.len + extra, 1);
        assert_int_equal(s.end, LWAL_END_TORN);
        assert_int_equal(s.records, N_REC);
        assert_int_equal(s.valid_end, l.len);
    }
    free(c);
    free(l.buf);
}

/* Every byte of a middle record flipped: damage, with the records after it
 * counted; never a torn tail, never a silent cut. */
static void test_flipped_byte_in_a_middle_record_is_damage(void **state)
{
    (void)state;
    struct log l;
    build_seq(&l, N_REC, 1);
    const int k = 3;
    for (size_t p = l.off[k]; p < l.off[k + 1]; p++) {
        unsigned char *c = copy_of(&l, 0);
        c[p] ^= FLIP;
        struct lwal_scan s = scan(c, l.len, 1);
        if (s.end != LWAL_END_DAMAGED || s.valid_end != l.off[k] || s.records != (uint64_t)k - 1 ||
            s.after_records != (uint64_t)(N_REC - k) || s.after_off != l.off[k + 1] ||
            s.after_first_seq != (uint64_t)k + 1 || s.after_last_seq != N_REC)
            fail_msg("flip at %zu: end %d, valid to %llu, %llu after from %llu (%s)", p,
                     (int)s.end, (unsigned long long)s.valid_end,
                     (unsigned long long)s.after_records, (unsigned long long)s.after_off,
                     s.what);
        assert_non_null(strstr(s.what, "valid records follow"));
        free(c);
    }
    free(l.buf);
}

/* Every byte of the last record flipped: an acknowledged record, damaged in
 * place; a crash cannot leave that, so it is damage. */
static void test_flipped_byte_in_the_last_record_is_damage(void **state)
{
    (void)state;
    struct log l;
    build_seq(&l, N_REC, 1);
    for (size_t p = l.off[N_REC]; p < l.len; p++) {
        unsigned char *c = copy_of(&l, 0);
        c[p] ^= FLIP;
        struct lwal_scan s = scan(c, l.len, 1);
        if (s.end != LWAL_END_DAMAGED || s.valid_end != l.off[N_REC] || s.after_records != 0)
            fail_msg("flip at %zu (record at %zu): end %d, valid to %llu (%s)", p, l.off[N_REC],
                     (int)s.end, (unsigned long long)s.valid_end, s.what);
        free(c);
    }
    free(l.buf);
}

/* The last record zero from a sector boundary on: a write that reached the
 * disk up to that sector.  Zeros that do not reach the end, or that start
 * past the record's last boundary, are not that. */
static void test_sector_rule_for_the_last_record(void **state)
{
    (void)state;
    struct log l;
    build_seq(&l, N_REC, 1);
    size_t start = l.off[N_REC], end = l.len;
    size_t b = (start / 512 + 1) * 512; /* the first boundary inside it */
    assert_true(b + 512 < end && end % 512 >= 2);
    unsigned char *c = copy_of(&l, 0);
    memset(c + b, 0, end - b);
    struct lwal_scan s = scan(c, end, 1);
    assert_int_equal(s.end, LWAL_END_TORN);
    assert_int_equal(s.valid_end, start);
    assert_non_null(strstr(s.what, "sector"));
    /* The same with more zeros after it (the file was extended too). */
    unsigned char *big = calloc(1, end + 4096);
    memcpy(big, c, end);
    assert_int_equal(scan(big, end + 4096, 1).end, LWAL_END_TORN);
    /* A zeroed sector in the middle, the record's end intact: damage. */
    memcpy(c, l.buf, end);
    memset(c + b, 0, 512);
    assert_int_equal(scan(c, end, 1).end, LWAL_END_DAMAGED);
    /* The last bytes zero, but from past the record's last boundary. */
    memcpy(c, l.buf, end);
    memset(c + end - (end % 512 - 1), 0, end % 512 - 1);
    s = scan(c, end, 1);
    assert_int_equal(s.end, LWAL_END_DAMAGED);
    assert_int_equal(s.valid_end, start);
    free(big);
    free(c);
    free(l.buf);
}

static void test_seq_out_of_order_is_damage(void **state)
{
    (void)state;
    struct log l;
    const uint64_t seqs[N_REC] = {1, 2, 4, 5, 6, 7};
    build(&l, N_REC, seqs);
    struct lwal_scan s = scan(l.buf, l.len, 1);
    assert_int_equal(s.end, LWAL_END_DAMAGED);
    assert_int_equal(s.records, 2);
    assert_int_equal(s.valid_end, l.off[3]);
    assert_non_null(strstr(s.what, "seq 4 where 3 belongs"));
    free(l.buf);
    /* A file whose first record is not the seq its name says. */
    build_seq(&l, N_REC, 1);
    s = scan(l.buf, l.len, 2);
    assert_int_equal(s.end, LWAL_END_DAMAGED);
    assert_int_equal(s.valid_end, 0);
    assert_int_equal(s.records, 0);
    free(l.buf);
}

/* Re-signs the record at off after its bytes were edited. */
static void resign(unsigned char *buf, size_t off)
{
    size_t plen = get32(buf + off + 8);
    put32(buf + off + 4, chr_crc32c(0, buf + off + 8, 16 + plen));
}

/* A record whose checksum holds but whose ops are not what the writer
 * writes: damage, even as the last record. */
static void test_checksummed_but_malformed_is_damage(void **state)
{
    (void)state;
    struct log l;
    build_seq(&l, N_REC, 1);
    size_t at = l.off[N_REC], op = at + 24;
    const struct {
        size_t pos;
        unsigned char value;
        const char *what;
    } edits[] = {
        {op + 0, 9, "type"},      {op + 1, 1, "padding"},  {op + 4, 1, "version"},
        {op + 16, 'r', "path"},   {op + 17, '/', "path"},  {op + 17, 0, "path"},
    };
    for (size_t i = 0; i < sizeof edits / sizeof edits[0]; i++) {
        unsigned char *c = copy_of(&l, 0);
        c[edits[i].pos] = edits[i].value;
        resign(c, at);
        struct lwal_scan s = scan(c, l.len, 1);
        if (s.end != LWAL_END_DAMAGED || s.valid_end != at ||
            strstr(s.what, "checksum holds") == NULL)
            fail_msg("%s edit: end %d at %llu (%s)", edits[i].what, (int)s.end,
                     (unsigned long long)s.valid_end, s.what);
        free(c);
    }
    free(l.buf);
}

static void test_short_tails(void **state)
{
    (void)state;
    struct log l;
    build_seq(&l, 2, 1);
    unsigned char *c = copy_of(&l, 64);
    /* The start of a header: torn. */
    memcpy(c + l.len, "CHRW\x01\x02\x03\x04\x05\x06", 10);
    assert_int_equal(scan(c, l.len + 10, 1).end, LWAL_END_TORN);
    memcpy(c + l.len, "CH", 2);
    assert_int_equal(scan(c, l.len + 2, 1).end, LWAL_END_TORN);
    /* Bytes that are not a header: damage. */
    memcpy(c + l.len, "garbage!!!", 10);
    struct lwal_scan s = scan(c, l.len + 10, 1);
    assert_int_equal(s.end, LWAL_END_DAMAGED);
    assert_int_equal(s.valid_end, l.len);
    /* A header whose length runs past the end, its body there in full save
     * the length field: damage (a complete record, damaged length). */
    memcpy(c, l.buf, l.len);
    c[l.off[2] + 9] ^= 0x01; /* +256 bytes */
    s = scan(c, l.len, 1);
    assert_int_equal(s.end, LWAL_END_DAMAGED);
    assert_non_null(strstr(s.what, "length field"));
    free(c);
    free(l.buf);
}

static void test_replay_stops_at_a_record_that_does_not_fit(void **state)
{
    (void)state;
    const char *paths[] = {"/a", "/x/y", "/b"};
    struct lwal_op ops[3];
    unsigned char buf[512];
    size_t len = 0, offs[3];
    for (int i = 0; i < 3; i++) {
        ops[i] = (struct lwal_op){.type = CHR_STORE_CREATE, .path = paths[i],
                                  .plen = (uint32_t)strlen(paths[i])};
        offs[i] = len;
        len += lwal_encode_ops(buf + len, (uint64_t)i + 1, &ops[i], 1);
    }
    assert_int_equal(scan(buf, len, 1).end, LWAL_END_CLEAN); /* framing is fine */
    struct lindex ix;
    assert_int_equal(lindex_init(&ix), CHR_OK);
    uint64_t seq = 0, bad = 0;
    char why[LWHAT_MAX];
    assert_int_equal(lwal_replay(&ix, buf, len, &seq, &bad, why), CHR_EDAMAGED);
    assert_int_equal(seq, 1);
    assert_int_equal(bad, offs[1]);
    assert_non_null(strstr(why, "/x/y"));
    assert_int_equal(ix.n_nodes, 2); /* "/" and /a */
    lindex_free(&ix);
    /* Records up to *seq are skipped: from 2 on, only /b is created. */
    assert_int_equal(lindex_init(&ix), CHR_OK);
    seq = 2;
    assert_int_equal(lwal_replay(&ix, buf, len, &seq, &bad, why), CHR_OK);
    assert_int_equal(seq, 3);
    assert_non_null(lindex_find(&ix, "/b", 2, chr_str_hash("/b", 2)));
    assert_null(lindex_find(&ix, "/a", 2, chr_str_hash("/a", 2)));
    lindex_free(&ix);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_clean_log_reencodes_to_its_bytes),
        cmocka_unit_test(test_last_record_cut_anywhere_is_torn),
        cmocka_unit_test(test_zeros_after_the_last_record_are_torn),
        cmocka_unit_test(test_flipped_byte_in_a_middle_record_is_damage),
        cmocka_unit_test(test_flipped_byte_in_the_last_record_is_damage),
        cmocka_unit_test(test_sector_rule_for_the_last_record),
        cmocka_unit_test(test_seq_out_of_order_is_damage),
        cmocka_unit_test(test_checksummed_but_malformed_is_damage),
        cmocka_unit_test(test_short_tails),
        cmocka_unit_test(test_replay_stops_at_a_record_that_does_not_fit),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
