/*
 * http_check.c - the checks every API request passes first (http_check.h):
 * request target, percent-decoding, Host, Origin, Content-Type, Basic
 * credentials.  Pure: no I/O, no clock, nothing allocated.
 */
#include "api/http_check.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <netinet/in.h>
#include <string.h>
#include <strings.h>

#include "common/base64.h"

/* ---- Lists ------------------------------------------------------------------ */

void chr_http_list_add(struct chr_http_list *l, const char *item)
{
    size_t n = strlen(item);
    if (n == 0 || n >= CHR_HTTP_LIST_ITEM_MAX || l->n == CHR_HTTP_LIST_MAX)
        return;
    if (strcmp(item, "*") == 0)
        l->any = true;
    for (size_t i = 0; i <= n; i++)
        l->v[l->n][i] = (char)tolower((unsigned char)item[i]);
    l->n++;
}

bool chr_http_list_has(const struct chr_http_list *l, const char *s, size_t len)
{
    for (size_t i = 0; i < l->n; i++)
        if (strlen(l->v[i]) == len && strncasecmp(l->v[i], s, len) == 0)
            return true;
    return false;
}

enum chr_err chr_http_list_parse(const char *csv, const char *field, struct chr_http_list *out,
                                 struct chr_error *err)
{
    memset(out, 0, sizeof *out);
    for (const char *p = csv ? csv : ""; *p != '\0';) {
        while (*p == ' ' || *p == ',')
            p++;
        size_t n = strcspn(p, ",");
        size_t k = n;
        while (k > 0 && p[k - 1] == ' ')
            k--;
        char item[CHR_HTTP_LIST_ITEM_MAX];
        char b[80];
        if (k >= sizeof item)
            return chr_error_set(err, CHR_EINVAL, field, "'%s' is longer than %d bytes",
                                 chr_error_quote(p, k, 64, b), CHR_HTTP_LIST_ITEM_MAX - 1);
        for (size_t i = 0; i < k; i++)
            if ((unsigned char)p[i] <= 0x20 || p[i] == 0x7f)
                return chr_error_set(err, CHR_EINVAL, field, "'%s' holds a space or a control byte",
                                     chr_error_quote(p, k, 64, b));
        if (k > 0 && out->n == CHR_HTTP_LIST_MAX)
            return chr_error_set(err, CHR_EINVAL, field, "more than %d entries", CHR_HTTP_LIST_MAX);
        memcpy(item, p, k);
        item[k] = '\0';
        chr_http_list_add(out, item);
        p += n;
    }
    return CHR_OK;
}

/* ---- The request target -------------------------------------------------------- */

bool chr_http_target_ok(const char *raw, size_t len)
{
    for (size_t i = 0; i < len; i++)
        if ((unsigned char)raw[i] < 0x20 || raw[i] == 0x7f)
            return false;
    return true;
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

size_t chr_http_unescape(char *s)
{
    char *w = s;
    for (const char *r = s; *r != '\0';) {
        int hi, lo;
        if (r[0] == '%' && (hi = hexval(r[1])) >= 0 && (lo = hexval(r[2])) >= 0 &&
            (hi | lo) != 0) {
            *w++ = (char)(hi * 16 + lo);
            r += 3;
        } else {
            *w++ = *r++;
        }
    }
    *w = '\0';
    return (size_t)(w - s);
}

/* ---- Host --------------------------------------------------------------------- */

static bool digits(const char *s, size_t max)
{
    size_t n = strlen(s);
    if (n == 0 || n > max)
        return false;
    for (size_t i = 0; i < n; i++)
        if (s[i] < '0' || s[i] > '9')
            return false;
    return true;
}

/* An IP literal of this server: a loopback address, or the one the client
 * connected to. */
static bool own_ip(const char *name, bool bracketed, const char *local_ip)
{
    unsigned char a[16], b[16];
    if (!bracketed && inet_pton(AF_INET, name, a) == 1)
        return a[0] == 127 || (local_ip && inet_pton(AF_INET, local_ip, b) == 1 &&
                               memcmp(a, b, 4) == 0);
    if (!bracketed || inet_pton(AF_INET6, name, a) != 1)
        return false;
    struct in6_addr v6;
    memcpy(&v6, a, sizeof v6);
    if (IN6_IS_ADDR_LOOPBACK(&v6) || (IN6_IS_ADDR_V4MAPPED(&v6) && a[12] == 127))
        return true;
    return local_ip && inet_pton(AF_INET6, local_ip, b) == 1 && memcmp(a, b, 16) == 0;
}

bool chr_http_host_ok(const char *host, const struct chr_http_list *names, const char *local_ip)
{
    if (host == NULL)
        return true;
    const char *start = host, *end = host + strlen(host), *port = NULL;
    bool bracketed = host[0] == '[';
    if (bracketed) {
        const char *close = strchr(host, ']');
        if (close == NULL || (close[1] != '\0' && close[1] != ':'))
            return false;
        start = host + 1;
        end = close;
        port = close[1] == ':' ? close + 2 : NULL;
    } else {
        const char *colon = strchr(host, ':');
        if (colon != NULL && strchr(colon + 1, ':') != NULL)
            return false; /* a bare IPv6 address: not a valid Host */
        if (colon != NULL) {
            end = colon;
            port = colon + 1;
        }
    }
    size_t n = (size_t)(end - start);
    if (port != NULL && !digits(port, 5))
        return false;
    if (n > 0 && !bracketed && start[n - 1] == '.')
        n--; /* "localhost." is localhost */
    char name[256];
    if (n == 0 || n >= sizeof name)
        return false;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)start[i];
        if (c <= 0x20 || c >= 0x7f)
            return false;
        name[i] = (char)tolower(c);
    }
    name[n] = '\0';
    if (names->any || strcmp(name, "localhost") == 0 || chr_http_list_has(names, name, n))
        return true;
    return own_ip(name, bracketed, local_ip);
}

/* ---- Origin and Content-Type -------------------------------------------------------- */

bool chr_http_origin_ok(const char *origin, const char *host, bool tls,
                        const struct chr_http_list *cors)
{
    if (origin == NULL)
        return true;
    if (cors->any || chr_http_list_has(cors, origin, strlen(origin)))
        return true;
    const char *scheme = tls ? "https://" : "http://";
    size_t k = strlen(scheme);
    return host != NULL && host[0] != '\0' && strncasecmp(origin, scheme, k) == 0 &&
           strcasecmp(origin + k, host) == 0;
}

bool chr_http_is_json(const char *content_type)
{
    if (content_type == NULL)
        return false;
    const char *p = content_type;
    while (*p == ' ' || *p == '\t')
        p++;
    if (strncasecmp(p, "application/json", 16) != 0)
        return false;
    p += 16;
    while (*p == ' ' || *p == '\t')
        p++;
    return *p == '\0' || *p == ';';
}

/* ---- Basic credentials ------------------------------------------------------------ */

bool chr_http_basic_auth_ok(const char *value, const char *credentials)
{
    if (value == NULL || credentials == NULL || strncasecmp(value, "Basic ", 6) != 0)
        return false;
    const char *p = value + 6;
    while (*p == ' ')
        p++;
    size_t n = strlen(p);
    while (n > 0 && p[n - 1] == ' ')
        n--;
    unsigned char given[1024];
    long len = chr_base64_decode(p, n, given, sizeof given, false);
    if (len <= 0 || memchr(given, ':', (size_t)len) == NULL)
        return false;
    unsigned char bad = 0;
    for (long i = 0; i < len; i++)
        bad |= (unsigned char)(given[i] < 0x20 || given[i] == 0x7f);
    /* Same time whatever the given text shares with the secret. */
    size_t want = strlen(credentials);
    unsigned char diff = (unsigned char)((size_t)len != want) | bad;
    for (size_t i = 0; i < want; i++)
        diff |= (unsigned char)(((size_t)i < (size_t)len ? given[i] : 0) ^
                                (unsigned char)credentials[i]);
    return diff == 0;
}
