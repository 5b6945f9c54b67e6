/*
 * codec.h - the JSON of the Mesos v1 scheduler API (Debian's mesos-go
 * protos, ~Mesos 1.5): Events decoded into the plain data of types.h, Calls
 * encoded with the exact proto field names (stout's JSON: enums by name,
 * bytes in base64, ids as {"value": ...}).
 *
 * Pure: no I/O, no clock, no thread, no log.  Everything a master sends is
 * bounded and checked; a refusal names the field ("offers[3].resources:
 * more than 64").  Calls are built from values the caller checked already
 * (ids, the framework's settings), and checked again here.
 */
#ifndef CHR_OFFERS_MESOS_CODEC_H
#define CHR_OFFERS_MESOS_CODEC_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/err.h"
#include "offers/mesos/types.h"

/* Offer ids in one DECLINE, task infos in one ACCEPT, tasks in one explicit
 * RECONCILE: far above what one step of the core produces, low enough that
 * a call stays well under a megabyte. */
#define CHR_MESOS_DECLINE_MAX 1024
#define CHR_MESOS_ACCEPT_TASKS_MAX 256
#define CHR_MESOS_RECONCILE_MAX 4096
/* Filters.refuse_seconds: Mesos caps it at a year. */
#define CHR_MESOS_REFUSE_MAX_S 31536000.0
/* An ERROR event's message, and a framework setting (user, name, host...). */
#define CHR_MESOS_MESSAGE_MAX 512
#define CHR_MESOS_SETTING_MAX 1024

/* What the framework says of itself in SUBSCRIBE.  Strings are borrowed. */
struct chr_mesos_framework {
    const char *user, *name;  /* required */
    const char *role;         /* NULL or "*": the default role */
    const char *hostname, *webui_url, *principal; /* NULL or "": left out */
    const char *secret;       /* HTTP basic auth with principal (not in JSON) */
    double failover_timeout_s; /* > 0 */
};

/* ---- Events ------------------------------------------------------------------ */

enum chr_mesos_in_type {
    CHR_MESOS_IN_SUBSCRIBED = 1,
    CHR_MESOS_IN_OFFERS,
    CHR_MESOS_IN_RESCIND,
    CHR_MESOS_IN_UPDATE,
    CHR_MESOS_IN_FAILURE,
    CHR_MESOS_IN_ERROR,
    CHR_MESOS_IN_HEARTBEAT,
    CHR_MESOS_IN_IGNORED, /* a type we do not act on (INVERSE_OFFERS, MESSAGE,
                           * UPDATE_OPERATION_STATUS...): name in ignored */
};

/*
 * One decoded Event.  Offers are decoded one at a time on demand
 * (chr_mesos_event_offer), so an event of thousands of offers never needs
 * thousands of offer structs; the event keeps the parsed JSON until
 * chr_mesos_event_free.
 */
struct chr_mesos_event_in {
    enum chr_mesos_in_type type;
    char framework_id[CHR_MESOS_ID_MAX]; /* SUBSCRIBED */
    double heartbeat_s;                  /* SUBSCRIBED; 0 when absent */
    size_t n_offers;                     /* OFFERS */
    char offer_id[CHR_MESOS_ID_MAX];     /* RESCIND */
    struct chr_mesos_update update;      /* UPDATE */
    char agent_id[CHR_MESOS_ID_MAX];     /* FAILURE ("" when absent) */
    char message[CHR_MESOS_MESSAGE_MAX]; /* ERROR (cut to fit) */
    char ignored[64];                    /* IGNORED: the type's name (cut) */
    json_t *offers_;                     /* private: the offers array */
};

/*
 * Decodes one event (len bytes of JSON).  CHR_OK with *ev filled (free it
 * with chr_mesos_event_free); CHR_EINVAL with err naming the field (the
 * event is unusable, nothing to free); CHR_ENOMEM.
 */
enum chr_err chr_mesos_event_decode(const char *json, size_t len, struct chr_mesos_event_in *ev,
                                    struct chr_error *err);
/* Frees what the event holds (not the struct).  Safe on a zeroed event. */
void chr_mesos_event_free(struct chr_mesos_event_in *ev);

/*
 * Decodes offer i (< ev->n_offers) of an OFFERS event into *out, which the
 * caller releases with chr_mesos_offer_clear (also after a failure).
 * CHR_OK; CHR_EINVAL with err naming the field ("offers[3].hostname: ...")
 * and out->id set when the offer's id itself was readable, "" otherwise (so
 * the bad offer can still be declined); CHR_ENOMEM.
 */
enum chr_err chr_mesos_event_offer(const struct chr_mesos_event_in *ev, size_t i,
                                   struct chr_mesos_offer *out, struct chr_error *err);
/* Frees an offer's reservations texts and empties it. */
void chr_mesos_offer_clear(struct chr_mesos_offer *o);

/* TaskState from and to its proto name; 0 / NULL for an unknown one. */
enum chr_mesos_task_state chr_mesos_task_state_parse(const char *name);
const char *chr_mesos_task_state_name(enum chr_mesos_task_state s);

/* ---- Calls -------------------------------------------------------------------- */

/*
 * Each encoder writes one Call as compact JSON into *out (chr_malloc'd,
 * NUL-terminated, length in *len; the caller frees).  `framework_id` is the
 * top-level id (required except for a first SUBSCRIBE).  CHR_OK; CHR_EINVAL
 * with err naming the argument (an empty or too long id, a refuse time out
 * of [0, 1 year], too many items, a task info that is not an object);
 * CHR_ENOMEM.  A configured role other than "*" makes SUBSCRIBE ask for
 * MULTI_ROLE with `roles` (never `role`), and REVIVE/SUPPRESS name it.
 */
enum chr_err chr_mesos_encode_subscribe(const struct chr_mesos_framework *fw,
                                        const char *framework_id, char **out, size_t *len,
                                        struct chr_error *err);
/* One LAUNCH of n (1..CHR_MESOS_ACCEPT_TASKS_MAX) TaskInfo objects,
 * embedded as they are (borrowed, not changed). */
enum chr_err chr_mesos_encode_accept(const char *framework_id, const char *offer_id,
                                     json_t *const *task_infos, size_t n, double refuse_s,
                                     char **out, size_t *len, struct chr_error *err);
enum chr_err chr_mesos_encode_decline(const char *framework_id, const char *const *offer_ids,
                                      size_t n, double refuse_s, char **out, size_t *len,
                                      struct chr_error *err);
/* REVIVE (revive true) or SUPPRESS; role NULL or "*": no roles named. */
enum chr_err chr_mesos_encode_revive(const char *framework_id, const char *role, bool revive,
                                     char **out, size_t *len, struct chr_error *err);
/* agent_id NULL or "": left out; grace_ms < 0: no kill_policy. */
enum chr_err chr_mesos_encode_kill(const char *framework_id, const char *task_id,
                                   const char *agent_id, int64_t grace_ms, char **out,
                                   size_t *len, struct chr_error *err);
enum chr_err chr_mesos_encode_acknowledge(const char *framework_id, const char *agent_id,
                                          const char *task_id, const uint8_t uuid[16],
                                          char **out, size_t *len, struct chr_error *err);
/* n == 0: implicit reconciliation (an empty tasks array). */
enum chr_err chr_mesos_encode_reconcile(const char *framework_id,
                                        const struct chr_mesos_task_ref *tasks, size_t n,
                                        char **out, size_t *len, struct chr_error *err);


#endif
