/*
 * local.c - the local-directory backend of the store: open (lock, load the
 * snapshot, replay the log, start the commit and checkpoint threads), close,
 * the submit queue and the reads.  The layout and the threads are described
 * in local_int.h; group commit is local_commit.c.
 *
 * Must never block a submitter (a full queue answers CHR_EUNAVAIL), hold a
 * lock across a callback, or let two processes open one directory.
 */
#include "zkstore/local_int.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/alloc.h"
#include "common/clock.h"

static struct local_store *ls(struct chr_store *s)
{
    return (struct local_store *)s;
}

/* ---- Batches ------------------------------------------------------------------ */

void lbatch_free(struct lbatch *b)
{
    if (b == NULL)
        return;
    for (size_t i = 0; i < b->n_ops; i++) {
        lblob_unref(b->ops[i].blob);
        chr_free(b->ops[i].spare);
    }
    chr_free(b);
}

/* Copies the caller's ops into one batch: a blob per op (path and, for
 * CREATE and SET, the data: the node's future state) and, for CREATE, the
 * node it will become, so that nothing can fail after the fsync. */
static enum chr_err batch_new(const struct chr_store_op *ops, size_t n, size_t bytes,
                              struct lbatch **out)
{
    size_t size = sizeof(struct lbatch) + n * (sizeof(struct lop) + sizeof(struct chr_store_result));
    struct lbatch *b = chr_calloc(1, size);
    if (b == NULL)
        return CHR_ENOMEM;
    b->results = (struct chr_store_result *)(void *)&b->ops[n];
    b->bytes = bytes;
    for (size_t i = 0; i < n; i++) {
        const struct chr_store_op *op = &ops[i];
        bool data = op->type == CHR_STORE_CREATE || op->type == CHR_STORE_SET;
        size_t plen = strlen(op->path);
        struct lop *l = &b->ops[i];
        l->type = op->type;
        l->expect = op->version;
        l->hash = chr_str_hash(op->path, plen);
        l->blob = lblob_new(op->path, plen, data ? op->data : NULL, data ? op->len : 0, -1);
        l->spare = op->type == CHR_STORE_CREATE ? chr_malloc(sizeof *l->spare) : NULL;
        b->n_ops = i + 1;
        if (l->blob == NULL || (op->type == CHR_STORE_CREATE && l->spare == NULL)) {
            lbatch_free(b);
            return CHR_ENOMEM;
        }
        b->writes |= op->type != CHR_STORE_CHECK;
    }
    *out = b;
    return CHR_OK;
}

static enum chr_err local_submit(struct chr_store *s, const struct chr_store_op *ops, size_t n,
                                 size_t bytes, chr_store_done_fn *done, void *ctx)
{
    struct local_store *st = ls(s);
    struct lbatch *b = NULL;
    enum chr_err e = batch_new(ops, n, bytes, &b);
    if (e != CHR_OK)
        return e;
    b->done = done;
    b->ctx = ctx;
    pthread_mutex_lock(&st->mu);
    if (st->failed != CHR_OK)
        e = CHR_EIO;
    else if (st->closing || st->q_len >= st->queue_max ||
             st->q_bytes + bytes > CHR_STORE_QUEUE_BYTES_MAX)
        e = CHR_EUNAVAIL;
    if (e == CHR_OK) {
        if (st->q_tail != NULL)
            st->q_tail->next = b;
        else
            st->q_head = b;
        st->q_tail = b;
        st->q_len++;
        st->q_bytes += bytes;
        st->submitted++;
        pthread_cond_signal(&st->work_cond);
    }
    pthread_mutex_unlock(&st->mu);
    if (e != CHR_OK)
        lbatch_free(b);
    return e;
}

/* ---- Reads ------------------------------------------------------------------------ */

/* A node's data (plus a NUL) into a new buffer: inline, or read back from
 * the snapshot file for a cold node; a cold node that no longer reads as it
 * did at open fails the store with the cause (local_cold.c). */
static enum chr_err node_copy(struct local_store *st, const struct lblob *b, void **data)
{
    char *copy = chr_malloc((size_t)b->data_len + 1);
    if (copy == NULL)
        return CHR_ENOMEM;
    char why[160];
    enum chr_err e = lcold_read(st->ix.cold, b, copy, false, why);
    if (e != CHR_OK) {
        chr_free(copy);
        if (e == CHR_ENOMEM)
            return e;
        lstore_fail(st, true, "read: %s", why);
        return CHR_EIO;
    }
    copy[b->data_len] = '\0';
    *data = copy;
    return CHR_OK;
}

static enum chr_err local_get(struct chr_store *s, const char *path, void **data, size_t *len,
                              int32_t *version)
{
    struct local_store *st = ls(s);
    size_t plen = strlen(path);
    enum chr_err e = CHR_OK;
    pthread_rwlock_rdlock(&st->ix_lock);
    const struct lnode *n = lindex_find(&st->ix, path, plen, chr_str_hash(path, plen));
    if (n == NULL) {
        e = CHR_ENOENT;
    } else {
        if (version != NULL)
            *version = n->blob->version;
        if (data != NULL && (e = node_copy(st, n->blob, data)) == CHR_OK && len != NULL)
            *len = n->blob->data_len;
    }
    pthread_rwlock_unlock(&st->ix_lock);
    if (e != CHR_OK && version != NULL)
        *version = -1;
    return e;
}

/* The server has loaded what it needs: the snapshot's mapping goes (cold
 * nodes are read with pread from now on). */
static void local_loaded(struct chr_store *s)
{
    lcold_cool(ls(s)->ix.cold);
}

static const char *last_component(const struct lblob *b)
{
    const char *p = lblob_path(b);
    const char *slash = strrchr(p, '/');
    return slash + 1;
}

static int cmp_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Under the read lock: one block holding the header, the pointers, the names. */
static enum chr_err copy_children(const struct lnode *n, struct chr_store_names **out)
{
    size_t bytes = sizeof(struct chr_store_names) + (size_t)n->n_children * sizeof(char *);
    for (const struct lnode *c = n->child; c != NULL; c = c->next)
        bytes += strlen(last_component(c->blob)) + 1;
    struct chr_store_names *names = chr_malloc(bytes);
    if (names == NULL)
        return CHR_ENOMEM;
    names->n = n->n_children;
    names->names = (char **)(void *)(names + 1);
    char *p = (char *)(names->names + names->n);
    size_t i = 0;
    for (const struct lnode *c = n->child; c != NULL; c = c->next) {
        const char *name = last_component(c->blob);
        size_t len = strlen(name) + 1;
        memcpy(p, name, len);
        names->names[i++] = p;
        p += len;
    }
    CHR_ASSERT(i == names->n);
    *out = names;
    return CHR_OK;
}

static enum chr_err local_children(struct chr_store *s, const char *path,
                                   struct chr_store_names **out, struct chr_store_dirstat *stat)
{
    struct local_store *st = ls(s);
    size_t plen = strlen(path);
    enum chr_err e;
    pthread_rwlock_rdlock(&st->ix_lock);
    const struct lnode *n = lindex_find(&st->ix, path, plen, chr_str_hash(path, plen));
    if (n == NULL)
        e = CHR_ENOENT;
    else if (n->n_children > CHR_STORE_CHILDREN_MAX)
        e = CHR_ERANGE;
    else
        e = copy_children(n, out);
    if (e == CHR_OK && stat != NULL)
        *stat = (struct chr_store_dirstat){n->blob->version, -1}; /* no cversion kept */
    pthread_rwlock_unlock(&st->ix_lock);
    if (e == CHR_OK)
        qsort((*out)->names, (*out)->n, sizeof(char *), cmp_names);
    return e;
}

/* ---- Waiting, state ----------------------------------------------------------------- */

static enum chr_err local_flush(struct chr_store *s, int64_t timeout_ms)
{
    struct local_store *st = ls(s);
    struct timespec until = chr_clock_wall_ts(chr_clock_wall_ms() + (timeout_ms > 0 ? timeout_ms : 0));
    pthread_mutex_lock(&st->mu);
    uint64_t ticket = st->submitted;
    bool late = false;
    while (st->completed < ticket && !late)
        late = timeout_ms < 0 ? pthread_cond_wait(&st->done_cond, &st->mu) != 0
                              : pthread_cond_timedwait(&st->done_cond, &st->mu, &until) != 0;
    enum chr_err e = st->completed < ticket ? CHR_EUNAVAIL : st->failed;
    pthread_mutex_unlock(&st->mu);
    return e;
}

static enum chr_err local_checkpoint(struct chr_store *s)
{
    struct local_store *st = ls(s);
    pthread_mutex_lock(&st->mu);
    uint64_t ticket = ++st->ck_req;
    pthread_cond_signal(&st->work_cond);
    while (st->ck_done < ticket && st->failed == CHR_OK)
        pthread_cond_wait(&st->done_cond, &st->mu);
    enum chr_err e = st->ck_done >= ticket ? st->ck_result : CHR_EIO;
    pthread_mutex_unlock(&st->mu);
    return e;
}

static enum chr_err local_state(struct chr_store *s)
{
    struct local_store *st = ls(s);
    pthread_mutex_lock(&st->mu);
    enum chr_err e = st->failed;
    pthread_mutex_unlock(&st->mu);
    return e;
}

static void local_health(struct chr_store *s, struct chr_store_health *out)
{
    struct local_store *st = ls(s);
    pthread_mutex_lock(&st->mu);
    out->ok = st->failed == CHR_OK;
    out->fatal = st->fail_fatal;
    snprintf(out->cause, sizeof out->cause, "%s", out->ok ? "" : st->fail_cause);
    pthread_mutex_unlock(&st->mu);
}

static enum chr_err local_resume(struct chr_store *s)
{
    struct local_store *st = ls(s);
    pthread_mutex_lock(&st->mu);
    uint64_t ticket = ++st->resume_req;
    pthread_cond_signal(&st->work_cond);
    while (st->resume_done < ticket && !st->closing)
        pthread_cond_wait(&st->done_cond, &st->mu);
    enum chr_err e = st->resume_done >= ticket ? st->resume_result : CHR_EUNAVAIL;
    pthread_mutex_unlock(&st->mu);
    return e;
}

static void local_stats(struct chr_store *s, struct chr_store_stats *out)
{
    struct local_store *st = ls(s);
    pthread_mutex_lock(&st->mu);
    *out = st->st;
    out->checkpoint_running = st->ck_running;
    pthread_mutex_unlock(&st->mu);
    pthread_rwlock_rdlock(&st->ix_lock);
    out->nodes = st->ix.n_nodes;
    out->data_bytes = st->ix.data_bytes;
    out->seq = st->pub_seq;
    out->log_bytes = st->pub_log_bytes;
    pthread_rwlock_unlock(&st->ix_lock);
}

static bool local_on_own_thread(struct chr_store *s)
{
    struct local_store *st = ls(s);
    return st->commit_started && pthread_equal(pthread_self(), st->commit_thr);
}

#ifdef CHR_TESTING
static void local_fault(struct chr_store *s, enum chr_store_fault kind, long nth, long count)
{
    struct lfaults *f = &ls(s)->faults;
    int k = kind == CHR_STORE_FAULT_SYNC ? 1 : kind == CHR_STORE_FAULT_SLOW ? 2 : 0;
    atomic_store(&f->nth[k], 0);
    atomic_store(&f->calls[k], 0);
    atomic_store(&f->count[k], count);
    atomic_store(&f->nth[k], nth);
}
#endif

/* ---- Open and close ---------------------------------------------------------------- */

/* Stops the threads (the commit thread drains the queue first) and frees
 * whatever was set up; works on a half-opened store. */
static void local_destroy(struct local_store *st)
{
    pthread_mutex_lock(&st->mu);
    st->closing = true;
    pthread_cond_signal(&st->work_cond);
    pthread_mutex_unlock(&st->mu);
    if (st->commit_started)
        pthread_join(st->commit_thr, NULL);
    pthread_mutex_lock(&st->mu);
    st->ck_stop = true;
    pthread_cond_signal(&st->ck_cond);
    pthread_mutex_unlock(&st->mu);
    if (st->ck_started_thr)
        pthread_join(st->ck_thr, NULL);
    ck_job_free(st->ck_job);
    if (!st->base.exiting) /* store.h: chr_store_close_exit */
        lindex_free(&st->ix);
    chr_free(st->wbuf);
    if (st->wal_fd >= 0)
        close(st->wal_fd);
    if (st->lock_fd >= 0)
        close(st->lock_fd); /* releases the flock */
    if (st->dir_fd >= 0)
        close(st->dir_fd);
    pthread_rwlock_destroy(&st->ix_lock);
    pthread_cond_destroy(&st->ck_cond);
    pthread_cond_destroy(&st->done_cond);
    pthread_cond_destroy(&st->work_cond);
    pthread_mutex_destroy(&st->mu);
    chr_free(st);
}

static void local_close(struct chr_store *s)
{
    local_destroy(ls(s));
}

static const struct chr_store_backend local_backend = {
    .name = "local",
    .submit = local_submit,
    .get = local_get,
    .children = local_children,
    .flush = local_flush,
    .checkpoint = local_checkpoint,
    .state = local_state,
    .health = local_health,
    .resume = local_resume,
    .stats = local_stats,
    .on_own_thread = local_on_own_thread,
    .close = local_close,
    .loaded = local_loaded,
#ifdef CHR_TESTING
    .fault = local_fault,
#endif
};

/* Errors of the open name the path: "DIR/NAME: cannot open: ...". */
static enum chr_err open_error(struct chr_error *err, const char *dir, const char *name,
                               const char *doing)
{
    int saved = errno;
    char path[512];
    snprintf(path, sizeof path, "%s%s%s", dir, name[0] ? "/" : "", name);
    return chr_error_set(err, CHR_EIO, path, "cannot %s: %s", doing, strerror(saved));
}

/* Takes the directory's lock and writes this process's pid into LOCK, so
 * that a second open can say who holds it. */
static enum chr_err take_lock(struct local_store *st, const char *dir, struct chr_error *err)
{
    st->lock_fd = openat(st->dir_fd, "LOCK", O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (st->lock_fd < 0)
        return open_error(err, dir, "LOCK", "open");
    if (flock(st->lock_fd, LOCK_EX | LOCK_NB) != 0)
        return errno == EWOULDBLOCK ? llock_busy(st->lock_fd, dir, err)
                                    : open_error(err, dir, "LOCK", "lock");
    llock_note(st->lock_fd);
    return CHR_OK;
}

/* Creates (if needed: then its parent's entry is fsync'd too) and locks the
 * directory. */
static enum chr_err open_dir(struct local_store *st, const char *dir, struct chr_error *err)
{
    bool created = mkdir(dir, 0755) == 0;
    if (!created && errno != EEXIST)
        return open_error(err, dir, "", "create the directory");
    st->dir_fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (st->dir_fd < 0)
        return open_error(err, dir, "", "open the directory");
    if (created) {
        int parent = openat(st->dir_fd, "..", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        enum chr_err e = parent < 0 ? CHR_EIO : lio_sync(&st->faults, parent, false);
        if (parent >= 0)
            close(parent);
        if (e != CHR_OK)
            return open_error(err, dir, "..", "sync the new directory's parent");
    }
    return take_lock(st, dir, err);
}

/* Opens the newest log to append to, cutting its torn tail (noted in err). */
static enum chr_err reopen_current(struct local_store *st, const char *dir,
                                   const struct lplan *plan, struct chr_error *err)
{
    const struct chr_store_file_report *fr = &plan->rep.files[plan->current];
    int fd = openat(st->dir_fd, fr->name, O_RDWR | O_CLOEXEC);
    if (fd < 0)
        return open_error(err, dir, fr->name, "open");
    st->wal_fd = fd;
    st->wal_first = fr->first_seq;
    st->wal_size = plan->current_end;
    if (fr->state != CHR_STORE_FILE_TORN)
        return CHR_OK;
    if (ftruncate(fd, (off_t)plan->current_end) != 0 ||
        lio_sync(&st->faults, fd, false) != CHR_OK)
        return open_error(err, dir, fr->name, "cut the torn tail");
    st->st.torn_bytes = fr->bytes - plan->current_end;
    char path[512];
    snprintf(path, sizeof path, "%s/%s", dir, fr->name);
    chr_error_set(err, CHR_OK, path, "cut a torn tail of %llu bytes at offset %llu (%s): the "
                  "write a crash interrupted, never acknowledged",
                  (unsigned long long)st->st.torn_bytes, (unsigned long long)fr->bad_offset,
                  fr->what);
    return CHR_OK;
}

/* Reads the store; on no damage, makes it ready to append: the newest log
 * cut after its last record (or a new one), stale logs and snap.tmp gone. */
static enum chr_err load(struct local_store *st, const char *dir, struct chr_error *err)
{
    struct lplan plan;
    enum chr_err e = lcheck_read(st->dir_fd, dir, false, &st->ix, &plan, err);
    if (e != CHR_OK)
        return e;
    if (plan.rep.damaged) {
        e = lplan_damage_error(&plan, dir, err);
        lplan_free(&plan);
        return e;
    }
    st->seq = plan.rep.kept_seq;
    char name[24];
    lwal_name(name, st->seq + 1);
    if (plan.current >= 0)
        e = reopen_current(st, dir, &plan, err);
    else if ((e = lwal_create(st, st->seq + 1)) != CHR_OK)
        e = open_error(err, dir, name, "create");
    if (e == CHR_OK) {
        lwal_remove_upto(st, plan.rep.snap_seq);
        unlinkat(st->dir_fd, "snap.tmp", 0); /* a checkpoint cut short */
        unlinkat(st->dir_fd, "probe.tmp", 0); /* a resume cut short (local_commit.c) */
        if (lio_sync(&st->faults, st->dir_fd, false) != CHR_OK)
            e = open_error(err, dir, "", "sync the directory");
    }
    lplan_free(&plan);
    return e;
}

static enum chr_err init_sync(struct local_store *st)
{
    /* The defaults of these cannot fail on Linux/glibc save for ENOMEM. */
    if (pthread_mutex_init(&st->mu, NULL) != 0 || pthread_cond_init(&st->work_cond, NULL) != 0 ||
        pthread_cond_init(&st->done_cond, NULL) != 0 ||
        pthread_cond_init(&st->ck_cond, NULL) != 0 ||
        pthread_rwlock_init(&st->ix_lock, NULL) != 0)
        return CHR_ENOMEM;
    return CHR_OK;
}

static enum chr_err start_threads(struct local_store *st)
{
    if (pthread_create(&st->ck_thr, NULL, lsnap_main, st) != 0)
        return CHR_ENOMEM;
    st->ck_started_thr = true;
    if (pthread_create(&st->commit_thr, NULL, lcommit_main, st) != 0)
        return CHR_ENOMEM;
    st->commit_started = true;
    return CHR_OK;
}

enum chr_err chr_store_open_local(const char *dir, const struct chr_store_config *cfg,
                                  struct chr_store **out, struct chr_error *err)
{
    chr_error_clear(err);
    if (out == NULL)
        return chr_error_set(err, CHR_EINVAL, "store", "no place for the store");
    *out = NULL;
    if (dir == NULL || dir[0] == '\0')
        return chr_error_set(err, CHR_EINVAL, "store", "no directory given");
    struct local_store *st = chr_calloc(1, sizeof *st);
    if (st == NULL)
        return CHR_ENOMEM;
    st->base.be = &local_backend;
    st->dir_fd = st->lock_fd = st->wal_fd = -1;
    size_t dl = strlen(dir);
    snprintf(st->name, sizeof st->name, "%s%s", dl < sizeof st->name ? "" : "...",
             dl < sizeof st->name ? dir : dir + dl - (sizeof st->name - 4));
    st->checkpoint_bytes = cfg != NULL && cfg->checkpoint_bytes > 0 ? cfg->checkpoint_bytes
                                                                    : CHR_STORE_CHECKPOINT_BYTES;
    st->queue_max = cfg != NULL && cfg->queue_max > 0 && cfg->queue_max < CHR_STORE_QUEUE_MAX
                        ? cfg->queue_max
                        : CHR_STORE_QUEUE_MAX;
    enum chr_err e = init_sync(st);
    if (e != CHR_OK) {
        chr_free(st); /* nothing else to undo: the primitives need no destroy */
        return e;
    }
    e = open_dir(st, dir, err);
    if (e == CHR_OK)
        e = lindex_init(&st->ix);
    if (e == CHR_OK)
        e = load(st, dir, err);
    if (e == CHR_OK) {
        st->pub_seq = st->seq;
        st->pub_log_bytes = st->wal_size;
        e = start_threads(st);
    }
    if (e != CHR_OK) {
        local_destroy(st);
        if (e == CHR_ENOMEM)
            chr_error_set(err, e, "store", "out of memory opening %s", dir);
        return e;
    }
    *out = &st->base;
    return CHR_OK;
}
