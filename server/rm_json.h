/*
 * rm_json.h - a resource manager's figures (rm.h, chr_rm_resources) as the
 * JSON /v1/status and /metrics show.  Pure: no lock, no I/O.
 */
#ifndef CHR_SERVER_RM_JSON_H
#define CHR_SERVER_RM_JSON_H

#include <jansson.h>

#include "server/rm.h"

/*
 * {"agents": [{"id","hostname","offered":{"cpus","mem","disk"},"used":{...},
 *              "total":{...}|null}],
 *  "agentsUnlisted": n, "offered": {...}, "used": {...}, "held": {...},
 *  "total": {...}|null}
 * mem and disk in MB, as jobs give them.  A new reference; NULL when out of
 * memory.
 */
json_t *chr_rm_resources_json(const struct chr_rm_resources *r);

#endif
