/*
 * err.c - names and messages of enum chr_err, and filling a struct chr_error.
 * Pure: no allocation, no I/O.
 */
#include "err.h"

#include <stdio.h>
#include <string.h>

static const struct {
    enum chr_err code;
    const char *name;
    const char *message;
} err_table[] = {
    {CHR_OK, "OK", "success"},
    {CHR_EINVAL, "EINVAL", "invalid input"},
    {CHR_ENOMEM, "ENOMEM", "out of memory"},
    {CHR_ENOENT, "ENOENT", "not found"},
    {CHR_EIO, "EIO", "input/output error"},
    {CHR_ERANGE, "ERANGE", "value out of range"},
    {CHR_ENONE, "ENONE", "no such instant"},
    {CHR_ECONFLICT, "ECONFLICT", "conflict"},
    {CHR_EUNAVAIL, "EUNAVAIL", "unavailable"},
    {CHR_EDAMAGED, "EDAMAGED", "stored data is damaged"},
};

const char *chr_err_name(enum chr_err e)
{
    for (size_t i = 0; i < sizeof err_table / sizeof err_table[0]; i++)
        if (err_table[i].code == e)
            return err_table[i].name;
    return "EUNKNOWN";
}

const char *chr_err_message(enum chr_err e)
{
    for (size_t i = 0; i < sizeof err_table / sizeof err_table[0]; i++)
        if (err_table[i].code == e)
            return err_table[i].message;
    return "unknown error";
}

enum chr_err chr_error_set(struct chr_error *err, enum chr_err code, const char *field,
                           const char *fmt, ...)
{
    if (err == NULL)
        return code;
    if (field == NULL)
        field = "";
    snprintf(err->field, sizeof err->field, "%s", field);
    int n = 0;
    if (field[0] != '\0')
        n = snprintf(err->message, sizeof err->message, "%s: ", field);
    if (n < 0 || (size_t)n >= sizeof err->message)
        return code;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err->message + n, sizeof err->message - (size_t)n, fmt, ap);
    va_end(ap);
    return code;
}

const char *chr_error_fieldf(char buf[CHR_ERROR_FIELD_MAX], const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, CHR_ERROR_FIELD_MAX, fmt, ap);
    va_end(ap);
    return buf;
}

const char *chr_error_quote(const void *s, size_t n, size_t max, char *out)
{
    const unsigned char *p = s;
    size_t k = 0;
    for (; k < n && k < max; k++)
        out[k] = (p[k] >= 0x20 && p[k] < 0x7f) ? (char)p[k] : '?';
    if (n > max)
        memcpy(out + k, "...", 3), k += 3;
    out[k] = '\0';
    return out;
}

void chr_error_clear(struct chr_error *err)
{
    if (err == NULL)
        return;
    err->field[0] = '\0';
    err->message[0] = '\0';
}
