/*
 * client_http.c - the client's HTTP (client.h), through libcurl's easy
 * interface: one request at a time, a connect timeout and a total timeout
 * (none when following a log), answers bounded by CHR_CLIENT_BODY_MAX unless
 * streamed to stdout.  Every failure becomes one line on stderr and the exit
 * status scripts rely on: 1 the server refused (4xx), 3 no answer, 4 the
 * server failed (5xx) or answered something we cannot take.
 */
#include <curl/curl.h>
#include <string.h>
#include <strings.h>

#include "cli/client.h"
#include "common/alloc.h"
#include "common/sb.h"

#define USER_AGENT "chronos-cli/0.1"
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
    /* libcurl >= 7.82 needs no handle to escape. */
    char *e = curl_easy_escape(NULL, raw, (int)strnlen(raw, CHR_CLIENT_PATH_MAX));
    if (e == NULL) {
        p->overflow = true;
        return;
    }
    chr_path_add(p, e);
    curl_free(e);
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

/* Where an answer's bytes go: memory (bounded), or stdout for a 2xx stream. */
struct sink {
    CURL *h;
    bool stream;
    bool too_large;
    bool write_failed;
    struct chr_sb body;
};

static bool sink_append(struct sink *s, const char *p, size_t n)
{
    if (n > CHR_CLIENT_BODY_MAX - s->body.len) {
        s->too_large = true;
        return false;
    }
    chr_sb_put(&s->body, p, n);
    return !chr_sb_failed(&s->body);
}

static size_t on_data(char *p, size_t size, size_t nmemb, void *arg)
{
    struct sink *s = arg;
    size_t n = size * nmemb;
    long code = 0;
    if (s->stream && curl_easy_getinfo(s->h, CURLINFO_RESPONSE_CODE, &code) == CURLE_OK &&
        code >= 200 && code < 300) {
        if (fwrite(p, 1, n, stdout) != n || fflush(stdout) != 0) {
            s->write_failed = true;
            return 0;
        }
        return n;
    }
    return sink_append(s, p, n) ? n : 0;
}

/* A Warning header (the server accepted the request but has something to
 * say: an ignored field, a job that cannot run here) goes to stderr. */
static size_t on_header(char *p, size_t size, size_t nmemb, void *arg)
{
    size_t n = size * nmemb;
    (void)arg;
    if (n > 8 && strncasecmp(p, "Warning:", 8) == 0) {
        size_t k = n;
        while (k > 8 && (p[k - 1] == '\r' || p[k - 1] == '\n'))
            k--;
        fprintf(stderr, "chronos: warning:%.*s\n", (int)(k - 8), p + 8);
    }
    return n;
}

/* The options of one exchange; `hdrs` receives the list to free. */
static void setup(CURL *h, const char *url, const char *method, const char *body, bool follow,
                  struct sink *s, char *errbuf, struct curl_slist **hdrs)
{
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_USERAGENT, USER_AGENT);
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, (long)CHR_CLIENT_CONNECT_TIMEOUT_MS);
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, follow ? 0L : (long)CHR_CLIENT_TIMEOUT_MS);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_data);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, s);
    curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
    if (strcmp(method, "GET") != 0)
        curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method);
    if (body != NULL) {
        *hdrs = curl_slist_append(NULL, "Content-Type: application/json");
        curl_easy_setopt(h, CURLOPT_HTTPHEADER, *hdrs);
        curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
        curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)strlen(body));
    }
}

/* One exchange into `s`; *status the HTTP status.  Returns an exit status
 * (0: an answer came, whatever its status). */
static int exchange(const struct chr_client *c, const char *method, const char *path,
                    const char *body, bool follow, struct sink *s, long *status)
{
    char url[CHR_CLIENT_URL_MAX + CHR_CLIENT_PATH_MAX];
    char errbuf[CURL_ERROR_SIZE] = "";
    struct curl_slist *hdrs = NULL;
    snprintf(url, sizeof url, "%s%s", c->url, path);
    s->h = curl_easy_init();
    if (s->h == NULL)
        return chr_client_fail(CHR_EXIT_UNREACHABLE, "cannot start libcurl");
    setup(s->h, url, method, body, follow, s, errbuf, &hdrs);
    curl_easy_setopt(s->h, CURLOPT_PROTOCOLS_STR, "http,https");
    if (c->user[0] != '\0') {
        curl_easy_setopt(s->h, CURLOPT_HTTPAUTH, (long)CURLAUTH_BASIC);
        curl_easy_setopt(s->h, CURLOPT_USERNAME, c->user);
        curl_easy_setopt(s->h, CURLOPT_PASSWORD, c->password);
    } else {
        curl_easy_setopt(s->h, CURLOPT_NETRC, (long)CURL_NETRC_OPTIONAL); /* ~/.netrc */
    }
    CURLcode rc = curl_easy_perform(s->h);
    curl_easy_getinfo(s->h, CURLINFO_RESPONSE_CODE, status);
    curl_easy_cleanup(s->h);
    curl_slist_free_all(hdrs);
    if (rc == CURLE_OK)
        return CHR_EXIT_OK;
    if (s->too_large)
        return chr_client_fail(CHR_EXIT_SERVER, "the server's answer is larger than %d MiB",
                               CHR_CLIENT_BODY_MAX / (1024 * 1024));
    if (s->write_failed)
        return CHR_EXIT_REFUSED; /* stdout went away (a closed pipe): nothing to say */
    if (rc == CURLE_WRITE_ERROR)
        return chr_client_fail(CHR_EXIT_SERVER, "out of memory reading the server's answer");
    return chr_client_fail(CHR_EXIT_UNREACHABLE, "cannot reach the server at %s: %s", c->url,
                           errbuf[0] ? errbuf : curl_easy_strerror(rc));
}

int chr_client_request(const struct chr_client *c, const char *method, const char *path,
                       const char *body, struct chr_resp *r)
{
    struct sink s;
    memset(&s, 0, sizeof s);
    memset(r, 0, sizeof *r);
    int st = exchange(c, method, path, body, false, &s, &r->status);
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
    struct sink s;
    long status = 0;
    memset(&s, 0, sizeof s);
    s.stream = true;
    int st = exchange(c, "GET", path, NULL, follow, &s, &status);
    size_t len = 0;
    char *text = chr_sb_finish(&s.body, &len); /* a refusal's body; NULL: none kept */
    if (st == CHR_EXIT_OK && (status < 200 || status >= 300)) {
        struct chr_resp r = {status, text ? text : "", text ? len : 0};
        st = chr_client_refused(c, &r);
    }
    chr_free(text);
    return st;
}
