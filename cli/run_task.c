/*
 * run_task.c - `chronos run-task [--notify-fd N] RUN_DIR`: the supervisor of
 * one run of the local resource manager (offers/local.h).  The server starts
 * it detached; a person only needs it to re-run a supervisor by hand.  All
 * the work is chr_local_run_task's; this file only reads the arguments.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "common/limits.h"
#include "offers/local.h"

static const char run_task_help[] =
    "usage: chronos run-task [--notify-fd N] RUN_DIR...\n"
    "\n"
    "Supervises the runs whose directories are given, at most 64 (the server\n"
    "starts this; see offers/local.h): claims each, starts its task, records\n"
    "its pid, output and outcome there.  The task execs no earlier than the spec's not_before_ms\n"
    "(the supervisor does everything else first, then holds it).\n"
    "Exits 0 once the outcome is recorded, 3 when the run\n"
    "was claimed already, 1 when nothing could be recorded.\n"
    "\n"
    "  --notify-fd N   write \"R <pid> <start_ms> <run-id>\" to descriptor N once\n"
    "                  a task has exec'd, \"E <run-id>\" once its outcome is durable\n";

static bool parse_fd(const char *s, int *out)
{
    char *end = NULL;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno != 0 || end == s || *end != '\0' || v < 0 || v > 65535)
        return false;
    *out = (int)v;
    return true;
}

int chr_cli_run_task(int argc, char **argv)
{
    int notify_fd = -1;
    const char *dirs[CHR_LOCAL_GROUP_MAX];
    size_t n = 0;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            fputs(run_task_help, stdout);
            return CHR_EXIT_OK;
        }
        if (strcmp(argv[i], "--notify-fd") == 0 && i + 1 < argc) {
            if (!parse_fd(argv[++i], &notify_fd)) {
                fprintf(stderr, "chronos run-task: --notify-fd: '%s' is not a descriptor\n",
                        argv[i]);
                return CHR_EXIT_USAGE;
            }
        } else if (n < CHR_LOCAL_GROUP_MAX && argv[i][0] != '-') {
            dirs[n++] = argv[i];
        } else {
            fputs(run_task_help, stderr);
            return CHR_EXIT_USAGE;
        }
    }
    if (n == 0) {
        fputs(run_task_help, stderr);
        return CHR_EXIT_USAGE;
    }
    return chr_local_run_group(dirs, n, notify_fd);
}
