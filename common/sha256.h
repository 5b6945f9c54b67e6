/*
 * sha256.h - SHA-256 (FIPS 180-4) and HMAC-SHA256 (RFC 2104), for the
 * signature header of outgoing notifications (server/notify.c): receivers
 * verify that a webhook came from this server.  No library of ours links
 * a crypto library (libcurl's TLS backend is not an API we may rely on),
 * and these are short and tested against the standards' vectors.
 *
 * Pure functions: no I/O, no allocation.
 */
#ifndef CHR_SHA256_H
#define CHR_SHA256_H

#include <stddef.h>
#include <stdint.h>

#define CHR_SHA256_LEN 32

struct chr_sha256 {
    uint32_t h[8];
    uint64_t bytes;     /* message length so far */
    uint8_t buf[64];
    size_t used;        /* bytes in buf */
};

void chr_sha256_init(struct chr_sha256 *s);
void chr_sha256_update(struct chr_sha256 *s, const void *data, size_t len);
void chr_sha256_final(struct chr_sha256 *s, uint8_t out[CHR_SHA256_LEN]);
/* One call: out = SHA-256(data). */
void chr_sha256(const void *data, size_t len, uint8_t out[CHR_SHA256_LEN]);
/* out = HMAC-SHA256(key, data); any key length. */
void chr_hmac_sha256(const void *key, size_t key_len, const void *data, size_t len,
                     uint8_t out[CHR_SHA256_LEN]);
/* Lower-case hex of n bytes into out (2n + 1 bytes with the NUL). */
void chr_hex(const uint8_t *in, size_t n, char *out);

#endif
