/*
 * assert.c - the one place an assertion failure is reported (assert.h).
 */
#include "common/assert.h"

#include <stdio.h>
#include <stdlib.h>

_Noreturn void chr_assert_fail(const char *what, const char *file, int line)
{
    fprintf(stderr, "chronos: assertion failed: %s (%s:%d)\n", what, file, line);
    fflush(stderr);
    abort();
}
