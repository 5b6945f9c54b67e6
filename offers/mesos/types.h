/*
 * types.h - the plain data the Mesos parts hand each other: an offer as
 * the scheduler client decoded it, a status update, a task to reconcile.
 * No functions, no ownership beyond what each struct says: the client
 * (client.h) fills them from events, the task builder (task.h) reads an
 * offer to make a TaskInfo, the wiring turns them into the core's events.
 *
 * Every bound here is a limit on what a master may send us: an offer with
 * more resources or attributes, or an id longer than these, is refused by
 * the decoder with a message naming the field (and declined), never cut.
 */
#ifndef CHR_OFFERS_MESOS_TYPES_H
#define CHR_OFFERS_MESOS_TYPES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Mesos ids (OfferID, AgentID, FrameworkID, TaskID) as we accept them. */
#define CHR_MESOS_ID_MAX 256
/* A role ("*" or a name; Mesos bounds a role's path). */
#define CHR_MESOS_ROLE_MAX 256
/* An agent's hostname. */
#define CHR_MESOS_HOST_MAX 256
/* Resources in one offer (scalar cpus/mem/disk per role and reservation). */
#define CHR_MESOS_RESOURCES_MAX 64
/* Attributes of one agent, and the length of a name or a value as text. */
#define CHR_MESOS_ATTRS_MAX 64
#define CHR_MESOS_ATTR_NAME_MAX 128
#define CHR_MESOS_ATTR_VALUE_MAX 256

/* One scalar resource of an offer, as offered: launched resources copy its
 * name, role and allocation role so they match what the master gave. */
struct chr_mesos_resource {
    char name[16];                    /* "cpus", "mem", "disk" (others are skipped) */
    char role[CHR_MESOS_ROLE_MAX];    /* "role" as offered, "*" when absent */
    char alloc_role[CHR_MESOS_ROLE_MAX]; /* allocation_info.role, "" when absent */
    bool reserved;                    /* has reservations: copied as offered */
    char *reservations_json;          /* the offered "reservations" array, verbatim
                                       * JSON (owned by the offer), NULL if none */
    double value;
};

/* An agent attribute.  TEXT values as they are; SCALAR as the shortest
 * decimal ("2", "2.5"); RANGES and SET as Mesos prints them
 * ("[1-10,20-30]", "{a,b}"), so EQUALS/LIKE compare what Chronos compared. */
struct chr_mesos_attr {
    char name[CHR_MESOS_ATTR_NAME_MAX];
    char value[CHR_MESOS_ATTR_VALUE_MAX];
};

struct chr_mesos_offer {
    char id[CHR_MESOS_ID_MAX];       /* the master's OfferID */
    char agent_id[CHR_MESOS_ID_MAX];
    char hostname[CHR_MESOS_HOST_MAX];
    struct chr_mesos_resource res[CHR_MESOS_RESOURCES_MAX];
    size_t n_res;
    struct chr_mesos_attr attrs[CHR_MESOS_ATTRS_MAX];
    size_t n_attrs;
};

/* Mesos TaskState, by the Debian mesos.proto's names (wire values differ:
 * the encoder and decoder map names, never numbers). */
enum chr_mesos_task_state {
    CHR_MESOS_TASK_STAGING = 1,
    CHR_MESOS_TASK_STARTING,
    CHR_MESOS_TASK_RUNNING,
    CHR_MESOS_TASK_KILLING,
    CHR_MESOS_TASK_FINISHED,
    CHR_MESOS_TASK_FAILED,
    CHR_MESOS_TASK_KILLED,
    CHR_MESOS_TASK_ERROR,
    CHR_MESOS_TASK_LOST,
    CHR_MESOS_TASK_DROPPED,
    CHR_MESOS_TASK_UNREACHABLE,
    CHR_MESOS_TASK_GONE,
    CHR_MESOS_TASK_GONE_BY_OPERATOR,
    CHR_MESOS_TASK_UNKNOWN,
};

/* A status update (Event UPDATE's TaskStatus).  Strings are
 * NUL-terminated; message and reason are cut to fit (they are only shown). */
struct chr_mesos_update {
    char task_id[CHR_MESOS_ID_MAX];
    char agent_id[CHR_MESOS_ID_MAX];  /* "" when absent */
    enum chr_mesos_task_state state;
    char reason[64];                  /* "REASON_..." or "" */
    char source[32];                  /* "SOURCE_MASTER"... or "" */
    char message[256];
    double timestamp;                 /* seconds; 0 when absent */
    bool has_uuid;                    /* to be acknowledged with this uuid */
    uint8_t uuid[16];
    bool has_exit_code;               /* from the message or container status,
                                       * when the source says it (see status.h) */
    int32_t exit_code;
};

/* A task to reconcile explicitly. */
struct chr_mesos_task_ref {
    const char *task_id;
    const char *agent_id; /* NULL or "" when not known */
};

#endif
