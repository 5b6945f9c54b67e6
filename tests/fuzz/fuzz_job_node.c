/*
 * fuzz_job_node.c - libFuzzer target for the decoder of job nodes (a job's
 * JSON as the store keeps it: api/job_json.c chr_job_from_json, as the
 * server's load calls it), which reads what anyone with access to ZooKeeper
 * or the data directory may have written.
 *
 * The input is a job node's bytes.  Checked: no crash; a refusal is
 * CHR_EINVAL with a message naming the field; a job that decodes encodes
 * (chr_job_to_store_json, what the server writes, and chr_job_to_json, what
 * the API shows) and the stored form decodes again to the same job.  JSON is
 * not canonical (spacing, member order, defaults left out), so the check is
 * on the value: the second decode encodes to the very bytes of the first
 * encode.
 */
#include "fuzz_check.h"

#include "api/job_json.h"
#include "common/alloc.h"
#include "server/persist.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A fixed "now", as the server passes its clock: "R1//PT24H" starts then. */
#define NOW_MS 1767225600000LL /* 2026-01-01T00:00:00Z */

static enum chr_err decode(const char *text, size_t len, struct chr_job *job,
                           struct chr_error *err)
{
    struct chr_job_defaults d;
    chr_job_defaults_init(&d);
    d.user = "chronos";
    fuzz_poison_error(err);
    return chr_job_from_json(text, len, &d, CHR_JOB_HINT_ANY, NOW_MS, job, err);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct chr_job job;
    struct chr_error err;
    enum chr_err rc = decode((const char *)data, size, &job, &err);
    if (rc == CHR_ENOMEM)
        return 0;
    if (rc != CHR_OK) {
        fuzz_check_parse_error(rc, &err, "(a job node)");
        return 0;
    }
    size_t len1 = 0, len2 = 0, api_len = 0;
    char *once = chr_job_to_store_json(&job, &len1);
    char *api = chr_job_to_json(&job, NULL, &api_len);
    FUZZ_CHECK(once != NULL && api != NULL, "job '%s' decoded but does not encode", job.name);
    struct chr_job again;
    rc = decode(once, len1, &again, &err);
    FUZZ_CHECK(rc == CHR_OK, "job '%s' as stored (%s) does not decode: %s", job.name, once,
               err.message);
    char *twice = chr_job_to_store_json(&again, &len2);
    FUZZ_CHECK(twice != NULL && len2 == len1 && memcmp(once, twice, len1) == 0,
               "job '%s' changes in a round trip:\n  %s\n  %s", job.name, once,
               twice ? twice : "(null)");
    chr_free(twice);
    chr_free(api);
    chr_free(once);
    chr_job_free(&again);
    chr_job_free(&job);
    return 0;
}
