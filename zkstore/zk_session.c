/*
 * zk_session.c - one ZooKeeper session (libzookeeper-mt): the connect
 * string and credentials checked, the session established (and the digest
 * credentials accepted) before chr_zk_open returns, the chroot created when
 * missing, and the client's session events turned into chr_zk_event calls
 * and handed to the elections on the session.
 *
 * Owns the handle and its two client threads; never reconnects across an
 * expiry (the object is dead then, zk.h), never blocks the completion
 * thread, never lets the client write to stderr.
 */
#include "zkstore/zk_int.h"

#include <errno.h>
#include <string.h>
#include <time.h>
#ifdef CHR_TESTING
#include <arpa/inet.h>
#include <netdb.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>
#endif

#include "common/alloc.h"
#include "common/base64.h"
#include "common/clock.h"
#include "common/hostport.h"

/* ---- Small helpers --------------------------------------------------------- */

void chr_zk_cond_init(pthread_cond_t *cond)
{
    pthread_condattr_t attr;
    pthread_condattr_init(&attr);
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    pthread_cond_init(cond, &attr);
    pthread_condattr_destroy(&attr);
}

bool chr_zk_cond_wait_until(pthread_cond_t *cond, pthread_mutex_t *mu, int64_t deadline_ms)
{
    if (chr_clock_mono_ms() >= deadline_ms)
        return false;
    struct timespec ts = chr_clock_mono_ts(deadline_ms);
    pthread_cond_timedwait(cond, mu, &ts);
    return true;
}

enum chr_err chr_zk_err(int rc)
{
    switch (rc) {
    case ZOK:
        return CHR_OK;
    case ZNONODE:
        return CHR_ENOENT;
    case ZNODEEXISTS:
    case ZBADVERSION:
    case ZNOTEMPTY:
    case ZNOCHILDRENFOREPHEMERALS:
        return CHR_ECONFLICT;
    default:
        return CHR_EIO; /* connection loss, expiry, closing, ZNOAUTH, ... */
    }
}

/* The client logs through this when a handle has it; it says nothing. */
static void log_nothing(const char *message)
{
    (void)message;
}

static pthread_once_t client_once = PTHREAD_ONCE_INIT;

/* The client library's process-wide settings: silent (level 0 turns its
 * logging off), and servers tried in a random order. */
static void client_init(void)
{
    zoo_set_debug_level((ZooLogLevel)0);
    zoo_deterministic_conn_order(0);
}

/* ---- SHA-1, for digest ACL ids (base64: common/base64.h) ------------------------------- */

static uint32_t rol32(uint32_t x, int n)
{
    return (x << n) | (x >> (32 - n));
}

static void sha1_block(uint32_t h[5], const uint8_t *p)
{
    uint32_t w[80];
    for (int i = 0; i < 16; i++)
        w[i] = (uint32_t)p[4 * i] << 24 | (uint32_t)p[4 * i + 1] << 16 |
               (uint32_t)p[4 * i + 2] << 8 | p[4 * i + 3];
    for (int i = 16; i < 80; i++)
        w[i] = rol32(w[i - 3] ^ w[i - 8] ^ w[i - 14] ^ w[i - 16], 1);
    uint32_t a = h[0], b = h[1], c = h[2], d = h[3], e = h[4];
    for (int i = 0; i < 80; i++) {
        uint32_t f, k;
        if (i < 20) {
            f = (b & c) | (~b & d);
            k = 0x5a827999;
        } else if (i < 40) {
            f = b ^ c ^ d;
            k = 0x6ed9eba1;
        } else if (i < 60) {
            f = (b & c) | (b & d) | (c & d);
            k = 0x8f1bbcdc;
        } else {
            f = b ^ c ^ d;
            k = 0xca62c1d6;
        }
        uint32_t t = rol32(a, 5) + f + e + k + w[i];
        e = d;
        d = c;
        c = rol32(b, 30);
        b = a;
        a = t;
    }
    h[0] += a;
    h[1] += b;
    h[2] += c;
    h[3] += d;
    h[4] += e;
}

void chr_zk_sha1(const void *data, size_t len, uint8_t out[20])
{
    uint32_t h[5] = {0x67452301, 0xefcdab89, 0x98badcfe, 0x10325476, 0xc3d2e1f0};
    const uint8_t *p = data;
    size_t full = len / 64 * 64;
    for (size_t i = 0; i < full; i += 64)
        sha1_block(h, p + i);
    uint8_t tail[128] = {0};
    size_t rem = len - full;
    if (rem > 0)
        memcpy(tail, p + full, rem);
    tail[rem] = 0x80;
    size_t tail_len = rem + 9 <= 64 ? 64 : 128;
    uint64_t bits = (uint64_t)len * 8;
    for (int i = 0; i < 8; i++)
        tail[tail_len - 1 - (size_t)i] = (uint8_t)(bits >> (8 * i));
    for (size_t i = 0; i < tail_len; i += 64)
        sha1_block(h, tail + i);
    for (int i = 0; i < 5; i++)
        for (int j = 0; j < 4; j++)
            out[4 * i + j] = (uint8_t)(h[i] >> (24 - 8 * j));
}

/* "user:password": a non-empty user of printable bytes without ':', then a
 * password of printable bytes (ZooKeeper splits at the first ':'). */
static bool auth_valid(const char *auth)
{
    size_t len = strnlen(auth, CHR_ZK_AUTH_MAX + 1);
    const char *colon = memchr(auth, ':', len);
    if (len > CHR_ZK_AUTH_MAX || colon == NULL || colon == auth)
        return false;
    for (size_t i = 0; i < len; i++)
        if (auth[i] < 0x20 || auth[i] > 0x7e)
            return false;
    return true;
}

enum chr_err chr_zk_digest_id(const char *auth, char out[CHR_ZK_DIGEST_ID_MAX])
{
    out[0] = '\0';
    if (auth == NULL || !auth_valid(auth))
        return CHR_EINVAL;
    size_t user_len = (size_t)(strchr(auth, ':') - auth);
    uint8_t sum[20];
    chr_zk_sha1(auth, strlen(auth), sum);
    memcpy(out, auth, user_len + 1); /* "user:" */
    chr_base64_encode(sum, sizeof sum, out + user_len + 1);
    return CHR_OK;
}

/* ---- The connect string ------------------------------------------------------ */

/* Splits "[zk://]h:p,h:p[/chroot]" into the servers and the chroot ("" for
 * none or "/"), each checked. */
static enum chr_err parse_hosts(const char *hosts, char servers[CHR_ZK_HOSTS_MAX + 1],
                                char chroot[CHR_STORE_ROOT_MAX], struct chr_error *err)
{
    if (hosts == NULL)
        return chr_error_set(err, CHR_EINVAL, "zk", "no ZooKeeper servers given");
    if (strncmp(hosts, "zk://", 5) == 0)
        hosts += 5;
    size_t len = strnlen(hosts, CHR_ZK_HOSTS_MAX + 1);
    if (len > CHR_ZK_HOSTS_MAX)
        return chr_error_set(err, CHR_EINVAL, "zk", "longer than %d bytes", CHR_ZK_HOSTS_MAX);
    const char *slash = memchr(hosts, '/', len);
    size_t slen = slash != NULL ? (size_t)(slash - hosts) : len;
    if (slash != NULL && strcmp(slash, "/") != 0) {
        if (len - slen >= CHR_STORE_ROOT_MAX || !chr_store_path_valid(slash))
            return chr_error_set(err, CHR_EINVAL, "zk", "'%s' is not a valid chroot path", slash);
        memcpy(chroot, slash, len - slen + 1);
    } else {
        chroot[0] = '\0';
    }
    int count = 0;
    for (size_t start = 0; start <= slen;) {
        const char *comma = memchr(hosts + start, ',', slen - start);
        size_t end = comma != NULL ? (size_t)(comma - hosts) : slen;
        if (!chr_hostport_valid(hosts + start, end - start))
            return chr_error_set(err, CHR_EINVAL, "zk", "'%.*s' is not host:port", (int)(end - start),
                                 hosts + start);
        if (++count > CHR_ZK_HOST_COUNT_MAX)
            return chr_error_set(err, CHR_EINVAL, "zk", "more than %d servers",
                                 CHR_ZK_HOST_COUNT_MAX);
        start = end + 1;
    }
    /* The client splits host and port at the last ':' and resolves the host
     * as is: an IPv6 address goes to it without brackets. */
    size_t o = 0;
    for (size_t i = 0; i < slen; i++)
        if (hosts[i] != '[' && hosts[i] != ']')
            servers[o++] = hosts[i];
    servers[o] = '\0';
    return CHR_OK;
}

/* ---- Events ---------------------------------------------------------------- */

static void dispatch_session(struct chr_zk *zk, enum chr_zk_event ev)
{
    if (zk->on_event != NULL)
        zk->on_event(zk->ctx, ev);
    pthread_mutex_lock(&zk->list_mu);
    for (struct chr_election *e = zk->elections; e != NULL; e = *chr_election_next(e))
        chr_election_on_session(e, ev);
    pthread_mutex_unlock(&zk->list_mu);
}

/* The session's one watcher: session events, and the watches that the
 * elections set with watch=1.  Runs on the completion thread. */
static void session_watcher(zhandle_t *zh, int type, int state, const char *path, void *ctx)
{
    struct chr_zk *zk = ctx;
    enum chr_zk_event ev = 0;
    pthread_mutex_lock(&zk->mu);
    if (!zk->cthread_known) {
        zk->cthread = pthread_self();
        zk->cthread_known = true;
    }
    if (type == ZOO_SESSION_EVENT) {
        zk->state = state;
        if (state == ZOO_CONNECTED_STATE) {
            atomic_store(&zk->timeout_ms, zoo_recv_timeout(zh));
            atomic_store(&zk->connected, true);
            zk->ever_connected = true;
            ev = CHR_ZK_CONNECTED;
        } else if (state == ZOO_CONNECTING_STATE || state == ZOO_ASSOCIATING_STATE) {
            if (atomic_exchange(&zk->connected, false))
                ev = CHR_ZK_DISCONNECTED;
        } else if (state == ZOO_EXPIRED_SESSION_STATE || state == ZOO_AUTH_FAILED_STATE) {
            atomic_store(&zk->connected, false);
            if (atomic_exchange(&zk->alive, false))
                ev = state == ZOO_EXPIRED_SESSION_STATE ? CHR_ZK_EXPIRED : CHR_ZK_AUTH_FAILED;
        }
        pthread_cond_broadcast(&zk->cond);
    }
    pthread_mutex_unlock(&zk->mu);
    if (type == ZOO_SESSION_EVENT) {
        if (ev != 0)
            dispatch_session(zk, ev);
        return;
    }
    if (path == NULL)
        return;
    pthread_mutex_lock(&zk->list_mu);
    for (struct chr_election *e = zk->elections; e != NULL; e = *chr_election_next(e))
        chr_election_on_watch(e, type, path);
    pthread_mutex_unlock(&zk->list_mu);
}

/* The digest auth's answer (on the IO thread). */
static void auth_answered(int rc, const void *data)
{
    struct chr_zk *zk = (struct chr_zk *)data;
    pthread_mutex_lock(&zk->mu);
    if (!zk->auth_done) {
        zk->auth_rc = rc;
        zk->auth_done = true;
    }
    pthread_cond_broadcast(&zk->cond);
    pthread_mutex_unlock(&zk->mu);
}

bool chr_zk_on_completion_thread(struct chr_zk *zk)
{
    pthread_mutex_lock(&zk->mu);
    bool on = zk->cthread_known && pthread_equal(zk->cthread, pthread_self());
    pthread_mutex_unlock(&zk->mu);
    return on;
}

bool chr_zk_connected(const struct chr_zk *zk)
{
    return atomic_load(&zk->connected) && atomic_load(&zk->alive);
}

void chr_zk_elections_add(struct chr_zk *zk, struct chr_election *e)
{
    pthread_mutex_lock(&zk->list_mu);
    *chr_election_next(e) = zk->elections;
    zk->elections = e;
    pthread_mutex_unlock(&zk->list_mu);
}

void chr_zk_elections_remove(struct chr_zk *zk, struct chr_election *e)
{
    pthread_mutex_lock(&zk->list_mu);
    for (struct chr_election **p = &zk->elections; *p != NULL; p = chr_election_next(*p)) {
        if (*p == e) {
            *p = *chr_election_next(e);
            break;
        }
    }
    pthread_mutex_unlock(&zk->list_mu);
}

/* ---- Opening ------------------------------------------------------------- */

/* Waits (up to deadline) for the session to connect, then for the digest
 * credentials to be answered. */
static enum chr_err wait_session(struct chr_zk *zk, const char *where, int64_t deadline,
                                 int32_t timeout_ms, struct chr_error *err)
{
    pthread_mutex_lock(&zk->mu);
    while (!zk->ever_connected && atomic_load(&zk->alive) &&
           chr_zk_cond_wait_until(&zk->cond, &zk->mu, deadline))
        ;
    bool up = zk->ever_connected;
    pthread_mutex_unlock(&zk->mu);
    if (!up)
        return chr_error_set(err, CHR_EUNAVAIL, "zk", "no session with %s within %d ms", where,
                             (int)timeout_ms);
    if (zk->auth[0] == '\0')
        return CHR_OK;
    int rc = zoo_add_auth(zk->zh, "digest", zk->auth, (int)strlen(zk->auth), auth_answered, zk);
    if (rc != ZOK)
        return chr_error_set(err, CHR_EIO, "zk_auth", "not sent: %s", zerror(rc));
    pthread_mutex_lock(&zk->mu);
    while (!zk->auth_done && chr_zk_cond_wait_until(&zk->cond, &zk->mu, deadline))
        ;
    bool done = zk->auth_done;
    rc = zk->auth_rc;
    pthread_mutex_unlock(&zk->mu);
    if (!done)
        return chr_error_set(err, CHR_EUNAVAIL, "zk_auth", "no answer from %s within %d ms",
                             where, (int)timeout_ms);
    if (rc != ZOK)
        return chr_error_set(err, CHR_EIO, "zk_auth", "refused by %s: %s", where, zerror(rc));
    return CHR_OK;
}

/* A session for the connect string `hosts`, established (with credentials)
 * by the deadline.  zk is fresh (or reset by zk_reset) before each call. */
static enum chr_err connect_handle(struct chr_zk *zk, const char *hosts, int32_t session_ms,
                                   const clientid_t *session, int64_t deadline,
                                   int32_t timeout_ms, struct chr_error *err)
{
    errno = 0;
    zk->zh = zookeeper_init2(hosts, session_watcher, session_ms, session, zk, 0, log_nothing);
    if (zk->zh == NULL)
        return chr_error_set(err, CHR_EUNAVAIL, "zk", "cannot start a client for %s: %s", hosts,
                             errno != 0 ? strerror(errno) : "unknown error");
    /* By default the client resolves every host name each time it polls its
     * socket (a getaddrinfo, with a netlink dump, per reply under load: half
     * the CPU of a pipelined load); names are still resolved again on a
     * connection loss. */
    zoo_set_servers_resolution_delay(zk->zh, CHR_ZK_RESOLVE_DELAY_MS);
    enum chr_err e = wait_session(zk, hosts, deadline, timeout_ms, err);
    if (e != CHR_OK) {
        zookeeper_close(zk->zh);
        zk->zh = NULL;
    }
    return e;
}

/* Creates each component of the chroot that is missing, through a session
 * without chroot (a chrooted one cannot create its own root). */
static enum chr_err create_chroot(struct chr_zk *zk, struct chr_zk *boot, const char *servers,
                                  int32_t session_ms, int64_t deadline, int32_t timeout_ms,
                                  struct chr_error *err)
{
    enum chr_err e = connect_handle(boot, servers, session_ms, NULL, deadline, timeout_ms, err);
    if (e != CHR_OK)
        return e;
    char prefix[CHR_STORE_ROOT_MAX];
    size_t len = strlen(zk->chroot);
    for (size_t end = 1; end <= len && e == CHR_OK; end++) {
        if (end < len && zk->chroot[end] != '/')
            continue;
        memcpy(prefix, zk->chroot, end);
        prefix[end] = '\0';
        int rc = zoo_create(boot->zh, prefix, "", 0, zk->acl, 0, NULL, 0);
        if (rc != ZOK && rc != ZNODEEXISTS)
            e = chr_error_set(err, CHR_EIO, "zk", "cannot create the chroot %s: %s", prefix,
                              zerror(rc));
    }
    zookeeper_close(boot->zh);
    boot->zh = NULL;
    return e;
}

static void zk_init_fields(struct chr_zk *zk, const struct chr_zk_config *cfg)
{
    pthread_mutex_init(&zk->mu, NULL);
    pthread_mutex_init(&zk->list_mu, NULL);
    chr_zk_cond_init(&zk->cond);
    atomic_init(&zk->alive, true);
    atomic_init(&zk->connected, false);
    atomic_init(&zk->timeout_ms, 0);
    zk->on_event = cfg != NULL ? cfg->on_event : NULL;
    zk->ctx = cfg != NULL ? cfg->ctx : NULL;
    zk->auth_rc = 1;
    zk->acl = &ZOO_OPEN_ACL_UNSAFE;
}

static void zk_free(struct chr_zk *zk)
{
    pthread_cond_destroy(&zk->cond);
    pthread_mutex_destroy(&zk->list_mu);
    pthread_mutex_destroy(&zk->mu);
    chr_free(zk);
}

/* Fills the digest ACL from the credentials. */
static enum chr_err set_acl(struct chr_zk *zk, const char *auth, struct chr_error *err)
{
    if (auth == NULL)
        return CHR_OK;
    if (chr_zk_digest_id(auth, zk->acl_id) != CHR_OK)
        return chr_error_set(err, CHR_EINVAL, "zk_auth",
                             "must be user:password (printable, at most %d bytes)",
                             CHR_ZK_AUTH_MAX);
    memcpy(zk->auth, auth, strlen(auth) + 1);
    zk->acl_entry.perms = ZOO_PERM_ALL;
    zk->acl_entry.id.scheme = (char *)"digest";
    zk->acl_entry.id.id = zk->acl_id;
    zk->acl_vec.count = 1;
    zk->acl_vec.data = &zk->acl_entry;
    zk->acl = &zk->acl_vec;
    return CHR_OK;
}

/* Checks that the chroot exists, creating it when it does not. */
static enum chr_err ensure_chroot(struct chr_zk *zk, const char *servers, int32_t session_ms,
                                  int64_t deadline, int32_t timeout_ms, struct chr_error *err)
{
    if (zk->chroot[0] == '\0')
        return CHR_OK;
    struct Stat st;
    int rc = zoo_exists(zk->zh, "/", 0, &st);
    if (rc == ZOK)
        return CHR_OK;
    if (rc != ZNONODE)
        return chr_error_set(err, CHR_EUNAVAIL, "zk", "cannot read the chroot %s: %s",
                             zk->chroot, zerror(rc));
    struct chr_zk *boot = chr_calloc(1, sizeof *boot);
    if (boot == NULL)
        return CHR_ENOMEM;
    zk_init_fields(boot, NULL);
    memcpy(boot->auth, zk->auth, sizeof zk->auth);
    enum chr_err e = create_chroot(zk, boot, servers, session_ms, deadline, timeout_ms, err);
    zk_free(boot);
    return e;
}

enum chr_err chr_zk_open(const struct chr_zk_config *cfg, struct chr_zk **out,
                         struct chr_error *err)
{
    chr_error_clear(err);
    if (out == NULL || cfg == NULL)
        return chr_error_set(err, CHR_EINVAL, "zk", "no configuration");
    *out = NULL;
    if (cfg->session_timeout_ms < 0 || cfg->connect_timeout_ms < 0)
        return chr_error_set(err, CHR_EINVAL, "zk", "negative timeout");
    pthread_once(&client_once, client_init);
    struct chr_zk *zk = chr_calloc(1, sizeof *zk);
    if (zk == NULL)
        return CHR_ENOMEM;
    zk_init_fields(zk, cfg);
    int32_t session_ms = cfg->session_timeout_ms != 0 ? cfg->session_timeout_ms : 10000;
    int32_t timeout_ms = cfg->connect_timeout_ms != 0 ? cfg->connect_timeout_ms : 15000;
    int64_t deadline = chr_clock_mono_ms() + timeout_ms;
    enum chr_err e = parse_hosts(cfg->hosts, zk->servers, zk->chroot, err);
    if (e == CHR_OK)
        e = set_acl(zk, cfg->auth, err);
    if (e == CHR_OK) {
        char hosts[CHR_ZK_HOSTS_MAX + CHR_STORE_ROOT_MAX + 1];
        snprintf(hosts, sizeof hosts, "%s%s", zk->servers, zk->chroot);
        e = connect_handle(zk, hosts, session_ms, NULL, deadline, timeout_ms, err);
    }
    if (e == CHR_OK)
        e = ensure_chroot(zk, zk->servers, session_ms, deadline, timeout_ms, err);
    if (e != CHR_OK) {
        if (zk->zh != NULL)
            zookeeper_close(zk->zh);
        zk_free(zk);
        return e;
    }
    *out = zk;
    return CHR_OK;
}

void chr_zk_close(struct chr_zk *zk)
{
    if (zk == NULL)
        return;
    atomic_store(&zk->alive, false);
    CHR_ASSERT(zk->elections == NULL); /* zk.h: elections are left first */
    zookeeper_close(zk->zh);
    zk_free(zk);
}

int32_t chr_zk_session_timeout_ms(const struct chr_zk *zk)
{
    return atomic_load(&zk->timeout_ms);
}

bool chr_zk_alive(const struct chr_zk *zk)
{
    return zk != NULL && atomic_load(&zk->alive);
}

#ifdef CHR_TESTING
/* The first server of the connect string, connected (blocking); -1 when not. */
static int dial_first(const char *servers)
{
    char host[CHR_ZK_HOSTS_MAX + 1];
    size_t len = strcspn(servers, ",");
    memcpy(host, servers, len);
    host[len] = '\0';
    char *colon = strrchr(host, ':');
    if (colon == NULL)
        return -1;
    *colon = '\0';
    struct addrinfo hints = {.ai_socktype = SOCK_STREAM}, *res = NULL;
    if (getaddrinfo(host, colon + 1, &hints, &res) != 0)
        return -1;
    int fd = socket(res->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd >= 0 && connect(fd, res->ai_addr, res->ai_addrlen) != 0) {
        close(fd);
        fd = -1;
    }
    freeaddrinfo(res);
    return fd;
}

static size_t put32(uint8_t *p, uint32_t v)
{
    v = htonl(v);
    memcpy(p, &v, 4);
    return 4;
}

static size_t put64(uint8_t *p, uint64_t v)
{
    put32(p, (uint32_t)(v >> 32));
    return 4 + put32(p + 4, (uint32_t)v);
}

/* Sends `req` on a fresh connection and reads the answer until the server
 * hangs up (5 s at most); returns the ConnectResponse's timeOut, or -1 when
 * none came.  timeOut 0 means that the session did not exist. */
static int attach_once(const char *servers, const uint8_t *req, size_t len)
{
    int fd = dial_first(servers);
    if (fd < 0)
        return -1;
    uint8_t buf[256];
    size_t got = 0;
    if (write(fd, req, len) == (ssize_t)len) {
        struct pollfd pfd = {.fd = fd, .events = POLLIN};
        int64_t deadline = chr_clock_mono_ms() + 5000;
        ssize_t n = 1;
        while (n > 0 && poll(&pfd, 1, (int)(deadline - chr_clock_mono_ms())) > 0) {
            n = read(fd, buf + got, got < 12 ? sizeof buf - got : sizeof buf / 2);
            if (n > 0 && got < 12)
                got += (size_t)n;
        }
    }
    close(fd);
    if (got < 12)
        return -1;
    uint32_t t;
    memcpy(&t, buf + 8, 4); /* length, protocolVersion, timeOut */
    return (int)ntohl(t);
}

/*
 * The standard trick: a second client attaches to the
 * session and closes it.  With the C client as the second one it is racy:
 * the first client, pushed off the session by the attach, takes it back
 * within a millisecond or two, and the second client's close is then lost.
 * Here the attach (ConnectRequest with the session's id and password) and
 * the close (closeSession, opcode -11) leave in one write of a raw socket,
 * and the attach is repeated until the server answers that the session is
 * gone (a timeOut of 0): the session is over on the server when this
 * returns; the first client hears it when it next talks to the server.
 */
void chr_zk_test_seem_alive(struct chr_zk *zk)
{
    atomic_store(&zk->alive, true);
}

bool chr_zk_test_kill_session(const char *servers, int64_t client_id, const char passwd[16],
                              int32_t timeout_ms)
{
    uint8_t req[4 + 45 + 4 + 8];
    size_t o = put32(req, 45);
    o += put32(req + o, 0);                   /* protocolVersion */
    o += put64(req + o, 0);                   /* lastZxidSeen */
    o += put32(req + o, (uint32_t)timeout_ms); /* timeOut */
    o += put64(req + o, (uint64_t)client_id); /* sessionId */
    o += put32(req + o, 16);                  /* passwd */
    memcpy(req + o, passwd, 16);
    o += 16;
    req[o++] = 0; /* readOnly */
    o += put32(req + o, 8);
    o += put32(req + o, 1);             /* xid */
    o += put32(req + o, (uint32_t)-11); /* closeSession */
    for (int attempt = 0; attempt < 20; attempt++)
        if (attach_once(servers, req, o) == 0)
            return true;
    return false;
}

void chr_zk_test_expire(struct chr_zk *zk)
{
    if (zk == NULL || !chr_zk_alive(zk))
        return;
    const clientid_t *id = zoo_client_id(zk->zh);
    (void)chr_zk_test_kill_session(zk->servers, id->client_id, id->passwd,
                                   chr_zk_session_timeout_ms(zk));
}
#endif
