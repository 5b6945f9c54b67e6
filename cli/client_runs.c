/*
 * client_runs.c - the client commands about runs: `runs` (the server's run
 * records as a table), `logs` (a run's captured stdout or stderr, streamed as
 * it arrives, -f to follow a running one) and `next --job` (the server's
 * next instants of a stored job, printed as the local `chronos next` prints
 * them).
 */
#include <string.h>
#include <time.h>

#include "cli/client.h"
#include "common/alloc.h"
#include "common/clock.h"
#include "iso8601/iso8601.h"

static const char runs_help[] =
    "usage: chronos runs [NAME] [--state S] [--limit N] [--json] [--server URL]\n"
    "\n"
    "Lists runs, newest first (of the job NAME, or of every job): ID, STATE,\n"
    "EXIT (the exit code), SCHEDULED (its instant), STARTED, DURATION, REASON.\n"
    "\n"
    "  --state S     starting, queued, launching, running, finished, failed,\n"
    "                killed, lost; or active, ended\n"
    "  --limit N     at most N runs, 1-10000 (default 100)\n"
    "  --json        print the server's answer (GET /v1/runs, a JSON array)\n"
    CHR_CLIENT_SERVER_HELP;

static const char logs_help[] =
    "usage: chronos logs RUN_ID|JOB [-f] [--stderr] [--server URL]\n"
    "\n"
    "Prints a run's captured stdout (a job's name means its latest run).  A run\n"
    "that has not started yet (starting, queued, a pending retry) is waited for,\n"
    "30 s at most (without end with -f), saying on stderr what it waits for.\n"
    "\n"
    "  -f, --follow  keep printing as the run writes, until it ends\n"
    "  --stderr      the run's stderr instead\n" CHR_CLIENT_SERVER_HELP;

static const char next_job_help[] =
    "usage: chronos next --job NAME [--count N] [--json] [--server URL]\n"
    "\n"
    "Asks the server when a stored job runs next and prints the instants, one\n"
    "a line under a header: in UTC (2030-01-01T00:00:00.000Z) and, for a job\n"
    "with a scheduleTimeZone, beside it in that zone (2030-01-01T01:00:00.000+01:00).\n"
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
    if (state != NULL && !strcmp(state, "recording"))
        state = "starting"; /* the server's word for a run whose record is being written */
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
    if (state != NULL && !strcmp(state, "starting"))
        state = "recording"; /* the table's word (runs_row) */
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

/* What a run that has not started waits for, in words, into buf; false
 * once it started (or ended, or is unknown: the stream says so). */
static bool not_started(const json_t *run, char *buf, size_t cap)
{
    const char *state = json_string_value(json_object_get(run, "state"));
    const char *cause = json_string_value(json_object_get(run, "cause"));
    const char *reason = json_string_value(json_object_get(run, "reason"));
    const char *id = json_string_value(json_object_get(run, "id"));
    const char *until = json_string_value(json_object_get(run, "notBefore"));
    if (state == NULL || (strcmp(state, "recording") && strcmp(state, "queued") &&
                          strcmp(state, "launching")))
        return false;
    if (id == NULL)
        id = "?";
    if (cause != NULL && !strcmp(cause, "retry") && until != NULL)
        snprintf(buf, cap, "run %s is a retry, pending until %s", id, until);
    else if (!strcmp(state, "queued") && reason != NULL && reason[0])
        snprintf(buf, cap, "run %s is queued (%s)", id, reason);
    else
        snprintf(buf, cap, "run %s is %s", id, !strcmp(state, "recording") ? "starting" : state);
    return true;
}

/* Before printing a run's output: waits while it has not started (its
 * output does not exist yet), saying on stderr what it waits for each time
 * that changes; at most CHR_CLIENT_LOGS_WAIT_MS unless following. */
static int wait_started(const struct chr_client *c, const char *id, bool follow)
{
    struct chr_path p;
    int64_t deadline = chr_clock_mono_ms() + CHR_CLIENT_LOGS_WAIT_MS;
    char said[512] = "", now_text[512];
    int st = chr_job_path(c, &p, "/v1/runs/", id, "");
    for (; st == CHR_EXIT_OK;) {
        struct chr_resp r;
        if ((st = chr_client_request(c, "GET", p.buf, NULL, &r)) != CHR_EXIT_OK)
            return st;
        json_t *run = r.status == 200 ? chr_resp_json(&r) : NULL;
        chr_resp_free(&r);
        bool waiting = run != NULL && not_started(run, now_text, sizeof now_text);
        json_decref(run);
        if (!waiting)
            return CHR_EXIT_OK;
        if (strcmp(said, now_text) != 0) {
            fprintf(stderr, "chronos: %s: waiting for it to start%s\n", now_text,
                    follow ? "" : " (30 s at most)");
            snprintf(said, sizeof said, "%s", now_text);
        }
        if (!follow && chr_clock_mono_ms() >= deadline)
            return chr_client_fail(CHR_EXIT_BAD_VALUE,
                                   "%s: it has not started; `chronos logs -f` waits for it",
                                   now_text);
        struct timespec ts = {0, 250 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
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
    if ((st = wait_started(&c, id, follow)) != CHR_EXIT_OK)
        return st;
    st = chr_job_path(&c, &p, "/v1/runs/", id, err ? "/stderr" : "/stdout");
    chr_path_add_query(&p, "follow", follow ? "1" : NULL);
    if (st != CHR_EXIT_OK || (st = chr_path_check(&c, &p)) != CHR_EXIT_OK)
        return st;
    return chr_client_stream(&c, p.buf, follow);
}

/* ---- next --job --------------------------------------------------------- */

/* at_ms as a wall time of zone tz with its offset ("2030-01-01T00:00:00.000+01:00"). */
static void format_local(const struct chr_tz *tz, int64_t at_ms, char *buf, size_t cap)
{
    struct chr_civil w;
    int32_t off = chr_tz_offset_s(tz, at_ms), a = off < 0 ? -off : off;
    chr_ms_to_civil(chr_tz_to_local_ms(tz, at_ms), &w);
    snprintf(buf, cap, "%04lld-%02d-%02dT%02d:%02d:%02d.%03d%c%02d:%02d", (long long)w.year,
             w.month, w.day, w.hour, w.minute, w.second, w.ms, off < 0 ? '-' : '+',
             (int)(a / 3600), (int)(a % 3600 / 60));
}

/* Renders the instants one a line under the header "UTC", and beside each
 * the wall time in the job's zone when that is not UTC (a zone this host
 * cannot load: its name only, the UTC column stays). */
static int print_next(const struct chr_client *c, const json_t *v)
{
    const json_t *list = json_object_get(v, "next");
    const char *zone = json_string_value(json_object_get(v, "timezone"));
    (void)c; /* a chr_render_fn; this one needs no client */
    if (!json_is_array(list))
        return chr_client_fail(CHR_EXIT_SERVER, "the server's answer has no \"next\" list");
    struct chr_tzdb *db = NULL;
    const struct chr_tz *tz = NULL;
    struct chr_error err = {{0}, {0}};
    bool local = zone != NULL && strcmp(zone, "UTC") != 0;
    if (local && chr_tzdb_create(NULL, &db) == CHR_OK)
        (void)chr_tzdb_get(db, zone, &tz, &err);
    const char *head[] = {"UTC", local ? zone : NULL};
    struct chr_table *t = chr_table_new(head, local ? 2 : 1);
    bool ok = t != NULL;
    size_t i;
    json_t *e;
    json_array_foreach(list, i, e) {
        int64_t at;
        char wall[64] = "?";
        if (!ok || !json_is_string(e))
            continue;
        if (tz != NULL && chr_json_instant(e, &at))
            format_local(tz, at, wall, sizeof wall);
        const char *cells[] = {json_string_value(e), wall};
        ok = chr_table_add(t, cells);
    }
    if (ok)
        chr_table_print(t, stdout);
    chr_table_free(t);
    chr_tzdb_destroy(db);
    return ok ? CHR_EXIT_OK : chr_client_fail(CHR_EXIT_BAD_VALUE, "out of memory");
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

/* ---- ledger ------------------------------------------------------------- */

static const char ledger_help[] =
    "usage: chronos ledger NAME [--json] [--server URL]\n"
    "\n"
    "Prints the instants of a job that did not become a run, oldest first, one\n"
    "range a line: FROM, TO, COUNT (instants in the range) and REASON\n"
    "(coalesced-down: no leader ran; coalesced-busy: a run still ran;\n"
    "skipped-deadline, skipped-disabled, coalesced-waiting-for-resources).\n"
    "Every instant is either a run (`chronos runs NAME`) or a ledger entry.\n"
    "\n"
    "  --json        print the server's answer (GET /v1/scheduler/job/NAME/ledger)\n"
    CHR_CLIENT_SERVER_HELP;

static int ledger_table(const struct chr_client *c, const json_t *entries)
{
    static const char *const head[] = {"FROM", "TO", "COUNT", "REASON"};
    struct chr_table *t = chr_table_new(head, 4);
    bool ok = t != NULL && json_is_array(entries);
    size_t i;
    json_t *e;
    (void)c; /* a chr_render_fn; this one needs no client */
    json_array_foreach(entries, i, e) {
        char count[24] = "-";
        const json_t *n = json_object_get(e, "count");
        if (json_is_integer(n))
            snprintf(count, sizeof count, "%" JSON_INTEGER_FORMAT, json_integer_value(n));
        const char *cells[] = {json_string_value(json_object_get(e, "from")),
                               json_string_value(json_object_get(e, "to")), count,
                               json_string_value(json_object_get(e, "reason"))};
        ok = ok && chr_table_add(t, cells);
    }
    if (ok && json_array_size(entries) == 0)
        fputs("no instants missed: every instant so far became a run\n", stdout);
    else if (ok)
        chr_table_print(t, stdout);
    chr_table_free(t);
    return ok ? CHR_EXIT_OK : chr_client_fail(CHR_EXIT_SERVER, "cannot show the ledger");
}

int chr_cli_ledger(int argc, char **argv)
{
    static const struct chr_cmd cmd = {"ledger", ledger_help, NULL, 0, 1, 1, "NAME", true};
    struct chr_client c;
    struct chr_path p;
    int st = chr_client_args(&cmd, argc, argv, &c);
    if (st >= 0)
        return st;
    if ((st = chr_job_path(&c, &p, "/v1/scheduler/job/", c.pos[0], "/ledger")) != CHR_EXIT_OK)
        return st;
    return chr_client_get_show(&c, p.buf, ledger_table);
}
