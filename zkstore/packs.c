/*
 * packs.c - packs of jobs and states (packs.h): the bookkeeping of what
 * chronos wrote, and the packer thread that packs shards again.  The load
 * through packs is packs_load.c.
 */
#define _GNU_SOURCE
#include "zkstore/packs_int.h"

#include <malloc.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/alloc.h"
#include "common/clock.h"
#include "common/limits.h"
#include "common/log.h"
#include "zkstore/store.h"
#include "zkstore/pack.h"

/* Packing policy: a shard is packed again when its pack is unusable; when
 * what is held reaches 1/8 of the pack (at least HELD_MIN) and writes to it
 * paused for PACK_QUIET_MS; when it reaches 1/2 (at least HELD_BIG) and the
 * last pack is PACK_GAP_MS old; when the oldest held write is PACK_MAX_AGE_MS
 * old; and, largest first, while all shards hold more than HELD_CAP. */
#define HELD_MIN 4096
#define HELD_BIG (64 * 1024)
#define HELD_CAP ((size_t)64 * 1024 * 1024)
#define PACK_QUIET_MS 5000
#define PACK_GAP_MS 30000
#define PACK_MAX_AGE_MS 300000
/* Time the packer may spend per wakeup (one wakeup a second). */
#define PACK_SLICE_MS 250


const char *const packs_kinds[2] = {CHR_KIND_JOBS, CHR_KIND_STATE};

/* One op of a batch that touched jobs/ or state/. */
struct bop {
    unsigned shard;
    int kind;
    enum chr_store_op_type type;
    char name[CHR_STORE_NAME_MAX + 1];
    char *data;
    size_t len;
    size_t at;
};

struct chr_packs_batch {
    size_t n, cap;
    struct bop *op;
};

static void logf_(const struct chr_packs *p, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void logf_(const struct chr_packs *p, const char *fmt, ...)
{
    if (!p->cfg.verbose)
        return;
    char line[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    chr_log("packs: %s", line);
}

/* ---- Held entries ----------------------------------------------------------------- */

static struct hent *held_find(struct shard *sh, const char *name)
{
    uint64_t v = 0;
    return chr_strmap_get(&sh->held, name, &v) ? (struct hent *)(uintptr_t)v : NULL;
}

static void comp_clear(struct chr_packs *p, struct shard *sh, struct comp *c)
{
    if (c->known) {
        sh->held_bytes -= c->len;
        p->held_bytes -= c->len;
    }
    chr_free(c->bytes);
    memset(c, 0, sizeof *c);
}

static struct hent *held_get(struct shard *sh, const char *name)
{
    struct hent *e = held_find(sh, name);
    if (e != NULL)
        return e;
    e = chr_calloc(1, sizeof *e);
    if (e == NULL || chr_strmap_put(&sh->held, name, (uint64_t)(uintptr_t)e) != CHR_OK) {
        chr_free(e);
        return NULL;
    }
    return e;
}

struct held_filter_ctx {
    struct chr_packs *p;
    struct shard *sh;
    bool (*keep)(const struct hent *e, uint64_t arg);
    uint64_t arg;
};

static bool held_keep(const char *name, uint64_t *val, void *ctx)
{
    (void)name;
    struct held_filter_ctx *f = ctx;
    struct hent *e = (struct hent *)(uintptr_t)*val;
    if (f->keep(e, f->arg))
        return true;
    for (int k = 0; k < 2; k++)
        comp_clear(f->p, f->sh, &e->c[k]);
    chr_free(e);
    return false;
}

/* Keeps the entries `keep` says to keep, frees the rest (and the table's
 * slots once nothing is held). */
static void held_filter(struct chr_packs *p, struct shard *sh,
                        bool (*keep)(const struct hent *e, uint64_t arg), uint64_t arg)
{
    struct held_filter_ctx f = {p, sh, keep, arg};
    sh->first_ms = 0;
    chr_strmap_filter(&sh->held, held_keep, &f);
    if (sh->held.len == 0)
        chr_strmap_free(&sh->held);
}

static bool keep_newer(const struct hent *e, uint64_t seq)
{
    return e->seq > seq;
}

static bool keep_none(const struct hent *e, uint64_t seq)
{
    (void)e;
    (void)seq;
    return false;
}

/* Holds bytes for one node (copies them).  False on no memory: the shard is
 * then packed from reads. */
bool packs_hold(struct chr_packs *p, unsigned s, const char *name, int kind, int32_t ver,
                 const void *bytes, size_t len)
{
    struct shard *sh = &p->sh[s];
    struct hent *e = held_get(sh, name);
    char *copy = chr_malloc(len + 1);
    if (e == NULL || copy == NULL) {
        chr_free(copy);
        sh->full = true;
        return false;
    }
    if (len > 0)
        memcpy(copy, bytes, len);
    comp_clear(p, sh, &e->c[kind]);
    e->c[kind] = (struct comp){true, ver, copy, len};
    e->seq = ++p->seq;
    sh->held_bytes += len;
    p->held_bytes += len;
    int64_t now = chr_clock_wall_ms();
    if (sh->first_ms == 0)
        sh->first_ms = now;
    sh->last_ms = now;
    return true;
}

/* ---- Lifecycle ----------------------------------------------------------------------- */

enum chr_err chr_packs_create(const struct chr_packs_config *cfg, struct chr_packs **out)
{
    if (out == NULL)
        return CHR_EINVAL;
    *out = NULL;
    if (cfg == NULL || cfg->store == NULL || cfg->root == NULL ||
        strlen(cfg->root) >= CHR_STORE_ROOT_MAX ||
        (cfg->fence_path != NULL && strlen(cfg->fence_path) >= CHR_STORE_PATH_MAX))
        return CHR_EINVAL;
    struct chr_packs *p = chr_calloc(1, sizeof *p);
    if (p == NULL)
        return CHR_ENOMEM;
    p->cfg = *cfg;
    snprintf(p->root, sizeof p->root, "%s", strcmp(cfg->root, "/") == 0 ? "" : cfg->root);
    if (cfg->fence_path != NULL)
        snprintf(p->fence, sizeof p->fence, "%s", cfg->fence_path);
    p->cfg.root = p->root;
    p->cfg.fence_path = cfg->fence_path != NULL ? p->fence : NULL;
    for (unsigned s = 0; s < CHR_STORE_SHARDS; s++)
        p->sh[s].pack_ver = -1, p->sh[s].full = true;
    pthread_mutex_init(&p->mu, NULL);
    pthread_mutex_init(&p->build_mu, NULL);
    pthread_cond_init(&p->cond, NULL);
    *out = p;
    return CHR_OK;
}

void packs_pack_path(char out[CHR_STORE_PATH_MAX], const struct chr_packs *p, unsigned s)
{
    snprintf(out, CHR_STORE_PATH_MAX, "%s/packs/%02x", p->root, s);
}

void packs_dir_path(char out[CHR_STORE_PATH_MAX], const struct chr_packs *p, int kind,
                     unsigned s)
{
    snprintf(out, CHR_STORE_PATH_MAX, "%s/%s/%02x", p->root, packs_kinds[kind], s);
}

void packs_part_path(char out[CHR_STORE_PATH_MAX], const struct chr_packs *p, unsigned s,
                     unsigned part)
{
    if (part == 0)
        packs_pack_path(out, p, s);
    else
        snprintf(out, CHR_STORE_PATH_MAX, "%s/packs/%02x.%u", p->root, s, part);
}

void packs_set_free(struct packset *ps)
{
    for (unsigned i = 0; ps->part != NULL && i < ps->n; i++)
        chr_pack_free(&ps->part[i]);
    chr_free(ps->part);
    chr_free(ps->all.e);
    memset(ps, 0, sizeof *ps);
}

/* Parts 1.. of a pack: read (one round trip), decoded, checked against part 0. */
static enum chr_err set_read_rest(struct chr_packs *p, unsigned s, struct packset *ps,
                                  struct chr_error *err)
{
    char(*paths)[CHR_STORE_PATH_MAX] = chr_malloc(ps->n * sizeof *paths);
    const char **ptrs = chr_calloc(ps->n, sizeof *ptrs);
    struct chr_store_got *got = chr_calloc(ps->n, sizeof *got);
    enum chr_err e = paths == NULL || ptrs == NULL || got == NULL ? CHR_ENOMEM : CHR_OK;
    for (unsigned i = 1; i < ps->n && e == CHR_OK; i++) {
        packs_part_path(paths[i], p, s, i);
        ptrs[i] = paths[i];
    }
    if (e == CHR_OK)
        e = chr_store_get_many(p->cfg.store, ptrs + 1, ps->n - 1, got + 1);
    const struct chr_pack *p0 = &ps->part[0];
    for (unsigned i = 1; i < ps->n && e == CHR_OK; i++) {
        struct chr_pack *pi = &ps->part[i];
        ps->bytes += got[i].len;
        if (got[i].err != CHR_OK)
            e = chr_error_set(err, CHR_EINVAL, "pack", "part %u: %s", i, chr_err_message(got[i].err));
        else if ((e = chr_pack_decode(got[i].data, got[i].len, s, pi, err)) != CHR_OK)
            e = e == CHR_ENOMEM ? e : CHR_EINVAL;
        else if (pi->part != i || pi->parts != ps->n || pi->gen != p0->gen ||
                 pi->ext_a != p0->ext_a || pi->ext_b != p0->ext_b)
            e = chr_error_set(err, CHR_EINVAL, "pack", "part %u is of another build", i);
    }
    if (got != NULL) /* zeroed entries free nothing */
        chr_store_got_free(got, ps->n);
    chr_free(got);
    chr_free(ptrs);
    chr_free(paths);
    return e;
}

/* Every part's entries, in order, as one run (names must ascend across parts). */
static enum chr_err set_join(struct packset *ps, struct chr_error *err)
{
    size_t n = 0;
    for (unsigned i = 0; i < ps->n; i++)
        n += ps->part[i].n;
    if (n > 0 && (ps->all.e = chr_calloc(n, sizeof *ps->all.e)) == NULL)
        return CHR_ENOMEM;
    size_t k = 0;
    for (unsigned i = 0; i < ps->n; i++) {
        const struct chr_pack *pi = &ps->part[i];
        if (pi->n > 0 && k > 0 && strcmp(ps->all.e[k - 1].name, pi->e[0].name) >= 0)
            return chr_error_set(err, CHR_EINVAL, "pack", "part %u out of order", i);
        if (pi->n > 0)
            memcpy(ps->all.e + k, pi->e, pi->n * sizeof *pi->e);
        k += pi->n;
    }
    ps->all.n = k;
    return CHR_OK;
}

enum chr_err packs_set_read(struct chr_packs *p, unsigned s, const void *b0, size_t len0,
                            struct packset *ps, struct chr_error *err)
{
    memset(ps, 0, sizeof *ps);
    if ((ps->part = chr_calloc(1, sizeof *ps->part)) == NULL)
        return CHR_ENOMEM;
    ps->n = 1;
    ps->bytes = len0;
    enum chr_err e = chr_pack_decode(b0, len0, s, &ps->part[0], err);
    if (e != CHR_OK)
        return e == CHR_ENOMEM ? e : CHR_EINVAL;
    if (ps->part[0].part != 0)
        return chr_error_set(err, CHR_EINVAL, "pack", "part 0 holds part %u", ps->part[0].part);
    unsigned parts = ps->part[0].parts;
    if (parts > 1) {
        struct chr_pack *more = chr_realloc(ps->part, parts * sizeof *more);
        if (more == NULL)
            return CHR_ENOMEM;
        memset(more + 1, 0, (parts - 1) * sizeof *more);
        ps->part = more;
        ps->n = parts;
        if ((e = set_read_rest(p, s, ps, err)) != CHR_OK)
            return e;
    }
    ps->all = (struct chr_pack){s, ps->part[0].ext_a, ps->part[0].ext_b, 0, NULL, NULL,
                                0, 1, ps->part[0].gen};
    return set_join(ps, err);
}

/* Whether `name` is in a sorted listing. */
bool packs_listed(const struct chr_store_names *names, const char *name)
{
    size_t lo = 0, hi = names != NULL ? names->n : 0;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = strcmp(names->names[mid], name);
        if (c == 0)
            return true;
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return false;
}

enum chr_err chr_packs_make_dirs(struct chr_packs *p, struct chr_error *err)
{
    char dir[CHR_STORE_PATH_MAX];
    snprintf(dir, sizeof dir, "%s/packs", p->root);
    enum chr_err e = chr_store_mkdirs(p->cfg.store, dir);
    struct chr_store_names *names = NULL;
    bool have[CHR_STORE_SHARDS] = {false};
    if (e == CHR_OK && (e = chr_store_children(p->cfg.store, dir, &names)) == CHR_OK) {
        chr_store_shards_listed(names, have);
        chr_store_names_free(names);
    }
    struct chr_store_op *ops = chr_calloc(CHR_STORE_SHARDS, sizeof *ops);
    char(*paths)[CHR_STORE_PATH_MAX] = chr_calloc(CHR_STORE_SHARDS, sizeof *paths);
    size_t n = 0;
    if (e == CHR_OK && (ops == NULL || paths == NULL))
        e = CHR_ENOMEM;
    for (unsigned s = 0; s < CHR_STORE_SHARDS && e == CHR_OK; s++) {
        if (have[s])
            continue;
        packs_pack_path(paths[n], p, s);
        ops[n] = (struct chr_store_op){CHR_STORE_CREATE, paths[n], NULL, 0, -1};
        n++;
    }
    if (e == CHR_OK && n > 0) {
        e = chr_store_submit_wait(p->cfg.store, ops, n, NULL);
        if (e == CHR_ECONFLICT) /* another server made some meanwhile: fine */
            e = CHR_OK;
    }
    chr_free(ops);
    chr_free(paths);
    if (e != CHR_OK)
        chr_error_set(err, e, "store", "cannot create %s: %s", dir, chr_err_message(e));
    return e;
}

/* ---- Batches ------------------------------------------------------------------------- */

enum chr_err chr_packs_note(struct chr_packs *p, struct chr_packs_batch **bp, int kind,
                            const char *name, enum chr_store_op_type type, const char *data,
                            size_t len, size_t at, struct chr_store_op *ops,
                            char (*paths)[CHR_STORE_PATH_MAX], size_t *n_ops, size_t max_ops)
{
    if (kind < 0 || kind > 1 || name == NULL)
        return CHR_EINVAL;
    struct chr_packs_batch *b = *bp;
    if (b == NULL && (b = *bp = chr_calloc(1, sizeof *b)) == NULL)
        return CHR_ENOMEM;
    if (b->n == b->cap) {
        size_t cap = b->cap == 0 ? 8 : b->cap * 2;
        struct bop *op = chr_realloc(b->op, cap * sizeof *op);
        if (op == NULL)
            return CHR_ENOMEM;
        b->op = op;
        b->cap = cap;
    }
    struct bop *o = &b->op[b->n];
    memset(o, 0, sizeof *o);
    enum chr_err e = chr_store_name_encode(name, strlen(name), o->name);
    if (e != CHR_OK)
        return e;
    o->shard = chr_store_shard(name, strlen(name));
    o->kind = kind;
    o->type = type;
    o->at = at;
    if (type == CHR_STORE_CREATE || type == CHR_STORE_SET) {
        if ((o->data = chr_malloc(len + 1)) == NULL)
            return CHR_ENOMEM;
        if (len > 0)
            memcpy(o->data, data, len);
        o->len = len;
    }
    b->n++;
    /* A child created or deleted: its directory's version counts it. */
    if (type == CHR_STORE_CREATE || type == CHR_STORE_DELETE) {
        if (*n_ops >= max_ops)
            return CHR_ERANGE;
        packs_dir_path(paths[*n_ops], p, kind, o->shard);
        ops[*n_ops] = (struct chr_store_op){CHR_STORE_SET, paths[*n_ops], NULL, 0, -1};
        (*n_ops)++;
    }
    /* A job deleted: its shard's pack can no longer vouch for that name. */
    if (type == CHR_STORE_DELETE && kind == 0) {
        if (*n_ops >= max_ops)
            return CHR_ERANGE;
        packs_pack_path(paths[*n_ops], p, o->shard);
        ops[*n_ops] = (struct chr_store_op){CHR_STORE_SET, paths[*n_ops], NULL, 0, -1};
        (*n_ops)++;
    }
    return CHR_OK;
}

void chr_packs_batch_free(struct chr_packs_batch *b)
{
    if (b == NULL)
        return;
    for (size_t i = 0; i < b->n; i++)
        chr_free(b->op[i].data);
    chr_free(b->op);
    chr_free(b);
}

void chr_packs_done(struct chr_packs *p, struct chr_packs_batch *b, enum chr_err result,
                    const struct chr_store_result *results, size_t n)
{
    if (b == NULL)
        return;
    pthread_mutex_lock(&p->mu);
    for (size_t i = 0; i < b->n; i++) {
        struct bop *o = &b->op[i];
        struct shard *sh = &p->sh[o->shard];
        if (result != CHR_OK || results == NULL || o->at >= n) {
            /* Not applied, or unknown: nothing held may be trusted over a read. */
            if (result != CHR_OK)
                sh->full = true;
            continue;
        }
        if (o->type == CHR_STORE_DELETE) {
            struct hent *e = held_find(sh, o->name);
            if (e != NULL)
                comp_clear(p, sh, &e->c[o->kind]);
            if (o->kind == 0)
                sh->full = true; /* the batch emptied the pack */
            sh->last_ms = chr_clock_wall_ms();
            if (sh->first_ms == 0)
                sh->first_ms = sh->last_ms;
        } else {
            packs_hold(p, o->shard, o->name, o->kind, results[o->at].version, o->data, o->len);
        }
    }
    pthread_mutex_unlock(&p->mu);
    chr_packs_batch_free(b);
}

/* ---- Packing ------------------------------------------------------------------------------ */

/* A copy of what is held for one name, taken under the lock. */
struct snap {
    char name[CHR_STORE_NAME_MAX + 1];
    struct comp c[2];
};

static int cmp_snap(const void *a, const void *b)
{
    return strcmp(((const struct snap *)a)->name, ((const struct snap *)b)->name);
}

static void snaps_free(struct snap *sn, size_t n)
{
    for (size_t i = 0; i < n; i++)
        for (int k = 0; k < 2; k++)
            chr_free(sn[i].c[k].bytes);
    chr_free(sn);
}

/* Under the lock: copies of the shard's held entries, sorted by name. */
static enum chr_err snap_held(struct shard *sh, struct snap **out, size_t *n_out)
{
    *out = NULL;
    *n_out = 0;
    if (sh->held.len == 0)
        return CHR_OK;
    struct snap *sn = chr_calloc(sh->held.len, sizeof *sn);
    if (sn == NULL)
        return CHR_ENOMEM;
    size_t n = 0, pos = 0;
    const char *name;
    uint64_t v;
    while (chr_strmap_next(&sh->held, &pos, &name, &v)) {
        const struct hent *e = (const struct hent *)(uintptr_t)v;
        snprintf(sn[n].name, sizeof sn[n].name, "%s", name);
        for (int k = 0; k < 2; k++) {
            if (!e->c[k].known)
                continue;
            sn[n].c[k] = e->c[k];
            if ((sn[n].c[k].bytes = chr_malloc(e->c[k].len + 1)) == NULL) {
                snaps_free(sn, n + 1);
                return CHR_ENOMEM;
            }
            memcpy(sn[n].c[k].bytes, e->c[k].bytes, e->c[k].len);
        }
        n++;
    }
    qsort(sn, n, sizeof *sn, cmp_snap);
    *out = sn;
    *n_out = n;
    return CHR_OK;
}

/* One build of a shard's pack. */
struct bld {
    unsigned s;
    char ppath[CHR_STORE_PATH_MAX];
    struct chr_store_got old;          /* the pack as it is */
    struct chr_store_names *names[2];  /* jobs/, state/ listings */
    int64_t ext[2];                    /* their external counts */
    struct packset olds;               /* the old pack decoded, when usable */
    bool full;                         /* the old pack cannot be built upon */
    uint64_t seq0;                     /* held entries up to here are in this build */
    struct snap *held;
    size_t n_held;
    size_t n;                          /* jobs listed */
    struct chr_pack_entry *ents;
    size_t *rd;                        /* node (2 per job) -> its read, SIZE_MAX: none */
    char (*rpaths)[CHR_STORE_PATH_MAX];
    const char **rptrs;
    struct chr_store_got *got;
    size_t n_reads, kept;
    size_t start[CHR_PACK_PARTS_MAX + 1]; /* part i: kept entries start[i]..start[i+1]-1 */
    unsigned n_parts;
    char *buf[CHR_PACK_PARTS_MAX];        /* each part encoded */
    size_t len[CHR_PACK_PARTS_MAX];
    size_t bytes;                         /* all parts */
    int32_t new_ver;
};

/*
 * The pack as it is, then the listings, then what is held.  The order
 * matters: the pack's version is read first, so a job deleted (which empties
 * the pack) after it makes the final CAS fail, and one deleted before is not
 * listed.  What is held is trusted only while the directories' external
 * counts are the ones it was known true under.
 */
static enum chr_err bld_inputs(struct chr_packs *p, struct bld *b)
{
    enum chr_err e = chr_store_get(p->cfg.store, b->ppath, &b->old.data, &b->old.len,
                                   &b->old.version);
    b->old.err = e;
    if (e == CHR_ENOENT)
        e = CHR_OK; /* the packs dir was removed: the CAS fails below, packs wait */
    for (int kind = 0; kind < 2 && e == CHR_OK; kind++) {
        char dir[CHR_STORE_PATH_MAX];
        struct chr_store_dirstat st;
        packs_dir_path(dir, p, kind, b->s);
        e = chr_store_children_stat(p->cfg.store, dir, &b->names[kind], &st);
        if (e == CHR_ENOENT) /* no such directory: nothing to pack there */
            e = CHR_OK, st = (struct chr_store_dirstat){0, 0};
        b->ext[kind] = (int64_t)st.cversion - st.version;
    }
    if (e != CHR_OK)
        return e;
    pthread_mutex_lock(&p->mu);
    struct shard *sh = &p->sh[b->s];
    b->seq0 = p->seq;
    bool trusted =
        sh->ext_set && sh->ext_known[0] == b->ext[0] && sh->ext_known[1] == b->ext[1];
    b->full = sh->full || sh->pack_ver != b->old.version || !trusted;
    if (trusted) /* else someone else created or deleted nodes: read them all */
        e = snap_held(sh, &b->held, &b->n_held);
    pthread_mutex_unlock(&p->mu);
    if (e == CHR_OK && b->old.err != CHR_OK)
        return CHR_ECONFLICT;
    if (e != CHR_OK || b->full || b->old.len == 0) {
        b->full = true;
        return e;
    }
    struct chr_error err = {{0}, {0}};
    enum chr_err d = packs_set_read(p, b->s, b->old.data, b->old.len, &b->olds, &err);
    b->full = d != CHR_OK || b->olds.all.ext_a != b->ext[0] || b->olds.all.ext_b != b->ext[1];
    return d == CHR_OK || d == CHR_EINVAL ? CHR_OK : d;
}

/* Sets node `kind` of entry en from what is held, else the old pack; false
 * when it must be read. */
static bool bld_source(const struct snap *hs, const struct chr_pack_entry *oe, int kind,
                       struct chr_pack_entry *en)
{
    if (hs != NULL && hs->c[kind].known) {
        if (kind == 0)
            en->ver_a = hs->c[0].ver, en->a = hs->c[0].bytes, en->len_a = hs->c[0].len;
        else
            en->ver_b = hs->c[1].ver, en->b = hs->c[1].bytes, en->len_b = hs->c[1].len;
        return true;
    }
    if (oe == NULL || (kind == 1 && oe->ver_b < 0))
        return false;
    if (kind == 0)
        en->ver_a = oe->ver_a, en->a = oe->a, en->len_a = oe->len_a;
    else
        en->ver_b = oe->ver_b, en->b = oe->b, en->len_b = oe->len_b;
    return true;
}

/* Each listed job's nodes: held, else from the old pack, else read. */
static enum chr_err bld_sources(struct chr_packs *p, struct bld *b)
{
    size_t n = b->n = b->names[0] != NULL ? b->names[0]->n : 0;
    if (n == 0)
        return CHR_OK;
    if ((b->ents = chr_calloc(n, sizeof *b->ents)) == NULL ||
        (b->rd = chr_calloc(2 * n, sizeof *b->rd)) == NULL ||
        (b->rpaths = chr_malloc(2 * n * sizeof *b->rpaths)) == NULL ||
        (b->rptrs = chr_calloc(2 * n, sizeof *b->rptrs)) == NULL ||
        (b->got = chr_calloc(2 * n, sizeof *b->got)) == NULL)
        return CHR_ENOMEM;
    for (size_t j = 0, h = 0; j < n; j++) {
        const char *name = b->names[0]->names[j];
        struct chr_pack_entry *en = &b->ents[j];
        en->name = name;
        en->ver_b = -1;
        while (h < b->n_held && strcmp(b->held[h].name, name) < 0)
            h++;
        const struct snap *hs =
            h < b->n_held && strcmp(b->held[h].name, name) == 0 ? &b->held[h] : NULL;
        const struct chr_pack_entry *oe = b->full ? NULL : chr_pack_find(&b->olds.all, name);
        b->rd[2 * j] = b->rd[2 * j + 1] = SIZE_MAX;
        for (int kind = 0; kind < 1 + (int)packs_listed(b->names[1], name); kind++) {
            if (bld_source(hs, oe, kind, en))
                continue;
            snprintf(b->rpaths[b->n_reads], CHR_STORE_PATH_MAX, "%s/%s/%02x/%s", p->root,
                     packs_kinds[kind], b->s, name);
            b->rptrs[b->n_reads] = b->rpaths[b->n_reads];
            b->rd[2 * j + kind] = b->n_reads++;
        }
    }
    enum chr_err e = CHR_OK;
    for (size_t at = 0; at < b->n_reads && e == CHR_OK; at += CHR_STORE_GET_MANY_MAX) {
        size_t m = b->n_reads - at;
        e = chr_store_get_many(p->cfg.store, b->rptrs + at,
                               m < CHR_STORE_GET_MANY_MAX ? m : CHR_STORE_GET_MANY_MAX,
                               b->got + at);
    }
    return e;
}

/* The entries that go in, in name order: all but jobs gone meanwhile, cut
 * into parts of at most a node each, while they fit CHR_PACK_PARTS_MAX parts
 * (the rest are read at load: not in the pack); then each part encoded. */
static enum chr_err bld_encode(struct bld *b, size_t part_max)
{
    size_t max = part_max > 0 && part_max < CHR_STORE_NODE_MAX ? part_max : CHR_STORE_NODE_MAX;
    size_t budget = max > 256 ? max - 128 : 128, used = 0; /* less the header and trailer */
    b->n_parts = 1;
    for (size_t j = 0; j < b->n; j++) {
        struct chr_pack_entry en = b->ents[j];
        bool ok = true;
        for (int kind = 0; kind < 2; kind++) {
            size_t r = b->rd[2 * j + kind];
            if (r == SIZE_MAX)
                continue;
            if (b->got[r].err != CHR_OK) {
                ok = ok && kind == 1; /* a state gone meanwhile: absent */
                continue;
            }
            if (kind == 0)
                en.ver_a = b->got[r].version, en.a = b->got[r].data, en.len_a = b->got[r].len;
            else
                en.ver_b = b->got[r].version, en.b = b->got[r].data, en.len_b = b->got[r].len;
        }
        size_t sz = chr_pack_entry_size(&en);
        if (!ok || sz > budget)
            continue;
        if (used + sz > budget) { /* the part is full: the next one, if any */
            if (b->n_parts == CHR_PACK_PARTS_MAX)
                continue;
            b->start[b->n_parts++] = b->kept;
            used = 0;
        }
        used += sz;
        b->ents[b->kept++] = en;
    }
    b->start[b->n_parts] = b->kept;
    /* The gen of a pack in parts: the version part 0 gets when the build's
     * CAS succeeds, so parts of another build can never pass for its. */
    int64_t gen = b->n_parts > 1 ? (int64_t)b->old.version + 1 : 0;
    enum chr_err e = CHR_OK;
    for (unsigned i = 0; i < b->n_parts && e == CHR_OK; i++) {
        size_t from = b->start[i], n = b->start[i + 1] - from;
        struct chr_pack np = {b->s, b->ext[0], b->ext[1], n, n > 0 ? b->ents + from : NULL,
                              NULL, i, b->n_parts, gen};
        e = chr_pack_encode(&np, CHR_STORE_NODE_MAX, &b->buf[i], &b->len[i]);
        b->bytes += b->len[i];
    }
    return e;
}

/* Parts 1.. of a pack in parts, each in a batch of its own (a batch holds
 * one node's worth): set, or created when it is not there yet.  Fenced like
 * every leader batch. */
static enum chr_err bld_write_rest(struct chr_packs *p, struct bld *b)
{
    enum chr_err e = CHR_OK;
    for (unsigned i = 1; i < b->n_parts && e == CHR_OK; i++) {
        char path[CHR_STORE_PATH_MAX];
        packs_part_path(path, p, b->s, i);
        struct chr_store_op ops[2];
        size_t k = 0;
        if (p->cfg.fence_path != NULL)
            ops[k++] = (struct chr_store_op){CHR_STORE_CHECK, p->cfg.fence_path, NULL, 0, -1};
        ops[k++] = (struct chr_store_op){CHR_STORE_SET, path, b->buf[i], b->len[i], -1};
        e = chr_store_submit_wait(p->cfg.store, ops, k, NULL);
        if (e == CHR_ENOENT) {
            ops[k - 1].type = CHR_STORE_CREATE;
            e = chr_store_submit_wait(p->cfg.store, ops, k, NULL);
        }
    }
    return e;
}

/* The write: a CAS on the version the pack had when the build began, fenced
 * like every leader batch. */
static enum chr_err bld_write(struct chr_packs *p, struct bld *b)
{
    struct chr_store_op ops[2];
    struct chr_store_result res[2];
    size_t k = 0;
    if (p->cfg.fence_path != NULL)
        ops[k++] = (struct chr_store_op){CHR_STORE_CHECK, p->cfg.fence_path, NULL, 0, -1};
    ops[k++] = (struct chr_store_op){CHR_STORE_SET, b->ppath, b->buf[0], b->len[0],
                                     b->old.version};
    enum chr_err e = bld_write_rest(p, b); /* part 0 last: it makes the others count */
    if (e == CHR_OK)
        e = chr_store_submit_wait(p->cfg.store, ops, k, res);
    b->new_ver = e == CHR_OK ? res[k - 1].version : -1;
    return e;
}

static void bld_free(struct bld *b)
{
    for (unsigned i = 0; i < b->n_parts; i++)
        chr_free(b->buf[i]);
    chr_free(b->rd);
    if (b->got != NULL)
        chr_store_got_free(b->got, b->n_reads);
    chr_free(b->got);
    chr_free(b->rptrs);
    chr_free(b->rpaths);
    chr_free(b->ents);
    snaps_free(b->held, b->n_held);
    packs_set_free(&b->olds);
    chr_store_names_free(b->names[0]);
    chr_store_names_free(b->names[1]);
    chr_free(b->old.data);
}

/* Packs shard s again. */
static enum chr_err build(struct chr_packs *p, unsigned s)
{
    struct bld b;
    memset(&b, 0, sizeof b);
    b.s = s;
    b.old = (struct chr_store_got){CHR_ENOENT, NULL, 0, -1};
    packs_pack_path(b.ppath, p, s);
    enum chr_err e = bld_inputs(p, &b);
    if (e == CHR_OK)
        e = bld_sources(p, &b);
    if (e == CHR_OK)
        e = bld_encode(&b, p->cfg.part_max);
    if (e == CHR_OK)
        e = bld_write(p, &b);
    pthread_mutex_lock(&p->mu);
    struct shard *sh = &p->sh[s];
    if (e == CHR_OK) {
        sh->pack_ver = b.new_ver;
        sh->pack_bytes = b.bytes;
        sh->full = false;
        sh->ext_known[0] = b.ext[0], sh->ext_known[1] = b.ext[1];
        sh->ext_set = true;
        held_filter(p, sh, keep_newer, b.seq0);
        if (sh->held.len > 0) /* changes came meanwhile: still held */
            sh->first_ms = sh->last_ms;
    } else {
        sh->full = true;
    }
    sh->built_ms = chr_clock_wall_ms();
    pthread_mutex_unlock(&p->mu);
    if (e == CHR_OK)
        logf_(p, "packed shard %02x: %zu of %zu jobs, %zu bytes in %u part%s, %zu nodes read", s,
              b.kept, b.n, b.bytes, b.n_parts, b.n_parts == 1 ? "" : "s", b.n_reads);
    bld_free(&b);
    return e;
}

/* Under the lock: how much shard s wants packing now (0: not). */
static int want(const struct chr_packs *p, unsigned s, int64_t now, bool flushing)
{
    const struct shard *sh = &p->sh[s];
    bool any = sh->held.len > 0 || sh->first_ms != 0;
    if (sh->full && (any || sh->pack_bytes > 0))
        return 4;
    if (!any)
        return 0;
    if (flushing || p->held_bytes > HELD_CAP)
        return 1;
    if (now - sh->first_ms >= PACK_MAX_AGE_MS)
        return 3;
    size_t eighth = sh->pack_bytes / 8 > HELD_MIN ? sh->pack_bytes / 8 : HELD_MIN;
    size_t half = sh->pack_bytes / 2 > HELD_BIG ? sh->pack_bytes / 2 : HELD_BIG;
    if (sh->held_bytes >= eighth && now - sh->last_ms >= PACK_QUIET_MS)
        return 2;
    if (sh->held_bytes >= half && now - sh->built_ms >= PACK_GAP_MS)
        return 2;
    return 0;
}

/* Packs up to `max` shards, most wanted (then largest held) first.  Returns
 * how many it packed; stops at a store failure. */
static size_t pack_some(struct chr_packs *p, size_t max, bool flushing, int64_t until_ms)
{
    size_t done = 0;
    bool tried[CHR_STORE_SHARDS] = {false};
    while (done < max && chr_clock_wall_ms() < until_ms) {
        pthread_mutex_lock(&p->mu);
        int64_t now = chr_clock_wall_ms();
        int best_w = 0;
        unsigned best = 0;
        for (unsigned s = 0; s < CHR_STORE_SHARDS; s++) {
            if (tried[s])
                continue;
            int w = want(p, s, now, flushing);
            if (w > best_w || (w == best_w && w > 0 && p->sh[s].held_bytes > p->sh[best].held_bytes))
                best_w = w, best = s;
        }
        bool stop = p->dead || (p->stopping && !flushing);
        pthread_mutex_unlock(&p->mu);
        if (best_w == 0 || stop)
            break;
        tried[best] = true;
        pthread_mutex_lock(&p->build_mu);
        enum chr_err e = build(p, best);
        pthread_mutex_unlock(&p->build_mu);
        if (e == CHR_EIO) {
            pthread_mutex_lock(&p->mu);
            p->dead = true;
            pthread_mutex_unlock(&p->mu);
            break;
        }
        if (e != CHR_OK)
            logf_(p, "packing shard %02x failed: %s", best, chr_err_message(e));
        if (e != CHR_OK && flushing)
            break; /* deposed or failing: stopping matters more */
        done += e == CHR_OK;
    }
    if (done > 0)
        malloc_trim(0); /* held bytes freed in bulk: give the pages back */
    return done;
}

void *packs_packer_main(void *arg)
{
    struct chr_packs *p = arg;
    pthread_mutex_lock(&p->mu);
    while (!p->stopping && !p->dead) {
        struct timespec until = chr_clock_wall_ts(chr_clock_wall_ms() + 1000);
        pthread_cond_timedwait(&p->cond, &p->mu, &until);
        if (p->stopping)
            break;
        pthread_mutex_unlock(&p->mu);
        pack_some(p, CHR_STORE_SHARDS, false, chr_clock_wall_ms() + PACK_SLICE_MS);
        pthread_mutex_lock(&p->mu);
    }
    pthread_mutex_unlock(&p->mu);
    return NULL;
}

/* How many shards a flush would still pack. */
static size_t unpacked_shards(struct chr_packs *p)
{
    size_t n = 0;
    pthread_mutex_lock(&p->mu);
    int64_t now = chr_clock_wall_ms();
    for (unsigned s = 0; s < CHR_STORE_SHARDS; s++)
        n += want(p, s, now, true) > 0;
    pthread_mutex_unlock(&p->mu);
    return n;
}

size_t chr_packs_flush(struct chr_packs *p, int ms)
{
    return pack_some(p, CHR_STORE_SHARDS, true, chr_clock_wall_ms() + ms);
}

void chr_packs_destroy(struct chr_packs *p, int flush_ms)
{
    if (p == NULL)
        return;
    if (p->started) {
        pthread_mutex_lock(&p->mu);
        p->stopping = true;
        pthread_cond_broadcast(&p->cond);
        pthread_mutex_unlock(&p->mu);
        pthread_join(p->thread, NULL);
        size_t flushed = flush_ms > 0 ? chr_packs_flush(p, flush_ms) : 0;
        if (flushed > 0)
            logf_(p, "packed %zu shards before stopping", flushed);
        size_t left = flush_ms > 0 ? unpacked_shards(p) : 0;
        if (left > 0) /* the next load reads their new nodes one by one: slower, not wrong */
            logf_(p, "%zu shards left unpacked at the stop (its %d ms bound ran out, or a write "
                     "failed)", left, flush_ms);
    }
    for (unsigned s = 0; s < CHR_STORE_SHARDS; s++)
        held_filter(p, &p->sh[s], keep_none, 0);
    pthread_cond_destroy(&p->cond);
    pthread_mutex_destroy(&p->build_mu);
    pthread_mutex_destroy(&p->mu);
    chr_free(p);
}
