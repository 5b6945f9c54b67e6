/*
 * core_map.c - the core's two indexes: jobs by name (open addressing with
 * linear probing and backward-shift deletion, 8 bytes a slot, load <= 1/2)
 * and active runs by id (chained, for task status updates).
 *
 * Lookups are O(1) expected.  Nothing iterates these tables to make a
 * decision, so their order never leaks into behaviour (registration order and
 * sequence numbers do that).  No I/O, no clock; allocation only in the
 * *_reserve functions.
 *
 * Why not common/strmap: these are intrusive (the job and the run hold
 * their hash and, for runs, the chain link; the key is the job's own name),
 * so a slot is one pointer where strmap's is 24 bytes plus a copy of every
 * name, on the core's hot path with a million jobs; and an insert never
 * allocates, so a step reserves room first and then cannot fail halfway,
 * while strmap_put may fail on its key copy.  The hash is common's
 * (chr_str_hash32): no copy of FNV here.
 */
#include "scheduler/core_int.h"

#include <string.h>

#include "common/strmap.h"

uint32_t core_hash(const char *s)
{
    return chr_str_hash32(s, strlen(s));
}

/* ---- Jobs ----------------------------------------------------------------- */

static void jobmap_place(struct core_job **slots, size_t cap, struct core_job *job)
{
    size_t i = job->hash & (cap - 1);
    while (slots[i] != NULL)
        i = (i + 1) & (cap - 1);
    slots[i] = job;
}

enum chr_err core_jobmap_reserve(struct core_jobmap *m, size_t extra)
{
    if ((m->n + extra) * 2 <= m->cap)
        return CHR_OK;
    size_t cap = m->cap < 16 ? 16 : m->cap;
    while ((m->n + extra) * 2 > cap)
        cap *= 2;
    struct core_job **slots = chr_calloc(cap, sizeof *slots);
    if (slots == NULL)
        return CHR_ENOMEM;
    for (size_t i = 0; i < m->cap; i++)
        if (m->slots[i] != NULL)
            jobmap_place(slots, cap, m->slots[i]);
    chr_free(m->slots);
    m->slots = slots;
    m->cap = cap;
    return CHR_OK;
}

struct core_job *core_jobmap_find(const struct core_jobmap *m, const char *name, uint32_t hash)
{
    if (m->cap == 0)
        return NULL;
    for (size_t i = hash & (m->cap - 1);; i = (i + 1) & (m->cap - 1)) {
        struct core_job *j = m->slots[i];
        if (j == NULL)
            return NULL;
        if (j->hash == hash && strcmp(j->def->name, name) == 0)
            return j;
    }
}

void core_jobmap_insert(struct core_jobmap *m, struct core_job *job)
{
    CHR_ASSERT((m->n + 1) * 2 <= m->cap);
    jobmap_place(m->slots, m->cap, job);
    m->n++;
}

void core_jobmap_remove(struct core_jobmap *m, struct core_job *job)
{
    size_t mask = m->cap - 1, i = job->hash & mask;
    while (m->slots[i] != job) {
        CHR_ASSERT(m->slots[i] != NULL);
        i = (i + 1) & mask;
    }
    /* Backward shift: pull later entries of the probe run into the hole. */
    size_t hole = i;
    for (size_t k = (hole + 1) & mask; m->slots[k] != NULL; k = (k + 1) & mask) {
        size_t home = m->slots[k]->hash & mask;
        bool movable = (k > hole) ? (home <= hole || home > k) : (home <= hole && home > k);
        if (movable) {
            m->slots[hole] = m->slots[k];
            hole = k;
        }
    }
    m->slots[hole] = NULL;
    m->n--;
}

void core_jobmap_free(struct core_jobmap *m)
{
    chr_free(m->slots);
    memset(m, 0, sizeof *m);
}

/* ---- Runs ----------------------------------------------------------------- */

enum chr_err core_runmap_reserve(struct core_runmap *m, size_t extra)
{
    if (m->n + extra <= m->cap)
        return CHR_OK;
    size_t cap = m->cap < 64 ? 64 : m->cap;
    while (m->n + extra > cap)
        cap *= 2;
    struct core_run **b = chr_calloc(cap, sizeof *b);
    if (b == NULL)
        return CHR_ENOMEM;
    for (size_t i = 0; i < m->cap; i++) {
        struct core_run *r = m->buckets[i];
        while (r != NULL) {
            struct core_run *next = r->id_next;
            size_t k = r->hash & (cap - 1);
            r->id_next = b[k];
            b[k] = r;
            r = next;
        }
    }
    chr_free(m->buckets);
    m->buckets = b;
    m->cap = cap;
    return CHR_OK;
}

struct core_run *core_runmap_find(const struct core_runmap *m, const char *id)
{
    if (m->cap == 0)
        return NULL;
    uint32_t h = core_hash(id);
    for (struct core_run *r = m->buckets[h & (m->cap - 1)]; r != NULL; r = r->id_next)
        if (r->hash == h && strcmp(r->r.id, id) == 0)
            return r;
    return NULL;
}

void core_runmap_insert(struct core_runmap *m, struct core_run *run)
{
    CHR_ASSERT(m->n < m->cap);
    run->hash = core_hash(run->r.id);
    size_t k = run->hash & (m->cap - 1);
    run->id_next = m->buckets[k];
    m->buckets[k] = run;
    m->n++;
}

void core_runmap_remove(struct core_runmap *m, struct core_run *run)
{
    struct core_run **pp = &m->buckets[run->hash & (m->cap - 1)];
    while (*pp != run) {
        CHR_ASSERT(*pp != NULL);
        pp = &(*pp)->id_next;
    }
    *pp = run->id_next;
    run->id_next = NULL;
    m->n--;
}

void core_runmap_free(struct core_runmap *m)
{
    chr_free(m->buckets);
    memset(m, 0, sizeof *m);
}
