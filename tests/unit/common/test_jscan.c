/*
 * test_jscan.c - the plain compact JSON reader (common/jscan.h): it takes
 * exactly JSON's tokens in the plain shape, and stops (bad) on anything
 * else rather than guessing, so that its users fall back to jansson.
 */
#include "../unit.h"

#include <math.h>

#include "common/jscan.h"

static struct chr_jscan scan(const char *text)
{
    struct chr_jscan s;
    chr_jscan_init(&s, text, strlen(text));
    return s;
}

/* `text` is one number token: integer or real as expected, the whole text. */
static void number_ok(const char *text, bool want_int, int64_t i, double d)
{
    struct chr_jscan s = scan(text);
    bool is_int = !want_int;
    int64_t gi = 0;
    double gd = 0;
    if (!chr_jscan_number(&s, &is_int, &gi, &gd) || !chr_jscan_done(&s))
        fail_msg("'%s' does not scan as a number", text);
    assert_int_equal(is_int, want_int);
    if (want_int)
        assert_true(gi == i);
    else
        assert_true(memcmp(&gd, &d, sizeof d) == 0);
}

static void number_bad(const char *text)
{
    struct chr_jscan s = scan(text);
    bool is_int = false;
    int64_t i = 0;
    double d = 0;
    if (chr_jscan_number(&s, &is_int, &i, &d) && chr_jscan_done(&s))
        fail_msg("'%s' scans as a number", text);
}

static void test_numbers(void **state)
{
    (void)state;
    number_ok("0", true, 0, 0);
    number_ok("-0", true, 0, 0);
    number_ok("9223372036854775807", true, INT64_MAX, 0);
    number_ok("-9223372036854775807", true, -INT64_MAX, 0);
    number_ok("4070908800000", true, 4070908800000LL, 0);
    number_ok("0.10000000000000001", false, 0, 0.1);
    number_ok("256.0", false, 0, 256.0);
    number_ok("1e2", false, 0, 100.0);
    number_ok("-2.5E-3", false, 0, -0.0025);
    const char *bad[] = {"", "-", "01", "1.", ".5", "1e", "1e+", "+1", "0x10", "1e400",
                         "9223372036854775808", "-9223372036854775808", "NaN", "Infinity",
                         "1.5.2", "\"1\"",
                         "1e-400"}; /* an underflow (ERANGE): jansson's to read */
    for (size_t k = 0; k < sizeof bad / sizeof bad[0]; k++)
        number_bad(bad[k]);
    struct chr_jscan s = scan("1.5");
    int64_t i = 0;
    assert_false(chr_jscan_int(&s, &i)); /* a real where an integer is wanted */
    assert_true(s.bad);
}

static void test_strings_and_words(void **state)
{
    (void)state;
    struct chr_jscan s = scan("\"a b/c\",\"\",null,true,false");
    const char *v = NULL;
    size_t n = 0;
    bool b = false;
    assert_true(chr_jscan_string(&s, &v, &n));
    assert_int_equal(n, 5);
    assert_memory_equal(v, "a b/c", 5);
    assert_true(chr_jscan_take(&s, ','));
    assert_true(chr_jscan_string(&s, &v, &n));
    assert_int_equal(n, 0);
    assert_true(chr_jscan_take(&s, ','));
    assert_false(chr_jscan_take(&s, ']')); /* not next: false, not bad */
    assert_false(s.bad);
    assert_true(chr_jscan_null(&s));
    assert_true(chr_jscan_take(&s, ','));
    assert_true(chr_jscan_bool(&s, &b) && b);
    assert_true(chr_jscan_take(&s, ','));
    assert_true(chr_jscan_bool(&s, &b) && !b);
    assert_true(chr_jscan_done(&s));
    /* Escapes, control bytes, non-ASCII, an unterminated string: bad. */
    const char *bad[] = {"\"a\\\"b\"", "\"a\\u0041\"", "\"tab\there\"", "\"caf\xc3\xa9\"",
                         "\"open", "x\"", "\"del\x7f\""};
    for (size_t k = 0; k < sizeof bad / sizeof bad[0]; k++) {
        s = scan(bad[k]);
        if (chr_jscan_string(&s, &v, &n) || !s.bad)
            fail_msg("'%s' scans as a plain string", bad[k]);
    }
    s = scan("tru");
    assert_false(chr_jscan_bool(&s, &b));
    assert_true(s.bad);
    /* A bad scan takes nothing more and is never done. */
    assert_false(chr_jscan_take(&s, 't'));
    assert_false(chr_jscan_done(&s));
    chr_jscan_init(&s, NULL, 0);
    assert_false(chr_jscan_done(&s));
}

/* The reader never looks past `end`: a token cut by the length is bad. */
static void test_bounded_by_length(void **state)
{
    (void)state;
    const char *text = "\"abc\"123true";
    struct chr_jscan s;
    const char *v = NULL;
    size_t n = 0;
    chr_jscan_init(&s, text, 4);
    assert_false(chr_jscan_string(&s, &v, &n));
    chr_jscan_init(&s, text + 5, 2);
    int64_t i = 0;
    assert_true(chr_jscan_int(&s, &i) && i == 12 && chr_jscan_done(&s));
    bool b = false;
    chr_jscan_init(&s, text + 8, 3);
    assert_false(chr_jscan_bool(&s, &b));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_numbers),
        cmocka_unit_test(test_strings_and_words),
        cmocka_unit_test(test_bounded_by_length),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
