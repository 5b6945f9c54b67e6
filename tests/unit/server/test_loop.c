/*
 * test_loop.c - the scheduler thread's dispatch (server/loop.c), for real:
 * a loop started on a local store in a temporary directory and a local
 * resource manager with a temporary runs directory, driven through
 * chr_loop_sched's table as the API drives it.
 *
 * What is asserted is the loop's contract (loop.h, docs/design.md "Data
 * flows"): a request is answered once, after its batch is durable, and by
 * then the read model shows it (and the store holds it); a replace replaces,
 * a delete removes; what the core refuses (unknown job, unknown parent, a
 * cycle, a bad schedule, a job others depend on) is answered with the
 * core's sentence and changes nothing; a write the store fails is answered
 * with an error and never shown, and the loop then refuses writes and says
 * it is unhealthy; once chr_loop_stop begins, requests are refused (done
 * never fires) and those still queued are answered CHR_EUNAVAIL.  Jobs are
 * due far in the future, so nothing launches unless a test asks: one manual
 * run of `true` goes through the whole chain (record, launch, supervisor,
 * outcome).  The supervisor is this binary: main() answers `run-task` as
 * `chronos run-task` does, and the loop runs /proc/self/exe.
 *
 * Every wait is bounded: a deadline, polled or on a condition variable.
 */
#include "../unit.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <unistd.h>

#include "common/alloc.h"
#include "common/clock.h"
#include "api/job_json.h"
#include "api/metrics.h"
#include "api/render.h"
#include "api/view.h"
#include "offers/local.h"
#include "server/persist.h"
#include "server/loop.h"
#include "zkstore/store.h"

#include "../zkstore/fixture.h"

/* Generous: ASan, and a machine busy with other work. */
#define WAIT_MS 30000
#define ROOT "/chronos"
#define FUTURE "R/2090-01-01T00:00:00Z/P1D"

struct lt {
    char tmp[64];
    char store_dir[96], runs_dir[96];
    struct chr_store *store;
    struct chr_tzdb *tzdb;
    struct chr_loop *loop;
    struct chr_sched *sched;
    struct chr_job_defaults defaults;
};

/* ---- Answers ----------------------------------------------------------------------- */

/* One request's answer, and what was true when it came (on the scheduler
 * thread): did the read model show `probe`, did the store hold it. */
struct answer {
    pthread_mutex_t mu;
    pthread_cond_t cond;
    int calls;
    enum chr_err result;
    char message[CHR_ERROR_MESSAGE_MAX + 64];
    struct lt *t;
    const char *probe;
    bool view_had, store_had;
    char view_command[64]; /* the shown job's command */
};

static void answer_init(struct answer *a, struct lt *t, const char *probe)
{
    memset(a, 0, sizeof *a);
    pthread_mutex_init(&a->mu, NULL);
    pthread_cond_init(&a->cond, NULL);
    a->t = t;
    a->probe = probe;
    a->result = CHR_ENONE;
}

static void answer_destroy(struct answer *a)
{
    pthread_cond_destroy(&a->cond);
    pthread_mutex_destroy(&a->mu);
}

static bool store_has_job(struct lt *t, const char *name)
{
    char path[CHR_STORE_PATH_MAX];
    assert_int_equal(chr_store_job_path(path, ROOT, name), CHR_OK);
    void *data = NULL;
    size_t len = 0;
    int32_t version = 0;
    enum chr_err e = chr_store_get(t->store, path, &data, &len, &version);
    chr_free(data);
    return e == CHR_OK;
}

static void on_answer(void *ctx, enum chr_err result, const char *message)
{
    struct answer *a = ctx;
    bool view_had = false, store_had = false;
    char command[64] = "";
    if (a->probe != NULL) {
        const struct chr_view_job *j = chr_view_job(a->t->sched->ops->view(a->t->sched), a->probe);
        view_had = j != NULL;
        if (j != NULL)
            snprintf(command, sizeof command, "%s", j->def->command);
        chr_view_job_release(j);
        store_had = store_has_job(a->t, a->probe);
    }
    pthread_mutex_lock(&a->mu);
    a->calls++;
    a->result = result;
    snprintf(a->message, sizeof a->message, "%s", message ? message : "");
    a->view_had = view_had;
    a->store_had = store_had;
    memcpy(a->view_command, command, sizeof command);
    pthread_cond_broadcast(&a->cond);
    pthread_mutex_unlock(&a->mu);
}

static struct timespec deadline_in(int64_t ms)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_sec += (time_t)(ms / 1000);
    ts.tv_nsec += (long)(ms % 1000) * 1000000L;
    if (ts.tv_nsec >= 1000000000L) {
        ts.tv_sec++;
        ts.tv_nsec -= 1000000000L;
    }
    return ts;
}

static void answer_wait(struct answer *a)
{
    struct timespec ts = deadline_in(WAIT_MS);
    pthread_mutex_lock(&a->mu);
    while (a->calls == 0 && pthread_cond_timedwait(&a->cond, &a->mu, &ts) != ETIMEDOUT)
        ;
    int calls = a->calls;
    pthread_mutex_unlock(&a->mu);
    if (calls == 0)
        fail_msg("no answer within %d ms", WAIT_MS);
}

/* Hands ev to the loop as the API does, and waits for its answer. */
static void request(struct lt *t, struct chr_event *ev, struct answer *a)
{
    assert_int_equal(t->sched->ops->request(t->sched, ev, on_answer, a), CHR_OK);
    answer_wait(a);
    assert_int_equal(a->calls, 1);
}

/* A barrier: once a query has run, every request queued before it was
 * stepped (and its answer, if due, given). */
static void on_query(void *ctx, const struct chr_core *core, int64_t now_ms)
{
    (void)core;
    (void)now_ms;
    on_answer(ctx, CHR_OK, "query");
}

static void barrier(struct lt *t)
{
    struct answer a;
    answer_init(&a, t, NULL);
    assert_int_equal(chr_loop_query(t->loop, on_query, &a), CHR_OK);
    answer_wait(&a);
    answer_destroy(&a);
}

/* ---- Requests ------------------------------------------------------------------------- */

static void put_event(struct lt *t, const char *json, struct chr_event *ev)
{
    struct chr_error err = {{0}, {0}};
    memset(ev, 0, sizeof *ev);
    ev->type = CHR_EV_PUT_JOB;
    if (chr_job_from_json(json, strlen(json), &t->defaults, CHR_JOB_HINT_ANY, chr_clock_wall_ms(),
                          &ev->u.job.job, &err) != CHR_OK)
        fail_msg("test job does not parse: %s", err.message);
}

/* PUTs `json` and returns the answer's result; a->message says why. */
static enum chr_err put(struct lt *t, const char *json, const char *probe, struct answer *a)
{
    struct chr_event ev;
    put_event(t, json, &ev);
    answer_init(a, t, probe);
    request(t, &ev, a);
    return a->result;
}

static enum chr_err named(struct lt *t, enum chr_event_type type, const char *name,
                          struct answer *a)
{
    struct chr_event ev = {.type = type};
    ev.u.named.name = name;
    answer_init(a, t, name);
    request(t, &ev, a);
    return a->result;
}

static void put_ok(struct lt *t, const char *json)
{
    struct answer a;
    enum chr_err e = put(t, json, NULL, &a);
    if (e != CHR_OK)
        fail_msg("PUT %s: %s", json, a.message);
    answer_destroy(&a);
}

/* ---- Reads ------------------------------------------------------------------------------ */

static struct chr_view *view(struct lt *t)
{
    return t->sched->ops->view(t->sched);
}

static bool shown(struct lt *t, const char *name)
{
    const struct chr_view_job *j = chr_view_job(view(t), name);
    chr_view_job_release(j);
    return j != NULL;
}

/* The command of the job `name` as shown, into buf ("" when not shown). */
static const char *shown_command(struct lt *t, const char *name, char buf[64])
{
    const struct chr_view_job *j = chr_view_job(view(t), name);
    snprintf(buf, 64, "%s", j ? j->def->command : "");
    chr_view_job_release(j);
    return buf;
}

static const char *shown_parent(struct lt *t, const char *name, char buf[64])
{
    const struct chr_view_job *j = chr_view_job(view(t), name);
    snprintf(buf, 64, "%s", j && j->def->n_parents > 0 ? j->def->parents[0] : "");
    chr_view_job_release(j);
    return buf;
}

/* The stored job node's text (chr_free it), or NULL. */
static char *stored(struct lt *t, const char *name)
{
    char path[CHR_STORE_PATH_MAX];
    assert_int_equal(chr_store_job_path(path, ROOT, name), CHR_OK);
    void *data = NULL;
    size_t len = 0;
    int32_t version = 0;
    if (chr_store_get(t->store, path, &data, &len, &version) != CHR_OK)
        return NULL;
    return data;
}

/* ---- Fixture -------------------------------------------------------------------------- */

static void start_loop(struct lt *t)
{
    struct chr_loop_config lc;
    memset(&lc, 0, sizeof lc);
    lc.core = (struct chr_core_config){.tzdb = t->tzdb, .default_cpus = 0.1,
                                       .default_mem_mb = 16, .default_disk_mb = 16,
                                       .default_retry_delay_ms = 60000, .offer_refuse_ms = 5000,
                                       .history_max = 5, .launch_lead_ms = 200};
    lc.store = t->store;
    lc.root = ROOT;
    lc.runs_dir = t->runs_dir;
    lc.chronos_bin = NULL; /* /proc/self/exe: main() answers run-task */
    lc.defaults = t->defaults;
    lc.cgroups_off = true;
    struct chr_error err = {{0}, {0}};
    if (chr_loop_start(&lc, &t->loop, &err) != CHR_OK)
        fail_msg("chr_loop_start: %s", err.message);
    t->sched = chr_loop_sched(t->loop);
    assert_non_null(t->sched);
}

static int setup(void **state)
{
    struct lt *t = chr_calloc(1, sizeof *t);
    assert_non_null(t);
    snprintf(t->tmp, sizeof t->tmp, "/tmp/chr_test_loop_XXXXXX");
    assert_non_null(mkdtemp(t->tmp));
    snprintf(t->store_dir, sizeof t->store_dir, "%s/store", t->tmp);
    snprintf(t->runs_dir, sizeof t->runs_dir, "%s/runs", t->tmp);
    struct chr_error err = {{0}, {0}};
    if (chr_store_open_local(t->store_dir, NULL, &t->store, &err) != CHR_OK)
        fail_msg("store: %s", err.message);
    assert_int_equal(chr_tzdb_create(NULL, &t->tzdb), CHR_OK);
    chr_job_defaults_init(&t->defaults);
    t->defaults.mem_mb = 16;
    t->defaults.disk_mb = 16;
    t->defaults.user = NULL;
    start_loop(t);
    *state = t;
    return 0;
}

static int teardown(void **state)
{
    struct lt *t = *state;
    chr_loop_stop(t->loop);
    chr_store_close(t->store);
    chr_tzdb_destroy(t->tzdb);
    rm_tree(t->tmp);
    chr_free(t);
    return 0;
}

#define JOB(name, command)                                                                      \
    "{\"name\":\"" name "\",\"command\":\"" command "\",\"schedule\":\"" FUTURE "\"}"

/* ---- Create, replace, delete ------------------------------------------------------------ */

/* Created: answered CHR_OK once durable; not shown before the request, shown
 * (and stored) by the time the answer comes. */
static void test_put_is_durable_and_shown_when_answered(void **state)
{
    struct lt *t = *state;
    assert_false(shown(t, "alpha"));
    assert_false(store_has_job(t, "alpha"));
    struct answer a;
    assert_int_equal(put(t, JOB("alpha", "echo one"), "alpha", &a), CHR_OK);
    assert_string_equal(a.message, "created job 'alpha'");
    assert_true(a.store_had); /* durable before the answer */
    assert_true(a.view_had);  /* and readable as soon as it is answered */
    assert_string_equal(a.view_command, "echo one");
    answer_destroy(&a);
    assert_int_equal(chr_view_count(view(t)), 1);
    char *text = stored(t, "alpha");
    assert_non_null(text);
    assert_non_null(strstr(text, "\"echo one\""));
    chr_free(text);
}

/* A second PUT of the same name replaces the job: one job, the new fields,
 * in the read model and the store. */
static void test_second_put_replaces(void **state)
{
    struct lt *t = *state;
    put_ok(t, JOB("alpha", "echo one"));
    struct answer a;
    assert_int_equal(put(t, JOB("alpha", "echo two"), "alpha", &a), CHR_OK);
    assert_string_equal(a.message, "replaced job 'alpha'");
    assert_string_equal(a.view_command, "echo two");
    answer_destroy(&a);
    char buf[64];
    assert_string_equal(shown_command(t, "alpha", buf), "echo two");
    assert_int_equal(chr_view_count(view(t)), 1);
    char *text = stored(t, "alpha");
    assert_non_null(text);
    assert_non_null(strstr(text, "\"echo two\""));
    assert_null(strstr(text, "\"echo one\""));
    chr_free(text);
}

/* DELETE: answered, then neither shown nor stored. */
static void test_delete_answers_and_removes(void **state)
{
    struct lt *t = *state;
    put_ok(t, JOB("alpha", "echo one"));
    put_ok(t, JOB("beta", "echo b"));
    struct answer a;
    assert_int_equal(named(t, CHR_EV_DELETE_JOB, "alpha", &a), CHR_OK);
    assert_string_equal(a.message, "deleted job 'alpha'");
    assert_false(a.view_had); /* gone by the time it is answered */
    assert_false(a.store_had);
    answer_destroy(&a);
    assert_false(shown(t, "alpha"));
    assert_true(shown(t, "beta"));
    assert_int_equal(chr_view_count(view(t)), 1);
}

/* Every named request about a job that does not exist: CHR_ENOENT with the
 * core's sentence (the API's 400 "job 'x' not found"), nothing changed. */
static void test_unknown_job_is_enoent(void **state)
{
    struct lt *t = *state;
    put_ok(t, JOB("alpha", "echo one"));
    static const enum chr_event_type types[] = {CHR_EV_DELETE_JOB, CHR_EV_RUN_JOB,
                                                CHR_EV_KILL_JOB, CHR_EV_MARK_SUCCESS};
    for (size_t i = 0; i < sizeof types / sizeof types[0]; i++) {
        struct answer a;
        assert_int_equal(named(t, types[i], "ghost", &a), CHR_ENOENT);
        assert_string_equal(a.message, "job 'ghost' not found");
        answer_destroy(&a);
    }
    assert_int_equal(chr_view_count(view(t)), 1);
    assert_false(store_has_job(t, "ghost"));
}

/* What the core refuses changes nothing, shown or stored: an unknown
 * parent, a replace that would close a cycle, a schedule that does not
 * parse, deleting a job others depend on. */
static void test_refusals_change_nothing(void **state)
{
    struct lt *t = *state;
    put_ok(t, JOB("a", "echo a"));
    put_ok(t, "{\"name\":\"b\",\"command\":\"echo b\",\"parents\":[\"a\"]}");
    struct answer x;
    assert_int_equal(put(t, "{\"name\":\"c\",\"command\":\"true\",\"parents\":[\"ghost\"]}", "c",
                         &x),
                     CHR_EINVAL);
    assert_string_equal(x.message, "parents: unknown job 'ghost'");
    assert_false(x.view_had);
    assert_false(x.store_had);
    answer_destroy(&x);
    /* a <- b; making a depend on b closes a -> b -> a. */
    assert_int_equal(put(t, "{\"name\":\"a\",\"command\":\"echo new\",\"parents\":[\"b\"]}", "a",
                         &x),
                     CHR_EINVAL);
    if (strncmp(x.message, "parents: would make a cycle", 27) != 0)
        fail_msg("cycle refused with '%s'", x.message);
    assert_string_equal(x.view_command, "echo a"); /* the old a, still */
    answer_destroy(&x);
    assert_int_equal(put(t, "{\"name\":\"d\",\"command\":\"true\",\"schedule\":\"R/soon/P1D\"}",
                         "d", &x),
                     CHR_EINVAL);
    if (strncmp(x.message, "schedule: ", 10) != 0)
        fail_msg("bad schedule refused with '%s'", x.message);
    assert_false(x.view_had);
    answer_destroy(&x);
    assert_int_equal(named(t, CHR_EV_DELETE_JOB, "a", &x), CHR_ECONFLICT);
    if (strncmp(x.message, "job 'a' has dependents: ", 24) != 0 || strstr(x.message, "b") == NULL)
        fail_msg("a refused delete should name the dependent b: '%s'", x.message);
    assert_true(x.view_had);
    assert_true(x.store_had);
    answer_destroy(&x);
    char buf[64];
    assert_string_equal(shown_command(t, "a", buf), "echo a");
    assert_string_equal(shown_parent(t, "b", buf), "a");
    assert_int_equal(chr_view_count(view(t)), 2);
    char *text = stored(t, "a");
    assert_non_null(text);
    assert_non_null(strstr(text, "\"echo a\""));
    assert_null(strstr(text, "\"parents\""));
    chr_free(text);
    assert_false(store_has_job(t, "c"));
    assert_false(store_has_job(t, "d"));
}

/* ---- Store failure ------------------------------------------------------------------------- */

/* A batch the store fails (its log write): the request is answered with an
 * error naming the store, the job is never shown, what was durable before
 * stays shown, later writes are refused, and the loop says it is unhealthy. */
static void test_store_failure_is_answered_and_never_shown(void **state)
{
    struct lt *t = *state;
    put_ok(t, JOB("before", "echo durable"));
    chr_store_fault_inject(t->store, CHR_STORE_FAULT_WRITE, 1, -1);
    struct answer a;
    enum chr_err e = put(t, JOB("lost", "echo never"), "lost", &a);
    assert_int_equal(e, CHR_EUNAVAIL);
    if (strncmp(a.message, "store unavailable: ", 19) != 0)
        fail_msg("a failed write answered '%s'", a.message);
    assert_false(a.view_had);
    answer_destroy(&a);
    barrier(t);
    assert_false(shown(t, "lost"));
    assert_false(store_has_job(t, "lost"));
    assert_true(shown(t, "before"));
    /* The core has failed: writes are refused, with the cause. */
    assert_int_equal(named(t, CHR_EV_DELETE_JOB, "before", &a), CHR_EUNAVAIL);
    assert_true(strncmp(a.message, "store unavailable: ", 19) == 0);
    answer_destroy(&a);
    assert_true(shown(t, "before"));
    char why[256] = "";
    assert_false(t->sched->ops->healthy(t->sched, why, sizeof why));
    if (strncmp(why, "store unavailable: ", 19) != 0)
        fail_msg("unhealthy because '%s'", why);
    struct chr_metrics_sample m;
    chr_metrics_read(t->sched->ops->metrics(t->sched), &m);
    assert_true(m.counter[CHR_M_STORE_ERRORS] >= 1);
    assert_false(m.gauges.store_healthy);
}

/* The same for every kind of change: a delete, a manual run and a success
 * the store fails are never shown either; the job stays as it was durably. */
static void test_store_failure_hides_every_kind_of_change(void **state)
{
    struct lt *t = *state;
    static const enum chr_event_type types[] = {CHR_EV_DELETE_JOB, CHR_EV_RUN_JOB,
                                                CHR_EV_MARK_SUCCESS};
    for (size_t i = 0; i < sizeof types / sizeof types[0]; i++) {
        put_ok(t, JOB("keep", "echo kept"));
        chr_store_fault_inject(t->store, CHR_STORE_FAULT_WRITE, 1, -1);
        struct answer a;
        assert_int_equal(named(t, types[i], "keep", &a), CHR_EUNAVAIL);
        assert_true(a.view_had);
        answer_destroy(&a);
        barrier(t);
        const struct chr_view_job *j = chr_view_job(view(t), "keep");
        if (j == NULL)
            fail_msg("event %d: the job vanished from the read model", (int)types[i]);
        assert_int_equal(j->n_runs, 0);
        assert_int_equal(j->stats.success_count, 0);
        chr_view_job_release(j);
        /* A new loop on a store that works again, from what is durable. */
        chr_loop_stop(t->loop);
        chr_store_close(t->store);
        struct chr_error err = {{0}, {0}};
        if (chr_store_open_local(t->store_dir, NULL, &t->store, &err) != CHR_OK)
            fail_msg("store: %s", err.message);
        start_loop(t);
        assert_true(shown(t, "keep"));
    }
}

/* ---- Stop ------------------------------------------------------------------------------ */

/* Holds the scheduler thread inside an answer until released (bounded). */
struct blocker {
    pthread_mutex_t mu;
    pthread_cond_t cond;
    bool entered, release;
    enum chr_err result;
};

static void blocking_done(void *ctx, enum chr_err result, const char *message)
{
    (void)message;
    struct blocker *b = ctx;
    struct timespec ts = deadline_in(WAIT_MS);
    pthread_mutex_lock(&b->mu);
    b->entered = true;
    b->result = result;
    pthread_cond_broadcast(&b->cond);
    while (!b->release && pthread_cond_timedwait(&b->cond, &b->mu, &ts) != ETIMEDOUT)
        ;
    pthread_mutex_unlock(&b->mu);
}

static void *stopper_main(void *arg)
{
    chr_loop_stop(arg);
    return NULL;
}

#define QUEUED_MAX 64

/*
 * Once chr_loop_stop begins, a request is refused at once (CHR_EUNAVAIL,
 * done never fires, a PUT's job freed) and one still queued is answered
 * CHR_EUNAVAIL "the server is stopping".  The scheduler thread is held
 * inside an answer, so the queue cannot drain and the loop cannot be freed
 * while the test calls into it.
 */
static void test_requests_refused_once_stop_begins(void **state)
{
    struct lt *t = *state;
    struct blocker b = {.result = CHR_ENONE};
    pthread_mutex_init(&b.mu, NULL);
    pthread_cond_init(&b.cond, NULL);
    struct chr_event ev;
    put_event(t, JOB("held", "true"), &ev);
    assert_int_equal(t->sched->ops->request(t->sched, &ev, blocking_done, &b), CHR_OK);
    struct timespec ts = deadline_in(WAIT_MS);
    pthread_mutex_lock(&b.mu);
    while (!b.entered && pthread_cond_timedwait(&b.cond, &b.mu, &ts) != ETIMEDOUT)
        ;
    bool entered = b.entered;
    pthread_mutex_unlock(&b.mu);
    assert_true(entered);
    /* Queued behind the held thread: certainly still queued when stop begins. */
    static struct answer queued[QUEUED_MAX];
    size_t n_queued = 0;
    for (; n_queued < 3; n_queued++) {
        struct chr_event d = {.type = CHR_EV_DELETE_JOB};
        d.u.named.name = "held";
        answer_init(&queued[n_queued], t, NULL);
        assert_int_equal(t->sched->ops->request(t->sched, &d, on_answer, &queued[n_queued]),
                         CHR_OK);
    }
    pthread_t stopper;
    assert_int_equal(pthread_create(&stopper, NULL, stopper_main, t->loop), 0);
    struct chr_loop *loop = t->loop;
    t->loop = NULL; /* the stopper frees it */
    /* Until stop is seen, requests still queue; then they are refused. */
    struct answer refused;
    answer_init(&refused, t, NULL);
    enum chr_err e = CHR_OK;
    int64_t end = test_mono_ms() + WAIT_MS;
    while (test_mono_ms() < end && n_queued < QUEUED_MAX) {
        struct chr_event d = {.type = CHR_EV_DELETE_JOB};
        d.u.named.name = "held";
        answer_init(&queued[n_queued], t, NULL);
        e = t->sched->ops->request(t->sched, &d, on_answer, &queued[n_queued]);
        if (e != CHR_OK) {
            answer_destroy(&queued[n_queued]);
            break;
        }
        n_queued++;
        test_nap_ms(1);
    }
    assert_int_equal(e, CHR_EUNAVAIL);
    /* Refused too: a PUT (its job freed: ASan sees a leak otherwise), a
     * named request, a query. */
    put_event(t, JOB("late", "true"), &ev);
    assert_int_equal(t->sched->ops->request(t->sched, &ev, on_answer, &refused), CHR_EUNAVAIL);
    struct chr_event k = {.type = CHR_EV_KILL_JOB};
    k.u.named.name = "held";
    assert_int_equal(t->sched->ops->request(t->sched, &k, on_answer, &refused), CHR_EUNAVAIL);
    assert_int_equal(chr_loop_query(loop, on_query, &refused), CHR_EUNAVAIL);
    pthread_mutex_lock(&b.mu);
    b.release = true;
    pthread_cond_broadcast(&b.cond);
    pthread_mutex_unlock(&b.mu);
    assert_int_equal(pthread_join(stopper, NULL), 0);
    assert_int_equal(b.result, CHR_OK); /* the held PUT was answered as usual */
    assert_int_equal(refused.calls, 0); /* refused: done never fired */
    for (size_t i = 0; i < n_queued; i++) {
        if (queued[i].calls != 1 || queued[i].result != CHR_EUNAVAIL)
            fail_msg("queued request %zu: %d answers, last %s", i, queued[i].calls,
                     chr_err_name(queued[i].result));
        assert_string_equal(queued[i].message, "the server is stopping");
        answer_destroy(&queued[i]);
    }
    answer_destroy(&refused);
    pthread_cond_destroy(&b.cond);
    pthread_mutex_destroy(&b.mu);
    /* What was durable is there for the next loop. */
    start_loop(t);
    assert_true(shown(t, "held"));
}

/* ---- A launch ---------------------------------------------------------------------------- */

/* A manual run of `name`, answered with its run id (into run_id). */
static void run_now(struct lt *t, const char *name, char run_id[CHR_RUN_ID_MAX])
{
    struct answer a;
    assert_int_equal(named(t, CHR_EV_RUN_JOB, name, &a), CHR_OK);
    assert_true(strlen(a.message) < CHR_RUN_ID_MAX);
    memcpy(run_id, a.message, strlen(a.message) + 1);
    answer_destroy(&a);
}

/* A manual run of `true` goes the whole way: answered with its run id once
 * recorded, launched, and its success recorded and shown. */
static void test_manual_run_launches_and_succeeds(void **state)
{
    struct lt *t = *state;
    put_ok(t, JOB("once", "true"));
    char run_id[CHR_RUN_ID_MAX];
    run_now(t, "once", run_id);
    assert_string_equal(chr_view_run_job(run_id), "once");
    bool done = false;
    int64_t end = test_mono_ms() + WAIT_MS;
    while (!done && test_mono_ms() < end) {
        const struct chr_view_job *j = chr_view_job(view(t), "once");
        const struct chr_view_run *r = j ? chr_view_find_run(j, run_id) : NULL;
        done = j != NULL && j->stats.success_count == 1 && r != NULL &&
               r->state == CHR_RUN_FINISHED;
        if (done) {
            assert_int_equal(r->cause, CHR_CAUSE_MANUAL);
            assert_int_equal(r->exit_code, 0);
            assert_true(r->started_ms != INT64_MIN && r->ended_ms >= r->started_ms);
        }
        chr_view_job_release(j);
        if (!done)
            test_nap_ms(20);
    }
    if (!done)
        fail_msg("run %s did not succeed within %d ms", run_id, WAIT_MS);
    struct chr_metrics_sample m;
    chr_metrics_read(t->sched->ops->metrics(t->sched), &m);
    assert_int_equal(m.counter[CHR_M_LAUNCHES], 1);
    assert_int_equal(m.counter[CHR_M_RUNS_STARTED], 1);
    assert_int_equal(m.counter[CHR_M_RUNS_SUCCEEDED], 1);
}

/* The state of run `id` of job `name` as shown; -1 when not shown. */
static int shown_run_state(struct lt *t, const char *name, const char *id)
{
    const struct chr_view_job *j = chr_view_job(view(t), name);
    const struct chr_view_run *r = j ? chr_view_find_run(j, id) : NULL;
    int st = r != NULL ? (int)r->state : -1;
    chr_view_job_release(j);
    return st;
}

/* A task's outcome whose batch the store fails is never shown: the run
 * stays as last stored (running), not finished, and nothing counts it. */
static void test_failed_outcome_is_never_shown(void **state)
{
    struct lt *t = *state;
    put_ok(t, JOB("late", "sleep 1"));
    char run_id[CHR_RUN_ID_MAX];
    run_now(t, "late", run_id);
    int64_t end = test_mono_ms() + WAIT_MS;
    while (shown_run_state(t, "late", run_id) != CHR_RUN_RUNNING && test_mono_ms() < end)
        test_nap_ms(10);
    assert_int_equal(shown_run_state(t, "late", run_id), CHR_RUN_RUNNING);
    chr_store_fault_inject(t->store, CHR_STORE_FAULT_WRITE, 1, -1); /* its end cannot be written */
    char why[256] = "";
    end = test_mono_ms() + WAIT_MS;
    while (t->sched->ops->healthy(t->sched, why, sizeof why) && test_mono_ms() < end)
        test_nap_ms(20);
    assert_false(t->sched->ops->healthy(t->sched, why, sizeof why));
    barrier(t);
    assert_int_equal(shown_run_state(t, "late", run_id), CHR_RUN_RUNNING);
    const struct chr_view_job *j = chr_view_job(view(t), "late");
    assert_non_null(j);
    assert_int_equal(j->stats.success_count, 0);
    chr_view_job_release(j);
}

/* ---- A burst: the instants of one step in few store batches ---------------------- */

/* Jobs written straight into the store, as a previous server left them: no
 * state node, so each starts as if just created, at its first instant after
 * now - 5 s (core.h): `at_ms`, so all are due in one step once loaded.
 * Their constraint fits no host: each run is recorded and then waits for
 * an offer, nothing is spawned.  Written 256 to a batch: one at a time, an
 * ASan build on a busy machine took longer than the 5 s of grace. */
static void store_burst(struct lt *t, size_t n, int64_t at_ms)
{
    enum { PER = 256 };
    char iso[CHR_INSTANT_TEXT_MAX], json[512], name[32];
    static char path[PER][CHR_STORE_PATH_MAX];
    struct chr_store_op op[PER];
    char *text[PER];
    chr_instant_format(at_ms, iso);
    for (size_t at = 0; at < n; at += PER) {
        size_t k = n - at < PER ? n - at : PER;
        for (size_t i = 0; i < k; i++) {
            snprintf(name, sizeof name, "burst-%05zu", at + i);
            snprintf(json, sizeof json,
                     "{\"name\":\"%s\",\"command\":\"true\",\"schedule\":\"R1/%s/PT1H\","
                     "\"constraints\":[[\"hostname\",\"UNLIKE\",\".*\"]]}", name, iso);
            struct chr_event ev;
            put_event(t, json, &ev);
            size_t len = 0;
            text[i] = chr_job_to_store_json(&ev.u.job.job, &len);
            assert_non_null(text[i]);
            chr_job_free(&ev.u.job.job);
            assert_int_equal(chr_store_job_path(path[i], ROOT, name), CHR_OK);
            op[i] = (struct chr_store_op){CHR_STORE_CREATE, path[i], text[i], len, -1};
        }
        assert_int_equal(chr_store_submit_wait(t->store, op, k, NULL), CHR_OK);
        for (size_t i = 0; i < k; i++)
            chr_free(text[i]);
    }
}

struct burst_seen {
    size_t runs, pending;
    bool failed;
};

/* A query's answer with the core's counts, taken on the scheduler thread. */
struct counts_answer {
    struct answer a; /* first: on_answer's ctx */
    struct burst_seen seen;
};

static void on_counts(void *ctx, const struct chr_core *core, int64_t now_ms)
{
    (void)now_ms;
    struct counts_answer *q = ctx;
    struct chr_core_counts c;
    chr_core_counts(core, &c);
    q->seen = (struct burst_seen){c.runs, c.batches_pending, c.failed};
    on_answer(&q->a, CHR_OK, "counts");
}

static struct burst_seen core_seen(struct lt *t)
{
    struct counts_answer q;
    answer_init(&q.a, t, NULL);
    assert_int_equal(chr_loop_query(t->loop, on_counts, &q), CHR_OK);
    answer_wait(&q.a);
    answer_destroy(&q.a);
    return q.seen;
}

/* 1,100 instants due in one step are recorded in a few store batches, not
 * one each (the loop's grouping), and no more than a store batch holds at
 * once (2 ops a run here: the state and the run; 1,024 ops a batch): the
 * store refuses nothing, so the core never fails, and every run is
 * recorded.  Without the grouping: one store batch per instant. */
static void test_burst_is_recorded_in_few_bounded_batches(void **state)
{
    struct lt *t = *state;
    enum { N = 1100 };
    chr_loop_stop(t->loop);
    store_burst(t, N, chr_clock_wall_ms() + 1000);
    struct chr_store_stats before, after;
    chr_store_stats(t->store, &before);
    start_loop(t);
    struct burst_seen seen = {0, 0, false};
    int64_t end = test_mono_ms() + WAIT_MS;
    while (test_mono_ms() < end) {
        seen = core_seen(t);
        if (seen.failed || (seen.runs == N && seen.pending == 0))
            break;
        test_nap_ms(20);
    }
    assert_false(seen.failed);
    assert_int_equal(seen.runs, N);
    assert_int_equal(seen.pending, 0);
    chr_store_stats(t->store, &after);
    uint64_t batches = after.batches - before.batches;
    /* At least ceil(2 N / 1024) = 3 (more would not fit), and far fewer
     * than N; a few spare for the start's own writes. */
    if (batches < (2 * N + CHR_STORE_BATCH_OPS_MAX - 1) / CHR_STORE_BATCH_OPS_MAX || batches > 8)
        fail_msg("%d runs recorded in %llu store batches", N, (unsigned long long)batches);
}

/* ---- main: the tests, or `run-task` when the loop launches this binary ----------- */

int main(int argc, char **argv)
{
    if (argc >= 2 && strcmp(argv[1], "run-task") == 0) { /* as `chronos run-task` */
        int fd = -1, i = 2;
        if (argc > 4 && strcmp(argv[2], "--notify-fd") == 0) {
            fd = (int)strtol(argv[3], NULL, 10);
            i = 4;
        }
        return i < argc ? chr_local_run_task(argv[i], fd) : 2;
    }
#define TC(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
    const struct CMUnitTest tests[] = {
        TC(test_put_is_durable_and_shown_when_answered),
        TC(test_second_put_replaces),
        TC(test_delete_answers_and_removes),
        TC(test_unknown_job_is_enoent),
        TC(test_refusals_change_nothing),
        TC(test_store_failure_is_answered_and_never_shown),
        TC(test_store_failure_hides_every_kind_of_change),
        TC(test_requests_refused_once_stop_begins),
        TC(test_manual_run_launches_and_succeeds),
        TC(test_failed_outcome_is_never_shown),
        TC(test_burst_is_recorded_in_few_bounded_batches),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
