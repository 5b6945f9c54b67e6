/*
 * strmap.h - a map from strings to 64-bit values (a number, or a pointer
 * through uintptr_t): open addressing with linear probing and backward-shift
 * deletion, keys copied and owned.  The string hashes of chronos (FNV-1a,
 * 64 and 32 bits) live here too: every table, in memory or on disk, hashes
 * names with these two.
 *
 * A zeroed struct chr_strmap is an empty map.  Not thread-safe: its owner
 * serialises access.  Iteration order is the slot order (not insertion):
 * callers that need a stable order sort.
 */
#ifndef CHR_COMMON_STRMAP_H
#define CHR_COMMON_STRMAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/err.h"

/* FNV-1a of n bytes of s (64 bits; offset basis 14695981039346656037). */
uint64_t chr_str_hash(const char *s, size_t n);
/* FNV-1a of n bytes of s (32 bits; offset basis 2166136261): for compact
 * tables, and the store's shards, whose layout on disk depends on it. */
uint32_t chr_str_hash32(const char *s, size_t n);

struct chr_strmap_ent {
    char *key;     /* NULL: empty slot */
    uint64_t hash;
    uint64_t val;
};

struct chr_strmap {
    struct chr_strmap_ent *v;
    size_t cap, len; /* cap: 0 or a power of two */
};

/* True and *val (may be NULL) when key is in the map. */
bool chr_strmap_get(const struct chr_strmap *m, const char *key, uint64_t *val);
/* Inserts key (copied) with val, or replaces the value of key.  CHR_ENOMEM
 * leaves the map as it was. */
enum chr_err chr_strmap_put(struct chr_strmap *m, const char *key, uint64_t val);
/* Removes key; false when it was not there. */
bool chr_strmap_del(struct chr_strmap *m, const char *key);
/* Iteration: the entry at or after *pos (start at 0): true with its key
 * (the map's copy) and value (either may be NULL), *pos moved past it;
 * false at the end.  The map must not change meanwhile (chr_strmap_filter
 * removes while it goes). */
bool chr_strmap_next(const struct chr_strmap *m, size_t *pos, const char **key, uint64_t *val);
/* Calls keep once for every entry, in slot order, and removes those for
 * which it returns false; keep may change *val.  Never allocates; returns
 * how many were removed.  keep must not touch the map. */
typedef bool chr_strmap_keep_fn(const char *key, uint64_t *val, void *ctx);
size_t chr_strmap_filter(struct chr_strmap *m, chr_strmap_keep_fn *keep, void *ctx);
/* Frees every key and the slots; the map is empty (and usable) after. */
void chr_strmap_free(struct chr_strmap *m);

#endif
