/*
 * local_collect.c - what happens to a run's directory once the core has
 * durably recorded the run's outcome: it moves out of the way of re-attach,
 * to <runs_dir>/.done/<job>/<run-id>, where its output stays readable, and
 * each job keeps only its newest keep_done_per_job directories (by the time
 * the directory last changed, i.e. its outcome).  So the disk that holds
 * runs is bounded by jobs x kept runs x output caps, and nobody else has to
 * clean up.  keep_done_per_job = 0 deletes at once; a deleted job's kept
 * runs go with chr_local_forget_job.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/alloc.h"
#include "common/limits.h"
#include "offers/local_int.h"

struct kept {
    char name[CHR_LOCAL_RUN_ID_MAX + 1];
    int64_t mtime_ns;
};

static int newest_first(const void *a, const void *b)
{
    const struct kept *x = a, *y = b;
    if (x->mtime_ns != y->mtime_ns)
        return x->mtime_ns > y->mtime_ns ? -1 : 1;
    return strcmp(y->name, x->name); /* ids of one job sort by due time */
}

/* Lists the run dirs under job_fd with their mtimes (chr_malloc'd). */
static size_t list_kept(int job_fd, struct kept **out)
{
    *out = NULL;
    int fd = dup(job_fd);
    DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
    if (!d) {
        if (fd >= 0)
            close(fd);
        return 0;
    }
    size_t n = 0, cap = 0;
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        struct stat st;
        if (!chr_local_run_id_valid(de->d_name) ||
            fstatat(job_fd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0)
            continue;
        if (n == cap) {
            size_t bytes = 0;
            cap = cap ? cap * 2 : 16;
            struct kept *bigger = chr_mul_overflows(cap, sizeof *bigger, &bytes)
                                      ? NULL
                                      : chr_realloc(*out, bytes);
            if (!bigger)
                break;
            *out = bigger;
        }
        snprintf((*out)[n].name, sizeof (*out)[n].name, "%s", de->d_name);
        (*out)[n].mtime_ns = (int64_t)st.st_mtim.tv_sec * 1000000000 + st.st_mtim.tv_nsec;
        n++;
    }
    closedir(d);
    return n;
}

static void prune(int job_fd, int32_t keep)
{
    struct kept *v = NULL;
    size_t n = list_kept(job_fd, &v);
    if (n > (size_t)keep) {
        qsort(v, n, sizeof *v, newest_first);
        for (size_t i = (size_t)keep; i < n; i++)
            chr_local_dir_remove(job_fd, v[i].name);
    }
    chr_free(v);
}

/* Opens (making it) the directory `name` under dirfd. */
static int open_subdir(int dirfd, const char *name)
{
    if (mkdirat(dirfd, name, 0750) != 0 && errno != EEXIST)
        return -1;
    return openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
}

static enum chr_err archive(struct chr_local *l, const char *id)
{
    if (l->keep_done == 0)
        return chr_local_dir_remove(l->runs_fd, id);
    char job[CHR_JOB_NAME_MAX + 1] = "_unknown";
    int fd = openat(l->runs_fd, id, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
    struct chr_local_spec spec;
    if (fd >= 0 && chr_local_spec_read(fd, &spec) == CHR_OK) {
        snprintf(job, sizeof job, "%s", spec.job);
        chr_local_spec_free(&spec);
    }
    if (fd >= 0)
        close(fd);
    int done_fd = open_subdir(l->runs_fd, CHR_LOCAL_DONE_DIR);
    int job_fd = done_fd >= 0 ? open_subdir(done_fd, job) : -1;
    enum chr_err e = job_fd >= 0 ? CHR_OK : CHR_EIO;
    if (e == CHR_OK) {
        chr_local_dir_remove(job_fd, id); /* an earlier copy of the id */
        if (renameat(l->runs_fd, id, job_fd, id) != 0)
            e = errno == ENOENT ? CHR_OK : CHR_EIO;
        else
            prune(job_fd, l->keep_done);
    }
    if (job_fd >= 0)
        close(job_fd);
    if (done_fd >= 0)
        close(done_fd);
    return e;
}

enum chr_err chr_local_collect(struct chr_local *l, const char *run_id)
{
    if (!chr_local_run_id_valid(run_id))
        return CHR_EINVAL;
    pthread_mutex_lock(&l->mu);
    bool tracked = chr_local_find(l, run_id) != NULL;
    pthread_mutex_unlock(&l->mu);
    if (tracked)
        return CHR_ECONFLICT;
    struct chr_local_assess a;
    chr_local_settle(l, run_id, false, &a);
    if (a.kind == CHR_LOCAL_D_ALIVE) {
        close(a.sup_fd);
        return CHR_ECONFLICT;
    }
    if (a.kind == CHR_LOCAL_D_NONE)
        return CHR_OK;
    return archive(l, run_id);
}

/* Collects the ended runs of `job` left in runs_dir (their spec names the
 * job); the others are alive, or tracked, and stay. */
static void collect_ended(struct chr_local *l, const char *job)
{
    int fd = openat(l->runs_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC); /* its own offset */
    DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
    if (d == NULL) {
        if (fd >= 0)
            close(fd);
        return;
    }
    for (struct dirent *de = readdir(d); de != NULL; de = readdir(d)) {
        if (!chr_local_run_id_valid(de->d_name))
            continue;
        int run_fd = openat(l->runs_fd, de->d_name, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
        struct chr_local_spec spec;
        bool mine = false;
        if (run_fd >= 0 && chr_local_spec_read(run_fd, &spec) == CHR_OK) {
            mine = strcmp(spec.job, job) == 0;
            chr_local_spec_free(&spec);
        }
        if (run_fd >= 0)
            close(run_fd);
        if (mine)
            chr_local_collect(l, de->d_name); /* ECONFLICT while it runs: left */
    }
    closedir(d);
}

enum chr_err chr_local_forget_job(struct chr_local *l, const char *job)
{
    if (!chr_local_job_name_ok(job))
        return CHR_EINVAL;
    collect_ended(l, job);
    int done_fd = openat(l->runs_fd, CHR_LOCAL_DONE_DIR, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (done_fd < 0)
        return errno == ENOENT ? CHR_OK : CHR_EIO;
    int job_fd = openat(done_fd, job, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
    enum chr_err e = job_fd >= 0 || errno == ENOENT ? CHR_OK : CHR_EIO;
    if (job_fd >= 0) {
        prune(job_fd, 0);
        close(job_fd);
        if (unlinkat(done_fd, job, AT_REMOVEDIR) != 0 && errno != ENOENT)
            e = CHR_EIO;
    }
    close(done_fd);
    return e;
}

/* The run's directory, live or kept, opened (O_DIRECTORY); -1 when neither. */
static int open_run_dir(const char *runs_dir, const char *job, const char *run_id, bool *live)
{
    char path[PATH_MAX];
    int n = snprintf(path, sizeof path, "%s/%s", runs_dir, run_id);
    int fd = n > 0 && (size_t)n < sizeof path ? open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
                                              : -1;
    *live = fd >= 0;
    if (fd >= 0)
        return fd;
    n = snprintf(path, sizeof path, "%s/.done/%s/%s", runs_dir, job, run_id);
    return n > 0 && (size_t)n < sizeof path ? open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC) : -1;
}

int chr_local_output_open(const char *runs_dir, const char *job, const char *run_id,
                          const char *stream, bool *ended)
{
    *ended = true;
    if (!chr_local_run_id_valid(run_id) || !chr_job_name_valid(job) ||
        (strcmp(stream, "stdout") != 0 && strcmp(stream, "stderr") != 0)) {
        errno = EINVAL;
        return -1;
    }
    bool live = false;
    int dir = open_run_dir(runs_dir, job, run_id, &live);
    if (dir < 0)
        return -1;
    int fd = openat(dir, stream, O_RDONLY | O_CLOEXEC);
    int saved = errno;
    *ended = !live || faccessat(dir, "exit", F_OK, 0) == 0;
    close(dir);
    errno = saved;
    return fd;
}

bool chr_local_output_ended(const char *runs_dir, const char *job, const char *run_id)
{
    bool live = false;
    int dir = open_run_dir(runs_dir, job, run_id, &live);
    if (dir < 0)
        return true; /* gone: nothing more will be written */
    bool ended = !live || faccessat(dir, "exit", F_OK, 0) == 0;
    close(dir);
    return ended;
}
