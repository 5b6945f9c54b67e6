/*
 * client.h - the REST client half of the `chronos` binary, private to cli/:
 * the commands that talk to a running server (create, list, show, edit,
 * apply, run, kill, delete, runs, logs, graph, next --job) share what is
 * declared here.
 *
 *   client_args.c   options: --opt=value and --opt value, --server, --json,
 *                   --help, usage errors (exit 2)
 *   client_http.c   one bounded request, or a stream to stdout; the exit
 *                   status of a failure (1 refused, 3 unreachable, 4 5xx)
 *   client_wire.c   HTTP/1.1 on a socket of its own, for http:// URLs
 *   client_curl.c   libcurl, loaded only for https:// URLs and proxies
 *   client_table.c  aligned tables, relative times, durations
 *   client_*.c      the commands themselves
 *
 * Nothing here keeps global state: a command parses its options into a
 * struct chr_client on its stack and passes it to every request.  The client
 * never parses a job into struct chr_job: it sends and shows the server's
 * JSON, so the server stays the one judge of what a job may be.
 */
#ifndef CHR_CLIENT_H
#define CHR_CLIENT_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "cli/cli.h"
#include "common/sb.h"

/* ---- Limits ------------------------------------------------------------ */

/* The server's URL (--server or CHRONOS_URL): a scheme, a host, a port. */
#define CHR_CLIENT_URL_MAX 1024
/* A request path with its query: an escaped job name (<= 600 bytes) or a
 * run's arguments (`run --args`, up to a command's length escaped). */
#define CHR_CLIENT_PATH_MAX (64 * 1024)
/* Largest answer read into memory (everything but `logs`, which streams): a
 * million jobs' summary is ~100 MiB, so past this a client should page. */
#define CHR_CLIENT_BODY_MAX (64 * 1024 * 1024)
/* Words of one repeatable option (--env, command arguments, -f files):
 * the job's own bounds (CHR_JOB_ENV_MAX, CHR_JOB_ARGUMENTS_MAX). */
#define CHR_CLIENT_WORDS_MAX 256
/* Positional arguments any command takes (`delete a b c` takes several). */
#define CHR_CLIENT_POS_MAX 64
/* Timeouts: connecting, and a whole exchange (not for `logs -f`). */
#define CHR_CLIENT_CONNECT_TIMEOUT_MS 5000
#define CHR_CLIENT_TIMEOUT_MS 30000
/* How long `logs` (without -f) waits for a run to start: a run just created
 * starts within a second or two; a pending retry may take longer, and
 * `logs -f` waits for it without end. */
#define CHR_CLIENT_LOGS_WAIT_MS 30000

#define CHR_CLIENT_DEFAULT_URL "http://127.0.0.1:4400"
#define CHR_CLIENT_USER_AGENT "chronos-cli/0.1"

/* ---- Options (client_args.c) ------------------------------------------- */

enum chr_opt_kind {
    CHR_OPT_FLAG,  /* dst: bool * */
    CHR_OPT_VALUE, /* dst: const char ** (the last one given wins) */
    CHR_OPT_LIST,  /* dst: struct chr_words *, one word per occurrence */
    CHR_OPT_WORDS, /* dst: struct chr_words *: the value, then every following
                      argument up to the next one starting with "--" */
};

/* Words borrowed from argv. */
struct chr_words {
    const char *v[CHR_CLIENT_WORDS_MAX];
    size_t n;
};

struct chr_opt {
    const char *name;  /* "--state" */
    const char *alias; /* "-f", or NULL */
    enum chr_opt_kind kind;
    void *dst;
};

/* A command: its name, its --help text, its options and positionals. */
struct chr_cmd {
    const char *name;
    const char *help;
    const struct chr_opt *opts;
    size_t nopts;
    size_t pos_min, pos_max; /* pos_max <= CHR_CLIENT_POS_MAX */
    const char *what;        /* the positionals, for "missing NAME" */
    bool json;               /* accepts --json */
};

/* The --server and --user lines every command's help ends with. */
#define CHR_CLIENT_SERVER_HELP \
    "  --server URL  the server, http(s)://host:port or host:port (default\n" \
    "                $CHRONOS_URL, else http://127.0.0.1:4400); for https://, the\n" \
    "                system's CAs, or $CHRONOS_CACERT (a PEM file) when set\n" \
    "  --user USER[:PASSWORD]  HTTP Basic credentials (default $CHRONOS_USER and\n" \
    "                $CHRONOS_PASSWORD, else ~/.netrc); without a password, it is\n" \
    "                $CHRONOS_PASSWORD, else asked for on the terminal\n"

/* A user name or a password the client sends. */
#define CHR_CLIENT_CRED_MAX 512

/* What every command knows about its command line, the server and its
 * output.  The positionals live here too, so that a command is one struct
 * on its stack rather than three variables it must keep in step. */
struct chr_client {
    char url[CHR_CLIENT_URL_MAX]; /* base URL, no trailing '/', never credentials */
    /* Basic credentials (--user, CHRONOS_USER/CHRONOS_PASSWORD, or taken out
     * of the URL); user "" = none given: ~/.netrc is read.  Never printed. */
    char user[CHR_CLIENT_CRED_MAX];
    char password[CHR_CLIENT_CRED_MAX];
    bool json;                    /* --json: print the server's JSON */
    const char *cmd;              /* the command's name, for messages */
    const char *context;          /* NULL, or what an error answer is about
                                     ("chronos: <context>: <message>") */
    const char *pos[CHR_CLIENT_POS_MAX]; /* positionals, borrowed from argv */
    size_t npos;
};

/*
 * Parses argv (argv[0] is the command's name) against `cmd` into *c: its
 * options, the common ones (--server URL, --json when cmd->json, --help/-h)
 * and up to cmd->pos_max positionals into c->pos[] (count in c->npos).  The
 * server's URL is --server, else $CHRONOS_URL, else CHR_CLIENT_DEFAULT_URL;
 * credentials are --user USER[:PASSWORD], else $CHRONOS_USER and
 * $CHRONOS_PASSWORD, else a user:password@ in the URL (taken out of it),
 * else ~/.netrc (its "machine HOST" entry, else "default", as libcurl reads
 * it).  A password on the command line is wiped from
 * argv once read.
 *
 * Returns -1 when the command should go on; otherwise an exit status to
 * return at once: 0 after printing the help to stdout, CHR_EXIT_USAGE after
 * printing one line naming the mistake to stderr.
 */
int chr_client_args(const struct chr_cmd *cmd, int argc, char **argv, struct chr_client *c);

/* Prints "chronos CMD: <message> (see `chronos CMD --help`)" to stderr;
 * returns CHR_EXIT_USAGE. */
int chr_client_usage(const struct chr_client *c, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Prints "chronos: <message>" to stderr; returns `status`. */
int chr_client_fail(int status, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* A strict whole number lo..hi (digits, optional '-'); false otherwise. */
bool chr_client_parse_long(const char *s, long lo, long hi, long *out);

/* ---- Paths (client_http.c) --------------------------------------------- */

/* A request path built piece by piece; `overflow` once it did not fit. */
struct chr_path {
    char buf[CHR_CLIENT_PATH_MAX];
    size_t len;
    bool overflow;
};

void chr_path_init(struct chr_path *p);
/* Appends `text` as it is. */
void chr_path_add(struct chr_path *p, const char *text);
/* Appends `raw` percent-encoded (a job name, a run id, a query value). */
void chr_path_add_escaped(struct chr_path *p, const char *raw);
/* Appends "?key=value" (or "&key=value" after the first), the value
 * escaped; nothing when `value` is NULL, so optional options need no if. */
void chr_path_add_query(struct chr_path *p, const char *key, const char *value);
/* CHR_EXIT_OK, or a usage error naming the overflow. */
int chr_path_check(const struct chr_client *c, const struct chr_path *p);

/* ---- Requests (client_http.c) ------------------------------------------ */

/* An answer read whole. */
struct chr_resp {
    long status;  /* HTTP status */
    char *body;   /* NUL-terminated, chr_malloc'd; never NULL after success */
    size_t len;
};

void chr_resp_free(struct chr_resp *r);

/*
 * One request to c->url followed by `path` (already escaped, starting with
 * '/'); `body` is JSON text or NULL.  Returns CHR_EXIT_OK with *r filled
 * whatever the HTTP status (the caller frees it with chr_resp_free);
 * otherwise prints one line and returns CHR_EXIT_UNREACHABLE (no answer) or
 * CHR_EXIT_SERVER (an answer past CHR_CLIENT_BODY_MAX), with *r empty.
 */
int chr_client_request(const struct chr_client *c, const char *method, const char *path,
                       const char *body, struct chr_resp *r);

/* chr_client_request, then an answer that is not 2xx is printed as
 * "chronos: <server's message>" and returned as CHR_EXIT_REFUSED (4xx) or
 * CHR_EXIT_SERVER (any other); *r is freed then. */
int chr_client_call(const struct chr_client *c, const char *method, const char *path,
                    const char *body, struct chr_resp *r);

/* Prints an error answer's message (the JSON "message", else its first
 * line), after c->context if set; returns its exit status (1 or 4). */
int chr_client_refused(const struct chr_client *c, const struct chr_resp *r);

/*
 * GET `path` and copy the answer's body to stdout as it arrives, flushed per
 * chunk; with `follow` there is no total timeout (the server ends the
 * stream).  An error answer is read (bounded) and printed as by
 * chr_client_call.  Returns an exit status.
 */
int chr_client_stream(const struct chr_client *c, const char *path, bool follow);

/* ---- Transports (client_wire.c, client_curl.c) -------------------------- */

/* Where one exchange's answer goes: its status, then its body, in memory
 * (bounded by CHR_CLIENT_BODY_MAX) or, for a 2xx answer when `stream`, to
 * stdout as it comes.  A zeroed sink keeps the body in memory. */
struct chr_sink {
    long status; /* the HTTP status, set before the first body byte */
    bool stream;
    bool too_large;
    bool write_failed;
    struct chr_sb body;
};

/* Takes n bytes of the body; false when the exchange must stop (too large,
 * stdout gone, out of memory: chr_sink_failed says which). */
bool chr_sink_take(struct chr_sink *s, const char *p, size_t n);
/* Prints why the sink stopped the exchange; returns its exit status. */
int chr_sink_failed(const struct chr_sink *s);
/* One header line of an answer (without its line end), from either
 * transport: a Warning (the server took the request but has something to
 * say) is told on stderr as "chronos: warning: ...". */
void chr_client_header(const char *line, size_t n);

/* One exchange over a plain socket (http:// only) or through libcurl;
 * `path` is appended to c->url.  CHR_EXIT_OK when an answer came whole
 * (whatever its status), else an exit status after one line on stderr. */
int chr_wire_exchange(const struct chr_client *c, const char *method, const char *path,
                      const char *body, bool follow, struct chr_sink *s);
int chr_curl_exchange(const struct chr_client *c, const char *method, const char *path,
                      const char *body, bool follow, struct chr_sink *s);

/* The answer's body as JSON (the caller json_decref's it); NULL after
 * printing "chronos: the server's answer is not JSON: ...". */
json_t *chr_resp_json(const struct chr_resp *r);

/* Prints the body as it is, with a final newline if it lacks one. */
void chr_resp_print(const struct chr_resp *r);

/* Shows a JSON answer to people: a table, a block, lines.  Returns an exit
 * status. */
typedef int chr_render_fn(const struct chr_client *c, const json_t *v);

/*
 * GET `path`, then print the answer as it is with --json (c->json), else
 * hand it parsed to `render`: the shape of every read-only command.  Returns
 * an exit status (as chr_client_call, CHR_EXIT_SERVER when the answer is not
 * JSON, else render's).
 */
int chr_client_get_show(const struct chr_client *c, const char *path, chr_render_fn *render);

/* ---- Tables and times (client_table.c) --------------------------------- */

struct chr_table;

/* A table of `ncols` columns headed by `headers` (copied); NULL when out of
 * memory. */
struct chr_table *chr_table_new(const char *const *headers, size_t ncols);
/* Appends a row of ncols cells (copied; NULL shows as "-"). */
bool chr_table_add(struct chr_table *t, const char *const *cells);
/* Prints the table with columns aligned (two spaces apart, the last column
 * not padded). */
void chr_table_print(const struct chr_table *t, FILE *out);
void chr_table_free(struct chr_table *t);


/* `at_ms` relative to `now_ms` in its largest whole unit: "in 3m", "5s ago",
 * "0s ago" (within the last second), "now" (within the next). */
void chr_rel_time(int64_t at_ms, int64_t now_ms, char *buf, size_t cap);

/* A duration: "850ms", "12.3s", "3m04s", "2h05m", "3d04h". */
void chr_duration(int64_t ms, char *buf, size_t cap);

/* An instant given as ISO text in JSON; false for null, "" or bad text. */
bool chr_json_instant(const json_t *v, int64_t *at_ms);

/* A JSON value as a table cell or a `show` line: strings as they are,
 * numbers, true/false, null as "-", arrays of strings joined by ",", other
 * values as compact JSON.  Returns a chr_malloc'd string or NULL. */
char *chr_json_text(const json_t *v);

/* ---- Commands shared between files ------------------------------------- */

/* Builds prefix + escaped name + suffix into *p; CHR_EXIT_OK or a usage
 * error when it does not fit. */
int chr_job_path(const struct chr_client *c, struct chr_path *p, const char *prefix,
                 const char *name, const char *suffix);

/* True when the job JSON `o` has a non-empty "parents" array. */
bool chr_job_is_dependent(const json_t *o);

/* True for the fields of a job the server computes (counters, progress):
 * `show` shows them, `edit` leaves them out, `apply` never compares them. */
bool chr_job_is_computed(const char *key);

/* POSTs one job (a JSON object) to /dependency when it has parents, else to
 * /iso8601 (both create or replace).  Returns an exit status. */
int chr_client_post_job(const struct chr_client *c, const json_t *job);

/* chr_client_post_job, after asking whether the job exists, then prints
 * "updated NAME" or "created NAME" as it did.  Returns an exit status. */
int chr_client_put_job(const struct chr_client *c, const json_t *job);

/* GET /v1/scheduler/job/{name}: CHR_EXIT_OK with *job (caller decrefs); with
 * `missing_ok`, CHR_EXIT_OK and *job NULL when the server answers 4xx (no
 * such job); else an exit status after printing the server's reason. */
int chr_client_get_job(const struct chr_client *c, const char *name, bool missing_ok,
                       json_t **job);

#endif
