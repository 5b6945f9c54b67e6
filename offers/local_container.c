/*
 * local_container.c - a job's `container` on the local resource manager:
 * Chronos's container JSON checked into a plain value, the container's name,
 * and the command lines of the runtime (podman or docker) that the
 * supervisor executes: `run` in place of the task, `kill` and `rm` to stop
 * and remove the container.
 *
 * Pure: no process, no file, no clock.  It must never let job input become
 * an option of the runtime: the image and the paths are checked, each
 * parameter is one `--key=value` word with its key from a list of options
 * that cannot widen what the job may do (the runtime runs as the server's
 * user, root for a rootful podman: --privileged, --user or another volume
 * would escape the users policy of api/users.h), and no value of an
 * environment variable shows on a command line unless the runtime's own
 * environment holds that name (local.h, "Containers").
 */
#include <ctype.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/alloc.h"
#include "common/limits.h"
#include "common/strmap.h"
#include "offers/local_int.h"

/* ---- The runtime ----------------------------------------------------------- */

const char *chr_local_runtime_name(enum chr_local_runtime rt)
{
    return rt == CHR_LOCAL_RUNTIME_PODMAN ? "podman" : rt == CHR_LOCAL_RUNTIME_DOCKER ? "docker" : "";
}

enum chr_err chr_local_runtime_parse(const char *name, enum chr_local_runtime *out)
{
    if (name && strcmp(name, "podman") == 0)
        *out = CHR_LOCAL_RUNTIME_PODMAN;
    else if (name && strcmp(name, "docker") == 0)
        *out = CHR_LOCAL_RUNTIME_DOCKER;
    else
        return CHR_EINVAL;
    return CHR_OK;
}

/* ---- Checking the JSON ------------------------------------------------------- */

/* `docker run` options a job may pass as parameters: none lets the
 * container reach more of the host than the job's user could. */
static const char *const allowed_params[] = {
    "add-host", "cpu-shares", "cpuset-cpus", "dns", "dns-option", "dns-search", "env",
    "expose", "hostname", "init", "label", "log-driver", "log-opt", "memory-reservation",
    "memory-swap", "pids-limit", "publish", "read-only", "shm-size", "stop-signal",
    "stop-timeout", "tmpfs", "tz", "workdir",
};

bool chr_local_container_param_allowed(const char *key)
{
    for (size_t i = 0; i < sizeof allowed_params / sizeof allowed_params[0]; i++)
        if (strcmp(key, allowed_params[i]) == 0)
            return true;
    return false;
}

static bool chars_in(const char *s, const char *extra)
{
    for (; *s; s++)
        if (!isalnum((unsigned char)*s) && !strchr(extra, *s))
            return false;
    return true;
}

/* A reference like registry.example:5000/team/app:1.2@sha256:...; never an
 * option (it starts with a letter or digit). */
static bool image_ok(const char *s)
{
    size_t n = strlen(s);
    return n > 0 && n <= CHR_LOCAL_CTR_IMAGE_MAX && isalnum((unsigned char)s[0]) &&
           chars_in(s, "._/:@-");
}

/* An absolute path that -v can carry: no ':' or ',', no control byte. */
static const char *path_problem(const char *p)
{
    if (p[0] != '/')
        return "must be an absolute path";
    if (strlen(p) > CHR_LOCAL_CTR_PATH_MAX)
        return "is too long";
    for (const char *c = p; *c; c++)
        if (*c == ':' || *c == ',' || (unsigned char)*c < 0x20)
            return "must hold no ':', ',' or control character";
    return NULL;
}

/* "x" or true/false as text ("parsed from text", as Chronos does). */
static bool bool_of(json_t *v, bool *out)
{
    const char *s = json_string_value(v);
    if (json_is_boolean(v))
        *out = json_is_true(v);
    else if (s && (strcasecmp(s, "true") == 0 || strcasecmp(s, "false") == 0))
        *out = strcasecmp(s, "true") == 0;
    else
        return false;
    return true;
}

/* network (HOST, BRIDGE, NONE; USER with networkName or networkInfos[0].name). */
static enum chr_err parse_network(json_t *o, struct chr_local_container *c, struct chr_error *err)
{
    json_t *v = json_object_get(o, "network");
    const char *net = v ? json_string_value(v) : "HOST";
    if (!net)
        return chr_error_set(err, CHR_EINVAL, "container.network", "must be a string");
    const char *mode = strcasecmp(net, "HOST") == 0     ? "host"
                       : strcasecmp(net, "BRIDGE") == 0 ? "bridge"
                       : strcasecmp(net, "NONE") == 0   ? "none"
                                                        : NULL;
    if (!mode && strcasecmp(net, "USER") == 0) {
        mode = json_string_value(json_object_get(o, "networkName"));
        if (!mode)
            mode = json_string_value(
                json_object_get(json_array_get(json_object_get(o, "networkInfos"), 0), "name"));
        if (!mode || !mode[0] || strlen(mode) > 64 || !isalnum((unsigned char)mode[0]) ||
            !chars_in(mode, "_.-"))
            return chr_error_set(err, CHR_EINVAL, "container.network",
                                 "USER needs networkName (or networkInfos[0].name): 1-64 of "
                                 "[A-Za-z0-9_.-], starting with a letter or digit");
    } else if (!mode)
        return chr_error_set(err, CHR_EINVAL, "container.network",
                             "'%.40s' is not HOST, BRIDGE, USER or NONE", net);
    c->network = chr_strndup(mode, strlen(mode));
    return c->network ? CHR_OK : CHR_ENOMEM;
}

static enum chr_err parse_volume(json_t *v, uint32_t i, struct chr_local_volume *out,
                                 struct chr_error *err)
{
    char field[48];
    snprintf(field, sizeof field, "container.volumes[%u]", i);
    if (!json_is_object(v))
        return chr_error_set(err, CHR_EINVAL, field, "must be an object");
    if (json_object_get(v, "external"))
        return chr_error_set(err, CHR_EINVAL, field,
                             "external volumes are not supported by the local containerizer");
    const char *cp = json_string_value(json_object_get(v, "containerPath"));
    json_t *hp_v = json_object_get(v, "hostPath");
    const char *hp = json_string_value(hp_v), *why;
    json_t *mode_v = json_object_get(v, "mode");
    const char *mode = mode_v ? json_string_value(mode_v) : "RW";
    if (!cp)
        return chr_error_set(err, CHR_EINVAL, field, "containerPath is required");
    if ((why = path_problem(cp)) != NULL)
        return chr_error_set(err, CHR_EINVAL, field, "containerPath '%.80s' %s", cp, why);
    if (hp_v && !json_is_null(hp_v) && !hp)
        return chr_error_set(err, CHR_EINVAL, field, "hostPath must be a string");
    if (hp && (why = path_problem(hp)) != NULL)
        return chr_error_set(err, CHR_EINVAL, field, "hostPath '%.80s' %s", hp, why);
    if (!mode || (strcasecmp(mode, "RW") != 0 && strcasecmp(mode, "RO") != 0))
        return chr_error_set(err, CHR_EINVAL, field, "mode must be RW or RO");
    out->ro = strcasecmp(mode, "RO") == 0;
    out->container = chr_strndup(cp, strlen(cp));
    out->host = hp ? chr_strndup(hp, strlen(hp)) : NULL;
    return out->container && (!hp || out->host) ? CHR_OK : CHR_ENOMEM;
}

static enum chr_err parse_param(json_t *v, uint32_t i, struct chr_local_param *out,
                                struct chr_error *err)
{
    char field[48];
    snprintf(field, sizeof field, "container.parameters[%u]", i);
    const char *key = json_string_value(json_object_get(v, "key"));
    const char *val = json_string_value(json_object_get(v, "value"));
    if (!key || !val)
        return chr_error_set(err, CHR_EINVAL, field, "must be {\"key\": string, \"value\": string}");
    if (!chr_local_container_param_allowed(key))
        return chr_error_set(err, CHR_EINVAL, field,
                             "'%.40s' is not an option the local containerizer passes (allowed: "
                             "add-host, dns, env, hostname, init, label, read-only, tmpfs, "
                             "workdir, ... see docs/operations.md)", key);
    if (strlen(val) > CHR_JOB_TEXT_MAX)
        return chr_error_set(err, CHR_EINVAL, field, "value is over %d bytes", CHR_JOB_TEXT_MAX);
    out->key = chr_strndup(key, strlen(key));
    out->value = chr_strndup(val, strlen(val));
    return out->key && out->value ? CHR_OK : CHR_ENOMEM;
}

/* An optional array of at most CHR_JOB_CONTAINER_LIST_MAX entries. */
static enum chr_err list_of(json_t *o, const char *key, size_t elem, void **out, uint32_t *n,
                            struct chr_error *err)
{
    json_t *a = json_object_get(o, key);
    *out = NULL;
    *n = 0;
    if (!a || json_is_null(a) || json_array_size(a) == 0)
        return json_is_array(a) || !a || json_is_null(a)
                   ? CHR_OK
                   : chr_error_set(err, CHR_EINVAL, key, "must be an array");
    if (json_array_size(a) > CHR_JOB_CONTAINER_LIST_MAX)
        return chr_error_set(err, CHR_EINVAL, key, "more than %d entries",
                             CHR_JOB_CONTAINER_LIST_MAX);
    if (!(*out = chr_calloc(json_array_size(a), elem)))
        return CHR_ENOMEM;
    *n = (uint32_t)json_array_size(a);
    return CHR_OK;
}

static enum chr_err parse_lists(json_t *o, struct chr_local_container *c, struct chr_error *err)
{
    void *p = NULL;
    enum chr_err e = list_of(o, "volumes", sizeof *c->volumes, &p, &c->n_volumes, err);
    c->volumes = p;
    for (uint32_t i = 0; e == CHR_OK && i < c->n_volumes; i++)
        e = parse_volume(json_array_get(json_object_get(o, "volumes"), i), i, &c->volumes[i], err);
    if (e == CHR_OK)
        e = list_of(o, "parameters", sizeof *c->params, &p, &c->n_params, err);
    if (e == CHR_OK)
        c->params = p;
    for (uint32_t i = 0; e == CHR_OK && i < c->n_params; i++)
        e = parse_param(json_array_get(json_object_get(o, "parameters"), i), i, &c->params[i], err);
    if (e != CHR_OK && strcmp(err->field, "volumes") == 0)
        snprintf(err->field, sizeof err->field, "container.volumes");
    else if (e != CHR_OK && strcmp(err->field, "parameters") == 0)
        snprintf(err->field, sizeof err->field, "container.parameters");
    return e;
}

static enum chr_err parse_object(json_t *o, struct chr_local_container *c, struct chr_error *err)
{
    if (!json_is_object(o))
        return chr_error_set(err, CHR_EINVAL, "container", "must be an object");
    json_t *type = json_object_get(o, "type");
    const char *t = type ? json_string_value(type) : "DOCKER";
    if (!t || (strcasecmp(t, "DOCKER") != 0 && strcasecmp(t, "MESOS") != 0))
        return chr_error_set(err, CHR_EINVAL, "container.type", "must be DOCKER or MESOS");
    const char *image = json_string_value(json_object_get(o, "image"));
    if (!image || !image[0])
        return chr_error_set(err, CHR_EINVAL, "container.image", "is required");
    if (!image_ok(image))
        return chr_error_set(err, CHR_EINVAL, "container.image",
                             "'%.80s' is not an image reference (1-%d of [A-Za-z0-9._/:@-], "
                             "starting with a letter or digit)", image, CHR_LOCAL_CTR_IMAGE_MAX);
    json_t *pull = json_object_get(o, "forcePullImage");
    if (pull && !json_is_null(pull) && !bool_of(pull, &c->force_pull))
        return chr_error_set(err, CHR_EINVAL, "container.forcePullImage", "must be true or false");
    if (!(c->image = chr_strndup(image, strlen(image))))
        return CHR_ENOMEM;
    enum chr_err e = parse_network(o, c, err);
    return e == CHR_OK ? parse_lists(o, c, err) : e;
}

enum chr_err chr_local_container_parse(const char *text, struct chr_local_container *out,
                                       struct chr_error *err)
{
    memset(out, 0, sizeof *out);
    json_t *o = text ? json_loads(text, 0, NULL) : NULL;
    if (!o)
        return chr_error_set(err, CHR_EINVAL, "container", "is not a JSON object");
    enum chr_err e = parse_object(o, out, err);
    json_decref(o);
    if (e == CHR_ENOMEM)
        chr_error_set(err, e, "container", "out of memory");
    if (e != CHR_OK)
        chr_local_container_free(out);
    return e;
}

void chr_local_container_free(struct chr_local_container *c)
{
    if (!c)
        return;
    chr_free(c->image);
    chr_free(c->network);
    for (uint32_t i = 0; c->volumes && i < c->n_volumes; i++) {
        chr_free(c->volumes[i].host);
        chr_free(c->volumes[i].container);
    }
    chr_free(c->volumes);
    for (uint32_t i = 0; c->params && i < c->n_params; i++) {
        chr_free(c->params[i].key);
        chr_free(c->params[i].value);
    }
    chr_free(c->params);
    memset(c, 0, sizeof *c);
}

/* ---- The name -------------------------------------------------------------------- */

void chr_local_container_name(const char *run_id, char out[CHR_LOCAL_CTR_NAME_MAX + 1])
{
    /* Run ids hold ':' (ct:<due>:<attempt>:<job>), which no runtime takes
     * in a name; the hash keeps two ids that sanitize alike apart. */
    size_t n = strlen(run_id);
    uint32_t h = chr_str_hash32(run_id, n);
    int at = snprintf(out, CHR_LOCAL_CTR_NAME_MAX + 1, "chronos-");
    size_t keep = CHR_LOCAL_CTR_NAME_MAX - (size_t)at - 9;
    for (size_t i = 0; i < n && i < keep; i++) {
        char c = run_id[i];
        out[at++] = isalnum((unsigned char)c) || c == '_' || c == '.' || c == '-' ? c : '_';
    }
    snprintf(out + at, CHR_LOCAL_CTR_NAME_MAX + 1 - (size_t)at, "-%08x", (unsigned)h);
}

/* ---- Command lines ------------------------------------------------------------------- */

/* A NULL-terminated vector of chr_malloc'd strings that grows. */
struct strv {
    char **v;
    size_t n, cap;
    bool failed;
};

static void push(struct strv *s, const char *a, const char *b)
{
    if (s->failed)
        return;
    if (s->n + 2 > s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 64;
        char **v = chr_calloc(cap, sizeof *v);
        if (!v) {
            s->failed = true;
            return;
        }
        if (s->v)
            memcpy(v, s->v, s->n * sizeof *v);
        chr_free(s->v);
        s->v = v;
        s->cap = cap;
    }
    size_t la = strlen(a), lb = b ? strlen(b) : 0;
    char *p = chr_malloc(la + lb + 1);
    if (!p) {
        s->failed = true;
        return;
    }
    memcpy(p, a, la);
    if (b)
        memcpy(p + la, b, lb);
    p[la + lb] = '\0';
    s->v[s->n++] = p;
    s->v[s->n] = NULL;
}

void chr_local_strv_free(char **v)
{
    for (size_t i = 0; v && v[i]; i++)
        chr_free(v[i]);
    chr_free(v);
}

static char **strv_done(struct strv *s)
{
    if (!s->failed && !s->v && !(s->v = chr_calloc(1, sizeof *s->v)))
        s->failed = true;
    if (s->failed) {
        chr_local_strv_free(s->v);
        return NULL;
    }
    return s->v;
}

/* The value of NAME in a "NAME=value" vector, or NULL. */
static const char *lookup(char *const *env, const char *kv)
{
    size_t n = strcspn(kv, "=");
    for (size_t i = 0; env && env[i]; i++)
        if (strncmp(env[i], kv, n) == 0 && env[i][n] == '=')
            return env[i] + n + 1;
    return NULL;
}

static void push_resources(struct strv *a, const struct chr_local_ctr_run *r)
{
    char num[48];
    if (r->res.cpus > 0) {
        chr_local_format_double(r->res.cpus, num);
        push(a, "--cpus=", num);
    }
    if (r->res.mem_mb > 0) {
        snprintf(num, sizeof num, "%lld", chr_local_cg_mem_bytes(r->res.mem_mb));
        push(a, "--memory=", num);
    }
}

static void push_volumes_params(struct strv *a, const struct chr_local_container *c)
{
    for (uint32_t i = 0; i < c->n_volumes; i++) {
        const struct chr_local_volume *v = &c->volumes[i];
        char spec[2 * CHR_LOCAL_CTR_PATH_MAX + 8];
        if (v->host)
            snprintf(spec, sizeof spec, "%s:%s%s", v->host, v->container, v->ro ? ":ro" : "");
        else
            snprintf(spec, sizeof spec, "%s%s", v->container, v->ro ? ":ro" : "");
        push(a, "-v", NULL);
        push(a, spec, NULL);
    }
    for (uint32_t i = 0; i < c->n_params; i++) {
        char key[64];
        snprintf(key, sizeof key, "--%s=", c->params[i].key);
        push(a, key, c->params[i].value);
    }
}

/* -e for each of the task's variables.  The runtime's own environment goes
 * to it whole; a task's variable of a name it holds goes on the command line
 * with its value (the runtime keeps its own), any other is named only and
 * its value added to the runtime's environment, which passes it on. */
static void push_env(struct strv *a, struct strv *envp, const struct chr_local_ctr_run *r)
{
    for (size_t i = 0; r->runtime_env && r->runtime_env[i]; i++)
        push(envp, r->runtime_env[i], NULL);
    for (size_t i = 0; r->task_env && r->task_env[i]; i++) {
        const char *kv = r->task_env[i];
        push(a, "-e", NULL);
        if (lookup(r->runtime_env, kv)) {
            push(a, kv, NULL);
            continue;
        }
        char name[CHR_JOB_ENV_NAME_MAX + 1];
        size_t n = strcspn(kv, "=");
        snprintf(name, sizeof name, "%.*s", (int)(n < sizeof name ? n : sizeof name - 1), kv);
        push(a, name, NULL);
        push(envp, kv, NULL);
    }
}

enum chr_err chr_local_container_run_argv(const struct chr_local_ctr_run *r, char ***argv_out,
                                          char ***envp_out)
{
    const struct chr_local_container *c = r->c;
    struct strv a = {0}, envp = {0};
    char name[CHR_LOCAL_CTR_NAME_MAX + 1], user[48];
    chr_local_container_name(r->run_id, name);
    snprintf(user, sizeof user, "%lu:%lu", (unsigned long)r->uid, (unsigned long)r->gid);
    push(&a, chr_local_runtime_name(r->runtime), NULL);
    push(&a, "run", NULL);
    push(&a, "--rm", NULL);
    push(&a, "--name", NULL);
    push(&a, name, NULL);
    if (c->force_pull)
        push(&a, "--pull=always", NULL);
    push(&a, "--network", NULL);
    push(&a, c->network, NULL);
    push(&a, "--user", NULL);
    push(&a, user, NULL);
    push_resources(&a, r);
    push_volumes_params(&a, c);
    push_env(&a, &envp, r);
    if (r->entrypoint) {
        push(&a, "--entrypoint", NULL);
        push(&a, r->entrypoint, NULL);
    }
    push(&a, c->image, NULL);
    for (size_t i = 0; r->args && r->args[i]; i++)
        push(&a, r->args[i], NULL);
    *argv_out = strv_done(&a);
    *envp_out = strv_done(&envp);
    if (!*argv_out || !*envp_out) {
        chr_local_strv_free(*argv_out);
        chr_local_strv_free(*envp_out);
        *argv_out = *envp_out = NULL;
        return CHR_ENOMEM;
    }
    return CHR_OK;
}

char **chr_local_container_ctl_argv(enum chr_local_runtime rt, enum chr_local_ctr_ctl what,
                                    const char *run_id)
{
    char name[CHR_LOCAL_CTR_NAME_MAX + 1];
    chr_local_container_name(run_id, name);
    struct strv a = {0};
    push(&a, chr_local_runtime_name(rt), NULL);
    if (what == CHR_LOCAL_CTR_TERM || what == CHR_LOCAL_CTR_KILL) {
        push(&a, "kill", NULL);
        push(&a, "--signal", NULL);
        push(&a, what == CHR_LOCAL_CTR_TERM ? "TERM" : "KILL", NULL);
    } else {
        /* podman's rm -f stops with the image's grace first; -t 0: at once. */
        push(&a, "rm", NULL);
        push(&a, "-f", NULL);
        if (rt == CHR_LOCAL_RUNTIME_PODMAN) {
            push(&a, "-t", NULL);
            push(&a, "0", NULL);
        }
    }
    push(&a, name, NULL);
    return strv_done(&a);
}
