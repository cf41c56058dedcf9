/*
 * deploy.c - one deployment, step by step: lock, record, pre-flight,
 * deploy hook, health then smoke, promote or roll back (and verify),
 * record the result, notify. Each step is committed (the state, then its
 * history line) before its side effect, so that after a crash the next
 * command finds the interrupted deployment, never loses the known-good
 * version, never promotes by itself, and finds state and history telling
 * one story. Also `verdict rollback` and the recovery of interrupted
 * deployments.
 */
#include <errno.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#include "dep_int.h"

/* --- records ----------------------------------------------------------- */

int
vd_dep_record(struct vd_dep_ctx *ctx, const char *event, cJSON *line)
{
	cJSON *out = cJSON_CreateObject(), *it;
	int r;
	/* deployment id and event first, then the rest */
	vd_dep_jset_str(out, "deployment_id",
			vd_dep_jstr(ctx->dep, "deployment_id"));
	vd_dep_jset_str(out, "event", event);
	while (line && line->child) {
		it = cJSON_DetachItemViaPointer(line, line->child);
		vd_dep_jset(out, it->string, it);
	}
	cJSON_Delete(line);
	r = vd_dep_history_append(&ctx->st, out, ctx->err, sizeof(ctx->err));
	cJSON_Delete(out);
	return r;
}

/*
 * Commits a record that tells the story (the deployment, a step, the
 * result). The state is written first, holding the line as
 * in_progress.pending, then the line goes to the history. A kill between
 * the two leaves the state one line ahead: the next lock holder appends
 * the pending line the history lacks (replay_pending), so that state and
 * history never contradict each other. Takes line.
 */
static int
commit(struct vd_dep_ctx *ctx, const char *event, cJSON *line)
{
	cJSON *out = cJSON_CreateObject(), *it;
	double seq = vd_dep_jnum(ctx->dep, "seq", 0) + 1;
	char ts[40];
	int r;

	vd_dep_utc(vd_now_unix(), ts, sizeof(ts));
	vd_dep_jset_str(out, "ts", ts);
	vd_dep_jset_str(out, "deployment_id",
			vd_dep_jstr(ctx->dep, "deployment_id"));
	vd_dep_jset_str(out, "event", event);
	vd_dep_jset_num(out, "seq", seq);
	while (line && line->child) {
		it = cJSON_DetachItemViaPointer(line, line->child);
		vd_dep_jset(out, it->string, it);
	}
	cJSON_Delete(line);
	vd_dep_jset_num(ctx->dep, "seq", seq);
	vd_dep_jset(ctx->dep, "pending", cJSON_Duplicate(out, 1));
	r = vd_dep_state_save(&ctx->st, ctx->err, sizeof(ctx->err));
	if (r == 0)
		r = vd_dep_history_append(&ctx->st, out, ctx->err,
					  sizeof(ctx->err));
	cJSON_Delete(out);
	return r;
}

int
vd_dep_step(struct vd_dep_ctx *ctx, const char *step, cJSON *extra)
{
	char ts[40];
	cJSON *steps = cJSON_GetObjectItemCaseSensitive(ctx->report, "steps");
	cJSON *s = cJSON_CreateObject();
	vd_dep_utc(vd_now_unix(), ts, sizeof(ts));
	vd_dep_jset_str(s, "step", step);
	vd_dep_jset_str(s, "at", ts);
	cJSON_AddItemToArray(steps, s);
	vd_dep_jset_str(ctx->dep, "step", step);
	return commit(ctx, "step", extra ? extra : cJSON_CreateObject());
}

static int
step(struct vd_dep_ctx *ctx, const char *name)
{
	cJSON *x = cJSON_CreateObject();
	vd_dep_jset_str(x, "step", name);
	vd_dep_say(&ctx->rt, "step %s", name);
	return vd_dep_step(ctx, name, x);
}

static void
make_id(char *buf, size_t len)
{
	unsigned char rnd[3] = {0, 0, 0};
	char ts[40];
	time_t now = time(NULL);
	struct tm tm;
	if (getrandom(rnd, sizeof(rnd), 0) != (ssize_t)sizeof(rnd)) {
		pid_t p = getpid();
		rnd[0] = (unsigned char)p;
		rnd[1] = (unsigned char)(p >> 8);
		rnd[2] = (unsigned char)now;
	}
	gmtime_r(&now, &tm);
	strftime(ts, sizeof(ts), "%Y%m%dT%H%M%SZ", &tm);
	snprintf(buf, len, "%s-%02x%02x%02x", ts, rnd[0], rnd[1], rnd[2]);
}

/* Who deploys: GITHUB_ACTOR, USER or LOGNAME, else the login name of
 * the uid, else "uid N" (a container or a systemd unit sets none). */
static const char *
actor(void)
{
	static const char *const vars[] = {"GITHUB_ACTOR", "USER", "LOGNAME",
					   NULL};
	static char who[64];
	const struct passwd *pw;
	size_t i;
	for (i = 0; vars[i]; i++)
		if (getenv(vars[i]) && *getenv(vars[i]))
			return getenv(vars[i]);
	pw = getpwuid(getuid());
	if (pw && pw->pw_name && *pw->pw_name)
		snprintf(who, sizeof(who), "%s", pw->pw_name);
	else
		snprintf(who, sizeof(who), "uid %lu", (unsigned long)getuid());
	return who;
}

static cJSON *
ci_info(void)
{
	static const char *const vars[] = {"GITHUB_RUN_ID",
					   "GITHUB_RUN_ATTEMPT",
					   "GITHUB_WORKFLOW",
					   "GITHUB_SHA",
					   "GITHUB_REF",
					   "GITHUB_REPOSITORY",
					   "GITHUB_EVENT_NAME",
					   "GITHUB_JOB",
					   "CI",
					   NULL};
	cJSON *o = cJSON_CreateObject();
	size_t i;
	for (i = 0; vars[i]; i++) {
		const char *v = getenv(vars[i]);
		if (v && *v) {
			char *m = vd_mask(v);
			char key[64];
			size_t k;
			for (k = 0; vars[i][k] && k < sizeof(key) - 1; k++)
				key[k] =
					(char)(vars[i][k] >= 'A' &&
							       vars[i][k] <= 'Z'
						       ? vars[i][k] - 'A' + 'a'
						       : vars[i][k]);
			key[k] = '\0';
			vd_dep_jset_str(o, key, m);
			free(m);
		}
	}
	return o;
}

static const char *
hostname(void)
{
	static char h[256];
	if (h[0] == '\0' && gethostname(h, sizeof(h) - 1) < 0)
		snprintf(h, sizeof(h), "?");
	return h;
}

/* exit code of a result */
static int
result_exit(const char *result)
{
	if (strcmp(result, "promoted") == 0 ||
	    strcmp(result, "rollback_done") == 0)
		return VD_DEP_EXIT_PROMOTED;
	if (strcmp(result, "rolled_back") == 0)
		return VD_DEP_EXIT_ROLLED_BACK;
	if (strcmp(result, "rollback_failed") == 0)
		return VD_DEP_EXIT_ROLLBACK_FAILED;
	if (strcmp(result, "inconclusive") == 0)
		return VD_DEP_EXIT_INCONCLUSIVE;
	if (strcmp(result, "refused") == 0)
		return VD_DEP_EXIT_REFUSED;
	return VD_DEP_EXIT_INTERRUPTED;
}

static cJSON *
state_obj(cJSON *state, const char *key)
{
	cJSON *o = cJSON_GetObjectItemCaseSensitive(state, key);
	return cJSON_IsObject(o) ? o : NULL;
}

static void
set_current(struct vd_dep_ctx *ctx, const char *version, const char *status)
{
	cJSON *cur = cJSON_CreateObject();
	char ts[40];
	vd_dep_utc(vd_now_unix(), ts, sizeof(ts));
	vd_dep_jset_str(cur, "version", version);
	vd_dep_jset_str(cur, "status", status);
	vd_dep_jset_str(cur, "since", ts);
	vd_dep_jset_str(cur, "deployment_id",
			vd_dep_jstr(ctx->dep, "deployment_id"));
	vd_dep_jset(ctx->st.state, "current", cur);
}

static void
set_known_good(struct vd_dep_ctx *ctx, const char *version)
{
	cJSON *kg = cJSON_CreateObject(), *nd;
	char ts[40];
	vd_dep_utc(vd_now_unix(), ts, sizeof(ts));
	vd_dep_jset_str(kg, "version", version);
	vd_dep_jset_str(kg, "deployment_id",
			vd_dep_jstr(ctx->dep, "deployment_id"));
	vd_dep_jset_str(kg, "since", ts);
	nd = cJSON_GetObjectItemCaseSensitive(ctx->dep, "notify_data");
	vd_dep_jset(kg, "notify_data",
		    cJSON_IsObject(nd) ? cJSON_Duplicate(nd, 1)
				       : cJSON_CreateObject());
	vd_dep_jset(ctx->st.state, "known_good", kg);
}

/* The notification event of a result. */
static const char *
result_event(const char *result)
{
	return result;
}

/*
 * Records the result: the state (result, known-good, current, last) and
 * then the history line, in one commit; the deployment stays "in
 * progress" at step "notify" until its notifications are out, then it is
 * closed.
 */
static int
finish(struct vd_dep_ctx *ctx, const char *result, const char *reason)
{
	int code = result_exit(result);
	cJSON *line = cJSON_CreateObject(), *last, *kg;
	char ts[40];
	int r;

	vd_dep_utc(vd_now_unix(), ts, sizeof(ts));
	vd_dep_jset_str(ctx->dep, "result", result);
	vd_dep_jset_num(ctx->dep, "exit_code", code);
	vd_dep_jset_str(ctx->dep, "reason", reason);
	vd_dep_jset_str(ctx->dep, "finished_at", ts);
	vd_dep_jset_str(ctx->dep, "step", "notify");
	last = cJSON_CreateObject();
	vd_dep_jset_str(last, "deployment_id",
			vd_dep_jstr(ctx->dep, "deployment_id"));
	vd_dep_jset_str(last, "kind", vd_dep_jstr(ctx->dep, "kind"));
	vd_dep_jset_str(last, "version", vd_dep_jstr(ctx->dep, "version"));
	vd_dep_jset_str(last, "result", result);
	vd_dep_jset_num(last, "exit_code", code);
	vd_dep_jset_str(last, "reason", reason);
	vd_dep_jset_str(last, "finished_at", ts);
	vd_dep_jset(ctx->st.state, "last", last);

	vd_dep_jset_str(line, "result", result);
	vd_dep_jset_num(line, "exit_code", code);
	vd_dep_jset_str(line, "reason", reason);
	vd_dep_jset_str(line, "version", vd_dep_jstr(ctx->dep, "version"));
	vd_dep_jset_str(line, "kind", vd_dep_jstr(ctx->dep, "kind"));
	kg = state_obj(ctx->st.state, "known_good");
	vd_dep_jset(line, "known_good",
		    kg ? cJSON_Duplicate(kg, 1) : cJSON_CreateNull());
	if (state_obj(ctx->st.state, "current"))
		vd_dep_jset(line, "current",
			    cJSON_Duplicate(state_obj(ctx->st.state, "current"),
					    1));
	r = commit(ctx, "result", line);
	if (r < 0)
		return r;
	vd_dep_say(&ctx->rt, "result: %s%s%s", result, reason ? ": " : "",
		   reason ? reason : "");
	/* a stop signal now must not cut the notifications short */
	ctx->rt.finishing = true;
	(void)vd_notify_event_send(ctx, result_event(result), reason, code);
	/* closed: nothing of this deployment is pending any more */
	vd_dep_jset(ctx->st.state, "in_progress", cJSON_CreateNull());
	ctx->dep = NULL;
	r = vd_dep_state_save(&ctx->st, ctx->err, sizeof(ctx->err));
	return r < 0 ? r : code;
}

/* --- recovery -------------------------------------------------------- */

struct scan {
	const char *id;
	cJSON *notify_log;
	cJSON *dep;
	const cJSON *pending; /* the state's last committed line, or NULL */
	bool pending_found;
};

static void
scan_cb(const cJSON *line, void *udata)
{
	struct scan *s = udata;
	const char *data;
	if (!vd_streq(vd_dep_jstr(line, "deployment_id"), s->id))
		return;
	if (s->pending &&
	    vd_streq(vd_dep_jstr(line, "event"),
		     vd_dep_jstr(s->pending, "event")) &&
	    vd_dep_jnum(line, "seq", -1) == vd_dep_jnum(s->pending, "seq", -2))
		s->pending_found = true;
	if (!vd_streq(vd_dep_jstr(line, "event"), "notify"))
		return;
	cJSON_AddItemToArray(s->notify_log, cJSON_Duplicate(line, 1));
	data = vd_dep_jstr(line, "data");
	if (data && vd_streq(vd_dep_jstr(line, "state"), "sent")) {
		cJSON *nd =
			cJSON_GetObjectItemCaseSensitive(s->dep, "notify_data");
		if (!cJSON_IsObject(nd)) {
			nd = cJSON_CreateObject();
			vd_dep_jset(s->dep, "notify_data", nd);
		}
		vd_dep_jset_str(nd, vd_dep_jstr(line, "notifier"), data);
	}
}

/* Deployments the history opened and never closed (no result line) that
 * the state does not hold in progress: their verdict died before the
 * state knew them (older versions wrote the history first). */
struct orphans {
	cJSON *open; /* id -> the deployment line */
};

static void
orphans_cb(const cJSON *line, void *udata)
{
	struct orphans *o = udata;
	const char *id = vd_dep_jstr(line, "deployment_id");
	const char *ev = vd_dep_jstr(line, "event");
	if (id == NULL || ev == NULL)
		return;
	if (strcmp(ev, "deployment") == 0 &&
	    !cJSON_GetObjectItemCaseSensitive(o->open, id))
		cJSON_AddItemToObject(o->open, id, cJSON_Duplicate(line, 1));
	else if (strcmp(ev, "step") == 0 &&
		 cJSON_GetObjectItemCaseSensitive(o->open, id))
		vd_dep_jset_str(cJSON_GetObjectItemCaseSensitive(o->open, id),
				"step", vd_dep_jstr(line, "step"));
	else if (strcmp(ev, "result") == 0)
		cJSON_DeleteItemFromObjectCaseSensitive(o->open, id);
}

/* Closes every orphan as interrupted (one result line each). Returns 0
 * or VD_ERR_IO. */
static int
close_orphans(struct vd_dep_ctx *ctx, cJSON *recovered)
{
	struct orphans o;
	cJSON *it, *kg = state_obj(ctx->st.state, "known_good");
	int r = 0;

	o.open = cJSON_CreateObject();
	if (vd_dep_history_each(&ctx->st, orphans_cb, &o) < 0) {
		cJSON_Delete(o.open);
		snprintf(ctx->err, sizeof(ctx->err), "cannot read the history");
		return VD_ERR_IO;
	}
	cJSON_ArrayForEach(it, o.open) {
		cJSON *line = cJSON_CreateObject(), *info;
		char *reason = vd_xasprintf(
			"verdict stopped during step %s before its state was "
			"saved; found unfinished in the history",
			vd_dep_jstr_or(it, "step", "record"));
		vd_dep_jset_str(line, "deployment_id", it->string);
		vd_dep_jset_str(line, "event", "result");
		vd_dep_jset_str(line, "result", "interrupted");
		vd_dep_jset_num(line, "exit_code", VD_DEP_EXIT_INTERRUPTED);
		vd_dep_jset_str(line, "reason", reason);
		vd_dep_jset_str(line, "version", vd_dep_jstr(it, "version"));
		vd_dep_jset_str(line, "kind", vd_dep_jstr(it, "kind"));
		vd_dep_jset(line, "known_good",
			    kg ? cJSON_Duplicate(kg, 1) : cJSON_CreateNull());
		vd_dep_say(&ctx->rt, "deployment %s of %s: %s; recording it",
			   it->string, vd_dep_jstr_or(it, "version", "?"),
			   reason);
		free(reason);
		r = vd_dep_history_append(&ctx->st, line, ctx->err,
					  sizeof(ctx->err));
		cJSON_Delete(line);
		if (r < 0)
			break;
		info = cJSON_CreateObject();
		vd_dep_jset_str(info, "deployment_id", it->string);
		vd_dep_jset_str(info, "version", vd_dep_jstr(it, "version"));
		vd_dep_jset_str(info, "step",
				vd_dep_jstr_or(it, "step", "record"));
		vd_dep_jset_str(info, "result", "interrupted");
		cJSON_AddItemToArray(recovered, info);
	}
	cJSON_Delete(o.open);
	return r;
}

static bool
step_changed_nothing(const char *step)
{
	return step == NULL || strcmp(step, "record") == 0 ||
	       strcmp(step, "preflight") == 0;
}

/*
 * Finishes a deployment found in progress (its owner died: we hold the
 * lock): kills its orphaned hook, records it as interrupted (never
 * promoted), and delivers its pending notifications. Returns 0, or
 * VD_ERR_IO.
 */
static int
recover(struct vd_dep_ctx *ctx, cJSON *recovered)
{
	cJSON *ip = state_obj(ctx->st.state, "in_progress"), *hook, *info;
	struct scan sc;
	const char *stepname, *result;
	char *reason;
	int r;

	if (ip == NULL)
		return 0;
	ctx->dep = ip;
	cJSON_Delete(ctx->notify_log);
	ctx->notify_log = cJSON_CreateArray();
	sc.id = vd_dep_jstr(ip, "deployment_id");
	sc.notify_log = ctx->notify_log;
	sc.dep = ip;
	sc.pending = cJSON_GetObjectItemCaseSensitive(ip, "pending");
	if (!cJSON_IsObject(sc.pending))
		sc.pending = NULL;
	sc.pending_found = false;
	if (sc.id == NULL || vd_dep_history_each(&ctx->st, scan_cb, &sc) < 0) {
		snprintf(ctx->err, sizeof(ctx->err),
			 "cannot read the history of the interrupted "
			 "deployment");
		return VD_ERR_IO;
	}
	if (sc.pending && !sc.pending_found) {
		/* the state was saved, the history line was not: append it,
		 * so that both tell the same story */
		cJSON *line = cJSON_Duplicate(sc.pending, 1);
		vd_dep_jset(line, "replayed", cJSON_CreateTrue());
		r = vd_dep_history_append(&ctx->st, line, ctx->err,
					  sizeof(ctx->err));
		cJSON_Delete(line);
		if (r < 0)
			return r;
	}
	stepname = vd_dep_jstr(ip, "step");
	info = cJSON_CreateObject();
	vd_dep_jset_str(info, "deployment_id", sc.id);
	vd_dep_jset_str(info, "version", vd_dep_jstr(ip, "version"));
	vd_dep_jset_str(info, "step", stepname);
	hook = cJSON_GetObjectItemCaseSensitive(ip, "hook");
	if (cJSON_IsObject(hook)) {
		pid_t pid = (pid_t)vd_dep_jnum(hook, "pid", 0);
		double st = vd_dep_jnum(hook, "start_time", -1);
		if (pid > 1 && st >= 0 &&
		    (double)vd_dep_proc_start(pid) == st) {
			kill(-pid, SIGKILL);
			vd_dep_say(
				&ctx->rt,
				"killed the orphaned %s hook of deployment %s "
				"(process group %ld)",
				vd_dep_jstr(hook, "name"), sc.id, (long)pid);
			vd_dep_jset_num(info, "killed_hook_pgid", pid);
		}
	}
	result = vd_dep_jstr(ip, "result");
	if (result == NULL) {
		vd_dep_say(
			&ctx->rt,
			"deployment %s of %s was interrupted during step %s; "
			"recording it (never promoted)",
			sc.id, vd_dep_jstr(ip, "version"),
			stepname ? stepname : "?");
		if (!step_changed_nothing(stepname))
			set_current(ctx, vd_dep_jstr(ip, "version"), "unknown");
		/* what was due before the crash goes out first */
		(void)vd_notify_event_send(ctx, "started", NULL, -1);
		reason = vd_xasprintf(
			"verdict stopped during step %s (killed or "
			"crashed); found by the next command",
			stepname ? stepname : "?");
		vd_dep_jset_str(info, "result", "interrupted");
		cJSON_AddItemToArray(recovered, info);
		r = finish(ctx, "interrupted", reason);
		free(reason);
		ctx->rt.finishing = false;
		return r < 0 ? r : 0;
	}
	vd_dep_say(&ctx->rt,
		   "deployment %s (%s) stopped while notifying; "
		   "sending what was not sent",
		   sc.id, result);
	vd_dep_jset_str(info, "result", result);
	cJSON_AddItemToArray(recovered, info);
	(void)vd_notify_event_send(ctx, "started", NULL, -1);
	(void)vd_notify_event_send(ctx, result_event(result),
				   vd_dep_jstr(ip, "reason"),
				   (int)vd_dep_jnum(ip, "exit_code", -1));
	vd_dep_jset(ctx->st.state, "in_progress", cJSON_CreateNull());
	ctx->dep = NULL;
	return vd_dep_state_save(&ctx->st, ctx->err, sizeof(ctx->err));
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
		set_current(ctx, failed_version, "failed");
		return "rollback_failed";
	}
	if (ctx->rt.stop_signal) {
		set_current(ctx, failed_version, "unknown");
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
		set_current(ctx, failed_version, "unknown");
		return ctx->rt.stop_signal ? "interrupted" : "rollback_failed";
	}
	if (step(ctx, "verify") < 0)
		return NULL;
	v = run_gate(ctx, ctx->cfg->health_src, "verify", prev, failed_version,
		     &why);
	if (v == VD_GATE_PASS) {
		set_current(ctx, prev, "known_good");
		free(why);
		return "rolled_back";
	}
	r = vd_xasprintf("%s; rolled back to %s but it is not healthy: %s",
			 *reason, prev, why);
	free(why);
	free(*reason);
	*reason = r;
	set_current(ctx, prev, "unhealthy");
	return v == VD_GATE_INTERRUPTED ? "interrupted" : "rollback_failed";
}

static const char *
deploy_flow(struct vd_dep_ctx *ctx, char **reason)
{
	const char *ver = vd_dep_jstr(ctx->dep, "version");
	const char *prev = vd_dep_jstr(ctx->dep, "previous_version");
	const char *gate = "health";
	enum vd_gate_verdict v;
	char *why = NULL;

	*reason = NULL;
	if (ctx->cfg->registry) {
		cJSON *details = cJSON_CreateArray(), *line;
		int r;
		if (step(ctx, "preflight") < 0) {
			cJSON_Delete(details);
			return NULL;
		}
		r = vd_dep_registry_check(&ctx->rt, ctx->cfg->registry, ver,
					  details, &why);
		vd_dep_jset(ctx->report, "preflight",
			    cJSON_Duplicate(details, 1));
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
	}
	if (ctx->rt.stop_signal) {
		*reason = vd_xstrdup("stopped before the deploy hook");
		return "interrupted";
	}
	if (step(ctx, "deploy") < 0)
		return NULL;
	set_current(ctx, ver, "deploying");
	if (!run_hook(ctx, ctx->cfg->deploy, "deploy", ver, prev, &why)) {
		*reason = why;
		if (ctx->rt.stop_signal) {
			set_current(ctx, ver, "unknown");
			return "interrupted";
		}
		return roll_back(ctx, ver, reason);
	}
	set_current(ctx, ver, "unverified");
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
	if (v == VD_GATE_INTERRUPTED) {
		*reason = why;
		set_current(ctx, ver, "unknown");
		return "interrupted";
	}
	if (v == VD_GATE_INCONCLUSIVE && !ctx->cfg->rollback_on_inconclusive) {
		*reason = vd_xasprintf("the gate could not judge: %s", why);
		free(why);
		return "inconclusive";
	}
	if (v != VD_GATE_PASS) {
		*reason = vd_xasprintf(
			"%s %s: %s", gate,
			v == VD_GATE_INCONCLUSIVE ? "inconclusive" : "failed",
			why);
		free(why);
		return roll_back(ctx, ver, reason);
	}
	free(why);
	why = NULL;
	if (ctx->rt.stop_signal) {
		*reason = vd_xstrdup("stopped before promoting");
		set_current(ctx, ver, "unknown");
		return "interrupted";
	}
	if (step(ctx, "promote") < 0)
		return NULL;
	if (ctx->cfg->promote &&
	    !run_hook(ctx, ctx->cfg->promote, "promote", ver, prev, &why)) {
		*reason = why;
		if (ctx->rt.stop_signal) {
			set_current(ctx, ver, "unknown");
			return "interrupted";
		}
		return roll_back(ctx, ver, reason);
	}
	set_known_good(ctx, ver);
	set_current(ctx, ver, "known_good");
	return "promoted";
}

static const char *
rollback_flow(struct vd_dep_ctx *ctx, char **reason)
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
	set_current(ctx, ver, "deploying");
	if (!run_hook(ctx, h, "rollback", ver, prev, &why)) {
		*reason = why;
		set_current(ctx, ver, "unknown");
		return ctx->rt.stop_signal ? "interrupted" : "rollback_failed";
	}
	if (step(ctx, "verify") < 0)
		return NULL;
	v = run_gate(ctx, ctx->cfg->health_src, "verify", ver, prev, &why);
	if (v != VD_GATE_PASS) {
		*reason = vd_xasprintf(
			"%s is not healthy after the rollback: %s", ver, why);
		free(why);
		set_current(ctx, ver, "unhealthy");
		return v == VD_GATE_INTERRUPTED ? "interrupted"
						: "rollback_failed";
	}
	free(why);
	set_known_good(ctx, ver);
	set_current(ctx, ver, "known_good");
	return "rollback_done";
}

/* --- commands ---------------------------------------------------------- */

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
	kg = state_obj(ctx->st.state, "known_good");
	vd_dep_jset_str(rep, "known_good_version", vd_dep_jstr(kg, "version"));
	cur = state_obj(ctx->st.state, "current");
	vd_dep_jset(rep, "current",
		    cur ? cJSON_Duplicate(cur, 1) : cJSON_CreateNull());
	if (cJSON_GetObjectItemCaseSensitive(dep_copy, "ci"))
		vd_dep_jset(rep, "ci",
			    cJSON_Duplicate(cJSON_GetObjectItemCaseSensitive(
						    dep_copy, "ci"),
					    1));
}

static int
run_deployment(const struct run_opts *o)
{
	struct vd_dep_ctx ctx;
	struct vd_dep_config *cfg = NULL;
	cJSON *owner, *dep, *kg, *cur, *dep_copy = NULL;
	char owner_txt[1024], id[64], ts[40], *reason = NULL;
	const char *result = NULL, *ver = o->version, *cmd;
	double t0 = vd_now_unix();
	int code = VD_DEP_EXIT_CONFIG, r;

	cmd = o->rollback ? "rollback" : "deploy";
	memset(&ctx, 0, sizeof(ctx));
	ctx.st.dir_fd = ctx.st.lock_fd = ctx.st.hist_fd = -1;
	/* a file size limit (ulimit -f) gives EFBIG, a message and exit 1,
	 * not a silent death by SIGXFSZ with half a line written */
	signal(SIGXFSZ, SIG_IGN);
	if (ver && !vd_dep_name_ok(ver)) {
		char *m = vd_mask(ver), *e = vd_dep_escape(m, 200, true);
		/* escaped: a newline in it must not start a line of its own
		 * (a forged "::error::" in a CI log) */
		fprintf(stderr,
			"verdict: %s: invalid version \"%s\" (1-128 of A-Z a-z "
			"0-9 . _ + -, not starting with '-' or '.', no '..')\n",
			cmd, e);
		free(e);
		free(m);
		return VD_DEP_EXIT_CONFIG;
	}
	if (vd_dep_config_load(o->config, &cfg, ctx.err, sizeof(ctx.err)) < 0) {
		char *e = vd_dep_escape(ctx.err, 0, false);
		fprintf(stderr, "verdict: %s: %s\n", cmd, e);
		free(e);
		return VD_DEP_EXIT_CONFIG;
	}
	ctx.cfg = cfg;
	vd_dep_rt_init(&ctx.rt);
	ctx.rt.quiet = o->quiet;
	report_init(&ctx);
	ctx.notify_log = cJSON_CreateArray();
	code = VD_DEP_EXIT_ERROR;
	if (vd_dep_state_open(&ctx.st, cfg->state_dir, cfg->environment,
			      ctx.err, sizeof(ctx.err)) < 0 ||
	    vd_dep_state_writable(&ctx.st, ctx.err, sizeof(ctx.err)) < 0)
		goto fail;

	make_id(id, sizeof(id));
	vd_dep_utc(t0, ts, sizeof(ts));
	owner = cJSON_CreateObject();
	vd_dep_jset_str(owner, "deployment_id", id);
	vd_dep_jset_str(owner, "version", ver ? ver : "(known-good)");
	vd_dep_jset_str(owner, "command", cmd);
	vd_dep_jset_num(owner, "pid", getpid());
	vd_dep_jset_str(owner, "host", hostname());
	vd_dep_jset_str(owner, "started_at", ts);
	vd_dep_jset_str(owner, "actor", actor());
	r = vd_dep_lock(&ctx.st, owner, owner_txt, sizeof(owner_txt), ctx.err,
			sizeof(ctx.err));
	cJSON_Delete(owner);
	if (r == 1) {
		char *m = vd_mask(owner_txt);
		fprintf(stderr, "verdict: %s: environment %s is locked by %s\n",
			cmd, cfg->environment, m);
		free(m);
		code = VD_DEP_EXIT_LOCKED;
		goto out;
	}
	if (r < 0)
		goto fail;
	/* under the lock: a line torn by a crash is cut before anything is
	 * read or appended */
	{
		long torn = vd_dep_history_repair(&ctx.st, ctx.err,
						  sizeof(ctx.err));
		if (torn < 0)
			goto fail;
		if (torn > 0)
			vd_dep_say(&ctx.rt,
				   "history: cut a torn last line (%ld bytes "
				   "a crash left unfinished)",
				   torn);
	}
	if (vd_dep_state_load(&ctx.st, ctx.err, sizeof(ctx.err)) < 0)
		goto fail;
	if (recover(&ctx, cJSON_GetObjectItemCaseSensitive(ctx.report,
							   "recovered")) < 0 ||
	    close_orphans(&ctx, cJSON_GetObjectItemCaseSensitive(
					ctx.report, "recovered")) < 0)
		goto fail;
	/* what earlier runs could not deliver goes out first */
	(void)vd_notify_outbox_flush(&ctx);
	cJSON_Delete(ctx.notify_log);
	ctx.notify_log = cJSON_CreateArray();

	kg = state_obj(ctx.st.state, "known_good");
	cur = state_obj(ctx.st.state, "current");
	if (o->rollback) {
		if (ver == NULL)
			ver = vd_dep_jstr(kg, "version");
		if (ver == NULL) {
			fprintf(stderr,
				"verdict: rollback: environment %s has no "
				"known-good version yet; give one with --to\n",
				cfg->environment);
			code = VD_DEP_EXIT_CONFIG;
			goto out;
		}
		if (!(kg && vd_streq(vd_dep_jstr(kg, "version"), ver))) {
			struct promoted_scan ps = {ver, false};
			(void)vd_dep_history_each(&ctx.st, promoted_cb, &ps);
			if (!ps.found) {
				fprintf(stderr,
					"verdict: rollback: %s was never "
					"promoted in "
					"%s; only versions that passed the "
					"gate "
					"can be rolled back to\n",
					ver, cfg->environment);
				code = VD_DEP_EXIT_CONFIG;
				goto out;
			}
		}
	}

	/* 2. the record, before anything happens */
	dep = cJSON_CreateObject();
	vd_dep_jset_str(dep, "deployment_id", id);
	vd_dep_jset_str(dep, "kind", cmd);
	vd_dep_jset_str(dep, "environment", cfg->environment);
	vd_dep_jset_str(dep, "version", ver);
	if (o->rollback)
		vd_dep_jset_str(dep, "previous_version",
				vd_dep_jstr(cur ? cur : kg, "version"));
	else
		vd_dep_jset_str(dep, "previous_version",
				vd_dep_jstr(kg, "version"));
	vd_dep_jset_str(dep, "started_at", ts);
	vd_dep_jset_str(dep, "actor", actor());
	vd_dep_jset(dep, "ci", ci_info());
	vd_dep_jset_num(dep, "pid", getpid());
	vd_dep_jset_str(dep, "host", hostname());
	vd_dep_jset_str(dep, "step", "record");
	if (kg &&
	    cJSON_IsObject(cJSON_GetObjectItemCaseSensitive(kg, "notify_data")))
		vd_dep_jset(dep, "replaced_notify_data",
			    cJSON_Duplicate(cJSON_GetObjectItemCaseSensitive(
						    kg, "notify_data"),
					    1));
	vd_dep_jset(ctx.st.state, "in_progress", dep);
	ctx.dep = dep;
	{
		cJSON *line = cJSON_Duplicate(dep, 1);
		cJSON_DeleteItemFromObjectCaseSensitive(line, "deployment_id");
		cJSON_DeleteItemFromObjectCaseSensitive(line, "step");
		cJSON_DeleteItemFromObjectCaseSensitive(line,
							"replaced_notify_data");
		if (commit(&ctx, "deployment", line) < 0) {
			/* nothing was done: take the record back (should
			 * this fail too, the next command replays it) */
			char keep[sizeof(ctx.err)];
			memcpy(keep, ctx.err, sizeof(keep));
			vd_dep_jset(ctx.st.state, "in_progress",
				    cJSON_CreateNull());
			ctx.dep = NULL;
			(void)vd_dep_state_save(&ctx.st, ctx.err,
						sizeof(ctx.err));
			memcpy(ctx.err, keep, sizeof(keep));
			goto fail;
		}
	}
	vd_dep_say(&ctx.rt, "%s %s of %s to %s (known-good %s)", cmd, id, ver,
		   cfg->environment,
		   vd_dep_jstr_or(dep, "previous_version", "none"));

	/* 7 (first half): people hear that it starts */
	(void)vd_notify_event_send(&ctx, "started", NULL, -1);

	result = o->rollback ? rollback_flow(&ctx, &reason)
			     : deploy_flow(&ctx, &reason);
	if (result == NULL)
		goto fail;
	if (ctx.rt.stop_signal && strcmp(result, "interrupted") != 0 &&
	    strcmp(result, "promoted") != 0 &&
	    strcmp(result, "rolled_back") != 0 &&
	    strcmp(result, "rollback_done") != 0) {
		/* the flow ended because of the signal */
		result = "interrupted";
	}
	if (strcmp(result, "interrupted") == 0 && ctx.rt.stop_signal) {
		char *w = vd_xasprintf("%s (signal %d)",
				       reason ? reason : "stopped",
				       ctx.rt.stop_signal);
		free(reason);
		reason = w;
	}
	dep_copy = cJSON_Duplicate(ctx.dep, 1);
	code = finish(&ctx, result, reason);
	if (code < 0)
		goto fail;
	report_finish(&ctx, dep_copy, result, code, reason, t0);
	if (vd_dep_report_emit(ctx.report, o->format, o->report) < 0 &&
	    code == VD_DEP_EXIT_PROMOTED)
		code = VD_DEP_EXIT_ERROR;
	goto out;
fail : {
	char *e = vd_dep_escape(ctx.err[0] ? ctx.err : "failed", 0, false);
	fprintf(stderr, "verdict: %s: %s%s\n", cmd, e,
		ctx.dep ? "; the deployment stays in progress: the "
			  "next deploy or rollback records it "
			  "interrupted"
			: "");
	free(e);
}
	code = VD_DEP_EXIT_ERROR;
out:
	free(reason);
	cJSON_Delete(dep_copy);
	cJSON_Delete(ctx.report);
	cJSON_Delete(ctx.notify_log);
	vd_dep_state_close(&ctx.st);
	vd_dep_rt_cleanup(&ctx.rt);
	vd_dep_config_free(cfg);
	return code;
}

int
vd_dep_run_deploy(const char *config, const char *version, const char *format,
		  const char *report, bool quiet, bool rollback)
{
	struct run_opts o;
	o.config = config;
	o.version = version;
	o.format = format;
	o.report = report;
	o.quiet = quiet;
	o.rollback = rollback;
	return run_deployment(&o);
}
