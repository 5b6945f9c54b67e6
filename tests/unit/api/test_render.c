/*
 * test_render.c - the read endpoints' bodies of api/render.c, rendered
 * from views built by hand: jobs, summary, Chronos's search rule (its three
 * branches, limit and offset), job/stat (histogram and history), graph/dot
 * and graph/csv, stats/{percentile}, runs (filters, order, limit, one run),
 * next (ISO and cron schedules, a New York DST change in 2030, dependent and
 * bad jobs), /metrics in both formats, escaping of odd names and bytes, and
 * allocation failures in every renderer (NULL, nothing leaked).
 *
 * The views are plain structs.  render.c asks the read model for a job's
 * status, state and JSON (chr_view_job_status/_state/_json); this file
 * defines those three over its own fixtures (struct tjob), so the tests do
 * not depend on api/view.c: a static link takes view.o from the library
 * only for a symbol nothing else defines, and none is left.
 */
#include "../unit.h"

#include <jansson.h>
#include <stdbool.h>
#include <stdlib.h>

#include "common/alloc.h"
#include "api/render.h"

/* ---- Fixtures and the read model's three functions over them --------------------------------- */

#define TRUNS 24

/* A job view with everything it points to.  `v` comes first: the functions
 * below turn a view back into its tjob. */
struct tjob {
    struct chr_view_job v;
    struct chr_job def;
    struct chr_view_run runs[TRUNS];
    char *parents[4];
    char json[300];
};

const char *chr_view_job_status(const struct chr_view_job *j)
{
    /* Chronos's Exporter.getLastState: success only when lastSuccess is
     * strictly after lastError. */
    int64_t s = j->stats.last_success_ms, e = j->stats.last_error_ms;
    if (s == INT64_MIN && e == INT64_MIN)
        return "fresh";
    if (s == INT64_MIN)
        return "failure";
    if (e == INT64_MIN)
        return "success";
    return s > e ? "success" : "failure";
}

const char *chr_view_job_state(const struct chr_view_job *j, char buf[32])
{
    if (j->n_running > 0) {
        snprintf(buf, 32, "%u running", (unsigned)j->n_running);
        return buf;
    }
    return j->n_queued > 0 ? "queued" : "idle";
}

const char *chr_view_last_run_state(const struct chr_view_job *j)
{
    if (j->n_finished == 0)
        return NULL;
    switch (j->runs[j->n_finished - 1].state) {
    case CHR_RUN_FINISHED: return "success";
    case CHR_RUN_FAILED: return "failure";
    case CHR_RUN_KILLED: return "killed";
    case CHR_RUN_LOST: return "lost";
    default: return NULL;
    }
}

const char *chr_view_job_json(const struct chr_view_job *j, size_t *len)
{
    const struct tjob *t = (const struct tjob *)j;
    *len = strlen(t->json);
    return t->json;
}

static void tjob_init(struct tjob *t, const char *name, const char *command,
                      const char *schedule)
{
    memset(t, 0, sizeof *t);
    t->def.name = (char *)name;
    t->def.command = (char *)command;
    t->def.schedule = (char *)schedule;
    t->v.def = &t->def;
    chr_job_stats_init(&t->v.stats);
    t->v.next_ms = INT64_MIN;
    t->v.remaining_repeats = -1;
    t->v.runs = t->runs;
    snprintf(t->json, sizeof t->json, "{\"name\":\"%s\"}", name);
}

/* Makes t dependent on p (a dependent job has no schedule). */
static void tjob_parent(struct tjob *t, const char *p)
{
    t->parents[t->def.n_parents++] = (char *)p;
    t->def.parents = t->parents;
    t->def.schedule = NULL;
}

/* Appends a run: ended ones first (oldest first), then active ones, as the
 * view keeps them.  Its id is Chronos's "ct:<due>:<attempt>:<job>". */
static struct chr_view_run *tjob_run(struct tjob *t, enum chr_run_state st, int64_t due_ms,
                                     int64_t started_ms, int64_t ended_ms, int32_t exit_code)
{
    assert_true(t->v.n_runs < TRUNS);
    struct chr_view_run *r = &t->runs[t->v.n_runs++];
    memset(r, 0, sizeof *r);
    snprintf(r->id, sizeof r->id, "ct:%lld:0:%s", (long long)due_ms, t->def.name);
    r->state = st;
    r->cause = CHR_CAUSE_SCHEDULED;
    r->due_ms = due_ms;
    r->started_ms = started_ms;
    r->ended_ms = ended_ms;
    r->exit_code = exit_code;
    if (st >= CHR_RUN_FINISHED) {
        assert_int_equal(t->v.n_finished, t->v.n_runs - 1); /* no active run before it */
        t->v.n_finished++;
    }
    return r;
}

static void set_attempt(struct chr_view_run *r, int32_t attempt, const char *job)
{
    r->attempt = attempt;
    snprintf(r->id, sizeof r->id, "ct:%lld:%d:%s", (long long)r->due_ms, (int)attempt, job);
}

/* A finished run of `ms` milliseconds due at due_ms. */
static void tjob_took(struct tjob *t, int64_t due_ms, int64_t ms)
{
    tjob_run(t, CHR_RUN_FINISHED, due_ms, due_ms + 1000, due_ms + 1000 + ms, 0);
}

struct tsnap {
    struct chr_view_snap s;
    const struct chr_view_job *jobs[400];
};

static const struct chr_view_snap *snap_of(struct tsnap *ts, struct tjob *const *jobs, size_t n)
{
    assert_true(n <= 400);
    for (size_t i = 0; i < n; i++)
        ts->jobs[i] = &jobs[i]->v;
    ts->s.gen = 1;
    ts->s.n = n;
    ts->s.jobs = ts->jobs;
    return &ts->s;
}

/* ---- Checks on bodies ------------------------------------------------------------------------ */

/* The body must be there, its length right; it is then compared and freed. */
static void expect_text(char *got, const size_t *len, const char *want)
{
    if (got == NULL)
        fail_msg("renderer returned NULL, want %s", want);
    assert_int_equal(*len, strlen(got));
    if (strcmp(got, want) != 0)
        fail_msg("got\n%s\nwant\n%s", got, want);
    chr_free(got);
}

/* A JSON body: one line that jansson reads.  Returns the value (decref it);
 * frees the text. */
static json_t *load_body(char *text, const size_t *len)
{
    json_error_t jerr;
    assert_non_null(text);
    assert_int_equal(*len, strlen(text));
    assert_null(strchr(text, '\n'));
    json_t *v = json_loadb(text, *len, JSON_REJECT_DUPLICATES, &jerr);
    if (v == NULL)
        fail_msg("not JSON (%s): %s", jerr.text, text);
    chr_free(text);
    return v;
}

/* The values of `key` of the objects of array `a`, joined with ','. */
static void join_key(json_t *a, const char *key, char *out, size_t cap)
{
    size_t i, used = 0;
    json_t *o;
    out[0] = '\0';
    assert_true(json_is_array(a));
    json_array_foreach(a, i, o) {
        const char *s = json_string_value(json_object_get(o, key));
        assert_non_null(s);
        used += (size_t)snprintf(out + used, cap - used, "%s%s", i ? "," : "", s);
        assert_true(used < cap);
    }
}

#define JAN1 1893456000000LL /* 2030-01-01T00:00:00Z */
#define DAY_MS 86400000LL

/* ---- jobs and summary ------------------------------------------------------------------------ */

static void test_jobs(void **state)
{
    (void)state;
    static struct tjob a, b;
    struct tsnap ts;
    size_t len = 0;
    tjob_init(&a, "a", "true", "R/2030-01-01T00:00:00Z/PT1H");
    tjob_init(&b, "b", "true", NULL);
    tjob_parent(&b, "a");
    expect_text(chr_render_jobs(snap_of(&ts, NULL, 0), &len), &len, "[]");
    struct tjob *both[] = {&a, &b};
    char *t = chr_render_jobs(snap_of(&ts, both, 2), &len);
    expect_text(t, &len, "[{\"name\":\"a\"},{\"name\":\"b\"}]");
    /* The 2.x prefix: `async` on every job, as 2.x wrote it (the job's own
     * text has it only when true). */
    b.def.async = true;
    snprintf(b.json, sizeof b.json, "{\"name\":\"b\",\"async\":true}");
    expect_text(chr_render_jobs_v2(snap_of(&ts, both, 2), &len), &len,
                "[{\"name\":\"a\",\"async\":false},{\"name\":\"b\",\"async\":true}]");
    expect_text(chr_render_job(&a.v, true, &len), &len, "{\"name\":\"a\",\"async\":false}");
    expect_text(chr_render_job(&a.v, false, &len), &len, "{\"name\":\"a\"}");
}

/* Many jobs: the buffer grows and the body stays whole. */
static void test_jobs_many(void **state)
{
    (void)state;
    static struct tjob many[300];
    static char names[300][16];
    struct tjob *p[300];
    struct tsnap ts;
    size_t len = 0;
    for (int i = 0; i < 300; i++) {
        snprintf(names[i], sizeof names[i], "job-%03d", i);
        tjob_init(&many[i], names[i], "sleep 1", "@hourly");
        p[i] = &many[i];
    }
    json_t *v = load_body(chr_render_jobs(snap_of(&ts, p, 300), &len), &len);
    assert_int_equal(json_array_size(v), 300);
    assert_string_equal(json_string_value(json_object_get(json_array_get(v, 299), "name")),
                        "job-299");
    json_decref(v);
    v = load_body(chr_render_summary(snap_of(&ts, p, 300), &len), &len);
    assert_int_equal(json_array_size(json_object_get(v, "jobs")), 300);
    json_decref(v);
}

static void test_summary(void **state)
{
    (void)state;
    static struct tjob a, b, c;
    struct tsnap ts;
    size_t len = 0;
    tjob_init(&a, "a", "x", "R/2030-01-01T00:00:00Z/PT1H");
    a.v.stats.last_success_ms = 2000; /* after the error: success */
    a.v.stats.last_error_ms = 1000;
    a.v.n_running = 2;
    tjob_init(&b, "b", "x", NULL);
    tjob_parent(&b, "a");
    tjob_parent(&b, "c");
    b.v.stats.last_error_ms = 1000; /* never succeeded: failure */
    b.v.n_queued = 1;
    b.def.disabled = true;
    tjob_init(&c, "c", "x", "0 * * * *"); /* no success or error: fresh, though killed */
    tjob_run(&c, CHR_RUN_KILLED, JAN1, JAN1, JAN1 + 5, -1);
    c.v.next_ms = JAN1 + 3600000;
    c.v.stats.task_time_ms = 5;
    a.v.remaining_repeats = 7;
    /* b's failed run, and its retry waiting for its delay */
    tjob_run(&b, CHR_RUN_FAILED, JAN1, JAN1, JAN1 + 5, 3);
    struct chr_view_run *retry = tjob_run(&b, CHR_RUN_QUEUED, JAN1, INT64_MIN, INT64_MIN, 0);
    retry->cause = CHR_CAUSE_RETRY;
    retry->ready_ms = JAN1 + 60005;
    expect_text(chr_render_summary(snap_of(&ts, NULL, 0), &len), &len, "{\"jobs\":[]}");
    struct tjob *all[] = {&a, &b, &c};
    expect_text(chr_render_summary(snap_of(&ts, all, 3), &len), &len,
                "{\"jobs\":["
                "{\"name\":\"a\",\"status\":\"success\",\"state\":\"2 running\","
                "\"schedule\":\"R/2030-01-01T00:00:00Z/PT1H\",\"parents\":[],\"disabled\":false,"
                "\"lastRunState\":null,\"lastRunAt\":null,\"retryAt\":null,\"nextRunAt\":null,"
                "\"remainingRepeats\":7,\"taskTimeSeconds\":0.0},"
                "{\"name\":\"b\",\"status\":\"failure\",\"state\":\"queued\",\"schedule\":\"\","
                "\"parents\":[\"a\",\"c\"],\"disabled\":true,\"lastRunState\":\"failure\","
                "\"lastRunAt\":\"2030-01-01T00:00:00.005Z\",\"retryAt\":\"2030-01-01T00:01:00.005Z\","
                "\"nextRunAt\":null,\"remainingRepeats\":null,\"taskTimeSeconds\":0.0},"
                "{\"name\":\"c\",\"status\":\"fresh\",\"state\":\"idle\","
                "\"schedule\":\"0 * * * *\","
                "\"parents\":[],\"disabled\":false,\"lastRunState\":\"killed\","
                "\"lastRunAt\":\"2030-01-01T00:00:00.005Z\",\"retryAt\":null,"
                "\"nextRunAt\":\"2030-01-01T01:00:00.000Z\",\"remainingRepeats\":null,"
                "\"taskTimeSeconds\":0.005}]}");
    /* job/{name}/status: the job's summary entry alone. */
    expect_text(chr_render_job_status(&c.v, &len), &len,
                "{\"name\":\"c\",\"status\":\"fresh\",\"state\":\"idle\","
                "\"schedule\":\"0 * * * *\","
                "\"parents\":[],\"disabled\":false,\"lastRunState\":\"killed\","
                "\"lastRunAt\":\"2030-01-01T00:00:00.005Z\",\"retryAt\":null,"
                "\"nextRunAt\":\"2030-01-01T01:00:00.000Z\",\"remainingRepeats\":null,"
                "\"taskTimeSeconds\":0.005}");
}

/* Names and reasons with every kind of byte come out as valid JSON: quote,
 * backslash and control characters escaped, UTF-8 kept, anything else
 * (stray continuation, overlong, surrogate, truncated) U+FFFD. */
static void test_escaping(void **state)
{
    (void)state;
    static struct tjob a;
    struct tsnap ts;
    size_t len = 0;
    tjob_init(&a, "q\"b\\s\n\x01\x1f\t\xc3\xa9\xffz", "x", "@daily");
    struct tjob *one[] = {&a};
    char *t = chr_render_summary(snap_of(&ts, one, 1), &len);
    assert_non_null(t);
    assert_non_null(strstr(t, "\"name\":\"q\\\"b\\\\s\\n\\u0001\\u001f\\t\xc3\xa9\\ufffdz\""));
    json_t *v = load_body(t, &len);
    json_t *job = json_array_get(json_object_get(v, "jobs"), 0);
    assert_string_equal(json_string_value(json_object_get(job, "name")),
                        "q\"b\\s\n\x01\x1f\t\xc3\xa9\xef\xbf\xbdz");
    json_decref(v);

    struct chr_view_run *r = tjob_run(&a, CHR_RUN_FAILED, JAN1, JAN1, JAN1 + 5, 1);
    snprintf(r->reason, sizeof r->reason, "%s",
             "\x80|\xc0\xaf|\xed\xa0\x80|\xf0\x9f\x98\x80|\xe2\x82");
    t = chr_render_run(&a.v, r, &len);
    assert_non_null(t);
    /* 0x80 alone; C0 AF overlong (2); ED A0 80 a surrogate (3); the emoji
     * kept; E2 82 cut short by the end (2). */
    assert_non_null(strstr(t, "\"reason\":\"\\ufffd|\\ufffd\\ufffd|\\ufffd\\ufffd\\ufffd|"
                              "\xf0\x9f\x98\x80|\\ufffd\\ufffd\"}"));
    json_decref(load_body(t, &len));
}

/* ---- search ---------------------------------------------------------------------------------- */

static char *search(const struct chr_view_snap *s, const char *name, const char *command,
                    const char *any, size_t limit, size_t offset, char *out, size_t cap)
{
    struct chr_search q = {name, command, any, limit, offset, false};
    size_t len = 0;
    json_t *v = load_body(chr_render_search(s, &q, &len), &len);
    join_key(v, "name", out, cap);
    json_decref(v);
    return out;
}

static void test_search(void **state)
{
    (void)state;
    static struct tjob a, b, c;
    struct tsnap ts;
    char got[256];
    tjob_init(&a, "Alpha", "echo one", "@daily");
    tjob_init(&b, "beta", "sleep 5", "@daily");
    tjob_init(&c, "gamma", "ECHO alphabet", "@daily");
    struct tjob *all[] = {&a, &b, &c};
    const struct chr_view_snap *s = snap_of(&ts, all, 3);
    /* Branch 1, name and command both hold (case folded): Alpha and gamma
     * ("ECHO alphabet" holds "echo"); beta has an 'a' but sleeps. */
    assert_string_equal(search(s, "ALP", NULL, NULL, 10, 0, got, sizeof got), "Alpha");
    assert_string_equal(search(s, "a", "echo", NULL, 10, 0, got, sizeof got), "Alpha,gamma");
    /* Branch 2: the name fails everywhere, `any` rescues the jobs whose name
     * or command holds it (case folded): "echo one", "ECHO alphabet". */
    assert_string_equal(search(s, "zzz", NULL, "Echo", 10, 0, got, sizeof got), "Alpha,gamma");
    assert_string_equal(search(s, "zzz", NULL, "SLEEP", 10, 0, got, sizeof got), "beta");
    assert_string_equal(search(s, "zzz", NULL, "BET", 10, 0, got, sizeof got), "beta,gamma");
    /* Branch 3: nothing holds. */
    assert_string_equal(search(s, "zzz", NULL, "qq", 10, 0, got, sizeof got), "");
    assert_string_equal(search(s, "zzz", "echo", NULL, 10, 0, got, sizeof got), "");
    /* Nothing given ("" is not given): every job, then the window. */
    assert_string_equal(search(s, NULL, NULL, NULL, 10, 0, got, sizeof got), "Alpha,beta,gamma");
    assert_string_equal(search(s, "", "", "", 10, 0, got, sizeof got), "Alpha,beta,gamma");
    assert_string_equal(search(s, NULL, NULL, NULL, 2, 1, got, sizeof got), "beta,gamma");
    assert_string_equal(search(s, NULL, NULL, NULL, 1, 1, got, sizeof got), "beta");
    assert_string_equal(search(s, NULL, NULL, NULL, 10, 3, got, sizeof got), "");
    assert_string_equal(search(s, NULL, NULL, NULL, 0, 0, got, sizeof got), "");
    assert_string_equal(search(s, NULL, NULL, NULL, SIZE_MAX, SIZE_MAX, got, sizeof got), "");
    /* The offset counts matches, not jobs. */
    assert_string_equal(search(s, "a", "echo", NULL, 1, 1, got, sizeof got), "gamma");
    assert_string_equal(search(snap_of(&ts, NULL, 0), "a", NULL, NULL, 10, 0, got, sizeof got),
                        "");
}

/* ---- job/stat -------------------------------------------------------------------------------- */

static void test_stat_empty(void **state)
{
    (void)state;
    static struct tjob a;
    size_t len = 0;
    tjob_init(&a, "a", "x", "@daily");
    expect_text(chr_render_stat(&a.v, &len), &len,
                "{\"histogram\":{\"75thPercentile\":0.0,\"95thPercentile\":0.0,"
                "\"98thPercentile\":0.0,\"99thPercentile\":0.0,\"median\":0.0,\"mean\":0.0,"
                "\"count\":0},\"taskStatHistory\":[]}");
}

static void test_stat(void **state)
{
    (void)state;
    static struct tjob a;
    size_t len = 0;
    tjob_init(&a, "a", "x", "@daily");
    /* Run times 300, 100, 1000, 200 ms (sorted: 100 200 300 1000, n = 4).
     * Interpolated at pos = q * (n + 1) = 5q, v[k-1] + frac * (v[k] - v[k-1]):
     *   75th: pos 3.75 -> 300 + 0.75 * 700 = 825
     *   95th: pos 4.75 >= n -> 1000; 98th (4.9), 99th (4.95) -> 1000
     *   median: pos 2.5 -> 200 + 0.5 * 100 = 250
     *   mean: 1600 / 4 = 400 (Chronos would say 250, its median)
     * The lost run never seen running has no run time: not counted. */
    tjob_took(&a, JAN1, 300);
    tjob_took(&a, JAN1 + DAY_MS, 100);
    tjob_took(&a, JAN1 + 2 * DAY_MS, 1000);
    struct chr_view_run *retry = tjob_run(&a, CHR_RUN_FAILED, JAN1 + 2 * DAY_MS,
                                          JAN1 + 2 * DAY_MS + 5000, JAN1 + 2 * DAY_MS + 5200, 1);
    set_attempt(retry, 1, "a");
    tjob_run(&a, CHR_RUN_LOST, JAN1 + 3 * DAY_MS, INT64_MIN, JAN1 + 3 * DAY_MS + 7000, -1);
    /* Active: running since 2030-01-05T03:04:05.678Z; and one queued. */
    tjob_run(&a, CHR_RUN_RUNNING, JAN1 + 4 * DAY_MS, T("2030-01-05T03:04:05.678Z"), INT64_MIN,
             -1);
    tjob_run(&a, CHR_RUN_QUEUED, JAN1 + 5 * DAY_MS, INT64_MIN, INT64_MIN, -1);
    char *t = chr_render_stat(&a.v, &len);
    assert_non_null(t);
    assert_true(strncmp(t,
                        "{\"histogram\":{\"75thPercentile\":825.0,\"95thPercentile\":1000.0,"
                        "\"98thPercentile\":1000.0,\"99thPercentile\":1000.0,\"median\":250.0,"
                        "\"mean\":400.0,\"count\":4},\"taskStatHistory\":[",
                        strlen("{\"histogram\":{\"75thPercentile\":825.0,\"95thPercentile\":1000.0,"
                               "\"98thPercentile\":1000.0,\"99thPercentile\":1000.0,\"median\":"
                               "250.0,\"mean\":400.0,\"count\":4},\"taskStatHistory\":[")) == 0);
    /* Newest first: the queued run (Jan 6), the running one (Jan 5), the lost
     * one (Jan 4), the retry (Jan 3, attempt 1), then Jan 3, 2, 1.  Times as
     * MM/dd/yy HH:mm:ss UTC; N/A when unknown; no duration unless ended. */
    assert_non_null(strstr(
        t, "[{\"taskId\":\"ct:1893888000000:0:a\",\"jobName\":\"a\",\"slaveId\":\"\","
           "\"startTime\":\"N/A\",\"endTime\":\"N/A\",\"status\":\"Idle\"},"
           "{\"taskId\":\"ct:1893801600000:0:a\",\"jobName\":\"a\",\"slaveId\":\"\","
           "\"startTime\":\"01/05/30 03:04:05\",\"endTime\":\"N/A\",\"status\":\"Running\"},"
           "{\"taskId\":\"ct:1893715200000:0:a\",\"jobName\":\"a\",\"slaveId\":\"\","
           "\"startTime\":\"N/A\",\"endTime\":\"01/04/30 00:00:07\",\"status\":\"Fail\"},"
           "{\"taskId\":\"ct:1893628800000:1:a\",\"jobName\":\"a\",\"slaveId\":\"\","
           "\"startTime\":\"01/03/30 00:00:05\",\"endTime\":\"01/03/30 00:00:05\","
           "\"duration\":\"0s\",\"status\":\"Fail\"},"
           "{\"taskId\":\"ct:1893628800000:0:a\",\"jobName\":\"a\",\"slaveId\":\"\","
           "\"startTime\":\"01/03/30 00:00:01\",\"endTime\":\"01/03/30 00:00:02\","
           "\"duration\":\"1s\",\"status\":\"Success\"},"));
    json_t *v = load_body(t, &len);
    char ids[512];
    join_key(json_object_get(v, "taskStatHistory"), "status", ids, sizeof ids);
    assert_string_equal(ids, "Idle,Running,Fail,Fail,Success,Success,Success");
    json_decref(v);
}

/* One run time: every percentile is that value. */
static void test_stat_one_run(void **state)
{
    (void)state;
    static struct tjob a;
    size_t len = 0;
    tjob_init(&a, "a", "x", "@daily");
    tjob_took(&a, JAN1, 500);
    json_t *v = load_body(chr_render_stat(&a.v, &len), &len);
    json_t *h = json_object_get(v, "histogram");
    const char *keys[] = {"75thPercentile", "95thPercentile", "98thPercentile",
                          "99thPercentile", "median",         "mean"};
    for (size_t i = 0; i < 6; i++)
        assert_true(json_real_value(json_object_get(h, keys[i])) == 500.0);
    assert_int_equal(json_integer_value(json_object_get(h, "count")), 1);
    json_decref(v);
}

/* Durations: days, hours, minutes when not zero, seconds always. */
static void test_stat_durations(void **state)
{
    (void)state;
    static struct tjob a;
    size_t len = 0;
    char got[256];
    tjob_init(&a, "a", "x", "@daily");
    tjob_took(&a, JAN1, 93784999);          /* 1d 2h 3m 4.999s: truncated */
    tjob_took(&a, JAN1 + DAY_MS, 3605000);  /* 1h 5s */
    tjob_took(&a, JAN1 + 2 * DAY_MS, 120000); /* 2m */
    tjob_took(&a, JAN1 + 3 * DAY_MS, 999);  /* under a second */
    tjob_took(&a, JAN1 + 4 * DAY_MS, 2 * DAY_MS + 60000); /* 2d 1m */
    json_t *v = load_body(chr_render_stat(&a.v, &len), &len);
    join_key(json_object_get(v, "taskStatHistory"), "duration", got, sizeof got);
    assert_string_equal(got, "2d1m0s,0s,2m0s,1h5s,1d2h3m4s");
    json_decref(v);
}

/* ---- graph ----------------------------------------------------------------------------------- */

static void graph_jobs(struct tjob *c, struct tjob *a, struct tjob *b)
{
    /* Registered child first: ids follow registration order, edges name
     * their parents wherever they are. */
    tjob_init(c, "c", "x", NULL);
    tjob_parent(c, "a");
    tjob_parent(c, "b");
    tjob_init(a, "a", "x", "@daily");
    a->v.stats.last_success_ms = 5;
    a->v.n_running = 1;
    tjob_init(b, "b", "x", NULL);
    tjob_parent(b, "a");
    b->v.stats.last_success_ms = 5; /* the error came later: failure */
    b->v.stats.last_error_ms = 6;
    b->v.n_queued = 2;
}

static void test_graph_dot(void **state)
{
    (void)state;
    static struct tjob a, b, c, odd;
    struct tsnap ts;
    size_t len = 0;
    graph_jobs(&c, &a, &b);
    expect_text(chr_render_graph_dot(snap_of(&ts, NULL, 0), &len), &len, "digraph G {\n}\n");
    struct tjob *all[] = {&c, &a, &b};
    expect_text(chr_render_graph_dot(snap_of(&ts, all, 3), &len), &len,
                "digraph G {\n"
                "  1 [ label=\"c\" ];\n"
                "  2 [ label=\"a\" ];\n"
                "  3 [ label=\"b\" ];\n"
                "  2 -> 1;\n"
                "  3 -> 1;\n"
                "  2 -> 3;\n"
                "}\n");
    tjob_init(&odd, "x\"y\\z\nw\x01", "x", "@daily");
    struct tjob *one[] = {&odd};
    expect_text(chr_render_graph_dot(snap_of(&ts, one, 1), &len), &len,
                "digraph G {\n  1 [ label=\"x\\\"y\\\\z\\nw \" ];\n}\n");
}

static void test_graph_csv(void **state)
{
    (void)state;
    static struct tjob a, b, c, odd, kid;
    struct tsnap ts;
    size_t len = 0;
    graph_jobs(&c, &a, &b);
    expect_text(chr_render_graph_csv(snap_of(&ts, NULL, 0), &len), &len, "");
    struct tjob *all[] = {&c, &a, &b};
    expect_text(chr_render_graph_csv(snap_of(&ts, all, 3), &len), &len,
                "node,c,fresh,idle\n"
                "node,a,success,1 running\n"
                "node,b,failure,queued\n"
                "link,a,c\n"
                "link,b,c\n"
                "link,a,b\n");
    tjob_init(&odd, "x,y\"z", "x", "@daily");
    tjob_init(&kid, "k", "x", NULL);
    tjob_parent(&kid, "x,y\"z");
    struct tjob *two[] = {&odd, &kid};
    expect_text(chr_render_graph_csv(snap_of(&ts, two, 2), &len), &len,
                "node,\"x,y\"\"z\",fresh,idle\n"
                "node,k,fresh,idle\n"
                "link,\"x,y\"\"z\",k\n");
}

/* ---- stats ----------------------------------------------------------------------------------- */

static void stats_jobs(struct tjob *x, struct tjob *y, struct tjob *z, struct tjob *a0)
{
    /* x: 100 200 300 1000 ms (see test_stat): 99th 1.0 s, 75th 0.825 s,
     * median 0.25 s, mean 0.4 s.  y: one run of 500 ms, 0.5 s for all.
     * z and a0 never ran: 0, ordered by name. */
    tjob_init(x, "x", "c", "@daily");
    tjob_took(x, JAN1, 100);
    tjob_took(x, JAN1 + 1, 1000);
    tjob_took(x, JAN1 + 2, 300);
    tjob_took(x, JAN1 + 3, 200);
    tjob_init(y, "y", "c", "@daily");
    tjob_took(y, JAN1, 500);
    tjob_run(y, CHR_RUN_RUNNING, JAN1 + 5, JAN1 + 6, INT64_MIN, -1); /* active: not counted */
    tjob_init(z, "z", "c", "@daily");
    tjob_init(a0, "a0", "c", "@daily");
    tjob_run(a0, CHR_RUN_KILLED, JAN1, INT64_MIN, JAN1 + 9, -1); /* never started: no time */
}

static void test_stats(void **state)
{
    (void)state;
    static struct tjob x, y, z, a0;
    struct tsnap ts;
    struct chr_error err;
    size_t len = 0;
    stats_jobs(&x, &y, &z, &a0);
    struct tjob *all[] = {&z, &x, &a0, &y};
    const struct chr_view_snap *s = snap_of(&ts, all, 4);
    expect_text(chr_render_stats(s, "99thPercentile", &len, &err), &len,
                "[{\"jobNameLabel\":\"x\",\"time\":1.0},{\"jobNameLabel\":\"y\",\"time\":0.5},"
                "{\"jobNameLabel\":\"a0\",\"time\":0.0},{\"jobNameLabel\":\"z\",\"time\":0.0}]");
    assert_string_equal(err.message, "");
    expect_text(chr_render_stats(s, "98thPercentile", &len, &err), &len,
                "[{\"jobNameLabel\":\"x\",\"time\":1.0},{\"jobNameLabel\":\"y\",\"time\":0.5},"
                "{\"jobNameLabel\":\"a0\",\"time\":0.0},{\"jobNameLabel\":\"z\",\"time\":0.0}]");
    expect_text(chr_render_stats(s, "95thPercentile", &len, &err), &len,
                "[{\"jobNameLabel\":\"x\",\"time\":1.0},{\"jobNameLabel\":\"y\",\"time\":0.5},"
                "{\"jobNameLabel\":\"a0\",\"time\":0.0},{\"jobNameLabel\":\"z\",\"time\":0.0}]");
    expect_text(chr_render_stats(s, "75thPercentile", &len, &err), &len,
                "[{\"jobNameLabel\":\"x\",\"time\":0.825},{\"jobNameLabel\":\"y\",\"time\":0.5},"
                "{\"jobNameLabel\":\"a0\",\"time\":0.0},{\"jobNameLabel\":\"z\",\"time\":0.0}]");
    expect_text(chr_render_stats(s, "median", &len, &err), &len,
                "[{\"jobNameLabel\":\"y\",\"time\":0.5},{\"jobNameLabel\":\"x\",\"time\":0.25},"
                "{\"jobNameLabel\":\"a0\",\"time\":0.0},{\"jobNameLabel\":\"z\",\"time\":0.0}]");
    expect_text(chr_render_stats(s, "mean", &len, &err), &len,
                "[{\"jobNameLabel\":\"y\",\"time\":0.5},{\"jobNameLabel\":\"x\",\"time\":0.4},"
                "{\"jobNameLabel\":\"a0\",\"time\":0.0},{\"jobNameLabel\":\"z\",\"time\":0.0}]");
    expect_text(chr_render_stats(snap_of(&ts, NULL, 0), "mean", &len, &err), &len, "[]");
}

static void test_stats_unknown(void **state)
{
    (void)state;
    struct tsnap ts;
    struct chr_error err;
    size_t len = 0;
    const char *bad[] = {"p50", "Median", "", "99thpercentile"};
    for (size_t i = 0; i < 4; i++) {
        memset(&err, 0, sizeof err);
        assert_null(chr_render_stats(snap_of(&ts, NULL, 0), bad[i], &len, &err));
        assert_string_equal(err.field, "percentile");
    }
    assert_null(chr_render_stats(snap_of(&ts, NULL, 0), "p50", &len, &err));
    assert_string_equal(err.message, "percentile: 'p50' is not one of 99thPercentile, "
                                     "98thPercentile, 95thPercentile, 75thPercentile, median, "
                                     "mean");
}

/* ---- runs ------------------------------------------------------------------------------------ */

#define T1 (JAN1 + 1 * DAY_MS)
#define T2 (JAN1 + 2 * DAY_MS)
#define T3 (JAN1 + 3 * DAY_MS)
#define T5 (JAN1 + 5 * DAY_MS)

/* a: finished T1, finished T2, failed T3 (attempt 0); running T5.
 * b: killed T2; queued retry of T3 (attempt 1).
 * Newest first: a@T5, b@T3#1, a@T3#0, b@T2 (id "...:b" > "...:a"), a@T2, a@T1. */
static void runs_jobs(struct tjob *a, struct tjob *b)
{
    tjob_init(a, "a", "x", "@daily");
    tjob_took(a, T1, 10);
    tjob_took(a, T2, 10);
    struct chr_view_run *r = tjob_run(a, CHR_RUN_FAILED, T3, T3 + 1000, T3 + 3500, 2);
    snprintf(r->reason, sizeof r->reason, "exit 2");
    tjob_run(a, CHR_RUN_RUNNING, T5, T5 + 20, INT64_MIN, -1)->cause = CHR_CAUSE_MANUAL;
    tjob_init(b, "b", "x", NULL);
    tjob_parent(b, "a");
    r = tjob_run(b, CHR_RUN_KILLED, T2, T2 + 1, T2 + 2, -1);
    r->cause = CHR_CAUSE_DEPENDENT;
    snprintf(r->reason, sizeof r->reason, "killed by signal 9 (SIGKILL)");
    r = tjob_run(b, CHR_RUN_QUEUED, T3, INT64_MIN, INT64_MIN, -1);
    r->cause = CHR_CAUSE_RETRY;
    set_attempt(r, 1, "b");
}

static char *runs(const struct chr_view_snap *s, const char *job, const char *st, size_t limit,
                  char *out, size_t cap)
{
    struct chr_runs_query q = {job, st, limit};
    struct chr_error err;
    size_t len = 0, i;
    json_t *v = load_body(chr_render_runs(s, &q, &len, &err), &len), *o;
    char *p = out;
    out[0] = '\0';
    json_array_foreach(v, i, o) {
        /* "<job>@<day>#<attempt>" */
        int64_t due = T(json_string_value(json_object_get(o, "scheduledAt")));
        p += snprintf(p, cap - (size_t)(p - out), "%s%s@%d#%d", i ? "," : "",
                      json_string_value(json_object_get(o, "job")),
                      (int)((due - JAN1) / DAY_MS),
                      (int)json_integer_value(json_object_get(o, "attempt")));
    }
    json_decref(v);
    return out;
}

static void test_runs_filters_and_order(void **state)
{
    (void)state;
    static struct tjob a, b;
    struct tsnap ts;
    char got[256];
    runs_jobs(&a, &b);
    struct tjob *all[] = {&a, &b};
    const struct chr_view_snap *s = snap_of(&ts, all, 2);
    assert_string_equal(runs(s, NULL, NULL, 100, got, sizeof got),
                        "a@5#0,b@3#1,a@3#0,b@2#0,a@2#0,a@1#0");
    assert_string_equal(runs(s, NULL, NULL, 2, got, sizeof got), "a@5#0,b@3#1");
    assert_string_equal(runs(s, NULL, NULL, 0, got, sizeof got), "");
    assert_string_equal(runs(s, "a", NULL, 100, got, sizeof got), "a@5#0,a@3#0,a@2#0,a@1#0");
    assert_string_equal(runs(s, "b", NULL, 100, got, sizeof got), "b@3#1,b@2#0");
    assert_string_equal(runs(s, NULL, "active", 100, got, sizeof got), "a@5#0,b@3#1");
    assert_string_equal(runs(s, NULL, "ended", 100, got, sizeof got),
                        "a@3#0,b@2#0,a@2#0,a@1#0");
    assert_string_equal(runs(s, NULL, "failed", 100, got, sizeof got), "a@3#0");
    assert_string_equal(runs(s, NULL, "finished", 100, got, sizeof got), "a@2#0,a@1#0");
    assert_string_equal(runs(s, NULL, "killed", 100, got, sizeof got), "b@2#0");
    assert_string_equal(runs(s, NULL, "queued", 100, got, sizeof got), "b@3#1");
    assert_string_equal(runs(s, NULL, "running", 100, got, sizeof got), "a@5#0");
    assert_string_equal(runs(s, NULL, "lost", 100, got, sizeof got), "");
    assert_string_equal(runs(s, NULL, "recording", 100, got, sizeof got), "");
    assert_string_equal(runs(s, NULL, "launching", 100, got, sizeof got), "");
    assert_string_equal(runs(s, "a", "ended", 2, got, sizeof got), "a@3#0,a@2#0");
    assert_string_equal(runs(snap_of(&ts, NULL, 0), NULL, NULL, 100, got, sizeof got), "");
}

/* The newest `limit` of many runs spread over jobs (a bounded selection):
 * p holds even days 0..38, q odd days 1..39; the newest 7 are 39..33. */
static void test_runs_limit_many(void **state)
{
    (void)state;
    static struct tjob p, q;
    struct tsnap ts;
    char got[512];
    tjob_init(&p, "p", "x", "@daily");
    tjob_init(&q, "q", "x", "@daily");
    for (int d = 0; d < 40; d++)
        tjob_took(d % 2 ? &q : &p, JAN1 + d * DAY_MS, 5);
    struct tjob *all[] = {&p, &q};
    const struct chr_view_snap *s = snap_of(&ts, all, 2);
    assert_string_equal(runs(s, NULL, NULL, 7, got, sizeof got),
                        "q@39#0,p@38#0,q@37#0,p@36#0,q@35#0,p@34#0,q@33#0");
    assert_string_equal(runs(s, "p", NULL, 3, got, sizeof got), "p@38#0,p@36#0,p@34#0");
    size_t commas = 0;
    for (const char *c = runs(s, NULL, NULL, 100, got, sizeof got); *c != '\0'; c++)
        commas += *c == ',';
    assert_int_equal(commas + 1, 40);
    assert_true(strncmp(got, "q@39#0,p@38#0,", 14) == 0);
    assert_non_null(strstr(got, ",q@1#0,p@0#0") + 0);
}

static void test_runs_errors(void **state)
{
    (void)state;
    static struct tjob a, b;
    struct tsnap ts;
    struct chr_error err;
    size_t len = 0;
    runs_jobs(&a, &b);
    struct tjob *all[] = {&a, &b};
    const struct chr_view_snap *s = snap_of(&ts, all, 2);
    struct chr_runs_query q = {NULL, "bogus", 10};
    assert_null(chr_render_runs(s, &q, &len, &err));
    assert_string_equal(err.field, "state");
    assert_string_equal(err.message, "state: 'bogus' is not one of recording, queued, launching, "
                                     "running, finished, failed, killed, lost, active, ended");
    q = (struct chr_runs_query){"nope", NULL, 10};
    assert_null(chr_render_runs(s, &q, &len, &err));
    assert_string_equal(err.field, "job");
    assert_string_equal(err.message, "job: no job named 'nope'");
    q = (struct chr_runs_query){"a", "ACTIVE", 10}; /* names are exact */
    assert_null(chr_render_runs(s, &q, &len, &err));
    assert_string_equal(err.field, "state");
}

static void test_run_objects(void **state)
{
    (void)state;
    static struct tjob a, b;
    size_t len = 0;
    runs_jobs(&a, &b);
    /* a@T3: started 2030-01-04T00:00:01Z, ended 2.5 s later, exit 2. */
    const struct chr_view_run *r = chr_view_find_run(&a.v, "ct:1893715200000:0:a");
    assert_ptr_equal(r, &a.runs[2]);
    expect_text(chr_render_run(&a.v, r, &len), &len,
                "{\"id\":\"ct:1893715200000:0:a\",\"job\":\"a\",\"attempt\":0,"
                "\"cause\":\"scheduled\",\"state\":\"failed\","
                "\"scheduledAt\":\"2030-01-04T00:00:00.000Z\","
                "\"startedAt\":\"2030-01-04T00:00:01.000Z\","
                "\"endedAt\":\"2030-01-04T00:00:03.500Z\",\"durationMs\":2500,\"exitCode\":2,"
                "\"reason\":\"exit 2\"}");
    /* Running: no end, no duration, no exit code yet. */
    expect_text(chr_render_run(&a.v, &a.runs[3], &len), &len,
                "{\"id\":\"ct:1893888000000:0:a\",\"job\":\"a\",\"attempt\":0,"
                "\"cause\":\"manual\",\"state\":\"running\","
                "\"scheduledAt\":\"2030-01-06T00:00:00.000Z\","
                "\"startedAt\":\"2030-01-06T00:00:00.020Z\",\"endedAt\":null,"
                "\"durationMs\":null,\"exitCode\":null,\"reason\":\"\"}");
    /* Killed by a signal: exit code -1 means none. */
    expect_text(chr_render_run(&b.v, &b.runs[0], &len), &len,
                "{\"id\":\"ct:1893628800000:0:b\",\"job\":\"b\",\"attempt\":0,"
                "\"cause\":\"dependent\",\"state\":\"killed\","
                "\"scheduledAt\":\"2030-01-03T00:00:00.000Z\","
                "\"startedAt\":\"2030-01-03T00:00:00.001Z\","
                "\"endedAt\":\"2030-01-03T00:00:00.002Z\",\"durationMs\":1,\"exitCode\":null,"
                "\"reason\":\"killed by signal 9 (SIGKILL)\"}");
    expect_text(chr_render_run(&b.v, &b.runs[1], &len), &len,
                "{\"id\":\"ct:1893715200000:1:b\",\"job\":\"b\",\"attempt\":1,"
                "\"cause\":\"retry\",\"state\":\"queued\","
                "\"scheduledAt\":\"2030-01-04T00:00:00.000Z\",\"startedAt\":null,"
                "\"endedAt\":null,\"durationMs\":null,\"exitCode\":null,\"reason\":\"\"}");
    assert_null(chr_view_find_run(&a.v, "ct:1893715200000:0:b"));
    assert_null(chr_view_find_run(&a.v, ""));
    assert_null(chr_view_find_run(&a.v, NULL));
}

static void test_run_state_names(void **state)
{
    (void)state;
    const char *want[] = {"recording", "queued", "launching", "running",
                          "finished",  "failed", "killed",    "lost"};
    for (int s = CHR_RUN_RECORDING; s <= CHR_RUN_LOST; s++)
        assert_string_equal(chr_render_run_state((enum chr_run_state)s), want[s - 1]);
    assert_string_equal(chr_render_run_state((enum chr_run_state)0), "unknown");
    assert_string_equal(chr_render_run_state((enum chr_run_state)99), "unknown");
}

/* ---- next ------------------------------------------------------------------------------------ */

static struct chr_tzdb *tzdb;

static int setup_tzdb(void **state)
{
    (void)state;
    const struct chr_tz *tz;
    struct chr_error err;
    /* The zones of the jobs below, loaded as the API loads a job's zone
     * before anything renders it. */
    return chr_tzdb_create(NULL, &tzdb) == CHR_OK &&
                   chr_tzdb_get(tzdb, "America/New_York", &tz, &err) == CHR_OK
               ? 0
               : -1;
}

static int teardown_tzdb(void **state)
{
    (void)state;
    chr_tzdb_destroy(tzdb);
    tzdb = NULL;
    return 0;
}

static char *next(const char *schedule, const char *tz, const char *from, size_t count,
                  size_t *len, struct chr_error *err)
{
    struct chr_job def = {0};
    def.name = "j";
    def.schedule = (char *)schedule;
    def.schedule_tz = (char *)tz;
    return chr_render_next(&def, tzdb, T(from), count, len, err);
}

static void test_next_iso(void **state)
{
    (void)state;
    struct chr_error err;
    size_t len = 0;
    /* R3 from 2030-01-01T00:00Z every 12 h: three instants, then none. */
    expect_text(next("R3/2030-01-01T00:00:00Z/PT12H", NULL, "2029-12-31T00:00:00Z", 5, &len, &err),
                &len,
                "{\"name\":\"j\",\"schedule\":\"R3/2030-01-01T00:00:00Z/PT12H\",\"timezone\":"
                "\"UTC\",\"next\":[\"2030-01-01T00:00:00.000Z\",\"2030-01-01T12:00:00.000Z\","
                "\"2030-01-02T00:00:00.000Z\"]}");
    /* Strictly after from: the start itself is not listed. */
    expect_text(next("R3/2030-01-01T00:00:00Z/PT12H", NULL, "2030-01-01T00:00:00Z", 10, &len, &err),
                &len,
                "{\"name\":\"j\",\"schedule\":\"R3/2030-01-01T00:00:00Z/PT12H\",\"timezone\":"
                "\"UTC\",\"next\":[\"2030-01-01T12:00:00.000Z\",\"2030-01-02T00:00:00.000Z\"]}");
    expect_text(next("R/2030-01-01T00:00:00Z/PT1H", "", "2030-01-01T05:30:00Z", 0, &len, &err),
                &len,
                "{\"name\":\"j\",\"schedule\":\"R/2030-01-01T00:00:00Z/PT1H\",\"timezone\":"
                "\"UTC\",\"next\":[]}");
    /* With a zone, the start's wall time (02:30) is read in New York
     * (Chronos's scheduleTimeZone rule), P1D keeps it across the spring
     * change of Sunday 2030-03-10: 02:30 EST (-5) = 07:30Z on the 9th;
     * 02:30 does not exist on the 10th, shifted by the gap to 03:30 EDT
     * (-4) = 07:30Z; 02:30 EDT = 06:30Z on the 11th. */
    expect_text(next("R/2030-03-09T02:30:00Z/P1D", "America/New_York", "2030-03-09T00:00:00Z", 3,
                     &len, &err),
                &len,
                "{\"name\":\"j\",\"schedule\":\"R/2030-03-09T02:30:00Z/P1D\",\"timezone\":"
                "\"America/New_York\",\"next\":[\"2030-03-09T07:30:00.000Z\","
                "\"2030-03-10T07:30:00.000Z\",\"2030-03-11T06:30:00.000Z\"]}");
}

static void test_next_cron_dst(void **state)
{
    (void)state;
    struct chr_error err;
    size_t len = 0;
    /* "30 2 * * *" in New York from Fri 2030-03-08T12:00Z (07:00 EST):
     * Sat 9th 02:30 EST = 07:30Z; Sun 10th 02:30 falls in the gap (02:00 ->
     * 03:00), fires once at 03:30 EDT = 07:30Z; Mon 11th 02:30 EDT = 06:30Z;
     * Tue 12th 06:30Z. */
    expect_text(next("30 2 * * *", "America/New_York", "2030-03-08T12:00:00Z", 4, &len, &err), &len,
                "{\"name\":\"j\",\"schedule\":\"30 2 * * *\",\"timezone\":\"America/New_York\","
                "\"next\":[\"2030-03-09T07:30:00.000Z\",\"2030-03-10T07:30:00.000Z\","
                "\"2030-03-11T06:30:00.000Z\",\"2030-03-12T06:30:00.000Z\"]}");
    /* "30 1 * * *" across the fall change of Sun 2030-11-03 (02:00 EDT ->
     * 01:00 EST): Sat 2nd 01:30 EDT = 05:30Z; Sun 3rd 01:30 happens twice,
     * fires once at the earlier (EDT) = 05:30Z; Mon 4th 01:30 EST = 06:30Z. */
    expect_text(next("30 1 * * *", "America/New_York", "2030-11-02T00:00:00Z", 3, &len, &err), &len,
                "{\"name\":\"j\",\"schedule\":\"30 1 * * *\",\"timezone\":\"America/New_York\","
                "\"next\":[\"2030-11-02T05:30:00.000Z\",\"2030-11-03T05:30:00.000Z\","
                "\"2030-11-04T06:30:00.000Z\"]}");
    /* No zone ("" and "null" too): a cron runs in UTC. */
    const char *none[] = {NULL, "", "null"};
    for (size_t i = 0; i < 3; i++)
        expect_text(next("0 12 * * *", none[i], "2030-03-10T12:00:00Z", 1, &len, &err), &len,
                    "{\"name\":\"j\",\"schedule\":\"0 12 * * *\",\"timezone\":\"UTC\","
                    "\"next\":[\"2030-03-11T12:00:00.000Z\"]}");
}

static void test_next_errors(void **state)
{
    (void)state;
    struct chr_error err;
    size_t len = 0;
    struct chr_job dep = {0};
    char *parents[] = {"a"};
    dep.name = "dep";
    dep.parents = parents;
    dep.n_parents = 1;
    assert_null(chr_render_next(&dep, tzdb, 0, 10, &len, &err));
    assert_string_equal(err.field, "schedule");
    assert_string_equal(err.message, "schedule: job 'dep' is dependent (it runs after its "
                                     "parents), it has no schedule");
    assert_null(next("R/bogus", NULL, "2030-01-01", 3, &len, &err));
    assert_string_equal(err.field, "schedule");
    assert_null(next("61 * * * *", NULL, "2030-01-01", 3, &len, &err));
    assert_string_equal(err.field, "schedule");
    assert_null(next("@daily", "Mars/Olympus_Mons", "2030-01-01", 3, &len, &err));
    assert_string_equal(err.field, "scheduleTimeZone");
    struct chr_job def = {0};
    def.name = "j";
    def.schedule = "@daily";
    def.schedule_tz = "America/New_York";
    assert_null(chr_render_next(&def, NULL, 0, 1, &len, &err));
    assert_string_equal(err.field, "scheduleTimeZone");
}

/* ---- /metrics -------------------------------------------------------------------------------- */

#define NOW_MS 1900000000000LL

/* Four jobs, one per state: a disabled job counts as disabled only, running
 * wins over queued. */
static void metrics_jobs(struct tjob *idle, struct tjob *queued, struct tjob *running,
                         struct tjob *disabled)
{
    tjob_init(idle, "idle", "x", "@daily");
    idle->v.stats.success_count = 7;
    idle->v.stats.error_count = 2;
    tjob_init(queued, "queued", "x", "@daily");
    queued->v.n_queued = 1;
    tjob_init(running, "run\"ning", "x", "@daily");
    running->v.n_running = 1;
    running->v.n_queued = 1;
    running->v.stats.success_count = 1;
    tjob_init(disabled, "disabled", "x", "@daily");
    disabled->def.disabled = true;
    disabled->v.n_running = 1;
}

static struct chr_metrics_sample metrics_sample(void)
{
    struct chr_metrics_sample m;
    memset(&m, 0, sizeof m);
    for (int c = 0; c < CHR_M_COUNTERS; c++)
        m.counter[c] = (uint64_t)(c + 1) * 11; /* 11, 22, ... 110 */
    /* Lateness: two within 1 ms, one within 10 ms, one past a minute; sum
     * 2000.5 ms = 2.0005 s. */
    m.lateness.bucket[0] = 2;
    m.lateness.bucket[3] = 1;
    m.lateness.bucket[CHR_METRICS_BUCKETS] = 1;
    m.lateness.count = 4;
    m.lateness.sum_ms = 2000.5;
    m.store_write.bucket[9] = 3; /* 1 s */
    m.store_write.count = 3;
    m.store_write.sum_ms = 2400;
    m.gauges = (struct chr_metrics_gauges){3, 2, 1, 4, 5, NOW_MS - 90500, true, true};
    return m;
}

static bool has_line(const char *text, const char *line)
{
    size_t n = strlen(line);
    for (const char *p = text; (p = strstr(p, line)) != NULL; p++)
        if ((p == text || p[-1] == '\n') && p[n] == '\n')
            return true;
    return false;
}

#define assert_line(text, line)                                                                  \
    do {                                                                                         \
        if (!has_line((text), (line)))                                                           \
            fail_msg("no line '%s' in\n%s", (line), (text));                                     \
    } while (0)

/* Every sample belongs to a family announced by # HELP and # TYPE, and its
 * value reads as a number. */
static void check_exposition(const char *text)
{
    char fam[64] = "", type[16] = "";
    assert_true(text[strlen(text) - 1] == '\n');
    for (const char *p = text; *p != '\0'; p = strchr(p, '\n') + 1) {
        const char *eol = strchr(p, '\n');
        char line[256];
        assert_true((size_t)(eol - p) < sizeof line);
        memcpy(line, p, (size_t)(eol - p));
        line[eol - p] = '\0';
        if (strncmp(line, "# HELP ", 7) == 0) {
            assert_int_equal(sscanf(line, "# HELP %63s", fam), 1);
            type[0] = '\0';
            continue;
        }
        if (strncmp(line, "# TYPE ", 7) == 0) {
            char f2[64];
            assert_int_equal(sscanf(line, "# TYPE %63s %15s", f2, type), 2);
            assert_string_equal(f2, fam);
            continue;
        }
        assert_true(type[0] != '\0');
        assert_true(strncmp(line, fam, strlen(fam)) == 0);
        const char *rest = line + strlen(fam);
        if (strcmp(type, "histogram") == 0)
            assert_true(strncmp(rest, "_bucket{le=\"", 12) == 0 || strncmp(rest, "_sum ", 5) == 0 ||
                        strncmp(rest, "_count ", 7) == 0);
        else
            assert_true(rest[0] == ' ' || rest[0] == '{');
        char *end;
        const char *val = strrchr(line, ' ') + 1;
        strtod(val, &end);
        assert_true(*end == '\0' && end != val);
    }
}

static void test_metrics_prom(void **state)
{
    (void)state;
    static struct tjob i, q, r, d;
    struct tsnap ts;
    size_t len = 0;
    metrics_jobs(&i, &q, &r, &d);
    struct tjob *all[] = {&i, &q, &r, &d};
    struct chr_metrics_sample m = metrics_sample();
    char *t = chr_render_metrics_prom(snap_of(&ts, all, 4), &m, NULL, NOW_MS, &len);
    assert_non_null(t);
    assert_int_equal(len, strlen(t));
    check_exposition(t);
    assert_line(t, "# TYPE chronos_jobs gauge");
    assert_line(t, "chronos_jobs{state=\"idle\"} 1");
    assert_line(t, "chronos_jobs{state=\"queued\"} 1");
    assert_line(t, "chronos_jobs{state=\"running\"} 1");
    assert_line(t, "chronos_jobs{state=\"disabled\"} 1");
    assert_line(t, "chronos_jobs_total 4");
    assert_line(t, "# TYPE chronos_runs_started_total counter");
    assert_line(t, "chronos_runs_started_total 11");
    assert_line(t, "chronos_runs_succeeded_total 22");
    assert_line(t, "chronos_runs_failed_total 33");
    assert_line(t, "chronos_runs_killed_total 44");
    assert_line(t, "chronos_runs_lost_total 55");
    assert_line(t, "chronos_launches_total 66");
    assert_line(t, "chronos_store_batches_total 77");
    assert_line(t, "chronos_store_errors_total 88");
    assert_line(t, "chronos_http_requests_total 99");
    assert_line(t, "chronos_http_errors_total 110");
    /* Cumulative buckets in seconds: 2 up to 5 ms, 3 from 10 ms, 4 at +Inf. */
    assert_line(t, "# TYPE chronos_run_lateness_seconds histogram");
    const char *le[] = {"0.001", "0.002", "0.005", "0.01", "0.025", "0.05", "0.1",
                        "0.25",  "0.5",   "1",     "2.5",  "5",     "10",   "60"};
    for (int k = 0; k < CHR_METRICS_BUCKETS; k++) {
        char want[96];
        snprintf(want, sizeof want, "chronos_run_lateness_seconds_bucket{le=\"%s\"} %d", le[k],
                 k < 3 ? 2 : 3);
        assert_line(t, want);
    }
    assert_line(t, "chronos_run_lateness_seconds_bucket{le=\"+Inf\"} 4");
    assert_line(t, "chronos_run_lateness_seconds_sum 2.0005");
    assert_line(t, "chronos_run_lateness_seconds_count 4");
    assert_line(t, "chronos_store_write_seconds_bucket{le=\"0.5\"} 0");
    assert_line(t, "chronos_store_write_seconds_bucket{le=\"1\"} 3");
    assert_line(t, "chronos_store_write_seconds_bucket{le=\"+Inf\"} 3");
    assert_line(t, "chronos_store_write_seconds_sum 2.4");
    assert_line(t, "chronos_queue_depth 3");
    assert_line(t, "chronos_runs_active 2");
    assert_line(t, "chronos_runs_waiting 1");
    assert_line(t, "chronos_store_batches_pending 4");
    assert_line(t, "chronos_leader 1");
    assert_line(t, "chronos_store_healthy 1");
    assert_line(t, "chronos_uptime_seconds 90.5");
    assert_line(t, "chronos_job_task_seconds_total{job=\"run\\\"ning\"} 0"); /* escaped */
    /* Per-job runs and failures; no duration or lateness before a run ended. */
    assert_line(t, "# TYPE chronos_job_successes_total counter");
    assert_line(t, "chronos_job_successes_total{job=\"idle\"} 7");
    assert_line(t, "chronos_job_failures_total{job=\"idle\"} 2");
    assert_line(t, "# TYPE chronos_job_last_duration_seconds gauge");
    assert_null(strstr(t, "chronos_job_last_duration_seconds{"));
    assert_line(t, "chronos_metrics_jobs_omitted 0");
    chr_free(t);
    /* Empty: zeros, the families still there; a start in the future: 0. */
    memset(&m, 0, sizeof m);
    m.gauges.started_ms = NOW_MS + 5;
    t = chr_render_metrics_prom(snap_of(&ts, NULL, 0), &m, NULL, NOW_MS, &len);
    assert_non_null(t);
    check_exposition(t);
    assert_line(t, "chronos_jobs{state=\"idle\"} 0");
    assert_line(t, "chronos_jobs_total 0");
    assert_line(t, "chronos_run_lateness_seconds_bucket{le=\"+Inf\"} 0");
    assert_line(t, "chronos_run_lateness_seconds_sum 0");
    assert_line(t, "chronos_leader 0");
    assert_line(t, "chronos_store_healthy 0");
    assert_line(t, "chronos_uptime_seconds 0");
    chr_free(t);
}

/* The figures (sched.h's resources) and the task time: sums, per agent with
 * its id escaped as a label, per job and in total, in both formats. */
static void test_metrics_figures(void **state)
{
    (void)state;
    static struct tjob a, b;
    struct tsnap ts;
    size_t len = 0;
    tjob_init(&a, "a", "x", "@daily");
    a.v.stats.task_time_ms = 1500;
    tjob_init(&b, "b", "x", "@daily");
    b.v.stats.task_time_ms = 250;
    struct tjob *all[] = {&a, &b};
    struct chr_metrics_sample m = metrics_sample();
    json_t *res = json_loads(
        "{\"agents\":[{\"id\":\"ag\\\"1\\\\\",\"hostname\":\"h\",\"offered\":{\"cpus\":2.0,"
        "\"mem\":1024.0,\"disk\":10.0},\"used\":{\"cpus\":0.5,\"mem\":64.0,\"disk\":0.0},"
        "\"total\":null}],\"agentsUnlisted\":0,\"offered\":{\"cpus\":2.0,\"mem\":1024.0,"
        "\"disk\":10.0},\"used\":{\"cpus\":0.5,\"mem\":64.0,\"disk\":0.0},\"held\":{\"cpus\":1.5,"
        "\"mem\":960.0,\"disk\":10.0},\"total\":null}",
        0, NULL);
    assert_non_null(res);
    char *t = chr_render_metrics_prom(snap_of(&ts, all, 2), &m, res, NOW_MS, &len);
    assert_non_null(t);
    check_exposition(t);
    assert_line(t, "# TYPE chronos_resources_offered gauge");
    assert_line(t, "chronos_resources_offered{resource=\"cpus\"} 2");
    assert_line(t, "chronos_resources_used{resource=\"mem\"} 64");
    assert_line(t, "chronos_resources_held{resource=\"cpus\"} 1.5");
    assert_null(strstr(t, "chronos_resources_total")); /* unknown: absent */
    assert_line(t, "chronos_agent_resources_offered{agent=\"ag\\\"1\\\\\",resource=\"mem\"} 1024");
    assert_line(t, "chronos_agent_resources_used{agent=\"ag\\\"1\\\\\",resource=\"cpus\"} 0.5");
    assert_line(t, "# TYPE chronos_job_task_seconds_total counter");
    assert_line(t, "chronos_job_task_seconds_total{job=\"a\"} 1.5");
    assert_line(t, "chronos_job_task_seconds_total{job=\"b\"} 0.25");
    assert_line(t, "chronos_task_seconds_total 1.75");
    chr_free(t);
    json_t *v = load_body(chr_render_metrics_json(snap_of(&ts, all, 2), &m, res, NOW_MS, &len), &len);
    json_t *g = json_object_get(v, "gauges"), *c = json_object_get(v, "counters");
    assert_true(json_number_value(json_object_get(json_object_get(g, "resources.held.cpus"),
                                                  "value")) == 1.5);
    assert_true(json_number_value(json_object_get(json_object_get(g, "agents.ag\"1\\.used.mem"),
                                                  "value")) == 64.0);
    assert_null(json_object_get(g, "resources.total.cpus"));
    assert_int_equal(json_integer_value(json_object_get(json_object_get(c, "jobs.taskTime.ms.a"),
                                                        "count")), 1500);
    assert_int_equal(json_integer_value(json_object_get(json_object_get(c, "taskTime.ms"),
                                                        "count")), 1750);
    json_decref(v);
    json_decref(res);
}

static json_int_t jint(json_t *root, const char *group, const char *name, const char *field)
{
    json_t *v = json_object_get(json_object_get(json_object_get(root, group), name), field);
    if (!json_is_integer(v))
        fail_msg("%s.%s.%s is not an integer", group, name, field);
    return json_integer_value(v);
}

static void test_metrics_json(void **state)
{
    (void)state;
    static struct tjob i, q, r, d;
    struct tsnap ts;
    size_t len = 0;
    metrics_jobs(&i, &q, &r, &d);
    struct tjob *all[] = {&i, &q, &r, &d};
    struct chr_metrics_sample m = metrics_sample();
    json_t *v = load_body(chr_render_metrics_json(snap_of(&ts, all, 4), &m, NULL, NOW_MS, &len), &len);
    assert_string_equal(json_string_value(json_object_get(v, "version")), "3.0.0");
    assert_int_equal(jint(v, "gauges", "TaskManager.queueSize", "value"), 1); /* runs waiting */
    assert_int_equal(jint(v, "gauges", "TaskManager.highQueueSize", "value"), 0);
    assert_int_equal(jint(v, "gauges", "jobs.total", "value"), 4);
    assert_int_equal(jint(v, "gauges", "jobs.disabled", "value"), 1);
    assert_int_equal(jint(v, "gauges", "leader", "value"), 1);
    assert_true(json_real_value(json_object_get(
                    json_object_get(json_object_get(v, "gauges"), "uptime.seconds"), "value")) ==
                90.5);
    assert_int_equal(jint(v, "counters", "reviveOffersCount", "count"), 0);
    assert_int_equal(jint(v, "counters", "runs.started", "count"), 11);
    assert_int_equal(jint(v, "counters", "http.errors", "count"), 110);
    assert_int_equal(jint(v, "counters", "jobs.run.success.idle", "count"), 7);
    assert_int_equal(jint(v, "counters", "jobs.run.failure.idle", "count"), 2);
    assert_int_equal(jint(v, "counters", "jobs.run.success.run\"ning", "count"), 1);
    assert_int_equal(jint(v, "counters", "jobs.run.failure.disabled", "count"), 0);
    /* revive, the 10 counters, the total task time; per job success, failure, task time */
    assert_int_equal(json_object_size(json_object_get(v, "counters")), 1 + 10 + 1 + 4 * 3);
    const char *empty[] = {"histograms", "meters", "timers"};
    for (size_t k = 0; k < 3; k++) {
        assert_true(json_is_object(json_object_get(v, empty[k])));
        assert_int_equal(json_object_size(json_object_get(v, empty[k])), 0);
    }
    json_decref(v);
}

/* ---- Allocation failures --------------------------------------------------------------------- */

/* Renders with the n-th allocation failing, n = 1, 2, ... until it works:
 * every failure is NULL with err empty (not a bad argument), the success
 * equals the body rendered without failures.  ASan reports any leak. */
typedef char *(*render_fn)(const void *ctx, size_t *len, struct chr_error *err);

static void fail_each_allocation(render_fn fn, const void *ctx)
{
    struct chr_error err;
    size_t len = 0, want_len = 0;
    char *want = fn(ctx, &want_len, &err);
    assert_non_null(want);
    long n;
    for (n = 1; n < 100000; n++) {
        memset(&err, 0x5a, sizeof err);
        chr_alloc_fail_after(n);
        char *got = fn(ctx, &len, &err);
        chr_alloc_fail_after(-1);
        if (got == NULL) {
            assert_string_equal(err.field, "");
            continue;
        }
        assert_int_equal(len, want_len);
        assert_string_equal(got, want);
        chr_free(got);
        break;
    }
    assert_true(n > 1); /* every renderer allocates its body */
    chr_free(want);
}

struct fx {
    const struct chr_view_snap *s;
    const struct chr_view_job *j;
    struct chr_metrics_sample m;
};

static char *fx_jobs(const void *c, size_t *len, struct chr_error *err)
{
    chr_error_clear(err);
    return chr_render_jobs(((const struct fx *)c)->s, len);
}
static char *fx_summary(const void *c, size_t *len, struct chr_error *err)
{
    chr_error_clear(err);
    return chr_render_summary(((const struct fx *)c)->s, len);
}
static char *fx_jobs_v2(const void *c, size_t *len, struct chr_error *err)
{
    chr_error_clear(err);
    return chr_render_jobs_v2(((const struct fx *)c)->s, len);
}
static char *fx_job_status(const void *c, size_t *len, struct chr_error *err)
{
    chr_error_clear(err);
    return chr_render_job_status(((const struct fx *)c)->j, len);
}
static char *fx_search(const void *c, size_t *len, struct chr_error *err)
{
    struct chr_search q = {"a", NULL, "x", 10, 0, true};
    chr_error_clear(err);
    return chr_render_search(((const struct fx *)c)->s, &q, len);
}
static char *fx_stat(const void *c, size_t *len, struct chr_error *err)
{
    chr_error_clear(err);
    return chr_render_stat(((const struct fx *)c)->j, len);
}
static char *fx_dot(const void *c, size_t *len, struct chr_error *err)
{
    chr_error_clear(err);
    return chr_render_graph_dot(((const struct fx *)c)->s, len);
}
static char *fx_csv(const void *c, size_t *len, struct chr_error *err)
{
    chr_error_clear(err);
    return chr_render_graph_csv(((const struct fx *)c)->s, len);
}
static char *fx_stats(const void *c, size_t *len, struct chr_error *err)
{
    return chr_render_stats(((const struct fx *)c)->s, "75thPercentile", len, err);
}
static char *fx_runs(const void *c, size_t *len, struct chr_error *err)
{
    struct chr_runs_query q = {NULL, NULL, 4};
    return chr_render_runs(((const struct fx *)c)->s, &q, len, err);
}
static char *fx_run(const void *c, size_t *len, struct chr_error *err)
{
    const struct chr_view_job *j = ((const struct fx *)c)->j;
    chr_error_clear(err);
    return chr_render_run(j, &j->runs[0], len);
}
static char *fx_next(const void *c, size_t *len, struct chr_error *err)
{
    (void)c;
    return next("30 2 * * *", "America/New_York", "2030-03-08T12:00:00Z", 50, len, err);
}
static char *fx_next_iso(const void *c, size_t *len, struct chr_error *err)
{
    (void)c;
    return next("R/2030-01-01T00:00:00+05:30/PT1H", NULL, "2030-01-01T00:00:00Z", 30, len, err);
}
static char *fx_prom(const void *c, size_t *len, struct chr_error *err)
{
    chr_error_clear(err);
    return chr_render_metrics_prom(((const struct fx *)c)->s, &((const struct fx *)c)->m, NULL, NOW_MS,
                                   len);
}
static char *fx_mjson(const void *c, size_t *len, struct chr_error *err)
{
    chr_error_clear(err);
    return chr_render_metrics_json(((const struct fx *)c)->s, &((const struct fx *)c)->m, NULL, NOW_MS,
                                   len);
}

static void test_allocation_failures(void **state)
{
    (void)state;
    static struct tjob x, y, z, a0, c, a, b;
    struct tsnap ts;
    stats_jobs(&x, &y, &z, &a0);
    graph_jobs(&c, &a, &b);
    struct tjob *all[] = {&x, &y, &z, &a0, &c, &a, &b};
    struct fx f = {snap_of(&ts, all, 7), &x.v, metrics_sample()};
    render_fn fns[] = {fx_jobs, fx_jobs_v2, fx_summary, fx_job_status, fx_search, fx_stat,
                       fx_dot,  fx_csv,     fx_stats,   fx_runs,       fx_run,    fx_next,
                       fx_next_iso, fx_prom, fx_mjson};
    for (size_t i = 0; i < sizeof fns / sizeof fns[0]; i++)
        fail_each_allocation(fns[i], &f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_jobs),
        cmocka_unit_test(test_jobs_many),
        cmocka_unit_test(test_summary),
        cmocka_unit_test(test_escaping),
        cmocka_unit_test(test_search),
        cmocka_unit_test(test_stat_empty),
        cmocka_unit_test(test_stat),
        cmocka_unit_test(test_stat_one_run),
        cmocka_unit_test(test_stat_durations),
        cmocka_unit_test(test_graph_dot),
        cmocka_unit_test(test_graph_csv),
        cmocka_unit_test(test_stats),
        cmocka_unit_test(test_stats_unknown),
        cmocka_unit_test(test_runs_filters_and_order),
        cmocka_unit_test(test_runs_limit_many),
        cmocka_unit_test(test_runs_errors),
        cmocka_unit_test(test_run_objects),
        cmocka_unit_test(test_run_state_names),
        cmocka_unit_test(test_next_iso),
        cmocka_unit_test(test_next_cron_dst),
        cmocka_unit_test(test_next_errors),
        cmocka_unit_test(test_metrics_prom),
        cmocka_unit_test(test_metrics_json),
        cmocka_unit_test(test_metrics_figures),
        cmocka_unit_test(test_allocation_failures),
    };
    return cmocka_run_group_tests(tests, setup_tzdb, teardown_tzdb);
}
