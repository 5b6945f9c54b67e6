/*
 * task_container.c - a job's container (Chronos's JSON) as a Mesos
 * ContainerInfo, mapped as Chronos's MesosTaskBuilder.createContainerInfo
 * mapped it (task.h lists the fields and the two deviations: a volume's
 * mode defaults to RW, network infos carry name and labels only).
 *
 * Pure: no I/O.  The text comes from the store, so every member is checked
 * as it is read and a bad one is an error naming it; never an assertion.
 */
#include <stdbool.h>
#include <string.h>
#include <strings.h>

#include "common/limits.h"
#include "offers/mesos/task_int.h"

static bool set(json_t *obj, const char *key, json_t *v)
{
    return v != NULL && json_object_set_new(obj, key, v) == 0;
}

static bool push(json_t *arr, json_t *v)
{
    return v != NULL && json_array_append_new(arr, v) == 0;
}

static const char *fieldf(char f[CHR_ERROR_FIELD_MAX], const char *base, const char *key)
{
    return chr_error_fieldf(f, "%s.%s", base, key);
}

/* obj[key] as a string: NULL when absent or null; an error when another type
 * or (required) empty. */
static enum chr_err get_string(const json_t *obj, const char *base, const char *key,
                               bool required, const char **out, struct chr_error *err)
{
    char f[CHR_ERROR_FIELD_MAX];
    json_t *v = json_object_get(obj, key);
    *out = NULL;
    if (v == NULL || json_is_null(v))
        return required ? chr_error_set(err, CHR_EINVAL, fieldf(f, base, key), "is required")
                        : CHR_OK;
    if (!json_is_string(v) || (required && json_string_length(v) == 0))
        return chr_error_set(err, CHR_EINVAL, fieldf(f, base, key), "must be a%s string",
                             required ? " non-empty" : "");
    *out = json_string_value(v);
    return CHR_OK;
}

/* One of the '|'-separated `choices`, any case (Chronos upper-cased these
 * enums before reading them); *out points into `choices`' static text. */
static enum chr_err get_choice(const json_t *obj, const char *base, const char *key,
                               const char *const *choices, const char *dflt, const char **out,
                               struct chr_error *err)
{
    const char *s = NULL;
    enum chr_err e = get_string(obj, base, key, false, &s, err);
    *out = dflt;
    if (e != CHR_OK || s == NULL)
        return e;
    for (size_t i = 0; choices[i] != NULL; i++) {
        if (strcasecmp(s, choices[i]) == 0) {
            *out = choices[i];
            return CHR_OK;
        }
    }
    char f[CHR_ERROR_FIELD_MAX];
    return chr_error_set(err, CHR_EINVAL, fieldf(f, base, key), "'%.64s' is not one of %s%s%s",
                         s, choices[0], choices[1] ? ", " : "", choices[1] ? choices[1] : "");
}

/* obj[key] as an array of at most CHR_JOB_CONTAINER_LIST_MAX objects; an
 * empty array when absent. */
static enum chr_err get_list(const json_t *obj, const char *base, const char *key,
                             json_t **out, struct chr_error *err)
{
    char f[CHR_ERROR_FIELD_MAX];
    json_t *v = json_object_get(obj, key);
    *out = NULL;
    if (v == NULL || json_is_null(v))
        return CHR_OK;
    if (!json_is_array(v) || json_array_size(v) > CHR_JOB_CONTAINER_LIST_MAX)
        return chr_error_set(err, CHR_EINVAL, fieldf(f, base, key),
                             "must be an array of at most %d objects",
                             CHR_JOB_CONTAINER_LIST_MAX);
    for (size_t i = 0; i < json_array_size(v); i++)
        if (!json_is_object(json_array_get(v, i)))
            return chr_error_set(err, CHR_EINVAL, chr_error_fieldf(f, "%s.%s[%zu]", base, key, i),
                                 "must be an object");
    *out = v;
    return CHR_OK;
}

/* [{key, value}] (Chronos's parameters, options, labels) as a list of
 * {key, value} (value "" when absent: Mesos's Parameter requires one). */
static enum chr_err key_values(const json_t *obj, const char *base, const char *key,
                               json_t **out, struct chr_error *err)
{
    json_t *list = NULL;
    enum chr_err e = get_list(obj, base, key, &list, err);
    *out = json_array();
    if (*out == NULL)
        return CHR_ENOMEM;
    for (size_t i = 0; e == CHR_OK && i < json_array_size(list); i++) {
        char item[CHR_ERROR_FIELD_MAX];
        const char *k = NULL, *v = NULL;
        json_t *o = json_array_get(list, i);
        chr_error_fieldf(item, "%s.%s[%zu]", base, key, i);
        if ((e = get_string(o, item, "key", true, &k, err)) == CHR_OK &&
            (e = get_string(o, item, "value", false, &v, err)) == CHR_OK &&
            !push(*out, json_pack("{s:s, s:s}", "key", k, "value", v ? v : "")))
            e = CHR_ENOMEM;
    }
    if (e != CHR_OK) {
        json_decref(*out);
        *out = NULL;
    }
    return e;
}

/* An external volume: source{DOCKER_VOLUME, docker_volume{driver, name,
 * driver_options}}. */
static enum chr_err external_json(const json_t *ext, const char *base, json_t *volume,
                                  struct chr_error *err)
{
    const char *name = NULL, *provider = NULL;
    json_t *options = NULL;
    enum chr_err e;
    if (!json_is_object(ext))
        return chr_error_set(err, CHR_EINVAL, base, "must be an object {name, provider}");
    if ((e = get_string(ext, base, "name", true, &name, err)) != CHR_OK ||
        (e = get_string(ext, base, "provider", false, &provider, err)) != CHR_OK ||
        (e = key_values(ext, base, "options", &options, err)) != CHR_OK)
        return e;
    json_t *dv = json_pack("{s:s}", "name", name);
    bool ok = dv != NULL && (provider == NULL || set(dv, "driver", json_string(provider)));
    if (ok && json_array_size(options) > 0)
        ok = set(dv, "driver_options", json_pack("{s:O}", "parameter", options));
    json_decref(options);
    if (ok)
        return set(volume, "source", json_pack("{s:s, s:o}", "type", "DOCKER_VOLUME",
                                               "docker_volume", dv))
                   ? CHR_OK
                   : CHR_ENOMEM;
    json_decref(dv);
    return CHR_ENOMEM;
}

static enum chr_err volume_json(const json_t *v, size_t i, json_t *volumes,
                                struct chr_error *err)
{
    static const char *const modes[] = {"RW", "RO", NULL};
    char base[CHR_ERROR_FIELD_MAX];
    const char *cpath = NULL, *hpath = NULL, *mode = NULL;
    enum chr_err e;
    chr_error_fieldf(base, "container.volumes[%zu]", i);
    if ((e = get_string(v, base, "containerPath", true, &cpath, err)) != CHR_OK ||
        (e = get_string(v, base, "hostPath", false, &hpath, err)) != CHR_OK ||
        (e = get_choice(v, base, "mode", modes, "RW", &mode, err)) != CHR_OK)
        return e;
    json_t *o = json_pack("{s:s, s:s}", "container_path", cpath, "mode", mode);
    if (o == NULL || (hpath != NULL && !set(o, "host_path", json_string(hpath)))) {
        json_decref(o);
        return CHR_ENOMEM;
    }
    json_t *ext = json_object_get(v, "external");
    if (ext != NULL && !json_is_null(ext)) {
        char f[CHR_ERROR_FIELD_MAX];
        if ((e = external_json(ext, fieldf(f, base, "external"), o, err)) != CHR_OK) {
            json_decref(o);
            return e;
        }
    }
    return push(volumes, o) ? CHR_OK : CHR_ENOMEM;
}

/* networkName, then each networkInfos entry, as {name, labels}. */
static enum chr_err networks_json(const json_t *c, json_t *info, struct chr_error *err)
{
    const char *legacy = NULL;
    json_t *list = NULL, *nets = json_array();
    enum chr_err e = nets != NULL ? CHR_OK : CHR_ENOMEM;
    if (e == CHR_OK && (e = get_string(c, "container", "networkName", false, &legacy, err)) ==
                           CHR_OK &&
        legacy != NULL && !push(nets, json_pack("{s:s}", "name", legacy)))
        e = CHR_ENOMEM;
    if (e == CHR_OK)
        e = get_list(c, "container", "networkInfos", &list, err);
    for (size_t i = 0; e == CHR_OK && i < json_array_size(list); i++) {
        char base[CHR_ERROR_FIELD_MAX];
        const char *name = NULL;
        json_t *labels = NULL, *n = json_array_get(list, i);
        chr_error_fieldf(base, "container.networkInfos[%zu]", i);
        if ((e = get_string(n, base, "name", true, &name, err)) != CHR_OK ||
            (e = key_values(n, base, "labels", &labels, err)) != CHR_OK)
            break;
        json_t *o = json_pack("{s:s}", "name", name);
        if (o != NULL && json_array_size(labels) > 0 &&
            !set(o, "labels", json_pack("{s:O}", "labels", labels))) {
            json_decref(o);
            o = NULL;
        }
        json_decref(labels);
        if (!push(nets, o))
            e = CHR_ENOMEM;
    }
    if (e == CHR_OK && json_array_size(nets) > 0)
        return set(info, "network_infos", nets) ? CHR_OK : CHR_ENOMEM;
    json_decref(nets);
    return e;
}

static enum chr_err force_pull(const json_t *c, bool *out, struct chr_error *err)
{
    json_t *v = json_object_get(c, "forcePullImage");
    const char *s = json_string_value(v);
    *out = json_is_true(v) || (s != NULL && strcmp(s, "true") == 0);
    if (v == NULL || json_is_null(v) || json_is_boolean(v) ||
        (s != NULL && (strcmp(s, "true") == 0 || strcmp(s, "false") == 0)))
        return CHR_OK;
    return chr_error_set(err, CHR_EINVAL, "container.forcePullImage", "must be true or false");
}

/* docker{...} or mesos{image{...}}. */
static enum chr_err image_json(const json_t *c, bool docker, json_t *info, struct chr_error *err)
{
    static const char *const networks[] = {"HOST", "BRIDGE", "USER", NULL};
    const char *image = NULL, *network = NULL;
    bool pull = false;
    json_t *params = NULL;
    enum chr_err e;
    if ((e = get_string(c, "container", "image", true, &image, err)) != CHR_OK ||
        (e = force_pull(c, &pull, err)) != CHR_OK ||
        (e = get_choice(c, "container", "network", networks, "HOST", &network, err)) != CHR_OK ||
        (e = key_values(c, "container", "parameters", &params, err)) != CHR_OK)
        return e;
    json_t *sub;
    if (docker) {
        sub = json_pack("{s:s, s:s, s:b}", "image", image, "network", network,
                        "force_pull_image", pull);
        if (sub != NULL && json_array_size(params) > 0 &&
            !set(sub, "parameters", json_incref(params))) {
            json_decref(sub);
            sub = NULL;
        }
    } else {
        sub = json_pack("{s:{s:s, s:{s:s}, s:b}}", "image", "type", "DOCKER", "docker", "name",
                        image, "cached", !pull);
    }
    json_decref(params);
    return set(info, docker ? "docker" : "mesos", sub) ? CHR_OK : CHR_ENOMEM;
}

static enum chr_err container_info(const json_t *c, json_t *info, enum chr_mesos_box *box,
                                   struct chr_error *err)
{
    static const char *const types[] = {"DOCKER", "MESOS", NULL};
    const char *type = NULL;
    json_t *vols = NULL, *volumes = json_array();
    enum chr_err e = volumes != NULL ? CHR_OK : CHR_ENOMEM;
    if (e == CHR_OK)
        e = get_choice(c, "container", "type", types, "DOCKER", &type, err);
    if (e == CHR_OK)
        e = get_list(c, "container", "volumes", &vols, err);
    for (size_t i = 0; e == CHR_OK && i < json_array_size(vols); i++)
        e = volume_json(json_array_get(vols, i), i, volumes, err);
    bool docker = type != NULL && strcmp(type, "DOCKER") == 0;
    if (e == CHR_OK && !set(info, "type", json_string(type)))
        e = CHR_ENOMEM;
    if (e == CHR_OK && json_array_size(volumes) > 0 && !set(info, "volumes", json_incref(volumes)))
        e = CHR_ENOMEM;
    json_decref(volumes);
    if (e == CHR_OK)
        e = image_json(c, docker, info, err);
    if (e == CHR_OK)
        e = networks_json(c, info, err);
    *box = docker ? CHR_MESOS_BOX_DOCKER : CHR_MESOS_BOX_MESOS;
    return e;
}

enum chr_err chr_mesos_container_json(const char *text, json_t **out, enum chr_mesos_box *box,
                                      struct chr_error *err)
{
    *out = NULL;
    *box = CHR_MESOS_BOX_NONE;
    if (text == NULL)
        return CHR_OK;
    json_t *c = json_loads(text, 0, NULL);
    if (!json_is_object(c)) {
        json_decref(c);
        return chr_error_set(err, CHR_EINVAL, "container", "must be an object with an image");
    }
    json_t *info = json_object();
    enum chr_err e = info != NULL ? container_info(c, info, box, err) : CHR_ENOMEM;
    json_decref(c);
    if (e != CHR_OK) {
        json_decref(info);
        *box = CHR_MESOS_BOX_NONE;
        return e;
    }
    *out = info;
    return CHR_OK;
}
