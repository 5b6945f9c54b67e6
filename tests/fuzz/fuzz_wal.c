/*
 * fuzz_wal.c - libFuzzer target for the local store's log reader
 * (zkstore/local_wal.c: lwal_scan, lwal_record_at, lwal_op_next, lwal_replay),
 * which reads files a crash or a bad disk may have damaged.
 *
 * The input is a log file's bytes; the file's first seq is its first
 * record's (bytes 16-23) when it has a header, else 1.  Checked:
 *   - no crash; the reader says clean, torn or damaged, and the counts agree
 *     with the seqs (last = first - 1 + records) and the valid end;
 *   - the format is canonical: the records it takes, decoded op by op and
 *     encoded again (lwal_encode_ops), give exactly the bytes they came from;
 *   - a torn or damaged file read only up to its valid end is clean with the
 *     same records (what a cut leaves is what was read);
 *   - valid records found after the damage make it damage, never torn;
 *   - replay of the records into an empty tree either applies them all or
 *     stops at one that does not fit, naming its offset inside the records.
 * Each input is read twice: as it is, and with every record's checksum made
 * right (following the length fields), so that mutations reach the checks
 * behind the checksum (ops, seqs, the tree) instead of stopping at it.
 */
#include "fuzz_check.h"

#include "zkstore/local_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Decodes every valid record and encodes it again: the same bytes. */
static void check_reencodes(const uint8_t *data, const struct lwal_scan *s)
{
    unsigned char *again = malloc(s->valid_end + 1);
    struct lwal_op *ops = malloc(CHR_STORE_BATCH_OPS_MAX * sizeof *ops);
    FUZZ_CHECK(again != NULL && ops != NULL, "out of memory");
    size_t off = 0;
    uint64_t n = 0;
    while (off < s->valid_end) {
        struct lwal_rec rec;
        FUZZ_CHECK(lwal_record_at(data, s->valid_end, off, &rec),
                   "record %llu at offset %zu was valid in the scan, not now",
                   (unsigned long long)n, off);
        const unsigned char *p = rec.payload;
        size_t left = rec.payload_len;
        for (uint32_t i = 0; i < rec.n_ops; i++)
            lwal_op_next(&p, &left, &ops[i]);
        FUZZ_CHECK(left == 0, "record at %zu: %zu payload bytes after its ops", off, left);
        size_t want = lwal_ops_size(ops, rec.n_ops);
        FUZZ_CHECK(want == rec.size, "record at %zu: %zu bytes, encodes to %zu", off, rec.size,
                   want);
        lwal_encode_ops(again + off, rec.seq, ops, rec.n_ops);
        FUZZ_CHECK(memcmp(again + off, data + off, rec.size) == 0,
                   "record at %zu (seq %llu) encodes to other bytes", off,
                   (unsigned long long)rec.seq);
        off += rec.size;
        n++;
    }
    FUZZ_CHECK(off == s->valid_end && n == s->records, "%llu records to %zu, scan said %llu to %llu",
               (unsigned long long)n, off, (unsigned long long)s->records,
               (unsigned long long)s->valid_end);
    free(ops);
    free(again);
}

static void check_replay(const uint8_t *data, const struct lwal_scan *s, uint64_t first)
{
    struct lindex ix;
    if (lindex_init(&ix) != CHR_OK)
        return;
    uint64_t seq = first - 1, bad = UINT64_MAX;
    char why[LWHAT_MAX];
    enum chr_err e = lwal_replay(&ix, data, s->valid_end, &seq, &bad, why);
    FUZZ_CHECK(e == CHR_OK || e == CHR_EDAMAGED || e == CHR_ENOMEM, "replay: %s", chr_err_name(e));
    if (e == CHR_OK)
        FUZZ_CHECK(seq == s->last_seq, "replay reached %llu, the scan %llu",
                   (unsigned long long)seq, (unsigned long long)s->last_seq);
    if (e == CHR_EDAMAGED)
        FUZZ_CHECK(bad < s->valid_end && why[0] != '\0' && seq < s->last_seq,
                   "replay stopped at %llu (%s)", (unsigned long long)bad, why);
    lindex_free(&ix);
}

static void check_log(const uint8_t *data, size_t size)
{
    uint64_t first = size >= 24 ? get64(data + 16) : 1;
    if (first == 0)
        first = 1;
    struct lwal_scan s;
    lwal_scan(data, size, first, &s);
    FUZZ_CHECK(s.valid_end <= size, "valid end %llu past %zu", (unsigned long long)s.valid_end,
               size);
    FUZZ_CHECK(s.last_seq == first - 1 + s.records, "last seq %llu, first %llu, %llu records",
               (unsigned long long)s.last_seq, (unsigned long long)first,
               (unsigned long long)s.records);
    FUZZ_CHECK((s.end == LWAL_END_CLEAN) == (s.valid_end == size), "end %d, valid to %llu of %zu",
               (int)s.end, (unsigned long long)s.valid_end, size);
    FUZZ_CHECK(s.end == LWAL_END_CLEAN || memchr(s.what, '\0', sizeof s.what) != NULL,
               "no NUL in what");
    FUZZ_CHECK(s.end == LWAL_END_CLEAN || s.what[0] != '\0', "end %d says nothing", (int)s.end);
    FUZZ_CHECK(s.after_records == 0 || (s.end == LWAL_END_DAMAGED && s.after_off > s.valid_end),
               "valid records after %llu, yet end %d", (unsigned long long)s.valid_end,
               (int)s.end);
    check_reencodes(data, &s);
    if (s.end != LWAL_END_CLEAN) {
        struct lwal_scan cut;
        lwal_scan(data, s.valid_end, first, &cut);
        FUZZ_CHECK(cut.end == LWAL_END_CLEAN && cut.records == s.records,
                   "cut at %llu: end %d, %llu records (was %llu)",
                   (unsigned long long)s.valid_end, (int)cut.end,
                   (unsigned long long)cut.records, (unsigned long long)s.records);
    }
    check_replay(data, &s, first);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    check_log(data, size);
    unsigned char *c = malloc(size + 1);
    if (c == NULL)
        return 0;
    memcpy(c, data, size);
    for (size_t o = 0; o + 24 <= size;) {
        uint32_t plen = get32(c + o + 8);
        if (plen > size - o - 24)
            break;
        put32(c + o + 4, chr_crc32c(0, c + o + 8, 16 + (size_t)plen));
        o += 24 + (size_t)plen;
    }
    check_log(c, size);
    free(c);
    return 0;
}
