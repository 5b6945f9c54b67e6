/*
 * local_wal.c - the local backend's write-ahead log: the record format, the
 * pure reader that tells a crash's torn tail from damage, replay into the
 * index, and creating, listing and dropping log files.
 *
 * A record is one successful batch's effects (never its conditions), so
 * replay is plain application in order:
 *   u32 magic "CHRW" | u32 crc32c of everything after it | u32 payload bytes |
 *   u32 ops | u64 seq | ops: u8 type, 3 zero bytes, i32 version after,
 *   u32 path bytes, u32 data bytes, path, data.
 * Integers are little-endian.  Seqs are 1, 2, 3... with no gap; a file is
 * named wal.<first seq, 16 hex digits> and its first record has that seq.
 * The format is canonical: the reader takes only what lwal_encode writes (at
 * least one op, zero padding, version 0 after CREATE and -1 after DELETE,
 * DELETE without data, valid paths, ops that fill the payload exactly).
 *
 * Torn or damaged: lwal_scan reads records from offset 0 while each is whole,
 * checksummed, well formed and next in seq.  Where that stops (offset D) the
 * rest of the file is
 *   - nothing: the file is clean;
 *   - damage when a complete record whose checksum holds starts anywhere
 *     after D (acknowledged data may lie behind the bad bytes), or when the
 *     record at D passes its checksum but is malformed or out of seq order;
 *   - else a torn tail when it is what a crash during the last, never
 *     fsync'd (so never acknowledged) write can leave, the rest of a sector
 *     the disk did not write reading as zeros:
 *       . zeros to the end of the file (space allocated, never written);
 *       . fewer bytes than a header, beginning like one;
 *       . a record whose length runs past the end of the file, unless its
 *         checksum holds for a record ending exactly there (then it is a
 *         complete record whose length field is damaged);
 *       . a complete record that fails its checksum and whose bytes are
 *         zero from a 512-byte sector boundary inside it to the end of the
 *         file (the write reached the disk up to a sector and no further:
 *         etcd's rule for its WAL's last record);
 *   - else damage: a complete record failing its checksum with no zeroed
 *     sector (a flipped byte in an acknowledged record), bytes that are not
 *     a record header, bytes other than zeros after a bad record.
 * The caller (local_check.c) cuts a torn tail only in the newest file; in an
 * older one it is damage, since each log was complete and fsync'd before the
 * next was created.  The price of never guessing: if a crash lets a group
 * commit's sectors reach the disk out of order (a later one written, an
 * earlier one not), the open refuses, and `chronos store recover` keeps
 * exactly what cutting would have kept.
 *
 * Never writes records (the commit thread does, through lwal_encode), never
 * trusts a byte it has not checked.
 */
#include "zkstore/local_int.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/alloc.h"

#define WAL_MAGIC 0x57524843u /* "CHRW" */
#define WAL_HDR 24
#define WAL_OP_HDR CHR_STORE_OP_OVERHEAD
/* The smallest unit a disk writes whole: a torn write ends at one. */
#define SECTOR 512

static const unsigned char magic_bytes[4] = {'C', 'H', 'R', 'W'};

/* ---- Encoding ------------------------------------------------------------- */

static const char *op_problem(const unsigned char *p, size_t n, size_t *used);

static bool op_writes(int type)
{
    return type == CHR_STORE_CREATE || type == CHR_STORE_SET || type == CHR_STORE_DELETE;
}

size_t lwal_record_size(const struct lbatch *b)
{
    size_t n = WAL_HDR;
    for (size_t i = 0; i < b->n_ops; i++) {
        const struct lop *op = &b->ops[i];
        if (op_writes(op->type))
            n += WAL_OP_HDR + op->blob->path_len +
                 (op->type == CHR_STORE_DELETE ? 0 : op->blob->data_len);
    }
    return n;
}

static size_t put_op(unsigned char *out, const struct lwal_op *op)
{
    out[0] = (unsigned char)op->type;
    out[1] = out[2] = out[3] = 0;
    put32(out + 4, (uint32_t)op->version);
    put32(out + 8, op->plen);
    put32(out + 12, op->dlen);
    memcpy(out + WAL_OP_HDR, op->path, op->plen);
    if (op->dlen > 0)
        memcpy(out + WAL_OP_HDR + op->plen, op->data, op->dlen);
    size_t size = WAL_OP_HDR + op->plen + op->dlen, used = 0;
    /* Before it reaches the file: an op the reader takes, of the size counted. */
    CHR_ASSERT(op_problem(out, size, &used) == NULL && used == size);
    return size;
}

/* Writes the header of the record whose ops end at out + end. */
static size_t put_header(unsigned char *out, size_t end, uint32_t n_ops, uint64_t seq)
{
    /* The lengths the reader bounds a header by (REC_HEADER otherwise). */
    CHR_ASSERT(n_ops > 0 && n_ops <= CHR_STORE_BATCH_OPS_MAX && end >= WAL_HDR &&
               end - WAL_HDR <= CHR_STORE_BATCH_BYTES_MAX);
    put32(out, WAL_MAGIC);
    put32(out + 8, (uint32_t)(end - WAL_HDR));
    put32(out + 12, n_ops);
    put64(out + 16, seq);
    put32(out + 4, chr_crc32c(0, out + 8, end - 8));
    return end;
}

size_t lwal_encode(unsigned char *out, const struct lbatch *b)
{
    size_t o = WAL_HDR;
    uint32_t n_ops = 0;
    for (size_t i = 0; i < b->n_ops; i++) {
        const struct lop *l = &b->ops[i];
        if (!op_writes(l->type))
            continue;
        bool del = l->type == CHR_STORE_DELETE;
        struct lwal_op op = {.type = l->type, .version = b->results[i].version,
                             .path = lblob_path(l->blob), .plen = l->blob->path_len,
                             .data = (const unsigned char *)lblob_data(l->blob),
                             .dlen = del ? 0 : l->blob->data_len};
        o += put_op(out + o, &op);
        n_ops++;
    }
    CHR_ASSERT(o == lwal_record_size(b)); /* the room the commit thread made */
    return put_header(out, o, n_ops, b->seq);
}

size_t lwal_ops_size(const struct lwal_op *ops, size_t n)
{
    size_t size = WAL_HDR;
    for (size_t i = 0; i < n; i++)
        size += WAL_OP_HDR + ops[i].plen + ops[i].dlen;
    return size;
}

size_t lwal_encode_ops(unsigned char *out, uint64_t seq, const struct lwal_op *ops, size_t n)
{
    size_t o = WAL_HDR;
    for (size_t i = 0; i < n; i++)
        o += put_op(out + o, &ops[i]);
    return put_header(out, o, (uint32_t)n, seq);
}

/* ---- Checking one record ------------------------------------------------------ */

enum rec_check {
    REC_OK,     /* passes every check */
    REC_SHORT,  /* the file ends inside it */
    REC_HEADER, /* no magic, or impossible sizes */
    REC_CRC,    /* whole, but its checksum fails */
    REC_BODY,   /* its checksum holds but an op is malformed */
};

/* Why op at p (n bytes left) is malformed, or NULL; its size into *used. */
static const char *op_problem(const unsigned char *p, size_t n, size_t *used)
{
    if (n < WAL_OP_HDR)
        return "an op header cut short";
    int type = p[0];
    int32_t version = (int32_t)get32(p + 4);
    uint32_t plen = get32(p + 8), dlen = get32(p + 12);
    if (!op_writes(type) || p[1] != 0 || p[2] != 0 || p[3] != 0)
        return "an op of unknown type";
    if (plen == 0 || plen >= CHR_STORE_PATH_MAX || dlen > CHR_STORE_NODE_MAX ||
        (size_t)plen + dlen > n - WAL_OP_HDR)
        return "an op with impossible sizes";
    if ((type == CHR_STORE_DELETE && (dlen != 0 || version != -1)) ||
        (type == CHR_STORE_CREATE && version != 0) || (type == CHR_STORE_SET && version < 0))
        return "an op with an impossible version";
    char path[CHR_STORE_PATH_MAX];
    memcpy(path, p + WAL_OP_HDR, plen);
    path[plen] = '\0';
    if (memchr(path, '\0', plen) != NULL || !chr_store_path_valid(path) ||
        (type != CHR_STORE_SET && plen == 1))
        return "an op with an invalid path";
    *used = WAL_OP_HDR + plen + dlen;
    return NULL;
}

static const char *payload_problem(const unsigned char *p, size_t n, uint32_t n_ops)
{
    for (uint32_t i = 0; i < n_ops; i++) {
        size_t used = 0;
        const char *why = op_problem(p, n, &used);
        if (why != NULL)
            return why;
        p += used;
        n -= used;
    }
    return n == 0 ? NULL : "bytes after its last op";
}

static enum rec_check check_record(const unsigned char *buf, size_t len, size_t off,
                                   struct lwal_rec *rec, const char **why)
{
    size_t rest = len - off;
    const unsigned char *h = buf + off;
    *why = NULL;
    if (rest < WAL_HDR)
        return REC_SHORT;
    uint32_t plen = get32(h + 8), n_ops = get32(h + 12);
    if (get32(h) != WAL_MAGIC || plen > CHR_STORE_BATCH_BYTES_MAX || n_ops == 0 ||
        n_ops > CHR_STORE_BATCH_OPS_MAX)
        return REC_HEADER;
    if (plen > rest - WAL_HDR)
        return REC_SHORT;
    if (chr_crc32c(0, h + 8, WAL_HDR - 8 + (size_t)plen) != get32(h + 4))
        return REC_CRC;
    *rec = (struct lwal_rec){.seq = get64(h + 16), .n_ops = n_ops, .payload = h + WAL_HDR,
                             .payload_len = plen, .size = WAL_HDR + (size_t)plen};
    CHR_ASSERT(rec->size <= rest && rec->payload_len <= CHR_STORE_BATCH_BYTES_MAX);
    *why = payload_problem(rec->payload, plen, n_ops);
    return *why == NULL ? REC_OK : REC_BODY;
}

bool lwal_record_at(const unsigned char *buf, size_t len, size_t off, struct lwal_rec *rec)
{
    const char *why;
    return off < len && check_record(buf, len, off, rec, &why) == REC_OK;
}

void lwal_op_next(const unsigned char **p, size_t *n, struct lwal_op *op)
{
    const unsigned char *q = *p;
    op->type = q[0];
    op->version = (int32_t)get32(q + 4);
    op->plen = get32(q + 8);
    op->dlen = get32(q + 12);
    op->path = (const char *)q + WAL_OP_HDR;
    op->data = q + WAL_OP_HDR + op->plen;
    size_t used = WAL_OP_HDR + (size_t)op->plen + op->dlen;
    /* A checked record's op: its lengths within bounds and the payload. */
    CHR_ASSERT(op_writes(op->type) && op->plen > 0 && op->plen < CHR_STORE_PATH_MAX &&
               op->dlen <= CHR_STORE_NODE_MAX && used <= *n);
    *p += used;
    *n -= used;
}

/* ---- Scanning a file ------------------------------------------------------------ */

/* The first complete record with a valid checksum after offset d, and how
 * many such records follow each other from it. */
static void find_after(const unsigned char *buf, size_t len, size_t d, struct lwal_scan *out)
{
    for (size_t p = d + 1; p + WAL_HDR <= len; p++) {
        const unsigned char *c = memchr(buf + p, magic_bytes[0], len - WAL_HDR + 1 - p);
        if (c == NULL)
            return;
        p = (size_t)(c - buf);
        struct lwal_rec rec;
        const char *why;
        enum rec_check k = check_record(buf, len, p, &rec, &why);
        if (k != REC_OK && k != REC_BODY)
            continue;
        out->after_off = p;
        out->after_first_seq = rec.seq;
        while (k == REC_OK || k == REC_BODY) {
            out->after_records++;
            out->after_last_seq = rec.seq;
            p += rec.size;
            if (p >= len)
                break;
            k = check_record(buf, len, p, &rec, &why);
        }
        return;
    }
}

/* True when the checksum at d holds for a record ending at the end of the
 * file: a complete record whose length field was damaged. */
static bool whole_to_end(const unsigned char *buf, size_t len, size_t d)
{
    size_t plen = len - d - WAL_HDR;
    if (plen > CHR_STORE_BATCH_BYTES_MAX)
        return false;
    unsigned char le[4];
    put32(le, (uint32_t)plen);
    uint32_t crc = chr_crc32c(chr_crc32c(0, le, 4), buf + d + 12, len - d - 12);
    return crc == get32(buf + d + 4);
}

/* Whether the bytes from d (no valid record after them) are a torn tail; a
 * sentence saying what they are into `what`. */
static bool torn_tail(const unsigned char *buf, size_t len, size_t d, char *what, size_t size)
{
    size_t z = len; /* the zeros at the end of the file start here */
    while (z > d && buf[z - 1] == 0)
        z--;
    if (z == d) {
        snprintf(what, size, "%zu zero bytes to the end of the file", len - d);
        return true;
    }
    size_t m = z - d < 4 ? z - d : 4;
    if (memcmp(buf + d, magic_bytes, m) != 0) {
        snprintf(what, size, "bytes that are not a record header (and not zeros)");
        return false;
    }
    if (len - d < WAL_HDR || m < 4) {
        snprintf(what, size, "a record header cut short");
        return true;
    }
    uint32_t plen = get32(buf + d + 8);
    if (plen > CHR_STORE_BATCH_BYTES_MAX) {
        snprintf(what, size, "a record header with an impossible length (%" PRIu32 ")", plen);
        return false;
    }
    size_t end = d + WAL_HDR + plen;
    if (end > len) {
        if (whole_to_end(buf, len, d)) {
            snprintf(what, size, "a complete record whose length field is damaged");
            return false;
        }
        snprintf(what, size, "a record cut short (%zu of its %zu bytes)", len - d, end - d);
        return true;
    }
    size_t boundary = (z + SECTOR - 1) / SECTOR * SECTOR;
    if (boundary < end) {
        snprintf(what, size, "a record that fails its checksum, zero from the sector at "
                 "offset %zu on (a write cut short)", boundary);
        return true;
    }
    snprintf(what, size, "%s", z > end ? "a record that fails its checksum, then bytes that are "
                                         "neither a record nor zeros"
                                       : "a record that fails its checksum, with no zeroed "
                                         "sector to show a torn write");
    return false;
}

/* Classifies what follows the valid records, from d. */
static void scan_end(const unsigned char *buf, size_t len, size_t d, enum rec_check k,
                     const struct lwal_rec *rec, const char *why, uint64_t want,
                     struct lwal_scan *out)
{
    out->valid_end = d;
    find_after(buf, len, d, out);
    char what[LWHAT_MAX];
    bool torn = false;
    if (k == REC_OK)
        snprintf(what, sizeof what, "a record with seq %" PRIu64 " where %" PRIu64 " belongs",
                 rec->seq, want);
    else if (k == REC_BODY)
        snprintf(what, sizeof what, "a record whose checksum holds but that holds %s", why);
    else if (out->after_records > 0)
        snprintf(what, sizeof what, "%s", k == REC_CRC     ? "a record that fails its checksum"
                                          : k == REC_SHORT ? "a record longer than the file"
                                                           : "bytes that are not a record");
    else
        torn = torn_tail(buf, len, d, what, sizeof what);
    out->end = torn ? LWAL_END_TORN : LWAL_END_DAMAGED;
    if (out->after_records == 0) {
        snprintf(out->what, sizeof out->what, "%s", what);
        return;
    }
    snprintf(out->what, sizeof out->what, "%.80s, and %" PRIu64 " valid records follow it "
             "(seqs %" PRIu64 "-%" PRIu64 " from offset %" PRIu64 ")", what, out->after_records,
             out->after_first_seq, out->after_last_seq, out->after_off);
}

void lwal_scan(const unsigned char *buf, size_t len, uint64_t first_seq, struct lwal_scan *out)
{
    memset(out, 0, sizeof *out);
    out->last_seq = first_seq - 1;
    size_t off = 0;
    while (off < len) {
        struct lwal_rec rec = {0};
        const char *why = NULL;
        enum rec_check k = check_record(buf, len, off, &rec, &why);
        if (k != REC_OK || rec.seq != out->last_seq + 1) {
            scan_end(buf, len, off, k, &rec, why, out->last_seq + 1, out);
            return;
        }
        out->records++;
        out->last_seq = rec.seq;
        off += rec.size;
    }
    out->valid_end = len;
    out->end = LWAL_END_CLEAN;
}

/* ---- Replay ---------------------------------------------------------------------- */

static const char *const op_names[] = {"?", "create", "set", "delete"};

/* Applies one checked op.  CHR_EDAMAGED when it does not fit the tree. */
static enum chr_err apply_op(struct lindex *ix, const struct lwal_op *op)
{
    struct lblob *b = lblob_new(op->path, op->plen, op->data, op->dlen, op->version);
    struct lnode *spare = op->type == CHR_STORE_CREATE ? chr_malloc(sizeof *spare) : NULL;
    if (b == NULL || (op->type == CHR_STORE_CREATE && spare == NULL)) {
        lblob_unref(b);
        chr_free(spare);
        return CHR_ENOMEM;
    }
    enum chr_err e = lindex_apply(ix, op->type, b, &spare);
    if (e != CHR_OK || op->type == CHR_STORE_DELETE)
        lblob_unref(b);
    chr_free(spare);
    return e == CHR_EIO ? CHR_EDAMAGED : e;
}

enum chr_err lwal_replay(struct lindex *ix, const unsigned char *buf, size_t end, uint64_t *seq,
                         uint64_t *bad_off, char why[LWHAT_MAX])
{
    struct lwal_rec rec;
    for (size_t off = 0; off < end; off += rec.size) {
        bool ok = lwal_record_at(buf, end, off, &rec);
        CHR_ASSERT(ok); /* the caller scanned it */
        if (rec.seq <= *seq)
            continue;
        const unsigned char *p = rec.payload;
        size_t n = rec.payload_len;
        for (uint32_t i = 0; i < rec.n_ops; i++) {
            struct lwal_op op;
            lwal_op_next(&p, &n, &op);
            enum chr_err e = apply_op(ix, &op);
            if (e == CHR_EDAMAGED) {
                char q[64];
                *bad_off = off;
                snprintf(why, LWHAT_MAX, "record %" PRIu64 " does not fit the tree: its op %u "
                         "(%s of %s) finds the node %s", rec.seq, i + 1, op_names[op.type],
                         chr_error_quote(op.path, op.plen, 48, q),
                         op.type == CHR_STORE_CREATE ? "there, or no parent" : "absent");
            }
            if (e != CHR_OK)
                return e;
        }
        CHR_ASSERT(n == 0); /* the ops filled the payload exactly */
        *seq = rec.seq;
    }
    return CHR_OK;
}

/* ---- Log files ------------------------------------------------------------ */

static bool parse_wal_name(const char *name, uint64_t *first)
{
    if (strncmp(name, "wal.", 4) != 0 || strlen(name) != 20)
        return false;
    uint64_t v = 0;
    for (int i = 4; i < 20; i++) {
        char c = name[i];
        int d = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
        if (d < 0)
            return false;
        v = v << 4 | (uint64_t)d;
    }
    *first = v;
    return v > 0;
}

void lwal_name(char out[24], uint64_t first)
{
    snprintf(out, 24, "wal.%016llx", (unsigned long long)first);
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

static enum chr_err push_u64(uint64_t **v, size_t *n, size_t *cap, uint64_t x)
{
    if (*n == *cap) {
        size_t ncap = *cap == 0 ? 8 : *cap * 2;
        uint64_t *nv = chr_realloc(*v, ncap * sizeof *nv);
        if (nv == NULL)
            return CHR_ENOMEM;
        *v = nv;
        *cap = ncap;
    }
    (*v)[(*n)++] = x;
    return CHR_OK;
}

enum chr_err lwal_list(int dir_fd, uint64_t **out, size_t *n)
{
    *out = NULL;
    *n = 0;
    int fd = dup(dir_fd);
    DIR *d = fd < 0 ? NULL : fdopendir(fd);
    if (d == NULL) {
        if (fd >= 0)
            close(fd);
        return CHR_EIO;
    }
    rewinddir(d);
    size_t cap = 0;
    enum chr_err e = CHR_OK;
    for (struct dirent *de = readdir(d); de != NULL && e == CHR_OK; de = readdir(d)) {
        uint64_t first;
        if (parse_wal_name(de->d_name, &first))
            e = push_u64(out, n, &cap, first);
    }
    closedir(d);
    if (e == CHR_OK && *n > 0)
        qsort(*out, *n, sizeof **out, cmp_u64);
    return e;
}

enum chr_err lwal_create(struct local_store *st, uint64_t first)
{
    char name[24];
    lwal_name(name, first);
    int fd = openat(st->dir_fd, name, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0)
        return CHR_EIO;
    /* The file must survive a crash before any record in it is acknowledged. */
    if (lio_sync(&st->faults, fd, false) != CHR_OK || lio_sync(&st->faults, st->dir_fd, false) != CHR_OK) {
        close(fd);
        unlinkat(st->dir_fd, name, 0);
        return CHR_EIO;
    }
    if (st->wal_fd >= 0)
        close(st->wal_fd);
    st->wal_fd = fd;
    st->wal_first = first;
    st->wal_size = 0;
    return CHR_OK;
}

void lwal_remove_upto(struct local_store *st, uint64_t seq)
{
    uint64_t *firsts = NULL;
    size_t n = 0;
    if (lwal_list(st->dir_fd, &firsts, &n) != CHR_OK) {
        chr_free(firsts);
        return;
    }
    /* File i holds seqs firsts[i] .. firsts[i+1]-1: drop it when they are all
     * covered.  The newest file is never dropped. */
    for (size_t i = 0; i + 1 < n; i++) {
        if (firsts[i + 1] <= seq + 1) {
            char name[24];
            lwal_name(name, firsts[i]);
            unlinkat(st->dir_fd, name, 0);
        }
    }
    chr_free(firsts);
}
