/*
 * test_path.c - store paths (zkstore/path.c): which paths are valid, the
 * name encoding (round trips for every byte and pair of bytes and random
 * strings, canonical decoding, no path traversal), the shard hash and the
 * shard paths; and the CRC-32C of the log (zkstore/crc32c.c).
 *
 * Expected hashes were computed independently with Python (FNV-1a 32 folded
 * as `h ^= h >> 16; h ^= h >> 8; h & 0xff`), never printed by our own code.
 */
#include "../unit.h"

#include <stdbool.h>
#include <stdlib.h>

#include "zkstore/store.h"
#include "zkstore/store_int.h"

/* ---- helpers ------------------------------------------------------------ */

static uint64_t rng_next(uint64_t *s)
{
    /* xorshift64*: deterministic, seeded by the test. */
    *s ^= *s >> 12;
    *s ^= *s << 25;
    *s ^= *s >> 27;
    return *s * 2685821657736338717ull;
}

/* Encodes, checks the component is a valid path component, decodes back. */
static void assert_round_trip(const unsigned char *name, size_t len)
{
    char enc[CHR_STORE_NAME_MAX + 1];
    assert_int_equal(chr_store_name_encode(name, len, enc), CHR_OK);
    char path[CHR_STORE_NAME_MAX + 3] = "/";
    memcpy(path + 1, enc, strlen(enc) + 1);
    if (!chr_store_path_valid(path))
        fail_msg("encoding '%s' is not a valid component", enc);
    unsigned char dec[CHR_STORE_NAME_MAX];
    size_t n = 0;
    assert_int_equal(chr_store_name_decode(enc, dec, sizeof dec, &n), CHR_OK);
    assert_int_equal(n, len);
    assert_memory_equal(dec, name, len);
}

static void assert_encodes(const char *name, size_t len, const char *want)
{
    char enc[CHR_STORE_NAME_MAX + 1];
    assert_int_equal(chr_store_name_encode(name, len, enc), CHR_OK);
    assert_string_equal(enc, want);
}

static void assert_decode_rejects(const char *comp)
{
    unsigned char out[CHR_STORE_NAME_MAX];
    size_t n = 99;
    if (chr_store_name_decode(comp, out, sizeof out, &n) != CHR_EINVAL)
        fail_msg("decode accepted non-canonical '%s'", comp);
    assert_int_equal(n, 0);
}

/* ---- paths ---------------------------------------------------------------- */

static void test_valid_paths(void **state)
{
    (void)state;
    const char *ok[] = {"/", "/a", "/chronos/jobs/3f/x", "/a.b", "/%2E", "/a/zookeeper",
                        "/a-b_c/~d", "/..a", "/a.."};
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++)
        if (!chr_store_path_valid(ok[i]))
            fail_msg("'%s' should be valid", ok[i]);
}

static void test_invalid_paths(void **state)
{
    (void)state;
    const char *bad[] = {"", "a", "a/b", "//", "/a/", "/a//b", "/.", "/..", "/a/../b",
                         "/a/./b", "/../etc/passwd", "/zookeeper", "/zookeeper/x",
                         "/a b", "/a\x01", "/a\x7f", "/a\x80", "/\xff"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        if (chr_store_path_valid(bad[i]))
            fail_msg("'%s' should be invalid", bad[i]);
    assert_false(chr_store_path_valid(NULL));
}

static void test_path_lengths(void **state)
{
    (void)state;
    char p[CHR_STORE_PATH_MAX + 8];
    /* One component of exactly CHR_STORE_NAME_MAX bytes, then one more. */
    p[0] = '/';
    memset(p + 1, 'x', CHR_STORE_NAME_MAX);
    p[1 + CHR_STORE_NAME_MAX] = '\0';
    assert_true(chr_store_path_valid(p));
    p[1 + CHR_STORE_NAME_MAX] = 'x';
    p[2 + CHR_STORE_NAME_MAX] = '\0';
    assert_false(chr_store_path_valid(p));
    /* "/a/a/.../aa" of CHR_STORE_PATH_MAX - 1 bytes is valid, one more is not. */
    for (size_t i = 0; i < CHR_STORE_PATH_MAX; i++)
        p[i] = i % 2 == 0 ? '/' : 'a';
    p[CHR_STORE_PATH_MAX - 2] = 'a';
    p[CHR_STORE_PATH_MAX - 1] = '\0';
    assert_true(chr_store_path_valid(p));
    p[CHR_STORE_PATH_MAX - 1] = 'a';
    p[CHR_STORE_PATH_MAX] = '\0';
    assert_false(chr_store_path_valid(p));
}

static void test_parent_len(void **state)
{
    (void)state;
    assert_int_equal(chr_store_parent_len("/a", 2), 1);
    assert_int_equal(chr_store_parent_len("/a/b", 4), 2);
    assert_int_equal(chr_store_parent_len("/abc/def/g", 10), 8);
}

/* ---- name encoding ------------------------------------------------------------ */

static void test_encode_examples(void **state)
{
    (void)state;
    assert_encodes("nightly.backup-2", 16, "nightly.backup-2");
    assert_encodes("A_z-0", 5, "A_z-0");
    assert_encodes(".hidden", 7, "%2Ehidden");
    assert_encodes(".", 1, "%2E");
    assert_encodes("..", 2, "%2E.");
    assert_encodes("...", 3, "%2E..");
    assert_encodes("a/b", 3, "a%2Fb");
    assert_encodes("../../etc/passwd", 16, "%2E.%2F..%2Fetc%2Fpasswd"); /* one component */
    assert_encodes("a\0b", 3, "a%00b");
    assert_encodes("%", 1, "%25");
    assert_encodes("a b", 3, "a%20b");
    assert_encodes("\xff\x80", 2, "%FF%80");
    assert_encodes("caf\xc3\xa9", 5, "caf%C3%A9");
}

static void test_encode_limits(void **state)
{
    (void)state;
    char enc[CHR_STORE_NAME_MAX + 1];
    unsigned char buf[300];
    assert_int_equal(chr_store_name_encode("", 0, enc), CHR_EINVAL);
    assert_string_equal(enc, "");
    memset(buf, 0xff, sizeof buf);
    assert_int_equal(chr_store_name_encode(buf, 85, enc), CHR_OK); /* 255 bytes */
    assert_int_equal(strlen(enc), 255);
    assert_int_equal(chr_store_name_encode(buf, 86, enc), CHR_ERANGE);
    assert_string_equal(enc, "");
    /* The longest valid job name, starting with '.', fits (202 bytes). */
    memset(buf, 'a', 200);
    buf[0] = '.';
    assert_int_equal(chr_store_name_encode(buf, 200, enc), CHR_OK);
    assert_int_equal(strlen(enc), 202);
}

static void test_round_trip_every_byte_and_pair(void **state)
{
    (void)state;
    for (unsigned a = 0; a < 256; a++) {
        unsigned char one[1] = {(unsigned char)a};
        assert_round_trip(one, 1);
        for (unsigned b = 0; b < 256; b++) {
            unsigned char two[2] = {(unsigned char)a, (unsigned char)b};
            assert_round_trip(two, 2);
        }
    }
}

static void test_round_trip_random(void **state)
{
    (void)state;
    uint64_t seed = 0x9e3779b97f4a7c15ull;
    unsigned char buf[85];
    for (int i = 0; i < 20000; i++) {
        size_t len = 1 + rng_next(&seed) % sizeof buf;
        bool job_chars = i % 2 == 0; /* half from the job-name alphabet */
        for (size_t k = 0; k < len; k++) {
            uint64_t r = rng_next(&seed);
            buf[k] = job_chars ? (unsigned char)"ab.Z9_-."[r % 8] : (unsigned char)r;
        }
        assert_round_trip(buf, len);
    }
}

static void test_decode_rejects_non_canonical(void **state)
{
    (void)state;
    const char *bad[] = {"",    "%2e",   "%41", ".a",  "a%2Eb", "%",   "%4",  "%G0",
                         "a b", "a/b",   ".",   "..",  "%2E%2E", "%5F", "a%ZZ", "\x80"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_decode_rejects(bad[i]);
    unsigned char out[2];
    size_t n = 0;
    assert_int_equal(chr_store_name_decode("abc", out, sizeof out, &n), CHR_ERANGE);
    assert_int_equal(chr_store_name_decode("%2E.", out, sizeof out, &n), CHR_OK);
    assert_int_equal(n, 2);
    assert_memory_equal(out, "..", 2);
}

/* ---- shards and shard paths --------------------------------------------------- */

static void test_shard_vectors(void **state)
{
    (void)state;
    /* FNV-1a 32: "" 0x811c9dc5, "a" 0xe40c292c (the published vectors). */
    assert_int_equal(chr_store_shard("", 0), 0xc5);
    assert_int_equal(chr_store_shard("a", 1), 0xed);
    assert_int_equal(chr_store_shard("nightly", 7), 0x7b);
    assert_int_equal(chr_store_shard("job-0", 5), 0x31);
    assert_int_equal(chr_store_shard("..", 2), 0xdd);
    assert_int_equal(chr_store_shard("a\0b", 3), 0x9a);
}

static void test_shard_spread(void **state)
{
    (void)state;
    unsigned counts[CHR_STORE_SHARDS] = {0};
    char name[32];
    for (int i = 0; i < 100000; i++) {
        int n = snprintf(name, sizeof name, "job-%d", i);
        counts[chr_store_shard(name, (size_t)n)]++;
    }
    /* Mean 390.6, sd ~19.7; Python saw 339..449.  Allow ~ +-5 sd. */
    for (unsigned s = 0; s < CHR_STORE_SHARDS; s++)
        if (counts[s] < 290 || counts[s] > 490)
            fail_msg("shard %02x holds %u of 100000 names", s, counts[s]);
}

static void test_job_path(void **state)
{
    (void)state;
    char out[CHR_STORE_PATH_MAX];
    assert_int_equal(chr_store_job_path(out, "/chronos", "nightly"), CHR_OK);
    assert_string_equal(out, "/chronos/jobs/7b/nightly");
    assert_int_equal(chr_store_job_path(out, "/", "a"), CHR_OK);
    assert_string_equal(out, "/jobs/ed/a");
    assert_int_equal(chr_store_job_path(out, "/chronos", ".."), CHR_OK);
    assert_string_equal(out, "/chronos/jobs/dd/%2E.");
    assert_int_equal(chr_store_shard_path(out, "/c", "state", "a\0b", 3), CHR_OK);
    assert_string_equal(out, "/c/state/9a/a%00b");
}

static void test_job_path_no_traversal(void **state)
{
    (void)state;
    const char *names[] = {"../../etc/passwd", "/", "a/../../b", ".", "..", "x/y/z"};
    char out[CHR_STORE_PATH_MAX];
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        assert_int_equal(chr_store_job_path(out, "/chronos", names[i]), CHR_OK);
        assert_true(chr_store_path_valid(out));
        /* Exactly /chronos/jobs/<shard>/<one component>. */
        int slashes = 0;
        for (const char *p = out; *p; p++)
            slashes += *p == '/';
        assert_int_equal(slashes, 4);
        assert_memory_equal(out, "/chronos/jobs/", 14);
    }
}

static void test_job_path_rejects(void **state)
{
    (void)state;
    char out[CHR_STORE_PATH_MAX];
    assert_int_equal(chr_store_job_path(out, "chronos", "a"), CHR_EINVAL);
    assert_string_equal(out, "");
    assert_int_equal(chr_store_job_path(out, "/chronos/", "a"), CHR_EINVAL);
    assert_int_equal(chr_store_job_path(out, "/chronos", ""), CHR_EINVAL);
    assert_int_equal(chr_store_job_path(out, "/chronos", NULL), CHR_EINVAL);
    assert_int_equal(chr_store_shard_path(out, "/c", "a/b", "x", 1), CHR_EINVAL);
    assert_int_equal(chr_store_shard_path(out, "/c", "..", "x", 1), CHR_EINVAL);
    char root[CHR_STORE_ROOT_MAX + 2];
    root[0] = '/';
    memset(root + 1, 'r', CHR_STORE_ROOT_MAX);
    root[CHR_STORE_ROOT_MAX + 1] = '\0';
    assert_int_equal(chr_store_job_path(out, root, "a"), CHR_EINVAL);
    char name[100];
    memset(name, ' ', sizeof name - 1); /* 99 bytes -> 297 encoded */
    name[99] = '\0';
    assert_int_equal(chr_store_job_path(out, "/c", name), CHR_ERANGE);
}

/* ---- CRC-32C -------------------------------------------------------------------- */

static void test_crc32c(void **state)
{
    (void)state;
    /* The standard check value of CRC-32C (RFC 3720 B.4 family). */
    assert_int_equal(chr_crc32c(0, "123456789", 9), 0xe3069283u);
    assert_int_equal(chr_crc32c(0, "", 0), 0);
    /* 32 zero bytes: 0x8a9136aa (RFC 3720 B.4). */
    unsigned char z[32] = {0};
    assert_int_equal(chr_crc32c(0, z, sizeof z), 0x8a9136aau);
    /* Incremental equals one-shot for every split of 100 bytes. */
    unsigned char buf[100];
    for (int i = 0; i < 100; i++)
        buf[i] = (unsigned char)(i * 7 + 3);
    uint32_t whole = chr_crc32c(0, buf, sizeof buf);
    for (size_t k = 0; k <= sizeof buf; k++)
        assert_int_equal(chr_crc32c(chr_crc32c(0, buf, k), buf + k, sizeof buf - k), whole);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_valid_paths),
        cmocka_unit_test(test_invalid_paths),
        cmocka_unit_test(test_path_lengths),
        cmocka_unit_test(test_parent_len),
        cmocka_unit_test(test_encode_examples),
        cmocka_unit_test(test_encode_limits),
        cmocka_unit_test(test_round_trip_every_byte_and_pair),
        cmocka_unit_test(test_round_trip_random),
        cmocka_unit_test(test_decode_rejects_non_canonical),
        cmocka_unit_test(test_shard_vectors),
        cmocka_unit_test(test_shard_spread),
        cmocka_unit_test(test_job_path),
        cmocka_unit_test(test_job_path_no_traversal),
        cmocka_unit_test(test_job_path_rejects),
        cmocka_unit_test(test_crc32c),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
