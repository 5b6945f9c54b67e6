/*
 * persist.h - how the server lays the core's data out in the store: paths of
 * the znode tree of docs/design.md and the JSON of /state and /runs
 * nodes.  Job definitions are stored as the API shows them (api/job_json.h).
 *
 * Pure functions over jansson; no I/O.  Every decoder validates what it reads
 * (store data is input too) and names the bad field.
 */
#ifndef CHR_SERVER_PERSIST_H
#define CHR_SERVER_PERSIST_H

#include <stddef.h>

#include "common/err.h"
#include "scheduler/core.h"
#include "zkstore/store.h" /* CHR_KIND_* */

/*
 * A job definition as the store keeps it: the API's JSON without what reads
 * back the same when absent (server counters, empty strings and arrays,
 * false flags, a zero maxCompletionTime), so the store holds and restart
 * parses a fraction of it.  Fields whose absence means a configurable
 * default (cpus, mem, disk, retries, runAsUser...) are always kept, so a
 * change of server defaults never changes a stored job.  chr_malloc'd;
 * NULL on ENOMEM.
 */
char *chr_job_to_store_json(const struct chr_job *job, size_t *len);

/* A job's progress as JSON (chr_malloc'd; NULL on ENOMEM). */
char *chr_state_to_json(const struct chr_job_state *st, size_t *len);
/* Parses a /state node into *out (initialised by this call; the caller frees
 * it with chr_job_state_free).  A node in the plain compact shape
 * chr_state_to_json writes for a job with an empty ledger and history (an
 * idle job's: most of a million) is read by a fast path without jansson
 * (common/jscan.h); anything else, and anything that path is unsure of, by
 * chr_state_from_json_full, the validating decoder.  Both give the same
 * result for any text the fast path takes (tests/fuzz/fuzz_fastpath.c). */
enum chr_err chr_state_from_json(const char *text, size_t len, struct chr_job_state *out,
                                 struct chr_error *err);
enum chr_err chr_state_from_json_full(const char *text, size_t len, struct chr_job_state *out,
                                      struct chr_error *err);

/* An open run as JSON (chr_malloc'd; NULL on ENOMEM). */
char *chr_run_to_json(const struct chr_run *run, size_t *len);
/* Parses a /runs node; out->arguments is chr_malloc'd or NULL. */
enum chr_err chr_run_from_json(const char *text, size_t len, struct chr_run *out,
                               struct chr_error *err);

#endif
