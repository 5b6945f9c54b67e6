/*
 * ha.c - the server's life in a ZooKeeper cluster (ha.h): a loop of terms.
 * Each term opens a session, joins the election, stands by (the API
 * forwards to the leader) until it leads, then opens the store on the
 * session and runs the scheduler with the leader's lease as its fence; the
 * term ends at the first sign that leadership may be gone, and the next
 * term starts afresh.  Everything happens on the calling (main) thread; the
 * ZooKeeper and scheduler threads only raise flags here.
 */
#include "server/ha.h"

#include <errno.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "common/alloc.h"
#include "common/clock.h"
#include "common/limits.h"
#include "common/log.h"

/* How often the main thread looks at the flags (and for signals). */
#define HA_TICK_MS 20
/* Pause between failed attempts to reach ZooKeeper. */
#define HA_RETRY_MS 1000
/* How often the cluster's members are listed again (also on a new leader). */
#define HA_MEMBERS_MS 5000

struct term {
    const struct chr_ha_config *cfg;
    struct chr_zk *zk;
    struct chr_election *election;
    struct chr_store *store;
    struct chr_loop *loop;
    atomic_bool over;      /* the session or the leadership is gone */
    atomic_bool leading;   /* the election says we lead */
    atomic_bool leader_changed;
    int64_t members_at_ms; /* mono: when the members were last listed */
    char why[160];         /* why the term ended (set with `over`, first writer wins) */
    atomic_flag why_set;
};

static void say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void say(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    chr_logv(fmt, ap);
    va_end(ap);
}

static void end_term(struct term *t, const char *why)
{
    if (!atomic_flag_test_and_set(&t->why_set))
        snprintf(t->why, sizeof t->why, "%s", why);
    atomic_store(&t->over, true);
}

/* ---- Callbacks (other threads) ------------------------------------------------ */

static void on_zk(void *ctx, enum chr_zk_event ev)
{
    struct term *t = ctx;
    if (ev == CHR_ZK_EXPIRED)
        end_term(t, "the ZooKeeper session expired");
    else if (ev == CHR_ZK_AUTH_FAILED)
        end_term(t, "ZooKeeper refused the credentials (zk_auth)");
    else if (ev == CHR_ZK_DISCONNECTED && atomic_load(&t->leading))
        end_term(t, "the connection to ZooKeeper was lost while leading");
}

static void on_election(void *ctx, enum chr_election_event ev)
{
    struct term *t = ctx;
    switch (ev) {
    case CHR_ELECTION_LEADING: atomic_store(&t->leading, true); break;
    case CHR_ELECTION_LOST: end_term(t, "leadership (or candidacy) was lost"); break;
    case CHR_ELECTION_LEADER: atomic_store(&t->leader_changed, true); break;
    }
}

/* A no ends the term, whoever asked (the loop before a launch, a resource
 * manager before the step that cannot be taken back): a leader whose lease
 * lapsed never launches again, even if its session lives on. */
static bool may_launch(void *ctx)
{
    struct term *t = ctx;
    if (atomic_load(&t->over))
        return false;
    if (chr_election_leading(t->election))
        return true;
    end_term(t, "the leader's lease lapsed: launches stop before another leader can start");
    return false;
}

static void on_fenced(void *ctx, const char *why)
{
    end_term(ctx, why);
}

/* ---- Terms ----------------------------------------------------------------------- */

/* Waits up to ms for one of the signals; returns it, or 0. */
static int wait_signal(const sigset_t *set, long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    int sig = sigtimedwait(set, NULL, &ts);
    return sig > 0 ? sig : 0;
}

/* Waits up to ms; true when a stop signal came (SIGUSR2 is no stop). */
static bool stop_requested(const sigset_t *stop, long ms)
{
    int sig = wait_signal(stop, ms);
    return sig != 0 && sig != SIGUSR2;
}

static void show_leader(struct term *t)
{
    char id[256] = "";
    if (t->election != NULL && chr_election_leader(t->election, id, sizeof id)) {
        chr_http_set_leader(t->cfg->http, id);
        say("leader: %s", id);
    } else {
        chr_http_set_leader(t->cfg->http, NULL);
    }
}

/* The election's candidates, for /v1/status (leader first, then standbys). */
static void show_members(struct term *t)
{
    char ids[CHR_ELECTION_MEMBERS_MAX][CHR_ZK_ID_MAX + 1];
    const char *ptrs[CHR_ELECTION_MEMBERS_MAX];
    size_t n = chr_election_members(t->election, ids, CHR_ELECTION_MEMBERS_MAX);
    for (size_t i = 0; i < n; i++)
        ptrs[i] = ids[i];
    if (n > 0)
        chr_http_set_members(t->cfg->http, ptrs, n);
    t->members_at_ms = chr_clock_mono_ms();
}

/* Starts leading: the store on this session, the scheduler loaded from it. */
static bool lead(struct term *t)
{
    struct chr_loop_config lc = t->cfg->loop;
    if (chr_store_open_zk(t->zk, NULL, &t->store) != CHR_OK) {
        end_term(t, "cannot open the store on the session");
        return false;
    }
    lc.store = t->store;
    lc.root = t->cfg->root;
    lc.fence_path = chr_election_node(t->election);
    lc.packs = true;
    lc.may_launch = may_launch;
    lc.on_fenced = on_fenced;
    lc.fence_ctx = t;
    struct chr_error err = {{0}, {0}};
    int64_t start_ms = chr_clock_mono_ms();
    if (chr_loop_start(&lc, &t->loop, &err) != CHR_OK) {
        say("cannot start leading: %s", err.message);
        end_term(t, "loading from ZooKeeper failed");
        return false;
    }
    int64_t loaded_ms = chr_clock_mono_ms() - start_ms;
    chr_http_set_sched(t->cfg->http, chr_loop_sched(t->loop));
    say("leading (%s): loaded in %.3f s", t->cfg->id, (double)loaded_ms / 1e3);
    return true;
}

/* Ends a term: the scheduler stops first (nothing more is launched), then
 * the store, the candidacy and the session. */
static void teardown(struct term *t)
{
    if (t->loop != NULL) {
        chr_http_set_sched(t->cfg->http, NULL);
        if (t->why[0]) /* deposed: the process goes on, and may lead again */
            chr_loop_stop(t->loop);
        else /* a stop signal: the process ends (loop.h) */
            chr_loop_stop_exit(t->loop);
        say("stopped leading: %s", t->why[0] ? t->why : "shutting down");
    }
    chr_http_set_leader(t->cfg->http, NULL);
    chr_store_close(t->store);
    chr_election_leave(t->election);
    chr_zk_close(t->zk);
}

/* One term; returns true when a stop signal ended it. */
static bool term_run(struct term *t, const sigset_t *stop)
{
    struct chr_zk_config zc = t->cfg->zk;
    zc.on_event = on_zk;
    zc.ctx = t;
    struct chr_error err = {{0}, {0}};
    if (chr_zk_open(&zc, &t->zk, &err) != CHR_OK) {
        say("ZooKeeper: %s (retrying)", err.message);
        char why[CHR_ERROR_MESSAGE_MAX + 32];
        snprintf(why, sizeof why, "ZooKeeper unreachable: %s", err.message);
        chr_http_set_unhealthy(t->cfg->http, why);
        return stop_requested(stop, HA_RETRY_MS);
    }
    chr_http_set_unhealthy(t->cfg->http, NULL);
    char dir[CHR_STORE_PATH_MAX];
    snprintf(dir, sizeof dir, "%s/leader", strcmp(t->cfg->root, "/") ? t->cfg->root : "");
    struct chr_election_config ec = {dir, t->cfg->id, on_election, t};
    if (chr_election_join(t->zk, &ec, &t->election, &err) != CHR_OK) {
        say("election: %s (retrying)", err.message);
        return stop_requested(stop, HA_RETRY_MS);
    }
    say("candidate %s (session timeout %d ms)", chr_election_node(t->election),
        (int)chr_zk_session_timeout_ms(t->zk));
    while (!atomic_load(&t->over)) {
        int sig = wait_signal(stop, HA_TICK_MS);
#ifdef CHR_TESTING
        if (sig == SIGUSR2) { /* test builds: a real server-side expiry of this session */
            say("test: expiring the ZooKeeper session");
            chr_zk_test_expire(t->zk);
            continue;
        }
#endif
        if (sig != 0 && sig != SIGUSR2)
            return true;
        bool changed = atomic_exchange(&t->leader_changed, false);
        if (changed && t->loop == NULL)
            show_leader(t);
        if (atomic_load(&t->leading) && t->loop == NULL && !atomic_load(&t->over))
            lead(t);
        /* Last: its synchronous reads (a slow ZooKeeper) must not delay taking the lead. */
        if (changed || t->members_at_ms == 0 ||
            chr_clock_mono_ms() - t->members_at_ms >= HA_MEMBERS_MS)
            show_members(t);
    }
    return false;
}

int chr_ha_run(const struct chr_ha_config *cfg, const sigset_t *stop)
{
    for (;;) {
        struct term *t = chr_calloc(1, sizeof *t);
        if (t == NULL) {
            say("out of memory");
            return 1;
        }
        t->cfg = cfg;
        atomic_flag_clear(&t->why_set);
        bool stopping = term_run(t, stop);
        teardown(t);
        if (!stopping && t->why[0])
            say("term over: %s; joining again", t->why);
        chr_free(t);
        if (stopping)
            return 0;
    }
}
