/*
 * dash.h - the read endpoints of the web dashboard (ours, under
 * /v1/dashboard/): a page of the job list, searched, filtered and sorted on
 * the server with the counts of jobs by state, and the changes since a
 * cursor, which the page polls for live status at a cost that grows with
 * what changed, not with the jobs.  Pure functions of the read model
 * (api/view.h): no I/O, no clock, no locks of their own.
 *
 * Each renderer returns a chr_malloc'd NUL-terminated JSON text with its
 * length in *len, or NULL when out of memory.
 */
#ifndef CHR_API_DASH_H
#define CHR_API_DASH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/err.h"
#include "api/view.h"

enum chr_dash_kind { CHR_DASH_KIND_ANY = 0, CHR_DASH_ISO8601, CHR_DASH_CRON, CHR_DASH_DEPENDENT };
enum chr_dash_sort {
    CHR_DASH_SORT_NAME = 0,
    CHR_DASH_SORT_STATUS, /* failing, then waiting/running, then the rest */
    CHR_DASH_SORT_NEXT,   /* next instant; none last */
    CHR_DASH_SORT_LAST,   /* the latest of lastSuccess and lastError */
    CHR_DASH_SORT_OWNER,
};

/* GET /v1/dashboard/jobs?q=&state=&kind=&owner=&parent=&sort=&order=&offset=&limit= */
struct chr_dash_query {
    const char *q;      /* case-insensitive substring of name, command or owner; NULL: any */
    unsigned state;     /* CHR_VIEW_* bits the job must have all of; 0: any */
    bool idle;          /* state=idle: no run active (neither running nor waiting) */
    enum chr_dash_kind kind;
    const char *owner;  /* equal, ASCII case folded; NULL: any */
    const char *parent; /* a job among its parents (its children); NULL: any */
    enum chr_dash_sort sort;
    bool desc;
    size_t offset, limit;
};

/* The query arguments, looked up through get(ctx, key) (NULL: absent; an
 * empty value is absent too), into *q (pointing into the arguments).
 * CHR_EINVAL with err naming the argument when one is not valid. */
enum chr_err chr_dash_query_parse(const char *(*get)(void *ctx, const char *key), void *ctx,
                                  struct chr_dash_query *q, struct chr_error *err);

/* {"cursor","total","matched","offset","counts":{"total","failing","running","waiting",
 * "disabled"},"jobs":[row...]}: the page of the jobs that match, sorted (ties
 * by name).  `epoch` is the view's (chr_view_epoch): the cursor says where the
 * changes of the next poll start.  A row: {"name","kind","schedule",
 * "scheduleTimeZone","parents","owner","command" (its first 256 bytes),
 * "disabled","status","state","running","waiting","lastSuccess","lastError",
 * "nextRunAt","lastRunState","successCount","errorCount"}. */
char *chr_dash_render_list(const struct chr_view_snap *s, int64_t epoch,
                           const struct chr_dash_query *q, size_t *len);

/* GET /v1/dashboard/changes?since=CURSOR: {"cursor","reset","counts",
 * "changed":[row...],"removed":[name...]}: the jobs changed since the
 * cursor, each once.  "reset": true (and no rows) when the view cannot say
 * (the cursor is another server's or older than what it remembers): the
 * page reloads.  NULL with err (CHR_EINVAL, naming `since`) for a text that
 * is not a cursor; with CHR_ENOMEM when out of memory. */
char *chr_dash_render_changes(struct chr_view *v, const char *since, size_t *len,
                              struct chr_error *err);

#endif
