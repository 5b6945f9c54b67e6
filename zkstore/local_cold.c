/*
 * local_cold.c - the data of nodes left in the snapshot file they were read
 * from (local_int.h: struct lblob, struct lcold).
 *
 * A server holding a million jobs read ~550 MB of job and state nodes from
 * its snapshot at open and kept a copy of every byte in memory (~600 bytes
 * a job) although, once the scheduler has loaded them, they are read again
 * only by a checkpoint (which copies them into the next snapshot) and by the
 * rare get.  Cold blobs keep path, version, length, offset and a CRC-32C;
 * the bytes stay in the file.  The file was verified whole at open (its
 * checksum, local_snap.c); each read here is verified again against the
 * node's own CRC, so a byte the disk changed since is reported, by node and
 * offset, instead of being served or copied into the next snapshot.
 *
 * Warm, then cool: right after the open the server's load reads every node
 * once, from the open's mapping of the file; lcold_cool (chr_store_loaded)
 * unmaps it, and later reads use pread: random ones exactly, runs in file
 * order (a checkpoint writes nodes in the order the snapshot had them)
 * through a 1 MiB window.  pread, not a mapping kept for life: a disk error
 * is then CHR_EIO, not SIGBUS.
 *
 * No index, no tree: only bytes at offsets.  Thread-safe (one mutex: the
 * reads are the load's, the checkpoint thread's and a get's, rarely at once).
 */
#include "zkstore/local_int.h"

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "common/alloc.h"

#define COLD_WINDOW (1024 * 1024)

struct lcold {
    int fd;
    pthread_mutex_t mu;
    const unsigned char *map; /* warm: the open's mapping, NULL once cool */
    size_t map_len;
    unsigned char *win; /* the window of sequential reads (allocated at first use) */
    uint64_t win_off;
    size_t win_len;
    uint64_t fills; /* windows read (tests: a run reads each byte about once) */
};

enum chr_err lcold_create(int fd, const void *map, size_t len, struct lcold **out)
{
    struct lcold *c = chr_calloc(1, sizeof *c);
    if (c == NULL)
        return CHR_ENOMEM;
    c->fd = fd;
    c->map = map;
    c->map_len = len;
    pthread_mutex_init(&c->mu, NULL);
    *out = c;
    return CHR_OK;
}

static void unmap(struct lcold *c)
{
    if (c->map != NULL)
        munmap((void *)(uintptr_t)c->map, c->map_len);
    c->map = NULL;
}

void lcold_free(struct lcold *c)
{
    if (c == NULL)
        return;
    unmap(c);
    if (c->fd >= 0)
        close(c->fd);
    chr_free(c->win);
    pthread_mutex_destroy(&c->mu);
    chr_free(c);
}

void lcold_cool(struct lcold *c)
{
    if (c == NULL)
        return;
    pthread_mutex_lock(&c->mu);
    unmap(c);
    pthread_mutex_unlock(&c->mu);
}

void lcold_seq_end(struct lcold *c)
{
    if (c == NULL)
        return;
    pthread_mutex_lock(&c->mu);
    chr_free(c->win);
    c->win = NULL;
    c->win_off = 0, c->win_len = 0;
    pthread_mutex_unlock(&c->mu);
}

/* Reads exactly n bytes at off: CHR_OK, CHR_EIO (errno kept), or
 * CHR_EDAMAGED when the file ends first. */
static enum chr_err read_at(int fd, void *dst, size_t n, uint64_t off)
{
    size_t got = 0;
    while (got < n) {
        ssize_t r = pread(fd, (char *)dst + got, n - got, (off_t)(off + got));
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0)
            return CHR_EIO;
        if (r == 0)
            return CHR_EDAMAGED;
        got += (size_t)r;
    }
    return CHR_OK;
}

/* Through the window: [off, off + n) within it, else a new window.  A run
 * may go either way through the file: a directory's children are listed
 * newest first, so a checkpoint of a tree loaded from a snapshot reads
 * that snapshot's nodes backwards, and the next checkpoint's forwards. */
static enum chr_err read_seq(struct lcold *c, void *dst, size_t n, uint64_t off)
{
    if (n > COLD_WINDOW)
        return read_at(c->fd, dst, n, off);
    if (c->win == NULL && (c->win = chr_malloc(COLD_WINDOW)) == NULL)
        return CHR_ENOMEM;
    if (off < c->win_off || off + n > c->win_off + c->win_len) {
        uint64_t start = off;
        if (c->win_len > 0 && off < c->win_off) /* backwards: the window ends here */
            start = off + n > COLD_WINDOW ? off + n - COLD_WINDOW : 0;
        c->win_len = 0;
        ssize_t r;
        do
            r = pread(c->fd, c->win, COLD_WINDOW, (off_t)start);
        while (r < 0 && errno == EINTR);
        if (r < 0)
            return CHR_EIO;
        c->fills++;
        c->win_off = start;
        c->win_len = (size_t)r;
        if (off + n > start + c->win_len)
            return CHR_EDAMAGED;
    }
    memcpy(dst, c->win + (off - c->win_off), n);
    return CHR_OK;
}

uint64_t lcold_window_fills(struct lcold *c)
{
    pthread_mutex_lock(&c->mu);
    uint64_t n = c->fills;
    pthread_mutex_unlock(&c->mu);
    return n;
}

static enum chr_err cold_bytes(struct lcold *c, const struct lblob *b, void *dst, bool seq)
{
    uint64_t off = lblob_cold_off(b);
    if (c->map != NULL) {
        if (off > c->map_len || b->data_len > c->map_len - off)
            return CHR_EDAMAGED;
        memcpy(dst, c->map + off, b->data_len);
        return CHR_OK;
    }
    return seq ? read_seq(c, dst, b->data_len, off) : read_at(c->fd, dst, b->data_len, off);
}

enum chr_err lcold_read(struct lcold *c, const struct lblob *b, void *dst, bool seq,
                        char why[160])
{
    if (!lblob_cold(b)) {
        memcpy(dst, b->bytes + b->path_len + 1, b->data_len);
        return CHR_OK;
    }
    CHR_ASSERT(c != NULL);
    pthread_mutex_lock(&c->mu);
    enum chr_err e = cold_bytes(c, b, dst, seq);
    pthread_mutex_unlock(&c->mu);
    char q[64];
    if (e == CHR_EDAMAGED) {
        snprintf(why, 160, "the snapshot read at open ends before node %s (offset %" PRIu64
                 "): the file was cut since", chr_error_quote(lblob_path(b), b->path_len, 48, q),
                 lblob_cold_off(b));
    } else if (e == CHR_EIO) {
        snprintf(why, 160, "cannot read node %s from the snapshot read at open: %s",
                 chr_error_quote(lblob_path(b), b->path_len, 48, q), strerror(errno));
    } else if (e == CHR_OK && chr_crc32c(0, dst, b->data_len) != b->cold_crc) {
        snprintf(why, 160, "node %s in the snapshot read at open (offset %" PRIu64 ") no "
                 "longer matches its checksum: the file changed on disk since the open",
                 chr_error_quote(lblob_path(b), b->path_len, 48, q), lblob_cold_off(b));
        e = CHR_EDAMAGED;
    }
    return e;
}
