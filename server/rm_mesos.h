/*
 * rm_mesos.h - a Mesos cluster as the core's resource manager (rm.h), over
 * the v1 scheduler client (offers/mesos/client.h), the TaskInfo builder
 * (offers/mesos/task.h) and the status mapping (offers/mesos/status.h).
 *
 * What it promises the core:
 *   - offers become CHR_EV_OFFER with the agent's hostname and attributes;
 *     rescinded ones, and every held one when the stream drops, become
 *     CHR_EV_OFFER_RESCINDED; launches sharing an offer go in one ACCEPT;
 *   - offers are declined, not handed to the core, from each SUBSCRIBED
 *     until every run it was asked to reconcile has an answer (or
 *     reconcile_grace_ms passed): nothing new launches before what a dead
 *     leader launched is known;
 *   - after every SUBSCRIBED: explicit RECONCILE of every open run it knows,
 *     then an implicit one; again every reconcile_interval_ms;
 *   - every status update with a uuid is acknowledged exactly once, after
 *     the store batch that recorded what it changed is durable (a failed
 *     batch: never; the next leader gets it again);
 *   - the framework id is read from the store at start and written there at
 *     the first SUBSCRIBED that gives a new one, before anything else.
 */
#ifndef CHR_SERVER_RM_MESOS_H
#define CHR_SERVER_RM_MESOS_H

#include <stdbool.h>
#include <stdint.h>

#include "offers/mesos/client.h"
#include "server/rm.h"
#include "zkstore/store.h"

struct chr_loop;

struct chr_rm_mesos_config {
    const char *master;               /* host:port, http://..., zk://... */
    struct chr_mesos_framework fw;    /* user, name, role, hostname, webui_url, principal... */
    struct chr_store *store;          /* the framework id's node lives under root */
    const char *root;
    int64_t min_revive_interval_ms;   /* 0: 1000 */
    int64_t reconcile_interval_ms;    /* 0: 600000 (Chronos's) */
    int64_t reconcile_grace_ms;       /* 0: 30000 */
    double decline_refuse_s;          /* offers declined while reconciling: 0: 2 */
    bool verbose;
    struct chr_rm_gate may_start;     /* asked right before a held ACCEPT is sent */
};

/* Reads the stored framework id; the client starts with start(). */
enum chr_err chr_rm_mesos_create(const struct chr_rm_mesos_config *cfg, struct chr_loop *loop,
                                 struct chr_rm **out, struct chr_error *err);

/* The node that holds the framework id, under root. */
#define CHR_RM_MESOS_FRAMEWORK_NODE "framework_id"

#endif
