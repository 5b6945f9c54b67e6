/*
 * run_cmd.h - what one run executes: the job's command and arguments, or a
 * manual run's ?arguments= in their place.
 *
 * Manual arguments are argv, never shell text: on a shell:false job they
 * are argv elements after the command; on a shell:true job each one is
 * shell-quoted before it is appended to the command, so `x;id` is one word
 * `'x;id'`, never a second command.  They travel from the API to the launch
 * (through the core and the store, as the run's one `arguments` string)
 * encoded as a JSON array of strings.
 *
 * Pure: no I/O, no clock.
 */
#ifndef CHR_API_RUN_CMD_H
#define CHR_API_RUN_CMD_H

#include <stddef.h>
#include <stdint.h>

#include "common/err.h"
#include "scheduler/job.h"

/*
 * The run's `arguments` text for the manual arguments v[0..n-1]: a JSON
 * array.  NULL with CHR_OK in *e when there are none (n == 0, or the one
 * blank value a bare `?arguments=` gives, as Chronos ignores it).  Refuses
 * (NULL, *e CHR_EINVAL, err naming "arguments") more than
 * CHR_JOB_ARGUMENTS_MAX values, text that is not UTF-8, or more than
 * CHR_JOB_COMMAND_MAX bytes in all.  The result is chr_malloc'd.
 */
char *chr_run_args_encode(const char *const *v, size_t n, enum chr_err *e,
                          struct chr_error *err);

/* What to launch.  Every string chr_malloc'd and owned. */
struct chr_run_cmd {
    char *command;
    bool shell;
    char **arguments; /* argv after the command when !shell */
    uint32_t n_arguments;
};

/*
 * The command of `job` for a run whose arguments text is `run_arguments`
 * (NULL: the job's own).  Text that is not a JSON array (a run recorded
 * before arguments were encoded) is one argument.  Returns CHR_OK,
 * CHR_ENOMEM.  *out is always safe to free.
 */
enum chr_err chr_run_cmd_make(const struct chr_job *job, const char *run_arguments,
                              struct chr_run_cmd *out);
void chr_run_cmd_free(struct chr_run_cmd *c);

/* Appends `word` to the string builder (buf, *len, cap) quoted for
 * /bin/sh: as is when it holds only safe characters, else in '...' with
 * each ' written '\''.  False when it does not fit (cap includes the NUL). */
bool chr_shell_quote(const char *word, char *buf, size_t *len, size_t cap);
/* Bytes chr_shell_quote may need for `word`, its NUL excluded. */
size_t chr_shell_quote_max(const char *word);

#endif
