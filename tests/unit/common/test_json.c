/*
 * test_json.c - chr_json_dump (common/json.h): an object, a string with
 * escapes and non-ASCII text, and an array dump as compact JSON that jansson
 * reads back equal, with the length of the text; NULL in gives NULL; a
 * failed allocation of our copy gives NULL and leaks nothing (ASan checks),
 * the value being released either way.
 */
#include "../unit.h"

#include <jansson.h>
#include <string.h>

#include "common/alloc.h"
#include "common/json.h"

static void check_round_trip(json_t *v)
{
    json_t *keep = json_deep_copy(v);
    size_t len = 0;
    char *text = chr_json_dump(v, &len); /* consumes v */
    assert_non_null(text);
    assert_int_equal(len, strlen(text));
    assert_null(strchr(text, '\n')); /* compact */
    json_t *back = json_loads(text, JSON_DECODE_ANY, NULL);
    assert_non_null(back);
    assert_true(json_equal(back, keep));
    json_decref(back);
    json_decref(keep);
    chr_free(text);
}

static void test_values(void **state)
{
    (void)state;
    check_round_trip(json_pack("{s:s,s:i,s:b,s:n}", "name", "job-1", "n", 42, "ok", 1, "x"));
    check_round_trip(json_string("quote \" backslash \\ tab \t caf\xc3\xa9"));
    check_round_trip(json_pack("[i,s,[]]", -7, "a"));
    char *t = chr_json_dump(json_pack("{s:i}", "a", 1), NULL);
    assert_string_equal(t, "{\"a\":1}");
    chr_free(t);
}

static void test_null_and_failure(void **state)
{
    (void)state;
    size_t len = 99;
    assert_null(chr_json_dump(NULL, &len));
    assert_int_equal(len, 99); /* left alone */
    json_t *v = json_pack("{s:s}", "k", "v");
    chr_alloc_fail_after(1); /* our copy of the text */
    char *t = chr_json_dump(v, &len);
    chr_alloc_fail_after(-1);
    assert_null(t);
    assert_int_equal(len, 99);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_values),
        cmocka_unit_test(test_null_and_failure),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
