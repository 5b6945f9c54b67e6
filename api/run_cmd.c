/*
 * run_cmd.c - what one run executes (run_cmd.h): manual arguments as argv,
 * shell-quoted for shell jobs, never pasted in as shell text.  Pure.
 */
#include "api/run_cmd.h"

#include <jansson.h>
#include <string.h>

#include "common/alloc.h"
#include "common/limits.h"

char *chr_run_args_encode(const char *const *v, size_t n, enum chr_err *e,
                          struct chr_error *err)
{
    *e = CHR_OK;
    if (n == 0 || (n == 1 && v[0][0] == '\0'))
        return NULL;
    if (n > CHR_JOB_ARGUMENTS_MAX) {
        *e = chr_error_set(err, CHR_EINVAL, "arguments", "more than %d values",
                           CHR_JOB_ARGUMENTS_MAX);
        return NULL;
    }
    json_t *a = json_array();
    for (size_t i = 0; a != NULL && i < n; i++) {
        json_t *s = json_string(v[i]);
        if (s == NULL) {
            json_decref(a);
            *e = chr_error_set(err, CHR_EINVAL, "arguments", "value %zu is not UTF-8 text", i);
            return NULL;
        }
        if (json_array_append_new(a, s) != 0) {
            json_decref(a);
            a = NULL;
        }
    }
    size_t len = a ? json_dumpb(a, NULL, 0, JSON_COMPACT) : 0;
    char *text = len > 0 && len <= CHR_JOB_COMMAND_MAX ? chr_malloc(len + 1) : NULL;
    if (text != NULL) {
        json_dumpb(a, text, len, JSON_COMPACT);
        text[len] = '\0';
    } else if (a != NULL && len > CHR_JOB_COMMAND_MAX) {
        *e = chr_error_set(err, CHR_EINVAL, "arguments", "longer than %d bytes in all",
                           CHR_JOB_COMMAND_MAX);
    } else {
        *e = chr_error_set(err, CHR_ENOMEM, "", "out of memory");
    }
    json_decref(a);
    return text;
}

static bool safe_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           (c != '\0' && strchr("_@%+=:,./-", c) != NULL);
}

size_t chr_shell_quote_max(const char *word)
{
    return strlen(word) * 4 + 2;
}

bool chr_shell_quote(const char *word, char *buf, size_t *len, size_t cap)
{
    size_t at = *len;
    bool safe = word[0] != '\0';
    for (const char *p = word; safe && *p; p++)
        safe = safe_char(*p);
    if (cap < at + 1 || chr_shell_quote_max(word) > cap - at - 1)
        return false;
    if (safe) {
        size_t n = strlen(word);
        memcpy(buf + at, word, n);
        at += n;
    } else {
        buf[at++] = '\'';
        for (const char *p = word; *p; p++) {
            if (*p == '\'') {
                memcpy(buf + at, "'\\''", 4);
                at += 4;
            } else {
                buf[at++] = *p;
            }
        }
        buf[at++] = '\'';
    }
    buf[at] = '\0';
    *len = at;
    return true;
}

void chr_run_cmd_free(struct chr_run_cmd *c)
{
    chr_free(c->command);
    for (uint32_t i = 0; c->arguments && i < c->n_arguments; i++)
        chr_free(c->arguments[i]);
    chr_free(c->arguments);
    memset(c, 0, sizeof *c);
}

/* The manual arguments of `text` into out->arguments: a JSON array of
 * strings, or (a run recorded before they were encoded) the text as one. */
static enum chr_err decode_args(const char *text, struct chr_run_cmd *out)
{
    json_t *a = json_loads(text, 0, NULL);
    size_t n = json_is_array(a) ? json_array_size(a) : 1;
    for (size_t i = 0; json_is_array(a) && i < n; i++)
        if (!json_is_string(json_array_get(a, i)))
            n = 1; /* not ours: take the text as one argument */
    bool ours = json_is_array(a) && n == json_array_size(a);
    out->arguments = chr_calloc(n ? n : 1, sizeof *out->arguments);
    enum chr_err e = out->arguments ? CHR_OK : CHR_ENOMEM;
    for (size_t i = 0; e == CHR_OK && i < n; i++) {
        json_t *s = ours ? json_array_get(a, i) : NULL;
        const char *v = s ? json_string_value(s) : text;
        size_t len = s ? json_string_length(s) : strlen(text);
        if (memchr(v, '\0', len) != NULL)
            len = strlen(v); /* an argv element ends at a NUL */
        if ((out->arguments[i] = chr_strndup(v, len)) == NULL)
            e = CHR_ENOMEM;
        else
            out->n_arguments++;
    }
    json_decref(a);
    return e;
}

/* A shell job's command with each argument quoted and appended. */
static char *shell_join(const char *command, char *const *args, uint32_t n)
{
    size_t cap = strlen(command) + 1;
    for (uint32_t i = 0; i < n; i++)
        cap += 1 + chr_shell_quote_max(args[i]);
    char *buf = chr_malloc(cap);
    if (buf == NULL)
        return NULL;
    size_t len = strlen(command);
    memcpy(buf, command, len + 1);
    for (uint32_t i = 0; i < n; i++) {
        buf[len++] = ' ';
        buf[len] = '\0';
        chr_shell_quote(args[i], buf, &len, cap); /* fits: cap counted every byte */
    }
    return buf;
}

static enum chr_err copy_job_args(const struct chr_job *job, struct chr_run_cmd *out)
{
    if (job->n_arguments == 0)
        return CHR_OK;
    out->arguments = chr_calloc(job->n_arguments, sizeof *out->arguments);
    if (out->arguments == NULL)
        return CHR_ENOMEM;
    for (uint32_t i = 0; i < job->n_arguments; i++) {
        const char *a = job->arguments[i] ? job->arguments[i] : "";
        if ((out->arguments[i] = chr_strndup(a, strlen(a))) == NULL)
            return CHR_ENOMEM;
        out->n_arguments++;
    }
    return CHR_OK;
}

enum chr_err chr_run_cmd_make(const struct chr_job *job, const char *run_arguments,
                              struct chr_run_cmd *out)
{
    memset(out, 0, sizeof *out);
    out->shell = job->shell;
    bool manual = run_arguments != NULL && run_arguments[0] != '\0';
    enum chr_err e = manual ? decode_args(run_arguments, out) : copy_job_args(job, out);
    if (e == CHR_OK && manual && job->shell) {
        out->command = shell_join(job->command, out->arguments, out->n_arguments);
        for (uint32_t i = 0; i < out->n_arguments; i++)
            chr_free(out->arguments[i]);
        chr_free(out->arguments);
        out->arguments = NULL;
        out->n_arguments = 0;
    } else if (e == CHR_OK) {
        out->command = chr_strndup(job->command, strlen(job->command));
    }
    if (e == CHR_OK && out->command == NULL)
        e = CHR_ENOMEM;
    if (e != CHR_OK)
        chr_run_cmd_free(out);
    return e;
}
