/*
 * test_task.c - the TaskInfo builder against TaskInfos written by hand from
 * Chronos's MesosTaskBuilder mapping and the Debian mesos.proto (proto
 * field names, enum names as strings, scalars as doubles): shell and
 * non-shell commands, environment, fetch and uris, Docker and Mesos
 * containers, resources split over roles, too big a job, manual arguments.
 */
#include "../../unit.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "api/run_cmd.h"
#include "common/alloc.h"
#include "offers/mesos/task.h"

/* ---- fixtures ------------------------------------------------------------ */

struct fix {
    struct chr_job job;
    struct chr_run run;
    struct chr_mesos_offer offer;
    struct chr_mesos_task_params p;
};

static void add_res(struct chr_mesos_offer *o, const char *name, double v, const char *role,
                    const char *alloc, char *reservations)
{
    struct chr_mesos_resource *r = &o->res[o->n_res++];
    snprintf(r->name, sizeof r->name, "%s", name);
    snprintf(r->role, sizeof r->role, "%s", role);
    snprintf(r->alloc_role, sizeof r->alloc_role, "%s", alloc);
    r->reservations_json = reservations;
    r->reserved = reservations != NULL || strcmp(role, "*") != 0;
    r->value = v;
}

static struct fix *fix_new(void)
{
    struct fix *f = calloc(1, sizeof *f);
    assert_non_null(f);
    f->job.name = "nightly";
    f->job.command = "echo hi && date";
    f->job.shell = true;
    f->job.owner = "ops@example.com";
    f->job.cpus = 0.5;
    f->job.mem_mb = 256;
    f->job.disk_mb = 512;
    snprintf(f->run.id, sizeof f->run.id, "ct:1700000000000:0:nightly");
    snprintf(f->run.job, sizeof f->run.job, "nightly");
    f->run.due_ms = 1700000000000;
    snprintf(f->offer.id, sizeof f->offer.id, "o1");
    snprintf(f->offer.agent_id, sizeof f->offer.agent_id, "a1");
    snprintf(f->offer.hostname, sizeof f->offer.hostname, "h1");
    add_res(&f->offer, "cpus", 4, "*", "", NULL);
    add_res(&f->offer, "mem", 4096, "*", "", NULL);
    add_res(&f->offer, "disk", 10000, "*", "", NULL);
    f->p = (struct chr_mesos_task_params){
        .job = &f->job, .run = &f->run, .offer = &f->offer, .framework_name = "chronos",
        .default_cpus = 0.1, .default_mem_mb = 128, .default_disk_mb = 0,
    };
    return f;
}

/* The ten built-ins, in their order, for job nightly's run 0 on h1. */
static char *builtins(const char *mem, const char *cpu, const char *disk, const char *attempt)
{
    static char buf[2048];
    snprintf(buf, sizeof buf,
             "{\"name\":\"mesos_task_id\",\"value\":\"ct:1700000000000:%s:nightly\"},"
             "{\"name\":\"MESOS_TASK_ID\",\"value\":\"ct:1700000000000:%s:nightly\"},"
             "{\"name\":\"CHRONOS_JOB_OWNER\",\"value\":\"ops@example.com\"},"
             "{\"name\":\"CHRONOS_JOB_NAME\",\"value\":\"nightly\"},"
             "{\"name\":\"HOST\",\"value\":\"h1\"},"
             "{\"name\":\"CHRONOS_RESOURCE_MEM\",\"value\":\"%s\"},"
             "{\"name\":\"CHRONOS_RESOURCE_CPU\",\"value\":\"%s\"},"
             "{\"name\":\"CHRONOS_RESOURCE_DISK\",\"value\":\"%s\"},"
             "{\"name\":\"CHRONOS_JOB_RUN_TIME\",\"value\":\"1700000000000\"},"
             "{\"name\":\"CHRONOS_JOB_RUN_ATTEMPT\",\"value\":\"%s\"}",
             attempt, attempt, mem, cpu, disk, attempt);
    return buf;
}

static json_t *build_ok(const struct chr_mesos_task_params *p)
{
    struct chr_error err = {{0}, {0}};
    json_t *t = NULL;
    enum chr_err e = chr_mesos_task_build(p, &t, &err);
    if (e != CHR_OK)
        fail_msg("build failed (%d): %s: %s", e, err.field, err.message);
    /* CHR_TASKINFO_DUMP=file: every task built, one per line, for
     * validate_taskinfo.py (the Debian protos' check of protocols B.2). */
    const char *dump = getenv("CHR_TASKINFO_DUMP");
    FILE *fp = dump != NULL ? fopen(dump, "a") : NULL;
    if (fp != NULL) {
        json_dumpf(t, fp, JSON_COMPACT);
        fputc('\n', fp);
        fclose(fp);
    }
    return t;
}

/* Compares `got` (consumed) with the expected JSON text; prints both. */
static void assert_json(json_t *got, const char *want_text)
{
    json_error_t jerr;
    json_t *want = json_loads(want_text, 0, &jerr);
    if (want == NULL)
        fail_msg("expected JSON does not parse: %s at %d", jerr.text, jerr.position);
    if (!json_equal(got, want)) {
        char *g = json_dumps(got, JSON_INDENT(1) | JSON_SORT_KEYS);
        char *w = json_dumps(want, JSON_INDENT(1) | JSON_SORT_KEYS);
        print_error("got:\n%s\nwant:\n%s\n", g, w);
        free(g);
        free(w);
        fail();
    }
    json_decref(want);
    json_decref(got);
}

static const char *field_of_failure(const struct chr_mesos_task_params *p, char *msg,
                                    size_t msg_len)
{
    static struct chr_error err;
    json_t *t = (json_t *)1;
    memset(&err, 0, sizeof err);
    assert_int_equal(chr_mesos_task_build(p, &t, &err), CHR_EINVAL);
    assert_null(t);
    if (msg != NULL)
        snprintf(msg, msg_len, "%s", err.message);
    return err.field;
}

#define R(name, v, extra)                                                                      \
    "{\"name\":\"" name "\",\"type\":\"SCALAR\",\"scalar\":{\"value\":" v "}" extra "}"
#define STAR ",\"role\":\"*\""

/* ---- tests ----------------------------------------------------------------- */

static void test_shell_job(void **s)
{
    (void)s;
    struct fix *f = fix_new();
    f->p.user = "nobody";
    f->p.kill_grace_ms = 5000;
    char want[8192];
    snprintf(want, sizeof want,
             "{\"name\":\"ChronosTask:nightly\","
             "\"task_id\":{\"value\":\"ct:1700000000000:0:nightly\"},"
             "\"agent_id\":{\"value\":\"a1\"},"
             "\"resources\":[" R("cpus", "0.5", STAR) "," R("mem", "256.0", STAR) "," R(
                 "disk", "512.0", STAR) "],"
                                        "\"command\":{\"shell\":true,\"value\":\"echo hi && "
                                        "date\",\"environment\":{\"variables\":[%s]},"
                                        "\"user\":\"nobody\"},"
                                        "\"kill_policy\":{\"grace_period\":{\"nanoseconds\":"
                                        "5000000000}}}",
             builtins("256.0", "0.5", "512.0", "0"));
    assert_json(build_ok(&f->p), want);
    free(f);
}

static void test_argv_job_with_defaults(void **s)
{
    (void)s;
    struct fix *f = fix_new();
    static char *args[] = {"--full", "a b"};
    f->job.command = "/usr/bin/backup";
    f->job.shell = false;
    f->job.arguments = args;
    f->job.n_arguments = 2;
    f->job.cpus = 0; /* the defaults: 0.1, 128, and disk 0 gives no disk resource */
    f->job.mem_mb = 0;
    f->job.disk_mb = 0;
    f->run.attempt = 2;
    snprintf(f->run.id, sizeof f->run.id, "ct:1700000000000:2:nightly");
    char want[8192];
    snprintf(want, sizeof want,
             "{\"name\":\"ChronosTask:nightly\","
             "\"task_id\":{\"value\":\"ct:1700000000000:2:nightly\"},"
             "\"agent_id\":{\"value\":\"a1\"},"
             "\"resources\":[" R("cpus", "0.1", STAR) "," R("mem", "128.0", STAR) "],"
             "\"command\":{\"shell\":false,\"value\":\"/usr/bin/backup\","
             "\"arguments\":[\"/usr/bin/backup\",\"--full\",\"a b\"],"
             "\"environment\":{\"variables\":[%s]}}}",
             builtins("128.0", "0.1", "0.0", "2"));
    assert_json(build_ok(&f->p), want);
    free(f);
}

static void test_env_and_builtins(void **s)
{
    (void)s;
    struct fix *f = fix_new();
    static struct chr_env_var env[] = {
        {"FOO", "bar"},
        {"CHRONOS_JOB_NAME", "impostor"}, /* a built-in's name: the built-in wins */
        {"FOO", "baz"},                   /* a later duplicate wins */
        {"PATH", "/opt/bin"},
    };
    f->job.env = env;
    f->job.n_env = 4;
    json_t *t = build_ok(&f->p);
    char want[4096];
    snprintf(want, sizeof want,
             "[{\"name\":\"FOO\",\"value\":\"baz\"},{\"name\":\"PATH\",\"value\":\"/opt/bin\"},%s]",
             builtins("256.0", "0.5", "512.0", "0"));
    assert_json(json_incref(json_object_get(json_object_get(json_object_get(t, "command"),
                                                            "environment"),
                                            "variables")),
                want);
    json_decref(t);
    free(f);
}

static json_t *command_of(json_t *t)
{
    json_t *c = json_incref(json_object_get(t, "command"));
    json_object_del(c, "environment"); /* checked elsewhere */
    json_decref(t);
    return c;
}

static void test_uris_and_fetch(void **s)
{
    (void)s;
    struct fix *f = fix_new();
    f->job.fetch_json = "[{\"uri\":\"https://x/a.tgz\",\"extract\":false,\"cache\":true,"
                        "\"output_file\":\"a.tgz\"},{\"uri\":\"https://x/run.sh\","
                        "\"executable\":\"true\"}]";
    f->job.uris_json = "[\"https://x/b.jar\"]";
    assert_json(command_of(build_ok(&f->p)),
                "{\"shell\":true,\"value\":\"echo hi && date\",\"uris\":["
                "{\"value\":\"https://x/a.tgz\",\"executable\":false,\"extract\":false,"
                "\"cache\":true,\"output_file\":\"a.tgz\"},"
                "{\"value\":\"https://x/run.sh\",\"executable\":true,\"extract\":true,"
                "\"cache\":false},"
                "{\"value\":\"https://x/b.jar\",\"executable\":false,\"extract\":true,"
                "\"cache\":false}]}");

    /* A URL command is fetched executable and run from the sandbox. */
    f->job.fetch_json = NULL;
    f->job.command = "https://x/y/job.sh --now";
    assert_json(command_of(build_ok(&f->p)),
                "{\"shell\":true,\"value\":\"\\\"./job.sh\\\" --now\",\"uris\":["
                "{\"value\":\"https://x/y/job.sh\",\"executable\":true},"
                "{\"value\":\"https://x/b.jar\",\"executable\":false,\"extract\":true,"
                "\"cache\":false}]}");
    /* "httpd" is a command, not a URL (Chronos took it for one) */
    f->job.command = "httpd -X";
    f->job.uris_json = NULL;
    assert_json(command_of(build_ok(&f->p)), "{\"shell\":true,\"value\":\"httpd -X\"}");
    f->job.fetch_json = "[{\"uri\":\"\"}]";
    assert_string_equal(field_of_failure(&f->p, NULL, 0), "fetch[0]");
    f->job.fetch_json = "[{\"uri\":\"u\",\"cache\":1}]";
    assert_string_equal(field_of_failure(&f->p, NULL, 0), "fetch[0].cache");
    free(f);
}

static void test_docker_container(void **s)
{
    (void)s;
    struct fix *f = fix_new();
    static char *args[] = {"1"};
    f->job.command = "run.sh";
    f->job.shell = false;
    f->job.arguments = args;
    f->job.n_arguments = 1;
    f->job.container_json =
        "{\"type\":\"docker\",\"image\":\"busybox:1\",\"network\":\"BRIDGE\","
        "\"forcePullImage\":true,\"parameters\":[{\"key\":\"label\",\"value\":\"x=y\"}],"
        "\"volumes\":[{\"containerPath\":\"/data\",\"hostPath\":\"/srv/data\",\"mode\":\"ro\"},"
        "{\"containerPath\":\"/tmp/x\"},"
        "{\"containerPath\":\"/ext\",\"external\":{\"name\":\"vol1\",\"provider\":\"rexray\","
        "\"options\":[{\"key\":\"size\",\"value\":\"5\"}]}}],"
        "\"networkName\":\"legacy\","
        "\"networkInfos\":[{\"name\":\"cni1\",\"protocol\":\"IPv4\","
        "\"labels\":[{\"key\":\"a\",\"value\":\"b\"}],"
        "\"portMappings\":[{\"hostPort\":1,\"containerPort\":2}]}]}";
    json_t *t = build_ok(&f->p);
    assert_json(json_incref(json_object_get(t, "container")),
                "{\"type\":\"DOCKER\",\"volumes\":["
                "{\"container_path\":\"/data\",\"host_path\":\"/srv/data\",\"mode\":\"RO\"},"
                "{\"container_path\":\"/tmp/x\",\"mode\":\"RW\"},"
                "{\"container_path\":\"/ext\",\"mode\":\"RW\",\"source\":{\"type\":"
                "\"DOCKER_VOLUME\",\"docker_volume\":{\"name\":\"vol1\",\"driver\":\"rexray\","
                "\"driver_options\":{\"parameter\":[{\"key\":\"size\",\"value\":\"5\"}]}}}}],"
                "\"docker\":{\"image\":\"busybox:1\",\"network\":\"BRIDGE\","
                "\"force_pull_image\":true,\"parameters\":[{\"key\":\"label\",\"value\":\"x=y\"}]},"
                "\"network_infos\":[{\"name\":\"legacy\"},{\"name\":\"cni1\","
                "\"labels\":{\"labels\":[{\"key\":\"a\",\"value\":\"b\"}]}}]}");
    /* Docker's containerizer runs `docker run image value args`: no argv[0] */
    assert_json(command_of(t), "{\"shell\":false,\"value\":\"run.sh\",\"arguments\":[\"1\"]}");

    /* An empty command runs the image's entrypoint with the arguments. */
    f->job.command = "";
    f->job.shell = true; /* Chronos would send shell:true without a value: refused by Mesos */
    f->job.container_json = "{\"image\":\"busybox:1\"}";
    t = build_ok(&f->p);
    assert_json(json_incref(json_object_get(t, "container")),
                "{\"type\":\"DOCKER\",\"docker\":{\"image\":\"busybox:1\",\"network\":\"HOST\","
                "\"force_pull_image\":false}}");
    assert_json(command_of(t), "{\"shell\":false,\"arguments\":[\"1\"]}");

    f->job.container_json = "{\"image\":\"busybox:1\",\"volumes\":[{\"containerPath\":\"/d\","
                            "\"mode\":\"RX\"}]}";
    assert_string_equal(field_of_failure(&f->p, NULL, 0), "container.volumes[0].mode");
    f->job.container_json = "{\"image\":\"\"}";
    assert_string_equal(field_of_failure(&f->p, NULL, 0), "container.image");
    f->job.container_json = "{\"image\":\"i\",\"network\":\"NONE\"}";
    assert_string_equal(field_of_failure(&f->p, NULL, 0), "container.network");
    f->job.container_json = "[1]";
    assert_string_equal(field_of_failure(&f->p, NULL, 0), "container");
    free(f);
}

static void test_mesos_container(void **s)
{
    (void)s;
    struct fix *f = fix_new();
    f->job.command = "ls";
    f->job.shell = false;
    f->job.container_json = "{\"type\":\"MESOS\",\"image\":\"alpine:3\",\"forcePullImage\":"
                            "\"true\",\"network\":\"HOST\"}";
    json_t *t = build_ok(&f->p);
    assert_json(json_incref(json_object_get(t, "container")),
                "{\"type\":\"MESOS\",\"mesos\":{\"image\":{\"type\":\"DOCKER\","
                "\"docker\":{\"name\":\"alpine:3\"},\"cached\":false}}}");
    /* the Mesos containerizer execs value with `arguments` as the whole argv */
    assert_json(command_of(t), "{\"shell\":false,\"value\":\"ls\",\"arguments\":[\"ls\"]}");
    free(f);
}

static void test_resources_split_over_roles(void **s)
{
    (void)s;
    struct fix *f = fix_new();
    memset(f->offer.res, 0, sizeof f->offer.res);
    f->offer.n_res = 0;
    add_res(&f->offer, "cpus", 0.25, "*", "", NULL);
    add_res(&f->offer, "mem", 100, "*", "analytics", NULL);
    add_res(&f->offer, "cpus", 0.5, "analytics", "analytics", NULL);
    add_res(&f->offer, "mem", 200, "*", "analytics",
            "[{\"type\":\"DYNAMIC\",\"role\":\"analytics\",\"principal\":\"p\"}]");
    f->job.cpus = 0.625; /* all 0.5 reserved first (Chronos's preference), then 0.125 of "*" */
    f->job.mem_mb = 250; /* 200 reserved, then 50 */
    f->job.disk_mb = 0;
    assert_true(chr_mesos_offer_fits(&f->offer, 0.75, 300, 0));
    assert_false(chr_mesos_offer_fits(&f->offer, 0.75, 300, 1));
    assert_false(chr_mesos_offer_fits(&f->offer, 0.8, 300, 0));
    json_t *t = build_ok(&f->p);
    /* cpus, then mem (as Chronos added them), each name's pieces in offer order */
    assert_json(json_incref(json_object_get(t, "resources")),
                "[" R("cpus", "0.125", STAR) ","
                R("cpus", "0.5", ",\"role\":\"analytics\",\"allocation_info\":{\"role\":\"analytics\"}") ","
                R("mem", "50.0", STAR ",\"allocation_info\":{\"role\":\"analytics\"}") ","
                R("mem", "200.0",
                  ",\"reservations\":[{\"type\":\"DYNAMIC\",\"role\":\"analytics\","
                  "\"principal\":\"p\"}],\"allocation_info\":{\"role\":\"analytics\"}") "]");
    json_decref(t);

    /* What a second task on the same offer can still have. */
    chr_mesos_offer_take(&f->offer, 0.625, 250, 0);
    assert_true(chr_mesos_offer_fits(&f->offer, 0.125, 50, 0));
    assert_false(chr_mesos_offer_fits(&f->offer, 0.126, 50, 0));
    assert_false(chr_mesos_offer_fits(&f->offer, 0.125, 51, 0));
    assert_true(f->offer.res[2].value == 0 && f->offer.res[3].value == 0);
    free(f);
}

static void test_more_than_offered(void **s)
{
    (void)s;
    struct fix *f = fix_new();
    f->job.mem_mb = 8192;
    assert_false(chr_mesos_offer_fits(&f->offer, 0.5, 8192, 512));
    char msg[256];
    assert_string_equal(field_of_failure(&f->p, msg, sizeof msg), "mem");
    assert_string_equal(msg, "mem: needs 8192 MB, the offer has 4096 MB");
    f->job.mem_mb = 256;
    f->job.cpus = 4.5;
    assert_string_equal(field_of_failure(&f->p, msg, sizeof msg), "cpus");
    assert_string_equal(msg, "cpus: needs 4.5, the offer has 4");
    free(f);
}

static void test_manual_run_arguments(void **s)
{
    (void)s;
    struct fix *f = fix_new();
    char args_text[] = "[\"a b\",\"c;d\"]";
    f->job.command = "echo";
    f->run.arguments = args_text;
    /* without the wiring's command, manual arguments would be lost: refused */
    assert_string_equal(field_of_failure(&f->p, NULL, 0), "arguments");

    struct chr_run_cmd cmd;
    assert_int_equal(chr_run_cmd_make(&f->job, f->run.arguments, &cmd), CHR_OK);
    struct chr_mesos_task_cmd c = {cmd.command, cmd.shell, cmd.arguments, cmd.n_arguments};
    f->p.cmd = &c;
    json_t *t = build_ok(&f->p);
    assert_string_equal(json_string_value(json_object_get(json_object_get(t, "task_id"), "value")),
                        "ct:1700000000000:0:nightly"); /* the run's id, nothing appended */
    assert_json(command_of(t), "{\"shell\":true,\"value\":\"echo 'a b' 'c;d'\"}");
    chr_run_cmd_free(&cmd);

    f->job.shell = false;
    assert_int_equal(chr_run_cmd_make(&f->job, f->run.arguments, &cmd), CHR_OK);
    c = (struct chr_mesos_task_cmd){cmd.command, cmd.shell, cmd.arguments, cmd.n_arguments};
    assert_json(command_of(build_ok(&f->p)),
                "{\"shell\":false,\"value\":\"echo\",\"arguments\":[\"echo\",\"a b\",\"c;d\"]}");
    chr_run_cmd_free(&cmd);
    free(f);
}

static void test_refusals(void **s)
{
    (void)s;
    struct fix *f = fix_new();
    f->job.command = "";
    char msg[256];
    assert_string_equal(field_of_failure(&f->p, msg, sizeof msg), "command");
    f->job.command = "true";
    f->job.executor = "/opt/exec";
    assert_string_equal(field_of_failure(&f->p, NULL, 0), "executor");
    f->job.executor = "";
    snprintf(f->offer.agent_id, sizeof f->offer.agent_id, "%s", "");
    assert_string_equal(field_of_failure(&f->p, NULL, 0), "offer.agent_id");
    snprintf(f->offer.agent_id, sizeof f->offer.agent_id, "a1");
    f->job.command = "https://x/a\"b";
    assert_string_equal(field_of_failure(&f->p, NULL, 0), "command");
    free(f);
}

static void test_allocation_failures(void **s)
{
    (void)s;
    struct fix *f = fix_new();
    f->job.container_json = "{\"image\":\"busybox\",\"volumes\":[{\"containerPath\":\"/d\"}]}";
    f->job.uris_json = "[\"https://x/b.jar\"]";
    /* every allocation of ours failing in turn: an error, never a crash or a leak */
    for (int n = 1; n < 8; n++) {
        chr_alloc_fail_after(n);
        struct chr_error err = {{0}, {0}};
        json_t *t = NULL;
        enum chr_err e = chr_mesos_task_build(&f->p, &t, &err);
        chr_alloc_fail_after(-1);
        assert_true(e == CHR_OK || e == CHR_ENOMEM);
        assert_true((e == CHR_OK) == (t != NULL));
        json_decref(t);
    }
    free(f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_shell_job),
        cmocka_unit_test(test_argv_job_with_defaults),
        cmocka_unit_test(test_env_and_builtins),
        cmocka_unit_test(test_uris_and_fetch),
        cmocka_unit_test(test_docker_container),
        cmocka_unit_test(test_mesos_container),
        cmocka_unit_test(test_resources_split_over_roles),
        cmocka_unit_test(test_more_than_offered),
        cmocka_unit_test(test_manual_run_arguments),
        cmocka_unit_test(test_refusals),
        cmocka_unit_test(test_allocation_failures),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
