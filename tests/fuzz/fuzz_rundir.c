/*
 * fuzz_rundir.c - libFuzzer target for the records of a local run's
 * directory (offers/local_rundir.c, offers/local_spec.c): claim, pid, exit
 * and spec, which the server reads back after any crash of the supervisor
 * that wrote them.
 *
 * The first input byte picks the record (modulo 4: claim, pid, exit, spec);
 * the rest is the file's bytes.  Checked: no crash, and a record that parses
 * re-encodes to bytes that parse to the same value.  None is canonical (the
 * line records take numbers as strtoll does, with spaces and leading zeros;
 * the exit record and the spec are JSON), so the check is on the value:
 *   - claim, pid, exit: the writer's own format (chr_local_*_format) of the
 *     parsed record parses to the same fields;
 *   - spec: there is no writer of a parsed spec (the server writes one from
 *     a task), so this target writes the fields the parser keeps as JSON
 *     itself, and they must parse to the same spec (env in any order).
 */
#include "fuzz_check.h"

#include <jansson.h>

#include "common/alloc.h"
#include "common/limits.h"
#include "offers/local_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void claim(const char *text, size_t len)
{
    struct chr_local_claim c, d;
    if (chr_local_claim_parse(text, len, &c) != CHR_OK)
        return;
    char buf[CHR_LOCAL_RECORD_MAX];
    size_t n = chr_local_claim_format(&c, buf, sizeof buf);
    FUZZ_CHECK(chr_local_claim_parse(buf, n, &d) == CHR_OK, "a claim as written ('%s') does "
               "not parse", buf);
    FUZZ_CHECK(c.abandoned == d.abandoned && c.pid == d.pid && c.ticks == d.ticks &&
                   strcmp(c.boot_id, d.boot_id) == 0,
               "a claim changes in a round trip: '%s'", buf);
}

static void pidrec(const char *text, size_t len)
{
    struct chr_local_pidrec p, q;
    if (chr_local_pidrec_parse(text, len, &p) != CHR_OK)
        return;
    FUZZ_CHECK(p.pid > 0, "a pid record with pid %ld", (long)p.pid);
    char buf[CHR_LOCAL_RECORD_MAX];
    size_t n = chr_local_pidrec_format(&p, buf, sizeof buf);
    FUZZ_CHECK(chr_local_pidrec_parse(buf, n, &q) == CHR_OK, "a pid record as written ('%s') "
               "does not parse", buf);
    FUZZ_CHECK(p.pid == q.pid && p.start_ms == q.start_ms && p.ticks == q.ticks &&
                   strcmp(p.boot_id, q.boot_id) == 0,
               "a pid record changes in a round trip: '%s'", buf);
}

static void exitrec(const char *text, size_t len)
{
    struct chr_local_exitrec e, f;
    if (chr_local_exitrec_parse(text, len, &e) != CHR_OK)
        return;
    size_t n = 0;
    char *buf = chr_local_exitrec_format(&e, &n);
    FUZZ_CHECK(buf != NULL, "a parsed exit record (reason '%s') does not encode", e.reason);
    FUZZ_CHECK(chr_local_exitrec_parse(buf, n, &f) == CHR_OK, "an exit record as written (%s) "
               "does not parse", buf);
    FUZZ_CHECK(e.state == f.state && e.pid == f.pid && e.exit_code == f.exit_code &&
                   e.signal == f.signal && e.start_ms == f.start_ms && e.end_ms == f.end_ms &&
                   e.stdout_bytes == f.stdout_bytes && e.stderr_bytes == f.stderr_bytes &&
                   e.stdout_truncated == f.stdout_truncated &&
                   e.stderr_truncated == f.stderr_truncated && strcmp(e.reason, f.reason) == 0,
               "an exit record changes in a round trip: %s", buf);
    chr_free(buf);
}

/* The fields chr_local_spec_decode keeps, as spec JSON. */
static char *spec_text(const struct chr_local_spec *s, size_t *len)
{
    json_t *argv = json_array(), *env = json_object();
    for (size_t i = 0; s->argv[i] != NULL; i++)
        json_array_append_new(argv, json_string(s->argv[i]));
    for (size_t i = 0; s->env[i] != NULL; i++) {
        const char *eq = strchr(s->env[i], '=');
        FUZZ_CHECK(eq != NULL, "env entry '%s' has no '='", s->env[i]);
        char name[4096];
        snprintf(name, sizeof name, "%.*s", (int)(eq - s->env[i]), s->env[i]);
        json_object_set_new(env, name, json_string(eq + 1));
    }
    json_t *o = json_pack("{s:s, s:s, s:o, s:o, s:f, s:f, s:f, s:I, s:I, s:I, s:I, s:I}",
                          "run_id", s->run_id, "job", s->job, "argv", argv, "env", env, "cpus",
                          s->res.cpus, "mem_mb", s->res.mem_mb, "disk_mb", s->res.disk_mb,
                          "not_before_ms", (json_int_t)s->not_before_ms, "max_completion_ms",
                          (json_int_t)s->max_completion_ms, "kill_grace_ms",
                          (json_int_t)s->kill_grace_ms, "stdout_max", (json_int_t)s->stdout_max,
                          "stderr_max", (json_int_t)s->stderr_max);
    if (o != NULL && s->user != NULL)
        json_object_set_new(o, "user", json_string(s->user));
    char *text = o != NULL ? json_dumps(o, JSON_COMPACT) : NULL;
    json_decref(o);
    *len = text != NULL ? strlen(text) : 0;
    return text;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The same strings in any order (env is a JSON object). */
static bool same_set(char **a, char **b)
{
    size_t n = 0, m = 0;
    while (a[n] != NULL)
        n++;
    while (b[m] != NULL)
        m++;
    if (n != m)
        return false;
    qsort(a, n, sizeof *a, cmp_str);
    qsort(b, m, sizeof *b, cmp_str);
    for (size_t i = 0; i < n; i++)
        if (strcmp(a[i], b[i]) != 0)
            return false;
    return true;
}

static bool same_list(char **a, char **b)
{
    size_t i = 0;
    for (; a[i] != NULL && b[i] != NULL; i++)
        if (strcmp(a[i], b[i]) != 0)
            return false;
    return a[i] == NULL && b[i] == NULL;
}

static void spec(const char *text, size_t len)
{
    struct chr_local_spec s, t;
    if (chr_local_spec_decode(text, len, &s) != CHR_OK)
        return;
    size_t n = 0;
    char *again = spec_text(&s, &n);
    FUZZ_CHECK(again != NULL, "a parsed spec (run %s) does not encode", s.run_id);
    FUZZ_CHECK(chr_local_spec_decode(again, n, &t) == CHR_OK, "a spec as written (%s) does not "
               "parse", again);
    FUZZ_CHECK(strcmp(s.run_id, t.run_id) == 0 && strcmp(s.job, t.job) == 0 &&
                   (s.user == NULL) == (t.user == NULL) &&
                   (s.user == NULL || strcmp(s.user, t.user) == 0) && same_list(s.argv, t.argv) &&
                   same_set(s.env, t.env) && s.res.cpus == t.res.cpus &&
                   s.res.mem_mb == t.res.mem_mb && s.res.disk_mb == t.res.disk_mb &&
                   s.not_before_ms == t.not_before_ms &&
                   s.max_completion_ms == t.max_completion_ms &&
                   s.kill_grace_ms == t.kill_grace_ms && s.stdout_max == t.stdout_max &&
                   s.stderr_max == t.stderr_max,
               "a spec changes in a round trip: %s", again);
    free(again); /* jansson's */
    chr_local_spec_free(&t);
    chr_local_spec_free(&s);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    const char *text = (const char *)data + 1;
    size_t len = size - 1;
    switch (data[0] % 4) {
    case 0: claim(text, len); break;
    case 1: pidrec(text, len); break;
    case 2: exitrec(text, len); break;
    default: spec(text, len); break;
    }
    return 0;
}
