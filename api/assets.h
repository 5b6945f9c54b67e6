/*
 * assets.h - the web dashboard's files, built into the binary, and how a
 * request for one is answered: the page (index.html) at / and at each of
 * the dashboard's own paths (deep links), revalidated every time (no-cache,
 * ETag); the hashed assets under /assets/, cached for good (immutable).
 * Each file is kept as is and gzipped; a client that accepts gzip gets the
 * smaller.  No I/O: the files are a table that the build generates from
 * api/dashboard/dist/ (scripts/embed-dashboard.py), so the binary serves
 * the dashboard with no file beside it and no network.
 */
#ifndef CHR_API_ASSETS_H
#define CHR_API_ASSETS_H

#include <stdbool.h>
#include <stddef.h>

/* One embedded file (the generated table's rows; all static). */
struct chr_asset {
    const char *path;            /* "/index.html", "/assets/app-3F2A9C1D.js" */
    const char *type;            /* its Content-Type */
    const unsigned char *data;   /* the bytes as built */
    size_t len;
    const unsigned char *gz;     /* the same gzipped (deterministic: no name, no time) */
    size_t gz_len;
    const char *etag;            /* "\"<hash of data>\"" */
    const char *etag_gz;         /* "\"<hash of data>-gz\"" */
};

/* The generated table (api/dashboard/dist/ at build time), by path. */
extern const struct chr_asset chr_assets[];
extern const size_t chr_assets_n;

/* How to answer a request for an asset; every pointer is static. */
struct chr_asset_answer {
    unsigned status;             /* 200, 304 or 404 */
    const char *type;            /* NULL for 304 and 404 */
    const unsigned char *body;   /* 200 only */
    size_t len;
    const char *etag;            /* 200 and 304 */
    const char *cache_control;   /* 200 and 304 */
    bool gzip;                   /* Content-Encoding: gzip */
};

/* True when `path` (decoded, without the query) is the dashboard's: "/",
 * its pages (/jobs, /jobs/..., /new, /runs/..., /graph, /cluster) or an
 * asset (/assets/...). */
bool chr_assets_is_path(const char *path);

/* The answer to GET `path` with the request's Accept-Encoding and
 * If-None-Match headers (NULL: absent).  A page's path answers index.html;
 * an unknown /assets/ name (an old hash after an upgrade) 404. */
void chr_assets_answer(const char *path, const char *accept_encoding, const char *if_none_match,
                       struct chr_asset_answer *out);

/* True when Accept-Encoding `ae` accepts gzip (a "gzip" or "*" coding
 * without q=0). */
bool chr_assets_accepts_gzip(const char *ae);

/* True when If-None-Match `inm` names `etag` (or is "*"). */
bool chr_assets_etag_matches(const char *inm, const char *etag);

#endif
