/*
 * ha.h - a chronos server in a ZooKeeper cluster: it joins the leader
 * election and, while it leads, runs the scheduler on the ZooKeeper store;
 * while another leads it stands by (its API forwards to the leader).
 *
 * One term of leadership is one ZooKeeper session: on its first connection
 * loss, expiry, lapsed lease or failed write the server stops its scheduler
 * (before the session can have expired on the server side), drops the
 * session and joins again as a new candidate.  A new term loads everything
 * from ZooKeeper and reconciles the open runs, so each due instant is
 * launched once across any number of leader changes.
 */
#ifndef CHR_SERVER_HA_H
#define CHR_SERVER_HA_H

#include <signal.h>

#include "api/http.h"
#include "server/loop.h"
#include "zkstore/zk.h"

struct chr_ha_config {
    struct chr_zk_config zk;      /* hosts, session timeout, auth (callbacks: ours) */
    const char *root;             /* the tree, e.g. "/chronos" */
    const char *id;               /* this server's "host:port" */
    struct chr_loop_config loop;  /* everything but the store and the fence */
    struct chr_http *http;        /* its role is switched here */
};

/*
 * Runs until one of `stop` (blocked in every thread) arrives; returns 0, or
 * 1 when the configuration is unusable (err printed).  In test builds
 * SIGUSR2 makes the current ZooKeeper session expire (a real server-side
 * expiry), for the fault tests.
 */
int chr_ha_run(const struct chr_ha_config *cfg, const sigset_t *stop);

#endif
