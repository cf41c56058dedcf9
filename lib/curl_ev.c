/*
 * curl_ev.c - libcurl's multi interface driven by libev: one ev_io per
 * socket libcurl asks us to watch, one ev_timer for its timeout, and
 * curl_multi_socket_action() on every event. Depends on libcurl and libev
 * only (no prober state: the deployer uses it too).
 */
#include <stdbool.h>
#include <stdlib.h>

#include "curl_ev.h"
#include "err.h"
#include "util.h"

struct vd_curl_ev {
	struct ev_loop *loop;
	CURLM *multi;
	ev_timer timer;
	int running;
};

struct sock {
	ev_io io;
	struct vd_curl_ev *ev;
	curl_socket_t fd;
};

/* One transfer: what vd_curl_ev_add() was given. */
struct xfer {
	vd_curl_ev_done_cb *cb;
	void *udata;
	bool done;
};

/* Runs the done callbacks, after socket_action has returned. */
static void
check_done(struct vd_curl_ev *ev)
{
	CURLMsg *msg;
	int left;

	while ((msg = curl_multi_info_read(ev->multi, &left)) != NULL) {
		struct xfer *x = NULL;
		if (msg->msg != CURLMSG_DONE)
			continue;
		curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE,
				  (char **)&x);
		if (x == NULL || x->done)
			continue;
		x->done = true;
		x->cb(msg->easy_handle, msg->data.result, x->udata);
	}
}

static void
action(struct vd_curl_ev *ev, curl_socket_t fd, int ev_bitmask)
{
	curl_multi_socket_action(ev->multi, fd, ev_bitmask, &ev->running);
	check_done(ev);
}

static void
io_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	struct sock *s = (struct sock *)w;
	int mask = 0;
	(void)loop;
	if (revents & EV_READ)
		mask |= CURL_CSELECT_IN;
	if (revents & EV_WRITE)
		mask |= CURL_CSELECT_OUT;
	action(s->ev, s->fd, mask);
}

static void
timer_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct vd_curl_ev *ev = w->data;
	(void)loop;
	(void)revents;
	action(ev, CURL_SOCKET_TIMEOUT, 0);
}

static int
multi_timer_cb(CURLM *multi, long timeout_ms, void *userp)
{
	struct vd_curl_ev *ev = userp;
	(void)multi;
	ev_timer_stop(ev->loop, &ev->timer);
	if (timeout_ms >= 0) {
		/* 0 ms arms a zero-delay timer: never call socket_action
		 * from inside this callback. */
		ev_timer_set(&ev->timer, (double)timeout_ms / 1000.0, 0.);
		ev_timer_start(ev->loop, &ev->timer);
	}
	return 0;
}

static int
socket_cb(CURL *easy, curl_socket_t fd, int what, void *userp, void *sockp)
{
	struct vd_curl_ev *ev = userp;
	struct sock *s = sockp;
	int kind;
	(void)easy;

	if (what == CURL_POLL_REMOVE) {
		if (s) {
			ev_io_stop(ev->loop, &s->io);
			curl_multi_assign(ev->multi, fd, NULL);
			free(s);
		}
		return 0;
	}
	kind = (what & CURL_POLL_IN ? EV_READ : 0) |
	       (what & CURL_POLL_OUT ? EV_WRITE : 0);
	if (s == NULL) {
		s = vd_xcalloc(1, sizeof(*s));
		s->ev = ev;
		s->fd = fd;
		ev_io_init(&s->io, io_cb, fd, kind);
		curl_multi_assign(ev->multi, fd, s);
	} else {
		ev_io_stop(ev->loop, &s->io);
		ev_io_set(&s->io, fd, kind);
	}
	ev_io_start(ev->loop, &s->io);
	return 0;
}

struct vd_curl_ev *
vd_curl_ev_new(struct ev_loop *loop)
{
	struct vd_curl_ev *ev = vd_xcalloc(1, sizeof(*ev));
	ev->loop = loop;
	ev->multi = curl_multi_init();
	if (ev->multi == NULL)
		abort();
	curl_multi_setopt(ev->multi, CURLMOPT_SOCKETFUNCTION, socket_cb);
	curl_multi_setopt(ev->multi, CURLMOPT_SOCKETDATA, ev);
	curl_multi_setopt(ev->multi, CURLMOPT_TIMERFUNCTION, multi_timer_cb);
	curl_multi_setopt(ev->multi, CURLMOPT_TIMERDATA, ev);
	ev_timer_init(&ev->timer, timer_cb, 0., 0.);
	ev->timer.data = ev;
	return ev;
}

void
vd_curl_ev_free(struct vd_curl_ev *ev)
{
	if (ev == NULL)
		return;
	ev_timer_stop(ev->loop, &ev->timer);
	curl_multi_cleanup(ev->multi);
	free(ev);
}

CURLM *
vd_curl_ev_multi(struct vd_curl_ev *ev)
{
	return ev->multi;
}

int
vd_curl_ev_add(struct vd_curl_ev *ev, CURL *easy, vd_curl_ev_done_cb *cb,
	       void *udata)
{
	struct xfer *x = vd_xcalloc(1, sizeof(*x));
	x->cb = cb;
	x->udata = udata;
	curl_easy_setopt(easy, CURLOPT_PRIVATE, (char *)x);
	if (curl_multi_add_handle(ev->multi, easy) != CURLM_OK) {
		curl_easy_setopt(easy, CURLOPT_PRIVATE, NULL);
		free(x);
		return VD_ERR_SYSTEM;
	}
	return 0;
}

void
vd_curl_ev_remove(struct vd_curl_ev *ev, CURL *easy)
{
	struct xfer *x = NULL;
	curl_easy_getinfo(easy, CURLINFO_PRIVATE, (char **)&x);
	curl_multi_remove_handle(ev->multi, easy);
	curl_easy_setopt(easy, CURLOPT_PRIVATE, NULL);
	free(x);
}
