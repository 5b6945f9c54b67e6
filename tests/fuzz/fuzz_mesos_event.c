/*
 * fuzz_mesos_event.c - libFuzzer target for the Mesos event decoder
 * (offers/mesos/codec.h: chr_mesos_event_decode, chr_mesos_event_offer),
 * which reads what any master, or anything answering in its place, sends.
 *
 * The input is one event's JSON.  Checked: no crash, no leak; a refusal is
 * CHR_EINVAL (or CHR_ENOMEM) whose message starts with its field; every
 * decoded string is NUL-terminated inside its array and every count within
 * the bounds of types.h; an offer refused names "offers[i]" in its field;
 * every id the decoder hands out is one the call encoders accept (so the
 * client can always decline an offer or acknowledge an update), and an
 * update's uuid survives the ACKNOWLEDGE encoding.
 */
#include "fuzz_check.h"

#include <jansson.h>

#include "common/alloc.h"
#include "common/base64.h"
#include "offers/mesos/codec.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define TERMINATED(arr) (memchr((arr), '\0', sizeof(arr)) != NULL)

static void check_offer(const struct chr_mesos_offer *o)
{
    FUZZ_CHECK(TERMINATED(o->id) && TERMINATED(o->agent_id) && TERMINATED(o->hostname),
               "offer strings not terminated");
    FUZZ_CHECK(o->id[0] && o->agent_id[0] && o->hostname[0], "an offer with an empty id");
    FUZZ_CHECK(o->n_res <= CHR_MESOS_RESOURCES_MAX && o->n_attrs <= CHR_MESOS_ATTRS_MAX,
               "%zu resources, %zu attributes", o->n_res, o->n_attrs);
    for (size_t i = 0; i < o->n_res; i++) {
        const struct chr_mesos_resource *r = &o->res[i];
        FUZZ_CHECK(TERMINATED(r->name) && TERMINATED(r->role) && TERMINATED(r->alloc_role),
                   "resource strings not terminated");
        FUZZ_CHECK(r->value >= 0 && r->role[0] != '\0', "resource %zu: value or role", i);
        if (r->reservations_json != NULL) {
            json_t *j = json_loads(r->reservations_json, 0, NULL);
            FUZZ_CHECK(json_is_array(j), "reservations are not an array: %s",
                       r->reservations_json);
            json_decref(j);
        }
    }
    for (size_t i = 0; i < o->n_attrs; i++)
        FUZZ_CHECK(TERMINATED(o->attrs[i].name) && TERMINATED(o->attrs[i].value),
                   "attribute strings not terminated");
    char *text = NULL;
    const char *id = o->id;
    enum chr_err e = chr_mesos_encode_decline("fw", &id, 1, 5, &text, NULL, NULL);
    FUZZ_CHECK(e == CHR_OK || e == CHR_ENOMEM, "offer id '%s' cannot be declined", o->id);
    chr_free(text);
}

static void check_offers(const struct chr_mesos_event_in *ev)
{
    struct chr_mesos_offer *o = chr_malloc(sizeof *o);
    FUZZ_CHECK(o != NULL, "out of memory");
    for (size_t i = 0; i < ev->n_offers && i < 256; i++) {
        struct chr_error err;
        fuzz_poison_error(&err);
        enum chr_err e = chr_mesos_event_offer(ev, i, o, &err);
        if (e == CHR_OK) {
            check_offer(o);
        } else if (e != CHR_ENOMEM) {
            fuzz_check_parse_error(e, &err, "(an offer)");
            char want[32];
            snprintf(want, sizeof want, "offers[%zu]", i);
            FUZZ_CHECK(strncmp(err.field, want, strlen(want)) == 0, "offer %zu refused as '%s'",
                       i, err.field);
            FUZZ_CHECK(TERMINATED(o->id), "a refused offer's id is not terminated");
        }
        chr_mesos_offer_clear(o);
    }
    chr_free(o);
}

static void check_update(const struct chr_mesos_update *u)
{
    FUZZ_CHECK(TERMINATED(u->task_id) && TERMINATED(u->agent_id) && TERMINATED(u->reason) &&
                   TERMINATED(u->source) && TERMINATED(u->message),
               "update strings not terminated");
    FUZZ_CHECK(chr_mesos_task_state_name(u->state) != NULL, "state %d", (int)u->state);
    if (!u->has_uuid || u->agent_id[0] == '\0')
        return;
    char *text = NULL;
    enum chr_err e = chr_mesos_encode_acknowledge("fw", u->agent_id, u->task_id, u->uuid, &text,
                                                  NULL, NULL);
    FUZZ_CHECK(e == CHR_OK || e == CHR_ENOMEM, "an update cannot be acknowledged");
    if (e != CHR_OK)
        return;
    json_t *j = json_loads(text, 0, NULL);
    const char *b64 = json_string_value(json_object_get(json_object_get(j, "acknowledge"), "uuid"));
    uint8_t back[16];
    FUZZ_CHECK(b64 != NULL && chr_base64_decode(b64, strlen(b64), back, sizeof back, true) == 16 &&
                   memcmp(back, u->uuid, 16) == 0,
               "the uuid changed in ACKNOWLEDGE");
    json_decref(j);
    chr_free(text);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 1 << 16)
        return 0;
    struct chr_mesos_event_in ev;
    struct chr_error err;
    fuzz_poison_error(&err);
    enum chr_err e = chr_mesos_event_decode((const char *)data, size, &ev, &err);
    if (e != CHR_OK) {
        if (e != CHR_ENOMEM)
            fuzz_check_parse_error(e, &err, "(an event)");
        FUZZ_CHECK(ev.offers_ == NULL, "a refused event holds offers");
        return 0;
    }
    FUZZ_CHECK(TERMINATED(ev.framework_id) && TERMINATED(ev.offer_id) &&
                   TERMINATED(ev.agent_id) && TERMINATED(ev.message) && TERMINATED(ev.ignored),
               "event strings not terminated");
    if (ev.type == CHR_MESOS_IN_SUBSCRIBED)
        FUZZ_CHECK(ev.framework_id[0] != '\0' && ev.heartbeat_s >= 0, "SUBSCRIBED");
    if (ev.type == CHR_MESOS_IN_OFFERS)
        check_offers(&ev);
    if (ev.type == CHR_MESOS_IN_UPDATE)
        check_update(&ev.update);
    chr_mesos_event_free(&ev);
    return 0;
}
