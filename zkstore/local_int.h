/*
 * local_int.h - the local-directory backend's private types, shared by its
 * files (local*.c).
 *
 * The directory holds:
 *   LOCK                 flock()ed while open: one process at a time
 *   snap                 the checkpoint: every node as of log record `seq`
 *   snap.tmp             a checkpoint being written (ignored and removed)
 *   wal.<16 hex digits>  the write-ahead log, named by its first record's seq
 * The truth is snap + every log record after its seq, in order.
 *
 * Memory: every node lives in an in-memory index (as in ZooKeeper's
 * DataTree): a hash of path -> node, tree links for listings, and an
 * immutable, reference-counted blob per node holding path, data and version.
 * A set swaps in a new blob, so a checkpoint can hold on to the blobs it
 * captured while commits go on.
 *
 * Threads: the commit thread is the only writer of the index and of the log;
 * it takes ix_lock for writing only while applying a durable group.  Readers
 * take ix_lock for reading.  The checkpoint thread writes snapshots from
 * captured blobs and touches nothing else.  `mu` guards the queue, counters,
 * flags and the checkpoint hand-over.
 */
#ifndef CHR_LOCAL_INT_H
#define CHR_LOCAL_INT_H

#include <pthread.h>
#include <stdatomic.h>

#include "zkstore/store_int.h"

/* ---- Index (local_index.c) ---------------------------------------------- */

struct lblob {
    atomic_uint refs;
    int32_t version;
    uint32_t path_len;
    uint32_t data_len;
    char bytes[]; /* path, NUL, data, NUL */
};

static inline const char *lblob_path(const struct lblob *b)
{
    return b->bytes;
}

static inline const char *lblob_data(const struct lblob *b)
{
    return b->bytes + b->path_len + 1;
}

struct lnode {
    struct lnode *hnext;                        /* hash chain */
    struct lnode *parent, *child, *prev, *next; /* tree: first child, siblings */
    struct lblob *blob;
    uint64_t hash;
    uint32_t n_children;
};

struct lindex {
    struct lnode **slots;
    size_t mask; /* slots - 1, a power of two minus one */
    size_t n_nodes;
    uint64_t data_bytes;
    struct lnode *root;
};

/* A blob with one reference; NULL on allocation failure. */
struct lblob *lblob_new(const char *path, size_t path_len, const void *data, size_t data_len,
                        int32_t version);
void lblob_ref(struct lblob *b);
void lblob_unref(struct lblob *b); /* frees at zero; NULL allowed */

enum chr_err lindex_init(struct lindex *ix);
void lindex_free(struct lindex *ix);
struct lnode *lindex_find(const struct lindex *ix, const char *path, size_t len, uint64_t hash);

/*
 * Applies one effect: CREATE (blob and spare node: the new node; *spare is
 * taken), SET (blob: the new state), DELETE (blob: only its path is read).
 * Takes the blob reference for CREATE and SET when it returns CHR_OK.
 * CHR_EIO when the effect does not fit the tree (exists / parent missing /
 * absent / has children): corrupt input in replay, a bug in commit.
 */
enum chr_err lindex_apply(struct lindex *ix, int type, struct lblob *blob,
                          struct lnode **spare);

/* References to every node's blob in pre-order (parents first) into
 * *out (chr_free the array, lblob_unref each).  CHR_ENOMEM. */
enum chr_err lindex_capture(const struct lindex *ix, struct lblob ***out, size_t *n);

/* ---- Batches and the queue (local.c) ------------------------------------ */

struct lop {
    int type;
    int32_t expect;      /* expected version, -1 any */
    struct lblob *blob;  /* path (and data, the new state for CREATE/SET) */
    struct lnode *spare; /* CREATE: the node to insert, allocated at submit */
    uint64_t hash;       /* of the path */
};

struct lbatch {
    struct lbatch *next;
    chr_store_done_fn *done;
    void *ctx;
    size_t n_ops;
    size_t bytes;     /* as counted by chr_store_batch_bytes */
    enum chr_err result;
    bool writes;      /* has a CREATE, SET or DELETE */
    uint64_t seq;     /* its log record, when it succeeds and writes */
    struct chr_store_result *results;
    struct lop ops[];
};

void lbatch_free(struct lbatch *b);

/* ---- I/O with fault injection (local_io.c) ------------------------------- */

struct lfaults {
    atomic_long calls[2], nth[2], count[2];
};

/* Writes all n bytes at offset off: CHR_OK or CHR_EIO. */
enum chr_err lio_pwrite(struct lfaults *f, int fd, const void *buf, size_t n, uint64_t off);
/* fdatasync (data_only) or fsync: CHR_OK or CHR_EIO. */
enum chr_err lio_sync(struct lfaults *f, int fd, bool data_only);

/* ---- The store ------------------------------------------------------------ */

struct ck_job {
    struct lblob **blobs;
    size_t n;
    uint64_t seq;    /* the capture is the tree as of this record */
    uint64_t covers; /* the checkpoint requests (ck_req) it answers */
};

struct local_store {
    struct chr_store base;
    int dir_fd, lock_fd, wal_fd;
    uint64_t checkpoint_bytes;
    size_t queue_max;

    /* Commit thread only (and open/close, before and after it runs). */
    uint64_t wal_first; /* first seq of the current log file */
    uint64_t wal_size;  /* its valid, durable length */
    uint64_t seq;       /* last durable record */
    unsigned char *wbuf;
    size_t wbuf_cap;

    struct lindex ix;
    pthread_rwlock_t ix_lock;
    uint64_t pub_seq, pub_log_bytes; /* seq and wal_size for stats, under ix_lock */

    pthread_mutex_t mu;
    pthread_cond_t work_cond; /* commit thread: work or a request */
    pthread_cond_t done_cond; /* waiters: completions, checkpoints */
    pthread_cond_t ck_cond;   /* checkpoint thread: a job or stop */
    struct lbatch *q_head, *q_tail;
    size_t q_len, q_bytes;
    uint64_t submitted, completed;
    bool closing, ck_stop, ck_running;
    enum chr_err failed; /* CHR_OK or CHR_EIO; back to CHR_OK only by a resume */
    /* Why it failed (under mu, set with `failed`): chr_store_health. */
    char fail_cause[CHR_ERROR_MESSAGE_MAX];
    bool fail_fatal;
    uint64_t resume_req, resume_done; /* chr_store_resume, done on the commit thread */
    enum chr_err resume_result;
    char name[128];                   /* the directory as opened, for messages */
    uint64_t ck_req, ck_started, ck_done;
    enum chr_err ck_result;
    struct ck_job *ck_job;
    struct chr_store_stats st;
    pthread_t commit_thr, ck_thr;
    bool commit_started, ck_started_thr;

    struct lfaults faults;
};

/* local_commit.c */
void *lcommit_main(void *arg);
/* Fails the store (under mu: takes it) with a cause, printf-style. */
void lstore_fail(struct local_store *st, bool fatal, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* local_snap.c */
void *lsnap_main(void *arg);
enum chr_err lsnap_load(struct local_store *st, uint64_t *seq);
void ck_job_free(struct ck_job *job);
/* local_wal.c */
enum chr_err lwal_recover(struct local_store *st, uint64_t snap_seq);
enum chr_err lwal_create(struct local_store *st, uint64_t first);
void lwal_remove_upto(struct local_store *st, uint64_t seq);
size_t lwal_encode(unsigned char *out, const struct lbatch *b);
size_t lwal_record_size(const struct lbatch *b);

/* Little-endian field codecs for the files. */
static inline void put32(unsigned char *p, uint32_t v)
{
    p[0] = (unsigned char)v;
    p[1] = (unsigned char)(v >> 8);
    p[2] = (unsigned char)(v >> 16);
    p[3] = (unsigned char)(v >> 24);
}

static inline void put64(unsigned char *p, uint64_t v)
{
    put32(p, (uint32_t)v);
    put32(p + 4, (uint32_t)(v >> 32));
}

static inline uint32_t get32(const unsigned char *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static inline uint64_t get64(const unsigned char *p)
{
    return (uint64_t)get32(p) | (uint64_t)get32(p + 4) << 32;
}

/* A buffered sequential reader (local_wal.c), for the log and the snapshot. */
struct lreader {
    int fd;
    unsigned char *buf;
    size_t cap, start, end;
    uint64_t off; /* file offset of buf[start] */
    bool eof;
};
enum chr_err lreader_init(struct lreader *r, int fd);
void lreader_free(struct lreader *r);
/* Makes n bytes available at the returned pointer (consumed with
 * lreader_skip); NULL at end of file before n bytes (or on a read error:
 * *err says which). */
const unsigned char *lreader_peek(struct lreader *r, size_t n, enum chr_err *err);
void lreader_skip(struct lreader *r, size_t n);

#endif
