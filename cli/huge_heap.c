/*
 * huge_heap.c - `chronos serve` backs its heap with transparent huge pages.
 *
 * A server holding a million jobs fills ~1 GiB with small objects at start:
 * with 4 KiB pages a quarter of the restart's CPU went to page faults and
 * to TLB misses in the big hash tables.  glibc's malloc asks for huge pages
 * (MADV_HUGEPAGE on what it maps and on its sbrk heap, the top pad aligned
 * to 2 MiB) only when the tunable glibc.malloc.hugetlb=1 is in the
 * environment as the process starts - it cannot be set later.  So
 * `chronos-server serve` re-executes itself once with the tunable added
 * (and `chronos serve` adds it to the exec of chronos-server it makes
 * anyway), and the new image puts the environment back as it was before
 * anything else runs, so no task, supervisor or hook ever inherits it.
 *
 * Skipped where it cannot help: the kernel's transparent_hugepage is
 * "never" (or unreadable), CHRONOS_HUGE_PAGES=false, sanitizer builds
 * (their allocator ignores the tunable).  Any failure (exec, a too long
 * GLIBC_TUNABLES) leaves the process as it was: this is an optimisation,
 * never a reason not to start.  Main's thread only, before any thread.
 */
#include "cli/cli.h"

#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define HH_MARK "CHRONOS_HUGE_HEAP_PRIOR" /* set across the exec: the prior value */
#define HH_NONE "\x01"                    /* ... when GLIBC_TUNABLES was unset */
#define HH_TUNABLE "glibc.malloc.hugetlb=1"

#if defined(__SANITIZE_ADDRESS__)
#define HH_SANITIZED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define HH_SANITIZED 1
#endif
#endif

#ifndef HH_SANITIZED
/* The kernel gives huge pages to a mapping that asks ("madvise") or to all. */
static bool thp_available(void)
{
    char buf[128] = {0};
    int fd = open("/sys/kernel/mm/transparent_hugepage/enabled", O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return false;
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    return n > 0 && strstr(buf, "[never]") == NULL;
}
#endif

/* After the re-exec: the environment as the user gave it. */
static void restore(const char *prior)
{
    if (strcmp(prior, HH_NONE) == 0)
        unsetenv("GLIBC_TUNABLES");
    else
        setenv("GLIBC_TUNABLES", prior, 1);
    unsetenv(HH_MARK);
}

bool chr_cli_huge_heap_env(void)
{
#ifdef HH_SANITIZED
    return false;
#else
    const char *off = getenv("CHRONOS_HUGE_PAGES");
    if ((off != NULL && (strcmp(off, "false") == 0 || strcmp(off, "0") == 0)) ||
        !thp_available())
        return false;
    const char *tun = getenv("GLIBC_TUNABLES");
    if (tun != NULL && strstr(tun, "glibc.malloc.hugetlb") != NULL)
        return false; /* the user chose */
    char val[1024];
    int n = tun != NULL && tun[0] != '\0' ? snprintf(val, sizeof val, "%s:%s", tun, HH_TUNABLE)
                                          : snprintf(val, sizeof val, "%s", HH_TUNABLE);
    if (n < 0 || (size_t)n >= sizeof val)
        return false;
    if (setenv(HH_MARK, tun != NULL ? tun : HH_NONE, 1) != 0)
        return false;
    if (setenv("GLIBC_TUNABLES", val, 1) != 0) {
        restore(tun != NULL ? tun : HH_NONE);
        return false;
    }
    return true;
#endif
}

void chr_cli_huge_heap(char **argv)
{
    const char *prior = getenv(HH_MARK);
    if (prior != NULL) {
        restore(prior);
        return;
    }
    if (!chr_cli_huge_heap_env())
        return;
    execv("/proc/self/exe", argv);
    /* Still here: the exec failed; carry on as we were. */
    chr_cli_huge_heap_undo();
}

void chr_cli_huge_heap_undo(void)
{
    const char *prior = getenv(HH_MARK);
    if (prior != NULL)
        restore(prior);
}
