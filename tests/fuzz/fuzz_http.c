/*
 * fuzz_http.c - libFuzzer target for the API's request path.
 *
 * Each input is one raw HTTP request, sent over loopback to the real
 * transport (api/http.c on libmicrohttpd: the request line, Host,
 * Origin, Content-Type and Basic auth checks, percent-decoding, query
 * parsing) and the real routes (api/routes.c: route parsing, job JSON),
 * in front of a fake scheduler loop that records every mutation it is
 * handed and answers it at once.  The first input byte picks the server: one
 * open, one with Basic auth ("u:p") and a CORS origin.
 *
 * The invariant is that a refusal changes nothing: an answer >= 400, or
 * none at all, hands the loop nothing.  And a mutation that does reach the
 * loop must deserve it, judged from the raw bytes by an oracle that shares
 * no code with the server: its request line holds no control or NUL byte;
 * its job name is the whole rest of the decoded path (nothing cut short);
 * its Host names this server; its Origin is the server's own page or the
 * CORS origin; a body comes as application/json; with auth on, its
 * Authorization header decodes to exactly the credentials.  A 5xx other
 * than 503 is a bug too.
 */
#define _GNU_SOURCE /* memmem */
#include <arpa/inet.h>
#include <errno.h>
#include <ctype.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "common/alloc.h"
#include "fuzz_check.h"
#include "api/http.h"
#include "api/metrics.h"
#include "api/view.h"

#define INPUT_MAX (72 * 1024)
#define ANSWER_MAX (1024 * 1024)
#define CREDS "u:p"
#define CORS_ORIGIN "http://ok.example"
#define HOSTNAME "chronos.fuzz"

/* ---- The fake loop -------------------------------------------------------------- */

struct fake_loop {
    struct chr_sched sched; /* first: the API's handle */
    struct chr_view *view;
    struct chr_metrics *metrics;
    struct chr_tzdb *tzdb;
    pthread_mutex_t mu;
    int events;                      /* mutations handed over since the last reset */
    char name[CHR_JOB_NAME_MAX + 8]; /* the last one's job name ("" for PUT_JOB) */
};

struct answer {
    chr_sched_done_fn *done;
    void *ctx;
};

static void *answer_main(void *arg)
{
    struct answer a = *(struct answer *)arg;
    chr_free(arg);
    a.done(a.ctx, CHR_OK, NULL); /* durable at once */
    return NULL;
}

static enum chr_err fake_request(struct chr_sched *s, struct chr_event *ev,
                                 chr_sched_done_fn *done, void *ctx)
{
    struct fake_loop *l = (struct fake_loop *)s;
    pthread_mutex_lock(&l->mu);
    l->events++;
    if (ev->type == CHR_EV_PUT_JOB) { /* its name comes from the body, not the path */
        l->name[0] = '\0';
        chr_job_free(&ev->u.job.job);
    } else {
        snprintf(l->name, sizeof l->name, "%s", ev->u.named.name ? ev->u.named.name : "");
    }
    pthread_mutex_unlock(&l->mu);
    /* Answered from another thread, as the scheduler thread does. */
    struct answer *a = chr_malloc(sizeof *a);
    pthread_t t;
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    FUZZ_CHECK(a != NULL, "out of memory");
    *a = (struct answer){done, ctx};
    FUZZ_CHECK(pthread_create(&t, &attr, answer_main, a) == 0, "thread");
    pthread_attr_destroy(&attr);
    return CHR_OK;
}

static struct chr_view *fake_view(struct chr_sched *s)
{
    return ((struct fake_loop *)s)->view;
}

static struct chr_metrics *fake_metrics(struct chr_sched *s)
{
    return ((struct fake_loop *)s)->metrics;
}

static struct chr_tzdb *fake_tzdb(struct chr_sched *s)
{
    return ((struct fake_loop *)s)->tzdb;
}

/* The fake store never fails. */
static bool fake_healthy(struct chr_sched *s, char *why, size_t cap)
{
    (void)s;
    if (cap > 0)
        why[0] = '\0';
    return true;
}

static const struct chr_sched_ops fake_ops = {fake_request, fake_view, fake_metrics, fake_tzdb,
                                              fake_healthy, NULL, NULL};

/* No run keeps output here. */
static int no_output(void *ctx, const char *job, const char *run_id, const char *stream,
                     bool *ended)
{
    (void)ctx, (void)job, (void)run_id, (void)stream;
    *ended = true;
    errno = ENOENT;
    return -1;
}

static bool output_ended(void *ctx, const char *job, const char *run_id)
{
    (void)ctx, (void)job, (void)run_id;
    return true;
}

/* ---- The servers ------------------------------------------------------------------- */

struct target {
    struct fake_loop loop;
    struct chr_http *http;
    uint16_t port;
    bool auth;
};

static struct target targets[2];

static void start(struct target *t, bool auth)
{
    memset(t, 0, sizeof *t);
    t->loop.sched.ops = &fake_ops;
    pthread_mutex_init(&t->loop.mu, NULL);
    FUZZ_CHECK(chr_view_create(&t->loop.view) == CHR_OK, "view");
    FUZZ_CHECK(chr_metrics_create(&t->loop.metrics) == CHR_OK, "metrics");
    FUZZ_CHECK(chr_tzdb_create(NULL, &t->loop.tzdb) == CHR_OK, "tzdb");
    struct chr_http_config cfg = {.bind_addr = "127.0.0.1", .sched = &t->loop.sched, .threads = 2,
                                  .output = {no_output, output_ended, NULL}, .leader = "127.0.0.1:1",
                                  .hostname = HOSTNAME, .version = "fuzz",
                                  .credentials = auth ? CREDS : NULL,
                                  .cors_origins = auth ? CORS_ORIGIN : NULL};
    chr_job_defaults_init(&cfg.defaults);
    struct chr_error err;
    FUZZ_CHECK(chr_http_start(&cfg, &t->http, &err) == CHR_OK, "%s", err.message);
    t->port = chr_http_port(t->http);
    t->auth = auth;
}

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    start(&targets[0], false);
    start(&targets[1], true);
    return 0;
}

/* ---- The exchange ------------------------------------------------------------------ */

/* True once ans holds a whole final answer: its head, then Content-Length
 * bytes (none for HEAD, 1xx, 204, 304). */
static bool answer_whole(const char *ans, size_t len, bool head_request)
{
    for (const char *p = ans;;) {
        const char *end = memmem(p, len - (size_t)(p - ans), "\r\n\r\n", 4);
        if (end == NULL)
            return false;
        int code = 0;
        sscanf(p, "HTTP/1.%*d %d", &code);
        if (code >= 100 && code < 200) {
            p = end + 4;
            continue;
        }
        const char *cl = NULL;
        for (const char *q = p; q != NULL && q < end && cl == NULL;) {
            if (strncasecmp(q, "Content-Length:", 15) == 0)
                cl = q + 15;
            q = memchr(q, '\n', (size_t)(end - q));
            q = q ? q + 1 : NULL;
        }
        unsigned long body = 0;
        if (cl != NULL && !head_request && code != 204 && code != 304)
            body = strtoul(cl, NULL, 10);
        return cl == NULL || (size_t)(end + 4 - ans) + body <= len;
    }
}

/* Sends `req` (n bytes) and reads one whole answer into ans, or what came
 * within 3 s (perhaps nothing). */
static size_t exchange(uint16_t port, const char *req, size_t n, char *ans, size_t cap)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    struct timeval tv = {3, 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    FUZZ_CHECK(fd >= 0 && connect(fd, (struct sockaddr *)&a, sizeof a) == 0, "connect");
    for (size_t at = 0; at < n;) {
        ssize_t w = send(fd, req + at, n - at, MSG_NOSIGNAL);
        if (w <= 0)
            break; /* the server answered and closed early: fine */
        at += (size_t)w;
    }
    bool head = strncmp(req, "HEAD ", 5) == 0;
    size_t len = 0;
    ans[0] = '\0';
    while (!answer_whole(ans, len, head)) {
        ssize_t r = recv(fd, ans + len, cap - 1 - len, 0);
        if (r <= 0 || (len += (size_t)r) == cap - 1)
            break; /* closed, or nothing within the timeout */
        ans[len] = '\0';
    }
    close(fd);
    ans[len] = '\0';
    return len;
}

/* The status of the final answer (1xx skipped); 0 when there is none. */
static int status_of(const char *ans, size_t len)
{
    for (const char *p = ans; p != NULL && p < ans + len;) {
        int code = 0;
        if (sscanf(p, "HTTP/1.%*d %d", &code) == 1 && code >= 200)
            return code;
        p = strstr(p, "\r\n\r\n");
        p = p ? p + 4 : NULL;
    }
    return 0;
}

/* ---- The oracle: what the raw bytes say, with no code of the server's ------------------ */

struct raw {
    char method[64], target[INPUT_MAX];
    bool line_clean; /* no byte < 0x20 or 0x7f in the request line */
    const char *host, *origin, *type, *auth, *length, *chunked;
    char values[INPUT_MAX]; /* the headers' values, each NUL-terminated */
    size_t used;
};

/* Header `name`'s first value among the "Name: value" lines of block (n
 * bytes, NULs and all), trimmed and cut at a NUL as a C string reader sees
 * it; NULL when absent.  A header folded onto the next line (obs-fold, a
 * line starting with a space) is not that header: libmicrohttpd 0.9.75
 * appends the continuation to its name, and no browser folds. */
static const char *header(struct raw *r, const char *block, size_t n, const char *name)
{
    size_t k = strlen(name);
    for (size_t at = 0; at < n;) {
        const char *nl = memchr(block + at, '\n', n - at);
        size_t end = nl ? (size_t)(nl - block) : n, next = end + 1;
        if (end > at && block[end - 1] == '\r')
            end--;
        bool folded = next < n && (block[next] == ' ' || block[next] == '\t');
        if (!folded && end - at > k && strncasecmp(block + at, name, k) == 0 &&
            block[at + k] == ':') {
            size_t v = at + k + 1;
            while (v < end && (block[v] == ' ' || block[v] == '\t'))
                v++;
            const char *z = memchr(block + v, '\0', end - v);
            size_t e = z ? (size_t)(z - block) : end;
            while (e > v && (block[e - 1] == ' ' || block[e - 1] == '\t'))
                e--;
            char *out = r->values + r->used;
            memcpy(out, block + v, e - v);
            out[e - v] = '\0';
            r->used += e - v + 1;
            return out;
        }
        at = next;
    }
    return NULL;
}

static void parse_raw(const char *in, size_t n, struct raw *r)
{
    memset(r, 0, sizeof *r);
    size_t line = 0;
    while (line < n && in[line] != '\n')
        line++;
    size_t end = line > 0 && in[line - 1] == '\r' ? line - 1 : line;
    r->line_clean = true;
    for (size_t i = 0; i < end; i++)
        r->line_clean &= (unsigned char)in[i] >= 0x20 && in[i] != 0x7f;
    const char *sp = memchr(in, ' ', end), *last = sp;
    for (const char *p = sp; p != NULL && p < in + end;
         p = memchr(p + 1, ' ', (size_t)(in + end - p - 1)))
        last = p;
    if (sp != NULL && (size_t)(sp - in) < sizeof r->method)
        memcpy(r->method, in, (size_t)(sp - in));
    if (sp != NULL && last > sp)
        memcpy(r->target, sp + 1, (size_t)(last - sp - 1));
    size_t hb = line + 1 < n ? line + 1 : n, he = n;
    const char *blank = memmem(in + hb, n - hb, "\r\n\r\n", 4);
    const char *bare = memmem(in + hb, n - hb, "\n\n", 2);
    if (bare != NULL && (blank == NULL || bare < blank))
        blank = bare;
    if (blank != NULL)
        he = (size_t)(blank - in) + 1;
    const char *block = in + hb;
    size_t bn = he - hb;
    r->host = header(r, block, bn, "Host");
    r->origin = header(r, block, bn, "Origin");
    r->type = header(r, block, bn, "Content-Type");
    r->auth = header(r, block, bn, "Authorization");
    r->length = header(r, block, bn, "Content-Length");
    r->chunked = header(r, block, bn, "Transfer-Encoding");
}

static int hexv(char c)
{
    return isdigit((unsigned char)c) ? c - '0'
           : isxdigit((unsigned char)c) ? tolower((unsigned char)c) - 'a' + 10
                                        : -1;
}

/* Does the decoded path (up to '?') end with "/" + name? */
static bool path_ends_with(const char *target, const char *name)
{
    char dec[INPUT_MAX];
    size_t k = 0;
    for (size_t i = 0; target[i] != '\0' && target[i] != '?'; i++) {
        int hi = target[i] == '%' ? hexv(target[i + 1]) : -1;
        int lo = hi >= 0 ? hexv(target[i + 2]) : -1;
        if (lo >= 0 && (hi | lo) != 0) {
            dec[k++] = (char)(hi * 16 + lo);
            i += 2;
        } else {
            dec[k++] = target[i];
        }
    }
    dec[k] = '\0';
    size_t nl = strlen(name);
    return k > nl && dec[k - nl - 1] == '/' && strcmp(dec + k - nl, name) == 0;
}

static bool host_ours(const char *host)
{
    if (host == NULL)
        return true;
    char h[256];
    snprintf(h, sizeof h, "%s", host);
    char *colon = h[0] == '[' ? strstr(h, "]:") : strrchr(h, ':');
    if (colon != NULL)
        colon[h[0] == '[' ? 1 : 0] = '\0';
    for (char *p = h; *p; p++)
        *p = (char)tolower((unsigned char)*p);
    size_t n = strlen(h);
    if (n > 1 && h[n - 1] == '.')
        h[n - 1] = '\0';
    return strcmp(h, "localhost") == 0 || strcmp(h, HOSTNAME) == 0 || strncmp(h, "127.", 4) == 0 ||
           strcmp(h, "[::1]") == 0 || strncmp(h, "[::ffff:127.", 12) == 0;
}

/* Lenient base64: what any decoder would make of the text (NULL if not base64). */
static bool b64_is(const char *s, const char *want)
{
    static const char al[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    char out[256];
    size_t k = 0;
    unsigned acc = 0, bits = 0;
    for (; *s && *s != '='; s++) {
        const char *p = strchr(al, *s);
        if (p == NULL || *s == '\0')
            return false;
        acc = (acc << 6) | (unsigned)(p - al);
        bits += 6;
        if (bits >= 8 && k < sizeof out - 1) {
            bits -= 8;
            out[k++] = (char)(acc >> bits);
        }
    }
    out[k] = '\0';
    return k == strlen(want) && memcmp(out, want, k) == 0;
}

/* ---- One input ------------------------------------------------------------------------ */

static void judge(const struct target *t, struct raw *r, const char *name)
{
    FUZZ_CHECK(r->line_clean, "a request line with a control or NUL byte reached the loop");
    FUZZ_CHECK(name[0] == '\0' || path_ends_with(r->target, name),
               "job '%s' is not the whole rest of the path '%.200s'", name, r->target);
    FUZZ_CHECK(host_ours(r->host), "Host '%s' reached the loop", r->host);
    bool same = r->origin && r->host && strncasecmp(r->origin, "http://", 7) == 0 &&
                strcasecmp(r->origin + 7, r->host) == 0;
    FUZZ_CHECK(r->origin == NULL || same || (t->auth && strcasecmp(r->origin, CORS_ORIGIN) == 0),
               "Origin '%s' reached the loop", r->origin);
    bool body = r->chunked != NULL || (r->length != NULL && strspn(r->length, "0 ") != strlen(r->length));
    FUZZ_CHECK(!body || (r->type && strncasecmp(r->type, "application/json", 16) == 0),
               "a body of type '%s' reached the loop", r->type ? r->type : "(none)");
    if (t->auth) {
        const char *v = r->auth;
        FUZZ_CHECK(v && strncasecmp(v, "Basic ", 6) == 0, "no Basic auth, yet through");
        for (v += 6; *v == ' '; v++)
            ;
        FUZZ_CHECK(b64_is(v, CREDS), "credentials '%s' are not " CREDS, r->auth);
    }
}

/*
 * libmicrohttpd 0.9.75 often keeps a connection whose client half-closed
 * before the end of the head, or of a Content-Length body, until its 30 s
 * connection timeout: such an input is completed (the head ended, the body
 * padded with spaces to its length) so that every input gets its answer at
 * once.  Returns the new length.
 */
static size_t complete(char *req, size_t len, size_t cap)
{
    const char *end = memmem(req, len, "\r\n\r\n", 4);
    const char *bare = memmem(req, len, "\n\n", 2);
    size_t head = end && (!bare || end < bare) ? (size_t)(end - req) + 4
                  : bare                        ? (size_t)(bare - req) + 2
                                                : 0;
    if (head == 0 && len + 4 <= cap) {
        memcpy(req + len, "\r\n\r\n", 4);
        return len + 4;
    }
    for (size_t i = 0; i + 16 < head; i++) {
        if ((i == 0 || req[i - 1] == '\n') && strncasecmp(req + i, "Content-Length:", 15) == 0) {
            unsigned long want = strtoul(req + i + 15, NULL, 10);
            if (want < cap - head && head + want > len) {
                memset(req + len, ' ', head + want - len);
                len = head + want;
            }
            break;
        }
    }
    return len;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static char req[2 * INPUT_MAX + 64], ans[ANSWER_MAX];
    static struct raw r;
    if (size < 2 || size > INPUT_MAX)
        return 0;
    struct target *t = &targets[data[0] & 1];
    const char *in = (const char *)data + 1;
    size_t n = size - 1;
    /* One request per input: the first answer is the one judged, and
     * "Connection: close" right after the request line ends most of them. */
    const char *nl = memchr(in, '\n', n);
    size_t head = nl ? (size_t)(nl - in) + 1 : n, len = 0;
    memcpy(req, in, head);
    len = head;
    if (nl == NULL) { /* a request line alone */
        memcpy(req + len, "\r\n", 2);
        len += 2;
    }
    memcpy(req + len, "Connection: close\r\n", 19);
    len += 19;
    memcpy(req + len, in + head, n - head);
    len += n - head;
    len = complete(req, len, sizeof req);
    pthread_mutex_lock(&t->loop.mu);
    t->loop.events = 0;
    t->loop.name[0] = '\0';
    pthread_mutex_unlock(&t->loop.mu);
    size_t alen = exchange(t->port, req, len, ans, sizeof ans);
    int st = status_of(ans, alen);
    pthread_mutex_lock(&t->loop.mu);
    int events = t->loop.events;
    char name[sizeof t->loop.name];
    memcpy(name, t->loop.name, sizeof name);
    pthread_mutex_unlock(&t->loop.mu);
    /* MHD's own 5xx (505 for HTTP/2.0) are HTML; ours are {"message","status"}. */
    FUZZ_CHECK(st < 500 || st == 503 || strstr(ans, "\"status\":") == NULL, "answer %d: %.300s",
               st, ans);
    FUZZ_CHECK(events == 0 || st == 0 || (st >= 200 && st < 300),
               "a refusal (%d) changed something: %d mutation(s) handed to the loop", st, events);
    if (events > 0) {
        parse_raw(in, n, &r);
        judge(t, &r, name);
    }
    return 0;
}
