/*
 * test_strmap.c - the string map (common/strmap.h) against a plain array
 * model over random inserts, replaces and deletes (deletion shifts clusters
 * back, so lookups after many deletes are what can break), iteration and
 * filtering (removal while going, which shifts clusters too) against the
 * same model, the FNV-1a hashes (64 and 32 bits) against their published
 * vectors, and allocation failure.
 */
#include "../unit.h"

#include <stdio.h>

#include "common/alloc.h"
#include "common/strmap.h"

/* The number of "job-N". */
static int key_num(const char *key)
{
    int n = 0;
    assert_true(strncmp(key, "job-", 4) == 0);
    for (const char *p = key + 4; *p; p++)
        n = n * 10 + (*p - '0');
    assert_true(n >= 0 && n < 600);
    return n;
}

/* FNV-1a 64 test vectors (Fowler/Noll/Vo reference). */
static void test_hash_vectors(void **state)
{
    (void)state;
    assert_true(chr_str_hash("", 0) == 0xcbf29ce484222325ULL);
    assert_true(chr_str_hash("a", 1) == 0xaf63dc4c8601ec8cULL);
    assert_true(chr_str_hash("foobar", 6) == 0x85944171f73967e8ULL);
    assert_true(chr_str_hash32("", 0) == 0x811c9dc5u);
    assert_true(chr_str_hash32("a", 1) == 0xe40c292cu);
    assert_true(chr_str_hash32("foobar", 6) == 0xbf9cf968u);
}

#define KEYS 600

struct filt {
    int64_t *model;
    uint64_t salt;
    int calls[KEYS];
};

/* Keeps keys whose number mixed with the salt is odd, adding 1 to the
 * values it keeps; counts its calls per key. */
static bool keep_some(const char *key, uint64_t *val, void *ctx)
{
    struct filt *f = ctx;
    int k = key_num(key);
    f->calls[k]++;
    assert_true(f->model[k] >= 0 && *val == (uint64_t)f->model[k]);
    if (((uint64_t)k * 2654435761u + f->salt) >> 3 & 1) {
        *val += 1;
        f->model[k]++;
        return true;
    }
    f->model[k] = -1;
    return false;
}

/* Filters m and the model alike, then checks that every entry was seen
 * once by the filter and once by iteration. */
static void filter_and_check(struct chr_strmap *m, int64_t *model, uint64_t salt)
{
    static struct filt f;
    memset(&f, 0, sizeof f);
    f.model = model;
    f.salt = salt;
    size_t before = m->len, present = 0;
    bool was[KEYS];
    for (int i = 0; i < KEYS; i++) {
        was[i] = model[i] >= 0;
        present += was[i];
    }
    assert_int_equal(before, present);
    size_t removed = chr_strmap_filter(m, keep_some, &f);
    assert_int_equal(m->len, before - removed);
    int seen[KEYS] = {0};
    size_t pos = 0, n = 0;
    const char *key;
    uint64_t val;
    while (chr_strmap_next(m, &pos, &key, &val)) {
        int k = key_num(key);
        seen[k]++;
        assert_true(model[k] >= 0 && val == (uint64_t)model[k]);
        n++;
    }
    assert_int_equal(n, m->len);
    for (int i = 0; i < KEYS; i++) {
        assert_int_equal(f.calls[i], was[i]); /* once each */
        assert_int_equal(seen[i], model[i] >= 0);
    }
}

static void test_against_model(void **state)
{
    (void)state;
    struct chr_strmap m = {0};
    static int64_t model[KEYS]; /* -1: absent */
    for (int i = 0; i < KEYS; i++)
        model[i] = -1;
    uint64_t x = 88172645463325252ULL;
    for (int step = 0; step < 50000; step++) {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        int k = (int)(x % KEYS);
        char key[16];
        snprintf(key, sizeof key, "job-%d", k);
        if ((x >> 20) % 3 == 0) {
            assert_int_equal(chr_strmap_del(&m, key), model[k] >= 0);
            model[k] = -1;
        } else {
            assert_int_equal(chr_strmap_put(&m, key, (uint64_t)step), CHR_OK);
            model[k] = step;
        }
        if (step % 1009 == 0)
            filter_and_check(&m, model, (uint64_t)step);
        if (step % 97 == 0) {
            size_t n = 0;
            for (int i = 0; i < KEYS; i++) {
                snprintf(key, sizeof key, "job-%d", i);
                uint64_t v = 0;
                bool have = chr_strmap_get(&m, key, &v);
                assert_int_equal(have, model[i] >= 0);
                if (have)
                    assert_true(v == (uint64_t)model[i]);
                n += have;
            }
            assert_int_equal(m.len, n);
        }
    }
    filter_and_check(&m, model, 1);
    chr_strmap_free(&m);
    assert_int_equal(m.len, 0);
    assert_false(chr_strmap_get(&m, "job-1", NULL));
    size_t pos = 0;
    assert_false(chr_strmap_next(&m, &pos, NULL, NULL));
    assert_int_equal(chr_strmap_filter(&m, keep_some, NULL), 0);
}

struct keep_one {
    const char *keep;
    int calls[100000]; /* by the value: the key's number */
};

static bool keep_none_but(const char *key, uint64_t *val, void *ctx)
{
    struct keep_one *k = ctx;
    k->calls[*val]++;
    return strcmp(key, k->keep) == 0;
}

/* Clusters that wrap past the last slot: a small table nearly half full
 * of keys that all want the last slots.  Keeping the one in slot 0 is
 * the hard case: removals at the end shift it (already seen) back there. */
static void test_filter_wrapping_cluster(void **state)
{
    (void)state;
    struct chr_strmap m = {0};
    char key[16];
    int added = 0;
    for (int i = 0; added < 31 && i < 100000; i++) {
        snprintf(key, sizeof key, "k%d", i);
        if ((chr_str_hash(key, strlen(key)) & 63) >= 60) {
            assert_int_equal(chr_strmap_put(&m, key, (uint64_t)i), CHR_OK);
            added++;
        }
    }
    assert_int_equal(m.cap, 64);
    assert_true(m.v[0].key != NULL); /* the cluster wraps */
    size_t pos = 0;
    const char *first = NULL;
    assert_true(chr_strmap_next(&m, &pos, &first, NULL));
    char keep[16];
    snprintf(keep, sizeof keep, "%s", first);
    static struct keep_one k;
    k.keep = keep;
    assert_int_equal(chr_strmap_filter(&m, keep_none_but, &k), 30);
    assert_int_equal(m.len, 1);
    assert_true(chr_strmap_get(&m, keep, NULL));
    int calls = 0;
    for (int i = 0; i < 100000; i++) {
        assert_true(k.calls[i] <= 1);
        calls += k.calls[i];
    }
    assert_int_equal(calls, 31);
    chr_strmap_free(&m);
}

static void test_allocation_failure(void **state)
{
    (void)state;
    struct chr_strmap m = {0};
    chr_alloc_fail_after(1);
    assert_int_equal(chr_strmap_put(&m, "a", 1), CHR_ENOMEM);
    chr_alloc_fail_after(-1);
    assert_int_equal(m.len, 0);
    assert_int_equal(chr_strmap_put(&m, "a", 1), CHR_OK);
    chr_alloc_fail_after(1);
    assert_int_equal(chr_strmap_put(&m, "b", 2), CHR_ENOMEM); /* the key copy */
    chr_alloc_fail_after(-1);
    assert_false(chr_strmap_get(&m, "b", NULL));
    uint64_t v = 0;
    assert_true(chr_strmap_get(&m, "a", &v) && v == 1);
    chr_strmap_free(&m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_hash_vectors),
        cmocka_unit_test(test_against_model),
        cmocka_unit_test(test_filter_wrapping_cluster),
        cmocka_unit_test(test_allocation_failure),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
