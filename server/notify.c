/*
 * notify.c - the notification sender (notify.h): the outbox's entries in
 * memory, a thread per sink, libcurl for SMTP and HTTP.
 *
 * Each entry holds its record and, per sink, the attempts made, when the
 * next may start and whether a thread has it in flight.  A sink's thread
 * takes the oldest entry due for it, sends without the lock, and records
 * the outcome: on success the sink's bit is cleared and the node rewritten
 * with the sinks left (deleted with the last), on failure the next attempt
 * is put off by the backoff.  Store writes are asynchronous; one that fails
 * only means the notification may be sent again after a restart (at least
 * once).  Nothing here runs on the scheduler thread but chr_notify_add and
 * chr_notify_sinks, which take the lock briefly.
 */
#define _GNU_SOURCE
#include "server/notify.h"

#include <curl/curl.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/alloc.h"
#include "common/clock.h"
#include "common/log.h"
#include "common/sb.h"
#include "common/sha256.h"

struct entry {
    struct entry *next;
    struct chr_notify_rec rec;
    uint32_t attempts[CHR_SINKS];
    int64_t next_ms[CHR_SINKS]; /* monotonic ms */
    uint32_t inflight;          /* sink bits being sent now */
    bool dropped;               /* out of the list; freed when nothing is in flight */
};

/* A `chronos notify test` in flight: its thread, joined by the next test
 * that takes the slot or by chr_notify_stop. */
struct test_slot {
    pthread_t thread;
    bool used;  /* a thread was started in it */
    bool done;  /* and it has answered: it may be joined */
};

struct chr_notify {
    struct chr_notify_config cfg;
    struct chr_sentry_dsn sentry; /* parsed from cfg.sentry_dsn */
    struct chr_store *store;
    char dir[CHR_STORE_PATH_MAX / 2]; /* <root>/outbox: the root is at most 200 bytes */
    struct chr_metrics *metrics;
    uint32_t configured; /* sink bits with a destination */
    pthread_mutex_t mu;
    pthread_cond_t cond;
    bool stopping;
    struct entry *head, *tail;
    size_t n;
    uint64_t sent[CHR_SINKS], failed[CHR_SINKS], dropped;
    uint64_t rnd;   /* xorshift state for the jitter */
    uint64_t nonce; /* this sender's part of ids */
    uint64_t seq;
    pthread_t thread[CHR_SINKS];
    bool started[CHR_SINKS];
    struct test_slot tests[CHR_NOTIFY_TESTS_MAX];
};

_Static_assert(CHR_SINKS == CHR_METRICS_SINKS, "one counter per sink");

struct sink_arg {
    struct chr_notify *n;
    enum chr_notify_sink sink;
};

bool chr_notify_configured(const struct chr_notify_config *c)
{
    return c->mail_server != NULL || c->http_url != NULL || c->slack_url != NULL ||
           c->mattermost_url != NULL || c->sentry_dsn != NULL;
}

static uint64_t next_rnd(struct chr_notify *n)
{
    uint64_t x = n->rnd;
    x ^= x << 13, x ^= x >> 7, x ^= x << 17;
    return n->rnd = x;
}

static int64_t mono_ms(void)
{
    return chr_clock_mono_ns() / 1000000;
}

/* ---- Counters ------------------------------------------------------------------ */

/* With the lock held. */
static void publish(struct chr_notify *n)
{
    if (n->metrics == NULL)
        return;
    struct chr_metrics_notify m;
    memset(&m, 0, sizeof m);
    for (int s = 0; s < CHR_SINKS; s++) {
        m.sent[s] = n->sent[s];
        m.failed[s] = n->failed[s];
        m.configured[s] = (n->configured >> s) & 1;
    }
    for (struct entry *e = n->head; e != NULL; e = e->next)
        for (int s = 0; s < CHR_SINKS; s++)
            m.pending[s] += (e->rec.sinks >> s) & 1;
    m.dropped = n->dropped;
    m.outbox = n->n;
    chr_metrics_set_notify(n->metrics, &m);
}

/* ---- The outbox in the store ---------------------------------------------------- */

static void write_done(void *ctx, enum chr_err result, const struct chr_store_result *res,
                       size_t n_ops)
{
    (void)res, (void)n_ops;
    if (result != CHR_OK && result != CHR_ENOENT)
        chr_log("notify: outbox write %s failed (%s): it may be sent again after a restart",
                (const char *)ctx, chr_err_message(result));
    chr_free(ctx);
}

/* Rewrites the node with the sinks left, or deletes it when none is. */
static void store_update(struct chr_notify *n, const struct chr_notify_rec *rec)
{
    char path[CHR_STORE_PATH_MAX];
    snprintf(path, sizeof path, "%s/%s", n->dir, rec->id);
    size_t len = 0;
    char *text = rec->sinks != 0 ? chr_notify_rec_encode(rec, &len) : NULL;
    if (rec->sinks != 0 && text == NULL)
        return; /* out of memory: the node keeps the older sinks (sent again: at least once) */
    struct chr_store_op op = {rec->sinks != 0 ? CHR_STORE_SET : CHR_STORE_DELETE, path, text, len,
                              -1};
    char *what = chr_strndup(rec->id, strlen(rec->id));
    if (what == NULL || chr_store_submit(n->store, &op, 1, write_done, what) != CHR_OK)
        chr_free(what);
    chr_free(text);
}

/* With the lock held: unlinks e (its node is written by the caller). */
static void unlink_entry(struct chr_notify *n, struct entry *e)
{
    struct entry **pp = &n->head, *prev = NULL;
    while (*pp != NULL && *pp != e)
        prev = *pp, pp = &(*pp)->next;
    if (*pp == NULL)
        return;
    *pp = e->next;
    if (n->tail == e)
        n->tail = prev;
    n->n--;
    e->dropped = true;
}

static void entry_free(struct entry *e)
{
    chr_notify_rec_free(&e->rec);
    chr_free(e);
}

/* With the lock held: past outbox_max, the oldest go. */
static void enforce_bound(struct chr_notify *n)
{
    while (n->n > n->cfg.outbox_max && n->head != NULL) {
        struct entry *e = n->head;
        unlink_entry(n, e);
        n->dropped++;
        chr_log("notify: outbox full (%zu): dropped the oldest notification %s (%s of job '%s', "
                "undelivered to sinks 0x%x); %llu dropped so far",
                n->cfg.outbox_max, e->rec.id, chr_notify_event_name(e->rec.kind), e->rec.job,
                (unsigned)e->rec.sinks, (unsigned long long)n->dropped);
        e->rec.sinks = 0;
        store_update(n, &e->rec);
        if (e->inflight == 0)
            entry_free(e);
    }
}

static void append(struct chr_notify *n, struct entry *e)
{
    if (n->tail != NULL)
        n->tail->next = e;
    else
        n->head = e;
    n->tail = e;
    n->n++;
}

void chr_notify_add(struct chr_notify *n, struct chr_notify_rec *rec)
{
    struct entry *e = chr_calloc(1, sizeof *e);
    if (e == NULL) {
        chr_log("notify: out of memory: %s stays in the outbox until a restart", rec->id);
        chr_notify_rec_free(rec);
        return;
    }
    e->rec = *rec;
    memset(rec, 0, sizeof *rec);
    pthread_mutex_lock(&n->mu);
    append(n, e);
    enforce_bound(n);
    publish(n);
    pthread_cond_broadcast(&n->cond);
    pthread_mutex_unlock(&n->mu);
}

/* Whether an owner list names anyone to mail. */
static bool has_recipient(const char *owner)
{
    return owner != NULL && owner[strspn(owner, ", \t")] != '\0';
}

uint32_t chr_notify_sinks(const struct chr_notify *n, enum chr_notice_kind kind,
                          const struct chr_job *job)
{
    if (n == NULL)
        return 0;
    uint32_t events = job != NULL && job->notify_events_set ? job->notify_events : n->cfg.events;
    if (!((events >> kind) & 1))
        return 0;
    uint32_t s = n->configured;
    if (!has_recipient(job != NULL ? job->owner : NULL))
        s &= ~(1u << CHR_SINK_MAIL);
    return s;
}

void chr_notify_new_id(struct chr_notify *n, int64_t at_ms, char id[CHR_NOTIFY_ID_MAX])
{
    pthread_mutex_lock(&n->mu);
    uint64_t seq = ++n->seq;
    pthread_mutex_unlock(&n->mu);
    snprintf(id, CHR_NOTIFY_ID_MAX, "%013lld-%08llx%08llx", (long long)at_ms,
             (unsigned long long)(n->nonce & 0xffffffffu), (unsigned long long)(seq & 0xffffffffu));
}

/* ---- libcurl --------------------------------------------------------------------- */

struct xfer {
    struct chr_notify *n;
    int64_t timeout_ms; /* the whole attempt */
    const char *body;
    size_t len, at;
    char answer[256];   /* the response's start (HTTP) */
    size_t answer_len;
    char error[CURL_ERROR_SIZE]; /* libcurl's words for a failure ("Failed to connect to ...") */
};

/* What went wrong with a transfer: libcurl's detailed words, else its code's. */
static const char *why(const struct xfer *x, CURLcode rc)
{
    return x->error[0] != '\0' ? x->error : curl_easy_strerror(rc);
}

static size_t read_body(char *buf, size_t size, size_t nitems, void *ctx)
{
    struct xfer *x = ctx;
    size_t room = size * nitems, left = x->len - x->at;
    size_t k = left < room ? left : room;
    memcpy(buf, x->body + x->at, k);
    x->at += k;
    return k;
}

static size_t keep_answer(char *p, size_t size, size_t nmemb, void *ctx)
{
    struct xfer *x = ctx;
    size_t k = size * nmemb, room = sizeof x->answer - 1 - x->answer_len;
    memcpy(x->answer + x->answer_len, p, k < room ? k : room);
    x->answer_len += k < room ? k : room;
    x->answer[x->answer_len] = '\0';
    return size * nmemb;
}

/* Aborts a transfer when the sender stops. */
static int progress(void *ctx, curl_off_t a, curl_off_t b, curl_off_t c, curl_off_t d)
{
    (void)a, (void)b, (void)c, (void)d;
    struct xfer *x = ctx;
    pthread_mutex_lock(&x->n->mu);
    bool stop = x->n->stopping;
    pthread_mutex_unlock(&x->n->mu);
    return stop ? 1 : 0;
}

static void common_opts(CURL *h, struct xfer *x)
{
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, (long)x->timeout_ms);
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, (long)x->timeout_ms);
    curl_easy_setopt(h, CURLOPT_NOPROGRESS, 0L);
    curl_easy_setopt(h, CURLOPT_XFERINFOFUNCTION, progress);
    curl_easy_setopt(h, CURLOPT_XFERINFODATA, x);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, keep_answer);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, x);
    x->error[0] = '\0';
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, x->error);
}

/* One HTTP POST of a sink. */
struct post {
    const char *url;
    const char *body;
    size_t len;
    bool webhook;      /* the generic webhook: basic auth and the HMAC signature */
    const char *extra; /* one more header ("X-Sentry-Auth: ..."), or NULL */
    int64_t timeout_ms;
};

/* POSTs a JSON body; true on a 2xx.  `answer` says what came back. */
static bool http_post(struct chr_notify *n, const struct post *p, const struct chr_notify_rec *rec,
                      char *answer, size_t cap)
{
    CURL *h = curl_easy_init();
    if (h == NULL) {
        snprintf(answer, cap, "out of memory");
        return false;
    }
    const char *body = p->body;
    size_t len = p->len;
    bool webhook = p->webhook;
    struct xfer x = {.n = n, .timeout_ms = p->timeout_ms};
    struct curl_slist *hdr = curl_slist_append(NULL, "Content-Type: application/json");
    char line[512];
    snprintf(line, sizeof line, "X-Chronos-Notification-Id: %s", rec->id);
    hdr = curl_slist_append(hdr, line);
    if (p->extra != NULL)
        hdr = curl_slist_append(hdr, p->extra);
    if (webhook && n->cfg.hmac_key != NULL) {
        uint8_t mac[CHR_SHA256_LEN];
        char hex[2 * CHR_SHA256_LEN + 1];
        chr_hmac_sha256(n->cfg.hmac_key, strlen(n->cfg.hmac_key), body, len, mac);
        chr_hex(mac, sizeof mac, hex);
        snprintf(line, sizeof line, "X-Chronos-Signature: sha256=%s", hex);
        hdr = curl_slist_append(hdr, line);
    }
    common_opts(h, &x);
    curl_easy_setopt(h, CURLOPT_URL, p->url);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdr);
    curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
    curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE, (long)len);
    if (webhook && n->cfg.http_credentials != NULL) {
        curl_easy_setopt(h, CURLOPT_HTTPAUTH, (long)CURLAUTH_BASIC);
        curl_easy_setopt(h, CURLOPT_USERPWD, n->cfg.http_credentials);
    }
    CURLcode rc = curl_easy_perform(h);
    long status = 0;
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
    if (rc != CURLE_OK)
        snprintf(answer, cap, "%.240s", why(&x, rc));
    else
        snprintf(answer, cap, "HTTP %ld %.120s", status, x.answer);
    curl_slist_free_all(hdr);
    curl_easy_cleanup(h);
    return rc == CURLE_OK && status >= 200 && status < 300;
}

/* The mail's text, headers first (RFC 5322). */
static char *mail_text(struct chr_notify *n, const struct chr_notify_rec *rec,
                       const struct chr_notify_render *how, size_t *len)
{
    char subject[512], date[64];
    chr_notify_subject(rec, n->cfg.cluster, subject, sizeof subject);
    time_t t = (time_t)(rec->at_ms / 1000);
    struct tm tm;
    gmtime_r(&t, &tm); /* lint: allow (a mail's Date header) */
    strftime(date, sizeof date, "%a, %d %b %Y %H:%M:%S +0000", &tm);
    char *text = chr_notify_text(rec, how);
    struct chr_sb b = {0};
    chr_sb_fmt(&b, "Date: %s\r\n", date);
    chr_sb_str(&b, "From: ");
    chr_sb_str(&b, n->cfg.mail_from ? n->cfg.mail_from : "chronos@localhost");
    chr_sb_str(&b, "\r\nTo: ");
    chr_sb_str(&b, rec->owner);
    chr_sb_str(&b, "\r\nSubject: ");
    chr_sb_str(&b, subject);
    chr_sb_str(&b, "\r\nMessage-ID: <");
    chr_sb_str(&b, rec->id);
    chr_sb_str(&b, "@chronos>\r\nX-Chronos-Notification-Id: ");
    chr_sb_str(&b, rec->id);
    chr_sb_str(&b, "\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n");
    for (const char *p = text ? text : ""; *p; p++) { /* bare LF -> CRLF */
        if (*p == '\n')
            chr_sb_ch(&b, '\r');
        chr_sb_ch(&b, *p);
    }
    if (text == NULL)
        chr_sb_fail(&b);
    chr_free(text);
    return chr_sb_finish(&b, len);
}

static bool smtp_send(struct chr_notify *n, const struct chr_notify_rec *rec,
                      const struct chr_notify_render *how, int64_t timeout_ms, char *answer,
                      size_t cap)
{
    size_t len = 0;
    char *text = mail_text(n, rec, how, &len);
    CURL *h = curl_easy_init();
    struct curl_slist *rcpt = NULL;
    char url[600], addr[512];
    /* Each owner is a recipient: "a@x.org, b@y.org" or separated by spaces. */
    for (const char *p = rec->owner; *p;) {
        size_t k = strcspn(p, ", \t");
        if (k > 0 && k < sizeof addr) {
            snprintf(addr, sizeof addr, "<%.*s>", (int)k, p);
            rcpt = curl_slist_append(rcpt, addr);
        }
        p += k;
        p += strspn(p, ", \t");
    }
    bool ok = false;
    if (text == NULL || h == NULL || rcpt == NULL) {
        snprintf(answer, cap, rcpt == NULL ? "no recipient" : "out of memory");
    } else {
        struct xfer x = {.n = n, .timeout_ms = timeout_ms, .body = text, .len = len};
        snprintf(url, sizeof url, "%s://%s", n->cfg.mail_ssl ? "smtps" : "smtp",
                 n->cfg.mail_server);
        snprintf(addr, sizeof addr, "<%s>", n->cfg.mail_from ? n->cfg.mail_from : "chronos@localhost");
        common_opts(h, &x);
        curl_easy_setopt(h, CURLOPT_URL, url);
        curl_easy_setopt(h, CURLOPT_MAIL_FROM, addr);
        curl_easy_setopt(h, CURLOPT_MAIL_RCPT, rcpt);
        curl_easy_setopt(h, CURLOPT_READFUNCTION, read_body);
        curl_easy_setopt(h, CURLOPT_READDATA, &x);
        curl_easy_setopt(h, CURLOPT_UPLOAD, 1L);
        /* A password never crosses the network in the clear: STARTTLS is
         * required with a user, tried without. */
        if (!n->cfg.mail_ssl)
            curl_easy_setopt(h, CURLOPT_USE_SSL,
                             n->cfg.mail_user ? (long)CURLUSESSL_ALL : (long)CURLUSESSL_TRY);
        if (n->cfg.mail_user != NULL) {
            curl_easy_setopt(h, CURLOPT_USERNAME, n->cfg.mail_user);
            curl_easy_setopt(h, CURLOPT_PASSWORD, n->cfg.mail_password ? n->cfg.mail_password : "");
        }
        CURLcode rc = curl_easy_perform(h);
        long code = 0;
        curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &code);
        ok = rc == CURLE_OK;
        if (ok)
            snprintf(answer, cap, "SMTP %ld (accepted for %s)", code, rec->owner);
        else
            snprintf(answer, cap, "%.200s (SMTP %ld)", why(&x, rc), code);
    }
    curl_slist_free_all(rcpt);
    if (h != NULL)
        curl_easy_cleanup(h);
    chr_free(text);
    return ok;
}

/* The last lines of a run's stderr (at most 2 KiB, whole lines). */
static char *stderr_tail(struct chr_notify *n, const struct chr_notify_rec *rec)
{
    if (n->cfg.output.open == NULL || rec->run_id[0] == '\0')
        return NULL;
    bool ended = false;
    int fd = n->cfg.output.open(n->cfg.output.ctx, rec->job, rec->run_id, "stderr", &ended);
    if (fd < 0)
        return NULL;
    enum { TAIL = 2048 };
    char *buf = chr_malloc(TAIL + 1);
    off_t end = lseek(fd, 0, SEEK_END);
    ssize_t got = -1;
    if (buf != NULL && end >= 0)
        got = pread(fd, buf, TAIL, end > TAIL ? end - TAIL : 0);
    close(fd);
    if (got <= 0) {
        chr_free(buf);
        return NULL;
    }
    buf[got] = '\0';
    char *start = buf;
    if (end > TAIL && strchr(buf, '\n') != NULL) /* a cut first line goes */
        start = strchr(buf, '\n') + 1;
    char *out = chr_strndup(start, strlen(start));
    chr_free(buf);
    return out;
}

/* One attempt of one sink, bounded by timeout_ms; answer says what it
 * answered. */
static bool send_one(struct chr_notify *n, enum chr_notify_sink s, const struct chr_notify_rec *rec,
                     int64_t timeout_ms, char *answer, size_t cap)
{
    char *tail = stderr_tail(n, rec);
    struct chr_notify_render how = {n->cfg.cluster, n->cfg.link_base, tail};
    bool ok = false;
    struct post p = {.timeout_ms = timeout_ms};
    char auth[512];
    char *body = NULL;
    switch (s) {
    case CHR_SINK_MAIL: ok = smtp_send(n, rec, &how, timeout_ms, answer, cap); break;
    case CHR_SINK_WEBHOOK:
        body = chr_notify_webhook_body(rec, &how, &p.len);
        p.url = n->cfg.http_url;
        p.webhook = true;
        break;
    case CHR_SINK_SLACK:
    case CHR_SINK_MATTERMOST:
        body = chr_notify_chat_body(rec, &how, &p.len);
        p.url = s == CHR_SINK_SLACK ? n->cfg.slack_url : n->cfg.mattermost_url;
        break;
    case CHR_SINK_SENTRY:
        body = chr_notify_sentry_body(rec, &how, &p.len);
        p.url = n->sentry.store_url;
        memcpy(auth, "X-Sentry-Auth: ", 15);
        chr_notify_sentry_auth(&n->sentry, auth + 15, sizeof auth - 15);
        p.extra = auth;
        break;
    default: break;
    }
    p.body = body;
    if (body != NULL)
        ok = http_post(n, &p, rec, answer, cap);
    else if (s != CHR_SINK_MAIL)
        snprintf(answer, cap, "out of memory");
    chr_free(body);
    chr_free(tail);
    return ok;
}

/* ---- The sink threads ------------------------------------------------------------- */

/* With the lock held: the oldest entry due for sink s, or NULL with *wake_ms
 * the earliest next attempt (INT64_MAX: none). */
static struct entry *take(struct chr_notify *n, enum chr_notify_sink s, int64_t now,
                          int64_t *wake_ms)
{
    *wake_ms = INT64_MAX;
    for (struct entry *e = n->head; e != NULL; e = e->next) {
        if (!((e->rec.sinks >> s) & 1) || ((e->inflight >> s) & 1))
            continue;
        if (e->next_ms[s] <= now)
            return e;
        if (e->next_ms[s] < *wake_ms)
            *wake_ms = e->next_ms[s];
    }
    return NULL;
}

static void settle(struct chr_notify *n, struct entry *e, enum chr_notify_sink s, bool ok,
                   const char *answer)
{
    e->inflight &= ~(1u << s);
    if (e->dropped) {
        if (e->inflight == 0)
            entry_free(e);
        return;
    }
    if (ok) {
        n->sent[s]++;
        e->rec.sinks &= ~(1u << s);
        if (n->cfg.verbose)
            chr_log("notify: %s %s of job '%s' delivered to %s: %s", e->rec.id,
                    chr_notify_event_name(e->rec.kind), e->rec.job, chr_notify_sink_name(s),
                    answer);
        store_update(n, &e->rec);
        if (e->rec.sinks == 0) {
            unlink_entry(n, e);
            if (e->inflight == 0)
                entry_free(e);
        }
        return;
    }
    n->failed[s]++;
    e->attempts[s]++;
    int64_t wait = chr_notify_backoff_ms(n->cfg.backoff_ms, n->cfg.backoff_max_ms, e->attempts[s],
                                         next_rnd(n));
    e->next_ms[s] = mono_ms() + wait;
    chr_log("notify: %s to %s failed (attempt %u: %s); next in %lld ms", e->rec.id,
            chr_notify_sink_name(s), (unsigned)e->attempts[s], answer, (long long)wait);
}

static void *sink_main(void *arg)
{
    struct chr_notify *n = ((struct sink_arg *)arg)->n;
    enum chr_notify_sink s = ((struct sink_arg *)arg)->sink;
    chr_free(arg);
    pthread_mutex_lock(&n->mu);
    while (!n->stopping) {
        int64_t wake;
        struct entry *e = take(n, s, mono_ms(), &wake);
        if (e == NULL) {
            if (wake == INT64_MAX) {
                pthread_cond_wait(&n->cond, &n->mu);
            } else {
                struct timespec ts = chr_clock_mono_ts(wake);
                pthread_cond_timedwait(&n->cond, &n->mu, &ts);
            }
            continue;
        }
        e->inflight |= 1u << s;
        struct chr_notify_rec copy = e->rec; /* the record's texts stay: e is not freed in flight */
        pthread_mutex_unlock(&n->mu);
        char answer[256];
        bool ok = send_one(n, s, &copy, n->cfg.timeout_ms, answer, sizeof answer);
        pthread_mutex_lock(&n->mu);
        settle(n, e, s, ok, answer);
        publish(n);
    }
    pthread_mutex_unlock(&n->mu);
    return NULL;
}

/* ---- `chronos notify test` ---------------------------------------------------------- */

struct test {
    struct chr_notify *n;
    size_t slot;
    struct chr_notify_rec rec;
    struct chr_notify_test_result res;
    chr_notify_test_fn *done;
    void *ctx;
};

struct test_sink {
    struct test *t;
    enum chr_notify_sink s;
    bool sent, skipped; /* this sink's outcome (its thread's alone) */
};

/* How long one sink of a test may take: the server's bound, but short
 * enough that the answer comes before a client or a standby's proxy gives
 * up (both wait 30 s). */
static int64_t test_timeout_ms(const struct chr_notify *n)
{
    return n->cfg.timeout_ms < CHR_NOTIFY_TEST_TIMEOUT_MAX_MS ? n->cfg.timeout_ms
                                                              : CHR_NOTIFY_TEST_TIMEOUT_MAX_MS;
}

static void *test_sink_main(void *arg)
{
    struct test_sink *ts = arg;
    struct test *t = ts->t;
    enum chr_notify_sink s = ts->s;
    char *answer = t->res.answers[s];
    if (s == CHR_SINK_MAIL && !has_recipient(t->rec.owner)) {
        snprintf(answer, sizeof t->res.answers[s], "not sent: no recipient (give --job NAME of a "
                 "job with an owner)");
        ts->skipped = true;
    } else {
        ts->sent = send_one(t->n, s, &t->rec, test_timeout_ms(t->n), answer,
                            sizeof t->res.answers[s]);
    }
    return NULL;
}

/* Each sink on a thread of its own, so that the test takes as long as the
 * slowest sink, not their sum; a thread that cannot start runs inline. */
static void *test_main(void *arg)
{
    struct test *t = arg;
    struct chr_notify *n = t->n;
    pthread_t th[CHR_SINKS];
    bool started[CHR_SINKS] = {false};
    struct test_sink ts[CHR_SINKS];
    for (int s = 0; s < CHR_SINKS; s++) {
        if (!((t->res.tried >> s) & 1))
            continue;
        ts[s] = (struct test_sink){t, (enum chr_notify_sink)s, false, false};
        started[s] = pthread_create(&th[s], NULL, test_sink_main, &ts[s]) == 0;
        if (!started[s])
            test_sink_main(&ts[s]);
    }
    for (int s = 0; s < CHR_SINKS; s++) {
        if (!((t->res.tried >> s) & 1))
            continue;
        if (started[s])
            pthread_join(th[s], NULL);
        t->res.sent |= (uint32_t)ts[s].sent << s;
        t->res.skipped |= (uint32_t)ts[s].skipped << s;
    }
    t->done(t->ctx, t->rec.id, &t->res);
    pthread_mutex_lock(&n->mu);
    n->tests[t->slot].done = true;
    pthread_mutex_unlock(&n->mu);
    chr_notify_rec_free(&t->rec);
    chr_free(t);
    return NULL;
}

/* With the lock held: a free slot (joining a finished test's thread), or
 * CHR_NOTIFY_TESTS_MAX when all are busy. */
static size_t test_slot(struct chr_notify *n)
{
    for (size_t i = 0; i < CHR_NOTIFY_TESTS_MAX; i++) {
        if (n->tests[i].used && n->tests[i].done) {
            pthread_join(n->tests[i].thread, NULL); /* it only frees itself after `done` */
            n->tests[i].used = false;
        }
        if (!n->tests[i].used)
            return i;
    }
    return CHR_NOTIFY_TESTS_MAX;
}

enum chr_err chr_notify_test_start(struct chr_notify *n, struct chr_notify_rec *rec,
                                   chr_notify_test_fn *done, void *ctx)
{
    struct test *t = chr_calloc(1, sizeof *t);
    if (t == NULL) {
        chr_notify_rec_free(rec);
        return CHR_ENOMEM;
    }
    *t = (struct test){.n = n, .rec = *rec, .done = done, .ctx = ctx};
    memset(rec, 0, sizeof *rec);
    t->res.tried = n->configured;
    pthread_mutex_lock(&n->mu);
    enum chr_err e = n->stopping ? CHR_EUNAVAIL : CHR_OK;
    size_t slot = e == CHR_OK ? test_slot(n) : CHR_NOTIFY_TESTS_MAX;
    if (e == CHR_OK && slot == CHR_NOTIFY_TESTS_MAX)
        e = CHR_ERANGE;
    if (e == CHR_OK) {
        t->slot = slot;
        n->tests[slot] = (struct test_slot){.used = true};
        if (pthread_create(&n->tests[slot].thread, NULL, test_main, t) != 0) {
            n->tests[slot].used = false;
            e = CHR_ENOMEM;
        }
    }
    pthread_mutex_unlock(&n->mu);
    if (e != CHR_OK) {
        chr_notify_rec_free(&t->rec);
        chr_free(t);
    }
    return e;
}

json_t *chr_notify_test_json(const char *id, const char *job,
                             const struct chr_notify_test_result *r)
{
    json_t *sinks = json_array();
    bool ok = r->tried != 0;
    for (int s = 0; sinks != NULL && s < CHR_SINKS; s++) {
        if (!((r->tried >> s) & 1))
            continue;
        bool sent = (r->sent >> s) & 1, skipped = (r->skipped >> s) & 1;
        ok = ok && (sent || skipped);
        const char *result = sent ? "sent" : skipped ? "skipped" : "failed";
        json_array_append_new(sinks, json_pack("{s:s,s:s,s:s}", "sink",
                                               chr_notify_sink_name((enum chr_notify_sink)s),
                                               "result", result, "answer", r->answers[s]));
    }
    ok = ok && r->sent != 0;
    json_t *o = json_pack("{s:b,s:s?,s:s?,s:o}", "ok", ok, "id", id, "job",
                          job != NULL && job[0] ? job : NULL, "sinks", sinks);
    if (o != NULL && r->tried == 0)
        json_object_set_new(o, "message",
                            json_string("no notification sink is configured: start the server with "
                                        "--mail_server, --http_notification_url, --slack_url, "
                                        "--mattermost_url or --raven_dsn"));
    return o;
}

/* ---- Lifecycle ------------------------------------------------------------------------ */

/* Takes every node of the outbox (a crash's or a former leader's). */
static enum chr_err load(struct chr_notify *n, struct chr_error *err)
{
    struct chr_store_names *names = NULL;
    enum chr_err e = chr_store_children(n->store, n->dir, &names);
    if (e != CHR_OK)
        return chr_error_set(err, e, "store", "cannot list %s: %s", n->dir, chr_err_message(e));
    size_t taken = 0;
    for (size_t i = 0; i < names->n; i++) {
        char path[CHR_STORE_PATH_MAX];
        int k = snprintf(path, sizeof path, "%s/%s", n->dir, names->names[i]);
        if (k < 0 || (size_t)k >= sizeof path)
            continue;
        void *data = NULL;
        size_t len = 0;
        if (chr_store_get(n->store, path, &data, &len, NULL) != CHR_OK)
            continue;
        struct chr_notify_rec rec;
        struct chr_error derr = {{0}, {0}};
        if (chr_notify_rec_decode(data, len, &rec, &derr) != CHR_OK ||
            strcmp(rec.id, names->names[i]) != 0) {
            chr_log("notify: outbox node %s is not a notification (%s): left as is", path,
                    derr.message[0] ? derr.message : "its id differs from its name");
            chr_notify_rec_free(&rec);
        } else {
            chr_notify_add(n, &rec);
            taken++;
        }
        chr_free(data);
    }
    if (taken > 0)
        chr_log("notify: %zu undelivered notifications taken from the outbox", taken);
    chr_store_names_free(names);
    return CHR_OK;
}

enum chr_err chr_notify_start(const struct chr_notify_config *cfg, struct chr_store *store,
                              const char *root, struct chr_metrics *metrics,
                              struct chr_notify **out, struct chr_error *err)
{
    *out = NULL;
    struct chr_notify *n = chr_calloc(1, sizeof *n);
    if (n == NULL)
        return chr_error_set(err, CHR_ENOMEM, "", "out of memory");
    n->cfg = *cfg;
    n->store = store;
    n->metrics = metrics;
    snprintf(n->dir, sizeof n->dir, "%s/%s", root, CHR_KIND_OUTBOX);
    const char *dest[CHR_SINKS] = {cfg->mail_server, cfg->http_url, cfg->slack_url,
                                   cfg->mattermost_url, cfg->sentry_dsn};
    for (int s = 0; s < CHR_SINKS; s++)
        if (dest[s] != NULL && dest[s][0] != '\0')
            n->configured |= 1u << s;
    if (cfg->sentry_dsn != NULL &&
        chr_notify_sentry_dsn(cfg->sentry_dsn, "raven_dsn", &n->sentry, err) != CHR_OK) {
        chr_free(n);
        return CHR_EINVAL;
    }
    n->rnd = (uint64_t)chr_clock_mono_ns() ^ ((uint64_t)getpid() << 32) ^ 0x9e3779b97f4a7c15ull;
    n->nonce = next_rnd(n) ^ (uint64_t)chr_clock_wall_ms();
    pthread_mutex_init(&n->mu, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&n->cond, &ca);
    pthread_condattr_destroy(&ca);
    enum chr_err e = chr_store_mkdirs(store, n->dir);
    if (e != CHR_OK)
        chr_error_set(err, e, "store", "cannot create %s: %s", n->dir, chr_err_message(e));
    if (e == CHR_OK)
        e = load(n, err);
    for (int s = 0; e == CHR_OK && s < CHR_SINKS; s++) {
        if (!((n->configured >> s) & 1))
            continue;
        struct sink_arg *a = chr_malloc(sizeof *a);
        if (a != NULL)
            *a = (struct sink_arg){n, (enum chr_notify_sink)s};
        if (a == NULL || pthread_create(&n->thread[s], NULL, sink_main, a) != 0) {
            chr_free(a);
            e = chr_error_set(err, CHR_ENOMEM, "", "cannot start the notification sender");
            break;
        }
        n->started[s] = true;
    }
    pthread_mutex_lock(&n->mu);
    publish(n);
    pthread_mutex_unlock(&n->mu);
    if (e != CHR_OK) {
        chr_notify_stop(n);
        return e;
    }
    *out = n;
    return CHR_OK;
}

void chr_notify_stop(struct chr_notify *n)
{
    if (n == NULL)
        return;
    pthread_mutex_lock(&n->mu);
    n->stopping = true;
    pthread_cond_broadcast(&n->cond);
    pthread_mutex_unlock(&n->mu);
    for (int s = 0; s < CHR_SINKS; s++)
        if (n->started[s])
            pthread_join(n->thread[s], NULL);
    /* A test in flight ends soon: its transfers see `stopping` and abort. */
    for (size_t i = 0; i < CHR_NOTIFY_TESTS_MAX; i++)
        if (n->tests[i].used)
            pthread_join(n->tests[i].thread, NULL);
    for (struct entry *e = n->head, *next; e != NULL; e = next) {
        next = e->next;
        entry_free(e);
    }
    pthread_cond_destroy(&n->cond);
    pthread_mutex_destroy(&n->mu);
    chr_free(n);
}
