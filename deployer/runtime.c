/*
 * runtime.c - what one deploy command runs on: the loop and the stop
 * flag its top-level function hands over, the prober, progress lines,
 * and the one place where the deployer waits for a callback
 * (vd_dep_await) and for an HTTP request (vd_dep_fetch, on the checks'
 * client in probe/fetch.c). Owns neither the loop nor any signal.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../lib/log.h"
#include "dep_int.h"

void
vd_dep_rt_init(struct vd_dep_rt *rt, struct ev_loop *loop)
{
	memset(rt, 0, sizeof(*rt));
	rt->loop = loop;
	rt->prober = vd_prober_new(loop, NULL);
}

void
vd_dep_rt_cleanup(struct vd_dep_rt *rt)
{
	if (rt->loop == NULL)
		return;
	vd_prober_free(rt->prober);
	rt->prober = NULL;
	rt->loop = NULL;
}

bool
vd_dep_stopping(const struct vd_dep_rt *rt)
{
	return rt->stop_signal != 0 && !rt->finishing;
}

int
vd_dep_await(struct vd_dep_rt *rt, const bool *done)
{
	while (!*done) {
		if (vd_dep_stopping(rt))
			return VD_ERR_SYSTEM;
		ev_run(rt->loop, EVRUN_ONCE);
	}
	return 0;
}

void
vd_dep_await_end(struct vd_dep_rt *rt, const bool *done)
{
	while (!*done)
		ev_run(rt->loop, EVRUN_ONCE);
}

static void
fetch_cb(struct vd_fetch *f, const struct vd_fetch_resp *resp, void *udata)
{
	struct vd_dep_http *h = udata;
	(void)f;
	h->resp = *resp;
	h->done = true;
}

int
vd_dep_fetch(struct vd_dep_rt *rt, const struct vd_fetch_opts *o,
	     struct vd_dep_http *h)
{
	memset(h, 0, sizeof(*h));
	h->f = vd_fetch_start(rt->prober, o, fetch_cb, h);
	return vd_dep_await(rt, &h->done);
}

void
vd_dep_http_clear(struct vd_dep_http *h)
{
	vd_fetch_free(h->f);
	memset(h, 0, sizeof(*h));
}

char *
vd_dep_http_why(const struct vd_dep_http *h)
{
	if (!h->done)
		return vd_xstrdup("stopped");
	if (h->resp.error)
		return vd_mask(h->resp.error);
	return vd_xasprintf("HTTP %ld", h->resp.status);
}

void
vd_dep_say(const struct vd_dep_rt *rt, const char *fmt, ...)
{
	va_list ap;
	if (rt && rt->quiet)
		return;
	va_start(ap, fmt);
	vd_logv(NULL, fmt, ap);
	va_end(ap);
}
