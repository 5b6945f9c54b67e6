/*
 * iso8601.h - time for chronos: instants, calendar arithmetic, IANA zones,
 * ISO 8601 repeating intervals and cron expressions.  docs/time.md is the
 * contract this module implements.
 *
 * This module depends on nothing of ours but common/.  Everything in it is
 * pure: no clock reads, no global mutable state, no threads.  The one I/O is
 * reading a zone's TZif file, once, in chr_tzdb_get; loaded zones are
 * immutable and shared read-only between threads.  Evaluating a schedule
 * ("the next instant after T") never allocates.
 *
 * Instants are int64 milliseconds since 1970-01-01T00:00:00Z ("at_ms").  A
 * wall time in a zone is represented the same way, as the milliseconds the
 * wall-clock fields would denote if they were UTC ("local_ms"); calendar
 * arithmetic on wall times is thus plain civil arithmetic.
 */
#ifndef CHR_ISO8601_H
#define CHR_ISO8601_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../common/err.h"

#define CHR_MS_PER_SEC 1000LL
#define CHR_MS_PER_MIN (60LL * CHR_MS_PER_SEC)
#define CHR_MS_PER_HOUR (60LL * CHR_MS_PER_MIN)
#define CHR_MS_PER_DAY (24LL * CHR_MS_PER_HOUR)

/* ---- Calendar (proleptic Gregorian), pure ------------------------------ */

/* Days since 1970-01-01 of year y, month m (1-12), day d.  Valid for any year
 * whose day count fits int64 (callers keep |y| below ~10^12). */
int64_t chr_days_from_civil(int64_t y, int m, int d);
/* The inverse of chr_days_from_civil. */
void chr_civil_from_days(int64_t days, int64_t *y, int *m, int *d);
bool chr_is_leap_year(int64_t y);
/* 28..31; m must be 1-12. */
int chr_days_in_month(int64_t y, int m);
/* Day of week of a day count: 0 = Sunday ... 6 = Saturday. */
int chr_weekday(int64_t days);

/* Broken-down time; `ms` 0-999.  Used for both instants (UTC) and wall times. */
struct chr_civil {
    int64_t year;
    int month, day, hour, minute, second, ms;
};
/* Fields to milliseconds (as if UTC).  No validation: callers pass sane fields. */
int64_t chr_civil_to_ms(const struct chr_civil *c);
/* Milliseconds to fields (floor semantics for negative values). */
void chr_ms_to_civil(int64_t ms, struct chr_civil *c);

/* Floor division and modulo for int64 (the sign of the divisor wins). */
int64_t chr_floor_div(int64_t a, int64_t b);
int64_t chr_floor_mod(int64_t a, int64_t b);

/* ---- Instants as text --------------------------------------------------- */

/* Room for any instant: "+292278994-08-17T07:12:55.807Z" and a NUL. */
#define CHR_INSTANT_TEXT_MAX 40

/*
 * Writes `at_ms` as UTC ISO 8601 with milliseconds, "2024-03-10T07:30:00.000Z"
 * (years outside 0000-9999 get a sign and more digits, as java.time does).
 * Returns the length written (always < CHR_INSTANT_TEXT_MAX).
 */
size_t chr_instant_format(int64_t at_ms, char buf[CHR_INSTANT_TEXT_MAX]);

/*
 * Parses an instant: "YYYY-MM-DD", optionally "THH:MM", "THH:MM:SS" or
 * "THH:MM:SS.fff..." (fraction truncated to ms), optionally "Z" or "+-HH:MM".
 * Without an offset the fields are UTC.  The whole string must match.
 * On failure fills `err` naming the part ("instant: month 13 is out of range
 * 1-12") and returns CHR_EINVAL.
 */
enum chr_err chr_instant_parse(const char *s, int64_t *at_ms, struct chr_error *err);

/* ---- Zones -------------------------------------------------------------- */

struct chr_tz;   /* one zone's rules; immutable once loaded */
struct chr_tzdb; /* the loaded zones of one tz database directory */

/*
 * Opens a tz database rooted at `dir` (NULL: $TZDIR if set, else
 * /usr/share/zoneinfo).  Nothing is read until a zone is asked for.
 * Returns CHR_OK and *out, or CHR_ENOMEM.  The caller owns *out.
 */
enum chr_err chr_tzdb_create(const char *dir, struct chr_tzdb **out);
/* Frees the database and every zone it handed out.  NULL is allowed. */
void chr_tzdb_destroy(struct chr_tzdb *db);

/*
 * The zone called `name` (an IANA name such as "America/New_York", or "UTC"),
 * loaded from its TZif file on first use and cached.  Thread-safe.  The zone
 * stays valid, read-only, until the database is destroyed.  An unknown or
 * malformed name is CHR_EINVAL (or CHR_ENOENT for a well-formed name with no
 * file) with `err` naming it; there is never a fallback to UTC.
 */
enum chr_err chr_tzdb_get(struct chr_tzdb *db, const char *name, const struct chr_tz **out,
                          struct chr_error *err);
/* The zone `name` if it was loaded (chr_tzdb_get), else CHR_ENOENT: never
 * reads a file.  The scheduling core's lookup (it does no I/O). */
enum chr_err chr_tzdb_lookup(struct chr_tzdb *db, const char *name, const struct chr_tz **out,
                             struct chr_error *err);

/*
 * A fixed-offset zone (offset seconds east of UTC, |offset| <= 18 h), owned by
 * the database and cached.  Thread-safe.  Used for an ISO start written with an
 * offset when the job has no zone.
 */
enum chr_err chr_tzdb_fixed(struct chr_tzdb *db, int32_t offset_s, const struct chr_tz **out);

/* The UTC zone; static, needs no database. */
const struct chr_tz *chr_tz_utc(void);

/* The zone's name ("America/New_York", "UTC", "+05:30" for fixed offsets). */
const char *chr_tz_name(const struct chr_tz *tz);

/* Seconds east of UTC in force at instant `at_ms`. */
int32_t chr_tz_offset_s(const struct chr_tz *tz, int64_t at_ms);

/* The wall time at instant `at_ms`. */
int64_t chr_tz_to_local_ms(const struct chr_tz *tz, int64_t at_ms);

/*
 * The instant of wall time `local_ms` by the one rule of time.md: a wall time
 * that occurs once maps to that instant; one that occurs twice maps to the
 * earlier; one that does not occur (a gap) is shifted forward by the length
 * of the gap (read with the offset in force before the transition).
 */
int64_t chr_tz_from_local_ms(const struct chr_tz *tz, int64_t local_ms);

/*
 * A stretch of the time line with one offset: instants [start_ms, end_ms)
 * have offset_s; start_ms is INT64_MIN when no transition precedes, end_ms is
 * INT64_MAX when none follows.  prev_offset_s is the offset before start_ms
 * (equal to offset_s when there is no earlier transition).
 */
struct chr_tz_segment {
    int64_t start_ms;
    int64_t end_ms;
    int32_t offset_s;
    int32_t prev_offset_s;
};
/* The segment containing instant `at_ms`.  O(log transitions). */
void chr_tz_segment_at(const struct chr_tz *tz, int64_t at_ms, struct chr_tz_segment *seg);

/* ---- Schedules ---------------------------------------------------------- */

/* An ISO 8601 repeating interval R[n]/start/period, parsed. */
struct chr_interval {
    int64_t count;          /* repetitions; -1 = forever; 0 = never fires */
    int64_t start_local_ms; /* the start's wall-clock fields, as local ms */
    int64_t start_ms;       /* s0, the first occurrence, as an instant */
    int64_t months;         /* years * 12 + months of the period */
    int64_t days;           /* weeks * 7 + days of the period */
    int64_t elapsed_ms;     /* hours, minutes, seconds of the period, exact */
    bool start_has_offset;  /* the start was written with Z or +-HH:MM */
    int32_t start_offset_s; /* that offset */
    /* Set by chr_schedule_parse: start_local_ms already is the wall time of
     * s0 in this zone (a start written in a gap, shifted), so evaluation in
     * that zone need not recompute it. */
    const struct chr_tz *normalized_for;
};

/* A cron expression, parsed into bit sets (bit n = value n allowed). */
struct chr_cron {
    uint64_t minutes;     /* bits 0-59 */
    uint32_t hours;       /* bits 0-23 */
    uint32_t dom;         /* bits 1-31: plain days of month */
    uint32_t dom_nearest_weekday; /* bits 1-31: nW */
    uint32_t dom_before_last;     /* bits 0-30: L-n (bit 0 = L itself) */
    uint16_t months;      /* bits 1-12 */
    uint8_t dow;          /* bits 0-6 (7 folded into 0) */
    uint8_t dow_last;     /* bits 0-6: dL, last d of the month */
    uint64_t dow_nth;     /* bit (d * 5 + k - 1): d#k, k-th d of the month */
    bool dom_last_weekday;  /* LW */
    bool dom_restricted;    /* day-of-month was not * or ? */
    bool dow_restricted;    /* day-of-week was not * or ? */
    bool hour_wildcard;     /* hour field was * : follow the clock through DST */
};

enum chr_schedule_kind { CHR_SCHEDULE_ISO8601 = 1, CHR_SCHEDULE_CRON = 2 };

/* A parsed schedule bound to a zone.  A plain value: copy it freely; it holds
 * a borrowed pointer to its zone (owned by a chr_tzdb, or static UTC). */
struct chr_schedule {
    enum chr_schedule_kind kind;
    const struct chr_tz *tz; /* never NULL after a successful parse */
    union {
        struct chr_interval iso;
        struct chr_cron cron;
    } u;
};

/*
 * Parses `expr`: an ISO 8601 repeating interval when it starts with 'R', else
 * a cron expression or macro.  `zone` is the job's zone (NULL when the job
 * has none: then a cron is evaluated in UTC, and an ISO start's offset, if
 * written, is its fixed zone).  `db` supplies fixed-offset zones and may be
 * NULL only when no ISO start with a non-zero offset is expected (else
 * CHR_EINVAL).  On failure *out is untouched and `err` names the wrong part.
 */
enum chr_err chr_schedule_parse(const char *expr, const struct chr_tz *zone, struct chr_tzdb *db,
                                struct chr_schedule *out, struct chr_error *err);

/*
 * The first instant of the schedule strictly after `after_ms`, into *next_ms.
 * CHR_ENONE when there is none (a finite repeat count exhausted, R0).  Never
 * allocates; O(log) in the distance from the start for ISO schedules.
 */
enum chr_err chr_schedule_next(const struct chr_schedule *s, int64_t after_ms, int64_t *next_ms);

/*
 * Up to `n` successive instants strictly after `after_ms` into `out`; returns
 * how many were written (fewer when the schedule ends).
 */
size_t chr_schedule_next_n(const struct chr_schedule *s, int64_t after_ms, int64_t *out, size_t n);

/* The lower-level parsers and evaluators behind chr_schedule_*. Same rules. */
enum chr_err chr_interval_parse(const char *expr, struct chr_interval *out, struct chr_error *err);
/* Occurrence k (k >= 0) of `iv` in zone `tz` (the zone the start is read in). */
int64_t chr_interval_occurrence(const struct chr_interval *iv, const struct chr_tz *tz, int64_t k);
enum chr_err chr_interval_next(const struct chr_interval *iv, const struct chr_tz *tz,
                               int64_t after_ms, int64_t *next_ms);

enum chr_err chr_cron_parse(const char *expr, struct chr_cron *out, struct chr_error *err);
enum chr_err chr_cron_next(const struct chr_cron *c, const struct chr_tz *tz, int64_t after_ms,
                           int64_t *next_ms);
/* Does the wall-clock day (y, m, d) match the cron's day fields? */
bool chr_cron_day_matches(const struct chr_cron *c, int64_t y, int m, int d);
/* The first wall time >= local_ms (rounded up to a whole minute) whose fields
 * all match, or CHR_ENONE within CHR_CRON_SEARCH_YEARS. */
enum chr_err chr_cron_match_ge(const struct chr_cron *c, int64_t local_ms, int64_t *match_local_ms);

#endif
