/*
 * recordio.c - the RecordIO decoder (recordio.h).  Two states: the length
 * line, read digit by digit (so a line split across chunks needs no
 * buffer), then the body.  A body that is whole inside one chunk is handed
 * out in place; only a body spread over chunks is copied, into a buffer
 * sized once from its length.
 *
 * Never does I/O and never reads a clock.
 */
#include "offers/mesos/recordio.h"

#include <string.h>

#include "common/alloc.h"

void chr_recordio_init(struct chr_recordio *r, size_t max)
{
    memset(r, 0, sizeof *r);
    r->max = max ? max : CHR_MESOS_RECORD_MAX;
}

void chr_recordio_reset(struct chr_recordio *r)
{
    size_t max = r->max;
    chr_free(r->buf);
    chr_recordio_init(r, max);
}

bool chr_recordio_idle(const struct chr_recordio *r)
{
    return !r->in_body && r->n_digits == 0;
}

/* Records a sticky failure and returns its code. */
static enum chr_err fail(struct chr_recordio *r, enum chr_err code, struct chr_error *err)
{
    r->failed = code;
    if (err != NULL)
        *err = r->err;
    return code;
}

/* The length line is complete: checks it and enters the body. */
static enum chr_err end_length(struct chr_recordio *r, struct chr_error *err)
{
    if (r->n_digits == 0)
        return fail(r, chr_error_set(&r->err, CHR_EINVAL, "recordio", "empty length line"), err);
    uint64_t v = 0;
    for (size_t i = 0; i < r->n_digits; i++) {
        unsigned d = (unsigned)(r->digits[i] - '0');
        if (v > (UINT64_MAX - d) / 10)
            return fail(r,
                        chr_error_set(&r->err, CHR_EINVAL, "recordio",
                                      "record length %s is beyond 64 bits", r->digits),
                        err);
        v = v * 10 + d;
    }
    if (v == 0)
        return fail(r, chr_error_set(&r->err, CHR_EINVAL, "recordio", "record length is 0"), err);
    if (v > r->max)
        return fail(r,
                    chr_error_set(&r->err, CHR_ERANGE, "recordio",
                                  "record of %s bytes is longer than the limit of %zu", r->digits,
                                  r->max),
                    err);
    r->want = (size_t)v;
    r->have = 0;
    r->in_body = true;
    r->n_digits = 0;
    return CHR_OK;
}

/* Reads length-line bytes; CHR_OK once the line is complete, CHR_ENONE when
 * the chunk ended first. */
static enum chr_err read_length(struct chr_recordio *r, const char **data, size_t *n,
                                struct chr_error *err)
{
    while (*n > 0) {
        char c = **data;
        (*data)++;
        (*n)--;
        if (c == '\n') {
            r->digits[r->n_digits] = '\0';
            return end_length(r, err);
        }
        if (c < '0' || c > '9') {
            char q[20];
            return fail(r,
                        chr_error_set(&r->err, CHR_EINVAL, "recordio",
                                      "length line holds '%s', not a decimal digit",
                                      chr_error_quote(&c, 1, 8, q)),
                        err);
        }
        if (r->n_digits == CHR_MESOS_RECORD_LEN_DIGITS_MAX)
            return fail(r,
                        chr_error_set(&r->err, CHR_EINVAL, "recordio",
                                      "length line longer than %d digits",
                                      CHR_MESOS_RECORD_LEN_DIGITS_MAX),
                        err);
        r->digits[r->n_digits++] = c;
    }
    return CHR_ENONE;
}

enum chr_err chr_recordio_next(struct chr_recordio *r, const char **data, size_t *n,
                               const char **rec, size_t *len, struct chr_error *err)
{
    if (r->failed != CHR_OK)
        return fail(r, r->failed, err);
    if (!r->in_body) {
        enum chr_err e = read_length(r, data, n, err);
        if (e != CHR_OK)
            return e;
    }
    if (r->have == 0 && *n >= r->want) { /* whole in this chunk: in place */
        *rec = *data;
        *len = r->want;
        *data += r->want;
        *n -= r->want;
        r->in_body = false;
        return CHR_OK;
    }
    if (r->buf == NULL || r->cap < r->want) {
        chr_free(r->buf);
        r->cap = 0;
        if ((r->buf = chr_malloc(r->want)) == NULL)
            return fail(r,
                        chr_error_set(&r->err, CHR_ENOMEM, "recordio",
                                      "out of memory for a record of %zu bytes", r->want),
                        err);
        r->cap = r->want;
    }
    size_t take = r->want - r->have < *n ? r->want - r->have : *n;
    memcpy(r->buf + r->have, *data, take);
    r->have += take;
    *data += take;
    *n -= take;
    if (r->have < r->want)
        return CHR_ENONE;
    *rec = r->buf;
    *len = r->want;
    r->have = 0;
    r->in_body = false;
    return CHR_OK;
}
