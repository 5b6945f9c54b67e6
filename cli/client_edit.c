/*
 * client_edit.c - `chronos edit NAME`: the job's JSON in $EDITOR (else
 * $VISUAL, else vi), POSTed back when it changed.  The server's counters and
 * progress fields are left out of the file (they are not the job's to edit),
 * and so is `uris`, which the server derives from `fetch`.
 * When the edit cannot be sent (not JSON, a new name, the server refuses it)
 * the file is kept and its path printed, so no work is lost.
 */
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cli/client.h"

static const char edit_help[] =
    "usage: chronos edit NAME [--server URL]\n"
    "\n"
    "Opens the job's JSON in $EDITOR (else $VISUAL, else vi); when the file\n"
    "changed, sends it back (create or replace) and prints `updated NAME`, else\n"
    "prints `unchanged NAME`.  If the edit cannot be sent, the file is kept and\n"
    "its path printed.\n"
    "\n" CHR_CLIENT_SERVER_HELP;

/* The job as the file to edit shows it: without what is not the job's to
 * edit (client.h), and with only `fetch` of the fetch/uris pair, since the
 * server fills each from the other and refuses the two when they disagree. */
static void editable(json_t *job)
{
    const char *key;
    json_t *v, *tmp;
    json_object_foreach_safe(job, tmp, key, v) {
        if (chr_job_is_computed(key))
            json_object_del(job, key);
    }
    if (json_object_get(job, "fetch") != NULL)
        json_object_del(job, "uris");
}

/* Writes `job` to a new temporary file; its path into path[]. */
static int write_temp(const json_t *job, char *path, size_t cap)
{
    const char *dir = getenv("TMPDIR");
    snprintf(path, cap, "%s/chronos-edit-XXXXXX.json", dir && dir[0] ? dir : "/tmp");
    int fd = mkstemps(path, 5);
    if (fd < 0)
        return chr_client_fail(CHR_EXIT_BAD_VALUE, "edit: cannot create %s", path);
    FILE *f = fdopen(fd, "w");
    bool ok = f != NULL && json_dumpf(job, f, JSON_INDENT(2)) == 0 && fputc('\n', f) != EOF;
    if (f != NULL)
        ok = fclose(f) == 0 && ok;
    else
        close(fd);
    if (!ok) {
        unlink(path);
        return chr_client_fail(CHR_EXIT_BAD_VALUE, "edit: cannot write %s", path);
    }
    return CHR_EXIT_OK;
}

/* Runs the editor on `path` through /bin/sh (so EDITOR may carry options). */
static int run_editor(const char *path)
{
    const char *ed = getenv("EDITOR");
    if (ed == NULL || ed[0] == '\0')
        ed = getenv("VISUAL");
    if (ed == NULL || ed[0] == '\0')
        ed = "vi";
    char script[4096];
    if (snprintf(script, sizeof script, "%s \"$1\"", ed) >= (int)sizeof script)
        return chr_client_fail(CHR_EXIT_BAD_VALUE, "edit: $EDITOR is too long");
    fflush(stdout);
    pid_t pid = fork();
    if (pid < 0)
        return chr_client_fail(CHR_EXIT_BAD_VALUE, "edit: cannot start the editor");
    if (pid == 0) {
        execl("/bin/sh", "sh", "-c", script, "sh", path, (char *)NULL);
        _exit(127);
    }
    int status = 0;
    while (waitpid(pid, &status, 0) < 0)
        ;
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
        return chr_client_fail(CHR_EXIT_BAD_VALUE, "edit: the editor '%s' failed; nothing sent",
                               ed);
    return CHR_EXIT_OK;
}

/* Reads the edited file back and sends it if it changed. */
static int send_back(const struct chr_client *c, const char *name, const json_t *before,
                     const char *path)
{
    json_error_t jerr;
    json_t *after = json_load_file(path, JSON_REJECT_DUPLICATES, &jerr);
    if (after == NULL)
        return chr_client_fail(CHR_EXIT_BAD_VALUE, "edit: %s:%d: %s; nothing sent", path,
                               jerr.line, jerr.text);
    int st = CHR_EXIT_OK;
    const char *now_name = json_string_value(json_object_get(after, "name"));
    if (!json_is_object(after))
        st = chr_client_fail(CHR_EXIT_BAD_VALUE, "edit: %s: not a JSON object; nothing sent",
                             path);
    else if (json_equal(after, (json_t *)before))
        printf("unchanged %s\n", name);
    else if (now_name == NULL || strcmp(now_name, name) != 0)
        st = chr_client_fail(CHR_EXIT_BAD_VALUE, "edit: the name must stay '%s' (use `chronos "
                             "create` or `apply` for a new job); nothing sent", name);
    else
        st = chr_client_put_job(c, after);
    json_decref(after);
    return st;
}

int chr_cli_edit(int argc, char **argv)
{
    static const struct chr_cmd cmd = {"edit", edit_help, NULL, 0, 1, 1, "NAME", false};
    struct chr_client c;
    json_t *job = NULL;
    int st = chr_client_args(&cmd, argc, argv, &c);
    if (st >= 0)
        return st;
    if ((st = chr_client_get_job(&c, c.pos[0], false, &job)) != CHR_EXIT_OK)
        return st;
    editable(job);
    char path[4096] = "";
    st = write_temp(job, path, sizeof path);
    if (st == CHR_EXIT_OK && (st = run_editor(path)) == CHR_EXIT_OK)
        st = send_back(&c, c.pos[0], job, path);
    if (st == CHR_EXIT_OK)
        unlink(path);
    else if (path[0] != '\0' && access(path, F_OK) == 0)
        fprintf(stderr, "chronos: your edit is kept in %s\n", path);
    json_decref(job);
    return st;
}
