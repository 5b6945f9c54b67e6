/*
 * view.c - the read model (view.h): reference-counted immutable job views in
 * a table the scheduler thread updates under a short lock, and snapshots of
 * the table built on demand and shared between readers.
 *
 * The lock guards only the table (an index from names into an array kept in
 * registration order, the names the jobs' own) and the current snapshot; nobody renders or
 * copies a job under it.  The scheduler thread builds a job's new view first and then
 * swaps one pointer under the lock, so readers never wait for a copy.
 */
#include "api/view.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

#include "api/job_json.h"
#include "common/alloc.h"
#include "common/assert.h"
#include "common/clock.h"
#include "common/limits.h"
#include "common/strmap.h"

/* Active runs copied into a view; more (concurrent jobs) are not shown. */
#define VIEW_ACTIVE_MAX 256

struct jtext {
    size_t len;
    char text[];
};

/* One per job (a million are held): pub's runs and ledger are this view's
 * own arrays (chr_malloc'd, freed with it), not kept twice. */
struct vjob {
    struct chr_view_job pub; /* first: readers get &pub */
    atomic_uint refs;
    _Atomic(struct jtext *) json;
};
#if UINTPTR_MAX == UINT64_MAX
_Static_assert(sizeof(struct vjob) <= 136, "a job's view grew past a 144-byte chunk");
#endif

struct snap {
    struct chr_view_snap pub; /* first */
    atomic_uint refs;
    struct vjob **v;
    _Atomic(struct jtext *) memo[CHR_VIEW_MEMO_COUNT];
};

/* A set of names (the scheduler thread's touched jobs). */
struct nameset {
    char **slot;
    size_t cap, len;
};

/* One change the dashboard's polls may ask about: the job `name` was
 * published or removed at generation gen. */
struct change {
    uint64_t gen;
    char *name; /* chr_malloc'd; NULL: an empty slot */
};

/* Live jobs by name: open addressing (linear probing, backward-shift
 * deletion) over their places in `order`, with the name's hash; the name is
 * the job's own (order[place]->pub.def->name), never a copy: a million jobs
 * cost 8 bytes a slot here, not a key and a 24-byte entry each. */
struct vslot {
    uint32_t place1; /* place in order + 1; 0: empty */
    uint32_t hash;
};

struct vindex {
    struct vslot *slot;
    size_t cap, n; /* cap: 0 or a power of two */
};

struct chr_view {
    pthread_mutex_t mu;
    int64_t epoch_ms;      /* set at creation, never changed */
    /* Guarded by mu: */
    struct vjob **order;   /* registration order; NULL = removed */
    size_t n_order, cap_order, live;
    struct vindex index;   /* name -> its place in order (live jobs only) */
    uint64_t gen;
    struct snap *cur;
    /* The last CHR_VIEW_CHANGES_MAX changes, a ring (next: where the next
     * one goes); every change after generation `floor` is in it. */
    struct change *ring;
    size_t next;
    uint64_t floor;
    struct chr_view_counts counts;
    /* The scheduler thread only: */
    struct nameset touched;
    bool all;              /* rebuild everything at the next flush */
};

/* ---- Reference counts ------------------------------------------------------- */

static void vjob_release(struct vjob *j)
{
    if (j == NULL || atomic_fetch_sub(&j->refs, 1) != 1)
        return;
    chr_job_unbox(j->pub.def);
    chr_free((void *)(uintptr_t)j->pub.runs);
    chr_free((void *)(uintptr_t)j->pub.ledger);
    chr_free(atomic_load(&j->json));
    chr_free(j);
}

void chr_view_job_release(const struct chr_view_job *j)
{
    vjob_release((struct vjob *)j);
}

static void snap_release(struct snap *s)
{
    if (s == NULL || atomic_fetch_sub(&s->refs, 1) != 1)
        return;
    for (size_t i = 0; i < s->pub.n; i++)
        vjob_release(s->v[i]);
    for (int i = 0; i < CHR_VIEW_MEMO_COUNT; i++)
        chr_free(atomic_load(&s->memo[i]));
    chr_free(s->v);
    chr_free(s);
}

void chr_view_snap_release(const struct chr_view_snap *s)
{
    snap_release((struct snap *)s);
}

/* ---- What readers compute from a view --------------------------------------- */

const char *chr_view_job_status(const struct chr_view_job *j)
{
    const struct chr_job_stats *s = &j->stats;
    if (s->last_success_ms == INT64_MIN && s->last_error_ms == INT64_MIN)
        return "fresh";
    return s->last_success_ms > s->last_error_ms ? "success" : "failure"; /* a tie: failure, as Chronos */
}

const char *chr_view_job_state(const struct chr_view_job *j, char buf[32])
{
    if (j->n_running > 0) {
        snprintf(buf, 32, "%u running", (unsigned)j->n_running);
        return buf;
    }
    return j->n_queued > 0 ? "queued" : "idle";
}

unsigned chr_view_job_flags(const struct chr_view_job *j)
{
    unsigned f = 0;
    if (strcmp(chr_view_job_status(j), "failure") == 0)
        f |= CHR_VIEW_FAILING;
    if (j->n_running > 0)
        f |= CHR_VIEW_RUNNING;
    if (j->n_queued > 0)
        f |= CHR_VIEW_WAITING;
    if (j->def->disabled)
        f |= CHR_VIEW_DISABLED;
    return f;
}

const char *chr_view_last_run_state(const struct chr_view_job *j)
{
    if (j->n_finished == 0)
        return NULL;
    switch (j->runs[j->n_finished - 1].state) {
    case CHR_RUN_FINISHED: return "success";
    case CHR_RUN_FAILED: return "failure";
    case CHR_RUN_KILLED: return "killed";
    case CHR_RUN_LOST: return "lost";
    default: return NULL;
    }
}

/* The text in *slot, rendered into it by the first reader that needs it
 * (a reader that loses the race frees its own copy). */
static const char *memo(_Atomic(struct jtext *) *slot, char *(*render)(const void *, size_t *),
                        const void *arg, size_t *len)
{
    struct jtext *t = atomic_load(slot);
    if (t == NULL) {
        size_t n = 0;
        char *text = render(arg, &n);
        if (text == NULL)
            return NULL;
        struct jtext *mine = chr_malloc(sizeof *mine + n + 1);
        if (mine == NULL) {
            chr_free(text);
            return NULL;
        }
        mine->len = n;
        memcpy(mine->text, text, n);
        mine->text[n] = '\0';
        chr_free(text);
        struct jtext *expected = NULL;
        if (atomic_compare_exchange_strong(slot, &expected, mine)) {
            t = mine;
        } else {
            chr_free(mine);
            t = expected;
        }
    }
    *len = t->len;
    return t->text;
}

static char *render_job(const void *arg, size_t *len)
{
    const struct chr_view_job *j = arg;
    return chr_job_to_json(j->def, &j->stats, len);
}

const char *chr_view_job_json(const struct chr_view_job *pub, size_t *len)
{
    return memo(&((struct vjob *)pub)->json, render_job, pub, len);
}

struct snap_render {
    const struct chr_view_snap *s;
    chr_view_render_fn *fn;
};

static char *render_snap(const void *arg, size_t *len)
{
    const struct snap_render *sr = arg;
    return sr->fn(sr->s, len);
}

const char *chr_view_snap_memo(const struct chr_view_snap *pub, enum chr_view_memo which,
                               chr_view_render_fn *fn, size_t *len)
{
    struct snap_render sr = {pub, fn};
    return memo(&((struct snap *)pub)->memo[which], render_snap, &sr, len);
}

const char *chr_view_run_job(const char *run_id)
{
    if (run_id == NULL || strncmp(run_id, "ct:", 3) != 0)
        return NULL;
    const char *p = run_id + 3;
    for (int field = 0; field < 2; field++) {
        const char *q = p;
        if (*q == '-')
            q++;
        if (*q < '0' || *q > '9')
            return NULL;
        while (*q >= '0' && *q <= '9')
            q++;
        if (*q != ':')
            return NULL;
        p = q + 1;
    }
    return *p != '\0' ? p : NULL;
}

/* ---- Building a job's view (the scheduler thread) ---------------------------- */

/* Repeats left of a finite ISO schedule "R<n>/...", or -1. */
static int64_t remaining_repeats(const struct chr_job *job, const struct chr_job_state *st)
{
    const char *s = job->schedule;
    if (s == NULL || s[0] != 'R' || s[1] < '0' || s[1] > '9')
        return -1;
    int64_t n = 0;
    for (s++; *s >= '0' && *s <= '9' && n < INT64_MAX / 10 - 10; s++)
        n = n * 10 + (*s - '0');
    return n > st->instants_handled ? n - st->instants_handled : 0;
}

static void run_from_summary(struct chr_view_run *out, const char *job,
                             const struct chr_run_summary *h)
{
    *out = (struct chr_view_run){.state = h->state, .cause = h->cause, .due_ms = h->due_ms,
                                 .ready_ms = INT64_MIN, .started_ms = h->started_ms, .ended_ms = h->ended_ms,
                                 .attempt = h->attempt, .exit_code = h->exit_code};
    snprintf(out->id, sizeof out->id, "ct:%lld:%d:%s", (long long)h->due_ms, (int)h->attempt, job);
    snprintf(out->reason, sizeof out->reason, "%s", h->reason);
}

static void run_from_active(struct chr_view_run *out, const struct chr_run *r)
{
    *out = (struct chr_view_run){.state = r->state, .cause = r->cause, .due_ms = r->due_ms,
                                 .ready_ms = chr_core_run_ready_ms(r), .started_ms = r->started_ms, .ended_ms = r->ended_ms,
                                 .attempt = r->attempt, .exit_code = r->exit_code};
    snprintf(out->id, sizeof out->id, "%s", r->id);
    snprintf(out->reason, sizeof out->reason, "%s", r->reason);
}

/* The runs of a job: history, then active runs. */
static bool fill_runs(struct vjob *v, const struct chr_core *core, const struct chr_job *job,
                      const struct chr_job_state *st)
{
    const struct chr_run *active[VIEW_ACTIVE_MAX];
    size_t n_active = chr_core_job_runs(core, job->name, active, VIEW_ACTIVE_MAX);
    size_t n = st->history_len + n_active;
    struct chr_view_run *runs = NULL;
    if (n > 0 && (runs = chr_calloc(n, sizeof *runs)) == NULL)
        return false;
    for (uint32_t i = 0; i < st->history_len; i++)
        run_from_summary(&runs[i], job->name, &st->history[i]);
    for (size_t i = 0; i < n_active; i++) {
        run_from_active(&runs[st->history_len + i], active[i]);
        if (active[i]->state == CHR_RUN_RUNNING)
            v->pub.n_running++;
        else
            v->pub.n_queued++;
    }
    v->pub.runs = runs;
    v->pub.n_runs = (uint32_t)n;
    v->pub.n_finished = st->history_len;
    return true;
}

/* A new view of `job` (the core's boxed definition, shared). */
static struct vjob *vjob_make(const struct chr_core *core, const struct chr_job *job,
                              const struct chr_job_state *st)
{
    struct vjob *v = chr_calloc(1, sizeof *v);
    if (v == NULL)
        return NULL;
    atomic_init(&v->refs, 1);
    atomic_init(&v->json, NULL);
    chr_job_hold(job);
    v->pub.def = job;
    v->pub.stats = st->stats;
    v->pub.next_ms = st->next_ms == INT64_MAX ? INT64_MIN : st->next_ms;
    v->pub.remaining_repeats = remaining_repeats(job, st);
    if (st->ledger_len > 0) {
        struct chr_ledger_entry *ledger = chr_malloc(st->ledger_len * sizeof *ledger);
        if (ledger == NULL) {
            vjob_release(v);
            return NULL;
        }
        memcpy(ledger, st->ledger, st->ledger_len * sizeof *ledger);
        v->pub.ledger = ledger;
        v->pub.n_ledger = st->ledger_len;
    }
    if (!fill_runs(v, core, job, st)) {
        vjob_release(v);
        return NULL;
    }
    return v;
}

/* ---- The name index (under mu) ---------------------------------------------- */

static uint32_t vhash(const char *name)
{
    return chr_str_hash32(name, strlen(name));
}

static const char *vname(const struct chr_view *v, const struct vslot *e)
{
    return v->order[e->place1 - 1]->pub.def->name;
}

/* The slot of `name`, or of the empty slot where it would go (cap > 0). */
static size_t vindex_probe(const struct chr_view *v, const char *name, uint32_t h)
{
    const struct vindex *x = &v->index;
    size_t i = h & (x->cap - 1);
    while (x->slot[i].place1 != 0 &&
           (x->slot[i].hash != h || strcmp(vname(v, &x->slot[i]), name) != 0))
        i = (i + 1) & (x->cap - 1);
    return i;
}

static bool vindex_get(const struct chr_view *v, const char *name, uint64_t *place)
{
    if (v->index.cap == 0)
        return false;
    const struct vslot *e = &v->index.slot[vindex_probe(v, name, vhash(name))];
    if (e->place1 == 0)
        return false;
    *place = e->place1 - 1;
    return true;
}

/* Puts every live job of order into empty slots of `slot` (cap). */
static void vindex_fill(struct chr_view *v, struct vslot *slot, size_t cap)
{
    v->index = (struct vindex){slot, cap, 0};
    memset(slot, 0, cap * sizeof *slot);
    for (size_t i = 0; i < v->n_order; i++) {
        if (v->order[i] == NULL)
            continue;
        uint32_t h = vhash(v->order[i]->pub.def->name);
        size_t at = h & (cap - 1);
        while (slot[at].place1 != 0)
            at = (at + 1) & (cap - 1);
        slot[at] = (struct vslot){(uint32_t)i + 1, h};
        v->index.n++;
    }
}

/* Room for one more entry (at most 3/4 full); false when out of memory. */
static bool vindex_reserve(struct chr_view *v)
{
    if ((v->index.n + 1) * 4 <= v->index.cap * 3)
        return true;
    size_t cap = v->index.cap ? v->index.cap * 2 : 64;
    struct vslot *slot = chr_calloc(cap, sizeof *slot);
    if (slot == NULL)
        return false;
    chr_free(v->index.slot);
    vindex_fill(v, slot, cap); /* order holds exactly the indexed jobs */
    return true;
}

/* Indexes order[place] (whose name is not indexed yet); needs room. */
static void vindex_add(struct chr_view *v, size_t place)
{
    const char *name = v->order[place]->pub.def->name;
    uint32_t h = vhash(name);
    size_t i = vindex_probe(v, name, h);
    CHR_ASSERT(v->index.slot[i].place1 == 0 && place < UINT32_MAX);
    v->index.slot[i] = (struct vslot){(uint32_t)place + 1, h};
    v->index.n++;
}

/* Removes `name` (indexed, its job still in order): backward shift. */
static void vindex_del(struct chr_view *v, const char *name)
{
    struct vindex *x = &v->index;
    size_t mask = x->cap - 1, i = vindex_probe(v, name, vhash(name));
    CHR_ASSERT(x->slot[i].place1 != 0);
    for (size_t j = (i + 1) & mask; x->slot[j].place1 != 0; j = (j + 1) & mask) {
        size_t home = x->slot[j].hash & mask;
        /* j's entry may move to i when its home is not in (i, j]. */
        if (((j - home) & mask) >= ((j - i) & mask)) {
            x->slot[i] = x->slot[j];
            i = j;
        }
    }
    x->slot[i].place1 = 0;
    x->n--;
}

/* ---- The table (under mu) --------------------------------------------------- */

/* Drops removed entries from order, moving the live ones up: their places
 * in the index change, their keys do not, so nothing is allocated. */
static void table_compact(struct chr_view *v)
{
    size_t n = 0;
    for (size_t i = 0; i < v->n_order; i++)
        if (v->order[i] != NULL)
            v->order[n++] = v->order[i];
    v->n_order = n;
    vindex_fill(v, v->index.slot, v->index.cap); /* the same slots, new places */
}

/* Room for one more job at the end of order. */
static bool order_reserve(struct chr_view *v)
{
    if (v->n_order < v->cap_order)
        return true;
    size_t cap = v->cap_order ? v->cap_order * 2 : 64;
    struct vjob **o = chr_realloc(v->order, cap * sizeof *o);
    if (o == NULL)
        return false;
    v->order = o;
    v->cap_order = cap;
    return true;
}

/* Adds (or, with sign -1, takes away) job j to the counts (under mu). */
static void counts_add(struct chr_view_counts *c, const struct vjob *j, int sign)
{
    if (j == NULL)
        return;
    unsigned f = chr_view_job_flags(&j->pub);
    uint64_t d = (uint64_t)(int64_t)sign; /* wraps: -1 takes one away */
    c->total += d;
    c->failing += (f & CHR_VIEW_FAILING) ? d : 0;
    c->running += (f & CHR_VIEW_RUNNING) ? d : 0;
    c->waiting += (f & CHR_VIEW_WAITING) ? d : 0;
    c->disabled += (f & CHR_VIEW_DISABLED) ? d : 0;
}

/* Remembers that `name` changed at generation v->gen (under mu).  The
 * oldest change makes room; when the copy fails, every earlier cursor is
 * forgotten (its poll reloads) rather than missing a change. */
static void ring_add(struct chr_view *v, const char *name)
{
    if (v->ring == NULL) {
        v->floor = v->gen;
        return;
    }
    struct change *c = &v->ring[v->next];
    if (c->name != NULL)
        v->floor = c->gen; /* changes after it are still all here */
    chr_free(c->name);
    c->name = chr_strndup(name, strlen(name));
    c->gen = v->gen;
    if (c->name == NULL)
        v->floor = v->gen;
    v->next = (v->next + 1) % CHR_VIEW_CHANGES_MAX;
}

/* Puts `nj` (NULL: removes) as the view of `name`; the old view is
 * released.  Returns false (nothing changed) when out of memory. */
static bool table_set(struct chr_view *v, const char *name, struct vjob *nj)
{
    struct vjob *old = NULL;
    uint64_t idx = 0;
    pthread_mutex_lock(&v->mu);
    bool found = vindex_get(v, name, &idx);
    if (found) {
        old = v->order[idx];
        if (nj == NULL) {
            vindex_del(v, name); /* while order still holds its name */
            v->live--;
        }
        v->order[idx] = nj;
    } else if (nj != NULL) {
        if (!order_reserve(v) || !vindex_reserve(v)) {
            pthread_mutex_unlock(&v->mu);
            return false;
        }
        v->order[v->n_order++] = nj;
        vindex_add(v, v->n_order - 1);
        v->live++;
    }
    if (found || nj != NULL) {
        v->gen++;
        ring_add(v, name);
        counts_add(&v->counts, old, -1);
        counts_add(&v->counts, nj, 1);
    }
    if (v->n_order > 64 && v->live < v->n_order / 2)
        table_compact(v);
    pthread_mutex_unlock(&v->mu);
    vjob_release(old);
    return true;
}

/* The current view of `name` with a reference, or NULL. */
static struct vjob *table_get(struct chr_view *v, const char *name)
{
    struct vjob *j = NULL;
    uint64_t idx = 0;
    pthread_mutex_lock(&v->mu);
    if (vindex_get(v, name, &idx)) {
        j = v->order[idx];
        atomic_fetch_add(&j->refs, 1);
    }
    pthread_mutex_unlock(&v->mu);
    return j;
}

/* ---- Name sets --------------------------------------------------------------- */

static bool set_has(const struct nameset *s, const char *name)
{
    for (size_t i = 0; i < s->len; i++)
        if (strcmp(s->slot[i], name) == 0)
            return true;
    return false;
}

/* Adds a copy of name (linear: a step touches a handful of jobs; a set that
 * grows past its bound turns into "rebuild all"). */
static bool set_add(struct nameset *s, const char *name)
{
    if (set_has(s, name))
        return true;
    if (s->len >= 4096)
        return false;
    if (s->len == s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 16;
        char **p = chr_realloc(s->slot, cap * sizeof *p);
        if (p == NULL)
            return false;
        s->slot = p;
        s->cap = cap;
    }
    char *copy = chr_strndup(name, strlen(name));
    if (copy == NULL)
        return false;
    s->slot[s->len++] = copy;
    return true;
}

static void set_clear(struct nameset *s)
{
    for (size_t i = 0; i < s->len; i++)
        chr_free(s->slot[i]);
    s->len = 0;
}

/* ---- The scheduler thread's side ----------------------------------------------- */

void chr_view_touch(struct chr_view *v, const char *name)
{
    if (name != NULL && !v->all && !set_add(&v->touched, name))
        v->all = true;
}

void chr_view_touch_run(struct chr_view *v, const char *run_id)
{
    chr_view_touch(v, chr_view_run_job(run_id));
}

/* Publishes the core's current view of `name`; false when out of memory. */
/* Publishes the core's job `job` (state st), or the absence of `name`
 * when job is NULL. */
static bool publish_job(struct chr_view *v, const struct chr_core *core, const char *name,
                        const struct chr_job *job, const struct chr_job_state *st)
{
    if (job == NULL)
        return table_set(v, name, NULL);
    struct vjob *nj = vjob_make(core, job, st);
    if (nj == NULL)
        return false;
    if (!table_set(v, name, nj)) {
        vjob_release(nj);
        return false;
    }
    return true;
}

static bool publish(struct chr_view *v, const struct chr_core *core, const char *name)
{
    const struct chr_job_state *st = NULL;
    const struct chr_job *job = chr_core_job(core, name, &st);
    return publish_job(v, core, name, job, st);
}

void chr_view_flush(struct chr_view *v, const struct chr_core *core)
{
    if (v->all) {
        chr_view_rebuild(v, core);
        return;
    }
    bool ok = true;
    for (size_t i = 0; i < v->touched.len && ok; i++)
        ok = publish(v, core, v->touched.slot[i]);
    if (!ok) {
        v->all = true; /* some views are stale: rebuild them all at the next flush */
        return;
    }
    set_clear(&v->touched);
}

struct rebuild_ctx {
    struct chr_view *v;
    const struct chr_core *core;
    bool ok;
};

/* Each job as the core iterates it (a million at a start: no lookup of
 * each by name again). */
static void rebuild_one(void *ctx, const struct chr_job *job, const struct chr_job_state *st)
{
    struct rebuild_ctx *rc = ctx;
    if (rc->ok)
        rc->ok = publish_job(rc->v, rc->core, job->name, job, st);
}

void chr_view_rebuild(struct chr_view *v, const struct chr_core *core)
{
    struct rebuild_ctx rc = {v, core, true};
    /* Jobs the core no longer has go first. */
    const struct chr_view_snap *s = chr_view_snapshot(v);
    if (s == NULL) {
        v->all = true;
        return;
    }
    for (size_t i = 0; rc.ok && i < s->n; i++) {
        const struct chr_job_state *st = NULL;
        if (chr_core_job(core, s->jobs[i]->def->name, &st) == NULL)
            rc.ok = table_set(v, s->jobs[i]->def->name, NULL);
    }
    chr_view_snap_release(s);
    chr_core_each_job(core, rebuild_one, &rc);
    v->all = !rc.ok;
    set_clear(&v->touched);
}

/* ---- Readers ------------------------------------------------------------------- */

const struct chr_view_snap *chr_view_snapshot(struct chr_view *v)
{
    pthread_mutex_lock(&v->mu);
    struct snap *s = v->cur;
    if (s == NULL || s->pub.gen != v->gen) {
        s = chr_calloc(1, sizeof *s);
        struct vjob **arr = v->live ? chr_calloc(v->live, sizeof *arr) : NULL;
        if (s == NULL || (v->live > 0 && arr == NULL)) {
            pthread_mutex_unlock(&v->mu);
            chr_free(s);
            chr_free(arr);
            return NULL;
        }
        size_t n = 0;
        for (size_t i = 0; i < v->n_order; i++) {
            if (v->order[i] == NULL)
                continue;
            arr[n] = v->order[i];
            atomic_fetch_add(&arr[n]->refs, 1);
            n++;
        }
        atomic_init(&s->refs, 1); /* the view's own reference */
        for (int m = 0; m < CHR_VIEW_MEMO_COUNT; m++)
            atomic_init(&s->memo[m], NULL);
        s->v = arr;
        s->pub = (struct chr_view_snap){v->gen, n, (const struct chr_view_job *const *)arr};
        struct snap *old = v->cur;
        v->cur = s;
        if (old != NULL) { /* dropped outside the lock below */
            atomic_fetch_add(&s->refs, 1);
            pthread_mutex_unlock(&v->mu);
            snap_release(old);
            return &s->pub;
        }
    }
    atomic_fetch_add(&s->refs, 1);
    pthread_mutex_unlock(&v->mu);
    return &s->pub;
}

const struct chr_view_job *chr_view_job(struct chr_view *v, const char *name)
{
    struct vjob *j = table_get(v, name);
    return j ? &j->pub : NULL;
}

int64_t chr_view_epoch(const struct chr_view *v)
{
    return v->epoch_ms;
}

void chr_view_names_free(char **names, size_t n)
{
    for (size_t i = 0; names != NULL && i < n; i++)
        chr_free(names[i]);
    chr_free(names);
}

/* The names changed after `since`, newest first, each once (under mu). */
static enum chr_err collect_changes(struct chr_view *v, uint64_t since, char **out, size_t *n)
{
    struct chr_strmap seen = {0};
    enum chr_err e = CHR_OK;
    *n = 0;
    for (size_t k = 0; k < CHR_VIEW_CHANGES_MAX && e == CHR_OK; k++) {
        const struct change *c =
            &v->ring[(v->next + CHR_VIEW_CHANGES_MAX - 1 - k) % CHR_VIEW_CHANGES_MAX];
        if (c->name == NULL || c->gen <= since)
            break;
        if (chr_strmap_get(&seen, c->name, NULL))
            continue;
        if ((e = chr_strmap_put(&seen, c->name, 0)) != CHR_OK)
            break;
        if ((out[*n] = chr_strndup(c->name, strlen(c->name))) == NULL)
            e = CHR_ENOMEM;
        else
            (*n)++;
    }
    chr_strmap_free(&seen);
    return e;
}

enum chr_err chr_view_changes(struct chr_view *v, uint64_t since, char ***names, size_t *n,
                              uint64_t *gen, struct chr_view_counts *counts)
{
    *names = NULL;
    *n = 0;
    pthread_mutex_lock(&v->mu);
    *gen = v->gen;
    *counts = v->counts;
    if (since < v->floor || since > v->gen || v->ring == NULL) {
        pthread_mutex_unlock(&v->mu);
        return CHR_ERANGE;
    }
    size_t max = v->gen - since < CHR_VIEW_CHANGES_MAX ? (size_t)(v->gen - since)
                                                       : CHR_VIEW_CHANGES_MAX;
    char **out = max > 0 ? chr_calloc(max, sizeof *out) : NULL;
    enum chr_err e = max > 0 && out == NULL ? CHR_ENOMEM : CHR_OK;
    if (e == CHR_OK && max > 0)
        e = collect_changes(v, since, out, n);
    pthread_mutex_unlock(&v->mu);
    if (e != CHR_OK) {
        chr_view_names_free(out, *n);
        *n = 0;
        return e;
    }
    *names = out;
    return CHR_OK;
}

size_t chr_view_count(struct chr_view *v)
{
    pthread_mutex_lock(&v->mu);
    size_t n = v->live;
    pthread_mutex_unlock(&v->mu);
    return n;
}

/* ---- Lifecycle ------------------------------------------------------------------ */

enum chr_err chr_view_create(struct chr_view **out)
{
    struct chr_view *v = chr_calloc(1, sizeof *v);
    if (v == NULL)
        return CHR_ENOMEM;
    /* Without its ring the view works; every poll then reloads. */
    v->ring = chr_calloc(CHR_VIEW_CHANGES_MAX, sizeof *v->ring);
    v->epoch_ms = chr_clock_wall_ms();
    pthread_mutex_init(&v->mu, NULL);
    *out = v;
    return CHR_OK;
}

void chr_view_destroy(struct chr_view *v)
{
    if (v == NULL)
        return;
    for (size_t i = 0; i < v->n_order; i++)
        vjob_release(v->order[i]);
    snap_release(v->cur);
    set_clear(&v->touched);
    chr_free(v->touched.slot);
    for (size_t i = 0; v->ring != NULL && i < CHR_VIEW_CHANGES_MAX; i++)
        chr_free(v->ring[i].name);
    chr_free(v->ring);
    chr_free(v->order);
    chr_free(v->index.slot);
    pthread_mutex_destroy(&v->mu);
    chr_free(v);
}
