/*
 * fuzz_interval.c - libFuzzer target for ISO 8601 repeating intervals through
 * the schedule API (chr_schedule_parse, chr_schedule_next, _next_n).
 *
 * The input is an expression starting with 'R' (others are cron, fuzzed by
 * fuzz_cron).  It is parsed without a job zone and with two zones with DST,
 * each with and without a tz database for fixed offsets.  A failure must
 * leave the schedule untouched and an error naming its field.  A schedule
 * that parses is asked for its next instants from several instants, and
 * every answer is checked against time.md:
 *   - next_n's first instant is chr_schedule_next's, later than `after`, and
 *     each one later than the one before; fewer than asked only when the
 *     schedule has ended (R0 never fires);
 *   - asking again from any instant in [after, next) gives the same next;
 *   - next is an occurrence: from occurrence k minus 1 ms, next is
 *     occurrence k (k < n for Rn), and occurrence 0 is the parsed s0;
 *   - a period without Y/M/W/D is exact elapsed time: every next lies a
 *     whole number of periods after s0, whatever DST does.
 * Instants asked from stay near years 1-9999, the range instants are written
 * in (the API takes no others).
 */
#include "fuzz_check.h"

enum { N_ZONES = 3, NEXT_N = 6 };

static struct chr_tzdb *g_db; /* loaded once, kept for the whole run */
static const struct chr_tz *g_zones[N_ZONES]; /* [0] NULL: no job zone */

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    static const char *const names[N_ZONES] = {NULL, "America/New_York", "Australia/Lord_Howe"};
    struct chr_error err;
    if (chr_tzdb_create(NULL, &g_db) != CHR_OK)
        abort();
    for (int i = 1; i < N_ZONES; i++) {
        if (chr_tzdb_get(g_db, names[i], &g_zones[i], &err) != CHR_OK) {
            fprintf(stderr, "fuzz_interval: cannot load zone %s: %s\n", names[i], err.message);
            abort();
        }
    }
    return 0;
}

struct ctx {
    const char *expr;
    const struct chr_schedule *s;
    const char *zone;
};

/* For a pure elapsed-time period: next = s0 + k * period, k < count. */
static void check_elapsed(const struct ctx *x, int64_t s0_ms, int64_t next_ms)
{
    const struct chr_interval *iv = &x->s->u.iso;
    char a[CHR_INSTANT_TEXT_MAX], b[CHR_INSTANT_TEXT_MAX];
    int64_t diff_ms;
    if (iv->months != 0 || iv->days != 0 || __builtin_sub_overflow(next_ms, s0_ms, &diff_ms))
        return;
    FUZZ_CHECK(diff_ms >= 0 && diff_ms % iv->elapsed_ms == 0,
               "'%s' in %s: next %s is not s0 %s plus whole periods of %lld ms", x->expr, x->zone,
               fuzz_text(next_ms, a), fuzz_text(s0_ms, b), (long long)iv->elapsed_ms);
    FUZZ_CHECK(iv->count < 0 || diff_ms / iv->elapsed_ms < iv->count,
               "'%s' in %s: next %s is occurrence %lld of only %lld", x->expr, x->zone,
               fuzz_text(next_ms, a), (long long)(diff_ms / iv->elapsed_ms), (long long)iv->count);
}

/* next_n from `after_ms`, and what each of its answers must satisfy. */
static void check_from(const struct ctx *x, int64_t s0_ms, int64_t after_ms)
{
    char a[CHR_INSTANT_TEXT_MAX], b[CHR_INSTANT_TEXT_MAX], c[CHR_INSTANT_TEXT_MAX],
        d[CHR_INSTANT_TEXT_MAX];
    int64_t out[NEXT_N], one_ms = 0, again_ms = 0;
    size_t n = chr_schedule_next_n(x->s, after_ms, out, NEXT_N);
    enum chr_err rc = chr_schedule_next(x->s, after_ms, &one_ms);
    FUZZ_CHECK(n <= NEXT_N, "next_n returned %zu for %d", n, NEXT_N);
    FUZZ_CHECK(n == 0 ? rc == CHR_ENONE : rc == CHR_OK && one_ms == out[0],
               "'%s' in %s after %s: next_n gives %zu instants (first %s), next gives %s %s",
               x->expr, x->zone, fuzz_text(after_ms, a), n, n ? fuzz_text(out[0], b) : "-",
               chr_err_name(rc), fuzz_text(one_ms, c));
    FUZZ_CHECK(n == 0 || x->s->u.iso.count != 0, "'%s': R0 fired at %s", x->expr,
               fuzz_text(out[0], a));
    for (size_t i = 0; i < n; i++) {
        int64_t prev_ms = i == 0 ? after_ms : out[i - 1];
        FUZZ_CHECK(out[i] > prev_ms, "'%s' in %s after %s: instant %zu (%s) is not later than %s",
                   x->expr, x->zone, fuzz_text(after_ms, a), i, fuzz_text(out[i], b),
                   fuzz_text(prev_ms, c));
        int64_t probes[2] = {prev_ms + (out[i] - prev_ms) / 2, out[i] - 1};
        for (int p = 0; p < 2; p++) {
            rc = chr_schedule_next(x->s, probes[p], &again_ms);
            FUZZ_CHECK(rc == CHR_OK && again_ms == out[i],
                       "'%s' in %s: next after %s is %s, but next after %s (in between) is %s",
                       x->expr, x->zone, fuzz_text(prev_ms, a), fuzz_text(out[i], b),
                       fuzz_text(probes[p], c), rc == CHR_OK ? fuzz_text(again_ms, d) : chr_err_name(rc));
        }
        check_elapsed(x, s0_ms, out[i]);
    }
    if (n > 0 && n < NEXT_N) {
        rc = chr_schedule_next(x->s, out[n - 1], &again_ms);
        FUZZ_CHECK(rc == CHR_ENONE, "'%s' in %s: next_n stopped after %zu, but next after %s is %s",
                   x->expr, x->zone, n, fuzz_text(out[n - 1], a), chr_err_name(rc));
    }
}

/* Occurrence k from the formula must be what the search finds from 1 ms
 * before it. */
static void check_occurrence(const struct ctx *x, int64_t k)
{
    const struct chr_interval *iv = &x->s->u.iso;
    char a[CHR_INSTANT_TEXT_MAX], b[CHR_INSTANT_TEXT_MAX];
    if (iv->count >= 0 && k >= iv->count)
        return;
    int64_t occ_ms = chr_interval_occurrence(iv, x->s->tz, k), next_ms = 0;
    if (occ_ms == INT64_MAX || occ_ms > 253402300799999LL)
        return; /* beyond int64 or past year 9999: not asked from */
    enum chr_err rc = chr_schedule_next(x->s, occ_ms - 1, &next_ms);
    FUZZ_CHECK(rc == CHR_OK && next_ms == occ_ms,
               "'%s' in %s: occurrence %lld is %s, but next after it minus 1 ms is %s %s", x->expr,
               x->zone, (long long)k, fuzz_text(occ_ms, a), chr_err_name(rc),
               fuzz_text(next_ms, b));
}

static void check_schedule(const struct ctx *x, uint64_t h)
{
    const struct chr_interval *iv = &x->s->u.iso;
    char a[CHR_INSTANT_TEXT_MAX], b[CHR_INSTANT_TEXT_MAX];
    FUZZ_CHECK(x->s->kind == CHR_SCHEDULE_ISO8601 && x->s->tz != NULL,
               "'%s': parsed as kind %d, zone %p", x->expr, (int)x->s->kind, (const void *)x->s->tz);
    FUZZ_CHECK(iv->count >= -1 && iv->months >= 0 && iv->days >= 0 && iv->elapsed_ms >= 0 &&
                   (iv->months | iv->days | iv->elapsed_ms) != 0,
               "'%s': parsed count %lld, period %lld months %lld days %lld ms", x->expr,
               (long long)iv->count, (long long)iv->months, (long long)iv->days,
               (long long)iv->elapsed_ms);
    int64_t s0_ms = chr_interval_occurrence(iv, x->s->tz, 0);
    FUZZ_CHECK(s0_ms == iv->start_ms, "'%s' in %s: occurrence 0 is %s but the parsed s0 is %s",
               x->expr, x->zone, fuzz_text(s0_ms, a), fuzz_text(iv->start_ms, b));
    const int64_t afters_ms[] = {
        s0_ms - 1,
        s0_ms,
        s0_ms - 1 - (int64_t)(h % 31622400000ULL), /* up to a year before s0 */
        1772951400000LL,                            /* 2026-03-08T06:30:00Z, NY gap ahead */
        1793511000000LL,                            /* 2026-11-01T05:30:00Z, NY overlap ahead */
        1775313900000LL,                            /* 2026-04-04T14:45:00Z, Lord Howe overlap */
        1791039600000LL,                            /* 2026-10-03T15:00:00Z, Lord Howe gap */
        fuzz_instant_from_hash(h >> 7),
    };
    for (size_t i = 0; i < sizeof afters_ms / sizeof afters_ms[0]; i++)
        check_from(x, s0_ms, afters_ms[i]);
    const int64_t ks[] = {0, 1, 2, 3, (int64_t)(h % 1000), (int64_t)(h % 1000003)};
    for (size_t i = 0; i < sizeof ks / sizeof ks[0]; i++)
        check_occurrence(x, ks[i]);
}

/* One parse, in `zone` with or without a database; returns true when it
 * parsed into *s. */
static bool parse_checked(const char *expr, const struct chr_tz *zone, struct chr_tzdb *db,
                          struct chr_schedule *s)
{
    struct chr_schedule untouched;
    struct chr_error err;
    memset(s, 0xA5, sizeof *s);
    memcpy(&untouched, s, sizeof untouched);
    fuzz_poison_error(&err);
    enum chr_err rc = chr_schedule_parse(expr, zone, db, s, &err);
    if (rc == CHR_OK)
        return true;
    fuzz_check_parse_error(rc, &err, expr);
    FUZZ_CHECK(memcmp(s, &untouched, sizeof *s) == 0,
               "parse of '%s' failed (%s) but wrote to its output", expr, err.message);
    return false;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char buf[FUZZ_INPUT_MAX + 1];
    const char *expr = fuzz_cstring(data, size, buf);
    if (expr == NULL || expr[0] != 'R')
        return 0;
    uint64_t h = fuzz_hash(data, size);
    for (int z = 0; z < N_ZONES; z++) {
        struct chr_schedule s, s_nodb;
        bool ok = parse_checked(expr, g_zones[z], g_db, &s);
        bool ok_nodb = parse_checked(expr, g_zones[z], NULL, &s_nodb);
        /* Without a database only a non-zero written offset and no zone can fail. */
        FUZZ_CHECK(ok || !ok_nodb, "'%s' parses without a tz database but not with one", expr);
        FUZZ_CHECK(!ok || ok_nodb || (g_zones[z] == NULL && s.u.iso.start_has_offset &&
                                      s.u.iso.start_offset_s != 0),
                   "'%s' parses with a tz database but not without one, and needs no fixed zone",
                   expr);
        if (!ok)
            continue;
        struct ctx x = {expr, &s, g_zones[z] ? chr_tz_name(g_zones[z]) : "no zone"};
        check_schedule(&x, h);
    }
    return 0;
}
