/*
 * deploy.c - `verdict deploy` and `verdict rollback`, step by step: says
 * what a stop signal means (the composition root watches them on the
 * loop it hands over), checks the
 * version, takes the lock, finishes what earlier runs left (recover.c),
 * opens the record, runs the flow (flow.c), records the result
 * (result.c) and writes the report.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "dep_int.h"

struct promoted_scan {
	const char *version;
	bool found;
};

static void
promoted_cb(const cJSON *line, void *udata)
{
	struct promoted_scan *p = udata;
	const char *res = vd_dep_jstr(line, "result");
	if (vd_streq(vd_dep_jstr(line, "event"), "result") &&
	    (vd_streq(res, "promoted") || vd_streq(res, "rollback_done")) &&
	    vd_streq(vd_dep_jstr(line, "version"), p->version))
		p->found = true;
}

struct run_opts {
	const char *config;
	const char *version; /* deploy: required; rollback: --to */
	const char *format;
	const char *report;
	bool quiet;
	bool rollback;
};

/* One command's run: what its steps share. */
struct run {
	const struct run_opts *o;
	struct vd_dep_ctx *ctx;
	const char *cmd;     /* "deploy" or "rollback" */
	const char *version; /* the version deployed (rollback: resolved) */
	char id[64];	     /* the deployment id */
	char ts[40];	     /* when it started, ISO 8601 */
	double t0;	     /* the same, Unix seconds */
};

/* A step either goes on (STEP_OK), fails with ctx->err said on stderr
 * (STEP_FAIL), or ends the command with an exit code it has explained
 * (a value > 0). */
enum { STEP_OK = 0, STEP_FAIL = -1 };

static void
report_init(struct vd_dep_ctx *ctx)
{
	ctx->report = cJSON_CreateObject();
	cJSON_AddArrayToObject(ctx->report, "steps");
	cJSON_AddArrayToObject(ctx->report, "hooks");
	cJSON_AddObjectToObject(ctx->report, "gates");
	cJSON_AddArrayToObject(ctx->report, "notifications");
	cJSON_AddArrayToObject(ctx->report, "recovered");
}

static void
report_finish(struct vd_dep_ctx *ctx, const cJSON *dep_copy, const char *result,
	      int code, const char *reason, double t0)
{
	static const char *const keys[] = {
		"deployment_id",    "kind",	  "environment", "version",
		"previous_version", "started_at", "actor",	 NULL};
	cJSON *rep = ctx->report, *kg, *cur;
	char ts[40];
	size_t i;

	for (i = 0; keys[i]; i++)
		vd_dep_jset_str(rep, keys[i], vd_dep_jstr(dep_copy, keys[i]));
	vd_dep_jset_str(rep, "result", result);
	vd_dep_jset_num(rep, "exit_code", code);
	vd_dep_jset_str(rep, "reason", reason);
	vd_dep_utc(vd_now_unix(), ts, sizeof(ts));
	vd_dep_jset_str(rep, "finished_at", ts);
	vd_dep_jset_num(rep, "duration_seconds",
			(double)(long long)((vd_now_unix() - t0) * 1000.0) /
				1000.0);
	kg = vd_dep_state_obj(ctx->st.state, "known_good");
	vd_dep_jset_str(rep, "known_good_version", vd_dep_jstr(kg, "version"));
	cur = vd_dep_state_obj(ctx->st.state, "current");
	vd_dep_jset(rep, "current",
		    cur ? cJSON_Duplicate(cur, 1) : cJSON_CreateNull());
	if (cJSON_GetObjectItemCaseSensitive(dep_copy, "ci"))
		vd_dep_jset(rep, "ci",
			    cJSON_Duplicate(cJSON_GetObjectItemCaseSensitive(
						    dep_copy, "ci"),
					    1));
}

/* The version from the command line, if any, must be a safe name. */
static int
check_version(const struct run *r)
{
	char *m, *e;
	if (r->version == NULL || vd_dep_name_ok(r->version))
		return STEP_OK;
	m = vd_mask(r->version);
	e = vd_dep_escape(m, 200, true);
	/* escaped: a newline in it must not start a line of its own (a
	 * forged "::error::" in a CI log) */
	fprintf(stderr,
		"verdict: %s: invalid version \"%s\" (1-128 of A-Z a-z "
		"0-9 . _ + -, not starting with '-' or '.', no '..')\n",
		r->cmd, e);
	free(e);
	free(m);
	return VD_EXIT_USAGE;
}

/* Opens the state directory and takes the environment's lock. */
static int
open_and_lock(struct run *r)
{
	struct vd_dep_ctx *ctx = r->ctx;
	char owner_txt[1024];
	cJSON *owner;
	int rc;

	if (vd_dep_state_open(&ctx->st, ctx->cfg->state_dir,
			      ctx->cfg->environment, ctx->err,
			      sizeof(ctx->err)) < 0 ||
	    vd_dep_state_writable(&ctx->st, ctx->err, sizeof(ctx->err)) < 0)
		return STEP_FAIL;
	vd_dep_make_id(r->id, sizeof(r->id));
	vd_dep_utc(r->t0, r->ts, sizeof(r->ts));
	owner = cJSON_CreateObject();
	vd_dep_jset_str(owner, "deployment_id", r->id);
	vd_dep_jset_str(owner, "version",
			r->version ? r->version : "(known-good)");
	vd_dep_jset_str(owner, "command", r->cmd);
	vd_dep_jset_num(owner, "pid", getpid());
	vd_dep_jset_str(owner, "host", vd_dep_hostname());
	vd_dep_jset_str(owner, "started_at", r->ts);
	vd_dep_jset_str(owner, "actor", vd_dep_actor());
	rc = vd_dep_lock(&ctx->st, owner, owner_txt, sizeof(owner_txt),
			 ctx->err, sizeof(ctx->err));
	cJSON_Delete(owner);
	if (rc == 1) {
		char *m = vd_mask(owner_txt);
		fprintf(stderr, "verdict: %s: environment %s is locked by %s\n",
			r->cmd, ctx->cfg->environment, m);
		free(m);
		return VD_EXIT_LOCKED;
	}
	return rc < 0 ? STEP_FAIL : STEP_OK;
}

/* Under the lock: cuts a torn history line, loads the state, finishes
 * what an earlier run left (recover.c) and sends its outbox. */
static int
recover_earlier(struct run *r)
{
	struct vd_dep_ctx *ctx = r->ctx;
	cJSON *recovered;
	long torn;

	/* a line torn by a crash is cut before anything is read or
	 * appended */
	torn = vd_dep_history_repair(&ctx->st, ctx->err, sizeof(ctx->err));
	if (torn < 0)
		return STEP_FAIL;
	if (torn > 0)
		vd_dep_say(&ctx->rt,
			   "history: cut a torn last line (%ld bytes a crash "
			   "left unfinished)",
			   torn);
	if (vd_dep_state_load(&ctx->st, ctx->err, sizeof(ctx->err)) < 0)
		return STEP_FAIL;
	recovered = cJSON_GetObjectItemCaseSensitive(ctx->report, "recovered");
	if (vd_dep_recover(ctx, recovered) < 0 ||
	    vd_dep_close_orphans(ctx, recovered) < 0)
		return STEP_FAIL;
	/* what earlier runs could not deliver goes out first */
	(void)vd_notify_outbox_flush(ctx);
	cJSON_Delete(ctx->notify_log);
	ctx->notify_log = cJSON_CreateArray();
	return STEP_OK;
}

/* rollback: the target is --to or the known-good version, and must have
 * passed the gate once. */
static int
rollback_target(struct run *r)
{
	struct vd_dep_ctx *ctx = r->ctx;
	cJSON *kg = vd_dep_state_obj(ctx->st.state, "known_good");
	struct promoted_scan ps;

	if (r->version == NULL)
		r->version = vd_dep_jstr(kg, "version");
	if (r->version == NULL) {
		fprintf(stderr,
			"verdict: rollback: environment %s has no known-good "
			"version yet; give one with --to\n",
			ctx->cfg->environment);
		return VD_EXIT_USAGE;
	}
	if (kg && vd_streq(vd_dep_jstr(kg, "version"), r->version))
		return STEP_OK;
	ps.version = r->version;
	ps.found = false;
	(void)vd_dep_history_each(&ctx->st, promoted_cb, &ps);
	if (ps.found)
		return STEP_OK;
	fprintf(stderr,
		"verdict: rollback: %s was never promoted in %s; only "
		"versions that passed the gate can be rolled back to\n",
		r->version, ctx->cfg->environment);
	return VD_EXIT_USAGE;
}

/* The deployment's record, committed before anything happens. */
static int
open_record(struct run *r)
{
	struct vd_dep_ctx *ctx = r->ctx;
	cJSON *kg = vd_dep_state_obj(ctx->st.state, "known_good");
	cJSON *cur = vd_dep_state_obj(ctx->st.state, "current");
	cJSON *dep = cJSON_CreateObject(), *line, *nd;

	vd_dep_jset_str(dep, "deployment_id", r->id);
	vd_dep_jset_str(dep, "kind", r->cmd);
	vd_dep_jset_str(dep, "environment", ctx->cfg->environment);
	vd_dep_jset_str(dep, "version", r->version);
	if (r->o->rollback)
		vd_dep_jset_str(dep, "previous_version",
				vd_dep_jstr(cur ? cur : kg, "version"));
	else
		vd_dep_jset_str(dep, "previous_version",
				vd_dep_jstr(kg, "version"));
	vd_dep_jset_str(dep, "started_at", r->ts);
	vd_dep_jset_str(dep, "actor", vd_dep_actor());
	vd_dep_jset(dep, "ci", vd_dep_ci_info());
	vd_dep_jset_num(dep, "pid", getpid());
	vd_dep_jset_str(dep, "host", vd_dep_hostname());
	vd_dep_jset_str(dep, "step", "record");
	nd = kg ? cJSON_GetObjectItemCaseSensitive(kg, "notify_data") : NULL;
	if (cJSON_IsObject(nd))
		vd_dep_jset(dep, "replaced_notify_data",
			    cJSON_Duplicate(nd, 1));
	vd_dep_jset(ctx->st.state, "in_progress", dep);
	ctx->dep = dep;
	line = cJSON_Duplicate(dep, 1);
	cJSON_DeleteItemFromObjectCaseSensitive(line, "deployment_id");
	cJSON_DeleteItemFromObjectCaseSensitive(line, "step");
	cJSON_DeleteItemFromObjectCaseSensitive(line, "replaced_notify_data");
	if (vd_dep_commit(ctx, "deployment", line) < 0) {
		/* nothing was done: take the record back (should this fail
		 * too, the next command replays it) */
		char keep[sizeof(ctx->err)];
		memcpy(keep, ctx->err, sizeof(keep));
		vd_dep_jset(ctx->st.state, "in_progress", cJSON_CreateNull());
		ctx->dep = NULL;
		(void)vd_dep_state_save(&ctx->st, ctx->err, sizeof(ctx->err));
		memcpy(ctx->err, keep, sizeof(keep));
		return STEP_FAIL;
	}
	vd_dep_say(&ctx->rt, "%s %s of %s to %s (known-good %s)", r->cmd, r->id,
		   r->version, ctx->cfg->environment,
		   vd_dep_jstr_or(dep, "previous_version", "none"));
	return STEP_OK;
}

/* A flow's result as recorded: a stop signal that ended the flow makes
 * it "interrupted", and the reason names the signal. */
static const char *
final_result(struct vd_dep_ctx *ctx, const char *result, char **reason)
{
	int sig = ctx->rt.stop_signal;
	char *w;
	if (sig && strcmp(result, "interrupted") != 0 &&
	    strcmp(result, "promoted") != 0 &&
	    strcmp(result, "rolled_back") != 0 &&
	    strcmp(result, "rollback_done") != 0)
		result = "interrupted"; /* the flow ended because of it */
	if (strcmp(result, "interrupted") == 0 && sig) {
		w = vd_xasprintf("%s (signal %d)",
				 *reason ? *reason : "stopped", sig);
		free(*reason);
		*reason = w;
	}
	return result;
}

/* Runs the flow, records its result and writes the report. Returns the
 * exit code or STEP_FAIL. */
static int
run_flow(struct run *r)
{
	struct vd_dep_ctx *ctx = r->ctx;
	const char *result;
	char *reason = NULL;
	cJSON *dep_copy;
	int code;

	/* people hear that it starts */
	(void)vd_notify_event_send(ctx, "started", NULL, -1);
	result = r->o->rollback ? vd_dep_rollback_flow(ctx, &reason)
				: vd_dep_deploy_flow(ctx, &reason);
	if (result == NULL) {
		free(reason);
		return STEP_FAIL;
	}
	result = final_result(ctx, result, &reason);
	dep_copy = cJSON_Duplicate(ctx->dep, 1);
	code = vd_dep_finish(ctx, result, reason);
	if (code >= 0) {
		report_finish(ctx, dep_copy, result, code, reason, r->t0);
		if (vd_dep_report_emit(ctx->report, r->o->format,
				       r->o->report) < 0 &&
		    code == VD_EXIT_OK)
			code = VD_EXIT_FAIL;
	}
	free(reason);
	cJSON_Delete(dep_copy);
	return code < 0 ? STEP_FAIL : code;
}

/* Says why the command failed; the exit code is 1. */
static int
say_failure(const struct run *r)
{
	char *e = vd_dep_escape(r->ctx->err[0] ? r->ctx->err : "failed", 0,
				false);
	fprintf(stderr, "verdict: %s: %s%s\n", r->cmd, e,
		r->ctx->dep ? "; the deployment stays in progress: the next "
			      "deploy or rollback records it interrupted"
			    : "");
	free(e);
	return VD_EXIT_FAIL;
}

/* The command, step by step, on ctx (its runtime set up by the caller). */
static int
run_deployment(struct vd_dep_ctx *ctx, const struct run_opts *o)
{
	struct run r;
	int code;

	memset(&r, 0, sizeof(r));
	r.o = o;
	r.ctx = ctx;
	r.cmd = o->rollback ? "rollback" : "deploy";
	r.version = o->version;
	r.t0 = vd_now_unix();
	if ((code = check_version(&r)) != STEP_OK)
		return code;
	if (vd_dep_config_load(o->config, &ctx->cfg, ctx->err,
			       sizeof(ctx->err)) < 0) {
		char *e = vd_dep_escape(ctx->err, 0, false);
		fprintf(stderr, "verdict: %s: %s\n", r.cmd, e);
		free(e);
		return VD_EXIT_USAGE;
	}
	ctx->rt.quiet = o->quiet;
	report_init(ctx);
	ctx->notify_log = cJSON_CreateArray();
	if ((code = open_and_lock(&r)) == STEP_OK &&
	    (code = recover_earlier(&r)) == STEP_OK &&
	    (!o->rollback || (code = rollback_target(&r)) == STEP_OK) &&
	    (code = open_record(&r)) == STEP_OK)
		code = run_flow(&r);
	return code == STEP_FAIL ? say_failure(&r) : code;
}

/* --- the command's loop and stop signals -------------------------------- */

/* The composition root's signal watchers call this while a deployment
 * runs: the flow stops at its next step, the result is recorded. */
static void
on_signal(struct vd_app *app, int signum)
{
	struct vd_dep_rt *rt = app->ctx;
	if (rt->stop_signal == 0)
		rt->stop_signal = signum;
	ev_break(app->loop, EVBREAK_ALL);
}

int
vd_dep_run_deploy(struct vd_app *app, const char *config, const char *version,
		  const char *format, const char *report, bool quiet,
		  bool rollback)
{
	struct vd_dep_ctx ctx;
	struct run_opts o;
	int code;

	o.config = config;
	o.version = version;
	o.format = format;
	o.report = report;
	o.quiet = quiet;
	o.rollback = rollback;
	memset(&ctx, 0, sizeof(ctx));
	ctx.st.dir_fd = ctx.st.lock_fd = ctx.st.hist_fd = -1;
	/* a file size limit (ulimit -f) gives EFBIG, a message and exit 1,
	 * not a silent death by SIGXFSZ with half a line written */
	signal(SIGXFSZ, SIG_IGN);
	vd_dep_rt_init(&ctx.rt, app->loop);
	app->ctx = &ctx.rt;
	app->on_signal = on_signal;
	code = run_deployment(&ctx, &o);
	app->on_signal = NULL;
	app->ctx = NULL;
	cJSON_Delete(ctx.report);
	cJSON_Delete(ctx.notify_log);
	vd_dep_state_close(&ctx.st);
	vd_dep_rt_cleanup(&ctx.rt);
	vd_dep_config_free(ctx.cfg);
	return code;
}
