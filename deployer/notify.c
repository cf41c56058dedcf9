/*
 * notify.c - delivers deployment events to the notifiers (Telegram,
 * Slack, GitHub Deployments, a generic webhook), at least once and never
 * twice per event: every request is recorded in the history as
 * "sending" before it goes out and "sent"/"failed" after, so a run after
 * a crash resends only what was not known to have arrived. Retries with
 * backoff on the loop; what still fails waits in the state's outbox for
 * the next run. A failed notification never changes the verdict.
 */
#include <stdlib.h>
#include <string.h>

#include "dep_int.h"

const struct vd_notifier_type *const vd_notifier_types[] = {
	&vd_notifier_telegram,
	&vd_notifier_slack,
	&vd_notifier_github,
	&vd_notifier_webhook,
	NULL,
};

const struct vd_notifier_type *
vd_notifier_find(const char *name)
{
	size_t i;
	for (i = 0; vd_notifier_types[i]; i++)
		if (strcmp(vd_notifier_types[i]->name, name) == 0)
			return vd_notifier_types[i];
	return NULL;
}

void
vd_notify_req_clear(struct vd_notify_req *r)
{
	size_t i;
	free(r->method);
	vd_free_secret(r->url);
	for (i = 0; i < r->nheaders; i++)
		vd_free_secret(r->headers[i]);
	free(r->headers);
	free(r->body);
	memset(r, 0, sizeof(*r));
}

char *
vd_notify_text(const struct vd_notify_event *ev)
{
	const char *env = vd_dep_jstr(ev->dep, "environment");
	const char *ver = vd_dep_jstr(ev->dep, "version");
	const char *prev = vd_dep_jstr(ev->dep, "previous_version");
	const char *id = vd_dep_jstr(ev->dep, "deployment_id");
	const char *actor = vd_dep_jstr(ev->dep, "actor");
	const char *w = ev->what;
	struct vd_buf b;
	char *m;

	if (prev == NULL || *prev == '\0')
		prev = "none";
	vd_buf_init(&b, 0);
	vd_buf_printf(&b, "[%s] ", env ? env : "?");
	if (strcmp(w, "started") == 0) {
		if (vd_streq(vd_dep_jstr(ev->dep, "kind"), "rollback"))
			vd_buf_printf(&b, "rolling back to %s (current %s)",
				      ver, prev);
		else
			vd_buf_printf(&b, "deploying %s (known-good %s)", ver,
				      prev);
	} else if (strcmp(w, "promoted") == 0) {
		vd_buf_printf(&b,
			      "%s promoted: healthy and smoke-tested "
			      "(replaces %s)",
			      ver, prev);
	} else if (strcmp(w, "rolled_back") == 0) {
		vd_buf_printf(&b,
			      "%s failed the gate and was rolled back to %s",
			      ver, prev);
	} else if (strcmp(w, "rollback_done") == 0) {
		vd_buf_printf(&b, "rolled back to %s: verified healthy", ver);
	} else if (strcmp(w, "rollback_failed") == 0) {
		vd_buf_printf(&b, "%s: ROLLBACK FAILED, a human is needed",
			      ver);
	} else if (strcmp(w, "inconclusive") == 0) {
		vd_buf_printf(&b,
			      "%s: the gate could not judge; neither promoted "
			      "nor rolled back",
			      ver);
	} else if (strcmp(w, "refused") == 0) {
		vd_buf_printf(&b, "%s refused before deploying", ver);
	} else if (strcmp(w, "interrupted") == 0) {
		vd_buf_printf(&b, "deployment of %s was interrupted", ver);
	} else {
		vd_buf_printf(&b, "%s: %s", ver, w);
	}
	if (ev->reason && *ev->reason)
		vd_buf_printf(&b, ": %s", ev->reason);
	vd_buf_printf(&b, " (deployment %s", id ? id : "?");
	if (actor && *actor)
		vd_buf_printf(&b, ", by %s", actor);
	vd_buf_puts(&b, ")");
	if (ev->log_url && strcmp(w, "started") != 0)
		vd_buf_printf(&b, " %s", ev->log_url);
	m = vd_mask(b.data);
	vd_buf_free(&b);
	return m;
}

int
vd_notify_base_url(struct vd_cfg *cfg, const char *dflt, char **base)
{
	int r;
	*base = vd_xstrdup(dflt);
	r = vd_cfg_str(cfg, "base_url", false, base);
	if (!r) {
		size_t n = strlen(*base);
		while (n > 0 && (*base)[n - 1] == '/')
			(*base)[--n] = '\0';
	}
	return r;
}

int
vd_notify_token(struct vd_cfg *cfg, const char *dflt_env, const char *note,
		char **token)
{
	char *token_env = NULL;
	const char *name, *v;
	int r = vd_cfg_str(cfg, "token_env", false, &token_env);

	if (!r) {
		name = token_env ? token_env : dflt_env;
		v = getenv(name);
		if (v == NULL || *v == '\0')
			r = vd_cfg_error(cfg, "token_env",
					 "environment variable %s%s is not set",
					 name, note);
		else {
			*token = vd_xstrdup(v);
			vd_secret_add(v);
		}
	}
	free(token_env);
	return r;
}

int
vd_notify_http_url(struct vd_cfg *cfg, const char *url)
{
	if (!vd_startswith(url, "https://") && !vd_startswith(url, "http://"))
		return vd_cfg_error(cfg, "url", "expected an http(s) URL");
	return 0;
}

void
vd_notify_req_json(struct vd_notify_req *req, char *url, cJSON *body)
{
	req->url = url;
	req->body = cJSON_PrintUnformatted(body);
	cJSON_Delete(body);
}

static const char *
ndata(const cJSON *dep, const char *member, const char *key)
{
	const cJSON *o = cJSON_GetObjectItemCaseSensitive(dep, member);
	return vd_dep_jstr(o, key);
}

/* The outcome recorded for (notifier, what, step): "sent", "failed",
 * "sending" (nothing after it), or NULL. */
static const char *
recorded(const struct vd_dep_ctx *ctx, const char *nkey, const char *what,
	 unsigned step)
{
	const cJSON *it;
	const char *last = NULL;
	cJSON_ArrayForEach(it, ctx->notify_log) {
		if (vd_streq(vd_dep_jstr(it, "notifier"), nkey) &&
		    vd_streq(vd_dep_jstr(it, "what"), what) &&
		    vd_dep_jnum(it, "step", -1) == (double)step)
			last = vd_dep_jstr(it, "state");
	}
	return last;
}

/* --- the outbox: notifications that failed, resent by the next run --- */

#define OUTBOX_MAX 100 /* entries kept; the oldest goes first */

static cJSON *
outbox(struct vd_dep_ctx *ctx)
{
	cJSON *ob = cJSON_GetObjectItemCaseSensitive(ctx->st.state, "outbox");
	if (!cJSON_IsArray(ob)) {
		ob = cJSON_CreateArray();
		vd_dep_jset(ctx->st.state, "outbox", ob);
	}
	return ob;
}

/* The outbox entry of (deployment, notifier[, what]), or NULL. */
static cJSON *
outbox_find(struct vd_dep_ctx *ctx, const char *id, const char *nkey,
	    const char *what)
{
	cJSON *it;
	cJSON_ArrayForEach(it, outbox(ctx)) {
		if (vd_streq(vd_dep_jstr(it, "deployment_id"), id) &&
		    vd_streq(vd_dep_jstr(it, "notifier"), nkey) &&
		    (what == NULL || vd_streq(vd_dep_jstr(it, "what"), what)))
			return it;
	}
	return NULL;
}

/* A history line about a notification of deployment id (not
 * necessarily the one in progress). */
static int
log_line(struct vd_dep_ctx *ctx, const char *id, cJSON *line)
{
	return vd_dep_record_for(ctx, id, "notify", line);
}

/*
 * Keeps event what of the current deployment for notifier nkey in the
 * outbox, from request number step on (saved with the state before the
 * history says "failed", so that a kill between the two loses nothing).
 */
static void
outbox_add(struct vd_dep_ctx *ctx, const char *nkey, const char *what,
	   const char *reason, int exit_code, unsigned step, const char *why)
{
	static const char *const keys[] = {"deployment_id",
					   "kind",
					   "environment",
					   "version",
					   "previous_version",
					   "started_at",
					   "actor",
					   "ci",
					   "notify_data",
					   "replaced_notify_data",
					   NULL};
	cJSON *ob = outbox(ctx), *e = cJSON_CreateObject(), *dep;
	char ts[40];
	size_t i;

	while (cJSON_GetArraySize(ob) >= OUTBOX_MAX) {
		cJSON *old = cJSON_DetachItemFromArray(ob, 0), *line;
		vd_dep_say(&ctx->rt,
			   "  notify: outbox full (%d): dropped %s of %s (%s)",
			   OUTBOX_MAX, vd_dep_jstr_or(old, "what", "?"),
			   vd_dep_jstr_or(old, "deployment_id", "?"),
			   vd_dep_jstr_or(old, "notifier", "?"));
		line = cJSON_CreateObject();
		vd_dep_jset_str(line, "notifier", vd_dep_jstr(old, "notifier"));
		vd_dep_jset_str(line, "what", vd_dep_jstr(old, "what"));
		vd_dep_jset_str(line, "state", "dropped");
		vd_dep_jset_str(line, "error", "the outbox is full");
		(void)log_line(ctx, vd_dep_jstr_or(old, "deployment_id", "?"),
			       line);
		cJSON_Delete(old);
	}
	dep = cJSON_CreateObject();
	for (i = 0; keys[i]; i++) {
		const cJSON *v =
			cJSON_GetObjectItemCaseSensitive(ctx->dep, keys[i]);
		if (v)
			vd_dep_jset(dep, keys[i], cJSON_Duplicate(v, 1));
	}
	vd_dep_utc(vd_now_unix(), ts, sizeof(ts));
	vd_dep_jset_str(e, "deployment_id",
			vd_dep_jstr(ctx->dep, "deployment_id"));
	vd_dep_jset_str(e, "notifier", nkey);
	vd_dep_jset_str(e, "what", what);
	vd_dep_jset_str(e, "reason", reason);
	vd_dep_jset_num(e, "exit_code", exit_code);
	vd_dep_jset_num(e, "step", step);
	vd_dep_jset_str(e, "queued_at", ts);
	vd_dep_jset_num(e, "attempts", why ? 1 : 0);
	vd_dep_jset_str(e, "error", why);
	vd_dep_jset(e, "dep", dep);
	cJSON_AddItemToArray(ob, e);
	(void)vd_dep_state_save(&ctx->st, ctx->err, sizeof(ctx->err));
}

static int
log_notify(struct vd_dep_ctx *ctx, const char *nkey, const char *what,
	   unsigned step, const char *state, cJSON *extra)
{
	cJSON *line = extra ? extra : cJSON_CreateObject();
	vd_dep_jset_str(line, "notifier", nkey);
	vd_dep_jset_str(line, "what", what);
	vd_dep_jset_num(line, "step", step);
	vd_dep_jset_str(line, "state", state);
	cJSON_AddItemToArray(ctx->notify_log, cJSON_Duplicate(line, 1));
	return vd_dep_record(ctx, "notify", line);
}

struct pause {
	ev_timer t;
	bool fired;
};

static void
pause_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct pause *p = (struct pause *)w;
	(void)loop;
	(void)revents;
	p->fired = true;
}

/* Waits secs on the caller's loop; a stop signal cuts it short. */
static void
pause_for(struct vd_dep_rt *rt, double secs)
{
	struct pause p;
	memset(&p, 0, sizeof(p));
	ev_timer_init(&p.t, pause_cb, secs, 0.);
	ev_timer_start(rt->loop, &p.t);
	(void)vd_dep_await(rt, &p.fired);
	ev_timer_stop(rt->loop, &p.t);
}

static bool
retryable(const struct vd_dep_http *h)
{
	if (!h->done)
		return false;
	if (h->resp.error)
		return true; /* refused, reset, timed out */
	return h->resp.status == 429 || h->resp.status >= 500;
}

/* The request's header lines ("Name: value") as names and values, plus
 * a JSON Content-Type for a body and no 100-continue round trip. The
 * arrays own copies; values are wiped when freed (they carry tokens). */
struct hdr_split {
	char **names;
	char **values;
	size_t n;
};

static void
hdr_split(const struct vd_notify_req *nr, struct hdr_split *hs)
{
	size_t i, cap = nr->nheaders + 2;
	hs->names = vd_xcalloc(cap, sizeof(char *));
	hs->values = vd_xcalloc(cap, sizeof(char *));
	hs->n = 0;
	for (i = 0; i < nr->nheaders; i++) {
		const char *c = strchr(nr->headers[i], ':');
		const char *v;
		if (c == NULL)
			continue;
		v = c + 1;
		while (*v == ' ' || *v == '\t')
			v++;
		hs->names[hs->n] = vd_xstrndup(nr->headers[i],
					       (size_t)(c - nr->headers[i]));
		hs->values[hs->n++] = vd_xstrdup(v);
	}
	if (nr->body) {
		hs->names[hs->n] = vd_xstrdup("Content-Type");
		hs->values[hs->n++] = vd_xstrdup("application/json");
	}
	hs->names[hs->n] = vd_xstrdup("Expect");
	hs->values[hs->n++] = vd_xstrdup("");
}

static void
hdr_split_free(struct hdr_split *hs)
{
	size_t i;
	for (i = 0; i < hs->n; i++) {
		free(hs->names[i]);
		vd_free_secret(hs->values[i]);
	}
	free(hs->names);
	free(hs->values);
}

/* Sends one request with retries; fills *status and returns 0 on a 2xx,
 * else -1 with why. answer_body gets the body of the 2xx answer. */
static int
deliver(struct vd_dep_ctx *ctx, const struct vd_notify_req *nr, long *status,
	char **answer_body, char **why)
{
	struct vd_dep_rt *rt = &ctx->rt;
	struct vd_fetch_opts o;
	struct hdr_split hs;
	struct vd_dep_http h;
	long tries = rt->stop_signal ? 0 : ctx->cfg->notify_retries;
	double wait = ctx->cfg->notify_interval;
	long i;
	int res = -1;

	*status = 0;
	*why = NULL;
	*answer_body = NULL;
	hdr_split(nr, &hs);
	memset(&o, 0, sizeof(o));
	o.url = nr->url;
	o.method = nr->method ? nr->method : "POST";
	o.hdr_names = hs.names;
	o.hdr_values = hs.values;
	o.nhdrs = hs.n;
	o.body = nr->body;
	o.body_len = nr->body ? strlen(nr->body) : 0;
	o.timeout = ctx->cfg->notify_timeout;
	o.max_body = (size_t)256 * 1024;
	for (i = 0; i <= tries; i++) {
		(void)vd_dep_fetch(rt, &o, &h);
		*status = h.done ? h.resp.status : 0;
		free(*why);
		*why = vd_dep_http_why(&h);
		if (h.done && h.resp.error == NULL && h.resp.status >= 200 &&
		    h.resp.status < 300) {
			*answer_body = vd_xstrdup(h.resp.body);
			res = 0;
		}
		if (res == 0 || !retryable(&h) || i == tries ||
		    rt->stop_signal) {
			vd_dep_http_clear(&h);
			break;
		}
		vd_dep_http_clear(&h);
		pause_for(rt, wait);
		wait *= 2;
	}
	hdr_split_free(&hs);
	if (res == 0) {
		free(*why);
		*why = NULL;
	}
	return res;
}

static void
fill_event(struct vd_dep_ctx *ctx, struct vd_notify_event *ev,
	   const struct vd_dep_notifier *n, const char *what,
	   const char *reason, int exit_code)
{
	memset(ev, 0, sizeof(*ev));
	ev->what = what;
	ev->dep = ctx->dep;
	ev->reason = reason;
	ev->exit_code = exit_code;
	ev->data = ndata(ctx->dep, "notify_data", n->key);
	ev->replaced_data = ndata(ctx->dep, "replaced_notify_data", n->key);
	ev->environment_url = ctx->cfg->environment_url;
	ev->log_url = ctx->cfg->log_url;
}

static void
keep_data(struct vd_dep_ctx *ctx, const char *nkey, const char *data)
{
	cJSON *nd = cJSON_GetObjectItemCaseSensitive(ctx->dep, "notify_data");
	if (!cJSON_IsObject(nd)) {
		nd = cJSON_CreateObject();
		vd_dep_jset(ctx->dep, "notify_data", nd);
	}
	vd_dep_jset_str(nd, nkey, data);
}

/* Adds rep to the report's notifications (or frees it). */
static void
report_add(struct vd_dep_ctx *ctx, cJSON *rep)
{
	cJSON *list =
		cJSON_GetObjectItemCaseSensitive(ctx->report, "notifications");
	if (list)
		cJSON_AddItemToArray(list, rep);
	else
		cJSON_Delete(rep);
}

/* An earlier event of this deployment waits in the outbox for notifier
 * n: this one is queued behind it, so that the order holds. */
static void
queue_behind(struct vd_dep_ctx *ctx, const struct vd_dep_notifier *n,
	     const char *what, const char *reason, int exit_code)
{
	cJSON *rep = cJSON_CreateObject();
	outbox_add(ctx, n->key, what, reason, exit_code, 0, NULL);
	(void)log_notify(ctx, n->key, what, 0, "queued", NULL);
	vd_dep_jset_str(rep, "deployment_id",
			vd_dep_jstr(ctx->dep, "deployment_id"));
	vd_dep_jset_str(rep, "notifier", n->key);
	vd_dep_jset_str(rep, "event", what);
	vd_dep_jset_str(rep, "state", "queued");
	vd_dep_jset(rep, "outbox", cJSON_CreateTrue());
	report_add(ctx, rep);
}

/* What one request of an event came to. */
enum sent { SENT_NEXT, SENT_DONE, SENT_FAILED };

/*
 * Request step of event what to notifier n: recorded "sending", sent
 * with retries, recorded "sent" (keeping what the notifier wants kept)
 * or "failed" (into the outbox). SENT_DONE: the event needs no request
 * step; SENT_FAILED: not sent (later steps wait in the outbox).
 */
static enum sent
send_step(struct vd_dep_ctx *ctx, const struct vd_dep_notifier *n,
	  const char *what, const char *reason, int exit_code, unsigned step)
{
	struct vd_notify_event ev;
	struct vd_notify_req nr;
	const char *was;
	char *why = NULL, *body = NULL, *data = NULL;
	long status = 0;
	cJSON *rep, *line;
	enum sent res = SENT_NEXT;

	fill_event(ctx, &ev, n, what, reason, exit_code);
	memset(&nr, 0, sizeof(nr));
	if (n->type->build(n->conf, &ev, step, &nr) <= 0) {
		vd_notify_req_clear(&nr);
		return SENT_DONE;
	}
	was = recorded(ctx, n->key, what, step);
	if (vd_streq(was, "sent") || vd_streq(was, "failed")) {
		vd_notify_req_clear(&nr);
		return SENT_NEXT;
	}
	if (log_notify(ctx, n->key, what, step, "sending", NULL) < 0) {
		/* not recorded: not sent (never twice) */
		vd_notify_req_clear(&nr);
		return SENT_FAILED;
	}
	rep = cJSON_CreateObject();
	vd_dep_jset_str(rep, "deployment_id",
			vd_dep_jstr(ctx->dep, "deployment_id"));
	vd_dep_jset_str(rep, "notifier", n->key);
	vd_dep_jset_str(rep, "event", what);
	vd_dep_jset_num(rep, "step", step);
	if (was)
		vd_dep_jset(rep, "resent_after_crash", cJSON_CreateTrue());
	line = cJSON_CreateObject();
	if (deliver(ctx, &nr, &status, &body, &why) == 0) {
		if (n->type->answer)
			data = n->type->answer(n->conf, &ev, step, status,
					       body);
		vd_dep_jset_num(line, "http_status", (double)status);
		if (data) {
			vd_dep_jset_str(line, "data", data);
			keep_data(ctx, n->key, data);
		}
		log_notify(ctx, n->key, what, step, "sent", line);
		vd_dep_jset_str(rep, "state", "sent");
		vd_dep_jset_num(rep, "http_status", (double)status);
	} else {
		outbox_add(ctx, n->key, what, reason, exit_code, step, why);
		vd_dep_jset_num(line, "http_status", (double)status);
		vd_dep_jset_str(line, "error", why);
		vd_dep_jset(line, "outbox", cJSON_CreateTrue());
		log_notify(ctx, n->key, what, step, "failed", line);
		vd_dep_jset_str(rep, "state", "failed");
		vd_dep_jset_str(rep, "error", why);
		vd_dep_jset(rep, "outbox", cJSON_CreateTrue());
		vd_dep_say(&ctx->rt,
			   "  notify %s (%s): failed: %s (kept in the outbox: "
			   "the next deploy or rollback sends it again)",
			   n->key, what, why);
		res = SENT_FAILED;
	}
	report_add(ctx, rep);
	free(why);
	free(body);
	free(data);
	vd_notify_req_clear(&nr);
	return res;
}

int
vd_notify_event_send(struct vd_dep_ctx *ctx, const char *what,
		     const char *reason, int exit_code)
{
	const char *id = vd_dep_jstr(ctx->dep, "deployment_id");
	size_t i;
	int failed = 0;

	for (i = 0; i < ctx->cfg->nnotifiers; i++) {
		const struct vd_dep_notifier *n = &ctx->cfg->notifiers[i];
		unsigned step;
		if (outbox_find(ctx, id, n->key, what))
			continue; /* kept by an earlier run: the outbox sends it
				   */
		if (outbox_find(ctx, id, n->key, NULL)) {
			queue_behind(ctx, n, what, reason, exit_code);
			continue;
		}
		for (step = 0; step < 16; step++) {
			enum sent r = send_step(ctx, n, what, reason, exit_code,
						step);
			if (r == SENT_DONE)
				break;
			if (r == SENT_FAILED) {
				failed++;
				break; /* the rest of this event waits */
			}
		}
	}
	return failed;
}

/* The data a notifier kept for deployment id (GitHub: its deployment)
 * goes to every later entry of it, and to the known-good version when
 * that is the deployment. */
static void
outbox_keep_data(struct vd_dep_ctx *ctx, const char *id, const char *nkey,
		 const char *data)
{
	cJSON *it, *kg, *nd;
	cJSON_ArrayForEach(it, outbox(ctx)) {
		cJSON *dep = cJSON_GetObjectItemCaseSensitive(it, "dep");
		if (!vd_streq(vd_dep_jstr(it, "deployment_id"), id) ||
		    !cJSON_IsObject(dep))
			continue;
		nd = cJSON_GetObjectItemCaseSensitive(dep, "notify_data");
		if (!cJSON_IsObject(nd)) {
			nd = cJSON_CreateObject();
			vd_dep_jset(dep, "notify_data", nd);
		}
		vd_dep_jset_str(nd, nkey, data);
	}
	kg = cJSON_GetObjectItemCaseSensitive(ctx->st.state, "known_good");
	if (cJSON_IsObject(kg) &&
	    vd_streq(vd_dep_jstr(kg, "deployment_id"), id)) {
		nd = cJSON_GetObjectItemCaseSensitive(kg, "notify_data");
		if (!cJSON_IsObject(nd)) {
			nd = cJSON_CreateObject();
			vd_dep_jset(kg, "notify_data", nd);
		}
		vd_dep_jset_str(nd, nkey, data);
	}
}

/* An outbox entry whose notifier is gone: dropped, and said so. */
static void
drop_entry(struct vd_dep_ctx *ctx, const cJSON *e, const char *id,
	   const char *nkey)
{
	cJSON *line = cJSON_CreateObject();
	vd_dep_say(&ctx->rt,
		   "  notify: dropped %s of %s from the outbox: notifier %s "
		   "is no longer configured",
		   vd_dep_jstr_or(e, "what", "?"), id ? id : "?",
		   nkey ? nkey : "?");
	vd_dep_jset_str(line, "notifier", nkey);
	vd_dep_jset_str(line, "what", vd_dep_jstr(e, "what"));
	vd_dep_jset_str(line, "state", "dropped");
	vd_dep_jset_str(line, "error", "notifier no longer configured");
	(void)log_line(ctx, id ? id : "?", line);
}

/*
 * Sends request step of outbox entry e (deployment id) to notifier n.
 * Returns SENT_NEXT when sent, SENT_DONE when the event needs no request
 * step, SENT_FAILED when it failed again (e keeps the step and the
 * error).
 */
static enum sent
flush_step(struct vd_dep_ctx *ctx, cJSON *e, const char *id,
	   const struct vd_dep_notifier *n, unsigned step)
{
	const cJSON *dep = cJSON_GetObjectItemCaseSensitive(e, "dep");
	const char *nkey = n->key;
	struct vd_notify_event ev;
	struct vd_notify_req nr;
	char *why = NULL, *body = NULL, *data = NULL;
	long status = 0;
	cJSON *line, *rep;
	enum sent res = SENT_NEXT;

	memset(&ev, 0, sizeof(ev));
	ev.what = vd_dep_jstr(e, "what");
	ev.dep = dep;
	ev.reason = vd_dep_jstr(e, "reason");
	ev.exit_code = (int)vd_dep_jnum(e, "exit_code", -1);
	ev.data = ndata(dep, "notify_data", nkey);
	ev.replaced_data = ndata(dep, "replaced_notify_data", nkey);
	ev.environment_url = ctx->cfg->environment_url;
	ev.log_url = ctx->cfg->log_url;
	memset(&nr, 0, sizeof(nr));
	if (ev.what == NULL || n->type->build(n->conf, &ev, step, &nr) <= 0) {
		vd_notify_req_clear(&nr);
		return SENT_DONE;
	}
	line = cJSON_CreateObject();
	vd_dep_jset_str(line, "notifier", nkey);
	vd_dep_jset_str(line, "what", ev.what);
	vd_dep_jset_num(line, "step", step);
	vd_dep_jset_str(line, "state", "sending");
	vd_dep_jset(line, "from_outbox", cJSON_CreateTrue());
	(void)log_line(ctx, id, line);
	rep = cJSON_CreateObject();
	vd_dep_jset_str(rep, "deployment_id", id);
	vd_dep_jset_str(rep, "notifier", nkey);
	vd_dep_jset_str(rep, "event", ev.what);
	vd_dep_jset_num(rep, "step", step);
	vd_dep_jset(rep, "from_outbox", cJSON_CreateTrue());
	line = cJSON_CreateObject();
	vd_dep_jset_str(line, "notifier", nkey);
	vd_dep_jset_str(line, "what", ev.what);
	vd_dep_jset_num(line, "step", step);
	vd_dep_jset(line, "from_outbox", cJSON_CreateTrue());
	if (deliver(ctx, &nr, &status, &body, &why) == 0) {
		if (n->type->answer)
			data = n->type->answer(n->conf, &ev, step, status,
					       body);
		if (data) {
			vd_dep_jset_str(line, "data", data);
			outbox_keep_data(ctx, id, nkey, data);
		}
		vd_dep_jset_str(line, "state", "sent");
		vd_dep_jset_num(line, "http_status", (double)status);
		vd_dep_jset_str(rep, "state", "sent");
		vd_dep_jset_num(rep, "http_status", (double)status);
		vd_dep_say(&ctx->rt,
			   "  notify %s (%s of %s): sent from the outbox", nkey,
			   ev.what, id);
	} else {
		vd_dep_jset_num(e, "step", step);
		vd_dep_jset_num(e, "attempts",
				vd_dep_jnum(e, "attempts", 0) + 1);
		vd_dep_jset_str(e, "error", why);
		vd_dep_jset_str(line, "state", "failed");
		vd_dep_jset_num(line, "http_status", (double)status);
		vd_dep_jset_str(line, "error", why);
		vd_dep_jset_str(rep, "state", "failed");
		vd_dep_jset_str(rep, "error", why);
		vd_dep_say(&ctx->rt,
			   "  notify %s (%s of %s): failed again: %s (kept in "
			   "the outbox)",
			   nkey, ev.what, id, why);
		res = SENT_FAILED;
	}
	(void)log_line(ctx, id, line);
	report_add(ctx, rep);
	free(why);
	free(body);
	free(data);
	vd_notify_req_clear(&nr);
	return res;
}

int
vd_notify_outbox_flush(struct vd_dep_ctx *ctx)
{
	cJSON *failed_keys = cJSON_CreateObject(), *e;
	int idx = 0, failed = 0;

	while ((e = cJSON_GetArrayItem(outbox(ctx), idx)) != NULL) {
		const char *nkey = vd_dep_jstr(e, "notifier");
		const char *id = vd_dep_jstr(e, "deployment_id");
		const struct vd_dep_notifier *n = NULL;
		bool done = true;
		unsigned step;
		size_t i;

		for (i = 0; nkey && i < ctx->cfg->nnotifiers; i++)
			if (strcmp(ctx->cfg->notifiers[i].key, nkey) == 0)
				n = &ctx->cfg->notifiers[i];
		if (n == NULL || id == NULL ||
		    !cJSON_IsObject(
			    cJSON_GetObjectItemCaseSensitive(e, "dep"))) {
			drop_entry(ctx, e, id, nkey);
			cJSON_DeleteItemFromArray(outbox(ctx), idx);
			(void)vd_dep_state_save(&ctx->st, ctx->err,
						sizeof(ctx->err));
			continue;
		}
		if (cJSON_GetObjectItemCaseSensitive(failed_keys, nkey)) {
			idx++; /* its endpoint failed just now: keep the order
				*/
			continue;
		}
		for (step = (unsigned)vd_dep_jnum(e, "step", 0); step < 16;
		     step++) {
			enum sent r = flush_step(ctx, e, id, n, step);
			if (r == SENT_DONE)
				break;
			if (r == SENT_FAILED) {
				cJSON_AddTrueToObject(failed_keys, nkey);
				done = false;
				failed++;
				break;
			}
		}
		if (done)
			cJSON_DeleteItemFromArray(outbox(ctx), idx);
		else
			idx++;
		(void)vd_dep_state_save(&ctx->st, ctx->err, sizeof(ctx->err));
	}
	cJSON_Delete(failed_keys);
	return failed;
}
