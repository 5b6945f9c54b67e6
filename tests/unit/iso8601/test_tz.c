/*
 * test_tz.c - IANA zones read from the system tz database: offsets, wall
 * time <-> instant by the one rule of time.md (once: that instant; twice: the
 * earlier; in a gap: shifted forward by the gap), segments at real
 * transitions, the TZif footer rule far in the future, name validation (never
 * a file outside the tz directory, never a fallback to UTC), the cache, and
 * concurrent loading from several threads.
 *
 * Every expected instant was derived by hand from the zone's rules (written
 * next to each case) and cross-checked with Python's zoneinfo; none comes
 * from our own code.  Wall times are written with L("..."): the wall-clock
 * fields as if they were UTC, which is how the API represents local_ms.
 */
#include "../unit.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/limits.h"
#ifdef CHR_TESTING
#include "common/alloc.h"
#endif

/* A wall time, as local_ms (the fields read as if UTC). */
#define L(s) T(s)

#define H (CHR_MS_PER_HOUR / 1000) /* seconds per hour, for offsets */

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
    enum chr_err e = chr_tzdb_get(*state, name, &tz, &err);
    if (e != CHR_OK || tz == NULL)
        fail_msg("chr_tzdb_get('%s') = %d: %s", name, (int)e, err.message);
    return tz;
}

#define assert_offset(tz, at, want_s)                                                       \
    do {                                                                                    \
        int32_t got_ = chr_tz_offset_s((tz), T(at));                                        \
        if (got_ != (int32_t)(want_s))                                                      \
            fail_msg("%s offset at %s = %d s, want %d s", chr_tz_name(tz), (at), (int)got_, \
                     (int)(want_s));                                                        \
    } while (0)

/* chr_tz_from_local_ms(tz, wall) must be instant `want`. */
#define assert_from_local(tz, wall, want)                                                   \
    do {                                                                                    \
        int64_t got_ = chr_tz_from_local_ms((tz), L(wall));                                 \
        char got_txt_[CHR_INSTANT_TEXT_MAX];                                                \
        chr_instant_format(got_, got_txt_);                                                 \
        if (got_ != T(want))                                                                \
            fail_msg("%s: wall %s -> %s, want %s", chr_tz_name(tz), (wall), got_txt_,        \
                     (want));                                                               \
    } while (0)

/* chr_tz_to_local_ms(tz, at) must be wall time `want`. */
#define assert_to_local(tz, at, want)                                                       \
    do {                                                                                    \
        int64_t got_ = chr_tz_to_local_ms((tz), T(at));                                     \
        char got_txt_[CHR_INSTANT_TEXT_MAX];                                                \
        chr_instant_format(got_, got_txt_);                                                 \
        if (got_ != L(want))                                                                \
            fail_msg("%s: instant %s -> wall %s, want %s", chr_tz_name(tz), (at), got_txt_,  \
                     (want));                                                               \
    } while (0)

/* Instant as text for messages; the ends of int64 by name (formatting them is
 * chr_instant_format's business, tested in test_civil.c). */
static const char *instant_text(int64_t at_ms, char buf[CHR_INSTANT_TEXT_MAX])
{
    if (at_ms == INT64_MIN)
        return "INT64_MIN";
    if (at_ms == INT64_MAX)
        return "INT64_MAX";
    chr_instant_format(at_ms, buf);
    return buf;
}

/* The segment at `at` must be [start, end) (NULL: INT64_MIN / INT64_MAX)
 * with offset `off` and `prev` before it. */
static void check_segment(const struct chr_tz *tz, const char *at, const char *start,
                          const char *end, int32_t off, int32_t prev)
{
    struct chr_tz_segment seg;
    memset(&seg, 0, sizeof seg);
    chr_tz_segment_at(tz, T(at), &seg);
    int64_t want_start = start ? T(start) : INT64_MIN;
    int64_t want_end = end ? T(end) : INT64_MAX;
    if (seg.start_ms != want_start || seg.end_ms != want_end || seg.offset_s != off ||
        seg.prev_offset_s != prev) {
        char s_txt[CHR_INSTANT_TEXT_MAX], e_txt[CHR_INSTANT_TEXT_MAX];
        fail_msg("%s segment at %s = [%s, %s) off %d prev %d; want [%s, %s) off %d prev %d",
                 chr_tz_name(tz), at, instant_text(seg.start_ms, s_txt),
                 instant_text(seg.end_ms, e_txt), (int)seg.offset_s, (int)seg.prev_offset_s,
                 start ? start : "INT64_MIN", end ? end : "INT64_MAX", (int)off, (int)prev);
    }
}

/* ---- America/New_York ------------------------------------------------------ */

/* 2024: DST from the second Sunday of March (Mar 1 was a Friday: Mar 10) at
 * 02:00 EST = 07:00Z, to the first Sunday of November (Nov 1 a Friday: Nov 3)
 * at 02:00 EDT = 06:00Z. */
static void test_new_york_2024_offsets(void **state)
{
    const struct chr_tz *ny = zone(state, "America/New_York");
    assert_string_equal(chr_tz_name(ny), "America/New_York");
    assert_offset(ny, "2024-01-15T12:00:00Z", -5 * H);
    assert_offset(ny, "2024-03-10T06:59:59.999Z", -5 * H);
    assert_offset(ny, "2024-03-10T07:00:00Z", -4 * H);
    assert_offset(ny, "2024-07-04T16:00:00Z", -4 * H);
    assert_offset(ny, "2024-11-03T05:59:59.999Z", -4 * H);
    assert_offset(ny, "2024-11-03T06:00:00Z", -5 * H);
    assert_to_local(ny, "2024-03-10T06:59:59.999Z", "2024-03-10T01:59:59.999");
    assert_to_local(ny, "2024-03-10T07:00:00Z", "2024-03-10T03:00:00");
    /* Both passes through 01:30 on Nov 3. */
    assert_to_local(ny, "2024-11-03T05:30:00Z", "2024-11-03T01:30:00");
    assert_to_local(ny, "2024-11-03T06:30:00Z", "2024-11-03T01:30:00");
}

static void test_new_york_2024_spring_gap(void **state)
{
    const struct chr_tz *ny = zone(state, "America/New_York");
    /* Wall times [02:00, 03:00) do not exist; read with EST (-5) they move
     * forward by the gap: 02:30 -> 07:30Z = 03:30 EDT (time.md's example). */
    assert_from_local(ny, "2024-03-10T01:30:00", "2024-03-10T06:30:00Z");
    assert_from_local(ny, "2024-03-10T01:59:59.999", "2024-03-10T06:59:59.999Z");
    assert_from_local(ny, "2024-03-10T02:00:00", "2024-03-10T07:00:00Z");
    assert_from_local(ny, "2024-03-10T02:30:00", "2024-03-10T07:30:00Z");
    assert_from_local(ny, "2024-03-10T02:59:59.999", "2024-03-10T07:59:59.999Z");
    assert_from_local(ny, "2024-03-10T03:00:00", "2024-03-10T07:00:00Z");
    assert_from_local(ny, "2024-03-10T03:30:00", "2024-03-10T07:30:00Z");
    assert_from_local(ny, "2024-03-10T12:00:00", "2024-03-10T16:00:00Z");
}

static void test_new_york_2024_fall_overlap(void **state)
{
    const struct chr_tz *ny = zone(state, "America/New_York");
    /* Wall times [01:00, 02:00) occur twice (EDT, then EST): the earlier. */
    assert_from_local(ny, "2024-11-03T00:59:59.999", "2024-11-03T04:59:59.999Z");
    assert_from_local(ny, "2024-11-03T01:00:00", "2024-11-03T05:00:00Z");
    assert_from_local(ny, "2024-11-03T01:30:00", "2024-11-03T05:30:00Z");
    assert_from_local(ny, "2024-11-03T01:59:59.999", "2024-11-03T05:59:59.999Z");
    /* 02:00 occurs once, in EST. */
    assert_from_local(ny, "2024-11-03T02:00:00", "2024-11-03T07:00:00Z");
    assert_from_local(ny, "2024-11-04T01:30:00", "2024-11-04T06:30:00Z");
}

static void test_new_york_2024_segments(void **state)
{
    const struct chr_tz *ny = zone(state, "America/New_York");
    /* Previous fall back: first Sunday of Nov 2023 (Nov 1 a Wednesday) = Nov 5. */
    check_segment(ny, "2024-03-10T06:59:59.999Z", "2023-11-05T06:00:00Z", "2024-03-10T07:00:00Z",
                  -5 * H, -4 * H);
    check_segment(ny, "2024-03-10T07:00:00Z", "2024-03-10T07:00:00Z", "2024-11-03T06:00:00Z",
                  -4 * H, -5 * H);
    check_segment(ny, "2024-07-01T00:00:00Z", "2024-03-10T07:00:00Z", "2024-11-03T06:00:00Z",
                  -4 * H, -5 * H);
    /* Next spring: 2025-03-01 is 365 days after a Friday, a Saturday: the
     * second Sunday is Mar 9. */
    check_segment(ny, "2024-11-03T06:00:00Z", "2024-11-03T06:00:00Z", "2025-03-09T07:00:00Z",
                  -5 * H, -4 * H);
}

/* The TZif file lists transitions up to 2037; later ones come only from its
 * footer rule EST5EDT,M3.2.0,M11.1.0. */
static void test_new_york_footer_2038(void **state)
{
    const struct chr_tz *ny = zone(state, "America/New_York");
    /* 2038-01-01 was a Friday (day 24837, mod 7 = 1), so Mar 1 (+59) is a
     * Monday: second Sunday Mar 14; Nov 1 (+245, a multiple of 7 later) is a
     * Monday too: first Sunday Nov 7. */
    assert_offset(ny, "2038-01-19T03:14:07Z", -5 * H);
    assert_offset(ny, "2038-01-19T03:14:08Z", -5 * H);
    assert_offset(ny, "2038-03-14T06:59:59.999Z", -5 * H);
    assert_offset(ny, "2038-03-14T07:00:00Z", -4 * H);
    assert_offset(ny, "2038-11-07T05:59:59.999Z", -4 * H);
    assert_offset(ny, "2038-11-07T06:00:00Z", -5 * H);
    assert_from_local(ny, "2038-03-14T02:30:00", "2038-03-14T07:30:00Z");
    assert_from_local(ny, "2038-11-07T01:30:00", "2038-11-07T05:30:00Z");
    check_segment(ny, "2038-06-01T00:00:00Z", "2038-03-14T07:00:00Z", "2038-11-07T06:00:00Z",
                  -4 * H, -5 * H);
    /* The last listed transition (2037-11-01T06:00Z) to the first from the rule. */
    check_segment(ny, "2038-01-19T03:14:08Z", "2037-11-01T06:00:00Z", "2038-03-14T07:00:00Z",
                  -5 * H, -4 * H);
}

static void test_new_york_footer_2100_2400(void **state)
{
    const struct chr_tz *ny = zone(state, "America/New_York");
    /* 2100-03-01 is day 47541, a Monday: second Sunday Mar 14; Nov 1 is 245
     * days later, also a Monday: first Sunday Nov 7. */
    assert_offset(ny, "2100-03-14T06:59:59.999Z", -5 * H);
    assert_offset(ny, "2100-03-14T07:00:00Z", -4 * H);
    assert_offset(ny, "2100-11-07T05:59:59.999Z", -4 * H);
    assert_offset(ny, "2100-11-07T06:00:00Z", -5 * H);
    assert_from_local(ny, "2100-03-14T02:30:00", "2100-03-14T07:30:00Z");
    assert_from_local(ny, "2100-11-07T01:30:00", "2100-11-07T05:30:00Z");
    check_segment(ny, "2100-12-31T23:59:59.999Z", "2100-11-07T06:00:00Z", "2101-03-13T07:00:00Z",
                  -5 * H, -4 * H);
    /* 2101-03-01 is 365 days (52 weeks + 1) after 2100-03-01: a Tuesday, so
     * the second Sunday is Mar 13 (checked just above as the segment end). */
    assert_offset(ny, "2101-03-13T07:00:00Z", -4 * H);
    /* 2400-03-01 is 400 years (146097 days, whole weeks) after 2000-03-01, a
     * Wednesday: second Sunday Mar 12; Nov 1 (+245) a Wednesday: Sunday Nov 5. */
    assert_offset(ny, "2400-03-12T06:59:59.999Z", -5 * H);
    assert_offset(ny, "2400-03-12T07:00:00Z", -4 * H);
    assert_offset(ny, "2400-11-05T05:59:59.999Z", -4 * H);
    assert_offset(ny, "2400-11-05T06:00:00Z", -5 * H);
    assert_to_local(ny, "2400-03-12T07:00:00Z", "2400-03-12T03:00:00");
    assert_from_local(ny, "2400-03-12T02:30:00", "2400-03-12T07:30:00Z");
    assert_from_local(ny, "2400-03-12T03:30:00", "2400-03-12T07:30:00Z");
    assert_from_local(ny, "2400-11-05T01:30:00", "2400-11-05T05:30:00Z");
    assert_from_local(ny, "2400-11-05T02:30:00", "2400-11-05T07:30:00Z");
    check_segment(ny, "2400-07-01T00:00:00Z", "2400-03-12T07:00:00Z", "2400-11-05T06:00:00Z",
                  -4 * H, -5 * H);
}

/* Before the first transition (1883-11-18 12:03:58 LMT = 17:00Z) New York
 * kept local mean time, -4:56:02 = -17762 s.  This is in the 64-bit (v2+)
 * data only: a reader of the 32-bit block would see 1901 instead. */
static void test_new_york_ends_of_time(void **state)
{
    const struct chr_tz *ny = zone(state, "America/New_York");
    struct chr_tz_segment seg;
    chr_tz_segment_at(ny, INT64_MIN, &seg);
    assert_true(seg.start_ms == INT64_MIN);
    assert_int_equal(seg.offset_s, -17762);
    assert_int_equal(seg.prev_offset_s, -17762);
    assert_instant(seg.end_ms, "1883-11-18T17:00:00Z");
    assert_int_equal(chr_tz_offset_s(ny, INT64_MIN), -17762);
    assert_offset(ny, "1883-11-18T16:59:59.999Z", -17762);
    assert_offset(ny, "1883-11-18T17:00:00Z", -5 * H);
}

/* The footer rule at the last representable instant must not overflow:
 * INT64_MAX is +292278994-08-17, August, inside DST.  Last in main(): under
 * UBSan an overflow aborts the binary. */
static void test_offset_at_int64_max(void **state)
{
    const struct chr_tz *ny = zone(state, "America/New_York");
    assert_int_equal(chr_tz_offset_s(ny, INT64_MAX), -4 * H);
    const struct chr_tz *lh = zone(state, "Australia/Lord_Howe");
    /* August in the southern winter: standard time, +10:30. */
    assert_int_equal(chr_tz_offset_s(lh, INT64_MAX), 10 * H + 1800);
    struct chr_tz_segment seg;
    chr_tz_segment_at(ny, INT64_MAX, &seg);
    assert_int_equal(seg.offset_s, -4 * H);
    assert_true(seg.start_ms <= INT64_MAX && seg.start_ms > INT64_MAX - 366 * CHR_MS_PER_DAY);
}

/* ---- Europe/London ----------------------------------------------------------- */

/* BST from the last Sunday of March to the last Sunday of October, both at
 * 01:00 UTC.  2024: Mar 31 and Oct 27 (Nov 3 was a Sunday). */
static void test_london(void **state)
{
    const struct chr_tz *lon = zone(state, "Europe/London");
    assert_offset(lon, "2024-03-31T00:59:59.999Z", 0);
    assert_offset(lon, "2024-03-31T01:00:00Z", 1 * H);
    assert_offset(lon, "2024-10-27T00:59:59.999Z", 1 * H);
    assert_offset(lon, "2024-10-27T01:00:00Z", 0);
    /* Gap: local [01:00, 02:00) on Mar 31; read with GMT. */
    assert_from_local(lon, "2024-03-31T00:59:00", "2024-03-31T00:59:00Z");
    assert_from_local(lon, "2024-03-31T01:30:00", "2024-03-31T01:30:00Z");
    assert_from_local(lon, "2024-03-31T02:30:00", "2024-03-31T01:30:00Z");
    /* Overlap: local [01:00, 02:00) on Oct 27 twice; the BST one is earlier. */
    assert_from_local(lon, "2024-10-27T01:30:00", "2024-10-27T00:30:00Z");
    assert_from_local(lon, "2024-10-27T02:00:00", "2024-10-27T02:00:00Z");
    assert_to_local(lon, "2024-10-27T00:30:00Z", "2024-10-27T01:30:00");
    assert_to_local(lon, "2024-10-27T01:30:00Z", "2024-10-27T01:30:00");
    check_segment(lon, "2024-06-21T12:00:00Z", "2024-03-31T01:00:00Z", "2024-10-27T01:00:00Z",
                  1 * H, 0);
    /* 2040 (footer rule): Jan 1 2040 is day 25567, a Sunday; 2040 is leap, so
     * Mar 31 (+90 days) is a Saturday: last Sunday Mar 25; Oct 31 (+304) a
     * Wednesday: last Sunday Oct 28. */
    assert_offset(lon, "2040-03-25T00:59:59.999Z", 0);
    assert_offset(lon, "2040-03-25T01:00:00Z", 1 * H);
    assert_offset(lon, "2040-10-28T00:59:59.999Z", 1 * H);
    assert_offset(lon, "2040-10-28T01:00:00Z", 0);
    assert_from_local(lon, "2040-03-25T01:15:00", "2040-03-25T01:15:00Z");
    assert_from_local(lon, "2040-10-28T01:15:00", "2040-10-28T00:15:00Z");
}

/* ---- Australia/Lord_Howe: a 30-minute DST ---------------------------------- */

/* Standard +10:30, summer +11.  Summer starts the first Sunday of October at
 * 02:00 standard (-> 02:30): 02:00 - 10:30 = 15:30Z the day before; it ends
 * the first Sunday of April at 02:00 summer time (-> 01:30): 15:00Z the day
 * before.  2024: Apr 7 (Mar 31 a Sunday) and Oct 6 (Oct 27 a Sunday). */
static void test_lord_howe(void **state)
{
    const struct chr_tz *lh = zone(state, "Australia/Lord_Howe");
    int32_t std = 10 * H + 1800, dst = 11 * H;
    assert_offset(lh, "2024-04-06T14:59:59.999Z", dst);
    assert_offset(lh, "2024-04-06T15:00:00Z", std);
    assert_offset(lh, "2024-10-05T15:29:59.999Z", std);
    assert_offset(lh, "2024-10-05T15:30:00Z", dst);
    assert_to_local(lh, "2024-10-05T15:30:00Z", "2024-10-06T02:30:00");
    assert_to_local(lh, "2024-10-05T15:29:59.999Z", "2024-10-06T01:59:59.999");
    /* Gap [02:00, 02:30) on Oct 6: 02:15 read with +10:30 = 15:45Z (02:45). */
    assert_from_local(lh, "2024-10-06T02:15:00", "2024-10-05T15:45:00Z");
    assert_from_local(lh, "2024-10-06T02:00:00", "2024-10-05T15:30:00Z");
    assert_from_local(lh, "2024-10-06T02:30:00", "2024-10-05T15:30:00Z");
    assert_from_local(lh, "2024-10-06T01:59:00", "2024-10-05T15:29:00Z");
    /* Overlap [01:30, 02:00) on Apr 7: 01:45 at +11 (14:45Z) is earlier than
     * at +10:30 (15:15Z). */
    assert_from_local(lh, "2024-04-07T01:45:00", "2024-04-06T14:45:00Z");
    assert_from_local(lh, "2024-04-07T01:29:00", "2024-04-06T14:29:00Z");
    assert_from_local(lh, "2024-04-07T02:00:00", "2024-04-06T15:30:00Z");
    assert_to_local(lh, "2024-04-06T15:15:00Z", "2024-04-07T01:45:00");
    check_segment(lh, "2024-06-01T00:00:00Z", "2024-04-06T15:00:00Z", "2024-10-05T15:30:00Z", std,
                  dst);
    /* 2038 (footer <+1030>-10:30<+11>-11,M10.1.0,M4.1.0): Jan 1 2038 a Friday,
     * Apr 1 (+90) a Thursday: first Sunday Apr 4; Oct 1 (+273) a Friday: first
     * Sunday Oct 3. */
    assert_offset(lh, "2038-04-03T14:59:59.999Z", dst);
    assert_offset(lh, "2038-04-03T15:00:00Z", std);
    assert_offset(lh, "2038-10-02T15:29:59.999Z", std);
    assert_offset(lh, "2038-10-02T15:30:00Z", dst);
    assert_from_local(lh, "2038-10-03T02:15:00", "2038-10-02T15:45:00Z");
    assert_from_local(lh, "2038-04-04T01:45:00", "2038-04-03T14:45:00Z");
    check_segment(lh, "2038-06-01T00:00:00Z", "2038-04-03T15:00:00Z", "2038-10-02T15:30:00Z", std,
                  dst);
}

/* ---- America/Sao_Paulo: DST at midnight, then abolished ------------------- */

static void test_sao_paulo(void **state)
{
    const struct chr_tz *sp = zone(state, "America/Sao_Paulo");
    /* 2018-11-04 00:00 -03 -> 01:00 -02, at 03:00Z: 00:30 does not exist and
     * is read with -03 (03:30Z = 01:30 -02). */
    assert_offset(sp, "2018-11-04T02:59:59.999Z", -3 * H);
    assert_offset(sp, "2018-11-04T03:00:00Z", -2 * H);
    assert_from_local(sp, "2018-11-03T23:59:00", "2018-11-04T02:59:00Z");
    assert_from_local(sp, "2018-11-04T00:00:00", "2018-11-04T03:00:00Z");
    assert_from_local(sp, "2018-11-04T00:30:00", "2018-11-04T03:30:00Z");
    assert_from_local(sp, "2018-11-04T01:30:00", "2018-11-04T03:30:00Z");
    assert_to_local(sp, "2018-11-04T03:00:00Z", "2018-11-04T01:00:00");
    /* The last DST ended 2019-02-17 00:00 -02 -> 2019-02-16 23:00 -03 (02:00Z):
     * 23:30 on Feb 16 occurs twice; the -02 one (01:30Z) is earlier. */
    assert_offset(sp, "2019-02-17T01:59:59.999Z", -2 * H);
    assert_offset(sp, "2019-02-17T02:00:00Z", -3 * H);
    assert_from_local(sp, "2019-02-16T23:30:00", "2019-02-17T01:30:00Z");
    assert_from_local(sp, "2019-02-17T00:30:00", "2019-02-17T03:30:00Z");
    /* Abolished in 2019: -03:00 all year after, including the dates where DST
     * used to begin (first Sunday of November 2019: Nov 3). */
    assert_offset(sp, "2019-11-03T03:00:00Z", -3 * H);
    assert_offset(sp, "2020-01-15T12:00:00Z", -3 * H);
    assert_offset(sp, "2030-12-01T12:00:00Z", -3 * H);
    assert_offset(sp, "2100-01-01T00:00:00Z", -3 * H);
    assert_from_local(sp, "2019-11-03T00:30:00", "2019-11-03T03:30:00Z");
    assert_from_local(sp, "2050-01-01T00:00:00", "2050-01-01T03:00:00Z");
    check_segment(sp, "2018-12-01T00:00:00Z", "2018-11-04T03:00:00Z", "2019-02-17T02:00:00Z",
                  -2 * H, -3 * H);
}

/* ---- Pacific/Chatham: +12:45 / +13:45 ------------------------------------- */

/* Summer starts the last Sunday of September at 02:45 standard -> 03:45:
 * 02:45 - 12:45 = 14:00Z the day before; it ends the first Sunday of April at
 * 03:45 summer -> 02:45: 03:45 - 13:45 = 14:00Z the day before.  2024:
 * Sep 29 (Oct 6 a Sunday) and Apr 7. */
static void test_chatham(void **state)
{
    const struct chr_tz *ch = zone(state, "Pacific/Chatham");
    int32_t std = 12 * H + 2700, dst = 13 * H + 2700;
    assert_offset(ch, "2024-04-06T13:59:59.999Z", dst);
    assert_offset(ch, "2024-04-06T14:00:00Z", std);
    assert_offset(ch, "2024-09-28T13:59:59.999Z", std);
    assert_offset(ch, "2024-09-28T14:00:00Z", dst);
    assert_to_local(ch, "2024-09-28T13:59:59.999Z", "2024-09-29T02:44:59.999");
    assert_to_local(ch, "2024-09-28T14:00:00Z", "2024-09-29T03:45:00");
    /* Gap [02:45, 03:45) on Sep 29: 03:00 read with +12:45 = 14:15Z (04:00). */
    assert_from_local(ch, "2024-09-29T03:00:00", "2024-09-28T14:15:00Z");
    assert_from_local(ch, "2024-09-29T02:44:00", "2024-09-28T13:59:00Z");
    assert_from_local(ch, "2024-09-29T03:45:00", "2024-09-28T14:00:00Z");
    /* Overlap [02:45, 03:45) on Apr 7: 03:00 at +13:45 = 13:15Z (earlier than
     * 14:15Z at +12:45). */
    assert_from_local(ch, "2024-04-07T03:00:00", "2024-04-06T13:15:00Z");
    assert_from_local(ch, "2024-04-07T03:45:00", "2024-04-06T15:00:00Z");
    check_segment(ch, "2024-07-01T00:00:00Z", "2024-04-06T14:00:00Z", "2024-09-28T14:00:00Z", std,
                  dst);
}

/* ---- Asia/Kolkata, UTC ------------------------------------------------------- */

static void test_kolkata(void **state)
{
    const struct chr_tz *in = zone(state, "Asia/Kolkata");
    int32_t ist = 5 * H + 1800;
    assert_offset(in, "2024-01-01T00:00:00Z", ist);
    assert_offset(in, "2024-07-01T00:00:00Z", ist);
    assert_offset(in, "2300-07-01T00:00:00Z", ist);
    assert_from_local(in, "2024-06-01T05:30:00", "2024-06-01T00:00:00Z");
    assert_from_local(in, "2024-03-10T02:30:00", "2024-03-09T21:00:00Z");
    assert_to_local(in, "2024-06-01T00:00:00Z", "2024-06-01T05:30:00");
    /* The last change: war time (+6:30) ended 1945-10-14 at 17:30Z. */
    check_segment(in, "2024-01-01T00:00:00Z", "1945-10-14T17:30:00Z", NULL, ist, 6 * H + 1800);
}

static void test_utc(void **state)
{
    const struct chr_tz *u = zone(state, "UTC");
    const struct chr_tz *s = chr_tz_utc();
    assert_non_null(s);
    assert_string_equal(chr_tz_name(s), "UTC");
    const struct chr_tz *both[2] = {u, s};
    for (int i = 0; i < 2; i++) {
        assert_offset(both[i], "2024-03-10T07:00:00Z", 0);
        assert_offset(both[i], "1900-01-01T00:00:00Z", 0);
        assert_from_local(both[i], "2024-03-10T02:30:00", "2024-03-10T02:30:00Z");
        assert_to_local(both[i], "2024-11-03T01:30:00Z", "2024-11-03T01:30:00");
        check_segment(both[i], "2024-01-01T00:00:00Z", NULL, NULL, 0, 0);
        assert_int_equal(chr_tz_offset_s(both[i], INT64_MIN), 0);
        assert_int_equal(chr_tz_offset_s(both[i], INT64_MAX), 0);
        assert_true(chr_tz_from_local_ms(both[i], -1) == -1);
    }
}

/* ---- Pacific/Apia: the day that never was ---------------------------------- */

/* Samoa moved across the date line: 2011-12-29 23:59:59 at -10 (its DST) was
 * followed by 2011-12-31 00:00 at +14, at 2011-12-30T10:00Z.  All of local
 * Dec 30 is a 24-hour gap. */
static void test_apia_skipped_day(void **state)
{
    const struct chr_tz *ap = zone(state, "Pacific/Apia");
    assert_offset(ap, "2011-12-30T09:59:59.999Z", -10 * H);
    assert_offset(ap, "2011-12-30T10:00:00Z", 14 * H);
    assert_to_local(ap, "2011-12-30T09:59:59.999Z", "2011-12-29T23:59:59.999");
    assert_to_local(ap, "2011-12-30T10:00:00Z", "2011-12-31T00:00:00");
    /* Noon on Dec 30 read with -10 is 22:00Z, i.e. noon Dec 31 at +14. */
    assert_from_local(ap, "2011-12-30T12:00:00", "2011-12-30T22:00:00Z");
    assert_from_local(ap, "2011-12-31T12:00:00", "2011-12-30T22:00:00Z");
    assert_from_local(ap, "2011-12-30T00:00:00", "2011-12-30T10:00:00Z");
    assert_from_local(ap, "2011-12-31T00:00:00", "2011-12-30T10:00:00Z");
    assert_from_local(ap, "2011-12-29T12:00:00", "2011-12-29T22:00:00Z");
    /* That summer ended the first Sunday of April 2012 at 04:00 +14 (14:00Z
     * Mar 31) -> +13. */
    check_segment(ap, "2012-01-01T00:00:00Z", "2011-12-30T10:00:00Z", "2012-03-31T14:00:00Z",
                  14 * H, -10 * H);
}

/* Segments are maximal stretches of one offset: the "transitions" that fat
 * TZif files list at 2038-01-19T03:14:07Z without changing the offset (Lord
 * Howe, Sao Paulo) are not segment boundaries. */
static void test_segments_are_maximal(void **state)
{
    const struct chr_tz *lh = zone(state, "Australia/Lord_Howe");
    check_segment(lh, "2038-02-01T00:00:00Z", "2037-10-03T15:30:00Z", "2038-04-03T15:00:00Z",
                  11 * H, 10 * H + 1800);
    const struct chr_tz *sp = zone(state, "America/Sao_Paulo");
    check_segment(sp, "2020-01-01T00:00:00Z", "2019-02-17T02:00:00Z", NULL, -3 * H, -2 * H);
    check_segment(sp, "2040-01-01T00:00:00Z", "2019-02-17T02:00:00Z", NULL, -3 * H, -2 * H);
}

/* ---- the database: names, errors, cache ------------------------------------ */

static void test_get_is_cached(void **state)
{
    const struct chr_tz *a = zone(state, "Europe/London");
    const struct chr_tz *b = zone(state, "Europe/London");
    const struct chr_tz *c = zone(state, "America/New_York");
    assert_ptr_equal(a, b);
    assert_ptr_not_equal(a, c);
    assert_ptr_equal(c, zone(state, "America/New_York"));
}

static void test_unknown_zone(void **state)
{
    const struct chr_tz *tz = NULL;
    struct chr_error err;
    memset(&err, 0, sizeof err);
    enum chr_err e = chr_tzdb_get(*state, "Mars/Olympus", &tz, &err);
    if (e != CHR_ENOENT && e != CHR_EINVAL)
        fail_msg("Mars/Olympus: %d, want CHR_ENOENT or CHR_EINVAL", (int)e);
    assert_null(tz);
    if (strstr(err.message, "Mars/Olympus") == NULL)
        fail_msg("error for Mars/Olympus does not name it: '%s'", err.message);
    /* Asking again is still an error (no negative entry turned into UTC). */
    e = chr_tzdb_get(*state, "Mars/Olympus", &tz, &err);
    assert_true(e == CHR_ENOENT || e == CHR_EINVAL);
    assert_null(tz);
    /* Names are case-sensitive file names. */
    e = chr_tzdb_get(*state, "Utc/Nowhere", &tz, &err);
    assert_true(e == CHR_ENOENT || e == CHR_EINVAL);
}

static void assert_malformed(struct chr_tzdb *db, const char *name)
{
    const struct chr_tz *tz = NULL;
    struct chr_error err;
    memset(&err, 0, sizeof err);
    enum chr_err e = chr_tzdb_get(db, name, &tz, &err);
    if (e != CHR_EINVAL)
        fail_msg("zone name '%s': %d, want CHR_EINVAL", name, (int)e);
    if (tz != NULL)
        fail_msg("zone name '%s': a zone was returned", name);
    if (err.message[0] == '\0')
        fail_msg("zone name '%s': empty error message", name);
}

static void test_malformed_names(void **state)
{
    struct chr_tzdb *db = *state;
    char long_name[CHR_TZ_NAME_LEN_MAX * 4];
    char just_over[CHR_TZ_NAME_LEN_MAX + 2];
    /* "America/AAAA...": well-formed characters, one byte over the limit. */
    memset(just_over, 'A', sizeof just_over - 1);
    just_over[sizeof just_over - 1] = '\0';
    memcpy(just_over, "America/", 8);
    memset(long_name, 'A', sizeof long_name - 1);
    long_name[sizeof long_name - 1] = '\0';
    long_name[5] = '/';
    assert_malformed(db, "../etc/passwd");
    assert_malformed(db, "../../../../../../etc/passwd");
    assert_malformed(db, "America/../../../etc/passwd");
    assert_malformed(db, "America/..");
    assert_malformed(db, "..");
    assert_malformed(db, ".");
    assert_malformed(db, "./UTC");
    assert_malformed(db, "America/./New_York");
    assert_malformed(db, "/etc/passwd");
    assert_malformed(db, "/usr/share/zoneinfo/UTC");
    assert_malformed(db, "America//New_York");
    assert_malformed(db, "America/New_York/");
    assert_malformed(db, "");
    assert_malformed(db, long_name);
    assert_malformed(db, just_over);
    assert_malformed(db, "America/New York");
    assert_malformed(db, " UTC");
    assert_malformed(db, "UTC ");
    assert_malformed(db, "America/New_York\n");
}

/* Stricter: "." components, a backslash and control characters never occur
 * in IANA names (letters, digits, '-', '_', '+', '/'), so they are rejected
 * as malformed rather than looked up. */
static void test_malformed_names_strict(void **state)
{
    struct chr_tzdb *db = *state;
    assert_malformed(db, ".");
    assert_malformed(db, "./UTC");
    assert_malformed(db, "America/./New_York");
    assert_malformed(db, "America\\New_York");
    assert_malformed(db, "America/New_York\t");
    assert_malformed(db, "America/New_York;rm");
}

/* ---- a private tz directory: nothing outside it is read --------------------- */

struct tmpdir {
    char root[64];   /* /tmp/chr-tz-XXXXXX */
    char zdir[96];   /* root/zoneinfo */
};

static void copy_file(const char *from, const char *to, long max_bytes)
{
    FILE *in = fopen(from, "rb");
    FILE *out = fopen(to, "wb");
    assert_non_null(in);
    assert_non_null(out);
    char buf[4096];
    size_t n;
    long total = 0;
    while ((n = fread(buf, 1, sizeof buf, in)) > 0 && (max_bytes < 0 || total < max_bytes)) {
        if (max_bytes >= 0 && total + (long)n > max_bytes)
            n = (size_t)(max_bytes - total);
        assert_int_equal(fwrite(buf, 1, n, out), n);
        total += (long)n;
    }
    fclose(in);
    assert_int_equal(fclose(out), 0);
}

static void write_text(const char *path, const char *text)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    fputs(text, f);
    assert_int_equal(fclose(f), 0);
}

static void path_join(char *out, size_t cap, const char *a, const char *b)
{
    int n = snprintf(out, cap, "%s/%s", a, b);
    assert_true(n > 0 && (size_t)n < cap);
}

static void test_private_dir_confined(void **state)
{
    (void)state;
    struct tmpdir t;
    char p[256];
    snprintf(t.root, sizeof t.root, "/tmp/chr-tz-XXXXXX");
    assert_non_null(mkdtemp(t.root));
    path_join(t.zdir, sizeof t.zdir, t.root, "zoneinfo");
    assert_int_equal(mkdir(t.zdir, 0700), 0);
    path_join(p, sizeof p, t.zdir, "Good");
    assert_int_equal(mkdir(p, 0700), 0);
    path_join(p, sizeof p, t.zdir, "Good/Zone");
    copy_file("/usr/share/zoneinfo/Asia/Kolkata", p, -1);
    path_join(p, sizeof p, t.zdir, "Truncated");
    copy_file("/usr/share/zoneinfo/America/New_York", p, 60);
    path_join(p, sizeof p, t.zdir, "NotTzif");
    write_text(p, "this is not a TZif file, but long enough to have a header........\n");
    path_join(p, sizeof p, t.zdir, "Empty");
    write_text(p, "");
    /* A valid zone OUTSIDE the directory: if it is ever read, the get succeeds. */
    path_join(p, sizeof p, t.root, "Secret");
    copy_file("/usr/share/zoneinfo/America/New_York", p, -1);

    struct chr_tzdb *db = NULL;
    assert_int_equal(chr_tzdb_create(t.zdir, &db), CHR_OK);
    const struct chr_tz *tz = NULL;
    struct chr_error err;
    assert_int_equal(chr_tzdb_get(db, "Good/Zone", &tz, &err), CHR_OK);
    assert_int_equal(chr_tz_offset_s(tz, T("2024-01-01T00:00:00Z")), 5 * H + 1800);
    assert_string_equal(chr_tz_name(tz), "Good/Zone");

    assert_malformed(db, "../Secret");
    assert_malformed(db, "Good/../../Secret");
    snprintf(p, sizeof p, "%s/Secret", t.root);
    assert_malformed(db, p);
    /* Bad files and a directory are errors, never UTC and never a crash. */
    const char *bad[] = {"Truncated", "NotTzif", "Empty", "Good", "Missing"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        tz = NULL;
        enum chr_err e = chr_tzdb_get(db, bad[i], &tz, &err);
        if (e == CHR_OK)
            fail_msg("zone file '%s' was accepted", bad[i]);
        assert_null(tz);
    }
    chr_tzdb_destroy(db);

    const char *files[] = {"zoneinfo/Good/Zone", "zoneinfo/Truncated", "zoneinfo/NotTzif",
                           "zoneinfo/Empty", "Secret"};
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        path_join(p, sizeof p, t.root, files[i]);
        unlink(p);
    }
    path_join(p, sizeof p, t.zdir, "Good");
    rmdir(p);
    rmdir(t.zdir);
    rmdir(t.root);
}

/* ---- fixed offsets ------------------------------------------------------------ */

static void test_fixed_offsets(void **state)
{
    struct chr_tzdb *db = *state;
    const struct chr_tz *a = NULL, *b = NULL, *c = NULL;
    assert_int_equal(chr_tzdb_fixed(db, 5 * H + 1800, &a), CHR_OK);
    assert_int_equal(chr_tzdb_fixed(db, 5 * H + 1800, &b), CHR_OK);
    assert_ptr_equal(a, b);
    assert_string_equal(chr_tz_name(a), "+05:30");
    assert_offset(a, "2024-07-01T00:00:00Z", 5 * H + 1800);
    assert_from_local(a, "2024-03-10T02:30:00", "2024-03-09T21:00:00Z");
    check_segment(a, "2024-01-01T00:00:00Z", NULL, NULL, 5 * H + 1800, 5 * H + 1800);
    assert_int_equal(chr_tzdb_fixed(db, -5 * H, &c), CHR_OK);
    assert_string_equal(chr_tz_name(c), "-05:00");
    /* No DST in a fixed offset: 02:30 on New York's spring-forward day is
     * simply 07:30Z. */
    assert_from_local(c, "2024-03-10T02:30:00", "2024-03-10T07:30:00Z");
    assert_offset(c, "2024-07-01T00:00:00Z", -5 * H);
    assert_int_equal(chr_tzdb_fixed(db, 18 * H, &c), CHR_OK);
    assert_int_equal(chr_tzdb_fixed(db, -18 * H, &c), CHR_OK);
    assert_int_not_equal(chr_tzdb_fixed(db, 18 * H + 1, &c), CHR_OK);
    assert_int_not_equal(chr_tzdb_fixed(db, -18 * H - 60, &c), CHR_OK);
}

/* ---- allocation failures ----------------------------------------------------- */

#ifdef CHR_TESTING
/* Every allocation of creating a database and loading a zone may fail: each
 * failure is CHR_ENOMEM with nothing cached, and a later retry succeeds. */
static void test_alloc_failures(void **state)
{
    (void)state;
    bool done = false;
    for (long n = 1; n < 200 && !done; n++) {
        struct chr_tzdb *db = NULL;
        chr_alloc_fail_after(n);
        enum chr_err e = chr_tzdb_create(NULL, &db);
        if (e != CHR_OK) {
            chr_alloc_fail_after(-1);
            assert_int_equal(e, CHR_ENOMEM);
            continue;
        }
        const struct chr_tz *tz = NULL;
        struct chr_error err;
        e = chr_tzdb_get(db, "Australia/Lord_Howe", &tz, &err);
        chr_alloc_fail_after(-1);
        if (e == CHR_OK) {
            done = true;
        } else {
            if (e != CHR_ENOMEM)
                fail_msg("allocation %ld failing: chr_tzdb_get = %d, want CHR_ENOMEM", n, (int)e);
            assert_null(tz);
            assert_int_equal(chr_tzdb_get(db, "Australia/Lord_Howe", &tz, &err), CHR_OK);
        }
        assert_int_equal(chr_tz_offset_s(tz, T("2024-10-05T15:30:00Z")), 11 * H);
        chr_tzdb_destroy(db);
    }
    assert_true(done);
}
#endif

/* ---- threads ------------------------------------------------------------------- */

struct zone_probe {
    const char *name;
    const char *at;   /* an instant */
    int32_t offset_s; /* the offset then, by hand (see the tests above) */
};

static const struct zone_probe probes[] = {
    {"America/New_York", "2024-03-10T07:00:00Z", -4 * H},
    {"America/New_York", "2400-11-05T07:00:00Z", -5 * H}, /* 02:00 EST, once */
    {"Europe/London", "2024-03-31T01:00:00Z", 1 * H},
    {"Australia/Lord_Howe", "2024-10-05T15:30:00Z", 11 * H},
    {"America/Sao_Paulo", "2018-11-04T03:00:00Z", -2 * H},
    {"Pacific/Chatham", "2024-09-28T14:00:00Z", 13 * H + 2700},
    {"Asia/Kolkata", "2024-01-01T00:00:00Z", 5 * H + 1800},
    {"UTC", "2024-01-01T00:00:00Z", 0},
    {"Pacific/Apia", "2011-12-30T10:00:00Z", 14 * H},
    {"America/Los_Angeles", "2024-03-10T10:00:00Z", -7 * H},
    {"Europe/Berlin", "2024-03-31T01:00:00Z", 2 * H},     /* CET->CEST with London */
    {"Asia/Tokyo", "2024-07-01T00:00:00Z", 9 * H},
};
#define NPROBES (sizeof probes / sizeof probes[0])
#define NTHREADS 4

struct worker {
    struct chr_tzdb *db;
    pthread_barrier_t *start;
    int index;
    int64_t at_ms[NPROBES];
    const struct chr_tz *seen[NPROBES];
    long failures;
};

static void *work(void *arg)
{
    struct worker *w = arg;
    pthread_barrier_wait(w->start);
    for (int round = 0; round < 300; round++) {
        for (size_t k = 0; k < NPROBES; k++) {
            /* Each thread walks the list from a different place. */
            size_t i = (k + (size_t)w->index * 3) % NPROBES;
            const struct chr_tz *tz = NULL;
            struct chr_error err;
            if (chr_tzdb_get(w->db, probes[i].name, &tz, &err) != CHR_OK || tz == NULL) {
                w->failures++;
                continue;
            }
            if (w->seen[i] == NULL)
                w->seen[i] = tz;
            else if (w->seen[i] != tz)
                w->failures++;
            if (chr_tz_offset_s(tz, w->at_ms[i]) != probes[i].offset_s)
                w->failures++;
            int64_t local = chr_tz_to_local_ms(tz, w->at_ms[i]);
            if (chr_tz_from_local_ms(tz, local) != w->at_ms[i])
                w->failures++; /* each probe is the first instant of its wall time */
        }
    }
    return NULL;
}

static void test_threads(void **state)
{
    (void)state;
    struct chr_tzdb *db = NULL;
    assert_int_equal(chr_tzdb_create(NULL, &db), CHR_OK);
    pthread_barrier_t start;
    assert_int_equal(pthread_barrier_init(&start, NULL, NTHREADS), 0);
    struct worker w[NTHREADS];
    pthread_t th[NTHREADS];
    memset(w, 0, sizeof w);
    for (int t = 0; t < NTHREADS; t++) {
        w[t].db = db;
        w[t].start = &start;
        w[t].index = t;
        for (size_t i = 0; i < NPROBES; i++)
            w[t].at_ms[i] = T(probes[i].at);
        assert_int_equal(pthread_create(&th[t], NULL, work, &w[t]), 0);
    }
    for (int t = 0; t < NTHREADS; t++)
        assert_int_equal(pthread_join(th[t], NULL), 0);
    pthread_barrier_destroy(&start);
    for (int t = 0; t < NTHREADS; t++) {
        if (w[t].failures != 0)
            fail_msg("thread %d: %ld failures", t, w[t].failures);
        for (size_t i = 0; i < NPROBES; i++)
            if (w[t].seen[i] != w[0].seen[i])
                fail_msg("threads 0 and %d got different zones for %s", t, probes[i].name);
    }
    chr_tzdb_destroy(db);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_new_york_2024_offsets),
        cmocka_unit_test(test_new_york_2024_spring_gap),
        cmocka_unit_test(test_new_york_2024_fall_overlap),
        cmocka_unit_test(test_new_york_2024_segments),
        cmocka_unit_test(test_new_york_footer_2038),
        cmocka_unit_test(test_new_york_footer_2100_2400),
        cmocka_unit_test(test_new_york_ends_of_time),
        cmocka_unit_test(test_london),
        cmocka_unit_test(test_lord_howe),
        cmocka_unit_test(test_sao_paulo),
        cmocka_unit_test(test_chatham),
        cmocka_unit_test(test_kolkata),
        cmocka_unit_test(test_utc),
        cmocka_unit_test(test_apia_skipped_day),
        cmocka_unit_test(test_segments_are_maximal),
        cmocka_unit_test(test_get_is_cached),
        cmocka_unit_test(test_unknown_zone),
        cmocka_unit_test(test_malformed_names),
        cmocka_unit_test(test_malformed_names_strict),
        cmocka_unit_test(test_private_dir_confined),
        cmocka_unit_test(test_fixed_offsets),
#ifdef CHR_TESTING
        cmocka_unit_test(test_alloc_failures),
#endif
        cmocka_unit_test(test_threads),
        cmocka_unit_test(test_offset_at_int64_max),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
