/*
 * test_cron.c - unit tests of iso8601/cron.c: parsing every syntax form and
 * every error class, day matching (Vixie OR, L / L-n / W / LW / dL / #),
 * wall-time matching, and firing instants in UTC and across real DST
 * transitions (New York, London, Lord Howe's 30-minute shift).
 *
 * Every expected instant was worked out by hand from the zone's rules (US:
 * second Sunday of March 02:00 EST -> 03:00 EDT, first Sunday of November
 * 02:00 EDT -> 01:00 EST; Lord Howe: first Sunday of October 02:00 +10:30 ->
 * 02:30 +11, first Sunday of April 02:00 +11 -> 01:30 +10:30; UK: last
 * Sunday of October 02:00 BST -> 01:00 GMT), never taken from our output.
 */
#include "tests/unit/unit.h"

#include <stdlib.h>

#include "common/limits.h"

static struct chr_tzdb *db;

static int setup(void **state)
{
    (void)state;
    return chr_tzdb_create(NULL, &db) == CHR_OK ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    chr_tzdb_destroy(db);
    return 0;
}

static const struct chr_tz *zone(const char *name)
{
    const struct chr_tz *tz = NULL;
    struct chr_error err;
    if (chr_tzdb_get(db, name, &tz, &err) != CHR_OK)
        fail_msg("zone %s: %s", name, err.message);
    return tz;
}

static struct chr_cron parse_ok(const char *expr)
{
    struct chr_cron c;
    struct chr_error err;
    if (chr_cron_parse(expr, &c, &err) != CHR_OK)
        fail_msg("'%s' does not parse: %s", expr, err.message);
    return c;
}

/* Parsing fails with `field` named and `want` inside the message, and leaves
 * the output untouched. */
static void assert_error(const char *expr, const char *field, const char *want)
{
    struct chr_cron c, before;
    memset(&c, 0x5a, sizeof c);
    memcpy(&before, &c, sizeof c);
    struct chr_error err;
    enum chr_err e = chr_cron_parse(expr, &c, &err);
    if (e != CHR_EINVAL)
        fail_msg("'%s' gave %s, want EINVAL", expr, chr_err_name(e));
    if (strcmp(err.field, field) != 0)
        fail_msg("'%s': field '%s', want '%s' (%s)", expr, err.field, field, err.message);
    if (strstr(err.message, want) == NULL)
        fail_msg("'%s': message '%s' lacks '%s'", expr, err.message, want);
    assert_memory_equal(&c, &before, sizeof c);
}

static uint64_t bits(const int *v, size_t n)
{
    uint64_t b = 0;
    for (size_t k = 0; k < n; k++)
        b |= (uint64_t)1 << v[k];
    return b;
}
#define BITS(...) bits((const int[]){__VA_ARGS__}, sizeof((const int[]){__VA_ARGS__}) / sizeof(int))

static uint64_t span(int lo, int hi)
{
    uint64_t b = 0;
    for (int v = lo; v <= hi; v++)
        b |= (uint64_t)1 << v;
    return b;
}

/* The successive firings after `after` are exactly `want` (NULL-ended). */
static void assert_firings(const char *expr, const struct chr_tz *tz, const char *after,
                           const char *const *want)
{
    struct chr_cron c = parse_ok(expr);
    int64_t t = T(after);
    for (size_t k = 0; want[k] != NULL; k++) {
        int64_t next = 0;
        if (chr_cron_next(&c, tz, t, &next) != CHR_OK)
            fail_msg("'%s': no firing after #%zu", expr, k);
        if (next <= t)
            fail_msg("'%s': firing #%zu not after the previous one", expr, k);
        assert_instant(next, want[k]);
        t = next;
    }
}
#define FIRINGS(expr, tz, after, ...) \
    assert_firings((expr), (tz), (after), (const char *const[]){__VA_ARGS__, NULL})

/* ---- Parsing: syntax forms ---------------------------------------------- */

static void test_parse_stars(void **state)
{
    (void)state;
    struct chr_cron c = parse_ok("* * * * *");
    assert_true(c.minutes == span(0, 59));
    assert_true(c.hours == span(0, 23));
    assert_true(c.dom == span(1, 31));
    assert_true(c.months == span(1, 12));
    assert_true(c.dow == span(0, 6));
    assert_false(c.dom_restricted);
    assert_false(c.dow_restricted);
    assert_true(c.hour_wildcard);
    assert_true(c.dom_before_last == 0 && c.dom_nearest_weekday == 0 && c.dow_last == 0);
    assert_true(c.dow_nth == 0 && !c.dom_last_weekday);
}

static void test_parse_numbers_ranges_lists(void **state)
{
    (void)state;
    struct chr_cron c = parse_ok("5 0-3 1,15,31 2-4,12 3");
    assert_true(c.minutes == BITS(5));
    assert_true(c.hours == BITS(0, 1, 2, 3));
    assert_true(c.dom == BITS(1, 15, 31));
    assert_true(c.months == BITS(2, 3, 4, 12));
    assert_true(c.dow == BITS(3));
    assert_true(c.dom_restricted && c.dow_restricted);
    assert_false(c.hour_wildcard);
    c = parse_ok("07 09 * * *"); /* leading zeros */
    assert_true(c.minutes == BITS(7) && c.hours == BITS(9));
}

static void test_parse_steps(void **state)
{
    (void)state;
    struct chr_cron c = parse_ok("*/15 10-20/5 */10 1/4 */3");
    assert_true(c.minutes == BITS(0, 15, 30, 45));
    assert_true(c.hours == BITS(10, 15, 20));
    assert_true(c.dom == BITS(1, 11, 21, 31));
    assert_true(c.months == BITS(1, 5, 9));
    assert_true(c.dow == BITS(0, 3, 6));
    c = parse_ok("50/5 */100 * * *"); /* a/s runs to the field's end; a huge step keeps the first */
    assert_true(c.minutes == BITS(50, 55));
    assert_true(c.hours == BITS(0));
    c = parse_ok("0 */1 * * *"); /* restricted in writing: not the `*` hour */
    assert_true(c.hours == span(0, 23));
    assert_false(c.hour_wildcard);
    c = parse_ok("0 0-23 * * *");
    assert_false(c.hour_wildcard);
}

static void test_parse_names(void **state)
{
    (void)state;
    struct chr_cron c = parse_ok("0 0 * jan-Mar,DEC mon-FRI");
    assert_true(c.months == BITS(1, 2, 3, 12));
    assert_true(c.dow == BITS(1, 2, 3, 4, 5));
    c = parse_ok("0 0 * JUN/2 sun,Sat");
    assert_true(c.months == BITS(6, 8, 10, 12));
    assert_true(c.dow == BITS(0, 6));
    c = parse_ok("0 0 * JAN-3 MON-3");
    assert_true(c.months == BITS(1, 2, 3));
    assert_true(c.dow == BITS(1, 2, 3));
}

static void test_parse_sunday_is_0_and_7(void **state)
{
    (void)state;
    assert_true(parse_ok("0 0 * * 7").dow == BITS(0));
    assert_true(parse_ok("0 0 * * 0").dow == BITS(0));
    assert_true(parse_ok("0 0 * * 5-7").dow == BITS(0, 5, 6));
    assert_true(parse_ok("0 0 * * 0-7").dow == span(0, 6));
    assert_true(parse_ok("0 0 * * 7L").dow_last == BITS(0));
    assert_true(parse_ok("0 0 * * 7#2").dow_nth == BITS(0 * 5 + 1));
}

static void test_parse_question_mark(void **state)
{
    (void)state;
    struct chr_cron c = parse_ok("0 0 ? * 1");
    assert_false(c.dom_restricted);
    assert_true(c.dom == span(1, 31));
    assert_true(c.dow_restricted);
    c = parse_ok("0 0 15 * ?");
    assert_false(c.dow_restricted);
    assert_true(c.dow == span(0, 6));
    assert_true(c.dom_restricted);
}

static void test_parse_whitespace(void **state)
{
    (void)state;
    struct chr_cron a = parse_ok("5 4 * * 1");
    const char *same[] = {"  5 4 * * 1", "5 4 * * 1  ", "5\t4 *  *\t\t1", "\t5 4 * * 1\t"};
    for (size_t k = 0; k < sizeof same / sizeof same[0]; k++) {
        struct chr_cron b = parse_ok(same[k]);
        assert_true(b.minutes == a.minutes && b.hours == a.hours && b.dow == a.dow);
    }
}

static void test_parse_day_extensions(void **state)
{
    (void)state;
    struct chr_cron c = parse_ok("0 0 L * *");
    assert_true(c.dom_before_last == BITS(0));
    assert_true(c.dom == 0 && c.dom_restricted);
    c = parse_ok("0 0 L-3,l-30 * *");
    assert_true(c.dom_before_last == BITS(3, 30));
    c = parse_ok("0 0 15W,1w * *");
    assert_true(c.dom_nearest_weekday == BITS(1, 15));
    c = parse_ok("0 0 LW * *");
    assert_true(c.dom_last_weekday);
    c = parse_ok("0 0 1-5,L,10W,LW * *");
    assert_true(c.dom == BITS(1, 2, 3, 4, 5) && c.dom_before_last == BITS(0));
    assert_true(c.dom_nearest_weekday == BITS(10) && c.dom_last_weekday);
    c = parse_ok("0 0 * * 5L,FRI#2,1#1,2,satl");
    assert_true(c.dow_last == BITS(5, 6));
    assert_true(c.dow_nth == BITS(5 * 5 + 1, 1 * 5 + 0));
    assert_true(c.dow == BITS(2));
    assert_true(c.dow_restricted);
}

static void assert_same_cron(const char *a_expr, const char *b_expr)
{
    struct chr_cron a = parse_ok(a_expr), b = parse_ok(b_expr);
    if (a.minutes != b.minutes || a.hours != b.hours || a.dom != b.dom || a.months != b.months ||
        a.dow != b.dow || a.dom_restricted != b.dom_restricted ||
        a.dow_restricted != b.dow_restricted || a.hour_wildcard != b.hour_wildcard)
        fail_msg("'%s' differs from '%s'", a_expr, b_expr);
}

static void test_parse_macros(void **state)
{
    (void)state;
    assert_same_cron("@yearly", "0 0 1 1 *");
    assert_same_cron("@annually", "0 0 1 1 *");
    assert_same_cron("@monthly", "0 0 1 * *");
    assert_same_cron("@weekly", "0 0 * * 0");
    assert_same_cron("@daily", "0 0 * * *");
    assert_same_cron("@midnight", "0 0 * * *");
    assert_same_cron("@hourly", "0 * * * *");
    assert_same_cron("  @DAILY\t", "0 0 * * *");
    assert_same_cron("@Hourly", "0 * * * *");
    struct chr_cron c = parse_ok("@hourly");
    assert_true(c.hour_wildcard);
    assert_false(parse_ok("@daily").hour_wildcard);
}

/* ---- Parsing: errors ---------------------------------------------------- */

static void test_error_out_of_range(void **state)
{
    (void)state;
    assert_error("60 * * * *", "minute", "minute: 60 is out of range 0-59");
    assert_error("* 24 * * *", "hour", "hour: 24 is out of range 0-23");
    assert_error("* * 0 * *", "day-of-month", "day-of-month: 0 is out of range 1-31");
    assert_error("* * 32 * *", "day-of-month", "32 is out of range 1-31");
    assert_error("* * * 0 *", "month", "month: 0 is out of range 1-12");
    assert_error("* * * 13 *", "month", "13 is out of range 1-12");
    assert_error("* * * * 8", "day-of-week", "day-of-week: 8 is out of range 0-7");
    assert_error("* * * * 1-8", "day-of-week", "8 is out of range 0-7");
    assert_error("99999999999999999999 * * * *", "minute",
                 "99999999999999999999 is out of range 0-59");
    assert_error("* * L-31 * *", "day-of-month", "31 is out of range 1-30");
    assert_error("* * L-0 * *", "day-of-month", "0 is out of range 1-30");
    assert_error("* * 32W * *", "day-of-month", "32 is out of range 1-31");
    assert_error("* * 0W * *", "day-of-month", "0 is out of range 1-31");
    assert_error("* * * * 1#6", "day-of-week", "6 is out of range 1-5");
    assert_error("* * * * 1#0", "day-of-week", "0 is out of range 1-5");
    assert_error("* * * * 8#1", "day-of-week", "8 is out of range 0-7");
    assert_error("* * * * 8L", "day-of-week", "8 is out of range 0-7");
}

static void test_error_steps_and_ranges(void **state)
{
    (void)state;
    assert_error("*/0 * * * *", "minute", "minute: step 0 is not allowed");
    assert_error("* 1-5/0 * * *", "hour", "hour: step 0 is not allowed");
    assert_error("* * * JAN/0 *", "month", "step 0 is not allowed");
    assert_error("* 5-3 * * *", "hour", "hour: range 5-3 is reversed");
    assert_error("* * * * FRI-MON", "day-of-week", "range FRI-MON is reversed");
    assert_error("* * 20-10 * *", "day-of-month", "range 20-10 is reversed");
    assert_error("*/ * * * *", "minute", "incomplete");
    assert_error("5- * * * *", "minute", "incomplete");
    assert_error("1-2-3 * * * *", "minute", "unexpected '-'");
    assert_error("*/2/3 * * * *", "minute", "unexpected '/'");
    assert_error("*-5 * * * *", "minute", "unexpected '-'");
    assert_error("*/x * * * *", "minute", "unexpected 'x'");
}

static void test_error_names_and_characters(void **state)
{
    (void)state;
    assert_error("* * * FOO *", "month", "month: unknown name 'FOO'");
    assert_error("* * * MON *", "month", "unknown name 'MON'");
    assert_error("* * * * JAN", "day-of-week", "day-of-week: unknown name 'JAN'");
    assert_error("* * * * MONDAY", "day-of-week", "unknown name 'MONDAY'");
    assert_error("* * * * MON-FOO", "day-of-week", "unknown name 'FOO'");
    assert_error("abc * * * *", "minute", "minute: 'abc' is not a number");
    assert_error("? * * * *", "minute", "'?' is allowed only in");
    assert_error("* ? * * *", "hour", "'?' is allowed only in");
    assert_error("* * * ? *", "month", "'?' is allowed only in");
    assert_error("* * ?,1 * *", "day-of-month", "unexpected '?'");
    assert_error("* * * * L", "day-of-week", "'L' needs a day");
    assert_error("* * LX * *", "day-of-month", "unexpected 'X'");
    assert_error("* * 5L * *", "day-of-month", "unexpected 'L'");
    assert_error("* * * * 1W", "day-of-week", "unexpected 'W'");
    assert_error("* * 1-5W * *", "day-of-month", "unexpected '-'");
    assert_error("5\x01 * * * *", "minute", "unexpected byte 0x01");
    assert_error("5\n * * * *", "minute", "unexpected byte 0x0a");
}

static void test_error_lists(void **state)
{
    (void)state;
    assert_error("* * 1,,2 * *", "day-of-month", "day-of-month: empty item in list");
    assert_error("1, * * * *", "minute", "empty item in list");
    assert_error("* ,1 * * *", "hour", "empty item in list");
    assert_error("* * * * ,", "day-of-week", "empty item in list");
}

static void test_error_field_count(void **state)
{
    (void)state;
    assert_error("* * * * * *", "expression", "expression: expected 5 fields, got 6");
    assert_error("* * * *", "expression", "expected 5 fields, got 4");
    assert_error("", "expression", "expected 5 fields, got 0");
    assert_error("   \t ", "expression", "expected 5 fields, got 0");
    assert_error("0 0 1 1 * 2024", "expression", "got 6");
}

static void test_error_macros_and_input(void **state)
{
    (void)state;
    assert_error("@reboot", "expression", "@reboot is not supported");
    assert_error("@every 5m", "expression", "@every is not supported");
    assert_error("@every", "expression", "@every is not supported");
    assert_error("@fortnightly", "expression", "unknown macro '@fortnightly'");
    assert_error("@", "expression", "unknown macro '@'");
    assert_error("@daily 5", "expression", "unexpected '5' after @daily");
    assert_error("@dailyx", "expression", "unknown macro");
    assert_error("0 @daily * * *", "hour", "unexpected '@'");

    char longer[CHR_SCHEDULE_LEN_MAX + 2];
    memset(longer, ' ', sizeof longer);
    memcpy(longer, "* * * * *", 9);
    longer[sizeof longer - 1] = '\0'; /* 513 bytes */
    assert_error(longer, "expression", "longer than");
    longer[sizeof longer - 2] = '\0'; /* 512 bytes: accepted */
    parse_ok(longer);

    struct chr_cron c;
    struct chr_error err;
    assert_int_equal(chr_cron_parse(NULL, &c, &err), CHR_EINVAL);
    assert_string_equal(err.field, "expression");
    assert_int_equal(chr_cron_parse("bad", &c, NULL), CHR_EINVAL); /* err may be NULL */
}

static void test_error_never_fires(void **state)
{
    (void)state;
    assert_error("0 0 30 2 *", "expression", "expression: can never fire");
    assert_error("0 0 31 4,6,9,11 *", "expression", "can never fire");
    assert_error("0 0 30,31 FEB *", "expression", "can never fire");
    assert_error("0 0 31W 4 *", "expression", "can never fire");
    assert_error("0 0 L-29 2 *", "expression", "can never fire");
    assert_error("0 0 30 2 ?", "expression", "can never fire");
    parse_ok("0 0 29 2 *");      /* leap years */
    parse_ok("0 0 L-28 2 *");    /* Feb 1 of leap years */
    parse_ok("0 0 30 2 1");      /* either day field: every Monday of February */
    parse_ok("0 0 ? 2 1#5");     /* a leap February that starts on a Monday (2044) */
    parse_ok("0 0 31 1-12 *");
}

/* ---- Day matching ------------------------------------------------------- */

static void test_day_or_when_both_restricted(void **state)
{
    (void)state;
    struct chr_cron c = parse_ok("0 0 13 * 5"); /* the 13th, or any Friday */
    assert_true(chr_cron_day_matches(&c, 2024, 9, 13));  /* Friday the 13th */
    assert_true(chr_cron_day_matches(&c, 2024, 3, 13));  /* a Wednesday */
    assert_true(chr_cron_day_matches(&c, 2024, 3, 15));  /* a Friday */
    assert_false(chr_cron_day_matches(&c, 2024, 3, 14)); /* a Thursday */
    c = parse_ok("0 0 */2 * 1"); /* `*` with a step is restricted: odd days or Mondays */
    assert_true(chr_cron_day_matches(&c, 2024, 3, 3));   /* Sunday, odd */
    assert_true(chr_cron_day_matches(&c, 2024, 3, 4));   /* Monday, even */
    assert_false(chr_cron_day_matches(&c, 2024, 3, 6));  /* Wednesday, even */
}

static void test_day_and_when_one_is_star(void **state)
{
    (void)state;
    struct chr_cron c = parse_ok("0 0 1-7 * ?");
    assert_true(chr_cron_day_matches(&c, 2024, 3, 7));
    assert_false(chr_cron_day_matches(&c, 2024, 3, 11)); /* a Monday, but dow is ? */
    c = parse_ok("0 0 * * 1");
    assert_true(chr_cron_day_matches(&c, 2024, 3, 11));
    assert_false(chr_cron_day_matches(&c, 2024, 3, 7));
    c = parse_ok("0 0 * * *");
    assert_true(chr_cron_day_matches(&c, 2024, 2, 29));
    assert_false(chr_cron_day_matches(&c, 2023, 2, 29)); /* no such day */
    assert_false(chr_cron_day_matches(&c, 2024, 4, 31));
    assert_false(chr_cron_day_matches(&c, 2024, 13, 1));
    assert_false(chr_cron_day_matches(&c, 2024, 1, 0));
}

static void test_day_last_and_before_last(void **state)
{
    (void)state;
    struct chr_cron c = parse_ok("0 0 L * *");
    assert_true(chr_cron_day_matches(&c, 2024, 2, 29));
    assert_false(chr_cron_day_matches(&c, 2024, 2, 28));
    assert_true(chr_cron_day_matches(&c, 2023, 2, 28));
    assert_true(chr_cron_day_matches(&c, 2024, 4, 30));
    c = parse_ok("0 0 L-1 * *");
    assert_true(chr_cron_day_matches(&c, 2024, 2, 28));
    assert_true(chr_cron_day_matches(&c, 2024, 3, 30));
    assert_false(chr_cron_day_matches(&c, 2024, 3, 31));
    c = parse_ok("0 0 L-30 * *"); /* only in 31-day months, on the 1st */
    assert_true(chr_cron_day_matches(&c, 2024, 3, 1));
    assert_false(chr_cron_day_matches(&c, 2024, 4, 1));
    for (int d = 1; d <= 29; d++)
        assert_false(chr_cron_day_matches(&c, 2024, 2, d));
}

static void test_day_nearest_weekday(void **state)
{
    (void)state;
    struct chr_cron c = parse_ok("0 0 1W * *");
    /* June 2024 starts on a Saturday: Monday the 3rd, not May 31. */
    assert_true(chr_cron_day_matches(&c, 2024, 6, 3));
    assert_false(chr_cron_day_matches(&c, 2024, 6, 1));
    assert_true(chr_cron_day_matches(&c, 2024, 4, 1)); /* a Monday */
    c = parse_ok("0 0 31W * *");
    /* 2024-03-31 is a Sunday: Friday the 29th, not April 1. */
    assert_true(chr_cron_day_matches(&c, 2024, 3, 29));
    assert_false(chr_cron_day_matches(&c, 2024, 3, 31));
    for (int d = 1; d <= 30; d++)
        assert_false(chr_cron_day_matches(&c, 2024, 4, d)); /* April has no 31st */
    c = parse_ok("0 0 15W,16W * *");
    assert_true(chr_cron_day_matches(&c, 2024, 6, 14));  /* 15th a Saturday: Friday */
    assert_true(chr_cron_day_matches(&c, 2024, 6, 17));  /* 16th a Sunday: Monday */
    assert_false(chr_cron_day_matches(&c, 2024, 6, 15));
    assert_false(chr_cron_day_matches(&c, 2024, 6, 16));
}

static void test_day_last_weekday(void **state)
{
    (void)state;
    struct chr_cron c = parse_ok("0 0 LW * *");
    assert_true(chr_cron_day_matches(&c, 2024, 6, 28));  /* 30th a Sunday */
    assert_false(chr_cron_day_matches(&c, 2024, 6, 30));
    assert_true(chr_cron_day_matches(&c, 2024, 8, 30));  /* 31st a Saturday */
    assert_false(chr_cron_day_matches(&c, 2024, 8, 31));
    assert_true(chr_cron_day_matches(&c, 2024, 4, 30));  /* a Tuesday */
}

static void test_day_last_and_nth_weekday(void **state)
{
    (void)state;
    struct chr_cron c = parse_ok("0 0 ? * 5L");
    assert_true(chr_cron_day_matches(&c, 2024, 3, 29));
    assert_false(chr_cron_day_matches(&c, 2024, 3, 22));
    c = parse_ok("0 0 ? * SUNL");
    assert_true(chr_cron_day_matches(&c, 2024, 3, 31));
    assert_false(chr_cron_day_matches(&c, 2024, 3, 24));
    c = parse_ok("0 0 ? * 1#1");
    assert_true(chr_cron_day_matches(&c, 2024, 4, 1));
    assert_false(chr_cron_day_matches(&c, 2024, 4, 8));
    c = parse_ok("0 0 ? * 1#5");
    assert_true(chr_cron_day_matches(&c, 2024, 4, 29));
    for (int d = 1; d <= 29; d++) /* Mondays of Feb 2024: 5, 12, 19, 26 */
        assert_false(chr_cron_day_matches(&c, 2024, 2, d));
    c = parse_ok("0 0 ? * 5#5,4#1");
    assert_true(chr_cron_day_matches(&c, 2024, 3, 29));
    assert_true(chr_cron_day_matches(&c, 2024, 3, 7));
    assert_false(chr_cron_day_matches(&c, 2024, 3, 14));
}

/* ---- Wall-time matching ------------------------------------------------- */

static void assert_match(const char *expr, const char *from, const char *want)
{
    struct chr_cron c = parse_ok(expr);
    int64_t got = 0;
    assert_int_equal(chr_cron_match_ge(&c, T(from), &got), CHR_OK);
    assert_instant(got, want);
}

static void test_match_ge(void **state)
{
    (void)state;
    assert_match("*/5 * * * *", "2024-03-10T10:02:30Z", "2024-03-10T10:05:00Z");
    assert_match("*/5 * * * *", "2024-03-10T10:05:00Z", "2024-03-10T10:05:00Z"); /* >= */
    assert_match("*/5 * * * *", "2024-03-10T10:05:00.001Z", "2024-03-10T10:10:00Z");
    assert_match("*/5 * * * *", "2024-12-31T23:58:00Z", "2025-01-01T00:00:00Z");
    assert_match("0 0 1 1 *", "2024-06-01T00:00:00Z", "2025-01-01T00:00:00Z");
    assert_match("0 0 29 2 *", "2024-03-01T00:00:00Z", "2028-02-29T00:00:00Z");
    assert_match("0 0 29 2 *", "2096-03-01T00:00:00Z", "2104-02-29T00:00:00Z"); /* 2100 */
    assert_match("30 9 * * 1-5", "2024-03-08T09:31:00Z", "2024-03-11T09:30:00Z");
    assert_match("15 3,20 * * *", "2024-03-10T03:16:00Z", "2024-03-10T20:15:00Z");
    assert_match("0 0 L * *", "2024-02-01T00:00:00Z", "2024-02-29T00:00:00Z");
    assert_match("0 0 L-30 * *", "2024-02-01T00:00:00Z", "2024-03-01T00:00:00Z");
    assert_match("0 0 L-30 * *", "2024-03-01T00:01:00Z", "2024-05-01T00:00:00Z");
    assert_match("0 12 LW * *", "2024-06-01T00:00:00Z", "2024-06-28T12:00:00Z");
    assert_match("0 0 ? * 1#5", "2024-02-01T00:00:00Z", "2024-04-29T00:00:00Z");
    assert_match("0 0 ? 2 1#5", "2024-01-01T00:00:00Z", "2044-02-29T00:00:00Z");
    assert_match("0 0 1 1 *", "1969-06-01T00:00:00Z", "1970-01-01T00:00:00Z");
    assert_match("0 0 1 1 *", "1900-01-01T00:00:01Z", "1901-01-01T00:00:00Z");
}

static void test_match_ge_none(void **state)
{
    (void)state;
    struct chr_cron c = parse_ok("* * * * *");
    c.months = 0; /* not a parse result: the search must still end */
    int64_t got;
    assert_int_equal(chr_cron_match_ge(&c, T("2024-01-01T00:00:00Z"), &got), CHR_ENONE);
    assert_int_equal(chr_cron_next(&c, chr_tz_utc(), T("2024-01-01T00:00:00Z"), &got), CHR_ENONE);
    c = parse_ok("* * * * *");
    assert_int_equal(chr_cron_match_ge(&c, INT64_MAX, &got), CHR_ENONE);
    assert_int_equal(chr_cron_next(&c, chr_tz_utc(), INT64_MAX, &got), CHR_ENONE);
}

/* ---- Firing instants: UTC ----------------------------------------------- */

static void test_next_utc(void **state)
{
    (void)state;
    const struct chr_tz *utc = chr_tz_utc();
    FIRINGS("*/5 * * * *", utc, "2024-03-10T10:05:00Z", "2024-03-10T10:10:00Z",
            "2024-03-10T10:15:00Z");
    FIRINGS("0 3 * * 1-5", utc, "2024-03-08T03:00:00Z", "2024-03-11T03:00:00Z",
            "2024-03-12T03:00:00Z");
    FIRINGS("@yearly", utc, "2024-01-01T00:00:00Z", "2025-01-01T00:00:00Z",
            "2026-01-01T00:00:00Z");
    FIRINGS("@monthly", utc, "2024-01-31T12:00:00Z", "2024-02-01T00:00:00Z",
            "2024-03-01T00:00:00Z");
    FIRINGS("@weekly", utc, "2024-03-08T00:00:00Z", "2024-03-10T00:00:00Z",
            "2024-03-17T00:00:00Z");
    FIRINGS("@hourly", utc, "2024-03-10T23:59:59.999Z", "2024-03-11T00:00:00Z",
            "2024-03-11T01:00:00Z");
    FIRINGS("0 0 29 2 *", utc, "2096-02-29T00:00:00Z", "2104-02-29T00:00:00Z");
    FIRINGS("0 0 13 * 5", utc, "2024-09-05T00:00:00Z", "2024-09-06T00:00:00Z",
            "2024-09-13T00:00:00Z", "2024-09-20T00:00:00Z", "2024-09-27T00:00:00Z",
            "2024-10-04T00:00:00Z", "2024-10-11T00:00:00Z", "2024-10-13T00:00:00Z");
    FIRINGS("0 0 1 1 *", utc, "1969-12-31T23:59:59.999Z", "1970-01-01T00:00:00Z",
            "1971-01-01T00:00:00Z");
}

/* ---- Firing instants: DST ----------------------------------------------- */

static void test_next_new_york_spring_forward(void **state)
{
    (void)state;
    const struct chr_tz *ny = zone("America/New_York");
    /* 2030-03-10 02:00 EST -> 03:00 EDT: walls 02:00-02:59 do not occur. */
    FIRINGS("30 2 * * *", ny, "2030-03-09T00:00:00Z", "2030-03-09T07:30:00Z",
            "2030-03-10T07:30:00Z", /* 02:30 -> 03:30 EDT */
            "2030-03-11T06:30:00Z");
    FIRINGS("0 2 * * *", ny, "2030-03-10T00:00:00Z", "2030-03-10T07:00:00Z",
            "2030-03-11T06:00:00Z");
    FIRINGS("30 2 * * *", ny, "2030-03-10T07:29:59Z", "2030-03-10T07:30:00Z");
    /* The `*` hour follows the clock: 02:00 and 02:30 have nothing to fire. */
    FIRINGS("*/30 * * * *", ny, "2030-03-10T06:00:00Z", "2030-03-10T06:30:00Z",
            "2030-03-10T07:00:00Z", "2030-03-10T07:30:00Z");
    /* Every minute of the skipped hour fires once, shifted into 03:xx. */
    FIRINGS("* 2 * * *", ny, "2030-03-10T06:58:00Z", "2030-03-10T07:00:00Z",
            "2030-03-10T07:01:00Z");
    FIRINGS("* 2 * * *", ny, "2030-03-10T07:58:00Z", "2030-03-10T07:59:00Z",
            "2030-03-11T06:00:00Z");
    /* 02:00 shifted and 03:00 are one instant, fired once. */
    FIRINGS("0,30 2,3 * * *", ny, "2030-03-10T06:00:00Z", "2030-03-10T07:00:00Z",
            "2030-03-10T07:30:00Z", "2030-03-11T06:00:00Z");
    FIRINGS("0 3 * * *", ny, "2030-03-10T00:00:00Z", "2030-03-10T07:00:00Z");
    FIRINGS("59 1 * * *", ny, "2030-03-10T00:00:00Z", "2030-03-10T06:59:00Z");
}

static void test_next_new_york_fall_back(void **state)
{
    (void)state;
    const struct chr_tz *ny = zone("America/New_York");
    /* 2030-11-03 02:00 EDT -> 01:00 EST: walls 01:00-01:59 occur twice. */
    FIRINGS("30 1 * * *", ny, "2030-11-03T00:00:00Z", "2030-11-03T05:30:00Z",
            "2030-11-04T06:30:00Z");
    FIRINGS("30 1 * * *", ny, "2030-11-03T05:40:00Z", "2030-11-04T06:30:00Z");
    FIRINGS("0 1 * * *", ny, "2030-11-03T04:00:00Z", "2030-11-03T05:00:00Z",
            "2030-11-04T06:00:00Z");
    FIRINGS("*/30 1 * * *", ny, "2030-11-03T04:00:00Z", "2030-11-03T05:00:00Z",
            "2030-11-03T05:30:00Z", "2030-11-04T06:00:00Z");
    FIRINGS("*/30 * * * *", ny, "2030-11-03T04:45:00Z", "2030-11-03T05:00:00Z",
            "2030-11-03T05:30:00Z", "2030-11-03T06:00:00Z", "2030-11-03T06:30:00Z",
            "2030-11-03T07:00:00Z");
    FIRINGS("0 * * * *", ny, "2030-11-03T04:30:00Z", "2030-11-03T05:00:00Z",
            "2030-11-03T06:00:00Z", "2030-11-03T07:00:00Z");
    /* Searching from inside the second pass. */
    FIRINGS("0 * * * *", ny, "2030-11-03T06:00:00Z", "2030-11-03T07:00:00Z");
    FIRINGS("15 2 * * *", ny, "2030-11-03T00:00:00Z", "2030-11-03T07:15:00Z");
    FIRINGS("0 0 * * *", ny, "2030-11-02T12:00:00Z", "2030-11-03T04:00:00Z",
            "2030-11-04T05:00:00Z");
}

static void test_next_london(void **state)
{
    (void)state;
    const struct chr_tz *lon = zone("Europe/London");
    /* 2030-10-27 02:00 BST -> 01:00 GMT. */
    FIRINGS("30 1 * * *", lon, "2030-10-26T12:00:00Z", "2030-10-27T00:30:00Z",
            "2030-10-28T01:30:00Z");
    FIRINGS("30 * * * *", lon, "2030-10-26T23:45:00Z", "2030-10-27T00:30:00Z",
            "2030-10-27T01:30:00Z", "2030-10-27T02:30:00Z");
}

static void test_next_lord_howe(void **state)
{
    (void)state;
    const struct chr_tz *lh = zone("Australia/Lord_Howe");
    /* 2030-10-06 02:00 +10:30 -> 02:30 +11: walls 02:00-02:29 do not occur. */
    FIRINGS("0 2 * * *", lh, "2030-10-05T12:00:00Z", "2030-10-05T15:30:00Z");
    FIRINGS("15 2 * * *", lh, "2030-10-05T12:00:00Z", "2030-10-05T15:45:00Z");
    FIRINGS("45 2 * * *", lh, "2030-10-05T12:00:00Z", "2030-10-05T15:45:00Z");
    FIRINGS("*/15 * * * *", lh, "2030-10-05T15:00:00Z", "2030-10-05T15:15:00Z",
            "2030-10-05T15:30:00Z", "2030-10-05T15:45:00Z");
    /* 2030-04-07 02:00 +11 -> 01:30 +10:30: walls 01:30-01:59 occur twice. */
    FIRINGS("45 1 * * *", lh, "2030-04-06T12:00:00Z", "2030-04-06T14:45:00Z",
            "2030-04-07T15:15:00Z");
    FIRINGS("*/15 * * * *", lh, "2030-04-06T14:20:00Z", "2030-04-06T14:30:00Z",
            "2030-04-06T14:45:00Z", "2030-04-06T15:00:00Z", "2030-04-06T15:15:00Z",
            "2030-04-06T15:30:00Z");
    FIRINGS("0 2 * * *", lh, "2030-04-06T12:00:00Z", "2030-04-06T15:30:00Z");
    FIRINGS("15 1 * * *", lh, "2030-04-06T12:00:00Z", "2030-04-06T14:15:00Z");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_stars),
        cmocka_unit_test(test_parse_numbers_ranges_lists),
        cmocka_unit_test(test_parse_steps),
        cmocka_unit_test(test_parse_names),
        cmocka_unit_test(test_parse_sunday_is_0_and_7),
        cmocka_unit_test(test_parse_question_mark),
        cmocka_unit_test(test_parse_whitespace),
        cmocka_unit_test(test_parse_day_extensions),
        cmocka_unit_test(test_parse_macros),
        cmocka_unit_test(test_error_out_of_range),
        cmocka_unit_test(test_error_steps_and_ranges),
        cmocka_unit_test(test_error_names_and_characters),
        cmocka_unit_test(test_error_lists),
        cmocka_unit_test(test_error_field_count),
        cmocka_unit_test(test_error_macros_and_input),
        cmocka_unit_test(test_error_never_fires),
        cmocka_unit_test(test_day_or_when_both_restricted),
        cmocka_unit_test(test_day_and_when_one_is_star),
        cmocka_unit_test(test_day_last_and_before_last),
        cmocka_unit_test(test_day_nearest_weekday),
        cmocka_unit_test(test_day_last_weekday),
        cmocka_unit_test(test_day_last_and_nth_weekday),
        cmocka_unit_test(test_match_ge),
        cmocka_unit_test(test_match_ge_none),
        cmocka_unit_test(test_next_utc),
        cmocka_unit_test(test_next_new_york_spring_forward),
        cmocka_unit_test(test_next_new_york_fall_back),
        cmocka_unit_test(test_next_london),
        cmocka_unit_test(test_next_lord_howe),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
