/*
 * core_delete.c - the delete request: a job, its runs (the started ones
 * killed), its nodes, in one batch; refused while other jobs depend on it,
 * unless forced (?force=true), when each dependent is rewritten in the same
 * batch as Chronos would (below, "Forced delete").  No I/O, no clock.
 */
#include "scheduler/core_int.h"

#include <stdio.h>
#include <string.h>

#include "common/limits.h"

/* ---- Delete ------------------------------------------------------------------------ */

/* "job 'p' has dependents: a, b (...)": the refusal of a delete without
 * force, with the two ways on; a long list is cut with "...". */
static void dependents_message(const struct core_job *j, char *buf, size_t size)
{
    static const char hint[] = " (delete them first, or delete with ?force=true to re-link "
                               "or reschedule them)";
    size_t room = size - sizeof hint - 4;
    size_t n = (size_t)snprintf(buf, size, "job '%s' has dependents: ", j->def->name);
    for (uint32_t i = 0; i < j->n_children && n < room; i++)
        n += (size_t)snprintf(buf + n, room - n, "%s%s", i > 0 ? ", " : "",
                              j->children[i].child->def->name);
    if (n >= room)
        n = (size_t)snprintf(buf + room - 1, size - room + 1, "...") + room - 1;
    snprintf(buf + n, size - n, "%s", hint);
}

static void checks_remove(struct chr_core *c, struct core_job *j)
{
    for (struct core_job **pp = &c->checks; *pp != NULL; pp = &(*pp)->check_next) {
        if (*pp == j) {
            *pp = j->check_next;
            j->in_checks = false;
            return;
        }
    }
}

static void tombstone_add(struct chr_core *c, const struct core_job *j)
{
    if (j->st.last_run_due_ms == INT64_MIN)
        return;
    /* Forget the ones whose grace is over (a new job's ids start after it). */
    for (size_t i = 0; i < c->n_tombs;) {
        if (c->tombs[i].last_run_due_ms < c->now_ms - CORE_START_GRACE_MS)
            c->tombs[i] = c->tombs[--c->n_tombs];
        else
            i++;
    }
    if (c->n_tombs == CORE_TOMBSTONES_MAX)
        c->tombs[0] = c->tombs[--c->n_tombs];
    struct core_tombstone *t = &c->tombs[c->n_tombs++];
    snprintf(t->name, sizeof t->name, "%s", j->def->name);
    t->last_run_due_ms = j->st.last_run_due_ms;
}

/* The deletion's items in the open batch: j's runs ended (the started ones
 * killed), its nodes deleted, the notification. */
static void delete_items(struct chr_core *c, struct core_job *j)
{
    while (j->runs != NULL) {
        struct core_run *r = j->runs;
        if (r->counted == CORE_COUNT_STARTED)
            core_emit_run(c, CHR_ACT_KILL, &r->r);
        core_batch_run_done(c, r);
        core_run_unlink(c, r);
    }
    core_batch_delete_job(c, j);
    core_batch_notice(c, j, CHR_NOTICE_DELETED, NULL);
}

/* Takes j out of the registry, into the graveyard (freed after the step). */
static void delete_unlink(struct chr_core *c, struct core_job *j)
{
    core_edges_remove(c, j);
    checks_remove(c, j);
    j->dead = true;
    core_due_requeue(c, j);
    core_job_unregister(c, j);
    tombstone_add(c, j);
    j->grave_next = c->grave_jobs;
    c->grave_jobs = j;
}

/* ---- Forced delete ------------------------------------------------------------------ */

/*
 * DELETE ?force=true of a job others depend on does what Chronos did to its
 * children (JobManagementResource.delete), without its losses: each child
 * gets the deleted job taken out of its parents and
 *   - the deleted job's own parents put in its place, when it had some (a
 *     dependent job: its grandparents re-linked, none twice);
 *   - else, when no parent is left, the deleted job's schedule and zone, as
 *     stored: the child becomes a scheduled job, from now on.
 * A child with other parents keeps them and stays dependent (Chronos
 * converted it to a scheduled job all the same, #660), and every other field
 * of the child is kept (Chronos dropped its container, environment,
 * arguments, constraints, runAsUser, ...).  Its counters of the parents it
 * keeps are kept; a new parent starts from 0.
 *
 * The children's new definitions and the deletion are one store batch, so
 * a crash or a failed write leaves all of it or none.  Each child is checked
 * as a replace would be (core_check_def) before anything changes, and the
 * batch must fit the store's (CHR_DELETE_FORCE_*): else a 400 says so.
 */

/* One child of the job deleted: its new definition, made and checked
 * before anything changes. */
struct fchild {
    struct core_job *j;
    struct chr_job def;
    struct chr_job *box;
    uint32_t *counters[2];
    struct chr_schedule sched;
    bool scheduled;
};

static void fchildren_free(struct fchild *v, size_t n)
{
    for (size_t i = 0; v != NULL && i < n; i++) {
        chr_job_free(&v[i].def);
        chr_job_unbox(v[i].box);
        chr_free(v[i].counters[0]);
        chr_free(v[i].counters[1]);
    }
    chr_free(v);
}

static bool has_name(char *const *v, uint32_t n, const char *name)
{
    for (uint32_t i = 0; i < n; i++)
        if (strcmp(v[i], name) == 0)
            return true;
    return false;
}

/* Appends a copy of `name` to v[*n] unless it is there or is `skip`. */
static bool add_name(char **v, uint32_t *n, const char *name, const char *skip)
{
    if (strcmp(name, skip) == 0 || has_name(v, *n, name))
        return true;
    char *d = chr_strndup(name, strlen(name));
    if (d == NULL)
        return false;
    v[(*n)++] = d;
    return true;
}

static void names_free(char **v, uint32_t n)
{
    for (uint32_t i = 0; v != NULL && i < n; i++)
        chr_free(v[i]);
    chr_free(v);
}

/* A copy of `s` into *out (NULL stays NULL); false on ENOMEM. */
static bool dup_or_null(const char *s, char **out)
{
    *out = s != NULL ? chr_strndup(s, strlen(s)) : NULL;
    return s == NULL || *out != NULL;
}

/* *out: the child's definition with p taken out of its parents, as the
 * comment above says.  CHR_ENOMEM leaves *out zeroed. */
static enum chr_err reparent(const struct chr_job *p, const struct chr_job *child,
                             struct chr_job *out)
{
    if (chr_job_copy(out, child) != CHR_OK)
        return CHR_ENOMEM;
    size_t cap = (size_t)child->n_parents + p->n_parents;
    char **v = chr_calloc(cap > 0 ? cap : 1, sizeof *v), *sched = NULL, *tz = NULL;
    uint32_t n = 0;
    bool ok = v != NULL;
    for (uint32_t i = 0; ok && i < child->n_parents; i++)
        ok = add_name(v, &n, child->parents[i], p->name);
    for (uint32_t i = 0; ok && i < p->n_parents; i++)
        ok = add_name(v, &n, p->parents[i], child->name);
    if (ok && n == 0)
        ok = dup_or_null(p->schedule, &sched) && dup_or_null(p->schedule_tz, &tz);
    if (!ok) {
        names_free(v, n);
        chr_free(sched);
        chr_free(tz);
        chr_job_free(out);
        return CHR_ENOMEM;
    }
    names_free(out->parents, out->n_parents);
    out->parents = n > 0 ? v : NULL;
    out->n_parents = n;
    if (n == 0) {
        chr_free(v);
        chr_free(out->schedule);
        chr_free(out->schedule_tz);
        out->schedule = sched;
        out->schedule_tz = tz;
    }
    return CHR_OK;
}

/* Bytes of a state node's text at most: its numbers and keys, a count per
 * parent, its ledger, and each kept run with its reason escaped. */
#define STATE_FIXED_TEXT_MAX 1024
#define STATE_PARENT_TEXT_MAX 12
#define STATE_LEDGER_TEXT_MAX 96
#define STATE_RUN_TEXT_MAX 192

static size_t state_text_bound(const struct chr_job_state *st, uint32_t n_parents)
{
    size_t n = STATE_FIXED_TEXT_MAX + (size_t)n_parents * STATE_PARENT_TEXT_MAX +
               (size_t)st->ledger_len * STATE_LEDGER_TEXT_MAX;
    for (uint32_t i = 0; i < st->history_len; i++)
        n += STATE_RUN_TEXT_MAX + chr_json_text_bound(st->history[i].reason);
    return n;
}

/* Makes and checks every child's new definition into v (p->n_children of
 * them).  CHR_OK; CHR_EINVAL or CHR_ERANGE with err set (answered by the
 * caller); CHR_ENOMEM. */
static enum chr_err force_prepare(struct chr_core *c, const struct core_job *p, struct fchild *v,
                                  struct chr_error *err)
{
    size_t text = 0;
    for (uint32_t i = 0; i < p->n_children; i++) {
        struct fchild *f = &v[i];
        f->j = p->children[i].child;
        if (reparent(p->def, f->j->def, &f->def) != CHR_OK)
            return CHR_ENOMEM;
        enum chr_err e = chr_job_validate(&f->def, err);
        if (e == CHR_OK)
            e = core_check_def(c, &f->def, &f->sched, &f->scheduled, err);
        if (e != CHR_OK) {
            char why[CHR_ERROR_MESSAGE_MAX];
            snprintf(why, sizeof why, "%s", err->message);
            return e == CHR_ENOMEM ? e
                                   : chr_error_set(err, e, NULL,
                                                   "job '%s' cannot be deleted with force: its "
                                                   "dependent '%s' cannot take its place: %s; "
                                                   "nothing changed",
                                                   p->def->name, f->j->def->name, why);
        }
        text += chr_job_text_bound(&f->def) + state_text_bound(&f->j->st, f->def.n_parents) +
                2 * (CHR_STORE_PATH_MAX + 16);
    }
    if (text > CHR_DELETE_FORCE_BYTES_MAX)
        return chr_error_set(err, CHR_ERANGE, NULL,
                             "job '%s' cannot be deleted with force: its %u dependents' "
                             "definitions and states may take %zu KiB, more than one atomic store "
                             "batch holds (%d KiB): delete or re-parent some of them first; "
                             "nothing changed",
                             p->def->name, (unsigned)p->n_children, text / 1024,
                             CHR_DELETE_FORCE_BYTES_MAX / 1024);
    return CHR_OK;
}

/* Everything the rewrite and the deletion need, so that they cannot fail. */
static enum chr_err force_reserve(struct chr_core *c, const struct core_job *p, struct fchild *v)
{
    size_t n = p->n_children, runs = 0;
    size_t bytes = core_runs_snap_bytes(p, &runs) + core_notice_bytes();
    if (core_grave_defs_reserve(c, n) != CHR_OK || core_due_room(c) != CHR_OK)
        return CHR_ENOMEM;
    for (uint32_t i = 0; i < p->def->n_parents; i++) {
        struct core_job *g = core_job_find(c, p->def->parents[i]);
        if (g != NULL && core_children_room(g, (uint32_t)n) != CHR_OK)
            return CHR_ENOMEM;
    }
    for (size_t i = 0; i < n; i++) {
        struct fchild *f = &v[i];
        const struct core_job *cj = f->j;
        if ((f->box = chr_job_box_new()) == NULL ||
            core_remap_counts(cj->def, cj->st.parent_successes, cj->st.n_parent_successes,
                              &f->def, true, &f->counters[0]) != CHR_OK ||
            core_remap_counts(cj->def, cj->pre, cj->st.n_parent_successes, &f->def, false,
                              &f->counters[1]) != CHR_OK)
            return CHR_ENOMEM;
        /* Its state snapshot with the new parents' counts (and their
         * alignment: one max_align_t more). */
        bytes += core_state_snap_bound(c, &cj->st) + f->def.n_parents * sizeof(uint32_t) +
                 sizeof(max_align_t);
    }
    return core_reserve(c, runs + 2, runs + 2 + n, bytes);
}

/* Rewrites the children (their items in the open batch).  Cannot fail. */
static void force_apply(struct chr_core *c, struct fchild *v, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        struct fchild *f = &v[i];
        struct core_job *cj = f->j;
        /* The child's constraints are its own, unchanged: kept compiled. */
        struct chr_constraints *cons = cj->cons;
        bool bad = cj->cons_bad;
        cj->cons = NULL;
        core_put_apply(c, cj, &f->def, f->box, &f->sched, f->scheduled, f->counters, cons);
        cj->cons_bad = bad;
        f->box = NULL; /* the job's now, and so are the counters */
        f->counters[0] = f->counters[1] = NULL;
        core_batch_job(c, cj);
    }
}

static enum chr_err delete_forced(struct chr_core *c, const struct chr_event *ev,
                                  struct core_job *p)
{
    size_t n = p->n_children;
    if (n > CHR_DELETE_FORCE_CHILDREN_MAX) {
        core_reply(c, ev->request_id, CHR_ERANGE,
                   "job '%s' cannot be deleted with force: it has %zu dependents, more than "
                   "one forced delete rewrites (%d): delete or re-parent some of them first; "
                   "nothing changed",
                   p->def->name, n, CHR_DELETE_FORCE_CHILDREN_MAX);
        return CHR_OK;
    }
    struct fchild *v = chr_calloc(n, sizeof *v);
    if (v == NULL)
        return CHR_ENOMEM;
    struct chr_error err;
    chr_error_clear(&err);
    enum chr_err e = force_prepare(c, p, v, &err);
    if (e == CHR_OK)
        e = force_reserve(c, p, v);
    if (e != CHR_OK) {
        fchildren_free(v, n);
        if (e == CHR_ENOMEM)
            return e;
        core_reply(c, ev->request_id, e, "%s", err.message);
        return CHR_OK;
    }
    core_batch_begin(c);
    force_apply(c, v, n);
    delete_items(c, p);
    core_batch_end(c);
    delete_unlink(c, p);
    for (size_t i = 0; i < n; i++)
        if (v[i].j->def->n_parents > 0)
            core_check_add(c, v[i].j); /* its counters may make it ready now */
    fchildren_free(v, n);
    core_reply(c, ev->request_id, CHR_OK, "deleted job '%s' and rewrote %zu dependents",
               ev->u.named.name, n);
    return CHR_OK;
}

enum chr_err core_delete_job(struct chr_core *c, const struct chr_event *ev)
{
    const char *name;
    struct core_job *j;
    enum chr_err e = core_named_job(c, ev, &name, &j);
    if (e != CHR_OK || j == NULL)
        return e;
    if (j->n_children > 0 && ev->u.named.force)
        return delete_forced(c, ev, j);
    if (j->n_children > 0) {
        char msg[CHR_ERROR_MESSAGE_MAX];
        dependents_message(j, msg, sizeof msg);
        core_reply(c, ev->request_id, CHR_ECONFLICT, "%s", msg);
        return CHR_OK;
    }
    size_t n = 0, bytes = core_runs_snap_bytes(j, &n) + core_notice_bytes();
    if (core_reserve(c, n + 2, n + 2, bytes) != CHR_OK)
        return CHR_ENOMEM;
    core_batch_begin(c);
    delete_items(c, j);
    core_batch_end(c);
    delete_unlink(c, j);
    core_reply(c, ev->request_id, CHR_OK, "deleted job '%s'", name);
    return CHR_OK;
}

