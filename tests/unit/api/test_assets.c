/*
 * test_assets.c - the embedded dashboard (api/assets.c and its route): the
 * generated table as the build made it from api/dashboard/dist, and the
 * answers a browser gets.  What is asserted: / and every page of the app
 * (deep links) answer index.html, revalidated (no-cache); the hashed files
 * it names answer immutable; gzip only when accepted (q=0 refuses it); a
 * matching If-None-Match answers 304 with no body; an unknown asset and a
 * path that climbs out answer 404; other paths are not the dashboard's;
 * only GET and HEAD.  Nothing here names a hash: the files are found
 * through index.html, as a browser finds them.
 */
#include "../unit.h"

#include "common/alloc.h"
#include "api/assets.h"
#include "api/http_int.h"

static const struct chr_asset *find(const char *path)
{
    for (size_t i = 0; i < chr_assets_n; i++)
        if (strcmp(chr_assets[i].path, path) == 0)
            return &chr_assets[i];
    return NULL;
}

/* The first "/assets/..." that index.html names with the given ending. */
static void named_asset(const char *ext, char *out, size_t cap)
{
    const struct chr_asset *index = find("/index.html");
    assert_non_null(index);
    char *html = chr_strndup((const char *)index->data, index->len);
    const char *p = html;
    out[0] = '\0';
    while ((p = strstr(p, "/assets/")) != NULL) {
        size_t n = strcspn(p, "\"' >");
        if (n > strlen(ext) && strncmp(p + n - strlen(ext), ext, strlen(ext)) == 0) {
            snprintf(out, cap, "%.*s", (int)n, p);
            break;
        }
        p += n;
    }
    chr_free(html);
    if (out[0] == '\0')
        fail_msg("index.html names no %s asset", ext);
}

static void test_table_is_the_built_dashboard(void **state)
{
    (void)state;
    char js[128], css[128];
    named_asset(".js", js, sizeof js);
    named_asset(".css", css, sizeof css);
    assert_non_null(find(js));
    assert_non_null(find(css));
    assert_string_equal(find(js)->type, "text/javascript; charset=utf-8");
    for (size_t i = 0; i < chr_assets_n; i++) {
        const struct chr_asset *a = &chr_assets[i];
        /* A gzip member (RFC 1952) whose trailer gives the file's length
         * (the browser tests inflate and run it). */
        assert_true(a->gz_len > 18 && a->gz[0] == 0x1f && a->gz[1] == 0x8b && a->gz[2] == 8);
        const unsigned char *isize = a->gz + a->gz_len - 4;
        size_t n = isize[0] | isize[1] << 8 | (size_t)isize[2] << 16 | (size_t)isize[3] << 24;
        assert_int_equal(n, a->len);
        assert_true(a->etag[0] == '"' && strcmp(a->etag, a->etag_gz) != 0);
    }
}

static void test_paths(void **state)
{
    (void)state;
    const char *ours[] = {"/", "/index.html", "/jobs", "/jobs/x", "/jobs/x/edit", "/new",
                          "/runs/ct:1:0:x", "/graph", "/cluster", "/assets/app.js"};
    const char *not_ours[] = {"/v1/scheduler/jobs", "/ping", "/jobsx", "/news", "/graph/x",
                              "/metrics", "/scheduler/jobs", "/health", "/runsy"};
    for (size_t i = 0; i < sizeof ours / sizeof ours[0]; i++)
        if (!chr_assets_is_path(ours[i]))
            fail_msg("%s should be the dashboard's", ours[i]);
    for (size_t i = 0; i < sizeof not_ours / sizeof not_ours[0]; i++)
        if (chr_assets_is_path(not_ours[i]))
            fail_msg("%s should not be the dashboard's", not_ours[i]);
}

static void test_accept_encoding_and_etags(void **state)
{
    (void)state;
    assert_true(chr_assets_accepts_gzip("gzip"));
    assert_true(chr_assets_accepts_gzip("gzip, deflate, br"));
    assert_true(chr_assets_accepts_gzip("br;q=1.0, GZIP;q=0.5"));
    assert_true(chr_assets_accepts_gzip("*"));
    assert_false(chr_assets_accepts_gzip(NULL));
    assert_false(chr_assets_accepts_gzip(""));
    assert_false(chr_assets_accepts_gzip("identity"));
    assert_false(chr_assets_accepts_gzip("gzip;q=0"));
    assert_false(chr_assets_accepts_gzip("gzip; q=0.000, br"));
    assert_false(chr_assets_accepts_gzip("x-gzip2"));
    assert_true(chr_assets_etag_matches("\"a\"", "\"a\""));
    assert_true(chr_assets_etag_matches("\"b\", \"a\"", "\"a\""));
    assert_true(chr_assets_etag_matches("W/\"a\"", "\"a\""));
    assert_true(chr_assets_etag_matches("*", "\"a\""));
    assert_false(chr_assets_etag_matches("\"ab\"", "\"a\""));
    assert_false(chr_assets_etag_matches(NULL, "\"a\""));
}

/* ---- Through the route ------------------------------------------------------------- */

struct hdrs {
    const char *accept_encoding, *if_none_match;
};

static const char *hdr(void *ctx, const char *name)
{
    struct hdrs *h = ctx;
    if (strcmp(name, "Accept-Encoding") == 0)
        return h->accept_encoding;
    if (strcmp(name, "If-None-Match") == 0)
        return h->if_none_match;
    return NULL;
}

static struct chr_http server;

static void get(struct req *r, const char *method, const char *path, struct hdrs *h)
{
    memset(r, 0, sizeof *r);
    r->h = &server;
    r->header = hdr;
    r->header_ctx = h;
    chr_routes_dispatch(r, path, method);
    assert_int_equal(r->state, REQ_DONE);
}

static void test_route_answers(void **state)
{
    (void)state;
    const struct chr_asset *index = find("/index.html");
    char js[128];
    named_asset(".js", js, sizeof js);
    struct req r;
    struct hdrs none = {NULL, NULL}, gz = {"gzip, deflate", NULL};
    const char *pages[] = {"/", "/jobs/alpha", "/runs/ct:1:0:alpha", "/graph"};
    for (size_t i = 0; i < 4; i++) {
        get(&r, "GET", pages[i], &none);
        assert_int_equal(r.status, 200);
        assert_string_equal(r.type, "text/html; charset=utf-8");
        assert_string_equal(r.cache_control, "no-cache");
        assert_false(r.gzip);
        assert_int_equal(r.out_len, index->len);
        assert_memory_equal(r.out, index->data, index->len);
        chr_free(r.out);
    }
    get(&r, "GET", js, &gz);
    assert_int_equal(r.status, 200);
    assert_true(r.gzip);
    assert_int_equal(r.out_len, find(js)->gz_len);
    assert_non_null(strstr(r.cache_control, "immutable"));
    assert_string_equal(r.etag, find(js)->etag_gz);
    chr_free(r.out);
    struct hdrs again = {"gzip", find(js)->etag_gz}, stale = {"gzip", "\"old\""};
    get(&r, "GET", js, &again);
    assert_int_equal(r.status, 304);
    assert_null(r.out);
    get(&r, "HEAD", js, &stale);
    assert_int_equal(r.status, 200);
    chr_free(r.out);
    const char *missing[] = {"/assets/app-NOTAHASH.js", "/assets/../index.html", "/assets/"};
    for (size_t i = 0; i < 3; i++) {
        get(&r, "GET", missing[i], &none);
        assert_int_equal(r.status, 404);
        chr_free(r.out);
    }
    get(&r, "POST", "/", &none);
    assert_int_equal(r.status, 405);
    chr_free(r.out);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_table_is_the_built_dashboard),
        cmocka_unit_test(test_paths),
        cmocka_unit_test(test_accept_encoding_and_etags),
        cmocka_unit_test(test_route_answers),
    };
    pthread_mutex_init(&server.mu, NULL);
    int failed = cmocka_run_group_tests(tests, NULL, NULL);
    pthread_mutex_destroy(&server.mu);
    return failed;
}
