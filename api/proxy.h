/*
 * proxy.h - a standby server forwards every API request to the leader and
 * relays the answer, as Chronos does (docs/operations.md, "Standbys"): same
 * method, path (re-encoded), query, headers (less the hop-by-hop ones) and
 * body; the leader's status, headers and body come back.
 *
 * Nothing blocks an HTTP thread: chr_proxy_forward suspends the connection
 * and hands the request to one thread of ours that runs every transfer at
 * once through curl's multi interface; that thread fills the answer and
 * resumes the connection.  An answer with a Content-Length is read whole
 * (at most answer_max bytes); one without (the chunked output streams,
 * /v1/runs/{id}/stdout?follow=1) is relayed as it arrives, through a small
 * window with back-pressure on the leader.
 *
 * When no leader is known, the answer is 503 in Chronos's shape
 * ({"message":"no leader: ...","status":"Service Unavailable"}); when the
 * known leader cannot be reached, the same with `Retry-After: 1` - never a
 * trace.  Every forwarded
 * request carries `X-Chronos-Proxied-By: <self>`; a request that already
 * carries it is refused with 508 (two servers each think the other leads).
 */
#ifndef CHR_API_PROXY_H
#define CHR_API_PROXY_H

#include <microhttpd.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/err.h"
#include "common/limits.h"

/* The loop guard's header. */
#define CHR_PROXY_HEADER "X-Chronos-Proxied-By"

struct chr_proxy_config {
    const char *self;           /* this server's "host:port" (copied) */
    unsigned max_requests;      /* 0: CHR_PROXY_REQUESTS_MAX */
    int32_t connect_timeout_ms; /* 0: 2000 */
    int32_t timeout_ms;         /* until the whole answer, or a stream's headers; 0: 30000 */
    size_t answer_max;          /* 0: CHR_PROXY_ANSWER_MAX */
    bool https;                 /* the leader speaks TLS (as this server does) */
    const char *ca_file;        /* PEM bundle checking the leader's certificate; NULL: system */
};

struct chr_proxy;

/*
 * Called once per forwarded request, on the proxy's thread, with the answer
 * to queue: `resp` (owned by the callee: queue it and MHD_destroy_response
 * it, or destroy it if it is never queued; NULL when out of memory: close the
 * connection).  The connection is resumed right after the call returns, so
 * the callee only stores status and resp where the access handler finds
 * them on its next call.  Must not block.
 */
typedef void chr_proxy_done_fn(void *ctx, unsigned status, struct MHD_Response *resp);

struct chr_proxy_request {
    struct MHD_Connection *conn; /* its headers and query are read from it */
    const char *leader;          /* "host:port"; NULL or "": none known */
    const char *method;          /* as MHD gave it */
    const char *url;             /* as MHD gave it: the decoded path, no query */
    const char *body;            /* copied; may be NULL when len is 0 */
    size_t len;
    chr_proxy_done_fn *done;
    void *ctx;
};

/* ---- Lifecycle ------------------------------------------------------------- */

/* Starts the proxy's thread.  CHR_OK; CHR_EINVAL (self is not host:port, or
 * a bad limit: err names "proxy"); CHR_ENOMEM; CHR_EIO (curl or thread). */
enum chr_err chr_proxy_create(const struct chr_proxy_config *cfg, struct chr_proxy **out,
                              struct chr_error *err);
/*
 * Ends every forward in flight before returning: requests still waiting get
 * 503 "the server is stopping" (their done runs, their connections are
 * resumed); streams being relayed are cut (their responses end with an
 * error).  Later forwards are refused the same way.  Call it before
 * MHD_stop_daemon (which must find no suspended connection).  Idempotent.
 */
void chr_proxy_stop(struct chr_proxy *p);
/* Stops (if needed) and frees; call it after MHD_stop_daemon.  NULL allowed. */
void chr_proxy_destroy(struct chr_proxy *p);

/* ---- Operation (from the access handler's final call, body complete) ------ */

/*
 * Forwards rq.  CHR_OK: the connection is suspended; rq->done will be called
 * exactly once, then the connection resumed.  Otherwise nothing was
 * suspended and no callback will come: *status and *resp hold the answer to
 * queue now (*resp NULL when out of memory): 503 no leader / stopping / too
 * many requests (CHR_EUNAVAIL), 508 loop (CHR_ECONFLICT), 500 (CHR_ENOMEM).
 * Everything in rq is copied or read before it returns.
 */
enum chr_err chr_proxy_forward(struct chr_proxy *p, const struct chr_proxy_request *rq,
                               unsigned *status, struct MHD_Response **resp);

/*
 * The glue for an access handler: chr_proxy_forward, and when that answers
 * at once, queues the answer.  Returns what the handler should return.
 */
enum MHD_Result chr_proxy_serve(struct chr_proxy *p, const struct chr_proxy_request *rq);
/* Queues (and releases) what done delivered, on the handler's call after the
 * resume; MHD_NO when resp is NULL. */
enum MHD_Result chr_proxy_queue(struct MHD_Connection *conn, unsigned status,
                                struct MHD_Response *resp);

/* A response in Chronos's error shape with CORS, plus `Retry-After: 1` on
 * 503 and 508; NULL when out of memory. */
struct MHD_Response *chr_proxy_error_response(unsigned status, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

#endif
