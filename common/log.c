/*
 * log.c - the server's log lines (log.h).
 */
#include "common/log.h"

#include <jansson.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "common/clock.h"

/* A line longer than this is cut (a log line names a job or a path or two). */
#define LOG_LINE_MAX 1024
/* "YYYY-MM-DDTHH:MM:SS.mmmZ" and its NUL, with room for any int fields. */
#define LOG_AT_MAX 96

/* Set once by main before the threads start (log.h); read only after. */
static enum chr_log_format log_format = CHR_LOG_TEXT;

void chr_log_set_format(enum chr_log_format f)
{
    log_format = f;
}

bool chr_log_format_parse(const char *s, enum chr_log_format *f)
{
    if (strcmp(s, "text") == 0)
        *f = CHR_LOG_TEXT;
    else if (strcmp(s, "json") == 0)
        *f = CHR_LOG_JSON;
    else
        return false;
    return true;
}

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

/* One JSON line; out of memory, the text line (a line is never lost). */
static bool write_json(const char *at, enum chr_log_level level, const char *job,
                       const char *run, const char *msg)
{
    json_t *o = json_object();
    bool ok = o != NULL && json_object_set_new(o, "ts", json_string(at)) == 0 &&
              json_object_set_new(o, "level",
                                  json_string(level == CHR_LOG_WARN ? "warn" : "info")) == 0 &&
              json_object_set_new(o, "msg", json_stringn(msg, strlen(msg))) == 0 &&
              (job == NULL || json_object_set_new(o, "job", json_string(job)) == 0) &&
              (run == NULL || json_object_set_new(o, "run", json_string(run)) == 0);
    char *text = ok ? json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
    json_decref(o);
    if (text == NULL)
        return false;
    fprintf(stderr, "%s\n", text);
    free(text); /* lint: allow (jansson's allocation) */
    return true;
}

static void log_line(enum chr_log_level level, const char *job, const char *run,
                     const char *fmt, va_list ap) __attribute__((format(printf, 4, 0)));
static void log_line(enum chr_log_level level, const char *job, const char *run,
                     const char *fmt, va_list ap)
{
    char at[LOG_AT_MAX];
    char line[LOG_LINE_MAX];
    format_at(chr_clock_wall_ms(), at);
    vsnprintf(line, sizeof line, fmt, ap);
    if (log_format == CHR_LOG_JSON && write_json(at, level, job, run, line))
        return;
    fprintf(stderr, "%s %s\n", at, line);
}

void chr_logv(const char *fmt, va_list ap)
{
    log_line(CHR_LOG_INFO, NULL, NULL, fmt, ap);
}

void chr_log(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    chr_logv(fmt, ap);
    va_end(ap);
}

void chr_log_event(enum chr_log_level level, const char *job, const char *run, const char *fmt,
                   ...)
{
    va_list ap;
    va_start(ap, fmt);
    log_line(level, job, run, fmt, ap);
    va_end(ap);
}
