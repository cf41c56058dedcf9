/*
 * faultd.c - a small HTTP/1.1 server that misbehaves on request, for the
 * integration tests, the demo and the benchmark: `faultd PORT` listens on
 * 127.0.0.1:PORT, prints "ready", serves until SIGTERM/SIGINT. One thread,
 * libev, non-blocking sockets, one response per connection (then close).
 * `faultd 0` takes a free port and prints "ready PORT" instead;
 * `faultd PORT ADDR` listens on ADDR (IPv4 or IPv6) instead of 127.0.0.1.
 * Depends on libev and libc only; nothing of verdict.
 *
 * Paths (query parameters URL-decoded; every response closes the connection):
 *   /ok                       200 "ok"
 *   /delay?ms=N               200 "ok" after N ms
 *   /hang                     reads the request, never answers
 *   /slow-headers?ms=N        the status line, then the rest N ms later
 *   /trickle?bytes=N&ms=M     N body bytes, one every M ms
 *   /reset                    headers and part of the body, then a TCP RST
 *   /endless                  a chunked body that never ends
 *   /malformed                a garbage status line
 *   /redirect-loop            302 to itself
 *   /redirect?to=PATH         302 to PATH
 *   /redirect-chain?n=N&pad=B 302 to n=N-1 with a B-byte X-Pad header
 *                             (B <= 4000), until n=0 answers 200 "ok"
 *   /length-conflict          200 with Content-Length: 2 and 5, body "ok"
 *   /big-headers?kb=N         200 after N KiB (<= 1024) of header lines
 *   /flaky?key=K&fail=N       the first N requests for K get 503, then 200
 *   /status?code=N            status N
 *   /json[?body=TEXT]         TEXT, or a fixed health document, as JSON
 *   /headers?Name=value&...   200 with the given response headers
 *   /echo                     200: request line, headers and body as text;
 *                             the method in an X-Method header
 *   /close                    closes without answering
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/queue.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <ev.h>

#define IN_MAX	       8192	       /* request head and body, bytes */
#define HEAD_MAX       (IN_MAX + 1024) /* response head, bytes */
#define MAX_PARAMS     16
#define FLAKY_KEYS     256
#define LINGER_SECONDS 5.0 /* seconds we wait for the peer's FIN after ours */
#define RESET_AFTER    0.2 /* /reset: seconds from the partial body to RST */

static const char health_json[] =
	"{\"status\":\"ok\",\"version\":\"1.4.2\",\"uptime\":12.5,"
	"\"checks\":{\"db\":true,\"cache\":\"ok\",\"queue\":null},"
	"\"items\":[{\"id\":1,\"name\":\"a\"},{\"id\":2,\"name\":\"b\"}]}";

enum state {
	ST_READ,   /* reading the request */
	ST_RESP,   /* writing (or waiting to write) the response */
	ST_HANG,   /* nothing more to send; close when the peer does */
	ST_LINGER, /* our FIN is sent; close on the peer's or a timeout */
	ST_RESET,  /* RST when the timer fires */
};

enum after { AFTER_CLOSE, AFTER_RESET, AFTER_ENDLESS };

struct conn {
	ev_io io;
	ev_timer timer;
	int fd;
	int events;
	enum state state;
	enum after after;
	bool sent_continue;
	char *out; /* the response, malloc'd with its exact bound */
	size_t outlen, outoff;
	size_t limit; /* bytes of out that may be written now */
	size_t step;  /* bytes released per tick once limit is reached */
	double tick;  /* seconds */
	LIST_ENTRY(conn) link;
	size_t inlen;
	char in[IN_MAX + 1];
};

struct param {
	char *k, *v;
};

static struct {
	char key[64];
	unsigned hits;
} flaky[FLAKY_KEYS];

static struct ev_loop *loop;
static ev_io accept_w;
static ev_timer accept_pause;
static LIST_HEAD(, conn) conns = LIST_HEAD_INITIALIZER(conns);

static void conn_close(struct conn *c, bool rst);
static bool flush_out(struct conn *c);

static void
set_events(struct conn *c, int ev)
{
	if (c->events == ev)
		return;
	ev_io_stop(loop, &c->io);
	ev_io_set(&c->io, c->fd, ev);
	ev_io_start(loop, &c->io);
	c->events = ev;
}

static void
start_timer(struct conn *c, double secs)
{
	ev_timer_stop(loop, &c->timer);
	ev_timer_set(&c->timer, secs, 0.);
	ev_timer_start(loop, &c->timer);
}

static void
conn_close(struct conn *c, bool rst)
{
	if (rst) {
		struct linger l = {.l_onoff = 1, .l_linger = 0};
		setsockopt(c->fd, SOL_SOCKET, SO_LINGER, &l, sizeof(l));
	}
	ev_io_stop(loop, &c->io);
	ev_timer_stop(loop, &c->timer);
	close(c->fd);
	free(c->out);
	LIST_REMOVE(c, link);
	free(c);
	if (!ev_is_active(&accept_w) && !ev_is_active(&accept_pause))
		ev_io_start(loop, &accept_w);
}

static const char *
status_text(int code)
{
	static const struct {
		int code;
		const char *text;
	} texts[] = {{200, "OK"},
		     {204, "No Content"},
		     {302, "Found"},
		     {400, "Bad Request"},
		     {401, "Unauthorized"},
		     {404, "Not Found"},
		     {413, "Content Too Large"},
		     {431, "Request Header Fields Too Large"},
		     {500, "Internal Server Error"},
		     {503, "Service Unavailable"}};
	size_t i;
	for (i = 0; i < sizeof(texts) / sizeof(texts[0]); i++)
		if (texts[i].code == code)
			return texts[i].text;
	return "Status";
}

/*
 * Prepares a response: head (status, Content-Type, length or chunked,
 * extra header lines ending in CRLF) then body. decl_len < 0 means chunked;
 * otherwise it is the Content-Length announced (may exceed blen: /reset).
 * Returns the head length. HEAD requests get the head only.
 */
static size_t
respond(struct conn *c, bool head_only, int code, const char *ctype,
	const char *extra, long decl_len, const char *body, size_t blen)
{
	char length[64];
	size_t hl;
	int n;

	free(c->out);
	c->out = malloc(HEAD_MAX + blen);
	if (c->out == NULL)
		abort();
	if (decl_len < 0)
		snprintf(length, sizeof(length), "Transfer-Encoding: chunked");
	else
		snprintf(length, sizeof(length), "Content-Length: %ld",
			 decl_len);
	n = snprintf(c->out, HEAD_MAX,
		     "HTTP/1.1 %d %s\r\nServer: faultd\r\nContent-Type: %s\r\n"
		     "%s\r\nConnection: close\r\n%s\r\n",
		     code, status_text(code), ctype, length, extra);
	hl = n < 0 || n >= HEAD_MAX ? 0 : (size_t)n;
	if (!head_only) {
		memcpy(c->out + hl, body, blen);
		c->outlen = hl + blen;
	} else {
		c->outlen = hl;
	}
	c->outoff = 0;
	c->limit = c->outlen;
	c->step = 0;
	c->after = AFTER_CLOSE;
	return hl;
}

static void
simple(struct conn *c, bool head_only, int code, const char *body)
{
	respond(c, head_only, code, "text/plain", "", (long)strlen(body), body,
		strlen(body));
}

static int
hexval(int ch)
{
	if (ch >= '0' && ch <= '9')
		return ch - '0';
	if (ch >= 'a' && ch <= 'f')
		return ch - 'a' + 10;
	if (ch >= 'A' && ch <= 'F')
		return ch - 'A' + 10;
	return -1;
}

/* Decodes %XX and '+' in place. */
static void
url_decode(char *s)
{
	char *o = s;
	for (; *s; s++) {
		if (*s == '%' && hexval(s[1]) >= 0 && hexval(s[2]) >= 0) {
			*o++ = (char)(hexval(s[1]) * 16 + hexval(s[2]));
			s += 2;
		} else {
			*o++ = *s == '+' ? ' ' : *s;
		}
	}
	*o = '\0';
}

/* Splits "a=1&b=2" in place; returns the number of parameters. */
static size_t
parse_query(char *q, struct param *p)
{
	size_t n = 0;
	char *save = NULL, *part;
	for (part = q ? strtok_r(q, "&", &save) : NULL; part && n < MAX_PARAMS;
	     part = strtok_r(NULL, "&", &save)) {
		char *eq = strchr(part, '=');
		p[n].k = part;
		p[n].v = eq ? eq + 1 : part + strlen(part);
		if (eq)
			*eq = '\0';
		url_decode(p[n].k);
		url_decode(p[n].v);
		n++;
	}
	return n;
}

static const char *
param(const struct param *p, size_t n, const char *k)
{
	size_t i;
	for (i = 0; i < n; i++)
		if (strcmp(p[i].k, k) == 0)
			return p[i].v;
	return NULL;
}

static long
param_num(const struct param *p, size_t n, const char *k, long def, long max)
{
	const char *v = param(p, n, k);
	char *end;
	long x;
	if (v == NULL || *v == '\0')
		return def;
	x = strtol(v, &end, 10);
	if (*end || x < 0)
		return def;
	return x > max ? max : x;
}

static unsigned
flaky_hit(const char *key)
{
	size_t i;
	for (i = 0; i < FLAKY_KEYS && flaky[i].key[0]; i++)
		if (strcmp(flaky[i].key, key) == 0)
			return ++flaky[i].hits;
	if (i == FLAKY_KEYS)
		i = 0; /* full: forget the oldest key */
	snprintf(flaky[i].key, sizeof(flaky[i].key), "%s", key);
	flaky[i].hits = 1;
	return 1;
}

static void
raw(struct conn *c, const char *data, size_t len)
{
	free(c->out);
	c->out = malloc(len);
	if (c->out == NULL)
		abort();
	memcpy(c->out, data, len);
	c->outlen = c->limit = len;
	c->outoff = 0;
	c->after = AFTER_CLOSE;
}

/* hdrs: the request's header lines and the blank line after them. */
static void
route(struct conn *c, const char *method, char *target, const char *hdrs,
      size_t hdrs_len, const char *body, size_t blen)
{
	struct param p[MAX_PARAMS];
	char *query = strchr(target, '?');
	char extra[HEAD_MAX / 2];
	bool head = strcmp(method, "HEAD") == 0;
	size_t n, hl, i, off;

	if (query)
		*query++ = '\0';
	n = parse_query(query, p);
	c->state = ST_RESP;
	if (strcmp(target, "/ok") == 0) {
		simple(c, head, 200, "ok");
	} else if (strcmp(target, "/delay") == 0) {
		simple(c, head, 200, "ok");
		c->limit = 0;
		c->step = c->outlen;
		c->tick = (double)param_num(p, n, "ms", 1000, 3600000) / 1000.0;
	} else if (strcmp(target, "/hang") == 0) {
		c->state = ST_HANG;
	} else if (strcmp(target, "/slow-headers") == 0) {
		simple(c, head, 200, "ok");
		c->limit = strcspn(c->out, "\n") + 1;
		c->step = c->outlen;
		c->tick = (double)param_num(p, n, "ms", 1000, 3600000) / 1000.0;
	} else if (strcmp(target, "/trickle") == 0) {
		long nb = param_num(p, n, "bytes", 10, 1000000);
		char *b = malloc((size_t)nb + 1);
		if (b == NULL)
			abort();
		memset(b, 'x', (size_t)nb);
		hl = respond(c, head, 200, "text/plain", "", nb, b, (size_t)nb);
		free(b);
		c->limit = hl;
		c->step = 1;
		c->tick = (double)param_num(p, n, "ms", 100, 3600000) / 1000.0;
	} else if (strcmp(target, "/reset") == 0) {
		char b[1000];
		memset(b, 'x', sizeof(b));
		respond(c, head, 200, "text/plain", "", 100000, b, sizeof(b));
		c->after = AFTER_RESET;
	} else if (strcmp(target, "/endless") == 0) {
		respond(c, head, 200, "text/plain", "", -1, "", 0);
		c->after = head ? AFTER_CLOSE : AFTER_ENDLESS;
	} else if (strcmp(target, "/malformed") == 0) {
		static const char junk[] =
			"HTTP/1.1 two-hundred OK\r\nnot a header\r\n\r\nok";
		raw(c, junk, sizeof(junk) - 1);
	} else if (strcmp(target, "/redirect-loop") == 0) {
		respond(c, head, 302, "text/plain",
			"Location: /redirect-loop\r\n", 0, "", 0);
	} else if (strcmp(target, "/redirect") == 0) {
		const char *to = param(p, n, "to");
		if (to == NULL || strpbrk(to, "\r\n") || strlen(to) > 2000) {
			simple(c, head, 400, "bad 'to'");
		} else {
			snprintf(extra, sizeof(extra), "Location: %s\r\n", to);
			respond(c, head, 302, "text/plain", extra, 0, "", 0);
		}
	} else if (strcmp(target, "/redirect-chain") == 0) {
		long left = param_num(p, n, "n", 0, 1000);
		long pad = param_num(p, n, "pad", 0, 4000);
		char padv[4001];
		memset(padv, 'p', (size_t)pad);
		padv[pad] = '\0';
		if (left == 0) {
			snprintf(extra, sizeof(extra), "X-Pad: %s\r\n", padv);
			respond(c, head, 200, "text/plain", extra, 2, "ok", 2);
		} else {
			snprintf(extra, sizeof(extra),
				 "Location: /redirect-chain?n=%ld&pad=%ld\r\n"
				 "X-Pad: %s\r\n",
				 left - 1, pad, padv);
			respond(c, head, 302, "text/plain", extra, 0, "", 0);
		}
	} else if (strcmp(target, "/length-conflict") == 0) {
		static const char both[] =
			"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n"
			"Content-Length: 5\r\nConnection: close\r\n\r\nok";
		raw(c, both, sizeof(both) - 1);
	} else if (strcmp(target, "/big-headers") == 0) {
		long kb = param_num(p, n, "kb", 80, 1024);
		size_t cap = (size_t)kb * 1024 + 256, bo = 0;
		char *b = malloc(cap);
		long line;
		if (b == NULL)
			abort();
		bo += (size_t)snprintf(b, cap, "HTTP/1.1 200 OK\r\n");
		for (line = 0; line < kb; line++) {
			/* 1024 bytes a line: "X-Big-NNNN: " + value + CRLF */
			int w = snprintf(b + bo, cap - bo,
					 "X-Big-%04ld: ", line);
			memset(b + bo + (size_t)w, 'b', 1024 - (size_t)w - 2);
			memcpy(b + bo + 1022, "\r\n", 2);
			bo += 1024;
		}
		bo += (size_t)snprintf(b + bo, cap - bo,
				       "Content-Length: 2\r\nConnection: "
				       "close\r\n\r\nok");
		raw(c, b, bo);
		free(b);
	} else if (strcmp(target, "/flaky") == 0) {
		const char *key = param(p, n, "key");
		long fail = param_num(p, n, "fail", 1, 1000000);
		if (flaky_hit(key ? key : "") <= (unsigned long)fail)
			simple(c, head, 503, "not yet");
		else
			simple(c, head, 200, "ok");
	} else if (strcmp(target, "/status") == 0) {
		long code = param_num(p, n, "code", 200, 599);
		char b[32];
		snprintf(b, sizeof(b), "status %ld", code < 100 ? 200 : code);
		simple(c, head, code < 100 ? 200 : (int)code, b);
	} else if (strcmp(target, "/json") == 0) {
		const char *b = param(p, n, "body");
		if (b == NULL)
			b = health_json;
		respond(c, head, 200, "application/json", "", (long)strlen(b),
			b, strlen(b));
	} else if (strcmp(target, "/headers") == 0) {
		off = 0;
		extra[0] = '\0';
		for (i = 0; i < n; i++) {
			int w;
			if (strpbrk(p[i].k, "\r\n: ") ||
			    strpbrk(p[i].v, "\r\n") || *p[i].k == '\0')
				break;
			w = snprintf(extra + off, sizeof(extra) - off,
				     "%s: %s\r\n", p[i].k, p[i].v);
			if (w < 0 || (size_t)w >= sizeof(extra) - off)
				break;
			off += (size_t)w;
		}
		if (i < n)
			simple(c, head, 400, "bad header");
		else
			respond(c, head, 200, "text/plain", extra, 2, "ok", 2);
	} else if (strcmp(target, "/echo") == 0) {
		size_t cap =
			strlen(method) + strlen(target) + hdrs_len + blen + 8;
		char *b = malloc(cap);
		int w;
		if (b == NULL)
			abort();
		w = snprintf(b, cap, "%s %s\r\n%.*s%.*s", method, target,
			     (int)hdrs_len, hdrs, (int)blen, body);
		snprintf(extra, sizeof(extra), "X-Method: %.32s\r\n", method);
		respond(c, head, 200, "text/plain", extra, w, b, (size_t)w);
		free(b);
	} else if (strcmp(target, "/close") == 0) {
		conn_close(c, false);
		return;
	} else {
		simple(c, head, 404, "no such fault");
	}
	if (c->state == ST_HANG) {
		set_events(c, EV_READ);
		return;
	}
	flush_out(c);
}

/* Returns false once the request is complete and handled (or c closed). */
static bool
read_request(struct conn *c)
{
	char *end, *eol, *sp1, *sp2, *cl;
	size_t hlen, want = 0;
	ssize_t n;

	n = read(c->fd, c->in + c->inlen, IN_MAX - c->inlen);
	if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
		conn_close(c, false);
		return false;
	}
	if (n < 0)
		return true;
	c->inlen += (size_t)n;
	c->in[c->inlen] = '\0';
	end = strstr(c->in, "\r\n\r\n");
	if (end == NULL) {
		if (c->inlen < IN_MAX)
			return true;
		c->state = ST_RESP;
		simple(c, false, 431, "request head too large");
		flush_out(c);
		return false;
	}
	hlen = (size_t)(end - c->in) + 4;
	cl = strcasestr(c->in, "\r\nContent-Length:");
	if (cl && cl < end)
		want = strtoul(cl + 17, NULL, 10);
	if (want > IN_MAX - hlen) {
		c->state = ST_RESP;
		simple(c, false, 413, "request body too large");
		flush_out(c);
		return false;
	}
	if (c->inlen < hlen + want) {
		char *ex = strcasestr(c->in, "\r\nExpect: 100-continue");
		if (ex && ex < end && !c->sent_continue) {
			static const char cont[] =
				"HTTP/1.1 100 Continue\r\n\r\n";
			c->sent_continue = true;
			if (write(c->fd, cont, sizeof(cont) - 1) < 0)
				(void)0; /* the response fails the same way */
		}
		return true;
	}
	/* "METHOD TARGET VERSION" */
	eol = strstr(c->in, "\r\n");
	sp1 = memchr(c->in, ' ', (size_t)(eol - c->in));
	sp2 = sp1 ? memchr(sp1 + 1, ' ', (size_t)(eol - sp1 - 1)) : NULL;
	if (sp1 == NULL || sp2 == NULL || sp1[1] != '/') {
		c->state = ST_RESP;
		simple(c, false, 400, "bad request line");
		flush_out(c);
		return false;
	}
	*sp1 = '\0';
	*sp2 = '\0';
	route(c, c->in, sp1 + 1, eol + 2, (size_t)(end + 4 - (eol + 2)),
	      c->in + hlen, want);
	return false;
}

/* Writes what may be written now; returns false if c was closed. */
static bool
flush_out(struct conn *c)
{
	static const char chunk_head[] = "1000\r\n";
	ssize_t n;

	while (c->outoff < c->limit) {
		n = write(c->fd, c->out + c->outoff, c->limit - c->outoff);
		if (n > 0) {
			c->outoff += (size_t)n;
			continue;
		}
		if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
			set_events(c, EV_READ | EV_WRITE);
			return true;
		}
		conn_close(c, false);
		return false;
	}
	set_events(c, EV_READ);
	if (c->limit < c->outlen) {
		start_timer(c, c->tick);
		return true;
	}
	switch (c->after) {
	case AFTER_CLOSE:
		/* FIN first, then wait for the peer's: a close() with unread
		 * input would send RST and could destroy the response. */
		shutdown(c->fd, SHUT_WR);
		c->state = ST_LINGER;
		start_timer(c, LINGER_SECONDS);
		break;
	case AFTER_RESET:
		c->state = ST_RESET;
		start_timer(c, RESET_AFTER);
		break;
	case AFTER_ENDLESS:
		/* one 4 KiB chunk at a time; back here when writable */
		free(c->out);
		c->out = malloc(sizeof(chunk_head) - 1 + 4096 + 2);
		if (c->out == NULL)
			abort();
		memcpy(c->out, chunk_head, sizeof(chunk_head) - 1);
		memset(c->out + sizeof(chunk_head) - 1, 'x', 4096);
		memcpy(c->out + sizeof(chunk_head) - 1 + 4096, "\r\n", 2);
		c->outlen = c->limit = sizeof(chunk_head) - 1 + 4096 + 2;
		c->outoff = 0;
		set_events(c, EV_READ | EV_WRITE);
		break;
	}
	return true;
}

static void
conn_io_cb(struct ev_loop *l, ev_io *w, int revents)
{
	struct conn *c = (struct conn *)w;
	char scratch[4096];
	ssize_t n;
	(void)l;

	if (revents & EV_READ) {
		if (c->state == ST_READ) {
			if (!read_request(c))
				return;
		} else {
			/* input after the request is discarded; EOF ends us */
			n = read(c->fd, scratch, sizeof(scratch));
			if (n == 0 ||
			    (n < 0 && errno != EAGAIN && errno != EINTR)) {
				conn_close(c, false);
				return;
			}
		}
	}
	if ((revents & EV_WRITE) && c->state == ST_RESP)
		flush_out(c);
}

static void
conn_timer_cb(struct ev_loop *l, ev_timer *w, int revents)
{
	struct conn *c =
		(struct conn *)((char *)w - offsetof(struct conn, timer));
	(void)l;
	(void)revents;
	switch (c->state) {
	case ST_LINGER:
		conn_close(c, false);
		break;
	case ST_RESET:
		conn_close(c, true);
		break;
	case ST_RESP:
		c->limit = c->outlen - c->limit > c->step ? c->limit + c->step
							  : c->outlen;
		flush_out(c);
		break;
	case ST_READ:
	case ST_HANG:
		break;
	}
}

static void
accept_cb(struct ev_loop *l, ev_io *w, int revents)
{
	(void)revents;
	for (;;) {
		int one = 1;
		int fd = accept4(w->fd, NULL, NULL,
				 SOCK_NONBLOCK | SOCK_CLOEXEC);
		struct conn *c;
		if (fd < 0) {
			if (errno == EMFILE || errno == ENFILE) {
				/* out of descriptors: pause accepting */
				ev_io_stop(l, w);
				ev_timer_start(l, &accept_pause);
			}
			return;
		}
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		c = malloc(sizeof(*c));
		if (c == NULL)
			abort();
		memset(c, 0, offsetof(struct conn, in));
		c->fd = fd;
		c->state = ST_READ;
		ev_io_init(&c->io, conn_io_cb, fd, EV_READ);
		ev_init(&c->timer, conn_timer_cb);
		c->events = EV_READ;
		ev_io_start(l, &c->io);
		LIST_INSERT_HEAD(&conns, c, link);
	}
}

static void
accept_resume_cb(struct ev_loop *l, ev_timer *w, int revents)
{
	(void)w;
	(void)revents;
	ev_io_start(l, &accept_w);
}

static void
stop_cb(struct ev_loop *l, ev_signal *w, int revents)
{
	(void)w;
	(void)revents;
	ev_break(l, EVBREAK_ALL);
}

int
main(int argc, char **argv)
{
	struct sockaddr_storage ss;
	struct sockaddr_in *sa = (struct sockaddr_in *)&ss;
	struct sockaddr_in6 *sa6 = (struct sockaddr_in6 *)&ss;
	socklen_t slen;
	struct rlimit rl;
	ev_signal sterm, sint;
	const char *addr = argc > 2 ? argv[2] : "127.0.0.1";
	char *end;
	long port;
	int fd, one = 1;

	memset(&ss, 0, sizeof(ss));
	if (argc < 2 || argc > 3 || (port = strtol(argv[1], &end, 10), *end) ||
	    port < 0 || port > 65535) {
		fprintf(stderr, "usage: faultd PORT [ADDR] (listens on "
				"127.0.0.1:PORT, or ADDR)\n");
		return 2;
	}
	if (inet_pton(AF_INET, addr, &sa->sin_addr) == 1) {
		sa->sin_family = AF_INET;
		sa->sin_port = htons((unsigned short)port);
		slen = sizeof(*sa);
	} else if (inet_pton(AF_INET6, addr, &sa6->sin6_addr) == 1) {
		sa6->sin6_family = AF_INET6;
		sa6->sin6_port = htons((unsigned short)port);
		slen = sizeof(*sa6);
	} else {
		fprintf(stderr, "faultd: %s: not an IP address\n", addr);
		return 2;
	}
	signal(SIGPIPE, SIG_IGN);
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
	fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
		    0);
	if (fd < 0 ||
	    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
	    bind(fd, (struct sockaddr *)&ss, slen) < 0 ||
	    listen(fd, SOMAXCONN) < 0) {
		fprintf(stderr, "faultd: %s:%ld: %s\n", addr, port,
			strerror(errno));
		return 1;
	}
	loop = ev_default_loop(EVFLAG_AUTO);
	ev_io_init(&accept_w, accept_cb, fd, EV_READ);
	ev_io_start(loop, &accept_w);
	ev_timer_init(&accept_pause, accept_resume_cb, 0.1, 0.);
	ev_signal_init(&sterm, stop_cb, SIGTERM);
	ev_signal_start(loop, &sterm);
	ev_signal_init(&sint, stop_cb, SIGINT);
	ev_signal_start(loop, &sint);
	if (port == 0) {
		slen = sizeof(ss);
		getsockname(fd, (struct sockaddr *)&ss, &slen);
		printf("ready %d\n",
		       ntohs(ss.ss_family == AF_INET6 ? sa6->sin6_port
						      : sa->sin_port));
	} else {
		printf("ready\n");
	}
	fflush(stdout);
	ev_run(loop, 0);
	ev_io_stop(loop, &accept_w);
	ev_timer_stop(loop, &accept_pause);
	while (!LIST_EMPTY(&conns))
		conn_close(LIST_FIRST(&conns), false);
	close(fd);
	return 0;
}
