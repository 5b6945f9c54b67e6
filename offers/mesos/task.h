/*
 * task.h - a run's Mesos TaskInfo: what the LAUNCH of ACCEPT carries, built
 * from the job, the run and the offer it goes to, mapped field by field as
 * Apache Chronos's MesosTaskBuilder mapped them (deviations named below).
 *
 * Pure: no I/O, no clock, no thread.  The result is a jansson object whose
 * keys are the proto field names of the Debian mesos.proto (Mesos ~1.5), as
 * the master's JSON decoder wants them; nothing outside those protos is
 * ever written (no TaskInfo.limits, no max_completion_time).
 *
 * The mapping:
 * - task_id = run->id ("ct:<due-ms>:<attempt>:<job>"), nothing appended.
 *   Chronos appended ":<args>" to carry a run's arguments to its command
 *   builder; here they travel in the run record, and an id that never
 *   changes for a run makes a repeated LAUNCH of it the same task (and the
 *   update's task_id the run id itself).  Chronos's parser reads the id
 *   without the args part.  name = "ChronosTask:<job>".  agent_id = the
 *   offer's.
 * - resources: cpus, then mem, then disk (the job's, or the defaults for a value it
 *   leaves at 0; a value that is still 0 gives no resource).  Each is taken
 *   from the offer's entries of that name, reserved ones first (Chronos
 *   preferred a reserved role), then in offer order, split over several
 *   entries when one is not enough; each piece copies its entry's role,
 *   allocation_info and reservations, so the task matches what was
 *   offered.  An entry offered with "reservations" (the reservation-
 *   refinement format) keeps those and no "role": in that format the role
 *   is the last reservation's, and the "*" types.h puts for an absent role
 *   would contradict it.  More than the offer holds is an error naming the
 *   resource.
 * - command: see struct chr_mesos_task_cmd.  shell:true runs value through
 *   /bin/sh -c.  shell:false runs value with arguments; the Mesos
 *   containerizer takes `arguments` as the whole argv (argv[0] first), the
 *   Docker containerizer as what follows value, so the builder writes
 *   [value, args...] for the first and [args...] for a DOCKER container:
 *   either way the process sees the argv the local manager gives it
 *   (Chronos passed the args alone, losing the first one to argv[0]
 *   outside Docker).  An empty command (allowed for container jobs) runs
 *   the image's entrypoint: shell false, no value, the arguments after the
 *   entrypoint (Chronos sent shell:true with no value there unless the job
 *   said shell:false, which Mesos refuses).  A command whose first word is
 *   an http(s):// or ftp(s):// URL is fetched executable and run as
 *   "./<file name>" (Chronos's rule, restricted to those schemes: Chronos
 *   took any command starting with "http", "httpd -X" included), with the
 *   job's fetch URIs as well (Chronos dropped them).
 * - environment: the job's environmentVariables (a later duplicate wins, a
 *   built-in's name is skipped), then the built-ins, the same names and
 *   values as the local manager: mesos_task_id, MESOS_TASK_ID,
 *   CHRONOS_JOB_OWNER, CHRONOS_JOB_NAME, HOST (the offer's hostname),
 *   CHRONOS_RESOURCE_MEM/CPU/DISK (Java's Double.toString of the resources
 *   given), CHRONOS_JOB_RUN_TIME (due ms), CHRONOS_JOB_RUN_ATTEMPT.
 * - uris: the job's `fetch` entries ({uri, executable, cache, extract,
 *   output_file}, Chronos's defaults false, false, true) then its `uris`
 *   (strings, with those defaults), as CommandInfo.URI {value, executable,
 *   extract, cache, output_file}.
 * - user: p->user when set (else the framework's user applies).
 * - container: when the job has one.  DOCKER: docker{image, network (HOST
 *   by default; BRIDGE, USER), force_pull_image, parameters[{key, value}]}.
 *   MESOS: mesos{image{type DOCKER, docker{name}, cached = !forcePullImage}}.
 *   volumes[{container_path, host_path, mode}] (mode RW when the job gives
 *   none: the proto requires one, Chronos left it unset), an `external`
 *   volume as source{DOCKER_VOLUME, docker_volume{driver, name,
 *   driver_options}}; network_infos from networkName and networkInfos
 *   ({name, labels}: Chronos sent neither protocol nor port mappings).
 * - kill_policy.grace_period = kill_grace_ms when > 0 (how long a KILL
 *   waits between SIGTERM and SIGKILL, the local manager's kill grace).
 *   maxCompletionTime is NOT in the TaskInfo: Chronos put it into
 *   TaskInfo.max_completion_time, which the Debian protos (Mesos ~1.5) do
 *   not have and an older master would ignore.  The wiring enforces it: a
 *   run RUNNING for longer than job->max_completion_ms gets a KILL, and its
 *   outcome is then FAILED ("exceeded maxCompletionTime"), as locally.
 * - no labels, no executor: Chronos set no labels, and a job with a custom
 *   `executor` is refused (CHR_EINVAL naming "executor"): Chronos's
 *   executor path needs an executor this project does not ship.
 */
#ifndef CHR_OFFERS_MESOS_TASK_H
#define CHR_OFFERS_MESOS_TASK_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "common/err.h"
#include "offers/mesos/types.h"
#include "scheduler/core.h"
#include "scheduler/job.h"

/*
 * What a run executes, as the wiring made it with chr_run_cmd_make(job,
 * run->arguments) (api/run_cmd.h: manual arguments are argv, shell-quoted
 * onto a shell job's command), so both resource managers run the same
 * command.  Borrowed.
 */
struct chr_mesos_task_cmd {
    const char *command;
    bool shell;
    char *const *arguments; /* argv after the command when !shell */
    uint32_t n_arguments;
};

struct chr_mesos_task_params {
    const struct chr_job *job;
    const struct chr_run *run;
    const struct chr_mesos_offer *offer;
    const char *user;           /* resolved runAsUser (the wiring checked policy); NULL: none */
    const char *framework_name; /* not written into the task (Chronos wrote none) */
    /* NULL: the job's own command and arguments, refused (naming
     * "arguments") for a run with manual arguments. */
    const struct chr_mesos_task_cmd *cmd;
    /* The server's defaults for resources a job leaves at 0 (the core's
     * chr_core_config values, so the task takes what the core matched). */
    double default_cpus, default_mem_mb, default_disk_mb;
    int64_t kill_grace_ms; /* > 0: kill_policy.grace_period */
};

/*
 * Builds one TaskInfo into *out (a new reference the caller owns).
 * CHR_EINVAL with err naming the field ("mem", "container.volumes[0].mode",
 * "command", ...) when the job, the run or the offer cannot make a valid
 * task: more resources than offered, a stored container that is not what
 * the API validates, an empty command without a container.  CHR_ENOMEM.
 * On failure *out is NULL.
 */
enum chr_err chr_mesos_task_build(const struct chr_mesos_task_params *p, json_t **out,
                                  struct chr_error *err);

/* Whether an offer can hold the resources (summed over the offer's entries
 * of each name, any role it was offered for). */
bool chr_mesos_offer_fits(const struct chr_mesos_offer *o, double cpus, double mem_mb,
                          double disk_mb);

/*
 * Removes from `o` what chr_mesos_task_build takes for these resources
 * (the same entries, in the same order), so that a second task on the
 * same offer is built from what is left.  Takes at most what is there.
 */
void chr_mesos_offer_take(struct chr_mesos_offer *o, double cpus, double mem_mb,
                          double disk_mb);

#endif
