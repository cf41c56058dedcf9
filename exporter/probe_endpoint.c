/*
 * probe_endpoint.c - /probe?module=M&target=T, answered the way
 * blackbox_exporter answers it (probe_* names, labels and help), with
 * verdict's check types behind it. A target must pass the module's
 * allowlist; the deadline honours X-Prometheus-Scrape-Timeout-Seconds.
 * Knows nothing of HTTP servers: the caller hands in the arguments and
 * gets a status and a body back.
 */
#include <arpa/inet.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../lib/url.h"
#include "../lib/util.h"
#include "exporter_int.h"

#define SCRAPE_OFFSET 0.5 /* seconds kept for the answer, as blackbox */
#define MIN_TIMEOUT   0.1

struct vd_exp_probe {
	struct vd_exp *ex;
	/* copied from the module: a reload may free it while we run */
	enum vd_target_kind kind;
	cJSON *tmpl;		/* debug only: the module's template */
	struct vd_suite *suite; /* the one check of this probe */
	struct vd_probe *probe;
	ev_timer deadline; /* the scrape's deadline, retries included */
	double overall;	   /* seconds: that deadline; 0: none */
	vd_exp_probe_done_cb *cb;
	void *udata;
	bool debug;
	double timeout; /* seconds per attempt */
	double began;	/* ev_now() */
	char *target;	/* masked, for the debug log */
	char *host;	/* the target's host (no brackets) */
	struct vd_exp_out log;
	struct vd_exp_module allow; /* the module's allow list, copied */
};

static char *errf(unsigned *status, unsigned code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static char *
errf(unsigned *status, unsigned code, const char *fmt, ...)
{
	va_list ap;
	char *s, *m;
	va_start(ap, fmt);
	m = vd_xvasprintf_masked(fmt, ap);
	va_end(ap);
	*status = code;
	s = vd_xasprintf("%s\n", m);
	free(m);
	return s;
}

static void logf_(struct vd_exp_probe *p, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* One line of the debug log: "ts=... msg" (secrets masked). */
static void
logf_(struct vd_exp_probe *p, const char *fmt, ...)
{
	va_list ap;
	char ts[40], *m;
	struct timespec now;
	struct tm tm;

	if (!p->debug)
		return;
	clock_gettime(CLOCK_REALTIME, &now);
	gmtime_r(&now.tv_sec, &tm);
	strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%S", &tm);
	va_start(ap, fmt);
	m = vd_xvasprintf_masked(fmt, ap);
	va_end(ap);
	vd_exp_out_puts(&p->log, "ts=");
	vd_exp_out_puts(&p->log, ts);
	{
		char ms[24];
		snprintf(ms, sizeof(ms), ".%03ldZ", now.tv_nsec / 1000000);
		vd_exp_out_puts(&p->log, ms);
	}
	vd_exp_out_puts(&p->log, " ");
	vd_exp_out_puts(&p->log, m);
	vd_exp_out_puts(&p->log, "\n");
	free(m);
}

/*
 * Splits a URL target: adds "http://" when there is no scheme, requires
 * http or https, and returns the normalised URL and its host (no
 * brackets). Returns NULL on a bad target (why set).
 */
static char *
url_target(const char *target, char **host, const char **why)
{
	char *with = NULL, *url = NULL;
	enum vd_url_err e;

	if (strstr(target, "://") == NULL)
		with = vd_xasprintf("http://%s", target);
	e = vd_url_http(with ? with : target, &url, host, NULL);
	free(with);
	if (e == VD_URL_SCHEME)
		*why = "only http:// and https:// targets";
	else if (e == VD_URL_NO_HOST)
		*why = "the URL has no host";
	else if (e != VD_URL_OK)
		*why = "not a valid URL";
	return url;
}

/* A port: 1 to 5 digits, nothing else (no sign, space or "0x"), 1-65535. */
static bool
port_ok(const char *s, long *port)
{
	size_t n = strspn(s, "0123456789");
	if (n == 0 || n > 5 || s[n] != '\0')
		return false;
	*port = strtol(s, NULL, 10);
	return *port >= 1 && *port <= 65535;
}

/*
 * "host", "host:port", "[v6]", "[v6]:port", strictly: an IPv6 address
 * only in brackets (so "::1:80" is refused, not guessed at), a port of
 * digits only. Returns NULL, or why the target is refused.
 */
static const char *
host_target(const char *target, char **host, long *port)
{
	const char *colon, *hend;
	unsigned char a6[16];
	const char *why = "expected host, host:port or [ipv6]:port";

	*host = NULL;
	*port = -1;
	if (target[0] == '[') {
		hend = strchr(target, ']');
		if (hend == NULL)
			return why;
		*host = vd_xstrndup(target + 1, (size_t)(hend - target - 1));
		if (inet_pton(AF_INET6, *host, a6) != 1) {
			why = "only an IPv6 address goes in brackets";
			goto bad;
		}
		if (hend[1] == '\0')
			return NULL;
		if (hend[1] != ':' || !port_ok(hend + 2, port)) {
			why = "the port must be a number from 1 to 65535";
			goto bad;
		}
		return NULL;
	}
	colon = strchr(target, ':');
	if (colon && strchr(colon + 1, ':'))
		return "an IPv6 address needs brackets: [::1]:port";
	*host = colon ? vd_xstrndup(target, (size_t)(colon - target))
		      : vd_xstrdup(target);
	if (!vd_exp_name_ok(*host, VD_EXP_HOST_MAX, "-._"))
		goto bad;
	if (colon && !port_ok(colon + 1, port)) {
		why = "the port must be a number from 1 to 65535";
		goto bad;
	}
	return NULL;
bad:
	free(*host);
	*host = NULL;
	*port = -1;
	return why;
}

/* --- the answer ----------------------------------------------------------- */

static double
fact_num(const struct vd_result *res, const char *key, double dflt)
{
	const struct vd_fact *f = vd_result_fact(res, key);
	if (f == NULL)
		return dflt;
	if (f->kind == VD_FACT_NUM)
		return f->num;
	if (f->kind == VD_FACT_BOOL)
		return f->b ? 1 : 0;
	return dflt;
}

static double
nonneg(double v)
{
	return v > 0 ? v : 0;
}

/* "TLSv1.3" -> "TLS 1.3", as Go names versions. */
static void
tls_version_label(const char *v, char *out, size_t len)
{
	if (strncmp(v, "TLSv", 4) == 0)
		snprintf(out, len, "TLS %s", v + 4);
	else
		snprintf(out, len, "%s", v);
}

/* The peer's address: the HTTP client's, the connect's ("ip:port",
 * "[ip]:port"), or the target itself when it is an address. */
static bool
peer_ip(const struct vd_result *res, const char *host, unsigned char ip[16],
	int *family)
{
	const struct vd_fact *f = vd_result_fact(res, "ip_address");
	char buf[INET6_ADDRSTRLEN + 8];
	const char *a = NULL;

	if (f && f->kind == VD_FACT_STR && f->str) {
		snprintf(buf, sizeof(buf), "%s", f->str);
		a = buf;
	} else if ((f = vd_result_fact(res, "address")) != NULL &&
		   f->kind == VD_FACT_STR && f->str) {
		const char *s = f->str, *c;
		if (*s == '[' && (c = strchr(s, ']')) != NULL)
			snprintf(buf, sizeof(buf), "%.*s", (int)(c - s - 1),
				 s + 1);
		else if ((c = strrchr(s, ':')) != NULL)
			snprintf(buf, sizeof(buf), "%.*s", (int)(c - s), s);
		else
			snprintf(buf, sizeof(buf), "%s", s);
		a = buf;
	} else {
		a = host;
	}
	if (a == NULL)
		return false;
	if (inet_pton(AF_INET, a, ip) == 1) {
		*family = 4;
		return true;
	}
	if (inet_pton(AF_INET6, a, ip) == 1) {
		*family = 6;
		return true;
	}
	return false;
}

/* probe_ip_protocol and probe_ip_addr_hash, on every probe (0 when no
 * address was reached, as blackbox_exporter after a failed lookup). The
 * hash is FNV-1a (32 bits) of the address bytes, 4 for IPv4, as
 * blackbox_exporter computes it. */
static void
render_ip(struct vd_exp_out *o, const struct vd_exp_probe *p,
	  const struct vd_result *res)
{
	unsigned char ip[16];
	int family = 0, n, i;
	uint32_t h = 2166136261u;
	double proto = fact_num(res, "ip_protocol", 0);

	if (peer_ip(res, p->host, ip, &family)) {
		n = family == 4 ? 4 : 16;
		for (i = 0; i < n; i++) {
			h ^= ip[i];
			h *= 16777619u;
		}
		if (proto == 0)
			proto = family;
	}
	vd_exp_out_metric(o, "probe_ip_addr_hash", "gauge",
			  "Specifies the hash of IP address. It's useful to "
			  "detect if the IP address changes.",
			  NULL, family ? (double)h : 0);
	vd_exp_out_metric(o, "probe_ip_protocol", "gauge",
			  "Specifies whether probe ip protocol is IP4 or IP6",
			  NULL, proto);
}

static const char *
fact_str(const struct vd_result *res, const char *key)
{
	const struct vd_fact *f = vd_result_fact(res, key);
	return f && f->kind == VD_FACT_STR && f->str ? f->str : "";
}

/* probe_ssl_last_chain_info{fingerprint_sha256,issuer,subject,
 * subjectalternative} 1: the leaf certificate, as blackbox_exporter 0.23
 * (labels in its order). */
static void
render_chain_info(struct vd_exp_out *o, const struct vd_result *res)
{
	static const char *const keys[] = {"tls_leaf_sha256", "tls_leaf_issuer",
					   "tls_leaf_subject",
					   "tls_leaf_dns_names"};
	static const char *const labels[] = {"fingerprint_sha256", "issuer",
					     "subject", "subjectalternative"};
	struct vd_exp_out l = {NULL, 0, 0};
	size_t i;

	if (vd_result_fact(res, "tls_leaf_sha256") == NULL)
		return;
	for (i = 0; i < 4; i++) {
		vd_exp_out_puts(&l, i ? "," : "");
		vd_exp_out_puts(&l, labels[i]);
		vd_exp_out_puts(&l, "=\"");
		vd_exp_out_label_value(&l, fact_str(res, keys[i]));
		vd_exp_out_puts(&l, "\"");
	}
	vd_exp_out_put(&l, "", 1);
	vd_exp_out_metric(o, "probe_ssl_last_chain_info", "gauge",
			  "Contains SSL leaf certificate information", l.data,
			  1);
	free(l.data);
}

static void
render(struct vd_exp_out *o, const struct vd_exp_probe *p,
       const struct vd_result *res, double duration)
{
	const double *t = res->timings;
	const struct vd_fact *tv = vd_result_fact(res, "tls_version");
	double expiry = fact_num(res, "tls_earliest_not_after",
				 fact_num(res, "tls_not_after", -1));
	bool http = p->kind == VD_TARGET_URL;

	vd_exp_out_metric(
		o, "probe_dns_lookup_time_seconds", "gauge",
		"Returns the time taken for probe dns lookup in seconds", NULL,
		nonneg(t[VD_PHASE_RESOLVE]));
	vd_exp_out_metric(
		o, "probe_duration_seconds", "gauge",
		"Returns how long the probe took to complete in seconds", NULL,
		duration);
	if (http) {
		double done = nonneg(t[VD_PHASE_RESOLVE]) +
			      nonneg(t[VD_PHASE_CONNECT]) +
			      nonneg(t[VD_PHASE_TLS]) +
			      nonneg(t[VD_PHASE_FIRST_BYTE]);
		char lbl[64];
		static const char *const phases[] = {
			"connect", "processing", "resolve", "tls", "transfer"};
		double vals[5];
		size_t i;

		vals[0] = nonneg(t[VD_PHASE_CONNECT]);
		vals[1] = nonneg(t[VD_PHASE_FIRST_BYTE]);
		vals[2] = nonneg(t[VD_PHASE_RESOLVE]);
		vals[3] = nonneg(t[VD_PHASE_TLS]);
		vals[4] =
			t[VD_PHASE_TOTAL] > done ? t[VD_PHASE_TOTAL] - done : 0;
		vd_exp_out_metric(o, "probe_failed_due_to_regex", "gauge",
				  "Indicates if probe failed due to regex",
				  NULL,
				  res->reason_kind == VD_REASON_BODY ? 1 : 0);
		vd_exp_out_metric(o, "probe_http_content_length", "gauge",
				  "Length of http content response", NULL,
				  fact_num(res, "http_content_length", -1));
		vd_exp_out_family(o, "probe_http_duration_seconds", "gauge",
				  "Duration of http request by phase, summed "
				  "over all redirects");
		for (i = 0; i < 5; i++) {
			snprintf(lbl, sizeof(lbl), "phase=\"%s\"", phases[i]);
			vd_exp_out_sample(o, "probe_http_duration_seconds", lbl,
					  vals[i]);
		}
		vd_exp_out_metric(o, "probe_http_redirects", "gauge",
				  "The number of redirects", NULL,
				  fact_num(res, "http_redirects", 0));
		vd_exp_out_metric(
			o, "probe_http_ssl", "gauge",
			"Indicates if SSL was used for the final redirect",
			NULL, fact_num(res, "http_ssl", 0));
		vd_exp_out_metric(o, "probe_http_status_code", "gauge",
				  "Response HTTP status code", NULL,
				  fact_num(res, "http_status", 0));
		vd_exp_out_metric(o, "probe_http_uncompressed_body_length",
				  "gauge",
				  "Length of uncompressed response body", NULL,
				  fact_num(res, "http_body_bytes", 0));
		vd_exp_out_metric(
			o, "probe_http_version", "gauge",
			"Returns the version of HTTP of the probe response",
			NULL, fact_num(res, "http_version", 0));
	}
	render_ip(o, p, res);
	if (expiry >= 0) {
		vd_exp_out_metric(
			o, "probe_ssl_earliest_cert_expiry", "gauge",
			"Returns earliest SSL cert expiry in unixtime", NULL,
			expiry);
		render_chain_info(o, res);
		vd_exp_out_metric(
			o, "probe_ssl_last_chain_expiry_timestamp_seconds",
			"gauge",
			"Returns last SSL chain expiry in timestamp seconds",
			NULL, expiry);
	}
	vd_exp_out_metric(o, "probe_success", "gauge",
			  "Displays whether or not the probe was a success",
			  NULL, res->status == VD_STATUS_PASS ? 1 : 0);
	if (tv && tv->kind == VD_FACT_STR && tv->str) {
		char ver[64], lbl[128];
		struct vd_exp_out esc = {NULL, 0, 0};
		tls_version_label(tv->str, ver, sizeof(ver));
		vd_exp_out_label_value(&esc, ver);
		snprintf(lbl, sizeof(lbl), "version=\"%s\"", esc.data);
		free(esc.data);
		vd_exp_out_metric(
			o, "probe_tls_version_info", "gauge",
			"Returns the TLS version used or NaN when unknown", lbl,
			1);
	}
}

static void
log_result(struct vd_exp_probe *p, const struct vd_result *res)
{
	size_t i;
	char tbuf[256];
	int off = 0;

	logf_(p,
	      "msg=\"Probe %s\" result=%s reason_kind=%s reason=\"%s\" "
	      "attempts=%d duration_seconds=%.6f",
	      res->status == VD_STATUS_PASS ? "succeeded" : "failed",
	      vd_status_name(res->status), vd_reason_name(res->reason_kind),
	      res->reason ? res->reason : "", res->attempts, res->duration);
	for (i = 0; i < VD_PHASE_COUNT; i++)
		if (res->timings[i] >= 0 && off < (int)sizeof(tbuf))
			off += snprintf(tbuf + off, sizeof(tbuf) - (size_t)off,
					" %s=%.6f", vd_phase_name(i),
					res->timings[i]);
	logf_(p, "msg=\"Timings of the last attempt (seconds)\"%s",
	      off ? tbuf : " none");
	for (i = 0; i < res->nfacts; i++) {
		const struct vd_fact *f = &res->facts[i];
		switch (f->kind) {
		case VD_FACT_STR:
			logf_(p, "msg=Fact %s=\"%s\"", f->key,
			      f->str ? f->str : "");
			break;
		case VD_FACT_NUM:
			logf_(p, "msg=Fact %s=%.15g", f->key, f->num);
			break;
		case VD_FACT_BOOL:
			logf_(p, "msg=Fact %s=%s", f->key,
			      f->b ? "true" : "false");
			break;
		}
	}
}

/*
 * The allow list on every hop of the probe (redirects included) and on
 * every address a hop's host resolved to: an address must be admitted by
 * an address entry, or be public when an allowed name led to it.
 */
static const char *
hop_judge(void *ctx, const char *host, const struct sockaddr *addr)
{
	static const char *const why[] = {
		[VD_ADDR_PUBLIC] = "is not in the module's allow list",
		[VD_ADDR_LOOPBACK] = "is a loopback address not in the "
				     "module's allow list",
		[VD_ADDR_PRIVATE] = "is a private address not in the "
				    "module's allow list",
		[VD_ADDR_LINK_LOCAL] = "is a link-local address not in the "
				       "module's allow list",
		[VD_ADDR_METADATA] = "is a cloud metadata address not in the "
				     "module's allow list",
		[VD_ADDR_SPECIAL] = "is a special-purpose address not in the "
				    "module's allow list",
	};
	struct vd_exp_probe *p = ctx;
	enum vd_addr_class c;
	char a[64];

	if (addr == NULL)
		return vd_exp_allowed(&p->allow, host) ? NULL
						       : why[VD_ADDR_PUBLIC];
	vd_addr_format(addr, a, sizeof(a));
	c = vd_addr_classify(addr);
	return vd_exp_allowed(&p->allow, a) || c == VD_ADDR_PUBLIC ? NULL
								   : why[c];
}

static void
probe_free(struct vd_exp_probe *p)
{
	struct ev_loop *loop = p->ex->loop;
	size_t i;

	for (i = 0; i < p->allow.nallow; i++)
		free(p->allow.allow[i].name);
	free(p->allow.allow);
	free(p->allow.name);
	ev_timer_stop(loop, &p->deadline);
	vd_probe_cancel(p->probe);
	vd_suite_free(p->suite);
	cJSON_Delete(p->tmpl);
	free(p->target);
	free(p->host);
	free(p->log.data);
	free(p);
}

/* Masks every string (keys included) of a tree about to be printed. */
static void
mask_tree(cJSON *node)
{
	cJSON *it;
	if (node == NULL)
		return;
	if (node->string) {
		char *m = vd_mask(node->string);
		if (!(node->type & cJSON_StringIsConst))
			cJSON_free(node->string);
		node->string = m;
		node->type &= ~cJSON_StringIsConst;
	}
	if (cJSON_IsString(node) && node->valuestring) {
		char *m = vd_mask(node->valuestring);
		cJSON_free(node->valuestring);
		node->valuestring = m;
	}
	cJSON_ArrayForEach(it, node)
		mask_tree(it);
}

static void
finish(struct vd_exp_probe *p, const struct vd_result *res)
{
	struct vd_exp_out o = {NULL, 0, 0};
	double duration;

	ev_now_update(p->ex->loop);
	duration = ev_now(p->ex->loop) - p->began;
	p->probe = NULL;
	if (p->debug) {
		char *conf, *masked;
		log_result(p, res);
		vd_exp_out_puts(&o, "Logs for the probe:\n");
		vd_exp_out_put(&o, p->log.data ? p->log.data : "", p->log.len);
		vd_exp_out_puts(&o, "\n\n\nMetrics that would have been "
				    "returned:\n");
		render(&o, p, res, duration);
		vd_exp_out_puts(&o, "\n\n\nModule configuration:\n");
		/* masked before cJSON escapes: a secret holding " or \
		 * would no longer match once printed */
		mask_tree(p->tmpl);
		conf = p->tmpl ? cJSON_Print(p->tmpl) : NULL;
		masked = vd_mask(conf ? conf : "");
		vd_exp_out_puts(&o, masked);
		vd_exp_out_puts(&o, "\n");
		free(masked);
		cJSON_free(conf);
		p->cb(p->udata, 200, "text/plain; charset=utf-8", o.data,
		      o.len);
	} else {
		render(&o, p, res, duration);
		p->cb(p->udata, 200, "text/plain; version=0.0.4; charset=utf-8",
		      o.data, o.len);
	}
	probe_free(p);
}

static void
probe_done(const struct vd_check *chk, const struct vd_result *res, void *udata)
{
	(void)chk;
	finish(udata, res);
}

static void
deadline_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct vd_exp_probe *p = w->data;
	struct vd_result res;
	char d[32];
	(void)loop;
	(void)revents;

	vd_probe_cancel(p->probe);
	p->probe = NULL;
	vd_result_init(&res);
	res.status = VD_STATUS_ERROR;
	res.reason_kind = VD_REASON_TIMEOUT;
	vd_format_duration(p->overall, d, sizeof(d));
	res.reason = vd_xasprintf("the scrape's deadline passed (%s)", d);
	res.attempts = 1;
	finish(p, &res);
	vd_result_clear(&res);
}

struct vd_exp_probe *
vd_exp_probe_start(struct vd_exp *ex, const struct vd_exp_probe_args *a,
		   vd_exp_probe_done_cb *cb, void *udata, unsigned *status,
		   char **body)
{
	const char *modname = a->module && *a->module ? a->module : "http_2xx";
	const struct vd_exp_module *m;
	struct vd_exp_probe *p;
	char *url = NULL, *host = NULL, err[1200];
	const char *why = NULL;
	long port = -1;
	double timeout, overall = 0;

	*body = NULL;
	*status = 0;
	m = vd_exp_module_find(ex->cfg, modname);
	if (m == NULL) {
		*body = errf(status, 400, "Unknown module \"%.100s\"", modname);
		return NULL;
	}
	if (a->target == NULL || *a->target == '\0') {
		*body = errf(status, 400, "Target parameter is missing");
		return NULL;
	}
	if (m->target == VD_TARGET_URL) {
		url = url_target(a->target, &host, &why);
		if (url == NULL) {
			*body = errf(status, 400, "Bad target: %s", why);
			return NULL;
		}
	} else if ((why = host_target(a->target, &host, &port)) != NULL) {
		*body = errf(status, 400, "Bad target: %s", why);
		return NULL;
	}
	if (m->nallow == 0 || !vd_exp_allowed(m, host)) {
		*body = errf(status, 403,
			     m->nallow == 0
				     ? "Module \"%s\" has no allow list: "
				       "/probe is off for it"
				     : "Target host is not in the allow list "
				       "of module \"%s\"",
			     m->name);
		free(url);
		free(host);
		return NULL;
	}
	timeout = m->timeout;
	/* a header below the offset: the module's timeout, as blackbox */
	if (a->scrape_timeout >= SCRAPE_OFFSET) {
		overall = a->scrape_timeout - SCRAPE_OFFSET;
		if (overall < MIN_TIMEOUT)
			overall = MIN_TIMEOUT;
		if (timeout > overall)
			timeout = overall;
	}
	p = vd_xcalloc(1, sizeof(*p));
	p->ex = ex;
	p->kind = m->target;
	if (a->debug)
		p->tmpl = cJSON_Duplicate(m->tmpl, 1);
	p->overall = overall;
	p->cb = cb;
	p->udata = udata;
	p->debug = a->debug;
	p->timeout = timeout;
	p->allow.name = vd_xstrdup(m->name);
	p->allow.nallow = m->nallow;
	p->allow.allow = vd_xcalloc(m->nallow, sizeof(*m->allow));
	for (size_t i = 0; i < m->nallow; i++) {
		p->allow.allow[i] = m->allow[i];
		p->allow.allow[i].name = vd_xstrdup_null(m->allow[i].name);
	}
	ev_timer_init(&p->deadline, deadline_cb, 0., 0.);
	p->deadline.data = p;
	ev_now_update(ex->loop);
	p->began = ev_now(ex->loop);
	p->target = url ? vd_mask_url(url) : vd_xstrdup(a->target);
	p->suite = vd_exp_module_check(m, url, host, port, timeout, err,
				       sizeof(err));
	free(url);
	p->host = host;
	if (p->suite == NULL) {
		*body = errf(status, 400, "Bad target: %s", err);
		probe_free(p);
		return NULL;
	}
	logf_(p,
	      "module=%s target=%s msg=\"Beginning probe\" type=%s "
	      "timeout_seconds=%.3f retries=%d",
	      m->name, p->target, p->suite->checks[0]->type->name, timeout,
	      p->suite->checks[0]->retries);
	/* the leaf certificate and HTTP details are worth their cost here */
	p->suite->checks[0]->detail = true;
	p->suite->checks[0]->hop_judge = hop_judge;
	p->suite->checks[0]->hop_ctx = p;
	if (overall > 0) {
		ev_timer_set(&p->deadline, overall, 0.);
		ev_timer_start(ex->loop, &p->deadline);
	}
	p->probe =
		vd_probe_start(ex->pprober, p->suite->checks[0], probe_done, p);
	return p;
}

void
vd_exp_probe_cancel(struct vd_exp_probe *p)
{
	if (p == NULL)
		return;
	probe_free(p);
}
