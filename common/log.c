/*
 * log.c - the server's log lines (log.h).
 */
#include "common/log.h"

#include <stdio.h>
#include <time.h>

#include "common/clock.h"

/* A line longer than this is cut (a log line names a job or a path or two). */
#define LOG_LINE_MAX 1024
/* "YYYY-MM-DDTHH:MM:SS.mmmZ" and its NUL, with room for any int fields. */
#define LOG_AT_MAX 96

/* at_ms as an ISO 8601 UTC instant with milliseconds. */
static void format_at(int64_t at_ms, char out[LOG_AT_MAX])
{
    time_t s = (time_t)(at_ms / 1000);
    int ms = (int)(at_ms % 1000);
    if (ms < 0) {
        ms += 1000;
        s -= 1;
    }
    struct tm tm;
    if (gmtime_r(&s, &tm) == NULL) {
        snprintf(out, LOG_AT_MAX, "@%lld", (long long)at_ms);
        return;
    }
    snprintf(out, LOG_AT_MAX, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
             tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, ms);
}

void chr_logv(const char *fmt, va_list ap)
{
    char at[LOG_AT_MAX];
    char line[LOG_LINE_MAX];
    format_at(chr_clock_wall_ms(), at);
    vsnprintf(line, sizeof line, fmt, ap);
    fprintf(stderr, "%s %s\n", at, line);
}

void chr_log(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    chr_logv(fmt, ap);
    va_end(ap);
}
