/*
 * fuzz_http.c - libFuzzer target: what an HTTP target sends. A responder
 * on the engine's own loop (127.0.0.1, a port of its own) answers each
 * connection with the input as it is (status line, headers, body), then
 * closes. An http check (status, header, body and JSON expectations), a
 * security_headers check and a cors check read it through libcurl and
 * http_req.c's callbacks. Each must end in exactly one result whose reason
 * is one line of valid UTF-8, string facts too (the JSON and XML reports
 * carry them). Redirects are never followed: the input could point
 * anywhere. Built by `make fuzz` only; depends on probe/ and suites/.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <curl/curl.h>

#include "../../probe/probe.h"
#include "../../lib/util.h"
#include "../../suites/suite.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_CONNS 8

/* One connection to the responder: read the request head, send the
 * input, close. */
struct conn {
	int fd;
	ev_io io;
	char head[8192];
	size_t head_len;
	size_t sent;
	bool writing;
};

static struct ev_loop *loop;
static struct vd_prober *prober;
static struct vd_suite *suite;
static ev_io accept_io;
static struct conn conns[MAX_CONNS];
static const uint8_t *resp;
static size_t resp_len;

static void
conn_close(struct conn *c)
{
	if (c->fd < 0)
		return;
	ev_io_stop(loop, &c->io);
	close(c->fd);
	c->fd = -1;
}

static void
conn_cb(struct ev_loop *l, ev_io *w, int revents)
{
	struct conn *c = w->data;
	ssize_t n;
	(void)revents;

	if (!c->writing) {
		n = read(c->fd, c->head + c->head_len,
			 sizeof(c->head) - c->head_len);
		if (n <= 0 && !(n < 0 && errno == EAGAIN)) {
			conn_close(c);
			return;
		}
		if (n > 0)
			c->head_len += (size_t)n;
		if (memmem(c->head, c->head_len, "\r\n\r\n", 4) == NULL &&
		    c->head_len < sizeof(c->head))
			return;
		c->writing = true;
		ev_io_stop(l, &c->io);
		ev_io_set(&c->io, c->fd, EV_WRITE);
		ev_io_start(l, &c->io);
		return;
	}
	if (c->sent < resp_len) {
		n = send(c->fd, resp + c->sent, resp_len - c->sent,
			 MSG_NOSIGNAL);
		if (n < 0 && errno == EAGAIN)
			return;
		if (n <= 0) {
			conn_close(c);
			return;
		}
		c->sent += (size_t)n;
		if (c->sent < resp_len)
			return;
	}
	shutdown(c->fd, SHUT_WR);
	conn_close(c);
}

static void
accept_cb(struct ev_loop *l, ev_io *w, int revents)
{
	int fd = accept(w->fd, NULL, NULL);
	size_t i;
	(void)revents;

	if (fd < 0)
		return;
	for (i = 0; i < MAX_CONNS && conns[i].fd >= 0; i++)
		;
	if (i == MAX_CONNS || vd_set_nonblock(fd) < 0) {
		close(fd);
		return;
	}
	memset(&conns[i], 0, sizeof(conns[i]));
	conns[i].fd = fd;
	ev_io_init(&conns[i].io, conn_cb, fd, EV_READ);
	conns[i].io.data = &conns[i];
	ev_io_start(l, &conns[i].io);
}

static int
listen_loopback(void)
{
	struct sockaddr_in sa;
	socklen_t len = sizeof(sa);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    listen(fd, 64) < 0 ||
	    getsockname(fd, (struct sockaddr *)&sa, &len) < 0)
		abort();
	return fd;
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	char json[2048], err[1200];
	int lfd, port;
	size_t i;
	struct sockaddr_in sa;
	socklen_t len = sizeof(sa);
	(void)argc;
	(void)argv;

	if (curl_global_init(CURL_GLOBAL_DEFAULT) != 0)
		abort();
	for (i = 0; i < MAX_CONNS; i++)
		conns[i].fd = -1;
	lfd = listen_loopback();
	if (getsockname(lfd, (struct sockaddr *)&sa, &len) < 0)
		abort();
	port = ntohs(sa.sin_port);
	snprintf(
		json, sizeof(json),
		"{\"defaults\": {\"timeout\": \"2s\", \"max_body\": \"16KiB\"},"
		" \"checks\": ["
		"{\"name\": \"json\", \"type\": \"http\", "
		"\"follow_redirects\": "
		"false, \"url\": \"http://127.0.0.1:%d/a\", \"expect\": {"
		"\"body_contains\": \"ok\", \"json\": {\"a.b\": 1, \"s\": "
		"\"ok\"}}},"
		"{\"name\": \"hdrs\", \"type\": \"http\", "
		"\"follow_redirects\": "
		"false, \"url\": \"http://127.0.0.1:%d/b\", \"expect\": {"
		"\"status\": [200, \"4xx\"], \"headers\": {\"X-T\": {"
		"\"contains\": \"v\"}, \"Content-Type\": \"application/json\", "
		"\"X-Absent\": false}}},"
		"{\"name\": \"sec\", \"type\": \"security_headers\", "
		"\"follow_redirects\": false, \"url\": "
		"\"http://127.0.0.1:%d/c\"},"
		"{\"name\": \"cors\", \"type\": \"cors\", \"url\": "
		"\"http://127.0.0.1:%d/d\", \"origin\": "
		"\"https://app.example.com\", \"method\": \"PUT\", "
		"\"request_headers\": [\"Authorization\", \"X-Req\"], "
		"\"expect\": {\"allowed\": true, \"credentials\": true}}]}",
		port, port, port, port);
	if (vd_suite_parse(json, strlen(json), "fuzz.json", NULL, &suite, err,
			   sizeof(err)) != 0) {
		fprintf(stderr, "%s\n", err);
		abort();
	}
	loop = ev_loop_new(EVFLAG_AUTO);
	prober = vd_prober_new(loop, NULL);
	ev_io_init(&accept_io, accept_cb, lfd, EV_READ);
	ev_io_start(loop, &accept_io);
	return 0;
}

struct outcome {
	int calls;
	enum vd_status status;
	bool bad_text; /* a reason or a string fact not one line of UTF-8 */
};

static bool
one_line_utf8(const char *s)
{
	while (s && *s) {
		int n = vd_utf8_seq(s);
		if (n == 0 || (unsigned char)*s < 0x20)
			return false;
		s += n;
	}
	return true;
}

static void
done(const struct vd_check *chk, const struct vd_result *res, void *udata)
{
	struct outcome *o = udata;
	size_t i;

	o->calls++;
	o->status = res->status;
	if (getenv("FUZZ_HTTP_SHOW"))
		fprintf(stderr, "%s: %s %s\n", chk->name,
			vd_status_name(res->status), res->reason);
	if (!one_line_utf8(res->reason))
		o->bad_text = true;
	for (i = 0; i < res->nfacts; i++)
		if (res->facts[i].kind == VD_FACT_STR &&
		    !one_line_utf8(res->facts[i].str))
			o->bad_text = true;
	ev_break(loop, EVBREAK_ONE);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct outcome o;
	size_t i;

	resp = data;
	resp_len = size;
	for (i = 0; i < suite->nchecks; i++) {
		memset(&o, 0, sizeof(o));
		vd_probe_start(prober, suite->checks[i], done, &o);
		while (o.calls == 0)
			ev_run(loop, EVRUN_ONCE);
		/* let the engine reap the attempt: a second result would
		 * show here */
		ev_run(loop, EVRUN_NOWAIT);
		if (o.calls != 1 || o.bad_text) {
			fprintf(stderr, "%s: %d results, text %s\n",
				suite->checks[i]->name, o.calls,
				o.bad_text ? "not one line of UTF-8" : "ok");
			abort();
		}
	}
	for (i = 0; i < MAX_CONNS; i++)
		conn_close(&conns[i]);
	return 0;
}
