/*
 * view.h - the read model of the API: an immutable copy of each job as the
 * core last showed it (definition, counters, next instant, active and
 * recent runs), published by the scheduler thread and read by the HTTP
 * threads without ever stopping the scheduler.
 *
 * The scheduler thread marks the jobs a step touched (chr_view_touch) and,
 * after the step, replaces their views (chr_view_flush).  Readers take a
 * snapshot (every job, in registration order) or one job; both are
 * reference-counted and stay valid, unchanged, until released, whatever the
 * scheduler does meanwhile.  A snapshot is built only when a reader asks
 * for one and something changed since the last one, and then shared by
 * every reader until the next change.
 */
#ifndef CHR_API_VIEW_H
#define CHR_API_VIEW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "scheduler/core.h"

/* One run of a job: active (recording .. running) or finished (from the
 * job's bounded history). */
struct chr_view_run {
    char id[CHR_RUN_ID_MAX];
    enum chr_run_state state;
    enum chr_run_cause cause;
    int64_t due_ms;
    int64_t ready_ms;             /* active: not started before (due, or a retry's
                                   * delay's end); finished: INT64_MIN */
    int64_t started_ms, ended_ms; /* INT64_MIN: not (yet) */
    int32_t attempt;
    int32_t exit_code;            /* valid when ended; -1: none (signal, never ran) */
    char reason[CHR_RUN_REASON_MAX];
};

/* A job as published.  Everything is read-only for readers. */
struct chr_view_job {
    const struct chr_job *def;     /* the core's definition, held (chr_job_hold) */
    struct chr_job_stats stats;
    int64_t next_ms;               /* next due instant; INT64_MIN: none */
    int64_t remaining_repeats;     /* of a finite "R<n>/..." schedule; -1: not finite */
    uint32_t n_queued;             /* active runs not yet running (recording, queued, launching) */
    uint32_t n_running;
    /* Finished runs oldest first (runs[0 .. n_finished)), then the active
     * runs (runs[n_finished .. n_runs)). */
    const struct chr_view_run *runs;
    uint32_t n_runs, n_finished;
    /* Instants that did not become a launch (coalesced, skipped), oldest
     * first, bounded (CHR_LEDGER_MAX). */
    const struct chr_ledger_entry *ledger;
    uint32_t n_ledger;
};

/* Chronos's "status" of a job: "success" / "failure" from comparing
 * lastSuccess and lastError, "fresh" when neither. */
const char *chr_view_job_status(const struct chr_view_job *j);
/* Chronos's "state": "idle", "queued" or "<n> running" into buf. */
const char *chr_view_job_state(const struct chr_view_job *j, char buf[32]);

/*
 * The job as the API shows it (api/job_json.h: Chronos's shape, without our
 * progress): compact JSON, rendered on first use and kept with the view.
 * *len gets its length.
 * NULL when out of memory.  Owned by the view: valid while it is held.
 */
const char *chr_view_job_json(const struct chr_view_job *j, size_t *len);

struct chr_view_snap {
    uint64_t gen;                          /* grows with every change */
    size_t n;
    const struct chr_view_job *const *jobs; /* registration order */
};

struct chr_view;

/* ---- Lifecycle (the scheduler thread creates and destroys it) ------------ */

enum chr_err chr_view_create(struct chr_view **out);
/* Frees the view; snapshots and jobs still held stay valid until released.
 * NULL is allowed. */
void chr_view_destroy(struct chr_view *v);

/* ---- The scheduler thread ------------------------------------------------ */

/* Notes that the job `name` (or the job of run id `ct:<due>:<attempt>:<job>`
 * for chr_view_touch_run) changed in this step.  Remembers at most
 * CHR_JOBS_MAX names; ENOMEM is remembered and turns the next flush into a
 * full rebuild. */
void chr_view_touch(struct chr_view *v, const char *name);
void chr_view_touch_run(struct chr_view *v, const char *run_id);
/* Publishes new views of the touched jobs (a job the core no longer has is
 * removed).  On ENOMEM the touched names are kept for the next flush. */
void chr_view_flush(struct chr_view *v, const struct chr_core *core);
/* Rebuilds every job from the core (startup, or after ENOMEM). */
void chr_view_rebuild(struct chr_view *v, const struct chr_core *core);

/* ---- Readers (any thread) ------------------------------------------------ */

/* The current snapshot (held: release it), or NULL when out of memory. */
const struct chr_view_snap *chr_view_snapshot(struct chr_view *v);
void chr_view_snap_release(const struct chr_view_snap *s);

/*
 * Texts rendered from a whole snapshot (the job listing, the summary) are
 * rendered once per snapshot and shared by every reader of it: `fn` renders
 * (chr_malloc'd) when nobody did yet.  The text belongs to the snapshot
 * (valid while it is held); NULL when out of memory.
 */
enum chr_view_memo { CHR_VIEW_MEMO_SUMMARY = 0, CHR_VIEW_MEMO_COUNT };
typedef char *chr_view_render_fn(const struct chr_view_snap *s, size_t *len);
const char *chr_view_snap_memo(const struct chr_view_snap *s, enum chr_view_memo which,
                               chr_view_render_fn *fn, size_t *len);

/* The current view of one job (held: release it), or NULL when unknown. */
const struct chr_view_job *chr_view_job(struct chr_view *v, const char *name);
void chr_view_job_release(const struct chr_view_job *j);

/* The number of jobs published. */
size_t chr_view_count(struct chr_view *v);

/* The job name inside a run id "ct:<due>:<attempt>:<job>" (a pointer into
 * run_id), or NULL when it has no such shape. */
const char *chr_view_run_job(const char *run_id);
/* The outcome of the job's newest ended run (`success`, `failure`,
 * `killed`, `lost`), or NULL when none ended. */
const char *chr_view_last_run_state(const struct chr_view_job *j);

/* ---- Changes, for the dashboard's polls (any thread) ----------------------- */

/* The dashboard's states of a job (bits; a job may be in several):
 * failing (its last outcome was a failure: Chronos's status "failure"),
 * running (a task runs), waiting (a run is recorded, queued or launching:
 * due, waiting for resources or starting), disabled. */
enum {
    CHR_VIEW_FAILING = 1,
    CHR_VIEW_RUNNING = 2,
    CHR_VIEW_WAITING = 4,
    CHR_VIEW_DISABLED = 8,
};
unsigned chr_view_job_flags(const struct chr_view_job *j);

/* Jobs in each of those states, kept up to date as jobs are published and
 * removed, so reading them costs nothing however many jobs there are. */
struct chr_view_counts {
    uint64_t total, failing, running, waiting, disabled;
};

/* Identifies this view for the life of the process (its creation instant,
 * ms): a cursor made by another view (a restart, another leader) is told
 * apart from one of this view. */
int64_t chr_view_epoch(const struct chr_view *v);

/*
 * The jobs that changed (published anew or removed) after generation
 * `since`: each name once, newest first, in *names (a chr_malloc'd array of
 * chr_malloc'd names: free with chr_view_names_free), their number in *n;
 * the generation now in *gen and the counts now in *counts.  The view
 * remembers its last CHR_VIEW_CHANGES_MAX changes: CHR_ERANGE (nothing
 * filled but *gen and *counts) when `since` is older than those or newer
 * than now - the caller reloads instead.  The cost is that of the changes,
 * not of the jobs.  CHR_ENOMEM.
 */
enum chr_err chr_view_changes(struct chr_view *v, uint64_t since, char ***names, size_t *n,
                              uint64_t *gen, struct chr_view_counts *counts);
void chr_view_names_free(char **names, size_t n);

#endif
