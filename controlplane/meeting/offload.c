/*
 * offload.c - a thread pool whose results come back to the main loop (see
 * offload.h).
 *
 * A job is created, counted and finally released on the main thread only;
 * the worker runs job->work and hands the job back by attaching an idle
 * source to the default main context. The delivery then runs wherever that
 * context is iterated - the main loop - never on the worker
 * (g_main_context_invoke would run it on the worker whenever the main loop
 * happened not to own the context).
 */
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "offload.h"

#define THREADS_MAX 16

struct sl_offload {
	GThreadPool *pool;
	GQueue live; /* every job not yet released */
};

static void job_release(struct sl_offload *o, struct sl_offload_job *j)
{
	g_queue_unlink(&o->live, &j->link);
	if (j->src)
		g_source_unref(j->src);
	j->release(j);
}

/* What the worker attaches to the main context for one finished job. */
struct hand {
	struct sl_offload *o;
	struct sl_offload_job *j;
};

/* Main thread: the worker is done with the job. */
static gboolean hand_run(gpointer data)
{
	struct sl_offload_job *j = ((struct hand *)data)->j;

	if (!g_atomic_int_get(&j->cancelled))
		j->deliver(j);
	return G_SOURCE_REMOVE;
}

/* The source's destroy notify, on the main thread: after hand_run, or when
 * the pool is freed with the source still attached. */
static void hand_done(gpointer data)
{
	struct hand *h = data;

	job_release(h->o, h->j);
	g_free(h);
}

/* Lower this worker thread's priority once (nice +10, this thread only). */
static void lower_priority_once(void)
{
	static __thread gboolean done;

	if (!done) {
		done = TRUE;
		(void)setpriority(PRIO_PROCESS, (id_t)syscall(SYS_gettid), 10);
	}
}

/* Worker thread. */
static void work(gpointer data, gpointer pool_data)
{
	struct sl_offload_job *j = data;
	struct hand *h = g_new(struct hand, 1);
	GSource *src;

	lower_priority_once();
	if (!g_atomic_int_get(&j->cancelled))
		j->work(j);
	h->o = pool_data;
	h->j = j;
	src = g_idle_source_new();
	g_source_set_priority(src, G_PRIORITY_DEFAULT);
	g_source_set_callback(src, hand_run, h, hand_done);
	j->src = src; /* read by the main thread only after the hand-back or the pool's end */
	g_source_attach(src, NULL);
}

struct sl_offload *sl_offload_new(unsigned threads)
{
	struct sl_offload *o;
	GError *err = NULL;

	if (threads < 1 || threads > THREADS_MAX)
		return NULL;
	o = g_new0(struct sl_offload, 1);
	g_queue_init(&o->live);
	o->pool = g_thread_pool_new(work, o, (gint)threads, TRUE, &err);
	if (!o->pool) {
		g_clear_error(&err);
		g_free(o);
		return NULL;
	}
	return o;
}

void sl_offload_free(struct sl_offload *o)
{
	if (!o)
		return;
	/* Jobs not started are dropped; running ones are waited for. */
	g_thread_pool_free(o->pool, TRUE, TRUE);
	while (!g_queue_is_empty(&o->live)) {
		struct sl_offload_job *j = g_queue_peek_head(&o->live);

		if (j->src)
			g_source_destroy(j->src); /* hand_done releases j */
		else
			job_release(o, j);
	}
	g_free(o);
}

void sl_offload_push(struct sl_offload *o, struct sl_offload_job *j)
{
	j->link.data = j;
	g_queue_push_tail_link(&o->live, &j->link);
	/* An exclusive pool's threads all exist already: pushing cannot fail. */
	g_thread_pool_push(o->pool, j, NULL);
}

void sl_offload_cancel(struct sl_offload_job *j)
{
	if (j)
		g_atomic_int_set(&j->cancelled, 1);
}

unsigned sl_offload_live(const struct sl_offload *o)
{
	return o ? o->live.length : 0;
}
