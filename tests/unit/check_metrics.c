/* check_metrics.c - the /metrics renderer: number formatting, label
 * escaping (quotes, backslashes, newlines, bad UTF-8), one HELP/TYPE per
 * family, and the samples of a passing and a failing check. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../../exporter/exporter_int.h"
#include "../../lib/util.h"
#include "unit.h"

static const struct {
	double in;
	const char *want;
} nums[] = {
	{0, "0"},
	{1, "1"},
	{-1, "-1"},
	{200, "200"},
	{0.5, "0.5"},
	{1.1, "1.1"},
	{0.000123, "0.000123"},
	{0.001262188, "0.001262188"},
	{1795667113.059713, "1795667113.05971"},
	{123456789.123456789, "123456789.123457"},
	{0.9999999999, "1"},
	{-0.25, "-0.25"},
	{1e20, "1e+20"},
	{2.5e-7, "2.5e-07"},
	{4294967296.0, "4294967296"},
};

START_TEST(test_fmt_num)
{
	char buf[40];
	size_t n = vd_exp_fmt_num(buf, nums[_i].in);
	buf[n] = '\0';
	ck_assert_msg(strcmp(buf, nums[_i].want) == 0,
		      "%.17g: got \"%s\", want \"%s\"", nums[_i].in, buf,
		      nums[_i].want);
	ck_assert_uint_eq(n, strlen(nums[_i].want));
}
END_TEST

START_TEST(test_fmt_special)
{
	char buf[40];
	size_t n;
	n = vd_exp_fmt_num(buf, NAN);
	buf[n] = '\0';
	ck_assert_str_eq(buf, "NaN");
	n = vd_exp_fmt_num(buf, INFINITY);
	buf[n] = '\0';
	ck_assert_str_eq(buf, "+Inf");
	n = vd_exp_fmt_num(buf, -INFINITY);
	buf[n] = '\0';
	ck_assert_str_eq(buf, "-Inf");
	n = vd_exp_fmt_num(buf, -0.0);
	buf[n] = '\0';
	ck_assert_str_eq(buf, "0");
}
END_TEST

static const struct {
	const char *in;
	const char *want;
} labels[] = {
	{"plain", "plain"},
	{"say \"hi\"", "say \\\"hi\\\""},
	{"C:\\path\\x", "C:\\\\path\\\\x"},
	{"two\nlines", "two\\nlines"},
	{"\\\"\n", "\\\\\\\"\\n"},
	{"caf\xc3\xa9", "caf\xc3\xa9"},			/* valid UTF-8 kept */
	{"bad\xff!", "bad\xef\xbf\xbd!"},		/* invalid byte */
	{"cut\xe2\x82", "cut\xef\xbf\xbd\xef\xbf\xbd"}, /* truncated */
	{"sur\xed\xa0\x80", "sur\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd"},
	{"", ""},
};

START_TEST(test_label_escape)
{
	struct vd_exp_out o = {NULL, 0, 0};
	vd_exp_out_label_value(&o, labels[_i].in);
	ck_assert_str_eq(o.data, labels[_i].want);
	ck_assert_uint_eq(o.len, strlen(labels[_i].want));
	free(o.data);
}
END_TEST

/* A secret interpolated into a name never reaches a label. */
START_TEST(test_label_masked)
{
	struct vd_exp_entry e;
	memset(&e, 0, sizeof(e));
	vd_secret_add("Sup3r-Secret-Value");
	vd_exp_entry_labels(&e, "db-Sup3r-Secret-Value", "postgres", "main");
	ck_assert_str_eq(e.labels,
			 "check=\"db-***\",type=\"postgres\",stage=\"main\"");
	free(e.labels);
	vd_secret_clear();
}
END_TEST

static const struct vd_check_type fake_http = {.name = "http"};

/* Number of lines of text that start with prefix. */
static int
count_prefix(const char *text, const char *prefix)
{
	int n = 0;
	size_t pl = strlen(prefix);
	const char *p = text;
	while (p && *p) {
		if (strncmp(p, prefix, pl) == 0)
			n++;
		p = strchr(p, '\n');
		if (p)
			p++;
	}
	return n;
}

static bool
has_line(const char *text, const char *line)
{
	size_t l = strlen(line);
	const char *p = text;
	while ((p = strstr(p, line)) != NULL) {
		if ((p == text || p[-1] == '\n') && p[l] == '\n')
			return true;
		p += l;
	}
	return false;
}

START_TEST(test_render)
{
	struct vd_check c1 = {.name = "api \"v1\"\\health\nz",
			      .type = &fake_http,
			      .stage = "main",
			      .critical = true};
	struct vd_check c2 = {.name = "web",
			      .type = &fake_http,
			      .stage = "smoke",
			      .critical = true};
	struct vd_check c3 = {.name = "later",
			      .type = &fake_http,
			      .stage = "main",
			      .critical = true};
	struct vd_exp_entry e[3];
	struct vd_result r;
	struct vd_exp_metrics_in in;
	struct vd_exp_out o = {NULL, 0, 0};
	struct vd_exp_lag *lag = calloc(1, sizeof(*lag));
	const char *p;
	int i;

	memset(e, 0, sizeof(e));
	vd_exp_entry_labels(&e[0], c1.name, "http", c1.stage);
	vd_exp_entry_labels(&e[1], c2.name, "http", c2.stage);
	vd_exp_entry_labels(&e[2], c3.name, "http", c3.stage);
	e[0].chk = &c1;
	e[1].chk = &c2;
	e[2].chk = &c3;
	for (i = 0; i < 3; i++) {
		e[i].every = 15;
		e[i].http_status = -1;
		e[i].tls_not_after = -1;
	}

	vd_result_init(&r);
	r.status = VD_STATUS_PASS;
	r.attempts = 1;
	r.started = 1700000000.0;
	r.duration = 0.25;
	r.timings[VD_PHASE_RESOLVE] = 0.001;
	r.timings[VD_PHASE_CONNECT] = 0.002;
	vd_result_fact_num(&r, "http_status", 200);
	vd_result_fact_num(&r, "tls_not_after", 1800000000);
	vd_exp_entry_record(&e[0], &r);
	vd_result_clear(&r);

	r.status = VD_STATUS_FAIL;
	r.reason_kind = VD_REASON_STATUS;
	r.attempts = 3;
	r.started = 1700000001.0;
	r.duration = 2;
	vd_result_fact_num(&r, "http_status", 503);
	vd_exp_entry_record(&e[1], &r);
	vd_exp_entry_record(&e[1], &r);
	vd_result_clear(&r);

	lag->ring[0] = 0.002;
	lag->ring[1] = 0.001;
	lag->ring[2] = 0.050;
	lag->n = 3;
	lag->count = 3;
	lag->sum = 0.053;

	memset(&in, 0, sizeof(in));
	in.entries = e;
	in.n = 3;
	in.suite = "staging \"x\"";
	in.reload_ok = true;
	in.reload_ok_time = 1700000000;
	in.lag = lag;
	vd_exp_render_metrics(&o, &in);
	p = o.data;

	/* escaping: quote, backslash and newline in the check name */
#define L1 "check=\"api \\\"v1\\\"\\\\health\\nz\",type=\"http\",stage=\"main\""
	ck_assert(has_line(p, "verdict_check_success{" L1 "} 1"));
	ck_assert(has_line(p, "verdict_check_duration_seconds{" L1 "} 0.25"));
	ck_assert(has_line(p, "verdict_check_phase_duration_seconds{" L1
			      ",phase=\"resolve\"} 0.001"));
	ck_assert(has_line(p, "verdict_check_phase_duration_seconds{" L1
			      ",phase=\"connect\"} 0.002"));
	ck_assert(!strstr(p, L1 ",phase=\"tls\""));
	ck_assert(has_line(p, "verdict_check_runs_total{" L1
			      ",result=\"pass\"} 1"));
	ck_assert(has_line(p, "verdict_check_last_run_timestamp_seconds{" L1
			      "} 1700000000.25"));
	ck_assert(has_line(p, "verdict_http_status_code{" L1 "} 200"));
	ck_assert(has_line(p, "verdict_tls_cert_not_after_timestamp_seconds{" L1
			      "} 1800000000"));
	ck_assert(has_line(p, "verdict_check_failure_reason{" L1
			      ",reason=\"none\"} 0"));

#define L2 "check=\"web\",type=\"http\",stage=\"smoke\""
	ck_assert(has_line(p, "verdict_check_success{" L2 "} 0"));
	ck_assert(has_line(p, "verdict_check_attempts{" L2 "} 3"));
	ck_assert(has_line(p, "verdict_check_runs_total{" L2
			      ",result=\"fail\"} 2"));
	ck_assert(has_line(p, "verdict_check_runs_total{" L2
			      ",result=\"pass\"} 0"));
	ck_assert(has_line(p, "verdict_check_failure_reason{" L2
			      ",reason=\"status\"} 1"));
	ck_assert(has_line(p, "verdict_http_status_code{" L2 "} 503"));

	/* a check that has not run yet: counters and interval, nothing else */
#define L3 "check=\"later\",type=\"http\",stage=\"main\""
	ck_assert(has_line(p, "verdict_check_runs_total{" L3
			      ",result=\"error\"} 0"));
	ck_assert(has_line(p, "verdict_check_interval_seconds{" L3 "} 15"));
	ck_assert(!strstr(p, "verdict_check_success{" L3));

	ck_assert(has_line(
		p, "verdict_suite_success{suite=\"staging \\\"x\\\"\"} 0"));
	ck_assert(has_line(p, "verdict_config_last_reload_successful 1"));
	ck_assert(has_line(
		p, "verdict_scheduler_lag_seconds{quantile=\"0.5\"} 0.002"));
	ck_assert(has_line(
		p, "verdict_scheduler_lag_seconds{quantile=\"0.99\"} 0.002"));
	ck_assert(has_line(p, "verdict_scheduler_lag_seconds_count 3"));
	ck_assert(has_line(p,
			   "verdict_build_info{version=\"" VD_VERSION "\"} 1"));

	/* HELP and TYPE once per family */
	ck_assert_int_eq(count_prefix(p, "# TYPE verdict_check_success "), 1);
	ck_assert_int_eq(count_prefix(p, "# HELP verdict_check_success "), 1);
	ck_assert_int_eq(count_prefix(p, "# TYPE verdict_check_runs_total "),
			 1);
	ck_assert_int_eq(
		count_prefix(p, "# TYPE verdict_check_failure_reason "), 1);
	ck_assert_int_eq(count_prefix(p, "# TYPE "),
			 count_prefix(p, "# HELP "));
	/* no raw newline inside a sample: every line is a comment or name{...}
	 * v */
	for (const char *l = p; *l; l = strchr(l, '\n') + 1) {
		ck_assert(*l == '#' || strncmp(l, "verdict_", 8) == 0);
		if (!strchr(l, '\n'))
			break;
	}
	ck_assert(o.len > 0 && o.data[o.len - 1] == '\n');

	for (i = 0; i < 3; i++)
		free(e[i].labels);
	free(o.data);
	free(lag);
}
END_TEST

/* An empty lag window reports NaN quantiles, not garbage. */
START_TEST(test_render_empty)
{
	struct vd_exp_metrics_in in;
	struct vd_exp_out o = {NULL, 0, 0};
	struct vd_exp_lag *lag = calloc(1, sizeof(*lag));
	memset(&in, 0, sizeof(in));
	in.lag = lag;
	vd_exp_render_metrics(&o, &in);
	ck_assert(has_line(
		o.data, "verdict_scheduler_lag_seconds{quantile=\"0.9\"} NaN"));
	ck_assert(has_line(o.data, "verdict_suite_success{suite=\"\"} 1"));
	free(o.data);
	free(lag);
}
END_TEST

/* --- the serve config: allowlists and refusals ------------------------ */

static struct vd_exp_config *
load(const char *text, char *err, size_t errlen)
{
	struct vd_exp_config *cfg = NULL;
	vd_exp_config_parse(text, strlen(text), "t.json", &cfg, err, errlen);
	return cfg;
}

START_TEST(test_allowlist)
{
	char err[1200];
	struct vd_exp_config *cfg = load(
		"{\"modules\": {\"m\": {\"check\": {\"type\": \"http\"},"
		" \"allow\": [\"10.0.0.0/8\", \"192.168.1.7\", \"fd00::/8\","
		" \"Example.COM\", \"*.internal.test\"]},"
		" \"off\": {\"check\": {\"type\": \"http\"}}}}",
		err, sizeof(err));
	const struct vd_exp_module *m, *off;

	ck_assert_msg(cfg != NULL, "%s", err);
	m = vd_exp_module_find(cfg, "m");
	off = vd_exp_module_find(cfg, "off");
	ck_assert(m && off);
	ck_assert_int_eq(m->target, VD_TARGET_URL);
	ck_assert(vd_exp_allowed(m, "10.1.2.3"));
	ck_assert(!vd_exp_allowed(m, "11.0.0.1"));
	ck_assert(vd_exp_allowed(m, "192.168.1.7"));
	ck_assert(!vd_exp_allowed(m, "192.168.1.8"));
	ck_assert(vd_exp_allowed(m, "fd12::1"));
	ck_assert(!vd_exp_allowed(m, "fe80::1"));
	ck_assert(vd_exp_allowed(m, "example.com"));
	ck_assert(!vd_exp_allowed(m, "www.example.com"));
	ck_assert(vd_exp_allowed(m, "a.b.internal.test"));
	ck_assert(!vd_exp_allowed(m, "internal.test"));
	ck_assert(!vd_exp_allowed(m, "evilinternal.test"));
	/* a name is never matched against networks */
	ck_assert(!vd_exp_allowed(m, "localhost"));
	ck_assert_uint_eq(off->nallow, 0);
	ck_assert(!vd_exp_allowed(off, "10.1.2.3"));
	ck_assert_uint_eq(cfg->suite->nchecks, 0);
	ck_assert_str_eq(cfg->listen, VD_SERVE_DEFAULT_LISTEN);
	vd_exp_config_free(cfg);
}
END_TEST

static const struct {
	const char *text;
	const char *msg; /* a part of the message */
} bad[] = {
	{"{\"serve\": {\"basic_auth\": {\"users\": {\"u\": \"secret\"}}},"
	 " \"modules\": {\"m\": {\"check\": {\"type\": \"http\"}}}}",
	 "t.json: serve.basic_auth.users.u: expected a crypt(3) password hash"},
	{"{\"serve\": {\"lisen\": \"x\"}, \"modules\": {\"m\": "
	 "{\"check\": {\"type\": \"http\"}}}}",
	 "serve.lisen"},
	{"{\"modules\": {\"m\": {\"check\": {\"type\": \"http\", "
	 "\"url\": \"http://x/\"}}}}",
	 "modules.m.check.url: set by the /probe target"},
	/* what a type's target is, its table entry says */
	{"{\"modules\": {\"db\": {\"check\": {\"type\": \"postgres\", "
	 "\"query\": \"SELECT 1\"}}}}",
	 "t.json: modules.db.check.type: a postgres check has no url or host "
	 "for /probe to fill (module types: http, tls, tcp, "
	 "security_headers, cors)"},
	{"{\"modules\": {\"m\": {\"check\": {\"type\": \"http\"}, "
	 "\"allow\": [\"10.0.0.0/99\"]}}}",
	 "modules.m.allow: \"10.0.0.0/99\""},
	{"{\"modules\": {\"m\": {\"check\": {\"type\": \"http\", "
	 "\"expect\": {\"status\": \"abc\"}}}}}",
	 "t.json: modules.m.check.expect.status"},
	{"{\"modules\": {\"bad name\": {\"check\": {\"type\": \"http\"}}}}",
	 "modules.bad name: module names"},
	{"{\"serve\": {\"every\": \"10ms\"}, \"modules\": {}}",
	 "serve.every: must be at least 100ms"},
	{"{\"name\": \"x\"}", "nothing to serve"},
	{"{\"modules\": {\"m\": {\"check\": {\"type\": \"http\"}, "
	 "\"allow\": \"*\", \"extra\": 1}}}",
	 "modules.m.extra"},
	/* the key the target fills, as the table entry names it */
	{"{\"modules\": {\"m\": {\"check\": {\"type\": \"tcp\", "
	 "\"host\": \"x\", \"port\": 1}}}}",
	 "t.json: modules.m.check.host: set by the /probe target; remove it"},
	{"{\"modules\": {\"m\": {\"check\": {\"type\": \"dns\"}}}}",
	 "t.json: modules.m.check.type: a dns check has no url or host"},
	/* the timeout is the loader's to parse, and to refuse */
	{"{\"modules\": {\"m\": {\"check\": {\"type\": \"http\", "
	 "\"timeout\": \"5 s\"}}}}",
	 "t.json: modules.m.check.timeout: "},
};

/* A module's timeout is parsed once, by the suite loader, and a /probe's
 * is set on its check as seconds, never printed and parsed again. */
START_TEST(test_module_timeout)
{
	char err[1200];
	struct vd_exp_config *cfg = load(
		"{\"modules\": {\"slow\": {\"check\": {\"type\": \"http\", "
		"\"timeout\": \"1m30s\"}, \"allow\": \"*\"}, "
		"\"plain\": {\"check\": {\"type\": \"tcp\"}, \"allow\": "
		"\"*\"}}}",
		err, sizeof(err));
	const struct vd_exp_module *slow, *plain;
	struct vd_suite *s;

	ck_assert_msg(cfg != NULL, "%s", err);
	slow = vd_exp_module_find(cfg, "slow");
	plain = vd_exp_module_find(cfg, "plain");
	ck_assert(slow->timeout == 90.0);
	ck_assert(plain->timeout == 5.0); /* the loader's default */
	/* 1.2345 s has no exact "%ldms" form: it arrives whole */
	s = vd_exp_module_check(slow, "http://127.0.0.1/", "127.0.0.1", -1,
				1.2345, err, sizeof(err));
	ck_assert_msg(s != NULL, "%s", err);
	ck_assert(s->checks[0]->timeout == 1.2345);
	vd_suite_free(s);
	s = vd_exp_module_check(plain, NULL, "127.0.0.1", 7, -1, err,
				sizeof(err));
	ck_assert_msg(s != NULL, "%s", err);
	ck_assert(s->checks[0]->timeout == 5.0);
	ck_assert_str_eq(s->checks[0]->target, "127.0.0.1:7");
	vd_suite_free(s);
	vd_exp_config_free(cfg);
}
END_TEST

START_TEST(test_config_refused)
{
	char err[1200];
	struct vd_exp_config *cfg = load(bad[_i].text, err, sizeof(err));
	ck_assert_msg(cfg == NULL, "accepted: %s", bad[_i].text);
	ck_assert_msg(strstr(err, bad[_i].msg) != NULL,
		      "message \"%s\" lacks \"%s\"", err, bad[_i].msg);
}
END_TEST

struct auth_wait {
	int done; /* 0 waiting, 1 ok, 2 refused */
};

static void
auth_done(void *udata, bool ok)
{
	struct auth_wait *w = udata;
	w->done = ok ? 1 : 2;
}

/* 'O': ok at once (cached), 'D': refused at once, 'y'/'n': after a
 * worker hashed it (the loop runs meanwhile). */
static char
auth_run(struct ev_loop *loop, struct vd_exp_auth *a,
	 const struct vd_exp_config *cfg, const char *user, const char *pass)
{
	struct auth_wait w = {0};
	struct vd_exp_auth_job *job;
	enum vd_exp_auth_answer r =
		vd_exp_auth_start(a, cfg, user, pass, auth_done, &w, &job);
	if (r == VD_AUTH_OK)
		return 'O';
	if (r == VD_AUTH_DENIED)
		return 'D';
	ck_assert_int_eq(w.done, 0); /* never from inside the start */
	while (w.done == 0)
		ev_run(loop, EVRUN_ONCE);
	return w.done == 1 ? 'y' : 'n';
}

START_TEST(test_auth)
{
	char err[1200];
	struct ev_loop *loop = ev_loop_new(EVFLAG_AUTO);
	struct vd_exp_auth *a = vd_exp_auth_new(loop);
	struct vd_exp_auth_job *job;
	struct auth_wait w = {0};
	/* openssl passwd -6 -salt saltsalt hunter2 / c; -salt pepperpe other */
	struct vd_exp_config *cfg = load(
		"{\"serve\": {\"basic_auth\": {\"users\": {\"prom\": "
		"\"$$6$$saltsalt$$8iYtNHxjWRl.NF6oNZ5tF."
		"iKFlQREaXBLlSmZKP6dy9l5z3vsoo"
		"WNW0/GZ6Nej73/TFug6pIPSqbJoCT6dfnj.\","
		" \"ab\": "
		"\"$$6$$saltsalt$$AIjOos9jSDZF99s70dgaJb8/"
		"9d1WKteisi1Xp4.om3uOsa8aOZ9mlm."
		"H3ax1OBhlY1GSl4cP15KrROwiMIzNr1\","
		" \"a\": "
		"\"$$6$$pepperpe$$vER9H7K9Xw9DRBLzCRGy.6NB."
		"3wMnArvauhfsWmMXKFXYrf9dLhO/yDA/nlJWz2QybQ6USjjlJXn/"
		"PoZ8rABQ.\"}}},"
		" \"modules\": {\"m\": {\"check\": {\"type\": \"http\"}}}}",
		err, sizeof(err));
	ck_assert_msg(cfg != NULL, "%s", err);
	ck_assert_int_eq(auth_run(loop, a, cfg, "prom", "hunter2"), 'y');
	ck_assert_int_eq(auth_run(loop, a, cfg, "prom", "hunter2"), 'O');
	ck_assert_int_eq(auth_run(loop, a, cfg, "prom", "hunter3"), 'n');
	ck_assert_int_eq(auth_run(loop, a, cfg, "other", "hunter2"), 'n');
	ck_assert_int_eq(auth_run(loop, a, cfg, "prom", ""), 'n');
	/* CVE-2022-46146: "ab" + "c" verified must not let "a" + "bc" in */
	ck_assert_int_eq(auth_run(loop, a, cfg, "ab", "c"), 'y');
	ck_assert_int_eq(auth_run(loop, a, cfg, "ab", "c"), 'O');
	ck_assert_int_eq(auth_run(loop, a, cfg, "a", "bc"), 'n');
	ck_assert_int_eq(auth_run(loop, a, cfg, "a", "other"), 'y');
	/* a cancelled check never calls back, and frees what it holds */
	ck_assert_int_eq(
		vd_exp_auth_start(a, cfg, "prom", "nope", auth_done, &w, &job),
		VD_AUTH_PENDING);
	vd_exp_auth_cancel(job);
	ck_assert(vd_exp_hash_verify(cfg->users[0].hash, "hunter2"));
	ck_assert(!vd_exp_hash_verify(cfg->users[0].hash, "hunter"));
	vd_exp_auth_free(a);
	ck_assert_int_eq(w.done, 0);
	vd_exp_config_free(cfg);
	ev_loop_destroy(loop);
}
END_TEST

static const struct {
	const char *req;
	unsigned status; /* 0: parsed */
	const char *path;
	size_t nargs;
} http_reqs[] = {
	{"GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n", 0, "/metrics", 0},
	{"GET /metrics HTTP/1.1\n\n", 0, "/metrics", 0},
	{"GET /probe?module=a&target=b%3A1&&debug HTTP/1.0\r\n\r\n", 0,
	 "/probe", 3},
	{"GET /a%2Fb HTTP/1.1\r\n\r\n", 0, "/a/b", 0},
	{"GET /a%00b HTTP/1.1\r\n\r\n", 400, NULL, 0},
	{"GET /a%zz HTTP/1.1\r\n\r\n", 400, NULL, 0},
	{"GET /?a=%00 HTTP/1.1\r\n\r\n", 400, NULL, 0},
	{"GET  /x HTTP/1.1\r\n\r\n", 400, NULL, 0},
	{"GET x HTTP/1.1\r\n\r\n", 400, NULL, 0},
	{"G(T / HTTP/1.1\r\n\r\n", 400, NULL, 0},
	{"GET / HTTP/2.0\r\n\r\n", 505, NULL, 0},
	{"GET / FTP/1.0\r\n\r\n", 400, NULL, 0},
	{"GET /\x01 HTTP/1.1\r\n\r\n", 400, NULL, 0},
	{"GET / HTTP/1.1\r\nNo colon here\r\n\r\n", 400, NULL, 0},
	{"GET / HTTP/1.1\r\n folded: x\r\n\r\n", 400, NULL, 0},
	{"GET / HTTP/1.1\r\nX: a\x7f\r\n\r\n", 400, NULL, 0},
	{"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n", 501, NULL, 0},
	{"POST / HTTP/1.1\r\nContent-Length: 100000\r\n\r\n", 413, NULL, 0},
	{"POST / HTTP/1.1\r\nContent-Length: -1\r\n\r\n", 400, NULL, 0},
	{"POST / HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n",
	 400, NULL, 0},
};

START_TEST(test_http_parse)
{
	struct vd_exp_http_request rq;
	const char *why = NULL;
	size_t len = strlen(http_reqs[_i].req), end;
	char *buf = vd_xstrdup(http_reqs[_i].req);
	unsigned st;

	end = vd_exp_http_head_end(buf, len, 0);
	ck_assert_uint_gt(end, 0);
	st = vd_exp_http_parse(buf, end, &rq, &why);
	ck_assert_msg(st == http_reqs[_i].status, "%s: %u (%s)",
		      http_reqs[_i].req, st, why ? why : "");
	if (st == 0) {
		ck_assert_str_eq(rq.path, http_reqs[_i].path);
		ck_assert_uint_eq(rq.nargs, http_reqs[_i].nargs);
	} else {
		ck_assert_ptr_nonnull(why);
	}
	vd_exp_http_request_clear(&rq);
	free(buf);
}
END_TEST

START_TEST(test_http_parse_details)
{
	struct vd_exp_http_request rq;
	const char *why = NULL;
	char buf[4096], *p = buf;
	int i;

	/* keep-alive: HTTP/1.1 unless "close", HTTP/1.0 only if asked */
	strcpy(buf, "GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n");
	ck_assert_uint_eq(vd_exp_http_parse(buf, strlen(buf), &rq, &why), 0);
	ck_assert(rq.keepalive && rq.http10);
	vd_exp_http_request_clear(&rq);
	strcpy(buf, "HEAD /?module=a+b&target=x%3Dy HTTP/1.1\r\n"
		    "connection: close\r\nauthorization:  Basic eA== \r\n\r\n");
	ck_assert_uint_eq(vd_exp_http_parse(buf, strlen(buf), &rq, &why), 0);
	ck_assert(!rq.keepalive && rq.head);
	ck_assert_str_eq(rq.args[0].val, "a b");
	ck_assert_str_eq(rq.args[1].val, "x=y");
	ck_assert_str_eq(rq.authorization, "Basic eA==");
	vd_exp_http_request_clear(&rq);
	/* VD_HTTP_MAX_ARGS arguments are fine, one more is a 400 (the
	 * parse writes into buf: each case is written anew) */
	p += sprintf(p, "GET /?");
	for (i = 0; i < VD_HTTP_MAX_ARGS; i++)
		p += sprintf(p, "a%d=1&", i);
	strcpy(p, " HTTP/1.1\r\n\r\n");
	ck_assert_uint_eq(vd_exp_http_parse(buf, strlen(buf), &rq, &why), 0);
	ck_assert_uint_eq(rq.nargs, VD_HTTP_MAX_ARGS);
	vd_exp_http_request_clear(&rq);
	p = buf + sprintf(buf, "GET /?");
	for (i = 0; i < VD_HTTP_MAX_ARGS; i++)
		p += sprintf(p, "a%d=1&", i);
	strcpy(p, "z=1 HTTP/1.1\r\n\r\n");
	ck_assert_uint_eq(vd_exp_http_parse(buf, strlen(buf), &rq, &why), 400);
	ck_assert_str_eq(why, "too many query arguments\n");
	vd_exp_http_request_clear(&rq);
}
END_TEST

START_TEST(test_http_basic)
{
	char *c, *colon;
	c = vd_exp_http_basic("Basic cHJvbTpzM2NyZXQ6eA==", &colon);
	ck_assert_str_eq(c, "prom:s3cret:x");
	ck_assert_ptr_eq(colon, c + 4);
	free(c);
	c = vd_exp_http_basic("bAsIc cHJvbTpzM2NyZXQ6eA==", &colon);
	ck_assert_ptr_nonnull(c); /* the scheme in any case */
	free(c);
	ck_assert_ptr_null(
		vd_exp_http_basic("Bearer cHJvbTpzM2NyZXQ=", &colon));
	ck_assert_ptr_null(vd_exp_http_basic("Basic", &colon));
	ck_assert_ptr_null(vd_exp_http_basic("Basicx cHJvbTpz", &colon));
	ck_assert_ptr_null(vd_exp_http_basic("Basic !!!!", &colon));
	ck_assert_ptr_null(vd_exp_http_basic("Basic cHJvbQ==", &colon));
	ck_assert_ptr_null(vd_exp_http_basic("Basic cAB4Og==", &colon));
	ck_assert_ptr_null(vd_exp_http_basic(NULL, &colon));
}
END_TEST

START_TEST(test_http_headers)
{
	double t;
	ck_assert(vd_exp_http_wants_gzip("gzip"));
	ck_assert(vd_exp_http_wants_gzip("deflate, GZIP;q=0.5"));
	ck_assert(vd_exp_http_wants_gzip("*"));
	ck_assert(!vd_exp_http_wants_gzip("gzip;q=0"));
	ck_assert(!vd_exp_http_wants_gzip("identity"));
	ck_assert(!vd_exp_http_wants_gzip("gzipx, br"));
	ck_assert(vd_exp_http_scrape_timeout(NULL, &t) && t == 0);
	ck_assert(vd_exp_http_scrape_timeout("10", &t) && t == 10);
	ck_assert(vd_exp_http_scrape_timeout("1e1", &t) && t == 10);
	ck_assert(vd_exp_http_scrape_timeout("0", &t) && t == 120);
	ck_assert(vd_exp_http_scrape_timeout("-1", &t) && t == -1);
	ck_assert(!vd_exp_http_scrape_timeout("abc", &t));
	ck_assert(!vd_exp_http_scrape_timeout("5s", &t));
	ck_assert(!vd_exp_http_scrape_timeout(" 5", &t));
	ck_assert(!vd_exp_http_scrape_timeout("", &t));
}
END_TEST

Suite *
metrics_suite(void)
{
	Suite *s = suite_create("metrics");
	TCase *tc = tcase_create("render");
	tcase_add_loop_test(tc, test_fmt_num, 0,
			    sizeof(nums) / sizeof(nums[0]));
	tcase_add_test(tc, test_fmt_special);
	tcase_add_loop_test(tc, test_label_escape, 0,
			    sizeof(labels) / sizeof(labels[0]));
	tcase_add_test(tc, test_label_masked);
	tcase_add_test(tc, test_render);
	tcase_add_test(tc, test_render_empty);
	suite_add_tcase(s, tc);
	tc = tcase_create("config");
	tcase_add_test(tc, test_allowlist);
	tcase_add_loop_test(tc, test_config_refused, 0,
			    sizeof(bad) / sizeof(bad[0]));
	tcase_add_test(tc, test_module_timeout);
	tcase_add_test(tc, test_auth);
	tcase_add_loop_test(tc, test_http_parse, 0,
			    sizeof(http_reqs) / sizeof(http_reqs[0]));
	tcase_add_test(tc, test_http_parse_details);
	tcase_add_test(tc, test_http_basic);
	tcase_add_test(tc, test_http_headers);
	suite_add_tcase(s, tc);
	return s;
}
