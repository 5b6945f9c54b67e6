/*
 * fuzz_pack.c - libFuzzer target for the pack decoder (zkstore/pack.c:
 * chr_pack_decode), which reads nodes anyone with access to ZooKeeper may
 * have written.
 *
 * The input is a pack node's bytes; the shard it is read as is the one its
 * header names (bytes 15-16, when they are hex digits), else 0.  Checked: no
 * crash; a refusal is CHR_EINVAL with a message naming the field ("pack:
 * ..."); a pack that decodes is canonical: chr_pack_encode gives back exactly
 * the input bytes, and chr_pack_find finds every entry by its name.
 */
#include "fuzz_check.h"

#include "common/alloc.h"
#include "zkstore/pack.h"
#include "zkstore/store.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int hex(uint8_t c)
{
    return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    unsigned shard = 0;
    if (size >= 17 && hex(data[15]) >= 0 && hex(data[16]) >= 0)
        shard = (unsigned)(hex(data[15]) * 16 + hex(data[16]));
    struct chr_pack p;
    struct chr_error err;
    fuzz_poison_error(&err);
    enum chr_err rc = chr_pack_decode(data, size, shard, &p, &err);
    if (rc == CHR_ENOMEM)
        return 0;
    if (rc != CHR_OK) {
        fuzz_check_parse_error(rc, &err, "(a pack's bytes)");
        FUZZ_CHECK(p.n == 0 && p.e == NULL && p.buf == NULL, "a refused pack keeps entries");
        return 0;
    }
    char *out = NULL;
    size_t len = 0;
    rc = chr_pack_encode(&p, SIZE_MAX / 2, &out, &len);
    FUZZ_CHECK(rc == CHR_OK || rc == CHR_ENOMEM, "a decoded pack does not encode: %s",
               chr_err_name(rc));
    if (rc == CHR_OK)
        FUZZ_CHECK(len == size && memcmp(out, data, size) == 0,
                   "a decoded pack of %zu bytes encodes to %zu other bytes", size, len);
    for (size_t i = 0; i < p.n; i++)
        FUZZ_CHECK(chr_pack_find(&p, p.e[i].name) == &p.e[i], "entry %zu (%s) not found", i,
                   p.e[i].name);
    chr_free(out);
    chr_pack_free(&p);
    return 0;
}
