/*
 * test_users.c - who a task may run as (api/users.c), against this
 * host's real user database (Debian always has root, daemon and nobody):
 * the default task user, --allowed_users, root only when named, a user that
 * does not exist refused at once, and a server that is not root confined
 * to its own user.
 */
#include "../unit.h"

#include <pwd.h>
#include <stdbool.h>

#include "api/users.h"

static struct chr_users *make(const char *user, const char *allowed, uid_t euid)
{
    struct chr_users_config cfg = {.user = user, .allowed = allowed, .euid = euid};
    struct chr_users *u = NULL;
    struct chr_error err;
    if (chr_users_create(&cfg, &u, &err) != CHR_OK)
        fail_msg("users(%s, %s): %s", user ? user : "-", allowed ? allowed : "-", err.message);
    return u;
}

static void refused(const struct chr_users *u, const char *name, const char *part)
{
    struct chr_error err;
    assert_int_equal(chr_users_check(u, name, &err), CHR_EINVAL);
    assert_string_equal(err.field, "runAsUser");
    if (strstr(err.message, part) == NULL)
        fail_msg("runAsUser %s: '%s' does not say '%s'", name, err.message, part);
}

/* A root server without --user runs tasks as nobody; root is refused. */
static void test_root_default(void **state)
{
    (void)state;
    struct chr_users *u = make(NULL, NULL, 0);
    assert_string_equal(chr_users_default(u), "nobody");
    assert_int_equal(chr_users_check(u, NULL, NULL), CHR_OK);
    assert_int_equal(chr_users_check(u, "", NULL), CHR_OK);
    assert_int_equal(chr_users_check(u, "nobody", NULL), CHR_OK);
    refused(u, "root", "not allowed");
    refused(u, "daemon", "not allowed");
    refused(u, "no_such_user_xyz", "not a user on this host");
    chr_users_destroy(u);
}

/* The probe's server: --user nobody; root stays refused. */
static void test_user_nobody(void **state)
{
    (void)state;
    struct chr_users *u = make("nobody", NULL, 0);
    refused(u, "root", "allowed: nobody");
    chr_users_destroy(u);
    u = make("root", NULL, 0); /* root named: allowed */
    assert_string_equal(chr_users_default(u), "root");
    assert_int_equal(chr_users_check(u, "root", NULL), CHR_OK);
    refused(u, "nobody", "not allowed");
    chr_users_destroy(u);
}

static void test_allowed_list(void **state)
{
    (void)state;
    struct chr_users *u = make("nobody", " daemon, nobody ,", 0);
    assert_int_equal(chr_users_check(u, "daemon", NULL), CHR_OK);
    assert_int_equal(chr_users_check(u, "nobody", NULL), CHR_OK);
    refused(u, "root", "daemon");
    refused(u, "Daemon", "not");
    assert_string_equal(chr_users_allowed(u), "nobody, daemon");
    chr_users_destroy(u);
}

static void bad_config(const char *user, const char *allowed, uid_t euid, const char *field)
{
    struct chr_users_config cfg = {.user = user, .allowed = allowed, .euid = euid};
    struct chr_users *u = NULL;
    struct chr_error err;
    assert_int_equal(chr_users_create(&cfg, &u, &err), CHR_EINVAL);
    assert_null(u);
    assert_string_equal(err.field, field);
}

static void test_bad_config(void **state)
{
    (void)state;
    bad_config("no_such_user_xyz", NULL, 0, "user");
    bad_config("nobody", "daemon,no_such_user_xyz", 0, "allowed_users");
    bad_config("nobody", "a b", 0, "allowed_users");
}

/* A server that is not root cannot switch users: only its own. */
static void test_not_root(void **state)
{
    (void)state;
    const struct passwd *pw = getpwnam("nobody");
    assert_non_null(pw);
    uid_t uid = pw->pw_uid;
    struct chr_users *u = make(NULL, NULL, uid);
    assert_string_equal(chr_users_default(u), "nobody");
    assert_int_equal(chr_users_check(u, "nobody", NULL), CHR_OK);
    refused(u, "root", "not root");
    refused(u, "daemon", "not root");
    chr_users_destroy(u);
    bad_config("root", NULL, uid, "user");
    bad_config(NULL, "daemon", uid, "allowed_users");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_root_default), cmocka_unit_test(test_user_nobody),
        cmocka_unit_test(test_allowed_list), cmocka_unit_test(test_bad_config),
        cmocka_unit_test(test_not_root),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
