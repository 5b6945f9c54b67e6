/*
 * client_args.c - the options of the REST client commands (client.h).  Every
 * option takes `--opt=value` and `--opt value`; --server, --help and (where
 * it means something) --json are accepted by every command.  A mistake is
 * one line on stderr and exit 2; nothing is sent to the server before the
 * whole command line has been read.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "cli/client.h"

int chr_client_usage(const struct chr_client *c, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "chronos %s: ", c->cmd);
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, " (see `chronos %s --help`)\n", c->cmd);
    va_end(ap);
    return CHR_EXIT_USAGE;
}

int chr_client_fail(int status, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("chronos: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    return status;
}

bool chr_client_parse_long(const char *s, long lo, long hi, long *out)
{
    char *end = NULL;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno != 0 || end == s || *end != '\0' || s[0] == ' ' || s[0] == '+' || v < lo || v > hi)
        return false;
    *out = v;
    return true;
}

/* --server URL (else $CHRONOS_URL, else the default) into c->url. */
static int set_url(struct chr_client *c, const char *url)
{
    if (url == NULL || url[0] == '\0')
        url = getenv("CHRONOS_URL");
    if (url == NULL || url[0] == '\0')
        url = CHR_CLIENT_DEFAULT_URL;
    size_t n = strlen(url);
    while (n > 0 && url[n - 1] == '/')
        n--;
    if (strncmp(url, "http://", 7) != 0 && strncmp(url, "https://", 8) != 0)
        return chr_client_usage(c, "server: '%s' is not an http:// or https:// URL", url);
    if (n >= sizeof c->url)
        return chr_client_usage(c, "server: the URL is longer than %zu bytes", sizeof c->url - 1);
    memcpy(c->url, url, n);
    c->url[n] = '\0';
    return -1;
}

/* Does `a` name option `o`?  *value is set to the text after '=' if any. */
static bool matches(const struct chr_opt *o, const char *a, const char **value)
{
    size_t n = strlen(o->name);
    *value = NULL;
    if (o->alias != NULL && strcmp(a, o->alias) == 0)
        return true;
    if (strncmp(a, o->name, n) != 0 || (a[n] != '\0' && a[n] != '='))
        return false;
    if (a[n] == '=')
        *value = a + n + 1;
    return true;
}

static bool words_add(struct chr_words *w, const char *word)
{
    if (w->n >= CHR_CLIENT_WORDS_MAX)
        return false;
    w->v[w->n++] = word;
    return true;
}

/* Stores option `o` whose argument is argv[*i]; may consume the next one.
 * Returns -1 to go on, else a usage error.  *words is set for WORDS. */
static int take(struct chr_client *c, const struct chr_opt *o, int argc, char **argv, int *i,
                struct chr_words **words)
{
    const char *value = NULL;
    matches(o, argv[*i], &value);
    if (o->kind == CHR_OPT_FLAG) {
        if (value != NULL)
            return chr_client_usage(c, "option %s takes no value", o->name);
        *(bool *)o->dst = true;
        return -1;
    }
    if (value == NULL) {
        if (*i + 1 >= argc)
            return chr_client_usage(c, "option %s needs a value", o->name);
        value = argv[++*i];
    }
    if (o->kind == CHR_OPT_VALUE) {
        *(const char **)o->dst = value;
        return -1;
    }
    if (o->kind == CHR_OPT_WORDS && value[0] == '\0')
        return chr_client_usage(c, "option %s needs a value", o->name);
    struct chr_words *w = o->dst;
    if (o->kind == CHR_OPT_WORDS)
        w->n = 0;
    if (!words_add(w, value))
        return chr_client_usage(c, "option %s: more than %d values", o->name,
                                CHR_CLIENT_WORDS_MAX);
    *words = o->kind == CHR_OPT_WORDS ? w : NULL;
    return -1;
}

/* The option argv[*i] names, among the command's and the common ones. */
static const struct chr_opt *find_opt(const struct chr_cmd *cmd, const struct chr_opt *common,
                                      size_t ncommon, const char *a)
{
    const char *v;
    for (size_t k = 0; k < cmd->nopts; k++)
        if (matches(&cmd->opts[k], a, &v))
            return &cmd->opts[k];
    for (size_t k = 0; k < ncommon; k++)
        if (matches(&common[k], a, &v))
            return &common[k];
    return NULL;
}

static int positional(struct chr_client *c, const struct chr_cmd *cmd, const char *a)
{
    if (c->npos >= cmd->pos_max)
        return chr_client_usage(c, "unexpected argument '%s'", a);
    c->pos[c->npos++] = a;
    return -1;
}

int chr_client_args(const struct chr_cmd *cmd, int argc, char **argv, struct chr_client *c)
{
    const char *server = NULL;
    memset(c, 0, sizeof *c);
    c->cmd = cmd->name;
    const struct chr_opt common[] = {
        {"--server", NULL, CHR_OPT_VALUE, &server},
        {"--json", NULL, CHR_OPT_FLAG, &c->json},
    };
    size_t ncommon = cmd->json ? 2 : 1;
    struct chr_words *words = NULL; /* an open --command=... word list */
    int st = -1;
    for (int i = 1; i < argc && st < 0; i++) {
        const char *a = argv[i];
        if (words != NULL && strncmp(a, "--", 2) != 0) {
            if (!words_add(words, a))
                st = chr_client_usage(c, "more than %d words", CHR_CLIENT_WORDS_MAX);
            continue;
        }
        words = NULL;
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            fputs(cmd->help, stdout);
            return CHR_EXIT_OK;
        }
        if (strcmp(a, "--") == 0) {
            for (i++; i < argc && st < 0; i++)
                st = positional(c, cmd, argv[i]);
            break;
        }
        const struct chr_opt *o = find_opt(cmd, common, ncommon, a);
        if (o != NULL)
            st = take(c, o, argc, argv, &i, &words);
        else if (a[0] == '-' && a[1] != '\0')
            st = chr_client_usage(c, "unknown option '%s'", a);
        else
            st = positional(c, cmd, a);
    }
    if (st >= 0)
        return st;
    if (c->npos < cmd->pos_min)
        return chr_client_usage(c, "missing %s", cmd->what ? cmd->what : "argument");
    return set_url(c, server);
}
