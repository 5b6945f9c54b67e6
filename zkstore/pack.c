/*
 * pack.c - the pack's byte format (pack.h): encode, strict decode, lookup.
 * The encoder asserts that every entry it writes is one the decoder takes
 * and fills exactly the bytes it counted; the decoder asserts the bounds of
 * what it has just checked (bad input is an error, never an assertion).
 */
#include "zkstore/pack.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/alloc.h"
#include "common/assert.h"
#include "common/limits.h"
#include "zkstore/store_int.h"

#define MAGIC "chronos-pack 1 "
#define MAGIC2 "chronos-pack 2 " /* a part of a pack of several (pack.h) */
/* "crc32c " + 8 hex + "\n" */
#define TRAILER_LEN 16
/* Longest header line: magic, shard, two int64, a count, part, parts, gen. */
#define HEADER_MAX 128
/* Longest entry line: a name and four numbers. */
#define LINE_MAX_ (CHR_STORE_NAME_MAX + 64)

static int digits(uint64_t v)
{
    int n = 1;
    while (v >= 10)
        v /= 10, n++;
    return n;
}

static int sdigits(int64_t v)
{
    return v < 0 ? 1 + digits((uint64_t)0 - (uint64_t)v) : digits((uint64_t)v);
}

size_t chr_pack_entry_size(const struct chr_pack_entry *e)
{
    return strlen(e->name) + 1 + (size_t)sdigits(e->ver_a) + 1 + (size_t)digits(e->len_a) + 1 +
           (size_t)sdigits(e->ver_b) + 1 + (size_t)digits(e->len_b) + 1 + e->len_a + e->len_b + 1;
}

static bool entry_valid(const struct chr_pack_entry *e, unsigned shard)
{
    char raw[CHR_STORE_NAME_MAX];
    size_t rlen = 0;
    if (e->name == NULL || e->ver_a < 0 || e->ver_b < -1 ||
        (e->ver_b == -1 && e->len_b != 0) || e->len_a > CHR_STORE_NODE_MAX ||
        e->len_b > CHR_STORE_NODE_MAX || (e->len_a > 0 && e->a == NULL) ||
        (e->len_b > 0 && e->b == NULL))
        return false;
    if (chr_store_name_decode(e->name, raw, sizeof raw, &rlen) != CHR_OK)
        return false;
    return chr_store_shard(raw, rlen) == shard;
}

enum chr_err chr_pack_encode(const struct chr_pack *p, size_t max, char **out, size_t *len)
{
    if (out == NULL || len == NULL)
        return CHR_EINVAL;
    *out = NULL;
    *len = 0;
    if (p == NULL || p->shard >= CHR_STORE_SHARDS || (p->n > 0 && p->e == NULL) ||
        (p->parts > 1 && (p->parts > CHR_PACK_PARTS_MAX || p->part >= p->parts || p->gen < 0)))
        return CHR_EINVAL;
    size_t total = HEADER_MAX + TRAILER_LEN;
    for (size_t i = 0; i < p->n; i++) {
        if (!entry_valid(&p->e[i], p->shard) ||
            (i > 0 && strcmp(p->e[i - 1].name, p->e[i].name) >= 0))
            return CHR_EINVAL;
        total += chr_pack_entry_size(&p->e[i]);
        if (total - HEADER_MAX > max) /* the header's slack is not real bytes */
            return CHR_ERANGE;
    }
    char *buf = chr_malloc(total + 1);
    if (buf == NULL)
        return CHR_ENOMEM;
    int w = p->parts > 1
                ? snprintf(buf, HEADER_MAX, MAGIC2 "%02x %" PRId64 " %" PRId64 " %zu %u %u %" PRId64
                           "\n", p->shard, p->ext_a, p->ext_b, p->n, p->part, p->parts, p->gen)
                : snprintf(buf, HEADER_MAX, MAGIC "%02x %" PRId64 " %" PRId64 " %zu\n", p->shard,
                           p->ext_a, p->ext_b, p->n);
    CHR_ASSERT(w > 0 && w < HEADER_MAX); /* the header is whole */
    size_t at = (size_t)w;
    for (size_t i = 0; i < p->n; i++) {
        const struct chr_pack_entry *e = &p->e[i];
        size_t size = chr_pack_entry_size(e), start = at;
        /* What is written: an entry the decoder takes, within what was counted. */
        CHR_ASSERT(entry_valid(e, p->shard) && at + size + TRAILER_LEN <= total);
        at += (size_t)snprintf(buf + at, LINE_MAX_, "%s %" PRId32 " %zu %" PRId32 " %zu\n",
                               e->name, e->ver_a, e->len_a, e->ver_b, e->len_b);
        if (e->len_a > 0)
            memcpy(buf + at, e->a, e->len_a);
        at += e->len_a;
        if (e->len_b > 0)
            memcpy(buf + at, e->b, e->len_b);
        at += e->len_b;
        buf[at++] = '\n';
        CHR_ASSERT(at - start == size);
    }
    CHR_ASSERT(at + TRAILER_LEN <= total);
    w = snprintf(buf + at, TRAILER_LEN + 1, "crc32c %08" PRIx32 "\n", chr_crc32c(0, buf, at));
    CHR_ASSERT(w == TRAILER_LEN);
    at += TRAILER_LEN;
    if (at > max) {
        chr_free(buf);
        return CHR_ERANGE;
    }
    *out = buf;
    *len = at;
    return CHR_OK;
}

/* ---- Decoding ------------------------------------------------------------------ */

struct cursor {
    const char *p, *end;
};

/* A decimal int64 of at most 19 digits, optionally negative, then `sep`. */
static bool take_int(struct cursor *c, int64_t *v, char sep)
{
    bool neg = c->p < c->end && *c->p == '-';
    const char *s = c->p + neg;
    uint64_t x = 0;
    int n = 0;
    while (s < c->end && *s >= '0' && *s <= '9' && n < 19) {
        x = x * 10 + (uint64_t)(*s - '0');
        s++, n++;
    }
    if (n == 0 || s >= c->end || *s != sep || (n > 1 && c->p[neg] == '0') || (neg && x == 0))
        return false;
    if (x > (uint64_t)INT64_MAX + neg) /* past int64 */
        return false;
    *v = !neg ? (int64_t)x : x == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(int64_t)x;
    c->p = s + 1;
    return true;
}

static bool take_i32(struct cursor *c, int32_t *v, int32_t lo, char sep)
{
    int64_t x;
    if (!take_int(c, &x, sep) || x < lo || x > INT32_MAX)
        return false;
    *v = (int32_t)x;
    return true;
}

/* Format 2's "<part> <parts> <gen>\n" (pack.h). */
static bool take_part(struct cursor *c, struct chr_pack *out)
{
    int64_t part, parts;
    if (!take_int(c, &part, ' ') || !take_int(c, &parts, ' ') || !take_int(c, &out->gen, '\n'))
        return false;
    if (parts < 2 || parts > CHR_PACK_PARTS_MAX || part < 0 || part >= parts || out->gen < 0)
        return false;
    out->part = (unsigned)part;
    out->parts = (unsigned)parts;
    return true;
}

static bool take_len(struct cursor *c, size_t *v, char sep)
{
    int64_t x;
    if (!take_int(c, &x, sep) || x < 0 || x > CHR_STORE_NODE_MAX)
        return false;
    *v = (size_t)x;
    return true;
}

static int cmp_entry(const void *key, const void *elem)
{
    return strcmp(key, ((const struct chr_pack_entry *)elem)->name);
}

const struct chr_pack_entry *chr_pack_find(const struct chr_pack *p, const char *name)
{
    if (p == NULL || p->n == 0 || name == NULL)
        return NULL;
    return bsearch(name, p->e, p->n, sizeof *p->e, cmp_entry);
}

void chr_pack_free(struct chr_pack *p)
{
    if (p == NULL)
        return;
    chr_free(p->e);
    chr_free(p->buf);
    memset(p, 0, sizeof *p);
}

static enum chr_err bad(struct chr_pack *out, struct chr_error *err, const char *what, size_t at)
{
    chr_pack_free(out);
    return chr_error_set(err, CHR_EINVAL, "pack", "malformed pack: %s (at byte %zu)", what, at);
}

enum chr_err chr_pack_decode(const void *buf, size_t len, unsigned shard, struct chr_pack *out,
                             struct chr_error *err)
{
    if (out == NULL)
        return CHR_EINVAL;
    memset(out, 0, sizeof *out);
    if (buf == NULL || shard >= CHR_STORE_SHARDS)
        return chr_error_set(err, CHR_EINVAL, "pack", "no pack");
    const char *b = buf;
    /* The trailer first: a checksum mismatch says "damaged" before any parse. */
    bool two = len >= strlen(MAGIC2) && memcmp(b, MAGIC2, strlen(MAGIC2)) == 0;
    if (len < strlen(MAGIC) + TRAILER_LEN || (!two && memcmp(b, MAGIC, strlen(MAGIC)) != 0))
        return bad(out, err, "not a chronos pack", 0);
    size_t body = len - TRAILER_LEN;
    char want[TRAILER_LEN + 1];
    snprintf(want, sizeof want, "crc32c %08" PRIx32 "\n", chr_crc32c(0, b, body));
    if (memcmp(b + body, want, TRAILER_LEN) != 0)
        return bad(out, err, "checksum mismatch or torn end", body);
    if ((out->buf = chr_malloc(body + 1)) == NULL)
        return CHR_ENOMEM;
    memcpy(out->buf, b, body);
    out->buf[body] = '\0';
    struct cursor c = {out->buf + strlen(MAGIC), out->buf + body};
    int64_t n;
    char want_shard[4];
    snprintf(want_shard, sizeof want_shard, "%02x ", shard);
    if (c.end - c.p < 3 || memcmp(c.p, want_shard, 3) != 0)
        return bad(out, err, "of another shard", (size_t)(c.p - out->buf));
    c.p += 3;
    out->shard = shard;
    if (!take_int(&c, &out->ext_a, ' ') || !take_int(&c, &out->ext_b, ' ') ||
        !take_int(&c, &n, two ? ' ' : '\n') || n < 0 || (two && !take_part(&c, out)))
        return bad(out, err, "bad header", (size_t)(c.p - out->buf));
    if (!two)
        out->part = 0, out->parts = 1, out->gen = 0;
    /* Each entry takes at least 12 bytes: a bound before allocating. */
    if ((uint64_t)n > body / 12)
        return bad(out, err, "entry count past its size", (size_t)(c.p - out->buf));
    if (n > 0 && (out->e = chr_calloc((size_t)n, sizeof *out->e)) == NULL) {
        chr_pack_free(out);
        return CHR_ENOMEM;
    }
    for (int64_t i = 0; i < n; i++) {
        struct chr_pack_entry *e = &out->e[i];
        char *sp = memchr(c.p, ' ', (size_t)(c.end - c.p));
        size_t at = (size_t)(c.p - out->buf);
        if (sp == NULL || sp == c.p || (size_t)(sp - c.p) > CHR_STORE_NAME_MAX)
            return bad(out, err, "bad entry name", at);
        *sp = '\0'; /* the name ends in place: the space was ours */
        e->name = c.p;
        c.p = sp + 1;
        if (!take_i32(&c, &e->ver_a, 0, ' ') || !take_len(&c, &e->len_a, ' ') ||
            !take_i32(&c, &e->ver_b, -1, ' ') || !take_len(&c, &e->len_b, '\n'))
            return bad(out, err, "bad entry line", at);
        if ((size_t)(c.end - c.p) < e->len_a + e->len_b + 1 || c.p[e->len_a + e->len_b] != '\n')
            return bad(out, err, "entry data past the end", at);
        e->a = c.p;
        e->b = c.p + e->len_a;
        c.p += e->len_a + e->len_b + 1;
        /* What was read: sizes in bounds, bytes inside the copy. */
        CHR_ASSERT(e->len_a <= CHR_STORE_NODE_MAX && e->len_b <= CHR_STORE_NODE_MAX &&
                   c.p <= c.end && c.p[-1] == '\n');
        if (!entry_valid(e, shard))
            return bad(out, err, "entry name not of this shard, or absent companion with data",
                       at);
        if (i > 0 && strcmp(out->e[i - 1].name, e->name) >= 0)
            return bad(out, err, "entries not in order", at);
    }
    if (c.p != c.end)
        return bad(out, err, "bytes after the last entry", (size_t)(c.p - out->buf));
    CHR_ASSERT((uint64_t)n <= body / 12);
    out->n = (size_t)n;
    return CHR_OK;
}
