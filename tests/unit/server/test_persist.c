/*
 * test_persist.c - the store's JSON for jobs, state and runs: what is written
 * reads back the same, compaction drops only what reads back the same, and
 * malformed store data is refused naming its field.
 */
#include "../unit.h"

#include "api/job_json.h"
#include "common/alloc.h"
#include "server/persist.h"

static struct chr_job parse_job(const char *text)
{
    struct chr_job job;
    struct chr_error err;
    memset(&job, 0, sizeof job);
    if (chr_job_from_json(text, strlen(text), NULL, CHR_JOB_HINT_ANY, 0, &job, &err) != CHR_OK)
        fail_msg("job does not parse: %s", err.message);
    return job;
}

/* The API's view of a job, to compare two jobs field by field. */
static char *api_text(const struct chr_job *job)
{
    size_t len;
    char *t = chr_job_to_json(job, NULL, &len);
    assert_non_null(t);
    return t;
}

static void roundtrip_job(const char *text, const char *must_not_contain, const char *must_contain)
{
    struct chr_job job = parse_job(text);
    size_t len = 0;
    char *stored = chr_job_to_store_json(&job, &len);
    assert_non_null(stored);
    assert_int_equal(strlen(stored), len);
    if (must_not_contain != NULL && strstr(stored, must_not_contain) != NULL)
        fail_msg("stored job keeps %s: %s", must_not_contain, stored);
    if (must_contain != NULL && strstr(stored, must_contain) == NULL)
        fail_msg("stored job lost %s: %s", must_contain, stored);
    struct chr_job back = parse_job(stored);
    char *a = api_text(&job), *b = api_text(&back);
    assert_string_equal(a, b);
    chr_free(a);
    chr_free(b);
    chr_free(stored);
    chr_job_free(&job);
    chr_job_free(&back);
}

static void test_job_compaction_roundtrips(void **state)
{
    (void)state;
    /* Empty strings, false flags and server counters go; the job reads back the same. */
    roundtrip_job("{\"name\":\"a\",\"command\":\"true\",\"schedule\":\"R/2030-01-01T00:00:00Z/PT1M\","
                  "\"successCount\":7,\"owner\":\"\",\"disabled\":false}",
                  "\"owner\"", "\"schedule\":\"R/2030-01-01T00:00:00Z/PT1M\"");
    /* retries 0 must stay: absent would mean the default, 2. */
    roundtrip_job("{\"name\":\"b\",\"command\":\"true\",\"schedule\":\"R/2030-01-01T00:00:00Z/PT1M\","
                  "\"retries\":0}", NULL, "\"retries\":0");
    /* Set fields stay set. */
    roundtrip_job("{\"name\":\"c\",\"command\":\"x\",\"parents\":[\"a\",\"b\"],\"disabled\":true,"
                  "\"owner\":\"o@x\",\"arguments\":[\"-v\"],\"concurrent\":true,\"cpus\":0.5,"
                  "\"environmentVariables\":[{\"name\":\"K\",\"value\":\"V\"}],\"maxCompletionTime\":30}",
                  "successCount", "\"disabled\":true");
}

static void test_state_roundtrip(void **state)
{
    (void)state;
    struct chr_job_state st;
    chr_job_state_init(&st);
    st.stats.success_count = 3;
    st.stats.last_error_ms = 1700000000123;
    st.next_ms = 1800000000000;
    st.instants_handled = 42;
    st.stats.task_time_ms = 90061500;
    uint32_t counts[2] = {1, 0};
    st.parent_successes = counts;
    st.n_parent_successes = 2;
    struct chr_ledger_entry led = {1000, 5000, 5, CHR_LEDGER_COALESCED_DOWN};
    st.ledger = &led;
    st.ledger_len = 1;
    size_t len;
    char *text = chr_state_to_json(&st, &len);
    assert_non_null(text);
    struct chr_job_state back;
    struct chr_error err;
    assert_int_equal(chr_state_from_json(text, len, &back, &err), CHR_OK);
    assert_int_equal(back.stats.success_count, 3);
    assert_int_equal(back.stats.last_error_ms, 1700000000123);
    assert_true(back.stats.last_success_ms == INT64_MIN); /* never: null in the store */
    assert_int_equal(back.next_ms, 1800000000000);
    assert_int_equal(back.instants_handled, 42);
    assert_int_equal(back.stats.task_time_ms, 90061500);
    assert_int_equal(back.n_parent_successes, 2);
    assert_int_equal(back.parent_successes[0], 1);
    assert_int_equal(back.ledger_len, 1);
    assert_int_equal(back.ledger[0].count, 5);
    assert_int_equal(back.ledger[0].reason, CHR_LEDGER_COALESCED_DOWN);
    chr_job_state_free(&back);
    chr_free(text);
}

static void test_run_roundtrip(void **state)
{
    (void)state;
    struct chr_run r;
    memset(&r, 0, sizeof r);
    snprintf(r.id, sizeof r.id, "ct:1800000000000:1:job-1");
    snprintf(r.job, sizeof r.job, "job-1");
    r.cause = CHR_CAUSE_RETRY;
    r.state = CHR_RUN_QUEUED;
    r.due_ms = 1800000000000;
    r.attempt = 1;
    r.created_ms = 1800000000100;
    r.launched_ms = r.started_ms = r.ended_ms = INT64_MIN;
    r.arguments = "--fast";
    size_t len;
    char *text = chr_run_to_json(&r, &len);
    assert_non_null(text);
    struct chr_run back;
    struct chr_error err;
    assert_int_equal(chr_run_from_json(text, len, &back, &err), CHR_OK);
    assert_string_equal(back.id, r.id);
    assert_int_equal(back.cause, CHR_CAUSE_RETRY);
    assert_int_equal(back.attempt, 1);
    assert_true(back.launched_ms == INT64_MIN);
    assert_string_equal(back.arguments, "--fast");
    assert_false(back.wait_notified);
    assert_null(strstr(text, "waitNotified")); /* not written when false: as before */
    chr_free(back.arguments);
    chr_free(text);
    /* A run told it waited for resources says so, and reads back so. */
    r.wait_notified = true;
    text = chr_run_to_json(&r, &len);
    assert_non_null(strstr(text, "\"waitNotified\":true"));
    assert_int_equal(chr_run_from_json(text, len, &back, &err), CHR_OK);
    assert_true(back.wait_notified);
    chr_free(back.arguments);
    chr_free(text);
    const char *bad = "{\"id\":\"ct:1:0:j\",\"job\":\"j\",\"reason\":\"\",\"cause\":1,\"state\":2,"
                      "\"due\":1,\"attempt\":0,\"created\":null,\"launched\":null,\"started\":null,"
                      "\"ended\":null,\"exitCode\":0,\"offer\":0,\"arguments\":null,"
                      "\"waitNotified\":1}";
    assert_int_equal(chr_run_from_json(bad, strlen(bad), &back, &err), CHR_EINVAL);
    assert_string_equal(err.field, "waitNotified");
}

/* A state node every reader takes (as written before taskTimeMs existed),
 * with members added or changed after it. */
#define STATE_OK_BUT(extra)                                                                     \
    "{\"successCount\":0,\"errorCount\":0,\"errorsSinceLastSuccess\":0,\"lastSuccess\":null,"     \
    "\"lastError\":null,\"next\":null,\"handled\":0,\"epoch\":0,\"lastRunDue\":null,"              \
    "\"launchFailures\":0,\"flagged\":false,\"parentSuccesses\":[],\"ledger\":[],\"history\":[]," \
    extra "}"

/* A node written before the task time existed reads as 0 of it. */
static void test_state_without_task_time(void **state)
{
    (void)state;
    const char *old = STATE_OK_BUT("\"x\":0");
    struct chr_job_state st;
    struct chr_error err = {{0}, {0}};
    assert_int_equal(chr_state_from_json(old, strlen(old), &st, &err), CHR_OK);
    assert_int_equal(st.stats.task_time_ms, 0);
    chr_job_state_free(&st);
    const char *big = STATE_OK_BUT("\"taskTimeMs\":9223372036854775807");
    assert_int_equal(chr_state_from_json(big, strlen(big), &st, &err), CHR_OK);
    assert_true(st.stats.task_time_ms == INT64_MAX);
    chr_job_state_free(&st);
}

static void test_malformed_store_data(void **state)
{
    (void)state;
    static const char *const bad_states[] = {
        "[]", "{\"successCount\":-1}", "not json",
        "{\"successCount\":0,\"errorCount\":0,\"errorsSinceLastSuccess\":0,\"lastSuccess\":null,"
        "\"lastError\":null,\"next\":null,\"handled\":0,\"epoch\":0,\"lastRunDue\":null,"
        "\"launchFailures\":0,\"flagged\":\"no\",\"parentSuccesses\":[],\"ledger\":[]}",
        STATE_OK_BUT("\"taskTimeMs\":-1"), STATE_OK_BUT("\"taskTimeMs\":1.5"),
        STATE_OK_BUT("\"taskTimeMs\":\"long\""),
    };
    for (size_t i = 0; i < sizeof bad_states / sizeof bad_states[0]; i++) {
        struct chr_job_state st;
        struct chr_error err = {{0}, {0}};
        assert_int_equal(chr_state_from_json(bad_states[i], strlen(bad_states[i]), &st, &err),
                         CHR_EINVAL);
        assert_true(err.message[0] != '\0');
    }
    struct chr_run r;
    struct chr_error err = {{0}, {0}};
    const char *bad_run = "{\"id\":\"x\",\"job\":\"j\",\"reason\":\"\",\"cause\":9}";
    assert_int_equal(chr_run_from_json(bad_run, strlen(bad_run), &r, &err), CHR_EINVAL);
    assert_string_equal(err.field, "cause");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_job_compaction_roundtrips),
        cmocka_unit_test(test_state_roundtrip),
        cmocka_unit_test(test_state_without_task_time),
        cmocka_unit_test(test_run_roundtrip),
        cmocka_unit_test(test_malformed_store_data),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
