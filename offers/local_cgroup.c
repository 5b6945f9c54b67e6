/*
 * local_cgroup.c - a run's own cgroup, made by its supervisor: `mem` as a
 * memory limit (swap included), `cpus` as a CPU quota, a pids limit, and a
 * kill that reaches every member at once.
 *
 * cgroup v2 first: the unified hierarchy, with the memory, cpu and pids
 * controllers where the host lets them be enabled, and cgroup.kill (or
 * cgroup.freeze) for the kill.  A v1 controller mounted on its own (a hybrid
 * host: memory, cpu, pids, freezer) serves what v2 cannot.  Everything is
 * best effort: what cannot be made is left out, the run goes on, and the
 * supervisor's subreaper sweep (local_sweep.c) is the kill of last resort.
 * The directories are recorded in the run directory, so that the server can
 * kill and remove them if the supervisor dies first.
 *
 * Only the supervisor and the server's cleanup of a dead run call this; it
 * never touches a cgroup it did not make (names start "chronos-").
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common/alloc.h"
#include "common/limits.h"
#include "offers/local_int.h"

#define CG_ROOT "/sys/fs/cgroup/"
/* The v2 parent of runs' cgroups when the server's own cannot hold limits. */
#define RUNS_PARENT "chronos-runs"

static const char *const kind_names[CHR_LOCAL_CG_N] = {"v2", "memory", "cpu", "pids", "freezer"};

const char *chr_local_cg_kind_name(int k)
{
    return k >= 0 && k < CHR_LOCAL_CG_N ? kind_names[k] : "?";
}

/* ---- Parsing (pure) ----------------------------------------------------------- */

/* Does the comma list `list` (n bytes) hold `word`? */
static bool has_word(const char *list, size_t n, const char *word)
{
    size_t w = strlen(word);
    for (size_t at = 0; at < n;) {
        size_t len = strcspn(list + at, ",\n");
        if (len > n - at)
            len = n - at;
        if (len == w && strncmp(list + at, word, w) == 0)
            return true;
        at += len + 1;
    }
    return false;
}

static void put_path(char *dst, const char *src, size_t n)
{
    if (n >= CHR_LOCAL_CG_PATH_MAX)
        n = 0; /* too long: as if unknown */
    memcpy(dst, src, n);
    dst[n] = '\0';
}

/* One mountinfo line: "ID PARENT MAJ:MIN ROOT POINT OPTS [TAGS...] - TYPE SRC SUPER". */
static void mount_line(const char *line, size_t n, struct chr_local_cg_host *h)
{
    const char *f[5];
    size_t len[5], k = 0;
    for (const char *p = line; k < 5 && p < line + n; k++) {
        f[k] = p;
        len[k] = strcspn(p, " \n");
        p += len[k] + 1;
    }
    const char *dash = strstr(line, " - ");
    if (k < 5 || dash == NULL || dash > line + n)
        return;
    const char *type = dash + 3, *src = type + strcspn(type, " \n") + 1;
    const char *super = src + strcspn(src, " \n") + 1;
    size_t tlen = strcspn(type, " \n"), slen = strcspn(super, " \n");
    bool v2 = tlen == 7 && strncmp(type, "cgroup2", 7) == 0;
    bool v1 = tlen == 6 && strncmp(type, "cgroup", 6) == 0;
    for (int c = 0; c < CHR_LOCAL_CG_N; c++) {
        bool ours = c == CHR_LOCAL_CG_V2 ? v2 : v1 && has_word(super, slen, kind_names[c]);
        if (ours && h->point[c][0] == '\0') {
            put_path(h->point[c], f[4], len[4]);
            put_path(h->root[c], f[3], len[3]);
        }
    }
}

void chr_local_cg_parse_mounts(const char *mountinfo, struct chr_local_cg_host *h)
{
    for (const char *p = mountinfo; *p != '\0';) {
        size_t n = strcspn(p, "\n");
        mount_line(p, n, h);
        p += n + (p[n] == '\n');
    }
}

void chr_local_cg_parse_self(const char *proc_cgroup, struct chr_local_cg_host *h)
{
    for (const char *p = proc_cgroup; *p != '\0';) {
        size_t n = strcspn(p, "\n");
        const char *c1 = memchr(p, ':', n);
        const char *c2 = c1 ? memchr(c1 + 1, ':', (size_t)(p + n - c1 - 1)) : NULL;
        if (c2 != NULL) {
            size_t clen = (size_t)(c2 - c1 - 1), plen = (size_t)(p + n - c2 - 1);
            for (int c = 0; c < CHR_LOCAL_CG_N; c++) {
                bool ours = c == CHR_LOCAL_CG_V2 ? clen == 0 && c1 - p == 1 && p[0] == '0'
                                                 : has_word(c1 + 1, clen, kind_names[c]);
                if (ours && h->self[c][0] == '\0')
                    put_path(h->self[c], c2 + 1, plen);
            }
        }
        p += n + (p[n] == '\n');
    }
}

bool chr_local_cg_home(const struct chr_local_cg_host *h, int k, char *out, size_t cap)
{
    const char *point = h->point[k], *root = h->root[k], *self = h->self[k];
    if (point[0] == '\0' || self[0] != '/')
        return false;
    size_t rl = strcmp(root, "/") == 0 ? 0 : strlen(root);
    if (strncmp(self, root, rl) != 0 || (self[rl] != '/' && self[rl] != '\0'))
        return false; /* outside what this mount shows */
    const char *rest = self + rl;
    int n = snprintf(out, cap, "%s%s", point, strcmp(rest, "/") == 0 ? "" : rest);
    return n > 0 && (size_t)n < cap && strncmp(out, CG_ROOT, strlen(CG_ROOT) - 1) == 0;
}

long long chr_local_cg_mem_bytes(double mem_mb)
{
    double b = ceil(mem_mb * 1024.0 * 1024.0);
    return b < 4096 ? 4096 : b > 9.0e18 ? (long long)9.0e18 : (long long)b;
}

long chr_local_cg_cpu_quota_us(double cpus)
{
    double q = ceil(cpus * (double)CHR_LOCAL_CG_CPU_PERIOD_US);
    return q < 1000 ? 1000 : q > 1e12 ? (long)1e12 : (long)q;
}

/* ---- Files -------------------------------------------------------------------- */

static bool write_file(const char *dir, const char *name, const char *text)
{
    char path[CHR_LOCAL_CG_PATH_MAX + 64];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    int fd = open(path, O_WRONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0)
        return false;
    size_t n = strlen(text);
    bool ok = write(fd, text, n) == (ssize_t)n;
    close(fd);
    return ok;
}

/* A small control file, NUL-terminated, into buf; false when unreadable. */
static bool read_file(const char *dir, const char *name, char *buf, size_t cap)
{
    char path[CHR_LOCAL_CG_PATH_MAX + 64];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0)
        return false;
    size_t len = 0;
    ssize_t r;
    while (len + 1 < cap && (r = read(fd, buf + len, cap - 1 - len)) > 0)
        len += (size_t)r;
    close(fd);
    buf[len] = '\0';
    return true;
}

static bool exists(const char *dir, const char *name)
{
    char path[CHR_LOCAL_CG_PATH_MAX + 64];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    return access(path, F_OK) == 0;
}

/* The value after "key " in a flat-keyed file (memory.events): -1 if none. */
static long long keyed(const char *dir, const char *name, const char *key)
{
    char buf[4096];
    if (!read_file(dir, name, buf, sizeof buf))
        return -1;
    size_t k = strlen(key);
    for (const char *p = buf; *p != '\0'; p += strcspn(p, "\n") + (p[strcspn(p, "\n")] != '\0'))
        if (strncmp(p, key, k) == 0 && p[k] == ' ')
            return strtoll(p + k + 1, NULL, 10);
    return -1;
}

/* ---- Making it ------------------------------------------------------------------ */

/* The v2 controllers chronos uses, as bits of CHR_LOCAL_CG_*. */
static const struct {
    const char *name;
    unsigned bit;
} v2_ctl[] = {{"memory", CHR_LOCAL_CG_MEM}, {"cpu", CHR_LOCAL_CG_CPUS}, {"pids", CHR_LOCAL_CG_PIDS_MAX}};

/* The controllers a v2 file lists ("memory cpu pids ..."). */
static unsigned v2_listed(const char *dir, const char *file)
{
    char buf[1024], words[1024 + 2];
    if (!read_file(dir, file, buf, sizeof buf))
        return 0;
    snprintf(words, sizeof words, " %s ", buf);
    for (char *p = words; *p; p++)
        if (*p == '\n')
            *p = ' ';
    unsigned bits = 0;
    for (size_t i = 0; i < sizeof v2_ctl / sizeof v2_ctl[0]; i++) {
        char w[32];
        snprintf(w, sizeof w, " %s ", v2_ctl[i].name);
        if (strstr(words, w) != NULL)
            bits |= v2_ctl[i].bit;
    }
    return bits;
}

/* Enables `want` for the children of dir (each on its own: one refused must
 * not stop the others). */
static void v2_enable(const char *dir, unsigned want)
{
    for (size_t i = 0; i < sizeof v2_ctl / sizeof v2_ctl[0]; i++) {
        char w[32];
        snprintf(w, sizeof w, "+%s", v2_ctl[i].name);
        if (want & v2_ctl[i].bit)
            write_file(dir, "cgroup.subtree_control", w);
    }
}

/* Where a run's v2 cgroup goes: under our own cgroup when the controllers
 * the host has can be enabled there; else (our cgroup holds processes, so
 * v2 forbids it) under <mount>/chronos-runs, which holds none. */
static bool v2_parent(const struct chr_local_cg_host *h, char *out, size_t cap)
{
    if (!chr_local_cg_home(h, CHR_LOCAL_CG_V2, out, cap))
        return false;
    const char *point = h->point[CHR_LOCAL_CG_V2];
    unsigned want = v2_listed(point, "cgroup.controllers");
    if (want == 0)
        return true; /* no controller on v2 (a hybrid host): membership and kill only */
    v2_enable(out, want);
    if ((v2_listed(out, "cgroup.subtree_control") & want) == want)
        return true;
    char alt[CHR_LOCAL_CG_PATH_MAX];
    int n = snprintf(alt, sizeof alt, "%s/" RUNS_PARENT, point);
    if (n < 0 || (size_t)n >= sizeof alt || (mkdir(alt, 0755) != 0 && errno != EEXIST))
        return true;
    v2_enable(point, want);
    v2_enable(alt, want);
    if ((v2_listed(alt, "cgroup.subtree_control") & want) == want)
        snprintf(out, cap, "%s", alt);
    return true;
}

/* mkdir parent/name into cg->dir[k]; false when it cannot be made. */
static bool make_dir(struct chr_local_cgroup *cg, int k, const char *parent, const char *name)
{
    int n = snprintf(cg->dir[k], sizeof cg->dir[k], "%s/%s", parent, name);
    if (n < 0 || (size_t)n >= sizeof cg->dir[k] || mkdir(cg->dir[k], 0755) != 0) {
        cg->dir[k][0] = '\0';
        return false;
    }
    return true;
}

static void v2_setup(const struct chr_local_cg_host *h, const char *name,
                     const struct chr_local_resources *res, struct chr_local_cgroup *cg)
{
    char parent[CHR_LOCAL_CG_PATH_MAX], v[64];
    const int k = CHR_LOCAL_CG_V2;
    if (!v2_parent(h, parent, sizeof parent) || !make_dir(cg, k, parent, name))
        return;
    const char *dir = cg->dir[k];
    unsigned have = v2_listed(dir, "cgroup.controllers");
    snprintf(v, sizeof v, "%lld", chr_local_cg_mem_bytes(res->mem_mb));
    if ((have & CHR_LOCAL_CG_MEM) && res->mem_mb > 0 && write_file(dir, "memory.max", v)) {
        cg->of[k] |= CHR_LOCAL_CG_MEM;
        write_file(dir, "memory.swap.max", "0");
    }
    snprintf(v, sizeof v, "%ld %ld", chr_local_cg_cpu_quota_us(res->cpus),
             CHR_LOCAL_CG_CPU_PERIOD_US);
    if ((have & CHR_LOCAL_CG_CPUS) && res->cpus > 0 && write_file(dir, "cpu.max", v))
        cg->of[k] |= CHR_LOCAL_CG_CPUS;
    snprintf(v, sizeof v, "%d", CHR_LOCAL_TASK_PIDS_MAX);
    if ((have & CHR_LOCAL_CG_PIDS_MAX) && write_file(dir, "pids.max", v))
        cg->of[k] |= CHR_LOCAL_CG_PIDS_MAX;
    if (exists(dir, "cgroup.kill") || exists(dir, "cgroup.freeze"))
        cg->of[k] |= CHR_LOCAL_CG_KILL;
}

/* A v1 controller's directory with its limit; left out when the limit
 * cannot be set (or is not needed: v2 has it already). */
static void v1_setup(const struct chr_local_cg_host *h, int k, const char *name,
                     const struct chr_local_resources *res, struct chr_local_cgroup *cg)
{
    static const unsigned bit[CHR_LOCAL_CG_N] = {0, CHR_LOCAL_CG_MEM, CHR_LOCAL_CG_CPUS,
                                                 CHR_LOCAL_CG_PIDS_MAX, CHR_LOCAL_CG_KILL};
    char home[CHR_LOCAL_CG_PATH_MAX], v[64], p[64];
    bool wanted = k == CHR_LOCAL_CG_MEMORY ? res->mem_mb > 0 : k == CHR_LOCAL_CG_CPU ? res->cpus > 0
                                                                                      : true;
    if ((cg->of[CHR_LOCAL_CG_V2] & bit[k]) || !wanted || !chr_local_cg_home(h, k, home, sizeof home) ||
        !make_dir(cg, k, home, name))
        return;
    const char *dir = cg->dir[k];
    bool ok = true;
    if (k == CHR_LOCAL_CG_MEMORY) {
        snprintf(v, sizeof v, "%lld", chr_local_cg_mem_bytes(res->mem_mb));
        ok = write_file(dir, "memory.limit_in_bytes", v);
        if (ok) /* swap too, where the kernel accounts it (after the limit: it must be >= it) */
            write_file(dir, "memory.memsw.limit_in_bytes", v);
    } else if (k == CHR_LOCAL_CG_CPU) {
        snprintf(p, sizeof p, "%ld", CHR_LOCAL_CG_CPU_PERIOD_US);
        snprintf(v, sizeof v, "%ld", chr_local_cg_cpu_quota_us(res->cpus));
        ok = write_file(dir, "cpu.cfs_period_us", p) && write_file(dir, "cpu.cfs_quota_us", v);
    } else if (k == CHR_LOCAL_CG_PIDS) {
        snprintf(v, sizeof v, "%d", CHR_LOCAL_TASK_PIDS_MAX);
        ok = write_file(dir, "pids.max", v);
    }
    if (!ok) {
        rmdir(dir);
        cg->dir[k][0] = '\0';
        return;
    }
    cg->of[k] |= bit[k];
}

static char *read_proc(const char *path, size_t max)
{
    char *text = NULL;
    size_t len = 0;
    if (chr_local_file_read(AT_FDCWD, path, max, &text, &len) != CHR_OK)
        return NULL;
    return text;
}

static void sum_enforced(struct chr_local_cgroup *cg)
{
    cg->enforced = 0;
    for (int k = 0; k < CHR_LOCAL_CG_N; k++)
        if (cg->dir[k][0] != '\0')
            cg->enforced |= cg->of[k];
}

struct chr_local_cg_host *chr_local_cg_host_load(void)
{
    struct chr_local_cg_host *h = chr_calloc(1, sizeof *h);
    char *mounts = read_proc("/proc/self/mountinfo", CHR_LOCAL_MOUNTINFO_MAX);
    char *self = read_proc("/proc/self/cgroup", 64 * 1024);
    if (h != NULL && mounts != NULL && self != NULL) {
        chr_local_cg_parse_mounts(mounts, h);
        chr_local_cg_parse_self(self, h);
    } else {
        chr_free(h);
        h = NULL;
    }
    chr_free(mounts);
    chr_free(self);
    return h;
}

void chr_local_cg_create_on(const struct chr_local_cg_host *h, const char *name,
                            const struct chr_local_resources *res, struct chr_local_cgroup *cg)
{
    memset(cg, 0, sizeof *cg);
    if (h != NULL) {
        v2_setup(h, name, res, cg);
        for (int k = CHR_LOCAL_CG_MEMORY; k < CHR_LOCAL_CG_N; k++)
            v1_setup(h, k, name, res, cg);
    }
    sum_enforced(cg);
}

void chr_local_cg_create(const char *name, const struct chr_local_resources *res,
                         struct chr_local_cgroup *cg)
{
    struct chr_local_cg_host *h = chr_local_cg_host_load();
    chr_local_cg_create_on(h, name, res, cg);
    chr_free(h);
}

/* ---- Using it ------------------------------------------------------------------- */

bool chr_local_cg_enter(struct chr_local_cgroup *cg, pid_t pid)
{
    char v[32];
    snprintf(v, sizeof v, "%ld", (long)pid);
    bool any = false;
    for (int k = 0; k < CHR_LOCAL_CG_N; k++) {
        if (cg->dir[k][0] == '\0')
            continue;
        if (write_file(cg->dir[k], "cgroup.procs", v)) {
            any = true;
        } else {
            rmdir(cg->dir[k]);
            cg->dir[k][0] = '\0';
        }
    }
    sum_enforced(cg);
    return any;
}

/* Calls fn(pid, arg) for each member listed in dir's cgroup.procs; the
 * number of members. */
static size_t each_member(const char *dir, void (*fn)(pid_t, int), int arg)
{
    char path[CHR_LOCAL_CG_PATH_MAX + 32];
    snprintf(path, sizeof path, "%s/cgroup.procs", dir);
    FILE *f = fopen(path, "re");
    if (f == NULL)
        return 0;
    size_t n = 0;
    long pid;
    while (fscanf(f, "%ld", &pid) == 1) {
        n++;
        if (fn != NULL && pid > 1)
            fn((pid_t)pid, arg);
    }
    fclose(f);
    return n;
}

static void send_sig(pid_t pid, int sig)
{
    kill(pid, sig);
}

size_t chr_local_cg_signal(const struct chr_local_cgroup *cg, int sig)
{
    size_t n = 0;
    for (int k = 0; k < CHR_LOCAL_CG_N; k++)
        if (cg->dir[k][0] != '\0')
            n += each_member(cg->dir[k], sig ? send_sig : NULL, sig);
    return n;
}

static void nap_ms(long ms)
{
    struct timespec ts = {0, ms * 1000000L};
    nanosleep(&ts, NULL);
}

/* Freezes dir (v1 freezer.state or v2 cgroup.freeze), so that no member can
 * fork while the members are killed one by one, then thaws it. */
static void freeze_kill(const char *dir, bool v2)
{
    const char *file = v2 ? "cgroup.freeze" : "freezer.state";
    if (!write_file(dir, file, v2 ? "1" : "FROZEN"))
        return;
    for (int i = 0; i < 100; i++) { /* freezing takes a moment: at most ~100 ms */
        char buf[64];
        bool frozen = v2 ? keyed(dir, "cgroup.events", "frozen") == 1
                         : read_file(dir, file, buf, sizeof buf) && strncmp(buf, "FROZEN", 6) == 0;
        if (frozen)
            break;
        nap_ms(1);
    }
    each_member(dir, send_sig, SIGKILL);
    write_file(dir, file, v2 ? "0" : "THAWED");
}

void chr_local_cg_kill(const struct chr_local_cgroup *cg)
{
    const char *v2 = cg->dir[CHR_LOCAL_CG_V2], *fz = cg->dir[CHR_LOCAL_CG_FREEZER];
    if (v2[0] != '\0' && !write_file(v2, "cgroup.kill", "1") && exists(v2, "cgroup.freeze"))
        freeze_kill(v2, true);
    if (fz[0] != '\0')
        freeze_kill(fz, false);
    chr_local_cg_signal(cg, SIGKILL); /* what a hierarchy without a kill holds */
}

bool chr_local_cg_empty(const struct chr_local_cgroup *cg)
{
    return chr_local_cg_signal(cg, 0) == 0;
}

bool chr_local_cg_oom(const struct chr_local_cgroup *cg)
{
    const char *v2 = cg->dir[CHR_LOCAL_CG_V2], *mem = cg->dir[CHR_LOCAL_CG_MEMORY];
    return (v2[0] != '\0' && keyed(v2, "memory.events", "oom_kill") > 0) ||
           (mem[0] != '\0' && keyed(mem, "memory.oom_control", "oom_kill") > 0);
}

void chr_local_cg_remove(struct chr_local_cgroup *cg)
{
    for (int k = 0; k < CHR_LOCAL_CG_N; k++) {
        if (cg->dir[k][0] == '\0')
            continue;
        /* The last members may still be leaving (exited, not yet released). */
        for (int i = 0; i < 100 && rmdir(cg->dir[k]) != 0 && errno == EBUSY; i++)
            nap_ms(2);
        cg->dir[k][0] = '\0';
    }
    sum_enforced(cg);
}

/* ---- The record ------------------------------------------------------------------ */

size_t chr_local_cg_format(const struct chr_local_cgroup *cg, char *buf, size_t cap)
{
    size_t len = 0;
    buf[0] = '\0';
    for (int k = 0; k < CHR_LOCAL_CG_N; k++) {
        if (cg->dir[k][0] == '\0')
            continue;
        int n = snprintf(buf + len, cap - len, "%s %s\n", kind_names[k], cg->dir[k]);
        if (n < 0 || (size_t)n >= cap - len) {
            buf[len] = '\0';
            break;
        }
        len += (size_t)n;
    }
    return len;
}

/* A directory chronos made: under /sys/fs/cgroup, named chronos-..., no "..". */
static bool ours(const char *dir)
{
    const char *base = strrchr(dir, '/');
    return strncmp(dir, CG_ROOT, strlen(CG_ROOT)) == 0 && strstr(dir, "/..") == NULL &&
           base != NULL && strncmp(base + 1, "chronos-", 8) == 0;
}

void chr_local_cg_parse(const char *text, struct chr_local_cgroup *cg)
{
    memset(cg, 0, sizeof *cg);
    for (const char *p = text; *p != '\0';) {
        size_t n = strcspn(p, "\n");
        const char *sp = memchr(p, ' ', n);
        for (int k = 0; sp != NULL && k < CHR_LOCAL_CG_N; k++) {
            size_t dl = (size_t)(p + n - sp - 1);
            if ((size_t)(sp - p) == strlen(kind_names[k]) &&
                strncmp(p, kind_names[k], (size_t)(sp - p)) == 0 && dl < CHR_LOCAL_CG_PATH_MAX) {
                memcpy(cg->dir[k], sp + 1, dl);
                cg->dir[k][dl] = '\0';
                if (!ours(cg->dir[k]))
                    cg->dir[k][0] = '\0';
            }
        }
        p += n + (p[n] == '\n');
    }
}

void chr_local_cg_cleanup(int rundirfd)
{
    char *text = NULL;
    size_t len = 0;
    if (chr_local_file_read(rundirfd, CHR_LOCAL_CGROUP_FILE, CHR_LOCAL_RECORD_MAX, &text, &len) !=
        CHR_OK)
        return;
    struct chr_local_cgroup *cg = chr_calloc(1, sizeof *cg);
    if (cg != NULL) {
        chr_local_cg_parse(text, cg);
        for (int i = 0; i < 50 && !chr_local_cg_empty(cg); i++) {
            chr_local_cg_kill(cg);
            nap_ms(2);
        }
        chr_local_cg_remove(cg);
    }
    chr_free(cg);
    chr_free(text);
}

/* ---- What this host allows ----------------------------------------------------------- */

void chr_local_cgroup_describe(char *buf, size_t cap)
{
    static const char *const what[] = {"mem", "cpus", "pids", "kill"};
    struct chr_local_cgroup *cg = chr_calloc(1, sizeof *cg);
    char name[64];
    snprintf(name, sizeof name, "chronos-probe-%ld", (long)getpid());
    struct chr_local_resources res = {.cpus = 1, .mem_mb = 64, .disk_mb = 0};
    size_t len = 0;
    buf[0] = '\0';
    if (cg != NULL)
        chr_local_cg_create(name, &res, cg);
    for (int b = 0; cg != NULL && b < 4; b++) {
        for (int k = 0; k < CHR_LOCAL_CG_N; k++) {
            if (cg->dir[k][0] == '\0' || !(cg->of[k] & (1u << b)))
                continue;
            int n = snprintf(buf + len, cap - len, "%s%s (%s%s)", len ? ", " : "", what[b],
                             k == CHR_LOCAL_CG_V2 ? "v2" : "v1 ",
                             k == CHR_LOCAL_CG_V2 ? "" : kind_names[k]);
            len = n > 0 && (size_t)n < cap - len ? len + (size_t)n : len;
            break;
        }
    }
    if (cg != NULL)
        chr_local_cg_remove(cg);
    chr_free(cg);
    if (len == 0)
        snprintf(buf, cap, "none");
}
