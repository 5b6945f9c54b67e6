/*
 * local_io.c - the local backend's durable-write primitives (full writes,
 * fdatasync/fsync), and the seam where test builds make them fail.
 *
 * Never retries a failed fsync: after one, the kernel may have dropped the
 * dirty pages, so a second "success" proves nothing (the fsyncgate lesson);
 * the caller fails the store instead.
 */
#include "zkstore/local_int.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <unistd.h>

#ifdef CHR_TESTING
/* True when this call of `kind` must fail. */
static bool fault_hit(struct lfaults *f, int kind)
{
    long call = atomic_fetch_add(&f->calls[kind], 1) + 1;
    long nth = atomic_load(&f->nth[kind]);
    long count = atomic_load(&f->count[kind]);
    if (nth <= 0 || call < nth)
        return false;
    return count < 0 || call < nth + count;
}
#else
static bool fault_hit(struct lfaults *f, int kind)
{
    (void)f;
    (void)kind;
    return false;
}
#endif

enum chr_err lio_pwrite(struct lfaults *f, int fd, const void *buf, size_t n, uint64_t off)
{
    const unsigned char *p = buf;
    if (fault_hit(f, 0)) {
        /* A torn write: half of it reaches the file, as a crash or a full
         * disk might leave it. */
        ssize_t w = pwrite(fd, p, n / 2, (off_t)off);
        (void)w;
        errno = EIO;
        return CHR_EIO;
    }
    while (n > 0) {
        ssize_t w = pwrite(fd, p, n, (off_t)off);
        if (w < 0 && errno == EINTR)
            continue;
        if (w == 0)
            errno = EIO; /* no progress and no error: say so */
        if (w <= 0)
            return CHR_EIO;
        p += w;
        n -= (size_t)w;
        off += (uint64_t)w;
    }
    return CHR_OK;
}

enum chr_err lio_sync(struct lfaults *f, int fd, bool data_only)
{
    if (fault_hit(f, 1)) {
        errno = EIO;
        return CHR_EIO;
    }
    if (fault_hit(f, 2))
        usleep(200 * 1000); /* a slow disk: the sync works, late */
    int rc = data_only ? fdatasync(fd) : fsync(fd);
    return rc == 0 ? CHR_OK : CHR_EIO;
}

/* The store's failure, with its cause (here, not in local_commit.c, so
 * that the snapshot writer, which fails the store when a cold node no
 * longer reads back, links without the commit thread: fuzz_snap). */
void lstore_fail(struct local_store *st, bool fatal, const char *fmt, ...)
{
    pthread_mutex_lock(&st->mu);
    st->failed = CHR_EIO;
    st->fail_fatal = st->fail_fatal || fatal;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(st->fail_cause, sizeof st->fail_cause, fmt, ap);
    va_end(ap);
    pthread_cond_broadcast(&st->done_cond);
    pthread_mutex_unlock(&st->mu);
}
