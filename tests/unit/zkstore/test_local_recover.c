/*
 * test_local_recover.c - chr_store_recover_local (zkstore/local_recover.c):
 * it keeps exactly the history before the first damage (no node deleted in
 * it comes back), sets every damaged file and every log after the damage
 * aside under a second name with its bytes intact, deletes nothing, leaves a
 * store that opens and takes writes, does nothing to a healthy store, and
 * refuses while the store is open.
 */
#include "../unit.h"

#include <stdlib.h>
#include <unistd.h>

#include "workload.h"

static struct chr_store_report *recover(const struct fx *f, const char *stamp)
{
    struct chr_store_report *r = NULL;
    struct chr_error err;
    enum chr_err e = chr_store_recover_local(f->dir, stamp, &r, &err);
    if (e != CHR_OK)
        fail_msg("recover %s: %s: %s", f->dir, chr_err_name(e), err.message);
    return r;
}

/* The file `name` of the store holds exactly len bytes of want. */
static void assert_file(const struct fx *f, const char *name, const void *want, size_t len)
{
    char path[256];
    snprintf(path, sizeof path, "%s/%s", f->dir, name);
    size_t got_len = 0;
    unsigned char *got = read_file(path, &got_len);
    if (got_len != len || memcmp(got, want, len) != 0)
        fail_msg("%s: %zu bytes, want %zu (or other bytes)", name, got_len, len);
    free(got);
}

static void test_keeps_the_records_before_a_damaged_one(void **state)
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
    unsigned char *damaged = read_file(wal, &len);
    struct chr_store_report *r = recover(f, "T1");
    assert_true(r->damaged);
    assert_int_equal(r->kept_seq, 14);
    assert_int_equal(r->seen_seq, 30);
    assert_string_equal(r->files[0].aside, "wal.0000000000000001.damaged-T1");
    chr_store_report_free(r);
    assert_file(f, "wal.0000000000000001.damaged-T1", damaged, len);
    assert_file(f, "wal.0000000000000001", orig, at); /* the intact records, as they were */
    open_store(f, 0);
    assert_int_equal(check_prefix(f->s), 14); /* k1..k9 deleted in it stay deleted */
    run_batches(f->s, 14, 20);
    close_store(f);
    open_store(f, 0);
    assert_int_equal(check_prefix(f->s), 20);
    free(damaged);
    free(orig);
}

/* Damage in the older of two logs: its intact part stays, the newer log is
 * set aside whole. */
static void test_sets_aside_the_logs_after_the_damage(void **state)
{
    struct fx *f = *state;
    make_two_wals(f);
    char old[256], newer[256];
    assert_true(wal_path(f, 0, old, sizeof old));
    assert_true(wal_path(f, 1, newer, sizeof newer));
    size_t old_len, new_len;
    unsigned char *old_bytes = read_file(old, &old_len);
    unsigned char *new_bytes = read_file(newer, &new_len);
    size_t at = record_offset(old_bytes, old_len, 12);
    flip_byte(old, (off_t)(at + 30));
    struct chr_store_report *r = recover(f, "T2");
    assert_int_equal(r->kept_seq, 11);
    assert_int_equal(r->files[1].state, CHR_STORE_FILE_AFTER);
    char aside[96];
    snprintf(aside, sizeof aside, "%s.after-damage-T2", strrchr(newer, '/') + 1);
    assert_string_equal(r->files[1].aside, aside);
    chr_store_report_free(r);
    assert_file(f, aside, new_bytes, new_len);
    assert_int_equal(access(newer, F_OK), -1);
    open_store(f, 0);
    assert_int_equal(check_prefix(f->s), 11);
    free(old_bytes);
    free(new_bytes);
}

/* A damaged snapshot is the base of every log after it: nothing before it
 * is left, so the store starts empty, and says so. */
static void test_damaged_snapshot_leaves_an_empty_store(void **state)
{
    struct fx *f = *state;
    open_store(f, 0);
    run_batches(f->s, 0, 40);
    assert_int_equal(chr_store_checkpoint(f->s), CHR_OK);
    run_batches(f->s, 40, 45);
    close_store(f);
    char snap[256];
    snprintf(snap, sizeof snap, "%s/snap", f->dir);
    flip_byte(snap, 20);
    size_t len;
    unsigned char *damaged = read_file(snap, &len);
    struct chr_store_report *r = recover(f, "T3");
    assert_int_equal(r->kept_seq, 0);
    assert_int_equal(r->seen_seq, 45);
    assert_string_equal(r->files[0].aside, "snap.damaged-T3");
    assert_int_equal(r->files[1].state, CHR_STORE_FILE_AFTER);
    assert_true(r->files[1].aside[0] != '\0');
    chr_store_report_free(r);
    assert_file(f, "snap.damaged-T3", damaged, len);
    assert_int_equal(access(snap, F_OK), -1);
    open_store(f, 0);
    assert_int_equal(check_prefix(f->s), 0);
    free(damaged);
}

static void test_healthy_store_is_left_alone(void **state)
{
    struct fx *f = *state;
    open_store(f, 0);
    run_batches(f->s, 0, 10);
    close_store(f);
    struct dir_image before;
    dir_image_take(f->dir, &before);
    struct chr_store_report *r = recover(f, "T4");
    assert_false(r->damaged);
    assert_int_equal(r->kept_seq, 10);
    for (size_t i = 0; i < r->n; i++)
        assert_string_equal(r->files[i].aside, "");
    chr_store_report_free(r);
    assert_dir_unchanged(f->dir, &before);
    dir_image_free(&before);
}

static void test_refuses_while_open_and_bad_stamps(void **state)
{
    struct fx *f = *state;
    open_store(f, 0);
    run_batches(f->s, 0, 3);
    struct chr_store_report *r = NULL;
    struct chr_error err;
    assert_int_equal(chr_store_recover_local(f->dir, "T5", &r, &err), CHR_EUNAVAIL);
    assert_null(r);
    char want[64];
    snprintf(want, sizeof want, "process %ld", (long)getpid());
    assert_non_null(strstr(err.message, want));
    close_store(f);
    assert_int_equal(chr_store_recover_local(f->dir, "a/b", &r, &err), CHR_EINVAL);
    assert_int_equal(chr_store_recover_local(f->dir, "", &r, &err), CHR_EINVAL);
    /* A set-aside name already taken: refused, nothing moved. */
    open_store(f, 0);
    run_batches(f->s, 3, 10);
    close_store(f);
    char wal[256], taken[300];
    assert_true(wal_path(f, 0, wal, sizeof wal));
    flip_byte(wal, 30);
    snprintf(taken, sizeof taken, "%s.damaged-T6", wal);
    write_file(taken, "x", 1);
    struct dir_image before;
    dir_image_take(f->dir, &before);
    assert_int_equal(chr_store_recover_local(f->dir, "T6", &r, &err), CHR_ECONFLICT);
    assert_dir_unchanged(f->dir, &before);
    dir_image_free(&before);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_keeps_the_records_before_a_damaged_one, wl_setup,
                                        wl_teardown),
        cmocka_unit_test_setup_teardown(test_sets_aside_the_logs_after_the_damage, wl_setup,
                                        wl_teardown),
        cmocka_unit_test_setup_teardown(test_damaged_snapshot_leaves_an_empty_store, wl_setup,
                                        wl_teardown),
        cmocka_unit_test_setup_teardown(test_healthy_store_is_left_alone, wl_setup, wl_teardown),
        cmocka_unit_test_setup_teardown(test_refuses_while_open_and_bad_stamps, wl_setup,
                                        wl_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
