/*
 * persist.c - JSON of the /state and /runs nodes.  Instants are integers of
 * milliseconds (null for "never" / "none"), so nothing is lost to text
 * formatting.  Decoders reject anything out of shape instead of guessing.
 * Encoders assert that what they write is in the shape the decoders take,
 * and decoders assert the bounds of what they have just checked.
 */
#include "server/persist.h"

#include <jansson.h>
#include <stddef.h>
#include <string.h>

#include "common/alloc.h"
#include "common/jscan.h"
#include "common/json.h"
#include "api/job_json.h"
#include "common/assert.h"
#include "common/limits.h"

/* Runs kept in a state node's history, at most (a bound on input). */
#define STATE_HISTORY_MAX 10000

static json_t *ms_or_null(int64_t ms)
{
    return ms == INT64_MIN || ms == INT64_MAX ? json_null() : json_integer(ms);
}


/* Members dropped from a stored job when empty, false or zero. */
static const char *const droppable[] = {
    "executor", "executorFlags", "taskInfoData", "owner", "ownerName", "description",
    "successCount", "errorCount", "errorsSinceLastSuccess", "lastSuccess", "lastError",
    "disabled", "softError", "dataProcessingJobType", "fetch", "uris", "environmentVariables",
    "arguments", "highPriority", "concurrent", "maxCompletionTime", "constraints",
    "scheduleTimeZone", "retryBackoff", "async", "epsilon",
};

static bool empty_value(json_t *v)
{
    return json_is_false(v) || json_is_null(v) || (json_is_string(v) && json_string_length(v) == 0) ||
           (json_is_array(v) && json_array_size(v) == 0) ||
           (json_is_integer(v) && json_integer_value(v) == 0);
}

char *chr_job_to_store_json(const struct chr_job *job, size_t *len)
{
    size_t n = 0;
    char *full = chr_job_to_json(job, NULL, &n);
    if (full == NULL)
        return NULL;
    json_error_t jerr;
    json_t *o = json_loadb(full, n, 0, &jerr);
    chr_free(full);
    if (o == NULL)
        return NULL;
    for (size_t i = 0; i < sizeof droppable / sizeof droppable[0]; i++)
        if (empty_value(json_object_get(o, droppable[i])))
            json_object_del(o, droppable[i]);
    return chr_json_dump(o, len);
}

static json_t *ledger_json(const struct chr_job_state *st)
{
    json_t *a = json_array();
    for (uint32_t i = 0; a != NULL && i < st->ledger_len; i++) {
        const struct chr_ledger_entry *e = &st->ledger[i];
        CHR_ASSERT(e->reason >= CHR_LEDGER_COALESCED_DOWN && e->reason <= CHR_LEDGER_REASON_LAST &&
                   e->count >= 0);
        json_array_append_new(a, json_pack("[I,I,I,i]", (json_int_t)e->first_ms,
                                           (json_int_t)e->last_ms, (json_int_t)e->count,
                                           (int)e->reason));
    }
    return a;
}

static json_t *history_json(const struct chr_job_state *st)
{
    json_t *a = json_array();
    for (uint32_t i = 0; a != NULL && i < st->history_len; i++) {
        const struct chr_run_summary *h = &st->history[i];
        CHR_ASSERT(h->cause >= CHR_CAUSE_SCHEDULED && h->cause <= CHR_CAUSE_RETRY &&
                   h->state >= CHR_RUN_FINISHED && h->state <= CHR_RUN_LOST);
        json_array_append_new(a, json_pack("[I,o,o,i,i,i,i,s]", (json_int_t)h->due_ms,
                                           ms_or_null(h->started_ms), ms_or_null(h->ended_ms),
                                           (int)h->attempt, (int)h->exit_code, (int)h->cause,
                                           (int)h->state, h->reason));
    }
    return a;
}

/* The bounds chr_state_from_json reads a state node with. */
static bool state_bounded(const struct chr_job_state *st)
{
    const struct chr_job_stats *s = &st->stats;
    return s->success_count >= 0 && s->error_count >= 0 && s->errors_since_last_success >= 0 &&
           s->task_time_ms >= 0 &&
           st->instants_handled >= 0 && st->schedule_epoch >= 0 && st->launch_failures >= 0 &&
           st->n_parent_successes <= CHR_JOB_PARENTS_MAX && st->ledger_len <= CHR_LEDGER_MAX &&
           st->history_len <= STATE_HISTORY_MAX;
}

char *chr_state_to_json(const struct chr_job_state *st, size_t *len)
{
    CHR_ASSERT(state_bounded(st));
    json_t *parents = json_array();
    for (uint32_t i = 0; parents != NULL && i < st->n_parent_successes; i++)
        json_array_append_new(parents, json_integer(st->parent_successes[i]));
    const struct chr_job_stats *s = &st->stats;
    json_t *v = json_pack("{s:I,s:I,s:I,s:o,s:o,s:o,s:I,s:I,s:o,s:o,s:b,s:I,s:o,s:o}",
                          "successCount", (json_int_t)s->success_count,
                          "errorCount", (json_int_t)s->error_count,
                          "errorsSinceLastSuccess", (json_int_t)s->errors_since_last_success,
                          "lastSuccess", ms_or_null(s->last_success_ms),
                          "lastError", ms_or_null(s->last_error_ms),
                          "next", ms_or_null(st->next_ms),
                          "handled", (json_int_t)st->instants_handled,
                          "epoch", (json_int_t)st->schedule_epoch,
                          "lastRunDue", ms_or_null(st->last_run_due_ms),
                          "parentSuccesses", parents,
                          "flagged", (int)st->flagged,
                          "launchFailures", (json_int_t)st->launch_failures,
                          "ledger", ledger_json(st),
                          "history", history_json(st));
    if (v != NULL && json_object_set_new(v, "taskTimeMs", json_integer(s->task_time_ms)) != 0) {
        json_decref(v);
        v = NULL;
    }
    return chr_json_dump(v, len);
}

/* An integer member in [lo, hi]; `null_as` is used for null when not 0
 * (instants: INT64_MIN or INT64_MAX). */
static enum chr_err get_int(json_t *obj, const char *key, int64_t lo, int64_t hi, int64_t null_as,
                            int64_t *out, struct chr_error *err)
{
    json_t *v = json_object_get(obj, key);
    if (json_is_null(v) && null_as != 0) {
        *out = null_as;
        return CHR_OK;
    }
    if (!json_is_integer(v) || json_integer_value(v) < lo || json_integer_value(v) > hi)
        return chr_error_set(err, CHR_EINVAL, key, "expected an integer %lld..%lld",
                             (long long)lo, (long long)hi);
    *out = json_integer_value(v);
    return CHR_OK;
}

#define I64_ANY INT64_MIN + 1, INT64_MAX - 1

static enum chr_err state_stats(json_t *o, struct chr_job_state *st, struct chr_error *err)
{
    struct chr_job_stats *s = &st->stats;
    enum chr_err e;
    if ((e = get_int(o, "successCount", 0, INT64_MAX, 0, &s->success_count, err)) ||
        (e = get_int(o, "errorCount", 0, INT64_MAX, 0, &s->error_count, err)) ||
        (e = get_int(o, "errorsSinceLastSuccess", 0, INT64_MAX, 0, &s->errors_since_last_success,
                     err)) ||
        (e = get_int(o, "lastSuccess", I64_ANY, INT64_MIN, &s->last_success_ms, err)) ||
        (e = get_int(o, "lastError", I64_ANY, INT64_MIN, &s->last_error_ms, err)) ||
        (e = get_int(o, "next", I64_ANY, INT64_MAX, &st->next_ms, err)) ||
        (e = get_int(o, "handled", 0, INT64_MAX, 0, &st->instants_handled, err)) ||
        (e = get_int(o, "epoch", 0, INT64_MAX, 0, &st->schedule_epoch, err)) ||
        (e = get_int(o, "lastRunDue", I64_ANY, INT64_MIN, &st->last_run_due_ms, err)) ||
        (e = get_int(o, "launchFailures", 0, INT64_MAX, 0, &st->launch_failures, err)))
        return e;
    s->task_time_ms = 0; /* absent in nodes written before it existed */
    if (json_object_get(o, "taskTimeMs") != NULL &&
        (e = get_int(o, "taskTimeMs", 0, INT64_MAX, 0, &s->task_time_ms, err)) != CHR_OK)
        return e;
    json_t *f = json_object_get(o, "flagged");
    if (!json_is_boolean(f))
        return chr_error_set(err, CHR_EINVAL, "flagged", "expected a boolean");
    st->flagged = json_is_true(f);
    return CHR_OK;
}

static enum chr_err state_parents(json_t *o, struct chr_job_state *st, struct chr_error *err)
{
    json_t *a = json_object_get(o, "parentSuccesses");
    if (!json_is_array(a) || json_array_size(a) > CHR_JOB_PARENTS_MAX)
        return chr_error_set(err, CHR_EINVAL, "parentSuccesses", "expected an array of at most %d",
                             CHR_JOB_PARENTS_MAX);
    size_t n = json_array_size(a);
    if (n == 0)
        return CHR_OK;
    st->parent_successes = chr_calloc(n, sizeof *st->parent_successes);
    if (st->parent_successes == NULL)
        return CHR_ENOMEM;
    st->n_parent_successes = (uint32_t)n;
    for (size_t i = 0; i < n; i++) {
        json_t *v = json_array_get(a, i);
        if (!json_is_integer(v) || json_integer_value(v) < 0 || json_integer_value(v) > UINT32_MAX)
            return chr_error_set(err, CHR_EINVAL, "parentSuccesses", "expected counts");
        st->parent_successes[i] = (uint32_t)json_integer_value(v);
    }
    return CHR_OK;
}

static enum chr_err state_ledger(json_t *o, struct chr_job_state *st, struct chr_error *err)
{
    json_t *a = json_object_get(o, "ledger");
    if (!json_is_array(a) || json_array_size(a) > CHR_LEDGER_MAX)
        return chr_error_set(err, CHR_EINVAL, "ledger", "expected at most %d entries",
                             CHR_LEDGER_MAX);
    size_t n = json_array_size(a);
    if (n == 0)
        return CHR_OK;
    st->ledger = chr_calloc(n, sizeof *st->ledger);
    if (st->ledger == NULL)
        return CHR_ENOMEM;
    for (size_t i = 0; i < n; i++) {
        json_int_t first, last, count;
        int reason;
        if (json_unpack(json_array_get(a, i), "[III i]", &first, &last, &count, &reason) != 0 ||
            reason < CHR_LEDGER_COALESCED_DOWN || reason > CHR_LEDGER_REASON_LAST ||
            count < 0)
            return chr_error_set(err, CHR_EINVAL, "ledger", "entry %zu is malformed", i);
        st->ledger[i] = (struct chr_ledger_entry){first, last, count, (enum chr_ledger_reason)reason};
        st->ledger_len = (uint32_t)(i + 1);
    }
    return CHR_OK;
}

static int64_t ms_of(json_t *v)
{
    return json_is_integer(v) ? json_integer_value(v) : INT64_MIN;
}

static enum chr_err state_history(json_t *o, struct chr_job_state *st, struct chr_error *err)
{
    json_t *a = json_object_get(o, "history");
    if (a == NULL)
        return CHR_OK;
    if (!json_is_array(a) || json_array_size(a) > STATE_HISTORY_MAX)
        return chr_error_set(err, CHR_EINVAL, "history", "expected a bounded array");
    size_t n = json_array_size(a);
    if (n == 0)
        return CHR_OK;
    st->history = chr_calloc(n, sizeof *st->history);
    if (st->history == NULL)
        return CHR_ENOMEM;
    for (size_t i = 0; i < n; i++) {
        json_int_t due;
        json_t *started, *ended;
        int attempt, code, cause, state;
        const char *reason = ""; /* absent in stores written before reasons were kept */
        if (json_unpack(json_array_get(a, i), "[Iooiiii!]", &due, &started, &ended, &attempt,
                        &code, &cause, &state) != 0 &&
            json_unpack(json_array_get(a, i), "[Iooiiiis!]", &due, &started, &ended, &attempt,
                        &code, &cause, &state, &reason) != 0)
            return chr_error_set(err, CHR_EINVAL, "history", "entry %zu is malformed", i);
        if (cause < CHR_CAUSE_SCHEDULED || cause > CHR_CAUSE_RETRY || state < CHR_RUN_FINISHED ||
            state > CHR_RUN_LOST)
            return chr_error_set(err, CHR_EINVAL, "history", "entry %zu is malformed", i);
        st->history[i] = (struct chr_run_summary){due, ms_of(started), ms_of(ended), attempt, code,
                                                  (enum chr_run_cause)cause,
                                                  (enum chr_run_state)state, {0}};
        snprintf(st->history[i].reason, sizeof st->history[i].reason, "%s", reason);
        st->history_len = (uint32_t)(i + 1);
    }
    return CHR_OK;
}

/* ---- Fast path: a state node as chr_state_to_json writes it ------------------ */

/* The members of a state node; a bit each in fast_state's `seen`. */
enum fast_key {
    FK_PARENTS = 11, FK_FLAGGED, FK_LEDGER, FK_HISTORY, FK_N
};

/* The integer members (the first FK_PARENTS keys), with chr_state_from_json's
 * ranges; null_as not 0: null reads as it (an instant: never / none). */
static const struct {
    const char *key;
    int64_t lo, hi, null_as;
    size_t off; /* an int64_t in struct chr_job_state */
} fast_ints[FK_PARENTS] = {
    {"successCount", 0, INT64_MAX, 0, offsetof(struct chr_job_state, stats.success_count)},
    {"errorCount", 0, INT64_MAX, 0, offsetof(struct chr_job_state, stats.error_count)},
    {"errorsSinceLastSuccess", 0, INT64_MAX, 0,
     offsetof(struct chr_job_state, stats.errors_since_last_success)},
    {"lastSuccess", I64_ANY, INT64_MIN, offsetof(struct chr_job_state, stats.last_success_ms)},
    {"lastError", I64_ANY, INT64_MIN, offsetof(struct chr_job_state, stats.last_error_ms)},
    {"next", I64_ANY, INT64_MAX, offsetof(struct chr_job_state, next_ms)},
    {"handled", 0, INT64_MAX, 0, offsetof(struct chr_job_state, instants_handled)},
    {"epoch", 0, INT64_MAX, 0, offsetof(struct chr_job_state, schedule_epoch)},
    {"lastRunDue", I64_ANY, INT64_MIN, offsetof(struct chr_job_state, last_run_due_ms)},
    {"launchFailures", 0, INT64_MAX, 0, offsetof(struct chr_job_state, launch_failures)},
    {"taskTimeMs", 0, INT64_MAX, 0, offsetof(struct chr_job_state, stats.task_time_ms)},
};

/* Every member but taskTimeMs and history must be there. */
#define FAST_REQUIRED (((1u << FK_N) - 1) & ~(1u << 10) & ~(1u << FK_HISTORY))

static int fast_key_of(const char *k, size_t n)
{
    static const char *const rest[] = {"parentSuccesses", "flagged", "ledger", "history"};
    for (int i = 0; i < FK_PARENTS; i++)
        if (strlen(fast_ints[i].key) == n && memcmp(fast_ints[i].key, k, n) == 0)
            return i;
    for (int i = 0; i < FK_N - FK_PARENTS; i++)
        if (strlen(rest[i]) == n && memcmp(rest[i], k, n) == 0)
            return FK_PARENTS + i;
    return -1;
}

static bool fast_parents(struct chr_jscan *s, struct chr_job_state *st)
{
    uint32_t v[CHR_JOB_PARENTS_MAX];
    size_t n = 0;
    int64_t x = 0;
    if (!chr_jscan_take(s, '['))
        return false;
    if (!chr_jscan_take(s, ']')) {
        do {
            if (n == CHR_JOB_PARENTS_MAX || !chr_jscan_int(s, &x) || x < 0 || x > UINT32_MAX)
                return false;
            v[n++] = (uint32_t)x;
        } while (chr_jscan_take(s, ','));
        if (!chr_jscan_take(s, ']'))
            return false;
    }
    if (n == 0)
        return true;
    if ((st->parent_successes = chr_calloc(n, sizeof *v)) == NULL)
        return false; /* the full decoder meets the shortage and says so */
    memcpy(st->parent_successes, v, n * sizeof *v);
    st->n_parent_successes = (uint32_t)n;
    return true;
}

static bool fast_member(struct chr_jscan *s, int k, struct chr_job_state *st)
{
    if (k < FK_PARENTS) {
        int64_t *slot = (int64_t *)(void *)((char *)st + fast_ints[k].off), v = 0;
        if (fast_ints[k].null_as != 0 && chr_jscan_null(s)) {
            *slot = fast_ints[k].null_as;
            return true;
        }
        if (!chr_jscan_int(s, &v) || v < fast_ints[k].lo || v > fast_ints[k].hi)
            return false;
        *slot = v;
        return true;
    }
    if (k == FK_PARENTS)
        return fast_parents(s, st);
    if (k == FK_FLAGGED)
        return chr_jscan_bool(s, &st->flagged);
    /* ledger, history: empty only here (an idle job's); entries: the full decoder */
    return chr_jscan_take(s, '[') && chr_jscan_take(s, ']');
}

/* The state node in `text` when it has the plain shape chr_state_to_json
 * writes (and chr_state_from_json would read it the same), into *out; false
 * (out initialised, nothing held) for anything else, which the full decoder
 * then reads. */
static bool fast_state(const char *text, size_t len, struct chr_job_state *out)
{
    struct chr_jscan s;
    uint32_t seen = 0;
    chr_jscan_init(&s, text, len);
    chr_job_state_init(out);
    bool ok = chr_jscan_take(&s, '{');
    while (ok) {
        const char *k = NULL;
        size_t n = 0;
        int i = -1;
        ok = chr_jscan_string(&s, &k, &n) && chr_jscan_take(&s, ':') &&
             (i = fast_key_of(k, n)) >= 0 && !(seen & 1u << i);
        if (ok) {
            seen |= 1u << i;
            ok = fast_member(&s, i, out);
        }
        if (ok && !chr_jscan_take(&s, ','))
            break;
    }
    ok = ok && chr_jscan_take(&s, '}') && chr_jscan_done(&s) &&
         (seen & FAST_REQUIRED) == FAST_REQUIRED;
    if (!ok)
        chr_job_state_free(out);
    return ok;
}

enum chr_err chr_state_from_json(const char *text, size_t len, struct chr_job_state *out,
                                 struct chr_error *err)
{
    if (fast_state(text, len, out)) {
        CHR_ASSERT(state_bounded(out));
        return CHR_OK;
    }
    return chr_state_from_json_full(text, len, out, err);
}

enum chr_err chr_state_from_json_full(const char *text, size_t len, struct chr_job_state *out,
                                      struct chr_error *err)
{
    chr_job_state_init(out);
    json_error_t jerr;
    json_t *o = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
    if (!json_is_object(o)) {
        json_decref(o);
        return chr_error_set(err, CHR_EINVAL, "state", "not a JSON object");
    }
    enum chr_err e;
    if ((e = state_stats(o, out, err)) != CHR_OK || (e = state_parents(o, out, err)) != CHR_OK ||
        (e = state_ledger(o, out, err)) != CHR_OK || (e = state_history(o, out, err)) != CHR_OK)
        chr_job_state_free(out);
    else
        CHR_ASSERT(state_bounded(out)); /* what was read, as the checks above took it */
    json_decref(o);
    return e;
}

/* The cause and state chr_run_from_json reads a run node with. */
static bool run_shaped(const struct chr_run *r)
{
    return r->cause >= CHR_CAUSE_SCHEDULED && r->cause <= CHR_CAUSE_RETRY &&
           r->state >= CHR_RUN_RECORDING && r->state <= CHR_RUN_LOST && r->attempt >= 0;
}

char *chr_run_to_json(const struct chr_run *r, size_t *len)
{
    CHR_ASSERT(run_shaped(r));
    json_t *v = json_pack("{s:s,s:s,s:i,s:i,s:I,s:i,s:o,s:o,s:o,s:o,s:i,s:s,s:o,s:I}",
                          "id", r->id, "job", r->job, "cause", (int)r->cause, "state",
                          (int)r->state, "due", (json_int_t)r->due_ms, "attempt", (int)r->attempt,
                          "created", ms_or_null(r->created_ms), "launched",
                          ms_or_null(r->launched_ms), "started", ms_or_null(r->started_ms),
                          "ended", ms_or_null(r->ended_ms), "exitCode", (int)r->exit_code,
                          "reason", r->reason, "arguments",
                          r->arguments ? json_string(r->arguments) : json_null(), "offer",
                          (json_int_t)r->offer_id);
    /* Only when set: a record without it (an older one) reads as false. */
    if (v != NULL && r->wait_notified && json_object_set_new(v, "waitNotified", json_true()) != 0) {
        json_decref(v);
        return NULL;
    }
    return chr_json_dump(v, len);
}

static enum chr_err copy_text(json_t *o, const char *key, char *dst, size_t cap,
                              struct chr_error *err)
{
    json_t *v = json_object_get(o, key);
    if (!json_is_string(v) || json_string_length(v) >= cap)
        return chr_error_set(err, CHR_EINVAL, key, "expected a string under %zu bytes", cap);
    memcpy(dst, json_string_value(v), json_string_length(v) + 1);
    return CHR_OK;
}

static enum chr_err run_fields(json_t *o, struct chr_run *r, struct chr_error *err)
{
    int64_t cause, state, attempt, code, offer;
    enum chr_err e;
    if ((e = copy_text(o, "id", r->id, sizeof r->id, err)) ||
        (e = copy_text(o, "job", r->job, sizeof r->job, err)) ||
        (e = copy_text(o, "reason", r->reason, sizeof r->reason, err)) ||
        (e = get_int(o, "cause", CHR_CAUSE_SCHEDULED, CHR_CAUSE_RETRY, 0, &cause, err)) ||
        (e = get_int(o, "state", CHR_RUN_RECORDING, CHR_RUN_LOST, 0, &state, err)) ||
        (e = get_int(o, "due", I64_ANY, 0, &r->due_ms, err)) ||
        (e = get_int(o, "attempt", 0, CHR_JOB_RETRIES_MAX + 1, 0, &attempt, err)) ||
        (e = get_int(o, "created", I64_ANY, INT64_MIN, &r->created_ms, err)) ||
        (e = get_int(o, "launched", I64_ANY, INT64_MIN, &r->launched_ms, err)) ||
        (e = get_int(o, "started", I64_ANY, INT64_MIN, &r->started_ms, err)) ||
        (e = get_int(o, "ended", I64_ANY, INT64_MIN, &r->ended_ms, err)) ||
        (e = get_int(o, "exitCode", -1, 255, 0, &code, err)) ||
        (e = get_int(o, "offer", 0, INT64_MAX, 0, &offer, err)))
        return e;
    r->cause = (enum chr_run_cause)cause;
    r->state = (enum chr_run_state)state;
    r->attempt = (int32_t)attempt;
    r->exit_code = (int32_t)code;
    r->offer_id = (uint64_t)offer;
    json_t *args = json_object_get(o, "arguments");
    if (json_is_string(args)) {
        r->arguments = chr_strndup(json_string_value(args), json_string_length(args));
        if (r->arguments == NULL)
            return CHR_ENOMEM;
    } else if (!json_is_null(args)) {
        return chr_error_set(err, CHR_EINVAL, "arguments", "expected a string or null");
    }
    json_t *told = json_object_get(o, "waitNotified");
    if (told != NULL && !json_is_boolean(told))
        return chr_error_set(err, CHR_EINVAL, "waitNotified", "expected true or false");
    r->wait_notified = json_is_true(told);
    return CHR_OK;
}

enum chr_err chr_run_from_json(const char *text, size_t len, struct chr_run *out,
                               struct chr_error *err)
{
    memset(out, 0, sizeof *out);
    json_error_t jerr;
    json_t *o = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
    enum chr_err e = json_is_object(o) ? run_fields(o, out, err)
                                       : chr_error_set(err, CHR_EINVAL, "run", "not a JSON object");
    if (e != CHR_OK) {
        chr_free(out->arguments);
        out->arguments = NULL;
    } else {
        CHR_ASSERT(run_shaped(out)); /* what was read, as run_fields took it */
    }
    json_decref(o);
    return e;
}
