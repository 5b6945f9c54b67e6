/*
 * fill.c - writes N idle jobs into a store offline, as `chronos serve` would
 * have after N POSTs, for the million-job benchmark (bench/million/run.sh):
 * posting a million jobs takes a quarter of an hour on this machine, and the
 * restart, memory and lateness figures need only the jobs to be there.
 *
 * Each job is the body the benchmark POSTs, parsed by the API's codec
 * (chr_job_from_json), written with the server's own encoders
 * (chr_job_to_store_json, chr_state_to_json of a fresh state whose next
 * instant is the schedule's first), at the path the server uses
 * (chr_store_shard_path), in batches of creates.  The directories' versions
 * are not counted as the server counts its own creates (zkstore/packs.h): a
 * ZooKeeper server reads such jobs node by node once and packs them.
 *
 *   fill local DATA_DIR N [FROM]   (DATA_DIR/store, the server's layout)
 *   fill zk HOSTS ROOT N [FROM]    (jobs FROM..N-1; FROM defaults to 0)
 *
 * Never part of the server; a benchmark tool only.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/job_json.h"
#include "common/alloc.h"
#include "common/clock.h"
#include "iso8601/iso8601.h"
#include "scheduler/core.h"
#include "scheduler/job.h"
#include "server/persist.h"
#include "zkstore/store.h"
#include "zkstore/zk.h"

#define BATCH 500 /* jobs per batch: 1,000 creates, ~300 KiB, far below 1 MiB */
#define IN_FLIGHT 4 /* batches submitted before waiting for them */

struct node {
    char path[CHR_STORE_PATH_MAX];
    char *data;
    size_t len;
};

static int fail(const char *what, enum chr_err e)
{
    fprintf(stderr, "fill: %s: %s\n", what, chr_err_message(e));
    return 1;
}

/* The job and state nodes of job i. */
static enum chr_err make_job(const char *root, long i, int64_t now_ms, struct node *jn,
                             struct node *sn)
{
    char body[256];
    snprintf(body, sizeof body,
             "{\"name\":\"idle-%07ld\",\"command\":\"/bin/true\",\"shell\":false,"
             "\"schedule\":\"R/2099-01-01T00:00:00.000Z/P1D\"}", i);
    struct chr_job_defaults d;
    chr_job_defaults_init(&d);
    struct chr_job job;
    struct chr_error err = {{0}, {0}};
    enum chr_err e = chr_job_from_json(body, strlen(body), &d, CHR_JOB_HINT_ANY, now_ms, &job, &err);
    if (e != CHR_OK)
        return e;
    struct chr_schedule sched;
    struct chr_job_state st;
    chr_job_state_init(&st);
    if ((e = chr_schedule_parse(job.schedule, NULL, NULL, &sched, &err)) == CHR_OK)
        e = chr_schedule_next(&sched, now_ms, &st.next_ms);
    if (e == CHR_OK && (chr_store_shard_path(jn->path, root, CHR_KIND_JOBS, job.name, strlen(job.name)) != CHR_OK ||
                        chr_store_shard_path(sn->path, root, CHR_KIND_STATE, job.name, strlen(job.name)) != CHR_OK))
        e = CHR_EINVAL;
    if (e == CHR_OK && ((jn->data = chr_job_to_store_json(&job, &jn->len)) == NULL ||
                        (sn->data = chr_state_to_json(&st, &sn->len)) == NULL))
        e = CHR_ENOMEM;
    chr_job_state_free(&st);
    chr_job_free(&job);
    return e;
}

/* A batch's outcome (the store's thread; the filler waits in flush before it
 * reads `failed`). */
static void on_done(void *ctx, enum chr_err result, const struct chr_store_result *res, size_t n)
{
    (void)res;
    (void)n;
    if (result != CHR_OK)
        *(enum chr_err *)ctx = result;
}

/* The shard directories, as the server makes them at its first start. */
static enum chr_err make_dirs(struct chr_store *s, const char *root)
{
    static const char *const kinds[] = {CHR_KIND_JOBS, CHR_KIND_STATE, CHR_KIND_RUNS};
    for (int k = 0; k < 3; k++) {
        char dir[CHR_STORE_PATH_MAX];
        snprintf(dir, sizeof dir, "%s/%s", root, kinds[k]);
        enum chr_err e = chr_store_mkdirs(s, dir);
        for (unsigned sh = 0; sh < CHR_STORE_SHARDS && e == CHR_OK; sh++) {
            char p[CHR_STORE_PATH_MAX + 8];
            snprintf(p, sizeof p, "%s/%02x", dir, sh);
            e = chr_store_mkdirs(s, p);
        }
        if (e != CHR_OK)
            return e;
    }
    return CHR_OK;
}

static enum chr_err fill(struct chr_store *s, const char *root, long from, long n)
{
    struct node *nodes = chr_calloc(2 * BATCH, sizeof *nodes);
    struct chr_store_op *ops = chr_calloc(2 * BATCH, sizeof *ops);
    enum chr_err e = nodes == NULL || ops == NULL ? CHR_ENOMEM : make_dirs(s, root);
    size_t batches = 0;
    int64_t now_ms = chr_clock_wall_ms();
    enum chr_err failed = CHR_OK;
    for (long at = from; at < n && e == CHR_OK; at += BATCH) {
        size_t k = 0;
        for (long i = at; i < n && i < at + BATCH && e == CHR_OK; i++, k += 2)
            e = make_job(root, i, now_ms, &nodes[k], &nodes[k + 1]);
        for (size_t j = 0; j < k; j++)
            ops[j] = (struct chr_store_op){CHR_STORE_CREATE, nodes[j].path, nodes[j].data,
                                           nodes[j].len, -1};
        if (e == CHR_OK)
            e = chr_store_submit(s, ops, k, on_done, &failed);
        if (e == CHR_OK && ++batches % IN_FLIGHT == 0)
            e = chr_store_flush(s);
        if (e == CHR_OK && failed != CHR_OK)
            e = failed;
        for (size_t j = 0; j < 2 * BATCH; j++)
            chr_free(nodes[j].data), nodes[j].data = NULL;
        if (at % 100000 == 0)
            fprintf(stderr, "fill: %ld jobs\n", at);
    }
    if (e == CHR_OK && (e = chr_store_flush(s)) == CHR_OK)
        e = failed;
    chr_free(nodes);
    chr_free(ops);
    return e;
}

int main(int argc, char **argv)
{
    bool zk = argc >= 5 && argc <= 6 && strcmp(argv[1], "zk") == 0;
    if (!zk && !(argc >= 4 && argc <= 5 && strcmp(argv[1], "local") == 0)) {
        fprintf(stderr, "usage: fill local DATA_DIR N [FROM] | fill zk HOSTS ROOT N [FROM]\n");
        return 2;
    }
    int at_n = zk ? 4 : 3;
    long n = strtol(argv[at_n], NULL, 10);
    long from = argc > at_n + 1 ? strtol(argv[at_n + 1], NULL, 10) : 0;
    struct chr_error err = {{0}, {0}};
    struct chr_store *s = NULL;
    struct chr_zk *z = NULL;
    enum chr_err e;
    if (zk) {
        struct chr_zk_config zc = {.hosts = argv[2], .session_timeout_ms = 60000};
        if ((e = chr_zk_open(&zc, &z, &err)) != CHR_OK)
            return fail(err.message, e);
        e = chr_store_open_zk(z, NULL, &s);
    } else {
        char dir[4096];
        snprintf(dir, sizeof dir, "%s/store", argv[2]);
        e = chr_store_open_local(dir, NULL, &s, &err);
    }
    if (e != CHR_OK)
        return fail(err.message[0] != '\0' ? err.message : "open", e);
    const char *root = zk ? argv[3] : "/chronos";
    e = fill(s, root, from, n);
    if (e == CHR_OK && !zk)
        e = chr_store_checkpoint(s); /* a snapshot: what a long-running server has */
    chr_store_close(s);
    chr_zk_close(z);
    if (e != CHR_OK)
        return fail("writing", e);
    fprintf(stderr, "fill: %ld jobs written\n", n);
    return 0;
}
