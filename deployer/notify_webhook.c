/*
 * notify_webhook.c - a generic JSON webhook: POST the event with the
 * deployment record. "event_id" (deployment id and event) lets the
 * receiver drop the rare duplicate of at-least-once delivery. Header
 * values that look secret are masked.
 */
#include <stdlib.h>
#include <string.h>

#include "dep_int.h"

struct hook_conf {
	char *url;
	char **hdr_names;
	char **hdr_values;
	size_t nhdrs;
};

static void
wh_free(void *p)
{
	struct hook_conf *c = p;
	if (c == NULL)
		return;
	free(c->url);
	vd_strmap_free(c->hdr_names, c->hdr_values, c->nhdrs);
	free(c);
}

static int
wh_parse(struct vd_cfg *cfg, void **out)
{
	struct hook_conf *c = vd_xcalloc(1, sizeof(*c));
	size_t i;
	int r;

	*out = c;
	r = vd_cfg_str(cfg, "url", true, &c->url);
	if (!r)
		r = vd_notify_http_url(cfg, c->url);
	if (!r) {
		char *m = vd_mask_url(c->url); /* registers a password */
		free(m);
		r = vd_cfg_strmap(cfg, "headers", &c->hdr_names, &c->hdr_values,
				  &c->nhdrs);
	}
	for (i = 0; !r && i < c->nhdrs; i++) {
		if (strpbrk(c->hdr_names[i], ":\r\n") ||
		    strpbrk(c->hdr_values[i], "\r\n"))
			r = vd_cfg_error(cfg, "headers",
					 "invalid header \"%s\"",
					 c->hdr_names[i]);
		else if (vd_header_is_secret(c->hdr_names[i]))
			vd_secret_add(c->hdr_values[i]);
	}
	return r;
}

static int
wh_build(const void *conf, const struct vd_notify_event *ev, unsigned step,
	 struct vd_notify_req *req)
{
	const struct hook_conf *c = conf;
	const char *keys[] = {
		"deployment_id",    "kind",	  "environment", "version",
		"previous_version", "started_at", "actor",	 NULL};
	cJSON *b, *ci;
	char *text, *id;
	size_t i;

	if (step > 0)
		return 0;
	b = cJSON_CreateObject();
	id = vd_xasprintf("%s:%s", vd_dep_jstr(ev->dep, "deployment_id"),
			  ev->what);
	cJSON_AddStringToObject(b, "event_id", id);
	free(id);
	cJSON_AddStringToObject(b, "event", ev->what);
	for (i = 0; keys[i]; i++) {
		const char *v = vd_dep_jstr(ev->dep, keys[i]);
		if (v)
			cJSON_AddStringToObject(b, keys[i], v);
		else
			cJSON_AddNullToObject(b, keys[i]);
	}
	if (ev->exit_code >= 0)
		cJSON_AddNumberToObject(b, "exit_code", ev->exit_code);
	if (ev->reason)
		cJSON_AddStringToObject(b, "reason", ev->reason);
	ci = cJSON_GetObjectItemCaseSensitive(ev->dep, "ci");
	if (cJSON_IsObject(ci))
		cJSON_AddItemToObject(b, "ci", cJSON_Duplicate(ci, 1));
	if (ev->environment_url)
		cJSON_AddStringToObject(b, "environment_url",
					ev->environment_url);
	if (ev->log_url)
		cJSON_AddStringToObject(b, "log_url", ev->log_url);
	text = vd_notify_text(ev);
	cJSON_AddStringToObject(b, "text", text);
	free(text);
	vd_notify_req_json(req, vd_xstrdup(c->url), b);
	req->headers = vd_xcalloc(c->nhdrs ? c->nhdrs : 1, sizeof(char *));
	for (i = 0; i < c->nhdrs; i++)
		req->headers[i] = vd_xasprintf("%s: %s", c->hdr_names[i],
					       c->hdr_values[i]);
	req->nheaders = c->nhdrs;
	return 1;
}

const struct vd_notifier_type vd_notifier_webhook = {
	.name = "webhook",
	.parse = wh_parse,
	.build = wh_build,
	.answer = NULL,
	.free = wh_free,
};
