/*
 * core_heap.c - the binary min-heap behind the core's queues: jobs by next
 * due instant, delayed runs by ready time, queued runs by priority and due
 * time.  O(log n) push, remove and update; O(1) top.
 *
 * Entries order by (k1, k2, seq); seq only grows, so equal keys keep their
 * arrival order and nothing ever depends on pointer values.  Each owner keeps
 * its index in the heap at a fixed offset, so that it can be removed or
 * re-keyed without a search.  No I/O, no clock; allocation only in
 * core_heap_reserve.
 */
#include "scheduler/core_int.h"

#include <stdlib.h>
#include <string.h>

void core_heap_init(struct core_heap *h, size_t idx_off)
{
    memset(h, 0, sizeof *h);
    h->idx_off = idx_off;
}

void core_heap_free(struct core_heap *h)
{
    chr_free(h->v);
    h->v = NULL;
    h->n = h->cap = 0;
}

enum chr_err core_heap_reserve(struct core_heap *h, size_t extra)
{
    if (h->n + extra <= h->cap)
        return CHR_OK;
    size_t cap = h->cap < 16 ? 16 : h->cap;
    while (cap < h->n + extra)
        cap *= 2;
    size_t bytes;
    if (chr_mul_overflows(cap, sizeof *h->v, &bytes))
        return CHR_ENOMEM;
    struct core_heap_ent *v = chr_realloc(h->v, bytes);
    if (v == NULL)
        return CHR_ENOMEM;
    h->v = v;
    h->cap = cap;
    return CHR_OK;
}

static bool less(const struct core_heap_ent *a, const struct core_heap_ent *b)
{
    if (a->k1 != b->k1)
        return a->k1 < b->k1;
    if (a->k2 != b->k2)
        return a->k2 < b->k2;
    return a->seq < b->seq;
}

static void set_idx(const struct core_heap *h, size_t i)
{
    int32_t *slot = (int32_t *)(void *)((char *)h->v[i].owner + h->idx_off);
    *slot = (int32_t)i;
}

static void clear_idx(const struct core_heap *h, void *owner)
{
    int32_t *slot = (int32_t *)(void *)((char *)owner + h->idx_off);
    *slot = -1;
}

static void sift_up(struct core_heap *h, size_t i)
{
    struct core_heap_ent e = h->v[i];
    while (i > 0) {
        size_t p = (i - 1) / 2;
        if (!less(&e, &h->v[p]))
            break;
        h->v[i] = h->v[p];
        set_idx(h, i);
        i = p;
    }
    h->v[i] = e;
    set_idx(h, i);
}

static void sift_down(struct core_heap *h, size_t i)
{
    struct core_heap_ent e = h->v[i];
    for (;;) {
        size_t l = 2 * i + 1, m = i;
        const struct core_heap_ent *best = &e;
        if (l < h->n && less(&h->v[l], best))
            m = l, best = &h->v[l];
        if (l + 1 < h->n && less(&h->v[l + 1], best))
            m = l + 1;
        if (m == i)
            break;
        h->v[i] = h->v[m];
        set_idx(h, i);
        i = m;
    }
    h->v[i] = e;
    set_idx(h, i);
}

void core_heap_push(struct core_heap *h, int64_t k1, int64_t k2, uint64_t seq, void *owner)
{
    CHR_ASSERT(h->n < h->cap);
    h->v[h->n] = (struct core_heap_ent){k1, k2, seq, owner};
    h->n++;
    sift_up(h, h->n - 1);
}

void core_heap_remove(struct core_heap *h, int32_t idx)
{
    CHR_ASSERT(idx >= 0 && (size_t)idx < h->n);
    size_t i = (size_t)idx;
    clear_idx(h, h->v[i].owner);
    h->n--;
    if (i == h->n)
        return;
    h->v[i] = h->v[h->n];
    set_idx(h, i);
    if (i > 0 && less(&h->v[i], &h->v[(i - 1) / 2]))
        sift_up(h, i);
    else
        sift_down(h, i);
}

void core_heap_update(struct core_heap *h, int32_t idx, int64_t k1, int64_t k2, uint64_t seq)
{
    CHR_ASSERT(idx >= 0 && (size_t)idx < h->n);
    size_t i = (size_t)idx;
    h->v[i].k1 = k1;
    h->v[i].k2 = k2;
    h->v[i].seq = seq;
    if (i > 0 && less(&h->v[i], &h->v[(i - 1) / 2]))
        sift_up(h, i);
    else
        sift_down(h, i);
}

const struct core_heap_ent *core_heap_top(const struct core_heap *h)
{
    return h->n > 0 ? &h->v[0] : NULL;
}

static int cmp_ent(const void *a, const void *b)
{
    const struct core_heap_ent *x = a, *y = b;
    if (less(x, y))
        return -1;
    return less(y, x) ? 1 : 0;
}

void core_heap_sort(struct core_heap *h)
{
    if (h->n > 1)
        qsort(h->v, h->n, sizeof *h->v, cmp_ent);
    for (size_t i = 0; i < h->n; i++)
        set_idx(h, i);
}

void core_heap_drop_marked(struct core_heap *h)
{
    size_t w = 0;
    for (size_t i = 0; i < h->n; i++) {
        if (h->v[i].owner == NULL)
            continue;
        h->v[w] = h->v[i];
        set_idx(h, w);
        w++;
    }
    h->n = w;
}
