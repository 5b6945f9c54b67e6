/*
 * job_json.h - the codec between Chronos 3's job JSON and struct chr_job.
 *
 * Pure: no I/O, no clock (the caller passes "now"), no global state.  Both
 * directions use jansson internally; nothing jansson-owned crosses this
 * interface.  Shared by the HTTP API, the store (a job znode is this JSON)
 * and the CLI.
 */
#ifndef CHR_JOB_JSON_H
#define CHR_JOB_JSON_H

#include <stddef.h>
#include <stdint.h>

#include "common/err.h"
#include "scheduler/job.h"

/* Which endpoint a body came to.  The body decides the kind (non-empty
 * `parents` makes a dependent job, else `schedule` a scheduled one); the hint
 * only decides what a body with neither means. */
enum chr_job_kind_hint {
    CHR_JOB_HINT_ANY = 0,   /* store, CLI: neither = run once now */
    CHR_JOB_HINT_SCHEDULED, /* POST /iso8601: neither = run once now */
    CHR_JOB_HINT_DEPENDENT, /* POST /dependency: neither is an error naming parents */
};

/*
 * Parses one job definition from `text` (`len` bytes, no NUL needed) into
 * *out.  Every field of docs/api.md, "The job JSON", is accepted with its
 * type (numbers may also come as strings, "3"; booleans as "true"/"false";
 * null means absent); unknown fields and the server's counters
 * (successCount, errorCount, errorsSinceLastSuccess, lastSuccess, lastError)
 * are accepted and ignored.
 * Absent fields and resources of 0 take `defaults` (NULL: Chronos's own, see
 * chr_job_defaults_init).  A body with neither a schedule nor parents gets
 * "R1/<now_ms>/PT24H" (run once now).  The result has passed
 * chr_job_validate; the schedule's syntax and zone are the caller's to check.
 *
 * Returns CHR_OK with *out owned by the caller (chr_job_free); CHR_EINVAL
 * with `err` naming the field ("retries: expected an integer 0-100, got
 * \"x\""; `err` may be NULL); CHR_ENOMEM.  On failure *out is zeroed.
 */
enum chr_err chr_job_from_json(const char *text, size_t len,
                               const struct chr_job_defaults *defaults,
                               enum chr_job_kind_hint hint, int64_t now_ms, struct chr_job *out,
                               struct chr_error *err);
/* The same decoder without its fast path: chr_job_from_json reads a body in
 * the plain compact shape chr_job_to_store_json writes (plain ASCII texts,
 * no null, no nested object, a schedule with its start or parents: what a
 * million stored jobs are) without jansson (common/jscan.h), and hands
 * anything else, or anything that path is unsure of, to this one.  Both give
 * the same job for any text the fast path takes (tests/fuzz/fuzz_fastpath.c,
 * tests/unit/api/test_job_json.c). */
enum chr_err chr_job_from_json_full(const char *text, size_t len,
                                    const struct chr_job_defaults *defaults,
                                    enum chr_job_kind_hint hint, int64_t now_ms,
                                    struct chr_job *out, struct chr_error *err);

/*
 * The job as Chronos 3's GET shows it, and only that: one line of compact
 * JSON, fields in Chronos's serializer order, then container (when set), the
 * 2.x epsilon and async (when set), and our definition fields
 * (retryDelaySeconds, retryBackoff, startingDeadlineSeconds when set).
 * Chronos's own counters (successCount, errorCount, errorsSinceLastSuccess,
 * lastSuccess, lastError) come from `stats` (NULL: zero, never run); our
 * progress (next instant, repeats left, the last run's outcome, task time)
 * is not part of it: GET job/{name}/status and jobs/summary show that
 * (api/render.h).  `schedule` is shown exactly as stored; fetch and uris are
 * each filled from the other.
 *
 * Returns a NUL-terminated string the caller frees with chr_free, its length
 * in *len (len may be NULL); NULL when memory ran out (or when `job` would
 * not pass chr_job_validate: text that is not UTF-8, a blob that is not JSON;
 * every job from chr_job_from_json passes).
 */
char *chr_job_to_json(const struct chr_job *job, const struct chr_job_stats *stats, size_t *len);

#endif
