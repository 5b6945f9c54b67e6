/*
 * local_snap.c - the local backend's checkpoint: one snapshot file holding
 * every node, written by the checkpoint thread from blobs the commit thread
 * captured (so commits go on meanwhile), and read back at open.
 *
 *   "CHRSNAP1" | u32 format 1 | u32 0 | u64 seq | u64 nodes |
 *   nodes in pre-order (parents first, "/" first): i32 version, u32 path
 *   bytes, u32 data bytes, path, data | u32 crc32c of everything before it.
 *
 * Written as snap.tmp, fsync'd, renamed over snap, directory fsync'd; only
 * then are the logs it covers removed.  A crash at any point leaves either
 * the old snapshot and all its logs or the new one, so `snap` is never torn:
 * any fault in it (a header that is not ours, a node whose sizes or path are
 * impossible, a tree that does not hold together, a checksum that fails, a
 * length that differs from what the nodes need) is damage, and the open
 * refuses; a snapshot is never skipped and never half-loaded (the framing
 * and the checksum are checked before the first node is added).  snap.tmp is
 * an unfinished checkpoint: ignored, and removed by an open that succeeds.
 * The format is not canonical in one way: siblings may come in any order.
 *
 * Never changes the index after open and never touches the current log.
 */
#include "zkstore/local_int.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "common/alloc.h"
#include "common/sb.h"

#define SNAP_MAGIC "CHRSNAP1"
#define SNAP_HDR 32
#define SNAP_REC 12
#define SNAP_BUF (1024 * 1024)

void ck_job_free(struct ck_job *job)
{
    if (job == NULL)
        return;
    for (size_t i = 0; i < job->n; i++)
        lblob_unref(job->blobs[i]);
    chr_free(job->blobs);
    chr_free(job);
}

/* ---- Writing ---------------------------------------------------------------- */

/* Writes to a file (fd >= 0) or, for lsnap_encode, to memory (fd < 0). */
struct swriter {
    struct lfaults *faults;
    int fd;
    unsigned char *buf;
    size_t len;
    uint64_t off;
    uint32_t crc;
    enum chr_err err;
    char why[160];     /* err from a cold read: what is wrong, and where */
    struct chr_sb mem; /* lsnap_encode's bytes */
};

static void sw_to_mem(struct swriter *w)
{
    chr_sb_put(&w->mem, (const char *)w->buf, w->len);
    if (chr_sb_failed(&w->mem))
        w->err = CHR_ENOMEM;
}

static void sw_flush(struct swriter *w)
{
    if (w->err == CHR_OK && w->len > 0) {
        if (w->fd >= 0)
            w->err = lio_pwrite(w->faults, w->fd, w->buf, w->len, w->off);
        else
            sw_to_mem(w);
    }
    w->off += w->len;
    w->len = 0;
}

static void sw_put(struct swriter *w, const void *p, size_t n)
{
    w->crc = chr_crc32c(w->crc, p, n);
    const unsigned char *b = p;
    while (n > 0 && w->err == CHR_OK) {
        size_t room = SNAP_BUF - w->len;
        size_t k = n < room ? n : room;
        memcpy(w->buf + w->len, b, k);
        w->len += k;
        b += k;
        n -= k;
        if (w->len == SNAP_BUF)
            sw_flush(w);
    }
}

/* A node record whose framing the reader takes (node_problem's sizes,
 * version and path; where "/" comes is the tree's order, the capture's
 * business, which the reader checks as it loads). */
static bool node_writable(const struct lblob *b)
{
    return b->version >= 0 && b->path_len > 0 && b->path_len < CHR_STORE_PATH_MAX &&
           b->data_len <= CHR_STORE_NODE_MAX && chr_store_path_valid(lblob_path(b));
}

/* One node's data into the snapshot: a cold one read back from the file
 * it was loaded from (verified against its CRC) through `scratch`. */
static void sw_data(struct swriter *w, struct lcold *cold, const struct lblob *b,
                    unsigned char *scratch)
{
    if (!lblob_cold(b)) {
        sw_put(w, lblob_data(b), b->data_len);
        return;
    }
    enum chr_err e = lcold_read(cold, b, scratch, true, w->why);
    if (e == CHR_OK)
        sw_put(w, scratch, b->data_len);
    else if (w->err == CHR_OK)
        w->err = e;
}

static void sw_body(struct swriter *w, const struct ck_job *job)
{
    unsigned char h[SNAP_HDR] = {0};
    /* A node count the reader takes: "/" at least, and the store's bound. */
    CHR_ASSERT(job->n > 0 && job->n <= CHR_STORE_NODES_MAX);
    uint64_t start = w->off + w->len, size = SNAP_HDR + 4;
    memcpy(h, SNAP_MAGIC, 8);
    put32(h + 8, 1);
    put64(h + 16, job->seq);
    put64(h + 24, job->n);
    sw_put(w, h, sizeof h);
    unsigned char *scratch = NULL;
    for (size_t i = 0; i < job->n && w->err == CHR_OK; i++) {
        const struct lblob *b = job->blobs[i];
        CHR_ASSERT(node_writable(b));
        if (lblob_cold(b) && scratch == NULL && (scratch = chr_malloc(CHR_STORE_NODE_MAX)) == NULL) {
            w->err = CHR_ENOMEM;
            break;
        }
        size += SNAP_REC + (uint64_t)b->path_len + b->data_len;
        unsigned char r[SNAP_REC];
        put32(r, (uint32_t)b->version);
        put32(r + 4, b->path_len);
        put32(r + 8, b->data_len);
        sw_put(w, r, sizeof r);
        sw_put(w, lblob_path(b), b->path_len);
        sw_data(w, job->cold, b, scratch);
    }
    if (scratch != NULL)
        lcold_seq_end(job->cold);
    chr_free(scratch);
    if (w->err != CHR_OK)
        return;
    unsigned char t[4];
    put32(t, w->crc);
    sw_put(w, t, sizeof t);
    sw_flush(w);
    /* The file's length is what the reader frames from the node records. */
    CHR_ASSERT(w->err != CHR_OK || w->off - start == size);
}

/* Writes the checkpoint; a cold node that cannot be read back fails it and
 * says why in why[] (empty otherwise). */
static enum chr_err snap_write(struct local_store *st, const struct ck_job *job,
                               char why[160])
{
    struct swriter w = {.faults = &st->faults, .err = CHR_OK, .why = ""};
    why[0] = '\0';
    w.buf = chr_malloc(SNAP_BUF);
    if (w.buf == NULL)
        return CHR_ENOMEM;
    unlinkat(st->dir_fd, "snap.tmp", 0);
    w.fd = openat(st->dir_fd, "snap.tmp", O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (w.fd < 0) {
        chr_free(w.buf);
        return CHR_EIO;
    }
    sw_body(&w, job);
    chr_free(w.buf);
    enum chr_err e = w.err;
    memcpy(why, w.why, sizeof w.why);
    if (e == CHR_OK)
        e = lio_sync(&st->faults, w.fd, false);
    if (close(w.fd) != 0 && e == CHR_OK)
        e = CHR_EIO;
    if (e == CHR_OK && renameat(st->dir_fd, "snap.tmp", st->dir_fd, "snap") != 0)
        e = CHR_EIO;
    if (e != CHR_OK) {
        unlinkat(st->dir_fd, "snap.tmp", 0);
        return e;
    }
    /* Until the rename is durable the old logs are still needed. */
    return lio_sync(&st->faults, st->dir_fd, false);
}

enum chr_err lsnap_encode(const struct ck_job *job, unsigned char **out, size_t *len)
{
    struct swriter w = {.fd = -1, .err = CHR_OK, .why = ""};
    *out = NULL;
    *len = 0;
    w.buf = chr_malloc(SNAP_BUF);
    if (w.buf == NULL)
        return CHR_ENOMEM;
    sw_body(&w, job);
    chr_free(w.buf);
    if (w.err != CHR_OK) {
        chr_sb_free(&w.mem);
        return w.err;
    }
    *out = (unsigned char *)chr_sb_finish(&w.mem, len);
    return *out != NULL ? CHR_OK : CHR_ENOMEM;
}

/* ---- The checkpoint thread ----------------------------------------------- */

void *lsnap_main(void *arg)
{
    struct local_store *st = arg;
    pthread_mutex_lock(&st->mu);
    for (;;) {
        while (st->ck_job == NULL && !st->ck_stop)
            pthread_cond_wait(&st->ck_cond, &st->mu);
        struct ck_job *job = st->ck_job;
        if (job == NULL)
            break; /* stopping, and nothing pending */
        st->ck_job = NULL;
        pthread_mutex_unlock(&st->mu);

        char why[160];
        enum chr_err e = snap_write(st, job, why);
        if (e == CHR_OK)
            lwal_remove_upto(st, job->seq);
        /* A node the open read can no longer be read back as it was: the
         * store cannot checkpoint nor serve it; the process ends with the
         * cause (a restart reads `snap` whole and names the damage). */
        if (why[0] != '\0')
            lstore_fail(st, true, "checkpoint: %s", why);
        uint64_t covers = job->covers;
        ck_job_free(job);

        pthread_mutex_lock(&st->mu);
        st->ck_running = false;
        st->ck_done = covers;
        st->ck_result = e == CHR_OK ? CHR_OK : CHR_EIO;
        if (e == CHR_OK)
            st->st.checkpoints++;
        else
            st->st.checkpoint_failures++;
        pthread_cond_broadcast(&st->done_cond);
        pthread_cond_signal(&st->work_cond);
    }
    pthread_mutex_unlock(&st->mu);
    return NULL;
}

/* ---- Loading ----------------------------------------------------------------- */

static enum chr_err damaged(uint64_t *bad_off, uint64_t at, char why[LWHAT_MAX],
                            const char *what)
{
    *bad_off = at;
    snprintf(why, LWHAT_MAX, "%s", what);
    return CHR_EDAMAGED;
}

/* Why the node record at buf[off..end) is impossible, or NULL; its size into
 * *used. */
static const char *node_problem(const unsigned char *buf, size_t end, size_t off, bool first,
                                size_t *used)
{
    if (end - off < SNAP_REC)
        return "a node record cut short by the checksum";
    uint32_t plen = get32(buf + off + 4), dlen = get32(buf + off + 8);
    if (plen == 0 || plen >= CHR_STORE_PATH_MAX || dlen > CHR_STORE_NODE_MAX ||
        (size_t)plen + dlen > end - off - SNAP_REC)
        return "a node record with impossible sizes";
    if ((int32_t)get32(buf + off) < 0)
        return "a node with a negative version";
    char path[CHR_STORE_PATH_MAX];
    memcpy(path, buf + off + SNAP_REC, plen);
    path[plen] = '\0';
    if (memchr(path, '\0', plen) != NULL || !chr_store_path_valid(path))
        return "a node with an invalid path";
    if (first != (plen == 1))
        return first ? "a first node that is not \"/\"" : "a second \"/\"";
    *used = SNAP_REC + plen + dlen;
    return NULL;
}

/* Checks the header, every node's framing and the checksum; *count nodes. */
static enum chr_err check_frame(const unsigned char *buf, size_t len, uint64_t *count,
                                uint64_t *bad_off, char why[LWHAT_MAX])
{
    if (len < SNAP_HDR + 4)
        return damaged(bad_off, 0, why, "shorter than a snapshot's header and checksum");
    if (memcmp(buf, SNAP_MAGIC, 8) != 0 || get32(buf + 8) != 1 || get32(buf + 12) != 0)
        return damaged(bad_off, 0, why, "a header that is not a chronos snapshot's (format 1)");
    *count = get64(buf + 24);
    if (*count == 0 || *count > CHR_STORE_NODES_MAX)
        return damaged(bad_off, 24, why, "a header with an impossible node count");
    size_t end = len - 4, off = SNAP_HDR;
    for (uint64_t i = 0; i < *count; i++) {
        size_t used = 0;
        const char *p = node_problem(buf, end, off, i == 0, &used);
        if (p != NULL)
            return damaged(bad_off, off, why, p);
        off += used;
    }
    if (off != end)
        return damaged(bad_off, off, why, "bytes after the last node, before the checksum");
    if (chr_crc32c(0, buf, end) != get32(buf + end))
        return damaged(bad_off, end, why, "a checksum that does not match the bytes before it "
                                          "(some byte of the snapshot is damaged)");
    return CHR_OK;
}

/* Adds the checked node at rec (at offset off of the file); cold: its data
 * stays in the file (lblob_new_cold), else it is copied.  CHR_EDAMAGED when
 * it does not fit the tree. */
static enum chr_err load_node(struct lindex *ix, const unsigned char *rec, size_t off, bool cold)
{
    uint32_t plen = get32(rec + 4), dlen = get32(rec + 8);
    CHR_ASSERT(plen > 0 && plen < CHR_STORE_PATH_MAX && dlen <= CHR_STORE_NODE_MAX);
    bool root = plen == 1;
    const char *path = (const char *)rec + SNAP_REC;
    const unsigned char *data = rec + SNAP_REC + plen;
    /* An empty node (a directory) has nothing to leave in the file. */
    struct lblob *b = cold && dlen > 0
                          ? lblob_new_cold(path, plen, off + SNAP_REC + plen, dlen,
                                           chr_crc32c(0, data, dlen), (int32_t)get32(rec))
                          : lblob_new(path, plen, data, dlen, (int32_t)get32(rec));
    struct lnode *spare = root ? NULL : chr_malloc(sizeof *spare);
    if (b == NULL || (!root && spare == NULL)) {
        lblob_unref(b);
        chr_free(spare);
        return CHR_ENOMEM;
    }
    enum chr_err e = lindex_apply(ix, root ? CHR_STORE_SET : CHR_STORE_CREATE, b, &spare);
    if (e != CHR_OK)
        lblob_unref(b);
    chr_free(spare);
    return e == CHR_EIO ? CHR_EDAMAGED : e;
}

enum chr_err lsnap_load_buf(struct lindex *ix, const unsigned char *buf, size_t len, bool cold,
                            uint64_t *seq, uint64_t *nodes, uint64_t *bad_off,
                            char why[LWHAT_MAX])
{
    uint64_t count = 0;
    enum chr_err e = check_frame(buf, len, &count, bad_off, why);
    if (e != CHR_OK)
        return e;
    lindex_reserve(ix, (size_t)count); /* count is bounded: CHR_STORE_NODES_MAX */
    size_t off = SNAP_HDR;
    for (uint64_t i = 0; i < count; i++) {
        /* check_frame read every record: each lies before the checksum. */
        CHR_ASSERT(off + SNAP_REC + (size_t)get32(buf + off + 4) + get32(buf + off + 8) <=
                   len - 4);
        e = load_node(ix, buf + off, off, cold);
        if (e == CHR_EDAMAGED) {
            char q[64];
            *bad_off = off;
            snprintf(why, LWHAT_MAX, "a node (%s) whose parent comes nowhere before it, or "
                     "that comes twice", chr_error_quote(buf + off + SNAP_REC,
                                                         get32(buf + off + 4), 48, q));
        }
        if (e != CHR_OK)
            return e;
        off += SNAP_REC + (size_t)get32(buf + off + 4) + get32(buf + off + 8);
    }
    CHR_ASSERT(off == len - 4);
    *seq = get64(buf + 16);
    *nodes = count;
    return CHR_OK;
}
