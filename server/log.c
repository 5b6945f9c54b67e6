/*
 * log.c - the server's log lines (log.h).
 */
#include "server/log.h"

#include <stdio.h>
#include <time.h>

#include "iso8601/iso8601.h"

/* A line longer than this is cut (a log line names a job or a path or two). */
#define LOG_LINE_MAX 1024

int64_t chr_log_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void chr_logv(const char *fmt, va_list ap)
{
    char at[CHR_INSTANT_TEXT_MAX];
    char line[LOG_LINE_MAX];
    chr_instant_format(chr_log_now_ms(), at);
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
