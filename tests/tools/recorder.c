/*
 * recorder.c - a small recording HTTP server for tests (on libev): it
 * stands in for Telegram, Slack, GitHub, a webhook or a registry's token
 * realm. Every request is written as one JSON line (method, path, query,
 * headers, body) to a file and flushed; the answer is 200 with a body, or
 * what a route says. Loopback only. Test tool, not part of verdict.
 *
 *   recorder -p PORT -o FILE [-b BODY] [-r 'METHOD /path=STATUS[:BODY]']...
 *            [-F '/path=N'] [-d '/path=MS']
 *
 * -r: a route ("METHOD /path" or "/path"; a trailing '*' matches a prefix);
 *     "{seq}" in BODY becomes a number that grows with each request.
 * -F: answer 500 to the first N requests for /path (retries).
 * -d: wait MS milliseconds before answering /path.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <ev.h>

#define MAX_REQ	  (4 * 1024 * 1024)
#define MAX_RULES 64

struct rule {
	char *method; /* NULL: any */
	char *path;
	bool prefix;
	int status;
	char *body;
	int fail_first; /* -F */
	int delay_ms;	/* -d */
	int seen;
};

static struct rule rules[MAX_RULES];
static int nrules;
static const char *default_body = "{\"ok\":true}";
static FILE *out;
static long seq;

struct conn {
	ev_io io;
	ev_timer delay;
	int fd;
	char *buf;
	size_t len;
	size_t hdr_end; /* bytes of the head, 0 until known */
	size_t clen;
	bool continued;
	int status;
	char *resp_body;
};

static void
die(const char *msg)
{
	fprintf(stderr, "recorder: %s\n", msg);
	exit(2);
}

static struct rule *
rule_new(const char *spec, char **rest)
{
	char *s = strdup(spec), *eq = strrchr(s, '=');
	struct rule *r;
	if (eq == NULL || nrules >= MAX_RULES)
		die("bad rule");
	*eq = '\0';
	r = &rules[nrules++];
	memset(r, 0, sizeof(*r));
	if (s[0] != '/') {
		char *sp = strchr(s, ' ');
		if (sp == NULL)
			die("bad rule: METHOD /path");
		*sp = '\0';
		r->method = strdup(s);
		r->path = strdup(sp + 1);
	} else {
		r->path = strdup(s);
	}
	if (r->path[0] && r->path[strlen(r->path) - 1] == '*') {
		r->path[strlen(r->path) - 1] = '\0';
		r->prefix = true;
	}
	*rest = strdup(eq + 1);
	free(s);
	return r;
}

static struct rule *
match(const char *method, const char *path, bool want_status)
{
	int i;
	for (i = 0; i < nrules; i++) {
		struct rule *r = &rules[i];
		if (want_status != (r->status != 0))
			continue;
		if (r->method && strcmp(r->method, method) != 0)
			continue;
		if (r->prefix ? strncmp(path, r->path, strlen(r->path)) == 0
			      : strcmp(path, r->path) == 0)
			return r;
	}
	return NULL;
}

static void
conn_free(struct ev_loop *loop, struct conn *c)
{
	ev_io_stop(loop, &c->io);
	ev_timer_stop(loop, &c->delay);
	close(c->fd);
	free(c->buf);
	free(c->resp_body);
	free(c);
}

static void
write_all(int fd, const char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, p, n);
		if (w < 0 && (errno == EAGAIN || errno == EINTR)) {
			struct pollfd pfd = {.fd = fd, .events = POLLOUT};
			poll(&pfd, 1, 1000);
			continue;
		}
		if (w <= 0)
			return;
		p += w;
		n -= (size_t)w;
	}
}

static void
respond(struct ev_loop *loop, struct conn *c)
{
	char head[512];
	const char *body = c->resp_body ? c->resp_body : default_body;
	snprintf(head, sizeof(head),
		 "HTTP/1.1 %d X\r\nContent-Type: application/json\r\n"
		 "Content-Length: %zu\r\nConnection: close\r\n\r\n",
		 c->status, strlen(body));
	write_all(c->fd, head, strlen(head));
	write_all(c->fd, body, strlen(body));
	conn_free(loop, c);
}

static void
delay_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct conn *c = w->data;
	(void)revents;
	respond(loop, c);
}

/* the body with {seq} filled in */
static char *
fill(const char *tpl)
{
	const char *at = strstr(tpl, "{seq}");
	char *s;
	size_t n;
	if (at == NULL)
		return strdup(tpl);
	n = strlen(tpl) + 32;
	s = malloc(n);
	snprintf(s, n, "%.*s%ld%s", (int)(at - tpl), tpl, 1000 + seq, at + 5);
	return s;
}

static void
handle(struct ev_loop *loop, struct conn *c)
{
	char *line_end, *sp1, *sp2, *q, *p;
	char method[16], *path, *query = NULL;
	cJSON *o = cJSON_CreateObject(), *h = cJSON_CreateObject();
	struct rule *st, *fl, *dl;
	char *text;

	c->buf[c->hdr_end - 2] = '\0';
	line_end = strstr(c->buf, "\r\n");
	*line_end = '\0';
	sp1 = strchr(c->buf, ' ');
	sp2 = sp1 ? strchr(sp1 + 1, ' ') : NULL;
	if (!sp1 || !sp2) {
		c->status = 400;
		respond(loop, c);
		cJSON_Delete(o);
		cJSON_Delete(h);
		return;
	}
	snprintf(method, sizeof(method), "%.*s", (int)(sp1 - c->buf), c->buf);
	path = strndup(sp1 + 1, (size_t)(sp2 - sp1 - 1));
	q = strchr(path, '?');
	if (q) {
		*q = '\0';
		query = q + 1;
	}
	seq++;
	cJSON_AddNumberToObject(o, "seq", (double)seq);
	cJSON_AddStringToObject(o, "method", method);
	cJSON_AddStringToObject(o, "path", path);
	cJSON_AddStringToObject(o, "query", query ? query : "");
	for (p = line_end + 2; *p;) {
		char *e = strstr(p, "\r\n"), *colon;
		if (e)
			*e = '\0';
		colon = strchr(p, ':');
		if (colon) {
			char *v = colon + 1, *k;
			*colon = '\0';
			while (*v == ' ')
				v++;
			for (k = p; *k; k++)
				if (*k >= 'A' && *k <= 'Z')
					*k = (char)(*k - 'A' + 'a');
			cJSON_AddStringToObject(h, p, v);
		}
		if (e == NULL)
			break;
		p = e + 2;
	}
	cJSON_AddItemToObject(o, "headers", h);
	{
		char *b = strndup(c->buf + c->hdr_end, c->clen);
		cJSON_AddStringToObject(o, "body", b);
		free(b);
	}
	text = cJSON_PrintUnformatted(o);
	fprintf(out, "%s\n", text);
	fflush(out);
	free(text);
	cJSON_Delete(o);

	c->status = 200;
	st = match(method, path, true);
	if (st) {
		c->status = st->status;
		if (st->body)
			c->resp_body = fill(st->body);
	}
	fl = NULL;
	for (int i = 0; i < nrules; i++)
		if (rules[i].fail_first && strcmp(rules[i].path, path) == 0)
			fl = &rules[i];
	if (fl && fl->seen++ < fl->fail_first) {
		c->status = 500;
		free(c->resp_body);
		c->resp_body = strdup("{\"error\":\"injected\"}");
	}
	dl = NULL;
	for (int i = 0; i < nrules; i++)
		if (rules[i].delay_ms && strcmp(rules[i].path, path) == 0)
			dl = &rules[i];
	free(path);
	ev_io_stop(loop, &c->io);
	if (dl) {
		ev_timer_init(&c->delay, delay_cb, dl->delay_ms / 1000.0, 0.);
		c->delay.data = c;
		ev_timer_start(loop, &c->delay);
		return;
	}
	respond(loop, c);
}

static void
read_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	struct conn *c = w->data;
	ssize_t n;
	(void)revents;
	if (c->len + 65536 > MAX_REQ) {
		conn_free(loop, c);
		return;
	}
	c->buf = realloc(c->buf, c->len + 65537);
	n = read(c->fd, c->buf + c->len, 65536);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) {
		conn_free(loop, c);
		return;
	}
	c->len += (size_t)n;
	c->buf[c->len] = '\0';
	if (c->hdr_end == 0) {
		char *e = strstr(c->buf, "\r\n\r\n"), *cl;
		if (e == NULL)
			return;
		c->hdr_end = (size_t)(e - c->buf) + 4;
		cl = strcasestr(c->buf, "\r\ncontent-length:");
		if (cl && cl < e)
			c->clen = strtoul(cl + 17, NULL, 10);
		if (!c->continued &&
		    strcasestr(c->buf, "\r\nexpect: 100-continue")) {
			c->continued = true;
			write_all(c->fd, "HTTP/1.1 100 Continue\r\n\r\n", 25);
		}
	}
	if (c->len >= c->hdr_end + c->clen)
		handle(loop, c);
}

static void
accept_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	int fd = accept4(w->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
	struct conn *c;
	(void)revents;
	if (fd < 0)
		return;
	c = calloc(1, sizeof(*c));
	c->fd = fd;
	ev_io_init(&c->io, read_cb, fd, EV_READ);
	c->io.data = c;
	ev_init(&c->delay, delay_cb);
	ev_io_start(loop, &c->io);
}

static void
stop_cb(struct ev_loop *loop, ev_signal *w, int revents)
{
	(void)w;
	(void)revents;
	ev_break(loop, EVBREAK_ALL);
}

int
main(int argc, char **argv)
{
	struct ev_loop *loop = EV_DEFAULT;
	struct sockaddr_in sa;
	ev_io lio;
	ev_signal sterm, sint;
	int ch, port = 0, fd, one = 1;
	const char *path = NULL;

	signal(SIGPIPE, SIG_IGN);
	while ((ch = getopt(argc, argv, "p:o:b:r:F:d:")) != -1) {
		char *rest;
		struct rule *r;
		switch (ch) {
		case 'p':
			port = atoi(optarg);
			break;
		case 'o':
			path = optarg;
			break;
		case 'b':
			default_body = optarg;
			break;
		case 'r': {
			char *colon;
			r = rule_new(optarg, &rest);
			r->status = atoi(rest);
			colon = strchr(rest, ':');
			if (colon)
				r->body = strdup(colon + 1);
			free(rest);
			break;
		}
		case 'F':
			r = rule_new(optarg, &rest);
			r->fail_first = atoi(rest);
			free(rest);
			break;
		case 'd':
			r = rule_new(optarg, &rest);
			r->delay_ms = atoi(rest);
			free(rest);
			break;
		default:
			die("usage: recorder -p PORT -o FILE [-b BODY] [-r "
			    "RULE] "
			    "[-F RULE] [-d RULE]");
		}
	}
	if (port <= 0 || path == NULL)
		die("-p PORT and -o FILE are required");
	out = fopen(path, "a");
	if (out == NULL)
		die("cannot open the output file");
	fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_port = htons((unsigned short)port);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    listen(fd, 128) < 0)
		die("cannot listen");
	ev_io_init(&lio, accept_cb, fd, EV_READ);
	ev_io_start(loop, &lio);
	ev_signal_init(&sterm, stop_cb, SIGTERM);
	ev_signal_start(loop, &sterm);
	ev_signal_init(&sint, stop_cb, SIGINT);
	ev_signal_start(loop, &sint);
	ev_run(loop, 0);
	close(fd);
	fclose(out);
	return 0;
}
