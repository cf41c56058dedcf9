/*
 * serve.c - `verdict serve`: loads the config, wires the scheduler, the
 * probers and the HTTP server onto EV_DEFAULT, reloads on SIGHUP and
 * POST /-/reload (a broken config is refused and the old one keeps
 * running), stops cleanly on SIGTERM/SIGINT. Depends on the rest of
 * exporter/ and on probe/ and suites/ through their public headers.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <zlib.h>

#include "../lib/util.h"
#include "exporter_int.h"

#define EXIT_OK	   0
#define EXIT_START 1
#define EXIT_USAGE 2

static void
usage(FILE *f)
{
	fprintf(f,
		"usage: verdict serve [options] CONFIG.json\n"
		"\n"
		"Runs every check of CONFIG on its own interval and serves the "
		"latest results\n"
		"to Prometheus on /metrics; /probe?module=M&target=T answers "
		"like\n"
		"blackbox_exporter for the modules of CONFIG. SIGHUP or POST "
		"/-/reload\n"
		"reloads CONFIG (a broken one is refused and the old one keeps "
		"running);\n"
		"SIGTERM or SIGINT stop.\n"
		"\n"
		"options:\n"
		"  -l, --listen ADDR:PORT  listen here (default: the config's "
		"serve.listen,\n"
		"                          else %s); [IPv6]:PORT and :PORT "
		"(every\n"
		"                          address) work too\n"
		"      --check-config      load CONFIG, report, and exit (0 "
		"valid, 2 not)\n"
		"  -h, --help              this help\n",
		VD_SERVE_DEFAULT_LISTEN);
}

static void log_msg(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static void
log_msg(const char *fmt, ...)
{
	va_list ap;
	char *m;
	va_start(ap, fmt);
	m = vd_xvasprintf_masked(fmt, ap);
	va_end(ap);
	fprintf(stderr, "verdict: serve: %s\n", m);
	free(m);
}

static struct vd_prober *
new_prober(struct ev_loop *loop, unsigned concurrency)
{
	struct vd_prober_opts o = {.concurrency = concurrency};
	return vd_prober_new(loop, &o);
}

int
vd_exp_reload(struct vd_exp *ex, char *err, size_t errlen)
{
	struct vd_exp_config *cfg = NULL;
	struct vd_exp_sched *sched;
	struct vd_prober *prober;
	bool keep;
	int r;

	r = vd_exp_config_load(ex->path, &cfg, err, errlen);
	if (r < 0) {
		ex->reload_ok = false;
		log_msg("reload refused, the previous config keeps running: %s",
			err);
		return r;
	}
	if (strcmp(cfg->listen, ex->cfg->listen) != 0 ||
	    cfg->probe_concurrency != ex->cfg->probe_concurrency)
		log_msg("serve.listen and probe_concurrency change on restart "
			"only");
	/* the same prober unless the suite's concurrency changed: runs in
	 * flight of unchanged checks go on (a new prober cancels them) */
	keep = cfg->suite->concurrency == ex->cfg->suite->concurrency;
	prober = keep ? ex->prober
		      : new_prober(ex->loop, cfg->suite->concurrency);
	sched = vd_exp_sched_new(ex->loop, prober, cfg, ex->sched,
				 ex->cfg->suite, &ex->lag);
	vd_exp_sched_free(ex->sched);
	if (!keep)
		vd_prober_free(ex->prober);
	vd_exp_config_free(ex->cfg);
	ex->cfg = cfg;
	ex->sched = sched;
	ex->prober = prober;
	vd_exp_sched_start(sched);
	ex->reload_ok = true;
	ex->reload_ok_time = vd_now_unix();
	log_msg("config reloaded: %zu checks, %zu modules", cfg->suite->nchecks,
		cfg->nmodules);
	return 0;
}

static void
render_page(struct vd_exp *ex, struct vd_exp_out *o)
{
	struct vd_exp_metrics_in in;
	struct vd_exp_proc proc;
	struct timespec a, b;

	clock_gettime(CLOCK_MONOTONIC, &a);
	vd_exp_proc_read(&proc);
	memset(&in, 0, sizeof(in));
	in.entries = ex->sched->entries;
	in.n = ex->sched->n;
	in.suite = ex->cfg->suite->name;
	in.reload_ok = ex->reload_ok;
	in.reload_ok_time = ex->reload_ok_time;
	in.lag = &ex->lag;
	in.inflight = (double)vd_prober_inflight(ex->prober);
	in.last_render = ex->last_render;
	in.proc = &proc;
	in.http = vd_exp_http_stats(ex->http);
	vd_exp_render_metrics(o, &in);
	clock_gettime(CLOCK_MONOTONIC, &b);
	ex->last_render = (double)(b.tv_sec - a.tv_sec) +
			  (double)(b.tv_nsec - a.tv_nsec) / 1e9;
}

void
vd_exp_page_unref(void *arg)
{
	struct vd_exp_page *pg = arg;
	if (pg == NULL || --pg->refs > 0)
		return;
	(*pg->live)--;
	free(pg->out.data);
	free(pg->gz.data);
	free(pg);
}

bool
vd_exp_gzip(const char *in, size_t len, struct vd_exp_out *out)
{
	z_stream z;
	int r;

	memset(&z, 0, sizeof(z));
	/* 15 + 16: a gzip wrapper; level 1: the text format still shrinks
	 * about fifteenfold, at the least CPU */
	if (deflateInit2(&z, 1, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) !=
	    Z_OK)
		return false;
	out->len = 0;
	vd_exp_out_reserve(out, deflateBound(&z, len));
	z.next_in = (unsigned char *)in;
	z.avail_in = (uInt)len;
	z.next_out = (unsigned char *)out->data;
	z.avail_out = (uInt)(out->cap - out->len);
	r = deflate(&z, Z_FINISH);
	out->len = z.total_out;
	deflateEnd(&z);
	return r == Z_STREAM_END;
}

struct vd_exp_page *
vd_exp_metrics_get(struct vd_exp *ex)
{
	struct vd_exp_page *pg = ex->page;
	double now = ev_now(ex->loop);

	if (pg && pg->refs > 1 &&
	    (now - pg->rendered < VD_PAGE_SHARE || ex->npages >= VD_PAGE_MAX)) {
		pg->refs++;
		return pg;
	}
	if (pg == NULL || pg->refs > 1) {
		/* responses still send it: they keep it, we render anew */
		vd_exp_page_unref(pg);
		pg = vd_xcalloc(1, sizeof(*pg));
		pg->refs = 1;
		pg->live = &ex->npages;
		ex->npages++;
		ex->page = pg;
	}
	pg->out.len = 0;
	pg->gz_ok = false;
	render_page(ex, &pg->out);
	pg->rendered = now;
	pg->refs++;
	return pg;
}

static void
sighup_cb(struct ev_loop *loop, ev_signal *w, int revents)
{
	struct vd_exp *ex = w->data;
	char err[1200];
	(void)loop;
	(void)revents;
	log_msg("SIGHUP: reloading %s", ex->path);
	(void)vd_exp_reload(ex, err, sizeof(err));
}

static void
sigstop_cb(struct ev_loop *loop, ev_signal *w, int revents)
{
	(void)revents;
	log_msg("%s: stopping", w->signum == SIGTERM ? "SIGTERM" : "SIGINT");
	ev_break(loop, EVBREAK_ALL);
}

int
vd_cmd_serve(int argc, char **argv)
{
	static const struct option longopts[] = {
		{"listen", required_argument, NULL, 'l'},
		{"check-config", no_argument, NULL, 'C'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	const char *listen_addr = NULL;
	bool check_only = false;
	struct vd_exp *ex = NULL;
	char err[1200];
	int ch, fd, status = EXIT_USAGE;

	optind = 1;
	while ((ch = getopt_long(argc, argv, "l:h", longopts, NULL)) != -1) {
		switch (ch) {
		case 'l':
			listen_addr = optarg;
			break;
		case 'C':
			check_only = true;
			break;
		case 'h':
			usage(stdout);
			return EXIT_OK;
		default:
			usage(stderr);
			return EXIT_USAGE;
		}
	}
	if (optind != argc - 1) {
		fprintf(stderr, "verdict: serve: expected one config file\n");
		usage(stderr);
		return EXIT_USAGE;
	}
	ex = vd_xcalloc(1, sizeof(*ex));
	ex->loop = EV_DEFAULT;
	ex->path = vd_xstrdup(argv[optind]);
	if (vd_exp_config_load(ex->path, &ex->cfg, err, sizeof(err)) < 0) {
		log_msg("%s", err);
		goto out;
	}
	if (check_only) {
		printf("%s: ok (%zu checks, %zu modules)\n", ex->path,
		       ex->cfg->suite->nchecks, ex->cfg->nmodules);
		status = EXIT_OK;
		goto out;
	}
	if (listen_addr == NULL)
		listen_addr = ex->cfg->listen;
	fd = vd_exp_listen(listen_addr, err, sizeof(err));
	if (fd < 0) {
		log_msg("%s", err);
		status = EXIT_START;
		goto out;
	}
	ex->reload_ok = true;
	ex->reload_ok_time = vd_now_unix();
	ex->prober = new_prober(ex->loop, ex->cfg->suite->concurrency);
	ex->pprober = new_prober(ex->loop, ex->cfg->probe_concurrency);
	ex->http = vd_exp_http_start(ex, fd);
	if (ex->http == NULL) {
		status = EXIT_START;
		goto out;
	}
	ex->sched = vd_exp_sched_new(ex->loop, ex->prober, ex->cfg, NULL, NULL,
				     &ex->lag);
	vd_exp_sched_start(ex->sched);

	ev_signal_init(&ex->sighup, sighup_cb, SIGHUP);
	ex->sighup.data = ex;
	ev_signal_start(ex->loop, &ex->sighup);
	ev_signal_init(&ex->sigterm, sigstop_cb, SIGTERM);
	ev_signal_start(ex->loop, &ex->sigterm);
	ev_signal_init(&ex->sigint, sigstop_cb, SIGINT);
	ev_signal_start(ex->loop, &ex->sigint);

	log_msg("listening on %s: %zu checks, %zu modules (verdict %s)",
		listen_addr, ex->cfg->suite->nchecks, ex->cfg->nmodules,
		VD_VERSION);
	ev_run(ex->loop, 0);
	status = EXIT_OK;
out:
	/* /probe requests first: they hold probes of pprober */
	vd_exp_http_stop(ex->http);
	vd_exp_sched_free(ex->sched);
	vd_prober_free(ex->prober);
	vd_prober_free(ex->pprober);
	ev_signal_stop(ex->loop, &ex->sighup);
	ev_signal_stop(ex->loop, &ex->sigterm);
	ev_signal_stop(ex->loop, &ex->sigint);
	vd_exp_page_unref(ex->page);
	vd_exp_config_free(ex->cfg);
	free(ex->path);
	free(ex);
	return status;
}
