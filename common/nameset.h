/*
 * nameset.h - a set of short strings (job names) held compactly: the names
 * packed one after another in one growing buffer, and an open-addressing
 * table (linear probing, backward-shift deletion) of 8-byte slots, an offset
 * into that buffer and the name's hash.  A million 12-byte names take ~30 MB
 * here against ~95 MB in a chr_strmap (a 24-byte entry at half load and a
 * malloc'd copy of each key).  Deleting leaves the name's bytes behind; they
 * are reclaimed by compacting the buffer when they outweigh the live names.
 *
 * A zeroed struct chr_nameset is an empty set.  Not thread-safe: its owner
 * serialises access.  Names are NUL-terminated and at most
 * CHR_NAMESET_NAME_MAX bytes.
 */
#ifndef CHR_COMMON_NAMESET_H
#define CHR_COMMON_NAMESET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/err.h"

/* A name's length at most (a job name is at most 200 bytes). */
#define CHR_NAMESET_NAME_MAX 4096

struct chr_nameset_slot {
    uint32_t off1; /* offset of the name in bytes + 1; 0: empty */
    uint32_t hash;
};

struct chr_nameset {
    struct chr_nameset_slot *slot;
    size_t cap, len;        /* cap: 0 or a power of two; the table stays <= 3/4 full */
    char *bytes;            /* the names, each NUL-terminated */
    size_t used, dead, room; /* bytes written, of them deleted names', allocated */
};

bool chr_nameset_has(const struct chr_nameset *s, const char *name);
/* Adds `name` (copied; not a name the set holds: its bytes may move);
 * CHR_OK when it was there already.  CHR_ENOMEM leaves the set as it was;
 * CHR_EINVAL for a name too long. */
enum chr_err chr_nameset_add(struct chr_nameset *s, const char *name);
/* Removes `name`; false when it was not there.  Never fails (a compaction
 * that cannot allocate is put off). */
bool chr_nameset_del(struct chr_nameset *s, const char *name);
/* Frees everything; the set is empty (and usable) after. */
void chr_nameset_free(struct chr_nameset *s);

#endif
