/*
 * recordio.h - the incremental decoder of Mesos's RecordIO framing
 * (`<decimal length>\n<exactly length bytes>`, records back to back), as the
 * event stream of a SUBSCRIBE carries it.  Fed whatever chunks the HTTP
 * layer hands over (chunk boundaries never line up with records), it yields
 * whole records one at a time.
 *
 * Pure: no I/O, no clock, no thread.  A record longer than the decoder's
 * limit, or a length line that is not a decimal number of 1 or more, is an
 * error that sticks: the stream cannot be resynchronised, so its owner drops
 * the connection.
 */
#ifndef CHR_OFFERS_MESOS_RECORDIO_H
#define CHR_OFFERS_MESOS_RECORDIO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/err.h"

/* Largest event record accepted by default: an OFFERS event of a large
 * cluster (hundreds of offers, each with resources and attributes) reaches a
 * few hundred KiB; 4 MiB leaves room without letting a broken or hostile
 * master make us buffer without end. */
#define CHR_MESOS_RECORD_MAX (4 * 1024 * 1024)
/* Digits of a length line: 20 hold any uint64; more is refused as too long
 * before any arithmetic. */
#define CHR_MESOS_RECORD_LEN_DIGITS_MAX 20

struct chr_recordio {
    size_t max;           /* records longer than this are refused */
    bool in_body;         /* false: reading the length line */
    enum chr_err failed;  /* sticky: CHR_OK, or what every later call returns */
    char digits[CHR_MESOS_RECORD_LEN_DIGITS_MAX + 1];
    size_t n_digits;
    size_t want;          /* the current record's length (in_body) */
    char *buf;            /* the current record's bytes so far (chr_malloc'd) */
    size_t have, cap;
    struct chr_error err; /* the sticky error */
};

/* An empty decoder for records of at most max bytes (0: CHR_MESOS_RECORD_MAX).
 * Holds no memory until a record spans two chunks. */
void chr_recordio_init(struct chr_recordio *r, size_t max);
/* Frees the buffer and makes the decoder empty again (same limit). */
void chr_recordio_reset(struct chr_recordio *r);

/*
 * Consumes bytes of the chunk (*data, *n; both advanced past what was used)
 * until one record is whole.  Returns:
 *   CHR_OK      a record: *rec and *len give its bytes, valid until the next
 *               call (they may point into the chunk itself, or into the
 *               decoder's buffer); the chunk may hold more: call again;
 *   CHR_ENONE   the chunk is used up and no record is whole yet;
 *   CHR_EINVAL  a bad length line (empty, non-digits, zero, more than 20
 *               digits, beyond uint64) or CHR_ERANGE a record longer than
 *               the limit, with err naming "recordio"; sticky;
 *   CHR_ENOMEM  the record's buffer cannot be allocated; sticky.
 */
enum chr_err chr_recordio_next(struct chr_recordio *r, const char **data, size_t *n,
                               const char **rec, size_t *len, struct chr_error *err);

/* True when the decoder is between records (nothing partial buffered): a
 * stream that ends now ended cleanly. */
bool chr_recordio_idle(const struct chr_recordio *r);

#endif
