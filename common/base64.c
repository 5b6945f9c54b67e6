/*
 * base64.c - base64 encoding and strict decoding (base64.h).
 */
#include "common/base64.h"

static const char ABC[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

size_t chr_base64_encode(const uint8_t *in, size_t n, char *out)
{
    size_t o = 0;
    for (size_t i = 0; i < n; i += 3) {
        uint32_t v = (uint32_t)in[i] << 16;
        if (i + 1 < n)
            v |= (uint32_t)in[i + 1] << 8;
        if (i + 2 < n)
            v |= in[i + 2];
        out[o++] = ABC[v >> 18 & 63];
        out[o++] = ABC[v >> 12 & 63];
        out[o++] = i + 1 < n ? ABC[v >> 6 & 63] : '=';
        out[o++] = i + 2 < n ? ABC[v & 63] : '=';
    }
    out[o] = '\0';
    return o;
}

static int value_of(char c)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    return c == '+' ? 62 : c == '/' ? 63 : -1;
}

long chr_base64_decode(const char *in, size_t n, uint8_t *out, size_t cap, bool need_pad)
{
    size_t pads = 0;
    while (n > 0 && in[n - 1] == '=' && pads < 2) {
        n--;
        pads++;
    }
    if ((pads > 0 || need_pad) && (n + pads) % 4 != 0)
        return -1;
    if (n % 4 == 1)
        return -1;
    size_t len = 0;
    unsigned acc = 0, bits = 0;
    for (size_t i = 0; i < n; i++) {
        int v = value_of(in[i]);
        if (v < 0)
            return -1;
        acc = (acc << 6 | (unsigned)v) & 0xffffu;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            if (len == cap)
                return -1;
            out[len++] = (uint8_t)(acc >> bits);
        }
    }
    if ((acc & ((1u << bits) - 1)) != 0)
        return -1; /* stray low bits: not what an encoder writes */
    return (long)len;
}
