/*
 * pq_ev.c - libpq on the prober's libev loop (pq_ev.h): connect, login
 * steps on a worker pool, queries and results on the loop, server-side
 * cancel off it. Knows nothing of check types; depends on libpq, libev,
 * pthreads and the prober's workers and shared state only.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <time.h>

#include <ev.h>

#include "../lib/util.h"
#include "pq_ev.h"
#include "probe_int.h"

/* How long freeing the prober waits for server-side cancels (seconds). */
#define PQ_CANCEL_WAIT 5
/* Threads at most per prober calling PQconnectPoll; more polls queue. */
#define PQ_POLL_THREADS 4

struct pq_poll;

struct vd_pq_ev {
	struct vd_prober *prober;
	struct ev_loop *loop;
	const struct vd_pq_ev_cbs *cbs;
	void *udata;
	PGconn *conn;	      /* not to be touched while poll is set */
	struct pq_poll *poll; /* a PQconnectPoll handed to the pool */
	ev_io io;
	bool connecting; /* the login is under way */
	bool in_query;	 /* a query was sent and has not ended */
};

/* --- server-side cancel, off the loop --------------------------------- */

struct pq_cancels {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	unsigned running;
};

struct pq_cancel_job {
	struct pq_cancels *pc;
	PGcancel *cancel;
};

static void *
cancels_create(struct vd_prober *p)
{
	struct pq_cancels *pc = vd_xcalloc(1, sizeof(*pc));
	(void)p;
	pthread_mutex_init(&pc->mu, NULL);
	pthread_cond_init(&pc->cv, NULL);
	return pc;
}

/* Waits up to PQ_CANCEL_WAIT seconds for cancels in flight: a CLI run
 * that exits at once would otherwise leave the query running. A thread
 * still stuck after that keeps the state (leaked on purpose). */
static void
cancels_destroy(void *state)
{
	struct pq_cancels *pc = state;
	struct timespec until;
	int err = 0;

	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += PQ_CANCEL_WAIT;
	pthread_mutex_lock(&pc->mu);
	while (pc->running > 0 && err != ETIMEDOUT)
		err = pthread_cond_timedwait(&pc->cv, &pc->mu, &until);
	if (pc->running > 0) {
		pthread_mutex_unlock(&pc->mu);
		return;
	}
	pthread_mutex_unlock(&pc->mu);
	pthread_mutex_destroy(&pc->mu);
	pthread_cond_destroy(&pc->cv);
	free(pc);
}

static void *
cancel_thread(void *arg)
{
	struct pq_cancel_job *job = arg;
	struct pq_cancels *pc = job->pc;
	char err[256];

	/* The outcome is not reported: the owner has its answer already. */
	(void)PQcancel(job->cancel, err, sizeof(err));
	PQfreeCancel(job->cancel);
	free(job);
	pthread_mutex_lock(&pc->mu);
	pc->running--;
	pthread_cond_broadcast(&pc->cv);
	pthread_mutex_unlock(&pc->mu);
	return NULL;
}

/* Asks the server to cancel conn's running query, without blocking. */
static void
cancel_on_server(struct vd_prober *p, PGconn *conn)
{
	struct pq_cancels *pc = vd_prober_shared(
		p, "postgres-cancel", cancels_create, cancels_destroy);
	struct pq_cancel_job *job;
	pthread_attr_t attr;
	pthread_t tid;
	sigset_t all, old;
	int err;

	job = vd_xcalloc(1, sizeof(*job));
	job->pc = pc;
	job->cancel = PQgetCancel(conn);
	if (job->cancel == NULL) {
		free(job);
		return;
	}
	pthread_mutex_lock(&pc->mu);
	pc->running++;
	pthread_mutex_unlock(&pc->mu);
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	/* Signals belong to the loop's thread. */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	err = pthread_create(&tid, &attr, cancel_thread, job);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	pthread_attr_destroy(&attr);
	if (err != 0) {
		/* No thread: the query runs on until the server notices. */
		PQfreeCancel(job->cancel);
		free(job);
		pthread_mutex_lock(&pc->mu);
		pc->running--;
		pthread_mutex_unlock(&pc->mu);
	}
}

/* --- PQconnectPoll off the loop ---------------------------------------- */

/*
 * The loop hands a PGconn to the prober's worker pool (probe/workers.c)
 * for one PQconnectPoll and gets the answer back from the loop; only one
 * thread touches the PGconn at a time. A poll whose connection is freed
 * while a worker runs it is abandoned: the worker finishes the PGconn and
 * frees the poll. Freeing the prober stops the pool and joins its
 * threads: a poll never blocks (the socket is non-blocking), so this is
 * brief, and it lets each thread's OpenSSL state be freed before the
 * process exits.
 */

struct pq_poll {
	PGconn *conn;
	struct vd_pq_ev *c;
	PostgresPollingStatusType st;
	struct vd_job *job;
};

static void connect_step(struct vd_pq_ev *c, PostgresPollingStatusType st);

/* On a worker thread. */
static void
poll_run(void *arg)
{
	struct pq_poll *j = arg;
	j->st = PQconnectPoll(j->conn);
}

/* On the loop: the step may end another owner's work. */
static void
poll_done(void *arg)
{
	struct pq_poll *j = arg;
	struct vd_pq_ev *c = j->c;
	PostgresPollingStatusType st = j->st;

	free(j);
	c->poll = NULL;
	/* An owner that ended meanwhile frees the PGconn with c. */
	if (c->cbs->live(c->udata))
		connect_step(c, st);
}

/* An abandoned poll, or one left at prober free: on either side. */
static void
poll_discard(void *arg)
{
	struct pq_poll *j = arg;
	PQfinish(j->conn);
	free(j);
}

static void *
polls_create(struct vd_prober *p)
{
	return vd_workers_new(vd_prober_loop(p), PQ_POLL_THREADS, true);
}

static void
polls_destroy(void *state)
{
	vd_workers_free(state);
}

/* Hands c->conn to the pool for one PQconnectPoll; the answer comes to
 * connect_step() from the loop. Returns false (nothing handed over) when
 * there is no thread to run it. */
static bool
poll_submit(struct vd_pq_ev *c)
{
	struct vd_workers *w = vd_prober_shared(c->prober, "postgres-poll",
						polls_create, polls_destroy);
	struct pq_poll *j = vd_xcalloc(1, sizeof(*j));

	j->conn = c->conn;
	j->c = c;
	j->job = vd_job_submit(w, poll_run, poll_done, poll_discard, j);
	if (j->job == NULL) {
		free(j);
		return false;
	}
	c->poll = j;
	return true;
}

/* --- the loop side ----------------------------------------------------- */

/* (Re)arms the watcher on libpq's current socket for events. */
static void
watch(struct vd_pq_ev *c, int events)
{
	int fd = PQsocket(c->conn);

	if (fd < 0) {
		ev_io_stop(c->loop, &c->io);
		c->cbs->failed(c, VD_PQ_EV_LOST, c->udata);
		return;
	}
	if (ev_is_active(&c->io) && c->io.fd == fd &&
	    (c->io.events & (EV_READ | EV_WRITE)) == events)
		return;
	ev_io_stop(c->loop, &c->io);
	ev_io_set(&c->io, fd, events);
	ev_io_start(c->loop, &c->io);
}

/* Goes on from PQconnectPoll's answer st (from the loop). */
static void
connect_step(struct vd_pq_ev *c, PostgresPollingStatusType st)
{
	switch (st) {
	case PGRES_POLLING_READING:
		watch(c, EV_READ);
		break;
	case PGRES_POLLING_WRITING:
		watch(c, EV_WRITE);
		break;
	case PGRES_POLLING_OK:
		c->connecting = false;
		if (PQsetnonblocking(c->conn, 1) != 0) {
			c->cbs->failed(c, VD_PQ_EV_NONBLOCK, c->udata);
			return;
		}
		c->cbs->connected(c, c->udata);
		break;
	case PGRES_POLLING_FAILED:
	default:
		c->cbs->failed(c, VD_PQ_EV_CONNECT, c->udata);
		break;
	}
}

static void
connect_io(struct vd_pq_ev *c)
{
	/* libpq may close its socket and open another inside the poll: the
	 * watcher is stopped first and re-armed on PQsocket() after. The
	 * poll itself runs on the pool, unless no thread can be had. */
	ev_io_stop(c->loop, &c->io);
	if (!poll_submit(c))
		connect_step(c, PQconnectPoll(c->conn));
}

static void
query_io(struct vd_pq_ev *c, int revents)
{
	int fl;

	if ((revents & EV_READ) && !PQconsumeInput(c->conn)) {
		ev_io_stop(c->loop, &c->io);
		c->cbs->failed(c, VD_PQ_EV_CONSUME, c->udata);
		return;
	}
	fl = PQflush(c->conn);
	if (fl < 0) {
		ev_io_stop(c->loop, &c->io);
		c->cbs->failed(c, VD_PQ_EV_FLUSH, c->udata);
		return;
	}
	while (!PQisBusy(c->conn)) {
		PGresult *res = PQgetResult(c->conn);
		bool more;
		if (res == NULL) {
			c->in_query = false;
			ev_io_stop(c->loop, &c->io);
			c->cbs->query_done(c, c->udata);
			return;
		}
		more = c->cbs->result(c, res, c->udata);
		PQclear(res);
		if (!more) {
			ev_io_stop(c->loop, &c->io);
			return;
		}
	}
	watch(c, fl == 1 ? EV_READ | EV_WRITE : EV_READ);
}

static void
io_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	struct vd_pq_ev *c = w->data;

	if (!c->cbs->live(c->udata)) {
		ev_io_stop(loop, w); /* the owner frees c from the loop */
		return;
	}
	if (c->connecting)
		connect_io(c);
	else
		query_io(c, revents);
}

static void
notice(void *arg, const char *msg)
{
	/* Server notices are not ours to print. */
	(void)arg;
	(void)msg;
}

struct vd_pq_ev *
vd_pq_ev_connect(struct vd_prober *p, const char *const *keys,
		 const char *const *vals, const struct vd_pq_ev_cbs *cbs,
		 void *udata)
{
	struct vd_pq_ev *c = vd_xcalloc(1, sizeof(*c));

	c->prober = p;
	c->loop = vd_prober_loop(p);
	c->cbs = cbs;
	c->udata = udata;
	ev_io_init(&c->io, io_cb, 0, EV_READ);
	c->io.data = c;
	c->connecting = true;
	c->conn = PQconnectStartParams(keys, vals, 0);
	if (c->conn == NULL) {
		cbs->failed(c, VD_PQ_EV_OOM, udata);
		return c;
	}
	PQsetNoticeProcessor(c->conn, notice, NULL);
	PQsetErrorVerbosity(c->conn, PQERRORS_VERBOSE);
	if (PQstatus(c->conn) == CONNECTION_BAD) {
		cbs->failed(c, VD_PQ_EV_CONNECT, udata);
		return c;
	}
	/* As if PQconnectPoll had answered PGRES_POLLING_WRITING. */
	watch(c, EV_WRITE);
	return c;
}

void
vd_pq_ev_send(struct vd_pq_ev *c, const char *sql, bool single_row)
{
	int fl;

	if (!PQsendQuery(c->conn, sql)) {
		c->cbs->failed(c, VD_PQ_EV_SEND, c->udata);
		return;
	}
	c->in_query = true;
	if (single_row)
		PQsetSingleRowMode(c->conn);
	fl = PQflush(c->conn);
	if (fl < 0) {
		c->cbs->failed(c, VD_PQ_EV_FLUSH, c->udata);
		return;
	}
	watch(c, fl == 1 ? EV_READ | EV_WRITE : EV_READ);
}

PGconn *
vd_pq_ev_conn(const struct vd_pq_ev *c)
{
	return c->poll ? NULL : c->conn;
}

void
vd_pq_ev_free(struct vd_pq_ev *c)
{
	if (c == NULL)
		return;
	ev_io_stop(c->loop, &c->io);
	if (c->poll) {
		/* The PGconn is finished here or, if a worker is in
		 * PQconnectPoll, by that worker. */
		vd_job_abandon(c->poll->job);
		c->conn = NULL;
	}
	if (c->conn) {
		if (c->in_query)
			cancel_on_server(c->prober, c->conn);
		PQfinish(c->conn);
	}
	free(c);
}
