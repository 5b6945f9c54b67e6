/*
 * client_act.c - the client commands that act on one job by name and answer
 * with one line (`delete`, `run`, `kill`), and `graph`, which prints the
 * server's dependency graph as it comes.
 */
#include <string.h>

#include "cli/client.h"

#define SERVER_OPT \
    "  --server URL  the server (default $CHRONOS_URL, else http://127.0.0.1:4400)\n"

static const char delete_help[] =
    "usage: chronos delete NAME [--server URL]\n"
    "\n"
    "Deletes a job (DELETE /v1/scheduler/job/NAME) and prints `deleted NAME`.\n"
    "The server refuses to delete a job that others depend on, naming them.\n"
    "\n" SERVER_OPT;

static const char run_help[] =
    "usage: chronos run NAME [--args \"...\"] [--server URL]\n"
    "\n"
    "Runs a job now, once, besides its schedule (PUT /v1/scheduler/job/NAME),\n"
    "and prints `started NAME`.  `chronos logs NAME` shows its output.\n"
    "\n"
    "  --args TEXT   appended to the job's command for this run (?arguments=)\n" SERVER_OPT;

static const char kill_help[] =
    "usage: chronos kill NAME [--server URL]\n"
    "\n"
    "Kills the job's active runs (DELETE /v1/scheduler/task/kill/NAME) and prints\n"
    "`killed NAME`.\n"
    "\n" SERVER_OPT;

static const char graph_help[] =
    "usage: chronos graph [--csv] [--server URL]\n"
    "\n"
    "Prints the jobs' dependency graph: Graphviz dot by default\n"
    "(`chronos graph | dot -Tsvg > jobs.svg`).\n"
    "\n"
    "  --csv         one line per job `node,NAME,LAST-STATE,CURRENT-STATE`, then one\n"
    "                per edge `link,PARENT,CHILD`\n" SERVER_OPT;

/* METHOD prefix/NAME[?arguments=ARGS], then "<done> NAME" on stdout. */
static int act(const struct chr_client *c, const char *method, const char *prefix,
               const char *name, const char *args, const char *done)
{
    struct chr_path p;
    struct chr_resp r;
    int st = chr_job_path(c, &p, prefix, name, "");
    if (args != NULL) {
        chr_path_add(&p, "?arguments=");
        chr_path_add_escaped(&p, args);
        st = chr_path_check(c, &p);
    }
    if (st != CHR_EXIT_OK || (st = chr_client_call(c, method, p.buf, NULL, &r)) != CHR_EXIT_OK)
        return st;
    chr_resp_free(&r);
    printf("%s %s\n", done, name);
    return CHR_EXIT_OK;
}

int chr_cli_delete(int argc, char **argv)
{
    static const struct chr_cmd cmd = {"delete", delete_help, NULL, 0, 1, 1, "NAME", false};
    struct chr_client c;
    const char *pos[CHR_CLIENT_POS_MAX];
    size_t npos;
    int st = chr_client_args(&cmd, argc, argv, &c, pos, &npos);
    if (st >= 0)
        return st;
    return act(&c, "DELETE", "/v1/scheduler/job/", pos[0], NULL, "deleted");
}

int chr_cli_run(int argc, char **argv)
{
    const char *args = NULL;
    const struct chr_opt opts[] = {{"--args", NULL, CHR_OPT_VALUE, &args}};
    const struct chr_cmd cmd = {"run", run_help, opts, 1, 1, 1, "NAME", false};
    struct chr_client c;
    const char *pos[CHR_CLIENT_POS_MAX];
    size_t npos;
    int st = chr_client_args(&cmd, argc, argv, &c, pos, &npos);
    if (st >= 0)
        return st;
    return act(&c, "PUT", "/v1/scheduler/job/", pos[0], args, "started");
}

int chr_cli_kill(int argc, char **argv)
{
    static const struct chr_cmd cmd = {"kill", kill_help, NULL, 0, 1, 1, "NAME", false};
    struct chr_client c;
    const char *pos[CHR_CLIENT_POS_MAX];
    size_t npos;
    int st = chr_client_args(&cmd, argc, argv, &c, pos, &npos);
    if (st >= 0)
        return st;
    return act(&c, "DELETE", "/v1/scheduler/task/kill/", pos[0], NULL, "killed");
}

int chr_cli_graph(int argc, char **argv)
{
    bool csv = false;
    const struct chr_opt opts[] = {{"--csv", NULL, CHR_OPT_FLAG, &csv}};
    const struct chr_cmd cmd = {"graph", graph_help, opts, 1, 0, 0, NULL, false};
    struct chr_client c;
    struct chr_resp r;
    const char *pos[CHR_CLIENT_POS_MAX];
    size_t npos;
    int st = chr_client_args(&cmd, argc, argv, &c, pos, &npos);
    if (st >= 0)
        return st;
    st = chr_client_call(&c, "GET", csv ? "/v1/scheduler/graph/csv" : "/v1/scheduler/graph/dot",
                         NULL, &r);
    if (st != CHR_EXIT_OK)
        return st;
    fwrite(r.body, 1, r.len, stdout);
    chr_resp_free(&r);
    return CHR_EXIT_OK;
}
