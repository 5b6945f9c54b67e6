/*
 * local_sweep.c - every process a run left behind, found through /proc.
 *
 * The supervisor is the child subreaper of its task, so a process that
 * leaves the task's process group or session (setsid, setpgrp, a double
 * fork) is re-parented to the supervisor when its parent exits, never to
 * PID 1: it stays a descendant.  The sweep walks the process tree from the
 * supervisor and signals every descendant, checking each against pid reuse
 * (a pidfd taken, then the start time compared).  It is the kill where no
 * cgroup could be made, and a second net where one was.
 *
 * Only the supervisor calls it, on itself.  Reads /proc; no allocation
 * failure leaves anything half done (the next sweep looks again).
 */
#define _GNU_SOURCE
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/alloc.h"
#include "offers/local_int.h"

struct proc {
    pid_t pid, ppid;
    uint64_t ticks;
    bool live; /* not a zombie */
};

static bool read_stat(pid_t pid, struct proc *p)
{
    char state;
    if (!chr_local_proc_stat(pid, &state, &p->ppid, &p->ticks))
        return false;
    p->pid = pid;
    p->live = state != 'Z' && state != 'X';
    return true;
}

/* Every process of /proc into a chr_malloc'd array; NULL when out of memory. */
static struct proc *scan(size_t *n)
{
    *n = 0;
    DIR *d = opendir("/proc");
    if (d == NULL)
        return NULL;
    size_t cap = 1024;
    struct proc *v = chr_malloc(cap * sizeof *v);
    struct dirent *e;
    while (v != NULL && (e = readdir(d)) != NULL) {
        if (!isdigit((unsigned char)e->d_name[0]))
            continue;
        if (*n == cap) {
            struct proc *grown = chr_realloc(v, cap * 2 * sizeof *v);
            if (grown == NULL) {
                chr_free(v);
                v = NULL;
                break;
            }
            v = grown;
            cap *= 2;
        }
        if (read_stat((pid_t)strtol(e->d_name, NULL, 10), &v[*n]))
            (*n)++;
    }
    closedir(d);
    return v;
}

static int by_ppid(const void *a, const void *b)
{
    const struct proc *x = a, *y = b;
    return x->ppid < y->ppid ? -1 : x->ppid > y->ppid;
}

/* Signals one process if it is still the one scanned (same start time). */
static void signal_checked(const struct proc *p, int sig)
{
    int fd = chr_local_pidfd_open(p->pid);
    if (fd < 0)
        return;
    struct proc now;
    if (read_stat(p->pid, &now) && now.ticks == p->ticks)
        chr_local_pidfd_signal(fd, sig);
    close(fd);
}

/* The first index of v (sorted by ppid) whose parent is `parent`. */
static size_t first_child(const struct proc *v, size_t n, pid_t parent)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (v[mid].ppid < parent)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

/* Breadth first from todo[0..tail): children sit together, sorted by
 * parent.  Counts (and signals) every live process met but root. */
static size_t walk(const struct proc *v, size_t n, pid_t root, pid_t *todo, size_t tail, int sig)
{
    size_t head = 0, live = 0;
    while (head < tail) {
        pid_t parent = todo[head++];
        for (size_t i = first_child(v, n, parent); i < n && v[i].ppid == parent; i++) {
            if (v[i].pid == root || tail > n)
                continue;
            todo[tail++] = v[i].pid;
            if (v[i].live) {
                live++;
                if (sig != 0)
                    signal_checked(&v[i], sig);
            }
        }
    }
    return live;
}

size_t chr_local_sweep(pid_t root, int sig)
{
    size_t n = 0;
    struct proc *v = scan(&n);
    pid_t *todo = v ? chr_malloc((n + 1) * sizeof *todo) : NULL;
    if (todo == NULL) {
        chr_free(v);
        return 1; /* cannot tell: never "none left" */
    }
    qsort(v, n, sizeof *v, by_ppid);
    todo[0] = root;
    size_t live = walk(v, n, root, todo, 1, sig);
    chr_free(todo);
    chr_free(v);
    return live;
}

void chr_local_sweep_owned(pid_t root, int (*owner)(pid_t pid, void *ctx), void *ctx,
                           const int *sig, size_t *live, size_t n_owners)
{
    size_t n = 0;
    struct proc *v = scan(&n);
    pid_t *todo = v ? chr_malloc((n + 1) * sizeof *todo) : NULL;
    for (size_t k = 0; k < n_owners; k++)
        live[k] = todo == NULL; /* cannot tell: never "none left" */
    if (todo == NULL) {
        chr_free(v);
        return;
    }
    qsort(v, n, sizeof *v, by_ppid);
    for (size_t i = first_child(v, n, root); i < n && v[i].ppid == root; i++) {
        int k = v[i].pid == root ? -1 : owner(v[i].pid, ctx);
        if (k < 0 || (size_t)k >= n_owners)
            continue;
        if (v[i].live) {
            live[k]++;
            if (sig[k] != 0)
                signal_checked(&v[i], sig[k]);
        }
        todo[0] = v[i].pid;
        live[k] += walk(v, n, root, todo, 1, sig[k]);
    }
    chr_free(todo);
    chr_free(v);
}
