/*
 * strmap.h - a map from strings to 64-bit values: open addressing with
 * linear probing and backward-shift deletion, keys copied and owned.  The
 * one string hash of chronos (FNV-1a, 64 bits) lives here too.
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
/* Frees every key and the slots; the map is empty (and usable) after. */
void chr_strmap_free(struct chr_strmap *m);

#endif
