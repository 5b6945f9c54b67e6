/*
 * http_int.h - what the transport (http.c) and the endpoints (routes.c)
 * share: one request's state and the ways to answer it.
 */
#ifndef CHR_API_HTTP_INT_H
#define CHR_API_HTTP_INT_H

#include <microhttpd.h>
#include <pthread.h>
#include <stdbool.h>

#include "api/http.h"
#include "api/http_check.h"
#include "api/proxy.h"

struct chr_http {
    struct chr_http_config cfg;
    struct MHD_Daemon *d;
    uint16_t port;
    /* Streams (logs ?follow=1) wait suspended; a ticker resumes them. */
    pthread_mutex_t mu;
    pthread_cond_t cond;
    struct MHD_Connection **waiting;
    size_t n_waiting, cap_waiting;
    size_t n_busy;
    bool stopping;
    pthread_t ticker;
    bool ticker_started;
    /* The role, swapped by chr_http_set_loop/_leader; every handler call
     * holds role_lock for reading, so a loop is never stopped under one. */
    pthread_rwlock_t role_lock;
    struct chr_sched *sched;      /* leading: the scheduler; NULL: standing by */
    char leader[256];           /* the leader's "host:port"; "" when unknown */
    char mesos_master[256];     /* the Mesos master detected; "" none */
    char members[CHR_HTTP_MEMBERS_MAX][256]; /* the cluster's servers, leader first */
    size_t n_members;           /* 0: not known (a single server: itself) */
    char unhealthy[256];        /* with no loop: why this server cannot serve; "" unknown */
    struct chr_proxy *proxy;    /* a standby forwards to the leader through it */
    struct chr_http_list hosts; /* names the Host header may carry */
    struct chr_http_list cors;  /* origins CORS answers go to */
};

enum req_state { REQ_READING = 0, REQ_WAITING, REQ_DONE, REQ_STREAM };

/* Where a request's query arguments come from: its connection (http.c), or
 * a table (tests).  Values are percent-decoded and live as long as the
 * request. */
struct chr_http_args {
    /* The first value of `key`, or NULL when absent. */
    const char *(*get)(void *ctx, const char *key);
    /* The values of `key` in order ("" for one without a value), at most
     * max of them into out; returns how many. */
    size_t (*all)(void *ctx, const char *key, const char **out, size_t max);
    void *ctx;
};

/*
 * One request.  Routes read it through chr_http_arg and r->body, and answer
 * by filling status, type and out, then chr_http_send.  Only http.c turns
 * the answer into libmicrohttpd's: with no connection (conn NULL, tests),
 * chr_http_send keeps the answer here and marks the request REQ_DONE, and a
 * mutation's answer (chr_http_submit) lands here as soon as `done` fires,
 * without suspending anything.
 */
struct req {
    struct chr_http *h;
    struct chr_sched *sched;      /* h->sched during this handler call; NULL: standby */
    struct MHD_Connection *conn;  /* NULL: no socket (tests) */
    struct chr_http_args args;    /* the query arguments */
    /* The request header `name` (NULL: absent), from header_ctx; NULL
     * function (tests): no headers. */
    const char *(*header)(void *header_ctx, const char *name);
    void *header_ctx;
    enum req_state state;
    char *body;
    size_t len;
    bool too_large;
    bool checked;       /* the request line and headers passed (first call) */
    const char *raw;    /* where the request target was (its identity only) */
    size_t raw_len;     /* its length up to its first NUL */
    bool raw_ok;        /* no control byte in it */
    bool success_text;  /* job/success: 200 with Chronos's sentence */
    bool enoent_404;    /* ours (/v1/runs): not found is 404, not Chronos's 400 */
    /* A Warning header's value for a success (a static string), or NULL:
     * Chronos answers 204 with no body, so a warning goes in a header. */
    const char *warning;
    char warning_buf[512]; /* where a warning made for this request is written */
    /* The answer, filled by a route, the loop, or at once. */
    unsigned status;
    char *out;          /* chr_malloc'd response body or NULL */
    size_t out_len;
    const char *type;   /* content type */
    char name[CHR_JOB_NAME_MAX + 1];
    struct MHD_Response *stream; /* REQ_STREAM: queued when the handler is called */
    struct MHD_Response *proxied;/* the leader's answer, relayed when resumed */
    /* An embedded file's answer (chr_http_send_asset), kept here too with no
     * connection (tests). */
    const char *etag, *cache_control;
    bool gzip;
};

/* Sets an error answer: Chronos's {"message","status"}. */
void chr_http_error(struct req *r, unsigned status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Sets a 200 answer; the body (chr_malloc'd, may be NULL = out of memory) moves. */
void chr_http_body(struct req *r, char *body, size_t len, const char *type);
/* Answers 200 with `text`, sent from where it is (no copy; with no
 * connection, copied into r->out); release(cls) is called once the text is
 * no longer needed (also on failure). */
enum MHD_Result chr_http_send_held(struct req *r, const char *text, size_t len, const char *type,
                                   void (*release)(void *), void *cls);
/* Answers an embedded file of the dashboard (api/assets.h): its status,
 * bytes (static, not copied), ETag, Cache-Control and Content-Encoding, with
 * the headers that keep the page to itself (CSP, no framing, no sniffing). */
struct chr_asset_answer;
enum MHD_Result chr_http_send_asset(struct req *r, const struct chr_asset_answer *a);
/* The request header `name` (NULL: absent). */
const char *chr_http_header(const struct req *r, const char *name);
/* Queues the answer set on r (with no connection: keeps it in r, REQ_DONE;
 * a stream is then answered 200 with no body). */
enum MHD_Result chr_http_send(struct req *r);
/* The Content-Type the answer set on r goes out with; NULL for a 204. */
const char *chr_http_content_type(const struct req *r);
/* The HTTP status of a core error. */
unsigned chr_http_status_of(enum chr_err e);
/* The value of query argument `key`, or NULL. */
const char *chr_http_arg(const struct req *r, const char *key);
/* Every value of the repeatable query argument `key`, in order, at most max
 * into out; returns how many. */
size_t chr_http_arg_all(const struct req *r, const char *key, const char **out, size_t max);

/* Mutations: hands the event to the loop, the connection suspended until
 * the answer (its ops->request); with no connection, the answer is set on r
 * (REQ_DONE) when `done` fires, which may be before this returns. */
enum MHD_Result chr_http_submit(struct req *r, struct chr_event *ev);

/* Answers later, with what another thread builds (`chronos notify test`):
 * suspends the connection (counted as busy: stopping waits for it), then
 * calls start(r, arg), which must see to it that the answer is set on r and
 * chr_http_deferred_done(r) called once, from any thread (perhaps before
 * start returns).  When start returns an error, it is not called: r is
 * answered with that error (or with the error start set on r) at once. */
typedef enum chr_err chr_http_defer_fn(struct req *r, void *arg);
enum MHD_Result chr_http_defer(struct req *r, chr_http_defer_fn *start, void *arg);
void chr_http_deferred_done(struct req *r);

/* The Warning header of a job with a container accepted by a server that
 * cannot run it (routes.c). */
extern const char chr_routes_no_runtime_warning[];

/* Whether an Accept header asks /metrics for Prometheus's text rather than
 * Chronos's JSON (routes.c): it names text/plain or OpenMetrics. */
bool chr_routes_wants_prometheus(const char *accept);

/* Routes a complete request (routes.c). */
enum MHD_Result chr_routes_dispatch(struct req *r, const char *url, const char *method);

/* Starts streaming a run's output from fd (moved), following it until
 * the run ends when follow is set (logs ?follow=1). */
enum MHD_Result chr_http_stream_output(struct req *r, int fd, bool follow, const char *job,
                                       const char *run_id, const char *stream);

#endif
