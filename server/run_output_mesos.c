/*
 * run_output_mesos.c - runs' output from the Mesos agents' sandboxes
 * (run_output.h), for the API's /runs/{id}/stdout and `chronos logs`.
 *
 * Stateless about the cluster: a run's task is looked up in the leading
 * master's /state (its agent, and whether it ended), the agent's /state
 * gives the sandbox (the command executor's id is the task id), and the
 * agent's files API (/files/read) the bytes.  So any server, after any
 * failover, finds the output of any run the master still remembers.
 *
 * The bytes go into a memfd per (run, stream), kept in a small cache: the
 * API reads it with pread, and each "has it ended?" asked while following
 * fetches what was added since.  Bounded: CHR_MESOS_OUTPUT_MAX bytes per
 * stream, OUTPUT_CACHE streams (the least recently used is dropped).  Never
 * on the scheduler thread: the API's workers call it.
 */
#define _GNU_SOURCE
#include "server/run_output.h"

#include <curl/curl.h>
#include <errno.h>
#include <jansson.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "common/alloc.h"
#include "common/clock.h"
#include "common/sb.h"
#include "offers/mesos/master.h"

#define OUTPUT_CACHE 32
#define READ_CHUNK (1024 * 1024)
#define STATE_MAX (64 * 1024 * 1024) /* a master's /state of a large cluster */
#define HTTP_TIMEOUT_MS 5000
#define ENDED_CHECK_MS 1000 /* a followed task's state is asked at most this often */

struct cached {
    char run_id[CHR_RUN_ID_MAX];
    char stream[8];
    char agent[300];     /* "host:port" */
    char path[4096];     /* the file in the sandbox */
    int fd;              /* memfd with what was read */
    int64_t offset;      /* bytes read so far */
    bool ended;          /* the task is terminal and everything was read */
    int64_t used_ms;
    int64_t checked_ms;  /* when the master was last asked whether the task ended */
};

struct chr_run_output_mesos {
    pthread_mutex_t mu;
    struct chr_mesos_master *master; /* borrowed; NULL: none yet */
    struct cached cache[OUTPUT_CACHE];
};

/* ---- HTTP ------------------------------------------------------------------------ */

static size_t to_sb(char *p, size_t size, size_t n, void *ctx)
{
    struct chr_sb *sb = ctx;
    if (sb->len + size * n > STATE_MAX)
        return 0;
    chr_sb_put(sb, p, size * n);
    return sb->oom ? 0 : size * n;
}

/* GET http://<hostport><path_query> into a JSON value; NULL on any failure. */
static json_t *get_json(const char *hostport, const char *path_query)
{
    CURL *c = curl_easy_init();
    if (c == NULL)
        return NULL;
    char url[8192];
    snprintf(url, sizeof url, "http://%s%s", hostport, path_query);
    struct chr_sb sb = {NULL, 0, 0, false};
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, to_sb);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &sb);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, (long)HTTP_TIMEOUT_MS);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
    long code = 0;
    json_t *v = NULL;
    if (curl_easy_perform(c) == CURLE_OK &&
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code) == CURLE_OK && code == 200)
        v = json_loadb(sb.p ? sb.p : "", sb.len, 0, NULL);
    curl_easy_cleanup(c);
    chr_sb_free(&sb);
    return v;
}

/* ---- Where a task's sandbox is ----------------------------------------------------- */

static bool is_terminal(const char *state)
{
    static const char *const live[] = {"TASK_STAGING", "TASK_STARTING", "TASK_RUNNING",
                                       "TASK_KILLING", "TASK_UNREACHABLE"};
    for (size_t i = 0; i < sizeof live / sizeof live[0]; i++)
        if (strcmp(state, live[i]) == 0)
            return false;
    return true;
}

/* In the master's state: the task's agent id and whether it ended. */
static bool find_task(json_t *state, const char *task, const char **agent_id, bool *ended)
{
    static const char *const lists[] = {"frameworks", "completed_frameworks"};
    static const char *const tasks[] = {"tasks", "completed_tasks", "unreachable_tasks"};
    for (size_t l = 0; l < 2; l++) {
        size_t i;
        json_t *fw;
        json_array_foreach(json_object_get(state, lists[l]), i, fw) {
            for (size_t t = 0; t < 3; t++) {
                size_t k;
                json_t *tk;
                json_array_foreach(json_object_get(fw, tasks[t]), k, tk) {
                    if (!json_is_string(json_object_get(tk, "id")) ||
                        strcmp(json_string_value(json_object_get(tk, "id")), task) != 0)
                        continue;
                    const char *st = json_string_value(json_object_get(tk, "state"));
                    *agent_id = json_string_value(json_object_get(tk, "slave_id"));
                    *ended = st == NULL || is_terminal(st);
                    return *agent_id != NULL;
                }
            }
        }
    }
    return false;
}

/* The agent's "host:port" from the master's slaves[]. */
static bool agent_address(json_t *state, const char *agent_id, char *out, size_t cap)
{
    size_t i;
    json_t *s;
    json_array_foreach(json_object_get(state, "slaves"), i, s) {
        const char *id = json_string_value(json_object_get(s, "id"));
        const char *host = json_string_value(json_object_get(s, "hostname"));
        json_t *port = json_object_get(s, "port");
        if (id == NULL || strcmp(id, agent_id) != 0 || host == NULL || !json_is_integer(port))
            continue;
        return snprintf(out, cap, "%s:%lld", host, (long long)json_integer_value(port)) <
               (int)cap;
    }
    return false;
}

/* The command executor's sandbox directory (its id is the task's). */
static bool sandbox_dir(json_t *agent_state, const char *task, char *out, size_t cap)
{
    static const char *const fws[] = {"frameworks", "completed_frameworks"};
    static const char *const exs[] = {"executors", "completed_executors"};
    for (size_t f = 0; f < 2; f++) {
        size_t i;
        json_t *fw;
        json_array_foreach(json_object_get(agent_state, fws[f]), i, fw) {
            for (size_t e = 0; e < 2; e++) {
                size_t k;
                json_t *ex;
                json_array_foreach(json_object_get(fw, exs[e]), k, ex) {
                    const char *id = json_string_value(json_object_get(ex, "id"));
                    const char *dir = json_string_value(json_object_get(ex, "directory"));
                    if (id != NULL && dir != NULL && strcmp(id, task) == 0)
                        return snprintf(out, cap, "%s", dir) < (int)cap;
                }
            }
        }
    }
    return false;
}

/* ---- Reading -------------------------------------------------------------------------- */

/* Appends what the agent has past c->offset to the memfd. */
static bool fetch_more(struct cached *c)
{
    char *esc = NULL;
    CURL *e = curl_easy_init();
    if (e != NULL)
        esc = curl_easy_escape(e, c->path, 0);
    curl_easy_cleanup(e);
    if (esc == NULL)
        return false;
    bool ok = true;
    while (ok && c->offset < CHR_MESOS_OUTPUT_MAX) {
        char q[8192 + 64];
        snprintf(q, sizeof q, "/files/read?path=%s&offset=%lld&length=%d", esc,
                 (long long)c->offset, READ_CHUNK);
        json_t *v = get_json(c->agent, q);
        const char *data = json_string_value(json_object_get(v, "data"));
        size_t n = data ? json_string_length(json_object_get(v, "data")) : 0;
        ok = data != NULL && pwrite(c->fd, data, n, (off_t)c->offset) == (ssize_t)n;
        if (ok)
            c->offset += (int64_t)n;
        json_decref(v);
        if (n < READ_CHUNK)
            break;
    }
    curl_free(esc);
    return ok;
}

static struct cached *cache_find(struct chr_run_output_mesos *o, const char *run_id,
                                 const char *stream)
{
    for (size_t i = 0; i < OUTPUT_CACHE; i++)
        if (o->cache[i].fd >= 0 && strcmp(o->cache[i].run_id, run_id) == 0 &&
            strcmp(o->cache[i].stream, stream) == 0)
            return &o->cache[i];
    return NULL;
}

static struct cached *cache_slot(struct chr_run_output_mesos *o)
{
    struct cached *lru = &o->cache[0];
    for (size_t i = 0; i < OUTPUT_CACHE; i++) {
        if (o->cache[i].fd < 0)
            return &o->cache[i];
        if (o->cache[i].used_ms < lru->used_ms)
            lru = &o->cache[i];
    }
    close(lru->fd); /* a reader holds its own dup */
    lru->fd = -1;
    return lru;
}

/* Finds the task through the master and the agent; fills c (not its fd). */
static int locate(struct chr_run_output_mesos *o, const char *run_id, struct cached *c)
{
    char master[300];
    if (o->master == NULL || !chr_mesos_master_current(o->master, master, sizeof master))
        return ENOENT;
    json_t *ms = get_json(master, "/state");
    const char *agent_id = NULL;
    bool ended = false;
    int err = ENOENT;
    if (ms != NULL && find_task(ms, run_id, &agent_id, &ended) &&
        agent_address(ms, agent_id, c->agent, sizeof c->agent)) {
        json_t *as = get_json(c->agent, "/state");
        char dir[4000];
        if (as != NULL && sandbox_dir(as, run_id, dir, sizeof dir)) {
            snprintf(c->path, sizeof c->path, "%s/%s", dir, c->stream);
            c->ended = ended;
            err = 0;
        }
        json_decref(as);
    }
    json_decref(ms);
    return err;
}

static int mesos_open(void *ctx, const char *job, const char *run_id, const char *stream,
                      bool *ended)
{
    (void)job;
    struct chr_run_output_mesos *o = ctx;
    if (strcmp(stream, "stdout") != 0 && strcmp(stream, "stderr") != 0) {
        errno = EINVAL;
        return -1;
    }
    pthread_mutex_lock(&o->mu);
    struct cached *c = cache_find(o, run_id, stream);
    int err = 0;
    if (c == NULL) {
        struct cached fresh = {.fd = -1};
        snprintf(fresh.run_id, sizeof fresh.run_id, "%s", run_id);
        snprintf(fresh.stream, sizeof fresh.stream, "%s", stream);
        err = locate(o, run_id, &fresh);
        if (err == 0 && (fresh.fd = memfd_create("chronos-output", MFD_CLOEXEC)) < 0)
            err = errno;
        if (err == 0) {
            c = cache_slot(o);
            *c = fresh;
        }
    }
    int fd = -1;
    if (c != NULL) {
        if (!fetch_more(c))
            c->ended = false; /* try again at the next read */
        c->used_ms = chr_clock_mono_ms();
        *ended = c->ended;
        fd = dup(c->fd);
        err = fd < 0 ? errno : 0;
    }
    pthread_mutex_unlock(&o->mu);
    errno = err;
    return fd;
}

/* While following: fetches what was added; true once the task ended and
 * everything was read. */
static bool mesos_ended(void *ctx, const char *job, const char *run_id)
{
    (void)job;
    struct chr_run_output_mesos *o = ctx;
    bool ended = true;
    pthread_mutex_lock(&o->mu);
    for (size_t i = 0; i < OUTPUT_CACHE; i++) {
        struct cached *c = &o->cache[i];
        if (c->fd < 0 || strcmp(c->run_id, run_id) != 0 || c->ended)
            continue;
        /* New bytes: the task is still writing, no need to ask.  Else the
         * master and the agent are asked (two /state reads) at most every
         * ENDED_CHECK_MS per stream, however often a follower polls. */
        int64_t had = c->offset, now_ms = chr_clock_mono_ms();
        bool read_ok = fetch_more(c);
        if (!read_ok || c->offset > had || now_ms - c->checked_ms < ENDED_CHECK_MS) {
            ended = false;
            continue;
        }
        c->checked_ms = now_ms;
        struct cached now = *c;
        bool was_running = locate(o, run_id, &now) == 0 && !now.ended;
        c->ended = !was_running; /* ended before this read: what it reads is all */
        if (!fetch_more(c))
            c->ended = false;
        ended = ended && c->ended;
    }
    pthread_mutex_unlock(&o->mu);
    return ended;
}

enum chr_err chr_run_output_mesos_create(struct chr_run_output_mesos **out)
{
    struct chr_run_output_mesos *o = chr_calloc(1, sizeof *o);
    if (o == NULL)
        return CHR_ENOMEM;
    pthread_mutex_init(&o->mu, NULL);
    for (size_t i = 0; i < OUTPUT_CACHE; i++)
        o->cache[i].fd = -1;
    *out = o;
    return CHR_OK;
}

void chr_run_output_mesos_set_master(struct chr_run_output_mesos *o, struct chr_mesos_master *m)
{
    pthread_mutex_lock(&o->mu);
    o->master = m;
    pthread_mutex_unlock(&o->mu);
}

void chr_run_output_mesos_destroy(struct chr_run_output_mesos *o)
{
    if (o == NULL)
        return;
    for (size_t i = 0; i < OUTPUT_CACHE; i++)
        if (o->cache[i].fd >= 0)
            close(o->cache[i].fd);
    pthread_mutex_destroy(&o->mu);
    chr_free(o);
}

struct chr_run_output chr_run_output_mesos(struct chr_run_output_mesos *o)
{
    return (struct chr_run_output){mesos_open, mesos_ended, o};
}
