/*
 * main.c - the `chronos` binary: dispatches to a subcommand.  `chronos next`
 * is the time engine on the command line; `serve` and the REST client
 * commands join it as they are built.
 */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"

#define CHRONOS_VERSION "0.1.0"

static void usage(FILE *out)
{
    fputs("usage: chronos <command> [options]\n"
          "\n"
          "commands:\n"
          "  serve    run the scheduler and its REST API (127.0.0.1:4400)\n"
          "  next     print the next instants of a schedule (ISO 8601 or cron)\n"
          "  help     show this help, or `chronos help <command>`\n"
          "  version  print the version\n"
          "\n"
          "Run `chronos <command> --help` for a command's options.\n",
          out);
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return CHR_EXIT_USAGE;
    }
    const char *cmd = argv[1];
    if (strcmp(cmd, "next") == 0)
        return chr_cli_next(argc - 1, argv + 1);
    if (strcmp(cmd, "serve") == 0)
        return chr_cli_serve(argc - 1, argv + 1);
    if (strcmp(cmd, "run-task") == 0)
        return chr_cli_run_task(argc - 1, argv + 1);
    if (strcmp(cmd, "help") == 0 || strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0) {
        if (argc >= 3 && strcmp(argv[2], "next") == 0) {
            char *help_argv[] = {argv[2], "--help", NULL};
            return chr_cli_next(2, help_argv);
        }
        usage(stdout);
        return CHR_EXIT_OK;
    }
    if (strcmp(cmd, "version") == 0 || strcmp(cmd, "--version") == 0) {
        printf("chronos %s\n", CHRONOS_VERSION);
        return CHR_EXIT_OK;
    }
    fprintf(stderr, "chronos: unknown command '%s' (try `chronos help`)\n", cmd);
    return CHR_EXIT_USAGE;
}
