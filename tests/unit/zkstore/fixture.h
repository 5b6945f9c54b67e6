/*
 * fixture.h - what the zkstore tests share: a temporary directory holding
 * the store in "db", and removing it afterwards.
 */
#ifndef CHR_TEST_ZKSTORE_FIXTURE_H
#define CHR_TEST_ZKSTORE_FIXTURE_H

#include <dirent.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "zkstore/store.h"

struct fx {
    char tmp[64];
    char dir[96];
    struct chr_store *s;
};

/* Removes a directory tree (the store's files and the temp directory). */
static inline void rm_tree(const char *path)
{
    DIR *d = opendir(path);
    if (d == NULL) {
        remove(path);
        return;
    }
    for (struct dirent *de = readdir(d); de != NULL; de = readdir(d)) {
        if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
            continue;
        char sub[512];
        int n = snprintf(sub, sizeof sub, "%s/%s", path, de->d_name);
        if (n < 0 || (size_t)n >= sizeof sub)
            continue; /* no path of ours is that long */
        struct stat sb;
        if (lstat(sub, &sb) == 0 && S_ISDIR(sb.st_mode))
            rm_tree(sub);
        else
            remove(sub);
    }
    closedir(d);
    rmdir(path);
}

#endif
