/*
 * codec_call.c - the Calls of the Mesos v1 scheduler API as JSON
 * (codec.h), built with jansson from the exact field names of Debian's
 * scheduler.proto: `framework_id` at the top of every call but a first
 * SUBSCRIBE, the sub-message named after the type, ids as {"value": ...},
 * enums by name, the ACKNOWLEDGE uuid in base64.
 *
 * Never sends anything the Debian protos lack (no `force`, no
 * `offer_constraints`), never `role` with MULTI_ROLE, never TEARDOWN.  Pure:
 * no I/O, no clock.
 */
#include "offers/mesos/codec.h"

#include <math.h>
#include <string.h>

#include "common/alloc.h"
#include "common/base64.h"

/* Checks a string argument: set, not empty, shorter than cap. */
static enum chr_err check_str(const char *s, size_t cap, const char *field, struct chr_error *err)
{
    if (s == NULL || s[0] == '\0')
        return chr_error_set(err, CHR_EINVAL, field, "missing");
    if (strnlen(s, cap) >= cap)
        return chr_error_set(err, CHR_EINVAL, field, "longer than %zu bytes", cap - 1);
    return CHR_OK;
}

/* Sets obj[key] to a string; false when it is not UTF-8 (or no memory). */
static bool set_str(json_t *obj, const char *key, const char *s)
{
    json_t *v = json_string(s);
    return v != NULL && json_object_set_new(obj, key, v) == 0;
}

/* Sets obj[key] to {"value": id}. */
static bool set_id(json_t *obj, const char *key, const char *id)
{
    json_t *v = json_object();
    if (v == NULL || !set_str(v, "value", id) || json_object_set_new(obj, key, v) != 0) {
        json_decref(v);
        return false;
    }
    return true;
}

/* A new Call {type, framework_id?, <sub>: {}}; *sub is the sub-message
 * (owned by the call) or NULL when sub_key is NULL. */
static json_t *new_call(const char *type, const char *framework_id, const char *sub_key,
                        json_t **sub)
{
    json_t *call = json_object();
    bool ok = call != NULL && set_str(call, "type", type);
    if (ok && framework_id != NULL && framework_id[0] != '\0')
        ok = set_id(call, "framework_id", framework_id);
    if (ok && sub_key != NULL) {
        *sub = json_object();
        ok = *sub != NULL && json_object_set_new(call, sub_key, *sub) == 0;
    }
    if (!ok) {
        json_decref(call);
        return NULL;
    }
    return call;
}

/* The call as compact text (chr_malloc'd); frees the call.  A NULL call
 * (a failed build) is reported as bad text or no memory. */
static enum chr_err finish(json_t *call, bool built, char **out, size_t *len,
                           struct chr_error *err)
{
    size_t n = built && call ? json_dumpb(call, NULL, 0, JSON_COMPACT) : 0;
    char *s = n ? chr_malloc(n + 1) : NULL;
    if (s != NULL)
        json_dumpb(call, s, n, JSON_COMPACT);
    json_decref(call);
    if (s == NULL)
        return built ? chr_error_set(err, CHR_ENOMEM, "call", "out of memory")
                     : chr_error_set(err, CHR_EINVAL, "call",
                                     "a text is not valid UTF-8 (or out of memory)");
    s[n] = '\0';
    *out = s;
    if (len != NULL)
        *len = n;
    return CHR_OK;
}

static bool has_role(const char *role)
{
    return role != NULL && role[0] != '\0' && strcmp(role, "*") != 0;
}

/* Mesos's role rules (roles.cpp): no control characters, spaces or
 * backslash, not starting with '-', no empty, "." or ".." path part. */
static enum chr_err check_role(const char *role, struct chr_error *err)
{
    enum chr_err e = check_str(role, CHR_MESOS_ROLE_MAX, "role", err);
    if (e != CHR_OK)
        return e;
    if (role[0] == '-')
        return chr_error_set(err, CHR_EINVAL, "role", "may not start with '-'");
    size_t part = 0;
    for (const char *p = role;; p++) {
        if (*p == '/' || *p == '\0') {
            const char *s = p - part;
            if (part == 0 || (part == 1 && s[0] == '.') || (part == 2 && !strncmp(s, "..", 2)))
                return chr_error_set(err, CHR_EINVAL, "role",
                                     "has an empty, '.' or '..' part");
            if (*p == '\0')
                return CHR_OK;
            part = 0;
            continue;
        }
        if ((unsigned char)*p <= 0x20 || *p == 0x7f || *p == '\\')
            return chr_error_set(err, CHR_EINVAL, "role",
                                 "may not hold spaces, control characters or '\\'");
        part++;
    }
}

static enum chr_err check_refuse(double refuse_s, struct chr_error *err)
{
    if (!(refuse_s >= 0 && refuse_s <= CHR_MESOS_REFUSE_MAX_S))
        return chr_error_set(err, CHR_EINVAL, "refuse_seconds", "must be within 0..%.0f",
                             CHR_MESOS_REFUSE_MAX_S);
    return CHR_OK;
}

/* ---- SUBSCRIBE ---------------------------------------------------------------------- */

static enum chr_err check_framework(const struct chr_mesos_framework *fw, const char *id,
                                    struct chr_error *err)
{
    enum chr_err e;
    if ((e = check_str(fw->user, CHR_MESOS_SETTING_MAX, "user", err)) != CHR_OK ||
        (e = check_str(fw->name, CHR_MESOS_SETTING_MAX, "name", err)) != CHR_OK)
        return e;
    const char *opt[] = {fw->hostname, fw->webui_url, fw->principal, fw->secret};
    const char *names[] = {"hostname", "webui_url", "principal", "secret"};
    for (size_t i = 0; i < 4; i++)
        if (opt[i] != NULL && opt[i][0] != '\0' &&
            (e = check_str(opt[i], CHR_MESOS_SETTING_MAX, names[i], err)) != CHR_OK)
            return e;
    if (fw->secret != NULL && fw->secret[0] != '\0' &&
        (fw->principal == NULL || fw->principal[0] == '\0'))
        return chr_error_set(err, CHR_EINVAL, "secret", "needs a principal");
    if (!(fw->failover_timeout_s > 0 && isfinite(fw->failover_timeout_s)))
        return chr_error_set(err, CHR_EINVAL, "failover_timeout",
                             "must be a positive number of seconds");
    if (has_role(fw->role) && (e = check_role(fw->role, err)) != CHR_OK)
        return e;
    if (id != NULL && id[0] != '\0')
        return check_str(id, CHR_MESOS_ID_MAX, "framework_id", err);
    return CHR_OK;
}

/* capabilities: [{"type": ...}] with MULTI_ROLE when a role is named. */
static bool set_capabilities(json_t *info, bool multi_role)
{
    json_t *caps = json_array();
    bool ok = caps != NULL && json_object_set_new(info, "capabilities", caps) == 0;
    const char *types[] = {"MULTI_ROLE", "PARTITION_AWARE"};
    for (size_t i = multi_role ? 0 : 1; ok && i < 2; i++) {
        json_t *c = json_object();
        ok = c != NULL && json_array_append_new(caps, c) == 0 && set_str(c, "type", types[i]);
    }
    return ok;
}

static bool build_info(json_t *info, const struct chr_mesos_framework *fw, const char *id)
{
    bool ok = set_str(info, "user", fw->user) && set_str(info, "name", fw->name) &&
              json_object_set_new(info, "failover_timeout", json_real(fw->failover_timeout_s)) ==
                  0 &&
              json_object_set_new(info, "checkpoint", json_true()) == 0;
    const char *opt[] = {fw->hostname, fw->webui_url, fw->principal};
    const char *keys[] = {"hostname", "webui_url", "principal"};
    for (size_t i = 0; ok && i < 3; i++)
        if (opt[i] != NULL && opt[i][0] != '\0')
            ok = set_str(info, keys[i], opt[i]);
    if (ok && id != NULL && id[0] != '\0')
        ok = set_id(info, "id", id);
    if (ok && has_role(fw->role)) {
        json_t *roles = json_array();
        ok = roles != NULL && json_object_set_new(info, "roles", roles) == 0 &&
             json_array_append_new(roles, json_string(fw->role)) == 0;
    }
    return ok && set_capabilities(info, has_role(fw->role));
}

enum chr_err chr_mesos_encode_subscribe(const struct chr_mesos_framework *fw,
                                        const char *framework_id, char **out, size_t *len,
                                        struct chr_error *err)
{
    enum chr_err e = check_framework(fw, framework_id, err);
    if (e != CHR_OK)
        return e;
    json_t *sub = NULL, *info = json_object();
    json_t *call = new_call("SUBSCRIBE", framework_id, "subscribe", &sub);
    bool ok = call != NULL && info != NULL &&
              json_object_set(sub, "framework_info", info) == 0 &&
              build_info(info, fw, framework_id);
    json_decref(info);
    return finish(call, ok, out, len, err);
}

/* ---- Offers ------------------------------------------------------------------------- */

/* filters: {refuse_seconds} */
static bool set_filters(json_t *sub, double refuse_s)
{
    json_t *f = json_object();
    if (f == NULL || json_object_set_new(sub, "filters", f) != 0)
        return false;
    return json_object_set_new(f, "refuse_seconds", json_real(refuse_s)) == 0;
}

/* offer_ids: [{"value": ...}] */
static bool set_offer_ids(json_t *sub, const char *const *ids, size_t n)
{
    json_t *arr = json_array();
    bool ok = arr != NULL && json_object_set_new(sub, "offer_ids", arr) == 0;
    for (size_t i = 0; ok && i < n; i++) {
        json_t *id = json_object();
        ok = id != NULL && json_array_append_new(arr, id) == 0 && set_str(id, "value", ids[i]);
    }
    return ok;
}

static enum chr_err check_ids(const char *framework_id, const char *const *ids, size_t n,
                              size_t max, const char *what, struct chr_error *err)
{
    enum chr_err e = check_str(framework_id, CHR_MESOS_ID_MAX, "framework_id", err);
    if (e != CHR_OK)
        return e;
    if (n == 0 || n > max)
        return chr_error_set(err, CHR_EINVAL, what, "needs 1 to %zu ids", max);
    char f[CHR_ERROR_FIELD_MAX];
    for (size_t i = 0; i < n; i++)
        if ((e = check_str(ids[i], CHR_MESOS_ID_MAX, chr_error_fieldf(f, "%s[%zu]", what, i),
                           err)) != CHR_OK)
            return e;
    return CHR_OK;
}

enum chr_err chr_mesos_encode_accept(const char *framework_id, const char *offer_id,
                                     json_t *const *task_infos, size_t n, double refuse_s,
                                     char **out, size_t *len, struct chr_error *err)
{
    enum chr_err e = check_ids(framework_id, &offer_id, 1, 1, "offer_id", err);
    if (e == CHR_OK)
        e = check_refuse(refuse_s, err);
    if (e == CHR_OK && (n == 0 || n > CHR_MESOS_ACCEPT_TASKS_MAX))
        e = chr_error_set(err, CHR_EINVAL, "task_infos", "needs 1 to %d tasks",
                          CHR_MESOS_ACCEPT_TASKS_MAX);
    char f[CHR_ERROR_FIELD_MAX];
    for (size_t i = 0; e == CHR_OK && i < n; i++)
        if (!json_is_object(task_infos[i]))
            e = chr_error_set(err, CHR_EINVAL, chr_error_fieldf(f, "task_infos[%zu]", i),
                              "not a JSON object");
    if (e != CHR_OK)
        return e;
    json_t *sub = NULL, *call = new_call("ACCEPT", framework_id, "accept", &sub);
    json_t *ops = json_array(), *op = json_object(), *launch = json_object(), *tasks = json_array();
    bool ok = call != NULL && ops && op && launch && tasks && set_offer_ids(sub, &offer_id, 1) &&
              json_object_set(sub, "operations", ops) == 0 && json_array_append(ops, op) == 0 &&
              set_str(op, "type", "LAUNCH") && json_object_set(op, "launch", launch) == 0 &&
              json_object_set(launch, "task_infos", tasks) == 0 && set_filters(sub, refuse_s);
    for (size_t i = 0; ok && i < n; i++)
        ok = json_array_append(tasks, task_infos[i]) == 0; /* a reference: embedded as is */
    json_decref(ops);
    json_decref(op);
    json_decref(launch);
    json_decref(tasks);
    return finish(call, ok, out, len, err);
}

enum chr_err chr_mesos_encode_decline(const char *framework_id, const char *const *offer_ids,
                                      size_t n, double refuse_s, char **out, size_t *len,
                                      struct chr_error *err)
{
    enum chr_err e = check_ids(framework_id, offer_ids, n, CHR_MESOS_DECLINE_MAX, "offer_ids",
                               err);
    if (e == CHR_OK)
        e = check_refuse(refuse_s, err);
    if (e != CHR_OK)
        return e;
    json_t *sub = NULL, *call = new_call("DECLINE", framework_id, "decline", &sub);
    bool ok = call != NULL && set_offer_ids(sub, offer_ids, n) && set_filters(sub, refuse_s);
    return finish(call, ok, out, len, err);
}

enum chr_err chr_mesos_encode_revive(const char *framework_id, const char *role, bool revive,
                                     char **out, size_t *len, struct chr_error *err)
{
    enum chr_err e = check_str(framework_id, CHR_MESOS_ID_MAX, "framework_id", err);
    if (e == CHR_OK && has_role(role))
        e = check_role(role, err);
    if (e != CHR_OK)
        return e;
    const char *type = revive ? "REVIVE" : "SUPPRESS", *key = revive ? "revive" : "suppress";
    json_t *sub = NULL;
    json_t *call = new_call(type, framework_id, has_role(role) ? key : NULL, &sub);
    bool ok = call != NULL;
    if (ok && has_role(role)) {
        json_t *roles = json_array();
        ok = roles != NULL && json_object_set_new(sub, "roles", roles) == 0 &&
             json_array_append_new(roles, json_string(role)) == 0;
    }
    return finish(call, ok, out, len, err);
}

/* ---- Tasks -------------------------------------------------------------------------- */

/* Longest grace period accepted: a day (ns fit int64 many times over). */
#define GRACE_MAX_MS (24LL * 3600 * 1000)

enum chr_err chr_mesos_encode_kill(const char *framework_id, const char *task_id,
                                   const char *agent_id, int64_t grace_ms, char **out,
                                   size_t *len, struct chr_error *err)
{
    enum chr_err e = check_str(framework_id, CHR_MESOS_ID_MAX, "framework_id", err);
    if (e == CHR_OK)
        e = check_str(task_id, CHR_MESOS_ID_MAX, "task_id", err);
    if (e == CHR_OK && agent_id != NULL && agent_id[0] != '\0')
        e = check_str(agent_id, CHR_MESOS_ID_MAX, "agent_id", err);
    if (e == CHR_OK && grace_ms > GRACE_MAX_MS)
        e = chr_error_set(err, CHR_EINVAL, "grace_period", "longer than a day");
    if (e != CHR_OK)
        return e;
    json_t *sub = NULL, *call = new_call("KILL", framework_id, "kill", &sub);
    bool ok = call != NULL && set_id(sub, "task_id", task_id);
    if (ok && agent_id != NULL && agent_id[0] != '\0')
        ok = set_id(sub, "agent_id", agent_id);
    if (ok && grace_ms >= 0) {
        json_t *policy = json_pack("{s:{s:I}}", "grace_period", "nanoseconds",
                                   (json_int_t)(grace_ms * 1000000));
        ok = policy != NULL && json_object_set_new(sub, "kill_policy", policy) == 0;
    }
    return finish(call, ok, out, len, err);
}

enum chr_err chr_mesos_encode_acknowledge(const char *framework_id, const char *agent_id,
                                          const char *task_id, const uint8_t uuid[16],
                                          char **out, size_t *len, struct chr_error *err)
{
    enum chr_err e = check_str(framework_id, CHR_MESOS_ID_MAX, "framework_id", err);
    if (e == CHR_OK)
        e = check_str(agent_id, CHR_MESOS_ID_MAX, "agent_id", err);
    if (e == CHR_OK)
        e = check_str(task_id, CHR_MESOS_ID_MAX, "task_id", err);
    if (e == CHR_OK && uuid == NULL)
        e = chr_error_set(err, CHR_EINVAL, "uuid", "missing");
    if (e != CHR_OK)
        return e;
    char b64[25];
    chr_base64_encode(uuid, 16, b64);
    json_t *sub = NULL, *call = new_call("ACKNOWLEDGE", framework_id, "acknowledge", &sub);
    bool ok = call != NULL && set_id(sub, "agent_id", agent_id) &&
              set_id(sub, "task_id", task_id) && set_str(sub, "uuid", b64);
    return finish(call, ok, out, len, err);
}

enum chr_err chr_mesos_encode_reconcile(const char *framework_id,
                                        const struct chr_mesos_task_ref *tasks, size_t n,
                                        char **out, size_t *len, struct chr_error *err)
{
    enum chr_err e = check_str(framework_id, CHR_MESOS_ID_MAX, "framework_id", err);
    if (e == CHR_OK && n > CHR_MESOS_RECONCILE_MAX)
        e = chr_error_set(err, CHR_EINVAL, "tasks", "more than %d", CHR_MESOS_RECONCILE_MAX);
    char f[CHR_ERROR_FIELD_MAX];
    for (size_t i = 0; e == CHR_OK && i < n; i++) {
        e = check_str(tasks[i].task_id, CHR_MESOS_ID_MAX,
                      chr_error_fieldf(f, "tasks[%zu].task_id", i), err);
        if (e == CHR_OK && tasks[i].agent_id != NULL && tasks[i].agent_id[0] != '\0')
            e = check_str(tasks[i].agent_id, CHR_MESOS_ID_MAX,
                          chr_error_fieldf(f, "tasks[%zu].agent_id", i), err);
    }
    if (e != CHR_OK)
        return e;
    json_t *sub = NULL, *call = new_call("RECONCILE", framework_id, "reconcile", &sub);
    json_t *arr = json_array();
    bool ok = call != NULL && arr != NULL && json_object_set(sub, "tasks", arr) == 0;
    for (size_t i = 0; ok && i < n; i++) {
        json_t *t = json_object();
        ok = t != NULL && json_array_append_new(arr, t) == 0 &&
             set_id(t, "task_id", tasks[i].task_id);
        if (ok && tasks[i].agent_id != NULL && tasks[i].agent_id[0] != '\0')
            ok = set_id(t, "agent_id", tasks[i].agent_id);
    }
    json_decref(arr);
    return finish(call, ok, out, len, err);
}
