/*
 * rm_local.h - this host as the core's resource manager (rm.h), over the
 * local resource manager (offers/local.h).
 */
#ifndef CHR_SERVER_RM_LOCAL_H
#define CHR_SERVER_RM_LOCAL_H

#include <stdbool.h>

#include "offers/local.h"
#include "server/rm.h"

struct chr_loop;

struct chr_rm_local_config {
    const char *runs_dir;    /* the runs' directories */
    const char *chronos_bin; /* for run-task; NULL: chronos-run-task beside us, else ourselves */
    struct chr_local_resources resources; /* 0s: from the machine */
    bool cgroups_off;        /* no cgroup per run */
    enum chr_local_runtime runtime; /* container jobs run in it; NONE: refused */
    struct chr_rm_gate may_start;    /* asked right before a supervisor starts */
};

/* Starts the local manager (its monitor thread) and re-attaches to the runs
 * a previous instance left; their states are pushed to `loop` at once. */
enum chr_err chr_rm_local_create(const struct chr_rm_local_config *cfg, struct chr_loop *loop,
                                 struct chr_rm **out, struct chr_error *err);

#endif
