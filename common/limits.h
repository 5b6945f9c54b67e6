/*
 * limits.h - every bound chronos puts on input and state, in one place, each
 * with the reason for its value.  Code refers to these names, never to bare
 * numbers, so a limit can be found, argued about and changed once.
 */
#ifndef CHR_LIMITS_H
#define CHR_LIMITS_H

/* Longest schedule expression accepted (ISO 8601 interval or cron line).  The
 * longest sensible ISO form is under 80 bytes; cron lists of every value of
 * every field stay under 400. */
#define CHR_SCHEDULE_LEN_MAX 512

/* Longest IANA zone name.  The longest in tzdata is 32 bytes
 * (America/Argentina/ComodRivadavia); room for local additions. */
#define CHR_TZ_NAME_LEN_MAX 64

/* Largest TZif file read.  The biggest in tzdata is under 4 KiB (fat); 64 KiB
 * leaves room for odd local builds and bounds what a bad file costs. */
#define CHR_TZ_FILE_MAX (64 * 1024)

/* Most transitions and local time types kept per zone (bounded by the file
 * size anyway; named so that the parser checks counts before allocating). */
#define CHR_TZ_TRANSITIONS_MAX 4096
#define CHR_TZ_TYPES_MAX 256

/* Most zones a process keeps loaded: every zone of tzdata is ~600. */
#define CHR_TZ_ZONES_MAX 2048

/* `chronos next --count` and the json-lines "count": a preview, not a dump. */
#define CHR_NEXT_COUNT_MAX 10000

/* One line of `chronos next --json-lines` input. */
#define CHR_JSON_LINE_MAX 8192

/* A cron expression whose next firing is further than this many years away is
 * refused at validation ("can never fire").  The Gregorian calendar repeats
 * every 400 years, so a search of 400 years decides it. */
#define CHR_CRON_SEARCH_YEARS 400

#endif
