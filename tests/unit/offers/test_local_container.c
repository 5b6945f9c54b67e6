/*
 * test_local_container.c - a job's container on the local resource manager:
 * Chronos's container JSON checked (each bad one names its field), the
 * container's name, the runtime's command lines the supervisor executes
 * (`run` with env, volumes, network, pull, parameters, user, resources and
 * the shell/arguments mapping; `kill`, `rm`), the spec of a container task
 * through its JSON and back, and the refusal without a runtime.  Pure: no
 * runtime is started here (tests/integration/test_container.sh does that).
 */
#include "../unit.h"

#include <ctype.h>
#include <stdbool.h>
#include <stdlib.h>

#include "common/alloc.h"
#include "common/limits.h"
#include "offers/local.h"
#include "offers/local_int.h"

/* ---- helpers ------------------------------------------------------------ */

static size_t count(char *const *v)
{
    size_t n = 0;
    while (v && v[n])
        n++;
    return n;
}

/* argv equals want (NULL-terminated) word for word. */
static void assert_argv(char *const *argv, const char *const *want)
{
    size_t i = 0;
    for (; want[i]; i++) {
        assert_non_null(argv[i]);
        if (strcmp(argv[i], want[i]) != 0)
            fail_msg("argv[%zu] is '%s', want '%s'", i, argv[i], want[i]);
    }
    if (argv[i])
        fail_msg("argv[%zu] is '%s', want the end", i, argv[i]);
}

static bool has(char *const *v, const char *s)
{
    for (size_t i = 0; v && v[i]; i++)
        if (strcmp(v[i], s) == 0)
            return true;
    return false;
}

static void assert_bad(const char *json, const char *field, const char *in_message)
{
    struct chr_local_container c;
    struct chr_error err = {{0}, {0}};
    enum chr_err e = chr_local_container_parse(json, &c, &err);
    if (e != CHR_EINVAL)
        fail_msg("%s: got %d, want CHR_EINVAL", json, (int)e);
    if (strcmp(err.field, field) != 0)
        fail_msg("%s: field '%s', want '%s' (%s)", json, err.field, field, err.message);
    if (in_message && !strstr(err.message, in_message))
        fail_msg("%s: message '%s' lacks '%s'", json, err.message, in_message);
    assert_null(c.image); /* nothing partial is left */
}

/* ---- checking the JSON -------------------------------------------------- */

static void test_parse_defaults(void **state)
{
    (void)state;
    struct chr_local_container c;
    struct chr_error err;
    assert_int_equal(chr_local_container_parse("{\"image\":\"busybox\"}", &c, &err), CHR_OK);
    assert_string_equal(c.image, "busybox");
    assert_string_equal(c.network, "host"); /* Chronos's default network is HOST */
    assert_false(c.force_pull);
    assert_int_equal(c.n_volumes, 0);
    assert_int_equal(c.n_params, 0);
    chr_local_container_free(&c);
    assert_int_equal(chr_local_container_parse(
                         "{\"type\":\"mesos\",\"image\":\"reg.example:5000/team/app:1.2\","
                         "\"network\":\"bridge\",\"forcePullImage\":\"TRUE\","
                         "\"volumes\":[{\"hostPath\":\"/srv/in\",\"containerPath\":\"/in\","
                         "\"mode\":\"ro\"},{\"containerPath\":\"/scratch\"}],"
                         "\"parameters\":[{\"key\":\"label\",\"value\":\"a=b\"}]}",
                         &c, &err),
                     CHR_OK);
    assert_string_equal(c.network, "bridge");
    assert_true(c.force_pull); /* "parsed from text", case aside */
    assert_int_equal(c.n_volumes, 2);
    assert_string_equal(c.volumes[0].host, "/srv/in");
    assert_true(c.volumes[0].ro);
    assert_null(c.volumes[1].host);
    assert_false(c.volumes[1].ro);
    assert_string_equal(c.params[0].key, "label");
    chr_local_container_free(&c);
    assert_int_equal(chr_local_container_parse("{\"image\":\"x\",\"network\":\"USER\","
                                               "\"networkInfos\":[{\"name\":\"backend\"}]}",
                                               &c, &err),
                     CHR_OK);
    assert_string_equal(c.network, "backend");
    chr_local_container_free(&c);
}

static void test_parse_errors_name_the_field(void **state)
{
    (void)state;
    assert_bad("not json", "container", NULL);
    assert_bad("[1]", "container", "object");
    assert_bad("{}", "container.image", "required");
    assert_bad("{\"image\":\"\"}", "container.image", "required");
    assert_bad("{\"image\":\"--privileged\"}", "container.image", NULL); /* never an option */
    assert_bad("{\"image\":\"a b\"}", "container.image", NULL);
    assert_bad("{\"image\":\"x\",\"type\":\"LXC\"}", "container.type", NULL);
    assert_bad("{\"image\":\"x\",\"network\":\"WIFI\"}", "container.network", "WIFI");
    assert_bad("{\"image\":\"x\",\"network\":\"USER\"}", "container.network", "networkName");
    assert_bad("{\"image\":\"x\",\"network\":\"USER\",\"networkName\":\"-x\"}", "container.network",
               NULL);
    assert_bad("{\"image\":\"x\",\"forcePullImage\":\"maybe\"}", "container.forcePullImage", NULL);
    assert_bad("{\"image\":\"x\",\"volumes\":{}}", "container.volumes", "array");
    assert_bad("{\"image\":\"x\",\"volumes\":[{\"hostPath\":\"/a\"}]}", "container.volumes[0]",
               "containerPath is required");
    assert_bad("{\"image\":\"x\",\"volumes\":[{\"containerPath\":\"/ok\"},"
               "{\"containerPath\":\"rel/path\"}]}",
               "container.volumes[1]", "absolute");
    assert_bad("{\"image\":\"x\",\"volumes\":[{\"hostPath\":\"data\",\"containerPath\":\"/d\"}]}",
               "container.volumes[0]", "hostPath 'data' must be an absolute path");
    assert_bad("{\"image\":\"x\",\"volumes\":[{\"hostPath\":\"/a:/etc\",\"containerPath\":\"/d\"}]}",
               "container.volumes[0]", "':'");
    assert_bad("{\"image\":\"x\",\"volumes\":[{\"containerPath\":\"/d\",\"mode\":\"RX\"}]}",
               "container.volumes[0]", "RW or RO");
    assert_bad("{\"image\":\"x\",\"volumes\":[{\"containerPath\":\"/d\",\"external\":"
               "{\"name\":\"v\",\"provider\":\"dvdi\"}}]}",
               "container.volumes[0]", "external");
    assert_bad("{\"image\":\"x\",\"parameters\":[{\"key\":\"privileged\",\"value\":\"true\"}]}",
               "container.parameters[0]", "privileged");
    assert_bad("{\"image\":\"x\",\"parameters\":[{\"key\":\"label\",\"value\":\"a\"},"
               "{\"key\":\"user\",\"value\":\"0\"}]}",
               "container.parameters[1]", NULL);
    assert_bad("{\"image\":\"x\",\"parameters\":[{\"key\":\"volume\",\"value\":\"/:/host\"}]}",
               "container.parameters[0]", NULL);
    assert_bad("{\"image\":\"x\",\"parameters\":[{\"key\":\"label\"}]}", "container.parameters[0]",
               NULL);
    /* One over the bound on a list. */
    char big[8192];
    int at = snprintf(big, sizeof big, "{\"image\":\"x\",\"volumes\":[");
    for (int i = 0; i <= CHR_JOB_CONTAINER_LIST_MAX; i++)
        at += snprintf(big + at, sizeof big - (size_t)at, "%s{\"containerPath\":\"/v\"}",
                       i ? "," : "");
    snprintf(big + at, sizeof big - (size_t)at, "]}");
    assert_bad(big, "container.volumes", "more than");
}

static void test_params_allowed(void **state)
{
    (void)state;
    const char *ok[] = {"label", "workdir", "hostname", "add-host", "init", "read-only", "tmpfs"};
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++)
        assert_true(chr_local_container_param_allowed(ok[i]));
    /* Each of these would reach more of the host than the job's user may. */
    const char *no[] = {"privileged", "user", "u",    "volume", "v",       "mount", "cap-add",
                        "device",     "pid",  "ipc",  "userns", "network", "net",   "security-opt",
                        "entrypoint", "name", "rm",   "ulimit", "--label", "",      "LABEL"};
    for (size_t i = 0; i < sizeof no / sizeof no[0]; i++)
        if (chr_local_container_param_allowed(no[i]))
            fail_msg("'%s' must not be allowed", no[i]);
}

/* ---- the name ------------------------------------------------------------- */

static void test_name_sanitized_and_unique(void **state)
{
    (void)state;
    char a[CHR_LOCAL_CTR_NAME_MAX + 1], b[CHR_LOCAL_CTR_NAME_MAX + 1];
    chr_local_container_name("ct:1700000000000:0:job.x_y-1", a);
    const char *want = "chronos-ct_1700000000000_0_job.x_y-1-";
    assert_int_equal(strncmp(a, want, strlen(want)), 0);
    const char *hex = a + strlen(want);
    assert_int_equal(strlen(hex), 8);
    for (size_t i = 0; i < 8; i++)
        assert_true(isxdigit((unsigned char)hex[i]));
    /* The same id, the same name: the supervisor and a cleanup agree. */
    chr_local_container_name("ct:1700000000000:0:job.x_y-1", b);
    assert_string_equal(a, b);
    /* Two ids alike once sanitized stay apart. */
    chr_local_container_name("ct_1700000000000_0_job.x_y-1", b);
    assert_string_not_equal(a, b);
    /* The longest run id is cut to fit, and still unique by its tail. */
    char id1[CHR_LOCAL_RUN_ID_MAX + 1], id2[CHR_LOCAL_RUN_ID_MAX + 1];
    memset(id1, 'j', CHR_LOCAL_RUN_ID_MAX);
    id1[CHR_LOCAL_RUN_ID_MAX] = '\0';
    memcpy(id2, id1, sizeof id2);
    id2[CHR_LOCAL_RUN_ID_MAX - 1] = 'k';
    chr_local_container_name(id1, a);
    chr_local_container_name(id2, b);
    assert_true(strlen(a) <= CHR_LOCAL_CTR_NAME_MAX);
    assert_int_equal(strncmp(a, "chronos-jjj", 11), 0);
    assert_string_not_equal(a, b);
    for (const char *p = a; *p; p++)
        assert_true(isalnum((unsigned char)*p) || *p == '_' || *p == '.' || *p == '-');
}

/* ---- command lines --------------------------------------------------------------- */

static struct chr_local_container parsed(const char *json)
{
    struct chr_local_container c;
    struct chr_error err;
    assert_int_equal(chr_local_container_parse(json, &c, &err), CHR_OK);
    return c;
}

static void test_run_argv_everything(void **state)
{
    (void)state;
    struct chr_local_container c = parsed(
        "{\"image\":\"busybox:1.36\",\"network\":\"BRIDGE\",\"forcePullImage\":true,"
        "\"volumes\":[{\"hostPath\":\"/srv/in\",\"containerPath\":\"/in\",\"mode\":\"RO\"},"
        "{\"hostPath\":\"/srv/out\",\"containerPath\":\"/out\",\"mode\":\"RW\"},"
        "{\"containerPath\":\"/cache\"}],"
        "\"parameters\":[{\"key\":\"label\",\"value\":\"team=ops x\"},"
        "{\"key\":\"workdir\",\"value\":\"/in\"}]}");
    char *task_env[] = {"GREETING=hello world", "PATH=/in/the/image", "MESOS_TASK_ID=ct:1:0:j",
                        NULL};
    char *runtime_env[] = {"PATH=/usr/bin:/bin", "HOME=/root", NULL};
    char *args[] = {"-c", "echo $GREETING", NULL};
    struct chr_local_ctr_run r = {
        .runtime = CHR_LOCAL_RUNTIME_PODMAN, .c = &c, .run_id = "ct:1:0:j", .uid = 1000,
        .gid = 100, .res = {0.5, 64, 256}, .task_env = task_env, .runtime_env = runtime_env,
        .entrypoint = "/bin/sh", .args = args,
    };
    char **argv = NULL, **envp = NULL;
    assert_int_equal(chr_local_container_run_argv(&r, &argv, &envp), CHR_OK);
    char name[CHR_LOCAL_CTR_NAME_MAX + 1];
    chr_local_container_name("ct:1:0:j", name);
    const char *want[] = {
        "podman", "run", "--rm", "--name", name, "--pull=always", "--network", "bridge",
        "--user", "1000:100", "--cpus=0.5", "--memory=67108864",
        "-v", "/srv/in:/in:ro", "-v", "/srv/out:/out", "-v", "/cache",
        "--label=team=ops x", "--workdir=/in",
        /* a name the runtime's environment has goes with its value; the others
         * are named only, their values passed through the environment */
        "-e", "GREETING", "-e", "PATH=/in/the/image", "-e", "MESOS_TASK_ID",
        "--entrypoint", "/bin/sh", "busybox:1.36", "-c", "echo $GREETING", NULL};
    assert_argv(argv, want);
    assert_true(has(envp, "GREETING=hello world"));
    assert_true(has(envp, "MESOS_TASK_ID=ct:1:0:j"));
    assert_true(has(envp, "PATH=/usr/bin:/bin")); /* the runtime keeps its own PATH */
    assert_true(has(envp, "HOME=/root"));
    assert_false(has(envp, "PATH=/in/the/image"));
    assert_int_equal(count(envp), 4);
    chr_local_strv_free(argv);
    chr_local_strv_free(envp);
    chr_local_container_free(&c);
}

static void test_run_argv_image_default(void **state)
{
    (void)state;
    struct chr_local_container c = parsed("{\"image\":\"app\"}");
    char *none[] = {NULL};
    struct chr_local_ctr_run r = {
        .runtime = CHR_LOCAL_RUNTIME_DOCKER, .c = &c, .run_id = "r1", .uid = 0, .gid = 0,
        .task_env = none, .runtime_env = none, .args = none,
    };
    char **argv = NULL, **envp = NULL;
    assert_int_equal(chr_local_container_run_argv(&r, &argv, &envp), CHR_OK);
    char name[CHR_LOCAL_CTR_NAME_MAX + 1];
    chr_local_container_name("r1", name);
    /* No resources: no --cpus or --memory; no entrypoint, no args: the
     * image's own command; no pull policy: the runtime's (pull if missing). */
    const char *want[] = {"docker", "run",  "--rm", "--name", name, "--network", "host",
                          "--user", "0:0", "app",  NULL};
    assert_argv(argv, want);
    assert_int_equal(count(envp), 0);
    chr_local_strv_free(argv);
    chr_local_strv_free(envp);
    chr_local_container_free(&c);
}

static void test_run_argv_alloc_failures(void **state)
{
    (void)state;
    struct chr_local_container c = parsed(
        "{\"image\":\"app\",\"volumes\":[{\"hostPath\":\"/a\",\"containerPath\":\"/b\"}]}");
    char *env[] = {"A=1", "B=2", NULL}, *renv[] = {"PATH=/bin", NULL}, *args[] = {"x", NULL};
    struct chr_local_ctr_run r = {.runtime = CHR_LOCAL_RUNTIME_PODMAN, .c = &c, .run_id = "r",
                                  .task_env = env, .runtime_env = renv, .args = args};
    int failures = 0;
    for (long n = 1; n < 500; n++) {
        char **argv = (char **)1, **envp = (char **)1;
        chr_alloc_fail_after(n);
        enum chr_err e = chr_local_container_run_argv(&r, &argv, &envp);
        chr_alloc_fail_after(-1);
        if (e == CHR_OK) {
            chr_local_strv_free(argv);
            chr_local_strv_free(envp);
            break;
        }
        assert_int_equal(e, CHR_ENOMEM);
        assert_null(argv); /* nothing partial (ASan sees a leak) */
        assert_null(envp);
        failures++;
    }
    assert_true(failures > 10);
    chr_local_container_free(&c);
}

static void test_ctl_argv(void **state)
{
    (void)state;
    char name[CHR_LOCAL_CTR_NAME_MAX + 1];
    chr_local_container_name("ct:5:1:j", name);
    char **v = chr_local_container_ctl_argv(CHR_LOCAL_RUNTIME_PODMAN, CHR_LOCAL_CTR_RM, "ct:5:1:j");
    /* podman's rm -f would give the container its stop grace first */
    const char *rm_podman[] = {"podman", "rm", "-f", "-t", "0", name, NULL};
    assert_argv(v, rm_podman);
    chr_local_strv_free(v);
    v = chr_local_container_ctl_argv(CHR_LOCAL_RUNTIME_DOCKER, CHR_LOCAL_CTR_RM, "ct:5:1:j");
    const char *rm_docker[] = {"docker", "rm", "-f", name, NULL};
    assert_argv(v, rm_docker);
    chr_local_strv_free(v);
    v = chr_local_container_ctl_argv(CHR_LOCAL_RUNTIME_DOCKER, CHR_LOCAL_CTR_TERM, "ct:5:1:j");
    const char *term[] = {"docker", "kill", "--signal", "TERM", name, NULL};
    assert_argv(v, term);
    chr_local_strv_free(v);
    v = chr_local_container_ctl_argv(CHR_LOCAL_RUNTIME_PODMAN, CHR_LOCAL_CTR_KILL, "ct:5:1:j");
    const char *kill9[] = {"podman", "kill", "--signal", "KILL", name, NULL};
    assert_argv(v, kill9);
    chr_local_strv_free(v);
}

static void test_runtime_names(void **state)
{
    (void)state;
    enum chr_local_runtime rt = CHR_LOCAL_RUNTIME_NONE;
    assert_int_equal(chr_local_runtime_parse("podman", &rt), CHR_OK);
    assert_int_equal(rt, CHR_LOCAL_RUNTIME_PODMAN);
    assert_int_equal(chr_local_runtime_parse("docker", &rt), CHR_OK);
    assert_int_equal(rt, CHR_LOCAL_RUNTIME_DOCKER);
    assert_int_equal(chr_local_runtime_parse("Podman", &rt), CHR_EINVAL);
    assert_int_equal(chr_local_runtime_parse("", &rt), CHR_EINVAL);
    assert_int_equal(chr_local_runtime_parse(NULL, &rt), CHR_EINVAL);
    assert_string_equal(chr_local_runtime_name(CHR_LOCAL_RUNTIME_PODMAN), "podman");
    assert_string_equal(chr_local_runtime_name(CHR_LOCAL_RUNTIME_NONE), "");
}

/* ---- the spec of a container task ------------------------------------------------- */

static struct chr_local_task ctr_task(const char *command, bool shell)
{
    static const struct chr_env_var env[] = {{"GREETING", "hi"}};
    static char *const args[] = {"--verbose", "in put"};
    return (struct chr_local_task){
        .run_id = "ct:1700000000000:0:boxed", .job_name = "boxed", .command = command,
        .shell = shell, .arguments = args, .n_arguments = 2, .env = env, .n_env = 1,
        .res = {0.1, 128, 256}, .due_ms = 1700000000000,
        .container_json = "{\"type\":\"DOCKER\",\"image\":\"busybox\",\"network\":\"BRIDGE\"}",
    };
}

static void round_trip(const struct chr_local_task *t, struct chr_local_spec *s)
{
    char *text = NULL;
    size_t len = 0;
    struct chr_error err;
    assert_int_equal(chr_local_task_check(t, &err), CHR_OK);
    assert_int_equal(chr_local_spec_encode_rt(t, "h", 1000, CHR_LOCAL_RUNTIME_PODMAN, &text, &len,
                                              &err),
                     CHR_OK);
    assert_int_equal(chr_local_spec_decode(text, len, s), CHR_OK);
    chr_free(text);
    assert_true(s->has_ctr);
    assert_int_equal(s->runtime, CHR_LOCAL_RUNTIME_PODMAN);
    assert_string_equal(s->ctr.image, "busybox");
    assert_string_equal(s->ctr.network, "bridge");
    assert_false(s->cgroup); /* the runtime holds the container's cgroup */
}

static void test_spec_shell_and_arguments(void **state)
{
    (void)state;
    struct chr_local_spec s;
    /* shell: Mesos's Docker containerizer overrides the entrypoint with
     * /bin/sh and passes -c command (arguments ignored, as on the host). */
    struct chr_local_task t = ctr_task("echo $GREETING", true);
    round_trip(&t, &s);
    assert_string_equal(s.entrypoint, "/bin/sh");
    const char *sh[] = {"-c", "echo $GREETING", NULL};
    assert_argv(s.argv, sh);
    chr_local_spec_free(&s);
    /* not shell: the command and the arguments go to the image's entrypoint */
    t = ctr_task("/app/run", false);
    round_trip(&t, &s);
    assert_null(s.entrypoint);
    const char *plain[] = {"/app/run", "--verbose", "in put", NULL};
    assert_argv(s.argv, plain);
    chr_local_spec_free(&s);
    /* no command, not shell: the entrypoint gets the arguments only */
    t = ctr_task("", false);
    round_trip(&t, &s);
    const char *only_args[] = {"--verbose", "in put", NULL};
    assert_argv(s.argv, only_args);
    chr_local_spec_free(&s);
    /* no command, shell: the image's own default */
    t = ctr_task("", true);
    round_trip(&t, &s);
    assert_null(s.entrypoint);
    assert_int_equal(count(s.argv), 0);
    assert_true(has(s.env, "GREETING=hi"));
    chr_local_spec_free(&s);
}

static void test_spec_refusals(void **state)
{
    (void)state;
    struct chr_local_task t = ctr_task("true", true);
    char *text = NULL;
    size_t len = 0;
    struct chr_error err = {{0}, {0}};
    /* No runtime: never on the host. */
    assert_int_equal(chr_local_spec_encode(&t, "h", 1, &text, &len, &err), CHR_EUNAVAIL);
    assert_string_equal(err.field, "container");
    assert_non_null(strstr(err.message, "--local_containerizer"));
    assert_null(text);
    /* A bad container fails the check, naming its field. */
    t.container_json = "{\"image\":\"busybox\",\"volumes\":[{\"containerPath\":\"tmp\"}]}";
    assert_int_equal(chr_local_task_check(&t, &err), CHR_EINVAL);
    assert_string_equal(err.field, "container.volumes[0]");
    /* A variable -e NAME cannot carry as it is. */
    t = ctr_task("true", true);
    struct chr_env_var glob = {"TOKEN*", "x"};
    t.env = &glob;
    assert_int_equal(chr_local_task_check(&t, &err), CHR_EINVAL);
    assert_string_equal(err.field, "environmentVariables");
    /* An empty command is a container's privilege. */
    t = ctr_task("", true);
    assert_int_equal(chr_local_task_check(&t, &err), CHR_OK);
    t.container_json = NULL;
    assert_int_equal(chr_local_task_check(&t, &err), CHR_EINVAL);
    assert_string_equal(err.field, "command");
    /* A spec whose container was tampered with does not decode. */
    const char *bad = "{\"run_id\":\"r\",\"job\":\"j\",\"argv\":[],\"env\":{},\"cpus\":0.1,"
                      "\"mem_mb\":1,\"disk_mb\":1,\"max_completion_ms\":0,\"kill_grace_ms\":1,"
                      "\"stdout_max\":1,\"stderr_max\":1,\"runtime\":\"podman\","
                      "\"container\":{\"image\":\"x\",\"parameters\":[{\"key\":\"privileged\","
                      "\"value\":\"true\"}]}}";
    struct chr_local_spec s;
    assert_int_equal(chr_local_spec_decode(bad, strlen(bad), &s), CHR_EINVAL);
    const char *no_rt = "{\"run_id\":\"r\",\"job\":\"j\",\"argv\":[],\"env\":{},\"cpus\":0.1,"
                        "\"mem_mb\":1,\"disk_mb\":1,\"max_completion_ms\":0,\"kill_grace_ms\":1,"
                        "\"stdout_max\":1,\"stderr_max\":1,\"container\":{\"image\":\"x\"}}";
    assert_int_equal(chr_local_spec_decode(no_rt, strlen(no_rt), &s), CHR_EINVAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_defaults),
        cmocka_unit_test(test_parse_errors_name_the_field),
        cmocka_unit_test(test_params_allowed),
        cmocka_unit_test(test_name_sanitized_and_unique),
        cmocka_unit_test(test_run_argv_everything),
        cmocka_unit_test(test_run_argv_image_default),
        cmocka_unit_test(test_run_argv_alloc_failures),
        cmocka_unit_test(test_ctl_argv),
        cmocka_unit_test(test_runtime_names),
        cmocka_unit_test(test_spec_shell_and_arguments),
        cmocka_unit_test(test_spec_refusals),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
