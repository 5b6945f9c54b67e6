/*
 * local_wal.c - the local backend's write-ahead log: the record format,
 * replay at open (cutting off a torn tail), creating and dropping log files.
 *
 * A record is one successful batch's effects (never its conditions), so
 * replay is plain application in order:
 *   u32 magic "CHRW" | u32 crc32c of everything after it | u32 payload bytes |
 *   u32 ops | u64 seq | ops: u8 type, 3 zero bytes, i32 version after,
 *   u32 path bytes, u32 data bytes, path, data.
 * Integers are little-endian.  Seqs are 1, 2, 3... with no gap; a file is
 * named wal.<first seq, 16 hex digits>.  Never writes records (the commit
 * thread does) and never trusts a byte it has not checked.
 */
#include "zkstore/local_int.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/alloc.h"

#define WAL_MAGIC 0x57524843u /* "CHRW" */
#define WAL_HDR 24
#define WAL_OP_HDR CHR_STORE_OP_OVERHEAD
#define READ_CHUNK (1024 * 1024)

/* ---- Buffered reading ---------------------------------------------------- */

enum chr_err lreader_init(struct lreader *r, int fd)
{
    memset(r, 0, sizeof *r);
    r->fd = fd;
    r->buf = chr_malloc(READ_CHUNK);
    if (r->buf == NULL)
        return CHR_ENOMEM;
    r->cap = READ_CHUNK;
    return CHR_OK;
}

void lreader_free(struct lreader *r)
{
    chr_free(r->buf);
    r->buf = NULL;
}

static enum chr_err reader_fill(struct lreader *r, size_t n)
{
    if (r->start > 0) {
        memmove(r->buf, r->buf + r->start, r->end - r->start);
        r->end -= r->start;
        r->start = 0;
    }
    if (n > r->cap) {
        unsigned char *nb = chr_realloc(r->buf, n);
        if (nb == NULL)
            return CHR_ENOMEM;
        r->buf = nb;
        r->cap = n;
    }
    while (r->end < n && !r->eof) {
        ssize_t got = read(r->fd, r->buf + r->end, r->cap - r->end);
        if (got < 0 && errno == EINTR)
            continue;
        if (got < 0)
            return CHR_EIO;
        if (got == 0)
            r->eof = true;
        r->end += (size_t)got;
    }
    return CHR_OK;
}

const unsigned char *lreader_peek(struct lreader *r, size_t n, enum chr_err *err)
{
    *err = CHR_OK;
    if (r->end - r->start < n) {
        *err = reader_fill(r, n);
        if (*err != CHR_OK || r->end - r->start < n)
            return NULL;
    }
    return r->buf + r->start;
}

void lreader_skip(struct lreader *r, size_t n)
{
    r->start += n;
    r->off += n;
}

/* ---- Encoding ------------------------------------------------------------- */

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

size_t lwal_encode(unsigned char *out, const struct lbatch *b)
{
    size_t o = WAL_HDR;
    uint32_t n_ops = 0;
    for (size_t i = 0; i < b->n_ops; i++) {
        const struct lop *op = &b->ops[i];
        if (!op_writes(op->type))
            continue;
        uint32_t dlen = op->type == CHR_STORE_DELETE ? 0 : op->blob->data_len;
        out[o] = (unsigned char)op->type;
        out[o + 1] = out[o + 2] = out[o + 3] = 0;
        put32(out + o + 4, (uint32_t)b->results[i].version);
        put32(out + o + 8, op->blob->path_len);
        put32(out + o + 12, dlen);
        o += WAL_OP_HDR;
        memcpy(out + o, lblob_path(op->blob), op->blob->path_len);
        o += op->blob->path_len;
        if (dlen > 0)
            memcpy(out + o, lblob_data(op->blob), dlen);
        o += dlen;
        n_ops++;
    }
    put32(out, WAL_MAGIC);
    put32(out + 8, (uint32_t)(o - WAL_HDR));
    put32(out + 12, n_ops);
    put64(out + 16, b->seq);
    put32(out + 4, chr_crc32c(0, out + 8, o - 8));
    return o;
}

/* ---- Replay ---------------------------------------------------------------- */

/* Applies one op of a record's payload at p (n bytes left); its size into
 * *used.  CHR_EIO for anything malformed or not fitting the tree. */
static enum chr_err replay_op(struct local_store *st, const unsigned char *p, size_t n,
                              size_t *used)
{
    if (n < WAL_OP_HDR)
        return CHR_EIO;
    int type = p[0];
    int32_t version = (int32_t)get32(p + 4);
    uint32_t plen = get32(p + 8), dlen = get32(p + 12);
    if (!op_writes(type) || plen == 0 || plen >= CHR_STORE_PATH_MAX ||
        dlen > CHR_STORE_NODE_MAX || (size_t)plen + dlen > n - WAL_OP_HDR ||
        (type == CHR_STORE_DELETE && dlen != 0) || version < -1)
        return CHR_EIO;
    *used = WAL_OP_HDR + plen + dlen;
    struct lblob *b = lblob_new((const char *)p + WAL_OP_HDR, plen, p + WAL_OP_HDR + plen, dlen,
                                version);
    struct lnode *spare = type == CHR_STORE_CREATE ? chr_malloc(sizeof *spare) : NULL;
    if (b == NULL || (type == CHR_STORE_CREATE && spare == NULL)) {
        lblob_unref(b);
        chr_free(spare);
        return CHR_ENOMEM;
    }
    enum chr_err e = chr_store_path_valid(lblob_path(b)) && strlen(lblob_path(b)) == plen
                         ? lindex_apply(&st->ix, type, b, &spare)
                         : CHR_EIO;
    if (e != CHR_OK || type == CHR_STORE_DELETE)
        lblob_unref(b);
    chr_free(spare);
    return e;
}

static enum chr_err replay_payload(struct local_store *st, const unsigned char *p, size_t n,
                                   uint32_t n_ops)
{
    for (uint32_t i = 0; i < n_ops; i++) {
        size_t used = 0;
        enum chr_err e = replay_op(st, p, n, &used);
        if (e != CHR_OK)
            return e;
        p += used;
        n -= used;
    }
    return n == 0 ? CHR_OK : CHR_EIO;
}

/* Reads one record.  CHR_OK with *rec and *len; CHR_ENONE for the end of the
 * valid records (end of file, a short or torn or foreign record); CHR_EIO,
 * CHR_ENOMEM for a failed read. */
static enum chr_err read_record(struct lreader *r, const unsigned char **rec, size_t *len)
{
    enum chr_err e;
    const unsigned char *h = lreader_peek(r, WAL_HDR, &e);
    if (h == NULL)
        return e != CHR_OK ? e : CHR_ENONE;
    uint32_t plen = get32(h + 8);
    if (get32(h) != WAL_MAGIC || plen > CHR_STORE_BATCH_BYTES_MAX ||
        get32(h + 12) > CHR_STORE_BATCH_OPS_MAX)
        return CHR_ENONE;
    h = lreader_peek(r, WAL_HDR + plen, &e);
    if (h == NULL)
        return e != CHR_OK ? e : CHR_ENONE;
    if (chr_crc32c(0, h + 8, WAL_HDR - 8 + plen) != get32(h + 4))
        return CHR_ENONE;
    *rec = h;
    *len = WAL_HDR + plen;
    return CHR_OK;
}

/* Replays one file; *valid_end gets the offset after its last valid record,
 * *last_seq that record's seq (first - 1 when none), *torn whether invalid
 * bytes follow it. */
static enum chr_err replay_file(struct local_store *st, int fd, uint64_t first,
                                uint64_t snap_seq, uint64_t *valid_end, uint64_t *last_seq,
                                bool *torn)
{
    struct lreader r;
    enum chr_err e = lreader_init(&r, fd);
    uint64_t prev = first - 1;
    while (e == CHR_OK) {
        const unsigned char *rec = NULL;
        size_t len = 0;
        e = read_record(&r, &rec, &len);
        if (e != CHR_OK)
            break;
        uint64_t seq = get64(rec + 16);
        if (seq != prev + 1 || (seq > snap_seq && seq != st->seq + 1)) {
            e = CHR_EIO; /* a checksummed record out of place: not a torn tail */
            break;
        }
        prev = seq;
        if (seq > snap_seq) {
            e = replay_payload(st, rec + WAL_HDR, len - WAL_HDR, get32(rec + 12));
            st->seq = seq;
        }
        lreader_skip(&r, len);
    }
    if (e == CHR_ENONE) {
        e = CHR_OK;
        *valid_end = r.off;
        *last_seq = prev;
        *torn = !(r.eof && r.start == r.end);
    }
    lreader_free(&r);
    return e;
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

static void wal_name(char out[24], uint64_t first)
{
    snprintf(out, 24, "wal.%016llx", (unsigned long long)first);
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

/* The first seqs of every log file, sorted, into *out (chr_free). */
static enum chr_err list_wals(int dir_fd, uint64_t **out, size_t *n)
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
        if (!parse_wal_name(de->d_name, &first))
            continue;
        if (*n == cap) {
            size_t ncap = cap == 0 ? 8 : cap * 2;
            uint64_t *nv = chr_realloc(*out, ncap * sizeof *nv);
            if (nv == NULL) {
                e = CHR_ENOMEM;
                break;
            }
            *out = nv;
            cap = ncap;
        }
        (*out)[(*n)++] = first;
    }
    closedir(d);
    if (e == CHR_OK && *n > 0)
        qsort(*out, *n, sizeof **out, cmp_u64);
    return e;
}

enum chr_err lwal_create(struct local_store *st, uint64_t first)
{
    char name[24];
    wal_name(name, first);
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
    if (list_wals(st->dir_fd, &firsts, &n) != CHR_OK) {
        chr_free(firsts);
        return;
    }
    /* File i holds seqs firsts[i] .. firsts[i+1]-1: drop it when they are all
     * covered.  The newest file is never dropped. */
    for (size_t i = 0; i + 1 < n; i++) {
        if (firsts[i + 1] <= seq + 1) {
            char name[24];
            wal_name(name, firsts[i]);
            unlinkat(st->dir_fd, name, 0);
        }
    }
    chr_free(firsts);
}

/* Replays file `first`.  The newest file stays open as the current log
 * (cut after its last valid record), unless it does not end at the last seq
 * replayed (an all-stale file): then a fresh one is started. */
static enum chr_err recover_one(struct local_store *st, uint64_t first, bool last,
                                uint64_t snap_seq)
{
    if (first > st->seq + 1)
        return CHR_EIO; /* records first-1 and before are missing */
    char name[24];
    wal_name(name, first);
    int fd = openat(st->dir_fd, name, O_RDWR | O_CLOEXEC);
    if (fd < 0)
        return CHR_EIO;
    uint64_t end = 0, last_seq = 0;
    bool torn = false;
    enum chr_err e = replay_file(st, fd, first, snap_seq, &end, &last_seq, &torn);
    if (e == CHR_OK && torn) {
        /* Damage is a torn tail only at the very end of the log. */
        struct stat sb;
        if (!last || fstat(fd, &sb) != 0 || ftruncate(fd, (off_t)end) != 0 ||
            lio_sync(&st->faults, fd, false) != CHR_OK)
            e = CHR_EIO;
        else
            st->st.torn_bytes += (uint64_t)sb.st_size - end;
    }
    if (e != CHR_OK || !last || last_seq != st->seq) {
        close(fd);
        return e;
    }
    st->wal_fd = fd;
    st->wal_first = first;
    st->wal_size = end;
    return CHR_OK;
}

enum chr_err lwal_recover(struct local_store *st, uint64_t snap_seq)
{
    uint64_t *firsts = NULL;
    size_t n = 0;
    enum chr_err e = list_wals(st->dir_fd, &firsts, &n);
    st->seq = snap_seq;
    for (size_t i = 0; i < n && e == CHR_OK; i++)
        e = recover_one(st, firsts[i], i + 1 == n, snap_seq);
    chr_free(firsts);
    if (e != CHR_OK)
        return e;
    if (st->wal_fd < 0) {
        e = lwal_create(st, st->seq + 1);
        if (e != CHR_OK)
            return e;
    }
    lwal_remove_upto(st, snap_seq);
    return lio_sync(&st->faults, st->dir_fd, false);
}
