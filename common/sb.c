/*
 * sb.c - the string builder (sb.h).  Room doubles from 256 bytes; a length
 * that would overflow counts as a failed allocation.  JSON strings are
 * escaped here rather than with jansson, whose allocations the tests cannot
 * fail.
 */
#include "common/sb.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "common/alloc.h"

/* Room for `more` bytes and a NUL; false (and oom) when there is none. */
static bool room(struct chr_sb *b, size_t more)
{
    if (b->oom)
        return false;
    if (b->p != NULL && more < b->cap - b->len)
        return true;
    if (more > SIZE_MAX / 4 - b->len) {
        b->oom = true;
        return false;
    }
    size_t need = b->len + more + 1, cap = b->cap ? b->cap : 256;
    while (cap < need)
        cap *= 2;
    char *p = chr_realloc(b->p, cap);
    if (p == NULL) {
        b->oom = true;
        return false;
    }
    b->p = p;
    b->cap = cap;
    return true;
}

void chr_sb_put(struct chr_sb *b, const char *s, size_t n)
{
    if (!room(b, n))
        return;
    memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = '\0';
}

void chr_sb_str(struct chr_sb *b, const char *s)
{
    chr_sb_put(b, s, strlen(s));
}

void chr_sb_ch(struct chr_sb *b, char c)
{
    chr_sb_put(b, &c, 1);
}

void chr_sb_fmt(struct chr_sb *b, const char *fmt, ...)
{
    char tmp[256];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= sizeof tmp) {
        b->oom = true;
        return;
    }
    chr_sb_put(b, tmp, (size_t)n);
}

/* Length of the valid UTF-8 sequence at s (whose first byte is >= 0x80),
 * or 0 when it is not one. */
static size_t utf8_len(const unsigned char *s)
{
    unsigned c = s[0];
    unsigned lo = 0x80, hi = 0xBF;
    size_t n;
    if (c >= 0xC2 && c <= 0xDF)
        n = 2;
    else if (c >= 0xE0 && c <= 0xEF)
        n = 3;
    else if (c >= 0xF0 && c <= 0xF4)
        n = 4;
    else
        return 0;
    if (c == 0xE0)
        lo = 0xA0;
    else if (c == 0xED)
        hi = 0x9F;
    else if (c == 0xF0)
        lo = 0x90;
    else if (c == 0xF4)
        hi = 0x8F;
    if (s[1] < lo || s[1] > hi)
        return 0;
    for (size_t i = 2; i < n; i++)
        if (s[i] < 0x80 || s[i] > 0xBF)
            return 0;
    return n;
}

/* The inside of a JSON string: quotes, backslash and control characters
 * escaped, UTF-8 kept, invalid bytes replaced by U+FFFD.  NULL is "". */
void chr_sb_json_body(struct chr_sb *b, const char *s)
{
    const unsigned char *p = (const unsigned char *)(s ? s : "");
    while (*p != '\0' && !b->oom) {
        size_t run = 0;
        while (p[run] >= 0x20 && p[run] < 0x80 && p[run] != '"' && p[run] != '\\')
            run++;
        chr_sb_put(b, (const char *)p, run);
        p += run;
        if (*p == '\0')
            break;
        if (*p == '"' || *p == '\\') {
            char e[2] = {'\\', (char)*p};
            chr_sb_put(b, e, 2);
            p++;
        } else if (*p < 0x20) {
            static const char hex[] = "0123456789abcdef";
            const char *named = *p == '\n' ? "\\n" : *p == '\r' ? "\\r" : *p == '\t' ? "\\t" : NULL;
            char u[6] = {'\\', 'u', '0', '0', hex[*p >> 4], hex[*p & 15]};
            if (named != NULL)
                chr_sb_str(b, named);
            else
                chr_sb_put(b, u, 6);
            p++;
        } else {
            size_t n = utf8_len(p);
            if (n == 0)
                chr_sb_str(b, "\\ufffd");
            else
                chr_sb_put(b, (const char *)p, n);
            p += n == 0 ? 1 : n;
        }
    }
}

void chr_sb_json_str(struct chr_sb *b, const char *s)
{
    chr_sb_ch(b, '"');
    chr_sb_json_body(b, s);
    chr_sb_ch(b, '"');
}

bool chr_sb_failed(const struct chr_sb *b)
{
    return b->oom;
}

void chr_sb_fail(struct chr_sb *b)
{
    b->oom = true;
}

char *chr_sb_finish(struct chr_sb *b, size_t *len)
{
    if (!b->oom && b->p == NULL && room(b, 0))
        b->p[0] = '\0';
    char *p = b->oom ? NULL : b->p;
    if (b->oom)
        chr_free(b->p);
    if (p != NULL && len != NULL)
        *len = b->len;
    *b = (struct chr_sb){NULL, 0, 0, false};
    return p;
}

void chr_sb_free(struct chr_sb *b)
{
    chr_free(b->p);
    *b = (struct chr_sb){NULL, 0, 0, false};
}
