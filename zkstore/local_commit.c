/*
 * local_commit.c - the local backend's commit thread: group commit.
 *
 * Each round takes every queued batch (up to CHR_STORE_GROUP_OPS_MAX ops and
 * CHR_STORE_GROUP_BYTES_MAX bytes), decides each one in order against the
 * durable tree plus the effects of the batches before it in the group (an
 * overlay: nothing undurable is ever visible to readers), appends the
 * successful ones to the log with one write and one fdatasync, applies them
 * to the index, then runs the callbacks in submission order.  It also starts
 * checkpoints (capture + a new log file) for the checkpoint thread.
 *
 * Must never: show readers a batch before its fdatasync returned, call a
 * callback while holding a lock, or retry a failed write or fsync.
 */
#include "zkstore/local_int.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "common/alloc.h"

/* ---- The overlay: the tree as the group has changed it so far ---------- */

/* Not common/strmap: its keys are (path, length) borrowed from the ops,
 * with no NUL and no copy; it is sized once for the group, so deciding a
 * batch never allocates; and the undo log points into its entries, which
 * must not move.  Paths hash with chr_str_hash, as the index does. */

struct ov_ent {
    const char *path;
    uint64_t hash;
    uint32_t len;
    uint32_t n_children;
    int32_t version;
    bool used, exists;
};

struct ov_undo {
    struct ov_ent *e;
    struct ov_ent old;
};

struct overlay {
    const struct lindex *ix;
    struct ov_ent *ents;
    size_t mask;
    struct ov_undo *undo;
    size_t n_undo, cap_undo;
    int64_t node_delta; /* nodes created minus deleted so far */
};

static enum chr_err ov_init(struct overlay *ov, const struct lindex *ix, size_t ops,
                            size_t max_batch_ops)
{
    size_t n = 16;
    while (n < ops * 4)
        n *= 2; /* an op touches its node and its parent: load <= 1/2 */
    memset(ov, 0, sizeof *ov);
    ov->ix = ix;
    ov->ents = chr_calloc(n, sizeof *ov->ents);
    ov->cap_undo = max_batch_ops * 2;
    ov->undo = chr_malloc(ov->cap_undo * sizeof *ov->undo);
    if (ov->ents == NULL || ov->undo == NULL) {
        chr_free(ov->ents);
        chr_free(ov->undo);
        return CHR_ENOMEM;
    }
    ov->mask = n - 1;
    return CHR_OK;
}

static void ov_free(struct overlay *ov)
{
    chr_free(ov->ents);
    chr_free(ov->undo);
}

/* The entry of a path, made from the durable index on first sight. */
static struct ov_ent *ov_get(struct overlay *ov, const char *path, size_t len, uint64_t hash)
{
    size_t i = hash & ov->mask;
    for (; ov->ents[i].used; i = (i + 1) & ov->mask) {
        struct ov_ent *e = &ov->ents[i];
        if (e->hash == hash && e->len == len && memcmp(e->path, path, len) == 0)
            return e;
    }
    struct ov_ent *e = &ov->ents[i];
    const struct lnode *n = lindex_find(ov->ix, path, len, hash);
    *e = (struct ov_ent){.path = path, .hash = hash, .len = (uint32_t)len, .used = true,
                         .exists = n != NULL, .version = n != NULL ? n->blob->version : -1,
                         .n_children = n != NULL ? n->n_children : 0};
    return e;
}

static void ov_save(struct overlay *ov, struct ov_ent *e)
{
    CHR_ASSERT(ov->n_undo < ov->cap_undo);
    ov->undo[ov->n_undo].e = e;
    ov->undo[ov->n_undo].old = *e;
    ov->n_undo++;
}

static struct ov_ent *ov_parent(struct overlay *ov, const char *path, size_t len)
{
    size_t plen = chr_store_parent_len(path, len);
    return ov_get(ov, path, plen, chr_str_hash(path, plen));
}

static int32_t next_version(int32_t v)
{
    return v == INT32_MAX ? 0 : v + 1;
}

/* Decides one op against the overlay and records its effect there. */
static enum chr_err eval_op(struct overlay *ov, struct lop *op, int32_t *version)
{
    const char *path = lblob_path(op->blob);
    size_t len = op->blob->path_len;
    struct ov_ent *e = ov_get(ov, path, len, op->hash);
    if (op->type == CHR_STORE_CREATE) {
        if (e->exists)
            return CHR_ECONFLICT;
        struct ov_ent *p = ov_parent(ov, path, len);
        if (!p->exists)
            return CHR_ENOENT;
        if ((int64_t)ov->ix->n_nodes + ov->node_delta >= CHR_STORE_NODES_MAX)
            return CHR_ERANGE;
        ov_save(ov, e);
        ov_save(ov, p);
        e->exists = true;
        e->version = 0;
        e->n_children = 0;
        p->n_children++;
        ov->node_delta++;
        *version = op->blob->version = 0;
        return CHR_OK;
    }
    if (!e->exists)
        return CHR_ENOENT;
    if (op->expect != -1 && op->expect != e->version)
        return CHR_ECONFLICT;
    if (op->type == CHR_STORE_CHECK) {
        *version = e->version;
    } else if (op->type == CHR_STORE_SET) {
        ov_save(ov, e);
        e->version = next_version(e->version);
        *version = op->blob->version = e->version;
    } else {
        if (e->n_children > 0)
            return CHR_ECONFLICT; /* ZooKeeper's ZNOTEMPTY */
        struct ov_ent *p = ov_parent(ov, path, len);
        ov_save(ov, e);
        ov_save(ov, p);
        e->exists = false;
        e->version = -1;
        p->n_children--;
        ov->node_delta--;
        *version = -1;
    }
    return CHR_OK;
}

/* Decides a whole batch: all ops, or none (undone from the undo log). */
static void eval_batch(struct overlay *ov, struct lbatch *b)
{
    int64_t node_delta = ov->node_delta;
    enum chr_err e = CHR_OK;
    size_t i;
    ov->n_undo = 0;
    for (i = 0; i < b->n_ops; i++) {
        e = eval_op(ov, &b->ops[i], &b->results[i].version);
        b->results[i].err = e;
        if (e != CHR_OK)
            break;
    }
    b->result = e;
    if (e == CHR_OK)
        return;
    while (ov->n_undo > 0) {
        ov->n_undo--;
        *ov->undo[ov->n_undo].e = ov->undo[ov->n_undo].old;
    }
    ov->node_delta = node_delta;
    for (size_t j = 0; j < b->n_ops; j++) {
        b->results[j].version = -1;
        b->results[j].err = j < i ? CHR_OK : j == i ? e : CHR_ENONE;
    }
}

/* ---- One group -------------------------------------------------------------- */

static void fail_all(struct lbatch *group, enum chr_err e)
{
    for (struct lbatch *b = group; b != NULL; b = b->next) {
        b->result = e;
        for (size_t i = 0; i < b->n_ops; i++)
            b->results[i] = (struct chr_store_result){.err = e, .version = -1};
    }
}

static bool durable_write(const struct lbatch *b)
{
    return b->result == CHR_OK && b->writes;
}

/* Encodes the group's successful writes into st->wbuf, numbering them from
 * st->seq + 1; their size into *bytes. */
static enum chr_err encode_group(struct local_store *st, struct lbatch *group, size_t *bytes)
{
    size_t total = 0;
    for (struct lbatch *b = group; b != NULL; b = b->next)
        if (durable_write(b))
            total += lwal_record_size(b);
    *bytes = total;
    if (total > st->wbuf_cap) {
        unsigned char *nb = chr_realloc(st->wbuf, total);
        if (nb == NULL)
            return CHR_ENOMEM;
        st->wbuf = nb;
        st->wbuf_cap = total;
    }
    size_t o = 0;
    uint64_t seq = st->seq;
    for (struct lbatch *b = group; b != NULL; b = b->next) {
        if (!durable_write(b))
            continue;
        b->seq = ++seq;
        o += lwal_encode(st->wbuf + o, b);
    }
    CHR_ASSERT(o == total);
    return CHR_OK;
}


/* Appends and syncs; on failure cuts the file back to its durable end.  A
 * failed write (a full disk) loses nothing acknowledged: the store can be
 * resumed once the cut is done.  A failed fdatasync is fatal: after it
 * nothing about the file is certain (the fsyncgate lesson). */
static enum chr_err write_group(struct local_store *st, size_t bytes)
{
    bool syncing = false;
    enum chr_err e = lio_pwrite(&st->faults, st->wal_fd, st->wbuf, bytes, st->wal_size);
    if (e == CHR_OK) {
        syncing = true;
        e = lio_sync(&st->faults, st->wal_fd, true);
    }
    if (e == CHR_OK) {
        st->wal_size += bytes;
        return CHR_OK;
    }
    int err_no = errno != 0 ? errno : EIO;
    if (ftruncate(st->wal_fd, (off_t)st->wal_size) == 0)
        (void)fdatasync(st->wal_fd); /* resume checks the cut again */
    char wal[24];
    lwal_name(wal, st->wal_first);
    if (syncing)
        lstore_fail(st, true,
                    "fdatasync of %s/%s failed at offset %llu: %s; what was acknowledged may not "
                    "be on disk: restart to re-read the store",
                    st->name, wal, (unsigned long long)st->wal_size, strerror(err_no));
    else
        lstore_fail(st, false, "cannot write %s/%s at offset %llu: %s", st->name, wal,
                    (unsigned long long)st->wal_size, strerror(err_no));
    return CHR_EIO;
}

/* ---- Resuming after a failed write -------------------------------------------- */

#define PROBE_BYTES (1024 * 1024)

/* Writes and syncs PROBE_BYTES in a file beside the log, then removes it:
 * whether a group of writes could succeed now.  errno on failure. */
static bool probe(struct local_store *st)
{
    static const char zeros[64 * 1024];
    int fd = openat(st->dir_fd, "probe.tmp", O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    bool ok = fd >= 0;
    for (size_t off = 0; ok && off < PROBE_BYTES; off += sizeof zeros)
        ok = lio_pwrite(&st->faults, fd, zeros, sizeof zeros, off) == CHR_OK;
    ok = ok && lio_sync(&st->faults, fd, true) == CHR_OK;
    int err_no = errno;
    if (fd >= 0)
        close(fd);
    unlinkat(st->dir_fd, "probe.tmp", 0);
    errno = err_no;
    return ok;
}

/* On the commit thread, so nothing writes meanwhile. */
static enum chr_err resume(struct local_store *st)
{
    pthread_mutex_lock(&st->mu);
    enum chr_err e = st->failed == CHR_OK ? CHR_OK : st->fail_fatal ? CHR_EIO : CHR_ENONE;
    pthread_mutex_unlock(&st->mu);
    if (e != CHR_ENONE)
        return e;
    char wal[24];
    lwal_name(wal, st->wal_first);
    if (ftruncate(st->wal_fd, (off_t)st->wal_size) != 0 ||
        lio_sync(&st->faults, st->wal_fd, true) != CHR_OK) {
        lstore_fail(st, false, "cannot cut %s/%s back to %llu bytes: %s", st->name, wal,
                    (unsigned long long)st->wal_size, strerror(errno));
        return CHR_EIO;
    }
    if (!probe(st)) {
        lstore_fail(st, false, "still cannot write %s/probe.tmp: %s", st->name,
                    strerror(errno != 0 ? errno : EIO));
        return CHR_EIO;
    }
    pthread_mutex_lock(&st->mu);
    st->failed = CHR_OK;
    st->fail_cause[0] = '\0';
    pthread_mutex_unlock(&st->mu);
    return CHR_OK;
}

static void apply_group(struct local_store *st, struct lbatch *group)
{
    pthread_rwlock_wrlock(&st->ix_lock);
    for (struct lbatch *b = group; b != NULL; b = b->next) {
        if (!durable_write(b))
            continue;
        for (size_t i = 0; i < b->n_ops; i++) {
            struct lop *op = &b->ops[i];
            if (op->type == CHR_STORE_CHECK)
                continue;
            enum chr_err e = lindex_apply(&st->ix, op->type, op->blob, &op->spare);
            CHR_ASSERT(e == CHR_OK); /* the overlay decided it fits */
            if (op->type != CHR_STORE_DELETE)
                op->blob = NULL; /* now the index's */
        }
        st->seq = b->seq;
    }
    st->pub_seq = st->seq;
    st->pub_log_bytes = st->wal_size;
    pthread_rwlock_unlock(&st->ix_lock);
}

/* Decides, logs and applies a group; the callbacks are the caller's. */
static bool commit_group(struct local_store *st, struct lbatch *group, size_t ops)
{
    pthread_mutex_lock(&st->mu);
    bool failed = st->failed != CHR_OK;
    pthread_mutex_unlock(&st->mu);
    if (failed) {
        fail_all(group, CHR_EIO);
        return false;
    }
    struct overlay ov;
    if (ov_init(&ov, &st->ix, ops, CHR_STORE_BATCH_OPS_MAX) != CHR_OK) {
        fail_all(group, CHR_ENOMEM);
        return false;
    }
    for (struct lbatch *b = group; b != NULL; b = b->next)
        eval_batch(&ov, b);
    ov_free(&ov);
    size_t bytes = 0;
    if (encode_group(st, group, &bytes) != CHR_OK) {
        fail_all(group, CHR_ENOMEM);
        return false;
    }
    if (bytes == 0)
        return false; /* only checks and failures: nothing to make durable */
    if (write_group(st, bytes) != CHR_OK) {
        fail_all(group, CHR_EIO);
        return false;
    }
    apply_group(st, group);
    return true;
}

static void fire(struct lbatch *group)
{
    while (group != NULL) {
        struct lbatch *next = group->next;
        if (group->done != NULL)
            group->done(group->ctx, group->result, group->results, group->n_ops);
        lbatch_free(group);
        group = next;
    }
}

/* ---- Checkpoints ------------------------------------------------------------ */

static uint64_t ck_threshold(const struct local_store *st)
{
    uint64_t t = st->checkpoint_bytes;
    return st->ix.data_bytes > t ? st->ix.data_bytes : t;
}

/* Under mu.  ck_min_size backs off after a failed start. */
static bool ck_wanted(const struct local_store *st, uint64_t ck_min_size)
{
    if (st->ck_running || st->failed != CHR_OK)
        return false;
    uint64_t at = ck_threshold(st);
    return st->ck_req > st->ck_started || st->wal_size >= (ck_min_size > at ? ck_min_size : at);
}

/* Captures the tree, starts a new log file at seq + 1 and hands the capture
 * to the checkpoint thread.  Called without mu. */
static void ck_start(struct local_store *st, uint64_t *ck_min_size)
{
    pthread_mutex_lock(&st->mu);
    uint64_t covers = st->ck_req;
    st->ck_started = covers;
    st->ck_running = true;
    pthread_mutex_unlock(&st->mu);

    struct ck_job *job = chr_calloc(1, sizeof *job);
    enum chr_err e = job == NULL ? CHR_ENOMEM : lindex_capture(&st->ix, &job->blobs, &job->n);
    if (e == CHR_OK) {
        job->seq = st->seq;
        job->covers = covers;
        job->cold = st->ix.cold;
        if (st->wal_first != st->seq + 1) /* else the current file is already empty */
            e = lwal_create(st, st->seq + 1);
    }
    pthread_mutex_lock(&st->mu);
    if (e == CHR_OK) {
        st->ck_job = job;
        *ck_min_size = 0;
        pthread_cond_signal(&st->ck_cond);
    } else {
        st->ck_running = false;
        st->ck_done = covers;
        st->ck_result = CHR_EIO;
        st->st.checkpoint_failures++;
        *ck_min_size = st->wal_size + ck_threshold(st);
        pthread_cond_broadcast(&st->done_cond);
        ck_job_free(job);
    }
    pthread_mutex_unlock(&st->mu);
}

/* ---- The thread ------------------------------------------------------------- */

/* Under mu: unlinks a group from the queue head. */
static struct lbatch *take_group(struct local_store *st, size_t *count, size_t *ops)
{
    struct lbatch *head = st->q_head, *last = NULL, *b = head;
    size_t n = 0, n_ops = 0, bytes = 0;
    while (b != NULL && (n == 0 || (n_ops + b->n_ops <= CHR_STORE_GROUP_OPS_MAX &&
                                    bytes + b->bytes <= CHR_STORE_GROUP_BYTES_MAX))) {
        n_ops += b->n_ops;
        bytes += b->bytes;
        st->q_len--;
        st->q_bytes -= b->bytes;
        last = b;
        b = b->next;
        n++;
    }
    last->next = NULL;
    st->q_head = b;
    if (b == NULL)
        st->q_tail = NULL;
    *count = n;
    *ops = n_ops;
    return head;
}

void *lcommit_main(void *arg)
{
    struct local_store *st = arg;
    uint64_t ck_min_size = 0;
    pthread_mutex_lock(&st->mu);
    for (;;) {
        while (st->q_head == NULL && !st->closing && !ck_wanted(st, ck_min_size) &&
               st->resume_req == st->resume_done)
            pthread_cond_wait(&st->work_cond, &st->mu);
        if (st->resume_req != st->resume_done) {
            uint64_t ticket = st->resume_req;
            pthread_mutex_unlock(&st->mu);
            enum chr_err r = resume(st);
            pthread_mutex_lock(&st->mu);
            st->resume_result = r;
            st->resume_done = ticket;
            pthread_cond_broadcast(&st->done_cond);
            continue;
        }
        /* Checked before each group, so a steady load cannot starve it. */
        if (ck_wanted(st, ck_min_size)) {
            pthread_mutex_unlock(&st->mu);
            ck_start(st, &ck_min_size);
            pthread_rwlock_wrlock(&st->ix_lock);
            st->pub_log_bytes = st->wal_size;
            pthread_rwlock_unlock(&st->ix_lock);
            pthread_mutex_lock(&st->mu);
            continue;
        }
        if (st->q_head == NULL)
            break; /* closing, and nothing left */
        size_t n = 0, ops = 0;
        struct lbatch *group = take_group(st, &n, &ops);
        pthread_mutex_unlock(&st->mu);
        bool synced = commit_group(st, group, ops);
        fire(group);
        pthread_mutex_lock(&st->mu);
        st->completed += n;
        st->st.batches += n;
        st->st.syncs += synced;
        pthread_cond_broadcast(&st->done_cond);
    }
    pthread_mutex_unlock(&st->mu);
    return NULL;
}
