/*
 * local_snap.c - the local backend's checkpoint: one snapshot file holding
 * every node, written by the checkpoint thread from blobs the commit thread
 * captured (so commits go on meanwhile), and read back at open.
 *
 *   "CHRSNAP1" | u32 format 1 | u32 0 | u64 seq | u64 nodes |
 *   nodes in pre-order (parents first): i32 version, u32 path bytes,
 *   u32 data bytes, path, data | u32 crc32c of everything before it.
 *
 * Written as snap.tmp, fsync'd, renamed over snap, directory fsync'd; only
 * then are the logs it covers removed.  A crash at any point leaves either
 * the old snapshot and all its logs or the new one.  Never changes the index
 * after open and never touches the current log.
 */
#include "zkstore/local_int.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "common/alloc.h"

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

struct swriter {
    struct lfaults *faults;
    int fd;
    unsigned char *buf;
    size_t len;
    uint64_t off;
    uint32_t crc;
    enum chr_err err;
};

static void sw_flush(struct swriter *w)
{
    if (w->err == CHR_OK && w->len > 0)
        w->err = lio_pwrite(w->faults, w->fd, w->buf, w->len, w->off);
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

static void sw_body(struct swriter *w, const struct ck_job *job)
{
    unsigned char h[SNAP_HDR] = {0};
    memcpy(h, SNAP_MAGIC, 8);
    put32(h + 8, 1);
    put64(h + 16, job->seq);
    put64(h + 24, job->n);
    sw_put(w, h, sizeof h);
    for (size_t i = 0; i < job->n && w->err == CHR_OK; i++) {
        const struct lblob *b = job->blobs[i];
        unsigned char r[SNAP_REC];
        put32(r, (uint32_t)b->version);
        put32(r + 4, b->path_len);
        put32(r + 8, b->data_len);
        sw_put(w, r, sizeof r);
        sw_put(w, lblob_path(b), b->path_len);
        sw_put(w, lblob_data(b), b->data_len);
    }
    unsigned char t[4];
    put32(t, w->crc);
    sw_put(w, t, sizeof t);
    sw_flush(w);
}

static enum chr_err snap_write(struct local_store *st, const struct ck_job *job)
{
    struct swriter w = {.faults = &st->faults, .err = CHR_OK};
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

        enum chr_err e = snap_write(st, job);
        if (e == CHR_OK)
            lwal_remove_upto(st, job->seq);
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

/* Adds one node read from the snapshot. */
static enum chr_err load_node(struct local_store *st, const unsigned char *rec, uint32_t plen,
                              uint32_t dlen)
{
    int32_t version = (int32_t)get32(rec);
    const char *path = (const char *)rec + SNAP_REC;
    struct lblob *b = lblob_new(path, plen, rec + SNAP_REC + plen, dlen, version);
    if (b == NULL)
        return CHR_ENOMEM;
    if (version < 0 || !chr_store_path_valid(lblob_path(b)) || strlen(lblob_path(b)) != plen) {
        lblob_unref(b);
        return CHR_EIO;
    }
    bool root = plen == 1;
    struct lnode *spare = root ? NULL : chr_malloc(sizeof *spare);
    if (!root && spare == NULL) {
        lblob_unref(b);
        return CHR_ENOMEM;
    }
    enum chr_err e = lindex_apply(&st->ix, root ? CHR_STORE_SET : CHR_STORE_CREATE, b, &spare);
    if (e != CHR_OK)
        lblob_unref(b);
    chr_free(spare);
    return e;
}

static enum chr_err load_body(struct local_store *st, struct lreader *r, uint64_t *seq)
{
    enum chr_err e;
    const unsigned char *h = lreader_peek(r, SNAP_HDR, &e);
    if (h == NULL || memcmp(h, SNAP_MAGIC, 8) != 0 || get32(h + 8) != 1 ||
        get64(h + 24) > CHR_STORE_NODES_MAX)
        return e != CHR_OK ? e : CHR_EIO;
    uint64_t count = get64(h + 24);
    *seq = get64(h + 16);
    uint32_t crc = chr_crc32c(0, h, SNAP_HDR);
    lreader_skip(r, SNAP_HDR);
    for (uint64_t i = 0; i < count; i++) {
        const unsigned char *rec = lreader_peek(r, SNAP_REC, &e);
        if (rec == NULL)
            return e != CHR_OK ? e : CHR_EIO;
        uint32_t plen = get32(rec + 4), dlen = get32(rec + 8);
        if (plen == 0 || plen >= CHR_STORE_PATH_MAX || dlen > CHR_STORE_NODE_MAX)
            return CHR_EIO;
        size_t n = SNAP_REC + (size_t)plen + dlen;
        rec = lreader_peek(r, n, &e);
        if (rec == NULL)
            return e != CHR_OK ? e : CHR_EIO;
        crc = chr_crc32c(crc, rec, n);
        e = load_node(st, rec, plen, dlen);
        if (e != CHR_OK)
            return e;
        lreader_skip(r, n);
    }
    const unsigned char *t = lreader_peek(r, 4, &e);
    if (t == NULL || get32(t) != crc)
        return e != CHR_OK ? e : CHR_EIO;
    lreader_skip(r, 4);
    /* Nothing may follow the checksum. */
    return lreader_peek(r, 1, &e) == NULL && e == CHR_OK ? CHR_OK : CHR_EIO;
}

enum chr_err lsnap_load(struct local_store *st, uint64_t *seq)
{
    *seq = 0;
    int fd = openat(st->dir_fd, "snap", O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return errno == ENOENT ? CHR_OK : CHR_EIO;
    struct lreader r;
    enum chr_err e = lreader_init(&r, fd);
    if (e == CHR_OK)
        e = load_body(st, &r, seq);
    lreader_free(&r);
    close(fd);
    return e;
}
