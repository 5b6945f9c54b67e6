/*
 * test_status.c - every row of status.h's table: which Mesos updates may
 * relaunch a run (QUEUED) and which end it, with the exit code and reason.
 */
#include "../../unit.h"

#include <string.h>

#include "offers/mesos/status.h"

static struct chr_mesos_outcome outcome(enum chr_mesos_task_state state, const char *reason,
                                        const char *agent, const char *message)
{
    struct chr_mesos_update u;
    memset(&u, 0, sizeof u);
    snprintf(u.task_id, sizeof u.task_id, "ct:1700000000000:0:job");
    snprintf(u.agent_id, sizeof u.agent_id, "%s", agent);
    snprintf(u.reason, sizeof u.reason, "%s", reason);
    snprintf(u.message, sizeof u.message, "%s", message);
    u.state = state;
    struct chr_mesos_outcome o;
    memset(&o, 0x5a, sizeof o); /* every field must be written */
    chr_mesos_outcome_of(&u, &o);
    return o;
}

#define ROW(st_, why_, agent_, want_)                                                        \
    assert_int_equal(outcome((st_), (why_), (agent_), "").state, (want_))

static void test_nothing_yet(void **s)
{
    (void)s;
    ROW(CHR_MESOS_TASK_STAGING, "", "a1", 0);
    ROW(CHR_MESOS_TASK_STARTING, "", "a1", 0);
    ROW(CHR_MESOS_TASK_KILLING, "", "a1", 0);
    /* a partitioned agent's task may still run and come back */
    ROW(CHR_MESOS_TASK_UNREACHABLE, "REASON_AGENT_DISCONNECTED", "a1", 0);
    ROW(CHR_MESOS_TASK_UNREACHABLE, "REASON_RECONCILIATION", "a1", 0);
    ROW(CHR_MESOS_TASK_UNREACHABLE, "REASON_RECONCILIATION", "", 0);
    struct chr_mesos_outcome o = outcome(CHR_MESOS_TASK_STAGING, "", "a1", "x");
    assert_int_equal(o.exit_code, 0);
    assert_string_equal(o.reason, "");
}

static void test_running_and_finished(void **s)
{
    (void)s;
    ROW(CHR_MESOS_TASK_RUNNING, "", "a1", CHR_RUN_RUNNING);
    ROW(CHR_MESOS_TASK_RUNNING, "REASON_RECONCILIATION", "", CHR_RUN_RUNNING);
    struct chr_mesos_outcome o =
        outcome(CHR_MESOS_TASK_FINISHED, "", "a1", "Command exited with status 0");
    assert_int_equal(o.state, CHR_RUN_FINISHED);
    assert_int_equal(o.exit_code, 0);
}

static void test_failed_exit_codes(void **s)
{
    (void)s;
    struct chr_mesos_outcome o =
        outcome(CHR_MESOS_TASK_FAILED, "", "a1", "Command exited with status 3");
    assert_int_equal(o.state, CHR_RUN_FAILED);
    assert_int_equal(o.exit_code, 3);
    assert_string_equal(o.reason, "exit 3");
    o = outcome(CHR_MESOS_TASK_FAILED, "", "a1", "Container exited with status 137");
    assert_int_equal(o.exit_code, 137);
    o = outcome(CHR_MESOS_TASK_FAILED, "", "a1", "Command terminated with signal Killed");
    assert_int_equal(o.exit_code, -1);
    assert_string_equal(o.reason, "killed by a signal");
    o = outcome(CHR_MESOS_TASK_FAILED, "", "a1", "Abnormal executor termination");
    assert_int_equal(o.exit_code, 1); /* unknown: 1, never a made-up success */
    assert_string_equal(o.reason, "exit 1: Abnormal executor termination");

    /* the decoder's exit code wins over the message */
    struct chr_mesos_update u;
    memset(&u, 0, sizeof u);
    u.state = CHR_MESOS_TASK_FAILED;
    u.has_exit_code = true;
    u.exit_code = 42;
    snprintf(u.message, sizeof u.message, "Command exited with status 7");
    chr_mesos_outcome_of(&u, &o);
    assert_int_equal(o.exit_code, 42);
    assert_string_equal(o.reason, "exit 42: Command exited with status 7");
}

static void test_failed_reasons(void **s)
{
    (void)s;
    struct chr_mesos_outcome o = outcome(CHR_MESOS_TASK_FAILED, "REASON_CONTAINER_LIMITATION_MEMORY",
                                         "a1", "Memory limit exceeded");
    assert_int_equal(o.state, CHR_RUN_FAILED);
    assert_string_equal(o.reason, "memory limit exceeded: Memory limit exceeded");
    /* never ran, but a bad image would relaunch for ever: FAILED, retries apply */
    o = outcome(CHR_MESOS_TASK_FAILED, "REASON_CONTAINER_LAUNCH_FAILED", "a1", "pull failed");
    assert_int_equal(o.state, CHR_RUN_FAILED);
    assert_int_equal(o.exit_code, 1);
    assert_string_equal(o.reason, "container launch failed: pull failed");
    o = outcome(CHR_MESOS_TASK_FAILED, "REASON_CONTAINER_PREEMPTED", "a1", "");
    assert_string_equal(o.reason, "preempted");
}

static void test_killed_and_error(void **s)
{
    (void)s;
    struct chr_mesos_outcome o = outcome(CHR_MESOS_TASK_KILLED, "", "a1", "");
    assert_int_equal(o.state, CHR_RUN_KILLED);
    assert_int_equal(o.exit_code, -1);
    assert_string_equal(o.reason, "killed");
    o = outcome(CHR_MESOS_TASK_KILLED, "REASON_TASK_KILLED_DURING_LAUNCH", "a1", "");
    assert_int_equal(o.state, CHR_RUN_KILLED);
    assert_string_equal(o.reason, "killed during launch");
    o = outcome(CHR_MESOS_TASK_ERROR, "REASON_TASK_INVALID", "", "Task uses more resources");
    assert_int_equal(o.state, CHR_RUN_FAILED); /* the same task would fail again: no QUEUED */
    assert_int_equal(o.exit_code, 1);
    assert_string_equal(o.reason, "invalid task: Task uses more resources");
    ROW(CHR_MESOS_TASK_ERROR, "REASON_TASK_UNAUTHORIZED", "", CHR_RUN_FAILED);
}

static void test_never_started(void **s)
{
    (void)s;
    ROW(CHR_MESOS_TASK_DROPPED, "REASON_INVALID_OFFERS", "", CHR_RUN_QUEUED);
    ROW(CHR_MESOS_TASK_DROPPED, "", "a1", CHR_RUN_QUEUED);
    ROW(CHR_MESOS_TASK_LOST, "REASON_INVALID_OFFERS", "", CHR_RUN_QUEUED);
    ROW(CHR_MESOS_TASK_LOST, "REASON_INVALID_OFFERS", "a1", CHR_RUN_QUEUED);
    ROW(CHR_MESOS_TASK_LOST, "REASON_RECONCILIATION", "", CHR_RUN_QUEUED);
    ROW(CHR_MESOS_TASK_GONE, "REASON_RECONCILIATION", "a1", CHR_RUN_QUEUED);
    ROW(CHR_MESOS_TASK_UNKNOWN, "REASON_RECONCILIATION", "", CHR_RUN_QUEUED);
    struct chr_mesos_outcome o =
        outcome(CHR_MESOS_TASK_LOST, "REASON_INVALID_OFFERS", "", "Offer o1 is no longer valid");
    assert_string_equal(o.reason, "invalid offer: Offer o1 is no longer valid");
    o = outcome(CHR_MESOS_TASK_DROPPED, "", "a1", "");
    assert_string_equal(o.reason, "dropped before it started");
}

static void test_may_have_run(void **s)
{
    (void)s;
    /* without PARTITION_AWARE, a named agent may be partitioned with the task */
    ROW(CHR_MESOS_TASK_LOST, "REASON_RECONCILIATION", "a1", CHR_RUN_LOST);
    ROW(CHR_MESOS_TASK_LOST, "REASON_AGENT_REMOVED", "a1", CHR_RUN_LOST);
    ROW(CHR_MESOS_TASK_LOST, "REASON_EXECUTOR_TERMINATED", "a1", CHR_RUN_LOST);
    ROW(CHR_MESOS_TASK_LOST, "", "", CHR_RUN_LOST);
    ROW(CHR_MESOS_TASK_GONE, "REASON_AGENT_RESTARTED", "a1", CHR_RUN_LOST);
    ROW(CHR_MESOS_TASK_GONE, "", "a1", CHR_RUN_LOST);
    ROW(CHR_MESOS_TASK_GONE_BY_OPERATOR, "REASON_RECONCILIATION", "a1", CHR_RUN_LOST);
    ROW(CHR_MESOS_TASK_GONE_BY_OPERATOR, "REASON_AGENT_REMOVED", "a1", CHR_RUN_LOST);
    /* the master forgot the agent the task was launched on */
    ROW(CHR_MESOS_TASK_UNKNOWN, "REASON_RECONCILIATION", "a1", CHR_RUN_LOST);
    struct chr_mesos_outcome o = outcome(CHR_MESOS_TASK_LOST, "REASON_AGENT_REMOVED", "a1", "");
    assert_int_equal(o.exit_code, -1);
    assert_string_equal(o.reason, "agent removed");
    o = outcome(CHR_MESOS_TASK_GONE_BY_OPERATOR, "", "a1", "");
    assert_string_equal(o.reason, "agent marked gone by the operator");
}

static void test_reason_is_cut_on_a_character(void **s)
{
    (void)s;
    char msg[256];
    memset(msg, 'x', sizeof msg - 1);
    msg[sizeof msg - 1] = '\0';
    /* The reason is "agent removed: " (15 bytes) then msg, cut to
     * CHR_RUN_REASON_MAX - 1 bytes: é's placed so that the last byte kept
     * would be the first of an é, whatever the limit's parity. */
    size_t last = CHR_RUN_REASON_MAX - 2 - 15;
    for (size_t i = 131 + ((last - 131) & 1); i + 1 < sizeof msg; i += 2)
        memcpy(msg + i, "\xc3\xa9", 2); /* é */
    struct chr_mesos_outcome o = outcome(CHR_MESOS_TASK_LOST, "REASON_AGENT_REMOVED", "a1", msg);
    size_t n = strlen(o.reason);
    assert_true(n < CHR_RUN_REASON_MAX);
    assert_int_equal(n, CHR_RUN_REASON_MAX - 2); /* the cut fell inside an é: it goes */
    assert_int_equal(strncmp(o.reason, "agent removed: xxx", 18), 0);
    assert_true(((unsigned char)o.reason[n - 1] & 0xC0) != 0xC0); /* no dangling lead byte */
    assert_int_equal(memcmp(o.reason + n - 2, "\xc3\xa9", 2), 0);
}

static void test_exit_code_parse(void **s)
{
    (void)s;
    int32_t c = 99;
    assert_true(chr_mesos_exit_code_parse("Command exited with status 2", &c));
    assert_int_equal(c, 2);
    assert_false(chr_mesos_exit_code_parse("Command exited with status x", &c));
    assert_false(chr_mesos_exit_code_parse("Command exited with status 99999999999", &c));
    assert_false(chr_mesos_exit_code_parse("", &c));
    assert_true(chr_mesos_exit_code_parse("Command terminated with signal Terminated", &c));
    assert_int_equal(c, -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_nothing_yet),
        cmocka_unit_test(test_running_and_finished),
        cmocka_unit_test(test_failed_exit_codes),
        cmocka_unit_test(test_failed_reasons),
        cmocka_unit_test(test_killed_and_error),
        cmocka_unit_test(test_never_started),
        cmocka_unit_test(test_may_have_run),
        cmocka_unit_test(test_reason_is_cut_on_a_character),
        cmocka_unit_test(test_exit_code_parse),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
