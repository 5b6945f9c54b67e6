/*
 * fuzz_fastpath.c - libFuzzer target for the fast paths of the store's
 * decoders (common/jscan.c and its users: chr_job_from_json and
 * chr_state_from_json read the plain compact shape our encoders write
 * without jansson), against the full decoders they fall back to
 * (chr_job_from_json_full, chr_state_from_json_full).
 *
 * The first input byte picks the node (even: a job node, odd: a state node);
 * the rest is its bytes, handed to both the decoder with its fast path and
 * the full decoder alone.  Checked: no crash; both give the same result
 * (CHR_OK or the same error and message), and on CHR_OK the same value,
 * field by field (chr_job_equal, chr_job_state_equal).  A fast path that
 * took what the full decoder refuses, or read it differently, fails here.
 */
#include "fuzz_check.h"

#include "api/job_json.h"
#include "common/alloc.h"
#include "scheduler/core.h"
#include "server/persist.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A fixed "now", as the server passes its clock. */
#define NOW_MS 1767225600000LL
/* Job and state nodes our encoders write are far below this. */
#define FASTPATH_INPUT_MAX 16384

static void job_node(const char *text, size_t len)
{
    struct chr_job_defaults d;
    chr_job_defaults_init(&d);
    d.user = "chronos";
    struct chr_job a, b;
    struct chr_error ea, eb;
    enum chr_err ra = chr_job_from_json(text, len, &d, CHR_JOB_HINT_ANY, NOW_MS, &a, &ea);
    enum chr_err rb = chr_job_from_json_full(text, len, &d, CHR_JOB_HINT_ANY, NOW_MS, &b, &eb);
    if (ra != CHR_ENOMEM && rb != CHR_ENOMEM) {
        FUZZ_CHECK(ra == rb, "a job node reads %d with the fast path, %d without: %.*s", (int)ra,
                   (int)rb, (int)len, text);
        FUZZ_CHECK(ra != CHR_OK || chr_job_equal(&a, &b),
                   "a job node reads to different jobs with and without the fast path: %.*s",
                   (int)len, text);
        FUZZ_CHECK(ra == CHR_OK || strcmp(ea.message, eb.message) == 0,
                   "a job node fails differently: '%s' and '%s'", ea.message, eb.message);
    }
    if (ra == CHR_OK)
        chr_job_free(&a);
    if (rb == CHR_OK)
        chr_job_free(&b);
}

static void state_node(const char *text, size_t len)
{
    struct chr_job_state a, b;
    struct chr_error ea, eb;
    enum chr_err ra = chr_state_from_json(text, len, &a, &ea);
    enum chr_err rb = chr_state_from_json_full(text, len, &b, &eb);
    if (ra != CHR_ENOMEM && rb != CHR_ENOMEM) {
        FUZZ_CHECK(ra == rb, "a state node reads %d with the fast path, %d without: %.*s",
                   (int)ra, (int)rb, (int)len, text);
        FUZZ_CHECK(ra != CHR_OK || chr_job_state_equal(&a, &b),
                   "a state node reads to different states with and without the fast path: %.*s",
                   (int)len, text);
        FUZZ_CHECK(ra == CHR_OK || strcmp(ea.message, eb.message) == 0,
                   "a state node fails differently: '%s' and '%s'", ea.message, eb.message);
    }
    if (ra == CHR_OK)
        chr_job_state_free(&a);
    if (rb == CHR_OK)
        chr_job_state_free(&b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1 || size > FASTPATH_INPUT_MAX)
        return 0;
    const char *text = (const char *)data + 1;
    if (data[0] % 2 == 0)
        job_node(text, size - 1);
    else
        state_node(text, size - 1);
    return 0;
}
