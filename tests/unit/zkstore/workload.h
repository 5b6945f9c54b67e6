/*
 * workload.h - the zkstore durability tests' workload and file helpers,
 * shared by test_durable.c and test_recover.c.
 *
 * The workload: batch 0 creates /c ("0") and /n; batch i >= 1 sets /c to "i"
 * (expecting version i-1), creates /n/k<i> with payload(i), deletes
 * /n/k<i-4> when i >= 5 and checks /n.  After a prefix of P batches (log
 * records 1..P) the tree is fully determined by P, so check_prefix can
 * recognise any torn batch, and a node deleted within the prefix that came
 * back.
 */
#ifndef CHR_TEST_ZKSTORE_WORKLOAD_H
#define CHR_TEST_ZKSTORE_WORKLOAD_H

#include <dirent.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "common/alloc.h"
#include "zkstore/store.h"

#include "fixture.h"

/* ---- opening ---------------------------------------------------------------------- */

/* A temporary directory for the store ("<tmp>/db"), removed after the test. */
static inline int wl_setup(void **state)
{
    struct fx *f = calloc(1, sizeof *f);
    snprintf(f->tmp, sizeof f->tmp, "/tmp/chr-durable-XXXXXX");
    if (mkdtemp(f->tmp) == NULL)
        return -1;
    snprintf(f->dir, sizeof f->dir, "%s/db", f->tmp);
    *state = f;
    return 0;
}

static inline int wl_teardown(void **state)
{
    struct fx *f = *state;
    chr_store_close(f->s);
    rm_tree(f->tmp);
    free(f);
    return 0;
}

static inline void open_store(struct fx *f, uint64_t checkpoint_bytes)
{
    struct chr_store_config cfg = {.checkpoint_bytes = checkpoint_bytes};
    struct chr_error err;
    enum chr_err e = chr_store_open_local(f->dir, &cfg, &f->s, &err);
    if (e != CHR_OK)
        fail_msg("open %s: %s: %s", f->dir, chr_err_name(e), err.message);
}

static inline void close_store(struct fx *f)
{
    chr_store_close(f->s);
    f->s = NULL;
}

/* ---- the workload ----------------------------------------------------------------- */

static inline size_t payload(uint32_t j, unsigned char *buf)
{
    size_t len = 64 + (j * 97u) % 700u;
    for (size_t k = 0; k < len; k++)
        buf[k] = (unsigned char)(j * 131u + k * 7u);
    return len;
}

/* Batch i, with its buffers in `b`; returns the op count. */
struct wbatch {
    struct chr_store_op ops[4];
    char cdata[16], kpath[32], dpath[32];
    unsigned char pay[800];
};

static inline size_t make_batch(uint32_t i, struct wbatch *b)
{
    snprintf(b->cdata, sizeof b->cdata, "%u", i);
    if (i == 0) {
        b->ops[0] = (struct chr_store_op){.type = CHR_STORE_CREATE, .path = "/c", .data = "0",
                                          .len = 1};
        b->ops[1] = (struct chr_store_op){.type = CHR_STORE_CREATE, .path = "/n"};
        return 2;
    }
    size_t n = 0;
    b->ops[n++] = (struct chr_store_op){.type = CHR_STORE_SET, .path = "/c", .data = b->cdata,
                                        .len = strlen(b->cdata), .version = (int32_t)i - 1};
    snprintf(b->kpath, sizeof b->kpath, "/n/k%u", i);
    b->ops[n++] = (struct chr_store_op){.type = CHR_STORE_CREATE, .path = b->kpath,
                                        .data = b->pay, .len = payload(i, b->pay)};
    if (i >= 5) {
        snprintf(b->dpath, sizeof b->dpath, "/n/k%u", i - 4);
        b->ops[n++] = (struct chr_store_op){.type = CHR_STORE_DELETE, .path = b->dpath,
                                            .version = 0};
    }
    b->ops[n++] = (struct chr_store_op){.type = CHR_STORE_CHECK, .path = "/n", .version = -1};
    return n;
}

/* Runs batches [from, to) synchronously enough: submit all, flush. */
static inline void run_batches(struct chr_store *s, uint32_t from, uint32_t to)
{
    for (uint32_t i = from; i < to; i++) {
        struct wbatch b;
        size_t n = make_batch(i, &b);
        enum chr_err e;
        while ((e = chr_store_submit(s, b.ops, n, NULL, NULL)) == CHR_EUNAVAIL)
            assert_int_equal(chr_store_flush(s), CHR_OK);
        assert_int_equal(e, CHR_OK);
    }
    assert_int_equal(chr_store_flush(s), CHR_OK);
}

/* The number of batches the store holds; fails the test unless its whole
 * state is exactly that prefix. */
static inline uint32_t check_prefix(struct chr_store *s)
{
    void *data = NULL;
    size_t len = 0;
    int32_t v = -1;
    enum chr_err e = chr_store_get(s, "/c", &data, &len, &v);
    if (e == CHR_ENOENT) {
        assert_int_equal(chr_store_get(s, "/n", NULL, NULL, NULL), CHR_ENOENT);
        return 0;
    }
    assert_int_equal(e, CHR_OK);
    uint32_t last = (uint32_t)strtoul(data, NULL, 10);
    chr_free(data);
    if ((int32_t)last != v)
        fail_msg("/c says %u at version %d: a torn batch", last, v);
    uint32_t p = last + 1, lo = p >= 5 ? p - 4 : 1;
    struct chr_store_names *names = NULL;
    assert_int_equal(chr_store_children(s, "/n", &names), CHR_OK);
    if (names->n != (p - lo))
        fail_msg("prefix %u: /n has %zu children, want %u", p, names->n, p - lo);
    chr_store_names_free(names);
    for (uint32_t j = lo; j < p; j++) {
        char path[32];
        unsigned char want[800];
        snprintf(path, sizeof path, "/n/k%u", j);
        size_t wlen = payload(j, want);
        assert_int_equal(chr_store_get(s, path, &data, &len, &v), CHR_OK);
        assert_int_equal(len, wlen);
        assert_memory_equal(data, want, wlen);
        assert_int_equal(v, 0);
        chr_free(data);
    }
    return p;
}

/* ---- files ------------------------------------------------------------------------ */

static inline int cmp_name(const void *a, const void *b)
{
    return strcmp(a, b);
}

/* The n-th (0-based) log file's path, in seq order; false if none. */
static inline bool wal_path(const struct fx *f, int nth, char *out, size_t size)
{
    DIR *d = opendir(f->dir);
    char names[16][32];
    int n = 0;
    for (struct dirent *de = readdir(d); de != NULL && n < 16; de = readdir(d))
        if (strncmp(de->d_name, "wal.", 4) == 0 && strlen(de->d_name) == 20)
            memcpy(names[n++], de->d_name, strlen(de->d_name) + 1);
    closedir(d);
    qsort(names, (size_t)n, sizeof names[0], cmp_name);
    if (nth >= n)
        return false;
    snprintf(out, size, "%s/%s", f->dir, names[nth]);
    return true;
}

static inline int count_wals(const struct fx *f)
{
    char p[256];
    int n = 0;
    while (wal_path(f, n, p, sizeof p))
        n++;
    return n;
}

static inline unsigned char *read_file(const char *path, size_t *len)
{
    FILE *fp = fopen(path, "rb");
    assert_non_null(fp);
    fseek(fp, 0, SEEK_END);
    *len = (size_t)ftell(fp);
    fseek(fp, 0, SEEK_SET);
    unsigned char *buf = malloc(*len + 1);
    assert_int_equal(fread(buf, 1, *len, fp), *len);
    fclose(fp);
    return buf;
}

static inline void write_file(const char *path, const void *buf, size_t len)
{
    FILE *fp = fopen(path, "wb");
    assert_non_null(fp);
    assert_int_equal(fwrite(buf, 1, len, fp), len);
    fclose(fp);
}

static inline off_t file_size(const char *path)
{
    struct stat sb;
    assert_int_equal(stat(path, &sb), 0);
    return sb.st_size;
}

static inline void flip_byte(const char *path, off_t at)
{
    size_t len;
    unsigned char *buf = read_file(path, &len);
    assert_true((size_t)at < len);
    buf[at] ^= 0x5a;
    write_file(path, buf, len);
    free(buf);
}

/* Leaves two log files: a checkpoint whose snapshot fsync fails after the
 * log was rotated keeps the old log. */
static inline void make_two_wals(struct fx *f)
{
    open_store(f, 0);
    run_batches(f->s, 0, 20);
    /* Syncs of a checkpoint: new log file, directory, snapshot, directory. */
    chr_store_fault_inject(f->s, CHR_STORE_FAULT_SYNC, 3, 1);
    assert_int_equal(chr_store_checkpoint(f->s), CHR_EIO);
    assert_int_equal(chr_store_state(f->s), CHR_OK); /* the log holds everything */
    run_batches(f->s, 20, 30);
    close_store(f);
    assert_int_equal(count_wals(f), 2);
}

/* ---- the directory's bytes ------------------------------------------------------ */

/* Every file of a store directory but LOCK (which names the last process to
 * open it), with its bytes: what a refused open must leave unchanged. */
struct dir_image {
    int n;
    char names[32][64];
    unsigned char *bytes[32];
    size_t lens[32];
};

static inline int cmp_name64(const void *a, const void *b)
{
    return strcmp(a, b);
}

static inline void dir_image_take(const char *dir, struct dir_image *im)
{
    memset(im, 0, sizeof *im);
    DIR *d = opendir(dir);
    assert_non_null(d);
    for (struct dirent *de = readdir(d); de != NULL; de = readdir(d)) {
        if (de->d_name[0] == '.' || strcmp(de->d_name, "LOCK") == 0)
            continue;
        assert_true(im->n < 32 && strlen(de->d_name) < 64);
        memcpy(im->names[im->n++], de->d_name, strlen(de->d_name) + 1);
    }
    closedir(d);
    qsort(im->names, (size_t)im->n, sizeof im->names[0], cmp_name64);
    for (int i = 0; i < im->n; i++) {
        char path[256];
        snprintf(path, sizeof path, "%s/%s", dir, im->names[i]);
        im->bytes[i] = read_file(path, &im->lens[i]);
    }
}

static inline void dir_image_free(struct dir_image *im)
{
    for (int i = 0; i < im->n; i++)
        free(im->bytes[i]);
    memset(im, 0, sizeof *im);
}

/* Fails the test unless the directory holds exactly the image's files and
 * bytes (LOCK aside). */
static inline void assert_dir_unchanged(const char *dir, const struct dir_image *want)
{
    struct dir_image now;
    dir_image_take(dir, &now);
    if (now.n != want->n)
        fail_msg("%s: %d files, was %d", dir, now.n, want->n);
    for (int i = 0; i < now.n; i++) {
        if (strcmp(now.names[i], want->names[i]) != 0)
            fail_msg("%s: file %s, was %s", dir, now.names[i], want->names[i]);
        if (now.lens[i] != want->lens[i] || memcmp(now.bytes[i], want->bytes[i], now.lens[i]) != 0)
            fail_msg("%s/%s changed (%zu bytes, was %zu)", dir, now.names[i], now.lens[i],
                     want->lens[i]);
    }
    dir_image_free(&now);
}

/* The offset of record k (1-based) of a log file's bytes, read from the
 * framing alone (u32 payload length at +8 of each 24-byte header). */
static inline size_t record_offset(const unsigned char *buf, size_t len, uint32_t k)
{
    size_t off = 0;
    for (uint32_t i = 1; i < k; i++) {
        assert_true(off + 24 <= len);
        off += 24 + ((size_t)buf[off + 8] | (size_t)buf[off + 9] << 8 |
                     (size_t)buf[off + 10] << 16 | (size_t)buf[off + 11] << 24);
    }
    assert_true(off < len);
    return off;
}

#endif
