/*
 * client_table.c - how the client shows things to people (client.h):
 * aligned tables, times relative to now ("in 3m", "5s ago"), durations, and
 * JSON values as one line of text.  Pure: the callers read the clock
 * (common/clock.h) and pass now.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli/client.h"
#include "common/alloc.h"
#include "iso8601/iso8601.h"

struct chr_table {
    size_t ncols;
    size_t nrows; /* including the header row */
    size_t cap;   /* rows allocated */
    char **cells; /* nrows * ncols, row-major */
};

static void drop_rows(struct chr_table *t)
{
    for (size_t i = 0; i < t->nrows * t->ncols; i++)
        chr_free(t->cells[i]);
    chr_free(t->cells);
}

void chr_table_free(struct chr_table *t)
{
    if (t == NULL)
        return;
    drop_rows(t);
    chr_free(t);
}

struct chr_table *chr_table_new(const char *const *headers, size_t ncols)
{
    struct chr_table *t = chr_calloc(1, sizeof *t);
    if (t == NULL)
        return NULL;
    t->ncols = ncols;
    if (!chr_table_add(t, headers)) {
        chr_table_free(t);
        return NULL;
    }
    return t;
}

bool chr_table_add(struct chr_table *t, const char *const *cells)
{
    if (t->nrows == t->cap) {
        size_t cap = t->cap ? t->cap * 2 : 16, bytes;
        if (chr_mul_overflows(cap, t->ncols * sizeof(char *), &bytes))
            return false;
        char **c = chr_realloc(t->cells, bytes);
        if (c == NULL)
            return false;
        t->cells = c;
        t->cap = cap;
    }
    char **row = t->cells + t->nrows * t->ncols;
    for (size_t k = 0; k < t->ncols; k++) {
        const char *v = cells[k] ? cells[k] : "-";
        row[k] = chr_strndup(v, strlen(v));
        if (row[k] == NULL) {
            for (size_t j = 0; j < k; j++)
                chr_free(row[j]);
            return false;
        }
    }
    t->nrows++;
    return true;
}

/* Columns on a terminal: UTF-8 code points (continuation bytes skipped). */
static size_t width(const char *s)
{
    size_t w = 0;
    for (; *s; s++)
        w += ((unsigned char)*s & 0xC0) != 0x80;
    return w;
}

void chr_table_print(const struct chr_table *t, FILE *out)
{
    size_t w[16] = {0};
    size_t ncols = t->ncols < 16 ? t->ncols : 16;
    for (size_t r = 0; r < t->nrows; r++)
        for (size_t k = 0; k < ncols; k++) {
            size_t n = width(t->cells[r * t->ncols + k]);
            w[k] = n > w[k] ? n : w[k];
        }
    for (size_t r = 0; r < t->nrows; r++) {
        for (size_t k = 0; k < ncols; k++) {
            const char *cell = t->cells[r * t->ncols + k];
            fputs(cell, out);
            if (k + 1 < ncols)
                fprintf(out, "%*s", (int)(w[k] - width(cell) + 2), "");
        }
        fputc('\n', out);
    }
}

/* The largest whole unit of a positive span: "12s", "3m", "5h", "3d". */
static void span(int64_t ms, char *buf, size_t cap)
{
    int64_t s = ms / 1000;
    if (s < 60)
        snprintf(buf, cap, "%" PRId64 "s", s);
    else if (s < 3600)
        snprintf(buf, cap, "%" PRId64 "m", s / 60);
    else if (s < 48 * 3600)
        snprintf(buf, cap, "%" PRId64 "h", s / 3600);
    else
        snprintf(buf, cap, "%" PRId64 "d", s / 86400);
}

void chr_rel_time(int64_t at_ms, int64_t now_ms, char *buf, size_t cap)
{
    char s[32];
    int64_t d = at_ms - now_ms;
    if (d >= 0 && d < 1000) {
        snprintf(buf, cap, "now");
    } else if (d > 0) {
        span(d, s, sizeof s);
        snprintf(buf, cap, "in %s", s);
    } else {
        span(d == INT64_MIN ? INT64_MAX : -d, s, sizeof s);
        snprintf(buf, cap, "%s ago", s);
    }
}

void chr_duration(int64_t ms, char *buf, size_t cap)
{
    if (ms < 0)
        ms = 0;
    int64_t s = ms / 1000;
    if (ms < 1000)
        snprintf(buf, cap, "%" PRId64 "ms", ms);
    else if (s < 60)
        snprintf(buf, cap, "%" PRId64 ".%" PRId64 "s", s, (ms % 1000) / 100);
    else if (s < 3600)
        snprintf(buf, cap, "%" PRId64 "m%02" PRId64 "s", s / 60, s % 60);
    else if (s < 86400)
        snprintf(buf, cap, "%" PRId64 "h%02" PRId64 "m", s / 3600, s % 3600 / 60);
    else
        snprintf(buf, cap, "%" PRId64 "d%02" PRId64 "h", s / 86400, s % 86400 / 3600);
}

bool chr_json_instant(const json_t *v, int64_t *at_ms)
{
    const char *s = json_string_value(v);
    return s != NULL && s[0] != '\0' && chr_instant_parse(s, at_ms, NULL) == CHR_OK;
}

/* Strings of an all-string array joined by ","; NULL if any is not one. */
static char *join_strings(const json_t *a)
{
    size_t i, n = 1;
    json_t *e;
    json_array_foreach(a, i, e) {
        if (!json_is_string(e))
            return NULL;
        n += json_string_length(e) + 1;
    }
    char *out = chr_malloc(n), *p = out;
    if (out == NULL)
        return NULL;
    json_array_foreach(a, i, e) {
        size_t len = json_string_length(e);
        if (i > 0)
            *p++ = ',';
        memcpy(p, json_string_value(e), len);
        p += len;
    }
    *p = '\0';
    return out;
}

char *chr_json_text(const json_t *v)
{
    char num[64];
    if (v == NULL || json_is_null(v))
        return chr_strndup("-", 1);
    if (json_is_string(v))
        return chr_strndup(json_string_value(v), json_string_length(v));
    if (json_is_integer(v))
        snprintf(num, sizeof num, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
    else if (json_is_real(v))
        snprintf(num, sizeof num, "%g", json_real_value(v));
    else if (json_is_boolean(v))
        snprintf(num, sizeof num, "%s", json_is_true(v) ? "true" : "false");
    if (json_is_number(v) || json_is_boolean(v))
        return chr_strndup(num, strlen(num));
    if (json_is_array(v) && json_array_size(v) > 0) {
        char *joined = join_strings(v);
        if (joined != NULL)
            return joined;
    }
    char *text = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
    char *out = text ? chr_strndup(text, strlen(text)) : NULL;
    free(text); /* lint: allow (jansson's allocation) */
    return out;
}
