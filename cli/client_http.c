/*
 * client_http.c - the client's HTTP (client.h): request paths, answers and
 * their sink, and the choice of transport for each exchange (client_wire.c
 * for http://, client_curl.c for https:// and proxies).  One request at a
 * time, a connect timeout and a total timeout (none when following a log),
 * answers bounded by CHR_CLIENT_BODY_MAX unless streamed to stdout.  Every failure becomes one line on stderr and the exit
 * status scripts rely on: 1 the server refused (4xx), 3 no answer, 4 the
 * server failed (5xx) or answered something we cannot take.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cli/client.h"
#include "common/alloc.h"
#include "common/sb.h"

/* How much of a non-JSON error answer is quoted in the message. */
#define ERROR_QUOTE_MAX 300

/* ---- Paths ------------------------------------------------------------- */

void chr_path_init(struct chr_path *p)
{
    p->buf[0] = '\0';
    p->len = 0;
    p->overflow = false;
}

void chr_path_add(struct chr_path *p, const char *text)
{
    size_t n = strlen(text);
    if (p->overflow || n >= sizeof p->buf - p->len) {
        p->overflow = true;
        return;
    }
    memcpy(p->buf + p->len, text, n + 1);
    p->len += n;
}

void chr_path_add_escaped(struct chr_path *p, const char *raw)
{
    /* RFC 3986: every byte but the unreserved ones as %XX (as libcurl's
     * curl_easy_escape writes it). */
    static const char hex[] = "0123456789ABCDEF";
    for (const unsigned char *s = (const unsigned char *)raw; *s && !p->overflow; s++) {
        bool plain = (*s >= 'A' && *s <= 'Z') || (*s >= 'a' && *s <= 'z') ||
                     (*s >= '0' && *s <= '9') || *s == '-' || *s == '.' || *s == '_' || *s == '~';
        char e[4] = {(char)*s, '\0', '\0', '\0'};
        if (!plain) {
            e[0] = '%';
            e[1] = hex[*s >> 4];
            e[2] = hex[*s & 15];
        }
        chr_path_add(p, e);
    }
}

void chr_path_add_query(struct chr_path *p, const char *key, const char *value)
{
    if (value == NULL)
        return;
    /* Escaped pieces never hold a raw '?', so the first one starts the query. */
    chr_path_add(p, memchr(p->buf, '?', p->len) ? "&" : "?");
    chr_path_add(p, key);
    chr_path_add(p, "=");
    chr_path_add_escaped(p, value);
}

int chr_path_check(const struct chr_client *c, const struct chr_path *p)
{
    if (p->overflow)
        return chr_client_usage(c, "the request is longer than %d bytes", CHR_CLIENT_PATH_MAX);
    return CHR_EXIT_OK;
}

/* ---- Answers ----------------------------------------------------------- */

void chr_resp_free(struct chr_resp *r)
{
    chr_free(r->body);
    r->body = NULL;
    r->len = 0;
}

json_t *chr_resp_json(const struct chr_resp *r)
{
    json_error_t jerr;
    json_t *v = json_loadb(r->body, r->len, 0, &jerr);
    if (v == NULL)
        chr_client_fail(CHR_EXIT_SERVER, "the server's answer is not JSON: %s", jerr.text);
    return v;
}

void chr_resp_print(const struct chr_resp *r)
{
    fwrite(r->body, 1, r->len, stdout);
    if (r->len > 0 && r->body[r->len - 1] != '\n')
        fputc('\n', stdout);
}

/* The message of an error answer: its JSON "message", else its first line. */
static void refusal_text(const struct chr_resp *r, char *buf, size_t cap)
{
    json_t *v = json_loadb(r->body, r->len, 0, NULL);
    const char *m = json_string_value(json_object_get(v, "message"));
    size_t n = strcspn(r->body, "\r\n");
    if (m != NULL && m[0] != '\0')
        snprintf(buf, cap, "%s", m);
    else if (n == 0)
        snprintf(buf, cap, "the server answered HTTP %ld", r->status);
    else
        snprintf(buf, cap, "the server answered HTTP %ld: %.*s", r->status,
                 (int)(n > ERROR_QUOTE_MAX ? ERROR_QUOTE_MAX : n), r->body);
    json_decref(v);
}

int chr_client_refused(const struct chr_client *c, const struct chr_resp *r)
{
    char text[1024];
    int st = r->status >= 400 && r->status < 500 ? CHR_EXIT_REFUSED : CHR_EXIT_SERVER;
    refusal_text(r, text, sizeof text);
    if (c->context != NULL)
        return chr_client_fail(st, "%s: %s", c->context, text);
    return chr_client_fail(st, "%s", text);
}

/* ---- Transfers --------------------------------------------------------- */

void chr_client_header(const char *line, size_t n)
{
    if (n > 8 && strncasecmp(line, "Warning:", 8) == 0)
        fprintf(stderr, "chronos: warning:%.*s\n", (int)(n - 8), line + 8);
}

bool chr_sink_take(struct chr_sink *s, const char *p, size_t n)
{
    if (s->stream && s->status >= 200 && s->status < 300) {
        if (fwrite(p, 1, n, stdout) != n || fflush(stdout) != 0) {
            s->write_failed = true;
            return false;
        }
        return true;
    }
    if (n > CHR_CLIENT_BODY_MAX - s->body.len) {
        s->too_large = true;
        return false;
    }
    chr_sb_put(&s->body, p, n);
    return !chr_sb_failed(&s->body);
}

int chr_sink_failed(const struct chr_sink *s)
{
    if (s->too_large)
        return chr_client_fail(CHR_EXIT_SERVER, "the server's answer is larger than %d MiB",
                               CHR_CLIENT_BODY_MAX / (1024 * 1024));
    if (s->write_failed)
        return CHR_EXIT_REFUSED; /* stdout went away (a closed pipe): nothing to say */
    return chr_client_fail(CHR_EXIT_SERVER, "out of memory reading the server's answer");
}

/* Whether libcurl must carry the exchange: https://, or a proxy libcurl
 * would have used (it reads http_proxy, not HTTP_PROXY, for http://). */
static bool needs_curl(const char *url)
{
    static const char *const proxies[] = {"http_proxy", "all_proxy", "ALL_PROXY"};
    if (strncmp(url, "http://", 7) != 0)
        return true;
    for (size_t i = 0; i < sizeof proxies / sizeof proxies[0]; i++) {
        const char *v = getenv(proxies[i]);
        if (v != NULL && v[0] != '\0')
            return true;
    }
    return false;
}

/* One exchange into `s` (s->status the HTTP status).  Returns an exit
 * status (0: an answer came, whatever its status). */
static int exchange(const struct chr_client *c, const char *method, const char *path,
                    const char *body, bool follow, struct chr_sink *s)
{
    if (needs_curl(c->url))
        return chr_curl_exchange(c, method, path, body, follow, s);
    return chr_wire_exchange(c, method, path, body, follow, s);
}

int chr_client_request(const struct chr_client *c, const char *method, const char *path,
                       const char *body, struct chr_resp *r)
{
    struct chr_sink s;
    memset(&s, 0, sizeof s);
    memset(r, 0, sizeof *r);
    int st = exchange(c, method, path, body, false, &s);
    r->status = s.status;
    if (st != CHR_EXIT_OK) {
        chr_sb_free(&s.body);
        return st;
    }
    r->body = chr_sb_finish(&s.body, &r->len);
    if (r->body == NULL)
        return chr_client_fail(CHR_EXIT_SERVER, "out of memory");
    return CHR_EXIT_OK;
}

int chr_client_call(const struct chr_client *c, const char *method, const char *path,
                    const char *body, struct chr_resp *r)
{
    int st = chr_client_request(c, method, path, body, r);
    if (st != CHR_EXIT_OK)
        return st;
    if (r->status >= 200 && r->status < 300)
        return CHR_EXIT_OK;
    st = chr_client_refused(c, r);
    chr_resp_free(r);
    return st;
}

int chr_client_get_show(const struct chr_client *c, const char *path, chr_render_fn *render)
{
    struct chr_resp r;
    int st = chr_client_call(c, "GET", path, NULL, &r);
    if (st != CHR_EXIT_OK)
        return st;
    if (c->json) {
        chr_resp_print(&r);
    } else {
        json_t *v = chr_resp_json(&r);
        st = v ? render(c, v) : CHR_EXIT_SERVER;
        json_decref(v);
    }
    chr_resp_free(&r);
    return st;
}

int chr_client_stream(const struct chr_client *c, const char *path, bool follow)
{
    struct chr_sink s;
    memset(&s, 0, sizeof s);
    s.stream = true;
    int st = exchange(c, "GET", path, NULL, follow, &s);
    long status = s.status;
    size_t len = 0;
    char *text = chr_sb_finish(&s.body, &len); /* a refusal's body; NULL: none kept */
    if (st == CHR_EXIT_OK && (status < 200 || status >= 300)) {
        struct chr_resp r = {status, text ? text : "", text ? len : 0};
        st = chr_client_refused(c, &r);
    }
    chr_free(text);
    return st;
}
