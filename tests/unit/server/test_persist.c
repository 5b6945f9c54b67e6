/*
 * test_persist.c - the store's JSON for jobs, state and runs: what is written
 * reads back the same, compaction drops only what reads back the same, and
 * malformed store data is refused naming its field.
 */
#include "../unit.h"

#include <jansson.h>

#include "api/job_json.h"
#include "common/alloc.h"
#include "scheduler/core.h"
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

/* ---- The fast paths against the full decoders ------------------------------ */

/* xorshift64: the tests' own deterministic randomness. */
/* A fixed "now": "R1//PT24H" starts then. */
#define NOW_MS 1767225600000LL

static uint64_t rnd_state = 0x9e3779b97f4a7c15ULL;

static uint64_t rnd(uint64_t n)
{
    rnd_state ^= rnd_state << 13;
    rnd_state ^= rnd_state >> 7;
    rnd_state ^= rnd_state << 17;
    return n > 0 ? rnd_state % n : 0;
}

/* One of the JSON values: three times in four one of the first two (each
 * list starts with plain, valid values), else any. */
static json_t *pick(const char *const *jsons, size_t n)
{
    json_t *v = json_loads(jsons[rnd(4) ? rnd(n < 2 ? n : 2) : rnd(n)], JSON_DECODE_ANY, NULL);
    assert_non_null(v);
    return v;
}

#define PICK(...)                                                                                  \
    pick((const char *const[]){__VA_ARGS__}, sizeof((const char *const[]){__VA_ARGS__}) / sizeof(char *))

/* A random job body: every field the codec reads, each present or not, with
 * values of the plain shape and of every other shape the full decoder takes
 * or refuses (escapes, non-ASCII, nulls, numbers as text, reals, nesting). */
static char *random_body(bool spaced)
{
    json_t *o = json_object();
    char name[32];
    snprintf(name, sizeof name, "j%llu.%c", (unsigned long long)rnd(100000), "a-_Z"[rnd(4)]);
    json_object_set_new(o, "name", rnd(20) ? json_string(name) : PICK("\"bad name\"", "null", "7", "\"\""));
    static const char *const keys[] = {"command", "owner", "ownerName", "description", "runAsUser",
                                       "executor", "executorFlags", "taskInfoData", "epsilon"};
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
        if (rnd(2))
            json_object_set_new(o, keys[i], PICK("\"/bin/true\"", "\"\"", "\"a \\\"q\\\" b\"",
                                                 "\"caf\\u00e9\"", "null", "\"PT60S\"", "3", "\"x\\ty\""));
    static const char *const bools[] = {"shell", "disabled", "concurrent", "highPriority", "softError",
                                        "dataProcessingJobType", "async", "retryBackoff"};
    for (size_t i = 0; i < sizeof bools / sizeof bools[0]; i++)
        if (rnd(3) == 0)
            json_object_set_new(o, bools[i], PICK("true", "false", "\"true\"", "null", "1"));
    if (rnd(2))
        json_object_set_new(o, "retries", PICK("0", "2", "100", "101", "-1", "\"3\"", "2.0", "null"));
    static const char *const durs[] = {"retryDelaySeconds", "startingDeadlineSeconds", "maxCompletionTime"};
    for (size_t i = 0; i < 3; i++)
        if (rnd(3) == 0)
            json_object_set_new(o, durs[i], PICK("0", "60", "86400", "99999999999", "-5", "\"30\"", "1.5"));
    static const char *const amts[] = {"cpus", "mem", "disk"};
    for (size_t i = 0; i < 3; i++)
        if (rnd(2))
            json_object_set_new(o, amts[i], PICK("0", "0.1", "0.10000000000000001", "256.0", "1e2", "-0.0",
                                                 "-1", "1e300", "\"0.25\"", "5", "1E-3"));
    if (rnd(6))
        json_object_set_new(o, "schedule", PICK("\"R/2099-01-01T00:00:00.000Z/P1D\"", "\"R5/2030-01-01T00:00:00Z/PT1H\"",
                                                "\"R//PT1H\"", "\"R3//PT1M\"", "\"0 * * * *\"", "\"\"", "\"bogus\"", "5"));
    if (rnd(3) == 0)
        json_object_set_new(o, "scheduleTimeZone", PICK("\"\"", "\"null\"", "\"Europe/Paris\"", "\"UTC\"", "null"));
    if (rnd(4) == 0)
        json_object_set_new(o, "parents", PICK("[]", "[\"a\"]", "[\"a\",\"b\"]", "[\"bad name\"]", "[1]"));
    if (rnd(3) == 0)
        json_object_set_new(o, "arguments", PICK("[]", "[\"-v\"]", "[\"a b\",\"c\\\"d\"]", "[null]"));
    if (rnd(8) == 0)
        json_object_set_new(o, "environmentVariables", PICK("[{\"name\":\"K\",\"value\":\"V\"}]", "[]"));
    if (rnd(8) == 0)
        json_object_set_new(o, "constraints", PICK("[[\"rack\",\"EQUALS\",\"a\"]]", "[]"));
    if (rnd(10) == 0)
        json_object_set_new(o, "notifyEvents", PICK("[\"failed\"]", "[]"));
    if (rnd(10) == 0)
        json_object_set_new(o, "successCount", PICK("3", "0"));
    char *text = json_dumps(o, spaced ? JSON_INDENT(1) : JSON_COMPACT);
    json_decref(o);
    assert_non_null(text);
    return text;
}

/* Both decoders read `text` the same: the same result, the same job. */
static bool same_job_both_ways(const char *text)
{
    struct chr_job a, b;
    struct chr_error ea, eb;
    enum chr_err ra = chr_job_from_json(text, strlen(text), NULL, CHR_JOB_HINT_ANY, NOW_MS, &a, &ea);
    enum chr_err rb = chr_job_from_json_full(text, strlen(text), NULL, CHR_JOB_HINT_ANY, NOW_MS, &b, &eb);
    if (ra != rb || (ra == CHR_OK && !chr_job_equal(&a, &b)))
        fail_msg("the decoders differ (%d, %d) on %s", (int)ra, (int)rb, text);
    if (ra != CHR_OK)
        assert_string_equal(ea.message, eb.message);
    chr_job_free(&a);
    chr_job_free(&b);
    return ra == CHR_OK;
}

static void *no_alloc(size_t n)
{
    (void)n;
    return NULL;
}

/* Decodes `stored` with jansson unable to allocate: only the fast path can. */
static bool fast_path_takes(const char *stored, bool state)
{
    struct chr_job j;
    struct chr_job_state st;
    struct chr_error err;
    json_set_alloc_funcs(no_alloc, free); /* lint: allow (jansson's own allocator) */
    enum chr_err e = state ? chr_state_from_json(stored, strlen(stored), &st, &err)
                           : chr_job_from_json(stored, strlen(stored), NULL, CHR_JOB_HINT_ANY, NOW_MS, &j, &err);
    json_set_alloc_funcs(malloc, free); /* lint: allow (jansson's own allocator) */
    if (e == CHR_OK && state)
        chr_job_state_free(&st);
    else if (e == CHR_OK)
        chr_job_free(&j);
    return e == CHR_OK;
}

/* Random bodies, compact and spaced, straight and as the store keeps them:
 * whatever the fast path takes, the full decoder reads to the same job; and
 * the stored form of a plain job is taken by the fast path (read with
 * jansson unable to allocate). */
static void test_job_fast_path_matches_full(void **state)
{
    (void)state;
    size_t ok = 0, fast = 0, plain = 0;
    for (int i = 0; i < 8000; i++) {
        char *body = random_body(rnd(4) == 0);
        if (same_job_both_ways(body)) {
            struct chr_job job;
            struct chr_error err;
            assert_int_equal(chr_job_from_json_full(body, strlen(body), NULL, CHR_JOB_HINT_ANY,
                                                    NOW_MS, &job, &err), CHR_OK);
            size_t len = 0;
            char *stored = chr_job_to_store_json(&job, &len);
            assert_non_null(stored);
            assert_true(same_job_both_ways(stored));
            bool is_plain = strchr(stored, '\\') == NULL && job.env == NULL && job.constraints == NULL &&
                            !job.notify_events_set;
            for (const char *c = stored; is_plain && *c != '\0'; c++)
                is_plain = (unsigned char)*c < 0x80;
            bool took = fast_path_takes(stored, false);
            if (is_plain && !took)
                fail_msg("a plain stored job missed the fast path: %s", stored);
            fast += took;
            plain += is_plain;
            ok++;
            chr_free(stored);
            chr_job_free(&job);
        }
        free(body); /* lint: allow (jansson's json_dumps) */
    }
    printf("  %zu of 8000 bodies decode; of their stored forms %zu plain, %zu by the fast path\n",
           ok, plain, fast);
    assert_true(ok > 1500 && fast > 800 && fast >= plain); /* both paths were exercised */
}

static struct chr_job_state random_state(uint32_t parents[3], struct chr_ledger_entry *led,
                                         struct chr_run_summary *hist)
{
    /* INT64_MIN (never) for the last instants, INT64_MAX (none) for next:
     * both are written null. */
    static const int64_t instants[] = {INT64_MIN, 0, 1767225600000LL, -5, INT64_MIN + 1,
                                       INT64_MAX - 1};
    struct chr_job_state st;
    chr_job_state_init(&st);
    st.stats.success_count = (int64_t)rnd(3) * 1000000007LL;
    st.stats.error_count = (int64_t)rnd(2);
    st.stats.errors_since_last_success = (int64_t)rnd(2);
    st.stats.last_success_ms = instants[rnd(6)];
    st.stats.last_error_ms = instants[rnd(6)];
    st.stats.task_time_ms = rnd(2) ? INT64_MAX : (int64_t)rnd(1000);
    st.next_ms = rnd(4) == 0 ? INT64_MAX : instants[1 + rnd(5)];
    st.instants_handled = (int64_t)rnd(5);
    st.schedule_epoch = (int64_t)rnd(3);
    st.last_run_due_ms = instants[rnd(6)];
    st.flagged = rnd(2);
    st.launch_failures = (int64_t)rnd(3);
    st.n_parent_successes = (uint32_t)rnd(4);
    for (uint32_t i = 0; i < st.n_parent_successes; i++)
        parents[i] = i == 0 ? UINT32_MAX : (uint32_t)rnd(10);
    st.parent_successes = st.n_parent_successes ? parents : NULL;
    if (rnd(4) == 0) {
        *led = (struct chr_ledger_entry){1000, 5000, 5, CHR_LEDGER_COALESCED_DOWN};
        st.ledger = led;
        st.ledger_len = 1;
    }
    if (rnd(4) == 0) {
        *hist = (struct chr_run_summary){7000, INT64_MIN, 9000, 1, 3, CHR_CAUSE_SCHEDULED,
                                         CHR_RUN_FAILED, "exit 3"};
        st.history = hist;
        st.history_len = 1;
    }
    return st;
}

/* A state node's text, mutated: a member dropped, doubled, changed in kind,
 * spaced, or cut. */
static char *mutate_state(const char *text)
{
    static const char *const edits[][2] = {
        {"\"flagged\":false", "\"flagged\":0"}, {"\"epoch\":0", "\"epoch\":-1"},
        {"\"handled\":", "\"handled\": "}, {"\"ledger\":[],", ""}, {"\"taskTimeMs\"", "\"taskTimeMs\":1,\"x\""},
        {"\"history\":[]", "\"history\":null"}, {"\"next\":null", "\"next\":\"x\""},
        {"\"errorCount\":0", "\"errorCount\":0.0"}, {"\"parentSuccesses\":[]", "\"parentSuccesses\":[-1]"},
        {"\"epoch\":0", "\"epoch\":0,\"epoch\":0"}, {"}", "} "}, {"\"lastError\":null", "\"lastError\":01"},
    };
    const char *const *e = edits[rnd(sizeof edits / sizeof edits[0])];
    const char *at = strstr(text, e[0]);
    size_t n = strlen(text) + strlen(e[1]) + 1;
    char *out = chr_malloc(n);
    assert_non_null(out);
    if (at == NULL) {
        snprintf(out, n, "%.*s", (int)(strlen(text) - rnd(5)), text);
        return out;
    }
    snprintf(out, n, "%.*s%s%s", (int)(at - text), text, e[1], at + strlen(e[0]));
    return out;
}

static void test_state_fast_path_matches_full(void **state)
{
    (void)state;
    size_t fast = 0;
    for (int i = 0; i < 8000; i++) {
        uint32_t parents[3];
        struct chr_ledger_entry led;
        struct chr_run_summary hist;
        struct chr_job_state st = random_state(parents, &led, &hist);
        size_t len = 0;
        char *text = chr_state_to_json(&st, &len);
        assert_non_null(text);
        char *texts[2] = {text, mutate_state(text)};
        for (int k = 0; k < 2; k++) {
            struct chr_job_state a, b;
            struct chr_error ea, eb;
            enum chr_err ra = chr_state_from_json(texts[k], strlen(texts[k]), &a, &ea);
            enum chr_err rb = chr_state_from_json_full(texts[k], strlen(texts[k]), &b, &eb);
            if (ra != rb || (ra == CHR_OK && !chr_job_state_equal(&a, &b)))
                fail_msg("the decoders differ (%d, %d) on %s", (int)ra, (int)rb, texts[k]);
            if (k == 0 && (ra != CHR_OK || !chr_job_state_equal(&a, &st)))
                fail_msg("the state does not read back: %s", text);
            chr_job_state_free(&a);
            chr_job_state_free(&b);
        }
        bool took = fast_path_takes(text, true);
        if (st.ledger_len == 0 && st.history_len == 0 && !took)
            fail_msg("an idle job's state missed the fast path: %s", text);
        fast += took;
        chr_free(texts[0]);
        chr_free(texts[1]);
    }
    assert_true(fast > 2000);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_job_compaction_roundtrips),
        cmocka_unit_test(test_state_roundtrip),
        cmocka_unit_test(test_state_without_task_time),
        cmocka_unit_test(test_run_roundtrip),
        cmocka_unit_test(test_malformed_store_data),
        cmocka_unit_test(test_job_fast_path_matches_full),
        cmocka_unit_test(test_state_fast_path_matches_full),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
