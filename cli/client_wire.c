/*
 * client_wire.c - the client's HTTP/1.1 for http:// URLs, over a socket of
 * its own (client.h, "Transports"): one request per connection
 * ("Connection: close"), the answer read with Content-Length, chunked or to
 * the end, each piece handed to the exchange's sink as it comes.
 *
 * Why not libcurl: loading it (and the 25 libraries it pulls in: TLS, LDAP,
 * Kerberos, SSH, IDN...) cost every `chronos` command three times the CPU
 * of the command itself.  libcurl is still what speaks https:// and
 * proxies (client_curl.c, loaded only then).
 *
 * Bounds: the connect within CHR_CLIENT_CONNECT_TIMEOUT_MS, the whole
 * exchange within CHR_CLIENT_TIMEOUT_MS unless following; the answer's head
 * within WIRE_HEAD_MAX, a chunk-size line within 1 KiB; the body is bounded
 * by the sink.  Failures: exit 3 when no whole answer came (refused,
 * timeout, closed early), 4 when what came is not HTTP.
 */
#define _GNU_SOURCE /* memmem */
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include "cli/client.h"
#include "common/alloc.h"
#include "common/base64.h"
#include "common/clock.h"
#include "common/hostport.h"
#include "common/sb.h"

/* Largest head of an answer (status line and headers) we read. */
#define WIRE_HEAD_MAX (64 * 1024)
/* Largest chunk-size line (a hex size and extensions). */
#define WIRE_LINE_MAX 1024
/* ~/.netrc is read up to this size; past it, the rest is not looked at. */
#define NETRC_MAX (256 * 1024)

/* The parts of an http:// URL the request needs. */
struct target {
    char host[256]; /* as in the URL: a name, an IPv4 address or [IPv6] */
    char port[8];
    const char *base; /* the URL's path (no trailing '/'), maybe "" */
};

/* One connection's state. */
struct wire {
    int fd;
    int64_t deadline_ms; /* INT64_MAX: none (following a stream) */
    char buf[WIRE_HEAD_MAX];
    size_t at, len; /* unread bytes: buf[at, len) */
    const char *why; /* what went wrong, for the message */
    int status;      /* the exit status of the failure */
};

static int fail_wire(struct wire *w, int status, const char *why)
{
    w->why = why;
    w->status = status;
    return -1;
}

/* ---- The URL ----------------------------------------------------------- */

static bool parse_target(const char *url, struct target *t)
{
    const char *p = url + strlen("http://");
    size_t auth = strcspn(p, "/?#");
    const char *colon = NULL;
    if (p[0] == '[') {
        const char *close = memchr(p, ']', auth);
        if (close == NULL)
            return false;
        colon = close + 1 < p + auth && close[1] == ':' ? close + 1 : NULL;
        if (colon == NULL && close + 1 != p + auth)
            return false;
    } else {
        colon = memchr(p, ':', auth);
    }
    size_t hlen = colon ? (size_t)(colon - p) : auth;
    if (hlen == 0 || hlen >= sizeof t->host || !chr_host_valid(p, hlen))
        return false;
    memcpy(t->host, p, hlen);
    t->host[hlen] = '\0';
    size_t plen = colon ? auth - hlen - 1 : 2;
    if (colon != NULL && (plen == 0 || plen >= sizeof t->port || !chr_port_valid(colon + 1, plen)))
        return false;
    memcpy(t->port, colon ? colon + 1 : "80", plen);
    t->port[plen] = '\0';
    t->base = p + auth;
    for (const char *b = t->base; *b; b++)
        if ((unsigned char)*b <= ' ' || (unsigned char)*b >= 0x7f)
            return false; /* nothing a request line could not carry */
    return true;
}

/* ---- Credentials from ~/.netrc ----------------------------------------- */

/* The next token of a .netrc text at *p (a word, or a "quoted" one with
 * backslash escapes) into tok; false at the end. */
static bool netrc_token(const char **p, const char *end, char *tok, size_t cap)
{
    const char *s = *p;
    while (s < end && (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r'))
        s++;
    if (s == end)
        return false;
    size_t n = 0;
    if (*s == '"') {
        for (s++; s < end && *s != '"'; s++) {
            char ch = *s;
            if (ch == '\\' && s + 1 < end) {
                ch = *++s;
                ch = ch == 'n' ? '\n' : ch == 'r' ? '\r' : ch == 't' ? '\t' : ch;
            }
            if (n + 1 < cap)
                tok[n++] = ch;
        }
        s += s < end;
    } else {
        for (; s < end && *s != ' ' && *s != '\t' && *s != '\n' && *s != '\r'; s++)
            if (n + 1 < cap)
                tok[n++] = *s;
    }
    tok[n] = '\0';
    *p = s;
    return true;
}

/* The login and password ~/.netrc gives for host (its "machine" entry, else
 * "default"), as libcurl reads them; false when it gives none. */
static bool netrc_lookup(const char *host, char *user, char *pw, size_t cap)
{
    const char *home = getenv("HOME");
    char path[4096];
    if (home == NULL || home[0] == '\0' ||
        (size_t)snprintf(path, sizeof path, "%s/.netrc", home) >= sizeof path)
        return false;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return false;
    char *text = chr_malloc(NETRC_MAX);
    ssize_t n = text ? read(fd, text, NETRC_MAX) : -1;
    close(fd);
    bool found = false, in = false;
    user[0] = pw[0] = '\0';
    char tok[CHR_CLIENT_CRED_MAX];
    const char *p = text, *end = text + (n > 0 ? n : 0);
    while (n > 0 && netrc_token(&p, end, tok, sizeof tok)) {
        if (strcmp(tok, "machine") == 0 || strcmp(tok, "default") == 0) {
            if (found)
                break; /* the entry we took has ended */
            bool dflt = tok[0] == 'd';
            in = dflt || (netrc_token(&p, end, tok, sizeof tok) && strcasecmp(tok, host) == 0);
            found = in;
        } else if (strcmp(tok, "macdef") == 0) {
            const char *blank = NULL;
            for (const char *q = p; q + 1 < end && blank == NULL; q++)
                if (q[0] == '\n' && q[1] == '\n')
                    blank = q + 2;
            p = blank ? blank : end; /* a macro runs to a blank line */
        } else if (strcmp(tok, "login") == 0 || strcmp(tok, "password") == 0 ||
                   strcmp(tok, "account") == 0) {
            char *dst = tok[0] == 'l' ? user : tok[0] == 'p' ? pw : NULL;
            if (!netrc_token(&p, end, tok, sizeof tok))
                break;
            if (in && dst != NULL)
                snprintf(dst, cap, "%s", tok);
        }
    }
    chr_free(text);
    return found && user[0] != '\0';
}

/* ---- The connection ---------------------------------------------------- */

static int remaining(const struct wire *w)
{
    if (w->deadline_ms == INT64_MAX)
        return -1;
    int64_t left = w->deadline_ms - chr_clock_mono_ms();
    return left <= 0 ? 0 : left > 60000 ? 60000 : (int)left;
}

/* Waits until fd is ready for `events`; false on the deadline. */
static bool wait_fd(struct wire *w, short events)
{
    for (;;) {
        struct pollfd pfd = {.fd = w->fd, .events = events};
        int ms = remaining(w);
        if (ms == 0)
            return false;
        int r = poll(&pfd, 1, ms);
        if (r > 0)
            return true;
        if (r < 0 && errno != EINTR)
            return false;
    }
}

/* One address, within the connect timeout: the socket, or -1 with errno. */
static int connect_one(const struct addrinfo *a, int64_t deadline_ms)
{
    int fd = socket(a->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -1;
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (connect(fd, a->ai_addr, a->ai_addrlen) == 0)
        return fd;
    int err = errno;
    if (err == EINPROGRESS) {
        struct pollfd pfd = {.fd = fd, .events = POLLOUT};
        int64_t left;
        int r;
        do {
            left = deadline_ms - chr_clock_mono_ms();
            r = left > 0 ? poll(&pfd, 1, (int)left) : 0;
        } while (r < 0 && errno == EINTR);
        socklen_t len = sizeof err;
        if (r == 0)
            err = ETIMEDOUT;
        else if (r < 0 || getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0)
            err = errno;
        if (err == 0)
            return fd;
    }
    close(fd);
    errno = err;
    return -1;
}

/* Connects w->fd to the target; false with the reason in w->why. */
static bool open_conn(struct wire *w, const struct target *t, char *why, size_t cap)
{
    char host[sizeof t->host];
    size_t hl = strlen(t->host);
    bool v6 = t->host[0] == '[';
    snprintf(host, sizeof host, "%.*s", (int)(v6 ? hl - 2 : hl), t->host + v6);
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM,
                             .ai_flags = AI_NUMERICSERV}, *res = NULL;
    int rc = getaddrinfo(host, t->port, &hints, &res);
    if (rc != 0) {
        snprintf(why, cap, "cannot resolve host '%s': %s", host, gai_strerror(rc));
        return false;
    }
    int64_t deadline = chr_clock_mono_ms() + CHR_CLIENT_CONNECT_TIMEOUT_MS;
    int err = ECONNREFUSED;
    w->fd = -1;
    for (const struct addrinfo *a = res; a != NULL && w->fd < 0; a = a->ai_next) {
        w->fd = connect_one(a, deadline);
        if (w->fd < 0)
            err = errno;
    }
    freeaddrinfo(res);
    if (w->fd < 0) {
        if (err == ETIMEDOUT)
            snprintf(why, cap, "no connection to %s port %s within %d s", host, t->port,
                     CHR_CLIENT_CONNECT_TIMEOUT_MS / 1000);
        else
            snprintf(why, cap, "cannot connect to %s port %s: %s", host, t->port, strerror(err));
        return false;
    }
    return true;
}

static int send_all(struct wire *w, const char *p, size_t n)
{
    while (n > 0) {
        ssize_t k = send(w->fd, p, n, MSG_NOSIGNAL);
        if (k > 0) {
            p += k;
            n -= (size_t)k;
        } else if (k < 0 && errno == EINTR) {
            continue;
        } else if (k < 0 && errno == EAGAIN) {
            if (!wait_fd(w, POLLOUT))
                return fail_wire(w, CHR_EXIT_UNREACHABLE, "no answer in time (sending)");
        } else {
            return fail_wire(w, CHR_EXIT_UNREACHABLE, "the connection closed while sending");
        }
    }
    return 0;
}

/* Reads more into buf (compacting it first); 0 at the end of the stream,
 * -1 on failure, else the bytes read. */
static ssize_t fill(struct wire *w)
{
    if (w->at > 0) {
        memmove(w->buf, w->buf + w->at, w->len - w->at);
        w->len -= w->at;
        w->at = 0;
    }
    if (w->len == sizeof w->buf)
        return fail_wire(w, CHR_EXIT_SERVER, "a line of the answer is too long");
    for (;;) {
        ssize_t k = read(w->fd, w->buf + w->len, sizeof w->buf - w->len);
        if (k >= 0) {
            w->len += (size_t)k;
            return k;
        }
        if (errno == EINTR)
            continue;
        if (errno != EAGAIN)
            return fail_wire(w, CHR_EXIT_UNREACHABLE, "the connection was reset");
        if (!wait_fd(w, POLLIN))
            return fail_wire(w, CHR_EXIT_UNREACHABLE, "no answer in time");
    }
}

/* ---- The answer -------------------------------------------------------- */

/* The answer's framing, from its head. */
struct framing {
    bool chunked;
    bool has_length;
    unsigned long long length;
};

static bool header_is(const char *line, size_t n, const char *name, const char **value,
                      size_t *vlen)
{
    size_t k = strlen(name);
    if (n <= k || line[k] != ':' || strncasecmp(line, name, k) != 0)
        return false;
    const char *v = line + k + 1;
    const char *end = line + n;
    while (v < end && (*v == ' ' || *v == '\t'))
        v++;
    while (end > v && (end[-1] == ' ' || end[-1] == '\t'))
        end--;
    *value = v;
    *vlen = (size_t)(end - v);
    return true;
}

/* One header line (without its CRLF): the framing (and chr_client_header's
 * Warning). */
static bool take_header(const char *line, size_t n, struct framing *f)
{
    const char *v;
    size_t vl;
    chr_client_header(line, n);
    if (header_is(line, n, "Content-Length", &v, &vl)) {
        unsigned long long x = 0;
        if (vl == 0 || vl > 18)
            return false;
        for (size_t i = 0; i < vl; i++) {
            if (v[i] < '0' || v[i] > '9')
                return false;
            x = x * 10 + (unsigned)(v[i] - '0');
        }
        if (f->has_length && f->length != x)
            return false;
        f->has_length = true;
        f->length = x;
    } else if (header_is(line, n, "Transfer-Encoding", &v, &vl)) {
        f->chunked = vl >= 7 && strncasecmp(v + vl - 7, "chunked", 7) == 0;
        if (!f->chunked)
            return false; /* an encoding we do not decode */
    }
    return true;
}

/* Reads the head of the answer (skipping 1xx ones): the status into
 * s->status, the framing into *f. */
static int read_head(struct wire *w, struct chr_sink *s, struct framing *f)
{
    for (;;) {
        const char *end = NULL;
        size_t scanned = 0;
        while ((end = memmem(w->buf + w->at + scanned, w->len - w->at - scanned, "\r\n\r\n", 4)) == NULL) {
            if (w->len - w->at >= sizeof w->buf)
                return fail_wire(w, CHR_EXIT_SERVER, "the answer's headers are too long");
            scanned = w->len - w->at > 3 ? w->len - w->at - 3 : 0;
            ssize_t k = fill(w);
            if (k < 0)
                return -1;
            if (k == 0)
                return fail_wire(w, CHR_EXIT_UNREACHABLE, w->len == w->at
                                     ? "the server closed the connection without answering"
                                     : "the connection closed in the middle of the answer");
        }
        const char *p = w->buf + w->at;
        size_t head = (size_t)(end - p) + 4;
        if (head < 12 || (strncmp(p, "HTTP/1.1 ", 9) != 0 && strncmp(p, "HTTP/1.0 ", 9) != 0) ||
            p[9] < '1' || p[9] > '5' || p[10] < '0' || p[10] > '9' || p[11] < '0' ||
            p[11] > '9' || (head > 12 && p[12] != ' ' && p[12] != '\r'))
            return fail_wire(w, CHR_EXIT_SERVER, "the answer is not HTTP/1.x");
        long status = (p[9] - '0') * 100 + (p[10] - '0') * 10 + (p[11] - '0');
        memset(f, 0, sizeof *f);
        const char *line = (const char *)memchr(p, '\n', head) + 1;
        while (line < end) {
            const char *eol = memmem(line, (size_t)(end + 2 - line), "\r\n", 2);
            if (status >= 200 && !take_header(line, (size_t)(eol - line), f))
                return fail_wire(w, CHR_EXIT_SERVER, "the answer's framing is not one we read");
            line = eol + 2;
        }
        w->at += head;
        if (status >= 200) {
            s->status = status;
            return 0;
        }
    }
}

/* Hands up to n body bytes (n = SIZE_MAX: all until the end) to the sink. */
static int read_body(struct wire *w, struct chr_sink *s, unsigned long long n, bool to_end)
{
    while (to_end || n > 0) {
        if (w->at == w->len) {
            w->at = w->len = 0;
            ssize_t k = fill(w);
            if (k < 0)
                return -1;
            if (k == 0)
                return to_end ? 0
                              : fail_wire(w, CHR_EXIT_UNREACHABLE,
                                          "the connection closed in the middle of the answer");
        }
        size_t k = w->len - w->at;
        if (!to_end && k > n)
            k = (size_t)n;
        if (!chr_sink_take(s, w->buf + w->at, k))
            return fail_wire(w, 0, NULL);
        w->at += k;
        n -= to_end ? 0 : k;
    }
    return 0;
}

/* One line (a chunk size, a trailer) into line; -1 on failure. */
static int read_line(struct wire *w, char *line, size_t cap)
{
    const char *eol;
    while ((eol = memmem(w->buf + w->at, w->len - w->at, "\r\n", 2)) == NULL) {
        if (w->len - w->at >= cap)
            return fail_wire(w, CHR_EXIT_SERVER, "a chunk of the answer is malformed");
        ssize_t k = fill(w);
        if (k <= 0)
            return k < 0 ? -1
                         : fail_wire(w, CHR_EXIT_UNREACHABLE,
                                     "the connection closed in the middle of the answer");
    }
    size_t n = (size_t)(eol - (w->buf + w->at));
    memcpy(line, w->buf + w->at, n);
    line[n] = '\0';
    w->at += n + 2;
    return 0;
}

static int read_chunked(struct wire *w, struct chr_sink *s)
{
    char line[WIRE_LINE_MAX];
    for (;;) {
        if (read_line(w, line, sizeof line) < 0)
            return -1;
        char *end;
        errno = 0;
        unsigned long long n = strtoull(line, &end, 16);
        if (end == line || errno != 0 || (*end != '\0' && *end != ';' && *end != ' '))
            return fail_wire(w, CHR_EXIT_SERVER, "a chunk of the answer is malformed");
        if (n == 0)
            break;
        if (read_body(w, s, n, false) < 0 || read_line(w, line, sizeof line) < 0)
            return -1;
        if (line[0] != '\0')
            return fail_wire(w, CHR_EXIT_SERVER, "a chunk of the answer is malformed");
    }
    do { /* trailers, up to the blank line */
        if (read_line(w, line, sizeof line) < 0)
            return -1;
    } while (line[0] != '\0');
    return 0;
}

/* The whole answer to `method` from w->fd into s: 0, or -1 with w->why
 * (NULL when the sink stopped it). */
static int read_answer(struct wire *w, struct chr_sink *s, const char *method)
{
    struct framing f;
    if (read_head(w, s, &f) < 0)
        return -1;
    if (s->status == 204 || s->status == 304 || strcmp(method, "HEAD") == 0)
        return 0;
    return f.chunked ? read_chunked(w, s) : read_body(w, s, f.length, !f.has_length);
}

/* ---- One exchange ------------------------------------------------------ */

static void request_head(struct chr_sb *h, const struct chr_client *c, const struct target *t,
                         const char *method, const char *path, const char *body)
{
    chr_sb_fmt(h, "%s %s%s HTTP/1.1\r\nHost: %s%s%s\r\n", method, t->base, path, t->host,
               strcmp(t->port, "80") != 0 ? ":" : "", strcmp(t->port, "80") != 0 ? t->port : "");
    chr_sb_str(h, "User-Agent: " CHR_CLIENT_USER_AGENT "\r\nAccept: */*\r\nConnection: close\r\n");
    char user[CHR_CLIENT_CRED_MAX], pw[CHR_CLIENT_CRED_MAX];
    const char *u = c->user, *p = c->password;
    if (u[0] == '\0' && netrc_lookup(t->host, user, pw, sizeof user))
        u = user, p = pw;
    if (u[0] != '\0') {
        char cred[2 * CHR_CLIENT_CRED_MAX + 2];
        char b64[CHR_BASE64_SIZE(sizeof cred)];
        int n = snprintf(cred, sizeof cred, "%s:%s", u, p);
        chr_base64_encode((const uint8_t *)cred, (size_t)n, b64);
        chr_sb_fmt(h, "Authorization: Basic %s\r\n", b64);
        explicit_bzero(cred, sizeof cred);
        explicit_bzero(b64, sizeof b64);
    }
    explicit_bzero(pw, sizeof pw);
    if (body != NULL)
        chr_sb_fmt(h, "Content-Type: application/json\r\nContent-Length: %zu\r\n", strlen(body));
    chr_sb_str(h, "\r\n");
}

int chr_wire_exchange(const struct chr_client *c, const char *method, const char *path,
                      const char *body, bool follow, struct chr_sink *s)
{
    struct target t;
    if (!parse_target(c->url, &t))
        return chr_client_fail(CHR_EXIT_USAGE, "server: '%s' is not a URL we can reach "
                               "(http://HOST[:PORT][/PATH])", c->url);
    struct wire *w = chr_calloc(1, sizeof *w);
    if (w == NULL)
        return chr_client_fail(CHR_EXIT_SERVER, "out of memory");
    w->deadline_ms = follow ? INT64_MAX : chr_clock_mono_ms() + CHR_CLIENT_TIMEOUT_MS;
    char why[512];
    if (!open_conn(w, &t, why, sizeof why)) {
        chr_free(w);
        return chr_client_fail(CHR_EXIT_UNREACHABLE, "cannot reach the server at %s: %s", c->url,
                               why);
    }
    struct chr_sb head = {0};
    request_head(&head, c, &t, method, path, body);
    size_t hlen = 0;
    char *h = chr_sb_finish(&head, &hlen);
    int rc = h == NULL ? fail_wire(w, CHR_EXIT_SERVER, "out of memory")
                       : send_all(w, h, hlen);
    if (h != NULL) {
        explicit_bzero(h, hlen); /* it may hold credentials */
        chr_free(h);
    }
    if (rc == 0 && body != NULL)
        rc = send_all(w, body, strlen(body));
    if (rc == 0)
        rc = read_answer(w, s, method);
    close(w->fd);
    int status = w->status;
    const char *what = w->why;
    chr_free(w);
    if (rc == 0)
        return CHR_EXIT_OK;
    if (what == NULL) /* the sink stopped: it says why */
        return chr_sink_failed(s);
    if (status == CHR_EXIT_SERVER)
        return chr_client_fail(status, "the server at %s answered something we cannot read: %s",
                               c->url, what);
    return chr_client_fail(status, "cannot reach the server at %s: %s", c->url, what);
}
