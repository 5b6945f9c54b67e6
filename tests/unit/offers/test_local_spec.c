/*
 * test_local_spec.c - the pure parts of the local resource manager: run id
 * rules, Chronos's formatting of resources, the spec (argv, environment with
 * built-ins winning) through its JSON and back, the run directory's records,
 * and allocation failures in decoding.  No process is started here
 * (test_local.c does that).
 */
#include "../unit.h"

#include <fcntl.h>
#include <stdbool.h>
#include <stdlib.h>
#include <unistd.h>

#include "common/alloc.h"
#include "common/limits.h"
#include "offers/local.h"
#include "offers/local_int.h"

/* ---- helpers ------------------------------------------------------------ */

static const char *env_get(char *const *env, const char *name)
{
    size_t n = strlen(name);
    for (size_t i = 0; env[i]; i++)
        if (strncmp(env[i], name, n) == 0 && env[i][n] == '=')
            return env[i] + n + 1;
    return NULL;
}

static size_t env_count(char *const *env, const char *name)
{
    size_t n = strlen(name), count = 0;
    for (size_t i = 0; env[i]; i++)
        count += strncmp(env[i], name, n) == 0 && env[i][n] == '=';
    return count;
}

static struct chr_local_task sample_task(void)
{
    static const struct chr_env_var env[] = {
        {"FOO", "bar"},
        {"CHRONOS_JOB_NAME", "impostor"}, /* a built-in's name: the built-in wins */
        {"FOO", "baz"},                   /* a later duplicate wins */
        {"PATH", "/opt/bin"},
    };
    static char *const args[] = {"a b", "--flag"};
    return (struct chr_local_task){
        .run_id = "ct:1700000000000:2:nightly",
        .job_name = "nightly",
        .owner = "ops@example.com",
        .command = "echo",
        .shell = false,
        .arguments = args,
        .n_arguments = 2,
        .env = env,
        .n_env = 4,
        .res = {0.1, 128, 256},
        .due_ms = 1700000000000,
        .attempt = 2,
        .max_completion_ms = 60000,
    };
}

static void decode_task(const struct chr_local_task *t, struct chr_local_spec *spec)
{
    char *text = NULL;
    size_t len = 0;
    struct chr_error err;
    assert_int_equal(chr_local_spec_encode(t, "host-1", 1500, &text, &len, &err), CHR_OK);
    assert_int_equal(strlen(text), len);
    assert_int_equal(chr_local_spec_decode(text, len, spec), CHR_OK);
    chr_free(text);
}

/* ---- run ids ---------------------------------------------------------- */

static void test_run_id_rules(void **state)
{
    (void)state;
    assert_true(chr_local_run_id_valid("ct:1700000000000:0:job-1.x_y"));
    assert_true(chr_local_run_id_valid("a"));
    char longest[CHR_LOCAL_RUN_ID_MAX + 2];
    memset(longest, 'x', sizeof longest);
    longest[CHR_LOCAL_RUN_ID_MAX] = '\0';
    assert_true(chr_local_run_id_valid(longest));
    longest[CHR_LOCAL_RUN_ID_MAX] = 'x';
    longest[CHR_LOCAL_RUN_ID_MAX + 1] = '\0';
    assert_false(chr_local_run_id_valid(longest)); /* 256 bytes: over NAME_MAX */
    assert_false(chr_local_run_id_valid(""));
    assert_false(chr_local_run_id_valid(NULL));
    assert_false(chr_local_run_id_valid("."));
    assert_false(chr_local_run_id_valid(".."));
    assert_false(chr_local_run_id_valid(".done")); /* names starting with '.' are ours */
    assert_false(chr_local_run_id_valid("../etc"));
    assert_false(chr_local_run_id_valid("a/b"));
    assert_false(chr_local_run_id_valid("a b"));
    assert_false(chr_local_run_id_valid("a;b"));
}

static void test_task_check(void **state)
{
    (void)state;
    struct chr_local_task t = sample_task();
    struct chr_error err;
    assert_int_equal(chr_local_task_check(&t, &err), CHR_OK);
    t.run_id = "../x";
    assert_int_equal(chr_local_task_check(&t, &err), CHR_EINVAL);
    assert_string_equal(err.field, "run_id");
    t = sample_task();
    t.command = "";
    assert_int_equal(chr_local_task_check(&t, &err), CHR_EINVAL);
    assert_string_equal(err.field, "command");
    t = sample_task();
    t.job_name = "..";
    assert_int_equal(chr_local_task_check(&t, &err), CHR_EINVAL);
    t = sample_task();
    t.res.cpus = -1;
    assert_int_equal(chr_local_task_check(&t, &err), CHR_EINVAL);
    assert_string_equal(err.field, "cpus");
    t = sample_task();
    t.run_as_user = "evil/../user";
    assert_int_equal(chr_local_task_check(&t, &err), CHR_EINVAL);
    assert_string_equal(err.field, "runAsUser");
    t = sample_task();
    struct chr_env_var bad = {"A=B", "x"};
    t.env = &bad;
    t.n_env = 1;
    assert_int_equal(chr_local_task_check(&t, &err), CHR_EINVAL);
    assert_string_equal(err.field, "environmentVariables");
    t = sample_task();
    t.stdout_max_bytes = CHR_LOCAL_OUTPUT_MAX + 1;
    assert_int_equal(chr_local_task_check(&t, &err), CHR_EINVAL);
}

/* ---- resources as Chronos prints them ------------------------------------- */

static void assert_double(double v, const char *want)
{
    char buf[32];
    chr_local_format_double(v, buf);
    if (strcmp(buf, want) != 0)
        fail_msg("format_double(%.17g) = '%s', want '%s'", v, buf, want);
}

static void test_format_double(void **state)
{
    (void)state;
    /* Java's Double.toString, which Chronos uses (MesosTaskBuilder). */
    assert_double(0.1, "0.1");
    assert_double(5, "5.0");
    assert_double(128, "128.0");
    assert_double(0, "0.0");
    assert_double(0.25, "0.25");
    assert_double(1.5, "1.5");
    assert_double(2048.75, "2048.75");
    assert_double(0.001, "0.001");
    assert_double(9999999, "9999999.0");
    assert_double(1e7, "1.0E7");
    assert_double(16777216, "1.6777216E7");
    assert_double(0.0001, "1.0E-4");
}

/* ---- the spec ------------------------------------------------------------ */

static void test_spec_argv_forms(void **state)
{
    (void)state;
    struct chr_local_task t = sample_task();
    struct chr_local_spec s;
    decode_task(&t, &s);
    /* shell false: {command, arguments...} */
    assert_string_equal(s.argv[0], "echo");
    assert_string_equal(s.argv[1], "a b");
    assert_string_equal(s.argv[2], "--flag");
    assert_null(s.argv[3]);
    assert_string_equal(s.run_id, t.run_id);
    assert_string_equal(s.job, "nightly");
    assert_null(s.user);
    assert_int_equal(s.max_completion_ms, 60000);
    assert_int_equal(s.not_before_ms, 0);
    assert_int_equal(s.kill_grace_ms, 1500);
    assert_int_equal(s.stdout_max, CHR_LOCAL_OUTPUT_DEFAULT);
    assert_true(s.res.cpus == 0.1 && s.res.mem_mb == 128 && s.res.disk_mb == 256);
    chr_local_spec_free(&s);

    /* shell true: /bin/sh -c command, arguments ignored (as Mesos does) */
    t.shell = true;
    t.command = "echo $HOME; exit 3";
    t.run_as_user = "nobody";
    t.stderr_max_bytes = 77;
    decode_task(&t, &s);
    assert_string_equal(s.argv[0], "/bin/sh");
    assert_string_equal(s.argv[1], "-c");
    assert_string_equal(s.argv[2], "echo $HOME; exit 3");
    assert_null(s.argv[3]);
    assert_string_equal(s.user, "nobody");
    assert_int_equal(s.stderr_max, 77);
    chr_local_spec_free(&s);
}

/* not_before_ms travels in the spec; a spec without it (written before it
 * existed) runs at once; a negative one is refused. */
static void test_spec_not_before(void **state)
{
    (void)state;
    struct chr_local_task t = sample_task();
    t.not_before_ms = 1700000000123;
    struct chr_local_spec s;
    decode_task(&t, &s);
    assert_true(s.not_before_ms == 1700000000123);
    chr_local_spec_free(&s);
    const char *old =
        "{\"run_id\":\"a\",\"job\":\"j\",\"argv\":[\"x\"],\"env\":{},\"cpus\":1,\"mem_mb\":1,"
        "\"disk_mb\":1,\"max_completion_ms\":0,\"kill_grace_ms\":0,\"stdout_max\":1,"
        "\"stderr_max\":1}";
    assert_int_equal(chr_local_spec_decode(old, strlen(old), &s), CHR_OK);
    assert_int_equal(s.not_before_ms, 0);
    chr_local_spec_free(&s);
    struct chr_error err;
    t.not_before_ms = -1;
    assert_int_equal(chr_local_task_check(&t, &err), CHR_EINVAL);
    assert_string_equal(err.field, "not_before_ms");
}

static void test_spec_env_builtins_win(void **state)
{
    (void)state;
    struct chr_local_task t = sample_task();
    struct chr_local_spec s;
    decode_task(&t, &s);
    assert_string_equal(env_get(s.env, "CHRONOS_JOB_NAME"), "nightly");
    assert_int_equal(env_count(s.env, "CHRONOS_JOB_NAME"), 1);
    assert_string_equal(env_get(s.env, "FOO"), "baz");
    assert_int_equal(env_count(s.env, "FOO"), 1);
    assert_string_equal(env_get(s.env, "CHRONOS_JOB_OWNER"), "ops@example.com");
    assert_string_equal(env_get(s.env, "CHRONOS_JOB_RUN_TIME"), "1700000000000");
    assert_string_equal(env_get(s.env, "CHRONOS_JOB_RUN_ATTEMPT"), "2");
    assert_string_equal(env_get(s.env, "CHRONOS_RESOURCE_CPU"), "0.1");
    assert_string_equal(env_get(s.env, "CHRONOS_RESOURCE_MEM"), "128.0");
    assert_string_equal(env_get(s.env, "CHRONOS_RESOURCE_DISK"), "256.0");
    assert_string_equal(env_get(s.env, "MESOS_TASK_ID"), t.run_id);
    assert_string_equal(env_get(s.env, "mesos_task_id"), t.run_id);
    assert_string_equal(env_get(s.env, "HOST"), "host-1");

    /* The user's base variables go under everything the spec sets. */
    char *base[] = {"PATH=/usr/bin", "HOME=/root", "USER=root", NULL};
    char **env = chr_local_env_merge(s.env, base);
    assert_non_null(env);
    assert_string_equal(env_get(env, "PATH"), "/opt/bin"); /* the job's PATH wins */
    assert_int_equal(env_count(env, "PATH"), 1);
    assert_string_equal(env_get(env, "HOME"), "/root");
    assert_string_equal(env_get(env, "CHRONOS_JOB_NAME"), "nightly");
    chr_free(env);
    chr_local_spec_free(&s);
}

static void test_spec_rejects(void **state)
{
    (void)state;
    struct chr_local_spec s;
    const char *bad[] = {
        "", "{", "[]", "{\"run_id\": 1}",
        "{\"run_id\":\"a\",\"job\":\"j\",\"argv\":[],\"env\":{},\"cpus\":1,\"mem_mb\":1,"
        "\"disk_mb\":1,\"max_completion_ms\":0,\"kill_grace_ms\":0,\"stdout_max\":1,"
        "\"stderr_max\":1}", /* an empty argv */
        "{\"run_id\":\"a\",\"job\":\"j\",\"argv\":[\"x\"],\"env\":[],\"cpus\":1,\"mem_mb\":1,"
        "\"disk_mb\":1,\"max_completion_ms\":0,\"kill_grace_ms\":0,\"stdout_max\":1,"
        "\"stderr_max\":1}", /* env not an object */
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        if (chr_local_spec_decode(bad[i], strlen(bad[i]), &s) != CHR_EINVAL)
            fail_msg("spec %zu was accepted", i);
    }
    /* Strings must be UTF-8 (the spec is JSON). */
    struct chr_local_task t = sample_task();
    t.command = "caf\xe9";
    char *text = NULL;
    size_t len = 0;
    struct chr_error err;
    assert_int_equal(chr_local_spec_encode(&t, "h", 1, &text, &len, &err), CHR_EINVAL);
    assert_null(text);
}

/* The server resolves the task's user (here: ours, run_as_user NULL) into
 * the spec's ident, so that the supervisor loads no user database; a spec
 * without one (written before it existed) decodes with none, and an ident
 * out of shape is refused. */
static void test_spec_ident(void **state)
{
    (void)state;
    struct chr_local_task t = sample_task();
    t.run_as_user = NULL;
    struct chr_local_spec s;
    decode_task(&t, &s);
    assert_true(s.ident.set);
    assert_int_equal(s.ident.uid, (uint32_t)geteuid());
    assert_non_null(s.ident.name);
    assert_non_null(s.ident.home);
    assert_true(s.ident.n_groups >= 1 && s.ident.n_groups <= CHR_LOCAL_IDENT_GROUPS_MAX);
    chr_local_spec_free(&s);
    t.run_as_user = "no-such-user-here-at-all";
    decode_task(&t, &s); /* unknown to the server: the supervisor says so */
    assert_false(s.ident.set);
    assert_string_equal(s.user, "no-such-user-here-at-all");
    chr_local_spec_free(&s);
#define BASE "{\"run_id\":\"a\",\"job\":\"j\",\"argv\":[\"x\"],\"env\":{},\"cpus\":1,\"mem_mb\":1," \
             "\"disk_mb\":1,\"max_completion_ms\":0,\"kill_grace_ms\":0,\"stdout_max\":1," \
             "\"stderr_max\":1"
    const char *good = BASE ",\"ident\":{\"name\":\"u\",\"uid\":7,\"gid\":8,\"home\":\"/h\","
                            "\"shell\":\"\",\"groups\":[8,9]}}";
    assert_int_equal(chr_local_spec_decode(good, strlen(good), &s), CHR_OK);
    assert_true(s.ident.set);
    assert_int_equal(s.ident.uid, 7);
    assert_int_equal(s.ident.gid, 8);
    assert_int_equal(s.ident.n_groups, 2);
    assert_int_equal(s.ident.groups[1], 9);
    assert_string_equal(s.ident.home, "/h");
    chr_local_spec_free(&s);
    const char *bad[] = {
        BASE ",\"ident\":[]}",
        BASE ",\"ident\":{\"name\":\"u\",\"uid\":-1,\"gid\":8,\"home\":\"/h\",\"shell\":\"\","
             "\"groups\":[]}}",
        BASE ",\"ident\":{\"name\":\"u\",\"uid\":4294967295,\"gid\":8,\"home\":\"/h\","
             "\"shell\":\"\",\"groups\":[]}}",
        BASE ",\"ident\":{\"name\":\"\",\"uid\":1,\"gid\":8,\"home\":\"/h\",\"shell\":\"\","
             "\"groups\":[]}}",
        BASE ",\"ident\":{\"name\":\"u\",\"uid\":1,\"gid\":8,\"home\":\"/h\",\"shell\":\"\","
             "\"groups\":[\"8\"]}}",
        BASE ",\"ident\":{\"name\":\"u\",\"uid\":1,\"gid\":8,\"shell\":\"\",\"groups\":[]}}",
        BASE ",\"ident\":{\"name\":\"u\\u0000v\",\"uid\":1,\"gid\":8,\"home\":\"/h\","
             "\"shell\":\"\",\"groups\":[]}}",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        if (chr_local_spec_decode(bad[i], strlen(bad[i]), &s) != CHR_EINVAL)
            fail_msg("ident %zu was accepted", i);
    /* More groups than an ident carries. */
    char many[8192];
    int n = snprintf(many, sizeof many, "%s", BASE ",\"ident\":{\"name\":\"u\",\"uid\":1,\"gid\":8,"
                                              "\"home\":\"/h\",\"shell\":\"\",\"groups\":[0");
    for (int i = 1; i <= CHR_LOCAL_IDENT_GROUPS_MAX; i++)
        n += snprintf(many + n, sizeof many - (size_t)n, ",%d", i);
    snprintf(many + n, sizeof many - (size_t)n, "]}}");
    assert_int_equal(chr_local_spec_decode(many, strlen(many), &s), CHR_EINVAL);
#undef BASE
}

static void test_spec_decode_alloc_failures(void **state)
{
    (void)state;
    struct chr_local_task t = sample_task();
    char *text = NULL;
    size_t len = 0;
    struct chr_error err;
    assert_int_equal(chr_local_spec_encode(&t, "h", 1, &text, &len, &err), CHR_OK);
    int failures = 0;
    for (long n = 1; n < 200; n++) {
        struct chr_local_spec s;
        chr_alloc_fail_after(n);
        enum chr_err e = chr_local_spec_decode(text, len, &s);
        chr_alloc_fail_after(-1);
        if (e == CHR_OK) {
            chr_local_spec_free(&s);
            break;
        }
        assert_int_equal(e, CHR_EINVAL);
        assert_null(s.argv); /* nothing partial is left */
        failures++;
    }
    assert_true(failures > 5);
    chr_free(text);
}

/* ---- records ---------------------------------------------------------------- */

static int temp_dir(char *path, size_t cap)
{
    snprintf(path, cap, "/tmp/chr-spec-XXXXXX");
    assert_non_null(mkdtemp(path));
    int fd = open(path, O_RDONLY | O_DIRECTORY);
    assert_true(fd >= 0);
    return fd;
}

static void test_records_round_trip(void **state)
{
    (void)state;
    char path[64];
    int fd = temp_dir(path, sizeof path);
    struct chr_local_claim c = {.pid = 4242, .ticks = 987654321}, c2;
    memcpy(c.boot_id, "f4c6b126-eaa5-4cd8-9845-93df1abc9efb", CHR_LOCAL_BOOT_ID_LEN + 1);
    char line[128];
    size_t n = chr_local_claim_format(&c, line, sizeof line);
    assert_int_equal(chr_local_claim_read(fd, &c2), CHR_ENOENT);
    assert_int_equal(chr_local_file_create(fd, CHR_LOCAL_CLAIM_FILE, line), CHR_OK);
    assert_int_equal(chr_local_file_create(fd, CHR_LOCAL_CLAIM_FILE, line), CHR_ECONFLICT);
    assert_int_equal(chr_local_claim_read(fd, &c2), CHR_OK);
    assert_false(c2.abandoned);
    assert_int_equal(c2.pid, 4242);
    assert_int_equal(c2.ticks, 987654321);
    assert_string_equal(c2.boot_id, c.boot_id);
    assert_int_equal(n, strlen(line));

    struct chr_local_pidrec p = {.pid = 77, .start_ms = 1700000000123, .ticks = 5}, p2;
    memcpy(p.boot_id, c.boot_id, sizeof p.boot_id);
    n = chr_local_pidrec_format(&p, line, sizeof line);
    assert_int_equal(chr_local_file_record(fd, CHR_LOCAL_PID_FILE, line, n), CHR_OK);
    assert_int_equal(chr_local_file_record(fd, CHR_LOCAL_PID_FILE, line, n), CHR_ECONFLICT);
    assert_int_equal(chr_local_pidrec_read(fd, &p2), CHR_OK);
    assert_int_equal(p2.pid, 77);
    assert_int_equal(p2.start_ms, 1700000000123);
    assert_int_equal(p2.ticks, 5);

    struct chr_local_exitrec e = {.state = CHR_LOCAL_FAILED, .pid = 77, .exit_code = 127,
                                  .start_ms = 1, .end_ms = 2, .stdout_bytes = 10,
                                  .stderr_truncated = true}, e2;
    snprintf(e.reason, sizeof e.reason, "exit 127 \"quoted\" (command not found)");
    char *text = chr_local_exitrec_format(&e, &n);
    assert_non_null(text);
    assert_int_equal(chr_local_file_record(fd, CHR_LOCAL_EXIT_FILE, text, n), CHR_OK);
    chr_free(text);
    assert_int_equal(chr_local_exitrec_read(fd, &e2), CHR_OK);
    assert_int_equal(e2.state, CHR_LOCAL_FAILED);
    assert_int_equal(e2.exit_code, 127);
    assert_int_equal(e2.stdout_bytes, 10);
    assert_true(e2.stderr_truncated);
    assert_false(e2.stdout_truncated);
    assert_string_equal(e2.reason, e.reason);

    /* A torn or foreign record is an error, not a crash. */
    assert_int_equal(chr_local_file_write(fd, CHR_LOCAL_PID_FILE, "12 x", 4, false), CHR_OK);
    assert_int_equal(chr_local_pidrec_read(fd, &p2), CHR_EINVAL);
    assert_int_equal(chr_local_file_write(fd, CHR_LOCAL_EXIT_FILE, "{\"state\":\"LOST\"}", 16,
                                          false),
                     CHR_OK);
    assert_int_equal(chr_local_exitrec_read(fd, &e2), CHR_EINVAL);
    close(fd);
    int dfd = open("/tmp", O_RDONLY | O_DIRECTORY);
    assert_int_equal(chr_local_dir_remove(dfd, path + 5), CHR_OK);
    close(dfd);
    assert_int_equal(access(path, F_OK), -1);
}

static void test_proc_identity(void **state)
{
    (void)state;
    uint64_t ticks = 0, again = 0;
    assert_true(chr_local_proc_start(getpid(), &ticks));
    assert_true(chr_local_proc_start(getpid(), &again));
    assert_int_equal(ticks, again);
    char boot[CHR_LOCAL_BOOT_ID_LEN + 1];
    assert_true(chr_local_boot_id(boot));
    int fd = chr_local_proc_watch(getpid(), ticks, boot);
    assert_true(fd >= 0);
    close(fd);
    /* Another start time is another process, whatever its pid. */
    assert_int_equal(chr_local_proc_watch(getpid(), ticks + 1, boot), -1);
    char other[CHR_LOCAL_BOOT_ID_LEN + 1];
    memcpy(other, boot, sizeof other);
    other[0] = other[0] == '0' ? '1' : '0';
    assert_int_equal(chr_local_proc_watch(getpid(), ticks, other), -1);
}

static void test_state_names(void **state)
{
    (void)state;
    assert_string_equal(chr_local_state_name(CHR_LOCAL_FINISHED), "FINISHED");
    assert_string_equal(chr_local_state_name(CHR_LOCAL_DROPPED), "DROPPED");
    assert_string_equal(chr_local_state_name((enum chr_local_state)99), "UNKNOWN");
    assert_false(chr_local_state_terminal(CHR_LOCAL_RUNNING));
    assert_false(chr_local_state_terminal(CHR_LOCAL_STARTING));
    assert_true(chr_local_state_terminal(CHR_LOCAL_LOST));
    assert_true(chr_local_state_terminal(CHR_LOCAL_KILLED));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_run_id_rules),
        cmocka_unit_test(test_task_check),
        cmocka_unit_test(test_format_double),
        cmocka_unit_test(test_spec_argv_forms),
        cmocka_unit_test(test_spec_not_before),
        cmocka_unit_test(test_spec_env_builtins_win),
        cmocka_unit_test(test_spec_rejects),
        cmocka_unit_test(test_spec_decode_alloc_failures),
        cmocka_unit_test(test_spec_ident),
        cmocka_unit_test(test_records_round_trip),
        cmocka_unit_test(test_proc_identity),
        cmocka_unit_test(test_state_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
