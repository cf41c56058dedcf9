/*
 * notify_telegram.c - the Telegram notifier: POST
 * BASE/bot<TOKEN>/sendMessage with chat_id and text. The token comes
 * from the environment and sits in the URL path: it is registered as a
 * secret so that every printed or recorded URL shows "***".
 */
#include <stdlib.h>
#include <string.h>

#include "dep_int.h"

struct tg_conf {
	char *base_url;
	char *token;
	char *chat_id;
	bool silent;
};

static void
tg_free(void *p)
{
	struct tg_conf *c = p;
	if (c == NULL)
		return;
	free(c->base_url);
	vd_free_secret(c->token);
	free(c->chat_id);
	free(c);
}

static int
tg_parse(struct vd_cfg *cfg, void **out)
{
	struct tg_conf *c = vd_xcalloc(1, sizeof(*c));
	char *token_env = NULL;
	const cJSON *chat;
	const char *tok;
	int r;

	*out = c;
	c->base_url = vd_xstrdup("https://api.telegram.org");
	r = vd_cfg_str(cfg, "base_url", false, &c->base_url);
	if (!r)
		r = vd_cfg_str(cfg, "token_env", false, &token_env);
	if (!r) {
		const char *name = token_env ? token_env : "TELEGRAM_BOT_TOKEN";
		tok = getenv(name);
		if (tok == NULL || *tok == '\0')
			r = vd_cfg_error(cfg, "token_env",
					 "environment variable %s (the bot "
					 "token) is not set",
					 name);
		else {
			c->token = vd_xstrdup(tok);
			vd_secret_add(tok);
		}
	}
	if (!r) {
		chat = vd_cfg_take(cfg, "chat_id");
		if (cJSON_IsString(chat) && *chat->valuestring)
			c->chat_id = vd_xstrdup(chat->valuestring);
		else if (cJSON_IsNumber(chat))
			c->chat_id = vd_xasprintf("%.0f", chat->valuedouble);
		else
			r = vd_cfg_error(cfg, "chat_id",
					 "required: the chat's id (a number or "
					 "a string like \"@channel\")");
	}
	if (!r && c->chat_id[0] != '@') {
		const char *d = c->chat_id + (c->chat_id[0] == '-');
		if (*d == '\0' || strspn(d, "0123456789") != strlen(d))
			r = vd_cfg_error(
				cfg, "chat_id",
				"expected a numeric id or \"@channel\"");
	}
	if (!r)
		r = vd_cfg_bool(cfg, "silent", &c->silent);
	if (!r) {
		size_t n = strlen(c->base_url);
		while (n > 0 && c->base_url[n - 1] == '/')
			c->base_url[--n] = '\0';
	}
	free(token_env);
	return r;
}

static int
tg_build(const void *conf, const struct vd_notify_event *ev, unsigned step,
	 struct vd_notify_req *req)
{
	const struct tg_conf *c = conf;
	cJSON *b;
	char *text;

	if (step > 0)
		return 0;
	text = vd_notify_text(ev);
	b = cJSON_CreateObject();
	/* a numeric id goes out as a number, "@name" as a string */
	if (c->chat_id[0] == '@')
		cJSON_AddStringToObject(b, "chat_id", c->chat_id);
	else
		cJSON_AddRawToObject(b, "chat_id", c->chat_id);
	cJSON_AddStringToObject(b, "text", text);
	cJSON_AddBoolToObject(b, "disable_web_page_preview", true);
	if (c->silent)
		cJSON_AddBoolToObject(b, "disable_notification", true);
	req->url = vd_xasprintf("%s/bot%s/sendMessage", c->base_url, c->token);
	req->body = cJSON_PrintUnformatted(b);
	cJSON_Delete(b);
	free(text);
	return 1;
}

const struct vd_notifier_type vd_notifier_telegram = {
	.name = "telegram",
	.parse = tg_parse,
	.build = tg_build,
	.answer = NULL,
	.free = tg_free,
};
