/*
 * core_state.c - a job's persisted progress (struct chr_job_state): its
 * lifecycle helpers, the bounded ledger of instants that were not launched,
 * and the bounded history of finished runs.
 *
 * Both arrays are allocated lazily at full capacity (most jobs never need a
 * ledger), kept oldest first, and drop their oldest entry when full, so a job
 * never grows without bound however long it lives.  No I/O, no clock.
 */
#include "scheduler/core_int.h"

#include <string.h>

void chr_job_state_init(struct chr_job_state *st)
{
    memset(st, 0, sizeof *st);
    chr_job_stats_init(&st->stats);
    st->next_ms = INT64_MAX;
    st->last_run_due_ms = INT64_MIN;
}

void chr_job_state_free(struct chr_job_state *st)
{
    if (st == NULL)
        return;
    chr_free(st->parent_successes);
    chr_free(st->ledger);
    chr_free(st->history);
    chr_job_state_init(st);
}

static bool dup_array(void **dst, const void *src, size_t n, size_t elem)
{
    *dst = NULL;
    if (n == 0 || src == NULL)
        return true;
    size_t bytes;
    if (chr_mul_overflows(n, elem, &bytes) || (*dst = chr_malloc(bytes)) == NULL)
        return false;
    memcpy(*dst, src, bytes);
    return true;
}

enum chr_err chr_job_state_copy(struct chr_job_state *dst, const struct chr_job_state *src)
{
    struct chr_job_state t = *src;
    bool ok = dup_array((void **)&t.parent_successes, src->parent_successes,
                        src->n_parent_successes, sizeof *t.parent_successes);
    ok = ok && dup_array((void **)&t.ledger, src->ledger, src->ledger_len, sizeof *t.ledger);
    ok = ok && dup_array((void **)&t.history, src->history, src->history_len, sizeof *t.history);
    if (!ok) {
        chr_free(t.parent_successes);
        chr_free(t.ledger);
        chr_free(t.history);
        chr_job_state_init(dst);
        return CHR_ENOMEM;
    }
    *dst = t;
    return CHR_OK;
}

enum chr_err core_state_arrays(struct chr_core *c, struct chr_job_state *st, bool ledger,
                               bool history)
{
    if (ledger && st->ledger == NULL) {
        st->ledger = chr_calloc(CHR_LEDGER_MAX, sizeof *st->ledger);
        if (st->ledger == NULL)
            return CHR_ENOMEM;
    }
    if (history && st->history == NULL && c->cfg.history_max > 0) {
        st->history = chr_calloc(c->cfg.history_max, sizeof *st->history);
        if (st->history == NULL)
            return CHR_ENOMEM;
    }
    return CHR_OK;
}

void core_ledger_add(struct core_job *j, enum chr_ledger_reason reason, int64_t first_ms,
                     int64_t last_ms, int64_t count)
{
    struct chr_job_state *st = &j->st;
    CHR_ASSERT(st->ledger != NULL && count > 0);
    if (j->ledger_open && st->ledger_len > 0 && st->ledger[st->ledger_len - 1].reason == reason) {
        struct chr_ledger_entry *e = &st->ledger[st->ledger_len - 1];
        e->last_ms = last_ms;
        e->count += count;
        return;
    }
    if (st->ledger_len == CHR_LEDGER_MAX) {
        memmove(st->ledger, st->ledger + 1, (CHR_LEDGER_MAX - 1) * sizeof *st->ledger);
        st->ledger_len--;
    }
    st->ledger[st->ledger_len++] = (struct chr_ledger_entry){first_ms, last_ms, count, reason};
    j->ledger_open = true;
}

void core_history_add(struct chr_core *c, struct core_job *j, const struct chr_run *r)
{
    struct chr_job_state *st = &j->st;
    uint32_t cap = c->cfg.history_max;
    if (cap == 0 || st->history == NULL)
        return;
    if (st->history_len >= cap) {
        memmove(st->history, st->history + 1, (cap - 1) * sizeof *st->history);
        st->history_len = cap - 1;
    }
    st->history[st->history_len++] = (struct chr_run_summary){
        .due_ms = r->due_ms,
        .started_ms = r->started_ms,
        .ended_ms = r->ended_ms,
        .attempt = r->attempt,
        .exit_code = r->exit_code,
        .cause = r->cause,
        .state = r->state,
    };
    /* Cut to the history's size (strnlen: the run's reason may be longer). */
    struct chr_run_summary *h = &st->history[st->history_len - 1];
    size_t n = strnlen(r->reason, sizeof h->reason - 1);
    memcpy(h->reason, r->reason, n);
    h->reason[n] = '\0';
}

bool chr_job_state_equal(const struct chr_job_state *a, const struct chr_job_state *b)
{
    const struct chr_job_stats *x = &a->stats, *y = &b->stats;
    bool same = x->success_count == y->success_count && x->error_count == y->error_count &&
                x->errors_since_last_success == y->errors_since_last_success &&
                x->last_success_ms == y->last_success_ms && x->last_error_ms == y->last_error_ms &&
                x->task_time_ms == y->task_time_ms && a->next_ms == b->next_ms &&
                a->instants_handled == b->instants_handled &&
                a->schedule_epoch == b->schedule_epoch && a->last_run_due_ms == b->last_run_due_ms &&
                a->flagged == b->flagged && a->launch_failures == b->launch_failures &&
                a->n_parent_successes == b->n_parent_successes && a->ledger_len == b->ledger_len &&
                a->history_len == b->history_len &&
                (a->parent_successes == NULL) == (b->parent_successes == NULL) &&
                (a->ledger == NULL) == (b->ledger == NULL) &&
                (a->history == NULL) == (b->history == NULL);
    for (uint32_t i = 0; same && i < a->n_parent_successes; i++)
        same = a->parent_successes[i] == b->parent_successes[i];
    for (uint32_t i = 0; same && i < a->ledger_len; i++) {
        const struct chr_ledger_entry *l = &a->ledger[i], *m = &b->ledger[i];
        same = l->first_ms == m->first_ms && l->last_ms == m->last_ms && l->count == m->count &&
               l->reason == m->reason;
    }
    for (uint32_t i = 0; same && i < a->history_len; i++) {
        const struct chr_run_summary *h = &a->history[i], *k = &b->history[i];
        same = h->due_ms == k->due_ms && h->started_ms == k->started_ms &&
               h->ended_ms == k->ended_ms && h->attempt == k->attempt &&
               h->exit_code == k->exit_code && h->cause == k->cause && h->state == k->state &&
               strcmp(h->reason, k->reason) == 0;
    }
    return same;
}
