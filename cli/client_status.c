/*
 * client_status.c - `chronos status`: the server's GET /v1/status for
 * people: the leader and its health, the jobs and runs, a table of the
 * agents with what each offered and what chronos's tasks use there, the
 * sums (offered, used, held, total when known) and the summed task time.
 * It only shows the server's JSON; it never computes a figure itself.
 */
#include <string.h>

#include "cli/client.h"

static const char status_help[] =
    "usage: chronos status [--json] [--server URL]\n"
    "\n"
    "Prints the leader, whether it is healthy, the jobs and runs, then a table\n"
    "of the agents (this host, or the Mesos agents that offered): what each\n"
    "OFFERED (its last offer; this host: what is free now) and what chronos's\n"
    "running tasks USE there, per resource (cpus, mem and disk in MB); then the\n"
    "sums: offered, used, held (in the offers chronos holds now), total (when\n"
    "known: this host's), and the task time of every run that ended.\n"
    "\n"
    "  --json        print the server's answer (GET /v1/status)\n"
    CHR_CLIENT_SERVER_HELP;

static const char *const res_names[3] = {"cpus", "mem", "disk"};

/* A figure as text: "-" when absent, else with at most 2 decimals. */
static void fig(const json_t *o, const char *member, int k, char *buf, size_t cap)
{
    const json_t *set = member ? json_object_get(o, member) : o;
    const json_t *v = json_object_get(set, res_names[k]);
    if (!json_is_number(v))
        snprintf(buf, cap, "-");
    else
        snprintf(buf, cap, "%.*f", k == 0 ? 2 : 0, json_number_value(v));
}

static const char *str_or(const json_t *v, const char *none)
{
    const char *s = json_string_value(v);
    return s != NULL && s[0] != '\0' ? s : none;
}

static void status_head(const json_t *v)
{
    const json_t *why = json_object_get(v, "unhealthyReason");
    printf("leader      %s%s\n", str_or(json_object_get(v, "leader"), "(none)"),
           json_is_true(json_object_get(v, "isLeader")) ? " (this server)" : "");
    printf("healthy     %s%s%s\n", json_is_true(json_object_get(v, "healthy")) ? "yes" : "no",
           json_is_string(why) ? ": " : "", json_is_string(why) ? json_string_value(why) : "");
    if (json_is_integer(json_object_get(v, "jobs")))
        printf("jobs        %" JSON_INTEGER_FORMAT "\n",
               json_integer_value(json_object_get(v, "jobs")));
    if (json_is_integer(json_object_get(v, "runsActive")))
        printf("runs        %" JSON_INTEGER_FORMAT " active, %" JSON_INTEGER_FORMAT " waiting\n",
               json_integer_value(json_object_get(v, "runsActive")),
               json_integer_value(json_object_get(v, "runsWaiting")));
    const json_t *tt = json_object_get(v, "taskTimeSeconds");
    if (json_is_number(tt)) {
        char d[32];
        chr_duration((int64_t)(json_number_value(tt) * 1000.0), d, sizeof d);
        printf("task time   %s (%.3f s)\n", d, json_number_value(tt));
    }
}

static bool agents_table(const json_t *agents)
{
    static const char *const head[] = {"AGENT", "HOSTNAME", "CPUS OFFERED", "CPUS USED",
                                       "MEM OFFERED", "MEM USED", "DISK OFFERED", "DISK USED"};
    struct chr_table *t = chr_table_new(head, 8);
    bool ok = t != NULL;
    size_t i;
    json_t *a;
    json_array_foreach(agents, i, a) {
        char f[6][32];
        for (int k = 0; k < 3; k++) {
            fig(a, "offered", k, f[2 * k], sizeof f[0]);
            fig(a, "used", k, f[2 * k + 1], sizeof f[0]);
        }
        const char *cells[] = {str_or(json_object_get(a, "id"), "?"),
                               str_or(json_object_get(a, "hostname"), "?"),
                               f[0], f[1], f[2], f[3], f[4], f[5]};
        ok = ok && chr_table_add(t, cells);
    }
    if (ok)
        chr_table_print(t, stdout);
    chr_table_free(t);
    return ok;
}

static bool sums_table(const json_t *res)
{
    static const char *const head[] = {"RESOURCE", "OFFERED", "USED", "HELD", "TOTAL"};
    static const char *const unit[3] = {"cpus", "mem (MB)", "disk (MB)"};
    struct chr_table *t = chr_table_new(head, 5);
    bool ok = t != NULL;
    for (int k = 0; ok && k < 3; k++) {
        char f[4][32];
        fig(res, "offered", k, f[0], sizeof f[0]);
        fig(res, "used", k, f[1], sizeof f[1]);
        fig(res, "held", k, f[2], sizeof f[2]);
        fig(res, "total", k, f[3], sizeof f[3]); /* "-": unknown (Mesos) */
        const char *cells[] = {unit[k], f[0], f[1], f[2], f[3]};
        ok = chr_table_add(t, cells);
    }
    if (ok)
        chr_table_print(t, stdout);
    chr_table_free(t);
    return ok;
}

static int status_show(const struct chr_client *c, const json_t *v)
{
    (void)c; /* a chr_render_fn; this one needs no client */
    if (!json_is_object(v))
        return chr_client_fail(CHR_EXIT_SERVER, "the server's status is not an object");
    status_head(v);
    const json_t *res = json_object_get(v, "resources");
    if (!json_is_object(res))
        return CHR_EXIT_OK; /* a standby, or a server without figures */
    putchar('\n');
    bool ok = agents_table(json_object_get(res, "agents"));
    json_int_t unlisted = json_integer_value(json_object_get(res, "agentsUnlisted"));
    if (unlisted > 0)
        printf("(and %" JSON_INTEGER_FORMAT " more agents, in the sums only)\n", unlisted);
    putchar('\n');
    ok = ok && sums_table(res);
    return ok ? CHR_EXIT_OK : chr_client_fail(CHR_EXIT_SERVER, "cannot show the status");
}

int chr_cli_status(int argc, char **argv)
{
    const struct chr_cmd cmd = {"status", status_help, NULL, 0, 0, 0, NULL, true};
    struct chr_client c;
    int st = chr_client_args(&cmd, argc, argv, &c);
    if (st >= 0)
        return st;
    return chr_client_get_show(&c, "/v1/status", status_show);
}
