/*
 * jscan.h - a reader of plain compact JSON, for the fast paths of the store's
 * decoders (api/job_json.c, server/persist.c): the nodes our own encoders
 * write are compact, with plain ASCII strings, and a million of them are read
 * at every start.  It takes only that shape: no whitespace, strings of
 * printable ASCII without escapes, numbers as JSON writes them.  Anything
 * else is not an error here: the scan stops (`bad`) and the caller hands the
 * text to its full, validating decoder, which decides (and names the error).
 *
 * Never allocates; reads only [p, end).  A fast path built on it must accept
 * nothing its full decoder would refuse, and must decode what it accepts to
 * exactly what the full decoder gives (tests/fuzz/fuzz_fastpath.c checks
 * both on arbitrary input).
 */
#ifndef CHR_COMMON_JSCAN_H
#define CHR_COMMON_JSCAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct chr_jscan {
    const char *p, *end;
    bool bad; /* the text left the plain shape: the caller falls back */
};

void chr_jscan_init(struct chr_jscan *s, const char *text, size_t len);
/* Takes `c` when it is next (false, and not bad, when it is not). */
bool chr_jscan_take(struct chr_jscan *s, char c);
/* A string of printable ASCII without escapes: *str points into the text
 * (not NUL-terminated), *len its length.  False (bad) on anything else. */
bool chr_jscan_string(struct chr_jscan *s, const char **str, size_t *len);
/* `null`, `true`, `false`: takes it when it is next. */
bool chr_jscan_null(struct chr_jscan *s);
bool chr_jscan_bool(struct chr_jscan *s, bool *out);

/* A JSON number: *is_int true for a token without fraction or exponent
 * (jansson's integer), its value in *i; else a real in *d (strtod of the
 * token, finite, no range error).  False (bad) when the token is not JSON's
 * number grammar, an integer overflows int64, or a real is out of range. */
bool chr_jscan_number(struct chr_jscan *s, bool *is_int, int64_t *i, double *d);
/* A number that must be an integer token (bad otherwise). */
bool chr_jscan_int(struct chr_jscan *s, int64_t *out);
/* Everything was read and nothing went wrong. */
bool chr_jscan_done(const struct chr_jscan *s);

#endif
