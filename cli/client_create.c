/*
 * client_create.c - `chronos create NAME --command=CMD [ARG...] [options]`:
 * builds a Chronos job object from the command line and POSTs it (create or
 * replace).  The words after --command= up to the next `--` option are the
 * command's arguments; with the shell executor (the default) they are
 * appended to the command with POSIX shell quoting, so
 *
 *   chronos create example --command=/bin/echo "Hello, World!" --executor=shell
 *
 * stores `"command": "/bin/echo 'Hello, World!'", "shell": true`.  Values
 * are checked here only as far as their syntax on the command line goes
 * (exit 2); whether a job is valid is the server's to say (exit 1).
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cli/client.h"
#include "common/alloc.h"

static const char create_help[] =
    "usage: chronos create NAME --command=CMD [ARG...] [options]\n"
    "\n"
    "Creates a job and prints `created NAME`.  A job of that name already there\n"
    "is a refusal (exit 1, nothing changed) unless --replace is given: then it is\n"
    "replaced and `updated NAME` printed.  Without --schedule or --parents the job\n"
    "runs once, now.\n"
    "\n"
    "  --command=CMD [ARG...]   the command; the words after it up to the next\n"
    "                           --option are its arguments\n"
    "  --executor=shell         run it through /bin/sh -c (the default): the\n"
    "                           command is CMD followed by the ARGs shell-quoted\n"
    "  --executor=command       run CMD directly with the ARGs (\"shell\": false;\n"
    "                           also `exec`)\n"
    "  --schedule=S             an ISO 8601 repeating interval (R/2030-01-01T00:00:00Z/PT1H)\n"
    "                           or a cron expression ('*/5 * * * *'), as it is\n"
    "  --tz=ZONE                the schedule's IANA time zone (scheduleTimeZone)\n"
    "  --parents=A,B            a dependent job: runs after A and B succeed\n"
    "  --retries=N              retries after a failure (default 2)\n"
    "  --owner=EMAIL            who to tell about failures\n"
    "  --description=TEXT       what the job is for\n"
    "  --env K=V                an environment variable (repeatable)\n"
    "  --disabled               store the job but do not run it\n"
    "  --replace                replace a job of that name (its schedule,\n"
    "                           retries and the rest become these options')\n"
    "  --mesos-resources=cpus=N,mem=MB[,disk=MB]   the job's resources\n"
    "  --mesos-executor=X       a Mesos custom executor (Chronos's `executor` field)\n"
    "  --server URL             the server (default $CHRONOS_URL, else\n"
    "                           http://127.0.0.1:4400)\n"
    "\n"
    "Every option takes --opt=value or --opt value.\n";

struct create_opts {
    struct chr_words command; /* the command word, then its arguments */
    struct chr_words env;
    const char *executor, *mesos_executor, *resources, *schedule, *tz, *parents;
    const char *retries, *owner, *description;
    bool disabled, replace;
};

/* A word the shell reads as itself. */
static bool shell_safe(const char *w)
{
    if (*w == '\0')
        return false;
    for (; *w; w++)
        if (!(*w >= 'a' && *w <= 'z') && !(*w >= 'A' && *w <= 'Z') && !(*w >= '0' && *w <= '9') &&
            strchr("_@%+=:,./-", *w) == NULL)
            return false;
    return true;
}

/* The command word as written, then each argument quoted for /bin/sh
 * ('...' with every ' written as '\''). */
static char *shell_join(const struct chr_words *w)
{
    size_t n = 1;
    for (size_t i = 0; i < w->n; i++)
        n += strlen(w->v[i]) * 4 + 3;
    char *out = chr_malloc(n), *p = out;
    if (out == NULL)
        return NULL;
    p += snprintf(p, n, "%s", w->v[0]);
    for (size_t i = 1; i < w->n; i++) {
        const char *s = w->v[i];
        *p++ = ' ';
        if (shell_safe(s)) {
            p += snprintf(p, n - (size_t)(p - out), "%s", s);
            continue;
        }
        *p++ = '\'';
        for (; *s; s++) {
            if (*s == '\'') {
                memcpy(p, "'\\''", 4);
                p += 4;
            } else {
                *p++ = *s;
            }
        }
        *p++ = '\'';
    }
    *p = '\0';
    return out;
}

/* command, shell and arguments by the executor. */
static int set_command(const struct chr_client *c, const struct create_opts *o, json_t *job)
{
    const char *ex = o->executor ? o->executor : "shell";
    bool shell = strcmp(ex, "shell") == 0;
    if (!shell && strcmp(ex, "command") != 0 && strcmp(ex, "exec") != 0)
        return chr_client_usage(c, "executor: '%s' is not shell, command or exec", ex);
    if (!shell) {
        json_t *args = json_array();
        for (size_t i = 1; i < o->command.n && args != NULL; i++)
            json_array_append_new(args, json_string(o->command.v[i]));
        json_object_set_new(job, "command", json_string(o->command.v[0]));
        json_object_set_new(job, "arguments", args);
    } else {
        char *cmd = shell_join(&o->command);
        json_object_set_new(job, "command", cmd ? json_string(cmd) : NULL);
        chr_free(cmd);
    }
    json_object_set_new(job, "shell", json_boolean(shell));
    return -1;
}

/* cpus=N,mem=MB,disk=MB into the job. */
static int set_resources(const struct chr_client *c, const char *spec, json_t *job)
{
    char buf[256];
    if (snprintf(buf, sizeof buf, "%s", spec) >= (int)sizeof buf)
        return chr_client_usage(c, "mesos-resources: '%s' is too long", spec);
    for (char *item = buf, *next; item != NULL; item = next) {
        next = strchr(item, ',');
        if (next != NULL)
            *next++ = '\0';
        char *eq = strchr(item, '='), *end = NULL;
        if (eq == NULL)
            return chr_client_usage(c, "mesos-resources: '%s' is not key=value", item);
        *eq = '\0';
        if (strcmp(item, "cpus") != 0 && strcmp(item, "mem") != 0 && strcmp(item, "disk") != 0)
            return chr_client_usage(c, "mesos-resources: unknown resource '%s' (cpus, mem, disk)",
                                    item);
        errno = 0;
        double v = strtod(eq + 1, &end);
        if (errno != 0 || end == eq + 1 || *end != '\0' || !isfinite(v) || v < 0)
            return chr_client_usage(c, "mesos-resources: %s: '%s' is not a number", item, eq + 1);
        json_object_set_new(job, item, json_real(v));
    }
    return -1;
}

/* "a,b" into a JSON array of names; NULL after a usage error. */
static json_t *split_parents(const struct chr_client *c, const char *list, int *st)
{
    json_t *a = json_array();
    const char *p = list;
    while (a != NULL) {
        size_t n = strcspn(p, ",");
        if (n == 0) {
            json_decref(a);
            *st = chr_client_usage(c, "parents: '%s' has an empty name", list);
            return NULL;
        }
        json_array_append_new(a, json_stringn(p, n));
        if (p[n] == '\0')
            break;
        p += n + 1;
    }
    return a;
}

static int set_when(const struct chr_client *c, const struct create_opts *o, json_t *job)
{
    int st = -1;
    if (o->schedule != NULL && o->parents != NULL)
        return chr_client_usage(c, "give --schedule or --parents, not both");
    /* Neither: no schedule at all, which the API defines as "run once, now". */
    if (o->schedule != NULL)
        json_object_set_new(job, "schedule", json_string(o->schedule));
    if (o->tz != NULL)
        json_object_set_new(job, "scheduleTimeZone", json_string(o->tz));
    if (o->parents != NULL) {
        json_t *parents = split_parents(c, o->parents, &st);
        if (parents == NULL)
            return st;
        json_object_set_new(job, "parents", parents);
    }
    return -1;
}

static int set_env(const struct chr_client *c, const struct chr_words *env, json_t *job)
{
    json_t *list = json_array();
    for (size_t i = 0; i < env->n && list != NULL; i++) {
        const char *eq = strchr(env->v[i], '=');
        if (eq == NULL || eq == env->v[i]) {
            json_decref(list);
            return chr_client_usage(c, "env: '%s' is not NAME=VALUE", env->v[i]);
        }
        json_array_append_new(list, json_pack("{s:s%,s:s}", "name", env->v[i],
                                              (size_t)(eq - env->v[i]), "value", eq + 1));
    }
    if (env->n > 0)
        json_object_set_new(job, "environmentVariables", list);
    else
        json_decref(list);
    return -1;
}

/* The rest of the fields, then the job's text form. */
static int set_misc(const struct chr_client *c, const struct create_opts *o, json_t *job)
{
    long retries;
    if (o->retries != NULL) {
        if (!chr_client_parse_long(o->retries, -1000000, 1000000, &retries))
            return chr_client_usage(c, "retries: '%s' is not a whole number", o->retries);
        json_object_set_new(job, "retries", json_integer(retries));
    }
    if (o->owner != NULL)
        json_object_set_new(job, "owner", json_string(o->owner));
    if (o->description != NULL)
        json_object_set_new(job, "description", json_string(o->description));
    if (o->mesos_executor != NULL)
        json_object_set_new(job, "executor", json_string(o->mesos_executor));
    if (o->disabled)
        json_object_set_new(job, "disabled", json_true());
    return -1;
}

static int build(const struct chr_client *c, const char *name, const struct create_opts *o,
                 json_t *job)
{
    int st;
    if (o->command.n == 0)
        return chr_client_usage(c, "missing --command");
    json_object_set_new(job, "name", json_string(name));
    if ((st = set_command(c, o, job)) >= 0 || (st = set_when(c, o, job)) >= 0 ||
        (o->resources && (st = set_resources(c, o->resources, job)) >= 0) ||
        (st = set_env(c, &o->env, job)) >= 0 || (st = set_misc(c, o, job)) >= 0)
        return st;
    /* A string that is not UTF-8 makes json_string fail: say which. */
    if (!json_is_string(json_object_get(job, "name")) ||
        !json_is_string(json_object_get(job, "command")))
        return chr_client_usage(c, "the name and the command must be UTF-8 text");
    return -1;
}

int chr_cli_create(int argc, char **argv)
{
    struct create_opts o;
    memset(&o, 0, sizeof o);
    const struct chr_opt opts[] = {
        {"--command", NULL, CHR_OPT_WORDS, &o.command},
        {"--executor", NULL, CHR_OPT_VALUE, &o.executor},
        {"--mesos-executor", NULL, CHR_OPT_VALUE, &o.mesos_executor},
        {"--mesos-resources", NULL, CHR_OPT_VALUE, &o.resources},
        {"--schedule", NULL, CHR_OPT_VALUE, &o.schedule},
        {"--tz", NULL, CHR_OPT_VALUE, &o.tz},
        {"--parents", NULL, CHR_OPT_VALUE, &o.parents},
        {"--retries", NULL, CHR_OPT_VALUE, &o.retries},
        {"--owner", NULL, CHR_OPT_VALUE, &o.owner},
        {"--description", NULL, CHR_OPT_VALUE, &o.description},
        {"--env", NULL, CHR_OPT_LIST, &o.env},
        {"--disabled", NULL, CHR_OPT_FLAG, &o.disabled},
        {"--replace", NULL, CHR_OPT_FLAG, &o.replace},
    };
    const struct chr_cmd cmd = {"create", create_help, opts, sizeof opts / sizeof opts[0],
                                1, 1, "NAME", false};
    struct chr_client c;
    int st = chr_client_args(&cmd, argc, argv, &c);
    if (st >= 0)
        return st;
    json_t *job = json_object();
    if (job == NULL)
        return chr_client_fail(CHR_EXIT_BAD_VALUE, "out of memory");
    st = build(&c, c.pos[0], &o, job);
    json_t *old = NULL;
    if (st < 0 && !o.replace && (st = chr_client_get_job(&c, c.pos[0], true, &old)) == CHR_EXIT_OK)
        st = -1;
    if (st < 0 && old != NULL)
        st = chr_client_fail(CHR_EXIT_REFUSED,
                             "job '%s' exists: nothing changed (--replace replaces it; "
                             "`chronos apply` updates it from a file)", c.pos[0]);
    json_decref(old);
    if (st < 0)
        st = chr_client_put_job(&c, job);
    json_decref(job);
    return st;
}
