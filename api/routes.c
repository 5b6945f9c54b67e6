/*
 * routes.c - what each endpoint of the REST API does (http.h): Chronos's at
 * /v1/scheduler/... (and /scheduler/...), ours at /v1/runs, /v1/status,
 * /v1/notify/test and the previews, plus /ping, /leader and /metrics.  Reads are rendered here,
 * on the HTTP thread, from the loop's read model; mutations go to the loop.
 * Every refusal names what is wrong.
 */
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "common/alloc.h"
#include "common/clock.h"
#include "common/limits.h"
#include "common/near.h"
#include "api/assets.h"
#include "api/dash.h"
#include "api/http_int.h"
#include "api/job_json.h"
#include "api/render.h"
#include "api/run_cmd.h"

/* Instants a preview may ask for. */
#define PREVIEW_COUNT_MAX 1000
/* Runs a listing may ask for. */
#define RUNS_LIMIT_MAX 10000

/* `s` made safe to echo in a message: printable ASCII, at most 64 bytes. */
static const char *shown(const char *s, char buf[80])
{
    return chr_error_quote(s, strnlen(s, 65), 64, buf);
}

/* ---- Arguments -------------------------------------------------------------------- */

/* Query argument `key` as an integer in [lo, hi] (def when absent); false
 * with the answer set when it is not one. */
static bool arg_count(struct req *r, const char *key, long long def, long long lo, long long hi,
                      long long *out)
{
    const char *v = chr_http_arg(r, key);
    *out = def;
    if (v == NULL)
        return true;
    char *end = NULL;
    errno = 0;
    long long n = strtoll(v, &end, 10);
    if (v[0] == '\0' || *end != '\0' || errno != 0 || n < lo || n > hi) {
        char b[80];
        chr_http_error(r, 400, "%s: '%s' is not an integer from %lld to %lld", key, shown(v, b),
                       lo, hi);
        return false;
    }
    *out = n;
    return true;
}

/* Query argument `key` as a boolean: absent, "false" or "0" false, "true"
 * or "1" true; anything else is a 400 naming it (false, the answer set). */
static bool arg_bool(struct req *r, const char *key, bool *out)
{
    const char *v = chr_http_arg(r, key);
    *out = v != NULL && (strcmp(v, "true") == 0 || strcmp(v, "1") == 0);
    if (v == NULL || *out || strcmp(v, "false") == 0 || strcmp(v, "0") == 0)
        return true;
    char b[80];
    chr_http_error(r, 400, "%s: '%s' is not true or false", key, shown(v, b));
    return false;
}

/* The job name at `rest` (percent-decoded already) into r->name; false with
 * a 400 set when it is not a valid name. */
/* The methods a route takes (GET includes HEAD). */
enum verb { V_GET = 1, V_POST = 2, V_PUT = 4, V_DELETE = 8 };

static bool take_name(struct req *r, const char *rest)
{
    if (!chr_job_name_valid(rest)) {
        char b[80];
        chr_http_error(r, 400,
                       "name: '%s' is not a valid job name (1-%d characters of letters, digits, "
                       "'_', '.' and '-'; not '.' or '..')",
                       shown(rest, b), CHR_JOB_NAME_MAX);
        return false;
    }
    snprintf(r->name, sizeof r->name, "%s", rest);
    return true;
}

static enum MHD_Result not_found_job(struct req *r)
{
    chr_http_error(r, 400, "job '%s' not found", r->name);
    return chr_http_send(r);
}

/* ---- Reads ------------------------------------------------------------------------- */

/* Answers a rendered body: 200, or 400 with err's message when the renderer
 * refused its arguments (NULL with a message), or 500 (NULL: out of memory). */
static enum MHD_Result answer(struct req *r, char *body, size_t len, const struct chr_error *err,
                              const char *type)
{
    if (body == NULL && err != NULL && err->message[0] != '\0')
        chr_http_error(r, 400, "%s", err->message);
    else
        chr_http_body(r, body, len, type);
    return chr_http_send(r);
}

static const struct chr_view_snap *snapshot(struct req *r)
{
    return chr_view_snapshot(r->sched->ops->view(r->sched));
}

static const struct chr_view_job *view_job(struct req *r, const char *name)
{
    return chr_view_job(r->sched->ops->view(r->sched), name);
}

typedef char *snap_render_fn(const struct chr_view_snap *s, size_t *len);

static void release_snap(void *cls)
{
    chr_view_snap_release(cls);
}

/* A listing rendered once per snapshot and sent from it (no copy). */
static enum MHD_Result read_memo(struct req *r, enum chr_view_memo which, snap_render_fn *fn)
{
    const struct chr_view_snap *s = snapshot(r);
    size_t len = 0;
    const char *text = s ? chr_view_snap_memo(s, which, fn, &len) : NULL;
    if (text == NULL) {
        chr_view_snap_release(s);
        chr_http_error(r, 500, "out of memory");
        return chr_http_send(r);
    }
    return chr_http_send_held(r, text, len, "application/json", release_snap, (void *)s);
}

static enum MHD_Result read_snap(struct req *r, snap_render_fn *fn, const char *type)
{
    const struct chr_view_snap *s = snapshot(r);
    if (s == NULL) {
        chr_http_error(r, 500, "out of memory");
        return chr_http_send(r);
    }
    size_t len = 0;
    char *body = fn(s, &len);
    chr_view_snap_release(s);
    return answer(r, body, len, NULL, type);
}

/* Whether the request came to Chronos 2.x's prefix /scheduler/... */
static bool is_v2(const char *url)
{
    return strncmp(url, "/scheduler/", 11) == 0;
}

static enum MHD_Result get_job(struct req *r, bool v2)
{
    const struct chr_view_job *j = view_job(r, r->name);
    if (j == NULL)
        return not_found_job(r);
    size_t len = 0;
    char *body = chr_render_job(j, v2, &len);
    chr_view_job_release(j);
    return answer(r, body, len, NULL, "application/json");
}

/* GET job/{name}/status: the job's progress, which its JSON leaves out.
 * Ours, so an unknown job is a 404 (Chronos's endpoints answer 400, and
 * ours beside them that predate this one keep doing so). */
static enum MHD_Result job_status(struct req *r)
{
    const struct chr_view_job *j = view_job(r, r->name);
    if (j == NULL) {
        chr_http_error(r, 404, "job '%s' not found", r->name);
        return chr_http_send(r);
    }
    size_t len = 0;
    char *body = chr_render_job_status(j, &len);
    chr_view_job_release(j);
    return answer(r, body, len, NULL, "application/json");
}

static enum MHD_Result search(struct req *r, bool v2)
{
    long long limit, offset;
    if (!arg_count(r, "limit", 10, 0, CHR_JOBS_MAX, &limit) ||
        !arg_count(r, "offset", 0, 0, CHR_JOBS_MAX, &offset))
        return chr_http_send(r);
    struct chr_search q = {chr_http_arg(r, "name"), chr_http_arg(r, "command"),
                           chr_http_arg(r, "any"), (size_t)limit, (size_t)offset, v2};
    const struct chr_view_snap *s = snapshot(r);
    size_t len = 0;
    char *body = s ? chr_render_search(s, &q, &len) : NULL;
    chr_view_snap_release(s);
    return answer(r, body, len, NULL, "application/json");
}

static enum MHD_Result stat(struct req *r)
{
    const struct chr_view_job *j = view_job(r, r->name);
    if (j == NULL)
        return not_found_job(r);
    size_t len = 0;
    char *body = chr_render_stat(j, &len);
    chr_view_job_release(j);
    return answer(r, body, len, NULL, "application/json");
}

static enum MHD_Result stats(struct req *r, const char *pct)
{
    const struct chr_view_snap *s = snapshot(r);
    struct chr_error err = {{0}, {0}};
    size_t len = 0;
    char *body = s ? chr_render_stats(s, pct, &len, &err) : NULL;
    chr_view_snap_release(s);
    return answer(r, body, len, &err, "application/json");
}

static enum MHD_Result next(struct req *r, const struct chr_job *def)
{
    long long count;
    if (!arg_count(r, "count", 10, 1, PREVIEW_COUNT_MAX, &count))
        return chr_http_send(r);
    struct chr_error err = {{0}, {0}};
    size_t len = 0;
    char *body = chr_render_next(def, r->sched->ops->tzdb(r->sched), chr_clock_wall_ms(),
                                 (size_t)count, &len, &err);
    return answer(r, body, len, &err, "application/json");
}

static enum MHD_Result ledger(struct req *r)
{
    const struct chr_view_job *j = view_job(r, r->name);
    if (j == NULL)
        return not_found_job(r);
    size_t len = 0;
    char *body = chr_render_ledger(j, &len);
    chr_view_job_release(j);
    return answer(r, body, len, NULL, "application/json");
}

static enum MHD_Result job_next(struct req *r)
{
    const struct chr_view_job *j = view_job(r, r->name);
    if (j == NULL)
        return not_found_job(r);
    enum MHD_Result ret = next(r, j->def);
    chr_view_job_release(j);
    return ret;
}

/* Parses the body as a job (as POST iso8601 would) into *job; false with
 * the answer set. */
static bool body_job(struct req *r, enum chr_job_kind_hint hint, struct chr_job *job)
{
    if (r->body == NULL || r->len == 0) {
        chr_http_error(r, 400, "body: expected a job as JSON, got an empty body");
        return false;
    }
    struct chr_error err = {{0}, {0}};
    enum chr_err e = chr_job_from_json(r->body, r->len, &r->h->cfg.defaults, hint,
                                       chr_clock_wall_ms(), job, &err);
    if (e == CHR_OK && r->h->cfg.users != NULL &&
        (e = chr_users_check(r->h->cfg.users, job->run_as_user, &err)) != CHR_OK)
        chr_job_free(job);
    if (e != CHR_OK) {
        chr_http_error(r, chr_http_status_of(e), "%s",
                       err.message[0] ? err.message : chr_err_message(e));
        return false;
    }
    /* The job's zone is read here, on this thread: the scheduler reads no
     * file (docs/time.md "Zones"). */
    const char *zone = chr_job_zone(job);
    const struct chr_tz *tz = NULL;
    if (zone != NULL && (e = chr_tzdb_get(r->sched->ops->tzdb(r->sched), zone, &tz, &err)) != CHR_OK) {
        const char *m = strncmp(err.message, "zone: ", 6) == 0 ? err.message + 6 : err.message;
        chr_http_error(r, e == CHR_ENOMEM ? 500 : 400, "scheduleTimeZone: %s", m);
        chr_job_free(job);
        return false;
    }
    return true;
}

static enum MHD_Result preview(struct req *r)
{
    struct chr_job job;
    memset(&job, 0, sizeof job);
    if (!body_job(r, CHR_JOB_HINT_SCHEDULED, &job))
        return chr_http_send(r);
    enum MHD_Result ret = next(r, &job);
    chr_job_free(&job);
    return ret;
}

/* ---- Runs ------------------------------------------------------------------------------ */

static enum MHD_Result runs(struct req *r)
{
    long long limit;
    if (!arg_count(r, "limit", 100, 1, RUNS_LIMIT_MAX, &limit))
        return chr_http_send(r);
    struct chr_runs_query q = {chr_http_arg(r, "job"), chr_http_arg(r, "state"), (size_t)limit};
    if (q.job != NULL && q.job[0] == '\0')
        q.job = NULL;
    if (q.state != NULL && q.state[0] == '\0')
        q.state = NULL;
    const struct chr_view_snap *s = snapshot(r);
    struct chr_error err = {{0}, {0}};
    size_t len = 0;
    char *body = s ? chr_render_runs(s, &q, &len, &err) : NULL;
    chr_view_snap_release(s);
    return answer(r, body, len, &err, "application/json");
}

/* DELETE /v1/runs/<id>: kills that one run (the job's other runs go on). */
static enum MHD_Result kill_run(struct req *r, const char *id)
{
    char b[80];
    const char *jobname = chr_view_run_job(id);
    if (jobname == NULL || !chr_job_name_valid(jobname)) {
        chr_http_error(r, 404, "run '%s' not found", shown(id, b));
        return chr_http_send(r);
    }
    snprintf(r->name, sizeof r->name, "%s", jobname);
    struct chr_event ev = {.type = CHR_EV_KILL_JOB};
    ev.u.named.name = r->name;
    ev.u.named.run_id = id;
    r->enoent_404 = true; /* the job gone meanwhile, or the run not active */
    return chr_http_submit(r, &ev);
}

/* "/<id>" or "/<id>/stdout" | "/<id>/stderr" after /v1/runs. */
static enum MHD_Result run(struct req *r, const char *rest, unsigned v)
{
    bool get = v == V_GET;
    char id[CHR_RUN_ID_MAX], b[80];
    const char *slash = strchr(rest, '/');
    size_t n = slash ? (size_t)(slash - rest) : strlen(rest);
    const char *stream = slash ? slash + 1 : NULL;
    if (n == 0 || n >= sizeof id) {
        chr_http_error(r, 404, "run '%s' not found", shown(rest, b));
        return chr_http_send(r);
    }
    memcpy(id, rest, n);
    id[n] = '\0';
    if (stream != NULL && strcmp(stream, "stdout") != 0 && strcmp(stream, "stderr") != 0) {
        chr_http_error(r, 404, "no such endpoint: runs have /stdout and /stderr, not '%s'",
                       shown(stream, b));
        return chr_http_send(r);
    }
    if (v == V_DELETE && stream == NULL)
        return kill_run(r, id);
    if (!get) {
        chr_http_error(r, 405, "method not allowed on /v1/runs/{id} (use GET, or DELETE to kill it)");
        return chr_http_send(r);
    }
    const char *jobname = chr_view_run_job(id);
    const struct chr_view_job *j =
        jobname ? view_job(r, jobname) : NULL;
    const struct chr_view_run *found = j ? chr_view_find_run(j, id) : NULL;
    if (found == NULL) {
        chr_view_job_release(j);
        chr_http_error(r, 404, "run '%s' not found", shown(id, b));
        return chr_http_send(r);
    }
    if (stream == NULL) {
        size_t len = 0;
        char *body = chr_render_run(j, found, &len);
        chr_view_job_release(j);
        chr_http_body(r, body, len, "application/json");
        return chr_http_send(r);
    }
    bool active = found->state < CHR_RUN_FINISHED;
    chr_view_job_release(j); /* found goes with it */
    bool ended = true;
    const char *follow = chr_http_arg(r, "follow");
    bool want = follow != NULL && strcmp(follow, "0") != 0 && strcmp(follow, "false") != 0;
    int fd = r->h->cfg.output.open(r->h->cfg.output.ctx, jobname, id, stream, &ended);
    if (fd < 0 && !(want && active && errno == ENOENT)) {
        chr_http_error(r, 404, "the %s of run '%s' is not kept (it never started here, or it "
                       "was pruned)", stream, shown(id, b));
        return chr_http_send(r);
    }
    /* fd -1: the run has not made its directory yet; the stream waits for it. */
    return chr_http_stream_output(r, fd, want && (fd < 0 || !ended), jobname, id, stream);
}

/* ---- Server-wide ------------------------------------------------------------------------ */

static enum MHD_Result send_json(struct req *r, json_t *v)
{
    char *text = v ? json_dumps(v, JSON_COMPACT) : NULL;
    json_decref(v);
    chr_http_body(r, text ? chr_strndup(text, strlen(text)) : NULL, text ? strlen(text) : 0,
                  "application/json");
    free(text); /* lint: allow (jansson's allocation) */
    return chr_http_send(r);
}

/* send_json with another status than 200 (an error's body is kept). */
static enum MHD_Result send_json_status(struct req *r, json_t *v, unsigned status)
{
    char *text = v ? json_dumps(v, JSON_COMPACT) : NULL;
    json_decref(v);
    chr_http_body(r, text ? chr_strndup(text, strlen(text)) : NULL, text ? strlen(text) : 0,
                  "application/json");
    free(text); /* lint: allow (jansson's allocation) */
    if (r->status == 200)
        r->status = status;
    return chr_http_send(r);
}

static enum MHD_Result leader(struct req *r)
{
    if (r->h->leader[0] == '\0') {
        chr_http_error(r, 503, "no leader: the servers are electing one (retry in a moment)");
        return chr_http_send(r);
    }
    return send_json(r, json_pack("{s:s}", "leader", r->h->leader));
}

/* Whether this server can do its job: the leader schedules (its store
 * takes writes), a standby knows a leader to forward to.  *why when not. */
static bool can_serve(struct req *r, char *why, size_t cap)
{
    if (r->sched != NULL)
        return r->sched->ops->healthy(r->sched, why, cap);
    if (r->h->leader[0] != '\0')
        return true;
    snprintf(why, cap, "%s", r->h->unhealthy[0] ? r->h->unhealthy
                                                : "no leader: the servers are electing one");
    return false;
}

/* GET /health, for load balancers and supervisors: 200 when this server can
 * do its job, 503 with the reason when not.  Never needs credentials. */
static enum MHD_Result health(struct req *r)
{
    char why[CHR_ERROR_MESSAGE_MAX + 64] = "";
    bool ok = can_serve(r, why, sizeof why);
    json_t *o = json_pack("{s:s,s:s,s:s?,s:s?}", "status", ok ? "ok" : "unavailable", "role",
                          r->sched != NULL ? "leader" : "standby", "leader",
                          r->h->leader[0] ? r->h->leader : NULL, "reason", ok ? NULL : why);
    return send_json_status(r, o, ok ? 200 : 503);
}

/* The leader's figures: the resource manager's, and the task time summed
 * over the jobs. */
static void status_figures(struct req *r, json_t *o)
{
    if (r->sched->ops->resources != NULL) {
        json_t *res = r->sched->ops->resources(r->sched);
        json_object_set_new(o, "resources", res != NULL ? res : json_null());
    }
    const struct chr_view_snap *s = snapshot(r);
    if (s != NULL)
        json_object_set_new(o, "taskTimeSeconds",
                            json_real((double)chr_render_task_time_ms(s) / 1000.0));
    chr_view_snap_release(s);
}

/* The cluster's servers (leader first) and the standbys among them; a
 * single server (no election) is its only member. */
static void status_members(struct req *r, json_t *o)
{
    const char *self = r->h->cfg.leader ? r->h->cfg.leader : "";
    json_t *members = json_array(), *standbys = json_array();
    if (members == NULL || standbys == NULL) {
        json_decref(members);
        json_decref(standbys);
        return;
    }
    if (r->h->n_members == 0 && self[0] != '\0')
        json_array_append_new(members, json_pack("{s:s,s:b}", "id", self, "leader",
                                                 r->sched != NULL));
    for (size_t i = 0; i < r->h->n_members; i++) {
        const char *id = r->h->members[i];
        bool leads = strcmp(id, r->h->leader) == 0;
        json_array_append_new(members, json_pack("{s:s,s:b}", "id", id, "leader", leads));
        if (!leads)
            json_array_append_new(standbys, json_string(id));
    }
    json_object_set_new(o, "members", members);
    json_object_set_new(o, "standbys", standbys);
}

/* What this server is and does: answered by every server, leader or not. */
static enum MHD_Result status(struct req *r)
{
    const struct chr_http_config *c = &r->h->cfg;
    char why[CHR_ERROR_MESSAGE_MAX + 64] = "";
    bool ok = can_serve(r, why, sizeof why);
    json_t *o = json_pack("{s:s,s:s,s:b,s:s,s:s,s:s?,s:b,s:s?}", "version",
                          c->version ? c->version : "", "leader", r->h->leader, "isLeader",
                          r->sched != NULL && ok, "self", c->leader ? c->leader : "", "store",
                          c->store_kind ? c->store_kind : "local", "mesosMaster",
                          r->h->mesos_master[0] ? r->h->mesos_master : NULL, "healthy", ok,
                          "unhealthyReason", ok ? NULL : why);
    if (o != NULL && r->sched != NULL) {
        struct chr_metrics_sample m;
        chr_metrics_read(r->sched->ops->metrics(r->sched), &m);
        char started[CHR_INSTANT_TEXT_MAX];
        chr_instant_format(m.gauges.started_ms, started);
        json_object_set_new(o, "leadingSince", json_string(started));
        json_object_set_new(o, "jobs", json_integer((json_int_t)chr_view_count(
                                           r->sched->ops->view(r->sched))));
        json_object_set_new(o, "runsActive", json_integer((json_int_t)m.gauges.runs_active));
        json_object_set_new(o, "runsWaiting", json_integer((json_int_t)m.gauges.runs_waiting));
        json_object_set_new(o, "queueDepth", json_integer((json_int_t)m.gauges.queue_depth));
        status_figures(r, o);
    }
    if (o != NULL)
        status_members(r, o);
    return send_json(r, o);
}

/* Whether an Accept header asks for Prometheus's text: Prometheus names
 * text/plain;version=0.0.4 and OpenMetrics in every scrape, Chronos's
 * clients (chronos-python, old dashboards) name neither and read JSON. */
bool chr_routes_wants_prometheus(const char *accept)
{
    if (accept == NULL)
        return false;
    for (const char *p = accept; *p != '\0'; p++)
        if (strncasecmp(p, "text/plain", 10) == 0 ||
            strncasecmp(p, "application/openmetrics-text", 28) == 0)
            return true;
    return false;
}

/* GET /metrics: ?format= wins; else the Accept header chooses (above). */
static enum MHD_Result metrics(struct req *r)
{
    struct chr_metrics_sample m;
    chr_metrics_read(r->sched->ops->metrics(r->sched), &m);
    const char *format = chr_http_arg(r, "format");
    bool json = format != NULL ? strcmp(format, "json") == 0
                               : !chr_routes_wants_prometheus(chr_http_header(r, "Accept"));
    if (format != NULL && !json && strcmp(format, "prometheus") != 0) {
        char b[80];
        chr_http_error(r, 400, "format: '%s' is not 'prometheus' or 'json'", shown(format, b));
        return chr_http_send(r);
    }
    const struct chr_view_snap *s = snapshot(r);
    json_t *res = r->sched->ops->resources != NULL ? r->sched->ops->resources(r->sched) : NULL;
    size_t len = 0;
    char *body = NULL;
    if (s != NULL)
        body = json ? chr_render_metrics_json(s, &m, res, chr_clock_wall_ms(), &len)
                    : chr_render_metrics_prom(s, &m, res, chr_clock_wall_ms(), &len);
    json_decref(res);
    chr_view_snap_release(s);
    chr_http_body(r, body, len, json ? "application/json" : "text/plain; version=0.0.4");
    return chr_http_send(r);
}

/* ---- Mutations ----------------------------------------------------------------------------- */

/* The Warning (RFC 7234, code 299: persistent) on a job that cannot run
 * where it is accepted. */
const char chr_routes_no_runtime_warning[] =
    "299 - \"container: this server has no container runtime, so the job's runs wait and "
    "never run on the host: start chronos with --master or --local_containerizer\"";

/* Whether the body asked for "start now": a schedule "R<n>//<period>", or
 * neither a schedule nor parents (Chronos's run-once-now). */
static bool body_starts_now(const struct req *r)
{
    json_t *b = json_loadb(r->body, r->len, 0, NULL);
    const json_t *s = json_object_get(b, "schedule"), *p = json_object_get(b, "parents");
    bool now = false;
    if (json_array_size(p) == 0 && s == NULL) {
        now = b != NULL;
    } else if (json_array_size(p) == 0 && json_is_string(s)) {
        const char *t = json_string_value(s);
        size_t i = t[0] == 'R' ? 1 : 0;
        while (i > 0 && t[i] >= '0' && t[i] <= '9')
            i++;
        now = i > 0 && t[i] == '/' && t[i + 1] == '/';
    }
    json_decref(b);
    return now;
}

/* "R<n>/<start>/<period>" split at its two slashes; false when not so. */
static bool split3(const char *s, size_t *rep_len, const char **period)
{
    const char *a = s != NULL ? strchr(s, '/') : NULL;
    const char *b = a != NULL ? strchr(a + 1, '/') : NULL;
    if (b == NULL || strchr(b + 1, '/') != NULL)
        return false;
    *rep_len = (size_t)(a - s);
    *period = b + 1;
    return true;
}

/* A "start now" schedule posted again for a job whose stored schedule has
 * the same repetitions, period and zone keeps the start the server chose
 * the first time: re-applying the same file changes nothing and does not
 * run the job again (docs/api.md "R//"). */
static enum chr_err keep_chosen_start(struct req *r, struct chr_job *job)
{
    if (job->schedule == NULL || !body_starts_now(r))
        return CHR_OK;
    const struct chr_view_job *old = view_job(r, job->name);
    const struct chr_job *d = old != NULL ? old->def : NULL;
    size_t ra = 0, rb = 0;
    const char *pa = NULL, *pb = NULL;
    enum chr_err e = CHR_OK;
    const char *za = chr_job_zone(job), *zb = d != NULL ? chr_job_zone(d) : NULL;
    if (d != NULL && d->n_parents == 0 && split3(job->schedule, &ra, &pa) &&
        split3(d->schedule, &rb, &pb) && ra == rb && strncmp(job->schedule, d->schedule, ra) == 0 &&
        strcmp(pa, pb) == 0 && (za == zb || (za != NULL && zb != NULL && strcmp(za, zb) == 0))) {
        char *kept = chr_strndup(d->schedule, strlen(d->schedule));
        if (kept == NULL) {
            e = CHR_ENOMEM;
        } else {
            chr_free(job->schedule);
            job->schedule = kept;
        }
    }
    chr_view_job_release(old);
    return e;
}

/* Whether `job` is the stored job's definition exactly (as GET would show
 * it, without counters and progress): then posting it changes nothing. */
static bool same_as_stored(struct req *r, const struct chr_job *job)
{
    const struct chr_view_job *old = view_job(r, job->name);
    if (old == NULL)
        return false;
    size_t la = 0, lb = 0;
    char *a = chr_job_to_json(job, NULL, &la);
    char *b = chr_job_to_json(old->def, NULL, &lb);
    bool same = a != NULL && b != NULL && la == lb && memcmp(a, b, la) == 0;
    chr_free(a);
    chr_free(b);
    chr_view_job_release(old);
    return same;
}

/* Every top-level member a job body may hold: what the codec reads, what
 * a GET shows (so a GET posted back is accepted), and Chronos's fields we
 * accept and ignore.  Anything else is a typo or a field of another tool
 * (Kubernetes's `suspend`): named in a Warning, or refused with ?strict. */
static const char *const job_fields[] = {
    /* read (api/job_json.c) */
    "name", "command", "shell", "executor", "executorFlags", "taskInfoData", "retries", "owner",
    "ownerName", "description", "cpus", "disk", "mem", "disabled", "softError",
    "dataProcessingJobType", "fetch", "uris", "environmentVariables", "arguments", "highPriority",
    "runAsUser", "concurrent", "maxCompletionTime", "constraints", "schedule", "scheduleTimeZone",
    "parents", "container", "epsilon", "async", "retryDelaySeconds", "retryBackoff",
    "startingDeadlineSeconds", "notifyEvents",
    /* shown by GET and ignored when posted: Chronos's counters */
    "successCount", "errorCount", "lastSuccess", "lastError", "errorsSinceLastSuccess",
    /* the progress our GET showed in the job before it moved to job/{name}/status:
     * ignored, so a job saved from an older server posts back without a warning */
    "taskTimeSeconds", "nextRunAt", "remainingRepeats", "lastRunState",
};

/* The body's first member no one knows, with its near name; false when
 * every member is known. */
static bool unknown_field(const struct req *r, char key[80], const char **near)
{
    json_t *b = json_loadb(r->body, r->len, 0, NULL);
    const char *k;
    json_t *v;
    bool found = false;
    json_object_foreach(b, k, v) {
        bool known = false;
        for (size_t i = 0; i < sizeof job_fields / sizeof job_fields[0] && !known; i++)
            known = strcmp(k, job_fields[i]) == 0;
        if (!known) {
            shown(k, key);
            *near = chr_near_word(k, job_fields, sizeof job_fields / sizeof job_fields[0]);
            found = true;
            break;
        }
    }
    json_decref(b);
    return found;
}

/* ?strict=true: an unknown field is a 400 (the CLI's default); else it is
 * left out and named in a Warning header (Kubernetes's convention).  False
 * with the answer set when refused. */
static bool check_fields(struct req *r)
{
    char key[80];
    const char *near = NULL;
    if (!unknown_field(r, key, &near))
        return true;
    char hint[96] = "";
    if (near != NULL)
        snprintf(hint, sizeof hint, " (did you mean '%s'?)", near);
    const char *strict = chr_http_arg(r, "strict");
    if (strict != NULL && strcmp(strict, "false") != 0 && strcmp(strict, "0") != 0) {
        chr_http_error(r, 400, "%s: unknown field%s; nothing changed", key, hint);
        return false;
    }
    snprintf(r->warning_buf, sizeof r->warning_buf, "299 - \"unknown field '%s'%s, ignored\"",
             key, hint);
    r->warning = r->warning_buf;
    return true;
}

static enum MHD_Result post_job(struct req *r, enum chr_job_kind_hint hint)
{
    struct chr_event ev = {.type = CHR_EV_PUT_JOB};
    if (!body_job(r, hint, &ev.u.job.job))
        return chr_http_send(r);
    if (!check_fields(r)) {
        chr_job_free(&ev.u.job.job);
        return chr_http_send(r);
    }
    if (keep_chosen_start(r, &ev.u.job.job) != CHR_OK) {
        chr_job_free(&ev.u.job.job);
        chr_http_error(r, 500, "out of memory");
        return chr_http_send(r);
    }
    const char *dry = chr_http_arg(r, "dryRun");
    if (dry != NULL && strcmp(dry, "false") != 0 && strcmp(dry, "0") != 0) {
        /* Checked as a post would be, nothing handed to the scheduler
         * (`chronos apply` checks every job before it sends one). */
        chr_job_free(&ev.u.job.job);
        r->status = 204;
        return chr_http_send(r);
    }
    if (same_as_stored(r, &ev.u.job.job)) {
        /* Nothing to change: no write, no new schedule, no run (sync tools
         * that post every job on each pass converge). */
        chr_job_free(&ev.u.job.job);
        r->status = 204;
        return chr_http_send(r);
    }
    if (ev.u.job.job.container_json != NULL && r->sched->ops->containers != NULL &&
        !r->sched->ops->containers(r->sched)) {
        if (r->warning == r->warning_buf) { /* both: a list, as RFC 7234 allows */
            size_t n = strlen(r->warning_buf);
            snprintf(r->warning_buf + n, sizeof r->warning_buf - n, ", %s",
                     chr_routes_no_runtime_warning);
        } else {
            r->warning = chr_routes_no_runtime_warning;
        }
    }
    return chr_http_submit(r, &ev);
}

static enum MHD_Result named(struct req *r, enum chr_event_type type)
{
    struct chr_event ev = {.type = type};
    ev.u.named.name = r->name;
    char *args = NULL; /* RUN_JOB: ?arguments=a&arguments=b, as argv (run_cmd.h) */
    if (type == CHR_EV_RUN_JOB) {
        /* One past the limit is enough to refuse. */
        const char *v[CHR_JOB_ARGUMENTS_MAX + 1];
        size_t n = chr_http_arg_all(r, "arguments", v, sizeof v / sizeof v[0]);
        struct chr_error err = {{0}, {0}};
        enum chr_err e = CHR_OK;
        args = chr_run_args_encode(v, n, &e, &err);
        if (e != CHR_OK) {
            chr_http_error(r, chr_http_status_of(e), "%s", err.message);
            return chr_http_send(r);
        }
    }
    ev.u.named.arguments = args;
    if (type == CHR_EV_DELETE_JOB && !arg_bool(r, "force", &ev.u.named.force))
        return chr_http_send(r);
    r->success_text = type == CHR_EV_MARK_SUCCESS;
    enum MHD_Result ret = chr_http_submit(r, &ev); /* the loop copies the arguments */
    chr_free(args);
    return ret;
}

/* ---- POST /v1/notify/test ------------------------------------------------------------------ */

/* The body: none, {} or {"job": NAME}; the name into `name` ("" none).
 * False with the answer set. */
static bool notify_body(struct req *r, char name[CHR_JOB_NAME_MAX + 1])
{
    char b[80];
    name[0] = '\0';
    if (r->body == NULL || r->len == 0)
        return true;
    json_error_t je;
    json_t *o = json_loadb(r->body, r->len, JSON_REJECT_DUPLICATES, &je);
    const char *key, *bad = NULL;
    json_t *v;
    bool ok = json_is_object(o);
    if (!ok)
        chr_http_error(r, 400, "body: expected {} or {\"job\": NAME}");
    json_object_foreach(ok ? o : NULL, key, v) {
        if (strcmp(key, "job") != 0) {
            chr_http_error(r, 400, "%s: unknown field (the body is {\"job\": NAME})",
                           shown(key, b));
            ok = false;
            break;
        }
        if (json_is_null(v))
            continue;
        if (!json_is_string(v) || !chr_job_name_valid(json_string_value(v))) {
            bad = json_is_string(v) ? json_string_value(v) : "(not a string)";
            chr_http_error(r, 400, "job: '%s' is not a valid job name", shown(bad, b));
            ok = false;
            break;
        }
        snprintf(name, CHR_JOB_NAME_MAX + 1, "%s", json_string_value(v));
    }
    json_decref(o);
    return ok;
}

/* Called once, from the test's thread: its answer. */
static void notify_answered(void *ctx, json_t *answer)
{
    struct req *r = ctx;
    char *text = answer != NULL ? json_dumps(answer, JSON_COMPACT) : NULL;
    json_decref(answer);
    chr_http_body(r, text ? chr_strndup(text, strlen(text)) : NULL, text ? strlen(text) : 0,
                  "application/json");
    free(text); /* lint: allow (jansson's allocation) */
    chr_http_deferred_done(r);
}

struct notify_args {
    const struct chr_job *def;
    const struct chr_job_stats *stats;
};

static enum chr_err notify_start(struct req *r, void *arg)
{
    const struct notify_args *a = arg;
    enum chr_err e = r->sched->ops->notify_test(r->sched, a->def, a->stats, notify_answered, r);
    if (e == CHR_ERANGE)
        chr_http_error(r, 503, "too many notification tests at once: retry in a moment");
    return e;
}

/* A test notification through every configured sink, answered with what
 * each said (server/notify.h); the leader's (a standby forwards it). */
static enum MHD_Result notify_test(struct req *r)
{
    char name[CHR_JOB_NAME_MAX + 1];
    if (!notify_body(r, name))
        return chr_http_send(r);
    if (r->sched->ops->notify_test == NULL) {
        chr_http_error(r, 503, "this server sends no notifications");
        return chr_http_send(r);
    }
    const struct chr_view_job *j = name[0] != '\0' ? view_job(r, name) : NULL;
    if (name[0] != '\0' && j == NULL) {
        chr_http_error(r, 404, "job '%s' not found", name);
        return chr_http_send(r);
    }
    struct notify_args a = {j != NULL ? j->def : NULL, j != NULL ? &j->stats : NULL};
    enum MHD_Result ret = chr_http_defer(r, notify_start, &a);
    chr_view_job_release(j);
    return ret;
}

/* ---- Routing -------------------------------------------------------------------------------- */


static unsigned verb_of(const char *method)
{
    if (strcmp(method, "GET") == 0 || strcmp(method, "HEAD") == 0)
        return V_GET;
    if (strcmp(method, "POST") == 0)
        return V_POST;
    if (strcmp(method, "PUT") == 0)
        return V_PUT;
    if (strcmp(method, "DELETE") == 0)
        return V_DELETE;
    return 0;
}

static enum MHD_Result not_allowed(struct req *r, const char *method, const char *url,
                                   const char *allowed)
{
    char b[80], c[80];
    chr_http_error(r, 405, "method %s is not allowed on %s (use %s)", shown(method, b),
                   shown(url, c), allowed);
    return chr_http_send(r);
}

static enum MHD_Result no_endpoint(struct req *r, const char *url)
{
    char b[80];
    chr_http_error(r, 404, "no such endpoint: %s", shown(url, b));
    return chr_http_send(r);
}

/* The path after the API prefix (/v1/scheduler or the 2.x /scheduler), or NULL. */
static const char *api_path(const char *url)
{
    if (strncmp(url, "/v1/scheduler/", 14) == 0)
        return url + 13;
    if (strncmp(url, "/scheduler/", 11) == 0)
        return url + 10;
    return NULL;
}

/* "/job/..." endpoints: success/{name}, stat/{name}, {name}/next,
 * {name}/ledger, {name}/status, {name}. */
static enum MHD_Result job_routes(struct req *r, const char *rest, unsigned v, const char *method,
                                  const char *url)
{
    if (strncmp(rest, "success/", 8) == 0) {
        if (!(v & (V_PUT | V_POST)))
            return not_allowed(r, method, url, "PUT");
        return take_name(r, rest + 8) ? named(r, CHR_EV_MARK_SUCCESS) : chr_http_send(r);
    }
    if (strncmp(rest, "stat/", 5) == 0) {
        if (v != V_GET)
            return not_allowed(r, method, url, "GET");
        return take_name(r, rest + 5) ? stat(r) : chr_http_send(r);
    }
    const char *sub = strrchr(rest, '/');
    if (sub != NULL && (strcmp(sub, "/next") == 0 || strcmp(sub, "/ledger") == 0 ||
                        strcmp(sub, "/status") == 0)) {
        char name[CHR_JOB_NAME_MAX + 2];
        size_t k = (size_t)(sub - rest);
        snprintf(name, sizeof name, "%.*s", (int)(k < sizeof name - 1 ? k : sizeof name - 1), rest);
        if (v != V_GET)
            return not_allowed(r, method, url, "GET");
        if (!take_name(r, name))
            return chr_http_send(r);
        if (strcmp(sub, "/status") == 0)
            return job_status(r);
        return strcmp(sub, "/next") == 0 ? job_next(r) : ledger(r);
    }
    if (!take_name(r, rest))
        return chr_http_send(r);
    switch (v) {
    case V_GET: return get_job(r, is_v2(url));
    case V_PUT: return named(r, CHR_EV_RUN_JOB);
    case V_DELETE: return named(r, CHR_EV_DELETE_JOB);
    default: return not_allowed(r, method, url, "GET, PUT or DELETE");
    }
}

/* An exact path and the one verb it takes. */
static bool is(const char *p, const char *path)
{
    return strcmp(p, path) == 0;
}

/* PUT /scheduler/task/{taskId} {"statusCode":n}: Chronos 2.x's completion
 * callback for async jobs.  Our runs end when their task ends, so the call
 * changes nothing; it answers 204 for any id, as 2.x did for unknown ones,
 * after checking the body's shape so a broken client hears of it. */
static enum MHD_Result task_callback(struct req *r)
{
    json_error_t je;
    json_t *b = r->body != NULL && r->len > 0 ? json_loadb(r->body, r->len, 0, &je) : NULL;
    const json_t *code = json_object_get(b, "statusCode");
    bool ok = code != NULL && json_is_integer(code);
    json_decref(b);
    if (!ok) {
        chr_http_error(r, 400, "statusCode: expected {\"statusCode\": <integer>}");
        return chr_http_send(r);
    }
    r->status = 204;
    return chr_http_send(r);
}

static enum MHD_Result scheduler_routes(struct req *r, const char *p, unsigned v,
                                        const char *method, const char *url)
{
    bool v2 = is_v2(url);
    if (is(p, "/iso8601") || is(p, "/dependency") || is(p, "/preview")) {
        /* 2.x took PUT as well (chronos-python updates with it). */
        bool put_ok = v2 && !is(p, "/preview") && v == V_PUT;
        if (v != V_POST && !put_ok)
            return not_allowed(r, method, url, v2 && !is(p, "/preview") ? "POST or PUT" : "POST");
        if (is(p, "/preview"))
            return preview(r);
        return post_job(r, is(p, "/iso8601") ? CHR_JOB_HINT_SCHEDULED : CHR_JOB_HINT_DEPENDENT);
    }
    if (strncmp(p, "/job/", 5) == 0)
        return job_routes(r, p + 5, v, method, url);
    if (strncmp(p, "/task/kill/", 11) == 0) {
        if (v != V_DELETE)
            return not_allowed(r, method, url, "DELETE");
        return take_name(r, p + 11) ? named(r, CHR_EV_KILL_JOB) : chr_http_send(r);
    }
    if (v2 && strncmp(p, "/task/", 6) == 0 && p[6] != '\0' && strchr(p + 6, '/') == NULL) {
        if (v != V_PUT)
            return not_allowed(r, method, url, "PUT");
        return task_callback(r);
    }
    bool known = is(p, "/jobs") || is(p, "/jobs/summary") || is(p, "/jobs/search") ||
                 is(p, "/graph/dot") || is(p, "/graph/csv") || is(p, "/leader") ||
                 (strncmp(p, "/stats/", 7) == 0 && p[7] != '\0');
    if (!known)
        return no_endpoint(r, url);
    if (v != V_GET)
        return not_allowed(r, method, url, "GET");
    if (is(p, "/jobs")) /* jobs' texts are cached */
        return read_snap(r, v2 ? chr_render_jobs_v2 : chr_render_jobs, "application/json");
    if (is(p, "/jobs/summary"))
        return read_memo(r, CHR_VIEW_MEMO_SUMMARY, chr_render_summary);
    if (is(p, "/jobs/search"))
        return search(r, v2);
    if (is(p, "/graph/dot"))
        return read_snap(r, chr_render_graph_dot, "text/plain");
    if (is(p, "/graph/csv"))
        return read_snap(r, chr_render_graph_csv, "text/plain");
    if (is(p, "/leader"))
        return leader(r);
    return stats(r, p + 7);
}

/* ---- The dashboard ------------------------------------------------------------------------- */

static const char *query_get(void *ctx, const char *key)
{
    return chr_http_arg(ctx, key);
}

/* GET /v1/dashboard/jobs: a page of the job list (api/dash.h). */
static enum MHD_Result dash_jobs(struct req *r)
{
    struct chr_dash_query q;
    struct chr_error err = {{0}, {0}};
    if (chr_dash_query_parse(query_get, r, &q, &err) != CHR_OK) {
        chr_http_error(r, 400, "%s", err.message);
        return chr_http_send(r);
    }
    struct chr_view *v = r->sched->ops->view(r->sched);
    const struct chr_view_snap *s = chr_view_snapshot(v);
    size_t len = 0;
    char *body = s ? chr_dash_render_list(s, chr_view_epoch(v), &q, &len) : NULL;
    chr_view_snap_release(s);
    return answer(r, body, len, NULL, "application/json");
}

/* GET /v1/dashboard/changes?since=CURSOR: what changed since (api/dash.h). */
static enum MHD_Result dash_changes(struct req *r)
{
    const char *since = chr_http_arg(r, "since");
    if (since == NULL) {
        chr_http_error(r, 400, "since: missing (the \"cursor\" of a list or of a poll)");
        return chr_http_send(r);
    }
    struct chr_error err = {{0}, {0}};
    size_t len = 0;
    char *body = chr_dash_render_changes(r->sched->ops->view(r->sched), since, &len, &err);
    return answer(r, body, len, err.field[0] ? &err : NULL, "application/json");
}

/* The dashboard's page and files (GET and HEAD only). */
static enum MHD_Result dash_file(struct req *r, const char *url, unsigned v, const char *method)
{
    if (v != V_GET)
        return not_allowed(r, method, url, "GET");
    struct chr_asset_answer a;
    chr_assets_answer(url, chr_http_header(r, "Accept-Encoding"),
                      chr_http_header(r, "If-None-Match"), &a);
    return chr_http_send_asset(r, &a);
}

enum MHD_Result chr_routes_dispatch(struct req *r, const char *url, const char *method)
{
    unsigned v = verb_of(method);
    const char *p = api_path(url);
    if (p != NULL)
        return scheduler_routes(r, p, v, method, url);
    if (is(url, "/ping") || is(url, "/leader") || is(url, "/metrics") || is(url, "/v1/status") ||
        is(url, "/v1/runs") || is(url, "/health")) {
        if (v != V_GET)
            return not_allowed(r, method, url, "GET");
        if (is(url, "/ping")) {
            chr_http_body(r, chr_strndup("pong", 4), 4, "text/plain");
            return chr_http_send(r);
        }
        if (is(url, "/health"))
            return health(r);
        if (is(url, "/leader"))
            return leader(r);
        if (is(url, "/metrics"))
            return metrics(r);
        return is(url, "/v1/status") ? status(r) : runs(r);
    }
    if (strncmp(url, "/v1/runs/", 9) == 0)
        return run(r, url + 9, v);
    if (is(url, "/v1/notify/test")) {
        if (v != V_POST)
            return not_allowed(r, method, url, "POST");
        return notify_test(r);
    }
    if (is(url, "/v1/dashboard/jobs") || is(url, "/v1/dashboard/changes")) {
        if (v != V_GET)
            return not_allowed(r, method, url, "GET");
        return is(url, "/v1/dashboard/jobs") ? dash_jobs(r) : dash_changes(r);
    }
    if (chr_assets_is_path(url))
        return dash_file(r, url, v, method);
    return no_endpoint(r, url);
}
