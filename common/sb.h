/*
 * sb.h - the string builder of chronos: a growing buffer of text, always
 * NUL-terminated once anything was put, with sticky failure: when an
 * allocation fails every later put does nothing and chr_sb_finish returns
 * NULL, so a builder of many puts checks once, at the end.
 *
 * A zeroed struct chr_sb is an empty builder.  The text is chr_malloc'd:
 * chr_sb_finish hands it to the caller; chr_sb_free drops it.
 */
#ifndef CHR_COMMON_SB_H
#define CHR_COMMON_SB_H

#include <stdbool.h>
#include <stddef.h>

struct chr_sb {
    char *p;
    size_t len, cap;
    bool oom;
};

void chr_sb_put(struct chr_sb *b, const char *s, size_t n);
void chr_sb_str(struct chr_sb *b, const char *s);
void chr_sb_ch(struct chr_sb *b, char c);
/* printf-style; for short pieces (numbers): more than 255 bytes is an error
 * that sticks, as a failed allocation does. */
void chr_sb_fmt(struct chr_sb *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* The text (chr_malloc'd, NUL-terminated; "" when nothing was put), its
 * length in *len (may be NULL); NULL when an allocation failed, everything
 * freed then.  The builder is empty afterwards. */
char *chr_sb_finish(struct chr_sb *b, size_t *len);
/* Drops the text; the builder is empty afterwards. */
void chr_sb_free(struct chr_sb *b);

#endif
