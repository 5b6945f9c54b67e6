/*
 * fuzz_instant.c - libFuzzer target for instants as text (chr_instant_parse,
 * chr_instant_format).
 *
 * The input is the text of an instant.  When it does not parse, the error
 * must name its field.  When it parses, formatting the instant and parsing
 * the result must give the same milliseconds, and formatting that again the
 * same text: "--from" and the API print instants that they must read back.
 * In the other direction, an int64 picked by the input is formatted (any
 * value must fit the buffer) and, when its year is one the parser accepts
 * (0001-9999), parsed back to the same value.  Any violation aborts.
 */
#include "fuzz_check.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Formats `at_ms`, checking the length; returns the text in `buf`. */
static size_t format_checked(int64_t at_ms, char buf[CHR_INSTANT_TEXT_MAX])
{
    memset(buf, 'X', CHR_INSTANT_TEXT_MAX);
    size_t len = chr_instant_format(at_ms, buf);
    FUZZ_CHECK(len < CHR_INSTANT_TEXT_MAX && memchr(buf, '\0', CHR_INSTANT_TEXT_MAX) != NULL &&
                   strlen(buf) == len,
               "format of %lld returned length %zu", (long long)at_ms, len);
    return len;
}

/* Parsing `text` (written by chr_instant_format) must give `want_ms`. */
static void check_reads_back(const char *text, int64_t want_ms, const char *source)
{
    struct chr_error err;
    int64_t got_ms = 0;
    fuzz_poison_error(&err);
    enum chr_err rc = chr_instant_parse(text, &got_ms, &err);
    FUZZ_CHECK(rc == CHR_OK && got_ms == want_ms,
               "%s: %lld formats as '%s', which parses as %s (%lld)%s%.*s", source,
               (long long)want_ms, text, chr_err_name(rc), (long long)got_ms,
               rc == CHR_OK ? "" : ": ", rc == CHR_OK ? 0 : (int)sizeof err.message, err.message);
}

/* An arbitrary int64 formats within bounds, and reads back when its year is
 * written with four digits and is not year 0. */
static void check_format_any(int64_t at_ms)
{
    char text[CHR_INSTANT_TEXT_MAX];
    size_t len = format_checked(at_ms, text);
    if (len == 24 && text[0] >= '0' && text[0] <= '9' && strncmp(text, "0000", 4) != 0)
        check_reads_back(text, at_ms, "format then parse");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char buf[FUZZ_INPUT_MAX + 1];
    const char *s = fuzz_cstring(data, size, buf);
    if (s == NULL)
        return 0;
    uint64_t h = fuzz_hash(data, size);
    check_format_any((int64_t)h);
    check_format_any(fuzz_instant_from_hash(h));

    struct chr_error err;
    int64_t at_ms = 0;
    fuzz_poison_error(&err);
    enum chr_err rc = chr_instant_parse(s, &at_ms, &err);
    if (rc != CHR_OK) {
        fuzz_check_parse_error(rc, &err, s);
        return 0;
    }
    char text[CHR_INSTANT_TEXT_MAX], again[CHR_INSTANT_TEXT_MAX];
    format_checked(at_ms, text);
    /* An offset can carry a year-1 or year-9999 date across the grammar's
     * range (0001-01-01T00:00+08:00 is year 0 in UTC): the formatter covers
     * every instant, the parser the years 1-9999 that time.md allows. */
    if (text[0] >= '0' && text[0] <= '9' && strncmp(text, "0000", 4) != 0)
        check_reads_back(text, at_ms, s);
    format_checked(at_ms, again);
    FUZZ_CHECK(strcmp(text, again) == 0, "'%s': %lld formats as '%s' then as '%s'", s,
               (long long)at_ms, text, again);
    return 0;
}
