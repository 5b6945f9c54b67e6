/*
 * fuzz_client_answer.c - libFuzzer target for the command line's reader of
 * a server's answer (cli/client_wire.c: the status line and headers, 1xx
 * answers skipped, Content-Length, chunked and to-the-end bodies), which
 * takes whatever the host at --server sends.  The input arrives through a
 * pipe closed at its end, as a connection the server closes.
 *
 * Checked: no crash and no hang; an answer read whole has a status of
 * 200..599 and a body no longer than the input; a refusal is exit 3 (cut
 * short) or 4 (not HTTP as we read it) with its reason.
 */
#define _GNU_SOURCE /* memmem, as cli/client_wire.c */
#define CHR_VERSION "fuzz"
#include "fuzz_check.h"

#include "cli/client_wire.c"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* What client_http.c and client_args.c give the real binary: a sink kept in
 * memory, failures as their exit status (the message is not checked). */
bool chr_sink_take(struct chr_sink *s, const char *p, size_t n)
{
    chr_sb_put(&s->body, p, n);
    return !chr_sb_failed(&s->body);
}

void chr_client_header(const char *line, size_t n)
{
    FUZZ_CHECK(n < WIRE_HEAD_MAX, "a header line of %zu bytes", n);
    (void)line;
}

int chr_sink_failed(const struct chr_sink *s)
{
    (void)s;
    return CHR_EXIT_SERVER;
}

int chr_client_fail(int status, const char *fmt, ...)
{
    (void)fmt;
    return status;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    int fds[2];
    if (size > 60000 || pipe(fds) != 0) /* within one pipe's buffer: no writer thread */
        return 0;
    FUZZ_CHECK(write(fds[1], data, size) == (ssize_t)size, "a short write to the pipe");
    close(fds[1]);
    static struct wire w;
    memset(&w, 0, sizeof w);
    w.fd = fds[0];
    w.deadline_ms = INT64_MAX;
    struct chr_sink s;
    memset(&s, 0, sizeof s);
    int rc = read_answer(&w, &s, (size & 1) ? "GET" : "HEAD");
    close(fds[0]);
    if (rc == 0) {
        FUZZ_CHECK(s.status >= 200 && s.status <= 599, "an answer read whole with status %ld",
                   s.status);
        FUZZ_CHECK(s.body.len <= size, "a body of %zu bytes from %zu bytes", s.body.len, size);
    } else if (w.why != NULL) {
        FUZZ_CHECK(w.status == CHR_EXIT_UNREACHABLE || w.status == CHR_EXIT_SERVER,
                   "a refusal with exit status %d (%s)", w.status, w.why);
    }
    chr_sb_free(&s.body);
    return 0;
}
