/*
 * metrics.h - counters and histograms of the server, for /metrics.  Written
 * by the scheduler thread (and the HTTP threads for request counts), read by
 * any thread; every function is thread-safe and cheap (one short lock).
 */
#ifndef CHR_API_METRICS_H
#define CHR_API_METRICS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/err.h"

/* Upper bounds (ms) of the histogram buckets; a last "+Inf" bucket follows. */
#define CHR_METRICS_BUCKETS 14
extern const double chr_metrics_bounds_ms[CHR_METRICS_BUCKETS];

struct chr_histogram {
    uint64_t bucket[CHR_METRICS_BUCKETS + 1]; /* NOT cumulative; last is +Inf */
    uint64_t count;
    double sum_ms;
};

enum chr_metric_counter {
    CHR_M_RUNS_STARTED = 0, /* a run's task began (RUNNING) */
    CHR_M_RUNS_SUCCEEDED,
    CHR_M_RUNS_FAILED,
    CHR_M_RUNS_KILLED,
    CHR_M_RUNS_LOST,
    CHR_M_LAUNCHES,         /* launches sent to the resource manager */
    CHR_M_STORE_BATCHES,    /* batches made durable */
    CHR_M_STORE_ERRORS,     /* batches that failed */
    CHR_M_HTTP_REQUESTS,    /* requests answered */
    CHR_M_HTTP_ERRORS,      /* of which 4xx/5xx */
    CHR_M_COUNTERS
};

/* What the loop reports at the moment of reading (gauges). */
struct chr_metrics_gauges {
    uint64_t queue_depth;     /* events waiting for the scheduler thread */
    uint64_t runs_active;     /* recording .. running */
    uint64_t runs_waiting;    /* recording or queued (waiting for resources) */
    uint64_t batches_pending; /* store writes in flight */
    uint64_t offers_held;
    int64_t started_ms;       /* when this server started */
    bool leader;              /* leads and schedules (its store works) */
    bool store_healthy;       /* the store takes writes */
};

/* The notification sender's counters (server/notify.h), per sink in the
 * order mail, webhook, slack, mattermost, sentry. */
#define CHR_METRICS_SINKS 5
extern const char *const chr_metrics_sink_names[CHR_METRICS_SINKS];
struct chr_metrics_notify {
    uint64_t sent[CHR_METRICS_SINKS];    /* deliveries answered 2xx / accepted */
    uint64_t failed[CHR_METRICS_SINKS];  /* attempts that failed (each retried) */
    uint64_t pending[CHR_METRICS_SINKS]; /* notifications still to deliver */
    bool configured[CHR_METRICS_SINKS];
    uint64_t dropped;                    /* dropped from a full outbox */
    uint64_t outbox;                     /* notifications in the outbox */
};

struct chr_metrics_sample {
    uint64_t counter[CHR_M_COUNTERS];
    struct chr_histogram lateness;    /* task start - scheduled instant, scheduled runs */
    struct chr_histogram store_write; /* batch submitted -> durable */
    struct chr_metrics_gauges gauges;
    struct chr_metrics_notify notify;
};

struct chr_metrics;

enum chr_err chr_metrics_create(struct chr_metrics **out);
void chr_metrics_destroy(struct chr_metrics *m); /* NULL allowed */

void chr_metrics_inc(struct chr_metrics *m, enum chr_metric_counter c);
void chr_metrics_observe_lateness(struct chr_metrics *m, double ms); /* negative: 0 */
void chr_metrics_observe_store(struct chr_metrics *m, double ms);
void chr_metrics_set_gauges(struct chr_metrics *m, const struct chr_metrics_gauges *g);
void chr_metrics_set_notify(struct chr_metrics *m, const struct chr_metrics_notify *n);
/* A consistent copy of everything. */
void chr_metrics_read(struct chr_metrics *m, struct chr_metrics_sample *out);

/* The bucket index of a value: the first bound >= ms, or CHR_METRICS_BUCKETS. */
size_t chr_metrics_bucket(double ms);

#endif
