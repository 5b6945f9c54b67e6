/*
 * core_int.h - the private structures of the scheduling core (core.h), shared
 * by its files: core.c (step, lifecycle, queries), core_heap.c (binary
 * heaps), core_map.c (job and run indexes), core_out.c (actions, persist
 * batches, snapshots, replies), core_state.c (job state, ledger, history),
 * core_due.c (due instants), core_run.c (runs, status, retries,
 * dependents), core_offer.c (offers and matching), core_req.c (requests),
 * core_load.c (startup).
 *
 * Everything here obeys scheduler/'s rule: no I/O, no clock, no threads, no
 * global mutable state.  Ties in every queue break by a sequence number that
 * only grows, never by pointer or hash order.
 */
#ifndef CHR_CORE_INT_H
#define CHR_CORE_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/alloc.h"
#include "common/assert.h"
#include "common/limits.h"
#include "scheduler/constraint.h"
#include "scheduler/core.h"


/* ---- Policy constants (why each value) ----------------------------------- */

/* A new or re-scheduled job's first instant is the first one after now minus
 * this: a job whose start is "now" (the API's run-once default is
 * R1/<now>/...) still runs, while instants from before the job existed are
 * not caught up. */
#define CORE_START_GRACE_MS 5000
/* An earlier instant coalesced into a later one is "missed while down" when
 * the core was not loaded at the time or it is older than this; a younger
 * one was merely late (the loop lagged): "busy". */
#define CORE_LATE_TOLERANCE_MS (60 * 1000)
/* Instants iterated for one job in one go; a longer backlog (a per-minute job
 * after a year down) is ledgered in chunks, each its own atomic batch. */
#define CORE_DUE_CHUNK 2048
/* Schedule evaluations per step, so that a step stays short (~5 ms). */
#define CORE_DUE_ITER_BUDGET 16384
/* Consecutive launch failures (never running, or exit 126/127) after which
 * a job is flagged and its retries back off exponentially. */
#define CORE_LAUNCH_FAILURES_FLAG 3
/* Offers held at once; more are declined at once.  A cluster offers one per
 * agent; thousands of agents would each get their turn after refuse_ms. */
#define CORE_OFFERS_HELD_MAX 1024
/* An offer that no waiting run fits is declined for offer_refuse_ms, twice
 * that when the same runs still fit nothing at the next pass, and so on up
 * to this.  A filter covers only what was declined (the master offers an
 * agent again as soon as more of it is free) and new demand REVIVEs, which
 * clears filters: the backoff only stops offers that cannot help from
 * cycling every few seconds while a big run waits. */
#define CORE_REFUSE_MAX_MS (120 * 1000)
/* A launch that never started (the manager refused it: its offer was gone,
 * or the host could not make the run's directory) is tried again at once,
 * then after 1 s, 2 s, ... up to this: a host that cannot start anything
 * (a full disk) is not asked a thousand times a second. */
#define CORE_NOT_STARTED_BACKOFF_MAX_MS (10 * 1000)
/* How often a waiting run's reason ("largest free offer ...") is refreshed. */
#define CORE_WAIT_TEXT_MS 1000
/* Deleted jobs remembered (in memory) so that a job re-created under the same
 * name within the start grace keeps its run ids unique. */
#define CORE_TOMBSTONES_MAX 256

/* ---- Binary heap ------------------------------------------------------------ */

/* An entry orders by (k1, k2, seq), smallest first.  The owner keeps its
 * position in an int32_t at byte offset idx_off (-1: not in the heap). */
struct core_heap_ent {
    int64_t k1, k2;
    uint64_t seq;
    void *owner;
};

struct core_heap {
    struct core_heap_ent *v;
    size_t n, cap;
    size_t idx_off;
};

void core_heap_init(struct core_heap *h, size_t idx_off);
void core_heap_free(struct core_heap *h);
/* Room for `extra` more entries; CHR_ENOMEM leaves the heap unchanged. */
enum chr_err core_heap_reserve(struct core_heap *h, size_t extra);
/* Needs room (core_heap_reserve): never fails. */
void core_heap_push(struct core_heap *h, int64_t k1, int64_t k2, uint64_t seq, void *owner);
void core_heap_remove(struct core_heap *h, int32_t idx);
void core_heap_update(struct core_heap *h, int32_t idx, int64_t k1, int64_t k2, uint64_t seq);
/* The smallest entry, or NULL. */
const struct core_heap_ent *core_heap_top(const struct core_heap *h);
/* Sorts the entries in place (a sorted array is a heap), so that callers may
 * walk v[0..n) in order; then core_heap_drop_marked removes the entries whose
 * owner was set to NULL during the walk, keeping the order. */
void core_heap_sort(struct core_heap *h);
void core_heap_drop_marked(struct core_heap *h);

/* ---- Jobs and runs ---------------------------------------------------------- */

struct core_run;

/* parent -> child edge; parent_idx is the parent's index in child.parents. */
struct core_edge {
    struct core_job *child;
    uint32_t parent_idx;
};

/* A million of these are held: the members are ordered so that the small
 * ones share the padding words (368 -> 352 bytes). */
struct core_job {
    struct chr_job *def;  /* boxed (chr_job_box_new): immutable, shared with readers */
    struct chr_job_state st;
    struct chr_schedule sched; /* valid when `scheduled` */
    /* def's constraints compiled (NULL: none).  cons_bad: a stored job's
     * constraints did not compile (loaded under other rules): its runs wait,
     * saying so, until it is replaced. */
    struct chr_constraints *cons;
    bool scheduled;            /* has a schedule that parsed */
    bool cons_bad;
    bool ledger_open;          /* the newest ledger entry may still grow */
    bool dead;                 /* deleted this step: in the graveyard */
    bool unsaved;              /* st changed in memory only (counters reset at launch) */
    bool in_checks;            /* in core.checks (check_next) */
    uint32_t hash;
    int32_t heap_idx;          /* in core.due, -1 when not queued */
    uint32_t visit;            /* DFS mark (core.visit_epoch) */
    uint32_t n_pre_runs;       /* runs loaded before `pre` (below) applies */
    uint64_t seq;              /* registration order */
    int64_t skip_until_ms;     /* instants before it were while disabled */
    struct core_job *reg_prev, *reg_next;
    struct core_edge *children;
    uint32_t n_children, cap_children;
    struct core_run *runs, *runs_tail; /* active runs, oldest first (job_prev/next) */
    struct core_job *check_next; /* in core.checks: see whether it fires */
    uint32_t n_waiting;        /* recording or queued */
    uint32_t n_started;        /* launching, running, or reconciling */
    /* After a restart: the dependency counters loaded with runs whose launch
     * may have happened without its counter reset being durable.  If one of
     * them turns out to have started, these pre-start successes are taken
     * off; until then the job does not fire. */
    uint32_t *pre;
    struct core_job *grave_next;
};
#if UINTPTR_MAX == UINT64_MAX
/* A million are held: a member that breaks the packing shows here (with the
 * allocator's 8-byte header, 344 bytes are one 352-byte chunk). */
_Static_assert(sizeof(struct core_job) <= 344, "struct core_job grew past 344 bytes");
_Static_assert(sizeof(struct chr_job_state) <= 128, "struct chr_job_state grew past 128 bytes");
#endif

enum core_run_where { CORE_NOWHERE = 0, CORE_IN_DELAYED, CORE_IN_READY };
/* Which of the job's counters a run is in. */
enum core_run_count { CORE_COUNT_NONE = 0, CORE_COUNT_WAITING, CORE_COUNT_STARTED };

struct core_run {
    struct chr_run r;
    struct core_job *job;
    uint64_t seq;              /* creation order: the last tie-breaker */
    uint64_t rec_batch;        /* RECORDING: the batch that records it */
    int64_t ready_ms;          /* not started before (retry delay, due); launched
                                * from ready_ms - the launch lead */
    int32_t heap_idx;
    uint8_t where;             /* enum core_run_where */
    bool reconciling;          /* loaded; waiting for the manager's answer */
    bool high;                 /* high priority, fixed when queued */
    bool pre_launch;           /* loaded from a record made before its launch */
    bool res_wait;             /* the last matching pass found no offer it fits
                                * (r.reason says why) */
    int64_t wait_text_ms;      /* when r.reason was last written */
    int64_t wait_since_ms;     /* when res_wait began (the WAITING notice's clock) */
    int32_t wait_idx;          /* in core.waits, -1 when not there */
    uint8_t not_started;       /* launches in a row that never started (backoff) */
    uint8_t counted;           /* enum core_run_count */
    uint32_t hash;
    struct core_run *job_prev, *job_next;
    struct core_run *rec_prev, *rec_next;
    struct core_run *id_next;
    struct core_run *grave_next;
};

/* ---- Indexes ---------------------------------------------------------------- */

/* Jobs by name: open addressing, linear probing, backward-shift deletion. */
struct core_jobmap {
    struct core_job **slots;
    size_t cap, n;
};

/* Runs by id: chained. */
struct core_runmap {
    struct core_run **buckets;
    size_t cap, n;
};

/* The indexes' hash of a name or run id: common's FNV-1a 32. */
uint32_t core_hash(const char *s);
enum chr_err core_jobmap_reserve(struct core_jobmap *m, size_t extra);
struct core_job *core_jobmap_find(const struct core_jobmap *m, const char *name, uint32_t hash);
void core_jobmap_insert(struct core_jobmap *m, struct core_job *job); /* needs room */
void core_jobmap_remove(struct core_jobmap *m, struct core_job *job);
void core_jobmap_free(struct core_jobmap *m);

enum chr_err core_runmap_reserve(struct core_runmap *m, size_t extra);
struct core_run *core_runmap_find(const struct core_runmap *m, const char *id);
void core_runmap_insert(struct core_runmap *m, struct core_run *run); /* needs room */
void core_runmap_remove(struct core_runmap *m, struct core_run *run);
void core_runmap_free(struct core_runmap *m);

/* ---- Output: actions, persist batches, snapshots ------------------------- */

struct core_arena_block {
    struct core_arena_block *next;
    size_t used, cap;
    max_align_t data[];
};

struct core_reply {
    uint64_t batch;            /* answer once this batch is durable */
    uint64_t request_id;
    enum chr_err result;
    char message[CHR_ERROR_MESSAGE_MAX];
};

struct core_out {
    struct chr_action *acts;
    size_t *item_off;          /* per PERSIST action: its first item */
    size_t n_acts, cap_acts;
    struct chr_persist_item *items;
    size_t n_items, cap_items;
    bool batch_open;
    size_t batch_act, batch_item0;
    struct core_arena_block *blocks, *cur;
};

/* A held offer: o's borrowed pointers (hostname, attrs) are NULL here; its
 * attributes live, copied and prepared, in `attrs` (owned). */
struct core_offer {
    struct chr_offer o;
    struct chr_attrs *attrs;
    bool used;
};

struct core_tombstone {
    char name[CHR_JOB_NAME_MAX + 1];
    int64_t last_run_due_ms;
};

struct chr_core {
    struct chr_core_config cfg;
    bool loaded, failed;
    int64_t now_ms;
    int64_t loaded_ms;          /* when LOAD_DONE came */
    uint64_t seq;
    uint64_t last_batch;        /* the last batch id emitted */
    uint64_t durable_batch;     /* the last batch id reported durable */
    uint32_t visit_epoch;
    int64_t iter_budget;        /* schedule evaluations left in this step */
    bool more_work;             /* the step stopped early: wake at once */

    struct core_jobmap jobs;
    struct core_job *reg_head, *reg_tail;
    struct core_runmap runs;
    size_t n_waiting;           /* runs recording or queued, all jobs */

    struct core_heap due;       /* jobs by next_ms (handled from next_ms - lead) */
    struct core_heap delayed;   /* queued runs by max(ready_ms, due_ms) (ditto) */
    struct core_heap ready;     /* queued runs by (!high, due_ms) */
    /* Runs waiting for resources no offer had, by the instant their WAITING
     * notice is due (wait_since_ms + cfg.notify_waiting_ms): in
     * chr_core_next_wakeup.  Empty when the notice is off. */
    struct core_heap waits;
    struct core_run *rec_head, *rec_tail;
    struct core_run *loading;   /* LOAD_RUN before LOAD_DONE */

    struct core_offer *offers;
    size_t n_offers, cap_offers;
    bool dispatch_dirty, want_offers, suppressed, revived;
    /* A run became ready, or a job may start again, since the last matching
     * pass over held offers: the offers declined before did not see it. */
    bool demand_new;
    int64_t refuse_ms;          /* the next decline's filter while runs wait (backoff) */

    struct core_reply *replies; /* ring */
    size_t reply_head, n_replies, cap_replies;

    struct core_tombstone *tombs;
    size_t n_tombs;

    struct core_job *grave_jobs;
    struct core_run *grave_runs;
    const struct chr_job **grave_defs; /* replaced definitions (array), released next step */
    size_t n_grave_defs, cap_grave_defs;

    struct core_job **dfs_job;   /* cycle search: the path */
    uint32_t *dfs_idx;           /* and the next child to visit at each level */
    size_t cap_dfs;
    struct core_job *checks;     /* jobs whose dependency counters changed out of turn */
    struct core_run **prep;      /* runs allocated by a handler before it commits */
    size_t cap_prep;

    struct core_out out;
};

/* ---- The launch lead (core.h) ------------------------------------------ */

/* The latest instant the core works on now: now + the lead.  Instants and
 * runs due up to it are handled and launched in this step. */
static inline int64_t core_horizon_ms(const struct chr_core *c)
{
    int64_t lead = c->cfg.launch_lead_ms;
    return c->now_ms > INT64_MAX - lead ? INT64_MAX : c->now_ms + lead;
}

/* When work due at at_ms is done: the lead before it. */
static inline int64_t core_lead_ms(const struct chr_core *c, int64_t at_ms)
{
    int64_t lead = c->cfg.launch_lead_ms;
    return at_ms < INT64_MIN + lead ? INT64_MIN : at_ms - lead;
}

/* core_out.c */
void core_out_init(struct core_out *o);
void core_out_free(struct core_out *o);
void core_out_reset(struct core_out *o);
/* Room for `acts` actions, `items` persist items and `bytes` of snapshots;
 * after CHR_OK the emit functions below cannot fail within that room. */
enum chr_err core_reserve(struct chr_core *c, size_t acts, size_t items, size_t bytes);
size_t core_state_snap_size(const struct chr_job_state *st);
size_t core_run_snap_size(const struct chr_run *r);
/* An upper bound of a snapshot of `st` after any change one handler makes
 * (a full ledger and history). */
size_t core_state_snap_bound(const struct chr_core *c, const struct chr_job_state *st);
void core_batch_begin(struct chr_core *c);
uint64_t core_batch_id(const struct chr_core *c); /* of the open batch */
void core_batch_job(struct chr_core *c, struct core_job *j); /* JOB: def + state */
void core_batch_state(struct chr_core *c, struct core_job *j);
void core_batch_run(struct chr_core *c, struct core_run *r);
void core_batch_run_done(struct chr_core *c, struct core_run *r);
void core_batch_delete_job(struct chr_core *c, struct core_job *j);
/* The arena bytes of one notice item. */
size_t core_notice_bytes(void);
/* A NOTICE item about j (and run r, may be NULL) in the open batch; needs
 * room for one item and core_notice_bytes().  Returns it for the caller to
 * fill in the rest. */
struct chr_notice *core_batch_notice(struct chr_core *c, struct core_job *j,
                                     enum chr_notice_kind kind, const struct chr_run *r);
void core_batch_end(struct chr_core *c); /* emits it, or nothing if empty */
void core_emit_launch(struct chr_core *c, struct core_run *r, uint64_t offer_id,
                      int64_t not_before_ms);
void core_emit_run(struct chr_core *c, enum chr_action_type t, const struct chr_run *r);
/* A KILL for an id the core does not track (a snapshot in the arena). */
void core_emit_kill_id(struct chr_core *c, const char *run_id, const char *job);
void core_emit_decline(struct chr_core *c, uint64_t offer_id, int64_t refuse_ms);
void core_emit_simple(struct chr_core *c, enum chr_action_type t);
void core_note(struct chr_core *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Answers a request once every batch emitted so far is durable (at once when
 * none is pending).  Needs room for one action and a reply slot (reserve). */
enum chr_err core_reply_reserve(struct chr_core *c);
void core_reply(struct chr_core *c, uint64_t request_id, enum chr_err result, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* Emits the replies whose batch is now durable (or all, with `result`, when
 * the core failed). */
void core_replies_flush(struct chr_core *c, bool failed);
void core_out_finish(struct chr_core *c, struct chr_actions *out);

/* core_state.c */
/* Ensures room for CHR_LEDGER_MAX entries and history_max summaries. */
enum chr_err core_state_arrays(struct chr_core *c, struct chr_job_state *st, bool ledger,
                               bool history);
void core_ledger_add(struct core_job *j, enum chr_ledger_reason reason, int64_t first_ms,
                     int64_t last_ms, int64_t count);
void core_history_add(struct chr_core *c, struct core_job *j, const struct chr_run *r);

/* core_due.c */
void core_due_process(struct chr_core *c);
/* Puts the job in, moves it in, or takes it out of the due queue after its
 * next_ms, schedule or disabled flag changed.  Needs heap room for one. */
void core_due_requeue(struct chr_core *c, struct core_job *j);
/* Room in the due queue for every job and one more (before registering). */
enum chr_err core_due_room(struct chr_core *c);
/* Handles the job's instants <= now + the lead, if any (before a replace). */
enum chr_err core_due_job_now(struct chr_core *c, struct core_job *j);

/* core_run.c */
/* A new run, not yet linked (core_run_record); NULL on ENOMEM.  due_ms is
 * the id's instant: for manual and dependent runs the caller passes now and
 * it is raised above the job's last_run_due_ms. */
struct core_run *core_run_new(struct chr_core *c, struct core_job *j, enum chr_run_cause cause,
                              int64_t due_ms, int32_t attempt, const char *arguments);
void core_run_free(struct core_run *r);
/* Room for n more runs in the indexes and heaps. */
enum chr_err core_run_reserve(struct chr_core *c, size_t n);
/* Indexes a run under its job (runmap, the job's list); needs room. */
void core_run_attach(struct chr_core *c, struct core_run *r);
/* Links a new run as RECORDING in the open batch and persists it. */
void core_run_record(struct chr_core *c, struct core_run *r);
/* Moves a durable run to QUEUED: ready when its due_ms (a retry: the end of
 * its delay) is within the launch lead of now, else delayed. */
void core_run_enqueue(struct chr_core *c, struct core_run *r);
/* A queued run taken off its heap is launched on offer_id. Needs room for
 * 2 actions, 2 items and a run and state snapshot. */
void core_run_launch(struct chr_core *c, struct core_run *r, uint64_t offer_id);
size_t core_launch_bytes(const struct chr_core *c, const struct core_run *r);
/* Unlinks an active run and sends it to the graveyard. */
void core_run_unlink(struct chr_core *c, struct core_run *r);
void core_run_heap_out(struct chr_core *c, struct core_run *r);
void core_run_count(struct chr_core *c, struct core_run *r, enum core_run_count to);
void core_runs_recorded(struct chr_core *c, uint64_t batch);
void core_runs_promote(struct chr_core *c);
enum chr_err core_task_status(struct chr_core *c, const struct chr_event *ev);
/* Zeroes a dependent job's counters (it started); true if any was not 0. */
bool core_job_reset_counters(struct core_job *j);
int64_t core_retry_delay_ms(const struct chr_core *c, const struct core_job *j, int32_t attempt);
bool core_job_may_start(const struct core_job *j);
/* Success counters. */
void core_stats_success(struct chr_core *c, struct core_job *j);
void core_stats_failure(struct chr_core *c, struct core_job *j);
/* Adds an ended run's task time (ended - started) to its job's; nothing
 * for a run that never started. */
void core_stats_task_time(struct core_job *j, const struct chr_run *r);
/* Dependents of p after a success: allocate their runs into core.prep and
 * count the room they need (fire_prepare), then apply in the open batch
 * (fire_commit) or give the runs back (fire_cancel).  `extra_runs` is the
 * number of runs the caller has allocated besides. */
enum chr_err core_fire_prepare(struct chr_core *c, struct core_job *p, size_t extra_runs,
                               size_t *items, size_t *bytes);
void core_fire_commit(struct chr_core *c, struct core_job *p);
void core_fire_cancel(struct chr_core *c, struct core_job *p);
/* Queues j for a readiness check (its counters changed outside a success). */
void core_check_add(struct chr_core *c, struct core_job *j);
void core_checks_process(struct chr_core *c);

/* core_offer.c */
enum chr_err core_offer_add(struct chr_core *c, const struct chr_offer *o);
void core_offer_rescind(struct chr_core *c, uint64_t id);
void core_dispatch(struct chr_core *c);
/* Forgets every held offer (no action: the caller declines or is done). */
void core_offers_clear(struct chr_core *c);
void core_offers_policy(struct chr_core *c);
/* A run that was waiting for resources stops waiting (launched, killed,
 * deleted): out of core.waits. */
void core_wait_out(struct chr_core *c, struct core_run *r);
/* The WAITING notices that are due: one batch per run, recording the run
 * with wait_notified and the notice together. */
void core_waits_process(struct chr_core *c);

/* core_req.c */
enum chr_err core_put_job(struct chr_core *c, struct chr_event *ev);
enum chr_err core_run_job(struct chr_core *c, const struct chr_event *ev);
enum chr_err core_kill_job(struct chr_core *c, const struct chr_event *ev);
enum chr_err core_mark_success(struct chr_core *c, const struct chr_event *ev);
enum chr_err core_parse_schedule(struct chr_core *c, const struct chr_job *def,
                                 struct chr_schedule *out, struct chr_error *err);
/* Checks def (validated on its own) against the registry: resources, its
 * schedule parses and is not too dense, parents exist, no cycle.  *sched
 * and *scheduled for a scheduled job.  err filled on CHR_EINVAL. */
enum chr_err core_check_def(struct chr_core *c, const struct chr_job *def,
                            struct chr_schedule *sched, bool *scheduled, struct chr_error *err);
/* Counts for def's parents, keeping old's (parallel to old_def's parents)
 * of every parent that stays; *out NULL when def has none, or old is NULL
 * and `always` is false.  CHR_ENOMEM. */
enum chr_err core_remap_counts(const struct chr_job *old_def, const uint32_t *old, uint32_t n_old,
                               const struct chr_job *def, bool always, uint32_t **out);
/* Swaps def into j (moved into box, def zeroed; j takes counters[0..1] and
 * cons); the old definition lives until the next step.  A new schedule or
 * zone starts over from now.  Needs the edges', grave's and heap's room. */
void core_put_apply(struct chr_core *c, struct core_job *j, struct chr_job *def,
                    struct chr_job *box, const struct chr_schedule *sched, bool scheduled,
                    uint32_t *counters[2], struct chr_constraints *cons);
/* The job a named request is about, with its reply reserved.  CHR_ENOMEM:
 * nothing done.  CHR_OK with *j NULL: answered "not found". */
enum chr_err core_named_job(struct chr_core *c, const struct chr_event *ev, const char **name,
                            struct core_job **j);
/* The snapshot bytes of j's active runs; their number into *n. */
size_t core_runs_snap_bytes(const struct core_job *j, size_t *n);

/* core_delete.c */
enum chr_err core_delete_job(struct chr_core *c, const struct chr_event *ev);

/* core_load.c */
enum chr_err core_load_job(struct chr_core *c, struct chr_event *ev);
enum chr_err core_load_run(struct chr_core *c, struct chr_event *ev);
enum chr_err core_load_done(struct chr_core *c);

/* core.c: registry helpers shared by the files above */
struct core_job *core_job_find(const struct chr_core *c, const char *name);
/* Registers a job (map, order list), needs core_jobmap_reserve. */
void core_job_register(struct chr_core *c, struct core_job *j);
/* Room for a depth-first walk of n jobs (dfs_job, dfs_idx). */
enum chr_err core_dfs_reserve(struct chr_core *c, size_t n);
void core_job_unregister(struct chr_core *c, struct core_job *j);
void core_job_destroy(struct core_job *j);
/* Adds or removes the parent->child edges of j (resolving parents by name);
 * add needs core_edges_reserve. */
enum chr_err core_edges_reserve(struct chr_core *c, const struct chr_job *def);
enum chr_err core_children_room(struct core_job *p, uint32_t extra);
void core_edges_add(struct chr_core *c, struct core_job *j);
void core_edges_remove(struct chr_core *c, struct core_job *j);
uint64_t core_seq(struct chr_core *c);
enum chr_err core_prep_reserve(struct chr_core *c, size_t n);
void core_grave_def(struct chr_core *c, const struct chr_job *def); /* needs room */
enum chr_err core_grave_def_reserve(struct chr_core *c);
enum chr_err core_grave_defs_reserve(struct chr_core *c, size_t n); /* room for n */

#endif
