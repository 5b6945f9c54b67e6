/*
 * base64.h - base64 (RFC 4648, the standard alphabet) for the few places
 * that speak it: HTTP Basic credentials (the API checks them, the client
 * sends them), ZooKeeper digest ACL ids, Mesos's uuids.  Pure: no I/O, no
 * allocation.
 */
#ifndef CHR_COMMON_BASE64_H
#define CHR_COMMON_BASE64_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Bytes chr_base64_encode writes for n bytes, with its NUL. */
#define CHR_BASE64_SIZE(n) (((n) + 2) / 3 * 4 + 1)

/* The n bytes at in, padded with '=', NUL-terminated, into out (at least
 * CHR_BASE64_SIZE(n) bytes); returns the text's length. */
size_t chr_base64_encode(const uint8_t *in, size_t n, char *out);

/* The n characters at in decoded into out (at most cap bytes); returns the
 * length, or -1 when the text is not canonical base64: a character outside
 * the alphabet, a bad length, '=' anywhere but at the end, bits set past the
 * data (no encoder writes them), or more than cap bytes.  `need_pad`: the
 * text must be padded to a multiple of 4 (else the padding is optional). */
long chr_base64_decode(const char *in, size_t n, uint8_t *out, size_t cap, bool need_pad);

#endif
