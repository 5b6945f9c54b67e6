/*
 * log.h - the server's log lines on stderr, each line written whole in one
 * call, so lines of different threads never mix.  Text (the default):
 * "<UTC instant, ms> <text>"; JSON: one object per line, {"ts", "level",
 * "msg"} and "job"/"run" when the line is about one.
 */
#ifndef CHR_COMMON_LOG_H
#define CHR_COMMON_LOG_H

#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>

enum chr_log_format { CHR_LOG_TEXT = 0, CHR_LOG_JSON };
enum chr_log_level { CHR_LOG_INFO = 0, CHR_LOG_WARN };

/* The format of every line from now on.  Called by main before any thread
 * starts (the one process-wide setting, as stderr itself is). */
void chr_log_set_format(enum chr_log_format f);
/* "text" or "json" into *f; false for anything else. */
bool chr_log_format_parse(const char *s, enum chr_log_format *f);

void chr_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void chr_logv(const char *fmt, va_list ap) __attribute__((format(printf, 1, 0)));
/* A line about a job or a run (either may be NULL): in JSON they are
 * fields of their own, in text they are in the message already. */
void chr_log_event(enum chr_log_level level, const char *job, const char *run, const char *fmt,
                   ...) __attribute__((format(printf, 4, 5)));

#endif
