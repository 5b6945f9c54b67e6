/*
 * test_client.c - the Mesos scheduler client (offers/mesos/client.h)
 * against a small master fixture written here with libmicrohttpd on
 * 127.0.0.1, ports picked by the kernel.  The fixture is scripted per
 * SUBSCRIBE (stream, 503, 307, ERROR, 200 without a stream id), records
 * every request (headers, body), and lets the test push events into the
 * current stream, drop it or stop its heartbeats.  It is a fixture, not the
 * strict double: it checks only what these tests assert.
 *
 * Time: every wait polls for a condition with a deadline; the whole file
 * runs in about 10 s (the heartbeat watchdog and the backoff are real).
 */
#include "tests/unit/unit.h"

#include <arpa/inet.h>
#include <jansson.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#include "offers/mesos/client.h"

/* ---- The master fixture ------------------------------------------------------------ */

enum plan { PLAN_STREAM, PLAN_503, PLAN_307, PLAN_ERROR, PLAN_NO_ID };

#define FX_CALLS_MAX 64
#define FX_SUBS_MAX 32
#define FX_OUT_MAX 65536

struct fx_call {
    char type[32], sid[160], body[2048];
};

struct fx {
    struct MHD_Daemon *d;
    int port;
    pthread_mutex_t mu;
    /* Script. */
    enum plan plans[FX_SUBS_MAX];
    int n_plans;
    int redirect_port;
    double heartbeat_s;
    int hb_ms;       /* > 0: a HEARTBEAT after this long without output */
    int call_status; /* the answer to calls */
    /* Record. */
    int subscribes;
    char sub_body[FX_SUBS_MAX][2048];
    bool sub_had_sid, bad_headers;
    char auth[128];
    struct fx_call calls[FX_CALLS_MAX];
    int n_calls;
    /* The current stream. */
    int gen;
    char out[FX_OUT_MAX];
    size_t out_len;
    int64_t last_out_ms;
    bool stopping;
};

struct fx_req {
    char body[8192];
    size_t len;
};

struct fx_stream {
    struct fx *fx;
    int gen;
};

/* Appends one RecordIO record (mu held). */
static void fx_record_locked(struct fx *fx, const char *json)
{
    int w = snprintf(fx->out + fx->out_len, sizeof fx->out - fx->out_len, "%zu\n%s",
                     strlen(json), json);
    assert_true(w > 0 && (size_t)w < sizeof fx->out - fx->out_len);
    fx->out_len += (size_t)w;
}

/* Pushes an event into the current stream. */
static void fx_send(struct fx *fx, const char *json)
{
    pthread_mutex_lock(&fx->mu);
    fx_record_locked(fx, json);
    pthread_mutex_unlock(&fx->mu);
}

/* Ends the current stream (as a master whose connection breaks). */
static void fx_drop(struct fx *fx)
{
    pthread_mutex_lock(&fx->mu);
    fx->gen++;
    pthread_mutex_unlock(&fx->mu);
}

static ssize_t fx_reader(void *cls, uint64_t pos, char *buf, size_t max)
{
    (void)pos;
    struct fx_stream *st = cls;
    struct fx *fx = st->fx;
    for (;;) {
        pthread_mutex_lock(&fx->mu);
        if (fx->stopping || st->gen != fx->gen) {
            pthread_mutex_unlock(&fx->mu);
            return MHD_CONTENT_READER_END_WITH_ERROR;
        }
        if (fx->hb_ms > 0 && fx->out_len == 0 && test_mono_ms() - fx->last_out_ms >= fx->hb_ms)
            fx_record_locked(fx, "{\"type\":\"HEARTBEAT\"}");
        if (fx->out_len > 0) {
            size_t n = fx->out_len < max ? fx->out_len : max;
            memcpy(buf, fx->out, n);
            memmove(fx->out, fx->out + n, fx->out_len - n);
            fx->out_len -= n;
            fx->last_out_ms = test_mono_ms();
            pthread_mutex_unlock(&fx->mu);
            return (ssize_t)n;
        }
        pthread_mutex_unlock(&fx->mu);
        test_nap_ms(5); /* thread per connection: the reader may block */
    }
}

static void fx_stream_free(void *cls)
{
    free(cls);
}

static enum MHD_Result fx_queue(struct MHD_Connection *conn, unsigned code, const char *body,
                                const char *hname, const char *hvalue)
{
    struct MHD_Response *r = MHD_create_response_from_buffer(strlen(body), (void *)body,
                                                             MHD_RESPMEM_MUST_COPY);
    if (hname != NULL)
        MHD_add_response_header(r, hname, hvalue);
    enum MHD_Result ret = MHD_queue_response(conn, code, r);
    MHD_destroy_response(r);
    return ret;
}

static enum MHD_Result fx_subscribe(struct fx *fx, struct MHD_Connection *conn,
                                    const char *body)
{
    pthread_mutex_lock(&fx->mu);
    int k = fx->subscribes++;
    enum plan plan = k < fx->n_plans ? fx->plans[k] : PLAN_STREAM;
    if (k < FX_SUBS_MAX)
        snprintf(fx->sub_body[k], sizeof fx->sub_body[k], "%.2000s", body);
    if (MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Mesos-Stream-Id") != NULL)
        fx->sub_had_sid = true;
    char sid[32], loc[96];
    snprintf(sid, sizeof sid, "sid-%d", k);
    snprintf(loc, sizeof loc, "//127.0.0.1:%d/api/v1/scheduler", fx->redirect_port);
    pthread_mutex_unlock(&fx->mu);
    json_t *j = json_loads(body, 0, NULL);
    const char *fid = json_string_value(json_object_get(json_object_get(j, "framework_id"),
                                                        "value"));
    char subscribed[256];
    snprintf(subscribed, sizeof subscribed,
             "{\"type\":\"SUBSCRIBED\",\"subscribed\":{\"framework_id\":{\"value\":\"%s\"},"
             "\"heartbeat_interval_seconds\":%g}}",
             fid ? fid : "fw-1", fx->heartbeat_s);
    json_decref(j);
    char rec[320];
    switch (plan) {
    case PLAN_503:
        return fx_queue(conn, 503, "No leader elected", NULL, NULL);
    case PLAN_307:
        return fx_queue(conn, 307, "", "Location", loc);
    case PLAN_ERROR:
        snprintf(rec, sizeof rec, "%zu\n%s", strlen("{\"type\":\"ERROR\",\"error\":{\"message\":"
                                                    "\"Framework failed over\"}}"),
                 "{\"type\":\"ERROR\",\"error\":{\"message\":\"Framework failed over\"}}");
        return fx_queue(conn, 200, rec, "Mesos-Stream-Id", sid);
    case PLAN_NO_ID:
        snprintf(rec, sizeof rec, "%zu\n%s", strlen(subscribed), subscribed);
        return fx_queue(conn, 200, rec, NULL, NULL);
    case PLAN_STREAM:
        break;
    }
    struct fx_stream *st = malloc(sizeof *st);
    pthread_mutex_lock(&fx->mu);
    st->fx = fx;
    st->gen = ++fx->gen;
    fx->out_len = 0;
    fx->last_out_ms = test_mono_ms();
    fx_record_locked(fx, subscribed);
    pthread_mutex_unlock(&fx->mu);
    struct MHD_Response *r =
        MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 4096, fx_reader, st, fx_stream_free);
    MHD_add_response_header(r, "mesos-stream-id", sid); /* any case: read case-insensitively */
    MHD_add_response_header(r, "Content-Type", "application/json");
    enum MHD_Result ret = MHD_queue_response(conn, 200, r);
    MHD_destroy_response(r);
    return ret;
}

static void fx_check_headers(struct fx *fx, struct MHD_Connection *conn)
{
    const char *ct = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Content-Type");
    const char *ac = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Accept");
    char *pass = NULL;
    char *user = MHD_basic_auth_get_username_password(conn, &pass);
    pthread_mutex_lock(&fx->mu);
    if (ct == NULL || strcmp(ct, "application/json") != 0 || ac == NULL ||
        strcmp(ac, "application/json") != 0)
        fx->bad_headers = true;
    if (user != NULL)
        snprintf(fx->auth, sizeof fx->auth, "%s:%s", user, pass ? pass : "");
    pthread_mutex_unlock(&fx->mu);
    MHD_free(user);
    MHD_free(pass);
}

static enum MHD_Result fx_handler(void *cls, struct MHD_Connection *conn, const char *url,
                                  const char *method, const char *version,
                                  const char *upload, size_t *upload_size, void **con_cls)
{
    (void)version;
    struct fx *fx = cls;
    if (*con_cls == NULL) {
        *con_cls = calloc(1, sizeof(struct fx_req));
        return MHD_YES;
    }
    struct fx_req *req = *con_cls;
    if (*upload_size > 0) {
        size_t n = *upload_size < sizeof req->body - 1 - req->len ? *upload_size
                                                                   : sizeof req->body - 1 - req->len;
        memcpy(req->body + req->len, upload, n);
        req->len += n;
        *upload_size = 0;
        return MHD_YES;
    }
    if (strcmp(method, "POST") != 0 || strcmp(url, "/api/v1/scheduler") != 0)
        return fx_queue(conn, 405, "", NULL, NULL);
    fx_check_headers(fx, conn);
    json_t *j = json_loads(req->body, 0, NULL);
    const char *type = json_string_value(json_object_get(j, "type"));
    if (type != NULL && strcmp(type, "SUBSCRIBE") == 0) {
        json_decref(j);
        return fx_subscribe(fx, conn, req->body);
    }
    const char *sid = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Mesos-Stream-Id");
    pthread_mutex_lock(&fx->mu);
    if (fx->n_calls < FX_CALLS_MAX) {
        struct fx_call *k = &fx->calls[fx->n_calls++];
        snprintf(k->type, sizeof k->type, "%s", type ? type : "?");
        snprintf(k->sid, sizeof k->sid, "%s", sid ? sid : "");
        snprintf(k->body, sizeof k->body, "%.2000s", req->body);
    }
    unsigned status = (unsigned)fx->call_status;
    pthread_mutex_unlock(&fx->mu);
    json_decref(j);
    return fx_queue(conn, status, status == 202 ? "" : "Framework is not subscribed", NULL, NULL);
}

static void fx_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
    (void)cls;
    (void)conn;
    (void)toe;
    free(*con_cls);
    *con_cls = NULL;
}

static struct fx *fx_start(void)
{
    struct fx *fx = calloc(1, sizeof *fx);
    pthread_mutex_init(&fx->mu, NULL);
    fx->heartbeat_s = 15;
    fx->call_status = 202;
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = 0};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    fx->d = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_THREAD_PER_CONNECTION |
                                 MHD_USE_ERROR_LOG,
                             0, NULL, NULL, fx_handler, fx, MHD_OPTION_SOCK_ADDR, &sa,
                             MHD_OPTION_NOTIFY_COMPLETED, fx_completed, fx,
                             MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)30, MHD_OPTION_END);
    assert_non_null(fx->d);
    fx->port = MHD_get_daemon_info(fx->d, MHD_DAEMON_INFO_BIND_PORT)->port;
    return fx;
}

static void fx_stop(struct fx *fx)
{
    pthread_mutex_lock(&fx->mu);
    fx->stopping = true;
    pthread_mutex_unlock(&fx->mu);
    MHD_stop_daemon(fx->d);
    pthread_mutex_destroy(&fx->mu);
    free(fx);
}

static int fx_subscribes(struct fx *fx)
{
    pthread_mutex_lock(&fx->mu);
    int n = fx->subscribes;
    pthread_mutex_unlock(&fx->mu);
    return n;
}

static int fx_n_calls(struct fx *fx)
{
    pthread_mutex_lock(&fx->mu);
    int n = fx->n_calls;
    pthread_mutex_unlock(&fx->mu);
    return n;
}

/* ---- The client's side -------------------------------------------------------------- */

#define LOG_MAX 128

/* What on_event saw, one line per event ("SUBSCRIBED fw-1 127.0.0.1:p"). */
struct seen {
    pthread_mutex_t mu;
    char log[LOG_MAX][320];
    int n;
    bool stopped, after_stop;
    struct chr_mesos_update last_update;
    /* Set: on SUBSCRIBED, suppress through the handle the start filled (as
     * the resource manager does); handle_null counts handles not yet set. */
    struct chr_mesos_client *const *handle;
    int handle_null;
};

static void on_event(void *ctx, const struct chr_mesos_event *ev)
{
    struct seen *s = ctx;
    char line[320];
    switch (ev->type) {
    case CHR_MESOS_EV_SUBSCRIBED:
        snprintf(line, sizeof line, "SUBSCRIBED %s %s", ev->u.subscribed.framework_id,
                 ev->u.subscribed.master);
        if (s->handle != NULL) {
            struct chr_mesos_client *c = *s->handle;
            if (c == NULL)
                __atomic_add_fetch(&s->handle_null, 1, __ATOMIC_SEQ_CST);
            else
                (void)chr_mesos_suppress(c);
        }
        break;
    case CHR_MESOS_EV_DISCONNECTED:
        snprintf(line, sizeof line, "DISCONNECTED %.200s", ev->u.reason);
        break;
    case CHR_MESOS_EV_OFFER:
        snprintf(line, sizeof line, "OFFER %.100s %.100s %zu", ev->u.offer->id, ev->u.offer->hostname,
                 ev->u.offer->n_res);
        break;
    case CHR_MESOS_EV_RESCIND:
        snprintf(line, sizeof line, "RESCIND %s", ev->u.offer_id);
        break;
    case CHR_MESOS_EV_UPDATE:
        snprintf(line, sizeof line, "UPDATE %s %d", ev->u.update->task_id, ev->u.update->state);
        break;
    case CHR_MESOS_EV_FAILURE:
        snprintf(line, sizeof line, "FAILURE %s", ev->u.agent_id);
        break;
    case CHR_MESOS_EV_ERROR:
        snprintf(line, sizeof line, "ERROR %.200s", ev->u.reason);
        break;
    }
    pthread_mutex_lock(&s->mu);
    if (s->stopped)
        s->after_stop = true;
    if (ev->type == CHR_MESOS_EV_UPDATE)
        s->last_update = *ev->u.update;
    if (s->n < LOG_MAX)
        snprintf(s->log[s->n++], sizeof s->log[0], "%s", line);
    pthread_mutex_unlock(&s->mu);
}

/* Lines seen that start with prefix. */
static int count(struct seen *s, const char *prefix)
{
    int k = 0;
    pthread_mutex_lock(&s->mu);
    for (int i = 0; i < s->n; i++)
        k += strncmp(s->log[i], prefix, strlen(prefix)) == 0;
    pthread_mutex_unlock(&s->mu);
    return k;
}

/* Waits until count(prefix) >= n; false at the deadline. */
static bool wait_count(struct seen *s, const char *prefix, int n, long ms)
{
    for (int64_t end = test_mono_ms() + ms; test_mono_ms() < end; test_nap_ms(5))
        if (count(s, prefix) >= n)
            return true;
    return count(s, prefix) >= n;
}

static bool wait_calls(struct fx *fx, int n, long ms)
{
    for (int64_t end = test_mono_ms() + ms; test_mono_ms() < end; test_nap_ms(5))
        if (fx_n_calls(fx) >= n)
            return true;
    return false;
}

static void dump(struct seen *s)
{
    pthread_mutex_lock(&s->mu);
    for (int i = 0; i < s->n; i++)
        fprintf(stderr, "  event %d: %s\n", i, s->log[i]);
    pthread_mutex_unlock(&s->mu);
}

static struct seen *seen_new(void)
{
    struct seen *s = calloc(1, sizeof *s);
    pthread_mutex_init(&s->mu, NULL);
    return s;
}

static void seen_free(struct seen *s)
{
    pthread_mutex_destroy(&s->mu);
    free(s);
}

static struct chr_mesos_client *start(const char *master, struct seen *s, const char *fid,
                                      const char *secret)
{
    struct chr_mesos_client_config cfg = {
        .master = master,
        .fw = {.user = "root", .name = "chronos", .failover_timeout_s = 604800,
               .principal = secret ? "chronos" : NULL, .secret = secret},
        .framework_id = fid,
        .backoff_max_ms = 1000,
        .jitter_seed = 42,
        .on_event = on_event,
        .ctx = s,
    };
    struct chr_mesos_client *c = NULL;
    struct chr_error err;
    enum chr_err e = chr_mesos_client_start(&cfg, &c, &err);
    if (e != CHR_OK)
        fail_msg("start: %s", err.message);
    return c;
}

/* Stops the client; no callback may come after (the flag catches one). */
static void stop(struct chr_mesos_client *c, struct seen *s)
{
    chr_mesos_client_stop(c);
    pthread_mutex_lock(&s->mu);
    s->stopped = true;
    pthread_mutex_unlock(&s->mu);
}

static void hostport(char *buf, size_t cap, int port)
{
    snprintf(buf, cap, "127.0.0.1:%d", port);
}

/* ---- Tests ------------------------------------------------------------------------------ */

#define OFFER(id, extra)                                                                          \
    "{\"id\":{\"value\":\"" id "\"},\"framework_id\":{\"value\":\"fw-1\"},\"agent_id\":"           \
    "{\"value\":\"a-1\"},\"hostname\":\"h1\",\"resources\":[{\"name\":\"cpus\",\"type\":"          \
    "\"SCALAR\",\"scalar\":{\"value\":" extra "}}]}"

/* Subscribe, then events in the stream's order (a bad offer declined by the
 * client itself), then calls carrying the stream id, in order. */
static void test_subscribe_events_calls(void **state)
{
    (void)state;
    struct fx *fx = fx_start();
    struct seen *s = seen_new();
    char hp[64];
    hostport(hp, sizeof hp, fx->port);
    char url[80];
    snprintf(url, sizeof url, "http://%s/", hp);
    struct chr_mesos_client *c = start(url, s, NULL, "pw");
    assert_true(wait_count(s, "SUBSCRIBED", 1, 5000));
    fx_send(fx, "{\"type\":\"OFFERS\",\"offers\":{\"offers\":[" OFFER("o-1", "2") "," OFFER(
                    "o-bad", "\"lots\"") "," OFFER("o-3", "1") "]}}");
    fx_send(fx, "{\"type\":\"RESCIND\",\"rescind\":{\"offer_id\":{\"value\":\"o-3\"}}}");
    fx_send(fx, "{\"type\":\"UPDATE_OPERATION_STATUS\",\"update_operation_status\":{}}");
    fx_send(fx, "{\"type\":\"HEARTBEAT\"}");
    fx_send(fx, "{\"type\":\"UPDATE\",\"update\":{\"status\":{\"task_id\":{\"value\":\"t-1\"},"
                "\"state\":\"TASK_RUNNING\",\"agent_id\":{\"value\":\"a-1\"},"
                "\"uuid\":\"AAECAwQFBgcICQoLDA0ODw==\",\"source\":\"SOURCE_EXECUTOR\"}}}");
    fx_send(fx, "{\"type\":\"FAILURE\",\"failure\":{\"agent_id\":{\"value\":\"a-2\"}}}");
    assert_true(wait_count(s, "FAILURE", 1, 5000));
    char want[6][80];
    snprintf(want[0], sizeof want[0], "SUBSCRIBED fw-1 %s", hp);
    snprintf(want[1], sizeof want[1], "OFFER o-1 h1 1");
    snprintf(want[2], sizeof want[2], "OFFER o-3 h1 1");
    snprintf(want[3], sizeof want[3], "RESCIND o-3");
    snprintf(want[4], sizeof want[4], "UPDATE t-1 %d", CHR_MESOS_TASK_RUNNING);
    snprintf(want[5], sizeof want[5], "FAILURE a-2");
    pthread_mutex_lock(&s->mu);
    int n = s->n;
    pthread_mutex_unlock(&s->mu);
    if (n != 6)
        dump(s);
    assert_int_equal(n, 6);
    for (int i = 0; i < 6; i++)
        assert_string_equal(s->log[i], want[i]);

    /* The client declined the bad offer itself; then our calls, in order. */
    const struct chr_mesos_update u = s->last_update;
    assert_int_equal(chr_mesos_acknowledge(c, u.agent_id, u.task_id, u.uuid, NULL), CHR_OK);
    const char *ids[] = {"o-1"};
    assert_int_equal(chr_mesos_decline(c, ids, 1, 60, NULL), CHR_OK);
    assert_int_equal(chr_mesos_suppress(c), CHR_OK);
    assert_int_equal(chr_mesos_reconcile(c, NULL, 0, NULL), CHR_OK);
    struct chr_error err;
    assert_int_equal(chr_mesos_decline(c, ids, 0, 60, &err), CHR_EINVAL);
    assert_true(wait_calls(fx, 5, 5000));
    const char *types[] = {"DECLINE", "ACKNOWLEDGE", "DECLINE", "SUPPRESS", "RECONCILE"};
    pthread_mutex_lock(&fx->mu);
    assert_int_equal(fx->n_calls, 5);
    for (int i = 0; i < 5; i++) {
        assert_string_equal(fx->calls[i].type, types[i]);
        assert_string_equal(fx->calls[i].sid, "sid-0");
    }
    assert_non_null(strstr(fx->calls[0].body, "\"o-bad\""));
    assert_non_null(strstr(fx->calls[1].body, "\"uuid\":\"AAECAwQFBgcICQoLDA0ODw==\""));
    assert_false(fx->sub_had_sid);
    assert_false(fx->bad_headers);
    assert_string_equal(fx->auth, "chronos:pw");
    assert_null(strstr(fx->sub_body[0], "framework_id")); /* a new framework */
    pthread_mutex_unlock(&fx->mu);

    struct chr_mesos_client_stats st;
    for (int64_t end = test_mono_ms() + 2000; test_mono_ms() < end; test_nap_ms(5)) {
        chr_mesos_client_stats(c, &st);
        if (st.calls_sent == 5)
            break;
    }
    assert_true(st.subscribed);
    assert_string_equal(st.framework_id, "fw-1");
    assert_string_equal(st.master, hp);
    assert_int_equal(st.subscriptions, 1);
    assert_int_equal(st.calls_sent, 5);
    assert_int_equal(st.calls_failed, 0);
    assert_int_equal(st.heartbeats, 1);
    assert_true(st.last_event_age_ms >= 0);
    stop(c, s);
    fx_stop(fx);
    assert_false(s->after_stop);
    seen_free(s);
}

/* A 307 with a protocol-relative Location is followed to the leader, which
 * then gets the calls. */
/* The handle is set before the stream's thread starts: a master that
 * answers at once (the start's return held 300 ms here) gets SUBSCRIBED
 * delivered before chr_mesos_client_start returns, and the handler's call
 * through the handle (a SUPPRESS, as the resource manager sends) works. */
static void test_handle_set_before_first_event(void **state)
{
    (void)state;
    struct fx *fx = fx_start();
    struct seen *s = seen_new();
    char url[80];
    snprintf(url, sizeof url, "http://127.0.0.1:%d/", fx->port);
    struct chr_mesos_client *c = NULL;
    s->handle = &c;
    struct chr_mesos_client_config cfg = {
        .master = url, .fw = {.user = "root", .name = "chronos", .failover_timeout_s = 604800},
        .backoff_max_ms = 1000, .jitter_seed = 42, .on_event = on_event, .ctx = s,
    };
    struct chr_error err;
    setenv("CHRONOS_TEST_CLIENT_START_DELAY_MS", "300", 1);
    enum chr_err e = chr_mesos_client_start(&cfg, &c, &err);
    unsetenv("CHRONOS_TEST_CLIENT_START_DELAY_MS");
    if (e != CHR_OK)
        fail_msg("start: %s", err.message);
    assert_true(wait_count(s, "SUBSCRIBED", 1, 5000));
    assert_int_equal(__atomic_load_n(&s->handle_null, __ATOMIC_SEQ_CST), 0);
    for (int64_t end = test_mono_ms() + 5000; fx_n_calls(fx) < 1 && test_mono_ms() < end;)
        test_nap_ms(10);
    assert_int_equal(fx_n_calls(fx), 1); /* the SUPPRESS, on the stream */
    stop(c, s);
    seen_free(s);
    fx_stop(fx);
}

static void test_redirect(void **state)
{
    (void)state;
    struct fx *leader = fx_start(), *other = fx_start();
    other->plans[0] = PLAN_307;
    other->n_plans = 1;
    other->redirect_port = leader->port;
    struct seen *s = seen_new();
    char hp[64], lhp[64], want[128];
    hostport(hp, sizeof hp, other->port);
    hostport(lhp, sizeof lhp, leader->port);
    struct chr_mesos_client *c = start(hp, s, NULL, NULL);
    assert_true(wait_count(s, "SUBSCRIBED", 1, 5000));
    snprintf(want, sizeof want, "SUBSCRIBED fw-1 %s", lhp);
    assert_string_equal(s->log[0], want);
    assert_int_equal(chr_mesos_revive(c), CHR_OK);
    assert_true(wait_calls(leader, 1, 5000));
    assert_int_equal(fx_n_calls(other), 0);
    assert_int_equal(fx_subscribes(other), 1);
    assert_int_equal(fx_subscribes(leader), 1);
    struct chr_mesos_client_stats st;
    chr_mesos_client_stats(c, &st);
    assert_int_equal(st.redirects, 1);
    stop(c, s);
    fx_stop(leader);
    fx_stop(other);
    seen_free(s);
}

/* 503 twice, then a stream: subscribed after two pauses (backoff: at least
 * 125 + 250 ms with the jitter), nothing reported before. */
static void test_503_backoff(void **state)
{
    (void)state;
    struct fx *fx = fx_start();
    fx->plans[0] = fx->plans[1] = PLAN_503;
    fx->n_plans = 2;
    struct seen *s = seen_new();
    char hp[64];
    hostport(hp, sizeof hp, fx->port);
    int64_t t0 = test_mono_ms();
    struct chr_mesos_client *c = start(hp, s, NULL, NULL);
    assert_true(wait_count(s, "SUBSCRIBED", 1, 5000));
    int64_t took = test_mono_ms() - t0;
    assert_true(took >= 375);
    assert_int_equal(fx_subscribes(fx), 3);
    assert_int_equal(count(s, "DISCONNECTED"), 0); /* never subscribed before */
    assert_int_equal(chr_mesos_revive(c), CHR_OK);
    stop(c, s);
    fx_stop(fx);
    seen_free(s);
}

/* A dropped stream: DISCONNECTED, calls refused (a KILL kept), then a new
 * SUBSCRIBE with the framework id of the last SUBSCRIBED (top level and
 * framework_info.id) and the KILL sent on the new stream. */
static void test_resubscribe_after_drop(void **state)
{
    (void)state;
    struct fx *fx = fx_start();
    struct seen *s = seen_new();
    char hp[64];
    hostport(hp, sizeof hp, fx->port);
    struct chr_mesos_client *c = start(hp, s, NULL, NULL);
    assert_true(wait_count(s, "SUBSCRIBED", 1, 5000));
    fx_drop(fx);
    assert_true(wait_count(s, "DISCONNECTED", 1, 5000));
    /* The pause before resubscribing is at least 125 ms: still unsubscribed. */
    const char *ids[] = {"o-1"};
    assert_int_equal(chr_mesos_decline(c, ids, 1, 5, NULL), CHR_EUNAVAIL);
    assert_int_equal(chr_mesos_kill(c, "t-9", "a-1", 3000, NULL), CHR_OK);
    assert_true(wait_count(s, "SUBSCRIBED", 2, 5000));
    assert_true(wait_calls(fx, 1, 5000));
    pthread_mutex_lock(&fx->mu);
    assert_int_equal(fx->subscribes, 2);
    json_t *j = json_loads(fx->sub_body[1], 0, NULL);
    assert_string_equal(json_string_value(json_object_get(json_object_get(j, "framework_id"),
                                                          "value")),
                        "fw-1");
    json_t *info = json_object_get(json_object_get(j, "subscribe"), "framework_info");
    assert_string_equal(json_string_value(json_object_get(json_object_get(info, "id"), "value")),
                        "fw-1");
    json_decref(j);
    assert_string_equal(fx->calls[0].type, "KILL");
    assert_string_equal(fx->calls[0].sid, "sid-1"); /* the new stream's id */
    assert_false(fx->sub_had_sid);
    pthread_mutex_unlock(&fx->mu);
    stop(c, s);
    fx_stop(fx);
    seen_free(s);
}

/* Heartbeats keep the stream; silence for 5 intervals ends it and the
 * client resubscribes. */
static void test_heartbeat_watchdog(void **state)
{
    (void)state;
    struct fx *fx = fx_start();
    fx->heartbeat_s = 0.3; /* watchdog: 1.5 s */
    fx->hb_ms = 100;
    struct seen *s = seen_new();
    char hp[64];
    hostport(hp, sizeof hp, fx->port);
    struct chr_mesos_client *c = start(hp, s, "fw-given", NULL);
    assert_true(wait_count(s, "SUBSCRIBED fw-given", 1, 5000));
    test_nap_ms(2000); /* longer than the watchdog: heartbeats keep it */
    assert_int_equal(count(s, "DISCONNECTED"), 0);
    assert_int_equal(fx_subscribes(fx), 1);
    pthread_mutex_lock(&fx->mu);
    fx->hb_ms = 0; /* silence */
    pthread_mutex_unlock(&fx->mu);
    int64_t t0 = test_mono_ms();
    assert_true(wait_count(s, "DISCONNECTED no bytes", 1, 5000));
    int64_t took = test_mono_ms() - t0;
    assert_true(took >= 1200 && took <= 2500);
    assert_true(wait_count(s, "SUBSCRIBED fw-given", 2, 5000));
    struct chr_mesos_client_stats st;
    chr_mesos_client_stats(c, &st);
    assert_true(st.heartbeats >= 10);
    stop(c, s);
    fx_stop(fx);
    seen_free(s);
}

/* ERROR as the first event: ERROR and DISCONNECTED reported, and the
 * retries back off (no tight loop). */
static void test_error_event_backs_off(void **state)
{
    (void)state;
    struct fx *fx = fx_start();
    for (int i = 0; i < FX_SUBS_MAX; i++)
        fx->plans[i] = PLAN_ERROR;
    fx->n_plans = FX_SUBS_MAX;
    struct seen *s = seen_new();
    char hp[64];
    hostport(hp, sizeof hp, fx->port);
    struct chr_mesos_client *c = start(hp, s, "fw-1", NULL);
    assert_true(wait_count(s, "DISCONNECTED", 1, 5000));
    test_nap_ms(1600);
    /* Pauses of 125-250, 250-500, 500-1000 ms: at most 4 SUBSCRIBEs in 1.6 s. */
    int n = fx_subscribes(fx);
    assert_true(n >= 2 && n <= 5);
    assert_int_equal(count(s, "SUBSCRIBED"), 0);
    assert_true(count(s, "ERROR Framework failed over") >= 2);
    assert_true(count(s, "DISCONNECTED the master refused the subscription: Framework failed "
                         "over") >= 2);
    stop(c, s);
    fx_stop(fx);
    seen_free(s);
}

/* 200 without a Mesos-Stream-Id is a protocol error: the next attempt works. */
static void test_no_stream_id(void **state)
{
    (void)state;
    struct fx *fx = fx_start();
    fx->plans[0] = PLAN_NO_ID;
    fx->n_plans = 1;
    struct seen *s = seen_new();
    char hp[64];
    hostport(hp, sizeof hp, fx->port);
    struct chr_mesos_client *c = start(hp, s, NULL, NULL);
    assert_true(wait_count(s, "SUBSCRIBED", 1, 5000));
    assert_int_equal(count(s, "SUBSCRIBED"), 1);
    assert_int_equal(fx_subscribes(fx), 2);
    stop(c, s);
    fx_stop(fx);
    seen_free(s);
}

/* A 403 on a call means the subscription is lost: resubscribe. */
static void test_403_resubscribes(void **state)
{
    (void)state;
    struct fx *fx = fx_start();
    fx->call_status = 403;
    struct seen *s = seen_new();
    char hp[64];
    hostport(hp, sizeof hp, fx->port);
    struct chr_mesos_client *c = start(hp, s, NULL, NULL);
    assert_true(wait_count(s, "SUBSCRIBED", 1, 5000));
    assert_int_equal(chr_mesos_revive(c), CHR_OK);
    assert_true(wait_count(s, "DISCONNECTED a call was refused with 403", 1, 5000));
    assert_true(wait_count(s, "SUBSCRIBED", 2, 5000));
    struct chr_mesos_client_stats st;
    chr_mesos_client_stats(c, &st);
    assert_int_equal(st.calls_failed, 1);
    assert_int_equal(st.calls_sent, 0);
    stop(c, s);
    fx_stop(fx);
    seen_free(s);
}

/* A master that accepts the connection and never answers: stop returns at
 * once.  Then stop while streaming.  No callback after either. */
static void test_stop_prompt(void **state)
{
    (void)state;
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = 0};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof sa), 0);
    assert_int_equal(listen(fd, 4), 0); /* never accepts: the kernel completes the handshake */
    socklen_t sl = sizeof sa;
    getsockname(fd, (struct sockaddr *)&sa, &sl);
    char hp[64];
    hostport(hp, sizeof hp, ntohs(sa.sin_port));
    struct seen *s = seen_new();
    struct chr_mesos_client *c = start(hp, s, NULL, NULL);
    test_nap_ms(300);
    int64_t t0 = test_mono_ms();
    stop(c, s);
    assert_true(test_mono_ms() - t0 < 1000);
    assert_int_equal(count(s, ""), 0);
    close(fd);

    struct fx *fx = fx_start();
    hostport(hp, sizeof hp, fx->port);
    s->stopped = false; /* a second client, same recorder */
    c = start(hp, s, NULL, NULL);
    assert_true(wait_count(s, "SUBSCRIBED", 1, 5000));
    t0 = test_mono_ms();
    stop(c, s);
    assert_true(test_mono_ms() - t0 < 1000);
    fx_send(fx, "{\"type\":\"HEARTBEAT\"}");
    test_nap_ms(50);
    assert_false(s->after_stop);
    fx_stop(fx);
    seen_free(s);
}

static void test_bad_config(void **state)
{
    (void)state;
    struct chr_mesos_client_config cfg = {
        .master = "127.0.0.1:5050",
        .fw = {.user = "root", .name = "chronos", .failover_timeout_s = 60},
        .on_event = on_event,
    };
    struct chr_mesos_client *c = NULL;
    struct chr_error err;
    cfg.master = "https://m:5050";
    assert_int_equal(chr_mesos_client_start(&cfg, &c, &err), CHR_EINVAL);
    assert_string_equal(err.field, "mesos_master");
    cfg.master = "127.0.0.1:5050";
    cfg.fw.user = NULL;
    assert_int_equal(chr_mesos_client_start(&cfg, &c, &err), CHR_EINVAL);
    assert_string_equal(err.field, "user");
    cfg.fw.user = "root";
    cfg.fw.role = "bad role";
    assert_int_equal(chr_mesos_client_start(&cfg, &c, &err), CHR_EINVAL);
    assert_string_equal(err.field, "role");
    cfg.fw.role = NULL;
    cfg.backoff_max_ms = 10;
    assert_int_equal(chr_mesos_client_start(&cfg, &c, &err), CHR_EINVAL);
    assert_string_equal(err.field, "backoff_max");
    assert_null(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_subscribe_events_calls),
        cmocka_unit_test(test_handle_set_before_first_event),
        cmocka_unit_test(test_redirect),
        cmocka_unit_test(test_503_backoff),
        cmocka_unit_test(test_resubscribe_after_drop),
        cmocka_unit_test(test_heartbeat_watchdog),
        cmocka_unit_test(test_error_event_backs_off),
        cmocka_unit_test(test_no_stream_id),
        cmocka_unit_test(test_403_resubscribes),
        cmocka_unit_test(test_stop_prompt),
        cmocka_unit_test(test_bad_config),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
