/*
 * master.h - where the leading Mesos master is: `--mesos_master` is
 * either a plain "host:port" or "zk://[user:pass@]host:port[,host:port]/path",
 * the ZooKeeper group the masters join.
 *
 * With a zk:// URL this keeps its own ZooKeeper session (a different
 * ensemble and path than chronos's store, so never a chr_zk), lists the
 * group's children, takes the `json.info_<seq>` member with the lowest
 * sequence (the oldest member leads; `log_replicas` and the old binary
 * `info_` members are ignored), reads its MasterInfo JSON and follows
 * changes by a child watch: re-read on every change and every reconnection;
 * a new session after an expiry.  While the connection is down the last
 * known master is kept (a stale master answers 307 or refuses the
 * connection; the scheduler client copes with either).
 *
 * Never blocks a ZooKeeper thread: only the async API is used on them; the
 * one thread of its own opens and closes sessions and retries failed reads.
 */
#ifndef CHR_OFFERS_MESOS_MASTER_H
#define CHR_OFFERS_MESOS_MASTER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/err.h"
#include "common/limits.h"


/*
 * Called whenever the answer of chr_mesos_master_current() changes: with the
 * new "host:port", or NULL when no master is known (the group is empty or
 * gone, or the leader's data cannot be read).  It runs on a ZooKeeper client
 * thread, one call at a time, never after chr_mesos_master_stop() returned;
 * it must be quick, must not block, and must not call chr_mesos_master_stop.
 * `hostport` is valid during the call only.  Never called for a plain
 * host:port (its answer never changes).
 */
typedef void chr_mesos_master_fn(void *ctx, const char *hostport);

struct chr_mesos_master_config {
    const char *url;            /* "host:port" or "zk://..." (copied) */
    int32_t session_timeout_ms; /* asked of ZooKeeper; 0: 10000 */
    chr_mesos_master_fn *on_change; /* may be NULL */
    void *ctx;
};

struct chr_mesos_master;

/* ---- Lifecycle ------------------------------------------------------------- */

/*
 * Validates cfg->url and starts following the group (zk://) or answers the
 * fixed address.  Returns immediately, before the first read: the master is
 * unknown until then (watch on_change, or poll current).  CHR_OK with *out
 * set; CHR_EINVAL with err naming "mesos_master" (bad URL or timeout);
 * CHR_ENOMEM; CHR_EIO (no thread).  On failure nothing is left running.
 */
enum chr_err chr_mesos_master_start(const struct chr_mesos_master_config *cfg,
                                    struct chr_mesos_master **out, struct chr_error *err);
/* Closes the session, joins the thread and frees.  No callback runs after it
 * returns.  NULL allowed. */
void chr_mesos_master_stop(struct chr_mesos_master *m);

/* ---- Queries ----------------------------------------------------------------- */

/* The leading master's "host:port" into buf (NUL-terminated); false when
 * none is known or it does not fit.  Any thread. */
bool chr_mesos_master_current(struct chr_mesos_master *m, char *buf, size_t cap);

/* ---- Pure parts (no I/O; exposed for tests and `chronos check-config`) ---- */

/* Checks a --mesos_master value as chr_mesos_master_start would.  CHR_OK or
 * CHR_EINVAL with err naming "mesos_master" and saying what is wrong. */
enum chr_err chr_mesos_master_validate(const char *url, struct chr_error *err);

/* Of a group's child names, the index of the leading master's member: the
 * `json.info_<digits>` with the smallest number; -1 when there is none. */
long chr_mesos_master_pick(const char *const *names, size_t n);

/* "host:port" from MasterInfo JSON (len bytes): address.hostname, else
 * address.ip, else hostname, else the pid's host; address.port, else port,
 * else the pid's port.  An IPv6 host is bracketed.  CHR_OK; CHR_EINVAL when
 * the JSON has no usable host and port (err names "mesos_master"); CHR_ERANGE
 * when it does not fit in cap. */
enum chr_err chr_mesos_master_parse_info(const char *json, size_t len, char *buf, size_t cap,
                                         struct chr_error *err);

#ifdef CHR_TESTING
/* The current session's id and password (to expire it from a test with a
 * second handle); false when there is no session. */
bool chr_mesos_master_session_for_test(struct chr_mesos_master *m, int64_t *id, char passwd[16]);
#endif

#endif
