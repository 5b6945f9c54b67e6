/*
 * tz.c - IANA time zones: the rules of one zone, pure.
 *
 * Parses TZif data (RFC 8536, versions 1 to 4, from a buffer) including the
 * POSIX TZ footer that governs instants after the last listed transition,
 * and answers "which offset is in force at instant t" and "which instant is
 * wall time w" by the one rule of docs/time.md.  A zone is immutable: a
 * sorted array of transitions (extended from the footer rule up to
 * CHR_TZ_TABLE_YEAR_END when it is built, so lookups in this century are one
 * binary search) and the rule for later instants.  No I/O, no lock, no
 * allocation in a lookup: the files are read by tzdb.c, the one file of
 * iso8601/ that does I/O.
 */
#include "iso8601/tz_int.h"

#include <stdio.h>
#include <string.h>

#include "common/alloc.h"
#include "common/limits.h"

/* Transitions from the footer rule are materialised at load time up to the
 * end of this year; later instants compute them from the rule on the fly. */
#define CHR_TZ_TABLE_YEAR_END 2100

/* ---- POSIX TZ rules (the TZif footer) ----------------------------------- */

enum rule_kind { RULE_JULIAN_NO_LEAP, RULE_JULIAN_ZERO, RULE_MONTH_WEEK_DAY };

struct rule_date {
    enum rule_kind kind;
    int day;          /* J: 1-365; zero-based: 0-365; M: weekday 0-6 */
    int month, week;  /* M only */
    int32_t time_s;   /* local time of day of the change, -167h..167h */
};

struct posix_rule {
    int32_t std_off_s; /* seconds east of UTC */
    int32_t dst_off_s;
    bool has_dst;
    struct rule_date start, end; /* start: std -> dst; end: dst -> std */
};

struct chr_tz {
    char name[CHR_TZ_NAME_LEN_MAX + 1];
    int32_t initial_off_s;  /* before the first transition */
    size_t count;           /* transitions */
    int64_t *at_ms;         /* ascending instants of transitions */
    int32_t *off_s;         /* offset in force from at_ms[i] on */
    bool has_rule;          /* footer rule for instants after the table */
    struct posix_rule rule;
};

static const struct chr_tz utc_zone = {.name = "UTC"};

struct chr_tz *chr_tz_fixed_new(int32_t offset_s, const char *name)
{
    struct chr_tz *tz = chr_calloc(1, sizeof *tz);
    if (tz == NULL)
        return NULL;
    tz->initial_off_s = offset_s;
    snprintf(tz->name, sizeof tz->name, "%s", name);
    return tz;
}

void chr_tz_set_name(struct chr_tz *tz, const char *name)
{
    snprintf(tz->name, sizeof tz->name, "%s", name);
}

const struct chr_tz *chr_tz_utc(void)
{
    return &utc_zone;
}

const char *chr_tz_name(const struct chr_tz *tz)
{
    return tz->name;
}

/* Parser for the POSIX TZ string. */
struct pcur {
    const char *s;
    size_t i, len;
};

static bool pc_digit(const struct pcur *p)
{
    return p->i < p->len && p->s[p->i] >= '0' && p->s[p->i] <= '9';
}

static bool pc_num(struct pcur *p, int max, int *out)
{
    if (!pc_digit(p))
        return false;
    int v = 0;
    while (pc_digit(p)) {
        v = v * 10 + (p->s[p->i++] - '0');
        if (v > max)
            return false;
    }
    *out = v;
    return true;
}

/* A zone abbreviation: 3+ letters, or <...> of letters, digits, + and -. */
static bool pc_abbr(struct pcur *p)
{
    size_t start = p->i;
    if (p->i < p->len && p->s[p->i] == '<') {
        while (++p->i < p->len && p->s[p->i] != '>')
            ;
        if (p->i >= p->len)
            return false;
        p->i++;
        return p->i - start >= 5;
    }
    while (p->i < p->len && ((p->s[p->i] >= 'A' && p->s[p->i] <= 'Z') ||
                             (p->s[p->i] >= 'a' && p->s[p->i] <= 'z')))
        p->i++;
    return p->i - start >= 3;
}

/* [+-]hh[:mm[:ss]] with hours up to `max_h`; returns seconds in *out. */
static bool pc_hms(struct pcur *p, int max_h, int32_t *out)
{
    int sign = 1, h, m = 0, s = 0;
    if (p->i < p->len && (p->s[p->i] == '+' || p->s[p->i] == '-'))
        sign = p->s[p->i++] == '-' ? -1 : 1;
    if (!pc_num(p, max_h, &h))
        return false;
    if (p->i < p->len && p->s[p->i] == ':') {
        p->i++;
        if (!pc_num(p, 59, &m))
            return false;
        if (p->i < p->len && p->s[p->i] == ':') {
            p->i++;
            if (!pc_num(p, 59, &s))
                return false;
        }
    }
    *out = sign * (h * 3600 + m * 60 + s);
    return true;
}

static bool pc_rule_date(struct pcur *p, struct rule_date *d)
{
    d->time_s = 7200; /* 02:00 by default */
    if (p->i < p->len && p->s[p->i] == 'J') {
        p->i++;
        d->kind = RULE_JULIAN_NO_LEAP;
        if (!pc_num(p, 365, &d->day) || d->day < 1)
            return false;
    } else if (p->i < p->len && p->s[p->i] == 'M') {
        p->i++;
        d->kind = RULE_MONTH_WEEK_DAY;
        if (!pc_num(p, 12, &d->month) || d->month < 1 || p->i >= p->len || p->s[p->i++] != '.' ||
            !pc_num(p, 5, &d->week) || d->week < 1 || p->i >= p->len || p->s[p->i++] != '.' ||
            !pc_num(p, 6, &d->day))
            return false;
    } else {
        d->kind = RULE_JULIAN_ZERO;
        if (!pc_num(p, 365, &d->day))
            return false;
    }
    if (p->i < p->len && p->s[p->i] == '/') {
        p->i++;
        return pc_hms(p, 167, &d->time_s);
    }
    return true;
}

/* Parses a TZif footer such as "EST5EDT,M3.2.0,M11.1.0" into `r`. */
static bool parse_posix_rule(const char *s, size_t len, struct posix_rule *r)
{
    struct pcur p = {s, 0, len};
    int32_t west;
    memset(r, 0, sizeof *r);
    if (!pc_abbr(&p) || !pc_hms(&p, 24, &west))
        return false;
    r->std_off_s = -west;
    r->dst_off_s = r->std_off_s + 3600;
    if (p.i == p.len)
        return true;
    if (!pc_abbr(&p))
        return false;
    r->has_dst = true;
    if (p.i < p.len && p.s[p.i] != ',') {
        if (!pc_hms(&p, 24, &west))
            return false;
        r->dst_off_s = -west;
    }
    if (p.i == p.len) { /* POSIX leaves the default rule to the implementation: US rules */
        r->start = (struct rule_date){RULE_MONTH_WEEK_DAY, 0, 3, 2, 7200};
        r->end = (struct rule_date){RULE_MONTH_WEEK_DAY, 0, 11, 1, 7200};
        return true;
    }
    if (p.s[p.i++] != ',' || !pc_rule_date(&p, &r->start) || p.i >= p.len || p.s[p.i++] != ',' ||
        !pc_rule_date(&p, &r->end))
        return false;
    return p.i == p.len;
}

/* Local midnight (as days since the epoch) of a rule's date in year y. */
static int64_t rule_day(const struct rule_date *d, int64_t y)
{
    int64_t jan1 = chr_days_from_civil(y, 1, 1);
    switch (d->kind) {
    case RULE_JULIAN_NO_LEAP: /* Feb 29 is never counted */
        return jan1 + d->day - 1 + (chr_is_leap_year(y) && d->day >= 60 ? 1 : 0);
    case RULE_JULIAN_ZERO:
        return jan1 + d->day;
    case RULE_MONTH_WEEK_DAY:
    default: {
        int64_t first = chr_days_from_civil(y, d->month, 1);
        int64_t day = first + chr_floor_mod(d->day - chr_weekday(first), 7) + 7 * (d->week - 1);
        int64_t after = first + chr_days_in_month(y, d->month);
        while (day >= after)
            day -= 7;
        return day;
    }
    }
}

/* Local midnight of `day` plus `sec` seconds, saturating at the ends of int64
 * (years near +-292 million, where only saturation keeps the order right). */
static int64_t day_plus_s(int64_t day, int64_t sec)
{
    int64_t ms;
    if (__builtin_mul_overflow(day, CHR_MS_PER_DAY, &ms) ||
        __builtin_add_overflow(ms, sec * CHR_MS_PER_SEC, &ms))
        return day < 0 ? INT64_MIN : INT64_MAX;
    return ms;
}

/* The two transitions of year y: [0] into DST, [1] out of it, as instants. */
static void rule_year(const struct posix_rule *r, int64_t y, int64_t out_ms[2])
{
    out_ms[0] = day_plus_s(rule_day(&r->start, y), (int64_t)r->start.time_s - r->std_off_s);
    out_ms[1] = day_plus_s(rule_day(&r->end, y), (int64_t)r->end.time_s - r->dst_off_s);
}

static int64_t year_of(int64_t at_ms)
{
    int64_t y;
    int m, d;
    chr_civil_from_days(chr_floor_div(at_ms, CHR_MS_PER_DAY), &y, &m, &d);
    return y;
}

/* Transitions of the rule in years y-1..y+1, ascending, each with the offset
 * it brings; returns how many (6, or 0 without DST). */
static size_t rule_window(const struct posix_rule *r, int64_t y, int64_t at[6], int32_t off[6])
{
    if (!r->has_dst)
        return 0;
    size_t n = 0;
    for (int64_t yy = y - 1; yy <= y + 1; yy++) {
        int64_t t[2];
        rule_year(r, yy, t);
        for (int k = 0; k < 2; k++) {
            size_t j = n++;
            while (j > 0 && at[j - 1] > t[k]) { /* insertion sort of six */
                at[j] = at[j - 1];
                off[j] = off[j - 1];
                j--;
            }
            at[j] = t[k];
            off[j] = k == 0 ? r->dst_off_s : r->std_off_s;
        }
    }
    return n;
}

/* ---- Lookups ------------------------------------------------------------ */

/* Saturating a + b for instants near the ends of int64. */
static int64_t sat_add(int64_t a, int64_t b)
{
    if (b > 0 && a > INT64_MAX - b)
        return INT64_MAX;
    if (b < 0 && a < INT64_MIN - b)
        return INT64_MIN;
    return a + b;
}

/* The segment of an instant after the table's last transition, from the rule. */
static void rule_segment(const struct chr_tz *tz, int64_t t, struct chr_tz_segment *seg)
{
    const struct posix_rule *r = &tz->rule;
    size_t n = tz->count;
    int64_t last = tz->at_ms[n - 1];
    int64_t at[6];
    int32_t off[6];
    size_t m = rule_window(r, year_of(t), at, off);
    int32_t cur = tz->off_s[n - 1];
    int32_t prev = n > 1 ? tz->off_s[n - 2] : tz->initial_off_s;
    if (m > 0 && at[0] > last && year_of(last) < year_of(t) - 1) {
        /* Rule transitions alternate: before the window's first, the other offset held. */
        cur = off[0] == r->dst_off_s ? r->std_off_s : r->dst_off_s;
        prev = off[0];
    }
    seg->start_ms = last;
    seg->end_ms = INT64_MAX;
    for (size_t j = 0; j < m; j++) {
        if (at[j] <= last)
            continue;
        if (at[j] > t || at[j] == INT64_MAX) { /* INT64_MAX: saturated, beyond int64 */
            seg->end_ms = at[j];
            break;
        }
        seg->start_ms = at[j];
        prev = cur;
        cur = off[j];
    }
    seg->offset_s = cur;
    seg->prev_offset_s = prev;
}

void chr_tz_segment_at(const struct chr_tz *tz, int64_t at_ms, struct chr_tz_segment *seg)
{
    size_t n = tz->count;
    if (n == 0 || at_ms < tz->at_ms[0]) {
        *seg = (struct chr_tz_segment){INT64_MIN, n ? tz->at_ms[0] : INT64_MAX, tz->initial_off_s,
                                       tz->initial_off_s};
        return;
    }
    if (at_ms >= tz->at_ms[n - 1]) {
        if (tz->has_rule && tz->rule.has_dst) {
            rule_segment(tz, at_ms, seg);
            return;
        }
        *seg = (struct chr_tz_segment){tz->at_ms[n - 1], INT64_MAX, tz->off_s[n - 1],
                                       n > 1 ? tz->off_s[n - 2] : tz->initial_off_s};
        return;
    }
    size_t lo = 0, hi = n - 1; /* at[lo] <= t < at[hi] */
    while (hi - lo > 1) {
        size_t mid = lo + (hi - lo) / 2;
        if (tz->at_ms[mid] <= at_ms)
            lo = mid;
        else
            hi = mid;
    }
    *seg = (struct chr_tz_segment){tz->at_ms[lo], tz->at_ms[hi], tz->off_s[lo],
                                   lo > 0 ? tz->off_s[lo - 1] : tz->initial_off_s};
}

int32_t chr_tz_offset_s(const struct chr_tz *tz, int64_t at_ms)
{
    if (tz->count == 0 && !tz->has_rule)
        return tz->initial_off_s;
    struct chr_tz_segment seg;
    chr_tz_segment_at(tz, at_ms, &seg);
    return seg.offset_s;
}

int64_t chr_tz_to_local_ms(const struct chr_tz *tz, int64_t at_ms)
{
    return sat_add(at_ms, (int64_t)chr_tz_offset_s(tz, at_ms) * CHR_MS_PER_SEC);
}

/* Offsets never exceed 26 hours (RFC 8536 bounds utoff below 93600 s). */
#define OFFSET_BOUND_MS (27 * CHR_MS_PER_HOUR)

int64_t chr_tz_from_local_ms(const struct chr_tz *tz, int64_t local_ms)
{
    if (tz->count == 0 && !tz->has_rule)
        return sat_add(local_ms, -(int64_t)tz->initial_off_s * CHR_MS_PER_SEC);
    struct chr_tz_segment seg;
    chr_tz_segment_at(tz, sat_add(local_ms, -OFFSET_BOUND_MS), &seg);
    for (int guard = 0; guard < 64; guard++) {
        int64_t off_ms = (int64_t)seg.offset_s * CHR_MS_PER_SEC;
        int64_t wall_lo = seg.start_ms == INT64_MIN ? INT64_MIN : sat_add(seg.start_ms, off_ms);
        int64_t wall_hi = seg.end_ms == INT64_MAX ? INT64_MAX : sat_add(seg.end_ms, off_ms);
        if (local_ms < wall_lo) /* skipped by the transition at seg.start: a gap */
            return sat_add(local_ms, -(int64_t)seg.prev_offset_s * CHR_MS_PER_SEC);
        if (local_ms < wall_hi || seg.end_ms == INT64_MAX)
            return sat_add(local_ms, -off_ms); /* the earliest segment showing it */
        chr_tz_segment_at(tz, seg.end_ms, &seg);
    }
    return sat_add(local_ms, -(int64_t)seg.offset_s * CHR_MS_PER_SEC);
}

/* ---- TZif files ---------------------------------------------------------- */

struct tzif_counts {
    uint32_t isut, isstd, leap, time, type, chars;
};

static uint32_t be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static int64_t be64(const uint8_t *p)
{
    return (int64_t)((uint64_t)be32(p) << 32 | be32(p + 4));
}

/* Reads a 44-byte header at buf[pos]; false when absent or out of bounds. */
static bool tzif_header(const uint8_t *buf, size_t len, size_t pos, char *version,
                        struct tzif_counts *c)
{
    if (len < pos + 44 || memcmp(buf + pos, "TZif", 4) != 0)
        return false;
    *version = (char)buf[pos + 4];
    const uint8_t *p = buf + pos + 20;
    *c = (struct tzif_counts){be32(p), be32(p + 4), be32(p + 8), be32(p + 12), be32(p + 16),
                              be32(p + 20)};
    return c->type >= 1 && c->type <= CHR_TZ_TYPES_MAX && c->time <= CHR_TZ_TRANSITIONS_MAX &&
           c->chars <= 4096 && c->leap <= 4096 && (c->isstd == 0 || c->isstd == c->type) &&
           (c->isut == 0 || c->isut == c->type);
}

static size_t tzif_block_size(const struct tzif_counts *c, size_t tsize)
{
    return c->time * tsize + c->time + c->type * 6 + c->chars + c->leap * (tsize + 4) + c->isstd +
           c->isut;
}

/* How many rule transitions load_extend may append after the table. */
static size_t rule_capacity(void)
{
    return 2 * (CHR_TZ_TABLE_YEAR_END - 1900 + 2);
}

/* Appends the footer rule's transitions up to CHR_TZ_TABLE_YEAR_END, so that
 * instants of this century are answered from the table. */
static void load_extend(struct chr_tz *tz)
{
    if (!tz->has_rule || !tz->rule.has_dst)
        return;
    int64_t from = tz->count ? year_of(tz->at_ms[tz->count - 1]) : 1900;
    if (from < 1900)
        from = 1900;
    for (int64_t y = from; y <= CHR_TZ_TABLE_YEAR_END; y++) {
        int64_t t[2];
        rule_year(&tz->rule, y, t);
        int32_t o[2] = {tz->rule.dst_off_s, tz->rule.std_off_s};
        for (int k = 0; k < 2; k++) {
            int kk = t[0] <= t[1] ? k : 1 - k; /* southern rules end before they start */
            int64_t last = tz->count ? tz->at_ms[tz->count - 1] : INT64_MIN;
            int32_t before = tz->count ? tz->off_s[tz->count - 1] : tz->initial_off_s;
            if (t[kk] <= last || o[kk] == before)
                continue;
            tz->at_ms[tz->count] = t[kk];
            tz->off_s[tz->count] = o[kk];
            tz->count++;
        }
    }
}

/* Builds a zone from the data block at `data` of a TZif file with times of
 * `tsize` bytes; the caller checked that the block lies within the buffer. */
static enum chr_err tzif_build(const uint8_t *data, const struct tzif_counts *c, size_t tsize,
                               struct chr_tz **out)
{
    size_t cap = c->time + rule_capacity();
    struct chr_tz *tz = chr_calloc(1, sizeof *tz + cap * (sizeof(int64_t) + sizeof(int32_t)));
    if (tz == NULL)
        return CHR_ENOMEM;
    tz->at_ms = (int64_t *)(tz + 1);
    tz->off_s = (int32_t *)(tz->at_ms + cap);
    const uint8_t *times = data, *idx = data + c->time * tsize, *types = idx + c->time;
    for (uint32_t k = 0; k < c->type; k++) {
        int32_t utoff = (int32_t)be32(types + 6 * k);
        if (utoff <= -89999 || utoff >= 93600 || types[6 * k + 5] >= c->chars) {
            chr_free(tz);
            return CHR_EINVAL;
        }
    }
    tz->initial_off_s = (int32_t)be32(types);
    int64_t prev_at = 0;
    for (uint32_t k = 0; k < c->time; k++) {
        int64_t at = tsize == 8 ? be64(times + 8 * k) : (int32_t)be32(times + 4 * k);
        if (idx[k] >= c->type || at < -(INT64_C(1) << 59) || at > (INT64_C(1) << 59) ||
            (k > 0 && at <= prev_at)) {
            chr_free(tz);
            return CHR_EINVAL;
        }
        prev_at = at;
        int32_t off = (int32_t)be32(types + 6 * idx[k]);
        int32_t before = tz->count ? tz->off_s[tz->count - 1] : tz->initial_off_s;
        if (off == before)
            continue; /* a change of name or isdst only: not a segment boundary */
        tz->at_ms[tz->count] = at * CHR_MS_PER_SEC;
        tz->off_s[tz->count] = off;
        tz->count++;
    }
    *out = tz;
    return CHR_OK;
}

/* Parses a whole TZif file (v1, or v2+ with its footer). */
enum chr_err chr_tzif_parse(const uint8_t *buf, size_t len, struct chr_tz **out)
{
    char version;
    struct tzif_counts c;
    if (!tzif_header(buf, len, 0, &version, &c))
        return CHR_EINVAL;
    size_t pos = 44, tsize = 4;
    if (version >= '2') {
        pos += tzif_block_size(&c, 4);
        if (!tzif_header(buf, len, pos, &version, &c))
            return CHR_EINVAL;
        pos += 44;
        tsize = 8;
    }
    size_t block = tzif_block_size(&c, tsize);
    if (len < pos + block)
        return CHR_EINVAL;
    struct chr_tz *tz;
    enum chr_err e = tzif_build(buf + pos, &c, tsize, &tz);
    if (e != CHR_OK)
        return e;
    pos += block;
    if (tsize == 8 && pos < len && buf[pos] == '\n') { /* the footer: "\n<TZ>\n" */
        const uint8_t *nl = memchr(buf + pos + 1, '\n', len - pos - 1);
        size_t flen = nl ? (size_t)(nl - (buf + pos + 1)) : 0;
        if (nl != NULL && flen > 0) {
            if (!parse_posix_rule((const char *)buf + pos + 1, flen, &tz->rule)) {
                chr_free(tz);
                return CHR_EINVAL;
            }
            tz->has_rule = true;
            if (tz->count == 0)
                tz->initial_off_s = tz->rule.std_off_s;
        }
    }
    load_extend(tz);
    *out = tz;
    return CHR_OK;
}

