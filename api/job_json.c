/*
 * job_json.c - Chronos 3's job JSON <-> struct chr_job (see job_json.h).
 *
 * Pure translation: never reads a clock (now comes in as an argument), never
 * does I/O, keeps no state between calls.  It must never trust a body: every
 * field is type-checked and bounded before anything is allocated for it, and
 * every failure names the field.  jansson allocates with its own malloc;
 * everything handed to the caller is copied into chr_malloc'd memory.
 */
#include "api/job_json.h"

#include <errno.h>
#include <jansson.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/alloc.h"
#include "common/assert.h"
#include "common/jscan.h"
#include "common/limits.h"
#include "iso8601/iso8601.h"
#include "scheduler/core.h"

/* One line, and reals printed as few digits as round-trip a 15-digit
 * decimal (0.1 stays 0.1; 1 is printed 1.0). */
#define DUMP_FLAGS (JSON_COMPACT | JSON_REAL_PRECISION(15))

/* ---- Messages ----------------------------------------------------------- */

#define DESCRIBE_MAX 64

/* A short, printable-ASCII rendering of a JSON value for "got ..." in a
 * message: "x" quoted and cut at 40 bytes, numbers, true, an object... */
static const char *describe(const json_t *v, char buf[DESCRIBE_MAX])
{
    if (json_is_string(v)) {
        buf[0] = '"';
        chr_error_quote(json_string_value(v), json_string_length(v), 40, buf + 1);
        size_t n = strlen(buf);
        buf[n++] = '"';
        buf[n] = '\0';
    } else if (json_is_integer(v)) {
        snprintf(buf, DESCRIBE_MAX, "%lld", (long long)json_integer_value(v));
    } else if (json_is_real(v)) {
        snprintf(buf, DESCRIBE_MAX, "%.15g", json_real_value(v));
    } else {
        const char *word = v == NULL           ? "nothing"
                           : json_is_true(v)   ? "true"
                           : json_is_false(v)  ? "false"
                           : json_is_object(v) ? "an object"
                           : json_is_array(v)  ? "an array"
                                               : "null";
        snprintf(buf, DESCRIBE_MAX, "%s", word);
    }
    return buf;
}

static enum chr_err bad_type(struct chr_error *err, const char *field, const char *want,
                             const json_t *got)
{
    char d[DESCRIBE_MAX];
    return chr_error_set(err, CHR_EINVAL, field, "expected %s, got %s", want, describe(got, d));
}

/* A field path such as "environmentVariables[2].name". */
static const char *path(char buf[CHR_ERROR_FIELD_MAX], const char *base, size_t index,
                        const char *member)
{
    if (member == NULL)
        return chr_error_fieldf(buf, "%s[%zu]", base, index);
    return chr_error_fieldf(buf, "%s[%zu].%s", base, index, member);
}

/* ---- Scalars ------------------------------------------------------------ */

/* The member `key` of `obj`, or NULL when absent or JSON null (null means
 * "not given" for every optional field). */
static json_t *member(const json_t *obj, const char *key)
{
    json_t *v = json_object_get(obj, key);
    return json_is_null(v) ? NULL : v;
}

/* A string value no longer than `max` bytes; *out points into `v`. */
static enum chr_err want_string(const json_t *v, const char *field, size_t max,
                                const char **out, struct chr_error *err)
{
    if (!json_is_string(v))
        return bad_type(err, field, "a string", v);
    size_t len = json_string_length(v);
    if (len > max)
        return chr_error_set(err, CHR_EINVAL, field, "longer than %zu bytes", max);
    if (strlen(json_string_value(v)) != len)
        return chr_error_set(err, CHR_EINVAL, field, "contains a NUL byte");
    *out = json_string_value(v);
    return CHR_OK;
}

/* Like want_string, into a fresh chr_malloc'd copy in *slot (freed first). */
static enum chr_err copy_string(const json_t *v, const char *field, size_t max, char **slot,
                                struct chr_error *err)
{
    const char *s = NULL;
    enum chr_err e = want_string(v, field, max, &s, err);
    if (e != CHR_OK)
        return e;
    char *copy = chr_strndup(s, strlen(s));
    if (copy == NULL)
        return CHR_ENOMEM;
    chr_free(*slot);
    *slot = copy;
    return CHR_OK;
}

/* true/false, or the strings "true"/"false" (Jackson's asBoolean reads both). */
static enum chr_err want_bool(const json_t *v, const char *field, bool *out,
                              struct chr_error *err)
{
    if (json_is_boolean(v)) {
        *out = json_is_true(v);
        return CHR_OK;
    }
    if (json_is_string(v) && strcmp(json_string_value(v), "true") == 0) {
        *out = true;
        return CHR_OK;
    }
    if (json_is_string(v) && strcmp(json_string_value(v), "false") == 0) {
        *out = false;
        return CHR_OK;
    }
    return bad_type(err, field, "true or false", v);
}

/* Decimal integer text, optional sign, nothing else. */
static bool text_to_int(const char *s, long long *out)
{
    bool neg = *s == '-';
    if (*s == '-' || *s == '+')
        s++;
    if (*s == '\0')
        return false;
    long long n = 0;
    for (; *s != '\0'; s++) {
        if (*s < '0' || *s > '9' || n > (LLONG_MAX - 9) / 10)
            return false;
        n = n * 10 + (*s - '0');
    }
    *out = neg ? -n : n;
    return true;
}

/* Decimal number text as JSON writes numbers (no hex, inf, nan or spaces). */
static bool text_to_double(const char *s, double *out)
{
    if (*s == '\0' || strspn(s, "0123456789+-.eE") != strlen(s) || strpbrk(s, "0123456789") == NULL)
        return false;
    char *end = NULL;
    errno = 0;
    double d = strtod(s, &end);
    if (errno != 0 || *end != '\0' || !isfinite(d))
        return false;
    *out = d;
    return true;
}

/* An integer in [lo, hi]: a JSON integer, an integral real (3.0) or its text
 * ("3").  The message always states the range. */
static enum chr_err want_int(const json_t *v, const char *field, long long lo, long long hi,
                             long long *out, struct chr_error *err)
{
    char d[DESCRIBE_MAX];
    long long n = 0;
    bool ok = false;
    if (json_is_integer(v)) {
        n = json_integer_value(v);
        ok = true;
    } else if (json_is_real(v)) {
        double r = json_real_value(v);
        ok = r == floor(r) && r >= (double)lo && r <= (double)hi;
        n = ok ? (long long)r : 0;
    } else if (json_is_string(v)) {
        ok = text_to_int(json_string_value(v), &n);
    }
    if (!ok || n < lo || n > hi)
        return chr_error_set(err, CHR_EINVAL, field, "expected an integer %lld-%lld, got %s", lo,
                             hi, describe(v, d));
    *out = n;
    return CHR_OK;
}

/* A resource amount: a number or its text, >= 0 and at most `max`. */
static enum chr_err want_amount(const json_t *v, const char *field, double max, double *out,
                                struct chr_error *err)
{
    double r = 0;
    if (json_is_number(v))
        r = json_number_value(v);
    else if (!json_is_string(v) || !text_to_double(json_string_value(v), &r))
        return bad_type(err, field, "a number", v);
    if (r < 0)
        return chr_error_set(err, CHR_EINVAL, field, "%.15g is negative", r);
    if (r > max)
        return chr_error_set(err, CHR_EINVAL, field, "%.15g is more than %.15g", r, max);
    *out = r;
    return CHR_OK;
}

/* ---- Plain fields ------------------------------------------------------- */

static const struct {
    const char *key;
    size_t offset;
    size_t max;
} text_keys[] = {
    {"command", offsetof(struct chr_job, command), CHR_JOB_COMMAND_MAX},
    {"executor", offsetof(struct chr_job, executor), CHR_JOB_TEXT_MAX},
    {"executorFlags", offsetof(struct chr_job, executor_flags), CHR_JOB_TEXT_MAX},
    {"taskInfoData", offsetof(struct chr_job, task_info_data), CHR_JOB_TEXT_MAX},
    {"owner", offsetof(struct chr_job, owner), CHR_JOB_TEXT_MAX},
    {"ownerName", offsetof(struct chr_job, owner_name), CHR_JOB_TEXT_MAX},
    {"description", offsetof(struct chr_job, description), CHR_JOB_TEXT_MAX},
    {"runAsUser", offsetof(struct chr_job, run_as_user), CHR_JOB_TEXT_MAX},
    {"epsilon", offsetof(struct chr_job, epsilon), CHR_JOB_TEXT_MAX},
};

static const struct {
    const char *key;
    size_t offset;
} bool_keys[] = {
    {"shell", offsetof(struct chr_job, shell)},
    {"disabled", offsetof(struct chr_job, disabled)},
    {"concurrent", offsetof(struct chr_job, concurrent)},
    {"highPriority", offsetof(struct chr_job, high_priority)},
    {"softError", offsetof(struct chr_job, soft_error)},
    {"dataProcessingJobType", offsetof(struct chr_job, data_processing)},
    {"async", offsetof(struct chr_job, async)},
    {"retryBackoff", offsetof(struct chr_job, retry_backoff)},
};

#define N_OF(a) (sizeof(a) / sizeof((a)[0]))

static char **job_text(struct chr_job *job, size_t offset)
{
    return (char **)(void *)((char *)job + offset);
}

static enum chr_err parse_plain(const json_t *root, struct chr_job *job, struct chr_error *err)
{
    enum chr_err e;
    json_t *v = json_object_get(root, "name");
    if (v == NULL || json_is_null(v))
        return chr_error_set(err, CHR_EINVAL, "name", "required");
    if ((e = copy_string(v, "name", CHR_JOB_NAME_MAX, &job->name, err)) != CHR_OK)
        return e;
    for (size_t i = 0; i < N_OF(text_keys); i++) {
        v = member(root, text_keys[i].key);
        if (v == NULL)
            continue;
        e = copy_string(v, text_keys[i].key, text_keys[i].max, job_text(job, text_keys[i].offset),
                        err);
        if (e != CHR_OK)
            return e;
    }
    for (size_t i = 0; i < N_OF(bool_keys); i++) {
        v = member(root, bool_keys[i].key);
        bool *slot = (bool *)(void *)((char *)job + bool_keys[i].offset);
        if (v != NULL && (e = want_bool(v, bool_keys[i].key, slot, err)) != CHR_OK)
            return e;
    }
    return CHR_OK;
}

/* Durations written in seconds, kept in milliseconds. */
static const struct {
    const char *key;
    long long max_s;
    size_t offset; /* an int64_t *_ms field */
} durations[] = {
    {"maxCompletionTime", CHR_JOB_DURATION_S_MAX, offsetof(struct chr_job, max_completion_ms)},
    {"retryDelaySeconds", CHR_JOB_RETRY_DELAY_MS_MAX / 1000,
     offsetof(struct chr_job, retry_delay_ms)},
    {"startingDeadlineSeconds", CHR_JOB_DURATION_S_MAX,
     offsetof(struct chr_job, starting_deadline_ms)},
};

static const struct {
    const char *key;
    double max;
    size_t offset; /* a double field */
} amounts[] = {
    {"cpus", CHR_JOB_CPUS_MAX, offsetof(struct chr_job, cpus)},
    {"mem", CHR_JOB_MEM_MB_MAX, offsetof(struct chr_job, mem_mb)},
    {"disk", CHR_JOB_DISK_MB_MAX, offsetof(struct chr_job, disk_mb)},
};

/* retries, durations and resources; absent keeps the defaults already set. */
static enum chr_err parse_numbers(const json_t *root, struct chr_job *job,
                                  struct chr_error *err)
{
    enum chr_err e = CHR_OK;
    long long n = 0;
    const json_t *v = member(root, "retries");
    if (v != NULL && (e = want_int(v, "retries", 0, CHR_JOB_RETRIES_MAX, &n, err)) != CHR_OK)
        return e;
    if (v != NULL)
        job->retries = (int32_t)n;
    for (size_t i = 0; i < N_OF(durations); i++) {
        if ((v = member(root, durations[i].key)) == NULL)
            continue;
        if ((e = want_int(v, durations[i].key, 0, durations[i].max_s, &n, err)) != CHR_OK)
            return e;
        *(int64_t *)(void *)((char *)job + durations[i].offset) = n * 1000;
    }
    for (size_t i = 0; i < N_OF(amounts); i++) {
        double r = 0;
        if ((v = member(root, amounts[i].key)) == NULL)
            continue;
        if ((e = want_amount(v, amounts[i].key, amounts[i].max, &r, err)) != CHR_OK)
            return e;
        if (r > 0) /* 0 means the configured default, already set */
            *(double *)(void *)((char *)job + amounts[i].offset) = r;
    }
    return CHR_OK;
}

/* ---- Lists -------------------------------------------------------------- */

/* An array of at most `max_count` strings of at most `max_len` bytes into a
 * chr_calloc'd vector.  *out and *n are set before the items are copied, so
 * that chr_job_free releases a half-filled vector. */
static enum chr_err parse_strv(const json_t *v, const char *field, size_t max_count,
                               size_t max_len, char ***out, uint32_t *n, struct chr_error *err)
{
    char f[CHR_ERROR_FIELD_MAX];
    if (!json_is_array(v))
        return bad_type(err, field, "an array of strings", v);
    size_t count = json_array_size(v);
    if (count > max_count)
        return chr_error_set(err, CHR_EINVAL, field, "more than %zu entries", max_count);
    for (size_t i = 0; i < count; i++)
        if (!json_is_string(json_array_get(v, i)))
            return bad_type(err, path(f, field, i, NULL), "a string", json_array_get(v, i));
    if (count == 0)
        return CHR_OK;
    if ((*out = chr_calloc(count, sizeof **out)) == NULL)
        return CHR_ENOMEM;
    *n = (uint32_t)count;
    for (size_t i = 0; i < count; i++) {
        enum chr_err e = copy_string(json_array_get(v, i), path(f, field, i, NULL), max_len,
                                     &(*out)[i], err);
        if (e != CHR_OK)
            return e;
    }
    return CHR_OK;
}

/* notifyEvents (ours): the events this job notifies, by name (the core's
 * kinds but "test"); [] turns its notifications off.  A kind named twice
 * counts once. */
static enum chr_err parse_notify(const json_t *v, struct chr_job *job, struct chr_error *err)
{
    char f[CHR_ERROR_FIELD_MAX], d[DESCRIBE_MAX];
    if (!json_is_array(v))
        return bad_type(err, "notifyEvents", "an array of event names", v);
    if (json_array_size(v) > CHR_JOB_NOTIFY_EVENTS_MAX)
        return chr_error_set(err, CHR_EINVAL, "notifyEvents", "more than %d entries",
                             CHR_JOB_NOTIFY_EVENTS_MAX);
    uint32_t mask = 0;
    for (size_t i = 0; i < json_array_size(v); i++) {
        const json_t *e = json_array_get(v, i);
        if (!json_is_string(e))
            return bad_type(err, path(f, "notifyEvents", i, NULL), "an event name", e);
        enum chr_notice_kind k = chr_notice_kind_of(json_string_value(e), json_string_length(e));
        if (k == 0 || !((CHR_NOTICE_SWITCHABLE >> k) & 1u))
            return chr_error_set(err, CHR_EINVAL, path(f, "notifyEvents", i, NULL),
                                 "unknown event %s (" CHR_NOTICE_SWITCHABLE_NAMES ")",
                                 describe(e, d));
        mask |= 1u << k;
    }
    job->notify_events = mask;
    job->notify_events_set = true;
    return CHR_OK;
}

static enum chr_err parse_env(const json_t *v, struct chr_job *job, struct chr_error *err)
{
    char f[CHR_ERROR_FIELD_MAX];
    const char *key = "environmentVariables";
    if (!json_is_array(v))
        return bad_type(err, key, "an array of {name, value}", v);
    size_t count = json_array_size(v);
    if (count > CHR_JOB_ENV_MAX)
        return chr_error_set(err, CHR_EINVAL, key, "more than %d entries", CHR_JOB_ENV_MAX);
    for (size_t i = 0; i < count; i++) {
        const json_t *o = json_array_get(v, i);
        if (!json_is_object(o))
            return bad_type(err, path(f, key, i, NULL), "an object {name, value}", o);
        if (!json_is_string(json_object_get(o, "name")))
            return bad_type(err, path(f, key, i, "name"), "a string", json_object_get(o, "name"));
        if (!json_is_string(json_object_get(o, "value")))
            return bad_type(err, path(f, key, i, "value"), "a string",
                            json_object_get(o, "value"));
    }
    if (count == 0)
        return CHR_OK;
    if ((job->env = chr_calloc(count, sizeof *job->env)) == NULL)
        return CHR_ENOMEM;
    job->n_env = (uint32_t)count;
    for (size_t i = 0; i < count; i++) {
        const json_t *o = json_array_get(v, i);
        enum chr_err e = copy_string(json_object_get(o, "name"), path(f, key, i, "name"),
                                     CHR_JOB_ENV_NAME_MAX, &job->env[i].name, err);
        if (e == CHR_OK)
            e = copy_string(json_object_get(o, "value"), path(f, key, i, "value"),
                            CHR_JOB_TEXT_MAX, &job->env[i].value, err);
        if (e != CHR_OK)
            return e;
    }
    return CHR_OK;
}

/* ---- Schedule or parents ------------------------------------------------ */

static enum chr_err parse_zone(const json_t *root, struct chr_job *job, struct chr_error *err)
{
    const json_t *v = member(root, "scheduleTimeZone");
    const char *s = NULL;
    if (v == NULL)
        return CHR_OK;
    enum chr_err e = want_string(v, "scheduleTimeZone", CHR_TZ_NAME_LEN_MAX, &s, err);
    if (e != CHR_OK || s[0] == '\0' || strcmp(s, "null") == 0)
        return e; /* "" and "null" both mean no zone (clients send either) */
    return copy_string(v, "scheduleTimeZone", CHR_TZ_NAME_LEN_MAX, &job->schedule_tz, err);
}

/* No schedule and no parents: Chronos runs the job once, now. */
static enum chr_err run_once_now(struct chr_job *job, int64_t now_ms)
{
    char at[CHR_INSTANT_TEXT_MAX], s[CHR_INSTANT_TEXT_MAX + 16];
    chr_instant_format(now_ms, at);
    int n = snprintf(s, sizeof s, "R1/%s/PT24H", at);
    job->schedule = chr_strndup(s, (size_t)n);
    return job->schedule == NULL ? CHR_ENOMEM : CHR_OK;
}

/* "R<n>//<period>": an empty start means now (Chronos clients send it). */
static enum chr_err fill_empty_start(struct chr_job *job, int64_t now_ms)
{
    const char *s = job->schedule;
    size_t r = 0;
    if (s[0] != 'R')
        return CHR_OK;
    for (r = 1; s[r] >= '0' && s[r] <= '9'; r++)
        ;
    if (s[r] != '/' || s[r + 1] != '/')
        return CHR_OK;
    char at[CHR_INSTANT_TEXT_MAX];
    size_t at_len = chr_instant_format(now_ms, at);
    size_t len = strlen(s) + at_len;
    if (len > CHR_SCHEDULE_LEN_MAX)
        return CHR_OK; /* left as is: the schedule's own check names the length */
    char *filled = chr_malloc(len + 1);
    if (filled == NULL)
        return CHR_ENOMEM;
    memcpy(filled, s, r + 1);
    memcpy(filled + r + 1, at, at_len);
    memcpy(filled + r + 1 + at_len, s + r + 1, strlen(s + r + 1) + 1);
    chr_free(job->schedule);
    job->schedule = filled;
    return CHR_OK;
}

/* Non-empty `parents` makes a dependent job (and wins over `schedule`);
 * else `schedule`; else run once now, unless the endpoint wanted parents. */
static enum chr_err parse_kind(const json_t *root, enum chr_job_kind_hint hint, int64_t now_ms,
                               struct chr_job *job, struct chr_error *err)
{
    const json_t *sched = member(root, "schedule"), *parents = member(root, "parents");
    if (sched != NULL && !json_is_string(sched))
        return bad_type(err, "schedule", "a string", sched);
    if (parents != NULL && !json_is_array(parents))
        return bad_type(err, "parents", "an array of job names", parents);
    enum chr_err e = parse_zone(root, job, err);
    if (e != CHR_OK)
        return e;
    if (parents != NULL && json_array_size(parents) > 0) {
        chr_free(job->schedule_tz); /* a dependent job has no zone of its own */
        job->schedule_tz = NULL;
        return parse_strv(parents, "parents", CHR_JOB_PARENTS_MAX, CHR_JOB_NAME_MAX,
                          &job->parents, &job->n_parents, err);
    }
    if (sched != NULL) {
        if (json_string_length(sched) == 0)
            return chr_error_set(err, CHR_EINVAL, "schedule", "is empty");
        e = copy_string(sched, "schedule", CHR_SCHEDULE_LEN_MAX, &job->schedule, err);
        return e == CHR_OK ? fill_empty_start(job, now_ms) : e;
    }
    if (hint == CHR_JOB_HINT_DEPENDENT)
        return chr_error_set(err, CHR_EINVAL, "parents",
                             "a dependent job needs at least one parent");
    return run_once_now(job, now_ms);
}

/* ---- Fields kept as JSON text ------------------------------------------- */

/* `v` as one line of compact JSON in chr_malloc'd memory; NULL on ENOMEM. */
static char *dump_text(const json_t *v, size_t *len)
{
    size_t n = json_dumpb(v, NULL, 0, DUMP_FLAGS);
    if (n == 0)
        return NULL;
    char *s = chr_malloc(n + 1);
    if (s == NULL)
        return NULL;
    if (json_dumpb(v, s, n, DUMP_FLAGS) != n) {
        chr_free(s);
        return NULL;
    }
    s[n] = '\0';
    if (len != NULL)
        *len = n;
    return s;
}

/* Does `s` equal one of the '|'-separated words of `choices`? */
static bool one_of(const char *s, const char *choices, bool any_case)
{
    size_t len = strlen(s);
    for (const char *p = choices;; p++) {
        size_t w = strcspn(p, "|");
        if (w == len && (any_case ? strncasecmp(p, s, w) : strncmp(p, s, w)) == 0)
            return true;
        p += w;
        if (*p == '\0')
            return false;
    }
}

/* A string member of an object: required or not, from a set of words
 * (case-insensitive, as Chronos reads enums) or any string. */
struct member_rule {
    const char *key;
    bool required;
    const char *choices; /* "A|B" or NULL */
};

static enum chr_err check_members(const json_t *obj, const char *base,
                                  const struct member_rule *rules, size_t n,
                                  struct chr_error *err)
{
    char f[CHR_ERROR_FIELD_MAX];
    for (size_t i = 0; i < n; i++) {
        const json_t *v = member(obj, rules[i].key);
        chr_error_fieldf(f, "%s.%s", base, rules[i].key);
        if (v == NULL && rules[i].required)
            return chr_error_set(err, CHR_EINVAL, f, "required (a string)");
        if (v == NULL)
            continue;
        if (!json_is_string(v) || (rules[i].required && json_string_length(v) == 0))
            return bad_type(err, f, "a non-empty string", v);
        if (rules[i].choices != NULL && !one_of(json_string_value(v), rules[i].choices, true)) {
            char d[DESCRIBE_MAX];
            return chr_error_set(err, CHR_EINVAL, f, "%s is not one of %s", describe(v, d),
                                 rules[i].choices);
        }
    }
    return CHR_OK;
}

/* The optional array `key` of `obj` whose items are objects obeying `rules`. */
static enum chr_err check_object_list(const json_t *obj, const char *key, const char *base,
                                      const struct member_rule *rules, size_t n_rules,
                                      struct chr_error *err)
{
    char f[CHR_ERROR_FIELD_MAX], item[CHR_ERROR_FIELD_MAX];
    const json_t *list = key != NULL ? member(obj, key) : obj;
    if (key != NULL)
        chr_error_fieldf(f, "%s.%s", base, key);
    else
        chr_error_fieldf(f, "%s", base);
    if (list == NULL)
        return CHR_OK;
    if (!json_is_array(list))
        return bad_type(err, f, "an array of objects", list);
    if (json_array_size(list) > CHR_JOB_CONTAINER_LIST_MAX)
        return chr_error_set(err, CHR_EINVAL, f, "more than %d entries",
                             CHR_JOB_CONTAINER_LIST_MAX);
    for (size_t i = 0; i < json_array_size(list); i++) {
        const json_t *o = json_array_get(list, i);
        path(item, f, i, NULL);
        if (!json_is_object(o))
            return bad_type(err, item, "an object", o);
        enum chr_err e = check_members(o, item, rules, n_rules, err);
        if (e != CHR_OK)
            return e;
    }
    return CHR_OK;
}

static enum chr_err check_container(const json_t *c, struct chr_error *err)
{
    static const struct member_rule top[] = {
        {"image", true, NULL},
        {"type", false, "DOCKER|MESOS"},
        {"network", false, "BRIDGE|HOST|USER"},
        {"networkName", false, NULL},
    };
    static const struct member_rule volume[] = {
        {"containerPath", true, NULL},
        {"hostPath", false, NULL},
        {"mode", false, "RW|RO"},
    };
    static const struct member_rule parameter[] = {{"key", true, NULL}, {"value", false, NULL}};
    static const struct member_rule network[] = {{"name", true, NULL},
                                                 {"protocol", false, "IPv4|IPv6"}};
    enum chr_err e;
    bool pull = false;
    const json_t *v;
    if (!json_is_object(c))
        return bad_type(err, "container", "an object with an image", c);
    if ((e = check_members(c, "container", top, N_OF(top), err)) != CHR_OK)
        return e;
    if ((v = member(c, "forcePullImage")) != NULL &&
        (e = want_bool(v, "container.forcePullImage", &pull, err)) != CHR_OK)
        return e;
    if ((e = check_object_list(c, "volumes", "container", volume, N_OF(volume), err)) != CHR_OK)
        return e;
    if ((e = check_object_list(c, "parameters", "container", parameter, N_OF(parameter), err)) !=
        CHR_OK)
        return e;
    return check_object_list(c, "networkInfos", "container", network, N_OF(network), err);
}

static enum chr_err check_constraints(const json_t *v, struct chr_error *err)
{
    char f[CHR_ERROR_FIELD_MAX], d[DESCRIBE_MAX];
    if (!json_is_array(v))
        return bad_type(err, "constraints", "an array of [attribute, operator, value]", v);
    if (json_array_size(v) > CHR_JOB_CONSTRAINTS_MAX)
        return chr_error_set(err, CHR_EINVAL, "constraints", "more than %d entries",
                             CHR_JOB_CONSTRAINTS_MAX);
    for (size_t i = 0; i < json_array_size(v); i++) {
        const json_t *c = json_array_get(v, i);
        bool strings = json_is_array(c) && json_array_size(c) == 3;
        for (size_t k = 0; strings && k < 3; k++)
            strings = json_is_string(json_array_get(c, k));
        if (!strings)
            return bad_type(err, path(f, "constraints", i, NULL),
                            "[attribute, operator, value] (three strings)", c);
        const json_t *op = json_array_get(c, 1);
        enum chr_constraint_op ignored;
        if (!chr_constraint_op_parse(json_string_value(op), &ignored)) {
            chr_error_fieldf(f, "constraints[%zu][1]", i);
            return chr_error_set(err, CHR_EINVAL, f,
                                 "%s is not an operator (EQUALS, LIKE, UNLIKE)", describe(op, d));
        }
    }
    return CHR_OK;
}

/* constraints into job->constraints (an empty list is none); each entry's
 * regex and bounds are checked by chr_job_validate. */
static enum chr_err parse_constraints(const json_t *v, struct chr_job *job, struct chr_error *err)
{
    char f[CHR_ERROR_FIELD_MAX];
    enum chr_err e = v != NULL ? check_constraints(v, err) : CHR_OK;
    if (e != CHR_OK || v == NULL || json_array_size(v) == 0)
        return e;
    size_t n = json_array_size(v);
    job->constraints = chr_calloc(n, sizeof *job->constraints);
    if (job->constraints == NULL)
        return CHR_ENOMEM;
    job->n_constraints = (uint32_t)n;
    for (size_t i = 0; e == CHR_OK && i < n; i++) {
        const json_t *c = json_array_get(v, i);
        struct chr_constraint *k = &job->constraints[i];
        chr_constraint_op_parse(json_string_value(json_array_get(c, 1)), &k->op);
        e = copy_string(json_array_get(c, 0), chr_error_fieldf(f, "constraints[%zu][0]", i),
                        CHR_CONSTRAINT_ATTR_MAX, &k->attribute, err);
        if (e == CHR_OK)
            e = copy_string(json_array_get(c, 2), chr_error_fieldf(f, "constraints[%zu][2]", i),
                            CHR_CONSTRAINT_VALUE_MAX, &k->value, err);
    }
    return e;
}

static enum chr_err check_fetch(const json_t *v, struct chr_error *err)
{
    static const struct member_rule rules[] = {{"uri", true, NULL}, {"output_file", false, NULL}};
    static const char *const flags[] = {"executable", "cache", "extract"};
    char f[CHR_ERROR_FIELD_MAX];
    if (!json_is_array(v))
        return bad_type(err, "fetch", "an array of {uri, ...}", v);
    if (json_array_size(v) > CHR_JOB_FETCH_MAX)
        return chr_error_set(err, CHR_EINVAL, "fetch", "more than %d entries", CHR_JOB_FETCH_MAX);
    enum chr_err e = check_object_list(v, NULL, "fetch", rules, N_OF(rules), err);
    for (size_t i = 0; e == CHR_OK && i < json_array_size(v); i++) {
        for (size_t k = 0; e == CHR_OK && k < N_OF(flags); k++) {
            const json_t *b = member(json_array_get(v, i), flags[k]);
            bool ignored = false;
            if (b != NULL)
                e = want_bool(b, path(f, "fetch", i, flags[k]), &ignored, err);
        }
    }
    return e;
}

static enum chr_err check_uris(const json_t *v, struct chr_error *err)
{
    char f[CHR_ERROR_FIELD_MAX];
    if (!json_is_array(v))
        return bad_type(err, "uris", "an array of strings", v);
    if (json_array_size(v) > CHR_JOB_FETCH_MAX)
        return chr_error_set(err, CHR_EINVAL, "uris", "more than %d entries", CHR_JOB_FETCH_MAX);
    for (size_t i = 0; i < json_array_size(v); i++)
        if (!json_is_string(json_array_get(v, i)) || json_string_length(json_array_get(v, i)) == 0)
            return bad_type(err, path(f, "uris", i, NULL), "a non-empty string",
                            json_array_get(v, i));
    return CHR_OK;
}

/* A body Chronos returned carries both fetch and uris, uris being the list
 * of fetch[].uri: that is one definition, not two. */
static bool uris_match_fetch(const json_t *uris, const json_t *fetch)
{
    if (json_array_size(uris) != json_array_size(fetch))
        return false;
    for (size_t i = 0; i < json_array_size(uris); i++) {
        const json_t *u = json_object_get(json_array_get(fetch, i), "uri");
        if (!json_equal(json_array_get(uris, i), u))
            return false;
    }
    return true;
}

/* Validates one blob field and keeps it as text; empty arrays are absent. */
typedef enum chr_err (*blob_check)(const json_t *, struct chr_error *);

static enum chr_err keep_blob(const json_t *v, blob_check check, char **slot,
                              struct chr_error *err)
{
    if (v == NULL)
        return CHR_OK;
    enum chr_err e = check(v, err);
    if (e != CHR_OK || (json_is_array(v) && json_array_size(v) == 0))
        return e;
    *slot = dump_text(v, NULL);
    return *slot == NULL ? CHR_ENOMEM : CHR_OK;
}

static enum chr_err parse_blobs(const json_t *root, struct chr_job *job, struct chr_error *err)
{
    const json_t *fetch = member(root, "fetch"), *uris = member(root, "uris");
    enum chr_err e;
    if ((e = keep_blob(member(root, "container"), check_container, &job->container_json, err)) !=
            CHR_OK ||
        (e = parse_constraints(member(root, "constraints"), job, err)) != CHR_OK ||
        (e = keep_blob(fetch, check_fetch, &job->fetch_json, err)) != CHR_OK)
        return e;
    if (uris != NULL && (e = check_uris(uris, err)) != CHR_OK)
        return e;
    if (job->fetch_json != NULL && uris != NULL && json_array_size(uris) > 0) {
        if (!uris_match_fetch(uris, fetch))
            return chr_error_set(err, CHR_EINVAL, "uris",
                                 "give uris or fetch, not both (uris is not fetch[].uri)");
        return CHR_OK;
    }
    return keep_blob(uris, check_uris, &job->uris_json, err);
}

/* ---- Parse: the whole ---------------------------------------------------- */

/* Fields the codec never leaves NULL get "" (or the default user). */
static enum chr_err fill_texts(struct chr_job *job, const struct chr_job_defaults *d)
{
    if (job->run_as_user != NULL && job->run_as_user[0] == '\0') {
        chr_free(job->run_as_user);
        job->run_as_user = NULL;
    }
    if (job->epsilon != NULL && job->epsilon[0] == '\0') {
        chr_free(job->epsilon);
        job->epsilon = NULL;
    }
    if (job->run_as_user == NULL && d->user != NULL &&
        (job->run_as_user = chr_strndup(d->user, strlen(d->user))) == NULL)
        return CHR_ENOMEM;
    for (size_t i = 0; i < N_OF(text_keys); i++) {
        char **slot = job_text(job, text_keys[i].offset);
        if (*slot == NULL && slot != &job->epsilon && (*slot = chr_strndup("", 0)) == NULL)
            return CHR_ENOMEM;
    }
    return CHR_OK;
}

static void set_defaults(struct chr_job *job, const struct chr_job_defaults *d)
{
    job->shell = true;
    job->retries = d->retries;
    job->retry_delay_ms = d->retry_delay_ms;
    job->starting_deadline_ms = -1;
    job->cpus = d->cpus;
    job->mem_mb = d->mem_mb;
    job->disk_mb = d->disk_mb;
}

static enum chr_err parse_root(const json_t *root, const struct chr_job_defaults *d,
                               enum chr_job_kind_hint hint, int64_t now_ms, struct chr_job *job,
                               struct chr_error *err)
{
    enum chr_err e;
    const json_t *v;
    set_defaults(job, d);
    if ((e = parse_plain(root, job, err)) != CHR_OK ||
        (e = parse_numbers(root, job, err)) != CHR_OK ||
        (e = parse_kind(root, hint, now_ms, job, err)) != CHR_OK)
        return e;
    if ((v = member(root, "arguments")) != NULL &&
        (e = parse_strv(v, "arguments", CHR_JOB_ARGUMENTS_MAX, CHR_JOB_TEXT_MAX, &job->arguments,
                        &job->n_arguments, err)) != CHR_OK)
        return e;
    if ((v = member(root, "environmentVariables")) != NULL &&
        (e = parse_env(v, job, err)) != CHR_OK)
        return e;
    if ((v = member(root, "notifyEvents")) != NULL && (e = parse_notify(v, job, err)) != CHR_OK)
        return e;
    if ((e = parse_blobs(root, job, err)) != CHR_OK || (e = fill_texts(job, d)) != CHR_OK)
        return e;
    return chr_job_validate(job, err);
}

/* Finds a string holding a NUL byte (JSON "\u0000") anywhere in v and
 * writes its path ("environmentVariables[0].name") into path; false when
 * there is none.  Depth is bounded by jansson's own nesting limit. */
static bool find_nul(const json_t *v, char *path, size_t cap, size_t at)
{
    if (json_is_string(v))
        return strlen(json_string_value(v)) != json_string_length(v);
    if (json_is_array(v)) {
        for (size_t i = 0; i < json_array_size(v); i++) {
            int n = snprintf(path + at, cap - at, "[%zu]", i);
            size_t next = n > 0 && (size_t)n < cap - at ? at + (size_t)n : at;
            if (find_nul(json_array_get(v, i), path, cap, next))
                return true;
        }
    } else if (json_is_object(v)) {
        const char *key;
        const json_t *m;
        json_object_foreach((json_t *)v, key, m) {
            int n = snprintf(path + at, cap - at, "%s%s", at > 0 ? "." : "", key);
            size_t next = n > 0 && (size_t)n < cap - at ? at + (size_t)n : cap - 1;
            if (find_nul(m, path, cap, next))
                return true;
        }
    }
    path[at < cap ? at : cap - 1] = '\0';
    return false;
}

static enum chr_err load_body(const char *text, size_t len, json_t **root, struct chr_error *err)
{
    json_error_t jerr;
    char d[DESCRIBE_MAX];
    if (len > CHR_JOB_JSON_MAX)
        return chr_error_set(err, CHR_EINVAL, "body", "%zu bytes is more than %d", len,
                             CHR_JOB_JSON_MAX);
    *root = json_loadb(text != NULL ? text : "", text != NULL ? len : 0,
                       JSON_REJECT_DUPLICATES | JSON_DECODE_ANY | JSON_ALLOW_NUL, &jerr);
    if (*root == NULL && json_error_code(&jerr) == json_error_out_of_memory)
        return CHR_ENOMEM;
    if (*root == NULL) {
        /* jansson may quote the offending bytes: keep the message printable. */
        for (char *c = jerr.text; *c != '\0'; c++)
            if ((unsigned char)*c < 0x20 || (unsigned char)*c >= 0x7f)
                *c = '?';
        return chr_error_set(err, CHR_EINVAL, "body", "invalid JSON at line %d column %d: %s",
                             jerr.line, jerr.column, jerr.text);
    }
    char path[128] = "";
    if (find_nul(*root, path, sizeof path, 0)) { /* a NUL would cut the text short */
        chr_error_set(err, CHR_EINVAL, path[0] ? path : "body", "contains a NUL byte (\\u0000)");
        json_decref(*root);
        *root = NULL;
        return CHR_EINVAL;
    }
    if (!json_is_object(*root)) {
        chr_error_set(err, CHR_EINVAL, "body", "expected a JSON object, got %s",
                      describe(*root, d));
        json_decref(*root);
        *root = NULL;
        return CHR_EINVAL;
    }
    return CHR_OK;
}

/* ---- Fast path: a stored job as chr_job_to_store_json writes it ------------ */

/* The members the fast path reads, each a bit of `seen`: name, the texts,
 * the booleans, retries, the durations, the amounts, then these. */
enum {
    FJ_TEXTS = 1,
    FJ_BOOLS = FJ_TEXTS + N_OF(text_keys),
    FJ_RETRIES = FJ_BOOLS + N_OF(bool_keys),
    FJ_DURATIONS,
    FJ_AMOUNTS = FJ_DURATIONS + N_OF(durations),
    FJ_SCHEDULE = FJ_AMOUNTS + N_OF(amounts),
    FJ_ZONE,
    FJ_PARENTS,
    FJ_ARGUMENTS,
    FJ_N
};

_Static_assert(FJ_N <= 32, "the fast path's members are bits of a uint32_t");

static bool key_is(const char *k, size_t n, const char *want)
{
    return strlen(want) == n && memcmp(k, want, n) == 0;
}

static int fast_job_key(const char *k, size_t n)
{
    static const char *const tail[] = {"schedule", "scheduleTimeZone", "parents", "arguments"};
    if (key_is(k, n, "name"))
        return 0;
    for (size_t i = 0; i < N_OF(text_keys); i++)
        if (key_is(k, n, text_keys[i].key))
            return FJ_TEXTS + (int)i;
    for (size_t i = 0; i < N_OF(bool_keys); i++)
        if (key_is(k, n, bool_keys[i].key))
            return FJ_BOOLS + (int)i;
    if (key_is(k, n, "retries"))
        return FJ_RETRIES;
    for (size_t i = 0; i < N_OF(durations); i++)
        if (key_is(k, n, durations[i].key))
            return FJ_DURATIONS + (int)i;
    for (size_t i = 0; i < N_OF(amounts); i++)
        if (key_is(k, n, amounts[i].key))
            return FJ_AMOUNTS + (int)i;
    for (size_t i = 0; i < N_OF(tail); i++)
        if (key_is(k, n, tail[i]))
            return FJ_SCHEDULE + (int)i;
    return -1;
}

/* A plain string of at most max bytes, copied into *slot (NULL before). */
static bool fast_text(struct chr_jscan *s, size_t max, char **slot)
{
    const char *v = NULL;
    size_t n = 0;
    if (!chr_jscan_string(s, &v, &n) || n > max)
        return false;
    return (*slot = chr_strndup(v, n)) != NULL;
}

/* An array of at most max_count plain strings of at most max_len bytes, as
 * parse_strv keeps it (NULL/0 when empty). */
static bool fast_strv(struct chr_jscan *s, size_t max_count, size_t max_len, char ***out,
                      uint32_t *n)
{
    struct chr_jscan count = *s;
    const char *v = NULL;
    size_t len = 0, k = 0;
    if (!chr_jscan_take(&count, '['))
        return false;
    if (!chr_jscan_take(&count, ']')) {
        do {
            if (!chr_jscan_string(&count, &v, &len) || len > max_len || ++k > max_count)
                return false;
        } while (chr_jscan_take(&count, ','));
        if (!chr_jscan_take(&count, ']'))
            return false;
    }
    if (k > 0 && (*out = chr_calloc(k, sizeof **out)) == NULL)
        return false;
    *n = (uint32_t)k;
    chr_jscan_take(s, '[');
    for (size_t i = 0; i < k; i++) {
        if (i > 0)
            chr_jscan_take(s, ',');
        if (!fast_text(s, max_len, &(*out)[i]))
            return false;
    }
    *s = count;
    return true;
}

/* What the fast path holds back until the members are read: the kind's. */
struct fast_kind {
    const char *sched, *zone;
    size_t sched_n, zone_n;
};

static bool fast_number_member(struct chr_jscan *s, int k, struct chr_job *job)
{
    int64_t n = 0;
    double r = 0;
    bool is_int = false;
    if (k == FJ_RETRIES) {
        if (!chr_jscan_int(s, &n) || n < 0 || n > CHR_JOB_RETRIES_MAX)
            return false;
        job->retries = (int32_t)n;
        return true;
    }
    if (k < FJ_AMOUNTS) {
        size_t i = (size_t)(k - FJ_DURATIONS);
        if (!chr_jscan_int(s, &n) || n < 0 || n > durations[i].max_s)
            return false;
        *(int64_t *)(void *)((char *)job + durations[i].offset) = n * 1000;
        return true;
    }
    size_t i = (size_t)(k - FJ_AMOUNTS);
    if (!chr_jscan_number(s, &is_int, &n, &r))
        return false;
    r = is_int ? (double)n : r; /* as json_number_value reads an integer */
    if (r < 0 || r > amounts[i].max)
        return false;
    if (r > 0)
        *(double *)(void *)((char *)job + amounts[i].offset) = r;
    return true;
}

static bool fast_member(struct chr_jscan *s, int k, struct chr_job *job, struct fast_kind *fk)
{
    if (k == 0)
        return fast_text(s, CHR_JOB_NAME_MAX, &job->name);
    if (k < FJ_BOOLS)
        return fast_text(s, text_keys[k - FJ_TEXTS].max, job_text(job, text_keys[k - FJ_TEXTS].offset));
    if (k < FJ_RETRIES)
        return chr_jscan_bool(s, (bool *)(void *)((char *)job + bool_keys[k - FJ_BOOLS].offset));
    if (k < FJ_SCHEDULE)
        return fast_number_member(s, k, job);
    if (k == FJ_SCHEDULE)
        return chr_jscan_string(s, &fk->sched, &fk->sched_n);
    if (k == FJ_ZONE)
        return chr_jscan_string(s, &fk->zone, &fk->zone_n) && fk->zone_n <= CHR_TZ_NAME_LEN_MAX;
    if (k == FJ_PARENTS)
        return fast_strv(s, CHR_JOB_PARENTS_MAX, CHR_JOB_NAME_MAX, &job->parents, &job->n_parents);
    return fast_strv(s, CHR_JOB_ARGUMENTS_MAX, CHR_JOB_TEXT_MAX, &job->arguments,
                     &job->n_arguments);
}

/* parse_kind for the fast path: parents win; else a schedule that needs no
 * clock (an empty start "R<n>//..." does: the full decoder fills it);
 * neither is the hint's business: the full decoder's. */
static bool fast_kind(struct chr_job *job, const struct fast_kind *fk)
{
    if (job->n_parents > 0)
        return true;
    if (fk->sched == NULL || fk->sched_n == 0 || fk->sched_n > CHR_SCHEDULE_LEN_MAX)
        return false;
    size_t r = 1;
    if (fk->sched[0] == 'R') {
        while (r < fk->sched_n && fk->sched[r] >= '0' && fk->sched[r] <= '9')
            r++;
        if (r + 1 < fk->sched_n && fk->sched[r] == '/' && fk->sched[r + 1] == '/')
            return false;
    }
    if (fk->zone != NULL && fk->zone_n > 0 && !key_is(fk->zone, fk->zone_n, "null") &&
        (job->schedule_tz = chr_strndup(fk->zone, fk->zone_n)) == NULL)
        return false;
    return (job->schedule = chr_strndup(fk->sched, fk->sched_n)) != NULL;
}

/* The job in `text` when it has the plain shape chr_job_to_store_json
 * writes and parse_root would read it the same, into *job (zeroed before);
 * false (nothing held) for anything else: the full decoder reads it. */
static bool fast_job(const char *text, size_t len, const struct chr_job_defaults *d,
                     struct chr_job *job)
{
    struct chr_jscan s;
    struct fast_kind fk = {NULL, NULL, 0, 0};
    uint32_t seen = 0;
    chr_jscan_init(&s, text, len);
    set_defaults(job, d);
    bool ok = len <= CHR_JOB_JSON_MAX && chr_jscan_take(&s, '{');
    while (ok) {
        const char *k = NULL;
        size_t n = 0;
        int i = -1;
        ok = chr_jscan_string(&s, &k, &n) && chr_jscan_take(&s, ':') &&
             (i = fast_job_key(k, n)) >= 0 && !(seen & 1u << i);
        if (ok) {
            seen |= 1u << i;
            ok = fast_member(&s, i, job, &fk);
        }
        if (ok && !chr_jscan_take(&s, ','))
            break;
    }
    ok = ok && chr_jscan_take(&s, '}') && chr_jscan_done(&s) && job->name != NULL &&
         fast_kind(job, &fk) && fill_texts(job, d) == CHR_OK && chr_job_validate(job, NULL) == CHR_OK;
    if (!ok)
        chr_job_free(job);
    return ok;
}

enum chr_err chr_job_from_json(const char *text, size_t len,
                               const struct chr_job_defaults *defaults,
                               enum chr_job_kind_hint hint, int64_t now_ms, struct chr_job *out,
                               struct chr_error *err)
{
    struct chr_job_defaults builtin;
    memset(out, 0, sizeof *out);
    chr_error_clear(err);
    if (defaults == NULL) {
        chr_job_defaults_init(&builtin);
        defaults = &builtin;
    }
    if (fast_job(text, len, defaults, out))
        return CHR_OK;
    return chr_job_from_json_full(text, len, defaults, hint, now_ms, out, err);
}

enum chr_err chr_job_from_json_full(const char *text, size_t len,
                                    const struct chr_job_defaults *defaults,
                                    enum chr_job_kind_hint hint, int64_t now_ms,
                                    struct chr_job *out, struct chr_error *err)
{
    struct chr_job_defaults builtin;
    struct chr_job job;
    json_t *root = NULL;
    memset(out, 0, sizeof *out);
    memset(&job, 0, sizeof job);
    chr_error_clear(err);
    if (defaults == NULL) {
        chr_job_defaults_init(&builtin);
        defaults = &builtin;
    }
    enum chr_err e = load_body(text, len, &root, err);
    if (e != CHR_OK)
        return e;
    e = parse_root(root, defaults, hint, now_ms, &job, err);
    json_decref(root);
    if (e != CHR_OK) {
        chr_job_free(&job);
        return e;
    }
    /* What was read is a job by scheduler/job.h's rules (parse_root ended
     * with them): nothing the core refuses leaves this decoder. */
    CHR_ASSERT(job.name != NULL && chr_job_validate(&job, NULL) == CHR_OK);
    *out = job;
    return CHR_OK;
}

/* ---- Serialize ----------------------------------------------------------- */

/* Adds `v` under `key`; false (and `v` released) when either failed. */
static bool put(json_t *o, const char *key, json_t *v)
{
    return json_object_set_new(o, key, v) == 0;
}

static json_t *str(const char *s)
{
    return json_string(s != NULL ? s : "");
}

static json_t *instant_or(int64_t at_ms, json_t *none)
{
    char buf[CHR_INSTANT_TEXT_MAX];
    if (at_ms == INT64_MIN)
        return none;
    json_decref(none);
    chr_instant_format(at_ms, buf);
    return json_string(buf);
}

static json_t *strv(char *const *v, uint32_t n)
{
    json_t *a = json_array();
    for (uint32_t i = 0; a != NULL && i < n; i++) {
        if (json_array_append_new(a, str(v[i])) != 0) {
            json_decref(a);
            return NULL;
        }
    }
    return a;
}

static json_t *env_list(const struct chr_job *job)
{
    json_t *a = json_array();
    for (uint32_t i = 0; a != NULL && i < job->n_env; i++) {
        json_t *o = json_object();
        bool ok = o != NULL && put(o, "name", str(job->env[i].name)) &&
                  put(o, "value", str(job->env[i].value));
        if (!ok || json_array_append_new(a, o) != 0) {
            json_decref(ok ? NULL : o);
            json_decref(a);
            return NULL;
        }
    }
    return a;
}

static json_t *constraint_list(const struct chr_job *job)
{
    json_t *a = json_array();
    for (uint32_t i = 0; a != NULL && i < job->n_constraints; i++) {
        const struct chr_constraint *k = &job->constraints[i];
        json_t *t = json_pack("[s,s,s]", k->attribute != NULL ? k->attribute : "",
                              chr_constraint_op_name(k->op), k->value != NULL ? k->value : "");
        if (t == NULL || json_array_append_new(a, t) != 0) {
            json_decref(a);
            return NULL;
        }
    }
    return a;
}

/* notifyEvents' names, in the kinds' order. */
static json_t *notify_list(uint32_t mask)
{
    json_t *a = json_array();
    for (int k = CHR_NOTICE_FAILED; a != NULL && k <= CHR_NOTICE_KIND_LAST; k++) {
        const char *name = chr_notice_kind_name((enum chr_notice_kind)k);
        if (((mask >> k) & 1u) && json_array_append_new(a, json_string(name)) != 0) {
            json_decref(a);
            return NULL;
        }
    }
    return a;
}

/* A stored blob back as JSON; `empty` (an empty array) when not set. */
static json_t *blob(const char *text)
{
    return text != NULL ? json_loads(text, 0, NULL) : json_array();
}

/* fetch and uris, each filled from the other as Chronos's GET does. */
static bool put_fetch_uris(json_t *o, const struct chr_job *job)
{
    json_t *fetch = NULL, *uris = NULL;
    bool ok = true;
    if (job->fetch_json != NULL) {
        fetch = blob(job->fetch_json);
        uris = json_array();
        for (size_t i = 0; ok && fetch != NULL && i < json_array_size(fetch); i++) {
            json_t *u = json_object_get(json_array_get(fetch, i), "uri");
            ok = !json_is_string(u) || json_array_append(uris, u) == 0;
        }
    } else {
        uris = blob(job->uris_json);
        fetch = json_array();
        for (size_t i = 0; ok && uris != NULL && i < json_array_size(uris); i++) {
            json_t *f = json_pack("{s:O,s:b,s:b,s:b}", "uri", json_array_get(uris, i),
                                  "executable", 0, "cache", 0, "extract", 1);
            ok = json_array_append_new(fetch, f) == 0;
        }
    }
    if (!ok || fetch == NULL || uris == NULL) {
        json_decref(fetch);
        json_decref(uris);
        return false;
    }
    return put(o, "fetch", fetch) && put(o, "uris", uris);
}

/* name .. description, counters and resources: the first half of the order. */
static bool put_head(json_t *o, const struct chr_job *job, const struct chr_job_stats *st)
{
    return put(o, "name", str(job->name)) && put(o, "command", str(job->command)) &&
           put(o, "shell", json_boolean(job->shell)) && put(o, "executor", str(job->executor)) &&
           put(o, "executorFlags", str(job->executor_flags)) &&
           put(o, "taskInfoData", str(job->task_info_data)) &&
           put(o, "retries", json_integer(job->retries)) && put(o, "owner", str(job->owner)) &&
           put(o, "ownerName", str(job->owner_name)) &&
           put(o, "description", str(job->description)) &&
           put(o, "successCount", json_integer(st->success_count)) &&
           put(o, "errorCount", json_integer(st->error_count)) &&
           put(o, "lastSuccess", instant_or(st->last_success_ms, json_string(""))) &&
           put(o, "lastError", instant_or(st->last_error_ms, json_string(""))) &&
           put(o, "cpus", json_real(job->cpus)) && put(o, "disk", json_real(job->disk_mb)) &&
           put(o, "mem", json_real(job->mem_mb)) &&
           put(o, "disabled", json_boolean(job->disabled)) &&
           put(o, "softError", json_boolean(job->soft_error)) &&
           put(o, "dataProcessingJobType", json_boolean(job->data_processing)) &&
           put(o, "errorsSinceLastSuccess", json_integer(st->errors_since_last_success));
}

/* fetch .. constraints, then the schedule or the parents, then container. */
static bool put_tail(json_t *o, const struct chr_job *job)
{
    bool ok = put_fetch_uris(o, job) && put(o, "environmentVariables", env_list(job)) &&
              put(o, "arguments", strv(job->arguments, job->n_arguments)) &&
              put(o, "highPriority", json_boolean(job->high_priority)) &&
              put(o, "runAsUser", str(job->run_as_user)) &&
              put(o, "concurrent", json_boolean(job->concurrent)) &&
              put(o, "maxCompletionTime", json_integer(job->max_completion_ms / 1000)) &&
              put(o, "constraints", constraint_list(job));
    if (ok && job->n_parents > 0)
        ok = put(o, "parents", strv(job->parents, job->n_parents));
    else if (ok && job->schedule != NULL)
        ok = put(o, "schedule", str(job->schedule)) &&
             put(o, "scheduleTimeZone", str(job->schedule_tz));
    if (ok && job->container_json != NULL)
        ok = put(o, "container", json_loads(job->container_json, 0, NULL));
    return ok;
}

/* 2.x fields when set, then our definition fields. */
static bool put_extras(json_t *o, const struct chr_job *job)
{
    bool ok = true;
    if (job->epsilon != NULL)
        ok = put(o, "epsilon", str(job->epsilon));
    if (ok && job->async)
        ok = put(o, "async", json_true());
    ok = ok && put(o, "retryDelaySeconds", json_integer(job->retry_delay_ms / 1000)) &&
         put(o, "retryBackoff", json_boolean(job->retry_backoff));
    if (ok && job->starting_deadline_ms >= 0)
        ok = put(o, "startingDeadlineSeconds", json_integer(job->starting_deadline_ms / 1000));
    if (ok && job->notify_events_set)
        ok = put(o, "notifyEvents", notify_list(job->notify_events));
    return ok;
}

char *chr_job_to_json(const struct chr_job *job, const struct chr_job_stats *stats, size_t *len)
{
    struct chr_job_stats none;
    /* A job written has a name: every reader keys it by its name. */
    CHR_ASSERT(job != NULL && job->name != NULL && chr_job_name_valid(job->name));
    if (stats == NULL) {
        chr_job_stats_init(&none);
        stats = &none;
    }
    json_t *o = json_object();
    char *text = NULL;
    if (o != NULL && put_head(o, job, stats) && put_tail(o, job) && put_extras(o, job))
        text = dump_text(o, len);
    json_decref(o);
    return text;
}
