/*
 * test_interval.c - ISO 8601 repeating intervals R[n]/start/period exactly as
 * time.md (the shared contract) defines them: the grammar and an error naming the
 * wrong part for every way to break it (chr_interval_parse, chr_schedule_parse),
 * and the instants a schedule fires at (chr_schedule_next, _next_n,
 * chr_interval_occurrence): counts, calendar periods that keep the local time
 * across DST, elapsed periods that do not, month-end clamping computed from the
 * start, the zone-versus-offset rule, fast answers far from the start, and
 * DST gaps and overlaps in New York, Lord Howe, Chatham, Sao Paulo and Apia.
 *
 * Every expected instant was derived by hand from time.md's five steps and
 * the zones' rules (reasoning next to the non-obvious cases) and cross-checked
 * with an independent Python model over zoneinfo; none came from our code.
 */
#include "../unit.h"

#include <stdbool.h>
#include <stdlib.h>

#include "common/limits.h"

/* ---- fixture and helpers --------------------------------------------------- */

static int group_setup(void **state)
{
    struct chr_tzdb *db = NULL;
    if (chr_tzdb_create(NULL, &db) != CHR_OK || db == NULL)
        return -1;
    *state = db;
    return 0;
}

static int group_teardown(void **state)
{
    chr_tzdb_destroy(*state);
    return 0;
}

static const struct chr_tz *zone(void **state, const char *name)
{
    const struct chr_tz *tz = NULL;
    struct chr_error err;
    memset(&err, 0, sizeof err);
    if (chr_tzdb_get(*state, name, &tz, &err) != CHR_OK || tz == NULL)
        fail_msg("chr_tzdb_get('%s'): %s", name, err.message);
    return tz;
}

/* Parses `expr` for a job in zone `zone_name` (NULL: no zone), with the
 * fixture's database. */
static struct chr_schedule sched(void **state, const char *expr, const char *zone_name)
{
    struct chr_schedule s;
    struct chr_error err;
    memset(&s, 0, sizeof s);
    memset(&err, 0, sizeof err);
    const struct chr_tz *tz = zone_name ? zone(state, zone_name) : NULL;
    enum chr_err e = chr_schedule_parse(expr, tz, *state, &s, &err);
    if (e != CHR_OK)
        fail_msg("chr_schedule_parse('%s', %s) = %d: %s", expr, zone_name ? zone_name : "no zone",
                 (int)e, err.message);
    assert_int_equal(s.kind, CHR_SCHEDULE_ISO8601);
    assert_non_null(s.tz);
    return s;
}

/* The instants after `after` must be exactly `want` (a NULL-terminated list;
 * when `ends` the schedule has no more after them).  Checked both with
 * chr_schedule_next_n and by chaining chr_schedule_next. */
static void expect_after(const struct chr_schedule *s, const char *after, bool ends,
                         const char *const *want)
{
    size_t n = 0;
    while (want[n] != NULL)
        n++;
    int64_t got[40];
    assert_true(n < 32);
    size_t ask = ends ? n + 3 : n;
    size_t m = chr_schedule_next_n(s, T(after), got, ask);
    for (size_t i = 0; i < n && i < m; i++) {
        char txt[CHR_INSTANT_TEXT_MAX];
        chr_instant_format(got[i], txt);
        if (got[i] != T(want[i]))
            fail_msg("after %s, instant #%zu is %s, want %s", after, i + 1, txt, want[i]);
    }
    if (m != n)
        fail_msg("after %s: %zu instants, want %zu", after, m, n);
    int64_t at = T(after), next = 0;
    for (size_t i = 0; i < n; i++) {
        assert_int_equal(chr_schedule_next(s, at, &next), CHR_OK);
        assert_instant(next, want[i]);
        at = next;
    }
    if (ends)
        assert_int_equal(chr_schedule_next(s, at, &next), CHR_ENONE);
}

#define AFTER(s, after, ...)                                                                 \
    do {                                                                                    \
        const char *const want_[] = {__VA_ARGS__, NULL};                                    \
        expect_after((s), (after), false, want_);                                           \
    } while (0)

#define AFTER_ENDS(s, after, ...)                                                            \
    do {                                                                                    \
        const char *const want_[] = {__VA_ARGS__, NULL};                                    \
        expect_after((s), (after), true, want_);                                            \
    } while (0)

static struct chr_interval interval(const char *expr)
{
    struct chr_interval iv;
    struct chr_error err;
    memset(&iv, 0, sizeof iv);
    memset(&err, 0, sizeof err);
    if (chr_interval_parse(expr, &iv, &err) != CHR_OK)
        fail_msg("chr_interval_parse('%s'): %s", expr, err.message);
    return iv;
}

/* True when `message` contains one of the '|'-separated words in `alts`. */
static bool mentions(const char *message, const char *alts)
{
    char buf[128];
    snprintf(buf, sizeof buf, "%s", alts);
    for (char *w = buf, *bar; w != NULL; w = bar ? bar + 1 : NULL) {
        bar = strchr(w, '|');
        if (bar)
            *bar = '\0';
        if (strstr(message, w) != NULL)
            return true;
    }
    return false;
}

/*
 * `expr` must be rejected, by chr_interval_parse and by chr_schedule_parse
 * (which must leave its output untouched), with CHR_EINVAL; `field` (NULL:
 * any) must be the error's field and the message must start with it; the
 * message must mention one of `alts` (NULL: anything non-empty).
 */
static void reject_at(void **state, const char *expr, const char *field, const char *alts,
                      int line)
{
    struct chr_interval iv;
    struct chr_error err;
    memset(&err, 0, sizeof err);
    enum chr_err e = chr_interval_parse(expr, &iv, &err);
    if (e != CHR_EINVAL)
        fail_msg("line %d: chr_interval_parse('%s') = %d, want CHR_EINVAL", line, expr, (int)e);
    if (err.message[0] == '\0')
        fail_msg("line %d: '%s': empty error message", line, expr);
    if (field != NULL) {
        char prefix[CHR_ERROR_FIELD_MAX + 4];
        snprintf(prefix, sizeof prefix, "%s: ", field);
        if (strcmp(err.field, field) != 0 || strncmp(err.message, prefix, strlen(prefix)) != 0)
            fail_msg("line %d: '%s': field '%s', message '%s'; want field '%s'", line, expr,
                     err.field, err.message, field);
    }
    if (alts != NULL && !mentions(err.message, alts))
        fail_msg("line %d: '%s': message '%s' does not mention %s", line, expr, err.message, alts);

    struct chr_schedule s, before;
    memset(&s, 0xA5, sizeof s);
    memcpy(&before, &s, sizeof s);
    struct chr_error err2;
    memset(&err2, 0, sizeof err2);
    e = chr_schedule_parse(expr, NULL, *state, &s, &err2);
    if (e != CHR_EINVAL)
        fail_msg("line %d: chr_schedule_parse('%s') = %d, want CHR_EINVAL", line, expr, (int)e);
    if (memcmp(&s, &before, sizeof s) != 0)
        fail_msg("line %d: chr_schedule_parse('%s') changed its output on failure", line, expr);
}

#define REJECT(expr, field, alts) reject_at(state, (expr), (field), (alts), __LINE__)

#define START "2024-01-01T00:00:00Z"

/* ---- the grammar: what parses, and into what ---------------------------- */

static void test_parse_fields(void **state)
{
    (void)state;
    struct chr_interval iv = interval("R5/2024-01-31T10:00:00Z/P1Y2M3W4DT5H6M7.5S");
    assert_int_equal(iv.count, 5);
    assert_int_equal(iv.months, 14);                        /* 1 Y + 2 M */
    assert_int_equal(iv.days, 25);                          /* 3 W + 4 D */
    assert_int_equal(iv.elapsed_ms, 18000000 + 360000 + 7500); /* 5 h 6 min 7.5 s */
    assert_instant(iv.start_local_ms, "2024-01-31T10:00:00Z");
    assert_true(iv.start_has_offset);
    assert_int_equal(iv.start_offset_s, 0);

    iv = interval("R/2024-01-31T10:00:00+05:30/PT1H");
    assert_int_equal(iv.count, -1);
    assert_int_equal(iv.months, 0);
    assert_int_equal(iv.days, 0);
    assert_int_equal(iv.elapsed_ms, CHR_MS_PER_HOUR);
    /* The written wall-clock fields, not the instant. */
    assert_instant(iv.start_local_ms, "2024-01-31T10:00:00Z");
    assert_true(iv.start_has_offset);
    assert_int_equal(iv.start_offset_s, 19800);

    iv = interval("R0/2024-01-01/P1D");
    assert_int_equal(iv.count, 0);
    assert_int_equal(iv.days, 1);
    assert_instant(iv.start_local_ms, "2024-01-01T00:00:00Z");
    assert_false(iv.start_has_offset);

    iv = interval("R/2024-01-01T10:00-03:00/PT1M");
    assert_int_equal(iv.start_offset_s, -10800);
    assert_int_equal(iv.elapsed_ms, CHR_MS_PER_MIN);
    assert_instant(iv.start_local_ms, "2024-01-01T10:00:00Z");

    iv = interval("R/2024-01-01T10:00:15.123999/PT1S");
    assert_instant(iv.start_local_ms, "2024-01-01T10:00:15.123Z");
    assert_false(iv.start_has_offset);

    iv = interval("R9223372036854775807/" START "/PT1S");
    assert_true(iv.count == INT64_MAX);
    iv = interval("R007/" START "/PT1S");
    assert_int_equal(iv.count, 7);
}

static void test_parse_periods(void **state)
{
    (void)state;
    struct {
        const char *period;
        int64_t months, days, elapsed_ms;
    } ok[] = {
        {"P1Y", 12, 0, 0},
        {"P1M", 1, 0, 0},
        {"PT1M", 0, 0, 60000},
        {"P1W", 0, 7, 0},
        {"P2W", 0, 14, 0},
        {"P1D", 0, 1, 0},
        {"PT36H", 0, 0, 36 * CHR_MS_PER_HOUR},
        {"PT0.5S", 0, 0, 500},
        {"PT0.05S", 0, 0, 50},
        {"PT0.005S", 0, 0, 5},
        {"PT1.1S", 0, 0, 1100},
        {"PT1.123S", 0, 0, 1123},
        {"PT90M", 0, 0, 90 * CHR_MS_PER_MIN},
        {"P1DT12H", 0, 1, 12 * CHR_MS_PER_HOUR},
        {"P1M0D", 1, 0, 0},
        {"P0Y1D", 0, 1, 0},
        {"PT0H0M1S", 0, 0, 1000},
        {"P1DT0H", 0, 1, 0},
        {"P18M", 18, 0, 0},
        {"P1000000000Y", 12000000000LL, 0, 0},
        {"P1000000000W", 0, 7000000000LL, 0},
        {"PT1000000000S", 0, 0, 1000000000000LL},
        {"PT1000000000H", 0, 0, 1000000000LL * CHR_MS_PER_HOUR},
        {"P1000000000Y1000000000M1000000000W1000000000DT1000000000H1000000000M1000000000.999S",
         13000000000LL, 8000000000LL,
         1000000000LL * (CHR_MS_PER_HOUR + CHR_MS_PER_MIN + 1000) + 999},
    };
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        char expr[160];
        snprintf(expr, sizeof expr, "R/%s/%s", START, ok[i].period);
        struct chr_interval iv = interval(expr);
        if (iv.months != ok[i].months || iv.days != ok[i].days ||
            iv.elapsed_ms != ok[i].elapsed_ms)
            fail_msg("%s: months %lld days %lld elapsed %lld; want %lld %lld %lld", ok[i].period,
                     (long long)iv.months, (long long)iv.days, (long long)iv.elapsed_ms,
                     (long long)ok[i].months, (long long)ok[i].days,
                     (long long)ok[i].elapsed_ms);
    }
}

/* ---- the grammar: every way to break it ------------------------------------ */

static void test_reject_structure(void **state)
{
    REJECT("", NULL, NULL);
    REJECT("R", NULL, NULL);
    REJECT("R5", NULL, NULL);
    REJECT("R/", NULL, NULL);
    REJECT("X/" START "/P1D", NULL, NULL);
    REJECT("r/" START "/P1D", NULL, NULL);
    REJECT("R/" START "/P1D/", NULL, NULL);
    REJECT("R/" START "/P1D/P1D", NULL, NULL);
    REJECT("R//" START "/P1D", NULL, NULL);
    REJECT("R5//" START "/P1D", NULL, NULL);
    REJECT("R/" START "//P1D", NULL, NULL);
    REJECT(" R/" START "/P1D", NULL, NULL);
    REJECT("R /" START "/P1D", NULL, NULL);
    REJECT("R5 /" START "/P1D", NULL, NULL);
    REJECT("R/" START "/P1D\n", NULL, NULL);
    /* The period is missing. */
    REJECT("R/" START, NULL, "period");
    REJECT("R5/" START, NULL, "period");
    REJECT("R/" START "/", "period", NULL);
    /* Too long for any schedule. */
    char longer[CHR_SCHEDULE_LEN_MAX + 64];
    int n = snprintf(longer, sizeof longer, "R/%s/PT", START);
    memset(longer + n, '0', sizeof longer - (size_t)n - 3);
    memcpy(longer + sizeof longer - 3, "1S", 3);
    REJECT(longer, NULL, NULL);
}

static void test_reject_count(void **state)
{
    REJECT("R-1/" START "/P1D", NULL, "count|repetition");
    REJECT("R+5/" START "/P1D", NULL, "count|repetition");
    REJECT("R1.5/" START "/P1D", NULL, "count|repetition");
    REJECT("R5x/" START "/P1D", NULL, "count|repetition");
    REJECT("Rx/" START "/P1D", NULL, "count|repetition");
    REJECT("R 5/" START "/P1D", NULL, NULL);
    /* 2^63 is one more than int64 holds. */
    REJECT("R9223372036854775808/" START "/P1D", NULL, "count|repetition");
    REJECT("R18446744073709551616/" START "/P1D", NULL, "count|repetition");
    REJECT("R99999999999999999999999999999/" START "/P1D", NULL, "count|repetition");
}

static void test_reject_start(void **state)
{
    REJECT("R/P1D", NULL, "start");
    REJECT("R5/P1D", NULL, "start");
    REJECT("R//P1D", "start", NULL);
    REJECT("R/2024-13-01T00:00:00Z/P1D", "start", "month");
    REJECT("R/2024-00-01T00:00:00Z/P1D", "start", "month");
    REJECT("R/2024-02-30T00:00:00Z/P1D", "start", "day");
    REJECT("R/2100-02-29T00:00:00Z/P1D", "start", "day");
    REJECT("R/2024-04-31/P1D", "start", "day");
    REJECT("R/0000-01-01T00:00:00Z/P1D", "start", "year");
    REJECT("R/2024-01-01T24:00:00Z/P1D", "start", "hour");
    REJECT("R/2024-01-01T00:60:00Z/P1D", "start", "minute");
    REJECT("R/2024-01-01T00:00:60Z/P1D", "start", "second");
    REJECT("R/2024-01-01T00:00:00+19:00/P1D", "start", "offset");
    REJECT("R/2024-01-01T00:00:00-19:00/P1D", "start", "offset");
    REJECT("R/2024-01-01T00:00:00+05:60/P1D", "start", "offset");
    REJECT("R/2024-01-01t00:00:00Z/P1D", "start", NULL);
    REJECT("R/2024-01-01T00:00:00z/P1D", "start", NULL);
    REJECT("R/2024-1-01T00:00:00Z/P1D", "start", NULL);
    REJECT("R/2024-01-01T10/P1D", "start", NULL);
    REJECT("R/2024-01-01T/P1D", "start", NULL);
    REJECT("R/2024-01-01T00:00:00./P1D", "start", NULL);
    REJECT("R/2024-01-01T00:00:00+0530/P1D", "start", NULL);
    REJECT("R/2024-01-01 00:00:00Z/P1D", "start", NULL);
    REJECT("R/ 2024-01-01T00:00:00Z/P1D", "start", NULL);
    REJECT("R/2024-01-01T00:00:00Z /P1D", "start", NULL);
    REJECT("R/now/P1D", "start", NULL);
}

static void test_reject_period(void **state)
{
    /* The contract's own example. */
    REJECT("R/" START "/P", "period", "'P' has no components");
    REJECT("R5/" START "/P", "period", "'P' has no components");
    /* A trailing T. */
    REJECT("R/" START "/P1DT", "period", "T");
    REJECT("R/" START "/PT", "period", "T");
    /* Zero in total. */
    REJECT("R/" START "/P0D", "period", "zero");
    REJECT("R/" START "/PT0S", "period", "zero");
    REJECT("R/" START "/PT0.000S", "period", "zero");
    REJECT("R/" START "/P0Y0M0W0DT0H0M0S", "period", "zero");
    REJECT("R/" START "/P0W", "period", "zero");
    /* Out of order or repeated. */
    REJECT("R/" START "/P1D1Y", "period", NULL);
    REJECT("R/" START "/P1M1Y", "period", NULL);
    REJECT("R/" START "/P1W1M", "period", NULL);
    REJECT("R/" START "/P1D1W", "period", NULL);
    REJECT("R/" START "/P1D1D", "period", NULL);
    REJECT("R/" START "/PT1M1H", "period", NULL);
    REJECT("R/" START "/PT1S1M", "period", NULL);
    REJECT("R/" START "/PT1H1H", "period", NULL);
    REJECT("R/" START "/P1DT1S1H", "period", NULL);
    REJECT("R/" START "/PT1HT1M", "period", NULL);
    /* Designators in the wrong half. */
    REJECT("R/" START "/P1H", "period", NULL);
    REJECT("R/" START "/P1S", "period", NULL);
    REJECT("R/" START "/PT1D", "period", NULL);
    REJECT("R/" START "/PT1Y", "period", NULL);
    REJECT("R/" START "/PT1W", "period", NULL);
    /* A fraction anywhere but on S, or longer than milliseconds. */
    REJECT("R/" START "/PT1.5M", "period", NULL);
    REJECT("R/" START "/PT1.5H", "period", NULL);
    REJECT("R/" START "/P1.5D", "period", NULL);
    REJECT("R/" START "/P1.5W", "period", NULL);
    REJECT("R/" START "/P1.5M", "period", NULL);
    REJECT("R/" START "/P0.5Y", "period", NULL);
    REJECT("R/" START "/PT0.0001S", "period", NULL);
    REJECT("R/" START "/PT1.1234S", "period", NULL);
    REJECT("R/" START "/PT1.S", "period", NULL);
    REJECT("R/" START "/PT.5S", "period", NULL);
    /* Numbers: missing, signed, too big, without a designator. */
    REJECT("R/" START "/PD", "period", NULL);
    REJECT("R/" START "/PTS", "period", NULL);
    REJECT("R/" START "/P-1D", "period", NULL);
    REJECT("R/" START "/P+1D", "period", NULL);
    REJECT("R/" START "/P1", "period", NULL);
    REJECT("R/" START "/P1DT1", "period", NULL);
    REJECT("R/" START "/P1000000001D", "period", NULL);
    REJECT("R/" START "/PT1000000001S", "period", NULL);
    REJECT("R/" START "/P99999999999999999999999D", "period", NULL);
    /* Not a period at all, lower case, spaces. */
    REJECT("R/" START "/1D", "period", NULL);
    REJECT("R/" START "/p1d", "period", NULL);
    REJECT("R/" START "/P1d", "period", NULL);
    REJECT("R/" START "/pT1H", "period", NULL);
    REJECT("R/" START "/PT1h", "period", NULL);
    REJECT("R/" START "/Pt1H", "period", NULL);
    REJECT("R/" START "/P 1D", "period", NULL);
    REJECT("R/" START "/P1D ", "period", NULL);
    REJECT("R/" START "/ P1D", "period", NULL);
    REJECT("R/" START "/P1DT 1H", "period", NULL);
    REJECT("R/" START "/P0001-00-00", "period", NULL);
}

/* time.md's grammar is n[.fff]S: a '.' only.  (ISO 8601 and java.time also
 * allow ','; if chronos wants that, time.md must say so first.) */
static void test_reject_comma_fraction(void **state)
{
    REJECT("R/" START "/PT1,5S", "period", NULL);
    REJECT("R/" START "/PT0,500S", "period", NULL);
}

/* A start with a non-zero offset and no job zone needs a database for its
 * fixed zone (the header: else CHR_EINVAL); Z or no offset does not. */
static void test_parse_without_db(void **state)
{
    (void)state;
    struct chr_schedule s;
    struct chr_error err;
    assert_int_equal(chr_schedule_parse("R/2024-03-09T09:00:00-05:00/P1D", NULL, NULL, &s, &err),
                     CHR_EINVAL);
    assert_int_equal(chr_schedule_parse("R/2024-03-09T09:00:00Z/P1D", NULL, NULL, &s, &err),
                     CHR_OK);
    int64_t next = 0;
    assert_int_equal(chr_schedule_next(&s, T("2024-03-09T09:00:00Z"), &next), CHR_OK);
    assert_instant(next, "2024-03-10T09:00:00Z");
    assert_int_equal(chr_schedule_parse("R/2024-03-09T09:00:00/P1D", NULL, NULL, &s, &err),
                     CHR_OK);
    assert_string_equal(chr_tz_name(s.tz), "UTC");
}

/* ---- counts ----------------------------------------------------------------- */

static void test_r0_never_fires(void **state)
{
    struct chr_schedule s = sched(state, "R0/2024-01-01T00:00:00Z/P1D", NULL);
    int64_t next = 0, out[4];
    assert_int_equal(chr_schedule_next(&s, T("2000-01-01T00:00:00Z"), &next), CHR_ENONE);
    assert_int_equal(chr_schedule_next(&s, T("2024-01-01T00:00:00Z"), &next), CHR_ENONE);
    assert_int_equal(chr_schedule_next_n(&s, T("2000-01-01T00:00:00Z"), out, 4), 0);
    s = sched(state, "R0/2024-01-01T00:00:00/PT1S", "America/New_York");
    assert_int_equal(chr_schedule_next(&s, INT64_MIN, &next), CHR_ENONE);
}

static void test_r5_fires_five_times(void **state)
{
    struct chr_schedule s = sched(state, "R5/2024-01-01T00:00:00Z/P1D", NULL);
    AFTER_ENDS(&s, "2023-12-31T00:00:00Z", "2024-01-01T00:00:00Z", "2024-01-02T00:00:00Z",
               "2024-01-03T00:00:00Z", "2024-01-04T00:00:00Z", "2024-01-05T00:00:00Z");
    /* Strictly after: the start itself is not "after the start". */
    AFTER_ENDS(&s, "2024-01-01T00:00:00Z", "2024-01-02T00:00:00Z", "2024-01-03T00:00:00Z",
               "2024-01-04T00:00:00Z", "2024-01-05T00:00:00Z");
    AFTER_ENDS(&s, "2024-01-04T23:59:59.999Z", "2024-01-05T00:00:00Z");
    int64_t next = 0;
    assert_int_equal(chr_schedule_next(&s, T("2024-01-05T00:00:00Z"), &next), CHR_ENONE);
    assert_int_equal(chr_schedule_next(&s, T("2030-01-01T00:00:00Z"), &next), CHR_ENONE);
    /* R1: the start only. */
    s = sched(state, "R1/2024-01-01T00:00:00Z/PT1S", NULL);
    AFTER_ENDS(&s, "2023-01-01T00:00:00Z", "2024-01-01T00:00:00Z");
    /* n = 0 asks for nothing. */
    int64_t out[1];
    assert_int_equal(chr_schedule_next_n(&s, T("2023-01-01T00:00:00Z"), out, 0), 0);
}

/* ---- calendar periods keep the local time; elapsed ones do not ---------- */

/* New York 2024: EST -5 until Mar 10 02:00 (-> EDT -4), back Nov 3 02:00. */
static void test_p1d_keeps_local_time_across_dst(void **state)
{
    struct chr_schedule s = sched(state, "R/2024-03-08T09:00:00/P1D", "America/New_York");
    assert_instant(s.u.iso.start_ms, "2024-03-08T14:00:00Z");
    /* 09:00 every day: 14:00Z in EST, 13:00Z in EDT. */
    AFTER(&s, "2024-03-08T00:00:00Z", "2024-03-08T14:00:00Z", "2024-03-09T14:00:00Z",
          "2024-03-10T13:00:00Z", "2024-03-11T13:00:00Z");
    /* And back in November: 13:00Z in EDT, 14:00Z from Nov 3 on. */
    AFTER(&s, "2024-11-01T00:00:00Z", "2024-11-01T13:00:00Z", "2024-11-02T13:00:00Z",
          "2024-11-03T14:00:00Z", "2024-11-04T14:00:00Z");
}

static void test_p1d_occurrence_in_gap_is_shifted(void **state)
{
    /* 02:15 exists on Mar 8, 9, 11, 12 but not on Mar 10: read with EST it
     * is 07:15Z = 03:15 EDT (forward by the one-hour gap).  On Mar 11 02:15
     * EDT is 06:15Z. */
    struct chr_schedule s = sched(state, "R/2024-03-08T02:15:00/P1D", "America/New_York");
    AFTER(&s, "2024-03-08T00:00:00Z", "2024-03-08T07:15:00Z", "2024-03-09T07:15:00Z",
          "2024-03-10T07:15:00Z", "2024-03-11T06:15:00Z", "2024-03-12T06:15:00Z");
    /* In the fall, 01:30 on Nov 3 occurs twice: the earlier (EDT, 05:30Z). */
    s = sched(state, "R/2024-11-02T01:30:00/P1D", "America/New_York");
    AFTER(&s, "2024-11-02T00:00:00Z", "2024-11-02T05:30:00Z", "2024-11-03T05:30:00Z",
          "2024-11-04T06:30:00Z");
    /* A monthly series through the gap: Mar 10 02:30 -> 07:30Z (03:30 EDT). */
    s = sched(state, "R/2024-02-10T02:30:00/P1M", "America/New_York");
    AFTER(&s, "2024-02-01T00:00:00Z", "2024-02-10T07:30:00Z", "2024-03-10T07:30:00Z",
          "2024-04-10T06:30:00Z");
}

static void test_pt24h_moves_local_time(void **state)
{
    /* Exactly 24 h apart: 09:00 EST (14:00Z) becomes 10:00 EDT. */
    struct chr_schedule s = sched(state, "R/2024-03-08T09:00:00/PT24H", "America/New_York");
    AFTER(&s, "2024-03-08T00:00:00Z", "2024-03-08T14:00:00Z", "2024-03-09T14:00:00Z",
          "2024-03-10T14:00:00Z", "2024-03-11T14:00:00Z");
    /* In November 09:00 EDT (13:00Z) becomes 08:00 EST. */
    s = sched(state, "R/2024-11-01T09:00:00/PT24H", "America/New_York");
    AFTER(&s, "2024-11-01T00:00:00Z", "2024-11-01T13:00:00Z", "2024-11-02T13:00:00Z",
          "2024-11-03T13:00:00Z", "2024-11-04T13:00:00Z");
}

static void test_start_in_gap_or_overlap(void **state)
{
    /* s0 = 02:30 on the spring-forward day -> 07:30Z; then +1 h each. */
    struct chr_schedule s = sched(state, "R/2024-03-10T02:30:00/PT1H", "America/New_York");
    assert_instant(s.u.iso.start_ms, "2024-03-10T07:30:00Z");
    AFTER(&s, "2024-03-10T00:00:00Z", "2024-03-10T07:30:00Z", "2024-03-10T08:30:00Z",
          "2024-03-10T09:30:00Z");
    /* s0 = 01:30 on the fall-back day -> the earlier, 05:30Z (EDT); elapsed
     * steps then walk through both 01:30s. */
    s = sched(state, "R/2024-11-03T01:30:00/PT30M", "America/New_York");
    AFTER(&s, "2024-11-03T00:00:00Z", "2024-11-03T05:30:00Z", "2024-11-03T06:00:00Z",
          "2024-11-03T06:30:00Z", "2024-11-03T07:00:00Z");
    /* A date-only start is local midnight: 05:00Z in EST, 04:00Z in EDT. */
    s = sched(state, "R/2024-03-10/P1D", "America/New_York");
    AFTER(&s, "2024-03-09T00:00:00Z", "2024-03-10T05:00:00Z", "2024-03-11T04:00:00Z");
}

/* ---- months and years: from the start, clamped, no drift ------------------ */

static void test_p1m_month_ends(void **state)
{
    /* time.md's example: Jan 31, Feb 29, Mar 31, Apr 30, ... (k months from
     * Jan 31, clamped; never stepping from the clamped Feb 29). */
    struct chr_schedule s = sched(state, "R/2024-01-31T10:00:00Z/P1M", NULL);
    AFTER(&s, "2024-01-01T00:00:00Z", "2024-01-31T10:00:00Z", "2024-02-29T10:00:00Z",
          "2024-03-31T10:00:00Z", "2024-04-30T10:00:00Z", "2024-05-31T10:00:00Z",
          "2024-06-30T10:00:00Z");
    AFTER(&s, "2024-02-29T10:00:00Z", "2024-03-31T10:00:00Z");
    AFTER(&s, "2025-01-31T10:00:00Z", "2025-02-28T10:00:00Z", "2025-03-31T10:00:00Z");
    /* The same in New York: 10:00 local, EST then EDT from Mar 10. */
    s = sched(state, "R/2024-01-31T10:00:00/P1M", "America/New_York");
    AFTER(&s, "2024-01-01T00:00:00Z", "2024-01-31T15:00:00Z", "2024-02-29T15:00:00Z",
          "2024-03-31T14:00:00Z", "2024-04-30T14:00:00Z");
}

static void test_p1y_from_feb_29(void **state)
{
    struct chr_schedule s = sched(state, "R/2024-02-29T12:00:00Z/P1Y", NULL);
    AFTER(&s, "2024-01-01T00:00:00Z", "2024-02-29T12:00:00Z", "2025-02-28T12:00:00Z",
          "2026-02-28T12:00:00Z", "2027-02-28T12:00:00Z", "2028-02-29T12:00:00Z");
    /* Every 4 years from 2096-02-29: 2100 is not leap (clamped to Feb 28),
     * 2104 is again. */
    s = sched(state, "R/2096-02-29T00:00:00Z/P4Y", NULL);
    AFTER(&s, "2096-01-01T00:00:00Z", "2096-02-29T00:00:00Z", "2100-02-28T00:00:00Z",
          "2104-02-29T00:00:00Z");
}

static void test_2100_is_not_leap(void **state)
{
    struct chr_schedule s = sched(state, "R/2100-02-27T12:00:00Z/P1D", NULL);
    AFTER(&s, "2100-02-27T00:00:00Z", "2100-02-27T12:00:00Z", "2100-02-28T12:00:00Z",
          "2100-03-01T12:00:00Z", "2100-03-02T12:00:00Z");
}

static void test_weeks_and_mixed(void **state)
{
    /* P2W = 14 days at 09:00 local: the sixth (k = 5, +70 days) is Mar 11,
     * after the switch to EDT. */
    struct chr_schedule s = sched(state, "R/2024-01-01T09:00:00/P2W", "America/New_York");
    AFTER(&s, "2024-01-01T00:00:00Z", "2024-01-01T14:00:00Z", "2024-01-15T14:00:00Z",
          "2024-01-29T14:00:00Z", "2024-02-12T14:00:00Z", "2024-02-26T14:00:00Z",
          "2024-03-11T13:00:00Z");
    /* P1DT12H: occurrence k is (start + k days, as wall time) + k * 12 h.
     * k=0 Mar 8 12:00 EST = 17:00Z; k=1 Mar 9 12:00 EST = 17:00Z + 12 h =
     * Mar 10 05:00Z; k=2 Mar 10 12:00 EDT = 16:00Z + 24 h = Mar 11 16:00Z;
     * k=3 Mar 11 12:00 EDT = 16:00Z + 36 h = Mar 13 04:00Z. */
    s = sched(state, "R/2024-03-08T12:00:00/P1DT12H", "America/New_York");
    AFTER(&s, "2024-03-08T00:00:00Z", "2024-03-08T17:00:00Z", "2024-03-10T05:00:00Z",
          "2024-03-11T16:00:00Z", "2024-03-13T04:00:00Z");
    /* P1DT1H with the wall part in the gap: k=1 Mar 10 02:30 -> 07:30Z (read
     * with EST) + 1 h = 08:30Z; k=2 Mar 11 02:30 EDT = 06:30Z + 2 h = 08:30Z;
     * k=3 Mar 12 02:30 EDT = 06:30Z + 3 h = 09:30Z. */
    s = sched(state, "R/2024-03-09T02:30:00/P1DT1H", "America/New_York");
    AFTER(&s, "2024-03-09T00:00:00Z", "2024-03-09T07:30:00Z", "2024-03-10T08:30:00Z",
          "2024-03-11T08:30:00Z", "2024-03-12T09:30:00Z");
}

/* ---- which zone the start is read in ----------------------------------------- */

static void test_zone_wins_over_offset(void **state)
{
    /* time.md: the written fields 13:00 are read in Los Angeles (PST -8):
     * 21:00Z; from Mar 10 (second Sunday, PDT -7) 20:00Z. */
    struct chr_schedule s = sched(state, "R/2024-03-01T13:00:00Z/P1D", "America/Los_Angeles");
    assert_instant(s.u.iso.start_ms, "2024-03-01T21:00:00Z");
    assert_string_equal(chr_tz_name(s.tz), "America/Los_Angeles");
    AFTER(&s, "2024-03-01T00:00:00Z", "2024-03-01T21:00:00Z", "2024-03-02T21:00:00Z",
          "2024-03-03T21:00:00Z");
    AFTER(&s, "2024-03-09T22:00:00Z", "2024-03-10T20:00:00Z", "2024-03-11T20:00:00Z");
    /* +05:30 written, London zone: 08:00 BST = 07:00Z. */
    s = sched(state, "R/2024-06-01T08:00:00+05:30/P1D", "Europe/London");
    AFTER(&s, "2024-06-01T00:00:00Z", "2024-06-01T07:00:00Z", "2024-06-02T07:00:00Z");
}

static void test_offset_without_zone_is_fixed(void **state)
{
    /* -05:00 is the zone, with no DST: 09:00-05:00 = 14:00Z every day, also
     * across New York's spring forward on Mar 10. */
    struct chr_schedule s = sched(state, "R/2024-03-09T09:00:00-05:00/P1D", NULL);
    assert_string_equal(chr_tz_name(s.tz), "-05:00");
    assert_instant(s.u.iso.start_ms, "2024-03-09T14:00:00Z");
    AFTER(&s, "2024-03-09T00:00:00Z", "2024-03-09T14:00:00Z", "2024-03-10T14:00:00Z",
          "2024-03-11T14:00:00Z");
    /* +05:30 and a month step. */
    s = sched(state, "R/2024-01-31T05:30:00+05:30/P1M", NULL);
    AFTER(&s, "2024-01-01T00:00:00Z", "2024-01-31T00:00:00Z", "2024-02-29T00:00:00Z",
          "2024-03-31T00:00:00Z");
}

static void test_no_zone_no_offset_is_utc(void **state)
{
    struct chr_schedule s = sched(state, "R/2024-03-09T09:00:00/P1D", NULL);
    assert_string_equal(chr_tz_name(s.tz), "UTC");
    AFTER(&s, "2024-03-09T00:00:00Z", "2024-03-09T09:00:00Z", "2024-03-10T09:00:00Z",
          "2024-03-11T09:00:00Z");
}

/* ---- far from the start --------------------------------------------------------- */

static void test_far_from_start(void **state)
{
    /* 1970 + k seconds; 2030-01-01 is day 21915 (60 years, 15 leap) =
     * 1893456000 s, so after 00:00:00.500 the next is 00:00:01. */
    struct chr_schedule s = sched(state, "R/1970-01-01T00:00:00Z/PT1S", NULL);
    AFTER(&s, "2030-01-01T00:00:00.500Z", "2030-01-01T00:00:01Z", "2030-01-01T00:00:02Z",
          "2030-01-01T00:00:03Z");
    AFTER(&s, "2030-01-01T00:00:00Z", "2030-01-01T00:00:01Z");
    AFTER(&s, "2029-12-31T23:59:59.999Z", "2030-01-01T00:00:00Z");
    /* Before the start: the start. */
    AFTER(&s, "1969-01-01T00:00:00Z", "1970-01-01T00:00:00Z");
    /* With a count: occurrences k = 0 .. 1893456000, the last at 2030-01-01. */
    s = sched(state, "R1893456001/1970-01-01T00:00:00Z/PT1S", NULL);
    AFTER_ENDS(&s, "2029-12-31T23:59:59.500Z", "2030-01-01T00:00:00Z");
    int64_t next = 0;
    assert_int_equal(chr_schedule_next(&s, T("2030-01-01T00:00:00.500Z"), &next), CHR_ENONE);
    s = sched(state, "R9223372036854775807/1970-01-01T00:00:00Z/PT1S", NULL);
    AFTER(&s, "2030-01-01T00:00:00.500Z", "2030-01-01T00:00:01Z");
    /* Calendar periods far from the start. */
    s = sched(state, "R/1970-01-01T00:00:00Z/P1D", NULL);
    AFTER(&s, "2030-01-01T00:00:00.500Z", "2030-01-02T00:00:00Z");
    s = sched(state, "R/1970-01-01T06:00:00/P1D", "America/New_York");
    AFTER(&s, "2030-06-01T00:00:00Z", "2030-06-01T10:00:00Z"); /* 06:00 EDT */
    s = sched(state, "R/1970-01-31T00:00:00Z/P1M", NULL);
    AFTER(&s, "2030-02-01T00:00:00Z", "2030-02-28T00:00:00Z");
    /* 1970 + k * 7 ms: 2030-01-01T00:00:00Z = 1893456000000 ms = 7 *
     * 270493714285 + 5, so the next multiple of 7 is +2 ms. */
    s = sched(state, "R/1970-01-01T00:00:00Z/PT0.007S", NULL);
    AFTER(&s, "2030-01-01T00:00:00Z", "2030-01-01T00:00:00.002Z", "2030-01-01T00:00:00.009Z");
}

static void test_fractional_seconds(void **state)
{
    struct chr_schedule s = sched(state, "R/2024-01-01T00:00:00Z/PT0.5S", NULL);
    AFTER(&s, "2023-12-31T23:59:59.999Z", "2024-01-01T00:00:00Z", "2024-01-01T00:00:00.500Z",
          "2024-01-01T00:00:01Z", "2024-01-01T00:00:01.500Z");
    AFTER(&s, "2024-01-01T00:00:10.250Z", "2024-01-01T00:00:10.500Z");
    /* A start fraction beyond milliseconds is truncated. */
    s = sched(state, "R/2024-01-01T00:00:00.123456Z/PT1S", NULL);
    AFTER(&s, "2023-12-31T00:00:00Z", "2024-01-01T00:00:00.123Z", "2024-01-01T00:00:01.123Z");
}

static void test_2038_and_beyond(void **state)
{
    /* The second after 2^31 - 1. */
    struct chr_schedule s = sched(state, "R/2038-01-19T03:14:07Z/PT1S", NULL);
    int64_t next = 0;
    assert_int_equal(chr_schedule_next(&s, T("2038-01-19T03:14:07Z"), &next), CHR_OK);
    assert_int_equal(next, 2147483648000LL);
    /* New York 2038 (footer rule): DST from Mar 14 (Mar 1 is a Monday). */
    s = sched(state, "R/2038-03-13T09:00:00/P1D", "America/New_York");
    AFTER(&s, "2038-03-13T00:00:00Z", "2038-03-13T14:00:00Z", "2038-03-14T13:00:00Z",
          "2038-03-15T13:00:00Z");
    /* 2100: DST from Mar 14 (Mar 1 a Monday); 02:30 that day is in the gap. */
    s = sched(state, "R/2100-03-13T02:30:00/P1D", "America/New_York");
    AFTER(&s, "2100-03-13T00:00:00Z", "2100-03-13T07:30:00Z", "2100-03-14T07:30:00Z",
          "2100-03-15T06:30:00Z");
}

/* ---- the odd zones -------------------------------------------------------------- */

static void test_lord_howe(void **state)
{
    /* +10:30 -> +11 on Oct 6 2024 at 02:00 (-> 02:30): 02:15 is in the gap,
     * read with +10:30 = Oct 5 15:45Z (02:45 +11). */
    struct chr_schedule s = sched(state, "R/2024-10-05T02:15:00/P1D", "Australia/Lord_Howe");
    AFTER(&s, "2024-10-01T00:00:00Z", "2024-10-04T15:45:00Z", "2024-10-05T15:45:00Z",
          "2024-10-06T15:15:00Z");
    /* +11 -> +10:30 on Apr 7 2024 at 02:00 (-> 01:30): 01:45 occurs twice,
     * the earlier at +11 = Apr 6 14:45Z. */
    s = sched(state, "R/2024-04-06T01:45:00/P1D", "Australia/Lord_Howe");
    AFTER(&s, "2024-04-01T00:00:00Z", "2024-04-05T14:45:00Z", "2024-04-06T14:45:00Z",
          "2024-04-07T15:15:00Z");
}

static void test_chatham(void **state)
{
    /* +12:45 -> +13:45 on Sep 29 2024 at 02:45: 03:00 is in the gap, read
     * with +12:45 = Sep 28 14:15Z. */
    struct chr_schedule s = sched(state, "R/2024-09-28T03:00:00/P1D", "Pacific/Chatham");
    AFTER(&s, "2024-09-01T00:00:00Z", "2024-09-27T14:15:00Z", "2024-09-28T14:15:00Z",
          "2024-09-29T13:15:00Z");
    /* +13:45 -> +12:45 on Apr 7 2024 at 03:45: 03:00 twice, the earlier at
     * +13:45 = Apr 6 13:15Z. */
    s = sched(state, "R/2024-04-06T03:00:00/P1D", "Pacific/Chatham");
    AFTER(&s, "2024-04-01T00:00:00Z", "2024-04-05T13:15:00Z", "2024-04-06T13:15:00Z",
          "2024-04-07T14:15:00Z");
}

static void test_sao_paulo_midnight_gap(void **state)
{
    /* 2018-11-04 00:00 -03 -> 01:00 -02: 00:30 does not exist; read with -03
     * it is 03:30Z = 01:30 -02.  From Nov 5, 00:30 -02 = 02:30Z. */
    struct chr_schedule s = sched(state, "R/2018-11-02T00:30:00/P1D", "America/Sao_Paulo");
    AFTER(&s, "2018-11-01T00:00:00Z", "2018-11-02T03:30:00Z", "2018-11-03T03:30:00Z",
          "2018-11-04T03:30:00Z", "2018-11-05T02:30:00Z");
    /* DST abolished in 2019: -03 throughout November 2019. */
    s = sched(state, "R/2019-11-01T00:30:00/P1D", "America/Sao_Paulo");
    AFTER(&s, "2019-11-01T00:00:00Z", "2019-11-01T03:30:00Z", "2019-11-02T03:30:00Z",
          "2019-11-03T03:30:00Z", "2019-11-04T03:30:00Z");
}

static void test_apia_skipped_day(void **state)
{
    /* Local 2011-12-30 never happened (-10 -> +14 at Dec 30 10:00Z): noon on
     * Dec 30 read with -10 is 22:00Z, which is also noon Dec 31 at +14.  So
     * occurrences k=1 and k=2 are the same instant. */
    const struct chr_tz *apia = zone(state, "Pacific/Apia");
    struct chr_interval iv = interval("R/2011-12-29T12:00:00/P1D");
    assert_instant(chr_interval_occurrence(&iv, apia, 0), "2011-12-29T22:00:00Z");
    assert_instant(chr_interval_occurrence(&iv, apia, 1), "2011-12-30T22:00:00Z");
    assert_instant(chr_interval_occurrence(&iv, apia, 2), "2011-12-30T22:00:00Z");
    assert_instant(chr_interval_occurrence(&iv, apia, 3), "2011-12-31T22:00:00Z");
    struct chr_schedule s = sched(state, "R/2011-12-29T12:00:00/P1D", "Pacific/Apia");
    int64_t next = 0;
    assert_int_equal(chr_schedule_next(&s, T("2011-12-29T22:00:00Z"), &next), CHR_OK);
    assert_instant(next, "2011-12-30T22:00:00Z");
    assert_int_equal(chr_schedule_next(&s, T("2011-12-30T22:00:00Z"), &next), CHR_OK);
    assert_instant(next, "2011-12-31T22:00:00Z");
}

/* ---- the lower-level evaluators agree ------------------------------------------- */

static void test_interval_next_direct(void **state)
{
    const struct chr_tz *ny = zone(state, "America/New_York");
    struct chr_interval iv = interval("R3/2024-03-09T02:30:00/P1D");
    /* The occurrences by hand: Mar 9 02:30 EST = 07:30Z; Mar 10 in the gap,
     * 07:30Z; Mar 11 02:30 EDT = 06:30Z. */
    assert_instant(chr_interval_occurrence(&iv, ny, 0), "2024-03-09T07:30:00Z");
    assert_instant(chr_interval_occurrence(&iv, ny, 1), "2024-03-10T07:30:00Z");
    assert_instant(chr_interval_occurrence(&iv, ny, 2), "2024-03-11T06:30:00Z");
    int64_t next = 0;
    assert_int_equal(chr_interval_next(&iv, ny, T("2024-03-10T07:30:00Z"), &next), CHR_OK);
    assert_instant(next, "2024-03-11T06:30:00Z");
    assert_int_equal(chr_interval_next(&iv, ny, T("2024-03-11T06:30:00Z"), &next), CHR_ENONE);
}

/* ---- the ends of the time line ----------------------------------------------------- */

static void test_beyond_int64(void **state)
{
    /* k = 1 of P1000000000Y is a billion years on: not an instant in int64
     * milliseconds (which end in the year 292278994), so there is no next. */
    struct chr_schedule s = sched(state, "R/2024-01-01T00:00:00Z/P1000000000Y", NULL);
    int64_t next = 0, out[3];
    assert_int_equal(chr_schedule_next(&s, T("2024-01-01T00:00:00Z"), &next), CHR_ENONE);
    assert_int_equal(chr_schedule_next_n(&s, T("2023-01-01T00:00:00Z"), out, 3), 1);
    assert_instant(out[0], "2024-01-01T00:00:00Z");
    /* Nothing is strictly after the last millisecond. */
    s = sched(state, "R/2024-01-01T00:00:00Z/PT1S", NULL);
    assert_int_equal(chr_schedule_next(&s, INT64_MAX, &next), CHR_ENONE);
    /* INT64_MAX - start is not a multiple of 1000 (it ends in ...807). */
    assert_int_equal(chr_schedule_next(&s, INT64_MAX - 1, &next), CHR_ENONE);
    /* Calendar periods in a zone with DST rules at the end of time: the
     * next midnight after INT64_MAX - 1 (+292278994-08-17T07:12:55.806Z) is
     * on Aug 18, beyond int64. */
    s = sched(state, "R/2024-01-01T00:00:00/P1D", "America/New_York");
    assert_int_equal(chr_schedule_next(&s, INT64_MAX - 1, &next), CHR_ENONE);
    s = sched(state, "R/2024-01-01T00:00:00/P1M", "America/New_York");
    assert_int_equal(chr_schedule_next(&s, INT64_MAX - 1, &next), CHR_ENONE);
    /* PT1000000000H is 3.6e15 ms: from s0 = 1704067200000, occurrence 2562
     * is 9223201704067200000 (fits: INT64_MAX = 9223372036854775807) and
     * occurrence 2563 would be 9226801704067200000 (does not). */
    s = sched(state, "R/2024-01-01T00:00:00Z/PT1000000000H", NULL);
    const int64_t step = 3600000000000000LL, s0 = 1704067200000LL;
    assert_int_equal(chr_schedule_next(&s, s0 + 2561 * step, &next), CHR_OK);
    assert_int_equal(next, 9223201704067200000LL);
    assert_int_equal(chr_schedule_next(&s, s0 + 2562 * step, &next), CHR_ENONE);
}

/* A start written inside a gap: s0 is shifted forward by the gap (02:30 does
 * not exist on 2030-03-10 in New York: 03:30 EDT = 07:30Z), and time.md's step
 * 1 takes "the wall time of s0", so later days keep 03:30 local, which is
 * 07:30Z in EDT (not 02:30 EDT = 06:30Z). */
static void test_start_in_gap_keeps_shifted_wall_time(void **state)
{
    struct chr_schedule s = sched(state, "R/2030-03-10T02:30:00/P1D", "America/New_York");
    static const char *const want[] = {"2030-03-10T07:30:00Z", "2030-03-11T07:30:00Z",
                                       "2030-03-12T07:30:00Z", NULL};
    expect_after(&s, "2030-03-01T00:00:00Z", false, want);
    /* Sao Paulo's midnight gap (2018-11-04 00:00 -> 01:00, -03 -> -02): a
     * start at 00:30 that day is 01:30 -02 = 03:30Z, and P1D keeps 01:30. */
    struct chr_schedule sp = sched(state, "R/2018-11-04T00:30:00/P1D", "America/Sao_Paulo");
    static const char *const want_sp[] = {"2018-11-04T03:30:00Z", "2018-11-05T03:30:00Z", NULL};
    expect_after(&sp, "2018-11-01T00:00:00Z", false, want_sp);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_fields),
        cmocka_unit_test(test_parse_periods),
        cmocka_unit_test(test_reject_structure),
        cmocka_unit_test(test_reject_count),
        cmocka_unit_test(test_reject_start),
        cmocka_unit_test(test_reject_period),
        cmocka_unit_test(test_reject_comma_fraction),
        cmocka_unit_test(test_parse_without_db),
        cmocka_unit_test(test_r0_never_fires),
        cmocka_unit_test(test_r5_fires_five_times),
        cmocka_unit_test(test_p1d_keeps_local_time_across_dst),
        cmocka_unit_test(test_p1d_occurrence_in_gap_is_shifted),
        cmocka_unit_test(test_pt24h_moves_local_time),
        cmocka_unit_test(test_start_in_gap_or_overlap),
        cmocka_unit_test(test_p1m_month_ends),
        cmocka_unit_test(test_p1y_from_feb_29),
        cmocka_unit_test(test_2100_is_not_leap),
        cmocka_unit_test(test_weeks_and_mixed),
        cmocka_unit_test(test_zone_wins_over_offset),
        cmocka_unit_test(test_offset_without_zone_is_fixed),
        cmocka_unit_test(test_no_zone_no_offset_is_utc),
        cmocka_unit_test(test_far_from_start),
        cmocka_unit_test(test_fractional_seconds),
        cmocka_unit_test(test_2038_and_beyond),
        cmocka_unit_test(test_lord_howe),
        cmocka_unit_test(test_chatham),
        cmocka_unit_test(test_sao_paulo_midnight_gap),
        cmocka_unit_test(test_apia_skipped_day),
        cmocka_unit_test(test_start_in_gap_keeps_shifted_wall_time),
        cmocka_unit_test(test_interval_next_direct),
        cmocka_unit_test(test_beyond_int64),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
