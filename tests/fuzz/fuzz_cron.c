/*
 * fuzz_cron.c - libFuzzer target for the cron parser and evaluator
 * (chr_cron_parse, chr_cron_next).
 *
 * The input is a cron expression (text, at most FUZZ_INPUT_MAX bytes).  When
 * it does not parse, the error must name its field.  When it parses, its
 * next instants are asked for from a few instants near DST changes and
 * elsewhere, in UTC and in two zones with DST (New York's 1 h shifts, Lord
 * Howe's 30 min ones), and every answer is checked against time.md:
 *   - next > after, and each next of a chain is later than the one before;
 *   - a parsed expression always fires again (one that can never fire is a
 *     parse error), so CHR_ENONE is a violation;
 *   - asking again from any instant in [after, next) gives the same next;
 *   - the wall time of next is a whole minute whose fields match, except a
 *     fixed wall time shifted forward out of a DST gap; a fixed hour in a
 *     repeated hour fires at the earlier instant only;
 *   - in UTC, next is exactly the first matching minute, found by a plain
 *     minute-by-minute search over the following days.
 * Any violation aborts, so libFuzzer keeps the input and prints the stack.
 */
#include "fuzz_check.h"

enum { N_ZONES = 3, CHAIN = 4, UTC_SEARCH_DAYS = 3 };

static struct chr_tzdb *g_db; /* loaded once, kept for the whole run */
static const struct chr_tz *g_zones[N_ZONES];

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    static const char *const names[N_ZONES] = {"UTC", "America/New_York", "Australia/Lord_Howe"};
    struct chr_error err;
    if (chr_tzdb_create(NULL, &g_db) != CHR_OK)
        abort();
    for (int i = 0; i < N_ZONES; i++) {
        if (chr_tzdb_get(g_db, names[i], &g_zones[i], &err) != CHR_OK) {
            fprintf(stderr, "fuzz_cron: cannot load zone %s: %s\n", names[i], err.message);
            abort();
        }
    }
    return 0;
}

/* Do the wall-clock fields of `local_ms` match every field of `c`? */
static bool wall_matches(const struct chr_cron *c, int64_t local_ms)
{
    struct chr_civil w;
    chr_ms_to_civil(local_ms, &w);
    return w.second == 0 && w.ms == 0 && ((c->minutes >> w.minute) & 1u) &&
           ((c->hours >> w.hour) & 1u) && ((c->months >> w.month) & 1u) &&
           chr_cron_day_matches(c, w.year, w.month, w.day);
}

/* The first whole minute after `after_ms` whose UTC fields match, searched
 * minute by minute over `days` days (skipping days that do not match);
 * INT64_MAX when there is none in that span. */
static int64_t utc_reference_next(const struct chr_cron *c, int64_t after_ms, int days)
{
    int64_t t = (chr_floor_div(after_ms, CHR_MS_PER_MIN) + 1) * CHR_MS_PER_MIN;
    int64_t end = t + days * CHR_MS_PER_DAY;
    while (t < end) {
        int64_t day = chr_floor_div(t, CHR_MS_PER_DAY);
        int64_t day_end_ms = (day + 1) * CHR_MS_PER_DAY;
        int64_t y;
        int m, d;
        chr_civil_from_days(day, &y, &m, &d);
        if (!((c->months >> m) & 1u) || !chr_cron_day_matches(c, y, m, d)) {
            t = day_end_ms;
            continue;
        }
        for (; t < day_end_ms && t < end; t += CHR_MS_PER_MIN) {
            int64_t of_day = t - day * CHR_MS_PER_DAY;
            int hour = (int)(of_day / CHR_MS_PER_HOUR);
            int minute = (int)(of_day % CHR_MS_PER_HOUR / CHR_MS_PER_MIN);
            if (((c->hours >> hour) & 1u) && ((c->minutes >> minute) & 1u))
                return t;
        }
    }
    return INT64_MAX;
}

/* The wall time of `next_ms` matches, or it is a fixed wall time that fell in
 * a DST gap and was moved forward by the gap's length. */
static void check_wall_time(const char *expr, const struct chr_cron *c, const struct chr_tz *tz,
                            int64_t next_ms)
{
    char a[CHR_INSTANT_TEXT_MAX];
    int64_t local_ms = chr_tz_to_local_ms(tz, next_ms);
    FUZZ_CHECK(chr_floor_mod(local_ms, CHR_MS_PER_MIN) == 0,
               "'%s' in %s: next %s is not a whole minute of wall time", expr, chr_tz_name(tz),
               fuzz_text(next_ms, a));
    if (wall_matches(c, local_ms)) {
        FUZZ_CHECK(c->hour_wildcard || chr_tz_from_local_ms(tz, local_ms) == next_ms,
                   "'%s' in %s: next %s is the later pass of a repeated wall time, but the hour "
                   "is fixed (time.md: fires once, at the earlier instant)",
                   expr, chr_tz_name(tz), fuzz_text(next_ms, a));
        return;
    }
    struct chr_tz_segment seg;
    chr_tz_segment_at(tz, next_ms, &seg);
    int64_t gap_ms = ((int64_t)seg.offset_s - seg.prev_offset_s) * CHR_MS_PER_SEC;
    FUZZ_CHECK(gap_ms > 0 && next_ms - seg.start_ms < gap_ms && wall_matches(c, local_ms - gap_ms),
               "'%s' in %s: next %s (wall %+lld ms from epoch) does not match the expression, "
               "and is not a wall time moved out of a DST gap",
               expr, chr_tz_name(tz), fuzz_text(next_ms, a), (long long)local_ms);
}

/* One answer of chr_cron_next from `after_ms`: fires, later, stable. */
static int64_t check_next(const char *expr, const struct chr_cron *c, const struct chr_tz *tz,
                          int64_t after_ms)
{
    char a[CHR_INSTANT_TEXT_MAX], b[CHR_INSTANT_TEXT_MAX];
    int64_t next_ms = 0, again_ms = 0;
    enum chr_err rc = chr_cron_next(c, tz, after_ms, &next_ms);
    FUZZ_CHECK(rc == CHR_OK, "'%s' in %s parsed but has no next instant after %s (%s)", expr,
               chr_tz_name(tz), fuzz_text(after_ms, a), chr_err_name(rc));
    FUZZ_CHECK(next_ms > after_ms, "'%s' in %s: next after %s is %s, not later", expr,
               chr_tz_name(tz), fuzz_text(after_ms, a), fuzz_text(next_ms, b));
    int64_t probes[2] = {after_ms + (next_ms - after_ms) / 2, next_ms - 1};
    for (int i = 0; i < 2; i++) {
        rc = chr_cron_next(c, tz, probes[i], &again_ms);
        FUZZ_CHECK(rc == CHR_OK && again_ms == next_ms,
                   "'%s' in %s: next after %s is %s, but next after %s (in between) is %s (%s)",
                   expr, chr_tz_name(tz), fuzz_text(after_ms, a), fuzz_text(next_ms, b),
                   fuzz_text(probes[i], (char[CHR_INSTANT_TEXT_MAX]){0}),
                   fuzz_text(again_ms, (char[CHR_INSTANT_TEXT_MAX]){0}), chr_err_name(rc));
    }
    check_wall_time(expr, c, tz, next_ms);
    if (tz == g_zones[0]) {
        int64_t want_ms = utc_reference_next(c, after_ms, UTC_SEARCH_DAYS);
        FUZZ_CHECK(want_ms == INT64_MAX ? next_ms >= after_ms + UTC_SEARCH_DAYS * CHR_MS_PER_DAY
                                        : next_ms == want_ms,
                   "'%s' in UTC: next after %s is %s, but a minute-by-minute search gives %s", expr,
                   fuzz_text(after_ms, a), fuzz_text(next_ms, b),
                   want_ms == INT64_MAX ? "none within 3 days"
                                        : fuzz_text(want_ms, (char[CHR_INSTANT_TEXT_MAX]){0}));
    }
    return next_ms;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char buf[FUZZ_INPUT_MAX + 1];
    const char *expr = fuzz_cstring(data, size, buf);
    if (expr == NULL)
        return 0;
    struct chr_cron c;
    struct chr_error err;
    fuzz_poison_error(&err);
    enum chr_err rc = chr_cron_parse(expr, &c, &err);
    if (rc != CHR_OK) {
        fuzz_check_parse_error(rc, &err, expr);
        return 0;
    }
    /* Near DST changes of 2026 (New York 03-08 and 11-01, Lord Howe 04-05 and
     * 10-04), before the epoch, past 2038 (TZif footer rules), and one
     * instant of 1900-2400 picked by the input. */
    const int64_t afters_ms[] = {
        1772951400000LL, /* 2026-03-08T06:30:00Z */
        1793511000000LL, /* 2026-11-01T05:30:00Z */
        1775313900000LL, /* 2026-04-04T14:45:00Z */
        1791039600000LL, /* 2026-10-03T15:00:00Z */
        -1LL,            /* 1969-12-31T23:59:59.999Z */
        2147483647000LL, /* 2038-01-19T03:14:07Z */
        -2208988800000LL + (int64_t)(fuzz_hash(data, size) % 15778800000000ULL),
    };
    for (int z = 0; z < N_ZONES; z++) {
        for (size_t i = 0; i < sizeof afters_ms / sizeof afters_ms[0]; i++) {
            int64_t prev_ms = afters_ms[i];
            for (int k = 0; k < CHAIN; k++)
                prev_ms = check_next(expr, &c, g_zones[z], prev_ms);
        }
    }
    return 0;
}
