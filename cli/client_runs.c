/*
 * client_runs.c - the client commands about runs: `runs` (the server's run
 * records as a table), `logs` (a run's captured stdout or stderr, streamed as
 * it arrives, -f to follow a running one) and `next --job` (the server's
 * next instants of a stored job, printed as the local `chronos next` prints
 * them).
 */
#include <string.h>

#include "cli/client.h"
#include "common/alloc.h"
#include "common/clock.h"

static const char runs_help[] =
    "usage: chronos runs [NAME] [--state S] [--limit N] [--json] [--server URL]\n"
    "\n"
    "Lists runs, newest first (of the job NAME, or of every job): ID, STATE,\n"
    "EXIT (the exit code), SCHEDULED (its instant), STARTED, DURATION, REASON.\n"
    "\n"
    "  --state S     recording, queued, launching, running, finished, failed,\n"
    "                killed, lost; or active, ended\n"
    "  --limit N     at most N runs, 1-10000 (default 100)\n"
    "  --json        print the server's answer (GET /v1/runs, a JSON array)\n"
    CHR_CLIENT_SERVER_HELP;

static const char logs_help[] =
    "usage: chronos logs RUN_ID|JOB [-f] [--stderr] [--server URL]\n"
    "\n"
    "Prints a run's captured stdout (a job's name means its latest run).\n"
    "\n"
    "  -f, --follow  keep printing as the run writes, until it ends\n"
    "  --stderr      the run's stderr instead\n" CHR_CLIENT_SERVER_HELP;

static const char next_job_help[] =
    "usage: chronos next --job NAME [--count N] [--json] [--server URL]\n"
    "\n"
    "Asks the server when a stored job runs next and prints the instants, one\n"
    "a line, as `chronos next EXPR` does (2030-01-01T00:00:00.000Z).\n"
    "\n"
    "  --count N     how many, 1-1000 (default 10)\n"
    "  --json        print the server's answer\n" CHR_CLIENT_SERVER_HELP;

/* A --limit or --count value: its syntax is checked here (exit 2), its range
 * is the server's to judge.  Returns -1 to go on, else a usage error. */
static int check_whole(const struct chr_client *c, const char *what, const char *value)
{
    long n;
    if (value != NULL && !chr_client_parse_long(value, 0, 1000000000L, &n))
        return chr_client_usage(c, "%s: '%s' is not a whole number", what, value);
    return -1;
}

/* ---- runs --------------------------------------------------------------- */

static void rel_or_dash(const json_t *v, int64_t now, char *buf, size_t cap)
{
    int64_t at;
    if (chr_json_instant(v, &at))
        chr_rel_time(at, now, buf, cap);
    else
        snprintf(buf, cap, "-");
}

static bool runs_row(struct chr_table *t, const json_t *run, int64_t now)
{
    char exit_code[24] = "-", sched[32], started[32], dur[32] = "-";
    const json_t *code = json_object_get(run, "exitCode");
    const json_t *ms = json_object_get(run, "durationMs");
    const char *state = json_string_value(json_object_get(run, "state"));
    const char *reason = json_string_value(json_object_get(run, "reason"));
    int64_t at;
    if (json_is_integer(code))
        snprintf(exit_code, sizeof exit_code, "%" JSON_INTEGER_FORMAT, json_integer_value(code));
    rel_or_dash(json_object_get(run, "scheduledAt"), now, sched, sizeof sched);
    rel_or_dash(json_object_get(run, "startedAt"), now, started, sizeof started);
    if (json_is_number(ms))
        chr_duration((int64_t)json_number_value(ms), dur, sizeof dur);
    else if (state && !strcmp(state, "running") &&
             chr_json_instant(json_object_get(run, "startedAt"), &at))
        chr_duration(now - at, dur, sizeof dur);
    const char *cells[] = {json_string_value(json_object_get(run, "id")), state, exit_code,
                           sched, started, dur, reason && reason[0] ? reason : NULL};
    return chr_table_add(t, cells);
}

/* Renders GET /v1/runs as a table, newest first as the server sends them. */
static int runs_table(const struct chr_client *c, const json_t *runs)
{
    static const char *const head[] = {"ID", "STATE", "EXIT", "SCHEDULED", "STARTED",
                                       "DURATION", "REASON"};
    struct chr_table *t = chr_table_new(head, 7);
    int64_t now = chr_clock_wall_ms();
    bool ok = t != NULL && json_is_array(runs);
    size_t i;
    json_t *run;
    (void)c; /* a chr_render_fn; this one needs no client */
    json_array_foreach(runs, i, run) {
        ok = ok && runs_row(t, run, now);
    }
    if (ok)
        chr_table_print(t, stdout);
    chr_table_free(t);
    return ok ? CHR_EXIT_OK : chr_client_fail(CHR_EXIT_SERVER, "cannot show the runs");
}

/* "/v1/runs?job=..&state=..&limit=.." with the given ones. */
static int runs_path(const struct chr_client *c, struct chr_path *p, const char *job,
                     const char *state, const char *limit)
{
    chr_path_init(p);
    chr_path_add(p, "/v1/runs");
    chr_path_add_query(p, "job", job);
    chr_path_add_query(p, "state", state);
    chr_path_add_query(p, "limit", limit);
    return chr_path_check(c, p);
}

int chr_cli_runs(int argc, char **argv)
{
    const char *state = NULL, *limit = NULL;
    const struct chr_opt opts[] = {
        {"--state", NULL, CHR_OPT_VALUE, &state},
        {"--limit", NULL, CHR_OPT_VALUE, &limit},
    };
    const struct chr_cmd cmd = {"runs", runs_help, opts, 2, 0, 1, NULL, true};
    struct chr_client c;
    struct chr_path p;
    int st = chr_client_args(&cmd, argc, argv, &c);
    if (st >= 0 || (st = check_whole(&c, "limit", limit)) >= 0)
        return st;
    if ((st = runs_path(&c, &p, c.npos ? c.pos[0] : NULL, state, limit)) != CHR_EXIT_OK)
        return st;
    return chr_client_get_show(&c, p.buf, runs_table);
}

/* ---- logs --------------------------------------------------------------- */

/* The id of the job's latest run into id[]; an exit status. */
static int latest_run(const struct chr_client *c, const char *job, char *id, size_t cap)
{
    struct chr_path p;
    struct chr_resp r;
    int st = runs_path(c, &p, job, NULL, "1");
    if (st != CHR_EXIT_OK || (st = chr_client_call(c, "GET", p.buf, NULL, &r)) != CHR_EXIT_OK)
        return st;
    json_t *runs = chr_resp_json(&r);
    chr_resp_free(&r);
    if (runs == NULL)
        return CHR_EXIT_SERVER;
    const char *s = json_string_value(json_object_get(json_array_get(runs, 0), "id"));
    if (s == NULL)
        st = chr_client_fail(CHR_EXIT_REFUSED, "job '%s' has no runs", job);
    else if (snprintf(id, cap, "%s", s) >= (int)cap)
        st = chr_client_fail(CHR_EXIT_SERVER, "the server's run id is too long");
    json_decref(runs);
    return st;
}

int chr_cli_logs(int argc, char **argv)
{
    bool follow = false, err = false;
    const struct chr_opt opts[] = {
        {"--follow", "-f", CHR_OPT_FLAG, &follow},
        {"--stderr", NULL, CHR_OPT_FLAG, &err},
    };
    const struct chr_cmd cmd = {"logs", logs_help, opts, 2, 1, 1, "RUN_ID or JOB", false};
    struct chr_client c;
    struct chr_path p;
    char id[1024];
    int st = chr_client_args(&cmd, argc, argv, &c);
    if (st >= 0)
        return st;
    /* Run ids are "ct:<due>:<attempt>:<job>"; a job's name never has a ':'. */
    if (strchr(c.pos[0], ':') != NULL)
        snprintf(id, sizeof id, "%s", c.pos[0]);
    else if ((st = latest_run(&c, c.pos[0], id, sizeof id)) != CHR_EXIT_OK)
        return st;
    st = chr_job_path(&c, &p, "/v1/runs/", id, err ? "/stderr" : "/stdout");
    chr_path_add_query(&p, "follow", follow ? "1" : NULL);
    if (st != CHR_EXIT_OK || (st = chr_path_check(&c, &p)) != CHR_EXIT_OK)
        return st;
    return chr_client_stream(&c, p.buf, follow);
}

/* ---- next --job --------------------------------------------------------- */

/* Renders the instants one a line, as the local `chronos next` prints them. */
static int print_next(const struct chr_client *c, const json_t *v)
{
    const json_t *list = json_object_get(v, "next");
    size_t i;
    json_t *e;
    (void)c; /* a chr_render_fn; this one needs no client */
    if (!json_is_array(list))
        return chr_client_fail(CHR_EXIT_SERVER, "the server's answer has no \"next\" list");
    json_array_foreach(list, i, e) {
        if (json_is_string(e))
            puts(json_string_value(e));
    }
    return CHR_EXIT_OK;
}

int chr_cli_next_job(int argc, char **argv)
{
    const char *job = NULL, *count = NULL;
    const struct chr_opt opts[] = {
        {"--job", NULL, CHR_OPT_VALUE, &job},
        {"--count", NULL, CHR_OPT_VALUE, &count},
    };
    const struct chr_cmd cmd = {"next", next_job_help, opts, 2, 0, 0, NULL, true};
    struct chr_client c;
    struct chr_path p;
    int st = chr_client_args(&cmd, argc, argv, &c);
    if (st >= 0)
        return st;
    if (job == NULL)
        return chr_client_usage(&c, "missing --job NAME");
    if ((st = check_whole(&c, "count", count)) >= 0)
        return st;
    st = chr_job_path(&c, &p, "/v1/scheduler/job/", job, "/next");
    chr_path_add_query(&p, "count", count);
    if (st != CHR_EXIT_OK || (st = chr_path_check(&c, &p)) != CHR_EXIT_OK)
        return st;
    return chr_client_get_show(&c, p.buf, print_next);
}
