/*
 * zk_election.c - leader election by ZooKeeper's recipe, with a lease.
 *
 * Each candidate creates <dir>/candidate_<seq> (EPHEMERAL|SEQUENCE) holding
 * its id, lists <dir>, and:
 *   - leads when its sequence is the lowest;
 *   - otherwise sets an exists-watch on the candidate just below its own
 *     (its predecessor) and looks again when that one goes: only the
 *     successor of a departing candidate is told (no herd effect);
 *   - reads the leader's id (the lowest node's data) with a data watch on
 *     it, so that every follower learns of a new leader (CHR_ELECTION_LEADER)
 *     when the leader's node goes: one notification per follower per change
 *     of leader, never per change of candidate.
 *
 * Lease (zk.h): while leading, the renewal thread sends zoo_aexists on the
 * own node every session_timeout/4; an answer extends the lease to
 * send time + session_timeout/3 (CLOCK_MONOTONIC).  The first lease comes
 * from the listing that made the candidate leader (sent before the answer).
 * LOST is reported once and for good: for a leader at the first connection
 * loss, failed renewal or vanished node; for any candidate at expiry, auth
 * failure or when its own node is gone.  A follower's request lost with the
 * connection is retried when the session reconnects.
 *
 * Threads: everything but join, leave and the renewal thread runs on the
 * session's completion thread.  `mu` guards the state; callbacks are called
 * without it.  Requests in flight are counted, and leave waits for them,
 * so a completion never outlives its election; watch events reach an
 * election only through the session's registry (zk_session.c), never by a
 * pointer held by the client.
 */
#include "zkstore/zk_int.h"

#include <stdlib.h>
#include <string.h>

#include "common/alloc.h"
#include "common/clock.h"

#define CANDIDATE "candidate_"

struct chr_election {
    struct chr_zk *zk;
    struct chr_election *next; /* the session's registry (its list_mu) */
    chr_election_fn *on_event;
    void *ctx;
    char dir[CHR_STORE_PATH_MAX];
    char id[CHR_ZK_ID_MAX + 1];
    char node[CHR_STORE_PATH_MAX]; /* own node; fixed once joined */
    const char *name;              /* its last component, in node */
    long long seq;

    pthread_mutex_t mu; /* guards what follows */
    pthread_cond_t cond;
    bool leader, lost, leaving, leading_reported, need_check, leader_known, leader_rewatch;
    int64_t lease_until_ms;
    char pred[CHR_STORE_PATH_MAX];        /* watched predecessor, "" when none */
    char leader_node[CHR_STORE_PATH_MAX]; /* the lowest candidate */
    char leader_id[CHR_ZK_ID_MAX + 1];
    int inflight;
    bool renewer_started;
    pthread_t renewer;
};

/* One request in flight. */
struct ereq {
    struct chr_election *e;
    int64_t sent_ms;
    char path[CHR_STORE_PATH_MAX];
};

/* Events decided under mu, delivered after it is released. */
struct evs {
    enum chr_election_event ev[4];
    int n;
};

static void push(struct evs *evs, enum chr_election_event ev)
{
    if (evs->n < (int)(sizeof evs->ev / sizeof evs->ev[0]))
        evs->ev[evs->n++] = ev;
}

static void emit(struct chr_election *e, const struct evs *evs)
{
    for (int i = 0; i < evs->n; i++)
        if (e->on_event != NULL)
            e->on_event(e->ctx, evs->ev[i]);
}

struct chr_election **chr_election_next(struct chr_election *e)
{
    return &e->next;
}

static int64_t timeout_ms(const struct chr_election *e)
{
    int32_t t = chr_zk_session_timeout_ms(e->zk);
    return t > 0 ? t : 1;
}

/* Candidacy (or leadership) is over for this object, once. */
static void lose_locked(struct chr_election *e, struct evs *evs)
{
    if (e->lost)
        return;
    e->lost = true;
    push(evs, CHR_ELECTION_LOST);
    pthread_cond_broadcast(&e->cond);
}

/* A request failed with rc (not an answer about the node it named): a
 * follower retries after a reconnect; anything else ends the candidacy. */
static void failed_locked(struct chr_election *e, int rc, struct evs *evs)
{
    if ((rc == ZCONNECTIONLOSS || rc == ZOPERATIONTIMEOUT) && !e->leader)
        e->need_check = true;
    else
        lose_locked(e, evs);
}

static struct ereq *req_new(struct chr_election *e, const char *path)
{
    struct ereq *r = chr_malloc(sizeof *r);
    if (r == NULL)
        return NULL;
    r->e = e;
    r->sent_ms = chr_clock_mono_ms();
    size_t len = strlen(path);
    memcpy(r->path, path, len + 1);
    e->inflight++;
    return r;
}

/* After a completion has done its work: the election may go now. */
static void req_done(struct ereq *r)
{
    struct chr_election *e = r->e;
    chr_free(r);
    pthread_mutex_lock(&e->mu);
    e->inflight--;
    pthread_cond_broadcast(&e->cond);
    pthread_mutex_unlock(&e->mu);
}

/* A request the client refused at once (no completion will come). */
static void req_refused(struct chr_election *e, struct ereq *r, int rc, struct evs *evs)
{
    chr_free(r);
    e->inflight--;
    failed_locked(e, rc, evs);
}

static void check_done(int rc, const struct String_vector *sv, const void *data);
static void pred_done(int rc, const struct Stat *stat, const void *data);
static void leader_done(int rc, const char *value, int len, const struct Stat *stat,
                        const void *data);
static void renew_done(int rc, const struct Stat *stat, const void *data);

/* Lists the candidates (step 2 of the recipe). */
static void check_locked(struct chr_election *e, struct evs *evs)
{
    if (e->lost || e->leaving)
        return;
    struct ereq *r = req_new(e, e->dir);
    if (r == NULL) {
        lose_locked(e, evs);
        return;
    }
    int rc = zoo_aget_children(e->zk->zh, e->dir, 0, check_done, r);
    if (rc != ZOK)
        req_refused(e, r, rc, evs);
}

static void watch_pred_locked(struct chr_election *e, struct evs *evs)
{
    struct ereq *r = req_new(e, e->pred);
    if (r == NULL) {
        lose_locked(e, evs);
        return;
    }
    int rc = zoo_aexists(e->zk->zh, e->pred, 1, pred_done, r);
    if (rc != ZOK)
        req_refused(e, r, rc, evs);
}

static void read_leader_locked(struct chr_election *e, struct evs *evs)
{
    struct ereq *r = req_new(e, e->leader_node);
    if (r == NULL) {
        lose_locked(e, evs);
        return;
    }
    e->leader_rewatch = false;
    int rc = zoo_aget(e->zk->zh, e->leader_node, 1, leader_done, r);
    if (rc != ZOK)
        req_refused(e, r, rc, evs);
}

/* "candidate_<seq>" -> seq (ZooKeeper's %010d, negative past 2^31). */
static bool candidate_seq(const char *name, long long *seq)
{
    size_t plen = sizeof CANDIDATE - 1;
    if (strncmp(name, CANDIDATE, plen) != 0)
        return false;
    char *end = NULL;
    *seq = strtoll(name + plen, &end, 10);
    return end != name + plen && *end == '\0';
}

/* True when candidate (sa, a) sorts before (sb, b). */
static bool before(long long sa, const char *a, long long sb, const char *b)
{
    return sa != sb ? sa < sb : strcmp(a, b) < 0;
}

static void set_path(char *out, const char *dir, const char *name)
{
    size_t dlen = strcmp(dir, "/") == 0 ? 0 : strlen(dir);
    memcpy(out, dir, dlen);
    out[dlen] = '/';
    memcpy(out + dlen + 1, name, strlen(name) + 1);
}

static void become_leader_locked(struct chr_election *e, int64_t sent_ms, struct evs *evs)
{
    e->leader = true;
    e->pred[0] = '\0';
    memcpy(e->leader_node, e->node, sizeof e->node);
    memcpy(e->leader_id, e->id, sizeof e->id);
    e->leader_known = true;
    int64_t until = sent_ms + timeout_ms(e) / 3;
    if (until > e->lease_until_ms)
        e->lease_until_ms = until;
    if (!e->leading_reported && chr_clock_mono_ms() < e->lease_until_ms) {
        e->leading_reported = true;
        push(evs, CHR_ELECTION_LEADING);
    }
    pthread_cond_broadcast(&e->cond); /* the renewal thread starts */
}

/* Steps 2 and 3 of the recipe on a listing of dir. */
static void evaluate_locked(struct chr_election *e, const struct String_vector *sv,
                            int64_t sent_ms, struct evs *evs)
{
    const char *low = NULL, *pred = NULL;
    long long low_seq = 0, pred_seq = 0;
    bool own = false;
    for (int32_t i = 0; sv != NULL && i < sv->count; i++) {
        long long s;
        const char *name = sv->data[i];
        if (!candidate_seq(name, &s))
            continue;
        if (strcmp(name, e->name) == 0) {
            own = true;
            continue;
        }
        if (low == NULL || before(s, name, low_seq, low)) {
            low = name;
            low_seq = s;
        }
        if (before(s, name, e->seq, e->name) && (pred == NULL || before(pred_seq, pred, s, name))) {
            pred = name;
            pred_seq = s;
        }
    }
    if (!own) { /* our node is gone (expired, deleted): so is our candidacy */
        lose_locked(e, evs);
        return;
    }
    if (pred == NULL) {
        become_leader_locked(e, sent_ms, evs);
        return;
    }
    set_path(e->pred, e->dir, pred);
    watch_pred_locked(e, evs);
    char node[CHR_STORE_PATH_MAX];
    set_path(node, e->dir, low);
    if (strcmp(node, e->leader_node) != 0) {
        e->leader_known = false; /* the one we knew is gone */
        memcpy(e->leader_node, node, sizeof node);
        read_leader_locked(e, evs);
    } else if (!e->leader_known || e->leader_rewatch) {
        read_leader_locked(e, evs);
    }
}

/* ---- Completions (on the completion thread) --------------------------------- */

static void check_done(int rc, const struct String_vector *sv, const void *data)
{
    struct ereq *r = (struct ereq *)data;
    struct chr_election *e = r->e;
    struct evs evs = {.n = 0};
    pthread_mutex_lock(&e->mu);
    if (!e->lost && !e->leaving) {
        if (rc == ZOK)
            evaluate_locked(e, sv, r->sent_ms, &evs);
        else
            failed_locked(e, rc, &evs); /* ZNONODE: the directory, and us, are gone */
    }
    pthread_mutex_unlock(&e->mu);
    emit(e, &evs);
    req_done(r);
}

static void pred_done(int rc, const struct Stat *stat, const void *data)
{
    (void)stat;
    struct ereq *r = (struct ereq *)data;
    struct chr_election *e = r->e;
    struct evs evs = {.n = 0};
    pthread_mutex_lock(&e->mu);
    if (!e->lost && !e->leaving && strcmp(r->path, e->pred) == 0) {
        if (rc == ZNONODE)
            check_locked(e, &evs); /* gone before the watch was set */
        else if (rc != ZOK)
            failed_locked(e, rc, &evs);
    }
    pthread_mutex_unlock(&e->mu);
    emit(e, &evs);
    req_done(r);
}

static void leader_done(int rc, const char *value, int len, const struct Stat *stat,
                        const void *data)
{
    (void)stat;
    struct ereq *r = (struct ereq *)data;
    struct chr_election *e = r->e;
    struct evs evs = {.n = 0};
    pthread_mutex_lock(&e->mu);
    if (!e->lost && !e->leaving && !e->leader && strcmp(r->path, e->leader_node) == 0) {
        if (rc == ZOK) {
            char id[CHR_ZK_ID_MAX + 1];
            size_t n = len > 0 ? (size_t)len : 0;
            if (n > CHR_ZK_ID_MAX)
                n = CHR_ZK_ID_MAX;
            memcpy(id, value, n);
            id[n] = '\0';
            if (!e->leader_known || strcmp(id, e->leader_id) != 0)
                push(&evs, CHR_ELECTION_LEADER);
            memcpy(e->leader_id, id, n + 1);
            e->leader_known = true;
        } else if (rc == ZNONODE) {
            check_locked(e, &evs); /* the leader went meanwhile */
        } else {
            failed_locked(e, rc, &evs);
        }
    }
    pthread_mutex_unlock(&e->mu);
    emit(e, &evs);
    req_done(r);
}

static void renew_done(int rc, const struct Stat *stat, const void *data)
{
    (void)stat;
    struct ereq *r = (struct ereq *)data;
    struct chr_election *e = r->e;
    struct evs evs = {.n = 0};
    pthread_mutex_lock(&e->mu);
    if (!e->lost && !e->leaving && e->leader) {
        if (rc == ZOK) {
            int64_t until = r->sent_ms + timeout_ms(e) / 3;
            if (until > e->lease_until_ms)
                e->lease_until_ms = until;
            if (!e->leading_reported && chr_clock_mono_ms() < e->lease_until_ms) {
                e->leading_reported = true;
                push(&evs, CHR_ELECTION_LEADING);
            }
        } else {
            lose_locked(e, &evs); /* ZNONODE included: our node vanished */
        }
    }
    pthread_mutex_unlock(&e->mu);
    emit(e, &evs);
    req_done(r);
}

/* ---- Events from the session (completion thread, registry held) ----------- */

void chr_election_on_session(struct chr_election *e, enum chr_zk_event ev)
{
    struct evs evs = {.n = 0};
    pthread_mutex_lock(&e->mu);
    if (!e->lost && !e->leaving) {
        if (ev == CHR_ZK_EXPIRED || ev == CHR_ZK_AUTH_FAILED) {
            lose_locked(e, &evs);
        } else if (ev == CHR_ZK_DISCONNECTED) {
            if (e->leader)
                lose_locked(e, &evs); /* zk.h: a leader stops at the first loss */
        } else if (ev == CHR_ZK_CONNECTED && e->need_check) {
            e->need_check = false;
            check_locked(e, &evs);
        }
    }
    pthread_mutex_unlock(&e->mu);
    emit(e, &evs);
}

void chr_election_on_watch(struct chr_election *e, int type, const char *path)
{
    struct evs evs = {.n = 0};
    pthread_mutex_lock(&e->mu);
    if (!e->lost && !e->leaving && type != ZOO_NOTWATCHING_EVENT) {
        bool is_pred = e->pred[0] != '\0' && strcmp(path, e->pred) == 0;
        bool is_leader = !e->leader && strcmp(path, e->leader_node) == 0;
        if (is_leader)
            e->leader_rewatch = true; /* a data watch fires once */
        if (is_pred || is_leader)
            check_locked(e, &evs);
    }
    pthread_mutex_unlock(&e->mu);
    emit(e, &evs);
}

/* ---- The renewal thread ------------------------------------------------------ */

static void *renewer_main(void *arg)
{
    struct chr_election *e = arg;
    pthread_mutex_lock(&e->mu);
    while (!e->leaving) {
        if (!e->leader || e->lost) {
            pthread_cond_wait(&e->cond, &e->mu);
            continue;
        }
        struct evs evs = {.n = 0};
        struct ereq *r = req_new(e, e->node);
        int rc = r == NULL ? ZSYSTEMERROR : zoo_aexists(e->zk->zh, e->node, 0, renew_done, r);
        if (rc != ZOK) {
            if (r != NULL) {
                chr_free(r);
                e->inflight--;
            }
            lose_locked(e, &evs);
            pthread_mutex_unlock(&e->mu);
            emit(e, &evs);
            pthread_mutex_lock(&e->mu);
            continue;
        }
        int64_t next = chr_clock_mono_ms() + timeout_ms(e) / 4;
        while (!e->leaving && !e->lost && chr_zk_cond_wait_until(&e->cond, &e->mu, next))
            ;
    }
    pthread_mutex_unlock(&e->mu);
    return NULL;
}

/* ---- Joining and leaving ------------------------------------------------------ */

/* Creates dir and its missing ancestors (persistent, empty, the session's
 * ACL). */
static int mkdirs_raw(struct chr_zk *zk, const char *dir)
{
    struct Stat st;
    if (strcmp(dir, "/") == 0 || zoo_exists(zk->zh, dir, 0, &st) == ZOK)
        return ZOK;
    char prefix[CHR_STORE_PATH_MAX];
    size_t len = strlen(dir);
    for (size_t end = 1; end <= len; end++) {
        if (end < len && dir[end] != '/')
            continue;
        memcpy(prefix, dir, end);
        prefix[end] = '\0';
        int rc = zoo_create(zk->zh, prefix, "", 0, zk->acl, 0, NULL, 0);
        if (rc != ZOK && rc != ZNODEEXISTS)
            return rc;
    }
    return ZOK;
}

/* After a create whose outcome is unknown: our node, if the server made it,
 * is the candidate owned by this session. */
static bool find_own_node(struct chr_election *e)
{
    struct String_vector sv = {0, NULL};
    if (zoo_get_children(e->zk->zh, e->dir, 0, &sv) != ZOK)
        return false;
    int64_t session = zoo_client_id(e->zk->zh)->client_id;
    bool found = false;
    for (int32_t i = 0; i < sv.count && !found; i++) {
        long long seq;
        struct Stat st;
        char path[CHR_STORE_PATH_MAX];
        if (!candidate_seq(sv.data[i], &seq))
            continue;
        set_path(path, e->dir, sv.data[i]);
        if (zoo_exists(e->zk->zh, path, 0, &st) == ZOK && st.ephemeralOwner == session) {
            memcpy(e->node, path, sizeof path);
            found = true;
        }
    }
    deallocate_String_vector(&sv);
    return found;
}

/* Waits (up to a session timeout) for the session to be connected. */
static void wait_connected(struct chr_zk *zk)
{
    int64_t deadline = chr_clock_mono_ms() + chr_zk_session_timeout_ms(zk);
    pthread_mutex_lock(&zk->mu);
    while (!chr_zk_connected(zk) && chr_zk_alive(zk) &&
           chr_zk_cond_wait_until(&zk->cond, &zk->mu, deadline))
        ;
    pthread_mutex_unlock(&zk->mu);
}

/* Step 1: the ephemeral sequential node holding the id.  A create lost with
 * the connection may have happened: look for it before trying again. */
static enum chr_err create_node(struct chr_election *e, struct chr_error *err)
{
    char prefix[CHR_STORE_PATH_MAX];
    set_path(prefix, e->dir, CANDIDATE);
    int rc = ZOK;
    for (int attempt = 0; attempt < 3; attempt++) {
        rc = zoo_create(e->zk->zh, prefix, e->id, (int)strlen(e->id), e->zk->acl,
                        ZOO_EPHEMERAL | ZOO_SEQUENCE, e->node, (int)sizeof e->node);
        if (rc == ZOK)
            break;
        if (rc != ZCONNECTIONLOSS && rc != ZOPERATIONTIMEOUT)
            break;
        wait_connected(e->zk);
        if (find_own_node(e)) {
            rc = ZOK;
            break;
        }
    }
    if (rc != ZOK)
        return chr_error_set(err, CHR_EIO, "election", "cannot create a candidate in %s: %s",
                             e->dir, zerror(rc));
    e->name = strrchr(e->node, '/') + 1;
    if (!candidate_seq(e->name, &e->seq))
        return chr_error_set(err, CHR_EIO, "election", "unexpected node name %s", e->node);
    return CHR_OK;
}

static enum chr_err check_config(struct chr_zk *zk, const struct chr_election_config *cfg,
                                 struct chr_error *err)
{
    if (zk == NULL || cfg == NULL || cfg->dir == NULL || cfg->id == NULL)
        return chr_error_set(err, CHR_EINVAL, "election", "no session or configuration");
    /* room for "/candidate_" and a sequence of up to 11 characters */
    if (!chr_store_path_valid(cfg->dir) ||
        strlen(cfg->dir) + sizeof CANDIDATE + 12 >= CHR_STORE_PATH_MAX)
        return chr_error_set(err, CHR_EINVAL, "election_dir", "'%s' is not a valid path",
                             cfg->dir);
    size_t idlen = strnlen(cfg->id, CHR_ZK_ID_MAX + 1);
    if (idlen == 0 || idlen > CHR_ZK_ID_MAX)
        return chr_error_set(err, CHR_EINVAL, "election_id", "must be 1 to %d bytes",
                             CHR_ZK_ID_MAX);
    if (!chr_zk_alive(zk))
        return chr_error_set(err, CHR_EIO, "election", "the ZooKeeper session is gone");
    return CHR_OK;
}

enum chr_err chr_election_join(struct chr_zk *zk, const struct chr_election_config *cfg,
                               struct chr_election **out, struct chr_error *err)
{
    chr_error_clear(err);
    if (out == NULL)
        return chr_error_set(err, CHR_EINVAL, "election", "no output");
    *out = NULL;
    enum chr_err ce = check_config(zk, cfg, err);
    if (ce != CHR_OK)
        return ce;
    struct chr_election *e = chr_calloc(1, sizeof *e);
    if (e == NULL)
        return CHR_ENOMEM;
    e->zk = zk;
    e->on_event = cfg->on_event;
    e->ctx = cfg->ctx;
    memcpy(e->dir, cfg->dir, strlen(cfg->dir) + 1);
    memcpy(e->id, cfg->id, strlen(cfg->id) + 1);
    pthread_mutex_init(&e->mu, NULL);
    chr_zk_cond_init(&e->cond);
    int rc = mkdirs_raw(zk, e->dir);
    enum chr_err result = rc == ZOK ? create_node(e, err)
                                    : chr_error_set(err, CHR_EIO, "election",
                                                    "cannot create %s: %s", e->dir, zerror(rc));
    if (result == CHR_OK && pthread_create(&e->renewer, NULL, renewer_main, e) != 0)
        result = chr_error_set(err, CHR_EIO, "election", "cannot start the renewal thread");
    if (result != CHR_OK) {
        if (e->node[0] != '\0')
            zoo_delete(zk->zh, e->node, -1);
        pthread_cond_destroy(&e->cond);
        pthread_mutex_destroy(&e->mu);
        chr_free(e);
        return result;
    }
    e->renewer_started = true;
    chr_zk_elections_add(zk, e);
    struct evs evs = {.n = 0};
    pthread_mutex_lock(&e->mu);
    check_locked(e, &evs);
    pthread_mutex_unlock(&e->mu);
    emit(e, &evs);
    *out = e;
    return CHR_OK;
}

void chr_election_leave(struct chr_election *e)
{
    if (e == NULL)
        return;
    /* Waiting for completions on the completion thread would never end. */
    CHR_ASSERT(!chr_zk_on_completion_thread(e->zk));
    pthread_mutex_lock(&e->mu);
    e->leaving = true;
    pthread_cond_broadcast(&e->cond);
    pthread_mutex_unlock(&e->mu);
    pthread_join(e->renewer, NULL);
    chr_zk_elections_remove(e->zk, e); /* no event is being delivered to e after this */
    pthread_mutex_lock(&e->mu);
    while (e->inflight > 0)
        pthread_cond_wait(&e->cond, &e->mu);
    pthread_mutex_unlock(&e->mu);
    if (chr_zk_alive(e->zk))
        zoo_delete(e->zk->zh, e->node, -1);
    pthread_cond_destroy(&e->cond);
    pthread_mutex_destroy(&e->mu);
    chr_free(e);
}

bool chr_election_leading(struct chr_election *e)
{
    if (e == NULL)
        return false;
    pthread_mutex_lock(&e->mu);
    bool on = e->leader && !e->lost && chr_clock_mono_ms() < e->lease_until_ms;
    pthread_mutex_unlock(&e->mu);
    return on && chr_zk_connected(e->zk);
}

bool chr_election_leader(struct chr_election *e, char *buf, size_t cap)
{
    if (e == NULL || buf == NULL || cap == 0)
        return false;
    pthread_mutex_lock(&e->mu);
    bool known = e->leader_known && !e->lost;
    size_t n = known ? strlen(e->leader_id) : 0;
    if (n >= cap)
        n = cap - 1;
    memcpy(buf, e->leader_id, n);
    buf[n] = '\0';
    pthread_mutex_unlock(&e->mu);
    return known;
}

struct member {
    long long seq;
    const char *name;
};

static int member_cmp(const void *a, const void *b)
{
    const struct member *x = a, *y = b;
    return before(x->seq, x->name, y->seq, y->name) ? -1 : before(y->seq, y->name, x->seq, x->name);
}

size_t chr_election_members(struct chr_election *e, char (*ids)[CHR_ZK_ID_MAX + 1], size_t max)
{
    /* Not while disconnected: a synchronous call would wait for the link. */
    if (e == NULL || ids == NULL || max == 0 || chr_zk_on_completion_thread(e->zk) ||
        !chr_zk_connected(e->zk))
        return 0;
    struct String_vector sv = {0, NULL};
    if (zoo_get_children(e->zk->zh, e->dir, 0, &sv) != ZOK)
        return 0;
    struct member m[CHR_ELECTION_MEMBERS_MAX];
    size_t n = 0;
    for (int32_t i = 0; i < sv.count && n < CHR_ELECTION_MEMBERS_MAX; i++)
        if (candidate_seq(sv.data[i], &m[n].seq))
            m[n].name = sv.data[i], n++;
    qsort(m, n, sizeof *m, member_cmp);
    size_t k = 0;
    for (size_t i = 0; i < n && k < max; i++) {
        char path[CHR_STORE_PATH_MAX];
        set_path(path, e->dir, m[i].name);
        int len = CHR_ZK_ID_MAX;
        if (zoo_get(e->zk->zh, path, 0, ids[k], &len, NULL) != ZOK || len <= 0)
            continue; /* gone meanwhile, or no id */
        ids[k][len] = '\0';
        k++;
    }
    deallocate_String_vector(&sv);
    return k;
}

const char *chr_election_node(const struct chr_election *e)
{
    return e != NULL ? e->node : NULL;
}

bool chr_election_predecessor(struct chr_election *e, char *buf, size_t cap)
{
    if (e == NULL || buf == NULL || cap == 0)
        return false;
    pthread_mutex_lock(&e->mu);
    size_t n = strlen(e->pred);
    if (n >= cap)
        n = cap - 1;
    memcpy(buf, e->pred, n);
    buf[n] = '\0';
    pthread_mutex_unlock(&e->mu);
    return n > 0;
}
