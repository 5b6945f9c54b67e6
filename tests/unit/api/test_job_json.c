/*
 * test_job_json.c - the job JSON codec of api/job_json.c: Chronos 3's own
 * bodies round-trip (counters ignored), defaults fill in, every malformed
 * field is rejected naming the field, the lenient forms Chronos accepts
 * (numbers as strings, "null" zones, lowercase docker) are accepted, limits
 * hold, output is Chronos's GET shape and order, parse-then-print is
 * idempotent, and every allocation of a parse can fail without a leak.
 */
#include "../unit.h"

#include <jansson.h>
#include <stdbool.h>
#include <stdlib.h>

#include "api/job_json.h"
#include "common/alloc.h"
#include "common/limits.h"
#include "scheduler/core.h"

/* ---- helpers ------------------------------------------------------------ */

/* The example job of docs/api.md, "The job JSON" (Chronos 3 GET output),
 * counters and all. */
static const char chronos_example[] =
    "{\"name\":\"camus_kafka2hdfs\",\"command\":\"/srv/job.bash\",\"shell\":false,"
    "\"executor\":\"\",\"executorFlags\":\"\",\"taskInfoData\":\"\",\"retries\":2,"
    "\"owner\":\"bofh@example.com\",\"ownerName\":\"\",\"description\":\"\","
    "\"successCount\":190,\"errorCount\":3,\"lastSuccess\":\"2014-03-08T16:57:17.507Z\","
    "\"lastError\":\"2014-03-01T00:10:15.957Z\",\"cpus\":1.0,\"disk\":10240.0,\"mem\":1024.0,"
    "\"disabled\":false,\"softError\":false,\"dataProcessingJobType\":false,"
    "\"errorsSinceLastSuccess\":0,"
    "\"fetch\":[{\"uri\":\"https://x/f\",\"executable\":false,\"cache\":false,\"extract\":true}],"
    "\"uris\":[\"https://x/f\"],"
    "\"environmentVariables\":[{\"name\":\"JVMOPTS\",\"value\":\"-Xmx1000m\"}],"
    "\"arguments\":[\"-verbose\"],\"highPriority\":false,\"runAsUser\":\"root\","
    "\"concurrent\":false,\"maxCompletionTime\":0,"
    "\"constraints\":[[\"rack\",\"EQUALS\",\"rack-1\"]],"
    "\"schedule\":\"R/2014-03-08T20:00:00.000Z/PT2H\",\"scheduleTimeZone\":\"\"}";

/* 2023-11-14T22:13:20.123Z */
#define NOW_MS 1700000000123LL

static enum chr_err parse_hint(const char *body, enum chr_job_kind_hint hint,
                               struct chr_job *job, struct chr_error *err)
{
    memset(err, 0x5a, sizeof *err);
    return chr_job_from_json(body, strlen(body), NULL, hint, NOW_MS, job, err);
}

/* Parses `body` (endpoint unknown), failing the test on an error. */
static void parse_ok(const char *body, struct chr_job *job)
{
    struct chr_error err;
    enum chr_err e = parse_hint(body, CHR_JOB_HINT_ANY, job, &err);
    if (e != CHR_OK)
        fail_msg("parse of %.200s failed (%d): %s", body, (int)e, err.message);
    assert_string_equal(err.message, "");
}

/* Prints a job; the text is chr_malloc'd. */
static char *print(const struct chr_job *job, const struct chr_job_stats *stats)
{
    size_t len = 0;
    char *s = chr_job_to_json(job, stats, &len);
    assert_non_null(s);
    assert_int_equal(len, strlen(s));
    assert_null(strchr(s, '\n'));
    return s;
}

static json_t *load(const char *text)
{
    json_error_t jerr;
    json_t *v = json_loads(text, JSON_REJECT_DUPLICATES, &jerr);
    if (v == NULL)
        fail_msg("output is not JSON (%s): %s", jerr.text, text);
    return v;
}

/* The body parsed and printed again, as a jansson object. */
static json_t *reprint(const char *body, const struct chr_job_stats *stats)
{
    struct chr_job job;
    parse_ok(body, &job);
    char *s = print(&job, stats);
    json_t *v = load(s);
    chr_free(s);
    chr_job_free(&job);
    return v;
}

static void assert_json_member(const json_t *o, const char *key, const char *want_json)
{
    json_t *want = json_loads(want_json, JSON_DECODE_ANY, NULL);
    assert_non_null(want);
    json_t *got = json_object_get(o, key);
    if (!json_equal(got, want)) {
        char *g = got != NULL ? json_dumps(got, JSON_ENCODE_ANY | JSON_COMPACT) : NULL;
        fail_msg("%s is %s, want %s", key, g != NULL ? g : "(absent)", want_json);
    }
    json_decref(want);
}

/* A body of the form {"name":"j", <members>}. */
#define J(members) "{\"name\":\"j\"," members "}"

/* ---- Chronos's own bodies ------------------------------------------------- */

static void test_chronos_example_fields(void **state)
{
    (void)state;
    struct chr_job j;
    parse_ok(chronos_example, &j);
    assert_string_equal(j.name, "camus_kafka2hdfs");
    assert_string_equal(j.command, "/srv/job.bash");
    assert_false(j.shell);
    assert_int_equal(j.retries, 2);
    assert_string_equal(j.owner, "bofh@example.com");
    assert_string_equal(j.owner_name, "");
    assert_true(j.cpus == 1.0 && j.disk_mb == 10240.0 && j.mem_mb == 1024.0);
    assert_string_equal(j.schedule, "R/2014-03-08T20:00:00.000Z/PT2H");
    assert_null(j.schedule_tz); /* "" is no zone */
    assert_null(j.parents);
    assert_int_equal(j.n_arguments, 1);
    assert_string_equal(j.arguments[0], "-verbose");
    assert_int_equal(j.n_env, 1);
    assert_string_equal(j.env[0].name, "JVMOPTS");
    assert_string_equal(j.env[0].value, "-Xmx1000m");
    assert_string_equal(j.run_as_user, "root");
    assert_int_equal(j.n_constraints, 1);
    assert_string_equal(j.constraints[0].attribute, "rack");
    assert_int_equal(j.constraints[0].op, CHR_CONSTRAINT_EQUALS);
    assert_string_equal(j.constraints[0].value, "rack-1");
    assert_string_equal(j.fetch_json, "[{\"uri\":\"https://x/f\",\"executable\":false,"
                                      "\"cache\":false,\"extract\":true}]");
    assert_null(j.uris_json); /* uris was fetch[].uri: one definition */
    assert_null(j.container_json);
    assert_int_equal(j.max_completion_ms, 0);
    assert_int_equal(j.retry_delay_ms, 60000);
    assert_int_equal(j.starting_deadline_ms, -1);
    assert_false(j.disabled || j.concurrent || j.high_priority || j.soft_error ||
                 j.data_processing || j.async || j.retry_backoff);
    chr_job_free(&j);
}

/* Printed back, every field the example had is the same except the
 * counters, which are the server's (zero without stats). */
static void test_chronos_example_round_trip(void **state)
{
    (void)state;
    json_t *in = load(chronos_example), *out = reprint(chronos_example, NULL);
    const char *key;
    json_t *value;
    json_object_foreach(in, key, value)
    {
        bool counter = strcmp(key, "successCount") == 0 || strcmp(key, "errorCount") == 0 ||
                       strcmp(key, "lastSuccess") == 0 || strcmp(key, "lastError") == 0 ||
                       strcmp(key, "errorsSinceLastSuccess") == 0;
        if (!counter && !json_equal(value, json_object_get(out, key)))
            fail_msg("%s changed on the round trip", key);
    }
    assert_json_member(out, "successCount", "0");
    assert_json_member(out, "errorCount", "0");
    assert_json_member(out, "lastSuccess", "\"\"");
    assert_json_member(out, "lastError", "\"\"");
    assert_json_member(out, "errorsSinceLastSuccess", "0");
    json_decref(in);
    json_decref(out);
}

/* Counters come from the stats given to the printer, never from the body. */
static void test_counters_from_stats(void **state)
{
    (void)state;
    struct chr_job_stats st;
    chr_job_stats_init(&st);
    st.success_count = 190;
    st.error_count = 3;
    st.errors_since_last_success = 1;
    st.last_success_ms = T("2014-03-08T16:57:17.507Z");
    st.last_error_ms = T("2014-03-01T00:10:15.957Z");
    json_t *out = reprint(J("\"successCount\":5,\"errorCount\":\"lots\",\"lastSuccess\":7,"
                            "\"lastError\":null,\"errorsSinceLastSuccess\":[]"),
                          &st);
    assert_json_member(out, "successCount", "190");
    assert_json_member(out, "errorCount", "3");
    assert_json_member(out, "errorsSinceLastSuccess", "1");
    assert_json_member(out, "lastSuccess", "\"2014-03-08T16:57:17.507Z\"");
    assert_json_member(out, "lastError", "\"2014-03-01T00:10:15.957Z\"");
    json_decref(out);

    st.task_time_ms = 2500; /* ours: job/{name}/status shows it, not the job */
    out = reprint(J("\"taskTimeSeconds\":99"), &st);
    assert_null(json_object_get(out, "taskTimeSeconds"));
    json_decref(out);

    chr_job_stats_init(&st); /* never run */
    out = reprint(J("\"successCount\":5"), &st);
    assert_json_member(out, "successCount", "0");
    assert_json_member(out, "lastSuccess", "\"\"");
    json_decref(out);
}

/* The serializer order of docs/api.md, "The job JSON", then our definition
 * fields; no progress (nextRunAt, remainingRepeats, lastRunState,
 * taskTimeSeconds: job/{name}/status shows those), so a job's JSON changes
 * only when it is changed (Chronos's counters aside). */
static void test_output_order_and_shape(void **state)
{
    (void)state;
    static const char *const order[] = {
        "name", "command", "shell", "executor", "executorFlags", "taskInfoData", "retries",
        "owner", "ownerName", "description", "successCount", "errorCount", "lastSuccess",
        "lastError", "cpus", "disk", "mem", "disabled", "softError", "dataProcessingJobType",
        "errorsSinceLastSuccess", "fetch", "uris", "environmentVariables", "arguments",
        "highPriority", "runAsUser", "concurrent", "maxCompletionTime", "constraints", "schedule",
        "scheduleTimeZone", "container", "retryDelaySeconds", "retryBackoff",
        "startingDeadlineSeconds"};
    struct chr_job j;
    parse_ok(J("\"schedule\":\"@hourly\",\"startingDeadlineSeconds\":30,"
               "\"container\":{\"image\":\"busybox\"},\"unknown\":1"),
             &j);
    struct chr_job_stats st;
    chr_job_stats_init(&st);
    st.task_time_ms = 90061500;
    st.success_count = 3;
    char *s = print(&j, &st);
    json_t *out = load(s);
    size_t i = 0;
    const char *key;
    json_t *value;
    json_object_foreach(out, key, value)
    {
        (void)value;
        assert_true(i < sizeof order / sizeof order[0]);
        if (strcmp(key, order[i]) != 0)
            fail_msg("key %zu is %s, want %s in %s", i, key, order[i], s);
        i++;
    }
    assert_int_equal(i, sizeof order / sizeof order[0]);
    /* Reals print as reals; Chronos's counters are shown, the task time not. */
    assert_non_null(strstr(s, "\"cpus\":0.1,\"disk\":256.0,\"mem\":128.0,"));
    assert_json_member(out, "successCount", "3");
    assert_null(json_object_get(out, "taskTimeSeconds"));
    assert_null(json_object_get(out, "unknown"));
    json_decref(out);
    chr_free(s);
    chr_job_free(&j);
}

/* notifyEvents (ours): absent shows nothing (the server's list applies);
 * given, it is the set, in the kinds' order, [] when none; null is absent. */
static void test_notify_events(void **state)
{
    (void)state;
    struct chr_job j;
    parse_ok(J("\"schedule\":\"@hourly\""), &j);
    assert_false(j.notify_events_set);
    chr_job_free(&j);
    parse_ok(J("\"schedule\":\"@hourly\",\"notifyEvents\":null"), &j);
    assert_false(j.notify_events_set);
    chr_job_free(&j);
    json_t *out = reprint(J("\"notifyEvents\":[\"waiting\",\"failed\",\"waiting\"]"), NULL, NULL);
    assert_json_member(out, "notifyEvents", "[\"failed\",\"waiting\"]");
    json_decref(out);
    out = reprint(J("\"notifyEvents\":[]"), NULL, NULL);
    assert_json_member(out, "notifyEvents", "[]");
    json_decref(out);
    out = reprint(J("\"schedule\":\"@hourly\""), NULL, NULL);
    assert_null(json_object_get(out, "notifyEvents"));
    json_decref(out);
    parse_ok(J("\"notifyEvents\":[\"lost\",\"recovered\"]"), &j);
    assert_true(j.notify_events_set);
    assert_int_equal(j.notify_events, (1u << CHR_NOTICE_LOST) | (1u << CHR_NOTICE_RECOVERED));
    chr_job_free(&j);
}

static void test_dependent_job_shape(void **state)
{
    (void)state;
    json_t *out = reprint(J("\"parents\":[\"a\",\"b\"],\"scheduleTimeZone\":\"Europe/Paris\""),
                          NULL);
    assert_json_member(out, "parents", "[\"a\",\"b\"]");
    assert_null(json_object_get(out, "schedule"));
    assert_null(json_object_get(out, "scheduleTimeZone"));
    assert_null(json_object_get(out, "container"));
    assert_null(json_object_get(out, "startingDeadlineSeconds"));
    assert_null(json_object_get(out, "nextRunAt")); /* never progress */
    json_decref(out);
}

/* ---- defaults and kinds ---------------------------------------------------- */

static void test_defaults_filled(void **state)
{
    (void)state;
    struct chr_job j;
    parse_ok("{\"name\":\"a\",\"schedule\":\"R/2024-01-01T00:00:00Z/P1D\"}", &j);
    assert_string_equal(j.command, "");
    assert_true(j.shell);
    assert_int_equal(j.retries, 2);
    assert_true(j.cpus == 0.1 && j.mem_mb == 128 && j.disk_mb == 256);
    assert_string_equal(j.run_as_user, "root");
    assert_int_equal(j.retry_delay_ms, 60000);
    assert_int_equal(j.starting_deadline_ms, -1);
    assert_int_equal(j.max_completion_ms, 0);
    const char *const empty[] = {j.owner, j.owner_name, j.description, j.executor,
                                 j.executor_flags, j.task_info_data};
    for (size_t i = 0; i < sizeof empty / sizeof empty[0]; i++)
        assert_string_equal(empty[i], "");
    assert_null(j.epsilon);
    assert_null(j.arguments);
    assert_null(j.env);
    assert_null(j.fetch_json);
    assert_null(j.uris_json);
    assert_null(j.constraints);
    assert_int_equal(j.n_constraints, 0);
    chr_job_free(&j);

    /* The server's flags, and 0 or "" meaning "the default". */
    struct chr_job_defaults d = {.cpus = 0.25, .mem_mb = 64, .disk_mb = 32,
                                 .user = "chronos", .retry_delay_ms = 30000, .retries = 5};
    const char *body = J("\"cpus\":0,\"mem\":0.0,\"disk\":\"0\",\"runAsUser\":\"\","
                         "\"retries\":null");
    struct chr_error err;
    assert_int_equal(chr_job_from_json(body, strlen(body), &d, CHR_JOB_HINT_ANY, 0, &j, &err),
                     CHR_OK);
    assert_true(j.cpus == 0.25 && j.mem_mb == 64 && j.disk_mb == 32);
    assert_string_equal(j.run_as_user, "chronos");
    assert_int_equal(j.retry_delay_ms, 30000);
    assert_int_equal(j.retries, 5);
    chr_job_free(&j);
}

static void test_run_once_now(void **state)
{
    (void)state;
    struct chr_job j;
    struct chr_error err;
    parse_ok("{\"name\":\"once\"}", &j);
    assert_string_equal(j.schedule, "R1/2023-11-14T22:13:20.123Z/PT24H");
    chr_job_free(&j);
    /* Empty parents count as none. */
    assert_int_equal(parse_hint(J("\"parents\":[]"), CHR_JOB_HINT_SCHEDULED, &j, &err), CHR_OK);
    assert_string_equal(j.schedule, "R1/2023-11-14T22:13:20.123Z/PT24H");
    assert_int_equal(j.n_parents, 0);
    chr_job_free(&j);
    /* At /dependency a body with neither is an error naming parents. */
    assert_int_equal(parse_hint(J("\"parents\":[]"), CHR_JOB_HINT_DEPENDENT, &j, &err),
                     CHR_EINVAL);
    assert_string_equal(err.field, "parents");
    assert_string_equal(err.message, "parents: a dependent job needs at least one parent");
    assert_int_equal(parse_hint("{\"name\":\"x\"}", CHR_JOB_HINT_DEPENDENT, &j, &err),
                     CHR_EINVAL);
    assert_string_equal(err.field, "parents");
}

static void test_parents_win_over_schedule(void **state)
{
    (void)state;
    struct chr_job j;
    struct chr_error err;
    /* Both given, parents non-empty: dependent, whatever the endpoint. */
    const char *both = J("\"schedule\":\"R/2024-01-01T00:00:00Z/PT1H\",\"scheduleTimeZone\":"
                         "\"UTC\",\"parents\":[\"p\"]");
    for (int h = CHR_JOB_HINT_ANY; h <= CHR_JOB_HINT_DEPENDENT; h++) {
        assert_int_equal(parse_hint(both, (enum chr_job_kind_hint)h, &j, &err), CHR_OK);
        assert_null(j.schedule);
        assert_null(j.schedule_tz);
        assert_int_equal(j.n_parents, 1);
        assert_string_equal(j.parents[0], "p");
        chr_job_free(&j);
    }
    /* "schedule" plus "parents": [] (as some Chronos versions print a
     * scheduled job): scheduled, even when posted to /dependency. */
    const char *sched = J("\"schedule\":\"R/2024-01-01T00:00:00Z/PT1H\",\"parents\":[]");
    assert_int_equal(parse_hint(sched, CHR_JOB_HINT_DEPENDENT, &j, &err), CHR_OK);
    assert_string_equal(j.schedule, "R/2024-01-01T00:00:00Z/PT1H");
    assert_null(j.parents);
    chr_job_free(&j);
}

/* ---- lenient forms Chronos accepts ----------------------------------------- */

static void test_numbers_as_strings(void **state)
{
    (void)state;
    struct chr_job j;
    parse_ok(J("\"cpus\":\"0.5\",\"mem\":\"512\",\"disk\":\"1e3\",\"retries\":\"3\","
               "\"maxCompletionTime\":\"60\",\"retryDelaySeconds\":\"10\","
               "\"startingDeadlineSeconds\":\"+30\",\"shell\":\"false\",\"disabled\":\"true\""),
             &j);
    assert_true(j.cpus == 0.5 && j.mem_mb == 512 && j.disk_mb == 1000);
    assert_int_equal(j.retries, 3);
    assert_int_equal(j.max_completion_ms, 60000);
    assert_int_equal(j.retry_delay_ms, 10000);
    assert_int_equal(j.starting_deadline_ms, 30000);
    assert_false(j.shell);
    assert_true(j.disabled);
    char *s = print(&j, NULL);
    /* Stored and printed as numbers and booleans. */
    assert_non_null(strstr(s, "\"retries\":3,"));
    assert_non_null(strstr(s, "\"cpus\":0.5,\"disk\":1000.0,\"mem\":512.0,\"disabled\":true,"));
    assert_non_null(strstr(s, "\"startingDeadlineSeconds\":30"));
    chr_free(s);
    chr_job_free(&j);

    /* Integral reals are integers. */
    parse_ok(J("\"retries\":4.0,\"cpus\":2"), &j);
    assert_int_equal(j.retries, 4);
    assert_true(j.cpus == 2.0);
    chr_job_free(&j);
}

static void test_time_zone_forms(void **state)
{
    (void)state;
    const char *none[] = {J("\"scheduleTimeZone\":\"\""), J("\"scheduleTimeZone\":\"null\""),
                          J("\"scheduleTimeZone\":null"), J("\"schedule\":\"@daily\"")};
    struct chr_job j;
    for (size_t i = 0; i < sizeof none / sizeof none[0]; i++) {
        parse_ok(none[i], &j);
        assert_null(j.schedule_tz);
        char *s = print(&j, NULL);
        assert_non_null(strstr(s, "\"scheduleTimeZone\":\"\""));
        chr_free(s);
        chr_job_free(&j);
    }
    parse_ok(J("\"schedule\":\"0 3 * * *\",\"scheduleTimeZone\":\"America/Los_Angeles\""), &j);
    assert_string_equal(j.schedule_tz, "America/Los_Angeles");
    assert_string_equal(j.schedule, "0 3 * * *");
    chr_job_free(&j);
}

/* The schedule is kept exactly as written (case, offset, spacing). */
static void test_schedule_verbatim(void **state)
{
    (void)state;
    const char *body = J("\"schedule\":\"R5/2024-03-10T02:30:00-05:00/P1M2DT3H\"");
    json_t *out = reprint(body, NULL);
    assert_json_member(out, "schedule", "\"R5/2024-03-10T02:30:00-05:00/P1M2DT3H\"");
    json_decref(out);
}

static void test_container_kept_verbatim(void **state)
{
    (void)state;
    const char *body =
        J("\"schedule\":\"@daily\",\"container\":{\"type\":\"docker\","
          "\"image\":\"libmesos/ubuntu\",\"network\":\"bridge\",\"forcePullImage\":\"true\","
          "\"volumes\":[{\"containerPath\":"
          "\"/data\",\"hostPath\":\"/srv\",\"mode\":\"ro\"}],\"parameters\":[{\"key\":\"a\","
          "\"value\":\"b\"}],\"networkInfos\":[{\"name\":\"cni\",\"labels\":[]}],\"extra\":{}}");
    struct chr_job j;
    parse_ok(body, &j);
    assert_string_equal(j.container_json,
                        "{\"type\":\"docker\",\"image\":\"libmesos/ubuntu\",\"network\":"
                        "\"bridge\",\"forcePullImage\":\"true\",\"volumes\":[{\"containerPath\":"
                        "\"/data\",\"hostPath\":\"/srv\",\"mode\":\"ro\"}],\"parameters\":[{"
                        "\"key\":\"a\",\"value\":\"b\"}],\"networkInfos\":[{\"name\":\"cni\","
                        "\"labels\":[]}],\"extra\":{}}");
    chr_job_free(&j);
    json_t *in = load(body), *out = reprint(body, NULL);
    assert_true(json_equal(json_object_get(in, "container"), json_object_get(out, "container")));
    json_decref(in);
    json_decref(out);
}

static void test_unknown_and_legacy_fields(void **state)
{
    (void)state;
    struct chr_job j;
    parse_ok(J("\"foo\":{\"bar\":[1,2]},\"lastRunState\":\"x\",\"nextRunAt\":5,"
               "\"epsilon\":\"PT30S\",\"async\":true,\"highPriority\":true,\"softError\":true,"
               "\"concurrent\":true,\"dataProcessingJobType\":true,\"retryBackoff\":true"),
             &j);
    assert_string_equal(j.epsilon, "PT30S");
    assert_true(j.async && j.high_priority && j.soft_error && j.concurrent &&
                j.data_processing && j.retry_backoff);
    char *s = print(&j, NULL);
    json_t *out = load(s);
    assert_json_member(out, "epsilon", "\"PT30S\"");
    assert_json_member(out, "async", "true");
    assert_json_member(out, "retryBackoff", "true");
    assert_null(json_object_get(out, "foo"));
    assert_null(json_object_get(out, "lastRunState"));
    json_decref(out);
    chr_free(s);
    chr_job_free(&j);
}

static void test_fetch_and_uris(void **state)
{
    (void)state;
    /* uris alone: fetch built from it with Mesos's defaults. */
    json_t *out = reprint(J("\"uris\":[\"http://a/x\",\"http://b/y\"]"), NULL);
    assert_json_member(out, "uris", "[\"http://a/x\",\"http://b/y\"]");
    assert_json_member(out, "fetch",
                       "[{\"uri\":\"http://a/x\",\"executable\":false,\"cache\":false,"
                       "\"extract\":true},{\"uri\":\"http://b/y\",\"executable\":false,"
                       "\"cache\":false,\"extract\":true}]");
    json_decref(out);
    /* fetch alone: kept as given, uris is fetch[].uri. */
    out = reprint(J("\"fetch\":[{\"uri\":\"s3://b/k\",\"executable\":true,"
                    "\"output_file\":\"k\"}],\"uris\":[]"),
                  NULL);
    assert_json_member(out, "fetch", "[{\"uri\":\"s3://b/k\",\"executable\":true,"
                                     "\"output_file\":\"k\"}]");
    assert_json_member(out, "uris", "[\"s3://b/k\"]");
    json_decref(out);
    /* Neither: both empty. */
    out = reprint(J("\"fetch\":null"), NULL);
    assert_json_member(out, "fetch", "[]");
    assert_json_member(out, "uris", "[]");
    json_decref(out);
}

/* ---- malformed bodies ------------------------------------------------------ */

static const struct malformed {
    const char *body;
    const char *field;
    const char *part; /* in the message after "field: " */
} malformed[] = {
    {J("\"retries\":\"x\""), "retries", "expected an integer 0-100, got \"x\""},
    {J("\"retries\":-1"), "retries", "expected an integer 0-100, got -1"},
    {J("\"retries\":101"), "retries", "got 101"},
    {J("\"retries\":2.5"), "retries", "got 2.5"},
    {J("\"retries\":true"), "retries", "got true"},
    {J("\"retries\":[]"), "retries", "got an array"},
    {J("\"retries\":\" 3\""), "retries", "got \" 3\""},
    {"{\"name\":3}", "name", "expected a string, got 3"},
    {"{\"name\":\"a b\"}", "name",
     "'a b' is not a valid job name (letters, digits, '_', '.', '-')"},
    {"{}", "name", "required"},
    {"{\"name\":null}", "name", "required"},
    {"{\"name\":\"\"}", "name", "required"},
    {"{\"name\":\".\"}", "name", "not a valid job name"},
    {"{\"name\":\"a/b\"}", "name", "not a valid job name"},
    {J("\"command\":3"), "command", "expected a string, got 3"},
    {J("\"shell\":\"yes\""), "shell", "expected true or false, got \"yes\""},
    {J("\"shell\":1"), "shell", "got 1"},
    {J("\"executor\":[]"), "executor", "expected a string"},
    {J("\"executorFlags\":{}"), "executorFlags", "got an object"},
    {J("\"taskInfoData\":false"), "taskInfoData", "got false"},
    {J("\"owner\":1"), "owner", "expected a string"},
    {J("\"ownerName\":1"), "ownerName", "expected a string"},
    {J("\"description\":1.5"), "description", "expected a string, got 1.5"},
    {J("\"runAsUser\":0"), "runAsUser", "expected a string"},
    {J("\"epsilon\":60"), "epsilon", "expected a string"},
    {J("\"disabled\":\"no\""), "disabled", "expected true or false"},
    {J("\"concurrent\":0"), "concurrent", "expected true or false"},
    {J("\"highPriority\":\"True\""), "highPriority", "expected true or false"},
    {J("\"softError\":[]"), "softError", "expected true or false"},
    {J("\"dataProcessingJobType\":{}"), "dataProcessingJobType", "expected true or false"},
    {J("\"async\":1"), "async", "expected true or false"},
    {J("\"retryBackoff\":\"sure\""), "retryBackoff", "expected true or false"},
    {J("\"cpus\":\"abc\""), "cpus", "expected a number, got \"abc\""},
    {J("\"cpus\":-1"), "cpus", "-1 is negative"},
    {J("\"cpus\":true"), "cpus", "expected a number"},
    {J("\"cpus\":2000"), "cpus", "2000 is more than 1024"},
    {J("\"cpus\":\"nan\""), "cpus", "expected a number"},
    {J("\"cpus\":\"inf\""), "cpus", "expected a number"},
    {J("\"cpus\":\"1e999\""), "cpus", "expected a number"},
    {J("\"mem\":\"-5\""), "mem", "-5 is negative"},
    {J("\"mem\":[]"), "mem", "expected a number"},
    {J("\"disk\":{}"), "disk", "expected a number"},
    {J("\"disk\":\"0x10\""), "disk", "expected a number"},
    {J("\"disk\":\" 5\""), "disk", "expected a number"},
    {J("\"maxCompletionTime\":-1"), "maxCompletionTime", "expected an integer 0-"},
    {J("\"maxCompletionTime\":\"soon\""), "maxCompletionTime", "got \"soon\""},
    {J("\"retryDelaySeconds\":-5"), "retryDelaySeconds", "expected an integer 0-86400, got -5"},
    {J("\"retryDelaySeconds\":86401"), "retryDelaySeconds", "got 86401"},
    {J("\"startingDeadlineSeconds\":-1"), "startingDeadlineSeconds", "got -1"},
    {J("\"startingDeadlineSeconds\":1.5"), "startingDeadlineSeconds", "got 1.5"},
    {J("\"schedule\":5"), "schedule", "expected a string, got 5"},
    {J("\"schedule\":\"\""), "schedule", "is empty"},
    {J("\"schedule\":[\"R/x\"]"), "schedule", "got an array"},
    {J("\"scheduleTimeZone\":7"), "scheduleTimeZone", "expected a string, got 7"},
    {J("\"parents\":[\"p\"],\"scheduleTimeZone\":{}"), "scheduleTimeZone", "expected a string"},
    {J("\"parents\":\"a\""), "parents", "expected an array of job names, got \"a\""},
    {J("\"parents\":[1]"), "parents[0]", "expected a string, got 1"},
    {J("\"parents\":[\"a b\"]"), "parents[0]", "'a b' is not a valid job name"},
    {J("\"parents\":[\"j\"]"), "parents[0]", "'j' is the job itself"},
    {J("\"parents\":[\"a\",\"b\",\"a\"]"), "parents[2]", "'a' is listed twice"},
    {J("\"arguments\":\"-v\""), "arguments", "expected an array of strings, got \"-v\""},
    {J("\"arguments\":[\"a\",2]"), "arguments[1]", "expected a string, got 2"},
    {J("\"arguments\":[null]"), "arguments[0]", "expected a string, got null"},
    {J("\"environmentVariables\":{}"), "environmentVariables", "expected an array"},
    {J("\"environmentVariables\":[\"A=1\"]"), "environmentVariables[0]", "expected an object"},
    {J("\"environmentVariables\":[{\"name\":\"A\",\"value\":\"1\"},{\"name\":\"B\",\"value\":"
       "\"2\"},{\"value\":\"x\"}]"),
     "environmentVariables[2].name", "expected a string"},
    {J("\"environmentVariables\":[{\"name\":1,\"value\":\"x\"}]"),
     "environmentVariables[0].name", "expected a string, got 1"},
    {J("\"environmentVariables\":[{\"name\":\"A\"}]"), "environmentVariables[0].value",
     "expected a string, got nothing"},
    {J("\"environmentVariables\":[{\"name\":\"A\",\"value\":8080}]"),
     "environmentVariables[0].value", "expected a string, got 8080"},
    {J("\"environmentVariables\":[{\"name\":\"A=B\",\"value\":\"1\"}]"),
     "environmentVariables[0].name", "'A=B' is not a valid variable name"},
    {J("\"environmentVariables\":[{\"name\":\"\",\"value\":\"1\"}]"),
     "environmentVariables[0].name", "is not a valid variable name"},
    {J("\"container\":\"docker\""), "container", "expected an object with an image"},
    {J("\"container\":{}"), "container.image", "required"},
    {J("\"container\":{\"image\":3}"), "container.image", "got 3"},
    {J("\"container\":{\"image\":\"\"}"), "container.image", "expected a non-empty string"},
    {J("\"container\":{\"image\":\"x\",\"type\":\"LXC\"}"), "container.type",
     "\"LXC\" is not one of DOCKER|MESOS"},
    {J("\"container\":{\"image\":\"x\",\"network\":\"NONE\"}"), "container.network",
     "is not one of BRIDGE|HOST|USER"},
    {J("\"container\":{\"image\":\"x\",\"forcePullImage\":\"maybe\"}"),
     "container.forcePullImage", "expected true or false"},
    {J("\"container\":{\"image\":\"x\",\"volumes\":{}}"), "container.volumes",
     "expected an array of objects"},
    {J("\"container\":{\"image\":\"x\",\"volumes\":[{\"hostPath\":\"/a\"}]}"),
     "container.volumes[0].containerPath", "required"},
    {J("\"container\":{\"image\":\"x\",\"volumes\":[{\"containerPath\":\"/a\",\"mode\":"
       "\"RX\"}]}"),
     "container.volumes[0].mode", "is not one of RW|RO"},
    {J("\"container\":{\"image\":\"x\",\"parameters\":[{\"key\":1}]}"),
     "container.parameters[0].key", "got 1"},
    {J("\"container\":{\"image\":\"x\",\"networkInfos\":[1]}"), "container.networkInfos[0]",
     "expected an object"},
    {J("\"constraints\":\"x\""), "constraints", "expected an array"},
    {J("\"constraints\":[[\"a\",\"EQUALS\"]]"), "constraints[0]",
     "expected [attribute, operator, value]"},
    {J("\"constraints\":[[\"a\",\"NEAR\",\"b\"]]"), "constraints[0][1]",
     "\"NEAR\" is not an operator (EQUALS, LIKE, UNLIKE)"},
    {J("\"constraints\":[[\"a\",\"equals\",\"b\"]]"), "constraints[0][1]", "not an operator"},
    {J("\"constraints\":[[\"a\",\"LIKE\",\"b\"],[\"a\",\"EQUALS\",1]]"), "constraints[1]",
     "three strings"},
    {J("\"constraints\":[\"a\"]"), "constraints[0]", "got \"a\""},
    {J("\"constraints\":[[\"a\",\"EQUALS\",\"b\",\"c\"]]"), "constraints[0]",
     "expected [attribute, operator, value]"},
    {J("\"constraints\":[[\"\",\"EQUALS\",\"b\"]]"), "constraints[0][0]",
     "the attribute name is empty"},
    {J("\"constraints\":[[\"rack\",\"LIKE\",\"rack-[1-\"]]"), "constraints[0][2]",
     "unclosed '['"},
    {J("\"constraints\":[[\"rack\",\"UNLIKE\",\"(?i)rack\"]]"), "constraints[0][2]",
     "'(?' constructs"},
    {J("\"constraints\":[[\"a\",\"LIKE\",\"x\\u0000y\"]]"), "constraints[0][2]",
     "NUL"},
    {J("\"fetch\":{}"), "fetch", "expected an array"},
    {J("\"fetch\":[{}]"), "fetch[0].uri", "required"},
    {J("\"fetch\":[{\"uri\":\"u\",\"extract\":\"no\"}]"), "fetch[0].extract",
     "expected true or false"},
    {J("\"fetch\":[\"u\"]"), "fetch[0]", "expected an object"},
    {J("\"fetch\":[{\"uri\":\"u\",\"output_file\":5}]"), "fetch[0].output_file", "got 5"},
    {J("\"notifyEvents\":\"failed\""), "notifyEvents", "expected an array of event names"},
    {J("\"notifyEvents\":[\"failed\",\"fialed\"]"), "notifyEvents[1]",
     "unknown event \"fialed\" (failed, disabled, exhausted, deleted, lost, timeout, skipped, "
     "recovered, waiting)"},
    {J("\"notifyEvents\":[\"test\"]"), "notifyEvents[0]", "unknown event \"test\""},
    {J("\"notifyEvents\":[1]"), "notifyEvents[0]", "expected an event name, got 1"},
    {J("\"notifyEvents\":[\"lost\",\"lost\",\"lost\",\"lost\",\"lost\",\"lost\",\"lost\",\"lost\","
       "\"lost\",\"lost\",\"lost\",\"lost\",\"lost\",\"lost\",\"lost\",\"lost\",\"lost\",\"lost\","
       "\"lost\",\"lost\",\"lost\",\"lost\",\"lost\",\"lost\",\"lost\",\"lost\",\"lost\",\"lost\","
       "\"lost\",\"lost\",\"lost\",\"lost\",\"lost\"]"),
     "notifyEvents", "more than 32 entries"},
    {J("\"uris\":\"u\""), "uris", "expected an array of strings"},
    {J("\"uris\":[1]"), "uris[0]", "expected a non-empty string, got 1"},
    {J("\"fetch\":[{\"uri\":\"a\"}],\"uris\":[\"b\"]"), "uris", "not both"},
    {"[]", "body", "expected a JSON object, got an array"},
    {"3", "body", "expected a JSON object, got 3"},
    {"\"job\"", "body", "expected a JSON object"},
    {"null", "body", "expected a JSON object, got null"},
    {"", "body", "invalid JSON"},
    {"{\"name\":\"a\",}", "body", "invalid JSON"},
    {"{\"name\":\"a\"} {}", "body", "invalid JSON"},
    {"{\"name\":\"a\",\"name\":\"b\"}", "body", "duplicate object key"},
    {J("\"retries\":1,\"retries\":2"), "body", "duplicate object key"},
    {"{\"name\":\"a\\u0000b\"}", "name", "contains a NUL byte"},
    {"{\"name\":\"caf\xe9\"}", "body", "invalid JSON"},
    {"{\"name\":\"a\",\"command\":\"\xc0\x80\"}", "body", "invalid JSON"},
};

static void test_malformed_bodies(void **state)
{
    (void)state;
    size_t n = sizeof malformed / sizeof malformed[0];
    assert_true(n >= 60);
    for (size_t i = 0; i < n; i++) {
        const struct malformed *m = &malformed[i];
        struct chr_job j, zero;
        struct chr_error err;
        memset(&j, 0x5a, sizeof j);
        memset(&zero, 0, sizeof zero);
        enum chr_err e = parse_hint(m->body, CHR_JOB_HINT_ANY, &j, &err);
        if (e != CHR_EINVAL)
            fail_msg("#%zu %s: returned %d, want CHR_EINVAL", i, m->body, (int)e);
        assert_memory_equal(&j, &zero, sizeof j); /* no partial job */
        if (strcmp(err.field, m->field) != 0)
            fail_msg("#%zu %s: field '%s', want '%s' (%s)", i, m->body, err.field, m->field,
                     err.message);
        if (strncmp(err.message, m->field, strlen(m->field)) != 0 ||
            strncmp(err.message + strlen(m->field), ": ", 2) != 0 ||
            strstr(err.message, m->part) == NULL)
            fail_msg("#%zu %s: message '%s', want '%s: ...%s...'", i, m->body, err.message,
                     m->field, m->part);
    }
}

/* A raw NUL byte inside the body (the length says it is there). */
static void test_nul_byte_in_body(void **state)
{
    (void)state;
    static const char body[] = "{\"name\":\"a\0b\"}";
    struct chr_job j;
    struct chr_error err;
    assert_int_equal(chr_job_from_json(body, sizeof body - 1, NULL, CHR_JOB_HINT_ANY, 0, &j,
                                       &err),
                     CHR_EINVAL);
    assert_string_equal(err.field, "body");
    /* And a NULL text is an empty body. */
    assert_int_equal(chr_job_from_json(NULL, 0, NULL, CHR_JOB_HINT_ANY, 0, &j, &err),
                     CHR_EINVAL);
    assert_string_equal(err.field, "body");
}

/* ---- limits ---------------------------------------------------------------- */

/* A body J("\"<key>\":\"<n x c>\"") in a malloc'd buffer. */
static char *body_with_string(const char *key, char c, size_t n)
{
    size_t cap = n + strlen(key) + 64;
    char *b = chr_malloc(cap);
    assert_non_null(b);
    int head = snprintf(b, cap, "{\"name\":\"j\",\"%s\":\"", key);
    memset(b + head, c, n);
    memcpy(b + (size_t)head + n, "\"}", 3);
    return b;
}

static void expect_limit(const char *body, const char *field, const char *part)
{
    struct chr_job j;
    struct chr_error err;
    enum chr_err e = parse_hint(body, CHR_JOB_HINT_ANY, &j, &err);
    if (e != CHR_EINVAL || strcmp(err.field, field) != 0 || strstr(err.message, part) == NULL)
        fail_msg("got %d '%s', want CHR_EINVAL '%s: ...%s...'", (int)e, err.message, field,
                 part);
}

static void test_limits(void **state)
{
    (void)state;
    char *b = body_with_string("description", 'd', CHR_JOB_JSON_MAX);
    expect_limit(b, "body", "is more than 65536");
    chr_free(b);
    b = body_with_string("description", 'd', CHR_JOB_TEXT_MAX + 1);
    expect_limit(b, "description", "longer than 4096 bytes");
    chr_free(b);
    b = body_with_string("description", 'd', CHR_JOB_TEXT_MAX); /* the bound itself is fine */
    struct chr_job j;
    parse_ok(b, &j);
    chr_job_free(&j);
    chr_free(b);
    b = body_with_string("command", 'c', CHR_JOB_COMMAND_MAX + 1);
    expect_limit(b, "command", "longer than 16384 bytes");
    chr_free(b);
    b = body_with_string("schedule", 'R', CHR_SCHEDULE_LEN_MAX + 1);
    expect_limit(b, "schedule", "longer than 512 bytes");
    chr_free(b);
    b = body_with_string("scheduleTimeZone", 'Z', CHR_TZ_NAME_LEN_MAX + 1);
    expect_limit(b, "scheduleTimeZone", "longer than 64 bytes");
    chr_free(b);

    /* A name of 201 bytes; 200 is fine. */
    char body[512];
    char name[CHR_JOB_NAME_MAX + 2];
    memset(name, 'n', sizeof name - 1);
    name[sizeof name - 1] = '\0';
    snprintf(body, sizeof body, "{\"name\":\"%s\"}", name);
    expect_limit(body, "name", "longer than 200 bytes");
    name[CHR_JOB_NAME_MAX] = '\0';
    snprintf(body, sizeof body, "{\"name\":\"%s\"}", name);
    parse_ok(body, &j);
    chr_job_free(&j);
}

static void test_list_limits(void **state)
{
    (void)state;
    static const struct {
        const char *key, *pre, *post; /* item i is pre, i, post */
        size_t max;
        const char *part;
    } lists[] = {
        {"parents", "\"p", "\"", CHR_JOB_PARENTS_MAX, "more than 100 entries"},
        {"arguments", "\"a", "\"", CHR_JOB_ARGUMENTS_MAX, "more than 256 entries"},
        {"environmentVariables", "{\"name\":\"V", "\",\"value\":\"v\"}", CHR_JOB_ENV_MAX,
         "more than 256 entries"},
        {"constraints", "[\"a", "\",\"EQUALS\",\"b\"]", CHR_JOB_CONSTRAINTS_MAX,
         "more than 64 entries"},
        {"fetch", "{\"uri\":\"u", "\"}", CHR_JOB_FETCH_MAX, "more than 64 entries"},
        {"uris", "\"u", "\"", CHR_JOB_FETCH_MAX, "more than 64 entries"},
    };
    for (size_t k = 0; k < sizeof lists / sizeof lists[0]; k++) {
        for (size_t n = lists[k].max; n <= lists[k].max + 1; n++) {
            size_t cap = n * 64 + 128, used = 0;
            char *b = chr_malloc(cap);
            assert_non_null(b);
            used += (size_t)snprintf(b, cap, "{\"name\":\"j\",\"%s\":[", lists[k].key);
            for (size_t i = 0; i < n; i++) {
                if (i > 0)
                    b[used++] = ',';
                used += (size_t)snprintf(b + used, cap - used, "%s%zu%s", lists[k].pre, i,
                                         lists[k].post);
            }
            snprintf(b + used, cap - used, "]}");
            struct chr_job j;
            struct chr_error err;
            enum chr_err e = parse_hint(b, CHR_JOB_HINT_ANY, &j, &err);
            if (n == lists[k].max) {
                if (e != CHR_OK)
                    fail_msg("%s with %zu entries: %s", lists[k].key, n, err.message);
                chr_job_free(&j);
            } else {
                assert_int_equal(e, CHR_EINVAL);
                assert_string_equal(err.field, lists[k].key);
                assert_non_null(strstr(err.message, lists[k].part));
            }
            chr_free(b);
        }
    }
}

/* ---- idempotence ----------------------------------------------------------- */

static const char *const round_trip_bodies[] = {
    chronos_example,
    "{\"name\":\"once\"}",
    J("\"parents\":[\"a\",\"b\"],\"schedule\":\"@daily\",\"softError\":true"),
    J("\"schedule\":\"R/2024-01-01T00:00:00Z/PT1H\",\"parents\":[],\"scheduleTimeZone\":"
      "\"Europe/Paris\",\"cpus\":\"0.123456789012345678\",\"mem\":0.1,\"disk\":1e8"),
    J("\"uris\":[\"http://a\"],\"container\":{\"type\":\"docker\",\"image\":\"busybox\"},"
      "\"retryDelaySeconds\":5,\"retryBackoff\":true,\"startingDeadlineSeconds\":0,"
      "\"maxCompletionTime\":\"3600\",\"epsilon\":\"PT1M\",\"async\":true"),
    J("\"notifyEvents\":[\"waiting\",\"failed\",\"failed\"]"),
    J("\"notifyEvents\":[]"),
    J("\"command\":\"echo \\\"h\\u00e9\\\" \\\\ \\n\\t\",\"description\":\"\\ud83d\\ude00\","
      "\"environmentVariables\":[{\"name\":\"A\",\"value\":\"\"}],\"arguments\":[\"\"]"),
};

/* to_json(from_json(x)) parsed and printed again is the same text. */
static void test_round_trip_idempotent(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof round_trip_bodies / sizeof round_trip_bodies[0]; i++) {
        struct chr_job a, b;
        parse_ok(round_trip_bodies[i], &a);
        char *y = print(&a, NULL);
        parse_ok(y, &b);
        char *z = print(&b, NULL);
        if (strcmp(y, z) != 0)
            fail_msg("not idempotent:\n  %s\n  %s", y, z);
        chr_free(y);
        chr_free(z);
        chr_job_free(&a);
        chr_job_free(&b);
    }
}

/* The core's bound of a job's text (scheduler/job.h, used to keep a forced
 * delete's batch within the store's) holds for what the codec writes, with
 * the counters at their longest, for escapes, and for 64 one-letter uris
 * whose fetch entries add their defaults. */
static void test_text_bound_holds(void **state)
{
    (void)state;
    struct chr_job_stats st;
    chr_job_stats_init(&st);
    st.success_count = st.error_count = st.errors_since_last_success = INT64_MAX;
    st.last_success_ms = st.last_error_ms = T("2030-01-01T00:00:00Z");
    char uris[64 * 5 + 16];
    size_t u = (size_t)snprintf(uris, sizeof uris, "\"uris\":[");
    for (int i = 0; i < 64; i++)
        u += (size_t)snprintf(uris + u, sizeof uris - u, "%s\"a\"", i ? "," : "");
    snprintf(uris + u, sizeof uris - u, "]");
    char body[1024];
    snprintf(body, sizeof body, "{\"name\":\"b\",\"command\":\"x\",%s,\"cpus\":0.123456789012345,"
             "\"description\":\"\\u0001\\u0002\\\"\\\\\"}", uris);
    const char *bodies[sizeof round_trip_bodies / sizeof round_trip_bodies[0] + 1];
    size_t n = 0;
    for (; n < sizeof round_trip_bodies / sizeof round_trip_bodies[0]; n++)
        bodies[n] = round_trip_bodies[n];
    bodies[n++] = body;
    for (size_t i = 0; i < n; i++) {
        struct chr_job j;
        parse_ok(bodies[i], &j);
        size_t len = 0;
        char *t = chr_job_to_json(&j, &st, &len);
        assert_non_null(t);
        if (chr_job_text_bound(&j) < len)
            fail_msg("bound %zu < %zu for %s", chr_job_text_bound(&j), len, t);
        chr_free(t);
        chr_job_free(&j);
    }
}

/* ---- allocation failures ---------------------------------------------------- */

/* Every allocation of a full parse fails in turn: CHR_ENOMEM with *out
 * zeroed and nothing leaked (ASan), until the parse succeeds. */
static void test_parse_allocation_failures(void **state)
{
    (void)state;
    const char *bodies[] = {chronos_example, round_trip_bodies[2], round_trip_bodies[4],
                            round_trip_bodies[5]};
    for (size_t k = 0; k < sizeof bodies / sizeof bodies[0]; k++) {
        long n = 1;
        for (;; n++) {
            struct chr_job j, zero;
            struct chr_error err;
            memset(&zero, 0, sizeof zero);
            chr_alloc_fail_after(n);
            enum chr_err e = chr_job_from_json(bodies[k], strlen(bodies[k]), NULL,
                                               CHR_JOB_HINT_ANY, NOW_MS, &j, &err);
            chr_alloc_fail_after(-1);
            if (e == CHR_OK) {
                chr_job_free(&j);
                break;
            }
            if (e != CHR_ENOMEM)
                fail_msg("body %zu, allocation %ld failing: %d %s", k, n, (int)e, err.message);
            assert_memory_equal(&j, &zero, sizeof j);
            assert_true(n < 10000);
        }
        assert_true(n > 10); /* the loop really did fail allocations */
    }
}

static void test_print_allocation_failures(void **state)
{
    (void)state;
    struct chr_job j;
    parse_ok(chronos_example, &j);
    long n = 1;
    for (;; n++) {
        chr_alloc_fail_after(n);
        char *s = chr_job_to_json(&j, NULL, NULL);
        chr_alloc_fail_after(-1);
        if (s != NULL) {
            chr_free(s);
            break;
        }
        assert_true(n < 100);
    }
    assert_int_equal(n, 2); /* one chr_ allocation: the result */
    chr_job_free(&j);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_chronos_example_fields),
        cmocka_unit_test(test_chronos_example_round_trip),
        cmocka_unit_test(test_counters_from_stats),
        cmocka_unit_test(test_output_order_and_shape),
        cmocka_unit_test(test_dependent_job_shape),
        cmocka_unit_test(test_notify_events),
        cmocka_unit_test(test_defaults_filled),
        cmocka_unit_test(test_run_once_now),
        cmocka_unit_test(test_parents_win_over_schedule),
        cmocka_unit_test(test_numbers_as_strings),
        cmocka_unit_test(test_time_zone_forms),
        cmocka_unit_test(test_schedule_verbatim),
        cmocka_unit_test(test_container_kept_verbatim),
        cmocka_unit_test(test_unknown_and_legacy_fields),
        cmocka_unit_test(test_fetch_and_uris),
        cmocka_unit_test(test_malformed_bodies),
        cmocka_unit_test(test_nul_byte_in_body),
        cmocka_unit_test(test_limits),
        cmocka_unit_test(test_list_limits),
        cmocka_unit_test(test_round_trip_idempotent),
        cmocka_unit_test(test_text_bound_holds),
        cmocka_unit_test(test_parse_allocation_failures),
        cmocka_unit_test(test_print_allocation_failures),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
