/*
 * client.h - the Mesos v1 scheduler HTTP client: subscribes chronos as a
 * framework (one long-lived SUBSCRIBE stream of RecordIO events), delivers
 * the events it needs (subscribed, offers one by one, rescinds, status
 * updates, failures, errors, disconnections) and sends the calls it makes
 * (ACCEPT, DECLINE, REVIVE, SUPPRESS, KILL, ACKNOWLEDGE, RECONCILE).  libcurl
 * and jansson; no libmesos.
 *
 * One thread of its own runs both connections through one curl multi
 * handle: the stream (its own connection, never reused, never carrying a
 * Mesos-Stream-Id) and the calls (posted one at a time, in the order they
 * were made, on a keep-alive connection, with the current stream's id).
 * It finds the master from --mesos_master (a host:port, http://host:port,
 * or zk:// through master.h, resubscribing when the leader changes),
 * follows 307 redirects, backs off with jitter after failures, watches the
 * stream's heartbeats and resubscribes with the framework id it was given
 * last.  It never sends TEARDOWN: stopping only closes the connections,
 * and the master keeps the tasks for the failover timeout.
 */
#ifndef CHR_OFFERS_MESOS_CLIENT_H
#define CHR_OFFERS_MESOS_CLIENT_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/err.h"
#include "common/limits.h"
#include "offers/mesos/codec.h"
#include "offers/mesos/types.h"

/* Calls queued and not yet posted: a master that stops answering must not
 * make us hold an unbounded backlog (beyond it calls are refused). */
#define CHR_MESOS_CALLS_QUEUED_MAX 4096

enum chr_mesos_event_type {
    CHR_MESOS_EV_SUBSCRIBED = 1, /* u.subscribed: a (re)subscription is live */
    CHR_MESOS_EV_DISCONNECTED,   /* u.reason: the subscription ended (or was refused
                                  * by an ERROR event); calls are refused until the
                                  * next SUBSCRIBED */
    CHR_MESOS_EV_OFFER,          /* u.offer: one per offer of an OFFERS event */
    CHR_MESOS_EV_RESCIND,        /* u.offer_id */
    CHR_MESOS_EV_UPDATE,         /* u.update: acknowledge it if has_uuid */
    CHR_MESOS_EV_FAILURE,        /* u.agent_id ("" when an executor failed) */
    CHR_MESOS_EV_ERROR,          /* u.reason: the master's ERROR message ("Framework
                                  * failed over"...); a DISCONNECTED follows */
};

struct chr_mesos_event {
    enum chr_mesos_event_type type;
    union {
        struct {
            const char *framework_id; /* persist it: later SUBSCRIBEs reuse it */
            double heartbeat_s;
            const char *master;       /* "host:port" the stream is on */
        } subscribed;
        const char *reason;           /* DISCONNECTED, ERROR */
        const struct chr_mesos_offer *offer;
        const char *offer_id;         /* RESCIND */
        const struct chr_mesos_update *update;
        const char *agent_id;         /* FAILURE */
    } u;
};

/* Called on the client's thread, one event at a time, in the stream's order;
 * must be quick, must not block and must not call chr_mesos_client_stop (it
 * may make calls: they only queue).  Pointers are valid during the call only. */
typedef void chr_mesos_event_fn(void *ctx, const struct chr_mesos_event *ev);

struct chr_mesos_client_config {
    const char *master;             /* "host:port", "http://host:port" or "zk://..." */
    struct chr_mesos_framework fw;  /* copied; secret: HTTP basic auth principal:secret */
    const char *framework_id;       /* NULL or "": register anew */
    int64_t backoff_max_ms;         /* 0: 15000 */
    uint64_t jitter_seed;           /* 0: from the clock (tests fix it) */
    chr_mesos_event_fn *on_event;   /* required */
    void *ctx;
};

struct chr_mesos_client_stats {
    bool subscribed;
    char framework_id[CHR_MESOS_ID_MAX];           /* "" until known */
    char master[CHR_MESOS_MASTER_HOSTPORT_MAX];    /* of the last SUBSCRIBED */
    uint64_t subscribe_attempts, subscriptions;    /* SUBSCRIBEs sent, SUBSCRIBED received */
    uint64_t calls_sent;      /* answered 202 */
    uint64_t calls_failed;    /* any other answer, or none */
    uint64_t calls_dropped;   /* queued, then the subscription ended */
    uint64_t redirects, heartbeats;
    uint64_t events_bad;      /* refused by the decoder, skipped (logged) */
    int64_t last_event_age_ms; /* -1: no event yet */
};

struct chr_mesos_client;

/* ---- Lifecycle --------------------------------------------------------------------- */

/*
 * Checks the configuration (master URL, framework settings as SUBSCRIBE
 * needs them) and starts the client's thread, which subscribes at once.
 * CHR_OK with *out set; CHR_EINVAL with err naming the setting; CHR_ENOMEM;
 * CHR_EIO (libcurl or a thread could not start).  On failure nothing runs
 * and *out is untouched (NULL after a failed thread start).  *out is set
 * before the thread starts, so on_event may use it from the first event
 * on (the thread may subscribe before this returns).
 */
enum chr_err chr_mesos_client_start(const struct chr_mesos_client_config *cfg,
                                    struct chr_mesos_client **out, struct chr_error *err);
/* Closes the connections, joins the thread and frees everything (queued
 * calls are dropped).  No callback runs after it returns.  Never sends
 * TEARDOWN.  NULL allowed. */
void chr_mesos_client_stop(struct chr_mesos_client *c);

/* ---- Calls --------------------------------------------------------------------------- */
/*
 * Thread-safe and never blocking: each encodes the call and queues it.
 * CHR_OK queued; CHR_EUNAVAIL not subscribed (or the queue is full, or the
 * client is stopping): dropped, except KILL, which is kept and sent after the
 * next SUBSCRIBED when a framework id is known; CHR_EINVAL a bad argument
 * (err says which, may be NULL); CHR_ENOMEM.  An answer other than 202 is
 * logged and counted (stats), and a 403 ends the subscription (resubscribe).
 * Calls still queued when a subscription ends are dropped (KILL aside):
 * offers die with the subscription, updates are sent again until
 * acknowledged, and reconciliation follows every SUBSCRIBED.
 */
/* task_infos: n TaskInfo objects (borrowed: embedded in the call as they are). */
enum chr_err chr_mesos_accept(struct chr_mesos_client *c, const char *offer_id,
                              json_t *const *task_infos, size_t n, double refuse_s,
                              struct chr_error *err);
enum chr_err chr_mesos_decline(struct chr_mesos_client *c, const char *const *offer_ids,
                               size_t n, double refuse_s, struct chr_error *err);
/* Both name the configured role when it is not "*". */
enum chr_err chr_mesos_suppress(struct chr_mesos_client *c);
enum chr_err chr_mesos_revive(struct chr_mesos_client *c);
/* agent_id may be NULL; grace_ms < 0: no kill policy. */
enum chr_err chr_mesos_kill(struct chr_mesos_client *c, const char *task_id,
                            const char *agent_id, int64_t grace_ms, struct chr_error *err);
enum chr_err chr_mesos_acknowledge(struct chr_mesos_client *c, const char *agent_id,
                                   const char *task_id, const uint8_t uuid[16],
                                   struct chr_error *err);
/* n == 0: implicit reconciliation. */
enum chr_err chr_mesos_reconcile(struct chr_mesos_client *c,
                                 const struct chr_mesos_task_ref *tasks, size_t n,
                                 struct chr_error *err);

/* ---- Queries ------------------------------------------------------------------------- */

/* A consistent copy of the counters.  Any thread. */
void chr_mesos_client_stats(struct chr_mesos_client *c, struct chr_mesos_client_stats *out);

#endif
