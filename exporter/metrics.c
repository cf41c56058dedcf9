/*
 * metrics.c - renders /metrics in the Prometheus text format 0.0.4 from
 * the latest results, at scrape time: one buffer grown once, labels
 * escaped once per check when the config loads, numbers formatted by hand
 * (printf is the slow part of a 10,000-check page). Never runs a check;
 * depends on exporter_int.h and libc only.
 */
#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "../lib/util.h"
#include "exporter_int.h"

/* --- the output buffer ---------------------------------------------- */

void
vd_exp_out_reserve(struct vd_exp_out *o, size_t more)
{
	size_t want;
	if (o->cap - o->len > more)
		return;
	want = o->cap ? o->cap : 4096;
	while (want - o->len <= more)
		want *= 2;
	o->data = vd_xrealloc(o->data, want);
	o->cap = want;
}

void
vd_exp_out_put(struct vd_exp_out *o, const char *s, size_t n)
{
	vd_exp_out_reserve(o, n);
	memcpy(o->data + o->len, s, n);
	o->len += n;
	o->data[o->len] = '\0';
}

void
vd_exp_out_puts(struct vd_exp_out *o, const char *s)
{
	vd_exp_out_put(o, s, strlen(s));
}

/* --- numbers ---------------------------------------------------------- */

static const double pow10s[] = {1e0, 1e1, 1e2,	1e3,  1e4,  1e5,  1e6,	1e7,
				1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15};

static size_t
utoa(char *out, uint64_t v)
{
	char tmp[24];
	size_t n = 0, i;
	do {
		tmp[n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	for (i = 0; i < n; i++)
		out[i] = tmp[n - 1 - i];
	return n;
}

size_t
vd_exp_fmt_num(char *out, double v)
{
	double a, ip;
	uint64_t iv, frac, scale;
	int digits, dec;
	char *p = out;

	if (isnan(v)) {
		memcpy(out, "NaN", 4);
		return 3;
	}
	if (isinf(v)) {
		memcpy(out, v > 0 ? "+Inf" : "-Inf", 5);
		return 4;
	}
	a = fabs(v);
	if (a >= 1e15 || (a < 1e-6 && a != 0)) {
		int n = snprintf(out, 32, "%.15g", v);
		return n > 0 ? (size_t)n : 0;
	}
	ip = floor(a);
	iv = (uint64_t)ip;
	for (digits = 0, scale = iv; scale; scale /= 10)
		digits++;
	dec = 15 - digits;
	if (dec > 9)
		dec = 9;
	scale = (uint64_t)pow10s[dec];
	frac = (uint64_t)llround((a - ip) * pow10s[dec]);
	if (frac >= scale) {
		iv++;
		frac -= scale;
	}
	if (v < 0 && (iv || frac))
		*p++ = '-';
	p += utoa(p, iv);
	if (frac) {
		char digs[24];
		size_t n;
		while (frac % 10 == 0) {
			frac /= 10;
			dec--;
		}
		n = utoa(digs, frac);
		*p++ = '.';
		for (; (int)n < dec; dec--)
			*p++ = '0';
		memcpy(p, digs, n);
		p += n;
	}
	*p = '\0';
	return (size_t)(p - out);
}

void
vd_exp_out_num(struct vd_exp_out *o, double v)
{
	vd_exp_out_reserve(o, 40);
	o->len += vd_exp_fmt_num(o->data + o->len, v);
	o->data[o->len] = '\0';
}

/* --- label values ----------------------------------------------------- */

/* Length of the valid UTF-8 sequence at s (lead byte >= 0x80), or 0. */
static size_t
utf8_len(const unsigned char *s)
{
	unsigned c = s[0];
	if (c >= 0xc2 && c <= 0xdf)
		return (s[1] & 0xc0) == 0x80 ? 2 : 0;
	if (c >= 0xe0 && c <= 0xef) {
		if ((s[1] & 0xc0) != 0x80 || (s[2] & 0xc0) != 0x80)
			return 0;
		if (c == 0xe0 && s[1] < 0xa0)
			return 0; /* overlong */
		if (c == 0xed && s[1] >= 0xa0)
			return 0; /* surrogate */
		return 3;
	}
	if (c >= 0xf0 && c <= 0xf4) {
		if ((s[1] & 0xc0) != 0x80 || (s[2] & 0xc0) != 0x80 ||
		    (s[3] & 0xc0) != 0x80)
			return 0;
		if (c == 0xf0 && s[1] < 0x90)
			return 0;
		if (c == 0xf4 && s[1] >= 0x90)
			return 0; /* above U+10FFFF */
		return 4;
	}
	return 0;
}

void
vd_exp_out_label_value(struct vd_exp_out *o, const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	/* worst case: every byte becomes U+FFFD (3 bytes) */
	vd_exp_out_reserve(o, strlen(s) * 3 + 1);
	while (*p) {
		char *d = o->data + o->len;
		size_t n;
		if (*p == '\\' || *p == '"') {
			d[0] = '\\';
			d[1] = (char)*p++;
			o->len += 2;
		} else if (*p == '\n') {
			d[0] = '\\';
			d[1] = 'n';
			o->len += 2;
			p++;
		} else if (*p < 0x80) {
			d[0] = (char)*p++;
			o->len++;
		} else if ((n = utf8_len(p)) > 0) {
			memcpy(d, p, n);
			o->len += n;
			p += n;
		} else {
			d[0] = (char)0xef; /* U+FFFD */
			d[1] = (char)0xbf;
			d[2] = (char)0xbd;
			o->len += 3;
			p++;
		}
	}
	o->data[o->len] = '\0';
}

void
vd_exp_out_family(struct vd_exp_out *o, const char *name, const char *type,
		  const char *help)
{
	vd_exp_out_puts(o, "# HELP ");
	vd_exp_out_puts(o, name);
	vd_exp_out_puts(o, " ");
	vd_exp_out_puts(o, help);
	vd_exp_out_puts(o, "\n# TYPE ");
	vd_exp_out_puts(o, name);
	vd_exp_out_puts(o, " ");
	vd_exp_out_puts(o, type);
	vd_exp_out_puts(o, "\n");
}

void
vd_exp_entry_labels(struct vd_exp_entry *e, const char *name, const char *type,
		    const char *stage)
{
	struct vd_exp_out o = {NULL, 0, 0};
	/* a name may hold an interpolated secret: labels are masked too */
	char *mname = vd_mask(name), *mstage = vd_mask(stage);
	vd_exp_out_puts(&o, "check=\"");
	vd_exp_out_label_value(&o, mname);
	vd_exp_out_puts(&o, "\",type=\"");
	vd_exp_out_label_value(&o, type);
	vd_exp_out_puts(&o, "\",stage=\"");
	vd_exp_out_label_value(&o, mstage);
	vd_exp_out_puts(&o, "\"");
	free(mname);
	free(mstage);
	free(e->labels);
	e->labels = vd_xrealloc(o.data, o.len + 1); /* exact: 10,000 of them */
	e->labels_len = o.len;
}

/* --- process figures --------------------------------------------------- */

static double
boot_time(void)
{
	static double btime = -1;
	FILE *f;
	char line[256];
	if (btime >= 0)
		return btime;
	btime = 0;
	f = fopen("/proc/stat", "r");
	if (f == NULL)
		return btime;
	while (fgets(line, sizeof(line), f))
		if (strncmp(line, "btime ", 6) == 0) {
			btime = strtod(line + 6, NULL);
			break;
		}
	fclose(f);
	return btime;
}

void
vd_exp_proc_read(struct vd_exp_proc *p)
{
	char buf[1024], *s;
	FILE *f;
	size_t n;
	struct rlimit rl;
	DIR *d;
	struct dirent *de;
	double tck = (double)sysconf(_SC_CLK_TCK),
	       page = (double)sysconf(_SC_PAGESIZE);

	p->cpu_seconds = p->rss_bytes = p->vsize_bytes = NAN;
	p->open_fds = p->max_fds = p->start_time = NAN;
	f = fopen("/proc/self/stat", "r");
	if (f) {
		n = fread(buf, 1, sizeof(buf) - 1, f);
		buf[n] = '\0';
		fclose(f);
		s = strrchr(buf, ')');
		if (s) {
			/* fields after the command: state is field 3 */
			unsigned long long utime, stime, start, vsize;
			long long rss;
			if (sscanf(s + 2,
				   "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u "
				   "%*u %llu %llu %*d %*d %*d %*d %*d %*d "
				   "%llu %llu %lld",
				   &utime, &stime, &start, &vsize, &rss) == 5 &&
			    tck > 0) {
				p->cpu_seconds = (double)(utime + stime) / tck;
				p->start_time =
					boot_time() + (double)start / tck;
				p->vsize_bytes = (double)vsize;
				p->rss_bytes = (double)rss * page;
			}
		}
	}
	d = opendir("/proc/self/fd");
	if (d) {
		long count = 0;
		while ((de = readdir(d)) != NULL)
			if (de->d_name[0] != '.')
				count++;
		closedir(d);
		p->open_fds = (double)(count - 1); /* the directory's own fd */
	}
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0)
		p->max_fds = rl.rlim_cur == RLIM_INFINITY ? INFINITY
							  : (double)rl.rlim_cur;
}

/* --- the page ----------------------------------------------------------- */

/* One sample of a per-check family: name{labels[,extra]} value */
static inline void
sample(struct vd_exp_out *o, const char *name, size_t nlen,
       const struct vd_exp_entry *e, const char *extra, size_t elen, double v)
{
	char *p;
	vd_exp_out_reserve(o, nlen + e->labels_len + elen + 48);
	p = o->data + o->len;
	memcpy(p, name, nlen);
	p += nlen;
	*p++ = '{';
	memcpy(p, e->labels, e->labels_len);
	p += e->labels_len;
	if (elen) {
		*p++ = ',';
		memcpy(p, extra, elen);
		p += elen;
	}
	*p++ = '}';
	*p++ = ' ';
	p += vd_exp_fmt_num(p, v);
	*p++ = '\n';
	o->len = (size_t)(p - o->data);
}

#define S(lit) lit, sizeof(lit) - 1

void
vd_exp_out_sample(struct vd_exp_out *o, const char *name, const char *labels,
		  double v)
{
	vd_exp_out_puts(o, name);
	if (labels) {
		vd_exp_out_puts(o, "{");
		vd_exp_out_puts(o, labels);
		vd_exp_out_puts(o, "}");
	}
	vd_exp_out_puts(o, " ");
	vd_exp_out_num(o, v);
	vd_exp_out_puts(o, "\n");
}

void
vd_exp_out_metric(struct vd_exp_out *o, const char *name, const char *type,
		  const char *help, const char *labels, double v)
{
	vd_exp_out_family(o, name, type, help);
	vd_exp_out_sample(o, name, labels, v);
}

static void
swap_d(double *a, double *b)
{
	double t = *a;
	*a = *b;
	*b = t;
}

/* The k-th smallest of v[0..n) (reorders v; Hoare's quickselect). */
static double
select_kth(double *v, size_t n, size_t k)
{
	long lo = 0, hi = (long)n - 1;
	while (hi > lo) {
		double pivot = v[lo + (hi - lo) / 2];
		long i = lo, j = hi;
		while (i <= j) {
			while (v[i] < pivot)
				i++;
			while (v[j] > pivot)
				j--;
			if (i <= j) {
				swap_d(&v[i], &v[j]);
				i++;
				j--;
			}
		}
		if ((long)k <= j)
			hi = j;
		else if ((long)k >= i)
			lo = i;
		else
			break;
	}
	return v[k];
}

static void
render_lag(struct vd_exp_out *o, const struct vd_exp_lag *lag)
{
	static const double qs[] = {0.5, 0.9, 0.99};
	static const char *const ql[] = {"quantile=\"0.5\"", "quantile=\"0.9\"",
					 "quantile=\"0.99\""};
	double *tmp = NULL;
	size_t i;

	vd_exp_out_family(o, "verdict_scheduler_lag_seconds", "summary",
			  "Seconds from a scheduled run's due time to its "
			  "start (quantiles over the latest runs).");
	if (lag->n) {
		/* one copy: selecting reorders, but keeps a permutation */
		tmp = vd_xmalloc(lag->n * sizeof(double));
		memcpy(tmp, lag->ring, lag->n * sizeof(double));
	}
	for (i = 0; i < 3; i++) {
		double q = NAN;
		if (lag->n)
			q = select_kth(tmp, lag->n,
				       (size_t)(qs[i] * (double)(lag->n - 1)));
		vd_exp_out_sample(o, "verdict_scheduler_lag_seconds", ql[i], q);
	}
	free(tmp);
	vd_exp_out_sample(o, "verdict_scheduler_lag_seconds_sum", NULL,
			  lag->sum);
	vd_exp_out_sample(o, "verdict_scheduler_lag_seconds_count", NULL,
			  (double)lag->count);
	vd_exp_out_metric(o, "verdict_scheduler_missed_runs_total", "counter",
			  "Due times skipped because the check's previous run "
			  "was still going.",
			  NULL, (double)lag->missed);
}

static void
render_process(struct vd_exp_out *o, const struct vd_exp_proc *p)
{
	vd_exp_out_metric(o, "process_cpu_seconds_total", "counter",
			  "Total user and system CPU time spent in seconds.",
			  NULL, p->cpu_seconds);
	vd_exp_out_metric(o, "process_resident_memory_bytes", "gauge",
			  "Resident memory size in bytes.", NULL, p->rss_bytes);
	vd_exp_out_metric(o, "process_virtual_memory_bytes", "gauge",
			  "Virtual memory size in bytes.", NULL,
			  p->vsize_bytes);
	vd_exp_out_metric(o, "process_open_fds", "gauge",
			  "Number of open file descriptors.", NULL,
			  p->open_fds);
	vd_exp_out_metric(o, "process_max_fds", "gauge",
			  "Maximum number of open file descriptors.", NULL,
			  p->max_fds);
	vd_exp_out_metric(o, "process_start_time_seconds", "gauge",
			  "Start time of the process since unix epoch in "
			  "seconds.",
			  NULL, p->start_time);
}

static void
render_http(struct vd_exp_out *o, const struct vd_exp_http_stats *h)
{
	vd_exp_out_metric(o, "verdict_serve_connections", "gauge",
			  "HTTP connections open now.", NULL, h->connections);
	vd_exp_out_metric(o, "verdict_serve_connections_accepted_total",
			  "counter", "HTTP connections accepted.", NULL,
			  (double)h->accepted);
	vd_exp_out_metric(o, "verdict_serve_connections_evicted_total",
			  "counter",
			  "Connections closed to make room for a newcomer "
			  "(the one waiting longest for its request).",
			  NULL, (double)h->evicted);
	vd_exp_out_metric(o, "verdict_serve_connections_rejected_total",
			  "counter",
			  "Newcomers refused: their address was at its limit "
			  "and every one of its connections was busy.",
			  NULL, (double)h->rejected);
	vd_exp_out_metric(o, "verdict_serve_request_timeouts_total", "counter",
			  "Requests not complete within request_timeout.", NULL,
			  (double)h->timed_out);
	vd_exp_out_metric(o, "verdict_serve_auth_checks_pending", "gauge",
			  "Password checks waiting for or running on the "
			  "hashing threads.",
			  NULL, h->auth_pending);
	vd_exp_out_metric(o, "verdict_serve_bad_requests_total", "counter",
			  "Malformed requests answered with a 4xx or 5xx.",
			  NULL, (double)h->bad_requests);
}

void
vd_exp_render_metrics(struct vd_exp_out *o, const struct vd_exp_metrics_in *in)
{
	static const char *const phase_lbl[VD_PHASE_COUNT] = {
		[VD_PHASE_RESOLVE] = "phase=\"resolve\"",
		[VD_PHASE_CONNECT] = "phase=\"connect\"",
		[VD_PHASE_TLS] = "phase=\"tls\"",
		[VD_PHASE_FIRST_BYTE] = "phase=\"first_byte\"",
		[VD_PHASE_TOTAL] = "phase=\"total\"",
	};
	static const char *const runs_lbl[VD_RUNS_COUNT] = {
		[VD_RUNS_PASS] = "result=\"pass\"",
		[VD_RUNS_FAIL] = "result=\"fail\"",
		[VD_RUNS_ERROR] = "result=\"error\"",
	};
	char reason_lbl[VD_REASON_COUNT][48];
	size_t reason_len[VD_REASON_COUNT];
	const struct vd_exp_entry *e, *end = in->entries + in->n;
	bool suite_ok = true;
	int i;

	/* a 10,000-check page is a few MB: grow once, not per line */
	vd_exp_out_reserve(o, in->n * 1400 + 8192);
	for (i = 0; i < VD_REASON_COUNT; i++) {
		int n = snprintf(reason_lbl[i], sizeof(reason_lbl[i]),
				 "reason=\"%s\"", vd_reason_name(i));
		reason_len[i] = (size_t)n;
	}

	vd_exp_out_family(o, "verdict_check_success", "gauge",
			  "1 if the latest run of the check passed, 0 if it "
			  "failed or errored.");
	for (e = in->entries; e < end; e++)
		if (e->has_result)
			sample(o, S("verdict_check_success"), e, NULL, 0,
			       e->status == VD_STATUS_PASS ? 1 : 0);

	vd_exp_out_family(o, "verdict_check_duration_seconds", "gauge",
			  "Seconds the latest run took, every attempt "
			  "included.");
	for (e = in->entries; e < end; e++)
		if (e->has_result)
			sample(o, S("verdict_check_duration_seconds"), e, NULL,
			       0, e->duration);

	vd_exp_out_family(o, "verdict_check_phase_duration_seconds", "gauge",
			  "Seconds of each phase of the latest run's last "
			  "attempt (phases the check went through).");
	for (e = in->entries; e < end; e++) {
		if (!e->has_result)
			continue;
		for (i = 0; i < VD_PHASE_TOTAL; i++)
			if (e->phases[i] >= 0)
				sample(o,
				       S("verdict_check_phase_duration_"
					 "seconds"),
				       e, phase_lbl[i], strlen(phase_lbl[i]),
				       e->phases[i]);
	}

	vd_exp_out_family(o, "verdict_check_runs_total", "counter",
			  "Finished runs of the check by result.");
	for (e = in->entries; e < end; e++)
		for (i = 0; i < VD_RUNS_COUNT; i++)
			sample(o, S("verdict_check_runs_total"), e, runs_lbl[i],
			       strlen(runs_lbl[i]), (double)e->runs[i]);

	vd_exp_out_family(o, "verdict_check_attempts", "gauge",
			  "Attempts the latest run made (1 + retries used).");
	for (e = in->entries; e < end; e++)
		if (e->has_result)
			sample(o, S("verdict_check_attempts"), e, NULL, 0,
			       e->attempts);

	vd_exp_out_family(o, "verdict_check_last_run_timestamp_seconds",
			  "gauge", "Unix time the latest run ended.");
	for (e = in->entries; e < end; e++)
		if (e->has_result)
			sample(o, S("verdict_check_last_run_timestamp_seconds"),
			       e, NULL, 0, e->last_run);

	vd_exp_out_family(o, "verdict_check_interval_seconds", "gauge",
			  "Seconds between scheduled runs of the check.");
	for (e = in->entries; e < end; e++)
		sample(o, S("verdict_check_interval_seconds"), e, NULL, 0,
		       e->every);

	vd_exp_out_family(o, "verdict_check_failure_reason", "gauge",
			  "1 on the reason why the latest run did not pass "
			  "(a fixed set); reason=\"none\" and 0 when it "
			  "passed.");
	for (e = in->entries; e < end; e++)
		if (e->has_result)
			sample(o, S("verdict_check_failure_reason"), e,
			       reason_lbl[e->reason], reason_len[e->reason],
			       e->status == VD_STATUS_PASS ? 0 : 1);

	vd_exp_out_family(o, "verdict_http_status_code", "gauge",
			  "HTTP status of the latest run's final response (0: "
			  "no response).");
	for (e = in->entries; e < end; e++)
		if (e->has_result && e->http_seen)
			sample(o, S("verdict_http_status_code"), e, NULL, 0,
			       e->http_status >= 0 ? e->http_status : 0);

	vd_exp_out_family(o, "verdict_tls_cert_not_after_timestamp_seconds",
			  "gauge",
			  "Unix time the peer's leaf certificate expires, "
			  "also when its verification failed.");
	for (e = in->entries; e < end; e++)
		if (e->has_result && e->tls_not_after >= 0)
			sample(o,
			       S("verdict_tls_cert_not_after_timestamp_"
				 "seconds"),
			       e, NULL, 0, e->tls_not_after);

	for (e = in->entries; e < end; e++)
		if (e->has_result && e->chk->critical &&
		    e->status != VD_STATUS_PASS)
			suite_ok = false;
	vd_exp_out_family(o, "verdict_suite_success", "gauge",
			  "1 if the latest run of every critical check "
			  "passed (checks not run yet do not count).");
	vd_exp_out_puts(o, "verdict_suite_success{suite=\"");
	{
		char *suite = vd_mask(in->suite ? in->suite : "");
		vd_exp_out_label_value(o, suite);
		free(suite);
	}
	vd_exp_out_puts(o, "\"} ");
	vd_exp_out_num(o, suite_ok ? 1 : 0);
	vd_exp_out_puts(o, "\n");

	vd_exp_out_metric(o, "verdict_checks_in_flight", "gauge",
			  "Scheduled checks running now.", NULL, in->inflight);
	if (in->lag)
		render_lag(o, in->lag);
	vd_exp_out_metric(o, "verdict_metrics_render_seconds", "gauge",
			  "Seconds the previous /metrics page took to render.",
			  NULL, in->last_render);
	vd_exp_out_metric(o, "verdict_config_last_reload_successful", "gauge",
			  "1 if the last config (re)load succeeded; 0: the "
			  "previous config is still running.",
			  NULL, in->reload_ok ? 1 : 0);
	vd_exp_out_metric(
		o, "verdict_config_last_reload_success_timestamp_seconds",
		"gauge", "Unix time of the last successful config load.", NULL,
		in->reload_ok_time);
	vd_exp_out_metric(o, "verdict_build_info", "gauge",
			  "Always 1; the labels name the build.",
			  "version=\"" VD_VERSION "\"", 1);
	if (in->http)
		render_http(o, in->http);
	if (in->proc)
		render_process(o, in->proc);
}
