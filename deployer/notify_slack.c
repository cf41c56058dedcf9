/*
 * notify_slack.c - the Slack notifier: an incoming webhook, POST
 * {"text": ...}. The webhook URL is itself the credential: it comes from
 * the environment (url_env) or a ${VAR} in "url", and is masked.
 */
#include <stdlib.h>
#include <string.h>

#include "dep_int.h"

struct slack_conf {
	char *url;
	char *channel;
	char *username;
};

static void
slack_free(void *p)
{
	struct slack_conf *c = p;
	if (c == NULL)
		return;
	vd_free_secret(c->url);
	free(c->channel);
	free(c->username);
	free(c);
}

static int
slack_parse(struct vd_cfg *cfg, void **out)
{
	struct slack_conf *c = vd_xcalloc(1, sizeof(*c));
	char *url_env = NULL;
	int r;

	*out = c;
	r = vd_cfg_str(cfg, "url", false, &c->url);
	if (!r)
		r = vd_cfg_str(cfg, "url_env", false, &url_env);
	if (!r && url_env) {
		const char *v = getenv(url_env);
		if (v == NULL || *v == '\0')
			r = vd_cfg_error(cfg, "url_env",
					 "environment variable %s is not set",
					 url_env);
		else {
			free(c->url);
			c->url = vd_xstrdup(v);
		}
	}
	if (!r && c->url == NULL)
		r = vd_cfg_error(cfg, "url_env",
				 "required: the name of the variable holding "
				 "the incoming-webhook URL (or \"url\")");
	if (!r)
		r = vd_notify_http_url(cfg, c->url);
	if (!r)
		vd_secret_add(c->url);
	if (!r)
		r = vd_cfg_str(cfg, "channel", false, &c->channel);
	if (!r)
		r = vd_cfg_str(cfg, "username", false, &c->username);
	free(url_env);
	return r;
}

static int
slack_build(const void *conf, const struct vd_notify_event *ev, unsigned step,
	    struct vd_notify_req *req)
{
	const struct slack_conf *c = conf;
	cJSON *b;
	char *text;

	if (step > 0)
		return 0;
	text = vd_notify_text(ev);
	b = cJSON_CreateObject();
	cJSON_AddStringToObject(b, "text", text);
	if (c->channel)
		cJSON_AddStringToObject(b, "channel", c->channel);
	if (c->username)
		cJSON_AddStringToObject(b, "username", c->username);
	vd_notify_req_json(req, vd_xstrdup(c->url), b);
	free(text);
	return 1;
}

const struct vd_notifier_type vd_notifier_slack = {
	.name = "slack",
	.parse = slack_parse,
	.build = slack_build,
	.answer = NULL,
	.free = slack_free,
};
