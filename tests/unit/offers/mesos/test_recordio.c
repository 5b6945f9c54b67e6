/*
 * test_recordio.c - the RecordIO decoder (offers/mesos/recordio.h): the same
 * records whatever the chunking (every split point, byte by byte), records
 * handed out in place or from the buffer, and each bad length line refused
 * with a message naming "recordio", stickily.
 */
#include "tests/unit/unit.h"

#include <stdlib.h>

#include "common/alloc.h"
#include "offers/mesos/recordio.h"

/* A stream of three records as a master frames them (no trailing newline). */
static const char STREAM[] = "5\nhello"
                             "12\n{\"a\":\"b\\nc\"}"
                             "1\nx";
static const char *const RECORDS[] = {"hello", "{\"a\":\"b\\nc\"}", "x"};

/* Feeds the chunks (split at the given offsets) and collects the records
 * into out (joined with '|'); returns the number of records. */
static int feed(struct chr_recordio *r, const char *s, size_t n, const size_t *cuts, size_t ncuts,
                char *out, size_t cap)
{
    int count = 0;
    size_t at = 0, o = 0;
    out[0] = '\0';
    for (size_t c = 0; c <= ncuts; c++) {
        size_t end = c < ncuts ? cuts[c] : n;
        const char *p = s + at;
        size_t left = end - at;
        const char *rec;
        size_t len;
        struct chr_error err;
        enum chr_err e;
        while ((e = chr_recordio_next(r, &p, &left, &rec, &len, &err)) == CHR_OK) {
            assert_true(o + len + 2 < cap);
            if (count++)
                out[o++] = '|';
            memcpy(out + o, rec, len);
            o += len;
            out[o] = '\0';
        }
        assert_int_equal(e, CHR_ENONE);
        assert_int_equal(left, 0);
        at = end;
    }
    return count;
}

static void test_every_split_point(void **state)
{
    (void)state;
    size_t n = sizeof STREAM - 1;
    char want[128];
    snprintf(want, sizeof want, "%s|%s|%s", RECORDS[0], RECORDS[1], RECORDS[2]);
    for (size_t i = 0; i <= n; i++)
        for (size_t j = i; j <= n; j++) {
            struct chr_recordio r;
            chr_recordio_init(&r, 64);
            size_t cuts[2] = {i, j};
            char got[128];
            assert_int_equal(feed(&r, STREAM, n, cuts, 2, got, sizeof got), 3);
            if (strcmp(got, want) != 0)
                fail_msg("split at %zu,%zu gave '%s'", i, j, got);
            assert_true(chr_recordio_idle(&r));
            chr_recordio_reset(&r);
        }
}

static void test_byte_by_byte(void **state)
{
    (void)state;
    size_t n = sizeof STREAM - 1, cuts[64];
    for (size_t i = 0; i < n; i++)
        cuts[i] = i + 1;
    struct chr_recordio r;
    chr_recordio_init(&r, 0);
    char got[128];
    assert_int_equal(feed(&r, STREAM, n, cuts, n - 1, got, sizeof got), 3);
    assert_string_equal(got, "hello|{\"a\":\"b\\nc\"}|x");
    chr_recordio_reset(&r);
}

/* A record whole in its chunk points into the chunk (no copy); one split
 * across chunks comes from the buffer; a partial record is not idle. */
static void test_in_place_and_buffered(void **state)
{
    (void)state;
    struct chr_recordio r;
    chr_recordio_init(&r, 0);
    const char *p = "3\nabc4\nde", *rec;
    size_t left = strlen(p), len;
    const char *chunk = p;
    assert_int_equal(chr_recordio_next(&r, &p, &left, &rec, &len, NULL), CHR_OK);
    assert_ptr_equal(rec, chunk + 2);
    assert_int_equal(len, 3);
    assert_int_equal(chr_recordio_next(&r, &p, &left, &rec, &len, NULL), CHR_ENONE);
    assert_false(chr_recordio_idle(&r));
    const char *q = "fg";
    left = 2;
    assert_int_equal(chr_recordio_next(&r, &q, &left, &rec, &len, NULL), CHR_OK);
    assert_int_equal(len, 4);
    assert_memory_equal(rec, "defg", 4);
    assert_true(chr_recordio_idle(&r));
    chr_recordio_reset(&r);
}

/* Feeds s whole and expects the error code with a message containing want. */
static void expect_error(const char *s, size_t max, enum chr_err code, const char *want)
{
    struct chr_recordio r;
    chr_recordio_init(&r, max);
    const char *p = s, *rec;
    size_t left = strlen(s), len;
    struct chr_error err;
    enum chr_err e;
    while ((e = chr_recordio_next(&r, &p, &left, &rec, &len, &err)) == CHR_OK)
        ;
    if (e != code)
        fail_msg("'%s': got %s, want %s", s, chr_err_name(e), chr_err_name(code));
    assert_string_equal(err.field, "recordio");
    if (strstr(err.message, want) == NULL)
        fail_msg("'%s': message '%s' does not say '%s'", s, err.message, want);
    /* Sticky: more input fails the same way. */
    const char *more = "1\na";
    left = 3;
    struct chr_error again;
    assert_int_equal(chr_recordio_next(&r, &more, &left, &rec, &len, &again), code);
    assert_string_equal(again.message, err.message);
    chr_recordio_reset(&r);
}

static void test_bad_length_lines(void **state)
{
    (void)state;
    expect_error("\nabc", 0, CHR_EINVAL, "empty length line");
    expect_error("1\na\nabc", 0, CHR_EINVAL, "empty length line");
    expect_error("12a\n", 0, CHR_EINVAL, "'a', not a decimal digit");
    expect_error("-1\n", 0, CHR_EINVAL, "not a decimal digit");
    expect_error(" 5\nhello", 0, CHR_EINVAL, "not a decimal digit");
    expect_error("5\r\nhello", 0, CHR_EINVAL, "not a decimal digit");
    expect_error("0\n", 0, CHR_EINVAL, "record length is 0");
    expect_error("000\n", 0, CHR_EINVAL, "record length is 0");
    expect_error("123456789012345678901\n", 0, CHR_EINVAL, "longer than 20 digits");
    expect_error("18446744073709551616\n", 0, CHR_EINVAL, "beyond 64 bits");
    expect_error("99999999999999999999\n", 0, CHR_EINVAL, "beyond 64 bits");
    expect_error("18446744073709551615\n", 0, CHR_ERANGE, "longer than the limit");
    expect_error("65\n", 64, CHR_ERANGE, "65 bytes is longer than the limit of 64");
    char big[32];
    snprintf(big, sizeof big, "%d\n", CHR_MESOS_RECORD_MAX + 1);
    expect_error(big, 0, CHR_ERANGE, "longer than the limit");
}

/* The limit itself is accepted, and a record after a large one still works. */
static void test_limit_accepted(void **state)
{
    (void)state;
    struct chr_recordio r;
    chr_recordio_init(&r, 8);
    const char *s = "8\n12345678", *rec;
    size_t left = strlen(s), len;
    assert_int_equal(chr_recordio_next(&r, &s, &left, &rec, &len, NULL), CHR_OK);
    assert_int_equal(len, 8);
    chr_recordio_reset(&r);
}

static void test_alloc_failure(void **state)
{
    (void)state;
    struct chr_recordio r;
    chr_recordio_init(&r, 0);
    const char *s = "10\nabc", *rec;
    size_t left = strlen(s), len;
    struct chr_error err;
    chr_alloc_fail_after(1);
    enum chr_err e = chr_recordio_next(&r, &s, &left, &rec, &len, &err);
    chr_alloc_fail_after(-1);
    assert_int_equal(e, CHR_ENOMEM);
    assert_string_equal(err.field, "recordio");
    chr_recordio_reset(&r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_split_point),  cmocka_unit_test(test_byte_by_byte),
        cmocka_unit_test(test_in_place_and_buffered), cmocka_unit_test(test_bad_length_lines),
        cmocka_unit_test(test_limit_accepted),     cmocka_unit_test(test_alloc_failure),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
