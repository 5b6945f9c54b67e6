/*
 * test_metrics.c - the server's metrics store (api/metrics.c): bucket
 * edges (a value equal to a bound goes in that bound's bucket), clamping of
 * negative and non-finite observations, counters, gauges, a consistent copy
 * under concurrent writers, and creation when memory runs out.
 */
#include "../unit.h"

#include <math.h>
#include <pthread.h>
#include <stdbool.h>

#include "common/alloc.h"
#include "api/metrics.h"

static void test_bounds(void **state)
{
    (void)state;
    const double want[CHR_METRICS_BUCKETS] = {1,    2,    5,    10,   25,    50,   100,
                                              250,  500,  1000, 2500, 5000,  10000, 60000};
    for (size_t i = 0; i < CHR_METRICS_BUCKETS; i++)
        assert_true(chr_metrics_bounds_ms[i] == want[i]);
}

/* The first bound >= ms: a bound itself is in its own bucket, just above it
 * in the next; past the last bound (and NaN) the +Inf bucket. */
static void test_bucket_edges(void **state)
{
    (void)state;
    assert_int_equal(chr_metrics_bucket(-5), 0);
    assert_int_equal(chr_metrics_bucket(0), 0);
    assert_int_equal(chr_metrics_bucket(1), 0);
    assert_int_equal(chr_metrics_bucket(1.0001), 1);
    assert_int_equal(chr_metrics_bucket(2), 1);
    assert_int_equal(chr_metrics_bucket(2.5), 2);
    assert_int_equal(chr_metrics_bucket(5), 2);
    assert_int_equal(chr_metrics_bucket(10), 3);
    assert_int_equal(chr_metrics_bucket(10.5), 4);
    assert_int_equal(chr_metrics_bucket(25), 4);
    assert_int_equal(chr_metrics_bucket(50), 5);
    assert_int_equal(chr_metrics_bucket(100), 6);
    assert_int_equal(chr_metrics_bucket(250), 7);
    assert_int_equal(chr_metrics_bucket(500), 8);
    assert_int_equal(chr_metrics_bucket(1000), 9);
    assert_int_equal(chr_metrics_bucket(2500), 10);
    assert_int_equal(chr_metrics_bucket(5000), 11);
    assert_int_equal(chr_metrics_bucket(10000), 12);
    assert_int_equal(chr_metrics_bucket(60000), 13);
    assert_int_equal(chr_metrics_bucket(60000.001), CHR_METRICS_BUCKETS);
    assert_int_equal(chr_metrics_bucket(INFINITY), CHR_METRICS_BUCKETS);
    assert_int_equal(chr_metrics_bucket(NAN), CHR_METRICS_BUCKETS);
}

static void test_fresh_is_zero(void **state)
{
    (void)state;
    struct chr_metrics *m = NULL;
    struct chr_metrics_sample s, zero;
    assert_int_equal(chr_metrics_create(&m), CHR_OK);
    memset(&s, 0x5a, sizeof s);
    memset(&zero, 0, sizeof zero);
    chr_metrics_read(m, &s);
    assert_memory_equal(s.counter, zero.counter, sizeof zero.counter);
    assert_int_equal(s.lateness.count, 0);
    assert_true(s.lateness.sum_ms == 0.0);
    assert_int_equal(s.store_write.count, 0);
    assert_false(s.gauges.leader);
    assert_int_equal(s.gauges.started_ms, 0);
    chr_metrics_destroy(m);
    chr_metrics_destroy(NULL);
}

/* Observations: -3 and NaN count as 0 (bucket 0, nothing summed); 1 in
 * bucket 0; 1.5 in bucket 1; 60001 and +Inf in +Inf (+Inf not summed).
 * count 6, sum 0 + 0 + 1 + 1.5 + 60001 = 60003.5.  The store histogram is
 * separate: 2500 in bucket 10. */
static void test_observe(void **state)
{
    (void)state;
    struct chr_metrics *m = NULL;
    struct chr_metrics_sample s;
    assert_int_equal(chr_metrics_create(&m), CHR_OK);
    chr_metrics_observe_lateness(m, -3);
    chr_metrics_observe_lateness(m, NAN);
    chr_metrics_observe_lateness(m, 1);
    chr_metrics_observe_lateness(m, 1.5);
    chr_metrics_observe_lateness(m, 60001);
    chr_metrics_observe_lateness(m, INFINITY);
    chr_metrics_observe_store(m, 2500);
    chr_metrics_read(m, &s);
    assert_int_equal(s.lateness.count, 6);
    assert_true(s.lateness.sum_ms == 60003.5);
    assert_int_equal(s.lateness.bucket[0], 3);
    assert_int_equal(s.lateness.bucket[1], 1);
    assert_int_equal(s.lateness.bucket[CHR_METRICS_BUCKETS], 2);
    uint64_t total = 0;
    for (size_t i = 0; i <= CHR_METRICS_BUCKETS; i++)
        total += s.lateness.bucket[i];
    assert_int_equal(total, s.lateness.count);
    assert_int_equal(s.store_write.count, 1);
    assert_int_equal(s.store_write.bucket[10], 1);
    assert_true(s.store_write.sum_ms == 2500);
    chr_metrics_destroy(m);
}

/* Counter c is incremented c + 1 times; a value outside the enum is ignored. */
static void test_counters(void **state)
{
    (void)state;
    struct chr_metrics *m = NULL;
    struct chr_metrics_sample s;
    assert_int_equal(chr_metrics_create(&m), CHR_OK);
    for (int c = 0; c < CHR_M_COUNTERS; c++)
        for (int k = 0; k <= c; k++)
            chr_metrics_inc(m, (enum chr_metric_counter)c);
    chr_metrics_inc(m, CHR_M_COUNTERS);
    chr_metrics_inc(m, (enum chr_metric_counter)-1);
    chr_metrics_read(m, &s);
    for (int c = 0; c < CHR_M_COUNTERS; c++)
        assert_int_equal(s.counter[c], (uint64_t)c + 1);
    chr_metrics_destroy(m);
}

static void test_gauges(void **state)
{
    (void)state;
    struct chr_metrics *m = NULL;
    struct chr_metrics_sample s;
    struct chr_metrics_gauges g = {7, 6, 5, 4, 3, 1900000000000LL, true, false};
    assert_int_equal(chr_metrics_create(&m), CHR_OK);
    chr_metrics_set_gauges(m, &g);
    chr_metrics_read(m, &s);
    assert_int_equal(s.gauges.queue_depth, 7);
    assert_int_equal(s.gauges.runs_active, 6);
    assert_int_equal(s.gauges.runs_waiting, 5);
    assert_int_equal(s.gauges.batches_pending, 4);
    assert_int_equal(s.gauges.offers_held, 3);
    assert_int_equal(s.gauges.started_ms, 1900000000000LL);
    assert_true(s.gauges.leader);
    assert_false(s.gauges.store_healthy);
    g.leader = false; /* a copy was taken: the caller's struct is not kept */
    chr_metrics_read(m, &s);
    assert_true(s.gauges.leader);
    chr_metrics_set_gauges(m, &g);
    chr_metrics_read(m, &s);
    assert_false(s.gauges.leader);
    chr_metrics_destroy(m);
}

#define THREADS 4
#define PER_THREAD 20000

struct writer {
    struct chr_metrics *m;
    bool consistent;
};

/* Writes, and checks every copy it reads is consistent: a histogram's
 * count equals the sum of its buckets and the (whole-ms) sum. */
static void *write_and_read(void *arg)
{
    struct writer *w = arg;
    struct chr_metrics_sample s;
    w->consistent = true;
    for (int i = 0; i < PER_THREAD; i++) {
        chr_metrics_inc(w->m, CHR_M_HTTP_REQUESTS);
        chr_metrics_observe_store(w->m, 1);
        if (i % 1000 == 0) {
            chr_metrics_read(w->m, &s);
            if (s.store_write.bucket[0] != s.store_write.count ||
                s.store_write.sum_ms != (double)s.store_write.count)
                w->consistent = false;
        }
    }
    return NULL;
}

static void test_threads(void **state)
{
    (void)state;
    struct chr_metrics *m = NULL;
    struct chr_metrics_sample s;
    pthread_t t[THREADS];
    struct writer w[THREADS];
    assert_int_equal(chr_metrics_create(&m), CHR_OK);
    for (int i = 0; i < THREADS; i++) {
        w[i].m = m;
        assert_int_equal(pthread_create(&t[i], NULL, write_and_read, &w[i]), 0);
    }
    for (int i = 0; i < THREADS; i++) {
        assert_int_equal(pthread_join(t[i], NULL), 0);
        assert_true(w[i].consistent);
    }
    chr_metrics_read(m, &s);
    assert_int_equal(s.counter[CHR_M_HTTP_REQUESTS], THREADS * PER_THREAD);
    assert_int_equal(s.store_write.count, THREADS * PER_THREAD);
    assert_int_equal(s.store_write.bucket[0], THREADS * PER_THREAD);
    assert_true(s.store_write.sum_ms == (double)(THREADS * PER_THREAD));
    chr_metrics_destroy(m);
}

static void test_create_out_of_memory(void **state)
{
    (void)state;
    struct chr_metrics *m = (struct chr_metrics *)&m; /* not NULL: must be reset */
    chr_alloc_fail_after(1);
    enum chr_err e = chr_metrics_create(&m);
    chr_alloc_fail_after(-1);
    assert_int_equal(e, CHR_ENOMEM);
    assert_null(m);
    assert_int_equal(chr_metrics_create(&m), CHR_OK);
    assert_non_null(m);
    chr_metrics_destroy(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bounds),
        cmocka_unit_test(test_bucket_edges),
        cmocka_unit_test(test_fresh_is_zero),
        cmocka_unit_test(test_observe),
        cmocka_unit_test(test_counters),
        cmocka_unit_test(test_gauges),
        cmocka_unit_test(test_threads),
        cmocka_unit_test(test_create_out_of_memory),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
