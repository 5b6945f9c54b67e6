/*
 * zk_int.h - what the ZooKeeper files of zkstore/ (zk_session.c, zk_store.c,
 * zk_election.c) share and nobody else sees, except the tests: the session's
 * handle and ACL, the thread that runs completions, the registry through
 * which session and watch events reach elections, the error mapping, and
 * the digest helpers.
 *
 * Threads (libzookeeper-mt): an IO thread and ONE completion thread per
 * session.  Every async completion and every watcher call of a session runs
 * on its completion thread, in the order the server answered; the digest
 * auth completion alone runs on the IO thread.  Synchronous calls (zoo_get,
 * zoo_create...) are answered on the IO thread, so they may be made from
 * any thread, the completion thread included; they block for a round trip.
 */
#ifndef CHR_ZK_INT_H
#define CHR_ZK_INT_H

#include <pthread.h>
#include <stdatomic.h>
#include <zookeeper/zookeeper.h>

#include "zkstore/store_int.h"
#include "zkstore/zk.h"


/* ---- The session (zk_session.c) ------------------------------------------ */

struct chr_zk {
    zhandle_t *zh;
    chr_zk_event_fn *on_event;
    void *ctx;
    char servers[CHR_ZK_HOSTS_MAX + 1]; /* the connect string without chroot */
    char chroot[CHR_STORE_ROOT_MAX];     /* "" when none */

    /* The ACL every node gets: digest when auth is set, else open. */
    struct ACL acl_entry;
    struct ACL_vector acl_vec;
    const struct ACL_vector *acl;
    char acl_id[CHR_ZK_DIGEST_ID_MAX];
    char auth[CHR_ZK_AUTH_MAX + 1];

    atomic_bool alive;      /* false once expired, auth failed, or closing */
    atomic_bool connected;  /* CONNECTED now */
    atomic_int timeout_ms;  /* negotiated at CONNECTED */

    pthread_mutex_t mu; /* guards the fields below */
    pthread_cond_t cond;
    int state;              /* last ZooKeeper session state seen */
    bool ever_connected;
    bool cthread_known;
    pthread_t cthread;      /* the completion thread */
    int auth_rc;            /* the digest auth's answer; 1: none yet */
    bool auth_done;

    /* Elections on this session, for session and watch events.  Held while
     * an event is dispatched, so an election cannot go while it is being
     * told something. */
    pthread_mutex_t list_mu;
    struct chr_election *elections;
};

/* True on the session's completion thread (where waiting deadlocks). */
bool chr_zk_on_completion_thread(struct chr_zk *zk);
/* Connected right now (not merely alive). */
bool chr_zk_connected(const struct chr_zk *zk);

/* Adds / removes an election from the session's event registry. */
void chr_zk_elections_add(struct chr_zk *zk, struct chr_election *e);
void chr_zk_elections_remove(struct chr_zk *zk, struct chr_election *e);

/* ZooKeeper's answer to one op -> ours, for reads (zoo_get...):
 * ZOK -> CHR_OK, ZNONODE -> CHR_ENOENT, ZNODEEXISTS/ZBADVERSION/ZNOTEMPTY/
 * ZNOCHILDRENFOREPHEMERALS -> CHR_ECONFLICT, anything else (connection loss,
 * expiry, closing, ZNOAUTH, ...) -> CHR_EIO. */
enum chr_err chr_zk_err(int rc);

/* A condition variable that times out on CLOCK_MONOTONIC, and a wait for it
 * until deadline_ms (chr_clock_mono_ms); false once the deadline passed. */
void chr_zk_cond_init(pthread_cond_t *cond);
bool chr_zk_cond_wait_until(pthread_cond_t *cond, pthread_mutex_t *mu, int64_t deadline_ms);

/* SHA-1 of len bytes (FIPS 180-4). */
void chr_zk_sha1(const void *data, size_t len, uint8_t out[20]);
/* ZooKeeper's digest id of "user:password": "user:" + base64(sha1(auth)).
 * CHR_OK or CHR_EINVAL (no ':', empty user, too long). */
enum chr_err chr_zk_digest_id(const char *auth, char out[CHR_ZK_DIGEST_ID_MAX]);

/* ---- Elections (zk_election.c), called by the session -------------------- */

/* A session event (on the completion thread, list_mu held). */
void chr_election_on_session(struct chr_election *e, enum chr_zk_event ev);
/* A watch fired for path (on the completion thread, list_mu held). */
void chr_election_on_watch(struct chr_election *e, int type, const char *path);
/* The registry's link. */
struct chr_election **chr_election_next(struct chr_election *e);

/* For tests: the node this candidate watches ("" when it leads or has none
 * yet) into buf; false when nothing is watched. */
bool chr_election_predecessor(struct chr_election *e, char *buf, size_t cap);

#endif
