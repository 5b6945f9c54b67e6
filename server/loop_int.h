/*
 * loop_int.h - what a resource manager (rm.h) may ask of the scheduler
 * loop: feed the core an event.  For server/rm_*.c only.
 */
#ifndef CHR_SERVER_LOOP_INT_H
#define CHR_SERVER_LOOP_INT_H

#include <stdint.h>

#include "scheduler/core.h"

struct chr_loop;

/* Any thread: queues an event; s1 and s2 are copied (a TASK_STATUS's run id
 * and reason).  `token` comes back in the resource manager's settle() once
 * the event was stepped.  Dropped (with a log line) when out of memory or
 * stopping. */
void chr_loop_rm_push(struct chr_loop *l, const struct chr_event *ev, const char *s1,
                      const char *s2, uint64_t token);

/* The scheduler thread only (inside an rm callback): steps the core with
 * `ev` now and executes its actions. */
void chr_loop_rm_step(struct chr_loop *l, struct chr_event *ev);

#endif
