/*
 * notify_github.c - GitHub Deployments: on "started" creates a
 * deployment (POST /repos/O/R/deployments) and sets it in_progress; the
 * final event sets success / failure / error, and a promotion marks the
 * replaced deployment inactive. The deployment id GitHub returns is kept
 * (recorded) for the later statuses. The token comes from the
 * environment and is masked.
 */
#include <stdlib.h>
#include <string.h>

#include "dep_int.h"

struct gh_conf {
	char *base_url;
	char *repository; /* "owner/name" */
	char *token;
	char *ref; /* NULL: the version */
	bool production;
	bool transient;
};

static void
gh_free(void *p)
{
	struct gh_conf *c = p;
	if (c == NULL)
		return;
	free(c->base_url);
	free(c->repository);
	vd_free_secret(c->token);
	free(c->ref);
	free(c);
}

static bool
repo_ok(const char *s)
{
	const char *slash = s ? strchr(s, '/') : NULL;
	size_t i;
	if (slash == NULL || slash == s || slash[1] == '\0' ||
	    strchr(slash + 1, '/') || strstr(s, ".."))
		return false;
	for (i = 0; s[i]; i++)
		if (!(s[i] == '/' || s[i] == '-' || s[i] == '_' ||
		      s[i] == '.' || (s[i] >= 'a' && s[i] <= 'z') ||
		      (s[i] >= 'A' && s[i] <= 'Z') ||
		      (s[i] >= '0' && s[i] <= '9')))
			return false;
	return true;
}

static int
gh_parse(struct vd_cfg *cfg, void **out)
{
	struct gh_conf *c = vd_xcalloc(1, sizeof(*c));
	const char *v;
	int r;

	*out = c;
	r = vd_notify_base_url(cfg, "https://api.github.com", &c->base_url);
	if (!r)
		r = vd_cfg_str(cfg, "repository", false, &c->repository);
	if (!r && c->repository == NULL && (v = getenv("GITHUB_REPOSITORY")) &&
	    *v)
		c->repository = vd_xstrdup(v);
	if (!r && c->repository == NULL)
		r = vd_cfg_error(cfg, "repository",
				 "required (\"owner/name\"; GITHUB_REPOSITORY "
				 "is not set)");
	if (!r && !repo_ok(c->repository))
		r = vd_cfg_error(cfg, "repository",
				 "expected \"owner/name\", got \"%s\"",
				 c->repository);
	if (!r)
		r = vd_notify_token(cfg, "GITHUB_TOKEN", "", &c->token);
	if (!r)
		r = vd_cfg_str(cfg, "ref", false, &c->ref);
	if (!r && c->ref == NULL && (v = getenv("GITHUB_SHA")) && *v)
		c->ref = vd_xstrdup(v);
	if (!r)
		r = vd_cfg_bool(cfg, "production_environment", &c->production);
	if (!r)
		r = vd_cfg_bool(cfg, "transient_environment", &c->transient);
	return r;
}

static void
headers(const struct gh_conf *c, struct vd_notify_req *req)
{
	req->headers = vd_xcalloc(3, sizeof(char *));
	req->headers[0] = vd_xstrdup("Accept: application/vnd.github+json");
	req->headers[1] = vd_xasprintf("Authorization: Bearer %s", c->token);
	req->headers[2] = vd_xstrdup("X-GitHub-Api-Version: 2022-11-28");
	req->nheaders = 3;
}

static const char *
final_state(const char *what)
{
	if (strcmp(what, "promoted") == 0 || strcmp(what, "rollback_done") == 0)
		return "success";
	if (strcmp(what, "rolled_back") == 0 || strcmp(what, "refused") == 0)
		return "failure";
	return "error"; /* rollback_failed, inconclusive, interrupted */
}

/* A status on deployment id: state, with the event's text. */
static void
status_req(const struct gh_conf *c, const struct vd_notify_event *ev,
	   const char *id, const char *state, const char *description,
	   struct vd_notify_req *req)
{
	cJSON *b = cJSON_CreateObject();
	const char *env = vd_dep_jstr(ev->dep, "environment");
	char desc[141];
	/* GitHub refuses descriptions over 140 characters */
	snprintf(desc, sizeof(desc), "%s", description);
	cJSON_AddStringToObject(b, "state", state);
	cJSON_AddStringToObject(b, "description", desc);
	cJSON_AddStringToObject(b, "environment", env ? env : "");
	if (ev->environment_url)
		cJSON_AddStringToObject(b, "environment_url",
					ev->environment_url);
	if (ev->log_url)
		cJSON_AddStringToObject(b, "log_url", ev->log_url);
	vd_notify_req_json(req,
			   vd_xasprintf("%s/repos/%s/deployments/%s/statuses",
					c->base_url, c->repository, id),
			   b);
	headers(c, req);
}

static int
gh_build(const void *conf, const struct vd_notify_event *ev, unsigned step,
	 struct vd_notify_req *req)
{
	const struct gh_conf *c = conf;
	const char *ver = vd_dep_jstr(ev->dep, "version");
	char *text;

	if (strcmp(ev->what, "started") == 0) {
		if (step == 0) {
			cJSON *b = cJSON_CreateObject(), *pl;
			text = vd_notify_text(ev);
			cJSON_AddStringToObject(b, "ref",
						c->ref ? c->ref : ver);
			cJSON_AddStringToObject(b, "task", "deploy");
			cJSON_AddStringToObject(
				b, "environment",
				vd_dep_jstr(ev->dep, "environment"));
			cJSON_AddStringToObject(b, "description", text);
			cJSON_AddBoolToObject(b, "auto_merge", false);
			cJSON_AddArrayToObject(b, "required_contexts");
			cJSON_AddBoolToObject(b, "production_environment",
					      c->production);
			cJSON_AddBoolToObject(b, "transient_environment",
					      c->transient);
			pl = cJSON_AddObjectToObject(b, "payload");
			cJSON_AddStringToObject(pl, "version", ver);
			cJSON_AddStringToObject(
				pl, "deployment_id",
				vd_dep_jstr(ev->dep, "deployment_id"));
			vd_notify_req_json(
				req,
				vd_xasprintf("%s/repos/%s/deployments",
					     c->base_url, c->repository),
				b);
			free(text);
			headers(c, req);
			return 1;
		}
		if (step == 1 && ev->data) {
			text = vd_notify_text(ev);
			status_req(c, ev, ev->data, "in_progress", text, req);
			free(text);
			return 1;
		}
		return 0;
	}
	/* a final event: needs the deployment created at "started" */
	if (step == 0 && ev->data) {
		text = vd_notify_text(ev);
		status_req(c, ev, ev->data, final_state(ev->what), text, req);
		free(text);
		return 1;
	}
	if (step == 1 && ev->data && ev->replaced_data &&
	    strcmp(final_state(ev->what), "success") == 0 &&
	    strcmp(ev->data, ev->replaced_data) != 0) {
		status_req(c, ev, ev->replaced_data, "inactive",
			   "replaced by a newer deployment", req);
		return 1;
	}
	return 0;
}

static char *
gh_answer(const void *conf, const struct vd_notify_event *ev, unsigned step,
	  long status, const char *body)
{
	cJSON *o;
	const cJSON *id;
	char *out = NULL;
	(void)conf;
	(void)status;
	if (strcmp(ev->what, "started") != 0 || step != 0)
		return NULL;
	o = cJSON_Parse(body);
	id = cJSON_GetObjectItemCaseSensitive(o, "id");
	if (cJSON_IsNumber(id) && id->valuedouble > 0)
		out = vd_xasprintf("%.0f", id->valuedouble);
	cJSON_Delete(o);
	return out;
}

const struct vd_notifier_type vd_notifier_github = {
	.name = "github",
	.parse = gh_parse,
	.build = gh_build,
	.answer = gh_answer,
	.free = gh_free,
};
