/*
 * test_http_check.c - the checks every API request passes first
 * (api/http_check.c): control bytes in the request target,
 * percent-decoding that keeps "%00", the Host header against DNS rebinding,
 * the Origin of a mutation, application/json with parameters, Basic
 * credentials decoded strictly and compared whole, and the list settings.
 */
#include "../unit.h"

#include <stdbool.h>

#include "api/http_check.h"

static struct chr_http_list list_of(const char *csv)
{
    struct chr_http_list l;
    struct chr_error err;
    if (chr_http_list_parse(csv, "x", &l, &err) != CHR_OK)
        fail_msg("list '%s': %s", csv, err.message);
    return l;
}

static void test_target(void **state)
{
    (void)state;
    assert_true(chr_http_target_ok("/v1/scheduler/jobs?a=b%00c", 26));
    assert_true(chr_http_target_ok("/caf\xc3\xa9", 6)); /* UTF-8 is for names to judge */
    assert_true(chr_http_target_ok("/a b", 4));          /* as libmicrohttpd allows */
    assert_false(chr_http_target_ok("/a\x01", 3));
    assert_false(chr_http_target_ok("/a\tb", 4));
    assert_false(chr_http_target_ok("/a\x7f", 3));
    assert_false(chr_http_target_ok("/job/ch\0/../x", 13)); /* a NUL the caller counted */
}

static void test_unescape(void **state)
{
    (void)state;
    char a[] = "/job/a%2Fb%20c%41";
    assert_int_equal(chr_http_unescape(a), 11);
    assert_string_equal(a, "/job/a/b cA");
    char b[] = "/job/ch%00/../x"; /* stays as written: the name is then invalid */
    chr_http_unescape(b);
    assert_string_equal(b, "/job/ch%00/../x");
    char c[] = "%zz%4%";
    chr_http_unescape(c);
    assert_string_equal(c, "%zz%4%");
}

static void test_host(void **state)
{
    (void)state;
    struct chr_http_list names = list_of("chronos.example.com");
    chr_http_list_add(&names, "127.0.0.1");
    assert_true(chr_http_host_ok(NULL, &names, NULL)); /* HTTP/1.0: not a browser */
    assert_true(chr_http_host_ok("127.0.0.1:4400", &names, NULL));
    assert_true(chr_http_host_ok("localhost", &names, NULL));
    assert_true(chr_http_host_ok("LOCALHOST.:8080", &names, NULL));
    assert_true(chr_http_host_ok("[::1]:4400", &names, NULL));
    assert_true(chr_http_host_ok("[::1]", &names, NULL));
    assert_true(chr_http_host_ok("127.0.0.2", &names, NULL)); /* loopback */
    assert_true(chr_http_host_ok("Chronos.Example.COM:4400", &names, NULL));
    /* DNS rebinding: the attacker's own name, resolving to us. */
    assert_false(chr_http_host_ok("evil.example:4400", &names, NULL));
    assert_false(chr_http_host_ok("chronos.example.com.evil.example", &names, NULL));
    assert_false(chr_http_host_ok("localhost.evil.example", &names, NULL));
    /* An address of this server only when the client connected to it. */
    assert_false(chr_http_host_ok("10.1.2.3:4400", &names, NULL));
    assert_true(chr_http_host_ok("10.1.2.3:4400", &names, "10.1.2.3"));
    assert_false(chr_http_host_ok("10.1.2.4", &names, "10.1.2.3"));
    /* Malformed. */
    assert_false(chr_http_host_ok("", &names, NULL));
    assert_false(chr_http_host_ok(":4400", &names, NULL));
    assert_false(chr_http_host_ok("localhost:", &names, NULL));
    assert_false(chr_http_host_ok("localhost:44x", &names, NULL));
    assert_false(chr_http_host_ok("localhost:123456", &names, NULL));
    assert_false(chr_http_host_ok("::1", &names, NULL));
    assert_false(chr_http_host_ok("[::1", &names, NULL));
    assert_false(chr_http_host_ok("[::1]x", &names, NULL));
    assert_false(chr_http_host_ok("local host", &names, NULL));
    struct chr_http_list any = list_of("*");
    assert_true(chr_http_host_ok("anything.example", &any, NULL));
}

static void test_origin(void **state)
{
    (void)state;
    struct chr_http_list none = list_of(NULL), some = list_of("https://ui.example, http://b.example:8080");
    assert_true(chr_http_origin_ok(NULL, "127.0.0.1:4400", false, &none));
    assert_true(chr_http_origin_ok("http://127.0.0.1:4400", "127.0.0.1:4400", false, &none));
    assert_false(chr_http_origin_ok("https://127.0.0.1:4400", "127.0.0.1:4400", false, &none));
    assert_true(chr_http_origin_ok("https://127.0.0.1:4400", "127.0.0.1:4400", true, &none));
    assert_false(chr_http_origin_ok("http://evil.example", "127.0.0.1:4400", false, &none));
    assert_false(chr_http_origin_ok("null", "127.0.0.1:4400", false, &none));
    assert_false(chr_http_origin_ok("http://127.0.0.1:4400", NULL, false, &none));
    assert_true(chr_http_origin_ok("https://UI.example", "127.0.0.1:4400", false, &some));
    assert_true(chr_http_origin_ok("http://b.example:8080", "127.0.0.1:4400", false, &some));
    assert_false(chr_http_origin_ok("http://b.example", "127.0.0.1:4400", false, &some));
    struct chr_http_list star = list_of("*");
    assert_true(chr_http_origin_ok("http://evil.example", "127.0.0.1:4400", false, &star));
}

static void test_json_type(void **state)
{
    (void)state;
    assert_true(chr_http_is_json("application/json"));
    assert_true(chr_http_is_json("Application/JSON"));
    assert_true(chr_http_is_json("application/json; charset=utf-8"));
    assert_true(chr_http_is_json(" application/json ;charset=UTF-8"));
    assert_false(chr_http_is_json(NULL));
    assert_false(chr_http_is_json("text/plain"));
    assert_false(chr_http_is_json("text/plain;charset=UTF-8"));
    assert_false(chr_http_is_json("application/x-www-form-urlencoded"));
    assert_false(chr_http_is_json("multipart/form-data; boundary=x"));
    assert_false(chr_http_is_json("application/jsonp"));
    assert_false(chr_http_is_json("application/json-patch+json"));
}

static void test_basic_auth(void **state)
{
    (void)state;
    const char *creds = "admin:s3cr3t";
    assert_true(chr_http_basic_auth_ok("Basic YWRtaW46czNjcjN0", creds));
    assert_true(chr_http_basic_auth_ok("basic   YWRtaW46czNjcjN0  ", creds));
    assert_false(chr_http_basic_auth_ok(NULL, creds));
    assert_false(chr_http_basic_auth_ok("Bearer YWRtaW46czNjcjN0", creds));
    assert_false(chr_http_basic_auth_ok("Basic YWRtaW46czNjcjN4", creds));   /* s3cr3x */
    assert_false(chr_http_basic_auth_ok("Basic YWRtaW46czNjcjM=", creds));   /* s3cr3 */
    assert_false(chr_http_basic_auth_ok("Basic YWRtaW46czNjcjN0eA==", creds)); /* s3cr3tx */
    /* The secret and then a NUL and more: not the secret. */
    assert_false(chr_http_basic_auth_ok("Basic YWRtaW46czNjcjN0AGV4dHJh", creds));
    assert_false(chr_http_basic_auth_ok("Basic YWRtaW46czNjcjN0", "admin:s3cr3"));
    /* Malformed base64: bad characters, over-padding, stray bits, no colon. */
    assert_false(chr_http_basic_auth_ok("Basic YWRtaW46czNjcjN0!", creds));
    assert_false(chr_http_basic_auth_ok("Basic YWRtaW46czNjcjN0===", creds));
    assert_false(chr_http_basic_auth_ok("Basic YWRtaW46czNjcjN1", creds)); /* s3cr3u */
    assert_false(chr_http_basic_auth_ok("Basic YTpiYx==", "a:bc")); /* "a:bc" + stray bits */
    assert_false(chr_http_basic_auth_ok("Basic YWRtaW5zM2NyM3Q=", "admins3cr3t"));
    assert_false(chr_http_basic_auth_ok("Basic ", creds));
    /* Padding is optional; both forms of "a:b" pass. */
    assert_true(chr_http_basic_auth_ok("Basic YTpi", "a:b"));
    assert_true(chr_http_basic_auth_ok("Basic YTpiYw==", "a:bc"));
    assert_true(chr_http_basic_auth_ok("Basic YTpiYw", "a:bc"));
}

static void test_lists(void **state)
{
    (void)state;
    struct chr_http_list l = list_of(" a.example ,B.example,,*");
    assert_int_equal(l.n, 3);
    assert_true(l.any);
    assert_true(chr_http_list_has(&l, "A.EXAMPLE", 9));
    assert_true(chr_http_list_has(&l, "b.example", 9));
    struct chr_error err;
    struct chr_http_list bad;
    assert_int_equal(chr_http_list_parse("a b", "allowed_hosts", &bad, &err), CHR_EINVAL);
    assert_string_equal(err.field, "allowed_hosts");
    char many[CHR_HTTP_LIST_MAX * 4 + 8] = "";
    for (int i = 0; i <= CHR_HTTP_LIST_MAX; i++)
        snprintf(many + strlen(many), sizeof many - strlen(many), "h%d,", i);
    assert_int_equal(chr_http_list_parse(many, "cors_origins", &bad, &err), CHR_EINVAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_target),     cmocka_unit_test(test_unescape),
        cmocka_unit_test(test_host),       cmocka_unit_test(test_origin),
        cmocka_unit_test(test_json_type),  cmocka_unit_test(test_basic_auth),
        cmocka_unit_test(test_lists),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
