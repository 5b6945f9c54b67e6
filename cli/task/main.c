/*
 * task/main.c - `chronos-run-task`: the supervisor of local runs, alone in a
 * small binary.  The server starts one per group of runs launched in one
 * step (offers/local.h); the full
 * `chronos` binary would also do (`chronos run-task`), but it maps some forty
 * shared libraries (TLS, HTTP, ZooKeeper) that a supervisor never calls, and
 * loading them was most of a launch's cost.  This one links the C library
 * and jansson (a container run's spec) only.  It takes the same arguments:
 * `chronos-run-task run-task
 * [--notify-fd N] RUN_DIR...` (the server's form) or without `run-task`.
 */
#include <string.h>

#include "cli/cli.h"

int main(int argc, char **argv)
{
    if (argc >= 2 && strcmp(argv[1], "run-task") == 0)
        return chr_cli_run_task(argc - 1, argv + 1);
    return chr_cli_run_task(argc, argv);
}
