/*
 * local_check.c - reading a local store's directory whole: what the open,
 * `chronos store check` and `chronos store recover` share.
 *
 * lcheck_read loads the snapshot and replays every log after it into an
 * index, as local_int.h defines the truth, and says for each file what it
 * found: records and seqs, a torn tail, damage.  The rules for one file are
 * local_wal.c's and local_snap.c's; across files:
 *   - a torn tail is cut only at the end of the newest log; in an older log
 *     it is damage (each log was complete and fsync'd before the next began);
 *   - a log that starts past the last record replayed leaves a gap: damage;
 *   - a log wholly covered by an intact snapshot (the next log starts at or
 *     before the snapshot's seq + 1) is stale: its bytes add nothing, so
 *     damage in it is reported but refuses nothing (the open drops it);
 *   - a damaged snapshot is damage; replay then starts from an empty tree,
 *     and only logs from record 1 on (rarely still there) can extend it;
 *   - replay stops at the first damage: nothing after it is applied.
 * The open refuses when anything is damaged; check reports; recover sets
 * the damaged files and those after them aside and keeps the rest.
 *
 * Must never change a file while reading it, delete a damaged one, or take
 * a running server's lock (check takes none; recover refuses when it is
 * held).
 */
#include "zkstore/local_int.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/alloc.h"

/* ---- Files ------------------------------------------------------------------ */

static enum chr_err read_copy(int fd, size_t size, struct lfile *f)
{
    f->copy = chr_malloc(size);
    if (f->copy == NULL)
        return CHR_ENOMEM;
    size_t got = 0;
    while (got < size) {
        ssize_t r = pread(fd, f->copy + got, size - got, (off_t)got);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0)
            return CHR_EIO;
        if (r == 0)
            break; /* cut meanwhile (a server beside check): what is there */
        got += (size_t)r;
    }
    f->p = f->copy;
    f->len = got;
    return CHR_OK;
}

enum chr_err lfile_read(int dir_fd, const char *name, bool copy, struct lfile *f)
{
    static const unsigned char empty[1];
    memset(f, 0, sizeof *f);
    f->p = empty;
    f->fd = -1;
    int fd = openat(dir_fd, name, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return errno == ENOENT ? CHR_ENOENT : CHR_EIO;
    struct stat sb;
    enum chr_err e = CHR_OK;
    if (fstat(fd, &sb) != 0 || sb.st_size < 0 || (uint64_t)sb.st_size > SIZE_MAX / 2) {
        e = CHR_EIO;
    } else if (sb.st_size > 0 && copy) {
        e = read_copy(fd, (size_t)sb.st_size, f);
    } else if (sb.st_size > 0) {
        void *m = mmap(NULL, (size_t)sb.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
        if (m == MAP_FAILED) {
            e = errno == ENOMEM ? CHR_ENOMEM : CHR_EIO;
        } else {
            f->map = m;
            f->p = m;
            f->len = (size_t)sb.st_size;
            f->fd = fd; /* lcold may take it with the mapping */
            return CHR_OK;
        }
    }
    int saved = errno;
    close(fd);
    errno = saved;
    if (e != CHR_OK)
        lfile_done(f);
    return e;
}

void lfile_done(struct lfile *f)
{
    if (f->map != NULL)
        munmap(f->map, f->len);
    if (f->fd >= 0)
        close(f->fd);
    chr_free(f->copy);
    memset(f, 0, sizeof *f);
}

long llock_holder(int lock_fd)
{
    char buf[32];
    ssize_t n = pread(lock_fd, buf, sizeof buf - 1, 0);
    long pid = 0;
    for (ssize_t i = 0; i < n && buf[i] != '\n'; i++) {
        if (buf[i] < '0' || buf[i] > '9' || pid > 99999999)
            return -1;
        pid = pid * 10 + (buf[i] - '0');
    }
    return n > 0 && pid > 0 ? pid : -1;
}

void llock_note(int lock_fd)
{
    char text[24];
    int n = snprintf(text, sizeof text, "%ld\n", (long)getpid());
    bool noted = ftruncate(lock_fd, 0) == 0 && pwrite(lock_fd, text, (size_t)n, 0) == n;
    (void)noted; /* the pid only names the holder in messages */
}

enum chr_err llock_busy(int lock_fd, const char *dir, struct chr_error *err)
{
    char path[512];
    snprintf(path, sizeof path, "%s/LOCK", dir);
    long pid = llock_holder(lock_fd);
    if (pid > 0)
        return chr_error_set(err, CHR_EUNAVAIL, path,
                             "the store is in use by process %ld (a chronos serve?)", pid);
    return chr_error_set(err, CHR_EUNAVAIL, path, "the store is in use by another process");
}

/* ---- Reading the directory ----------------------------------------------------- */

struct reading {
    int dir_fd;
    const char *dir;
    bool copy;
    struct lindex *ix;
    struct lplan *plan;
    struct chr_error *err;
    uint64_t seq;   /* the history replayed so far */
    bool base_lost; /* the snapshot is damaged */
    bool stopped;   /* replay met damage: nothing more is applied */
};

static enum chr_err io_error(struct reading *r, enum chr_err e, const char *name,
                             const char *doing)
{
    if (e == CHR_ENOMEM)
        return e;
    int saved = errno;
    char path[512];
    snprintf(path, sizeof path, "%s/%s", r->dir, name);
    return chr_error_set(r->err, CHR_EIO, path, "cannot %s: %s", doing, strerror(saved));
}

static struct chr_store_file_report *add_file(struct reading *r, const char *name, size_t bytes)
{
    struct chr_store_report *rep = &r->plan->rep;
    struct chr_store_file_report *fr = &rep->files[rep->n++];
    memset(fr, 0, sizeof *fr);
    snprintf(fr->name, sizeof fr->name, "%s", name);
    fr->bytes = bytes;
    return fr;
}

/* Marks the file just added as where damage is (the first one is the
 * store's damage; at `stop`, replay stopped and keep bytes stay good). */
static void mark_damaged(struct reading *r, uint64_t at, const char *what, bool stop,
                         uint64_t keep)
{
    struct lplan *p = r->plan;
    int i = (int)p->rep.n - 1;
    struct chr_store_file_report *fr = &p->rep.files[i];
    fr->state = CHR_STORE_FILE_DAMAGED;
    fr->bad_offset = at;
    snprintf(fr->what, sizeof fr->what, "%.*s", (int)sizeof fr->what - 1, what);
    if (p->damage < 0)
        p->damage = i;
    if (stop) {
        p->stop = i;
        p->keep_bytes = keep;
        r->stopped = true;
    }
}

static enum chr_err read_snap(struct reading *r)
{
    struct lfile f;
    enum chr_err e = lfile_read(r->dir_fd, "snap", r->copy, &f);
    if (e == CHR_ENOENT)
        return CHR_OK;
    if (e != CHR_OK)
        return io_error(r, e, "snap", "read");
    struct chr_store_file_report *fr = add_file(r, "snap", f.len);
    uint64_t seq = 0, nodes = 0, bad = 0;
    char why[LWHAT_MAX];
    /* Mapped (an open, not check or recover's copy): the nodes' data stays
     * in the file, which the index keeps (local_cold.c). */
    bool cold = f.map != NULL && f.fd >= 0;
    e = lsnap_load_buf(r->ix, f.p, f.len, cold, &seq, &nodes, &bad, why);
    if (e == CHR_OK && cold && (e = lcold_create(f.fd, f.map, f.len, &r->ix->cold)) == CHR_OK)
        f.map = NULL, f.fd = -1; /* the index's now */
    lfile_done(&f);
    if (e == CHR_OK) {
        fr->records = nodes;
        fr->first_seq = fr->last_seq = seq;
        r->plan->rep.snap_seq = r->seq = seq;
        return CHR_OK;
    }
    if (e != CHR_EDAMAGED)
        return e;
    mark_damaged(r, bad, why, false, 0);
    r->base_lost = true;
    lindex_free(r->ix); /* it may hold part of the snapshot: start from "/" */
    return lindex_init(r->ix);
}

/* After replay: what the end of log i (its scan in s) means. */
static void log_end(struct reading *r, int i, bool newest, const struct lwal_scan *s)
{
    struct chr_store_file_report *fr = &r->plan->rep.files[i];
    if (s->end == LWAL_END_CLEAN)
        return;
    if (s->end == LWAL_END_TORN && newest) {
        fr->state = CHR_STORE_FILE_TORN;
        fr->bad_offset = s->valid_end;
        snprintf(fr->what, sizeof fr->what, "%s", s->what);
        r->plan->rep.torn = true;
        return;
    }
    char what[LWHAT_MAX + 64];
    snprintf(what, sizeof what, "%s%s", s->what,
             s->end == LWAL_END_TORN ? ", in a log older than the newest (so not a torn write)"
                                     : "");
    mark_damaged(r, s->valid_end, what, true, s->valid_end);
}

/* Applies log i's records past r->seq, unless replay stopped or a gap
 * precedes it. */
static enum chr_err replay_log(struct reading *r, int i, uint64_t first, const struct lfile *f,
                               const struct lwal_scan *s, bool newest)
{
    struct chr_store_file_report *fr = &r->plan->rep.files[i];
    if (r->stopped || (r->base_lost && first > r->seq + 1)) {
        fr->state = CHR_STORE_FILE_AFTER;
        r->stopped = true;
        return CHR_OK;
    }
    if (first > r->seq + 1) {
        char what[LWHAT_MAX];
        snprintf(what, sizeof what, "a log that starts at record %" PRIu64 " while the records "
                 "before it end at %" PRIu64 " (the ones between are missing)", first, r->seq);
        mark_damaged(r, 0, what, true, 0);
        return CHR_OK;
    }
    uint64_t bad = 0;
    char why[LWHAT_MAX];
    enum chr_err e = lwal_replay(r->ix, f->p, s->valid_end, &r->seq, &bad, why);
    if (e == CHR_EDAMAGED) {
        mark_damaged(r, bad, why, true, bad);
        return CHR_OK;
    }
    if (e != CHR_OK)
        return e;
    log_end(r, i, newest, s);
    if (newest && !r->stopped && s->last_seq == r->seq) {
        r->plan->current = i;
        r->plan->current_end = s->valid_end;
    }
    return CHR_OK;
}

static enum chr_err read_log(struct reading *r, uint64_t first, bool covered, bool newest)
{
    char name[24];
    lwal_name(name, first);
    struct lfile f;
    enum chr_err e = lfile_read(r->dir_fd, name, r->copy, &f);
    if (e != CHR_OK)
        return io_error(r, e, name, "read");
    struct lwal_scan s;
    lwal_scan(f.p, f.len, first, &s);
    struct chr_store_file_report *fr = add_file(r, name, f.len);
    fr->records = s.records;
    fr->first_seq = first;
    fr->last_seq = s.last_seq;
    fr->after_records = s.after_records;
    struct chr_store_report *rep = &r->plan->rep;
    uint64_t top = s.after_last_seq > s.last_seq ? s.after_last_seq : s.last_seq;
    if (top > rep->seen_seq)
        rep->seen_seq = top;
    if (covered) {
        fr->state = CHR_STORE_FILE_STALE; /* damage in it loses nothing */
        fr->bad_offset = s.end == LWAL_END_CLEAN ? 0 : s.valid_end;
        if (s.end != LWAL_END_CLEAN)
            snprintf(fr->what, sizeof fr->what, "%.150s (all its records are in the snapshot)",
                     s.what);
    } else {
        e = replay_log(r, (int)rep->n - 1, first, &f, &s, newest);
    }
    lfile_done(&f);
    return e;
}

static enum chr_err read_all(struct reading *r, const uint64_t *firsts, size_t n)
{
    enum chr_err e = read_snap(r);
    uint64_t snap_seq = r->plan->rep.snap_seq;
    if (snap_seq > r->plan->rep.seen_seq)
        r->plan->rep.seen_seq = snap_seq;
    for (size_t i = 0; i < n && e == CHR_OK; i++) {
        bool covered = !r->base_lost && snap_seq > 0 && i + 1 < n && firsts[i + 1] <= snap_seq + 1;
        e = read_log(r, firsts[i], covered, i + 1 == n);
    }
    return e;
}

enum chr_err lcheck_read(int dir_fd, const char *dir, bool copy, struct lindex *ix,
                         struct lplan *plan, struct chr_error *err)
{
    memset(plan, 0, sizeof *plan);
    plan->damage = plan->stop = plan->current = -1;
    struct reading r = {.dir_fd = dir_fd, .dir = dir, .copy = copy, .ix = ix, .plan = plan,
                        .err = err};
    uint64_t *firsts = NULL;
    size_t n = 0;
    enum chr_err e = lwal_list(dir_fd, &firsts, &n);
    if (e != CHR_OK) {
        chr_free(firsts);
        return e == CHR_ENOMEM ? e : chr_error_set(err, CHR_EIO, dir, "cannot list: %s",
                                                   strerror(errno));
    }
    plan->rep.files = chr_calloc(n + 1, sizeof *plan->rep.files);
    e = plan->rep.files == NULL ? CHR_ENOMEM : read_all(&r, firsts, n);
    chr_free(firsts);
    if (e != CHR_OK) {
        lplan_free(plan);
        return e;
    }
    plan->rep.damaged = plan->damage >= 0;
    plan->rep.kept_seq = r.seq;
    plan->rep.nodes = ix->n_nodes;
    return CHR_OK;
}

void lplan_free(struct lplan *plan)
{
    chr_free(plan->rep.files);
    plan->rep.files = NULL;
    plan->rep.n = 0;
}

enum chr_err lplan_damage_error(const struct lplan *plan, const char *dir, struct chr_error *err)
{
    const struct chr_store_file_report *fr = &plan->rep.files[plan->damage];
    char path[512], kept[96];
    snprintf(path, sizeof path, "%s/%s", dir, fr->name);
    if (plan->rep.kept_seq > 0)
        snprintf(kept, sizeof kept, "the history through record %" PRIu64 " is intact",
                 plan->rep.kept_seq);
    else
        snprintf(kept, sizeof kept, "no record before it is intact");
    return chr_error_set(err, CHR_EDAMAGED, path, "at offset %" PRIu64 ", %s; %s",
                         fr->bad_offset, fr->what, kept);
}
