/*
 * status.c - a Mesos status update as a run's outcome (status.h has the
 * table and why each row is what it is).  Pure: no I/O, no clock.
 */
#include "offers/mesos/status.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Mesos's reasons as a person reads them. */
static const struct {
    const char *reason, *phrase;
} phrases[] = {
    {"REASON_INVALID_OFFERS", "invalid offer"},
    {"REASON_RECONCILIATION", "unknown to the master"},
    {"REASON_AGENT_REMOVED", "agent removed"},
    {"REASON_AGENT_DISCONNECTED", "agent disconnected"},
    {"REASON_AGENT_RESTARTED", "agent restarted"},
    {"REASON_AGENT_UNKNOWN", "agent unknown"},
    {"REASON_MASTER_DISCONNECTED", "master disconnected"},
    {"REASON_CONTAINER_LAUNCH_FAILED", "container launch failed"},
    {"REASON_CONTAINER_LIMITATION", "container limit exceeded"},
    {"REASON_CONTAINER_LIMITATION_MEMORY", "memory limit exceeded"},
    {"REASON_CONTAINER_LIMITATION_DISK", "disk limit exceeded"},
    {"REASON_CONTAINER_PREEMPTED", "preempted"},
    {"REASON_CONTAINER_UPDATE_FAILED", "container update failed"},
    {"REASON_EXECUTOR_TERMINATED", "executor terminated"},
    {"REASON_EXECUTOR_REGISTRATION_TIMEOUT", "executor did not register"},
    {"REASON_EXECUTOR_REREGISTRATION_TIMEOUT", "executor did not re-register"},
    {"REASON_EXECUTOR_UNREGISTERED", "executor unregistered"},
    {"REASON_COMMAND_EXECUTOR_FAILED", "command executor failed"},
    {"REASON_TASK_INVALID", "invalid task"},
    {"REASON_TASK_UNAUTHORIZED", "task not authorized"},
    {"REASON_TASK_GROUP_INVALID", "invalid task group"},
    {"REASON_TASK_GROUP_UNAUTHORIZED", "task group not authorized"},
    {"REASON_TASK_KILLED_DURING_LAUNCH", "killed during launch"},
    {"REASON_TASK_UNKNOWN", "unknown to the agent"},
    {"REASON_FRAMEWORK_REMOVED", "framework removed"},
    {"REASON_GC_ERROR", "agent garbage collection failed"},
    {"REASON_INVALID_FRAMEWORKID", "invalid framework id"},
    {"REASON_RESOURCES_UNKNOWN", "resources unknown"},
    {"REASON_IO_SWITCHBOARD_EXITED", "I/O switchboard exited"},
};

static const char *reason_phrase(const char *reason)
{
    for (size_t i = 0; i < sizeof phrases / sizeof phrases[0]; i++)
        if (strcmp(reason, phrases[i].reason) == 0)
            return phrases[i].phrase;
    return NULL;
}

/* The state's own phrase, when Mesos gives no reason we know. */
static const char *state_phrase(enum chr_mesos_task_state s)
{
    switch (s) {
    case CHR_MESOS_TASK_FAILED: return "failed";
    case CHR_MESOS_TASK_KILLED: return "killed";
    case CHR_MESOS_TASK_ERROR: return "invalid task";
    case CHR_MESOS_TASK_LOST: return "lost";
    case CHR_MESOS_TASK_DROPPED: return "dropped before it started";
    case CHR_MESOS_TASK_GONE: return "agent gone";
    case CHR_MESOS_TASK_GONE_BY_OPERATOR: return "agent marked gone by the operator";
    case CHR_MESOS_TASK_UNKNOWN: return "unknown to the master";
    default: return "";
    }
}

bool chr_mesos_exit_code_parse(const char *message, int32_t *code)
{
    static const char status[] = "exited with status ";
    const char *p = strstr(message, status);
    if (p != NULL) {
        p += sizeof status - 1;
        char *end = NULL;
        errno = 0;
        long v = strtol(p, &end, 10);
        bool digits = *p == '-' || (*p >= '0' && *p <= '9');
        if (digits && end != p && errno == 0 && v >= INT32_MIN && v <= INT32_MAX) {
            *code = (int32_t)v;
            return true;
        }
        return false;
    }
    if (strstr(message, "terminated with signal") != NULL) {
        *code = -1;
        return true;
    }
    return false;
}

static bool is(const struct chr_mesos_update *u, const char *reason)
{
    return strcmp(u->reason, reason) == 0;
}

/* QUEUED or LOST for the states that say the task is gone (status.h). */
static enum chr_run_state gone_state(const struct chr_mesos_update *u)
{
    bool reconcile = is(u, "REASON_RECONCILIATION"), no_agent = u->agent_id[0] == '\0';
    switch (u->state) {
    case CHR_MESOS_TASK_DROPPED:
        return CHR_RUN_QUEUED;
    case CHR_MESOS_TASK_LOST:
        return is(u, "REASON_INVALID_OFFERS") || (reconcile && no_agent) ? CHR_RUN_QUEUED
                                                                          : CHR_RUN_LOST;
    case CHR_MESOS_TASK_GONE:
        return reconcile ? CHR_RUN_QUEUED : CHR_RUN_LOST;
    case CHR_MESOS_TASK_UNKNOWN:
        return no_agent ? CHR_RUN_QUEUED : CHR_RUN_LOST;
    default: /* GONE_BY_OPERATOR */
        return CHR_RUN_LOST;
    }
}

static int32_t failed_code(const struct chr_mesos_update *u, bool *from_message)
{
    int32_t code = 1;
    *from_message = false;
    if (u->has_exit_code)
        return u->exit_code;
    if (chr_mesos_exit_code_parse(u->message, &code)) {
        *from_message = true;
        return code;
    }
    return 1;
}

/* A text cut at n bytes may end inside a UTF-8 character: that part goes. */
static void utf8_trim(char *out, size_t n)
{
    size_t k = n;
    while (k > 0 && ((unsigned char)out[k - 1] & 0xC0) == 0x80)
        k--;
    if (k == 0 || (unsigned char)out[k - 1] < 0xC0)
        return; /* ASCII, or nothing but continuation bytes: left as is */
    unsigned char lead = (unsigned char)out[k - 1];
    size_t len = lead >= 0xF0 ? 4 : lead >= 0xE0 ? 3 : 2;
    if (k - 1 + len > n)
        out[k - 1] = '\0';
}

/* "<phrase>[: <message>]", the phrase from Mesos's reason or the state. */
static void describe(const struct chr_mesos_update *u, const char *phrase, bool with_message,
                     char out[CHR_RUN_REASON_MAX])
{
    const char *p = phrase != NULL ? phrase : reason_phrase(u->reason);
    if (p == NULL)
        p = state_phrase(u->state);
    size_t n = strnlen(p, CHR_RUN_REASON_MAX - 1);
    memcpy(out, p, n);
    if (with_message && u->message[0] != '\0') {
        const char *parts[] = {n > 0 ? ": " : "", u->message};
        for (int k = 0; k < 2; k++) {
            size_t m = strnlen(parts[k], sizeof u->message);
            m = m < CHR_RUN_REASON_MAX - 1 - n ? m : CHR_RUN_REASON_MAX - 1 - n;
            memcpy(out + n, parts[k], m);
            n += m;
        }
    }
    out[n] = '\0';
    utf8_trim(out, n);
}

static void failed(const struct chr_mesos_update *u, struct chr_mesos_outcome *out)
{
    bool from_message = false;
    out->state = CHR_RUN_FAILED;
    out->exit_code = failed_code(u, &from_message);
    if (reason_phrase(u->reason) != NULL && !is(u, "REASON_COMMAND_EXECUTOR_FAILED")) {
        describe(u, NULL, true, out->reason);
        return;
    }
    char phrase[32];
    if (out->exit_code == -1)
        snprintf(phrase, sizeof phrase, "killed by a signal");
    else
        snprintf(phrase, sizeof phrase, "exit %d", (int)out->exit_code);
    /* "exit 2: Command exited with status 2" says it twice. */
    describe(u, phrase, !from_message, out->reason);
}

void chr_mesos_outcome_of(const struct chr_mesos_update *u, struct chr_mesos_outcome *out)
{
    memset(out, 0, sizeof *out);
    switch (u->state) {
    case CHR_MESOS_TASK_RUNNING:
        out->state = CHR_RUN_RUNNING;
        return;
    case CHR_MESOS_TASK_FINISHED:
        out->state = CHR_RUN_FINISHED;
        return;
    case CHR_MESOS_TASK_FAILED:
        failed(u, out);
        return;
    case CHR_MESOS_TASK_KILLED:
        out->state = CHR_RUN_KILLED;
        out->exit_code = -1;
        describe(u, NULL, true, out->reason);
        return;
    case CHR_MESOS_TASK_ERROR:
        out->state = CHR_RUN_FAILED;
        out->exit_code = 1;
        describe(u, NULL, true, out->reason);
        return;
    case CHR_MESOS_TASK_LOST:
    case CHR_MESOS_TASK_DROPPED:
    case CHR_MESOS_TASK_GONE:
    case CHR_MESOS_TASK_GONE_BY_OPERATOR:
    case CHR_MESOS_TASK_UNKNOWN:
        out->state = gone_state(u);
        out->exit_code = -1;
        describe(u, NULL, true, out->reason);
        return;
    default: /* STAGING, STARTING, KILLING, UNREACHABLE: nothing yet */
        return;
    }
}
