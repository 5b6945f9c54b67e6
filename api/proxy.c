/*
 * proxy.c - a standby's forwarding of API requests to the leader (proxy.h).
 *
 * A forward ("xfer") is built on the HTTP thread that received the request
 * (everything copied out of MHD while it is valid), its connection
 * suspended, and handed to the proxy's one thread, which runs all of them
 * in a curl multi handle.  That thread answers each one (done + resume).
 * An answer with a Content-Length is collected whole; one without becomes
 * an MHD callback response fed from a window the leader writes into: when
 * the window is full the transfer pauses (CURL_WRITEFUNC_PAUSE) until MHD's
 * reader drains it; when it is empty the reader suspends its connection
 * until the writer resumes it.  A stream's xfer is reference-counted: the
 * proxy's side ends at detach, MHD's when it frees the response, and the
 * xfer may outlive the proxy (it has its own mutex; `p` is cleared at
 * detach).  Never blocks an HTTP thread; never queues a response itself
 * except in chr_proxy_serve/queue, which run in the access handler.
 */
#include "api/proxy.h"

#include <curl/curl.h>
#include <jansson.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "common/alloc.h"
#include "common/clock.h"
#include "common/sb.h"

#define DEFAULT_CONNECT_TIMEOUT_MS 2000
#define DEFAULT_TIMEOUT_MS 30000
/* "host:port" of a leader or of this server: a DNS name, ':', a port. */
#define HOSTPORT_MAX 264
/* A method token (MHD accepts any token; real ones are under 10). */
#define METHOD_MAX 32
/* The answer's header block, and its lines (MHD's own pool is 64 KiB). */
#define ANSWER_HEADERS_MAX (64 * 1024)
#define ANSWER_HEADER_LINES_MAX 256
/* The proxy's thread wakes at least this often (deadlines). */
#define POLL_MS_MAX 1000
/* Bytes MHD asks a stream's reader for at a time. */
#define STREAM_BLOCK 32768
#define RETRY_HINT "(maybe the leadership is changing; retry)"

struct chr_proxy {
    char self[HOSTPORT_MAX];
    unsigned max_requests;
    long connect_timeout_ms;
    int64_t timeout_ms;
    size_t answer_max;
    bool https;
    char *ca_file;
    CURLM *multi;
    pthread_t thread;
    bool started, joined;
    pthread_mutex_t mu;    /* guards incoming, n, stopping */
    struct xfer *incoming; /* handed over by chr_proxy_forward, newest first */
    size_t n;              /* forwards between forward and detach */
    bool stopping;
    struct xfer *active;   /* the thread's own list */
};

struct xfer {
    struct xfer *next;
    pthread_mutex_t mu;
    int refs;              /* the proxy's side; MHD's response of a stream */
    struct chr_proxy *p;   /* NULL once detached (under mu) */
    CURL *easy;
    bool in_multi;
    struct curl_slist *headers;
    char *url, *body;
    size_t body_len, answer_max;
    bool head;
    struct MHD_Connection *conn;
    chr_proxy_done_fn *done;
    void *ctx;
    bool answered, timed_out;
    int64_t deadline_ms;
    char leader[HOSTPORT_MAX];
    char errbuf[CURL_ERROR_SIZE];
    /* The answer's head: "name\0value\0" pairs. */
    unsigned status;
    char *rh;
    size_t rh_len;
    unsigned rh_lines;
    bool rh_bad, headers_done, too_large, streaming;
    int64_t content_length; /* -1: none */
    /* The body: whole, or a stream's window [rd, len). */
    char *buf;
    size_t len, cap, rd;
    /* A stream's state (under mu). */
    bool paused, want_unpause, reader_waiting, ended, failed, mhd_gone;
};

/* ---- Errors ------------------------------------------------------------------ */

static const char *status_text(unsigned status)
{
    switch (status) {
    case 400: return "Bad Request";
    case 502: return "Bad Gateway";
    case 503: return "Service Unavailable";
    case 504: return "Gateway Timeout";
    case 508: return "Loop Detected";
    default: return "Internal Server Error";
    }
}

struct MHD_Response *chr_proxy_error_response(unsigned status, const char *fmt, ...)
{
    char message[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(message, sizeof message, fmt, ap);
    va_end(ap);
    for (char *c = message; *c; c++) /* it echoes peers' text: keep it ASCII */
        if ((unsigned char)*c < 0x20 || (unsigned char)*c >= 0x7f)
            *c = '?';
    json_t *v = json_pack("{s:s,s:s}", "message", message, "status", status_text(status));
    char *text = v ? json_dumps(v, JSON_COMPACT) : NULL;
    json_decref(v);
    if (text == NULL)
        return NULL;
    struct MHD_Response *resp =
        MHD_create_response_from_buffer(strlen(text), text, MHD_RESPMEM_MUST_COPY);
    free(text); /* lint: allow (jansson's allocation) */
    if (resp == NULL)
        return NULL;
    MHD_add_response_header(resp, "Content-Type", "application/json");
    if (status == 503 || status == 508)
        MHD_add_response_header(resp, "Retry-After", "1");
    return resp;
}

/* Peer text made safe to echo (printable, cut at 64 bytes). */
static const char *shown(const char *s, char out[72])
{
    return chr_error_quote(s, strnlen(s, 65), 64, out);
}

/* ---- Names and encodings ---------------------------------------------------- */

static bool is_alnum(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

/* "host:port": a name or IPv4 address, or [IPv6], and a port 1-65535. */
static bool hostport_ok(const char *s)
{
    size_t n = strnlen(s, HOSTPORT_MAX);
    const char *colon = strrchr(s, ':');
    if (n == 0 || n >= HOSTPORT_MAX || colon == NULL || colon == s)
        return false;
    size_t hn = (size_t)(colon - s), pn = n - hn - 1;
    bool v6 = s[0] == '[' && s[hn - 1] == ']';
    for (size_t i = v6 ? 1 : 0; i < (v6 ? hn - 1 : hn); i++)
        if (!(is_alnum(s[i]) || s[i] == '.' || s[i] == '-' || s[i] == '_' || (v6 && s[i] == ':')))
            return false;
    long port = 0;
    for (size_t i = 0; i < pn; i++) {
        if (colon[1 + i] < '0' || colon[1 + i] > '9')
            return false;
        port = port * 10 + (colon[1 + i] - '0');
    }
    return pn >= 1 && pn <= 5 && port >= 1 && port <= 65535 && (!v6 || hn > 2);
}

/* Whether `name` is one of the comma-separated tokens of `list`. */
static bool in_list(const char *list, const char *name)
{
    size_t n = strlen(name);
    for (const char *p = list; p && *p;) {
        while (*p == ' ' || *p == '\t' || *p == ',')
            p++;
        const char *end = p;
        while (*end && *end != ',')
            end++;
        const char *last = end;
        while (last > p && (last[-1] == ' ' || last[-1] == '\t'))
            last--;
        if ((size_t)(last - p) == n && strncasecmp(p, name, n) == 0)
            return true;
        p = end;
    }
    return false;
}

/* Hop-by-hop headers (RFC 9110 7.6.1), and those Connection names. */
static bool hop_by_hop(const char *name, const char *connection)
{
    static const char *const hop[] = {"Connection", "Keep-Alive", "Transfer-Encoding", "TE",
                                      "Trailer", "Upgrade", "Content-Length"};
    for (size_t i = 0; i < sizeof hop / sizeof *hop; i++)
        if (strcasecmp(name, hop[i]) == 0)
            return true;
    return strncasecmp(name, "Proxy-", 6) == 0 || in_list(connection, name);
}

/* Percent-encodes all but unreserved characters (and '/' when keep_slash). */
static void sb_enc(struct chr_sb *b, const char *s, bool keep_slash)
{
    static const char hex[] = "0123456789ABCDEF";
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (is_alnum((char)c) || c == '-' || c == '.' || c == '_' || c == '~' ||
            (keep_slash && c == '/')) {
            chr_sb_ch(b, (char)c);
        } else {
            char e[3] = {'%', hex[c >> 4], hex[c & 15]};
            chr_sb_put(b, e, 3);
        }
    }
}

struct args {
    struct chr_sb *b;
    bool first;
};

static enum MHD_Result take_arg(void *cls, enum MHD_ValueKind kind, const char *key,
                                const char *value)
{
    (void)kind;
    struct args *a = cls;
    chr_sb_ch(a->b, a->first ? '?' : '&');
    a->first = false;
    sb_enc(a->b, key ? key : "", false);
    if (value != NULL) {
        chr_sb_ch(a->b, '=');
        sb_enc(a->b, value, false);
    }
    return MHD_YES;
}

/* The leader's URL: the path re-encoded, then the query, argument by argument. */
static char *leader_url(const struct chr_proxy *p, const struct chr_proxy_request *rq)
{
    struct chr_sb b = {0};
    chr_sb_str(&b, p->https ? "https://" : "http://");
    chr_sb_str(&b, rq->leader);
    if (rq->url[0] != '/')
        chr_sb_ch(&b, '/');
    sb_enc(&b, rq->url, true);
    struct args a = {.b = &b, .first = true};
    MHD_get_connection_values(rq->conn, MHD_GET_ARGUMENT_KIND, take_arg, &a);
    return chr_sb_finish(&b, NULL);
}

/* ---- The request's headers ---------------------------------------------------- */

struct hdrs {
    struct curl_slist *list;
    const char *connection;
    bool oom, has_type, has_accept;
};

static void add_line(struct hdrs *h, const char *name, const char *value)
{
    struct chr_sb b = {0};
    chr_sb_str(&b, name);
    if (value[0] == '\0') {
        chr_sb_ch(&b, ';'); /* curl's way of sending an empty header */
    } else {
        chr_sb_str(&b, ": ");
        chr_sb_str(&b, value);
    }
    char *line = chr_sb_finish(&b, NULL);
    struct curl_slist *l = line == NULL ? NULL : curl_slist_append(h->list, line);
    chr_free(line);
    if (l == NULL)
        h->oom = true;
    else
        h->list = l;
}

static enum MHD_Result take_header(void *cls, enum MHD_ValueKind kind, const char *key,
                                   const char *value)
{
    (void)kind;
    struct hdrs *h = cls;
    if (key == NULL || hop_by_hop(key, h->connection) || strcasecmp(key, "Host") == 0 ||
        strcasecmp(key, "Expect") == 0 || strcasecmp(key, CHR_PROXY_HEADER) == 0)
        return MHD_YES;
    h->has_type |= strcasecmp(key, "Content-Type") == 0;
    h->has_accept |= strcasecmp(key, "Accept") == 0;
    add_line(h, key, value ? value : "");
    return h->oom ? MHD_NO : MHD_YES;
}

static struct curl_slist *request_headers(const struct chr_proxy *p,
                                          const struct chr_proxy_request *rq)
{
    struct hdrs h = {.connection = MHD_lookup_connection_value(rq->conn, MHD_HEADER_KIND,
                                                               "Connection")};
    MHD_get_connection_values(rq->conn, MHD_HEADER_KIND, take_header, &h);
    /* curl's defaults would add what the client did not send; "Name:" removes. */
    const char *extra[] = {h.has_type ? NULL : "Content-Type:", h.has_accept ? NULL : "Accept:",
                           "Expect:"};
    for (size_t i = 0; i < sizeof extra / sizeof *extra && !h.oom; i++) {
        struct curl_slist *l = extra[i] ? curl_slist_append(h.list, extra[i]) : h.list;
        h.oom = l == NULL;
        h.list = l ? l : h.list;
    }
    if (!h.oom)
        add_line(&h, CHR_PROXY_HEADER, p->self);
    if (h.oom) {
        curl_slist_free_all(h.list);
        return NULL;
    }
    return h.list;
}

/* ---- The answer's head and body (on the proxy's thread) ---------------------- */

/* Copies the answer's end-to-end headers onto resp. */
static void relay_headers(struct MHD_Response *resp, const struct xfer *x)
{
    const char *connection = NULL;
    for (size_t at = 0; at < x->rh_len;) {
        const char *name = x->rh + at, *value = name + strlen(name) + 1;
        if (strcasecmp(name, "Connection") == 0)
            connection = value;
        at = (size_t)(value - x->rh) + strlen(value) + 1;
    }
    for (size_t at = 0; at < x->rh_len;) {
        const char *name = x->rh + at, *value = name + strlen(name) + 1;
        if (!hop_by_hop(name, connection))
            MHD_add_response_header(resp, name, value);
        at = (size_t)(value - x->rh) + strlen(value) + 1;
    }
}

static void xfer_unref(struct xfer *x)
{
    pthread_mutex_lock(&x->mu);
    bool last = --x->refs == 0;
    pthread_mutex_unlock(&x->mu);
    if (!last)
        return;
    pthread_mutex_destroy(&x->mu);
    chr_free(x->rh);
    chr_free(x->buf);
    chr_free(x);
}

/* Hands the answer to the request's owner and lets MHD go on with it. */
static void answer(struct xfer *x, unsigned status, struct MHD_Response *resp)
{
    x->answered = true;
    x->done(x->ctx, status, resp);
    MHD_resume_connection(x->conn);
}

static ssize_t stream_read(void *cls, uint64_t pos, char *out, size_t max)
{
    (void)pos;
    struct xfer *x = cls;
    ssize_t r;
    pthread_mutex_lock(&x->mu);
    if (x->len > x->rd) {
        size_t n = x->len - x->rd < max ? x->len - x->rd : max;
        memcpy(out, x->buf + x->rd, n);
        x->rd += n;
        if (x->rd == x->len) {
            x->rd = x->len = 0;
            if (x->paused && x->p != NULL) { /* drained: the leader may go on */
                x->want_unpause = true;
                curl_multi_wakeup(x->p->multi);
            }
        }
        r = (ssize_t)n;
    } else if (x->ended || x->p == NULL) {
        r = x->ended && !x->failed ? MHD_CONTENT_READER_END_OF_STREAM
                                   : MHD_CONTENT_READER_END_WITH_ERROR;
    } else { /* nothing yet: sleep until the writer resumes us */
        x->reader_waiting = true;
        MHD_suspend_connection(x->conn);
        r = 0;
    }
    pthread_mutex_unlock(&x->mu);
    return r;
}

/* MHD is done with a stream's response (sent, or the client went). */
static void stream_free(void *cls)
{
    struct xfer *x = cls;
    pthread_mutex_lock(&x->mu);
    x->mhd_gone = true;
    if (x->p != NULL)
        curl_multi_wakeup(x->p->multi);
    pthread_mutex_unlock(&x->mu);
    xfer_unref(x);
}

static ssize_t head_read(void *cls, uint64_t pos, char *out, size_t max)
{
    (void)cls, (void)pos, (void)out, (void)max;
    return MHD_CONTENT_READER_END_WITH_ERROR; /* HEAD: MHD sends no body */
}

/* Answers now with a response fed as the leader's body arrives. */
static bool start_stream(struct xfer *x)
{
    struct MHD_Response *resp = MHD_create_response_from_callback(
        MHD_SIZE_UNKNOWN, STREAM_BLOCK, stream_read, x, stream_free);
    if (resp == NULL)
        return false;
    relay_headers(resp, x);
    pthread_mutex_lock(&x->mu);
    x->streaming = true;
    x->refs++;
    pthread_mutex_unlock(&x->mu);
    answer(x, x->status, resp);
    return true;
}

static bool has_body(unsigned status)
{
    return status >= 200 && status != 204 && status != 304;
}

/* The end of a head: decides between reading whole and streaming. */
static size_t head_done(struct xfer *x, size_t total)
{
    long code = 0;
    curl_easy_getinfo(x->easy, CURLINFO_RESPONSE_CODE, &code);
    if (code < 200) { /* an interim answer (100): the real head follows */
        x->rh_len = 0;
        x->rh_lines = 0;
        x->content_length = -1;
        return total;
    }
    x->status = (unsigned)code;
    x->headers_done = true;
    if (x->rh_bad)
        return 0;
    if (x->head || !has_body(x->status))
        return total;
    if (x->content_length < 0)
        return start_stream(x) ? total : 0;
    if ((uint64_t)x->content_length > x->answer_max) {
        x->too_large = true;
        return 0;
    }
    if (x->content_length > 0) {
        x->buf = chr_malloc((size_t)x->content_length);
        x->cap = x->buf ? (size_t)x->content_length : 0;
    }
    return total;
}

static size_t on_header(char *b, size_t size, size_t nitems, void *ud)
{
    struct xfer *x = ud;
    size_t total = size * nitems, n = total;
    if (n >= 5 && strncmp(b, "HTTP/", 5) == 0) { /* a status line: a new head */
        x->rh_len = 0;
        x->rh_lines = 0;
        x->content_length = -1;
        return total;
    }
    while (n > 0 && (b[n - 1] == '\r' || b[n - 1] == '\n'))
        n--;
    if (n == 0)
        return head_done(x, total);
    const char *colon = memchr(b, ':', n);
    if (b[0] == ' ' || b[0] == '\t' || colon == NULL || colon == b)
        return total; /* obsolete folding or junk: dropped */
    size_t nn = (size_t)(colon - b);
    const char *v = colon + 1;
    while (v < b + n && (*v == ' ' || *v == '\t'))
        v++;
    size_t vn = (size_t)(b + n - v);
    if (nn == 14 && strncasecmp(b, "Content-Length", 14) == 0) {
        int64_t cl = 0;
        for (size_t i = 0; i < vn && cl >= 0; i++)
            cl = (v[i] >= '0' && v[i] <= '9' && cl < INT64_MAX / 10) ? cl * 10 + (v[i] - '0') : -1;
        x->content_length = vn > 0 ? cl : -1;
    }
    if (x->rh_len + nn + vn + 2 > ANSWER_HEADERS_MAX || ++x->rh_lines > ANSWER_HEADER_LINES_MAX) {
        x->rh_bad = true;
        return total;
    }
    if (x->rh == NULL && (x->rh = chr_malloc(ANSWER_HEADERS_MAX)) == NULL)
        return 0;
    memcpy(x->rh + x->rh_len, b, nn);
    x->rh[x->rh_len + nn] = '\0';
    memcpy(x->rh + x->rh_len + nn + 1, v, vn);
    x->rh[x->rh_len + nn + 1 + vn] = '\0';
    x->rh_len += nn + vn + 2;
    return total;
}

static bool grow(struct xfer *x, size_t need, size_t max)
{
    if (need <= x->cap)
        return true;
    size_t cap = x->cap ? x->cap : 16384;
    while (cap < need)
        cap = cap > max / 2 ? max : cap * 2;
    char *g = chr_realloc(x->buf, cap);
    if (g == NULL)
        return false;
    x->buf = g;
    x->cap = cap;
    return true;
}

static size_t on_write(char *b, size_t size, size_t nitems, void *ud)
{
    struct xfer *x = ud;
    size_t total = size * nitems;
    if (!x->streaming) { /* read whole: only this thread touches buf */
        if (x->len + total > x->answer_max) {
            x->too_large = true;
            return 0;
        }
        if (!grow(x, x->len + total, x->answer_max))
            return 0;
        memcpy(x->buf + x->len, b, total);
        x->len += total;
        return total;
    }
    pthread_mutex_lock(&x->mu);
    size_t pending = x->len - x->rd, r = total;
    if (x->mhd_gone) {
        r = 0;
    } else if (pending > 0 && pending + total > CHR_PROXY_STREAM_WINDOW) {
        x->paused = true; /* curl keeps the data and gives it again on unpause */
        r = CURL_WRITEFUNC_PAUSE;
    } else {
        if (pending > 0 && x->rd > 0)
            memmove(x->buf, x->buf + x->rd, pending);
        x->len = pending;
        x->rd = 0;
        if (!grow(x, pending + total, SIZE_MAX)) {
            r = 0;
        } else {
            memcpy(x->buf + x->len, b, total);
            x->len += total;
            if (x->reader_waiting) {
                x->reader_waiting = false;
                MHD_resume_connection(x->conn);
            }
        }
    }
    pthread_mutex_unlock(&x->mu);
    return r;
}

/* ---- Building a forward (on the HTTP thread) ----------------------------------- */

static void xfer_cleanup_request(struct xfer *x)
{
    if (x->easy != NULL)
        curl_easy_cleanup(x->easy);
    x->easy = NULL;
    curl_slist_free_all(x->headers);
    x->headers = NULL;
    chr_free(x->url);
    chr_free(x->body);
    x->url = x->body = NULL;
}

static void set_method(struct xfer *x, const char *method)
{
    CURL *e = x->easy;
    bool with_body = x->body_len > 0 || strcmp(method, "POST") == 0 ||
                     strcmp(method, "PUT") == 0 || strcmp(method, "PATCH") == 0;
    if (x->head) {
        curl_easy_setopt(e, CURLOPT_NOBODY, 1L);
        return;
    }
    if (with_body) {
        curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)x->body_len);
        curl_easy_setopt(e, CURLOPT_POSTFIELDS, x->body);
    }
    if (strcmp(method, with_body ? "POST" : "GET") != 0)
        curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, method);
}

static bool setup_easy(struct chr_proxy *p, struct xfer *x, const char *method)
{
    CURL *e = x->easy = curl_easy_init();
    if (e == NULL)
        return false;
    bool ok = curl_easy_setopt(e, CURLOPT_URL, x->url) == CURLE_OK;
    curl_easy_setopt(e, CURLOPT_PRIVATE, x);
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(e, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_1_1);
    curl_easy_setopt(e, CURLOPT_PATH_AS_IS, 1L); /* forward the path as received */
    curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, p->connect_timeout_ms);
    curl_easy_setopt(e, CURLOPT_TCP_KEEPALIVE, 1L); /* a stream to a vanished host ends */
    curl_easy_setopt(e, CURLOPT_TCP_KEEPIDLE, 30L);
    curl_easy_setopt(e, CURLOPT_TCP_KEEPINTVL, 10L);
    curl_easy_setopt(e, CURLOPT_HTTPHEADER, x->headers);
    curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(e, CURLOPT_HEADERDATA, x);
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_write);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, x);
    curl_easy_setopt(e, CURLOPT_ERRORBUFFER, x->errbuf);
    if (p->https && p->ca_file != NULL)
        curl_easy_setopt(e, CURLOPT_CAINFO, p->ca_file);
    set_method(x, method);
    return ok;
}

static struct xfer *xfer_new(struct chr_proxy *p, const struct chr_proxy_request *rq)
{
    struct xfer *x = chr_calloc(1, sizeof *x);
    if (x == NULL)
        return NULL;
    pthread_mutex_init(&x->mu, NULL);
    x->refs = 1;
    x->conn = rq->conn;
    x->done = rq->done;
    x->ctx = rq->ctx;
    x->head = strcmp(rq->method, "HEAD") == 0;
    x->content_length = -1;
    x->answer_max = p->answer_max;
    snprintf(x->leader, sizeof x->leader, "%s", rq->leader);
    x->body_len = rq->len;
    x->body = chr_malloc(rq->len + 1);
    x->url = leader_url(p, rq);
    x->headers = request_headers(p, rq);
    if (x->body != NULL && rq->len > 0)
        memcpy(x->body, rq->body, rq->len);
    if (x->body == NULL || x->url == NULL || x->headers == NULL || !setup_easy(p, x, rq->method)) {
        xfer_cleanup_request(x);
        xfer_unref(x);
        return NULL;
    }
    return x;
}

/* ---- Forwarding ------------------------------------------------------------------ */

static enum chr_err refuse(enum chr_err e, unsigned code, struct MHD_Response *r, unsigned *status,
                           struct MHD_Response **resp)
{
    *status = code;
    *resp = r;
    return e;
}

enum chr_err chr_proxy_forward(struct chr_proxy *p, const struct chr_proxy_request *rq,
                               unsigned *status, struct MHD_Response **resp)
{
    char b[72];
    const char *by = MHD_lookup_connection_value(rq->conn, MHD_HEADER_KIND, CHR_PROXY_HEADER);
    if (by != NULL)
        return refuse(CHR_ECONFLICT, 508,
                      chr_proxy_error_response(508,
                                               "proxy loop: %s forwarded this request here, and "
                                               "this server does not lead either " RETRY_HINT,
                                               shown(by, b)),
                      status, resp);
    const char *leader = rq->leader ? rq->leader : "";
    if (leader[0] == '\0' || !hostport_ok(leader) || strcmp(leader, p->self) == 0)
        return refuse(CHR_EUNAVAIL, 503,
                      chr_proxy_error_response(
                          503, "no leader: %s " RETRY_HINT,
                          leader[0] == '\0'          ? "none is known"
                          : strcmp(leader, p->self) == 0 ? "this server is named leader but "
                                                           "does not lead"
                                                         : "its address is not host:port"),
                      status, resp);
    if (strnlen(rq->method, METHOD_MAX + 1) > METHOD_MAX)
        return refuse(CHR_EINVAL, 400, chr_proxy_error_response(400, "method: too long"), status,
                      resp);
    struct xfer *x = xfer_new(p, rq);
    if (x == NULL)
        return refuse(CHR_ENOMEM, 500, chr_proxy_error_response(500, "out of memory"), status,
                      resp);
    pthread_mutex_lock(&p->mu);
    bool stopping = p->stopping, full = p->n >= p->max_requests;
    if (!stopping && !full) {
        p->n++;
        x->p = p;
        x->deadline_ms = chr_clock_mono_ms() + p->timeout_ms;
        MHD_suspend_connection(rq->conn); /* before the thread can resume it */
        x->next = p->incoming;
        p->incoming = x;
    }
    pthread_mutex_unlock(&p->mu);
    if (stopping || full) {
        xfer_cleanup_request(x);
        xfer_unref(x);
        return refuse(CHR_EUNAVAIL, 503,
                      stopping ? chr_proxy_error_response(503, "the server is stopping")
                               : chr_proxy_error_response(
                                     503, "too many requests waiting for the leader (at most %u) "
                                          "; retry", p->max_requests),
                      status, resp);
    }
    curl_multi_wakeup(p->multi);
    return CHR_OK;
}

enum MHD_Result chr_proxy_queue(struct MHD_Connection *conn, unsigned status,
                                struct MHD_Response *resp)
{
    if (resp == NULL)
        return MHD_NO;
    enum MHD_Result r = MHD_queue_response(conn, status, resp);
    MHD_destroy_response(resp);
    return r;
}

enum MHD_Result chr_proxy_serve(struct chr_proxy *p, const struct chr_proxy_request *rq)
{
    unsigned status = 500;
    struct MHD_Response *resp = NULL;
    if (chr_proxy_forward(p, rq, &status, &resp) == CHR_OK)
        return MHD_YES;
    return chr_proxy_queue(rq->conn, status, resp);
}

/* ---- The proxy's thread -------------------------------------------------------- */

/* The proxy lets go of x: its request side is freed, readers see p == NULL. */
static void detach(struct chr_proxy *p, struct xfer *x)
{
    if (x->in_multi)
        curl_multi_remove_handle(p->multi, x->easy);
    x->in_multi = false;
    xfer_cleanup_request(x);
    pthread_mutex_lock(&x->mu);
    x->p = NULL;
    pthread_mutex_unlock(&x->mu);
    pthread_mutex_lock(&p->mu);
    p->n--;
    pthread_mutex_unlock(&p->mu);
    xfer_unref(x);
}

/* The error answer of a failed transfer. */
static struct MHD_Response *failure(struct xfer *x, CURLcode rc, unsigned *status)
{
    const char *why = x->errbuf[0] ? x->errbuf : curl_easy_strerror(rc);
    curl_off_t connect_us = 0;
    curl_easy_getinfo(x->easy, CURLINFO_CONNECT_TIME_T, &connect_us);
    if (x->too_large || x->rh_bad) {
        *status = 502;
        return chr_proxy_error_response(502, "the leader's answer is larger than %s",
                                         x->too_large ? "the limit of the proxy"
                                                      : "the proxy's header limit");
    }
    if (x->timed_out) {
        *status = 504;
        return chr_proxy_error_response(504, "the leader at %s did not answer in time " RETRY_HINT,
                                         x->leader);
    }
    *status = 503;
    if (rc == CURLE_COULDNT_CONNECT || rc == CURLE_COULDNT_RESOLVE_HOST || connect_us == 0)
        return chr_proxy_error_response(503, "no leader: cannot connect to the leader at %s (%s) "
                                             RETRY_HINT, x->leader, why);
    return chr_proxy_error_response(503, "no leader: the connection to the leader at %s failed "
                                         "(%s) " RETRY_HINT, x->leader, why);
}

/* The answer read whole (or a HEAD's head). */
static struct MHD_Response *whole(struct xfer *x)
{
    struct MHD_Response *resp;
    if (x->head && x->content_length >= 0)
        resp = MHD_create_response_from_callback((uint64_t)x->content_length, 1024, head_read,
                                                 NULL, NULL);
    else if (x->len == 0)
        resp = MHD_create_response_from_buffer(0, (void *)"", MHD_RESPMEM_PERSISTENT);
    else if ((resp = MHD_create_response_from_buffer_with_free_callback(x->len, x->buf,
                                                                         chr_free)) != NULL)
        x->buf = NULL; /* moved */
    if (resp != NULL)
        relay_headers(resp, x);
    return resp;
}

/* Ends x (rc: curl's result; stopping: the proxy stops) and detaches it. */
static void finish(struct chr_proxy *p, struct xfer *x, CURLcode rc, bool stopping)
{
    if (x->streaming) {
        pthread_mutex_lock(&x->mu);
        x->ended = true;
        x->failed = rc != CURLE_OK || stopping;
        if (stopping) /* cut now: the client need not drain the window first */
            x->rd = x->len = 0;
        if (x->reader_waiting && !x->mhd_gone) {
            x->reader_waiting = false;
            MHD_resume_connection(x->conn);
        }
        pthread_mutex_unlock(&x->mu);
    } else if (stopping) {
        answer(x, 503, chr_proxy_error_response(503, "the server is stopping"));
    } else if (rc == CURLE_OK && x->headers_done && !x->too_large) {
        answer(x, x->status, whole(x));
    } else {
        unsigned status = 503;
        struct MHD_Response *resp = failure(x, rc, &status);
        answer(x, status, resp);
    }
    detach(p, x);
}

static void unlink_active(struct chr_proxy *p, struct xfer *x)
{
    for (struct xfer **pp = &p->active; *pp; pp = &(*pp)->next)
        if (*pp == x) {
            *pp = x->next;
            return;
        }
}

/* Deadlines, streams MHD let go of, drained windows.  Returns the wait. */
static long sweep(struct chr_proxy *p)
{
    int64_t now = chr_clock_mono_ms(), next = now + POLL_MS_MAX;
    for (struct xfer **pp = &p->active; *pp;) {
        struct xfer *x = *pp;
        pthread_mutex_lock(&x->mu);
        bool gone = x->mhd_gone, streaming = x->streaming;
        bool unpause = x->want_unpause && x->paused && !gone;
        if (unpause)
            x->want_unpause = x->paused = false;
        pthread_mutex_unlock(&x->mu);
        bool late = !streaming && now >= x->deadline_ms;
        if (gone || late) {
            *pp = x->next;
            x->timed_out = late;
            finish(p, x, CURLE_OPERATION_TIMEDOUT, false);
            continue;
        }
        if (unpause)
            curl_easy_pause(x->easy, CURLPAUSE_CONT); /* may call on_write now */
        if (!streaming && x->deadline_ms < next)
            next = x->deadline_ms;
        pp = &x->next;
    }
    return (long)(next - now);
}

/* Takes what chr_proxy_forward handed over; true when stopping. */
static bool take_incoming(struct chr_proxy *p)
{
    pthread_mutex_lock(&p->mu);
    struct xfer *in = p->incoming;
    p->incoming = NULL;
    bool stopping = p->stopping;
    pthread_mutex_unlock(&p->mu);
    struct xfer *order = NULL; /* oldest first */
    while (in != NULL) {
        struct xfer *x = in;
        in = x->next;
        x->next = order;
        order = x;
    }
    while (order != NULL) {
        struct xfer *x = order;
        order = x->next;
        x->in_multi = !stopping && curl_multi_add_handle(p->multi, x->easy) == CURLM_OK;
        if (!x->in_multi) {
            finish(p, x, CURLE_FAILED_INIT, stopping);
            continue;
        }
        x->next = p->active;
        p->active = x;
    }
    return stopping;
}

static void *run(void *arg)
{
    struct chr_proxy *p = arg;
    while (!take_incoming(p)) {
        int running = 0;
        curl_multi_perform(p->multi, &running);
        CURLMsg *msg;
        int left;
        while ((msg = curl_multi_info_read(p->multi, &left)) != NULL) {
            if (msg->msg != CURLMSG_DONE)
                continue;
            char *priv = NULL;
            CURLcode rc = msg->data.result;
            curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, &priv);
            struct xfer *x = (struct xfer *)priv;
            unlink_active(p, x);
            finish(p, x, rc, false);
        }
        long wait = sweep(p);
        curl_multi_poll(p->multi, NULL, 0, wait > 0 ? (int)wait : 0, NULL);
    }
    while (p->active != NULL) {
        struct xfer *x = p->active;
        p->active = x->next;
        finish(p, x, CURLE_ABORTED_BY_CALLBACK, true);
    }
    return NULL;
}

/* ---- Lifecycle ------------------------------------------------------------------ */

enum chr_err chr_proxy_create(const struct chr_proxy_config *cfg, struct chr_proxy **out,
                              struct chr_error *err)
{
    if (cfg->self == NULL || !hostport_ok(cfg->self))
        return chr_error_set(err, CHR_EINVAL, "proxy", "this server's id must be host:port");
    if (cfg->connect_timeout_ms < 0 || cfg->timeout_ms < 0)
        return chr_error_set(err, CHR_EINVAL, "proxy", "timeouts must not be negative");
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
        return chr_error_set(err, CHR_EIO, "proxy", "cannot initialise libcurl");
    struct chr_proxy *p = chr_calloc(1, sizeof *p);
    if (p == NULL) {
        curl_global_cleanup();
        return chr_error_set(err, CHR_ENOMEM, "", "out of memory");
    }
    snprintf(p->self, sizeof p->self, "%s", cfg->self);
    p->max_requests = cfg->max_requests ? cfg->max_requests : CHR_PROXY_REQUESTS_MAX;
    p->connect_timeout_ms = cfg->connect_timeout_ms ? cfg->connect_timeout_ms
                                                    : DEFAULT_CONNECT_TIMEOUT_MS;
    p->timeout_ms = cfg->timeout_ms ? cfg->timeout_ms : DEFAULT_TIMEOUT_MS;
    p->answer_max = cfg->answer_max ? cfg->answer_max : CHR_PROXY_ANSWER_MAX;
    p->https = cfg->https;
    pthread_mutex_init(&p->mu, NULL);
    enum chr_err e = CHR_OK;
    if (cfg->ca_file != NULL &&
        (p->ca_file = chr_strndup(cfg->ca_file, strlen(cfg->ca_file))) == NULL)
        e = chr_error_set(err, CHR_ENOMEM, "", "out of memory");
    if (e == CHR_OK && (p->multi = curl_multi_init()) == NULL)
        e = chr_error_set(err, CHR_EIO, "proxy", "cannot initialise libcurl");
    if (e == CHR_OK && pthread_create(&p->thread, NULL, run, p) != 0)
        e = chr_error_set(err, CHR_EIO, "proxy", "cannot start a thread");
    p->started = e == CHR_OK;
    if (e != CHR_OK) {
        chr_proxy_destroy(p);
        return e;
    }
    *out = p;
    return CHR_OK;
}

void chr_proxy_stop(struct chr_proxy *p)
{
    if (p == NULL || !p->started || p->joined)
        return;
    pthread_mutex_lock(&p->mu);
    p->stopping = true;
    pthread_mutex_unlock(&p->mu);
    curl_multi_wakeup(p->multi);
    pthread_join(p->thread, NULL);
    p->joined = true;
}

void chr_proxy_destroy(struct chr_proxy *p)
{
    if (p == NULL)
        return;
    chr_proxy_stop(p);
    if (p->multi != NULL)
        curl_multi_cleanup(p->multi);
    pthread_mutex_destroy(&p->mu);
    chr_free(p->ca_file);
    chr_free(p);
    curl_global_cleanup();
}
