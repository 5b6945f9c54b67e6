/*
 * task_int.h - the parts of the TaskInfo builder (task.h) shared between
 * its files: the container mapping (task_container.c) tells the command
 * (task.c) which containerizer will run it.  Pure, like them.
 */
#ifndef CHR_OFFERS_MESOS_TASK_INT_H
#define CHR_OFFERS_MESOS_TASK_INT_H

#include <jansson.h>

#include "common/err.h"

/* Which containerizer runs the task: it decides what `arguments` means. */
enum chr_mesos_box {
    CHR_MESOS_BOX_NONE,   /* the Mesos containerizer, no image */
    CHR_MESOS_BOX_MESOS,  /* the Mesos containerizer with a Docker image */
    CHR_MESOS_BOX_DOCKER, /* the Docker containerizer */
};

/*
 * The ContainerInfo for the job's stored container JSON (Chronos's shape:
 * type, image, network, networkName, networkInfos, volumes, forcePullImage,
 * parameters).  NULL text: *out NULL and CHR_MESOS_BOX_NONE.  CHR_EINVAL
 * with err naming the field ("container.volumes[1].mode") for what the API
 * would have refused; CHR_ENOMEM.  *out is a new reference on success.
 */
enum chr_err chr_mesos_container_json(const char *text, json_t **out, enum chr_mesos_box *box,
                                      struct chr_error *err);

#endif
