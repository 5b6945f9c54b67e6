/*
 * gen_seeds.c - writes the seeds of the decoder fuzz targets, each made by
 * the production code that writes the real thing: a log and a snapshot of a
 * local store that ran a small workload (and a log cut short, one with zeros
 * after it, one with a flipped byte), packs (chr_pack_encode), job nodes
 * (chr_job_to_store_json of jobs the API parsed), state and run nodes
 * (chr_state_to_json, chr_run_to_json), and the run-directory records
 * (chr_local_*_format, chr_local_spec_encode).
 *
 *   make fuzz-seeds      (gen_seeds tests/fuzz/seeds)
 *
 * Rewrites tests/fuzz/seeds/fuzz_{wal,snap,pack,job_node,persist,fastpath,rundir}/;
 * the output depends only on this file, so running it again changes nothing
 * unless a format did.
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "api/job_json.h"
#include "common/alloc.h"
#include "common/limits.h"
#include "offers/local_int.h"
#include "server/persist.h"
#include "zkstore/pack.h"
#include "zkstore/store.h"

static const char *g_out;

static void die(const char *what)
{
    fprintf(stderr, "gen_seeds: %s\n", what);
    exit(1);
}

/* Writes <out>/<target>/<name>, with the byte `sel` first when it is not -1
 * (the targets that take a selector byte). */
static void seed(const char *target, const char *name, int sel, const void *data, size_t len)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", g_out, target);
    mkdir(path, 0755);
    snprintf(path, sizeof path, "%s/%s/%s", g_out, target, name);
    FILE *f = fopen(path, "wb");
    if (f == NULL || (sel >= 0 && fputc(sel, f) == EOF) ||
        (len > 0 && fwrite(data, 1, len, f) != len) || fclose(f) != 0)
        die(path);
}

static unsigned char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        die(path);
    fseek(f, 0, SEEK_END);
    *len = (size_t)ftell(f);
    fseek(f, 0, SEEK_SET);
    unsigned char *buf = malloc(*len + 1);
    if (buf == NULL || fread(buf, 1, *len, f) != *len)
        die(path);
    fclose(f);
    return buf;
}

/* ---- the local store's files ---------------------------------------------------- */

static void put(struct chr_store *s, const char *path, const char *data)
{
    struct chr_store_op op = {.type = CHR_STORE_CREATE, .path = path, .data = data,
                              .len = strlen(data)};
    if (chr_store_submit_wait(s, &op, 1, NULL) != CHR_OK) {
        op.type = CHR_STORE_SET;
        op.version = -1;
        if (chr_store_submit_wait(s, &op, 1, NULL) != CHR_OK)
            die(path);
    }
}

static void workload(struct chr_store *s, int from, int to)
{
    if (chr_store_mkdirs(s, "/chronos/jobs/1a") != CHR_OK)
        die("mkdirs");
    for (int i = from; i < to; i++) {
        char path[64], data[128];
        snprintf(path, sizeof path, "/chronos/jobs/1a/job-%d", i);
        snprintf(data, sizeof data, "{\"name\":\"job-%d\",\"command\":\"echo %d\"}", i, i);
        put(s, path, data);
        if (i % 3 == 2) {
            snprintf(path, sizeof path, "/chronos/jobs/1a/job-%d", i - 1);
            struct chr_store_op del = {.type = CHR_STORE_DELETE, .path = path, .version = -1};
            if (chr_store_submit_wait(s, &del, 1, NULL) != CHR_OK)
                die("delete");
        }
    }
}

static void store_seeds(void)
{
    char tmp[] = "/tmp/chr-seeds-XXXXXX", dir[64], wal[512], snap[96];
    if (mkdtemp(tmp) == NULL)
        die("mkdtemp");
    snprintf(dir, sizeof dir, "%s/db", tmp);
    struct chr_store *s = NULL;
    if (chr_store_open_local(dir, NULL, &s, NULL) != CHR_OK)
        die("open");
    workload(s, 0, 8);
    if (chr_store_checkpoint(s) != CHR_OK)
        die("checkpoint");
    workload(s, 8, 14);
    chr_store_close(s);
    snprintf(snap, sizeof snap, "%s/snap", dir);
    DIR *d = opendir(dir);
    for (struct dirent *de = d ? readdir(d) : NULL; de != NULL; de = readdir(d))
        if (strncmp(de->d_name, "wal.", 4) == 0)
            snprintf(wal, sizeof wal, "%s/%s", dir, de->d_name);
    if (d != NULL)
        closedir(d);
    size_t len;
    unsigned char *b = slurp(wal, &len);
    seed("fuzz_wal", "log", -1, b, len);
    seed("fuzz_wal", "log-cut-short", -1, b, len - 20);
    unsigned char *z = calloc(1, len + 600);
    memcpy(z, b, len);
    seed("fuzz_wal", "log-zeros-after", -1, z, len + 600);
    z[len / 2] ^= 0x5a;
    seed("fuzz_wal", "log-flipped-byte", -1, z, len);
    free(z);
    free(b);
    b = slurp(snap, &len);
    seed("fuzz_snap", "snap", -1, b, len);
    free(b);
    unlink(wal);
    unlink(snap);
    snprintf(wal, sizeof wal, "%s/LOCK", dir);
    unlink(wal);
    rmdir(dir);
    rmdir(tmp);
}

/* ---- packs ------------------------------------------------------------------------ */

static void pack_seeds(void)
{
    /* Names of one shard, found by trying. */
    char names[3][16];
    int have = 0;
    unsigned shard = chr_store_shard("job-0", 5);
    for (int i = 0; have < 3 && i < 100000; i++) {
        char n[16];
        int k = snprintf(n, sizeof n, "job-%d", i);
        if (chr_store_shard(n, (size_t)k) == shard)
            memcpy(names[have++], n, (size_t)k + 1);
    }
    struct chr_pack_entry e[3] = {
        {.name = names[0], .ver_a = 0, .a = "{\"name\":\"a\"}", .len_a = 12, .ver_b = 3,
         .b = "{\"successCount\":1}", .len_b = 18},
        {.name = names[1], .ver_a = 7, .a = "x", .len_a = 1, .ver_b = -1},
        {.name = names[2], .ver_a = 2, .a = "", .len_a = 0, .ver_b = 0, .b = "\n", .len_b = 1},
    };
    struct chr_pack p = {.shard = shard, .ext_a = 0, .ext_b = -2, .n = 3, .e = e};
    char *out = NULL;
    size_t len = 0;
    if (chr_pack_encode(&p, 1 << 20, &out, &len) != CHR_OK)
        die("pack");
    seed("fuzz_pack", "pack-3", -1, out, len);
    chr_free(out);
    p.n = 0;
    if (chr_pack_encode(&p, 1 << 20, &out, &len) != CHR_OK)
        die("empty pack");
    seed("fuzz_pack", "pack-empty", -1, out, len);
    chr_free(out);
    /* Format 2: part 1 of a pack of 3 (a shard past one node). */
    p.n = 2;
    p.e = e + 1;
    p.part = 1, p.parts = 3, p.gen = 41;
    if (chr_pack_encode(&p, 1 << 20, &out, &len) != CHR_OK)
        die("pack part");
    seed("fuzz_pack", "pack-part", -1, out, len);
    chr_free(out);
}

/* ---- job, state and run nodes ------------------------------------------------------- */

static const char *const jobs[] = {
    "{\"name\":\"hello\",\"command\":\"echo hello\",\"schedule\":\"R/2030-01-01T00:00:00Z/PT10S\"}",
    "{\"name\":\"nightly\",\"command\":\"backup.sh\",\"schedule\":\"30 2 * * *\","
    "\"scheduleTimeZone\":\"Europe/Paris\",\"retries\":5,\"retryBackoff\":true,\"cpus\":0.5,"
    "\"mem\":512,\"owner\":\"ops@example.com\",\"environmentVariables\":[{\"name\":\"A\","
    "\"value\":\"1\"}],\"constraints\":[[\"rack\",\"EQUALS\",\"r1\"]],\"disabled\":true,"
    "\"notifyEvents\":[\"failed\",\"waiting\"]}",
    "{\"name\":\"child\",\"command\":\"true\",\"parents\":[\"hello\",\"nightly\"],"
    "\"shell\":false,\"arguments\":[\"-v\",\"x y\"],\"concurrent\":true,\"notifyEvents\":[]}",
};

static void node_seeds(void)
{
    struct chr_job_defaults d;
    chr_job_defaults_init(&d);
    d.user = "chronos";
    for (size_t i = 0; i < sizeof jobs / sizeof jobs[0]; i++) {
        struct chr_job job;
        struct chr_error err;
        if (chr_job_from_json(jobs[i], strlen(jobs[i]), &d, CHR_JOB_HINT_ANY, 1767225600000LL,
                              &job, &err) != CHR_OK)
            die(err.message);
        size_t len = 0;
        char *text = chr_job_to_store_json(&job, &len);
        char name[32];
        snprintf(name, sizeof name, "job-%zu", i);
        seed("fuzz_job_node", name, -1, text, len);
        seed("fuzz_fastpath", name, 0, text, len);
        chr_free(text);
        chr_job_free(&job);
    }
    struct chr_job_state st;
    chr_job_state_init(&st);
    st.stats.success_count = 3;
    st.stats.last_success_ms = 1767225600000LL;
    st.next_ms = 1767229200000LL;
    uint32_t parents[2] = {1, 0};
    st.parent_successes = parents;
    st.n_parent_successes = 2;
    struct chr_ledger_entry led = {1767225600000LL, 1767229200000LL, 2, CHR_LEDGER_COALESCED_DOWN};
    st.ledger = &led;
    st.ledger_len = 1;
    struct chr_run_summary h = {1767225600000LL, 1767225600100LL, 1767225601000LL, 0, 0,
                                CHR_CAUSE_SCHEDULED, CHR_RUN_FINISHED, "exit 0"};
    st.history = &h;
    st.history_len = 1;
    size_t len = 0;
    char *text = chr_state_to_json(&st, &len);
    seed("fuzz_persist", "state", 0, text, len);
    seed("fuzz_fastpath", "state", 1, text, len);
    chr_free(text);
    /* An idle job's state (empty ledger and history): the fast path's. */
    struct chr_job_state idle;
    chr_job_state_init(&idle);
    idle.next_ms = 4070908800000LL;
    text = chr_state_to_json(&idle, &len);
    seed("fuzz_fastpath", "state-idle", 1, text, len);
    chr_free(text);
    struct chr_run run = {.id = "ct:1767225600000:0:hello", .job = "hello",
                          .cause = CHR_CAUSE_SCHEDULED, .state = CHR_RUN_FINISHED,
                          .due_ms = 1767225600000LL, .created_ms = 1767225599800LL,
                          .launched_ms = 1767225599900LL, .started_ms = 1767225600001LL,
                          .ended_ms = INT64_MIN, .exit_code = 0, .reason = "",
                          .arguments = "--dry-run", .offer_id = 42};
    text = chr_run_to_json(&run, &len);
    seed("fuzz_persist", "run", 1, text, len);
    chr_free(text);
    /* A queued run told it waited for resources (waitNotified). */
    run.state = CHR_RUN_QUEUED;
    run.launched_ms = run.started_ms = INT64_MIN;
    run.wait_notified = true;
    snprintf(run.reason, sizeof run.reason, "waiting for resources: needs cpus 64");
    text = chr_run_to_json(&run, &len);
    seed("fuzz_persist", "run_told", 1, text, len);
    chr_free(text);
}

/* ---- run-directory records ------------------------------------------------------------ */

static void rundir_seeds(void)
{
    const char *boot = "0f3c2a4e-5b6d-4e7f-8a9b-0c1d2e3f4a5b";
    char buf[512];
    struct chr_local_claim c = {.pid = 4242, .ticks = 123456};
    snprintf(c.boot_id, sizeof c.boot_id, "%s", boot);
    seed("fuzz_rundir", "claim", 0, buf, chr_local_claim_format(&c, buf, sizeof buf));
    c.abandoned = true;
    seed("fuzz_rundir", "claim-abandoned", 4, buf,
         chr_local_claim_format(&c, buf, sizeof buf));
    struct chr_local_pidrec p = {.pid = 4243, .start_ms = 1767225600000LL, .ticks = 123999};
    snprintf(p.boot_id, sizeof p.boot_id, "%s", boot);
    seed("fuzz_rundir", "pid", 1, buf, chr_local_pidrec_format(&p, buf, sizeof buf));
    struct chr_local_exitrec e = {.state = CHR_LOCAL_FAILED, .pid = 4243, .exit_code = 3,
                                  .start_ms = 1767225600000LL, .end_ms = 1767225601234LL,
                                  .stdout_bytes = 12, .stderr_bytes = 0, .reason = "exit 3"};
    size_t len = 0;
    char *text = chr_local_exitrec_format(&e, &len);
    seed("fuzz_rundir", "exit", 2, text, len);
    chr_free(text);
    char *args[] = {"-c", "x"};
    struct chr_env_var env[] = {{.name = "A", .value = "1"}, {.name = "PATH", .value = "/bin"}};
    struct chr_local_task t = {.run_id = "ct:1767225600000:0:hello", .job_name = "hello",
                               .command = "/bin/echo", .shell = false, .arguments = args,
                               .n_arguments = 2, .env = env, .n_env = 2,
                               .res = {0.1, 128, 256}, .due_ms = 1767225600000LL,
                               .not_before_ms = 1767225600000LL, .max_completion_ms = 60000};
    struct chr_error err;
    if (chr_local_spec_encode(&t, "host-1", 5000, &text, &len, &err) != CHR_OK)
        die(err.message);
    seed("fuzz_rundir", "spec", 3, text, len);
    chr_free(text);
    t.shell = true;
    t.run_as_user = "nobody";
    if (chr_local_spec_encode(&t, "host-1", 5000, &text, &len, &err) != CHR_OK)
        die(err.message);
    seed("fuzz_rundir", "spec-shell", 3, text, len);
    chr_free(text);
}

int main(int argc, char **argv)
{
    if (argc != 2)
        die("usage: gen_seeds DIR (tests/fuzz/seeds)");
    g_out = argv[1];
    store_seeds();
    pack_seeds();
    node_seeds();
    rundir_seeds();
    return 0;
}
