/*
 * sb.c - the string builder (sb.h).  Room doubles from 256 bytes; a length
 * that would overflow counts as a failed allocation.
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
