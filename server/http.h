/*
 * http.h - the REST API over libmicrohttpd: Chronos's job endpoints at
 * /v1/scheduler/... and the 2.x aliases at /scheduler/..., and /ping.
 * Mutations go to the scheduler loop and are answered once durable (the
 * connection is suspended meanwhile); reads are queries run on the loop.
 */
#ifndef CHR_SERVER_HTTP_H
#define CHR_SERVER_HTTP_H

#include <stdint.h>

#include "server/loop.h"

struct chr_http_config {
    const char *bind_addr;  /* "127.0.0.1" */
    uint16_t port;          /* 0: pick a free one */
    struct chr_loop *loop;  /* borrowed */
    struct chr_job_defaults defaults;
    unsigned threads;       /* MHD thread pool; 0: 2 */
};

struct chr_http;

enum chr_err chr_http_start(const struct chr_http_config *cfg, struct chr_http **out,
                            struct chr_error *err);
/* The port actually bound. */
uint16_t chr_http_port(const struct chr_http *h);
void chr_http_stop(struct chr_http *h);

#endif
