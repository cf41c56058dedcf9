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
	const cJSON *chat;
	int r;

	*out = c;
	r = vd_notify_base_url(cfg, "https://api.telegram.org", &c->base_url);
	if (!r)
		r = vd_notify_token(cfg, "TELEGRAM_BOT_TOKEN",
				    " (the bot token)", &c->token);
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
	vd_notify_req_json(
		req,
		vd_xasprintf("%s/bot%s/sendMessage", c->base_url, c->token), b);
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
