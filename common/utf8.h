/*
 * utf8.h - whether text is well-formed UTF-8: no overlong forms, no
 * surrogates, no code point past U+10FFFF.  Every text that ends up in JSON
 * (job fields, constraint values) is checked with this one function.
 */
#ifndef CHR_COMMON_UTF8_H
#define CHR_COMMON_UTF8_H

#include <stdbool.h>

/* s is NUL-terminated. */
bool chr_utf8_valid(const char *s);

#endif
