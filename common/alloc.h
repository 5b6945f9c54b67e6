/*
 * alloc.h - the one door to the heap.
 *
 * All allocation goes through chr_malloc/chr_calloc/chr_realloc/chr_free so
 * that tests can make the n-th allocation fail (chr_alloc_fail_after, only in
 * builds with CHR_TESTING) and prove that every caller checks its result and
 * leaves no partial state.  Sizes that are products go through
 * chr_mul_overflows first.
 */
#ifndef CHR_ALLOC_H
#define CHR_ALLOC_H

#include <stdbool.h>
#include <stddef.h>

/* Like malloc/calloc/realloc/free; NULL on failure (or on an injected one). */
void *chr_malloc(size_t size);
void *chr_calloc(size_t count, size_t size);
void *chr_realloc(void *ptr, size_t size);
void chr_free(void *ptr);

/* A heap copy of the first `len` bytes of `s`, NUL-terminated; NULL on failure. */
char *chr_strndup(const char *s, size_t len);

/* True when a * b does not fit in size_t (then *out is left alone). */
bool chr_mul_overflows(size_t a, size_t b, size_t *out);

#ifdef CHR_TESTING
/* Make allocation number n (1-based, counted from this call) and all after it
 * fail; n < 0 turns injection off.  Thread-safe (an atomic counter). */
void chr_alloc_fail_after(long n);
#endif

#endif
