/*
 * test_proxy.c - a standby's forwarding to the leader (proxy.h), end to end
 * on loopback: a tiny MHD "leader" that echoes what it got (method, path,
 * arguments, headers, body) and can answer with a given status, a large or
 * chunked body, a stream that waits, or not at all; and an MHD "standby"
 * front whose handler does exactly the glue proposed for api/http.c
 * (chr_proxy_serve on the final call, chr_proxy_queue after the resume).
 * Clients are libcurl easy handles.
 */
#include "tests/unit/unit.h"

#include <arpa/inet.h>
#include <curl/curl.h>
#include <jansson.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "api/proxy.h"

static char pattern(size_t i)
{
    return (char)('a' + (i * 7 + i / 251) % 26);
}

/* ---- The leader double ------------------------------------------------------- */

static struct MHD_Daemon *leader;
static uint16_t leader_port;
static char leader_hp[64];
static pthread_mutex_t lmu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t lcond = PTHREAD_COND_INITIALIZER;
static int held;          /* requests the leader holds (/hold) */
static bool released;     /* lets every held request go */
static bool go;           /* lets /stream-wait send its second part */
static bool lstopping;
static int requests_seen; /* requests that reached the leader */

struct lconn {
    char *body;
    size_t len, cap;
};

/* Appends n bytes to a buffer that grows by doubling, with a NUL after
 * them.  (A realloc to the exact size per chunk copies the whole body each
 * time: quadratic in a body of megabytes, and under ASan, whose realloc
 * always moves to fresh pages, most of this test's time.) */
static void buf_append(char **buf, size_t *len, size_t *cap, const void *data, size_t n)
{
    if (*len + n + 1 > *cap) {
        size_t c = *cap ? *cap : 4096;
        while (c < *len + n + 1)
            c *= 2;
        *buf = realloc(*buf, c);
        *cap = c;
    }
    memcpy(*buf + *len, data, n);
    *len += n;
    (*buf)[*len] = '\0';
}

/* Waits until `flag` or the leader stops, at most ms; the flag's value. */
static bool leader_wait(bool *flag, long ms)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_sec += ms / 1000;
    pthread_mutex_lock(&lmu);
    while (!*flag && !lstopping && pthread_cond_timedwait(&lcond, &lmu, &ts) == 0)
        ;
    bool v = *flag;
    pthread_mutex_unlock(&lmu);
    return v;
}

static enum MHD_Result add_arg(void *cls, enum MHD_ValueKind kind, const char *k, const char *v)
{
    (void)kind;
    json_array_append_new(cls, json_pack("[s,s?]", k, v));
    return MHD_YES;
}

static enum MHD_Result add_hdr(void *cls, enum MHD_ValueKind kind, const char *k, const char *v)
{
    (void)kind;
    char low[256];
    snprintf(low, sizeof low, "%s", k);
    for (char *c = low; *c; c++)
        *c = (char)((*c >= 'A' && *c <= 'Z') ? *c + 32 : *c);
    json_object_set_new(cls, low, json_string(v ? v : ""));
    return MHD_YES;
}

static struct MHD_Response *echo(struct MHD_Connection *c, const char *method, const char *url,
                                 struct lconn *lc)
{
    json_t *args = json_array(), *hdrs = json_object();
    MHD_get_connection_values(c, MHD_GET_ARGUMENT_KIND, add_arg, args);
    MHD_get_connection_values(c, MHD_HEADER_KIND, add_hdr, hdrs);
    json_t *v = json_pack("{s:s,s:s,s:o,s:o,s:s%,s:I}", "method", method, "path", url, "args",
                          args, "headers", hdrs, "body", lc->body ? lc->body : "", lc->len, "len",
                          (json_int_t)lc->len);
    char *text = json_dumps(v, JSON_COMPACT);
    json_decref(v);
    struct MHD_Response *r =
        MHD_create_response_from_buffer(strlen(text), text, MHD_RESPMEM_MUST_COPY);
    free(text);
    MHD_add_response_header(r, "Content-Type", "application/json");
    return r;
}

static ssize_t chunked_read(void *cls, uint64_t pos, char *buf, size_t max)
{
    size_t total = (size_t)(uintptr_t)cls;
    if (pos >= total)
        return MHD_CONTENT_READER_END_OF_STREAM;
    size_t n = total - pos < max ? total - pos : max;
    n = n > 10000 ? 10000 : n;
    for (size_t i = 0; i < n; i++)
        buf[i] = pattern(pos + i);
    return (ssize_t)n;
}

static ssize_t wait_read(void *cls, uint64_t pos, char *buf, size_t max)
{
    (void)cls;
    (void)max;
    if (pos == 0) {
        memcpy(buf, "part1\n", 6);
        return 6;
    }
    if (pos == 6) {
        bool ok = leader_wait(&go, 5000);
        memcpy(buf, ok ? "part2\n" : "nogo!\n", 6);
        return 6;
    }
    return MHD_CONTENT_READER_END_OF_STREAM;
}

static struct MHD_Response *leader_answer(struct MHD_Connection *c, const char *method,
                                          const char *url, struct lconn *lc, unsigned *status)
{
    *status = 200;
    if (strncmp(url, "/status/", 8) == 0) {
        *status = (unsigned)strtoul(url + 8, NULL, 10);
        const char *type = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "type");
        const char *b = *status == 204 ? "" : "{\"from\":\"leader\"}";
        struct MHD_Response *r =
            MHD_create_response_from_buffer(strlen(b), (void *)b, MHD_RESPMEM_PERSISTENT);
        MHD_add_response_header(r, "Content-Type", type ? type : "application/json");
        MHD_add_response_header(r, "X-Leader", "yes");
        MHD_add_response_header(r, "Keep-Alive", "timeout=5");
        MHD_add_response_header(r, "Proxy-Authenticate", "Basic");
        return r;
    }
    if (strncmp(url, "/big/", 5) == 0) {
        size_t n = strtoul(url + 5, NULL, 10);
        char *b = malloc(n ? n : 1);
        for (size_t i = 0; i < n; i++)
            b[i] = pattern(i);
        return MHD_create_response_from_buffer(n, b, MHD_RESPMEM_MUST_FREE);
    }
    if (strncmp(url, "/chunked/", 9) == 0)
        return MHD_create_response_from_callback(
            MHD_SIZE_UNKNOWN, 16384, chunked_read,
            (void *)(uintptr_t)strtoul(url + 9, NULL, 10), NULL);
    if (strcmp(url, "/stream-wait") == 0)
        return MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 64, wait_read, NULL, NULL);
    if (strcmp(url, "/hold") == 0) {
        pthread_mutex_lock(&lmu);
        held++;
        pthread_cond_broadcast(&lcond);
        pthread_mutex_unlock(&lmu);
        leader_wait(&released, 20000);
    }
    return echo(c, method, url, lc);
}

static enum MHD_Result leader_handler(void *cls, struct MHD_Connection *c, const char *url,
                                      const char *method, const char *version,
                                      const char *upload, size_t *upload_size, void **con_cls)
{
    (void)cls;
    (void)version;
    struct lconn *lc = *con_cls;
    if (lc == NULL) {
        *con_cls = calloc(1, sizeof *lc);
        pthread_mutex_lock(&lmu);
        requests_seen++;
        pthread_mutex_unlock(&lmu);
        return MHD_YES;
    }
    if (*upload_size > 0) {
        buf_append(&lc->body, &lc->len, &lc->cap, upload, *upload_size);
        *upload_size = 0;
        return MHD_YES;
    }
    unsigned status;
    struct MHD_Response *r = leader_answer(c, method, url, lc, &status);
    enum MHD_Result ret = MHD_queue_response(c, status, r);
    MHD_destroy_response(r);
    return ret;
}

static void leader_completed(void *cls, struct MHD_Connection *c, void **con_cls,
                             enum MHD_RequestTerminationCode code)
{
    (void)cls, (void)c, (void)code;
    struct lconn *lc = *con_cls;
    if (lc != NULL) {
        free(lc->body);
        free(lc);
    }
    *con_cls = NULL;
}

static void leader_reset(void)
{
    pthread_mutex_lock(&lmu);
    held = 0;
    released = go = false;
    pthread_mutex_unlock(&lmu);
}

static void leader_release(void)
{
    pthread_mutex_lock(&lmu);
    released = go = true;
    pthread_cond_broadcast(&lcond);
    pthread_mutex_unlock(&lmu);
}

static int leader_count(int *what)
{
    pthread_mutex_lock(&lmu);
    int v = *what;
    pthread_mutex_unlock(&lmu);
    return v;
}

/* ---- The standby front: the glue for http.c --------------------------------------- */

static struct MHD_Daemon *front;
static uint16_t front_port;
static char front_hp[64];
static struct chr_proxy *proxy;
static const char *front_leader; /* what the front believes: NULL = unknown */

struct fconn {
    char *body;
    size_t len, cap;
    bool forwarded, done;
    unsigned status;
    struct MHD_Response *resp;
};

static void on_proxied(void *ctx, unsigned status, struct MHD_Response *resp)
{
    struct fconn *fc = ctx;
    fc->status = status;
    fc->resp = resp;
    fc->done = true;
}

static enum MHD_Result front_handler(void *cls, struct MHD_Connection *c, const char *url,
                                     const char *method, const char *version, const char *upload,
                                     size_t *upload_size, void **con_cls)
{
    (void)cls;
    (void)version;
    struct fconn *fc = *con_cls;
    if (fc == NULL) {
        *con_cls = calloc(1, sizeof *fc);
        return *con_cls ? MHD_YES : MHD_NO;
    }
    if (*upload_size > 0) {
        buf_append(&fc->body, &fc->len, &fc->cap, upload, *upload_size);
        *upload_size = 0;
        return MHD_YES;
    }
    if (fc->done) {
        struct MHD_Response *r = fc->resp;
        fc->resp = NULL;
        return chr_proxy_queue(c, fc->status, r);
    }
    if (fc->forwarded)
        return MHD_YES;
    fc->forwarded = true;
    struct chr_proxy_request rq = {.conn = c, .leader = front_leader, .method = method,
                                   .url = url, .body = fc->body, .len = fc->len,
                                   .done = on_proxied, .ctx = fc};
    return chr_proxy_serve(proxy, &rq);
}

static void front_completed(void *cls, struct MHD_Connection *c, void **con_cls,
                            enum MHD_RequestTerminationCode code)
{
    (void)cls, (void)c, (void)code;
    struct fconn *fc = *con_cls;
    if (fc != NULL) {
        if (fc->resp != NULL)
            MHD_destroy_response(fc->resp);
        free(fc->body);
        free(fc);
    }
    *con_cls = NULL;
}

static void start_front(const struct chr_proxy_config *overrides)
{
    front = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL |
                                 MHD_ALLOW_SUSPEND_RESUME | MHD_USE_ERROR_LOG,
                             0, NULL, NULL, front_handler, NULL, MHD_OPTION_THREAD_POOL_SIZE,
                             (unsigned)2, MHD_OPTION_NOTIFY_COMPLETED, front_completed, NULL,
                             MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)30, MHD_OPTION_END);
    assert_non_null(front);
    front_port = MHD_get_daemon_info(front, MHD_DAEMON_INFO_BIND_PORT)->port;
    snprintf(front_hp, sizeof front_hp, "127.0.0.1:%u", (unsigned)front_port);
    struct chr_proxy_config cfg = overrides ? *overrides : (struct chr_proxy_config){0};
    cfg.self = front_hp;
    struct chr_error err;
    if (chr_proxy_create(&cfg, &proxy, &err) != CHR_OK)
        fail_msg("proxy: %s", err.message);
    front_leader = leader_hp;
}

/* The order http.c must keep: the proxy ends its forwards, then MHD stops. */
static void stop_front(void)
{
    chr_proxy_stop(proxy);
    MHD_stop_daemon(front);
    chr_proxy_destroy(proxy);
    front = NULL;
    proxy = NULL;
}

static int setup(void **state)
{
    (void)state;
    leader_reset();
    start_front(NULL);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    leader_release();
    if (front != NULL)
        stop_front();
    return 0;
}

/* ---- The client ---------------------------------------------------------------- */

struct reply {
    long status;
    char head[16384];
    size_t head_len;
    char *body;
    size_t len, cap;
    CURLcode rc;
    bool saw_part1; /* /stream-wait: the first part came before `go` */
};

static size_t cl_head(char *b, size_t size, size_t n, void *ud)
{
    struct reply *r = ud;
    size_t t = size * n;
    if (r->head_len + t < sizeof r->head) {
        memcpy(r->head + r->head_len, b, t);
        r->head_len += t;
        r->head[r->head_len] = '\0';
    }
    return t;
}

static size_t cl_body(char *b, size_t size, size_t n, void *ud)
{
    struct reply *r = ud;
    size_t t = size * n;
    buf_append(&r->body, &r->len, &r->cap, b, t);
    if (!r->saw_part1 && r->len >= 6 && memcmp(r->body, "part1\n", 6) == 0) {
        r->saw_part1 = true;
        pthread_mutex_lock(&lmu);
        r->saw_part1 = !go; /* only counts if the leader still waits */
        go = true;
        pthread_cond_broadcast(&lcond);
        pthread_mutex_unlock(&lmu);
    }
    return t;
}

struct call {
    const char *method, *path;
    const char *const *headers; /* NULL-terminated */
    const char *body;
    size_t len;
    uint16_t port;
    long max_recv_bps;
    struct reply r;
};

static void perform(struct call *c)
{
    CURL *e = curl_easy_init();
    char url[4096];
    snprintf(url, sizeof url, "http://127.0.0.1:%u%s", (unsigned)(c->port ? c->port : front_port),
             c->path);
    struct curl_slist *h = curl_slist_append(NULL, "Expect:");
    for (const char *const *p = c->headers; p && *p; p++)
        h = curl_slist_append(h, *p);
    curl_easy_setopt(e, CURLOPT_URL, url);
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, 60000L); /* a loaded machine, under ASan */
    curl_easy_setopt(e, CURLOPT_HTTPHEADER, h);
    curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, cl_head);
    curl_easy_setopt(e, CURLOPT_HEADERDATA, &c->r);
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, cl_body);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, &c->r);
    curl_easy_setopt(e, CURLOPT_PATH_AS_IS, 1L);
    if (c->max_recv_bps)
        curl_easy_setopt(e, CURLOPT_MAX_RECV_SPEED_LARGE, (curl_off_t)c->max_recv_bps);
    if (strcmp(c->method, "HEAD") == 0)
        curl_easy_setopt(e, CURLOPT_NOBODY, 1L);
    else if (c->body != NULL) {
        curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)c->len);
        curl_easy_setopt(e, CURLOPT_POSTFIELDS, c->body);
    }
    if (strcmp(c->method, "HEAD") != 0 && strcmp(c->method, c->body ? "POST" : "GET") != 0)
        curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, c->method);
    c->r.rc = curl_easy_perform(e);
    curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &c->r.status);
    curl_easy_cleanup(e);
    curl_slist_free_all(h);
}

static void *perform_thread(void *arg)
{
    perform(arg);
    return NULL;
}

static void reply_free(struct reply *r)
{
    free(r->body);
    r->body = NULL;
    r->cap = 0;
}

/* The value of header `name` in the reply's last head, or NULL; occurrences in *count. */
static const char *header(const struct reply *r, const char *name, char *buf, size_t cap,
                          int *count)
{
    const char *found = NULL;
    int k = 0;
    size_t n = strlen(name);
    for (const char *line = r->head; *line;) {
        const char *end = strstr(line, "\r\n");
        if (end == NULL)
            break;
        if (strncasecmp(line, name, n) == 0 && line[n] == ':') {
            const char *v = line + n + 1;
            while (*v == ' ')
                v++;
            snprintf(buf, cap, "%.*s", (int)(end - v), v);
            found = buf;
            k++;
        }
        line = end + 2;
    }
    if (count)
        *count = k;
    return found;
}

static json_t *body_json(const struct reply *r)
{
    json_t *v = json_loadb(r->body ? r->body : "", r->len, 0, NULL);
    if (v == NULL)
        fail_msg("not JSON (status %ld): %.*s", r->status, (int)r->len, r->body ? r->body : "");
    return v;
}

static const char *jstr(json_t *v, const char *path1, const char *path2)
{
    json_t *o = json_object_get(v, path1);
    if (path2)
        o = json_object_get(o, path2);
    return json_string_value(o);
}

static void simple(struct call *c, const char *method, const char *path)
{
    memset(c, 0, sizeof *c);
    c->method = method;
    c->path = path;
}

/* Checks a Chronos-shaped error: status, message prefix, Retry-After. */
static void assert_error(struct reply *r, long status, const char *prefix, bool retry_after)
{
    if (r->status != status)
        fail_msg("status %ld, want %ld: %.*s", r->status, status, (int)r->len,
                 r->body ? r->body : "");
    json_t *v = body_json(r);
    const char *m = jstr(v, "message", NULL);
    assert_non_null(m);
    if (strncmp(m, prefix, strlen(prefix)) != 0)
        fail_msg("message '%s' does not start with '%s'", m, prefix);
    assert_non_null(jstr(v, "status", NULL));
    json_decref(v);
    char b[64];
    const char *ra = header(r, "Retry-After", b, sizeof b, NULL);
    if (retry_after)
        assert_string_equal(ra ? ra : "(none)", "1");
    assert_non_null(header(r, "Content-Type", b, sizeof b, NULL));
}

/* ---- Tests ------------------------------------------------------------------- */

static void test_config_refused(void **state)
{
    (void)state;
    const char *bad[] = {NULL, "", "nohost", "h:0", "h:99999", "a b:80", ":80"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        struct chr_proxy_config cfg = {.self = bad[i]};
        struct chr_proxy *p = NULL;
        struct chr_error err = {0};
        assert_int_equal(chr_proxy_create(&cfg, &p, &err), CHR_EINVAL);
        assert_null(p);
        assert_string_equal(err.field, "proxy");
    }
}

static void test_every_method(void **state)
{
    (void)state;
    const char *methods[] = {"GET", "POST", "PUT", "DELETE", "PATCH", "OPTIONS"};
    for (size_t i = 0; i < sizeof methods / sizeof *methods; i++) {
        struct call c;
        simple(&c, methods[i], "/v1/scheduler/jobs");
        if (strcmp(methods[i], "POST") == 0 || strcmp(methods[i], "PUT") == 0) {
            c.body = "{\"name\":\"x\"}";
            c.len = strlen(c.body);
        }
        perform(&c);
        assert_int_equal(c.r.status, 200);
        json_t *v = body_json(&c.r);
        assert_string_equal(jstr(v, "method", NULL), methods[i]);
        assert_string_equal(jstr(v, "path", NULL), "/v1/scheduler/jobs");
        assert_string_equal(jstr(v, "body", NULL), c.body ? c.body : "");
        json_decref(v);
        reply_free(&c.r);
    }
    struct call c;
    simple(&c, "HEAD", "/big/1000");
    perform(&c);
    assert_int_equal(c.r.status, 200);
    assert_int_equal(c.r.len, 0);
    char b[64];
    assert_string_equal(header(&c.r, "Content-Length", b, sizeof b, NULL), "1000");
    reply_free(&c.r);
}

/* The leader sees what it would have seen asked directly. */
static void test_path_and_query(void **state)
{
    (void)state;
    const char *path = "/v1/scheduler/job/a%20b%2Fc%25d%C3%A9?x=1%262&y=%C3%A9&z=a+b&flag&e="
                       "&sp=%20%2B%3D&x=again";
    struct call direct, via;
    simple(&direct, "GET", path);
    direct.port = leader_port;
    simple(&via, "GET", path);
    perform(&direct);
    perform(&via);
    assert_int_equal(via.r.status, 200);
    json_t *d = body_json(&direct.r), *v = body_json(&via.r);
    assert_string_equal(jstr(v, "path", NULL), jstr(d, "path", NULL));
    assert_string_equal(jstr(v, "path", NULL), "/v1/scheduler/job/a b/c%d\xc3\xa9");
    json_t *va = json_object_get(v, "args"), *da = json_object_get(d, "args");
    assert_true(json_equal(va, da));
    assert_int_equal(json_array_size(va), 7);
    assert_string_equal(json_string_value(json_array_get(json_array_get(va, 0), 1)), "1&2");
    assert_string_equal(json_string_value(json_array_get(json_array_get(va, 1), 1)), "\xc3\xa9");
    assert_string_equal(json_string_value(json_array_get(json_array_get(va, 6), 1)), "again");
    json_decref(d);
    json_decref(v);
    reply_free(&direct.r);
    reply_free(&via.r);
}

static void test_large_request_body(void **state)
{
    (void)state;
    size_t n = 60 * 1024;
    char *body = malloc(n + 1);
    for (size_t i = 0; i < n; i++)
        body[i] = pattern(i);
    body[n] = '\0';
    const char *methods[] = {"POST", "PUT"};
    for (int m = 0; m < 2; m++) {
        struct call c;
        simple(&c, methods[m], "/v1/scheduler/iso8601");
        c.body = body;
        c.len = n;
        perform(&c);
        assert_int_equal(c.r.status, 200);
        json_t *v = body_json(&c.r);
        assert_int_equal(json_integer_value(json_object_get(v, "len")), n);
        assert_string_equal(jstr(v, "body", NULL), body);
        json_decref(v);
        reply_free(&c.r);
    }
    free(body);
}

static void test_headers(void **state)
{
    (void)state;
    const char *hs[] = {"X-Custom: v1",
                        "Authorization: Basic dXNlcjpwYXNz",
                        "Content-Type: application/json",
                        "Accept: text/plain",
                        "Cookie: a=b",
                        "X-Empty;",
                        "Keep-Alive: 300",
                        "TE: trailers",
                        "Upgrade: websocket",
                        "Proxy-Authorization: Basic eA==",
                        "Proxy-Connection: keep-alive",
                        "Connection: keep-alive, X-Hop",
                        "X-Hop: drop-me",
                        NULL};
    struct call c;
    simple(&c, "POST", "/v1/scheduler/iso8601");
    c.headers = hs;
    c.body = "{}";
    c.len = 2;
    perform(&c);
    assert_int_equal(c.r.status, 200);
    json_t *v = body_json(&c.r);
    assert_string_equal(jstr(v, "headers", "x-custom"), "v1");
    assert_string_equal(jstr(v, "headers", "authorization"), "Basic dXNlcjpwYXNz");
    assert_string_equal(jstr(v, "headers", "content-type"), "application/json");
    assert_string_equal(jstr(v, "headers", "accept"), "text/plain");
    assert_string_equal(jstr(v, "headers", "cookie"), "a=b");
    assert_string_equal(jstr(v, "headers", "x-empty"), "");
    assert_string_equal(jstr(v, "headers", "x-chronos-proxied-by"), front_hp);
    assert_string_equal(jstr(v, "headers", "host"), leader_hp);
    const char *dropped[] = {"keep-alive", "te", "upgrade", "proxy-authorization",
                             "proxy-connection", "x-hop", "expect"};
    for (size_t i = 0; i < sizeof dropped / sizeof *dropped; i++)
        if (jstr(v, "headers", dropped[i]) != NULL)
            fail_msg("%s was forwarded", dropped[i]);
    json_decref(v);
    reply_free(&c.r);

    /* No Content-Type or Accept from the client: the proxy's curl adds none. */
    const char *none[] = {"Accept:", "Content-Type:", NULL};
    simple(&c, "PUT", "/v1/scheduler/job/x");
    c.headers = none;
    c.body = "x";
    c.len = 1;
    perform(&c);
    v = body_json(&c.r);
    assert_null(jstr(v, "headers", "accept"));
    assert_null(jstr(v, "headers", "content-type"));
    assert_string_equal(jstr(v, "headers", "content-length"), "1");
    json_decref(v);
    reply_free(&c.r);
}

static void test_status_and_headers_relayed(void **state)
{
    (void)state;
    struct call c;
    simple(&c, "GET", "/status/418?type=text/x-teapot");
    perform(&c);
    assert_int_equal(c.r.status, 418);
    char b[128];
    int n = 0;
    assert_string_equal(header(&c.r, "Content-Type", b, sizeof b, &n), "text/x-teapot");
    assert_int_equal(n, 1);
    assert_string_equal(header(&c.r, "X-Leader", b, sizeof b, NULL), "yes");
    assert_null(header(&c.r, "Keep-Alive", b, sizeof b, NULL));
    assert_null(header(&c.r, "Proxy-Authenticate", b, sizeof b, NULL));
    assert_string_equal(header(&c.r, "Content-Length", b, sizeof b, &n), "17");
    assert_int_equal(n, 1);
    header(&c.r, "Date", b, sizeof b, &n);
    assert_int_equal(n, 1);
    assert_int_equal(c.r.len, 17);
    assert_memory_equal(c.r.body, "{\"from\":\"leader\"}", 17);
    reply_free(&c.r);

    simple(&c, "DELETE", "/status/204");
    perform(&c);
    assert_int_equal(c.r.status, 204);
    assert_int_equal(c.r.len, 0);
    reply_free(&c.r);

    simple(&c, "GET", "/status/503");
    perform(&c);
    assert_int_equal(c.r.status, 503);
    assert_memory_equal(c.r.body, "{\"from\":\"leader\"}", 17);
    reply_free(&c.r);
}

static void check_pattern(const struct reply *r, size_t n)
{
    assert_int_equal(r->len, n);
    for (size_t i = 0; i < n; i++)
        if (r->body[i] != pattern(i))
            fail_msg("byte %zu differs", i);
}

static void test_large_answers(void **state)
{
    (void)state;
    struct call c;
    simple(&c, "GET", "/big/5242880"); /* read whole */
    perform(&c);
    assert_int_equal(c.r.status, 200);
    check_pattern(&c.r, 5242880);
    reply_free(&c.r);

    simple(&c, "GET", "/chunked/3145728"); /* streamed; a slow client makes it pause */
    c.max_recv_bps = 6 * 1024 * 1024;
    perform(&c);
    assert_int_equal(c.r.rc, CURLE_OK);
    assert_int_equal(c.r.status, 200);
    check_pattern(&c.r, 3145728);
    reply_free(&c.r);

    /* Over the proxy's limit: 502, never a partial answer. */
    stop_front();
    struct chr_proxy_config cfg = {.answer_max = 1024 * 1024};
    start_front(&cfg);
    simple(&c, "GET", "/big/2097152");
    perform(&c);
    assert_error(&c.r, 502, "the leader's answer is larger", false);
    reply_free(&c.r);
    simple(&c, "GET", "/big/1048576"); /* at the limit: fine */
    perform(&c);
    check_pattern(&c.r, 1048576);
    reply_free(&c.r);
}

/* A stream reaches the client while the leader is still writing it. */
static void test_stream_relayed_as_it_arrives(void **state)
{
    (void)state;
    struct call c;
    simple(&c, "GET", "/stream-wait");
    perform(&c);
    assert_int_equal(c.r.rc, CURLE_OK);
    assert_int_equal(c.r.status, 200);
    assert_true(c.r.saw_part1);
    assert_int_equal(c.r.len, 12);
    assert_memory_equal(c.r.body, "part1\npart2\n", 12);
    reply_free(&c.r);
}

static int closed_port(void)
{
    int s = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof a;
    bind(s, (struct sockaddr *)&a, sizeof a);
    getsockname(s, (struct sockaddr *)&a, &len);
    close(s);
    return ntohs(a.sin_port);
}

static void test_no_leader(void **state)
{
    (void)state;
    struct call c;
    front_leader = NULL;
    simple(&c, "GET", "/v1/scheduler/jobs");
    perform(&c);
    assert_error(&c.r, 503, "no leader: none is known", true);
    json_t *v = body_json(&c.r);
    assert_string_equal(jstr(v, "status", NULL), "Service Unavailable");
    assert_non_null(strstr(jstr(v, "message", NULL), "(maybe the leadership is changing; retry)"));
    json_decref(v);
    reply_free(&c.r);

    front_leader = front_hp; /* named leader, but this server is a standby */
    simple(&c, "POST", "/v1/scheduler/iso8601");
    c.body = "{}";
    c.len = 2;
    perform(&c);
    assert_error(&c.r, 503, "no leader: this server is named leader", true);
    reply_free(&c.r);

    front_leader = "not a host:port";
    simple(&c, "GET", "/v1/scheduler/jobs");
    perform(&c);
    assert_error(&c.r, 503, "no leader:", true);
    reply_free(&c.r);

    char closed[64];
    snprintf(closed, sizeof closed, "127.0.0.1:%d", closed_port());
    front_leader = closed;
    int64_t t0 = test_mono_ms();
    simple(&c, "GET", "/v1/scheduler/jobs");
    perform(&c);
    assert_error(&c.r, 503, "no leader: cannot connect to the leader at 127.0.0.1:", true);
    assert_true(test_mono_ms() - t0 < 2500);
    reply_free(&c.r);
    front_leader = leader_hp;
}

static void test_loop_guard(void **state)
{
    (void)state;
    int before = leader_count(&requests_seen);
    const char *hs[] = {"X-Chronos-Proxied-By: 10.0.0.9:4400", NULL};
    struct call c;
    simple(&c, "GET", "/v1/scheduler/jobs");
    c.headers = hs;
    perform(&c);
    assert_error(&c.r, 508, "proxy loop: 10.0.0.9:4400 forwarded", true);
    assert_int_equal(leader_count(&requests_seen), before);
    reply_free(&c.r);
}

static void test_timeout(void **state)
{
    (void)state;
    stop_front();
    struct chr_proxy_config cfg = {.timeout_ms = 500};
    start_front(&cfg);
    int64_t t0 = test_mono_ms();
    struct call c;
    simple(&c, "GET", "/hold");
    perform(&c);
    assert_error(&c.r, 504, "the leader at", false);
    int64_t took = test_mono_ms() - t0;
    assert_true(took >= 450 && took < 15000); /* /hold never answers by itself */
    reply_free(&c.r);
}

static void wait_held(int n)
{
    for (int64_t end = test_mono_ms() + 5000; leader_count(&held) < n && test_mono_ms() < end;)
        test_nap_ms(10);
    assert_int_equal(leader_count(&held), n);
}

static void test_too_many_requests(void **state)
{
    (void)state;
    stop_front();
    struct chr_proxy_config cfg = {.max_requests = 2};
    start_front(&cfg);
    struct call held_calls[2];
    pthread_t t[2];
    for (int i = 0; i < 2; i++) {
        simple(&held_calls[i], "GET", "/hold");
        pthread_create(&t[i], NULL, perform_thread, &held_calls[i]);
    }
    wait_held(2);
    struct call c;
    simple(&c, "GET", "/v1/scheduler/jobs");
    perform(&c);
    assert_error(&c.r, 503, "too many requests waiting for the leader", true);
    reply_free(&c.r);
    leader_release();
    for (int i = 0; i < 2; i++) {
        pthread_join(t[i], NULL);
        assert_int_equal(held_calls[i].r.status, 200);
        reply_free(&held_calls[i].r);
    }
    simple(&c, "GET", "/v1/scheduler/jobs"); /* room again */
    perform(&c);
    assert_int_equal(c.r.status, 200);
    reply_free(&c.r);
}

static void test_concurrent(void **state)
{
    (void)state;
    enum { N = 32 };
    struct call calls[N];
    pthread_t t[N];
    char bodies[N][64];
    for (int i = 0; i < N; i++) {
        simple(&calls[i], i % 2 ? "PUT" : "POST", "/v1/scheduler/iso8601");
        snprintf(bodies[i], sizeof bodies[i], "{\"name\":\"job-%d\"}", i);
        calls[i].body = bodies[i];
        calls[i].len = strlen(bodies[i]);
        pthread_create(&t[i], NULL, perform_thread, &calls[i]);
    }
    for (int i = 0; i < N; i++) {
        pthread_join(t[i], NULL);
        assert_int_equal(calls[i].r.status, 200);
        json_t *v = body_json(&calls[i].r);
        assert_string_equal(jstr(v, "body", NULL), bodies[i]);
        assert_string_equal(jstr(v, "method", NULL), calls[i].method);
        json_decref(v);
        reply_free(&calls[i].r);
    }
}

static size_t leave_after_100k(char *b, size_t size, size_t n, void *ud)
{
    (void)b;
    size_t *got = ud;
    *got += size * n;
    return *got > 100000 ? 0 : size * n;
}

/* A client that leaves a stream frees its forward (and its slot) promptly. */
static void test_client_leaves_stream(void **state)
{
    (void)state;
    stop_front();
    struct chr_proxy_config cfg = {.max_requests = 1};
    start_front(&cfg);
    CURL *e = curl_easy_init();
    char url[128];
    snprintf(url, sizeof url, "http://%s/chunked/500000000", front_hp);
    size_t got = 0;
    curl_easy_setopt(e, CURLOPT_URL, url);
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, leave_after_100k);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, &got);
    assert_int_equal(curl_easy_perform(e), CURLE_WRITE_ERROR);
    curl_easy_cleanup(e);
    long status = 0;
    for (int64_t end = test_mono_ms() + 3000; status != 200 && test_mono_ms() < end; test_nap_ms(20)) {
        struct call c;
        simple(&c, "GET", "/v1/scheduler/jobs");
        perform(&c);
        status = c.r.status;
        reply_free(&c.r);
    }
    assert_int_equal(status, 200);
}

/* Stopping with forwards waiting and a stream open ends them all, at once. */
static void test_stop_in_flight(void **state)
{
    (void)state;
    enum { N = 8 };
    struct call calls[N + 1];
    pthread_t t[N + 1];
    for (int i = 0; i < N; i++) {
        simple(&calls[i], "GET", "/hold");
        pthread_create(&t[i], NULL, perform_thread, &calls[i]);
    }
    simple(&calls[N], "GET", "/chunked/500000000"); /* endless for this test */
    calls[N].max_recv_bps = 16 * 1024 * 1024;
    pthread_create(&t[N], NULL, perform_thread, &calls[N]);
    wait_held(N);
    test_nap_ms(300); /* the stream is under way */
    chr_proxy_stop(proxy); /* answers them all, before the daemon stops */
    for (int i = 0; i <= N; i++)
        pthread_join(t[i], NULL);
    stop_front();
    /* Had stop waited, the held forwards would have ended by the forward
     * timeout (30 s, a 504) and the stream by the client's own (60 s):
     * what each got says so, whatever the machine's load (no clock bound). */
    for (int i = 0; i <= N; i++)
        assert_int_not_equal(calls[i].r.rc, CURLE_OPERATION_TIMEDOUT);
    for (int i = 0; i < N; i++) {
        assert_error(&calls[i].r, 503, "the server is stopping", true);
        reply_free(&calls[i].r);
    }
    assert_int_equal(calls[N].r.status, 200);
    assert_int_not_equal(calls[N].r.rc, CURLE_OK); /* cut, not ended cleanly */
    assert_true(calls[N].r.len > 0);
    reply_free(&calls[N].r);
}

static int group_setup(void **state)
{
    (void)state;
    curl_global_init(CURL_GLOBAL_DEFAULT);
    leader = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_THREAD_PER_CONNECTION |
                                  MHD_USE_ERROR_LOG,
                              0, NULL, NULL, leader_handler, NULL, MHD_OPTION_NOTIFY_COMPLETED,
                              leader_completed, NULL, MHD_OPTION_END);
    if (leader == NULL)
        return -1;
    leader_port = MHD_get_daemon_info(leader, MHD_DAEMON_INFO_BIND_PORT)->port;
    snprintf(leader_hp, sizeof leader_hp, "127.0.0.1:%u", (unsigned)leader_port);
    return 0;
}

static int group_teardown(void **state)
{
    (void)state;
    pthread_mutex_lock(&lmu);
    lstopping = true;
    pthread_cond_broadcast(&lcond);
    pthread_mutex_unlock(&lmu);
    MHD_stop_daemon(leader);
    curl_global_cleanup();
    return 0;
}

int main(void)
{
#define WITH(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_config_refused),
        WITH(test_every_method),
        WITH(test_path_and_query),
        WITH(test_large_request_body),
        WITH(test_headers),
        WITH(test_status_and_headers_relayed),
        WITH(test_large_answers),
        WITH(test_stream_relayed_as_it_arrives),
        WITH(test_no_leader),
        WITH(test_loop_guard),
        WITH(test_timeout),
        WITH(test_too_many_requests),
        WITH(test_concurrent),
        WITH(test_client_leaves_stream),
        WITH(test_stop_in_flight),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
