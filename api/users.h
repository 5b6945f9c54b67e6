/*
 * users.h - who a task may run as: the policy behind --user and
 * --allowed_users, checked against this host's user database.
 *
 * Root runs a task as any user it names, so the server - not the API caller -
 * decides which users a job may name.  The default task user is --user; a job
 * may name another runAsUser only when it is in --allowed_users (default:
 * just --user).  root is never allowed unless named in one of them; a server
 * started as root without --user runs tasks as "nobody".  A server that does
 * not run as root cannot switch users at all: every task runs as the
 * server's own user, and naming anyone else is refused.
 *
 * Checked at POST (a 400 naming runAsUser, so a bad value is never stored)
 * and again before every launch (a job stored earlier, or a narrower list
 * after a restart).  The policy is immutable once made: any thread may
 * check against it.  It reads the user database (getpwnam_r), so it lives
 * in server/, never in the core.
 */
#ifndef CHR_API_USERS_H
#define CHR_API_USERS_H

#include <stdbool.h>
#include <sys/types.h>

#include "common/err.h"

/* Users --allowed_users may list. */
#define CHR_USERS_ALLOWED_MAX 64
/* A user name (POSIX allows 32 on most systems; be generous). */
#define CHR_USERS_NAME_MAX 256

struct chr_users_config {
    const char *user;    /* --user; NULL: the server's user, or "nobody" as root */
    const char *allowed; /* --allowed_users, comma-separated; NULL or "": just the default */
    uid_t euid;          /* the server's effective uid */
};

struct chr_users;

/*
 * Makes the policy.  Every user named must exist on this host; a non-root
 * server may name only itself.  Returns CHR_OK; CHR_EINVAL with err naming
 * "user" or "allowed_users"; CHR_ENOMEM.
 */
enum chr_err chr_users_create(const struct chr_users_config *cfg, struct chr_users **out,
                              struct chr_error *err);
void chr_users_destroy(struct chr_users *u);

/* The default task user (never NULL once made; borrowed). */
const char *chr_users_default(const struct chr_users *u);
/* The allowed users, comma-separated (for messages and the log). */
const char *chr_users_allowed(const struct chr_users *u);

/*
 * May a task run as `name` (NULL or "": the default)?  CHR_OK; CHR_EINVAL
 * with err's field "runAsUser" and a sentence saying why (not allowed, no
 * such user on this host, or this server cannot switch users).
 */
enum chr_err chr_users_check(const struct chr_users *u, const char *name, struct chr_error *err);

#endif
