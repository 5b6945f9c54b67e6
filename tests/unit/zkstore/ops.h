/*
 * ops.h - what the store's tests (local and ZooKeeper backends) share: ops
 * made in one line, a one-op batch, and assertions on nodes and children.
 * Include after ../unit.h (cmocka).
 */
#ifndef CHR_TEST_ZKSTORE_OPS_H
#define CHR_TEST_ZKSTORE_OPS_H

#include <stdio.h>
#include <string.h>

#include "common/alloc.h"
#include "zkstore/store.h"

static inline struct chr_store_op op_create(const char *path, const char *data)
{
    return (struct chr_store_op){.type = CHR_STORE_CREATE, .path = path, .data = data,
                                 .len = data != NULL ? strlen(data) : 0, .version = -1};
}

static inline struct chr_store_op op_set(const char *path, const char *data, int32_t version)
{
    return (struct chr_store_op){.type = CHR_STORE_SET, .path = path, .data = data,
                                 .len = strlen(data), .version = version};
}

static inline struct chr_store_op op_del(const char *path, int32_t version)
{
    return (struct chr_store_op){.type = CHR_STORE_DELETE, .path = path, .version = version};
}

static inline struct chr_store_op op_check(const char *path, int32_t version)
{
    return (struct chr_store_op){.type = CHR_STORE_CHECK, .path = path, .version = version};
}

static inline enum chr_err one(struct chr_store *s, struct chr_store_op op)
{
    return chr_store_submit_wait(s, &op, 1, NULL);
}

/* Asserts the node's data and version. */
static inline void assert_node(struct chr_store *s, const char *path, const char *want, int32_t version)
{
    void *data = NULL;
    size_t len = 0;
    int32_t v = -5;
    enum chr_err e = chr_store_get(s, path, &data, &len, &v);
    if (e != CHR_OK)
        fail_msg("get %s: %s", path, chr_err_name(e));
    assert_int_equal(len, strlen(want));
    assert_memory_equal(data, want, len);
    assert_int_equal(((char *)data)[len], '\0');
    assert_int_equal(v, version);
    chr_free(data);
}

static inline void assert_absent(struct chr_store *s, const char *path)
{
    int32_t v = 7;
    assert_int_equal(chr_store_get(s, path, NULL, NULL, &v), CHR_ENOENT);
    assert_int_equal(v, -1);
}

/* Asserts the children of path, given as one space-separated sorted list. */
static inline void assert_children(struct chr_store *s, const char *path, const char *want)
{
    struct chr_store_names *names = NULL;
    assert_int_equal(chr_store_children(s, path, &names), CHR_OK);
    char got[1024] = "";
    size_t o = 0;
    for (size_t i = 0; i < names->n; i++)
        o += (size_t)snprintf(got + o, sizeof got - o, "%s%s", i ? " " : "", names->names[i]);
    chr_store_names_free(names);
    assert_string_equal(got, want);
}

#endif
