/*
 * test_clock.c - the clocks of common/clock.h: the kernel's wall and
 * monotonic clocks are sane and agree with each other over a short nap, a
 * test source replaces them (and NULL gives the kernel's back), and ms
 * instants become timespecs rounded towards -infinity at every edge.
 */
#include "../unit.h"

#include "common/clock.h"

/* 2020-01-01T00:00:00Z and 2200-01-01T00:00:00Z: a wall clock outside is broken. */
#define WALL_MIN_MS 1577836800000LL
#define WALL_MAX_MS 7258118400000LL

static void test_kernel_clocks(void **state)
{
    (void)state;
    int64_t w0 = chr_clock_wall_ms(), m0 = chr_clock_mono_ms(), n0 = chr_clock_mono_ns();
    assert_true(w0 > WALL_MIN_MS && w0 < WALL_MAX_MS);
    assert_true(m0 >= 0 && n0 >= 0);
    /* ns and ms are one clock: the ms reading lies within the ns one's ms. */
    assert_true(n0 / 1000000 >= m0 && n0 / 1000000 - m0 < 1000);
    test_nap_ms(20);
    int64_t w1 = chr_clock_wall_ms(), m1 = chr_clock_mono_ms(), n1 = chr_clock_mono_ns();
    assert_true(m1 - m0 >= 20);
    assert_true(n1 - n0 >= 20 * 1000000LL);
    /* The wall clock moved by about as much (it may be stepped: generous). */
    assert_true(w1 - w0 >= 0 && w1 - w0 < 60000);
    /* Monotonic is not the wall clock. */
    assert_true(m1 < WALL_MIN_MS || m1 - w1 > 60000 || w1 - m1 > 60000);
}

struct fake {
    int64_t wall, mono;
    int reads;
};

static int64_t fake_wall(void *ctx)
{
    struct fake *f = ctx;
    f->reads++;
    return f->wall;
}

static int64_t fake_mono(void *ctx)
{
    struct fake *f = ctx;
    f->reads++;
    return f->mono;
}

static void test_source_injection(void **state)
{
    (void)state;
    struct fake f = {.wall = 1000, .mono = 7};
    struct chr_clock_source src = {fake_wall, fake_mono, &f};
    chr_clock_set_source(&src);
    assert_int_equal(chr_clock_wall_ms(), 1000);
    assert_int_equal(chr_clock_mono_ms(), 7);
    assert_int_equal(chr_clock_mono_ns(), 7000000);
    f.wall = -5, f.mono = 123456;
    assert_int_equal(chr_clock_wall_ms(), -5);
    assert_int_equal(chr_clock_mono_ms(), 123456);
    assert_int_equal(f.reads, 5);
    /* A NULL member: that clock from the kernel, the other still fake. */
    struct chr_clock_source wall_only = {fake_wall, NULL, &f};
    chr_clock_set_source(&wall_only);
    assert_int_equal(chr_clock_wall_ms(), -5);
    assert_true(chr_clock_mono_ms() != 123456); /* the kernel has been up longer */
    /* NULL: the kernel's clocks again. */
    chr_clock_set_source(NULL);
    int reads = f.reads;
    assert_true(chr_clock_wall_ms() > WALL_MIN_MS);
    assert_int_equal(f.reads, reads);
}

static void assert_ts(struct timespec ts, long long sec, long nsec)
{
    if ((long long)ts.tv_sec != sec || ts.tv_nsec != nsec)
        fail_msg("timespec {%lld, %ld}, want {%lld, %ld}", (long long)ts.tv_sec, ts.tv_nsec, sec,
                 nsec);
}

static void test_ts_conversion(void **state)
{
    (void)state;
    struct timespec (*conv[2])(int64_t) = {chr_clock_wall_ts, chr_clock_mono_ts};
    for (int k = 0; k < 2; k++) {
        assert_ts(conv[k](0), 0, 0);
        assert_ts(conv[k](1), 0, 1000000);
        assert_ts(conv[k](999), 0, 999000000);
        assert_ts(conv[k](1000), 1, 0);
        assert_ts(conv[k](1001), 1, 1000000);
        assert_ts(conv[k](1700000000123LL), 1700000000, 123000000);
        /* Before the epoch: seconds round down, nanoseconds stay in [0, 1e9). */
        assert_ts(conv[k](-1), -1, 999000000);
        assert_ts(conv[k](-999), -1, 1000000);
        assert_ts(conv[k](-1000), -1, 0);
        assert_ts(conv[k](-1001), -2, 999000000);
        /* The ends of int64_t. */
        assert_ts(conv[k](INT64_MAX), 9223372036854775LL, 807000000);
        assert_ts(conv[k](INT64_MIN), -9223372036854776LL, 192000000);
    }
    /* A deadline computed from the clock is a timespec of the same clock. */
    int64_t now = chr_clock_wall_ms();
    struct timespec ts = chr_clock_wall_ts(now + 250);
    assert_true((int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000 == now + 250);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_kernel_clocks),
        cmocka_unit_test(test_source_injection),
        cmocka_unit_test(test_ts_conversion),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
