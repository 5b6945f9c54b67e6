/*
 * test_resume.c - the local store after a failed write (zkstore/store.h:
 * chr_store_health, chr_store_resume): a failed log write fails its batch
 * and every later one, says which file and offset and why, shows nothing of
 * the failed batch, and resumes once writes work again, keeping exactly the
 * acknowledged batches (also across a reopen); a failed fdatasync is fatal
 * and refuses to resume.  A flush with a deadline (chr_store_flush_within)
 * gives up when it passes, without failing anything.
 */
#include "../unit.h"

#include <stdlib.h>

#include "common/alloc.h"
#include "fixture.h"
#include "ops.h"

static int setup(void **state)
{
    struct fx *f = calloc(1, sizeof *f);
    snprintf(f->tmp, sizeof f->tmp, "/tmp/chr-resume-XXXXXX");
    if (mkdtemp(f->tmp) == NULL)
        return -1;
    snprintf(f->dir, sizeof f->dir, "%s/db", f->tmp);
    *state = f;
    return chr_store_open_local(f->dir, NULL, &f->s, NULL) == CHR_OK ? 0 : -1;
}

static int teardown(void **state)
{
    struct fx *f = *state;
    chr_store_close(f->s);
    rm_tree(f->tmp);
    free(f);
    return 0;
}

static void reopen(struct fx *f)
{
    chr_store_close(f->s);
    f->s = NULL;
    assert_int_equal(chr_store_open_local(f->dir, NULL, &f->s, NULL), CHR_OK);
}

static void test_failed_write_then_resume(void **state)
{
    struct fx *f = *state;
    assert_int_equal(one(f->s, op_create("/a", "1")), CHR_OK);
    struct chr_store_health h;
    chr_store_health(f->s, &h);
    assert_true(h.ok);
    assert_string_equal(h.cause, "");

    chr_store_fault_inject(f->s, CHR_STORE_FAULT_WRITE, 1, 1);
    assert_int_equal(one(f->s, op_create("/b", "2")), CHR_EIO);
    chr_store_fault_inject(f->s, CHR_STORE_FAULT_WRITE, 0, 0);
    chr_store_health(f->s, &h);
    assert_false(h.ok);
    assert_false(h.fatal);
    /* It names the file and the offset: the log's first record ends there. */
    assert_non_null(strstr(h.cause, "cannot write "));
    assert_non_null(strstr(h.cause, "/db/wal.0000000000000001 at offset "));
    assert_non_null(strstr(h.cause, "Input/output error"));
    /* Later batches fail too, and nothing of the failed one shows. */
    assert_int_equal(one(f->s, op_create("/c", "3")), CHR_EIO);
    assert_absent(f->s, "/b");
    assert_node(f->s, "/a", "1", 0);

    assert_int_equal(chr_store_resume(f->s), CHR_OK);
    chr_store_health(f->s, &h);
    assert_true(h.ok);
    assert_int_equal(one(f->s, op_create("/d", "4")), CHR_OK);
    assert_int_equal(one(f->s, op_set("/a", "5", 0)), CHR_OK);
    reopen(f);
    assert_node(f->s, "/a", "5", 1);
    assert_node(f->s, "/d", "4", 0);
    assert_absent(f->s, "/b");
    assert_absent(f->s, "/c");
}

/* The probe of a resume fails while writes still fail: no resume. */
static void test_resume_refused_while_writes_fail(void **state)
{
    struct fx *f = *state;
    chr_store_fault_inject(f->s, CHR_STORE_FAULT_WRITE, 1, -1);
    assert_int_equal(one(f->s, op_create("/x", "1")), CHR_EIO);
    assert_int_equal(chr_store_resume(f->s), CHR_EIO);
    struct chr_store_health h;
    chr_store_health(f->s, &h);
    assert_false(h.ok);
    assert_non_null(strstr(h.cause, "still cannot write "));
    assert_non_null(strstr(h.cause, "/db/probe.tmp"));
    chr_store_fault_inject(f->s, CHR_STORE_FAULT_WRITE, 0, 0);
    assert_int_equal(chr_store_resume(f->s), CHR_OK);
    assert_int_equal(one(f->s, op_create("/x", "2")), CHR_OK);
    assert_node(f->s, "/x", "2", 0);
}

/* A failed fdatasync may have lost what was written: fatal. */
static void test_failed_sync_is_fatal(void **state)
{
    struct fx *f = *state;
    assert_int_equal(one(f->s, op_create("/a", "1")), CHR_OK);
    chr_store_fault_inject(f->s, CHR_STORE_FAULT_SYNC, 1, 1);
    assert_int_equal(one(f->s, op_create("/b", "2")), CHR_EIO);
    chr_store_fault_inject(f->s, CHR_STORE_FAULT_SYNC, 0, 0);
    struct chr_store_health h;
    chr_store_health(f->s, &h);
    assert_false(h.ok);
    assert_true(h.fatal);
    assert_non_null(strstr(h.cause, "fdatasync of "));
    assert_non_null(strstr(h.cause, "restart to re-read the store"));
    assert_int_equal(chr_store_resume(f->s), CHR_EIO);
    assert_int_equal(one(f->s, op_create("/c", "3")), CHR_EIO);
    reopen(f); /* what is on disk is the truth: the acknowledged /a */
    assert_node(f->s, "/a", "1", 0);
    assert_absent(f->s, "/b");
}

/* A flush with a deadline returns when the deadline passes, the batch still
 * in flight (a slow disk), and the batch lands afterwards all the same. */
static void test_flush_within_deadline(void **state)
{
    struct fx *f = *state;
    assert_int_equal(chr_store_flush_within(f->s, -1), CHR_EINVAL);
    assert_int_equal(chr_store_flush_within(f->s, 0), CHR_OK); /* nothing in flight */
    chr_store_fault_inject(f->s, CHR_STORE_FAULT_SLOW, 1, -1);
    struct chr_store_op op = op_create("/slow", "1");
    assert_int_equal(chr_store_submit(f->s, &op, 1, NULL, NULL), CHR_OK);
    assert_int_equal(chr_store_flush_within(f->s, 20), CHR_EUNAVAIL);
    assert_int_equal(chr_store_flush_within(f->s, 10000), CHR_OK);
    chr_store_fault_inject(f->s, CHR_STORE_FAULT_SLOW, 0, 0);
    assert_node(f->s, "/slow", "1", 0);
    struct chr_store_health h;
    chr_store_health(f->s, &h);
    assert_true(h.ok); /* late is not failed */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_failed_write_then_resume, setup, teardown),
        cmocka_unit_test_setup_teardown(test_resume_refused_while_writes_fail, setup, teardown),
        cmocka_unit_test_setup_teardown(test_failed_sync_is_fatal, setup, teardown),
        cmocka_unit_test_setup_teardown(test_flush_within_deadline, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
