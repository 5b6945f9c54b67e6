/*
 * alloc.c - allocation wrappers with failure injection for tests.
 * The only file allowed to call malloc/calloc/realloc/free directly.
 */
#include "alloc.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#ifdef CHR_TESTING
#include <stdatomic.h>
/* Owned by this file: the one piece of mutable global state outside main,
 * and only in test builds. */
static atomic_long alloc_budget = -1;

void chr_alloc_fail_after(long n)
{
    atomic_store(&alloc_budget, n < 0 ? -1 : n - 1);
}

static bool alloc_should_fail(void)
{
    long b = atomic_load(&alloc_budget);
    while (b >= 0) {
        if (b == 0)
            return true;
        if (atomic_compare_exchange_weak(&alloc_budget, &b, b - 1))
            return false;
    }
    return false;
}
#else
static bool alloc_should_fail(void)
{
    return false;
}
#endif

void *chr_malloc(size_t size)
{
    return alloc_should_fail() ? NULL : malloc(size == 0 ? 1 : size);
}

void *chr_calloc(size_t count, size_t size)
{
    return alloc_should_fail() ? NULL : calloc(count == 0 ? 1 : count, size == 0 ? 1 : size);
}

void *chr_realloc(void *ptr, size_t size)
{
    return alloc_should_fail() ? NULL : realloc(ptr, size == 0 ? 1 : size);
}

void chr_free(void *ptr)
{
    free(ptr);
}

char *chr_strndup(const char *s, size_t len)
{
    char *p = chr_malloc(len + 1);
    if (p == NULL)
        return NULL;
    memcpy(p, s, len);
    p[len] = '\0';
    return p;
}

bool chr_mul_overflows(size_t a, size_t b, size_t *out)
{
    if (a != 0 && b > SIZE_MAX / a)
        return true;
    *out = a * b;
    return false;
}
