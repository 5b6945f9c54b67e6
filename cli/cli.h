/*
 * cli.h - the subcommands of the one `chronos` binary.  Each takes the
 * arguments after its name (argv[0] is the name) and returns the process
 * exit status: 0 success, 1 a bad value (expression, zone, instant) or, for
 * the REST client commands, the server refused (4xx) or a lookup found
 * nothing, 2 a usage error, 3 the server could not be reached, 4 the server
 * failed (5xx).
 */
#ifndef CHR_CLI_H
#define CHR_CLI_H

#include <stdbool.h>

#define CHR_EXIT_OK 0
#define CHR_EXIT_BAD_VALUE 1
#define CHR_EXIT_USAGE 2

/* The version `chronos version` prints and the server reports. */
/* CHR_VERSION comes from the Makefile's VERSION (one place for it). */
#ifndef CHR_VERSION
#error "CHR_VERSION is set by the Makefile (VERSION)"
#endif
#define CHR_EXIT_REFUSED 1     /* the server answered 4xx, or a lookup failed */
#define CHR_EXIT_UNREACHABLE 3 /* no answer from the server */
#define CHR_EXIT_SERVER 4      /* the server answered 5xx */

int chr_cli_next(int argc, char **argv);

/* `chronos run-task RUN_DIR`: the supervisor of one local run (offers/local.h);
 * started by the server, detached from it.  Not for people to call. */
int chr_cli_run_task(int argc, char **argv);

/* `chronos serve`: the scheduler and its REST API, until SIGINT/SIGTERM
 * (cli/serve.c, in chronos-server); in the command-line binary, an exec of
 * chronos-server (cli/serve_exec.c).  chr_cli_serve_here: which of the two
 * this binary has. */
int chr_cli_serve(int argc, char **argv);
extern const int chr_cli_serve_here;
/* Called by main before `serve` runs, with main's argv: re-executes the
 * binary once so that glibc backs the heap with huge pages, and in the new
 * image restores the environment (cli/huge_heap.c says why and when not).
 * Returns only when it did not exec, or in the new image. */
void chr_cli_huge_heap(char **argv);
/* The environment of that re-exec (the tunable, and the mark the new image
 * restores from), for an exec made anyway; false when not wanted (nothing
 * changed).  chr_cli_huge_heap_undo puts it back. */
bool chr_cli_huge_heap_env(void);
void chr_cli_huge_heap_undo(void);

/* `chronos store check|recover|compact [--data_dir DIR]`: the local store's
 * files, offline (cli/store.c). */
int chr_cli_store(int argc, char **argv);

/* The REST client commands (cli/client*.c), each against the server at
 * --server URL, $CHRONOS_URL or http://127.0.0.1:4400. */
int chr_cli_create(int argc, char **argv);
int chr_cli_list(int argc, char **argv);
int chr_cli_show(int argc, char **argv);
int chr_cli_edit(int argc, char **argv);
int chr_cli_apply(int argc, char **argv);
int chr_cli_run(int argc, char **argv);
int chr_cli_kill(int argc, char **argv);
int chr_cli_delete(int argc, char **argv);
int chr_cli_suspend(int argc, char **argv);
int chr_cli_resume(int argc, char **argv);
int chr_cli_runs(int argc, char **argv);
int chr_cli_logs(int argc, char **argv);
int chr_cli_graph(int argc, char **argv);
int chr_cli_status(int argc, char **argv);
int chr_cli_ledger(int argc, char **argv);
int chr_cli_notify(int argc, char **argv);

/* `chronos next --job NAME [--count N]`: the server's next instants of a
 * stored job; chr_cli_next hands over when it sees --job. */
int chr_cli_next_job(int argc, char **argv);

#endif
