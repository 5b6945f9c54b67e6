/*
 * notify_rec.h - a notification as the outbox keeps it (the JSON of an
 * <root>/outbox/<id> node), and what is made of it for each sink: the
 * subject, the text of a mail or chat message, the webhook's JSON body; and
 * the retry backoff.
 *
 * Pure functions (no I/O, no clock): the sender (notify.c) does the I/O.
 * The decoder takes store data, so it bounds and validates everything and
 * names the bad field (tests/fuzz/fuzz_notify.c).
 */
#ifndef CHR_SERVER_NOTIFY_REC_H
#define CHR_SERVER_NOTIFY_REC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/err.h"
#include "scheduler/core.h"

/* The sinks, in the order of the bits of chr_notify_rec.sinks. */
enum chr_notify_sink {
    CHR_SINK_MAIL = 0,
    CHR_SINK_WEBHOOK,
    CHR_SINK_SLACK,
    CHR_SINK_MATTERMOST,
    CHR_SINK_SENTRY,
    CHR_SINKS
};
const char *chr_notify_sink_name(enum chr_notify_sink s);

/* An outbox node is at most this big: a record holds a job's command cut to
 * CHR_NOTIFY_TEXT_MAX, its owners and a few numbers. */
#define CHR_NOTIFY_REC_MAX (64 * 1024)
/* Any one text of a record (command, owner, a Chronos field). */
#define CHR_NOTIFY_TEXT_MAX 4096
/* The id: "<at_ms, 13 digits>-<16 hex digits>", sortable by time. */
#define CHR_NOTIFY_ID_MAX 48
/* Chronos's body fields a record carries (13 of them). */
#define CHR_NOTIFY_FIELDS_MAX 16

/* The events a server or a job may switch, for messages. */
#define CHR_NOTIFY_EVENT_LIST CHR_NOTICE_SWITCHABLE_NAMES

/* "failed", "disabled", ...: the kind's name (flags, payloads); NULL if
 * none.  The core's table (chr_notice_kind_name). */
const char *chr_notify_event_name(enum chr_notice_kind k);
/* The kind named `name` (0 when none). */
enum chr_notice_kind chr_notify_event_of(const char *name, size_t len);
/* A comma-separated list of event names, "all" or "none", as a mask of
 * (1 << kind); false (with err naming `field`) on an unknown name. */
bool chr_notify_events_parse(const char *list, const char *field, uint32_t *mask,
                             struct chr_error *err);

struct chr_notify_field {
    char name[32];
    char *value; /* chr_malloc'd */
};

struct chr_notify_rec {
    char id[CHR_NOTIFY_ID_MAX];
    enum chr_notice_kind kind;
    int64_t at_ms;
    char job[CHR_JOB_NAME_MAX + 1];
    char *owner;                /* chr_malloc'd; comma/space separated addresses */
    char run_id[CHR_RUN_ID_MAX];/* "" when none */
    int32_t attempt, exit_code;
    int64_t started_ms, ended_ms; /* INT64_MIN: never */
    char reason[CHR_RUN_REASON_MAX];
    int64_t count, first_ms, last_ms;
    uint32_t sinks;             /* bits (1 << sink) still to deliver */
    struct chr_notify_field fields[CHR_NOTIFY_FIELDS_MAX]; /* Chronos's body fields */
    size_t n_fields;
};

void chr_notify_rec_free(struct chr_notify_rec *r); /* NULL allowed; leaves it empty */

/* A record of `n` (the job's fields taken from n->job and n->stats), for
 * sinks.  CHR_ENOMEM leaves *out empty. */
enum chr_err chr_notify_rec_make(const struct chr_notice *n, const char *id, int64_t at_ms,
                                 uint32_t sinks, struct chr_notify_rec *out);
/* The record's JSON (chr_malloc'd, at most CHR_NOTIFY_REC_MAX); NULL on
 * ENOMEM. */
char *chr_notify_rec_encode(const struct chr_notify_rec *r, size_t *len);
/* Parses an outbox node into *out (empty on error; chr_notify_rec_free). */
enum chr_err chr_notify_rec_decode(const char *text, size_t len, struct chr_notify_rec *out,
                                   struct chr_error *err);

/* What a message needs besides the record. */
struct chr_notify_render {
    const char *cluster;    /* --cluster_name; "" or NULL: none */
    const char *link_base;  /* "http://host:port" (--webui_url); NULL: no link */
    const char *stderr_tail;/* the run's last lines of stderr; NULL: none */
};

/* "[<cluster>] [Chronos] job 'x' failed!" into buf (cut to cap). */
void chr_notify_subject(const struct chr_notify_rec *r, const char *cluster, char *buf,
                        size_t cap);
/* The text of a mail or chat message (chr_malloc'd; NULL on ENOMEM). */
char *chr_notify_text(const struct chr_notify_rec *r, const struct chr_notify_render *how);
/* The webhook's JSON body: Chronos's string members (subject, message, to,
 * job, command, ...) plus ours (id, event, runId, exitCode, reason,
 * durationMs, stderr, link); chr_malloc'd, NULL on ENOMEM. */
char *chr_notify_webhook_body(const struct chr_notify_rec *r, const struct chr_notify_render *how,
                              size_t *len);
/* Slack's and Mattermost's incoming-webhook body: {"text": ...}. */
char *chr_notify_chat_body(const struct chr_notify_rec *r, const struct chr_notify_render *how,
                           size_t *len);

/* A Sentry DSN (--raven_dsn), "<scheme>://<key>[:<secret>]@<host>[:<port>]
 * [/<path>]/<project_id>", as the sender uses it. */
struct chr_sentry_dsn {
    char store_url[1024]; /* <scheme>://<host>[:<port>][/<path>]/api/<project_id>/store/ */
    char key[128], secret[128]; /* secret "" when none (it is deprecated) */
};
/* Parses `dsn` (http or https, a key, a numeric project id; no query or
 * fragment); CHR_EINVAL naming `field` otherwise. */
enum chr_err chr_notify_sentry_dsn(const char *dsn, const char *field, struct chr_sentry_dsn *out,
                                   struct chr_error *err);
/* Sentry's store API body: an event of level error whose message is the
 * subject and text, tags job, cluster and event, extras the run's figures;
 * its event_id is made from the record's id, so that Sentry drops a
 * redelivery as a duplicate.  chr_malloc'd; NULL on ENOMEM. */
char *chr_notify_sentry_body(const struct chr_notify_rec *r, const struct chr_notify_render *how,
                             size_t *len);
/* The X-Sentry-Auth header's value for dsn into buf (cut to cap). */
void chr_notify_sentry_auth(const struct chr_sentry_dsn *dsn, char *buf, size_t cap);

/* The wait before attempt `attempt` (1: the first retry): base * 2^(attempt-1)
 * capped at max_ms, then jittered into [d/2, d] by `rnd` (any 64 bits), so
 * that senders that failed together do not retry together. */
int64_t chr_notify_backoff_ms(int64_t base_ms, int64_t max_ms, uint32_t attempt, uint64_t rnd);

#endif
