/*
 * test_codec.c - the Mesos v1 JSON codec (offers/mesos/codec.h).  Events are
 * written by hand as a master (stout) writes them, after the Debian protos
 * and the scheduler HTTP API docs, never taken from our own encoder; each
 * malformed one must be refused with the field named.  Calls are checked key
 * by key after parsing them back with jansson.
 */
#include "tests/unit/unit.h"

#include <jansson.h>
#include <math.h>
#include <stdlib.h>

#include "common/alloc.h"
#include "common/sb.h"
#include "offers/mesos/codec.h"

/* ---- Helpers ------------------------------------------------------------------- */

static void decode_ok(const char *json, struct chr_mesos_event_in *ev)
{
    struct chr_error err;
    enum chr_err e = chr_mesos_event_decode(json, strlen(json), ev, &err);
    if (e != CHR_OK)
        fail_msg("decode of %s: %s", json, err.message);
}

/* Decoding fails with CHR_EINVAL, field `field`, message containing `what`. */
static void decode_bad(const char *json, const char *field, const char *what)
{
    struct chr_mesos_event_in ev;
    struct chr_error err;
    enum chr_err e = chr_mesos_event_decode(json, strlen(json), &ev, &err);
    if (e != CHR_EINVAL)
        fail_msg("decode of %s: %s, want EINVAL", json, chr_err_name(e));
    if (strcmp(err.field, field) != 0 || strstr(err.message, what) == NULL)
        fail_msg("decode of %s: '%s' (field '%s'), want field '%s' saying '%s'", json,
                 err.message, err.field, field, what);
    assert_null(ev.offers_);
}

/* An OFFERS event of one offer made of the given JSON text. */
static void offers_of(const char *offer, char *buf, size_t cap)
{
    snprintf(buf, cap, "{\"type\":\"OFFERS\",\"offers\":{\"offers\":[%s]}}", offer);
}

/* Decodes a one-offer event; returns the offer's decode result. */
static enum chr_err offer_result(const char *offer, struct chr_mesos_offer *o,
                                 struct chr_error *err)
{
    char buf[8192];
    offers_of(offer, buf, sizeof buf);
    struct chr_mesos_event_in ev;
    decode_ok(buf, &ev);
    assert_int_equal(ev.n_offers, 1);
    enum chr_err e = chr_mesos_event_offer(&ev, 0, o, err);
    chr_mesos_event_free(&ev);
    return e;
}

static void offer_bad(const char *offer, const char *field, const char *what)
{
    struct chr_mesos_offer *o = chr_malloc(sizeof *o);
    struct chr_error err;
    enum chr_err e = offer_result(offer, o, &err);
    if (e != CHR_EINVAL || strcmp(err.field, field) != 0 || strstr(err.message, what) == NULL)
        fail_msg("offer %s: %s '%s' (field '%s'), want field '%s' saying '%s'", offer,
                 chr_err_name(e), err.message, err.field, field, what);
    chr_mesos_offer_clear(o);
    chr_free(o);
}

#define OFFER_HEAD                                                                                \
    "\"id\":{\"value\":\"o-1\"},\"framework_id\":{\"value\":\"fw\"},"                              \
    "\"agent_id\":{\"value\":\"a-1\"},\"hostname\":\"h1\""

/* ---- Events ---------------------------------------------------------------------- */

static void test_subscribed(void **state)
{
    (void)state;
    struct chr_mesos_event_in ev;
    decode_ok("{\"type\":\"SUBSCRIBED\",\"subscribed\":{\"framework_id\":{\"value\":"
              "\"7a1b-0001\"},\"heartbeat_interval_seconds\":15.0,\"master_info\":{\"id\":\"m\","
              "\"ip\":16777343,\"port\":5050,\"hostname\":\"m1\",\"address\":{\"hostname\":\"m1\","
              "\"ip\":\"127.0.0.1\",\"port\":5050}}}}",
              &ev);
    assert_int_equal(ev.type, CHR_MESOS_IN_SUBSCRIBED);
    assert_string_equal(ev.framework_id, "7a1b-0001");
    assert_true(ev.heartbeat_s == 15.0);
    decode_ok("{\"type\":\"SUBSCRIBED\",\"subscribed\":{\"framework_id\":{\"value\":\"f\"},"
              "\"heartbeat_interval_seconds\":15}}",
              &ev);
    assert_true(ev.heartbeat_s == 15.0);
    decode_ok("{\"type\":\"SUBSCRIBED\",\"subscribed\":{\"framework_id\":{\"value\":\"f\"},"
              "\"heartbeat_interval_seconds\":\"0.5\"}}",
              &ev);
    assert_true(ev.heartbeat_s == 0.5);
    decode_ok("{\"type\":\"SUBSCRIBED\",\"subscribed\":{\"framework_id\":{\"value\":\"f\"}}}",
              &ev);
    assert_true(ev.heartbeat_s == 0);
}

static void test_subscribed_bad(void **state)
{
    (void)state;
    decode_bad("{\"type\":\"SUBSCRIBED\"}", "subscribed", "missing");
    decode_bad("{\"type\":\"SUBSCRIBED\",\"subscribed\":{}}", "subscribed.framework_id",
               "missing");
    decode_bad("{\"type\":\"SUBSCRIBED\",\"subscribed\":{\"framework_id\":\"f\"}}",
               "subscribed.framework_id", "not an object");
    decode_bad("{\"type\":\"SUBSCRIBED\",\"subscribed\":{\"framework_id\":{\"value\":\"\"}}}",
               "subscribed.framework_id.value", "empty");
    decode_bad("{\"type\":\"SUBSCRIBED\",\"subscribed\":{\"framework_id\":{\"value\":\"f\"},"
               "\"heartbeat_interval_seconds\":-1}}",
               "subscribed.heartbeat_interval_seconds", "negative");
    decode_bad("{\"type\":\"SUBSCRIBED\",\"subscribed\":{\"framework_id\":{\"value\":\"f\"},"
               "\"heartbeat_interval_seconds\":\"Infinity\"}}",
               "subscribed.heartbeat_interval_seconds", "not a finite number");
    char big[600];
    memset(big, 'x', sizeof big);
    char json[800];
    snprintf(json, sizeof json,
             "{\"type\":\"SUBSCRIBED\",\"subscribed\":{\"framework_id\":{\"value\":\"%.*s\"}}}",
             CHR_MESOS_ID_MAX, big);
    decode_bad(json, "subscribed.framework_id.value", "longer than 255 bytes");
}

static void test_not_an_event(void **state)
{
    (void)state;
    decode_bad("", "event", "not JSON");
    decode_bad("{\"type\":", "event", "not JSON");
    decode_bad("[1]", "event", "not a JSON object");
    decode_bad("{}", "event.type", "missing");
    decode_bad("{\"type\":5}", "event.type", "not a string");
    decode_bad("{\"type\":\"HEARTBEAT\",\"type\":\"ERROR\"}", "event", "not JSON");
}

static void test_small_events(void **state)
{
    (void)state;
    struct chr_mesos_event_in ev;
    decode_ok("{\"type\":\"HEARTBEAT\"}", &ev);
    assert_int_equal(ev.type, CHR_MESOS_IN_HEARTBEAT);
    decode_ok("{\"type\":\"RESCIND\",\"rescind\":{\"offer_id\":{\"value\":\"o-9\"}}}", &ev);
    assert_int_equal(ev.type, CHR_MESOS_IN_RESCIND);
    assert_string_equal(ev.offer_id, "o-9");
    decode_ok("{\"type\":\"FAILURE\",\"failure\":{\"agent_id\":{\"value\":\"a-3\"}}}", &ev);
    assert_int_equal(ev.type, CHR_MESOS_IN_FAILURE);
    assert_string_equal(ev.agent_id, "a-3");
    decode_ok("{\"type\":\"FAILURE\",\"failure\":{\"executor_id\":{\"value\":\"e\"},"
              "\"status\":1}}",
              &ev);
    assert_string_equal(ev.agent_id, "");
    decode_ok("{\"type\":\"ERROR\",\"error\":{\"message\":\"Framework failed over\"}}", &ev);
    assert_int_equal(ev.type, CHR_MESOS_IN_ERROR);
    assert_string_equal(ev.message, "Framework failed over");
    decode_ok("{\"type\":\"UPDATE_OPERATION_STATUS\",\"update_operation_status\":{}}", &ev);
    assert_int_equal(ev.type, CHR_MESOS_IN_IGNORED);
    assert_string_equal(ev.ignored, "UPDATE_OPERATION_STATUS");
    decode_ok("{\"type\":\"INVERSE_OFFERS\",\"inverse_offers\":{\"inverse_offers\":[]}}", &ev);
    assert_int_equal(ev.type, CHR_MESOS_IN_IGNORED);
    decode_bad("{\"type\":\"RESCIND\"}", "rescind", "missing");
    decode_bad("{\"type\":\"RESCIND\",\"rescind\":{}}", "rescind.offer_id", "missing");
    decode_bad("{\"type\":\"ERROR\",\"error\":{}}", "error.message", "missing");
    decode_bad("{\"type\":\"FAILURE\",\"failure\":{\"agent_id\":{\"value\":7}}}",
               "failure.agent_id.value", "not a string");
}

#define UPDATE_HEAD "{\"type\":\"UPDATE\",\"update\":{\"status\":{\"task_id\":{\"value\":\"ct:1:0:j:\"},"

static void test_update(void **state)
{
    (void)state;
    struct chr_mesos_event_in ev;
    decode_ok(UPDATE_HEAD "\"state\":\"TASK_FAILED\",\"agent_id\":{\"value\":\"a-1\"},"
                          "\"executor_id\":{\"value\":\"ct:1:0:j:\"},\"source\":\"SOURCE_EXECUTOR\","
                          "\"reason\":\"REASON_COMMAND_EXECUTOR_FAILED\",\"message\":\"Command "
                          "exited with status 3\",\"timestamp\":1700000000.25,"
                          "\"uuid\":\"AAECAwQFBgcICQoLDA0ODw==\",\"healthy\":false,"
                          "\"container_status\":{\"executor_pid\":42}}}}",
              &ev);
    assert_int_equal(ev.type, CHR_MESOS_IN_UPDATE);
    struct chr_mesos_update *u = &ev.update;
    assert_string_equal(u->task_id, "ct:1:0:j:");
    assert_string_equal(u->agent_id, "a-1");
    assert_int_equal(u->state, CHR_MESOS_TASK_FAILED);
    assert_string_equal(u->source, "SOURCE_EXECUTOR");
    assert_string_equal(u->reason, "REASON_COMMAND_EXECUTOR_FAILED");
    assert_true(u->timestamp == 1700000000.25);
    assert_true(u->has_uuid);
    for (int i = 0; i < 16; i++)
        assert_int_equal(u->uuid[i], i);
    assert_true(u->has_exit_code);
    assert_int_equal(u->exit_code, 3);

    /* A reconciliation answer: no uuid, no agent, no exit code. */
    decode_ok(UPDATE_HEAD "\"state\":\"TASK_LOST\",\"source\":\"SOURCE_MASTER\","
                          "\"reason\":\"REASON_RECONCILIATION\",\"message\":\"Reconciliation: "
                          "Task is unknown\"}}}",
              &ev);
    assert_int_equal(ev.update.state, CHR_MESOS_TASK_LOST);
    assert_false(ev.update.has_uuid);
    assert_false(ev.update.has_exit_code);
    assert_string_equal(ev.update.agent_id, "");

    /* Every state by its name. */
    for (int s = CHR_MESOS_TASK_STAGING; s <= CHR_MESOS_TASK_UNKNOWN; s++) {
        char json[512];
        snprintf(json, sizeof json, UPDATE_HEAD "\"state\":\"%s\"}}}",
                 chr_mesos_task_state_name((enum chr_mesos_task_state)s));
        decode_ok(json, &ev);
        assert_int_equal(ev.update.state, s);
    }
    assert_int_equal(chr_mesos_task_state_parse("TASK_RUNNING"), CHR_MESOS_TASK_RUNNING);
    assert_int_equal(chr_mesos_task_state_parse("TASK_GONE_BY_OPERATOR"),
                     CHR_MESOS_TASK_GONE_BY_OPERATOR);
}

static void test_update_long_message_cut(void **state)
{
    (void)state;
    char msg[1200], json[1600];
    memset(msg, 'm', 1000);
    snprintf(msg + 1000, sizeof msg - 1000, "Command exited with status 127");
    snprintf(json, sizeof json, UPDATE_HEAD "\"state\":\"TASK_FAILED\",\"message\":\"%s\"}}}", msg);
    struct chr_mesos_event_in ev;
    decode_ok(json, &ev);
    assert_int_equal(strlen(ev.update.message), sizeof ev.update.message - 1);
    assert_true(ev.update.has_exit_code); /* read from the whole message */
    assert_int_equal(ev.update.exit_code, 127);
    /* No status number, or one beyond int32: no exit code. */
    decode_ok(UPDATE_HEAD "\"state\":\"TASK_FAILED\",\"message\":\"Command exited with status "
                          "\"}}}",
              &ev);
    assert_false(ev.update.has_exit_code);
    decode_ok(UPDATE_HEAD "\"state\":\"TASK_FAILED\",\"message\":\"Command exited with status "
                          "99999999999\"}}}",
              &ev);
    assert_false(ev.update.has_exit_code);
    decode_ok(UPDATE_HEAD "\"state\":\"TASK_KILLED\",\"message\":\"Command terminated with "
                          "signal Killed\"}}}",
              &ev);
    assert_false(ev.update.has_exit_code);
}

static void test_update_bad(void **state)
{
    (void)state;
    decode_bad("{\"type\":\"UPDATE\",\"update\":{}}", "update.status", "missing");
    decode_bad("{\"type\":\"UPDATE\",\"update\":{\"status\":{\"state\":\"TASK_RUNNING\"}}}",
               "update.status.task_id", "missing");
    decode_bad(UPDATE_HEAD "\"agent_id\":{\"value\":\"a\"}}}}", "update.status.state", "missing");
    decode_bad(UPDATE_HEAD "\"state\":1}}}", "update.status.state", "not a string");
    decode_bad(UPDATE_HEAD "\"state\":\"TASK_BOGUS\"}}}", "update.status.state",
               "unknown state 'TASK_BOGUS'");
    decode_bad(UPDATE_HEAD "\"state\":\"TASK_RUNNING\",\"uuid\":\"AAECAwQFBgcICQoLDA0O\"}}}",
               "update.status.uuid", "16 bytes");
    decode_bad(UPDATE_HEAD "\"state\":\"TASK_RUNNING\",\"uuid\":\"AAECAwQFBgcICQoLDA0ODxA=\"}}}",
               "update.status.uuid", "16 bytes");
    decode_bad(UPDATE_HEAD "\"state\":\"TASK_RUNNING\",\"uuid\":\"not base64 at all!!!!!!!\"}}}",
               "update.status.uuid", "16 bytes");
    decode_bad(UPDATE_HEAD "\"state\":\"TASK_RUNNING\",\"uuid\":7}}}", "update.status.uuid",
               "not a string");
    decode_bad(UPDATE_HEAD "\"state\":\"TASK_RUNNING\",\"timestamp\":\"soon\"}}}",
               "update.status.timestamp", "not a finite number");
}

/* ---- Offers ------------------------------------------------------------------------ */

static const char REAL_OFFER[] =
    "{" OFFER_HEAD ",\"url\":{\"scheme\":\"http\",\"address\":{\"hostname\":\"h1\","
    "\"ip\":\"10.0.0.5\",\"port\":5051},\"path\":\"/slave(1)\"},"
    "\"allocation_info\":{\"role\":\"chronos\"},"
    "\"resources\":["
    "{\"name\":\"ports\",\"type\":\"RANGES\",\"ranges\":{\"range\":[{\"begin\":31000,"
    "\"end\":32000}]},\"role\":\"*\",\"allocation_info\":{\"role\":\"chronos\"}},"
    "{\"name\":\"cpus\",\"type\":\"SCALAR\",\"scalar\":{\"value\":3.5},\"role\":\"*\","
    "\"allocation_info\":{\"role\":\"chronos\"}},"
    "{\"name\":\"mem\",\"type\":\"SCALAR\",\"scalar\":{\"value\":1024},\"role\":\"chronos\","
    "\"allocation_info\":{\"role\":\"chronos\"},\"reservations\":[{\"type\":\"DYNAMIC\","
    "\"role\":\"chronos\",\"principal\":\"ops\"}]},"
    "{\"name\":\"gpus\",\"type\":\"SCALAR\",\"scalar\":{\"value\":1}},"
    "{\"name\":\"disk\",\"type\":\"SCALAR\",\"scalar\":{\"value\":\"2048.5\"}}],"
    "\"attributes\":["
    "{\"name\":\"rack\",\"type\":\"TEXT\",\"text\":{\"value\":\"r1\"}},"
    "{\"name\":\"cores\",\"type\":\"SCALAR\",\"scalar\":{\"value\":2.5}},"
    "{\"name\":\"whole\",\"type\":\"SCALAR\",\"scalar\":{\"value\":2}},"
    "{\"name\":\"slots\",\"type\":\"RANGES\",\"ranges\":{\"range\":[{\"begin\":1,\"end\":10},"
    "{\"begin\":\"20\",\"end\":\"30\"}]}},"
    "{\"name\":\"zones\",\"type\":\"SET\",\"set\":{\"item\":[\"a\",\"b\"]}}],"
    "\"executor_ids\":[{\"value\":\"e1\"}]}";

static void test_offer_real(void **state)
{
    (void)state;
    struct chr_mesos_offer *o = chr_malloc(sizeof *o);
    struct chr_error err;
    enum chr_err e = offer_result(REAL_OFFER, o, &err);
    if (e != CHR_OK)
        fail_msg("%s", err.message);
    assert_string_equal(o->id, "o-1");
    assert_string_equal(o->agent_id, "a-1");
    assert_string_equal(o->hostname, "h1");
    assert_int_equal(o->n_res, 3); /* ports and gpus skipped */
    assert_string_equal(o->res[0].name, "cpus");
    assert_true(o->res[0].value == 3.5);
    assert_string_equal(o->res[0].role, "*");
    assert_string_equal(o->res[0].alloc_role, "chronos");
    assert_false(o->res[0].reserved);
    assert_null(o->res[0].reservations_json);
    assert_string_equal(o->res[1].name, "mem");
    assert_string_equal(o->res[1].role, "chronos");
    assert_true(o->res[1].reserved);
    json_t *resv = json_loads(o->res[1].reservations_json, 0, NULL);
    assert_true(json_is_array(resv));
    assert_string_equal(json_string_value(json_object_get(json_array_get(resv, 0), "principal")),
                        "ops");
    json_decref(resv);
    assert_string_equal(o->res[2].name, "disk");
    assert_true(o->res[2].value == 2048.5);
    assert_string_equal(o->res[2].role, "*"); /* absent: the default role */
    assert_string_equal(o->res[2].alloc_role, "");
    assert_int_equal(o->n_attrs, 5);
    const char *want[][2] = {{"rack", "r1"},          {"cores", "2.5"}, {"whole", "2"},
                             {"slots", "[1-10,20-30]"}, {"zones", "{a,b}"}};
    for (size_t i = 0; i < 5; i++) {
        assert_string_equal(o->attrs[i].name, want[i][0]);
        assert_string_equal(o->attrs[i].value, want[i][1]);
    }
    chr_mesos_offer_clear(o);
    chr_free(o);
}

/* The pre-refinement form of a dynamic reservation also marks it reserved. */
static void test_offer_old_reservation(void **state)
{
    (void)state;
    struct chr_mesos_offer *o = chr_malloc(sizeof *o);
    struct chr_error err;
    assert_int_equal(
        offer_result("{" OFFER_HEAD ",\"resources\":[{\"name\":\"cpus\",\"type\":\"SCALAR\","
                     "\"scalar\":{\"value\":1},\"role\":\"r\",\"reservation\":{\"principal\":"
                     "\"p\"}}]}",
                     o, &err),
        CHR_OK);
    assert_true(o->res[0].reserved);
    assert_string_equal(o->res[0].role, "r");
    chr_mesos_offer_clear(o);
    chr_free(o);
}

static void test_offer_bad(void **state)
{
    (void)state;
    offer_bad("7", "offers[0]", "not an object");
    offer_bad("{\"agent_id\":{\"value\":\"a\"},\"hostname\":\"h\"}", "offers[0].id", "missing");
    offer_bad("{\"id\":{\"value\":\"o\"},\"hostname\":\"h\"}", "offers[0].agent_id", "missing");
    offer_bad("{\"id\":{\"value\":\"o\"},\"agent_id\":{\"value\":\"a\"}}", "offers[0].hostname",
              "missing");
    offer_bad("{" OFFER_HEAD ",\"resources\":{}}", "offers[0].resources", "not an array");
    offer_bad("{" OFFER_HEAD ",\"resources\":[{\"name\":\"cpus\",\"type\":\"RANGES\"}]}",
              "offers[0].resources[0].type", "cpus must be SCALAR");
    offer_bad("{" OFFER_HEAD ",\"resources\":[{\"name\":\"mem\",\"type\":\"SCALAR\"}]}",
              "offers[0].resources[0].scalar", "missing");
    offer_bad("{" OFFER_HEAD ",\"resources\":[{\"name\":\"mem\",\"type\":\"SCALAR\",\"scalar\":"
              "{\"value\":-1}}]}",
              "offers[0].resources[0].scalar.value", "negative");
    offer_bad("{" OFFER_HEAD ",\"resources\":[{\"name\":\"mem\",\"type\":\"SCALAR\",\"scalar\":"
              "{\"value\":1},\"reservations\":{}}]}",
              "offers[0].resources[0].reservations", "not an array");
    offer_bad("{" OFFER_HEAD ",\"resources\":[{\"type\":\"SCALAR\"}]}",
              "offers[0].resources[0].name", "missing");
    offer_bad("{" OFFER_HEAD ",\"attributes\":[{\"name\":\"x\",\"type\":\"BOGUS\"}]}",
              "offers[0].attributes[0].type", "not SCALAR, RANGES, SET or TEXT");
    offer_bad("{" OFFER_HEAD ",\"attributes\":[{\"name\":\"x\",\"type\":\"TEXT\"}]}",
              "offers[0].attributes[0].text", "missing");
    offer_bad("{" OFFER_HEAD ",\"attributes\":[{\"name\":\"x\",\"type\":\"RANGES\",\"ranges\":"
              "{\"range\":[{\"begin\":-1,\"end\":2}]}}]}",
              "offers[0].attributes[0].ranges.range[0]", "unsigned integers");
    offer_bad("{" OFFER_HEAD ",\"attributes\":[{\"name\":\"x\",\"type\":\"SET\",\"set\":"
              "{\"item\":[1]}}]}",
              "offers[0].attributes[0].set.item[0]", "not a string");
}

/* Bounds of types.h: 64 kept resources, 64 attributes, value text 255. */
static void test_offer_bounds(void **state)
{
    (void)state;
    struct chr_sb b = {0};
    chr_sb_str(&b, "{" OFFER_HEAD ",\"resources\":[");
    for (int i = 0; i < CHR_MESOS_RESOURCES_MAX + 1; i++)
        chr_sb_fmt(&b, "%s{\"name\":\"cpus\",\"type\":\"SCALAR\",\"scalar\":{\"value\":1},"
                       "\"reservations\":[{\"role\":\"r%d\"}]}",
                   i ? "," : "", i);
    chr_sb_str(&b, "]}");
    char *text = chr_sb_finish(&b, NULL);
    offer_bad(text, "offers[0].resources", "more than 64"); /* and no leak (ASan) */
    chr_free(text);

    chr_sb_str(&b, "{" OFFER_HEAD ",\"resources\":[");
    for (int i = 0; i < 100; i++) /* skipped ones do not count */
        chr_sb_fmt(&b, "{\"name\":\"ports\",\"type\":\"RANGES\"},");
    chr_sb_str(&b, "{\"name\":\"cpus\",\"type\":\"SCALAR\",\"scalar\":{\"value\":1}}]}");
    text = chr_sb_finish(&b, NULL);
    struct chr_mesos_offer *o = chr_malloc(sizeof *o);
    struct chr_error err;
    assert_int_equal(offer_result(text, o, &err), CHR_OK);
    assert_int_equal(o->n_res, 1);
    chr_mesos_offer_clear(o);
    chr_free(o);
    chr_free(text);

    chr_sb_str(&b, "{" OFFER_HEAD ",\"attributes\":[");
    for (int i = 0; i < CHR_MESOS_ATTRS_MAX + 1; i++)
        chr_sb_fmt(&b, "%s{\"name\":\"a%d\",\"type\":\"TEXT\",\"text\":{\"value\":\"v\"}}",
                   i ? "," : "", i);
    chr_sb_str(&b, "]}");
    text = chr_sb_finish(&b, NULL);
    offer_bad(text, "offers[0].attributes", "more than 64");
    chr_free(text);

    chr_sb_str(&b, "{" OFFER_HEAD ",\"attributes\":[{\"name\":\"s\",\"type\":\"SET\",\"set\":"
                   "{\"item\":[");
    for (int i = 0; i < 60; i++)
        chr_sb_fmt(&b, "%s\"item%d\"", i ? "," : "", i);
    chr_sb_str(&b, "]}}]}");
    text = chr_sb_finish(&b, NULL);
    offer_bad(text, "offers[0].attributes[0].set", "longer than 255 bytes");
    chr_free(text);

    char name[300], json[600];
    memset(name, 'n', sizeof name);
    snprintf(json, sizeof json,
             "{" OFFER_HEAD ",\"attributes\":[{\"name\":\"%.*s\",\"type\":\"TEXT\",\"text\":"
             "{\"value\":\"v\"}}]}",
             CHR_MESOS_ATTR_NAME_MAX, name);
    offer_bad(json, "offers[0].attributes[0].name", "longer than 127 bytes");
    snprintf(json, sizeof json, "{\"id\":{\"value\":\"o\"},\"agent_id\":{\"value\":\"a\"},"
                                "\"hostname\":\"%.*s\"}",
             CHR_MESOS_HOST_MAX, name);
    offer_bad(json, "offers[0].hostname", "longer than 255 bytes");
}

/* One bad offer among good ones: the good ones decode, the bad one's id is
 * still known (to decline it). */
static void test_offers_one_bad(void **state)
{
    (void)state;
    const char *json =
        "{\"type\":\"OFFERS\",\"offers\":{\"offers\":["
        "{\"id\":{\"value\":\"good-1\"},\"agent_id\":{\"value\":\"a\"},\"hostname\":\"h\"},"
        "{\"id\":{\"value\":\"bad-2\"},\"agent_id\":{\"value\":\"a\"},\"hostname\":\"h\","
        "\"resources\":[{\"name\":\"cpus\",\"type\":\"SCALAR\",\"scalar\":{\"value\":\"x\"}}]},"
        "{\"id\":{\"value\":\"good-3\"},\"agent_id\":{\"value\":\"b\"},\"hostname\":\"h2\"},"
        "{\"agent_id\":{\"value\":\"b\"}}]}}";
    struct chr_mesos_event_in ev;
    decode_ok(json, &ev);
    assert_int_equal(ev.type, CHR_MESOS_IN_OFFERS);
    assert_int_equal(ev.n_offers, 4);
    struct chr_mesos_offer *o = chr_malloc(sizeof *o);
    struct chr_error err;
    assert_int_equal(chr_mesos_event_offer(&ev, 0, o, &err), CHR_OK);
    assert_string_equal(o->id, "good-1");
    chr_mesos_offer_clear(o);
    assert_int_equal(chr_mesos_event_offer(&ev, 1, o, &err), CHR_EINVAL);
    assert_string_equal(o->id, "bad-2");
    assert_string_equal(err.field, "offers[1].resources[0].scalar.value");
    chr_mesos_offer_clear(o);
    assert_int_equal(chr_mesos_event_offer(&ev, 2, o, &err), CHR_OK);
    assert_string_equal(o->id, "good-3");
    assert_string_equal(o->hostname, "h2");
    chr_mesos_offer_clear(o);
    assert_int_equal(chr_mesos_event_offer(&ev, 3, o, &err), CHR_EINVAL);
    assert_string_equal(o->id, "");
    chr_mesos_offer_clear(o);
    chr_free(o);
    chr_mesos_event_free(&ev);
    /* No offers array (only inverse offers): zero offers, not an error. */
    decode_ok("{\"type\":\"OFFERS\",\"offers\":{}}", &ev);
    assert_int_equal(ev.n_offers, 0);
    decode_bad("{\"type\":\"OFFERS\",\"offers\":{\"offers\":{}}}", "offers.offers",
               "not an array");
}

/* ---- Calls ------------------------------------------------------------------------- */

/* Parses an encoded call back (and frees the text). */
static json_t *parsed(enum chr_err e, char **textp, const size_t *lenp,
                      const struct chr_error *err)
{
    char *text = *textp;
    size_t len = *lenp;
    if (e != CHR_OK)
        fail_msg("encode: %s", err->message);
    assert_int_equal(strlen(text), len);
    json_error_t je;
    json_t *j = json_loadb(text, len, JSON_REJECT_DUPLICATES, &je);
    if (j == NULL)
        fail_msg("not JSON: %s (%s)", text, je.text);
    chr_free(text);
    return j;
}

/* The string at a path of object keys and array indexes ("a.b.0.c"). */
static json_t *at(json_t *j, const char *path)
{
    char buf[256];
    snprintf(buf, sizeof buf, "%s", path);
    for (char *p = buf, *dot; p != NULL && j != NULL; p = dot ? dot + 1 : NULL) {
        dot = strchr(p, '.');
        if (dot)
            *dot = '\0';
        j = (p[0] >= '0' && p[0] <= '9') ? json_array_get(j, strtoul(p, NULL, 10))
                                         : json_object_get(j, p);
    }
    return j;
}

static void assert_str_at(json_t *j, const char *path, const char *want)
{
    const char *got = json_string_value(at(j, path));
    if (got == NULL || strcmp(got, want) != 0)
        fail_msg("%s: '%s', want '%s'", path, got ? got : "(none)", want);
}

/* The object at path has exactly the keys of the comma-separated list (in
 * any order): nothing missing, nothing extra (the real master would ignore
 * an extra key silently). */
static void assert_keys(json_t *j, const char *path, const char *keys)
{
    json_t *o = path[0] ? at(j, path) : j;
    if (!json_is_object(o))
        fail_msg("%s: not an object", path);
    size_t want = 0;
    for (const char *k = keys; *k; want++) {
        const char *end = strchr(k, ',');
        size_t n = end ? (size_t)(end - k) : strlen(k);
        char key[64];
        snprintf(key, sizeof key, "%.*s", (int)n, k);
        if (json_object_get(o, key) == NULL)
            fail_msg("%s: no key '%s'", path, key);
        k += n + (end != NULL);
    }
    if (json_object_size(o) != want) {
        char *text = json_dumps(o, JSON_COMPACT);
        fail_msg("%s: %zu keys, want %zu (%s): %s", path, json_object_size(o), want, keys, text);
    }
}

static const struct chr_mesos_framework FW = {
    .user = "root", .name = "chronos", .failover_timeout_s = 604800,
    .hostname = "c1.example", .webui_url = "http://c1.example:4400",
};

static void test_subscribe_new(void **state)
{
    (void)state;
    char *text;
    size_t len;
    struct chr_error err;
    json_t *j = parsed(chr_mesos_encode_subscribe(&FW, NULL, &text, &len, &err), &text, &len, &err);
    assert_keys(j, "", "type,subscribe"); /* no framework_id when new */
    assert_str_at(j, "type", "SUBSCRIBE");
    assert_keys(j, "subscribe", "framework_info");
    assert_keys(j, "subscribe.framework_info",
                "user,name,failover_timeout,checkpoint,hostname,webui_url,capabilities");
    assert_str_at(j, "subscribe.framework_info.user", "root");
    assert_str_at(j, "subscribe.framework_info.name", "chronos");
    assert_true(json_real_value(at(j, "subscribe.framework_info.failover_timeout")) == 604800.0);
    assert_true(json_is_true(at(j, "subscribe.framework_info.checkpoint")));
    assert_str_at(j, "subscribe.framework_info.hostname", "c1.example");
    assert_str_at(j, "subscribe.framework_info.webui_url", "http://c1.example:4400");
    assert_int_equal(json_array_size(at(j, "subscribe.framework_info.capabilities")), 1);
    assert_str_at(j, "subscribe.framework_info.capabilities.0.type", "PARTITION_AWARE");
    json_decref(j);
}

static void test_subscribe_again_with_role(void **state)
{
    (void)state;
    struct chr_mesos_framework fw = FW;
    fw.role = "chronos";
    fw.principal = "chronos-p";
    fw.secret = "s3cret";
    fw.hostname = "";
    char *text;
    size_t len;
    struct chr_error err;
    json_t *j = parsed(chr_mesos_encode_subscribe(&fw, "fw-7", &text, &len, &err), &text, &len, &err);
    assert_keys(j, "", "type,framework_id,subscribe");
    assert_str_at(j, "framework_id.value", "fw-7");
    assert_str_at(j, "subscribe.framework_info.id.value", "fw-7");
    assert_keys(j, "subscribe.framework_info",
                "user,name,failover_timeout,checkpoint,webui_url,principal,id,roles,capabilities");
    assert_str_at(j, "subscribe.framework_info.principal", "chronos-p");
    assert_int_equal(json_array_size(at(j, "subscribe.framework_info.roles")), 1);
    assert_str_at(j, "subscribe.framework_info.roles.0", "chronos");
    json_t *caps = at(j, "subscribe.framework_info.capabilities");
    assert_int_equal(json_array_size(caps), 2);
    bool multi = false, partition = false;
    for (size_t i = 0; i < 2; i++) {
        const char *t = json_string_value(json_object_get(json_array_get(caps, i), "type"));
        multi |= strcmp(t, "MULTI_ROLE") == 0;
        partition |= strcmp(t, "PARTITION_AWARE") == 0;
    }
    assert_true(multi && partition);
    assert_null(at(j, "subscribe.framework_info.role")); /* never role with MULTI_ROLE */
    char *dumped = json_dumps(j, 0);
    assert_null(strstr(dumped, "s3cret")); /* the secret goes in a header only */
    free(dumped);
    json_decref(j);
    /* "*" is the default role: neither roles nor MULTI_ROLE. */
    fw.role = "*";
    j = parsed(chr_mesos_encode_subscribe(&fw, "fw-7", &text, &len, &err), &text, &len, &err);
    assert_null(at(j, "subscribe.framework_info.roles"));
    assert_int_equal(json_array_size(at(j, "subscribe.framework_info.capabilities")), 1);
    json_decref(j);
}

static void expect_encode_error(enum chr_err e, const struct chr_error *err, const char *field)
{
    if (e != CHR_EINVAL || strcmp(err->field, field) != 0)
        fail_msg("%s (field '%s': %s), want EINVAL on '%s'", chr_err_name(e), err->field,
                 err->message, field);
}

static void test_subscribe_bad(void **state)
{
    (void)state;
    char *text = NULL;
    size_t len;
    struct chr_error err;
    struct chr_mesos_framework fw = FW;
    fw.user = "";
    expect_encode_error(chr_mesos_encode_subscribe(&fw, NULL, &text, &len, &err), &err, "user");
    fw = FW;
    fw.name = NULL;
    expect_encode_error(chr_mesos_encode_subscribe(&fw, NULL, &text, &len, &err), &err, "name");
    fw = FW;
    fw.failover_timeout_s = 0;
    expect_encode_error(chr_mesos_encode_subscribe(&fw, NULL, &text, &len, &err), &err,
                        "failover_timeout");
    fw = FW;
    fw.secret = "s";
    expect_encode_error(chr_mesos_encode_subscribe(&fw, NULL, &text, &len, &err), &err, "secret");
    const char *bad_roles[] = {"a b", "-x", "a//b", "a/./b", "..", "a\\b"};
    for (size_t i = 0; i < sizeof bad_roles / sizeof *bad_roles; i++) {
        fw = FW;
        fw.role = bad_roles[i];
        expect_encode_error(chr_mesos_encode_subscribe(&fw, NULL, &text, &len, &err), &err,
                            "role");
    }
    fw = FW;
    fw.role = "eng/batch";
    json_t *j = parsed(chr_mesos_encode_subscribe(&fw, NULL, &text, &len, &err), &text, &len, &err);
    assert_str_at(j, "subscribe.framework_info.roles.0", "eng/batch");
    json_decref(j);
    fw = FW;
    fw.user = "\xff\xfe";
    text = NULL;
    assert_int_equal(chr_mesos_encode_subscribe(&fw, NULL, &text, &len, &err), CHR_EINVAL);
    assert_null(text);
}

static void test_accept(void **state)
{
    (void)state;
    json_t *task = json_pack("{s:s,s:{s:s},s:{s:s},s:{s:s}}", "name", "job1", "task_id", "value",
                             "ct:1700000000000:0:job1:", "agent_id", "value", "a-1", "command",
                             "value", "echo hi");
    json_t *tasks[] = {task};
    char *text;
    size_t len;
    struct chr_error err;
    json_t *j = parsed(chr_mesos_encode_accept("fw-1", "o-1", tasks, 1, 60, &text, &len, &err), &text, &len, &err);
    assert_keys(j, "", "type,framework_id,accept");
    assert_str_at(j, "type", "ACCEPT");
    assert_str_at(j, "framework_id.value", "fw-1");
    assert_keys(j, "accept", "offer_ids,operations,filters");
    assert_int_equal(json_array_size(at(j, "accept.offer_ids")), 1);
    assert_str_at(j, "accept.offer_ids.0.value", "o-1");
    assert_int_equal(json_array_size(at(j, "accept.operations")), 1);
    assert_keys(j, "accept.operations.0", "type,launch");
    assert_str_at(j, "accept.operations.0.type", "LAUNCH");
    assert_keys(j, "accept.operations.0.launch", "task_infos");
    assert_true(json_equal(at(j, "accept.operations.0.launch.task_infos.0"), task));
    assert_keys(j, "accept.filters", "refuse_seconds");
    assert_true(json_number_value(at(j, "accept.filters.refuse_seconds")) == 60.0);
    json_decref(j);
    assert_int_equal(task->refcount, 1); /* borrowed, not kept */

    expect_encode_error(chr_mesos_encode_accept("fw-1", "o-1", tasks, 0, 5, &text, &len, &err),
                        &err, "task_infos");
    expect_encode_error(chr_mesos_encode_accept("fw-1", "", tasks, 1, 5, &text, &len, &err), &err,
                        "offer_id[0]");
    expect_encode_error(chr_mesos_encode_accept("fw-1", "o", tasks, 1, -1, &text, &len, &err),
                        &err, "refuse_seconds");
    expect_encode_error(chr_mesos_encode_accept(NULL, "o", tasks, 1, 5, &text, &len, &err), &err,
                        "framework_id");
    json_t *notobj = json_string("x");
    json_t *two[] = {task, notobj};
    expect_encode_error(chr_mesos_encode_accept("fw-1", "o", two, 2, 5, &text, &len, &err), &err,
                        "task_infos[1]");
    json_decref(notobj);
    json_decref(task);
}

static void test_decline_revive_suppress(void **state)
{
    (void)state;
    const char *ids[] = {"o-1", "o-2"};
    char *text;
    size_t len;
    struct chr_error err;
    json_t *j = parsed(chr_mesos_encode_decline("fw-1", ids, 2, 300, &text, &len, &err), &text, &len, &err);
    assert_keys(j, "", "type,framework_id,decline");
    assert_str_at(j, "type", "DECLINE");
    assert_keys(j, "decline", "offer_ids,filters");
    assert_str_at(j, "decline.offer_ids.1.value", "o-2");
    assert_true(json_number_value(at(j, "decline.filters.refuse_seconds")) == 300.0);
    json_decref(j);
    expect_encode_error(chr_mesos_encode_decline("fw-1", ids, 0, 5, &text, &len, &err), &err,
                        "offer_ids");
    expect_encode_error(chr_mesos_encode_decline("fw-1", ids, 1, 31536001, &text, &len, &err),
                        &err, "refuse_seconds");

    j = parsed(chr_mesos_encode_revive("fw-1", NULL, true, &text, &len, &err), &text, &len, &err);
    assert_keys(j, "", "type,framework_id");
    assert_str_at(j, "type", "REVIVE");
    json_decref(j);
    j = parsed(chr_mesos_encode_revive("fw-1", "*", false, &text, &len, &err), &text, &len, &err);
    assert_keys(j, "", "type,framework_id");
    assert_str_at(j, "type", "SUPPRESS");
    json_decref(j);
    j = parsed(chr_mesos_encode_revive("fw-1", "batch", true, &text, &len, &err), &text, &len, &err);
    assert_keys(j, "", "type,framework_id,revive");
    assert_keys(j, "revive", "roles");
    assert_str_at(j, "revive.roles.0", "batch");
    json_decref(j);
    j = parsed(chr_mesos_encode_revive("fw-1", "batch", false, &text, &len, &err), &text, &len, &err);
    assert_keys(j, "", "type,framework_id,suppress");
    assert_str_at(j, "suppress.roles.0", "batch");
    json_decref(j);
}

static void test_kill_ack_reconcile(void **state)
{
    (void)state;
    char *text;
    size_t len;
    struct chr_error err;
    json_t *j = parsed(chr_mesos_encode_kill("fw-1", "t-1", "a-1", 5000, &text, &len, &err), &text, &len, &err);
    assert_keys(j, "", "type,framework_id,kill");
    assert_str_at(j, "type", "KILL");
    assert_keys(j, "kill", "task_id,agent_id,kill_policy");
    assert_str_at(j, "kill.task_id.value", "t-1");
    assert_str_at(j, "kill.agent_id.value", "a-1");
    assert_keys(j, "kill.kill_policy", "grace_period");
    assert_true(json_is_integer(at(j, "kill.kill_policy.grace_period.nanoseconds")));
    assert_int_equal(json_integer_value(at(j, "kill.kill_policy.grace_period.nanoseconds")),
                     5000000000LL);
    json_decref(j);
    j = parsed(chr_mesos_encode_kill("fw-1", "t-1", NULL, -1, &text, &len, &err), &text, &len, &err);
    assert_keys(j, "kill", "task_id");
    json_decref(j);
    expect_encode_error(chr_mesos_encode_kill("fw-1", "", NULL, -1, &text, &len, &err), &err,
                        "task_id");

    uint8_t uuid[16];
    for (int i = 0; i < 16; i++)
        uuid[i] = (uint8_t)i;
    j = parsed(chr_mesos_encode_acknowledge("fw-1", "a-1", "t-1", uuid, &text, &len, &err), &text, &len, &err);
    assert_keys(j, "", "type,framework_id,acknowledge");
    assert_str_at(j, "type", "ACKNOWLEDGE");
    assert_keys(j, "acknowledge", "agent_id,task_id,uuid");
    assert_str_at(j, "acknowledge.uuid", "AAECAwQFBgcICQoLDA0ODw==");
    json_decref(j);
    expect_encode_error(chr_mesos_encode_acknowledge("fw-1", "", "t", uuid, &text, &len, &err),
                        &err, "agent_id");

    j = parsed(chr_mesos_encode_reconcile("fw-1", NULL, 0, &text, &len, &err), &text, &len, &err);
    assert_keys(j, "", "type,framework_id,reconcile");
    assert_str_at(j, "type", "RECONCILE");
    assert_keys(j, "reconcile", "tasks");
    assert_true(json_is_array(at(j, "reconcile.tasks")));
    assert_int_equal(json_array_size(at(j, "reconcile.tasks")), 0);
    json_decref(j);
    struct chr_mesos_task_ref refs[] = {{"t-1", "a-1"}, {"t-2", NULL}};
    j = parsed(chr_mesos_encode_reconcile("fw-1", refs, 2, &text, &len, &err), &text, &len, &err);
    assert_keys(j, "reconcile.tasks.0", "task_id,agent_id");
    assert_keys(j, "reconcile.tasks.1", "task_id");
    assert_str_at(j, "reconcile.tasks.1.task_id.value", "t-2");
    json_decref(j);
    refs[1].task_id = "";
    expect_encode_error(chr_mesos_encode_reconcile("fw-1", refs, 2, &text, &len, &err), &err,
                        "tasks[1].task_id");
}

/* Every allocation failure in an encoder or the decoder is reported, never
 * a crash or a leak (ASan). */
static void test_alloc_failures(void **state)
{
    (void)state;
    for (long n = 1; n < 40; n++) {
        char *text = NULL;
        size_t len;
        struct chr_error err;
        struct chr_mesos_offer *o = chr_malloc(sizeof *o);
        assert_non_null(o);
        chr_alloc_fail_after(n);
        enum chr_err e = chr_mesos_encode_subscribe(&FW, "fw", &text, &len, &err);
        char buf[8192];
        offers_of(REAL_OFFER, buf, sizeof buf);
        struct chr_mesos_event_in ev;
        enum chr_err e2 = chr_mesos_event_decode(buf, strlen(buf), &ev, &err);
        enum chr_err e3 = e2 == CHR_OK ? chr_mesos_event_offer(&ev, 0, o, &err) : e2;
        chr_alloc_fail_after(-1);
        assert_true(e == CHR_OK || e == CHR_ENOMEM);
        assert_true(e3 == CHR_OK || e3 == CHR_ENOMEM);
        if (e2 == CHR_OK)
            chr_mesos_event_free(&ev);
        chr_mesos_offer_clear(o);
        chr_free(o);
        chr_free(text);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_subscribed),
        cmocka_unit_test(test_subscribed_bad),
        cmocka_unit_test(test_not_an_event),
        cmocka_unit_test(test_small_events),
        cmocka_unit_test(test_update),
        cmocka_unit_test(test_update_long_message_cut),
        cmocka_unit_test(test_update_bad),
        cmocka_unit_test(test_offer_real),
        cmocka_unit_test(test_offer_old_reservation),
        cmocka_unit_test(test_offer_bad),
        cmocka_unit_test(test_offer_bounds),
        cmocka_unit_test(test_offers_one_bad),
        cmocka_unit_test(test_subscribe_new),
        cmocka_unit_test(test_subscribe_again_with_role),
        cmocka_unit_test(test_subscribe_bad),
        cmocka_unit_test(test_accept),
        cmocka_unit_test(test_decline_revive_suppress),
        cmocka_unit_test(test_kill_ack_reconcile),
        cmocka_unit_test(test_alloc_failures),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
