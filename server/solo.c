/*
 * solo.c - one machine's life (solo.h).  The main thread waits for a stop
 * signal or for the scheduler to say its store failed (on_fenced, from the
 * scheduler thread: it only raises a flag here), then resumes the store with
 * a growing pause, 0.5 s to 30 s.  The failed scheduler stays installed
 * meanwhile: its read model shows the last durable state, and its answers
 * to writes name the cause.  Recovery starts the new scheduler before the
 * old one stops, so reads never pause.
 */
#include "server/solo.h"

#include <stdatomic.h>
#include <stdio.h>
#include <time.h>

#include "common/alloc.h"
#include "common/log.h"

#define SOLO_TICK_MS 20
#define SOLO_RETRY_MIN_MS 500
#define SOLO_RETRY_MAX_MS 30000

struct chr_solo {
    struct chr_loop_config lc;
    struct chr_loop *loop;
    struct chr_http *http;
    atomic_bool failed;
};

static void on_fenced(void *ctx, const char *why)
{
    (void)why; /* the loop logged it; the store's health says it again */
    atomic_store(&((struct chr_solo *)ctx)->failed, true);
}

/* Waits up to ms; true when a stop signal came (SIGUSR2 is no stop). */
static bool stopped(const sigset_t *stop, long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    int sig = sigtimedwait(stop, NULL, &ts);
    if (sig <= 0 || sig == SIGUSR2)
        return false;
    chr_log("stopping (signal %d)", sig);
    return true;
}

static enum chr_err start(struct chr_solo *s, struct chr_loop **out, struct chr_error *err)
{
    struct chr_loop_config lc = s->lc;
    lc.on_fenced = on_fenced;
    lc.fence_ctx = s;
    atomic_store(&s->failed, false);
    return chr_loop_start(&lc, out, err);
}

enum chr_err chr_solo_start(const struct chr_loop_config *lc, struct chr_solo **out,
                            struct chr_error *err)
{
    struct chr_solo *s = chr_calloc(1, sizeof *s);
    if (s == NULL)
        return chr_error_set(err, CHR_ENOMEM, "", "out of memory");
    s->lc = *lc;
    atomic_init(&s->failed, false);
    enum chr_err e = start(s, &s->loop, err);
    if (e != CHR_OK) {
        chr_free(s);
        return e;
    }
    *out = s;
    return CHR_OK;
}

struct chr_loop *chr_solo_loop(struct chr_solo *s)
{
    return s->loop;
}

static long next_pause(long pause)
{
    return pause * 2 > SOLO_RETRY_MAX_MS ? SOLO_RETRY_MAX_MS : pause * 2;
}

/* The store failed: waits until it takes writes again, then swaps a fresh
 * scheduler in.  0 when done, 1 to exit (fatal), -1 on a stop signal. */
static int recover(struct chr_solo *s, const sigset_t *stop)
{
    struct chr_store_health h;
    chr_store_health(s->lc.store, &h);
    chr_log("the store failed: %s; scheduling stops, reads go on", h.cause);
    for (long pause = SOLO_RETRY_MIN_MS;; pause = next_pause(pause)) {
        chr_store_health(s->lc.store, &h);
        if (h.fatal) {
            chr_log("exiting (status 1) so that a restart re-reads the store: %s", h.cause);
            return 1;
        }
        if (stopped(stop, pause))
            return -1;
        if (chr_store_resume(s->lc.store) != CHR_OK) {
            chr_store_health(s->lc.store, &h);
            chr_log("the store still fails: %s (next try in %.1f s)", h.cause,
                    (double)next_pause(pause) / 1000);
            continue;
        }
        struct chr_loop *fresh = NULL;
        struct chr_error err = {{0}, {0}};
        if (start(s, &fresh, &err) != CHR_OK) {
            chr_log("cannot reload the scheduler: %s", err.message);
            continue; /* its own writes failed: the store says why next round */
        }
        chr_http_set_sched(s->http, chr_loop_sched(fresh)); /* reads never pause: the old one served */
        chr_loop_stop(s->loop);
        s->loop = fresh;
        chr_log("the store takes writes again: scheduling resumes from what is durable");
        return 0;
    }
}

int chr_solo_run(struct chr_solo *s, struct chr_http *http, const sigset_t *stop)
{
    s->http = http;
    chr_http_set_sched(http, chr_loop_sched(s->loop));
    for (;;) {
        if (stopped(stop, SOLO_TICK_MS))
            return 0;
        if (!atomic_load(&s->failed))
            continue;
        int r = recover(s, stop);
        if (r != 0)
            return r > 0 ? 1 : 0;
    }
}

void chr_solo_stop(struct chr_solo *s)
{
    if (s == NULL)
        return;
    chr_loop_stop(s->loop);
    chr_free(s);
}

void chr_solo_stop_exit(struct chr_solo *s)
{
    if (s == NULL)
        return;
    chr_loop_stop_exit(s->loop);
    chr_free(s);
}
