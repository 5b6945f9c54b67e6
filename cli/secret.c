/*
 * secret.c - secrets out of argv and the environment (secret.h).  Never
 * prints a secret; every message names the setting and the file only.
 */
#include "cli/secret.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

void chr_secret_wipe(char *s)
{
    size_t n = strlen(s);
    /* "***" then NULs: ps shows a placeholder, and not even the length. */
    for (size_t i = 0; i < n; i++)
        s[i] = i < 3 ? '*' : '\0';
}

bool chr_secret_read_file(const char *what, const char *path, char *out, size_t cap)
{
    out[0] = '\0';
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) != 0) {
        fprintf(stderr, "chronos: %s: cannot open '%s': %s\n", what, path, strerror(errno));
        if (fd >= 0)
            close(fd);
        return false;
    }
    const char *why = !S_ISREG(st.st_mode)                      ? "is not a regular file"
                      : (st.st_mode & 077) != 0                  ? "may be read or written by other "
                                                                   "users (chmod 600 it)"
                      : st.st_uid != geteuid() && st.st_uid != 0 ? "belongs to another user"
                                                                 : NULL;
    ssize_t n = why ? -1 : read(fd, out, cap);
    close(fd);
    if (why == NULL && n < 0)
        why = "cannot be read";
    if (why == NULL && (size_t)n >= cap)
        why = "is too long";
    if (why != NULL) {
        out[0] = '\0';
        fprintf(stderr, "chronos: %s: '%s' %s (mode %04o)\n", what, path, why,
                (unsigned)(st.st_mode & 07777));
        return false;
    }
    out[n] = '\0';
    out[strcspn(out, "\r\n")] = '\0';
    if (out[0] == '\0') {
        fprintf(stderr, "chronos: %s: '%s' is empty\n", what, path);
        return false;
    }
    return true;
}

bool chr_secret_take_env(const char *name, char *out, size_t cap)
{
    out[0] = '\0';
    char *v = getenv(name);
    if (v == NULL)
        return false;
    size_t n = strlen(v);
    bool fits = n < cap;
    if (fits)
        memcpy(out, v, n + 1);
    chr_secret_wipe(v);
    unsetenv(name);
    return fits;
}
