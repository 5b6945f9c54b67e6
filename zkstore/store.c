/*
 * store.c - the backend-neutral half of the store: argument checks, done
 * once here so every backend sees only valid input and answers alike, the
 * dispatch to the backend, and the waiting helpers built on the async API.
 *
 * Never does I/O of its own and keeps no state beyond what a call needs.
 */
#include "zkstore/store_int.h"

#include <pthread.h>
#include <string.h>

#include "common/alloc.h"

size_t chr_store_batch_bytes(const struct chr_store_op *ops, size_t n)
{
    size_t total = 0;
    for (size_t i = 0; i < n; i++) {
        size_t plen = strnlen(ops[i].path, CHR_STORE_PATH_MAX);
        size_t dlen = ops[i].type == CHR_STORE_CREATE || ops[i].type == CHR_STORE_SET
                          ? ops[i].len
                          : 0;
        if (dlen > CHR_STORE_BATCH_BYTES_MAX)
            return SIZE_MAX; /* cannot fit, and must not overflow the sum */
        total += CHR_STORE_OP_OVERHEAD + plen + dlen;
    }
    return total;
}

static enum chr_err op_check(const struct chr_store_op *op)
{
    if (op->path == NULL || !chr_store_path_valid(op->path))
        return CHR_EINVAL;
    bool is_root = strcmp(op->path, "/") == 0;
    switch (op->type) {
    case CHR_STORE_CREATE:
        if (is_root)
            return CHR_EINVAL;
        break;
    case CHR_STORE_DELETE:
        if (is_root)
            return CHR_EINVAL;
        /* fall through */
    case CHR_STORE_SET:
    case CHR_STORE_CHECK:
        if (op->version < -1)
            return CHR_EINVAL;
        break;
    default:
        return CHR_EINVAL;
    }
    if (op->type == CHR_STORE_CREATE || op->type == CHR_STORE_SET) {
        if (op->len > CHR_STORE_NODE_MAX)
            return CHR_ERANGE;
        if (op->len > 0 && op->data == NULL)
            return CHR_EINVAL;
    }
    return CHR_OK;
}

enum chr_err chr_store_submit(struct chr_store *s, const struct chr_store_op *ops,
                              size_t n_ops, chr_store_done_fn *done, void *ctx)
{
    if (s == NULL || ops == NULL || n_ops == 0)
        return CHR_EINVAL;
    if (n_ops > CHR_STORE_BATCH_OPS_MAX)
        return CHR_ERANGE;
    for (size_t i = 0; i < n_ops; i++) {
        enum chr_err e = op_check(&ops[i]);
        if (e != CHR_OK)
            return e;
    }
    size_t bytes = chr_store_batch_bytes(ops, n_ops);
    if (bytes > CHR_STORE_BATCH_BYTES_MAX)
        return CHR_ERANGE;
    return s->be->submit(s, ops, n_ops, bytes, done, ctx);
}

/* ---- Waiting for one batch ---------------------------------------------- */

struct waiter {
    pthread_mutex_t mu;
    pthread_cond_t cond;
    bool done;
    enum chr_err result;
    struct chr_store_result *results;
};

static void waiter_done(void *ctx, enum chr_err result, const struct chr_store_result *results,
                        size_t n_ops)
{
    struct waiter *w = ctx;
    pthread_mutex_lock(&w->mu);
    if (w->results != NULL)
        memcpy(w->results, results, n_ops * sizeof *results);
    w->result = result;
    w->done = true;
    pthread_cond_signal(&w->cond);
    pthread_mutex_unlock(&w->mu);
}

enum chr_err chr_store_submit_wait(struct chr_store *s, const struct chr_store_op *ops,
                                   size_t n_ops, struct chr_store_result *results)
{
    if (s == NULL || s->be->on_own_thread(s))
        return CHR_EINVAL;
    struct waiter w = {.done = false, .result = CHR_OK, .results = results};
    pthread_mutex_init(&w.mu, NULL);
    pthread_cond_init(&w.cond, NULL);
    enum chr_err e = chr_store_submit(s, ops, n_ops, waiter_done, &w);
    if (e == CHR_OK) {
        pthread_mutex_lock(&w.mu);
        while (!w.done)
            pthread_cond_wait(&w.cond, &w.mu);
        pthread_mutex_unlock(&w.mu);
        e = w.result;
    }
    pthread_cond_destroy(&w.cond);
    pthread_mutex_destroy(&w.mu);
    return e;
}

enum chr_err chr_store_mkdirs(struct chr_store *s, const char *path)
{
    if (s == NULL || !chr_store_path_valid(path))
        return CHR_EINVAL;
    size_t len = strlen(path);
    char prefix[CHR_STORE_PATH_MAX];
    /* Each '/' after the first ends an ancestor; the whole path ends last. */
    for (size_t end = 1; end <= len; end++) {
        if (end < len && path[end] != '/')
            continue;
        memcpy(prefix, path, end);
        prefix[end] = '\0';
        enum chr_err e = chr_store_get(s, prefix, NULL, NULL, NULL);
        if (e == CHR_ENOENT) {
            struct chr_store_op op = {.type = CHR_STORE_CREATE, .path = prefix, .version = -1};
            e = chr_store_submit_wait(s, &op, 1, NULL);
            if (e == CHR_ECONFLICT)
                e = CHR_OK; /* created meanwhile by someone else */
        }
        if (e != CHR_OK)
            return e;
    }
    return CHR_OK;
}

/* ---- Plain dispatch ------------------------------------------------------- */

void chr_store_close(struct chr_store *s)
{
    if (s != NULL)
        s->be->close(s);
}

void chr_store_close_exit(struct chr_store *s)
{
    if (s == NULL)
        return;
#ifndef CHR_TESTING /* the test builds free it all: their leak checks see every allocation */
    s->exiting = true;
#endif
    s->be->close(s);
}

enum chr_err chr_store_flush(struct chr_store *s)
{
    if (s == NULL || s->be->on_own_thread(s))
        return CHR_EINVAL;
    return s->be->flush(s, -1);
}

enum chr_err chr_store_flush_within(struct chr_store *s, int64_t timeout_ms)
{
    if (s == NULL || timeout_ms < 0 || s->be->on_own_thread(s))
        return CHR_EINVAL;
    return s->be->flush(s, timeout_ms);
}

enum chr_err chr_store_checkpoint(struct chr_store *s)
{
    if (s == NULL || s->be->on_own_thread(s))
        return CHR_EINVAL;
    return s->be->checkpoint(s);
}

void chr_store_loaded(struct chr_store *s)
{
    if (s != NULL && s->be->loaded != NULL)
        s->be->loaded(s);
}

void chr_store_got_free(struct chr_store_got *got, size_t n)
{
    for (size_t i = 0; got != NULL && i < n; i++) {
        chr_free(got[i].data);
        got[i] = (struct chr_store_got){CHR_ENONE, NULL, 0, -1};
    }
}

enum chr_err chr_store_get_many(struct chr_store *s, const char *const *paths, size_t n,
                                struct chr_store_got *out)
{
    for (size_t i = 0; out != NULL && i < n && n <= CHR_STORE_GET_MANY_MAX; i++)
        out[i] = (struct chr_store_got){CHR_ENONE, NULL, 0, -1};
    if (s == NULL || paths == NULL || out == NULL || n == 0 || n > CHR_STORE_GET_MANY_MAX ||
        s->be->on_own_thread(s))
        return CHR_EINVAL;
    for (size_t i = 0; i < n; i++)
        if (paths[i] == NULL || !chr_store_path_valid(paths[i]))
            return CHR_EINVAL;
    if (s->be->get_many != NULL)
        return s->be->get_many(s, paths, n, out);
    for (size_t i = 0; i < n; i++) {
        out[i].err = s->be->get(s, paths[i], &out[i].data, &out[i].len, &out[i].version);
        if (out[i].err == CHR_EIO) {
            chr_store_got_free(out, n);
            return CHR_EIO;
        }
    }
    return CHR_OK;
}

enum chr_err chr_store_get(struct chr_store *s, const char *path, void **data, size_t *len,
                           int32_t *version)
{
    if (data != NULL)
        *data = NULL;
    if (len != NULL)
        *len = 0;
    if (version != NULL)
        *version = -1;
    if (s == NULL || !chr_store_path_valid(path))
        return CHR_EINVAL;
    return s->be->get(s, path, data, len, version);
}

enum chr_err chr_store_children(struct chr_store *s, const char *path,
                                struct chr_store_names **out)
{
    if (out == NULL)
        return CHR_EINVAL;
    *out = NULL;
    if (s == NULL || !chr_store_path_valid(path))
        return CHR_EINVAL;
    return s->be->children(s, path, out, NULL);
}

enum chr_err chr_store_children_stat(struct chr_store *s, const char *path,
                                     struct chr_store_names **out,
                                     struct chr_store_dirstat *stat)
{
    if (out == NULL || stat == NULL)
        return CHR_EINVAL;
    *out = NULL;
    *stat = (struct chr_store_dirstat){-1, -1};
    if (s == NULL || !chr_store_path_valid(path))
        return CHR_EINVAL;
    return s->be->children(s, path, out, stat);
}

void chr_store_names_free(struct chr_store_names *names)
{
    chr_free(names); /* one block: header, pointers and bytes */
}

/* Any answer but CHR_OK or the ones a listing may give for its own path
 * fails the whole call: every listing is freed. */
static enum chr_err listings_end(struct chr_store_names **out, enum chr_err *err, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (err[i] == CHR_EIO || err[i] == CHR_ENOMEM) {
            enum chr_err e = err[i];
            for (size_t k = 0; k < n; k++) {
                chr_store_names_free(out[k]);
                out[k] = NULL;
            }
            return e;
        }
    }
    return CHR_OK;
}

enum chr_err chr_store_children_stat_many(struct chr_store *s, const char *const *paths,
                                          size_t n, struct chr_store_names **out,
                                          struct chr_store_dirstat *stat, enum chr_err *err)
{
    if (out == NULL || stat == NULL || err == NULL || n == 0 || n > CHR_STORE_GET_MANY_MAX)
        return CHR_EINVAL;
    for (size_t i = 0; i < n; i++) {
        out[i] = NULL;
        stat[i] = (struct chr_store_dirstat){-1, -1};
        err[i] = CHR_ENONE;
    }
    if (s == NULL || paths == NULL || s->be->on_own_thread(s))
        return CHR_EINVAL;
    for (size_t i = 0; i < n; i++)
        if (paths[i] == NULL || !chr_store_path_valid(paths[i]))
            return CHR_EINVAL;
    enum chr_err e = CHR_OK;
    if (s->be->children_many != NULL)
        e = s->be->children_many(s, paths, n, out, stat, err);
    else
        for (size_t i = 0; i < n; i++)
            err[i] = s->be->children(s, paths[i], &out[i], &stat[i]);
    if (e != CHR_OK) {
        for (size_t k = 0; k < n; k++) {
            chr_store_names_free(out[k]);
            out[k] = NULL;
        }
        return e;
    }
    return listings_end(out, err, n);
}

enum chr_err chr_store_state(struct chr_store *s)
{
    return s == NULL ? CHR_EINVAL : s->be->state(s);
}

void chr_store_health(struct chr_store *s, struct chr_store_health *out)
{
    memset(out, 0, sizeof *out);
    if (s == NULL)
        return;
    if (s->be->health != NULL) {
        s->be->health(s, out);
        return;
    }
    out->ok = s->be->state(s) == CHR_OK;
    if (!out->ok)
        snprintf(out->cause, sizeof out->cause, "the %s store failed", s->be->name);
}

enum chr_err chr_store_resume(struct chr_store *s)
{
    if (s == NULL)
        return CHR_EINVAL;
    return s->be->resume != NULL ? s->be->resume(s) : CHR_EUNAVAIL;
}

void chr_store_stats(struct chr_store *s, struct chr_store_stats *out)
{
    memset(out, 0, sizeof *out);
    if (s != NULL)
        s->be->stats(s, out);
}

#ifdef CHR_TESTING
void chr_store_fault_inject(struct chr_store *s, enum chr_store_fault kind, long nth, long count)
{
    if (s != NULL && s->be->fault != NULL)
        s->be->fault(s, kind, nth, count);
}
#endif
