/*
 * store.h - the persistence layer of chronos: a ZooKeeper-shaped tree of
 * nodes ("znodes": a path, data bytes, a version) changed by atomic multi-op
 * batches that complete asynchronously, once durable.
 *
 * Two backends share this interface and its semantics, which are
 * ZooKeeper's wherever ZooKeeper defines them (zoo_amulti, zoo_get,
 * zoo_get_children): the local directory (chr_store_open_local: one machine,
 * no ZooKeeper, a write-ahead log with group commit, nothing acknowledged
 * before it is fsync'd) and, later, ZooKeeper itself.  Nothing above this
 * header knows which one it talks to.
 *
 * The tree: "/" always exists.  A node is created under an existing parent
 * and deleted only when it has no children.  Its version is 0 at creation and
 * grows by one on every set (wrapping from INT32_MAX to 0; -1 is never a
 * version, it means "any" in an expectation).
 *
 * Threads: every function may be called from any thread.  Completions
 * (chr_store_done_fn) run on a thread the store owns (the local backend's
 * commit thread; the ZooKeeper client's completion thread), one at a time,
 * in submission order.  A completion may call chr_store_submit, _get,
 * _children, _state and _stats; it must not block for long and must not call
 * the waiting functions (_submit_wait, _mkdirs, _flush, _checkpoint, _close),
 * which answer CHR_EINVAL there instead of deadlocking.  No call may race with
 * chr_store_close.
 *
 * Paths and names: a path is "/" or "/"-separated components of 1 to
 * CHR_STORE_NAME_MAX printable ASCII bytes (0x21-0x7e, no '/'), never "." or
 * "..", shorter than CHR_STORE_PATH_MAX, not under "/zookeeper".  Arbitrary
 * names (job names, run ids: any bytes) become components through
 * chr_store_name_encode, and the shard helpers build the layout of
 * design.md "Store layout".
 */
#ifndef CHR_STORE_H
#define CHR_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/err.h"
#include "common/limits.h"

struct chr_store;

/* ---- Operations and completions ----------------------------------------- */

enum chr_store_op_type {
    /* A new node holding data, version 0.  CHR_ECONFLICT if it exists,
     * CHR_ENOENT if its parent does not, CHR_ERANGE past CHR_STORE_NODES_MAX. */
    CHR_STORE_CREATE = 1,
    /* Replaces a node's data; the version must equal `version` unless that is
     * -1 (else CHR_ECONFLICT); CHR_ENOENT if absent.  Version + 1. */
    CHR_STORE_SET = 2,
    /* Removes a node; version as for SET; CHR_ECONFLICT when it has children
     * (ZooKeeper's ZNOTEMPTY), CHR_ENOENT if absent. */
    CHR_STORE_DELETE = 3,
    /* Changes nothing: the node must exist (CHR_ENOENT) and, unless `version`
     * is -1, have that version (CHR_ECONFLICT).  An epoch guard: a deposed
     * leader's batch fails whole. */
    CHR_STORE_CHECK = 4,
};

/* One op of a batch.  Everything is copied by chr_store_submit: the caller's
 * buffers may be reused as soon as it returns. */
struct chr_store_op {
    enum chr_store_op_type type;
    const char *path;  /* a valid path, not "/" for CREATE and DELETE */
    const void *data;  /* CREATE, SET: len bytes (NULL allowed when len is 0) */
    size_t len;        /* <= CHR_STORE_NODE_MAX */
    int32_t version;   /* SET, DELETE, CHECK: expected version or -1 (any) */
};

/* What became of one op.  When the batch succeeded: err is CHR_OK and
 * version is the node's version after the op (CREATE 0, SET the new one,
 * CHECK the current one, DELETE -1).  When an op failed (result CHR_ECONFLICT,
 * CHR_ENOENT, CHR_ERANGE): ops before it say CHR_OK (they would have applied,
 * like ZooKeeper's 0), the first failing op says why, ops after it say
 * CHR_ENONE (not evaluated: ZooKeeper's ZRUNTIMEINCONSISTENCY); version is -1
 * throughout.  When the whole batch failed for a reason of no single op
 * (CHR_EIO, CHR_ENOMEM), every op carries that result. */
struct chr_store_result {
    enum chr_err err;
    int32_t version;
};

/*
 * Called once per accepted batch, on the store's thread, in submission order:
 *   CHR_OK        the batch is durable (local: fdatasync'd; ZooKeeper: committed
 *                 by a quorum) and visible to reads;
 *   CHR_ECONFLICT, CHR_ENOENT, CHR_ERANGE   an op failed: nothing changed;
 *   CHR_ENOMEM    nothing changed;
 *   CHR_EIO       the outcome is unknown (local: a log write or fsync failed
 *                 and the store has failed, see chr_store_state; ZooKeeper:
 *                 the connection was lost mid-request), like ZooKeeper's
 *                 ZCONNECTIONLOSS: re-read before deciding anything.
 * `results` has n_ops entries and is valid only during the call.
 */
typedef void chr_store_done_fn(void *ctx, enum chr_err result,
                               const struct chr_store_result *results, size_t n_ops);

/* ---- Lifecycle ----------------------------------------------------------- */

/* Local-backend tuning; zero fields (or a NULL config) take the defaults. */
struct chr_store_config {
    /* Snapshot and start a new log past this many log bytes (default
     * CHR_STORE_CHECKPOINT_BYTES; tests make it small). */
    uint64_t checkpoint_bytes;
    /* Most queued batches (default and maximum CHR_STORE_QUEUE_MAX). */
    size_t queue_max;
};

/*
 * Opens (creating it, but not its parent, when missing) the store kept in
 * directory `dir`, loading its snapshot and replaying its log.  The rules for
 * what is read (local_wal.c and local_snap.c say them in full): a torn tail
 * of the newest log (a final write a crash interrupted, never fsync'd, so
 * never acknowledged) is cut off; any other damage (a record that fails its
 * checksum with valid records after it or no sign of a torn write, a damaged
 * snapshot, damage in an older log, a gap in the seqs) refuses the open and
 * changes nothing on disk but LOCK, which records the pid of the process
 * that opens the store.  The directory is locked: a second open of it, by
 * this process or another, answers CHR_EUNAVAIL until the first closes.
 *
 * Returns CHR_OK and *out (then err, when not NULL, holds an empty message or
 * a note for the log: "DIR/wal.X: cut a torn tail of N bytes at offset O
 * ..."); or, with err naming the file, offset or path and what is wrong:
 * CHR_EDAMAGED (damage: `chronos store check` and `chronos store recover`
 * are the way out), CHR_EUNAVAIL (locked: the message names the holder's
 * pid), CHR_EIO (an I/O call failed), CHR_ENOMEM, CHR_EINVAL (bad argument).
 * err may be NULL.  Starts two threads.
 */
enum chr_err chr_store_open_local(const char *dir, const struct chr_store_config *cfg,
                                  struct chr_store **out, struct chr_error *err);

/* Completes every submitted batch (their callbacks fire), stops the store's
 * threads and frees it.  NULL is allowed. */
void chr_store_close(struct chr_store *s);
/* The same for a process about to exit: everything is durable and closed as
 * by chr_store_close, but the local tree (two nodes a job: freeing a million
 * jobs' nodes one by one took ~15 s of a SIGTERM) is left to the exit.  The
 * test builds (CHR_TESTING: the sanitizer builds, whose leak check must see
 * every allocation freed) free it all. */
void chr_store_close_exit(struct chr_store *s);

/* ---- Writes -------------------------------------------------------------- */

/*
 * Queues an atomic batch of n_ops ops (1..CHR_STORE_BATCH_OPS_MAX, at most
 * CHR_STORE_BATCH_BYTES_MAX in all): either every op applies or none does.
 * Ops see the effects of the ops before them in the same batch.  Returns
 * CHR_OK, after which `done` (may be NULL) is called exactly once as
 * described at chr_store_done_fn.  Any other return means the batch was not
 * queued and `done` will never be called for it: CHR_EINVAL (bad path, type
 * or version), CHR_ERANGE (too many ops or bytes), CHR_ENOMEM, CHR_EUNAVAIL
 * (queue full, or closing: retry after a completion; submit never blocks),
 * CHR_EIO (the store has failed: see chr_store_state).
 */
enum chr_err chr_store_submit(struct chr_store *s, const struct chr_store_op *ops,
                              size_t n_ops, chr_store_done_fn *done, void *ctx);

/* chr_store_submit, then waits for the completion and returns its result;
 * `results` (may be NULL) receives n_ops entries. */
enum chr_err chr_store_submit_wait(struct chr_store *s, const struct chr_store_op *ops,
                                   size_t n_ops, struct chr_store_result *results);

/* Creates `path` and each missing ancestor with empty data, as separate
 * creates; nodes that exist (or appear meanwhile) are fine.  CHR_OK when the
 * path exists at the end, else the first error. */
enum chr_err chr_store_mkdirs(struct chr_store *s, const char *path);

/* Waits until every batch submitted before the call has completed.  CHR_OK,
 * or CHR_EIO when the store has failed. */
enum chr_err chr_store_flush(struct chr_store *s);
/* The same, waiting at most timeout_ms (>= 0): CHR_EUNAVAIL when batches
 * are still in flight then (nothing is undone: they complete later).  For a
 * thread that must never block without a deadline. */
enum chr_err chr_store_flush_within(struct chr_store *s, int64_t timeout_ms);

/* Local backend: writes a snapshot now and drops the log it covers, waiting
 * until it is durable (CHR_OK) or failed (CHR_EIO: the log still holds
 * everything).  Other backends: CHR_OK at once. */
enum chr_err chr_store_checkpoint(struct chr_store *s);

/* ---- Reads (of durable state only: what completions have reported) ----- */

/*
 * The node at `path`: its version into *version (may be NULL) and, when data
 * is not NULL, a copy of its bytes into *data, owned by the caller (chr_free),
 * with *len bytes plus a NUL after them that len does not count.  CHR_OK,
 * CHR_ENOENT, CHR_EINVAL (bad path), CHR_ENOMEM.
 */
enum chr_err chr_store_get(struct chr_store *s, const char *path, void **data, size_t *len,
                           int32_t *version);

/* One answer of chr_store_get_many. */
struct chr_store_got {
    enum chr_err err;  /* CHR_OK, CHR_ENOENT, CHR_ENOMEM, CHR_EIO */
    void *data;        /* CHR_OK: the bytes (plus a NUL), the caller's (chr_free) */
    size_t len;
    int32_t version;
};
/*
 * Reads n nodes (1..CHR_STORE_GET_MANY_MAX) as chr_store_get would, into
 * out[i] for paths[i]; a backend with round trips (ZooKeeper) pipelines
 * them, so loading a large tree costs throughput, not n latencies.  Returns
 * CHR_OK when every path was answered (each with its own err), else
 * CHR_EINVAL (a bad path or n) or CHR_EIO, with every out[i] empty.  Not on
 * the completion thread (CHR_EINVAL there).
 */
#define CHR_STORE_GET_MANY_MAX 4096
enum chr_err chr_store_get_many(struct chr_store *s, const char *const *paths, size_t n,
                                struct chr_store_got *out);
/*
 * A hint: the caller has read what it loads at start (a server, its jobs
 * and runs).  The local store then lets go of the snapshot's mapping it
 * kept for those reads (its nodes' data stays in the file, read back with
 * pread when asked for: zkstore/local_cold.c), which leaves the process's
 * memory.  Nothing else changes; later reads are served as before.  Any
 * thread; NULL allowed.
 */
void chr_store_loaded(struct chr_store *s);

/* Frees the data of n answers and empties them. */
void chr_store_got_free(struct chr_store_got *got, size_t n);

/* The names (last components, still encoded) of a node's children, sorted
 * bytewise. */
struct chr_store_names {
    size_t n;
    char **names;
};

/* Lists the children of `path` into *out (free with chr_store_names_free).
 * CHR_OK, CHR_ENOENT, CHR_EINVAL, CHR_ERANGE (more than
 * CHR_STORE_CHILDREN_MAX: shard the directory), CHR_ENOMEM. */
enum chr_err chr_store_children(struct chr_store *s, const char *path,
                                struct chr_store_names **out);

/* A directory node's counters, read with its children in one request. */
struct chr_store_dirstat {
    int32_t version;  /* the node's data version */
    /* ZooKeeper's cversion: grows by one on every create and delete of a
     * child; -1 when the backend keeps none (the local directory). */
    int32_t cversion;
};
/* chr_store_children, plus the node's counters as of the same instant. */
enum chr_err chr_store_children_stat(struct chr_store *s, const char *path,
                                     struct chr_store_names **out,
                                     struct chr_store_dirstat *stat);
void chr_store_names_free(struct chr_store_names *names);
/* chr_store_children_stat of n directories (1..CHR_STORE_GET_MANY_MAX) at
 * once, into out[i], stat[i] and err[i] (CHR_OK, CHR_ENOENT, CHR_ERANGE,
 * ...) for paths[i]; a backend with round trips (ZooKeeper) pipelines them,
 * as chr_store_get_many does its reads.  Returns CHR_OK when every path was
 * answered (each with its own err), else CHR_EINVAL (a bad path or n),
 * CHR_ENOMEM or CHR_EIO, with every out[i] NULL.  Not on the completion
 * thread (CHR_EINVAL there). */
enum chr_err chr_store_children_stat_many(struct chr_store *s, const char *const *paths,
                                          size_t n, struct chr_store_names **out,
                                          struct chr_store_dirstat *stat, enum chr_err *err);

/* CHR_OK while the store accepts writes; CHR_EIO once a log write or fsync
 * has failed.  The policy then: the batches of the failed commit and all
 * later ones complete with CHR_EIO, submit answers CHR_EIO, reads keep
 * serving the last durable state (nothing of a failed batch is ever
 * applied), until chr_store_resume succeeds or the store is closed and
 * reopened (which replays what is on disk, the one truth).  Nothing
 * pretends. */
enum chr_err chr_store_state(struct chr_store *s);

/* Why writes fail, if they do. */
struct chr_store_health {
    bool ok;    /* writes go through */
    /* A failure after which what was acknowledged may not be on disk (a
     * failed fsync: the kernel may have dropped the pages): only a restart
     * that re-reads the store is safe.  chr_store_resume refuses. */
    bool fatal;
    char cause[CHR_ERROR_MESSAGE_MAX]; /* names the file, offset and error; "" when ok */
};
void chr_store_health(struct chr_store *s, struct chr_store_health *out);

/*
 * After a failure that is not fatal (a full disk, a write refused): checks
 * that writes can succeed again (a probe file is written and synced where
 * the store is) and, if so, accepts writes again, from the last durable
 * state.  Returns CHR_OK (also when nothing had failed), or the error that
 * persists (chr_store_health says why; CHR_EIO when fatal).  Whatever the
 * caller derived from batches that failed must be rebuilt from the store.
 * The ZooKeeper backend answers CHR_EUNAVAIL: a new session is the way.
 */
enum chr_err chr_store_resume(struct chr_store *s);

struct chr_store_stats {
    uint64_t nodes;          /* including "/" */
    uint64_t data_bytes;     /* sum of node data */
    uint64_t seq;            /* durable log records (write batches) so far */
    uint64_t batches;        /* completed batches, any result, since open */
    uint64_t syncs;          /* log fdatasyncs since open (group commits) */
    uint64_t log_bytes;      /* bytes of the current log file */
    uint64_t checkpoints;    /* snapshots written since open */
    uint64_t checkpoint_failures;
    bool checkpoint_running; /* a snapshot is being written now */
    uint64_t torn_bytes;     /* cut off the log's end at open (a crash's torn tail) */
};
void chr_store_stats(struct chr_store *s, struct chr_store_stats *out);

/* ---- The local backend's files: check and recover -------------------------- */

/* What reading one file of a local store found. */
enum chr_store_file_state {
    CHR_STORE_FILE_OK = 0,  /* read whole; part of the store's history */
    CHR_STORE_FILE_STALE,   /* a log wholly covered by the snapshot: dropped at the next open */
    CHR_STORE_FILE_TORN,    /* the newest log, ending in a torn write the next open cuts */
    CHR_STORE_FILE_DAMAGED, /* damaged at bad_offset (a log that starts past a gap: at 0) */
    CHR_STORE_FILE_AFTER,   /* a log whose records come after the damage: replay cannot reach them */
};

struct chr_store_file_report {
    char name[32];               /* "snap" or "wal.<16 hex digits>" */
    enum chr_store_file_state state;
    uint64_t bytes;
    /* A log: its records that pass every check, from the start, and their
     * seqs (first_seq = the seq in its name; last_seq = first_seq - 1 when
     * none).  The snapshot: its nodes, and the seq it holds the state as of
     * in both seqs. */
    uint64_t records, first_seq, last_seq;
    uint64_t bad_offset;         /* TORN, DAMAGED: where the torn or damaged bytes start */
    uint64_t after_records;      /* a DAMAGED log: records with valid checksums after the damage */
    char what[192];              /* TORN, DAMAGED: what is wrong at bad_offset */
    char aside[64];              /* recover: the name the file was moved to ("" when it stayed) */
};

struct chr_store_report {
    size_t n;
    struct chr_store_file_report *files; /* the snapshot first, then the logs by seq */
    bool damaged;        /* some file is DAMAGED: an open refuses */
    bool torn;           /* the newest log ends in a torn write (an open cuts it) */
    uint64_t snap_seq;   /* the seq of an intact snapshot, 0 when none */
    /* The history that is intact: records 1..kept_seq (those up to the
     * snapshot's seq as its state), what an open loads when nothing is
     * damaged and what recover keeps. */
    uint64_t kept_seq;
    uint64_t seen_seq;   /* the highest seq of any record read, past the damage too */
    uint64_t nodes;      /* nodes of the intact history's tree, "/" included */
    long holder_pid;     /* check: a process holds the store's lock (its pid, -1 unknown); 0 none */
};

/*
 * Reads every file of the local store in `dir` as an open would, changing
 * nothing and taking no lock (a running server is noted in holder_pid; what
 * it writes meanwhile may show as a torn tail).  Returns CHR_OK with *out
 * (chr_store_report_free), whether the store is healthy or damaged; else
 * CHR_ENOENT (no directory), CHR_EIO (unreadable: err names the path),
 * CHR_ENOMEM.
 */
enum chr_err chr_store_check_local(const char *dir, struct chr_store_report **out,
                                   struct chr_error *err);

/*
 * Makes a damaged local store open again, keeping its intact history: the
 * log records before the first damage (and the snapshot, unless it is the
 * damage).  Every file holding damage or records after it is moved aside to
 * "<name>.damaged-<stamp>" (the file with the damage) or
 * "<name>.after-damage-<stamp>", never deleted; a log whose records before
 * the damage are kept is replaced by a copy of them.  Then the store is
 * opened as usual, once.  `stamp` is [0-9A-Za-z-], 1-24 bytes (the CLI
 * passes the UTC time, 20250101T120000Z).  Refuses while another process
 * holds the store (CHR_EUNAVAIL, naming its pid).  Returns CHR_OK with *out
 * saying what was found and moved (nothing when the store was healthy);
 * CHR_ECONFLICT when a set-aside name exists (run it again a second later);
 * CHR_EIO, CHR_ENOMEM, CHR_EINVAL, each with err naming the path.
 */
enum chr_err chr_store_recover_local(const char *dir, const char *stamp,
                                     struct chr_store_report **out, struct chr_error *err);

void chr_store_report_free(struct chr_store_report *r);

/* ---- Paths, names, shards (pure) ----------------------------------------- */

/* Two hex digits of shard: "<root>/<kind>/<shard>/<name>". */
#define CHR_STORE_SHARDS 256

/* The kinds of nodes under the root, each sharded: <root>/<kind>/<xx>/<name>. */
#define CHR_KIND_JOBS "jobs"
#define CHR_KIND_STATE "state"
#define CHR_KIND_RUNS "runs"

/* True when `path` is a valid path (see the top of this file). */
bool chr_store_path_valid(const char *path);

/*
 * Encodes `len` bytes of `name` (any bytes, NUL included) as one path
 * component: bytes of [A-Za-z0-9_-] and '.' after the first byte stay, every
 * other byte (and a leading '.') becomes %XX with upper-case hex.  So "." and
 * ".." become "%2E" and "%2E.", "/" and NUL cannot survive, and a valid job
 * name stays readable ("nightly.backup-2").  The encoding is injective and
 * canonical (chr_store_name_decode accepts only its output).  Returns CHR_OK,
 * CHR_EINVAL (len 0), CHR_ERANGE (longer than CHR_STORE_NAME_MAX encoded);
 * `out` is always NUL-terminated ("" on failure).
 */
enum chr_err chr_store_name_encode(const void *name, size_t len,
                                   char out[CHR_STORE_NAME_MAX + 1]);

/* The bytes that `comp` encodes, into out[0..out_size), their count into
 * *out_len.  CHR_EINVAL when comp is not exactly what chr_store_name_encode
 * produces; CHR_ERANGE when out is too small (CHR_STORE_NAME_MAX always
 * suffices). */
enum chr_err chr_store_name_decode(const char *comp, void *out, size_t out_size,
                                   size_t *out_len);

/* The shard (0..CHR_STORE_SHARDS-1) of a name's bytes: FNV-1a 32 of the raw
 * (unencoded) bytes, folded to 8 bits.  Part of the stored layout: never
 * change it. */
unsigned chr_store_shard(const void *name, size_t len);

/*
 * Writes "<root>/<kind>/<shard as %02x>/<encoded name>" into out.  root is a
 * valid path of fewer than CHR_STORE_ROOT_MAX bytes ("/" allowed), kind one
 * component ("jobs", "state", "runs", "ledger").  CHR_OK, CHR_EINVAL (bad
 * root, kind or empty name), CHR_ERANGE (too long); out is "" on failure.
 */
enum chr_err chr_store_shard_path(char out[CHR_STORE_PATH_MAX], const char *root,
                                  const char *kind, const void *name, size_t len);

/* Marks in have[] the shards whose directories ("00".."ff") a listing of
 * "<root>/<kind>" names; other names are ignored. */
void chr_store_shards_listed(const struct chr_store_names *names, bool have[CHR_STORE_SHARDS]);

/* chr_store_shard_path(out, root, "jobs", name, strlen(name)). */
enum chr_err chr_store_job_path(char out[CHR_STORE_PATH_MAX], const char *root,
                                const char *name);

/* ---- Fault injection (test builds only) ---------------------------------- */

#ifdef CHR_TESTING
enum chr_store_fault {
    CHR_STORE_FAULT_WRITE = 0, /* a write of the log or a snapshot: half of it is written */
    CHR_STORE_FAULT_SYNC = 1,  /* an fsync/fdatasync of a file or a directory */
    CHR_STORE_FAULT_SLOW = 2,  /* an fsync/fdatasync that takes 200 ms more, then works */
};
/* Counting from this call, makes calls nth .. nth+count-1 (1-based) of that
 * kind fail with EIO (or, SLOW, take longer); count < 0: every call from nth
 * on; nth <= 0: off.
 * Other backends may ignore it. */
void chr_store_fault_inject(struct chr_store *s, enum chr_store_fault kind, long nth,
                            long count);
#endif

#endif
