/*
 * http_check.h - the checks every API request passes before anything else
 * reads it, as pure functions of its text: the request target (no control
 * or NUL byte), percent-decoding, the Host header (DNS rebinding), the
 * Origin of a mutation (cross-site requests), the Content-Type of a
 * mutation, and HTTP Basic credentials.
 *
 * No I/O, no clock, no MHD: http.c feeds them what libmicrohttpd parsed, the
 * unit tests and the fuzz target feed them anything.
 */
#ifndef CHR_API_HTTP_CHECK_H
#define CHR_API_HTTP_CHECK_H

#include <stdbool.h>
#include <stddef.h>

#include "common/err.h"

/* Entries of a list setting (--allowed_hosts, --cors_origins). */
#define CHR_HTTP_LIST_MAX 64
/* One entry: a host name or an origin (scheme, name, port). */
#define CHR_HTTP_LIST_ITEM_MAX 300

/* A comma-separated setting, parsed: entries trimmed, lower-cased. */
struct chr_http_list {
    char v[CHR_HTTP_LIST_MAX][CHR_HTTP_LIST_ITEM_MAX];
    size_t n;
    bool any; /* one entry was "*" */
};

/* Parses `csv` (NULL or "": empty) into *out.  CHR_EINVAL naming `field`
 * when an entry is too long, holds a space or a control byte, or there are
 * more than CHR_HTTP_LIST_MAX. */
enum chr_err chr_http_list_parse(const char *csv, const char *field, struct chr_http_list *out,
                                 struct chr_error *err);
/* Adds one entry (lower-cased; ignored when empty or too long). */
void chr_http_list_add(struct chr_http_list *l, const char *item);
/* True when `s` (any case) is an entry. */
bool chr_http_list_has(const struct chr_http_list *l, const char *s, size_t len);

/* The request target as the client sent it: false when it holds a byte
 * below 0x20 or 0x7f (a raw NUL is found by the caller, who knows the
 * target's real length). */
bool chr_http_target_ok(const char *raw, size_t len);

/* Percent-decodes `s` in place (libmicrohttpd's unescape callback) and
 * returns its new length.  "%00" stays as written: a NUL would cut a name
 * short ("a%00b" acting on job "a"), so the name is refused as invalid. */
size_t chr_http_unescape(char *s);

/*
 * Does the Host header `host` (NULL: none was sent) name this server?
 * Accepted: no header (HTTP/1.0: not a browser); a name in `names` (this
 * server's --hostname and address, --allowed_hosts) or "localhost", or any
 * name when `names` holds "*"; an IP literal that is `local_ip` (the
 * address the client connected to, text) or a loopback address.  A port,
 * if any, must be digits (it is not compared: a forwarded port may differ).
 */
bool chr_http_host_ok(const char *host, const struct chr_http_list *names, const char *local_ip);

/*
 * May a mutation with this Origin header (NULL: none) be made?  Yes when
 * there is none (not a browser), when it is the page of this server itself
 * ("http[s]://" + the Host header, same scheme), or when `cors` lists it or
 * holds "*".  "null" and anything else: no.
 */
bool chr_http_origin_ok(const char *origin, const char *host, bool tls,
                        const struct chr_http_list *cors);

/* True for "application/json" in any case, with parameters after ';'
 * ("application/json; charset=utf-8"). */
bool chr_http_is_json(const char *content_type);

/*
 * Does the Authorization header `value` (NULL: none) carry exactly
 * `credentials` ("user:password") in the Basic scheme?  The base64 must be
 * well-formed and decode to text without control bytes.  The comparison
 * takes the same time whatever the given credentials share with the secret.
 */
bool chr_http_basic_auth_ok(const char *value, const char *credentials);

#endif
