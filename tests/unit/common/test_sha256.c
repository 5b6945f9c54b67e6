/*
 * test_sha256.c - SHA-256 against FIPS 180-4's examples (one block, two
 * blocks, a million 'a's fed in uneven pieces, the empty message) and
 * HMAC-SHA256 against RFC 4231's test cases 1, 2, 4 and 6 (a key longer
 * than a block is hashed first).
 */
#include "../unit.h"

#include <string.h>

#include "common/sha256.h"

static void hex_of(const uint8_t d[CHR_SHA256_LEN], char out[2 * CHR_SHA256_LEN + 1])
{
    chr_hex(d, CHR_SHA256_LEN, out);
}

static void check(const char *msg, size_t len, const char *want)
{
    uint8_t d[CHR_SHA256_LEN];
    char h[2 * CHR_SHA256_LEN + 1];
    chr_sha256(msg, len, d);
    hex_of(d, h);
    assert_string_equal(h, want);
}

static void test_fips_vectors(void **state)
{
    (void)state;
    check("", 0, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    check("abc", 3, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    const char *two = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
    check(two, strlen(two), "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
}

static void test_million_a_in_pieces(void **state)
{
    (void)state;
    char a[997];
    memset(a, 'a', sizeof a);
    struct chr_sha256 s;
    chr_sha256_init(&s);
    size_t left = 1000000, step = 1;
    while (left > 0) { /* uneven pieces cross block boundaries everywhere */
        size_t n = step < left ? step : left;
        chr_sha256_update(&s, a, n);
        left -= n;
        step = step % 997 + 1;
    }
    uint8_t d[CHR_SHA256_LEN];
    char h[2 * CHR_SHA256_LEN + 1];
    chr_sha256_final(&s, d);
    hex_of(d, h);
    assert_string_equal(h, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

static void hmac_check(const void *key, size_t klen, const void *msg, size_t mlen,
                       const char *want)
{
    uint8_t d[CHR_SHA256_LEN];
    char h[2 * CHR_SHA256_LEN + 1];
    chr_hmac_sha256(key, klen, msg, mlen, d);
    hex_of(d, h);
    assert_string_equal(h, want);
}

static void test_rfc4231(void **state)
{
    (void)state;
    uint8_t k1[20];
    memset(k1, 0x0b, sizeof k1);
    hmac_check(k1, sizeof k1, "Hi There", 8,
               "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7");
    hmac_check("Jefe", 4, "what do ya want for nothing?", 28,
               "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
    uint8_t k4[25], m4[50];
    for (int i = 0; i < 25; i++)
        k4[i] = (uint8_t)(i + 1);
    memset(m4, 0xcd, sizeof m4);
    hmac_check(k4, sizeof k4, m4, sizeof m4,
               "82558a389a443c0ea4cc819899f2083a85f0faa3e578f8077a2e3ff46729665b");
    uint8_t k6[131];
    memset(k6, 0xaa, sizeof k6);
    const char *m6 = "Test Using Larger Than Block-Size Key - Hash Key First";
    hmac_check(k6, sizeof k6, m6, strlen(m6),
               "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fips_vectors),
        cmocka_unit_test(test_million_a_in_pieces),
        cmocka_unit_test(test_rfc4231),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
