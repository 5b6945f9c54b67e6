/*
 * client_apply.c - `chronos apply -f FILE|DIR`: makes the server's jobs match
 * Chronos job files (*.json, each one job object or an array of them).
 * Idempotent: each job is compared with the server's and sent only when it
 * differs, printing `created x`, `updated x` or `unchanged x`.  Every file is
 * read and checked, and the order worked out (parents before the jobs that
 * depend on them), before anything is sent; the first refusal stops it.
 *
 * The comparison: every field the file gives must match the server's (numbers
 * by value, "3" as 3, null as absent); a field the file leaves out must be
 * empty on the server ("", false, 0, [], {}), except the fields whose default
 * is the server's configuration (cpus, mem, disk, retries, shell, ...), and
 * the counters the server keeps, which are never compared.
 */
#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli/client.h"
#include "common/alloc.h"

/* Files named by -f (directories expanded) and jobs across them. */
#define APPLY_FILES_MAX 10000
#define APPLY_JOBS_MAX 100000

static const char apply_help[] =
    "usage: chronos apply -f FILE|DIR|- [-f ...] [--dry-run] [--server URL]\n"
    "\n"
    "Creates or replaces jobs from Chronos job files: each *.json file (in DIR:\n"
    "those directly inside it, in name order) holds one job object or an array\n"
    "of them.  Prints `created NAME`, `updated NAME` or `unchanged NAME` per job;\n"
    "a job is sent only when it differs from the server's, so applying twice\n"
    "changes nothing.  Jobs with \"parents\" go to /v1/scheduler/dependency,\n"
    "after their parents; the others to /v1/scheduler/iso8601.\n"
    "\n"
    "Fields a file leaves out are taken as the server's defaults.  A schedule\n"
    "\"R<n>//<period>\" (start now) matches the server's same schedule with the\n"
    "start it chose, so it is not sent again.  All or nothing: every file is\n"
    "read, and every job to send checked by the server (?dryRun=true), before\n"
    "anything is sent; a refusal names the job and changes nothing.\n"
    "\n"
    "  -f, --file PATH  a job file or a directory of them (repeatable; - reads\n"
    "                   one file from standard input)\n"
    "  --dry-run        send nothing: print `would create NAME` or `would update\n"
    "                   NAME` and, for an update, each field that would change\n"
    "                   (`  retries: 2 -> 4`)\n"
    "  --server URL     the server (default $CHRONOS_URL, else http://127.0.0.1:4400)\n";

/* Compared only when the file gives them: their defaults are the server's
 * configuration, or (schedule) "run once now". */
static const char *const server_default[] = {
    "shell", "retries", "cpus", "mem", "disk", "runAsUser", "retryDelaySeconds", "schedule",
};

static bool is_server_default(const char *key)
{
    for (size_t i = 0; i < sizeof server_default / sizeof server_default[0]; i++)
        if (strcmp(server_default[i], key) == 0)
            return true;
    return false;
}

/* ---- Comparison -------------------------------------------------------- */

static bool is_empty(const json_t *v)
{
    return v == NULL || json_is_null(v) || json_is_false(v) ||
           (json_is_string(v) && json_string_length(v) == 0) ||
           (json_is_number(v) && json_number_value(v) == 0) ||
           (json_is_array(v) && json_array_size(v) == 0) ||
           (json_is_object(v) && json_object_size(v) == 0);
}

/* A number, or a string holding one (the API takes "3" for 3). */
static bool as_number(const json_t *v, double *out)
{
    if (json_is_number(v)) {
        *out = json_number_value(v);
        return true;
    }
    const char *s = json_string_value(v);
    char *end = NULL;
    if (s == NULL || s[0] == '\0')
        return false;
    errno = 0;
    *out = strtod(s, &end);
    return errno == 0 && *end == '\0' && isfinite(*out);
}

static bool like(const json_t *mine, const json_t *theirs);

/* Every field of `mine` (not null) like theirs. */
static bool like_fields(const json_t *mine, const json_t *theirs)
{
    const char *key;
    json_t *v;
    json_object_foreach((json_t *)mine, key, v) {
        if (!json_is_null(v) && !like(v, json_object_get(theirs, key)))
            return false;
    }
    return true;
}

/* Is the file's value `mine` what the server shows as `theirs`? */
static bool like(const json_t *mine, const json_t *theirs)
{
    double a, b;
    if (theirs == NULL || json_is_null(theirs))
        return is_empty(mine);
    if (json_is_number(mine) || json_is_number(theirs))
        return as_number(mine, &a) && as_number(theirs, &b) && a == b;
    if (json_is_string(mine) && json_is_boolean(theirs))
        return strcmp(json_string_value(mine), json_is_true(theirs) ? "true" : "false") == 0;
    if (json_is_object(mine) && json_is_object(theirs))
        return like_fields(mine, theirs);
    if (json_is_array(mine) && json_is_array(theirs)) {
        size_t i;
        json_t *e;
        if (json_array_size(mine) != json_array_size(theirs))
            return false;
        json_array_foreach((json_t *)mine, i, e) {
            if (!like(e, json_array_get(theirs, i)))
                return false;
        }
        return true;
    }
    return json_equal((json_t *)mine, (json_t *)theirs);
}

/* "R<n>//<period>" (start now) against the server's "R<n>/<start>/<period>":
 * the server keeps the start it chose, so these are the same schedule. */
static bool like_schedule(const json_t *mine, const json_t *theirs)
{
    const char *a = json_string_value(mine), *b = json_string_value(theirs);
    if (a == NULL || b == NULL)
        return like(mine, theirs);
    const char *a2 = strstr(a, "//"), *b1 = strchr(b, '/');
    const char *b2 = b1 != NULL ? strchr(b1 + 1, '/') : NULL;
    if (a2 == NULL || b2 == NULL || a[0] != 'R')
        return strcmp(a, b) == 0;
    return a2 - a == b1 - b && strncmp(a, b, (size_t)(a2 - a)) == 0 && strcmp(a2 + 2, b2 + 1) == 0;
}

/* Is the file's field `key` what the server shows? */
static bool like_field(const char *key, const json_t *v, const json_t *theirs)
{
    const json_t *t = json_object_get(theirs, key);
    return strcmp(key, "schedule") == 0 ? like_schedule(v, t) : like(v, t);
}

/* True when applying `mine` would change nothing on the server. */
static bool same_job(const json_t *mine, const json_t *theirs)
{
    const char *key;
    json_t *v;
    json_object_foreach((json_t *)mine, key, v) {
        if (!chr_job_is_computed(key) && !json_is_null(v) && !like_field(key, v, theirs))
            return false;
    }
    bool has_fetch = json_object_get(mine, "fetch") || json_object_get(mine, "uris");
    json_object_foreach((json_t *)theirs, key, v) {
        if (json_object_get(mine, key) != NULL || chr_job_is_computed(key) ||
            is_server_default(key))
            continue;
        /* fetch and uris mirror each other: the file gives one of them. */
        if (has_fetch && (strcmp(key, "fetch") == 0 || strcmp(key, "uris") == 0))
            continue;
        if (!is_empty(v))
            return false;
    }
    return true;
}

/* ---- Files ------------------------------------------------------------- */

struct plan {
    json_t *jobs;   /* every job object, in file order */
    json_t *byname; /* name -> index in jobs */
    char *paths[APPLY_FILES_MAX];
    size_t npaths;
};

static int add_path(struct plan *p, const char *dir, const char *name)
{
    char buf[4096];
    int n = dir ? snprintf(buf, sizeof buf, "%s/%s", dir, name)
                : snprintf(buf, sizeof buf, "%s", name);
    if (n < 0 || (size_t)n >= sizeof buf)
        return chr_client_fail(CHR_EXIT_BAD_VALUE, "apply: path too long: %s", name);
    if (p->npaths >= APPLY_FILES_MAX)
        return chr_client_fail(CHR_EXIT_BAD_VALUE, "apply: more than %d files", APPLY_FILES_MAX);
    if ((p->paths[p->npaths] = chr_strndup(buf, (size_t)n)) == NULL)
        return chr_client_fail(CHR_EXIT_BAD_VALUE, "out of memory");
    p->npaths++;
    return CHR_EXIT_OK;
}

static int by_name(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The *.json files directly inside `dir`, in name order. */
static int add_dir(struct plan *p, const char *dir)
{
    DIR *d = opendir(dir);
    if (d == NULL)
        return chr_client_fail(CHR_EXIT_BAD_VALUE, "apply: cannot read %s: %s", dir,
                               strerror(errno));
    size_t first = p->npaths;
    int st = CHR_EXIT_OK;
    const struct dirent *e;
    while (st == CHR_EXIT_OK && (e = readdir(d)) != NULL) {
        size_t n = strlen(e->d_name);
        if (e->d_name[0] != '.' && n > 5 && strcmp(e->d_name + n - 5, ".json") == 0)
            st = add_path(p, dir, e->d_name);
    }
    closedir(d);
    qsort(p->paths + first, p->npaths - first, sizeof p->paths[0], by_name);
    return st;
}

static int add_target(struct plan *p, const char *target)
{
    struct stat sb;
    if (strcmp(target, "-") == 0)
        return add_path(p, NULL, "-");
    if (stat(target, &sb) != 0)
        return chr_client_fail(CHR_EXIT_BAD_VALUE, "apply: cannot read %s: %s", target,
                               strerror(errno));
    return S_ISDIR(sb.st_mode) ? add_dir(p, target) : add_path(p, NULL, target);
}

static int add_job(struct plan *p, const char *path, json_t *job)
{
    const char *name = json_string_value(json_object_get(job, "name"));
    if (!json_is_object(job))
        return chr_client_fail(CHR_EXIT_BAD_VALUE, "apply: %s: a job must be a JSON object",
                               path);
    if (name == NULL || name[0] == '\0')
        return chr_client_fail(CHR_EXIT_BAD_VALUE, "apply: %s: a job without a \"name\"", path);
    if (json_object_get(p->byname, name) != NULL)
        return chr_client_fail(CHR_EXIT_BAD_VALUE, "apply: %s: job '%s' is given twice", path,
                               name);
    if (json_array_size(p->jobs) >= APPLY_JOBS_MAX)
        return chr_client_fail(CHR_EXIT_BAD_VALUE, "apply: more than %d jobs", APPLY_JOBS_MAX);
    if (json_object_set_new(p->byname, name, json_integer((json_int_t)json_array_size(p->jobs)))
        || json_array_append(p->jobs, job))
        return chr_client_fail(CHR_EXIT_BAD_VALUE, "out of memory");
    return CHR_EXIT_OK;
}

static int load_file(struct plan *p, const char *path)
{
    json_error_t jerr;
    struct stat sb;
    if (stat(path, &sb) == 0 && sb.st_size > CHR_CLIENT_BODY_MAX)
        return chr_client_fail(CHR_EXIT_BAD_VALUE, "apply: %s: larger than %d MiB", path,
                               CHR_CLIENT_BODY_MAX / (1024 * 1024));
    bool in = strcmp(path, "-") == 0;
    json_t *v = in ? json_loadf(stdin, JSON_REJECT_DUPLICATES, &jerr)
                   : json_load_file(path, JSON_REJECT_DUPLICATES, &jerr);
    if (v == NULL)
        return chr_client_fail(CHR_EXIT_BAD_VALUE, "apply: %s:%d: %s", path, jerr.line,
                               jerr.text);
    int st = CHR_EXIT_OK;
    if (json_is_array(v)) {
        size_t i;
        json_t *job;
        json_array_foreach(v, i, job) {
            if (st == CHR_EXIT_OK)
                st = add_job(p, path, job);
        }
    } else {
        st = add_job(p, path, v);
    }
    json_decref(v);
    return st;
}

/* ---- Order and sending ------------------------------------------------- */

/* Are all of job's parents that are in the plan already ordered? */
static bool parents_done(const struct plan *p, const json_t *job, const bool *done)
{
    size_t i;
    json_t *parent;
    json_array_foreach(json_object_get(job, "parents"), i, parent) {
        const char *name = json_string_value(parent);
        json_t *at = name ? json_object_get(p->byname, name) : NULL;
        if (at != NULL && !done[json_integer_value(at)])
            return false;
    }
    return true;
}

/* Indexes of p->jobs into order[], every parent before its children. */
static int sort_jobs(const struct plan *p, size_t *order)
{
    size_t n = json_array_size(p->jobs), k = 0;
    bool *done = chr_calloc(n ? n : 1, sizeof *done), progress = true;
    if (done == NULL)
        return chr_client_fail(CHR_EXIT_BAD_VALUE, "out of memory");
    while (k < n && progress) {
        progress = false;
        for (size_t i = 0; i < n; i++) {
            if (!done[i] && parents_done(p, json_array_get(p->jobs, i), done)) {
                done[i] = progress = true;
                order[k++] = i;
            }
        }
    }
    size_t stuck = 0;
    while (k < n && done[stuck])
        stuck++;
    chr_free(done);
    if (k < n)
        return chr_client_fail(CHR_EXIT_BAD_VALUE, "apply: job '%s' is in a cycle of parents",
                               json_string_value(json_object_get(
                                   json_array_get(p->jobs, stuck), "name")));
    return CHR_EXIT_OK;
}

/* What a job of the plan needs: nothing, a create or an update. */
enum need { NEED_NONE, NEED_CREATE, NEED_UPDATE };

/* A value for a diff line: compact JSON, "(none)" when absent. */
static void print_value(const json_t *v)
{
    char *t = v != NULL ? json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY) : NULL;
    fputs(t != NULL ? t : "(none)", stdout);
    free(t); /* lint: allow (jansson's allocation) */
}

/* `  key: theirs -> mine` for each field the update would change. */
static void print_diff(const json_t *mine, const json_t *theirs)
{
    const char *key;
    json_t *v;
    json_object_foreach((json_t *)mine, key, v) {
        if (chr_job_is_computed(key) || json_is_null(v) || like_field(key, v, theirs))
            continue;
        printf("  %s: ", key);
        print_value(json_object_get(theirs, key));
        fputs(" -> ", stdout);
        print_value(v);
        fputc('\n', stdout);
    }
    json_object_foreach((json_t *)theirs, key, v) {
        if (json_object_get(mine, key) == NULL && !chr_job_is_computed(key) &&
            !is_server_default(key) && strcmp(key, "fetch") != 0 && strcmp(key, "uris") != 0 &&
            !is_empty(v)) {
            printf("  %s: ", key);
            print_value(v);
            fputs(" -> (default)\n", stdout);
        }
    }
}

/* POSTs the job as chr_client_post_job does, with ?dryRun=true when
 * `dry`: the server checks it and keeps nothing. */
static int post(const struct chr_client *c, const json_t *job, bool dry)
{
    char *body = json_dumps(job, JSON_COMPACT);
    if (body == NULL)
        return chr_client_fail(CHR_EXIT_BAD_VALUE, "out of memory");
    struct chr_resp r;
    char path[64];
    snprintf(path, sizeof path, "%s%s",
             chr_job_is_dependent(job) ? "/v1/scheduler/dependency" : "/v1/scheduler/iso8601",
             dry ? "?strict=true&dryRun=true" : "?strict=true");
    int st = chr_client_call(c, "POST", path, body, &r);
    free(body); /* lint: allow (jansson's allocation) */
    if (st == CHR_EXIT_OK)
        chr_resp_free(&r);
    return st;
}

/* Works out what the job needs and has the server check a change (nothing
 * is kept); with `show`, prints it as --dry-run does. */
static int check_one(const struct chr_client *client, const json_t *job, bool show,
                     enum need *need)
{
    const char *name = json_string_value(json_object_get(job, "name"));
    struct chr_client named = *client;
    const struct chr_client *c = &named;
    json_t *theirs = NULL;
    named.context = name; /* a refusal names the job it is about */
    int st = chr_client_get_job(c, name, true, &theirs);
    if (st != CHR_EXIT_OK)
        return st;
    *need = theirs == NULL ? NEED_CREATE : same_job(job, theirs) ? NEED_NONE : NEED_UPDATE;
    if (*need != NEED_NONE)
        st = post(c, job, true);
    if (st == CHR_EXIT_OK && show) {
        printf("%s %s\n", *need == NEED_NONE ? "unchanged" : *need == NEED_CREATE
                                                            ? "would create" : "would update",
               name);
        if (*need == NEED_UPDATE)
            print_diff(job, theirs);
    }
    json_decref(theirs);
    return st;
}

static int send_one(const struct chr_client *client, const json_t *job, enum need need)
{
    const char *name = json_string_value(json_object_get(job, "name"));
    struct chr_client named = *client;
    named.context = name;
    int st = need == NEED_NONE ? CHR_EXIT_OK : post(&named, job, false);
    if (st == CHR_EXIT_OK)
        printf("%s %s\n", need == NEED_NONE ? "unchanged" : need == NEED_CREATE ? "created"
                                                                             : "updated", name);
    fflush(stdout);
    return st;
}

/* Reads and orders every job, has the server check every change, then
 * (unless `dry`) sends them: a refusal before the sending changes nothing.
 * The server's dry run checks the job itself (fields, schedule, zone);
 * cycles among the files are refused by the ordering, and a parent that
 * is neither in the files nor on the server is refused when sent. */
static int run_plan(const struct chr_client *c, struct plan *p, const struct chr_words *targets,
                    bool dry)
{
    int st = CHR_EXIT_OK;
    for (size_t i = 0; i < targets->n && st == CHR_EXIT_OK; i++)
        st = add_target(p, targets->v[i]);
    for (size_t i = 0; i < p->npaths && st == CHR_EXIT_OK; i++)
        st = load_file(p, p->paths[i]);
    size_t n = json_array_size(p->jobs);
    size_t *order = st == CHR_EXIT_OK ? chr_calloc(n ? n : 1, sizeof *order) : NULL;
    enum need *need = st == CHR_EXIT_OK ? chr_calloc(n ? n : 1, sizeof *need) : NULL;
    if (st == CHR_EXIT_OK && (order == NULL || need == NULL))
        st = chr_client_fail(CHR_EXIT_BAD_VALUE, "out of memory");
    if (st == CHR_EXIT_OK)
        st = sort_jobs(p, order);
    for (size_t i = 0; i < n && st == CHR_EXIT_OK; i++)
        st = check_one(c, json_array_get(p->jobs, order[i]), dry, &need[i]);
    for (size_t i = 0; i < n && st == CHR_EXIT_OK && !dry; i++)
        st = send_one(c, json_array_get(p->jobs, order[i]), need[i]);
    chr_free(order);
    chr_free(need);
    return st;
}

int chr_cli_apply(int argc, char **argv)
{
    struct chr_words targets = {{0}, 0};
    bool dry = false;
    const struct chr_opt opts[] = {{"--file", "-f", CHR_OPT_LIST, &targets},
                                   {"--dry-run", NULL, CHR_OPT_FLAG, &dry}};
    const struct chr_cmd cmd = {"apply", apply_help, opts, 2, 0, 0, NULL, false};
    struct chr_client c;
    int st = chr_client_args(&cmd, argc, argv, &c);
    if (st >= 0)
        return st;
    if (targets.n == 0)
        return chr_client_usage(&c, "missing -f FILE|DIR");
    struct plan *p = chr_calloc(1, sizeof *p);
    if (p == NULL || (p->jobs = json_array()) == NULL || (p->byname = json_object()) == NULL)
        st = chr_client_fail(CHR_EXIT_BAD_VALUE, "out of memory");
    else
        st = run_plan(&c, p, &targets, dry);
    if (p != NULL) {
        for (size_t i = 0; i < p->npaths; i++)
            chr_free(p->paths[i]);
        json_decref(p->jobs);
        json_decref(p->byname);
    }
    chr_free(p);
    return st;
}
