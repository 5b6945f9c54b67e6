/*
 * test_pack.c - the pack codec (zkstore/pack.c): round trips of packs of 0,
 * 1 and 200 entries holding arbitrary bytes and extreme numbers, lookups,
 * the exact bytes of a tiny pack, entry sizes, every refusal of encode and
 * decode (bad entries, size limits, every truncation and every flipped byte
 * of a valid pack, hand-written bodies wrong in exactly one way but carrying
 * a valid checksum) and allocation failures.
 *
 * Expected bytes are written by hand from the format comment in pack.h; the
 * checksums of hand-written bodies come from chr_crc32c (checked against
 * known vectors in test_path.c).  The names used in hand-written packs were
 * put in their shards by an independent Python FNV-1a 32 (folded as store.h
 * says): "job-429", "job-56", "k242", "x y 134" (x%20y%20134) and "p/259"
 * (p%2F259) are of shard 0xa7, "job-0" of shard 0x31.
 */
#include "../unit.h"

#include <inttypes.h>
#include <stdbool.h>
#include <stdlib.h>

#include "common/alloc.h"
#include "zkstore/pack.h"
#include "zkstore/store.h"
#include "zkstore/store_int.h"

#define SHARD 0xa7u
#define BIG ((size_t)1 << 30)
#define MANY 200
#define LIT(s) s, sizeof(s) - 1

/* ---- helpers ------------------------------------------------------------ */

static uint64_t rng_next(uint64_t *s)
{
    *s ^= *s >> 12; /* xorshift64*, seeded by the test */
    *s ^= *s << 25;
    *s ^= *s >> 27;
    return *s * 2685821657736338717ull;
}

static int cmp_name(const void *a, const void *b)
{
    return strcmp(a, b);
}

/* The first `want` generated names whose raw bytes fall in `shard`, encoded
 * and sorted: plain ones, ones with spaces, ones with a leading '.' and '/'. */
static void names_of_shard(unsigned shard, size_t want, char (*out)[CHR_STORE_NAME_MAX + 1])
{
    size_t got = 0;
    for (unsigned i = 0; got < want; i++) {
        assert_true(i < 1000000);
        char raw[32];
        int len = i % 3 == 0   ? snprintf(raw, sizeof raw, "job-%u", i)
                  : i % 3 == 1 ? snprintf(raw, sizeof raw, "x y %u", i)
                               : snprintf(raw, sizeof raw, ".n/%u", i);
        if (chr_store_shard(raw, (size_t)len) != shard)
            continue;
        assert_int_equal(chr_store_name_encode(raw, (size_t)len, out[got]), CHR_OK);
        got++;
    }
    qsort(out, want, sizeof *out, cmp_name);
}

/* A hand-written body followed by its trailer "crc32c <8 lowercase hex>\n". */
struct sealed {
    char b[1024];
    size_t len;
};

static void seal(struct sealed *s, const char *body, size_t blen)
{
    assert_true(blen + 17 <= sizeof s->b);
    memcpy(s->b, body, blen);
    snprintf(s->b + blen, 17, "crc32c %08" PRIx32 "\n", chr_crc32c(0, body, blen));
    s->len = blen + 16;
}

static void assert_same_pack(const struct chr_pack *got, const struct chr_pack *want)
{
    assert_int_equal(got->shard, want->shard);
    assert_true(got->ext_a == want->ext_a && got->ext_b == want->ext_b);
    assert_int_equal(got->n, want->n);
    for (size_t i = 0; i < want->n; i++) {
        const struct chr_pack_entry *g = &got->e[i], *w = &want->e[i];
        assert_string_equal(g->name, w->name);
        assert_int_equal(g->ver_a, w->ver_a);
        assert_int_equal(g->len_a, w->len_a);
        assert_int_equal(g->ver_b, w->ver_b);
        assert_int_equal(g->len_b, w->len_b);
        if (w->len_a > 0)
            assert_memory_equal(g->a, w->a, w->len_a);
        if (w->len_b > 0)
            assert_memory_equal(g->b, w->b, w->len_b);
    }
}

/* Every name is found (its own entry); "!" sorts before every encoded name,
 * "~" after, and "<name>!" between a name and the next. */
static void assert_lookups(const struct chr_pack *p)
{
    assert_null(chr_pack_find(p, "!"));
    assert_null(chr_pack_find(p, "~"));
    for (size_t i = 0; i < p->n; i++) {
        char between[CHR_STORE_NAME_MAX + 2];
        assert_ptr_equal(chr_pack_find(p, p->e[i].name), &p->e[i]);
        snprintf(between, sizeof between, "%s!", p->e[i].name);
        assert_null(chr_pack_find(p, between));
    }
}

/* Encodes, frees the encoding once decoded (decode keeps its own copy),
 * compares, looks every name up. */
static void assert_round_trip(const struct chr_pack *p)
{
    char *buf = NULL;
    size_t len = 0;
    struct chr_pack got;
    struct chr_error err = {{0}, {0}};
    assert_int_equal(chr_pack_encode(p, BIG, &buf, &len), CHR_OK);
    enum chr_err rc = chr_pack_decode(buf, len, p->shard, &got, &err);
    chr_free(buf);
    if (rc != CHR_OK)
        fail_msg("decode of an encoded pack: %d (%s)", rc, err.message);
    assert_same_pack(&got, p);
    assert_lookups(&got);
    chr_pack_free(&got);
    assert_int_equal(got.n, 0);
    assert_null(got.e);
    assert_null(got.buf);
}

/* Decode must refuse with CHR_EINVAL and a message and leave *out empty
 * (freeing it, even twice, is harmless).  NULL when it does, else what went
 * wrong, so a table of cases can report every case that fails. */
static const char *refusal_problem(const void *buf, size_t len, unsigned shard)
{
    struct chr_pack p;
    struct chr_error err = {{0}, {0}};
    memset(&p, 0x5a, sizeof p);
    enum chr_err rc = chr_pack_decode(buf, len, shard, &p, &err);
    if (rc == CHR_OK)
        chr_pack_free(&p);
    if (rc != CHR_EINVAL)
        return rc == CHR_OK ? "accepted" : "not CHR_EINVAL";
    if (err.message[0] == '\0')
        return "refused without a message";
    if (p.n != 0 || p.e != NULL || p.buf != NULL)
        return "output not emptied";
    chr_pack_free(&p);
    chr_pack_free(&p);
    return NULL;
}

static void assert_refused(const void *buf, size_t len, unsigned shard, const char *what)
{
    const char *problem = refusal_problem(buf, len, shard);
    if (problem != NULL)
        fail_msg("%s: %s", what, problem);
}

/* Five entries of SHARD, with absent companions and empty data. */
static struct chr_pack_entry five_e[5];
static char five_names[5][CHR_STORE_NAME_MAX + 1];

static struct chr_pack five_pack(void)
{
    names_of_shard(SHARD, 5, five_names);
    for (int i = 0; i < 5; i++)
        five_e[i] = (struct chr_pack_entry){five_names[i], i * 3, "A\n\0 z\xff", (size_t)i,
                                            i % 2 ? -1 : i, "\n\n", i % 2 ? 0 : 2};
    return (struct chr_pack){SHARD, -2, 77, 5, five_e, NULL, 0, 0, 0};
}

/* ---- round trips ---------------------------------------------------------- */

static void test_round_trip_empty_and_one(void **state)
{
    (void)state;
    struct chr_pack empty = {SHARD, -1, INT64_MAX, 0, NULL, NULL, 0, 0, 0};
    assert_round_trip(&empty);
    assert_null(chr_pack_find(&empty, "job-56"));

    struct chr_pack_entry one = {"job-56", INT32_MAX, "", 0, -1, NULL, 0};
    struct chr_pack p = {SHARD, 0, 0, 1, &one, NULL, 0, 0, 0};
    assert_round_trip(&p);
    one = (struct chr_pack_entry){"x%20y%20134", 0, "\0\n ", 3, INT32_MAX, "\xff\0", 2};
    p.ext_a = -123456789012345;
    assert_round_trip(&p);
}

static void test_round_trip_many(void **state)
{
    (void)state;
    static char names[MANY][CHR_STORE_NAME_MAX + 1];
    static unsigned char data[MANY][2][48];
    static struct chr_pack_entry e[MANY];
    static const unsigned char special[] = {0, '\n', ' ', 0xff, '\r', 0x80};
    uint64_t seed = 0x9e3779b97f4a7c15ull;
    names_of_shard(SHARD, MANY, names);
    for (int i = 0; i < MANY; i++) {
        for (int k = 0; k < 48; k++)
            data[i][0][k] = data[i][1][k] = k < 3 ? special[(i + k) % 6]
                                                  : (unsigned char)rng_next(&seed);
        data[i][1][0] ^= 0x55;
        bool absent = i % 5 == 0;
        e[i] = (struct chr_pack_entry){names[i],
                                       i % 11 == 0 ? INT32_MAX : i * 7,
                                       (const char *)data[i][0],
                                       i % 7 == 0 ? 0 : (size_t)(rng_next(&seed) % 48),
                                       absent ? -1 : i % 13 == 0 ? INT32_MAX : i % 3,
                                       (const char *)data[i][1],
                                       absent ? 0 : (size_t)(rng_next(&seed) % 48)};
    }
    struct chr_pack p = {SHARD, -7, INT64_MAX, MANY, e, NULL, 0, 0, 0};
    assert_round_trip(&p);
    p.ext_a = INT64_MAX - 1;
    p.ext_b = -INT64_MAX;
    assert_round_trip(&p);

    /* Encoded length = header + entry sizes + trailer. */
    char *buf = NULL, head[128];
    size_t len = 0, want = (size_t)snprintf(head, sizeof head, "chronos-pack 1 %02x %" PRId64
                                                               " %" PRId64 " %d\n",
                                            SHARD, p.ext_a, p.ext_b, MANY);
    for (int i = 0; i < MANY; i++)
        want += chr_pack_entry_size(&e[i]);
    assert_int_equal(chr_pack_encode(&p, BIG, &buf, &len), CHR_OK);
    assert_int_equal(len, want + strlen("crc32c 00000000\n"));
    assert_memory_equal(buf, head, strlen(head));
    chr_free(buf);
}

/* ---- the exact bytes -------------------------------------------------------- */

/* p encodes to exactly BODY sealed, and those bytes decode back to p, into
 * *got (the caller checks what else it wants, then frees it). */
static void exact_roundtrip(const char *body, size_t blen, const struct chr_pack *p,
                            struct chr_pack *got)
{
    struct sealed want;
    seal(&want, body, blen);
    char *buf = NULL;
    size_t len = 0;
    assert_int_equal(chr_pack_encode(p, BIG, &buf, &len), CHR_OK);
    assert_int_equal(len, want.len);
    assert_memory_equal(buf, want.b, want.len);
    chr_free(buf);
    struct chr_error err = {{0}, {0}};
    assert_int_equal(chr_pack_decode(want.b, want.len, SHARD, got, &err), CHR_OK);
    assert_same_pack(got, p);
}

static void test_exact_bytes(void **state)
{
    (void)state;
    static const char body[] = "chronos-pack 1 a7 -5 9000000000 2\n"
                               "job-429 0 3 -1 0\n" "a\0b" "\n"
                               "k242 2147483647 0 7 2\n" "\n " "\n";
    struct chr_pack_entry e[2] = {{"job-429", 0, "a\0b", 3, -1, NULL, 0},
                                  {"k242", INT32_MAX, NULL, 0, 7, "\n ", 2}};
    struct chr_pack p = {SHARD, -5, 9000000000, 2, e, NULL, 0, 0, 0};
    struct chr_pack got;
    exact_roundtrip(LIT(body), &p, &got);
    chr_pack_free(&got);
}

static void test_entry_size(void **state)
{
    (void)state;
    struct chr_pack_entry e = {"job-429", 12, "abc", 3, -1, NULL, 0};
    /* "job-429 12 3 -1 0\n" (18) + "abc" + "\n" */
    assert_int_equal(chr_pack_entry_size(&e), 22);
    e = (struct chr_pack_entry){"k242", INT32_MAX, "", 917504, INT32_MAX, "", 917504};
    assert_int_equal(chr_pack_entry_size(&e),
                     strlen("k242 2147483647 917504 2147483647 917504\n") + 2 * 917504 + 1);
}

/* ---- encode refusals -------------------------------------------------------- */

static void assert_encode_fails(const struct chr_pack *p, size_t max, enum chr_err want)
{
    char *buf = (char *)"sentinel";
    size_t len = 99;
    assert_int_equal(chr_pack_encode(p, max, &buf, &len), want);
    assert_null(buf);
    assert_int_equal(len, 0);
}

static void test_encode_refusals(void **state)
{
    (void)state;
    struct chr_pack_entry good[2] = {{"job-429", 1, "a", 1, 2, "b", 1},
                                     {"job-56", 1, "a", 1, -1, NULL, 0}};
    struct chr_pack_entry e[2];
    struct chr_pack p = {SHARD, 0, 0, 2, e, NULL, 0, 0, 0};
    struct { int at; struct chr_pack_entry bad; } cases[] = {
        {1, {"job-429", 1, "a", 1, -1, NULL, 0}},  /* duplicate */
        {0, {"k242", 1, "a", 1, -1, NULL, 0}},     /* after the second */
        {0, {"job-0", 1, "a", 1, -1, NULL, 0}},    /* of shard 0x31 */
        {0, {"job-429", -1, "a", 1, -1, NULL, 0}}, /* ver_a < 0 */
        {0, {"job-429", 1, "a", 1, -2, NULL, 0}},  /* ver_b < -1 */
        {0, {"job-429", 1, "a", 1, -1, "b", 1}},   /* absent companion with bytes */
        {0, {"job-429", 1, NULL, 1, -1, NULL, 0}}, /* bytes at NULL */
        {0, {"p%2f259", 1, "a", 1, -1, NULL, 0}},  /* lower-case hex */
        {0, {"%6B242", 1, "a", 1, -1, NULL, 0}},   /* 'k' escaped */
        {0, {"", 1, "a", 1, -1, NULL, 0}},
        {0, {NULL, 1, "a", 1, -1, NULL, 0}},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        memcpy(e, good, sizeof e);
        e[cases[i].at] = cases[i].bad;
        assert_encode_fails(&p, BIG, CHR_EINVAL);
    }
    memcpy(e, good, sizeof e);
    struct chr_pack other = {SHARD + 1, 0, 0, 2, e, NULL, 0, 0, 0};
    assert_encode_fails(&other, BIG, CHR_EINVAL);
    other = (struct chr_pack){CHR_STORE_SHARDS, 0, 0, 0, NULL, NULL, 0, 0, 0};
    assert_encode_fails(&other, BIG, CHR_EINVAL);
    other = (struct chr_pack){SHARD, 0, 0, 1, NULL, NULL, 0, 0, 0};
    assert_encode_fails(&other, BIG, CHR_EINVAL);

    /* The canonical spelling of "p/259" is fine. */
    e[0] = (struct chr_pack_entry){"p%2F259", 1, "a", 1, -1, NULL, 0};
    p.n = 1;
    char *buf = NULL;
    size_t len = 0;
    assert_int_equal(chr_pack_encode(&p, BIG, &buf, &len), CHR_OK);
    chr_free(buf);
}

static void test_encode_limits(void **state)
{
    (void)state;
    struct chr_pack_entry e[2] = {{"job-429", 1, "a", 1, 2, "b", 1},
                                  {"job-56", 1, "a", 1, -1, NULL, 0}};
    struct chr_pack p = {SHARD, 0, 0, 2, e, NULL, 0, 0, 0};
    char *buf = NULL, *again = NULL;
    size_t len = 0, len2 = 0;
    struct chr_pack empty = {SHARD, 0, 0, 0, NULL, NULL, 0, 0, 0};
    /* "chronos-pack 1 a7 0 0 0\n" + trailer = 24 + 16 bytes */
    assert_encode_fails(&empty, 39, CHR_ERANGE);
    assert_int_equal(chr_pack_encode(&empty, 40, &buf, &len), CHR_OK);
    assert_int_equal(len, 40);
    chr_free(buf);

    /* Node-sized data is fine, a byte more is not. */
    char *huge = chr_calloc(1, CHR_STORE_NODE_MAX + 1);
    assert_non_null(huge);
    e[0].a = e[0].b = huge;
    e[0].len_a = e[0].len_b = CHR_STORE_NODE_MAX;
    assert_int_equal(chr_pack_encode(&p, BIG, &buf, &len), CHR_OK);
    chr_free(buf);
    e[0].len_a = CHR_STORE_NODE_MAX + 1;
    assert_encode_fails(&p, BIG, CHR_EINVAL);
    e[0].len_a = 1;
    e[0].len_b = CHR_STORE_NODE_MAX + 1;
    assert_encode_fails(&p, BIG, CHR_EINVAL);
    chr_free(huge);

    /* max: one byte short is CHR_ERANGE, exactly enough (or no limit) is not. */
    e[0] = (struct chr_pack_entry){"job-429", 1, "a", 1, 2, "b", 1};
    assert_int_equal(chr_pack_encode(&p, BIG, &buf, &len), CHR_OK);
    assert_encode_fails(&p, len - 1, CHR_ERANGE);
    assert_int_equal(chr_pack_encode(&p, len, &again, &len2), CHR_OK);
    assert_int_equal(len2, len);
    assert_memory_equal(again, buf, len);
    chr_free(again);
    chr_free(buf);
    /* SIZE_MAX is "no limit": the limit's arithmetic must not wrap. */
    assert_int_equal(chr_pack_encode(&p, SIZE_MAX, &again, &len2), CHR_OK);
    assert_int_equal(len2, len);
    chr_free(again);
}

/* ---- decode refusals -------------------------------------------------------- */

static void test_decode_truncated_and_flipped(void **state)
{
    (void)state;
    struct chr_pack p = five_pack(), got;
    struct chr_error err = {{0}, {0}};
    char *buf = NULL;
    size_t len = 0;
    assert_int_equal(chr_pack_encode(&p, BIG, &buf, &len), CHR_OK);
    assert_int_equal(chr_pack_decode(buf, len, SHARD, &got, &err), CHR_OK);
    assert_same_pack(&got, &p);
    chr_pack_free(&got);
    assert_refused(buf, len, SHARD + 1, "the right pack read as another shard");
    for (size_t n = 0; n < len; n++) {
        char *cut = chr_malloc(n + 1); /* exactly n bytes for ASan, never 0 */
        assert_non_null(cut);
        memcpy(cut, buf, n);
        assert_refused(cut, n, SHARD, "truncated");
        chr_free(cut);
    }
    for (size_t i = 0; i < len; i++) {
        buf[i] ^= 0x01;
        char what[48];
        snprintf(what, sizeof what, "byte %zu flipped", i);
        assert_refused(buf, len, SHARD, what);
        buf[i] ^= 0x01;
    }
    chr_free(buf);
}

#define HDR1(x) "chronos-pack 1 a7 0 0 1\n" x
#define E1 "job-429 0 3 -1 0\nabc\n"
#define E2 "k242 5 0 7 2\n\n \n"

static void test_decode_bad_bodies(void **state)
{
    (void)state;
    /* Positive controls: these decode, so each case below fails for one reason. */
    static const struct { const char *b; size_t len; } ok[] = {
        {LIT("chronos-pack 1 a7 0 0 2\n" E1 E2)},
        {LIT("chronos-pack 1 a7 0 0 0\n")},
        {LIT("chronos-pack 1 a7 -9223372036854775807 9223372036854775807 0\n")},
        {LIT(HDR1("p%2F259 0 0 -1 0\n\n"))},
    };
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        struct sealed s;
        struct chr_pack got;
        struct chr_error err = {{0}, {0}};
        seal(&s, ok[i].b, ok[i].len);
        if (chr_pack_decode(s.b, s.len, SHARD, &got, &err) != CHR_OK)
            fail_msg("control %zu refused: %s", i, err.message);
        chr_pack_free(&got);
    }
    static const struct { const char *b; size_t len; const char *what; } bad[] = {
        {LIT("chronos-pack 1 a8 0 0 2\n" E1 E2), "other shard in header"},
        {LIT("chronos-pack 1 167 0 0 2\n" E1 E2), "shard in decimal"},
        {LIT("chronos-pack 1 a7 0 0 3\n" E1 E2), "count too large"},
        {LIT("chronos-pack 1 a7 0 0 1\n" E1 E2), "count too small"},
        {LIT("chronos-pack 1 a7 0 0 2\n" E2 E1), "out of order"},
        {LIT("chronos-pack 1 a7 0 0 2\n" E1 E1), "duplicate"},
        {LIT(HDR1("job-429 0 50 -1 0\nabc\n")), "data past the end"},
        {LIT(HDR1("job-429 0 2 -1 0\nabc\n")), "data not followed by newline"},
        {LIT(HDR1("job-429 0 3 -1 0\nabcX")), "data followed by X at the end"},
        {LIT(HDR1("job-0 0 3 -1 0\nabc\n")), "name of shard 0x31"},
        {LIT(HDR1("p%2f259 0 0 -1 0\n\n")), "lower-case escape"},
        {LIT(HDR1("%6B242 0 0 -1 0\n\n")), "needless escape"},
        {LIT(HDR1(" 0 3 -1 0\nabc\n")), "empty name"},
        {LIT(HDR1("job-429 007 3 -1 0\nabc\n")), "leading zeros"},
        {LIT(HDR1("job-429 0 03 -1 0\nabc\n")), "leading zero in a length"},
        {LIT("chronos-pack 1 a7 0 0 01\n" E1), "leading zero in the count"},
        {LIT("chronos-pack 1 a7 99999999999999999999 0 0\n"), "20 digits (wraps in 64 bits)"},
        {LIT("chronos-pack 1 a7 9223372036854775808 0 0\n"), "past INT64_MAX"},
        {LIT(HDR1("job-429 2147483648 3 -1 0\nabc\n")), "ver_a past INT32_MAX"},
        {LIT(HDR1("job-429 0 3 4294967297 0\nabc\n")), "ver_b past UINT32_MAX"},
        {LIT("chronos-pack 1 a7 0 0 9223372036854775807\n" E1), "huge count"},
        {LIT(HDR1("job-429 -0 3 -1 0\nabc\n")), "minus zero"},
        {LIT(HDR1("job-429 0 +3 -1 0\nabc\n")), "plus sign"},
        {LIT(HDR1("job-429 0 -3 -1 0\nabc\n")), "negative length"},
        {LIT(HDR1("job-429 -1 3 -1 0\nabc\n")), "ver_a -1"},
        {LIT(HDR1("job-429 0 3 -2 0\nabc\n")), "ver_b -2"},
        {LIT(HDR1("job-429 0 3 -1 2\nabcde\n")), "absent companion with bytes"},
        {LIT(HDR1("job-429  0 3 -1 0\nabc\n")), "two spaces"},
        {LIT(HDR1("job-429 0 3 -1\nabc\n")), "missing field"},
        {LIT("chronos-pack 1 a7 0 0\n"), "header without count"},
        {LIT("chronos-pack 1 a7 0 0 0\r\n"), "CR LF"},
        {LIT("chronos-pack 1 a7 0 0 0\nx"), "bytes after the header"},
        {LIT("chronos-pack 2 a7 0 0 0\n"), "version 2"},
        {LIT("chronos-pak 1 a7 0 0 0\n"), "bad magic"},
        {LIT("CHRONOS-PACK 1 a7 0 0 0\n"), "upper-case magic"},
    };
    int failed = 0;
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        struct sealed s;
        seal(&s, bad[i].b, bad[i].len);
        const char *problem = refusal_problem(s.b, s.len, SHARD);
        if (problem != NULL)
            print_error("%s: %s\n", bad[i].what, problem), failed++;
    }
    assert_int_equal(failed, 0);

    /* Damage to the trailer itself. */
    struct sealed s;
    seal(&s, LIT("chronos-pack 1 a7 0 0 2\n" E1 E2));
    s.b[s.len] = 'x';
    assert_refused(s.b, s.len + 1, SHARD, "a byte after the trailer");
    assert_refused(s.b, s.len - 1, SHARD, "trailer without newline");
    bool upper = false;
    for (size_t i = s.len - 9; i < s.len - 1; i++)
        if (s.b[i] >= 'a' && s.b[i] <= 'f')
            s.b[i] = (char)(s.b[i] - 'a' + 'A'), upper = true;
    assert_true(upper); /* this body's checksum has a letter */
    assert_refused(s.b, s.len, SHARD, "upper-case checksum");
}

static void test_decode_bad_args(void **state)
{
    (void)state;
    struct sealed s;
    seal(&s, LIT("chronos-pack 1 a7 0 0 0\n"));
    assert_refused(s.b, s.len, CHR_STORE_SHARDS, "shard 256");
    assert_refused(NULL, s.len, SHARD, "NULL buffer");
    chr_pack_free(NULL);
}

/* ---- allocation failures ---------------------------------------------------- */

static void test_alloc_failures(void **state)
{
    (void)state;
    struct chr_pack p = five_pack(), got;
    struct chr_error err;
    char *want = NULL, *buf;
    size_t want_len = 0, len;
    assert_int_equal(chr_pack_encode(&p, BIG, &want, &want_len), CHR_OK);
    long n;
    for (n = 1; n < 100; n++) {
        chr_alloc_fail_after(n);
        enum chr_err rc = chr_pack_encode(&p, BIG, &buf, &len);
        chr_alloc_fail_after(-1);
        if (rc == CHR_ENOMEM) {
            assert_null(buf);
            continue;
        }
        assert_int_equal(rc, CHR_OK);
        assert_int_equal(len, want_len);
        assert_memory_equal(buf, want, len);
        chr_free(buf);
        break;
    }
    assert_true(n > 1 && n < 100);
    for (n = 1; n < 100; n++) {
        chr_alloc_fail_after(n);
        enum chr_err rc = chr_pack_decode(want, want_len, SHARD, &got, &err);
        chr_alloc_fail_after(-1);
        if (rc == CHR_ENOMEM) {
            assert_int_equal(got.n, 0);
            assert_null(got.e);
            assert_null(got.buf);
            chr_pack_free(&got);
            continue;
        }
        assert_int_equal(rc, CHR_OK);
        assert_same_pack(&got, &p);
        chr_pack_free(&got);
        break;
    }
    assert_true(n > 2 && n < 100); /* the copy and the entry array */
    chr_free(want);
}

/* Last: reading "-9223372036854775808" must not negate INT64_MIN (signed
 * overflow aborts the sanitizer build, and with it the tests after it). */
static void test_round_trip_int64_min(void **state)
{
    (void)state;
    struct chr_pack p = {SHARD, INT64_MIN, INT64_MIN, 0, NULL, NULL, 0, 0, 0};
    assert_round_trip(&p);
}

/* ---- parts (format 2) ------------------------------------------------------- */

/* A part of a pack of several: its exact bytes, and back; format 1 decodes as
 * part 0 of 1, gen 0. */
static void test_parts_exact_bytes(void **state)
{
    (void)state;
    static const char body[] = "chronos-pack 2 a7 -5 9000000000 2 1 3 42\n"
                               "job-429 0 3 -1 0\n" "a\0b" "\n"
                               "k242 2147483647 0 7 2\n" "\n " "\n";
    struct chr_pack_entry e[2] = {{"job-429", 0, "a\0b", 3, -1, NULL, 0},
                                  {"k242", INT32_MAX, NULL, 0, 7, "\n ", 2}};
    struct chr_pack p = {SHARD, -5, 9000000000, 2, e, NULL, 1, 3, 42};
    struct chr_pack got;
    exact_roundtrip(LIT(body), &p, &got);
    assert_true(got.part == 1 && got.parts == 3 && got.gen == 42);
    chr_pack_free(&got);
    /* One part: format 1, as before parts. */
    char *buf = NULL;
    size_t len = 0;
    struct chr_error err = {{0}, {0}};
    p.part = 0, p.parts = 1, p.gen = 7;
    assert_int_equal(chr_pack_encode(&p, BIG, &buf, &len), CHR_OK);
    assert_memory_equal(buf, "chronos-pack 1 a7 ", 18);
    assert_int_equal(chr_pack_decode(buf, len, SHARD, &got, &err), CHR_OK);
    assert_true(got.part == 0 && got.parts == 1 && got.gen == 0);
    chr_pack_free(&got);
    chr_free(buf);
}

static void test_parts_refusals(void **state)
{
    (void)state;
    struct chr_pack p = five_pack();
    char *buf = NULL;
    size_t len = 0;
    p.part = 3, p.parts = 3; /* part past the count */
    assert_int_equal(chr_pack_encode(&p, BIG, &buf, &len), CHR_EINVAL);
    p.part = 0, p.parts = CHR_PACK_PARTS_MAX + 1;
    assert_int_equal(chr_pack_encode(&p, BIG, &buf, &len), CHR_EINVAL);
    p.parts = 2, p.gen = -1;
    assert_int_equal(chr_pack_encode(&p, BIG, &buf, &len), CHR_EINVAL);
    assert_null(buf);
    static const struct { const char *b; size_t len; const char *what; } bad[] = {
        {LIT("chronos-pack 2 a7 0 0 0 0 1 5\n"), "format 2 of one part"},
        {LIT("chronos-pack 2 a7 0 0 0 2 2 5\n"), "part past the count"},
        {LIT("chronos-pack 2 a7 0 0 0 0 65 5\n"), "parts past CHR_PACK_PARTS_MAX"},
        {LIT("chronos-pack 2 a7 0 0 0 0 2 -1\n"), "negative gen"},
        {LIT("chronos-pack 2 a7 0 0 0 -1 2 5\n"), "negative part"},
        {LIT("chronos-pack 2 a7 0 0 0 00 2 5\n"), "leading zero in the part"},
        {LIT("chronos-pack 2 a7 0 0 0 0 2\n"), "no gen"},
        {LIT("chronos-pack 2 a7 0 0 0 0 2 5 \n"), "a space after the gen"},
        {LIT("chronos-pack 1 a7 0 0 0 0 2 5\n"), "format 1 with part fields"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        struct sealed s;
        seal(&s, bad[i].b, bad[i].len);
        assert_refused(s.b, s.len, SHARD, bad[i].what);
    }
    struct sealed ok;
    seal(&ok, LIT("chronos-pack 2 a7 0 0 0 1 64 0\n"));
    struct chr_pack got;
    assert_int_equal(chr_pack_decode(ok.b, ok.len, SHARD, &got, NULL), CHR_OK);
    assert_true(got.part == 1 && got.parts == CHR_PACK_PARTS_MAX && got.gen == 0);
    chr_pack_free(&got);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_round_trip_empty_and_one),
        cmocka_unit_test(test_round_trip_many),
        cmocka_unit_test(test_exact_bytes),
        cmocka_unit_test(test_entry_size),
        cmocka_unit_test(test_encode_refusals),
        cmocka_unit_test(test_encode_limits),
        cmocka_unit_test(test_decode_truncated_and_flipped),
        cmocka_unit_test(test_decode_bad_bodies),
        cmocka_unit_test(test_decode_bad_args),
        cmocka_unit_test(test_alloc_failures),
        cmocka_unit_test(test_round_trip_int64_min),
        cmocka_unit_test(test_parts_exact_bytes),
        cmocka_unit_test(test_parts_refusals),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
