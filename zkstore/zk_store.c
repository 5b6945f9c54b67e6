/*
 * zk_store.c - the store (store.h) kept in ZooKeeper: a batch is one
 * zoo_amulti, a read one synchronous zoo_get / zoo_exists /
 * zoo_get_children (the *_many reads: asynchronous ones, all in flight at
 * once), so the semantics are ZooKeeper's own.
 *
 * Order: submitters take submit_mu around zoo_amulti, so the order in which
 * batches are accepted is the order of the client's request queue; the
 * server answers one session in order and the client runs completions on
 * its single completion thread, so completions run in submission order.
 *
 * Where ZooKeeper differs from the local backend (documented, tested):
 *   - a batch whose outcome is unknown (connection loss, expiry, closing)
 *     completes with CHR_EIO for every op; so does one refused by an ACL
 *     (ZNOAUTH) or any other error that names no op's state;
 *   - a CHECK of version -1 checks existence only (the server's
 *     PrepRequestProcessor skips the version test for -1 but still fails a
 *     missing node with ZNONODE), and its result's version is -1: a multi's
 *     check result carries no stat;
 *   - reads fail with CHR_EIO when the session cannot answer them
 *     (disconnected until the client gives up, expired, not permitted);
 *   - stats: nodes and data_bytes are not known (0); seq counts write
 *     batches that succeeded on this store since open.
 *
 * Never blocks a submitter (a full queue answers CHR_EUNAVAIL) and never
 * waits on the completion thread.
 */
#include "zkstore/zk_int.h"

#include <string.h>

#include "common/alloc.h"
#include "common/clock.h"

struct zk_store {
    struct chr_store base;
    struct chr_zk *zk;
    size_t queue_max;
    pthread_mutex_t submit_mu; /* held across zoo_amulti: fixes the order */
    pthread_mutex_t mu;        /* guards what follows */
    pthread_cond_t cond;
    size_t queued;   /* accepted, completion not yet started: the bound */
    size_t inflight; /* accepted, completion not yet finished: close waits */
    uint64_t queued_bytes;
    uint64_t next_seq; /* seq of the last batch accepted */
    uint64_t done_seq; /* seq of the last batch completed */
    uint64_t batches, writes;
    bool closing;
};

/* One batch in flight: the client fills results[] (and, for SET, stats[])
 * when it answers, so all of it lives until the completion. */
struct zbatch {
    struct zk_store *st;
    chr_store_done_fn *done;
    void *ctx;
    uint64_t seq;
    size_t bytes;
    size_t n;
    zoo_op_result_t *results;
    struct Stat *stats;
    struct chr_store_result *out;
    int32_t *versions;
    uint8_t *types;
    char **paths; /* each op's path, its own heap copy (see zk_submit) */
    zoo_op_t ops[];
};

static struct zk_store *zs(struct chr_store *s)
{
    return (struct zk_store *)s;
}

/* ---- Packets ---------------------------------------------------------------- */

/* Bytes of the multi request packet the client will send (jute encoding:
 * ints 4, strings and buffers 4 + length, a bool 1), without its length
 * prefix: what the server compares with jute.maxbuffer. */
static size_t packet_bytes(const struct chr_zk *zk, const struct chr_store_op *ops, size_t n)
{
    size_t acl = 4;
    for (int32_t i = 0; i < zk->acl->count; i++)
        acl += 4 + 4 + strlen(zk->acl->data[i].id.scheme) + 4 + strlen(zk->acl->data[i].id.id);
    size_t chroot = strlen(zk->chroot);
    size_t total = 8 + 9; /* request header, closing multi header */
    for (size_t i = 0; i < n; i++) {
        size_t plen = strlen(ops[i].path);
        if (chroot > 0 && plen == 1)
            plen = 0; /* "/" is the chroot itself */
        total += 9 + 4 + chroot + plen;
        if (ops[i].type == CHR_STORE_CREATE)
            total += 4 + ops[i].len + acl + 4;
        else if (ops[i].type == CHR_STORE_SET)
            total += 4 + ops[i].len + 4;
        else
            total += 4;
    }
    return total;
}

/* Frees a batch and its paths. */
static void batch_free(struct zbatch *b)
{
    for (size_t i = 0; b != NULL && i < b->n; i++)
        chr_free(b->paths[i]);
    chr_free(b);
}

static struct zbatch *batch_new(struct zk_store *st, const struct chr_store_op *ops, size_t n)
{
    size_t per = sizeof(zoo_op_t) + sizeof(zoo_op_result_t) + sizeof(struct Stat) +
                 sizeof(struct chr_store_result) + sizeof(int32_t) + sizeof(char *) + 1;
    struct zbatch *b = chr_calloc(1, sizeof *b + n * per);
    if (b == NULL)
        return NULL;
    b->st = st;
    b->n = n;
    b->results = (zoo_op_result_t *)(void *)&b->ops[n];
    b->stats = (struct Stat *)(void *)&b->results[n];
    b->out = (struct chr_store_result *)(void *)&b->stats[n];
    b->paths = (char **)(void *)&b->out[n];
    b->versions = (int32_t *)(void *)&b->paths[n];
    b->types = (uint8_t *)&b->versions[n];
    const struct ACL_vector *acl = st->zk->acl;
    for (size_t i = 0; i < n; i++) {
        const struct chr_store_op *op = &ops[i];
        const char *data = op->data != NULL ? op->data : "";
        if ((b->paths[i] = chr_strndup(op->path, strlen(op->path))) == NULL) {
            batch_free(b);
            return NULL;
        }
        b->types[i] = (uint8_t)op->type;
        b->versions[i] = op->version;
        switch (op->type) {
        case CHR_STORE_CREATE:
            zoo_create_op_init(&b->ops[i], b->paths[i], data, (int)op->len, acl, 0, NULL, 0);
            break;
        case CHR_STORE_SET:
            zoo_set_op_init(&b->ops[i], b->paths[i], data, (int)op->len, op->version,
                            &b->stats[i]);
            break;
        case CHR_STORE_DELETE:
            zoo_delete_op_init(&b->ops[i], b->paths[i], op->version);
            break;
        default:
            zoo_check_op_init(&b->ops[i], b->paths[i], op->version);
            break;
        }
    }
    return b;
}

/* ---- Completions ------------------------------------------------------------- */

/* ZooKeeper's error for one op -> ours; CHR_EIO when it says nothing about
 * the op (the batch's outcome is then unknown or refused as a whole). */
static enum chr_err op_err(int rc)
{
    enum chr_err e = chr_zk_err(rc);
    return e == CHR_ECONFLICT || e == CHR_ENOENT ? e : CHR_EIO;
}

/* Fills b->out from the client's answer; returns the batch's result. */
static enum chr_err batch_result(struct zbatch *b, int rc)
{
    if (rc == ZOK) {
        for (size_t i = 0; i < b->n; i++) {
            int32_t v = b->versions[i]; /* CHECK: the version it checked */
            if (b->types[i] == CHR_STORE_CREATE)
                v = 0;
            else if (b->types[i] == CHR_STORE_SET)
                v = b->stats[i].version;
            else if (b->types[i] == CHR_STORE_DELETE)
                v = -1;
            b->out[i] = (struct chr_store_result){.err = CHR_OK, .version = v};
        }
        return CHR_OK;
    }
    size_t failed = b->n;
    for (size_t i = 0; i < b->n && failed == b->n; i++)
        if (b->results[i].err != ZOK && b->results[i].err != ZRUNTIMEINCONSISTENCY)
            failed = i;
    enum chr_err e = failed < b->n ? op_err(b->results[failed].err) : CHR_EIO;
    for (size_t i = 0; i < b->n; i++) {
        enum chr_err r = e == CHR_EIO ? CHR_EIO : i < failed ? CHR_OK : i == failed ? e : CHR_ENONE;
        b->out[i] = (struct chr_store_result){.err = r, .version = -1};
    }
    return e;
}

/* The multi's completion, on the completion thread. */
static void multi_done(int rc, const void *data)
{
    struct zbatch *b = (struct zbatch *)data;
    struct zk_store *st = b->st;
    enum chr_err e = batch_result(b, rc);
    pthread_mutex_lock(&st->mu);
    st->queued--;
    st->queued_bytes -= b->bytes;
    pthread_mutex_unlock(&st->mu);
    if (b->done != NULL)
        b->done(b->ctx, e, b->out, b->n);
    pthread_mutex_lock(&st->mu);
    st->inflight--;
    st->done_seq = b->seq;
    st->batches++;
    if (e == CHR_OK) {
        for (size_t i = 0; i < b->n; i++)
            if (b->types[i] != CHR_STORE_CHECK) {
                st->writes++;
                break;
            }
    }
    pthread_cond_broadcast(&st->cond);
    pthread_mutex_unlock(&st->mu);
    batch_free(b);
}

/* ---- Backend ------------------------------------------------------------------ */

static enum chr_err zk_submit(struct chr_store *s, const struct chr_store_op *ops, size_t n,
                              size_t bytes, chr_store_done_fn *done, void *ctx)
{
    struct zk_store *st = zs(s);
    if (!chr_zk_alive(st->zk))
        return CHR_EIO;
    if (packet_bytes(st->zk, ops, n) > CHR_ZK_PACKET_MAX)
        return CHR_ERANGE;
    struct zbatch *b = batch_new(st, ops, n);
    if (b == NULL)
        return CHR_ENOMEM;
    b->done = done;
    b->ctx = ctx;
    b->bytes = bytes;
    enum chr_err e = CHR_OK;
    pthread_mutex_lock(&st->submit_mu);
    bool dead = zoo_state(st->zk->zh) != ZOO_CONNECTED_STATE; /* see the call below */
    pthread_mutex_lock(&st->mu);
    if (dead) {
        e = CHR_EIO;
    } else if (st->closing || st->queued >= st->queue_max ||
        st->queued_bytes + bytes > CHR_STORE_QUEUE_BYTES_MAX) {
        e = CHR_EUNAVAIL;
    } else {
        st->queued++;
        st->inflight++;
        st->queued_bytes += bytes;
        b->seq = st->next_seq + 1;
    }
    pthread_mutex_unlock(&st->mu);
    /* ZooKeeper 3.8's zoo_amulti on a dead session (expired, auth failed)
     * refuses op by op, and for every op after the first frees a stale
     * request path: the previous op's path, an invalid or double free.  So
     * it is called only while the handle's own state - set by the client's
     * I/O thread, before our watcher hears of an expiry - says CONNECTED
     * (the I/O thread marks a handle expired only at a reconnect's
     * handshake, so it cannot turn dead between that look and the call
     * without a whole reconnect); anything else is refused at once, never
     * queued for a reconnect (a leader steps down at a connection loss
     * anyway).  And, should the library refuse all the same, every path is
     * a heap copy of its own, left to it (not freed). */
    bool refused = false;
    if (e == CHR_OK) {
        int rc = zoo_amulti(st->zk->zh, (int)n, b->ops, b->results, multi_done, b);
        pthread_mutex_lock(&st->mu);
        if (rc == ZOK) {
            st->next_seq++;
        } else { /* not queued (the session is dead): no completion */
            refused = true;
            st->queued--;
            st->inflight--;
            st->queued_bytes -= bytes;
            pthread_cond_broadcast(&st->cond);
            e = CHR_EIO;
        }
        pthread_mutex_unlock(&st->mu);
    }
    pthread_mutex_unlock(&st->submit_mu);
    if (e != CHR_OK && refused)
        chr_free(b); /* its paths: see above (a few bytes, once a session) */
    else if (e != CHR_OK)
        batch_free(b);
    return e;
}

/* A heap copy of len bytes plus a NUL. */
static enum chr_err copy_out(const char *buf, int len, void **data, size_t *out_len)
{
    size_t n = len > 0 ? (size_t)len : 0; /* -1: a node with null data */
    char *copy = chr_malloc(n + 1);
    if (copy == NULL)
        return CHR_ENOMEM;
    if (n > 0)
        memcpy(copy, buf, n);
    copy[n] = '\0';
    *data = copy;
    if (out_len != NULL)
        *out_len = n;
    return CHR_OK;
}

/* zoo_get into a buffer of the node's size: a first try with a small buffer
 * tells the size of larger nodes; a node that grows meanwhile is read
 * again. */
static enum chr_err read_data(zhandle_t *zh, const char *path, void **data, size_t *len,
                              int32_t *version)
{
    char small[4096];
    int cap = (int)sizeof small;
    char *buf = small;
    enum chr_err e = CHR_EIO;
    for (int attempt = 0; attempt < 8; attempt++) {
        struct Stat stat;
        int blen = cap;
        int rc = zoo_get(zh, path, 0, buf, &blen, &stat);
        if (rc != ZOK) {
            e = chr_zk_err(rc);
            break;
        }
        if (stat.dataLength <= cap) {
            e = copy_out(buf, blen, data, len);
            if (e == CHR_OK && version != NULL)
                *version = stat.version;
            break;
        }
        if (buf != small)
            chr_free(buf);
        cap = stat.dataLength;
        buf = chr_malloc((size_t)cap);
        if (buf == NULL)
            return CHR_ENOMEM;
    }
    if (buf != small)
        chr_free(buf);
    return e;
}

static enum chr_err zk_get(struct chr_store *s, const char *path, void **data, size_t *len,
                           int32_t *version)
{
    struct zk_store *st = zs(s);
    if (!chr_zk_alive(st->zk))
        return CHR_EIO;
    if (data != NULL)
        return read_data(st->zk->zh, path, data, len, version);
    struct Stat stat;
    int rc = zoo_exists(st->zk->zh, path, 0, &stat);
    if (rc == ZOK && version != NULL)
        *version = stat.version;
    return chr_zk_err(rc);
}

/* ---- Pipelined reads ------------------------------------------------------- */

/* Every zoo_aget of a chr_store_get_many in flight at once: the server
 * answers them in order on one connection, so n reads cost about one round
 * trip plus the transfer, not n round trips. */
struct getmany {
    pthread_mutex_t mu;
    pthread_cond_t cond;
    size_t left;
    struct chr_store_got *out;
};

struct getone {
    struct getmany *gm;
    size_t i;
};

static void got_one(struct getmany *gm, size_t i, enum chr_err e, const char *value, int len,
                    const struct Stat *stat)
{
    struct chr_store_got *g = &gm->out[i];
    g->err = e;
    if (e == CHR_OK) {
        g->err = copy_out(value, len, &g->data, &g->len);
        g->version = stat != NULL ? stat->version : -1;
    }
    pthread_mutex_lock(&gm->mu);
    if (--gm->left == 0)
        pthread_cond_signal(&gm->cond);
    pthread_mutex_unlock(&gm->mu);
}

static void aget_done(int rc, const char *value, int len, const struct Stat *stat,
                      const void *data)
{
    const struct getone *one = data;
    got_one(one->gm, one->i, chr_zk_err(rc), value, len, stat);
}

static enum chr_err zk_get_many(struct chr_store *s, const char *const *paths, size_t n,
                                struct chr_store_got *out)
{
    struct zk_store *st = zs(s);
    if (!chr_zk_alive(st->zk))
        return CHR_EIO;
    struct getone *ones = chr_calloc(n, sizeof *ones);
    if (ones == NULL)
        return CHR_ENOMEM;
    struct getmany gm = {.left = n, .out = out};
    pthread_mutex_init(&gm.mu, NULL);
    pthread_cond_init(&gm.cond, NULL);
    for (size_t i = 0; i < n; i++) {
        ones[i] = (struct getone){&gm, i};
        int rc = zoo_aget(st->zk->zh, paths[i], 0, aget_done, &ones[i]);
        if (rc != ZOK) /* not sent: no completion will come */
            got_one(&gm, i, chr_zk_err(rc) == CHR_OK ? CHR_EIO : chr_zk_err(rc), NULL, 0, NULL);
    }
    pthread_mutex_lock(&gm.mu);
    while (gm.left > 0)
        pthread_cond_wait(&gm.cond, &gm.mu);
    pthread_mutex_unlock(&gm.mu);
    pthread_cond_destroy(&gm.cond);
    pthread_mutex_destroy(&gm.mu);
    chr_free(ones);
    for (size_t i = 0; i < n; i++) {
        if (out[i].err == CHR_EIO) {
            chr_store_got_free(out, n);
            return CHR_EIO;
        }
    }
    return CHR_OK;
}

static int cmp_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* A listing as chr_store_names: one block, sorted bytewise. */
static enum chr_err names_of(const struct String_vector *sv, struct chr_store_names **out)
{
    size_t n = sv->count > 0 ? (size_t)sv->count : 0;
    if (n > CHR_STORE_CHILDREN_MAX)
        return CHR_ERANGE;
    size_t bytes = sizeof(struct chr_store_names) + n * sizeof(char *);
    for (size_t i = 0; i < n; i++)
        bytes += strlen(sv->data[i]) + 1;
    struct chr_store_names *names = chr_malloc(bytes);
    if (names == NULL)
        return CHR_ENOMEM;
    names->n = n;
    names->names = (char **)(void *)(names + 1);
    char *p = (char *)(names->names + n);
    for (size_t i = 0; i < n; i++) {
        size_t l = strlen(sv->data[i]) + 1;
        memcpy(p, sv->data[i], l);
        names->names[i] = p;
        p += l;
    }
    qsort(names->names, n, sizeof(char *), cmp_names);
    *out = names;
    return CHR_OK;
}

static enum chr_err zk_children(struct chr_store *s, const char *path,
                                struct chr_store_names **out, struct chr_store_dirstat *stat)
{
    struct zk_store *st = zs(s);
    if (!chr_zk_alive(st->zk))
        return CHR_EIO;
    struct String_vector sv = {0, NULL};
    struct Stat zst;
    int rc = zoo_get_children2(st->zk->zh, path, 0, &sv, &zst);
    if (rc != ZOK)
        return chr_zk_err(rc);
    if (stat != NULL)
        *stat = (struct chr_store_dirstat){zst.version, zst.cversion};
    enum chr_err e = names_of(&sv, out);
    deallocate_String_vector(&sv);
    return e;
}

/* Every zoo_aget_children2 of a chr_store_children_stat_many in flight at
 * once, as zk_get_many's reads: one round trip for n listings. */
struct lsmany {
    pthread_mutex_t mu;
    pthread_cond_t cond;
    size_t left;
    struct chr_store_names **out;
    struct chr_store_dirstat *stat;
    enum chr_err *err;
};

struct lsone {
    struct lsmany *lm;
    size_t i;
};

static void listed_one(struct lsmany *lm, size_t i, enum chr_err e,
                       const struct String_vector *sv, const struct Stat *zst)
{
    if (e == CHR_OK && zst != NULL)
        lm->stat[i] = (struct chr_store_dirstat){zst->version, zst->cversion};
    if (e == CHR_OK)
        e = sv != NULL ? names_of(sv, &lm->out[i]) : CHR_EIO;
    lm->err[i] = e;
    pthread_mutex_lock(&lm->mu);
    if (--lm->left == 0)
        pthread_cond_signal(&lm->cond);
    pthread_mutex_unlock(&lm->mu);
}

static void alist_done(int rc, const struct String_vector *strings, const struct Stat *stat,
                       const void *data)
{
    const struct lsone *one = data;
    listed_one(one->lm, one->i, chr_zk_err(rc), strings, stat);
}

static enum chr_err zk_children_many(struct chr_store *s, const char *const *paths, size_t n,
                                     struct chr_store_names **out,
                                     struct chr_store_dirstat *stat, enum chr_err *err)
{
    struct zk_store *st = zs(s);
    if (!chr_zk_alive(st->zk))
        return CHR_EIO;
    struct lsone *ones = chr_calloc(n, sizeof *ones);
    if (ones == NULL)
        return CHR_ENOMEM;
    struct lsmany lm = {.left = n, .out = out, .stat = stat, .err = err};
    pthread_mutex_init(&lm.mu, NULL);
    pthread_cond_init(&lm.cond, NULL);
    for (size_t i = 0; i < n; i++) {
        ones[i] = (struct lsone){&lm, i};
        int rc = zoo_aget_children2(st->zk->zh, paths[i], 0, alist_done, &ones[i]);
        if (rc != ZOK) /* not sent: no completion will come */
            listed_one(&lm, i, chr_zk_err(rc) == CHR_OK ? CHR_EIO : chr_zk_err(rc), NULL, NULL);
    }
    pthread_mutex_lock(&lm.mu);
    while (lm.left > 0)
        pthread_cond_wait(&lm.cond, &lm.mu);
    pthread_mutex_unlock(&lm.mu);
    pthread_cond_destroy(&lm.cond);
    pthread_mutex_destroy(&lm.mu);
    chr_free(ones);
    return CHR_OK;
}

static enum chr_err zk_flush(struct chr_store *s, int64_t timeout_ms)
{
    struct zk_store *st = zs(s);
    struct timespec until = chr_clock_wall_ts(chr_clock_wall_ms() + (timeout_ms > 0 ? timeout_ms : 0));
    pthread_mutex_lock(&st->mu);
    uint64_t target = st->next_seq;
    bool late = false;
    while (st->done_seq < target && !late)
        late = timeout_ms < 0 ? pthread_cond_wait(&st->cond, &st->mu) != 0
                              : pthread_cond_timedwait(&st->cond, &st->mu, &until) != 0;
    bool done = st->done_seq >= target;
    pthread_mutex_unlock(&st->mu);
    if (!done)
        return CHR_EUNAVAIL;
    return chr_zk_alive(st->zk) ? CHR_OK : CHR_EIO;
}

static enum chr_err zk_checkpoint(struct chr_store *s)
{
    (void)s;
    return CHR_OK; /* ZooKeeper snapshots by itself */
}

static enum chr_err zk_state(struct chr_store *s)
{
    return chr_zk_alive(zs(s)->zk) ? CHR_OK : CHR_EIO;
}

static void zk_stats(struct chr_store *s, struct chr_store_stats *out)
{
    struct zk_store *st = zs(s);
    pthread_mutex_lock(&st->mu);
    out->batches = st->batches;
    out->seq = st->writes;
    pthread_mutex_unlock(&st->mu);
}

static bool zk_on_own_thread(struct chr_store *s)
{
    return chr_zk_on_completion_thread(zs(s)->zk);
}

/* Waits for every batch in flight: a live session answers them, a lost one
 * fails them (the client completes them with an error), so this ends. */
static void zk_close(struct chr_store *s)
{
    struct zk_store *st = zs(s);
    pthread_mutex_lock(&st->mu);
    st->closing = true;
    while (st->inflight > 0)
        pthread_cond_wait(&st->cond, &st->mu);
    pthread_mutex_unlock(&st->mu);
    pthread_cond_destroy(&st->cond);
    pthread_mutex_destroy(&st->mu);
    pthread_mutex_destroy(&st->submit_mu);
    chr_free(st);
}

static const struct chr_store_backend zk_backend = {
    .name = "zookeeper",
    .submit = zk_submit,
    .get = zk_get,
    .children = zk_children,
    .flush = zk_flush,
    .checkpoint = zk_checkpoint,
    .state = zk_state,
    .stats = zk_stats,
    .on_own_thread = zk_on_own_thread,
    .close = zk_close,
    .get_many = zk_get_many,
    .children_many = zk_children_many,
};

enum chr_err chr_store_open_zk(struct chr_zk *zk, const struct chr_store_config *cfg,
                               struct chr_store **out)
{
    if (out == NULL)
        return CHR_EINVAL;
    *out = NULL;
    if (zk == NULL)
        return CHR_EINVAL;
    if (!chr_zk_alive(zk))
        return CHR_EIO;
    struct zk_store *st = chr_calloc(1, sizeof *st);
    if (st == NULL)
        return CHR_ENOMEM;
    st->base.be = &zk_backend;
    st->zk = zk;
    st->queue_max = CHR_STORE_QUEUE_MAX;
    if (cfg != NULL && cfg->queue_max > 0 && cfg->queue_max < CHR_STORE_QUEUE_MAX)
        st->queue_max = cfg->queue_max;
    pthread_mutex_init(&st->submit_mu, NULL);
    pthread_mutex_init(&st->mu, NULL);
    pthread_cond_init(&st->cond, NULL);
    *out = &st->base;
    return CHR_OK;
}
