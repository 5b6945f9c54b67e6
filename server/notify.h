/*
 * notify.h - the notification sender: a durable outbox in the store
 * (<root>/outbox/<id>, one node per notification, notify_rec.h's JSON) and
 * a thread per configured sink (mail over SMTP, an HTTP webhook, Slack,
 * Mattermost, Sentry's store API) that delivers it with libcurl.
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

#include <jansson.h>

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
    const char *sentry_dsn;     /* --raven_dsn (notify_rec.h's form); NULL: none */
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

/* The sinks a notice of `kind` about `job` (NULL: none) goes to (bits
 * 1 << sink); 0: none.  The job's notifyEvents, when it has them, say
 * which kinds it tells, else the server's --notify_events do; mail needs
 * an owner. */
uint32_t chr_notify_sinks(const struct chr_notify *n, enum chr_notice_kind kind,
                          const struct chr_job *job);
/* A new id, unique to this sender: "<at_ms>-<hex>". */
void chr_notify_new_id(struct chr_notify *n, int64_t at_ms, char id[CHR_NOTIFY_ID_MAX]);

/* A durable notification to deliver; *rec moves in (emptied). */
void chr_notify_add(struct chr_notify *n, struct chr_notify_rec *rec);

/* `chronos notify test`s in flight at once: each holds a thread per sink
 * for up to CHR_NOTIFY_TEST_TIMEOUT_MAX_MS. */
#define CHR_NOTIFY_TESTS_MAX 4
/* One sink's bound in a test, whatever --notify_timeout_ms says: below the
 * 30 s a client and a standby's proxy wait for an answer, and below the 10 s
 * that stopping the HTTP server waits for answers still owed (api/http.c
 * STOP_WAIT_MS), so that a test in flight at a stop answers before its
 * connection goes. */
#define CHR_NOTIFY_TEST_TIMEOUT_MAX_MS 8000

/* What a test notification met, sink by sink (bits 1 << sink). */
struct chr_notify_test_result {
    uint32_t tried;   /* the configured sinks */
    uint32_t sent;    /* those that took it (2xx, SMTP accepted) */
    uint32_t skipped; /* not sent: mail without a recipient */
    char answers[CHR_SINKS][256]; /* what each answered, or why it failed */
};
/* Called once with the outcome, on the test's thread; `id` is the test
 * notification's id. */
typedef void chr_notify_test_fn(void *ctx, const char *id,
                                const struct chr_notify_test_result *res);

/* Sends *rec (moved in, emptied; a TEST record) once through every
 * configured sink at once, each on a thread of its own and bounded by
 * min(timeout_ms, CHR_NOTIFY_TEST_TIMEOUT_MAX_MS), outside the outbox (it is
 * not retried).  CHR_OK: done is called once, from another thread;
 * CHR_ERANGE (CHR_NOTIFY_TESTS_MAX in flight), CHR_EUNAVAIL (stopping),
 * CHR_ENOMEM: done is never called. */
enum chr_err chr_notify_test_start(struct chr_notify *n, struct chr_notify_rec *rec,
                                   chr_notify_test_fn *done, void *ctx);
/* The answer of POST /v1/notify/test: {"ok", "id", "job", "sinks": [{"sink",
 * "result": sent|failed|skipped, "answer"}], "message" when no sink is
 * configured}.  ok: every sink took it or was skipped, and one took it.  A
 * new reference (NULL on ENOMEM); id and job may be NULL. */
json_t *chr_notify_test_json(const char *id, const char *job,
                             const struct chr_notify_test_result *r);

#endif
