/*
 * verdict.c - the composition root: the command line, and the wiring of
 * the loop, the prober, suites, reports, the exporter and the deployer.
 * The only file that includes every module.
 */
#include <curl/curl.h>
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/app.h"
#include "lib/exit.h"
#include "lib/log.h"
#include "lib/util.h"
#include "probe/probe.h"
#include "probe/report.h"
#include "deployer/deployer.h"
#include "exporter/exporter.h"
#include "suites/init.h"
#include "suites/suite.h"

static void
usage_main(FILE *f)
{
	fprintf(f,
		"usage: verdict [--help] [--version] COMMAND [ARGS]\n"
		"\n"
		"Health checks, smoke tests, a Prometheus exporter and a "
		"deploy "
		"gate.\n"
		"\n"
		"commands:\n"
		"  run SUITE.json       run a suite's checks; exit 0 pass, 1 "
		"fail, "
		"2 bad suite\n"
		"  validate SUITE.json  check a suite file without probing\n"
		"  serve CONFIG.json    run checks on intervals, serve "
		"/metrics and /probe\n"
		"  types                list the check types\n"
		"  init URL [FILE]      write a starter suite of the checks "
		"that pass at URL\n"
		"  deploy --config F --version V  deploy, gate, promote or "
		"roll back\n"
		"  rollback --config F [--to V]   roll back to the known-good "
		"version\n"
		"  history --config F   the deployments of an environment\n"
		"  status --config F    known-good, current and interrupted "
		"deployments\n"
		"\n"
		"'verdict COMMAND --help' tells more. Exit codes: 0 every "
		"critical "
		"check\n"
		"passed, 1 a critical check failed, 2 usage or suite error.\n");
}

static void
usage_run(FILE *f)
{
	fprintf(f,
		"usage: verdict run [options] SUITE.json\n"
		"\n"
		"Runs every check of the suite concurrently, stage by stage, "
		"prints a report\n"
		"and exits 0 (every critical check passed), 1 (a critical "
		"check "
		"failed or\n"
		"errored) or 2 (usage error or invalid suite; nothing was "
		"probed).\n"
		"\n"
		"options:\n"
		"  -f, --format FMT      report format: text (default), json, "
		"junit, tap, markdown\n"
		"  -o, --output FILE     write the report to FILE as well as "
		"to "
		"stdout\n"
		"      --report FMT=FILE also write a report in FMT to FILE "
		"(repeatable)\n"
		"      --only NAME|TAG   run only checks with this name or tag "
		"(repeatable)\n"
		"  -c, --concurrency N   checks in flight at most (default: "
		"the "
		"suite's, else %d)\n"
		"  -q, --quiet           text: show only checks that did not "
		"pass; no progress\n"
		"      --progress MODE   auto (default: tty on a terminal, "
		"else "
		"plain), tty,\n"
		"                        plain (a line on stderr when a check "
		"ends or retries)\n"
		"                        or none\n"
		"  -v, --verbose         text: show reasons and targets of "
		"every "
		"check\n"
		"  -h, --help            this help\n"
		"\n"
		"Colour is used only on a terminal and never when NO_COLOR is "
		"set.\n"
		"When GITHUB_STEP_SUMMARY is set, a Markdown summary is "
		"appended "
		"to that file;\n"
		"when GITHUB_ACTIONS=true, failed checks are annotated "
		"(::error) on stderr.\n",
		VD_DEFAULT_CONCURRENCY);
}

struct run_ctx {
	struct vd_run_summary sum; /* points into the run until vd_run_free */
	struct vd_progress *progress; /* NULL: none */
	struct ev_loop *loop;
	bool done;
};

static void
run_done(const struct vd_run_summary *sum, void *udata)
{
	struct run_ctx *ctx = udata;
	/* the results stay the run's until vd_run_free(): no copy */
	ctx->sum = *sum;
	ctx->done = true;
	ev_break(ctx->loop, EVBREAK_ALL);
}

static int
write_report(const struct vd_report_writer *w, const struct vd_report_in *in,
	     const char *path, const char *mode)
{
	FILE *f = fopen(path, mode);
	int r;
	if (f == NULL) {
		vd_log(NULL, "%s: %s", path, strerror(errno));
		return -1;
	}
	r = w->write(f, in);
	if (fclose(f) != 0 || r < 0) {
		vd_log(NULL, "%s: write error", path);
		return -1;
	}
	return 0;
}

static void
run_progress(const struct vd_run_event *ev, void *udata)
{
	struct run_ctx *ctx = udata;
	vd_progress_event(ctx->progress, ev);
}

static int
load_suite(const char *path, struct vd_suite **out)
{
	char err[1200];
	int r = vd_suite_load(path, NULL, out, err, sizeof(err));
	if (r < 0)
		vd_log(NULL, "%s", err);
	return r;
}

static int
cmd_run(struct vd_app *app, int argc, char **argv)
{
	static const struct option longopts[] = {
		{"format", required_argument, NULL, 'f'},
		{"output", required_argument, NULL, 'o'},
		{"only", required_argument, NULL, 'O'},
		{"report", required_argument, NULL, 'R'},
		{"concurrency", required_argument, NULL, 'c'},
		{"quiet", no_argument, NULL, 'q'},
		{"verbose", no_argument, NULL, 'v'},
		{"progress", required_argument, NULL, 'P'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	const struct vd_report_writer *w = &vd_report_text;
	const char *progress = "auto";
	enum vd_progress_mode pmode = VD_PROGRESS_NONE;
	const char *output = NULL, *summary, *env;
	char **only = NULL, **rpath = NULL;
	const struct vd_report_writer **rw = NULL;
	size_t nrep = 0;
	size_t nonly = 0, i, j, n = 0;
	long conc = 0;
	int verbosity = 0, ch, status = VD_EXIT_USAGE;
	struct vd_suite *suite = NULL;
	const struct vd_check **sel = NULL;
	struct vd_prober *prober = NULL;
	struct vd_prober_opts popts = {0};
	struct vd_run *run = NULL;
	struct run_ctx ctx;
	struct vd_report_in in;

	memset(&ctx, 0, sizeof(ctx));
	ctx.loop = app->loop;
	argv[0] = (char *)"verdict run"; /* getopt's messages name it */
	optind = 1;
	while ((ch = getopt_long(argc, argv, "f:o:c:qvh", longopts, NULL)) !=
	       -1) {
		switch (ch) {
		case 'f':
			w = vd_report_find(optarg);
			if (w == NULL) {
				vd_log("run",
				       "unknown format \"%s\" (text, json, "
				       "junit, tap, markdown)",
				       optarg);
				goto out;
			}
			break;
		case 'o':
			output = optarg;
			break;
		case 'O':
			only = vd_xreallocarray(only, nonly + 1, sizeof(*only));
			only[nonly++] = optarg;
			break;
		case 'R': { /* FORMAT=FILE; optarg is ours to cut */
			char *eq = strchr(optarg, '=');
			if (eq)
				*eq = '\0';
			if (eq == NULL || eq[1] == '\0' ||
			    vd_report_find(optarg) == NULL) {
				vd_log("run", "--report: expected FORMAT=FILE "
					      "with FORMAT text, json, junit, "
					      "tap or markdown");
				goto out;
			}
			/* NOLINTNEXTLINE(bugprone-sizeof-expression) */
			rw = vd_xreallocarray(rw, nrep + 1, sizeof(*rw));
			rpath = vd_xreallocarray(rpath, nrep + 1,
						 sizeof(*rpath));
			rw[nrep] = vd_report_find(optarg);
			rpath[nrep++] = eq + 1;
			break;
		}
		case 'c': {
			char *end;
			errno = 0;
			conc = strtol(optarg, &end, 10);
			if (errno || *end || conc < 1 || conc > 1000000) {
				vd_log("run", "--concurrency: expected a "
					      "number from 1 to 1000000");
				goto out;
			}
			break;
		}
		case 'q':
			verbosity = -1;
			break;
		case 'v':
			verbosity = 1;
			break;
		case 'P':
			if (vd_progress_mode_parse(optarg, STDERR_FILENO,
						   &pmode) < 0) {
				vd_log("run", "--progress: expected auto, tty, "
					      "plain or none");
				goto out;
			}
			progress = optarg;
			break;
		case 'h':
			usage_run(stdout);
			status = VD_EXIT_OK;
			goto out;
		default:
			usage_run(stderr);
			goto out;
		}
	}
	if (optind != argc - 1) {
		vd_log("run", "expected one suite file");
		usage_run(stderr);
		goto out;
	}
	if (load_suite(argv[optind], &suite) < 0)
		goto out;
	/* NOLINTNEXTLINE(bugprone-sizeof-expression) */
	sel = vd_xcalloc(suite->nchecks, sizeof(*sel));
	for (i = 0; i < suite->nchecks; i++) {
		bool keep = nonly == 0;
		for (j = 0; j < nonly && !keep; j++)
			keep = vd_check_matches(suite->checks[i], only[j]);
		if (keep)
			sel[n++] = suite->checks[i];
	}
	if (n == 0) {
		vd_log("run", "no check matches --only");
		goto out;
	}

	popts.concurrency = conc ? (unsigned)conc : suite->concurrency;
	prober = vd_prober_new(app->loop, &popts);
	/* -q means no progress, unless asked for by name */
	if (verbosity < 0 && strcmp(progress, "auto") == 0)
		pmode = VD_PROGRESS_NONE;
	else
		(void)vd_progress_mode_parse(progress, STDERR_FILENO, &pmode);
	ctx.progress = vd_progress_new(app->loop, stderr, pmode, n);
	run = vd_run_start(prober, (const struct vd_check *const *)sel, n,
			   run_done, run_progress, &ctx);
	/* SIGINT/SIGTERM break the loop (the app's default): freeing the
	 * prober releases every attempt (exec checks kill their groups) */
	ev_run(app->loop, 0);
	vd_progress_free(ctx.progress); /* a terminal view is erased */
	ctx.progress = NULL;
	if (!ctx.done) {
		if (app->signal)
			vd_log("run", "stopped by %s; no report",
			       strsignal(app->signal));
		else
			vd_log("run", "the loop stopped early");
		status = app->signal ? VD_EXIT_SIGNAL_BASE + app->signal
				     : VD_EXIT_FAIL;
		goto out;
	}

	memset(&in, 0, sizeof(in));
	in.suite = suite->name;
	in.sum = &ctx.sum;
	in.verbosity = verbosity;
	env = getenv("NO_COLOR");
	in.color = w == &vd_report_text && isatty(STDOUT_FILENO) &&
		   (env == NULL || *env == '\0');
	status = ctx.sum.passed ? VD_EXIT_OK : VD_EXIT_FAIL;
	if (w->write(stdout, &in) < 0 || fflush(stdout) != 0) {
		vd_log("run", "could not write the report");
		status = VD_EXIT_FAIL;
	}
	in.color = false;
	if (output && write_report(w, &in, output, "w") < 0)
		status = VD_EXIT_FAIL;
	for (i = 0; i < nrep; i++)
		if (write_report(rw[i], &in, rpath[i], "w") < 0)
			status = VD_EXIT_FAIL;
	env = getenv("GITHUB_ACTIONS");
	if (env && strcmp(env, "true") == 0 &&
	    (vd_report_github.write(stderr, &in) < 0 || fflush(stderr) != 0))
		status = VD_EXIT_FAIL;
	summary = getenv("GITHUB_STEP_SUMMARY");
	if (summary && *summary &&
	    write_report(&vd_report_markdown, &in, summary, "a") < 0)
		status = VD_EXIT_FAIL;
out:
	vd_run_free(run);
	vd_prober_free(prober);
	free(sel);
	free(only);
	free(rw);
	free(rpath);
	vd_suite_free(suite);
	return status;
}

static int
cmd_validate(struct vd_app *app, int argc, char **argv)
{
	struct vd_suite *suite = NULL;
	int i, status = VD_EXIT_OK;

	if (argc < 2 || strcmp(argv[1], "--help") == 0 ||
	    strcmp(argv[1], "-h") == 0) {
		fprintf(argc < 2 ? stderr : stdout,
			"usage: verdict validate SUITE.json [...]\n"
			"\n"
			"Checks suite files without probing: JSON syntax, "
			"keys, "
			"types, durations,\n"
			"URLs, regular expressions, environment variables. "
			"Exit 0 "
			"when every file\n"
			"is valid, 2 otherwise.\n");
		return argc < 2 ? VD_EXIT_USAGE : VD_EXIT_OK;
	}
	for (i = 1; i < argc; i++) {
		if (load_suite(argv[i], &suite) < 0) {
			status = VD_EXIT_USAGE;
			continue;
		}
		printf("%s: ok (%zu checks, %zu stages)\n", argv[i],
		       suite->nchecks, suite->nstages);
		vd_suite_free(suite);
		suite = NULL;
	}
	return status;
}

static int
cmd_types(struct vd_app *app, int argc, char **argv)
{
	size_t i;
	(void)app;
	(void)argc;
	(void)argv;
	for (i = 0; vd_check_types[i]; i++)
		printf("%s\n", vd_check_types[i]->name);
	return VD_EXIT_OK;
}

struct command {
	const char *name;
	int (*fn)(struct vd_app *app, int argc, char **argv);
	bool loop; /* runs the loop: gets the signal watchers (the others
		    * keep the default actions, so ^C ends them at once) */
};

static const struct command commands[] = {
	{"run", cmd_run, true},
	{"validate", cmd_validate, false},
	{"types", cmd_types, false},
	{"init", vd_cmd_init, true},
	{"deploy", vd_cmd_deploy, true},
	{"rollback", vd_cmd_rollback, true},
	{"history", vd_cmd_history, false},
	{"status", vd_cmd_status, false},
	{"serve", vd_cmd_serve, true},
	{NULL, NULL, false},
};

/* SIGINT, SIGTERM, SIGHUP: the command's on_signal, else SIGINT and
 * SIGTERM break the loop. */
static void
app_signal(struct ev_loop *loop, ev_signal *w, int revents)
{
	struct vd_app *app = w->data;
	(void)revents;
	if (w->signum != SIGHUP)
		app->signal = w->signum;
	if (app->on_signal)
		app->on_signal(app, w->signum);
	else if (w->signum != SIGHUP)
		ev_break(loop, EVBREAK_ALL);
}

/* Runs the command with the loop and the signals this file owns. */
static int
run_command(const struct command *c, int argc, char **argv)
{
	static const int signums[] = {SIGINT, SIGTERM, SIGHUP};
	struct vd_app app = {.loop = EV_DEFAULT};
	ev_signal w[3];
	size_t i;
	int r;

	if (!c->loop)
		return c->fn(&app, argc, argv);
	for (i = 0; i < 3; i++) {
		ev_signal_init(&w[i], app_signal, signums[i]);
		w[i].data = &app;
		ev_signal_start(app.loop, &w[i]);
		ev_unref(app.loop); /* a watcher alone keeps no loop alive */
	}
	r = c->fn(&app, argc, argv);
	for (i = 0; i < 3; i++) {
		ev_ref(app.loop);
		ev_signal_stop(app.loop, &w[i]);
	}
	return r;
}

int
main(int argc, char **argv)
{
	const struct command *c;
	int r;

	signal(SIGPIPE, SIG_IGN);
	if (argc < 2) {
		usage_main(stderr);
		return VD_EXIT_USAGE;
	}
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
	    strcmp(argv[1], "help") == 0) {
		usage_main(stdout);
		return VD_EXIT_OK;
	}
	if (strcmp(argv[1], "--version") == 0 ||
	    strcmp(argv[1], "version") == 0) {
		printf("verdict %s (%s)\n", VD_VERSION, curl_version());
		return VD_EXIT_OK;
	}
	for (c = commands; c->name; c++)
		if (strcmp(c->name, argv[1]) == 0)
			break;
	if (c->name == NULL) {
		vd_log(NULL, "unknown command \"%s\"", argv[1]);
		usage_main(stderr);
		return VD_EXIT_USAGE;
	}
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
		vd_log(NULL, "could not initialise libcurl");
		return VD_EXIT_FAIL;
	}
	r = run_command(c, argc - 1, argv + 1);
	curl_global_cleanup();
	vd_secret_clear();
	return r;
}
