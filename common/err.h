/*
 * err.h - the one error vocabulary of chronos.
 *
 * Every fallible function returns an enum chr_err (0 is success, failures are
 * negative).  Validation and parse failures additionally fill a caller-owned
 * struct chr_error naming the part of the input that is wrong, so that an API
 * answer or a CLI line can say "period: 'P' has no components" instead of
 * "invalid".  Nothing here allocates.
 */
#ifndef CHR_ERR_H
#define CHR_ERR_H

#include <stdarg.h>
#include <stddef.h>

enum chr_err {
    CHR_OK = 0,
    CHR_EINVAL = -1,   /* bad input: the chr_error says which part */
    CHR_ENOMEM = -2,   /* an allocation failed */
    CHR_ENOENT = -3,   /* the thing named does not exist */
    CHR_EIO = -4,      /* an I/O call failed */
    CHR_ERANGE = -5,   /* a number or a size is beyond a limit */
    CHR_ENONE = -6,    /* a query has no answer (a schedule that fires no more) */
    CHR_ECONFLICT = -7,/* the thing exists already, or changed under us */
    CHR_EUNAVAIL = -8, /* a dependency (store, resource manager) is unavailable */
    CHR_EDAMAGED = -9, /* stored bytes fail their own checks: damage, not a crash's torn write */
};

/* The name of an error code ("EINVAL") and its one-line meaning; never NULL. */
const char *chr_err_name(enum chr_err e);
const char *chr_err_message(enum chr_err e);

#define CHR_ERROR_FIELD_MAX 48
#define CHR_ERROR_MESSAGE_MAX 256

/*
 * What was wrong with an input: `field` names the part ("period",
 * "day-of-week", "scheduleTimeZone"), `message` is the whole sentence with the
 * field first ("day-of-week: 8 is out of range 0-7").  Both are always
 * NUL-terminated; an empty field means the input as a whole.
 */
struct chr_error {
    char field[CHR_ERROR_FIELD_MAX];
    char message[CHR_ERROR_MESSAGE_MAX];
};

/*
 * Fills `err` (which may be NULL: then nothing is written) with `field` and a
 * message made of "field: " followed by the printf-style text, truncated to
 * fit.  Returns `code`, so a parser can write `return chr_error_set(...)`.
 */
enum chr_err chr_error_set(struct chr_error *err, enum chr_err code, const char *field,
                           const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/*
 * An excerpt of input (n bytes of s, NUL or not) safe to echo in any
 * message: printable ASCII kept, every other byte shown as '?', at most max
 * bytes, then "..." when there was more.  out holds max + 4 bytes.  Returns
 * out.
 */
const char *chr_error_quote(const void *s, size_t n, size_t max, char *out);

/* Formats a field path ("environmentVariables[2].name") into `buf`, cut to
 * fit (a field name in an error is a hint).  Returns buf. */
const char *chr_error_fieldf(char buf[CHR_ERROR_FIELD_MAX], const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Empties `err` (may be NULL). */
void chr_error_clear(struct chr_error *err);

#endif
