/*
 * serve.c - `verdict serve`: loads the config, wires the scheduler, the
 * probers and the HTTP front onto the loop the app hands it, renders and
 * caches the /metrics page, reloads on SIGHUP and POST /-/reload (a
 * broken config is refused and the old one keeps running), stops cleanly
 * on SIGTERM/SIGINT. Depends on the rest of exporter/, on lib/, and on
 * probe/ and suites/ through their public headers.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "../lib/app.h"
#include "../lib/exit.h"
#include "../lib/log.h"
#include "../lib/util.h"
#include "exporter_int.h"

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

static struct vd_prober *
new_prober(struct ev_loop *loop, unsigned concurrency)
{
	struct vd_prober_opts o = {.concurrency = concurrency};
	return vd_prober_new(loop, &o);
}

/*
 * Reloads ex->path. On success swaps the config and schedule in and
 * returns 0; on failure keeps the old ones, sets reload_ok false, logs,
 * writes the message into err and returns VD_ERR_CONFIG / VD_ERR_IO.
 */
static int
reload(struct vd_exp *ex, char *err, size_t errlen)
{
	struct vd_exp_config *cfg = NULL;
	struct vd_exp_sched *sched;
	struct vd_prober *prober;
	bool keep;
	int r;

	r = vd_exp_config_load(ex->path, &cfg, err, errlen);
	if (r < 0) {
		ex->reload_ok = false;
		vd_log("serve",
		       "reload refused, the previous config keeps running: %s",
		       err);
		return r;
	}
	if (strcmp(cfg->listen, ex->cfg->listen) != 0 ||
	    cfg->probe_concurrency != ex->cfg->probe_concurrency)
		vd_log("serve",
		       "serve.listen and probe_concurrency change on restart "
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
	vd_log("serve", "config reloaded: %zu checks, %zu modules",
	       cfg->suite->nchecks, cfg->nmodules);
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

/* The front's /metrics route (struct vd_exp_routes). */
static struct vd_exp_page *
metrics_page(void *ctx)
{
	struct vd_exp *ex = ctx;
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

/* The front's /-/reload route (struct vd_exp_routes). */
static int
reload_route(void *ctx, char *err, size_t errlen)
{
	return reload(ctx, err, errlen);
}

struct vd_exp_routes
vd_exp_routes(struct vd_exp *ex)
{
	struct vd_exp_routes r = {
		.metrics = metrics_page,
		.reload = reload_route,
		.ctx = ex,
	};
	return r;
}

/* SIGHUP reloads; SIGTERM and SIGINT stop (the app watches them). */
static void
on_signal(struct vd_app *app, int signum)
{
	struct vd_exp *ex = app->ctx;
	char err[1200];

	if (signum == SIGHUP) {
		vd_log("serve", "SIGHUP: reloading %s", ex->path);
		(void)reload(ex, err, sizeof(err));
		return;
	}
	vd_log("serve", "%s: stopping",
	       signum == SIGTERM ? "SIGTERM" : "SIGINT");
	ev_break(app->loop, EVBREAK_ALL);
}

int
vd_cmd_serve(struct vd_app *app, int argc, char **argv)
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
	int ch, fd, status = VD_EXIT_USAGE;

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
			return VD_EXIT_OK;
		default:
			usage(stderr);
			return VD_EXIT_USAGE;
		}
	}
	if (optind != argc - 1) {
		vd_log("serve", "expected one config file");
		usage(stderr);
		return VD_EXIT_USAGE;
	}
	ex = vd_xcalloc(1, sizeof(*ex));
	ex->loop = app->loop;
	ex->path = vd_xstrdup(argv[optind]);
	if (vd_exp_config_load(ex->path, &ex->cfg, err, sizeof(err)) < 0) {
		vd_log("serve", "%s", err);
		goto out;
	}
	if (check_only) {
		printf("%s: ok (%zu checks, %zu modules)\n", ex->path,
		       ex->cfg->suite->nchecks, ex->cfg->nmodules);
		status = VD_EXIT_OK;
		goto out;
	}
	if (listen_addr == NULL)
		listen_addr = ex->cfg->listen;
	fd = vd_exp_listen(listen_addr, err, sizeof(err));
	if (fd < 0) {
		vd_log("serve", "%s", err);
		status = VD_EXIT_FAIL;
		goto out;
	}
	ex->reload_ok = true;
	ex->reload_ok_time = vd_now_unix();
	ex->prober = new_prober(ex->loop, ex->cfg->suite->concurrency);
	ex->pprober = new_prober(ex->loop, ex->cfg->probe_concurrency);
	{
		const struct vd_exp_routes routes = vd_exp_routes(ex);
		ex->http = vd_exp_http_start(ex, fd, &routes);
	}
	if (ex->http == NULL) {
		status = VD_EXIT_FAIL;
		goto out;
	}
	ex->sched = vd_exp_sched_new(ex->loop, ex->prober, ex->cfg, NULL, NULL,
				     &ex->lag);
	vd_exp_sched_start(ex->sched);

	app->ctx = ex;
	app->on_signal = on_signal;

	vd_log("serve", "listening on %s: %zu checks, %zu modules (verdict %s)",
	       listen_addr, ex->cfg->suite->nchecks, ex->cfg->nmodules,
	       VD_VERSION);
	ev_run(ex->loop, 0);
	status = VD_EXIT_OK;
out:
	/* /probe requests first: they hold probes of pprober */
	vd_exp_http_stop(ex->http);
	vd_exp_sched_free(ex->sched);
	vd_prober_free(ex->prober);
	vd_prober_free(ex->pprober);
	app->on_signal = NULL;
	vd_exp_page_unref(ex->page);
	vd_exp_config_free(ex->cfg);
	free(ex->path);
	free(ex);
	return status;
}
