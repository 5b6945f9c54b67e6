/*
 * local_int.h - the local-directory backend's private types, shared by its
 * files (local*.c).
 *
 * The directory holds:
 *   LOCK                 flock()ed while open: one process at a time; holds
 *                        the pid of the process that opened the store
 *   snap                 the checkpoint: every node as of log record `seq`
 *   snap.tmp             a checkpoint being written (ignored and removed)
 *   wal.<16 hex digits>  the write-ahead log, named by its first record's seq
 *   *.damaged-<stamp>, *.after-damage-<stamp>
 *                        files `chronos store recover` set aside (never read)
 * The truth is snap + every log record after its seq, in order.  Reading it
 * (local_check.c) tells a crash's torn tail from damage: local_wal.c and
 * local_snap.c state the rules.
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

/*
 * A node's immutable state.  Its data is either inline after the path or,
 * for a node read from the snapshot at open and not changed since, "cold":
 * left in that snapshot file (struct lcold, local_cold.c) at cold_off,
 * with the CRC-32C of the bytes as they were verified at open, so that a
 * server holding a million idle jobs does not keep a second copy of their
 * definitions in memory.  Only lcold_read gives a cold blob's bytes.
 */
struct lblob {
    atomic_uint refs;
    int32_t version;
    uint32_t data_len;
    uint16_t path_len;  /* < CHR_STORE_PATH_MAX */
    uint16_t cold_hi;   /* cold_hi:cold_lo, 48 bits: 0 inline, else the data's */
    uint32_t cold_lo;   /* offset in the index's cold file */
    uint32_t cold_crc;  /* cold: the CRC-32C of the data_len bytes there */
    char bytes[];       /* path, NUL, then (inline) data, NUL */
};
/* 24 bytes: a cold blob of a job's path (~31 bytes) is a 64-byte chunk. */
_Static_assert(sizeof(struct lblob) == 24, "a blob's header grew");
_Static_assert(CHR_STORE_PATH_MAX <= UINT16_MAX, "path_len is 16 bits");

static inline uint64_t lblob_cold_off(const struct lblob *b)
{
    return (uint64_t)b->cold_hi << 32 | b->cold_lo;
}

static inline const char *lblob_path(const struct lblob *b)
{
    return b->bytes;
}

static inline bool lblob_cold(const struct lblob *b)
{
    return b->cold_hi != 0 || b->cold_lo != 0;
}

/* Inline data only (CHR_ASSERTed): lcold_read reads either kind. */
static inline const char *lblob_data(const struct lblob *b)
{
    CHR_ASSERT(!lblob_cold(b));
    return b->bytes + b->path_len + 1;
}

/* Two a job: 56 bytes (a 64-byte chunk), the path's hash kept in 32 bits
 * (the low bits of chr_str_hash: tables stay below 2^32 slots). */
struct lnode {
    struct lnode *hnext;                        /* hash chain */
    struct lnode *parent, *child, *prev, *next; /* tree: first child, siblings */
    struct lblob *blob;
    uint32_t hash;
    uint32_t n_children;
};
#if UINTPTR_MAX == UINT64_MAX
_Static_assert(sizeof(struct lnode) <= 56, "a node grew past a 64-byte chunk");
#endif

/*
 * The snapshot file an open read, kept open for the index's cold blobs
 * (local_cold.c).  Until lcold_cool, its mapping of that open is kept too
 * ("warm": the server's load reads every node once, right after the open);
 * after, reads go through pread, a window for sequential ones (the
 * checkpoint).  Each read checks the bytes against the blob's CRC: a byte
 * changed on disk since the open is an error naming the node, never data.
 * Replacing `snap` (a checkpoint renames over it) does not disturb it: the
 * descriptor keeps the old file until the last cold blob is gone with the
 * index, so at most one old snapshot's space stays in use.
 */
struct lcold;

struct lindex {
    struct lcold *cold; /* NULL: every blob is inline */
    struct lnode **slots;
    size_t mask; /* slots - 1, a power of two minus one */
    size_t n_nodes;
    uint64_t data_bytes;
    struct lnode *root;
    struct lnode *last_parent; /* of the last create (a hint; NULL when removed) */
    uint64_t rehashes; /* tables rebuilt (each touches every node): tests */
};

/* A blob with one reference; NULL on allocation failure. */
struct lblob *lblob_new(const char *path, size_t path_len, const void *data, size_t data_len,
                        int32_t version);
/* A cold blob: its data_len bytes are at off (0 < off < 2^48) in the
 * index's cold file, their CRC-32C crc. */
struct lblob *lblob_new_cold(const char *path, size_t path_len, uint64_t off, size_t data_len,
                             uint32_t crc, int32_t version);

/* ---- Cold data (local_cold.c) -------------------------------------------- */

/* Takes the mapping (map, len: the whole file from offset 0) and the
 * descriptor of a snapshot read at open; on failure (CHR_ENOMEM) takes
 * nothing. */
enum chr_err lcold_create(int fd, const void *map, size_t len, struct lcold **out);
void lcold_free(struct lcold *c); /* unmaps, closes; NULL allowed */
/* Ends the warm period: unmaps (the pages leave the process's RSS). */
void lcold_cool(struct lcold *c);
/*
 * Copies b's data_len bytes into dst (inline or cold; c may be NULL when
 * b is inline).  `seq`: one of a run of reads in file order (a window of
 * 1 MiB is read at a time).  CHR_OK; CHR_EDAMAGED when the bytes read do not
 * match the CRC taken at open, or the file is shorter than at open (why
 * says which, and where); CHR_EIO when the read failed; CHR_ENOMEM.
 * Thread-safe.
 */
enum chr_err lcold_read(struct lcold *c, const struct lblob *b, void *dst, bool seq,
                        char why[160]);
/* The end of a run of sequential reads: the window's bytes and memory go
 * (a later run reads the file again). */
void lcold_seq_end(struct lcold *c);
/* Windows read so far (tests). */
uint64_t lcold_window_fills(struct lcold *c);
void lblob_ref(struct lblob *b);
void lblob_unref(struct lblob *b); /* frees at zero; NULL allowed */

enum chr_err lindex_init(struct lindex *ix);
void lindex_free(struct lindex *ix);
struct lnode *lindex_find(const struct lindex *ix, const char *path, size_t len, uint64_t hash);
/* Sizes the hash table for n nodes at once (a snapshot's count), so that a
 * load does not rehash every node at each doubling; best effort. */
void lindex_reserve(struct lindex *ix, size_t n);

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
    atomic_long calls[3], nth[3], count[3]; /* by enum chr_store_fault */
};

/* Writes all n bytes at offset off: CHR_OK or CHR_EIO. */
enum chr_err lio_pwrite(struct lfaults *f, int fd, const void *buf, size_t n, uint64_t off);
/* fdatasync (data_only) or fsync: CHR_OK or CHR_EIO. */
enum chr_err lio_sync(struct lfaults *f, int fd, bool data_only);

/* ---- The store ------------------------------------------------------------ */

struct ck_job {
    struct lblob **blobs;
    size_t n;
    struct lcold *cold; /* the index's, for its cold blobs (it outlives the job) */
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

/* Room for what is wrong in a file ("a record that fails its checksum ..."). */
#define LWHAT_MAX 160

/* ---- The log (local_wal.c) ------------------------------------------------ */

enum chr_err lwal_create(struct local_store *st, uint64_t first);
void lwal_remove_upto(struct local_store *st, uint64_t seq);
size_t lwal_encode(unsigned char *out, const struct lbatch *b);
size_t lwal_record_size(const struct lbatch *b);
/* "wal.<16 hex digits>" of the file whose first record is `first`. */
void lwal_name(char out[24], uint64_t first);
/* The first seqs of every log file in the directory, sorted, into *out
 * (chr_free).  CHR_EIO, CHR_ENOMEM. */
enum chr_err lwal_list(int dir_fd, uint64_t **out, size_t *n);

/* One op of a log record, pointing into the record's bytes. */
struct lwal_op {
    int type;              /* CHR_STORE_CREATE, _SET or _DELETE */
    int32_t version;       /* the node's version after it: 0 (CREATE), -1 (DELETE) */
    const char *path;      /* plen bytes, no NUL */
    uint32_t plen;
    const unsigned char *data; /* dlen bytes (0 for DELETE) */
    uint32_t dlen;
};

/* Encodes n ops as the record `seq` into out (lwal_ops_size bytes). */
size_t lwal_encode_ops(unsigned char *out, uint64_t seq, const struct lwal_op *ops, size_t n);
size_t lwal_ops_size(const struct lwal_op *ops, size_t n);

/* A record that passed every check: framing, checksum, well-formed ops. */
struct lwal_rec {
    uint64_t seq;
    uint32_t n_ops;
    const unsigned char *payload; /* the ops */
    size_t payload_len;
    size_t size;                  /* header + payload */
};

/* The record at buf[off..len) when it passes every check. */
bool lwal_record_at(const unsigned char *buf, size_t len, size_t off, struct lwal_rec *rec);
/* The next op of a checked record's payload (*p, *n advance). */
void lwal_op_next(const unsigned char **p, size_t *n, struct lwal_op *op);

enum lwal_end {
    LWAL_END_CLEAN = 0, /* the valid records fill the file */
    LWAL_END_TORN,      /* then what a crash during an unsynced write leaves */
    LWAL_END_DAMAGED,   /* then damage */
};

/* What lwal_scan found in one log file's bytes. */
struct lwal_scan {
    uint64_t records;   /* valid records from offset 0, seqs first_seq.. */
    uint64_t last_seq;  /* the last one's seq (first_seq - 1 when none) */
    uint64_t valid_end; /* the offset after it: the torn or damaged bytes start here */
    enum lwal_end end;
    uint64_t after_records;           /* DAMAGED: records with valid checksums found after */
    uint64_t after_off;               /* the first of them */
    uint64_t after_first_seq, after_last_seq;
    char what[LWHAT_MAX];             /* TORN, DAMAGED: what is at valid_end */
};

/* Reads a log file's bytes (pure: no I/O, no allocation) by the rules at the
 * top of local_wal.c. */
void lwal_scan(const unsigned char *buf, size_t len, uint64_t first_seq, struct lwal_scan *out);

/* Applies the records of buf[0..end) (scanned valid) whose seq is past
 * *seq, in order, advancing *seq.  CHR_OK; CHR_EDAMAGED when a record does
 * not fit the tree (its offset into *bad_off, why into `why`); CHR_ENOMEM. */
enum chr_err lwal_replay(struct lindex *ix, const unsigned char *buf, size_t end, uint64_t *seq,
                         uint64_t *bad_off, char why[LWHAT_MAX]);

/* ---- The snapshot (local_snap.c) -------------------------------------------- */

void *lsnap_main(void *arg);
void ck_job_free(struct ck_job *job);

/*
 * Loads a snapshot's bytes (pure: memory only) into ix, which holds only "/":
 * checks the header, every node's framing and path and the checksum before
 * it changes anything, then adds the nodes.  CHR_OK with *seq and *nodes;
 * CHR_EDAMAGED with *bad_off and why (ix may then hold some nodes: discard
 * it); CHR_ENOMEM.
 */
enum chr_err lsnap_load_buf(struct lindex *ix, const unsigned char *buf, size_t len, bool cold,
                            uint64_t *seq, uint64_t *nodes, uint64_t *bad_off,
                            char why[LWHAT_MAX]);

/* The bytes of the snapshot of a capture, as the checkpoint writes them, in
 * a chr_malloc'd buffer (tests and fuzzing).  CHR_ENOMEM. */
enum chr_err lsnap_encode(const struct ck_job *job, unsigned char **out, size_t *len);

/* ---- Reading a whole store directory (local_check.c) ------------------------ */

/* A file's bytes, read-only: mapped (open and recover hold the lock, so
 * nothing changes them) or copied (check reads beside a running server,
 * which may cut a file it has mapped). */
struct lfile {
    const unsigned char *p;
    size_t len;
    int fd;    /* a mapped file's descriptor (-1: none): lcold takes both */
    void *map;
    unsigned char *copy;
};
/* CHR_OK, CHR_ENOENT, CHR_EIO (errno kept), CHR_ENOMEM. */
enum chr_err lfile_read(int dir_fd, const char *name, bool copy, struct lfile *f);
void lfile_done(struct lfile *f);

/* What reading every file of a store found, and what an open does about it. */
struct lplan {
    struct chr_store_report rep;
    int damage;           /* the first DAMAGED file (rep.files index), -1: none */
    int stop;             /* the file where replay stopped (its damage), -1: it read everything */
    uint64_t keep_bytes;  /* in `stop`: the bytes before the damage */
    int current;          /* the newest log when it ends at rep.kept_seq (appended to), else -1 */
    uint64_t current_end; /* its valid length: a torn tail after it is cut */
};

/*
 * Reads the store in dir_fd into ix (holding only "/") as the truth is
 * defined: the snapshot, then every log record after it, stopping at the
 * first damage.  Changes nothing on disk.  `dir` is for messages only.
 * CHR_OK with *plan filled (free with lplan_free) whether or not it found
 * damage; CHR_EIO (err names the path), CHR_ENOMEM.
 */
enum chr_err lcheck_read(int dir_fd, const char *dir, bool copy, struct lindex *ix,
                         struct lplan *plan, struct chr_error *err);
void lplan_free(struct lplan *plan);
/* Fills err with the plan's first damage: "DIR/FILE: what at offset; the
 * history through record K is intact".  Returns CHR_EDAMAGED. */
enum chr_err lplan_damage_error(const struct lplan *plan, const char *dir, struct chr_error *err);

/* The pid in a LOCK file (fd), -1 when it holds none. */
long llock_holder(int lock_fd);
/* Writes this process's pid into the LOCK file it holds (best effort). */
void llock_note(int lock_fd);
/* The store is locked by another: CHR_EUNAVAIL, err naming DIR/LOCK and the
 * holder's pid. */
enum chr_err llock_busy(int lock_fd, const char *dir, struct chr_error *err);

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

#endif
