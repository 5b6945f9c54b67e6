/*
 * schedule.c - one entry point for both kinds of schedule: parses an ISO 8601
 * repeating interval or a cron expression, binds it to the zone it is read
 * in (time.md's rules for a start's offset versus the job's zone), and
 * answers "next after T".  Pure: no I/O, no allocation.
 */
#include "iso8601.h"

#include <string.h>

#include "common/limits.h"

/* The zone an ISO start is read in: the job's zone wins over a written
 * offset; a written offset without a job zone is a fixed zone; else UTC. */
static enum chr_err iso_zone(const struct chr_interval *iv, const struct chr_tz *zone,
                             struct chr_tzdb *db, const struct chr_tz **out, struct chr_error *err)
{
    if (zone != NULL) {
        *out = zone;
        return CHR_OK;
    }
    if (!iv->start_has_offset || iv->start_offset_s == 0) {
        *out = chr_tz_utc();
        return CHR_OK;
    }
    if (db == NULL || chr_tzdb_fixed(db, iv->start_offset_s, out) != CHR_OK)
        return chr_error_set(err, CHR_EINVAL, "start", "offset cannot be used as a zone");
    return CHR_OK;
}

enum chr_err chr_schedule_parse(const char *expr, const struct chr_tz *zone, struct chr_tzdb *db,
                                struct chr_schedule *out, struct chr_error *err)
{
    if (expr == NULL || expr[0] == '\0')
        return chr_error_set(err, CHR_EINVAL, "schedule", "is empty");
    if (strnlen(expr, CHR_SCHEDULE_LEN_MAX + 1) > CHR_SCHEDULE_LEN_MAX)
        return chr_error_set(err, CHR_EINVAL, "schedule", "longer than %d bytes",
                             CHR_SCHEDULE_LEN_MAX);
    struct chr_schedule s;
    memset(&s, 0, sizeof s);
    enum chr_err e;
    if (expr[0] == 'R') {
        s.kind = CHR_SCHEDULE_ISO8601;
        if ((e = chr_interval_parse(expr, &s.u.iso, err)) != CHR_OK)
            return e;
        if ((e = iso_zone(&s.u.iso, zone, db, &s.tz, err)) != CHR_OK)
            return e;
        s.u.iso.start_ms = chr_tz_from_local_ms(s.tz, s.u.iso.start_local_ms);
        s.u.iso.start_local_ms = chr_tz_to_local_ms(s.tz, s.u.iso.start_ms); /* time.md step 1 */
        s.u.iso.normalized_for = s.tz;
    } else {
        s.kind = CHR_SCHEDULE_CRON;
        if ((e = chr_cron_parse(expr, &s.u.cron, err)) != CHR_OK)
            return e;
        s.tz = zone != NULL ? zone : chr_tz_utc();
    }
    *out = s;
    return CHR_OK;
}

enum chr_err chr_schedule_next(const struct chr_schedule *s, int64_t after_ms, int64_t *next_ms)
{
    if (s->kind == CHR_SCHEDULE_ISO8601)
        return chr_interval_next(&s->u.iso, s->tz, after_ms, next_ms);
    return chr_cron_next(&s->u.cron, s->tz, after_ms, next_ms);
}

size_t chr_schedule_next_n(const struct chr_schedule *s, int64_t after_ms, int64_t *out, size_t n)
{
    size_t got = 0;
    while (got < n && chr_schedule_next(s, after_ms, &out[got]) == CHR_OK) {
        after_ms = out[got];
        got++;
    }
    return got;
}
