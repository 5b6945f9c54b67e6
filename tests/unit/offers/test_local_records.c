/*
 * test_local_records.c - the pure parsers of a run directory's records
 * (offers/local_rundir.c: claim, pid; offers/local_spec.c: the spec's env),
 * on text, for what fuzzing found or must keep finding: a pid beyond
 * INT32_MAX never becomes a negative pid_t (kill() takes one for a process
 * group), a torn record is refused, and a spec env name holding '=' (which
 * the writer never makes) is refused instead of defining another variable.
 */
#include "../unit.h"

#include <stdlib.h>

#include "common/limits.h"
#include "offers/local_int.h"

#define BOOT "0f3c2a4e-5b6d-4e7f-8a9b-0c1d2e3f4a5b"

static enum chr_err claim(const char *text, struct chr_local_claim *c)
{
    return chr_local_claim_parse(text, strlen(text), c);
}

static void test_claim(void **state)
{
    (void)state;
    struct chr_local_claim c;
    assert_int_equal(claim("4242 99 " BOOT "\n", &c), CHR_OK);
    assert_int_equal(c.pid, 4242);
    assert_int_equal(c.ticks, 99);
    assert_string_equal(c.boot_id, BOOT);
    assert_false(c.abandoned);
    assert_int_equal(claim("abandoned\n", &c), CHR_OK);
    assert_true(c.abandoned);
    assert_int_equal(claim("2147483647 1 " BOOT "\n", &c), CHR_OK);
    assert_int_equal(c.pid, 2147483647);
    const char *bad[] = {
        "2147483648 1 " BOOT "\n", /* past pid_t: would wrap negative */
        "4294967297 1 " BOOT "\n", /* would wrap to pid 1 */
        "0 1 " BOOT "\n", "-5 1 " BOOT "\n", "4242 -1 " BOOT "\n",
        "4242 99 0f3c2a4e\n", /* torn: the boot id cut short */
        "4242", "",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        memset(&c, 0x5a, sizeof c);
        if (claim(bad[i], &c) != CHR_EINVAL)
            fail_msg("claim '%s' parsed", bad[i]);
        assert_int_equal(c.pid, 0); /* nothing half-filled */
    }
    /* Longer than a record may be: refused, whatever it holds. */
    char big[CHR_LOCAL_RECORD_MAX + 2];
    memset(big, ' ', sizeof big);
    memcpy(big, "4242 99 " BOOT "\n", strlen("4242 99 " BOOT "\n"));
    assert_int_equal(chr_local_claim_parse(big, sizeof big, &c), CHR_EINVAL);
}

static void test_pid_record(void **state)
{
    (void)state;
    struct chr_local_pidrec p;
    const char *ok = "4243 1767225600000 " BOOT " 123999\n";
    assert_int_equal(chr_local_pidrec_parse(ok, strlen(ok), &p), CHR_OK);
    assert_int_equal(p.pid, 4243);
    assert_int_equal(p.start_ms, 1767225600000LL);
    assert_int_equal(p.ticks, 123999);
    const char *wide = "2147483648 1767225600000 " BOOT " 1\n";
    assert_int_equal(chr_local_pidrec_parse(wide, strlen(wide), &p), CHR_EINVAL);
    assert_int_equal(chr_local_pidrec_parse(ok, 30, &p), CHR_EINVAL); /* torn */
}

static void test_spec_env_names(void **state)
{
    (void)state;
    const char *head = "{\"run_id\":\"r\",\"job\":\"j\",\"argv\":[\"/bin/true\"],\"cpus\":1,"
                       "\"mem_mb\":1,\"disk_mb\":1,\"max_completion_ms\":0,\"kill_grace_ms\":0,"
                       "\"stdout_max\":1,\"stderr_max\":1,\"env\":";
    const char *envs[] = {"{\"A\":\"1\"}", "{\"A\":\"1\",\"A=1X\":\"0\"}", "{\"\":\"1\"}"};
    const enum chr_err want[] = {CHR_OK, CHR_EINVAL, CHR_EINVAL};
    for (size_t i = 0; i < 3; i++) {
        char text[512];
        snprintf(text, sizeof text, "%s%s}", head, envs[i]);
        struct chr_local_spec s;
        enum chr_err e = chr_local_spec_decode(text, strlen(text), &s);
        if (e != want[i])
            fail_msg("env %s: %s", envs[i], chr_err_name(e));
        if (e == CHR_OK) {
            assert_string_equal(s.env[0], "A=1");
            assert_null(s.env[1]);
            chr_local_spec_free(&s);
        }
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_claim),
        cmocka_unit_test(test_pid_record),
        cmocka_unit_test(test_spec_env_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
