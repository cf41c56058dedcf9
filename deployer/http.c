/*
 * http.c - the deployer's HTTP requests on its own libcurl multi handle
 * (driven by the loop through lib/curl_ev.h), the run-time (loop, stop
 * signals) and progress lines. A phase runs the loop until its requests
 * are done or a stop signal arrives.
 */
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "../lib/trust.h"
#include "dep_int.h"

#define DEFAULT_MAX_BODY (1024 * 1024)

/* A request's transfer is done: record what the server said. */
static void
done_cb(CURL *easy, CURLcode code, void *udata)
{
	struct vd_dep_http_req *r = udata;
	r->code = code;
	curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &r->status);
	r->done = true;
}

void
vd_dep_http_req_init(struct vd_dep_http_req *r, const char *method,
		     const char *url)
{
	memset(r, 0, sizeof(*r));
	r->method = vd_xstrdup(method);
	r->url = vd_xstrdup(url);
	r->timeout = 30;
	vd_buf_init(&r->resp, DEFAULT_MAX_BODY);
}

void
vd_dep_http_req_header(struct vd_dep_http_req *r, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	r->headers = vd_xreallocarray(r->headers, r->nheaders + 1,
				      sizeof(*r->headers));
	r->headers[r->nheaders++] = vd_xvasprintf(fmt, ap);
	va_end(ap);
}

void
vd_dep_http_req_clear(struct vd_dep_http_req *r)
{
	size_t i;
	if (r->easy)
		curl_easy_cleanup(r->easy);
	curl_slist_free_all(r->slist);
	free(r->method);
	vd_free_secret(r->url);
	for (i = 0; i < r->nheaders; i++)
		vd_free_secret(r->headers[i]);
	free(r->headers);
	free(r->body);
	vd_free_secret(r->userpwd);
	vd_buf_free(&r->resp);
	free(r->www_authenticate);
	free(r->digest);
	memset(r, 0, sizeof(*r));
}

static size_t
write_cb(char *p, size_t size, size_t n, void *udata)
{
	struct vd_dep_http_req *r = udata;
	/* keep up to the cap, swallow the rest */
	vd_buf_append(&r->resp, p, size * n);
	return size * n;
}

/* The value of header line p if it is header name, else NULL. */
static char *
header_value(const char *p, size_t len, const char *name)
{
	size_t nl = strlen(name);
	const char *v;
	size_t vl;
	if (len <= nl || strncasecmp(p, name, nl) != 0 || p[nl] != ':')
		return NULL;
	v = p + nl + 1;
	vl = len - nl - 1;
	while (vl && (*v == ' ' || *v == '\t')) {
		v++;
		vl--;
	}
	while (vl &&
	       (v[vl - 1] == '\r' || v[vl - 1] == '\n' || v[vl - 1] == ' '))
		vl--;
	return vd_xstrndup(v, vl);
}

static size_t
header_cb(char *p, size_t size, size_t n, void *udata)
{
	struct vd_dep_http_req *r = udata;
	size_t len = size * n;
	char *v;
	if (len >= 5 && strncmp(p, "HTTP/", 5) == 0) {
		/* a new response (after a 100 or a redirect) */
		free(r->www_authenticate);
		free(r->digest);
		r->www_authenticate = r->digest = NULL;
	} else if ((v = header_value(p, len, "WWW-Authenticate")) != NULL) {
		free(r->www_authenticate);
		r->www_authenticate = v;
	} else if ((v = header_value(p, len, "Docker-Content-Digest")) !=
		   NULL) {
		free(r->digest);
		r->digest = v;
	}
	return len;
}

static void
setup(struct vd_dep_http_req *r)
{
	CURL *e = curl_easy_init();
	size_t i;
	if (e == NULL)
		abort();
	r->easy = e;
	r->resp.cap_max = r->max_body ? r->max_body : DEFAULT_MAX_BODY;
	curl_easy_setopt(e, CURLOPT_URL, r->url);
	curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(e, CURLOPT_USERAGENT, "verdict/" VD_VERSION);
	curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, (long)(r->timeout * 1000.0));
	curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS,
			 (long)(r->timeout * 1000.0));
	curl_easy_setopt(e, CURLOPT_ERRORBUFFER, r->errbuf);
	curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, write_cb);
	curl_easy_setopt(e, CURLOPT_WRITEDATA, r);
	curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, header_cb);
	curl_easy_setopt(e, CURLOPT_HEADERDATA, r);
	if (strcmp(r->method, "HEAD") == 0)
		curl_easy_setopt(e, CURLOPT_NOBODY, 1L);
	else if (strcmp(r->method, "GET") != 0)
		curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, r->method);
	if (r->body) {
		curl_easy_setopt(e, CURLOPT_POSTFIELDS, r->body);
		curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE,
				 (long)strlen(r->body));
	}
	for (i = 0; i < r->nheaders; i++)
		r->slist = curl_slist_append(r->slist, r->headers[i]);
	/* no 100-continue round trip for our small bodies */
	r->slist = curl_slist_append(r->slist, "Expect:");
	curl_easy_setopt(e, CURLOPT_HTTPHEADER, r->slist);
	if (r->userpwd) {
		curl_easy_setopt(e, CURLOPT_HTTPAUTH, (long)CURLAUTH_BASIC);
		curl_easy_setopt(e, CURLOPT_USERPWD, r->userpwd);
	}
	vd_trust_curl(NULL, e, r->tls, NULL, 0);
}

int
vd_dep_http_run(struct vd_dep_rt *rt, struct vd_dep_http_req **reqs, size_t n)
{
	size_t i, left;
	int r = 0;

	for (i = 0; i < n; i++) {
		struct vd_dep_http_req *q = reqs[i];
		q->done = false;
		q->status = 0;
		q->errbuf[0] = '\0';
		vd_buf_reset(&q->resp);
		q->resp.truncated = false;
		free(q->www_authenticate);
		free(q->digest);
		q->www_authenticate = q->digest = NULL;
		if (q->easy) {
			curl_easy_cleanup(q->easy);
			q->easy = NULL;
		}
		curl_slist_free_all(q->slist);
		q->slist = NULL;
		setup(q);
		if (vd_curl_ev_add(rt->http, q->easy, done_cb, q) < 0) {
			q->code = CURLE_FAILED_INIT;
			q->done = true;
		}
	}
	for (;;) {
		left = 0;
		for (i = 0; i < n; i++)
			left += !reqs[i]->done;
		if (left == 0)
			break;
		if (rt->stop_signal && !rt->finishing) {
			r = VD_ERR_SYSTEM;
			break;
		}
		ev_run(rt->loop, EVRUN_ONCE);
	}
	for (i = 0; i < n; i++)
		if (reqs[i]->easy)
			vd_curl_ev_remove(rt->http, reqs[i]->easy);
	return r;
}

char *
vd_dep_http_why(const struct vd_dep_http_req *r)
{
	char *raw, *m;
	if (!r->done)
		raw = vd_xstrdup("stopped");
	else if (r->code != CURLE_OK)
		raw = vd_xstrdup(r->errbuf[0] ? r->errbuf
					      : curl_easy_strerror(r->code));
	else
		raw = vd_xasprintf("HTTP %ld", r->status);
	m = vd_mask(raw);
	free(raw);
	return m;
}

/* --- run-time ---------------------------------------------------------- */

static void
signal_cb(struct ev_loop *loop, ev_signal *w, int revents)
{
	struct vd_dep_rt *rt = w->data;
	(void)revents;
	if (rt->stop_signal == 0)
		rt->stop_signal = w->signum;
	ev_break(loop, EVBREAK_ALL);
}

void
vd_dep_rt_init(struct vd_dep_rt *rt)
{
	memset(rt, 0, sizeof(*rt));
	rt->loop = EV_DEFAULT;
	ev_signal_init(&rt->sigint, signal_cb, SIGINT);
	ev_signal_init(&rt->sigterm, signal_cb, SIGTERM);
	ev_signal_init(&rt->sighup, signal_cb, SIGHUP);
	rt->sigint.data = rt->sigterm.data = rt->sighup.data = rt;
	ev_signal_start(rt->loop, &rt->sigint);
	ev_signal_start(rt->loop, &rt->sigterm);
	ev_signal_start(rt->loop, &rt->sighup);
	/* the signal watchers must not keep ev_run alive by themselves */
	ev_unref(rt->loop);
	ev_unref(rt->loop);
	ev_unref(rt->loop);
	rt->http = vd_curl_ev_new(rt->loop);
	rt->prober = vd_prober_new(rt->loop, NULL);
}

void
vd_dep_rt_cleanup(struct vd_dep_rt *rt)
{
	if (rt->loop == NULL)
		return;
	vd_prober_free(rt->prober);
	vd_curl_ev_free(rt->http);
	ev_ref(rt->loop);
	ev_ref(rt->loop);
	ev_ref(rt->loop);
	ev_signal_stop(rt->loop, &rt->sigint);
	ev_signal_stop(rt->loop, &rt->sigterm);
	ev_signal_stop(rt->loop, &rt->sighup);
	rt->loop = NULL;
}

void
vd_dep_say(const struct vd_dep_rt *rt, const char *fmt, ...)
{
	va_list ap;
	char *m;
	if (rt && rt->quiet)
		return;
	va_start(ap, fmt);
	m = vd_xvasprintf_masked(fmt, ap);
	va_end(ap);
	fprintf(stderr, "verdict: %s\n", m);
	free(m);
}
