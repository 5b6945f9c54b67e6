/*
 * tzdb.c - the database of time zones: the zones of one tz directory, each
 * read from its TZif file on first use, then cached by name.  The one file
 * of iso8601/ that does I/O (make lint checks it): chr_tzdb_get reads a
 * file whose name was validated first (no "..", no absolute path);
 * chr_tzdb_lookup and chr_tzdb_fixed never read anything, which is what the
 * scheduling core uses.
 */
#include "iso8601/tz_int.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/alloc.h"
#include "common/limits.h"
#include "common/strmap.h"

struct chr_tzdb {
    char dir[512];
    pthread_mutex_t lock;
    struct chr_strmap zones; /* name -> struct chr_tz *, owned */
};

enum chr_err chr_tzdb_create(const char *dir, struct chr_tzdb **out)
{
    if (dir == NULL)
        dir = getenv("TZDIR");
    if (dir == NULL || dir[0] == '\0')
        dir = "/usr/share/zoneinfo";
    if (strlen(dir) >= sizeof((struct chr_tzdb *)0)->dir)
        return CHR_ERANGE;
    struct chr_tzdb *db = chr_calloc(1, sizeof *db);
    if (db == NULL)
        return CHR_ENOMEM;
    snprintf(db->dir, sizeof db->dir, "%s", dir);
    if (pthread_mutex_init(&db->lock, NULL) != 0) {
        chr_free(db);
        return CHR_ENOMEM;
    }
    *out = db;
    return CHR_OK;
}

void chr_tzdb_destroy(struct chr_tzdb *db)
{
    if (db == NULL)
        return;
    size_t pos = 0;
    uint64_t v;
    while (chr_strmap_next(&db->zones, &pos, NULL, &v))
        chr_free((struct chr_tz *)(uintptr_t)v);
    chr_strmap_free(&db->zones);
    pthread_mutex_destroy(&db->lock);
    chr_free(db);
}

/* The zone called `name`, if loaded; with the lock held. */
static struct chr_tz *tzdb_find(const struct chr_tzdb *db, const char *name)
{
    uint64_t v = 0;
    return chr_strmap_get(&db->zones, name, &v) ? (struct chr_tz *)(uintptr_t)v : NULL;
}

/* IANA names: components of [A-Za-z0-9_+-.] separated by single '/', none
 * starting with '.', so no name can leave the tz directory. */
static bool valid_zone_name(const char *name, size_t len)
{
    if (len == 0 || len > CHR_TZ_NAME_LEN_MAX)
        return false;
    bool comp_start = true;
    for (size_t i = 0; i < len; i++) {
        char ch = name[i];
        if (ch == '/') {
            if (comp_start)
                return false;
            comp_start = true;
            continue;
        }
        bool ok = (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') ||
                  ch == '_' || ch == '+' || ch == '-' || (ch == '.' && !comp_start);
        if (!ok)
            return false;
        comp_start = false;
    }
    return !comp_start;
}

/* Reads the zone file of `name` (validated) and parses it. */
static enum chr_err tzdb_load(const struct chr_tzdb *db, const char *name, struct chr_tz **out,
                              struct chr_error *err)
{
    char path[640];
    snprintf(path, sizeof path, "%s/%s", db->dir, name);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return chr_error_set(err, errno == ENOENT || errno == ENOTDIR ? CHR_ENOENT : CHR_EIO,
                             "zone", "unknown time zone '%s'", name);
    struct stat st;
    static const size_t cap = CHR_TZ_FILE_MAX;
    uint8_t *buf = NULL;
    enum chr_err e = CHR_EINVAL;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_size < 44 || (size_t)st.st_size > cap)
        goto done;
    buf = chr_malloc((size_t)st.st_size);
    if (buf == NULL) {
        e = CHR_ENOMEM;
        goto done;
    }
    size_t got = 0;
    while (got < (size_t)st.st_size) {
        ssize_t r = read(fd, buf + got, (size_t)st.st_size - got);
        if (r <= 0)
            goto done;
        got += (size_t)r;
    }
    e = chr_tzif_parse(buf, got, out);
    if (e == CHR_OK)
        chr_tz_set_name(*out, name);
done:
    chr_free(buf);
    close(fd);
    if (e == CHR_EINVAL)
        chr_error_set(err, e, "zone", "'%s' is not a time zone (no valid TZif data)", name);
    else if (e == CHR_ENOMEM)
        chr_error_set(err, e, "zone", "out of memory loading '%s'", name);
    return e;
}

/* Finds or adds the zone `name` with the lock held; `make` builds a new one. */
static enum chr_err tzdb_intern(struct chr_tzdb *db, const char *name,
                                enum chr_err (*make)(struct chr_tzdb *, const char *,
                                                     struct chr_tz **, struct chr_error *),
                                const struct chr_tz **out, struct chr_error *err)
{
    pthread_mutex_lock(&db->lock);
    struct chr_tz *tz = tzdb_find(db, name);
    enum chr_err e = CHR_OK;
    if (tz == NULL) {
        if (db->zones.len >= CHR_TZ_ZONES_MAX)
            e = chr_error_set(err, CHR_ERANGE, "zone", "too many zones loaded (limit %d)",
                              CHR_TZ_ZONES_MAX);
        else
            e = make(db, name, &tz, err);
        if (e == CHR_OK && chr_strmap_put(&db->zones, name, (uint64_t)(uintptr_t)tz) != CHR_OK) {
            chr_free(tz);
            e = chr_error_set(err, CHR_ENOMEM, "zone", "out of memory loading '%s'", name);
        }
    }
    if (e == CHR_OK)
        *out = tz;
    pthread_mutex_unlock(&db->lock);
    return e;
}

static enum chr_err make_file_zone(struct chr_tzdb *db, const char *name, struct chr_tz **out,
                                   struct chr_error *err)
{
    return tzdb_load(db, name, out, err);
}

/* What needs no table: a bad name (CHR_EINVAL) or UTC (CHR_OK, *out set);
 * CHR_ENOENT when the table must be asked. */
static enum chr_err without_table(const char *name, const struct chr_tz **out,
                                  struct chr_error *err)
{
    size_t len = strnlen(name, CHR_TZ_NAME_LEN_MAX + 1);
    if (!valid_zone_name(name, len))
        return chr_error_set(err, CHR_EINVAL, "zone", "'%.*s' is not a valid time zone name",
                             (int)(len > CHR_TZ_NAME_LEN_MAX ? CHR_TZ_NAME_LEN_MAX : len), name);
    if (strcmp(name, "UTC") == 0) {
        *out = chr_tz_utc();
        return CHR_OK;
    }
    return CHR_ENOENT;
}

enum chr_err chr_tzdb_get(struct chr_tzdb *db, const char *name, const struct chr_tz **out,
                          struct chr_error *err)
{
    enum chr_err e = without_table(name, out, err);
    if (e != CHR_ENOENT)
        return e;
    return tzdb_intern(db, name, make_file_zone, out, err);
}

enum chr_err chr_tzdb_lookup(struct chr_tzdb *db, const char *name, const struct chr_tz **out,
                             struct chr_error *err)
{
    enum chr_err e = without_table(name, out, err);
    if (e != CHR_ENOENT)
        return e;
    pthread_mutex_lock(&db->lock);
    const struct chr_tz *tz = tzdb_find(db, name);
    pthread_mutex_unlock(&db->lock);
    if (tz == NULL)
        return chr_error_set(err, CHR_ENOENT, "zone",
                             "'%s' is not loaded (a zone is loaded before a job reaches the "
                             "scheduler)", name);
    *out = tz;
    return CHR_OK;
}

static enum chr_err make_fixed_zone(struct chr_tzdb *db, const char *name, struct chr_tz **out,
                                    struct chr_error *err)
{
    (void)db;
    (void)err;
    int h = (name[1] - '0') * 10 + (name[2] - '0'), m = (name[4] - '0') * 10 + (name[5] - '0');
    *out = chr_tz_fixed_new((name[0] == '-' ? -1 : 1) * (h * 3600 + m * 60), name);
    return *out != NULL ? CHR_OK : CHR_ENOMEM;
}

enum chr_err chr_tzdb_fixed(struct chr_tzdb *db, int32_t offset_s, const struct chr_tz **out)
{
    if (offset_s == 0) {
        *out = chr_tz_utc();
        return CHR_OK;
    }
    if (offset_s < -18 * 3600 || offset_s > 18 * 3600 || offset_s % 60 != 0)
        return CHR_ERANGE;
    int32_t a = offset_s < 0 ? -offset_s : offset_s;
    char name[16];
    snprintf(name, sizeof name, "%c%02d:%02d", offset_s < 0 ? '-' : '+', (int)(a / 3600),
             (int)(a / 60 % 60));
    return tzdb_intern(db, name, make_fixed_zone, out, NULL);
}
