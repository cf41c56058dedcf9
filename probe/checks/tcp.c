/*
 * tcp.c - the "tcp" check: connect (names resolved off the loop, addresses
 * tried in order), optionally send a string and expect a banner (substring
 * or regex) in what the peer says. Knows nothing of suites or reports.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "../../lib/cfg.h"
#include "../probe_int.h"
#include "../../lib/util.h"
#include "checks.h"

#define BANNER_FACT_MAX 200 /* bytes of the banner kept as a fact */
/* Seconds before the attempt's deadline at which a banner that has not
 * matched is judged (a mismatch is a fail, not a timeout, when the peer
 * said something). */
#define BANNER_MARGIN 0.02

/* A banner is what a peer says first: patterns look at this much of it,
 * which bounds the time a search can hold the loop. */
#define BANNER_SEARCH_MAX ((size_t)64 * 1024)
/* Below this, every read is searched; above it, only when what arrived
 * has doubled since the last search, and once more before failing. */
#define BANNER_SEARCH_EVERY 4096

struct tcp_conf {
	char *host;
	char port[8];
	char *send; /* NULL: send nothing */
	size_t send_len;
	bool has_banner;
	struct vd_text_match banner; /* contains or regex */
};

struct tcp_run {
	struct vd_connect *conn;
	int fd;
	ev_io io;
	size_t sent;  /* bytes of send written */
	double ready; /* ev_now when the request was out */
	bool got_byte;
	struct vd_buf in; /* what the peer said, up to max_body */
	ev_timer judge;	  /* BANNER_MARGIN before the deadline */
	size_t searched;  /* bytes of in the last search saw */
};

static void
tcp_free(void *p)
{
	struct tcp_conf *c = p;
	if (c == NULL)
		return;
	free(c->host);
	free(c->send);
	vd_text_match_release(&c->banner);
	free(c);
}

static int
parse_expect(struct vd_cfg *parent, struct tcp_conf *tc)
{
	struct vd_cfg c;
	const cJSON *b;
	int r = vd_cfg_child(parent, "expect", &c);

	if (r <= 0)
		return r;
	r = 0;
	b = vd_cfg_take(&c, "banner");
	if (b != NULL && ((cJSON_IsString(b) && *b->valuestring == '\0') ||
			  (!cJSON_IsString(b) && !cJSON_IsObject(b))))
		r = vd_cfg_error(&c, "banner",
				 "expected a non-empty string (a substring) or "
				 "{\"regex\"|\"contains\": string}");
	else if (b != NULL)
		r = vd_text_match_parse(&c, "banner", b,
					VD_TEXT_ALLOW_STRING |
						VD_TEXT_STRING_CONTAINS,
					&tc->banner);
	tc->has_banner = b != NULL && r == 0;
	if (!r)
		r = vd_cfg_finish(&c);
	vd_cfg_release(&c);
	return r;
}

static int
tcp_parse(struct vd_check *chk, struct vd_cfg *c)
{
	struct tcp_conf *tc = vd_xcalloc(1, sizeof(*tc));
	int r;

	chk->conf = tc;
	r = vd_check_host_port(c, 0, &tc->host, tc->port);
	if (!r)
		r = vd_cfg_str(c, "send", false, &tc->send);
	if (!r && tc->send)
		tc->send_len = strlen(tc->send);
	if (!r)
		r = parse_expect(c, tc);
	if (!r) {
		free(chk->target);
		chk->target = vd_check_host_target(tc->host, tc->port);
	}
	return r;
}

/* The peer's bytes, printable and short, for facts and reasons. */
static char *
printable(const char *p, size_t n, size_t max)
{
	struct vd_buf b;
	size_t i;

	vd_buf_init(&b, 0);
	for (i = 0; i < n && b.len < max; i++) {
		unsigned char ch = (unsigned char)p[i];
		if (ch == '\r')
			vd_buf_puts(&b, "\\r");
		else if (ch == '\n')
			vd_buf_puts(&b, "\\n");
		else if (ch == '\t')
			vd_buf_puts(&b, "\\t");
		else if (ch < 0x20 || ch == 0x7f)
			vd_buf_printf(&b, "\\x%02x", ch);
		else
			vd_buf_append(&b, &p[i], 1);
	}
	if (i < n)
		vd_buf_puts(&b, "...");
	return vd_buf_steal(&b);
}

static void
banner_fail(struct vd_attempt *att, const char *why)
{
	const struct tcp_conf *tc = att->check->conf;
	struct tcp_run *run = att->data;
	char *got = printable(run->in.data, run->in.len, 80);

	char want[120];

	vd_text_match_describe(&tc->banner, want, sizeof(want));
	vd_attempt_finish(att, VD_STATUS_FAIL, VD_REASON_BODY,
			  "banner mismatch: %s; got \"%s\", expected %s", why,
			  got, want);
	free(got);
}

/*
 * Searches what the peer said so far (its first BANNER_SEARCH_MAX bytes),
 * unless 'final' is false and too little arrived since the last search.
 * Returns true if it finished the attempt: a match, or a search that hit
 * the matcher's limits.
 */
static bool
banner_search(struct vd_attempt *att, bool final)
{
	const struct tcp_conf *tc = att->check->conf;
	struct tcp_run *run = att->data;
	size_t len = run->in.len < BANNER_SEARCH_MAX ? run->in.len
						     : BANNER_SEARCH_MAX;
	char why[200], *got;
	enum vd_match m;

	if (len == run->searched ||
	    (!final && len > BANNER_SEARCH_EVERY && len < 2 * run->searched))
		return false;
	run->searched = len;
	m = vd_text_match_judge(&tc->banner, run->in.data, len, why,
				sizeof(why));
	if (m == VD_MATCH_NO)
		return false;
	ev_io_stop(att->loop, &run->io);
	if (m == VD_MATCH_LIMIT) {
		vd_attempt_finish(att, VD_STATUS_ERROR, VD_REASON_LIMIT,
				  "banner: %s", why);
		return true;
	}
	got = printable(run->in.data, run->in.len, 60);
	vd_attempt_finish(att, VD_STATUS_PASS, VD_REASON_NONE,
			  "banner matched: \"%s\"", got);
	free(got);
	return true;
}

static void
read_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	struct vd_attempt *att = w->data;
	struct tcp_run *run = att->data;
	size_t room = att->check->max_body - run->in.len;
	char buf[4096];
	ssize_t n;
	char *fact;
	(void)revents;

	if (room > sizeof(buf))
		room = sizeof(buf);
	n = recv(run->fd, buf, room ? room : 1, 0);
	if (n < 0) {
		if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
			return;
		ev_io_stop(loop, w);
		if (run->in.len && banner_search(att, true))
			return;
		if (run->in.len)
			banner_fail(att, "connection reset");
		else
			vd_attempt_finish(att, VD_STATUS_ERROR,
					  VD_REASON_PROTOCOL,
					  "connection broken before any data: "
					  "%s",
					  strerror(errno));
		return;
	}
	if (n == 0) {
		ev_io_stop(loop, w);
		if (run->in.len && banner_search(att, true))
			return;
		if (run->in.len)
			banner_fail(att, "peer closed the connection");
		else
			vd_attempt_finish(att, VD_STATUS_ERROR,
					  VD_REASON_PROTOCOL,
					  "peer closed the connection without "
					  "sending anything");
		return;
	}
	if (!run->got_byte) {
		run->got_byte = true;
		att->result->timings[VD_PHASE_FIRST_BYTE] =
			ev_now(loop) - run->ready;
	}
	vd_buf_append(&run->in, buf, (size_t)n);
	fact = printable(run->in.data, run->in.len, BANNER_FACT_MAX);
	vd_result_fact_str(att->result, "banner", fact);
	free(fact);
	if (banner_search(att, run->in.len >= att->check->max_body))
		return;
	if (run->in.len >= att->check->max_body) {
		ev_io_stop(loop, w);
		banner_fail(att, "max_body read without a match");
	}
}

static void
judge_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct vd_attempt *att = w->data;
	struct tcp_run *run = att->data;
	(void)revents;

	/* nothing said: the engine's deadline reports the timeout */
	if (run->in.len == 0 || banner_search(att, true))
		return;
	ev_io_stop(loop, &run->io);
	banner_fail(att, "no match before the deadline");
}

/* The request is out: pass, or wait for the banner. */
static void
sent_all(struct vd_attempt *att)
{
	const struct tcp_conf *tc = att->check->conf;
	struct tcp_run *run = att->data;
	const struct vd_fact *addr = vd_result_fact(att->result, "address");

	run->ready = ev_now(att->loop);
	if (!tc->has_banner) {
		vd_attempt_finish(att, VD_STATUS_PASS, VD_REASON_NONE,
				  "connected to %s%s", addr ? addr->str : "?",
				  tc->send ? ", sent the request" : "");
		return;
	}
	ev_io_init(&run->io, read_cb, run->fd, EV_READ);
	run->io.data = att;
	ev_io_start(att->loop, &run->io);
	if (vd_attempt_remaining(att) > 2 * BANNER_MARGIN) {
		ev_timer_init(&run->judge, judge_cb,
			      vd_attempt_remaining(att) - BANNER_MARGIN, 0.);
		run->judge.data = att;
		ev_timer_start(att->loop, &run->judge);
	}
}

static void
write_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	struct vd_attempt *att = w->data;
	const struct tcp_conf *tc = att->check->conf;
	struct tcp_run *run = att->data;
	ssize_t n;
	(void)revents;

	while (run->sent < tc->send_len) {
		n = send(run->fd, tc->send + run->sent,
			 tc->send_len - run->sent, MSG_NOSIGNAL);
		if (n < 0) {
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return;
			if (errno == EINTR)
				continue;
			ev_io_stop(loop, w);
			vd_attempt_finish(
				att, VD_STATUS_ERROR, VD_REASON_PROTOCOL,
				"sending failed after %zu of %zu "
				"bytes: %s",
				run->sent, tc->send_len, strerror(errno));
			return;
		}
		run->sent += (size_t)n;
	}
	ev_io_stop(loop, w);
	sent_all(att);
}

static void
connected_cb(int fd, void *udata)
{
	struct vd_attempt *att = udata;
	const struct tcp_conf *tc = att->check->conf;
	struct tcp_run *run = att->data;

	run->fd = fd;
	if (tc->send_len == 0) {
		sent_all(att);
		return;
	}
	ev_io_init(&run->io, write_cb, fd, EV_WRITE);
	run->io.data = att;
	ev_io_start(att->loop, &run->io);
}

static void
tcp_start(struct vd_attempt *att)
{
	const struct tcp_conf *tc = att->check->conf;
	struct tcp_run *run = vd_xcalloc(1, sizeof(*run));

	run->fd = -1;
	vd_buf_init(&run->in, 0);
	att->data = run;
	run->conn =
		vd_connect_start(att, tc->host, tc->port, connected_cb, att);
}

static void
tcp_cancel(struct vd_attempt *att)
{
	struct tcp_run *run = att->data;
	if (run == NULL)
		return;
	vd_connect_free(run->conn);
	ev_timer_stop(att->loop, &run->judge);
	if (run->fd >= 0) {
		ev_io_stop(att->loop, &run->io);
		close(run->fd);
	}
	vd_buf_free(&run->in);
	free(run);
}

static const struct vd_check_key tcp_keys[] = {
	{"host", VD_KEY_REQUIRED | VD_KEY_TARGET},
	{"port", VD_KEY_REQUIRED},
	{"send", 0},
	{"expect", 0},
	{"max_body", 0},
	{NULL, 0},
};

const struct vd_check_type vd_check_tcp = {
	.name = "tcp",
	.parse = tcp_parse,
	.start = tcp_start,
	.cancel = tcp_cancel,
	.free = tcp_free,
	.flags = 0,
	.target = VD_TARGET_HOST,
	.keys = tcp_keys,
};
