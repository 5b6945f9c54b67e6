/*
 * test_dash.c - the dashboard's endpoints (api/dash.c, the change log and
 * counts of api/view.c, and their routes): jobs published through a real
 * core into a real read model, the routes called in-process with no socket
 * (as test_routes.c does).  What is asserted: a page of the list is
 * searched, filtered, sorted and paged as asked, with the counts of every
 * job; a bad argument is a 400 naming it; a poll answers the jobs changed
 * since its cursor and nothing else, a removed job as removed, a cursor of
 * another view or older than the change log as "reset"; the running counts
 * equal a recount after every change.
 */
#include "../unit.h"

#include <jansson.h>
#include <pthread.h>

#include "common/alloc.h"
#include "common/limits.h"
#include "api/dash.h"
#include "api/http_int.h"
#include "api/job_json.h"
#include "api/metrics.h"
#include "api/view.h"

struct t {
    struct chr_sched sched; /* first */
    struct chr_view *view;
    struct chr_metrics *metrics;
    struct chr_tzdb *tzdb;
    struct chr_http h;
    struct chr_core *core;
    int64_t now;
    uint64_t req_id;
    struct req r;
    char url[256];
    char *keys[16], *vals[16];
    size_t n_args;
};

static struct chr_view *f_view(struct chr_sched *s) { return ((struct t *)s)->view; }
static struct chr_metrics *f_metrics(struct chr_sched *s) { return ((struct t *)s)->metrics; }
static struct chr_tzdb *f_tzdb(struct chr_sched *s) { return ((struct t *)s)->tzdb; }
static bool f_healthy(struct chr_sched *s, char *why, size_t cap)
{
    (void)s, (void)why, (void)cap;
    return true;
}
static enum chr_err f_request(struct chr_sched *s, struct chr_event *ev, chr_sched_done_fn *done,
                              void *ctx)
{
    (void)s, (void)ev, (void)done, (void)ctx;
    fail_msg("the dashboard's reads hand the scheduler nothing");
    return CHR_EINVAL;
}
static const struct chr_sched_ops ops = {f_request, f_view, f_metrics, f_tzdb, f_healthy,
                                         NULL,      NULL,   NULL};

/* ---- Publishing, as the loop does ---------------------------------------------- */

static void step_durable(struct t *t, struct chr_event *ev)
{
    struct chr_actions a = {NULL, 0};
    chr_core_step(t->core, t->now, ev, &a);
    uint64_t batch = 0;
    for (size_t i = 0; i < a.n; i++)
        if (a.v[i].type == CHR_ACT_PERSIST)
            batch = a.v[i].u.persist.batch_id;
    assert_true(batch != 0);
    struct chr_event done = {.type = CHR_EV_STORE_DONE};
    done.u.store.batch_id = batch;
    done.u.store.result = CHR_OK;
    chr_core_step(t->core, t->now, &done, &a);
    chr_view_flush(t->view, t->core);
}

static void publish(struct t *t, const char *json)
{
    struct chr_error err = {{0}, {0}};
    struct chr_event ev = {.type = CHR_EV_PUT_JOB, .request_id = ++t->req_id};
    if (chr_job_from_json(json, strlen(json), &t->h.cfg.defaults, CHR_JOB_HINT_ANY, t->now,
                          &ev.u.job.job, &err) != CHR_OK)
        fail_msg("fixture job does not parse: %s", err.message);
    chr_view_touch(t->view, ev.u.job.job.name);
    step_durable(t, &ev);
}

static void delete_job(struct t *t, const char *name)
{
    struct chr_event ev = {.type = CHR_EV_DELETE_JOB, .request_id = ++t->req_id};
    ev.u.named.name = name;
    chr_view_touch(t->view, name);
    step_durable(t, &ev);
}

static void put(struct t *t, const char *name, const char *extra)
{
    char json[1024];
    snprintf(json, sizeof json,
             "{\"name\":\"%s\",\"command\":\"echo %s\",\"schedule\":\"R/2031-01-01T00:00:00Z/P1D\"%s}",
             name, name, extra ? extra : "");
    publish(t, json);
}

/* ---- Requests ----------------------------------------------------------------------- */

static const char *tab_get(void *ctx, const char *key)
{
    struct t *t = ctx;
    for (size_t i = 0; i < t->n_args; i++)
        if (strcmp(t->keys[i], key) == 0)
            return t->vals[i];
    return NULL;
}

static size_t tab_all(void *ctx, const char *key, const char **out, size_t max)
{
    struct t *t = ctx;
    size_t n = 0;
    for (size_t i = 0; i < t->n_args && n < max; i++)
        if (strcmp(t->keys[i], key) == 0)
            out[n++] = t->vals[i];
    return n;
}

static void clear_request(struct t *t)
{
    chr_free(t->r.out);
    for (size_t i = 0; i < t->n_args; i++) {
        chr_free(t->keys[i]);
        chr_free(t->vals[i]);
    }
    t->n_args = 0;
    memset(&t->r, 0, sizeof t->r);
}

/* GET target ("path?k=v&k=v", already decoded: no '%' in tests). */
static struct req *call(struct t *t, const char *method, const char *target)
{
    clear_request(t);
    const char *q = strchr(target, '?');
    size_t n = q ? (size_t)(q - target) : strlen(target);
    snprintf(t->url, sizeof t->url, "%.*s", (int)n, target);
    while (q != NULL && *++q != '\0') {
        const char *amp = strchr(q, '&'), *eq = strchr(q, '=');
        size_t len = amp ? (size_t)(amp - q) : strlen(q);
        assert_true(eq != NULL && eq < q + len && t->n_args < 16);
        t->keys[t->n_args] = chr_strndup(q, (size_t)(eq - q));
        t->vals[t->n_args] = chr_strndup(eq + 1, len - (size_t)(eq - q) - 1);
        t->n_args++;
        q = amp;
    }
    t->r.h = &t->h;
    t->r.sched = &t->sched;
    t->r.args = (struct chr_http_args){tab_get, tab_all, t};
    chr_routes_dispatch(&t->r, t->url, method);
    assert_int_equal(t->r.state, REQ_DONE);
    return &t->r;
}

/* The answer as JSON (owned by the caller), asserting the status. */
static json_t *answer_json(struct req *r, unsigned status)
{
    if (r->status != status)
        fail_msg("status %u, want %u: %s", r->status, status, r->out ? r->out : "");
    json_error_t je;
    json_t *v = json_loadb(r->out, r->out_len, 0, &je);
    if (v == NULL)
        fail_msg("not JSON: %s", r->out ? r->out : "");
    return v;
}

static json_t *list(struct t *t, const char *target)
{
    return answer_json(call(t, "GET", target), 200);
}

/* The names of a list's (or a poll's "changed") rows, comma-separated. */
static const char *names(json_t *rows, char *buf, size_t cap)
{
    size_t used = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < json_array_size(rows); i++)
        used += (size_t)snprintf(buf + used, cap - used, "%s%s", i ? "," : "",
                                 json_string_value(json_object_get(json_array_get(rows, i), "name")));
    return buf;
}

static const char *message(struct req *r)
{
    static char m[512];
    json_t *v = answer_json(r, 400);
    snprintf(m, sizeof m, "%s", json_string_value(json_object_get(v, "message")));
    json_decref(v);
    return m;
}

static json_int_t count_of(json_t *v, const char *key)
{
    return json_integer_value(json_object_get(json_object_get(v, "counts"), key));
}

/* ---- Fixture ------------------------------------------------------------------------- */

static int setup(void **state)
{
    struct t *t = chr_calloc(1, sizeof *t);
    assert_non_null(t);
    t->sched.ops = &ops;
    assert_int_equal(chr_view_create(&t->view), CHR_OK);
    assert_int_equal(chr_metrics_create(&t->metrics), CHR_OK);
    assert_int_equal(chr_tzdb_create(NULL, &t->tzdb), CHR_OK);
    t->h.cfg = (struct chr_http_config){.bind_addr = "127.0.0.1", .sched = &t->sched};
    chr_job_defaults_init(&t->h.cfg.defaults);
    t->h.sched = &t->sched;
    pthread_mutex_init(&t->h.mu, NULL);
    pthread_cond_init(&t->h.cond, NULL);
    struct chr_core_config cc = {.tzdb = t->tzdb, .default_cpus = 0.1, .default_mem_mb = 128,
                                 .default_disk_mb = 256, .default_retry_delay_ms = 60000,
                                 .offer_refuse_ms = 5000, .history_max = 5};
    assert_int_equal(chr_core_create(&cc, &t->core), CHR_OK);
    t->now = T("2030-01-01T00:00:00Z");
    struct chr_event loaded = {.type = CHR_EV_LOAD_DONE};
    struct chr_actions a;
    chr_core_step(t->core, t->now, &loaded, &a);
    chr_view_rebuild(t->view, t->core);
    /* Five jobs: two cron (delta's due now), one ISO disabled, a dependent, owners of two kinds. */
    put(t, "alpha", ",\"owner\":\"ops@example.com\"");
    put(t, "beta", ",\"owner\":\"Dev@Example.com\",\"disabled\":true");
    publish(t, "{\"name\":\"gamma\",\"command\":\"backup --all\",\"schedule\":\"0 3 * * *\","
               "\"owner\":\"dev@example.com\"}");
    publish(t, "{\"name\":\"delta\",\"command\":\"true\",\"schedule\":\"*/5 * * * *\"}");
    publish(t, "{\"name\":\"child\",\"command\":\"true\",\"parents\":[\"alpha\"]}");
    *state = t;
    return 0;
}

static int teardown(void **state)
{
    struct t *t = *state;
    clear_request(t);
    pthread_cond_destroy(&t->h.cond);
    pthread_mutex_destroy(&t->h.mu);
    chr_view_destroy(t->view);
    chr_core_destroy(t->core);
    chr_metrics_destroy(t->metrics);
    chr_tzdb_destroy(t->tzdb);
    chr_free(t);
    return 0;
}

/* ---- The list ------------------------------------------------------------------------- */

static void test_list_all_sorted_with_counts(void **state)
{
    struct t *t = *state;
    char b[256];
    json_t *v = list(t, "/v1/dashboard/jobs");
    assert_string_equal(names(json_object_get(v, "jobs"), b, sizeof b), "alpha,beta,child,delta,gamma");
    assert_int_equal(json_integer_value(json_object_get(v, "total")), 5);
    assert_int_equal(json_integer_value(json_object_get(v, "matched")), 5);
    assert_int_equal(count_of(v, "total"), 5);
    assert_int_equal(count_of(v, "disabled"), 1);
    assert_int_equal(count_of(v, "failing"), 0);
    json_t *child = json_array_get(json_object_get(v, "jobs"), 2);
    assert_string_equal(json_string_value(json_object_get(child, "kind")), "dependent");
    assert_true(json_is_null(json_object_get(child, "schedule")));
    assert_string_equal(json_string_value(json_array_get(json_object_get(child, "parents"), 0)), "alpha");
    json_decref(v);
    v = list(t, "/v1/dashboard/jobs?sort=name&order=desc&offset=1&limit=2");
    assert_string_equal(names(json_object_get(v, "jobs"), b, sizeof b), "delta,child");
    assert_int_equal(json_integer_value(json_object_get(v, "matched")), 5);
    json_decref(v);
}

static void test_list_search_and_filters(void **state)
{
    struct t *t = *state;
    char b[256];
    static const struct {
        const char *target, *want;
    } cases[] = {
        {"/v1/dashboard/jobs?q=ALP", "alpha"},             /* name, case folded */
        {"/v1/dashboard/jobs?q=backup", "gamma"},          /* command */
        {"/v1/dashboard/jobs?q=dev@", "beta,gamma"},       /* owner */
        {"/v1/dashboard/jobs?state=disabled", "beta"},
        /* delta's cron fires every 5 minutes: its run of now waits to start. */
        {"/v1/dashboard/jobs?state=idle", "alpha,beta,child,gamma"},
        {"/v1/dashboard/jobs?state=waiting", "delta"},
        {"/v1/dashboard/jobs?state=failing", ""},
        {"/v1/dashboard/jobs?kind=cron", "delta,gamma"},
        {"/v1/dashboard/jobs?kind=iso8601", "alpha,beta"},
        {"/v1/dashboard/jobs?kind=dependent", "child"},
        {"/v1/dashboard/jobs?owner=dev@example.com", "beta,gamma"}, /* equal, folded */
        {"/v1/dashboard/jobs?owner=dev@", ""},
        {"/v1/dashboard/jobs?parent=alpha", "child"},
        {"/v1/dashboard/jobs?parent=beta", ""},
        {"/v1/dashboard/jobs?kind=cron&q=backup", "gamma"},
        {"/v1/dashboard/jobs?sort=owner", "child,delta,beta,gamma,alpha"}, /* "" first, then folded */
        {"/v1/dashboard/jobs?sort=status", "delta,alpha,child,gamma,beta"}, /* waiting first, disabled last */
        {"/v1/dashboard/jobs?q=", "alpha,beta,child,delta,gamma"}, /* empty: not given */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        json_t *v = list(t, cases[i].target);
        if (strcmp(names(json_object_get(v, "jobs"), b, sizeof b), cases[i].want) != 0)
            fail_msg("%s: got '%s', want '%s'", cases[i].target, b, cases[i].want);
        assert_int_equal(count_of(v, "total"), 5); /* the counts are of every job */
        json_decref(v);
    }
}

static void test_list_bad_arguments_name_them(void **state)
{
    struct t *t = *state;
    static const struct {
        const char *target, *prefix;
    } cases[] = {
        {"/v1/dashboard/jobs?state=broken", "state: 'broken' is not failing"},
        {"/v1/dashboard/jobs?kind=weekly", "kind: 'weekly' is not"},
        {"/v1/dashboard/jobs?sort=size", "sort: 'size' is not"},
        {"/v1/dashboard/jobs?order=up", "order: 'up' is not asc or desc"},
        {"/v1/dashboard/jobs?limit=0", "limit: '0' is not an integer from 1 to 1000"},
        {"/v1/dashboard/jobs?limit=1001", "limit: '1001' is not"},
        {"/v1/dashboard/jobs?offset=-1", "offset: '-1' is not"},
        {"/v1/dashboard/jobs?offset=1x", "offset: '1x' is not"},
        {"/v1/dashboard/jobs?parent=a/b", "parent: 'a/b' is not a job name"},
        {"/v1/dashboard/changes?since=abc", "since: 'abc' is not a cursor"},
        {"/v1/dashboard/changes?since=1.", "since: '1.' is not a cursor"},
        {"/v1/dashboard/changes", "since: missing"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const char *m = message(call(t, "GET", cases[i].target));
        if (strncmp(m, cases[i].prefix, strlen(cases[i].prefix)) != 0)
            fail_msg("%s: '%s' does not start with '%s'", cases[i].target, m, cases[i].prefix);
    }
    char q[CHR_DASH_QUERY_MAX + 40];
    snprintf(q, sizeof q, "/v1/dashboard/jobs?q=%0*d", CHR_DASH_QUERY_MAX + 1, 0);
    assert_true(strncmp(message(call(t, "GET", q)), "q: ", 3) == 0);
    assert_int_equal(call(t, "POST", "/v1/dashboard/jobs")->status, 405);
}

/* ---- Changes ------------------------------------------------------------------------- */

static char *cursor_of(json_t *v)
{
    const char *c = json_string_value(json_object_get(v, "cursor"));
    assert_non_null(c);
    return chr_strndup(c, strlen(c));
}

static json_t *poll_since(struct t *t, const char *cursor)
{
    char target[128];
    snprintf(target, sizeof target, "/v1/dashboard/changes?since=%s", cursor);
    return list(t, target);
}

static void test_changes_since_a_cursor(void **state)
{
    struct t *t = *state;
    char b[256];
    json_t *v = list(t, "/v1/dashboard/jobs?limit=1");
    char *c0 = cursor_of(v);
    json_decref(v);
    /* Nothing changed: nothing to say, the same cursor. */
    v = poll_since(t, c0);
    assert_false(json_is_true(json_object_get(v, "reset")));
    assert_int_equal(json_array_size(json_object_get(v, "changed")), 0);
    assert_int_equal(json_array_size(json_object_get(v, "removed")), 0);
    assert_string_equal(json_string_value(json_object_get(v, "cursor")), c0);
    json_decref(v);
    /* One job changed twice and one new: each once, newest first. */
    put(t, "beta", ",\"disabled\":false");
    put(t, "epsilon", NULL);
    put(t, "beta", ",\"disabled\":true");
    v = poll_since(t, c0);
    assert_string_equal(names(json_object_get(v, "changed"), b, sizeof b), "beta,epsilon");
    assert_true(json_is_true(json_object_get(json_array_get(json_object_get(v, "changed"), 0), "disabled")));
    assert_int_equal(count_of(v, "total"), 6);
    assert_int_equal(count_of(v, "disabled"), 1);
    char *c1 = cursor_of(v);
    json_decref(v);
    /* From the new cursor: a delete shows as removed, and only it. */
    delete_job(t, "epsilon");
    v = poll_since(t, c1);
    assert_int_equal(json_array_size(json_object_get(v, "changed")), 0);
    assert_string_equal(json_string_value(json_array_get(json_object_get(v, "removed"), 0)), "epsilon");
    assert_int_equal(count_of(v, "total"), 5);
    json_decref(v);
    /* Another view's cursor, and one from the future: reset. */
    char other[64];
    snprintf(other, sizeof other, "%lld.0", (long long)chr_view_epoch(t->view) + 1);
    v = poll_since(t, other);
    assert_true(json_is_true(json_object_get(v, "reset")));
    json_decref(v);
    snprintf(other, sizeof other, "%lld.999999", (long long)chr_view_epoch(t->view));
    v = poll_since(t, other);
    assert_true(json_is_true(json_object_get(v, "reset")));
    json_decref(v);
    chr_free(c0);
    chr_free(c1);
}

/* More changes than the log keeps: an old cursor resets, a recent one does not. */
static void test_changes_older_than_the_log_reset(void **state)
{
    struct t *t = *state;
    json_t *v = list(t, "/v1/dashboard/jobs?limit=1");
    char *old = cursor_of(v);
    json_decref(v);
    uint64_t gen = 0, since = strtoull(strchr(old, '.') + 1, NULL, 10);
    char **n = NULL;
    size_t k = 0;
    struct chr_view_counts c;
    for (int i = 0; i <= CHR_VIEW_CHANGES_MAX / 2; i++) { /* each put of beta: 1 change */
        put(t, "beta", i % 2 ? ",\"disabled\":true" : ",\"disabled\":false");
        put(t, "alpha", NULL);
    }
    assert_int_equal(chr_view_changes(t->view, since, &n, &k, &gen, &c), CHR_ERANGE);
    v = poll_since(t, old);
    assert_true(json_is_true(json_object_get(v, "reset")));
    char *recent = cursor_of(v);
    json_decref(v);
    put(t, "gamma", NULL);
    v = poll_since(t, recent);
    assert_false(json_is_true(json_object_get(v, "reset")));
    assert_int_equal(json_array_size(json_object_get(v, "changed")), 1);
    json_decref(v);
    chr_free(old);
    chr_free(recent);
}

/* The running counts equal a recount of the snapshot after every change. */
static void test_counts_follow_every_change(void **state)
{
    struct t *t = *state;
    const char *steps[] = {",\"disabled\":true", ",\"disabled\":false", NULL, ",\"disabled\":true"};
    for (size_t i = 0; i < 4; i++) {
        put(t, i % 2 ? "alpha" : "zeta", steps[i]);
        if (i == 2)
            delete_job(t, "zeta");
        char **n = NULL;
        size_t k = 0;
        uint64_t gen = 0;
        struct chr_view_counts c;
        assert_int_equal(chr_view_changes(t->view, 0, &n, &k, &gen, &c), CHR_OK);
        chr_view_names_free(n, k);
        const struct chr_view_snap *s = chr_view_snapshot(t->view);
        uint64_t disabled = 0;
        for (size_t j = 0; j < s->n; j++)
            disabled += (chr_view_job_flags(s->jobs[j]) & CHR_VIEW_DISABLED) != 0;
        assert_int_equal(c.total, s->n);
        assert_int_equal(c.disabled, disabled);
        assert_int_equal(gen, s->gen);
        chr_view_snap_release(s);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_list_all_sorted_with_counts, setup, teardown),
        cmocka_unit_test_setup_teardown(test_list_search_and_filters, setup, teardown),
        cmocka_unit_test_setup_teardown(test_list_bad_arguments_name_them, setup, teardown),
        cmocka_unit_test_setup_teardown(test_changes_since_a_cursor, setup, teardown),
        cmocka_unit_test_setup_teardown(test_changes_older_than_the_log_reset, setup, teardown),
        cmocka_unit_test_setup_teardown(test_counts_follow_every_change, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
