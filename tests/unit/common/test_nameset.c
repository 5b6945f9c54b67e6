/*
 * test_nameset.c - the compact name set (common/nameset.h) against a model
 * (a chr_strmap) through growth, deletions amid probe chains and the
 * compaction of its names' buffer; allocation failures leave it unchanged.
 */
#include "../unit.h"

#include "common/alloc.h"
#include "common/nameset.h"
#include "common/strmap.h"

static uint64_t rnd_state = 0x2545f4914f6cdd1dULL;

static uint64_t rnd(uint64_t n)
{
    rnd_state ^= rnd_state << 13;
    rnd_state ^= rnd_state >> 7;
    rnd_state ^= rnd_state << 17;
    return rnd_state % n;
}

/* Name k: short ones, and every seventh long, so that deleting fills the
 * buffer with dead bytes and compactions happen. */
static const char *name_of(int k, char buf[1200])
{
    int pad = k % 7 == 0 ? 1000 : 0;
    snprintf(buf, 1200, "job-%d-%0*d", k, pad, 0);
    return buf;
}

static void check_same(const struct chr_nameset *s, const struct chr_strmap *m, int names)
{
    char buf[1200];
    assert_int_equal(s->len, m->len);
    for (int k = 0; k < names; k++) {
        const char *n = name_of(k, buf);
        if (chr_nameset_has(s, n) != chr_strmap_get(m, n, NULL))
            fail_msg("%.40s: set and model differ", n);
    }
}

static void test_against_a_model(void **state)
{
    (void)state;
    struct chr_nameset s = {0};
    struct chr_strmap m = {0};
    char buf[1200];
    size_t compactions = 0, dead_before = 0;
    for (int i = 0; i < 60000; i++) {
        int k = (int)rnd(3000);
        const char *n = name_of(k, buf);
        if (rnd(3) == 0) {
            assert_int_equal(chr_nameset_del(&s, n), chr_strmap_del(&m, n));
        } else {
            assert_int_equal(chr_nameset_add(&s, n), CHR_OK);
            assert_int_equal(chr_strmap_put(&m, n, 0), CHR_OK);
        }
        compactions += s.dead < dead_before;
        dead_before = s.dead;
        if (i % 5000 == 4999)
            check_same(&s, &m, 3000);
    }
    assert_true(compactions > 0);
    assert_true(s.used - s.dead <= s.room);
    check_same(&s, &m, 3000);
    /* Everything out, then in again. */
    for (int k = 0; k < 3000; k++) {
        const char *n = name_of(k, buf);
        assert_int_equal(chr_nameset_del(&s, n), chr_strmap_del(&m, n));
    }
    assert_int_equal(s.len, 0);
    assert_false(chr_nameset_del(&s, "job-1-"));
    assert_int_equal(chr_nameset_add(&s, "a"), CHR_OK);
    assert_true(chr_nameset_has(&s, "a"));
    assert_false(chr_nameset_has(&s, "b"));
    chr_nameset_free(&s);
    chr_strmap_free(&m);
    assert_false(chr_nameset_has(&s, "a")); /* a freed set is an empty one */
}

static void test_limits_and_failures(void **state)
{
    (void)state;
    struct chr_nameset s = {0};
    static char longname[CHR_NAMESET_NAME_MAX + 2];
    memset(longname, 'x', sizeof longname - 1);
    assert_int_equal(chr_nameset_add(&s, longname), CHR_EINVAL);
    assert_int_equal(s.len, 0);
    char buf[1200];
    for (int k = 0; k < 40; k++)
        assert_int_equal(chr_nameset_add(&s, name_of(k, buf)), CHR_OK);
    /* Every allocation fails: growing the table or the buffer. */
    chr_alloc_fail_after(1);
    enum chr_err e = CHR_OK;
    int k = 40;
    for (; e == CHR_OK && k < 400; k++)
        e = chr_nameset_add(&s, name_of(k, buf));
    chr_alloc_fail_after(-1);
    assert_int_equal(e, CHR_ENOMEM);
    k--; /* the one refused is not there, every earlier one is */
    assert_false(chr_nameset_has(&s, name_of(k, buf)));
    for (int j = 0; j < k; j++)
        assert_true(chr_nameset_has(&s, name_of(j, buf)));
    assert_int_equal(s.len, (size_t)k);
    chr_nameset_free(&s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_against_a_model),
        cmocka_unit_test(test_limits_and_failures),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
