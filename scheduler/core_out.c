/*
 * core_out.c - what one step of the core says: the action array, persist
 * batches and their items, the snapshots those items point to, notes, and
 * the replies that wait for durability.
 *
 * Everything is reused from step to step (arrays grow, never shrink; the
 * snapshot arena keeps its blocks), so a steady state allocates nothing.
 * Handlers first reserve room (core_reserve), then emit: emitting never
 * fails, which is how a handler that ran out of memory leaves no partial
 * state.  Items are collected by offset and their pointers fixed once the
 * step ends, because the arrays may move while the step grows them.
 * No I/O, no clock.
 */
#include "scheduler/core_int.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#define ARENA_BLOCK_MIN (64 * 1024)
#define ALIGN_UP(n) (((n) + sizeof(max_align_t) - 1) & ~(sizeof(max_align_t) - 1))

void core_out_init(struct core_out *o)
{
    memset(o, 0, sizeof *o);
}

void core_out_free(struct core_out *o)
{
    chr_free(o->acts);
    chr_free(o->item_off);
    chr_free(o->items);
    struct core_arena_block *b = o->blocks;
    while (b != NULL) {
        struct core_arena_block *next = b->next;
        chr_free(b);
        b = next;
    }
    memset(o, 0, sizeof *o);
}

void core_out_reset(struct core_out *o)
{
    o->n_acts = 0;
    o->n_items = 0;
    o->batch_open = false;
    for (struct core_arena_block *b = o->blocks; b != NULL; b = b->next)
        b->used = 0;
    o->cur = o->blocks;
}

/* ---- Room ----------------------------------------------------------------- */

static enum chr_err grow(void **p, size_t *cap, size_t need, size_t elem)
{
    if (need <= *cap)
        return CHR_OK;
    size_t n = *cap < 64 ? 64 : *cap, bytes;
    while (n < need)
        n *= 2;
    if (chr_mul_overflows(n, elem, &bytes))
        return CHR_ENOMEM;
    void *q = chr_realloc(*p, bytes);
    if (q == NULL)
        return CHR_ENOMEM;
    *p = q;
    *cap = n;
    return CHR_OK;
}

static enum chr_err grow_acts(struct core_out *o, size_t need)
{
    if (need <= o->cap_acts)
        return CHR_OK;
    size_t cap = o->cap_acts;
    enum chr_err e = grow((void **)&o->item_off, &cap, need, sizeof *o->item_off);
    if (e != CHR_OK)
        return e;
    /* item_off is at least as large as acts from here on. */
    size_t cap2 = o->cap_acts;
    if ((e = grow((void **)&o->acts, &cap2, cap, sizeof *o->acts)) != CHR_OK)
        return e;
    o->cap_acts = cap;
    return CHR_OK;
}

static enum chr_err arena_reserve(struct core_out *o, size_t bytes)
{
    if (o->cur != NULL && o->cur->cap - o->cur->used >= bytes)
        return CHR_OK;
    /* Blocks after cur are unused in this step: take one that is big enough. */
    struct core_arena_block **link = o->cur != NULL ? &o->cur->next : &o->blocks;
    for (struct core_arena_block *b = *link; b != NULL; b = b->next) {
        if (b->cap >= bytes) {
            o->cur = b;
            return CHR_OK;
        }
    }
    size_t cap = bytes > ARENA_BLOCK_MIN ? ALIGN_UP(bytes) : ARENA_BLOCK_MIN;
    struct core_arena_block *nb = chr_malloc(sizeof *nb + cap);
    if (nb == NULL)
        return CHR_ENOMEM;
    nb->cap = cap;
    nb->used = 0;
    nb->next = *link;
    *link = nb;
    o->cur = nb;
    return CHR_OK;
}

static void *arena_take(struct core_out *o, size_t bytes)
{
    bytes = ALIGN_UP(bytes);
    CHR_ASSERT(o->cur != NULL && o->cur->cap - o->cur->used >= bytes);
    void *p = (char *)o->cur->data + o->cur->used;
    o->cur->used += bytes;
    return p;
}

enum chr_err core_reserve(struct chr_core *c, size_t acts, size_t items, size_t bytes)
{
    struct core_out *o = &c->out;
    enum chr_err e;
    if ((e = grow_acts(o, o->n_acts + acts + 1)) != CHR_OK)
        return e;
    if ((e = grow((void **)&o->items, &o->cap_items, o->n_items + items, sizeof *o->items)) !=
        CHR_OK)
        return e;
    return bytes > 0 ? arena_reserve(o, bytes) : CHR_OK;
}

size_t core_state_snap_size(const struct chr_job_state *st)
{
    return ALIGN_UP(sizeof *st) + ALIGN_UP(st->n_parent_successes * sizeof(uint32_t)) +
           ALIGN_UP(st->ledger_len * sizeof(struct chr_ledger_entry)) +
           ALIGN_UP(st->history_len * sizeof(struct chr_run_summary));
}

size_t core_state_snap_bound(const struct chr_core *c, const struct chr_job_state *st)
{
    size_t hist = st->history_len > c->cfg.history_max ? st->history_len : c->cfg.history_max;
    return ALIGN_UP(sizeof *st) + ALIGN_UP(st->n_parent_successes * sizeof(uint32_t)) +
           ALIGN_UP(CHR_LEDGER_MAX * sizeof(struct chr_ledger_entry)) +
           ALIGN_UP(hist * sizeof(struct chr_run_summary));
}

size_t core_run_snap_size(const struct chr_run *r)
{
    return ALIGN_UP(sizeof *r) + (r->arguments != NULL ? ALIGN_UP(strlen(r->arguments) + 1) : 0);
}

static void *copy_in(struct core_out *o, const void *src, size_t bytes)
{
    if (bytes == 0 || src == NULL)
        return NULL;
    void *p = arena_take(o, bytes);
    memcpy(p, src, bytes);
    return p;
}

static const struct chr_job_state *snap_state(struct core_out *o, const struct chr_job_state *st)
{
    struct chr_job_state *s = arena_take(o, sizeof *s);
    *s = *st;
    s->parent_successes =
        copy_in(o, st->parent_successes, st->n_parent_successes * sizeof(uint32_t));
    s->ledger = copy_in(o, st->ledger, st->ledger_len * sizeof *st->ledger);
    s->history = copy_in(o, st->history, st->history_len * sizeof *st->history);
    return s;
}

static const struct chr_run *snap_run(struct core_out *o, const struct chr_run *r)
{
    struct chr_run *s = arena_take(o, sizeof *s);
    *s = *r;
    if (r->arguments != NULL)
        s->arguments = copy_in(o, r->arguments, strlen(r->arguments) + 1);
    return s;
}

/* ---- Actions -------------------------------------------------------------- */

static struct chr_action *act_new(struct core_out *o, enum chr_action_type t)
{
    CHR_ASSERT(o->n_acts < o->cap_acts);
    struct chr_action *a = &o->acts[o->n_acts++];
    memset(a, 0, offsetof(struct chr_action, u) + sizeof a->u.launch);
    a->type = t;
    return a;
}

void core_batch_begin(struct chr_core *c)
{
    CHR_ASSERT(!c->out.batch_open);
    c->out.batch_open = true;
    c->out.batch_item0 = c->out.n_items;
}

uint64_t core_batch_id(const struct chr_core *c)
{
    CHR_ASSERT(c->out.batch_open);
    return c->last_batch + 1;
}

static struct chr_persist_item *item_new(struct core_out *o, enum chr_persist_op op,
                                         const char *name)
{
    CHR_ASSERT(o->batch_open && o->n_items < o->cap_items);
    struct chr_persist_item *it = &o->items[o->n_items++];
    memset(it, 0, sizeof *it);
    it->op = op;
    it->name = name;
    return it;
}

void core_batch_job(struct chr_core *c, struct core_job *j)
{
    struct chr_persist_item *it = item_new(&c->out, CHR_PERSIST_JOB, j->def->name);
    it->job = j->def;
    it->state = snap_state(&c->out, &j->st);
    j->unsaved = false;
}

void core_batch_state(struct chr_core *c, struct core_job *j)
{
    struct chr_persist_item *it = item_new(&c->out, CHR_PERSIST_STATE, j->def->name);
    it->state = snap_state(&c->out, &j->st);
    j->unsaved = false;
}

void core_batch_run(struct chr_core *c, struct core_run *r)
{
    struct chr_persist_item *it = item_new(&c->out, CHR_PERSIST_RUN, NULL);
    it->run = snap_run(&c->out, &r->r);
    it->name = it->run->job;
}

void core_batch_run_done(struct chr_core *c, struct core_run *r)
{
    struct chr_persist_item *it = item_new(&c->out, CHR_PERSIST_RUN_DONE, NULL);
    it->run = snap_run(&c->out, &r->r);
    it->name = it->run->job;
}

void core_batch_delete_job(struct chr_core *c, struct core_job *j)
{
    item_new(&c->out, CHR_PERSIST_DELETE_JOB, j->def->name);
}

/* One name table for notice kinds (the core's, public): the server's
 * flags, a job's notifyEvents and the outbox's records all spell them so. */
static const char *const notice_names[] = {
    [CHR_NOTICE_FAILED] = "failed",       [CHR_NOTICE_DISABLED] = "disabled",
    [CHR_NOTICE_EXHAUSTED] = "exhausted", [CHR_NOTICE_DELETED] = "deleted",
    [CHR_NOTICE_LOST] = "lost",           [CHR_NOTICE_TIMEOUT] = "timeout",
    [CHR_NOTICE_SKIPPED] = "skipped",     [CHR_NOTICE_RECOVERED] = "recovered",
    [CHR_NOTICE_WAITING] = "waiting",     [CHR_NOTICE_TEST] = "test",
};

const char *chr_notice_kind_name(enum chr_notice_kind k)
{
    return k >= CHR_NOTICE_FAILED && k <= CHR_NOTICE_KIND_LAST ? notice_names[k] : NULL;
}

enum chr_notice_kind chr_notice_kind_of(const char *name, size_t len)
{
    for (int k = CHR_NOTICE_FAILED; k <= CHR_NOTICE_KIND_LAST; k++)
        if (strlen(notice_names[k]) == len && memcmp(notice_names[k], name, len) == 0)
            return (enum chr_notice_kind)k;
    return (enum chr_notice_kind)0;
}

size_t core_notice_bytes(void)
{
    return ALIGN_UP(sizeof(struct chr_notice));
}

struct chr_notice *core_batch_notice(struct chr_core *c, struct core_job *j,
                                     enum chr_notice_kind kind, const struct chr_run *r)
{
    struct chr_persist_item *it = item_new(&c->out, CHR_PERSIST_NOTICE, j->def->name);
    struct chr_notice *n = arena_take(&c->out, sizeof *n);
    memset(n, 0, sizeof *n);
    n->kind = kind;
    n->job = j->def;
    n->stats = j->st.stats;
    n->started_ms = n->ended_ms = INT64_MIN;
    n->first_ms = n->last_ms = INT64_MIN;
    if (r != NULL) {
        snprintf(n->run_id, sizeof n->run_id, "%s", r->id);
        n->attempt = r->attempt;
        n->exit_code = r->exit_code;
        n->started_ms = r->started_ms;
        n->ended_ms = r->ended_ms;
        snprintf(n->reason, sizeof n->reason, "%s", r->reason);
    }
    it->notice = n;
    return n;
}

void core_batch_end(struct chr_core *c)
{
    struct core_out *o = &c->out;
    CHR_ASSERT(o->batch_open);
    o->batch_open = false;
    if (o->n_items == o->batch_item0)
        return;
    c->last_batch++;
    o->item_off[o->n_acts] = o->batch_item0;
    struct chr_action *a = act_new(o, CHR_ACT_PERSIST);
    a->u.persist.batch_id = c->last_batch;
    a->u.persist.n = o->n_items - o->batch_item0;
}

void core_emit_launch(struct chr_core *c, struct core_run *r, uint64_t offer_id,
                      int64_t not_before_ms)
{
    struct chr_action *a = act_new(&c->out, CHR_ACT_LAUNCH);
    a->u.launch.run = &r->r;
    a->u.launch.job = r->job->def;
    a->u.launch.offer_id = offer_id;
    a->u.launch.not_before_ms = not_before_ms;
}

void core_emit_run(struct chr_core *c, enum chr_action_type t, const struct chr_run *r)
{
    struct chr_action *a = act_new(&c->out, t);
    a->u.run.run = r;
}

void core_emit_kill_id(struct chr_core *c, const char *run_id, const char *job)
{
    struct chr_run *r = arena_take(&c->out, sizeof *r);
    memset(r, 0, sizeof *r);
    snprintf(r->id, sizeof r->id, "%s", run_id);
    snprintf(r->job, sizeof r->job, "%s", job);
    r->state = CHR_RUN_RUNNING;
    r->created_ms = r->launched_ms = r->started_ms = r->ended_ms = INT64_MIN;
    core_emit_run(c, CHR_ACT_KILL, r);
}

void core_emit_decline(struct chr_core *c, uint64_t offer_id, int64_t refuse_ms)
{
    struct chr_action *a = act_new(&c->out, CHR_ACT_DECLINE);
    a->u.decline.offer_id = offer_id;
    a->u.decline.refuse_ms = refuse_ms;
}

void core_emit_simple(struct chr_core *c, enum chr_action_type t)
{
    act_new(&c->out, t);
}

void core_note(struct chr_core *c, const char *fmt, ...)
{
    struct chr_action *a = act_new(&c->out, CHR_ACT_NOTE);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(a->u.note.text, sizeof a->u.note.text, fmt, ap);
    va_end(ap);
}

/* ---- Replies -------------------------------------------------------------- */

enum chr_err core_reply_reserve(struct chr_core *c)
{
    enum chr_err e = core_reserve(c, 1, 0, 0);
    if (e != CHR_OK || c->n_replies < c->cap_replies)
        return e;
    size_t cap = c->cap_replies < 16 ? 16 : c->cap_replies * 2, bytes;
    if (chr_mul_overflows(cap, sizeof *c->replies, &bytes))
        return CHR_ENOMEM;
    struct core_reply *v = chr_malloc(bytes);
    if (v == NULL)
        return CHR_ENOMEM;
    for (size_t i = 0; i < c->n_replies; i++)
        v[i] = c->replies[(c->reply_head + i) % c->cap_replies];
    chr_free(c->replies);
    c->replies = v;
    c->cap_replies = cap;
    c->reply_head = 0;
    return CHR_OK;
}

static void reply_emit(struct chr_core *c, uint64_t request_id, enum chr_err result,
                       const char *message)
{
    struct chr_action *a = act_new(&c->out, CHR_ACT_REPLY);
    a->u.reply.request_id = request_id;
    a->u.reply.result = result;
    snprintf(a->u.reply.message, sizeof a->u.reply.message, "%s", message);
}

void core_reply(struct chr_core *c, uint64_t request_id, enum chr_err result, const char *fmt, ...)
{
    CHR_ASSERT(!c->out.batch_open);
    char msg[CHR_ERROR_MESSAGE_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (c->durable_batch == c->last_batch && c->n_replies == 0) {
        reply_emit(c, request_id, result, msg);
        return;
    }
    CHR_ASSERT(c->n_replies < c->cap_replies);
    struct core_reply *r = &c->replies[(c->reply_head + c->n_replies) % c->cap_replies];
    c->n_replies++;
    r->batch = c->last_batch;
    r->request_id = request_id;
    r->result = result;
    memcpy(r->message, msg, sizeof msg);
}

void core_replies_flush(struct chr_core *c, bool failed)
{
    while (c->n_replies > 0) {
        struct core_reply *r = &c->replies[c->reply_head];
        if (!failed && r->batch > c->durable_batch)
            return;
        if (core_reserve(c, 1, 0, 0) != CHR_OK) {
            c->more_work = true; /* the rest go out at the next step */
            return;
        }
        if (failed)
            reply_emit(c, r->request_id, CHR_EUNAVAIL, "the store failed; not applied");
        else
            reply_emit(c, r->request_id, r->result, r->message);
        c->reply_head = (c->reply_head + 1) % c->cap_replies;
        c->n_replies--;
    }
}

void core_out_finish(struct chr_core *c, struct chr_actions *out)
{
    struct core_out *o = &c->out;
    for (size_t i = 0; i < o->n_acts; i++)
        if (o->acts[i].type == CHR_ACT_PERSIST)
            o->acts[i].u.persist.items = o->items + o->item_off[i];
    out->v = o->acts;
    out->n = o->n_acts;
}
