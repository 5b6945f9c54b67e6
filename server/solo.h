/*
 * solo.h - the server's life on one machine: the local store, always the
 * leader.  The scheduler runs until a stop signal; when its store fails it
 * stops scheduling (reads go on, writes are answered 503 with the cause,
 * /health says why), and it comes back by itself: the store is resumed
 * with a backoff once writes work again, and a fresh scheduler is loaded
 * from what is durable, then swapped in.  A fatal failure (a failed fsync:
 * what was acknowledged may not be on disk) ends the process with a
 * non-zero status instead, so that a supervisor restarts it and the store
 * is re-read: never a live process that silently schedules nothing.
 */
#ifndef CHR_SERVER_SOLO_H
#define CHR_SERVER_SOLO_H

#include <signal.h>

#include "api/http.h"
#include "server/loop.h"

struct chr_solo;

/* Loads the first scheduler from `loop`'s store (opened; borrowed, as is
 * everything lc points to).  Fills err on failure. */
enum chr_err chr_solo_start(const struct chr_loop_config *lc, struct chr_solo **out,
                            struct chr_error *err);
/* The scheduler of the moment (for chr_http_start). */
struct chr_loop *chr_solo_loop(struct chr_solo *s);
/* Runs until SIGINT/SIGTERM (in `stop`, blocked in every thread), keeping
 * http's loop current: returns 0, or 1 after a fatal store failure. */
int chr_solo_run(struct chr_solo *s, struct chr_http *http, const sigset_t *stop);
/* Stops the scheduler (call after http no longer uses it) and frees. */
void chr_solo_stop(struct chr_solo *s);
/* The same when the process is about to exit (chr_loop_stop_exit). */
void chr_solo_stop_exit(struct chr_solo *s);

#endif
