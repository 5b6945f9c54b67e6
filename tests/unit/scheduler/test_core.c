/*
 * test_core.c - focused tests of the scheduling core (scheduler/core.h):
 * requests and their replies after durability, due instants, the ledger,
 * dispatch on offers, statuses, retries, dependents, startup
 * reconciliation, store failure and allocation failure.  The core is driven
 * step by step with a hand-held clock; tests/sim/sim_core.c does the same
 * at random for years of virtual time.
 */
#include "../unit.h"

#include "common/alloc.h"
#include "common/limits.h"
#include "scheduler/core.h"

struct h {
    struct chr_core *core;
    struct chr_tzdb *db;
    int64_t now;
    struct chr_actions a;
    enum chr_err rc;
    uint64_t next_req;
};

static char *dup(const char *s)
{
    return s != NULL ? chr_strndup(s, strlen(s)) : NULL;
}

/* A job as the API codec would make it, with test-friendly defaults. */
static struct chr_job mkjob(const char *name, const char *schedule)
{
    struct chr_job j;
    memset(&j, 0, sizeof j);
    j.name = dup(name);
    j.command = dup("true");
    j.shell = true;
    j.schedule = dup(schedule);
    j.retries = 0;
    j.starting_deadline_ms = -1;
    return j;
}

static void add_parent(struct chr_job *j, const char *p)
{
    j->parents = chr_realloc(j->parents, (j->n_parents + 1) * sizeof *j->parents);
    j->parents[j->n_parents++] = dup(p);
    chr_free(j->schedule);
    j->schedule = NULL;
}

static void step(struct h *h, struct chr_event *ev)
{
    struct chr_event time = {.type = CHR_EV_TIME};
    h->rc = chr_core_step(h->core, h->now, ev != NULL ? ev : &time, &h->a);
}

static int setup_cfg(void **state, int64_t lead_ms, bool limits, int64_t waiting_ms)
{
    struct h *h = chr_calloc(1, sizeof *h);
    assert_non_null(h);
    assert_int_equal(chr_tzdb_create(NULL, &h->db), CHR_OK);
    struct chr_core_config cfg = {
        .tzdb = h->db, .default_cpus = 0.1, .default_mem_mb = 128, .default_disk_mb = 256,
        .default_retry_delay_ms = 60000, .offer_refuse_ms = 5000, .history_max = 5,
        .launch_lead_ms = lead_ms, .notify_waiting_ms = waiting_ms,
    };
    if (limits) { /* a host of 2 cpus, 4 GB, 10 GB of disk; a period of at least 1 s */
        cfg.max_cpus = 2, cfg.max_mem_mb = 4096, cfg.max_disk_mb = 10000;
        cfg.min_period_ms = 1000;
    }
    assert_int_equal(chr_core_create(&cfg, &h->core), CHR_OK);
    h->now = T("2024-01-01T00:00:30Z");
    struct chr_event done = {.type = CHR_EV_LOAD_DONE};
    step(h, &done);
    assert_int_equal(h->rc, CHR_OK);
    *state = h;
    return 0;
}

static int setup(void **state)
{
    return setup_cfg(state, 0, false, 0);
}

/* The server's launch lead (core.h). */
static int setup_lead(void **state)
{
    return setup_cfg(state, 200, false, 0);
}

/* A host that offers at most so much, and a minimum period. */
static int setup_limits(void **state)
{
    return setup_cfg(state, 0, true, 0);
}

/* Runs that wait for resources 10 s tell it (--notify_waiting_ms). */
static int setup_waiting(void **state)
{
    return setup_cfg(state, 0, false, 10000);
}

static int teardown(void **state)
{
    struct h *h = *state;
    chr_core_destroy(h->core);
    chr_tzdb_destroy(h->db);
    chr_free(h);
    return 0;
}

/* ---- Looking at actions --------------------------------------------------- */

static size_t count(const struct h *h, enum chr_action_type t)
{
    size_t n = 0;
    for (size_t i = 0; i < h->a.n; i++)
        n += h->a.v[i].type == t;
    return n;
}

static const struct chr_action *nth(const struct h *h, enum chr_action_type t, size_t k)
{
    for (size_t i = 0; i < h->a.n; i++)
        if (h->a.v[i].type == t && k-- == 0)
            return &h->a.v[i];
    return NULL;
}

static const struct chr_action *reply_for(const struct h *h, uint64_t req)
{
    for (size_t i = 0; i < h->a.n; i++)
        if (h->a.v[i].type == CHR_ACT_REPLY && h->a.v[i].u.reply.request_id == req)
            return &h->a.v[i];
    return NULL;
}

/* Completes every batch of the last step (in order), successfully. */
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

static uint64_t put(struct h *h, struct chr_job job)
{
    struct chr_event ev = {.type = CHR_EV_PUT_JOB, .request_id = ++h->next_req};
    ev.u.job.job = job;
    step(h, &ev);
    return ev.request_id;
}

/* PUT and make it durable; asserts the reply. */
static void put_ok(struct h *h, struct chr_job job)
{
    uint64_t req = put(h, job);
    assert_null(reply_for(h, req));
    assert_true(count(h, CHR_ACT_PERSIST) >= 1);
    durable(h);
    const struct chr_action *r = reply_for(h, req);
    assert_non_null(r);
    if (r->u.reply.result != CHR_OK)
        fail_msg("put failed: %s", r->u.reply.message);
}

static const struct chr_action *named(struct h *h, enum chr_event_type t, const char *name)
{
    struct chr_event ev = {.type = t, .request_id = ++h->next_req};
    ev.u.named.name = name;
    step(h, &ev);
    durable(h);
    return reply_for(h, ev.request_id);
}

static void offer(struct h *h, uint64_t id, double cpus, double mem)
{
    struct chr_event ev = {.type = CHR_EV_OFFER};
    ev.u.offer.id = id;
    ev.u.offer.cpus = cpus;
    ev.u.offer.mem_mb = mem;
    ev.u.offer.disk_mb = 1000;
    step(h, &ev);
}

/* An offer from an agent with attributes (name, value pairs) whose
 * manager runs containers or not. */
static void offer_at(struct h *h, uint64_t id, const char *host, const char *const *kv, size_t n,
                     bool containers)
{
    struct chr_offer_attr a[8];
    assert_true(n <= 8);
    for (size_t i = 0; i < n; i++)
        a[i] = (struct chr_offer_attr){kv[2 * i], kv[2 * i + 1]};
    struct chr_event ev = {.type = CHR_EV_OFFER};
    ev.u.offer.id = id;
    ev.u.offer.cpus = 4;
    ev.u.offer.mem_mb = 4096;
    ev.u.offer.disk_mb = 1000;
    ev.u.offer.hostname = host;
    ev.u.offer.attrs = a;
    ev.u.offer.n_attrs = n;
    ev.u.offer.containers = containers;
    step(h, &ev);
}

static void add_constraint(struct chr_job *j, const char *attr, enum chr_constraint_op op,
                           const char *value)
{
    j->constraints = chr_realloc(j->constraints, (j->n_constraints + 1) * sizeof *j->constraints);
    assert_non_null(j->constraints);
    j->constraints[j->n_constraints++] = (struct chr_constraint){dup(attr), op, dup(value)};
}

static void status(struct h *h, const char *run_id, enum chr_run_state s, int32_t code)
{
    struct chr_event ev = {.type = CHR_EV_TASK_STATUS};
    ev.u.status.run_id = run_id;
    ev.u.status.state = s;
    ev.u.status.exit_code = code;
    ev.u.status.reason = s == CHR_RUN_FINISHED ? "" : "exit";
    step(h, &ev);
}

static void advance(struct h *h, int64_t to)
{
    h->now = to;
    step(h, NULL);
}

static const struct chr_job_state *state_of(struct h *h, const char *name)
{
    const struct chr_job_state *st = NULL;
    assert_non_null(chr_core_job(h->core, name, &st));
    return st;
}

/* ---- Requests ---------------------------------------------------------------- */

static void test_put_bad_schedule_and_zone(void **state)
{
    struct h *h = *state;
    uint64_t r1 = put(h, mkjob("a", "R/2024-13-01T00:00:00Z/PT1M"));
    const struct chr_action *a = reply_for(h, r1);
    assert_non_null(a);
    assert_int_equal(a->u.reply.result, CHR_EINVAL);
    assert_non_null(strstr(a->u.reply.message, "schedule"));
    struct chr_job j = mkjob("b", "0 3 * * *");
    j.schedule_tz = dup("Mars/Olympus");
    uint64_t r2 = put(h, j);
    a = reply_for(h, r2);
    assert_non_null(a);
    assert_int_equal(a->u.reply.result, CHR_EINVAL);
    assert_non_null(strstr(a->u.reply.message, "scheduleTimeZone"));
    assert_int_equal(chr_core_job_count(h->core), 0);
}

static void test_reply_after_durable(void **state)
{
    struct h *h = *state;
    uint64_t req = put(h, mkjob("a", "R/2024-01-01T00:00:00Z/PT1H"));
    assert_null(reply_for(h, req));
    const struct chr_action *p = nth(h, CHR_ACT_PERSIST, 0);
    assert_non_null(p);
    assert_int_equal(p->u.persist.n, 1);
    assert_int_equal(p->u.persist.items[0].op, CHR_PERSIST_JOB);
    assert_string_equal(p->u.persist.items[0].job->name, "a");
    assert_instant(p->u.persist.items[0].state->next_ms, "2024-01-01T01:00:00Z");
    durable(h);
    assert_non_null(reply_for(h, req));
    assert_int_equal(reply_for(h, req)->u.reply.result, CHR_OK);
    assert_int_equal(chr_core_next_wakeup(h->core), T("2024-01-01T01:00:00Z"));
}

static void test_start_now_grace(void **state)
{
    struct h *h = *state;
    /* The API's run-once default: a start of "now" still runs. */
    put_ok(h, mkjob("once", "R1/2024-01-01T00:00:29Z/PT24H"));
    const struct chr_run *runs[2];
    assert_int_equal(chr_core_job_runs(h->core, "once", runs, 2), 1);
    assert_instant(runs[0]->due_ms, "2024-01-01T00:00:29Z");
    assert_int_equal(state_of(h, "once")->instants_handled, 1);
    assert_int_equal(state_of(h, "once")->next_ms, INT64_MAX);
    put_ok(h, mkjob("past", "R1/2024-01-01T00:00:00Z/PT24H"));
    assert_int_equal(state_of(h, "past")->next_ms, INT64_MAX);
}

static void test_parents_and_cycles(void **state)
{
    struct h *h = *state;
    struct chr_job d = mkjob("d", NULL);
    add_parent(&d, "nope");
    uint64_t r = put(h, d);
    assert_int_equal(reply_for(h, r)->u.reply.result, CHR_EINVAL);
    assert_non_null(strstr(reply_for(h, r)->u.reply.message, "parents: unknown job 'nope'"));
    put_ok(h, mkjob("a", "R/2024-01-01T00:00:00Z/PT1H"));
    struct chr_job b = mkjob("b", NULL);
    add_parent(&b, "a");
    put_ok(h, b);
    struct chr_job c = mkjob("c", NULL);
    add_parent(&c, "b");
    put_ok(h, c);
    /* a <- c would close a -> b -> c -> a */
    struct chr_job a2 = mkjob("a", NULL);
    add_parent(&a2, "c");
    r = put(h, a2);
    const struct chr_action *rep = reply_for(h, r);
    assert_int_equal(rep->u.reply.result, CHR_EINVAL);
    assert_non_null(strstr(rep->u.reply.message, "cycle: a -> b -> c -> a"));
    rep = named(h, CHR_EV_DELETE_JOB, "a");
    assert_int_equal(rep->u.reply.result, CHR_ECONFLICT);
    assert_non_null(strstr(rep->u.reply.message, "job 'a' has dependents: b"));
    assert_int_equal(named(h, CHR_EV_DELETE_JOB, "c")->u.reply.result, CHR_OK);
    assert_int_equal(named(h, CHR_EV_DELETE_JOB, "b")->u.reply.result, CHR_OK);
    assert_int_equal(named(h, CHR_EV_DELETE_JOB, "a")->u.reply.result, CHR_OK);
    assert_int_equal(named(h, CHR_EV_DELETE_JOB, "a")->u.reply.result, CHR_ENOENT);
    assert_int_equal(chr_core_job_count(h->core), 0);
}

static const struct chr_action *delete_forced(struct h *h, const char *name)
{
    struct chr_event ev = {.type = CHR_EV_DELETE_JOB, .request_id = ++h->next_req};
    ev.u.named.name = name;
    ev.u.named.force = true;
    step(h, &ev);
    durable(h);
    return reply_for(h, ev.request_id);
}

static bool parents_are(struct h *h, const char *name, const char *want)
{
    const struct chr_job *d = chr_core_job(h->core, name, NULL);
    char got[256] = "";
    for (uint32_t i = 0; d != NULL && i < d->n_parents; i++)
        snprintf(got + strlen(got), sizeof got - strlen(got), "%s%s", i ? "," : "",
                 d->parents[i]);
    if (d == NULL || strcmp(got, want) != 0)
        print_error("%s: parents '%s', want '%s'\n", name, got, want);
    return d != NULL && strcmp(got, want) == 0;
}

/* DELETE ?force=true of a parent, in one batch: a dependent parent's
 * children take its parents (none twice); a scheduled parent's child left
 * without parents takes its schedule and zone, keeping its own fields; a
 * child with other parents keeps them; counters of kept parents are kept. */
static void test_forced_delete_rewrites_children(void **state)
{
    struct h *h = *state;
    put_ok(h, mkjob("g", "R/2024-01-01T00:00:00Z/PT1H"));
    struct chr_job p = mkjob("p", NULL);
    add_parent(&p, "g");
    put_ok(h, p);
    struct chr_job c1 = mkjob("c1", NULL); /* p and g: g once */
    add_parent(&c1, "p");
    add_parent(&c1, "g");
    put_ok(h, c1);
    struct chr_job c2 = mkjob("c2", NULL);
    add_parent(&c2, "p");
    put_ok(h, c2);
    struct chr_job s = mkjob("s", "R/2024-01-01T00:00:00Z/PT2H");
    s.schedule_tz = dup("Europe/Paris");
    const struct chr_tz *tz = NULL; /* the API loads a job's zone before the core sees it */
    assert_int_equal(chr_tzdb_get(h->db, "Europe/Paris", &tz, NULL), CHR_OK);
    put_ok(h, s);
    struct chr_job k1 = mkjob("k1", NULL); /* s only: becomes scheduled */
    add_parent(&k1, "s");
    k1.description = dup("kept");
    k1.retries = 3;
    put_ok(h, k1);
    struct chr_job k2 = mkjob("k2", NULL); /* s and g: keeps g */
    add_parent(&k2, "s");
    add_parent(&k2, "g");
    put_ok(h, k2);

    /* Without force: refused, naming them, with the way on. */
    const struct chr_action *rep = named(h, CHR_EV_DELETE_JOB, "p");
    assert_int_equal(rep->u.reply.result, CHR_ECONFLICT);
    assert_non_null(strstr(rep->u.reply.message, "job 'p' has dependents: c1, c2 ("));
    assert_non_null(strstr(rep->u.reply.message, "?force=true"));

    struct chr_event ev = {.type = CHR_EV_DELETE_JOB, .request_id = ++h->next_req};
    ev.u.named.name = "p";
    ev.u.named.force = true;
    step(h, &ev);
    /* One batch: both children rewritten and p deleted. */
    assert_int_equal(count(h, CHR_ACT_PERSIST), 1);
    const struct chr_action *b = nth(h, CHR_ACT_PERSIST, 0);
    size_t jobs = 0, deletes = 0;
    for (size_t i = 0; i < b->u.persist.n; i++) {
        jobs += b->u.persist.items[i].op == CHR_PERSIST_JOB;
        deletes += b->u.persist.items[i].op == CHR_PERSIST_DELETE_JOB;
    }
    assert_int_equal(jobs, 2);
    assert_int_equal(deletes, 1);
    durable(h);
    assert_int_equal(reply_for(h, ev.request_id)->u.reply.result, CHR_OK);
    assert_null(chr_core_job(h->core, "p", NULL));
    assert_true(parents_are(h, "c1", "g"));
    assert_true(parents_are(h, "c2", "g"));
    assert_int_equal(state_of(h, "c1")->n_parent_successes, 1);

    rep = delete_forced(h, "s");
    assert_int_equal(rep->u.reply.result, CHR_OK);
    const struct chr_job *d = chr_core_job(h->core, "k1", NULL);
    assert_non_null(d);
    assert_int_equal(d->n_parents, 0);
    assert_string_equal(d->schedule, "R/2024-01-01T00:00:00Z/PT2H");
    assert_string_equal(d->schedule_tz, "Europe/Paris");
    assert_string_equal(d->description, "kept");
    assert_int_equal(d->retries, 3);
    /* s's instants from now on: 00:00 in Paris every 2 h, so 02:00 there, 01:00 UTC */
    assert_instant(state_of(h, "k1")->next_ms, "2024-01-01T01:00:00Z");
    assert_true(parents_are(h, "k2", "g"));
    assert_null(chr_core_job(h->core, "s", NULL));
    /* g now has children c1, c2, k2: a plain delete is still refused. */
    assert_int_equal(named(h, CHR_EV_DELETE_JOB, "g")->u.reply.result, CHR_ECONFLICT);
    /* A forced delete of a job without dependents is a delete. */
    assert_int_equal(delete_forced(h, "k1")->u.reply.result, CHR_OK);
    assert_int_equal(chr_core_job_count(h->core), 4); /* g, c1, c2, k2 */
}

/* A child that cannot take the parent's place (its parents would pass
 * CHR_JOB_PARENTS_MAX) refuses the whole forced delete: nothing changes. */
static void test_forced_delete_refused_whole(void **state)
{
    struct h *h = *state;
    char name[32];
    for (int i = 0; i <= CHR_JOB_PARENTS_MAX; i++) {
        snprintf(name, sizeof name, "g%03d", i);
        put_ok(h, mkjob(name, "R/2024-01-01T00:00:00Z/PT1H"));
    }
    struct chr_job p = mkjob("p", NULL); /* g000, g001 */
    add_parent(&p, "g000");
    add_parent(&p, "g001");
    put_ok(h, p);
    struct chr_job ok = mkjob("ok", NULL);
    add_parent(&ok, "p");
    put_ok(h, ok);
    struct chr_job full = mkjob("full", NULL); /* p and g002..g100: 100 parents */
    add_parent(&full, "p");
    for (int i = 2; i <= CHR_JOB_PARENTS_MAX; i++) {
        snprintf(name, sizeof name, "g%03d", i);
        add_parent(&full, name);
    }
    put_ok(h, full);
    size_t jobs = chr_core_job_count(h->core);
    const struct chr_action *rep = delete_forced(h, "p");
    assert_int_equal(rep->u.reply.result, CHR_EINVAL);
    assert_non_null(strstr(rep->u.reply.message, "job 'p' cannot be deleted with force: its "
                                                 "dependent 'full' cannot take its place: parents"));
    assert_int_equal(chr_core_job_count(h->core), jobs);
    assert_true(parents_are(h, "ok", "p"));
    assert_non_null(chr_core_job(h->core, "p", NULL));
}

/* Every allocation of a forced delete fails in turn: CHR_ENOMEM changes
 * nothing (the parent and its children as they were), until it succeeds. */
static void test_forced_delete_allocation_failures(void **state)
{
    struct h *h = *state;
    put_ok(h, mkjob("g", "R/2024-01-01T00:00:00Z/PT1H"));
    put_ok(h, mkjob("s", "R/2024-01-01T00:00:00Z/PT2H"));
    struct chr_job p = mkjob("p", NULL);
    add_parent(&p, "g");
    add_parent(&p, "s");
    put_ok(h, p);
    static const char *const kids[] = {"a", "b", "c"};
    for (size_t i = 0; i < 3; i++) {
        struct chr_job k = mkjob(kids[i], NULL);
        add_parent(&k, "p");
        if (i == 1)
            add_parent(&k, "s");
        put_ok(h, k);
    }
    long n;
    for (n = 1; n < 500; n++) {
        struct chr_event ev = {.type = CHR_EV_DELETE_JOB, .request_id = 2000 + (uint64_t)n};
        ev.u.named.name = "p";
        ev.u.named.force = true;
        chr_alloc_fail_after(n);
        step(h, &ev);
        chr_alloc_fail_after(-1);
        if (h->rc == CHR_ENOMEM) {
            assert_non_null(chr_core_job(h->core, "p", NULL));
            assert_true(parents_are(h, "a", "p") && parents_are(h, "b", "p,s") &&
                        parents_are(h, "c", "p"));
            continue;
        }
        assert_int_equal(h->rc, CHR_OK);
        durable(h);
        assert_int_equal(reply_for(h, ev.request_id)->u.reply.result, CHR_OK);
        break;
    }
    assert_true(n > 1 && n < 500);
    assert_null(chr_core_job(h->core, "p", NULL));
    assert_true(parents_are(h, "a", "g,s") && parents_are(h, "b", "s,g") &&
                parents_are(h, "c", "g,s"));
}

/* ---- Due, record, launch ----------------------------------------------------- */

static void test_due_records_before_launch(void **state)
{
    struct h *h = *state;
    put_ok(h, mkjob("a", "R/2024-01-01T00:00:00Z/PT1M"));
    offer(h, 1, 1, 1024); /* nothing waits: declined (suppressed since loading) */
    assert_int_equal(count(h, CHR_ACT_DECLINE), 1);
    assert_int_equal(count(h, CHR_ACT_SUPPRESS), 0);
    advance(h, T("2024-01-01T00:01:00Z"));
    const struct chr_action *p = nth(h, CHR_ACT_PERSIST, 0);
    assert_non_null(p);
    assert_int_equal(p->u.persist.n, 2);
    assert_int_equal(p->u.persist.items[0].op, CHR_PERSIST_RUN);
    assert_string_equal(p->u.persist.items[0].run->id, "ct:1704067260000:0:a");
    assert_int_equal(p->u.persist.items[1].op, CHR_PERSIST_STATE);
    assert_instant(p->u.persist.items[1].state->next_ms, "2024-01-01T00:02:00Z");
    assert_int_equal(count(h, CHR_ACT_LAUNCH), 0);
    assert_int_equal(count(h, CHR_ACT_REVIVE), 0); /* not queued until durable */
    durable(h);
    assert_int_equal(count(h, CHR_ACT_REVIVE), 1);
    offer(h, 2, 1, 1024);
    assert_int_equal(count(h, CHR_ACT_LAUNCH), 1);
    const struct chr_action *l = nth(h, CHR_ACT_LAUNCH, 0);
    assert_string_equal(l->u.launch.run->id, "ct:1704067260000:0:a");
    assert_int_equal(l->u.launch.offer_id, 2);
    assert_int_equal(count(h, CHR_ACT_SUPPRESS), 1);
    status(h, "ct:1704067260000:0:a", CHR_RUN_RUNNING, 0);
    status(h, "ct:1704067260000:0:a", CHR_RUN_FINISHED, 0);
    p = nth(h, CHR_ACT_PERSIST, 0);
    assert_non_null(p);
    assert_int_equal(p->u.persist.items[0].op, CHR_PERSIST_RUN_DONE);
    durable(h);
    const struct chr_job_state *st = state_of(h, "a");
    assert_int_equal(st->stats.success_count, 1);
    assert_int_equal(st->history_len, 1);
    assert_int_equal(st->history[0].state, CHR_RUN_FINISHED);
}

static void test_catch_up_after_downtime(void **state)
{
    struct h *h = *state;
    put_ok(h, mkjob("m", "R/2024-01-01T00:00:00Z/PT1M"));
    /* The loop stalls two hours: one run for the latest instant, the rest
     * ledgered as missed while down (older than the tolerance). */
    advance(h, T("2024-01-01T02:00:30Z"));
    const struct chr_action *p = nth(h, CHR_ACT_PERSIST, 0);
    assert_non_null(p);
    assert_string_equal(p->u.persist.items[0].run->id, "ct:1704074400000:0:m");
    const struct chr_job_state *st = p->u.persist.items[1].state;
    assert_int_equal(st->instants_handled, 120);
    assert_int_equal(st->ledger_len, 1);
    assert_int_equal(st->ledger[0].reason, CHR_LEDGER_COALESCED_DOWN);
    assert_int_equal(st->ledger[0].count, 119);
    assert_instant(st->ledger[0].first_ms, "2024-01-01T00:01:00Z");
    assert_instant(st->ledger[0].last_ms, "2024-01-01T01:59:00Z");
    durable(h);
    /* A short lag (< 1 min) coalesces as merely late ("busy"). */
    struct chr_job f = mkjob("f", "R/2024-01-01T00:00:00Z/PT10S");
    put_ok(h, f);
    advance(h, h->now + 25000);
    st = state_of(h, "f");
    assert_int_equal(st->ledger_len, 1);
    assert_int_equal(st->ledger[0].reason, CHR_LEDGER_COALESCED_BUSY);
    assert_int_equal(st->ledger[0].count, 2);
}

static void test_deadline_and_busy(void **state)
{
    struct h *h = *state;
    struct chr_job j = mkjob("d", "R/2024-01-01T00:00:00Z/PT1M");
    j.starting_deadline_ms = 10000;
    put_ok(h, j);
    advance(h, T("2024-01-01T00:01:20Z")); /* 20 s late */
    const struct chr_job_state *st = state_of(h, "d");
    assert_int_equal(st->ledger_len, 1);
    assert_int_equal(st->ledger[0].reason, CHR_LEDGER_SKIPPED_DEADLINE);
    assert_int_equal(chr_core_job_runs(h->core, "d", (const struct chr_run *[4]){0}, 4), 0);
    durable(h);
    /* Non-concurrent: a waiting run makes the next instant coalesce. */
    advance(h, T("2024-01-01T00:02:00Z"));
    durable(h);
    advance(h, T("2024-01-01T00:03:00Z"));
    durable(h);
    st = state_of(h, "d");
    assert_int_equal(st->ledger[st->ledger_len - 1].reason, CHR_LEDGER_COALESCED_BUSY);
    const struct chr_run *runs[4];
    assert_int_equal(chr_core_job_runs(h->core, "d", runs, 4), 1);
    assert_int_equal(runs[0]->state, CHR_RUN_QUEUED);
}

static void test_first_fit_no_head_of_line(void **state)
{
    struct h *h = *state;
    struct chr_job big = mkjob("big", "R/2024-01-01T00:00:00Z/PT1H");
    big.cpus = 8;
    big.high_priority = true;
    put_ok(h, big);
    put_ok(h, mkjob("small", "R/2024-01-01T00:00:00Z/PT1H"));
    advance(h, T("2024-01-01T01:00:00Z"));
    durable(h);
    offer(h, 7, 1, 1024);
    /* big (first in order) does not fit; small still launches. */
    assert_int_equal(count(h, CHR_ACT_LAUNCH), 1);
    assert_string_equal(nth(h, CHR_ACT_LAUNCH, 0)->u.launch.run->job, "small");
    assert_int_equal(count(h, CHR_ACT_DECLINE), 0);
    offer(h, 8, 16, 4096);
    assert_int_equal(count(h, CHR_ACT_LAUNCH), 1);
    assert_string_equal(nth(h, CHR_ACT_LAUNCH, 0)->u.launch.run->job, "big");
}

/* A decline's filter must not keep a run that became ready later from the
 * resources it fits: the core revives offers for new demand. */
static void test_new_demand_revives_after_decline(void **state)
{
    struct h *h = *state;
    struct chr_job big = mkjob("big", "R1/2024-01-01T00:01:00Z/PT1H");
    big.cpus = 8;
    put_ok(h, big);
    put_ok(h, mkjob("tick", "R/2024-01-01T00:02:00Z/PT1M"));
    advance(h, T("2024-01-01T00:01:00Z"));
    durable(h);
    assert_int_equal(count(h, CHR_ACT_REVIVE), 1);
    offer(h, 1, 1, 1024);
    /* big fits nothing: it says why, keeps its place, and the offer goes. */
    assert_int_equal(count(h, CHR_ACT_LAUNCH), 0);
    assert_int_equal(count(h, CHR_ACT_WAITING), 1);
    const struct chr_run *w = nth(h, CHR_ACT_WAITING, 0)->u.run.run;
    assert_string_equal(w->job, "big");
    assert_non_null(strstr(w->reason, "waiting for resources: needs cpus 8"));
    assert_non_null(strstr(w->reason, "largest free offer cpus 1"));
    assert_int_equal(count(h, CHR_ACT_DECLINE), 1);
    /* The offer held need not be all there is (another agent's may be
     * filtered): big's first miss revives offers, once. */
    assert_int_equal(count(h, CHR_ACT_REVIVE), 1);
    offer(h, 2, 1, 1024);
    assert_int_equal(count(h, CHR_ACT_DECLINE), 1);
    assert_int_equal(count(h, CHR_ACT_REVIVE), 0); /* nothing new waits */
    assert_int_equal(count(h, CHR_ACT_WAITING), 0);
    for (int k = 0; k < 3; k++) {
        /* Each new instant of tick is new demand: offers are revived. */
        advance(h, T("2024-01-01T00:02:00Z") + k * 60000);
        durable(h);
        assert_int_equal(count(h, CHR_ACT_REVIVE), 1);
        offer(h, 10 + (uint64_t)k, 1, 1024);
        assert_int_equal(count(h, CHR_ACT_LAUNCH), 1);
        assert_string_equal(nth(h, CHR_ACT_LAUNCH, 0)->u.launch.run->job, "tick");
        assert_int_equal(count(h, CHR_ACT_WAITING), 0); /* said once */
        const struct chr_run *runs[4];
        assert_int_equal(chr_core_job_runs(h->core, "tick", runs, 4), 1);
        status(h, runs[0]->id, CHR_RUN_FINISHED, 0);
        durable(h);
    }
    /* Deleting the waiting job releases its place: nothing wants offers. */
    const struct chr_action *r = named(h, CHR_EV_DELETE_JOB, "big");
    assert_non_null(r);
    assert_int_equal(r->u.reply.result, CHR_OK);
    struct chr_core_counts c;
    chr_core_counts(h->core, &c);
    assert_int_equal(c.runs_waiting, 0);
}

/* A non-concurrent job whose run waits for resources ledgers its next
 * instants as waiting for resources, not as merely late. */
static void test_waiting_ledgered(void **state)
{
    struct h *h = *state;
    struct chr_job j = mkjob("fat", "R/2024-01-01T00:01:00Z/PT1M");
    j.cpus = 4;
    put_ok(h, j);
    advance(h, T("2024-01-01T00:01:00Z"));
    durable(h);
    offer(h, 1, 1, 1024);
    assert_int_equal(count(h, CHR_ACT_WAITING), 1);
    advance(h, T("2024-01-01T00:02:00Z"));
    durable(h);
    const struct chr_job_state *st = state_of(h, "fat");
    assert_int_equal(st->ledger_len, 1);
    assert_int_equal(st->ledger[0].reason, CHR_LEDGER_COALESCED_WAITING);
    assert_instant(st->ledger[0].first_ms, "2024-01-01T00:02:00Z");
    /* Once it fits, it launches: the wait was for room, not forever. */
    offer(h, 2, 8, 4096);
    assert_int_equal(count(h, CHR_ACT_LAUNCH), 1);
    assert_string_equal(nth(h, CHR_ACT_LAUNCH, 0)->u.launch.run->reason, "");
}

/* The NOTICE items of kind k in the last step's batches (at most 4), each
 * with the batch's RUN item of the same run, or NULL. */
static size_t notices(const struct h *h, enum chr_notice_kind k, const struct chr_notice **out,
                      const struct chr_run **runs)
{
    size_t n = 0;
    for (size_t i = 0; i < h->a.n; i++) {
        const struct chr_action *a = &h->a.v[i];
        if (a->type != CHR_ACT_PERSIST)
            continue;
        for (size_t j = 0; j < a->u.persist.n; j++) {
            const struct chr_persist_item *it = &a->u.persist.items[j];
            if (it->op != CHR_PERSIST_NOTICE || it->notice->kind != k || n >= 4)
                continue;
            out[n] = it->notice;
            runs[n] = NULL;
            for (size_t m = 0; m < a->u.persist.n; m++)
                if (a->u.persist.items[m].op == CHR_PERSIST_RUN &&
                    strcmp(a->u.persist.items[m].run->id, it->notice->run_id) == 0)
                    runs[n] = a->u.persist.items[m].run;
            n++;
        }
    }
    return n;
}

/* A run that no offer fits for notify_waiting_ms gets one WAITING notice,
 * at the instant chr_core_next_wakeup gave, in a batch that records the run
 * as told; never again, and never for a run that fits. */
static void test_waiting_notice_once(void **state)
{
    struct h *h = *state;
    const struct chr_notice *nt[4];
    const struct chr_run *rr[4];
    struct chr_job fat = mkjob("fat", "R1/2024-01-01T00:01:00Z/PT1H");
    fat.cpus = 4;
    put_ok(h, fat);
    put_ok(h, mkjob("thin", "R1/2024-01-01T00:01:00Z/PT1H"));
    advance(h, T("2024-01-01T00:01:00Z"));
    durable(h);
    offer(h, 1, 1, 1024); /* thin launches; fat waits from now */
    assert_int_equal(count(h, CHR_ACT_LAUNCH), 1);
    assert_int_equal(count(h, CHR_ACT_WAITING), 1);
    int64_t since = h->now;
    assert_int_equal(chr_core_next_wakeup(h->core), since + 10000);
    advance(h, since + 9999);
    assert_int_equal(notices(h, CHR_NOTICE_WAITING, nt, rr), 0);
    advance(h, since + 10000);
    assert_int_equal(notices(h, CHR_NOTICE_WAITING, nt, rr), 1);
    assert_string_equal(nt[0]->job->name, "fat");
    assert_int_equal(nt[0]->first_ms, since);
    assert_int_equal(nt[0]->last_ms, since + 10000);
    assert_non_null(strstr(nt[0]->reason, "waiting for resources: needs cpus 4"));
    assert_non_null(rr[0]); /* the run, told, in the same batch */
    assert_true(rr[0]->wait_notified);
    assert_int_equal(rr[0]->state, CHR_RUN_QUEUED);
    durable(h);
    assert_true(chr_core_next_wakeup(h->core) > since + 10000);
    offer(h, 2, 1, 1024); /* still nothing fits it: no second notice */
    assert_int_equal(notices(h, CHR_NOTICE_WAITING, nt, rr), 0);
    advance(h, since + 3600000);
    assert_int_equal(notices(h, CHR_NOTICE_WAITING, nt, rr), 0);
    /* thin, which fitted, never told: the notice went to fat alone. */
    const struct chr_run *runs[2];
    assert_int_equal(chr_core_job_runs(h->core, "thin", runs, 2), 1);
    assert_false(runs[0]->wait_notified);
}

/* A run that waited and then fits before the bound tells nothing; one
 * loaded as told (after a restart) does not tell again. */
static void test_waiting_notice_not_when_launched_or_told(void **state)
{
    struct h *h = *state;
    const struct chr_notice *nt[4];
    const struct chr_run *rr[4];
    struct chr_job fat = mkjob("fat", "R1/2024-01-01T00:01:00Z/PT1H");
    fat.cpus = 4;
    put_ok(h, fat);
    advance(h, T("2024-01-01T00:01:00Z"));
    durable(h);
    offer(h, 1, 1, 1024);
    assert_int_equal(count(h, CHR_ACT_WAITING), 1);
    advance(h, h->now + 5000);
    offer(h, 2, 8, 4096);
    assert_int_equal(count(h, CHR_ACT_LAUNCH), 1);
    assert_int_equal(chr_core_next_wakeup(h->core), INT64_MAX);
    advance(h, h->now + 60000);
    assert_int_equal(notices(h, CHR_NOTICE_WAITING, nt, rr), 0);

    chr_core_destroy(h->core);
    struct chr_core_config cfg = {.tzdb = h->db, .history_max = 5, .notify_waiting_ms = 10000};
    assert_int_equal(chr_core_create(&cfg, &h->core), CHR_OK);
    struct chr_event ev = {.type = CHR_EV_LOAD_JOB};
    ev.u.job.job = mkjob("fat", "R1/2024-01-01T00:01:00Z/PT1H");
    ev.u.job.job.cpus = 4;
    chr_job_state_init(&ev.u.job.state);
    step(h, &ev);
    struct chr_event lr = {.type = CHR_EV_LOAD_RUN};
    snprintf(lr.u.run.id, sizeof lr.u.run.id, "ct:1704067260000:0:fat");
    snprintf(lr.u.run.job, sizeof lr.u.run.job, "fat");
    lr.u.run.state = CHR_RUN_QUEUED;
    lr.u.run.cause = CHR_CAUSE_SCHEDULED;
    lr.u.run.due_ms = T("2024-01-01T00:01:00Z");
    lr.u.run.wait_notified = true;
    step(h, &lr);
    struct chr_event done = {.type = CHR_EV_LOAD_DONE};
    step(h, &done);
    durable(h);
    status(h, "ct:1704067260000:0:fat", CHR_RUN_QUEUED, 0); /* never started */
    offer(h, 3, 1, 1024);
    assert_int_equal(count(h, CHR_ACT_WAITING), 1);
    assert_int_equal(chr_core_next_wakeup(h->core), INT64_MAX); /* no deadline: told */
    advance(h, h->now + 3600000);
    assert_int_equal(notices(h, CHR_NOTICE_WAITING, nt, rr), 0);
}

/* What can never fit this host, and schedules that storm, are refused. */
static void test_put_limits(void **state)
{
    struct h *h = *state;
    static const struct {
        double cpus, mem, disk;
        const char *schedule;
        const char *want; /* NULL: accepted */
    } cases[] = {
        {64, 0, 0, "R/2024-01-01T00:00:00Z/PT1H", "cpus: 64 exceeds what this host offers (2)"},
        {0, 5000, 0, "R/2024-01-01T00:00:00Z/PT1H", "mem: 5000 MB exceeds what this host offers (4096 MB)"},
        {0, 0, 20000, "R/2024-01-01T00:00:00Z/PT1H", "disk: 20000 MB exceeds"},
        {2, 4096, 10000, "R/2024-01-01T00:00:00Z/PT1H", NULL},
        {0, 0, 0, "R/2024-01-01T00:00:00Z/PT0.001S", "schedule: instants 0.001 s apart; the minimum is 1 s"},
        {0, 0, 0, "R/2024-01-01T00:00:00Z/PT0.5S", "schedule: instants 0.5 s apart"},
        {0, 0, 0, "R/2024-01-01T00:00:00Z/PT1S", NULL},
        {0, 0, 0, "R1/2024-01-01T00:00:00Z/PT0.001S", NULL}, /* fires once */
        {0, 0, 0, "* * * * *", NULL},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct chr_job j = mkjob("x", cases[i].schedule);
        j.cpus = cases[i].cpus, j.mem_mb = cases[i].mem, j.disk_mb = cases[i].disk;
        uint64_t req = put(h, j);
        durable(h);
        const struct chr_action *a = reply_for(h, req);
        assert_non_null(a);
        if (cases[i].want == NULL) {
            assert_int_equal(a->u.reply.result, CHR_OK);
            continue;
        }
        assert_int_equal(a->u.reply.result, CHR_EINVAL);
        if (strstr(a->u.reply.message, cases[i].want) == NULL)
            fail_msg("case %zu: '%s' lacks '%s'", i, a->u.reply.message, cases[i].want);
    }
}

/* A longer minimum refuses crons that fire closer than it, anywhere in a
 * day; the gaps are found across hours and midnight. */
static void test_min_period_cron(void **state)
{
    struct h *h = *state;
    chr_core_destroy(h->core);
    struct chr_core_config cfg = {.tzdb = h->db, .min_period_ms = 10 * 60000};
    assert_int_equal(chr_core_create(&cfg, &h->core), CHR_OK);
    struct chr_event done = {.type = CHR_EV_LOAD_DONE};
    step(h, &done);
    static const struct {
        const char *cron;
        bool ok;
    } cases[] = {
        {"*/10 * * * *", true},  {"*/5 * * * *", false}, {"0 * * * *", true},
        {"0,5 3 * * *", false},  {"59 23 * * *", true},  {"0,59 0,23 * * *", false},
        {"0 0 1 1 *", true},     {"@hourly", true},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        uint64_t req = put(h, mkjob("c", cases[i].cron));
        durable(h);
        const struct chr_action *a = reply_for(h, req);
        assert_non_null(a);
        if ((a->u.reply.result == CHR_OK) != cases[i].ok)
            fail_msg("'%s': %s", cases[i].cron, a->u.reply.message);
    }
}

/* The registry's cap (max_jobs): a new job past it is refused with a 400
 * naming "name" and the setting; a job already there may still be replaced,
 * and once one is deleted another fits. */
static void test_jobs_cap(void **state)
{
    struct h *h = *state;
    chr_core_destroy(h->core);
    struct chr_core_config cfg = {.tzdb = h->db, .jobs_max = 3};
    assert_int_equal(chr_core_create(&cfg, &h->core), CHR_OK);
    struct chr_event done = {.type = CHR_EV_LOAD_DONE};
    step(h, &done);
    put_ok(h, mkjob("a", "R/2030-01-01T00:00:00Z/PT1H"));
    put_ok(h, mkjob("b", "R/2030-01-01T00:00:00Z/PT1H"));
    put_ok(h, mkjob("c", "R/2030-01-01T00:00:00Z/PT1H"));
    uint64_t req = put(h, mkjob("d", "R/2030-01-01T00:00:00Z/PT1H"));
    const struct chr_action *a = reply_for(h, req);
    assert_non_null(a);
    assert_int_equal(a->u.reply.result, CHR_ERANGE);
    assert_non_null(strstr(a->u.reply.message, "name"));
    assert_non_null(strstr(a->u.reply.message, "max_jobs 3"));
    put_ok(h, mkjob("b", "R/2031-01-01T00:00:00Z/PT1H")); /* a replacement fits */
}

static void test_retry_then_final_failure(void **state)
{
    struct h *h = *state;
    struct chr_job j = mkjob("r", "R/2024-01-01T00:00:00Z/PT1H");
    j.retries = 1;
    j.retry_delay_ms = 30000;
    put_ok(h, j);
    advance(h, T("2024-01-01T01:00:00Z"));
    durable(h);
    offer(h, 1, 1, 1024);
    const char *id0 = "ct:1704070800000:0:r";
    assert_string_equal(nth(h, CHR_ACT_LAUNCH, 0)->u.launch.run->id, id0);
    status(h, id0, CHR_RUN_RUNNING, 0);
    status(h, id0, CHR_RUN_FAILED, 1);
    const struct chr_action *p = nth(h, CHR_ACT_PERSIST, 0);
    assert_int_equal(p->u.persist.n, 3); /* RUN_DONE, retry RUN, STATE */
    assert_string_equal(p->u.persist.items[1].run->id, "ct:1704070800000:1:r");
    durable(h);
    offer(h, 2, 1, 1024);
    assert_int_equal(count(h, CHR_ACT_LAUNCH), 0); /* delay not over: declined */
    assert_int_equal(count(h, CHR_ACT_DECLINE), 1);
    assert_int_equal(chr_core_next_wakeup(h->core), T("2024-01-01T01:00:30Z"));
    advance(h, T("2024-01-01T01:00:30Z"));
    assert_int_equal(count(h, CHR_ACT_REVIVE), 1);
    offer(h, 3, 1, 1024);
    assert_int_equal(count(h, CHR_ACT_LAUNCH), 1);
    status(h, "ct:1704070800000:1:r", CHR_RUN_FAILED, 1);
    durable(h);
    const struct chr_job_state *st = state_of(h, "r");
    assert_int_equal(st->stats.error_count, 1);
    assert_int_equal(st->stats.errors_since_last_success, 1);
    assert_int_equal(st->stats.success_count, 0);
}

/* A run adds ended - started to its job's task time once: a repeated
 * RUNNING does not restart it, a repeated end does not add it again, and a
 * run that never started adds nothing. */
static void test_task_time(void **state)
{
    struct h *h = *state;
    struct chr_job j = mkjob("t", "R/2024-01-01T00:00:00Z/PT1H");
    j.retries = 1;
    j.retry_delay_ms = 1000;
    put_ok(h, j);
    advance(h, T("2024-01-01T01:00:00Z"));
    durable(h);
    offer(h, 1, 1, 1024);
    const char *id0 = "ct:1704070800000:0:t", *id1 = "ct:1704070800000:1:t";
    assert_string_equal(nth(h, CHR_ACT_LAUNCH, 0)->u.launch.run->id, id0);
    h->now = T("2024-01-01T01:00:01Z");
    status(h, id0, CHR_RUN_RUNNING, 0);
    durable(h);
    h->now = T("2024-01-01T01:00:03Z");
    status(h, id0, CHR_RUN_RUNNING, 0); /* repeated: still started at :01 */
    durable(h);
    assert_int_equal(state_of(h, "t")->stats.task_time_ms, 0); /* running: not yet */
    h->now = T("2024-01-01T01:00:06.250Z");
    status(h, id0, CHR_RUN_FAILED, 1);
    durable(h);
    assert_int_equal(state_of(h, "t")->stats.task_time_ms, 5250);
    h->now = T("2024-01-01T01:00:07Z");
    status(h, id0, CHR_RUN_FAILED, 1); /* repeated end: ignored */
    durable(h);
    assert_int_equal(state_of(h, "t")->stats.task_time_ms, 5250);
    advance(h, T("2024-01-01T01:00:08Z"));
    offer(h, 2, 1, 1024);
    assert_string_equal(nth(h, CHR_ACT_LAUNCH, 0)->u.launch.run->id, id1);
    h->now = T("2024-01-01T01:00:20Z");
    status(h, id1, CHR_RUN_LOST, -1); /* never reported running */
    durable(h);
    const struct chr_job_state *st = state_of(h, "t");
    assert_int_equal(st->stats.error_count, 1);
    assert_int_equal(st->stats.task_time_ms, 5250);
}

static const char *launch_of(struct h *h, const char *job)
{
    for (size_t k = 0; nth(h, CHR_ACT_LAUNCH, k) != NULL; k++)
        if (strcmp(nth(h, CHR_ACT_LAUNCH, k)->u.launch.run->job, job) == 0)
            return nth(h, CHR_ACT_LAUNCH, k)->u.launch.run->id;
    return NULL;
}

static void test_dependents_fire_once_all_parents_succeeded(void **state)
{
    struct h *h = *state;
    put_ok(h, mkjob("p1", "R/2024-01-01T00:00:00Z/PT1H"));
    put_ok(h, mkjob("p2", "R/2024-01-01T00:00:00Z/PT2H"));
    struct chr_job c = mkjob("c", NULL);
    add_parent(&c, "p1");
    add_parent(&c, "p2");
    put_ok(h, c);
    advance(h, T("2024-01-01T02:00:00Z"));
    durable(h);
    offer(h, 1, 4, 4096);
    char id1[CHR_RUN_ID_MAX], id2[CHR_RUN_ID_MAX];
    snprintf(id1, sizeof id1, "%s", launch_of(h, "p1"));
    snprintf(id2, sizeof id2, "%s", launch_of(h, "p2"));
    status(h, id1, CHR_RUN_FINISHED, 0);
    durable(h);
    assert_int_equal(chr_core_job_runs(h->core, "c", (const struct chr_run *[4]){0}, 4), 0);
    status(h, id2, CHR_RUN_FINISHED, 0);
    const struct chr_action *p = nth(h, CHR_ACT_PERSIST, 0);
    bool child_run = false;
    for (size_t i = 0; i < p->u.persist.n; i++)
        child_run = child_run || (p->u.persist.items[i].op == CHR_PERSIST_RUN &&
                                  strcmp(p->u.persist.items[i].run->job, "c") == 0 &&
                                  p->u.persist.items[i].run->cause == CHR_CAUSE_DEPENDENT);
    assert_true(child_run); /* in the same batch as the parent's outcome */
    durable(h);
    offer(h, 2, 4, 4096);
    assert_non_null(launch_of(h, "c"));
    assert_int_equal(state_of(h, "c")->parent_successes[0], 0);
}

static void test_manual_runs_unique_ids_and_kill(void **state)
{
    struct h *h = *state;
    put_ok(h, mkjob("m", "R/2030-01-01T00:00:00Z/P1D"));
    const struct chr_action *r1 = named(h, CHR_EV_RUN_JOB, "m");
    char a[CHR_ERROR_MESSAGE_MAX];
    snprintf(a, sizeof a, "%s", r1->u.reply.message);
    const struct chr_action *r2 = named(h, CHR_EV_RUN_JOB, "m");
    assert_string_not_equal(a, r2->u.reply.message);
    const struct chr_run *runs[4];
    assert_int_equal(chr_core_job_runs(h->core, "m", runs, 4), 2);
    const struct chr_action *k = named(h, CHR_EV_KILL_JOB, "m");
    assert_int_equal(k->u.reply.result, CHR_OK);
    assert_int_equal(chr_core_job_runs(h->core, "m", runs, 4), 0);
    assert_int_equal(state_of(h, "m")->history_len, 2);
}

/* KILL_JOB with a run id kills that run only; a run that is not active
 * (ended, unknown) is ENOENT and changes nothing. */
static void test_kill_one_run(void **state)
{
    struct h *h = *state;
    put_ok(h, mkjob("m", "R/2030-01-01T00:00:00Z/P1D"));
    char id1[CHR_ERROR_MESSAGE_MAX], id2[CHR_ERROR_MESSAGE_MAX];
    snprintf(id1, sizeof id1, "%s", named(h, CHR_EV_RUN_JOB, "m")->u.reply.message);
    snprintf(id2, sizeof id2, "%s", named(h, CHR_EV_RUN_JOB, "m")->u.reply.message);
    struct chr_event ev = {.type = CHR_EV_KILL_JOB, .request_id = ++h->next_req};
    ev.u.named.name = "m";
    ev.u.named.run_id = id2;
    step(h, &ev);
    durable(h);
    assert_int_equal(reply_for(h, ev.request_id)->u.reply.result, CHR_OK);
    const struct chr_run *runs[4];
    assert_int_equal(chr_core_job_runs(h->core, "m", runs, 4), 1);
    assert_string_equal(runs[0]->id, id1);
    assert_int_equal(state_of(h, "m")->history_len, 1);
    ev.request_id = ++h->next_req; /* again: it is not active any more */
    step(h, &ev);
    durable(h);
    assert_int_equal(reply_for(h, ev.request_id)->u.reply.result, CHR_ENOENT);
    assert_int_equal(chr_core_job_runs(h->core, "m", runs, 4), 1);
    ev.request_id = ++h->next_req;
    ev.u.named.run_id = "ct:1:0:m";
    step(h, &ev);
    durable(h);
    assert_int_equal(reply_for(h, ev.request_id)->u.reply.result, CHR_ENOENT);
    assert_int_equal(chr_core_job_runs(h->core, "m", runs, 4), 1);
}

static void test_replace_keeps_or_restarts_progress(void **state)
{
    struct h *h = *state;
    put_ok(h, mkjob("a", "R/2024-01-01T00:00:00Z/PT1H"));
    advance(h, T("2024-01-01T03:00:00Z"));
    durable(h);
    const struct chr_job_state *st = state_of(h, "a");
    int64_t handled = st->instants_handled, epoch = st->schedule_epoch;
    struct chr_job same = mkjob("a", "R/2024-01-01T00:00:00Z/PT1H");
    same.retries = 3;
    put_ok(h, same);
    st = state_of(h, "a");
    assert_int_equal(st->instants_handled, handled);
    assert_int_equal(st->schedule_epoch, epoch);
    assert_instant(st->next_ms, "2024-01-01T04:00:00Z");
    put_ok(h, mkjob("a", "R/2024-01-01T00:00:00Z/PT2H"));
    st = state_of(h, "a");
    assert_int_equal(st->schedule_epoch, epoch + 1);
    assert_int_equal(st->instants_handled, 0);
    assert_instant(st->next_ms, "2024-01-01T04:00:00Z");
}

static void test_disabled_instants_ledgered_on_enable(void **state)
{
    struct h *h = *state;
    struct chr_job j = mkjob("d", "R/2024-01-01T00:00:00Z/PT1H");
    j.disabled = true;
    put_ok(h, j);
    assert_int_equal(chr_core_next_wakeup(h->core), INT64_MAX); /* not queued */
    advance(h, T("2024-01-01T05:30:00Z"));
    assert_int_equal(count(h, CHR_ACT_PERSIST), 0);
    put_ok(h, mkjob("d", "R/2024-01-01T00:00:00Z/PT1H"));
    const struct chr_job_state *st = state_of(h, "d");
    assert_int_equal(st->ledger_len, 1);
    assert_int_equal(st->ledger[0].reason, CHR_LEDGER_SKIPPED_DISABLED);
    assert_int_equal(st->ledger[0].count, 5); /* 01:00 .. 05:00 */
    assert_instant(st->next_ms, "2024-01-01T06:00:00Z");
    const struct chr_run *runs[2];
    assert_int_equal(chr_core_job_runs(h->core, "d", runs, 2), 0);
    /* Manual runs are allowed while disabled. */
    struct chr_job off = mkjob("d", "R/2024-01-01T00:00:00Z/PT1H");
    off.disabled = true;
    put_ok(h, off);
    assert_int_equal(named(h, CHR_EV_RUN_JOB, "d")->u.reply.result, CHR_OK);
    assert_int_equal(chr_core_job_runs(h->core, "d", runs, 2), 1);
}

static void test_launch_failures_flag_and_back_off(void **state)
{
    struct h *h = *state;
    struct chr_job j = mkjob("bad", "R/2024-01-01T00:00:00Z/PT1H");
    j.retries = 5;
    j.retry_delay_ms = 10000;
    put_ok(h, j);
    advance(h, T("2024-01-01T01:00:00Z"));
    durable(h);
    for (int k = 0; k < 3; k++) {
        offer(h, 10 + (uint64_t)k, 1, 1024);
        const struct chr_action *l = nth(h, CHR_ACT_LAUNCH, 0);
        assert_non_null(l);
        char id[CHR_RUN_ID_MAX];
        snprintf(id, sizeof id, "%s", l->u.launch.run->id);
        status(h, id, CHR_RUN_FAILED, 127);
        durable(h);
        advance(h, chr_core_next_wakeup(h->core));
    }
    const struct chr_job_state *st = state_of(h, "bad");
    assert_true(st->flagged);
    assert_int_equal(st->launch_failures, 3);
    /* Flagged: retries back off with the failures in a row, 10 s x 2^n. */
    const struct chr_run *runs[2];
    assert_int_equal(chr_core_job_runs(h->core, "bad", runs, 2), 1);
    assert_int_equal(runs[0]->attempt, 3);
    offer(h, 20, 1, 1024);
    status(h, runs[0]->id, CHR_RUN_FAILED, 127);
    durable(h);
    int64_t failed_at = h->now;
    assert_int_equal(state_of(h, "bad")->launch_failures, 4);
    assert_int_equal(chr_core_next_wakeup(h->core), failed_at + 160000);
}

static void test_stale_never_started_and_zombie(void **state)
{
    struct h *h = *state;
    put_ok(h, mkjob("a", "R/2024-01-01T00:00:00Z/PT1H"));
    advance(h, T("2024-01-01T01:00:00Z"));
    durable(h);
    offer(h, 1, 1, 1024);
    const char *id = "ct:1704070800000:0:a";
    assert_non_null(launch_of(h, "a"));
    struct chr_event q = {.type = CHR_EV_TASK_STATUS};
    q.u.status.run_id = id;
    q.u.status.state = CHR_RUN_QUEUED;
    q.u.status.offer_id = 1; /* the offer was gone: launch again */
    step(h, &q);
    offer(h, 2, 1, 1024);
    assert_non_null(launch_of(h, "a"));
    step(h, &q); /* the same answer again, late: must not cause a third launch */
    offer(h, 3, 1, 1024);
    assert_null(launch_of(h, "a"));
    status(h, "ct:1:0:ghost", CHR_RUN_RUNNING, 0);
    assert_int_equal(count(h, CHR_ACT_KILL), 1);
    assert_string_equal(nth(h, CHR_ACT_KILL, 0)->u.run.run->id, "ct:1:0:ghost");
}

static void test_mark_success_fires_dependents(void **state)
{
    struct h *h = *state;
    put_ok(h, mkjob("p", "R/2030-01-01T00:00:00Z/P1D"));
    struct chr_job c = mkjob("c", NULL);
    add_parent(&c, "p");
    put_ok(h, c);
    const struct chr_action *r = named(h, CHR_EV_MARK_SUCCESS, "p");
    assert_int_equal(r->u.reply.result, CHR_OK);
    assert_int_equal(state_of(h, "p")->stats.success_count, 1);
    const struct chr_run *runs[2];
    assert_int_equal(chr_core_job_runs(h->core, "c", runs, 2), 1);
    assert_int_equal(runs[0]->cause, CHR_CAUSE_DEPENDENT);
    /* A second success while the child's run waits is absorbed into it. */
    named(h, CHR_EV_MARK_SUCCESS, "p");
    assert_int_equal(chr_core_job_runs(h->core, "c", runs, 2), 1);
}

/* ---- The launch lead --------------------------------------------------------------- */

/* Without a lead nothing happens before the instant, and the launch's
 * not_before_ms is the due instant (a retry's: the end of its delay). */
static void test_lead_zero_unchanged(void **state)
{
    struct h *h = *state;
    put_ok(h, mkjob("a", "R/2024-01-01T00:00:00Z/PT1M"));
    assert_int_equal(chr_core_next_wakeup(h->core), T("2024-01-01T00:01:00Z"));
    advance(h, T("2024-01-01T00:01:00Z") - 1);
    assert_int_equal(count(h, CHR_ACT_PERSIST), 0);
    advance(h, T("2024-01-01T00:01:00Z"));
    assert_int_equal(count(h, CHR_ACT_PERSIST), 1);
    durable(h);
    offer(h, 1, 1, 1024);
    const struct chr_action *l = nth(h, CHR_ACT_LAUNCH, 0);
    assert_non_null(l);
    assert_instant(l->u.launch.run->due_ms, "2024-01-01T00:01:00Z");
    assert_int_equal(l->u.launch.not_before_ms, l->u.launch.run->due_ms);
    assert_int_equal(l->u.launch.run->launched_ms, T("2024-01-01T00:01:00Z"));
}

/* With a lead of 200 ms: the instant is handled at next - 200 (its run
 * recorded), launched as soon as durable, carrying its due_ms. */
static void test_lead_handles_and_launches_early(void **state)
{
    struct h *h = *state;
    int64_t due = T("2024-01-01T00:01:00Z");
    put_ok(h, mkjob("a", "R/2024-01-01T00:00:00Z/PT1M"));
    assert_int_equal(chr_core_next_wakeup(h->core), due - 200);
    advance(h, due - 201);
    assert_int_equal(count(h, CHR_ACT_PERSIST), 0);
    advance(h, due - 200);
    const struct chr_action *p = nth(h, CHR_ACT_PERSIST, 0);
    assert_non_null(p);
    assert_int_equal(p->u.persist.n, 2);
    assert_string_equal(p->u.persist.items[0].run->id, "ct:1704067260000:0:a");
    assert_instant(p->u.persist.items[1].state->next_ms, "2024-01-01T00:02:00Z");
    assert_int_equal(p->u.persist.items[1].state->ledger_len, 0);
    assert_int_equal(chr_core_next_wakeup(h->core), T("2024-01-01T00:02:00Z") - 200);
    h->now = due - 190;
    durable(h);
    assert_int_equal(count(h, CHR_ACT_REVIVE), 1);
    offer(h, 1, 1, 1024);
    const struct chr_action *l = nth(h, CHR_ACT_LAUNCH, 0);
    assert_non_null(l);
    assert_string_equal(l->u.launch.run->id, "ct:1704067260000:0:a");
    assert_int_equal(l->u.launch.run->due_ms, due);
    assert_int_equal(l->u.launch.not_before_ms, due);
    assert_int_equal(l->u.launch.run->launched_ms, due - 190);
    /* The manager starts it at its due_ms; it finishes; the next instant is
     * handled a lead early again. */
    h->now = due;
    status(h, "ct:1704067260000:0:a", CHR_RUN_RUNNING, 0);
    status(h, "ct:1704067260000:0:a", CHR_RUN_FINISHED, 0);
    durable(h);
    advance(h, T("2024-01-01T00:02:00Z") - 200);
    p = nth(h, CHR_ACT_PERSIST, 0);
    assert_non_null(p);
    assert_string_equal(p->u.persist.items[0].run->id, "ct:1704067320000:0:a");
}

/* A durable run due later than the lead (here reloaded, never started) waits
 * in the delayed queue and is launched at due - lead. */
static void test_lead_delayed_run_launches_at_due_minus_lead(void **state)
{
    struct h *h = *state;
    chr_core_destroy(h->core);
    struct chr_core_config cfg = {.tzdb = h->db, .history_max = 5, .launch_lead_ms = 200};
    assert_int_equal(chr_core_create(&cfg, &h->core), CHR_OK);
    int64_t due = T("2024-01-01T01:00:00Z");
    h->now = due - 10000;
    struct chr_event ev = {.type = CHR_EV_LOAD_JOB};
    ev.u.job.job = mkjob("a", "R/2024-01-01T00:00:00Z/PT1H");
    chr_job_state_init(&ev.u.job.state);
    ev.u.job.state.next_ms = T("2024-01-01T02:00:00Z");
    step(h, &ev);
    struct chr_event lr = {.type = CHR_EV_LOAD_RUN};
    snprintf(lr.u.run.id, sizeof lr.u.run.id, "ct:1704070800000:0:a");
    snprintf(lr.u.run.job, sizeof lr.u.run.job, "a");
    lr.u.run.state = CHR_RUN_RECORDING;
    lr.u.run.cause = CHR_CAUSE_SCHEDULED;
    lr.u.run.due_ms = due;
    step(h, &lr);
    struct chr_event done = {.type = CHR_EV_LOAD_DONE};
    step(h, &done);
    status(h, "ct:1704070800000:0:a", CHR_RUN_QUEUED, 0); /* never started */
    assert_int_equal(chr_core_next_wakeup(h->core), due - 200);
    offer(h, 1, 1, 1024);
    assert_int_equal(count(h, CHR_ACT_LAUNCH), 0); /* not yet: declined */
    assert_int_equal(count(h, CHR_ACT_DECLINE), 1);
    advance(h, due - 201);
    assert_int_equal(count(h, CHR_ACT_REVIVE), 0);
    advance(h, due - 200);
    assert_int_equal(count(h, CHR_ACT_REVIVE), 1);
    offer(h, 2, 1, 1024);
    const struct chr_action *l = nth(h, CHR_ACT_LAUNCH, 0);
    assert_non_null(l);
    assert_int_equal(l->u.launch.run->due_ms, due);
    assert_int_equal(l->u.launch.not_before_ms, due);
}

/* A retry keeps its run's due_ms (its id and CHRONOS_JOB_RUN_TIME); it is
 * launched a lead before its delay ends, with not_before_ms the end. */
static void test_lead_retry_dispatched_early(void **state)
{
    struct h *h = *state;
    struct chr_job j = mkjob("r", "R/2024-01-01T00:00:00Z/PT1H");
    j.retries = 1;
    j.retry_delay_ms = 30000;
    put_ok(h, j);
    advance(h, T("2024-01-01T01:00:00Z") - 200);
    durable(h);
    offer(h, 1, 1, 1024);
    const char *id0 = "ct:1704070800000:0:r";
    assert_string_equal(nth(h, CHR_ACT_LAUNCH, 0)->u.launch.run->id, id0);
    h->now = T("2024-01-01T01:00:00Z");
    status(h, id0, CHR_RUN_RUNNING, 0);
    h->now = T("2024-01-01T01:00:05Z");
    status(h, id0, CHR_RUN_FAILED, 1);
    durable(h);
    int64_t end = T("2024-01-01T01:00:35Z");
    assert_int_equal(chr_core_next_wakeup(h->core), end - 200);
    advance(h, end - 201);
    offer(h, 2, 1, 1024);
    assert_int_equal(count(h, CHR_ACT_LAUNCH), 0);
    advance(h, end - 200);
    assert_int_equal(count(h, CHR_ACT_REVIVE), 1);
    offer(h, 3, 1, 1024);
    const struct chr_action *l = nth(h, CHR_ACT_LAUNCH, 0);
    assert_non_null(l);
    assert_string_equal(l->u.launch.run->id, "ct:1704070800000:1:r");
    assert_instant(l->u.launch.run->due_ms, "2024-01-01T01:00:00Z");
    assert_int_equal(l->u.launch.not_before_ms, end);
    assert_int_equal(l->u.launch.run->launched_ms, end - 200);
}

/* Deadlines count from the instant: a run handled early is never late.  A
 * non-concurrent job's next run, handled early, waits for the running one. */
static void test_lead_deadline_and_concurrency(void **state)
{
    struct h *h = *state;
    struct chr_job j = mkjob("d", "R/2024-01-01T00:00:00Z/PT1M");
    j.starting_deadline_ms = 0;
    put_ok(h, j);
    advance(h, T("2024-01-01T00:01:00Z") - 200);
    assert_int_equal(state_of(h, "d")->ledger_len, 0);
    durable(h);
    offer(h, 1, 1, 1024);
    assert_int_equal(count(h, CHR_ACT_LAUNCH), 1);
    advance(h, T("2024-01-01T00:02:00Z") - 200);
    durable(h);
    offer(h, 2, 1, 1024);
    assert_int_equal(count(h, CHR_ACT_LAUNCH), 0); /* the first one is still launching */
    const struct chr_run *runs[4];
    assert_int_equal(chr_core_job_runs(h->core, "d", runs, 4), 2);
    assert_int_equal(runs[1]->state, CHR_RUN_QUEUED);
    status(h, "ct:1704067260000:0:d", CHR_RUN_FINISHED, 0);
    durable(h);
    offer(h, 3, 1, 1024);
    assert_int_equal(count(h, CHR_ACT_LAUNCH), 1);
    assert_string_equal(nth(h, CHR_ACT_LAUNCH, 0)->u.launch.run->id, "ct:1704067320000:0:d");
}

/* ---- Startup and failure ---------------------------------------------------------- */

static void load(struct h *h, struct chr_job job, int64_t next_ms)
{
    struct chr_event ev = {.type = CHR_EV_LOAD_JOB};
    ev.u.job.job = job;
    chr_job_state_init(&ev.u.job.state);
    ev.u.job.state.next_ms = next_ms;
    step(h, &ev);
    assert_int_equal(h->rc, CHR_OK);
}

/* A cycle written into the store behind the API's back (a -> b -> c -> a) is
 * refused at load with a note naming it; the other jobs, including one that
 * depends on the cycle and one that a cycle job's parent is, load and run. */
static void test_load_refuses_cycles(void **state)
{
    struct h *h = *state;
    chr_core_destroy(h->core);
    struct chr_core_config cfg = {.tzdb = h->db, .history_max = 5};
    assert_int_equal(chr_core_create(&cfg, &h->core), CHR_OK);
    h->now = T("2024-01-02T00:00:10Z");
    struct chr_job a = mkjob("a", NULL), b = mkjob("b", NULL), c = mkjob("c", NULL);
    struct chr_job d = mkjob("d", NULL);
    add_parent(&a, "c");
    add_parent(&a, "root");
    add_parent(&b, "a");
    add_parent(&c, "b");
    add_parent(&d, "a"); /* downstream of the cycle: stays, never runs */
    load(h, d, INT64_MAX);
    load(h, mkjob("root", "R/2024-01-02T00:01:00Z/PT1H"), T("2024-01-02T00:01:00Z"));
    load(h, a, INT64_MAX);
    load(h, b, INT64_MAX);
    load(h, c, INT64_MAX);
    struct chr_event done = {.type = CHR_EV_LOAD_DONE};
    step(h, &done);
    assert_int_equal(h->rc, CHR_OK);
    assert_null(chr_core_job(h->core, "a", NULL));
    assert_null(chr_core_job(h->core, "b", NULL));
    assert_null(chr_core_job(h->core, "c", NULL));
    assert_non_null(chr_core_job(h->core, "d", NULL));
    assert_non_null(chr_core_job(h->core, "root", NULL));
    size_t notes = 0;
    for (size_t i = 0; i < h->a.n; i++)
        if (h->a.v[i].type == CHR_ACT_NOTE && strstr(h->a.v[i].u.note.text, "cycle") != NULL)
            notes++;
    assert_int_equal(notes, 3); /* one line per refused job */
    advance(h, T("2024-01-02T00:01:00Z"));
    durable(h);
    offer(h, 1, 4, 4096);
    assert_int_equal(count(h, CHR_ACT_LAUNCH), 1); /* root still runs */
}

/* A job written into the store by hand, with no state node, starts as a job
 * just created would: its next instant is the first of its schedule from now
 * (within the start grace), not "never"; one with a state keeps its own. */
static void test_load_stateless(void **state)
{
    struct h *h = *state;
    chr_core_destroy(h->core);
    struct chr_core_config cfg = {.tzdb = h->db, .history_max = 5};
    assert_int_equal(chr_core_create(&cfg, &h->core), CHR_OK);
    h->now = T("2024-01-02T00:10:30Z");
    struct chr_event ev = {.type = CHR_EV_LOAD_JOB};
    ev.u.job.job = mkjob("hand", "R/2024-01-01T00:00:00Z/PT1H");
    chr_job_state_init(&ev.u.job.state);
    ev.u.job.stateless = true;
    step(h, &ev);
    ev = (struct chr_event){.type = CHR_EV_LOAD_JOB};
    ev.u.job.job = mkjob("kept", "R/2024-01-01T00:00:00Z/PT1H");
    chr_job_state_init(&ev.u.job.state); /* a stored state that says "no more" */
    step(h, &ev);
    struct chr_event done = {.type = CHR_EV_LOAD_DONE};
    step(h, &done);
    assert_int_equal(h->rc, CHR_OK);
    const struct chr_job_state *st = NULL;
    assert_non_null(chr_core_job(h->core, "hand", &st));
    assert_instant(st->next_ms, "2024-01-02T01:00:00Z");
    assert_non_null(chr_core_job(h->core, "kept", &st));
    assert_true(st->next_ms == INT64_MAX);
    advance(h, T("2024-01-02T01:00:00Z"));
    durable(h);
    offer(h, 1, 4, 4096);
    assert_int_equal(count(h, CHR_ACT_LAUNCH), 1); /* the hand-made job runs */
}

static void test_load_reconcile_and_catch_up(void **state)
{
    struct h *h = *state;
    chr_core_destroy(h->core);
    struct chr_core_config cfg = {.tzdb = h->db, .history_max = 5};
    assert_int_equal(chr_core_create(&cfg, &h->core), CHR_OK);
    h->now = T("2024-01-02T00:00:10Z");
    struct chr_event ev = {.type = CHR_EV_LOAD_JOB};
    ev.u.job.job = mkjob("a", "R/2024-01-01T00:00:00Z/PT1H");
    chr_job_state_init(&ev.u.job.state);
    ev.u.job.state.next_ms = T("2024-01-01T10:00:00Z");
    step(h, &ev);
    struct chr_event lr = {.type = CHR_EV_LOAD_RUN};
    snprintf(lr.u.run.id, sizeof lr.u.run.id, "ct:1704099600000:0:a");
    snprintf(lr.u.run.job, sizeof lr.u.run.job, "a");
    lr.u.run.state = CHR_RUN_RECORDING;
    lr.u.run.cause = CHR_CAUSE_SCHEDULED;
    lr.u.run.due_ms = T("2024-01-01T09:00:00Z");
    step(h, &lr);
    struct chr_event done = {.type = CHR_EV_LOAD_DONE};
    step(h, &done);
    assert_int_equal(count(h, CHR_ACT_RECONCILE), 1);
    /* Missed 10:00 .. 00:00 (15 instants): one run for 00:00, 14 ledgered. */
    const struct chr_action *p = nth(h, CHR_ACT_PERSIST, 0);
    assert_non_null(p);
    const struct chr_job_state *st = state_of(h, "a");
    assert_int_equal(st->ledger_len, 1);
    assert_int_equal(st->ledger[0].reason, CHR_LEDGER_COALESCED_DOWN);
    assert_int_equal(st->ledger[0].count, 14);
    durable(h);
    status(h, "ct:1704099600000:0:a", CHR_RUN_QUEUED, 0); /* never started */
    offer(h, 1, 4, 4096);
    /* Non-concurrent: the old run launches first; the new one waits. */
    assert_int_equal(count(h, CHR_ACT_LAUNCH), 1);
    assert_string_equal(nth(h, CHR_ACT_LAUNCH, 0)->u.launch.run->id, "ct:1704099600000:0:a");
}

static void test_store_failure(void **state)
{
    struct h *h = *state;
    uint64_t req = put(h, mkjob("a", "R/2024-01-01T00:00:00Z/PT1H"));
    uint64_t batch = nth(h, CHR_ACT_PERSIST, 0)->u.persist.batch_id;
    struct chr_event ev = {.type = CHR_EV_STORE_DONE};
    ev.u.store.batch_id = batch;
    ev.u.store.result = CHR_EIO;
    step(h, &ev);
    assert_int_equal(h->rc, CHR_EUNAVAIL);
    assert_non_null(reply_for(h, req));
    assert_int_equal(reply_for(h, req)->u.reply.result, CHR_EUNAVAIL);
    req = put(h, mkjob("b", "R/2024-01-01T00:00:00Z/PT1H"));
    assert_int_equal(h->rc, CHR_EUNAVAIL);
    assert_int_equal(reply_for(h, req)->u.reply.result, CHR_EUNAVAIL);
    assert_int_equal(count(h, CHR_ACT_PERSIST), 0);
    assert_int_equal(chr_core_next_wakeup(h->core), INT64_MAX);
}

/* Every allocation of a PUT, a due step and a status may fail: the step says
 * ENOMEM (or defers), leaks nothing, and a retry without faults works. */
static void test_allocation_failures(void **state)
{
    struct h *h = *state;
    for (long n = 1; n < 200; n++) {
        struct chr_event ev = {.type = CHR_EV_PUT_JOB, .request_id = 1000 + (uint64_t)n};
        ev.u.job.job = mkjob("x", "R/2024-01-01T00:00:00Z/PT1M");
        chr_alloc_fail_after(n);
        step(h, &ev);
        chr_alloc_fail_after(-1);
        if (h->rc == CHR_ENOMEM) {
            chr_job_free(&ev.u.job.job); /* not taken: ours to free */
            continue;
        }
        assert_int_equal(h->rc, CHR_OK);
        durable(h);
        break;
    }
    assert_non_null(chr_core_job(h->core, "x", NULL));
    for (long n = 1; n < 50; n++) {
        chr_alloc_fail_after(n);
        h->now += 60000;
        step(h, NULL);
        chr_alloc_fail_after(-1);
        durable(h);
    }
    advance(h, h->now + 60000);
    durable(h);
    assert_int_equal(state_of(h, "x")->next_ms, h->now - h->now % 60000 + 60000);
}


/* ---- Constraints and containers ------------------------------------------------ */

/* First fit takes the first offer whose agent satisfies the job's
 * constraints; the runs of other jobs on the same offer are not held up. */
static void test_constraints_first_fit(void **state)
{
    struct h *h = *state;
    struct chr_job r2 = mkjob("on-r2", "R/2024-01-01T00:00:00Z/PT1H");
    add_constraint(&r2, "rack", CHR_CONSTRAINT_EQUALS, "r2");
    r2.high_priority = true; /* first in order */
    put_ok(h, r2);
    struct chr_job any = mkjob("any-rack", "R/2024-01-01T00:00:00Z/PT1H");
    add_constraint(&any, "rack", CHR_CONSTRAINT_LIKE, "r[0-9]");
    add_constraint(&any, "hostname", CHR_CONSTRAINT_UNLIKE, "b\\..*");
    put_ok(h, any);
    put_ok(h, mkjob("free", "R/2024-01-01T00:00:00Z/PT1H"));
    advance(h, T("2024-01-01T01:00:00Z"));
    durable(h);
    static const char *const rack1[] = {"rack", "r1"};
    offer_at(h, 1, "a.example", rack1, 1, true);
    /* on-r2 fits no held offer: the two behind it launch on offer 1. */
    assert_int_equal(count(h, CHR_ACT_LAUNCH), 2);
    assert_string_equal(nth(h, CHR_ACT_LAUNCH, 0)->u.launch.run->job, "any-rack");
    assert_string_equal(nth(h, CHR_ACT_LAUNCH, 1)->u.launch.run->job, "free");
    assert_int_equal(nth(h, CHR_ACT_LAUNCH, 0)->u.launch.offer_id, 1);
    assert_int_equal(count(h, CHR_ACT_WAITING), 1);
    const struct chr_run *w = nth(h, CHR_ACT_WAITING, 0)->u.run.run;
    assert_string_equal(w->job, "on-r2");
    assert_string_equal(w->reason, "waiting for resources: no offer matches constraint rack "
                                   "EQUALS r2 (held: 1 offer)");
    char id[CHR_RUN_ID_MAX];
    snprintf(id, sizeof id, "%s", w->id);
    /* An agent without the attribute, another in the wrong rack: declined. */
    offer_at(h, 2, "b.example", NULL, 0, true);
    assert_int_equal(count(h, CHR_ACT_LAUNCH), 0);
    assert_int_equal(count(h, CHR_ACT_DECLINE), 1);
    h->now += 2000; /* the reason is refreshed at most once a second */
    offer_at(h, 3, "c.example", rack1, 1, true);
    assert_int_equal(count(h, CHR_ACT_LAUNCH), 0);
    const struct chr_run *runs[4];
    assert_int_equal(chr_core_job_runs(h->core, "on-r2", runs, 4), 1);
    assert_string_equal(runs[0]->reason, "waiting for resources: no offer matches constraint "
                                         "rack EQUALS r2 (held: 1 offer)");
    /* The agent in rack r2 takes it: the same run, it kept its place. */
    static const char *const rack2[] = {"os", "linux", "rack", "r2"};
    offer_at(h, 4, "d.example", rack2, 2, true);
    assert_int_equal(count(h, CHR_ACT_LAUNCH), 1);
    assert_string_equal(nth(h, CHR_ACT_LAUNCH, 0)->u.launch.run->id, id);
    assert_int_equal(nth(h, CHR_ACT_LAUNCH, 0)->u.launch.offer_id, 4);
}

/* A constraint no agent satisfies keeps its run waiting, in its place,
 * saying why; the runs behind it, and later ones, launch; a replace that
 * drops the constraint lets the same run go. */
static void test_unsatisfiable_constraint_does_not_block(void **state)
{
    struct h *h = *state;
    struct chr_job pinned = mkjob("pinned", "R/2024-01-01T00:00:00Z/PT1H");
    add_constraint(&pinned, "rack", CHR_CONSTRAINT_LIKE, "r.*");
    add_constraint(&pinned, "gpu", CHR_CONSTRAINT_EQUALS, "yes");
    pinned.high_priority = true;
    put_ok(h, pinned);
    put_ok(h, mkjob("tick", "R/2024-01-01T00:00:00Z/PT1H"));
    static const char *const rack1[] = {"rack", "r1"};
    char id[CHR_RUN_ID_MAX] = "";
    for (int k = 1; k <= 3; k++) {
        advance(h, T("2024-01-01T00:00:00Z") + k * CHR_MS_PER_HOUR);
        durable(h);
        offer_at(h, (uint64_t)k, "a.example", rack1, 1, true);
        assert_int_equal(count(h, CHR_ACT_LAUNCH), 1);
        assert_string_equal(nth(h, CHR_ACT_LAUNCH, 0)->u.launch.run->job, "tick");
        const struct chr_run *runs[4];
        assert_int_equal(chr_core_job_runs(h->core, "pinned", runs, 4), 1);
        assert_string_equal(runs[0]->reason, "waiting for resources: no offer matches "
                                             "constraint gpu EQUALS yes (held: 1 offer)");
        if (k == 1)
            snprintf(id, sizeof id, "%s", runs[0]->id);
        assert_string_equal(runs[0]->id, id); /* one run keeps its place */
        assert_int_equal(chr_core_job_runs(h->core, "tick", runs, 4), 1);
        status(h, runs[0]->id, CHR_RUN_FINISHED, 0);
        durable(h);
    }
    /* Its later instants were ledgered as waiting, not run. */
    const struct chr_job_state *st = state_of(h, "pinned");
    assert_int_equal(st->ledger_len, 1);
    assert_int_equal(st->ledger[0].reason, CHR_LEDGER_COALESCED_WAITING);
    assert_int_equal(st->ledger[0].count, 2);
    /* Each constraint alone is met by some offer, both never by one. */
    struct chr_job both = mkjob("pinned", "R/2024-01-01T00:00:00Z/PT1H");
    add_constraint(&both, "rack", CHR_CONSTRAINT_EQUALS, "r1");
    add_constraint(&both, "hostname", CHR_CONSTRAINT_EQUALS, "b.example");
    both.high_priority = true;
    put_ok(h, both);
    h->now += 2000;
    offer_at(h, 10, "a.example", rack1, 1, true);
    const struct chr_run *runs[4];
    assert_int_equal(chr_core_job_runs(h->core, "pinned", runs, 4), 1);
    assert_string_equal(runs[0]->reason, "waiting for resources: no offer matches constraint "
                                         "hostname EQUALS b.example (held: 1 offer)");
    /* Replaced without the impossible constraint: the same run launches. */
    struct chr_job fixed = mkjob("pinned", "R/2024-01-01T00:00:00Z/PT1H");
    add_constraint(&fixed, "hostname", CHR_CONSTRAINT_EQUALS, "a.example");
    fixed.high_priority = true;
    put_ok(h, fixed);
    offer_at(h, 11, "a.example", NULL, 0, true);
    assert_int_equal(count(h, CHR_ACT_LAUNCH), 1);
    assert_string_equal(nth(h, CHR_ACT_LAUNCH, 0)->u.launch.run->id, id);
}

/* A job with a container waits on offers of a manager without a container
 * runtime, saying so, and runs on one with it; others run meanwhile. */
static void test_container_job_needs_runtime(void **state)
{
    struct h *h = *state;
    struct chr_job boxed = mkjob("boxed", "R/2024-01-01T00:00:00Z/PT1H");
    boxed.container_json = dup("{\"type\":\"DOCKER\",\"image\":\"busybox\"}");
    boxed.high_priority = true;
    put_ok(h, boxed);
    put_ok(h, mkjob("plain", "R/2024-01-01T00:00:00Z/PT1H"));
    advance(h, T("2024-01-01T01:00:00Z"));
    durable(h);
    offer_at(h, 1, "local", NULL, 0, false);
    assert_int_equal(count(h, CHR_ACT_LAUNCH), 1);
    assert_string_equal(nth(h, CHR_ACT_LAUNCH, 0)->u.launch.run->job, "plain");
    assert_int_equal(count(h, CHR_ACT_WAITING), 1);
    assert_string_equal(nth(h, CHR_ACT_WAITING, 0)->u.run.run->reason,
                        "waiting for resources: needs a container runtime: start with --master "
                        "or --local_containerizer");
    offer_at(h, 2, "agent", NULL, 0, true);
    assert_int_equal(count(h, CHR_ACT_LAUNCH), 1);
    assert_string_equal(nth(h, CHR_ACT_LAUNCH, 0)->u.launch.run->job, "boxed");
    assert_int_equal(nth(h, CHR_ACT_LAUNCH, 0)->u.launch.offer_id, 2);
}

/* Resources still decide among the offers that admit a job: its reason
 * names the closest admitting offer, not a bigger one it may not use. */
static void test_constraint_then_resources(void **state)
{
    struct h *h = *state;
    struct chr_job j = mkjob("big-r1", "R/2024-01-01T00:00:00Z/PT1H");
    add_constraint(&j, "rack", CHR_CONSTRAINT_EQUALS, "r1");
    j.cpus = 8;
    put_ok(h, j);
    advance(h, T("2024-01-01T01:00:00Z"));
    durable(h);
    static const char *const rack1[] = {"rack", "r1"};
    offer_at(h, 1, "a", rack1, 1, true); /* 4 cpus */
    assert_int_equal(count(h, CHR_ACT_LAUNCH), 0);
    assert_int_equal(count(h, CHR_ACT_WAITING), 1);
    assert_non_null(strstr(nth(h, CHR_ACT_WAITING, 0)->u.run.run->reason,
                           "needs cpus 8, mem 128 MB, disk 256 MB; largest free offer cpus 4"));
}

/* An offer with more attributes than the bound is declined with a note. */
static void test_offer_too_many_attributes(void **state)
{
    struct h *h = *state;
    put_ok(h, mkjob("x", "R/2024-01-01T00:00:00Z/PT1H"));
    advance(h, T("2024-01-01T01:00:00Z"));
    durable(h);
    struct chr_offer_attr many[CHR_OFFER_ATTRS_MAX + 1];
    for (size_t i = 0; i < CHR_OFFER_ATTRS_MAX + 1; i++)
        many[i] = (struct chr_offer_attr){"a", "b"};
    struct chr_event ev = {.type = CHR_EV_OFFER};
    ev.u.offer.id = 9;
    ev.u.offer.cpus = 4, ev.u.offer.mem_mb = 4096, ev.u.offer.disk_mb = 1000;
    ev.u.offer.attrs = many;
    ev.u.offer.n_attrs = CHR_OFFER_ATTRS_MAX + 1;
    step(h, &ev);
    assert_int_equal(count(h, CHR_ACT_LAUNCH), 0);
    assert_int_equal(count(h, CHR_ACT_DECLINE), 1);
    assert_int_equal(nth(h, CHR_ACT_DECLINE, 0)->u.decline.offer_id, 9);
    assert_non_null(strstr(nth(h, CHR_ACT_NOTE, 0)->u.note.text, "more than 64"));
    offer(h, 10, 4, 4096);
    assert_int_equal(count(h, CHR_ACT_LAUNCH), 1);
}

/* A PUT with a bad constraint is refused with a message naming it; a stored
 * one that does not compile here waits, saying so. */
static void test_bad_constraints(void **state)
{
    struct h *h = *state;
    struct chr_job j = mkjob("bad", "R/2024-01-01T00:00:00Z/PT1H");
    add_constraint(&j, "rack", CHR_CONSTRAINT_LIKE, "(?i)r1");
    uint64_t req = put(h, j);
    const struct chr_action *r = reply_for(h, req);
    assert_non_null(r);
    assert_int_equal(r->u.reply.result, CHR_EINVAL);
    assert_non_null(strstr(r->u.reply.message, "constraints[0][2]: "));
    assert_null(chr_core_job(h->core, "bad", NULL));

    chr_core_destroy(h->core);
    struct chr_core_config cfg = {.tzdb = h->db, .history_max = 5};
    assert_int_equal(chr_core_create(&cfg, &h->core), CHR_OK);
    struct chr_event ev = {.type = CHR_EV_LOAD_JOB};
    ev.u.job.job = mkjob("stored", "R/2024-01-01T00:00:00Z/PT1H");
    add_constraint(&ev.u.job.job, "rack", CHR_CONSTRAINT_LIKE, "(a*)*");
    chr_job_state_init(&ev.u.job.state);
    ev.u.job.stateless = true;
    step(h, &ev);
    assert_int_equal(h->rc, CHR_OK);
    assert_non_null(strstr(nth(h, CHR_ACT_NOTE, 0)->u.note.text, "'stored' will wait"));
    struct chr_event done = {.type = CHR_EV_LOAD_DONE};
    step(h, &done);
    advance(h, T("2024-01-01T01:00:00Z"));
    durable(h);
    offer(h, 1, 4, 4096);
    assert_int_equal(count(h, CHR_ACT_LAUNCH), 0);
    assert_non_null(strstr(nth(h, CHR_ACT_WAITING, 0)->u.run.run->reason,
                           "constraints do not compile"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_put_bad_schedule_and_zone, setup, teardown),
        cmocka_unit_test_setup_teardown(test_reply_after_durable, setup, teardown),
        cmocka_unit_test_setup_teardown(test_start_now_grace, setup, teardown),
        cmocka_unit_test_setup_teardown(test_parents_and_cycles, setup, teardown),
        cmocka_unit_test_setup_teardown(test_forced_delete_rewrites_children, setup, teardown),
        cmocka_unit_test_setup_teardown(test_forced_delete_refused_whole, setup, teardown),
        cmocka_unit_test_setup_teardown(test_forced_delete_allocation_failures, setup, teardown),
        cmocka_unit_test_setup_teardown(test_due_records_before_launch, setup, teardown),
        cmocka_unit_test_setup_teardown(test_catch_up_after_downtime, setup, teardown),
        cmocka_unit_test_setup_teardown(test_deadline_and_busy, setup, teardown),
        cmocka_unit_test_setup_teardown(test_first_fit_no_head_of_line, setup, teardown),
        cmocka_unit_test_setup_teardown(test_new_demand_revives_after_decline, setup, teardown),
        cmocka_unit_test_setup_teardown(test_waiting_ledgered, setup, teardown),
        cmocka_unit_test_setup_teardown(test_waiting_notice_once, setup_waiting, teardown),
        cmocka_unit_test_setup_teardown(test_waiting_notice_not_when_launched_or_told,
                                        setup_waiting, teardown),
        cmocka_unit_test_setup_teardown(test_put_limits, setup_limits, teardown),
        cmocka_unit_test_setup_teardown(test_min_period_cron, setup, teardown),
        cmocka_unit_test_setup_teardown(test_jobs_cap, setup, teardown),
        cmocka_unit_test_setup_teardown(test_retry_then_final_failure, setup, teardown),
        cmocka_unit_test_setup_teardown(test_task_time, setup, teardown),
        cmocka_unit_test_setup_teardown(test_dependents_fire_once_all_parents_succeeded, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_manual_runs_unique_ids_and_kill, setup, teardown),
        cmocka_unit_test_setup_teardown(test_kill_one_run, setup, teardown),
        cmocka_unit_test_setup_teardown(test_replace_keeps_or_restarts_progress, setup, teardown),
        cmocka_unit_test_setup_teardown(test_disabled_instants_ledgered_on_enable, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_launch_failures_flag_and_back_off, setup, teardown),
        cmocka_unit_test_setup_teardown(test_stale_never_started_and_zombie, setup, teardown),
        cmocka_unit_test_setup_teardown(test_mark_success_fires_dependents, setup, teardown),
        cmocka_unit_test_setup_teardown(test_lead_zero_unchanged, setup, teardown),
        cmocka_unit_test_setup_teardown(test_lead_handles_and_launches_early, setup_lead,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_lead_delayed_run_launches_at_due_minus_lead, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_lead_retry_dispatched_early, setup_lead, teardown),
        cmocka_unit_test_setup_teardown(test_lead_deadline_and_concurrency, setup_lead, teardown),
        cmocka_unit_test_setup_teardown(test_load_reconcile_and_catch_up, setup, teardown),
        cmocka_unit_test_setup_teardown(test_load_refuses_cycles, setup, teardown),
        cmocka_unit_test_setup_teardown(test_load_stateless, setup, teardown),
        cmocka_unit_test_setup_teardown(test_store_failure, setup, teardown),
        cmocka_unit_test_setup_teardown(test_allocation_failures, setup, teardown),
        cmocka_unit_test_setup_teardown(test_constraints_first_fit, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unsatisfiable_constraint_does_not_block, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_container_job_needs_runtime, setup, teardown),
        cmocka_unit_test_setup_teardown(test_constraint_then_resources, setup, teardown),
        cmocka_unit_test_setup_teardown(test_offer_too_many_attributes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_constraints, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
