/*
 * iso8601_int.h - what the files of iso8601/ share and nobody else sees.
 */
#ifndef CHR_ISO8601_INT_H
#define CHR_ISO8601_INT_H

#include "iso8601.h"

/* A date-time as written: wall fields, and the offset if one was written. */
struct chr_datetime {
    struct chr_civil wall;
    bool has_offset;
    int32_t offset_s; /* seconds east of UTC, when has_offset */
};

/*
 * Parses exactly `len` bytes of `s` as "YYYY-MM-DD[THH:MM[:SS[.f+]]][Z|+-HH:MM]"
 * (time.md's start grammar: year >= 1, fraction of any length truncated to
 * ms, offset hours <= 18).  Errors name `field` ("start", "instant").
 */
enum chr_err chr_datetime_parse(const char *s, size_t len, const char *field,
                                struct chr_datetime *out, struct chr_error *err);

#endif
