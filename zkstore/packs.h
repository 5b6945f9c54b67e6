/*
 * packs.h - keeping packs (zkstore/pack.h) of the jobs and their states, and
 * loading through them: how a leader with 100,000 jobs in ZooKeeper starts
 * in seconds, not in 200,000 single reads.
 *
 * Layout (ZooKeeper mode): <root>/packs/<shard> holds the pack of shard
 * <shard>: a copy of every <root>/jobs/<shard>/<name> and
 * <root>/state/<shard>/<name> with the versions the copies were taken at.
 * The data versions of <root>/jobs/<shard> and <root>/state/<shard> count
 * the children chronos created or deleted there: every batch that creates or
 * deletes a child also sets its directory once per such op (chr_packs_note),
 * in the same multi, so a directory's cversion minus its version changes only
 * when someone else adds or removes a node.  A batch that deletes a job also
 * empties its shard's pack, so a job deleted and created again under its old
 * name cannot pass for the old one.
 *
 * Loading (chr_packs_load): per shard, the pack, both listings and their
 * counters.  A pack is usable when it decodes and its recorded "external"
 * counts equal the directories' current ones; its entries are then confirmed
 * by ZooKeeper itself, in multis of CHECK ops, to still have the versions
 * they were copied at.  Everything else (no pack, a torn or foreign one, a
 * node created, set or deleted behind chronos's back) is read node by node,
 * so a load gives exactly what a node-by-node read would.
 *
 * Keeping (the packer thread): the bytes of every node write that completed
 * are held per shard until the shard's pack is written again, so a new pack
 * is the old one plus what chronos itself wrote, without reading anything
 * back; nodes it cannot vouch for are read.  A shard is packed again when its
 * pack is unusable, when what is held reaches a share of the pack (once
 * writes to it pause, or at least every PACK_MAX_AGE), and on a graceful stop.
 * Writes are CAS on the pack's version and fenced like every leader batch.
 *
 * Threads: chr_packs_note and chr_packs_done may be called from any thread
 * (the loop's and the store's completion thread); the packer runs its own.
 */
#ifndef CHR_ZKSTORE_PACKS_H
#define CHR_ZKSTORE_PACKS_H

#include <stdbool.h>
#include <stdint.h>

#include "common/err.h"
#include "zkstore/store.h"

struct chr_packs;

struct chr_packs_config {
    struct chr_store *store; /* borrowed */
    const char *root;        /* copied */
    const char *fence_path;  /* copied; NULL: no fence */
    bool verbose;            /* log lines on stderr */
    size_t part_max;         /* bytes of a pack's part (0: CHR_STORE_NODE_MAX; tests
                                make it small to pack a few jobs in parts) */
};

/* How long a graceful stop may spend packing what is held. */
#define CHR_PACKS_FLUSH_MS 5000

enum chr_err chr_packs_create(const struct chr_packs_config *cfg, struct chr_packs **out);
/* Stops the packer (after packing what is held, for at most `flush_ms`; 0:
 * nothing) and frees everything.  NULL is allowed. */
void chr_packs_destroy(struct chr_packs *p, int flush_ms);

/* Packs now every shard with anything held or an unusable pack, for at most
 * `ms`; returns how many were packed.  (A graceful stop does this.) */
size_t chr_packs_flush(struct chr_packs *p, int ms);

/* The nodes of the tree packs need, created when missing (one batch). */
enum chr_err chr_packs_make_dirs(struct chr_packs *p, struct chr_error *err);

/* Called once per job found: `path` its node's path, def and state as
 * chr_store_get would answer them (state->err CHR_ENOENT: no state node).
 * The data is valid only during the call. */
typedef enum chr_err chr_packs_job_fn(void *ctx, const char *path, struct chr_store_got *def,
                                      struct chr_store_got *state);

struct chr_packs_load_stats {
    size_t from_packs;     /* jobs taken from packs, versions confirmed */
    size_t read;           /* jobs read node by node */
    size_t stale;          /* pack entries whose nodes had changed */
    unsigned bad_shards;   /* shards whose pack was missing, damaged or outdated */
};

/* Loads every job through the packs, calling fn for each; stops at the first
 * error fn or the store returns.  Then starts the packer. */
enum chr_err chr_packs_load(struct chr_packs *p, chr_packs_job_fn *fn, void *ctx,
                            struct chr_packs_load_stats *stats, struct chr_error *err);

/* ---- Batches ------------------------------------------------------------------ */

/* What one batch wrote to jobs/ and state/, for chr_packs_done. */
struct chr_packs_batch;

/*
 * Called while a batch is being built, for each op on <root>/jobs or
 * <root>/state: `kind` 0 for jobs, 1 for state; `name` the job's name (raw);
 * `type` the op; `data`/`len` what a CREATE or SET writes (copied); `at`
 * the op's index in the batch.  Appends to `ops` what must go with it (the
 * directory's SET after a CREATE or DELETE; the pack's emptying after a
 * job's DELETE) and advances *n_ops; room for CHR_PACKS_EXTRA_OPS is needed.
 * *b is created on first use.  CHR_ENOMEM, CHR_ERANGE (no room).
 */
#define CHR_PACKS_EXTRA_OPS 2
enum chr_err chr_packs_note(struct chr_packs *p, struct chr_packs_batch **b, int kind,
                            const char *name, enum chr_store_op_type type, const char *data,
                            size_t len, size_t at, struct chr_store_op *ops,
                            char (*paths)[CHR_STORE_PATH_MAX], size_t *n_ops, size_t max_ops);
/* The batch's outcome (any thread): what completed is held for the packs.
 * Frees b.  NULL b is allowed. */
void chr_packs_done(struct chr_packs *p, struct chr_packs_batch *b, enum chr_err result,
                    const struct chr_store_result *results, size_t n);
/* A batch that was never submitted. */
void chr_packs_batch_free(struct chr_packs_batch *b);

#endif
