/*
 * users.c - who a task may run as (users.h): --user, --allowed_users and
 * this host's user database.  Immutable after chr_users_create; never
 * switches users itself (the run's supervisor does).
 */
#include "api/users.h"

#include <errno.h>
#include <pwd.h>
#include <stdio.h>
#include <string.h>

#include "common/alloc.h"

struct chr_users {
    bool root;                                  /* the server can switch users */
    char self[CHR_USERS_NAME_MAX];              /* the server's user ("" if it has none) */
    char def[CHR_USERS_NAME_MAX];               /* the default task user */
    char names[CHR_USERS_ALLOWED_MAX][CHR_USERS_NAME_MAX];
    size_t n;
    char list[CHR_USERS_ALLOWED_MAX * 24];      /* names joined by ", " (for messages) */
};

/* The uid of user `name`: 1 found, 0 no such user, -1 the lookup failed. */
static int uid_of(const char *name, uid_t *uid)
{
    struct passwd pw, *res = NULL;
    for (size_t cap = 4096; cap <= 1024 * 1024; cap *= 4) {
        char *buf = chr_malloc(cap);
        if (buf == NULL)
            return -1;
        int r = getpwnam_r(name, &pw, buf, cap, &res);
        if (r == 0 && res != NULL)
            *uid = pw.pw_uid;
        chr_free(buf);
        if (r != ERANGE)
            return r == 0 ? (res != NULL) : (r == ENOENT || r == ESRCH) ? 0 : -1;
    }
    return -1;
}

/* The name of uid into out (NUL-terminated); false when it has none. */
static bool name_of(uid_t uid, char *out, size_t cap)
{
    struct passwd pw, *res = NULL;
    for (size_t size = 4096; size <= 1024 * 1024; size *= 4) {
        char *buf = chr_malloc(size);
        if (buf == NULL)
            return false;
        int r = getpwuid_r(uid, &pw, buf, size, &res);
        bool found = r == 0 && res != NULL && strlen(pw.pw_name) < cap;
        if (found)
            snprintf(out, cap, "%s", pw.pw_name);
        chr_free(buf);
        if (r != ERANGE)
            return found;
    }
    return false;
}

/* Adds one allowed name (checked: it exists, and a non-root server can only
 * be itself).  `field` names the setting it came from. */
static enum chr_err add_name(struct chr_users *u, const char *name, size_t len, const char *field,
                             struct chr_error *err)
{
    char b[80];
    if (len == 0 || len >= CHR_USERS_NAME_MAX)
        return chr_error_set(err, CHR_EINVAL, field, "'%s' is not a user name",
                             chr_error_quote(name, len, 64, b));
    char one[CHR_USERS_NAME_MAX];
    memcpy(one, name, len);
    one[len] = '\0';
    for (size_t i = 0; i < u->n; i++)
        if (strcmp(u->names[i], one) == 0)
            return CHR_OK;
    if (u->n == CHR_USERS_ALLOWED_MAX)
        return chr_error_set(err, CHR_EINVAL, field, "more than %d users", CHR_USERS_ALLOWED_MAX);
    uid_t uid = 0;
    int found = uid_of(one, &uid);
    if (found < 0)
        return chr_error_set(err, CHR_EIO, field, "cannot read the user database for '%s'",
                             chr_error_quote(one, len, 64, b));
    if (found == 0)
        return chr_error_set(err, CHR_EINVAL, field, "'%s' is not a user on this host",
                             chr_error_quote(one, len, 64, b));
    if (!u->root && strcmp(one, u->self) != 0)
        return chr_error_set(err, CHR_EINVAL, field,
                             "'%s': this server runs as '%s', not root, so every task runs as "
                             "'%s' (start it as root to run tasks as other users)",
                             chr_error_quote(one, len, 64, b), u->self, u->self);
    snprintf(u->names[u->n++], CHR_USERS_NAME_MAX, "%s", one);
    size_t at = strlen(u->list);
    snprintf(u->list + at, sizeof u->list - at, "%s%s", at ? ", " : "", one);
    return CHR_OK;
}

static enum chr_err add_list(struct chr_users *u, const char *csv, struct chr_error *err)
{
    for (const char *p = csv; *p != '\0';) {
        while (*p == ' ' || *p == ',')
            p++;
        size_t n = strcspn(p, ",");
        size_t k = n;
        while (k > 0 && p[k - 1] == ' ')
            k--;
        if (k > 0) {
            enum chr_err e = add_name(u, p, k, "allowed_users", err);
            if (e != CHR_OK)
                return e;
        }
        p += n;
    }
    return CHR_OK;
}

enum chr_err chr_users_create(const struct chr_users_config *cfg, struct chr_users **out,
                              struct chr_error *err)
{
    struct chr_users *u = chr_calloc(1, sizeof *u);
    if (u == NULL)
        return chr_error_set(err, CHR_ENOMEM, "", "out of memory");
    u->root = cfg->euid == 0;
    if (!name_of(cfg->euid, u->self, sizeof u->self))
        u->self[0] = '\0';
    const char *def = cfg->user && cfg->user[0] ? cfg->user : u->root ? "nobody" : u->self;
    enum chr_err e = CHR_OK;
    if (def[0] == '\0')
        e = chr_error_set(err, CHR_EINVAL, "user",
                          "this server's uid %ld has no name on this host: run it as a user "
                          "with one",
                          (long)cfg->euid);
    if (e == CHR_OK)
        e = add_name(u, def, strlen(def), "user", err);
    if (e == CHR_OK && cfg->allowed != NULL)
        e = add_list(u, cfg->allowed, err);
    if (e != CHR_OK) {
        chr_free(u);
        return e;
    }
    snprintf(u->def, sizeof u->def, "%s", def);
    *out = u;
    return CHR_OK;
}

void chr_users_destroy(struct chr_users *u)
{
    chr_free(u);
}

const char *chr_users_default(const struct chr_users *u)
{
    return u->def;
}

const char *chr_users_allowed(const struct chr_users *u)
{
    return u->list;
}

enum chr_err chr_users_check(const struct chr_users *u, const char *name, struct chr_error *err)
{
    char b[80];
    if (name == NULL || name[0] == '\0')
        return CHR_OK;
    const char *shown = chr_error_quote(name, strnlen(name, 65), 64, b);
    uid_t uid = 0;
    int found = uid_of(name, &uid);
    if (found == 0)
        return chr_error_set(err, CHR_EINVAL, "runAsUser", "'%s' is not a user on this host",
                             shown);
    if (found < 0)
        return chr_error_set(err, CHR_EIO, "runAsUser", "cannot read the user database");
    bool listed = false;
    for (size_t i = 0; i < u->n && !listed; i++)
        listed = strcmp(u->names[i], name) == 0;
    if (!listed && !u->root)
        return chr_error_set(err, CHR_EINVAL, "runAsUser",
                             "'%s': this server runs as '%s', not root, so every task runs as "
                             "'%s'",
                             shown, u->self, u->self);
    if (!listed)
        return chr_error_set(err, CHR_EINVAL, "runAsUser",
                             "'%s' is not allowed on this server (allowed: %s; see the "
                             "server's --allowed_users)",
                             shown, u->list);
    return CHR_OK;
}
