/*
 * dash.c - the dashboard's read endpoints (dash.h): the job list's pages and
 * the changes since a cursor, rendered from the read model.  A page costs a
 * pass over the jobs (a person searching, at most once per keystroke); a
 * poll costs the jobs that changed since the last one, and its counts are
 * the view's running totals.  No I/O, no clock, no locks.
 */
#include "api/dash.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/render.h"
#include "common/alloc.h"
#include "common/limits.h"
#include "common/sb.h"
#include "iso8601/iso8601.h"

/* Bytes of a job's command a row shows. */
#define ROW_COMMAND_MAX 256

/* ---- The query ---------------------------------------------------------------------- */

static char lower(char c)
{
    return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
}


static bool same_folded(const char *a, const char *b)
{
    a = a ? a : "";
    for (; *a != '\0' && *b != '\0'; a++, b++)
        if (lower(*a) != lower(*b))
            return false;
    return *a == *b;
}

/* Which of `names` (NULL-terminated pairs) is `v`: its index, or -1. */
static int pick(const char *v, const char *const *names)
{
    for (int i = 0; names[i] != NULL; i++)
        if (strcmp(v, names[i]) == 0)
            return i;
    return -1;
}

static enum chr_err bad_arg(struct chr_error *err, const char *key, const char *v,
                            const char *want)
{
    char b[80];
    return chr_error_set(err, CHR_EINVAL, key, "'%s' is not %s",
                         chr_error_quote(v, strnlen(v, 65), 64, b), want);
}

static enum chr_err arg_size(const char *key, const char *v, size_t lo, size_t hi, size_t *out,
                             struct chr_error *err)
{
    char *end = NULL;
    errno = 0;
    long long n = strtoll(v, &end, 10);
    if (*end != '\0' || errno != 0 || n < (long long)lo || n > (long long)hi) {
        char want[64];
        snprintf(want, sizeof want, "an integer from %zu to %zu", lo, hi);
        return bad_arg(err, key, v, want);
    }
    *out = (size_t)n;
    return CHR_OK;
}

static enum chr_err arg_text(const char *key, const char *v, struct chr_error *err)
{
    if (strlen(v) > CHR_DASH_QUERY_MAX) {
        char want[64];
        snprintf(want, sizeof want, "at most %d bytes", CHR_DASH_QUERY_MAX);
        return bad_arg(err, key, v, want);
    }
    return CHR_OK;
}

/* The value of `key`, NULL when absent or empty. */
static const char *arg(const char *(*get)(void *, const char *), void *ctx, const char *key)
{
    const char *v = get(ctx, key);
    return v != NULL && v[0] != '\0' ? v : NULL;
}

static enum chr_err parse_state(const char *v, struct chr_dash_query *q, struct chr_error *err)
{
    static const char *const states[] = {"failing", "running", "waiting", "disabled", "idle", NULL};
    static const unsigned bits[] = {CHR_VIEW_FAILING, CHR_VIEW_RUNNING, CHR_VIEW_WAITING,
                                    CHR_VIEW_DISABLED, 0};
    int i = pick(v, states);
    if (i < 0)
        return bad_arg(err, "state", v, "failing, running, waiting, disabled or idle");
    q->state = bits[i];
    q->idle = strcmp(v, "idle") == 0;
    return CHR_OK;
}

static enum chr_err parse_enums(const char *(*get)(void *, const char *), void *ctx,
                                struct chr_dash_query *q, struct chr_error *err)
{
    static const char *const kinds[] = {"iso8601", "cron", "dependent", NULL};
    static const char *const sorts[] = {"name", "status", "next", "last", "owner", NULL};
    static const char *const orders[] = {"asc", "desc", NULL};
    const char *v;
    int i;
    if ((v = arg(get, ctx, "state")) != NULL && parse_state(v, q, err) != CHR_OK)
        return CHR_EINVAL;
    if ((v = arg(get, ctx, "kind")) != NULL) {
        if ((i = pick(v, kinds)) < 0)
            return bad_arg(err, "kind", v, "iso8601, cron or dependent");
        q->kind = (enum chr_dash_kind)(i + 1);
    }
    if ((v = arg(get, ctx, "sort")) != NULL) {
        if ((i = pick(v, sorts)) < 0)
            return bad_arg(err, "sort", v, "name, status, next, last or owner");
        q->sort = (enum chr_dash_sort)i;
    }
    if ((v = arg(get, ctx, "order")) != NULL) {
        if ((i = pick(v, orders)) < 0)
            return bad_arg(err, "order", v, "asc or desc");
        q->desc = i == 1;
    }
    return CHR_OK;
}

enum chr_err chr_dash_query_parse(const char *(*get)(void *ctx, const char *key), void *ctx,
                                  struct chr_dash_query *q, struct chr_error *err)
{
    *q = (struct chr_dash_query){.limit = 50};
    const char *v;
    q->q = arg(get, ctx, "q");
    q->owner = arg(get, ctx, "owner");
    q->parent = arg(get, ctx, "parent");
    if ((q->q && arg_text("q", q->q, err) != CHR_OK) ||
        (q->owner && arg_text("owner", q->owner, err) != CHR_OK))
        return CHR_EINVAL;
    if (q->parent != NULL && !chr_job_name_valid(q->parent))
        return bad_arg(err, "parent", q->parent, "a job name");
    if (parse_enums(get, ctx, q, err) != CHR_OK)
        return CHR_EINVAL;
    if ((v = arg(get, ctx, "offset")) != NULL &&
        arg_size("offset", v, 0, CHR_JOBS_MAX, &q->offset, err) != CHR_OK)
        return CHR_EINVAL;
    if ((v = arg(get, ctx, "limit")) != NULL &&
        arg_size("limit", v, 1, CHR_DASH_PAGE_MAX, &q->limit, err) != CHR_OK)
        return CHR_EINVAL;
    return CHR_OK;
}

/* ---- Matching and sorting ---------------------------------------------------------- */

static enum chr_dash_kind kind_of(const struct chr_job *d)
{
    if (d->n_parents > 0 || d->schedule == NULL)
        return CHR_DASH_DEPENDENT;
    return d->schedule[0] == 'R' ? CHR_DASH_ISO8601 : CHR_DASH_CRON;
}

static bool has_parent(const struct chr_job *d, const char *parent)
{
    for (uint32_t i = 0; i < d->n_parents; i++)
        if (strcmp(d->parents[i], parent) == 0)
            return true;
    return false;
}

static bool matches(const struct chr_view_job *j, const struct chr_dash_query *q)
{
    const struct chr_job *d = j->def;
    unsigned f = chr_view_job_flags(j);
    if ((f & q->state) != q->state)
        return false;
    if (q->idle && (f & (CHR_VIEW_RUNNING | CHR_VIEW_WAITING)) != 0)
        return false;
    if (q->kind != CHR_DASH_KIND_ANY && kind_of(d) != q->kind)
        return false;
    if (q->owner != NULL && !same_folded(d->owner, q->owner))
        return false;
    if (q->parent != NULL && !has_parent(d, q->parent))
        return false;
    return q->q == NULL || chr_render_contains(d->name, q->q) ||
           chr_render_contains(d->command, q->q) || chr_render_contains(d->owner, q->q);
}

struct row {
    const struct chr_view_job *j;
    int64_t key;      /* status rank, or an instant */
    const char *text; /* the owner for CHR_DASH_SORT_OWNER */
};

static int folded_cmp(const char *a, const char *b)
{
    for (; *a != '\0' && lower(*a) == lower(*b); a++, b++)
        ;
    return (unsigned char)lower(*a) - (unsigned char)lower(*b);
}

static int row_cmp(const void *pa, const void *pb)
{
    const struct row *a = pa, *b = pb;
    if (a->text != NULL || b->text != NULL) {
        int c = folded_cmp(a->text ? a->text : "", b->text ? b->text : "");
        if (c != 0)
            return c;
    }
    if (a->key != b->key)
        return a->key < b->key ? -1 : 1;
    return strcmp(a->j->def->name, b->j->def->name);
}

/* What a row sorts by, ascending (desc reverses it after). */
static void sort_key(struct row *r, enum chr_dash_sort sort)
{
    const struct chr_view_job *j = r->j;
    unsigned f = chr_view_job_flags(j);
    switch (sort) {
    case CHR_DASH_SORT_STATUS:
        r->key = (f & CHR_VIEW_FAILING)                         ? 0
                 : (f & (CHR_VIEW_RUNNING | CHR_VIEW_WAITING)) ? 1
                 : (f & CHR_VIEW_DISABLED)                      ? 3
                                                                : 2;
        break;
    case CHR_DASH_SORT_NEXT:
        r->key = j->next_ms == INT64_MIN ? INT64_MAX : j->next_ms;
        break;
    case CHR_DASH_SORT_LAST: {
        int64_t s = j->stats.last_success_ms, e = j->stats.last_error_ms;
        r->key = s > e ? s : e;
        break;
    }
    case CHR_DASH_SORT_OWNER:
        r->text = j->def->owner ? j->def->owner : "";
        break;
    default:
        break;
    }
}

/* ---- Rows ----------------------------------------------------------------------------- */

static void put_instant(struct chr_sb *b, const char *key, int64_t at_ms)
{
    chr_sb_fmt(b, ",\"%s\":", key);
    if (at_ms == INT64_MIN || at_ms == INT64_MAX) {
        chr_sb_str(b, "null");
        return;
    }
    char t[CHR_INSTANT_TEXT_MAX];
    size_t n = chr_instant_format(at_ms, t);
    chr_sb_ch(b, '"');
    chr_sb_put(b, t, n);
    chr_sb_ch(b, '"');
}

/* The first ROW_COMMAND_MAX bytes of s, cut at a character's start. */
static void put_short(struct chr_sb *b, const char *s)
{
    char cut[ROW_COMMAND_MAX + 1];
    size_t n = strnlen(s ? s : "", ROW_COMMAND_MAX + 1);
    if (n <= ROW_COMMAND_MAX) {
        chr_sb_json_str(b, s ? s : "");
        return;
    }
    n = ROW_COMMAND_MAX;
    while (n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80)
        n--;
    memcpy(cut, s, n);
    cut[n] = '\0';
    chr_sb_json_str(b, cut);
}

static const char *kind_name(enum chr_dash_kind k)
{
    return k == CHR_DASH_ISO8601 ? "iso8601" : k == CHR_DASH_CRON ? "cron" : "dependent";
}


static void put_row(struct chr_sb *b, const struct chr_view_job *j)
{
    const struct chr_job *d = j->def;
    char st[32];
    chr_sb_str(b, "{\"name\":");
    chr_sb_json_str(b, d->name);
    chr_sb_fmt(b, ",\"kind\":\"%s\",\"schedule\":", kind_name(kind_of(d)));
    if (d->schedule != NULL && d->n_parents == 0)
        chr_sb_json_str(b, d->schedule);
    else
        chr_sb_str(b, "null");
    chr_sb_str(b, ",\"scheduleTimeZone\":");
    chr_sb_json_str(b, d->schedule_tz ? d->schedule_tz : "");
    chr_sb_str(b, ",\"parents\":[");
    for (uint32_t i = 0; i < d->n_parents; i++) {
        if (i > 0)
            chr_sb_ch(b, ',');
        chr_sb_json_str(b, d->parents[i]);
    }
    chr_sb_str(b, "],\"owner\":");
    chr_sb_json_str(b, d->owner ? d->owner : "");
    chr_sb_str(b, ",\"command\":");
    put_short(b, d->command);
    chr_sb_fmt(b, ",\"disabled\":%s,\"status\":\"%s\",\"state\":\"%s\"",
               d->disabled ? "true" : "false", chr_view_job_status(j), chr_view_job_state(j, st));
    chr_sb_fmt(b, ",\"running\":%" PRIu32 ",\"waiting\":%" PRIu32, j->n_running, j->n_queued);
    put_instant(b, "lastSuccess", j->stats.last_success_ms);
    put_instant(b, "lastError", j->stats.last_error_ms);
    put_instant(b, "nextRunAt", j->next_ms);
    const char *lr = chr_view_last_run_state(j);
    chr_sb_str(b, ",\"lastRunState\":");
    if (lr != NULL)
        chr_sb_fmt(b, "\"%s\"", lr);
    else
        chr_sb_str(b, "null");
    chr_sb_fmt(b, ",\"successCount\":%" PRId64 ",\"errorCount\":%" PRId64 "}",
               j->stats.success_count, j->stats.error_count);
}

static void put_counts(struct chr_sb *b, const struct chr_view_counts *c)
{
    chr_sb_fmt(b, "\"counts\":{\"total\":%" PRIu64 ",\"failing\":%" PRIu64, c->total, c->failing);
    chr_sb_fmt(b, ",\"running\":%" PRIu64 ",\"waiting\":%" PRIu64, c->running, c->waiting);
    chr_sb_fmt(b, ",\"disabled\":%" PRIu64 "}", c->disabled);
}

static void count_job(struct chr_view_counts *c, const struct chr_view_job *j)
{
    unsigned f = chr_view_job_flags(j);
    c->total++;
    c->failing += (f & CHR_VIEW_FAILING) != 0;
    c->running += (f & CHR_VIEW_RUNNING) != 0;
    c->waiting += (f & CHR_VIEW_WAITING) != 0;
    c->disabled += (f & CHR_VIEW_DISABLED) != 0;
}

/* ---- The list ----------------------------------------------------------------------- */

char *chr_dash_render_list(const struct chr_view_snap *s, int64_t epoch,
                           const struct chr_dash_query *q, size_t *len)
{
    struct chr_sb b = {0};
    struct chr_view_counts c = {0};
    struct row *rows = s->n > 0 ? chr_calloc(s->n, sizeof *rows) : NULL;
    if (s->n > 0 && rows == NULL)
        return NULL;
    size_t m = 0;
    for (size_t i = 0; i < s->n; i++) {
        count_job(&c, s->jobs[i]);
        if (!matches(s->jobs[i], q))
            continue;
        rows[m].j = s->jobs[i];
        sort_key(&rows[m], q->sort);
        m++;
    }
    if (m > 1)
        qsort(rows, m, sizeof *rows, row_cmp);
    chr_sb_fmt(&b, "{\"cursor\":\"%" PRId64 ".%" PRIu64 "\",\"total\":%zu,\"matched\":%zu,",
               epoch, s->gen, s->n, m);
    chr_sb_fmt(&b, "\"offset\":%zu,", q->offset);
    put_counts(&b, &c);
    chr_sb_str(&b, ",\"jobs\":[");
    for (size_t k = q->offset; k < m && k - q->offset < q->limit; k++) {
        if (k > q->offset)
            chr_sb_ch(&b, ',');
        put_row(&b, rows[q->desc ? m - 1 - k : k].j);
    }
    chr_sb_str(&b, "]}");
    chr_free(rows);
    return chr_sb_finish(&b, len);
}

/* ---- Changes -------------------------------------------------------------------------- */

/* "<epoch>.<gen>" into its two numbers; false when it is not that. */
static bool parse_cursor(const char *t, int64_t *epoch, uint64_t *gen)
{
    char *end = NULL;
    if (t[0] < '0' || t[0] > '9' || strlen(t) > 48)
        return false;
    errno = 0;
    long long e = strtoll(t, &end, 10);
    if (errno != 0 || *end != '.' || end[1] < '0' || end[1] > '9')
        return false;
    const char *g = end + 1;
    unsigned long long n = strtoull(g, &end, 10);
    if (errno != 0 || *end != '\0')
        return false;
    *epoch = e;
    *gen = n;
    return true;
}

static void put_changes(struct chr_sb *b, struct chr_view *v, char **names, size_t n)
{
    chr_sb_str(b, ",\"changed\":[");
    bool first = true;
    for (size_t i = 0; i < n; i++) {
        const struct chr_view_job *j = chr_view_job(v, names[i]);
        if (j == NULL)
            continue;
        if (!first)
            chr_sb_ch(b, ',');
        first = false;
        put_row(b, j);
        chr_view_job_release(j);
    }
    chr_sb_str(b, "],\"removed\":[");
    first = true;
    for (size_t i = 0; i < n; i++) {
        const struct chr_view_job *j = chr_view_job(v, names[i]);
        chr_view_job_release(j);
        if (j != NULL)
            continue;
        if (!first)
            chr_sb_ch(b, ',');
        first = false;
        chr_sb_json_str(b, names[i]);
    }
    chr_sb_ch(b, ']');
}

char *chr_dash_render_changes(struct chr_view *v, const char *since, size_t *len,
                              struct chr_error *err)
{
    int64_t epoch = 0;
    uint64_t from = 0, gen = 0;
    if (!parse_cursor(since, &epoch, &from)) {
        bad_arg(err, "since", since, "a cursor (the \"cursor\" of a list or of a poll)");
        return NULL;
    }
    char **names = NULL;
    size_t n = 0;
    struct chr_view_counts c;
    enum chr_err e = chr_view_changes(v, from, &names, &n, &gen, &c);
    bool reset = e == CHR_ERANGE || epoch != chr_view_epoch(v);
    if (e == CHR_ENOMEM) {
        chr_error_set(err, CHR_ENOMEM, "", "out of memory");
        return NULL;
    }
    struct chr_sb b = {0};
    chr_sb_fmt(&b, "{\"cursor\":\"%" PRId64 ".%" PRIu64 "\",\"reset\":%s,", chr_view_epoch(v),
               gen, reset ? "true" : "false");
    put_counts(&b, &c);
    if (reset)
        chr_sb_str(&b, ",\"changed\":[],\"removed\":[]");
    else
        put_changes(&b, v, names, n);
    chr_sb_ch(&b, '}');
    chr_view_names_free(names, n);
    char *out = chr_sb_finish(&b, len);
    if (out == NULL)
        chr_error_set(err, CHR_ENOMEM, "", "out of memory");
    return out;
}
