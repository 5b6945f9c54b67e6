/*
 * json.h - a jansson value written out as compact JSON text in memory of
 * ours (chr_malloc'd, so chr_free releases it), for the codecs that store or
 * send JSON.
 */
#ifndef CHR_COMMON_JSON_H
#define CHR_COMMON_JSON_H

#include <jansson.h>
#include <stddef.h>

/* Dumps `v` (any JSON value) compact and releases it (v may be NULL: a value that could not
 * be built).  The text, chr_malloc'd, and its length in *len (when len is
 * not NULL); NULL when v is NULL or memory is short. */
char *chr_json_dump(json_t *v, size_t *len);

#endif
