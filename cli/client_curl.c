/*
 * client_curl.c - the client's HTTP through libcurl, for what client_wire.c
 * does not speak: https:// URLs (TLS, the system's certificates or
 * $CHRONOS_CACERT) and a proxy named by http_proxy/all_proxy.  libcurl is
 * loaded (dlopen) on the first such request, so the commands that talk
 * plain HTTP to a server never load it and its two dozen libraries.
 */
#include <curl/curl.h>
#include <dlfcn.h>
#include <stdlib.h>
#include <string.h>

#include "cli/client.h"

/* The libcurl calls the client makes, from the loaded library. */
static struct {
    CURL *(*easy_init)(void);
    CURLcode (*easy_setopt)(CURL *, CURLoption, ...);
    CURLcode (*easy_perform)(CURL *);
    CURLcode (*easy_getinfo)(CURL *, CURLINFO, ...);
    void (*easy_cleanup)(CURL *);
    const char *(*easy_strerror)(CURLcode);
    struct curl_slist *(*slist_append)(struct curl_slist *, const char *);
    void (*slist_free_all)(struct curl_slist *);
} F;

/* Loads libcurl once; false (after saying why) when it cannot be had. */
static bool load(void)
{
    static bool loaded;
    if (loaded)
        return true;
    void *h = dlopen("libcurl.so.4", RTLD_NOW | RTLD_LOCAL);
    if (h == NULL) {
        chr_client_fail(CHR_EXIT_UNREACHABLE, "https:// and proxies need libcurl (Debian "
                        "package libcurl4): %s", dlerror());
        return false;
    }
    struct {
        void **dst;
        const char *name;
    } syms[] = {
        {(void **)&F.easy_init, "curl_easy_init"},
        {(void **)&F.easy_setopt, "curl_easy_setopt"},
        {(void **)&F.easy_perform, "curl_easy_perform"},
        {(void **)&F.easy_getinfo, "curl_easy_getinfo"},
        {(void **)&F.easy_cleanup, "curl_easy_cleanup"},
        {(void **)&F.easy_strerror, "curl_easy_strerror"},
        {(void **)&F.slist_append, "curl_slist_append"},
        {(void **)&F.slist_free_all, "curl_slist_free_all"},
    };
    for (size_t i = 0; i < sizeof syms / sizeof syms[0]; i++) {
        *syms[i].dst = dlsym(h, syms[i].name);
        if (*syms[i].dst == NULL) {
            chr_client_fail(CHR_EXIT_UNREACHABLE, "libcurl.so.4 lacks %s", syms[i].name);
            return false;
        }
    }
    loaded = true;
    return true;
}

struct curl_sink {
    CURL *h;
    struct chr_sink *s;
    bool headers_done;
};

static size_t on_data(char *p, size_t size, size_t nmemb, void *arg)
{
    struct curl_sink *cs = arg;
    size_t n = size * nmemb;
    if (!cs->headers_done) {
        long code = 0;
        F.easy_getinfo(cs->h, CURLINFO_RESPONSE_CODE, &code);
        cs->s->status = code;
        cs->headers_done = true;
    }
    return chr_sink_take(cs->s, p, n) ? n : 0;
}

static size_t on_header(char *p, size_t size, size_t nmemb, void *arg)
{
    size_t n = size * nmemb, k = n;
    (void)arg;
    while (k > 0 && (p[k - 1] == '\r' || p[k - 1] == '\n'))
        k--;
    chr_client_header(p, k);
    return n;
}

static void setup(CURL *h, const struct chr_client *c, const char *url, const char *method,
                  const char *body, bool follow, struct curl_sink *cs, char *errbuf,
                  struct curl_slist **hdrs)
{
    F.easy_setopt(h, CURLOPT_URL, url);
    F.easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf);
    F.easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    F.easy_setopt(h, CURLOPT_USERAGENT, CHR_CLIENT_USER_AGENT);
    F.easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, (long)CHR_CLIENT_CONNECT_TIMEOUT_MS);
    F.easy_setopt(h, CURLOPT_TIMEOUT_MS, follow ? 0L : (long)CHR_CLIENT_TIMEOUT_MS);
    F.easy_setopt(h, CURLOPT_WRITEFUNCTION, on_data);
    F.easy_setopt(h, CURLOPT_WRITEDATA, cs);
    F.easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
    F.easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
    const char *ca = getenv("CHRONOS_CACERT");
    if (ca != NULL && ca[0] != '\0')
        F.easy_setopt(h, CURLOPT_CAINFO, ca);
    if (strcmp(method, "GET") != 0)
        F.easy_setopt(h, CURLOPT_CUSTOMREQUEST, method);
    if (body != NULL) {
        *hdrs = F.slist_append(NULL, "Content-Type: application/json");
        F.easy_setopt(h, CURLOPT_HTTPHEADER, *hdrs);
        F.easy_setopt(h, CURLOPT_POSTFIELDS, body);
        F.easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)strlen(body));
    }
    if (c->user[0] != '\0') {
        F.easy_setopt(h, CURLOPT_HTTPAUTH, (long)CURLAUTH_BASIC);
        F.easy_setopt(h, CURLOPT_USERNAME, c->user);
        F.easy_setopt(h, CURLOPT_PASSWORD, c->password);
    } else {
        F.easy_setopt(h, CURLOPT_NETRC, (long)CURL_NETRC_OPTIONAL); /* ~/.netrc */
    }
}

int chr_curl_exchange(const struct chr_client *c, const char *method, const char *path,
                      const char *body, bool follow, struct chr_sink *s)
{
    if (!load())
        return CHR_EXIT_UNREACHABLE;
    char url[CHR_CLIENT_URL_MAX + CHR_CLIENT_PATH_MAX];
    char errbuf[CURL_ERROR_SIZE] = "";
    struct curl_slist *hdrs = NULL;
    struct curl_sink cs = {.s = s};
    snprintf(url, sizeof url, "%s%s", c->url, path);
    cs.h = F.easy_init();
    if (cs.h == NULL)
        return chr_client_fail(CHR_EXIT_UNREACHABLE, "cannot start libcurl");
    setup(cs.h, c, url, method, body, follow, &cs, errbuf, &hdrs);
    CURLcode rc = F.easy_perform(cs.h);
    long code = 0;
    F.easy_getinfo(cs.h, CURLINFO_RESPONSE_CODE, &code);
    s->status = code;
    F.easy_cleanup(cs.h);
    F.slist_free_all(hdrs);
    if (rc == CURLE_OK)
        return CHR_EXIT_OK;
    if (rc == CURLE_WRITE_ERROR)
        return chr_sink_failed(s);
    return chr_client_fail(CHR_EXIT_UNREACHABLE, "cannot reach the server at %s: %s", c->url,
                           errbuf[0] ? errbuf : F.easy_strerror(rc));
}
