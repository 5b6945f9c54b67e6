/*
 * fuzz_persist.c - libFuzzer target for the decoders of /state and /runs
 * nodes (server/persist.c: chr_state_from_json, chr_run_from_json), which
 * read what anyone with access to ZooKeeper or the data directory may have
 * written.
 *
 * The first input byte picks the decoder (even: state, odd: run); the rest is
 * the node's bytes.  Checked: no crash; a refusal is CHR_EINVAL with a
 * message naming the field; a node that decodes encodes (chr_state_to_json,
 * chr_run_to_json: what the server writes) and that decodes again to the
 * same value.  JSON is not canonical (spacing, member order), so the check
 * is on the value: the second decode encodes to the very bytes of the first
 * encode.
 */
#include "fuzz_check.h"

#include "common/alloc.h"
#include "server/persist.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_same(const char *kind, const char *once, size_t len1, const char *twice,
                       size_t len2)
{
    FUZZ_CHECK(twice != NULL && len1 == len2 && memcmp(once, twice, len1) == 0,
               "a %s node changes in a round trip:\n  %s\n  %s", kind, once,
               twice ? twice : "(null)");
}

static void state_node(const char *text, size_t len)
{
    struct chr_job_state st, again;
    struct chr_error err;
    fuzz_poison_error(&err);
    enum chr_err rc = chr_state_from_json(text, len, &st, &err);
    if (rc != CHR_OK) {
        if (rc != CHR_ENOMEM)
            fuzz_check_parse_error(rc, &err, "(a state node)");
        return;
    }
    size_t len1 = 0, len2 = 0;
    char *once = chr_state_to_json(&st, &len1);
    FUZZ_CHECK(once != NULL, "a decoded state does not encode");
    rc = chr_state_from_json(once, len1, &again, &err);
    FUZZ_CHECK(rc == CHR_OK, "a state as written (%s) does not decode: %s", once, err.message);
    char *twice = chr_state_to_json(&again, &len2);
    check_same("state", once, len1, twice, len2);
    chr_free(twice);
    chr_free(once);
    chr_job_state_free(&again);
    chr_job_state_free(&st);
}

static void run_node(const char *text, size_t len)
{
    struct chr_run run, again;
    struct chr_error err;
    fuzz_poison_error(&err);
    enum chr_err rc = chr_run_from_json(text, len, &run, &err);
    if (rc != CHR_OK) {
        if (rc != CHR_ENOMEM)
            fuzz_check_parse_error(rc, &err, "(a run node)");
        return;
    }
    size_t len1 = 0, len2 = 0;
    char *once = chr_run_to_json(&run, &len1);
    FUZZ_CHECK(once != NULL, "a decoded run (%s) does not encode", run.id);
    rc = chr_run_from_json(once, len1, &again, &err);
    FUZZ_CHECK(rc == CHR_OK, "a run as written (%s) does not decode: %s", once, err.message);
    char *twice = chr_run_to_json(&again, &len2);
    check_same("run", once, len1, twice, len2);
    chr_free(twice);
    chr_free(once);
    chr_free(again.arguments);
    chr_free(run.arguments);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    if (data[0] % 2 == 0)
        state_node((const char *)data + 1, size - 1);
    else
        run_node((const char *)data + 1, size - 1);
    return 0;
}
