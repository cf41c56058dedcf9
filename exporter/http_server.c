/*
 * http_server.c - libmicrohttpd in its external epoll mode on the libev
 * loop: an ev_io on MHD's epoll fd and an ev_timer on MHD_get_timeout(),
 * MHD_run() on either. Routes /metrics, /probe (the connection is
 * suspended while its check runs), /healthz, /-/reload; basic auth,
 * 405 with Allow, size and connection limits. All libmicrohttpd calls of
 * the exporter live here.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <microhttpd.h>

#include "../probe/util.h"
#include "exporter_int.h"

#define MAX_BODY (64 * 1024) /* request bodies, bytes */
/* A body over MAX_BODY is read and dropped up to DRAIN_MAX, so that the
 * client reads our 413 (closing on unread data would reset the
 * connection under it); past DRAIN_MAX we answer and close at once. */
#define DRAIN_MAX      (1024 * 1024)
#define CONN_MEMORY    (32 * 1024) /* per connection: headers, URL */
#define LISTEN_BACKLOG 1024
/* Send buffer of each client connection, bytes (the kernel doubles it).
 * Bounds what one MHD_run() copies per connection: with 200 scrapers of
 * a 10 MB page, loopback autotuning (up to 4 MB each) would copy close
 * to a gigabyte in one pass and hold the checks' timers that long. */
#define CONN_SNDBUF (128 * 1024)
#define CT_TEXT	    "text/plain; charset=utf-8"
#define CT_METRICS  "text/plain; version=0.0.4; charset=utf-8"

struct req {
	struct vd_exp_http *h;
	struct MHD_Connection *conn;
	size_t body_bytes;
	bool answered; /* a response is queued */
	/* /probe */
	struct vd_exp_probe *probe;
	bool ready; /* the probe's answer waits in status/body */
	unsigned status;
	const char *ctype;
	char *body;
	size_t len;
	struct req *next, **prevp; /* h->waiting while suspended */
};

struct vd_exp_http {
	struct vd_exp *ex;
	struct MHD_Daemon *d;
	ev_io io;
	ev_timer timer;
	struct req *waiting; /* suspended /probe requests */
	bool closed;	     /* a connection closed during MHD_run() */
};

static void
rearm(struct vd_exp_http *h)
{
	MHD_UNSIGNED_LONG_LONG ms;
	ev_timer_stop(h->ex->loop, &h->timer);
	if (MHD_get_timeout(h->d, &ms) == MHD_YES) {
		ev_timer_set(&h->timer, (double)ms / 1000.0, 0.);
		ev_timer_start(h->ex->loop, &h->timer);
	}
}

static void
run(struct vd_exp_http *h)
{
	h->closed = false;
	MHD_run(h->d);
	if (h->closed) {
		/* At max_connections libmicrohttpd takes its listen socket out
		 * of its epoll set and puts it back only at the start of the
		 * next MHD_run(), which nothing would trigger: connections
		 * waiting in the backlog would wait for an unrelated event.
		 * Run again soon when a slot may have freed. */
		ev_timer_stop(h->ex->loop, &h->timer);
		ev_timer_set(&h->timer, 0., 0.);
		ev_timer_start(h->ex->loop, &h->timer);
		return;
	}
	rearm(h);
}

static void
io_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	(void)loop;
	(void)revents;
	run(w->data);
}

static void
timer_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	(void)loop;
	(void)revents;
	run(w->data);
}

static void logger(void *cls, const char *fmt, va_list ap)
	__attribute__((format(printf, 2, 0)));

static void
logger(void *cls, const char *fmt, va_list ap)
{
	char msg[512];
	size_t n;
	(void)cls;
	vsnprintf(msg, sizeof(msg), fmt, ap);
	n = strlen(msg);
	while (n && msg[n - 1] == '\n')
		msg[--n] = '\0';
	fprintf(stderr, "verdict: serve: http: %s\n", msg);
}

/* Queues status with body (owned: freed by libmicrohttpd when sent). */
static enum MHD_Result
answer(struct req *r, unsigned status, const char *ctype, char *body,
       size_t len, const char *allow)
{
	struct MHD_Response *resp;
	enum MHD_Result ret;

	resp = MHD_create_response_from_buffer_with_free_callback(len, body,
								  free);
	if (resp == NULL) {
		free(body);
		return MHD_NO;
	}
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, ctype);
	if (allow)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_ALLOW, allow);
	ret = MHD_queue_response(r->conn, status, resp);
	MHD_destroy_response(resp);
	r->answered = true;
	return ret;
}

static enum MHD_Result
answer_text(struct req *r, unsigned status, const char *text, const char *allow)
{
	return answer(r, status, CT_TEXT, vd_xstrdup(text), strlen(text),
		      allow);
}

static bool
method_in(const char *method, const char *a, const char *b)
{
	return strcmp(method, a) == 0 || (b && strcmp(method, b) == 0);
}

static enum MHD_Result
deny(struct req *r)
{
	struct MHD_Response *resp;
	enum MHD_Result ret;
	static const char text[] = "Unauthorized\n";

	resp = MHD_create_response_from_buffer(sizeof(text) - 1, (void *)text,
					       MHD_RESPMEM_PERSISTENT);
	if (resp == NULL)
		return MHD_NO;
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, CT_TEXT);
	ret = MHD_queue_basic_auth_fail_response(r->conn, "verdict", resp);
	MHD_destroy_response(resp);
	r->answered = true;
	return ret;
}

static bool
authorized(struct req *r)
{
	struct vd_exp_config *cfg = r->h->ex->cfg;
	char *user, *pass = NULL;
	bool ok;

	if (cfg->nusers == 0)
		return true;
	user = MHD_basic_auth_get_username_password(r->conn, &pass);
	ok = user && pass && vd_exp_auth_check(cfg, user, pass);
	if (pass) {
		explicit_bzero(pass, strlen(pass));
		MHD_free(pass);
	}
	if (user)
		MHD_free(user);
	return ok;
}

static void
waiting_remove(struct req *r)
{
	if (r->prevp == NULL)
		return;
	if (r->next)
		r->next->prevp = r->prevp;
	*r->prevp = r->next;
	r->next = NULL;
	r->prevp = NULL;
}

/* The probe finished: keep its answer and wake the connection up. */
static void
probe_cb(void *udata, unsigned status, const char *ctype, char *body,
	 size_t len)
{
	struct req *r = udata;
	struct vd_exp_http *h = r->h;

	r->probe = NULL;
	r->ready = true;
	r->status = status;
	r->ctype = ctype;
	r->body = body;
	r->len = len;
	waiting_remove(r);
	MHD_resume_connection(r->conn);
	/* run MHD from a clean stack, soon */
	ev_timer_stop(h->ex->loop, &h->timer);
	ev_timer_set(&h->timer, 0., 0.);
	ev_timer_start(h->ex->loop, &h->timer);
}

static enum MHD_Result
do_probe(struct req *r)
{
	struct vd_exp_probe_args a;
	const char *v;
	unsigned status = 0;
	char *body = NULL;

	memset(&a, 0, sizeof(a));
	a.module = MHD_lookup_connection_value(r->conn, MHD_GET_ARGUMENT_KIND,
					       "module");
	a.target = MHD_lookup_connection_value(r->conn, MHD_GET_ARGUMENT_KIND,
					       "target");
	v = MHD_lookup_connection_value(r->conn, MHD_GET_ARGUMENT_KIND,
					"debug");
	a.debug = v && strcmp(v, "true") == 0;
	v = MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND,
					"X-Prometheus-Scrape-Timeout-Seconds");
	if (v) {
		char *end;
		double t = strtod(v, &end);
		if (end != v && *end == '\0' && t > 0 && t < 86400)
			a.scrape_timeout = t;
	}
	r->probe =
		vd_exp_probe_start(r->h->ex, &a, probe_cb, r, &status, &body);
	if (r->probe == NULL)
		return answer(r, status, CT_TEXT, body, strlen(body), NULL);
	MHD_suspend_connection(r->conn);
	r->next = r->h->waiting;
	if (r->next)
		r->next->prevp = &r->next;
	r->prevp = &r->h->waiting;
	r->h->waiting = r;
	return MHD_YES;
}

static enum MHD_Result
do_metrics(struct req *r)
{
	struct vd_exp_page *pg = vd_exp_metrics_get(r->h->ex);
	struct MHD_Response *resp;
	enum MHD_Result ret;

	resp = MHD_create_response_from_buffer_with_free_callback_cls(
		pg->out.len, pg->out.data, vd_exp_page_unref, pg);
	if (resp == NULL) {
		vd_exp_page_unref(pg);
		return MHD_NO;
	}
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, CT_METRICS);
	ret = MHD_queue_response(r->conn, MHD_HTTP_OK, resp);
	MHD_destroy_response(resp);
	r->answered = true;
	return ret;
}

static enum MHD_Result
do_reload(struct req *r)
{
	char err[1200];
	if (vd_exp_reload(r->h->ex, err, sizeof(err)) < 0) {
		char *msg = vd_xasprintf("reload refused, the previous config "
					 "keeps running: %s\n",
					 err);
		return answer(r, MHD_HTTP_INTERNAL_SERVER_ERROR, CT_TEXT, msg,
			      strlen(msg), NULL);
	}
	return answer_text(r, MHD_HTTP_OK, "config reloaded\n", NULL);
}

static const char landing[] =
	"<html><head><title>verdict</title></head><body>\n"
	"<h1>verdict serve</h1>\n"
	"<p><a href=\"/metrics\">/metrics</a>: the latest results of the "
	"scheduled checks</p>\n"
	"<p>/probe?module=NAME&amp;target=TARGET: one probe, "
	"blackbox_exporter style (add &amp;debug=true for its log)</p>\n"
	"<p><a href=\"/healthz\">/healthz</a>; POST /-/reload reloads the "
	"config</p>\n"
	"</body></html>\n";

static enum MHD_Result
route(struct req *r, const char *url, const char *method)
{
	bool get = method_in(method, MHD_HTTP_METHOD_GET, MHD_HTTP_METHOD_HEAD);

	if (strcmp(url, "/healthz") == 0) {
		if (!get)
			return answer_text(r, MHD_HTTP_METHOD_NOT_ALLOWED,
					   "method not allowed\n", "GET, HEAD");
		return answer_text(r, MHD_HTTP_OK, "ok\n", NULL);
	}
	if (!authorized(r))
		return deny(r);
	if (strcmp(url, "/metrics") == 0) {
		if (!get)
			return answer_text(r, MHD_HTTP_METHOD_NOT_ALLOWED,
					   "method not allowed\n", "GET, HEAD");
		return do_metrics(r);
	}
	if (strcmp(url, "/probe") == 0) {
		if (!get)
			return answer_text(r, MHD_HTTP_METHOD_NOT_ALLOWED,
					   "method not allowed\n", "GET, HEAD");
		return do_probe(r);
	}
	if (strcmp(url, "/-/reload") == 0) {
		if (!method_in(method, MHD_HTTP_METHOD_POST,
			       MHD_HTTP_METHOD_PUT))
			return answer_text(r, MHD_HTTP_METHOD_NOT_ALLOWED,
					   "method not allowed: use POST\n",
					   "POST, PUT");
		return do_reload(r);
	}
	if (strcmp(url, "/") == 0) {
		if (!get)
			return answer_text(r, MHD_HTTP_METHOD_NOT_ALLOWED,
					   "method not allowed\n", "GET, HEAD");
		return answer(r, MHD_HTTP_OK, "text/html; charset=utf-8",
			      vd_xstrdup(landing), sizeof(landing) - 1, NULL);
	}
	return answer_text(r, MHD_HTTP_NOT_FOUND, "not found\n", NULL);
}

static enum MHD_Result
handler(void *cls, struct MHD_Connection *conn, const char *url,
	const char *method, const char *version, const char *upload_data,
	size_t *upload_data_size, void **req_cls)
{
	struct vd_exp_http *h = cls;
	struct req *r = *req_cls;
	(void)version;
	(void)upload_data;

	if (r == NULL) {
		const char *cl = MHD_lookup_connection_value(
			conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
		r = vd_xcalloc(1, sizeof(*r));
		r->h = h;
		r->conn = conn;
		*req_cls = r;
		if (cl && strtoull(cl, NULL, 10) > DRAIN_MAX)
			return answer_text(r, MHD_HTTP_CONTENT_TOO_LARGE,
					   "request body too large\n", NULL);
		return MHD_YES;
	}
	if (*upload_data_size) {
		r->body_bytes += *upload_data_size;
		*upload_data_size = 0;
		if (r->body_bytes > DRAIN_MAX && !r->answered)
			return answer_text(r, MHD_HTTP_CONTENT_TOO_LARGE,
					   "request body too large\n", NULL);
		return MHD_YES;
	}
	if (r->answered)
		return MHD_YES;
	if (r->body_bytes > MAX_BODY)
		return answer_text(r, MHD_HTTP_CONTENT_TOO_LARGE,
				   "request body too large\n", NULL);
	if (r->ready) {
		char *body = r->body;
		r->ready = false;
		r->body = NULL; /* libmicrohttpd frees it from now on */
		return answer(r, r->status, r->ctype, body, r->len, NULL);
	}
	if (r->probe)
		return MHD_YES; /* resumed without an answer: cannot happen */
	return route(r, url, method);
}

static void
notify_conn(void *cls, struct MHD_Connection *conn, void **socket_context,
	    enum MHD_ConnectionNotificationCode toe)
{
	const union MHD_ConnectionInfo *ci;
	struct vd_exp_http *h = cls;
	int sz = CONN_SNDBUF;
	(void)socket_context;
	if (toe == MHD_CONNECTION_NOTIFY_CLOSED)
		h->closed = true;
	if (toe != MHD_CONNECTION_NOTIFY_STARTED)
		return;
	ci = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CONNECTION_FD);
	if (ci)
		setsockopt(ci->connect_fd, SOL_SOCKET, SO_SNDBUF, &sz,
			   sizeof(sz));
}

static void
completed(void *cls, struct MHD_Connection *conn, void **req_cls,
	  enum MHD_RequestTerminationCode toe)
{
	struct req *r = *req_cls;
	(void)cls;
	(void)conn;
	(void)toe;
	if (r == NULL)
		return;
	vd_exp_probe_cancel(r->probe);
	waiting_remove(r);
	free(r->body);
	free(r);
	*req_cls = NULL;
}

struct vd_exp_http *
vd_exp_http_start(struct vd_exp *ex, int fd)
{
	struct vd_exp_http *h = vd_xcalloc(1, sizeof(*h));
	const union MHD_DaemonInfo *info;
	const struct vd_exp_config *cfg = ex->cfg;

	h->ex = ex;
	h->d = MHD_start_daemon(
		MHD_USE_EPOLL | MHD_ALLOW_SUSPEND_RESUME | MHD_USE_ERROR_LOG |
			MHD_USE_TURBO,
		0, NULL, NULL, handler, h, MHD_OPTION_EXTERNAL_LOGGER, logger,
		h, MHD_OPTION_LISTEN_SOCKET, fd, MHD_OPTION_CONNECTION_LIMIT,
		(unsigned)cfg->max_connections, MHD_OPTION_CONNECTION_TIMEOUT,
		(unsigned)cfg->conn_timeout, MHD_OPTION_CONNECTION_MEMORY_LIMIT,
		(size_t)CONN_MEMORY, MHD_OPTION_NOTIFY_COMPLETED, completed, h,
		MHD_OPTION_NOTIFY_CONNECTION, notify_conn, h, MHD_OPTION_END);
	if (h->d == NULL) {
		fprintf(stderr, "verdict: serve: libmicrohttpd would not "
				"start\n");
		close(fd);
		free(h);
		return NULL;
	}
	info = MHD_get_daemon_info(h->d, MHD_DAEMON_INFO_EPOLL_FD);
	if (info == NULL) {
		fprintf(stderr, "verdict: serve: libmicrohttpd has no epoll "
				"fd\n");
		MHD_stop_daemon(h->d);
		close(fd);
		free(h);
		return NULL;
	}
	ev_io_init(&h->io, io_cb, info->epoll_fd, EV_READ);
	h->io.data = h;
	ev_io_start(ex->loop, &h->io);
	ev_timer_init(&h->timer, timer_cb, 0., 0.);
	h->timer.data = h;
	rearm(h);
	return h;
}

void
vd_exp_http_stop(struct vd_exp_http *h)
{
	struct req *r;
	MHD_socket lfd;
	int i;

	if (h == NULL)
		return;
	/* No connection may stay suspended through MHD_stop_daemon(). */
	while ((r = h->waiting) != NULL) {
		static const char text[] = "verdict is shutting down\n";
		vd_exp_probe_cancel(r->probe);
		r->probe = NULL;
		r->ready = true;
		r->status = MHD_HTTP_SERVICE_UNAVAILABLE;
		r->ctype = CT_TEXT;
		r->body = vd_xstrdup(text);
		r->len = sizeof(text) - 1;
		waiting_remove(r);
		MHD_resume_connection(r->conn);
	}
	lfd = MHD_quiesce_daemon(h->d);
	for (i = 0; i < 4; i++)
		MHD_run(h->d);
	ev_io_stop(h->ex->loop, &h->io);
	ev_timer_stop(h->ex->loop, &h->timer);
	MHD_stop_daemon(h->d);
	if (lfd != MHD_INVALID_SOCKET)
		close(lfd);
	free(h);
}

int
vd_exp_listen(const char *addr, char *err, size_t errlen)
{
	char host[256], *port;
	const char *hp;
	struct addrinfo hints, *ai = NULL;
	int fd = -1, one = 1, zero = 0, rc;

	if (strlen(addr) >= sizeof(host)) {
		snprintf(err, errlen, "listen address too long");
		return -1;
	}
	if (addr[0] == '[') {
		const char *close_b = strchr(addr, ']');
		if (close_b == NULL || close_b[1] != ':') {
			snprintf(err, errlen, "%s: expected [IPv6]:PORT", addr);
			return -1;
		}
		snprintf(host, sizeof(host), "%.*s", (int)(close_b - addr - 1),
			 addr + 1);
		hp = close_b + 2;
	} else {
		const char *colon = strrchr(addr, ':');
		if (colon == NULL) {
			snprintf(err, errlen,
				 "%s: expected HOST:PORT, [IPv6]:PORT or :PORT",
				 addr);
			return -1;
		}
		snprintf(host, sizeof(host), "%.*s", (int)(colon - addr), addr);
		hp = colon + 1;
	}
	port = vd_xstrdup(hp);
	memset(&hints, 0, sizeof(hints));
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
	hints.ai_family = *host ? AF_UNSPEC : AF_INET6;
	rc = getaddrinfo(*host ? host : NULL, port, &hints, &ai);
	if (rc != 0) {
		snprintf(err, errlen, "%s: %s", addr, gai_strerror(rc));
		goto out;
	}
	fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC,
		    ai->ai_protocol);
	if (fd < 0) {
		snprintf(err, errlen, "%s: socket: %s", addr, strerror(errno));
		goto out;
	}
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (ai->ai_family == AF_INET6 && *host == '\0')
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof(zero));
	if (bind(fd, ai->ai_addr, ai->ai_addrlen) != 0 ||
	    listen(fd, LISTEN_BACKLOG) != 0) {
		snprintf(err, errlen, "cannot listen on %s: %s", addr,
			 strerror(errno));
		close(fd);
		fd = -1;
	}
out:
	if (ai)
		freeaddrinfo(ai);
	free(port);
	return fd;
}
