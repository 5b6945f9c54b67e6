/*
 * next.c - `chronos next`: the instants a schedule fires at, as docs/time.md
 * specifies.  One request from the command line, or a stream of JSON
 * requests on stdin (--json-lines) answered one line each, in order.
 *
 * The only clock read is "now" as the default --from.  Every input is
 * bounded: expression length (CHR_SCHEDULE_LEN_MAX), count
 * (CHR_NEXT_COUNT_MAX), input line length (CHR_JSON_LINE_MAX).
 */
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "cli/cli.h"
#include "common/alloc.h"
#include "common/clock.h"
#include "common/limits.h"
#include "iso8601/iso8601.h"

#define DEFAULT_COUNT 5

static const char next_help[] =
    "usage: chronos next [--tz ZONE] [--from INSTANT] [--count N] EXPR\n"
    "       chronos next --json-lines\n"
    "       chronos next --job NAME [--count N]   (a stored job, asked of the server)\n"
    "\n"
    "Prints the next instants at which a schedule fires, one a line, in UTC\n"
    "ISO 8601 with milliseconds (2024-03-10T07:30:00.000Z).\n"
    "\n"
    "  EXPR            an ISO 8601 repeating interval (R[n]/start/period, e.g.\n"
    "                  R/2025-01-01T02:00:00Z/P1D) or a cron expression or macro\n"
    "                  ('30 2 * * *', '0 9 * * MON-FRI', '@daily')\n"
    "  --tz ZONE       the job's IANA time zone (as scheduleTimeZone); cron fields\n"
    "                  and ISO starts are read in it; default UTC\n"
    "  --from INSTANT  list instants strictly after this one (YYYY-MM-DD[THH:MM[:SS[.fff]]]\n"
    "                  [Z|+-HH:MM], UTC when no offset); default now\n"
    "  --count N       how many instants, 1-10000; default 5\n"
    "  --json-lines    read requests from stdin, one JSON object a line:\n"
    "                  {\"expr\": \"...\", \"tz\": \"...\", \"from\": \"...\", \"count\": N}\n"
    "                  (tz, from, count optional); answer one line each, in order:\n"
    "                  {\"next\": [\"...\", ...]} or {\"error\": \"...\"}\n"
    "\n"
    "Exit status: 0 success; 1 a bad expression, zone, instant or count (one line\n"
    "on stderr names it); 2 a usage error.\n";

struct next_request {
    const char *expr;
    const char *tz; /* NULL: no job zone */
    const char *from; /* NULL: now */
    long long count;
};

/* Computes the instants of `rq` into out[]; fills `err` on a bad value. */
static enum chr_err answer(struct chr_tzdb *db, const struct next_request *rq, int64_t *out,
                           size_t *n, struct chr_error *err)
{
    const struct chr_tz *zone = NULL;
    enum chr_err e;
    if (rq->count < 1 || rq->count > CHR_NEXT_COUNT_MAX)
        return chr_error_set(err, CHR_EINVAL, "count", "%lld is out of range 1-%d", rq->count,
                             CHR_NEXT_COUNT_MAX);
    if (rq->tz != NULL && (e = chr_tzdb_get(db, rq->tz, &zone, err)) != CHR_OK)
        return e;
    int64_t from = chr_clock_wall_ms();
    if (rq->from != NULL && (e = chr_instant_parse(rq->from, &from, err)) != CHR_OK) {
        char why[CHR_ERROR_MESSAGE_MAX];
        const char *m = err->message;
        snprintf(why, sizeof why, "%s", strncmp(m, "instant: ", 9) == 0 ? m + 9 : m);
        return chr_error_set(err, e, "from", "%s", why);
    }
    struct chr_schedule s;
    if ((e = chr_schedule_parse(rq->expr, zone, db, &s, err)) != CHR_OK)
        return e;
    *n = chr_schedule_next_n(&s, from, out, (size_t)rq->count);
    return CHR_OK;
}

/* Strict decimal count: digits only, no sign, bounded. */
static bool parse_count(const char *s, long long *out)
{
    long long v = 0;
    if (*s == '\0')
        return false;
    for (; *s; s++) {
        if (*s < '0' || *s > '9' || v > 1000000000LL)
            return false;
        v = v * 10 + (*s - '0');
    }
    *out = v;
    return true;
}

static int print_instants(const int64_t *at, size_t n)
{
    char buf[CHR_INSTANT_TEXT_MAX];
    for (size_t i = 0; i < n; i++) {
        chr_instant_format(at[i], buf);
        puts(buf);
    }
    return fflush(stdout) == 0 ? CHR_EXIT_OK : CHR_EXIT_BAD_VALUE;
}

/* One request line of --json-lines to its answer object (caller owns it). */
static json_t *json_answer(struct chr_tzdb *db, const char *line, size_t len, int64_t *buf)
{
    json_error_t jerr;
    struct chr_error err = {{0}, {0}};
    json_t *rq = json_loadb(line, len, JSON_REJECT_DUPLICATES, &jerr);
    if (rq == NULL)
        return json_pack("{s:s+}", "error", "invalid JSON: ", jerr.text);
    json_t *out = NULL;
    struct next_request r = {NULL, NULL, NULL, DEFAULT_COUNT};
    json_t *expr = json_object_get(rq, "expr"), *tz = json_object_get(rq, "tz");
    json_t *from = json_object_get(rq, "from"), *count = json_object_get(rq, "count");
    if (!json_is_object(rq))
        out = json_pack("{s:s}", "error", "request: expected a JSON object");
    else if (!json_is_string(expr))
        out = json_pack("{s:s}", "error", "expr: required, a string");
    else if (tz != NULL && !json_is_string(tz) && !json_is_null(tz))
        out = json_pack("{s:s}", "error", "tz: expected a string");
    else if (from != NULL && !json_is_string(from) && !json_is_null(from))
        out = json_pack("{s:s}", "error", "from: expected a string");
    else if (count != NULL && !json_is_integer(count) && !json_is_null(count))
        out = json_pack("{s:s}", "error", "count: expected an integer");
    if (out != NULL) {
        json_decref(rq);
        return out;
    }
    r.expr = json_string_value(expr);
    r.tz = json_is_string(tz) ? json_string_value(tz) : NULL;
    r.from = json_is_string(from) ? json_string_value(from) : NULL;
    if (json_is_integer(count))
        r.count = json_integer_value(count);
    size_t n = 0;
    if (answer(db, &r, buf, &n, &err) != CHR_OK) {
        out = json_pack("{s:s}", "error", err.message);
    } else {
        json_t *list = json_array();
        char txt[CHR_INSTANT_TEXT_MAX];
        for (size_t i = 0; i < n && list != NULL; i++) {
            chr_instant_format(buf[i], txt);
            json_array_append_new(list, json_string(txt));
        }
        out = list ? json_pack("{s:o}", "next", list) : NULL;
    }
    json_decref(rq);
    return out;
}

/* Reads one line into buf (at most cap-1 bytes); *too_long when it did not
 * fit (the rest of the line is consumed).  False at end of input. */
static bool read_line(char *buf, size_t cap, size_t *len, bool *too_long)
{
    if (fgets(buf, (int)cap, stdin) == NULL)
        return false;
    *len = strlen(buf);
    *too_long = false;
    if (*len > 0 && buf[*len - 1] == '\n') {
        buf[--*len] = '\0';
    } else if (!feof(stdin)) {
        int ch;
        *too_long = true;
        while ((ch = getchar()) != EOF && ch != '\n')
            ;
    }
    return true;
}

static int json_lines(struct chr_tzdb *db)
{
    static char line[CHR_JSON_LINE_MAX + 2];
    int64_t *buf = chr_calloc(CHR_NEXT_COUNT_MAX, sizeof *buf);
    if (buf == NULL) {
        fputs("chronos next: out of memory\n", stderr);
        return CHR_EXIT_BAD_VALUE;
    }
    size_t len;
    bool too_long;
    int status = CHR_EXIT_OK;
    while (read_line(line, sizeof line, &len, &too_long)) {
        json_t *out = too_long ? json_pack("{s:s}", "error", "request: line longer than 8192 bytes")
                               : json_answer(db, line, len, buf);
        if (out == NULL || json_dumpf(out, stdout, JSON_COMPACT) != 0) {
            status = CHR_EXIT_BAD_VALUE;
            fputs("{\"error\":\"internal: could not write the answer\"}", stdout);
        }
        json_decref(out);
        putchar('\n');
        fflush(stdout);
    }
    chr_free(buf);
    return status;
}

static int usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int usage_error(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("chronos next: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputs(" (see `chronos next --help`)\n", stderr);
    va_end(ap);
    return CHR_EXIT_USAGE;
}

/* "--name VALUE" or "--name=VALUE": the value, advancing *i; NULL if absent. */
static const char *option_value(int argc, char **argv, int *i, const char *name, bool *matched)
{
    size_t n = strlen(name);
    const char *a = argv[*i];
    *matched = false;
    if (strncmp(a, name, n) != 0 || (a[n] != '\0' && a[n] != '='))
        return NULL;
    *matched = true;
    if (a[n] == '=')
        return a + n + 1;
    if (*i + 1 >= argc)
        return NULL;
    return argv[++*i];
}

/* Parses the options into rq; returns -1 to go on, else an exit status. */
static int parse_args(int argc, char **argv, struct next_request *rq, bool *json_mode)
{
    static const char *const names[] = {"--tz", "--from", "--count"};
    const char *count_txt = NULL;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            fputs(next_help, stdout);
            return CHR_EXIT_OK;
        }
        if (strcmp(a, "--json-lines") == 0) {
            *json_mode = true;
            continue;
        }
        if (strcmp(a, "--") == 0) {
            if (i + 2 != argc)
                return usage_error("expected one EXPR after --");
            rq->expr = argv[i + 1];
            break;
        }
        bool matched = false;
        const char *v = NULL;
        size_t k;
        for (k = 0; k < 3 && !matched; k++)
            v = option_value(argc, argv, &i, names[k], &matched);
        if (matched && v == NULL)
            return usage_error("option %s needs a value", names[k - 1]);
        if (matched) {
            const char **slot[] = {&rq->tz, &rq->from, &count_txt};
            *slot[k - 1] = v;
            continue;
        }
        if (a[0] == '-' && a[1] != '\0')
            return usage_error("unknown option '%s'", a);
        if (rq->expr != NULL)
            return usage_error("unexpected argument '%s' (quote the expression)", a);
        rq->expr = a;
    }
    if (count_txt != NULL && !parse_count(count_txt, &rq->count)) {
        fprintf(stderr, "chronos next: count: '%s' is not a whole number 1-%d\n", count_txt,
                CHR_NEXT_COUNT_MAX);
        return CHR_EXIT_BAD_VALUE;
    }
    if (*json_mode && (rq->expr || rq->tz || rq->from || count_txt))
        return usage_error("--json-lines takes no other arguments");
    if (!*json_mode && rq->expr == NULL)
        return usage_error("missing EXPR");
    return -1;
}

int chr_cli_next(int argc, char **argv)
{
    /* `--job NAME` asks the server instead (client_runs.c). */
    for (int i = 1; i < argc && strcmp(argv[i], "--") != 0; i++)
        if (strcmp(argv[i], "--job") == 0 || strncmp(argv[i], "--job=", 6) == 0)
            return chr_cli_next_job(argc, argv);
    struct next_request rq = {NULL, NULL, NULL, DEFAULT_COUNT};
    bool json_mode = false;
    int status = parse_args(argc, argv, &rq, &json_mode);
    if (status >= 0)
        return status;
    struct chr_tzdb *db = NULL;
    if (chr_tzdb_create(NULL, &db) != CHR_OK) {
        fputs("chronos next: out of memory\n", stderr);
        return CHR_EXIT_BAD_VALUE;
    }
    if (json_mode) {
        status = json_lines(db);
    } else {
        static int64_t out[CHR_NEXT_COUNT_MAX];
        struct chr_error err = {{0}, {0}};
        size_t n = 0;
        if (answer(db, &rq, out, &n, &err) != CHR_OK) {
            fprintf(stderr, "chronos next: %s\n", err.message);
            status = CHR_EXIT_BAD_VALUE;
        } else {
            status = print_instants(out, n);
        }
    }
    chr_tzdb_destroy(db);
    return status;
}
