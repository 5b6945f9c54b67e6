/*
 * serve_exec.c - `chronos serve` in the command-line binary: it becomes
 * `chronos-server serve ...` (execv, same process id), the binary beside it
 * that holds the server.  The split keeps every other command small: the
 * server's libraries (libmicrohttpd and GnuTLS, the ZooKeeper client,
 * libcurl for notifications and Mesos) are loaded by the server alone, not
 * by each `chronos list` a script runs.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "common/alloc.h"

#define SERVER_BIN "chronos-server"

const int chr_cli_serve_here = 0;

int chr_cli_serve(int argc, char **argv)
{
    char path[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", path, sizeof path - 1);
    char *slash = NULL;
    if (n > 0) {
        path[n] = '\0';
        slash = strrchr(path, '/');
    }
    if (slash == NULL || (size_t)(slash + 1 - path) + sizeof SERVER_BIN > sizeof path) {
        fprintf(stderr, "chronos serve: cannot tell where this binary is (/proc/self/exe): "
                        "run %s serve instead\n", SERVER_BIN);
        return CHR_EXIT_BAD_VALUE;
    }
    memcpy(slash + 1, SERVER_BIN, sizeof SERVER_BIN);
    char **args = chr_calloc((size_t)argc + 2, sizeof *args);
    if (args == NULL) {
        fputs("chronos serve: out of memory\n", stderr);
        return CHR_EXIT_BAD_VALUE;
    }
    args[0] = path;
    for (int i = 0; i < argc; i++)
        args[i + 1] = argv[i];
    fflush(NULL);
    /* The server's heap on huge pages: set up in this exec, not in one more. */
    bool huge = chr_cli_huge_heap_env();
    execv(path, args);
    int err = errno;
    if (huge)
        chr_cli_huge_heap_undo();
    chr_free(args);
    fprintf(stderr, "chronos serve: cannot run the server, %s: %s (it is installed beside "
                    "chronos)\n", path, strerror(err));
    return CHR_EXIT_BAD_VALUE;
}
