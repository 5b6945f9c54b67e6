/*
 * run_output.c - runs' output from the local resource manager (run_output.h).
 */
#include "server/run_output.h"

#include <stdint.h>

#include "offers/local.h"

static int local_open(void *ctx, const char *job, const char *run_id, const char *stream,
                      bool *ended)
{
    return chr_local_output_open(ctx, job, run_id, stream, ended);
}

static bool local_ended(void *ctx, const char *job, const char *run_id)
{
    return chr_local_output_ended(ctx, job, run_id);
}

struct chr_run_output chr_run_output_local(const char *runs_dir)
{
    /* The context is only ever read: the cast drops a const the table
     * cannot carry. */
    return (struct chr_run_output){local_open, local_ended, (void *)(uintptr_t)runs_dir};
}
