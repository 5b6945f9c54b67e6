/*
 * test_routes.c - the REST endpoints of api/routes.c in-process, with no
 * socket: a request is a struct req (method, decoded path, a table of query
 * arguments, a body), chr_routes_dispatch routes it, and the answer it
 * leaves in the req (status, Content-Type, body) is what http.c would send.
 *
 * Behind the routes is a fake scheduler (api/sched.h): it records every
 * mutation handed to it and answers it as a test chooses (at once, later,
 * with an error, or by refusing it), and serves a real read model
 * (api/view.c) that the test publishes jobs into through a real core, real
 * metrics and the system's zone database.  What is asserted is the API as
 * README's REST section and routes.c document it: mutations answer 204 and
 * hand the scheduler exactly one event; a refusal names its field and hands
 * it nothing; an unknown job is a 400 (as Chronos), an unknown endpoint 404,
 * a wrong method 405; a scheduler that cannot serve is a 503.
 */
#include "../unit.h"

#include <jansson.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>

#include "common/alloc.h"
#include "api/http_int.h"
#include "api/job_json.h"
#include "api/metrics.h"
#include "api/view.h"

/* ---- The fake scheduler ------------------------------------------------------------ */

#define EVENTS_MAX 8

struct got_event {
    enum chr_event_type type;
    struct chr_job job;  /* PUT_JOB: moved here */
    char name[CHR_JOB_NAME_MAX + 1];
    char *arguments;     /* RUN_JOB: copied; NULL when none */
    bool had_arguments;
    bool force;          /* DELETE_JOB */
};

enum answer_mode {
    ANSWER_AT_ONCE = 0, /* done(result, message) before request returns */
    ANSWER_LATER,       /* done is kept for the test to call */
    ANSWER_REFUSE,      /* request returns `refuse`; done never fires */
};

struct fake {
    struct chr_sched sched; /* first: the API's handle */
    struct chr_view *view;
    struct chr_metrics *metrics;
    struct chr_tzdb *tzdb;
    /* What request() does. */
    enum answer_mode mode;
    enum chr_err result, refuse;
    const char *message;
    chr_sched_done_fn *later_done;
    void *later_ctx;
    /* What it was handed. */
    struct got_event ev[EVENTS_MAX];
    size_t n_events;
    /* healthy() */
    bool unhealthy;
    const char *why;
    /* containers(): false when this server has no container runtime */
    bool no_runtime;
    /* notify_test(): how many, the job it was about ("" none) */
    int n_tests;
    char test_job[CHR_JOB_NAME_MAX + 1];
};

static enum chr_err fake_request(struct chr_sched *s, struct chr_event *ev,
                                 chr_sched_done_fn *done, void *ctx)
{
    struct fake *f = (struct fake *)s;
    if (f->mode == ANSWER_REFUSE) { /* as the loop: a refused PUT's job is freed */
        if (ev->type == CHR_EV_PUT_JOB)
            chr_job_free(&ev->u.job.job);
        return f->refuse;
    }
    assert_true(f->n_events < EVENTS_MAX);
    struct got_event *g = &f->ev[f->n_events++];
    g->type = ev->type;
    if (ev->type == CHR_EV_PUT_JOB) {
        g->job = ev->u.job.job;
        memset(&ev->u.job.job, 0, sizeof ev->u.job.job);
    } else {
        snprintf(g->name, sizeof g->name, "%s", ev->u.named.name ? ev->u.named.name : "");
        g->had_arguments = ev->u.named.arguments != NULL;
        g->force = ev->u.named.force;
        if (g->had_arguments)
            g->arguments = chr_strndup(ev->u.named.arguments, strlen(ev->u.named.arguments));
    }
    if (f->mode == ANSWER_LATER) {
        f->later_done = done;
        f->later_ctx = ctx;
    } else {
        done(ctx, f->result, f->message);
    }
    return CHR_OK;
}

static struct chr_view *fake_view(struct chr_sched *s)
{
    return ((struct fake *)s)->view;
}

static struct chr_metrics *fake_metrics(struct chr_sched *s)
{
    return ((struct fake *)s)->metrics;
}

static struct chr_tzdb *fake_tzdb(struct chr_sched *s)
{
    return ((struct fake *)s)->tzdb;
}

static bool fake_healthy(struct chr_sched *s, char *why, size_t cap)
{
    struct fake *f = (struct fake *)s;
    if (f->unhealthy)
        snprintf(why, cap, "%s", f->why);
    return !f->unhealthy;
}

static bool fake_containers(struct chr_sched *s)
{
    return !((struct fake *)s)->no_runtime;
}

/* As the loop: answers with the outcome (here at once, as it does when no
 * sink is configured), or refuses as `mode` says. */
static enum chr_err fake_notify_test(struct chr_sched *s, const struct chr_job *job,
                                     const struct chr_job_stats *stats,
                                     chr_sched_answer_fn *done, void *ctx)
{
    struct fake *f = (struct fake *)s;
    (void)stats;
    if (f->mode == ANSWER_REFUSE)
        return f->refuse;
    f->n_tests++;
    snprintf(f->test_job, sizeof f->test_job, "%s", job != NULL ? job->name : "");
    done(ctx, json_pack("{s:b,s:s,s:[{s:s,s:s,s:s}]}", "ok", 1, "job", f->test_job, "sinks",
                        "sink", "webhook", "result", "sent", "answer", "HTTP 200 ok"));
    return CHR_OK;
}

static const struct chr_sched_ops fake_ops = {fake_request,    fake_view,       fake_metrics,
                                              fake_tzdb,       fake_healthy,    fake_containers,
                                              NULL,            fake_notify_test};

/* ---- The fixture: the fake, an API without a daemon, a core to publish jobs --------- */

#define ARGS_MAX 300

struct kv {
    char *key, *value;
};

struct t {
    struct fake f;
    struct chr_http h;
    struct chr_core *core;
    int64_t now;
    uint64_t req_id;
    /* The request of the moment and its answer. */
    struct req r;
    char url[512];
    struct kv args[ARGS_MAX];
    size_t n_args;
    const char *accept; /* the next request's Accept header, or NULL */
};

static const char *tab_get(void *ctx, const char *key)
{
    struct t *t = ctx;
    for (size_t i = 0; i < t->n_args; i++)
        if (strcmp(t->args[i].key, key) == 0)
            return t->args[i].value;
    return NULL;
}

static size_t tab_all(void *ctx, const char *key, const char **out, size_t max)
{
    struct t *t = ctx;
    size_t n = 0;
    for (size_t i = 0; i < t->n_args && n < max; i++)
        if (strcmp(t->args[i].key, key) == 0)
            out[n++] = t->args[i].value;
    return n;
}

static const char *hdr_get(void *ctx, const char *name)
{
    struct t *t = ctx;
    return strcasecmp(name, "Accept") == 0 ? t->accept : NULL;
}

static char *dup_n(const char *s, size_t n)
{
    char *c = chr_strndup(s, n);
    assert_non_null(c);
    return c;
}

static void clear_request(struct t *t)
{
    chr_free(t->r.out);
    chr_free(t->r.body);
    for (size_t i = 0; i < t->n_args; i++) {
        chr_free(t->args[i].key);
        chr_free(t->args[i].value);
    }
    t->n_args = 0;
    memset(&t->r, 0, sizeof t->r);
}

/* The query "k=v&k2=v2" into the table, percent-decoded as libmicrohttpd
 * does (through the same unescape callback). */
static void parse_query(struct t *t, const char *q)
{
    while (q != NULL && *q != '\0') {
        const char *amp = strchr(q, '&');
        size_t n = amp ? (size_t)(amp - q) : strlen(q);
        const char *eq = memchr(q, '=', n);
        size_t kn = eq ? (size_t)(eq - q) : n;
        assert_true(t->n_args < ARGS_MAX);
        struct kv *a = &t->args[t->n_args++];
        a->key = dup_n(q, kn);
        a->value = eq ? dup_n(eq + 1, n - kn - 1) : dup_n("", 0);
        chr_http_unescape(a->key);
        chr_http_unescape(a->value);
        q = amp ? amp + 1 : NULL;
    }
}

/* One request through the routes, as http.c's handler makes it once the
 * request passed admission and its body is read. */
static struct req *call(struct t *t, const char *method, const char *target, const char *body)
{
    clear_request(t);
    const char *qm = strchr(target, '?');
    size_t n = qm ? (size_t)(qm - target) : strlen(target);
    assert_true(n < sizeof t->url);
    memcpy(t->url, target, n);
    t->url[n] = '\0';
    chr_http_unescape(t->url);
    parse_query(t, qm ? qm + 1 : NULL);
    t->r.h = &t->h;
    t->r.sched = t->h.sched;
    t->r.args = (struct chr_http_args){tab_get, tab_all, t};
    t->r.header = hdr_get;
    t->r.header_ctx = t;
    if (body != NULL) {
        t->r.body = dup_n(body, strlen(body));
        t->r.len = strlen(body);
    }
    chr_routes_dispatch(&t->r, t->url, method);
    return &t->r;
}

static const char *body_of(const struct req *r)
{
    return r->out ? r->out : "";
}

/* Asserts the answer's status and Content-Type (NULL: none, a 204). */
#define assert_answer(r, want_status, want_type)                                                \
    do {                                                                                        \
        if ((r)->state != REQ_DONE)                                                             \
            fail_msg("no answer (state %d)", (int)(r)->state);                                  \
        if ((r)->status != (want_status))                                                       \
            fail_msg("status %u, want %u: %s", (r)->status, (unsigned)(want_status),           \
                     body_of(r));                                                               \
        const char *type_ = chr_http_content_type(r);                                           \
        const char *want_type_ = (want_type);                                                   \
        if (want_type_ == NULL)                                                                 \
            assert_null(type_);                                                                 \
        else                                                                                    \
            assert_string_equal(type_, want_type_);                                             \
    } while (0)

/* The error answer's message ({"message","status"}), checked for its shape;
 * the returned text lives until the next call. */
static const char *error_message(const struct req *r, const char *want_status)
{
    static char msg[512];
    json_error_t je;
    json_t *v = json_loadb(r->out, r->out_len, 0, &je);
    if (v == NULL)
        fail_msg("error body is not JSON: %s", body_of(r));
    const char *m = json_string_value(json_object_get(v, "message"));
    const char *s = json_string_value(json_object_get(v, "status"));
    assert_non_null(m);
    assert_non_null(s);
    assert_string_equal(s, want_status);
    assert_int_equal(json_object_size(v), 2);
    snprintf(msg, sizeof msg, "%s", m);
    json_decref(v);
    return msg;
}

#define assert_starts_with(s, prefix)                                                           \
    do {                                                                                        \
        if (strncmp((s), (prefix), strlen(prefix)) != 0)                                        \
            fail_msg("'%s' does not start with '%s'", (s), (prefix));                           \
    } while (0)

#define assert_contains(s, part)                                                                \
    do {                                                                                        \
        if (strstr((s), (part)) == NULL)                                                        \
            fail_msg("'%s' does not contain '%s'", (s), (part));                                \
    } while (0)

/* ---- Publishing jobs into the read model, as the loop does ------------------------- */

static void core_step(struct t *t, struct chr_event *ev, struct chr_actions *a)
{
    chr_core_step(t->core, t->now, ev, a);
}

/* Creates `json` (a job, as POSTed) in the core, makes its batch durable
 * and publishes the view. */
static void publish(struct t *t, const char *json)
{
    struct chr_error err = {{0}, {0}};
    struct chr_event ev = {.type = CHR_EV_PUT_JOB, .request_id = ++t->req_id};
    if (chr_job_from_json(json, strlen(json), &t->h.cfg.defaults, CHR_JOB_HINT_ANY, t->now,
                          &ev.u.job.job, &err) != CHR_OK)
        fail_msg("fixture job does not parse: %s", err.message);
    chr_view_touch(t->f.view, ev.u.job.job.name);
    struct chr_actions a = {NULL, 0};
    core_step(t, &ev, &a);
    uint64_t batch = 0;
    bool replied_ok = false;
    for (size_t i = 0; i < a.n; i++)
        if (a.v[i].type == CHR_ACT_PERSIST)
            batch = a.v[i].u.persist.batch_id;
    assert_true(batch != 0);
    struct chr_event done = {.type = CHR_EV_STORE_DONE};
    done.u.store.batch_id = batch;
    done.u.store.result = CHR_OK;
    core_step(t, &done, &a);
    for (size_t i = 0; i < a.n; i++)
        if (a.v[i].type == CHR_ACT_REPLY)
            replied_ok = a.v[i].u.reply.result == CHR_OK;
    assert_true(replied_ok);
    chr_view_flush(t->f.view, t->core);
}

static int setup(void **state)
{
    struct t *t = chr_calloc(1, sizeof *t);
    assert_non_null(t);
    struct fake *f = &t->f;
    f->sched.ops = &fake_ops;
    f->result = CHR_OK;
    assert_int_equal(chr_view_create(&f->view), CHR_OK);
    assert_int_equal(chr_metrics_create(&f->metrics), CHR_OK);
    assert_int_equal(chr_tzdb_create(NULL, &f->tzdb), CHR_OK);
    /* The API as chr_http_start makes it, without the daemon. */
    struct chr_http *h = &t->h;
    h->cfg = (struct chr_http_config){.bind_addr = "127.0.0.1", .sched = &f->sched,
                                      .leader = "127.0.0.1:4400", .version = "test",
                                      .store_kind = "local"};
    chr_job_defaults_init(&h->cfg.defaults);
    h->sched = &f->sched;
    snprintf(h->leader, sizeof h->leader, "%s", h->cfg.leader);
    pthread_mutex_init(&h->mu, NULL);
    pthread_cond_init(&h->cond, NULL);
    struct chr_core_config cc = {.tzdb = f->tzdb, .default_cpus = 0.1, .default_mem_mb = 128,
                                 .default_disk_mb = 256, .default_retry_delay_ms = 60000,
                                 .offer_refuse_ms = 5000, .history_max = 5};
    assert_int_equal(chr_core_create(&cc, &t->core), CHR_OK);
    t->now = T("2030-01-01T00:00:00Z");
    struct chr_event loaded = {.type = CHR_EV_LOAD_DONE};
    struct chr_actions a;
    core_step(t, &loaded, &a);
    chr_view_rebuild(f->view, t->core);
    *state = t;
    return 0;
}

static int teardown(void **state)
{
    struct t *t = *state;
    clear_request(t);
    for (size_t i = 0; i < t->f.n_events; i++) {
        chr_job_free(&t->f.ev[i].job);
        chr_free(t->f.ev[i].arguments);
    }
    assert_int_equal(t->h.n_busy, 0); /* every mutation was answered */
    pthread_cond_destroy(&t->h.cond);
    pthread_mutex_destroy(&t->h.mu);
    chr_view_destroy(t->f.view);
    chr_core_destroy(t->core);
    chr_metrics_destroy(t->f.metrics);
    chr_tzdb_destroy(t->f.tzdb);
    chr_free(t);
    return 0;
}

#define JOB_ALPHA                                                                               \
    "{\"name\":\"alpha\",\"command\":\"echo alpha\",\"schedule\":\"R/2031-01-01T00:00:00Z/P1D\"}"
#define JOB_BETA                                                                                \
    "{\"name\":\"beta\",\"command\":\"echo beta\",\"schedule\":\"R/2031-01-01T00:00:00Z/PT1H\"}"

/* ---- Creating jobs ------------------------------------------------------------------ */

/* A valid job: 204, no body, and exactly one PUT_JOB carrying the decoded
 * fields (defaults filled where the JSON leaves them out). */
static void test_post_iso8601_hands_over_one_decoded_job(void **state)
{
    struct t *t = *state;
    struct req *r = call(t, "POST", "/v1/scheduler/iso8601",
                         "{\"name\":\"nightly\",\"command\":\"backup.sh --all\","
                         "\"schedule\":\"R/2031-03-01T02:00:00/P1D\","
                         "\"scheduleTimeZone\":\"America/New_York\",\"cpus\":0.5,"
                         "\"retries\":4,\"owner\":\"ops@example.com\"}");
    assert_answer(r, 204, NULL);
    assert_int_equal(r->out_len, 0);
    assert_int_equal(t->f.n_events, 1);
    const struct got_event *g = &t->f.ev[0];
    assert_int_equal(g->type, CHR_EV_PUT_JOB);
    assert_string_equal(g->job.name, "nightly");
    assert_string_equal(g->job.command, "backup.sh --all");
    assert_true(g->job.shell);
    assert_string_equal(g->job.schedule, "R/2031-03-01T02:00:00/P1D");
    assert_string_equal(g->job.schedule_tz, "America/New_York");
    assert_int_equal(g->job.n_parents, 0);
    assert_true(g->job.cpus == 0.5);
    assert_int_equal(g->job.retries, 4);
    assert_string_equal(g->job.owner, "ops@example.com");
    /* The zone was loaded on this thread, for the scheduler, which reads no file. */
    const struct chr_tz *tz = NULL;
    struct chr_error err;
    assert_int_equal(chr_tzdb_lookup(t->f.tzdb, "America/New_York", &tz, &err), CHR_OK);
}

/* A job with a container on a server that cannot run one: accepted (204,
 * no body, as Chronos) with a Warning header; none on a server that can,
 * nor for a job without a container. */
static void test_post_container_job_without_runtime_warns(void **state)
{
    struct t *t = *state;
    const char *boxed = "{\"name\":\"boxed\",\"command\":\"true\",\"schedule\":"
                        "\"R/2031-03-01T02:00:00Z/P1D\",\"container\":{\"image\":\"busybox\"}}";
    const char *plain = "{\"name\":\"plain\",\"command\":\"true\",\"schedule\":"
                        "\"R/2031-03-01T02:00:00Z/P1D\"}";
    t->f.no_runtime = true;
    struct req *r = call(t, "POST", "/v1/scheduler/iso8601", boxed);
    assert_answer(r, 204, NULL);
    assert_int_equal(r->out_len, 0);
    assert_int_equal(t->f.n_events, 1); /* the job is handed over all the same */
    assert_non_null(r->warning);
    assert_int_equal(strncmp(r->warning, "299 - \"", 7), 0);
    assert_non_null(strstr(r->warning, "--local_containerizer"));
    r = call(t, "POST", "/v1/scheduler/iso8601", plain);
    assert_answer(r, 204, NULL);
    assert_null(r->warning);
    t->f.no_runtime = false;
    r = call(t, "POST", "/v1/scheduler/iso8601", boxed);
    assert_answer(r, 204, NULL);
    assert_null(r->warning);
}

/* The 2.x prefix takes the same request. */
static void test_post_iso8601_on_the_2x_prefix(void **state)
{
    struct t *t = *state;
    struct req *r = call(t, "POST", "/scheduler/iso8601", JOB_ALPHA);
    assert_answer(r, 204, NULL);
    assert_int_equal(t->f.n_events, 1);
    assert_string_equal(t->f.ev[0].job.name, "alpha");
}

/* 2.x took PUT on iso8601 and dependency as an update (chronos-python's
 * update() with the 2.x API); 3.x's prefix keeps POST only. */
static void test_put_iso8601_and_dependency_on_the_2x_prefix(void **state)
{
    struct t *t = *state;
    struct req *r = call(t, "PUT", "/scheduler/iso8601", JOB_ALPHA);
    assert_answer(r, 204, NULL);
    assert_int_equal(t->f.n_events, 1);
    assert_string_equal(t->f.ev[0].job.name, "alpha");
    r = call(t, "PUT", "/scheduler/dependency",
             "{\"name\":\"kid\",\"command\":\"true\",\"parents\":[\"alpha\"]}");
    assert_answer(r, 204, NULL);
    assert_int_equal(t->f.n_events, 2);
    r = call(t, "PUT", "/v1/scheduler/iso8601", JOB_ALPHA);
    assert_answer(r, 405, "application/json");
    assert_int_equal(t->f.n_events, 2);
}

/* An unknown field ("schedulee") is left out and named in a Warning, with
 * the near known name; ?strict=true refuses it (400, nothing handed over);
 * a job as GET shows it (its counters and progress) is accepted silently. */
static void test_unknown_fields_warn_or_refuse(void **state)
{
    struct t *t = *state;
    const char *typo = "{\"name\":\"alpha\",\"command\":\"true\",\"schedulee\":\"R/2030-01-01T00:00:00Z/PT1H\"}";
    struct req *r = call(t, "POST", "/v1/scheduler/iso8601", typo);
    assert_answer(r, 204, NULL);
    assert_non_null(r->warning);
    assert_string_equal(r->warning,
                        "299 - \"unknown field 'schedulee' (did you mean 'schedule'?), ignored\"");
    assert_int_equal(t->f.n_events, 1);
    r = call(t, "POST", "/v1/scheduler/iso8601?strict=true", typo);
    assert_answer(r, 400, "application/json");
    assert_string_equal(error_message(r, "Bad Request"),
                        "schedulee: unknown field (did you mean 'schedule'?); nothing changed");
    r = call(t, "POST", "/v1/scheduler/iso8601?strict=true",
             "{\"name\":\"alpha\",\"command\":\"true\",\"suspend\":true}");
    assert_answer(r, 400, "application/json");
    assert_int_equal(t->f.n_events, 1);
    r = call(t, "POST", "/v1/scheduler/iso8601?strict=true",
             "{\"name\":\"alpha\",\"command\":\"true\",\"successCount\":3,"
             "\"nextRunAt\":null,\"lastRunState\":\"success\",\"async\":false}");
    assert_answer(r, 204, NULL);
    assert_null(r->warning);
    assert_int_equal(t->f.n_events, 2);
}

/* ?dryRun=true checks the job as a post would and hands nothing over. */
static void test_dry_run_checks_and_keeps_nothing(void **state)
{
    struct t *t = *state;
    struct req *r = call(t, "POST", "/v1/scheduler/iso8601?dryRun=true", JOB_ALPHA);
    assert_answer(r, 204, NULL);
    r = call(t, "POST", "/v1/scheduler/iso8601?dryRun=true",
             "{\"name\":\"alpha\",\"command\":\"true\",\"retries\":500}");
    assert_answer(r, 400, "application/json");
    assert_int_equal(t->f.n_events, 0);
}

/* PUT /scheduler/task/{id} {"statusCode":n}: 2.x's async callback answers
 * 204 for any id and hands the scheduler nothing; a body without an
 * integer statusCode is a 400 naming it. */
static void test_2x_task_callback(void **state)
{
    struct t *t = *state;
    struct req *r = call(t, "PUT", "/scheduler/task/ct:1:0:ghost", "{\"statusCode\":0}");
    assert_answer(r, 204, NULL);
    r = call(t, "PUT", "/scheduler/task/ct:1:0:ghost", "{\"statusCode\":1}");
    assert_answer(r, 204, NULL);
    r = call(t, "PUT", "/scheduler/task/ct:1:0:ghost", "{\"status\":0}");
    assert_answer(r, 400, "application/json");
    assert_string_equal(error_message(r, "Bad Request"),
                        "statusCode: expected {\"statusCode\": <integer>}");
    r = call(t, "PUT", "/v1/scheduler/task/ct:1:0:ghost", "{\"statusCode\":0}");
    assert_answer(r, 404, "application/json");
    assert_int_equal(t->f.n_events, 0);
}

/* Every refusal is a 400 {"message","status":"Bad Request"} whose message
 * starts with the field, and the scheduler is handed nothing. */
static void test_post_iso8601_refusals_name_the_field(void **state)
{
    struct t *t = *state;
    static const struct {
        const char *body, *field;
    } cases[] = {
        {"{\"name\":\"x\",", "body: invalid JSON"},
        {"[1,2]", "body: expected a JSON object"},
        {"", "body: expected a job as JSON"},
        {"{\"command\":\"true\",\"schedule\":\"R/2031-01-01T00:00:00Z/P1D\"}", "name: required"},
        {"{\"name\":\"a b\",\"command\":\"true\",\"schedule\":\"R/2031-01-01T00:00:00Z/P1D\"}",
         "name: "},
        {"{\"name\":\"x\",\"command\":\"true\",\"schedule\":\"\"}", "schedule: is empty"},
        {"{\"name\":\"x\",\"command\":\"true\",\"schedule\":42}", "schedule: "},
        {"{\"name\":\"x\",\"command\":\"true\",\"schedule\":\"R/2031-01-01T00:00:00/P1D\","
         "\"scheduleTimeZone\":\"Mars/Olympus_Mons\"}",
         "scheduleTimeZone: "},
        {"{\"name\":\"x\",\"command\":\"true\",\"schedule\":\"R/2031-01-01T00:00:00Z/P1D\","
         "\"retries\":-1}",
         "retries: "},
        {"{\"name\":\"x\",\"command\":\"true\",\"schedule\":\"R/2031-01-01T00:00:00Z/P1D\","
         "\"cpus\":\"lots\"}",
         "cpus: "},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct req *r = call(t, "POST", "/v1/scheduler/iso8601", cases[i].body);
        assert_answer(r, 400, "application/json");
        assert_starts_with(error_message(r, "Bad Request"), cases[i].field);
        if (t->f.n_events != 0)
            fail_msg("case %zu (%s) reached the scheduler", i, cases[i].body);
    }
}

/* A dependent job: its parents, in order, and no schedule or zone. */
static void test_post_dependency_hands_over_parents(void **state)
{
    struct t *t = *state;
    struct req *r = call(t, "POST", "/v1/scheduler/dependency",
                         "{\"name\":\"report\",\"command\":\"make report\","
                         "\"parents\":[\"extract\",\"load\"]}");
    assert_answer(r, 204, NULL);
    assert_int_equal(t->f.n_events, 1);
    const struct chr_job *j = &t->f.ev[0].job;
    assert_string_equal(j->name, "report");
    assert_int_equal(j->n_parents, 2);
    assert_string_equal(j->parents[0], "extract");
    assert_string_equal(j->parents[1], "load");
    assert_null(j->schedule);
    assert_null(chr_job_zone(j));
}

/* POST dependency without parents is refused naming "parents"; an empty
 * list too (README: "Unknown parent, empty list or a cycle: 400"). */
static void test_post_dependency_needs_parents(void **state)
{
    struct t *t = *state;
    struct req *r = call(t, "POST", "/v1/scheduler/dependency",
                         "{\"name\":\"report\",\"command\":\"make report\"}");
    assert_answer(r, 400, "application/json");
    assert_starts_with(error_message(r, "Bad Request"), "parents: ");
    r = call(t, "POST", "/v1/scheduler/dependency",
             "{\"name\":\"report\",\"command\":\"make report\",\"parents\":[]}");
    assert_answer(r, 400, "application/json");
    assert_starts_with(error_message(r, "Bad Request"), "parents: ");
    assert_int_equal(t->f.n_events, 0);
}

/* ---- Reading jobs ------------------------------------------------------------------- */

static json_t *body_json(const struct req *r)
{
    json_error_t je;
    json_t *v = json_loadb(r->out, r->out_len, 0, &je);
    if (v == NULL)
        fail_msg("body is not JSON (%s): %s", je.text, body_of(r));
    return v;
}

/* GET jobs: every published job, in registration order, as a JSON array;
 * the same at the 2.x path; jobs/summary names each with its status and
 * state. */
static void test_jobs_lists_every_job_on_both_prefixes(void **state)
{
    struct t *t = *state;
    struct req *r = call(t, "GET", "/v1/scheduler/jobs", NULL);
    assert_answer(r, 200, "application/json");
    assert_string_equal(body_of(r), "[]");
    publish(t, JOB_BETA);
    publish(t, JOB_ALPHA);
    r = call(t, "GET", "/v1/scheduler/jobs", NULL);
    assert_answer(r, 200, "application/json");
    json_t *v = body_json(r);
    assert_true(json_is_array(v));
    assert_int_equal(json_array_size(v), 2);
    assert_string_equal(json_string_value(json_object_get(json_array_get(v, 0), "name")), "beta");
    assert_string_equal(json_string_value(json_object_get(json_array_get(v, 1), "name")),
                        "alpha");
    assert_string_equal(json_string_value(json_object_get(json_array_get(v, 1), "command")),
                        "echo alpha");
    char *v1 = json_dumps(v, JSON_COMPACT);
    json_decref(v);
    /* The 2.x prefix: the same jobs, each with `async` as 2.x wrote it. */
    r = call(t, "GET", "/scheduler/jobs", NULL);
    assert_answer(r, 200, "application/json");
    v = body_json(r);
    for (size_t i = 0; i < json_array_size(v); i++) {
        assert_true(json_is_false(json_object_get(json_array_get(v, i), "async")));
        json_object_del(json_array_get(v, i), "async");
    }
    char *x2 = json_dumps(v, JSON_COMPACT);
    assert_string_equal(v1, x2);
    free(v1); /* lint: allow (jansson's allocation) */
    free(x2); /* lint: allow (jansson's allocation) */
    json_decref(v);
    /* The summary (rendered once per snapshot, sent from it). */
    r = call(t, "GET", "/v1/scheduler/jobs/summary", NULL);
    assert_answer(r, 200, "application/json");
    v = body_json(r);
    json_t *jobs = json_object_get(v, "jobs");
    assert_int_equal(json_array_size(jobs), 2);
    json_t *first = json_array_get(jobs, 0);
    assert_string_equal(json_string_value(json_object_get(first, "name")), "beta");
    assert_string_equal(json_string_value(json_object_get(first, "status")), "fresh");
    assert_string_equal(json_string_value(json_object_get(first, "state")), "idle");
    assert_string_equal(json_string_value(json_object_get(first, "schedule")),
                        "R/2031-01-01T00:00:00Z/PT1H");
    /* Ours beside Chronos's: the progress the job JSON leaves out. */
    assert_string_equal(json_string_value(json_object_get(first, "nextRunAt")),
                        "2031-01-01T00:00:00.000Z");
    assert_true(json_is_null(json_object_get(first, "remainingRepeats")));
    assert_true(json_is_null(json_object_get(first, "lastRunState")));
    json_decref(v);
    assert_int_equal(t->f.n_events, 0); /* reads never reach the scheduler */
}

/* The job JSON is exactly Chronos's shape: no progress in it; GET
 * job/{name}/status (on both prefixes) has that; an unknown job: 404. */
static void test_job_status_beside_the_job(void **state)
{
    struct t *t = *state;
    publish(t, JOB_ALPHA);
    struct req *r = call(t, "GET", "/v1/scheduler/job/alpha", NULL);
    assert_answer(r, 200, "application/json");
    json_t *v = body_json(r);
    static const char *const progress[] = {"nextRunAt", "remainingRepeats", "lastRunState",
                                           "lastRunAt", "retryAt", "taskTimeSeconds", "async"};
    for (size_t i = 0; i < sizeof progress / sizeof progress[0]; i++)
        if (json_object_get(v, progress[i]) != NULL)
            fail_msg("the job JSON has %s", progress[i]);
    json_decref(v);
    for (int k = 0; k < 2; k++) {
        r = call(t, "GET", k ? "/scheduler/job/alpha/status" : "/v1/scheduler/job/alpha/status",
                 NULL);
        assert_answer(r, 200, "application/json");
        v = body_json(r);
        assert_string_equal(json_string_value(json_object_get(v, "name")), "alpha");
        assert_string_equal(json_string_value(json_object_get(v, "status")), "fresh");
        assert_string_equal(json_string_value(json_object_get(v, "nextRunAt")),
                            "2031-01-01T00:00:00.000Z");
        assert_true(json_is_null(json_object_get(v, "lastRunState")));
        assert_true(json_is_number(json_object_get(v, "taskTimeSeconds")));
        json_decref(v);
    }
    r = call(t, "GET", "/scheduler/job/alpha", NULL); /* 2.x: async, as 2.x wrote it */
    assert_answer(r, 200, "application/json");
    v = body_json(r);
    assert_true(json_is_false(json_object_get(v, "async")));
    json_decref(v);
    r = call(t, "GET", "/v1/scheduler/job/nope/status", NULL);
    assert_answer(r, 404, "application/json");
    assert_string_equal(error_message(r, "Not Found"), "job 'nope' not found");
    r = call(t, "POST", "/v1/scheduler/job/alpha/status", NULL);
    assert_answer(r, 405, "application/json");
    assert_int_equal(t->f.n_events, 0);
}

/* GET job/{name}: the job; an unknown one is a 400 "job 'x' not found" (as
 * Chronos: README), an invalid name a 400 naming "name". */
static void test_get_job_and_unknown_job(void **state)
{
    struct t *t = *state;
    publish(t, JOB_ALPHA);
    struct req *r = call(t, "GET", "/v1/scheduler/job/alpha", NULL);
    assert_answer(r, 200, "application/json");
    json_t *v = body_json(r);
    assert_string_equal(json_string_value(json_object_get(v, "name")), "alpha");
    assert_string_equal(json_string_value(json_object_get(v, "schedule")),
                        "R/2031-01-01T00:00:00Z/P1D");
    json_decref(v);
    r = call(t, "GET", "/v1/scheduler/job/nope", NULL);
    assert_answer(r, 400, "application/json");
    assert_string_equal(error_message(r, "Bad Request"), "job 'nope' not found");
    r = call(t, "GET", "/v1/scheduler/job/a%20b", NULL); /* the path is decoded first */
    assert_answer(r, 400, "application/json");
    assert_starts_with(error_message(r, "Bad Request"), "name: 'a b' is not a valid job name");
    assert_int_equal(t->f.n_events, 0);
}

/* jobs/search?name=: a case-insensitive substring of the name; limit. */
static void test_search_by_name(void **state)
{
    struct t *t = *state;
    publish(t, JOB_ALPHA);
    publish(t, JOB_BETA);
    publish(t, "{\"name\":\"ALPHA-2\",\"command\":\"true\",\"schedule\":\"R/2031-01-01T00:00:00Z/P1D\"}");
    struct req *r = call(t, "GET", "/v1/scheduler/jobs/search?name=alp", NULL);
    assert_answer(r, 200, "application/json");
    json_t *v = body_json(r);
    assert_int_equal(json_array_size(v), 2);
    assert_string_equal(json_string_value(json_object_get(json_array_get(v, 0), "name")),
                        "alpha");
    assert_string_equal(json_string_value(json_object_get(json_array_get(v, 1), "name")),
                        "ALPHA-2");
    json_decref(v);
    r = call(t, "GET", "/v1/scheduler/jobs/search?name=alp&limit=1", NULL);
    assert_answer(r, 200, "application/json");
    v = body_json(r);
    assert_int_equal(json_array_size(v), 1);
    json_decref(v);
    r = call(t, "GET", "/v1/scheduler/jobs/search?name=zzz", NULL);
    assert_answer(r, 200, "application/json"); /* never 204 (README) */
    assert_string_equal(body_of(r), "[]");
    r = call(t, "GET", "/v1/scheduler/jobs/search?limit=many", NULL);
    assert_answer(r, 400, "application/json");
    assert_starts_with(error_message(r, "Bad Request"), "limit: 'many' is not an integer");
}

/* graph/dot and graph/csv: text, one node per job, one edge per parent. */
static void test_graph_dot_and_csv(void **state)
{
    struct t *t = *state;
    publish(t, JOB_ALPHA);
    publish(t, "{\"name\":\"child\",\"command\":\"true\",\"parents\":[\"alpha\"]}");
    struct req *r = call(t, "GET", "/v1/scheduler/graph/csv", NULL);
    assert_answer(r, 200, "text/plain");
    assert_string_equal(body_of(r), "node,alpha,fresh,idle\nnode,child,fresh,idle\n"
                                    "link,alpha,child\n");
    r = call(t, "GET", "/scheduler/graph/dot", NULL);
    assert_answer(r, 200, "text/plain");
    assert_string_equal(body_of(r), "digraph G {\n  1 [ label=\"alpha\" ];\n"
                                    "  2 [ label=\"child\" ];\n  1 -> 2;\n}\n");
}

/* ---- Named mutations ------------------------------------------------------------------- */

/* DELETE job/{name}: 204 and one DELETE_JOB for that name. */
static void test_delete_job_is_one_event(void **state)
{
    struct t *t = *state;
    struct req *r = call(t, "DELETE", "/v1/scheduler/job/alpha", NULL);
    assert_answer(r, 204, NULL);
    assert_int_equal(t->f.n_events, 1);
    assert_int_equal(t->f.ev[0].type, CHR_EV_DELETE_JOB);
    assert_string_equal(t->f.ev[0].name, "alpha");
    assert_false(t->f.ev[0].had_arguments);
    assert_false(t->f.ev[0].force);
    /* ?force=true|1 forces it (re-links or reschedules the dependents);
     * false|0 does not; anything else is a 400 naming it, sending nothing. */
    static const char *const forced[] = {"true", "1"}, *const not_forced[] = {"false", "0"};
    char path[64];
    for (size_t i = 0; i < 2; i++) {
        snprintf(path, sizeof path, "/v1/scheduler/job/alpha?force=%s", forced[i]);
        r = call(t, "DELETE", path, NULL);
        assert_answer(r, 204, NULL);
        assert_true(t->f.ev[t->f.n_events - 1].force);
        snprintf(path, sizeof path, "/scheduler/job/alpha?force=%s", not_forced[i]);
        r = call(t, "DELETE", path, NULL);
        assert_answer(r, 204, NULL);
        assert_false(t->f.ev[t->f.n_events - 1].force);
    }
    size_t n = t->f.n_events;
    r = call(t, "DELETE", "/v1/scheduler/job/alpha?force=yes", NULL);
    assert_answer(r, 400, "application/json");
    assert_string_equal(error_message(r, "Bad Request"), "force: 'yes' is not true or false");
    assert_int_equal(t->f.n_events, n);
}

/* PUT job/{name}: a manual run; repeated ?arguments= travel in order as a
 * JSON array (run_cmd.h), decoded; none, or one blank, is the job's own. */
static void test_manual_run_with_arguments(void **state)
{
    struct t *t = *state;
    struct req *r = call(t, "PUT", "/v1/scheduler/job/alpha?arguments=a&arguments=b%20c%3Bid",
                         NULL);
    assert_answer(r, 204, NULL);
    assert_int_equal(t->f.n_events, 1);
    assert_int_equal(t->f.ev[0].type, CHR_EV_RUN_JOB);
    assert_string_equal(t->f.ev[0].name, "alpha");
    assert_string_equal(t->f.ev[0].arguments, "[\"a\",\"b c;id\"]");
    r = call(t, "PUT", "/v1/scheduler/job/alpha", NULL);
    assert_answer(r, 204, NULL);
    r = call(t, "PUT", "/scheduler/job/alpha?arguments=", NULL);
    assert_answer(r, 204, NULL);
    assert_int_equal(t->f.n_events, 3);
    assert_false(t->f.ev[1].had_arguments);
    assert_false(t->f.ev[2].had_arguments);
}

/* More than CHR_JOB_ARGUMENTS_MAX arguments: 400 naming "arguments", no run. */
static void test_manual_run_too_many_arguments(void **state)
{
    struct t *t = *state;
    char target[4096];
    size_t n = (size_t)snprintf(target, sizeof target, "/v1/scheduler/job/alpha?");
    for (int i = 0; i <= CHR_JOB_ARGUMENTS_MAX; i++)
        n += (size_t)snprintf(target + n, sizeof target - n, "%sarguments=x", i ? "&" : "");
    assert_true(n < sizeof target);
    struct req *r = call(t, "PUT", target, NULL);
    assert_answer(r, 400, "application/json");
    assert_starts_with(error_message(r, "Bad Request"), "arguments: more than");
    assert_int_equal(t->f.n_events, 0);
}

/* DELETE task/kill/{name}: one KILL_JOB; other methods 405. */
static void test_task_kill(void **state)
{
    struct t *t = *state;
    struct req *r = call(t, "DELETE", "/v1/scheduler/task/kill/alpha", NULL);
    assert_answer(r, 204, NULL);
    assert_int_equal(t->f.n_events, 1);
    assert_int_equal(t->f.ev[0].type, CHR_EV_KILL_JOB);
    assert_string_equal(t->f.ev[0].name, "alpha");
    r = call(t, "POST", "/v1/scheduler/task/kill/alpha", NULL);
    assert_answer(r, 405, "application/json");
    assert_string_equal(error_message(r, "Method Not Allowed"),
                        "method POST is not allowed on /v1/scheduler/task/kill/alpha (use DELETE)");
    assert_int_equal(t->f.n_events, 1);
}

/* POST /v1/notify/test: the scheduler's answer as it is; {"job": NAME}
 * about a job the read model has (404 if not); a bad body or name is a 400
 * naming the field, another method a 405; a refusal (too many tests at
 * once) a 503; nothing is a mutation of the scheduler. */
static void test_notify_test(void **state)
{
    struct t *t = *state;
    struct req *r = call(t, "POST", "/v1/notify/test", NULL);
    assert_answer(r, 200, "application/json");
    assert_contains(body_of(r), "\"result\":\"sent\"");
    assert_int_equal(t->f.n_tests, 1);
    assert_string_equal(t->f.test_job, "");
    publish(t, JOB_ALPHA);
    r = call(t, "POST", "/v1/notify/test", "{\"job\":\"alpha\"}");
    assert_answer(r, 200, "application/json");
    assert_string_equal(t->f.test_job, "alpha");
    assert_contains(body_of(r), "\"job\":\"alpha\"");
    r = call(t, "POST", "/v1/notify/test", "{\"job\":\"nosuchjob\"}");
    assert_answer(r, 404, "application/json");
    assert_string_equal(error_message(r, "Not Found"), "job 'nosuchjob' not found");
    r = call(t, "POST", "/v1/notify/test", "{\"job\":\"no such job\"}");
    assert_answer(r, 400, "application/json");
    assert_starts_with(error_message(r, "Bad Request"), "job: 'no such job' is not a valid");
    r = call(t, "POST", "/v1/notify/test", "{\"jbo\":\"alpha\"}");
    assert_answer(r, 400, "application/json");
    assert_starts_with(error_message(r, "Bad Request"), "jbo: unknown field");
    r = call(t, "POST", "/v1/notify/test", "[1]");
    assert_answer(r, 400, "application/json");
    assert_starts_with(error_message(r, "Bad Request"), "body: expected {}");
    r = call(t, "GET", "/v1/notify/test", NULL);
    assert_answer(r, 405, "application/json");
    assert_int_equal(t->f.n_tests, 2);
    t->f.mode = ANSWER_REFUSE;
    t->f.refuse = CHR_ERANGE;
    r = call(t, "POST", "/v1/notify/test", "{}");
    assert_answer(r, 503, "application/json");
    assert_starts_with(error_message(r, "Service Unavailable"), "too many notification tests");
    assert_int_equal(t->f.n_events, 0);
}

/* PUT job/success/{name}: 200 with Chronos's sentence, once the scheduler
 * said yes. */
static void test_mark_success_answers_chronos_sentence(void **state)
{
    struct t *t = *state;
    struct req *r = call(t, "PUT", "/v1/scheduler/job/success/alpha", NULL);
    assert_answer(r, 200, "text/plain");
    assert_string_equal(body_of(r), "marked job alpha as successful: true");
    assert_int_equal(t->f.n_events, 1);
    assert_int_equal(t->f.ev[0].type, CHR_EV_MARK_SUCCESS);
}

/* ---- The scheduler's answers ------------------------------------------------------- */

/* A mutation is answered only when the scheduler answers (once durable):
 * until then the request waits, with no answer set. */
static void test_mutation_waits_for_the_scheduler(void **state)
{
    struct t *t = *state;
    t->f.mode = ANSWER_LATER;
    struct req *r = call(t, "DELETE", "/v1/scheduler/job/alpha", NULL);
    assert_int_equal(r->state, REQ_WAITING);
    assert_int_equal(r->status, 0);
    assert_int_equal(t->h.n_busy, 1);
    assert_int_equal(t->f.n_events, 1);
    t->f.later_done(t->f.later_ctx, CHR_OK, "deleted job 'alpha'");
    assert_answer(r, 204, NULL);
    assert_int_equal(t->h.n_busy, 0);
}

/* The scheduler's refusals: its message, with the status of its error. */
static void test_scheduler_errors_map_to_statuses(void **state)
{
    struct t *t = *state;
    static const struct {
        enum chr_err e;
        const char *message;
        unsigned status;
        const char *status_text;
    } cases[] = {
        {CHR_ENOENT, "job 'alpha' not found", 400, "Bad Request"},
        {CHR_EINVAL, "parents: unknown job 'ghost'", 400, "Bad Request"},
        {CHR_ECONFLICT, "job 'alpha' has dependents: child", 400, "Bad Request"},
        {CHR_EUNAVAIL, "store unavailable: No space left on device", 503, "Service Unavailable"},
        {CHR_ENOMEM, "out of memory", 500, "Internal Server Error"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        t->f.result = cases[i].e;
        t->f.message = cases[i].message;
        struct req *r = call(t, "DELETE", "/v1/scheduler/job/alpha", NULL);
        assert_answer(r, cases[i].status, "application/json");
        assert_string_equal(error_message(r, cases[i].status_text), cases[i].message);
    }
    /* With no message, the error's own sentence. */
    t->f.result = CHR_EUNAVAIL;
    t->f.message = NULL;
    struct req *r = call(t, "POST", "/v1/scheduler/iso8601", JOB_ALPHA);
    assert_answer(r, 503, "application/json");
    assert_string_equal(error_message(r, "Service Unavailable"), chr_err_message(CHR_EUNAVAIL));
    /* A refused success is an error, not Chronos's sentence. */
    t->f.result = CHR_ENOENT;
    t->f.message = "job 'alpha' not found";
    r = call(t, "PUT", "/v1/scheduler/job/success/alpha", NULL);
    assert_answer(r, 400, "application/json");
}

/* A scheduler that will not take the request (stopping, out of memory):
 * answered at once, 503 "the server is stopping" / 500. */
static void test_scheduler_refusing_the_request(void **state)
{
    struct t *t = *state;
    t->f.mode = ANSWER_REFUSE;
    t->f.refuse = CHR_EUNAVAIL;
    struct req *r = call(t, "POST", "/v1/scheduler/iso8601", JOB_ALPHA); /* its job is freed */
    assert_answer(r, 503, "application/json");
    assert_string_equal(error_message(r, "Service Unavailable"), "the server is stopping");
    r = call(t, "PUT", "/v1/scheduler/job/alpha?arguments=x", NULL);
    assert_answer(r, 503, "application/json");
    t->f.refuse = CHR_ENOMEM;
    r = call(t, "DELETE", "/v1/scheduler/job/alpha", NULL);
    assert_answer(r, 500, "application/json");
    assert_string_equal(error_message(r, "Internal Server Error"), chr_err_message(CHR_ENOMEM));
    assert_int_equal(t->h.n_busy, 0);
}

/* An API that is stopping takes no mutation: 503, the scheduler untouched. */
static void test_stopping_api_refuses_mutations(void **state)
{
    struct t *t = *state;
    t->h.stopping = true;
    struct req *r = call(t, "POST", "/v1/scheduler/iso8601", JOB_ALPHA);
    assert_answer(r, 503, "application/json");
    assert_string_equal(error_message(r, "Service Unavailable"), "the server is stopping");
    r = call(t, "DELETE", "/v1/scheduler/job/alpha", NULL);
    assert_answer(r, 503, "application/json");
    assert_int_equal(t->f.n_events, 0);
    r = call(t, "GET", "/v1/scheduler/jobs", NULL); /* reads go on */
    assert_answer(r, 200, "application/json");
}

/* ---- Server-wide endpoints ---------------------------------------------------------------- */

static void test_health_and_status_when_healthy(void **state)
{
    struct t *t = *state;
    publish(t, JOB_ALPHA);
    struct req *r = call(t, "GET", "/health", NULL);
    assert_answer(r, 200, "application/json");
    json_t *v = body_json(r);
    assert_string_equal(json_string_value(json_object_get(v, "status")), "ok");
    assert_string_equal(json_string_value(json_object_get(v, "role")), "leader");
    assert_string_equal(json_string_value(json_object_get(v, "leader")), "127.0.0.1:4400");
    assert_true(json_is_null(json_object_get(v, "reason"))); /* no reason to give */
    json_decref(v);
    r = call(t, "GET", "/v1/status", NULL);
    assert_answer(r, 200, "application/json");
    v = body_json(r);
    assert_true(json_is_true(json_object_get(v, "healthy")));
    assert_true(json_is_true(json_object_get(v, "isLeader")));
    assert_true(json_is_null(json_object_get(v, "unhealthyReason")));
    assert_string_equal(json_string_value(json_object_get(v, "version")), "test");
    assert_string_equal(json_string_value(json_object_get(v, "store")), "local");
    assert_int_equal(json_integer_value(json_object_get(v, "jobs")), 1);
    json_decref(v);
}

/* The scheduler cannot do its job: /health 503 with the reason; /v1/status
 * still 200, saying so (README). */
static void test_health_and_status_when_unhealthy(void **state)
{
    struct t *t = *state;
    t->f.unhealthy = true;
    t->f.why = "store unavailable: cannot write wal.1: No space left on device";
    struct req *r = call(t, "GET", "/health", NULL);
    assert_answer(r, 503, "application/json");
    json_t *v = body_json(r);
    assert_string_equal(json_string_value(json_object_get(v, "status")), "unavailable");
    assert_string_equal(json_string_value(json_object_get(v, "reason")), t->f.why);
    json_decref(v);
    r = call(t, "GET", "/v1/status", NULL);
    assert_answer(r, 200, "application/json");
    v = body_json(r);
    assert_true(json_is_false(json_object_get(v, "healthy")));
    assert_true(json_is_false(json_object_get(v, "isLeader")));
    assert_string_equal(json_string_value(json_object_get(v, "unhealthyReason")), t->f.why);
    json_decref(v);
}

/* A standby (no scheduler) answers /health itself: 503 until it knows a
 * leader, then 200 as a standby. */
static void test_health_of_a_standby(void **state)
{
    struct t *t = *state;
    t->h.sched = NULL;
    t->h.leader[0] = '\0';
    struct req *r = call(t, "GET", "/health", NULL);
    assert_answer(r, 503, "application/json");
    json_t *v = body_json(r);
    assert_string_equal(json_string_value(json_object_get(v, "role")), "standby");
    assert_starts_with(json_string_value(json_object_get(v, "reason")), "no leader");
    json_decref(v);
    snprintf(t->h.leader, sizeof t->h.leader, "10.0.0.2:4400");
    r = call(t, "GET", "/health", NULL);
    assert_answer(r, 200, "application/json");
    v = body_json(r);
    assert_string_equal(json_string_value(json_object_get(v, "status")), "ok");
    assert_string_equal(json_string_value(json_object_get(v, "leader")), "10.0.0.2:4400");
    json_decref(v);
}

/* /metrics: Prometheus text counting the requests answered before it (and
 * the errors among them); ?format=json; another format is a 400. */
static void test_metrics_counts_requests(void **state)
{
    struct t *t = *state;
    publish(t, JOB_ALPHA);
    call(t, "GET", "/ping", NULL);
    call(t, "GET", "/v1/scheduler/job/nope", NULL); /* 400 */
    call(t, "GET", "/nope", NULL);                  /* 404 */
    /* As Prometheus asks (its scrape's Accept). */
    t->accept = "application/openmetrics-text;version=1.0.0,application/openmetrics-text;"
                "version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1";
    struct req *r = call(t, "GET", "/metrics", NULL);
    t->accept = NULL;
    assert_answer(r, 200, "text/plain; version=0.0.4");
    assert_contains(body_of(r), "\nchronos_http_requests_total 3\n");
    assert_contains(body_of(r), "\nchronos_http_errors_total 2\n");
    assert_contains(body_of(r), "\nchronos_jobs_total 1\n");
    r = call(t, "GET", "/metrics?format=json", NULL);
    assert_answer(r, 200, "application/json");
    json_decref(body_json(r));
    /* No Accept, or any type (curl, chronos-python): Chronos's Dropwizard JSON. */
    r = call(t, "GET", "/metrics", NULL);
    assert_answer(r, 200, "application/json");
    json_t *v = body_json(r);
    assert_non_null(json_object_get(v, "counters"));
    json_decref(v);
    t->accept = "*/*";
    r = call(t, "GET", "/metrics?format=prometheus", NULL);
    t->accept = NULL;
    assert_answer(r, 200, "text/plain; version=0.0.4");
    r = call(t, "GET", "/metrics?format=xml", NULL);
    assert_answer(r, 400, "application/json");
    assert_string_equal(error_message(r, "Bad Request"),
                        "format: 'xml' is not 'prometheus' or 'json'");
}

static void test_ping_and_leader(void **state)
{
    struct t *t = *state;
    struct req *r = call(t, "GET", "/ping", NULL);
    assert_answer(r, 200, "text/plain");
    assert_string_equal(body_of(r), "pong");
    r = call(t, "GET", "/v1/scheduler/leader", NULL);
    assert_answer(r, 200, "application/json");
    assert_string_equal(body_of(r), "{\"leader\":\"127.0.0.1:4400\"}");
}

/* ---- Routing ---------------------------------------------------------------------------- */

static void test_unknown_paths_are_404(void **state)
{
    struct t *t = *state;
    static const char *const paths[] = {"/nope", "/v1/scheduler/nope", "/scheduler/jobs/nope",
                                        "/v1/scheduler/", "/v2/scheduler/jobs"};
    for (size_t i = 0; i < sizeof paths / sizeof paths[0]; i++) {
        struct req *r = call(t, "GET", paths[i], NULL);
        assert_answer(r, 404, "application/json");
        char want[128];
        snprintf(want, sizeof want, "no such endpoint: %s", paths[i]);
        assert_string_equal(error_message(r, "Not Found"), want);
    }
    struct req *r = call(t, "GET", "/v1/runs/ct:1:0:ghost", NULL); /* an unknown run */
    assert_answer(r, 404, "application/json");
    assert_string_equal(error_message(r, "Not Found"), "run 'ct:1:0:ghost' not found");
    assert_int_equal(t->f.n_events, 0);
}

/* A known path with a method it does not take: 405 naming what it takes;
 * nothing reaches the scheduler. */
static void test_wrong_method_is_405(void **state)
{
    struct t *t = *state;
    static const struct {
        const char *method, *path, *use;
    } cases[] = {
        {"GET", "/v1/scheduler/iso8601", "POST"},
        {"PUT", "/v1/scheduler/dependency", "POST"},
        {"DELETE", "/v1/scheduler/jobs", "GET"},
        {"POST", "/metrics", "GET"},
        {"DELETE", "/health", "GET"},
        {"POST", "/v1/scheduler/job/alpha", "GET, PUT or DELETE"},
        {"PATCH", "/scheduler/job/alpha", "GET, PUT or DELETE"},
        {"GET", "/v1/scheduler/job/success/alpha", "PUT"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct req *r = call(t, cases[i].method, cases[i].path, "{}");
        assert_answer(r, 405, "application/json");
        char want[160];
        snprintf(want, sizeof want, "method %s is not allowed on %s (use %s)", cases[i].method,
                 cases[i].path, cases[i].use);
        assert_string_equal(error_message(r, "Method Not Allowed"), want);
    }
    assert_int_equal(t->f.n_events, 0);
}

/* HEAD reads as GET (libmicrohttpd drops the body). */
static void test_head_is_a_read(void **state)
{
    struct t *t = *state;
    struct req *r = call(t, "HEAD", "/v1/scheduler/jobs", NULL);
    assert_answer(r, 200, "application/json");
    assert_int_equal(t->f.n_events, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_post_iso8601_hands_over_one_decoded_job, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_put_iso8601_and_dependency_on_the_2x_prefix, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_2x_task_callback, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unknown_fields_warn_or_refuse, setup, teardown),
        cmocka_unit_test_setup_teardown(test_dry_run_checks_and_keeps_nothing, setup, teardown),
        cmocka_unit_test_setup_teardown(test_post_iso8601_on_the_2x_prefix, setup, teardown),
        cmocka_unit_test_setup_teardown(test_post_container_job_without_runtime_warns, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_post_iso8601_refusals_name_the_field, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_post_dependency_hands_over_parents, setup, teardown),
        cmocka_unit_test_setup_teardown(test_post_dependency_needs_parents, setup, teardown),
        cmocka_unit_test_setup_teardown(test_jobs_lists_every_job_on_both_prefixes, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_get_job_and_unknown_job, setup, teardown),
        cmocka_unit_test_setup_teardown(test_job_status_beside_the_job, setup, teardown),
        cmocka_unit_test_setup_teardown(test_search_by_name, setup, teardown),
        cmocka_unit_test_setup_teardown(test_graph_dot_and_csv, setup, teardown),
        cmocka_unit_test_setup_teardown(test_delete_job_is_one_event, setup, teardown),
        cmocka_unit_test_setup_teardown(test_manual_run_with_arguments, setup, teardown),
        cmocka_unit_test_setup_teardown(test_manual_run_too_many_arguments, setup, teardown),
        cmocka_unit_test_setup_teardown(test_task_kill, setup, teardown),
        cmocka_unit_test_setup_teardown(test_notify_test, setup, teardown),
        cmocka_unit_test_setup_teardown(test_mark_success_answers_chronos_sentence, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_mutation_waits_for_the_scheduler, setup, teardown),
        cmocka_unit_test_setup_teardown(test_scheduler_errors_map_to_statuses, setup, teardown),
        cmocka_unit_test_setup_teardown(test_scheduler_refusing_the_request, setup, teardown),
        cmocka_unit_test_setup_teardown(test_stopping_api_refuses_mutations, setup, teardown),
        cmocka_unit_test_setup_teardown(test_health_and_status_when_healthy, setup, teardown),
        cmocka_unit_test_setup_teardown(test_health_and_status_when_unhealthy, setup, teardown),
        cmocka_unit_test_setup_teardown(test_health_of_a_standby, setup, teardown),
        cmocka_unit_test_setup_teardown(test_metrics_counts_requests, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ping_and_leader, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unknown_paths_are_404, setup, teardown),
        cmocka_unit_test_setup_teardown(test_wrong_method_is_405, setup, teardown),
        cmocka_unit_test_setup_teardown(test_head_is_a_read, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
