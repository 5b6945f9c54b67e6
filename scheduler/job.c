/*
 * job.c - the job model's lifecycle (free, deep copy) and its validation on
 * its own terms: one job, no registry, no schedule arithmetic.
 *
 * Part of scheduler/: never does I/O, reads a clock, starts a thread or links
 * a JSON library (the container/fetch/uris blobs are opaque text here;
 * constraints are checked by compiling them, scheduler/constraint.c).  Allocation only through common/alloc.h, every result checked.
 */
#include "scheduler/job.h"

#include <math.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "common/alloc.h"
#include "common/assert.h"
#include "common/limits.h"
#include "common/utf8.h"
#include "iso8601/iso8601.h"
#include "scheduler/constraint.h"
#include "scheduler/core.h"

/* The job's char * fields, so that free, copy and length checks walk one
 * table instead of repeating themselves per field.  `max` is the longest
 * value validation accepts; `key` is the JSON field an error names. */
static const struct text_field {
    size_t offset;
    const char *key;
    size_t max;
} text_fields[] = {
    {offsetof(struct chr_job, name), "name", CHR_JOB_NAME_MAX},
    {offsetof(struct chr_job, command), "command", CHR_JOB_COMMAND_MAX},
    {offsetof(struct chr_job, schedule), "schedule", CHR_SCHEDULE_LEN_MAX},
    {offsetof(struct chr_job, schedule_tz), "scheduleTimeZone", CHR_TZ_NAME_LEN_MAX},
    {offsetof(struct chr_job, owner), "owner", CHR_JOB_TEXT_MAX},
    {offsetof(struct chr_job, owner_name), "ownerName", CHR_JOB_TEXT_MAX},
    {offsetof(struct chr_job, description), "description", CHR_JOB_TEXT_MAX},
    {offsetof(struct chr_job, run_as_user), "runAsUser", CHR_JOB_TEXT_MAX},
    {offsetof(struct chr_job, executor), "executor", CHR_JOB_TEXT_MAX},
    {offsetof(struct chr_job, executor_flags), "executorFlags", CHR_JOB_TEXT_MAX},
    {offsetof(struct chr_job, task_info_data), "taskInfoData", CHR_JOB_TEXT_MAX},
    {offsetof(struct chr_job, epsilon), "epsilon", CHR_JOB_TEXT_MAX},
    {offsetof(struct chr_job, container_json), "container", CHR_JOB_JSON_MAX},
    {offsetof(struct chr_job, fetch_json), "fetch", CHR_JOB_JSON_MAX},
    {offsetof(struct chr_job, uris_json), "uris", CHR_JOB_JSON_MAX},
};
#define N_TEXT_FIELDS (sizeof text_fields / sizeof text_fields[0])

static char **text_slot(struct chr_job *job, size_t i)
{
    return (char **)(void *)((char *)job + text_fields[i].offset);
}

static const char *text_get(const struct chr_job *job, size_t i)
{
    return *(char *const *)(const void *)((const char *)job + text_fields[i].offset);
}

/* ---- Operators ---------------------------------------------------------- */

static const char *const op_names[] = {NULL, "EQUALS", "LIKE", "UNLIKE"};

const char *chr_constraint_op_name(enum chr_constraint_op op)
{
    return op >= CHR_CONSTRAINT_EQUALS && op <= CHR_CONSTRAINT_UNLIKE ? op_names[op] : "?";
}

bool chr_constraint_op_parse(const char *name, enum chr_constraint_op *op)
{
    for (int k = CHR_CONSTRAINT_EQUALS; name != NULL && k <= CHR_CONSTRAINT_UNLIKE; k++) {
        if (strcmp(name, op_names[k]) == 0) {
            *op = (enum chr_constraint_op)k;
            return true;
        }
    }
    return false;
}

/* ---- Defaults ----------------------------------------------------------- */

void chr_job_stats_init(struct chr_job_stats *stats)
{
    memset(stats, 0, sizeof *stats);
    stats->last_success_ms = INT64_MIN;
    stats->last_error_ms = INT64_MIN;
}

void chr_job_defaults_init(struct chr_job_defaults *d)
{
    d->cpus = 0.1;
    d->mem_mb = 128.0;
    d->disk_mb = 256.0;
    d->user = "root";
    d->retry_delay_ms = 60 * 1000;
    d->retries = 2;
}

/* ---- Free and copy ------------------------------------------------------ */

static void strv_free(char **v, uint32_t n)
{
    if (v == NULL)
        return;
    for (uint32_t i = 0; i < n; i++)
        chr_free(v[i]);
    chr_free(v);
}

static void constraints_free(struct chr_constraint *v, uint32_t n)
{
    if (v == NULL)
        return;
    for (uint32_t i = 0; i < n; i++) {
        chr_free(v[i].attribute);
        chr_free(v[i].value);
    }
    chr_free(v);
}

void chr_job_free(struct chr_job *job)
{
    if (job == NULL)
        return;
    for (size_t i = 0; i < N_TEXT_FIELDS; i++)
        chr_free(*text_slot(job, i));
    strv_free(job->arguments, job->n_arguments);
    strv_free(job->parents, job->n_parents);
    constraints_free(job->constraints, job->n_constraints);
    if (job->env != NULL) {
        for (uint32_t i = 0; i < job->n_env; i++) {
            chr_free(job->env[i].name);
            chr_free(job->env[i].value);
        }
        chr_free(job->env);
    }
    memset(job, 0, sizeof *job);
}

/* *dst = a copy of src (NULL stays NULL).  False on ENOMEM. */
static bool str_dup(char **dst, const char *src)
{
    *dst = NULL;
    if (src == NULL)
        return true;
    *dst = chr_strndup(src, strlen(src));
    return *dst != NULL;
}

/* A copy of the n strings of src into *dst, which is NULL when n is 0.  On
 * ENOMEM *dst holds what was copied so far (NULL-padded) and the caller's
 * chr_job_free releases it. */
static bool strv_dup(char ***dst, char *const *src, uint32_t n)
{
    *dst = NULL;
    if (n == 0 || src == NULL)
        return true;
    *dst = chr_calloc(n, sizeof **dst);
    if (*dst == NULL)
        return false;
    for (uint32_t i = 0; i < n; i++)
        if (!str_dup(&(*dst)[i], src[i]))
            return false;
    return true;
}

static bool env_dup(struct chr_env_var **dst, const struct chr_env_var *src, uint32_t n)
{
    *dst = NULL;
    if (n == 0 || src == NULL)
        return true;
    *dst = chr_calloc(n, sizeof **dst);
    if (*dst == NULL)
        return false;
    for (uint32_t i = 0; i < n; i++)
        if (!str_dup(&(*dst)[i].name, src[i].name) || !str_dup(&(*dst)[i].value, src[i].value))
            return false;
    return true;
}

static bool constraints_dup(struct chr_constraint **dst, const struct chr_constraint *src,
                            uint32_t n)
{
    *dst = NULL;
    if (n == 0 || src == NULL)
        return true;
    *dst = chr_calloc(n, sizeof **dst);
    if (*dst == NULL)
        return false;
    for (uint32_t i = 0; i < n; i++) {
        (*dst)[i].op = src[i].op;
        if (!str_dup(&(*dst)[i].attribute, src[i].attribute) ||
            !str_dup(&(*dst)[i].value, src[i].value))
            return false;
    }
    return true;
}

enum chr_err chr_job_copy(struct chr_job *dst, const struct chr_job *src)
{
    struct chr_job tmp = *src;
    bool ok = true;
    /* Detach every pointer first so that a failure half-way frees only what
     * this call allocated. */
    for (size_t i = 0; i < N_TEXT_FIELDS; i++)
        *text_slot(&tmp, i) = NULL;
    tmp.arguments = NULL;
    tmp.parents = NULL;
    tmp.env = NULL;
    tmp.constraints = NULL;
    for (size_t i = 0; ok && i < N_TEXT_FIELDS; i++)
        ok = str_dup(text_slot(&tmp, i), text_get(src, i));
    ok = ok && strv_dup(&tmp.arguments, src->arguments, src->n_arguments);
    ok = ok && strv_dup(&tmp.parents, src->parents, src->n_parents);
    ok = ok && env_dup(&tmp.env, src->env, src->n_env);
    ok = ok && constraints_dup(&tmp.constraints, src->constraints, src->n_constraints);
    if (!ok) {
        chr_job_free(&tmp); /* counts are src's: arrays are NULL-padded */
        memset(dst, 0, sizeof *dst);
        return CHR_ENOMEM;
    }
    *dst = tmp;
    return CHR_OK;
}

static bool str_same(const char *a, const char *b)
{
    return a == NULL ? b == NULL : b != NULL && strcmp(a, b) == 0;
}

static bool strv_same(char *const *a, char *const *b, uint32_t n)
{
    if ((a == NULL) != (b == NULL))
        return false;
    for (uint32_t i = 0; a != NULL && i < n; i++)
        if (!str_same(a[i], b[i]))
            return false;
    return true;
}

static bool lists_same(const struct chr_job *a, const struct chr_job *b)
{
    if (a->n_arguments != b->n_arguments || a->n_parents != b->n_parents ||
        a->n_env != b->n_env || a->n_constraints != b->n_constraints ||
        (a->env == NULL) != (b->env == NULL) || (a->constraints == NULL) != (b->constraints == NULL) ||
        !strv_same(a->arguments, b->arguments, a->n_arguments) ||
        !strv_same(a->parents, b->parents, a->n_parents))
        return false;
    for (uint32_t i = 0; a->env != NULL && i < a->n_env; i++)
        if (!str_same(a->env[i].name, b->env[i].name) || !str_same(a->env[i].value, b->env[i].value))
            return false;
    for (uint32_t i = 0; a->constraints != NULL && i < a->n_constraints; i++)
        if (a->constraints[i].op != b->constraints[i].op ||
            !str_same(a->constraints[i].attribute, b->constraints[i].attribute) ||
            !str_same(a->constraints[i].value, b->constraints[i].value))
            return false;
    return true;
}

bool chr_job_equal(const struct chr_job *a, const struct chr_job *b)
{
    for (size_t i = 0; i < N_TEXT_FIELDS; i++)
        if (!str_same(text_get(a, i), text_get(b, i)))
            return false;
    return a->shell == b->shell && a->retries == b->retries &&
           a->retry_delay_ms == b->retry_delay_ms && a->retry_backoff == b->retry_backoff &&
           a->starting_deadline_ms == b->starting_deadline_ms &&
           a->max_completion_ms == b->max_completion_ms &&
           memcmp(&a->cpus, &b->cpus, sizeof a->cpus) == 0 &&
           memcmp(&a->mem_mb, &b->mem_mb, sizeof a->mem_mb) == 0 &&
           memcmp(&a->disk_mb, &b->disk_mb, sizeof a->disk_mb) == 0 &&
           a->disabled == b->disabled && a->concurrent == b->concurrent &&
           a->high_priority == b->high_priority && a->soft_error == b->soft_error &&
           a->data_processing == b->data_processing && a->async == b->async &&
           a->notify_events == b->notify_events && a->notify_events_set == b->notify_events_set &&
           lists_same(a, b);
}

/* ---- Size bound -------------------------------------------------------- */

size_t chr_json_text_bound(const char *s)
{
    size_t n = 2;
    for (const unsigned char *p = (const unsigned char *)(s ? s : ""); *p != '\0'; p++)
        n += *p < 0x20 ? 6 : (*p == '"' || *p == '\\') ? 2 : 1;
    return n;
}

/* Every key, number, boolean and punctuation of a job: ~45 members of at
 * most 24 bytes of key and 24 of value (a double's %.17g with its sign and
 * exponent fits), with room to spare. */
#define JOB_FIXED_TEXT_MAX 4096
/* A member of a list (arguments, parents, env, constraints) beyond its
 * texts: its comma, braces or brackets, and keys ("name", "value"). */
#define JOB_ITEM_TEXT_MAX 32
/* `{"uri":,"executable":false,"cache":false,"extract":true}` around a uri. */
#define JOB_FETCH_DEFAULTS_TEXT_MAX 64

size_t chr_job_text_bound(const struct chr_job *job)
{
    size_t n = JOB_FIXED_TEXT_MAX;
    for (size_t i = 0; i < N_TEXT_FIELDS; i++)
        n += chr_json_text_bound(text_get(job, i));
    /* fetch and uris are each shown filled from the other: counted twice,
     * and a fetch entry made from a uri adds its defaults to it. */
    n += chr_json_text_bound(job->fetch_json) + chr_json_text_bound(job->uris_json) +
         (size_t)CHR_JOB_FETCH_MAX * JOB_FETCH_DEFAULTS_TEXT_MAX;
    for (uint32_t i = 0; i < job->n_arguments; i++)
        n += chr_json_text_bound(job->arguments[i]) + JOB_ITEM_TEXT_MAX;
    for (uint32_t i = 0; i < job->n_parents; i++)
        n += chr_json_text_bound(job->parents[i]) + JOB_ITEM_TEXT_MAX;
    for (uint32_t i = 0; i < job->n_env; i++)
        n += chr_json_text_bound(job->env[i].name) + chr_json_text_bound(job->env[i].value) +
             JOB_ITEM_TEXT_MAX;
    for (uint32_t i = 0; i < job->n_constraints; i++)
        n += chr_json_text_bound(job->constraints[i].attribute) +
             chr_json_text_bound(job->constraints[i].value) + JOB_ITEM_TEXT_MAX;
    return n;
}

/* ---- Validation --------------------------------------------------------- */

bool chr_job_name_valid(const char *name)
{
    if (name == NULL)
        return false;
    size_t n = strnlen(name, CHR_JOB_NAME_MAX + 1);
    if (n == 0 || n > CHR_JOB_NAME_MAX)
        return false;
    if (strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
        return false;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)name[i];
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                  c == '_' || c == '.' || c == '-';
        if (!ok)
            return false;
    }
    return true;
}

/* Room for a quoted excerpt of user text in a message. */
#define QUOTE_MAX 48

/* An excerpt of `s` that is safe in any message: printable ASCII kept, every
 * other byte shown as '?', at most 40 bytes then "...". */
static const char *quote(const char *s, char buf[QUOTE_MAX])
{
    return chr_error_quote(s, strnlen(s, 41), 40, buf);
}

static enum chr_err bad_name(struct chr_error *err, const char *field, const char *name)
{
    char q[QUOTE_MAX];
    if (strnlen(name, CHR_JOB_NAME_MAX + 1) > CHR_JOB_NAME_MAX)
        return chr_error_set(err, CHR_EINVAL, field, "'%s' is longer than %d bytes",
                             quote(name, q), CHR_JOB_NAME_MAX);
    return chr_error_set(err, CHR_EINVAL, field,
                         "'%s' is not a valid job name (letters, digits, '_', '.', '-')",
                         quote(name, q));
}

static enum chr_err check_texts(const struct chr_job *job, struct chr_error *err)
{
    if (job->name == NULL || job->name[0] == '\0')
        return chr_error_set(err, CHR_EINVAL, "name", "required");
    if (!chr_job_name_valid(job->name))
        return bad_name(err, "name", job->name);
    for (size_t i = 0; i < N_TEXT_FIELDS; i++) {
        const char *s = text_get(job, i);
        if (s != NULL && strnlen(s, text_fields[i].max + 1) > text_fields[i].max)
            return chr_error_set(err, CHR_EINVAL, text_fields[i].key, "longer than %zu bytes",
                                 text_fields[i].max);
        if (s != NULL && !chr_utf8_valid(s))
            return chr_error_set(err, CHR_EINVAL, text_fields[i].key, "is not valid UTF-8");
    }
    return CHR_OK;
}

static enum chr_err check_parents(const struct chr_job *job, struct chr_error *err)
{
    char field[CHR_ERROR_FIELD_MAX], q[QUOTE_MAX];
    if (job->n_parents > CHR_JOB_PARENTS_MAX)
        return chr_error_set(err, CHR_EINVAL, "parents", "more than %d parents",
                             CHR_JOB_PARENTS_MAX);
    if (job->parents == NULL)
        return chr_error_set(err, CHR_EINVAL, "parents", "missing");
    for (uint32_t i = 0; i < job->n_parents; i++) {
        const char *p = job->parents[i];
        chr_error_fieldf(field, "parents[%u]", (unsigned)i);
        if (p == NULL)
            return chr_error_set(err, CHR_EINVAL, field, "missing");
        if (!chr_job_name_valid(p))
            return bad_name(err, field, p);
        if (strcmp(p, job->name) == 0)
            return chr_error_set(err, CHR_EINVAL, field, "'%s' is the job itself",
                                 quote(p, q));
        for (uint32_t j = 0; j < i; j++)
            if (strcmp(job->parents[j], p) == 0)
                return chr_error_set(err, CHR_EINVAL, field, "'%s' is listed twice",
                                     quote(p, q));
    }
    return CHR_OK;
}

/* Exactly one of a schedule or parents. */
static enum chr_err check_kind(const struct chr_job *job, struct chr_error *err)
{
    if (job->schedule != NULL && job->n_parents > 0)
        return chr_error_set(err, CHR_EINVAL, "schedule",
                             "a job has a schedule or parents, not both");
    if (job->n_parents > 0)
        return check_parents(job, err);
    if (job->schedule == NULL)
        return chr_error_set(err, CHR_EINVAL, "schedule", "a job needs a schedule or parents");
    if (job->schedule[0] == '\0')
        return chr_error_set(err, CHR_EINVAL, "schedule", "is empty");
    if (job->schedule_tz != NULL && job->schedule_tz[0] == '\0')
        return chr_error_set(err, CHR_EINVAL, "scheduleTimeZone",
                             "is empty (NULL means no zone)");
    return CHR_OK;
}

static enum chr_err check_resource(const char *key, double v, double max, struct chr_error *err)
{
    if (!isfinite(v))
        return chr_error_set(err, CHR_EINVAL, key, "%.15g is not a finite number", v);
    if (v < 0)
        return chr_error_set(err, CHR_EINVAL, key, "%.15g is negative", v);
    if (v > max)
        return chr_error_set(err, CHR_EINVAL, key, "%.15g is more than %.15g", v, max);
    return CHR_OK;
}

static enum chr_err check_numbers(const struct chr_job *job, struct chr_error *err)
{
    const long long dur_max_ms = CHR_JOB_DURATION_S_MAX * 1000;
    enum chr_err e;
    if (job->retries < 0 || job->retries > CHR_JOB_RETRIES_MAX)
        return chr_error_set(err, CHR_EINVAL, "retries", "%d is out of range 0-%d",
                             (int)job->retries, CHR_JOB_RETRIES_MAX);
    if (job->retry_delay_ms < 0 || job->retry_delay_ms > CHR_JOB_RETRY_DELAY_MS_MAX)
        return chr_error_set(err, CHR_EINVAL, "retryDelaySeconds",
                             "%lld ms is out of range 0-%lld ms", (long long)job->retry_delay_ms,
                             (long long)CHR_JOB_RETRY_DELAY_MS_MAX);
    if (job->starting_deadline_ms < -1 || job->starting_deadline_ms > dur_max_ms)
        return chr_error_set(err, CHR_EINVAL, "startingDeadlineSeconds",
                             "%lld ms is out of range 0-%lld ms (or -1 for none)",
                             (long long)job->starting_deadline_ms, dur_max_ms);
    if (job->max_completion_ms < 0 || job->max_completion_ms > dur_max_ms)
        return chr_error_set(err, CHR_EINVAL, "maxCompletionTime",
                             "%lld ms is out of range 0-%lld ms",
                             (long long)job->max_completion_ms, dur_max_ms);
    if ((e = check_resource("cpus", job->cpus, CHR_JOB_CPUS_MAX, err)) != CHR_OK ||
        (e = check_resource("mem", job->mem_mb, CHR_JOB_MEM_MB_MAX, err)) != CHR_OK ||
        (e = check_resource("disk", job->disk_mb, CHR_JOB_DISK_MB_MAX, err)) != CHR_OK)
        return e;
    return CHR_OK;
}

static enum chr_err check_arguments(const struct chr_job *job, struct chr_error *err)
{
    char field[CHR_ERROR_FIELD_MAX];
    if (job->n_arguments > CHR_JOB_ARGUMENTS_MAX)
        return chr_error_set(err, CHR_EINVAL, "arguments", "more than %d arguments",
                             CHR_JOB_ARGUMENTS_MAX);
    for (uint32_t i = 0; i < job->n_arguments; i++) {
        chr_error_fieldf(field, "arguments[%u]", (unsigned)i);
        if (job->arguments == NULL || job->arguments[i] == NULL)
            return chr_error_set(err, CHR_EINVAL, field, "missing");
        if (strnlen(job->arguments[i], CHR_JOB_TEXT_MAX + 1) > CHR_JOB_TEXT_MAX)
            return chr_error_set(err, CHR_EINVAL, field, "longer than %d bytes",
                                 CHR_JOB_TEXT_MAX);
        if (!chr_utf8_valid(job->arguments[i]))
            return chr_error_set(err, CHR_EINVAL, field, "is not valid UTF-8");
    }
    return CHR_OK;
}

/* An environment variable name: non-empty, no '=' (execve's only rule). */
static enum chr_err check_env_var(const struct chr_env_var *v, uint32_t i, struct chr_error *err)
{
    char field[CHR_ERROR_FIELD_MAX], q[QUOTE_MAX];
    chr_error_fieldf(field, "environmentVariables[%u].name", (unsigned)i);
    if (v->name == NULL)
        return chr_error_set(err, CHR_EINVAL, field, "required");
    if (strnlen(v->name, CHR_JOB_ENV_NAME_MAX + 1) > CHR_JOB_ENV_NAME_MAX)
        return chr_error_set(err, CHR_EINVAL, field, "longer than %d bytes",
                             CHR_JOB_ENV_NAME_MAX);
    if (v->name[0] == '\0' || strchr(v->name, '=') != NULL || !chr_utf8_valid(v->name))
        return chr_error_set(err, CHR_EINVAL, field,
                             "'%s' is not a valid variable name (non-empty, no '=')",
                             quote(v->name, q));
    chr_error_fieldf(field, "environmentVariables[%u].value", (unsigned)i);
    if (v->value == NULL)
        return chr_error_set(err, CHR_EINVAL, field, "required");
    if (strnlen(v->value, CHR_JOB_TEXT_MAX + 1) > CHR_JOB_TEXT_MAX)
        return chr_error_set(err, CHR_EINVAL, field, "longer than %d bytes", CHR_JOB_TEXT_MAX);
    if (!chr_utf8_valid(v->value))
        return chr_error_set(err, CHR_EINVAL, field, "is not valid UTF-8");
    return CHR_OK;
}

static enum chr_err check_env(const struct chr_job *job, struct chr_error *err)
{
    if (job->n_env > CHR_JOB_ENV_MAX)
        return chr_error_set(err, CHR_EINVAL, "environmentVariables", "more than %d variables",
                             CHR_JOB_ENV_MAX);
    if (job->n_env > 0 && job->env == NULL)
        return chr_error_set(err, CHR_EINVAL, "environmentVariables", "missing");
    for (uint32_t i = 0; i < job->n_env; i++) {
        enum chr_err e = check_env_var(&job->env[i], i, err);
        if (e != CHR_OK)
            return e;
    }
    return CHR_OK;
}

/* notifyEvents: kinds a job may switch (not TEST, nothing outside the enum). */
static enum chr_err check_notify(const struct chr_job *job, struct chr_error *err)
{
    uint32_t bad = job->notify_events & ~(uint32_t)CHR_NOTICE_SWITCHABLE;
    if (bad != 0)
        return chr_error_set(err, CHR_EINVAL, "notifyEvents", "event bits 0x%x are not events "
                             "a job can choose", (unsigned)bad);
    if (!job->notify_events_set && job->notify_events != 0)
        return chr_error_set(err, CHR_EINVAL, "notifyEvents", "events chosen but not set");
    return CHR_OK;
}

enum chr_err chr_job_validate_keep(const struct chr_job *job, struct chr_constraints **cons,
                                   struct chr_error *err)
{
    enum chr_err e;
    if (cons != NULL)
        *cons = NULL;
    if ((e = check_texts(job, err)) != CHR_OK || (e = check_kind(job, err)) != CHR_OK ||
        (e = check_numbers(job, err)) != CHR_OK || (e = check_arguments(job, err)) != CHR_OK ||
        (e = check_env(job, err)) != CHR_OK || (e = check_notify(job, err)) != CHR_OK)
        return e;
    e = cons != NULL ? chr_constraints_compile(job->constraints, job->n_constraints, cons, err)
                     : chr_constraints_check(job->constraints, job->n_constraints, err);
    if (e != CHR_OK)
        return e;
    chr_error_clear(err);
    return CHR_OK;
}

enum chr_err chr_job_validate(const struct chr_job *job, struct chr_error *err)
{
    return chr_job_validate_keep(job, NULL, err);
}

/* ---- The schedule -------------------------------------------------------------- */

const char *chr_job_zone(const struct chr_job *job)
{
    const char *z = job->schedule_tz;
    if (z == NULL || z[0] == '\0' || strcmp(z, "null") == 0)
        return NULL;
    return z;
}

enum chr_err chr_job_schedule(const struct chr_job *def, struct chr_tzdb *tzdb,
                                   struct chr_schedule *out, struct chr_error *err)
{
    const struct chr_tz *zone = NULL;
    struct chr_error e2;
    enum chr_err e;
    const char *z = chr_job_zone(def);
    if (z != NULL) {
        if (tzdb == NULL)
            return chr_error_set(err, CHR_EINVAL, "scheduleTimeZone", "no zone database");
        if ((e = chr_tzdb_lookup(tzdb, z, &zone, &e2)) == CHR_ENOMEM)
            return e;
        if (e != CHR_OK)
            return chr_error_set(err, CHR_EINVAL, "scheduleTimeZone", "%s", e2.message);
    }
    if ((e = chr_schedule_parse(def->schedule, zone, tzdb, out, &e2)) == CHR_ENOMEM)
        return e;
    if (e != CHR_OK) {
        if (strncmp(e2.message, "schedule: ", 10) == 0)
            return chr_error_set(err, CHR_EINVAL, "schedule", "%s", e2.message + 10);
        return chr_error_set(err, CHR_EINVAL, "schedule", "%s", e2.message);
    }
    if (out->kind == CHR_SCHEDULE_ISO8601 && out->u.iso.start_ms < CHR_JOB_START_MIN_MS) {
        char at[CHR_INSTANT_TEXT_MAX];
        chr_instant_format(out->u.iso.start_ms, at);
        return chr_error_set(err, CHR_EINVAL, "schedule",
                             "start %s is before 1970-01-01T00:00:01Z (as Chronos, a job's "
                             "schedule starts after the epoch)", at);
    }
    return CHR_OK;
}

/* ---- Boxed definitions ----------------------------------------------------- */

struct job_box {
    atomic_uint refs;
    bool packed; /* strings and arrays live in the box's own allocation */
    struct chr_job job;
};

static struct job_box *box_of(const struct chr_job *job)
{
    return (struct job_box *)(void *)((char *)(uintptr_t)job - offsetof(struct job_box, job));
}

struct chr_job *chr_job_box_new(void)
{
    struct job_box *b = chr_calloc(1, sizeof *b);
    if (b == NULL)
        return NULL;
    atomic_init(&b->refs, 1);
    return &b->job;
}

/* Room in a packed box: `base` NULL measures (at counts the bytes), else
 * hands out base[at..cap).  ovf: a size did not fit size_t (never for a job
 * the codec accepted, whose texts and lists are bounded). */
struct packer {
    char *base;
    size_t at, cap;
    bool ovf;
};

static void *pk_take(struct packer *pk, size_t n, size_t size)
{
    size_t bytes = 0, align = _Alignof(max_align_t);
    if (n == 0 || pk->ovf)
        return NULL;
    if (size != 1)
        pk->at = (pk->at + align - 1) / align * align; /* at stays small: no wrap */
    if (n > SIZE_MAX / size || (bytes = n * size) > SIZE_MAX - pk->at) {
        pk->ovf = true;
        return NULL;
    }
    void *p = pk->base != NULL ? pk->base + pk->at : NULL;
    pk->at += bytes;
    CHR_ASSERT(pk->base == NULL || pk->at <= pk->cap);
    return p;
}

static char *pk_str(struct packer *pk, const char *s)
{
    if (s == NULL)
        return NULL;
    size_t n = strlen(s) + 1;
    char *p = pk_take(pk, n, 1);
    if (p != NULL)
        memcpy(p, s, n);
    return p;
}

static char **pk_strv(struct packer *pk, char *const *v, uint32_t n)
{
    char **out = v != NULL ? pk_take(pk, n, sizeof *out) : NULL;
    for (uint32_t i = 0; v != NULL && i < n; i++) {
        char *s = pk_str(pk, v[i]);
        if (out != NULL)
            out[i] = s;
    }
    return out;
}

/* A deep copy of src into dst, every pointer into the packer's room (a
 * measuring pass fills dst with NULLs). */
static void pack_job(struct packer *pk, struct chr_job *dst, const struct chr_job *src)
{
    *dst = *src;
    dst->arguments = pk_strv(pk, src->arguments, src->n_arguments);
    dst->parents = pk_strv(pk, src->parents, src->n_parents);
    dst->env = src->env != NULL ? pk_take(pk, src->n_env, sizeof *dst->env) : NULL;
    for (uint32_t i = 0; src->env != NULL && i < src->n_env; i++) {
        struct chr_env_var e = {pk_str(pk, src->env[i].name), pk_str(pk, src->env[i].value)};
        if (dst->env != NULL)
            dst->env[i] = e;
    }
    dst->constraints =
        src->constraints != NULL ? pk_take(pk, src->n_constraints, sizeof *dst->constraints) : NULL;
    for (uint32_t i = 0; src->constraints != NULL && i < src->n_constraints; i++) {
        const struct chr_constraint *k = &src->constraints[i];
        struct chr_constraint c = {pk_str(pk, k->attribute), k->op, pk_str(pk, k->value)};
        if (dst->constraints != NULL)
            dst->constraints[i] = c;
    }
    for (size_t i = 0; i < N_TEXT_FIELDS; i++)
        *text_slot(dst, i) = pk_str(pk, text_get(src, i));
}

struct chr_job *chr_job_box_pack(const struct chr_job *src)
{
    struct chr_job scratch;
    struct packer pk = {NULL, sizeof(struct job_box), 0, false};
    pack_job(&pk, &scratch, src);
    if (pk.ovf)
        return NULL;
    struct job_box *b = chr_malloc(pk.at);
    if (b == NULL)
        return NULL;
    memset(b, 0, sizeof *b);
    atomic_init(&b->refs, 1);
    b->packed = true;
    pk = (struct packer){(char *)b, sizeof *b, pk.at, false};
    pack_job(&pk, &b->job, src);
    return &b->job;
}

void chr_job_box_fill(struct chr_job *box, struct chr_job *job)
{
    if (box_of(box)->packed) {
        chr_job_free(job); /* the box holds its copy already */
        return;
    }
    *box = *job;
    memset(job, 0, sizeof *job);
}

void chr_job_hold(const struct chr_job *boxed)
{
    if (boxed != NULL)
        atomic_fetch_add_explicit(&box_of(boxed)->refs, 1, memory_order_relaxed);
}

void chr_job_unbox(const struct chr_job *boxed)
{
    if (boxed == NULL)
        return;
    struct job_box *b = box_of(boxed);
    if (atomic_fetch_sub_explicit(&b->refs, 1, memory_order_acq_rel) == 1) {
        if (!b->packed)
            chr_job_free(&b->job);
        chr_free(b);
    }
}
