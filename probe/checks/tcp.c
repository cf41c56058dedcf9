/*
 * tcp.c - the "tcp" check: connect (names resolved off the loop, addresses
 * tried in order), optionally send a string and expect a banner (substring
 * or regex) in what the peer says. Knows nothing of suites or reports.
 */
#include <errno.h>
#include <regex.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "../cfg.h"
#include "../probe_int.h"
#include "../util.h"
#include "checks.h"

#define BANNER_FACT_MAX 200 /* bytes of the banner kept as a fact */
/* Seconds before the attempt's deadline at which a banner that has not
 * matched is judged (a mismatch is a fail, not a timeout, when the peer
 * said something). */
#define BANNER_MARGIN 0.02

enum banner_rule { BANNER_NONE, BANNER_CONTAINS, BANNER_REGEX };

struct tcp_conf {
	char *host;
	char port[8];
	char *send; /* NULL: send nothing */
	size_t send_len;
	enum banner_rule rule;
	char *banner; /* the substring or the regex source */
	regex_t re;
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
};

static void
tcp_free(void *p)
{
	struct tcp_conf *c = p;
	if (c == NULL)
		return;
	free(c->host);
	free(c->send);
	free(c->banner);
	if (c->rule == BANNER_REGEX)
		regfree(&c->re);
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
	if (b == NULL) {
		/* nothing to expect */
	} else if (cJSON_IsString(b) && *b->valuestring) {
		tc->rule = BANNER_CONTAINS;
		tc->banner = vd_xstrdup(b->valuestring);
	} else if (cJSON_IsObject(b) && cJSON_GetArraySize(b) == 1 &&
		   cJSON_IsString(b->child) &&
		   (strcmp(b->child->string, "regex") == 0 ||
		    strcmp(b->child->string, "contains") == 0)) {
		tc->banner = vd_xstrdup(b->child->valuestring);
		if (strcmp(b->child->string, "contains") == 0) {
			tc->rule = BANNER_CONTAINS;
		} else {
			int rc = vd_regcomp(&tc->re, tc->banner,
					    REG_EXTENDED | REG_NOSUB);
			if (rc != 0) {
				char msg[200];
				vd_regerror(rc, &tc->re, msg, sizeof(msg));
				r = vd_cfg_error(
					&c, "banner",
					"invalid regular expression: %s", msg);
			} else {
				tc->rule = BANNER_REGEX;
			}
		}
	} else {
		r = vd_cfg_error(&c, "banner",
				 "expected a non-empty string (a substring) or "
				 "{\"regex\"|\"contains\": string}");
	}
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

static bool
banner_matches(const struct tcp_conf *tc, const struct vd_buf *in)
{
	if (tc->rule == BANNER_CONTAINS)
		return memmem(in->data, in->len, tc->banner,
			      strlen(tc->banner)) != NULL;
	return regexec(&tc->re, in->data, 0, NULL, 0) == 0;
}

static void
banner_fail(struct vd_attempt *att, const char *why)
{
	const struct tcp_conf *tc = att->check->conf;
	struct tcp_run *run = att->data;
	char *got = printable(run->in.data, run->in.len, 80);

	vd_attempt_finish(
		att, VD_STATUS_FAIL, VD_REASON_BODY,
		"banner mismatch: %s; got \"%s\", expected %s \"%s\"", why, got,
		tc->rule == BANNER_REGEX ? "a match for" : "to contain",
		tc->banner);
	free(got);
}

static void
read_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	struct vd_attempt *att = w->data;
	const struct tcp_conf *tc = att->check->conf;
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
	if (banner_matches(tc, &run->in)) {
		char *got = printable(run->in.data, run->in.len, 60);
		ev_io_stop(loop, w);
		vd_attempt_finish(att, VD_STATUS_PASS, VD_REASON_NONE,
				  "banner matched: \"%s\"", got);
		free(got);
		return;
	}
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
	if (run->in.len == 0)
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
	if (tc->rule == BANNER_NONE) {
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

const struct vd_check_type vd_check_tcp = {
	.name = "tcp",
	.parse = tcp_parse,
	.start = tcp_start,
	.cancel = tcp_cancel,
	.free = tcp_free,
	.flags = 0,
};
