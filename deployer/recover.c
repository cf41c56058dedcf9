/*
 * recover.c - crash recovery, run under the lock before a deployment
 * starts: a deployment the state holds in progress (its owner died) is
 * recorded interrupted (never promoted) after its orphaned hook is
 * killed, a line the state committed but the history lacks is replayed,
 * pending notifications go out, and deployments the history opened but
 * never closed are closed as interrupted.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dep_int.h"

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
int
vd_dep_close_orphans(struct vd_dep_ctx *ctx, cJSON *recovered)
{
	struct orphans o;
	cJSON *it, *kg = vd_dep_state_obj(ctx->st.state, "known_good");
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
		vd_dep_jset_num(line, "exit_code", VD_EXIT_INTERRUPTED);
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
int
vd_dep_recover(struct vd_dep_ctx *ctx, cJSON *recovered)
{
	cJSON *ip = vd_dep_state_obj(ctx->st.state, "in_progress"), *hook,
	      *info;
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
			vd_dep_set_current(ctx, vd_dep_jstr(ip, "version"),
					   "unknown");
		/* what was due before the crash goes out first */
		(void)vd_notify_event_send(ctx, "started", NULL, -1);
		reason = vd_xasprintf(
			"verdict stopped during step %s (killed or "
			"crashed); found by the next command",
			stepname ? stepname : "?");
		vd_dep_jset_str(info, "result", "interrupted");
		cJSON_AddItemToArray(recovered, info);
		r = vd_dep_finish(ctx, "interrupted", reason);
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
	(void)vd_notify_event_send(ctx, result, vd_dep_jstr(ip, "reason"),
				   (int)vd_dep_jnum(ip, "exit_code", -1));
	vd_dep_jset(ctx->st.state, "in_progress", cJSON_CreateNull());
	ctx->dep = NULL;
	return vd_dep_state_save(&ctx->st, ctx->err, sizeof(ctx->err));
}
