/*
 * test_local_check.c - the rules across a local store's files
 * (zkstore/local_check.c), through chr_store_open_local and
 * chr_store_check_local on real directories: damage anywhere refuses the
 * open, names the file and the offset and changes nothing on disk; only the
 * newest log's torn tail is cut; a gap in the seqs is damage; a log the
 * snapshot wholly covers adds nothing, so its damage refuses nothing; the
 * lock names its holder.  Check reports what an open would do.
 */
#include "../unit.h"

#include <stdlib.h>
#include <unistd.h>

#include "workload.h"

static struct chr_store_report *check(const struct fx *f)
{
    struct chr_store_report *r = NULL;
    struct chr_error err;
    enum chr_err e = chr_store_check_local(f->dir, &r, &err);
    if (e != CHR_OK)
        fail_msg("check %s: %s: %s", f->dir, chr_err_name(e), err.message);
    return r;
}

/* Opens, expecting CHR_EDAMAGED with a message naming file and offset, and
 * the directory unchanged (LOCK aside). */
static void assert_refused(const struct fx *f, const char *file, uint64_t offset)
{
    struct dir_image before;
    dir_image_take(f->dir, &before);
    struct chr_store *s = NULL;
    struct chr_error err;
    enum chr_err e = chr_store_open_local(f->dir, NULL, &s, &err);
    if (e != CHR_EDAMAGED)
        fail_msg("open %s: %s (%s), want EDAMAGED", f->dir, chr_err_name(e), err.message);
    assert_null(s);
    char want[128];
    snprintf(want, sizeof want, "%s/%s: at offset %llu,", f->dir, file, (unsigned long long)offset);
    if (strstr(err.message, want) == NULL)
        fail_msg("message '%s' does not say '%s'", err.message, want);
    assert_dir_unchanged(f->dir, &before);
    dir_image_free(&before);
}

static const struct chr_store_file_report *file_of(const struct chr_store_report *r,
                                                   const char *name)
{
    for (size_t i = 0; i < r->n; i++)
        if (strcmp(r->files[i].name, name) == 0)
            return &r->files[i];
    fail_msg("no file %s in the report", name);
    return NULL;
}

static const char *wal1 = "wal.0000000000000001";

static void test_middle_record_damage(void **state)
{
    struct fx *f = *state;
    open_store(f, 0);
    run_batches(f->s, 0, 30);
    close_store(f);
    char wal[256];
    assert_true(wal_path(f, 0, wal, sizeof wal));
    size_t len;
    unsigned char *orig = read_file(wal, &len);
    size_t at = record_offset(orig, len, 15);
    flip_byte(wal, (off_t)(at + 40));
    assert_refused(f, wal1, at);
    struct chr_store_report *r = check(f);
    assert_true(r->damaged);
    assert_int_equal(r->kept_seq, 14);
    assert_int_equal(r->seen_seq, 30);
    const struct chr_store_file_report *w = file_of(r, wal1);
    assert_int_equal(w->state, CHR_STORE_FILE_DAMAGED);
    assert_int_equal(w->bad_offset, at);
    assert_int_equal(w->records, 14);
    assert_int_equal(w->after_records, 15);
    chr_store_report_free(r);
    free(orig);
}

static void test_torn_tail_of_newest_log_is_cut(void **state)
{
    struct fx *f = *state;
    open_store(f, 0);
    run_batches(f->s, 0, 40);
    assert_int_equal(chr_store_checkpoint(f->s), CHR_OK);
    run_batches(f->s, 40, 50);
    close_store(f);
    char wal[256];
    assert_true(wal_path(f, 0, wal, sizeof wal));
    size_t len;
    unsigned char *orig = read_file(wal, &len);
    size_t at = record_offset(orig, len, 10); /* record 50, the log's 10th */
    write_file(wal, orig, at + 30);
    struct chr_store_report *r = check(f);
    assert_false(r->damaged);
    assert_true(r->torn);
    assert_int_equal(r->kept_seq, 49);
    assert_int_equal(r->snap_seq, 40);
    assert_int_equal(file_of(r, "snap")->state, CHR_STORE_FILE_OK);
    assert_int_equal(r->files[1].state, CHR_STORE_FILE_TORN);
    assert_int_equal(r->files[1].bad_offset, at);
    chr_store_report_free(r);
    struct chr_error err;
    assert_int_equal(chr_store_open_local(f->dir, NULL, &f->s, &err), CHR_OK);
    char want[64];
    snprintf(want, sizeof want, "cut a torn tail of 30 bytes at offset %zu", at);
    assert_non_null(strstr(err.message, want));
    assert_int_equal(check_prefix(f->s), 49);
    close_store(f);
    assert_int_equal(file_size(wal), (off_t)at);
    free(orig);
}

/* An older log ending torn is damage: it was complete before the next began. */
static void test_torn_end_of_older_log_is_damage(void **state)
{
    struct fx *f = *state;
    make_two_wals(f);
    char old[256];
    assert_true(wal_path(f, 0, old, sizeof old));
    size_t len;
    unsigned char *orig = read_file(old, &len);
    size_t at = record_offset(orig, len, 20);
    write_file(old, orig, len - 7);
    assert_refused(f, wal1, at);
    struct chr_store_report *r = check(f);
    assert_int_equal(r->files[0].state, CHR_STORE_FILE_DAMAGED);
    assert_int_equal(r->files[1].state, CHR_STORE_FILE_AFTER);
    assert_int_equal(r->kept_seq, 19);
    assert_int_equal(r->seen_seq, 30);
    chr_store_report_free(r);
    free(orig);
}

static void test_gap_is_damage(void **state)
{
    struct fx *f = *state;
    make_two_wals(f);
    char old[256], newer[256];
    assert_true(wal_path(f, 0, old, sizeof old));
    assert_true(wal_path(f, 1, newer, sizeof newer));
    assert_int_equal(unlink(old), 0);
    assert_refused(f, strrchr(newer, '/') + 1, 0);
    struct chr_store_report *r = check(f);
    assert_int_equal(r->n, 1);
    assert_int_equal(r->files[0].state, CHR_STORE_FILE_DAMAGED);
    assert_non_null(strstr(r->files[0].what, "missing"));
    assert_int_equal(r->kept_seq, 0);
    chr_store_report_free(r);
}

static void test_snapshot_damage(void **state)
{
    struct fx *f = *state;
    open_store(f, 0);
    run_batches(f->s, 0, 40);
    assert_int_equal(chr_store_checkpoint(f->s), CHR_OK);
    run_batches(f->s, 40, 45);
    close_store(f);
    char snap[256], tmp[256];
    snprintf(snap, sizeof snap, "%s/snap", f->dir);
    snprintf(tmp, sizeof tmp, "%s/snap.tmp", f->dir);
    write_file(tmp, "an interrupted checkpoint", 25); /* kept by a refused open */
    size_t len;
    unsigned char *orig = read_file(snap, &len);
    flip_byte(snap, 2);
    assert_refused(f, "snap", 0);
    write_file(snap, orig, len);
    flip_byte(snap, (off_t)len - 5); /* the last node's last data byte */
    assert_refused(f, "snap", len - 4);
    struct chr_store_report *r = check(f);
    assert_true(r->damaged);
    assert_int_equal(r->files[0].state, CHR_STORE_FILE_DAMAGED);
    assert_int_equal(r->files[1].state, CHR_STORE_FILE_AFTER);
    assert_int_equal(r->kept_seq, 0);
    assert_int_equal(r->seen_seq, 45);
    chr_store_report_free(r);
    write_file(snap, orig, len);
    open_store(f, 0);
    assert_int_equal(check_prefix(f->s), 45);
    close_store(f);
    assert_int_equal(access(tmp, F_OK), -1); /* removed once the open succeeded */
    free(orig);
}

/* A log whose records the snapshot holds adds nothing: its damage is
 * reported and refuses nothing, and the open drops it. */
static void test_damage_in_a_stale_log_refuses_nothing(void **state)
{
    struct fx *f = *state;
    open_store(f, 0);
    run_batches(f->s, 0, 20);
    close_store(f);
    char wal[256];
    assert_true(wal_path(f, 0, wal, sizeof wal));
    size_t len;
    unsigned char *old = read_file(wal, &len);
    open_store(f, 0);
    assert_int_equal(chr_store_checkpoint(f->s), CHR_OK); /* drops wal.1 */
    run_batches(f->s, 20, 25);
    close_store(f);
    old[len / 2] ^= 0x5a;
    write_file(wal, old, len);
    struct chr_store_report *r = check(f);
    assert_false(r->damaged);
    assert_int_equal(file_of(r, wal1)->state, CHR_STORE_FILE_STALE);
    assert_non_null(strstr(file_of(r, wal1)->what, "in the snapshot"));
    chr_store_report_free(r);
    open_store(f, 0);
    assert_int_equal(check_prefix(f->s), 25);
    close_store(f);
    assert_int_equal(access(wal, F_OK), -1);
    free(old);
}

static void test_lock_names_its_holder(void **state)
{
    struct fx *f = *state;
    open_store(f, 0);
    run_batches(f->s, 0, 3);
    struct chr_store *second = NULL;
    struct chr_error err;
    assert_int_equal(chr_store_open_local(f->dir, NULL, &second, &err), CHR_EUNAVAIL);
    char want[64];
    snprintf(want, sizeof want, "in use by process %ld", (long)getpid());
    assert_non_null(strstr(err.message, want));
    assert_non_null(strstr(err.message, "/LOCK"));
    struct chr_store_report *r = check(f); /* reads beside the holder */
    assert_int_equal(r->holder_pid, (long)getpid());
    assert_false(r->damaged);
    assert_int_equal(r->kept_seq, 3);
    chr_store_report_free(r);
    close_store(f);
    r = check(f);
    assert_int_equal(r->holder_pid, 0);
    chr_store_report_free(r);
    /* A missing directory is no store; check says so and creates nothing. */
    char none[160];
    snprintf(none, sizeof none, "%s/none", f->tmp);
    assert_int_equal(chr_store_check_local(none, &r, &err), CHR_ENOENT);
    assert_null(r);
    assert_int_equal(access(none, F_OK), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_middle_record_damage, wl_setup, wl_teardown),
        cmocka_unit_test_setup_teardown(test_torn_tail_of_newest_log_is_cut, wl_setup,
                                        wl_teardown),
        cmocka_unit_test_setup_teardown(test_torn_end_of_older_log_is_damage, wl_setup,
                                        wl_teardown),
        cmocka_unit_test_setup_teardown(test_gap_is_damage, wl_setup, wl_teardown),
        cmocka_unit_test_setup_teardown(test_snapshot_damage, wl_setup, wl_teardown),
        cmocka_unit_test_setup_teardown(test_damage_in_a_stale_log_refuses_nothing, wl_setup,
                                        wl_teardown),
        cmocka_unit_test_setup_teardown(test_lock_names_its_holder, wl_setup, wl_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
