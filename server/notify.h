/*
 * notify.h - the notification sender: a durable outbox in the store
 * (<root>/outbox/<id>, one node per notification, notify_rec.h's JSON) and
 * a thread per configured sink (mail over SMTP, an HTTP webhook, Slack,
 * Mattermost) that delivers it with libcurl.
 *
 * The guarantees (docs/operations.md "Notifications"): the loop writes a
 * notification's node in the same store batch as the change that causes
 * it, and hands it to the sender once that batch is durable
 * (chr_notify_add); at start the sender takes every node left in the outbox
 * (a crash, a failover).  Each sink retries with a jittered, capped
 * exponential backoff until it gets a 2xx (or an SMTP 250); the node then
 * records the sinks still to go and is deleted when none is left.  So each
 * notification reaches each sink at least once, with its id (a header and
 * a member of the body) for receivers to drop duplicates.  A sink that is
 * down or hangs (each attempt is bounded by timeout_ms) holds up only its
 * own thread, never the scheduler.  The outbox is bounded (outbox_max): past
 * it the oldest notification is dropped, counted and logged.
 *
 * Threads: every function may be called from any thread.
 */
#ifndef CHR_SERVER_NOTIFY_H
#define CHR_SERVER_NOTIFY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "api/metrics.h"
#include "api/sched.h"
#include "common/err.h"
#include "server/notify_rec.h"
#include "zkstore/store.h"

#define CHR_KIND_OUTBOX "outbox"

/* Everything borrowed: it must outlive the sender. */
struct chr_notify_config {
    const char *cluster;        /* --cluster_name; "" none */
    const char *link_base;      /* --webui_url or http://host:port */
    const char *mail_server;    /* host:port; NULL: no mail */
    const char *mail_from, *mail_user, *mail_password; /* NULL: none */
    bool mail_ssl;              /* SMTPS (TLS from the start); else STARTTLS when offered
                                 * (required when a user is set) */
    const char *http_url;       /* --http_notification_url; NULL: none */
    const char *http_credentials; /* user:password; NULL: none */
    const char *hmac_key;       /* signs the webhook body (X-Chronos-Signature); NULL: none */
    const char *slack_url, *mattermost_url;
    uint32_t events;            /* the kinds this server tells (1 << kind) */
    int64_t timeout_ms;         /* one attempt at most (connect + transfer) */
    int64_t backoff_ms, backoff_max_ms;
    size_t outbox_max;
    struct chr_run_output output; /* a run's stderr (open NULL: none) */
    bool verbose;
};

struct chr_notify;

/* Whether any sink is configured. */
bool chr_notify_configured(const struct chr_notify_config *cfg);

/* Starts the sender on `store` under `root`: creates <root>/outbox when
 * missing, takes the notifications left there and starts a thread per
 * sink.  metrics (may be NULL) receives its counters. */
enum chr_err chr_notify_start(const struct chr_notify_config *cfg, struct chr_store *store,
                              const char *root, struct chr_metrics *metrics,
                              struct chr_notify **out, struct chr_error *err);
/* Stops the threads (an attempt in flight is aborted) and frees; NULL
 * allowed.  What is undelivered stays in the outbox. */
void chr_notify_stop(struct chr_notify *n);

/* The sinks a notice of `kind` for a job with `owner` goes to (bits
 * 1 << sink); 0: none (the server does not tell that kind, or no sink fits:
 * mail needs an owner). */
uint32_t chr_notify_sinks(const struct chr_notify *n, enum chr_notice_kind kind,
                          const char *owner);
/* A new id, unique to this sender: "<at_ms>-<hex>". */
void chr_notify_new_id(struct chr_notify *n, int64_t at_ms, char id[CHR_NOTIFY_ID_MAX]);

/* A durable notification to deliver; *rec moves in (emptied). */
void chr_notify_add(struct chr_notify *n, struct chr_notify_rec *rec);

/* Sends rec through every configured sink now, once, on the caller's
 * thread (bounded by timeout_ms per sink); answers[s] says what sink s
 * answered.  Returns the bits of the sinks that were tried. */
uint32_t chr_notify_test(struct chr_notify *n, const struct chr_notify_rec *rec,
                         char answers[CHR_SINKS][256]);

#endif
