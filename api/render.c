/*
 * render.c - the bodies of the API's read endpoints, from a published
 * snapshot of the read model (api/view.h).
 *
 * Every renderer is a pure function of its arguments: no I/O, no clock (the
 * caller passes now_ms), no locks, no global state.  Text is built with
 * common/sb.h, whose allocations go through chr_malloc, so a test can fail
 * any of them: a renderer that runs out of memory frees what it built and
 * returns NULL, never a partial body.  JSON strings are escaped by
 * chr_sb_json_str (not with jansson, whose allocations the tests cannot
 * fail), and bytes that are not UTF-8 become U+FFFD, so every body is valid
 * one-line JSON.
 */
#include "api/render.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/alloc.h"
#include "common/limits.h"
#include "common/sb.h"

/* ---- Values as text ------------------------------------------------------ */

/* The shortest %g text that reads back as the same double, so values
 * round-trip and no locale-dependent grouping appears (the server never
 * calls setlocale: the decimal point is '.'). */
static void shortest(double v, char out[40])
{
    if (v == floor(v) && fabs(v) < 1e15) { /* whole: "60", not "6e+01" */
        snprintf(out, 40, "%.0f", v);
        return;
    }
    for (int prec = 1; prec <= 17; prec++) {
        snprintf(out, 40, "%.*g", prec, v);
        if (strtod(out, NULL) == v)
            return;
    }
}

/* A JSON number as Java prints a double: "250.0", "0.375", "1.0E-5"-like
 * values stay in C's exponent form, which JSON accepts.  Not finite: 0.0. */
static void sb_json_double(struct chr_sb *b, double v)
{
    char t[40];
    if (!isfinite(v))
        v = 0.0;
    shortest(v, t);
    chr_sb_str(b, t);
    if (strspn(t, "-0123456789") == strlen(t))
        chr_sb_str(b, ".0");
}

/* A Prometheus sample value: Go's ParseFloat reads all of these. */
static void sb_prom_double(struct chr_sb *b, double v)
{
    char t[40];
    if (isnan(v)) {
        chr_sb_str(b, "NaN");
        return;
    }
    if (isinf(v)) {
        chr_sb_str(b, v > 0 ? "+Inf" : "-Inf");
        return;
    }
    shortest(v, t);
    chr_sb_str(b, t);
}

/* "key": (with the comma before it unless first). */
static void sb_key(struct chr_sb *b, const char *key, bool first)
{
    if (!first)
        chr_sb_ch(b, ',');
    chr_sb_ch(b, '"');
    chr_sb_str(b, key);
    chr_sb_str(b, "\":");
}

/* An instant as a quoted ISO 8601 UTC text, or null when INT64_MIN/MAX. */
static void sb_json_instant(struct chr_sb *b, int64_t at_ms)
{
    char t[CHR_INSTANT_TEXT_MAX];
    if (at_ms == INT64_MIN || at_ms == INT64_MAX) {
        chr_sb_str(b, "null");
        return;
    }
    size_t n = chr_instant_format(at_ms, t);
    chr_sb_ch(b, '"');
    chr_sb_put(b, t, n);
    chr_sb_ch(b, '"');
}

/* ---- Small pure helpers -------------------------------------------------- */

static char lower(char c)
{
    return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
}

/* Is `needle` a substring of `hay`, ASCII case folded (as Java's
 * toLowerCase folds the names and commands Chronos compares)? */
bool chr_render_contains(const char *hay, const char *needle)
{
    size_t n = strlen(needle);
    hay = hay ? hay : "";
    for (; *hay != '\0' || n == 0; hay++) {
        size_t i = 0;
        while (i < n && hay[i] != '\0' && lower(hay[i]) == lower(needle[i]))
            i++;
        if (i == n)
            return true;
    }
    return false;
}

static bool given(const char *s)
{
    return s != NULL && s[0] != '\0';
}

static bool is_dependent(const struct chr_job *def)
{
    return def->n_parents > 0 || def->schedule == NULL;
}

static bool run_ended(enum chr_run_state s)
{
    return s >= CHR_RUN_FINISHED;
}

static bool run_has_time(const struct chr_view_run *r)
{
    return r->started_ms != INT64_MIN && r->ended_ms != INT64_MIN;
}

/* Newest first: due_ms, then attempt, then id, all descending. */
static int run_cmp(const struct chr_view_run *a, const struct chr_view_run *b)
{
    if (a->due_ms != b->due_ms)
        return a->due_ms > b->due_ms ? -1 : 1;
    if (a->attempt != b->attempt)
        return a->attempt > b->attempt ? -1 : 1;
    return -strcmp(a->id, b->id);
}

static int run_ptr_cmp(const void *a, const void *b)
{
    return run_cmp(*(const struct chr_view_run *const *)a, *(const struct chr_view_run *const *)b);
}

static int double_cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* ---- Run times and their statistics -------------------------------------- */

/* The run times (ms) of j's finished runs that have both instants, sorted
 * ascending, into v (room for j->n_finished); returns how many. */
static size_t run_times(const struct chr_view_job *j, double *v)
{
    size_t n = 0;
    for (uint32_t i = 0; i < j->n_finished; i++)
        if (run_has_time(&j->runs[i]))
            v[n++] = (double)(j->runs[i].ended_ms - j->runs[i].started_ms);
    qsort(v, n, sizeof *v, double_cmp);
    return n;
}

/* Quantile q of sorted v[0..n) by linear interpolation between the closest
 * ranks, the rule of Dropwizard's UniformSnapshot (Chronos's histograms
 * are Dropwizard's, over a decaying sample of runs): pos = q * (n + 1);
 * below 1 the smallest value, at or past n the largest, else
 * v[k-1] + (pos - k) * (v[k] - v[k-1]) with k = floor(pos).  0 when n is 0. */
static double quantile(const double *v, size_t n, double q)
{
    if (n == 0)
        return 0.0;
    double pos = q * (double)(n + 1);
    if (pos < 1.0)
        return v[0];
    if (pos >= (double)n)
        return v[n - 1];
    size_t k = (size_t)pos;
    return v[k - 1] + (pos - (double)k) * (v[k] - v[k - 1]);
}

/* The real mean (Chronos 3 reports the median under that name: a bug). */
static double mean(const double *v, size_t n)
{
    double sum = 0.0;
    for (size_t i = 0; i < n; i++)
        sum += v[i];
    return n == 0 ? 0.0 : sum / (double)n;
}

struct pct {
    const char *name;
    double q; /* < 0: the mean */
};

static const struct pct pcts[] = {
    {"99thPercentile", 0.99}, {"98thPercentile", 0.98}, {"95thPercentile", 0.95},
    {"75thPercentile", 0.75}, {"median", 0.5},          {"mean", -1.0},
};
#define N_PCTS (sizeof pcts / sizeof pcts[0])

static double pct_value(const struct pct *p, const double *v, size_t n)
{
    return p->q < 0 ? mean(v, n) : quantile(v, n, p->q);
}

/* A scratch array for the run times of any of the jobs (NULL with *ok false
 * when out of memory; NULL with *ok true when no job has finished runs). */
static double *times_scratch(const struct chr_view_job *const *jobs, size_t n_jobs, bool *ok)
{
    uint32_t most = 0;
    for (size_t i = 0; i < n_jobs; i++)
        if (jobs[i]->n_finished > most)
            most = jobs[i]->n_finished;
    *ok = true;
    if (most == 0)
        return NULL;
    double *v = chr_malloc((size_t)most * sizeof *v);
    *ok = v != NULL;
    return v;
}

/* ---- jobs, summary, search ------------------------------------------------ */

/* Appends j's job JSON (from the view); false when out of memory.  `v2`:
 * as Chronos 2.x's serializer wrote it, with `async` always (ours shows it
 * only when true, as Chronos 3 has no such field). */
static bool put_job_json(struct chr_sb *b, const struct chr_view_job *j, bool v2)
{
    size_t n = 0;
    const char *t = chr_view_job_json(j, &n);
    if (t == NULL || n < 2) {
        chr_sb_fail(b);
        return false;
    }
    if (v2 && !j->def->async) {
        chr_sb_put(b, t, n - 1); /* the object without its closing brace */
        chr_sb_str(b, ",\"async\":false}");
    } else {
        chr_sb_put(b, t, n);
    }
    return !chr_sb_failed(b);
}

static char *render_jobs(const struct chr_view_snap *s, bool v2, size_t *len)
{
    struct chr_sb b = {0};
    chr_sb_ch(&b, '[');
    for (size_t i = 0; i < s->n && !chr_sb_failed(&b); i++) {
        if (i > 0)
            chr_sb_ch(&b, ',');
        put_job_json(&b, s->jobs[i], v2);
    }
    chr_sb_ch(&b, ']');
    return chr_sb_finish(&b, len);
}

char *chr_render_jobs(const struct chr_view_snap *s, size_t *len)
{
    return render_jobs(s, false, len);
}

char *chr_render_jobs_v2(const struct chr_view_snap *s, size_t *len)
{
    return render_jobs(s, true, len);
}

char *chr_render_job(const struct chr_view_job *j, bool v2, size_t *len)
{
    struct chr_sb b = {0};
    put_job_json(&b, j, v2);
    return chr_sb_finish(&b, len);
}

/* An instant, or null when INT64_MIN (never) or INT64_MAX (none). */
static void put_instant_or_null(struct chr_sb *b, const char *key, int64_t at_ms)
{
    sb_key(b, key, false);
    sb_json_instant(b, at_ms);
}

/* Ours, beside Chronos's status and state (which a killed run or a retry
 * leave unchanged): the last run's outcome and end, when a retry is due,
 * the next instant, the repeats left and the summed task time. */
static void put_status_fields(struct chr_sb *b, const struct chr_view_job *j)
{
    const char *last = chr_view_last_run_state(j);
    sb_key(b, "lastRunState", false);
    if (last != NULL)
        chr_sb_json_str(b, last);
    else
        chr_sb_str(b, "null");
    put_instant_or_null(b, "lastRunAt",
                        j->n_finished > 0 ? j->runs[j->n_finished - 1].ended_ms : INT64_MIN);
    int64_t retry = INT64_MAX;
    for (uint32_t i = j->n_finished; i < j->n_runs; i++)
        if (j->runs[i].cause == CHR_CAUSE_RETRY && j->runs[i].state < CHR_RUN_RUNNING &&
            j->runs[i].ready_ms < retry)
            retry = j->runs[i].ready_ms;
    put_instant_or_null(b, "retryAt", retry);
    put_instant_or_null(b, "nextRunAt", j->next_ms);
    sb_key(b, "remainingRepeats", false);
    if (j->remaining_repeats >= 0)
        chr_sb_fmt(b, "%" PRId64, j->remaining_repeats);
    else
        chr_sb_str(b, "null");
    sb_key(b, "taskTimeSeconds", false);
    sb_json_double(b, (double)j->stats.task_time_ms / 1000.0);
}

static void put_summary(struct chr_sb *b, const struct chr_view_job *j)
{
    const struct chr_job *d = j->def;
    char state[32];
    sb_key(b, "name", true);
    chr_sb_json_str(b, d->name);
    sb_key(b, "status", false);
    chr_sb_json_str(b, chr_view_job_status(j));
    sb_key(b, "state", false);
    chr_sb_json_str(b, chr_view_job_state(j, state));
    sb_key(b, "schedule", false);
    chr_sb_json_str(b, is_dependent(d) ? "" : d->schedule);
    sb_key(b, "parents", false);
    chr_sb_ch(b, '[');
    for (uint32_t i = 0; i < d->n_parents; i++) {
        if (i > 0)
            chr_sb_ch(b, ',');
        chr_sb_json_str(b, d->parents[i]);
    }
    chr_sb_ch(b, ']');
    sb_key(b, "disabled", false);
    chr_sb_str(b, d->disabled ? "true" : "false");
    put_status_fields(b, j);
}

char *chr_render_summary(const struct chr_view_snap *s, size_t *len)
{
    struct chr_sb b = {0};
    chr_sb_str(&b, "{\"jobs\":[");
    for (size_t i = 0; i < s->n && !chr_sb_failed(&b); i++) {
        chr_sb_str(&b, i > 0 ? ",{" : "{");
        put_summary(&b, s->jobs[i]);
        chr_sb_ch(&b, '}');
    }
    chr_sb_str(&b, "]}");
    return chr_sb_finish(&b, len);
}

char *chr_render_job_status(const struct chr_view_job *j, size_t *len)
{
    struct chr_sb b = {0};
    chr_sb_ch(&b, '{');
    put_summary(&b, j);
    chr_sb_ch(&b, '}');
    return chr_sb_finish(&b, len);
}

/* Chronos's search rule (JobManagementResource.search): every comparison
 * is case-insensitive, the command's and any's included. */
static bool search_matches(const struct chr_job *d, const struct chr_search *q)
{
    bool by_name = !given(q->name) || chr_render_contains(d->name, q->name);
    bool by_command = !given(q->command) || chr_render_contains(d->command, q->command);
    if (by_name && by_command)
        return true;
    return given(q->any) &&
           (chr_render_contains(d->name, q->any) || chr_render_contains(d->command, q->any));
}

char *chr_render_search(const struct chr_view_snap *s, const struct chr_search *q, size_t *len)
{
    struct chr_sb b = {0};
    size_t seen = 0, shown = 0;
    chr_sb_ch(&b, '[');
    for (size_t i = 0; i < s->n && shown < q->limit && !chr_sb_failed(&b); i++) {
        if (!search_matches(s->jobs[i]->def, q))
            continue;
        if (seen++ < q->offset)
            continue;
        if (shown++ > 0)
            chr_sb_ch(&b, ',');
        put_job_json(&b, s->jobs[i], q->v2);
    }
    chr_sb_ch(&b, ']');
    return chr_sb_finish(&b, len);
}

/* ---- job/stat --------------------------------------------------------------- */

/* "MM/dd/yy HH:mm:ss" in UTC (Chronos's history format), or "N/A". */
static void put_stat_time(struct chr_sb *b, int64_t at_ms)
{
    struct chr_civil c;
    if (at_ms == INT64_MIN) {
        chr_sb_str(b, "\"N/A\"");
        return;
    }
    chr_ms_to_civil(at_ms, &c);
    chr_sb_fmt(b, "\"%02d/%02d/%02d %02d:%02d:%02d\"", c.month, c.day,
           (int)chr_floor_mod(c.year, 100), c.hour, c.minute, c.second);
}

/* A duration as Chronos's Joda formatter prints it: days, hours and
 * minutes only when not zero, whole seconds always ("1d2h3m4s", "1h5s",
 * "2m0s", "0s").  Chronos's Duration.toPeriod() has no days field, so it
 * shows 26 hours as "26h0s"; we show "1d2h0s", the shape the API documents. */
static void put_duration(struct chr_sb *b, int64_t ms)
{
    int64_t s = ms < 0 ? 0 : ms / 1000;
    int64_t part[3] = {s / 86400, s / 3600 % 24, s / 60 % 60};
    static const char unit[3] = {'d', 'h', 'm'};
    chr_sb_ch(b, '"');
    for (int i = 0; i < 3; i++)
        if (part[i] != 0)
            chr_sb_fmt(b, "%" PRId64 "%c", part[i], unit[i]);
    chr_sb_fmt(b, "%" PRId64 "s\"", s % 60);
}

static const char *stat_status(enum chr_run_state s)
{
    switch (s) {
    case CHR_RUN_FINISHED: return "Success";
    case CHR_RUN_FAILED: case CHR_RUN_KILLED: case CHR_RUN_LOST: return "Fail";
    case CHR_RUN_RUNNING: return "Running";
    default: return "Idle";
    }
}

static void put_histogram(struct chr_sb *b, const double *v, size_t n)
{
    static const size_t order[] = {3, 2, 1, 0, 4, 5}; /* 75th .. 99th, median, mean */
    chr_sb_str(b, "\"histogram\":{");
    for (size_t i = 0; i < N_PCTS; i++) {
        sb_key(b, pcts[order[i]].name, i == 0);
        sb_json_double(b, pct_value(&pcts[order[i]], v, n));
    }
    sb_key(b, "count", false);
    chr_sb_fmt(b, "%zu", n);
    chr_sb_ch(b, '}');
}

static void put_stat_run(struct chr_sb *b, const struct chr_view_job *j, const struct chr_view_run *r)
{
    sb_key(b, "taskId", true);
    chr_sb_json_str(b, r->id);
    sb_key(b, "jobName", false);
    chr_sb_json_str(b, j->def->name);
    sb_key(b, "slaveId", false);
    chr_sb_str(b, "\"\""); /* one host: the local resource manager has no agent id */
    sb_key(b, "startTime", false);
    put_stat_time(b, r->started_ms);
    sb_key(b, "endTime", false);
    put_stat_time(b, run_ended(r->state) ? r->ended_ms : INT64_MIN);
    if (run_ended(r->state) && run_has_time(r)) {
        sb_key(b, "duration", false);
        put_duration(b, r->ended_ms - r->started_ms);
    }
    sb_key(b, "status", false);
    chr_sb_json_str(b, stat_status(r->state));
}

char *chr_render_ledger(const struct chr_view_job *j, size_t *len)
{
    struct chr_sb b = {0};
    chr_sb_ch(&b, '[');
    for (uint32_t i = 0; i < j->n_ledger; i++) {
        const struct chr_ledger_entry *e = &j->ledger[i];
        if (i > 0)
            chr_sb_ch(&b, ',');
        chr_sb_ch(&b, '{');
        sb_key(&b, "from", true);
        sb_json_instant(&b, e->first_ms);
        sb_key(&b, "to", false);
        sb_json_instant(&b, e->last_ms);
        sb_key(&b, "fromMs", false);
        chr_sb_fmt(&b, "%lld", (long long)e->first_ms);
        sb_key(&b, "toMs", false);
        chr_sb_fmt(&b, "%lld", (long long)e->last_ms);
        sb_key(&b, "count", false);
        chr_sb_fmt(&b, "%lld", (long long)e->count);
        sb_key(&b, "reason", false);
        chr_sb_json_str(&b, chr_ledger_reason_name(e->reason));
        chr_sb_ch(&b, '}');
    }
    chr_sb_ch(&b, ']');
    return chr_sb_finish(&b, len);
}

char *chr_render_stat(const struct chr_view_job *j, size_t *len)
{
    struct chr_sb b = {0};
    double *v = j->n_finished ? chr_malloc(j->n_finished * sizeof *v) : NULL;
    const struct chr_view_run **hist = j->n_runs ? chr_malloc(j->n_runs * sizeof *hist) : NULL;
    if ((j->n_finished && v == NULL) || (j->n_runs && hist == NULL)) {
        chr_sb_fail(&b);
        goto out;
    }
    size_t n = v ? run_times(j, v) : 0;
    for (uint32_t i = 0; i < j->n_runs; i++)
        hist[i] = &j->runs[i];
    if (j->n_runs > 1)
        qsort(hist, j->n_runs, sizeof *hist, run_ptr_cmp);
    chr_sb_ch(&b, '{');
    put_histogram(&b, v, n);
    chr_sb_str(&b, ",\"taskStatHistory\":[");
    for (uint32_t i = 0; i < j->n_runs && !chr_sb_failed(&b); i++) {
        chr_sb_str(&b, i > 0 ? ",{" : "{");
        put_stat_run(&b, j, hist[i]);
        chr_sb_ch(&b, '}');
    }
    chr_sb_str(&b, "]}");
out:
    chr_free(v);
    chr_free(hist);
    return chr_sb_finish(&b, len);
}

/* ---- graph/dot, graph/csv ---------------------------------------------------- */

struct name_idx {
    const char *name;
    size_t idx;
};

static int name_idx_cmp(const void *a, const void *b)
{
    return strcmp(((const struct name_idx *)a)->name, ((const struct name_idx *)b)->name);
}

/* A DOT quoted string: '"' and '\' escaped, a newline as \n, other control
 * characters as spaces. */
static void sb_dot_str(struct chr_sb *b, const char *s)
{
    chr_sb_ch(b, '"');
    for (; *s != '\0'; s++) {
        if (*s == '"' || *s == '\\') {
            char e[2] = {'\\', *s};
            chr_sb_put(b, e, 2);
        } else if (*s == '\n') {
            chr_sb_str(b, "\\n");
        } else {
            chr_sb_ch(b, (unsigned char)*s < 0x20 ? ' ' : *s);
        }
    }
    chr_sb_ch(b, '"');
}

static void put_dot_edges(struct chr_sb *b, const struct chr_view_snap *s, const struct name_idx *ix)
{
    for (size_t i = 0; i < s->n && !chr_sb_failed(b); i++) {
        const struct chr_job *d = s->jobs[i]->def;
        for (uint32_t k = 0; k < d->n_parents; k++) {
            struct name_idx key = {d->parents[k], 0};
            const struct name_idx *p = bsearch(&key, ix, s->n, sizeof *ix, name_idx_cmp);
            if (p != NULL) /* a published parent always exists; never draw a dangling edge */
                chr_sb_fmt(b, "  %zu -> %zu;\n", p->idx + 1, i + 1);
        }
    }
}

/* The shape of JGraphT's DOTExporter, which Chronos uses: vertices numbered
 * from 1 in registration order, labelled with the job's name, then one edge
 * parent -> child per parent. */
char *chr_render_graph_dot(const struct chr_view_snap *s, size_t *len)
{
    struct chr_sb b = {0};
    struct name_idx *ix = s->n ? chr_malloc(s->n * sizeof *ix) : NULL;
    if (s->n && ix == NULL) {
        chr_sb_fail(&b);
        return chr_sb_finish(&b, len);
    }
    for (size_t i = 0; i < s->n; i++)
        ix[i] = (struct name_idx){s->jobs[i]->def->name, i};
    if (s->n > 1)
        qsort(ix, s->n, sizeof *ix, name_idx_cmp);
    chr_sb_str(&b, "digraph G {\n");
    for (size_t i = 0; i < s->n && !chr_sb_failed(&b); i++) {
        chr_sb_fmt(&b, "  %zu [ label=", i + 1);
        sb_dot_str(&b, s->jobs[i]->def->name);
        chr_sb_str(&b, " ];\n");
    }
    put_dot_edges(&b, s, ix);
    chr_sb_str(&b, "}\n");
    chr_free(ix);
    return chr_sb_finish(&b, len);
}

/* A CSV field, quoted (RFC 4180) only when it holds ',', '"', CR or LF. */
static void sb_csv(struct chr_sb *b, const char *s)
{
    if (strpbrk(s, ",\"\r\n") == NULL) {
        chr_sb_str(b, s);
        return;
    }
    chr_sb_ch(b, '"');
    for (; *s != '\0'; s++) {
        if (*s == '"')
            chr_sb_ch(b, '"');
        chr_sb_ch(b, *s);
    }
    chr_sb_ch(b, '"');
}

char *chr_render_graph_csv(const struct chr_view_snap *s, size_t *len)
{
    struct chr_sb b = {0};
    char state[32];
    for (size_t i = 0; i < s->n && !chr_sb_failed(&b); i++) {
        const struct chr_view_job *j = s->jobs[i];
        chr_sb_str(&b, "node,");
        sb_csv(&b, j->def->name);
        chr_sb_ch(&b, ',');
        sb_csv(&b, chr_view_job_status(j));
        chr_sb_ch(&b, ',');
        sb_csv(&b, chr_view_job_state(j, state));
        chr_sb_ch(&b, '\n');
    }
    for (size_t i = 0; i < s->n && !chr_sb_failed(&b); i++) {
        const struct chr_job *d = s->jobs[i]->def;
        for (uint32_t k = 0; k < d->n_parents; k++) {
            chr_sb_str(&b, "link,");
            sb_csv(&b, d->parents[k]);
            chr_sb_ch(&b, ',');
            sb_csv(&b, d->name);
            chr_sb_ch(&b, '\n');
        }
    }
    return chr_sb_finish(&b, len);
}

/* ---- stats/{percentile} ------------------------------------------------------ */

struct job_time {
    const char *name;
    double seconds;
};

/* Slowest first, ties by name ascending. */
static int job_time_cmp(const void *a, const void *b)
{
    const struct job_time *x = a, *y = b;
    if (x->seconds != y->seconds)
        return x->seconds > y->seconds ? -1 : 1;
    return strcmp(x->name, y->name);
}

static const struct pct *find_pct(const char *name, struct chr_error *err)
{
    for (size_t i = 0; i < N_PCTS; i++)
        if (name != NULL && strcmp(name, pcts[i].name) == 0)
            return &pcts[i];
    chr_error_set(err, CHR_EINVAL, "percentile",
                  "'%s' is not one of 99thPercentile, 98thPercentile, 95thPercentile, "
                  "75thPercentile, median, mean",
                  name ? name : "");
    return NULL;
}

char *chr_render_stats(const struct chr_view_snap *s, const char *percentile, size_t *len,
                       struct chr_error *err)
{
    struct chr_sb b = {0};
    bool ok;
    chr_error_clear(err);
    const struct pct *p = find_pct(percentile, err);
    if (p == NULL)
        return NULL;
    double *v = times_scratch(s->jobs, s->n, &ok);
    struct job_time *t = s->n ? chr_malloc(s->n * sizeof *t) : NULL;
    if (!ok || (s->n && t == NULL)) {
        chr_sb_fail(&b);
        goto out;
    }
    for (size_t i = 0; i < s->n; i++) {
        size_t n = v ? run_times(s->jobs[i], v) : 0;
        t[i] = (struct job_time){s->jobs[i]->def->name, pct_value(p, v, n) / 1000.0};
    }
    if (s->n > 1)
        qsort(t, s->n, sizeof *t, job_time_cmp);
    chr_sb_ch(&b, '[');
    for (size_t i = 0; i < s->n && !chr_sb_failed(&b); i++) {
        chr_sb_str(&b, i > 0 ? ",{\"jobNameLabel\":" : "{\"jobNameLabel\":");
        chr_sb_json_str(&b, t[i].name);
        chr_sb_str(&b, ",\"time\":");
        sb_json_double(&b, t[i].seconds);
        chr_sb_ch(&b, '}');
    }
    chr_sb_ch(&b, ']');
out:
    chr_free(v);
    chr_free(t);
    return chr_sb_finish(&b, len);
}

/* ---- runs ---------------------------------------------------------------------- */

static const char *const state_names[] = {
    [CHR_RUN_RECORDING] = "recording", [CHR_RUN_QUEUED] = "queued",
    [CHR_RUN_LAUNCHING] = "launching", [CHR_RUN_RUNNING] = "running",
    [CHR_RUN_FINISHED] = "finished",   [CHR_RUN_FAILED] = "failed",
    [CHR_RUN_KILLED] = "killed",       [CHR_RUN_LOST] = "lost",
};
#define N_STATE_NAMES (sizeof state_names / sizeof state_names[0])

const char *chr_render_run_state(enum chr_run_state s)
{
    if ((size_t)s < N_STATE_NAMES && state_names[s] != NULL)
        return state_names[s];
    return "unknown";
}

static const char *cause_name(enum chr_run_cause c)
{
    switch (c) {
    case CHR_CAUSE_SCHEDULED: return "scheduled";
    case CHR_CAUSE_DEPENDENT: return "dependent";
    case CHR_CAUSE_MANUAL: return "manual";
    case CHR_CAUSE_RETRY: return "retry";
    default: return "unknown";
    }
}

static void put_run(struct chr_sb *b, const struct chr_view_job *j, const struct chr_view_run *r)
{
    bool ended = run_ended(r->state);
    sb_key(b, "id", true);
    chr_sb_json_str(b, r->id);
    sb_key(b, "job", false);
    chr_sb_json_str(b, j->def->name);
    sb_key(b, "attempt", false);
    chr_sb_fmt(b, "%" PRId32, r->attempt);
    sb_key(b, "cause", false);
    chr_sb_json_str(b, cause_name(r->cause));
    sb_key(b, "state", false);
    chr_sb_json_str(b, chr_render_run_state(r->state));
    sb_key(b, "scheduledAt", false);
    sb_json_instant(b, r->due_ms);
    sb_key(b, "startedAt", false);
    sb_json_instant(b, r->started_ms);
    sb_key(b, "endedAt", false);
    sb_json_instant(b, ended ? r->ended_ms : INT64_MIN);
    sb_key(b, "durationMs", false);
    if (ended && run_has_time(r))
        chr_sb_fmt(b, "%" PRId64, r->ended_ms - r->started_ms);
    else
        chr_sb_str(b, "null");
    sb_key(b, "exitCode", false);
    if (ended && r->exit_code != -1)
        chr_sb_fmt(b, "%" PRId32, r->exit_code);
    else
        chr_sb_str(b, "null");
    sb_key(b, "reason", false);
    chr_sb_json_str(b, r->reason);
    if (!ended && r->ready_ms > r->due_ms && r->started_ms == INT64_MIN) {
        sb_key(b, "notBefore", false); /* a retry waiting for its delay */
        sb_json_instant(b, r->ready_ms);
    }
}

char *chr_render_run(const struct chr_view_job *j, const struct chr_view_run *r, size_t *len)
{
    struct chr_sb b = {0};
    chr_sb_ch(&b, '{');
    put_run(&b, j, r);
    chr_sb_ch(&b, '}');
    return chr_sb_finish(&b, len);
}

const struct chr_view_run *chr_view_find_run(const struct chr_view_job *j, const char *id)
{
    for (uint32_t i = 0; id != NULL && i < j->n_runs; i++)
        if (strcmp(j->runs[i].id, id) == 0)
            return &j->runs[i];
    return NULL;
}

/* The state filter: 0 all, a state, or ACTIVE / ENDED; -1 unknown. */
enum { FILTER_ALL = 0, FILTER_ACTIVE = 100, FILTER_ENDED = 101 };

static int parse_filter(const char *state, struct chr_error *err)
{
    if (state == NULL)
        return FILTER_ALL;
    if (strcmp(state, "active") == 0)
        return FILTER_ACTIVE;
    if (strcmp(state, "ended") == 0)
        return FILTER_ENDED;
    for (size_t i = 0; i < N_STATE_NAMES; i++)
        if (state_names[i] != NULL && strcmp(state, state_names[i]) == 0)
            return (int)i;
    chr_error_set(err, CHR_EINVAL, "state",
                  "'%s' is not one of recording, queued, launching, running, finished, failed, "
                  "killed, lost, active, ended",
                  state);
    return -1;
}

static bool filter_keeps(int f, enum chr_run_state s)
{
    if (f == FILTER_ALL)
        return true;
    if (f == FILTER_ACTIVE)
        return !run_ended(s);
    if (f == FILTER_ENDED)
        return run_ended(s);
    return (int)s == f;
}

struct run_ref {
    const struct chr_view_job *j;
    const struct chr_view_run *r;
};

static int run_ref_cmp(const void *a, const void *b)
{
    return run_cmp(((const struct run_ref *)a)->r, ((const struct run_ref *)b)->r);
}

/* A bounded heap of the newest `cap` runs: h[0] is the oldest kept, so a
 * newer run replaces it.  O(runs * log cap) time, O(cap) memory. */
struct run_heap {
    struct run_ref *h;
    size_t n, cap;
};

static void heap_sift_down(struct run_heap *q, size_t i)
{
    for (;;) {
        size_t l = 2 * i + 1, r = l + 1, m = i;
        if (l < q->n && run_ref_cmp(&q->h[l], &q->h[m]) > 0)
            m = l;
        if (r < q->n && run_ref_cmp(&q->h[r], &q->h[m]) > 0)
            m = r;
        if (m == i)
            return;
        struct run_ref t = q->h[i];
        q->h[i] = q->h[m];
        q->h[m] = t;
        i = m;
    }
}

static void heap_offer(struct run_heap *q, struct run_ref x)
{
    if (q->n < q->cap) {
        size_t i = q->n++;
        q->h[i] = x;
        while (i > 0 && run_ref_cmp(&q->h[(i - 1) / 2], &q->h[i]) < 0) {
            struct run_ref t = q->h[i];
            q->h[i] = q->h[(i - 1) / 2];
            q->h[(i - 1) / 2] = t;
            i = (i - 1) / 2;
        }
    } else if (q->cap > 0 && run_ref_cmp(&x, &q->h[0]) < 0) {
        q->h[0] = x;
        heap_sift_down(q, 0);
    }
}

/* The jobs a runs query covers: [*first, *end) of s->jobs; false when the
 * job named is unknown. */
static bool runs_jobs(const struct chr_view_snap *s, const char *job, size_t *first, size_t *end)
{
    *first = 0;
    *end = s->n;
    if (job == NULL)
        return true;
    for (size_t i = 0; i < s->n; i++) {
        if (strcmp(s->jobs[i]->def->name, job) == 0) {
            *first = i;
            *end = i + 1;
            return true;
        }
    }
    return false;
}

char *chr_render_runs(const struct chr_view_snap *s, const struct chr_runs_query *q, size_t *len,
                      struct chr_error *err)
{
    struct chr_sb b = {0};
    struct run_heap heap = {NULL, 0, 0};
    size_t first, end, matching = 0;
    chr_error_clear(err);
    int f = parse_filter(q->state, err);
    if (f < 0)
        return NULL;
    if (!runs_jobs(s, q->job, &first, &end)) {
        chr_error_set(err, CHR_ENOENT, "job", "no job named '%s'", q->job);
        return NULL;
    }
    for (size_t i = first; i < end; i++)
        for (uint32_t k = 0; k < s->jobs[i]->n_runs; k++)
            matching += filter_keeps(f, s->jobs[i]->runs[k].state);
    heap.cap = matching < q->limit ? matching : q->limit;
    if (heap.cap > 0 && (heap.h = chr_malloc(heap.cap * sizeof *heap.h)) == NULL) {
        chr_sb_fail(&b);
        return chr_sb_finish(&b, len);
    }
    for (size_t i = first; i < end; i++)
        for (uint32_t k = 0; k < s->jobs[i]->n_runs; k++)
            if (filter_keeps(f, s->jobs[i]->runs[k].state))
                heap_offer(&heap, (struct run_ref){s->jobs[i], &s->jobs[i]->runs[k]});
    if (heap.n > 1)
        qsort(heap.h, heap.n, sizeof *heap.h, run_ref_cmp);
    chr_sb_ch(&b, '[');
    for (size_t i = 0; i < heap.n && !chr_sb_failed(&b); i++) {
        chr_sb_str(&b, i > 0 ? ",{" : "{");
        put_run(&b, heap.h[i].j, heap.h[i].r);
        chr_sb_ch(&b, '}');
    }
    chr_sb_ch(&b, ']');
    chr_free(heap.h);
    return chr_sb_finish(&b, len);
}

/* ---- next ------------------------------------------------------------------------ */

char *chr_render_next(const struct chr_job *def, struct chr_tzdb *tzdb, int64_t from_ms,
                      size_t count, size_t *len, struct chr_error *err)
{
    struct chr_sb b = {0};
    struct chr_schedule sched;
    chr_error_clear(err);
    if (is_dependent(def)) {
        chr_error_set(err, CHR_EINVAL, "schedule",
                      "job '%s' is dependent (it runs after its parents), it has no schedule",
                      def->name ? def->name : "");
        return NULL;
    }
    if (chr_job_schedule(def, tzdb, &sched, err) != CHR_OK)
        return NULL; /* err is empty when out of memory */
    chr_sb_ch(&b, '{');
    sb_key(&b, "name", true);
    chr_sb_json_str(&b, def->name);
    sb_key(&b, "schedule", false);
    chr_sb_json_str(&b, def->schedule);
    sb_key(&b, "timezone", false);
    chr_sb_json_str(&b, chr_tz_name(sched.tz));
    chr_sb_str(&b, ",\"next\":[");
    int64_t at = from_ms;
    for (size_t i = 0; i < count && !chr_sb_failed(&b); i++) {
        if (chr_schedule_next(&sched, at, &at) != CHR_OK)
            break; /* a finite schedule ended */
        if (i > 0)
            chr_sb_ch(&b, ',');
        sb_json_instant(&b, at);
    }
    chr_sb_str(&b, "]}");
    return chr_sb_finish(&b, len);
}

/* ---- /metrics ----------------------------------------------------------------------- */

enum { JS_IDLE, JS_QUEUED, JS_RUNNING, JS_DISABLED, JS_N };
static const char *const job_state_label[JS_N] = {"idle", "queued", "running", "disabled"};

/* Jobs by live state; a disabled job counts only as disabled. */
static void count_jobs(const struct chr_view_snap *s, uint64_t out[JS_N])
{
    memset(out, 0, JS_N * sizeof out[0]);
    for (size_t i = 0; i < s->n; i++) {
        const struct chr_view_job *j = s->jobs[i];
        if (j->def->disabled)
            out[JS_DISABLED]++;
        else if (j->n_running > 0)
            out[JS_RUNNING]++;
        else if (j->n_queued > 0)
            out[JS_QUEUED]++;
        else
            out[JS_IDLE]++;
    }
}

static double uptime_s(const struct chr_metrics_sample *m, int64_t now_ms)
{
    int64_t st = m->gauges.started_ms;
    return st <= 0 || st > now_ms ? 0.0 : (double)(now_ms - st) / 1000.0;
}

static void prom_head(struct chr_sb *b, const char *name, const char *type, const char *help)
{
    chr_sb_str(b, "# HELP ");
    chr_sb_str(b, name);
    chr_sb_ch(b, ' ');
    chr_sb_str(b, help);
    chr_sb_str(b, "\n# TYPE ");
    chr_sb_str(b, name);
    chr_sb_ch(b, ' ');
    chr_sb_str(b, type);
    chr_sb_ch(b, '\n');
}

static void prom_u64(struct chr_sb *b, const char *name, const char *type, const char *help,
                     uint64_t v)
{
    prom_head(b, name, type, help);
    chr_sb_fmt(b, "%s %" PRIu64 "\n", name, v);
}

static void prom_hist(struct chr_sb *b, const char *name, const char *help,
                      const struct chr_histogram *h)
{
    uint64_t cum = 0;
    prom_head(b, name, "histogram", help);
    for (size_t i = 0; i < CHR_METRICS_BUCKETS; i++) {
        cum += h->bucket[i];
        chr_sb_fmt(b, "%s_bucket{le=\"", name);
        sb_prom_double(b, chr_metrics_bounds_ms[i] / 1000.0);
        chr_sb_fmt(b, "\"} %" PRIu64 "\n", cum);
    }
    cum += h->bucket[CHR_METRICS_BUCKETS];
    chr_sb_fmt(b, "%s_bucket{le=\"+Inf\"} %" PRIu64 "\n", name, cum);
    chr_sb_fmt(b, "%s_sum ", name);
    sb_prom_double(b, h->sum_ms / 1000.0);
    chr_sb_fmt(b, "\n%s_count %" PRIu64 "\n", name, h->count);
}

struct counter_desc {
    enum chr_metric_counter c;
    const char *prom, *json, *help;
};

static const struct counter_desc counters[] = {
    {CHR_M_RUNS_STARTED, "chronos_runs_started_total", "runs.started", "Runs whose task began."},
    {CHR_M_RUNS_SUCCEEDED, "chronos_runs_succeeded_total", "runs.succeeded",
     "Runs that exited 0."},
    {CHR_M_RUNS_FAILED, "chronos_runs_failed_total", "runs.failed", "Runs that failed."},
    {CHR_M_RUNS_KILLED, "chronos_runs_killed_total", "runs.killed", "Runs that were killed."},
    {CHR_M_RUNS_LOST, "chronos_runs_lost_total", "runs.lost",
     "Runs the resource manager lost."},
    {CHR_M_LAUNCHES, "chronos_launches_total", "launches",
     "Launches sent to the resource manager."},
    {CHR_M_STORE_BATCHES, "chronos_store_batches_total", "store.batches",
     "Store batches made durable."},
    {CHR_M_STORE_ERRORS, "chronos_store_errors_total", "store.errors",
     "Store batches that failed."},
    {CHR_M_HTTP_REQUESTS, "chronos_http_requests_total", "http.requests",
     "HTTP requests answered."},
    {CHR_M_HTTP_ERRORS, "chronos_http_errors_total", "http.errors",
     "HTTP requests answered with 4xx or 5xx."},
};
#define N_COUNTERS (sizeof counters / sizeof counters[0])

static void prom_gauges(struct chr_sb *b, const struct chr_metrics_sample *m, int64_t now_ms)
{
    const struct chr_metrics_gauges *g = &m->gauges;
    prom_u64(b, "chronos_queue_depth", "gauge", "Events waiting for the scheduler thread.",
             g->queue_depth);
    prom_u64(b, "chronos_runs_active", "gauge", "Runs recording, queued, launching or running.",
             g->runs_active);
    prom_u64(b, "chronos_runs_waiting", "gauge", "Runs waiting for resources.", g->runs_waiting);
    prom_u64(b, "chronos_store_batches_pending", "gauge", "Store writes in flight.",
             g->batches_pending);
    prom_u64(b, "chronos_offers_held", "gauge", "Resource offers held.", g->offers_held);
    prom_u64(b, "chronos_leader", "gauge", "1 when this server is the leader and schedules.",
             g->leader);
    prom_u64(b, "chronos_store_healthy", "gauge",
             "1 while the store takes writes; 0 while it fails (see /health).", g->store_healthy);
    prom_head(b, "chronos_uptime_seconds", "gauge", "Seconds since this server started.");
    chr_sb_str(b, "chronos_uptime_seconds ");
    sb_prom_double(b, uptime_s(m, now_ms));
    chr_sb_ch(b, '\n');
}

/* The notification sender's counters, per configured sink. */
static void prom_notify(struct chr_sb *b, const struct chr_metrics_notify *n)
{
    static const char *const what[3][2] = {
        {"chronos_notifications_sent_total", "Notifications delivered, per sink."},
        {"chronos_notifications_failed_total", "Delivery attempts that failed (retried), per sink."},
        {"chronos_notifications_pending", "Notifications still to deliver, per sink."}};
    for (int w = 0; w < 3; w++) {
        prom_head(b, what[w][0], w < 2 ? "counter" : "gauge", what[w][1]);
        for (int s = 0; s < CHR_METRICS_SINKS; s++) {
            const uint64_t *v = w == 0 ? n->sent : w == 1 ? n->failed : n->pending;
            if (n->configured[s])
                chr_sb_fmt(b, "%s{sink=\"%s\"} %" PRIu64 "\n", what[w][0],
                           chr_metrics_sink_names[s], v[s]);
        }
    }
    prom_u64(b, "chronos_notifications_dropped_total", "counter",
             "Notifications dropped from a full outbox.", n->dropped);
    prom_u64(b, "chronos_notifications_outbox", "gauge", "Notifications in the outbox.",
             n->outbox);
}

/* ---- The resource figures and task time in /metrics ---------------------------------- */

static const char *const res_names[3] = {"cpus", "mem", "disk"};

/* A figure of a {"cpus","mem","disk"} member of `o`; 0 when absent. */
static double fig(const json_t *o, const char *member, int k)
{
    return json_number_value(json_object_get(json_object_get(o, member), res_names[k]));
}

/* A Prometheus label value: '\', '"' and a newline escaped. */
static void sb_prom_label(struct chr_sb *b, const char *v)
{
    for (; *v != '\0'; v++) {
        if (*v == '\\' || *v == '"')
            chr_sb_ch(b, '\\');
        if (*v == '\n')
            chr_sb_str(b, "\\n");
        else
            chr_sb_ch(b, *v);
    }
}

static void prom_res_sums(struct chr_sb *b, const json_t *res)
{
    static const char *const what[][2] = {
        {"offered", "What the agents offered (their last offers, or what is free on this "
                    "host); mem and disk in MB."},
        {"used", "What chronos's running tasks use; mem and disk in MB."},
        {"held", "What the offers chronos holds now hold; mem and disk in MB."},
        {"total", "What the agents have in all, when known (this host); mem and disk in MB."},
    };
    for (size_t w = 0; w < 4; w++) {
        if (!json_is_object(json_object_get(res, what[w][0])))
            continue; /* total: unknown on Mesos */
        char name[64];
        snprintf(name, sizeof name, "chronos_resources_%s", what[w][0]);
        prom_head(b, name, "gauge", what[w][1]);
        for (int k = 0; k < 3; k++) {
            chr_sb_fmt(b, "%s{resource=\"%s\"} ", name, res_names[k]);
            sb_prom_double(b, fig(res, what[w][0], k));
            chr_sb_ch(b, '\n');
        }
    }
}

static void prom_res_agents(struct chr_sb *b, const json_t *res)
{
    const json_t *agents = json_object_get(res, "agents");
    static const char *const what[2] = {"offered", "used"};
    for (size_t w = 0; w < 2; w++) {
        char name[64];
        snprintf(name, sizeof name, "chronos_agent_resources_%s", what[w]);
        prom_head(b, name, "gauge", w == 0 ? "What each agent offered last; mem and disk in MB."
                                           : "What chronos's running tasks use on each agent.");
        for (size_t i = 0; i < json_array_size(agents); i++) {
            const json_t *a = json_array_get(agents, i);
            for (int k = 0; k < 3; k++) {
                chr_sb_fmt(b, "%s{agent=\"", name);
                sb_prom_label(b, json_string_value(json_object_get(a, "id")));
                chr_sb_fmt(b, "\",resource=\"%s\"} ", res_names[k]);
                sb_prom_double(b, fig(a, what[w], k));
                chr_sb_ch(b, '\n');
            }
        }
    }
}

int64_t chr_render_task_time_ms(const struct chr_view_snap *s)
{
    int64_t t = 0;
    for (size_t i = 0; i < s->n; i++) {
        int64_t d = s->jobs[i]->stats.task_time_ms > 0 ? s->jobs[i]->stats.task_time_ms : 0;
        t = t > INT64_MAX - d ? INT64_MAX : t + d;
    }
    return t;
}

/* The last finished run that started: its duration and lateness. */
static const struct chr_view_run *last_started(const struct chr_view_job *j)
{
    for (uint32_t i = j->n_finished; i > 0; i--)
        if (j->runs[i - 1].started_ms != INT64_MIN && j->runs[i - 1].ended_ms != INT64_MIN)
            return &j->runs[i - 1];
    return NULL;
}

enum job_series { JOB_TASK, JOB_OK, JOB_FAIL, JOB_DURATION, JOB_LATENESS, JOB_SERIES_N };

static const struct {
    const char *name, *type, *help;
} job_series[JOB_SERIES_N] = {
    {"chronos_job_task_seconds_total", "counter",
     "Summed task time of the job's runs that started and ended."},
    {"chronos_job_successes_total", "counter", "The job's successful runs (successCount)."},
    {"chronos_job_failures_total", "counter", "The job's failed runs (errorCount)."},
    {"chronos_job_last_duration_seconds", "gauge", "Ended minus started, the last run."},
    {"chronos_job_last_lateness_seconds", "gauge", "Started minus due, the last run."},
};

/* One job's figure for a series; false when it has none (no run yet). */
static bool job_figure(const struct chr_view_job *j, enum job_series k, double *v)
{
    const struct chr_view_run *r = k >= JOB_DURATION ? last_started(j) : NULL;
    switch (k) {
    case JOB_TASK: *v = (double)j->stats.task_time_ms / 1000.0; return true;
    case JOB_OK: *v = (double)j->stats.success_count; return true;
    case JOB_FAIL: *v = (double)j->stats.error_count; return true;
    case JOB_DURATION:
        if (r != NULL)
            *v = (double)(r->ended_ms - r->started_ms) / 1000.0;
        return r != NULL;
    default:
        if (r != NULL && r->due_ms != INT64_MIN)
            *v = (double)(r->started_ms - r->due_ms) / 1000.0;
        return r != NULL && r->due_ms != INT64_MIN;
    }
}

/* Per-job series, for the first CHR_METRICS_JOBS_MAX jobs in registration
 * order (a bound on the scrape's cardinality); the others are counted. */
static void prom_task_time(struct chr_sb *b, const struct chr_view_snap *s)
{
    size_t n = s->n < CHR_METRICS_JOBS_MAX ? s->n : CHR_METRICS_JOBS_MAX;
    for (int k = 0; k < JOB_SERIES_N; k++) {
        prom_head(b, job_series[k].name, job_series[k].type, job_series[k].help);
        for (size_t i = 0; i < n; i++) {
            double v = 0;
            if (!job_figure(s->jobs[i], (enum job_series)k, &v))
                continue;
            chr_sb_fmt(b, "%s{job=\"", job_series[k].name);
            sb_prom_label(b, s->jobs[i]->def->name);
            chr_sb_str(b, "\"} ");
            sb_prom_double(b, v);
            chr_sb_ch(b, '\n');
        }
    }
    prom_u64(b, "chronos_metrics_jobs_omitted", "gauge",
             "Jobs past the bound on per-job series (CHR_METRICS_JOBS_MAX).",
             (uint64_t)(s->n - n));
    prom_head(b, "chronos_task_seconds_total", "counter",
              "Summed task time of every job's runs that started and ended.");
    chr_sb_str(b, "chronos_task_seconds_total ");
    sb_prom_double(b, (double)chr_render_task_time_ms(s) / 1000.0);
    chr_sb_ch(b, '\n');
}

char *chr_render_metrics_prom(const struct chr_view_snap *s, const struct chr_metrics_sample *m,
                              const json_t *res, int64_t now_ms, size_t *len)
{
    struct chr_sb b = {0};
    uint64_t js[JS_N];
    count_jobs(s, js);
    prom_head(&b, "chronos_jobs", "gauge", "Jobs by state (a disabled job counts as disabled).");
    for (int i = 0; i < JS_N; i++)
        chr_sb_fmt(&b, "chronos_jobs{state=\"%s\"} %" PRIu64 "\n", job_state_label[i], js[i]);
    prom_u64(&b, "chronos_jobs_total", "gauge", "Jobs registered.", (uint64_t)s->n);
    for (size_t i = 0; i < N_COUNTERS; i++)
        prom_u64(&b, counters[i].prom, "counter", counters[i].help, m->counter[counters[i].c]);
    prom_hist(&b, "chronos_run_lateness_seconds",
              "Task start minus scheduled instant, scheduled runs.", &m->lateness);
    prom_hist(&b, "chronos_store_write_seconds", "Store batch submitted to durable.",
              &m->store_write);
    prom_gauges(&b, m, now_ms);
    prom_notify(&b, &m->notify);
    prom_task_time(&b, s);
    if (res != NULL) {
        prom_res_sums(&b, res);
        prom_res_agents(&b, res);
    }
    return chr_sb_finish(&b, len);
}

static void json_gauge(struct chr_sb *b, const char *name, uint64_t v)
{
    chr_sb_ch(b, ',');
    chr_sb_json_str(b, name);
    chr_sb_fmt(b, ":{\"value\":%" PRIu64 "}", v);
}

/* ,"<prefix><name>":{"count":v} */
static void json_counter(struct chr_sb *b, const char *prefix, const char *name, int64_t v)
{
    chr_sb_str(b, ",\"");
    chr_sb_json_body(b, prefix);
    chr_sb_json_body(b, name);
    chr_sb_fmt(b, "\":{\"count\":%" PRId64 "}", v);
}

/* ,"<prefix><name>.<suffix>":{"value":v} */
static void json_gauge_d(struct chr_sb *b, const char *prefix, const char *name,
                         const char *suffix, double v)
{
    chr_sb_str(b, ",\"");
    chr_sb_json_body(b, prefix);
    chr_sb_json_body(b, name);
    chr_sb_ch(b, '.');
    chr_sb_json_body(b, suffix);
    chr_sb_str(b, "\":{\"value\":");
    sb_json_double(b, v);
    chr_sb_ch(b, '}');
}

/* resources.offered.cpus, ..., agents.<id>.offered.cpus, ... */
static void json_res(struct chr_sb *b, const json_t *res)
{
    static const char *const sums[] = {"offered", "used", "held", "total"};
    for (size_t w = 0; w < 4; w++)
        for (int k = 0; k < 3 && json_is_object(json_object_get(res, sums[w])); k++)
            json_gauge_d(b, "resources.", sums[w], res_names[k], fig(res, sums[w], k));
    const json_t *agents = json_object_get(res, "agents");
    for (size_t i = 0; i < json_array_size(agents) && !chr_sb_failed(b); i++) {
        const json_t *a = json_array_get(agents, i);
        const char *id = json_string_value(json_object_get(a, "id"));
        for (size_t w = 0; w < 2; w++)
            for (int k = 0; k < 3; k++) {
                char suffix[32];
                snprintf(suffix, sizeof suffix, "%s.%s", sums[w], res_names[k]);
                json_gauge_d(b, "agents.", id != NULL ? id : "", suffix, fig(a, sums[w], k));
            }
    }
}

char *chr_render_metrics_json(const struct chr_view_snap *s, const struct chr_metrics_sample *m,
                              const json_t *res, int64_t now_ms, size_t *len)
{
    struct chr_sb b = {0};
    uint64_t js[JS_N];
    const struct chr_metrics_gauges *g = &m->gauges;
    count_jobs(s, js);
    /* Chronos's TaskManager queue holds tasks waiting to launch: our waiting runs. */
    chr_sb_str(&b, "{\"version\":\"3.0.0\",\"gauges\":{\"TaskManager.queueSize\":");
    chr_sb_fmt(&b, "{\"value\":%" PRIu64 "}", g->runs_waiting);
    json_gauge(&b, "TaskManager.highQueueSize", 0);
    json_gauge(&b, "jobs.total", (uint64_t)s->n);
    for (int i = 0; i < JS_N; i++) {
        char name[32];
        snprintf(name, sizeof name, "jobs.%s", job_state_label[i]);
        json_gauge(&b, name, js[i]);
    }
    json_gauge(&b, "runs.active", g->runs_active);
    json_gauge(&b, "runs.waiting", g->runs_waiting);
    json_gauge(&b, "queue.depth", g->queue_depth);
    json_gauge(&b, "store.batchesPending", g->batches_pending);
    json_gauge(&b, "offers.held", g->offers_held);
    json_gauge(&b, "leader", g->leader);
    json_gauge(&b, "store_healthy", g->store_healthy);
    chr_sb_str(&b, ",\"uptime.seconds\":{\"value\":");
    sb_json_double(&b, uptime_s(m, now_ms));
    chr_sb_ch(&b, '}');
    if (res != NULL)
        json_res(&b, res);
    chr_sb_str(&b, "},\"counters\":{\"reviveOffersCount\":{\"count\":0}");
    json_counter(&b, "", "taskTime.ms", chr_render_task_time_ms(s));
    for (size_t i = 0; i < N_COUNTERS; i++)
        json_counter(&b, "", counters[i].json, (int64_t)m->counter[counters[i].c]);
    for (int k = 0; k < CHR_METRICS_SINKS; k++) {
        if (!m->notify.configured[k])
            continue;
        json_counter(&b, "notifications.sent.", chr_metrics_sink_names[k],
                     (int64_t)m->notify.sent[k]);
        json_counter(&b, "notifications.failed.", chr_metrics_sink_names[k],
                     (int64_t)m->notify.failed[k]);
        json_counter(&b, "notifications.pending.", chr_metrics_sink_names[k],
                     (int64_t)m->notify.pending[k]);
    }
    for (size_t i = 0; i < s->n && !chr_sb_failed(&b); i++) {
        const struct chr_view_job *j = s->jobs[i];
        json_counter(&b, "jobs.run.success.", j->def->name, j->stats.success_count);
        json_counter(&b, "jobs.run.failure.", j->def->name, j->stats.error_count);
        json_counter(&b, "jobs.taskTime.ms.", j->def->name, j->stats.task_time_ms);
    }
    chr_sb_str(&b, "},\"histograms\":{},\"meters\":{},\"timers\":{}}");
    return chr_sb_finish(&b, len);
}
