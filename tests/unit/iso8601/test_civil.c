/*
 * test_civil.c - the proleptic Gregorian calendar of iso8601/ (day counts,
 * leap years, month lengths, weekdays, floor division) and instants as text
 * (chr_instant_format, chr_instant_parse).
 *
 * Every expected value was derived by hand (the reasoning is in the comments)
 * and cross-checked with Python's datetime; none was printed by our own code.
 */
#include "../unit.h"

#include <stdbool.h>

/* ---- helpers ------------------------------------------------------------ */

static void assert_civil_date(int64_t days, int64_t want_y, int want_m, int want_d)
{
    int64_t y = 0;
    int m = 0, d = 0;
    chr_civil_from_days(days, &y, &m, &d);
    if (y != want_y || m != want_m || d != want_d)
        fail_msg("chr_civil_from_days(%lld) = %lld-%02d-%02d, want %lld-%02d-%02d",
                 (long long)days, (long long)y, m, d, (long long)want_y, want_m, want_d);
}

static void assert_format(int64_t at_ms, const char *want)
{
    char buf[CHR_INSTANT_TEXT_MAX];
    memset(buf, 'x', sizeof buf);
    size_t n = chr_instant_format(at_ms, buf);
    if (strcmp(buf, want) != 0)
        fail_msg("chr_instant_format(%lld) = '%s', want '%s'", (long long)at_ms, buf, want);
    assert_int_equal(n, strlen(want));
    assert_true(n < CHR_INSTANT_TEXT_MAX);
}

static void assert_parses(const char *s, int64_t want_ms)
{
    int64_t got = 0;
    struct chr_error err;
    memset(&err, 0, sizeof err);
    enum chr_err e = chr_instant_parse(s, &got, &err);
    if (e != CHR_OK)
        fail_msg("chr_instant_parse('%s') failed (%d): %s", s, (int)e, err.message);
    if (got != want_ms)
        fail_msg("chr_instant_parse('%s') = %lld, want %lld", s, (long long)got,
                 (long long)want_ms);
}

/* Asserts that `s` is rejected with CHR_EINVAL, field "instant", and a message
 * that starts with "instant: " and contains `part` (NULL: any message). */
static void assert_rejects(const char *s, const char *part)
{
    int64_t got = 0;
    struct chr_error err;
    memset(&err, 0, sizeof err);
    enum chr_err e = chr_instant_parse(s, &got, &err);
    if (e != CHR_EINVAL)
        fail_msg("chr_instant_parse('%s') returned %d, want CHR_EINVAL (%d)", s, (int)e,
                 (int)CHR_EINVAL);
    if (strcmp(err.field, "instant") != 0)
        fail_msg("chr_instant_parse('%s'): field '%s', want 'instant' (message '%s')", s,
                 err.field, err.message);
    if (strncmp(err.message, "instant: ", 9) != 0)
        fail_msg("chr_instant_parse('%s'): message '%s' does not start with 'instant: '", s,
                 err.message);
    if (part != NULL && strstr(err.message, part) == NULL)
        fail_msg("chr_instant_parse('%s'): message '%s' does not name '%s'", s, err.message,
                 part);
}

/* ---- day counts --------------------------------------------------------- */

static void test_days_from_civil_known(void **state)
{
    (void)state;
    assert_int_equal(chr_days_from_civil(1970, 1, 1), 0);
    assert_int_equal(chr_days_from_civil(1970, 1, 2), 1);
    assert_int_equal(chr_days_from_civil(1969, 12, 31), -1);
    /* 30 years 1970..1999 with 7 leap years (1972..1996): 30*365+7 = 10957
     * for 2000-01-01; + Jan 31 + Feb 29 (2000 is leap) = 11017. */
    assert_int_equal(chr_days_from_civil(2000, 1, 1), 10957);
    assert_int_equal(chr_days_from_civil(2000, 3, 1), 11017);
    /* 1600..1969: 370 years; leap years 1600..1968 step 4 = 93, minus 1700,
     * 1800, 1900 = 90: -(370*365+90) = -135140. */
    assert_int_equal(chr_days_from_civil(1600, 1, 1), -135140);
    /* 2100-01-01: 130 years, 32 leap years (1972..2096; 2000 is leap):
     * 47450+32 = 47482; Feb 28 is +31+27 = 47540; Mar 1 is 47541 because
     * 2100 is not leap (no Feb 29). */
    assert_int_equal(chr_days_from_civil(2100, 1, 1), 47482);
    assert_int_equal(chr_days_from_civil(2100, 2, 28), 47540);
    assert_int_equal(chr_days_from_civil(2100, 3, 1), 47541);
    /* 0001-01-01: 1969 years; leap years 1969/4 = 492, minus 19 centuries,
     * plus 4 (400, 800, 1200, 1600) = 477: -(1969*365+477) = -719162. */
    assert_int_equal(chr_days_from_civil(1, 1, 1), -719162);
    /* Year 0 is a leap year (proleptic): 0000-01-01 = -719162-366; its
     * March 1 = -719528+31+29 = -719468 (Hinnant's era shift). */
    assert_int_equal(chr_days_from_civil(0, 1, 1), -719528);
    assert_int_equal(chr_days_from_civil(0, 3, 1), -719468);
    /* Year -1 (2 BC) is not leap: 365 days before year 0. */
    assert_int_equal(chr_days_from_civil(-1, 1, 1), -719893);
    /* 1968 is leap: 1969 has 365 days, 1968 366: -731. */
    assert_int_equal(chr_days_from_civil(1968, 1, 1), -731);
    assert_int_equal(chr_days_from_civil(1969, 1, 1), -365);
    /* 2024-01-01: 54 years, 13 leap years (1972..2020) = 19723; Mar 10 is
     * +31+29+9 = 19792. */
    assert_int_equal(chr_days_from_civil(2024, 3, 10), 19792);
    /* 9999-12-31: 10000-01-01 is 253402300800 s = 2932897 days. */
    assert_int_equal(chr_days_from_civil(9999, 12, 31), 2932896);
    assert_int_equal(chr_days_from_civil(10000, 1, 1), 2932897);
}

static void test_civil_from_days_known(void **state)
{
    (void)state;
    assert_civil_date(0, 1970, 1, 1);
    assert_civil_date(-1, 1969, 12, 31);
    assert_civil_date(-365, 1969, 1, 1);
    assert_civil_date(-366, 1968, 12, 31);
    assert_civil_date(-731, 1968, 1, 1);
    assert_civil_date(11016, 2000, 2, 29);
    assert_civil_date(11017, 2000, 3, 1);
    assert_civil_date(-135140, 1600, 1, 1);
    assert_civil_date(-135141, 1599, 12, 31);
    /* The day after 2100-02-28 is March 1: 2100 is not a leap year. */
    assert_civil_date(47540, 2100, 2, 28);
    assert_civil_date(47540 + 1, 2100, 3, 1);
    assert_civil_date(-719162, 1, 1, 1);
    assert_civil_date(-719163, 0, 12, 31);
    assert_civil_date(-719468, 0, 3, 1);
    assert_civil_date(-719469, 0, 2, 29);
    assert_civil_date(-719894, -2, 12, 31);
    assert_civil_date(2932896, 9999, 12, 31);
    assert_civil_date(2932897, 10000, 1, 1);
}

/* Round trip and succession over ~11 000 years around the epoch: every day
 * count maps to a valid date, back to itself, and day n+1 is the next date. */
static void test_civil_round_trip(void **state)
{
    (void)state;
    int64_t py = 0;
    int pm = 0, pd = 0;
    chr_civil_from_days(-800001, &py, &pm, &pd);
    for (int64_t n = -800000; n <= 3300000; n++) {
        int64_t y;
        int m, d;
        chr_civil_from_days(n, &y, &m, &d);
        if (m < 1 || m > 12 || d < 1 || d > chr_days_in_month(y, m))
            fail_msg("day %lld -> invalid %lld-%d-%d", (long long)n, (long long)y, m, d);
        if (chr_days_from_civil(y, m, d) != n)
            fail_msg("day %lld -> %lld-%d-%d -> %lld", (long long)n, (long long)y, m, d,
                     (long long)chr_days_from_civil(y, m, d));
        bool next_day = (y == py && m == pm && d == pd + 1);
        bool next_month = (y == py && m == pm + 1 && d == 1 && pd == chr_days_in_month(py, pm));
        bool next_year = (y == py + 1 && m == 1 && d == 1 && pm == 12 && pd == 31);
        if (!next_day && !next_month && !next_year)
            fail_msg("day %lld: %lld-%d-%d does not follow %lld-%d-%d", (long long)n,
                     (long long)y, m, d, (long long)py, pm, pd);
        py = y;
        pm = m;
        pd = d;
    }
}

/* Far from the epoch, where a 32-bit intermediate would overflow. */
static void test_civil_far_years(void **state)
{
    (void)state;
    /* 400 Gregorian years are exactly 146097 days. */
    int64_t d2000 = chr_days_from_civil(2000, 3, 1);
    assert_int_equal(chr_days_from_civil(2400, 3, 1) - d2000, 146097);
    assert_int_equal(chr_days_from_civil(2000 + 400LL * 1000000, 3, 1) - d2000,
                     146097LL * 1000000);
    assert_int_equal(chr_days_from_civil(2000 - 400LL * 1000000, 3, 1) - d2000,
                     -146097LL * 1000000);
    assert_civil_date(d2000 + 146097LL * 1000000, 2000 + 400LL * 1000000, 3, 1);
    assert_civil_date(d2000 - 146097LL * 1000000, 2000 - 400LL * 1000000, 3, 1);
}

/* ---- leap years, month lengths, weekdays ------------------------------- */

static void test_is_leap_year(void **state)
{
    (void)state;
    assert_false(chr_is_leap_year(1900)); /* century, not by 400 */
    assert_true(chr_is_leap_year(2000));  /* by 400 */
    assert_true(chr_is_leap_year(2024));
    assert_false(chr_is_leap_year(2100));
    assert_false(chr_is_leap_year(2023));
    assert_true(chr_is_leap_year(1600));
    assert_false(chr_is_leap_year(1700));
    assert_true(chr_is_leap_year(2400));
    assert_true(chr_is_leap_year(0));
    assert_true(chr_is_leap_year(-4));
    assert_false(chr_is_leap_year(-1));
    assert_false(chr_is_leap_year(-100));
    assert_true(chr_is_leap_year(-400));
}

static void test_days_in_month(void **state)
{
    (void)state;
    static const int len[13] = {0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    for (int m = 1; m <= 12; m++) {
        assert_int_equal(chr_days_in_month(2023, m), len[m]);
        assert_int_equal(chr_days_in_month(2024, m), m == 2 ? 29 : len[m]);
    }
    assert_int_equal(chr_days_in_month(1900, 2), 28);
    assert_int_equal(chr_days_in_month(2000, 2), 29);
    assert_int_equal(chr_days_in_month(2100, 2), 28);
    assert_int_equal(chr_days_in_month(0, 2), 29);
    assert_int_equal(chr_days_in_month(-1, 2), 28);
}

static void test_weekday(void **state)
{
    (void)state;
    assert_int_equal(chr_weekday(0), 4);  /* 1970-01-01 was a Thursday */
    assert_int_equal(chr_weekday(-1), 3); /* 1969-12-31 Wednesday */
    assert_int_equal(chr_weekday(-3), 1); /* 1969-12-29 Monday */
    assert_int_equal(chr_weekday(-4), 0); /* 1969-12-28 Sunday */
    assert_int_equal(chr_weekday(-5), 6); /* Saturday */
    assert_int_equal(chr_weekday(-7), 4);
    assert_int_equal(chr_weekday(3), 0);  /* 1970-01-04 Sunday */
    /* 2024-03-10 (19792; 19792 mod 7 = 3, Thursday+3) was a Sunday. */
    assert_int_equal(chr_weekday(19792), 0);
    /* 2000-01-01 (10957; mod 7 = 2) was a Saturday. */
    assert_int_equal(chr_weekday(10957), 6);
    /* 0001-01-01 (-719162; floor mod 7 = 4) was a Monday (proleptic). */
    assert_int_equal(chr_weekday(-719162), 1);
    /* 2100-03-01 (47541; mod 7 = 4) is a Monday. */
    assert_int_equal(chr_weekday(47541), 1);
    /* 2038-01-19 is a Tuesday. */
    assert_int_equal(chr_weekday(chr_days_from_civil(2038, 1, 19)), 2);
}

/* ---- floor division ----------------------------------------------------- */

static void test_floor_div_mod(void **state)
{
    (void)state;
    assert_int_equal(chr_floor_div(7, 2), 3);
    assert_int_equal(chr_floor_mod(7, 2), 1);
    assert_int_equal(chr_floor_div(-7, 2), -4);
    assert_int_equal(chr_floor_mod(-7, 2), 1);
    assert_int_equal(chr_floor_div(7, -2), -4);
    assert_int_equal(chr_floor_mod(7, -2), -1);
    assert_int_equal(chr_floor_div(-7, -2), 3);
    assert_int_equal(chr_floor_mod(-7, -2), -1);
    assert_int_equal(chr_floor_div(-1, 1000), -1);
    assert_int_equal(chr_floor_mod(-1, 1000), 999);
    assert_int_equal(chr_floor_div(-1000, 1000), -1);
    assert_int_equal(chr_floor_mod(-1000, 1000), 0);
    assert_int_equal(chr_floor_div(-1001, 1000), -2);
    assert_int_equal(chr_floor_mod(-1001, 1000), 999);
    assert_int_equal(chr_floor_div(0, 5), 0);
    assert_int_equal(chr_floor_mod(0, 5), 0);
    assert_int_equal(chr_floor_div(6, 3), 2);
    assert_int_equal(chr_floor_div(-6, 3), -2);
    assert_int_equal(chr_floor_mod(-6, 3), 0);
    /* -1 ms is the last millisecond of day -1. */
    assert_int_equal(chr_floor_div(-1, CHR_MS_PER_DAY), -1);
    assert_int_equal(chr_floor_mod(-1, CHR_MS_PER_DAY), CHR_MS_PER_DAY - 1);
}

/* The ends of int64 (chr_instant_format must handle any instant, so its
 * floor division must not overflow there).  Kept last in main(): under
 * UBSan an overflow aborts the whole binary. */
static void test_floor_div_mod_extremes(void **state)
{
    (void)state;
    /* INT64_MIN = -9223372036854775808: /1000 = -9223372036854775.808, floor
     * -9223372036854776; remainder -...808 + ...776000 = 192. */
    assert_int_equal(chr_floor_div(INT64_MIN, 1000), -9223372036854776LL);
    assert_int_equal(chr_floor_mod(INT64_MIN, 1000), 192);
    assert_int_equal(chr_floor_div(INT64_MIN, 1), INT64_MIN);
    assert_int_equal(chr_floor_mod(INT64_MIN, 1), 0);
    assert_int_equal(chr_floor_div(INT64_MAX, 1000), 9223372036854775LL);
    assert_int_equal(chr_floor_mod(INT64_MAX, 1000), 807);
    /* INT64_MIN / 86400000 = -106751991167.3..., floor -106751991168;
     * 106751991168 * 86400000 = 9223372036915200000, minus
     * 9223372036854775808 = 60424192 (16:47:04.192, as in the format test). */
    assert_int_equal(chr_floor_div(INT64_MIN, CHR_MS_PER_DAY), -106751991168LL);
    assert_int_equal(chr_floor_mod(INT64_MIN, CHR_MS_PER_DAY), 60424192LL);
}

/* ---- milliseconds <-> fields --------------------------------------------- */

static void test_civil_ms(void **state)
{
    (void)state;
    struct chr_civil c;
    chr_ms_to_civil(-1, &c);
    assert_int_equal(c.year, 1969);
    assert_int_equal(c.month, 12);
    assert_int_equal(c.day, 31);
    assert_int_equal(c.hour, 23);
    assert_int_equal(c.minute, 59);
    assert_int_equal(c.second, 59);
    assert_int_equal(c.ms, 999);
    assert_int_equal(chr_civil_to_ms(&c), -1);

    /* 2024-03-10T07:30:15.250: 19792 days + 27015.25 s. */
    struct chr_civil w = {2024, 3, 10, 7, 30, 15, 250};
    assert_int_equal(chr_civil_to_ms(&w), 19792LL * CHR_MS_PER_DAY + 27015250);
    chr_ms_to_civil(19792LL * CHR_MS_PER_DAY + 27015250, &c);
    assert_int_equal(c.year, 2024);
    assert_int_equal(c.month, 3);
    assert_int_equal(c.day, 10);
    assert_int_equal(c.hour, 7);
    assert_int_equal(c.minute, 30);
    assert_int_equal(c.second, 15);
    assert_int_equal(c.ms, 250);

    /* 1900-01-01T00:00:00.001: 1900..1969 = 70 years, 17 leap (1904..1968). */
    struct chr_civil old = {1900, 1, 1, 0, 0, 0, 1};
    assert_int_equal(chr_civil_to_ms(&old), -(70LL * 365 + 17) * CHR_MS_PER_DAY + 1);
}

/* ---- chr_instant_format ---------------------------------------------------- */

static void test_format_basic(void **state)
{
    (void)state;
    assert_format(0, "1970-01-01T00:00:00.000Z");
    assert_format(1, "1970-01-01T00:00:00.001Z");
    assert_format(5, "1970-01-01T00:00:00.005Z");
    assert_format(123, "1970-01-01T00:00:00.123Z");
    assert_format(59999, "1970-01-01T00:00:59.999Z");
    /* 2024-03-10T07:30Z: 19792 days * 86400 s + 27000 s. */
    assert_format((19792LL * 86400 + 27000) * 1000, "2024-03-10T07:30:00.000Z");
    /* 2^31 s is the first second a signed 32-bit time_t cannot hold. */
    assert_format(2147483647000LL, "2038-01-19T03:14:07.000Z");
    assert_format(2147483648000LL, "2038-01-19T03:14:08.000Z");
    assert_format(2147483648000LL + 999, "2038-01-19T03:14:08.999Z");
    /* 2100-03-01 = day 47541. */
    assert_format(47541LL * CHR_MS_PER_DAY, "2100-03-01T00:00:00.000Z");
    assert_format(47541LL * CHR_MS_PER_DAY - 1, "2100-02-28T23:59:59.999Z");
}

static void test_format_negative(void **state)
{
    (void)state;
    assert_format(-1, "1969-12-31T23:59:59.999Z");
    assert_format(-999, "1969-12-31T23:59:59.001Z");
    assert_format(-1000, "1969-12-31T23:59:59.000Z");
    assert_format(-1001, "1969-12-31T23:59:58.999Z");
    assert_format(-CHR_MS_PER_DAY, "1969-12-31T00:00:00.000Z");
    assert_format(-135140LL * CHR_MS_PER_DAY, "1600-01-01T00:00:00.000Z");
    assert_format(-719162LL * CHR_MS_PER_DAY, "0001-01-01T00:00:00.000Z");
    assert_format(-719162LL * CHR_MS_PER_DAY - 1, "0000-12-31T23:59:59.999Z");
}

/* Years outside 0000-9999 carry a sign and as many digits as needed, as
 * java.time's Instant.toString does ("+10000-...", "-0001-..."). */
static void test_format_wide_years(void **state)
{
    (void)state;
    /* 10000-01-01 = day 2932897 = 253402300800 s. */
    assert_format(253402300800000LL - 1, "9999-12-31T23:59:59.999Z");
    assert_format(253402300800000LL, "+10000-01-01T00:00:00.000Z");
    /* 0000-01-01 = day -719528. */
    assert_format(-719528LL * CHR_MS_PER_DAY, "0000-01-01T00:00:00.000Z");
    assert_format(-719528LL * CHR_MS_PER_DAY - 1, "-0001-12-31T23:59:59.999Z");
}

/* The extremes (the header's own example for INT64_MAX; INT64_MIN as java.time
 * prints Instant.ofEpochMilli(Long.MIN_VALUE)).  Last in main(), see above. */
static void test_format_extremes(void **state)
{
    (void)state;
    assert_format(INT64_MAX, "+292278994-08-17T07:12:55.807Z");
    assert_format(INT64_MIN, "-292275055-05-16T16:47:04.192Z");
}

/* ---- chr_instant_parse: accepted forms ------------------------------------ */

/* 2024-03-10T00:00:00Z and 07:30:00Z, by hand (see test_format_basic). */
#define MS_20240310 (19792LL * CHR_MS_PER_DAY)
#define MS_20240310_0730 (MS_20240310 + 27000LL * 1000)

static void test_parse_forms(void **state)
{
    (void)state;
    assert_parses("2024-03-10", MS_20240310);
    assert_parses("2024-03-10T07:30", MS_20240310_0730);
    assert_parses("2024-03-10T07:30:15", MS_20240310_0730 + 15000);
    assert_parses("2024-03-10T07:30Z", MS_20240310_0730);
    assert_parses("2024-03-10T07:30:00Z", MS_20240310_0730);
    assert_parses("1970-01-01T00:00:00Z", 0);
    assert_parses("1969-12-31T23:59:59.999Z", -1);
    assert_parses("2038-01-19T03:14:08Z", 2147483648000LL);
    assert_parses("0001-01-01T00:00:00Z", -719162LL * CHR_MS_PER_DAY);
    assert_parses("9999-12-31T23:59:59.999Z", 253402300800000LL - 1);
    assert_parses("2024-02-29", MS_20240310 - 10 * CHR_MS_PER_DAY);
    assert_parses("2000-02-29T00:00:00Z", 11016LL * CHR_MS_PER_DAY);
    /* The grammar lets a zone designator follow a bare date. */
    assert_parses("2024-03-10Z", MS_20240310);
    assert_parses("2024-03-10+01:00", MS_20240310 - CHR_MS_PER_HOUR);
}

static void test_parse_fractions(void **state)
{
    (void)state;
    int64_t base = MS_20240310_0730 + 15000;
    assert_parses("2024-03-10T07:30:15.5Z", base + 500);
    assert_parses("2024-03-10T07:30:15.12Z", base + 120);
    assert_parses("2024-03-10T07:30:15.123Z", base + 123);
    assert_parses("2024-03-10T07:30:15.000Z", base);
    /* Longer fractions are truncated, never rounded. */
    assert_parses("2024-03-10T07:30:15.1239Z", base + 123);
    assert_parses("2024-03-10T07:30:15.999999999Z", base + 999);
    assert_parses("2024-03-10T07:30:15.0009Z", base);
    assert_parses("2024-03-10T07:30:15.123456789012345678901234567890Z", base + 123);
    assert_parses("2024-03-10T07:30:15.5", base + 500);
    assert_parses("2024-03-10T07:30:15.5+01:00", base + 500 - CHR_MS_PER_HOUR);
    /* Before the epoch the fraction still adds: -1 s + 0.25 s. */
    assert_parses("1969-12-31T23:59:59.25Z", -750);
}

static void test_parse_offsets(void **state)
{
    (void)state;
    /* 13:00 at +05:30 is 07:30Z; 02:30 at -05:00 is 07:30Z. */
    assert_parses("2024-03-10T13:00:00+05:30", MS_20240310_0730);
    assert_parses("2024-03-10T02:30:00-05:00", MS_20240310_0730);
    assert_parses("2024-03-10T07:30:00+00:00", MS_20240310_0730);
    assert_parses("2024-03-10T07:30:00-00:00", MS_20240310_0730);
    assert_parses("2024-03-10T02:30-05:00", MS_20240310_0730);
    /* An offset moves the instant across a date (and a leap day). */
    assert_parses("2024-03-01T01:00:00+02:00", MS_20240310 - 9 * CHR_MS_PER_DAY -
                                                   CHR_MS_PER_HOUR);
    /* The extremes: +-18:00, minutes up to 59. */
    assert_parses("2024-03-10T18:00:00+18:00", MS_20240310);
    assert_parses("2024-03-09T06:00:00-18:00", MS_20240310);
    assert_parses("2024-03-10T00:59:00+00:59", MS_20240310);
    assert_parses("2024-03-10T12:45:00+12:45", MS_20240310);
}

/* ---- chr_instant_parse: rejected forms ------------------------------------ */

static void test_parse_rejects_ranges(void **state)
{
    (void)state;
    assert_rejects("2024-13-01", "month");
    assert_rejects("2024-00-10", "month");
    assert_rejects("2024-02-30", "day");
    assert_rejects("2023-02-29", "day");
    assert_rejects("2100-02-29", "day"); /* 2100 is not a leap year */
    assert_rejects("1900-02-29T00:00:00Z", "day");
    assert_rejects("2024-04-31", "day");
    assert_rejects("2024-01-32", "day");
    assert_rejects("2024-01-00", "day");
    assert_rejects("0000-01-01T00:00:00Z", "year");
    assert_rejects("2024-03-10T24:00", "hour");
    assert_rejects("2024-03-10T24:00:00Z", "hour");
    assert_rejects("2024-03-10T23:60", "minute");
    assert_rejects("2024-03-10T23:59:60Z", "second"); /* no leap seconds */
    assert_rejects("2024-03-10T10:00:00+19:00", "offset");
    assert_rejects("2024-03-10T10:00:00-19:00", "offset");
    assert_rejects("2024-03-10T10:00:00+18:60", "offset");
    assert_rejects("2024-03-10T10:00:00+99:00", "offset");
}

static void test_parse_rejects_syntax(void **state)
{
    (void)state;
    assert_rejects("", NULL);
    assert_rejects("2024-03-10t10:00:00Z", NULL); /* lower-case 't' */
    assert_rejects("2024-03-10T10:00:00z", NULL); /* lower-case 'z' */
    assert_rejects("2024-03-10T10:00:00Zjunk", NULL);
    assert_rejects("2024-03-10T10:00:00Z ", NULL);
    assert_rejects(" 2024-03-10T10:00:00Z", NULL);
    assert_rejects("2024-03-10 10:00:00Z", NULL);
    assert_rejects("2024-03-10T10:00:00 Z", NULL);
    assert_rejects("2024-03-10T10:00:00 +01:00", NULL);
    assert_rejects("2024-03-10T", NULL);
    assert_rejects("2024-03-10T10", NULL);
    assert_rejects("2024-03-10T10:0", NULL);
    assert_rejects("2024-03-10T1:00", NULL);
    assert_rejects("2024-03-10T10:00:0", NULL);
    assert_rejects("2024-03-10T10:00:00.", NULL);
    assert_rejects("2024-03-10T10:00:00.Z", NULL);
    assert_rejects("2024-03-10T10:00:00,5Z", NULL); /* only '.' before a fraction */
    assert_rejects("2024-03-10T10:00.5Z", NULL);    /* a fraction needs seconds */
    assert_rejects("2024-03-10T10:00:00+05", NULL);
    assert_rejects("2024-03-10T10:00:00+0530", NULL);
    assert_rejects("2024-03-10T10:00:00+5:30", NULL);
    assert_rejects("2024-03-10T10:00:00+", NULL);
    assert_rejects("2024-03-10T10:00:00ZZ", NULL);
    assert_rejects("2024-03-10T10:00:00Z+01:00", NULL);
    assert_rejects("2024-3-10", NULL);
    assert_rejects("2024-03-1", NULL);
    assert_rejects("24-03-10", NULL);
    assert_rejects("20240310", NULL);
    assert_rejects("2024/03/10", NULL);
    assert_rejects("2024-03", NULL);
    assert_rejects("2024", NULL);
    assert_rejects("-2024-03-10", NULL);
    assert_rejects("+2024-03-10", NULL);
    assert_rejects("+10000-01-01T00:00:00Z", NULL);
    assert_rejects("T10:00:00Z", NULL);
    assert_rejects("now", NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_days_from_civil_known),
        cmocka_unit_test(test_civil_from_days_known),
        cmocka_unit_test(test_civil_round_trip),
        cmocka_unit_test(test_civil_far_years),
        cmocka_unit_test(test_is_leap_year),
        cmocka_unit_test(test_days_in_month),
        cmocka_unit_test(test_weekday),
        cmocka_unit_test(test_floor_div_mod),
        cmocka_unit_test(test_civil_ms),
        cmocka_unit_test(test_format_basic),
        cmocka_unit_test(test_format_negative),
        cmocka_unit_test(test_format_wide_years),
        cmocka_unit_test(test_parse_forms),
        cmocka_unit_test(test_parse_fractions),
        cmocka_unit_test(test_parse_offsets),
        cmocka_unit_test(test_parse_rejects_ranges),
        cmocka_unit_test(test_parse_rejects_syntax),
        cmocka_unit_test(test_floor_div_mod_extremes),
        cmocka_unit_test(test_format_extremes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
