/*
 * client_act.c - the client commands that act on jobs by name and answer
 * with one line each (`delete`, `run`, `kill`, `suspend`, `resume`), and
 * `graph`, which prints the server's dependency graph as it comes.
 */
#include <string.h>

#include "common/alloc.h"

#include "cli/client.h"

static const char delete_help[] =
    "usage: chronos delete NAME... [--force] [--server URL]\n"
    "\n"
    "Deletes each job in turn (DELETE /v1/scheduler/job/NAME) and prints\n"
    "`deleted NAME`; the first refusal stops it.  The server refuses to delete a\n"
    "job that others depend on, naming them: delete the children first (list\n"
    "them first: `chronos delete child parent`), or use --force.\n"
    "\n"
    "  --force       delete a job others depend on, as Chronos did, in one atomic\n"
    "                change: each child loses it from its parents and takes its\n"
    "                parents in its place; a child left with no parent takes its\n"
    "                schedule and zone (a scheduled job from now on).  Every other\n"
    "                field of the child is kept (?force=true)\n"
    CHR_CLIENT_SERVER_HELP;

static const char suspend_help[] =
    "usage: chronos suspend NAME... [--server URL]\n"
    "\n"
    "Sets each job's \"disabled\" flag: it stays stored, its schedule and\n"
    "dependents keep their place, and it does not run until `chronos resume`.\n"
    "Runs already started go on (`chronos kill` stops them).  Prints\n"
    "`suspended NAME` (or `unchanged NAME` when it was suspended already).\n"
    "\n" CHR_CLIENT_SERVER_HELP;

static const char resume_help[] =
    "usage: chronos resume NAME... [--server URL]\n"
    "\n"
    "Clears each job's \"disabled\" flag: it runs again from its next instant\n"
    "(instants missed while suspended are not made up).  Prints `resumed NAME`\n"
    "(or `unchanged NAME`).\n"
    "\n" CHR_CLIENT_SERVER_HELP;

static const char run_help[] =
    "usage: chronos run NAME [--args WORD...] [--server URL]\n"
    "\n"
    "Runs a job now, once, besides its schedule (PUT /v1/scheduler/job/NAME),\n"
    "and prints `started NAME`.  `chronos logs NAME` shows its output.\n"
    "\n"
    "  --args WORD...  this run's arguments, in place of the job's: each word is\n"
    "                one argument (?arguments=W1&arguments=W2), never shell text;\n"
    "                a shell job gets each one quoted after its command\n"
    CHR_CLIENT_SERVER_HELP;

static const char kill_help[] =
    "usage: chronos kill NAME [--server URL]\n"
    "\n"
    "Kills the job's active runs (DELETE /v1/scheduler/task/kill/NAME) and prints\n"
    "`killed NAME`.\n"
    "\n" CHR_CLIENT_SERVER_HELP;

static const char graph_help[] =
    "usage: chronos graph [--csv] [--server URL]\n"
    "\n"
    "Prints the jobs' dependency graph: Graphviz dot by default\n"
    "(`chronos graph | dot -Tsvg > jobs.svg`).\n"
    "\n"
    "  --csv         one line per job `node,NAME,LAST-STATE,CURRENT-STATE`, then one\n"
    "                per edge `link,PARENT,CHILD`\n" CHR_CLIENT_SERVER_HELP;

/* What a one-job command does: METHOD prefix/NAME (with ?force=true when
 * `force` points to true), then "<done> NAME". */
struct action {
    const char *method, *prefix, *done;
    const bool *force;
};

/* Parses the command line, then does `a` to each job it names, in order;
 * the first failure stops it.  `args` (NULL, or where `run` keeps --args)
 * is read once the options are parsed. */
static int act(const struct chr_cmd *cmd, const struct action *a, const struct chr_words *args,
               int argc, char **argv)
{
    struct chr_client c;
    int st = chr_client_args(cmd, argc, argv, &c);
    if (st >= 0)
        return st;
    for (size_t k = 0; k < c.npos; k++) {
        struct chr_path p;
        struct chr_resp r;
        st = chr_job_path(&c, &p, a->prefix, c.pos[k], "");
        for (size_t i = 0; args != NULL && i < args->n; i++)
            chr_path_add_query(&p, "arguments", args->v[i]);
        chr_path_add_query(&p, "force", a->force != NULL && *a->force ? "true" : NULL);
        if (st != CHR_EXIT_OK || (st = chr_path_check(&c, &p)) != CHR_EXIT_OK ||
            (st = chr_client_call(&c, a->method, p.buf, NULL, &r)) != CHR_EXIT_OK)
            return st;
        chr_resp_free(&r);
        printf("%s %s\n", a->done, c.pos[k]);
        fflush(stdout);
    }
    return CHR_EXIT_OK;
}

/* suspend/resume: the job as stored with "disabled" set to `off`, posted
 * back (nothing else changes; the server keeps its schedule's progress). */
static int set_disabled(int argc, char **argv, const struct chr_cmd *cmd, bool off)
{
    struct chr_client c;
    int st = chr_client_args(cmd, argc, argv, &c);
    if (st >= 0)
        return st;
    for (size_t k = 0; k < c.npos && st < 0; k++) {
        json_t *job = NULL;
        if ((st = chr_client_get_job(&c, c.pos[k], false, &job)) != CHR_EXIT_OK)
            return st;
        bool was = json_is_true(json_object_get(job, "disabled"));
        st = -1;
        if (was == off) {
            printf("unchanged %s\n", c.pos[k]);
        } else if (json_object_set_new(job, "disabled", json_boolean(off)) != 0) {
            st = chr_client_fail(CHR_EXIT_BAD_VALUE, "out of memory");
        } else if ((st = chr_client_post_job(&c, job)) == CHR_EXIT_OK) {
            printf("%s %s\n", off ? "suspended" : "resumed", c.pos[k]);
            st = -1;
        }
        fflush(stdout);
        json_decref(job);
    }
    return st < 0 ? CHR_EXIT_OK : st;
}

int chr_cli_suspend(int argc, char **argv)
{
    static const struct chr_cmd cmd = {"suspend", suspend_help, NULL, 0, 1, CHR_CLIENT_POS_MAX,
                                       "NAME", false};
    return set_disabled(argc, argv, &cmd, true);
}

int chr_cli_resume(int argc, char **argv)
{
    static const struct chr_cmd cmd = {"resume", resume_help, NULL, 0, 1, CHR_CLIENT_POS_MAX,
                                       "NAME", false};
    return set_disabled(argc, argv, &cmd, false);
}

int chr_cli_delete(int argc, char **argv)
{
    bool force = false;
    const struct chr_opt opts[] = {{"--force", NULL, CHR_OPT_FLAG, &force}};
    const struct chr_cmd cmd = {"delete", delete_help, opts, 1, 1, CHR_CLIENT_POS_MAX, "NAME",
                                false};
    const struct action a = {"DELETE", "/v1/scheduler/job/", "deleted", &force};
    return act(&cmd, &a, NULL, argc, argv);
}

int chr_cli_run(int argc, char **argv)
{
    struct chr_words args;
    args.n = 0;
    const struct chr_opt opts[] = {{"--args", NULL, CHR_OPT_WORDS, &args}};
    const struct chr_cmd cmd = {"run", run_help, opts, 1, 1, 1, "NAME", false};
    static const struct action a = {"PUT", "/v1/scheduler/job/", "started", NULL};
    return act(&cmd, &a, &args, argc, argv);
}

int chr_cli_kill(int argc, char **argv)
{
    static const struct chr_cmd cmd = {"kill", kill_help, NULL, 0, 1, 1, "NAME", false};
    static const struct action a = {"DELETE", "/v1/scheduler/task/kill/", "killed", NULL};
    return act(&cmd, &a, NULL, argc, argv);
}

int chr_cli_graph(int argc, char **argv)
{
    bool csv = false;
    const struct chr_opt opts[] = {{"--csv", NULL, CHR_OPT_FLAG, &csv}};
    const struct chr_cmd cmd = {"graph", graph_help, opts, 1, 0, 0, NULL, false};
    struct chr_client c;
    struct chr_resp r;
    int st = chr_client_args(&cmd, argc, argv, &c);
    if (st >= 0)
        return st;
    st = chr_client_call(&c, "GET", csv ? "/v1/scheduler/graph/csv" : "/v1/scheduler/graph/dot",
                         NULL, &r);
    if (st != CHR_EXIT_OK)
        return st;
    /* dot and CSV are the server's text, shown to the byte (no newline added). */
    fwrite(r.body, 1, r.len, stdout);
    chr_resp_free(&r);
    return CHR_EXIT_OK;
}
