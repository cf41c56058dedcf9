/*
 * resolve.c - name resolution off the loop (getaddrinfo on a small pool
 * of worker threads, probe/workers.c) and a non-blocking TCP connector
 * built on it for the socket-speaking checks.
 * Depends on libev, pthreads and libc only; knows nothing of check types.
 *
 * Why a pool and not glibc's getaddrinfo_a: a gai_cancel() of a running
 * lookup fails, and its SIGEV_THREAD notification still fires later, on a
 * thread we do not own, possibly after the prober (and its ev_async) is
 * gone. With our own threads, cancel and shutdown are decided under one
 * mutex: a worker that finishes a cancelled lookup frees the result
 * itself. The pool's threads are detached (getaddrinfo can block for
 * seconds), so freeing the prober while a worker sits in getaddrinfo is
 * safe and does not wait: the worker notices the shutdown when it returns,
 * frees what it holds and the last thread out frees the pool.
 */
#include <errno.h>
#include <arpa/inet.h>
#include <netdb.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>
#include <sys/socket.h>
#include <unistd.h>

#include "probe_int.h"
#include "../lib/util.h"

/* Worker threads at most per prober; lookups beyond wait in the queue. */
#define RESOLVE_THREADS 8

struct vd_resolve {
	struct resolver *rs;
	struct vd_job *job; /* NULL: on the now list */
	char *host;
	char *port;
	int socktype;
	vd_resolve_cb *cb;
	void *udata;
	struct addrinfo *ai;
	int gai_err;
	int sys_errno;		      /* errno of the worker, for EAI_SYSTEM */
	ev_timer now;		      /* now list only */
	TAILQ_ENTRY(vd_resolve) link; /* now list */
};

TAILQ_HEAD(req_list, vd_resolve);

/* Per prober. */
struct resolver {
	struct ev_loop *loop;
	/* numeric hosts resolved at start, and lookups failed for want of
	 * a thread: delivered by a zero-delay timer (loop thread only) */
	struct req_list now;
	struct vd_workers *workers;
};

static void
req_free(void *arg)
{
	struct vd_resolve *r = arg;
	if (r->ai)
		freeaddrinfo(r->ai);
	free(r->host);
	free(r->port);
	free(r);
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

/* On a worker thread. */
static void
lookup_job(void *arg)
{
	struct vd_resolve *r = arg;
	struct addrinfo *ai;

	r->gai_err = lookup(r, 0, &ai);
	r->sys_errno = errno;
	if (r->gai_err != 0 && ai) {
		freeaddrinfo(ai);
		ai = NULL;
	}
	r->ai = ai;
}

/* On the loop: delivers a result. A callback may cancel a lookup that
 * still waits for delivery. */
static void
deliver(void *arg)
{
	struct vd_resolve *r = arg;

	errno = r->sys_errno;
	r->cb(r->ai, r->gai_err, r->udata);
	r->ai = NULL; /* the callee owns it now */
	req_free(r);
}

static void *
resolver_create(struct vd_prober *p)
{
	struct resolver *rs = vd_xcalloc(1, sizeof(*rs));
	rs->loop = vd_prober_loop(p);
	TAILQ_INIT(&rs->now);
	rs->workers = vd_workers_new(rs->loop, RESOLVE_THREADS, false);
	return rs;
}

static void
resolver_destroy(void *state)
{
	struct resolver *rs = state;
	struct vd_resolve *r;

	/* Lookups still pending belong to nobody any more: every owner
	 * was cancelled before the prober's shared state goes. */
	while ((r = TAILQ_FIRST(&rs->now)) != NULL) {
		TAILQ_REMOVE(&rs->now, r, link);
		ev_timer_stop(rs->loop, &r->now);
		req_free(r);
	}
	vd_workers_free(rs->workers);
	free(rs);
}

static void
now_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct vd_resolve *r = w->data;
	(void)revents;
	ev_timer_stop(loop, w);
	TAILQ_REMOVE(&r->rs->now, r, link);
	deliver(r);
}

/* Delivers r from the loop without a thread. */
static void
deliver_soon(struct vd_resolve *r)
{
	TAILQ_INSERT_TAIL(&r->rs->now, r, link);
	ev_timer_init(&r->now, now_cb, 0., 0.);
	r->now.data = r;
	ev_timer_start(r->rs->loop, &r->now);
}

struct vd_resolve *
vd_resolve_start(struct vd_prober *p, const char *host, const char *port,
		 int socktype, vd_resolve_cb *cb, void *udata)
{
	struct vd_resolve *r = vd_xcalloc(1, sizeof(*r));
	struct addrinfo *ai;

	r->rs = vd_prober_shared(p, "resolve", resolver_create,
				 resolver_destroy);
	r->host = vd_xstrdup(host);
	r->port = vd_xstrdup(port);
	r->socktype = socktype;
	r->cb = cb;
	r->udata = udata;

	/* A numeric host never touches DNS or /etc/hosts: no thread. */
	if (lookup(r, AI_NUMERICHOST, &ai) == 0) {
		r->ai = ai;
		deliver_soon(r);
		return r;
	}
	r->job =
		vd_job_submit(r->rs->workers, lookup_job, deliver, req_free, r);
	if (r->job == NULL) {
		/* No thread at all: fail the lookup through the loop. */
		r->gai_err = EAI_AGAIN;
		deliver_soon(r);
	}
	return r;
}

void
vd_resolve_cancel(struct vd_resolve *r)
{
	if (r == NULL)
		return;
	if (r->job) {
		vd_job_abandon(r->job); /* frees r, here or on the worker */
		return;
	}
	ev_timer_stop(r->rs->loop, &r->now);
	TAILQ_REMOVE(&r->rs->now, r, link);
	req_free(r);
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
				vd_attempt_finish(
					att, VD_STATUS_ERROR,
					VD_REASON_INTERNAL, "%s(socket: %s)",
					errno == EMFILE || errno == ENFILE
						? "out of file descriptors "
						: "",
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

/*
 * The check's hop judge (the exporter's /probe allow list) on the host and
 * on each address: refused addresses are skipped. Returns false after
 * finishing the attempt when nothing is left.
 */
static bool
judged(struct vd_connect *c)
{
	const struct vd_check *chk = c->att->check;
	struct addrinfo **pp = &c->ai, *a;
	const char *why = chk->hop_judge(chk->hop_ctx, c->host, NULL);
	char first[INET6_ADDRSTRLEN] = "";

	if (why) {
		vd_attempt_finish(c->att, VD_STATUS_ERROR, VD_REASON_POLICY,
				  "host %s %s", c->host, why);
		return false;
	}
	while ((a = *pp) != NULL) {
		const char *w =
			chk->hop_judge(chk->hop_ctx, c->host, a->ai_addr);
		if (w == NULL) {
			pp = &a->ai_next;
			continue;
		}
		if (why == NULL) {
			why = w;
			vd_addr_format(a->ai_addr, first, sizeof(first));
		}
		*pp = a->ai_next; /* glibc frees each node on its own */
		a->ai_next = NULL;
		freeaddrinfo(a);
	}
	c->cur = c->ai;
	if (c->ai)
		return true;
	vd_attempt_finish(c->att, VD_STATUS_ERROR, VD_REASON_POLICY,
			  "%s (address %s) %s", c->host, first, why);
	return false;
}

static void
resolved_cb(struct addrinfo *ai, int gai_err, void *udata)
{
	struct vd_connect *c = udata;
	struct vd_attempt *att = c->att;

	c->res = NULL;
	c->resolved = ev_now(att->loop);
	att->result->timings[VD_PHASE_RESOLVE] = c->resolved - att->start;
	if (ai == NULL && gai_err == EAI_SYSTEM &&
	    (errno == EMFILE || errno == ENFILE)) {
		vd_attempt_finish(att, VD_STATUS_ERROR, VD_REASON_INTERNAL,
				  "out of file descriptors (resolving %s)",
				  c->host);
		return;
	}
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
	if (att->check->hop_judge && !judged(c))
		return;
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
