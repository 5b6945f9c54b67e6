/*
 * loop.c - the scheduler thread (loop.h): one queue in, the core in the
 * middle, the store and the resource manager (rm.h) out.
 *
 * Threads: HTTP workers, the store's completion thread and the resource
 * manager's monitor thread only push items onto the queue; the scheduler
 * thread alone touches the core, the pending-request table and the sets of
 * nodes known to exist.  It never blocks on I/O: store writes are submitted
 * asynchronously and their completions come back as events.
 */
#define _GNU_SOURCE
#include "server/loop.h"

#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <time.h>
#include <unistd.h>

#include "common/alloc.h"
#include "common/clock.h"
#include "common/limits.h"
#include "common/nameset.h"
#include "common/strmap.h"
#include "common/log.h"
#include "iso8601/iso8601.h"
#include "zkstore/packs.h"
#include "server/loop_int.h"
#include "server/notify.h"
#include "server/persist.h"
#include "server/rm_json.h"
#include "server/rm_local.h"
#include "api/run_cmd.h"
#include "api/view.h"

enum qkind { Q_EVENT = 1, Q_QUERY };

struct qitem {
    struct qitem *next;
    enum qkind kind;
    struct chr_event ev;
    char *s1, *s2;             /* owned strings the event points to */
    chr_loop_done_fn *done;    /* requests */
    chr_loop_query_fn *query;  /* queries */
    void *ctx;
    uint64_t token;            /* the resource manager's, for its settle() */
};

struct pending {
    struct pending *next;
    uint64_t id;
    chr_loop_done_fn *done;
    void *ctx;
};

struct ops;

/* A persist batch in flight, for the read model: the jobs it writes. */
struct wbatch {
    struct wbatch *next;
    uint64_t id;
    size_t n;
    char *names[];
};

/* How long a full store queue may take to drain before the batch fails. */
#define LOOP_DRAIN_MAX_MS 10000

static const struct chr_sched_ops sched_ops; /* at the end */

struct chr_loop {
    struct chr_sched sched; /* first: the API's handle is the loop */
    struct chr_loop_config cfg;
    struct ops *ops; /* the open group's store batch (below, "Grouping") */
    struct batch_ctx *group; /* the open group; NULL: none */
    size_t group_bytes;      /* its ops' bytes as the store counts them */
    bool group_runs;         /* it records a run (a crash point's test) */
    struct chr_core *core;
    struct chr_rm *rm;           /* the resource manager (rm.h) */
    pthread_t thread;
    bool thread_started;
    pthread_mutex_t mu;
    pthread_cond_t cond;
    struct qitem *head, *tail;
    size_t qlen;
    bool stopping;
    struct chr_view *view;       /* the read model the API serves */
    struct chr_packs *packs;     /* ZooKeeper mode: packs of jobs (packs.h); else NULL */
    struct chr_metrics *metrics;
    struct chr_notify *notify;   /* the notification sender; NULL: none */
    /* Scheduler thread only: */
    struct pending *pending;
    uint64_t next_request_id;
    struct chr_nameset jobs; /* job names known to exist in the store */
    struct chr_strmap runs;  /* run ids known to exist in the store */
    struct chr_strmap nostate; /* jobs loaded without a state node (made by hand) */
    /* The read model shows only what is durable: a job written by a batch
     * not yet durable is published when its last such batch is (pending:
     * name -> that batch; wb_*: the batches in flight and their names). */
    struct chr_strmap unpublished;
    struct wbatch *wb_head, *wb_tail;
    uint64_t last_batch; /* the newest persist batch emitted */
    int64_t started_ms; /* when this process's loop began */
    bool fenced;        /* on_fenced fired: nothing more is launched */
    /* The step is about a run of a deleted job: forget_orphan's one line
     * says what happened, not the core's "unknown run ... ignored". */
    bool orphan_step;
    /* Once the core failed: why, for the answers to writes (the store's
     * cause, or the fence's). */
    char fail_why[CHR_ERROR_MESSAGE_MAX + 32];
};

static void logf_(const struct chr_loop *l, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void logf_(const struct chr_loop *l, const char *fmt, ...)
{
    if (!l->cfg.verbose)
        return;
    va_list ap;
    va_start(ap, fmt);
    chr_logv(fmt, ap);
    va_end(ap);
}

/* ---- The queue -------------------------------------------------------------- */

static void item_free(struct qitem *it)
{
    if (it->kind == Q_EVENT && (it->ev.type == CHR_EV_PUT_JOB || it->ev.type == CHR_EV_LOAD_JOB))
        chr_job_free(&it->ev.u.job.job);
    chr_free(it->s1);
    chr_free(it->s2);
    chr_free(it);
}

static enum chr_err push(struct chr_loop *l, struct qitem *it)
{
    pthread_mutex_lock(&l->mu);
    bool stopping = l->stopping;
    if (!stopping) {
        if (l->tail != NULL)
            l->tail->next = it;
        else
            l->head = it;
        l->tail = it;
        l->qlen++;
        pthread_cond_signal(&l->cond);
    }
    pthread_mutex_unlock(&l->mu);
    return stopping ? CHR_EUNAVAIL : CHR_OK;
}

/* A copy of `s` (NULL stays NULL); false on ENOMEM. */
static bool dup_opt(const char *s, char **out)
{
    *out = s ? chr_strndup(s, strlen(s)) : NULL;
    return s == NULL || *out != NULL;
}

enum chr_err chr_loop_request(struct chr_loop *l, struct chr_event *ev, chr_loop_done_fn *done,
                              void *ctx)
{
    struct qitem *it = chr_calloc(1, sizeof *it);
    if (it == NULL) {
        if (ev->type == CHR_EV_PUT_JOB)
            chr_job_free(&ev->u.job.job);
        return CHR_ENOMEM;
    }
    it->kind = Q_EVENT;
    it->ev = *ev;
    it->done = done;
    it->ctx = ctx;
    /* The second string: RUN_JOB's arguments, KILL_JOB's run id. */
    bool kill = ev->type == CHR_EV_KILL_JOB;
    if (ev->type != CHR_EV_PUT_JOB &&
        (!dup_opt(ev->u.named.name, &it->s1) ||
         !dup_opt(kill ? ev->u.named.run_id : ev->u.named.arguments, &it->s2))) {
        item_free(it);
        return CHR_ENOMEM;
    }
    if (ev->type != CHR_EV_PUT_JOB) {
        it->ev.u.named.name = it->s1;
        it->ev.u.named.arguments = kill ? NULL : it->s2;
        it->ev.u.named.run_id = kill ? it->s2 : NULL;
    }
    enum chr_err e = push(l, it);
    if (e != CHR_OK)
        item_free(it);
    return e;
}

enum chr_err chr_loop_query(struct chr_loop *l, chr_loop_query_fn *fn, void *ctx)
{
    struct qitem *it = chr_calloc(1, sizeof *it);
    if (it == NULL)
        return CHR_ENOMEM;
    it->kind = Q_QUERY;
    it->query = fn;
    it->ctx = ctx;
    enum chr_err e = push(l, it);
    if (e != CHR_OK)
        chr_free(it);
    return e;
}

/* An internal event (store, resource manager, offers) with copied strings. */
static void push_token(struct chr_loop *l, const struct chr_event *ev, const char *s1,
                       const char *s2, uint64_t token)
{
    struct qitem *it = chr_calloc(1, sizeof *it);
    if (it == NULL || !dup_opt(s1, &it->s1) || !dup_opt(s2, &it->s2)) {
        fprintf(stderr, "chronos: out of memory queueing an event; it is lost\n");
        if (it != NULL)
            item_free(it);
        return;
    }
    it->kind = Q_EVENT;
    it->ev = *ev;
    it->token = token;
    if (ev->type == CHR_EV_TASK_STATUS) {
        it->ev.u.status.run_id = it->s1;
        it->ev.u.status.reason = it->s2;
    }
    if (push(l, it) != CHR_OK)
        item_free(it);
}

static void push_internal(struct chr_loop *l, const struct chr_event *ev, const char *s1,
                          const char *s2)
{
    push_token(l, ev, s1, s2, 0);
}

void chr_loop_rm_push(struct chr_loop *l, const struct chr_event *ev, const char *s1,
                      const char *s2, uint64_t token)
{
    push_token(l, ev, s1, s2, token);
}

/* ---- Persisting ---------------------------------------------------------------- */

/* A store batch in flight: what to do when the store reports it durable.
 * It carries the core's persist batches of one step, up to batch_id (the
 * group, below): STORE_DONE(batch_id) says that all of them are durable. */
struct batch_ctx {
    struct chr_loop *loop;
    uint64_t batch_id;
    int64_t submitted_ns; /* chr_clock_mono_ns, for the write latency */
    size_t cap;           /* room in collect, forget and recs each */
    size_t n_collect;
    char **collect; /* run ids whose outcome is now durable */
    size_t n_forget;
    char **forget;  /* deleted jobs whose kept run directories can go */
    struct chr_packs_batch *pb; /* what it wrote to jobs/ and state/, for the packs */
    size_t n_recs;
    struct chr_notify_rec *recs; /* notifications it put in the outbox: sent once durable */
};

static void batch_ctx_free(struct batch_ctx *b)
{
    for (size_t i = 0; i < b->n_collect; i++)
        chr_free(b->collect[i]);
    for (size_t i = 0; i < b->n_forget; i++)
        chr_free(b->forget[i]);
    for (size_t i = 0; i < b->n_recs; i++)
        chr_notify_rec_free(&b->recs[i]);
    chr_free(b->collect);
    chr_free(b->forget);
    chr_free(b->recs);
    chr_free(b);
}

static void on_store_done(void *ctx, enum chr_err result, const struct chr_store_result *res,
                          size_t n)
{
    struct batch_ctx *b = ctx;
    struct chr_event ev = {.type = CHR_EV_STORE_DONE};
    if (b->loop->packs != NULL)
        chr_packs_done(b->loop->packs, b->pb, result, res, n);
    else
        chr_packs_batch_free(b->pb);
    chr_metrics_observe_store(b->loop->metrics,
                              (double)(chr_clock_mono_ns() - b->submitted_ns) / 1e6);
    chr_metrics_inc(b->loop->metrics, result == CHR_OK ? CHR_M_STORE_BATCHES : CHR_M_STORE_ERRORS);
    ev.u.store.batch_id = b->batch_id;
    ev.u.store.result = result;
    for (size_t i = 0; i < b->n_collect && result == CHR_OK; i++)
        b->loop->rm->ops->collect(b->loop->rm, b->collect[i]);
    for (size_t i = 0; i < b->n_forget && result == CHR_OK; i++)
        b->loop->rm->ops->forget_job(b->loop->rm, b->forget[i]);
    /* The notifications and the change that caused them are durable
     * together: now they may go out (a failed batch made neither). */
    for (size_t i = 0; i < b->n_recs && result == CHR_OK; i++)
        chr_notify_add(b->loop->notify, &b->recs[i]);
    push_internal(b->loop, &ev, NULL, NULL);
    batch_ctx_free(b); /* the run ids and job names too */
}

/* Ops being built for one batch; texts are freed after submit (the store
 * copies them). */
struct ops {
    struct chr_store_op op[CHR_STORE_BATCH_OPS_MAX];
    char path[CHR_STORE_BATCH_OPS_MAX][CHR_STORE_PATH_MAX];
    char *text[CHR_STORE_BATCH_OPS_MAX];
    size_t n;
};

static enum chr_err add_op(struct ops *o, enum chr_store_op_type type, const char *root,
                           const char *kind, const char *name, char *text, size_t len)
{
    if (o->n >= CHR_STORE_BATCH_OPS_MAX) {
        chr_free(text);
        return CHR_ERANGE;
    }
    enum chr_err e = chr_store_shard_path(o->path[o->n], root, kind, name, strlen(name));
    if (e != CHR_OK) {
        chr_free(text);
        return e;
    }
    o->op[o->n] = (struct chr_store_op){type, o->path[o->n], text, len, -1};
    o->text[o->n++] = text;
    return CHR_OK;
}

/* ZooKeeper mode: tells the packs about the op just added for a job's node
 * (kind 0: jobs/, 1: state/), appending the ops that go with it. */
static enum chr_err note_pack(struct chr_loop *l, struct ops *o, struct batch_ctx *b, int kind,
                              const char *name)
{
    if (l->packs == NULL)
        return CHR_OK;
    size_t at = o->n - 1, n0 = o->n;
    const struct chr_store_op *op = &o->op[at];
    enum chr_err e = chr_packs_note(l->packs, &b->pb, kind, name, op->type, op->data, op->len,
                                    at, o->op, o->path, &o->n, CHR_STORE_BATCH_OPS_MAX);
    for (size_t i = n0; i < o->n; i++)
        o->text[i] = NULL;
    return e;
}

/* create-or-set of a job's node, by whether the loop knows it exists. */
static enum chr_err put_node(struct chr_loop *l, struct ops *o, struct batch_ctx *b,
                             const char *kind, const char *name, char *text, size_t len)
{
    if (text == NULL)
        return CHR_ENOMEM;
    bool exists = chr_nameset_has(&l->jobs, name);
    if (exists && strcmp(kind, CHR_KIND_STATE) == 0 && chr_strmap_get(&l->nostate, name, NULL)) {
        exists = false; /* its first state: created now */
        chr_strmap_del(&l->nostate, name);
    }
    enum chr_err e =
        add_op(o, exists ? CHR_STORE_SET : CHR_STORE_CREATE, l->cfg.root, kind, name, text, len);
    return e == CHR_OK ? note_pack(l, o, b, strcmp(kind, CHR_KIND_JOBS) == 0 ? 0 : 1, name) : e;
}

/* A notification the server tells (its flags, or the job's notifyEvents)
 * goes into the outbox in this batch, so it exists exactly when the change
 * that caused it does; one it does not tell leaves no node at all. */
static enum chr_err add_notice(struct chr_loop *l, struct ops *o, const struct chr_notice *nt,
                               struct batch_ctx *b)
{
    uint32_t sinks = chr_notify_sinks(l->notify, nt->kind, nt->job);
    if (sinks == 0)
        return CHR_OK;
    if (o->n >= CHR_STORE_BATCH_OPS_MAX)
        return CHR_ERANGE;
    int64_t now = chr_clock_wall_ms();
    char id[CHR_NOTIFY_ID_MAX];
    chr_notify_new_id(l->notify, now, id);
    struct chr_notify_rec *rec = &b->recs[b->n_recs];
    if (chr_notify_rec_make(nt, id, now, sinks, rec) != CHR_OK)
        return CHR_ENOMEM;
    size_t len = 0;
    char *text = chr_notify_rec_encode(rec, &len);
    if (text == NULL) {
        chr_notify_rec_free(rec);
        return CHR_ENOMEM;
    }
    b->n_recs++;
    snprintf(o->path[o->n], CHR_STORE_PATH_MAX, "%s/%s/%s", l->cfg.root, CHR_KIND_OUTBOX, id);
    o->op[o->n] = (struct chr_store_op){CHR_STORE_CREATE, o->path[o->n], text, len, -1};
    o->text[o->n++] = text;
    logf_(l, "notification %s (%s of job '%s') into the outbox", id,
          chr_notify_event_name(nt->kind), rec->job);
    return CHR_OK;
}

/* The texts of one persist item, encoded before its action joins a group,
 * so that the group knows the action's size before it commits to it:
 * text[0] the job's (JOB) or the run's (RUN), text[1] the state's (JOB,
 * STATE).  Owned until add_item hands them to the ops. */
struct enc_item {
    char *text[2];
    size_t len[2];
};

static void enc_free(struct enc_item *enc, size_t n)
{
    for (size_t i = 0; enc != NULL && i < n; i++) {
        chr_free(enc[i].text[0]);
        chr_free(enc[i].text[1]);
    }
    chr_free(enc);
}

/* Takes a text out of its enc_item: the ops own it from here. */
static char *enc_take(struct enc_item *e, int k, size_t *len)
{
    char *t = e->text[k];
    *len = e->len[k];
    e->text[k] = NULL;
    return t;
}

static enum chr_err add_item(struct chr_loop *l, struct ops *o, const struct chr_persist_item *it,
                             struct enc_item *enc, struct batch_ctx *b)
{
    size_t len = 0;
    enum chr_err e = CHR_OK;
    switch (it->op) {
    case CHR_PERSIST_JOB: {
        char *job = enc_take(enc, 0, &len);
        if ((e = put_node(l, o, b, CHR_KIND_JOBS, it->name, job, len)) != CHR_OK)
            return e;
    } /* fall through: the state goes with the job */
    /* FALLTHRU */
    case CHR_PERSIST_STATE: {
        char *st = enc_take(enc, 1, &len);
        /* A job's state node exists exactly when its job node does. */
        return put_node(l, o, b, CHR_KIND_STATE, it->name, st, len);
    }
    case CHR_PERSIST_RUN: {
        char *run = enc_take(enc, 0, &len);
        if (run == NULL)
            return CHR_ENOMEM;
        bool exists = chr_strmap_get(&l->runs, it->run->id, NULL);
        return add_op(o, exists ? CHR_STORE_SET : CHR_STORE_CREATE, l->cfg.root, CHR_KIND_RUNS,
                      it->run->id, run, len);
    }
    case CHR_PERSIST_RUN_DONE:
        if (!chr_strmap_get(&l->runs, it->run->id, NULL))
            return CHR_OK;
        b->collect[b->n_collect] = chr_strndup(it->run->id, strlen(it->run->id));
        if (b->collect[b->n_collect] == NULL)
            return CHR_ENOMEM;
        b->n_collect++;
        return add_op(o, CHR_STORE_DELETE, l->cfg.root, CHR_KIND_RUNS, it->run->id, NULL, 0);
    case CHR_PERSIST_NOTICE:
        return add_notice(l, o, it->notice, b);
    case CHR_PERSIST_DELETE_JOB:
        if (!chr_nameset_has(&l->jobs, it->name))
            return CHR_OK;
        b->forget[b->n_forget] = chr_strndup(it->name, strlen(it->name));
        if (b->forget[b->n_forget] == NULL)
            return CHR_ENOMEM;
        b->n_forget++;
        if (chr_strmap_get(&l->nostate, it->name, NULL)) /* no state node to delete */
            chr_strmap_del(&l->nostate, it->name);
        else if ((e = add_op(o, CHR_STORE_DELETE, l->cfg.root, CHR_KIND_STATE, it->name, NULL,
                             0)) ||
                 (e = note_pack(l, o, b, 1, it->name)))
            return e;
        if ((e = add_op(o, CHR_STORE_DELETE, l->cfg.root, CHR_KIND_JOBS, it->name, NULL, 0)))
            return e;
        return note_pack(l, o, b, 0, it->name);
    }
    return CHR_EINVAL;
}

/* The loop's view of what exists follows each item as it is added, so a
 * later item of the same batch sees it (a run created and finished at once). */
static void track_item(struct chr_loop *l, const struct chr_persist_item *it)
{
    if (it->op == CHR_PERSIST_JOB)
        chr_nameset_add(&l->jobs, it->name);
    else if (it->op == CHR_PERSIST_DELETE_JOB)
        chr_nameset_del(&l->jobs, it->name);
    else if (it->op == CHR_PERSIST_RUN)
        chr_strmap_put(&l->runs, it->run->id, 0);
    else if (it->op == CHR_PERSIST_RUN_DONE)
        chr_strmap_del(&l->runs, it->run->id);
}

static void persist_failed(struct chr_loop *l, uint64_t batch_id, enum chr_err e)
{
    struct chr_event ev = {.type = CHR_EV_STORE_DONE};
    ev.u.store.batch_id = batch_id;
    ev.u.store.result = e;
    push_internal(l, &ev, NULL, NULL);
}

#ifdef CHR_TESTING
/* Test builds: CHRONOS_TEST_CRASH=<name> kills the server with SIGKILL at
 * that point: "before-launch" when it is about to launch a run whose record
 * is durable, "after-submit" once a store batch that records runs was
 * handed to the store (durable or not yet): the windows the exactly-once
 * protocol must survive. */
static void crash_point(const char *name)
{
    const char *want = getenv("CHRONOS_TEST_CRASH");
    if (want != NULL && strcmp(want, name) == 0)
        raise(SIGKILL);
}

/* Test builds: CHRONOS_TEST_BATCH_OPS=N (1..CHR_STORE_BATCH_OPS_MAX) lowers
 * the ops a group's store batch takes, so that a test splits a burst of 40
 * jobs into several store batches instead of needing 520. */
static size_t group_ops_max(void)
{
    const char *v = getenv("CHRONOS_TEST_BATCH_OPS");
    char *end = NULL;
    long n = v != NULL ? strtol(v, &end, 10) : 0;
    return v != NULL && end != v && *end == '\0' && n >= 1 && n <= CHR_STORE_BATCH_OPS_MAX
               ? (size_t)n
               : CHR_STORE_BATCH_OPS_MAX;
}
#else
static void crash_point(const char *name)
{
    (void)name;
}

static size_t group_ops_max(void)
{
    return CHR_STORE_BATCH_OPS_MAX;
}
#endif

/* ---- Grouping: the persist batches of a step in few store batches ---------------- */

/*
 * A step may emit thousands of persist batches: a burst of instants due at
 * once makes one per job (core_due.c), a batch of status updates one per
 * run.  Written one store batch each, every run cost a log record and a
 * completion (on ZooKeeper a multi), then a STORE_DONE step of its own.  So
 * the loop writes the core's batches of one execute() as few store batches:
 * a group takes whole core batches, in the order the core emitted them,
 * for as long as the store takes them in one batch (CHR_STORE_BATCH_OPS_MAX
 * ops, CHR_STORE_BATCH_BYTES_MAX bytes, by a bound taken before the core
 * batch joins), then the next group begins.  A store batch is atomic, so
 * each core batch in it still is; groups complete in order, and a group's
 * completion is reported as STORE_DONE of the last core batch it holds,
 * which the core takes as "that one and every one before it" (core.h).
 * Nothing waits for a group longer than until the end of its execute():
 * a run is still launched only once the batch with its record is durable.
 */

/* The bytes the store counts for one op besides its data (the log's op
 * header and the path), at most: a path is the root, a kind, a shard and
 * one encoded name (an outbox id, a pack part: shorter). */
static size_t op_bound(const struct chr_loop *l)
{
    return 16 + strlen(l->cfg.root) + 16 + CHR_STORE_NAME_MAX + 1;
}

/* What an action may add to a store batch, at most. */
struct act_size {
    size_t ops, bytes;
};

/* Encodes one item's texts into *e; the ops and bytes it may add. */
static enum chr_err encode_item(struct chr_loop *l, const struct chr_persist_item *it,
                                struct enc_item *e, struct act_size *sz)
{
    size_t ops = 0, extra = 0;
    switch (it->op) {
    case CHR_PERSIST_JOB:
        if ((e->text[0] = chr_job_to_store_json(it->job, &e->len[0])) == NULL)
            return CHR_ENOMEM;
        ops += 1 + CHR_PACKS_EXTRA_OPS;
        /* FALLTHRU */
    case CHR_PERSIST_STATE:
        if ((e->text[1] = chr_state_to_json(it->state, &e->len[1])) == NULL)
            return CHR_ENOMEM;
        ops += 1 + CHR_PACKS_EXTRA_OPS;
        break;
    case CHR_PERSIST_RUN:
        if ((e->text[0] = chr_run_to_json(it->run, &e->len[0])) == NULL)
            return CHR_ENOMEM;
        ops = 1;
        break;
    case CHR_PERSIST_RUN_DONE: ops = 1; break;
    case CHR_PERSIST_DELETE_JOB: ops = 2 * (1 + CHR_PACKS_EXTRA_OPS); break;
    case CHR_PERSIST_NOTICE: /* encoded when added: its record is made then */
        if (chr_notify_sinks(l->notify, it->notice->kind, it->notice->job) != 0)
            ops = 1, extra = CHR_NOTIFY_REC_MAX;
        break;
    }
    sz->ops += ops;
    sz->bytes += ops * op_bound(l) + e->len[0] + e->len[1] + extra;
    return CHR_OK;
}

/* Encodes the items of a PERSIST action (*out: n items, enc_free); *sz its
 * size at most. */
static enum chr_err encode_action(struct chr_loop *l, const struct chr_action *a,
                                  struct enc_item **out, struct act_size *sz)
{
    size_t n = a->u.persist.n;
    *sz = (struct act_size){0, 0};
    *out = chr_calloc(n + 1, sizeof **out);
    if (*out == NULL)
        return CHR_ENOMEM;
    enum chr_err e = CHR_OK;
    for (size_t i = 0; i < n && e == CHR_OK; i++)
        e = encode_item(l, &a->u.persist.items[i], &(*out)[i], sz);
    return e;
}

/* Room for n more entries in each of b's collect, forget and recs. */
static enum chr_err bctx_room(struct batch_ctx *b, size_t n)
{
    size_t used = b->n_collect > b->n_forget ? b->n_collect : b->n_forget;
    used = used > b->n_recs ? used : b->n_recs;
    if (used + n < b->cap)
        return CHR_OK;
    size_t cap = b->cap * 2 > used + n + 1 ? b->cap * 2 : used + n + 1, bytes;
    if (chr_mul_overflows(cap, sizeof *b->recs, &bytes))
        return CHR_ENOMEM;
    char **c = chr_realloc(b->collect, cap * sizeof *c);
    if (c != NULL)
        b->collect = c;
    char **f = c != NULL ? chr_realloc(b->forget, cap * sizeof *f) : NULL;
    if (f != NULL)
        b->forget = f;
    struct chr_notify_rec *r = f != NULL ? chr_realloc(b->recs, bytes) : NULL;
    if (r == NULL)
        return CHR_ENOMEM; /* what grew stays grown; cap says what all have */
    b->recs = r;
    b->cap = cap;
    return CHR_OK;
}

/* Opens a group: its store batch begins with the epoch guard (a deposed
 * leader's batch fails). */
static enum chr_err group_open(struct chr_loop *l)
{
    struct ops *o = l->ops;
    struct batch_ctx *b = chr_calloc(1, sizeof *b);
    if (b == NULL)
        return CHR_ENOMEM;
    b->loop = l;
    o->n = 0;
    l->group_bytes = 0;
    l->group_runs = false;
    if (l->cfg.fence_path != NULL) {
        snprintf(o->path[0], CHR_STORE_PATH_MAX, "%s", l->cfg.fence_path);
        o->op[0] = (struct chr_store_op){CHR_STORE_CHECK, o->path[0], NULL, 0, -1};
        o->text[0] = NULL;
        o->n = 1;
        l->group_bytes = op_bound(l) + strlen(l->cfg.fence_path);
    }
    l->group = b;
    return CHR_OK;
}

/* Drops the open group's ops and their texts (the store copied them, or
 * they are never written). */
static void group_clear_ops(struct chr_loop *l)
{
    for (size_t i = 0; i < l->ops->n; i++)
        chr_free(l->ops->text[i]);
    l->ops->n = 0;
    l->group_bytes = 0;
}

/* A group that could not be built: none of it is written, and the core
 * hears that batch `id` failed (it fails; the server reloads the store). */
static void group_fail(struct chr_loop *l, uint64_t id, enum chr_err e)
{
    struct batch_ctx *b = l->group;
    l->group = NULL;
    group_clear_ops(l);
    if (b != NULL) {
        chr_packs_batch_free(b->pb);
        batch_ctx_free(b);
    }
    persist_failed(l, id, e);
}

/* Submits the open group as one store batch (none open: nothing). */
static void group_flush(struct chr_loop *l)
{
    struct batch_ctx *b = l->group;
    struct ops *o = l->ops;
    if (b == NULL)
        return;
    if (o->n == (l->cfg.fence_path != NULL)) { /* nothing to write */
        l->group = NULL;
        group_clear_ops(l);
        on_store_done(b, CHR_OK, NULL, 0);
        return;
    }
    b->submitted_ns = chr_clock_mono_ns();
    enum chr_err e = chr_store_submit(l->cfg.store, o->op, o->n, on_store_done, b);
    /* Queue full: let it drain, for a bounded time (the scheduler thread
     * never waits on I/O without a deadline); still full then, the store
     * is stuck and the batch fails like any failed write. */
    if (e == CHR_EUNAVAIL && chr_store_flush_within(l->cfg.store, LOOP_DRAIN_MAX_MS) == CHR_OK)
        e = chr_store_submit(l->cfg.store, o->op, o->n, on_store_done, b);
    if (e != CHR_OK) {
        group_fail(l, b->batch_id, e); /* b is still the group's: not submitted */
        return;
    }
    l->group = NULL; /* the completion's now */
    group_clear_ops(l);
    if (l->group_runs)
        crash_point("after-submit");
}

/* Adds a PERSIST action to the open group, first submitting that group if
 * the action might not fit in it. */
static void group_add(struct chr_loop *l, const struct chr_action *a)
{
    struct enc_item *enc = NULL;
    struct act_size sz;
    enum chr_err e = encode_action(l, a, &enc, &sz);
    if (e == CHR_OK && l->group != NULL &&
        (l->ops->n + sz.ops > group_ops_max() ||
         l->group_bytes + sz.bytes > CHR_STORE_BATCH_BYTES_MAX))
        group_flush(l);
    if (e == CHR_OK && l->group == NULL)
        e = group_open(l);
    if (e == CHR_OK)
        e = bctx_room(l->group, a->u.persist.n);
    size_t n0 = l->ops->n;
    for (size_t i = 0; i < a->u.persist.n && e == CHR_OK; i++) {
        e = add_item(l, l->ops, &a->u.persist.items[i], &enc[i], l->group);
        if (e == CHR_OK)
            track_item(l, &a->u.persist.items[i]);
        l->group_runs |= a->u.persist.items[i].op == CHR_PERSIST_RUN;
    }
    enc_free(enc, a->u.persist.n);
    if (e != CHR_OK) {
        group_fail(l, a->u.persist.batch_id, e);
        return;
    }
    for (size_t i = n0; i < l->ops->n; i++)
        l->group_bytes += 16 + strlen(l->ops->op[i].path) + l->ops->op[i].len;
    l->group->batch_id = a->u.persist.batch_id;
}

/* ---- Launching ----------------------------------------------------------------- */

/* A launch the resource manager refused.  Not fitting (CHR_ERANGE: the
 * resources went elsewhere meanwhile) and a host that cannot make the run's
 * directory or supervisor (CHR_EIO: a full disk; nothing is left behind;
 * CHR_ENOMEM)
 * mean the task never started: the core queues it again (with a growing
 * pause).  Anything else (a task that can never start) fails the run. */
static void launch_failed(struct chr_loop *l, const struct chr_run *run, uint64_t offer_id,
                          enum chr_err e, const char *why)
{
    struct chr_event ev = {.type = CHR_EV_TASK_STATUS};
    ev.u.status.state =
        e == CHR_ERANGE || e == CHR_EIO || e == CHR_ENOMEM ? CHR_RUN_QUEUED : CHR_RUN_FAILED;
    ev.u.status.offer_id = offer_id;
    ev.u.status.exit_code = -1;
    logf_(l, "launch of %s refused: %s", run->id, why);
    push_internal(l, &ev, run->id, why);
}


/* Tells the owner, once, that this loop must stop. */
static void fence(struct chr_loop *l, const char *why)
{
    if (l->fenced)
        return;
    l->fenced = true;
    logf_(l, "stepping down: %s", why);
    if (l->cfg.on_fenced != NULL)
        l->cfg.on_fenced(l->cfg.fence_ctx, why);
}

static void do_launch(struct chr_loop *l, const struct chr_run *run, const struct chr_job *job,
                      uint64_t offer_id, int64_t not_before_ms)
{
    crash_point("before-launch");
    const struct chr_core_config *cc = &l->cfg.core;
    struct chr_error err = {{0}, {0}};
    struct chr_run_cmd cmd; /* manual ?arguments= are argv, never shell text */
    enum chr_err e = chr_run_cmd_make(job, run->arguments, &cmd);
    if (e == CHR_OK && l->cfg.users != NULL) /* a job stored before the policy narrowed */
        e = chr_users_check(l->cfg.users, job->run_as_user, &err);
    /* The lease is asked last, right before the launch: nothing slow between. */
    if (l->fenced || (l->cfg.may_launch != NULL && !l->cfg.may_launch(l->cfg.fence_ctx))) {
        chr_run_cmd_free(&cmd);
        fence(l, "the leader's lease lapsed: launches stop before another leader can start");
        return; /* the run stays recorded; whoever leads next reconciles it */
    }
    if (e != CHR_OK) {
        launch_failed(l, run, offer_id, e, err.message[0] ? err.message : chr_err_message(e));
        chr_run_cmd_free(&cmd);
        return;
    }
    const char *user = job->run_as_user && job->run_as_user[0] ? job->run_as_user
                       : l->cfg.users ? chr_users_default(l->cfg.users) : NULL;
    struct chr_rm_launch t = {
        .run = run, .job = job, .offer_id = offer_id, .not_before_ms = not_before_ms,
        .user = user, .cmd = &cmd,
        .cpus = job->cpus > 0 ? job->cpus : cc->default_cpus,
        .mem_mb = job->mem_mb > 0 ? job->mem_mb : cc->default_mem_mb,
        .disk_mb = job->disk_mb > 0 ? job->disk_mb : cc->default_disk_mb,
    };
    e = l->rm->ops->launch(l->rm, &t, &err);
    chr_run_cmd_free(&cmd);
    if (e != CHR_OK && l->cfg.may_launch != NULL && !l->cfg.may_launch(l->cfg.fence_ctx))
        fence(l, "the leader's lease lapsed while launching: the run is left as recorded");
    else if (e != CHR_OK)
        launch_failed(l, run, offer_id, e, err.message[0] ? err.message : chr_err_message(e));
    else
        logf_(l, "launched %s", run->id);
}

/* ---- Actions --------------------------------------------------------------------- */

static void reply(struct chr_loop *l, uint64_t id, enum chr_err result, const char *message)
{
    if (result == CHR_EUNAVAIL && l->fail_why[0] != '\0')
        message = l->fail_why; /* the core only knows it failed; this says why */
    for (struct pending **pp = &l->pending; *pp != NULL; pp = &(*pp)->next) {
        if ((*pp)->id != id)
            continue;
        struct pending *p = *pp;
        *pp = p->next;
        p->done(p->ctx, result, message);
        chr_free(p);
        return;
    }
}

/* ---- The read model: only durable state ------------------------------------------ */

/* The job `name` changed: republished now, or when its batch is durable. */
static void touch(struct chr_loop *l, const char *name)
{
    if (name != NULL && !chr_strmap_get(&l->unpublished, name, NULL))
        chr_view_touch(l->view, name);
}

static void touch_run(struct chr_loop *l, const char *run_id)
{
    touch(l, chr_view_run_job(run_id));
}

/* The jobs a batch writes are shown once it is durable (released).  Out of
 * memory, they are shown at once: a stale read model is worse than one that
 * shows a change a moment early. */
static void hold_items(struct chr_loop *l, const struct chr_action *a)
{
    size_t n = a->u.persist.n, bytes;
    struct wbatch *w = chr_mul_overflows(n, sizeof(char *), &bytes) ? NULL
                                                                     : chr_malloc(sizeof *w + bytes);
    if (w != NULL)
        *w = (struct wbatch){NULL, a->u.persist.batch_id, 0};
    for (size_t i = 0; i < n; i++) {
        const char *name = a->u.persist.items[i].name;
        char *copy = w != NULL ? chr_strndup(name, strlen(name)) : NULL;
        if (copy == NULL || chr_strmap_put(&l->unpublished, name, w->id) != CHR_OK) {
            chr_free(copy);
            chr_view_touch(l->view, name);
            continue;
        }
        w->names[w->n++] = copy;
    }
    if (w == NULL)
        return;
    if (l->wb_tail != NULL)
        l->wb_tail->next = w;
    else
        l->wb_head = w;
    l->wb_tail = w;
}

/* Batches complete in order: every batch up to `batch` is durable, and so
 * is every job whose last pending batch is among them. */
static void release_items(struct chr_loop *l, uint64_t batch)
{
    while (l->wb_head != NULL && l->wb_head->id <= batch) {
        struct wbatch *w = l->wb_head;
        l->wb_head = w->next;
        if (l->wb_head == NULL)
            l->wb_tail = NULL;
        for (size_t i = 0; i < w->n; i++) {
            uint64_t last = 0;
            if (chr_strmap_get(&l->unpublished, w->names[i], &last) && last <= batch) {
                chr_strmap_del(&l->unpublished, w->names[i]);
                chr_view_touch(l->view, w->names[i]);
            }
            chr_free(w->names[i]);
        }
        chr_free(w);
    }
}

/* At stop (the view may be gone): what was never durable is never shown. */
static void wbatches_free(struct chr_loop *l)
{
    for (struct wbatch *w = l->wb_head, *next; w != NULL; w = next) {
        next = w->next;
        for (size_t i = 0; i < w->n; i++)
            chr_free(w->names[i]);
        chr_free(w);
    }
    l->wb_head = l->wb_tail = NULL;
    chr_strmap_free(&l->unpublished);
}

static void execute(struct chr_loop *l, const struct chr_actions *acts)
{
    struct chr_rm *rm = l->rm;
    for (size_t i = 0; i < acts->n; i++) {
        const struct chr_action *a = &acts->v[i];
        switch (a->type) {
        case CHR_ACT_PERSIST:
            hold_items(l, a);
            group_add(l, a);
            l->last_batch = a->u.persist.batch_id;
            break;
        case CHR_ACT_LAUNCH:
            touch(l, a->u.launch.run->job);
            chr_metrics_inc(l->metrics, CHR_M_LAUNCHES);
            do_launch(l, a->u.launch.run, a->u.launch.job, a->u.launch.offer_id,
                      a->u.launch.not_before_ms);
            break;
        case CHR_ACT_KILL:
            touch(l, a->u.run.run->job);
            rm->ops->kill(rm, a->u.run.run);
            break;
        case CHR_ACT_RECONCILE:
            touch(l, a->u.run.run->job);
            rm->ops->reconcile(rm, a->u.run.run);
            break;
        case CHR_ACT_DECLINE:
            rm->ops->decline(rm, a->u.decline.offer_id, a->u.decline.refuse_ms);
            break;
        case CHR_ACT_REPLY:
            /* Whoever gets the answer may read at once: publish first. */
            chr_view_flush(l->view, l->core);
            reply(l, a->u.reply.request_id, a->u.reply.result, a->u.reply.message);
            break;
        case CHR_ACT_SUPPRESS: rm->ops->suppress(rm); break;
        case CHR_ACT_REVIVE: rm->ops->revive(rm); break;
        case CHR_ACT_NOTE:
            if (!l->orphan_step)
                logf_(l, "%s", a->u.note.text);
            break;
        case CHR_ACT_WAITING:
            touch(l, a->u.run.run->job);
            logf_(l, "%s is %s", a->u.run.run->id, a->u.run.run->reason);
            break;
        }
    }
    group_flush(l); /* the step's batches go to the store as few store batches */
    rm->ops->actions_done(rm);
}

/* A "never started" status names the offer of the launch it answers (the
 * core ignores a stale one): the run's current offer, found by the job name
 * inside its id "ct:<due>:<attempt>:<job>"; 0 for a run loaded at startup
 * (the answer to its RECONCILE). */
static void fill_offer(struct chr_loop *l, struct chr_event *ev)
{
    const char *id = ev->u.status.run_id, *p = id;
    for (int colons = 0; p != NULL && colons < 3; colons++)
        p = strchr(p, ':') ? strchr(p, ':') + 1 : NULL;
    if (p == NULL)
        return;
    const struct chr_run *runs[64];
    size_t n = chr_core_job_runs(l->core, p, runs, 64);
    for (size_t i = 0; i < n; i++)
        if (strcmp(runs[i]->id, id) == 0 && runs[i]->state == CHR_RUN_LAUNCHING &&
            runs[i]->launched_ms >= l->started_ms) /* launched by this process, not loaded */
            ev->u.status.offer_id = runs[i]->offer_id;
}

/* Steps the core with an event made on the loop thread, and executes. */
void chr_loop_rm_step(struct chr_loop *l, struct chr_event *ev)
{
    struct chr_actions acts = {NULL, 0};
    chr_core_step(l->core, chr_clock_wall_ms(), ev, &acts);
    execute(l, &acts);
}

/* ---- The read model and metrics ---------------------------------------------------- */

/* What a status update is about, seen before the step applies it. */
struct run_before {
    bool active;            /* the run was active in the core */
    enum chr_run_cause cause;
    int64_t due_ms;
};

static const struct chr_run *find_run(const struct chr_loop *l, const char *run_id)
{
    const char *job = chr_view_run_job(run_id);
    const struct chr_run *runs[256];
    size_t n = job ? chr_core_job_runs(l->core, job, runs, 256) : 0;
    for (size_t i = 0; i < n; i++)
        if (strcmp(runs[i]->id, run_id) == 0)
            return runs[i];
    return NULL;
}

static void observe_before(struct chr_loop *l, const struct chr_event *ev, struct run_before *b)
{
    *b = (struct run_before){false, CHR_CAUSE_SCHEDULED, 0};
    /* A request's job is not touched here: what the request changes is in
     * its batch, and shown once that is durable (hold_items). */
    switch (ev->type) {
    case CHR_EV_TASK_STATUS: {
        const struct chr_run *r = find_run(l, ev->u.status.run_id);
        if (r != NULL && r->state < CHR_RUN_FINISHED)
            *b = (struct run_before){r->state != CHR_RUN_RUNNING || ev->u.status.state !=
                                                                        CHR_RUN_RUNNING,
                                     r->cause, r->due_ms};
        break;
    }
    default: break;
    }
}

/* Counts what a status update did: a run started (and how late, for a
 * scheduled instant) or ended.  Repeated updates of a run count once. */
static void observe_after(struct chr_loop *l, const struct chr_event *ev,
                          const struct run_before *b)
{
    if (ev->type != CHR_EV_TASK_STATUS || !b->active)
        return;
    switch (ev->u.status.state) {
    case CHR_RUN_RUNNING: {
        chr_metrics_inc(l->metrics, CHR_M_RUNS_STARTED);
        const struct chr_run *r = find_run(l, ev->u.status.run_id);
        if (r != NULL && b->cause == CHR_CAUSE_SCHEDULED && r->started_ms != INT64_MIN)
            chr_metrics_observe_lateness(l->metrics, (double)(r->started_ms - b->due_ms));
        break;
    }
    case CHR_RUN_FINISHED: chr_metrics_inc(l->metrics, CHR_M_RUNS_SUCCEEDED); break;
    case CHR_RUN_FAILED: chr_metrics_inc(l->metrics, CHR_M_RUNS_FAILED); break;
    case CHR_RUN_KILLED: chr_metrics_inc(l->metrics, CHR_M_RUNS_KILLED); break;
    case CHR_RUN_LOST: chr_metrics_inc(l->metrics, CHR_M_RUNS_LOST); break;
    default: break;
    }
}

static void publish_gauges(struct chr_loop *l)
{
    struct chr_core_counts c;
    chr_core_counts(l->core, &c);
    pthread_mutex_lock(&l->mu);
    size_t qlen = l->qlen;
    pthread_mutex_unlock(&l->mu);
    struct chr_metrics_gauges g = {qlen, c.runs, c.runs_waiting, c.batches_pending,
                                   c.offers_held, l->started_ms, !c.failed, !c.failed};
    chr_metrics_set_gauges(l->metrics, &g);
}

/* An outcome (or "never started") of a run of a job that does not exist,
 * durably: a run killed with its job, found again at startup or ending
 * after the deletion was durable.  Its directory is garbage. */
static bool is_orphan(struct chr_loop *l, const struct chr_event *ev)
{
    if (ev->type != CHR_EV_TASK_STATUS || ev->u.status.state == CHR_RUN_RUNNING)
        return false;
    const char *job = chr_view_run_job(ev->u.status.run_id);
    return job != NULL && chr_core_job(l->core, job, NULL) == NULL &&
           !chr_strmap_get(&l->unpublished, job, NULL) && find_run(l, ev->u.status.run_id) == NULL;
}

static void forget_orphan(struct chr_loop *l, const char *run_id)
{
    const char *job = chr_view_run_job(run_id);
    enum chr_err e = l->rm->ops->collect(l->rm, run_id);
    if (e == CHR_OK && job != NULL)
        l->rm->ops->forget_job(l->rm, job);
    if (e == CHR_OK)
        logf_(l, "run %s of a deleted job: its directory is removed", run_id);
    else
        logf_(l, "run %s of a deleted job: its directory stays (%s)", run_id, chr_err_message(e));
}

/* ---- Log lines for what happens to jobs and runs ---------------------------------- */

/* What an event's job or run was before the step, for the lines after it. */
struct log_before {
    char job[CHR_JOB_NAME_MAX + 1]; /* the job the event is about; "" if none */
    bool existed, disabled;         /* PUT_JOB: the job before */
    bool active;                    /* TASK_STATUS: the run was open */
    int64_t started_ms;             /* TASK_STATUS: INT64_MIN if never seen running */
    int32_t attempt;
};

static void log_before(struct chr_loop *l, const struct chr_event *ev, struct log_before *b)
{
    *b = (struct log_before){{0}, false, false, false, INT64_MIN, 0};
    if (!l->cfg.verbose)
        return;
    if (ev->type == CHR_EV_PUT_JOB && ev->u.job.job.name != NULL) {
        snprintf(b->job, sizeof b->job, "%s", ev->u.job.job.name);
        const struct chr_job *j = chr_core_job(l->core, b->job, NULL);
        b->existed = j != NULL;
        b->disabled = j != NULL && j->disabled;
    } else if (ev->type == CHR_EV_TASK_STATUS) {
        const struct chr_run *r = find_run(l, ev->u.status.run_id);
        if (r == NULL || r->state >= CHR_RUN_FINISHED)
            return;
        *b = (struct log_before){{0}, false, false, true, r->started_ms, r->attempt};
        snprintf(b->job, sizeof b->job, "%s", r->job);
    }
}

/* A dependent rewritten by a forced delete of its parent: what it runs
 * after now, or the schedule it took. */
static void log_rewritten(const struct chr_job *job, const char *parent)
{
    char now[256] = "";
    size_t n = 0;
    for (uint32_t i = 0; i < job->n_parents && n < sizeof now; i++)
        n += (size_t)snprintf(now + n, sizeof now - n, "%s%s", i > 0 ? "," : "",
                              job->parents[i]);
    chr_log_event(CHR_LOG_INFO, job->name, NULL, "job %s now %s %s%s%s (its parent %s was deleted "
                  "with force)", job->name, job->n_parents > 0 ? "runs after" : "runs on",
                  job->n_parents > 0 ? now : job->schedule ? job->schedule : "",
                  job->n_parents == 0 && job->schedule_tz ? " in " : "",
                  job->n_parents == 0 && job->schedule_tz ? job->schedule_tz : "",
                  parent ? parent : "");
}

/* The job lines: a PUT that wrote the job, a DELETE that removed it. */
static void log_job_items(const struct chr_event *ev, const struct log_before *b,
                          const struct chr_action *a)
{
    for (size_t i = 0; i < a->u.persist.n; i++) {
        const struct chr_persist_item *p = &a->u.persist.items[i];
        if (p->op == CHR_PERSIST_DELETE_JOB && ev->type == CHR_EV_DELETE_JOB) {
            chr_log_event(CHR_LOG_INFO, p->name, NULL, "job %s deleted", p->name);
            continue;
        }
        if (p->op == CHR_PERSIST_JOB && ev->type == CHR_EV_DELETE_JOB && p->job != NULL) {
            log_rewritten(p->job, ev->u.named.name);
            continue;
        }
        if (p->op != CHR_PERSIST_JOB || ev->type != CHR_EV_PUT_JOB || p->job == NULL ||
            strcmp(p->name, b->job) != 0)
            continue;
        bool disabled = p->job->disabled;
        chr_log_event(CHR_LOG_INFO, p->name, NULL, "job %s %s%s", p->name,
                      b->existed ? "replaced" : "created",
                      !b->existed && disabled ? " (disabled)" : "");
        if (b->existed && disabled != b->disabled)
            chr_log_event(CHR_LOG_INFO, p->name, NULL, "job %s %s", p->name,
                          disabled ? "disabled" : "enabled");
    }
}

/* The run lines: how an open run ended, and the retry that follows it. */
static void log_run_end(struct chr_loop *l, const struct chr_event *ev, const struct log_before *b)
{
    const char *id = ev->u.status.run_id, *job = b->job;
    const char *why = ev->u.status.reason != NULL ? ev->u.status.reason : "";
    int64_t now = chr_clock_wall_ms();
    /* A run this server did not see start (adopted from the store after a
     * failover or a restart) has no known duration: said so, not "-1 ms". */
    char took[72] = "an unknown time (it started before this server took over)";
    if (b->started_ms != INT64_MIN)
        snprintf(took, sizeof took, "%lld ms", (long long)(now - b->started_ms));
    int code = ev->u.status.exit_code;
    switch (ev->u.status.state) {
    case CHR_RUN_FINISHED:
        chr_log_event(CHR_LOG_INFO, job, id, "run %s of job %s finished in %s", id, job, took);
        return;
    case CHR_RUN_FAILED:
        if (strstr(why, "maxCompletionTime") != NULL)
            chr_log_event(CHR_LOG_WARN, job, id, "run %s of job %s timed out after %s: %s",
                          id, job, took, why);
        else
            chr_log_event(CHR_LOG_WARN, job, id, "run %s of job %s failed: exit %d after %s%s%s",
                          id, job, code, took, why[0] && strncmp(why, "exit ", 5) ? ": " : "",
                          strncmp(why, "exit ", 5) ? why : ""); /* "exit N" says it twice */
        break;
    case CHR_RUN_KILLED:
        chr_log_event(CHR_LOG_INFO, job, id, "run %s of job %s killed%s%s", id, job,
                      why[0] ? ": " : "", why);
        break;
    case CHR_RUN_LOST:
        chr_log_event(CHR_LOG_WARN, job, id, "run %s of job %s lost%s%s", id, job,
                      why[0] ? ": " : "", why);
        break;
    default: return;
    }
    /* A retry is the same instant's next attempt: "ct:<due>:<attempt+1>:<job>". */
    const char *due = strchr(id, ':');
    const char *end = due != NULL ? strchr(due + 1, ':') : NULL;
    if (end == NULL)
        return;
    char retry[CHR_RUN_ID_MAX];
    snprintf(retry, sizeof retry, "%.*s:%d:%s", (int)(end - id), id, (int)b->attempt + 1, job);
    const struct chr_run *r = find_run(l, retry);
    char at[CHR_INSTANT_TEXT_MAX];
    if (r == NULL || r->cause != CHR_CAUSE_RETRY)
        return;
    chr_instant_format(chr_core_run_ready_ms(r), at);
    chr_log_event(CHR_LOG_INFO, job, retry, "run %s of job %s retries %s (attempt %d) at %s", retry,
                  job, id, (int)r->attempt, at);
}

static void log_after(struct chr_loop *l, const struct chr_event *ev, const struct log_before *b,
                      const struct chr_actions *acts)
{
    if (!l->cfg.verbose)
        return;
    if (ev->type == CHR_EV_PUT_JOB || ev->type == CHR_EV_DELETE_JOB)
        for (size_t i = 0; i < acts->n; i++)
            if (acts->v[i].type == CHR_ACT_PERSIST)
                log_job_items(ev, b, &acts->v[i]);
    if (ev->type == CHR_EV_TASK_STATUS && b->active)
        log_run_end(l, ev, b);
}

/* The core failed (a batch failed): why, in words for the log and for the
 * answers to writes from now on. */
static void note_failure(struct chr_loop *l)
{
    struct chr_store_health h;
    chr_store_health(l->cfg.store, &h);
    if (!h.ok)
        snprintf(l->fail_why, sizeof l->fail_why, "store unavailable: %s", h.cause);
    else /* the store works: the epoch check failed, another server leads */
        snprintf(l->fail_why, sizeof l->fail_why,
                 "this server is no longer the leader (a write of its found another's)");
}

/* Steps the core with one event; requests get their pending entry first. */
static void step(struct chr_loop *l, struct qitem *it)
{
    if (it->ev.type == CHR_EV_TASK_STATUS && it->ev.u.status.state == CHR_RUN_QUEUED)
        fill_offer(l, &it->ev);
    if (it->done != NULL) {
        struct pending *p = chr_calloc(1, sizeof *p);
        if (p == NULL) {
            it->done(it->ctx, CHR_ENOMEM, "out of memory");
            return;
        }
        *p = (struct pending){l->pending, ++l->next_request_id, it->done, it->ctx};
        l->pending = p;
        it->ev.request_id = p->id;
    }
    bool orphan = is_orphan(l, &it->ev);
    struct run_before before;
    observe_before(l, &it->ev, &before);
    struct log_before lb;
    log_before(l, &it->ev, &lb);
    struct chr_actions acts = {NULL, 0};
    enum chr_err e = chr_core_step(l->core, chr_clock_wall_ms(), &it->ev, &acts);
    if (e == CHR_EUNAVAIL && l->fail_why[0] == '\0')
        note_failure(l);
    observe_after(l, &it->ev, &before);
    log_after(l, &it->ev, &lb, &acts);
    if (orphan)
        forget_orphan(l, it->ev.u.status.run_id);
    if (it->ev.type == CHR_EV_PUT_JOB || it->ev.type == CHR_EV_LOAD_JOB)
        memset(&it->ev.u.job, 0, sizeof it->ev.u.job); /* moved into the core */
    if (e != CHR_OK && it->done != NULL)
        reply(l, it->ev.request_id, e, chr_err_message(e));
    if (it->ev.type == CHR_EV_STORE_DONE && it->ev.u.store.result == CHR_OK)
        release_items(l, it->ev.u.store.batch_id); /* before the replies it allows */
    l->orphan_step = orphan;
    execute(l, &acts);
    l->orphan_step = false;
    /* A status the core wrote is shown once its batch is durable (the job
     * is held by then); one it did not write is shown now. */
    if (it->ev.type == CHR_EV_TASK_STATUS)
        touch_run(l, it->ev.u.status.run_id);
    if (it->ev.type == CHR_EV_STORE_DONE)
        l->rm->ops->stored(l->rm, it->ev.u.store.batch_id, it->ev.u.store.result);
    l->rm->ops->settle(l->rm, &it->ev, it->token, l->last_batch);
    chr_view_flush(l->view, l->core);
    publish_gauges(l);
    struct chr_core_counts c;
    chr_core_counts(l->core, &c);
    if (c.failed)
        fence(l, l->fail_why);
}

/* ---- The thread ---------------------------------------------------------------- */

/* Waits for an item or the core's next wakeup; NULL means "time passed". */
static struct qitem *wait_item(struct chr_loop *l)
{
    pthread_mutex_lock(&l->mu);
    while (l->head == NULL && !l->stopping) {
        int64_t wake = chr_core_next_wakeup(l->core);
        if (wake <= chr_clock_wall_ms())
            break;
        if (wake == INT64_MAX) {
            pthread_cond_wait(&l->cond, &l->mu);
            continue;
        }
        struct timespec ts = chr_clock_wall_ts(wake);
        pthread_cond_timedwait(&l->cond, &l->mu, &ts);
    }
    struct qitem *it = l->head;
    if (it != NULL && !l->stopping) {
        l->head = it->next;
        l->qlen--;
        if (l->head == NULL)
            l->tail = NULL;
    } else {
        it = NULL;
    }
    pthread_mutex_unlock(&l->mu);
    return it;
}

static void *thread_main(void *arg)
{
    struct chr_loop *l = arg;
    prctl(PR_SET_TIMERSLACK, 1UL, 0UL, 0UL, 0UL); /* wake on time, not 50 us late */
    for (;;) {
        pthread_mutex_lock(&l->mu);
        bool stop = l->stopping;
        pthread_mutex_unlock(&l->mu);
        if (stop)
            break;
        struct qitem *it = wait_item(l);
        if (it == NULL) {
            struct qitem tick = {.kind = Q_EVENT, .ev = {.type = CHR_EV_TIME}};
            step(l, &tick);
            continue;
        }
        if (it->kind == Q_QUERY)
            it->query(it->ctx, l->core, chr_clock_wall_ms());
        else
            step(l, it);
        item_free(it);
    }
    return NULL;
}

/* ---- Startup: load the store into the core ----------------------------------------- */

/* Nodes read per round of a load (jobs take two: definition and state). */
#define LOAD_CHUNK 1024

/* Loads the nodes of one shard directory of `kind`, LOAD_CHUNK at a time,
 * each read pipelined (chr_store_get_many). */
typedef enum chr_err load_fn(struct chr_loop *l, const char *path, struct chr_store_got *def,
                             struct chr_store_got *state);

/* A shard directory's path with its '/', to put names after. */
struct shard_dir {
    char path[CHR_STORE_PATH_MAX];
    size_t len;
};

static void shard_dir(struct shard_dir *d, const char *root, const char *kind, const char *shard)
{
    int n = snprintf(d->path, sizeof d->path, "%s/%s/%s/", root, kind, shard);
    d->len = n < 0 ? 0 : (size_t)n < sizeof d->path ? (size_t)n : sizeof d->path - 1;
}

/* dir/name into out, cut at CHR_STORE_PATH_MAX as snprintf would (two per
 * job at a start: a million snprintf calls were 5% of a load). */
static void path_in(char out[CHR_STORE_PATH_MAX], const struct shard_dir *d, const char *name)
{
    size_t n = strnlen(name, CHR_STORE_PATH_MAX);
    if (d->len + n >= CHR_STORE_PATH_MAX)
        n = CHR_STORE_PATH_MAX - 1 - d->len;
    memcpy(out, d->path, d->len);
    memcpy(out + d->len, name, n);
    out[d->len + n] = '\0';
}

static enum chr_err load_shard(struct chr_loop *l, const char *kind, const char *shard,
                               const struct chr_store_names *names, load_fn *one)
{
    bool jobs = strcmp(kind, CHR_KIND_JOBS) == 0;
    if (names->n == 0)
        return CHR_OK;
    struct shard_dir dirs[2];
    shard_dir(&dirs[0], l->cfg.root, kind, shard);
    shard_dir(&dirs[1], l->cfg.root, CHR_KIND_STATE, shard);
    /* As many paths as one round reads (up to 2 MB): sized to the shard, as
     * a start reads up to 3 x 256 of them, most small or empty. */
    size_t per_round = (names->n < LOAD_CHUNK ? names->n : LOAD_CHUNK) * (jobs ? 2 : 1);
    char(*paths)[CHR_STORE_PATH_MAX] = chr_malloc(per_round * sizeof *paths);
    const char *ptrs[2 * LOAD_CHUNK];
    struct chr_store_got got[2 * LOAD_CHUNK];
    enum chr_err e = paths != NULL ? CHR_OK : CHR_ENOMEM;
    for (size_t at = 0; at < names->n && e == CHR_OK; at += LOAD_CHUNK) {
        size_t n = names->n - at < LOAD_CHUNK ? names->n - at : LOAD_CHUNK, k = 0;
        for (size_t i = 0; i < n; i++) {
            path_in(paths[k], &dirs[0], names->names[at + i]);
            ptrs[k] = paths[k], k++;
            if (jobs) { /* its state sits at the same shard and name under state/ */
                path_in(paths[k], &dirs[1], names->names[at + i]);
                ptrs[k] = paths[k], k++;
            }
        }
        if ((e = chr_store_get_many(l->cfg.store, ptrs, k, got)) != CHR_OK)
            break;
        for (size_t i = 0, g = 0; i < n && e == CHR_OK; i++, g += jobs ? 2 : 1)
            e = one(l, ptrs[g], &got[g], jobs ? &got[g + 1] : NULL);
        chr_store_got_free(got, k);
    }
    chr_free(paths);
    return e;
}

static enum chr_err load_kind(struct chr_loop *l, const char *kind, load_fn *one,
                              struct chr_error *err)
{
    char dir[CHR_STORE_PATH_MAX];
    snprintf(dir, sizeof dir, "%s/%s", l->cfg.root, kind);
    struct chr_store_names *shards = NULL;
    enum chr_err e = chr_store_children(l->cfg.store, dir, &shards);
    if (e == CHR_ENOENT)
        return CHR_OK;
    if (e != CHR_OK)
        return chr_error_set(err, e, "store", "cannot list %s: %s", dir, chr_err_message(e));
    for (size_t i = 0; i < shards->n && e == CHR_OK; i++) {
        char sdir[CHR_STORE_PATH_MAX];
        struct chr_store_names *names = NULL;
        int n = snprintf(sdir, sizeof sdir, "%s/%s", dir, shards->names[i]);
        if (n < 0 || (size_t)n >= sizeof sdir)
            continue;
        if ((e = chr_store_children(l->cfg.store, sdir, &names)) != CHR_OK)
            break;
        e = load_shard(l, kind, shards->names[i], names, one);
        chr_store_names_free(names);
    }
    chr_store_names_free(shards);
    if (e != CHR_OK)
        chr_error_set(err, e, "store", "loading %s: %s", kind, chr_err_message(e));
    return e;
}

/* Steps a load event at once (before the thread runs). */
static enum chr_err load_step(struct chr_loop *l, struct chr_event *ev)
{
    struct chr_actions acts = {NULL, 0};
    enum chr_err e = chr_core_step(l->core, chr_clock_wall_ms(), ev, &acts);
    if (e == CHR_OK)
        execute(l, &acts);
    return e;
}

static enum chr_err load_job(struct chr_loop *l, const char *path, struct chr_store_got *def,
                             struct chr_store_got *state)
{
    struct chr_error err = {{0}, {0}};
    struct chr_event ev = {.type = CHR_EV_LOAD_JOB};
    if (def->err == CHR_ENOENT)
        return CHR_OK; /* deleted since it was listed */
    if (def->err != CHR_OK)
        return def->err;
    enum chr_err e = chr_job_from_json(def->data, def->len, &l->cfg.defaults, CHR_JOB_HINT_ANY,
                                       chr_clock_wall_ms(), &ev.u.job.job, &err);
    if (e != CHR_OK) {
        fprintf(stderr, "chronos: skipping stored job %s: %s\n", path, err.message);
        return e == CHR_ENOMEM ? e : CHR_OK;
    }
    chr_job_state_init(&ev.u.job.state);
    ev.u.job.stateless = state->err != CHR_OK;
    if (state->err == CHR_OK &&
        chr_state_from_json(state->data, state->len, &ev.u.job.state, &err) != CHR_OK) {
        fprintf(stderr, "chronos: job %s: bad state (%s), starting afresh\n",
                ev.u.job.job.name, err.message);
        chr_job_state_free(&ev.u.job.state);
        chr_job_state_init(&ev.u.job.state);
        ev.u.job.stateless = true;
    }
    if ((state->err != CHR_OK && chr_strmap_put(&l->nostate, ev.u.job.job.name, 0) != CHR_OK) ||
        chr_nameset_add(&l->jobs, ev.u.job.job.name) != CHR_OK) {
        chr_job_free(&ev.u.job.job);
        chr_job_state_free(&ev.u.job.state);
        return CHR_ENOMEM;
    }
    char name[CHR_JOB_NAME_MAX + 1];
    snprintf(name, sizeof name, "%s", ev.u.job.job.name);
    /* The zone is read here: the core reads no file.  One that cannot be read
     * is refused by the core, which names it. */
    const struct chr_tz *tz = NULL;
    if (chr_job_zone(&ev.u.job.job) != NULL)
        (void)chr_tzdb_get(l->cfg.core.tzdb, chr_job_zone(&ev.u.job.job), &tz, &err);
    if ((e = load_step(l, &ev)) != CHR_OK && e != CHR_ENOMEM)
        fprintf(stderr, "chronos: stored job %s refused: %s\n", name, chr_err_message(e));
    return e == CHR_ENOMEM ? e : CHR_OK;
}

static enum chr_err load_packed(void *ctx, const char *path, struct chr_store_got *def,
                               struct chr_store_got *state)
{
    return load_job(ctx, path, def, state);
}

static enum chr_err load_run(struct chr_loop *l, const char *path, struct chr_store_got *got,
                             struct chr_store_got *unused)
{
    (void)unused;
    struct chr_error err = {{0}, {0}};
    struct chr_event ev = {.type = CHR_EV_LOAD_RUN};
    if (got->err == CHR_ENOENT)
        return CHR_OK;
    if (got->err != CHR_OK)
        return got->err;
    enum chr_err e = chr_run_from_json(got->data, got->len, &ev.u.run, &err);
    if (e != CHR_OK) {
        fprintf(stderr, "chronos: skipping stored run %s: %s\n", path, err.message);
        return e == CHR_ENOMEM ? e : CHR_OK;
    }
    if (chr_strmap_put(&l->runs, ev.u.run.id, 0) != CHR_OK) {
        chr_free(ev.u.run.arguments);
        return CHR_ENOMEM;
    }
    e = load_step(l, &ev);
    return e == CHR_ENOMEM ? e : CHR_OK;
}

/* The shard directories of every kind, created once in one batch. */
static enum chr_err make_dirs(struct chr_loop *l, struct chr_error *err)
{
    static const char *const kinds[] = {CHR_KIND_JOBS, CHR_KIND_STATE, CHR_KIND_RUNS};
    struct ops *o = l->ops;
    o->n = 0;
    enum chr_err e = chr_store_mkdirs(l->cfg.store, l->cfg.root);
    for (size_t k = 0; k < 3 && e == CHR_OK; k++) {
        snprintf(o->path[o->n], CHR_STORE_PATH_MAX, "%s/%s", l->cfg.root, kinds[k]);
        e = chr_store_mkdirs(l->cfg.store, o->path[o->n]);
        /* One listing tells which shards exist (a get each costs a round trip). */
        bool have[CHR_STORE_SHARDS] = {false};
        struct chr_store_names *names = NULL;
        if (e == CHR_OK && (e = chr_store_children(l->cfg.store, o->path[o->n], &names)) == CHR_OK) {
            chr_store_shards_listed(names, have);
            chr_store_names_free(names);
        }
        for (unsigned s = 0; s < CHR_STORE_SHARDS && e == CHR_OK; s++) {
            if (have[s])
                continue;
            snprintf(o->path[o->n], CHR_STORE_PATH_MAX, "%s/%s/%02x", l->cfg.root, kinds[k], s);
            o->op[o->n] = (struct chr_store_op){CHR_STORE_CREATE, o->path[o->n], NULL, 0, -1};
            o->n++;
        }
    }
    if (e == CHR_OK && o->n > 0)
        e = chr_store_submit_wait(l->cfg.store, o->op, o->n, NULL);
    if (e != CHR_OK)
        chr_error_set(err, e, "store", "cannot create the tree under %s: %s", l->cfg.root,
                      chr_err_message(e));
    return e;
}

static enum chr_err start_rm(struct chr_loop *l, struct chr_error *err)
{
    if (l->cfg.mesos != NULL) {
        struct chr_rm_mesos_config mc = *l->cfg.mesos;
        mc.store = l->cfg.store, mc.root = l->cfg.root, mc.verbose = l->cfg.verbose;
        mc.may_start = (struct chr_rm_gate){l->cfg.may_launch, l->cfg.fence_ctx};
        return chr_rm_mesos_create(&mc, l, &l->rm, err);
    }
    struct chr_rm_local_config lc = {l->cfg.runs_dir, l->cfg.chronos_bin, l->cfg.resources,
                                     l->cfg.cgroups_off, l->cfg.runtime,
                                     {l->cfg.may_launch, l->cfg.fence_ctx}};
    return chr_rm_local_create(&lc, l, &l->rm, err);
}

enum chr_err chr_loop_start(const struct chr_loop_config *cfg, struct chr_loop **out,
                            struct chr_error *err)
{
    struct chr_loop *l = chr_calloc(1, sizeof *l);
    if (l == NULL || (l->ops = chr_calloc(1, sizeof *l->ops)) == NULL) {
        chr_free(l);
        return chr_error_set(err, CHR_ENOMEM, "", "out of memory");
    }
    l->sched.ops = &sched_ops;
    l->cfg = *cfg;
    l->started_ms = chr_clock_wall_ms();
    pthread_mutex_init(&l->mu, NULL);
    pthread_cond_init(&l->cond, NULL);
    enum chr_err e = chr_view_create(&l->view);
    if (e == CHR_OK)
        e = chr_metrics_create(&l->metrics);
    if (e != CHR_OK)
        chr_error_set(err, e, "", "out of memory");
    if (e == CHR_OK)
        e = start_rm(l, err);
    if (e == CHR_OK) {
        /* A job that needs more than any offer can hold could never start. */
        struct chr_core_config cc = cfg->core;
        l->rm->ops->max_offer(l->rm, &cc.max_cpus, &cc.max_mem_mb, &cc.max_disk_mb);
        if ((e = chr_core_create(&cc, &l->core)) != CHR_OK)
            chr_error_set(err, e, "", "cannot create the core: %s", chr_err_message(e));
    }
    if (e == CHR_OK)
        e = make_dirs(l, err);
    if (e == CHR_OK && cfg->notify != NULL && chr_notify_configured(cfg->notify))
        e = chr_notify_start(cfg->notify, cfg->store, cfg->root, l->metrics, &l->notify, err);
    if (e == CHR_OK && cfg->packs) {
        struct chr_packs_config pc = {cfg->store, cfg->root, cfg->fence_path, cfg->verbose, 0};
        if ((e = chr_packs_create(&pc, &l->packs)) != CHR_OK)
            chr_error_set(err, e, "", "cannot create the packs: %s", chr_err_message(e));
        else
            e = chr_packs_make_dirs(l->packs, err);
    }
    struct chr_packs_load_stats ps = {0, 0, 0, 0};
    if (e == CHR_OK && l->packs != NULL)
        e = chr_packs_load(l->packs, load_packed, l, &ps, err);
    else if (e == CHR_OK)
        e = load_kind(l, CHR_KIND_JOBS, load_job, err);
    if (e == CHR_OK)
        e = load_kind(l, CHR_KIND_RUNS, load_run, err);
    chr_store_loaded(l->cfg.store); /* what the store kept for this load may go */
    struct chr_event done = {.type = CHR_EV_LOAD_DONE};
    if (e == CHR_OK && (e = load_step(l, &done)) != CHR_OK)
        chr_error_set(err, e, "", "cannot finish loading: %s", chr_err_message(e));
    if (e == CHR_OK) {
        chr_view_rebuild(l->view, l->core);
        publish_gauges(l);
    }
    if (e == CHR_OK)
        e = l->rm->ops->start(l->rm, err);
    if (e == CHR_OK && pthread_create(&l->thread, NULL, thread_main, l) != 0)
        e = chr_error_set(err, CHR_ENOMEM, "", "cannot start the scheduler thread");
    if (e != CHR_OK) {
        chr_loop_stop(l);
        return e;
    }
    l->thread_started = true;
    struct chr_event kick = {.type = CHR_EV_TIME}; /* a first step makes any offer wanted */
    push_internal(l, &kick, NULL, NULL);
    logf_(l, "loaded %zu jobs and %zu open runs", chr_core_job_count(l->core), l->runs.len);
    if (l->packs != NULL)
        logf_(l, "packs: %zu jobs taken from packs, %zu read node by node (%u shards without a "
                 "usable pack, %zu stale entries)",
              ps.from_packs, ps.read, ps.bad_shards, ps.stale);
    *out = l;
    return CHR_OK;
}

static void loop_stop(struct chr_loop *l, bool exiting)
{
    pthread_mutex_lock(&l->mu);
    l->stopping = true;
    pthread_cond_broadcast(&l->cond);
    pthread_mutex_unlock(&l->mu);
    if (l->thread_started)
        pthread_join(l->thread, NULL);
    /* The store's completions first: they collect finished runs from the
     * resource manager, which must still be there (a batch completing after
     * it was freed was a use-after-free at every stop with runs ending).
     * Then the resource manager (what its thread pushes now is dropped with
     * the queue), then whatever is left in the queue. */
    chr_store_flush(l->cfg.store);
    chr_notify_stop(l->notify); /* what it has not delivered stays in the outbox */
    if (l->rm != NULL)
        l->rm->ops->stop(l->rm);
    /* Every completion has come: pack what is held, unless deposed. */
    chr_packs_destroy(l->packs, l->fenced ? 0 : CHR_PACKS_FLUSH_MS);
    for (struct qitem *it = l->head, *next; it != NULL; it = next) {
        next = it->next;
        if (it->done != NULL)
            it->done(it->ctx, CHR_EUNAVAIL, "the server is stopping");
        if (it->query != NULL)
            it->query(it->ctx, NULL, chr_clock_wall_ms());
        item_free(it);
    }
    for (struct pending *p = l->pending, *next; p != NULL; p = next) {
        next = p->next;
        p->done(p->ctx, CHR_EUNAVAIL, "the server is stopping");
        chr_free(p);
    }
    if (l->rm != NULL)
        l->rm->ops->destroy(l->rm);
#ifdef CHR_TESTING
    exiting = false; /* loop.h: the test builds free everything */
#endif
    if (!exiting) { /* what grows with the jobs */
        chr_core_destroy(l->core);
        chr_view_destroy(l->view);
        chr_nameset_free(&l->jobs);
        chr_strmap_free(&l->runs);
        chr_strmap_free(&l->nostate);
    }
    chr_metrics_destroy(l->metrics);
    wbatches_free(l);
    pthread_cond_destroy(&l->cond);
    pthread_mutex_destroy(&l->mu);
    chr_free(l->ops);
    chr_free(l);
}

void chr_loop_stop(struct chr_loop *l)
{
    if (l != NULL)
        loop_stop(l, false);
}

void chr_loop_stop_exit(struct chr_loop *l)
{
    if (l != NULL)
        loop_stop(l, true);
}

/* ---- What the API sees (api/sched.h) ------------------------------------------ */

static struct chr_view *sched_view(struct chr_sched *s)
{
    struct chr_loop *l = (struct chr_loop *)s;
    return l->view;
}

static struct chr_metrics *sched_metrics(struct chr_sched *s)
{
    struct chr_loop *l = (struct chr_loop *)s;
    return l->metrics;
}

static struct chr_tzdb *sched_tzdb(struct chr_sched *s)
{
    struct chr_loop *l = (struct chr_loop *)s;
    return l->cfg.core.tzdb;
}

static bool sched_healthy(struct chr_sched *s, char *why, size_t cap)
{
    struct chr_loop *l = (struct chr_loop *)s;
    struct chr_metrics_sample m;
    chr_metrics_read(l->metrics, &m); /* published by the loop after each step */
    if (m.gauges.store_healthy)
        return true;
    struct chr_store_health h;
    chr_store_health(l->cfg.store, &h);
    if (!h.ok)
        snprintf(why, cap, "store unavailable: %s", h.cause);
    else
        snprintf(why, cap, "scheduling stopped: this server is no longer the leader");
    return false;
}

static enum chr_err sched_request(struct chr_sched *s, struct chr_event *ev,
                                  chr_sched_done_fn *done, void *ctx)
{
    return chr_loop_request((struct chr_loop *)s, ev, done, ctx);
}

static bool sched_containers(struct chr_sched *s)
{
    struct chr_loop *l = (struct chr_loop *)s;
    return l->cfg.mesos != NULL || l->cfg.runtime != CHR_LOCAL_RUNTIME_NONE;
}

/* An HTTP thread: the resource manager takes its own lock (rm.h), and it
 * lives as long as the loop the API was handed. */
static json_t *sched_resources(struct chr_sched *s)
{
    struct chr_loop *l = (struct chr_loop *)s;
    struct chr_rm_resources r;
    l->rm->ops->resources(l->rm, &r);
    json_t *o = chr_rm_resources_json(&r);
    chr_free(r.agents);
    return o;
}

/* ---- `chronos notify test` (any thread) ----------------------------------------- */

struct notify_test_ctx {
    chr_sched_answer_fn *done;
    void *ctx;
    char job[CHR_JOB_NAME_MAX + 1];
};

static void notify_tested(void *ctx, const char *id, const struct chr_notify_test_result *res)
{
    struct notify_test_ctx *t = ctx;
    t->done(t->ctx, chr_notify_test_json(id, t->job, res));
    chr_free(t);
}

static enum chr_err sched_notify_test(struct chr_sched *s, const struct chr_job *job,
                                      const struct chr_job_stats *stats,
                                      chr_sched_answer_fn *done, void *ctx)
{
    struct chr_loop *l = (struct chr_loop *)s;
    if (l->notify == NULL) { /* no sink configured: the answer says so */
        struct chr_notify_test_result none;
        memset(&none, 0, sizeof none);
        done(ctx, chr_notify_test_json(NULL, job != NULL ? job->name : NULL, &none));
        return CHR_OK;
    }
    struct chr_notice nt;
    memset(&nt, 0, sizeof nt);
    nt.kind = CHR_NOTICE_TEST;
    nt.job = job;
    if (stats != NULL)
        nt.stats = *stats;
    else
        chr_job_stats_init(&nt.stats);
    nt.started_ms = nt.ended_ms = nt.first_ms = nt.last_ms = INT64_MIN;
    int64_t now = chr_clock_wall_ms();
    char id[CHR_NOTIFY_ID_MAX];
    chr_notify_new_id(l->notify, now, id);
    struct notify_test_ctx *t = chr_calloc(1, sizeof *t);
    struct chr_notify_rec rec;
    if (t == NULL || chr_notify_rec_make(&nt, id, now, 0, &rec) != CHR_OK) {
        chr_free(t);
        return CHR_ENOMEM;
    }
    *t = (struct notify_test_ctx){.done = done, .ctx = ctx};
    snprintf(t->job, sizeof t->job, "%s", job != NULL ? job->name : "");
    logf_(l, "notification %s: a test%s%s, through every sink", id, job ? " for job " : "",
          job ? job->name : "");
    enum chr_err e = chr_notify_test_start(l->notify, &rec, notify_tested, t);
    if (e != CHR_OK)
        chr_free(t);
    return e;
}

static const struct chr_sched_ops sched_ops = {
    .request = sched_request,
    .view = sched_view,
    .metrics = sched_metrics,
    .tzdb = sched_tzdb,
    .healthy = sched_healthy,
    .containers = sched_containers,
    .resources = sched_resources,
    .notify_test = sched_notify_test,
};

struct chr_sched *chr_loop_sched(struct chr_loop *l)
{
    return l ? &l->sched : NULL;
}
