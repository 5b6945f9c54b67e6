/*
 * store_int.h - what the files of zkstore/ share and nobody else sees: the
 * backend table behind struct chr_store, the checksum and the hash.
 *
 * A backend embeds struct chr_store first in its own struct; store.c
 * validates every argument before calling it, so backends see only valid
 * paths, types, versions and sizes.  Nothing here does I/O or keeps state.
 */
#ifndef CHR_STORE_INT_H
#define CHR_STORE_INT_H

#include <stdio.h>
#include <stdlib.h>

#include "common/assert.h"
#include "common/strmap.h"
#include "zkstore/store.h"

struct chr_store_backend {
    const char *name;
    enum chr_err (*submit)(struct chr_store *s, const struct chr_store_op *ops, size_t n,
                           size_t bytes, chr_store_done_fn *done, void *ctx);
    enum chr_err (*get)(struct chr_store *s, const char *path, void **data, size_t *len,
                        int32_t *version);
    /* stat may be NULL. */
    enum chr_err (*children)(struct chr_store *s, const char *path,
                             struct chr_store_names **out, struct chr_store_dirstat *stat);
    /* Waits for every batch submitted before; timeout_ms < 0: no limit. */
    enum chr_err (*flush)(struct chr_store *s, int64_t timeout_ms);
    enum chr_err (*checkpoint)(struct chr_store *s);
    enum chr_err (*state)(struct chr_store *s);
    /* Optional (NULL: from state, with a generic cause). */
    void (*health)(struct chr_store *s, struct chr_store_health *out);
    enum chr_err (*resume)(struct chr_store *s);
    void (*stats)(struct chr_store *s, struct chr_store_stats *out);
    /* True on the thread that runs completions: waiting there deadlocks. */
    bool (*on_own_thread)(struct chr_store *s);
    void (*close)(struct chr_store *s);
    /* Optional: the caller has read what it loads at start (chr_store_loaded). */
    void (*loaded)(struct chr_store *s);
    /* Optional: pipelined reads (paths valid, n checked); NULL: one get each. */
    enum chr_err (*get_many)(struct chr_store *s, const char *const *paths, size_t n,
                             struct chr_store_got *out);
    /* Optional: pipelined listings (as get_many); NULL: one children each. */
    enum chr_err (*children_many)(struct chr_store *s, const char *const *paths, size_t n,
                                  struct chr_store_names **out, struct chr_store_dirstat *stat,
                                  enum chr_err *err);
#ifdef CHR_TESTING
    void (*fault)(struct chr_store *s, enum chr_store_fault kind, long nth, long count);
#endif
};

struct chr_store {
    const struct chr_store_backend *be;
    /* Set by chr_store_close_exit: what only memory holds (the local tree) is
     * left to the process's exit, not freed node by node. */
    bool exiting;
};

/* Framing bytes counted per op in a batch's size (the log's op header). */
#define CHR_STORE_OP_OVERHEAD 16

/* The size a batch counts against CHR_STORE_BATCH_BYTES_MAX: per op, its
 * framing, path and data. */
size_t chr_store_batch_bytes(const struct chr_store_op *ops, size_t n);

/* CRC-32C (Castagnoli), continuing from `crc` (0 to start). */
uint32_t chr_crc32c(uint32_t crc, const void *buf, size_t len);

/* The in-memory index hashes paths with chr_str_hash (common/strmap.h). */

/* Length of the parent of a valid path of length len > 1 ("/a" -> 1 for
 * "/", "/a/b" -> 2 for "/a"). */
size_t chr_store_parent_len(const char *path, size_t len);

#endif
