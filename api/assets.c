/*
 * assets.c - answers for the embedded dashboard (assets.h): which path is
 * which file, which encoding, and whether the client's copy is still good.
 * Pure: the files are the generated table, the headers are arguments.
 */
#include "api/assets.h"

#include <string.h>

/* index.html is revalidated on every load (an upgrade shows at once); the
 * hashed files never change under their name. */
#define CACHE_PAGE "no-cache"
#define CACHE_HASHED "public, max-age=31536000, immutable"

/* Does path start with `prefix` followed by its end or a '/'? */
static bool under(const char *path, const char *prefix)
{
    size_t n = strlen(prefix);
    return strncmp(path, prefix, n) == 0 && (path[n] == '\0' || path[n] == '/');
}

bool chr_assets_is_path(const char *path)
{
    return strcmp(path, "/") == 0 || strcmp(path, "/index.html") == 0 || under(path, "/jobs") ||
           strcmp(path, "/new") == 0 || under(path, "/runs") || strcmp(path, "/graph") == 0 ||
           strcmp(path, "/cluster") == 0 || strncmp(path, "/assets/", 8) == 0;
}

static char lower(char c)
{
    return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
}

/* The next comma-separated item of a header list, spaces trimmed: its start
 * and length; *p moves past it.  False at the end. */
static bool next_item(const char **p, const char **item, size_t *n)
{
    const char *s = *p;
    while (*s == ' ' || *s == '\t' || *s == ',')
        s++;
    if (*s == '\0')
        return false;
    const char *e = strchr(s, ',');
    size_t len = e ? (size_t)(e - s) : strlen(s);
    *p = s + len;
    while (len > 0 && (s[len - 1] == ' ' || s[len - 1] == '\t'))
        len--;
    *item = s;
    *n = len;
    return true;
}

/* Is the item's q parameter 0 ("q=0", "q=0.0", "q=0.000")? */
static bool q_zero(const char *item, size_t n)
{
    for (size_t i = 0; i + 2 < n; i++) {
        if (item[i] != ';')
            continue;
        size_t k = i + 1;
        while (k < n && item[k] == ' ')
            k++;
        if (k + 2 > n || lower(item[k]) != 'q' || item[k + 1] != '=')
            continue;
        k += 2;
        if (k >= n || item[k] != '0')
            return false;
        for (k++; k < n && (item[k] == '.' || item[k] == '0'); k++)
            ;
        return k == n || item[k] == ';' || item[k] == ' ';
    }
    return false;
}

bool chr_assets_accepts_gzip(const char *ae)
{
    const char *item;
    size_t n;
    if (ae == NULL)
        return false;
    while (next_item(&ae, &item, &n)) {
        size_t name = 0;
        while (name < n && item[name] != ';' && item[name] != ' ')
            name++;
        bool gz = name == 4 && lower(item[0]) == 'g' && lower(item[1]) == 'z' &&
                  lower(item[2]) == 'i' && lower(item[3]) == 'p';
        if ((gz || (name == 1 && item[0] == '*')) && !q_zero(item, n))
            return true;
    }
    return false;
}

bool chr_assets_etag_matches(const char *inm, const char *etag)
{
    const char *item;
    size_t n, len = strlen(etag);
    if (inm == NULL)
        return false;
    while (next_item(&inm, &item, &n)) {
        if (n >= 2 && item[0] == 'W' && item[1] == '/') { /* weak comparison: the tag itself */
            item += 2;
            n -= 2;
        }
        if ((n == 1 && item[0] == '*') || (n == len && memcmp(item, etag, len) == 0))
            return true;
    }
    return false;
}

static const struct chr_asset *find(const char *path)
{
    for (size_t i = 0; i < chr_assets_n; i++)
        if (strcmp(chr_assets[i].path, path) == 0)
            return &chr_assets[i];
    return NULL;
}

void chr_assets_answer(const char *path, const char *accept_encoding, const char *if_none_match,
                       struct chr_asset_answer *out)
{
    *out = (struct chr_asset_answer){.status = 404};
    bool hashed = strncmp(path, "/assets/", 8) == 0;
    const struct chr_asset *a = find(hashed ? path : "/index.html");
    if (a == NULL)
        return;
    out->gzip = a->gz != NULL && a->gz_len < a->len && chr_assets_accepts_gzip(accept_encoding);
    out->etag = out->gzip ? a->etag_gz : a->etag;
    out->cache_control = hashed ? CACHE_HASHED : CACHE_PAGE;
    if (chr_assets_etag_matches(if_none_match, out->etag)) {
        out->status = 304;
        return;
    }
    out->status = 200;
    out->type = a->type;
    out->body = out->gzip ? a->gz : a->data;
    out->len = out->gzip ? a->gz_len : a->len;
}
