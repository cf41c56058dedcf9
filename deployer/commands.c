/*
 * commands.c - the command lines of `verdict deploy`, `rollback`,
 * `history` and `status`. history and status only read: they take no
 * lock (a deploy running meanwhile is never refused because of them) and
 * need no tokens.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "dep_int.h"
#include "dep_progress.h"

/* "verdict: CMD: msg" on one line: control bytes in msg (from a refused
 * argument or a config value) are escaped. */
static void
say_error(const char *cmd, const char *msg)
{
	char *e = vd_dep_escape(msg, 0, false);
	fprintf(stderr, "verdict: %s: %s\n", cmd, e);
	free(e);
}

/* An argument echoed in a message: masked, escaped, cut. */
static char *
quote_arg(const char *arg)
{
	char *m = vd_mask(arg), *e = vd_dep_escape(m, 200, true);
	free(m);
	return e;
}

static const char exit_table[] =
	"exit codes: 0 promoted (rollback: done and verified), 1 verdict could "
	"not work\n"
	"(state files), 2 usage or config error, 3 rolled back, 4 rollback "
	"failed,\n"
	"5 inconclusive, 6 locked by another deployment, 7 refused by the "
	"pre-flight,\n"
	"8 interrupted.\n";

static void
usage_deploy(FILE *f)
{
	fprintf(f,
		"usage: verdict deploy --config DEPLOY.json --version V "
		"[options]\n"
		"\n"
		"Locks the environment, records the deployment, checks the "
		"image "
		"exists\n"
		"(registry pre-flight), runs the deploy hook, waits until "
		"healthy, "
		"runs the\n"
		"smoke suite, then promotes or rolls back to the known-good "
		"version (and\n"
		"verifies it), records the result and notifies.\n"
		"\n"
		"options:\n"
		"  -c, --config FILE   the deploy config (JSON)\n"
		"  -V, --version V     the version to deploy (image tag)\n"
		"  -f, --format FMT    text (default) or json: the deployment "
		"report on stdout\n"
		"  -o, --report FILE   write the JSON report to FILE too\n"
		"  -q, --quiet         no progress on stderr (--progress "
		"none)\n"
		"      --progress MODE auto (default: tty on a terminal, else "
		"plain), tty (a\n"
		"                      live view: phase, gate checks, "
		"attempts, elapsed time),\n"
		"                      plain (a line when something happens) "
		"or none\n"
		"      --check         validate the config (and its suites) "
		"only\n"
		"  -h, --help          this help\n"
		"\n%s",
		exit_table);
}

static void
usage_rollback(FILE *f)
{
	fprintf(f,
		"usage: verdict rollback --config DEPLOY.json [--to V] "
		"[options]\n"
		"\n"
		"Runs the rollback hook with the known-good version (or V, "
		"which "
		"must have\n"
		"been promoted before), verifies it with the health suite, "
		"records and\n"
		"notifies.\n"
		"\n"
		"options: -c/--config, --to V, -f/--format text|json, "
		"-o/--report "
		"FILE,\n"
		"-q/--quiet, --progress auto|tty|plain|none (as deploy's), "
		"-h/--help\n\n%s",
		exit_table);
}

/* The live view's title: "deploy V to ENV", "rollback of ENV to V". */
static void
progress_begin(enum vd_progress_mode mode, const char *config,
	       const char *version, bool rollback)
{
	char err[1200], *env = NULL, *dir = NULL, *title;

	if (mode == VD_PROGRESS_NONE)
		return;
	(void)vd_dep_config_peek(config, &env, &dir, err, sizeof(err));
	if (rollback)
		title = vd_xasprintf(
			"rollback of %s%s%s", env ? env : "the environment",
			version ? " to " : "", version ? version : "");
	else
		title = vd_xasprintf("deploy %s to %s", version,
				     env ? env : "the environment");
	{
		/* the version is judged later: escaped until then */
		char *e = vd_dep_escape(title, 200, false);
		vd_dep_progress_begin(mode, e);
		free(e);
	}
	free(title);
	free(env);
	free(dir);
}

static int
deploy_or_rollback(int argc, char **argv, bool rollback)
{
	static const struct option longopts[] = {
		{"config", required_argument, NULL, 'c'},
		{"version", required_argument, NULL, 'V'},
		{"to", required_argument, NULL, 'T'},
		{"format", required_argument, NULL, 'f'},
		{"report", required_argument, NULL, 'o'},
		{"quiet", no_argument, NULL, 'q'},
		{"check", no_argument, NULL, 'C'},
		{"progress", required_argument, NULL, 'P'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	const char *config = NULL, *version = NULL, *format = "text",
		   *report = NULL, *cmd = rollback ? "rollback" : "deploy",
		   *progress = NULL;
	void (*usage)(FILE *) = rollback ? usage_rollback : usage_deploy;
	bool quiet = false, check = false;
	enum vd_progress_mode pmode = VD_PROGRESS_NONE;
	int ch, code;

	optind = 1;
	opterr = 0; /* getopt would echo a bad option raw */
	while ((ch = getopt_long(argc, argv, "c:V:f:o:qh", longopts, NULL)) !=
	       -1) {
		switch (ch) {
		case 'c':
			config = optarg;
			break;
		case 'V':
			if (rollback) {
				fprintf(stderr,
					"verdict: rollback: use --to V\n");
				return VD_DEP_EXIT_CONFIG;
			}
			version = optarg;
			break;
		case 'T':
			if (!rollback) {
				fprintf(stderr,
					"verdict: deploy: use --version V\n");
				return VD_DEP_EXIT_CONFIG;
			}
			version = optarg;
			break;
		case 'f':
			format = optarg;
			break;
		case 'o':
			report = optarg;
			break;
		case 'q':
			quiet = true;
			break;
		case 'C':
			check = true;
			break;
		case 'P':
			if (vd_progress_mode_parse(optarg, STDERR_FILENO,
						   &pmode) < 0) {
				fprintf(stderr,
					"verdict: %s: --progress: expected "
					"auto, tty, plain or none\n",
					cmd);
				return VD_DEP_EXIT_CONFIG;
			}
			progress = optarg;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default: {
			char *q = quote_arg(argv[optind - 1]);
			fprintf(stderr,
				"verdict: %s: unknown option or missing "
				"value: \"%s\"\n",
				cmd, q);
			free(q);
			usage(stderr);
			return VD_DEP_EXIT_CONFIG;
		}
		}
	}
	if (optind != argc) {
		char *q = quote_arg(argv[optind]);
		fprintf(stderr, "verdict: %s: unexpected argument \"%s\"\n",
			cmd, q);
		free(q);
		usage(stderr);
		return VD_DEP_EXIT_CONFIG;
	}
	if (check && config) {
		struct vd_dep_config *cfg = NULL;
		char err[1200];
		if (vd_dep_config_load(config, &cfg, err, sizeof(err)) < 0 ||
		    vd_dep_config_check_hooks(cfg, err, sizeof(err)) < 0) {
			say_error(cmd, err);
			vd_dep_config_free(cfg);
			return VD_DEP_EXIT_CONFIG;
		}
		printf("%s: ok (environment %s, %zu health and %zu smoke "
		       "checks, "
		       "%zu notifiers%s)\n",
		       config, cfg->environment, cfg->health->nchecks,
		       cfg->smoke ? cfg->smoke->nchecks : 0, cfg->nnotifiers,
		       cfg->registry ? ", registry pre-flight" : "");
		vd_dep_config_free(cfg);
		return 0;
	}
	if (config == NULL || (!rollback && version == NULL)) {
		fprintf(stderr, "verdict: %s: %s required\n", cmd,
			config == NULL ? "--config" : "--version");
		usage(stderr);
		return VD_DEP_EXIT_CONFIG;
	}
	if (strcmp(format, "text") != 0 && strcmp(format, "json") != 0) {
		char *q = quote_arg(format);
		fprintf(stderr,
			"verdict: %s: unknown format \"%s\" (text, json)\n",
			cmd, q);
		free(q);
		return VD_DEP_EXIT_CONFIG;
	}
	/* -q means no progress, unless a mode is named too */
	if (progress == NULL)
		(void)vd_progress_mode_parse(quiet ? "none" : "auto",
					     STDERR_FILENO, &pmode);
	quiet = pmode == VD_PROGRESS_NONE;
	progress_begin(pmode, config, version, rollback);
	code = vd_dep_run_deploy(config, version, format, report, quiet,
				 rollback);
	vd_dep_progress_end();
	return code;
}

int
vd_cmd_deploy(int argc, char **argv)
{
	return deploy_or_rollback(argc, argv, false);
}

int
vd_cmd_rollback(int argc, char **argv)
{
	return deploy_or_rollback(argc, argv, true);
}

/* --- history and status: read-only ----------------------------------- */

struct ro {
	char *env;
	char *dir;
	struct vd_dep_state st;
	bool exists;
};

static int
ro_open(struct ro *ro, const char *config, const char *cmd)
{
	char err[1200];
	struct stat sb;

	memset(ro, 0, sizeof(*ro));
	ro->st.dir_fd = ro->st.lock_fd = ro->st.hist_fd = -1;
	if (vd_dep_config_peek(config, &ro->env, &ro->dir, err, sizeof(err)) <
	    0) {
		say_error(cmd, err);
		return VD_DEP_EXIT_CONFIG;
	}
	if (stat(ro->dir, &sb) < 0)
		return 0; /* nothing deployed yet */
	ro->exists = true;
	if (vd_dep_state_open(&ro->st, ro->dir, ro->env, err, sizeof(err)) <
		    0 ||
	    vd_dep_state_load(&ro->st, err, sizeof(err)) < 0) {
		say_error(cmd, err);
		return VD_DEP_EXIT_ERROR;
	}
	return 0;
}

static void
ro_close(struct ro *ro)
{
	if (ro->exists)
		vd_dep_state_close(&ro->st);
	free(ro->env);
	free(ro->dir);
}

struct hist {
	cJSON *list; /* deployments in order */
	cJSON *last; /* the one lines were last added to */
};

static void
hist_cb(const cJSON *line, void *udata)
{
	struct hist *h = udata;
	const char *id = vd_dep_jstr(line, "deployment_id");
	const char *ev = vd_dep_jstr(line, "event");
	cJSON *d = NULL, *it;

	if (id == NULL || ev == NULL)
		return;
	if (h->last && vd_streq(vd_dep_jstr(h->last, "deployment_id"), id)) {
		d = h->last;
	} else {
		cJSON_ArrayForEach(it, h->list)
			if (vd_streq(vd_dep_jstr(it, "deployment_id"), id))
				d = it;
	}
	if (d == NULL) {
		d = cJSON_CreateObject();
		vd_dep_jset_str(d, "deployment_id", id);
		cJSON_AddItemToArray(h->list, d);
	}
	h->last = d;
	if (strcmp(ev, "deployment") == 0) {
		static const char *const keys[] = {
			"kind",	      "environment",
			"version",    "previous_version",
			"started_at", "actor",
			NULL};
		size_t i;
		for (i = 0; keys[i]; i++)
			vd_dep_jset_str(d, keys[i], vd_dep_jstr(line, keys[i]));
		if (cJSON_GetObjectItemCaseSensitive(line, "ci"))
			vd_dep_jset(d, "ci",
				    cJSON_Duplicate(
					    cJSON_GetObjectItemCaseSensitive(
						    line, "ci"),
					    1));
	} else if (strcmp(ev, "step") == 0) {
		vd_dep_jset_str(d, "last_step", vd_dep_jstr(line, "step"));
	} else if (strcmp(ev, "result") == 0) {
		vd_dep_jset_str(d, "result", vd_dep_jstr(line, "result"));
		vd_dep_jset_num(d, "exit_code",
				vd_dep_jnum(line, "exit_code", -1));
		vd_dep_jset_str(d, "reason", vd_dep_jstr(line, "reason"));
		vd_dep_jset_str(d, "finished_at", vd_dep_jstr(line, "ts"));
	} else if (strcmp(ev, "notify") == 0) {
		const char *state = vd_dep_jstr(line, "state");
		const char *k = vd_streq(state, "sent") ? "notifications_sent"
				: vd_streq(state, "failed")
					? "notifications_failed"
					: NULL;
		if (k)
			vd_dep_jset_num(d, k, vd_dep_jnum(d, k, 0) + 1);
	}
}

/*
 * One story with the state: the line the state committed last and the
 * history may lack (a kill between the two writes) counts as written; a
 * deployment without a result is "running" while its verdict holds the
 * lock, else it is shown "interrupted" (exit 8) - the next deploy or
 * rollback records it so ("recorded": false until then).
 */
static void
close_unfinished(struct ro *ro, struct hist *h)
{
	cJSON *ip =
		cJSON_GetObjectItemCaseSensitive(ro->st.state, "in_progress");
	const char *ipid =
		cJSON_IsObject(ip) ? vd_dep_jstr(ip, "deployment_id") : NULL;
	pid_t pid = 0;
	bool held = vd_dep_lock_held(&ro->st, &pid);
	cJSON *d;

	if (ipid) {
		const cJSON *pending =
			cJSON_GetObjectItemCaseSensitive(ip, "pending");
		bool have = false;
		cJSON_ArrayForEach(d, h->list)
			have = have ||
			       vd_streq(vd_dep_jstr(d, "deployment_id"), ipid);
		if (!have) {
			/* its deployment line did not reach the history */
			cJSON *line = cJSON_Duplicate(ip, 1);
			vd_dep_jset_str(line, "event", "deployment");
			h->last = NULL;
			hist_cb(line, h);
			cJSON_Delete(line);
		}
		if (cJSON_IsObject(pending) &&
		    vd_streq(vd_dep_jstr(pending, "event"), "result")) {
			h->last = NULL;
			hist_cb(pending, h);
		}
	}
	cJSON_ArrayForEach(d, h->list) {
		const char *id = vd_dep_jstr(d, "deployment_id");
		char *reason;
		if (vd_dep_jstr(d, "result"))
			continue;
		if (held && vd_streq(id, ipid)) {
			vd_dep_jset_str(d, "state", "running");
			continue;
		}
		reason = vd_xasprintf(
			"verdict stopped during step %s (killed or crashed); "
			"the next deploy or rollback records it",
			vd_streq(id, ipid)
				? vd_dep_jstr_or(ip, "step", "record")
				: vd_dep_jstr_or(d, "last_step", "record"));
		vd_dep_jset_str(d, "result", "interrupted");
		vd_dep_jset_num(d, "exit_code", VD_DEP_EXIT_INTERRUPTED);
		vd_dep_jset_str(d, "reason", reason);
		vd_dep_jset(d, "recorded", cJSON_CreateFalse());
		free(reason);
	}
}

/* The options history and status share (history also takes --limit).
 * Returns -1 to go on, else the exit code (0 after --help). */
static int
ro_args(int argc, char **argv, const char *cmd, const char *usage,
	const char *about, const char **config, const char **format,
	long *limit)
{
	/* --limit first: status passes the table from its second entry */
	static const struct option longopts[] = {
		{"limit", required_argument, NULL, 'n'},
		{"config", required_argument, NULL, 'c'},
		{"format", required_argument, NULL, 'f'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	int ch;

	*config = NULL;
	*format = "text";
	optind = 1;
	opterr = 0;
	while ((ch = getopt_long(argc, argv, limit ? "c:f:n:h" : "c:f:h",
				 limit ? longopts : longopts + 1, NULL)) !=
	       -1) {
		switch (ch) {
		case 'c':
			*config = optarg;
			break;
		case 'f':
			*format = optarg;
			break;
		case 'n': {
			char *end;
			*limit = strtol(optarg, &end, 10);
			if (*end || *limit < 1) {
				fprintf(stderr,
					"verdict: %s: --limit: "
					"expected a positive number\n",
					cmd);
				return VD_DEP_EXIT_CONFIG;
			}
			break;
		}
		case 'h':
			printf("%s\n%s", usage, about);
			return 0;
		default:
			return VD_DEP_EXIT_CONFIG;
		}
	}
	if (*config == NULL || optind != argc ||
	    (strcmp(*format, "text") != 0 && strcmp(*format, "json") != 0)) {
		fprintf(stderr, "%s", usage);
		return VD_DEP_EXIT_CONFIG;
	}
	return -1;
}

int
vd_cmd_history(int argc, char **argv)
{
	const char *config, *format;
	long limit = 0;
	struct ro ro;
	struct hist h = {NULL, NULL};
	int r, n, i;

	r = ro_args(argc, argv, "history",
		    "usage: verdict history --config DEPLOY.json "
		    "[--format text|json] [--limit N]\n",
		    "Lists the deployments of the environment, oldest first "
		    "(the last N with --limit).\n",
		    &config, &format, &limit);
	if (r >= 0)
		return r;
	r = ro_open(&ro, config, "history");
	if (r) {
		ro_close(&ro);
		return r;
	}
	h.list = cJSON_CreateArray();
	if (ro.exists && vd_dep_history_each(&ro.st, hist_cb, &h) < 0) {
		fprintf(stderr, "verdict: history: cannot read the history\n");
		cJSON_Delete(h.list);
		ro_close(&ro);
		return VD_DEP_EXIT_ERROR;
	}
	if (ro.exists)
		close_unfinished(&ro, &h);
	n = cJSON_GetArraySize(h.list);
	while (limit && n > limit) {
		cJSON_DeleteItemFromArray(h.list, 0);
		n--;
	}
	if (strcmp(format, "json") == 0) {
		char *t = cJSON_Print(h.list);
		printf("%s\n", t);
		free(t);
	} else {
		printf("%-24s %-24s %-8s %-16s %-16s %-16s %4s  %s\n",
		       "DEPLOYMENT", "STARTED", "KIND", "VERSION", "PREVIOUS",
		       "RESULT", "EXIT", "ACTOR");
		for (i = 0; i < n; i++) {
			cJSON *d = cJSON_GetArrayItem(h.list, i);
			const char *res = vd_dep_jstr(d, "result");
			char code[16];
			if (res)
				snprintf(code, sizeof(code), "%.0f",
					 vd_dep_jnum(d, "exit_code", -1));
			else
				snprintf(code, sizeof(code), "-");
			printf("%-24s %-24s %-8s %-16s %-16s %-16s %4s  %s\n",
			       vd_dep_jstr(d, "deployment_id"),
			       vd_dep_jstr_or(d, "started_at", "-"),
			       vd_dep_jstr_or(d, "kind", "-"),
			       vd_dep_jstr_or(d, "version", "-"),
			       vd_dep_jstr_or(d, "previous_version", "-"),
			       res ? res : "(running)", code,
			       vd_dep_jstr_or(d, "actor", "-"));
		}
	}
	cJSON_Delete(h.list);
	ro_close(&ro);
	return fflush(stdout) == 0 ? 0 : VD_DEP_EXIT_ERROR;
}

/*
 * The exit code of status (docs/deploy.md): 0 only when the environment
 * runs its known-good version, verified healthy, with nothing running or
 * interrupted. why gets a few words for people.
 */
static int
status_code(const cJSON *ip, bool held, const cJSON *cur, const cJSON *kg,
	    const char **why)
{
	const char *st =
		cJSON_IsObject(cur) ? vd_dep_jstr(cur, "status") : NULL;
	if (cJSON_IsObject(ip) && !held) {
		*why = "a deployment was interrupted: the next deploy or "
		       "rollback records it";
		return VD_DEP_EXIT_INTERRUPTED;
	}
	if (held) {
		*why = "a deployment is running";
		return VD_DEP_EXIT_LOCKED;
	}
	if (st == NULL) {
		*why = cJSON_IsObject(kg) ? "known-good"
					  : "nothing known-good yet";
		return cJSON_IsObject(kg) ? 0 : VD_DEP_STATUS_NONE;
	}
	if (strcmp(st, "known_good") == 0) {
		*why = "known-good and healthy";
		return 0;
	}
	if (strcmp(st, "unverified") == 0) {
		*why = "running a version the gate could not judge";
		return VD_DEP_EXIT_INCONCLUSIVE;
	}
	if (strcmp(st, "failed") == 0 || strcmp(st, "unhealthy") == 0) {
		*why = "not healthy: a human is needed";
		return VD_DEP_EXIT_ROLLBACK_FAILED;
	}
	*why = "what runs is unknown (a deployment was interrupted)";
	return VD_DEP_EXIT_INTERRUPTED;
}

int
vd_cmd_status(int argc, char **argv)
{
	const char *config, *format;
	struct ro ro;
	cJSON *out, *ip = NULL, *kg = NULL, *cur = NULL, *last = NULL;
	const char *ipstate = NULL, *why = NULL;
	int nout;
	pid_t pid = 0;
	bool held = false;
	int r, code = 0;

	r = ro_args(argc, argv, "status",
		    "usage: verdict status --config DEPLOY.json "
		    "[--format text|json]\n",
		    "Shows the known-good and current versions, the last "
		    "deployment and any\n"
		    "deployment running or interrupted. Exit 0 only when the "
		    "known-good version\n"
		    "runs, verified healthy; 4 failed or unhealthy, 5 "
		    "unverified (inconclusive),\n"
		    "6 a deployment is running, 8 interrupted (or what runs "
		    "is unknown), 9 nothing\n"
		    "known-good yet, 1 the state cannot be read, 2 usage.\n",
		    &config, &format, NULL);
	if (r >= 0)
		return r;
	r = ro_open(&ro, config, "status");
	if (r) {
		ro_close(&ro);
		return r;
	}
	out = cJSON_CreateObject();
	vd_dep_jset_str(out, "environment", ro.env);
	if (ro.exists) {
		held = vd_dep_lock_held(&ro.st, &pid);
		kg = cJSON_GetObjectItemCaseSensitive(ro.st.state,
						      "known_good");
		cur = cJSON_GetObjectItemCaseSensitive(ro.st.state, "current");
		last = cJSON_GetObjectItemCaseSensitive(ro.st.state, "last");
		ip = cJSON_GetObjectItemCaseSensitive(ro.st.state,
						      "in_progress");
	}
	vd_dep_jset(out, "known_good",
		    cJSON_IsObject(kg) ? cJSON_Duplicate(kg, 1)
				       : cJSON_CreateNull());
	vd_dep_jset(out, "current",
		    cJSON_IsObject(cur) ? cJSON_Duplicate(cur, 1)
					: cJSON_CreateNull());
	vd_dep_jset(out, "last",
		    cJSON_IsObject(last) ? cJSON_Duplicate(last, 1)
					 : cJSON_CreateNull());
	vd_dep_jset(out, "locked", cJSON_CreateBool(held));
	if (held)
		vd_dep_jset_num(out, "lock_pid", pid);
	if (cJSON_IsObject(ip)) {
		cJSON *c = cJSON_Duplicate(ip, 1);
		cJSON_DeleteItemFromObjectCaseSensitive(c, "notify_data");
		cJSON_DeleteItemFromObjectCaseSensitive(c,
							"replaced_notify_data");
		cJSON_DeleteItemFromObjectCaseSensitive(c, "pending");
		ipstate = held ? "running" : "interrupted";
		vd_dep_jset_str(c, "state", ipstate);
		vd_dep_jset(out, "in_progress", c);
	} else {
		vd_dep_jset(out, "in_progress", cJSON_CreateNull());
	}
	{
		cJSON *ob = ro.exists ? cJSON_GetObjectItemCaseSensitive(
						ro.st.state, "outbox")
				      : NULL;
		nout = cJSON_IsArray(ob) ? cJSON_GetArraySize(ob) : 0;
		vd_dep_jset_num(out, "outbox", nout);
	}
	code = status_code(ip, held, cur, kg, &why);
	vd_dep_jset_num(out, "exit_code", code);
	vd_dep_jset_str(out, "verdict", why);
	if (strcmp(format, "json") == 0) {
		char *t = cJSON_Print(out);
		printf("%s\n", t);
		free(t);
	} else {
		printf("environment: %s\n", ro.env);
		if (cJSON_IsObject(kg))
			printf("known-good:  %s (deployment %s, since %s)\n",
			       vd_dep_jstr(kg, "version"),
			       vd_dep_jstr_or(kg, "deployment_id", "?"),
			       vd_dep_jstr_or(kg, "since", "?"));
		else
			printf("known-good:  none yet\n");
		if (cJSON_IsObject(cur))
			printf("current:     %s (%s)\n",
			       vd_dep_jstr(cur, "version"),
			       vd_dep_jstr_or(cur, "status", "?"));
		else
			printf("current:     unknown (nothing deployed by "
			       "verdict "
			       "yet)\n");
		if (cJSON_IsObject(last))
			printf("last:        %s %s of %s: %s (exit %.0f)%s%s\n",
			       vd_dep_jstr(last, "deployment_id"),
			       vd_dep_jstr(last, "kind"),
			       vd_dep_jstr(last, "version"),
			       vd_dep_jstr(last, "result"),
			       vd_dep_jnum(last, "exit_code", -1),
			       vd_dep_jstr(last, "reason") ? ": " : "",
			       vd_dep_jstr_or(last, "reason", ""));
		if (cJSON_IsObject(ip) && held)
			printf("running:     %s %s of %s, step %s (pid %ld)\n",
			       vd_dep_jstr(ip, "deployment_id"),
			       vd_dep_jstr(ip, "kind"),
			       vd_dep_jstr(ip, "version"),
			       vd_dep_jstr(ip, "step"), (long)pid);
		else if (cJSON_IsObject(ip))
			printf("INTERRUPTED: %s %s of %s stopped during step "
			       "%s "
			       "(pid %.0f is gone)%s;\n"
			       "             the next deploy or rollback "
			       "records "
			       "it. known-good stays %s.\n",
			       vd_dep_jstr(ip, "deployment_id"),
			       vd_dep_jstr(ip, "kind"),
			       vd_dep_jstr(ip, "version"),
			       vd_dep_jstr(ip, "step"),
			       vd_dep_jnum(ip, "pid", 0),
			       vd_dep_jstr(ip, "result") ? " after its result, "
							   "while notifying"
							 : "",
			       cJSON_IsObject(kg) ? vd_dep_jstr(kg, "version")
						  : "none");
		else if (held)
			printf("locked:      by pid %ld\n", (long)pid);
		if (nout)
			printf("outbox:      %d notification%s waiting (sent "
			       "again by the next deploy or rollback)\n",
			       nout, nout == 1 ? "" : "s");
		printf("verdict:     %s (exit %d)\n", why, code);
	}
	cJSON_Delete(out);
	ro_close(&ro);
	if (fflush(stdout) != 0)
		return VD_DEP_EXIT_ERROR;
	return code;
}
