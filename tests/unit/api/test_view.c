/*
 * test_view.c - the API's read model (api/view.h) driven by a real core:
 * what a flush publishes (jobs in registration order, counters, next
 * instant, runs with their reasons, Chronos's status and state), that a held
 * snapshot or job stays intact while the core replaces and deletes jobs
 * (ASan would see a use after free), that snapshots are shared until
 * something changes, that registration order and lookups survive the
 * table's compaction after many deletes, and that a failed allocation
 * leaves the view usable.
 */
#include "../unit.h"

#include "common/alloc.h"
#include "scheduler/core.h"
#include "api/view.h"

struct h {
    struct chr_core *core;
    struct chr_tzdb *db;
    struct chr_view *view;
    int64_t now;
    struct chr_actions a;
    uint64_t req;
};

static char *dup(const char *s)
{
    return s ? chr_strndup(s, strlen(s)) : NULL;
}

/* Steps the core and marks what the actions touched, as the loop does. */
static void step(struct h *h, struct chr_event *ev)
{
    struct chr_event time = {.type = CHR_EV_TIME};
    chr_core_step(h->core, h->now, ev ? ev : &time, &h->a);
    for (size_t i = 0; i < h->a.n; i++) {
        const struct chr_action *a = &h->a.v[i];
        if (a->type == CHR_ACT_PERSIST)
            for (size_t k = 0; k < a->u.persist.n; k++)
                chr_view_touch(h->view, a->u.persist.items[k].name);
        if (a->type == CHR_ACT_LAUNCH)
            chr_view_touch(h->view, a->u.launch.run->job);
    }
}

static void durable(struct h *h)
{
    uint64_t last = 0;
    for (size_t i = 0; i < h->a.n; i++)
        if (h->a.v[i].type == CHR_ACT_PERSIST)
            last = h->a.v[i].u.persist.batch_id;
    if (last == 0)
        return;
    struct chr_event ev = {.type = CHR_EV_STORE_DONE};
    ev.u.store.batch_id = last;
    ev.u.store.result = CHR_OK;
    step(h, &ev);
}

static void put(struct h *h, const char *name, const char *schedule, const char *parent,
                const char *command)
{
    struct chr_event ev = {.type = CHR_EV_PUT_JOB, .request_id = ++h->req};
    struct chr_job *j = &ev.u.job.job;
    j->name = dup(name);
    j->command = dup(command);
    j->shell = true;
    j->starting_deadline_ms = -1;
    if (parent != NULL) {
        j->parents = chr_calloc(1, sizeof *j->parents);
        j->parents[0] = dup(parent);
        j->n_parents = 1;
    } else {
        j->schedule = dup(schedule);
    }
    step(h, &ev);
    durable(h);
    chr_view_flush(h->view, h->core);
}

static void del(struct h *h, const char *name)
{
    struct chr_event ev = {.type = CHR_EV_DELETE_JOB, .request_id = ++h->req};
    ev.u.named.name = name;
    chr_view_touch(h->view, name);
    step(h, &ev);
    durable(h);
    chr_view_flush(h->view, h->core);
}

static int setup(void **state)
{
    struct h *h = chr_calloc(1, sizeof *h);
    assert_non_null(h);
    assert_int_equal(chr_tzdb_create(NULL, &h->db), CHR_OK);
    struct chr_core_config cfg = {.tzdb = h->db, .default_cpus = 0.1, .default_mem_mb = 128,
                                  .default_disk_mb = 256, .default_retry_delay_ms = 60000,
                                  .offer_refuse_ms = 5000, .history_max = 3};
    assert_int_equal(chr_core_create(&cfg, &h->core), CHR_OK);
    assert_int_equal(chr_view_create(&h->view), CHR_OK);
    h->now = T("2030-01-01T00:00:00Z");
    struct chr_event done = {.type = CHR_EV_LOAD_DONE};
    step(h, &done);
    chr_view_rebuild(h->view, h->core);
    *state = h;
    return 0;
}

static int teardown(void **state)
{
    struct h *h = *state;
    chr_view_destroy(h->view);
    chr_core_destroy(h->core);
    chr_tzdb_destroy(h->db);
    chr_free(h);
    return 0;
}

static void test_publishes_jobs_in_registration_order(void **state)
{
    struct h *h = *state;
    put(h, "zeta", "R/2030-01-01T01:00:00Z/PT1H", NULL, "true");
    put(h, "alpha", "R3/2030-01-01T02:00:00Z/P1D", NULL, "echo a");
    put(h, "child", NULL, "zeta", "true");
    const struct chr_view_snap *s = chr_view_snapshot(h->view);
    assert_non_null(s);
    assert_int_equal(s->n, 3);
    assert_string_equal(s->jobs[0]->def->name, "zeta");
    assert_string_equal(s->jobs[1]->def->name, "alpha");
    assert_string_equal(s->jobs[2]->def->name, "child");
    assert_instant(s->jobs[0]->next_ms, "2030-01-01T01:00:00Z");
    assert_int_equal(s->jobs[0]->remaining_repeats, -1); /* R: forever */
    assert_int_equal(s->jobs[1]->remaining_repeats, 3);
    assert_true(s->jobs[2]->next_ms == INT64_MIN);       /* dependent: no instant */
    assert_string_equal(chr_view_job_status(s->jobs[0]), "fresh");
    char buf[32];
    assert_string_equal(chr_view_job_state(s->jobs[0], buf), "idle");
    assert_int_equal(chr_view_count(h->view), 3);
    chr_view_snap_release(s);
}

static void test_snapshot_is_shared_until_a_change(void **state)
{
    struct h *h = *state;
    put(h, "a", "R/2030-01-01T01:00:00Z/PT1H", NULL, "true");
    const struct chr_view_snap *s1 = chr_view_snapshot(h->view);
    const struct chr_view_snap *s2 = chr_view_snapshot(h->view);
    assert_ptr_equal(s1, s2); /* nothing changed: the same snapshot */
    put(h, "b", "R/2030-01-01T01:00:00Z/PT1H", NULL, "true");
    const struct chr_view_snap *s3 = chr_view_snapshot(h->view);
    assert_ptr_not_equal(s1, s3);
    assert_true(s3->gen > s1->gen);
    assert_int_equal(s1->n, 1); /* the old one is unchanged */
    assert_int_equal(s3->n, 2);
    chr_view_snap_release(s1);
    chr_view_snap_release(s2);
    chr_view_snap_release(s3);
}

static void test_held_views_survive_replace_and_delete(void **state)
{
    struct h *h = *state;
    put(h, "a", "R/2030-01-01T01:00:00Z/PT1H", NULL, "echo old");
    put(h, "b", "R/2030-01-01T01:00:00Z/PT1H", NULL, "true");
    const struct chr_view_snap *s = chr_view_snapshot(h->view);
    const struct chr_view_job *a = chr_view_job(h->view, "a");
    assert_non_null(a);
    put(h, "a", "R/2030-01-01T05:00:00Z/PT1H", NULL, "echo new"); /* replaced */
    del(h, "b");
    step(h, NULL); /* the core frees what it replaced at its next step */
    step(h, NULL);
    assert_string_equal(a->def->command, "echo old");
    assert_string_equal(s->jobs[1]->def->name, "b");
    size_t len = 0;
    const char *json = chr_view_job_json(s->jobs[1], &len);
    assert_non_null(json);
    assert_non_null(strstr(json, "\"name\":\"b\""));
    const struct chr_view_job *a2 = chr_view_job(h->view, "a");
    assert_string_equal(a2->def->command, "echo new");
    assert_instant(a2->next_ms, "2030-01-01T05:00:00Z");
    assert_null(chr_view_job(h->view, "b"));
    chr_view_job_release(a2);
    chr_view_job_release(a);
    chr_view_snap_release(s);
    const struct chr_view_snap *now = chr_view_snapshot(h->view);
    assert_int_equal(now->n, 1);
    chr_view_snap_release(now);
}

/* Most jobs deleted (the table compacts its order), some made again (they
 * go last): order and lookups stay right throughout. */
static void test_order_and_lookups_survive_compaction(void **state)
{
    struct h *h = *state;
    char name[16];
    for (int i = 0; i < 120; i++) {
        snprintf(name, sizeof name, "j%03d", i);
        put(h, name, "R/2030-01-01T01:00:00Z/PT1H", NULL, "true");
    }
    for (int i = 0; i < 120; i++) {
        if (i % 5 == 0)
            continue;
        snprintf(name, sizeof name, "j%03d", i);
        del(h, name);
    }
    for (int i = 1; i < 120; i += 40) { /* j001, j041, j081 come back */
        snprintf(name, sizeof name, "j%03d", i);
        put(h, name, "R/2030-01-01T01:00:00Z/PT1H", NULL, "true");
    }
    const struct chr_view_snap *s = chr_view_snapshot(h->view);
    assert_int_equal(s->n, 24 + 3);
    for (size_t k = 0; k < 24; k++) {
        snprintf(name, sizeof name, "j%03d", (int)k * 5);
        assert_string_equal(s->jobs[k]->def->name, name);
    }
    assert_string_equal(s->jobs[24]->def->name, "j001");
    assert_string_equal(s->jobs[26]->def->name, "j081");
    chr_view_snap_release(s);
    for (int i = 0; i < 120; i++) {
        snprintf(name, sizeof name, "j%03d", i);
        const struct chr_view_job *j = chr_view_job(h->view, name);
        bool want = i % 5 == 0 || i % 40 == 1;
        assert_int_equal(j != NULL, want);
        if (j != NULL) {
            assert_string_equal(j->def->name, name);
            chr_view_job_release(j);
        }
    }
    assert_int_equal(chr_view_count(h->view), 27);
}

/* The name index (open addressing over the jobs' own names) against a
 * model: 2,000 random puts and deletes of 300 names, through its growth,
 * deletions amid probe chains, and compactions; every name is found exactly
 * when the model has it, and the snapshot holds the live jobs. */
static void test_index_against_a_model(void **state)
{
    struct h *h = *state;
    bool live[300] = {false};
    uint64_t x = 88172645463325252ULL;
    char name[16];
    for (int step_no = 0; step_no < 2000; step_no++) {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        int k = (int)(x % 300);
        snprintf(name, sizeof name, "n%d", k);
        if (live[k] && (x >> 20) % 3 == 0)
            del(h, name), live[k] = false;
        else
            put(h, name, "R/2030-01-01T01:00:00Z/PT1H", NULL, (x >> 30) % 2 ? "true" : "false"),
                live[k] = true;
        if (step_no % 100 != 99)
            continue;
        size_t n = 0;
        for (int i = 0; i < 300; i++) {
            snprintf(name, sizeof name, "n%d", i);
            const struct chr_view_job *j = chr_view_job(h->view, name);
            if ((j != NULL) != live[i])
                fail_msg("step %d: %s is %s the view", step_no, name, j ? "in" : "not in");
            if (j != NULL)
                assert_string_equal(j->def->name, name);
            chr_view_job_release(j);
            n += live[i];
        }
        assert_int_equal(chr_view_count(h->view), n);
        const struct chr_view_snap *s = chr_view_snapshot(h->view);
        assert_int_equal(s->n, n);
        chr_view_snap_release(s);
    }
}

/* A run through launch, running and failure shows as queued, then
 * "1 running", then in the history with its reason. */
static void test_runs_and_states(void **state)
{
    struct h *h = *state;
    put(h, "r", "R1/2030-01-01T00:00:10Z/PT1H", NULL, "false");
    h->now = T("2030-01-01T00:00:10Z");
    step(h, NULL);
    durable(h);
    chr_view_flush(h->view, h->core);
    const struct chr_view_job *j = chr_view_job(h->view, "r");
    char buf[32];
    assert_int_equal(j->n_runs, 1);
    assert_int_equal(j->n_finished, 0);
    assert_string_equal(chr_view_job_state(j, buf), "queued");
    char id[CHR_RUN_ID_MAX];
    snprintf(id, sizeof id, "%s", j->runs[0].id);
    assert_string_equal(chr_view_run_job(id), "r");
    chr_view_job_release(j);

    struct chr_event offer = {.type = CHR_EV_OFFER};
    offer.u.offer = (struct chr_offer){.id = 1, .cpus = 4, .mem_mb = 4096, .disk_mb = 4096};
    step(h, &offer);
    struct chr_event st = {.type = CHR_EV_TASK_STATUS};
    st.u.status.run_id = id;
    st.u.status.state = CHR_RUN_RUNNING;
    chr_view_touch_run(h->view, id);
    step(h, &st);
    chr_view_flush(h->view, h->core);
    j = chr_view_job(h->view, "r");
    assert_string_equal(chr_view_job_state(j, buf), "1 running");
    chr_view_job_release(j);

    st.u.status.state = CHR_RUN_FAILED;
    st.u.status.exit_code = 1;
    st.u.status.reason = "exit 1";
    chr_view_touch_run(h->view, id);
    step(h, &st);
    durable(h);
    chr_view_flush(h->view, h->core);
    j = chr_view_job(h->view, "r");
    assert_int_equal(j->n_finished, 1);
    assert_int_equal(j->runs[0].state, CHR_RUN_FAILED);
    assert_int_equal(j->runs[0].exit_code, 1);
    assert_string_equal(j->runs[0].reason, "exit 1");
    assert_string_equal(j->runs[0].id, id); /* the id is rebuilt from the history */
    chr_view_job_release(j);
}

static void test_run_job_of_an_id(void **state)
{
    (void)state;
    assert_string_equal(chr_view_run_job("ct:1893456000000:0:a.b-c_d"), "a.b-c_d");
    assert_string_equal(chr_view_run_job("ct:-5:2:x"), "x");
    assert_null(chr_view_run_job("ct:12:x"));
    assert_null(chr_view_run_job("ct:12:0:"));
    assert_null(chr_view_run_job("xx:12:0:a"));
    assert_null(chr_view_run_job("ct:a:0:b"));
    assert_null(chr_view_run_job(NULL));
}

static char *render_names(const struct chr_view_snap *s, size_t *len)
{
    char *out = chr_malloc(s->n * (CHR_JOB_NAME_MAX + 1) + 1);
    if (out == NULL)
        return NULL;
    size_t n = 0;
    for (size_t i = 0; i < s->n; i++) {
        size_t k = strlen(s->jobs[i]->def->name);
        memcpy(out + n, s->jobs[i]->def->name, k);
        n += k;
        out[n++] = ' ';
    }
    out[n] = '\0';
    *len = n;
    return out;
}

static int renders;
static char *render_counting(const struct chr_view_snap *s, size_t *len)
{
    renders++;
    return render_names(s, len);
}

static void test_memo_renders_once_per_snapshot(void **state)
{
    struct h *h = *state;
    put(h, "a", "R/2030-01-01T01:00:00Z/PT1H", NULL, "true");
    put(h, "b", "R/2030-01-01T01:00:00Z/PT1H", NULL, "true");
    renders = 0;
    const struct chr_view_snap *s = chr_view_snapshot(h->view);
    size_t len = 0;
    const char *t = chr_view_snap_memo(s, CHR_VIEW_MEMO_SUMMARY, render_counting, &len);
    assert_string_equal(t, "a b ");
    assert_int_equal(len, 4);
    assert_ptr_equal(chr_view_snap_memo(s, CHR_VIEW_MEMO_SUMMARY, render_counting, &len), t);
    assert_int_equal(renders, 1);
    chr_view_snap_release(s);
}

/* Every allocation of a flush failing in turn: the view stays consistent and
 * the next flush (or rebuild) catches up. */
static void test_allocation_failures(void **state)
{
    struct h *h = *state;
    put(h, "a", "R/2030-01-01T01:00:00Z/PT1H", NULL, "true");
    for (int n = 0; n < 40; n++) {
        char name[16];
        snprintf(name, sizeof name, "j%d", n);
        struct chr_event ev = {.type = CHR_EV_PUT_JOB, .request_id = ++h->req};
        ev.u.job.job.name = dup(name);
        ev.u.job.job.command = dup("true");
        ev.u.job.job.schedule = dup("R/2030-01-01T01:00:00Z/PT1H");
        ev.u.job.job.starting_deadline_ms = -1;
        step(h, &ev);
        durable(h);
        chr_alloc_fail_after(n % 8);
        chr_view_flush(h->view, h->core);
        const struct chr_view_snap *s = chr_view_snapshot(h->view);
        chr_alloc_fail_after(-1);
        chr_view_snap_release(s);
    }
    chr_alloc_fail_after(-1);
    chr_view_flush(h->view, h->core);
    const struct chr_view_snap *s = chr_view_snapshot(h->view);
    assert_non_null(s);
    assert_int_equal(s->n, 41); /* every job published in the end */
    for (size_t i = 0; i < s->n; i++)
        assert_non_null(chr_core_job(h->core, s->jobs[i]->def->name, NULL));
    chr_view_snap_release(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_publishes_jobs_in_registration_order, setup, teardown),
        cmocka_unit_test_setup_teardown(test_snapshot_is_shared_until_a_change, setup, teardown),
        cmocka_unit_test_setup_teardown(test_held_views_survive_replace_and_delete, setup, teardown),
        cmocka_unit_test_setup_teardown(test_order_and_lookups_survive_compaction, setup, teardown),
        cmocka_unit_test_setup_teardown(test_index_against_a_model, setup, teardown),
        cmocka_unit_test_setup_teardown(test_runs_and_states, setup, teardown),
        cmocka_unit_test_setup_teardown(test_run_job_of_an_id, setup, teardown),
        cmocka_unit_test_setup_teardown(test_memo_renders_once_per_snapshot, setup, teardown),
        cmocka_unit_test_setup_teardown(test_allocation_failures, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
