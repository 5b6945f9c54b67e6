/*
 * local_rundir.c - the run directory of the local resource manager: atomic
 * file writes, its one-line records (claim, pid) and the exit record (JSON),
 * process identities that survive pid reuse and pidfds.
 *
 * Shared by the server and the supervisor, so it keeps no state and starts no
 * thread.  Readers never see a half-written record: every write is a complete
 * temp file renamed (or, for the claim, hard-linked) into place.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "common/alloc.h"
#include "common/assert.h"
#include "common/limits.h"
#include "offers/local_int.h"

/* ---- Files --------------------------------------------------------------- */

static enum chr_err read_fd(int fd, size_t max, char **out, size_t *len)
{
    size_t cap = 512, n = 0;
    char *buf = chr_malloc(cap + 1);
    if (!buf)
        return CHR_ENOMEM;
    for (;;) {
        if (n == cap) {
            if (cap > max)
                break;
            char *bigger = chr_realloc(buf, cap * 2 + 1);
            if (!bigger) {
                chr_free(buf);
                return CHR_ENOMEM;
            }
            buf = bigger;
            cap *= 2;
        }
        ssize_t r = read(fd, buf + n, cap - n);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            chr_free(buf);
            return CHR_EIO;
        }
        if (r == 0)
            break;
        n += (size_t)r;
    }
    if (n > max) {
        chr_free(buf);
        return CHR_ERANGE;
    }
    buf[n] = '\0';
    *out = buf;
    if (len)
        *len = n;
    return CHR_OK;
}

enum chr_err chr_local_file_read(int dirfd, const char *name, size_t max, char **out,
                                 size_t *len)
{
    int fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0)
        return errno == ENOENT ? CHR_ENOENT : CHR_EIO;
    enum chr_err e = read_fd(fd, max, out, len);
    close(fd);
    return e;
}

static bool write_all(int fd, const void *data, size_t len)
{
    const char *p = data;
    while (len > 0) {
        ssize_t w = write(fd, p, len);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return false;
        p += w;
        len -= (size_t)w;
    }
    return true;
}

/* Writes a complete temp file ".<name>.<pid>" under dirfd; its name in tmp. */
static enum chr_err write_temp(int dirfd, const char *name, const void *data, size_t len,
                               bool durable, char *tmp, size_t tmp_cap)
{
    int n = snprintf(tmp, tmp_cap, ".%s.%ld", name, (long)getpid());
    if (n < 0 || (size_t)n >= tmp_cap)
        return CHR_ERANGE;
    int fd = openat(dirfd, tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0640);
    if (fd < 0)
        return CHR_EIO;
    bool ok = write_all(fd, data, len) && (!durable || fsync(fd) == 0);
    if (close(fd) != 0)
        ok = false;
    if (!ok) {
        unlinkat(dirfd, tmp, 0);
        return CHR_EIO;
    }
    return CHR_OK;
}

enum chr_err chr_local_file_write(int dirfd, const char *name, const void *data, size_t len,
                                  bool durable)
{
    char tmp[64];
    enum chr_err e = write_temp(dirfd, name, data, len, durable, tmp, sizeof tmp);
    if (e != CHR_OK)
        return e;
    if (renameat(dirfd, tmp, dirfd, name) != 0) {
        unlinkat(dirfd, tmp, 0);
        return CHR_EIO;
    }
    if (durable && fsync(dirfd) != 0)
        return CHR_EIO;
    return CHR_OK;
}

enum chr_err chr_local_file_record(int dirfd, const char *name, const void *data, size_t len)
{
    int fd = openat(dirfd, name, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0640);
    if (fd < 0)
        return errno == EEXIST ? CHR_ECONFLICT : CHR_EIO;
    /* One fsync commits the new file's data, inode and directory entry
     * together (one journal commit on ext4); the directory's fsync then
     * has nothing left to do but is what POSIX asks for. */
    bool ok = write_all(fd, data, len) && fsync(fd) == 0;
    if (close(fd) != 0)
        ok = false;
    if (ok && fsync(dirfd) != 0)
        ok = false;
    return ok ? CHR_OK : CHR_EIO;
}

enum chr_err chr_local_file_put(int dirfd, const char *name, const void *data, size_t len)
{
    int fd = openat(dirfd, name, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0640);
    if (fd < 0)
        return errno == EEXIST ? CHR_ECONFLICT : CHR_EIO;
    bool ok = write_all(fd, data, len);
    if (close(fd) != 0)
        ok = false;
    return ok ? CHR_OK : CHR_EIO;
}

/* An unnamed file (O_TMPFILE) holding text, linked to `name`: no temp name
 * is unlinked afterwards, so a claim frees no inode (ext4 without a journal
 * skips recently freed inodes one by one in later creations).  CHR_EUNAVAIL
 * where the file system has no O_TMPFILE. */
static enum chr_err create_unnamed(int dirfd, const char *name, const char *text)
{
    int fd = openat(dirfd, ".", O_TMPFILE | O_WRONLY | O_CLOEXEC, 0640);
    if (fd < 0)
        return errno == EOPNOTSUPP || errno == EISDIR || errno == EINVAL ? CHR_EUNAVAIL
                                                                         : CHR_EIO;
    char path[64];
    snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
    enum chr_err e = write_all(fd, text, strlen(text)) ? CHR_OK : CHR_EIO;
    if (e == CHR_OK && linkat(AT_FDCWD, path, dirfd, name, AT_SYMLINK_FOLLOW) != 0)
        e = errno == EEXIST ? CHR_ECONFLICT : errno == ENOENT ? CHR_EUNAVAIL : CHR_EIO;
    close(fd);
    return e;
}

enum chr_err chr_local_file_create(int dirfd, const char *name, const char *text)
{
    enum chr_err e = create_unnamed(dirfd, name, text);
    if (e != CHR_EUNAVAIL)
        return e;
    char tmp[64];
    e = write_temp(dirfd, name, text, strlen(text), false, tmp, sizeof tmp);
    if (e != CHR_OK)
        return e;
    int r = linkat(dirfd, tmp, dirfd, name, 0);
    int saved = errno;
    unlinkat(dirfd, tmp, 0);
    if (r != 0)
        return saved == EEXIST ? CHR_ECONFLICT : CHR_EIO;
    return CHR_OK;
}

enum chr_err chr_local_dir_remove(int dirfd, const char *name)
{
    int fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0)
        return errno == ENOENT ? CHR_OK : CHR_EIO;
    DIR *d = fdopendir(fd);
    if (!d) {
        close(fd);
        return CHR_EIO;
    }
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0)
            unlinkat(fd, de->d_name, 0);
    }
    closedir(d);
    if (unlinkat(dirfd, name, AT_REMOVEDIR) != 0 && errno != ENOENT)
        return CHR_EIO;
    return CHR_OK;
}

/* ---- Process identity -------------------------------------------------------- */

bool chr_local_proc_read(pid_t pid, const char *file, char *buf, size_t cap)
{
    char path[64];
    snprintf(path, sizeof path, "/proc/%ld/%s", (long)pid, file);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return false;
    ssize_t n = read(fd, buf, cap - 1);
    close(fd);
    if (n <= 0)
        return false;
    buf[n] = '\0';
    return true;
}

bool chr_local_proc_stat(pid_t pid, char *state, pid_t *ppid, uint64_t *ticks)
{
    char buf[1024];
    if (!chr_local_proc_read(pid, "stat", buf, sizeof buf))
        return false;
    /* The command name (field 2) may hold spaces and parentheses: fields
     * are counted from the last ')', which field 3 follows after a space. */
    char *p = strrchr(buf, ')');
    if (!p || p[1] != ' ' || !p[2] || p[3] != ' ')
        return false;
    *state = p[2];
    char *end = NULL;
    errno = 0;
    long pp = strtol(p + 4, &end, 10); /* field 4 */
    if (errno != 0 || end == p + 4)
        return false;
    *ppid = (pid_t)pp;
    p++;
    for (int field = 3; field < 22; field++) {
        p = strchr(p + 1, ' ');
        if (!p)
            return false;
    }
    errno = 0;
    unsigned long long v = strtoull(p + 1, &end, 10);
    if (errno != 0 || end == p + 1)
        return false;
    *ticks = v;
    return true;
}

static bool proc_stat(pid_t pid, char *state, uint64_t *ticks)
{
    pid_t ppid;
    return chr_local_proc_stat(pid, state, &ppid, ticks);
}

bool chr_local_proc_start(pid_t pid, uint64_t *ticks)
{
    char state;
    return proc_stat(pid, &state, ticks);
}

bool chr_local_boot_id(char out[CHR_LOCAL_BOOT_ID_LEN + 1])
{
    char *text = NULL;
    size_t len = 0;
    int dirfd = AT_FDCWD;
    if (chr_local_file_read(dirfd, "/proc/sys/kernel/random/boot_id", 128, &text, &len) !=
        CHR_OK)
        return false;
    bool ok = len >= CHR_LOCAL_BOOT_ID_LEN;
    if (ok) {
        memcpy(out, text, CHR_LOCAL_BOOT_ID_LEN);
        out[CHR_LOCAL_BOOT_ID_LEN] = '\0';
    }
    chr_free(text);
    return ok;
}

int chr_local_pidfd_open(pid_t pid)
{
    return (int)syscall(SYS_pidfd_open, pid, 0);
}

int chr_local_pidfd_signal(int pidfd, int sig)
{
    return (int)syscall(SYS_pidfd_send_signal, pidfd, sig, NULL, 0);
}

/* A pidfd for (pid, ticks) of this boot, zombie or not; -1 when gone. */
static int proc_open(pid_t pid, uint64_t ticks, const char *boot_id, bool *zombie)
{
    char now_boot[CHR_LOCAL_BOOT_ID_LEN + 1];
    if (pid <= 0 || !chr_local_boot_id(now_boot) || strcmp(now_boot, boot_id) != 0)
        return -1;
    int fd = chr_local_pidfd_open(pid);
    if (fd < 0)
        return -1;
    fcntl(fd, F_SETFD, FD_CLOEXEC);
    uint64_t now_ticks = 0;
    char state = '?';
    if (!proc_stat(pid, &state, &now_ticks) || now_ticks != ticks) {
        close(fd);
        return -1;
    }
    *zombie = state == 'Z' || state == 'X';
    return fd;
}

int chr_local_proc_watch(pid_t pid, uint64_t ticks, const char *boot_id)
{
    bool zombie = false;
    int fd = proc_open(pid, ticks, boot_id, &zombie);
    if (fd >= 0 && zombie) {
        close(fd);
        return -1;
    }
    return fd;
}

void chr_local_reap(pid_t pid, uint64_t ticks, const char *boot_id)
{
    bool zombie = false;
    int fd = proc_open(pid, ticks, boot_id, &zombie);
    if (fd < 0)
        return;
    if (zombie) {
        siginfo_t si;
        waitid((idtype_t)P_PIDFD, (id_t)fd, &si, WEXITED | WNOHANG); /* ECHILD: not ours */
    }
    close(fd);
}

void chr_local_kill_orphans(pid_t pgid, uint64_t leader_ticks, const char *boot_id)
{
    char now_boot[CHR_LOCAL_BOOT_ID_LEN + 1];
    if (pgid <= 1 || !chr_local_boot_id(now_boot) || strcmp(now_boot, boot_id) != 0)
        return;
    /* A process group id cannot be handed out again while the group has a
     * member, so a group with this id and no leader is still the task's.  A
     * leader with another start time means the id was reused. */
    uint64_t ticks = 0;
    if (chr_local_proc_start(pgid, &ticks) && ticks != leader_ticks)
        return;
    kill(-pgid, SIGKILL);
}

/* ---- One-line records ------------------------------------------------------- */

/* A pid, a process group id: 1..INT32_MAX (a wider value must never turn
 * into a negative pid_t, which kill() takes for a group). */
static bool pid_ok(long long pid)
{
    return pid > 0 && pid <= INT32_MAX;
}

/* What the readers below demand of a record's identity: a pid, start ticks
 * that read back as a long long, and a whole boot id. */
static bool identity_ok(pid_t pid, uint64_t ticks, const char *boot_id)
{
    return pid_ok(pid) && ticks <= INT64_MAX && strlen(boot_id) == CHR_LOCAL_BOOT_ID_LEN;
}

size_t chr_local_claim_format(const struct chr_local_claim *c, char *buf, size_t cap)
{
    CHR_ASSERT(c->abandoned || identity_ok(c->pid, c->ticks, c->boot_id));
    int n = c->abandoned ? snprintf(buf, cap, "%s\n", CHR_LOCAL_ABANDONED)
                         : snprintf(buf, cap, "%ld %" PRIu64 " %s\n", (long)c->pid, c->ticks,
                                    c->boot_id);
    /* Written whole (a cut line would read as another claim or none). */
    CHR_ASSERT(n > 0 && (size_t)n < cap && n <= CHR_LOCAL_RECORD_MAX);
    return (size_t)n;
}

size_t chr_local_pidrec_format(const struct chr_local_pidrec *p, char *buf, size_t cap)
{
    CHR_ASSERT(identity_ok(p->pid, p->ticks, p->boot_id));
    int n = snprintf(buf, cap, "%ld %" PRId64 " %s %" PRIu64 "\n", (long)p->pid, p->start_ms,
                     p->boot_id, p->ticks);
    CHR_ASSERT(n > 0 && (size_t)n < cap && n <= CHR_LOCAL_RECORD_MAX);
    return (size_t)n;
}

/* Reads one number of a record line; advances *p past it and one space. */
static bool take_num(const char **p, long long *out)
{
    char *end = NULL;
    errno = 0;
    long long v = strtoll(*p, &end, 10);
    if (errno != 0 || end == *p)
        return false;
    *out = v;
    *p = end;
    if (**p == ' ')
        (*p)++;
    return true;
}

static bool take_boot_id(const char **p, char out[CHR_LOCAL_BOOT_ID_LEN + 1])
{
    size_t n = strcspn(*p, " \n");
    if (n != CHR_LOCAL_BOOT_ID_LEN)
        return false;
    memcpy(out, *p, n);
    out[n] = '\0';
    *p += n;
    if (**p == ' ')
        (*p)++;
    return true;
}

static enum chr_err read_line_record(int dirfd, const char *name, char **text, size_t *len)
{
    enum chr_err e = chr_local_file_read(dirfd, name, CHR_LOCAL_RECORD_MAX, text, len);
    return e == CHR_ERANGE ? CHR_EINVAL : e;
}

/* The record's text as a C string in buf (CHR_LOCAL_RECORD_MAX + 1 bytes);
 * false when longer. */
static bool record_text(const char *text, size_t len, char *buf)
{
    if (len > CHR_LOCAL_RECORD_MAX)
        return false;
    memcpy(buf, text, len);
    buf[len] = '\0';
    return true;
}

enum chr_err chr_local_claim_parse(const char *text, size_t len, struct chr_local_claim *c)
{
    char buf[CHR_LOCAL_RECORD_MAX + 1];
    memset(c, 0, sizeof *c);
    if (!record_text(text, len, buf))
        return CHR_EINVAL;
    const char *p = buf;
    long long pid = 0, ticks = 0;
    if (strncmp(buf, CHR_LOCAL_ABANDONED, strlen(CHR_LOCAL_ABANDONED)) == 0) {
        c->abandoned = true;
        return CHR_OK;
    }
    if (take_num(&p, &pid) && take_num(&p, &ticks) && take_boot_id(&p, c->boot_id) &&
        pid_ok(pid) && ticks >= 0) {
        c->pid = (pid_t)pid;
        c->ticks = (uint64_t)ticks;
        CHR_ASSERT(identity_ok(c->pid, c->ticks, c->boot_id));
        return CHR_OK;
    }
    memset(c, 0, sizeof *c);
    return CHR_EINVAL;
}

enum chr_err chr_local_claim_read(int dirfd, struct chr_local_claim *c)
{
    char *text = NULL;
    size_t len = 0;
    enum chr_err e = read_line_record(dirfd, CHR_LOCAL_CLAIM_FILE, &text, &len);
    if (e != CHR_OK)
        return e;
    e = chr_local_claim_parse(text, len, c);
    chr_free(text);
    return e;
}

bool chr_local_pidrec_started(const struct chr_local_pidrec *p, int64_t now_ms)
{
    return p->start_ms <= now_ms;
}

enum chr_err chr_local_pidrec_parse(const char *text, size_t len, struct chr_local_pidrec *r)
{
    char buf[CHR_LOCAL_RECORD_MAX + 1];
    memset(r, 0, sizeof *r);
    if (!record_text(text, len, buf))
        return CHR_EINVAL;
    const char *p = buf;
    long long pid = 0, start = 0, ticks = 0;
    if (take_num(&p, &pid) && take_num(&p, &start) && take_boot_id(&p, r->boot_id) &&
        take_num(&p, &ticks) && pid_ok(pid) && ticks >= 0) {
        r->pid = (pid_t)pid;
        r->start_ms = start;
        r->ticks = (uint64_t)ticks;
        CHR_ASSERT(identity_ok(r->pid, r->ticks, r->boot_id));
        return CHR_OK;
    }
    memset(r, 0, sizeof *r);
    return CHR_EINVAL;
}

enum chr_err chr_local_pidrec_read(int dirfd, struct chr_local_pidrec *r)
{
    char *text = NULL;
    size_t len = 0;
    enum chr_err e = read_line_record(dirfd, CHR_LOCAL_PID_FILE, &text, &len);
    if (e != CHR_OK)
        return e;
    e = chr_local_pidrec_parse(text, len, r);
    chr_free(text);
    return e;
}

/* ---- The exit record (JSON) ----------------------------------------------- */

/* The states an exit record may hold (chr_local_exitrec_parse takes these). */
static bool state_final(enum chr_local_state s)
{
    return s == CHR_LOCAL_FINISHED || s == CHR_LOCAL_FAILED || s == CHR_LOCAL_KILLED ||
           s == CHR_LOCAL_DROPPED; /* the supervisor could not start the task */
}

char *chr_local_exitrec_format(const struct chr_local_exitrec *e, size_t *len)
{
    CHR_ASSERT(state_final(e->state) && memchr(e->reason, '\0', sizeof e->reason) != NULL);
    json_t *o = json_pack("{s:s, s:i, s:i, s:i, s:I, s:I, s:I, s:I, s:b, s:b, s:s}", "state",
                          chr_local_state_name(e->state), "pid", (int)e->pid, "exit_code",
                          (int)e->exit_code, "signal", (int)e->signal, "start_ms",
                          (json_int_t)e->start_ms, "end_ms", (json_int_t)e->end_ms,
                          "stdout_bytes", (json_int_t)e->stdout_bytes, "stderr_bytes",
                          (json_int_t)e->stderr_bytes, "stdout_truncated", e->stdout_truncated,
                          "stderr_truncated", e->stderr_truncated, "reason", e->reason);
    if (!o)
        return NULL;
    size_t n = json_dumpb(o, NULL, 0, JSON_COMPACT);
    char *buf = n > 0 ? chr_malloc(n + 2) : NULL;
    if (buf) {
        json_dumpb(o, buf, n, JSON_COMPACT);
        buf[n] = '\n';
        buf[n + 1] = '\0';
        *len = n + 1;
        /* 255 bytes of reason escape to at most 1530: always readable back. */
        CHR_ASSERT(*len <= CHR_LOCAL_RECORD_MAX);
    }
    json_decref(o);
    return buf;
}

static bool state_from_name(const char *name, enum chr_local_state *out)
{
    static const enum chr_local_state ends[] = {CHR_LOCAL_FINISHED, CHR_LOCAL_FAILED,
                                                CHR_LOCAL_KILLED, CHR_LOCAL_DROPPED};
    for (size_t i = 0; i < sizeof ends / sizeof ends[0]; i++)
        if (strcmp(name, chr_local_state_name(ends[i])) == 0) {
            *out = ends[i];
            return true;
        }
    return false;
}

enum chr_err chr_local_exitrec_parse(const char *text, size_t len, struct chr_local_exitrec *e)
{
    memset(e, 0, sizeof *e);
    json_t *o = len <= CHR_LOCAL_RECORD_MAX ? json_loadb(text, len, 0, NULL) : NULL;
    const char *state = NULL, *reason = NULL;
    int pid = 0, code = 0, sig = 0, out_tr = 0, err_tr = 0;
    json_int_t start = 0, end = 0, out_n = 0, err_n = 0;
    enum chr_err r = CHR_EINVAL;
    if (o && json_unpack(o, "{s:s, s:i, s:i, s:i, s:I, s:I, s:I, s:I, s:b, s:b, s:s}", "state",
                         &state, "pid", &pid, "exit_code", &code, "signal", &sig, "start_ms",
                         &start, "end_ms", &end, "stdout_bytes", &out_n, "stderr_bytes", &err_n,
                         "stdout_truncated", &out_tr, "stderr_truncated", &err_tr, "reason",
                         &reason) == 0 &&
        state_from_name(state, &e->state)) {
        e->pid = pid;
        e->exit_code = code;
        e->signal = sig;
        e->start_ms = start;
        e->end_ms = end;
        e->stdout_bytes = out_n;
        e->stderr_bytes = err_n;
        e->stdout_truncated = out_tr != 0;
        e->stderr_truncated = err_tr != 0;
        snprintf(e->reason, sizeof e->reason, "%s", reason);
        CHR_ASSERT(state_final(e->state));
        r = CHR_OK;
    }
    json_decref(o);
    return r;
}

enum chr_err chr_local_exitrec_read(int dirfd, struct chr_local_exitrec *e)
{
    char *text = NULL;
    size_t len = 0;
    enum chr_err r = chr_local_file_read(dirfd, CHR_LOCAL_EXIT_FILE, CHR_LOCAL_RECORD_MAX, &text,
                                         &len);
    if (r != CHR_OK)
        return r == CHR_ERANGE ? CHR_EINVAL : r;
    r = chr_local_exitrec_parse(text, len, e);
    chr_free(text);
    return r;
}
