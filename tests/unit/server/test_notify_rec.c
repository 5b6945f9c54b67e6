/*
 * test_notify_rec.c - the outbox record (server/notify_rec.h): made from a
 * core notice and read back equal; the decoder refuses what is out of shape
 * (unknown event, a bad id, a too long text, a wrong type, too many fields,
 * oversized input) and names the field; Chronos's subjects with and
 * without a cluster name; the webhook body is JSON of strings only, with
 * Chronos's members and ours; the backoff doubles, caps, and stays in its
 * jitter range.
 */
#include "../unit.h"

#include <jansson.h>
#include <stdlib.h>

#include "common/alloc.h"
#include "server/notify_rec.h"

static struct chr_job job;
static struct chr_notice notice;

static int setup(void **state)
{
    (void)state;
    memset(&job, 0, sizeof job);
    job.name = "nightly";
    job.command = "echo \"hi\"\n; exit 3";
    job.owner = "a@x.org, b@y.org";
    job.executor = "";
    job.executor_flags = "";
    job.uris_json = "";
    job.cpus = 0.5;
    job.mem_mb = 64;
    job.retries = 2;
    memset(&notice, 0, sizeof notice);
    notice.kind = CHR_NOTICE_FAILED;
    notice.job = &job;
    notice.stats.error_count = 4;
    notice.stats.errors_since_last_success = 2;
    notice.stats.last_success_ms = INT64_MIN;
    notice.stats.last_error_ms = 1700000000000;
    snprintf(notice.run_id, sizeof notice.run_id, "ct:1700000000000:2:nightly");
    notice.attempt = 2;
    notice.exit_code = 3;
    notice.started_ms = 1700000000100;
    notice.ended_ms = 1700000001600;
    snprintf(notice.reason, sizeof notice.reason, "exit 3");
    notice.first_ms = notice.last_ms = INT64_MIN;
    return 0;
}

static void test_round_trip(void **state)
{
    (void)state;
    struct chr_notify_rec r, back;
    assert_int_equal(chr_notify_rec_make(&notice, "1700000001600-00ab", 1700000001600, 3, &r),
                     CHR_OK);
    size_t len = 0;
    char *text = chr_notify_rec_encode(&r, &len);
    assert_non_null(text);
    struct chr_error err = {{0}, {0}};
    assert_int_equal(chr_notify_rec_decode(text, len, &back, &err), CHR_OK);
    assert_string_equal(back.id, "1700000001600-00ab");
    assert_int_equal(back.kind, CHR_NOTICE_FAILED);
    assert_string_equal(back.job, "nightly");
    assert_string_equal(back.owner, "a@x.org, b@y.org");
    assert_string_equal(back.run_id, notice.run_id);
    assert_int_equal(back.exit_code, 3);
    assert_int_equal(back.started_ms, notice.started_ms);
    assert_int_equal(back.first_ms, INT64_MIN);
    assert_int_equal(back.sinks, 3);
    assert_int_equal(back.n_fields, r.n_fields);
    /* Encoding what was decoded gives the same bytes. */
    size_t len2 = 0;
    char *again = chr_notify_rec_encode(&back, &len2);
    assert_int_equal(len2, len);
    assert_memory_equal(again, text, len);
    chr_free(again);
    chr_free(text);
    chr_notify_rec_free(&r);
    chr_notify_rec_free(&back);
}

static void refuse(const char *text, const char *field)
{
    struct chr_notify_rec r;
    struct chr_error err = {{0}, {0}};
    assert_int_equal(chr_notify_rec_decode(text, strlen(text), &r, &err), CHR_EINVAL);
    assert_string_equal(err.field, field);
    assert_null(r.owner);
}

#define GOOD_HEAD "{\"v\":1,\"id\":\"1-a\",\"event\":\"failed\",\"at\":1,\"job\":\"j\",\"owner\":\"\","
#define GOOD_TAIL "\"run\":\"\",\"attempt\":0,\"exitCode\":0,\"started\":null,\"ended\":null," \
                  "\"reason\":\"\",\"count\":0,\"first\":null,\"last\":null,\"sinks\":1,\"fields\":{}}"

static void test_decode_refuses(void **state)
{
    (void)state;
    struct chr_notify_rec r;
    struct chr_error err = {{0}, {0}};
    const char *good = GOOD_HEAD GOOD_TAIL;
    assert_int_equal(chr_notify_rec_decode(good, strlen(good), &r, &err), CHR_OK);
    chr_notify_rec_free(&r);
    refuse("[]", "outbox");
    refuse("{\"v\":2}", "v");
    refuse("{\"v\":1,\"id\":\"1-a\",\"event\":\"exploded\",\"at\":1,\"job\":\"j\",\"owner\":\"\","
           GOOD_TAIL, "event");
    refuse("{\"v\":1,\"id\":\"../x\",\"event\":\"failed\",\"at\":1,\"job\":\"j\",\"owner\":\"\","
           GOOD_TAIL, "id");
    refuse(GOOD_HEAD "\"run\":\"\",\"attempt\":0,\"exitCode\":999,\"started\":null,\"ended\":null,"
           "\"reason\":\"\",\"count\":0,\"first\":null,\"last\":null,\"sinks\":1,\"fields\":{}}",
           "exitCode");
    refuse(GOOD_HEAD "\"run\":\"\",\"attempt\":0,\"exitCode\":0,\"started\":null,\"ended\":null,"
           "\"reason\":\"\",\"count\":0,\"first\":null,\"last\":null,\"sinks\":99,\"fields\":{}}",
           "sinks");
    refuse(GOOD_HEAD "\"run\":\"\",\"attempt\":0,\"exitCode\":0,\"started\":null,\"ended\":null,"
           "\"reason\":\"\",\"count\":0,\"first\":null,\"last\":null,\"sinks\":1,"
           "\"fields\":{\"a\":1}}", "fields");
    /* A text longer than its bound. */
    char big[600];
    memset(big, 'x', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    char *t = chr_malloc(2048);
    snprintf(t, 2048, GOOD_HEAD "\"run\":\"%s\",\"attempt\":0,\"exitCode\":0,\"started\":null,"
             "\"ended\":null,\"reason\":\"\",\"count\":0,\"first\":null,\"last\":null,"
             "\"sinks\":1,\"fields\":{}}", big);
    refuse(t, "run");
    chr_free(t);
    /* Larger than a record may be, whatever it holds. */
    size_t n = CHR_NOTIFY_REC_MAX + 1;
    char *huge = chr_malloc(n);
    memset(huge, ' ', n);
    assert_int_equal(chr_notify_rec_decode(huge, n, &r, &err), CHR_EINVAL);
    chr_free(huge);
}

static void test_subjects(void **state)
{
    (void)state;
    struct chr_notify_rec r;
    assert_int_equal(chr_notify_rec_make(&notice, "1-a", 1, 1, &r), CHR_OK);
    char s[256];
    chr_notify_subject(&r, "", s, sizeof s);
    assert_string_equal(s, "[Chronos] job 'nightly' failed!");
    chr_notify_subject(&r, "prod", s, sizeof s);
    assert_string_equal(s, "[prod] [Chronos] job 'nightly' failed!");
    r.kind = CHR_NOTICE_DELETED;
    chr_notify_subject(&r, NULL, s, sizeof s);
    assert_string_equal(s, "[Chronos] Your job 'nightly' was deleted!");
    r.kind = CHR_NOTICE_DISABLED;
    chr_notify_subject(&r, NULL, s, sizeof s);
    assert_string_equal(s, "[Chronos] job 'nightly' disabled");
    chr_notify_rec_free(&r);
}

static void test_webhook_body(void **state)
{
    (void)state;
    struct chr_notify_rec r;
    assert_int_equal(chr_notify_rec_make(&notice, "1-a", 1, 1, &r), CHR_OK);
    struct chr_notify_render how = {"c1", "http://h:1", "line1\nlast \"line\"\n"};
    size_t len = 0;
    char *body = chr_notify_webhook_body(&r, &how, &len);
    assert_non_null(body);
    json_error_t jerr;
    json_t *o = json_loadb(body, len, 0, &jerr);
    assert_non_null(o);
    const char *key;
    json_t *v;
    json_object_foreach(o, key, v) assert_true(json_is_string(v)); /* Chronos: strings only */
    const char *want[][2] = {{"subject", "[c1] [Chronos] job 'nightly' failed!"},
                             {"to", "a@x.org, b@y.org"}, {"job", "nightly"},
                             {"command", job.command}, {"errorCount", "4"},
                             {"errorsSinceLastSuccess", "2"}, {"retries", "2"},
                             {"lastSuccess", ""}, {"cpus", "0.5"}, {"softError", "false"},
                             {"event", "failed"}, {"runId", notice.run_id}, {"exitCode", "3"},
                             {"durationMs", "1500"}, {"stderr", how.stderr_tail},
                             {"link", "http://h:1/runs/ct:1700000000000:2:nightly"}};
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++)
        assert_string_equal(json_string_value(json_object_get(o, want[i][0])), want[i][1]);
    json_decref(o);
    chr_free(body);
    char *chat = chr_notify_chat_body(&r, &how, &len);
    o = json_loadb(chat, len, 0, &jerr);
    assert_non_null(strstr(json_string_value(json_object_get(o, "text")), "exit code: 3\n"));
    json_decref(o);
    chr_free(chat);
    chr_notify_rec_free(&r);
}

static void test_backoff(void **state)
{
    (void)state;
    for (uint64_t rnd = 0; rnd < 2000; rnd += 7) {
        int64_t d1 = chr_notify_backoff_ms(1000, 60000, 1, rnd * 2654435761u);
        int64_t d3 = chr_notify_backoff_ms(1000, 60000, 3, rnd * 2654435761u);
        int64_t d30 = chr_notify_backoff_ms(1000, 60000, 30, rnd * 2654435761u);
        assert_true(d1 >= 500 && d1 <= 1000);
        assert_true(d3 >= 2000 && d3 <= 4000);
        assert_true(d30 >= 30000 && d30 <= 60000); /* capped, never overflows */
    }
    assert_true(chr_notify_backoff_ms(0, 0, UINT32_MAX, UINT64_MAX) >= 0);
}

static void test_events_parse(void **state)
{
    (void)state;
    uint32_t m;
    struct chr_error err = {{0}, {0}};
    assert_true(chr_notify_events_parse("failed, deleted", "e", &m, &err));
    assert_int_equal(m, (1u << CHR_NOTICE_FAILED) | (1u << CHR_NOTICE_DELETED));
    assert_false(chr_notify_events_parse("failed,boom", "e", &m, &err));
    assert_string_equal(err.field, "e");
    assert_true(chr_notify_events_parse("none", "e", &m, &err));
    assert_int_equal(m, 0);
    assert_true(chr_notify_events_parse("waiting", "e", &m, &err));
    assert_int_equal(m, 1u << CHR_NOTICE_WAITING);
    assert_false(chr_notify_events_parse("test", "e", &m, &err)); /* never switched */
    assert_true(chr_notify_events_parse("all", "e", &m, &err));
    assert_int_equal(m, CHR_NOTICE_SWITCHABLE);
    assert_false((m >> CHR_NOTICE_TEST) & 1);
}

/* --raven_dsn: the store URL and the key (and secret) of a DSN, with or
 * without a port and a path; refusals name the flag. */
static void test_sentry_dsn(void **state)
{
    (void)state;
    struct chr_sentry_dsn d;
    struct chr_error err = {{0}, {0}};
    assert_int_equal(chr_notify_sentry_dsn("https://abc123@o1.ingest.sentry.io/42", "raven_dsn",
                                           &d, &err), CHR_OK);
    assert_string_equal(d.store_url, "https://o1.ingest.sentry.io/api/42/store/");
    assert_string_equal(d.key, "abc123");
    assert_string_equal(d.secret, "");
    assert_int_equal(chr_notify_sentry_dsn("http://k:s3@127.0.0.1:9000/sub/path/7", "raven_dsn",
                                           &d, &err), CHR_OK);
    assert_string_equal(d.store_url, "http://127.0.0.1:9000/sub/path/api/7/store/");
    assert_string_equal(d.secret, "s3");
    char auth[256];
    chr_notify_sentry_auth(&d, auth, sizeof auth);
    assert_string_equal(auth, "Sentry sentry_version=7, sentry_client=chronos, sentry_key=k, "
                              "sentry_secret=s3");
    static const char *const bad[] = {
        "", "sentry.io/42", "ftp://k@h/1", "https://h/1", "https://@h/1", "https://k@/1",
        "https://k@h", "https://k@h/", "https://k@h/proj", "https://k@h/1?x=1", "https://k@h/1#f",
        "https://k k@h/1", "https://k@h/1 ", "https://k:@h/1",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        memset(&err, 0, sizeof err);
        if (chr_notify_sentry_dsn(bad[i], "raven_dsn", &d, &err) != CHR_EINVAL)
            fail_msg("'%s' taken as a DSN", bad[i]);
        assert_string_equal(err.field, "raven_dsn");
    }
}

/* Sentry's event: level error, the subject first in the message, tags job,
 * cluster and event, and an event_id made of the notification's id (the
 * same id, the same event: Sentry drops the redelivery). */
static void test_sentry_body(void **state)
{
    (void)state;
    struct chr_notify_rec r;
    assert_int_equal(chr_notify_rec_make(&notice, "1700000001600-00ab", 1700000001600, 1, &r),
                     CHR_OK);
    struct chr_notify_render how = {"prod", "http://h:4400", "boom\n"};
    size_t len = 0;
    char *a = chr_notify_sentry_body(&r, &how, &len), *b = chr_notify_sentry_body(&r, &how, NULL);
    assert_non_null(a);
    assert_int_equal(len, strlen(a));
    json_t *o = json_loads(a, 0, NULL);
    assert_non_null(o);
    const char *event_id = json_string_value(json_object_get(o, "event_id"));
    assert_non_null(event_id);
    char id[40];
    snprintf(id, sizeof id, "%s", event_id);
    assert_int_equal(strlen(id), 32);
    assert_int_equal(strspn(id, "0123456789abcdef"), 32);
    assert_string_equal(a, b); /* deterministic */
    assert_string_equal(json_string_value(json_object_get(o, "level")), "error");
    json_t *tags = json_object_get(o, "tags");
    assert_string_equal(json_string_value(json_object_get(tags, "job")), "nightly");
    assert_string_equal(json_string_value(json_object_get(tags, "cluster")), "prod");
    assert_string_equal(json_string_value(json_object_get(tags, "event")), "failed");
    const json_t *message = json_object_get(o, "message");
    const char *msg = json_string_value(json_object_get(message, "formatted"));
    assert_non_null(msg);
    assert_true(strncmp(msg, "[prod] [Chronos] job 'nightly' failed!\n", 39) == 0);
    json_t *extra = json_object_get(o, "extra");
    assert_int_equal(json_integer_value(json_object_get(extra, "exitCode")), 3);
    assert_string_equal(json_string_value(json_object_get(extra, "stderr")), "boom\n");
    assert_string_equal(json_string_value(json_object_get(extra, "link")),
                        "http://h:4400/runs/ct:1700000000000:2:nightly");
    json_decref(o);
    chr_free(a);
    chr_free(b);
    /* Another notification, another event. */
    snprintf(r.id, sizeof r.id, "1700000001600-00ac");
    b = chr_notify_sentry_body(&r, &how, NULL);
    assert_null(strstr(b, id));
    chr_free(b);
    chr_notify_rec_free(&r);
}

/* The WAITING notice's subject and text: how long, since when, why. */
static void test_waiting_message(void **state)
{
    (void)state;
    struct chr_notify_rec r;
    notice.kind = CHR_NOTICE_WAITING;
    notice.started_ms = notice.ended_ms = INT64_MIN; /* queued: never ran */
    notice.first_ms = 1700000000000;
    notice.last_ms = 1700000600000;
    snprintf(notice.reason, sizeof notice.reason, "waiting for resources: needs cpus 64");
    assert_int_equal(chr_notify_rec_make(&notice, "1700000600000-01", 1700000600000, 1, &r),
                     CHR_OK);
    char subject[256];
    chr_notify_subject(&r, "c1", subject, sizeof subject);
    assert_string_equal(subject, "[c1] [Chronos] job 'nightly': run waiting for resources");
    struct chr_notify_render how = {NULL, NULL, NULL};
    char *text = chr_notify_text(&r, &how);
    assert_non_null(strstr(text, "A run of job 'nightly' has waited for resources for 600.0 s"));
    assert_non_null(strstr(text, "waiting since: 2023-11-14T22:13:20"));
    assert_non_null(strstr(text, "reason: waiting for resources: needs cpus 64"));
    assert_null(strstr(text, "exit code")); /* it has not run */
    chr_free(text);
    size_t blen = 0;
    char *body = chr_notify_webhook_body(&r, &how, &blen);
    assert_non_null(strstr(body, "\"exitCode\":\"\""));
    assert_non_null(strstr(body, "\"event\":\"waiting\""));
    chr_free(body);
    size_t len = 0;
    char *enc = chr_notify_rec_encode(&r, &len);
    struct chr_notify_rec back;
    struct chr_error err = {{0}, {0}};
    assert_int_equal(chr_notify_rec_decode(enc, len, &back, &err), CHR_OK);
    assert_int_equal(back.kind, CHR_NOTICE_WAITING);
    chr_free(enc);
    chr_notify_rec_free(&back);
    chr_notify_rec_free(&r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_round_trip, setup),
        cmocka_unit_test_setup(test_decode_refuses, setup),
        cmocka_unit_test_setup(test_subjects, setup),
        cmocka_unit_test_setup(test_webhook_body, setup),
        cmocka_unit_test(test_backoff),
        cmocka_unit_test(test_events_parse),
        cmocka_unit_test_setup(test_sentry_dsn, setup),
        cmocka_unit_test_setup(test_sentry_body, setup),
        cmocka_unit_test_setup(test_waiting_message, setup),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
