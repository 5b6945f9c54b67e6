/*
 * job.h - the job model: what a user defines (Chronos 3's job JSON, field by
 * field) as a plain C value, and its validation.
 *
 * Part of scheduler/: no I/O, no clock, no threads, no JSON library.  The
 * codec between this struct and JSON lives in api/job_json.c; the core
 * (scheduler/core.c) keeps one chr_job per registered job.
 *
 * Ownership: a chr_job owns every string and array it points to; free it
 * with chr_job_free.  Server-maintained progress (successCount, lastError,
 * ...) is NOT part of the definition: it lives in struct chr_job_stats and is
 * never taken from a request.  Text fields that the codec fills (command,
 * owner, ..., run_as_user) are never NULL there, "" when absent; a job built
 * by hand may leave them NULL, which every function here reads as "".
 */
#ifndef CHR_JOB_H
#define CHR_JOB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/err.h"

/* A job name: 1..CHR_JOB_NAME_MAX bytes of [A-Za-z0-9_.-] (Chronos 3's
 * rule), not "." or "..". */
#define CHR_JOB_NAME_MAX 200

struct chr_env_var {
    char *name;
    char *value;
};

/* A constraint's operator: the three Chronos 3 has (JobDeserializer.scala),
 * spelled as it spells them.  Semantics in scheduler/constraint.h. */
enum chr_constraint_op {
    CHR_CONSTRAINT_EQUALS = 1, /* the attribute's text is the value */
    CHR_CONSTRAINT_LIKE,       /* the attribute's value matches the regex, whole */
    CHR_CONSTRAINT_UNLIKE,     /* it does not (the attribute must be there) */
};

/* One entry of `constraints`: [attribute, operator, value]. */
struct chr_constraint {
    char *attribute;
    enum chr_constraint_op op;
    char *value;              /* LIKE, UNLIKE: a regular expression */
};

/* "EQUALS", "LIKE", "UNLIKE"; "?" for any other value. */
const char *chr_constraint_op_name(enum chr_constraint_op op);
/* The operator named `name`, exactly as Chronos spells it (case matters, as
 * it did there); false for any other text. */
bool chr_constraint_op_parse(const char *name, enum chr_constraint_op *op);

struct chr_job {
    char *name;
    char *command;            /* "" allowed (container jobs) */
    bool shell;               /* default true: /bin/sh -c command */
    char **arguments;         /* argv after command when shell is false */
    uint32_t n_arguments;

    /* Exactly one of: a schedule (scheduled job) or parents (dependent job). */
    char *schedule;           /* as the user wrote it; NULL for a dependent job */
    char *schedule_tz;        /* IANA zone; NULL when none ("" and "null" mean none) */
    char **parents;           /* NULL/0 for a scheduled job */
    uint32_t n_parents;

    int32_t retries;          /* default 2 */
    int64_t retry_delay_ms;   /* ours: retryDelaySeconds (default 60 s, or --failure_retry) */
    bool retry_backoff;       /* ours: double the delay per attempt, capped at 1 h */
    int64_t starting_deadline_ms; /* ours: startingDeadlineSeconds; -1 = none */
    int64_t max_completion_ms;    /* maxCompletionTime (seconds in JSON); 0 = none */

    double cpus, mem_mb, disk_mb; /* 0 in JSON means the configured default */
    bool disabled, concurrent, high_priority, soft_error;
    bool data_processing;     /* dataProcessingJobType */
    bool async;               /* 2.x, accepted and shown, not acted on */

    char *owner, *owner_name, *description;
    char *run_as_user;        /* NULL: the server's --user */
    char *executor, *executor_flags, *task_info_data;
    char *epsilon;            /* 2.x ISO duration, accepted and shown */

    struct chr_env_var *env;  /* environmentVariables */
    uint32_t n_env;

    /* Matched against each offer's agent attributes (scheduler/constraint.h);
     * NULL/0 when none. */
    struct chr_constraint *constraints;
    uint32_t n_constraints;

    /* Fields kept as validated compact JSON text, shown back as given (NULL
     * when absent).  A container job (container_json set) runs only on an
     * offer whose manager can run containers (chr_offer.containers). */
    char *container_json, *fetch_json, *uris_json;

    /* Ours: notifyEvents, the notifications this job gives, as bits
     * (1 << enum chr_notice_kind, scheduler/core.h; never TEST).  Given, it
     * replaces the server's --notify_events for this job (empty: none);
     * notify_events_set false: absent, the server's list applies. */
    uint32_t notify_events;
    bool notify_events_set;
};

/* Server-maintained progress of a job (persisted under /state). */
struct chr_job_stats {
    int64_t success_count, error_count, errors_since_last_success;
    int64_t last_success_ms, last_error_ms; /* INT64_MIN when never */
    /* The summed task time of the job's runs: ended - started of every run
     * that started and ended (finished, failed, killed, lost); saturates at
     * INT64_MAX.  A run that never started adds nothing. */
    int64_t task_time_ms;
};

/* Sets every counter to 0 and both instants to "never" (INT64_MIN). */
void chr_job_stats_init(struct chr_job_stats *stats);

/*
 * What a job gets for a field its definition leaves out (or sets to 0, for
 * resources): the server's flags.  Not owned by any job: `user` is borrowed
 * and copied into each job that needs it.
 */
struct chr_job_defaults {
    double cpus, mem_mb, disk_mb; /* --mesos_task_cpu/mem/disk: 0.1, 128, 256 */
    const char *user;             /* --user: "root" */
    int64_t retry_delay_ms;       /* --failure_retry: 60000 */
    int32_t retries;              /* 2 */
};

/* Fills `d` with Chronos 3's defaults (the values in the comments above). */
void chr_job_defaults_init(struct chr_job_defaults *d);

/* Frees everything `job` owns and zeroes it; NULL is allowed. */
void chr_job_free(struct chr_job *job);

/* The job's zone: schedule_tz, or NULL when it has none ("" and "null"
 * mean none, as Chronos writes them). */
const char *chr_job_zone(const struct chr_job *job);

/*
 * The job's schedule bound to its zone, exactly as the scheduler reads it:
 * no zone means UTC for a cron and the start's own offset for an ISO
 * interval.  The zone must have been loaded into tzdb (chr_tzdb_get) by
 * whoever handed the job over: this reads no file.  CHR_EINVAL with err
 * naming "schedule" or "scheduleTimeZone"; CHR_ENOMEM leaves err untouched.
 * `job` must have a schedule.
 */
struct chr_tzdb;
struct chr_schedule;
enum chr_err chr_job_schedule(const struct chr_job *job, struct chr_tzdb *tzdb,
                              struct chr_schedule *out, struct chr_error *err);

/*
 * Boxed definitions: a job in a reference-counted box, so that readers on
 * other threads (the API's read model) can keep the core's definition past
 * the step that replaced or deleted it, without copying it.  A boxed job is
 * immutable once filled.  chr_job_box_new returns an empty (zeroed) job in a
 * new box with one reference, or NULL; the owner fills it by moving a job in
 * (`*box = job`).  chr_job_hold adds a reference, chr_job_unbox drops one and
 * frees the job and the box with the last.  Only for jobs from
 * chr_job_box_new (the core's definitions); NULL is allowed.
 */
struct chr_job *chr_job_box_new(void);
/*
 * A box holding a deep copy of `src` in one allocation (its strings and
 * arrays with it: a loaded job costs one chunk, not a dozen), with one
 * reference; NULL when out of memory.  `src` is not changed.  Fill it with
 * chr_job_box_fill (which then frees the job it is given: the box has its
 * copy).  Immutable like any box: nothing may free or replace its fields.
 */
struct chr_job *chr_job_box_pack(const struct chr_job *src);
/* Moves `job` into `box` (from chr_job_box_new or chr_job_box_pack): an
 * empty box takes its contents, a packed one already holds a copy and `job`
 * is freed.  `job` is zeroed either way.  Never fails. */
void chr_job_box_fill(struct chr_job *box, struct chr_job *job);
void chr_job_hold(const struct chr_job *boxed);
void chr_job_unbox(const struct chr_job *boxed);

/* True when a and b are the same definition: every field, texts by value
 * and NULL-ness, lists item by item, numbers bit for bit (the decoders'
 * differential tests). */
bool chr_job_equal(const struct chr_job *a, const struct chr_job *b);

/* A deep copy of `src` into *dst; CHR_ENOMEM leaves *dst zeroed. */
enum chr_err chr_job_copy(struct chr_job *dst, const struct chr_job *src);

/*
 * An upper bound of the bytes of `job` as JSON, in any form a codec writes
 * it (the API's job JSON, the store's job node): every text as JSON escapes
 * it at most (chr_json_text_bound), every number and key at their longest.
 * Lets the core bound a store batch without a JSON library.
 */
size_t chr_job_text_bound(const struct chr_job *job);
/* The bytes of `s` as a quoted JSON string at most: 2 for the quotes, 6 for
 * a control character (\u00XX), 2 for '"' and '\\', 1 for any other byte.
 * NULL counts as "". */
size_t chr_json_text_bound(const char *s);

/* True when `name` is a valid job name (see CHR_JOB_NAME_MAX). */
bool chr_job_name_valid(const char *name);

/*
 * Checks a job on its own (not against other jobs: unknown parents and
 * cycles are the registry's business): the name, exactly one of schedule or
 * parents, no duplicate or self parent, retries 0..CHR_JOB_RETRIES_MAX,
 * resources finite and >= 0, bounded strings and arrays, env names valid,
 * constraints that compile (chr_constraints_compile: bounded, a known
 * operator, LIKE/UNLIKE values that are regular expressions we read as
 * Chronos did).
 * The schedule's syntax and zone are checked by the caller with iso8601/.
 * On failure fills `err` naming the JSON field ("retries: -1 is out of range
 * 0-100") and returns CHR_EINVAL (CHR_ENOMEM only if regcomp runs out of
 * memory: nothing here allocates through common/alloc.h).
 */
enum chr_err chr_job_validate(const struct chr_job *job, struct chr_error *err);

/* chr_job_validate, handing out the constraints compiled (the caller's,
 * chr_constraints_free; NULL when the job has none or validation failed),
 * so that the core compiles them once; this one allocates (CHR_ENOMEM).
 * `cons` NULL: chr_job_validate. */
struct chr_constraints;
enum chr_err chr_job_validate_keep(const struct chr_job *job, struct chr_constraints **cons,
                                   struct chr_error *err);

#endif
