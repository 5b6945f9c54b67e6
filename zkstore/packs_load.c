/*
 * packs_load.c - loading the jobs through their packs (packs.h): per shard,
 * the pack and both listings (a group's, each kind, in one pipelined round);
 * entries of a usable pack confirmed by ZooKeeper in multis of CHECK ops;
 * everything else read node by node.
 */
#define _GNU_SOURCE
#include "zkstore/packs_int.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/alloc.h"
#include "common/assert.h"
#include "common/clock.h"
#include "common/limits.h"
#include "zkstore/pack.h"

/* Entries confirmed per CHECK multi: a stale one costs a round for the rest
 * of its chunk only. */
#define CHECK_CHUNK 32
/* CHECK multis in flight at once.  ZooKeeper answers a session's requests in
 * order, pings included: with a million jobs a group is ~2,000 multis, and
 * sent all at once they kept the pings waiting past the client's timeout
 * (two thirds of the session's), so the load failed on a lost connection. */
#define CHECK_WINDOW 64
/* Rounds of CHECK multis before the rest of a chunk is simply read. */
#define CHECK_ROUNDS 8
/* Shards loaded together (their packs in memory at once). */
#define LOAD_GROUP 16

/* One shard during a load. */
struct lshard {
    unsigned s;
    struct chr_store_names *names[2]; /* jobs, state listings */
    struct chr_store_dirstat st[2];
    struct packset pack;
    bool usable;
    int32_t pack_ver;
    size_t pack_bytes;
    /* Per job name (names[0]): where its bytes come from. */
    /* the pack's entry, NULL: read it; after confirm(), only entries whose
     * versions ZooKeeper confirmed are left */
    const struct chr_pack_entry **ent;
    bool *has_state;                   /* state/<name> is listed */
};


/* A multi of CHECK ops confirming a run of entries of one shard. */
struct chunk {
    struct lshard *ls;
    size_t idx[CHECK_CHUNK];     /* job indices in ls */
    size_t n;
    struct chr_store_op op[2 * CHECK_CHUNK];
    char *paths; /* the ops' paths, end to end (a million jobs make ~2,000
                    chunks a group: 64 paths of CHR_STORE_PATH_MAX each would
                    take 128 MiB) */
    size_t paths_cap;
    size_t of[2 * CHECK_CHUNK]; /* op -> position in idx */
    size_t n_ops;
    enum chr_err result;
    size_t failed_at; /* the first op that failed */
    struct waiter *w;
};

struct waiter {
    pthread_mutex_t mu;
    pthread_cond_t cond;
    size_t left;
};

static void check_done(void *ctx, enum chr_err result, const struct chr_store_result *res,
                       size_t n)
{
    struct chunk *c = ctx;
    c->result = result;
    c->failed_at = n;
    for (size_t i = 0; res != NULL && i < n; i++) {
        if (res[i].err != CHR_OK) {
            c->failed_at = i;
            break;
        }
    }
    pthread_mutex_lock(&c->w->mu);
    c->w->left--;
    pthread_cond_signal(&c->w->cond); /* the waiter: for room, or for all */
    pthread_mutex_unlock(&c->w->mu);
}

static enum chr_err chunk_build(struct chunk *c, const struct chr_packs *p)
{
    size_t need = 0, root = strlen(p->root), at = 0;
    for (size_t k = 0; k < c->n; k++) /* "<root>/state/xx/<name>\0" at most, twice */
        need += 2 * (root + 11 + strlen(c->ls->ent[c->idx[k]]->name));
    if (need > c->paths_cap) {
        char *more = chr_realloc(c->paths, need);
        if (more == NULL)
            return CHR_ENOMEM;
        c->paths = more;
        c->paths_cap = need;
    }
    c->n_ops = 0;
    for (size_t k = 0; k < c->n; k++) {
        struct lshard *ls = c->ls;
        const struct chr_pack_entry *e = ls->ent[c->idx[k]];
        for (int kind = 0; kind < 2; kind++) {
            int32_t ver = kind == 0 ? e->ver_a : e->ver_b;
            if (ver < 0)
                continue; /* no state node: its absence is the listing's */
            char *path = c->paths + at;
            int w = snprintf(path, need - at, "%s/%s/%02x/%s", p->root, packs_kinds[kind],
                             ls->s, e->name);
            CHR_ASSERT(w > 0 && (size_t)w < need - at); /* counted above */
            at += (size_t)w + 1;
            c->op[c->n_ops] = (struct chr_store_op){CHR_STORE_CHECK, path, NULL, 0, ver};
            c->of[c->n_ops++] = k;
        }
    }
    return CHR_OK;
}

/* What a round of CHECK multis said: confirmed entries, stale ones (read),
 * the rest of failed chunks left for the next round. */
static enum chr_err confirm_results(struct chunk *ch, size_t n_chunks, size_t *stale)
{
    for (size_t c = 0; c < n_chunks; c++) {
        struct chunk *x = &ch[c];
        if (x->n == 0)
            continue;
        if (x->result == CHR_EIO || x->result == CHR_ENOMEM)
            return x->result;
        if (x->result != CHR_OK && x->failed_at >= x->n_ops) {
            (*stale) += x->n; /* failed, but no op says where: read them all */
            for (size_t q = 0; q < x->n; q++)
                x->ls->ent[x->idx[q]] = NULL;
            x->n = 0;
            continue;
        }
        size_t upto = x->result == CHR_OK ? x->n : x->of[x->failed_at];
        if (x->result == CHR_OK) {
            x->n = 0;
            continue;
        }
        x->ls->ent[x->idx[upto]] = NULL; /* stale: read it */
        (*stale)++;
        memmove(x->idx, x->idx + upto + 1, (x->n - upto - 1) * sizeof x->idx[0]);
        x->n -= upto + 1;
    }
    return CHR_OK;
}

/* Confirms the candidates of the group's shards, in rounds of pipelined CHECK
 * multis.  A failed chunk confirms what came before its failing op; the entry
 * of that op is stale (read); the rest go again next round. */
static enum chr_err confirm(struct chr_packs *p, struct lshard *ls, size_t n_ls, size_t *stale)
{
    size_t n_chunks = 0;
    for (size_t i = 0; i < n_ls; i++) {
        size_t cand = 0;
        for (size_t j = 0; ls[i].names[0] != NULL && j < ls[i].names[0]->n; j++)
            cand += ls[i].ent[j] != NULL;
        n_chunks += (cand + CHECK_CHUNK - 1) / CHECK_CHUNK;
    }
    if (n_chunks == 0)
        return CHR_OK;
    struct chunk *ch = chr_calloc(n_chunks, sizeof *ch);
    if (ch == NULL)
        return CHR_ENOMEM;
    struct waiter w;
    pthread_mutex_init(&w.mu, NULL);
    pthread_cond_init(&w.cond, NULL);
    size_t k = 0;
    for (size_t i = 0; i < n_ls; i++) {
        for (size_t j = 0; ls[i].names[0] != NULL && j < ls[i].names[0]->n; j++) {
            if (ls[i].ent[j] == NULL)
                continue;
            if (ch[k].n == CHECK_CHUNK)
                k++;
            ch[k].ls = &ls[i];
            ch[k].w = &w;
            ch[k].idx[ch[k].n++] = j;
        }
        if (k < n_chunks && ch[k].n > 0)
            k++;
    }
    enum chr_err e = CHR_OK;
    for (int round = 0; round < CHECK_ROUNDS && e == CHR_OK; round++) {
        size_t sent = 0;
        w.left = 0;
        for (size_t c = 0; c < n_chunks && e == CHR_OK; c++) {
            if (ch[c].n == 0)
                continue;
            if ((e = chunk_build(&ch[c], p)) != CHR_OK)
                break;
            pthread_mutex_lock(&w.mu);
            while (w.left >= CHECK_WINDOW)
                pthread_cond_wait(&w.cond, &w.mu);
            w.left++;
            pthread_mutex_unlock(&w.mu);
            e = chr_store_submit(p->cfg.store, ch[c].op, ch[c].n_ops, check_done, &ch[c]);
            if (e == CHR_EUNAVAIL && chr_store_flush(p->cfg.store) == CHR_OK)
                e = chr_store_submit(p->cfg.store, ch[c].op, ch[c].n_ops, check_done, &ch[c]);
            if (e != CHR_OK) {
                pthread_mutex_lock(&w.mu);
                w.left--;
                pthread_mutex_unlock(&w.mu);
                break;
            }
            sent++;
        }
        pthread_mutex_lock(&w.mu);
        while (w.left > 0)
            pthread_cond_wait(&w.cond, &w.mu);
        pthread_mutex_unlock(&w.mu);
        if (e != CHR_OK || sent == 0)
            break;
        e = confirm_results(ch, n_chunks, stale);
    }
    /* Whatever is left unconfirmed is read. */
    for (size_t c = 0; c < n_chunks; c++) {
        for (size_t q = 0; q < ch[c].n; q++)
            ch[c].ls->ent[ch[c].idx[q]] = NULL;
        chr_free(ch[c].paths);
    }
    pthread_cond_destroy(&w.cond);
    pthread_mutex_destroy(&w.mu);
    chr_free(ch);
    return e;
}

static void lshard_free(struct lshard *ls)
{
    chr_store_names_free(ls->names[0]);
    chr_store_names_free(ls->names[1]);
    packs_set_free(&ls->pack);
    chr_free(ls->ent);
    chr_free(ls->has_state);
    memset(ls, 0, sizeof *ls);
}

/* Lists the two directories (jobs, state) of every shard of the group in
 * one pipelined round: ls[i].names and ls[i].st (a directory not there: no
 * names). */
static enum chr_err lshards_list(struct chr_packs *p, struct lshard *ls, size_t n_ls)
{
    char paths[2 * LOAD_GROUP][CHR_STORE_PATH_MAX];
    const char *ptrs[2 * LOAD_GROUP];
    struct chr_store_names *names[2 * LOAD_GROUP];
    struct chr_store_dirstat st[2 * LOAD_GROUP];
    enum chr_err errs[2 * LOAD_GROUP];
    for (size_t k = 0; k < 2 * n_ls; k++) {
        packs_dir_path(paths[k], p, (int)(k % 2), ls[k / 2].s);
        ptrs[k] = paths[k];
    }
    enum chr_err e = chr_store_children_stat_many(p->cfg.store, ptrs, 2 * n_ls, names, st, errs);
    for (size_t k = 0; k < 2 * n_ls && e == CHR_OK; k++)
        if (errs[k] != CHR_OK && errs[k] != CHR_ENOENT)
            e = errs[k];
    for (size_t k = 0; k < 2 * n_ls && e == CHR_OK; k++) {
        ls[k / 2].names[k % 2] = names[k];
        ls[k / 2].st[k % 2] = st[k];
        names[k] = NULL;
    }
    for (size_t k = 0; k < 2 * n_ls; k++)
        chr_store_names_free(names[k]);
    return e;
}

/* Decides, per job of a listed shard, pack or read. */
static enum chr_err lshard_open(struct chr_packs *p, struct lshard *ls, struct chr_store_got *pk)
{
    ls->pack_ver = pk->err == CHR_OK ? pk->version : -1;
    ls->pack_bytes = pk->err == CHR_OK ? pk->len : 0;
    if (pk->err == CHR_OK && pk->len > 0 && ls->names[0] != NULL && ls->names[1] != NULL &&
        ls->st[0].cversion >= 0 && ls->st[1].cversion >= 0) {
        struct chr_error err = {{0}, {0}};
        enum chr_err e = packs_set_read(p, ls->s, pk->data, pk->len, &ls->pack, &err);
        if (e != CHR_OK && e != CHR_EINVAL)
            return e;
        if (e != CHR_OK)
            fprintf(stderr, "chronos: pack of shard %02x not used: %s\n", ls->s, err.message);
        ls->pack_bytes = ls->pack.bytes;
        ls->usable = e == CHR_OK &&
                     ls->pack.all.ext_a == (int64_t)ls->st[0].cversion - ls->st[0].version &&
                     ls->pack.all.ext_b == (int64_t)ls->st[1].cversion - ls->st[1].version;
    }
    size_t n = ls->names[0] != NULL ? ls->names[0]->n : 0;
    if (n == 0)
        return CHR_OK;
    ls->ent = chr_calloc(n, sizeof *ls->ent);
    ls->has_state = chr_calloc(n, sizeof *ls->has_state);
    if (ls->ent == NULL || ls->has_state == NULL)
        return CHR_ENOMEM;
    for (size_t j = 0; j < n; j++) {
        const char *name = ls->names[0]->names[j];
        ls->has_state[j] = packs_listed(ls->names[1], name);
        const struct chr_pack_entry *e = ls->usable ? chr_pack_find(&ls->pack.all, name) : NULL;
        if (e != NULL && (e->ver_b >= 0) == ls->has_state[j])
            ls->ent[j] = e;
    }
    return CHR_OK;
}

/* Reads the jobs of the group that the packs did not give, then hands every
 * job to fn in name order, shard by shard, holding what was read for the
 * packer. */
static enum chr_err deliver(struct chr_packs *p, struct lshard *ls, chr_packs_job_fn *fn,
                            void *ctx, struct chr_packs_load_stats *stats)
{
    size_t n = ls->names[0] != NULL ? ls->names[0]->n : 0;
    char(*paths)[CHR_STORE_PATH_MAX] = NULL;
    const char **ptrs = NULL;
    struct chr_store_got *got = NULL;
    size_t *where = NULL; /* job -> its first read in got, SIZE_MAX: from the pack */
    size_t n_reads = 0;
    for (size_t j = 0; j < n; j++)
        n_reads += ls->ent[j] == NULL ? 1 + ls->has_state[j] : 0;
    enum chr_err e = CHR_OK;
    if (n > 0 && (where = chr_calloc(n, sizeof *where)) == NULL)
        e = CHR_ENOMEM;
    if (e == CHR_OK && n_reads > 0 &&
        ((paths = chr_malloc(n_reads * sizeof *paths)) == NULL ||
         (ptrs = chr_calloc(n_reads, sizeof *ptrs)) == NULL ||
         (got = chr_calloc(n_reads, sizeof *got)) == NULL))
        e = CHR_ENOMEM;
    size_t k = 0;
    for (size_t j = 0; j < n && e == CHR_OK; j++) {
        where[j] = SIZE_MAX;
        if (ls->ent[j] != NULL)
            continue;
        where[j] = k;
        for (int kind = 0; kind <= (int)ls->has_state[j]; kind++) {
            snprintf(paths[k], CHR_STORE_PATH_MAX, "%s/%s/%02x/%s", p->root, packs_kinds[kind], ls->s,
                     ls->names[0]->names[j]);
            ptrs[k] = paths[k];
            k++;
        }
    }
    for (size_t at = 0; at < n_reads && e == CHR_OK; at += CHR_STORE_GET_MANY_MAX) {
        size_t m = n_reads - at < CHR_STORE_GET_MANY_MAX ? n_reads - at : CHR_STORE_GET_MANY_MAX;
        e = chr_store_get_many(p->cfg.store, ptrs + at, m, got + at);
    }
    for (size_t j = 0; j < n && e == CHR_OK; j++) {
        char path[CHR_STORE_PATH_MAX];
        snprintf(path, sizeof path, "%s/%s/%02x/%s", p->root, packs_kinds[0], ls->s,
                 ls->names[0]->names[j]);
        struct chr_store_got def = {CHR_ENOENT, NULL, 0, -1}, st = {CHR_ENOENT, NULL, 0, -1};
        const struct chr_pack_entry *pe = ls->ent[j];
        if (pe != NULL) {
            def = (struct chr_store_got){CHR_OK, (void *)pe->a, pe->len_a, pe->ver_a};
            if (pe->ver_b >= 0)
                st = (struct chr_store_got){CHR_OK, (void *)pe->b, pe->len_b, pe->ver_b};
            stats->from_packs++;
        } else {
            def = got[where[j]];
            if (ls->has_state[j])
                st = got[where[j] + 1];
            stats->read++;
            /* Held for the packer: the next pack needs no read of it. */
            pthread_mutex_lock(&p->mu);
            if (def.err == CHR_OK)
                packs_hold(p, ls->s, ls->names[0]->names[j], 0, def.version, def.data, def.len);
            if (def.err == CHR_OK && st.err == CHR_OK)
                packs_hold(p, ls->s, ls->names[0]->names[j], 1, st.version, st.data, st.len);
            pthread_mutex_unlock(&p->mu);
        }
        if (def.err == CHR_OK || def.err == CHR_ENOENT)
            e = fn(ctx, path, &def, &st);
        else
            e = def.err;
    }
    if (got != NULL)
        chr_store_got_free(got, n_reads);
    chr_free(got);
    chr_free(ptrs);
    chr_free(paths);
    chr_free(where);
    return e;
}

enum chr_err chr_packs_load(struct chr_packs *p, chr_packs_job_fn *fn, void *ctx,
                            struct chr_packs_load_stats *stats, struct chr_error *err)
{
    struct chr_packs_load_stats dummy;
    if (stats == NULL)
        stats = &dummy;
    memset(stats, 0, sizeof *stats);
    struct lshard ls[LOAD_GROUP];
    memset(ls, 0, sizeof ls);
    enum chr_err e = CHR_OK;
    for (unsigned g = 0; g < CHR_STORE_SHARDS && e == CHR_OK; g += LOAD_GROUP) {
        char paths[LOAD_GROUP][CHR_STORE_PATH_MAX];
        const char *ptrs[LOAD_GROUP];
        struct chr_store_got pk[LOAD_GROUP];
        for (unsigned i = 0; i < LOAD_GROUP; i++) {
            packs_pack_path(paths[i], p, g + i);
            ptrs[i] = paths[i];
        }
        if ((e = chr_store_get_many(p->cfg.store, ptrs, LOAD_GROUP, pk)) != CHR_OK)
            break;
        for (unsigned i = 0; i < LOAD_GROUP; i++)
            ls[i].s = g + i;
        e = lshards_list(p, ls, LOAD_GROUP);
        for (unsigned i = 0; i < LOAD_GROUP && e == CHR_OK; i++)
            e = lshard_open(p, &ls[i], &pk[i]);
        chr_store_got_free(pk, LOAD_GROUP);
        if (e == CHR_OK)
            e = confirm(p, ls, LOAD_GROUP, &stats->stale);
        for (unsigned i = 0; i < LOAD_GROUP && e == CHR_OK; i++) {
            e = deliver(p, &ls[i], fn, ctx, stats);
            struct shard *sh = &p->sh[ls[i].s];
            pthread_mutex_lock(&p->mu);
            for (int kind = 0; kind < 2; kind++)
                sh->ext_known[kind] = (int64_t)ls[i].st[kind].cversion - ls[i].st[kind].version;
            sh->ext_set = true;
            sh->pack_ver = ls[i].pack_ver;
            sh->pack_bytes = ls[i].pack_bytes;
            sh->full = !ls[i].usable;
            sh->built_ms = chr_clock_wall_ms();
            pthread_mutex_unlock(&p->mu);
            stats->bad_shards += !ls[i].usable && ls[i].names[0] != NULL && ls[i].names[0]->n > 0;
        }
        for (unsigned i = 0; i < LOAD_GROUP; i++)
            lshard_free(&ls[i]);
    }
    if (e != CHR_OK)
        return chr_error_set(err, e, "store", "loading jobs: %s", chr_err_message(e));
    if (pthread_create(&p->thread, NULL, packs_packer_main, p) != 0)
        return chr_error_set(err, CHR_ENOMEM, "", "cannot start the packer thread");
    p->started = true;
    return CHR_OK;
}
