/*
 * client_jobs.c - the client commands that read stored jobs, `list` and
 * `show`, and the job requests other commands share (client.h).  They show
 * what the server answers and never judge a job themselves.
 */
#include <stdlib.h>
#include <string.h>

#include "cli/client.h"
#include "common/alloc.h"
#include "common/clock.h"

int chr_job_path(const struct chr_client *c, struct chr_path *p, const char *prefix,
                 const char *name, const char *suffix)
{
    chr_path_init(p);
    chr_path_add(p, prefix);
    chr_path_add_escaped(p, name);
    chr_path_add(p, suffix);
    return chr_path_check(c, p);
}

bool chr_job_is_dependent(const json_t *o)
{
    return json_array_size(json_object_get(o, "parents")) > 0;
}

bool chr_job_is_computed(const char *key)
{
    static const char *const computed[] = {
        "successCount", "errorCount", "lastSuccess", "lastError", "errorsSinceLastSuccess",
        /* shown in the job by servers before job/NAME/status existed */
        "nextRunAt", "remainingRepeats", "lastRunState", "taskTimeSeconds",
    };
    for (size_t i = 0; i < sizeof computed / sizeof computed[0]; i++)
        if (strcmp(computed[i], key) == 0)
            return true;
    return false;
}

int chr_client_get_job(const struct chr_client *c, const char *name, bool missing_ok,
                       json_t **job)
{
    struct chr_path p;
    struct chr_resp r;
    *job = NULL;
    int st = chr_job_path(c, &p, "/v1/scheduler/job/", name, "");
    if (st == CHR_EXIT_OK)
        st = chr_client_request(c, "GET", p.buf, NULL, &r);
    if (st != CHR_EXIT_OK)
        return st;
    if (r.status == 200) {
        *job = chr_resp_json(&r);
        st = *job ? CHR_EXIT_OK : CHR_EXIT_SERVER;
    } else if (!missing_ok || r.status < 400 || r.status >= 500) {
        st = chr_client_refused(c, &r);
    }
    chr_resp_free(&r);
    return st;
}

int chr_client_post_job(const struct chr_client *c, const json_t *job)
{
    char *body = json_dumps(job, JSON_COMPACT);
    if (body == NULL)
        return chr_client_fail(CHR_EXIT_BAD_VALUE, "out of memory");
    struct chr_resp r;
    const char *path =
        chr_job_is_dependent(job) ? "/v1/scheduler/dependency?strict=true"
                                  : "/v1/scheduler/iso8601?strict=true";
    int st = chr_client_call(c, "POST", path, body, &r);
    free(body); /* lint: allow (jansson's allocation) */
    if (st == CHR_EXIT_OK)
        chr_resp_free(&r);
    return st;
}

int chr_client_put_job(const struct chr_client *c, const json_t *job)
{
    json_t *old = NULL;
    const char *name = json_string_value(json_object_get(job, "name"));
    int st = chr_client_get_job(c, name ? name : "", true, &old);
    if (st != CHR_EXIT_OK)
        return st;
    bool existed = old != NULL;
    json_decref(old);
    if ((st = chr_client_post_job(c, job)) == CHR_EXIT_OK)
        printf("%s %s\n", existed ? "updated" : "created", name ? name : "");
    return st;
}

/* ---- list --------------------------------------------------------------- */

static const char list_help[] =
    "usage: chronos list [--json] [--server URL]\n"
    "\n"
    "Lists the jobs by name, one a line:\n"
    "  NAME              the job's name\n"
    "  SCHEDULE/PARENTS  its schedule as written, or `after a,b` for a dependent job\n"
    "  TZ                the schedule's zone (scheduleTimeZone, else UTC); `-` when\n"
    "                    dependent\n"
    "  STATUS            its last run: succeeded, failed, killed, lost, or `-` (none)\n"
    "  STATE             idle, starting, N running, retrying in 5s, or disabled\n"
    "  NEXT              when it runs next (`in 3m`), `disabled`, `-` when nothing is due\n"
    "  LAST-RUN          when its last run ended (`5s ago`), or `never`\n"
    "\n"
    "  --json        print the server's answer (GET /v1/scheduler/jobs, a JSON array)\n"
    CHR_CLIENT_SERVER_HELP;

/* jobs/summary as {name: entry}; NULL when the server has no summary. */
static int summary_by_name(const struct chr_client *c, json_t **out)
{
    struct chr_resp r;
    *out = NULL;
    int st = chr_client_request(c, "GET", "/v1/scheduler/jobs/summary", NULL, &r);
    if (st != CHR_EXIT_OK)
        return st;
    json_t *v = r.status == 200 ? json_loadb(r.body, r.len, 0, NULL) : NULL;
    chr_resp_free(&r);
    json_t *map = json_object(), *e;
    size_t i;
    json_array_foreach(json_object_get(v, "jobs"), i, e) {
        const char *name = json_string_value(json_object_get(e, "name"));
        if (name != NULL && map != NULL)
            json_object_set(map, name, e);
    }
    json_decref(v);
    *out = map;
    return CHR_EXIT_OK;
}

/* The latest of lastSuccess, lastError and the summary's lastRunAt (a
 * killed or lost run ends too), relative; "never" without one. */
static void last_run(const json_t *job, const json_t *sum, int64_t now, char *buf, size_t cap)
{
    const json_t *ends[] = {json_object_get(job, "lastSuccess"), json_object_get(job, "lastError"),
                            json_object_get(sum, "lastRunAt")};
    int64_t t = INT64_MIN, at;
    bool any = false;
    for (size_t i = 0; i < 3; i++) {
        if (!chr_json_instant(ends[i], &at))
            continue;
        t = !any || at > t ? at : t;
        any = true;
    }
    if (any)
        chr_rel_time(t, now, buf, cap);
    else
        snprintf(buf, cap, "never");
}

/* The last run's outcome in a user's words; Chronos's "fresh" (no success
 * or error counted) is "-" unless a run was killed or lost. */
static const char *status_word(const json_t *sum)
{
    const char *s = json_string_value(json_object_get(sum, "lastRunState"));
    if (s == NULL)
        s = json_string_value(json_object_get(sum, "status"));
    if (s == NULL || !strcmp(s, "fresh"))
        return "-";
    if (!strcmp(s, "success"))
        return "succeeded";
    if (!strcmp(s, "failure"))
        return "failed";
    return s;
}

/* What the job does now: runs, a retry waiting for its delay, a run
 * starting, disabled, or idle. */
static const char *state_word(const json_t *job, const json_t *sum, int64_t now, char *buf,
                              size_t cap)
{
    const char *state = json_string_value(json_object_get(sum, "state"));
    int64_t at;
    char rel[32];
    if (state != NULL && strstr(state, "running") != NULL)
        return state;
    if (chr_json_instant(json_object_get(sum, "retryAt"), &at)) {
        chr_rel_time(at, now, rel, sizeof rel);
        snprintf(buf, cap, "retrying %s", at > now ? rel : "now");
        return buf;
    }
    if (state != NULL && !strcmp(state, "queued"))
        return "starting";
    if (json_is_true(json_object_get(job, "disabled")))
        return "disabled";
    return state != NULL ? state : "-";
}

/* "after a,b" for a dependent job, else its schedule; chr_malloc'd. */
static char *schedule_text(const json_t *job)
{
    if (!chr_job_is_dependent(job))
        return chr_json_text(json_object_get(job, "schedule"));
    char *p = chr_json_text(json_object_get(job, "parents"));
    size_t n = p ? strlen(p) + 7 : 0;
    char *sched = p ? chr_malloc(n) : NULL;
    if (sched != NULL)
        snprintf(sched, n, "after %s", p);
    chr_free(p);
    return sched;
}

static bool list_row(struct chr_table *t, const json_t *job, const json_t *sum, int64_t now)
{
    char next[32] = "-", last[32], state_buf[48];
    const char *tz = json_string_value(json_object_get(job, "scheduleTimeZone"));
    if (chr_job_is_dependent(job))
        tz = "-";
    else if (tz == NULL || tz[0] == '\0')
        tz = "UTC";
    int64_t at;
    if (json_is_true(json_object_get(job, "disabled")))
        snprintf(next, sizeof next, "disabled");
    else if (chr_json_instant(json_object_get(sum, "nextRunAt"), &at))
        chr_rel_time(at, now, next, sizeof next);
    last_run(job, sum, now, last, sizeof last);
    char *sched = schedule_text(job);
    const char *cells[] = {json_string_value(json_object_get(job, "name")), sched, tz,
                           status_word(sum),
                           state_word(job, sum, now, state_buf, sizeof state_buf), next, last};
    bool ok = sched != NULL && chr_table_add(t, cells);
    chr_free(sched);
    return ok;
}

static int by_name(const void *a, const void *b)
{
    const char *x = json_string_value(json_object_get(*(json_t *const *)a, "name"));
    const char *y = json_string_value(json_object_get(*(json_t *const *)b, "name"));
    return strcmp(x ? x : "", y ? y : "");
}

/* Renders GET /v1/scheduler/jobs by name (the server's order is the order
 * jobs were loaded, which a restart changes), with each job's status, state
 * and next instant from the summary (the job JSON is Chronos's: it has no
 * progress). */
static int list_table(const struct chr_client *c, const json_t *jobs)
{
    static const char *const head[] = {"NAME", "SCHEDULE/PARENTS", "TZ", "STATUS", "STATE",
                                       "NEXT", "LAST-RUN"};
    json_t *sum = NULL;
    int st = summary_by_name(c, &sum);
    if (st != CHR_EXIT_OK)
        return st;
    size_t n = json_array_size(jobs), bytes;
    json_t **v = chr_mul_overflows(n, sizeof *v, &bytes) ? NULL : chr_malloc(bytes ? bytes : 1);
    struct chr_table *t = v != NULL ? chr_table_new(head, 7) : NULL;
    int64_t now = chr_clock_wall_ms();
    bool ok = t != NULL;
    for (size_t i = 0; ok && i < n; i++)
        v[i] = json_array_get(jobs, i);
    if (ok && n > 1)
        qsort(v, n, sizeof *v, by_name);
    for (size_t i = 0; ok && i < n; i++) {
        const char *name = json_string_value(json_object_get(v[i], "name"));
        ok = list_row(t, v[i], json_object_get(sum, name ? name : ""), now);
    }
    if (ok)
        chr_table_print(t, stdout);
    chr_table_free(t);
    chr_free(v);
    json_decref(sum);
    return ok ? CHR_EXIT_OK : chr_client_fail(CHR_EXIT_BAD_VALUE, "out of memory");
}

int chr_cli_list(int argc, char **argv)
{
    static const struct chr_cmd cmd = {"list", list_help, NULL, 0, 0, 0, NULL, true};
    struct chr_client c;
    int st = chr_client_args(&cmd, argc, argv, &c);
    if (st >= 0)
        return st;
    return chr_client_get_show(&c, "/v1/scheduler/jobs", list_table);
}

/* ---- show --------------------------------------------------------------- */

static const char show_help[] =
    "usage: chronos show NAME [--json] [--server URL]\n"
    "\n"
    "Shows one job as `key: value` lines, in the server's order, then its\n"
    "status (GET /v1/scheduler/job/NAME/status): status, state, lastRunState,\n"
    "lastRunAt, retryAt, nextRunAt, remainingRepeats, taskTimeSeconds; instants\n"
    "also relative to now (`2030-01-01T00:00:00.000Z (in 3d)`).\n"
    "\n"
    "  --json        print the server's answer (GET /v1/scheduler/job/NAME: the\n"
    "                job as Chronos shows it, without the status)\n"
    CHR_CLIENT_SERVER_HELP;

/* The status members `show` prints after the job's (the others repeat it). */
static const char *const status_keys[] = {
    "status",  "state",     "lastRunState",     "lastRunAt",
    "retryAt", "nextRunAt", "remainingRepeats", "taskTimeSeconds",
};
#define N_STATUS_KEYS (sizeof status_keys / sizeof status_keys[0])

static bool is_instant_key(const char *k)
{
    return !strcmp(k, "nextRunAt") || !strcmp(k, "lastSuccess") || !strcmp(k, "lastError") ||
           !strcmp(k, "lastRunAt") || !strcmp(k, "retryAt");
}

/* One aligned `key: value` line; false when out of memory. */
static bool show_line(const char *key, const json_t *v, int w, int64_t now)
{
    char *text = chr_json_text(v), when[32], rel[40] = "";
    int64_t at;
    if (text == NULL)
        return false;
    if (is_instant_key(key) && chr_json_instant(v, &at)) {
        chr_rel_time(at, now, when, sizeof when);
        snprintf(rel, sizeof rel, " (%s)", when);
    }
    if (text[0] == '\0') /* no padding after an empty value: no trailing blanks */
        printf("%s:\n", key);
    else
        printf("%s:%*s %s%s\n", key, w - (int)strlen(key), "", text, rel);
    chr_free(text);
    return true;
}

/* GET job/NAME/status as JSON; NULL when the server has none (an older
 * server: its job JSON held the progress) or the job went meanwhile. */
static json_t *job_status(const struct chr_client *c, const char *name)
{
    struct chr_path p;
    struct chr_resp r;
    if (chr_job_path(c, &p, "/v1/scheduler/job/", name, "/status") != CHR_EXIT_OK ||
        chr_client_request(c, "GET", p.buf, NULL, &r) != CHR_EXIT_OK)
        return NULL;
    json_t *v = r.status == 200 ? json_loadb(r.body, r.len, 0, NULL) : NULL;
    chr_resp_free(&r);
    return v;
}

/* Renders one job as aligned `key: value` lines, then its status. */
static int show_block(const struct chr_client *c, const json_t *job)
{
    const char *key;
    json_t *v;
    int w = 0;
    int64_t now = chr_clock_wall_ms();
    const char *name = json_string_value(json_object_get(job, "name"));
    json_t *st = name != NULL ? job_status(c, name) : NULL;
    json_object_foreach((json_t *)job, key, v) {
        int n = (int)strlen(key);
        w = n > w ? n : w;
    }
    for (size_t i = 0; i < N_STATUS_KEYS; i++)
        if (json_object_get(st, status_keys[i]) != NULL && (int)strlen(status_keys[i]) > w)
            w = (int)strlen(status_keys[i]);
    bool ok = true;
    json_object_foreach((json_t *)job, key, v) {
        ok = ok && show_line(key, v, w, now);
    }
    for (size_t i = 0; ok && i < N_STATUS_KEYS; i++) {
        const json_t *sv = json_object_get(st, status_keys[i]);
        if (sv != NULL && json_object_get(job, status_keys[i]) == NULL)
            ok = show_line(status_keys[i], sv, w, now);
    }
    json_decref(st);
    return ok ? CHR_EXIT_OK : chr_client_fail(CHR_EXIT_BAD_VALUE, "out of memory");
}

int chr_cli_show(int argc, char **argv)
{
    static const struct chr_cmd cmd = {"show", show_help, NULL, 0, 1, 1, "NAME", true};
    struct chr_path p;
    struct chr_client c;
    int st = chr_client_args(&cmd, argc, argv, &c);
    if (st >= 0)
        return st;
    if ((st = chr_job_path(&c, &p, "/v1/scheduler/job/", c.pos[0], "")) != CHR_EXIT_OK)
        return st;
    return chr_client_get_show(&c, p.buf, show_block);
}
