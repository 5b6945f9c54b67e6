/*
 * http.c - the REST API (http.h).  Each request is read whole (bounded by
 * CHR_JOB_JSON_MAX), routed, and either answered at once or handed to the
 * scheduler loop with its connection suspended until the loop answers.
 * Errors are Chronos's shape, {"message": ..., "status": ...}, never a trace.
 */
#include "server/http.h"

#include <arpa/inet.h>
#include <jansson.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "common/alloc.h"
#include "common/limits.h"

struct chr_http {
    struct chr_http_config cfg;
    struct MHD_Daemon *d;
    uint16_t port;
};

enum req_state { REQ_READING = 0, REQ_WAITING, REQ_DONE };

struct req {
    struct chr_http *h;
    struct MHD_Connection *conn;
    enum req_state state;
    char *body;
    size_t len;
    bool too_large;
    /* The answer, filled by the loop (or at once). */
    unsigned status;
    char *out;          /* chr_malloc'd response body or NULL */
    const char *type;   /* content type */
    char name[CHR_JOB_NAME_MAX + 1];
};

static const char *status_text(unsigned status)
{
    switch (status) {
    case 400: return "Bad Request";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 413: return "Payload Too Large";
    case 503: return "Service Unavailable";
    default: return "Internal Server Error";
    }
}

/* Sets the answer to Chronos's error shape. */
static void set_error(struct req *r, unsigned status, const char *message)
{
    json_t *v = json_pack("{s:s,s:s}", "message", message, "status", status_text(status));
    char *text = v ? json_dumps(v, JSON_COMPACT) : NULL;
    json_decref(v);
    chr_free(r->out);
    r->out = text ? chr_strndup(text, strlen(text)) : NULL;
    free(text); /* lint: allow (jansson's allocation) */
    r->status = status;
    r->type = "application/json";
}

static unsigned status_of(enum chr_err e)
{
    switch (e) {
    case CHR_OK: return 204;
    case CHR_EINVAL: case CHR_ENOENT: case CHR_ECONFLICT: case CHR_ERANGE: return 400;
    case CHR_EUNAVAIL: return 503;
    default: return 500;
    }
}

static enum MHD_Result send_answer(struct req *r)
{
    const char *body = r->out ? r->out : "";
    struct MHD_Response *resp =
        MHD_create_response_from_buffer(strlen(body), (void *)body, MHD_RESPMEM_MUST_COPY);
    if (resp == NULL)
        return MHD_NO;
    MHD_add_response_header(resp, "Access-Control-Allow-Origin", "*");
    if (r->status != 204)
        MHD_add_response_header(resp, "Content-Type", r->type ? r->type : "application/json");
    enum MHD_Result ret = MHD_queue_response(r->conn, r->status, resp);
    MHD_destroy_response(resp);
    return ret;
}

/* Called on the loop thread: the answer to a mutation. */
static void on_done(void *ctx, enum chr_err result, const char *message)
{
    struct req *r = ctx;
    if (result == CHR_OK) {
        r->status = 204;
    } else {
        set_error(r, status_of(result), message && message[0] ? message : chr_err_message(result));
    }
    r->state = REQ_DONE;
    MHD_resume_connection(r->conn);
}

/* ---- Reads (run on the loop thread) ------------------------------------------- */

/* A growing response body. */
struct text {
    char *p;
    size_t len, cap;
    bool failed;
};

static void text_add(struct text *t, const char *s, size_t n)
{
    if (t->failed)
        return;
    if (t->len + n + 1 > t->cap) {
        size_t cap = t->cap ? t->cap * 2 : 4096;
        while (cap < t->len + n + 1)
            cap *= 2;
        char *p = chr_realloc(t->p, cap);
        if (p == NULL) {
            t->failed = true;
            return;
        }
        t->p = p;
        t->cap = cap;
    }
    memcpy(t->p + t->len, s, n);
    t->len += n;
    t->p[t->len] = '\0';
}

/* Repeats left of a finite ISO schedule "R<n>/...", or -1 (forever, cron,
 * dependent). */
static int64_t remaining_repeats(const struct chr_job *job, const struct chr_job_state *st)
{
    const char *s = job->schedule;
    if (s == NULL || s[0] != 'R' || s[1] < '0' || s[1] > '9' || st == NULL)
        return -1;
    int64_t n = 0;
    for (s++; *s >= '0' && *s <= '9' && n < INT64_MAX / 10 - 10; s++)
        n = n * 10 + (*s - '0');
    return n > st->instants_handled ? n - st->instants_handled : 0;
}

static const char *run_state_name(enum chr_run_state s)
{
    switch (s) {
    case CHR_RUN_FINISHED: return "success";
    case CHR_RUN_FAILED: return "failure";
    case CHR_RUN_KILLED: return "killed";
    case CHR_RUN_LOST: return "lost";
    default: return NULL;
    }
}

/* The job as the API shows it, with its read-only progress. */
static void add_job(struct text *t, const struct chr_job *job, const struct chr_job_state *st)
{
    struct chr_job_view view = {st ? st->next_ms : INT64_MIN, remaining_repeats(job, st), NULL};
    if (view.next_run_ms == INT64_MAX)
        view.next_run_ms = INT64_MIN;
    if (st != NULL && st->history_len > 0)
        view.last_run_state = run_state_name(st->history[st->history_len - 1].state);
    size_t len = 0;
    char *json = chr_job_to_json(job, st ? &st->stats : NULL, &view, &len);
    if (json == NULL) {
        t->failed = true;
        return;
    }
    text_add(t, json, len);
    chr_free(json);
}

struct list_ctx {
    struct text t;
    size_t n;
};

static void list_one(void *ctx, const struct chr_job *job, const struct chr_job_state *st)
{
    struct list_ctx *lc = ctx;
    if (lc->n++ > 0)
        text_add(&lc->t, ",", 1);
    add_job(&lc->t, job, st);
}

static void set_body(struct req *r, struct text *t)
{
    if (t->failed) {
        chr_free(t->p);
        set_error(r, 500, "out of memory");
        return;
    }
    chr_free(r->out);
    r->out = t->p;
    r->status = 200;
    r->type = "application/json";
}

static void query_jobs(void *ctx, const struct chr_core *core, int64_t now)
{
    (void)now;
    struct req *r = ctx;
    if (core == NULL) {
        set_error(r, 503, "the server is stopping");
    } else {
        struct list_ctx lc = {{NULL, 0, 0, false}, 0};
        text_add(&lc.t, "[", 1);
        chr_core_each_job(core, list_one, &lc);
        text_add(&lc.t, "]", 1);
        set_body(r, &lc.t);
    }
    r->state = REQ_DONE;
    MHD_resume_connection(r->conn);
}

static void query_job(void *ctx, const struct chr_core *core, int64_t now)
{
    (void)now;
    struct req *r = ctx;
    const struct chr_job_state *st = NULL;
    const struct chr_job *job = core ? chr_core_job(core, r->name, &st) : NULL;
    if (core == NULL) {
        set_error(r, 503, "the server is stopping");
    } else if (job == NULL) {
        char msg[CHR_JOB_NAME_MAX + 40];
        snprintf(msg, sizeof msg, "job '%s' not found", r->name);
        set_error(r, 400, msg);
    } else {
        struct text t = {NULL, 0, 0, false};
        add_job(&t, job, st);
        set_body(r, &t);
    }
    r->state = REQ_DONE;
    MHD_resume_connection(r->conn);
}

/* ---- Routing -------------------------------------------------------------------- */

/* The path after the API prefix (/v1/scheduler or the 2.x /scheduler), or NULL. */
static const char *api_path(const char *url)
{
    if (strncmp(url, "/v1/scheduler/", 14) == 0)
        return url + 13;
    if (strncmp(url, "/scheduler/", 11) == 0)
        return url + 10;
    return NULL;
}

static enum MHD_Result suspend_for(struct req *r, enum chr_err submitted)
{
    if (submitted != CHR_OK) { /* resumed already: the next handler call answers */
        set_error(r, status_of(submitted), submitted == CHR_EUNAVAIL ? "the server is stopping"
                                                                     : chr_err_message(submitted));
        r->state = REQ_DONE;
    }
    return MHD_YES;
}

static enum MHD_Result post_job(struct req *r, enum chr_job_kind_hint hint)
{
    struct chr_event ev = {.type = CHR_EV_PUT_JOB};
    struct chr_error err = {{0}, {0}};
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    int64_t now = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
    if (r->body == NULL || r->len == 0) {
        set_error(r, 400, "body: expected a job as JSON");
        return send_answer(r);
    }
    enum chr_err e = chr_job_from_json(r->body, r->len, &r->h->cfg.defaults, hint, now,
                                       &ev.u.job.job, &err);
    if (e != CHR_OK) {
        set_error(r, status_of(e), err.message[0] ? err.message : chr_err_message(e));
        return send_answer(r);
    }
    r->state = REQ_WAITING;
    MHD_suspend_connection(r->conn);
    e = chr_loop_request(r->h->cfg.loop, &ev, on_done, r);
    if (e != CHR_OK)
        MHD_resume_connection(r->conn);
    return suspend_for(r, e);
}

static enum MHD_Result named_request(struct req *r, enum chr_event_type type)
{
    struct chr_event ev = {.type = type};
    ev.u.named.name = r->name;
    ev.u.named.arguments =
        type == CHR_EV_RUN_JOB
            ? MHD_lookup_connection_value(r->conn, MHD_GET_ARGUMENT_KIND, "arguments")
            : NULL;
    r->state = REQ_WAITING;
    MHD_suspend_connection(r->conn);
    enum chr_err e = chr_loop_request(r->h->cfg.loop, &ev, on_done, r);
    if (e != CHR_OK)
        MHD_resume_connection(r->conn);
    return suspend_for(r, e);
}

static enum MHD_Result query(struct req *r, chr_loop_query_fn *fn)
{
    r->state = REQ_WAITING;
    MHD_suspend_connection(r->conn);
    enum chr_err e = chr_loop_query(r->h->cfg.loop, fn, r);
    if (e != CHR_OK)
        MHD_resume_connection(r->conn);
    return suspend_for(r, e);
}

/* "/job/<name>" (the name percent-decoded by MHD) into r->name; false if not. */
static bool job_name_of(struct req *r, const char *path, const char *prefix)
{
    size_t n = strlen(prefix);
    if (strncmp(path, prefix, n) != 0 || path[n] == '\0' || strchr(path + n, '/') != NULL)
        return false;
    if (strlen(path + n) > CHR_JOB_NAME_MAX)
        return false;
    snprintf(r->name, sizeof r->name, "%s", path + n);
    return true;
}

static enum MHD_Result route(struct req *r, const char *url, const char *method)
{
    bool get = strcmp(method, "GET") == 0 || strcmp(method, "HEAD") == 0;
    if (strcmp(url, "/ping") == 0 && get) {
        r->status = 200;
        r->out = chr_strndup("pong", 4);
        r->type = "text/plain";
        return send_answer(r);
    }
    const char *p = api_path(url);
    if (p == NULL) {
        set_error(r, 404, "no such endpoint");
        return send_answer(r);
    }
    if (r->too_large) {
        set_error(r, 413, "body: larger than the limit of 65536 bytes");
        return send_answer(r);
    }
    if (strcmp(p, "/iso8601") == 0 && strcmp(method, "POST") == 0)
        return post_job(r, CHR_JOB_HINT_SCHEDULED);
    if (strcmp(p, "/dependency") == 0 && strcmp(method, "POST") == 0)
        return post_job(r, CHR_JOB_HINT_DEPENDENT);
    if (strcmp(p, "/jobs") == 0 && get)
        return query(r, query_jobs);
    if (job_name_of(r, p, "/job/")) {
        if (get)
            return query(r, query_job);
        if (strcmp(method, "PUT") == 0)
            return named_request(r, CHR_EV_RUN_JOB);
        if (strcmp(method, "DELETE") == 0)
            return named_request(r, CHR_EV_DELETE_JOB);
        set_error(r, 405, "method not allowed on /job/{name}");
        return send_answer(r);
    }
    set_error(r, 404, "no such endpoint");
    return send_answer(r);
}

static enum MHD_Result handler(void *cls, struct MHD_Connection *conn, const char *url,
                               const char *method, const char *version, const char *upload,
                               size_t *upload_size, void **con_cls)
{
    (void)version;
    struct req *r = *con_cls;
    if (r == NULL) { /* headers only */
        r = chr_calloc(1, sizeof *r);
        if (r == NULL)
            return MHD_NO;
        r->h = cls;
        r->conn = conn;
        *con_cls = r;
        return MHD_YES;
    }
    if (*upload_size > 0) { /* a chunk of the body */
        if (r->len + *upload_size > CHR_JOB_JSON_MAX) {
            r->too_large = true;
        } else if (!r->too_large) {
            char *grown = chr_realloc(r->body, r->len + *upload_size + 1);
            if (grown == NULL)
                return MHD_NO;
            memcpy(grown + r->len, upload, *upload_size);
            r->len += *upload_size;
            grown[r->len] = '\0';
            r->body = grown;
        }
        *upload_size = 0;
        return MHD_YES;
    }
    if (r->state == REQ_DONE)
        return send_answer(r);
    if (r->state == REQ_WAITING)
        return MHD_YES;
    return route(r, url, method);
}

static void completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                      enum MHD_RequestTerminationCode code)
{
    (void)cls;
    (void)conn;
    (void)code;
    struct req *r = *con_cls;
    if (r == NULL)
        return;
    chr_free(r->body);
    chr_free(r->out);
    chr_free(r);
    *con_cls = NULL;
}

enum chr_err chr_http_start(const struct chr_http_config *cfg, struct chr_http **out,
                            struct chr_error *err)
{
    struct chr_http *h = chr_calloc(1, sizeof *h);
    if (h == NULL)
        return chr_error_set(err, CHR_ENOMEM, "", "out of memory");
    h->cfg = *cfg;
    struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons(cfg->port)};
    if (inet_pton(AF_INET, cfg->bind_addr ? cfg->bind_addr : "127.0.0.1", &addr.sin_addr) != 1) {
        chr_free(h);
        return chr_error_set(err, CHR_EINVAL, "hostname", "'%s' is not an IPv4 address",
                             cfg->bind_addr);
    }
    h->d = MHD_start_daemon(
        MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_ALLOW_SUSPEND_RESUME |
            MHD_USE_ERROR_LOG,
        0, NULL, NULL, handler, h, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&addr,
        MHD_OPTION_THREAD_POOL_SIZE, (unsigned)(cfg->threads ? cfg->threads : 2),
        MHD_OPTION_NOTIFY_COMPLETED, completed, h, MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)30,
        MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)(64 * 1024), MHD_OPTION_END);
    if (h->d == NULL) {
        chr_free(h);
        return chr_error_set(err, CHR_EIO, "http_port", "cannot listen on %s:%u",
                             cfg->bind_addr ? cfg->bind_addr : "127.0.0.1", (unsigned)cfg->port);
    }
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(h->d, MHD_DAEMON_INFO_BIND_PORT);
    h->port = info ? info->port : cfg->port;
    *out = h;
    return CHR_OK;
}

uint16_t chr_http_port(const struct chr_http *h)
{
    return h->port;
}

void chr_http_stop(struct chr_http *h)
{
    if (h == NULL)
        return;
    MHD_stop_daemon(h->d);
    chr_free(h);
}
