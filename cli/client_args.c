/*
 * client_args.c - the options of the REST client commands (client.h).  Every
 * option takes `--opt=value` and `--opt value`; --server, --help and (where
 * it means something) --json are accepted by every command, and so is
 * --user (credentials, which are never printed).  A mistake is
 * one line on stderr and exit 2; nothing is sent to the server before the
 * whole command line has been read.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include <termios.h>

#include "cli/client.h"
#include "cli/secret.h"

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

static int hexval(char c)
{
    return c >= '0' && c <= '9' ? c - '0'
           : c >= 'a' && c <= 'f' ? c - 'a' + 10
           : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                  : -1;
}

/* n bytes of percent-encoded text decoded into out (cap bytes); false when
 * it does not fit or decodes to a control byte. */
static bool decode_into(const char *s, size_t n, char *out, size_t cap)
{
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        int hi = 0, lo = 0;
        char ch = s[i];
        if (ch == '%' && i + 2 < n && (hi = hexval(s[i + 1])) >= 0 &&
            (lo = hexval(s[i + 2])) >= 0) {
            ch = (char)(hi * 16 + lo);
            i += 2;
        }
        if ((unsigned char)ch < 0x20 || k + 1 >= cap)
            return false;
        out[k++] = ch;
    }
    out[k] = '\0';
    return true;
}

/* --server URL (else $CHRONOS_URL, else the default) into c->url, without
 * a user:password@ it may hold: that goes to c->user and c->password when
 * no other credentials were given, and is never printed. */
static int set_url(struct chr_client *c, const char *url)
{
    if (url == NULL || url[0] == '\0')
        url = getenv("CHRONOS_URL");
    if (url == NULL || url[0] == '\0')
        url = CHR_CLIENT_DEFAULT_URL;
    /* host:port alone (as `serve` prints it) means http://host:port. */
    char bare[sizeof c->url + 8];
    if (strstr(url, "://") == NULL && strchr(url, '@') == NULL) {
        int k = snprintf(bare, sizeof bare, "http://%s", url);
        if (k < 0 || (size_t)k >= sizeof bare)
            return chr_client_usage(c, "server: the URL is longer than %zu bytes",
                                    sizeof c->url - 1);
        url = bare;
    }
    size_t n = strlen(url);
    while (n > 0 && url[n - 1] == '/')
        n--;
    size_t scheme = strncmp(url, "http://", 7) == 0 ? 7 : strncmp(url, "https://", 8) == 0 ? 8 : 0;
    if (scheme == 0 && strchr(url, '@') != NULL) /* it may hold a password: not shown */
        return chr_client_usage(c, "server: the URL is not an http:// or https:// URL");
    if (scheme == 0)
        return chr_client_usage(c, "server: '%s' is not an http:// or https:// URL", url);
    size_t auth_end = scheme + strcspn(url + scheme, "/?#");
    const char *at = memchr(url + scheme, '@', auth_end - scheme);
    size_t skip = at ? (size_t)(at + 1 - url) - scheme : 0; /* the userinfo and its '@' */
    if (n - skip >= sizeof c->url)
        return chr_client_usage(c, "server: the URL is longer than %zu bytes", sizeof c->url - 1);
    if (at != NULL && c->user[0] == '\0') {
        size_t ulen = strcspn(url + scheme, ":@");
        const char *pw = url + scheme + ulen;
        bool ok = decode_into(url + scheme, ulen, c->user, sizeof c->user) &&
                  (*pw != ':' || decode_into(pw + 1, (size_t)(at - pw - 1), c->password,
                                             sizeof c->password));
        if (!ok)
            return chr_client_usage(c, "server: the credentials in the URL are too long or "
                                       "malformed");
    }
    memcpy(c->url, url, scheme);
    memcpy(c->url + scheme, url + scheme + skip, n - scheme - skip);
    c->url[n - skip] = '\0';
    return -1;
}

/* Reads a password from the terminal without echo; false when there is no
 * terminal. */
static bool ask_password(const char *user, char *out, size_t cap)
{
    FILE *tty = fopen("/dev/tty", "r+");
    if (tty == NULL)
        return false;
    struct termios old, quiet;
    bool echo_off = tcgetattr(fileno(tty), &old) == 0;
    quiet = old;
    quiet.c_lflag &= ~(tcflag_t)ECHO;
    if (echo_off)
        tcsetattr(fileno(tty), TCSAFLUSH, &quiet);
    fprintf(tty, "Password for %s: ", user);
    fflush(tty);
    bool ok = fgets(out, (int)cap, tty) != NULL;
    if (echo_off)
        tcsetattr(fileno(tty), TCSAFLUSH, &old);
    fputc('\n', tty);
    fclose(tty);
    out[strcspn(out, "\r\n")] = '\0';
    return ok;
}

/* --user USER[:PASSWORD] (its password wiped from argv), else $CHRONOS_USER
 * and $CHRONOS_PASSWORD.  A user without a password takes
 * $CHRONOS_PASSWORD, else asks for one on the terminal. */
static int set_credentials(struct chr_client *c, char *opt)
{
    const char *env_user = getenv("CHRONOS_USER");
    const char *env_pass = getenv("CHRONOS_PASSWORD");
    const char *from = opt ? opt : env_user;
    if (from == NULL || from[0] == '\0')
        return -1;
    size_t ulen = opt ? strcspn(opt, ":") : strlen(from);
    if (ulen == 0 || ulen >= sizeof c->user)
        return chr_client_usage(c, "user: expected USER[:PASSWORD] (a user of at most %zu "
                                   "bytes)", sizeof c->user - 1);
    memcpy(c->user, from, ulen);
    c->user[ulen] = '\0';
    if (opt != NULL && opt[ulen] == ':') {
        snprintf(c->password, sizeof c->password, "%s", opt + ulen + 1);
        chr_secret_wipe(opt + ulen + 1);
    } else if (env_pass != NULL) {
        snprintf(c->password, sizeof c->password, "%s", env_pass);
    } else if (!ask_password(c->user, c->password, sizeof c->password)) {
        return chr_client_usage(c, "user %s: no password (give USER:PASSWORD, set "
                                   "CHRONOS_PASSWORD, or use ~/.netrc)", c->user);
    }
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
    const char *server = NULL, *user = NULL;
    memset(c, 0, sizeof *c);
    c->cmd = cmd->name;
    const struct chr_opt common[] = {
        {"--server", NULL, CHR_OPT_VALUE, &server},
        {"--user", NULL, CHR_OPT_VALUE, &user},
        {"--json", NULL, CHR_OPT_FLAG, &c->json},
    };
    size_t ncommon = cmd->json ? 3 : 2;
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
    /* user points into argv (a char ** of ours): its password is wiped there. */
    st = set_credentials(c, (char *)user);
    return st >= 0 ? st : set_url(c, server);
}
