/*
 * civil.c - proleptic Gregorian calendar arithmetic and instants as text.
 *
 * Pure functions: no I/O, no clock, no allocation, no global state.  The day
 * count conversions are Howard Hinnant's era-based algorithms, exact for every
 * year whose day count fits int64.
 */
#include "iso8601.h"

#include <stdio.h>
#include <string.h>

int64_t chr_floor_div(int64_t a, int64_t b)
{
    int64_t q = a / b;
    if ((a % b != 0) && ((a < 0) != (b < 0)))
        q--;
    return q;
}

int64_t chr_floor_mod(int64_t a, int64_t b)
{
    int64_t r = a % b;
    if (r != 0 && ((r < 0) != (b < 0)))
        r += b;
    return r;
}

bool chr_is_leap_year(int64_t y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

int chr_days_in_month(int64_t y, int m)
{
    static const int len[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (m == 2 && chr_is_leap_year(y))
        return 29;
    return len[m - 1];
}

int64_t chr_days_from_civil(int64_t y, int m, int d)
{
    y -= m <= 2;
    int64_t era = chr_floor_div(y, 400);
    int64_t yoe = y - era * 400;                                  /* [0, 399] */
    int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1; /* [0, 365] */
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;          /* [0, 146096] */
    return era * 146097 + doe - 719468;
}

void chr_civil_from_days(int64_t days, int64_t *y, int *m, int *d)
{
    int64_t z = days + 719468;
    int64_t era = chr_floor_div(z, 146097);
    int64_t doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    *d = (int)(doy - (153 * mp + 2) / 5 + 1);
    *m = (int)(mp < 10 ? mp + 3 : mp - 9);
    *y = yoe + era * 400 + (*m <= 2);
}

int chr_weekday(int64_t days)
{
    return (int)chr_floor_mod(days + 4, 7); /* 1970-01-01 was a Thursday */
}

int64_t chr_civil_to_ms(const struct chr_civil *c)
{
    int64_t days = chr_days_from_civil(c->year, c->month, c->day);
    return days * CHR_MS_PER_DAY + c->hour * CHR_MS_PER_HOUR + c->minute * CHR_MS_PER_MIN +
           c->second * CHR_MS_PER_SEC + c->ms;
}

void chr_ms_to_civil(int64_t ms, struct chr_civil *c)
{
    int64_t days = chr_floor_div(ms, CHR_MS_PER_DAY);
    int64_t rest = chr_floor_mod(ms, CHR_MS_PER_DAY); /* no days * DAY: it overflows at the ends */
    chr_civil_from_days(days, &c->year, &c->month, &c->day);
    c->hour = (int)(rest / CHR_MS_PER_HOUR);
    c->minute = (int)(rest / CHR_MS_PER_MIN % 60);
    c->second = (int)(rest / CHR_MS_PER_SEC % 60);
    c->ms = (int)(rest % CHR_MS_PER_SEC);
}

size_t chr_instant_format(int64_t at_ms, char buf[CHR_INSTANT_TEXT_MAX])
{
    struct chr_civil c;
    chr_ms_to_civil(at_ms, &c);
    int n;
    if (c.year >= 0 && c.year <= 9999)
        n = snprintf(buf, CHR_INSTANT_TEXT_MAX, "%04lld-%02d-%02dT%02d:%02d:%02d.%03dZ",
                     (long long)c.year, c.month, c.day, c.hour, c.minute, c.second, c.ms);
    else
        n = snprintf(buf, CHR_INSTANT_TEXT_MAX, "%+05lld-%02d-%02dT%02d:%02d:%02d.%03dZ",
                     (long long)c.year, c.month, c.day, c.hour, c.minute, c.second, c.ms);
    if (n < 0)
        n = 0;
    return (size_t)n < CHR_INSTANT_TEXT_MAX ? (size_t)n : CHR_INSTANT_TEXT_MAX - 1;
}
