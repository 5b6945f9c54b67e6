/*
 * render.h - the bodies of the API's read endpoints, rendered from the
 * published read model (api/view.h): pure functions of their inputs, no
 * I/O, no clock (now_ms is an argument), no locks.
 *
 * Each returns a chr_malloc'd NUL-terminated text with its length in *len,
 * or NULL when out of memory; functions that check their arguments return
 * NULL with err filled (CHR_EINVAL, the message naming the parameter) and
 * take `err` for that.  Times in JSON are ISO 8601 UTC with milliseconds
 * ("2030-01-01T00:00:00.000Z"), as Chronos shows lastSuccess.
 */
#ifndef CHR_API_RENDER_H
#define CHR_API_RENDER_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "common/err.h"
#include "iso8601/iso8601.h"
#include "api/metrics.h"
#include "api/view.h"

/* GET /v1/scheduler/jobs: a JSON array of every job, one line, each in
 * Chronos 3's shape (api/job_json.h).  _v2: the 2.x prefix /scheduler/jobs,
 * each job with `async` always (Chronos 2.x wrote it on every job). */
char *chr_render_jobs(const struct chr_view_snap *s, size_t *len);
char *chr_render_jobs_v2(const struct chr_view_snap *s, size_t *len);
/* GET job/{name}: the one job, as above. */
char *chr_render_job(const struct chr_view_job *j, bool v2, size_t *len);

/* GET jobs/summary: {"jobs":[{"name","status","state","schedule","parents",
 * "disabled", then ours: "lastRunState","lastRunAt","retryAt","nextRunAt",
 * "remainingRepeats","taskTimeSeconds"}]}: Chronos's summary entry and the
 * job's progress, which the job JSON leaves out. */
char *chr_render_summary(const struct chr_view_snap *s, size_t *len);
/* GET job/{name}/status: that job's summary entry, as one object. */
char *chr_render_job_status(const struct chr_view_job *j, size_t *len);

/* GET jobs/search.  Chronos's rule, all case-insensitive: a job matches when
 * (name is NULL or a substring of its name) and (command is NULL or a
 * substring of its command); failing that, when any is given and is a
 * substring of its name or command.  Then [offset, offset + limit). */
struct chr_search {
    const char *name, *command, *any; /* NULL or "": not given */
    size_t limit, offset;
    bool v2; /* the 2.x prefix: jobs as chr_render_jobs_v2 shows them */
};
char *chr_render_search(const struct chr_view_snap *s, const struct chr_search *q, size_t *len);

/* GET job/stat/{name}: the histogram of run times (ms) of the job's finished
 * runs and their history (Chronos's shape). */
char *chr_render_stat(const struct chr_view_job *j, size_t *len);

/* GET job/{name}/ledger: [{"from","to","fromMs","toMs","count","reason"}],
 * reason one of coalesced-down, coalesced-busy, coalesced-waiting-for-resources,
 * skipped-deadline, skipped-disabled. */
char *chr_render_ledger(const struct chr_view_job *j, size_t *len);

/* GET graph/dot (Graphviz) and graph/csv (node/link lines, no header). */
char *chr_render_graph_dot(const struct chr_view_snap *s, size_t *len);
char *chr_render_graph_csv(const struct chr_view_snap *s, size_t *len);

/* GET stats/{percentile}: [{"jobNameLabel","time"}] slowest first (time in
 * seconds over the job's finished runs; 0 for a job that never ran; ties by
 * name).  CHR_EINVAL for an unknown percentile. */
char *chr_render_stats(const struct chr_view_snap *s, const char *percentile, size_t *len,
                       struct chr_error *err);

/* GET /v1/runs: runs of every job (or of `job`), newest first (by due_ms,
 * then attempt, then id), at most limit.  state: NULL (all), a state name
 * (recording queued launching running finished failed killed lost), "active"
 * or "ended"; CHR_EINVAL for another.  CHR_ENOENT when job is given and
 * unknown. */
struct chr_runs_query {
    const char *job;   /* NULL: all */
    const char *state; /* NULL: all */
    size_t limit;
};
char *chr_render_runs(const struct chr_view_snap *s, const struct chr_runs_query *q, size_t *len,
                      struct chr_error *err);
/* One run object: {"id","job","attempt","cause","state","scheduledAt",
 * "startedAt","endedAt","durationMs","exitCode","reason"}. */
char *chr_render_run(const struct chr_view_job *j, const struct chr_view_run *r, size_t *len);
/* The run of job j with this id, or NULL. */
const struct chr_view_run *chr_view_find_run(const struct chr_view_job *j, const char *id);
/* "running", "finished", ... */
const char *chr_render_run_state(enum chr_run_state s);

/* GET job/{name}/next and POST preview: {"name","schedule","timezone",
 * "next":[ISO...]}: the next `count` instants of the job's schedule strictly
 * after from_ms (what `chronos next` computes).  CHR_EINVAL when the job is
 * dependent (no schedule) or its schedule does not parse. */
char *chr_render_next(const struct chr_job *def, struct chr_tzdb *tzdb, int64_t from_ms,
                      size_t count, size_t *len, struct chr_error *err);

/* The summed task time of every job of the snapshot, in ms (saturates at
 * INT64_MAX): /v1/status's taskTimeSeconds and /metrics' total. */
int64_t chr_render_task_time_ms(const struct chr_view_snap *s);

/* GET /metrics: Prometheus text exposition format 0.0.4.  `res`: the
 * resource manager's figures (sched.h's resources, /v1/status's shape), or
 * NULL for none. */
char *chr_render_metrics_prom(const struct chr_view_snap *s, const struct chr_metrics_sample *m,
                              const json_t *res, int64_t now_ms, size_t *len);
/* GET /metrics?format=json: Dropwizard/Chronos shape {"version","gauges",
 * "counters","histograms","meters","timers"}. */
char *chr_render_metrics_json(const struct chr_view_snap *s, const struct chr_metrics_sample *m,
                              const json_t *res, int64_t now_ms, size_t *len);

/* Is `needle` a substring of `hay` (NULL: ""), ASCII case folded, as
 * Java's toLowerCase folds the names and commands Chronos compares? */
bool chr_render_contains(const char *hay, const char *needle);

#endif
