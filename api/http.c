/*
 * http.c - the transport of the REST API (http.h): libmicrohttpd's daemon,
 * each request admitted first (a request line without control or NUL
 * bytes, a Host naming this server, JSON bodies and a same-site Origin for
 * mutations, Basic auth), then read whole (bounded by CHR_JOB_JSON_MAX);
 * TLS 1.2+, CORS only for the origins configured, mutations suspended until
 * the loop answers, and output streams that follow a running task.  What
 * each endpoint does is in routes.c.  Errors are Chronos's shape,
 * {"message": ..., "status": ...}, never a trace.  Nothing a refused request
 * carries reaches routes.c or the loop.
 */
#define _GNU_SOURCE /* pthread_rwlockattr_setkind_np */
#include "api/http_int.h"

#include <arpa/inet.h>
#include <errno.h>
#include <jansson.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "common/alloc.h"
#include "common/clock.h"
#include "common/limits.h"
#include "api/assets.h"
#include "api/render.h"

/* How often a followed stream looks for new output. */
#define STREAM_POLL_MS 200
/* Followed streams at once; more are refused (each holds a connection). */
#define STREAMS_MAX 256
/* How long stop waits for mutations the loop is still answering, and for
 * deferred answers (a notification test bounds each sink below this:
 * server/notify.h CHR_NOTIFY_TEST_TIMEOUT_MAX_MS). */
#define STOP_WAIT_MS 10000

static const char *status_text(unsigned status)
{
    switch (status) {
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 413: return "Payload Too Large";
    case 415: return "Unsupported Media Type";
    case 421: return "Misdirected Request";
    case 503: return "Service Unavailable";
    default: return "Internal Server Error";
    }
}

void chr_http_error(struct req *r, unsigned status, const char *fmt, ...)
{
    char message[CHR_ERROR_MESSAGE_MAX + CHR_JOB_NAME_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(message, sizeof message, fmt, ap);
    va_end(ap);
    json_t *v = json_pack("{s:s,s:s}", "message", message, "status", status_text(status));
    if (v == NULL) { /* not UTF-8 (a name echoed from a request): show bytes as '?' */
        for (char *p = message; *p; p++)
            if ((unsigned char)*p >= 0x80 || (unsigned char)*p < 0x20)
                *p = '?';
        v = json_pack("{s:s,s:s}", "message", message, "status", status_text(status));
    }
    char *text = v ? json_dumps(v, JSON_COMPACT) : NULL;
    json_decref(v);
    chr_free(r->out);
    r->out = text ? chr_strndup(text, strlen(text)) : NULL;
    r->out_len = r->out ? strlen(r->out) : 0;
    free(text); /* lint: allow (jansson's allocation) */
    r->status = status;
    r->type = "application/json";
}

void chr_http_body(struct req *r, char *body, size_t len, const char *type)
{
    chr_free(r->out);
    r->out = NULL;
    if (body == NULL) {
        chr_http_error(r, 500, "out of memory");
        return;
    }
    r->out = body;
    r->out_len = len;
    r->status = 200;
    r->type = type;
}

unsigned chr_http_status_of(enum chr_err e)
{
    switch (e) {
    case CHR_OK: return 204;
    case CHR_EINVAL: case CHR_ENOENT: case CHR_ECONFLICT: case CHR_ERANGE: return 400;
    case CHR_EUNAVAIL: return 503;
    default: return 500;
    }
}

const char *chr_http_arg(const struct req *r, const char *key)
{
    return r->args.get != NULL ? r->args.get(r->args.ctx, key) : NULL;
}

size_t chr_http_arg_all(const struct req *r, const char *key, const char **out, size_t max)
{
    return r->args.all != NULL ? r->args.all(r->args.ctx, key, out, max) : 0;
}

const char *chr_http_header(const struct req *r, const char *name)
{
    return r->header != NULL ? r->header(r->header_ctx, name) : NULL;
}

/* ---- Query arguments from the connection ------------------------------------ */

static const char *conn_arg(void *ctx, const char *key)
{
    return MHD_lookup_connection_value(ctx, MHD_GET_ARGUMENT_KIND, key);
}

static const char *conn_header(void *ctx, const char *name)
{
    return MHD_lookup_connection_value(ctx, MHD_HEADER_KIND, name);
}

struct arg_values {
    const char *key;
    const char **out;
    size_t n, max;
};

static enum MHD_Result take_arg(void *cls, enum MHD_ValueKind kind, const char *key,
                                const char *value)
{
    (void)kind;
    struct arg_values *a = cls;
    if (key == NULL || strcmp(key, a->key) != 0)
        return MHD_YES;
    if (a->n == a->max)
        return MHD_NO;
    a->out[a->n++] = value ? value : "";
    return MHD_YES;
}

static size_t conn_args(void *ctx, const char *key, const char **out, size_t max)
{
    struct arg_values a = {key, out, 0, max};
    MHD_get_connection_values(ctx, MHD_GET_ARGUMENT_KIND, take_arg, &a);
    return a.n;
}

/* CORS: only for an Origin --cors_origins lists (none by default). */
static void add_common_headers(const struct chr_http *h, struct MHD_Connection *conn,
                               struct MHD_Response *resp)
{
    if (h->cors.n == 0)
        return;
    const char *origin = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Origin");
    MHD_add_response_header(resp, "Vary", "Origin");
    if (origin != NULL && (h->cors.any || chr_http_list_has(&h->cors, origin, strlen(origin))))
        MHD_add_response_header(resp, "Access-Control-Allow-Origin", origin);
}

static void count(struct chr_http *h, unsigned status)
{
    if (h->sched == NULL) /* a standby keeps no metrics: the leader's are the cluster's */
        return;
    struct chr_metrics *m = h->sched->ops->metrics(h->sched);
    chr_metrics_inc(m, CHR_M_HTTP_REQUESTS);
    if (status >= 400)
        chr_metrics_inc(m, CHR_M_HTTP_ERRORS);
}

const char *chr_http_content_type(const struct req *r)
{
    if (r->status == 204)
        return NULL;
    return r->type ? r->type : "application/json";
}

/* No connection (tests): the answer stays in r. */
static enum MHD_Result keep_answer(struct req *r)
{
    if (r->stream != NULL) { /* its free callback closes the output */
        MHD_destroy_response(r->stream);
        r->stream = NULL;
        chr_free(r->out);
        r->out = NULL;
        r->out_len = 0;
        r->status = 200;
        r->type = "text/plain; charset=utf-8";
    }
    count(r->h, r->status);
    r->state = REQ_DONE;
    return MHD_YES;
}

enum MHD_Result chr_http_send(struct req *r)
{
    if (r->conn == NULL)
        return keep_answer(r);
    if (r->stream != NULL) {
        struct MHD_Response *resp = r->stream;
        r->stream = NULL;
        count(r->h, 200);
        enum MHD_Result ret = MHD_queue_response(r->conn, 200, resp);
        MHD_destroy_response(resp);
        return ret;
    }
    const char *body = r->out ? r->out : "";
    size_t len = r->out ? r->out_len : 0;
    struct MHD_Response *resp =
        MHD_create_response_from_buffer(len, (void *)body, MHD_RESPMEM_MUST_COPY);
    if (resp == NULL)
        return MHD_NO;
    add_common_headers(r->h, r->conn, resp);
    const char *type = chr_http_content_type(r);
    if (type != NULL)
        MHD_add_response_header(resp, "Content-Type", type);
    if (r->warning != NULL && r->status < 300)
        MHD_add_response_header(resp, "Warning", r->warning);
    count(r->h, r->status);
    enum MHD_Result ret = MHD_queue_response(r->conn, r->status, resp);
    MHD_destroy_response(resp);
    return ret;
}

enum MHD_Result chr_http_send_held(struct req *r, const char *text, size_t len, const char *type,
                                   void (*release)(void *), void *cls)
{
    if (r->conn == NULL) {
        chr_http_body(r, chr_strndup(text, len), len, type);
        release(cls);
        return chr_http_send(r);
    }
    struct MHD_Response *resp =
        MHD_create_response_from_buffer_with_free_callback_cls(len, (void *)text, release, cls);
    if (resp == NULL) {
        release(cls);
        return MHD_NO;
    }
    add_common_headers(r->h, r->conn, resp);
    MHD_add_response_header(resp, "Content-Type", type);
    count(r->h, 200);
    enum MHD_Result ret = MHD_queue_response(r->conn, 200, resp);
    MHD_destroy_response(resp);
    return ret;
}

/* The page runs commands on a click: it may be framed by no other page, and
 * it loads nothing but its own files (no inline script, no other origin). */
#define PAGE_CSP                                                                             \
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "      \
    "connect-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"

enum MHD_Result chr_http_send_asset(struct req *r, const struct chr_asset_answer *a)
{
    if (a->status == 404) {
        chr_http_error(r, 404, "no such file of the dashboard (an old page? reload it)");
        return chr_http_send(r);
    }
    r->etag = a->etag;
    r->cache_control = a->cache_control;
    r->gzip = a->gzip;
    if (r->conn == NULL) { /* tests: the answer stays in r */
        chr_free(r->out);
        r->out = NULL;
        r->out_len = 0;
        r->status = a->status;
        r->type = a->type;
        if (a->status == 200 && (r->out = chr_strndup((const char *)a->body, a->len)) == NULL)
            chr_http_error(r, 500, "out of memory");
        r->out_len = r->out ? a->len : 0;
        return chr_http_send(r);
    }
    struct MHD_Response *resp = MHD_create_response_from_buffer(
        a->status == 200 ? a->len : 0, (void *)(a->status == 200 ? a->body : NULL),
        MHD_RESPMEM_PERSISTENT);
    if (resp == NULL)
        return MHD_NO;
    if (a->type != NULL)
        MHD_add_response_header(resp, "Content-Type", a->type);
    MHD_add_response_header(resp, "ETag", a->etag);
    MHD_add_response_header(resp, "Cache-Control", a->cache_control);
    MHD_add_response_header(resp, "Vary", "Accept-Encoding");
    if (a->gzip)
        MHD_add_response_header(resp, "Content-Encoding", "gzip");
    MHD_add_response_header(resp, "Content-Security-Policy", PAGE_CSP);
    MHD_add_response_header(resp, "X-Frame-Options", "DENY");
    MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
    MHD_add_response_header(resp, "Referrer-Policy", "same-origin");
    count(r->h, a->status);
    enum MHD_Result ret = MHD_queue_response(r->conn, a->status, resp);
    MHD_destroy_response(resp);
    return ret;
}

/* ---- Mutations through the loop ------------------------------------------------ */

/* One fewer request waiting for the loop (stop waits for none). */
static void pending_done(struct chr_http *h)
{
    pthread_mutex_lock(&h->mu);
    h->n_busy--;
    pthread_cond_broadcast(&h->cond);
    pthread_mutex_unlock(&h->mu);
}

/* Called on the loop thread: the answer to a mutation. */
static void on_done(void *ctx, enum chr_err result, const char *message)
{
    struct req *r = ctx;
    if (result == CHR_OK && r->success_text) {
        char text[CHR_JOB_NAME_MAX + 64];
        int n = snprintf(text, sizeof text, "marked job %s as successful: true", r->name);
        chr_http_body(r, chr_strndup(text, (size_t)n), (size_t)n, "text/plain");
    } else if (result == CHR_OK) {
        r->status = 204;
    } else {
        unsigned status = result == CHR_ENOENT && r->enoent_404 ? 404 : chr_http_status_of(result);
        chr_http_error(r, status, "%s", message && message[0] ? message : chr_err_message(result));
    }
    chr_http_deferred_done(r);
}

enum MHD_Result chr_http_submit(struct req *r, struct chr_event *ev)
{
    struct chr_http *h = r->h;
    pthread_mutex_lock(&h->mu);
    bool stopping = h->stopping;
    if (!stopping)
        h->n_busy++; /* counts requests waiting for the loop, too */
    pthread_mutex_unlock(&h->mu);
    if (stopping) {
        if (ev->type == CHR_EV_PUT_JOB)
            chr_job_free(&ev->u.job.job);
        chr_http_error(r, 503, "the server is stopping");
        return chr_http_send(r);
    }
    r->state = REQ_WAITING;
    if (r->conn != NULL)
        MHD_suspend_connection(r->conn);
    enum chr_err e = r->sched->ops->request(r->sched, ev, on_done, r);
    if (e != CHR_OK) { /* `done` never fires: answer now */
        chr_http_error(r, chr_http_status_of(e), "%s",
                       e == CHR_EUNAVAIL ? "the server is stopping" : chr_err_message(e));
        chr_http_deferred_done(r);
    }
    return MHD_YES;
}

void chr_http_deferred_done(struct req *r)
{
    struct chr_http *h = r->h;
    r->state = REQ_DONE;
    if (r->conn != NULL)
        MHD_resume_connection(r->conn); /* the handler sends it */
    else
        chr_http_send(r);
    pending_done(h);
}

enum MHD_Result chr_http_defer(struct req *r, chr_http_defer_fn *start, void *arg)
{
    struct chr_http *h = r->h;
    pthread_mutex_lock(&h->mu);
    bool stopping = h->stopping;
    if (!stopping)
        h->n_busy++; /* stop waits for the answer, as for a mutation */
    pthread_mutex_unlock(&h->mu);
    if (stopping) {
        chr_http_error(r, 503, "the server is stopping");
        return chr_http_send(r);
    }
    r->state = REQ_WAITING;
    if (r->conn != NULL)
        MHD_suspend_connection(r->conn);
    enum chr_err e = start(r, arg);
    if (e != CHR_OK) { /* chr_http_deferred_done never comes: answer now */
        if (r->out == NULL)
            chr_http_error(r, chr_http_status_of(e), "%s",
                           e == CHR_EUNAVAIL ? "the server is stopping" : chr_err_message(e));
        chr_http_deferred_done(r);
    }
    return MHD_YES;
}

/* ---- Output streams ------------------------------------------------------------------ */

struct stream {
    struct chr_http *h;
    struct MHD_Connection *conn;
    int fd;
    bool follow, counted;
    char job[CHR_JOB_NAME_MAX + 1];
    char run_id[CHR_RUN_ID_MAX];
    char name[8];
};

/* Waits (suspended) for the ticker; false when the server is stopping. */
static bool wait_for_tick(struct stream *s)
{
    struct chr_http *h = s->h;
    pthread_mutex_lock(&h->mu);
    bool ok = !h->stopping;
    if (ok && h->n_waiting == h->cap_waiting) {
        size_t cap = h->cap_waiting ? h->cap_waiting * 2 : 16;
        struct MHD_Connection **w = chr_realloc(h->waiting, cap * sizeof *w);
        ok = w != NULL;
        if (ok) {
            h->waiting = w;
            h->cap_waiting = cap;
        }
    }
    if (ok) {
        h->waiting[h->n_waiting++] = s->conn;
        MHD_suspend_connection(s->conn); /* resumed by the ticker, under this lock */
    }
    pthread_mutex_unlock(&h->mu);
    return ok;
}

/* True while the run is active (it may still make output). */
static bool run_active(const struct stream *s)
{
    pthread_rwlock_rdlock(&s->h->role_lock);
    struct chr_sched *sched = s->h->sched;
    const struct chr_view_job *j = sched ? chr_view_job(sched->ops->view(sched), s->job) : NULL;
    const struct chr_view_run *r = j ? chr_view_find_run(j, s->run_id) : NULL;
    bool active = r != NULL && r->state < CHR_RUN_FINISHED;
    chr_view_job_release(j);
    pthread_rwlock_unlock(&s->h->role_lock);
    return active;
}

static ssize_t stream_read(void *cls, uint64_t pos, char *buf, size_t max)
{
    struct stream *s = cls;
    if (s->fd < 0) { /* followed before the run made its directory: wait for it */
        bool ended = false;
        s->fd = s->h->cfg.output.open(s->h->cfg.output.ctx, s->job, s->run_id, s->name, &ended);
        if (s->fd < 0)
            return !run_active(s) ? MHD_CONTENT_READER_END_OF_STREAM
                   : wait_for_tick(s) ? 0
                                      : MHD_CONTENT_READER_END_WITH_ERROR;
    }
    for (int pass = 0; pass < 2; pass++) {
        ssize_t n = pread(s->fd, buf, max, (off_t)pos);
        if (n > 0)
            return n;
        if (n < 0 && errno != EINTR)
            return MHD_CONTENT_READER_END_WITH_ERROR;
        if (!s->follow)
            return MHD_CONTENT_READER_END_OF_STREAM;
        if (pass == 0 && s->h->cfg.output.ended(s->h->cfg.output.ctx, s->job, s->run_id)) {
            s->follow = false; /* the output is complete: read what is left, then end */
            continue;
        }
        break;
    }
    if (!s->follow)
        return MHD_CONTENT_READER_END_OF_STREAM;
    return wait_for_tick(s) ? 0 : MHD_CONTENT_READER_END_WITH_ERROR;
}

static void stream_free(void *cls)
{
    struct stream *s = cls;
    if (s->fd >= 0)
        close(s->fd);
    if (s->counted) {
        pthread_mutex_lock(&s->h->mu);
        s->h->n_busy--;
        pthread_cond_broadcast(&s->h->cond);
        pthread_mutex_unlock(&s->h->mu);
    }
    chr_free(s);
}

enum MHD_Result chr_http_stream_output(struct req *r, int fd, bool follow, const char *job,
                                       const char *run_id, const char *name)
{
    struct chr_http *h = r->h;
    struct stream *s = chr_calloc(1, sizeof *s);
    if (s == NULL) {
        if (fd >= 0)
            close(fd);
        chr_http_error(r, 500, "out of memory");
        return chr_http_send(r);
    }
    *s = (struct stream){.h = h, .conn = r->conn, .fd = fd, .follow = follow};
    snprintf(s->job, sizeof s->job, "%s", job);
    snprintf(s->run_id, sizeof s->run_id, "%s", run_id);
    snprintf(s->name, sizeof s->name, "%s", name);
    if (follow) {
        pthread_mutex_lock(&h->mu);
        bool room = !h->stopping && h->n_busy < STREAMS_MAX;
        if (room)
            h->n_busy++;
        pthread_mutex_unlock(&h->mu);
        if (!room) {
            stream_free(s);
            chr_http_error(r, 503, "too many followed streams (at most %d); retry later",
                           STREAMS_MAX);
            return chr_http_send(r);
        }
        s->counted = true;
    }
    struct MHD_Response *resp =
        MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 16 * 1024, stream_read, s, stream_free);
    if (resp == NULL) {
        stream_free(s);
        return MHD_NO;
    }
    add_common_headers(h, r->conn, resp);
    MHD_add_response_header(resp, "Content-Type", "text/plain; charset=utf-8");
    MHD_add_response_header(resp, "Cache-Control", "no-cache");
    r->stream = resp;
    return chr_http_send(r);
}

/* Resumes the waiting streams every STREAM_POLL_MS; all of them at stop. */
static void *ticker_main(void *arg)
{
    struct chr_http *h = arg;
    pthread_mutex_lock(&h->mu);
    for (;;) {
        struct timespec ts = chr_clock_wall_ts(chr_clock_wall_ms() + STREAM_POLL_MS);
        if (!h->stopping)
            pthread_cond_timedwait(&h->cond, &h->mu, &ts);
        for (size_t i = 0; i < h->n_waiting; i++)
            MHD_resume_connection(h->waiting[i]);
        h->n_waiting = 0;
        if (h->stopping)
            break;
    }
    pthread_mutex_unlock(&h->mu);
    return NULL;
}

/* ---- Requests ------------------------------------------------------------------- */

static bool authorized(struct chr_http *h, struct MHD_Connection *conn)
{
    return chr_http_basic_auth_ok(
        MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Authorization"), h->cfg.credentials);
}

static enum MHD_Result refuse_auth(struct chr_http *h, struct MHD_Connection *conn)
{
    const char *body = "{\"message\":\"authentication required: this server needs HTTP Basic "
                       "credentials (user:password)\",\"status\":\"Unauthorized\"}";
    struct MHD_Response *resp =
        MHD_create_response_from_buffer(strlen(body), (void *)body, MHD_RESPMEM_PERSISTENT);
    if (resp == NULL)
        return MHD_NO;
    add_common_headers(h, conn, resp);
    MHD_add_response_header(resp, "Content-Type", "application/json");
    count(h, 401);
    enum MHD_Result ret = MHD_queue_basic_auth_fail_response(
        conn, h->cfg.realm ? h->cfg.realm : "chronos", resp);
    MHD_destroy_response(resp);
    return ret;
}

/* A CORS preflight (it reads and changes nothing, so it needs no
 * credentials): the methods and headers for an Origin --cors_origins lists,
 * 403 for any other Origin, only `Allow` without one. */
static enum MHD_Result preflight(struct req *r)
{
    struct chr_http *h = r->h;
    const char *origin = MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, "Origin");
    bool listed = origin != NULL &&
                  (h->cors.any || chr_http_list_has(&h->cors, origin, strlen(origin)));
    if (origin != NULL && !listed) {
        char b[80];
        chr_http_error(r, 403, "Origin: '%s' may not call this API (see the server's "
                               "--cors_origins)", chr_error_quote(origin, strnlen(origin, 65), 64, b));
        return chr_http_send(r);
    }
    struct MHD_Response *resp = MHD_create_response_from_buffer(0, (void *)"", MHD_RESPMEM_PERSISTENT);
    if (resp == NULL)
        return MHD_NO;
    add_common_headers(h, r->conn, resp);
    MHD_add_response_header(resp, "Allow", "GET, HEAD, POST, PUT, DELETE, OPTIONS");
    if (listed) {
        MHD_add_response_header(resp, "Access-Control-Allow-Methods",
                                "GET, HEAD, POST, PUT, DELETE, OPTIONS");
        MHD_add_response_header(resp, "Access-Control-Allow-Headers",
                                "Content-Type, Authorization, Accept");
        MHD_add_response_header(resp, "Access-Control-Max-Age", "600");
    }
    count(h, 204);
    enum MHD_Result ret = MHD_queue_response(r->conn, 204, resp);
    MHD_destroy_response(resp);
    return ret;
}

/* Reads one chunk of the body into r (at most CHR_JOB_JSON_MAX). */
static enum MHD_Result take_chunk(struct req *r, const char *upload, size_t *upload_size)
{
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

/* ---- Admission (the first call of a request: its line and headers) ------------- */

/* Called by MHD with the request target as the client sent it, before it is
 * split or decoded: the request's state is made here, so the handler can
 * tell a target that a NUL byte cut short. */
static void *on_uri(void *cls, const char *uri, struct MHD_Connection *conn)
{
    struct req *r = chr_calloc(1, sizeof *r);
    if (r == NULL)
        return NULL;
    r->h = cls;
    r->conn = conn;
    r->args = (struct chr_http_args){conn_arg, conn_args, conn};
    r->header = conn_header;
    r->header_ctx = conn;
    r->raw = uri;
    r->raw_len = uri ? strnlen(uri, 1024 * 1024) : 0;
    r->raw_ok = uri == NULL || chr_http_target_ok(uri, r->raw_len);
    return r;
}

/* No control byte in the method or the target, and no NUL in the target.
 * MHD gives the path as C text, so a raw NUL would cut it short ("DELETE
 * /job/ch\0/../x" acting on job "ch"); the target runs up to the space
 * before the version, so a version further on than the text's end means a
 * NUL inside. */
static bool line_ok(const struct req *r, const char *url, const char *method, const char *version)
{
    for (const char *p = method; *p != '\0'; p++)
        if ((unsigned char)*p <= 0x20 || *p == 0x7f)
            return false;
    if (!r->raw_ok)
        return false;
    uintptr_t u = (uintptr_t)url, v = (uintptr_t)version;
    return r->raw == NULL || url != r->raw || version == NULL || v <= u ||
           v - u - 1 == r->raw_len;
}

/* The address the client connected to, as text ("" when unknown). */
static void local_ip(struct MHD_Connection *conn, char *out, size_t cap)
{
    out[0] = '\0';
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CONNECTION_FD);
    struct sockaddr_storage ss;
    socklen_t len = sizeof ss;
    if (ci == NULL || getsockname(ci->connect_fd, (struct sockaddr *)&ss, &len) != 0)
        return;
    if (ss.ss_family == AF_INET)
        inet_ntop(AF_INET, &((struct sockaddr_in *)&ss)->sin_addr, out, (socklen_t)cap);
    else if (ss.ss_family == AF_INET6)
        inet_ntop(AF_INET6, &((struct sockaddr_in6 *)&ss)->sin6_addr, out, (socklen_t)cap);
}

static bool host_ok(struct chr_http *h, struct MHD_Connection *conn, const char *host)
{
    if (chr_http_host_ok(host, &h->hosts, NULL))
        return true;
    char ip[INET6_ADDRSTRLEN];
    local_ip(conn, ip, sizeof ip);
    return ip[0] != '\0' && chr_http_host_ok(host, &h->hosts, ip);
}

static bool mutation(const char *method)
{
    return strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0 &&
           strcmp(method, "OPTIONS") != 0;
}

/* A body is coming: a length above 0, or chunks. */
static bool has_body(struct MHD_Connection *conn)
{
    const char *cl = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Content-Length");
    const char *te = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Transfer-Encoding");
    return te != NULL || (cl != NULL && strspn(cl, "0 ") != strlen(cl));
}

/*
 * What a mutation may carry: a browser's Origin only when it is this
 * server's own page or a --cors_origins entry (a standby checked it before
 * forwarding: a browser cannot send the proxy's header cross-site, and a
 * rebound name fails the Host check first), and a body only as JSON.
 * Returns 0, or the status of the refusal with its answer set.
 */
static unsigned mutation_refusal(struct req *r, const char *host)
{
    char b[80];
    struct MHD_Connection *conn = r->conn;
    const char *origin = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Origin");
    const char *type = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Content-Type");
    bool proxied = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, CHR_PROXY_HEADER) != NULL;
    if (!proxied && !chr_http_origin_ok(origin, host, r->h->cfg.tls_cert_pem != NULL, &r->h->cors)) {
        chr_http_error(r, 403, "Origin: '%s' may not change anything here (a page of another "
                               "site; see the server's --cors_origins)",
                       chr_error_quote(origin, strnlen(origin, 65), 64, b));
        return 403;
    }
    if ((type != NULL || has_body(conn)) && !chr_http_is_json(type)) {
        chr_http_error(r, 415, "Content-Type: '%s' is not application/json (send the job as JSON "
                               "with Content-Type: application/json)",
                       type ? chr_error_quote(type, strnlen(type, 65), 64, b) : "");
        return 415;
    }
    return 0;
}

/* Every check of the request line and headers, in order; MHD_YES with
 * r->checked set when the request may go on, else its answer is queued. */
static enum MHD_Result admit(struct req *r, const char *url, const char *method,
                             const char *version)
{
    struct chr_http *h = r->h;
    char b[80];
    const char *host = MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, "Host");
    if (!line_ok(r, url, method, version)) {
        chr_http_error(r, 400, "request line: a control or NUL byte in the method or the path");
        return chr_http_send(r);
    }
    if (host == NULL && version != NULL && strcmp(version, "HTTP/1.0") != 0) {
        chr_http_error(r, 400, "Host: missing (HTTP/1.1 requires one)");
        return chr_http_send(r);
    }
    if (!host_ok(h, r->conn, host)) {
        chr_http_error(r, 421, "Host: '%s' does not name this server (see the server's "
                               "--hostname and --allowed_hosts)",
                       chr_error_quote(host, strnlen(host, 65), 64, b));
        return chr_http_send(r);
    }
    if (strcmp(method, "OPTIONS") == 0)
        return preflight(r);
    if (h->cfg.credentials != NULL && strcmp(url, "/ping") != 0 && strcmp(url, "/health") != 0 &&
        !authorized(h, r->conn))
        return refuse_auth(h, r->conn);
    if (mutation(method) && mutation_refusal(r, host) != 0)
        return chr_http_send(r);
    r->checked = true;
    return MHD_YES;
}

static enum MHD_Result handle(struct chr_http *h, struct MHD_Connection *conn, const char *url,
                              const char *method, const char *version, const char *upload,
                              size_t *upload_size, void **con_cls);

/* Every call of a request runs under the role lock (read), with the loop of
 * the moment in r->sched. */
static enum MHD_Result handler(void *cls, struct MHD_Connection *conn, const char *url,
                               const char *method, const char *version, const char *upload,
                               size_t *upload_size, void **con_cls)
{
    struct chr_http *h = cls;
    pthread_rwlock_rdlock(&h->role_lock);
    enum MHD_Result ret = handle(h, conn, url, method, version, upload, upload_size, con_cls);
    pthread_rwlock_unlock(&h->role_lock);
    return ret;
}

/* Paths a standby answers itself (the dashboard's files too: its page then
 * calls the API, which the standby forwards). */
static bool local_path(const char *url)
{
    return strcmp(url, "/ping") == 0 || strcmp(url, "/health") == 0 || strcmp(url, "/leader") == 0 ||
           strcmp(url, "/v1/scheduler/leader") == 0 || strcmp(url, "/scheduler/leader") == 0 ||
           strcmp(url, "/v1/status") == 0 || chr_assets_is_path(url);
}

/* Called by the proxy (its thread) with the leader's answer. */
static void on_proxied(void *ctx, unsigned status, struct MHD_Response *resp)
{
    struct req *r = ctx;
    r->status = status;
    r->proxied = resp;
    r->state = REQ_DONE;
}

/* A standby: forwards to the leader, as Chronos does (method, path, query,
 * headers, body), and relays the answer; 503 while there is no leader. */
static enum MHD_Result standby(struct req *r, const char *url, const char *method)
{
    if (local_path(url))
        return chr_routes_dispatch(r, url, method);
    if (r->h->leader[0] == '\0' || r->h->proxy == NULL) {
        chr_http_error(r, 503, "%s (retry in a moment)",
                       r->h->unhealthy[0] ? r->h->unhealthy
                                          : "no leader: the servers are electing one");
        return chr_http_send(r);
    }
    struct chr_proxy_request rq = {r->conn, r->h->leader, method, url, r->body, r->len,
                                   on_proxied, r};
    unsigned st = 0;
    struct MHD_Response *resp = NULL;
    r->state = REQ_WAITING; /* before: the answer may come before forward returns */
    if (chr_proxy_forward(r->h->proxy, &rq, &st, &resp) == CHR_OK)
        return MHD_YES;
    r->state = REQ_READING;
    return chr_proxy_queue(r->conn, st, resp);
}

static enum MHD_Result handle(struct chr_http *h, struct MHD_Connection *conn, const char *url,
                              const char *method, const char *version, const char *upload,
                              size_t *upload_size, void **con_cls)
{
    struct req *r = *con_cls;
    if (r == NULL || r->conn != conn) /* on_uri could not allocate */
        return MHD_NO;
    r->sched = h->sched;
    if (!r->checked) /* headers only: refuse early what needs no body */
        return admit(r, url, method, version);
    if (*upload_size > 0)
        return take_chunk(r, upload, upload_size);
    if (r->state == REQ_DONE && r->proxied != NULL) {
        struct MHD_Response *x = r->proxied;
        r->proxied = NULL;
        return chr_proxy_queue(r->conn, r->status, x);
    }
    if (r->state == REQ_DONE)
        return chr_http_send(r);
    if (r->state == REQ_WAITING)
        return MHD_YES;
    if (r->too_large) {
        chr_http_error(r, 413, "body: larger than the limit of %d bytes", CHR_JOB_JSON_MAX);
        return chr_http_send(r);
    }
    if (r->sched == NULL)
        return standby(r, url, method);
    return chr_routes_dispatch(r, url, method);
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
    if (r->stream != NULL)
        MHD_destroy_response(r->stream);
    if (r->proxied != NULL)
        MHD_destroy_response(r->proxied);
    chr_free(r->body);
    chr_free(r->out);
    chr_free(r);
    *con_cls = NULL;
}

static size_t unescape(void *cls, struct MHD_Connection *conn, char *s)
{
    (void)cls;
    (void)conn;
    return chr_http_unescape(s);
}

/* ---- Lifecycle ----------------------------------------------------------------------- */

static struct MHD_Daemon *start_daemon(struct chr_http *h, struct sockaddr_in *addr)
{
    const struct chr_http_config *cfg = &h->cfg;
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_ALLOW_SUSPEND_RESUME |
                     MHD_USE_ERROR_LOG;
    unsigned threads = cfg->threads ? cfg->threads : 2;
    const char *prio = cfg->tls_priorities ? cfg->tls_priorities : CHR_HTTP_TLS_PRIORITIES;
    if (cfg->tls_cert_pem != NULL)
        return MHD_start_daemon(
            flags | MHD_USE_TLS, 0, NULL, NULL, handler, h, MHD_OPTION_SOCK_ADDR,
            (struct sockaddr *)addr, MHD_OPTION_THREAD_POOL_SIZE, threads,
            MHD_OPTION_NOTIFY_COMPLETED, completed, h, MHD_OPTION_URI_LOG_CALLBACK, on_uri, h,
            MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)30, MHD_OPTION_CONNECTION_MEMORY_LIMIT,
            (size_t)(64 * 1024), MHD_OPTION_UNESCAPE_CALLBACK, unescape, NULL,
            MHD_OPTION_HTTPS_MEM_KEY, cfg->tls_key_pem, MHD_OPTION_HTTPS_MEM_CERT,
            cfg->tls_cert_pem, MHD_OPTION_HTTPS_PRIORITIES, prio, MHD_OPTION_END);
    return MHD_start_daemon(flags, 0, NULL, NULL, handler, h, MHD_OPTION_SOCK_ADDR,
                            (struct sockaddr *)addr, MHD_OPTION_THREAD_POOL_SIZE, threads,
                            MHD_OPTION_NOTIFY_COMPLETED, completed, h,
                            MHD_OPTION_URI_LOG_CALLBACK, on_uri, h,
                            MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)30,
                            MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)(64 * 1024),
                            MHD_OPTION_UNESCAPE_CALLBACK, unescape, NULL, MHD_OPTION_END);
}

enum chr_err chr_http_start(const struct chr_http_config *cfg, struct chr_http **out,
                            struct chr_error *err)
{
    if ((cfg->tls_cert_pem == NULL) != (cfg->tls_key_pem == NULL))
        return chr_error_set(err, CHR_EINVAL, "ssl_cert", "ssl_cert and ssl_key go together");
    struct chr_http *h = chr_calloc(1, sizeof *h);
    if (h == NULL)
        return chr_error_set(err, CHR_ENOMEM, "", "out of memory");
    h->cfg = *cfg;
    h->sched = cfg->sched;
    enum chr_err e = chr_http_list_parse(cfg->allowed_hosts, "allowed_hosts", &h->hosts, err);
    if (e == CHR_OK)
        e = chr_http_list_parse(cfg->cors_origins, "cors_origins", &h->cors, err);
    if (e != CHR_OK) {
        chr_free(h);
        return e;
    }
    chr_http_list_add(&h->hosts, cfg->hostname ? cfg->hostname : "");
    chr_http_list_add(&h->hosts, cfg->bind_addr ? cfg->bind_addr : "127.0.0.1");
    snprintf(h->leader, sizeof h->leader, "%s", cfg->sched && cfg->leader ? cfg->leader : "");
    pthread_rwlockattr_t ra;
    pthread_rwlockattr_init(&ra); /* writers first: a role change must not starve */
    pthread_rwlockattr_setkind_np(&ra, PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
    pthread_rwlock_init(&h->role_lock, &ra);
    pthread_rwlockattr_destroy(&ra);
    pthread_mutex_init(&h->mu, NULL);
    pthread_cond_init(&h->cond, NULL);
    struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons(cfg->port)};
    const char *bind = cfg->bind_addr ? cfg->bind_addr : "127.0.0.1";
    if (inet_pton(AF_INET, bind, &addr.sin_addr) != 1)
        e = chr_error_set(err, CHR_EINVAL, "http_address", "'%s' is not an IPv4 address", bind);
    if (e == CHR_OK && cfg->leader != NULL)
        e = chr_proxy_create(&(struct chr_proxy_config){.self = cfg->leader,
                                                        .https = cfg->tls_cert_pem != NULL},
                             &h->proxy, err);
    if (e == CHR_OK && pthread_create(&h->ticker, NULL, ticker_main, h) != 0)
        e = chr_error_set(err, CHR_ENOMEM, "", "cannot start a thread");
    h->ticker_started = e == CHR_OK;
    if (e == CHR_OK && (h->d = start_daemon(h, &addr)) == NULL)
        e = chr_error_set(err, CHR_EIO, "http_port",
                          cfg->tls_cert_pem ? "cannot listen on %s:%u with TLS (check ssl_cert "
                                              "and ssl_key)"
                                            : "cannot listen on %s:%u",
                          bind, (unsigned)cfg->port);
    if (e != CHR_OK) {
        chr_http_stop(h);
        return e;
    }
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(h->d, MHD_DAEMON_INFO_BIND_PORT);
    h->port = info ? info->port : cfg->port;
    *out = h;
    return CHR_OK;
}

void chr_http_set_sched(struct chr_http *h, struct chr_sched *sched)
{
    pthread_rwlock_wrlock(&h->role_lock);
    h->sched = sched;
    if (sched != NULL)
        snprintf(h->leader, sizeof h->leader, "%s", h->cfg.leader ? h->cfg.leader : "");
    pthread_rwlock_unlock(&h->role_lock);
}

void chr_http_set_leader(struct chr_http *h, const char *id)
{
    pthread_rwlock_wrlock(&h->role_lock);
    snprintf(h->leader, sizeof h->leader, "%s", id ? id : "");
    pthread_rwlock_unlock(&h->role_lock);
}

void chr_http_set_members(struct chr_http *h, const char *const *ids, size_t n)
{
    pthread_rwlock_wrlock(&h->role_lock);
    h->n_members = 0;
    for (size_t i = 0; i < n && h->n_members < CHR_HTTP_MEMBERS_MAX; i++)
        if (ids[i] != NULL && ids[i][0] != '\0')
            snprintf(h->members[h->n_members++], sizeof h->members[0], "%s", ids[i]);
    pthread_rwlock_unlock(&h->role_lock);
}

void chr_http_set_unhealthy(struct chr_http *h, const char *why)
{
    pthread_rwlock_wrlock(&h->role_lock);
    snprintf(h->unhealthy, sizeof h->unhealthy, "%s", why ? why : "");
    pthread_rwlock_unlock(&h->role_lock);
}

void chr_http_set_mesos_master(struct chr_http *h, const char *hostport)
{
    pthread_rwlock_wrlock(&h->role_lock);
    snprintf(h->mesos_master, sizeof h->mesos_master, "%s", hostport ? hostport : "");
    pthread_rwlock_unlock(&h->role_lock);
}

uint16_t chr_http_port(const struct chr_http *h)
{
    return h->port;
}

void chr_http_stop(struct chr_http *h)
{
    if (h == NULL)
        return;
    pthread_mutex_lock(&h->mu);
    h->stopping = true;
    pthread_cond_broadcast(&h->cond);
    pthread_mutex_unlock(&h->mu);
    if (h->proxy != NULL)
        chr_proxy_stop(h->proxy); /* answers what is in flight: no suspended connection stays */
    if (h->ticker_started)
        pthread_join(h->ticker, NULL); /* resumes every waiting stream on its way out */
    /* Mutations in the loop and streams still being sent end before the
     * daemon goes (a suspended connection at MHD_stop_daemon is undefined). */
    struct timespec ts = chr_clock_wall_ts(chr_clock_wall_ms() + STOP_WAIT_MS);
    pthread_mutex_lock(&h->mu);
    while (h->n_busy > 0 && pthread_cond_timedwait(&h->cond, &h->mu, &ts) == 0)
        for (size_t i = 0; i < h->n_waiting; i++)
            MHD_resume_connection(h->waiting[i]);
    h->n_waiting = 0;
    pthread_mutex_unlock(&h->mu);
    if (h->d != NULL)
        MHD_stop_daemon(h->d);
    chr_proxy_destroy(h->proxy);
    pthread_cond_destroy(&h->cond);
    pthread_mutex_destroy(&h->mu);
    pthread_rwlock_destroy(&h->role_lock);
    chr_free(h->waiting);
    chr_free(h);
}
