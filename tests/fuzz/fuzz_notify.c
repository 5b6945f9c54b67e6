/*
 * fuzz_notify.c - libFuzzer target for the outbox record's decoder
 * (server/notify_rec.c: chr_notify_rec_decode), which reads what anyone
 * with access to ZooKeeper or the data directory may have written under
 * <root>/outbox.
 *
 * Checked: no crash; a refusal is CHR_EINVAL with a message naming the
 * field; a record that decodes encodes, decodes again and encodes to the
 * same bytes; the messages made of it (text, webhook, chat and Sentry
 * bodies) render without a crash.
 */
#include "fuzz_check.h"

#include "common/alloc.h"
#include "server/notify_rec.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct chr_notify_rec r, again;
    struct chr_error err;
    fuzz_poison_error(&err);
    enum chr_err rc = chr_notify_rec_decode((const char *)data, size, &r, &err);
    if (rc != CHR_OK) {
        if (rc != CHR_ENOMEM)
            fuzz_check_parse_error(rc, &err, "(an outbox record)");
        return 0;
    }
    size_t len1 = 0, len2 = 0;
    char *once = chr_notify_rec_encode(&r, &len1);
    if (once != NULL && chr_notify_rec_decode(once, len1, &again, &err) == CHR_OK) {
        char *twice = chr_notify_rec_encode(&again, &len2);
        FUZZ_CHECK(twice != NULL && len1 == len2 && memcmp(once, twice, len1) == 0,
                   "an outbox record changes in a round trip:\n  %s", once);
        chr_free(twice);
        chr_notify_rec_free(&again);
    }
    struct chr_notify_render how = {"c", "http://h:1", "tail"};
    chr_free(chr_notify_text(&r, &how));
    chr_free(chr_notify_webhook_body(&r, &how, &len2));
    chr_free(chr_notify_chat_body(&r, &how, &len2));
    chr_free(chr_notify_sentry_body(&r, &how, &len2));
    chr_free(once);
    chr_notify_rec_free(&r);
    return 0;
}
