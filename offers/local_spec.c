/*
 * local_spec.c - a run's spec: checking a task, the argv and environment the
 * task is given (Chronos's built-in variables win over the job's), and the spec
 * file (JSON) that carries them from the server to the supervisor.
 *
 * Pure apart from chr_local_spec_read: no process, no thread, no clock.
 */
#include <grp.h>
#include <jansson.h>
#include <math.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/alloc.h"
#include "common/limits.h"
#include "offers/local_int.h"

/* ---- Names --------------------------------------------------------------- */

static const char *const state_names[] = {
    [CHR_LOCAL_STARTING] = "STARTING", [CHR_LOCAL_RUNNING] = "RUNNING",
    [CHR_LOCAL_FINISHED] = "FINISHED", [CHR_LOCAL_FAILED] = "FAILED",
    [CHR_LOCAL_KILLED] = "KILLED",     [CHR_LOCAL_LOST] = "LOST",
    [CHR_LOCAL_DROPPED] = "DROPPED",
};

const char *chr_local_state_name(enum chr_local_state s)
{
    if ((size_t)s < sizeof state_names / sizeof state_names[0] && state_names[s])
        return state_names[s];
    return "UNKNOWN";
}

bool chr_local_state_terminal(enum chr_local_state s)
{
    return s != CHR_LOCAL_STARTING && s != CHR_LOCAL_RUNNING;
}

/* Letters, digits and `extra`; 1..max bytes; not "." or ".."; a leading
 * '.' only with dot_first. */
static bool name_valid(const char *s, size_t max, const char *extra, bool dot_first)
{
    if (!s || s[0] == '\0' || (s[0] == '.' && !dot_first) || strcmp(s, ".") == 0 ||
        strcmp(s, "..") == 0)
        return false;
    size_t n = 0;
    for (; s[n]; n++) {
        char c = s[n];
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                  strchr(extra, c) != NULL;
        if (!ok || n >= max)
            return false;
    }
    return true;
}

bool chr_local_run_id_valid(const char *id)
{
    return name_valid(id, CHR_LOCAL_RUN_ID_MAX, "_.:-", false);
}

bool chr_local_job_name_ok(const char *name)
{
    return name_valid(name, CHR_JOB_NAME_MAX, "_.-", true);
}

/* The shortest "%.*f" or "%.*e" (conv) of v that reads back as v. */
static void shortest(double v, char conv, int from, char buf[32])
{
    for (int prec = from; prec <= 17; prec++) {
        if (conv == 'f')
            snprintf(buf, 32, "%.*f", prec, v);
        else
            snprintf(buf, 32, "%.*e", prec, v);
        if (strtod(buf, NULL) == v)
            return;
    }
}

/* Java's Double.toString: plain decimals in [1e-3, 1e7), else "1.0E7". */
void chr_local_format_double(double v, char buf[32])
{
    if (!isfinite(v)) {
        snprintf(buf, 32, "%s", isnan(v) ? "NaN" : v > 0 ? "Infinity" : "-Infinity");
        return;
    }
    double a = fabs(v);
    if (a == 0 || (a >= 1e-3 && a < 1e7)) {
        shortest(v, 'f', 1, buf);
        return;
    }
    char mant[32];
    shortest(v, 'e', 0, mant);
    char *e = strchr(mant, 'e');
    int exp10 = e ? (int)strtol(e + 1, NULL, 10) : 0;
    if (e)
        *e = '\0';
    char whole[48];
    snprintf(whole, sizeof whole, "%s%sE%d", mant, strchr(mant, '.') ? "" : ".0", exp10);
    snprintf(buf, 32, "%.31s", whole);
}

/* ---- Checking a task ------------------------------------------------------- */

static enum chr_err check_resources(const struct chr_local_resources *r, struct chr_error *err)
{
    const double v[] = {r->cpus, r->mem_mb, r->disk_mb};
    const char *const names[] = {"cpus", "mem", "disk"};
    for (int i = 0; i < 3; i++)
        if (!isfinite(v[i]) || v[i] < 0)
            return chr_error_set(err, CHR_EINVAL, names[i], "must be a number >= 0");
    return CHR_OK;
}

/* A name `-e NAME` passes as it is: no glob ('*'), no space. */
static bool env_name_portable(const char *n)
{
    if (!((n[0] >= 'A' && n[0] <= 'Z') || (n[0] >= 'a' && n[0] <= 'z') || n[0] == '_'))
        return false;
    for (; *n; n++)
        if (!((*n >= 'A' && *n <= 'Z') || (*n >= 'a' && *n <= 'z') || (*n >= '0' && *n <= '9') ||
              *n == '_'))
            return false;
    return true;
}

static enum chr_err check_env(const struct chr_local_task *t, struct chr_error *err)
{
    if (t->n_env > CHR_JOB_ENV_MAX)
        return chr_error_set(err, CHR_EINVAL, "environmentVariables", "more than %d",
                             CHR_JOB_ENV_MAX);
    for (uint32_t i = 0; i < t->n_env; i++) {
        const char *name = t->env[i].name;
        if (!name || !name[0] || strchr(name, '=') || !t->env[i].value)
            return chr_error_set(err, CHR_EINVAL, "environmentVariables",
                                 "entry %u: a name must be non-empty and hold no '='", i);
        if (t->container_json && (strlen(name) > CHR_JOB_ENV_NAME_MAX || !env_name_portable(name)))
            return chr_error_set(err, CHR_EINVAL, "environmentVariables",
                                 "entry %u: '%.40s' cannot be passed into a container (a letter "
                                 "or '_', then letters, digits and '_')", i, name);
    }
    return CHR_OK;
}

enum chr_err chr_local_task_check(const struct chr_local_task *t, struct chr_error *err)
{
    if (!chr_local_run_id_valid(t->run_id))
        return chr_error_set(err, CHR_EINVAL, "run_id",
                             "must be 1-%d of [A-Za-z0-9_.:-], not starting with '.'",
                             CHR_LOCAL_RUN_ID_MAX);
    if (!chr_local_job_name_ok(t->job_name))
        return chr_error_set(err, CHR_EINVAL, "name", "'%s' is not a valid job name",
                             t->job_name ? t->job_name : "");
    /* A container may run its image's default command. */
    if (!t->command || (!t->command[0] && !t->container_json))
        return chr_error_set(err, CHR_EINVAL, "command", "is empty");
    if (t->container_json) {
        struct chr_local_container c;
        enum chr_err ce = chr_local_container_parse(t->container_json, &c, err);
        chr_local_container_free(&c);
        if (ce != CHR_OK)
            return ce;
    }
    if (t->n_arguments > CHR_JOB_ARGUMENTS_MAX || (t->n_arguments && !t->arguments))
        return chr_error_set(err, CHR_EINVAL, "arguments", "at most %d",
                             CHR_JOB_ARGUMENTS_MAX);
    for (uint32_t i = 0; i < t->n_arguments; i++)
        if (!t->arguments[i])
            return chr_error_set(err, CHR_EINVAL, "arguments", "entry %u is null", i);
    if (t->run_as_user && !name_valid(t->run_as_user, 256, "_.-$", false))
        return chr_error_set(err, CHR_EINVAL, "runAsUser", "'%s' is not a user name",
                             t->run_as_user);
    if (t->not_before_ms < 0)
        return chr_error_set(err, CHR_EINVAL, "not_before_ms", "must be >= 0");
    if (t->max_completion_ms < 0)
        return chr_error_set(err, CHR_EINVAL, "maxCompletionTime", "must be >= 0");
    if (t->stdout_max_bytes < 0 || t->stdout_max_bytes > CHR_LOCAL_OUTPUT_MAX ||
        t->stderr_max_bytes < 0 || t->stderr_max_bytes > CHR_LOCAL_OUTPUT_MAX)
        return chr_error_set(err, CHR_EINVAL, "output", "caps must be 0-%lld bytes",
                             (long long)CHR_LOCAL_OUTPUT_MAX);
    enum chr_err e = check_resources(&t->res, err);
    return e != CHR_OK ? e : check_env(t, err);
}

/* ---- Encoding ------------------------------------------------------------- */

/* argv: {"/bin/sh", "-c", command} or {command, arguments...}.  In a
 * container, what follows the image, as Mesos's Docker containerizer has
 * it: {"-c", command} (the entrypoint /bin/sh), or {[command], arguments...}
 * for the image's entrypoint; {} for the image's default. */
static json_t *argv_json(const struct chr_local_task *t)
{
    json_t *a = json_array();
    if (!a)
        return NULL;
    bool ok = true;
    if (t->container_json && t->shell) {
        if (t->command[0])
            ok = json_array_append_new(a, json_string("-c")) == 0 &&
                 json_array_append_new(a, json_string(t->command)) == 0;
    } else if (t->container_json) {
        if (t->command[0])
            ok = json_array_append_new(a, json_string(t->command)) == 0;
        for (uint32_t i = 0; ok && i < t->n_arguments; i++)
            ok = json_array_append_new(a, json_string(t->arguments[i])) == 0;
    } else if (t->shell)
        ok = json_array_append_new(a, json_string("/bin/sh")) == 0 &&
             json_array_append_new(a, json_string("-c")) == 0 &&
             json_array_append_new(a, json_string(t->command)) == 0;
    else {
        ok = json_array_append_new(a, json_string(t->command)) == 0;
        for (uint32_t i = 0; ok && i < t->n_arguments; i++)
            ok = json_array_append_new(a, json_string(t->arguments[i])) == 0;
    }
    if (!ok) {
        json_decref(a);
        return NULL;
    }
    return a;
}

/* Sets name=value in the env object (replacing an earlier value). */
static bool env_set(json_t *env, const char *name, const char *value)
{
    return json_object_set_new(env, name, json_string(value)) == 0;
}

static bool env_builtins(json_t *env, const struct chr_local_task *t, const char *host)
{
    char cpu[32], mem[32], disk[32], due[24], attempt[16];
    chr_local_format_double(t->res.cpus, cpu);
    chr_local_format_double(t->res.mem_mb, mem);
    chr_local_format_double(t->res.disk_mb, disk);
    snprintf(due, sizeof due, "%lld", (long long)t->due_ms);
    snprintf(attempt, sizeof attempt, "%d", (int)t->attempt);
    return env_set(env, "mesos_task_id", t->run_id) && env_set(env, "MESOS_TASK_ID", t->run_id) &&
           env_set(env, "CHRONOS_JOB_OWNER", t->owner ? t->owner : "") &&
           env_set(env, "CHRONOS_JOB_NAME", t->job_name) && env_set(env, "HOST", host) &&
           env_set(env, "CHRONOS_RESOURCE_MEM", mem) && env_set(env, "CHRONOS_RESOURCE_CPU", cpu) &&
           env_set(env, "CHRONOS_RESOURCE_DISK", disk) &&
           env_set(env, "CHRONOS_JOB_RUN_TIME", due) &&
           env_set(env, "CHRONOS_JOB_RUN_ATTEMPT", attempt);
}

/* The job's variables (a later duplicate wins), then the built-ins over
 * them: Chronos adds a job variable only when no built-in has its name. */
static json_t *env_json(const struct chr_local_task *t, const char *host)
{
    json_t *env = json_object();
    if (!env)
        return NULL;
    bool ok = true;
    for (uint32_t i = 0; ok && i < t->n_env; i++)
        ok = env_set(env, t->env[i].name, t->env[i].value);
    if (!ok || !env_builtins(env, t, host)) {
        json_decref(env);
        return NULL;
    }
    return env;
}

/* Adds the container, its runtime and entrypoint to a spec. */
static json_t *with_container(json_t *spec, const struct chr_local_task *t,
                              enum chr_local_runtime rt)
{
    if (!spec || !t->container_json)
        return spec;
    json_t *c = json_loads(t->container_json, 0, NULL);
    bool sh = t->shell && t->command[0];
    if (!c || json_object_set_new(spec, "container", c) != 0 ||
        json_object_set_new(spec, "runtime", json_string(chr_local_runtime_name(rt))) != 0 ||
        (sh && json_object_set_new(spec, "entrypoint", json_string("/bin/sh")) != 0) ||
        json_object_set_new(spec, "cgroup", json_false()) != 0) {
        json_decref(spec);
        return NULL;
    }
    return spec;
}

/* The task's user (NULL: ours) resolved here, in the server, for the
 * supervisor (chr_local_ident); NULL, and the supervisor resolves it, when
 * it is unknown, in more groups than an ident carries, or anything fails. */
static json_t *ident_json(const char *user)
{
    struct passwd pw, *res = NULL;
    char buf[16384];
    int r = user ? getpwnam_r(user, &pw, buf, sizeof buf, &res)
                 : getpwuid_r(geteuid(), &pw, buf, sizeof buf, &res);
    gid_t groups[CHR_LOCAL_IDENT_GROUPS_MAX];
    int n = CHR_LOCAL_IDENT_GROUPS_MAX;
    if (r != 0 || res == NULL || strlen(pw.pw_name) >= CHR_LOCAL_IDENT_TEXT_MAX ||
        strlen(pw.pw_dir) >= CHR_LOCAL_IDENT_TEXT_MAX ||
        strlen(pw.pw_shell) >= CHR_LOCAL_IDENT_TEXT_MAX ||
        getgrouplist(pw.pw_name, pw.pw_gid, groups, &n) < 0 || n < 0)
        return NULL;
    json_t *g = json_array();
    for (int i = 0; g != NULL && i < n; i++)
        if (json_array_append_new(g, json_integer((json_int_t)groups[i])) != 0) {
            json_decref(g);
            g = NULL;
        }
    /* "o" steals g, also when packing fails (a name that is not UTF-8). */
    return g == NULL ? NULL
                     : json_pack("{s:s, s:I, s:I, s:s, s:s, s:o}", "name", pw.pw_name, "uid",
                                 (json_int_t)pw.pw_uid, "gid", (json_int_t)pw.pw_gid, "home",
                                 pw.pw_dir, "shell", pw.pw_shell, "groups", g);
}

static json_t *with_ident(json_t *spec, const struct chr_local_task *t)
{
    json_t *id = spec != NULL && !t->container_json ? ident_json(t->run_as_user) : NULL;
    if (id != NULL && json_object_set_new(spec, "ident", id) != 0) {
        json_decref(spec);
        return NULL;
    }
    return spec;
}

static json_t *spec_json(const struct chr_local_task *t, const char *host, int64_t grace_ms)
{
    json_t *argv = argv_json(t), *env = env_json(t, host);
    if (!argv || !env) {
        json_decref(argv);
        json_decref(env);
        return NULL;
    }
    int64_t out_max = t->stdout_max_bytes ? t->stdout_max_bytes : CHR_LOCAL_OUTPUT_DEFAULT;
    int64_t err_max = t->stderr_max_bytes ? t->stderr_max_bytes : CHR_LOCAL_OUTPUT_DEFAULT;
    /* "o" steals argv and env, also when packing fails. */
    return json_pack("{s:i, s:s, s:s, s:s, s:s, s:b, s:o, s:o, s:s*, s:f, s:f, s:f, s:I, s:i, "
                     "s:I, s:I, s:I, s:I, s:I, s:s, s:b}",
                     "version", 1, "run_id", t->run_id, "job", t->job_name, "owner",
                     t->owner ? t->owner : "", "command", t->command, "shell", t->shell, "argv",
                     argv, "env", env, "user", t->run_as_user, "cpus", t->res.cpus, "mem_mb",
                     t->res.mem_mb, "disk_mb", t->res.disk_mb, "due_ms", (json_int_t)t->due_ms,
                     "attempt", (int)t->attempt, "not_before_ms",
                     (json_int_t)t->not_before_ms, "max_completion_ms",
                     (json_int_t)t->max_completion_ms, "kill_grace_ms", (json_int_t)grace_ms,
                     "stdout_max", (json_int_t)out_max, "stderr_max", (json_int_t)err_max, "host",
                     host, "cgroup", !t->no_cgroup);
}

enum chr_err chr_local_spec_encode(const struct chr_local_task *t, const char *host,
                                   int64_t kill_grace_ms, char **out, size_t *len,
                                   struct chr_error *err)
{
    return chr_local_spec_encode_rt(t, host, kill_grace_ms, CHR_LOCAL_RUNTIME_NONE, out, len, err);
}

enum chr_err chr_local_spec_encode_rt(const struct chr_local_task *t, const char *host,
                                      int64_t kill_grace_ms, enum chr_local_runtime rt,
                                      char **out, size_t *len, struct chr_error *err)
{
    if (t->container_json && rt == CHR_LOCAL_RUNTIME_NONE)
        return chr_error_set(err, CHR_EUNAVAIL, "container",
                             "needs a container runtime: start with --master or "
                             "--local_containerizer; it never runs on the host");
    json_t *o = with_container(with_ident(spec_json(t, host, kill_grace_ms), t), t, rt);
    if (!o)
        return chr_error_set(err, CHR_EINVAL, "",
                             "a string of the task is not UTF-8 (or out of memory)");
    size_t n = json_dumpb(o, NULL, 0, JSON_COMPACT);
    if (n > CHR_LOCAL_SPEC_MAX && json_object_del(o, "ident") == 0) /* it is optional */
        n = json_dumpb(o, NULL, 0, JSON_COMPACT);
    if (n == 0 || n > CHR_LOCAL_SPEC_MAX) {
        json_decref(o);
        return chr_error_set(err, CHR_EINVAL, "", "the task's spec is over %d bytes",
                             CHR_LOCAL_SPEC_MAX);
    }
    char *buf = chr_malloc(n + 1);
    if (!buf) {
        json_decref(o);
        return CHR_ENOMEM;
    }
    json_dumpb(o, buf, n, JSON_COMPACT);
    buf[n] = '\0';
    json_decref(o);
    *out = buf;
    *len = n;
    return CHR_OK;
}

/* ---- Decoding ------------------------------------------------------------- */

void chr_local_spec_free(struct chr_local_spec *s)
{
    if (!s)
        return;
    chr_free(s->run_id);
    chr_free(s->job);
    chr_free(s->user);
    for (size_t i = 0; s->argv && s->argv[i]; i++)
        chr_free(s->argv[i]);
    chr_free(s->argv);
    for (size_t i = 0; s->env && s->env[i]; i++)
        chr_free(s->env[i]);
    chr_free(s->env);
    chr_local_container_free(&s->ctr);
    chr_free(s->entrypoint);
    chr_free(s->ident.name);
    chr_free(s->ident.home);
    chr_free(s->ident.shell);
    memset(s, 0, sizeof *s);
}

static char *dup_str(const char *s)
{
    return chr_strndup(s, strlen(s));
}

/* empty_ok: a container's argv may be empty (the image's default). */
static char **strings_from_array(json_t *a, bool empty_ok)
{
    size_t n = json_array_size(a);
    if (!json_is_array(a) || (n == 0 && !empty_ok) || n > CHR_JOB_ARGUMENTS_MAX + 3)
        return NULL;
    char **v = chr_calloc(n + 1, sizeof *v);
    for (size_t i = 0; v && i < n; i++) {
        const char *s = json_string_value(json_array_get(a, i));
        if (!s || !(v[i] = dup_str(s))) {
            for (size_t j = 0; j < i; j++)
                chr_free(v[j]);
            chr_free(v);
            return NULL;
        }
    }
    return v;
}

/* "NAME=value" strings of an object; NULL when a name is empty or holds
 * '=' (the encoder never writes one: it would define another variable). */
static char **strings_from_env(json_t *o)
{
    size_t n = json_object_size(o), i = 0;
    char **v = chr_calloc(n + 1, sizeof *v);
    const char *name;
    json_t *val;
    json_object_foreach(o, name, val) {
        const char *s = json_string_value(val);
        size_t ln = strlen(name), lv = s ? strlen(s) : 0;
        bool ok = s != NULL && ln > 0 && strchr(name, '=') == NULL;
        char *kv = v && ok ? chr_malloc(ln + lv + 2) : NULL;
        if (!kv) {
            for (size_t j = 0; v && j < i; j++)
                chr_free(v[j]);
            chr_free(v);
            return NULL;
        }
        memcpy(kv, name, ln);
        kv[ln] = '=';
        memcpy(kv + ln + 1, s, lv + 1);
        v[i++] = kv;
    }
    return v;
}

/* The optional container of a spec: checked as at launch (the spec is
 * input too), with a runtime.  False when it is there but bad. */
static bool decode_container(json_t *o, struct chr_local_spec *out)
{
    json_t *c = json_object_get(o, "container");
    if (!c)
        return true;
    const char *rt = json_string_value(json_object_get(o, "runtime"));
    const char *ep = json_string_value(json_object_get(o, "entrypoint"));
    char *text = json_dumps(c, JSON_COMPACT);
    struct chr_error err = {{0}, {0}};
    bool ok = text && chr_local_runtime_parse(rt, &out->runtime) == CHR_OK &&
              chr_local_container_parse(text, &out->ctr, &err) == CHR_OK;
    free(text); /* lint: allow (jansson's allocation) */
    out->has_ctr = ok;
    if (ok && ep && !(out->entrypoint = dup_str(ep)))
        ok = false;
    return ok && (!ep || strcmp(ep, "/bin/sh") == 0);
}

/* A text member of an ident: a string shorter than CHR_LOCAL_IDENT_TEXT_MAX,
 * copied; NULL when absent, too long or out of memory. */
static char *ident_text(json_t *id, const char *key)
{
    json_t *v = json_object_get(id, key);
    return json_is_string(v) && json_string_length(v) < CHR_LOCAL_IDENT_TEXT_MAX &&
                   strlen(json_string_value(v)) == json_string_length(v)
               ? dup_str(json_string_value(v))
               : NULL;
}

/* An id (uid, gid, a group): 0 .. 2^32 - 2 ((uid_t)-1 means "none"). */
static bool ident_id(json_t *v, uint32_t *out)
{
    if (!json_is_integer(v) || json_integer_value(v) < 0 ||
        json_integer_value(v) >= (json_int_t)UINT32_MAX)
        return false;
    *out = (uint32_t)json_integer_value(v);
    return true;
}

/* The optional "ident" (chr_local_ident); false when present but not one. */
static bool decode_ident(json_t *o, struct chr_local_ident *id)
{
    json_t *v = json_object_get(o, "ident");
    if (v == NULL)
        return true;
    json_t *g = json_object_get(v, "groups");
    if (!json_is_object(v) || !ident_id(json_object_get(v, "uid"), &id->uid) ||
        !ident_id(json_object_get(v, "gid"), &id->gid) || !json_is_array(g) ||
        json_array_size(g) > CHR_LOCAL_IDENT_GROUPS_MAX)
        return false;
    for (size_t i = 0; i < json_array_size(g); i++)
        if (!ident_id(json_array_get(g, i), &id->groups[i]))
            return false;
    id->n_groups = (uint32_t)json_array_size(g);
    id->name = ident_text(v, "name");
    id->home = ident_text(v, "home");
    id->shell = ident_text(v, "shell");
    id->set = id->name != NULL && id->name[0] != '\0' && id->home != NULL && id->shell != NULL;
    return id->set;
}

enum chr_err chr_local_spec_decode(const char *text, size_t len, struct chr_local_spec *out)
{
    memset(out, 0, sizeof *out);
    json_t *o = json_loadb(text, len, 0, NULL);
    const char *run_id = NULL, *job = NULL, *user = NULL;
    json_t *argv = NULL, *env = NULL;
    json_int_t not_before = 0, mct = 0, grace = 0, out_max = 0, err_max = 0;
    int cgroup = 1;
    /* not_before_ms and cgroup are optional: a spec written before they
     * existed runs at once, in a cgroup of its own where one can be made. */
    if (!o || json_unpack(o, "{s:s, s:s, s:o, s:o, s?s, s:F, s:F, s:F, s?I, s:I, s:I, s:I, s:I, "
                             "s?b}",
                          "run_id", &run_id, "job", &job, "argv", &argv, "env", &env, "user",
                          &user, "cpus", &out->res.cpus, "mem_mb", &out->res.mem_mb, "disk_mb",
                          &out->res.disk_mb, "not_before_ms", &not_before, "max_completion_ms",
                          &mct, "kill_grace_ms", &grace, "stdout_max", &out_max, "stderr_max",
                          &err_max, "cgroup", &cgroup) != 0 ||
        !json_is_object(env)) {
        json_decref(o);
        return CHR_EINVAL;
    }
    out->not_before_ms = not_before > 0 ? not_before : 0;
    out->cgroup = cgroup != 0;
    out->max_completion_ms = mct;
    out->kill_grace_ms = grace;
    out->stdout_max = out_max;
    out->stderr_max = err_max;
    out->run_id = dup_str(run_id);
    out->job = dup_str(job);
    out->user = user ? dup_str(user) : NULL;
    bool ctr_ok = decode_container(o, out) && decode_ident(o, &out->ident);
    out->argv = strings_from_array(argv, out->has_ctr);
    out->env = strings_from_env(env);
    json_decref(o);
    if (!out->run_id || !out->job || (user && !out->user) || !out->argv || !out->env || !ctr_ok) {
        chr_local_spec_free(out);
        return CHR_EINVAL;
    }
    return CHR_OK;
}

enum chr_err chr_local_spec_read(int dirfd, struct chr_local_spec *out)
{
    char *text = NULL;
    size_t len = 0;
    enum chr_err e = chr_local_file_read(dirfd, CHR_LOCAL_SPEC_FILE, CHR_LOCAL_SPEC_MAX, &text,
                                         &len);
    if (e != CHR_OK)
        return e == CHR_ERANGE ? CHR_EINVAL : e;
    e = chr_local_spec_decode(text, len, out);
    chr_free(text);
    return e;
}

/* ---- The task's environment ------------------------------------------------ */

static bool env_has(char *const *env, const char *kv)
{
    size_t n = strcspn(kv, "=");
    for (size_t i = 0; env[i]; i++)
        if (strncmp(env[i], kv, n) == 0 && env[i][n] == '=')
            return true;
    return false;
}

char **chr_local_env_merge(char *const *spec_env, char *const *base)
{
    size_t ns = 0, nb = 0;
    while (spec_env[ns])
        ns++;
    while (base[nb])
        nb++;
    char **v = chr_calloc(ns + nb + 1, sizeof *v);
    if (!v)
        return NULL;
    size_t k = 0;
    for (size_t i = 0; i < nb; i++)
        if (!env_has(spec_env, base[i]))
            v[k++] = base[i];
    for (size_t i = 0; i < ns; i++)
        v[k++] = spec_env[i];
    return v;
}
