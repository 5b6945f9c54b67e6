/*
 * assert.h - CHR_ASSERT: an invariant of our own code, checked in every
 * build, release included (as SQLite's ALWAYS and TigerBeetle's asserts).
 * A broken invariant means the process's state can no longer be trusted:
 * it says which one, where, and aborts, rather than go on scheduling or
 * writing.  Bad input is never an assertion: it is an error with a message.
 */
#ifndef CHR_COMMON_ASSERT_H
#define CHR_COMMON_ASSERT_H

#define CHR_ASSERT(x)                                                                       \
    do {                                                                                    \
        if (!(x))                                                                           \
            chr_assert_fail(#x, __FILE__, __LINE__);                                        \
    } while (0)

/* Writes "chronos: assertion failed: WHAT (FILE:LINE)" to stderr and aborts. */
_Noreturn void chr_assert_fail(const char *what, const char *file, int line);

#endif
