/*
 * test_sb.c - the string builder (common/sb.h): puts of every kind, growth
 * far past the first 256 bytes, binary bytes, the builder empty after
 * finish and free, chr_sb_fmt's bound, JSON strings (escapes, UTF-8 kept,
 * invalid bytes replaced, and any byte string giving JSON that jansson
 * reads back), and failure: an injected allocation failure at every
 * allocation of a build, and chr_sb_fail, latch until finish, which then
 * returns NULL and frees everything (ASan checks the leaks).
 */
#include "../unit.h"

#include <jansson.h>
#include <stdlib.h>

#include "common/alloc.h"
#include "common/sb.h"

static void test_puts_and_finish(void **state)
{
    (void)state;
    struct chr_sb b = {0};
    chr_sb_str(&b, "job ");
    chr_sb_ch(&b, '#');
    chr_sb_fmt(&b, "%d/%s", 42, "x");
    chr_sb_put(&b, "abcdef", 3);
    chr_sb_put(&b, "ignored", 0);
    assert_false(chr_sb_failed(&b));
    size_t len = 0;
    char *t = chr_sb_finish(&b, &len);
    assert_non_null(t);
    assert_string_equal(t, "job #42/xabc");
    assert_int_equal(len, strlen(t));
    chr_free(t);
    /* The builder is empty and usable again. */
    assert_null(b.p);
    assert_int_equal(b.len, 0);
    chr_sb_str(&b, "again");
    t = chr_sb_finish(&b, NULL);
    assert_string_equal(t, "again");
    chr_free(t);
}

static void test_empty_and_free(void **state)
{
    (void)state;
    struct chr_sb b = {0};
    size_t len = 99;
    char *t = chr_sb_finish(&b, &len);
    assert_non_null(t);
    assert_string_equal(t, "");
    assert_int_equal(len, 0);
    chr_free(t);
    chr_sb_str(&b, "dropped");
    chr_sb_free(&b);
    assert_null(b.p);
    assert_int_equal(b.len + b.cap, 0);
    chr_sb_free(&b); /* twice is fine */
}

static void test_growth_and_binary(void **state)
{
    (void)state;
    struct chr_sb b = {0};
    for (int i = 0; i < 5000; i++)
        chr_sb_fmt(&b, "%04d,", i);
    chr_sb_put(&b, "a\0b", 3);
    size_t len = 0;
    char *t = chr_sb_finish(&b, &len);
    assert_non_null(t);
    assert_int_equal(len, 5000 * 5 + 3);
    for (int i = 0; i < 5000; i += 997) {
        char want[16];
        snprintf(want, sizeof want, "%04d,", i);
        assert_memory_equal(t + i * 5, want, 5);
    }
    assert_memory_equal(t + 25000, "a\0b", 4); /* and the NUL after */
    chr_free(t);
}

static void test_fmt_bound(void **state)
{
    (void)state;
    struct chr_sb b = {0};
    char big[300];
    memset(big, 'x', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    chr_sb_fmt(&b, "%.255s", big); /* 255 bytes: fits */
    assert_false(chr_sb_failed(&b));
    chr_sb_fmt(&b, "%s", big); /* 299: an error that sticks */
    assert_true(chr_sb_failed(&b));
    chr_sb_str(&b, "more");
    assert_int_equal(b.len, 255);
    assert_null(chr_sb_finish(&b, NULL));
}

/* s as chr_sb_json_str writes it. */
static char *json_of(const char *s)
{
    struct chr_sb b = {0};
    chr_sb_json_str(&b, s);
    char *t = chr_sb_finish(&b, NULL);
    assert_non_null(t);
    return t;
}

static void assert_json(const char *in, const char *want)
{
    char *t = json_of(in);
    assert_string_equal(t, want);
    chr_free(t);
}

static void test_json_str(void **state)
{
    (void)state;
    assert_json("plain", "\"plain\"");
    assert_json(NULL, "\"\"");
    assert_json("", "\"\"");
    assert_json("a\"b\\c", "\"a\\\"b\\\\c\"");
    assert_json("\n\r\t\x01\x1f", "\"\\n\\r\\t\\u0001\\u001f\"");
    assert_json("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80", "\"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80\"");
    /* Not UTF-8: a lone continuation, an overlong form, a surrogate, a cut
     * sequence, a byte that never starts one. */
    assert_json("\x80", "\"\\ufffd\"");
    assert_json("\xc0\xaf", "\"\\ufffd\\ufffd\"");
    assert_json("\xed\xa0\x80", "\"\\ufffd\\ufffd\\ufffd\"");
    assert_json("a\xe2\x82", "\"a\\ufffd\\ufffd\"");
    assert_json("\xff", "\"\\ufffd\"");
    /* The body alone, in pieces. */
    struct chr_sb b = {0};
    chr_sb_ch(&b, '"');
    chr_sb_json_body(&b, "a\"");
    chr_sb_json_body(&b, "\\b");
    chr_sb_ch(&b, '"');
    char *t = chr_sb_finish(&b, NULL);
    assert_string_equal(t, "\"a\\\"\\\\b\"");
    chr_free(t);
}

/* Any bytes make a JSON string that reads back; when they were UTF-8
 * without NUL, as themselves. */
static void test_json_any_bytes(void **state)
{
    (void)state;
    uint64_t x = 0x9E3779B97F4A7C15ULL;
    for (int round = 0; round < 3000; round++) {
        char in[24];
        size_t n = (size_t)(round % 23);
        for (size_t i = 0; i < n; i++) {
            x ^= x << 13, x ^= x >> 7, x ^= x << 17;
            unsigned char c = (unsigned char)(x >> 32);
            in[i] = (char)(c == 0 ? 'z' : (round % 3 == 0 ? (c & 0x7f) | 1 : c));
        }
        in[n] = '\0';
        char *t = json_of(in);
        json_error_t jerr;
        json_t *v = json_loads(t, JSON_DECODE_ANY, &jerr);
        if (v == NULL || !json_is_string(v))
            fail_msg("not a JSON string: %s (%s)", t, jerr.text);
        if (strchr(t, '\\') == NULL || strstr(t, "\\ufffd") == NULL)
            assert_string_equal(json_string_value(v), in);
        json_decref(v);
        chr_free(t);
    }
}

/* A build of many pieces (several allocations as it grows). */
static char *build(size_t *len)
{
    struct chr_sb b = {0};
    for (int i = 0; i < 300; i++) {
        chr_sb_json_str(&b, "name\n\xff");
        chr_sb_fmt(&b, ":%d;", i);
        if (chr_sb_failed(&b))
            break; /* what callers that loop do */
    }
    return chr_sb_finish(&b, len);
}

static void test_allocation_failure_everywhere(void **state)
{
    (void)state;
    size_t want_len = 0;
    char *want = build(&want_len);
    assert_non_null(want);
    bool succeeded = false;
    for (long n = 1; n < 64 && !succeeded; n++) {
        chr_alloc_fail_after(n);
        size_t len = 0;
        char *got = build(&len);
        chr_alloc_fail_after(-1);
        if (got != NULL) {
            assert_int_equal(len, want_len);
            assert_memory_equal(got, want, len + 1);
            succeeded = true;
        }
        chr_free(got);
    }
    assert_true(succeeded);
    chr_free(want);
    /* The first allocation of an empty finish fails too. */
    struct chr_sb b = {0};
    chr_alloc_fail_after(1);
    assert_null(chr_sb_finish(&b, NULL));
    chr_alloc_fail_after(-1);
}

static void test_failure_latches(void **state)
{
    (void)state;
    struct chr_sb b = {0};
    chr_sb_str(&b, "kept until finish");
    chr_alloc_fail_after(1);
    char big[600];
    memset(big, 'y', sizeof big);
    chr_sb_put(&b, big, sizeof big); /* must grow: fails */
    chr_alloc_fail_after(-1);
    assert_true(chr_sb_failed(&b));
    chr_sb_str(&b, "x"); /* allocation works again: still nothing */
    chr_sb_json_str(&b, "y");
    assert_int_equal(b.len, strlen("kept until finish"));
    size_t len = 7;
    assert_null(chr_sb_finish(&b, &len));
    assert_int_equal(len, 7); /* untouched on failure */
    assert_null(b.p);
    assert_false(chr_sb_failed(&b)); /* empty again, and usable */
    /* chr_sb_fail: a caller's own allocation failed. */
    chr_sb_str(&b, "half a body");
    chr_sb_fail(&b);
    assert_true(chr_sb_failed(&b));
    assert_null(chr_sb_finish(&b, NULL));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_puts_and_finish),
        cmocka_unit_test(test_empty_and_free),
        cmocka_unit_test(test_growth_and_binary),
        cmocka_unit_test(test_fmt_bound),
        cmocka_unit_test(test_json_str),
        cmocka_unit_test(test_json_any_bytes),
        cmocka_unit_test(test_allocation_failure_everywhere),
        cmocka_unit_test(test_failure_latches),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
