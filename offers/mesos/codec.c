/*
 * codec.c - decoding of the Mesos v1 Events (codec.h): SUBSCRIBED, OFFERS
 * (offer by offer, on demand), RESCIND, UPDATE, FAILURE, ERROR, HEARTBEAT;
 * anything else is reported as ignored.  Also TaskState names, which the
 * call encoders (codec_call.c) share.
 *
 * Every string is bounded by types.h and refused (never cut) when it is an
 * id; only texts that are merely shown (reason, message) are cut.  No I/O,
 * no clock, no log.
 */
#include "offers/mesos/codec.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/alloc.h"
#include "common/base64.h"
#include "offers/mesos/recordio.h"

/* ---- TaskState ------------------------------------------------------------------ */

static const char *const STATE_NAMES[] = {
    [CHR_MESOS_TASK_STAGING] = "TASK_STAGING",
    [CHR_MESOS_TASK_STARTING] = "TASK_STARTING",
    [CHR_MESOS_TASK_RUNNING] = "TASK_RUNNING",
    [CHR_MESOS_TASK_KILLING] = "TASK_KILLING",
    [CHR_MESOS_TASK_FINISHED] = "TASK_FINISHED",
    [CHR_MESOS_TASK_FAILED] = "TASK_FAILED",
    [CHR_MESOS_TASK_KILLED] = "TASK_KILLED",
    [CHR_MESOS_TASK_ERROR] = "TASK_ERROR",
    [CHR_MESOS_TASK_LOST] = "TASK_LOST",
    [CHR_MESOS_TASK_DROPPED] = "TASK_DROPPED",
    [CHR_MESOS_TASK_UNREACHABLE] = "TASK_UNREACHABLE",
    [CHR_MESOS_TASK_GONE] = "TASK_GONE",
    [CHR_MESOS_TASK_GONE_BY_OPERATOR] = "TASK_GONE_BY_OPERATOR",
    [CHR_MESOS_TASK_UNKNOWN] = "TASK_UNKNOWN",
};
#define N_STATES (sizeof STATE_NAMES / sizeof STATE_NAMES[0])

enum chr_mesos_task_state chr_mesos_task_state_parse(const char *name)
{
    for (size_t i = 1; name != NULL && i < N_STATES; i++)
        if (strcmp(name, STATE_NAMES[i]) == 0)
            return (enum chr_mesos_task_state)i;
    return (enum chr_mesos_task_state)0;
}

const char *chr_mesos_task_state_name(enum chr_mesos_task_state s)
{
    return (size_t)s >= 1 && (size_t)s < N_STATES ? STATE_NAMES[s] : NULL;
}

/* ---- Field readers ------------------------------------------------------------------ */

/* A field path "base.key" for an error. */
static const char *path(char buf[CHR_ERROR_FIELD_MAX], const char *base, const char *key)
{
    if (base[0] == '\0')
        return chr_error_fieldf(buf, "%s", key);
    return chr_error_fieldf(buf, "%s.%s", base, key);
}

/* obj[key] as an object: NULL with CHR_OK when absent or null. */
static enum chr_err get_obj(json_t *obj, const char *key, const char *base, json_t **out,
                            struct chr_error *err)
{
    json_t *v = json_object_get(obj, key);
    *out = NULL;
    if (v == NULL || json_is_null(v))
        return CHR_OK;
    char f[CHR_ERROR_FIELD_MAX];
    if (!json_is_object(v))
        return chr_error_set(err, CHR_EINVAL, path(f, base, key), "not an object");
    *out = v;
    return CHR_OK;
}

static enum chr_err need_obj(json_t *obj, const char *key, const char *base, json_t **out,
                             struct chr_error *err)
{
    enum chr_err e = get_obj(obj, key, base, out, err);
    char f[CHR_ERROR_FIELD_MAX];
    if (e == CHR_OK && *out == NULL)
        return chr_error_set(err, CHR_EINVAL, path(f, base, key), "missing");
    return e;
}

/*
 * obj[key] as a string into buf (cap bytes): absent/null leaves "" (an
 * error when required); not a string is an error; longer than cap - 1 is
 * an error unless cut (then it is cut at a UTF-8 boundary).
 */
static enum chr_err get_str(json_t *obj, const char *key, const char *base, bool required,
                            bool cut, char *buf, size_t cap, struct chr_error *err)
{
    json_t *v = json_object_get(obj, key);
    char f[CHR_ERROR_FIELD_MAX];
    buf[0] = '\0';
    if (v == NULL || json_is_null(v))
        return required ? chr_error_set(err, CHR_EINVAL, path(f, base, key), "missing")
                        : CHR_OK;
    if (!json_is_string(v))
        return chr_error_set(err, CHR_EINVAL, path(f, base, key), "not a string");
    size_t n = json_string_length(v);
    const char *s = json_string_value(v);
    if (required && n == 0)
        return chr_error_set(err, CHR_EINVAL, path(f, base, key), "empty");
    if (n >= cap && !cut)
        return chr_error_set(err, CHR_EINVAL, path(f, base, key), "longer than %zu bytes",
                             cap - 1);
    if (n >= cap) {
        n = cap - 1;
        while (n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80)
            n--; /* never end inside a UTF-8 sequence */
    }
    memcpy(buf, s, n);
    buf[n] = '\0';
    return CHR_OK;
}

/* obj[key] as an id ({"value": "..."}) into buf[CHR_MESOS_ID_MAX]. */
static enum chr_err get_id(json_t *obj, const char *key, const char *base, bool required,
                           char *buf, struct chr_error *err)
{
    json_t *idobj;
    char f[CHR_ERROR_FIELD_MAX];
    buf[0] = '\0';
    enum chr_err e = get_obj(obj, key, base, &idobj, err);
    if (e != CHR_OK)
        return e;
    if (idobj == NULL)
        return required ? chr_error_set(err, CHR_EINVAL, path(f, base, key), "missing") : CHR_OK;
    return get_str(idobj, "value", path(f, base, key), true, false, buf, CHR_MESOS_ID_MAX, err);
}

/* A JSON number, or a string holding one (stout and proto3 writers differ):
 * false when it is neither or not finite. */
static bool num_value(json_t *v, double *out)
{
    if (json_is_number(v)) {
        *out = json_number_value(v);
        return isfinite(*out);
    }
    const char *s = json_string_value(v);
    if (s == NULL || s[0] == '\0' || json_string_length(v) > 64)
        return false;
    char *end;
    errno = 0;
    *out = strtod(s, &end);
    return *end == '\0' && errno == 0 && isfinite(*out);
}

/* obj[key] as a finite number >= 0; absent/null leaves *out alone. */
static enum chr_err get_num(json_t *obj, const char *key, const char *base, bool required,
                            double *out, struct chr_error *err)
{
    json_t *v = json_object_get(obj, key);
    char f[CHR_ERROR_FIELD_MAX];
    if (v == NULL || json_is_null(v))
        return required ? chr_error_set(err, CHR_EINVAL, path(f, base, key), "missing") : CHR_OK;
    double d;
    if (!num_value(v, &d))
        return chr_error_set(err, CHR_EINVAL, path(f, base, key), "not a finite number");
    if (d < 0)
        return chr_error_set(err, CHR_EINVAL, path(f, base, key), "negative");
    *out = d;
    return CHR_OK;
}

/* A uint64 (number or string of digits) for ranges. */
static bool u64_value(json_t *v, uint64_t *out)
{
    if (json_is_integer(v)) {
        json_int_t i = json_integer_value(v);
        *out = (uint64_t)i;
        return i >= 0;
    }
    const char *s = json_string_value(v);
    if (s == NULL || s[0] < '0' || s[0] > '9' || json_string_length(v) > 20)
        return false;
    char *end;
    errno = 0;
    unsigned long long u = strtoull(s, &end, 10);
    *out = u;
    return *end == '\0' && errno == 0;
}

/* Appends printf-style text at *at in buf (cap); false when it does not fit. */
static bool app(char *buf, size_t cap, size_t *at, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static bool app(char *buf, size_t cap, size_t *at, const char *fmt, ...)
{
    if (*at >= cap)
        return false;
    va_list ap;
    va_start(ap, fmt);
    int w = vsnprintf(buf + *at, cap - *at, fmt, ap);
    va_end(ap);
    if (w < 0 || (size_t)w >= cap - *at)
        return false;
    *at += (size_t)w;
    return true;
}

/* The shortest decimal that reads back as d ("2", "2.5"). */
static void shortest(double d, char *buf, size_t cap)
{
    for (int prec = 1; prec <= 17; prec++) {
        snprintf(buf, cap, "%.*g", prec, d);
        if (strtod(buf, NULL) == d)
            return;
    }
}

/* ---- Offers ------------------------------------------------------------------------ */

/* An attribute's RANGES value as "[1-10,20-30]". */
static enum chr_err render_ranges(json_t *val, const char *base, char *buf, size_t cap,
                                  struct chr_error *err)
{
    json_t *ranges = json_object_get(val, "range");
    size_t at = 0, i;
    json_t *r;
    char f[CHR_ERROR_FIELD_MAX];
    if (ranges != NULL && !json_is_array(ranges))
        return chr_error_set(err, CHR_EINVAL, path(f, base, "ranges.range"), "not an array");
    bool ok = app(buf, cap, &at, "[");
    json_array_foreach(ranges, i, r) {
        uint64_t b, e;
        if (!u64_value(json_object_get(r, "begin"), &b) ||
            !u64_value(json_object_get(r, "end"), &e))
            return chr_error_set(err, CHR_EINVAL, chr_error_fieldf(f, "%s.ranges.range[%zu]",
                                                                   base, i),
                                 "needs begin and end as unsigned integers");
        ok = ok && app(buf, cap, &at, "%s%llu-%llu", i ? "," : "", (unsigned long long)b,
                       (unsigned long long)e);
    }
    ok = ok && app(buf, cap, &at, "]");
    return ok ? CHR_OK
              : chr_error_set(err, CHR_EINVAL, path(f, base, "ranges"),
                              "longer than %zu bytes as text", cap - 1);
}

/* An attribute's SET value as "{a,b}". */
static enum chr_err render_set(json_t *val, const char *base, char *buf, size_t cap,
                               struct chr_error *err)
{
    json_t *items = json_object_get(val, "item");
    size_t at = 0, i;
    json_t *it;
    char f[CHR_ERROR_FIELD_MAX];
    if (items != NULL && !json_is_array(items))
        return chr_error_set(err, CHR_EINVAL, path(f, base, "set.item"), "not an array");
    bool ok = app(buf, cap, &at, "{");
    json_array_foreach(items, i, it) {
        if (!json_is_string(it))
            return chr_error_set(err, CHR_EINVAL,
                                 chr_error_fieldf(f, "%s.set.item[%zu]", base, i),
                                 "not a string");
        ok = ok && app(buf, cap, &at, "%s%s", i ? "," : "", json_string_value(it));
    }
    ok = ok && app(buf, cap, &at, "}");
    return ok ? CHR_OK
              : chr_error_set(err, CHR_EINVAL, path(f, base, "set"),
                              "longer than %zu bytes as text", cap - 1);
}

static enum chr_err decode_attr(json_t *a, const char *base, struct chr_mesos_attr *out,
                                struct chr_error *err)
{
    char type[16], f[CHR_ERROR_FIELD_MAX];
    if (!json_is_object(a))
        return chr_error_set(err, CHR_EINVAL, base, "not an object");
    enum chr_err e = get_str(a, "name", base, true, false, out->name, sizeof out->name, err);
    if (e == CHR_OK)
        e = get_str(a, "type", base, true, false, type, sizeof type, err);
    if (e != CHR_OK)
        return e;
    json_t *val;
    if (strcmp(type, "TEXT") == 0) {
        if ((e = need_obj(a, "text", base, &val, err)) == CHR_OK)
            e = get_str(val, "value", path(f, base, "text"), true, false, out->value,
                        sizeof out->value, err);
    } else if (strcmp(type, "SCALAR") == 0) {
        double d = 0;
        if ((e = need_obj(a, "scalar", base, &val, err)) == CHR_OK &&
            (e = get_num(val, "value", path(f, base, "scalar"), true, &d, err)) == CHR_OK)
            shortest(d, out->value, sizeof out->value);
    } else if (strcmp(type, "RANGES") == 0) {
        if ((e = need_obj(a, "ranges", base, &val, err)) == CHR_OK)
            e = render_ranges(val, base, out->value, sizeof out->value, err);
    } else if (strcmp(type, "SET") == 0) {
        if ((e = need_obj(a, "set", base, &val, err)) == CHR_OK)
            e = render_set(val, base, out->value, sizeof out->value, err);
    } else {
        e = chr_error_set(err, CHR_EINVAL, path(f, base, "type"),
                          "'%s' is not SCALAR, RANGES, SET or TEXT", type);
    }
    return e;
}

/* The verbatim JSON of v, chr_malloc'd. */
static char *dump(json_t *v)
{
    size_t n = json_dumpb(v, NULL, 0, JSON_COMPACT | JSON_ENCODE_ANY);
    char *s = n ? chr_malloc(n + 1) : NULL;
    if (s != NULL) {
        json_dumpb(v, s, n, JSON_COMPACT | JSON_ENCODE_ANY);
        s[n] = '\0';
    }
    return s;
}

/* One resource; *keep false for what chronos does not use (ports, gpus...). */
static enum chr_err decode_resource(json_t *r, const char *base, struct chr_mesos_resource *out,
                                    bool *keep, struct chr_error *err)
{
    char name[32], type[16], f[CHR_ERROR_FIELD_MAX];
    *keep = false;
    if (!json_is_object(r))
        return chr_error_set(err, CHR_EINVAL, base, "not an object");
    enum chr_err e = get_str(r, "name", base, true, true, name, sizeof name, err);
    if (e != CHR_OK || (strcmp(name, "cpus") && strcmp(name, "mem") && strcmp(name, "disk")))
        return e;
    json_t *scalar, *alloc, *resv = json_object_get(r, "reservations");
    if ((e = get_str(r, "type", base, true, false, type, sizeof type, err)) != CHR_OK)
        return e;
    if (strcmp(type, "SCALAR") != 0)
        return chr_error_set(err, CHR_EINVAL, path(f, base, "type"), "%s must be SCALAR", name);
    memcpy(out->name, name, strlen(name) + 1);
    if ((e = need_obj(r, "scalar", base, &scalar, err)) != CHR_OK ||
        (e = get_num(scalar, "value", path(f, base, "scalar"), true, &out->value, err)) != CHR_OK ||
        (e = get_str(r, "role", base, false, false, out->role, sizeof out->role, err)) != CHR_OK ||
        (e = get_obj(r, "allocation_info", base, &alloc, err)) != CHR_OK ||
        (e = get_str(alloc, "role", path(f, base, "allocation_info"), false, false,
                     out->alloc_role, sizeof out->alloc_role, err)) != CHR_OK)
        return e;
    if (out->role[0] == '\0')
        memcpy(out->role, "*", 2);
    if (resv != NULL && !json_is_null(resv) && !json_is_array(resv))
        return chr_error_set(err, CHR_EINVAL, path(f, base, "reservations"), "not an array");
    if (json_array_size(resv) > 0 && (out->reservations_json = dump(resv)) == NULL)
        return chr_error_set(err, CHR_ENOMEM, base, "out of memory");
    json_t *old = json_object_get(r, "reservation"); /* the pre-refinement form */
    out->reserved = json_array_size(resv) > 0 || (old != NULL && !json_is_null(old));
    *keep = true;
    return CHR_OK;
}

static enum chr_err decode_resources(json_t *o, const char *base, struct chr_mesos_offer *out,
                                     struct chr_error *err)
{
    json_t *arr = json_object_get(o, "resources"), *r;
    char f[CHR_ERROR_FIELD_MAX];
    size_t i;
    if (arr != NULL && !json_is_null(arr) && !json_is_array(arr))
        return chr_error_set(err, CHR_EINVAL, path(f, base, "resources"), "not an array");
    json_array_foreach(arr, i, r) {
        struct chr_mesos_resource tmp = {0};
        bool keep;
        enum chr_err e = decode_resource(r, chr_error_fieldf(f, "%s.resources[%zu]", base, i),
                                         &tmp, &keep, err);
        if (e == CHR_OK && keep && out->n_res == CHR_MESOS_RESOURCES_MAX) {
            chr_free(tmp.reservations_json);
            e = chr_error_set(err, CHR_EINVAL, path(f, base, "resources"), "more than %d",
                              CHR_MESOS_RESOURCES_MAX);
        }
        if (e != CHR_OK)
            return e;
        if (keep)
            out->res[out->n_res++] = tmp;
    }
    return CHR_OK;
}

static enum chr_err decode_attrs(json_t *o, const char *base, struct chr_mesos_offer *out,
                                 struct chr_error *err)
{
    json_t *arr = json_object_get(o, "attributes"), *a;
    char f[CHR_ERROR_FIELD_MAX];
    size_t i;
    if (arr != NULL && !json_is_null(arr) && !json_is_array(arr))
        return chr_error_set(err, CHR_EINVAL, path(f, base, "attributes"), "not an array");
    if (json_array_size(arr) > CHR_MESOS_ATTRS_MAX)
        return chr_error_set(err, CHR_EINVAL, path(f, base, "attributes"), "more than %d",
                             CHR_MESOS_ATTRS_MAX);
    json_array_foreach(arr, i, a) {
        enum chr_err e = decode_attr(a, chr_error_fieldf(f, "%s.attributes[%zu]", base, i),
                                     &out->attrs[i], err);
        if (e != CHR_OK)
            return e;
        out->n_attrs = i + 1;
    }
    return CHR_OK;
}

void chr_mesos_offer_clear(struct chr_mesos_offer *o)
{
    for (size_t i = 0; i < o->n_res && i < CHR_MESOS_RESOURCES_MAX; i++)
        chr_free(o->res[i].reservations_json);
    memset(o, 0, sizeof *o);
}

enum chr_err chr_mesos_event_offer(const struct chr_mesos_event_in *ev, size_t i,
                                   struct chr_mesos_offer *out, struct chr_error *err)
{
    char base[CHR_ERROR_FIELD_MAX];
    memset(out, 0, sizeof *out);
    json_t *o = json_array_get(ev->offers_, i);
    chr_error_fieldf(base, "offers[%zu]", i);
    if (!json_is_object(o))
        return chr_error_set(err, CHR_EINVAL, base, "not an object");
    enum chr_err e = get_id(o, "id", base, true, out->id, err);
    if (e != CHR_OK) {
        out->id[0] = '\0';
        return e;
    }
    if ((e = get_id(o, "agent_id", base, true, out->agent_id, err)) != CHR_OK ||
        (e = get_str(o, "hostname", base, true, false, out->hostname, sizeof out->hostname,
                     err)) != CHR_OK ||
        (e = decode_resources(o, base, out, err)) != CHR_OK ||
        (e = decode_attrs(o, base, out, err)) != CHR_OK)
        return e;
    return CHR_OK;
}

/* ---- Events ------------------------------------------------------------------------ */

/* "Command exited with status N" (the command executor's message) anywhere
 * in the message: the task's exit status. */
static bool exit_code_of(const char *msg, int32_t *code)
{
    static const char PHRASE[] = "Command exited with status ";
    const char *p = msg ? strstr(msg, PHRASE) : NULL;
    if (p == NULL)
        return false;
    p += sizeof PHRASE - 1;
    bool neg = *p == '-';
    p += neg;
    int64_t v = 0;
    int digits = 0;
    for (; *p >= '0' && *p <= '9' && digits < 11; p++, digits++)
        v = v * 10 + (*p - '0');
    if (digits == 0 || digits > 10 || (*p >= '0' && *p <= '9') || v > INT32_MAX)
        return false;
    *code = (int32_t)(neg ? -v : v);
    return true;
}

static enum chr_err decode_update(json_t *root, struct chr_mesos_event_in *ev,
                                  struct chr_error *err)
{
    json_t *upd, *st;
    const char *b = "update.status";
    char state[32], uuid[64], f[CHR_ERROR_FIELD_MAX];
    struct chr_mesos_update *u = &ev->update;
    enum chr_err e;
    if ((e = need_obj(root, "update", "", &upd, err)) != CHR_OK ||
        (e = need_obj(upd, "status", "update", &st, err)) != CHR_OK ||
        (e = get_id(st, "task_id", b, true, u->task_id, err)) != CHR_OK ||
        (e = get_str(st, "state", b, true, false, state, sizeof state, err)) != CHR_OK ||
        (e = get_id(st, "agent_id", b, false, u->agent_id, err)) != CHR_OK ||
        (e = get_str(st, "reason", b, false, true, u->reason, sizeof u->reason, err)) != CHR_OK ||
        (e = get_str(st, "source", b, false, true, u->source, sizeof u->source, err)) != CHR_OK ||
        (e = get_str(st, "message", b, false, true, u->message, sizeof u->message, err)) !=
            CHR_OK ||
        (e = get_num(st, "timestamp", b, false, &u->timestamp, err)) != CHR_OK ||
        (e = get_str(st, "uuid", b, false, false, uuid, sizeof uuid, err)) != CHR_OK)
        return e;
    if ((u->state = chr_mesos_task_state_parse(state)) == 0) {
        char q[72];
        return chr_error_set(err, CHR_EINVAL, path(f, b, "state"), "unknown state '%s'",
                             chr_error_quote(state, strlen(state), 64, q));
    }
    if (uuid[0] != '\0') {
        if (chr_base64_decode(uuid, strlen(uuid), u->uuid, sizeof u->uuid, true) != 16)
            return chr_error_set(err, CHR_EINVAL, path(f, b, "uuid"),
                                 "not the base64 of 16 bytes");
        u->has_uuid = true;
    }
    /* The whole message, not the cut copy: the phrase may be past the cut. */
    u->has_exit_code = exit_code_of(json_string_value(json_object_get(st, "message")),
                                    &u->exit_code);
    return CHR_OK;
}

static enum chr_err decode_subscribed(json_t *root, struct chr_mesos_event_in *ev,
                                      struct chr_error *err)
{
    json_t *sub;
    enum chr_err e;
    if ((e = need_obj(root, "subscribed", "", &sub, err)) != CHR_OK ||
        (e = get_id(sub, "framework_id", "subscribed", true, ev->framework_id, err)) != CHR_OK)
        return e;
    return get_num(sub, "heartbeat_interval_seconds", "subscribed", false, &ev->heartbeat_s, err);
}

static enum chr_err decode_offers(json_t *root, struct chr_mesos_event_in *ev,
                                  struct chr_error *err)
{
    json_t *offers;
    enum chr_err e = need_obj(root, "offers", "", &offers, err);
    if (e != CHR_OK)
        return e;
    json_t *arr = json_object_get(offers, "offers");
    if (arr == NULL || json_is_null(arr))
        return CHR_OK; /* only inverse offers, or none */
    if (!json_is_array(arr))
        return chr_error_set(err, CHR_EINVAL, "offers.offers", "not an array");
    ev->offers_ = json_incref(arr);
    ev->n_offers = json_array_size(arr);
    return CHR_OK;
}

/* The payload of a known type; CHR_ENONE for a type we do not act on. */
static enum chr_err decode_payload(json_t *root, const char *type, struct chr_mesos_event_in *ev,
                                   struct chr_error *err)
{
    json_t *sub;
    enum chr_err e;
    if (strcmp(type, "SUBSCRIBED") == 0) {
        ev->type = CHR_MESOS_IN_SUBSCRIBED;
        return decode_subscribed(root, ev, err);
    } else if (strcmp(type, "OFFERS") == 0) {
        ev->type = CHR_MESOS_IN_OFFERS;
        return decode_offers(root, ev, err);
    } else if (strcmp(type, "RESCIND") == 0) {
        ev->type = CHR_MESOS_IN_RESCIND;
        if ((e = need_obj(root, "rescind", "", &sub, err)) != CHR_OK)
            return e;
        return get_id(sub, "offer_id", "rescind", true, ev->offer_id, err);
    } else if (strcmp(type, "UPDATE") == 0) {
        ev->type = CHR_MESOS_IN_UPDATE;
        return decode_update(root, ev, err);
    } else if (strcmp(type, "FAILURE") == 0) {
        ev->type = CHR_MESOS_IN_FAILURE;
        if ((e = need_obj(root, "failure", "", &sub, err)) != CHR_OK)
            return e;
        return get_id(sub, "agent_id", "failure", false, ev->agent_id, err);
    } else if (strcmp(type, "ERROR") == 0) {
        ev->type = CHR_MESOS_IN_ERROR;
        if ((e = need_obj(root, "error", "", &sub, err)) != CHR_OK)
            return e;
        return get_str(sub, "message", "error", true, true, ev->message, sizeof ev->message,
                       err);
    } else if (strcmp(type, "HEARTBEAT") == 0) {
        ev->type = CHR_MESOS_IN_HEARTBEAT;
        return CHR_OK;
    }
    return CHR_ENONE;
}

enum chr_err chr_mesos_event_decode(const char *json, size_t len, struct chr_mesos_event_in *ev,
                                    struct chr_error *err)
{
    memset(ev, 0, sizeof *ev);
    if (len > CHR_MESOS_RECORD_MAX)
        return chr_error_set(err, CHR_EINVAL, "event", "longer than %d bytes",
                             CHR_MESOS_RECORD_MAX);
    json_error_t je;
    json_t *root = json_loadb(json, len, JSON_REJECT_DUPLICATES, &je);
    if (root == NULL)
        return chr_error_set(err, CHR_EINVAL, "event", "not JSON (%s at byte %d)", je.text,
                             je.position);
    enum chr_err e = CHR_OK;
    char type[64];
    if (!json_is_object(root))
        e = chr_error_set(err, CHR_EINVAL, "event", "not a JSON object");
    else
        e = get_str(root, "type", "event", true, true, type, sizeof type, err);
    if (e == CHR_OK) {
        e = decode_payload(root, type, ev, err);
        if (e == CHR_ENONE) {
            char q[72];
            ev->type = CHR_MESOS_IN_IGNORED;
            chr_error_quote(type, strlen(type), 56, q);
            memcpy(ev->ignored, q, strlen(q) + 1);
            e = CHR_OK;
        }
    }
    json_decref(root); /* the offers array is kept by its own reference */
    if (e != CHR_OK)
        chr_mesos_event_free(ev);
    return e;
}

void chr_mesos_event_free(struct chr_mesos_event_in *ev)
{
    json_decref(ev->offers_);
    ev->offers_ = NULL;
    ev->n_offers = 0;
}
