/*
 * local_index.c - the local backend's in-memory tree: a chained hash of
 * path -> node, parent/child/sibling links for listings, and immutable
 * reference-counted blobs (path, data, version) per node.
 *
 * No I/O, no locking (the caller holds ix_lock as local_int.h says).  About
 * 100 bytes per node beyond its path and data: the node (56), its blob
 * header (16), a hash slot (8-16) and two allocations' overhead.
 *
 * Why not common/strmap: the table is intrusive (the key is the path inside
 * the node's blob, the chain link is in the node), which is what keeps a
 * node near 100 bytes where strmap would add a 24-byte slot and a copy of
 * every path; and an insert never fails (a failed grow just lengthens the
 * chains), so applying a durable log record cannot stop halfway.  Paths
 * hash with common's chr_str_hash.
 */
#include "zkstore/local_int.h"

#include <string.h>

#include "common/alloc.h"

struct lblob *lblob_new(const char *path, size_t path_len, const void *data, size_t data_len,
                        int32_t version)
{
    size_t size = sizeof(struct lblob) + path_len + 1 + data_len + 1;
    struct lblob *b = chr_malloc(size);
    if (b == NULL)
        return NULL;
    CHR_ASSERT(path_len < CHR_STORE_PATH_MAX);
    atomic_init(&b->refs, 1);
    b->version = version;
    b->path_len = (uint16_t)path_len;
    b->data_len = (uint32_t)data_len;
    b->cold_hi = 0, b->cold_lo = 0, b->cold_crc = 0;
    memcpy(b->bytes, path, path_len);
    b->bytes[path_len] = '\0';
    if (data_len > 0)
        memcpy(b->bytes + path_len + 1, data, data_len);
    b->bytes[path_len + 1 + data_len] = '\0';
    return b;
}

struct lblob *lblob_new_cold(const char *path, size_t path_len, uint64_t off, size_t data_len,
                             uint32_t crc, int32_t version)
{
    CHR_ASSERT(path_len < CHR_STORE_PATH_MAX && off > 0 && off >> 48 == 0);
    struct lblob *b = chr_malloc(sizeof(struct lblob) + path_len + 1);
    if (b == NULL)
        return NULL;
    atomic_init(&b->refs, 1);
    b->version = version;
    b->path_len = (uint16_t)path_len;
    b->data_len = (uint32_t)data_len;
    b->cold_hi = (uint16_t)(off >> 32), b->cold_lo = (uint32_t)off, b->cold_crc = crc;
    memcpy(b->bytes, path, path_len);
    b->bytes[path_len] = '\0';
    return b;
}

void lblob_ref(struct lblob *b)
{
    atomic_fetch_add_explicit(&b->refs, 1, memory_order_relaxed);
}

void lblob_unref(struct lblob *b)
{
    if (b != NULL && atomic_fetch_sub_explicit(&b->refs, 1, memory_order_acq_rel) == 1)
        chr_free(b);
}

enum chr_err lindex_init(struct lindex *ix)
{
    memset(ix, 0, sizeof *ix);
    size_t n = 1024;
    ix->slots = chr_calloc(n, sizeof *ix->slots);
    ix->root = chr_calloc(1, sizeof *ix->root);
    struct lblob *b = lblob_new("/", 1, NULL, 0, 0);
    if (ix->slots == NULL || ix->root == NULL || b == NULL) {
        chr_free(ix->slots);
        chr_free(ix->root);
        lblob_unref(b);
        memset(ix, 0, sizeof *ix);
        return CHR_ENOMEM;
    }
    ix->mask = n - 1;
    ix->root->blob = b;
    ix->root->hash = (uint32_t)chr_str_hash("/", 1);
    ix->slots[ix->root->hash & ix->mask] = ix->root;
    ix->n_nodes = 1;
    return CHR_OK;
}

void lindex_free(struct lindex *ix)
{
    if (ix->slots == NULL)
        return;
    for (size_t i = 0; i <= ix->mask; i++) {
        struct lnode *n = ix->slots[i];
        while (n != NULL) {
            struct lnode *next = n->hnext;
            lblob_unref(n->blob);
            chr_free(n);
            n = next;
        }
    }
    chr_free(ix->slots);
    lcold_free(ix->cold); /* after the blobs that point into it */
    memset(ix, 0, sizeof *ix);
}

struct lnode *lindex_find(const struct lindex *ix, const char *path, size_t len, uint64_t hash)
{
    for (struct lnode *n = ix->slots[hash & ix->mask]; n != NULL; n = n->hnext)
        if (n->hash == (uint32_t)hash && n->blob->path_len == len &&
            memcmp(lblob_path(n->blob), path, len) == 0)
            return n;
    return NULL;
}

/* Rehashes every node into a table of n slots (a power of two); on
 * allocation failure the table stays as it was. */
static void rehash(struct lindex *ix, size_t n)
{
    if (n > ((size_t)1 << 31))
        return; /* a node keeps 32 bits of its hash: no more slots than that */
    struct lnode **slots = chr_calloc(n, sizeof *slots);
    if (slots == NULL)
        return;
    for (size_t i = 0; i <= ix->mask; i++) {
        struct lnode *node = ix->slots[i];
        while (node != NULL) {
            struct lnode *next = node->hnext;
            node->hnext = slots[node->hash & (n - 1)];
            slots[node->hash & (n - 1)] = node;
            node = next;
        }
    }
    chr_free(ix->slots);
    ix->slots = slots;
    ix->mask = n - 1;
    ix->rehashes++;
}

/* Doubles the table past a load of 1; on allocation failure the chains just
 * grow longer (an insert never fails). */
static void maybe_grow(struct lindex *ix)
{
    if (ix->n_nodes <= ix->mask + 1 || ix->mask > (SIZE_MAX >> 2))
        return;
    rehash(ix, (ix->mask + 1) * 2);
}

void lindex_reserve(struct lindex *ix, size_t n)
{
    size_t cap = ix->mask + 1;
    while (cap < n && cap <= (SIZE_MAX >> 2))
        cap *= 2;
    if (cap > ix->mask + 1)
        rehash(ix, cap);
}

static void hash_unlink(struct lindex *ix, struct lnode *node)
{
    struct lnode **pp = &ix->slots[node->hash & ix->mask];
    while (*pp != node)
        pp = &(*pp)->hnext;
    *pp = node->hnext;
}

static enum chr_err apply_create(struct lindex *ix, struct lblob *blob, struct lnode **spare,
                                 uint64_t hash)
{
    const char *path = lblob_path(blob);
    size_t plen = chr_store_parent_len(path, blob->path_len);
    /* Siblings come in runs (a snapshot lists a directory's children
     * together, a batch creates a shard's nodes together): the last parent
     * first, before a lookup (a cache miss or two in a table of millions). */
    struct lnode *parent = ix->last_parent;
    if (parent == NULL || parent->blob->path_len != plen ||
        memcmp(lblob_path(parent->blob), path, plen) != 0)
        parent = lindex_find(ix, path, plen, chr_str_hash(path, plen));
    if (parent == NULL || spare == NULL || *spare == NULL ||
        lindex_find(ix, path, blob->path_len, hash) != NULL)
        return CHR_EIO;
    struct lnode *n = *spare;
    *spare = NULL;
    memset(n, 0, sizeof *n);
    n->blob = blob;
    n->hash = (uint32_t)hash;
    ix->last_parent = parent;
    n->parent = parent;
    n->next = parent->child;
    if (parent->child != NULL)
        parent->child->prev = n;
    parent->child = n;
    parent->n_children++;
    n->hnext = ix->slots[hash & ix->mask];
    ix->slots[hash & ix->mask] = n;
    ix->n_nodes++;
    ix->data_bytes += blob->data_len;
    maybe_grow(ix);
    return CHR_OK;
}

static void remove_node(struct lindex *ix, struct lnode *n)
{
    if (ix->last_parent == n)
        ix->last_parent = NULL;
    hash_unlink(ix, n);
    if (n->prev != NULL)
        n->prev->next = n->next;
    else
        n->parent->child = n->next;
    if (n->next != NULL)
        n->next->prev = n->prev;
    n->parent->n_children--;
    ix->n_nodes--;
    ix->data_bytes -= n->blob->data_len;
    lblob_unref(n->blob);
    chr_free(n);
}

enum chr_err lindex_apply(struct lindex *ix, int type, struct lblob *blob, struct lnode **spare)
{
    uint64_t hash = chr_str_hash(lblob_path(blob), blob->path_len);
    if (type == CHR_STORE_CREATE)
        return apply_create(ix, blob, spare, hash);
    struct lnode *n = lindex_find(ix, lblob_path(blob), blob->path_len, hash);
    if (n == NULL)
        return CHR_EIO;
    if (type == CHR_STORE_SET) {
        ix->data_bytes += blob->data_len;
        ix->data_bytes -= n->blob->data_len;
        lblob_unref(n->blob);
        n->blob = blob;
        return CHR_OK;
    }
    if (type == CHR_STORE_DELETE && n != ix->root && n->n_children == 0) {
        remove_node(ix, n);
        return CHR_OK;
    }
    return CHR_EIO;
}

/* The pre-order successor of n (parents before children), NULL at the end. */
static const struct lnode *preorder_next(const struct lnode *root, const struct lnode *n)
{
    if (n->child != NULL)
        return n->child;
    while (n != root && n->next == NULL)
        n = n->parent;
    return n == root ? NULL : n->next;
}

enum chr_err lindex_capture(const struct lindex *ix, struct lblob ***out, size_t *n)
{
    *out = NULL;
    *n = 0;
    size_t bytes;
    if (chr_mul_overflows(ix->n_nodes, sizeof(struct lblob *), &bytes))
        return CHR_ENOMEM;
    struct lblob **arr = chr_malloc(bytes);
    if (arr == NULL)
        return CHR_ENOMEM;
    size_t i = 0;
    for (const struct lnode *node = ix->root; node != NULL; node = preorder_next(ix->root, node)) {
        CHR_ASSERT(i < ix->n_nodes);
        lblob_ref(node->blob);
        arr[i++] = node->blob;
    }
    CHR_ASSERT(i == ix->n_nodes);
    *out = arr;
    *n = i;
    return CHR_OK;
}
