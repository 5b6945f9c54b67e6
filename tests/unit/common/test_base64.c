/*
 * test_base64.c - base64 against RFC 4648's vectors (section 10), a uuid as
 * Mesos sends it, and the strict decoder's refusals: characters outside the
 * alphabet, '=' inside the text, bits set past the data, bad lengths, too
 * little room; padding required (Mesos's uuids) or optional (HTTP Basic).
 */
#include "../unit.h"

#include <string.h>

#include "common/base64.h"

static const char *const PLAIN[] = {"", "f", "fo", "foo", "foob", "fooba", "foobar"};
static const char *const CODED[] = {"", "Zg==", "Zm8=", "Zm9v", "Zm9vYg==", "Zm9vYmE=", "Zm9vYmFy"};

static long dec(const char *s, uint8_t *out, size_t cap, bool need_pad)
{
    return chr_base64_decode(s, strlen(s), out, cap, need_pad);
}

static void test_rfc4648_vectors(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof PLAIN / sizeof PLAIN[0]; i++) {
        char b[CHR_BASE64_SIZE(6)];
        uint8_t back[8];
        size_t n = strlen(PLAIN[i]);
        assert_int_equal(chr_base64_encode((const uint8_t *)PLAIN[i], n, b), strlen(CODED[i]));
        assert_string_equal(b, CODED[i]);
        assert_int_equal(dec(CODED[i], back, sizeof back, true), (long)n);
        assert_memory_equal(back, PLAIN[i], n);
        assert_int_equal(dec(CODED[i], back, sizeof back, false), (long)n);
    }
}

static void test_uuid_and_refusals(void **state)
{
    (void)state;
    uint8_t out[20];
    assert_int_equal(dec("+/8AAAAAAAAAAAAAAAAAAA==", out, sizeof out, true), 16);
    assert_int_equal(out[0], 0xfb);
    assert_int_equal(out[1], 0xff);
    char b[32];
    chr_base64_encode(out, 16, b);
    assert_string_equal(b, "+/8AAAAAAAAAAAAAAAAAAA==");
    assert_int_equal(dec("Zm9=", out, sizeof out, true), -1); /* stray bits */
    assert_int_equal(dec("Zm9", out, sizeof out, false), -1);
    assert_int_equal(dec("Zm8", out, sizeof out, true), -1);  /* padding missing */
    assert_int_equal(dec("Z=8=", out, sizeof out, true), -1);
    assert_int_equal(dec("Zm8=Zm8=", out, sizeof out, true), -1);
    assert_int_equal(dec("Zm8-", out, sizeof out, true), -1);
    assert_int_equal(dec("Zm8 ", out, sizeof out, false), -1);
    assert_int_equal(dec("Z", out, sizeof out, false), -1);   /* a length no encoder makes */
    assert_int_equal(dec("Zm8==", out, sizeof out, false), -1);
    assert_int_equal(dec("Zm9vYmFy", out, 5, false), -1);     /* no room */
    assert_int_equal(dec("Zm9vYmFy", out, 6, false), 6);
}

static void test_padding_optional(void **state)
{
    (void)state;
    uint8_t out[8];
    /* HTTP Basic: "user:pw" sent without its padding is still read. */
    assert_int_equal(dec("dXNlcjpwdw", out, sizeof out, false), 7);
    assert_memory_equal(out, "user:pw", 7);
    assert_int_equal(dec("dXNlcjpwdw", out, sizeof out, true), -1);
    assert_int_equal(dec("dXNlcjpwdw==", out, sizeof out, true), 7);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rfc4648_vectors),
        cmocka_unit_test(test_uuid_and_refusals),
        cmocka_unit_test(test_padding_optional),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
