/*
 * log.h - the server's log lines on stderr: "<UTC instant, ms> <text>", each
 * line written whole in one call, so lines of different threads never mix.
 */
#ifndef CHR_COMMON_LOG_H
#define CHR_COMMON_LOG_H

#include <stdarg.h>
#include <stdint.h>

void chr_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void chr_logv(const char *fmt, va_list ap) __attribute__((format(printf, 1, 0)));

#endif
