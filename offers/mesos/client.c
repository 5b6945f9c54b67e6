/*
 * client.c - the Mesos v1 scheduler client (client.h): one thread, one curl
 * multi handle, two transfers at most (the SUBSCRIBE stream and one call).
 *
 * The thread owns the connections, the stream's decoder and the stream id;
 * the mutex guards only what other threads touch: the call queue, whether
 * a subscription is live, the framework id, the counters, stop and the
 * master-changed flag.  Callbacks run on the thread without the mutex held,
 * so they may queue calls.
 *
 * Never sends TEARDOWN; never reconnects without a pause after a failure
 * (250 ms doubling to backoff_max, jittered); never buffers more than one
 * record (recordio.h) or a bounded error body; never blocks a caller.
 */
#include "offers/mesos/client.h"

#include <curl/curl.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "common/alloc.h"
#include "common/clock.h"
#include "common/hostport.h"
#include "common/log.h"
#include "offers/mesos/master.h"
#include "offers/mesos/recordio.h"

#define BACKOFF_MIN_MS 250
#define BACKOFF_MAX_DEFAULT_MS 15000
#define CONNECT_TIMEOUT_MS 5000
#define CALL_TIMEOUT_MS 10000
/* No byte for this long before SUBSCRIBED (headers, first event): give up. */
#define FIRST_EVENT_MS 10000
/* Heartbeats missed before the stream counts as dead (about 75 s at 15 s). */
#define HEARTBEATS_MISSED 5
#define WATCHDOG_MIN_MS 1000
#define DEFAULT_HEARTBEAT_S 15.0
/* A subscription that lived this long resets the backoff: one that ends at
 * once (failover ping-pong, ERROR) keeps growing it. */
#define STABLE_MS 10000
/* Redirects followed in a row (as mesos-go). */
#define REDIRECTS_MAX 9
#define STREAM_ID_MAX 128
#define URL_MAX 1100
/* Bytes of a refused answer kept for the log. */
#define ERRBODY_MAX 512
/* Offers that fail to decode are declined for this long. */
#define BAD_OFFER_REFUSE_S 5.0
#define POLL_MAX_MS 1000

struct call {
    struct call *next;
    bool kill;
    char type[16]; /* for logs */
    char *body;
    size_t len;
};

/* The SUBSCRIBE transfer; owned by the client's thread. */
struct stream {
    CURL *easy;
    struct curl_slist *hdrs;
    char *body;
    bool active, subscribed, error_event;
    long status;
    char stream_id[STREAM_ID_MAX + 1];
    bool bad_stream_id;
    char location[URL_MAX];
    char url[URL_MAX];
    char hostport[CHR_MESOS_MASTER_HOSTPORT_MAX]; /* of url */
    char base[CHR_MESOS_MASTER_HOSTPORT_MAX];     /* the detector's answer it started from */
    struct chr_recordio rio;
    char end_reason[CHR_ERROR_MESSAGE_MAX + 64];
    char errbody[ERRBODY_MAX + 1];
    size_t errlen;
    int64_t started_ms, subscribed_ms, last_bytes_ms;
    double heartbeat_s;
};

/* The call in flight; owned by the client's thread. */
struct inflight {
    CURL *easy; /* kept across calls: its connection stays alive */
    struct curl_slist *hdrs;
    struct call *call;
    char resp[ERRBODY_MAX + 1];
    size_t resp_len;
};

struct chr_mesos_client {
    /* Configuration (copies). */
    char user[CHR_MESOS_SETTING_MAX], name[CHR_MESOS_SETTING_MAX], role[CHR_MESOS_ROLE_MAX];
    char hostname[CHR_MESOS_SETTING_MAX], webui_url[CHR_MESOS_SETTING_MAX];
    char principal[CHR_MESOS_SETTING_MAX], secret[CHR_MESOS_SETTING_MAX];
    struct chr_mesos_framework fw;
    int64_t backoff_max_ms;
    chr_mesos_event_fn *on_event;
    void *ctx;
    struct chr_mesos_master *master;
    CURLM *multi;
    pthread_t thread;

    /* Guarded by mu. */
    pthread_mutex_t mu;
    bool stopping, master_changed, subscribed;
    char framework_id[CHR_MESOS_ID_MAX];
    struct call *head, *tail;
    size_t n_calls;
    struct chr_mesos_client_stats st;
    int64_t last_event_ms;

    /* The thread's own. */
    struct stream s;
    struct inflight in;
    uint64_t rng;
    int fails, hops;
    char redirect_url[URL_MAX];
    char redirect_base[CHR_MESOS_MASTER_HOSTPORT_MAX]; /* the detector's answer behind it */
    int64_t next_attempt_ms;
    struct chr_mesos_offer *offer; /* scratch for one decoded offer */
};

/* ---- Small helpers ------------------------------------------------------------------- */

/* xorshift64*: jitter only, no secrecy needed. */
static uint64_t next_rand(uint64_t *s)
{
    *s ^= *s >> 12;
    *s ^= *s << 25;
    *s ^= *s >> 27;
    return *s * 2685821657736338717ULL;
}

/* The pause before attempt number `fails` (0-based): 250 ms doubling to the
 * maximum, then a uniform draw in its upper half. */
static int64_t backoff_ms(struct chr_mesos_client *c, int fails)
{
    int64_t d = BACKOFF_MIN_MS;
    for (int i = 0; i < fails && d < c->backoff_max_ms; i++)
        d *= 2;
    if (d > c->backoff_max_ms)
        d = c->backoff_max_ms;
    int64_t half = d / 2;
    return d - half + (int64_t)(next_rand(&c->rng) % (uint64_t)(half + 1));
}

static void emit(struct chr_mesos_client *c, const struct chr_mesos_event *ev)
{
    c->on_event(c->ctx, ev);
}

static void emit_reason(struct chr_mesos_client *c, enum chr_mesos_event_type t,
                        const char *reason)
{
    struct chr_mesos_event ev = {.type = t};
    ev.u.reason = reason;
    emit(c, &ev);
}

static void free_call(struct call *k)
{
    if (k != NULL) {
        chr_free(k->body);
        chr_free(k);
    }
}

/* Appends to a bounded buffer, dropping what does not fit. */
static void keep_bytes(char *buf, size_t *len, size_t cap, const char *p, size_t n)
{
    size_t take = cap - 1 - *len < n ? cap - 1 - *len : n;
    memcpy(buf + *len, p, take);
    *len += take;
    buf[*len] = '\0';
}

/* ---- The call queue ------------------------------------------------------------------ */

/* The framework id for a call into buf, or false (not subscribed, or a KILL
 * with no framework id known). */
static bool call_fid(struct chr_mesos_client *c, bool kill, char buf[CHR_MESOS_ID_MAX])
{
    pthread_mutex_lock(&c->mu);
    bool ok = !c->stopping && (c->subscribed || (kill && c->framework_id[0] != '\0'));
    memcpy(buf, c->framework_id, CHR_MESOS_ID_MAX);
    pthread_mutex_unlock(&c->mu);
    return ok;
}

/* Queues an encoded call (takes body).  CHR_EUNAVAIL when it may not be. */
static enum chr_err enqueue(struct chr_mesos_client *c, const char *type, bool kill, char *body,
                            size_t len)
{
    struct call *k = chr_calloc(1, sizeof *k);
    if (k == NULL) {
        chr_free(body);
        return CHR_ENOMEM;
    }
    *k = (struct call){.kill = kill, .body = body, .len = len};
    snprintf(k->type, sizeof k->type, "%s", type);
    pthread_mutex_lock(&c->mu);
    bool ok = !c->stopping && (c->subscribed || kill) && c->n_calls < CHR_MESOS_CALLS_QUEUED_MAX;
    if (ok) {
        if (c->tail)
            c->tail->next = k;
        else
            c->head = k;
        c->tail = k;
        c->n_calls++;
    }
    pthread_mutex_unlock(&c->mu);
    if (!ok) {
        free_call(k);
        return CHR_EUNAVAIL;
    }
    curl_multi_wakeup(c->multi);
    return CHR_OK;
}

static struct call *dequeue(struct chr_mesos_client *c)
{
    pthread_mutex_lock(&c->mu);
    struct call *k = c->head;
    if (k != NULL) {
        c->head = k->next;
        if (c->head == NULL)
            c->tail = NULL;
        c->n_calls--;
        k->next = NULL;
    }
    pthread_mutex_unlock(&c->mu);
    return k;
}

/* The subscription ended: drops queued calls but KILLs (mu held). */
static void purge_locked(struct chr_mesos_client *c)
{
    struct call **pp = &c->head;
    c->tail = NULL;
    while (*pp != NULL) {
        struct call *k = *pp;
        if (k->kill) {
            c->tail = k;
            pp = &k->next;
            continue;
        }
        *pp = k->next;
        c->n_calls--;
        c->st.calls_dropped++;
        free_call(k);
    }
}

/* Shared tail of the call functions: the encoder's result, then the queue. */
static enum chr_err queued(struct chr_mesos_client *c, const char *type, bool kill,
                           enum chr_err e, char *body, size_t len)
{
    return e != CHR_OK ? e : enqueue(c, type, kill, body, len);
}

enum chr_err chr_mesos_accept(struct chr_mesos_client *c, const char *offer_id,
                              json_t *const *task_infos, size_t n, double refuse_s,
                              struct chr_error *err)
{
    char fid[CHR_MESOS_ID_MAX], *body = NULL;
    size_t len = 0;
    if (!call_fid(c, false, fid))
        return CHR_EUNAVAIL;
    enum chr_err e =
        chr_mesos_encode_accept(fid, offer_id, task_infos, n, refuse_s, &body, &len, err);
    return queued(c, "ACCEPT", false, e, body, len);
}

enum chr_err chr_mesos_decline(struct chr_mesos_client *c, const char *const *offer_ids,
                               size_t n, double refuse_s, struct chr_error *err)
{
    char fid[CHR_MESOS_ID_MAX], *body = NULL;
    size_t len = 0;
    if (!call_fid(c, false, fid))
        return CHR_EUNAVAIL;
    enum chr_err e = chr_mesos_encode_decline(fid, offer_ids, n, refuse_s, &body, &len, err);
    return queued(c, "DECLINE", false, e, body, len);
}

static enum chr_err revive_or_suppress(struct chr_mesos_client *c, bool revive)
{
    char fid[CHR_MESOS_ID_MAX], *body = NULL;
    size_t len = 0;
    if (!call_fid(c, false, fid))
        return CHR_EUNAVAIL;
    enum chr_err e = chr_mesos_encode_revive(fid, c->role, revive, &body, &len, NULL);
    return queued(c, revive ? "REVIVE" : "SUPPRESS", false, e, body, len);
}

enum chr_err chr_mesos_suppress(struct chr_mesos_client *c)
{
    return revive_or_suppress(c, false);
}

enum chr_err chr_mesos_revive(struct chr_mesos_client *c)
{
    return revive_or_suppress(c, true);
}

enum chr_err chr_mesos_kill(struct chr_mesos_client *c, const char *task_id,
                            const char *agent_id, int64_t grace_ms, struct chr_error *err)
{
    char fid[CHR_MESOS_ID_MAX], *body = NULL;
    size_t len = 0;
    if (!call_fid(c, true, fid))
        return CHR_EUNAVAIL;
    enum chr_err e = chr_mesos_encode_kill(fid, task_id, agent_id, grace_ms, &body, &len, err);
    return queued(c, "KILL", true, e, body, len);
}

enum chr_err chr_mesos_acknowledge(struct chr_mesos_client *c, const char *agent_id,
                                   const char *task_id, const uint8_t uuid[16],
                                   struct chr_error *err)
{
    char fid[CHR_MESOS_ID_MAX], *body = NULL;
    size_t len = 0;
    if (!call_fid(c, false, fid))
        return CHR_EUNAVAIL;
    enum chr_err e = chr_mesos_encode_acknowledge(fid, agent_id, task_id, uuid, &body, &len, err);
    return queued(c, "ACKNOWLEDGE", false, e, body, len);
}

enum chr_err chr_mesos_reconcile(struct chr_mesos_client *c,
                                 const struct chr_mesos_task_ref *tasks, size_t n,
                                 struct chr_error *err)
{
    char fid[CHR_MESOS_ID_MAX], *body = NULL;
    size_t len = 0;
    if (!call_fid(c, false, fid))
        return CHR_EUNAVAIL;
    enum chr_err e = chr_mesos_encode_reconcile(fid, tasks, n, &body, &len, err);
    return queued(c, "RECONCILE", false, e, body, len);
}

/* ---- Requests ------------------------------------------------------------------------ */

/* Options every request shares: POST of body to url, JSON both ways, our
 * timeouts, basic auth when a secret is set. */
static bool common_opts(struct chr_mesos_client *c, CURL *e, const char *url,
                        struct curl_slist *hdrs, const char *body, size_t len)
{
    bool ok = curl_easy_setopt(e, CURLOPT_URL, url) == CURLE_OK;
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http");
    curl_easy_setopt(e, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_1_1);
    curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, (long)CONNECT_TIMEOUT_MS);
    curl_easy_setopt(e, CURLOPT_TCP_KEEPALIVE, 1L);
    curl_easy_setopt(e, CURLOPT_HTTPHEADER, hdrs);
    curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
    curl_easy_setopt(e, CURLOPT_POSTFIELDS, body);
    if (c->secret[0] != '\0') {
        curl_easy_setopt(e, CURLOPT_HTTPAUTH, (long)CURLAUTH_BASIC);
        curl_easy_setopt(e, CURLOPT_USERNAME, c->principal);
        curl_easy_setopt(e, CURLOPT_PASSWORD, c->secret);
    }
    return ok;
}

/* Content-Type and Accept exactly as the master compares them, no
 * "Expect: 100-continue", and the stream id when given. */
static struct curl_slist *make_headers(const char *stream_id)
{
    char sid[STREAM_ID_MAX + 32];
    const char *lines[] = {"Content-Type: application/json", "Accept: application/json",
                           "Expect:", sid};
    size_t n = 3;
    if (stream_id != NULL) {
        snprintf(sid, sizeof sid, "Mesos-Stream-Id: %s", stream_id);
        n = 4;
    }
    struct curl_slist *h = NULL;
    for (size_t i = 0; i < n; i++) {
        struct curl_slist *more = curl_slist_append(h, lines[i]);
        if (more == NULL) {
            curl_slist_free_all(h);
            return NULL;
        }
        h = more;
    }
    return h;
}

/* "host:port" of an http:// URL into out; false when it is not one. */
static bool url_hostport(const char *url, char *out, size_t cap)
{
    if (strncmp(url, "http://", 7) != 0)
        return false;
    const char *h = url + 7, *slash = strchr(h, '/');
    size_t n = slash ? (size_t)(slash - h) : strlen(h);
    if (n == 0 || n >= cap || !chr_hostport_valid(h, n))
        return false;
    memcpy(out, h, n);
    out[n] = '\0';
    return true;
}

/* A header value: after the colon, without spaces and the line end. */
static size_t header_value(const char *line, size_t n, size_t name_len, const char **v)
{
    const char *p = line + name_len, *end = line + n;
    while (p < end && (*p == ' ' || *p == '\t'))
        p++;
    while (end > p && (end[-1] == '\r' || end[-1] == '\n' || end[-1] == ' '))
        end--;
    *v = p;
    return (size_t)(end - p);
}

/* ---- The stream ---------------------------------------------------------------------- */

static size_t on_stream_header(char *line, size_t size, size_t nitems, void *arg)
{
    struct chr_mesos_client *c = arg;
    struct stream *s = &c->s;
    size_t n = size * nitems;
    const char *v;
    size_t vn;
    s->last_bytes_ms = chr_clock_mono_ms();
    if (n >= 5 && strncmp(line, "HTTP/", 5) == 0) { /* a new response (after a 1xx too) */
        const char *sp = memchr(line, ' ', n);
        s->status = sp ? strtol(sp + 1, NULL, 10) : 0;
        s->stream_id[0] = s->location[0] = '\0';
        s->bad_stream_id = false;
    } else if (n > 16 && strncasecmp(line, "Mesos-Stream-Id:", 16) == 0) {
        vn = header_value(line, n, 16, &v);
        s->bad_stream_id = vn == 0 || vn > STREAM_ID_MAX;
        if (!s->bad_stream_id) {
            memcpy(s->stream_id, v, vn);
            s->stream_id[vn] = '\0';
        }
    } else if (n > 9 && strncasecmp(line, "Location:", 9) == 0) {
        vn = header_value(line, n, 9, &v);
        snprintf(s->location, sizeof s->location, "%.*s", (int)(vn < URL_MAX ? vn : 0), v);
    } else if ((n == 2 && line[0] == '\r') || (n == 1 && line[0] == '\n')) {
        if (s->status == 200 && (s->stream_id[0] == '\0' || s->bad_stream_id)) {
            snprintf(s->end_reason, sizeof s->end_reason,
                     "protocol error: 200 without a usable Mesos-Stream-Id header");
            return 0; /* aborts the transfer */
        }
    }
    return n;
}

static bool handle_record(struct chr_mesos_client *c, const char *rec, size_t len);

static size_t on_stream_data(char *p, size_t size, size_t nmemb, void *arg)
{
    struct chr_mesos_client *c = arg;
    struct stream *s = &c->s;
    size_t n = size * nmemb, left = n;
    s->last_bytes_ms = chr_clock_mono_ms();
    if (s->status != 200) {
        keep_bytes(s->errbody, &s->errlen, sizeof s->errbody, p, n);
        return n;
    }
    const char *data = p, *rec;
    size_t len;
    struct chr_error err;
    enum chr_err e;
    while ((e = chr_recordio_next(&s->rio, &data, &left, &rec, &len, &err)) == CHR_OK)
        if (!handle_record(c, rec, len))
            return 0;
    if (e == CHR_ENONE)
        return n;
    snprintf(s->end_reason, sizeof s->end_reason, "bad event stream: %s", err.message);
    return 0;
}

/* The first event was SUBSCRIBED: the subscription is live. */
static void on_subscribed(struct chr_mesos_client *c, const struct chr_mesos_event_in *in)
{
    struct stream *s = &c->s;
    s->subscribed = true;
    s->subscribed_ms = chr_clock_mono_ms();
    s->heartbeat_s = in->heartbeat_s > 0 ? in->heartbeat_s : DEFAULT_HEARTBEAT_S;
    pthread_mutex_lock(&c->mu);
    c->subscribed = true;
    memcpy(c->framework_id, in->framework_id, sizeof c->framework_id);
    c->st.subscriptions++;
    snprintf(c->st.master, sizeof c->st.master, "%s", s->hostport);
    pthread_mutex_unlock(&c->mu);
    chr_log("mesos: subscribed to %s as framework %s (heartbeat %.1f s)", s->hostport,
            in->framework_id, s->heartbeat_s);
    struct chr_mesos_event ev = {.type = CHR_MESOS_EV_SUBSCRIBED};
    ev.u.subscribed.framework_id = in->framework_id;
    ev.u.subscribed.heartbeat_s = s->heartbeat_s;
    ev.u.subscribed.master = s->hostport;
    emit(c, &ev);
}

/* Declines an offer we could not read, so its resources go back at once. */
static void decline_bad(struct chr_mesos_client *c, const char *id)
{
    char fid[CHR_MESOS_ID_MAX], *body = NULL;
    size_t len = 0;
    if (id[0] == '\0' || !call_fid(c, false, fid))
        return;
    if (chr_mesos_encode_decline(fid, &id, 1, BAD_OFFER_REFUSE_S, &body, &len, NULL) == CHR_OK)
        enqueue(c, "DECLINE", false, body, len);
}

static void deliver_offers(struct chr_mesos_client *c, const struct chr_mesos_event_in *in)
{
    for (size_t i = 0; i < in->n_offers; i++) {
        struct chr_error err;
        enum chr_err e = chr_mesos_event_offer(in, i, c->offer, &err);
        if (e == CHR_OK) {
            struct chr_mesos_event ev = {.type = CHR_MESOS_EV_OFFER};
            ev.u.offer = c->offer;
            emit(c, &ev);
        } else {
            chr_log("mesos: offer '%s' refused (%s); declining it", c->offer->id, err.message);
            decline_bad(c, c->offer->id);
        }
        chr_mesos_offer_clear(c->offer);
    }
}

/* An event after SUBSCRIBED; false ends the stream (ERROR). */
static bool deliver(struct chr_mesos_client *c, const struct chr_mesos_event_in *in)
{
    struct chr_mesos_event ev = {0};
    switch (in->type) {
    case CHR_MESOS_IN_OFFERS:
        deliver_offers(c, in);
        return true;
    case CHR_MESOS_IN_RESCIND:
        ev.type = CHR_MESOS_EV_RESCIND;
        ev.u.offer_id = in->offer_id;
        break;
    case CHR_MESOS_IN_UPDATE:
        ev.type = CHR_MESOS_EV_UPDATE;
        ev.u.update = &in->update;
        break;
    case CHR_MESOS_IN_FAILURE:
        ev.type = CHR_MESOS_EV_FAILURE;
        ev.u.agent_id = in->agent_id;
        break;
    case CHR_MESOS_IN_ERROR:
        c->s.error_event = true;
        snprintf(c->s.end_reason, sizeof c->s.end_reason, "the master sent ERROR: %.250s",
                 in->message);
        emit_reason(c, CHR_MESOS_EV_ERROR, in->message);
        return false;
    case CHR_MESOS_IN_HEARTBEAT:
        pthread_mutex_lock(&c->mu);
        c->st.heartbeats++;
        pthread_mutex_unlock(&c->mu);
        return true;
    case CHR_MESOS_IN_IGNORED:
        chr_log("mesos: ignored an event of type %s", in->ignored);
        return true;
    case CHR_MESOS_IN_SUBSCRIBED:
        chr_log("mesos: a second SUBSCRIBED on the same stream, ignored");
        return true;
    }
    emit(c, &ev);
    return true;
}

/* The first event: SUBSCRIBED, or the subscription failed. */
static bool first_event(struct chr_mesos_client *c, enum chr_err e,
                        const struct chr_mesos_event_in *in, const struct chr_error *err)
{
    struct stream *s = &c->s;
    if (e != CHR_OK) {
        snprintf(s->end_reason, sizeof s->end_reason, "bad first event: %s", err->message);
        return false;
    }
    if (in->type == CHR_MESOS_IN_ERROR) {
        s->error_event = true;
        snprintf(s->end_reason, sizeof s->end_reason, "the master refused the subscription: %.250s",
                 in->message);
        emit_reason(c, CHR_MESOS_EV_ERROR, in->message);
        return false;
    }
    if (in->type != CHR_MESOS_IN_SUBSCRIBED) {
        snprintf(s->end_reason, sizeof s->end_reason,
                 "protocol error: the first event is not SUBSCRIBED");
        return false;
    }
    on_subscribed(c, in);
    return true;
}

static bool handle_record(struct chr_mesos_client *c, const char *rec, size_t len)
{
    struct chr_mesos_event_in in;
    struct chr_error err;
    enum chr_err e = chr_mesos_event_decode(rec, len, &in, &err);
    pthread_mutex_lock(&c->mu);
    c->last_event_ms = chr_clock_mono_ms();
    c->st.events_bad += e != CHR_OK;
    pthread_mutex_unlock(&c->mu);
    bool go_on;
    if (!c->s.subscribed) {
        go_on = first_event(c, e, &in, &err);
    } else if (e != CHR_OK) {
        chr_log("mesos: an event was refused and skipped: %s", err.message);
        go_on = true; /* dropping the stream would only bring it back */
    } else {
        go_on = deliver(c, &in);
    }
    if (e == CHR_OK)
        chr_mesos_event_free(&in);
    return go_on;
}

/* Frees the stream's transfer (no callback). */
static void close_stream(struct chr_mesos_client *c)
{
    struct stream *s = &c->s;
    if (s->easy != NULL) {
        curl_multi_remove_handle(c->multi, s->easy); /* closes its connection */
        curl_easy_cleanup(s->easy);
    }
    curl_slist_free_all(s->hdrs);
    chr_free(s->body);
    chr_recordio_reset(&s->rio);
    struct chr_recordio rio = s->rio;
    memset(s, 0, sizeof *s);
    s->rio = rio;
}

/* Where to subscribe: the redirect's URL, else the detector's master. */
static bool pick_target(struct chr_mesos_client *c)
{
    struct stream *s = &c->s;
    if (c->hops > 0) {
        snprintf(s->url, sizeof s->url, "%s", c->redirect_url);
        snprintf(s->base, sizeof s->base, "%s", c->redirect_base);
        return url_hostport(s->url, s->hostport, sizeof s->hostport);
    }
    if (!chr_mesos_master_current(c->master, s->base, sizeof s->base))
        return false;
    snprintf(s->hostport, sizeof s->hostport, "%s", s->base);
    snprintf(s->url, sizeof s->url, "http://%s/api/v1/scheduler", s->base);
    return true;
}

static void start_subscribe(struct chr_mesos_client *c, int64_t now)
{
    struct stream *s = &c->s;
    char fid[CHR_MESOS_ID_MAX];
    struct chr_error err;
    size_t len = 0;
    pthread_mutex_lock(&c->mu);
    memcpy(fid, c->framework_id, sizeof fid);
    c->st.subscribe_attempts++;
    pthread_mutex_unlock(&c->mu);
    s->started_ms = s->last_bytes_ms = now;
    s->active = true;
    if (!pick_target(c)) {
        snprintf(s->end_reason, sizeof s->end_reason, "no leading master is known");
        return; /* the loop ends it as a failed attempt */
    }
    if (chr_mesos_encode_subscribe(&c->fw, fid, &s->body, &len, &err) != CHR_OK ||
        (s->hdrs = make_headers(NULL)) == NULL || (s->easy = curl_easy_init()) == NULL ||
        !common_opts(c, s->easy, s->url, s->hdrs, s->body, len)) {
        snprintf(s->end_reason, sizeof s->end_reason, "cannot build SUBSCRIBE: %s",
                 s->body ? "out of memory" : err.message);
        return;
    }
    curl_easy_setopt(s->easy, CURLOPT_FORBID_REUSE, 1L); /* a stream connection only */
    curl_easy_setopt(s->easy, CURLOPT_FRESH_CONNECT, 1L);
    curl_easy_setopt(s->easy, CURLOPT_HEADERFUNCTION, on_stream_header);
    curl_easy_setopt(s->easy, CURLOPT_HEADERDATA, c);
    curl_easy_setopt(s->easy, CURLOPT_WRITEFUNCTION, on_stream_data);
    curl_easy_setopt(s->easy, CURLOPT_WRITEDATA, c);
    if (curl_multi_add_handle(c->multi, s->easy) != CURLM_OK) {
        curl_easy_cleanup(s->easy);
        s->easy = NULL;
        snprintf(s->end_reason, sizeof s->end_reason, "cannot start a transfer");
    }
}

/* A 307: the next attempt goes to the Location (protocol-relative, so
 * "http:" is added).  False when it cannot be followed. */
static bool follow_redirect(struct chr_mesos_client *c)
{
    struct stream *s = &c->s;
    char url[URL_MAX], hp[CHR_MESOS_MASTER_HOSTPORT_MAX];
    if (c->hops >= REDIRECTS_MAX || s->location[0] == '\0')
        return false;
    int w = strncmp(s->location, "//", 2) == 0
                ? snprintf(url, sizeof url, "http:%s", s->location)
                : snprintf(url, sizeof url, "%s", s->location);
    if (w < 0 || (size_t)w >= sizeof url || !url_hostport(url, hp, sizeof hp))
        return false;
    for (const char *p = url; *p; p++)
        if ((unsigned char)*p <= 0x20 || *p == 0x7f)
            return false;
    c->hops++;
    memcpy(c->redirect_url, url, sizeof url);
    memcpy(c->redirect_base, s->base, sizeof s->base);
    pthread_mutex_lock(&c->mu);
    c->st.redirects++;
    pthread_mutex_unlock(&c->mu);
    chr_log("mesos: %s is not the leader; redirected to %s", s->hostport, hp);
    return true;
}

/* Why a transfer ended, for the log and DISCONNECTED. */
static void end_reason(struct stream *s, CURLcode rc, char *buf, size_t cap)
{
    if (s->end_reason[0] != '\0')
        snprintf(buf, cap, "%s", s->end_reason);
    else if (rc != CURLE_OK)
        snprintf(buf, cap, "%s", curl_easy_strerror(rc));
    else if (s->status == 200)
        snprintf(buf, cap, "the master closed the stream");
    else
        snprintf(buf, cap, "HTTP %ld: %.250s", s->status, s->errbody);
}

/* The stream ended (rc from curl, or ours): tells the owner when a
 * subscription was live, and plans the next attempt (now after a master
 * change or a redirect, else after a backoff). */
static void stream_done(struct chr_mesos_client *c, CURLcode rc, bool now_again)
{
    struct stream *s = &c->s;
    int64_t now = chr_clock_mono_ms();
    bool was = s->subscribed, error_event = s->error_event;
    char reason[CHR_ERROR_MESSAGE_MAX + 128];
    end_reason(s, rc, reason, sizeof reason);
    if (!was && s->status == 307 && follow_redirect(c)) {
        close_stream(c);
        c->next_attempt_ms = now;
        return;
    }
    if (was && now - s->subscribed_ms >= STABLE_MS)
        c->fails = 0;
    int64_t delay = now_again ? 0 : backoff_ms(c, c->fails);
    if (!now_again && c->fails < 30)
        c->fails++;
    c->hops = 0;
    c->next_attempt_ms = now + delay;
    chr_log("mesos: %s %s: %s; subscribing again in %lld ms", was ? "subscription to" : "SUBSCRIBE to",
            s->hostport[0] ? s->hostport : "(no master)", reason, (long long)delay);
    close_stream(c);
    if (was) {
        pthread_mutex_lock(&c->mu);
        c->subscribed = false;
        purge_locked(c);
        pthread_mutex_unlock(&c->mu);
    }
    if (was || error_event)
        emit_reason(c, CHR_MESOS_EV_DISCONNECTED, reason);
}

/* Ends the stream for a reason of ours. */
static void drop_stream(struct chr_mesos_client *c, const char *reason, bool now_again)
{
    if (!c->s.active)
        return;
    snprintf(c->s.end_reason, sizeof c->s.end_reason, "%s", reason);
    stream_done(c, CURLE_OK, now_again);
}

/* No byte for too long: 5 heartbeats once subscribed, FIRST_EVENT_MS before. */
static int64_t watchdog_at(const struct stream *s)
{
    int64_t limit = FIRST_EVENT_MS;
    if (s->subscribed) {
        double ms = s->heartbeat_s * 1000.0 * HEARTBEATS_MISSED;
        limit = ms < WATCHDOG_MIN_MS ? WATCHDOG_MIN_MS : ms > 3600000.0 ? 3600000 : (int64_t)ms;
    }
    return s->last_bytes_ms + limit;
}

/* The detector named another leader: leave this one now. */
static void check_master(struct chr_mesos_client *c)
{
    char cur[CHR_MESOS_MASTER_HOSTPORT_MAX];
    if (!chr_mesos_master_current(c->master, cur, sizeof cur))
        return; /* unknown: keep what works */
    if (c->s.active && c->s.base[0] != '\0' && strcmp(cur, c->s.base) != 0) {
        char why[CHR_MESOS_MASTER_HOSTPORT_MAX + 40];
        snprintf(why, sizeof why, "the leading master is now %s", cur);
        drop_stream(c, why, true);
    } else if (!c->s.active) {
        c->next_attempt_ms = chr_clock_mono_ms();
    }
}

/* ---- Calls on the wire --------------------------------------------------------------- */

static size_t on_call_data(char *p, size_t size, size_t nmemb, void *arg)
{
    struct inflight *in = arg;
    keep_bytes(in->resp, &in->resp_len, sizeof in->resp, p, size * nmemb);
    return size * nmemb;
}

/* Posts the next queued call when subscribed and none is in flight. */
static void maybe_start_call(struct chr_mesos_client *c)
{
    struct inflight *in = &c->in;
    if (in->call != NULL || !c->s.subscribed || c->s.stream_id[0] == '\0')
        return;
    struct call *k = dequeue(c);
    if (k == NULL)
        return;
    if (in->easy == NULL)
        in->easy = curl_easy_init();
    else
        curl_easy_reset(in->easy); /* the connection stays in the multi's cache */
    curl_slist_free_all(in->hdrs);
    in->hdrs = make_headers(c->s.stream_id);
    in->resp_len = 0;
    in->resp[0] = '\0';
    in->call = k;
    if (in->easy == NULL || in->hdrs == NULL ||
        !common_opts(c, in->easy, c->s.url, in->hdrs, k->body, k->len)) {
        chr_log("mesos: %s call not sent: out of memory", k->type);
        goto failed;
    }
    curl_easy_setopt(in->easy, CURLOPT_TIMEOUT_MS, (long)CALL_TIMEOUT_MS);
    curl_easy_setopt(in->easy, CURLOPT_WRITEFUNCTION, on_call_data);
    curl_easy_setopt(in->easy, CURLOPT_WRITEDATA, in);
    if (curl_multi_add_handle(c->multi, in->easy) == CURLM_OK)
        return;
    chr_log("mesos: %s call not sent: cannot start a transfer", k->type);
failed:
    pthread_mutex_lock(&c->mu);
    c->st.calls_failed++;
    pthread_mutex_unlock(&c->mu);
    free_call(k);
    in->call = NULL;
}

/* A call's answer: 202 is success; 403 means the subscription is gone. */
static void call_done(struct chr_mesos_client *c, CURLcode rc)
{
    struct inflight *in = &c->in;
    long status = 0;
    curl_easy_getinfo(in->easy, CURLINFO_RESPONSE_CODE, &status);
    curl_multi_remove_handle(c->multi, in->easy);
    bool ok = rc == CURLE_OK && status == 202;
    pthread_mutex_lock(&c->mu);
    if (ok)
        c->st.calls_sent++;
    else
        c->st.calls_failed++;
    pthread_mutex_unlock(&c->mu);
    if (!ok && rc != CURLE_OK)
        chr_log("mesos: %s call failed: %s", in->call->type, curl_easy_strerror(rc));
    else if (!ok)
        chr_log("mesos: %s call got HTTP %ld: %s", in->call->type, status, in->resp);
    /* An offer an ACCEPT or DECLINE did not reach stays outstanding at the
     * master, which offers its resources to no one until the framework
     * goes away: a new subscription makes the master take back every offer
     * it holds for us (a launch the master did get is found by the
     * reconciliation that follows). */
    bool offers = !ok && (strcmp(in->call->type, "ACCEPT") == 0 ||
                          strcmp(in->call->type, "DECLINE") == 0);
    free_call(in->call);
    in->call = NULL;
    if (rc == CURLE_OK && status == 403)
        drop_stream(c, "a call was refused with 403: the subscription is lost", false);
    else if (offers)
        drop_stream(c, "an ACCEPT or DECLINE failed: subscribing again frees its offer", false);
}

/* ---- The thread ------------------------------------------------------------------------ */

static void collect(struct chr_mesos_client *c)
{
    CURLMsg *msg;
    int left;
    while ((msg = curl_multi_info_read(c->multi, &left)) != NULL) {
        if (msg->msg != CURLMSG_DONE)
            continue;
        CURL *e = msg->easy_handle;
        CURLcode rc = msg->data.result;
        if (e == c->s.easy)
            stream_done(c, rc, false);
        else if (e == c->in.easy && c->in.call != NULL)
            call_done(c, rc);
    }
}

/* One turn: what is due (attempt, watchdog, master change), then the
 * transfers.  Returns how long the poll may wait. */
static int turn(struct chr_mesos_client *c, bool master_changed)
{
    int64_t now = chr_clock_mono_ms();
    if (master_changed)
        check_master(c);
    if (c->s.active && c->s.easy == NULL) /* the attempt failed before any I/O */
        stream_done(c, CURLE_OK, false);
    if (c->s.active && now >= watchdog_at(&c->s)) {
        char why[96];
        snprintf(why, sizeof why, "no bytes for %lld ms",
                 (long long)(now - c->s.last_bytes_ms));
        drop_stream(c, why, false);
    }
    if (!c->s.active && now >= c->next_attempt_ms)
        start_subscribe(c, now);
    maybe_start_call(c);
    int running;
    curl_multi_perform(c->multi, &running);
    collect(c);
    maybe_start_call(c);
    int64_t wake = c->s.active ? watchdog_at(&c->s) : c->next_attempt_ms;
    if (c->s.active && c->s.easy == NULL)
        wake = now;
    int64_t wait = wake - chr_clock_mono_ms();
    return wait < 0 ? 0 : wait > POLL_MAX_MS ? POLL_MAX_MS : (int)wait;
}

static void *run(void *arg)
{
    struct chr_mesos_client *c = arg;
    for (;;) {
        pthread_mutex_lock(&c->mu);
        bool stop = c->stopping, changed = c->master_changed;
        c->master_changed = false;
        pthread_mutex_unlock(&c->mu);
        if (stop)
            break;
        int wait = turn(c, changed);
        curl_multi_poll(c->multi, NULL, 0, wait, NULL);
    }
    close_stream(c); /* no callback: stop does not report */
    if (c->in.easy != NULL) {
        curl_multi_remove_handle(c->multi, c->in.easy);
        curl_easy_cleanup(c->in.easy);
    }
    curl_slist_free_all(c->in.hdrs);
    free_call(c->in.call);
    return NULL;
}

/* ---- Lifecycle ------------------------------------------------------------------------- */

/* The detector's callback (a ZooKeeper thread): only a flag and a wakeup. */
static void on_master(void *ctx, const char *hostport)
{
    (void)hostport;
    struct chr_mesos_client *c = ctx;
    pthread_mutex_lock(&c->mu);
    c->master_changed = true;
    pthread_mutex_unlock(&c->mu);
    curl_multi_wakeup(c->multi);
}

/* Copies a setting (NULL: "") into a fixed buffer; checked by the encoder. */
static const char *copy_setting(char *dst, size_t cap, const char *src)
{
    snprintf(dst, cap, "%s", src ? src : "");
    return dst;
}

static enum chr_err copy_config(struct chr_mesos_client *c,
                                const struct chr_mesos_client_config *cfg, struct chr_error *err)
{
    const struct chr_mesos_framework *f = &cfg->fw;
    /* What SUBSCRIBE will say, checked on the originals (a copy never cuts). */
    char *body = NULL;
    enum chr_err e = chr_mesos_encode_subscribe(f, cfg->framework_id, &body, NULL, err);
    chr_free(body);
    if (e != CHR_OK)
        return e;
    if (f->role != NULL && strnlen(f->role, CHR_MESOS_ROLE_MAX) >= CHR_MESOS_ROLE_MAX)
        return chr_error_set(err, CHR_EINVAL, "role", "longer than %d bytes",
                             CHR_MESOS_ROLE_MAX - 1);
    if (cfg->backoff_max_ms < 0 ||
        (cfg->backoff_max_ms > 0 && cfg->backoff_max_ms < BACKOFF_MIN_MS))
        return chr_error_set(err, CHR_EINVAL, "backoff_max", "must be 0 or at least %d ms",
                             BACKOFF_MIN_MS);
    if (cfg->on_event == NULL)
        return chr_error_set(err, CHR_EINVAL, "on_event", "missing");
    c->fw = (struct chr_mesos_framework){
        .user = copy_setting(c->user, sizeof c->user, f->user),
        .name = copy_setting(c->name, sizeof c->name, f->name),
        .role = copy_setting(c->role, sizeof c->role, f->role),
        .hostname = copy_setting(c->hostname, sizeof c->hostname, f->hostname),
        .webui_url = copy_setting(c->webui_url, sizeof c->webui_url, f->webui_url),
        .principal = copy_setting(c->principal, sizeof c->principal, f->principal),
        .secret = copy_setting(c->secret, sizeof c->secret, f->secret),
        .failover_timeout_s = f->failover_timeout_s,
    };
    copy_setting(c->framework_id, sizeof c->framework_id, cfg->framework_id);
    c->backoff_max_ms = cfg->backoff_max_ms ? cfg->backoff_max_ms : BACKOFF_MAX_DEFAULT_MS;
    c->on_event = cfg->on_event;
    c->ctx = cfg->ctx;
    return CHR_OK;
}

/* Starts the detector on the URL ("http://" and a trailing '/' dropped:
 * master.h takes host:port or zk://). */
static enum chr_err start_master(struct chr_mesos_client *c, const char *url,
                                 struct chr_error *err)
{
    char plain[CHR_MESOS_MASTER_URL_MAX + 1];
    if (url == NULL)
        return chr_error_set(err, CHR_EINVAL, "mesos_master", "missing");
    if (strncmp(url, "http://", 7) == 0) {
        size_t n = strnlen(url + 7, sizeof plain);
        if (n >= sizeof plain)
            return chr_error_set(err, CHR_EINVAL, "mesos_master", "longer than %d bytes",
                                 CHR_MESOS_MASTER_URL_MAX);
        memcpy(plain, url + 7, n + 1);
        while (n > 0 && plain[n - 1] == '/')
            plain[--n] = '\0';
        url = plain;
    }
    struct chr_mesos_master_config mc = {.url = url, .on_change = on_master, .ctx = c};
    return chr_mesos_master_start(&mc, &c->master, err);
}

#ifdef CHR_TESTING
/* Test builds: CHRONOS_TEST_CLIENT_START_DELAY_MS holds the return of
 * chr_mesos_client_start, so that the stream's first events come before
 * it (the order a fast master gives). */
static void test_start_delay(void)
{
    const char *ms = getenv("CHRONOS_TEST_CLIENT_START_DELAY_MS");
    long v = ms != NULL ? strtol(ms, NULL, 10) : 0;
    if (v > 0 && v <= 10000)
        nanosleep(&(struct timespec){v / 1000, (v % 1000) * 1000000L}, NULL);
}
#else
static void test_start_delay(void)
{
}
#endif

enum chr_err chr_mesos_client_start(const struct chr_mesos_client_config *cfg,
                                    struct chr_mesos_client **out, struct chr_error *err)
{
    struct chr_mesos_client *c = chr_calloc(1, sizeof *c);
    if (c == NULL)
        return chr_error_set(err, CHR_ENOMEM, "", "out of memory");
    enum chr_err e = copy_config(c, cfg, err);
    if (e == CHR_OK && (c->offer = chr_malloc(sizeof *c->offer)) == NULL)
        e = chr_error_set(err, CHR_ENOMEM, "", "out of memory");
    if (e != CHR_OK) {
        chr_free(c);
        return e;
    }
    memset(c->offer, 0, sizeof *c->offer);
    c->rng = cfg->jitter_seed ? cfg->jitter_seed
                              : (uint64_t)chr_clock_mono_ns() ^ (uint64_t)(uintptr_t)c;
    c->rng |= 1; /* xorshift never leaves 0 */
    c->last_event_ms = -1;
    chr_recordio_init(&c->s.rio, CHR_MESOS_RECORD_MAX);
    pthread_mutex_init(&c->mu, NULL);
    bool curl = curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK;
    if (!curl || (c->multi = curl_multi_init()) == NULL)
        e = chr_error_set(err, CHR_EIO, "mesos", "cannot initialise libcurl");
    if (e == CHR_OK)
        e = start_master(c, cfg->master, err);
    /* The handle first: the stream thread's first event may be SUBSCRIBED,
     * whose handler calls back in (suppress, reconcile) through it. */
    if (e == CHR_OK)
        *out = c;
    if (e == CHR_OK && pthread_create(&c->thread, NULL, run, c) != 0) {
        *out = NULL;
        e = chr_error_set(err, CHR_EIO, "mesos", "cannot start a thread");
    }
    if (e == CHR_OK) {
        test_start_delay();
        return CHR_OK;
    }
    chr_mesos_master_stop(c->master);
    if (c->multi != NULL)
        curl_multi_cleanup(c->multi);
    if (curl)
        curl_global_cleanup();
    pthread_mutex_destroy(&c->mu);
    chr_free(c->offer);
    chr_free(c);
    return e;
}

void chr_mesos_client_stop(struct chr_mesos_client *c)
{
    if (c == NULL)
        return;
    chr_mesos_master_stop(c->master); /* no on_master after this */
    pthread_mutex_lock(&c->mu);
    c->stopping = true;
    pthread_mutex_unlock(&c->mu);
    curl_multi_wakeup(c->multi);
    pthread_join(c->thread, NULL);
    curl_multi_cleanup(c->multi);
    curl_global_cleanup();
    while (c->head != NULL) {
        struct call *k = c->head;
        c->head = k->next;
        free_call(k);
    }
    chr_recordio_reset(&c->s.rio);
    chr_mesos_offer_clear(c->offer);
    chr_free(c->offer);
    pthread_mutex_destroy(&c->mu);
    chr_free(c);
}

void chr_mesos_client_stats(struct chr_mesos_client *c, struct chr_mesos_client_stats *out)
{
    pthread_mutex_lock(&c->mu);
    *out = c->st;
    out->subscribed = c->subscribed;
    memcpy(out->framework_id, c->framework_id, sizeof out->framework_id);
    out->last_event_age_ms = c->last_event_ms < 0 ? -1 : chr_clock_mono_ms() - c->last_event_ms;
    pthread_mutex_unlock(&c->mu);
}
