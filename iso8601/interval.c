/*
 * interval.c - ISO 8601 repeating intervals, R[n]/start/period, by the rules
 * of docs/time.md: occurrence k is computed from the start (months with
 * day clamping, then whole days on the wall clock, then the wall time to an
 * instant, then exact elapsed time), never by stepping from the previous
 * occurrence, so month ends do not drift.
 *
 * Pure: no I/O, no allocation, no global state.  "Next after T" estimates k
 * arithmetically and corrects it with a galloping then binary search, so a
 * start in 1970 with PT1S costs the same as one from yesterday.
 */
#include "iso8601_int.h"

#include <string.h>

#include "common/limits.h"

#define PERIOD_COMPONENT_MAX 1000000000LL

/* Reads "R[n]" up to the first '/'; n absent means forever. */
static enum chr_err parse_count(const char *s, size_t len, int64_t *count, struct chr_error *err)
{
    if (len == 0 || s[0] != 'R')
        return chr_error_set(err, CHR_EINVAL, "schedule",
                             "expected R[n]/start/period, got '%.*s'", (int)(len > 40 ? 40 : len), s);
    if (len == 1) {
        *count = -1;
        return CHR_OK;
    }
    int64_t n = 0;
    for (size_t i = 1; i < len; i++) {
        if (s[i] < '0' || s[i] > '9')
            return chr_error_set(err, CHR_EINVAL, "repetitions",
                                 "'%.*s' is not R followed by a count", (int)(len > 40 ? 40 : len), s);
        int d = s[i] - '0';
        if (n > (INT64_MAX - d) / 10)
            return chr_error_set(err, CHR_EINVAL, "repetitions", "count '%.*s' is larger than %lld",
                                 (int)(len - 1 > 40 ? 40 : len - 1), s + 1, (long long)INT64_MAX);
        n = n * 10 + d;
    }
    *count = n;
    return CHR_OK;
}

/* One "nX" component of a period; `frac_ok` allows ".fff" (seconds only). */
struct period_part {
    int64_t whole;
    int ms;
    char designator;
};

static enum chr_err period_number(const char *s, size_t len, size_t *i, bool frac_ok,
                                  struct period_part *out, struct chr_error *err)
{
    size_t start = *i;
    int64_t v = 0;
    while (*i < len && s[*i] >= '0' && s[*i] <= '9') {
        v = v * 10 + (s[*i] - '0');
        if (v > PERIOD_COMPONENT_MAX)
            return chr_error_set(err, CHR_EINVAL, "period", "component '%.*s...' is larger than %lld",
                                 (int)(*i - start + 1), s + start, PERIOD_COMPONENT_MAX);
        (*i)++;
    }
    if (*i == start)
        return chr_error_set(err, CHR_EINVAL, "period", "expected a number at '%.*s'",
                             (int)(len - start > 20 ? 20 : len - start), s + start);
    out->whole = v;
    out->ms = 0;
    if (*i < len && s[*i] == '.') { /* time.md: '.' only, not ISO's ',' */
        size_t f = ++(*i);
        int ms = 0;
        while (*i < len && s[*i] >= '0' && s[*i] <= '9' && *i - f < 4)
            ms = ms * 10 + (s[(*i)++] - '0');
        if (*i == f || *i - f > 3 || (*i < len && s[*i] >= '0' && s[*i] <= '9'))
            return chr_error_set(err, CHR_EINVAL, "period",
                                 "a fraction needs 1 to 3 digits, at '%.*s'",
                                 (int)(len - start > 20 ? 20 : len - start), s + start);
        for (size_t k = *i - f; k < 3; k++)
            ms *= 10;
        out->ms = ms;
        if (!frac_ok || *i >= len || s[*i] != 'S')
            return chr_error_set(err, CHR_EINVAL, "period",
                                 "only seconds (S) may have a fraction, at '%.*s'",
                                 (int)(len - start > 20 ? 20 : len - start), s + start);
    }
    if (*i >= len)
        return chr_error_set(err, CHR_EINVAL, "period", "'%.*s' has no designator (Y, M, W, D, H or S)",
                             (int)(len - start > 20 ? 20 : len - start), s + start);
    out->designator = s[(*i)++];
    return CHR_OK;
}

/* Parses "P[nY][nM][nW][nD][T[nH][nM][n[.fff]S]]" into months, days, ms. */
static enum chr_err parse_period(const char *s, size_t len, struct chr_interval *iv,
                                 struct chr_error *err)
{
    static const char date_order[] = "YMWD", time_order[] = "HMS";
    if (len == 0)
        return chr_error_set(err, CHR_EINVAL, "period", "is empty");
    if (s[0] != 'P')
        return chr_error_set(err, CHR_EINVAL, "period", "'%.*s' does not start with 'P'",
                             (int)(len > 40 ? 40 : len), s);
    if (len == 1)
        return chr_error_set(err, CHR_EINVAL, "period", "'P' has no components");
    size_t i = 1;
    int64_t val[7] = {0}; /* Y M W D H M S(ms) */
    bool in_time = false, any = false;
    int next_slot = 0;
    while (i < len) {
        if (s[i] == 'T' && !in_time) {
            in_time = true;
            next_slot = 4;
            if (++i == len)
                return chr_error_set(err, CHR_EINVAL, "period", "'T' is not followed by H, M or S");
            continue;
        }
        struct period_part part = {0, 0, 0};
        enum chr_err e = period_number(s, len, &i, in_time, &part, err);
        if (e != CHR_OK)
            return e;
        const char *order = in_time ? time_order : date_order;
        const char *pos = strchr(order, part.designator);
        int slot = pos && part.designator ? (int)(pos - order) + (in_time ? 4 : 0) : -1;
        if (slot < 0)
            return chr_error_set(err, CHR_EINVAL, "period", "'%c' is not a %s designator (%s)",
                                 part.designator, in_time ? "time" : "date",
                                 in_time ? "H, M, S" : "Y, M, W, D; time parts need 'T'");
        if (slot < next_slot)
            return chr_error_set(err, CHR_EINVAL, "period", "'%c' is out of order or repeated",
                                 part.designator);
        val[slot] = slot == 6 ? part.whole * 1000 + part.ms : part.whole;
        next_slot = slot + 1;
        any = true;
    }
    if (!any)
        return chr_error_set(err, CHR_EINVAL, "period", "'%.*s' has no components",
                             (int)(len > 40 ? 40 : len), s);
    iv->months = val[0] * 12 + val[1];
    iv->days = val[2] * 7 + val[3];
    iv->elapsed_ms = val[4] * CHR_MS_PER_HOUR + val[5] * CHR_MS_PER_MIN + val[6];
    if (iv->months == 0 && iv->days == 0 && iv->elapsed_ms == 0)
        return chr_error_set(err, CHR_EINVAL, "period", "'%.*s' is zero",
                             (int)(len > 40 ? 40 : len), s);
    return CHR_OK;
}

enum chr_err chr_interval_parse(const char *expr, struct chr_interval *out, struct chr_error *err)
{
    size_t len = strnlen(expr, CHR_SCHEDULE_LEN_MAX + 1);
    if (len > CHR_SCHEDULE_LEN_MAX)
        return chr_error_set(err, CHR_EINVAL, "schedule", "longer than %d bytes",
                             CHR_SCHEDULE_LEN_MAX);
    const char *s1 = memchr(expr, '/', len);
    const char *s2 = s1 ? memchr(s1 + 1, '/', len - (size_t)(s1 + 1 - expr)) : NULL;
    if (s1 == NULL || s2 == NULL)
        return chr_error_set(err, CHR_EINVAL, "schedule",
                             "expected R[n]/start/period, got '%.*s'", (int)(len > 60 ? 60 : len), expr);
    if (memchr(s2 + 1, '/', len - (size_t)(s2 + 1 - expr)) != NULL)
        return chr_error_set(err, CHR_EINVAL, "schedule",
                             "too many '/' (expected R[n]/start/period)");
    struct chr_interval iv;
    memset(&iv, 0, sizeof iv);
    enum chr_err e = parse_count(expr, (size_t)(s1 - expr), &iv.count, err);
    if (e != CHR_OK)
        return e;
    struct chr_datetime dt;
    size_t slen = (size_t)(s2 - s1 - 1);
    if (slen == 0)
        return chr_error_set(err, CHR_EINVAL, "start", "is empty (write a date-time)");
    if ((e = chr_datetime_parse(s1 + 1, slen, "start", &dt, err)) != CHR_OK)
        return e;
    if ((e = parse_period(s2 + 1, len - (size_t)(s2 + 1 - expr), &iv, err)) != CHR_OK)
        return e;
    iv.start_local_ms = chr_civil_to_ms(&dt.wall);
    iv.start_has_offset = dt.has_offset;
    iv.start_offset_s = dt.offset_s;
    iv.start_ms = iv.start_local_ms - (int64_t)dt.offset_s * CHR_MS_PER_SEC;
    *out = iv;
    return CHR_OK;
}

/* a * b + c, or false on overflow. */
static bool mul_add(int64_t a, int64_t b, int64_t c, int64_t *out)
{
    int64_t p;
    return !__builtin_mul_overflow(a, b, &p) && !__builtin_add_overflow(p, c, out);
}

/* Occurrence k, or false when it lies beyond what int64 milliseconds hold. */
static bool occurrence(const struct chr_interval *iv, const struct chr_tz *tz, int64_t k,
                       int64_t *at_ms)
{
    int64_t t;
    if (iv->months == 0 && iv->days == 0) /* pure elapsed time: DST never moves it */
        return mul_add(k, iv->elapsed_ms, chr_tz_from_local_ms(tz, iv->start_local_ms), at_ms);
    int64_t local = iv->start_local_ms;
    if (iv->months != 0) {
        struct chr_civil c;
        chr_ms_to_civil(local, &c);
        int64_t m0;
        if (!mul_add(k, iv->months, c.year * 12 + (c.month - 1), &m0) || m0 / 12 > 100000000)
            return false;
        c.year = chr_floor_div(m0, 12);
        c.month = (int)(m0 - c.year * 12) + 1;
        int dim = chr_days_in_month(c.year, c.month);
        if (c.day > dim)
            c.day = dim;
        local = chr_civil_to_ms(&c);
    }
    if (!mul_add(k, iv->days * CHR_MS_PER_DAY, local, &local) ||
        local > INT64_MAX / 2 || local < INT64_MIN / 2)
        return false;
    t = chr_tz_from_local_ms(tz, local);
    return mul_add(k, iv->elapsed_ms, t, at_ms);
}

/*
 * time.md step 1 takes "the wall time of s0": when the written start falls in
 * a gap, s0 is shifted forward, and later occurrences keep the shifted wall
 * time (as java.time's plusDays does).  `norm` is `iv` with its start wall
 * time replaced by the wall time of s0 in `tz`.
 */
static void normalize_start(const struct chr_interval *iv, const struct chr_tz *tz,
                            struct chr_interval *norm)
{
    *norm = *iv;
    if (iv->normalized_for == tz)
        return;
    norm->start_local_ms = chr_tz_to_local_ms(tz, chr_tz_from_local_ms(tz, iv->start_local_ms));
    norm->normalized_for = tz;
}

int64_t chr_interval_occurrence(const struct chr_interval *iv, const struct chr_tz *tz, int64_t k)
{
    struct chr_interval norm;
    int64_t t;
    normalize_start(iv, tz, &norm);
    return occurrence(&norm, tz, k, &t) ? t : INT64_MAX;
}

/* occ(k) > after, treating occurrences beyond int64 as "later than anything". */
static bool after_t(const struct chr_interval *iv, const struct chr_tz *tz, int64_t k, int64_t t)
{
    int64_t at;
    return !occurrence(iv, tz, k, &at) || at > t;
}

/* A k near the first occurrence after `t`, from the period's mean length. */
static int64_t estimate_k(const struct chr_interval *iv, int64_t s0, int64_t t)
{
    /* A month is 30.436875 days on average over the Gregorian cycle. */
    double period = (double)iv->months * 2629746000.0 + (double)iv->days * CHR_MS_PER_DAY +
                    (double)iv->elapsed_ms;
    double k = ((double)t - (double)s0) / period;
    if (k < 0)
        return 0;
    if (k > 9e18)
        return INT64_MAX / 4;
    return (int64_t)k;
}

enum chr_err chr_interval_next(const struct chr_interval *iv_written, const struct chr_tz *tz,
                               int64_t after_ms, int64_t *next_ms)
{
    if (iv_written->count == 0)
        return CHR_ENONE;
    struct chr_interval norm;
    const struct chr_interval *iv = &norm;
    normalize_start(iv_written, tz, &norm);
    int64_t s0 = chr_tz_from_local_ms(tz, iv->start_local_ms), k;
    if (after_t(iv, tz, 0, after_ms)) {
        k = 0;
    } else if (iv->months == 0 && iv->days == 0) {
        k = (after_ms - s0) / iv->elapsed_ms + 1; /* after_ms >= s0 here */
    } else {
        /* Find lo < hi with occ(lo) <= t < occ(hi), then bisect. */
        int64_t lo = estimate_k(iv, s0, after_ms), hi, step = 1;
        if (after_t(iv, tz, lo, after_ms)) {
            hi = lo;
            do {
                lo = hi - step > 0 ? hi - step : 0;
                step *= 2;
                if (after_t(iv, tz, lo, after_ms))
                    hi = lo;
                else
                    break;
            } while (lo > 0);
        } else {
            hi = lo + 1;
            while (!after_t(iv, tz, hi, after_ms)) {
                lo = hi;
                step *= 2;
                hi = lo + step;
            }
        }
        while (hi - lo > 1) {
            int64_t mid = lo + (hi - lo) / 2;
            if (after_t(iv, tz, mid, after_ms))
                hi = mid;
            else
                lo = mid;
        }
        k = hi;
    }
    if (iv->count > 0 && k >= iv->count)
        return CHR_ENONE;
    return occurrence(iv, tz, k, next_ms) ? CHR_OK : CHR_ENONE;
}
