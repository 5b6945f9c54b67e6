/*
 * http.h - the REST API over libmicrohttpd: every Chronos endpoint at
 * /v1/scheduler/... with the 2.x aliases at /scheduler/..., run history and
 * logs at /v1/runs, previews, /metrics, /ping, and the leader.
 *
 * Mutations go to the scheduler loop and are answered once durable (the
 * connection is suspended meanwhile); reads are rendered on the HTTP threads
 * from the read model the loop publishes (api/view.h), so they never stop
 * the scheduler.  Every request first passes the checks of http_check.h
 * (no control byte in the request line, a Host header naming this server,
 * JSON bodies and a same-site Origin for mutations); optional HTTP Basic
 * auth guards everything but /ping and CORS preflights; optional TLS
 * (GnuTLS through libmicrohttpd, TLS 1.2+ with forward secrecy).
 */
#ifndef CHR_API_HTTP_H
#define CHR_API_HTTP_H

#include <stdint.h>

#include "api/job_json.h"
#include "api/sched.h"
#include "api/users.h"

struct chr_http_config {
    const char *bind_addr;  /* "127.0.0.1" */
    uint16_t port;          /* 0: pick a free one */
    struct chr_sched *sched; /* borrowed; NULL: standing by */
    struct chr_job_defaults defaults;
    unsigned threads;       /* MHD thread pool; 0: 2 */
    struct chr_run_output output; /* runs' stdout and stderr */
    const char *leader;     /* "host:port" this server announces */
    const char *credentials;/* "user:password" for Basic auth; NULL: none */
    const char *realm;      /* NULL: "chronos" */
    const char *tls_cert_pem, *tls_key_pem; /* both or neither: PEM texts */
    const char *version;
    const char *store_kind;   /* "local" or "zookeeper" (shown in /v1/status) */
    const struct chr_users *users; /* who tasks may run as (users.h); NULL: no check */
    /* Who may send requests (http_check.h).  The Host header must name this
     * server: `hostname`, `bind_addr`, a loopback name or address, the
     * address the client connected to, or an entry of `allowed_hosts`
     * (comma list; "*": any).  CORS answers go only to `cors_origins`
     * (comma list of origins; "*": any; NULL: none, the default). */
    const char *hostname;
    const char *allowed_hosts;
    const char *cors_origins;
    const char *tls_priorities; /* GnuTLS priority string; NULL: CHR_HTTP_TLS_PRIORITIES */
};

/* TLS 1.2 and 1.3 only, forward-secret key exchange only (ECDHE; TLS 1.3's
 * are all), AEAD ciphers only, the server's order of preference. */
#define CHR_HTTP_TLS_PRIORITIES                                                                \
    "SECURE:-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2:-KX-ALL:+ECDHE-ECDSA:+ECDHE-RSA:"              \
    "-CIPHER-ALL:+AES-256-GCM:+AES-128-GCM:+CHACHA20-POLY1305:-MAC-ALL:+AEAD:%SERVER_PRECEDENCE"

struct chr_http;

enum chr_err chr_http_start(const struct chr_http_config *cfg, struct chr_http **out,
                            struct chr_error *err);
/* The port actually bound. */
uint16_t chr_http_port(const struct chr_http *h);
/*
 * ZooKeeper mode: the role changes.  set_loop(loop) when this server starts
 * leading, set_loop(NULL) before its loop is stopped (waits until no request
 * is inside the old loop); set_leader names the leader ("host:port", NULL or
 * "" when there is none).  A standby answers /ping, /leader and /v1/status
 * itself and forwards everything else to the leader (503 while none).
 */
void chr_http_set_sched(struct chr_http *h, struct chr_sched *sched);
void chr_http_set_leader(struct chr_http *h, const char *id);
/* The servers of the cluster ("host:port"), in the election's order (the
 * first leads), shown by /v1/status as members and standbys; at most
 * CHR_HTTP_MEMBERS_MAX are kept, longer ids are cut. */
#define CHR_HTTP_MEMBERS_MAX 16
void chr_http_set_members(struct chr_http *h, const char *const *ids, size_t n);
/* Why this server cannot serve while it has no loop and no leader (NULL:
 * the default, "no leader"), for /health and /v1/status. */
void chr_http_set_unhealthy(struct chr_http *h, const char *why);
/* The Mesos master's "host:port" as detected (NULL: none), for /v1/status. */
void chr_http_set_mesos_master(struct chr_http *h, const char *hostport);

/* Stops serving (ends streams, answers nothing more) and frees. */
void chr_http_stop(struct chr_http *h);

#endif
