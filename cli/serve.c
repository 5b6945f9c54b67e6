/*
 * serve.c - `chronos serve`: reads the configuration (a config file of
 * `key = value` lines, then CHRONOS_* environment variables, then --flags,
 * each overriding the one before; Chronos's flag names where Chronos has
 * one), opens the store, starts the scheduler loop and the HTTP API, and runs
 * until SIGINT or SIGTERM.
 */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/cli.h"
#include "common/log.h"
#include "common/near.h"
#include "cli/secret.h"
#include "common/alloc.h"
#include "server/ha.h"
#include "offers/mesos/master.h"
#include "api/http.h"
#include "server/loop.h"
#include "server/solo.h"
#include "server/notify.h"
#include "server/run_output.h"
#include "api/users.h"

/* Every setting, by its flag name (without "--"). */
enum key {
    K_HTTP_PORT, K_HTTP_ADDRESS, K_HOSTNAME, K_ZK_HOSTS, K_ZK_PATH, K_MASTER, K_FAILURE_RETRY,
    K_TASK_CPU, K_TASK_MEM, K_TASK_DISK, K_USER, K_DATA_DIR, K_CONFIG, K_VERBOSE,
    K_LOCAL_CPUS, K_LOCAL_MEM, K_LOCAL_DISK, K_HTTP_CREDENTIALS, K_HTTP_REALM, K_SSL_CERT,
    K_SSL_KEY, K_RUN_HISTORY, K_HTTP_THREADS, K_ZK, K_ZK_AUTH, K_ZK_SESSION_TIMEOUT, K_RUNS_DIR,
    K_MESOS_MASTER, K_MIN_PERIOD, K_ALLOWED_USERS, K_ALLOWED_HOSTS, K_CORS_ORIGINS,
    K_TLS_PRIORITIES, K_HTTP_CREDENTIALS_FILE, K_ZK_AUTH_FILE, K_CGROUPS, K_MESOS_ROLE,
    K_MESOS_FRAMEWORK_NAME, K_MESOS_PRINCIPAL, K_MESOS_SECRET, K_MESOS_SECRET_FILE, K_MIN_REVIVE,
    K_RECONCILE_INTERVAL, K_FAILOVER_TIMEOUT, K_WEBUI_URL, K_LOCAL_CONTAINERIZER,
    K_CLUSTER_NAME, K_MAIL_SERVER, K_MAIL_FROM, K_MAIL_USER, K_MAIL_PASSWORD, K_MAIL_PASSWORD_FILE,
    K_MAIL_SSL, K_SLACK_URL, K_MATTERMOST_URL, K_HTTP_NOTIFY_URL, K_HTTP_NOTIFY_CREDS,
    K_HTTP_NOTIFY_CREDS_FILE, K_NOTIFY_HMAC, K_NOTIFY_HMAC_FILE, K_DISABLE_AFTER, K_NOTIFY_EVENTS,
    K_NOTIFY_TIMEOUT, K_NOTIFY_BACKOFF, K_NOTIFY_BACKOFF_MAX, K_NOTIFY_OUTBOX_MAX, K_RAVEN_DSN,
    K_LOG_FORMAT, K_NOTIFY_WAITING, K_MAX_JOBS, K_COUNT
};

static const char *const key_names[K_COUNT] = {
    "http_port", "http_address", "hostname", "zk_hosts", "zk_path", "master", "failure_retry",
    "mesos_task_cpu", "mesos_task_mem", "mesos_task_disk", "user", "data_dir", "config", "verbose",
    "local_cpus", "local_mem", "local_disk", "http_credentials", "http_realm", "ssl_cert",
    "ssl_key", "run_history", "http_threads", "zk", "zk_auth", "zk_session_timeout", "runs_dir",
    "mesos_master", "min_period", "allowed_users", "allowed_hosts", "cors_origins",
    "tls_priorities", "http_credentials_file", "zk_auth_file", "cgroups", "mesos_role",
    "mesos_framework_name", "mesos_authentication_principal", "mesos_authentication_secret",
    "mesos_authentication_secret_file", "min_revive_offers_interval", "reconciliation_interval",
    "failover_timeout", "webui_url", "local_containerizer",
    "cluster_name", "mail_server", "mail_from", "mail_user", "mail_password", "mail_password_file",
    "mail_ssl", "slack_url", "mattermost_url", "http_notification_url",
    "http_notification_credentials", "http_notification_credentials_file",
    "notification_hmac_key", "notification_hmac_key_file", "disable_after_failures",
    "notify_events", "notify_timeout_ms", "notify_backoff_ms", "notify_backoff_max_ms",
    "notify_outbox_max", "raven_dsn",
    "log_format", "notify_waiting_ms", "max_jobs",
};

static const char *const key_defaults[K_COUNT] = {
    "4400", "127.0.0.1", NULL, "", "/chronos", "local", "60000",
    "0.1", "128", "256", NULL, "data", NULL, "true",
    NULL, NULL, NULL, NULL, "chronos", NULL,
    NULL, "20", "4", "", NULL, "10000", NULL,
    NULL, "1", NULL, NULL, NULL,
    NULL, NULL, NULL, "auto", "*",
    "chronos", NULL, NULL,
    NULL, "1000", "600",
    "604800", NULL, NULL,
    "", NULL, NULL, NULL, NULL, NULL,
    "false", NULL, NULL, NULL,
    NULL, NULL,
    NULL, NULL, "0",
    "failed,disabled,exhausted,deleted,lost,timeout,waiting", "10000", "1000", "600000",
    "10000", NULL,
    "text", "600000", "2000000",
};

/* The settings that hold a secret, and the setting naming a file that holds it. */
static const struct {
    enum key key, file;
} secret_keys[] = {{K_HTTP_CREDENTIALS, K_HTTP_CREDENTIALS_FILE},
                   {K_ZK_AUTH, K_ZK_AUTH_FILE},
                   {K_MESOS_SECRET, K_MESOS_SECRET_FILE},
                   {K_MAIL_PASSWORD, K_MAIL_PASSWORD_FILE},
                   {K_HTTP_NOTIFY_CREDS, K_HTTP_NOTIFY_CREDS_FILE},
                   {K_NOTIFY_HMAC, K_NOTIFY_HMAC_FILE}};

static bool is_secret(enum key k)
{
    for (size_t i = 0; i < sizeof secret_keys / sizeof secret_keys[0]; i++)
        if (secret_keys[i].key == k)
            return true;
    return false;
}

#define SETTING_MAX 1024

struct settings {
    char value[K_COUNT][SETTING_MAX];
    bool set[K_COUNT];
};

static const char serve_help[] =
    "usage: chronos serve [--config FILE] [--http_port N] [--data_dir DIR] [options]\n"
    "\n"
    "Runs the scheduler and its REST API. Settings come from a config file of\n"
    "`key = value` lines, CHRONOS_<KEY> environment variables and --key flags,\n"
    "each overriding the one before.\n"
    "\n"
    "  --http_port N          API port (default 4400)\n"
    "  --http_address ADDR    address to listen on (default 127.0.0.1)\n"
    "  --hostname NAME        name advertised to clients (default: --http_address, or\n"
    "                         this host's name when that is 0.0.0.0)\n"
    "  --data_dir DIR         local store and run directories (default ./data)\n"
    "  --failure_retry MS     default retry delay (default 60000)\n"
    "  --mesos_task_cpu|mem|disk  default resources of a job (0.1, 128, 256)\n"
    "  --user NAME            the default task user (runAsUser); default: the server's\n"
    "                         user, or nobody when the server runs as root\n"
    "  --allowed_users A,B    users a job may name as runAsUser (default: just --user;\n"
    "                         root only when listed); a server not run as root runs\n"
    "                         every task as its own user\n"
    "  --master local|URL     the resource manager: `local` (this host, the default) or\n"
    "                         a Mesos master: HOST:PORT or zk://HOST:PORT[,...]/mesos\n"
    "                         (also --mesos_master, the config key mesos_master)\n"
    "  --mesos_framework_name NAME  the framework's name in Mesos (default chronos)\n"
    "  --mesos_role ROLE      the role to take offers for (default *)\n"
    "  --mesos_authentication_principal P, --mesos_authentication_secret_file FILE\n"
    "                         authenticate to the master (HTTP basic, secret in FILE)\n"
    "  --failover_timeout S   how long Mesos keeps the tasks of a disconnected\n"
    "                         chronos (default 604800, a week)\n"
    "  --min_revive_offers_interval MS  the least time between two REVIVEs (1000)\n"
    "  --reconciliation_interval S  reconcile open runs with Mesos every S (600)\n"
    "  --webui_url URL        shown in Mesos (default http://HOSTNAME:PORT)\n"
    "  --local_cpus|mem|disk  what this host offers (default: its CPUs, memory\n"
    "                         and the size of the disk under data_dir)\n"
    "  --http_credentials_file FILE  require HTTP Basic auth (all but /ping, /health) with the\n"
    "                         USER:PASSWORD in FILE (mode 0600); or CHRONOS_HTTP_CREDENTIALS;\n"
    "                         --http_credentials USER:PASSWORD works but is visible to\n"
    "                         every local user until the server hides it\n"
    "  --http_realm NAME      the Basic auth realm (default chronos)\n"
    "  --ssl_cert FILE, --ssl_key FILE   serve HTTPS with this PEM certificate/key\n"
    "  --tls_priorities TEXT  GnuTLS priority string (default: TLS 1.2+, ECDHE, AEAD)\n"
    "  --allowed_hosts A,B    more names the Host header may carry (besides\n"
    "                         --hostname, the bound address and loopback); * for any\n"
    "  --cors_origins A,B     origins (https://ui.example) a browser may call the API\n"
    "                         from; * for any; default none\n"
    ;
/* Two pieces: C11 compilers need not take a literal over 4095 bytes. */
static const char serve_help2[] =
    "  --cgroups auto|off     a cgroup per run (mem, cpus, pids, kill) where the host\n"
    "                         lets the server make one (default auto)\n"
    "  --local_containerizer podman|docker  run jobs that have a `container` in a\n"
    "                         container of this runtime (default: none; such jobs\n"
    "                         are accepted with a warning and never run on the host)\n"
    "  --run_history N        finished runs kept per job (default 20, 0-1000)\n"
    "  --max_jobs N           the most jobs this server holds; a POST of one more is\n"
    "                         refused (default 2000000, at most 10000000)\n"
    "  --http_threads N       HTTP worker threads (default 4)\n"
    "  --zk HOST:PORT,...[/CHROOT]  keep jobs in ZooKeeper and elect a leader among\n"
    "                         the servers sharing it (also zk://...; Chronos's --zk_hosts)\n"
    "  --zk_path PATH         the tree's root in ZooKeeper or the local store (/chronos)\n"
    "  --zk_auth_file FILE    ZooKeeper digest auth (USER:PASSWORD in FILE, mode 0600;\n"
    "                         or CHRONOS_ZK_AUTH, or --zk_auth); the nodes get a digest ACL\n"
    "  --zk_session_timeout MS  ZooKeeper session timeout (default 10000)\n"
    "  --runs_dir DIR         the local resource manager's run directories (default\n"
    "                         DATA_DIR/runs; servers on one host share one)\n"

    "  --min_period SECONDS   the shortest time between two instants of a schedule\n"
    "                         (default 1; shorter schedules are refused; 0: no minimum)\n"
    "  --verbose true|false   one log line per event (default true)\n"
    "  --log_format text|json the log's lines: `INSTANT TEXT` (default) or one JSON\n"
    "                         object per line (ts, level, msg, job, run)\n"
    "\n"
    "Notifications (docs/operations.md \"Notifications\"):\n"
    "  --cluster_name NAME    prefixes subjects with [NAME]\n"
    "  --mail_server HOST:PORT  mail each job's owners; --mail_from ADDR, --mail_user U,\n"
    "                         --mail_password_file FILE (or CHRONOS_MAIL_PASSWORD),\n"
    "                         --mail_ssl true (SMTPS; else STARTTLS when offered)\n"
    "  --http_notification_url URL  POST Chronos's JSON body; basic auth from\n"
    "                         --http_notification_credentials_file FILE (USER:PASSWORD)\n"
    "  --notification_hmac_key_file FILE  sign webhook bodies (X-Chronos-Signature)\n"
    "  --slack_url URL, --mattermost_url URL  incoming webhooks\n"
    "  --raven_dsn DSN        Sentry: https://KEY@HOST/PROJECT_ID (its store API)\n"
    "  --disable_after_failures N  disable a job after N failures in a row (0: never)\n"
    "  --notify_events LIST   failed,disabled,exhausted,deleted,lost,timeout,skipped,\n"
    "                         recovered,waiting; all; none (default: all but skipped\n"
    "                         and recovered); a job's notifyEvents replace it\n"
    "  --notify_waiting_ms MS  a run that no offer fits for MS tells `waiting`, once\n"
    "                         (default 600000; 0: never)\n"
    "  --notify_timeout_ms MS, --notify_backoff_ms MS, --notify_backoff_max_ms MS,\n"
    "  --notify_outbox_max N  one attempt's bound (10000), the retry backoff (1000\n"
    "                         doubling to 600000, jittered), the outbox's size (10000)\n";

static enum key key_of(const char *name, size_t len)
{
    for (int k = 0; k < K_COUNT; k++)
        if (strlen(key_names[k]) == len && strncmp(key_names[k], name, len) == 0)
            return (enum key)k;
    return K_COUNT;
}

static bool put(struct settings *s, enum key k, const char *v, size_t len)
{
    if (len >= SETTING_MAX)
        return false;
    memcpy(s->value[k], v, len);
    s->value[k][len] = '\0';
    s->set[k] = true;
    return true;
}

/* Reads `key = value` lines ('#' comments, blank lines); false with a message
 * naming the line on anything else. */
static bool read_config(struct settings *s, const char *path)
{
    FILE *f = fopen(path, "r");
    if (f == NULL) {
        fprintf(stderr, "chronos serve: config: cannot open '%s': %s\n", path, strerror(errno));
        return false;
    }
    char line[SETTING_MAX + 128];
    int no = 0;
    bool ok = true;
    while (ok && fgets(line, sizeof line, f) != NULL) {
        no++;
        char *p = line, *end = line + strlen(line);
        while (end > p && isspace((unsigned char)end[-1]))
            *--end = '\0';
        while (isspace((unsigned char)*p))
            p++;
        if (*p == '\0' || *p == '#')
            continue;
        char *eq = strchr(p, '=');
        char *kend = eq ? eq : end;
        while (kend > p && isspace((unsigned char)kend[-1]))
            kend--;
        enum key k = key_of(p, (size_t)(kend - p));
        char *v = eq ? eq + 1 : end;
        while (isspace((unsigned char)*v))
            v++;
        if (eq != NULL && k == K_COUNT) {
            /* Name the key, and the one probably meant. */
            *kend = '\0';
            const char *near = chr_near_word(p, key_names, K_COUNT);
            fprintf(stderr, "chronos serve: config %s:%d: unknown key '%.64s'%s%s%s\n", path, no,
                    p, near ? " (did you mean '" : "", near ? near : "", near ? "'?)" : "");
            ok = false;
        } else if (eq == NULL || k == K_COUNT || k == K_CONFIG || !put(s, k, v, strlen(v))) {
            fprintf(stderr, "chronos serve: config %s:%d: expected `key = value` with a known key\n",
                    path, no);
            ok = false;
        }
    }
    struct stat st;
    bool secret = false;
    for (size_t i = 0; i < sizeof secret_keys / sizeof secret_keys[0]; i++)
        secret |= s->set[secret_keys[i].key];
    if (ok && secret && fstat(fileno(f), &st) == 0 && (st.st_mode & 077) != 0)
        fprintf(stderr, "chronos serve: warning: config: '%s' holds a secret and other users may "
                        "read it (mode %04o): chmod 600 it, or use --http_credentials_file\n",
                path, (unsigned)(st.st_mode & 07777));
    fclose(f);
    return ok;
}

/* CHRONOS_<KEY> variables; a secret is taken out of the environment, so
 * that no supervisor or task inherits it. */
static void read_env(struct settings *s)
{
    for (int k = 0; k < K_COUNT; k++) {
        char name[64] = "CHRONOS_";
        for (size_t i = 0; key_names[k][i] && i < 50; i++)
            name[8 + i] = (char)toupper((unsigned char)key_names[k][i]);
        char v[SETTING_MAX];
        if (is_secret((enum key)k) && chr_secret_take_env(name, v, sizeof v))
            put(s, (enum key)k, v, strlen(v));
        else if (!is_secret((enum key)k) && getenv(name) != NULL)
            put(s, (enum key)k, getenv(name), strlen(getenv(name)));
        memset(v, 0, sizeof v);
    }
}

/* CHRONOS_<KEY> of a key (a static buffer: main thread, messages only). */
static const char *env_name(enum key k)
{
    static char name[64];
    size_t i = 0;
    for (; key_names[k][i] && i < sizeof name - 1; i++)
        name[i] = (char)toupper((unsigned char)key_names[k][i]);
    name[i] = '\0';
    return name;
}

/* A secret on the command line: every local user could read it in
 * /proc/PID/cmdline until now.  Say so, and hide it from here on. */
static void hide_flag_secret(enum key k, char *value)
{
    fprintf(stderr,
            "chronos serve: warning: --%s was given on the command line, where every local "
            "user could read it (ps, /proc/PID/cmdline); it is hidden there now, but use "
            "--%s_file FILE (mode 0600) or CHRONOS_%s instead\n",
            key_names[k], key_names[k], env_name(k));
    chr_secret_wipe(value);
}

/* --key VALUE or --key=VALUE; returns -1 to go on, else an exit status. */
static int read_flags(struct settings *s, int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            fputs(serve_help, stdout);
            fputs(serve_help2, stdout);
            return CHR_EXIT_OK;
        }
        if (strncmp(a, "--", 2) != 0) {
            fprintf(stderr, "chronos serve: unexpected argument '%s' (see --help)\n", a);
            return CHR_EXIT_USAGE;
        }
        const char *eq = strchr(a + 2, '=');
        enum key k = key_of(a + 2, eq ? (size_t)(eq - a - 2) : strlen(a + 2));
        if (k == K_COUNT) {
            fprintf(stderr, "chronos serve: unknown option '%s' (see --help)\n", a);
            return CHR_EXIT_USAGE;
        }
        char *v = eq ? argv[i] + (eq - a) + 1 : (i + 1 < argc ? argv[++i] : NULL);
        if (v == NULL || !put(s, k, v, strlen(v))) {
            fprintf(stderr, "chronos serve: option --%s needs a value\n", key_names[k]);
            return CHR_EXIT_USAGE;
        }
        if (is_secret(k))
            hide_flag_secret(k, v);
    }
    return -1;
}

static bool parse_long(const char *key, const char *v, long lo, long hi, long *out)
{
    char *end = NULL;
    errno = 0;
    long n = strtol(v, &end, 10);
    if (errno != 0 || end == v || *end != '\0' || n < lo || n > hi) {
        fprintf(stderr, "chronos serve: %s: '%s' is not a whole number %ld-%ld\n", key, v, lo, hi);
        return false;
    }
    *out = n;
    return true;
}

static bool parse_double(const char *key, const char *v, double *out)
{
    char *end = NULL;
    errno = 0;
    double d = strtod(v, &end);
    if (errno != 0 || end == v || *end != '\0' || !(d > 0) || d > 1e9) {
        fprintf(stderr, "chronos serve: %s: '%s' is not a positive number\n", key, v);
        return false;
    }
    *out = d;
    return true;
}

/* A number of seconds from 0 to max (decimals allowed), as milliseconds. */
static bool parse_seconds(const char *key, const char *v, double max, int64_t *out_ms)
{
    char *end = NULL;
    errno = 0;
    double d = strtod(v, &end);
    if (errno != 0 || end == v || *end != '\0' || !(d >= 0) || d > max) {
        fprintf(stderr, "chronos serve: %s: '%s' is not a number of seconds from 0 to %g\n", key,
                v, max);
        return false;
    }
    *out_ms = (int64_t)(d * 1000 + 0.5);
    return true;
}

/* Defaults < config file < environment < flags. */
static int gather(struct settings *s, int argc, char **argv)
{
    struct settings env, flags;
    memset(s, 0, sizeof *s);
    memset(&env, 0, sizeof env);
    memset(&flags, 0, sizeof flags);
    int status = read_flags(&flags, argc, argv);
    if (status >= 0)
        return status;
    read_env(&env);
    for (int k = 0; k < K_COUNT; k++)
        if (key_defaults[k] != NULL)
            put(s, (enum key)k, key_defaults[k], strlen(key_defaults[k]));
    const char *config = flags.set[K_CONFIG] ? flags.value[K_CONFIG]
                         : env.set[K_CONFIG] ? env.value[K_CONFIG] : NULL;
    if (config != NULL && !read_config(s, config))
        return CHR_EXIT_BAD_VALUE;
    for (int k = 0; k < K_COUNT; k++) {
        if (env.set[k])
            put(s, (enum key)k, env.value[k], strlen(env.value[k]));
        if (flags.set[k])
            put(s, (enum key)k, flags.value[k], strlen(flags.value[k]));
    }
    return -1;
}

struct serve_cfg {
    struct chr_notify_config notify;
    char link_base[SETTING_MAX + 32];
    int64_t disable_after;
    int64_t notify_waiting_ms;
    long port;
    double cpus, mem, disk;
    double local[3]; /* cpus, mem MB, disk MB offered by this host; 0: measured */
    long retry_ms;
    long run_history, http_threads, max_jobs;
    long zk_timeout_ms;
    int64_t min_period_ms;
    const char *zk;            /* NULL: the local store */
    const char *mesos_master;  /* NULL, host:port or zk://... */
    long min_revive_ms, reconcile_s, failover_s;
    char hostname[SETTING_MAX];   /* advertised as the leader's host */
    char *tls_cert, *tls_key; /* PEM texts, chr_malloc'd */
    struct chr_users *users;   /* who tasks may run as */
    bool cgroups;              /* a cgroup per run where possible */
    enum chr_local_runtime runtime; /* runs container jobs; NONE: they wait */
    char store_dir[PATH_MAX], runs_dir[PATH_MAX];
    const char *data_dir;
};

/* Each secret from its file (--http_credentials_file, --zk_auth_file) when
 * one is named; naming both the secret and its file is a mistake. */
static bool read_secret_files(struct settings *s)
{
    for (size_t i = 0; i < sizeof secret_keys / sizeof secret_keys[0]; i++) {
        enum key k = secret_keys[i].key, f = secret_keys[i].file;
        if (!s->set[f])
            continue;
        if (s->set[k]) {
            fprintf(stderr, "chronos serve: %s and %s: give one of them\n", key_names[k],
                    key_names[f]);
            return false;
        }
        if (!chr_secret_read_file(key_names[f], s->value[f], s->value[k], SETTING_MAX))
            return false;
        s->set[k] = true;
    }
    return true;
}

/* --user and --allowed_users against this host's users (api/users.h). */
static bool make_users(const struct settings *s, struct serve_cfg *c)
{
    struct chr_users_config uc = {.user = s->set[K_USER] ? s->value[K_USER] : NULL,
                                  .allowed = s->set[K_ALLOWED_USERS] ? s->value[K_ALLOWED_USERS]
                                                                     : NULL,
                                  .euid = geteuid()};
    struct chr_error err = {{0}, {0}};
    if (chr_users_create(&uc, &c->users, &err) != CHR_OK) {
        fprintf(stderr, "chronos serve: %s\n", err.message);
        return false;
    }
    return true;
}

/* "user:password", each part non-empty, printable. */
static bool check_credentials(const char *key, const char *v)
{
    const char *colon = strchr(v, ':');
    bool ok = colon != NULL && colon != v && colon[1] != '\0' && strlen(v) < 512;
    for (const char *p = v; ok && *p; p++)
        ok = (unsigned char)*p >= 0x20 && *p != 0x7f;
    if (!ok)
        fprintf(stderr, "chronos serve: %s: expected USER:PASSWORD (both non-empty)\n", key);
    return ok;
}

/* A PEM file, bounded, into a chr_malloc'd text. */
static bool read_pem(const char *key, const char *path, char **out)
{
    FILE *f = fopen(path, "r");
    if (f == NULL) {
        fprintf(stderr, "chronos serve: %s: cannot open '%s': %s\n", key, path, strerror(errno));
        return false;
    }
    size_t cap = 1024 * 1024;
    char *buf = chr_malloc(cap + 1);
    size_t n = buf ? fread(buf, 1, cap + 1, f) : 0;
    fclose(f);
    if (buf == NULL || n == 0 || n > cap || strstr(buf, "-----BEGIN ") == NULL) {
        if (buf != NULL)
            buf[n > cap ? cap : n] = '\0';
        fprintf(stderr, "chronos serve: %s: '%s' is not a PEM file (or larger than 1 MiB)\n", key,
                path);
        chr_free(buf);
        return false;
    }
    buf[n] = '\0';
    *out = buf;
    return true;
}

/* zk (or Chronos's zk_hosts), zk_auth, zk_session_timeout, master /
 * mesos_master. */
static bool zk_settings(const struct settings *s, struct serve_cfg *c)
{
    const char *zk = s->value[K_ZK][0] ? s->value[K_ZK] : s->value[K_ZK_HOSTS];
    c->zk = zk[0] ? zk : NULL;
    if (!parse_long("zk_session_timeout", s->value[K_ZK_SESSION_TIMEOUT], 1000, 600000,
                    &c->zk_timeout_ms))
        return false;
    if (s->set[K_ZK_AUTH] && !check_credentials("zk_auth", s->value[K_ZK_AUTH]))
        return false;
    const char *mm = s->set[K_MESOS_MASTER] ? s->value[K_MESOS_MASTER] : s->value[K_MASTER];
    c->mesos_master = strcmp(mm, "local") != 0 && mm[0] ? mm : NULL;
    struct chr_error err = {{0}, {0}};
    if (c->mesos_master != NULL && chr_mesos_master_validate(c->mesos_master, &err) != CHR_OK) {
        fprintf(stderr, "chronos serve: %s\n", err.message);
        return false;
    }
    return true;
}

static const char *opt(const struct settings *s, enum key k)
{
    return s->set[k] && s->value[k][0] != '\0' ? s->value[k] : NULL;
}

/* The notification flags (server/notify.h); after the hostname is known. */
static bool notify_settings(const struct settings *s, struct serve_cfg *c)
{
    struct chr_notify_config *n = &c->notify;
    long timeout, backoff, backoff_max, outbox, disable, waiting;
    struct chr_error err = {{0}, {0}};
    if (!parse_long("notify_timeout_ms", s->value[K_NOTIFY_TIMEOUT], 100, 600000, &timeout) ||
        !parse_long("notify_waiting_ms", s->value[K_NOTIFY_WAITING], 0, 30L * 86400000L,
                    &waiting) ||
        !parse_long("notify_backoff_ms", s->value[K_NOTIFY_BACKOFF], 1, 3600000L, &backoff) ||
        !parse_long("notify_backoff_max_ms", s->value[K_NOTIFY_BACKOFF_MAX], 1, 86400000L,
                    &backoff_max) ||
        !parse_long("notify_outbox_max", s->value[K_NOTIFY_OUTBOX_MAX], 1, 50000, &outbox) ||
        !parse_long("disable_after_failures", s->value[K_DISABLE_AFTER], 0, 1000000, &disable))
        return false;
    if (!chr_notify_events_parse(s->value[K_NOTIFY_EVENTS], "notify_events", &n->events, &err)) {
        fprintf(stderr, "chronos serve: %s\n", err.message);
        return false;
    }
    if (opt(s, K_HTTP_NOTIFY_CREDS) &&
        !check_credentials("http_notification_credentials", s->value[K_HTTP_NOTIFY_CREDS]))
        return false;
    const char *ms = opt(s, K_MAIL_SERVER);
    if (ms != NULL && (strchr(ms, ':') == NULL || strchr(ms, '/') != NULL)) {
        fprintf(stderr, "chronos serve: mail_server: '%s' is not HOST:PORT\n", ms);
        return false;
    }
    struct chr_sentry_dsn dsn;
    if (opt(s, K_RAVEN_DSN) &&
        chr_notify_sentry_dsn(s->value[K_RAVEN_DSN], "raven_dsn", &dsn, &err) != CHR_OK) {
        fprintf(stderr, "chronos serve: %s\n", err.message);
        return false;
    }
    snprintf(c->link_base, sizeof c->link_base, "%s", opt(s, K_WEBUI_URL) ? s->value[K_WEBUI_URL]
                                                                           : "");
    if (c->link_base[0] == '\0')
        snprintf(c->link_base, sizeof c->link_base, "http%s://%s:%ld", s->set[K_SSL_CERT] ? "s" : "",
                 c->hostname, c->port);
    *n = (struct chr_notify_config){
        .cluster = s->value[K_CLUSTER_NAME], .link_base = c->link_base, .mail_server = ms,
        .mail_from = opt(s, K_MAIL_FROM), .mail_user = opt(s, K_MAIL_USER),
        .mail_password = opt(s, K_MAIL_PASSWORD),
        .mail_ssl = strcmp(s->value[K_MAIL_SSL], "true") == 0,
        .http_url = opt(s, K_HTTP_NOTIFY_URL), .http_credentials = opt(s, K_HTTP_NOTIFY_CREDS),
        .hmac_key = opt(s, K_NOTIFY_HMAC), .slack_url = opt(s, K_SLACK_URL),
        .mattermost_url = opt(s, K_MATTERMOST_URL), .sentry_dsn = opt(s, K_RAVEN_DSN),
        .events = n->events, .timeout_ms = timeout,
        .backoff_ms = backoff, .backoff_max_ms = backoff_max, .outbox_max = (size_t)outbox,
        .verbose = strcmp(s->value[K_VERBOSE], "false") != 0};
    c->disable_after = disable;
    c->notify_waiting_ms = waiting;
    return true;
}

static bool interpret(struct settings *s, struct serve_cfg *c)
{
    if (!parse_long("http_port", s->value[K_HTTP_PORT], 0, 65535, &c->port) ||
        !parse_long("failure_retry", s->value[K_FAILURE_RETRY], 0, 86400000L, &c->retry_ms) ||
        !parse_double("mesos_task_cpu", s->value[K_TASK_CPU], &c->cpus) ||
        !parse_double("mesos_task_mem", s->value[K_TASK_MEM], &c->mem) ||
        !parse_double("mesos_task_disk", s->value[K_TASK_DISK], &c->disk) ||
        !parse_long("run_history", s->value[K_RUN_HISTORY], 0, 1000, &c->run_history) ||
        !parse_long("http_threads", s->value[K_HTTP_THREADS], 1, 64, &c->http_threads) ||
        !parse_long("max_jobs", s->value[K_MAX_JOBS], 1, CHR_JOBS_MAX, &c->max_jobs))
        return false;
    if (!read_secret_files(s))
        return false;
    if (s->set[K_HTTP_CREDENTIALS] &&
        !check_credentials("http_credentials", s->value[K_HTTP_CREDENTIALS]))
        return false;
    if (!parse_seconds("min_period", s->value[K_MIN_PERIOD], 86400, &c->min_period_ms))
        return false;
    const char *cg = s->value[K_CGROUPS];
    if (strcmp(cg, "auto") != 0 && strcmp(cg, "off") != 0) {
        fprintf(stderr, "chronos serve: cgroups: '%s' is not auto or off\n", cg);
        return false;
    }
    c->cgroups = strcmp(cg, "auto") == 0;
    enum chr_log_format lf;
    if (!chr_log_format_parse(s->value[K_LOG_FORMAT], &lf)) {
        fprintf(stderr, "chronos serve: log_format: '%s' is not text or json\n",
                s->value[K_LOG_FORMAT]);
        return false;
    }
    chr_log_set_format(lf);
    const char *rt = s->set[K_LOCAL_CONTAINERIZER] ? s->value[K_LOCAL_CONTAINERIZER] : "";
    if (rt[0] && chr_local_runtime_parse(rt, &c->runtime) != CHR_OK) {
        fprintf(stderr, "chronos serve: local_containerizer: '%s' is not podman or docker\n", rt);
        return false;
    }
    if (s->set[K_SSL_CERT] != s->set[K_SSL_KEY]) {
        fputs("chronos serve: ssl_cert and ssl_key: give both (a PEM certificate and its key) or "
              "neither\n", stderr);
        return false;
    }
    if (s->set[K_SSL_CERT] && (!read_pem("ssl_cert", s->value[K_SSL_CERT], &c->tls_cert) ||
                               !read_pem("ssl_key", s->value[K_SSL_KEY], &c->tls_key)))
        return false;
    for (int k = 0; k < 3; k++)
        if (s->set[K_LOCAL_CPUS + k] &&
            !parse_double(key_names[K_LOCAL_CPUS + k], s->value[K_LOCAL_CPUS + k], &c->local[k]))
            return false;
    if (!zk_settings(s, c))
        return false;
    if (!parse_long("min_revive_offers_interval", s->value[K_MIN_REVIVE], 0, 3600000L,
                    &c->min_revive_ms) ||
        !parse_long("reconciliation_interval", s->value[K_RECONCILE_INTERVAL], 1, 86400 * 7,
                    &c->reconcile_s) ||
        !parse_long("failover_timeout", s->value[K_FAILOVER_TIMEOUT], 1, 86400L * 365,
                    &c->failover_s))
        return false;
    if (s->set[K_MESOS_SECRET] && !s->set[K_MESOS_PRINCIPAL]) {
        fputs("chronos serve: mesos_authentication_secret_file: give "
              "mesos_authentication_principal too\n", stderr);
        return false;
    }
    const char *zp = s->value[K_ZK_PATH];
    if (zp[0] != '/' || strlen(zp) > 200 || strstr(zp, "//") || zp[strlen(zp) - 1] == '/') {
        fprintf(stderr, "chronos serve: zk_path: '%s' must be an absolute path like /chronos\n", zp);
        return false;
    }
    const char *addr = s->value[K_HTTP_ADDRESS];
    if (s->set[K_HOSTNAME])
        snprintf(c->hostname, sizeof c->hostname, "%s", s->value[K_HOSTNAME]);
    else if (strcmp(addr, "0.0.0.0") != 0)
        snprintf(c->hostname, sizeof c->hostname, "%s", addr);
    else if (gethostname(c->hostname, sizeof c->hostname - 1) != 0)
        snprintf(c->hostname, sizeof c->hostname, "localhost");
    if (!make_users(s, c) || !notify_settings(s, c))
        return false;
    const char *dd = s->value[K_DATA_DIR];
    /* Tasks run as other users must not read the store: jobs hold their
     * environment variables (often secrets) in it. */
    if (mkdir(dd, 0750) != 0 && errno != EEXIST) {
        fprintf(stderr, "chronos serve: data_dir: cannot create '%s': %s\n", dd, strerror(errno));
        return false;
    }
    c->data_dir = dd;
    int a = snprintf(c->store_dir, sizeof c->store_dir, "%s/store", dd);
    int b = s->set[K_RUNS_DIR] ? snprintf(c->runs_dir, sizeof c->runs_dir, "%s", s->value[K_RUNS_DIR])
                               : snprintf(c->runs_dir, sizeof c->runs_dir, "%s/runs", dd);
    if (a < 0 || b < 0 || (size_t)a >= sizeof c->store_dir || (size_t)b >= sizeof c->runs_dir) {
        fputs("chronos serve: data_dir: path too long\n", stderr);
        return false;
    }
    if (mkdir(c->store_dir, 0700) != 0 && errno != EEXIST) {
        fprintf(stderr, "chronos serve: cannot create '%s': %s\n", c->store_dir, strerror(errno));
        return false;
    }
    return true;
}

/* The scheduler's settings (the store is filled in by the caller). */
static void loop_config(const struct settings *s, const struct serve_cfg *c, struct chr_tzdb *db,
                        struct chr_loop_config *lc)
{
    memset(lc, 0, sizeof *lc);
    /* launch_lead_ms: runs are recorded and their supervisors started ahead
     * of the instant; the supervisor execs at the instant itself. */
    lc->core = (struct chr_core_config){.tzdb = db, .default_cpus = c->cpus,
                                        .default_mem_mb = c->mem, .default_disk_mb = c->disk,
                                        .default_retry_delay_ms = c->retry_ms,
                                        .offer_refuse_ms = 5000,
                                        .history_max = (uint32_t)c->run_history,
                                        /* Mesos: two seconds ahead (a REVIVE
                                         * interval and an allocation round), so that the
                                         * REVIVE's offers are there at the
                                         * instant; the ACCEPT is held until
                                         * then (rm_mesos.c). */
                                        .launch_lead_ms = c->mesos_master ? 2000 : 200,
                                        .min_period_ms = c->min_period_ms,
                                        .disable_after_failures = c->disable_after,
                                        .notify_waiting_ms = c->notify_waiting_ms,
                                        .jobs_max = (size_t)c->max_jobs};
    lc->root = s->value[K_ZK_PATH];
    lc->runs_dir = c->runs_dir;
    lc->resources = (struct chr_local_resources){c->local[0], c->local[1], c->local[2]};
    chr_job_defaults_init(&lc->defaults);
    lc->defaults.cpus = c->cpus;
    lc->defaults.mem_mb = c->mem;
    lc->defaults.disk_mb = c->disk;
    lc->defaults.retry_delay_ms = c->retry_ms;
    lc->defaults.user = chr_users_default(c->users);
    lc->users = c->users;
    lc->cgroups_off = !c->cgroups;
    lc->runtime = c->runtime;
    lc->verbose = strcmp(s->value[K_VERBOSE], "false") != 0;
}

/* The Mesos master detected (shown in /v1/status and the log).  The Mesos
 * resource manager itself comes later: tasks still run on this host. */
static void on_master(void *ctx, const char *hostport)
{
    chr_http_set_mesos_master(ctx, hostport);
    fprintf(stderr, "chronos: Mesos master: %s\n", hostport ? hostport : "none (no leading master)");
}

static struct chr_mesos_master *detect_master(const struct serve_cfg *c, struct chr_http *http)
{
    if (c->mesos_master == NULL)
        return NULL;
    struct chr_mesos_master_config mc = {.url = c->mesos_master, .on_change = on_master,
                                         .ctx = http};
    struct chr_mesos_master *m = NULL;
    struct chr_error err = {{0}, {0}};
    if (chr_mesos_master_start(&mc, &m, &err) != CHR_OK) {
        fprintf(stderr, "chronos: mesos_master: %s (not detected)\n", err.message);
        return NULL;
    }
    char hp[256];
    if (chr_mesos_master_current(m, hp, sizeof hp))
        on_master(http, hp);
    return m;
}

#ifdef CHR_TESTING
/* Test builds: CHRONOS_TEST_STORE_FAULT=KIND:NTH[:COUNT] (KIND write or sync)
 * makes the store's NTH write or fsync from now on fail (COUNT of them; -1
 * every one after), as a full or broken disk would (tests/integration/
 * test_store_faults.sh). */
static void test_store_faults(struct chr_store *store)
{
    const char *v = getenv("CHRONOS_TEST_STORE_FAULT");
    char kind[8] = "";
    long nth = 0, count = 1;
    if (v == NULL || sscanf(v, "%7[a-z]:%ld:%ld", kind, &nth, &count) < 2)
        return;
    chr_store_fault_inject(store, strcmp(kind, "sync") == 0 ? CHR_STORE_FAULT_SYNC
                                                            : CHR_STORE_FAULT_WRITE,
                           nth, count);
}
#else
static void test_store_faults(struct chr_store *store)
{
    (void)store;
}
#endif

/* Runs' output comes from the agents through the master `m` (Mesos mode). */
static void output_master(const struct serve_cfg *c, struct chr_http_config *hc,
                          struct chr_mesos_master *m)
{
    if (c->mesos_master != NULL)
        chr_run_output_mesos_set_master(hc->output.ctx, m);
}

/* One machine: the local store under data_dir, always the leader; a store
 * that fails is resumed by itself (server/solo.h). */
static int run_local(const struct serve_cfg *c, struct chr_loop_config *lc,
                     struct chr_http_config *hc, const sigset_t *stop)
{
    struct chr_store *store = NULL;
    struct chr_error err = {{0}, {0}};
    enum chr_err e = chr_store_open_local(c->store_dir, NULL, &store, &err);
    if (e != CHR_OK) {
        fprintf(stderr, "chronos serve: store: %s\n", err.message[0] ? err.message
                                                                      : chr_err_message(e));
        if (e == CHR_EDAMAGED)
            fprintf(stderr, "chronos serve: nothing was changed. Run `chronos store check "
                    "--data_dir %s` to see the damage, then `chronos store recover --data_dir %s` "
                    "to keep the history before it (the damaged files are set aside, not "
                    "deleted)\n", c->data_dir, c->data_dir);
        return CHR_EXIT_BAD_VALUE;
    }
    if (err.message[0] != '\0')
        fprintf(stderr, "chronos: store: %s\n", err.message);
    lc->store = store;
    test_store_faults(store);
    struct chr_solo *solo = NULL;
    struct chr_http *http = NULL;
    int status = CHR_EXIT_BAD_VALUE;
    if (chr_solo_start(lc, &solo, &err) != CHR_OK) {
        fprintf(stderr, "chronos serve: %s\n", err.message);
    } else {
        hc->sched = chr_loop_sched(chr_solo_loop(solo));
        if (chr_http_start(hc, &http, &err) != CHR_OK) {
            fprintf(stderr, "chronos serve: %s\n", err.message);
        } else {
            fprintf(stderr, "chronos: serving on %s://%s:%u (data in %s)\n",
                    hc->tls_cert_pem ? "https" : "http", hc->bind_addr,
                    (unsigned)chr_http_port(http), c->store_dir);
            struct chr_mesos_master *m = detect_master(c, http);
            output_master(c, hc, m);
            status = chr_solo_run(solo, http, stop) == 0 ? CHR_EXIT_OK : CHR_EXIT_BAD_VALUE;
            output_master(c, hc, NULL);
            chr_mesos_master_stop(m);
        }
    }
    chr_http_stop(http); /* no request is inside the scheduler after this */
    chr_solo_stop_exit(solo); /* the process ends: its memory goes with it */
    chr_store_close_exit(store);
    return status;
}

/* A cluster: ZooKeeper holds the jobs and elects the leader (server/ha.h). */
static int run_cluster(const struct settings *s, const struct serve_cfg *c,
                       struct chr_loop_config *lc, struct chr_http_config *hc,
                       const sigset_t *stop)
{
    struct chr_error err = {{0}, {0}};
    struct chr_http *http = NULL;
    hc->sched = NULL;
    hc->store_kind = "zookeeper";
    if (chr_http_start(hc, &http, &err) != CHR_OK) {
        fprintf(stderr, "chronos serve: %s\n", err.message);
        return CHR_EXIT_BAD_VALUE;
    }
    fprintf(stderr, "chronos: serving on %s://%s:%u as %s, ZooKeeper %s%s\n",
            hc->tls_cert_pem ? "https" : "http", hc->bind_addr, (unsigned)chr_http_port(http),
            hc->leader, c->zk, s->value[K_ZK_PATH]);
    struct chr_ha_config ha = {
        .zk = {.hosts = c->zk, .session_timeout_ms = (int32_t)c->zk_timeout_ms,
               .auth = s->set[K_ZK_AUTH] ? s->value[K_ZK_AUTH] : NULL},
        .root = s->value[K_ZK_PATH], .id = hc->leader, .loop = *lc, .http = http};
    struct chr_mesos_master *m = detect_master(c, http);
    output_master(c, hc, m);
    int status = chr_ha_run(&ha, stop);
    output_master(c, hc, NULL);
    chr_mesos_master_stop(m);
    chr_http_stop(http);
    return status;
}

static int run_server(const struct settings *s, const struct serve_cfg *c, struct chr_tzdb *db,
                      const sigset_t *stop)
{
    struct chr_loop_config lc;
    loop_config(s, c, db, &lc);
    char self[SETTING_MAX + 16];
    snprintf(self, sizeof self, "%s:%ld", c->hostname, c->port);
    char webui[SETTING_MAX + 32];
    snprintf(webui, sizeof webui, "http://%s:%ld", c->hostname, c->port);
    struct chr_rm_mesos_config mc = {
        .master = c->mesos_master,
        .fw = {.user = chr_users_default(c->users), .name = s->value[K_MESOS_FRAMEWORK_NAME],
               .role = s->value[K_MESOS_ROLE], .hostname = c->hostname,
               .webui_url = s->set[K_WEBUI_URL] ? s->value[K_WEBUI_URL] : webui,
               .principal = s->set[K_MESOS_PRINCIPAL] ? s->value[K_MESOS_PRINCIPAL] : NULL,
               .secret = s->set[K_MESOS_SECRET] ? s->value[K_MESOS_SECRET] : NULL,
               .failover_timeout_s = (double)c->failover_s},
        .min_revive_interval_ms = c->min_revive_ms,
        .reconcile_interval_ms = c->reconcile_s * 1000};

    struct chr_http_config hc = {
        .bind_addr = s->value[K_HTTP_ADDRESS], .port = (uint16_t)c->port,
        .defaults = lc.defaults, .threads = (unsigned)c->http_threads, .output = chr_run_output_local(c->runs_dir),
        .leader = self, .version = CHR_VERSION, .store_kind = "local",
        .credentials = s->set[K_HTTP_CREDENTIALS] ? s->value[K_HTTP_CREDENTIALS] : NULL,
        .realm = s->value[K_HTTP_REALM], .tls_cert_pem = c->tls_cert, .tls_key_pem = c->tls_key,
        .users = c->users, .hostname = c->hostname,
        .allowed_hosts = s->set[K_ALLOWED_HOSTS] ? s->value[K_ALLOWED_HOSTS] : NULL,
        .cors_origins = s->set[K_CORS_ORIGINS] ? s->value[K_CORS_ORIGINS] : NULL,
        .tls_priorities = s->set[K_TLS_PRIORITIES] ? s->value[K_TLS_PRIORITIES] : NULL};
    struct chr_run_output_mesos *mo = NULL;
    struct chr_notify_config nc = c->notify;
    lc.notify = &nc;
    if (c->mesos_master != NULL) {
        if (chr_run_output_mesos_create(&mo) != CHR_OK) {
            fputs("chronos serve: out of memory\n", stderr);
            return CHR_EXIT_BAD_VALUE;
        }
        hc.output = chr_run_output_mesos(mo);
        lc.mesos = &mc;
        fprintf(stderr, "chronos: tasks run on the Mesos cluster of %s as framework %s\n",
                c->mesos_master, mc.fw.name);
    }
    fprintf(stderr, "chronos: tasks run as %s unless a job names another allowed user (%s)\n",
            chr_users_default(c->users), chr_users_allowed(c->users));
    char cg[256] = "off (--cgroups off)";
    if (c->cgroups)
        chr_local_cgroup_describe(cg, sizeof cg);
    fprintf(stderr, "chronos: a run's own cgroup enforces: %s; every kill also sweeps the "
                    "run's process tree\n", cg);
    if (c->runtime != CHR_LOCAL_RUNTIME_NONE)
        fprintf(stderr, "chronos: jobs with a container run in %s containers\n",
                chr_local_runtime_name(c->runtime));
    else
        fprintf(stderr, "chronos: no container runtime (--local_containerizer): jobs with a "
                        "container are accepted but never run on this host\n");
    nc.output = hc.output; /* a run's stderr for its notification */
    int status = c->zk ? run_cluster(s, c, &lc, &hc, stop) : run_local(c, &lc, &hc, stop);
    chr_run_output_mesos_destroy(mo);
    return status;
}

const int chr_cli_serve_here = 1;

int chr_cli_serve(int argc, char **argv)
{
    struct settings s;
    int status = gather(&s, argc, argv);
    if (status >= 0)
        return status;
    struct serve_cfg c;
    memset(&c, 0, sizeof c);
    if (!interpret(&s, &c)) {
        chr_users_destroy(c.users);
        return CHR_EXIT_BAD_VALUE;
    }
    /* Block the stop signals in every thread started from here on; the main
     * thread takes them with sigwait. */
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
#ifdef CHR_TESTING
    sigaddset(&set, SIGUSR2); /* test builds: expire the ZooKeeper session (server/ha.h) */
#endif
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    signal(SIGPIPE, SIG_IGN);
    struct chr_tzdb *db = NULL;
    if (chr_tzdb_create(NULL, &db) != CHR_OK) {
        fputs("chronos serve: out of memory\n", stderr);
        chr_users_destroy(c.users);
        return CHR_EXIT_BAD_VALUE;
    }
    status = run_server(&s, &c, db, &set);
    chr_free(c.tls_cert);
    chr_free(c.tls_key);
    chr_users_destroy(c.users);
    chr_tzdb_destroy(db);
    memset(&s, 0, sizeof s); /* the secrets among the settings */
    return status;
}
