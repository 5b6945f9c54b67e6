/*
 * rm_json.c - a resource manager's figures as JSON (rm_json.h).  Never
 * takes a lock or calls the resource manager: it renders what it is given.
 */
#include "server/rm_json.h"

#include <math.h>

/* A figure: finite, never below 0 (a sum of doubles may dip below). */
static json_t *num(double v)
{
    return json_real(isfinite(v) && v > 0 ? v : 0.0);
}

static json_t *res_json(const struct chr_rm_res *r)
{
    return json_pack("{s:o,s:o,s:o}", "cpus", num(r->cpus), "mem", num(r->mem_mb), "disk",
                     num(r->disk_mb));
}

static json_t *agent_json(const struct chr_rm_agent *a)
{
    return json_pack("{s:s,s:s,s:o,s:o,s:o}", "id", a->id, "hostname", a->hostname, "offered",
                     res_json(&a->offered), "used", res_json(&a->used), "total",
                     a->has_total ? res_json(&a->total) : json_null());
}

json_t *chr_rm_resources_json(const struct chr_rm_resources *r)
{
    json_t *agents = json_array();
    for (size_t i = 0; agents != NULL && i < r->n_agents; i++)
        if (json_array_append_new(agents, agent_json(&r->agents[i])) != 0) {
            json_decref(agents);
            agents = NULL;
        }
    return json_pack("{s:o,s:I,s:o,s:o,s:o,s:o}", "agents", agents, "agentsUnlisted",
                     (json_int_t)r->n_unlisted, "offered", res_json(&r->offered), "used",
                     res_json(&r->used), "held", res_json(&r->held), "total",
                     r->has_total ? res_json(&r->total) : json_null());
}
