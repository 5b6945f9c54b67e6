/*
 * fuzz_check.h - what the libFuzzer targets of tests/fuzz/ share: bounding
 * and NUL-terminating an input, aborting with a readable line when an
 * invariant breaks (libFuzzer then saves the input and prints the stack), and
 * the checks every parse failure must pass.
 *
 * Header-only (static inline functions) because the Makefile builds each
 * tests/fuzz/fuzz_*.c as one translation unit, linked with a clang build of
 * the library.
 */
#ifndef CHR_FUZZ_CHECK_H
#define CHR_FUZZ_CHECK_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/err.h"
#include "common/limits.h"
#include "common/strmap.h"
#include "iso8601/iso8601.h"

/* Inputs longer than the longest schedule the API accepts are skipped: the
 * parsers refuse them up front, so fuzzing them finds nothing. */
#define FUZZ_INPUT_MAX CHR_SCHEDULE_LEN_MAX

/* Aborts with the failed condition and a printf-style explanation. */
#define FUZZ_CHECK(cond, ...)                                                                      \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "\nfuzz: invariant violated at %s:%d: %s\nfuzz: ", __FILE__, __LINE__, \
                    #cond);                                                                        \
            fprintf(stderr, __VA_ARGS__);                                                          \
            fputc('\n', stderr);                                                                   \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

/* Copies the input into `buf` as a C string.  Returns NULL (skip the input)
 * when it is longer than FUZZ_INPUT_MAX or holds a NUL byte: a C string would
 * end there, and the parsers only ever see C strings. */
static inline const char *fuzz_cstring(const uint8_t *data, size_t size, char buf[FUZZ_INPUT_MAX + 1])
{
    if (size > FUZZ_INPUT_MAX || memchr(data, '\0', size) != NULL)
        return NULL;
    memcpy(buf, data, size);
    buf[size] = '\0';
    return buf;
}

/* Fills `err` with bytes that are not a C string, so that a parser that
 * fails without writing its error is caught by fuzz_check_parse_error. */
static inline void fuzz_poison_error(struct chr_error *err)
{
    memset(err, 'X', sizeof *err);
}

/* A parse failure: a known negative code, and an error whose field is a
 * non-empty string and whose message is a non-empty string starting with
 * that field (docs/design.md, Conventions: "schedule: period 'P' has no components"). */
static inline void fuzz_check_parse_error(enum chr_err rc, const struct chr_error *err, const char *input)
{
    FUZZ_CHECK(rc < 0 && strcmp(chr_err_name(rc), "EUNKNOWN") != 0,
               "parse of '%s' returned %d, not a chr_err failure", input, (int)rc);
    FUZZ_CHECK(memchr(err->field, '\0', sizeof err->field) != NULL,
               "parse of '%s' failed (%s) without writing a NUL-terminated error field", input,
               chr_err_name(rc));
    FUZZ_CHECK(memchr(err->message, '\0', sizeof err->message) != NULL,
               "parse of '%s' failed (%s) without writing a NUL-terminated error message", input,
               chr_err_name(rc));
    FUZZ_CHECK(err->field[0] != '\0', "parse of '%s' failed (%s) with an empty field; message '%s'",
               input, chr_err_name(rc), err->message);
    FUZZ_CHECK(err->message[0] != '\0', "parse of '%s' failed (%s) with an empty message", input,
               chr_err_name(rc));
    FUZZ_CHECK(strncmp(err->message, err->field, strlen(err->field)) == 0,
               "parse of '%s' failed: message '%s' does not start with its field '%s'", input,
               err->message, err->field);
}

/* A deterministic number from the input, to pick extra instants: common's
 * FNV-1a. */
static inline uint64_t fuzz_hash(const uint8_t *data, size_t size)
{
    return chr_str_hash((const char *)data, size);
}

/* An instant in [year 1, year 9999] picked by `h`: the range instants are
 * written in. */
static inline int64_t fuzz_instant_from_hash(uint64_t h)
{
    const int64_t lo_ms = -62135596800000LL; /* 0001-01-01T00:00:00Z */
    const int64_t hi_ms = 253402300799999LL; /* 9999-12-31T23:59:59.999Z */
    return lo_ms + (int64_t)(h % (uint64_t)(hi_ms - lo_ms + 1));
}

/* An instant as text, into `buf` (CHR_INSTANT_TEXT_MAX bytes), for messages. */
static inline const char *fuzz_text(int64_t at_ms, char *buf)
{
    chr_instant_format(at_ms, buf);
    return buf;
}

#endif
