/*
 * main.c - the `chronos` binary: dispatches to a subcommand.  `chronos next`
 * is the time engine on the command line, `serve` the scheduler and its API,
 * and the REST client commands (cli/client*.c) talk to a running server.
 */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"


struct command {
    const char *name;
    int (*run)(int argc, char **argv);
};

static const struct command commands[] = {
    {"serve", chr_cli_serve},   {"next", chr_cli_next},     {"create", chr_cli_create},
    {"list", chr_cli_list},     {"show", chr_cli_show},     {"edit", chr_cli_edit},
    {"apply", chr_cli_apply},   {"run", chr_cli_run},       {"kill", chr_cli_kill},
    {"delete", chr_cli_delete}, {"runs", chr_cli_runs},     {"logs", chr_cli_logs},
    {"graph", chr_cli_graph},   {"run-task", chr_cli_run_task}, {"store", chr_cli_store},
    {"status", chr_cli_status}, {"suspend", chr_cli_suspend}, {"resume", chr_cli_resume},
    {"ledger", chr_cli_ledger}, {"notify", chr_cli_notify},
};

/* The commands that take job names (completed from `chronos list`). */
static const char job_commands[] = "show|edit|run|kill|delete|suspend|resume|logs|runs|ledger";

/* `chronos completion bash|zsh`: a completion script made from the command
 * table and, for options, each command's own --help at completion time, so
 * that it cannot disagree with the binary. */
static int completion(const char *shell)
{
    if (shell == NULL || (strcmp(shell, "bash") != 0 && strcmp(shell, "zsh") != 0)) {
        fputs("usage: chronos completion bash|zsh\n"
              "  bash: chronos completion bash > /etc/bash_completion.d/chronos\n"
              "  zsh:  chronos completion zsh > \"${fpath[1]}/_chronos\"\n",
              shell == NULL ? stdout : stderr);
        return shell == NULL ? CHR_EXIT_OK : CHR_EXIT_USAGE;
    }
    if (strcmp(shell, "zsh") == 0)
        fputs("#compdef chronos\nautoload -U +X bashcompinit && bashcompinit\n", stdout);
    fputs("_chronos() {\n"
          "  local cur=${COMP_WORDS[COMP_CWORD]} cmd=${COMP_WORDS[1]}\n"
          "  if [ \"$COMP_CWORD\" -eq 1 ]; then\n"
          "    COMPREPLY=($(compgen -W \"",
          stdout);
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        if (strcmp(commands[i].name, "run-task") != 0)
            printf("%s ", commands[i].name);
    printf("help version completion\" -- \"$cur\"))\n"
           "    return\n"
           "  fi\n"
           "  case \"$cur\" in\n"
           "  -*) COMPREPLY=($(compgen -W \"$(chronos \"$cmd\" --help 2>/dev/null |"
           " grep -o -- '--[a-z_-]*' | sort -u)\" -- \"$cur\")) ;;\n"
           "  *) case \"$cmd\" in\n"
           "     %s) COMPREPLY=($(compgen -W \"$(chronos list 2>/dev/null |"
           " awk 'NR > 1 {print $1}')\" -- \"$cur\")) ;;\n"
           "     completion) COMPREPLY=($(compgen -W \"bash zsh\" -- \"$cur\")) ;;\n"
           "     notify) COMPREPLY=($(compgen -W \"test\" -- \"$cur\")) ;;\n"
           "     *) COMPREPLY=($(compgen -f -- \"$cur\")) ;;\n"
           "     esac ;;\n"
           "  esac\n"
           "}\n"
           "complete -F _chronos chronos\n",
           job_commands);
    return CHR_EXIT_OK;
}

static void usage(FILE *out)
{
    fputs("usage: chronos <command> [options]\n"
          "\n"
          "commands:\n"
          "  serve    run the scheduler and its REST API (127.0.0.1:4400)\n"
          "  next     print the next instants of a schedule (ISO 8601 or cron),\n"
          "           or of a stored job (--job NAME)\n"
          "  create   create a job from options (run once now by default; --replace)\n"
          "  list     the jobs: schedule, status, state, next and last run\n"
          "  show     one job, as key: value lines\n"
          "  edit     edit a job's JSON in $EDITOR\n"
          "  apply    create or update jobs from Chronos job files (-f FILE|DIR)\n"
          "  run      run a job now\n"
          "  kill     kill a job's active runs\n"
          "  delete   delete jobs (children before their parents)\n"
          "  suspend  stop a job's runs, keeping it (its \"disabled\" flag)\n"
          "  resume   let a suspended job run again\n"
          "  runs     the runs of all jobs or one, newest first\n"
          "  logs     a run's output (a job's name: its latest run; -f to follow)\n"
          "  ledger   the instants of a job that did not run, and why\n"
          "  notify   `notify test [--job NAME]`: a test notification through every\n"
          "           sink the server has, and what each answered\n"
          "  graph    the dependency graph (Graphviz dot, or --csv)\n"
          "  status   the leader, its health, and the cluster's figures: what the\n"
          "           agents offered, what chronos uses and holds, the task time\n"
          "  store    check or recover the local store (check|recover|compact --data_dir DIR)\n"
          "  completion  a shell completion script (bash|zsh)\n"
          "  help     show this help, or `chronos help <command>`\n"
          "  version  print the version\n"
          "\n"
          "The client commands talk to the server at --server URL, else $CHRONOS_URL,\n"
          "else http://127.0.0.1:4400; they print tables for people and the server's\n"
          "JSON with --json.  Run `chronos <command> --help` for a command's options.\n"
          "\n"
          "exit status:\n"
          "  0  success\n"
          "  1  the server refused the request (4xx; its message on stderr), a lookup\n"
          "     found nothing (a job without runs), or a bad value or input file\n"
          "  2  a usage error: unknown option, missing argument, malformed value\n"
          "  3  the server could not be reached (`chronos: cannot reach the server at URL`)\n"
          "  4  the server failed (5xx) or answered something unreadable\n",
          out);
}

static const struct command *find(const char *name)
{
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        if (strcmp(commands[i].name, name) == 0)
            return &commands[i];
    return NULL;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return CHR_EXIT_USAGE;
    }
    const char *cmd = argv[1];
    const struct command *c = find(cmd);
    if (c != NULL && c->run == chr_cli_serve && chr_cli_serve_here)
        chr_cli_huge_heap(argv);
    if (c != NULL)
        return c->run(argc - 1, argv + 1);
    if (strcmp(cmd, "help") == 0 || strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0) {
        if (argc >= 3 && (c = find(argv[2])) != NULL && strcmp(argv[2], "run-task") != 0) {
            char *help_argv[] = {argv[2], "--help", NULL};
            return c->run(2, help_argv);
        }
        if (argc >= 3) {
            fprintf(stderr, "chronos: unknown command '%s' (try `chronos help`)\n", argv[2]);
            return CHR_EXIT_USAGE;
        }
        usage(stdout);
        return CHR_EXIT_OK;
    }
    if (strcmp(cmd, "completion") == 0)
        return completion(argc > 2 ? argv[2] : NULL);
    if (strcmp(cmd, "version") == 0 || strcmp(cmd, "--version") == 0) {
        printf("chronos %s\n", CHR_VERSION);
        return CHR_EXIT_OK;
    }
    fprintf(stderr, "chronos: unknown command '%s' (try `chronos help`)\n", cmd);
    return CHR_EXIT_USAGE;
}
