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
    "Lists the jobs, one a line:\n"
    "  NAME              the job's name\n"
    "  SCHEDULE/PARENTS  its schedule as written, or `after a,b` for a dependent job\n"
    "  STATUS            its last run: success, failure, or fresh (never ran)\n"
    "  STATE             idle, queued, N running, or disabled\n"
    "  NEXT              when it runs next (`in 3m`), `-` when nothing is due\n"
    "  LAST-RUN          when it last ended (`5s ago`), or `never`\n"
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

/* The later of lastSuccess and lastError, relative; "never" without one. */
static void last_run(const json_t *job, int64_t now, char *buf, size_t cap)
{
    int64_t a = INT64_MIN, b = INT64_MIN, t;
    bool ok_a = chr_json_instant(json_object_get(job, "lastSuccess"), &a);
    bool ok_b = chr_json_instant(json_object_get(job, "lastError"), &b);
    t = a > b ? a : b;
    if (ok_a || ok_b)
        chr_rel_time(t, now, buf, cap);
    else
        snprintf(buf, cap, "never");
}

static bool list_row(struct chr_table *t, const json_t *job, const json_t *sum, int64_t now)
{
    char next[32] = "-", last[32], *sched;
    const char *state = json_string_value(json_object_get(sum, "state"));
    const char *status = json_string_value(json_object_get(sum, "status"));
    if (status == NULL)
        status = json_string_value(json_object_get(job, "lastRunState"));
    if (json_is_true(json_object_get(job, "disabled")) && (!state || !strcmp(state, "idle")))
        state = "disabled";
    int64_t at;
    if (chr_json_instant(json_object_get(job, "nextRunAt"), &at))
        chr_rel_time(at, now, next, sizeof next);
    last_run(job, now, last, sizeof last);
    if (chr_job_is_dependent(job)) {
        char *p = chr_json_text(json_object_get(job, "parents"));
        size_t n = p ? strlen(p) + 7 : 0;
        sched = p ? chr_malloc(n) : NULL;
        if (sched != NULL)
            snprintf(sched, n, "after %s", p);
        chr_free(p);
    } else {
        sched = chr_json_text(json_object_get(job, "schedule"));
    }
    const char *cells[] = {json_string_value(json_object_get(job, "name")), sched, status, state,
                           next, last};
    bool ok = sched != NULL && chr_table_add(t, cells);
    chr_free(sched);
    return ok;
}

/* Renders GET /v1/scheduler/jobs, with each job's state from the summary. */
static int list_table(const struct chr_client *c, const json_t *jobs)
{
    static const char *const head[] = {"NAME", "SCHEDULE/PARENTS", "STATUS", "STATE", "NEXT",
                                       "LAST-RUN"};
    json_t *sum = NULL, *job;
    int st = summary_by_name(c, &sum);
    if (st != CHR_EXIT_OK)
        return st;
    struct chr_table *t = chr_table_new(head, 6);
    int64_t now = chr_clock_wall_ms();
    size_t i;
    bool ok = t != NULL;
    json_array_foreach(jobs, i, job) {
        const char *name = json_string_value(json_object_get(job, "name"));
        ok = ok && list_row(t, job, json_object_get(sum, name ? name : ""), now);
    }
    if (ok)
        chr_table_print(t, stdout);
    chr_table_free(t);
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
    "Shows one job as `key: value` lines, in the server's order; instants also\n"
    "relative to now (`2030-01-01T00:00:00.000Z (in 3d)`).\n"
    "\n"
    "  --json        print the server's answer (GET /v1/scheduler/job/NAME)\n"
    CHR_CLIENT_SERVER_HELP;

static bool is_instant_key(const char *k)
{
    return !strcmp(k, "nextRunAt") || !strcmp(k, "lastSuccess") || !strcmp(k, "lastError");
}

/* Renders one job as aligned `key: value` lines. */
static int show_block(const struct chr_client *c, const json_t *job)
{
    const char *key;
    json_t *v;
    int w = 0;
    int64_t now = chr_clock_wall_ms(), at;
    (void)c; /* a chr_render_fn; this one needs no client */
    json_object_foreach((json_t *)job, key, v) {
        int n = (int)strlen(key);
        w = n > w ? n : w;
    }
    json_object_foreach((json_t *)job, key, v) {
        char *text = chr_json_text(v), when[32], rel[40] = "";
        if (text == NULL)
            return chr_client_fail(CHR_EXIT_BAD_VALUE, "out of memory");
        if (is_instant_key(key) && chr_json_instant(v, &at)) {
            chr_rel_time(at, now, when, sizeof when);
            snprintf(rel, sizeof rel, " (%s)", when);
        }
        printf("%s:%*s%s%s%s\n", key, w - (int)strlen(key), "", text[0] ? " " : "", text, rel);
        chr_free(text);
    }
    return CHR_EXIT_OK;
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
