/*
 * offload.h - CPU-heavy work off the signalling loop (offload.c).
 *
 * A pool of worker threads (GThreadPool, all started at creation, nice
 * +10 so the loop wins the CPU when both want it) runs jobs and hands each
 * one back to the main GLib context, where it is delivered and released.
 * The caller embeds struct sl_offload_job at the start of its own job:
 *   work    runs on a worker; it may touch only the job itself;
 *   deliver runs on the main thread when the job was not cancelled;
 *   release runs on the main thread last, always, and frees the job.
 * Cancelling only sets a flag: a job not yet started is skipped, and the
 * delivery of a cancelled one is skipped, so its memory outlives every
 * thread that may still touch it. Users: password.c (argon2id) and
 * entry.c (room-name scores).
 */
#ifndef SLUICE_CP_OFFLOAD_H
#define SLUICE_CP_OFFLOAD_H

#include <glib.h>

struct sl_offload_job {
	void (*work)(struct sl_offload_job *j);
	void (*deliver)(struct sl_offload_job *j);
	void (*release)(struct sl_offload_job *j);
	gint cancelled; /* atomic */
	GSource *src;   /* the hand-back, set by the worker */
	GList link;     /* in the pool's live list; main thread only */
};

struct sl_offload;

/* threads: 1-16. NULL when they cannot be started. */
struct sl_offload *sl_offload_new(unsigned threads);
/* Wait for running jobs, drop the rest: releases every live job without
 * delivering it. NULL is fine. */
void sl_offload_free(struct sl_offload *o);
/* Queue j (its callbacks set, the rest zero). Never fails. */
void sl_offload_push(struct sl_offload *o, struct sl_offload_job *j);
void sl_offload_cancel(struct sl_offload_job *j);
/* Jobs pushed and not yet released. */
unsigned sl_offload_live(const struct sl_offload *o);

#endif
