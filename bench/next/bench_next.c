/*
 * bench_next.c - how long chronos's time engine takes to answer "the next
 * instant after T", next to the JavaScript peers croner and cron-parser.
 *
 * A fixed mix of cron expressions and ISO 8601 repeating intervals, each in
 * UTC and in three zones with DST (Australia/Lord_Howe shifts by 30 minutes),
 * is timed by iterating next(previous) from a start a few hours before the
 * zone's DST change, the way a scheduler walks a job's firings (croner's
 * nextRun(prev)).  After WINDOW instants the walk goes back to the start, so
 * chronos and the peers time exactly the same instants.  Then the far-past
 * case: an interval that began in 1970 with a 1 s period, asked for its next
 * instant after one in 2030, a fresh query each time (time.md: "a job started
 * in 1970 with PT1S must answer in microseconds").
 *
 * The peers run in the same bench run (run.sh wires the three steps):
 *   bench_next --mix > MIX.json        the cron rows and the plan, as JSON
 *   node peers.js MIX.json > PEERS.json   croner and cron-parser timed
 *   bench_next [PEERS.json]            chronos timed, instants compared, table
 * Neither peer parses ISO 8601 intervals, so the comparison is over the cron
 * rows only; the ISO rows are chronos's figures alone.
 *
 * Figures are ns per next instant: each batch of operations gives one ns/op,
 * each run gives the median and p99 of its batches, and the figure printed is
 * the median over runs of each.  A bench prints
 * figures and never fails on them; it fails only when it cannot run.
 */
#define _POSIX_C_SOURCE 200809L

#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "iso8601/iso8601.h"

/* The walk restarts at the start after this many instants; the peers check
 * agreement over the same instants. */
#define WINDOW 1000
#define RUNS_MAX 99
#define TARGET_SPEEDUP 20.0
#define FAR_PAST_TARGET_NS 2000.0

/* How many batches of how many operations, per run, after some warm-up. */
struct plan {
    int runs;
    int batches;
    int ops;
    int warmup_batches;
};

/* Zones, each with a start a few hours before its next DST change in 2026
 * (UTC has none; its start matches New York's date). */
static const struct {
    const char *name;
    int year, month, day, hour;
} ZONES[] = {
    {"UTC", 2026, 3, 8, 0},
    {"America/New_York", 2026, 3, 8, 4},     /* spring forward at 07:00Z */
    {"Europe/London", 2026, 3, 28, 22},      /* spring forward at 01:00Z */
    {"Australia/Lord_Howe", 2026, 4, 4, 12}, /* falls back 30 min at 15:00Z */
};
#define N_ZONES (sizeof ZONES / sizeof ZONES[0])

static const char *const CRON_EXPRS[] = {
    "*/5 * * * *", "0 3 * * 1-5", "30 2 * * *", "0 0 L * *", "15 10 ? * 6L",
};
#define N_CRON (sizeof CRON_EXPRS / sizeof CRON_EXPRS[0])

static const char *const ISO_EXPRS[] = {
    "R/2025-01-01T02:00:00Z/P1D",
    "R/2025-01-31T10:00:00/P1M",
    "R/2025-03-01T00:00:00Z/PT15M",
    "R/2024-02-29T01:30:00/P1Y",
};
#define N_ISO (sizeof ISO_EXPRS / sizeof ISO_EXPRS[0])

/* The far-past queries: the one with a target, then two calendar periods
 * from 1970 in DST zones for information. */
static const struct {
    const char *expr;
    const char *zone; /* NULL: no job zone */
    bool has_target;
} FAR_PAST[] = {
    {"R/1970-01-01T00:00:00Z/PT1S", NULL, true},
    {"R/1970-01-01T02:30:00/P1D", "America/New_York", false},
    {"R/1970-01-31T10:00:00/P1M", "Europe/London", false},
};
#define N_FAR_PAST (sizeof FAR_PAST / sizeof FAR_PAST[0])

/* A median and a p99, in ns per operation; ok false when not measured. */
struct figure {
    bool ok;
    double median_ns;
    double p99_ns;
};

static int64_t mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static int64_t utc_ms(int year, int month, int day, int hour)
{
    return chr_days_from_civil(year, month, day) * CHR_MS_PER_DAY + hour * CHR_MS_PER_HOUR;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Nearest-rank percentile of an ascending array. */
static double percentile(const double *sorted, int n, double p)
{
    int idx = (int)ceil(p * n) - 1;
    if (idx < 0)
        idx = 0;
    if (idx >= n)
        idx = n - 1;
    return sorted[idx];
}

static double median_of(double *v, int n)
{
    qsort(v, (size_t)n, sizeof v[0], cmp_double);
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* One batch of `ops` operations on `ctx`. */
typedef void (*batch_fn)(void *ctx, int ops);

static struct figure measure(batch_fn fn, void *ctx, const struct plan *p)
{
    double medians[RUNS_MAX], p99s[RUNS_MAX];
    double *per_op = calloc((size_t)p->batches, sizeof *per_op);
    struct figure f = {false, 0, 0};
    if (per_op == NULL)
        return f;
    for (int r = 0; r < p->runs; r++) {
        for (int b = 0; b < p->warmup_batches; b++)
            fn(ctx, p->ops);
        for (int b = 0; b < p->batches; b++) {
            int64_t t0_ns = mono_ns();
            fn(ctx, p->ops);
            per_op[b] = (double)(mono_ns() - t0_ns) / p->ops;
        }
        qsort(per_op, (size_t)p->batches, sizeof per_op[0], cmp_double);
        medians[r] = percentile(per_op, p->batches, 0.5);
        p99s[r] = percentile(per_op, p->batches, 0.99);
    }
    free(per_op);
    f.ok = true;
    f.median_ns = median_of(medians, p->runs);
    f.p99_ns = median_of(p99s, p->runs);
    return f;
}

/* ---- The walk: next after the previous, back to the start every WINDOW --- */

struct walk {
    const struct chr_schedule *s;
    int64_t start_ms;
    int64_t cur_ms;
    int k;
    int64_t sink;
};

/* peers.js does the same steps, so both sides compute the same instants. */
static void walk_batch(void *ctx, int ops)
{
    struct walk *w = ctx;
    for (int i = 0; i < ops; i++) {
        int64_t next_ms;
        if (chr_schedule_next(w->s, w->cur_ms, &next_ms) != CHR_OK || ++w->k == WINDOW) {
            w->cur_ms = w->start_ms;
            w->k = 0;
        } else {
            w->cur_ms = next_ms;
        }
    }
    w->sink ^= w->cur_ms;
}

/* The first (up to) WINDOW instants from the start, for the agreement check;
 * returns how many. */
static int walk_first(const struct chr_schedule *s, int64_t start_ms, int64_t *out)
{
    int n = 0;
    int64_t cur_ms = start_ms;
    while (n < WINDOW && chr_schedule_next(s, cur_ms, &out[n]) == CHR_OK)
        cur_ms = out[n++];
    return n;
}

/* ---- The far-past case: a fresh query each time ----------------------- */

struct fresh {
    const struct chr_schedule *s;
    int64_t base_ms;
    int64_t i;
    int64_t sink;
};

static void fresh_batch(void *ctx, int ops)
{
    struct fresh *q = ctx;
    for (int j = 0; j < ops; j++) {
        /* A different instant of one day of 2030 each time, so no answer
         * can be carried over from the query before. */
        int64_t after_ms = q->base_ms + (q->i++ * 7919) % CHR_MS_PER_DAY;
        int64_t next_ms = 0;
        chr_schedule_next(q->s, after_ms, &next_ms);
        q->sink ^= next_ms;
    }
}

/* ---- The mix ------------------------------------------------------------ */

struct row {
    const char *expr;
    const char *zone;
    int64_t start_ms;
    bool is_cron;
    /* chronos */
    char error[CHR_ERROR_MESSAGE_MAX];
    struct figure chronos;
    int64_t *instants;
    int n_instants;
};

#define N_ROWS ((N_CRON + N_ISO) * N_ZONES)

static int make_rows(struct row *rows)
{
    int n = 0;
    for (size_t z = 0; z < N_ZONES; z++) {
        int64_t start_ms = utc_ms(ZONES[z].year, ZONES[z].month, ZONES[z].day, ZONES[z].hour);
        for (size_t e = 0; e < N_CRON + N_ISO; e++) {
            struct row *r = &rows[n++];
            memset(r, 0, sizeof *r);
            r->is_cron = e < N_CRON;
            r->expr = r->is_cron ? CRON_EXPRS[e] : ISO_EXPRS[e - N_CRON];
            r->zone = ZONES[z].name;
            r->start_ms = start_ms;
        }
    }
    return n;
}

static int print_mix(const struct plan *peer_plan)
{
    struct row rows[N_ROWS];
    int n = make_rows(rows);
    json_t *arr = json_array();
    for (int i = 0; i < n; i++) {
        if (!rows[i].is_cron)
            continue;
        json_array_append_new(arr, json_pack("{s:s, s:s, s:I}", "expr", rows[i].expr, "zone",
                                             rows[i].zone, "start_ms", (json_int_t)rows[i].start_ms));
    }
    json_t *mix = json_pack("{s:{s:i, s:i, s:i, s:i, s:i, s:i}, s:o}", "plan", "runs", peer_plan->runs,
                            "batches", peer_plan->batches, "ops", peer_plan->ops, "warmup_batches",
                            peer_plan->warmup_batches, "window", WINDOW, "check", WINDOW, "rows", arr);
    if (mix == NULL || json_dumpf(mix, stdout, JSON_COMPACT) != 0)
        return 1;
    putchar('\n');
    json_decref(mix);
    return 0;
}

/* ---- Timing chronos ----------------------------------------------------- */

static bool load_schedule(struct chr_tzdb *db, const char *expr, const char *zone,
                          struct chr_schedule *s, char *error, size_t error_len)
{
    struct chr_error err;
    const struct chr_tz *tz = NULL;
    chr_error_clear(&err);
    if (zone != NULL && chr_tzdb_get(db, zone, &tz, &err) != CHR_OK) {
        snprintf(error, error_len, "%s", err.message[0] ? err.message : "zone not loaded");
        return false;
    }
    if (chr_schedule_parse(expr, tz, db, s, &err) != CHR_OK) {
        snprintf(error, error_len, "%s", err.message[0] ? err.message : "parse failed");
        return false;
    }
    return true;
}

static void time_row(struct chr_tzdb *db, struct row *r, const struct plan *p)
{
    struct chr_schedule s;
    if (!load_schedule(db, r->expr, r->zone, &s, r->error, sizeof r->error))
        return;
    r->instants = calloc(WINDOW, sizeof *r->instants);
    if (r->instants != NULL)
        r->n_instants = walk_first(&s, r->start_ms, r->instants);
    struct walk w = {&s, r->start_ms, r->start_ms, 0, 0};
    r->chronos = measure(walk_batch, &w, p);
    if (w.sink == 42) /* keeps the walk observable */
        fputc(' ', stderr);
}

/* ---- Output ------------------------------------------------------------- */

/* "35,823" for 35823.4; "-" when there is no figure. */
static const char *fmt_ns(double ns, bool ok, char *buf, size_t len)
{
    if (!ok) {
        snprintf(buf, len, "-");
        return buf;
    }
    if (ns < 10) {
        snprintf(buf, len, "%.1f", ns);
        return buf;
    }
    long long v = llround(ns);
    char digits[32];
    int nd = snprintf(digits, sizeof digits, "%lld", v);
    size_t o = 0;
    for (int i = 0; i < nd && o + 2 < len; i++) {
        if (i > 0 && (nd - i) % 3 == 0)
            buf[o++] = ',';
        buf[o++] = digits[i];
    }
    buf[o] = '\0';
    return buf;
}

/* "median (p99)" of a figure. */
static const char *fmt_fig(struct figure f, char *buf, size_t len)
{
    char a[24], b[24];
    if (!f.ok)
        snprintf(buf, len, "-");
    else
        snprintf(buf, len, "%s (%s)", fmt_ns(f.median_ns, true, a, sizeof a),
                 fmt_ns(f.p99_ns, true, b, sizeof b));
    return buf;
}

static const char *fmt_instant(int64_t at_ms, char buf[CHR_INSTANT_TEXT_MAX])
{
    chr_instant_format(at_ms, buf);
    return buf;
}

/* ---- The peers' side ---------------------------------------------------- */

static const char *const PEER_NAMES[] = {"croner", "cron-parser"};
#define N_PEERS 2

struct peer_row {
    struct figure fig[N_PEERS];
    char error[N_PEERS][160];
    json_t *instants[N_PEERS]; /* borrowed from the peers' document */
};

static struct figure figure_of(json_t *p)
{
    struct figure f = {false, 0, 0};
    json_t *m = json_object_get(p, "median_ns"), *q = json_object_get(p, "p99_ns");
    if (json_is_number(m) && json_is_number(q)) {
        f.ok = true;
        f.median_ns = json_number_value(m);
        f.p99_ns = json_number_value(q);
    }
    return f;
}

/* Finds row (expr, zone) in the peers' document and fills `pr`; false when
 * the peers did not time it. */
static bool peer_lookup(json_t *doc, const struct row *r, struct peer_row *pr)
{
    memset(pr, 0, sizeof *pr);
    size_t i;
    json_t *jr;
    json_array_foreach(json_object_get(doc, "rows"), i, jr) {
        const char *expr = json_string_value(json_object_get(jr, "expr"));
        const char *zone = json_string_value(json_object_get(jr, "zone"));
        if (expr == NULL || zone == NULL || strcmp(expr, r->expr) != 0 || strcmp(zone, r->zone) != 0 ||
            json_integer_value(json_object_get(jr, "start_ms")) != r->start_ms)
            continue;
        for (int k = 0; k < N_PEERS; k++) {
            json_t *p = json_object_get(json_object_get(jr, "peers"), PEER_NAMES[k]);
            const char *e = json_string_value(json_object_get(p, "error"));
            if (e != NULL)
                snprintf(pr->error[k], sizeof pr->error[k], "%s", e);
            pr->fig[k] = figure_of(p);
            pr->instants[k] = json_object_get(p, "instants");
        }
        return true;
    }
    return false;
}

/* Compares chronos's instants with a peer's: prints one warning line when
 * they differ, naming the first difference and how many instants each has
 * that the other has not.  Returns true when they agree. */
static bool check_agreement(const struct row *r, const char *peer, json_t *inst)
{
    size_t n = json_array_size(inst);
    int64_t *theirs = calloc(n + 1, sizeof *theirs);
    if (theirs == NULL)
        return false;
    for (size_t i = 0; i < n; i++)
        theirs[i] = json_integer_value(json_array_get(inst, i));
    size_t m = (size_t)r->n_instants, first = SIZE_MAX, only_us = 0, only_them = 0;
    for (size_t i = 0; i < (m < n ? m : n) && first == SIZE_MAX; i++)
        if (r->instants[i] != theirs[i])
            first = i;
    if (first == SIZE_MAX && m != n)
        first = m < n ? m : n;
    /* A merge over the common time span counts the instants only one side has. */
    int64_t horizon = (m && n) ? (r->instants[m - 1] < theirs[n - 1] ? r->instants[m - 1] : theirs[n - 1]) : 0;
    for (size_t i = 0, j = 0; i < m || j < n;) {
        if (j >= n || (i < m && r->instants[i] < theirs[j])) {
            only_us += r->instants[i++] <= horizon;
        } else if (i >= m || theirs[j] < r->instants[i]) {
            only_them += theirs[j++] <= horizon;
        } else {
            i++, j++;
        }
    }
    if (first != SIZE_MAX) {
        char a[CHR_INSTANT_TEXT_MAX] = "(none)", b[CHR_INSTANT_TEXT_MAX] = "(none)";
        if (first < m)
            fmt_instant(r->instants[first], a);
        if (first < n)
            fmt_instant(theirs[first], b);
        printf("warning: \"%s\" in %s: chronos and %s differ from instant #%zu on: chronos %s, %s %s"
               " (up to the earlier last instant: %zu only in chronos, %zu only in %s)\n",
               r->expr, r->zone, peer, first, a, peer, b, only_us, only_them, peer);
    }
    free(theirs);
    return first == SIZE_MAX;
}

/* The agreement check over every cron row and peer: a warning line for each
 * pair that differs, then a count. */
static void print_agreement(const struct row *rows, const struct peer_row *prs, int n)
{
    int agree = 0, compared = 0;
    printf("\nagreement: the first %d instants of each cron row, chronos against each peer:\n", WINDOW);
    for (int i = 0; i < n; i++) {
        for (int k = 0; rows[i].is_cron && rows[i].instants && k < N_PEERS; k++) {
            if (!json_is_array(prs[i].instants[k]))
                continue;
            compared++;
            agree += check_agreement(&rows[i], PEER_NAMES[k], prs[i].instants[k]);
        }
    }
    printf("  %d of %d (row, peer) pairs agree%s\n", agree, compared,
           agree == compared ? "" : " (the warnings above say where the others differ)");
    if (agree != compared)
        printf("  chronos follows docs/time.md at DST changes: a wall time in a gap fires moved\n"
               "  forward by the gap; with hour '*' a repeated hour fires in both passes.\n");
}

/* ---- The table ---------------------------------------------------------- */

#define ROW_FMT "%-30s %-20s %-20s %-22s %-22s %s\n"

static void print_header(const struct plan *cp, const struct plan *pp, json_t *peers)
{
    printf("chronos bench/next: ns per \"next instant\", each the next after the previous, from a start\n"
           "a few hours before the zone's DST change, back to the start every %d instants.\n",
           WINDOW);
    printf("figures: median (p99) of per-batch ns/op, the median over %d runs of each run's median and p99;\n"
           "chronos %d batches x %d ops a run, peers %d batches x %d ops a run (after warm-up).\n",
           cp->runs, cp->batches, cp->ops, pp->batches, pp->ops);
    if (peers != NULL) {
        json_t *v = json_object_get(peers, "versions");
        printf("peers: croner %s, cron-parser %s, node %s (pinned by bench/next/package-lock.json).\n",
               json_string_value(json_object_get(v, "croner")),
               json_string_value(json_object_get(v, "cron-parser")),
               json_string_value(json_object_get(peers, "node")));
    } else {
        printf("peers: not run (no peers' figures given): chronos's figures only.\n");
    }
    printf("croner and cron-parser do not parse ISO 8601 repeating intervals: the comparison is over the\n"
           "cron rows only; the ISO rows are chronos alone.\n\n");
    printf(ROW_FMT, "expression", "zone", "chronos ns/op", "croner ns/op", "cron-parser ns/op",
           "faster peer / chronos");
}

/* Prints one row; returns the speed-up over the faster peer, or 0 when
 * there is nothing to compare. */
static double print_row(const struct row *r, const struct peer_row *pr)
{
    char c[64], p0[64], p1[64], ratio[64] = "";
    double speedup = 0;
    if (r->error[0]) {
        snprintf(c, sizeof c, "error");
    } else {
        fmt_fig(r->chronos, c, sizeof c);
    }
    if (!r->is_cron) {
        snprintf(p0, sizeof p0, "n/a (no ISO)");
        snprintf(p1, sizeof p1, "n/a (no ISO)");
    } else {
        char *cells[N_PEERS] = {p0, p1};
        double best = 0;
        for (int k = 0; k < N_PEERS; k++) {
            if (pr != NULL && pr->error[k][0])
                snprintf(cells[k], 64, "error");
            else
                fmt_fig(pr ? pr->fig[k] : (struct figure){false, 0, 0}, cells[k], 64);
            if (pr != NULL && pr->fig[k].ok && (best == 0 || pr->fig[k].median_ns < best))
                best = pr->fig[k].median_ns;
        }
        if (best > 0 && r->chronos.ok && r->chronos.median_ns > 0) {
            speedup = best / r->chronos.median_ns;
            snprintf(ratio, sizeof ratio, speedup >= 10 ? "%.0fx" : "%.1fx", speedup);
        }
    }
    printf(ROW_FMT, r->expr, r->zone, c, p0, p1, ratio);
    if (r->error[0])
        printf("    chronos: %s\n", r->error);
    for (int k = 0; r->is_cron && pr != NULL && k < N_PEERS; k++)
        if (pr->error[k][0])
            printf("    %s: %s\n", PEER_NAMES[k], pr->error[k]);
    fflush(stdout);
    return speedup;
}

/* The overall speed-up over the cron rows and the target line. */
static void print_summary(const struct row *rows, const double *speedup, int n)
{
    double log_sum = 0, chronos_sum = 0, peer_sum = 0, worst = 0;
    int counted = 0, cron_rows = 0;
    for (int i = 0; i < n; i++) {
        cron_rows += rows[i].is_cron;
        if (speedup[i] <= 0)
            continue;
        double best = speedup[i] * rows[i].chronos.median_ns;
        log_sum += log(speedup[i]);
        chronos_sum += rows[i].chronos.median_ns;
        peer_sum += best;
        worst = (counted == 0 || speedup[i] < worst) ? speedup[i] : worst;
        counted++;
    }
    printf("\n");
    if (counted == 0) {
        printf("overall: no cron row has both a chronos and a peer figure: nothing to compare.\n");
        printf("target: >= %.0fx faster than the faster peer: not measured\n", TARGET_SPEEDUP);
        return;
    }
    double geo = exp(log_sum / counted);
    double total = peer_sum / chronos_sum;
    printf("overall, cron rows only (%d of %d compared): faster peer / chronos = %.0fx geometric mean, "
           "%.0fx by total time, %.0fx at the slowest row\n",
           counted, cron_rows, geo, total, worst);
    printf("target: >= %.0fx faster than the faster peer: %s (geometric mean %.0fx, slowest row %.0fx)\n",
           TARGET_SPEEDUP, geo >= TARGET_SPEEDUP && worst >= TARGET_SPEEDUP ? "met" : "NOT met", geo,
           worst);
}

/* ---- The far past ------------------------------------------------------- */

/* Checks an answer: for PT1S from 1970 the next instant is the next whole
 * second; for the others, next > after and no instant lies in between
 * (asking again from next - 1 gives next). */
static bool far_past_answer_ok(const struct chr_schedule *s, bool whole_seconds, int64_t after_ms,
                               int64_t next_ms)
{
    if (whole_seconds)
        return next_ms == (after_ms / 1000 + 1) * 1000;
    int64_t again_ms;
    return next_ms > after_ms && chr_schedule_next(s, next_ms - 1, &again_ms) == CHR_OK &&
           again_ms == next_ms;
}

static void far_past(struct chr_tzdb *db, const struct plan *p)
{
    int64_t base_ms = utc_ms(2030, 1, 1, 0);
    char when[CHR_INSTANT_TEXT_MAX], ans[CHR_INSTANT_TEXT_MAX];
    printf("\nfar past: a start in 1970, the next instant after one in 2030, a fresh query each time "
           "(not iterated):\n");
    for (size_t i = 0; i < N_FAR_PAST; i++) {
        struct chr_schedule s;
        char error[CHR_ERROR_MESSAGE_MAX];
        const char *zone = FAR_PAST[i].zone ? FAR_PAST[i].zone : "(no zone)";
        if (!load_schedule(db, FAR_PAST[i].expr, FAR_PAST[i].zone, &s, error, sizeof error)) {
            printf("  %-28s %-18s error: %s\n", FAR_PAST[i].expr, zone, error);
            continue;
        }
        int64_t after_ms = base_ms + 12345678, next_ms = 0;
        enum chr_err rc = chr_schedule_next(&s, after_ms, &next_ms);
        bool ok = rc == CHR_OK && far_past_answer_ok(&s, FAR_PAST[i].has_target, after_ms, next_ms);
        struct fresh q = {&s, base_ms, 0, 0};
        struct figure f = measure(fresh_batch, &q, p);
        char fig[64];
        printf("  %-28s %-18s %s ns/op median (p99)", FAR_PAST[i].expr, zone, fmt_fig(f, fig, sizeof fig));
        if (FAR_PAST[i].has_target)
            printf("  target: < 2 us: %s", f.ok && f.median_ns < FAR_PAST_TARGET_NS ? "met" : "NOT met");
        printf("\n    next after %s -> %s%s\n", fmt_instant(after_ms, when),
               rc == CHR_OK ? fmt_instant(next_ms, ans) : chr_err_name(rc), ok ? "" : "  (warning: wrong answer)");
        if (q.sink == 42)
            fputc(' ', stderr);
    }
}

/* ---- main --------------------------------------------------------------- */

static int env_int(const char *name, int dflt, int lo, int hi)
{
    const char *v = getenv(name);
    if (v == NULL || *v == '\0')
        return dflt;
    char *end;
    long x = strtol(v, &end, 10);
    if (*end != '\0' || x < lo || x > hi) {
        fprintf(stderr, "bench_next: %s=%s ignored (want %d-%d)\n", name, v, lo, hi);
        return dflt;
    }
    return (int)x;
}

/* BENCH_RUNS (default 5, at least 5) sets the runs; BENCH_QUICK=1 makes a
 * short smoke run (1 run, few batches) whose figures mean little. */
static void make_plans(struct plan *chronos, struct plan *far, struct plan *peers)
{
    bool quick = env_int("BENCH_QUICK", 0, 0, 1) == 1;
    int runs = quick ? 1 : env_int("BENCH_RUNS", 5, 5, RUNS_MAX);
    *chronos = (struct plan){runs, quick ? 20 : 200, quick ? 100 : 500, quick ? 2 : 20};
    *far = (struct plan){runs, quick ? 20 : 200, 1000, quick ? 2 : 20};
    *peers = (struct plan){runs, quick ? 10 : 100, quick ? 5 : 10, quick ? 1 : 5};
}

int main(int argc, char **argv)
{
    struct plan chronos_plan, far_plan, peer_plan;
    make_plans(&chronos_plan, &far_plan, &peer_plan);
    if (argc == 2 && strcmp(argv[1], "--mix") == 0)
        return print_mix(&peer_plan);
    if (argc > 2 || (argc == 2 && argv[1][0] == '-')) {
        fprintf(stderr, "usage: bench_next --mix | bench_next [PEERS.json]\n");
        return 2;
    }
    json_t *peers = NULL;
    if (argc == 2) {
        json_error_t jerr;
        peers = json_load_file(argv[1], 0, &jerr);
        if (peers == NULL)
            fprintf(stderr, "bench_next: peers' figures unreadable (%s: %s): chronos only\n", argv[1],
                    jerr.text);
    }
    struct chr_tzdb *db = NULL;
    if (chr_tzdb_create(NULL, &db) != CHR_OK) {
        fprintf(stderr, "bench_next: chr_tzdb_create failed\n");
        return 1;
    }
    static struct row rows[N_ROWS];
    static struct peer_row prs[N_ROWS];
    double speedup[N_ROWS];
    int n = make_rows(rows);
    print_header(&chronos_plan, &peer_plan, peers);
    for (int i = 0; i < n; i++) {
        time_row(db, &rows[i], &chronos_plan);
        bool have = rows[i].is_cron && peers != NULL && peer_lookup(peers, &rows[i], &prs[i]);
        speedup[i] = print_row(&rows[i], have ? &prs[i] : NULL);
        if (!have)
            memset(&prs[i], 0, sizeof prs[i]);
    }
    print_summary(rows, speedup, n);
    print_agreement(rows, prs, n);
    far_past(db, &far_plan);
    for (int i = 0; i < n; i++)
        free(rows[i].instants);
    json_decref(peers);
    chr_tzdb_destroy(db);
    return 0;
}
