/*
 * cron.c - cron expressions: parsing the five fields (and the @ macros) into
 * bit sets, matching wall times field by field, and finding the next firing
 * instant in a zone by walking the zone's offset segments.
 *
 * The rules are those of docs/time.md, "Cron expressions": Vixie's OR of
 * the two day fields when both are restricted, the L / L-n / nW / LW / dL / d#k
 * extensions, and the DST rules (a fixed wall time fires once, at the earlier
 * pass of an overlap or shifted forward by a gap; minutes of an hour written
 * as `*` follow the clock through both).
 *
 * Pure: no I/O, no clock, no allocation, no global mutable state.  Parsing is
 * bounded by CHR_SCHEDULE_LEN_MAX, evaluation by CHR_CRON_SEARCH_YEARS.
 */
#include "iso8601.h"

#include <string.h>

#include "../common/limits.h"

/* ---- Fields ------------------------------------------------------------- */

enum field_id { F_MINUTE, F_HOUR, F_DOM, F_MONTH, F_DOW, F_COUNT };

struct field_spec {
    const char *name; /* as errors name it */
    int lo, hi;       /* the values a number may take */
    const char *const *names; /* NULL, or the names of lo, lo+1, ... */
    int names_count;
};

static const char *const month_names[] = {"JAN", "FEB", "MAR", "APR", "MAY", "JUN",
                                          "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"};
static const char *const dow_names[] = {"SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"};

static const struct field_spec specs[F_COUNT] = {
    {"minute", 0, 59, NULL, 0},
    {"hour", 0, 23, NULL, 0},
    {"day-of-month", 1, 31, NULL, 0},
    {"month", 1, 12, month_names, 12},
    {"day-of-week", 0, 7, dow_names, 7},
};

/* Numbers stop growing past this while being read: every range and step we
 * check is far below it, and a long run of digits cannot overflow. */
#define NUMBER_CAP 1000000

/* Longest piece of input quoted back in an error message. */
#define QUOTE_MAX 40

/* The calendar type of a year (leap or not, weekday of January 1) decides
 * which of its days match the day and month fields.  There are 14 types and
 * the 28 years from 2000 hold every one of them (2000-2099 has no skipped
 * leap year), so a day fields / month combination that matches no day in
 * those years matches no day ever. */
#define CYCLE_FIRST_YEAR 2000
#define CYCLE_YEARS 28

/* Instants (and wall times) handled: about +-36 million years.  Keeps every
 * sum of an instant, an offset and a search span far from int64 overflow. */
#define MS_LIMIT ((int64_t)1 << 60)

/* ---- Items: one comma-separated piece of a field ------------------------ */

struct item {
    const char *s;  /* the item's first byte */
    size_t len;     /* its length (what errors quote) */
    size_t i;       /* read position */
    size_t end;     /* where the part being read stops (<= len) */
    const struct field_spec *f;
    struct chr_error *err;
};

static bool is_digit(char ch)
{
    return ch >= '0' && ch <= '9';
}

static char upper(char ch)
{
    return (ch >= 'a' && ch <= 'z') ? (char)(ch - 'a' + 'A') : ch;
}

static bool is_alpha(char ch)
{
    return upper(ch) >= 'A' && upper(ch) <= 'Z';
}

static bool at(const struct item *it, char ch)
{
    return it->i < it->end && it->s[it->i] == ch;
}

static int quote_len(size_t len)
{
    return (int)(len > QUOTE_MAX ? QUOTE_MAX : len);
}

/* The error for whatever stands at it->i (or for the item ending early). */
static enum chr_err unexpected(const struct item *it)
{
    int n = quote_len(it->len);
    if (it->i >= it->len)
        return chr_error_set(it->err, CHR_EINVAL, it->f->name, "'%.*s' is incomplete", n, it->s);
    unsigned char ch = (unsigned char)it->s[it->i];
    if (ch > 0x20 && ch < 0x7f)
        return chr_error_set(it->err, CHR_EINVAL, it->f->name, "unexpected '%c' in '%.*s'", ch,
                             n, it->s);
    return chr_error_set(it->err, CHR_EINVAL, it->f->name, "unexpected byte 0x%02x in '%.*s'",
                         ch, n, it->s);
}

/* Reads decimal digits at it->i into *out; false when there are none. */
static bool read_number(struct item *it, int64_t *out)
{
    size_t first = it->i;
    int64_t v = 0;
    while (it->i < it->end && is_digit(it->s[it->i])) {
        if (v <= NUMBER_CAP)
            v = v * 10 + (it->s[it->i] - '0');
        it->i++;
    }
    *out = v;
    return it->i > first;
}

static enum chr_err out_of_range(const struct item *it, size_t from, int lo, int hi)
{
    return chr_error_set(it->err, CHR_EINVAL, it->f->name, "%.*s is out of range %d-%d",
                         quote_len(it->i - from), it->s + from, lo, hi);
}

/* Reads a name of the field (case-insensitive) at it->i. */
static enum chr_err read_name(struct item *it, int *out)
{
    size_t from = it->i;
    while (it->i < it->end && is_alpha(it->s[it->i]))
        it->i++;
    size_t n = it->i - from;
    for (int k = 0; k < it->f->names_count && n == 3; k++) {
        const char *name = it->f->names[k];
        if (upper(it->s[from]) == name[0] && upper(it->s[from + 1]) == name[1] &&
            upper(it->s[from + 2]) == name[2]) {
            *out = it->f->lo + k;
            return CHR_OK;
        }
    }
    if (it->f->names == NULL)
        return chr_error_set(it->err, CHR_EINVAL, it->f->name, "'%.*s' is not a number",
                             quote_len(n), it->s + from);
    return chr_error_set(it->err, CHR_EINVAL, it->f->name, "unknown name '%.*s'", quote_len(n),
                         it->s + from);
}

/* Reads a number in [lo, hi] or a name of the field at it->i. */
static enum chr_err read_value(struct item *it, int lo, int hi, int *out)
{
    size_t from = it->i;
    int64_t v;
    if (it->i < it->end && is_alpha(it->s[it->i]))
        return read_name(it, out);
    if (!read_number(it, &v))
        return unexpected(it);
    if (v < lo || v > hi)
        return out_of_range(it, from, lo, hi);
    *out = (int)v;
    return CHR_OK;
}

/* `*`, `a`, `a-b`, each optionally followed by `/s`: sets bits of *bits. */
static enum chr_err parse_range_item(struct item *it, uint64_t *bits)
{
    const struct field_spec *f = it->f;
    int a = f->lo, b = f->hi;
    bool single = false;
    enum chr_err e;
    if (at(it, '*')) {
        it->i++;
    } else {
        size_t from = it->i;
        if ((e = read_value(it, f->lo, f->hi, &a)) != CHR_OK)
            return e;
        b = a;
        single = !at(it, '-');
        if (!single) {
            it->i++;
            if ((e = read_value(it, f->lo, f->hi, &b)) != CHR_OK)
                return e;
            if (a > b)
                return chr_error_set(it->err, CHR_EINVAL, f->name, "range %.*s is reversed",
                                     quote_len(it->i - from), it->s + from);
        }
    }
    int64_t step = 1;
    if (at(it, '/')) {
        it->i++;
        if (!read_number(it, &step))
            return unexpected(it);
        if (step == 0)
            return chr_error_set(it->err, CHR_EINVAL, f->name, "step 0 is not allowed");
        if (single)
            b = f->hi; /* a/s: from a to the end of the field */
    }
    if (it->i != it->len)
        return unexpected(it);
    for (int64_t v = a; v <= b; v += step)
        *bits |= (uint64_t)1 << v;
    return CHR_OK;
}

/* Reads a number that must end the item and lie in [lo, hi]. */
static enum chr_err read_tail_number(struct item *it, int lo, int hi, int *out)
{
    size_t from = it->i;
    int64_t v;
    if (!read_number(it, &v) || it->i != it->end)
        return unexpected(it);
    if (v < lo || v > hi)
        return out_of_range(it, from, lo, hi);
    *out = (int)v;
    return CHR_OK;
}

/* Day of month: `L`, `L-n`, `LW`, `nW`, or a plain range item. */
static enum chr_err parse_dom_item(struct item *it, struct chr_cron *c, uint64_t *bits)
{
    char first = upper(it->s[0]), last = upper(it->s[it->len - 1]);
    int n;
    enum chr_err e;
    if (first == 'L') {
        if (it->len == 1) {
            c->dom_before_last |= 1u;
            return CHR_OK;
        }
        if (it->len == 2 && last == 'W') {
            c->dom_last_weekday = true;
            return CHR_OK;
        }
        it->i = 1;
        if (it->s[1] != '-')
            return unexpected(it);
        it->i = 2;
        if ((e = read_tail_number(it, 1, 30, &n)) != CHR_OK)
            return e;
        c->dom_before_last |= 1u << n;
        return CHR_OK;
    }
    if (last == 'W' && is_digit(first)) {
        it->end = it->len - 1;
        if ((e = read_tail_number(it, 1, 31, &n)) != CHR_OK)
            return e;
        c->dom_nearest_weekday |= 1u << n;
        return CHR_OK;
    }
    return parse_range_item(it, bits);
}

/* Is s[0, n) all digits, or three letters (a weekday's name)? */
static bool looks_like_day(const char *s, size_t n)
{
    bool digits = n > 0, letters = n == 3;
    for (size_t k = 0; k < n; k++) {
        digits = digits && is_digit(s[k]);
        letters = letters && is_alpha(s[k]);
    }
    return digits || letters;
}

/* Day of week: `dL`, `d#k`, or a plain range item (d a number or a name). */
static enum chr_err parse_dow_item(struct item *it, struct chr_cron *c, uint64_t *bits)
{
    const char *hash = memchr(it->s, '#', it->len);
    int d, k;
    enum chr_err e;
    if (hash != NULL) {
        it->end = (size_t)(hash - it->s);
        if ((e = read_value(it, 0, 7, &d)) != CHR_OK)
            return e;
        if (it->i != it->end)
            return unexpected(it);
        it->i++;
        it->end = it->len;
        if ((e = read_tail_number(it, 1, 5, &k)) != CHR_OK)
            return e;
        c->dow_nth |= (uint64_t)1 << ((d % 7) * 5 + k - 1);
        return CHR_OK;
    }
    if (upper(it->s[it->len - 1]) == 'L') {
        if (it->len == 1)
            return chr_error_set(it->err, CHR_EINVAL, it->f->name,
                                 "'L' needs a day before it, as in 5L (the last Friday)");
        if (looks_like_day(it->s, it->len - 1)) {
            it->end = it->len - 1;
            if ((e = read_value(it, 0, 7, &d)) != CHR_OK)
                return e;
            c->dow_last |= (uint8_t)(1u << (d % 7));
            return CHR_OK;
        }
    }
    return parse_range_item(it, bits);
}

/* One field's text s[0, len) into `c`. */
static enum chr_err parse_field(enum field_id id, const char *s, size_t len, struct chr_cron *c,
                                struct chr_error *err)
{
    const struct field_spec *f = &specs[id];
    bool any = len == 1 && (s[0] == '*' || s[0] == '?');
    if (len == 1 && s[0] == '?') {
        if (id != F_DOM && id != F_DOW)
            return chr_error_set(err, CHR_EINVAL, f->name,
                                 "'?' is allowed only in day-of-month and day-of-week");
        s = "*";
    }
    uint64_t bits = 0;
    enum chr_err e = CHR_OK;
    for (size_t b = 0;;) {
        size_t end = b;
        while (end < len && s[end] != ',')
            end++;
        if (end == b)
            return chr_error_set(err, CHR_EINVAL, f->name, "empty item in list");
        struct item it = {s + b, end - b, 0, end - b, f, err};
        if (id == F_DOM)
            e = parse_dom_item(&it, c, &bits);
        else if (id == F_DOW)
            e = parse_dow_item(&it, c, &bits);
        else
            e = parse_range_item(&it, &bits);
        if (e != CHR_OK)
            return e;
        if (end == len)
            break;
        b = end + 1;
    }
    if (id == F_MINUTE) {
        c->minutes = bits;
    } else if (id == F_HOUR) {
        c->hours = (uint32_t)bits;
        c->hour_wildcard = any; /* exactly `*`: follow the clock through DST */
    } else if (id == F_DOM) {
        c->dom = (uint32_t)bits;
        c->dom_restricted = !any;
    } else if (id == F_MONTH) {
        c->months = (uint16_t)bits;
    } else {
        c->dow = (uint8_t)((bits | bits >> 7) & 0x7f); /* 7 is Sunday too */
        c->dow_restricted = !any;
    }
    return CHR_OK;
}

/* ---- Day matching ------------------------------------------------------- */

/* The day of the month nearest to day n (n <= last) that is Monday-Friday,
 * staying inside the month; wd1 is the weekday of day 1. */
static int nearest_weekday(int n, int last, int wd1)
{
    int wd = (wd1 + n - 1) % 7;
    if (wd == 6)
        return n == 1 ? 3 : n - 1;
    if (wd == 0)
        return n == last ? n - 2 : n + 1;
    return n;
}

static uint32_t dom_mask(const struct chr_cron *c, int last, int wd1)
{
    uint32_t mask = c->dom;
    for (uint32_t b = c->dom_before_last; b != 0; b &= b - 1) {
        int d = last - __builtin_ctz(b);
        if (d >= 1)
            mask |= 1u << d;
    }
    for (uint32_t b = c->dom_nearest_weekday; b != 0; b &= b - 1) {
        int n = __builtin_ctz(b);
        if (n <= last)
            mask |= 1u << nearest_weekday(n, last, wd1);
    }
    if (c->dom_last_weekday) {
        int wd_last = (wd1 + last - 1) % 7;
        mask |= 1u << (last - (wd_last == 6 ? 1 : wd_last == 0 ? 2 : 0));
    }
    return mask;
}

/* The first day of the month (1-7) that falls on weekday w. */
static int first_on(int w, int wd1)
{
    return 1 + (w - wd1 + 7) % 7;
}

static uint32_t dow_mask(const struct chr_cron *c, int last, int wd1)
{
    /* Days 0, 7, 14, 21, 28 and 35 (the last is shifted out), moved to the
     * first day of weekday w. */
    const uint64_t every_week = 0x0810204081ULL;
    uint32_t mask = 0;
    for (unsigned b = c->dow; b != 0; b &= b - 1)
        mask |= (uint32_t)(every_week << first_on(__builtin_ctz(b), wd1));
    for (unsigned b = c->dow_last; b != 0; b &= b - 1) {
        int w = __builtin_ctz(b), wd_last = (wd1 + last - 1) % 7;
        mask |= 1u << (last - (wd_last - w + 7) % 7);
    }
    for (uint64_t b = c->dow_nth; b != 0; b &= b - 1) {
        int bit = __builtin_ctzll(b);
        int d = first_on(bit / 5, wd1) + 7 * (bit % 5);
        if (d <= last)
            mask |= 1u << d;
    }
    return mask;
}

/* Bit d set for each day d of month (y, m) that the day fields match. */
static uint32_t month_day_mask(const struct chr_cron *c, int64_t y, int m)
{
    int last = chr_days_in_month(y, m);
    int wd1 = chr_weekday(chr_days_from_civil(y, m, 1));
    uint32_t valid = (uint32_t)(((uint64_t)1 << (last + 1)) - 2); /* days 1..last */
    uint32_t dom = dom_mask(c, last, wd1), dow = dow_mask(c, last, wd1);
    uint32_t days = (c->dom_restricted && c->dow_restricted) ? (dom | dow) : (dom & dow);
    return days & valid;
}

bool chr_cron_day_matches(const struct chr_cron *c, int64_t y, int m, int d)
{
    if (m < 1 || m > 12 || d < 1 || d > 31)
        return false;
    return (month_day_mask(c, y, m) >> d) & 1u;
}

/* ---- Parsing the expression --------------------------------------------- */

/* A day in the calendar cycle that matches the day and month fields? */
static bool can_fire(const struct chr_cron *c)
{
    for (int64_t y = CYCLE_FIRST_YEAR; y < CYCLE_FIRST_YEAR + CYCLE_YEARS; y++)
        for (int m = 1; m <= 12; m++)
            if (((c->months >> m) & 1u) && month_day_mask(c, y, m) != 0)
                return true;
    return false;
}

struct span {
    size_t at, len;
};

static bool is_blank(char ch)
{
    return ch == ' ' || ch == '\t';
}

static enum chr_err never_fires(const char *s, const struct span *fs, bool dow_restricted,
                                struct chr_error *err)
{
    const struct span *dom = &fs[F_DOM], *mon = &fs[F_MONTH], *dow = &fs[F_DOW];
    if (!dow_restricted)
        return chr_error_set(err, CHR_EINVAL, "expression",
                             "can never fire (day-of-month '%.*s' never occurs in month '%.*s')",
                             quote_len(dom->len), s + dom->at, quote_len(mon->len), s + mon->at);
    return chr_error_set(err, CHR_EINVAL, "expression",
                         "can never fire (no day matches day-of-month '%.*s', month '%.*s' and "
                         "day-of-week '%.*s')",
                         quote_len(dom->len), s + dom->at, quote_len(mon->len), s + mon->at,
                         quote_len(dow->len), s + dow->at);
}

static enum chr_err parse_fields(const char *s, size_t n, size_t i, struct chr_cron *out,
                                 struct chr_error *err)
{
    struct span fs[F_COUNT];
    size_t count = 0;
    while (i < n) {
        size_t from = i;
        while (i < n && !is_blank(s[i]))
            i++;
        if (count < F_COUNT)
            fs[count] = (struct span){from, i - from};
        count++;
        while (i < n && is_blank(s[i]))
            i++;
    }
    if (count != F_COUNT)
        return chr_error_set(err, CHR_EINVAL, "expression", "expected 5 fields, got %zu", count);
    struct chr_cron c;
    memset(&c, 0, sizeof c);
    for (int id = 0; id < F_COUNT; id++) {
        enum chr_err e = parse_field((enum field_id)id, s + fs[id].at, fs[id].len, &c, err);
        if (e != CHR_OK)
            return e;
    }
    if (!can_fire(&c))
        return never_fires(s, fs, c.dow_restricted, err);
    *out = c;
    return CHR_OK;
}

static const struct {
    const char *name;
    const char *fields;
} macros[] = {
    {"@yearly", "0 0 1 1 *"}, {"@annually", "0 0 1 1 *"}, {"@monthly", "0 0 1 * *"},
    {"@weekly", "0 0 * * 0"}, {"@daily", "0 0 * * *"},    {"@midnight", "0 0 * * *"},
    {"@hourly", "0 * * * *"},
};

/* Does s[0, n) equal `name` ignoring case? (`name` is lower-case) */
static bool same_name(const char *s, size_t n, const char *name)
{
    size_t k = 0;
    for (; k < n && name[k] != '\0'; k++)
        if (s[k] != name[k] && s[k] != upper(name[k]))
            return false;
    return k == n && name[k] == '\0';
}

/* s[0, n) starts with '@' (leading blanks are gone). */
static enum chr_err parse_macro(const char *s, size_t n, struct chr_cron *out,
                                struct chr_error *err)
{
    size_t len = 0;
    while (len < n && !is_blank(s[len]))
        len++;
    size_t i = len;
    while (i < n && is_blank(s[i]))
        i++;
    if (same_name(s, len, "@reboot"))
        return chr_error_set(err, CHR_EINVAL, "expression",
                             "@reboot is not supported (a job has no machine to boot)");
    if (same_name(s, len, "@every"))
        return chr_error_set(err, CHR_EINVAL, "expression",
                             "@every is not supported; write an ISO 8601 interval R/start/PT...");
    for (size_t k = 0; k < sizeof macros / sizeof macros[0]; k++) {
        if (!same_name(s, len, macros[k].name))
            continue;
        if (i != n)
            return chr_error_set(err, CHR_EINVAL, "expression", "unexpected '%.*s' after %s",
                                 quote_len(n - i), s + i, macros[k].name);
        return parse_fields(macros[k].fields, strlen(macros[k].fields), 0, out, err);
    }
    return chr_error_set(err, CHR_EINVAL, "expression", "unknown macro '%.*s'", quote_len(len), s);
}

enum chr_err chr_cron_parse(const char *expr, struct chr_cron *out, struct chr_error *err)
{
    if (expr == NULL)
        return chr_error_set(err, CHR_EINVAL, "expression", "is missing");
    size_t n = strnlen(expr, CHR_SCHEDULE_LEN_MAX + 1);
    if (n > CHR_SCHEDULE_LEN_MAX)
        return chr_error_set(err, CHR_EINVAL, "expression", "is longer than %d bytes",
                             CHR_SCHEDULE_LEN_MAX);
    size_t i = 0;
    while (i < n && is_blank(expr[i]))
        i++;
    if (i < n && expr[i] == '@')
        return parse_macro(expr + i, n - i, out, err);
    return parse_fields(expr, n, i, out, err);
}

/* ---- Matching wall times ------------------------------------------------ */

/* The lowest set bit of `bits` at or above `from`, or -1. */
static int next_bit(uint64_t bits, int from)
{
    if (from >= 64)
        return -1;
    bits &= ~(uint64_t)0 << from;
    return bits == 0 ? -1 : __builtin_ctzll(bits);
}

static int64_t year_of(int64_t local_ms)
{
    int64_t y;
    int m, d;
    chr_civil_from_days(chr_floor_div(local_ms, CHR_MS_PER_DAY), &y, &m, &d);
    return y;
}

/*
 * The first matching wall time >= local_ms (a whole minute), searching no
 * further than the end of year `year_max`.  Field by field: a month that does
 * not match skips to the next that does, a day to the next matching day of
 * the month, and so on, each skip resetting the smaller fields.
 */
static enum chr_err match_from(const struct chr_cron *c, int64_t local_ms, int64_t year_max,
                               int64_t *out)
{
    struct chr_civil w;
    chr_ms_to_civil(chr_floor_div(local_ms + CHR_MS_PER_MIN - 1, CHR_MS_PER_MIN) * CHR_MS_PER_MIN,
                    &w);
    int64_t y = w.year, days_y = 0;
    int m = w.month, d = w.day, h = w.hour, mi = w.minute, days_m = 0;
    uint32_t days = 0;
    while (y <= year_max) {
        int next = next_bit(c->months, m);
        if (next < 0) {
            y++, m = 1, d = 1, h = 0, mi = 0;
            continue;
        }
        if (next != m)
            m = next, d = 1, h = 0, mi = 0;
        if (days_m != m || days_y != y)
            days = month_day_mask(c, y, m), days_y = y, days_m = m;
        if ((next = next_bit(days, d)) < 0) {
            m++, d = 1, h = 0, mi = 0;
            continue;
        }
        if (next != d)
            d = next, h = 0, mi = 0;
        if ((next = next_bit(c->hours, h)) < 0) {
            d++, h = 0, mi = 0;
            continue;
        }
        if (next != h)
            h = next, mi = 0;
        if ((next = next_bit(c->minutes, mi)) < 0) {
            h++, mi = 0;
            continue;
        }
        *out = chr_days_from_civil(y, m, d) * CHR_MS_PER_DAY + h * CHR_MS_PER_HOUR +
               next * CHR_MS_PER_MIN;
        return CHR_OK;
    }
    return CHR_ENONE;
}

enum chr_err chr_cron_match_ge(const struct chr_cron *c, int64_t local_ms, int64_t *match_local_ms)
{
    if (local_ms < -MS_LIMIT || local_ms > MS_LIMIT)
        return CHR_ENONE;
    return match_from(c, local_ms, year_of(local_ms) + CHR_CRON_SEARCH_YEARS, match_local_ms);
}

/* ---- The next instant in a zone ----------------------------------------- */

/*
 * The first firing instant >= t inside segment `seg` (which contains t),
 * looking no further than instant `t_max`.  Walls are local ms; an offset o
 * maps wall W to instant W - o.
 */
static bool segment_first(const struct chr_cron *c, const struct chr_tz_segment *seg, int64_t t,
                          int64_t t_max, int64_t *at_ms)
{
    int64_t o = seg->offset_s * CHR_MS_PER_SEC, p = seg->prev_offset_s * CHR_MS_PER_SEC;
    bool fixed = !c->hour_wildcard, after_transition = seg->start_ms > -MS_LIMIT;
    int64_t end_wall = (seg->end_ms < t_max ? seg->end_ms : t_max) + o;
    int64_t from = t + o, best = INT64_MAX, w;
    /* Clocks went back at start: walls [start + o, start + p) are second
     * passes, and a fixed wall time has fired at its first. */
    if (fixed && after_transition && o < p && seg->start_ms + p > from)
        from = seg->start_ms + p;
    if (from < end_wall && match_from(c, from, year_of(end_wall), &w) == CHR_OK && w < end_wall)
        best = w - o;
    /* Clocks went forward at start: walls [start + p, start + o) never
     * happened; a fixed one fires at W - p, shifted forward by the gap. */
    if (fixed && after_transition && o > p) {
        int64_t lo = seg->start_ms + p > t + p ? seg->start_ms + p : t + p;
        int64_t hi = seg->start_ms + o;
        if (lo < hi && match_from(c, lo, year_of(hi), &w) == CHR_OK && w < hi && w - p < best)
            best = w - p;
    }
    if (best == INT64_MAX)
        return false;
    *at_ms = best;
    return true;
}

enum chr_err chr_cron_next(const struct chr_cron *c, const struct chr_tz *tz, int64_t after_ms,
                           int64_t *next_ms)
{
    if (after_ms >= MS_LIMIT)
        return CHR_ENONE;
    /* Before the supported span, search from its start. */
    int64_t t = after_ms < -MS_LIMIT ? -MS_LIMIT : after_ms + 1;
    int64_t t_max = t + (int64_t)CHR_CRON_SEARCH_YEARS * 366 * CHR_MS_PER_DAY;
    for (;;) {
        struct chr_tz_segment seg;
        chr_tz_segment_at(tz, t, &seg);
        if (segment_first(c, &seg, t, t_max, next_ms))
            return CHR_OK;
        if (seg.end_ms >= t_max)
            return CHR_ENONE;
        t = seg.end_ms;
    }
}
