/*
 * strmap.c - the string map of strmap.h.  The table stays at most half full,
 * so a probe is short; deleting shifts the entries of its cluster back, so
 * there are no tombstones to sweep.
 */
#include "common/strmap.h"

#include <string.h>

#include "common/alloc.h"

#define FNV_OFFSET 14695981039346656037ULL
#define FNV_PRIME 1099511628211ULL

uint64_t chr_str_hash(const char *s, size_t n)
{
    uint64_t h = FNV_OFFSET;
    for (size_t i = 0; i < n; i++)
        h = (h ^ (unsigned char)s[i]) * FNV_PRIME;
    return h;
}

uint32_t chr_str_hash32(const char *s, size_t n)
{
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < n; i++)
        h = (h ^ (unsigned char)s[i]) * 16777619u;
    return h;
}

/* The slot of key, or the empty slot where it would go. */
static size_t find(const struct chr_strmap *m, const char *key, uint64_t hash)
{
    size_t mask = m->cap - 1, i = (size_t)hash & mask;
    while (m->v[i].key != NULL && (m->v[i].hash != hash || strcmp(m->v[i].key, key) != 0))
        i = (i + 1) & mask;
    return i;
}

bool chr_strmap_get(const struct chr_strmap *m, const char *key, uint64_t *val)
{
    if (m->cap == 0)
        return false;
    const struct chr_strmap_ent *e = &m->v[find(m, key, chr_str_hash(key, strlen(key)))];
    if (e->key == NULL)
        return false;
    if (val != NULL)
        *val = e->val;
    return true;
}

static enum chr_err grow(struct chr_strmap *m)
{
    size_t cap = m->cap ? m->cap * 2 : 64, bytes;
    if (chr_mul_overflows(cap, sizeof *m->v, &bytes))
        return CHR_ENOMEM;
    struct chr_strmap bigger = {chr_calloc(cap, sizeof *m->v), cap, m->len};
    if (bigger.v == NULL)
        return CHR_ENOMEM;
    for (size_t i = 0; i < m->cap; i++)
        if (m->v[i].key != NULL)
            bigger.v[find(&bigger, m->v[i].key, m->v[i].hash)] = m->v[i];
    chr_free(m->v);
    *m = bigger;
    return CHR_OK;
}

enum chr_err chr_strmap_put(struct chr_strmap *m, const char *key, uint64_t val)
{
    size_t n = strlen(key);
    uint64_t hash = chr_str_hash(key, n);
    if (m->cap > 0) {
        struct chr_strmap_ent *e = &m->v[find(m, key, hash)];
        if (e->key != NULL) {
            e->val = val;
            return CHR_OK;
        }
    }
    if ((m->len + 1) * 2 > m->cap && grow(m) != CHR_OK)
        return CHR_ENOMEM;
    char *copy = chr_strndup(key, n);
    if (copy == NULL)
        return CHR_ENOMEM;
    m->v[find(m, key, hash)] = (struct chr_strmap_ent){copy, hash, val};
    m->len++;
    return CHR_OK;
}

/* Removes the entry in slot i (which holds one). */
static void del_at(struct chr_strmap *m, size_t i)
{
    size_t mask = m->cap - 1;
    chr_free(m->v[i].key);
    m->len--;
    /* Backward shift: move up every later entry of the cluster whose home
     * slot is not between the hole and it. */
    for (size_t j = (i + 1) & mask; m->v[j].key != NULL; j = (j + 1) & mask) {
        size_t home = (size_t)m->v[j].hash & mask;
        bool stays = i <= j ? (home > i && home <= j) : (home > i || home <= j);
        if (stays)
            continue;
        m->v[i] = m->v[j];
        i = j;
    }
    m->v[i] = (struct chr_strmap_ent){NULL, 0, 0};
}

bool chr_strmap_del(struct chr_strmap *m, const char *key)
{
    if (m->cap == 0)
        return false;
    size_t i = find(m, key, chr_str_hash(key, strlen(key)));
    if (m->v[i].key == NULL)
        return false;
    del_at(m, i);
    return true;
}

bool chr_strmap_next(const struct chr_strmap *m, size_t *pos, const char **key, uint64_t *val)
{
    for (size_t i = *pos; i < m->cap; i++) {
        if (m->v[i].key == NULL)
            continue;
        if (key != NULL)
            *key = m->v[i].key;
        if (val != NULL)
            *val = m->v[i].val;
        *pos = i + 1;
        return true;
    }
    *pos = m->cap;
    return false;
}

size_t chr_strmap_filter(struct chr_strmap *m, chr_strmap_keep_fn *keep, void *ctx)
{
    if (m->len == 0)
        return 0;
    /* Start just after an empty slot (at most half are full): no cluster
     * then wraps past the start, so a removal only shifts entries not yet
     * visited back into its hole, which is looked at again. */
    size_t mask = m->cap - 1, start = 0, removed = 0;
    while (m->v[start].key != NULL)
        start++;
    for (size_t k = 1; k < m->cap; k++) {
        size_t i = (start + k) & mask;
        while (m->v[i].key != NULL && !keep(m->v[i].key, &m->v[i].val, ctx)) {
            del_at(m, i);
            removed++;
        }
    }
    return removed;
}

void chr_strmap_free(struct chr_strmap *m)
{
    for (size_t i = 0; i < m->cap; i++)
        chr_free(m->v[i].key);
    chr_free(m->v);
    *m = (struct chr_strmap){NULL, 0, 0};
}
