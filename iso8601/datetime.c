/*
 * datetime.c - the one parser of written date-times, shared by ISO 8601
 * interval starts and instants given on the command line or in the API.
 *
 * Pure: no I/O, no allocation.  Strict: the whole text must match, upper-case
 * 'T' and 'Z' only, fields range-checked, and an error names what is wrong.
 */
#include "iso8601_int.h"

#include <string.h>

struct cursor {
    const char *s;
    size_t i, len;
    const char *field;
    struct chr_error *err;
};

static bool at(const struct cursor *c, char ch)
{
    return c->i < c->len && c->s[c->i] == ch;
}

static bool is_digit(char ch)
{
    return ch >= '0' && ch <= '9';
}

/* Reads exactly `n` digits as a number; false when they are not there. */
static bool digits(struct cursor *c, int n, int *out)
{
    int v = 0;
    for (int k = 0; k < n; k++) {
        if (c->i >= c->len || !is_digit(c->s[c->i]))
            return false;
        v = v * 10 + (c->s[c->i++] - '0');
    }
    *out = v;
    return true;
}

static enum chr_err expect(struct cursor *c, int n, int *out, const char *what)
{
    if (!digits(c, n, out))
        return chr_error_set(c->err, CHR_EINVAL, c->field,
                             "expected %d-digit %s at position %zu of '%.*s'", n, what, c->i + 1,
                             (int)c->len, c->s);
    return CHR_OK;
}

static enum chr_err range(struct cursor *c, const char *what, int v, int lo, int hi)
{
    if (v < lo || v > hi)
        return chr_error_set(c->err, CHR_EINVAL, c->field, "%s %d is out of range %d-%d", what, v,
                             lo, hi);
    return CHR_OK;
}

static enum chr_err parse_date(struct cursor *c, struct chr_civil *w)
{
    int y, m, d;
    enum chr_err e;
    if ((e = expect(c, 4, &y, "year")) != CHR_OK)
        return e;
    if (!at(c, '-'))
        return chr_error_set(c->err, CHR_EINVAL, c->field, "expected YYYY-MM-DD in '%.*s'",
                             (int)c->len, c->s);
    c->i++;
    if ((e = expect(c, 2, &m, "month")) != CHR_OK)
        return e;
    if (!at(c, '-'))
        return chr_error_set(c->err, CHR_EINVAL, c->field, "expected YYYY-MM-DD in '%.*s'",
                             (int)c->len, c->s);
    c->i++;
    if ((e = expect(c, 2, &d, "day")) != CHR_OK)
        return e;
    if ((e = range(c, "year", y, 1, 9999)) != CHR_OK || (e = range(c, "month", m, 1, 12)) != CHR_OK)
        return e;
    int dim = chr_days_in_month(y, m);
    if (d < 1 || d > dim)
        return chr_error_set(c->err, CHR_EINVAL, c->field,
                             "day %d is out of range 1-%d for %04d-%02d", d, dim, y, m);
    w->year = y;
    w->month = m;
    w->day = d;
    return CHR_OK;
}

/* ".f+" after the seconds: any number of digits, truncated to milliseconds. */
static enum chr_err parse_fraction(struct cursor *c, struct chr_civil *w)
{
    c->i++; /* '.' */
    size_t first = c->i;
    int ms = 0;
    while (c->i < c->len && is_digit(c->s[c->i])) {
        if (c->i - first < 3)
            ms = ms * 10 + (c->s[c->i] - '0');
        c->i++;
    }
    if (c->i == first)
        return chr_error_set(c->err, CHR_EINVAL, c->field, "expected digits after '.'");
    for (size_t n = c->i - first; n < 3; n++)
        ms *= 10;
    w->ms = ms;
    return CHR_OK;
}

static enum chr_err parse_time(struct cursor *c, struct chr_civil *w)
{
    int h, mi, s = 0;
    enum chr_err e;
    c->i++; /* 'T' */
    if ((e = expect(c, 2, &h, "hour")) != CHR_OK)
        return e;
    if (!at(c, ':'))
        return chr_error_set(c->err, CHR_EINVAL, c->field, "expected HH:MM after 'T'");
    c->i++;
    if ((e = expect(c, 2, &mi, "minute")) != CHR_OK)
        return e;
    if (at(c, ':')) {
        c->i++;
        if ((e = expect(c, 2, &s, "second")) != CHR_OK)
            return e;
        if (at(c, '.') && (e = parse_fraction(c, w)) != CHR_OK)
            return e;
    }
    if ((e = range(c, "hour", h, 0, 23)) != CHR_OK || (e = range(c, "minute", mi, 0, 59)) != CHR_OK ||
        (e = range(c, "second", s, 0, 59)) != CHR_OK)
        return e;
    w->hour = h;
    w->minute = mi;
    w->second = s;
    return CHR_OK;
}

static enum chr_err parse_offset(struct cursor *c, struct chr_datetime *out)
{
    if (at(c, 'Z')) {
        c->i++;
        out->has_offset = true;
        out->offset_s = 0;
        return CHR_OK;
    }
    int sign = at(c, '-') ? -1 : 1;
    c->i++; /* '+' or '-' */
    int h, m;
    enum chr_err e;
    if ((e = expect(c, 2, &h, "offset hours")) != CHR_OK)
        return e;
    if (!at(c, ':'))
        return chr_error_set(c->err, CHR_EINVAL, c->field, "expected offset as +HH:MM");
    c->i++;
    if ((e = expect(c, 2, &m, "offset minutes")) != CHR_OK)
        return e;
    if ((e = range(c, "offset hours", h, 0, 18)) != CHR_OK ||
        (e = range(c, "offset minutes", m, 0, 59)) != CHR_OK)
        return e;
    out->has_offset = true;
    out->offset_s = sign * (h * 3600 + m * 60);
    return CHR_OK;
}

enum chr_err chr_datetime_parse(const char *s, size_t len, const char *field,
                                struct chr_datetime *out, struct chr_error *err)
{
    struct cursor c = {s, 0, len, field, err};
    struct chr_datetime dt;
    memset(&dt, 0, sizeof dt);
    enum chr_err e;
    if (len == 0)
        return chr_error_set(err, CHR_EINVAL, field, "is empty");
    if ((e = parse_date(&c, &dt.wall)) != CHR_OK)
        return e;
    if (at(&c, 'T') && (e = parse_time(&c, &dt.wall)) != CHR_OK)
        return e;
    if ((at(&c, 'Z') || at(&c, '+') || at(&c, '-')) && (e = parse_offset(&c, &dt)) != CHR_OK)
        return e;
    if (c.i != len)
        return chr_error_set(err, CHR_EINVAL, field, "unexpected '%.*s' after the date-time",
                             (int)(len - c.i > 40 ? 40 : len - c.i), s + c.i);
    *out = dt;
    return CHR_OK;
}

enum chr_err chr_instant_parse(const char *s, int64_t *at_ms, struct chr_error *err)
{
    struct chr_datetime dt;
    enum chr_err e = chr_datetime_parse(s, strlen(s), "instant", &dt, err);
    if (e != CHR_OK)
        return e;
    *at_ms = chr_civil_to_ms(&dt.wall) - (int64_t)dt.offset_s * CHR_MS_PER_SEC;
    return CHR_OK;
}
