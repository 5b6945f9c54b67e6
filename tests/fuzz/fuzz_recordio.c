/*
 * fuzz_recordio.c - libFuzzer target for the RecordIO decoder
 * (offers/mesos/recordio.h), which reads whatever bytes a master's event
 * stream carries.
 *
 * The first input byte picks the record limit (1..256) and the chunk size
 * (1..8); the rest is the stream.  Checked: no crash; fed in one piece and
 * fed in chunks, the decoder yields the same records and ends the same way
 * (the same error, or the same partial state); every record is non-empty
 * and within the limit; a refusal is a known code whose message starts
 * with its field, and it sticks.
 */
#include "fuzz_check.h"

#include "offers/mesos/recordio.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_RECORDS 4096

struct outcome {
    size_t n, lens[MAX_RECORDS];
    uint64_t hash; /* of all record bytes, in order */
    enum chr_err end;
    struct chr_error err;
    bool idle;
};

static void run(const char *s, size_t n, size_t chunk, size_t max, struct outcome *o)
{
    struct chr_recordio r;
    chr_recordio_init(&r, max);
    memset(o, 0, sizeof *o);
    o->hash = 14695981039346656037ULL;
    o->end = CHR_ENONE;
    for (size_t at = 0; at < n && o->end == CHR_ENONE; at += chunk) {
        const char *p = s + at, *rec;
        size_t left = n - at < chunk ? n - at : chunk, len;
        fuzz_poison_error(&o->err);
        enum chr_err e;
        while ((e = chr_recordio_next(&r, &p, &left, &rec, &len, &o->err)) == CHR_OK) {
            FUZZ_CHECK(len > 0 && len <= max, "a record of %zu bytes (limit %zu)", len, max);
            if (o->n < MAX_RECORDS)
                o->lens[o->n] = len;
            o->n++;
            for (size_t i = 0; i < len; i++)
                o->hash = (o->hash ^ (uint8_t)rec[i]) * 1099511628211ULL;
        }
        o->end = e;
        if (e == CHR_ENONE)
            FUZZ_CHECK(left == 0, "CHR_ENONE with %zu bytes left", left);
    }
    if (o->end != CHR_ENONE) {
        FUZZ_CHECK(o->end == CHR_EINVAL || o->end == CHR_ERANGE || o->end == CHR_ENOMEM,
                   "ended with %s", chr_err_name(o->end));
        if (o->end != CHR_ENOMEM)
            fuzz_check_parse_error(o->end, &o->err, "(a stream)");
        const char *more = "1\na", *rec;
        size_t left = 3, len;
        struct chr_error again;
        FUZZ_CHECK(chr_recordio_next(&r, &more, &left, &rec, &len, &again) == o->end,
                   "the error did not stick");
    }
    o->idle = chr_recordio_idle(&r);
    chr_recordio_reset(&r);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1 || size > 1 << 16)
        return 0;
    size_t max = (size_t)data[0] % 256 + 1, chunk = (size_t)(data[0] >> 5) + 1;
    const char *s = (const char *)data + 1;
    size_t n = size - 1;
    static struct outcome whole, pieces;
    run(s, n, n ? n : 1, max, &whole);
    run(s, n, chunk, max, &pieces);
    FUZZ_CHECK(whole.n == pieces.n && whole.hash == pieces.hash,
               "%zu records whole, %zu in chunks of %zu", whole.n, pieces.n, chunk);
    for (size_t i = 0; i < whole.n && i < MAX_RECORDS; i++)
        FUZZ_CHECK(whole.lens[i] == pieces.lens[i], "record %zu: %zu bytes, %zu in chunks", i,
                   whole.lens[i], pieces.lens[i]);
    FUZZ_CHECK(whole.end == pieces.end, "whole ends %s, chunks %s", chr_err_name(whole.end),
               chr_err_name(pieces.end));
    FUZZ_CHECK(whole.end != CHR_ENONE || whole.idle == pieces.idle, "idle differs");
    if (whole.end != CHR_ENONE && whole.end != CHR_ENOMEM)
        FUZZ_CHECK(strcmp(whole.err.message, pieces.err.message) == 0, "'%s' whole, '%s' chunks",
                   whole.err.message, pieces.err.message);
    return 0;
}
