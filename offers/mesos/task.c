/*
 * task.c - a run's Mesos TaskInfo (task.h): resources taken from the offer,
 * the command, its environment and URIs, the container.
 *
 * Pure: no I/O, no clock, no thread.  Never writes a field the Debian
 * protos do not have.  JSON stored in the job (container, fetch, uris) is
 * checked again as it is read: it may have been written into the store by
 * hand, so a bad value is an error naming its field, never an assertion.
 */
#include "offers/mesos/task.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "common/alloc.h"
#include "common/assert.h"
#include "common/limits.h"
#include "offers/local.h"
#include "offers/mesos/task_int.h"

/* The core's tolerance when it matches a run to an offer's sums. */
#define FIT_EPS 1e-9
/* Mesos caps an id at NAME_MAX bytes (it names a directory on the agent). */
#define MESOS_ID_MAX 255

/* ---- JSON helpers --------------------------------------------------------- */

/* Sets obj[key] = v, stealing v; false when v is NULL or on ENOMEM. */
static bool set(json_t *obj, const char *key, json_t *v)
{
    return v != NULL && json_object_set_new(obj, key, v) == 0;
}

static bool push(json_t *arr, json_t *v)
{
    return v != NULL && json_array_append_new(arr, v) == 0;
}

/* {"value": s} */
static json_t *value_obj(const char *s)
{
    return json_pack("{s:s}", "value", s);
}

/* A member that must be a string when present; "" for JSON null. */
static enum chr_err opt_string(const json_t *o, const char *key, const char *base,
                               const char **out, struct chr_error *err)
{
    json_t *v = json_object_get(o, key);
    *out = NULL;
    if (v == NULL || json_is_null(v))
        return CHR_OK;
    if (!json_is_string(v)) {
        char f[CHR_ERROR_FIELD_MAX];
        return chr_error_set(err, CHR_EINVAL, chr_error_fieldf(f, "%s.%s", base, key),
                             "must be a string");
    }
    *out = json_string_value(v);
    return CHR_OK;
}

/* A flag as Chronos read it: true/false, or the text "true"/"false". */
static enum chr_err opt_bool(const json_t *o, const char *key, const char *base, bool dflt,
                             bool *out, struct chr_error *err)
{
    json_t *v = json_object_get(o, key);
    *out = dflt;
    if (v == NULL || json_is_null(v))
        return CHR_OK;
    if (json_is_boolean(v)) {
        *out = json_is_true(v);
        return CHR_OK;
    }
    const char *s = json_string_value(v);
    if (s != NULL && (strcmp(s, "true") == 0 || strcmp(s, "false") == 0)) {
        *out = s[0] == 't';
        return CHR_OK;
    }
    char f[CHR_ERROR_FIELD_MAX];
    return chr_error_set(err, CHR_EINVAL, chr_error_fieldf(f, "%s.%s", base, key),
                         "must be true or false");
}

/* ---- Resources ------------------------------------------------------------ */

static bool entry_reserved(const struct chr_mesos_resource *r)
{
    return r->reserved || r->reservations_json != NULL || strcmp(r->role, "*") != 0;
}

static bool entry_usable(const struct chr_mesos_resource *r, const char *name)
{
    return strcmp(r->name, name) == 0 && isfinite(r->value) && r->value > 0;
}

/*
 * How much of `need` to take from each entry of `name` (take[i] for
 * o->res[i]): reserved entries first, then the others, each in offer
 * order.  Returns what could not be taken (0 when it all fits).
 */
static double plan(const struct chr_mesos_offer *o, const char *name, double need,
                   double take[CHR_MESOS_RESOURCES_MAX])
{
    double left = need;
    for (size_t i = 0; i < o->n_res; i++)
        take[i] = 0;
    for (int pass = 0; pass < 2 && left > FIT_EPS; pass++) {
        for (size_t i = 0; i < o->n_res && left > FIT_EPS; i++) {
            const struct chr_mesos_resource *r = &o->res[i];
            if (!entry_usable(r, name) || entry_reserved(r) != (pass == 0))
                continue;
            take[i] = r->value < left ? r->value : left;
            left -= take[i];
        }
    }
    return left > FIT_EPS ? left : 0;
}

static double offered(const struct chr_mesos_offer *o, const char *name)
{
    double sum = 0;
    for (size_t i = 0; i < o->n_res; i++)
        if (entry_usable(&o->res[i], name))
            sum += o->res[i].value;
    return sum;
}

bool chr_mesos_offer_fits(const struct chr_mesos_offer *o, double cpus, double mem_mb,
                          double disk_mb)
{
    return offered(o, "cpus") + FIT_EPS >= cpus && offered(o, "mem") + FIT_EPS >= mem_mb &&
           offered(o, "disk") + FIT_EPS >= disk_mb;
}

void chr_mesos_offer_take(struct chr_mesos_offer *o, double cpus, double mem_mb,
                          double disk_mb)
{
    static const char *const names[] = {"cpus", "mem", "disk"};
    const double need[] = {cpus, mem_mb, disk_mb};
    double take[CHR_MESOS_RESOURCES_MAX];
    for (int k = 0; k < 3; k++) {
        if (!(need[k] > 0))
            continue;
        plan(o, names[k], need[k], take);
        for (size_t i = 0; i < o->n_res; i++)
            o->res[i].value = take[i] >= o->res[i].value ? 0 : o->res[i].value - take[i];
    }
}

/* One piece of an offered entry, as the task takes it. */
static enum chr_err piece_json(const struct chr_mesos_resource *r, double amount, json_t **out,
                               struct chr_error *err)
{
    json_t *o = json_pack("{s:s, s:s, s:{s:f}}", "name", r->name, "type", "SCALAR", "scalar",
                          "value", amount);
    bool ok = o != NULL;
    if (ok && r->reservations_json != NULL) {
        json_t *rs = json_loads(r->reservations_json, 0, NULL);
        if (rs != NULL && !json_is_array(rs)) {
            json_decref(rs);
            json_decref(o);
            return chr_error_set(err, CHR_EINVAL, "offer.resources",
                                 "a %s entry's reservations are not an array", r->name);
        }
        ok = set(o, "reservations", rs);
    } else if (ok) {
        ok = set(o, "role", json_string(r->role[0] ? r->role : "*"));
    }
    if (ok && r->alloc_role[0] != '\0')
        ok = set(o, "allocation_info", json_pack("{s:s}", "role", r->alloc_role));
    if (!ok) {
        json_decref(o);
        return CHR_ENOMEM;
    }
    *out = o;
    return CHR_OK;
}

static enum chr_err add_resource(json_t *list, const struct chr_mesos_offer *o,
                                 const char *name, const char *unit, double need,
                                 struct chr_error *err)
{
    if (!(need > 0))
        return CHR_OK;
    double take[CHR_MESOS_RESOURCES_MAX];
    if (plan(o, name, need, take) > 0)
        return chr_error_set(err, CHR_EINVAL, name, "needs %g%s, the offer has %g%s", need, unit,
                             offered(o, name), unit);
    for (size_t i = 0; i < o->n_res; i++) {
        if (take[i] <= 0)
            continue;
        json_t *piece = NULL;
        enum chr_err e = piece_json(&o->res[i], take[i], &piece, err);
        if (e != CHR_OK)
            return e;
        if (!push(list, piece))
            return CHR_ENOMEM;
    }
    return CHR_OK;
}

/* The resources a run of the job takes: its own, or the defaults for 0. */
struct need {
    double cpus, mem_mb, disk_mb;
};

static struct need job_need(const struct chr_mesos_task_params *p)
{
    const struct chr_job *j = p->job;
    return (struct need){
        j->cpus > 0 ? j->cpus : p->default_cpus,
        j->mem_mb > 0 ? j->mem_mb : p->default_mem_mb,
        j->disk_mb > 0 ? j->disk_mb : p->default_disk_mb,
    };
}

static enum chr_err resources_json(const struct chr_mesos_task_params *p, const struct need *n,
                                   json_t *task, struct chr_error *err)
{
    const double v[] = {n->cpus, n->mem_mb, n->disk_mb};
    const char *const names[] = {"cpus", "mem", "disk"};
    for (int i = 0; i < 3; i++)
        if (!isfinite(v[i]) || v[i] < 0)
            return chr_error_set(err, CHR_EINVAL, names[i], "must be a number >= 0");
    json_t *list = json_array();
    if (!set(task, "resources", list))
        return CHR_ENOMEM;
    enum chr_err e = add_resource(list, p->offer, "cpus", "", n->cpus, err);
    if (e == CHR_OK)
        e = add_resource(list, p->offer, "mem", " MB", n->mem_mb, err);
    if (e == CHR_OK)
        e = add_resource(list, p->offer, "disk", " MB", n->disk_mb, err);
    return e;
}

/* ---- Environment ---------------------------------------------------------- */

static const char *str(const char *s)
{
    return s != NULL ? s : "";
}

/* The built-in variables, in the local manager's order. */
static json_t *builtins(const struct chr_mesos_task_params *p, const struct need *n)
{
    char cpu[32], mem[32], disk[32], due[24], attempt[16];
    chr_local_format_double(n->cpus, cpu);
    chr_local_format_double(n->mem_mb, mem);
    chr_local_format_double(n->disk_mb, disk);
    snprintf(due, sizeof due, "%lld", (long long)p->run->due_ms);
    snprintf(attempt, sizeof attempt, "%d", (int)p->run->attempt);
    return json_pack("[{s:s,s:s}, {s:s,s:s}, {s:s,s:s}, {s:s,s:s}, {s:s,s:s}, {s:s,s:s}, "
                     "{s:s,s:s}, {s:s,s:s}, {s:s,s:s}, {s:s,s:s}]",
                     "name", "mesos_task_id", "value", p->run->id, "name", "MESOS_TASK_ID",
                     "value", p->run->id, "name", "CHRONOS_JOB_OWNER", "value",
                     str(p->job->owner), "name", "CHRONOS_JOB_NAME", "value", p->job->name,
                     "name", "HOST", "value", p->offer->hostname, "name",
                     "CHRONOS_RESOURCE_MEM", "value", mem, "name", "CHRONOS_RESOURCE_CPU",
                     "value", cpu, "name", "CHRONOS_RESOURCE_DISK", "value", disk, "name",
                     "CHRONOS_JOB_RUN_TIME", "value", due, "name", "CHRONOS_JOB_RUN_ATTEMPT",
                     "value", attempt);
}

static bool has_name(const json_t *vars, const char *name)
{
    size_t i;
    json_t *v;
    json_array_foreach(vars, i, v) {
        if (strcmp(json_string_value(json_object_get(v, "name")), name) == 0)
            return true;
    }
    return false;
}

/* Index of the job's last variable named like env[i], so a later
 * duplicate wins and each name is written once. */
static bool last_of_name(const struct chr_job *j, uint32_t i)
{
    for (uint32_t k = i + 1; k < j->n_env; k++)
        if (strcmp(str(j->env[k].name), str(j->env[i].name)) == 0)
            return false;
    return true;
}

static enum chr_err environment_json(const struct chr_mesos_task_params *p,
                                     const struct need *n, json_t *command,
                                     struct chr_error *err)
{
    const struct chr_job *j = p->job;
    json_t *base = builtins(p, n), *vars = json_array();
    bool ok = base != NULL && vars != NULL;
    for (uint32_t i = 0; ok && i < j->n_env; i++) {
        const char *name = str(j->env[i].name);
        if (name[0] == '\0') {
            json_decref(base);
            json_decref(vars);
            return chr_error_set(err, CHR_EINVAL, "environmentVariables",
                                 "entry %u has no name", i);
        }
        if (!has_name(base, name) && last_of_name(j, i))
            ok = push(vars, json_pack("{s:s,s:s}", "name", name, "value", str(j->env[i].value)));
    }
    ok = ok && json_array_extend(vars, base) == 0;
    json_decref(base);
    if (!ok) {
        json_decref(vars);
        return chr_error_set(err, CHR_EINVAL, "environmentVariables",
                             "a name or value is not UTF-8 (or out of memory)");
    }
    return set(command, "environment", json_pack("{s:o}", "variables", vars)) ? CHR_OK
                                                                             : CHR_ENOMEM;
}

/* ---- URIs ----------------------------------------------------------------- */

static json_t *uri_json(const char *uri, bool executable, bool extract, bool cache,
                        const char *output_file)
{
    json_t *u = json_pack("{s:s, s:b, s:b, s:b}", "value", uri, "executable", executable,
                          "extract", extract, "cache", cache);
    if (u != NULL && output_file != NULL && output_file[0] != '\0' &&
        !set(u, "output_file", json_string(output_file))) {
        json_decref(u);
        return NULL;
    }
    return u;
}

static enum chr_err fetch_entry(const json_t *f, size_t i, json_t *uris, struct chr_error *err)
{
    char base[CHR_ERROR_FIELD_MAX];
    chr_error_fieldf(base, "fetch[%zu]", i);
    const char *uri = NULL, *output = NULL;
    bool exe, extract, cache;
    enum chr_err e;
    if (!json_is_object(f))
        return chr_error_set(err, CHR_EINVAL, base, "must be an object with a uri");
    if ((e = opt_string(f, "uri", base, &uri, err)) != CHR_OK ||
        (e = opt_string(f, "output_file", base, &output, err)) != CHR_OK ||
        (e = opt_bool(f, "executable", base, false, &exe, err)) != CHR_OK ||
        (e = opt_bool(f, "extract", base, true, &extract, err)) != CHR_OK ||
        (e = opt_bool(f, "cache", base, false, &cache, err)) != CHR_OK)
        return e;
    if (uri == NULL || uri[0] == '\0')
        return chr_error_set(err, CHR_EINVAL, base, "has no uri");
    return push(uris, uri_json(uri, exe, extract, cache, output)) ? CHR_OK : CHR_ENOMEM;
}

/* A stored JSON array (fetch or uris); NULL text is an empty list. */
static enum chr_err load_list(const char *text, const char *field, json_t **out,
                              struct chr_error *err)
{
    *out = text != NULL ? json_loads(text, 0, NULL) : json_array();
    if (*out != NULL && json_is_array(*out) &&
        json_array_size(*out) <= CHR_JOB_FETCH_MAX)
        return CHR_OK;
    json_decref(*out);
    *out = NULL;
    return chr_error_set(err, CHR_EINVAL, field, "must be an array of at most %d entries",
                         CHR_JOB_FETCH_MAX);
}

/* fetch's entries, then uris' strings with Chronos's defaults. */
static enum chr_err job_uris(const struct chr_job *j, json_t *uris, struct chr_error *err)
{
    json_t *fetch = NULL, *plain = NULL;
    enum chr_err e = load_list(j->fetch_json, "fetch", &fetch, err);
    if (e == CHR_OK)
        e = load_list(j->uris_json, "uris", &plain, err);
    for (size_t i = 0; e == CHR_OK && i < json_array_size(fetch); i++)
        e = fetch_entry(json_array_get(fetch, i), i, uris, err);
    for (size_t i = 0; e == CHR_OK && i < json_array_size(plain); i++) {
        const char *u = json_string_value(json_array_get(plain, i));
        if (u == NULL || u[0] == '\0') {
            char f[CHR_ERROR_FIELD_MAX];
            e = chr_error_set(err, CHR_EINVAL, chr_error_fieldf(f, "uris[%zu]", i),
                              "must be a non-empty string");
        } else if (!push(uris, uri_json(u, false, true, false, NULL))) {
            e = CHR_ENOMEM;
        }
    }
    json_decref(fetch);
    json_decref(plain);
    return e;
}

/* ---- Command ---------------------------------------------------------------- */

/* shell:false's arguments: the whole argv for the Mesos containerizer,
 * what follows value for Docker's (see task.h). */
static bool put_argv(json_t *command, const char *argv0, char *const *args, uint32_t n,
                     enum chr_mesos_box box)
{
    json_t *a = json_array();
    bool ok = a != NULL;
    if (ok && argv0 != NULL && box != CHR_MESOS_BOX_DOCKER)
        ok = push(a, json_string(argv0));
    for (uint32_t i = 0; ok && i < n; i++)
        ok = push(a, json_string(args[i] != NULL ? args[i] : ""));
    if (!ok) {
        json_decref(a);
        return false;
    }
    if (json_array_size(a) == 0) {
        json_decref(a);
        return true;
    }
    return set(command, "arguments", a);
}

static const char *url_schemes[] = {"http://", "https://", "ftp://", "ftps://"};

static bool is_url_command(const char *cmd)
{
    for (size_t i = 0; i < sizeof url_schemes / sizeof url_schemes[0]; i++)
        if (strncmp(cmd, url_schemes[i], strlen(url_schemes[i])) == 0)
            return true;
    return false;
}

/*
 * A command whose first word is a URL: the URL is fetched executable and
 * "./<file name>" runs, with the rest of the command after it (shell), or
 * with the arguments (not shell).  Chronos quoted the file name in "...".
 */
static enum chr_err url_command(const struct chr_mesos_task_cmd *c, enum chr_mesos_box box,
                                json_t *command, json_t *uris, struct chr_error *err)
{
    size_t url_len = strcspn(c->command, " \t\n");
    const char *slash = memchr(c->command, '/', url_len), *name = c->command;
    for (const char *q = slash; q != NULL && q < c->command + url_len; q = strchr(q + 1, '/'))
        name = q + 1;
    size_t name_len = (size_t)(c->command + url_len - name);
    if (name_len == 0 || name_len > 255 || strcspn(name, "\"$`\\") < name_len)
        return chr_error_set(err, CHR_EINVAL, "command",
                             "a URL command must end in a file name without \", $, ` or \\");
    char *url = chr_strndup(c->command, url_len);
    char run[264];
    snprintf(run, sizeof run, "./%.*s", (int)name_len, name);
    bool ok = url != NULL && push(uris, json_pack("{s:s, s:b}", "value", url, "executable", 1));
    chr_free(url);
    if (ok && c->shell) {
        size_t n = strlen(run) + 2 + strlen(c->command + url_len) + 1;
        char *text = chr_malloc(n);
        if (text != NULL)
            snprintf(text, n, "\"%s\"%s", run, c->command + url_len);
        ok = text != NULL && set(command, "shell", json_true()) &&
             set(command, "value", json_string(text));
        chr_free(text);
    } else if (ok) {
        ok = set(command, "shell", json_false()) && set(command, "value", json_string(run)) &&
             put_argv(command, run, c->arguments, c->n_arguments, box);
    }
    return ok ? CHR_OK : CHR_ENOMEM;
}

/* An empty command: the image's entrypoint runs, with the arguments. */
static enum chr_err entrypoint_command(const struct chr_mesos_task_cmd *c, enum chr_mesos_box box,
                                       json_t *command, struct chr_error *err)
{
    if (box == CHR_MESOS_BOX_NONE)
        return chr_error_set(err, CHR_EINVAL, "command",
                             "is empty: only a job with a container may leave it empty "
                             "(its image's entrypoint runs)");
    if (c->command[strspn(c->command, " ")] != '\0')
        return chr_error_set(err, CHR_EINVAL, "arguments",
                             "a shell job with an empty command takes no arguments "
                             "(set shell to false to pass them to the entrypoint)");
    return set(command, "shell", json_false()) &&
                   put_argv(command, NULL, c->arguments, c->n_arguments, box)
               ? CHR_OK
               : CHR_ENOMEM;
}

static enum chr_err command_value(const struct chr_mesos_task_params *p,
                                  const struct chr_mesos_task_cmd *c, enum chr_mesos_box box,
                                  json_t *command, json_t *uris, struct chr_error *err)
{
    if (str(p->job->command)[0] == '\0')
        return entrypoint_command(c, box, command, err);
    if (c->command[0] == '\0')
        return chr_error_set(err, CHR_EINVAL, "command", "is empty");
    if (is_url_command(c->command))
        return url_command(c, box, command, uris, err);
    bool ok = set(command, "shell", json_boolean(c->shell)) &&
              set(command, "value", json_string(c->command));
    if (ok && !c->shell)
        ok = put_argv(command, c->command, c->arguments, c->n_arguments, box);
    return ok ? CHR_OK
              : chr_error_set(err, CHR_EINVAL, "command",
                              "the command or an argument is not UTF-8 (or out of memory)");
}

/* CommandInfo: value/shell/arguments, uris, environment, user. */
static enum chr_err command_json(const struct chr_mesos_task_params *p, const struct need *n,
                                 enum chr_mesos_box box, json_t *task, struct chr_error *err)
{
    const struct chr_job *j = p->job;
    struct chr_mesos_task_cmd own = {str(j->command), j->shell, j->arguments, j->n_arguments};
    const struct chr_mesos_task_cmd *c = p->cmd != NULL ? p->cmd : &own;
    if (p->cmd == NULL && p->run->arguments != NULL && p->run->arguments[0] != '\0')
        return chr_error_set(err, CHR_EINVAL, "arguments",
                             "a manual run's arguments need the command the wiring made "
                             "(chr_run_cmd_make)");
    if (c->command == NULL || c->n_arguments > CHR_JOB_ARGUMENTS_MAX ||
        (c->n_arguments > 0 && c->arguments == NULL))
        return chr_error_set(err, CHR_EINVAL, "arguments", "at most %d, none NULL",
                             CHR_JOB_ARGUMENTS_MAX);
    json_t *command = json_object(), *uris = json_array();
    enum chr_err e = command != NULL && uris != NULL ? CHR_OK : CHR_ENOMEM;
    if (e == CHR_OK)
        e = command_value(p, c, box, command, uris, err);
    if (e == CHR_OK)
        e = job_uris(j, uris, err);
    if (e == CHR_OK && json_array_size(uris) > 0)
        e = set(command, "uris", json_incref(uris)) ? CHR_OK : CHR_ENOMEM;
    if (e == CHR_OK)
        e = environment_json(p, n, command, err);
    if (e == CHR_OK && p->user != NULL && p->user[0] != '\0' &&
        !set(command, "user", json_string(p->user)))
        e = chr_error_set(err, CHR_EINVAL, "runAsUser", "is not UTF-8 (or out of memory)");
    json_decref(uris);
    if (e == CHR_OK && !set(task, "command", command))
        return CHR_ENOMEM;
    if (e != CHR_OK)
        json_decref(command);
    return e;
}

/* ---- The task ------------------------------------------------------------- */

/* A Mesos id: 1..255 bytes of printable ASCII, no '/', not "." or "..". */
static bool mesos_id_ok(const char *id)
{
    size_t n = strlen(id);
    if (n == 0 || n > MESOS_ID_MAX || strcmp(id, ".") == 0 || strcmp(id, "..") == 0)
        return false;
    for (size_t i = 0; i < n; i++)
        if (id[i] < 0x21 || id[i] > 0x7e || id[i] == '/')
            return false;
    return true;
}

static enum chr_err check_params(const struct chr_mesos_task_params *p, struct chr_error *err)
{
    CHR_ASSERT(p != NULL && p->job != NULL && p->run != NULL && p->offer != NULL);
    if (!mesos_id_ok(p->run->id))
        return chr_error_set(err, CHR_EINVAL, "task_id",
                             "'%.64s' is not a Mesos id (1-%d printable bytes, no '/')",
                             p->run->id, MESOS_ID_MAX);
    if (p->offer->agent_id[0] == '\0')
        return chr_error_set(err, CHR_EINVAL, "offer.agent_id", "is empty");
    if (p->offer->n_res > CHR_MESOS_RESOURCES_MAX)
        return chr_error_set(err, CHR_EINVAL, "offer.resources", "more than %d",
                             CHR_MESOS_RESOURCES_MAX);
    if (str(p->job->executor)[0] != '\0')
        return chr_error_set(err, CHR_EINVAL, "executor",
                             "custom executors are not supported on Mesos (only command tasks)");
    if (p->job->n_env > CHR_JOB_ENV_MAX || (p->job->n_env > 0 && p->job->env == NULL))
        return chr_error_set(err, CHR_EINVAL, "environmentVariables", "more than %d",
                             CHR_JOB_ENV_MAX);
    return CHR_OK;
}

static enum chr_err task_head(const struct chr_mesos_task_params *p, json_t **task,
                              struct chr_error *err)
{
    size_t n = strlen("ChronosTask:") + strlen(str(p->job->name)) + 1;
    char *name = chr_malloc(n);
    if (name == NULL)
        return CHR_ENOMEM;
    snprintf(name, n, "ChronosTask:%s", str(p->job->name));
    *task = json_pack("{s:s, s:o, s:o}", "name", name, "task_id", value_obj(p->run->id),
                      "agent_id", value_obj(p->offer->agent_id));
    chr_free(name);
    if (*task == NULL)
        return chr_error_set(err, CHR_EINVAL, "offer.agent_id",
                             "the job name or agent id is not UTF-8 (or out of memory)");
    if (p->kill_grace_ms > 0 &&
        !set(*task, "kill_policy",
             json_pack("{s:{s:I}}", "grace_period", "nanoseconds",
                       (json_int_t)(p->kill_grace_ms > INT64_MAX / 1000000
                                        ? INT64_MAX
                                        : p->kill_grace_ms * 1000000)))) {
        json_decref(*task);
        *task = NULL;
        return CHR_ENOMEM;
    }
    return CHR_OK;
}

enum chr_err chr_mesos_task_build(const struct chr_mesos_task_params *p, json_t **out,
                                  struct chr_error *err)
{
    *out = NULL;
    enum chr_err e = check_params(p, err);
    if (e != CHR_OK)
        return e;
    struct need n = job_need(p);
    json_t *task = NULL, *container = NULL;
    enum chr_mesos_box box = CHR_MESOS_BOX_NONE;
    e = chr_mesos_container_json(p->job->container_json, &container, &box, err);
    if (e == CHR_OK)
        e = task_head(p, &task, err);
    if (e == CHR_OK)
        e = resources_json(p, &n, task, err);
    if (e == CHR_OK)
        e = command_json(p, &n, box, task, err);
    if (e == CHR_OK && container != NULL)
        e = set(task, "container", json_incref(container)) ? CHR_OK : CHR_ENOMEM;
    json_decref(container);
    if (e != CHR_OK) {
        json_decref(task);
        return e;
    }
    *out = task;
    return CHR_OK;
}
