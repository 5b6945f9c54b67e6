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

#endif
