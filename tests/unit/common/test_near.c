/*
 * test_near.c - the nearest known word (common/near.h): typos of job fields
 * and config keys find their word; far words find none.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "common/near.h"

static const char *const fields[] = {"name", "schedule", "scheduleTimeZone", "retries",
                                     "http_port", "http_address"};
#define N (sizeof fields / sizeof fields[0])

static void test_distance(void **state)
{
    (void)state;
    assert_int_equal(chr_near_distance("schedule", "schedule"), 0);
    assert_int_equal(chr_near_distance("schedulee", "schedule"), 1);
    assert_int_equal(chr_near_distance("http_prot", "http_port"), 2);
    assert_int_equal(chr_near_distance("", "abc"), CHR_NEAR_EDITS_MAX + 1);
    assert_int_equal(chr_near_distance("suspend", "schedule"), CHR_NEAR_EDITS_MAX + 1);
}

static void test_word(void **state)
{
    (void)state;
    assert_string_equal(chr_near_word("schedulee", fields, N), "schedule");
    assert_string_equal(chr_near_word("retires", fields, N), "retries");
    assert_string_equal(chr_near_word("http_prot", fields, N), "http_port");
    assert_null(chr_near_word("suspend", fields, N));
    assert_null(chr_near_word("a_word_far_longer_than_any_row_the_function_keeps_on_its_stack_x",
                              fields, N));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_distance),
        cmocka_unit_test(test_word),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
