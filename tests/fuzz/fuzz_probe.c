/*
 * fuzz_probe.c - libFuzzer target: the exporter's HTTP front door on a
 * request a client wrote. The input is sent raw to `verdict serve`'s own
 * HTTP server (exporter/http_server.c, on a loopback
 * port of its own) configured with basic-auth users and /probe modules
 * whose allowlist holds 127.0.0.1 only: the request line, the /probe query
 * (module, target, debug), the Authorization header and the scrape-timeout
 * header reach the same code as in production. Every request must end in
 * an answer or a closed connection within its deadline: never a crash, a
 * leak, or a hang. Built by `make fuzz` only; depends on exporter/.
 */
#include <arpa/inet.h>
#include <crypt.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <curl/curl.h>

#include "../../exporter/exporter_int.h"
#include "../../lib/util.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* seconds a request may take: the modules' timeout is 200 ms */
#define REQUEST_DEADLINE 5.0

static struct vd_exp *ex;
static struct sockaddr_in server;

struct client {
	int fd;
	ev_io io;
	ev_timer deadline;
	const uint8_t *data;
	size_t len, sent;
	bool done, timed_out;
};

static void
client_end(struct client *c)
{
	c->done = true;
	ev_io_stop(ex->loop, &c->io);
	ev_timer_stop(ex->loop, &c->deadline);
}

static void
client_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	struct client *c = w->data;
	char buf[16384];
	ssize_t n;

	if (revents & EV_WRITE) {
		n = send(c->fd, c->data + c->sent, c->len - c->sent,
			 MSG_NOSIGNAL);
		if (n < 0 && errno == EAGAIN)
			return;
		if (n < 0) {
			client_end(c);
			return;
		}
		c->sent += (size_t)n;
		if (c->sent < c->len)
			return;
		/* all sent: the server sees the end of the request */
		shutdown(c->fd, SHUT_WR);
		ev_io_stop(loop, w);
		ev_io_set(w, c->fd, EV_READ);
		ev_io_start(loop, w);
		return;
	}
	n = recv(c->fd, buf, sizeof(buf), 0);
	if (n < 0 && errno == EAGAIN)
		return;
	if (n <= 0)
		client_end(c);
}

static void
deadline_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct client *c = w->data;
	(void)loop;
	(void)revents;
	c->timed_out = true;
	client_end(c);
}

static void
write_config(const char *path)
{
	char salt[CRYPT_GENSALT_OUTPUT_SIZE], *hash;
	struct crypt_data cd;
	FILE *f = fopen(path, "w");

	if (f == NULL)
		abort();
	memset(&cd, 0, sizeof(cd));
	/* SHA-512 at its fewest rounds: a wrong password costs little */
	if (crypt_gensalt_rn("$6$", 1000, NULL, 0, salt, sizeof(salt)) == NULL)
		abort();
	hash = crypt_r("fuzz-pw", salt, &cd);
	if (hash == NULL || hash[0] == '*')
		abort();
	fprintf(f,
		"{ \"name\": \"fuzz\","
		"  \"serve\": { \"basic_auth\": { \"users\": { \"prom\": "
		"\"%s\" "
		"} } },"
		"  \"modules\": {"
		"    \"http_2xx\": { \"check\": { \"type\": \"http\", "
		"\"timeout\": \"200ms\", \"follow_redirects\": false }, "
		"\"allow\": [\"127.0.0.1\"] },"
		"    \"tcp\": { \"check\": { \"type\": \"tcp\", \"timeout\": "
		"\"200ms\" }, \"allow\": [\"127.0.0.1/32\"] },"
		"    \"closed\": { \"check\": { \"type\": \"http\" } } } }\n",
		hash);
	fclose(f);
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	char path[] = "/tmp/verdict-fuzz-probe-XXXXXX", err[1200];
	socklen_t len = sizeof(server);
	int fd, tmp;
	(void)argc;
	(void)argv;

	if (curl_global_init(CURL_GLOBAL_DEFAULT) != 0)
		abort();
	tmp = mkstemp(path);
	if (tmp < 0)
		abort();
	close(tmp);
	write_config(path);
	ex = vd_xcalloc(1, sizeof(*ex));
	ex->loop = ev_loop_new(EVFLAG_AUTO);
	ex->path = vd_xstrdup(path);
	if (vd_exp_config_load(ex->path, &ex->cfg, err, sizeof(err)) < 0) {
		fprintf(stderr, "%s\n", err);
		abort();
	}
	fd = vd_exp_listen("127.0.0.1:0", err, sizeof(err));
	if (fd < 0 || getsockname(fd, (struct sockaddr *)&server, &len) < 0) {
		fprintf(stderr, "%s\n", err);
		abort();
	}
	ex->reload_ok = true;
	ex->prober = vd_prober_new(ex->loop, NULL);
	ex->pprober = vd_prober_new(ex->loop, NULL);
	{
		const struct vd_exp_routes routes = vd_exp_routes(ex);
		ex->http = vd_exp_http_start(ex, fd, &routes);
	}
	if (ex->http == NULL)
		abort();
	ex->sched = vd_exp_sched_new(ex->loop, ex->prober, ex->cfg, NULL, NULL,
				     &ex->lag);
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* closed with a reset: thousands of connections a second would
	 * otherwise fill the ephemeral ports with TIME_WAIT */
	const struct linger rst = {.l_onoff = 1, .l_linger = 0};
	struct client c;

	memset(&c, 0, sizeof(c));
	c.data = data;
	c.len = size;
	c.fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (c.fd < 0 ||
	    setsockopt(c.fd, SOL_SOCKET, SO_LINGER, &rst, sizeof(rst)) < 0 ||
	    connect(c.fd, (struct sockaddr *)&server, sizeof(server)) < 0 ||
	    vd_set_nonblock(c.fd) < 0) {
		fprintf(stderr, "fuzz_probe: client socket: %s\n",
			strerror(errno));
		abort();
	}
	if (size == 0)
		shutdown(c.fd, SHUT_WR);
	ev_io_init(&c.io, client_cb, c.fd, size ? EV_WRITE : EV_READ);
	c.io.data = &c;
	ev_io_start(ex->loop, &c.io);
	ev_timer_init(&c.deadline, deadline_cb, REQUEST_DEADLINE, 0.);
	c.deadline.data = &c;
	ev_timer_start(ex->loop, &c.deadline);
	while (!c.done)
		ev_run(ex->loop, EVRUN_ONCE);
	close(c.fd);
	if (c.timed_out) {
		fprintf(stderr, "no answer within %.0f s\n", REQUEST_DEADLINE);
		abort();
	}
	return 0;
}
