/*
 * flow.c - the flows of one deployment, step by step: pre-flight, deploy
 * hook, health then smoke, promote or roll back (and verify); and
 * `verdict rollback`. Each step is committed (records.c) before its side
 * effect. Returns a result name; result.c records it. Knows nothing of
 * notifiers or recovery.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dep_int.h"

static int
step(struct vd_dep_ctx *ctx, const char *name)
{
	cJSON *x = cJSON_CreateObject();
	vd_dep_jset_str(x, "step", name);
	vd_dep_say(&ctx->rt, "step %s", name);
	return vd_dep_step(ctx, name, x);
}

/* --- hooks with records ------------------------------------------------ */

struct hook_rec {
	struct vd_dep_ctx *ctx;
	const char *name;
};

static void
hook_started(pid_t pid, void *udata)
{
	struct hook_rec *hr = udata;
	cJSON *h = cJSON_CreateObject();
	vd_dep_jset_str(h, "name", hr->name);
	vd_dep_jset_num(h, "pid", pid);
	vd_dep_jset_num(h, "start_time", (double)vd_dep_proc_start(pid));
	vd_dep_jset(hr->ctx->dep, "hook", h);
	/* best effort: the hook already runs; a failure shows at the next
	 * record */
	(void)vd_dep_state_save(&hr->ctx->st, hr->ctx->err,
				sizeof(hr->ctx->err));
}

/* Runs a hook with its records. Returns true when it exited 0. */
static bool
run_hook(struct vd_dep_ctx *ctx, const struct vd_dep_hook_conf *h,
	 const char *label, const char *version, const char *previous,
	 char **why)
{
	struct vd_dep_hook_vars vars;
	struct vd_dep_hook_result res;
	struct hook_rec hr = {ctx, label};
	cJSON *line = cJSON_CreateObject(), *argv = cJSON_CreateArray();
	cJSON *hooks = cJSON_GetObjectItemCaseSensitive(ctx->report, "hooks");
	bool ok;
	size_t i;

	vars.version = version;
	vars.previous_version = previous ? previous : "";
	vars.deployment_id = vd_dep_jstr(ctx->dep, "deployment_id");
	vars.environment = ctx->cfg->environment;
	for (i = 0; i < h->argc; i++) {
		char *a = vd_dep_subst(h->argv[i], &vars), *m = vd_mask(a);
		cJSON_AddItemToArray(argv, cJSON_CreateString(m));
		free(a);
		free(m);
	}
	vd_dep_hook_run(&ctx->rt, h, &vars, hook_started, &hr, &res);
	ok = res.ran && !res.timed_out && !res.interrupted && res.signal == 0 &&
	     res.exit_code == 0;
	*why = vd_dep_hook_why(&res, h);
	vd_dep_say(&ctx->rt, "  %s hook: %s", label, *why);
	vd_dep_jset_str(line, "hook", label);
	vd_dep_jset(line, "argv", argv);
	vd_dep_jset_num(line, "pid", res.pid);
	if (res.exit_code >= 0)
		vd_dep_jset_num(line, "exit_code", res.exit_code);
	else
		vd_dep_jset(line, "exit_code", cJSON_CreateNull());
	if (res.signal)
		vd_dep_jset_num(line, "signal", res.signal);
	vd_dep_jset(line, "timed_out", cJSON_CreateBool(res.timed_out));
	vd_dep_jset_num(line, "duration_seconds", res.duration);
	vd_dep_jset_str(line, "result", ok ? "ok" : *why);
	if (res.error)
		vd_dep_jset_str(line, "error", res.error);
	vd_dep_jset_str(line, "output", res.output);
	vd_dep_jset(line, "output_truncated",
		    cJSON_CreateBool(res.output_truncated));
	cJSON_AddItemToArray(hooks, cJSON_Duplicate(line, 1));
	cJSON_DeleteItemFromObjectCaseSensitive(ctx->dep, "hook");
	(void)vd_dep_record(ctx, "hook", line);
	vd_dep_hook_result_clear(&res);
	if (ok) {
		free(*why);
		*why = NULL;
	} else {
		char *w = vd_xasprintf("%s hook: %s", label, *why);
		free(*why);
		*why = w;
	}
	return ok;
}

/*
 * Runs a gate suite as a step and records it. The suite is loaded for
 * this phase: ${VERSION} is what must be served now (the new version
 * while gating, the known-good one while verifying a rollback), whatever
 * the environment says.
 */
static enum vd_gate_verdict
run_gate(struct vd_dep_ctx *ctx, const struct vd_dep_suite_src *src,
	 const char *label, const char *version, const char *previous,
	 char **why)
{
	struct vd_gate_suite_result res;
	struct vd_dep_hook_vars vars;
	struct vd_suite *suite = NULL;
	enum vd_gate_verdict v;
	cJSON *line = cJSON_CreateObject(), *checks = cJSON_CreateArray();
	cJSON *gates = cJSON_GetObjectItemCaseSensitive(ctx->report, "gates");
	char msg[1200];
	size_t i;

	vars.version = version;
	vars.previous_version = previous ? previous : "";
	vars.deployment_id = vd_dep_jstr(ctx->dep, "deployment_id");
	vars.environment = ctx->cfg->environment;
	memset(&res, 0, sizeof(res));
	if (vd_dep_suite_load(src, &vars, &suite, msg, sizeof(msg)) < 0) {
		/* checked when the config loaded: only a value of this phase
		 * can make it fail now; the gate cannot judge */
		v = VD_GATE_INCONCLUSIVE;
		*why = vd_mask(msg);
	} else {
		v = vd_gate_run_suite(&ctx->rt, suite, label, &res);
		*why = vd_gate_why(&res);
	}
	if (*why == NULL && v != VD_GATE_PASS)
		*why = vd_xstrdup(v == VD_GATE_INTERRUPTED
					  ? "stopped: verdict was asked to stop"
					  : "failed");
	vd_dep_say(&ctx->rt, "  %s: %s%s%s", label, vd_gate_verdict_name(v),
		   *why ? ": " : "", *why ? *why : "");
	vd_dep_jset_str(line, "gate", label);
	vd_dep_jset_str(line, "suite", suite ? suite->name : src->name);
	vd_dep_jset_str(line, "expected_version", version);
	vd_dep_jset_str(line, "verdict", vd_gate_verdict_name(v));
	if (*why)
		vd_dep_jset_str(line, "reason", *why);
	for (i = 0; res.ran && i < res.sum.n; i++) {
		cJSON *c = cJSON_CreateObject();
		vd_dep_jset_str(c, "name", res.sum.checks[i]->name);
		vd_dep_jset_str(c, "status",
				vd_status_name(res.sum.results[i].status));
		vd_dep_jset_str(c, "reason", res.sum.results[i].reason);
		cJSON_AddItemToArray(checks, c);
	}
	vd_dep_jset(line, "checks", checks);
	(void)vd_dep_record(ctx, "gate", line);
	if (res.ran) {
		cJSON *g = vd_gate_json(&res);
		vd_dep_jset_str(g, "expected_version", version);
		vd_dep_jset(gates, label, g);
	}
	vd_gate_suite_result_clear(&res);
	vd_suite_free(suite);
	return v;
}

/* --- the flows --------------------------------------------------------- */

/*
 * Rolls back to the known-good version after a failed deployment and
 * verifies it with the health suite. Returns the result name.
 */
static const char *
roll_back(struct vd_dep_ctx *ctx, const char *failed_version, char **reason)
{
	const char *prev = vd_dep_jstr(ctx->dep, "previous_version");
	const struct vd_dep_hook_conf *h =
		ctx->cfg->rollback ? ctx->cfg->rollback : ctx->cfg->deploy;
	enum vd_gate_verdict v;
	char *why = NULL, *r;

	if (prev == NULL) {
		r = vd_xasprintf("%s; no known-good version to roll back to",
				 *reason);
		free(*reason);
		*reason = r;
		vd_dep_set_current(ctx, failed_version, "failed");
		return "rollback_failed";
	}
	if (ctx->rt.stop_signal) {
		vd_dep_set_current(ctx, failed_version, "unknown");
		return "interrupted";
	}
	if (step(ctx, "rollback") < 0)
		return NULL;
	if (!run_hook(ctx, h, "rollback", prev, failed_version, &why)) {
		r = vd_xasprintf("%s; rollback to %s failed: %s", *reason, prev,
				 why);
		free(why);
		free(*reason);
		*reason = r;
		vd_dep_set_current(ctx, failed_version, "unknown");
		return ctx->rt.stop_signal ? "interrupted" : "rollback_failed";
	}
	if (step(ctx, "verify") < 0)
		return NULL;
	v = run_gate(ctx, ctx->cfg->health_src, "verify", prev, failed_version,
		     &why);
	if (v == VD_GATE_PASS) {
		vd_dep_set_current(ctx, prev, "known_good");
		free(why);
		return "rolled_back";
	}
	r = vd_xasprintf("%s; rolled back to %s but it is not healthy: %s",
			 *reason, prev, why);
	free(why);
	free(*reason);
	*reason = r;
	vd_dep_set_current(ctx, prev, "unhealthy");
	return v == VD_GATE_INTERRUPTED ? "interrupted" : "rollback_failed";
}

/* A step of the deploy flow returns GO_ON, a result name, or NULL when a
 * record could not be written. */
static const char GO_ON[] = "go on";

/* The registry pre-flight, when configured: refused before anything
 * changed when an image is missing or the registry cannot tell. */
static const char *
preflight(struct vd_dep_ctx *ctx, char **reason)
{
	cJSON *details, *line;
	char *why = NULL;
	int r;

	if (ctx->cfg->registry == NULL)
		return GO_ON;
	if (step(ctx, "preflight") < 0)
		return NULL;
	details = cJSON_CreateArray();
	r = vd_dep_registry_check(&ctx->rt, ctx->cfg->registry,
				  vd_dep_jstr(ctx->dep, "version"), details,
				  &why);
	vd_dep_jset(ctx->report, "preflight", cJSON_Duplicate(details, 1));
	line = cJSON_CreateObject();
	vd_dep_jset(line, "images", details);
	vd_dep_jset_str(line, "verdict", r == 0 ? "ok" : "refused");
	(void)vd_dep_record(ctx, "preflight", line);
	if (r == VD_ERR_SYSTEM) {
		free(why);
		*reason = vd_xstrdup("stopped during the pre-flight");
		return "interrupted";
	}
	if (r != 0) {
		*reason = vd_mask(why ? why : "pre-flight failed");
		free(why);
		return "refused";
	}
	return GO_ON;
}

/* A hook of the new version (deploy, promote): its failure rolls back. */
static const char *
new_version_hook(struct vd_dep_ctx *ctx, const struct vd_dep_hook_conf *h,
		 const char *label, char **reason)
{
	const char *ver = vd_dep_jstr(ctx->dep, "version");
	const char *prev = vd_dep_jstr(ctx->dep, "previous_version");

	if (run_hook(ctx, h, label, ver, prev, reason))
		return GO_ON;
	if (ctx->rt.stop_signal) {
		vd_dep_set_current(ctx, ver, "unknown");
		return "interrupted";
	}
	return roll_back(ctx, ver, reason);
}

/* Health, then smoke (if any) after health passed: a failure rolls
 * back; an inconclusive gate rolls back only when configured to. */
static const char *
gates(struct vd_dep_ctx *ctx, char **reason)
{
	const char *ver = vd_dep_jstr(ctx->dep, "version");
	const char *prev = vd_dep_jstr(ctx->dep, "previous_version");
	const char *gate = "health";
	enum vd_gate_verdict v;
	char *why = NULL;

	if (step(ctx, "health") < 0)
		return NULL;
	v = run_gate(ctx, ctx->cfg->health_src, "health", ver, prev, &why);
	if (v == VD_GATE_PASS && ctx->cfg->smoke) {
		free(why);
		why = NULL;
		if (step(ctx, "smoke") < 0)
			return NULL;
		gate = "smoke";
		v = run_gate(ctx, ctx->cfg->smoke_src, "smoke", ver, prev,
			     &why);
	}
	if (v == VD_GATE_PASS) {
		free(why);
		return GO_ON;
	}
	if (v == VD_GATE_INTERRUPTED) {
		*reason = why;
		vd_dep_set_current(ctx, ver, "unknown");
		return "interrupted";
	}
	if (v == VD_GATE_INCONCLUSIVE && !ctx->cfg->rollback_on_inconclusive) {
		*reason = vd_xasprintf("the gate could not judge: %s", why);
		free(why);
		return "inconclusive";
	}
	*reason = vd_xasprintf(
		"%s %s: %s", gate,
		v == VD_GATE_INCONCLUSIVE ? "inconclusive" : "failed", why);
	free(why);
	return roll_back(ctx, ver, reason);
}

const char *
vd_dep_deploy_flow(struct vd_dep_ctx *ctx, char **reason)
{
	const char *ver = vd_dep_jstr(ctx->dep, "version");
	const char *r;

	*reason = NULL;
	if ((r = preflight(ctx, reason)) != GO_ON)
		return r;
	if (ctx->rt.stop_signal) {
		*reason = vd_xstrdup("stopped before the deploy hook");
		return "interrupted";
	}
	if (step(ctx, "deploy") < 0)
		return NULL;
	vd_dep_set_current(ctx, ver, "deploying");
	if ((r = new_version_hook(ctx, ctx->cfg->deploy, "deploy", reason)) !=
	    GO_ON)
		return r;
	vd_dep_set_current(ctx, ver, "unverified");
	if ((r = gates(ctx, reason)) != GO_ON)
		return r;
	if (ctx->rt.stop_signal) {
		*reason = vd_xstrdup("stopped before promoting");
		vd_dep_set_current(ctx, ver, "unknown");
		return "interrupted";
	}
	if (step(ctx, "promote") < 0)
		return NULL;
	if (ctx->cfg->promote &&
	    (r = new_version_hook(ctx, ctx->cfg->promote, "promote", reason)) !=
		    GO_ON)
		return r;
	vd_dep_set_known_good(ctx, ver);
	vd_dep_set_current(ctx, ver, "known_good");
	return "promoted";
}

const char *
vd_dep_rollback_flow(struct vd_dep_ctx *ctx, char **reason)
{
	const char *ver = vd_dep_jstr(ctx->dep, "version");
	const char *prev = vd_dep_jstr(ctx->dep, "previous_version");
	const struct vd_dep_hook_conf *h =
		ctx->cfg->rollback ? ctx->cfg->rollback : ctx->cfg->deploy;
	enum vd_gate_verdict v;
	char *why = NULL;

	*reason = NULL;
	if (ctx->rt.stop_signal) {
		*reason = vd_xstrdup("stopped before the rollback hook");
		return "interrupted";
	}
	if (step(ctx, "rollback") < 0)
		return NULL;
	vd_dep_set_current(ctx, ver, "deploying");
	if (!run_hook(ctx, h, "rollback", ver, prev, &why)) {
		*reason = why;
		vd_dep_set_current(ctx, ver, "unknown");
		return ctx->rt.stop_signal ? "interrupted" : "rollback_failed";
	}
	if (step(ctx, "verify") < 0)
		return NULL;
	v = run_gate(ctx, ctx->cfg->health_src, "verify", ver, prev, &why);
	if (v != VD_GATE_PASS) {
		*reason = vd_xasprintf(
			"%s is not healthy after the rollback: %s", ver, why);
		free(why);
		vd_dep_set_current(ctx, ver, "unhealthy");
		return v == VD_GATE_INTERRUPTED ? "interrupted"
						: "rollback_failed";
	}
	free(why);
	vd_dep_set_known_good(ctx, ver);
	vd_dep_set_current(ctx, ver, "known_good");
	return "rollback_done";
}
