/*
 * test_master.c - finding the leading Mesos master (offers/mesos/master.h):
 * the URL rules, the choice among members and the MasterInfo parser (pure),
 * then the follower against a real ZooKeeper (tests/zk/zk.sh, started for the
 * first test that needs it and stopped at the end, even after a failure),
 * with members written as Mesos writes them.
 */
#include "tests/unit/unit.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>
#include <zookeeper/zookeeper.h>

#include "tests/unit/zkstore/fixture.h"
#include "offers/mesos/master.h"
#include "zkstore/zk.h"

/* ---- Helpers ---------------------------------------------------------------- */

/* What on_change reported. */
struct seen {
    pthread_mutex_t mu;
    int calls;
    bool known;
    char last[CHR_MESOS_MASTER_HOSTPORT_MAX];
};

static void on_change(void *ctx, const char *hp)
{
    struct seen *s = ctx;
    pthread_mutex_lock(&s->mu);
    s->calls++;
    s->known = hp != NULL;
    snprintf(s->last, sizeof s->last, "%s", hp ? hp : "");
    pthread_mutex_unlock(&s->mu);
}

/* True once both current() and the last on_change say `want` (NULL:
 * unknown), polled until the deadline. */
static bool wait_for(struct chr_mesos_master *m, struct seen *s, const char *want, long ms)
{
    for (int64_t end = test_mono_ms() + ms; test_mono_ms() < end; test_nap_ms(20)) {
        char buf[CHR_MESOS_MASTER_HOSTPORT_MAX];
        bool cur = chr_mesos_master_current(m, buf, sizeof buf);
        pthread_mutex_lock(&s->mu);
        bool cb = want ? s->known && strcmp(s->last, want) == 0 : !s->known;
        pthread_mutex_unlock(&s->mu);
        if (cb && (want ? cur && strcmp(buf, want) == 0 : !cur))
            return true;
    }
    return false;
}

/* ---- A real ZooKeeper -------------------------------------------------------- */

static char zk_dir[64];
static char zk_hosts[256];
static zhandle_t *zk_client; /* the test's own session: writes members as Mesos does */

static void zk_stop(void)
{
    if (zk_client != NULL) {
        zookeeper_close(zk_client);
        zk_client = NULL;
    }
    if (zk_dir[0] == '\0')
        return;
    char cmd[256];
    snprintf(cmd, sizeof cmd, "tests/zk/zk.sh stop %s", zk_dir);
    if (system(cmd) != 0)
        fprintf(stderr, "zk.sh stop failed\n");
    rm_tree(zk_dir);
    zk_dir[0] = '\0';
}

/* Starts the server once; per-test setup of the tests that need it. */
static int zk_setup(void **state)
{
    (void)state;
    if (zk_client != NULL)
        return 0;
    snprintf(zk_dir, sizeof zk_dir, "/tmp/chr-mm-XXXXXX");
    if (mkdtemp(zk_dir) == NULL) {
        zk_dir[0] = '\0';
        return -1;
    }
    atexit(zk_stop); /* even when the tests end early */
    char cmd[256];
    snprintf(cmd, sizeof cmd, "tests/zk/zk.sh start %s", zk_dir);
    FILE *f = popen(cmd, "r");
    if (f == NULL)
        return -1;
    zk_hosts[0] = '\0';
    char line[256];
    while (fgets(line, sizeof line, f) != NULL)
        snprintf(zk_hosts, sizeof zk_hosts, "%s", line);
    if (pclose(f) != 0 || zk_hosts[0] == '\0') {
        fprintf(stderr, "cannot start ZooKeeper (tests/zk/zk.sh; run from the repository)\n");
        return -1;
    }
    zk_hosts[strcspn(zk_hosts, "\r\n")] = '\0';
    zk_client = zookeeper_init(zk_hosts, NULL, 10000, NULL, NULL, 0);
    for (int64_t end = test_mono_ms() + 15000; zk_client && test_mono_ms() < end; test_nap_ms(20))
        if (zoo_state(zk_client) == ZOO_CONNECTED_STATE)
            return 0;
    fprintf(stderr, "no session with %s\n", zk_hosts);
    return -1;
}

static int zk_teardown_group(void **state)
{
    (void)state;
    zk_stop();
    return 0;
}

static char *info_json(char *buf, size_t cap, const char *host, int port)
{
    snprintf(buf, cap,
             "{\"address\":{\"hostname\":\"%s\",\"ip\":\"10.0.0.%d\",\"port\":%d},"
             "\"hostname\":\"%s\",\"id\":\"id-%d\",\"ip\":16777226,"
             "\"pid\":\"master@10.0.0.%d:%d\",\"port\":%d,\"version\":\"1.11.0\"}",
             host, port % 256, port, host, port, port % 256, port, port);
    return buf;
}

static void put(const char *path, const char *data, int flags)
{
    char created[256];
    int rc = zoo_create(zk_client, path, data, data ? (int)strlen(data) : -1,
                        &ZOO_OPEN_ACL_UNSAFE, flags, created, sizeof created);
    if (rc != ZOK)
        fail_msg("create %s: %s", path, zerror(rc));
}

/* A member as a master writes it: ephemeral, its data MasterInfo JSON. */
static void member(const char *group, const char *name, const char *host, int port)
{
    char path[256], json[512];
    snprintf(path, sizeof path, "%s/%s", group, name);
    put(path, info_json(json, sizeof json, host, port), ZOO_EPHEMERAL);
}

static void del(const char *group, const char *name)
{
    char path[256];
    snprintf(path, sizeof path, "%s/%s", group, name);
    int rc = zoo_delete(zk_client, path, -1);
    if (rc != ZOK)
        fail_msg("delete %s: %s", path, zerror(rc));
}

static struct chr_mesos_master *start(const char *group, struct seen *s)
{
    char url[512];
    snprintf(url, sizeof url, "zk://%s%s", zk_hosts, group);
    pthread_mutex_init(&s->mu, NULL);
    struct chr_mesos_master_config cfg = {
        .url = url, .session_timeout_ms = 4000, .on_change = on_change, .ctx = s};
    struct chr_mesos_master *m = NULL;
    struct chr_error err;
    if (chr_mesos_master_start(&cfg, &m, &err) != CHR_OK)
        fail_msg("start %s: %s", url, err.message);
    return m;
}

/* ---- URLs ------------------------------------------------------------------- */

static void test_urls_accepted(void **state)
{
    (void)state;
    const char *good[] = {
        "127.0.0.1:5050",
        "m1.example.com:5050",
        "[::1]:5050",
        "zk://h1:2181/mesos",
        "zk://h1:2181,h2:2182,10.0.0.3:2183/mesos",
        "zk://user:pa:ss@h1:2181/mesos/sub-dir_1",
        "zk://[::1]:2181/mesos",
    };
    for (size_t i = 0; i < sizeof good / sizeof *good; i++) {
        struct chr_error err;
        if (chr_mesos_master_validate(good[i], &err) != CHR_OK)
            fail_msg("'%s' refused: %s", good[i], err.message);
    }
}

static void test_urls_refused(void **state)
{
    (void)state;
    char longurl[CHR_MESOS_MASTER_URL_MAX + 16];
    memset(longurl, 'a', sizeof longurl - 1);
    memcpy(longurl, "zk://h:1/", 9);
    longurl[sizeof longurl - 1] = '\0';
    char many[512] = "zk://";
    for (int i = 0; i <= CHR_MESOS_MASTER_HOSTS_MAX; i++)
        snprintf(many + strlen(many), sizeof many - strlen(many), "%sh%d:2181", i ? "," : "", i);
    snprintf(many + strlen(many), sizeof many - strlen(many), "/mesos");
    const char *bad[] = {
        NULL, "", "5050", "host", "host:", "host:0", "host:65536", "host:50x0", "host name:5050",
        "-host:5050", "http://m:5050", "file:///etc/mesos", "zk://h:2181", "zk://h:2181/",
        "zk:///mesos", "zk://h/mesos", "zk://h:2181,/mesos", "zk://h:2181//mesos",
        "zk://h:2181/mesos/../x", "zk://h:2181/mesos/.", "zk://:p@h:2181/mesos",
        "zk://user@h:2181/mesos", "zk://h:2181/me sos", "zk://h:2181/mesos?x=1",
        "zk://[zz::1]x:2181/mesos", longurl, many,
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        struct chr_error err = {0};
        if (chr_mesos_master_validate(bad[i], &err) != CHR_EINVAL)
            fail_msg("'%s' accepted", bad[i] ? bad[i] : "(null)");
        assert_string_equal(err.field, "mesos_master");
        assert_non_null(strstr(err.message, "mesos_master: "));
    }
    /* Credentials are never echoed. */
    struct chr_error err;
    assert_int_equal(chr_mesos_master_validate("zk://user:s3cret@h:x/mesos", &err), CHR_EINVAL);
    assert_null(strstr(err.message, "s3cret"));
    /* start refuses what validate refuses, and leaves nothing. */
    struct chr_mesos_master_config cfg = {.url = "zk://h:2181"};
    struct chr_mesos_master *m = NULL;
    assert_int_equal(chr_mesos_master_start(&cfg, &m, &err), CHR_EINVAL);
    assert_null(m);
    assert_string_equal(err.field, "mesos_master");
}

/* ---- The leader among members, and MasterInfo ---------------------------------- */

static void test_pick(void **state)
{
    (void)state;
    const char *a[] = {"log_replicas", "info_0000000001", "json.info_0000000005",
                       "json.info_0000000003", "json.info_x", "json.info_", "json.info_0000000004x"};
    assert_int_equal(chr_mesos_master_pick(a, 7), 3);
    /* Numbers, not strings: 10 digits vs more. */
    const char *b[] = {"json.info_10000000000", "json.info_9999999999"};
    assert_int_equal(chr_mesos_master_pick(b, 2), 1);
    const char *c[] = {"log_replicas", "info_0000000001", "json.info_99999999999999999999999"};
    assert_int_equal(chr_mesos_master_pick(c, 3), -1);
    assert_int_equal(chr_mesos_master_pick(NULL, 0), -1);
}

static void parse_is(const char *json, const char *want)
{
    char buf[CHR_MESOS_MASTER_HOSTPORT_MAX];
    struct chr_error err;
    if (chr_mesos_master_parse_info(json, strlen(json), buf, sizeof buf, &err) != CHR_OK)
        fail_msg("%s: %s", json, err.message);
    assert_string_equal(buf, want);
}

static void test_parse_info(void **state)
{
    (void)state;
    char json[512];
    parse_is(info_json(json, sizeof json, "m1", 5050), "m1:5050");
    parse_is("{\"address\":{\"ip\":\"10.0.0.1\",\"port\":5051},\"hostname\":\"h\",\"port\":1}",
             "10.0.0.1:5051");
    parse_is("{\"hostname\":\"h2\",\"port\":5052,\"pid\":\"master@10.0.0.2:9\"}", "h2:5052");
    parse_is("{\"pid\":\"master@10.0.0.3:5053\"}", "10.0.0.3:5053");
    parse_is("{\"address\":{\"hostname\":\"h4\"},\"pid\":\"master@10.0.0.4:5054\"}", "h4:5054");
    parse_is("{\"address\":{\"ip\":\"fe80::1\",\"port\":5055}}", "[fe80::1]:5055");
    const char *bad[] = {
        "", "[]", "{", "{\"hostname\":\"h\"}", "{\"port\":5050}",
        "{\"hostname\":\"h\",\"port\":70000}", "{\"hostname\":\"a b\",\"port\":5050}",
        "{\"hostname\":\"h/x\",\"port\":5050}", "{\"pid\":\"master@10.0.0.1\"}",
        "\x08\x01\x12\x02id", /* an old binary info_ node */
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        char buf[CHR_MESOS_MASTER_HOSTPORT_MAX];
        struct chr_error err = {0};
        if (chr_mesos_master_parse_info(bad[i], strlen(bad[i]), buf, sizeof buf, &err) == CHR_OK)
            fail_msg("'%s' parsed as %s", bad[i], buf);
        assert_string_equal(err.field, "mesos_master");
    }
    char small[7]; /* "m1:5050" needs 8 */
    assert_int_equal(chr_mesos_master_parse_info(json, strlen(json), small, sizeof small, NULL),
                     CHR_ERANGE);
}

/* ---- A fixed address ----------------------------------------------------------- */

static void test_plain_hostport(void **state)
{
    (void)state;
    struct seen s = {.calls = 0};
    pthread_mutex_init(&s.mu, NULL);
    struct chr_mesos_master_config cfg = {.url = "127.0.0.1:5050", .on_change = on_change, .ctx = &s};
    struct chr_mesos_master *m = NULL;
    struct chr_error err;
    assert_int_equal(chr_mesos_master_start(&cfg, &m, &err), CHR_OK);
    char buf[64];
    assert_true(chr_mesos_master_current(m, buf, sizeof buf));
    assert_string_equal(buf, "127.0.0.1:5050");
    assert_false(chr_mesos_master_current(m, buf, 5)); /* does not fit */
    chr_mesos_master_stop(m);
    assert_int_equal(s.calls, 0);
    pthread_mutex_destroy(&s.mu);
}

/* No server at all: unknown, and stop does not hang. */
static void test_unreachable_zookeeper(void **state)
{
    (void)state;
    struct seen s = {.calls = 0};
    pthread_mutex_init(&s.mu, NULL);
    struct chr_mesos_master_config cfg = {.url = "zk://127.0.0.1:1/mesos", .on_change = on_change,
                                          .ctx = &s};
    struct chr_mesos_master *m = NULL;
    struct chr_error err;
    assert_int_equal(chr_mesos_master_start(&cfg, &m, &err), CHR_OK);
    test_nap_ms(300);
    char buf[64];
    assert_false(chr_mesos_master_current(m, buf, sizeof buf));
    int64_t t0 = test_mono_ms();
    chr_mesos_master_stop(m);
    assert_true(test_mono_ms() - t0 < 5000);
    assert_int_equal(s.calls, 0);
    pthread_mutex_destroy(&s.mu);
}

/* ---- Following a real group ----------------------------------------------------- */

static void test_follows_the_lowest_member(void **state)
{
    (void)state;
    const char *g = "/mesos-a";
    put(g, NULL, 0);
    put("/mesos-a/log_replicas", NULL, 0);
    put("/mesos-a/log_replicas/0000000001", "replica", ZOO_EPHEMERAL);
    put("/mesos-a/info_0000000001", "\x08\x01\x12", ZOO_EPHEMERAL); /* legacy: binary */
    member(g, "json.info_0000000005", "m5", 5055);
    member(g, "json.info_0000000003", "m3", 5053);
    struct seen s = {.calls = 0};
    struct chr_mesos_master *m = start(g, &s);
    assert_true(wait_for(m, &s, "m3:5053", 5000));

    /* The leader goes: the next oldest leads, seen within a couple of seconds. */
    int64_t t0 = test_mono_ms();
    del(g, "json.info_0000000003");
    assert_true(wait_for(m, &s, "m5:5055", 3000));
    assert_true(test_mono_ms() - t0 < 3000);

    /* A newer member does not take over. */
    member(g, "json.info_0000000009", "m9", 5059);
    test_nap_ms(300);
    assert_true(wait_for(m, &s, "m5:5055", 1000));

    /* Every json.info_ gone (log_replicas and info_ stay): no master. */
    del(g, "json.info_0000000005");
    assert_true(wait_for(m, &s, "m9:5059", 3000));
    del(g, "json.info_0000000009");
    assert_true(wait_for(m, &s, NULL, 3000));

    /* And back. */
    member(g, "json.info_0000000012", "m12", 5062);
    assert_true(wait_for(m, &s, "m12:5062", 3000));
    pthread_mutex_lock(&s.mu);
    int calls = s.calls;
    pthread_mutex_unlock(&s.mu);
    chr_mesos_master_stop(m);
    assert_int_equal(calls, 5); /* m3, m5, m9, NULL, m12: once each */
    pthread_mutex_destroy(&s.mu);
}

static void test_group_created_later(void **state)
{
    (void)state;
    struct seen s = {.calls = 0};
    struct chr_mesos_master *m = start("/mesos-b", &s);
    test_nap_ms(500);
    char buf[64];
    assert_false(chr_mesos_master_current(m, buf, sizeof buf));
    /* Members made as a master makes them: ephemeral and sequential. */
    put("/mesos-b", NULL, 0);
    char json[512], first[256], second[256];
    info_json(json, sizeof json, "b0", 5060);
    assert_int_equal(zoo_create(zk_client, "/mesos-b/json.info_", json, (int)strlen(json),
                                &ZOO_OPEN_ACL_UNSAFE, ZOO_EPHEMERAL | ZOO_SEQUENCE, first,
                                sizeof first),
                     ZOK);
    assert_string_equal(first, "/mesos-b/json.info_0000000000");
    assert_true(wait_for(m, &s, "b0:5060", 3000));
    /* A leader whose data is not MasterInfo: no usable master. */
    assert_int_equal(zoo_create(zk_client, "/mesos-b/json.info_", "not json", 8,
                                &ZOO_OPEN_ACL_UNSAFE, ZOO_EPHEMERAL | ZOO_SEQUENCE, second,
                                sizeof second),
                     ZOK);
    assert_int_equal(zoo_delete(zk_client, first, -1), ZOK);
    assert_true(wait_for(m, &s, NULL, 3000));
    chr_mesos_master_stop(m);
    pthread_mutex_destroy(&s.mu);
}

/* Expires the detector's session with a second handle on its id:
 * it makes a new session and goes on following. */
static void test_session_expiry(void **state)
{
    (void)state;
    const char *g = "/mesos-c";
    put(g, NULL, 0);
    member(g, "json.info_0000000001", "c1", 5071);
    member(g, "json.info_0000000002", "c2", 5072);
    struct seen s = {.calls = 0};
    struct chr_mesos_master *m = start(g, &s);
    assert_true(wait_for(m, &s, "c1:5071", 5000));
    clientid_t cid = {0};
    assert_true(chr_mesos_master_session_for_test(m, &cid.client_id, cid.passwd));
    /* Attach and close in one write (a C client as the second one races
     * the detector, which takes the session back before the close). */
    assert_true(chr_zk_test_kill_session(zk_hosts, cid.client_id, cid.passwd, 4000));
    bool renewed = false;
    /* Generous: on a loaded machine the expiry and the new session take a while. */
    for (int64_t end = test_mono_ms() + 30000; !renewed && test_mono_ms() < end; test_nap_ms(50)) {
        clientid_t now = {0};
        renewed = chr_mesos_master_session_for_test(m, &now.client_id, now.passwd) &&
                  now.client_id != cid.client_id;
    }
    assert_true(renewed);
    del(g, "json.info_0000000001");
    assert_true(wait_for(m, &s, "c2:5072", 5000));
    chr_mesos_master_stop(m);
    pthread_mutex_destroy(&s.mu);
}

int main(void)
{
    zoo_set_debug_level(ZOO_LOG_LEVEL_ERROR);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_urls_accepted),
        cmocka_unit_test(test_urls_refused),
        cmocka_unit_test(test_pick),
        cmocka_unit_test(test_parse_info),
        cmocka_unit_test(test_plain_hostport),
        cmocka_unit_test(test_unreachable_zookeeper),
        cmocka_unit_test_setup(test_follows_the_lowest_member, zk_setup),
        cmocka_unit_test_setup(test_group_created_later, zk_setup),
        cmocka_unit_test_setup(test_session_expiry, zk_setup),
    };
    return cmocka_run_group_tests(tests, NULL, zk_teardown_group);
}
