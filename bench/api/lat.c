/*
 * lat.c - the latency client of bench/api/run.sh: HTTP/1.1 over plain
 * sockets to 127.0.0.1, keep-alive, one connection per thread, requests
 * back to back (never pipelined); each request timed with CLOCK_MONOTONIC
 * from just before its write to the last byte of its body.  Bodies are read
 * by Content-Length or chunked encoding and discarded (their size counted).
 *
 *   lat [-n N] [-c CONNS] [-w WARMUP] [-d DISTINCT] [-s START] PORT METHOD PATH [BODY]
 *
 * PATH and BODY may hold placeholders, expanded per request from its index
 * k = START + (i mod DISTINCT), i = 0..N-1: {i} -> k, {2i} -> 2k,
 * {2i+1} -> 2k+1, each as %06d.  WARMUP requests (GET only) are sent first
 * and not counted.  Prints one line of key=value figures:
 *   status=<first non-2xx status, else the last> n= ok= errors= p50_us=
 *   p90_us= p99_us= max_us= mean_us= bytes=<body bytes of the last answer>
 *   elapsed_s= rps=
 * and stops at the first answer that is not 2xx when the very first one is
 * not (status=404 n=1 ...), so an endpoint that does not exist yet costs
 * nothing.  Exit 0 when it ran, 2 on usage, 1 when it cannot connect.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define RBUF (256 * 1024)

static int g_port;
static const char *g_method, *g_path, *g_body;
static long g_n = 100, g_conns = 1, g_warm = 0, g_distinct = 0, g_start = 0;
static long g_next;               /* next request index, shared by threads */
static uint64_t *g_lat;           /* ns per request, by index; 0 = failed */
static int g_first_bad;           /* first non-2xx status seen */
static int g_last_status;
static long g_last_bytes;
static long g_errors;
static long g_sent;               /* requests actually made */
static volatile int g_stop;
static pthread_mutex_t g_mu = PTHREAD_MUTEX_INITIALIZER;

/* A whole decimal number in [lo, hi] at the start of s (up to end, or the
 * whole string when whole), or -1 when it is not one. */
static long number(const char *s, long lo, long hi, int whole)
{
    char *end = NULL;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (end == s || errno != 0 || v < lo || v > hi || (whole && *end != '\0'))
        return -1;
    return v;
}

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

struct conn {
    int fd;
    char *buf;
    size_t off, len;
};

static int conn_open(struct conn *c)
{
    struct sockaddr_in sa = {0};
    sa.sin_family = AF_INET;
    sa.sin_port = htons((uint16_t)g_port);
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    c->fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (c->fd < 0)
        return -1;
    int one = 1;
    setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (connect(c->fd, (struct sockaddr *)&sa, sizeof sa) < 0) {
        close(c->fd);
        c->fd = -1;
        return -1;
    }
    c->off = c->len = 0;
    return 0;
}

static void conn_close(struct conn *c)
{
    if (c->fd >= 0)
        close(c->fd);
    c->fd = -1;
    c->off = c->len = 0;
}

/* Makes at least one more byte available; 0 on success, -1 on EOF/error. */
static int fill(struct conn *c)
{
    if (c->off > 0 && c->off == c->len)
        c->off = c->len = 0;
    if (c->len == RBUF) { /* shift the unread part down */
        if (c->off == 0)
            return -1; /* a header line longer than the buffer */
        memmove(c->buf, c->buf + c->off, c->len - c->off);
        c->len -= c->off;
        c->off = 0;
    }
    for (;;) {
        ssize_t r = read(c->fd, c->buf + c->len, RBUF - c->len);
        if (r > 0) {
            c->len += (size_t)r;
            return 0;
        }
        if (r < 0 && errno == EINTR)
            continue;
        return -1;
    }
}

/* One line without its CRLF into out (truncated to cap-1). */
static int read_line(struct conn *c, char *out, size_t cap)
{
    for (;;) {
        char *nl = memchr(c->buf + c->off, '\n', c->len - c->off);
        if (nl) {
            size_t n = (size_t)(nl - (c->buf + c->off));
            size_t m = n > 0 && nl[-1] == '\r' ? n - 1 : n;
            if (m >= cap)
                m = cap - 1;
            memcpy(out, c->buf + c->off, m);
            out[m] = 0;
            c->off += n + 1;
            return 0;
        }
        if (fill(c) < 0)
            return -1;
    }
}

static int skip(struct conn *c, long n)
{
    while (n > 0) {
        if (c->off == c->len && fill(c) < 0)
            return -1;
        size_t a = c->len - c->off;
        size_t k = (size_t)n < a ? (size_t)n : a;
        c->off += k;
        n -= (long)k;
    }
    return 0;
}

/* Reads one answer; its status and body size.  *close_after when the server
 * will close.  -1 on a broken connection. */
static int read_answer(struct conn *c, int head, int *status, long *bytes, int *close_after)
{
    char line[8192];
    long clen = -1;
    int chunked = 0;
    *close_after = 0;
    *bytes = 0;
    do { /* skip 1xx answers */
        if (read_line(c, line, sizeof line) < 0)
            return -1;
        if (strncmp(line, "HTTP/1.", 7) != 0 || strlen(line) < 12)
            return -1;
        *status = (int)number(line + 9, 100, 599, 0);
        for (;;) {
            if (read_line(c, line, sizeof line) < 0)
                return -1;
            if (!line[0])
                break;
            if (!strncasecmp(line, "Content-Length:", 15))
                clen = number(line + 15 + strspn(line + 15, " \t"), 0, LONG_MAX, 0);
            else if (!strncasecmp(line, "Transfer-Encoding:", 18) && strcasestr(line + 18, "chunked"))
                chunked = 1;
            else if (!strncasecmp(line, "Connection:", 11) && strcasestr(line + 11, "close"))
                *close_after = 1;
        }
    } while (*status >= 100 && *status < 200);
    if (head || *status == 204 || *status == 304)
        return 0;
    if (chunked) {
        for (;;) {
            if (read_line(c, line, sizeof line) < 0)
                return -1;
            long sz = strtol(line, NULL, 16);
            if (sz == 0) { /* trailers, then an empty line */
                do {
                    if (read_line(c, line, sizeof line) < 0)
                        return -1;
                } while (line[0]);
                return 0;
            }
            if (skip(c, sz) < 0 || read_line(c, line, sizeof line) < 0)
                return -1;
            *bytes += sz;
        }
    }
    if (clen >= 0) {
        *bytes = clen;
        return skip(c, clen);
    }
    /* Neither: the body runs to the end of the connection. */
    *close_after = 1;
    for (;;) {
        *bytes += (long)(c->len - c->off);
        c->off = c->len;
        if (fill(c) < 0)
            return 0;
    }
}

/* Copies tmpl into out with the placeholders expanded for index k. */
static void expand(const char *tmpl, long k, char *out, size_t cap)
{
    size_t o = 0;
    while (*tmpl && o + 16 < cap) {
        long v = -1;
        size_t skiplen = 0;
        if (!strncmp(tmpl, "{i}", 3)) {
            v = k;
            skiplen = 3;
        } else if (!strncmp(tmpl, "{2i}", 4)) {
            v = 2 * k;
            skiplen = 4;
        } else if (!strncmp(tmpl, "{2i+1}", 6)) {
            v = 2 * k + 1;
            skiplen = 6;
        }
        if (skiplen) {
            o += (size_t)snprintf(out + o, cap - o, "%06ld", v);
            tmpl += skiplen;
        } else {
            out[o++] = *tmpl++;
        }
    }
    out[o] = 0;
}

static size_t build(long i, char *req, size_t cap)
{
    char path[4096], body[65536];
    long k = g_start + (g_distinct > 0 ? i % g_distinct : i);
    expand(g_path, k, path, sizeof path);
    if (g_body) {
        expand(g_body, k, body, sizeof body);
        return (size_t)snprintf(req, cap,
                                "%s %s HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n"
                                "Content-Type: application/json\r\nContent-Length: %zu\r\n\r\n%s",
                                g_method, path, g_port, strlen(body), body);
    }
    return (size_t)snprintf(req, cap, "%s %s HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n\r\n", g_method,
                            path, g_port);
}

static int write_all(int fd, const char *p, size_t n)
{
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return -1;
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

/* One request on c (reconnecting when needed); its latency in ns, 0 when it
 * failed. */
static uint64_t one(struct conn *c, long i, int *status, long *bytes)
{
    static __thread char req[80 * 1024];
    size_t n = build(i, req, sizeof req);
    int head = !strcmp(g_method, "HEAD");
    for (int attempt = 0; attempt < 2; attempt++) {
        if (c->fd < 0 && conn_open(c) < 0)
            return 0;
        int close_after;
        uint64_t t0 = now_ns();
        if (write_all(c->fd, req, n) == 0 && read_answer(c, head, status, bytes, &close_after) == 0) {
            uint64_t dt = now_ns() - t0;
            if (close_after)
                conn_close(c);
            return dt ? dt : 1;
        }
        conn_close(c); /* the server closed an idle keep-alive: once more */
    }
    return 0;
}

static void *worker(void *arg)
{
    (void)arg;
    struct conn c = {.fd = -1, .buf = malloc(RBUF)};
    if (!c.buf)
        return NULL;
    for (;;) {
        long i = __atomic_fetch_add(&g_next, 1, __ATOMIC_RELAXED);
        if (i >= g_n || g_stop)
            break;
        int status = 0;
        long bytes = 0;
        uint64_t dt = one(&c, i, &status, &bytes);
        g_lat[i] = dt;
        pthread_mutex_lock(&g_mu);
        g_sent++;
        if (!dt) {
            g_errors++;
        } else {
            g_last_status = status;
            g_last_bytes = bytes;
            if ((status < 200 || status > 299)) {
                if (!g_first_bad)
                    g_first_bad = status;
                g_errors++;
                if (i == 0)
                    g_stop = 1; /* the endpoint does not answer 2xx: stop */
            }
        }
        pthread_mutex_unlock(&g_mu);
    }
    conn_close(&c);
    free(c.buf);
    return NULL;
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

/* Nearest rank. */
static double pct(const uint64_t *v, long n, double p)
{
    if (n <= 0)
        return 0;
    long k = (long)((p / 100.0) * (double)n + 0.999999);
    if (k < 1)
        k = 1;
    if (k > n)
        k = n;
    return (double)v[k - 1] / 1000.0;
}

static int usage(void)
{
    fprintf(stderr, "usage: lat [-n N] [-c CONNS] [-w WARMUP] [-d DISTINCT] [-s START] PORT METHOD "
                    "PATH [BODY]\n");
    return 2;
}

int main(int argc, char **argv)
{
    int opt;
    while ((opt = getopt(argc, argv, "n:c:w:d:s:")) != -1) {
        switch (opt) {
        case 'n': g_n = number(optarg, 0, LONG_MAX, 1); break;
        case 'c': g_conns = number(optarg, 0, LONG_MAX, 1); break;
        case 'w': g_warm = number(optarg, 0, LONG_MAX, 1); break;
        case 'd': g_distinct = number(optarg, 0, LONG_MAX, 1); break;
        case 's': g_start = number(optarg, 0, LONG_MAX, 1); break;
        default: return usage();
        }
    }
    if (argc - optind < 3 || argc - optind > 4 || g_n < 1 || g_conns < 1 || g_conns > 1024 ||
        g_warm < 0 || g_distinct < 0 || g_start < 0)
        return usage();
    g_port = (int)number(argv[optind], 1, 65535, 1);
    if (g_port < 0)
        return usage();
    g_method = argv[optind + 1];
    g_path = argv[optind + 2];
    g_body = argc - optind == 4 ? argv[optind + 3] : NULL;

    if (g_warm > 0 && !strcmp(g_method, "GET")) {
        struct conn c = {.fd = -1, .buf = malloc(RBUF)};
        for (long i = 0; i < g_warm && c.buf; i++) {
            int st;
            long b;
            if (!one(&c, i, &st, &b))
                break;
        }
        conn_close(&c);
        free(c.buf);
    }

    g_lat = calloc((size_t)g_n, sizeof *g_lat);
    pthread_t *th = calloc((size_t)g_conns, sizeof *th);
    if (!g_lat || !th)
        return 1;
    uint64_t t0 = now_ns();
    for (long t = 0; t < g_conns; t++)
        pthread_create(&th[t], NULL, worker, NULL);
    for (long t = 0; t < g_conns; t++)
        pthread_join(th[t], NULL);
    double elapsed = (double)(now_ns() - t0) / 1e9;

    long sent = g_sent, ok = 0;
    double sum = 0;
    uint64_t *v = malloc((size_t)g_n * sizeof *v);
    for (long i = 0; i < g_n; i++)
        if (g_lat[i]) {
            v[ok++] = g_lat[i];
            sum += (double)g_lat[i];
        }
    if (sent > 0 && ok == 0 && g_last_status == 0) {
        fprintf(stderr, "lat: no answer from 127.0.0.1:%d\n", g_port);
        return 1;
    }
    qsort(v, (size_t)ok, sizeof *v, cmp_u64);
    printf("status=%d n=%ld ok=%ld errors=%ld p50_us=%.0f p90_us=%.0f p99_us=%.0f max_us=%.0f "
           "mean_us=%.0f bytes=%ld elapsed_s=%.3f rps=%.0f\n",
           g_first_bad ? g_first_bad : g_last_status, sent, sent - g_errors, g_errors,
           pct(v, ok, 50), pct(v, ok, 90), pct(v, ok, 99), ok ? (double)v[ok - 1] / 1000.0 : 0.0,
           ok ? sum / (double)ok / 1000.0 : 0.0, g_last_bytes, elapsed,
           elapsed > 0 ? (double)sent / elapsed : 0.0);
    free(v);
    free(th);
    free(g_lat);
    return 0;
}
