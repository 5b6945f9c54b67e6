/*
 * test_strmap.c - the string map (common/strmap.h) against a plain array
 * model over random inserts, replaces and deletes (deletion shifts clusters
 * back, so lookups after many deletes are what can break), the FNV-1a hash
 * against its published vectors, and allocation failure.
 */
#include "../unit.h"

#include <stdio.h>

#include "common/alloc.h"
#include "common/strmap.h"

/* FNV-1a 64 test vectors (Fowler/Noll/Vo reference). */
static void test_hash_vectors(void **state)
{
    (void)state;
    assert_true(chr_str_hash("", 0) == 0xcbf29ce484222325ULL);
    assert_true(chr_str_hash("a", 1) == 0xaf63dc4c8601ec8cULL);
    assert_true(chr_str_hash("foobar", 6) == 0x85944171f73967e8ULL);
}

#define KEYS 600

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
    chr_strmap_free(&m);
    assert_int_equal(m.len, 0);
    assert_false(chr_strmap_get(&m, "job-1", NULL));
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
        cmocka_unit_test(test_allocation_failure),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
