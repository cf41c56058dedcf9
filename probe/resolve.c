/*
 * resolve.c - name resolution off the loop (a small pool of worker threads
 * calling getaddrinfo, results posted back through one ev_async) and a
 * non-blocking TCP connector built on it for the socket-speaking checks.
 * Depends on libev, pthreads and libc only; knows nothing of check types.
 *
 * Why a pool and not glibc's getaddrinfo_a: a gai_cancel() of a running
 * lookup fails, and its SIGEV_THREAD notification still fires later, on a
 * thread we do not own, possibly after the prober (and its ev_async) is
 * gone. With our own threads, cancel and shutdown are decided under one
 * mutex: a worker that finishes a cancelled lookup frees the result
 * itself, and the pool's memory is reference counted by the threads, so
 * freeing the prober while a worker sits in getaddrinfo is safe: the
 * worker notices the shutdown when it returns, frees what it holds and
 * the last thread out frees the pool. No thread ever touches the loop
 * after shutdown (ev_async_send happens under the mutex, only before it).
 */
#include <errno.h>
#include <arpa/inet.h>
#include <netdb.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>
#include <sys/socket.h>
#include <unistd.h>

#include "probe_int.h"
#include "util.h"

/* Worker threads at most per prober; lookups beyond wait in the queue. */
#define RESOLVE_THREADS 8

enum req_state {
	REQ_NUMERIC,   /* resolved at start; delivered by a zero-delay timer */
	REQ_QUEUED,    /* waiting for a worker */
	REQ_RUNNING,   /* a worker is in getaddrinfo */
	REQ_DONE,      /* result waits on the done list for the loop */
	REQ_CANCELLED, /* cancelled while running: the worker frees it */
};

struct vd_resolve {
	struct pool *pool;
	struct ev_loop *loop;
	enum req_state state; /* under pool->mu, unless numeric */
	bool numeric;	      /* set once, at start */
	char *host;
	char *port;
	int socktype;
	vd_resolve_cb *cb;
	void *udata;
	struct addrinfo *ai;
	int gai_err;
	int sys_errno;		      /* errno of the worker, for EAI_SYSTEM */
	ev_timer now;		      /* numeric hosts only */
	TAILQ_ENTRY(vd_resolve) link; /* numeric, queue or done list */
};

TAILQ_HEAD(req_list, vd_resolve);

struct pool {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct req_list numeric; /* loop thread only */
	struct req_list queue;
	struct req_list done;
	unsigned nthreads;
	unsigned nidle;
	unsigned nqueued; /* entries on queue */
	unsigned refs;	  /* the prober's one + one per thread */
	bool shutdown;
	struct ev_loop *loop;
	ev_async async;
};

static void
req_free(struct vd_resolve *r)
{
	if (r->ai)
		freeaddrinfo(r->ai);
	free(r->host);
	free(r->port);
	free(r);
}

static void
pool_unref_locked(struct pool *pl)
{
	if (--pl->refs > 0) {
		pthread_mutex_unlock(&pl->mu);
		return;
	}
	pthread_mutex_unlock(&pl->mu);
	pthread_mutex_destroy(&pl->mu);
	pthread_cond_destroy(&pl->cv);
	free(pl);
}

static int
lookup(struct vd_resolve *r, int flags, struct addrinfo **out)
{
	struct addrinfo hints;
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = r->socktype;
	hints.ai_flags = flags;
	*out = NULL;
	return getaddrinfo(r->host, r->port, &hints, out);
}

static void *
worker(void *arg)
{
	struct pool *pl = arg;
	struct vd_resolve *r;
	struct addrinfo *ai;
	int err, sys_errno;

	pthread_mutex_lock(&pl->mu);
	for (;;) {
		while (!pl->shutdown && TAILQ_EMPTY(&pl->queue)) {
			pl->nidle++;
			pthread_cond_wait(&pl->cv, &pl->mu);
			pl->nidle--;
		}
		if (pl->shutdown)
			break;
		r = TAILQ_FIRST(&pl->queue);
		TAILQ_REMOVE(&pl->queue, r, link);
		pl->nqueued--;
		r->state = REQ_RUNNING;
		pthread_mutex_unlock(&pl->mu);

		err = lookup(r, 0, &ai);

		sys_errno = errno;
		if (err != 0 && ai) {
			freeaddrinfo(ai);
			ai = NULL;
		}
		pthread_mutex_lock(&pl->mu);
		if (r->state == REQ_CANCELLED || pl->shutdown) {
			if (ai)
				freeaddrinfo(ai);
			req_free(r);
			continue;
		}
		r->ai = ai;
		r->gai_err = err;
		r->sys_errno = sys_errno;
		r->state = REQ_DONE;
		TAILQ_INSERT_TAIL(&pl->done, r, link);
		ev_async_send(pl->loop, &pl->async);
	}
	pl->nthreads--;
	pool_unref_locked(pl);
	return NULL;
}

/* Delivers finished lookups, one at a time: a callback may cancel a
 * lookup that is still on the done list. */
static void
async_cb(struct ev_loop *loop, ev_async *w, int revents)
{
	struct pool *pl = w->data;
	struct vd_resolve *r;
	(void)loop;
	(void)revents;

	for (;;) {
		pthread_mutex_lock(&pl->mu);
		r = TAILQ_FIRST(&pl->done);
		if (r)
			TAILQ_REMOVE(&pl->done, r, link);
		pthread_mutex_unlock(&pl->mu);
		if (r == NULL)
			break;
		errno = r->sys_errno;
		r->cb(r->ai, r->gai_err, r->udata);
		r->ai = NULL; /* the callee owns it now */
		req_free(r);
	}
}

static void *
pool_create(struct vd_prober *p)
{
	struct pool *pl = vd_xcalloc(1, sizeof(*pl));
	pthread_mutex_init(&pl->mu, NULL);
	pthread_cond_init(&pl->cv, NULL);
	TAILQ_INIT(&pl->numeric);
	TAILQ_INIT(&pl->queue);
	TAILQ_INIT(&pl->done);
	pl->refs = 1;
	pl->loop = vd_prober_loop(p);
	ev_async_init(&pl->async, async_cb);
	pl->async.data = pl;
	ev_async_start(pl->loop, &pl->async);
	/* Pending lookups belong to attempts whose deadlines keep the loop
	 * alive; the watcher itself must not. */
	ev_unref(pl->loop);
	return pl;
}

static void
pool_destroy(void *state)
{
	struct pool *pl = state;
	struct vd_resolve *r;

	pthread_mutex_lock(&pl->mu);
	pl->shutdown = true;
	ev_ref(pl->loop);
	ev_async_stop(pl->loop, &pl->async);
	/* Lookups still listed belong to nobody any more: every owner
	 * was cancelled before the prober's shared state goes. */
	while ((r = TAILQ_FIRST(&pl->numeric)) != NULL) {
		TAILQ_REMOVE(&pl->numeric, r, link);
		ev_timer_stop(pl->loop, &r->now);
		req_free(r);
	}
	while ((r = TAILQ_FIRST(&pl->queue)) != NULL) {
		TAILQ_REMOVE(&pl->queue, r, link);
		req_free(r);
	}
	pl->nqueued = 0;
	while ((r = TAILQ_FIRST(&pl->done)) != NULL) {
		TAILQ_REMOVE(&pl->done, r, link);
		req_free(r);
	}
	/* Running lookups are not listed anywhere: their owners cancelled
	 * them (state REQ_CANCELLED) or, if not, the worker that holds one
	 * sees the shutdown and frees it. */
	pthread_cond_broadcast(&pl->cv);
	pool_unref_locked(pl);
}

/* Called with pl->mu held. Returns 0 or an errno. */
static int
spawn_locked(struct pool *pl)
{
	pthread_attr_t attr;
	pthread_t tid;
	sigset_t all, old;
	int err;

	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	/* Signals belong to the loop's thread (libev, ev_child). */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	err = pthread_create(&tid, &attr, worker, pl);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	pthread_attr_destroy(&attr);
	if (err == 0) {
		pl->nthreads++;
		pl->refs++;
	}
	return err;
}

static void
numeric_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct vd_resolve *r = w->data;
	(void)revents;
	ev_timer_stop(loop, w);
	TAILQ_REMOVE(&r->pool->numeric, r, link);
	r->cb(r->ai, 0, r->udata);
	r->ai = NULL;
	req_free(r);
}

struct vd_resolve *
vd_resolve_start(struct vd_prober *p, const char *host, const char *port,
		 int socktype, vd_resolve_cb *cb, void *udata)
{
	struct vd_resolve *r = vd_xcalloc(1, sizeof(*r));
	struct pool *pl =
		vd_prober_shared(p, "resolve", pool_create, pool_destroy);
	struct addrinfo *ai;

	r->pool = pl;
	r->loop = vd_prober_loop(p);
	r->host = vd_xstrdup(host);
	r->port = vd_xstrdup(port);
	r->socktype = socktype;
	r->cb = cb;
	r->udata = udata;

	/* A numeric host never touches DNS or /etc/hosts: no thread. */
	if (lookup(r, AI_NUMERICHOST, &ai) == 0) {
		r->ai = ai;
		r->numeric = true;
		r->state = REQ_NUMERIC;
		TAILQ_INSERT_TAIL(&pl->numeric, r, link);
		ev_timer_init(&r->now, numeric_cb, 0., 0.);
		r->now.data = r;
		ev_timer_start(r->loop, &r->now);
		return r;
	}

	pthread_mutex_lock(&pl->mu);
	r->state = REQ_QUEUED;
	TAILQ_INSERT_TAIL(&pl->queue, r, link);
	pl->nqueued++;
	/* a thread for every waiting lookup, up to the limit */
	if (pl->nqueued > pl->nidle && pl->nthreads < RESOLVE_THREADS &&
	    spawn_locked(pl) != 0 && pl->nthreads == 0) {
		/* No thread at all: fail the lookup through the loop. */
		TAILQ_REMOVE(&pl->queue, r, link);
		pl->nqueued--;
		r->gai_err = EAI_AGAIN;
		r->state = REQ_DONE;
		TAILQ_INSERT_TAIL(&pl->done, r, link);
		ev_async_send(pl->loop, &pl->async);
	}
	pthread_cond_signal(&pl->cv);
	pthread_mutex_unlock(&pl->mu);
	return r;
}

void
vd_resolve_cancel(struct vd_resolve *r)
{
	struct pool *pl;

	if (r == NULL)
		return;
	pl = r->pool;
	if (r->numeric) {
		ev_timer_stop(r->loop, &r->now);
		TAILQ_REMOVE(&pl->numeric, r, link);
		req_free(r);
		return;
	}
	pthread_mutex_lock(&pl->mu);
	switch (r->state) {
	case REQ_QUEUED:
		TAILQ_REMOVE(&pl->queue, r, link);
		pl->nqueued--;
		req_free(r);
		break;
	case REQ_DONE:
		TAILQ_REMOVE(&pl->done, r, link);
		req_free(r);
		break;
	case REQ_RUNNING:
		r->state = REQ_CANCELLED; /* the worker frees it */
		break;
	case REQ_NUMERIC:
	case REQ_CANCELLED:
		break;
	}
	pthread_mutex_unlock(&pl->mu);
}

/* --- connecting ------------------------------------------------------ */

struct vd_connect {
	struct vd_attempt *att;
	struct vd_resolve *res;
	struct addrinfo *ai;  /* every address, in resolver order */
	struct addrinfo *cur; /* the one being tried */
	int fd;		      /* -1 when none is owned */
	ev_io io;
	vd_connect_cb *cb;
	void *udata;
	char *host;
	double resolved; /* ev_now when the lookup ended */
	int last_err;	 /* errno of the last failed address */
	unsigned tried;
	char addr[INET6_ADDRSTRLEN + 32];
};

static void
format_addr(const struct sockaddr *sa, socklen_t len, char *buf, size_t buflen)
{
	char h[INET6_ADDRSTRLEN], s[16];
	if (getnameinfo(sa, len, h, sizeof(h), s, sizeof(s),
			NI_NUMERICHOST | NI_NUMERICSERV) != 0) {
		snprintf(buf, buflen, "?");
		return;
	}
	if (sa->sa_family == AF_INET6)
		snprintf(buf, buflen, "[%s]:%s", h, s);
	else
		snprintf(buf, buflen, "%s:%s", h, s);
}

static void try_next(struct vd_connect *c);

static void
connected(struct vd_connect *c)
{
	struct vd_attempt *att = c->att;
	int fd = c->fd;

	ev_io_stop(att->loop, &c->io);
	c->fd = -1;
	att->result->timings[VD_PHASE_CONNECT] =
		ev_now(att->loop) - c->resolved;
	vd_result_fact_str(att->result, "address", c->addr);
	c->cb(fd, c->udata);
}

static void
failed_addr(struct vd_connect *c, int err)
{
	ev_io_stop(c->att->loop, &c->io);
	close(c->fd);
	c->fd = -1;
	c->last_err = err;
	c->cur = c->cur->ai_next;
	try_next(c);
}

static void
io_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	struct vd_connect *c = w->data;
	int err = 0;
	socklen_t len = sizeof(err);
	(void)loop;
	(void)revents;

	if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
		err = errno;
	if (err == EINPROGRESS || err == EALREADY)
		return;
	if (err != 0)
		failed_addr(c, err);
	else
		connected(c);
}

static void
all_failed(struct vd_connect *c)
{
	char more[64] = "";
	struct vd_attempt *att = c->att;

	if (c->tried > 1)
		snprintf(more, sizeof(more), ", %u addresses tried", c->tried);
	att->result->timings[VD_PHASE_CONNECT] =
		ev_now(att->loop) - c->resolved;
	switch (c->last_err) {
	case ECONNREFUSED:
		vd_attempt_finish(att, VD_STATUS_ERROR, VD_REASON_REFUSED,
				  "connection refused (%s%s)", c->addr, more);
		break;
	case EHOSTUNREACH:
	case ENETUNREACH:
	case EADDRNOTAVAIL:
	case EAFNOSUPPORT:
		vd_attempt_finish(att, VD_STATUS_ERROR, VD_REASON_CONNECT,
				  "unreachable: %s (%s%s)",
				  strerror(c->last_err), c->addr, more);
		break;
	case ETIMEDOUT:
		vd_attempt_finish(att, VD_STATUS_ERROR, VD_REASON_TIMEOUT,
				  "connect timed out (%s%s)", c->addr, more);
		break;
	default:
		vd_attempt_finish(att, VD_STATUS_ERROR, VD_REASON_CONNECT,
				  "connect failed: %s (%s%s)",
				  strerror(c->last_err), c->addr, more);
		break;
	}
}

static void
try_next(struct vd_connect *c)
{
	struct vd_attempt *att = c->att;

	for (; c->cur; c->cur = c->cur->ai_next) {
		struct addrinfo *a = c->cur;
		c->tried++;
		format_addr(a->ai_addr, a->ai_addrlen, c->addr,
			    sizeof(c->addr));
		c->fd = socket(a->ai_family,
			       a->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC,
			       a->ai_protocol);
		if (c->fd < 0) {
			if (errno == EMFILE || errno == ENFILE ||
			    errno == ENOBUFS || errno == ENOMEM) {
				vd_attempt_finish(att, VD_STATUS_ERROR,
						  VD_REASON_INTERNAL,
						  "socket: %s",
						  strerror(errno));
				return;
			}
			c->last_err = errno;
			continue;
		}
		if (connect(c->fd, a->ai_addr, a->ai_addrlen) == 0) {
			connected(c);
			return;
		}
		if (errno == EINPROGRESS || errno == EINTR) {
			ev_io_init(&c->io, io_cb, c->fd, EV_WRITE);
			c->io.data = c;
			ev_io_start(att->loop, &c->io);
			return;
		}
		c->last_err = errno;
		close(c->fd);
		c->fd = -1;
	}
	all_failed(c);
}

static void
resolved_cb(struct addrinfo *ai, int gai_err, void *udata)
{
	struct vd_connect *c = udata;
	struct vd_attempt *att = c->att;

	c->res = NULL;
	c->resolved = ev_now(att->loop);
	att->result->timings[VD_PHASE_RESOLVE] = c->resolved - att->start;
	if (ai == NULL) {
		vd_attempt_finish(att, VD_STATUS_ERROR, VD_REASON_DNS,
				  "could not resolve %s: %s", c->host,
				  gai_err == EAI_SYSTEM
					  ? strerror(errno)
					  : gai_strerror(gai_err));
		return;
	}
	c->ai = ai;
	c->cur = ai;
	try_next(c);
}

struct vd_connect *
vd_connect_start(struct vd_attempt *att, const char *host, const char *port,
		 vd_connect_cb *cb, void *udata)
{
	struct vd_connect *c = vd_xcalloc(1, sizeof(*c));
	c->att = att;
	c->fd = -1;
	c->cb = cb;
	c->udata = udata;
	c->host = vd_xstrdup(host);
	c->res = vd_resolve_start(att->prober, host, port, SOCK_STREAM,
				  resolved_cb, c);
	return c;
}

void
vd_connect_free(struct vd_connect *c)
{
	if (c == NULL)
		return;
	vd_resolve_cancel(c->res);
	if (c->fd >= 0) {
		ev_io_stop(c->att->loop, &c->io);
		close(c->fd);
	}
	if (c->ai)
		freeaddrinfo(c->ai);
	free(c->host);
	free(c);
}
