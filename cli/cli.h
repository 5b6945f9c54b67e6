/*
 * cli.h - the subcommands of the one `chronos` binary.  Each takes the
 * arguments after its name and returns the process exit status: 0 success,
 * 1 a bad value (expression, zone, instant), 2 a usage error.
 */
#ifndef CHR_CLI_H
#define CHR_CLI_H

#define CHR_EXIT_OK 0
#define CHR_EXIT_BAD_VALUE 1
#define CHR_EXIT_USAGE 2

int chr_cli_next(int argc, char **argv);

/* `chronos run-task RUN_DIR`: the supervisor of one local run (offers/local.h);
 * started by the server, detached from it.  Not for people to call. */
int chr_cli_run_task(int argc, char **argv);

/* `chronos serve`: the scheduler and its REST API, until SIGINT/SIGTERM. */
int chr_cli_serve(int argc, char **argv);

#endif
