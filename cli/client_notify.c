/*
 * client_notify.c - `chronos notify test`: asks the server to send a test
 * notification through every sink it has configured (POST /v1/notify/test)
 * and prints what each sink answered, one line per sink.  The server does
 * the sending (the leader: a standby forwards the request), so the test
 * goes through the very flags, secrets and network path the real
 * notifications take.
 */
#include <stdlib.h>
#include <string.h>

#include "cli/client.h"

static const char notify_help[] =
    "usage: chronos notify test [--job NAME] [--json] [--server URL]\n"
    "\n"
    "Sends a test notification through every sink the server has configured\n"
    "(mail, webhook, Slack, Mattermost, Sentry), all at once, each bounded by\n"
    "the server's --notify_timeout_ms (at most 8 s), and prints one line per\n"
    "sink: `SINK sent|failed|skipped ANSWER` (the HTTP status and the start of\n"
    "the body, the SMTP reply, or the error).  It does not go through the\n"
    "outbox: nothing is retried.  Without --job, mail has no recipient and is\n"
    "skipped.\n"
    "\n"
    "  --job NAME    about that job: mail goes to its owners, the payload names\n"
    "                it (the job must exist)\n"
    "  --json        print the server's answer\n"
    CHR_CLIENT_SERVER_HELP
    "\n"
    "exit status: 0 when every sink took it (or was skipped) and one did; 1 when\n"
    "a sink failed, none is configured, or the job does not exist.\n";

/* One line per sink; the exit status. */
static int notify_show(const struct chr_client *c, const json_t *v)
{
    (void)c;
    const json_t *sinks = json_object_get(v, "sinks");
    if (!json_is_object(v) || !json_is_array(sinks))
        return chr_client_fail(CHR_EXIT_SERVER, "the server's answer has no sinks");
    if (json_array_size(sinks) == 0) {
        const char *m = json_string_value(json_object_get(v, "message"));
        return chr_client_fail(CHR_EXIT_REFUSED, "%s",
                               m != NULL ? m : "no notification sink is configured");
    }
    size_t i;
    const json_t *s;
    json_array_foreach(sinks, i, s) {
        const char *name = json_string_value(json_object_get(s, "sink"));
        const char *result = json_string_value(json_object_get(s, "result"));
        const char *answer = json_string_value(json_object_get(s, "answer"));
        printf("%-11s %-8s %s\n", name ? name : "?", result ? result : "?", answer ? answer : "");
    }
    return json_is_true(json_object_get(v, "ok")) ? CHR_EXIT_OK : CHR_EXIT_REFUSED;
}

int chr_cli_notify(int argc, char **argv)
{
    const char *job = NULL;
    const struct chr_opt opts[] = {{"--job", NULL, CHR_OPT_VALUE, &job}};
    const struct chr_cmd cmd = {"notify", notify_help, opts, 1, 1, 1, "test", true};
    struct chr_client c;
    int st = chr_client_args(&cmd, argc, argv, &c);
    if (st >= 0)
        return st;
    if (strcmp(c.pos[0], "test") != 0)
        return chr_client_usage(&c, "unknown subcommand '%s' (notify has: test)", c.pos[0]);
    json_t *body = job != NULL ? json_pack("{s:s}", "job", job) : json_object();
    char *text = body != NULL ? json_dumps(body, JSON_COMPACT) : NULL;
    json_decref(body);
    if (text == NULL)
        return chr_client_fail(CHR_EXIT_BAD_VALUE, "out of memory");
    struct chr_resp r;
    st = chr_client_call(&c, "POST", "/v1/notify/test", text, &r);
    free(text); /* lint: allow (jansson's allocation) */
    if (st != CHR_EXIT_OK)
        return st;
    json_t *v = chr_resp_json(&r);
    if (v == NULL) {
        chr_resp_free(&r);
        return CHR_EXIT_SERVER;
    }
    if (c.json)
        chr_resp_print(&r);
    int status = c.json ? (json_is_true(json_object_get(v, "ok")) ? CHR_EXIT_OK : CHR_EXIT_REFUSED)
                        : notify_show(&c, v);
    json_decref(v);
    chr_resp_free(&r);
    return status;
}
