/*
 * path.c - store paths: what a valid path is, the name encoding that turns
 * any bytes into one safe component, and the shard scheme of design.md.
 *
 * Pure: no I/O, no allocation, no global state.  The encoding and the shard
 * hash are part of the stored layout (ZooKeeper trees and local snapshots
 * hold their output): changing either orphans stored nodes.
 */
#include "zkstore/store_int.h"

#include <stdio.h>
#include <string.h>

/* A byte a path component may hold: printable ASCII except '/'. */
static bool comp_byte_ok(unsigned char c)
{
    return c >= 0x21 && c <= 0x7e && c != '/';
}

static bool comp_valid(const char *p, size_t n, bool first)
{
    if (n == 0 || n > CHR_STORE_NAME_MAX)
        return false;
    if ((n == 1 && p[0] == '.') || (n == 2 && p[0] == '.' && p[1] == '.'))
        return false;
    /* ZooKeeper reserves /zookeeper; refuse it on every backend alike. */
    if (first && n == 9 && memcmp(p, "zookeeper", 9) == 0)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!comp_byte_ok((unsigned char)p[i]))
            return false;
    return true;
}

bool chr_store_path_valid(const char *path)
{
    if (path == NULL || path[0] != '/')
        return false;
    size_t len = strnlen(path, CHR_STORE_PATH_MAX);
    if (len >= CHR_STORE_PATH_MAX)
        return false;
    if (len == 1)
        return true;
    size_t start = 1;
    bool first = true;
    while (start <= len) {
        const char *slash = memchr(path + start, '/', len - start);
        size_t end = slash != NULL ? (size_t)(slash - path) : len;
        if (!comp_valid(path + start, end - start, first))
            return false; /* also catches "//" and a trailing '/' (empty) */
        first = false;
        start = end + 1;
    }
    return true;
}

size_t chr_store_parent_len(const char *path, size_t len)
{
    size_t i = len;
    while (i > 0 && path[i - 1] != '/')
        i--;
    /* i is just past the last '/'; the parent is what precedes that '/',
     * or "/" itself. */
    return i <= 1 ? 1 : i - 1;
}

/* ---- Name encoding -------------------------------------------------------- */

static bool keep_byte(unsigned char c, size_t pos)
{
    if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'))
        return true;
    return c == '_' || c == '-' || (c == '.' && pos > 0);
}

static const char HEX[] = "0123456789ABCDEF";

enum chr_err chr_store_name_encode(const void *name, size_t len,
                                   char out[CHR_STORE_NAME_MAX + 1])
{
    const unsigned char *p = name;
    size_t o = 0;
    out[0] = '\0';
    if (len == 0 || name == NULL)
        return CHR_EINVAL;
    for (size_t i = 0; i < len; i++) {
        size_t need = keep_byte(p[i], i) ? 1 : 3;
        if (o + need > CHR_STORE_NAME_MAX) {
            out[0] = '\0';
            return CHR_ERANGE;
        }
        if (need == 1) {
            out[o++] = (char)p[i];
        } else {
            out[o++] = '%';
            out[o++] = HEX[p[i] >> 4];
            out[o++] = HEX[p[i] & 0xf];
        }
    }
    out[o] = '\0';
    return CHR_OK;
}

static int hex_value(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1; /* lower case is not canonical */
}

enum chr_err chr_store_name_decode(const char *comp, void *out, size_t out_size,
                                   size_t *out_len)
{
    unsigned char *o = out;
    size_t n = 0;
    *out_len = 0;
    if (comp == NULL || comp[0] == '\0' || strnlen(comp, CHR_STORE_NAME_MAX + 1) >
                                               CHR_STORE_NAME_MAX)
        return CHR_EINVAL;
    for (size_t i = 0; comp[i] != '\0'; n++) {
        unsigned char c = (unsigned char)comp[i];
        if (c == '%') {
            int hi = hex_value(comp[i + 1]);
            int lo = hi < 0 ? -1 : hex_value(comp[i + 2]);
            if (lo < 0)
                return CHR_EINVAL;
            c = (unsigned char)(hi * 16 + lo);
            if (keep_byte(c, n))
                return CHR_EINVAL; /* should have been left as is */
            i += 3;
        } else if (keep_byte(c, n)) {
            i++;
        } else {
            return CHR_EINVAL; /* should have been escaped */
        }
        if (n >= out_size)
            return CHR_ERANGE;
        o[n] = c;
    }
    *out_len = n;
    return CHR_OK;
}

/* ---- Hashes and shards -------------------------------------------------- */

unsigned chr_store_shard(const void *name, size_t len)
{
    uint32_t h = chr_str_hash32(name, len);
    /* Fold all four bytes in: FNV's low byte alone mixes less well. */
    h ^= h >> 16;
    h ^= h >> 8;
    return h & 0xffu;
}

enum chr_err chr_store_shard_path(char out[CHR_STORE_PATH_MAX], const char *root,
                                  const char *kind, const void *name, size_t len)
{
    char enc[CHR_STORE_NAME_MAX + 1];
    out[0] = '\0';
    if (!chr_store_path_valid(root) || strlen(root) >= CHR_STORE_ROOT_MAX || kind == NULL ||
        !comp_valid(kind, strlen(kind), false))
        return CHR_EINVAL;
    enum chr_err e = chr_store_name_encode(name, len, enc);
    if (e != CHR_OK)
        return e;
    const char *sep = strcmp(root, "/") == 0 ? "" : root;
    int n = snprintf(out, CHR_STORE_PATH_MAX, "%s/%s/%02x/%s", sep, kind,
                     chr_store_shard(name, len), enc);
    if (n < 0 || n >= CHR_STORE_PATH_MAX || !chr_store_path_valid(out)) {
        out[0] = '\0';
        return n >= CHR_STORE_PATH_MAX ? CHR_ERANGE : CHR_EINVAL;
    }
    return CHR_OK;
}

enum chr_err chr_store_job_path(char out[CHR_STORE_PATH_MAX], const char *root,
                                const char *name)
{
    if (name == NULL) {
        out[0] = '\0';
        return CHR_EINVAL;
    }
    return chr_store_shard_path(out, root, "jobs", name, strlen(name));
}

void chr_store_shards_listed(const struct chr_store_names *names, bool have[CHR_STORE_SHARDS])
{
    for (size_t i = 0; names != NULL && i < names->n; i++) {
        char *end = NULL;
        unsigned long v = strtoul(names->names[i], &end, 16);
        if (end == names->names[i] + 2 && *end == '\0' && v < CHR_STORE_SHARDS)
            have[v] = true;
    }
}
