/*
 * result.c - records a deployment's result (state, then history, in one
 * commit), notifies it, then closes the deployment. Uses records.c and
 * notify.c; never called by either.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dep_int.h"

int
vd_dep_finish(struct vd_dep_ctx *ctx, const char *result, const char *reason)
{
	int code = vd_dep_result_exit(result);
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
	kg = vd_dep_state_obj(ctx->st.state, "known_good");
	vd_dep_jset(line, "known_good",
		    kg ? cJSON_Duplicate(kg, 1) : cJSON_CreateNull());
	if (vd_dep_state_obj(ctx->st.state, "current"))
		vd_dep_jset(
			line, "current",
			cJSON_Duplicate(
				vd_dep_state_obj(ctx->st.state, "current"), 1));
	r = vd_dep_commit(ctx, "result", line);
	if (r < 0)
		return r;
	vd_dep_say(&ctx->rt, "result: %s%s%s", result, reason ? ": " : "",
		   reason ? reason : "");
	/* a stop signal now must not cut the notifications short */
	ctx->rt.finishing = true;
	(void)vd_notify_event_send(ctx, result, reason, code);
	/* closed: nothing of this deployment is pending any more */
	vd_dep_jset(ctx->st.state, "in_progress", cJSON_CreateNull());
	ctx->dep = NULL;
	r = vd_dep_state_save(&ctx->st, ctx->err, sizeof(ctx->err));
	return r < 0 ? r : code;
}
