/*
 * metrics.c - the server's counters, histograms and gauges, for /metrics.
 *
 * One mutex around one plain struct: writers (the scheduler thread, the HTTP
 * threads) hold it for a few instructions, a reader copies everything under
 * it, so a sample is always consistent (a histogram's count equals the sum
 * of its buckets).  No I/O, no clock, no allocation after create.
 */
/* metrics.h uses bool without including stdbool.h (to be mended there). */
#include <stdbool.h>

#include "api/metrics.h"

#include <math.h>
#include <pthread.h>
#include <string.h>

#include "common/alloc.h"

/* Milliseconds; from "a launch is on time" (1 ms) to "a minute late". */
const double chr_metrics_bounds_ms[CHR_METRICS_BUCKETS] = {
    1, 2, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000, 60000,
};

struct chr_metrics {
    pthread_mutex_t mu;
    struct chr_metrics_sample s;
};

enum chr_err chr_metrics_create(struct chr_metrics **out)
{
    struct chr_metrics *m = chr_calloc(1, sizeof *m);
    *out = NULL;
    if (m == NULL)
        return CHR_ENOMEM;
    if (pthread_mutex_init(&m->mu, NULL) != 0) {
        chr_free(m);
        return CHR_ENOMEM; /* the only reasons are a lack of memory or of resources */
    }
    *out = m;
    return CHR_OK;
}

void chr_metrics_destroy(struct chr_metrics *m)
{
    if (m == NULL)
        return;
    pthread_mutex_destroy(&m->mu);
    chr_free(m);
}

size_t chr_metrics_bucket(double ms)
{
    size_t i = 0;
    while (i < CHR_METRICS_BUCKETS && !(ms <= chr_metrics_bounds_ms[i]))
        i++;
    return i;
}

void chr_metrics_inc(struct chr_metrics *m, enum chr_metric_counter c)
{
    if ((unsigned)c >= CHR_M_COUNTERS)
        return; /* not a counter: nothing to count */
    pthread_mutex_lock(&m->mu);
    m->s.counter[c]++;
    pthread_mutex_unlock(&m->mu);
}

/* Adds one observation.  Negative or NaN counts as 0 (a clock step must not
 * make a negative sum); +Inf goes to the +Inf bucket and not into the sum,
 * which stays finite. */
static void observe(struct chr_metrics *m, struct chr_histogram *h, double ms)
{
    if (!(ms > 0))
        ms = 0;
    size_t i = chr_metrics_bucket(ms);
    pthread_mutex_lock(&m->mu);
    h->bucket[i]++;
    h->count++;
    if (isfinite(ms))
        h->sum_ms += ms;
    pthread_mutex_unlock(&m->mu);
}

void chr_metrics_observe_lateness(struct chr_metrics *m, double ms)
{
    observe(m, &m->s.lateness, ms);
}

void chr_metrics_observe_store(struct chr_metrics *m, double ms)
{
    observe(m, &m->s.store_write, ms);
}

void chr_metrics_set_gauges(struct chr_metrics *m, const struct chr_metrics_gauges *g)
{
    pthread_mutex_lock(&m->mu);
    m->s.gauges = *g;
    pthread_mutex_unlock(&m->mu);
}

const char *const chr_metrics_sink_names[CHR_METRICS_SINKS] = {"mail", "webhook", "slack",
                                                              "mattermost", "sentry"};

void chr_metrics_set_notify(struct chr_metrics *m, const struct chr_metrics_notify *n)
{
    pthread_mutex_lock(&m->mu);
    m->s.notify = *n;
    pthread_mutex_unlock(&m->mu);
}

void chr_metrics_read(struct chr_metrics *m, struct chr_metrics_sample *out)
{
    pthread_mutex_lock(&m->mu);
    *out = m->s;
    pthread_mutex_unlock(&m->mu);
}
