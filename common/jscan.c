/*
 * jscan.c - the plain compact JSON reader of jscan.h.  Each function either
 * takes exactly one token of the plain shape or marks the scan bad; it never
 * reads past `end` and never allocates.
 */
#include "common/jscan.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Real tokens longer than this are left to the full decoder. */
#define JSCAN_REAL_MAX 64

void chr_jscan_init(struct chr_jscan *s, const char *text, size_t len)
{
    s->p = text;
    s->end = text != NULL ? text + len : text;
    s->bad = text == NULL;
}

static bool fail(struct chr_jscan *s)
{
    s->bad = true;
    return false;
}

bool chr_jscan_take(struct chr_jscan *s, char c)
{
    if (s->bad || s->p >= s->end || *s->p != c)
        return false;
    s->p++;
    return true;
}

bool chr_jscan_string(struct chr_jscan *s, const char **str, size_t *len)
{
    if (!chr_jscan_take(s, '"'))
        return fail(s);
    const char *start = s->p;
    while (s->p < s->end && *s->p != '"') {
        unsigned char c = (unsigned char)*s->p;
        if (c < 0x20 || c > 0x7e || c == '\\')
            return fail(s);
        s->p++;
    }
    if (s->p >= s->end)
        return fail(s);
    *str = start;
    *len = (size_t)(s->p - start);
    s->p++;
    return true;
}

/* Takes the word `w` when the text goes on with it. */
static bool word(struct chr_jscan *s, const char *w, size_t n)
{
    if (s->bad || (size_t)(s->end - s->p) < n || memcmp(s->p, w, n) != 0)
        return false;
    s->p += n;
    return true;
}

bool chr_jscan_null(struct chr_jscan *s)
{
    return word(s, "null", 4);
}

bool chr_jscan_bool(struct chr_jscan *s, bool *out)
{
    if (word(s, "true", 4))
        return *out = true;
    if (word(s, "false", 5)) {
        *out = false;
        return true;
    }
    return fail(s);
}

static bool digit_at(const struct chr_jscan *s, const char *p)
{
    return p < s->end && *p >= '0' && *p <= '9';
}

/* The end of the digits from p. */
static const char *digits(const struct chr_jscan *s, const char *p)
{
    while (digit_at(s, p))
        p++;
    return p;
}

/* An integer token's value: magnitude at most INT64_MAX (else bad). */
static bool int_value(struct chr_jscan *s, const char *p, const char *q, bool neg, int64_t *out)
{
    uint64_t n = 0;
    for (; p < q; p++) {
        if (n > ((uint64_t)INT64_MAX - (uint64_t)(*p - '0')) / 10)
            return fail(s);
        n = n * 10 + (uint64_t)(*p - '0');
    }
    *out = neg ? -(int64_t)n : (int64_t)n;
    return true;
}

static bool real_value(struct chr_jscan *s, const char *start, const char *q, double *out)
{
    char buf[JSCAN_REAL_MAX + 1];
    size_t n = (size_t)(q - start);
    if (n > JSCAN_REAL_MAX)
        return fail(s);
    memcpy(buf, start, n);
    buf[n] = '\0';
    char *end = NULL;
    errno = 0;
    double d = strtod(buf, &end);
    if (errno != 0 || end != buf + n || !isfinite(d))
        return fail(s);
    *out = d;
    return true;
}

bool chr_jscan_number(struct chr_jscan *s, bool *is_int, int64_t *i, double *d)
{
    if (s->bad)
        return false;
    const char *start = s->p, *p = s->p;
    bool neg = p < s->end && *p == '-';
    p += neg;
    const char *int0 = p;
    if (!digit_at(s, p) || (*p == '0' && digit_at(s, p + 1)))
        return fail(s); /* no digit, or a leading zero: not JSON */
    p = digits(s, p);
    const char *int1 = p;
    bool frac = p < s->end && *p == '.';
    if (frac && !digit_at(s, p + 1))
        return fail(s);
    if (frac)
        p = digits(s, p + 1);
    bool exp = p < s->end && (*p == 'e' || *p == 'E');
    if (exp) {
        p++;
        p += p < s->end && (*p == '+' || *p == '-');
        if (!digit_at(s, p))
            return fail(s);
        p = digits(s, p);
    }
    *is_int = !frac && !exp;
    bool ok = *is_int ? int_value(s, int0, int1, neg, i) : real_value(s, start, p, d);
    if (ok)
        s->p = p;
    return ok;
}

bool chr_jscan_int(struct chr_jscan *s, int64_t *out)
{
    bool is_int = false;
    double d = 0;
    if (!chr_jscan_number(s, &is_int, out, &d))
        return false;
    return is_int || fail(s);
}

bool chr_jscan_done(const struct chr_jscan *s)
{
    return !s->bad && s->p == s->end;
}
