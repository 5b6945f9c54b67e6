/*
 * local_recover.c - the operator's way out of a damaged local store:
 * chr_store_check_local reads everything and changes nothing;
 * chr_store_recover_local keeps the intact history and sets the rest aside.
 * Both read through lcheck_read, so they see exactly what an open sees.
 *
 * Recover must never delete a file holding damage or records after it (each
 * gets a second name first, "<name>.damaged-<stamp>" or
 * "<name>.after-damage-<stamp>", and only then loses its own), never write
 * while another process holds the store, and never leave, if it stops
 * half-way, a state that an open takes for anything but the damaged store
 * (it refuses again) or the recovered one: the damaged file goes first (a log
 * whose records before the damage are kept is replaced, atomically, by a
 * copy of them), then the logs after it in order, each leaving a gap before
 * the next until the last is gone.
 */
#include "zkstore/local_int.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include "common/alloc.h"

#define RECOVER_TMP ".recover.tmp"

static enum chr_err path_error(struct chr_error *err, enum chr_err code, const char *dir,
                               const char *name, const char *doing)
{
    if (code == CHR_ENOMEM)
        return code;
    int saved = errno;
    char path[512];
    snprintf(path, sizeof path, "%s%s%s", dir, name[0] ? "/" : "", name);
    return chr_error_set(err, code, path, "cannot %s: %s", doing, strerror(saved));
}

/* Moves the plan's report to the heap for the caller. */
static enum chr_err hand_over(struct lplan *plan, struct chr_store_report **out)
{
    struct chr_store_report *r = chr_malloc(sizeof *r);
    if (r == NULL) {
        lplan_free(plan);
        return CHR_ENOMEM;
    }
    *r = plan->rep;
    plan->rep.files = NULL;
    plan->rep.n = 0;
    *out = r;
    return CHR_OK;
}

void chr_store_report_free(struct chr_store_report *r)
{
    if (r == NULL)
        return;
    chr_free(r->files);
    chr_free(r);
}

static int open_store_dir(const char *dir, struct chr_error *err, enum chr_err *e)
{
    *e = CHR_OK;
    if (dir == NULL || dir[0] == '\0') {
        *e = chr_error_set(err, CHR_EINVAL, "store", "no directory given");
        return -1;
    }
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        *e = errno == ENOENT ? chr_error_set(err, CHR_ENOENT, dir, "no store here (no directory)")
                             : path_error(err, CHR_EIO, dir, "", "open the directory");
    return fd;
}

/* ---- Check ---------------------------------------------------------------------- */

/* The pid of a process holding the store (-1: unknown), 0 when none: a
 * shared lock taken and let go at once, which never keeps a server out for
 * longer than the call. */
static long probe_holder(int dir_fd)
{
    int fd = openat(dir_fd, "LOCK", O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return 0;
    long pid = 0;
    if (flock(fd, LOCK_SH | LOCK_NB) != 0 && errno == EWOULDBLOCK)
        pid = llock_holder(fd);
    close(fd); /* releases a lock we took */
    return pid;
}

enum chr_err chr_store_check_local(const char *dir, struct chr_store_report **out,
                                   struct chr_error *err)
{
    chr_error_clear(err);
    *out = NULL;
    enum chr_err e;
    int dir_fd = open_store_dir(dir, err, &e);
    if (dir_fd < 0)
        return e;
    long holder = probe_holder(dir_fd);
    struct lindex ix;
    struct lplan plan;
    e = lindex_init(&ix);
    if (e == CHR_OK) {
        e = lcheck_read(dir_fd, dir, true, &ix, &plan, err);
        lindex_free(&ix);
    }
    close(dir_fd);
    if (e == CHR_OK)
        e = hand_over(&plan, out);
    if (e == CHR_OK)
        (*out)->holder_pid = holder;
    return e;
}

/* ---- Recover -------------------------------------------------------------------- */

struct recovering {
    int dir_fd;
    const char *dir, *stamp;
    struct chr_error *err;
};

static bool stamp_ok(const char *s)
{
    size_t n = s == NULL ? 0 : strlen(s);
    for (size_t i = 0; i < n; i++)
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'A' && s[i] <= 'Z') ||
              (s[i] >= 'a' && s[i] <= 'z') || s[i] == '-'))
            return false;
    return n >= 1 && n <= 24;
}

/* Gives the file a second name, "<name>.<kind>-<stamp>", never replacing one. */
static enum chr_err link_aside(struct recovering *rc, struct chr_store_file_report *fr,
                               const char *kind)
{
    snprintf(fr->aside, sizeof fr->aside, "%s.%s-%s", fr->name, kind, rc->stamp);
    if (linkat(rc->dir_fd, fr->name, rc->dir_fd, fr->aside, 0) == 0)
        return CHR_OK;
    enum chr_err e = path_error(rc->err, errno == EEXIST ? CHR_ECONFLICT : CHR_EIO, rc->dir,
                                fr->aside, "give the damaged file this name");
    fr->aside[0] = '\0';
    return e;
}

/* Writes the first `keep` bytes of the file to RECOVER_TMP, fsync'd. */
static enum chr_err write_prefix(struct recovering *rc, const char *name, uint64_t keep)
{
    struct lfile f;
    enum chr_err e = lfile_read(rc->dir_fd, name, false, &f);
    if (e != CHR_OK)
        return path_error(rc->err, e == CHR_ENOENT ? CHR_EIO : e, rc->dir, name, "read");
    int fd = openat(rc->dir_fd, RECOVER_TMP, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    size_t done = 0;
    while (fd >= 0 && done < keep && keep <= f.len) {
        ssize_t w = write(fd, f.p + done, (size_t)keep - done);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            break;
        done += (size_t)w;
    }
    bool ok = fd >= 0 && done == keep && fsync(fd) == 0;
    if (fd >= 0 && close(fd) != 0)
        ok = false;
    lfile_done(&f);
    return ok ? CHR_OK : path_error(rc->err, CHR_EIO, rc->dir, RECOVER_TMP, "write");
}

static enum chr_err drop_name(struct recovering *rc, const char *name)
{
    if (unlinkat(rc->dir_fd, name, 0) == 0)
        return CHR_OK;
    return path_error(rc->err, CHR_EIO, rc->dir, name, "remove the name (it is set aside)");
}

/* Sets file i aside when it is damaged or after the damage. */
static enum chr_err set_aside(struct recovering *rc, struct lplan *plan, int i)
{
    struct chr_store_file_report *fr = &plan->rep.files[i];
    if (fr->state == CHR_STORE_FILE_AFTER) {
        enum chr_err e = link_aside(rc, fr, "after-damage");
        return e != CHR_OK ? e : drop_name(rc, fr->name);
    }
    if (fr->state != CHR_STORE_FILE_DAMAGED)
        return CHR_OK;
    bool keep = i == plan->stop && plan->keep_bytes > 0;
    enum chr_err e = keep ? write_prefix(rc, fr->name, plan->keep_bytes) : CHR_OK;
    if (e == CHR_OK)
        e = link_aside(rc, fr, "damaged");
    if (e != CHR_OK && keep)
        unlinkat(rc->dir_fd, RECOVER_TMP, 0);
    if (e != CHR_OK || !keep)
        return e != CHR_OK ? e : drop_name(rc, fr->name);
    if (renameat(rc->dir_fd, RECOVER_TMP, rc->dir_fd, fr->name) != 0)
        return path_error(rc->err, CHR_EIO, rc->dir, fr->name, "replace it by its intact part");
    return CHR_OK;
}

/* Opens the recovered store once (it makes a new log, drops stale ones) and
 * checks that it holds the history recover meant to keep. */
static enum chr_err reopen(const char *dir, const struct lplan *plan, struct chr_error *err)
{
    struct chr_store *s = NULL;
    enum chr_err e = chr_store_open_local(dir, NULL, &s, err);
    if (e != CHR_OK)
        return e;
    struct chr_store_stats st;
    chr_store_stats(s, &st);
    chr_store_close(s);
    chr_error_clear(err);
    if (st.seq != plan->rep.kept_seq)
        return chr_error_set(err, CHR_EIO, dir, "after recovery the store holds records through "
                             "%llu, not %llu as planned", (unsigned long long)st.seq,
                             (unsigned long long)plan->rep.kept_seq);
    return CHR_OK;
}

/* Under the lock: reads the store and, when damaged, sets files aside. */
static enum chr_err recover_locked(struct recovering *rc, struct lplan *plan)
{
    unlinkat(rc->dir_fd, RECOVER_TMP, 0); /* from a recover cut short */
    struct lindex ix;
    enum chr_err e = lindex_init(&ix);
    if (e != CHR_OK)
        return e;
    e = lcheck_read(rc->dir_fd, rc->dir, false, &ix, plan, rc->err);
    lindex_free(&ix);
    if (e != CHR_OK || !plan->rep.damaged)
        return e;
    for (size_t i = 0; i < plan->rep.n && e == CHR_OK; i++)
        e = set_aside(rc, plan, (int)i);
    if (e == CHR_OK && fsync(rc->dir_fd) != 0)
        e = path_error(rc->err, CHR_EIO, rc->dir, "", "sync the directory");
    return e;
}

enum chr_err chr_store_recover_local(const char *dir, const char *stamp,
                                     struct chr_store_report **out, struct chr_error *err)
{
    chr_error_clear(err);
    *out = NULL;
    if (!stamp_ok(stamp))
        return chr_error_set(err, CHR_EINVAL, "stamp", "expected 1-24 of [0-9A-Za-z-]");
    enum chr_err e;
    struct recovering rc = {.dir = dir, .stamp = stamp, .err = err};
    rc.dir_fd = open_store_dir(dir, err, &e);
    if (rc.dir_fd < 0)
        return e;
    int lock_fd = openat(rc.dir_fd, "LOCK", O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    struct lplan plan = {.rep = {.files = NULL}};
    if (lock_fd < 0) {
        e = path_error(err, CHR_EIO, dir, "LOCK", "open");
    } else if (flock(lock_fd, LOCK_EX | LOCK_NB) != 0) {
        e = errno != EWOULDBLOCK ? path_error(err, CHR_EIO, dir, "LOCK", "lock")
                                 : llock_busy(lock_fd, dir, err);
    } else {
        llock_note(lock_fd);
        e = recover_locked(&rc, &plan);
    }
    if (lock_fd >= 0)
        close(lock_fd); /* lets the open below take the lock */
    close(rc.dir_fd);
    if (e == CHR_OK && plan.rep.damaged)
        e = reopen(dir, &plan, err);
    if (e == CHR_OK)
        return hand_over(&plan, out);
    lplan_free(&plan);
    return e;
}
