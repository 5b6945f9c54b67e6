/*
 * master.c - the leading Mesos master, from --mesos_master
 * (master.h): URL validation, the pure choice of the leader among a
 * group's children and the MasterInfo parser, then the follower itself.
 *
 * The follower's reads form a chain on the ZooKeeper completion thread:
 * list the group (leaving a child watch) -> get the leader's node -> parse
 * -> publish.  Every chain carries a generation; only the newest may
 * publish, so a slow old chain never overwrites a newer answer.  Callbacks
 * never block and never call the sync API (it would wait on the very thread
 * that delivers its answer).  Our own thread does what may block:
 * zookeeper_init / zookeeper_close (a new session after an expiry) and
 * retries after a failed read.
 */
#include "offers/mesos/master.h"

#include <errno.h>
#include <jansson.h>
#include <pthread.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <zookeeper/zookeeper.h>

#include "common/alloc.h"
#include "common/clock.h"
#include "common/hostport.h"
#include "common/limits.h"

/* A failed read (other than the session's own events) is tried again after
 * this long; also the pause between failed zookeeper_init calls. */
#define RETRY_MS 1000
#define DEFAULT_SESSION_TIMEOUT_MS 10000
#define PREFIX "json.info_"

/* ---- URL validation ---------------------------------------------------------- */

struct url {
    bool zk;
    char hosts[CHR_MESOS_MASTER_URL_MAX + 1]; /* zk: "h:p,h:p"; plain: "h:p" */
    char path[CHR_MESOS_MASTER_URL_MAX + 1];
    char auth[CHR_MESOS_MASTER_URL_MAX + 1];  /* "user:pass" or "" */
};

/* s made safe to echo in a message (printable, cut at 64 bytes). */
static const char *shown(const char *s, size_t n, char out[72])
{
    return chr_error_quote(s, n, 64, out);
}

static enum chr_err parse_hosts(const char *s, size_t n, struct url *u, struct chr_error *err)
{
    size_t count = 0;
    char b[72];
    for (size_t at = 0; at <= n;) {
        size_t end = at;
        while (end < n && s[end] != ',')
            end++;
        if (!chr_hostport_valid(s + at, end - at))
            return chr_error_set(err, CHR_EINVAL, "mesos_master",
                                 "'%s' is not host:port (a name or address, and a port from 1 "
                                 "to 65535)",
                                 shown(s + at, end - at, b));
        if (++count > CHR_MESOS_MASTER_HOSTS_MAX)
            return chr_error_set(err, CHR_EINVAL, "mesos_master",
                                 "more than %d ZooKeeper servers", CHR_MESOS_MASTER_HOSTS_MAX);
        at = end + 1;
    }
    memcpy(u->hosts, s, n);
    u->hosts[n] = '\0';
    return CHR_OK;
}

static enum chr_err parse_path(const char *p, struct url *u, struct chr_error *err)
{
    size_t n = strlen(p);
    if (n < 2 || p[n - 1] == '/')
        return chr_error_set(err, CHR_EINVAL, "mesos_master",
                             "the zk:// URL needs a path such as /mesos (with no '/' at its end)");
    for (size_t i = 0; i < n; i++) {
        char c = p[i];
        if (c <= 0x20 || c >= 0x7f || c == '?' || c == '#' || c == ',' || c == '@')
            return chr_error_set(err, CHR_EINVAL, "mesos_master",
                                 "the path may not hold spaces, '?', '#', ',', '@' or non-ASCII");
        if (c == '/' && (p[i + 1] == '/' ||
                         (p[i + 1] == '.' && (p[i + 2] == '/' || p[i + 2] == '\0')) ||
                         (p[i + 1] == '.' && p[i + 2] == '.' &&
                          (p[i + 3] == '/' || p[i + 3] == '\0'))))
            return chr_error_set(err, CHR_EINVAL, "mesos_master",
                                 "the path may not hold empty, '.' or '..' parts");
    }
    memcpy(u->path, p, n + 1);
    return CHR_OK;
}

static enum chr_err parse_url(const char *url, struct url *u, struct chr_error *err)
{
    memset(u, 0, sizeof *u);
    if (url == NULL || url[0] == '\0')
        return chr_error_set(err, CHR_EINVAL, "mesos_master",
                             "missing (host:port or zk://host:port[,host:port]/path)");
    size_t n = strnlen(url, CHR_MESOS_MASTER_URL_MAX + 1);
    if (n > CHR_MESOS_MASTER_URL_MAX)
        return chr_error_set(err, CHR_EINVAL, "mesos_master", "longer than %d bytes",
                             CHR_MESOS_MASTER_URL_MAX);
    if (strncmp(url, "zk://", 5) != 0) {
        if (strstr(url, "://") != NULL)
            return chr_error_set(err, CHR_EINVAL, "mesos_master",
                                 "only host:port and zk://host:port[,host:port]/path are "
                                 "supported");
        char b[72];
        if (!chr_hostport_valid(url, n))
            return chr_error_set(err, CHR_EINVAL, "mesos_master",
                                 "'%s' is not host:port or zk://host:port[,host:port]/path",
                                 shown(url, n, b));
        memcpy(u->hosts, url, n + 1);
        return CHR_OK;
    }
    u->zk = true;
    const char *auth = url + 5;
    const char *slash = strchr(auth, '/');
    if (slash == NULL)
        return chr_error_set(err, CHR_EINVAL, "mesos_master",
                             "the zk:// URL needs a path such as /mesos");
    const char *hosts = auth;
    for (const char *q = auth; q < slash; q++)
        if (*q == '@')
            hosts = q + 1;
    if (hosts != auth) { /* user:pass@ (digest auth); never echoed */
        size_t an = (size_t)(hosts - 1 - auth);
        const char *colon = memchr(auth, ':', an);
        if (an == 0 || colon == NULL || colon == auth)
            return chr_error_set(err, CHR_EINVAL, "mesos_master",
                                 "credentials in a zk:// URL are user:password@");
        for (size_t i = 0; i < an; i++)
            if (auth[i] <= 0x20 || auth[i] >= 0x7f)
                return chr_error_set(err, CHR_EINVAL, "mesos_master",
                                     "credentials may hold printable ASCII only");
        memcpy(u->auth, auth, an);
        u->auth[an] = '\0';
    }
    enum chr_err e = parse_hosts(hosts, (size_t)(slash - hosts), u, err);
    return e != CHR_OK ? e : parse_path(slash, u, err);
}

enum chr_err chr_mesos_master_validate(const char *url, struct chr_error *err)
{
    struct url *u = chr_malloc(sizeof *u);
    if (u == NULL)
        return chr_error_set(err, CHR_ENOMEM, "", "out of memory");
    enum chr_err e = parse_url(url, u, err);
    chr_free(u);
    return e;
}

/* ---- The leader among the members -------------------------------------------- */

/* The sequence of a member name, or false when it is not `json.info_<digits>`. */
static bool member_seq(const char *name, uint64_t *seq)
{
    size_t plen = sizeof PREFIX - 1;
    if (strncmp(name, PREFIX, plen) != 0 || name[plen] == '\0')
        return false;
    uint64_t v = 0;
    for (const char *p = name + plen; *p; p++) {
        if (*p < '0' || *p > '9' || v > (UINT64_MAX - 9) / 10)
            return false;
        v = v * 10 + (uint64_t)(*p - '0');
    }
    *seq = v;
    return true;
}

long chr_mesos_master_pick(const char *const *names, size_t n)
{
    long best = -1;
    uint64_t best_seq = 0;
    for (size_t i = 0; i < n; i++) {
        uint64_t seq;
        if (names[i] != NULL && member_seq(names[i], &seq) && (best < 0 || seq < best_seq)) {
            best = (long)i;
            best_seq = seq;
        }
    }
    return best;
}

/* ---- MasterInfo ------------------------------------------------------------------ */

static const char *str_field(json_t *obj, const char *key)
{
    const char *s = json_string_value(json_object_get(obj, key));
    return s != NULL && s[0] != '\0' ? s : NULL;
}

static long port_field(json_t *obj, const char *key)
{
    json_t *v = json_object_get(obj, key);
    if (!json_is_integer(v))
        return 0;
    json_int_t p = json_integer_value(v);
    return p >= 1 && p <= 65535 ? (long)p : 0;
}

/* The host and port of a pid "master@10.0.0.1:5050" into host (cap 256). */
static void pid_parts(const char *pid, char host[256], long *port)
{
    host[0] = '\0';
    *port = 0;
    const char *at = pid ? strchr(pid, '@') : NULL;
    const char *colon = at ? strrchr(at, ':') : NULL;
    if (colon == NULL || (size_t)(colon - at - 1) >= 256)
        return;
    memcpy(host, at + 1, (size_t)(colon - at - 1));
    host[colon - at - 1] = '\0';
    if (chr_port_valid(colon + 1, strlen(colon + 1)))
        *port = strtol(colon + 1, NULL, 10);
}

enum chr_err chr_mesos_master_parse_info(const char *text, size_t len, char *buf, size_t cap,
                                         struct chr_error *err)
{
    if (len > CHR_MESOS_MASTER_INFO_MAX)
        return chr_error_set(err, CHR_EINVAL, "mesos_master", "MasterInfo larger than %d bytes",
                             CHR_MESOS_MASTER_INFO_MAX);
    json_t *root = json_loadb(text, len, JSON_REJECT_DUPLICATES, NULL);
    if (!json_is_object(root)) {
        json_decref(root);
        return chr_error_set(err, CHR_EINVAL, "mesos_master", "MasterInfo is not a JSON object");
    }
    json_t *addr = json_object_get(root, "address");
    char pid_host[256];
    long pid_port;
    pid_parts(json_string_value(json_object_get(root, "pid")), pid_host, &pid_port);
    const char *host = str_field(addr, "hostname");
    host = host ? host : str_field(addr, "ip");
    host = host ? host : str_field(root, "hostname");
    host = host ? host : (pid_host[0] ? pid_host : NULL);
    long port = port_field(addr, "port");
    port = port ? port : port_field(root, "port");
    port = port ? port : pid_port;
    enum chr_err e = CHR_OK;
    size_t hn = host ? strlen(host) : 0;
    bool v6 = host && strchr(host, ':') != NULL;
    char bracketed[260];
    if (v6 && hn < 250) {
        snprintf(bracketed, sizeof bracketed, "[%s]", host);
        host = bracketed;
        hn += 2;
    }
    if (host == NULL || port == 0 || !chr_host_valid(host, hn)) {
        e = chr_error_set(err, CHR_EINVAL, "mesos_master",
                          "MasterInfo has no usable address (address.hostname/ip and port, "
                          "hostname and port, or pid)");
    } else {
        int w = snprintf(buf, cap, "%s:%ld", host, port);
        if (w < 0 || (size_t)w >= cap)
            e = chr_error_set(err, CHR_ERANGE, "mesos_master", "the address is too long");
    }
    json_decref(root);
    return e;
}

/* ---- The follower ----------------------------------------------------------------- */

struct chr_mesos_master {
    struct url url;
    int32_t session_timeout_ms;
    chr_mesos_master_fn *on_change;
    void *ctx;

    pthread_mutex_t mu;
    pthread_cond_t cond;
    zhandle_t *zh;          /* written by our thread only (under mu) */
    bool need_session;      /* the session expired (or none yet) */
    bool stopping;
    int64_t retry_at_ms;    /* 0: none; monotonic */
    uint64_t gen;           /* of the newest read chain */
    bool known;
    char current[CHR_MESOS_MASTER_HOSTPORT_MAX];
    pthread_t thread;
};

/* One read chain's state, owned by whichever callback runs it next. */
struct read {
    struct chr_mesos_master *m;
    zhandle_t *zh;
    uint64_t gen;
    char node[CHR_MESOS_MASTER_URL_MAX + 64];
};

static void schedule_retry(struct chr_mesos_master *m)
{
    pthread_mutex_lock(&m->mu);
    if (m->retry_at_ms == 0)
        m->retry_at_ms = chr_clock_mono_ms() + RETRY_MS;
    pthread_cond_broadcast(&m->cond);
    pthread_mutex_unlock(&m->mu);
}

static bool stale(const struct read *rd)
{
    pthread_mutex_lock(&rd->m->mu);
    bool s = rd->gen != rd->m->gen || rd->m->stopping;
    pthread_mutex_unlock(&rd->m->mu);
    return s;
}

/* Publishes the answer of chain `gen` (hostport NULL: unknown). */
static void publish(struct chr_mesos_master *m, uint64_t gen, const char *hostport)
{
    pthread_mutex_lock(&m->mu);
    bool changed = gen == m->gen && !m->stopping &&
                   (hostport ? !m->known || strcmp(m->current, hostport) != 0 : m->known);
    if (changed) {
        m->known = hostport != NULL;
        snprintf(m->current, sizeof m->current, "%s", hostport ? hostport : "");
    }
    pthread_mutex_unlock(&m->mu);
    /* Only the completion thread publishes, so calls stay in order. */
    if (changed && m->on_change != NULL)
        m->on_change(m->ctx, hostport);
}

static void on_children(int rc, const struct String_vector *names, const void *data);

/* Starts a new read chain on zh (any thread; never blocks). */
static void start_read(struct chr_mesos_master *m, zhandle_t *zh)
{
    pthread_mutex_lock(&m->mu);
    bool stop = m->stopping || zh == NULL;
    uint64_t gen = ++m->gen;
    pthread_mutex_unlock(&m->mu);
    if (stop)
        return;
    struct read *rd = chr_malloc(sizeof *rd);
    if (rd == NULL) {
        schedule_retry(m);
        return;
    }
    *rd = (struct read){.m = m, .zh = zh, .gen = gen};
    if (zoo_aget_children(zh, m->url.path, 1, on_children, rd) != ZOK) {
        chr_free(rd);
        schedule_retry(m);
    }
}

/* A failed step of a chain: ZCLOSING ends it; anything else tries again
 * later (a connection loss is also retried by the CONNECTED event). */
static void chain_failed(struct read *rd, int rc)
{
    if (rc != ZCLOSING && !stale(rd))
        schedule_retry(rd->m);
    chr_free(rd);
}

static void on_exists(int rc, const struct Stat *st, const void *data)
{
    (void)st;
    struct read *rd = (struct read *)data;
    if (rc == ZOK && !stale(rd)) /* created meanwhile */
        start_read(rd->m, rd->zh);
    else if (rc != ZNONODE && rc != ZOK) {
        chain_failed(rd, rc);
        return;
    }
    chr_free(rd); /* ZNONODE: the exists watch reports its creation */
}

static void on_data(int rc, const char *value, int len, const struct Stat *st, const void *data)
{
    (void)st;
    struct read *rd = (struct read *)data;
    if (rc == ZNONODE) { /* the leader left between the list and the get */
        if (!stale(rd))
            start_read(rd->m, rd->zh);
        chr_free(rd);
        return;
    }
    if (rc != ZOK) {
        chain_failed(rd, rc);
        return;
    }
    char hp[CHR_MESOS_MASTER_HOSTPORT_MAX];
    bool ok = value != NULL && len > 0 &&
              chr_mesos_master_parse_info(value, (size_t)len, hp, sizeof hp, NULL) == CHR_OK;
    publish(rd->m, rd->gen, ok ? hp : NULL); /* unreadable data: no usable leader */
    chr_free(rd);
}

static void on_children(int rc, const struct String_vector *names, const void *data)
{
    struct read *rd = (struct read *)data;
    if (rc == ZNONODE) { /* no group (yet): unknown; watch for its creation */
        publish(rd->m, rd->gen, NULL);
        if (zoo_aexists(rd->zh, rd->m->url.path, 1, on_exists, rd) != ZOK)
            chain_failed(rd, ZSYSTEMERROR);
        return;
    }
    if (rc != ZOK || stale(rd)) {
        chain_failed(rd, rc == ZOK ? ZCLOSING : rc);
        return;
    }
    long i = names ? chr_mesos_master_pick((const char *const *)names->data,
                                           (size_t)names->count)
                   : -1;
    if (i < 0) {
        publish(rd->m, rd->gen, NULL);
        chr_free(rd);
        return;
    }
    snprintf(rd->node, sizeof rd->node, "%s/%s", rd->m->url.path, names->data[i]);
    if (zoo_aget(rd->zh, rd->node, 0, on_data, rd) != ZOK)
        chain_failed(rd, ZSYSTEMERROR);
}

/* The session's watcher: also gets the group's child and exists watches. */
static void watcher(zhandle_t *zh, int type, int state, const char *path, void *ctx)
{
    (void)path;
    struct chr_mesos_master *m = ctx;
    if (type != ZOO_SESSION_EVENT) {
        start_read(m, zh);
        return;
    }
    if (state == ZOO_CONNECTED_STATE) {
        start_read(m, zh);
    } else if (state == ZOO_EXPIRED_SESSION_STATE || state == ZOO_AUTH_FAILED_STATE) {
        pthread_mutex_lock(&m->mu);
        if (zh == m->zh)
            m->need_session = true;
        pthread_cond_broadcast(&m->cond);
        pthread_mutex_unlock(&m->mu);
    }
}

/* Replaces the session (called on our thread, mu held on entry and exit). */
static void renew_session(struct chr_mesos_master *m)
{
    zhandle_t *old = m->zh;
    m->zh = NULL;
    m->need_session = false;
    pthread_mutex_unlock(&m->mu);
    if (old != NULL)
        zookeeper_close(old); /* joins its threads: no callback of it runs after */
    zhandle_t *zh = zookeeper_init(m->url.hosts, watcher, m->session_timeout_ms, NULL, m, 0);
    if (zh != NULL) /* no host name resolution per poll (see zk_session.c) */
        zoo_set_servers_resolution_delay(zh, CHR_ZK_RESOLVE_DELAY_MS);
    if (zh != NULL && m->url.auth[0] != '\0')
        zoo_add_auth(zh, "digest", m->url.auth, (int)strlen(m->url.auth), NULL, NULL);
    pthread_mutex_lock(&m->mu);
    m->zh = zh;
    if (zh == NULL) { /* e.g. no name resolves yet: try again later */
        m->need_session = true;
        m->retry_at_ms = chr_clock_mono_ms() + RETRY_MS;
    }
}

static void *thread_main(void *arg)
{
    struct chr_mesos_master *m = arg;
    pthread_mutex_lock(&m->mu);
    while (!m->stopping) {
        int64_t now = chr_clock_mono_ms();
        bool due = m->retry_at_ms != 0 && now >= m->retry_at_ms;
        if (m->need_session && (m->zh != NULL || m->retry_at_ms == 0 || due)) {
            m->retry_at_ms = 0;
            renew_session(m);
            continue;
        }
        if (due) {
            m->retry_at_ms = 0;
            zhandle_t *zh = m->zh;
            pthread_mutex_unlock(&m->mu);
            start_read(m, zh);
            pthread_mutex_lock(&m->mu);
            continue;
        }
        int64_t wait_ms = m->retry_at_ms ? m->retry_at_ms - now : 60000;
        struct timespec ts = chr_clock_wall_ts(chr_clock_wall_ms() + wait_ms);
        pthread_cond_timedwait(&m->cond, &m->mu, &ts);
    }
    zhandle_t *zh = m->zh;
    m->zh = NULL;
    pthread_mutex_unlock(&m->mu);
    if (zh != NULL)
        zookeeper_close(zh);
    return NULL;
}

enum chr_err chr_mesos_master_start(const struct chr_mesos_master_config *cfg,
                                    struct chr_mesos_master **out, struct chr_error *err)
{
    if (cfg->session_timeout_ms < 0)
        return chr_error_set(err, CHR_EINVAL, "mesos_master",
                             "the session timeout must not be negative");
    struct chr_mesos_master *m = chr_calloc(1, sizeof *m);
    if (m == NULL)
        return chr_error_set(err, CHR_ENOMEM, "", "out of memory");
    enum chr_err e = parse_url(cfg->url, &m->url, err);
    if (e != CHR_OK) {
        chr_free(m);
        return e;
    }
    m->session_timeout_ms = cfg->session_timeout_ms ? cfg->session_timeout_ms
                                                    : DEFAULT_SESSION_TIMEOUT_MS;
    m->on_change = cfg->on_change;
    m->ctx = cfg->ctx;
    if (!m->url.zk) { /* a fixed address: nothing to follow */
        size_t n = strlen(m->url.hosts); /* < 260: host_ok bounds the host */
        if (n >= sizeof m->current) {
            chr_free(m);
            return chr_error_set(err, CHR_EINVAL, "mesos_master", "the address is too long");
        }
        memcpy(m->current, m->url.hosts, n + 1);
        m->known = true;
        *out = m;
        return CHR_OK;
    }
    pthread_mutex_init(&m->mu, NULL);
    pthread_cond_init(&m->cond, NULL);
    m->need_session = true;
    if (pthread_create(&m->thread, NULL, thread_main, m) != 0) {
        pthread_cond_destroy(&m->cond);
        pthread_mutex_destroy(&m->mu);
        chr_free(m);
        return chr_error_set(err, CHR_EIO, "mesos_master", "cannot start a thread");
    }
    *out = m;
    return CHR_OK;
}

void chr_mesos_master_stop(struct chr_mesos_master *m)
{
    if (m == NULL)
        return;
    if (m->url.zk) {
        pthread_mutex_lock(&m->mu);
        m->stopping = true;
        pthread_cond_broadcast(&m->cond);
        pthread_mutex_unlock(&m->mu);
        pthread_join(m->thread, NULL);
        pthread_cond_destroy(&m->cond);
        pthread_mutex_destroy(&m->mu);
    }
    chr_free(m);
}

bool chr_mesos_master_current(struct chr_mesos_master *m, char *buf, size_t cap)
{
    if (!m->url.zk) {
        int n = snprintf(buf, cap, "%s", m->current);
        return n >= 0 && (size_t)n < cap;
    }
    pthread_mutex_lock(&m->mu);
    int n = m->known ? snprintf(buf, cap, "%s", m->current) : -1;
    pthread_mutex_unlock(&m->mu);
    return n >= 0 && (size_t)n < cap;
}

#ifdef CHR_TESTING
bool chr_mesos_master_session_for_test(struct chr_mesos_master *m, int64_t *id, char passwd[16])
{
    if (!m->url.zk)
        return false;
    pthread_mutex_lock(&m->mu);
    const clientid_t *cid = m->zh ? zoo_client_id(m->zh) : NULL;
    bool ok = cid != NULL && cid->client_id != 0;
    if (ok) {
        *id = cid->client_id;
        memcpy(passwd, cid->passwd, 16);
    }
    pthread_mutex_unlock(&m->mu);
    return ok;
}
#endif
