/*
 * sb.h - the string builder of chronos: a growing buffer of text, always
 * NUL-terminated once anything was put, with sticky failure: when an
 * allocation fails every later put does nothing and chr_sb_finish returns
 * NULL, so a builder of many puts checks once, at the end.
 *
 * A zeroed struct chr_sb is an empty builder.  The text is chr_malloc'd:
 * chr_sb_finish hands it to the caller; chr_sb_free drops it.  Bytes are
 * bytes: a builder may hold binary data (with NULs) as well as text.
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

/* n bytes of s (any bytes, NULs too). */
void chr_sb_put(struct chr_sb *b, const char *s, size_t n);
/* s (NUL-terminated) without its NUL. */
void chr_sb_str(struct chr_sb *b, const char *s);
void chr_sb_ch(struct chr_sb *b, char c);
/* printf-style; for short pieces (numbers): more than 255 bytes is an error
 * that sticks, as a failed allocation does. */
void chr_sb_fmt(struct chr_sb *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* s as a JSON string with its quotes: '"', '\\' and control characters
 * escaped (\n, \r, \t by name, others as \u00XX), valid UTF-8 kept, every
 * byte that is not part of valid UTF-8 replaced by \ufffd; NULL is "".  So
 * any C string gives valid JSON. */
void chr_sb_json_str(struct chr_sb *b, const char *s);
/* The same without the quotes: the inside of a JSON string, for one built
 * of several pieces. */
void chr_sb_json_body(struct chr_sb *b, const char *s);

/* True once a put failed (or chr_sb_fail was called): later puts do
 * nothing and chr_sb_finish returns NULL.  For loops that stop early. */
bool chr_sb_failed(const struct chr_sb *b);
/* Makes the builder fail as a failed allocation would, for a caller whose
 * own allocation for the text failed: it still checks once, at the end. */
void chr_sb_fail(struct chr_sb *b);
/* The text (chr_malloc'd, NUL-terminated; "" when nothing was put), its
 * length in *len (may be NULL); NULL when an allocation failed, everything
 * freed then.  The builder is empty afterwards. */
char *chr_sb_finish(struct chr_sb *b, size_t *len);
/* Drops the text; the builder is empty afterwards. */
void chr_sb_free(struct chr_sb *b);

#endif
