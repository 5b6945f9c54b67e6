/*
 * run_output.h - the API's access to runs' captured output (api/sched.h's
 * chr_run_output), read from the local resource manager's run directories
 * (offers/local.h).  The wiring lives here so that api/ and offers/ never
 * include each other.
 */
#ifndef CHR_SERVER_RUN_OUTPUT_H
#define CHR_SERVER_RUN_OUTPUT_H

#include "api/sched.h"
#include "common/err.h"

/* Output under runs_dir (borrowed: it must outlive every user of the
 * result, the HTTP server included). */
struct chr_run_output chr_run_output_local(const char *runs_dir);

/* Output from the Mesos agents' sandboxes (run_output_mesos.c), found
 * through the leading master `set_master` names (borrowed; NULL: none). */
struct chr_run_output_mesos;
struct chr_mesos_master;
enum chr_err chr_run_output_mesos_create(struct chr_run_output_mesos **out);
void chr_run_output_mesos_set_master(struct chr_run_output_mesos *o, struct chr_mesos_master *m);
void chr_run_output_mesos_destroy(struct chr_run_output_mesos *o);
struct chr_run_output chr_run_output_mesos(struct chr_run_output_mesos *o);

#endif
