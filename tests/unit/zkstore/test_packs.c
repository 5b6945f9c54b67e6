/*
 * test_packs.c - packs of jobs (zkstore/packs.c) against a real ZooKeeper
 * (tests/zk/zk.sh): whatever chronos and others did to the tree, a load
 * through the packs gives exactly what a node-by-node read of the tree gives.
 *
 * The oracle is a model of the tree kept by the test itself: every write,
 * chronos's own (batches built as the scheduler loop builds them, with
 * chr_packs_note and chr_packs_done) or someone else's behind chronos's back
 * (plain store ops: a set, a create, a delete, a delete and create again with
 * the versions starting over), updates the model; every restart (a new
 * chr_packs loading the tree, after a graceful stop that packs or a crash that
 * does not) must hand over exactly the model's jobs, bytes for bytes.  Names
 * are picked in three shards so the same packs see many changes.  Packs of
 * several parts (a shard past one node, as a million jobs make) are made
 * with small parts (part_max), and the random mixes run with them too.
 */
#include "../unit.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>

#include "../zkstore/zk_fixture.h"
#include "common/alloc.h"
#include "zkstore/packs.h"
#include "zkstore/store.h"
#include "zkstore/zk.h"

#define ROOT "/r"
#define NAMES 36
#define SEEDS 6
#define STEPS 120

/* ---- The model --------------------------------------------------------------------- */

struct node {
    bool exists;
    char data[96];
};

struct job {
    char name[16];
    unsigned shard;
    struct node def, state;
};

struct world {
    struct chr_zk *zk;
    struct chr_store *s;
    struct chr_packs *p;
    struct job jobs[NAMES];
    uint64_t rng;
    int seq; /* makes every data distinct */
    /* what the last load handed over */
    bool seen[NAMES];
    size_t mismatches;
    struct chr_packs_load_stats st;
    size_t part_max; /* of the next chr_packs: 0 one node, small: many parts */
};

static uint64_t rnd(struct world *w)
{
    w->rng ^= w->rng >> 12;
    w->rng ^= w->rng << 25;
    w->rng ^= w->rng >> 27;
    return w->rng * 2685821657736338717ull;
}

static void path_of(char out[CHR_STORE_PATH_MAX], const char *kind, const struct job *j)
{
    assert_int_equal(chr_store_shard_path(out, ROOT, kind, j->name, strlen(j->name)), CHR_OK);
}

/* Names in three shards, found by trying "j<k>" (the hash is tested elsewhere). */
static void pick_names(struct world *w)
{
    unsigned want[3] = {0x21, 0x42, 0x84};
    size_t n = 0;
    for (int k = 0; n < NAMES && k < 200000; k++) {
        char name[16];
        snprintf(name, sizeof name, "j%d", k);
        unsigned sh = chr_store_shard(name, strlen(name));
        if (sh == want[0] || sh == want[1] || sh == want[2]) {
            snprintf(w->jobs[n].name, sizeof w->jobs[n].name, "%s", name);
            w->jobs[n].shard = sh;
            n++;
        }
    }
    assert_int_equal(n, NAMES);
}

static void fresh_data(struct world *w, struct node *n, const char *who)
{
    snprintf(n->data, sizeof n->data, "{\"%s\":%d,\"pad\":\"%.*s\"}", who, ++w->seq,
             (int)(rnd(w) % 40), "0123456789012345678901234567890123456789");
    n->exists = true;
}

/* ---- Chronos's own writes: a batch built as loop.c builds it --------------------- */

struct own {
    struct chr_store_op op[16];
    char path[16][CHR_STORE_PATH_MAX];
    size_t n;
    struct chr_packs_batch *b;
};

static void own_add(struct world *w, struct own *o, int kind, const struct job *j,
                    enum chr_store_op_type type, const char *data)
{
    path_of(o->path[o->n], kind == 0 ? "jobs" : "state", j);
    o->op[o->n] = (struct chr_store_op){type, o->path[o->n], data, data ? strlen(data) : 0, -1};
    o->n++;
    assert_int_equal(chr_packs_note(w->p, &o->b, kind, j->name, type, data,
                                    data ? strlen(data) : 0, o->n - 1, o->op, o->path, &o->n,
                                    16),
                     CHR_OK);
}

static void own_submit(struct world *w, struct own *o)
{
    struct chr_store_result res[16];
    enum chr_err e = chr_store_submit_wait(w->s, o->op, o->n, res);
    assert_int_equal(e, CHR_OK);
    chr_packs_done(w->p, o->b, e, res, o->n);
}

/* A job saved (created or replaced, with its state), or only its state. */
static void own_put(struct world *w, struct job *j, bool state_only)
{
    struct own o = {.n = 0, .b = NULL};
    struct node def = j->def, st = j->state;
    if (!state_only || !def.exists)
        fresh_data(w, &def, "def");
    fresh_data(w, &st, "state");
    if (!state_only || !j->def.exists)
        own_add(w, &o, 0, j, j->def.exists ? CHR_STORE_SET : CHR_STORE_CREATE, def.data);
    own_add(w, &o, 1, j, j->state.exists ? CHR_STORE_SET : CHR_STORE_CREATE, st.data);
    own_submit(w, &o);
    j->def = def;
    j->state = st;
}

static void own_delete(struct world *w, struct job *j)
{
    struct own o = {.n = 0, .b = NULL};
    if (j->state.exists)
        own_add(w, &o, 1, j, CHR_STORE_DELETE, NULL);
    own_add(w, &o, 0, j, CHR_STORE_DELETE, NULL);
    own_submit(w, &o);
    j->def.exists = j->state.exists = false;
}

/* ---- Writes behind chronos's back ---------------------------------------------------- */

static void raw(struct world *w, enum chr_store_op_type type, const char *kind,
                const struct job *j, const char *data)
{
    char path[CHR_STORE_PATH_MAX];
    path_of(path, kind, j);
    struct chr_store_op op = {type, path, data, data ? strlen(data) : 0, -1};
    assert_int_equal(chr_store_submit_wait(w->s, &op, 1, NULL), CHR_OK);
}

static void ext_step(struct world *w, struct job *j)
{
    switch (rnd(w) % 4) {
    case 0: /* set one node */
        if (j->def.exists) {
            bool st = j->state.exists && rnd(w) % 2;
            struct node *n = st ? &j->state : &j->def;
            fresh_data(w, n, "ext");
            raw(w, CHR_STORE_SET, st ? "state" : "jobs", j, n->data);
        }
        break;
    case 1: /* a new job node, with or without a state */
        if (!j->def.exists) {
            fresh_data(w, &j->def, "extnew");
            raw(w, CHR_STORE_CREATE, "jobs", j, j->def.data);
            if (rnd(w) % 2) {
                fresh_data(w, &j->state, "extnew");
                raw(w, CHR_STORE_CREATE, "state", j, j->state.data);
            }
        }
        break;
    case 2: /* deleted */
        if (j->def.exists) {
            if (j->state.exists)
                raw(w, CHR_STORE_DELETE, "state", j, NULL);
            raw(w, CHR_STORE_DELETE, "jobs", j, NULL);
            j->def.exists = j->state.exists = false;
        }
        break;
    default: /* deleted and made again: versions start over at 0 */
        if (j->def.exists) {
            if (j->state.exists)
                raw(w, CHR_STORE_DELETE, "state", j, NULL);
            raw(w, CHR_STORE_DELETE, "jobs", j, NULL);
            fresh_data(w, &j->def, "again");
            raw(w, CHR_STORE_CREATE, "jobs", j, j->def.data);
            fresh_data(w, &j->state, "again");
            raw(w, CHR_STORE_CREATE, "state", j, j->state.data);
        }
        break;
    }
}

/* ---- Loading and checking -------------------------------------------------------------- */

static enum chr_err got_job(void *ctx, const char *path, struct chr_store_got *def,
                            struct chr_store_got *state)
{
    struct world *w = ctx;
    const char *name = strrchr(path, '/') + 1;
    for (size_t i = 0; i < NAMES; i++) {
        struct job *j = &w->jobs[i];
        if (strcmp(j->name, name) != 0)
            continue;
        if (def->err != CHR_OK) /* listed, gone since: a read race only */
            return CHR_OK;
        w->seen[i] = true;
        bool ok = j->def.exists && def->len == strlen(j->def.data) &&
                  memcmp(def->data, j->def.data, def->len) == 0;
        if (j->state.exists)
            ok = ok && state->err == CHR_OK && state->len == strlen(j->state.data) &&
                 memcmp(state->data, j->state.data, state->len) == 0;
        else
            ok = ok && state->err == CHR_ENOENT;
        if (!ok) {
            w->mismatches++;
            print_message("job %s: loaded def '%.*s' state '%.*s' (%s), want def '%s' state '%s'\n",
                          name, (int)def->len, (const char *)def->data,
                          state->err == CHR_OK ? (int)state->len : 0,
                          state->err == CHR_OK ? (const char *)state->data : "",
                          chr_err_name(state->err), j->def.data,
                          j->state.exists ? j->state.data : "(none)");
        }
        return CHR_OK;
    }
    fail_msg("loaded a job the test never made: %s", path);
    return CHR_EINVAL;
}

/* A new leader: new packs, the tree's nodes, a load; every job as the model says. */
static void restart(struct world *w, int flush_ms)
{
    chr_packs_destroy(w->p, flush_ms);
    struct chr_packs_config cfg = {w->s, ROOT, NULL, getenv("PACKS_VERBOSE") != NULL,
                                   w->part_max};
    assert_int_equal(chr_packs_create(&cfg, &w->p), CHR_OK);
    struct chr_error err;
    assert_int_equal(chr_packs_make_dirs(w->p, &err), CHR_OK);
    memset(w->seen, 0, sizeof w->seen);
    w->mismatches = 0;
    assert_int_equal(chr_packs_load(w->p, got_job, w, &w->st, &err), CHR_OK);
    assert_int_equal(w->mismatches, 0);
    for (size_t i = 0; i < NAMES; i++)
        if (w->seen[i] != w->jobs[i].def.exists)
            fail_msg("job %s: %s after the load", w->jobs[i].name,
                     w->seen[i] ? "loaded but deleted" : "missing");
}

static void world_open_parts(struct world *w, uint64_t seed, size_t part_max)
{
    memset(w, 0, sizeof *w);
    w->part_max = part_max;
    w->rng = seed * 0x9E3779B97F4A7C15ull + 1;
    pick_names(w);
    char hosts[512];
    zkfx_chroot_hosts(hosts, sizeof hosts, NULL);
    struct chr_zk_config zc = {.hosts = hosts, .session_timeout_ms = 10000,
                               .connect_timeout_ms = 10000};
    struct chr_error err;
    assert_int_equal(chr_zk_open(&zc, &w->zk, &err), CHR_OK);
    assert_int_equal(chr_store_open_zk(w->zk, NULL, &w->s), CHR_OK);
    /* The shard directories, as the loop makes them. */
    for (size_t i = 0; i < NAMES; i++) {
        char dir[CHR_STORE_PATH_MAX];
        for (int k = 0; k < 2; k++) {
            snprintf(dir, sizeof dir, ROOT "/%s/%02x", k == 0 ? "jobs" : "state",
                     w->jobs[i].shard);
            assert_int_equal(chr_store_mkdirs(w->s, dir), CHR_OK);
        }
    }
    restart(w, 0); /* the first leader loads an empty tree */
}

static void world_open(struct world *w, uint64_t seed)
{
    world_open_parts(w, seed, 0);
}

static void world_close(struct world *w)
{
    chr_packs_destroy(w->p, 0);
    chr_store_close(w->s);
    chr_zk_close(w->zk);
}

/* ---- Tests ---------------------------------------------------------------------------- */

/* A world where chronos made every job and a graceful restart packed them. */
/* Every job written by chronos, then a graceful restart (its packing
 * unhurried). */
static void put_all_restart(struct world *w)
{
    for (size_t i = 0; i < NAMES; i++)
        own_put(w, &w->jobs[i], false);
    restart(w, 5000);
}

static void world_packed(struct world *w, uint64_t seed)
{
    world_open(w, seed);
    put_all_restart(w);
}

/* The last load took every job from the packs and read none one by one. */
static void assert_all_from_packs(const struct world *w)
{
    assert_int_equal(w->st.read, 0);
    assert_int_equal(w->st.from_packs, NAMES);
    assert_int_equal(w->st.bad_shards, 0);
}

/* Chronos alone: after a graceful stop every job comes from the packs, and
 * after more writes and a crash the load is still exact. */
static void test_own_writes(void **state)
{
    (void)state;
    struct world w;
    world_packed(&w, 1);
    assert_all_from_packs(&w);
    /* States change (runs), a few definitions are replaced, then a crash. */
    for (size_t i = 0; i < NAMES; i += 3)
        own_put(&w, &w.jobs[i], i % 2 == 0);
    restart(&w, 0);
    assert_int_equal(w.st.read, 0 + w.st.stale);
    assert_true(w.st.stale >= NAMES / 3); /* each changed entry was caught */
    assert_int_equal(w.st.from_packs + w.st.read, NAMES);
    /* What the load read is held: the next graceful stop packs it all. */
    restart(&w, 5000);
    assert_int_equal(w.st.read, 0);
    /* A job deleted and made again under its old name by chronos, then a crash:
     * versions start over, so the pack must not vouch for the old bytes. */
    own_delete(&w, &w.jobs[4]);
    own_put(&w, &w.jobs[4], false);
    restart(&w, 0);
    assert_true(w.st.bad_shards >= 1);
    world_close(&w);
}

/* Someone else set a node: the version check catches it. */
static void test_external_set(void **state)
{
    (void)state;
    struct world w;
    world_packed(&w, 2);
    struct job *j = &w.jobs[7];
    fresh_data(&w, &j->def, "ext");
    raw(&w, CHR_STORE_SET, "jobs", j, j->def.data);
    restart(&w, 0);
    assert_int_equal(w.st.stale, 1);
    assert_int_equal(w.st.read, 1);
    world_close(&w);
}

/* Someone else deleted a job and made it again (versions 0 again, as when the
 * pack was taken): only the directories' counts can tell, and they do. */
static void test_external_recreate(void **state)
{
    (void)state;
    struct world w;
    world_packed(&w, 3);
    struct job *j = &w.jobs[9];
    raw(&w, CHR_STORE_DELETE, "state", j, NULL);
    raw(&w, CHR_STORE_DELETE, "jobs", j, NULL);
    fresh_data(&w, &j->def, "again");
    raw(&w, CHR_STORE_CREATE, "jobs", j, j->def.data);
    fresh_data(&w, &j->state, "again");
    raw(&w, CHR_STORE_CREATE, "state", j, j->state.data);
    restart(&w, 0);
    assert_int_equal(w.st.bad_shards, 1);
    world_close(&w);
}

/* A damaged pack is not used, and the next graceful stop writes a good one. */
static void test_damaged_pack(void **state)
{
    (void)state;
    struct world w;
    world_packed(&w, 4);
    char path[CHR_STORE_PATH_MAX];
    snprintf(path, sizeof path, ROOT "/packs/%02x", w.jobs[0].shard);
    void *data = NULL;
    size_t len = 0;
    assert_int_equal(chr_store_get(w.s, path, &data, &len, NULL), CHR_OK);
    assert_true(len > 40);
    ((char *)data)[len / 2] ^= 0x20; /* one bit: the checksum must notice */
    struct chr_store_op op = {CHR_STORE_SET, path, data, len, -1};
    assert_int_equal(chr_store_submit_wait(w.s, &op, 1, NULL), CHR_OK);
    chr_free(data);
    restart(&w, 0);
    assert_int_equal(w.st.bad_shards, 1);
    assert_true(w.st.read > 0);
    restart(&w, 5000);
    assert_int_equal(w.st.bad_shards, 0);
    assert_int_equal(w.st.read, 0);
    world_close(&w);
}

/* The bytes of a pack's node (part 0 or another); NULL when there is none. */
static char *pack_node(struct world *w, unsigned shard, unsigned part, size_t *len)
{
    char path[CHR_STORE_PATH_MAX];
    if (part == 0)
        snprintf(path, sizeof path, ROOT "/packs/%02x", shard);
    else
        snprintf(path, sizeof path, ROOT "/packs/%02x.%u", shard, part);
    void *data = NULL;
    return chr_store_get(w->s, path, &data, len, NULL) == CHR_OK ? data : NULL;
}

static void pack_node_set(struct world *w, unsigned shard, unsigned part, const char *data,
                          size_t len)
{
    char path[CHR_STORE_PATH_MAX];
    snprintf(path, sizeof path, ROOT "/packs/%02x.%u", shard, part);
    struct chr_store_op op = {CHR_STORE_SET, path, data, len, -1};
    assert_int_equal(chr_store_submit_wait(w->s, &op, 1, NULL), CHR_OK);
}

/* A shard past one node is packed in parts, and every job comes from them. */
static void test_parts(void **state)
{
    (void)state;
    struct world w;
    world_open_parts(&w, 5, 400); /* ~2 entries a part: 12 jobs a shard, ~6 parts */
    put_all_restart(&w);
    assert_all_from_packs(&w);
    size_t len = 0;
    char *p0 = pack_node(&w, w.jobs[0].shard, 0, &len);
    assert_non_null(p0);
    assert_memory_equal(p0, "chronos-pack 2 ", 15);
    chr_free(p0);
    char *p2 = pack_node(&w, w.jobs[0].shard, 2, &len);
    assert_non_null(p2);
    /* Changes and a crash: what changed is caught, part by part. */
    for (size_t i = 0; i < NAMES; i += 4)
        own_put(&w, &w.jobs[i], true);
    restart(&w, 0);
    assert_true(w.st.stale >= NAMES / 4);
    restart(&w, 5000);
    assert_int_equal(w.st.read, 0);
    /* A part of an older build put back: the pack is not used. */
    pack_node_set(&w, w.jobs[0].shard, 2, p2, len);
    restart(&w, 0);
    assert_int_equal(w.st.bad_shards, 1);
    restart(&w, 5000);
    assert_int_equal(w.st.bad_shards, 0);
    /* A damaged part: not used either. */
    char *q = pack_node(&w, w.jobs[0].shard, 1, &len);
    assert_non_null(q);
    q[len / 2] ^= 0x20;
    pack_node_set(&w, w.jobs[0].shard, 1, q, len);
    chr_free(q);
    restart(&w, 0);
    assert_int_equal(w.st.bad_shards, 1);
    chr_free(p2);
    world_close(&w);
}

/* Packs written in format 1 (one node a shard, as every server before parts
 * wrote them) load as they are; a server that packs in parts takes them, and
 * its next pack is in parts. */
static void test_format1_loads(void **state)
{
    (void)state;
    struct world w;
    world_packed(&w, 6); /* part_max 0: small shards, one node, format 1 */
    size_t len = 0;
    char *p0 = pack_node(&w, w.jobs[0].shard, 0, &len);
    assert_non_null(p0);
    assert_memory_equal(p0, "chronos-pack 1 ", 15);
    chr_free(p0);
    w.part_max = 400;
    restart(&w, 0);
    assert_int_equal(w.st.read, 0);
    assert_int_equal(w.st.from_packs, NAMES);
    for (size_t i = 0; i < NAMES; i++)
        own_put(&w, &w.jobs[i], true);
    restart(&w, 5000);
    assert_int_equal(w.st.read, 0);
    assert_non_null((p0 = pack_node(&w, w.jobs[0].shard, 0, &len)));
    assert_memory_equal(p0, "chronos-pack 2 ", 15);
    chr_free(p0);
    world_close(&w);
}

/* Random mixes of everything, with packing at random moments; one world in
 * two packs in parts. */
static void test_random_mixes(void **state)
{
    (void)state;
    size_t from_packs = 0, checked = 0;
    long seeds = getenv("PACKS_SEEDS") != NULL ? strtol(getenv("PACKS_SEEDS"), NULL, 10) : SEEDS;
    for (uint64_t seed = 10; seed < 10 + (uint64_t)seeds; seed++) {
        struct world w;
        world_open_parts(&w, seed, seed % 2 ? 400 : 0);
        for (int step = 0; step < STEPS; step++) {
            struct job *j = &w.jobs[rnd(&w) % NAMES];
            uint64_t r = rnd(&w) % 100;
            if (getenv("PACKS_TRACE"))
                print_message("seed %d step %d: %s r %d (def %s)\n", (int)seed, step, j->name,
                              (int)r, j->def.exists ? j->def.data : "-");
            if (r < 45)
                own_put(&w, j, j->def.exists && rnd(&w) % 2);
            else if (r < 55 && j->def.exists)
                own_delete(&w, j);
            else if (r < 75)
                ext_step(&w, j);
            else if (r < 85)
                chr_packs_flush(w.p, 5000);
            else {
                restart(&w, rnd(&w) % 2 ? 5000 : 0);
                from_packs += w.st.from_packs;
                checked++;
            }
        }
        restart(&w, 0);
        world_close(&w);
    }
    assert_true(checked >= (size_t)seeds * 5);
    assert_true(from_packs > 0); /* the packs were used, not only bypassed */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_own_writes),
        cmocka_unit_test(test_external_set),
        cmocka_unit_test(test_external_recreate),
        cmocka_unit_test(test_damaged_pack),
        cmocka_unit_test(test_parts),
        cmocka_unit_test(test_format1_loads),
        cmocka_unit_test(test_random_mixes),
    };
    return cmocka_run_group_tests(tests, zkfx_group_setup, zkfx_group_teardown);
}
