/*
 * packs_int.h - what packs.c (bookkeeping, packer) and packs_load.c (the load
 * through packs) share; nobody else includes it.
 */
#ifndef CHR_ZKSTORE_PACKS_INT_H
#define CHR_ZKSTORE_PACKS_INT_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "common/strmap.h"
#include "zkstore/pack.h"
#include "zkstore/packs.h"

/* "jobs" and "state": kind 0 and 1 of a job's nodes. */
extern const char *const packs_kinds[2];

/* The bytes of one node as chronos last wrote (or read) them. */
struct comp {
    bool known;
    int32_t ver;
    char *bytes;
    size_t len;
};

/* What is held for one name of a shard. */
struct hent {
    struct comp c[2];
    uint64_t seq; /* the completion that last touched it */
};

struct shard {
    struct chr_strmap held; /* encoded name -> struct hent * (chr_malloc'd) */
    size_t held_bytes;
    bool full;       /* the pack in the store cannot be built upon */
    int32_t pack_ver; /* the pack node's version as last seen; -1 unknown */
    /* The directories' "external" counts (cversion - version) when what is
     * held was known true: held bytes are trusted only while they stay so,
     * since a node deleted and made again by someone else starts over at the
     * version chronos holds bytes for. */
    int64_t ext_known[2];
    bool ext_set;
    size_t pack_bytes;
    int64_t first_ms, last_ms, built_ms;
};

struct chr_packs {
    struct chr_packs_config cfg;
    char root[CHR_STORE_ROOT_MAX];
    char fence[CHR_STORE_PATH_MAX];
    pthread_mutex_t mu;
    pthread_cond_t cond;
    pthread_mutex_t build_mu; /* one build at a time (the packer, a flush) */
    struct shard sh[CHR_STORE_SHARDS];
    size_t held_bytes;
    uint64_t seq;
    bool stopping, started;
    bool dead; /* the store failed: nothing more is written */
    pthread_t thread;
};

/* "<root>/packs/<shard>" and "<root>/<kind>/<shard>". */
void packs_pack_path(char out[CHR_STORE_PATH_MAX], const struct chr_packs *p, unsigned s);
/* Part `part` of shard s's pack: "<root>/packs/<shard>" for part 0,
 * "<root>/packs/<shard>.<part>" for the others (pack.h). */
void packs_part_path(char out[CHR_STORE_PATH_MAX], const struct chr_packs *p, unsigned s,
                     unsigned part);

/* A shard's pack with all its parts, as one sorted run of entries. */
struct packset {
    struct chr_pack *part; /* the parts decoded, part 0 first */
    unsigned n;
    size_t bytes;          /* of every part read */
    struct chr_pack all;   /* every part's entries in name order (all.buf NULL: they
                              point into the parts); all.n 0 when unusable */
};
/*
 * Decodes part 0 (its bytes `b0`, `len0`) of shard s's pack and reads and
 * decodes the others it names.  CHR_OK: usable (every part of shard s, of
 * one gen, with part 0's ext counts, names ascending across parts).
 * CHR_EINVAL with err saying why: not usable (read node by node).
 * CHR_ENOMEM, or the store's error for the reads.  Free with packs_set_free
 * whatever it returns.
 */
enum chr_err packs_set_read(struct chr_packs *p, unsigned s, const void *b0, size_t len0,
                            struct packset *ps, struct chr_error *err);
void packs_set_free(struct packset *ps);
void packs_dir_path(char out[CHR_STORE_PATH_MAX], const struct chr_packs *p, int kind, unsigned s);
/* Whether `name` is in a sorted listing (NULL: an empty one). */
bool packs_listed(const struct chr_store_names *names, const char *name);
/* Under p->mu: holds a copy of the bytes of one node of shard s for the
 * packer.  False on no memory (the shard is then packed from reads). */
bool packs_hold(struct chr_packs *p, unsigned s, const char *name, int kind, int32_t ver,
                const void *bytes, size_t len);
/* The packer thread (chr_packs_load starts it). */
void *packs_packer_main(void *arg);

#endif
