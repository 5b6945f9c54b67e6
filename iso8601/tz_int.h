/*
 * tz_int.h - what tz.c (a zone's rules, pure) gives tzdb.c (the database of
 * loaded zones, the one file of iso8601/ that reads files).
 */
#ifndef CHR_ISO8601_TZ_INT_H
#define CHR_ISO8601_TZ_INT_H

#include <stdint.h>

#include "iso8601/iso8601.h"

/* Parses a whole TZif file in buf (v1, or v2+ with its footer) into a new
 * zone (chr_free it); CHR_EINVAL for anything malformed, CHR_ENOMEM. */
enum chr_err chr_tzif_parse(const uint8_t *buf, size_t len, struct chr_tz **out);
/* A new zone of one fixed offset, called `name`; NULL when out of memory. */
struct chr_tz *chr_tz_fixed_new(int32_t offset_s, const char *name);
/* Names a zone just built (cut to CHR_TZ_NAME_LEN_MAX). */
void chr_tz_set_name(struct chr_tz *tz, const char *name);

#endif
