/*
 * secret.h - secrets given to the `chronos` binary (the server's
 * --http_credentials and --zk_auth, the client's password): read from a
 * file only when no other user can read it, taken from the environment and
 * removed from it, and wiped from argv when someone put them there anyway.
 *
 * Every local user can read any process's /proc/PID/cmdline, and a task
 * running as the server's user can read its /proc/PID/environ; a secret
 * must be in neither once the process has read it.  Nothing here prints a
 * secret.
 */
#ifndef CHR_CLI_SECRET_H
#define CHR_CLI_SECRET_H

#include <stdbool.h>
#include <stddef.h>

/* Overwrites the secret `s` (a string in argv or in the environment block)
 * so that /proc/PID/cmdline and /proc/PID/environ no longer show it. */
void chr_secret_wipe(char *s);

/*
 * Reads the first line of file `path` (without its line end) into out
 * (cap bytes).  Refuses, printing one line naming `what` to stderr, a file
 * that is not a regular file, that group or others may read or write (the
 * secret would be theirs), that belongs to another user than this process
 * or root, that is empty or longer than cap - 1.
 */
bool chr_secret_read_file(const char *what, const char *path, char *out, size_t cap);

/* The value of environment variable `name` copied into out (cap bytes),
 * then wiped and unset, so that no child inherits it.  False when it is
 * not set (out is "") or does not fit (then it is still wiped). */
bool chr_secret_take_env(const char *name, char *out, size_t cap);

#endif
