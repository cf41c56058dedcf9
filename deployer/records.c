/*
 * records.c - a deployment's records: history lines (vd_dep_record),
 * commits that keep state and history telling one story (state first,
 * holding the line as in_progress.pending, then the history), steps, and
 * the state's current and known-good versions. Uses state.c only; knows
 * nothing of hooks, gates or notifiers.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dep_int.h"

int
vd_dep_record(struct vd_dep_ctx *ctx, const char *event, cJSON *line)
{
	return vd_dep_record_for(ctx, vd_dep_jstr(ctx->dep, "deployment_id"),
				 event, line);
}

int
vd_dep_record_for(struct vd_dep_ctx *ctx, const char *id, const char *event,
		  cJSON *line)
{
	cJSON *out = cJSON_CreateObject(), *it;
	int r;
	/* deployment id and event first, then the rest */
	vd_dep_jset_str(out, "deployment_id", id);
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
int
vd_dep_commit(struct vd_dep_ctx *ctx, const char *event, cJSON *line)
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
	return vd_dep_commit(ctx, "step", extra ? extra : cJSON_CreateObject());
}

int
vd_dep_result_exit(const char *result)
{
	if (strcmp(result, "promoted") == 0 ||
	    strcmp(result, "rollback_done") == 0)
		return VD_EXIT_OK;
	if (strcmp(result, "rolled_back") == 0)
		return VD_EXIT_ROLLED_BACK;
	if (strcmp(result, "rollback_failed") == 0)
		return VD_EXIT_ROLLBACK_FAILED;
	if (strcmp(result, "inconclusive") == 0)
		return VD_EXIT_INCONCLUSIVE;
	if (strcmp(result, "refused") == 0)
		return VD_EXIT_REFUSED;
	return VD_EXIT_INTERRUPTED;
}

cJSON *
vd_dep_state_obj(cJSON *state, const char *key)
{
	cJSON *o = cJSON_GetObjectItemCaseSensitive(state, key);
	return cJSON_IsObject(o) ? o : NULL;
}

void
vd_dep_set_current(struct vd_dep_ctx *ctx, const char *version,
		   const char *status)
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

void
vd_dep_set_known_good(struct vd_dep_ctx *ctx, const char *version)
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
