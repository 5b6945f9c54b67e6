/*
 * test_rm_json.c - a resource manager's figures as /v1/status shows them:
 * every agent listed with its figures, the unlisted counted, an unknown
 * total as null, and a figure that is not finite or below 0 shown as 0.
 */
#include "../unit.h"

#include <math.h>

#include "server/rm_json.h"

static double at(const json_t *o, const char *set, const char *k)
{
    const json_t *v = json_object_get(json_object_get(o, set), k);
    assert_true(json_is_real(v));
    return json_real_value(v);
}

static void test_agents_and_sums(void **state)
{
    (void)state;
    struct chr_rm_agent ag[2] = {
        {.id = "a1", .hostname = "h1", .offered = {2, 1024, 100}, .used = {0.5, 64, 0}},
        {.id = "a2", .hostname = "h2", .offered = {1, 512, 50}, .total = {4, 8192, 1000},
         .has_total = true},
    };
    struct chr_rm_resources r = {.agents = ag, .n_agents = 2, .n_unlisted = 3,
                                 .offered = {3, 1536, 150}, .used = {0.5, 64, 0},
                                 .held = {1, 512, 50}};
    json_t *o = chr_rm_resources_json(&r);
    assert_non_null(o);
    json_t *agents = json_object_get(o, "agents");
    assert_int_equal(json_array_size(agents), 2);
    json_t *a1 = json_array_get(agents, 0), *a2 = json_array_get(agents, 1);
    assert_string_equal(json_string_value(json_object_get(a1, "id")), "a1");
    assert_string_equal(json_string_value(json_object_get(a2, "hostname")), "h2");
    assert_true(at(a1, "offered", "mem") == 1024 && at(a1, "used", "cpus") == 0.5);
    assert_true(json_is_null(json_object_get(a1, "total")));
    assert_true(at(a2, "total", "disk") == 1000);
    assert_int_equal(json_integer_value(json_object_get(o, "agentsUnlisted")), 3);
    assert_true(at(o, "offered", "cpus") == 3 && at(o, "held", "mem") == 512);
    assert_true(json_is_null(json_object_get(o, "total"))); /* Mesos: unknown */
    json_decref(o);
}

static void test_bad_figures_are_zero(void **state)
{
    (void)state;
    struct chr_rm_resources r = {.used = {-1e-9, NAN, INFINITY}, .total = {4, 8, 16},
                                 .has_total = true};
    json_t *o = chr_rm_resources_json(&r);
    assert_non_null(o);
    assert_int_equal(json_array_size(json_object_get(o, "agents")), 0);
    assert_true(at(o, "used", "cpus") == 0 && at(o, "used", "mem") == 0 &&
                at(o, "used", "disk") == 0);
    assert_true(at(o, "total", "disk") == 16);
    json_decref(o);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_agents_and_sums),
        cmocka_unit_test(test_bad_figures_are_zero),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
