/*
 * workers.c - a small pool of worker threads for calls that must not run
 * on the loop (getaddrinfo, PQconnectPoll): jobs queue, run on a thread,
 * and their answers come back to the loop through one ev_async.
 * Depends on libev, pthreads and libc only; knows nothing of check types.
 *
 * Cancel (abandon) and shutdown are decided under one mutex, so a job has
 * exactly one owner at any time: the queue, a worker, the done list, or
 * whoever abandoned it. The pool's memory is reference counted by the
 * threads; no thread ever touches the loop after shutdown (ev_async_send
 * happens under the mutex, only before it).
 *
 * A thread still in a job its owner abandoned (a lookup stuck past its
 * deadline) does not count against the pool's size: another thread may
 * start in its place, up to SPARE_FACTOR times the size, so one silent
 * DNS server does not hold every later lookup in the queue.
 */
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/queue.h>

#include "probe_int.h"
#include "../lib/util.h"

/* Threads at most, as a multiple of the pool's size, counting those
 * still in abandoned jobs. */
#define SPARE_FACTOR 4

enum job_state {
	JOB_QUEUED,    /* waiting for a worker */
	JOB_RUNNING,   /* a worker is in run() */
	JOB_DONE,      /* waits on the done list for the loop */
	JOB_ABANDONED, /* abandoned while running: the worker discards it */
};

struct vd_job {
	struct vd_workers *w;
	vd_job_fn *run;
	vd_job_fn *done;
	vd_job_fn *discard;
	void *arg;
	enum job_state state; /* under w->mu */
	TAILQ_ENTRY(vd_job) link;
};

TAILQ_HEAD(job_list, vd_job);

struct vd_workers {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct job_list queue;
	struct job_list done;
	pthread_t *tids; /* joinable threads (join only), max of them */
	unsigned max;	 /* threads at most */
	unsigned nthreads;
	unsigned nstuck; /* threads in a job abandoned while running */
	unsigned nidle;
	unsigned nqueued; /* entries on queue */
	unsigned refs;	  /* the owner's one + one per thread */
	bool join;
	bool shutdown;
	struct ev_loop *loop;
	ev_async async;
};

static void
unref_locked(struct vd_workers *w)
{
	if (--w->refs > 0) {
		pthread_mutex_unlock(&w->mu);
		return;
	}
	pthread_mutex_unlock(&w->mu);
	pthread_mutex_destroy(&w->mu);
	pthread_cond_destroy(&w->cv);
	free(w->tids);
	free(w);
}

static void *
worker(void *arg)
{
	struct vd_workers *w = arg;
	struct vd_job *j;

	pthread_mutex_lock(&w->mu);
	for (;;) {
		while (!w->shutdown && TAILQ_EMPTY(&w->queue)) {
			w->nidle++;
			pthread_cond_wait(&w->cv, &w->mu);
			w->nidle--;
		}
		if (w->shutdown)
			break;
		j = TAILQ_FIRST(&w->queue);
		TAILQ_REMOVE(&w->queue, j, link);
		w->nqueued--;
		j->state = JOB_RUNNING;
		pthread_mutex_unlock(&w->mu);

		j->run(j->arg);

		pthread_mutex_lock(&w->mu);
		if (j->state == JOB_ABANDONED)
			w->nstuck--;
		if (j->state == JOB_ABANDONED || w->shutdown) {
			pthread_mutex_unlock(&w->mu);
			j->discard(j->arg);
			free(j);
			pthread_mutex_lock(&w->mu);
			continue;
		}
		j->state = JOB_DONE;
		TAILQ_INSERT_TAIL(&w->done, j, link);
		ev_async_send(w->loop, &w->async);
	}
	unref_locked(w);
	return NULL;
}

/* Delivers finished jobs one at a time: a done() may abandon a job that
 * is still on the done list. */
static void
async_cb(struct ev_loop *loop, ev_async *aw, int revents)
{
	struct vd_workers *w = aw->data;
	struct vd_job *j;
	vd_job_fn *done;
	void *arg;
	(void)loop;
	(void)revents;

	for (;;) {
		pthread_mutex_lock(&w->mu);
		j = TAILQ_FIRST(&w->done);
		if (j)
			TAILQ_REMOVE(&w->done, j, link);
		pthread_mutex_unlock(&w->mu);
		if (j == NULL)
			break;
		done = j->done;
		arg = j->arg;
		free(j);
		done(arg);
	}
}

struct vd_workers *
vd_workers_new(struct ev_loop *loop, unsigned max_threads, bool join)
{
	struct vd_workers *w = vd_xcalloc(1, sizeof(*w));
	pthread_mutex_init(&w->mu, NULL);
	pthread_cond_init(&w->cv, NULL);
	TAILQ_INIT(&w->queue);
	TAILQ_INIT(&w->done);
	w->max = max_threads;
	w->join = join;
	if (join)
		w->tids = vd_xcalloc((size_t)max_threads * SPARE_FACTOR,
				     sizeof(*w->tids));
	w->refs = 1;
	w->loop = loop;
	ev_async_init(&w->async, async_cb);
	w->async.data = w;
	ev_async_start(loop, &w->async);
	/* Jobs in flight belong to attempts whose deadlines keep the loop
	 * alive; the watcher itself must not. */
	ev_unref(loop);
	return w;
}

static void
discard_list(struct job_list *l)
{
	struct vd_job *j;

	while ((j = TAILQ_FIRST(l)) != NULL) {
		TAILQ_REMOVE(l, j, link);
		j->discard(j->arg);
		free(j);
	}
}

void
vd_workers_free(struct vd_workers *w)
{
	unsigned i, n;

	if (w == NULL)
		return;
	pthread_mutex_lock(&w->mu);
	w->shutdown = true;
	ev_ref(w->loop);
	ev_async_stop(w->loop, &w->async);
	/* Jobs still listed belong to nobody any more: every owner should
	 * have abandoned its job before the prober's shared state goes.
	 * Running jobs are not listed: the worker that holds one sees the
	 * shutdown when run() returns and discards it. No worker takes a
	 * job from the queue after shutdown, so the lists are ours. */
	pthread_cond_broadcast(&w->cv);
	n = w->join ? w->nthreads : 0;
	pthread_mutex_unlock(&w->mu);
	discard_list(&w->queue);
	discard_list(&w->done);
	for (i = 0; i < n; i++)
		pthread_join(w->tids[i], NULL);
	pthread_mutex_lock(&w->mu);
	unref_locked(w);
}

/* Called with w->mu held. Returns 0 or an errno. */
static int
spawn_locked(struct vd_workers *w)
{
	pthread_attr_t attr;
	pthread_t tid;
	sigset_t all, old;
	int err;

	pthread_attr_init(&attr);
	if (!w->join)
		pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	/* Signals belong to the loop's thread (libev, ev_child). */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	err = pthread_create(&tid, &attr, worker, w);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	pthread_attr_destroy(&attr);
	if (err == 0) {
		if (w->join)
			w->tids[w->nthreads] = tid;
		w->nthreads++;
		w->refs++;
	}
	return err;
}

struct vd_job *
vd_job_submit(struct vd_workers *w, vd_job_fn *run, vd_job_fn *done,
	      vd_job_fn *discard, void *arg)
{
	struct vd_job *j = vd_xcalloc(1, sizeof(*j));

	j->w = w;
	j->run = run;
	j->done = done;
	j->discard = discard;
	j->arg = arg;
	pthread_mutex_lock(&w->mu);
	j->state = JOB_QUEUED;
	TAILQ_INSERT_TAIL(&w->queue, j, link);
	w->nqueued++;
	/* a thread for every waiting job, up to the limit */
	if (w->nqueued > w->nidle && w->nthreads - w->nstuck < w->max &&
	    w->nthreads < w->max * SPARE_FACTOR && spawn_locked(w) != 0 &&
	    w->nthreads == 0) {
		/* No thread at all: hand nothing over. */
		TAILQ_REMOVE(&w->queue, j, link);
		w->nqueued--;
		pthread_mutex_unlock(&w->mu);
		free(j);
		return NULL;
	}
	pthread_cond_signal(&w->cv);
	pthread_mutex_unlock(&w->mu);
	return j;
}

void
vd_job_abandon(struct vd_job *j)
{
	struct vd_workers *w;

	if (j == NULL)
		return;
	w = j->w;
	pthread_mutex_lock(&w->mu);
	switch (j->state) {
	case JOB_QUEUED:
		TAILQ_REMOVE(&w->queue, j, link);
		w->nqueued--;
		break;
	case JOB_DONE:
		TAILQ_REMOVE(&w->done, j, link);
		break;
	case JOB_RUNNING:
		w->nstuck++;
		j->state = JOB_ABANDONED; /* the worker discards it */
		/* a thread in its place for what waits in the queue */
		if (!w->shutdown && w->nqueued > w->nidle &&
		    w->nthreads - w->nstuck < w->max &&
		    w->nthreads < w->max * SPARE_FACTOR)
			(void)spawn_locked(w);
		pthread_mutex_unlock(&w->mu);
		return;
	case JOB_ABANDONED:
		pthread_mutex_unlock(&w->mu);
		return;
	}
	pthread_mutex_unlock(&w->mu);
	j->discard(j->arg);
	free(j);
}
