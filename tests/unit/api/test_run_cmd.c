/*
 * test_run_cmd.c - what a run executes (api/run_cmd.c): a manual run's
 * ?arguments= encoded as a JSON array, limits on them, argv elements for a
 * shell:false job, shell-quoted words for a shell:true job, the job's own
 * arguments when there are none, and a run recorded before the encoding
 * (plain text) taken as one argument, never as shell text.
 */
#include "../unit.h"

#include <stdbool.h>
#include <stdlib.h>

#include "common/alloc.h"
#include "common/limits.h"
#include "api/run_cmd.h"

static void test_encode(void **state)
{
    (void)state;
    enum chr_err e;
    struct chr_error err;
    const char *none[] = {""};
    assert_null(chr_run_args_encode(none, 0, &e, &err));
    assert_int_equal(e, CHR_OK);
    assert_null(chr_run_args_encode(none, 1, &e, &err)); /* a bare ?arguments= */
    assert_int_equal(e, CHR_OK);
    const char *two[] = {"x;id", "a \"b\""};
    char *t = chr_run_args_encode(two, 2, &e, &err);
    assert_string_equal(t, "[\"x;id\",\"a \\\"b\\\"\"]");
    chr_free(t);
    const char *blank_pair[] = {"", ""}; /* two values: both are arguments */
    t = chr_run_args_encode(blank_pair, 2, &e, &err);
    assert_string_equal(t, "[\"\",\"\"]");
    chr_free(t);
    const char *bad[] = {"ok", "\xff\xfe"};
    assert_null(chr_run_args_encode(bad, 2, &e, &err));
    assert_int_equal(e, CHR_EINVAL);
    assert_string_equal(err.field, "arguments");
    const char *many[CHR_JOB_ARGUMENTS_MAX + 1];
    for (size_t i = 0; i <= CHR_JOB_ARGUMENTS_MAX; i++)
        many[i] = "a";
    assert_null(chr_run_args_encode(many, CHR_JOB_ARGUMENTS_MAX + 1, &e, &err));
    assert_int_equal(e, CHR_EINVAL);
    char *big = chr_malloc(CHR_JOB_COMMAND_MAX + 1);
    memset(big, 'a', CHR_JOB_COMMAND_MAX);
    big[CHR_JOB_COMMAND_MAX] = '\0';
    const char *one_big[] = {big};
    assert_null(chr_run_args_encode(one_big, 1, &e, &err));
    assert_int_equal(e, CHR_EINVAL);
    chr_free(big);
}

static struct chr_job job(const char *command, bool shell, char **args, uint32_t n)
{
    struct chr_job j;
    memset(&j, 0, sizeof j);
    j.command = (char *)command;
    j.shell = shell;
    j.arguments = args;
    j.n_arguments = n;
    return j;
}

static void test_argv_job(void **state)
{
    (void)state;
    char *own[] = {"--own"};
    struct chr_job j = job("/bin/echo", false, own, 1);
    struct chr_run_cmd c;
    assert_int_equal(chr_run_cmd_make(&j, NULL, &c), CHR_OK);
    assert_false(c.shell);
    assert_string_equal(c.command, "/bin/echo");
    assert_int_equal(c.n_arguments, 1);
    assert_string_equal(c.arguments[0], "--own");
    chr_run_cmd_free(&c);
    /* Manual arguments replace the job's, each one argv element. */
    assert_int_equal(chr_run_cmd_make(&j, "[\"x;id\",\"b c\",\"\"]", &c), CHR_OK);
    assert_false(c.shell);
    assert_string_equal(c.command, "/bin/echo");
    assert_int_equal(c.n_arguments, 3);
    assert_string_equal(c.arguments[0], "x;id");
    assert_string_equal(c.arguments[1], "b c");
    assert_string_equal(c.arguments[2], "");
    chr_run_cmd_free(&c);
    /* A run recorded before the encoding: its text is one argument. */
    assert_int_equal(chr_run_cmd_make(&j, "hello; id", &c), CHR_OK);
    assert_int_equal(c.n_arguments, 1);
    assert_string_equal(c.arguments[0], "hello; id");
    chr_run_cmd_free(&c);
    assert_int_equal(chr_run_cmd_make(&j, "[1,2]", &c), CHR_OK); /* not ours */
    assert_int_equal(c.n_arguments, 1);
    assert_string_equal(c.arguments[0], "[1,2]");
    chr_run_cmd_free(&c);
}

static void test_shell_job(void **state)
{
    (void)state;
    struct chr_job j = job("echo >> /tmp/x", true, NULL, 0);
    struct chr_run_cmd c;
    assert_int_equal(chr_run_cmd_make(&j, "[\"it's\",\"a b\",\"$(id)\",\"\",\"plain-1.0\"]", &c),
                     CHR_OK);
    assert_true(c.shell);
    assert_int_equal(c.n_arguments, 0);
    assert_string_equal(c.command, "echo >> /tmp/x 'it'\\''s' 'a b' '$(id)' '' plain-1.0");
    chr_run_cmd_free(&c);
    assert_int_equal(chr_run_cmd_make(&j, "x; id", &c), CHR_OK); /* old text: quoted too */
    assert_string_equal(c.command, "echo >> /tmp/x 'x; id'");
    chr_run_cmd_free(&c);
    assert_int_equal(chr_run_cmd_make(&j, NULL, &c), CHR_OK);
    assert_string_equal(c.command, "echo >> /tmp/x");
    chr_run_cmd_free(&c);
}

static void test_quote_bounds(void **state)
{
    (void)state;
    char buf[16];
    size_t len = 0;
    buf[0] = '\0';
    assert_true(chr_shell_quote("ab", buf, &len, sizeof buf));
    assert_string_equal(buf, "ab");
    assert_false(chr_shell_quote("'''", buf, &len, sizeof buf)); /* needs 14 more */
    assert_string_equal(buf, "ab"); /* untouched */
    assert_true(chr_shell_quote("'", buf, &len, sizeof buf));
    assert_string_equal(buf, "ab''\\'''");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_encode),
        cmocka_unit_test(test_argv_job),
        cmocka_unit_test(test_shell_job),
        cmocka_unit_test(test_quote_bounds),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
