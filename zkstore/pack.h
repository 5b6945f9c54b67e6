/*
 * pack.h - a pack: one node holding a copy of every node of a shard, so a
 * new leader reads 256 packs instead of two nodes per job (issue 6: startup
 * with 100,000 jobs in ZooKeeper, whose server spends ~50 us of CPU on every
 * single read, in <= 5 s).
 *
 * A pack of shard S copies, for each name N of the shard, the primary node
 * (<root>/jobs/S/N) and its companion (<root>/state/S/N, which may be absent)
 * with the version each had when its bytes were taken.  A pack is never
 * trusted blindly: a reader takes an entry only after ZooKeeper confirms, in
 * one atomic multi of CHECK ops, that both nodes still have those versions
 * (so a node set behind chronos's back is read again), and only when the
 * shard's directories saw no create or delete that chronos did not count
 * (`ext_a`, `ext_b`: a directory's cversion minus its data version, which
 * chronos bumps by one in the same multi as each child it creates or
 * deletes), so a node deleted and created again behind its back cannot pass
 * for the old one.  zkstore/packs.c keeps packs current; this file is the
 * byte format alone: pure, bounded, and strict about what it accepts.
 *
 * Format (text header lines, raw bytes for the data):
 *   "chronos-pack 1 <shard, 2 hex> <ext_a> <ext_b> <n>\n"
 *   n times: "<name> <ver_a> <len_a> <ver_b> <len_b>\n" <len_a bytes> <len_b bytes> "\n"
 *   "crc32c <8 hex>\n"   (CRC-32C of everything before this line)
 * Names are encoded components (chr_store_name_encode) of the pack's shard,
 * strictly ascending; ver_a >= 0; ver_b = -1 (absent, len_b 0) or >= 0.
 *
 * A shard too big for one node (a million jobs make ~4,000 per shard, ~2.4
 * MB) is packed in parts: `parts` nodes of at most CHR_STORE_NODE_MAX, each a
 * pack of a run of the shard's names (part 0 the first), all of one build
 * (`gen`).  A part has the header
 *   "chronos-pack 2 <shard> <ext_a> <ext_b> <n> <part> <parts> <gen>\n"
 * with 0 <= part < parts, 2 <= parts <= CHR_PACK_PARTS_MAX, gen >= 0, and the
 * same entries and trailer.  A pack of one part is written in format 1, so
 * what fits one node reads as before (and by older servers); format 1 decodes
 * as part 0 of 1, gen 0.
 */
#ifndef CHR_ZKSTORE_PACK_H
#define CHR_ZKSTORE_PACK_H

#include <stddef.h>
#include <stdint.h>

#include "common/err.h"

struct chr_pack_entry {
    const char *name;    /* encoded component, NUL-terminated */
    int32_t ver_a;       /* the primary node's version */
    const char *a;       /* its bytes (not NUL-terminated) */
    size_t len_a;
    int32_t ver_b;       /* the companion's version, -1 when it is absent */
    const char *b;
    size_t len_b;
};

struct chr_pack {
    unsigned shard;
    int64_t ext_a, ext_b; /* cversion - version of the two directories */
    size_t n;
    struct chr_pack_entry *e; /* sorted by name */
    char *buf;                /* decode: the owned copy the entries point into */
    unsigned part, parts;     /* this part and how many (0 or 1 parts: format 1) */
    int64_t gen;              /* the build the parts belong to (format 1: 0) */
};

/*
 * Encodes p->n entries (sorted, valid: CHR_EINVAL otherwise; parts 0 or 1
 * write format 1, more format 2, and then part < parts <= CHR_PACK_PARTS_MAX) into a new
 * buffer *out of *len bytes (the caller's: chr_free).  CHR_ERANGE when the
 * pack would pass `max` bytes; CHR_ENOMEM.
 */
enum chr_err chr_pack_encode(const struct chr_pack *p, size_t max, char **out, size_t *len);

/* The bytes one entry adds to an encoded pack. */
size_t chr_pack_entry_size(const struct chr_pack_entry *e);

/*
 * Decodes `len` bytes (copied: `buf` may be freed after) as a pack of shard
 * `shard` into *out (free with chr_pack_free).  Anything malformed, torn,
 * out of bounds, unsorted, of another shard or with a wrong checksum is
 * CHR_EINVAL with a message in err naming what; CHR_ENOMEM.
 */
enum chr_err chr_pack_decode(const void *buf, size_t len, unsigned shard, struct chr_pack *out,
                             struct chr_error *err);

/* The entry of `name`, or NULL (binary search). */
const struct chr_pack_entry *chr_pack_find(const struct chr_pack *p, const char *name);

/* Frees what decode allocated and empties *p.  NULL is allowed. */
void chr_pack_free(struct chr_pack *p);

#endif
