/*
 * notify_rec.c - the outbox record's JSON, the messages made of it, and the
 * retry backoff (notify_rec.h).  The record keeps what the message needs
 * when it is sent, perhaps days later or by another leader: the job may be
 * gone or changed by then.  No I/O, no clock.
 */
#include "server/notify_rec.h"

#include <jansson.h>
#include <stdio.h>
#include <string.h>

#include "common/alloc.h"
#include "common/assert.h"
#include "common/sb.h"
#include "common/sha256.h"
#include "iso8601/iso8601.h"

static const char *const sink_names[CHR_SINKS] = {"mail", "webhook", "slack", "mattermost",
                                                  "sentry"};

const char *chr_notify_sink_name(enum chr_notify_sink s)
{
    return (unsigned)s < CHR_SINKS ? sink_names[s] : "?";
}

const char *chr_notify_event_name(enum chr_notice_kind k)
{
    return chr_notice_kind_name(k);
}

enum chr_notice_kind chr_notify_event_of(const char *name, size_t len)
{
    return chr_notice_kind_of(name, len);
}

bool chr_notify_events_parse(const char *list, const char *field, uint32_t *mask,
                             struct chr_error *err)
{
    *mask = 0;
    if (strcmp(list, "none") == 0 || list[0] == '\0')
        return true;
    if (strcmp(list, "all") == 0) {
        *mask = CHR_NOTICE_SWITCHABLE;
        return true;
    }
    for (const char *p = list; *p;) {
        size_t n = strcspn(p, ", ");
        enum chr_notice_kind k = chr_notify_event_of(p, n);
        if (n > 0 && (k == 0 || k == CHR_NOTICE_TEST)) {
            chr_error_set(err, CHR_EINVAL, field,
                          "unknown event '%.*s' (" CHR_NOTIFY_EVENT_LIST "; all; none)",
                          (int)(n > 40 ? 40 : n), p);
            return false;
        }
        if (n > 0)
            *mask |= 1u << k;
        p += n;
        p += strspn(p, ", ");
    }
    return true;
}

void chr_notify_rec_free(struct chr_notify_rec *r)
{
    if (r == NULL)
        return;
    chr_free(r->owner);
    for (size_t i = 0; i < r->n_fields; i++)
        chr_free(r->fields[i].value);
    memset(r, 0, sizeof *r);
}

/* ---- Making a record ----------------------------------------------------------- */

static char *cut_dup(const char *s)
{
    s = s != NULL ? s : "";
    size_t n = strlen(s);
    return chr_strndup(s, n < CHR_NOTIFY_TEXT_MAX ? n : CHR_NOTIFY_TEXT_MAX - 1);
}

static bool field_add(struct chr_notify_rec *r, const char *name, const char *value)
{
    CHR_ASSERT(r->n_fields < CHR_NOTIFY_FIELDS_MAX && strlen(name) < sizeof r->fields[0].name);
    struct chr_notify_field *f = &r->fields[r->n_fields];
    if ((f->value = cut_dup(value)) == NULL)
        return false;
    snprintf(f->name, sizeof f->name, "%s", name);
    r->n_fields++;
    return true;
}

static bool field_int(struct chr_notify_rec *r, const char *name, long long v)
{
    char buf[32];
    snprintf(buf, sizeof buf, "%lld", v);
    return field_add(r, name, buf);
}

static bool field_num(struct chr_notify_rec *r, const char *name, double v)
{
    char buf[48];
    snprintf(buf, sizeof buf, "%g", v);
    return field_add(r, name, buf);
}

static bool field_instant(struct chr_notify_rec *r, const char *name, int64_t ms)
{
    char buf[CHR_INSTANT_TEXT_MAX] = "";
    if (ms != INT64_MIN && ms != INT64_MAX)
        chr_instant_format(ms, buf);
    return field_add(r, name, buf);
}

/* Chronos's members of the HTTP notification (docs/operations.md "Notifications"). */
static bool job_fields(struct chr_notify_rec *r, const struct chr_job *j,
                       const struct chr_job_stats *s)
{
    return field_add(r, "command", j->command) && field_num(r, "cpus", j->cpus) &&
           field_add(r, "softError", j->soft_error ? "true" : "false") &&
           field_int(r, "errorCount", (long long)s->error_count) &&
           field_int(r, "errorsSinceLastSuccess", (long long)s->errors_since_last_success) &&
           field_add(r, "executor", j->executor) &&
           field_add(r, "executorFlags", j->executor_flags) &&
           field_instant(r, "lastError", s->last_error_ms) &&
           field_instant(r, "lastSuccess", s->last_success_ms) &&
           field_num(r, "mem", j->mem_mb) && field_int(r, "retries", j->retries) &&
           field_int(r, "successCount", (long long)s->success_count) &&
           field_add(r, "uris", j->uris_json);
}

enum chr_err chr_notify_rec_make(const struct chr_notice *n, const char *id, int64_t at_ms,
                                 uint32_t sinks, struct chr_notify_rec *out)
{
    memset(out, 0, sizeof *out);
    snprintf(out->id, sizeof out->id, "%s", id);
    out->kind = n->kind;
    out->at_ms = at_ms;
    snprintf(out->job, sizeof out->job, "%s", n->job != NULL ? n->job->name : "");
    snprintf(out->run_id, sizeof out->run_id, "%s", n->run_id);
    snprintf(out->reason, sizeof out->reason, "%s", n->reason);
    out->attempt = n->attempt;
    out->exit_code = n->exit_code;
    out->started_ms = n->started_ms;
    out->ended_ms = n->ended_ms;
    out->count = n->count;
    out->first_ms = n->first_ms;
    out->last_ms = n->last_ms;
    out->sinks = sinks;
    bool ok = (out->owner = cut_dup(n->job != NULL ? n->job->owner : "")) != NULL;
    if (ok && n->job != NULL)
        ok = job_fields(out, n->job, &n->stats);
    if (!ok) {
        chr_notify_rec_free(out);
        return CHR_ENOMEM;
    }
    return CHR_OK;
}

/* ---- The record's JSON ------------------------------------------------------------- */

static json_t *ms_json(int64_t ms)
{
    return ms == INT64_MIN || ms == INT64_MAX ? json_null() : json_integer(ms);
}

char *chr_notify_rec_encode(const struct chr_notify_rec *r, size_t *len)
{
    CHR_ASSERT(chr_notify_event_name(r->kind) != NULL);
    json_t *fields = json_object();
    for (size_t i = 0; fields != NULL && i < r->n_fields; i++)
        json_object_set_new(fields, r->fields[i].name, json_string(r->fields[i].value));
    json_t *o = json_pack("{s:i,s:s,s:s,s:I,s:s,s:s,s:s,s:i,s:i,s:o,s:o,s:s,s:I,s:o,s:o,s:i,s:o}",
                          "v", 1, "id", r->id, "event", chr_notify_event_name(r->kind), "at",
                          (json_int_t)r->at_ms, "job", r->job, "owner", r->owner ? r->owner : "",
                          "run", r->run_id, "attempt", (int)r->attempt, "exitCode",
                          (int)r->exit_code, "started", ms_json(r->started_ms), "ended",
                          ms_json(r->ended_ms), "reason", r->reason, "count",
                          (json_int_t)r->count, "first", ms_json(r->first_ms), "last",
                          ms_json(r->last_ms), "sinks", (int)r->sinks, "fields", fields);
    if (o == NULL)
        return NULL;
    char *text = json_dumps(o, JSON_COMPACT);
    json_decref(o);
    if (text == NULL)
        return NULL;
    size_t n = strlen(text);
    char *copy = chr_strndup(text, n);
    free(text); /* lint: allow (jansson's allocation) */
    CHR_ASSERT(copy == NULL || n <= CHR_NOTIFY_REC_MAX);
    if (len != NULL)
        *len = n;
    return copy;
}

static enum chr_err text_into(json_t *o, const char *key, char *dst, size_t cap,
                              struct chr_error *err)
{
    json_t *v = json_object_get(o, key);
    if (!json_is_string(v) || json_string_length(v) >= cap ||
        strlen(json_string_value(v)) != json_string_length(v))
        return chr_error_set(err, CHR_EINVAL, key, "expected a string under %zu bytes", cap);
    memcpy(dst, json_string_value(v), json_string_length(v) + 1);
    return CHR_OK;
}

static enum chr_err int_of(json_t *o, const char *key, int64_t lo, int64_t hi, bool nullable,
                           int64_t *out, struct chr_error *err)
{
    json_t *v = json_object_get(o, key);
    if (nullable && json_is_null(v)) {
        *out = INT64_MIN;
        return CHR_OK;
    }
    if (!json_is_integer(v) || json_integer_value(v) < lo || json_integer_value(v) > hi)
        return chr_error_set(err, CHR_EINVAL, key, "expected an integer %lld..%lld",
                             (long long)lo, (long long)hi);
    *out = json_integer_value(v);
    return CHR_OK;
}

static enum chr_err decode_fields(json_t *o, struct chr_notify_rec *r, struct chr_error *err)
{
    json_t *f = json_object_get(o, "fields");
    if (!json_is_object(f) || json_object_size(f) > CHR_NOTIFY_FIELDS_MAX)
        return chr_error_set(err, CHR_EINVAL, "fields", "expected an object of at most %d",
                             CHR_NOTIFY_FIELDS_MAX);
    const char *key;
    json_t *v;
    json_object_foreach(f, key, v) {
        if (!json_is_string(v) || json_string_length(v) >= CHR_NOTIFY_TEXT_MAX ||
            strlen(key) >= sizeof r->fields[0].name ||
            strlen(json_string_value(v)) != json_string_length(v))
            return chr_error_set(err, CHR_EINVAL, "fields", "member '%.32s' is not a short string",
                                 key);
        if (!field_add(r, key, json_string_value(v)))
            return CHR_ENOMEM;
    }
    return CHR_OK;
}

static enum chr_err decode_obj(json_t *o, struct chr_notify_rec *r, struct chr_error *err)
{
    int64_t v, attempt, code, sinks, at;
    char event[32], owner[CHR_NOTIFY_TEXT_MAX];
    enum chr_err e;
    if ((e = int_of(o, "v", 1, 1, false, &v, err)) ||
        (e = text_into(o, "id", r->id, sizeof r->id, err)) ||
        (e = text_into(o, "event", event, sizeof event, err)) ||
        (e = int_of(o, "at", 0, INT64_MAX - 1, false, &at, err)) ||
        (e = text_into(o, "job", r->job, sizeof r->job, err)) ||
        (e = text_into(o, "owner", owner, sizeof owner, err)) ||
        (e = text_into(o, "run", r->run_id, sizeof r->run_id, err)) ||
        (e = int_of(o, "attempt", 0, INT32_MAX, false, &attempt, err)) ||
        (e = int_of(o, "exitCode", -1, 255, false, &code, err)) ||
        (e = int_of(o, "started", INT64_MIN + 1, INT64_MAX - 1, true, &r->started_ms, err)) ||
        (e = int_of(o, "ended", INT64_MIN + 1, INT64_MAX - 1, true, &r->ended_ms, err)) ||
        (e = text_into(o, "reason", r->reason, sizeof r->reason, err)) ||
        (e = int_of(o, "count", 0, INT64_MAX - 1, false, &r->count, err)) ||
        (e = int_of(o, "first", INT64_MIN + 1, INT64_MAX - 1, true, &r->first_ms, err)) ||
        (e = int_of(o, "last", INT64_MIN + 1, INT64_MAX - 1, true, &r->last_ms, err)) ||
        (e = int_of(o, "sinks", 0, (1 << CHR_SINKS) - 1, false, &sinks, err)))
        return e;
    r->kind = chr_notify_event_of(event, strlen(event));
    if (r->kind == 0)
        return chr_error_set(err, CHR_EINVAL, "event", "unknown event '%s'", event);
    if (r->id[0] == '\0' || strspn(r->id, "0123456789abcdef-") != strlen(r->id))
        return chr_error_set(err, CHR_EINVAL, "id", "expected digits, hex and '-'");
    r->at_ms = at;
    r->attempt = (int32_t)attempt;
    r->exit_code = (int32_t)code;
    r->sinks = (uint32_t)sinks;
    if ((r->owner = chr_strndup(owner, strlen(owner))) == NULL)
        return CHR_ENOMEM;
    return decode_fields(o, r, err);
}

enum chr_err chr_notify_rec_decode(const char *text, size_t len, struct chr_notify_rec *out,
                                   struct chr_error *err)
{
    memset(out, 0, sizeof *out);
    if (len > CHR_NOTIFY_REC_MAX)
        return chr_error_set(err, CHR_EINVAL, "outbox", "a record larger than %d bytes",
                             CHR_NOTIFY_REC_MAX);
    json_error_t jerr;
    json_t *o = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
    enum chr_err e = json_is_object(o) ? decode_obj(o, out, err)
                                       : chr_error_set(err, CHR_EINVAL, "outbox",
                                                       "not a JSON object");
    json_decref(o);
    if (e != CHR_OK)
        chr_notify_rec_free(out);
    return e;
}

/* ---- Messages ----------------------------------------------------------------------- */

void chr_notify_subject(const struct chr_notify_rec *r, const char *cluster, char *buf,
                        size_t cap)
{
    char pre[160] = "";
    if (cluster != NULL && cluster[0] != '\0')
        snprintf(pre, sizeof pre, "[%.120s] ", cluster);
    const char *j = r->job;
    switch (r->kind) {
    case CHR_NOTICE_FAILED: snprintf(buf, cap, "%s[Chronos] job '%s' failed!", pre, j); break;
    case CHR_NOTICE_DISABLED: snprintf(buf, cap, "%s[Chronos] job '%s' disabled", pre, j); break;
    case CHR_NOTICE_DELETED:
        snprintf(buf, cap, "%s[Chronos] Your job '%s' was deleted!", pre, j);
        break;
    case CHR_NOTICE_EXHAUSTED:
        snprintf(buf, cap, "%s[Chronos] job '%s' exhausted all of its recurrences", pre, j);
        break;
    case CHR_NOTICE_LOST: snprintf(buf, cap, "%s[Chronos] job '%s': run lost", pre, j); break;
    case CHR_NOTICE_TIMEOUT:
        snprintf(buf, cap, "%s[Chronos] job '%s': run killed after its maxCompletionTime", pre, j);
        break;
    case CHR_NOTICE_SKIPPED:
        snprintf(buf, cap, "%s[Chronos] job '%s': %lld instants did not run", pre, j,
                 (long long)r->count);
        break;
    case CHR_NOTICE_RECOVERED:
        snprintf(buf, cap, "%s[Chronos] job '%s' recovered", pre, j);
        break;
    case CHR_NOTICE_WAITING:
        snprintf(buf, cap, "%s[Chronos] job '%s': run waiting for resources", pre, j);
        break;
    case CHR_NOTICE_TEST:
        snprintf(buf, cap, "%s[Chronos] test notification%s%s", pre, j[0] ? " for job " : "", j);
        break;
    }
}

static const char *field(const struct chr_notify_rec *r, const char *name)
{
    for (size_t i = 0; i < r->n_fields; i++)
        if (strcmp(r->fields[i].name, name) == 0)
            return r->fields[i].value;
    return "";
}

static void put_instant(struct chr_sb *b, const char *label, int64_t ms)
{
    char t[CHR_INSTANT_TEXT_MAX];
    if (ms == INT64_MIN || ms == INT64_MAX)
        return;
    chr_instant_format(ms, t);
    chr_sb_fmt(b, "%s: %s\n", label, t);
}

/* The one-paragraph message: Chronos's sentence, then our details. */
static void message(struct chr_sb *b, const struct chr_notify_rec *r,
                    const struct chr_notify_render *how)
{
    switch (r->kind) {
    case CHR_NOTICE_FAILED:
        chr_sb_fmt(b, "Job '%.200s' failed", r->job);
        chr_sb_fmt(b, " after %d retries.\n", r->attempt);
        break;
    case CHR_NOTICE_DISABLED:
        chr_sb_fmt(b, "Job '%.200s' was disabled after ", r->job);
        chr_sb_str(b, field(r, "errorsSinceLastSuccess"));
        chr_sb_str(b, " failures in a row (disable_after_failures).\n");
        break;
    case CHR_NOTICE_EXHAUSTED:
        chr_sb_fmt(b, "Job '%.200s' has exhausted all of its recurrences.\n", r->job);
        break;
    case CHR_NOTICE_DELETED: chr_sb_fmt(b, "Job '%.200s' was deleted.\n", r->job); break;
    case CHR_NOTICE_LOST: chr_sb_fmt(b, "A run of job '%.200s' was lost.\n", r->job); break;
    case CHR_NOTICE_TIMEOUT:
        chr_sb_fmt(b, "A run of job '%.200s' exceeded its maxCompletionTime.\n", r->job);
        break;
    case CHR_NOTICE_SKIPPED:
        chr_sb_fmt(b, "%lld instants of job '%.200s' did not run: ", (long long)r->count, r->job);
        chr_sb_str(b, r->reason);
        chr_sb_str(b, ".\n");
        put_instant(b, "first", r->first_ms);
        put_instant(b, "last", r->last_ms);
        break;
    case CHR_NOTICE_RECOVERED: chr_sb_fmt(b, "Job '%.200s' succeeded again.\n", r->job); break;
    case CHR_NOTICE_WAITING:
        chr_sb_fmt(b, "A run of job '%.200s' has waited for resources", r->job);
        if (r->first_ms != INT64_MIN && r->last_ms >= r->first_ms)
            chr_sb_fmt(b, " for %.1f s", (double)(r->last_ms - r->first_ms) / 1000.0);
        chr_sb_str(b, ": no offer fits it.\n");
        put_instant(b, "waiting since", r->first_ms);
        break;
    case CHR_NOTICE_TEST: chr_sb_str(b, "A test notification from chronos.\n"); break;
    }
    if (r->run_id[0] != '\0') {
        chr_sb_str(b, "run: ");
        chr_sb_str(b, r->run_id);
        chr_sb_fmt(b, "\nattempt: %d\n", r->attempt);
        if (r->ended_ms != INT64_MIN) /* a run still waiting has none */
            chr_sb_fmt(b, "exit code: %d\n", r->exit_code);
        if (r->reason[0] != '\0' && r->kind != CHR_NOTICE_SKIPPED) {
            chr_sb_str(b, "reason: ");
            chr_sb_str(b, r->reason);
            chr_sb_ch(b, '\n');
        }
        if (r->started_ms != INT64_MIN && r->ended_ms >= r->started_ms)
            chr_sb_fmt(b, "duration: %.3f s\n", (double)(r->ended_ms - r->started_ms) / 1000.0);
        if (how->link_base != NULL && how->link_base[0] != '\0') {
            chr_sb_str(b, "link: ");
            chr_sb_str(b, how->link_base);
            chr_sb_str(b, "/runs/");
            chr_sb_str(b, r->run_id);
            chr_sb_ch(b, '\n');
        }
    } else if (how->link_base != NULL && how->link_base[0] != '\0' && r->job[0] != '\0' &&
               r->kind != CHR_NOTICE_DELETED) {
        chr_sb_str(b, "link: ");
        chr_sb_str(b, how->link_base);
        chr_sb_str(b, "/jobs/");
        chr_sb_str(b, r->job);
        chr_sb_ch(b, '\n');
    }
}

char *chr_notify_text(const struct chr_notify_rec *r, const struct chr_notify_render *how)
{
    struct chr_sb b = {0};
    message(&b, r, how);
    if (r->job[0] != '\0' && r->n_fields > 0) {
        chr_sb_str(&b, "command: ");
        chr_sb_str(&b, field(r, "command"));
        chr_sb_str(&b, "\nerrors since last success: ");
        chr_sb_str(&b, field(r, "errorsSinceLastSuccess"));
        chr_sb_ch(&b, '\n');
    }
    if (how->stderr_tail != NULL && how->stderr_tail[0] != '\0') {
        chr_sb_str(&b, "\nlast lines of stderr:\n");
        chr_sb_str(&b, how->stderr_tail);
        if (b.len > 0 && b.p[b.len - 1] != '\n')
            chr_sb_ch(&b, '\n');
    }
    chr_sb_str(&b, "\nnotification id: ");
    chr_sb_str(&b, r->id);
    chr_sb_ch(&b, '\n');
    return chr_sb_finish(&b, NULL);
}

static void member(struct chr_sb *b, const char *name, const char *value)
{
    if (b->len > 1)
        chr_sb_ch(b, ',');
    chr_sb_json_str(b, name);
    chr_sb_ch(b, ':');
    chr_sb_json_str(b, value);
}

char *chr_notify_webhook_body(const struct chr_notify_rec *r, const struct chr_notify_render *how,
                              size_t *len)
{
    char subject[512], num[32];
    chr_notify_subject(r, how->cluster, subject, sizeof subject);
    struct chr_sb b = {0}, m = {0};
    message(&m, r, how);
    char *msg = chr_sb_finish(&m, NULL);
    chr_sb_ch(&b, '{');
    member(&b, "subject", subject);
    member(&b, "message", msg != NULL ? msg : "");
    chr_free(msg);
    member(&b, "to", r->owner ? r->owner : "");
    member(&b, "job", r->job);
    for (size_t i = 0; i < r->n_fields; i++)
        member(&b, r->fields[i].name, r->fields[i].value);
    member(&b, "id", r->id);
    member(&b, "event", chr_notify_event_name(r->kind));
    member(&b, "runId", r->run_id);
    snprintf(num, sizeof num, "%d", r->exit_code);
    member(&b, "exitCode", r->run_id[0] && r->ended_ms != INT64_MIN ? num : "");
    member(&b, "reason", r->reason);
    num[0] = '\0';
    if (r->started_ms != INT64_MIN && r->ended_ms >= r->started_ms)
        snprintf(num, sizeof num, "%lld", (long long)(r->ended_ms - r->started_ms));
    member(&b, "durationMs", num);
    member(&b, "stderr", how->stderr_tail ? how->stderr_tail : "");
    struct chr_sb l = {0};
    if (how->link_base != NULL && how->link_base[0] != '\0' && r->job[0] != '\0') {
        chr_sb_str(&l, how->link_base);
        chr_sb_str(&l, r->run_id[0] ? "/runs/" : "/jobs/");
        chr_sb_str(&l, r->run_id[0] ? r->run_id : r->job);
    }
    char *link = chr_sb_finish(&l, NULL);
    member(&b, "link", link != NULL ? link : "");
    chr_free(link);
    chr_sb_ch(&b, '}');
    return chr_sb_finish(&b, len);
}

char *chr_notify_chat_body(const struct chr_notify_rec *r, const struct chr_notify_render *how,
                           size_t *len)
{
    char subject[512];
    chr_notify_subject(r, how->cluster, subject, sizeof subject);
    char *text = chr_notify_text(r, how);
    struct chr_sb b = {0};
    chr_sb_str(&b, "{\"text\":\"");
    chr_sb_json_body(&b, subject);
    chr_sb_str(&b, "\\n");
    chr_sb_json_body(&b, text != NULL ? text : "");
    chr_sb_str(&b, "\"}");
    if (text == NULL)
        chr_sb_fail(&b);
    chr_free(text);
    return chr_sb_finish(&b, len);
}

/* ---- Sentry ------------------------------------------------------------------------- */

/* The DSN's parts: "<scheme>://<userinfo>@<hostport><path>". */
static bool dsn_split(const char *dsn, const char **scheme_end, const char **at, const char **slash)
{
    const char *p = strstr(dsn, "://");
    if (p == NULL)
        return false;
    *scheme_end = p;
    const char *host = p + 3;
    *at = strchr(host, '@');
    if (*at == NULL)
        return false;
    *slash = strchr(*at, '/');
    return *slash != NULL;
}

static bool word_ok(const char *s, size_t n, size_t cap)
{
    if (n == 0 || n >= cap)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') ||
              (s[i] >= '0' && s[i] <= '9') || s[i] == '-' || s[i] == '_'))
            return false;
    return true;
}

enum chr_err chr_notify_sentry_dsn(const char *dsn, const char *field, struct chr_sentry_dsn *out,
                                   struct chr_error *err)
{
    const char *se, *at, *slash, *want = "<scheme>://<key>@<host>/<project_id>";
    memset(out, 0, sizeof *out);
    if (strlen(dsn) >= sizeof out->store_url - 32 || strpbrk(dsn, "?# \t\r\n") != NULL ||
        !dsn_split(dsn, &se, &at, &slash))
        return chr_error_set(err, CHR_EINVAL, field, "not a Sentry DSN (%s)", want);
    size_t sl = (size_t)(se - dsn);
    if (!((sl == 4 && strncmp(dsn, "http", 4) == 0) || (sl == 5 && strncmp(dsn, "https", 5) == 0)))
        return chr_error_set(err, CHR_EINVAL, field, "the scheme is not http or https");
    const char *user = se + 3, *colon = memchr(user, ':', (size_t)(at - user));
    size_t kl = colon ? (size_t)(colon - user) : (size_t)(at - user);
    size_t xl = colon ? (size_t)(at - colon - 1) : 0;
    if (!word_ok(user, kl, sizeof out->key) ||
        (colon != NULL && !word_ok(colon + 1, xl, sizeof out->secret)))
        return chr_error_set(err, CHR_EINVAL, field, "the key (and secret) before '@' must be "
                             "letters, digits, '-' or '_'");
    if (slash == at + 1 || memchr(at + 1, '@', (size_t)(slash - at - 1)) != NULL)
        return chr_error_set(err, CHR_EINVAL, field, "no host after '@'");
    const char *id = strrchr(slash, '/') + 1;
    if (id[0] == '\0' || strspn(id, "0123456789") != strlen(id) || strlen(id) > 20)
        return chr_error_set(err, CHR_EINVAL, field, "the path must end with the project's "
                             "number (%s)", want);
    memcpy(out->key, user, kl);
    if (colon)
        memcpy(out->secret, colon + 1, xl);
    /* <scheme>://<host><path up to the id>api/<id>/store/ */
    snprintf(out->store_url, sizeof out->store_url, "%.*s://%.*s%.*sapi/%s/store/", (int)sl, dsn,
             (int)(slash - at - 1), at + 1, (int)(id - slash), slash, id);
    return CHR_OK;
}

void chr_notify_sentry_auth(const struct chr_sentry_dsn *dsn, char *buf, size_t cap)
{
    snprintf(buf, cap, "Sentry sentry_version=7, sentry_client=chronos, sentry_key=%s%s%s",
             dsn->key, dsn->secret[0] ? ", sentry_secret=" : "", dsn->secret);
}

/* A tag's value: Sentry keeps at most 200 characters of one. */
static json_t *tag(const char *s)
{
    size_t n = strlen(s);
    return json_stringn(s, n > 200 ? 200 : n);
}

/* The run's figures and the link, as Sentry's "extra". */
static json_t *sentry_extra(const struct chr_notify_rec *r, const struct chr_notify_render *how)
{
    json_t *x = json_pack("{s:s,s:s,s:s,s:s}", "runId", r->run_id, "reason", r->reason, "owner",
                          r->owner ? r->owner : "", "stderr",
                          how->stderr_tail ? how->stderr_tail : "");
    if (x != NULL && r->run_id[0] != '\0' && r->ended_ms != INT64_MIN)
        json_object_set_new(x, "exitCode", json_integer(r->exit_code));
    if (x != NULL && how->link_base != NULL && how->link_base[0] != '\0' && r->job[0] != '\0') {
        struct chr_sb l = {0};
        chr_sb_str(&l, how->link_base);
        chr_sb_str(&l, r->run_id[0] ? "/runs/" : "/jobs/");
        chr_sb_str(&l, r->run_id[0] ? r->run_id : r->job);
        char *link = chr_sb_finish(&l, NULL);
        if (link != NULL)
            json_object_set_new(x, "link", json_string(link));
        chr_free(link);
    }
    return x;
}

char *chr_notify_sentry_body(const struct chr_notify_rec *r, const struct chr_notify_render *how,
                             size_t *len)
{
    char subject[512], at[CHR_INSTANT_TEXT_MAX], event_id[2 * CHR_SHA256_LEN + 1];
    uint8_t h[CHR_SHA256_LEN];
    chr_sha256(r->id, strlen(r->id), h);
    chr_hex(h, 16, event_id); /* 32 hex digits, as Sentry wants; the same for the same id */
    chr_notify_subject(r, how->cluster, subject, sizeof subject);
    chr_instant_format(r->at_ms, at);
    char *text = chr_notify_text(r, how);
    struct chr_sb m = {0};
    chr_sb_str(&m, subject);
    chr_sb_ch(&m, '\n');
    chr_sb_str(&m, text != NULL ? text : "");
    if (text == NULL)
        chr_sb_fail(&m);
    chr_free(text);
    char *msg = chr_sb_finish(&m, NULL);
    json_t *extra = msg != NULL ? sentry_extra(r, how) : NULL;
    json_t *o = extra == NULL ? NULL
        : json_pack("{s:s,s:s,s:s,s:s,s:s,s:{s:s},s:{s:o,s:o,s:o,s:o},s:o}",
                    "event_id", event_id, "timestamp", at, "level", "error", "logger", "chronos",
                    "platform", "other", "message", "formatted", msg, "tags", "job", tag(r->job),
                    "cluster", tag(how->cluster ? how->cluster : ""), "event",
                    tag(chr_notify_event_name(r->kind)), "notification_id", tag(r->id), "extra",
                    extra);
    chr_free(msg);
    if (o == NULL)
        return NULL;
    char *out = json_dumps(o, JSON_COMPACT);
    json_decref(o);
    if (out == NULL)
        return NULL;
    size_t n = strlen(out);
    char *copy = chr_strndup(out, n);
    free(out); /* lint: allow (jansson's allocation) */
    if (copy != NULL && len != NULL)
        *len = n;
    return copy;
}

/* ---- Backoff -------------------------------------------------------------------------- */

int64_t chr_notify_backoff_ms(int64_t base_ms, int64_t max_ms, uint32_t attempt, uint64_t rnd)
{
    if (base_ms < 1)
        base_ms = 1;
    if (max_ms < base_ms)
        max_ms = base_ms;
    int64_t d = base_ms;
    for (uint32_t i = 1; i < attempt && d < max_ms; i++)
        d = d > max_ms / 2 ? max_ms : d * 2;
    if (d > max_ms)
        d = max_ms;
    int64_t half = d / 2;
    return half + (int64_t)(rnd % (uint64_t)(d - half + 1));
}
