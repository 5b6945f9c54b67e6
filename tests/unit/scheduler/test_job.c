/*
 * test_job.c - the job model of scheduler/job.c: names, validation of one
 * job on its own (every rule of job.h, each failure naming its JSON field),
 * deep copy (including every allocation failing in turn) and free.
 *
 * Jobs are built by hand here, with chr_ allocations, as the core and the
 * simulator will build them; no JSON is involved.
 */
#include "../unit.h"

#include <math.h>
#include <stdbool.h>
#include <stdlib.h>

#include "common/alloc.h"
#include "common/limits.h"
#include "scheduler/job.h"

/* ---- helpers ------------------------------------------------------------ */

static char *dup_s(const char *s)
{
    if (s == NULL)
        return NULL;
    char *p = chr_strndup(s, strlen(s));
    assert_non_null(p);
    return p;
}

/* Replaces an owned string of a job. */
static void set_s(char **slot, const char *s)
{
    chr_free(*slot);
    *slot = dup_s(s);
}

/* A string of n copies of c, chr_malloc'd. */
static char *repeat(char c, size_t n)
{
    char *p = chr_malloc(n + 1);
    assert_non_null(p);
    memset(p, c, n);
    p[n] = '\0';
    return p;
}

static char **strv(size_t n, const char *each)
{
    char **v = chr_calloc(n, sizeof *v);
    assert_non_null(v);
    for (size_t i = 0; i < n; i++)
        v[i] = dup_s(each);
    return v;
}

/* Replaces the job's environment with n variables V=v. */
static void many_env(struct chr_job *j, size_t n)
{
    for (uint32_t i = 0; i < j->n_env; i++) {
        chr_free(j->env[i].name);
        chr_free(j->env[i].value);
    }
    chr_free(j->env);
    j->env = chr_calloc(n, sizeof *j->env);
    assert_non_null(j->env);
    j->n_env = (uint32_t)n;
    for (size_t i = 0; i < n; i++) {
        j->env[i].name = dup_s("V");
        j->env[i].value = dup_s("v");
    }
}

/* Frees the job's constraints but leaves their count: a broken job. */
static void lose_constraints(struct chr_job *j)
{
    for (uint32_t i = 0; i < j->n_constraints; i++) {
        chr_free(j->constraints[i].attribute);
        chr_free(j->constraints[i].value);
    }
    chr_free(j->constraints);
    j->constraints = NULL;
}

/* A scheduled job with every field set, as the codec would produce it. */
static struct chr_job full_job(void)
{
    struct chr_job j;
    memset(&j, 0, sizeof j);
    j.name = dup_s("camus_kafka2hdfs");
    j.command = dup_s("/srv/job.bash");
    j.arguments = strv(2, "-verbose");
    j.n_arguments = 2;
    j.schedule = dup_s("R/2014-03-08T20:00:00.000Z/PT2H");
    j.schedule_tz = dup_s("Europe/Paris");
    j.retries = 2;
    j.retry_delay_ms = 60000;
    j.starting_deadline_ms = -1;
    j.cpus = 1.0;
    j.mem_mb = 1024;
    j.disk_mb = 10240;
    j.owner = dup_s("bofh@example.com");
    j.owner_name = dup_s("BOFH");
    j.description = dup_s("moves kafka to hdfs");
    j.run_as_user = dup_s("root");
    j.executor = dup_s("");
    j.executor_flags = dup_s("");
    j.task_info_data = dup_s("");
    j.epsilon = dup_s("PT60S");
    j.env = chr_calloc(2, sizeof *j.env);
    assert_non_null(j.env);
    j.n_env = 2;
    j.env[0].name = dup_s("JVMOPTS");
    j.env[0].value = dup_s("-Xmx1000m");
    j.env[1].name = dup_s("EMPTY");
    j.env[1].value = dup_s("");
    j.container_json = dup_s("{\"type\":\"docker\",\"image\":\"busybox\"}");
    j.constraints = chr_calloc(2, sizeof *j.constraints);
    assert_non_null(j.constraints);
    j.n_constraints = 2;
    j.constraints[0] = (struct chr_constraint){dup_s("rack"), CHR_CONSTRAINT_EQUALS,
                                               dup_s("rack-1")};
    j.constraints[1] = (struct chr_constraint){dup_s("dc"), CHR_CONSTRAINT_LIKE,
                                               dup_s("north|south")};
    j.fetch_json = dup_s("[{\"uri\":\"https://x/f\"}]");
    return j;
}

/* A minimal dependent job. */
static struct chr_job dependent_job(void)
{
    struct chr_job j;
    memset(&j, 0, sizeof j);
    j.name = dup_s("child");
    j.parents = chr_calloc(2, sizeof *j.parents);
    assert_non_null(j.parents);
    j.parents[0] = dup_s("p1");
    j.parents[1] = dup_s("p2");
    j.n_parents = 2;
    j.starting_deadline_ms = -1;
    return j;
}

static void assert_valid(const struct chr_job *j)
{
    struct chr_error err;
    memset(&err, 'x', sizeof err);
    enum chr_err e = chr_job_validate(j, &err);
    if (e != CHR_OK)
        fail_msg("chr_job_validate failed (%d): %s", (int)e, err.message);
    assert_string_equal(err.message, "");
}

/* Validation of `j` fails naming `field`, with a message that starts with
 * "field: " and contains `part`; then `j` is freed. */
static void expect_invalid(struct chr_job *j, const char *field, const char *part, int line)
{
    struct chr_error err;
    memset(&err, 0, sizeof err);
    enum chr_err e = chr_job_validate(j, &err);
    chr_job_free(j);
    if (e != CHR_EINVAL)
        fail_msg("line %d: chr_job_validate returned %d, want CHR_EINVAL", line, (int)e);
    if (strcmp(err.field, field) != 0)
        fail_msg("line %d: field '%s', want '%s' (%s)", line, err.field, field, err.message);
    if (strncmp(err.message, field, strlen(field)) != 0 || strstr(err.message, part) == NULL)
        fail_msg("line %d: message '%s' lacks '%s: ...%s...'", line, err.message, field, part);
}

/* Builds a base job, applies `mutation` to it (a statement on `j`), and
 * expects validation to fail. */
#define INVALID(base, mutation, field, part)                                                       \
    do {                                                                                           \
        struct chr_job j = base();                                                                 \
        mutation;                                                                                  \
        expect_invalid(&j, field, part, __LINE__);                                                 \
    } while (0)

/* ---- names ---------------------------------------------------------------- */

static void test_name_valid(void **state)
{
    (void)state;
    const char *good[] = {"a", "Z", "0", "job-1", "my_job.v2", "-", "_", "...", ".a", "a..b"};
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++)
        if (!chr_job_name_valid(good[i]))
            fail_msg("'%s' should be a valid name", good[i]);
    const char *bad[] = {"", ".", "..", "a b", "a#b", "a/b", "a\\b", "caf\xc3\xa9", "a\n",
                         "a:b", "a@b", "\t", "a*", "a$b"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        if (chr_job_name_valid(bad[i]))
            fail_msg("'%s' should not be a valid name", bad[i]);
    assert_false(chr_job_name_valid(NULL));

    char *longest = repeat('n', CHR_JOB_NAME_MAX);
    assert_true(chr_job_name_valid(longest));
    chr_free(longest);
    char *too_long = repeat('n', CHR_JOB_NAME_MAX + 1);
    assert_false(chr_job_name_valid(too_long));
    chr_free(too_long);
}

/* ---- defaults --------------------------------------------------------------- */

static void test_defaults_and_stats_init(void **state)
{
    (void)state;
    struct chr_job_defaults d;
    memset(&d, 0xff, sizeof d);
    chr_job_defaults_init(&d);
    assert_true(d.cpus == 0.1);
    assert_true(d.mem_mb == 128.0);
    assert_true(d.disk_mb == 256.0);
    assert_string_equal(d.user, "root");
    assert_int_equal(d.retry_delay_ms, 60000);
    assert_int_equal(d.retries, 2);

    struct chr_job_stats s;
    memset(&s, 0x55, sizeof s);
    chr_job_stats_init(&s);
    assert_int_equal(s.success_count, 0);
    assert_int_equal(s.error_count, 0);
    assert_int_equal(s.errors_since_last_success, 0);
    assert_true(s.last_success_ms == INT64_MIN);
    assert_true(s.last_error_ms == INT64_MIN);
}

/* ---- validation ------------------------------------------------------------- */

static void test_validate_accepts(void **state)
{
    (void)state;
    struct chr_job j = full_job();
    assert_valid(&j);
    chr_job_free(&j);

    j = dependent_job();
    assert_valid(&j);
    chr_job_free(&j);

    /* Text fields left NULL read as "". */
    memset(&j, 0, sizeof j);
    j.name = dup_s("bare");
    j.schedule = dup_s("@daily");
    j.starting_deadline_ms = -1;
    assert_valid(&j);
    chr_job_free(&j);

    /* Bounds themselves are allowed. */
    j = full_job();
    j.retries = CHR_JOB_RETRIES_MAX;
    j.retry_delay_ms = CHR_JOB_RETRY_DELAY_MS_MAX;
    j.starting_deadline_ms = 0;
    j.max_completion_ms = CHR_JOB_DURATION_S_MAX * 1000;
    j.cpus = CHR_JOB_CPUS_MAX;
    j.mem_mb = 0;
    j.disk_mb = CHR_JOB_DISK_MB_MAX;
    chr_free(j.command);
    j.command = repeat('c', CHR_JOB_COMMAND_MAX);
    set_s(&j.description, "UTF-8 is fine: caf\xc3\xa9 \xe2\x9c\x93 \xf0\x9f\x98\x80");
    assert_valid(&j);
    chr_job_free(&j);
}

static void test_validate_rejects_name_and_kind(void **state)
{
    (void)state;
    INVALID(full_job, set_s(&j.name, NULL), "name", "required");
    INVALID(full_job, set_s(&j.name, ""), "name", "required");
    INVALID(full_job, set_s(&j.name, "a b"), "name",
            "'a b' is not a valid job name (letters, digits, '_', '.', '-')");
    INVALID(full_job, set_s(&j.name, ".."), "name", "not a valid job name");
    INVALID(full_job, set_s(&j.name, "tab\there"), "name", "'tab?here'");
    INVALID(full_job, (chr_free(j.name), j.name = repeat('n', CHR_JOB_NAME_MAX + 1)), "name",
            "longer than 200 bytes");
    /* Both, neither, empty. */
    INVALID(dependent_job, set_s(&j.schedule, "@daily"), "schedule", "not both");
    INVALID(full_job, set_s(&j.schedule, NULL), "schedule", "needs a schedule or parents");
    INVALID(full_job, set_s(&j.schedule, ""), "schedule", "is empty");
    INVALID(full_job, set_s(&j.schedule_tz, ""), "scheduleTimeZone", "is empty");
    INVALID(full_job, (chr_free(j.schedule), j.schedule = repeat('R', CHR_SCHEDULE_LEN_MAX + 1)),
            "schedule", "longer than 512 bytes");
    INVALID(full_job,
            (chr_free(j.schedule_tz), j.schedule_tz = repeat('Z', CHR_TZ_NAME_LEN_MAX + 1)),
            "scheduleTimeZone", "longer than");
    /* Parents. */
    INVALID(dependent_job, set_s(&j.parents[1], "a b"), "parents[1]", "not a valid job name");
    INVALID(dependent_job, set_s(&j.parents[1], "child"), "parents[1]",
            "'child' is the job itself");
    INVALID(dependent_job, set_s(&j.parents[1], "p1"), "parents[1]", "'p1' is listed twice");
    INVALID(dependent_job, set_s(&j.parents[0], NULL), "parents[0]", "missing");
    INVALID(dependent_job,
            (chr_free(j.parents[0]), chr_free(j.parents[1]), chr_free(j.parents),
             j.parents = strv(CHR_JOB_PARENTS_MAX + 1, "p"), j.n_parents = CHR_JOB_PARENTS_MAX + 1),
            "parents", "more than 100 parents");
}

static void test_validate_rejects_numbers(void **state)
{
    (void)state;
    INVALID(full_job, j.retries = -1, "retries", "-1 is out of range 0-100");
    INVALID(full_job, j.retries = 101, "retries", "101 is out of range 0-100");
    INVALID(full_job, j.retry_delay_ms = -1, "retryDelaySeconds", "out of range");
    INVALID(full_job, j.retry_delay_ms = CHR_JOB_RETRY_DELAY_MS_MAX + 1, "retryDelaySeconds",
            "out of range");
    INVALID(full_job, j.starting_deadline_ms = -2, "startingDeadlineSeconds", "out of range");
    INVALID(full_job, j.starting_deadline_ms = CHR_JOB_DURATION_S_MAX * 1000 + 1,
            "startingDeadlineSeconds", "out of range");
    INVALID(full_job, j.max_completion_ms = -1, "maxCompletionTime", "out of range");
    INVALID(full_job, j.cpus = -1, "cpus", "-1 is negative");
    INVALID(full_job, j.cpus = NAN, "cpus", "not a finite number");
    INVALID(full_job, j.cpus = INFINITY, "cpus", "not a finite number");
    INVALID(full_job, j.cpus = 1025, "cpus", "1025 is more than 1024");
    INVALID(full_job, j.mem_mb = -0.5, "mem", "-0.5 is negative");
    INVALID(full_job, j.mem_mb = CHR_JOB_MEM_MB_MAX * 2, "mem", "is more than");
    INVALID(full_job, j.disk_mb = -1e9, "disk", "is negative");
}

static void test_validate_rejects_texts_and_lists(void **state)
{
    (void)state;
    INVALID(full_job, (chr_free(j.command), j.command = repeat('c', CHR_JOB_COMMAND_MAX + 1)),
            "command", "longer than 16384 bytes");
    INVALID(full_job, (chr_free(j.owner), j.owner = repeat('o', CHR_JOB_TEXT_MAX + 1)), "owner",
            "longer than 4096 bytes");
    INVALID(full_job, (chr_free(j.run_as_user), j.run_as_user = repeat('u', CHR_JOB_TEXT_MAX + 1)),
            "runAsUser", "longer than");
    INVALID(full_job, set_s(&j.command, "\xff"), "command", "not valid UTF-8");
    INVALID(full_job, set_s(&j.description, "\xc0\x80"), "description", "not valid UTF-8");
    INVALID(full_job, set_s(&j.owner_name, "\xed\xa0\x80"), "ownerName", "not valid UTF-8");
    INVALID(full_job, set_s(&j.executor, "\xf4\x90\x80\x80"), "executor", "not valid UTF-8");
    INVALID(full_job, set_s(&j.task_info_data, "ab\xe2\x9c"), "taskInfoData", "not valid UTF-8");
    INVALID(full_job, set_s(&j.arguments[1], NULL), "arguments[1]", "missing");
    INVALID(full_job, set_s(&j.arguments[0], "\x80"), "arguments[0]", "not valid UTF-8");
    INVALID(full_job,
            (chr_free(j.arguments[1]), j.arguments[1] = repeat('a', CHR_JOB_TEXT_MAX + 1)),
            "arguments[1]", "longer than");
    INVALID(full_job,
            (chr_free(j.arguments[0]), chr_free(j.arguments[1]), chr_free(j.arguments),
             j.arguments = strv(CHR_JOB_ARGUMENTS_MAX + 1, "x"),
             j.n_arguments = CHR_JOB_ARGUMENTS_MAX + 1),
            "arguments", "more than 256 arguments");
    INVALID(full_job, set_s(&j.env[1].name, ""), "environmentVariables[1].name",
            "is not a valid variable name");
    INVALID(full_job, set_s(&j.env[1].name, "A=B"), "environmentVariables[1].name",
            "'A=B' is not a valid variable name (non-empty, no '=')");
    INVALID(full_job, set_s(&j.env[0].name, NULL), "environmentVariables[0].name", "required");
    INVALID(full_job, set_s(&j.env[0].value, NULL), "environmentVariables[0].value", "required");
    INVALID(full_job, set_s(&j.env[0].value, "\xfe"), "environmentVariables[0].value",
            "not valid UTF-8");
    INVALID(full_job, (chr_free(j.env[0].name), j.env[0].name = repeat('E', 300)),
            "environmentVariables[0].name", "longer than 256 bytes");
    INVALID(full_job, many_env(&j, CHR_JOB_ENV_MAX + 1), "environmentVariables",
            "more than 256 variables");
    /* Constraints are compiled to check them (scheduler/constraint.c). */
    INVALID(full_job, set_s(&j.constraints[1].value, "north|(?i)south"), "constraints[1][2]",
            "'(?' constructs");
    INVALID(full_job, set_s(&j.constraints[0].attribute, ""), "constraints[0][0]", "empty");
    INVALID(full_job, j.constraints[1].op = (enum chr_constraint_op)7, "constraints[1][1]",
            "not an operator");
    INVALID(full_job, lose_constraints(&j), "constraints", "missing");
}

/* ---- free and copy ---------------------------------------------------------- */

static void test_free_zeroes(void **state)
{
    (void)state;
    chr_job_free(NULL);
    struct chr_job j = full_job();
    chr_job_free(&j);
    struct chr_job zero;
    memset(&zero, 0, sizeof zero);
    assert_memory_equal(&j, &zero, sizeof j);
    chr_job_free(&j); /* freeing a freed (zeroed) job is harmless */
}

static void assert_str_copied(const char *a, const char *b)
{
    if (a == NULL) {
        assert_null(b);
        return;
    }
    assert_non_null(b);
    assert_ptr_not_equal(a, b);
    assert_string_equal(a, b);
}

static void assert_job_copied(const struct chr_job *a, const struct chr_job *b)
{
    const char *const sa[] = {a->name, a->command, a->schedule, a->schedule_tz, a->owner,
                              a->owner_name, a->description, a->run_as_user, a->executor,
                              a->executor_flags, a->task_info_data, a->epsilon, a->container_json,
                              a->fetch_json, a->uris_json};
    const char *const sb[] = {b->name, b->command, b->schedule, b->schedule_tz, b->owner,
                              b->owner_name, b->description, b->run_as_user, b->executor,
                              b->executor_flags, b->task_info_data, b->epsilon, b->container_json,
                              b->fetch_json, b->uris_json};
    for (size_t i = 0; i < sizeof sa / sizeof sa[0]; i++)
        assert_str_copied(sa[i], sb[i]);
    assert_int_equal(a->n_arguments, b->n_arguments);
    for (uint32_t i = 0; i < a->n_arguments; i++)
        assert_str_copied(a->arguments[i], b->arguments[i]);
    assert_int_equal(a->n_parents, b->n_parents);
    for (uint32_t i = 0; i < a->n_parents; i++)
        assert_str_copied(a->parents[i], b->parents[i]);
    assert_int_equal(a->n_constraints, b->n_constraints);
    for (uint32_t i = 0; i < a->n_constraints; i++) {
        assert_int_equal(a->constraints[i].op, b->constraints[i].op);
        assert_str_copied(a->constraints[i].attribute, b->constraints[i].attribute);
        assert_str_copied(a->constraints[i].value, b->constraints[i].value);
    }
    assert_int_equal(a->n_env, b->n_env);
    for (uint32_t i = 0; i < a->n_env; i++) {
        assert_str_copied(a->env[i].name, b->env[i].name);
        assert_str_copied(a->env[i].value, b->env[i].value);
    }
    assert_true(a->shell == b->shell && a->retries == b->retries &&
                a->retry_delay_ms == b->retry_delay_ms && a->retry_backoff == b->retry_backoff &&
                a->starting_deadline_ms == b->starting_deadline_ms &&
                a->max_completion_ms == b->max_completion_ms && a->cpus == b->cpus &&
                a->mem_mb == b->mem_mb && a->disk_mb == b->disk_mb && a->disabled == b->disabled &&
                a->concurrent == b->concurrent && a->high_priority == b->high_priority &&
                a->soft_error == b->soft_error && a->data_processing == b->data_processing &&
                a->async == b->async);
}

static void test_copy(void **state)
{
    (void)state;
    struct chr_job a = full_job(), b;
    a.retry_backoff = true;
    a.disabled = true;
    a.max_completion_ms = 3600 * 1000;
    assert_int_equal(chr_job_copy(&b, &a), CHR_OK);
    assert_job_copied(&a, &b);
    /* Independent: freeing the source leaves the copy intact. */
    chr_job_free(&a);
    assert_valid(&b);
    assert_string_equal(b.env[0].value, "-Xmx1000m");
    chr_job_free(&b);

    a = dependent_job();
    assert_int_equal(chr_job_copy(&b, &a), CHR_OK);
    assert_job_copied(&a, &b);
    assert_null(b.arguments);
    assert_null(b.env);
    chr_job_free(&a);
    chr_job_free(&b);
}

/* Every allocation of a copy fails in turn: each failure is CHR_ENOMEM with
 * *dst zeroed and nothing leaked (the ASan build checks), until the copy
 * needs no more allocations than allowed and succeeds. */
static void test_copy_allocation_failures(void **state)
{
    (void)state;
    struct chr_job a = full_job(), b, zero;
    memset(&zero, 0, sizeof zero);
    long n = 1;
    for (;; n++) {
        memset(&b, 0x5a, sizeof b);
        chr_alloc_fail_after(n);
        enum chr_err e = chr_job_copy(&b, &a);
        chr_alloc_fail_after(-1);
        if (e == CHR_OK)
            break;
        assert_int_equal(e, CHR_ENOMEM);
        assert_memory_equal(&b, &zero, sizeof b);
        assert_true(n < 1000);
    }
    /* 15 strings less the NULL ones (uris), 2 arguments + vector, 2 env x 2 + vector,
     * 2 constraints x 2 + vector. */
    assert_int_equal(n, 14 + 3 + 5 + 5 + 1);
    assert_job_copied(&a, &b);
    chr_job_free(&a);
    chr_job_free(&b);
}

/* A packed box holds the same job as a copy, in one allocation (so a
 * million loaded jobs cost a chunk each, not a dozen), with its texts and
 * arrays inside that allocation; fill frees the job it is given; the last
 * unbox frees the one chunk (ASan: no leak, no bad free). */
static void test_box_pack(void **state)
{
    (void)state;
    struct chr_job a = full_job(), z;
    memset(&z, 0, sizeof z);
    a.retry_backoff = true;
    chr_alloc_fail_after(1);
    assert_null(chr_job_box_pack(&a)); /* one allocation, and it fails cleanly */
    chr_alloc_fail_after(2);
    struct chr_job *box = chr_job_box_pack(&a);
    chr_alloc_fail_after(-1);
    assert_non_null(box);
    assert_job_copied(&a, box);
    const char *lo = (const char *)box, *hi = lo + sizeof *box + 4096;
    const char *inside[] = {box->name, box->command, box->schedule, box->owner, box->epsilon,
                            box->arguments[1], box->env[1].value, box->constraints[1].value,
                            box->fetch_json, (const char *)box->env};
    for (size_t i = 0; i < sizeof inside / sizeof inside[0]; i++)
        assert_true(inside[i] > lo && inside[i] < hi);
    assert_null(box->uris_json);
    chr_job_box_fill(box, &a);
    assert_memory_equal(&a, &z, sizeof a); /* freed and zeroed: the box has its copy */
    chr_job_hold(box);
    chr_job_unbox(box);
    assert_string_equal(box->env[0].value, "-Xmx1000m"); /* still held once */
    chr_job_unbox(box);

    /* An empty box takes the job's contents as before. */
    a = dependent_job();
    struct chr_job b = dependent_job();
    box = chr_job_box_new();
    assert_non_null(box);
    chr_job_box_fill(box, &b);
    assert_memory_equal(&b, &z, sizeof b);
    assert_job_copied(&a, box);
    chr_job_unbox(box);
    box = chr_job_box_pack(&a); /* no arrays but parents, NULL texts stay NULL */
    assert_non_null(box);
    assert_job_copied(&a, box);
    assert_null(box->command);
    assert_null(box->env);
    chr_job_free(&a);
    chr_job_unbox(box);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_name_valid),
        cmocka_unit_test(test_defaults_and_stats_init),
        cmocka_unit_test(test_validate_accepts),
        cmocka_unit_test(test_validate_rejects_name_and_kind),
        cmocka_unit_test(test_validate_rejects_numbers),
        cmocka_unit_test(test_validate_rejects_texts_and_lists),
        cmocka_unit_test(test_free_zeroes),
        cmocka_unit_test(test_copy),
        cmocka_unit_test(test_copy_allocation_failures),
        cmocka_unit_test(test_box_pack),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
