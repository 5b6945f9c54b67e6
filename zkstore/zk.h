/*
 * zk.h - ZooKeeper for chronos: one session (libzookeeper-mt), the store
 * backend on it (store.h's interface, ZooKeeper's own semantics), and leader
 * election by the standard recipe, with fencing by time.
 *
 * One chr_zk is one ZooKeeper session.  It never outlives its session: once
 * the session expires (or is closed) the object is dead for good and the
 * owner makes a new one; nothing here reconnects across an expiry, because
 * everything tied to the session (ephemeral nodes, leadership, watches) died
 * with it.  Within a session the C client reconnects by itself after a
 * connection loss; a leader must nevertheless stop at the first loss (see
 * chr_election_*).
 */
#ifndef CHR_ZKSTORE_ZK_H
#define CHR_ZKSTORE_ZK_H

#include <stdbool.h>
#include <stdint.h>

#include "common/err.h"
#include "zkstore/store.h"

/* ---- The session --------------------------------------------------------- */

enum chr_zk_event {
    CHR_ZK_CONNECTED = 1,  /* (re)connected within the session */
    CHR_ZK_DISCONNECTED,   /* connection lost; the session may still live */
    CHR_ZK_EXPIRED,        /* the session is gone: the object is dead */
    CHR_ZK_AUTH_FAILED,    /* the digest credentials were refused: dead */
};

/* Called on the ZooKeeper client's event thread; must be quick, must not
 * call chr_zk_close. */
typedef void chr_zk_event_fn(void *ctx, enum chr_zk_event ev);

struct chr_zk_config {
    /* "host:port,host:port[/chroot]", or the same after "zk://". */
    const char *hosts;
    int32_t session_timeout_ms; /* asked for; the server may change it; 0: 10000 */
    const char *auth;           /* "user:password" for digest auth and ACLs; NULL: open */
    int32_t connect_timeout_ms; /* chr_zk_open waits this long for a session; 0: 15000 */
    chr_zk_event_fn *on_event;  /* may be NULL */
    void *ctx;
};

struct chr_zk;

/*
 * Connects and waits (up to connect_timeout_ms) until the session is
 * established (and, with auth, the credentials accepted).  A chroot in hosts
 * is created when missing.  With auth, nodes chronos creates get the ACL
 * "digest user:password has every permission" (others: none).  Returns
 * CHR_OK; CHR_EINVAL (bad hosts or auth: err names "zk" or "zk_auth");
 * CHR_EUNAVAIL (no session within the timeout: err says where it tried);
 * CHR_EIO (auth refused); CHR_ENOMEM.
 */
enum chr_err chr_zk_open(const struct chr_zk_config *cfg, struct chr_zk **out,
                         struct chr_error *err);
/* Closes the session (its ephemeral nodes go at once) and frees.  Every store
 * and election on it must be closed first.  NULL allowed. */
void chr_zk_close(struct chr_zk *zk);
/* The session timeout the server granted (ms). */
int32_t chr_zk_session_timeout_ms(const struct chr_zk *zk);
/* False once the session expired, auth failed, or close began. */
bool chr_zk_alive(const struct chr_zk *zk);

#ifdef CHR_TESTING
/* Makes the server expire this session now (a second client takes over the
 * session id and closes it): the real thing, for fault tests. */
void chr_zk_test_expire(struct chr_zk *zk);
/* The same for any client's session (id and password from zoo_client_id) on
 * `servers` (a connect string without chroot): true once the server has
 * answered that the session is gone. */
bool chr_zk_test_kill_session(const char *servers, int64_t client_id, const char passwd[16],
                              int32_t timeout_ms);
/* Makes chr_zk_alive say true again after an expiry: the moment between the
 * client's I/O thread marking the handle dead and our watcher hearing it. */
void chr_zk_test_seem_alive(struct chr_zk *zk);
#endif

/* ---- The store on a session ---------------------------------------------- */

/*
 * A store (store.h) kept in ZooKeeper under the session's chroot: batches are
 * zoo_amulti, reads zoo_get / zoo_get_children, so the semantics are
 * ZooKeeper's own (store.h was written from them).  Completions run on the
 * client's completion thread, in submission order.  A batch whose outcome is
 * unknown (connection loss, expiry) completes with CHR_EIO.  CHR_ERANGE for a
 * node or a request beyond ZooKeeper's 1 MiB packet (jute.maxbuffer).
 * chr_store_state answers CHR_EIO once the session is dead.  Close the store
 * before the session.
 */
enum chr_err chr_store_open_zk(struct chr_zk *zk, const struct chr_store_config *cfg,
                               struct chr_store **out);

/* ---- Leader election ----------------------------------------------------- */

/*
 * The recipe (ZooKeeper's "Leader Election"): each candidate creates an
 * ephemeral sequential node <dir>/candidate_<seq> holding its `id`
 * ("host:port"); the lowest sequence leads; every other candidate watches
 * only the node just below its own (no herd effect) and looks again when that
 * one goes.
 *
 * Fencing by time: a leader holds a lease, renewed by a round trip to the
 * server every session_timeout/4; the lease lasts session_timeout/3 from the
 * moment the renewing request was SENT.  The server cannot expire the session
 * before session_timeout after the last request it heard, so while
 * chr_election_leading() is true no other candidate can have become leader.
 * A process frozen (SIGSTOP) past its lease finds it lapsed when it wakes,
 * before it can act.  On the first connection loss, expiry or failed renewal
 * the election reports LOST: the leader must stop scheduling and make a new
 * session and election (rejoining as a candidate).
 */
enum chr_election_event {
    CHR_ELECTION_LEADING = 1, /* this candidate leads (its lease is valid) */
    CHR_ELECTION_LOST,        /* leadership (or candidacy) is over for this session */
    CHR_ELECTION_LEADER,      /* another candidate leads: chr_election_leader() changed */
};
typedef void chr_election_fn(void *ctx, enum chr_election_event ev);

struct chr_election_config {
    const char *dir;   /* e.g. "/chronos/leader" (created when missing) */
    const char *id;    /* this candidate's "host:port" (the node's data) */
    chr_election_fn *on_event; /* on a client thread; quick; may be NULL */
    void *ctx;
};

struct chr_election;

/* Joins the election on the session.  CHR_OK, CHR_EINVAL, CHR_EIO (no
 * candidate node could be made), CHR_ENOMEM. */
enum chr_err chr_election_join(struct chr_zk *zk, const struct chr_election_config *cfg,
                               struct chr_election **out, struct chr_error *err);
/* Leaves (deletes this candidate's node when the session lives) and frees. */
void chr_election_leave(struct chr_election *e);
/* True while this candidate leads AND its lease is valid (CLOCK_MONOTONIC):
 * the check to make before every launch.  Any thread. */
bool chr_election_leading(struct chr_election *e);
/* The current leader's id ("host:port") into buf; false when none is known. */
bool chr_election_leader(struct chr_election *e, char *buf, size_t cap);
/* The candidates' ids ("host:port"), in the election's order (the first
 * leads), at most max of them, into ids; their number (0 when the listing
 * failed or the session is not connected).  Synchronous reads: never on
 * a completion thread. */
#define CHR_ELECTION_MEMBERS_MAX 16
size_t chr_election_members(struct chr_election *e, char (*ids)[CHR_ZK_ID_MAX + 1], size_t max);
/* The path of this candidate's node (for a CHECK op in every batch: a
 * deposed leader's batch then fails whole). */
const char *chr_election_node(const struct chr_election *e);

#endif
