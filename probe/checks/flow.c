/*
 * flow.c - the "flow" check: ordered HTTP steps sharing captures and a
 * cookie jar, one verdict and one deadline. Each step is an http check's
 * request and expectations (http.c); this file adds only the order, the
 * captures, {{name}} and the jar. Knows nothing of suites, reports or
 * exporters.
 *
 * The jar is libcurl's cookie engine on a share handle made per attempt
 * (so a retry starts with no cookies): every hop of every step reads and
 * sets cookies with libcurl's domain, path, expiry and Secure rules (a
 * Secure cookie is kept and sent only over https or to localhost,
 * 127.0.0.1 and ::1). The share holds the steps' DNS entries too.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <curl/curl.h>

#include "../../lib/cfg.h"
#include "../../lib/util.h"
#include "../http_int.h"
#include "checks.h"

/* Steps of one flow at most, and captures of one step. */
#define MAX_STEPS    64
#define MAX_CAPTURES 32

enum cap_kind { CAP_JSON, CAP_HEADER, CAP_REGEX, CAP_COOKIE };

struct capture {
	char *name;
	size_t slot; /* index in flow_conf.names */
	enum cap_kind kind;
	char *src; /* dotted path, header name, cookie name, regex source */
	struct vd_regex *re; /* CAP_REGEX */
	bool secret;
};

struct step {
	char *name;
	struct vd_http_conf *hc;
	double timeout; /* seconds; 0: the flow's deadline only */
	bool has_tls;
	struct vd_tls_opts tls; /* has_tls: the step's own, else the flow's */
	bool json_body;		/* the body was JSON: fill it JSON-escaped */
	struct capture *caps;
	size_t ncaps;
};

struct flow_conf {
	struct step *steps;
	size_t nsteps;
	char **names; /* every capture name, one slot each */
	size_t nnames;
};

struct flow_run {
	struct vd_attempt *att;
	const struct flow_conf *fc;
	CURLSH *jar;
	CURL *peek; /* reads the jar (CURLINFO_COOKIELIST) */
	size_t cur; /* the step in flight */
	struct vd_http_exch *x;
	struct vd_http_req_opts o;
	char *url, *body, **hdr_values;
	size_t nhdr_values;
	char **vals; /* per slot: the captured value, or NULL */
	char **held; /* values held as secrets, released at the end */
	size_t nheld;
	struct vd_search *search; /* a regex capture in flight */
	size_t capi;		  /* ... its index in the step */
	struct vd_buf rx_body;	  /* the body the regex captures search */
	ev_timer step_timer;	  /* the step's own timeout */
	ev_timer next;		  /* zero delay: the next step */
	double step_start;	  /* ev_now() */
	long step_status;
	double sum[VD_PHASE_COUNT]; /* phases summed over the steps */
	char prefix[160];	    /* "step login: " */
	bool recorded;		    /* the failing step is in the result */
};

/* Empties b, wiping what it held (a body may hold a secret). */
static void
buf_wipe(struct vd_buf *b)
{
	if (b->data)
		explicit_bzero(b->data, b->len);
	vd_buf_reset(b);
}

static bool
name_char(char c)
{
	return isalnum((unsigned char)c) || c == '_' || c == '-' || c == '.';
}

int
vd_flow_tmpl_scan(const char *s, const char *const *names, size_t n, char *why,
		  size_t len)
{
	const char *p = s;
	while ((p = strstr(p, "{{")) != NULL) {
		const char *b = p + 2, *e = strstr(b, "}}");
		size_t l, i;
		if (e == NULL) {
			snprintf(why, len, "unterminated {{");
			return -1;
		}
		l = (size_t)(e - b);
		for (i = 0; i < l; i++)
			if (!name_char(b[i]))
				break;
		if (l == 0 || i < l) {
			snprintf(why, len,
				 "{{%.*s}}: a capture name is letters, digits, "
				 "_, - and .",
				 (int)(l > 60 ? 60 : l), b);
			return -1;
		}
		for (i = 0; i < n; i++)
			if (strlen(names[i]) == l &&
			    memcmp(names[i], b, l) == 0)
				break;
		if (i == n) {
			snprintf(why, len,
				 "{{%.*s}}: no earlier step captures \"%.*s\"",
				 (int)(l > 60 ? 60 : l), b,
				 (int)(l > 60 ? 60 : l), b);
			return -1;
		}
		p = e + 2;
	}
	return 0;
}

/* v as the inside of a JSON string. */
static void
json_escape_into(struct vd_buf *b, const char *v)
{
	for (; *v; v++) {
		unsigned char c = (unsigned char)*v;
		if (c == '"' || c == '\\')
			vd_buf_printf(b, "\\%c", c);
		else if (c < 0x20)
			vd_buf_printf(b, "\\u%04x", c);
		else
			vd_buf_append(b, v, 1);
	}
}

char *
vd_flow_tmpl_fill(const char *s, const char *const *names,
		  const char *const *vals, size_t n, bool json)
{
	struct vd_buf b;
	const char *p = s, *q;

	vd_buf_init(&b, 0);
	while ((q = strstr(p, "{{")) != NULL) {
		const char *e = strstr(q + 2, "}}");
		size_t l, i;
		if (e == NULL)
			break;
		l = (size_t)(e - q - 2);
		for (i = 0; i < n; i++)
			if (strlen(names[i]) == l &&
			    memcmp(names[i], q + 2, l) == 0)
				break;
		vd_buf_append(&b, p, (size_t)(q - p));
		if (i == n) {
			vd_buf_append(&b, q, (size_t)(e + 2 - q));
		} else if (vals[i]) {
			if (json)
				json_escape_into(&b, vals[i]);
			else
				vd_buf_puts(&b, vals[i]);
		}
		p = e + 2;
	}
	vd_buf_puts(&b, p);
	return vd_buf_steal(&b);
}

char *
vd_flow_capture_json(const char *body, size_t len, const char *path)
{
	cJSON *root = cJSON_ParseWithLength(body, len);
	const cJSON *v;
	char *out = NULL;

	if (root == NULL)
		return NULL;
	v = vd_json_at(root, path);
	if (v && cJSON_IsString(v))
		out = vd_xstrdup(v->valuestring);
	else if (v) {
		out = cJSON_PrintUnformatted(v);
		if (out == NULL)
			abort();
	}
	cJSON_Delete(root);
	return out;
}

/* True when host is domain or ends in "." domain (case-insensitive). */
static bool
domain_match(const char *host, const char *domain)
{
	size_t h = strlen(host), d;
	if (*domain == '.')
		domain++;
	d = strlen(domain);
	if (d == 0 || d > h)
		return false;
	if (strcasecmp(host + h - d, domain) != 0)
		return false;
	return h == d || host[h - d - 1] == '.';
}

char *
vd_flow_cookie_pick(const struct curl_slist *cookies, const char *name,
		    const char *host)
{
	const struct curl_slist *l;
	char *any = NULL, *match = NULL;

	/* domain \t tailmatch \t path \t secure \t expires \t name \t value */
	for (l = cookies; l; l = l->next) {
		const char *f[7], *p = l->data;
		size_t i, nl;
		for (i = 0; i < 7 && p; i++) {
			f[i] = p;
			p = i < 6 ? strchr(p, '\t') : NULL;
			if (p)
				p++;
		}
		if (i < 7)
			continue;
		nl = (size_t)(f[6] - f[5]) - 1;
		if (nl != strlen(name) || memcmp(f[5], name, nl) != 0)
			continue;
		{
			const char *dom = f[0];
			char *d;
			if (strncmp(dom, "#HttpOnly_", 10) == 0)
				dom += 10;
			d = vd_xstrndup(dom, (size_t)(f[1] - dom) - 1);
			if (host && domain_match(host, d) && match == NULL)
				match = vd_xstrdup(f[6]);
			else if (any == NULL)
				any = vd_xstrdup(f[6]);
			free(d);
		}
	}
	if (match) {
		vd_free_secret(any);
		return match;
	}
	return any;
}

bool
vd_flow_secret_name(const char *s)
{
	static const char *const words[] = {"token",  "session", "password",
					    "secret", "key",	 "auth",
					    "cookie", "csrf",	 "xsrf"};
	size_t i;
	if (s == NULL)
		return false;
	for (i = 0; i < sizeof(words) / sizeof(words[0]); i++)
		if (strcasestr(s, words[i]))
			return true;
	return false;
}

/* --- configuration ------------------------------------------------- */

static void
step_release(struct step *st)
{
	size_t i;
	free(st->name);
	vd_http_conf_free(st->hc);
	if (st->has_tls)
		vd_tls_opts_free(&st->tls);
	for (i = 0; i < st->ncaps; i++) {
		free(st->caps[i].name);
		free(st->caps[i].src);
		vd_regex_free(st->caps[i].re);
	}
	free(st->caps);
}

static void
flow_free(void *p)
{
	struct flow_conf *fc = p;
	size_t i;
	if (fc == NULL)
		return;
	for (i = 0; i < fc->nsteps; i++)
		step_release(&fc->steps[i]);
	free(fc->steps);
	vd_strlist_free(fc->names, fc->nnames);
	free(fc);
}

/* Every string of v (a body), with its place after key. */
static int
scan_json(struct vd_cfg *c, const char *key, const cJSON *v,
	  const struct flow_conf *fc)
{
	char why[200];
	const cJSON *el;
	size_t i = 0;

	if (cJSON_IsString(v)) {
		if (vd_flow_tmpl_scan(v->valuestring,
				      (const char *const *)fc->names,
				      fc->nnames, why, sizeof(why)) < 0)
			return vd_cfg_error(c, key, "%s", why);
		return 0;
	}
	cJSON_ArrayForEach(el, v) {
		char sub[400];
		if (el->string)
			snprintf(sub, sizeof(sub), "%s.%s", key, el->string);
		else
			snprintf(sub, sizeof(sub), "%s[%zu]", key, i);
		i++;
		if (scan_json(c, sub, el, fc) < 0)
			return VD_ERR_CONFIG;
	}
	return 0;
}

/* {{name}} in the step's url, headers and body must name a capture of
 * an earlier step (fc->names holds those so far). */
static int
scan_step(struct vd_cfg *c, const struct flow_conf *fc)
{
	static const char *const keys[] = {"url", "headers", "body"};
	size_t i;
	for (i = 0; i < 3; i++) {
		const cJSON *v =
			cJSON_GetObjectItemCaseSensitive(c->obj, keys[i]);
		if (v && scan_json(c, keys[i], v, fc) < 0)
			return VD_ERR_CONFIG;
	}
	return 0;
}

static size_t
slot_of(struct flow_conf *fc, const char *name)
{
	size_t i;
	for (i = 0; i < fc->nnames; i++)
		if (strcmp(fc->names[i], name) == 0)
			return i;
	fc->names = vd_xreallocarray(fc->names, fc->nnames + 1, sizeof(char *));
	fc->names[fc->nnames] = vd_xstrdup(name);
	return fc->nnames++;
}

static int
parse_capture(struct vd_cfg *sc, struct step *st, struct flow_conf *fc)
{
	static const char *const kinds[] = {"json", "header", "regex",
					    "cookie"};
	const cJSON *it = vd_cfg_take(sc, "capture"), *el;
	size_t i;
	int r = 0;

	if (it == NULL)
		return 0;
	if (!cJSON_IsObject(it))
		return vd_cfg_error(sc, "capture",
				    "expected an object of names to "
				    "{\"json\"|\"header\"|\"regex\"|"
				    "\"cookie\": ...}");
	if (cJSON_GetArraySize(it) > MAX_CAPTURES)
		return vd_cfg_error(sc, "capture", "more than %d captures",
				    MAX_CAPTURES);
	st->caps = vd_xcalloc((size_t)cJSON_GetArraySize(it) + 1,
			      sizeof(*st->caps));
	cJSON_ArrayForEach(el, it) {
		struct capture *cp = &st->caps[st->ncaps];
		struct vd_cfg cc;
		char key[1024];
		bool secret = false;
		int k, found = -1;

		snprintf(key, sizeof(key), "capture.%s", el->string);
		for (i = 0; el->string[i]; i++)
			if (!name_char(el->string[i]))
				break;
		if (i == 0 || el->string[i]) {
			r = vd_cfg_error(sc, key,
					 "a capture name is letters, digits, "
					 "_, - and .");
			break;
		}
		if (!cJSON_IsObject(el)) {
			r = vd_cfg_error(sc, key,
					 "expected {\"json\"|\"header\"|"
					 "\"regex\"|\"cookie\": ...}");
			break;
		}
		cp->name = vd_xstrdup(el->string);
		st->ncaps++;
		snprintf(key, sizeof(key), "%s.capture.%s", sc->path,
			 el->string);
		vd_cfg_init(&cc, el, sc->file, key, sc->err);
		for (k = 0; k < 4 && !r; k++) {
			char *v = NULL;
			r = vd_cfg_str(&cc, kinds[k], false, &v);
			if (!r && v && found >= 0)
				r = vd_cfg_error(&cc, kinds[k],
						 "one of json, header, regex "
						 "or cookie, not two");
			if (!r && v) {
				found = k;
				cp->src = v;
				v = NULL;
			}
			free(v);
		}
		if (!r)
			r = vd_cfg_bool(&cc, "secret", &secret);
		if (!r && found < 0)
			r = vd_cfg_error(&cc, NULL,
					 "expected one of json, header, regex "
					 "or cookie");
		if (!r && *cp->src == '\0')
			r = vd_cfg_error(&cc, kinds[found], "is empty");
		if (!r) {
			cp->kind = (enum cap_kind)found;
			if (cp->kind == CAP_JSON && !vd_json_path_ok(cp->src))
				r = vd_cfg_error(&cc, "json",
						 "invalid dotted path");
			else if (cp->kind == CAP_JSON &&
				 vd_json_path_wild(cp->src))
				r = vd_cfg_error(&cc, "json",
						 "a capture takes one value: "
						 "no \"*\"");
		}
		if (!r && cp->kind == CAP_REGEX) {
			char msg[200];
			cp->re = vd_regex_new(cp->src, 0, msg, sizeof(msg));
			if (cp->re == NULL)
				r = vd_cfg_error(&cc, "regex",
						 "invalid regular expression: "
						 "%s",
						 msg);
		}
		if (!r)
			r = vd_cfg_finish(&cc);
		vd_cfg_release(&cc);
		if (r)
			break;
		cp->secret =
			secret || cp->kind == CAP_COOKIE ||
			vd_flow_secret_name(cp->name) ||
			(cp->kind != CAP_REGEX && vd_flow_secret_name(cp->src));
	}
	/* slots after the step is read: a step cannot use its own */
	for (i = 0; !r && i < st->ncaps; i++)
		st->caps[i].slot = slot_of(fc, st->caps[i].name);
	return r;
}

static int
parse_step(struct vd_cfg *c, size_t idx, const cJSON *item,
	   struct flow_conf *fc)
{
	struct step *st = &fc->steps[idx];
	struct vd_cfg sc;
	char path[600];
	const cJSON *body;
	size_t i;
	int r;

	snprintf(path, sizeof(path), "%s%ssteps[%zu]", c->path,
		 *c->path ? "." : "", idx);
	if (!cJSON_IsObject(item))
		return vd_cfg_error_at(c->err, c->file, path,
				       "expected an object (a step)");
	vd_cfg_init(&sc, item, c->file, path, c->err);
	r = vd_cfg_str(&sc, "name", false, &st->name);
	if (!r && st->name == NULL)
		st->name = vd_xasprintf("%zu", idx + 1);
	for (i = 0; !r && i < idx; i++)
		if (strcmp(fc->steps[i].name, st->name) == 0)
			r = vd_cfg_error(&sc, "name",
					 "\"%s\" names steps[%zu] already",
					 st->name, i);
	if (!r && *st->name == '\0')
		r = vd_cfg_error(&sc, "name", "is empty");
	if (!r)
		r = scan_step(&sc, fc);
	body = cJSON_GetObjectItemCaseSensitive(item, "body");
	st->json_body = body && (cJSON_IsObject(body) || cJSON_IsArray(body));
	if (!r)
		r = vd_http_conf_parse(&sc, true, &st->hc);
	if (!r)
		r = vd_cfg_duration(&sc, "timeout", &st->timeout);
	if (!r && vd_cfg_has(&sc, "tls")) {
		st->tls.verify = true;
		st->has_tls = true;
		r = vd_cfg_tls(&sc, &st->tls);
	}
	if (!r)
		r = parse_capture(&sc, st, fc);
	if (!r)
		r = vd_cfg_finish(&sc);
	vd_cfg_release(&sc);
	return r;
}

static int
flow_parse(struct vd_check *chk, struct vd_cfg *c)
{
	struct flow_conf *fc = vd_xcalloc(1, sizeof(*fc));
	const cJSON *steps = vd_cfg_take(c, "steps"), *el;
	size_t n, i = 0;
	int r = 0;

	chk->conf = fc;
	if (steps == NULL)
		return vd_cfg_error(c, "steps", "is required");
	if (!cJSON_IsArray(steps) || cJSON_GetArraySize(steps) == 0)
		return vd_cfg_error(c, "steps",
				    "expected a list of steps (objects)");
	n = (size_t)cJSON_GetArraySize(steps);
	if (n > MAX_STEPS)
		return vd_cfg_error(c, "steps", "more than %d steps",
				    MAX_STEPS);
	fc->steps = vd_xcalloc(n, sizeof(*fc->steps));
	cJSON_ArrayForEach(el, steps) {
		fc->nsteps = i + 1;
		r = parse_step(c, i, el, fc);
		if (r)
			return r;
		i++;
	}
	free(chk->target);
	chk->target = vd_mask_url(vd_http_conf_url(fc->steps[0].hc));
	return 0;
}

/* --- running ------------------------------------------------------- */

static void step_begin(struct flow_run *fr);

static void
hold(struct flow_run *fr, const char *v)
{
	size_t i;
	for (i = 0; i < fr->nheld; i++)
		if (strcmp(fr->held[i], v) == 0)
			return;
	vd_secret_hold(v);
	fr->held = vd_xreallocarray(fr->held, fr->nheld + 1, sizeof(char *));
	fr->held[fr->nheld++] = vd_xstrdup(v);
}

/*
 * A cookie of the jar (a Netscape line) is masked when its name looks
 * secret or its value looks like an opaque id (16 bytes or more): a
 * "lang=en" or "consent=true" cookie must not mask those words in every
 * reason while the flow runs.
 */
static void
hold_cookie(struct flow_run *fr, const char *line)
{
	const char *v = strrchr(line, '\t'), *n;
	char *name;
	if (v == NULL || v == line)
		return;
	for (n = v - 1; n > line && n[-1] != '\t'; n--)
		;
	name = vd_xstrndup(n, (size_t)(v - n));
	if (vd_flow_secret_name(name) || strlen(v + 1) >= 16)
		hold(fr, v + 1);
	free(name);
}

static struct curl_slist *
jar_list(struct flow_run *fr)
{
	struct curl_slist *l = NULL;
	if (fr->peek == NULL) {
		fr->peek = curl_easy_init();
		if (fr->peek == NULL)
			abort();
		curl_easy_setopt(fr->peek, CURLOPT_SHARE, fr->jar);
		curl_easy_setopt(fr->peek, CURLOPT_COOKIEFILE, "");
	}
	curl_easy_getinfo(fr->peek, CURLINFO_COOKIELIST, &l);
	return l;
}

/* The host of the step's URL, for picking a cookie. */
static char *
url_host(const char *url)
{
	CURLU *u = curl_url();
	char *h = NULL, *ret = NULL;
	if (u == NULL)
		abort();
	if (curl_url_set(u, CURLUPART_URL, url, 0) == CURLUE_OK &&
	    curl_url_get(u, CURLUPART_HOST, &h, 0) == CURLUE_OK)
		ret = vd_xstrdup(h);
	curl_free(h);
	curl_url_cleanup(u);
	return ret;
}

static void
set_val(struct flow_run *fr, const struct capture *cp, char *v)
{
	vd_free_secret(fr->vals[cp->slot]);
	fr->vals[cp->slot] = v;
	if (v && cp->secret)
		hold(fr, v);
}

/*
 * A response arrived: every cookie in the jar is masked from now on,
 * and the json, header and cookie captures are taken before anything is
 * judged, so a secret one is masked in the judging's reasons too.
 */
static void
step_answered(struct vd_http_exch *x, const struct vd_http_resp *resp,
	      void *udata)
{
	struct flow_run *fr = udata;
	const struct step *st = &fr->fc->steps[fr->cur];
	struct curl_slist *jar = jar_list(fr), *l;
	char *host = NULL;
	size_t i;

	(void)x;
	fr->step_status = resp->status;
	for (l = jar; l; l = l->next)
		hold_cookie(fr, l->data);
	for (i = 0; i < st->ncaps; i++) {
		const struct capture *cp = &st->caps[i];
		const char *h;
		switch (cp->kind) {
		case CAP_JSON:
			set_val(fr, cp,
				vd_flow_capture_json(resp->body.data,
						     resp->body.len, cp->src));
			break;
		case CAP_HEADER:
			h = vd_http_resp_header(resp, cp->src);
			set_val(fr, cp, h ? vd_xstrdup(h) : NULL);
			break;
		case CAP_COOKIE:
			if (host == NULL)
				host = url_host(fr->url);
			set_val(fr, cp,
				vd_flow_cookie_pick(jar, cp->src, host));
			break;
		case CAP_REGEX:
			set_val(fr, cp, NULL); /* after judging, off the loop */
			break;
		}
	}
	free(host);
	curl_slist_free_all(jar);
}

/* The step's phases go into the step's report and the flow's sums. */
static void
step_timings(struct flow_run *fr, double t[VD_PHASE_COUNT])
{
	struct vd_attempt *att = fr->att;
	int i;
	for (i = 0; i < VD_PHASE_COUNT; i++)
		t[i] = att->result->timings[i];
	ev_now_update(att->loop);
	t[VD_PHASE_TOTAL] = ev_now(att->loop) - fr->step_start;
	for (i = 0; i < VD_PHASE_TOTAL; i++)
		if (t[i] >= 0)
			fr->sum[i] += t[i];
}

static const char *const kind_names[] = {"json path", "header", "regex",
					 "cookie"};

/* Every capture of the step found something: on to the next step. */
static void
step_done(struct flow_run *fr)
{
	struct vd_attempt *att = fr->att;
	const struct step *st = &fr->fc->steps[fr->cur];
	double t[VD_PHASE_COUNT];
	char r[64];
	size_t i;

	for (i = 0; i < st->ncaps; i++) {
		const struct capture *cp = &st->caps[i];
		if (fr->vals[cp->slot] == NULL) {
			vd_attempt_finish(att, VD_STATUS_FAIL, VD_REASON_VALUE,
					  "capture %s: %s %s found nothing",
					  cp->name, kind_names[cp->kind],
					  cp->kind == CAP_REGEX ? "/.../"
								: cp->src);
			return;
		}
	}
	ev_timer_stop(att->loop, &fr->step_timer);
	step_timings(fr, t);
	snprintf(r, sizeof(r), "status %ld", fr->step_status);
	vd_result_step(att->result, st->name, VD_STATUS_PASS, fr->step_status,
		       t, r);
	fr->cur++;
	ev_timer_start(att->loop, &fr->next);
}

static void regex_captured(enum vd_match m, const char *limit, void *udata);

/* The next regex capture of the step from fr->capi on, or the step is
 * done. The body was copied: each search takes its own copy anyway. */
static void
next_regex(struct flow_run *fr)
{
	const struct step *st = &fr->fc->steps[fr->cur];
	while (fr->capi < st->ncaps && st->caps[fr->capi].kind != CAP_REGEX)
		fr->capi++;
	if (fr->capi == st->ncaps) {
		step_done(fr);
		return;
	}
	fr->search = vd_search_capture_start(fr->att, st->caps[fr->capi].re,
					     fr->rx_body.data, fr->rx_body.len,
					     regex_captured, fr);
}

static void
regex_captured(enum vd_match m, const char *limit, void *udata)
{
	struct flow_run *fr = udata;
	const struct step *st = &fr->fc->steps[fr->cur];
	const struct capture *cp = &st->caps[fr->capi];
	const char *got = vd_search_captured(fr->search);

	set_val(fr, cp, m == VD_MATCH_YES && got ? vd_xstrdup(got) : NULL);
	/* from its own callback, as search.c allows */
	vd_search_free(fr->search);
	fr->search = NULL;
	if (m == VD_MATCH_LIMIT) {
		vd_attempt_finish(fr->att, VD_STATUS_ERROR, VD_REASON_LIMIT,
				  "capture %s: the search hit the %s", cp->name,
				  limit);
		return;
	}
	if (fr->vals[cp->slot] == NULL) {
		vd_attempt_finish(fr->att, VD_STATUS_FAIL, VD_REASON_VALUE,
				  "capture %s: regex /%.80s/ found nothing",
				  cp->name, cp->src);
		return;
	}
	fr->capi++;
	next_regex(fr);
}

static void
step_passed(struct vd_http_exch *x, const struct vd_http_resp *resp,
	    void *udata)
{
	struct flow_run *fr = udata;
	const struct step *st = &fr->fc->steps[fr->cur];
	size_t i;

	(void)x;
	fr->capi = 0;
	for (i = 0; i < st->ncaps; i++)
		if (st->caps[i].kind == CAP_REGEX)
			break;
	if (i < st->ncaps) {
		buf_wipe(&fr->rx_body);
		vd_buf_append(&fr->rx_body, resp->body.data, resp->body.len);
	}
	next_regex(fr);
}

static void
free_step_strings(struct flow_run *fr)
{
	size_t i;
	vd_free_secret(fr->url);
	vd_free_secret(fr->body);
	for (i = 0; i < fr->nhdr_values; i++)
		vd_free_secret(fr->hdr_values[i]);
	free(fr->hdr_values);
	fr->url = fr->body = NULL;
	fr->hdr_values = NULL;
	fr->nhdr_values = 0;
}

static void
next_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct flow_run *fr = w->data;
	(void)loop;
	(void)revents;
	if (fr->att->finished)
		return;
	step_begin(fr);
}

static void
step_timeout_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct flow_run *fr = w->data;
	const struct step *st = &fr->fc->steps[fr->cur];
	char d[32], detail[200] = "";
	(void)loop;
	(void)revents;
	vd_format_duration(st->timeout, d, sizeof(d));
	vd_http_exch_progress(fr->x, detail, sizeof(detail));
	vd_attempt_finish(fr->att, VD_STATUS_ERROR, VD_REASON_TIMEOUT,
			  "timeout after %s%s%s%s", d, *detail ? " (" : "",
			  detail, *detail ? ")" : "");
}

static void
flow_finish_pass(struct flow_run *fr)
{
	struct vd_attempt *att = fr->att;
	int i;

	att->reason_prefix = NULL;
	for (i = 0; i < VD_PHASE_TOTAL; i++)
		att->result->timings[i] = fr->sum[i] > 0 ? fr->sum[i] : -1;
	att->result->timings[VD_PHASE_TOTAL] = ev_now(att->loop) - att->start;
	vd_result_fact_num(att->result, "flow_steps", (double)fr->cur);
	vd_attempt_finish(att, VD_STATUS_PASS, VD_REASON_NONE,
			  "%zu steps passed, last status %ld", fr->cur,
			  fr->step_status);
}

static void
step_begin(struct flow_run *fr)
{
	struct vd_attempt *att = fr->att;
	const struct flow_conf *fc = fr->fc;
	const struct step *st;
	const char *const *names = (const char *const *)fc->names;
	const char *const *vals = (const char *const *)fr->vals;
	size_t i;

	vd_search_free(fr->search);
	fr->search = NULL;
	vd_http_exch_free(fr->x);
	fr->x = NULL;
	free_step_strings(fr);
	if (fr->cur == fc->nsteps) {
		flow_finish_pass(fr);
		return;
	}
	st = &fc->steps[fr->cur];
	snprintf(fr->prefix, sizeof(fr->prefix), "step %s: ", st->name);
	att->reason_prefix = fr->prefix;
	for (i = 0; i < VD_PHASE_COUNT; i++)
		att->result->timings[i] = -1;
	fr->step_status = 0;
	ev_now_update(att->loop);
	fr->step_start = ev_now(att->loop);
	vd_http_conf_opts(st->hc, att->check, &fr->o);
	if (st->has_tls)
		fr->o.tls = &st->tls;
	fr->o.cookies = fr->jar;
	fr->url = vd_flow_tmpl_fill(fr->o.url, names, vals, fc->nnames, false);
	fr->o.url = fr->url;
	if (fr->o.body) {
		fr->body = vd_flow_tmpl_fill(fr->o.body, names, vals,
					     fc->nnames, st->json_body);
		fr->o.body = fr->body;
		fr->o.body_len = strlen(fr->body);
	}
	fr->nhdr_values = fr->o.nhdrs;
	fr->hdr_values = vd_xcalloc(fr->o.nhdrs + 1, sizeof(char *));
	for (i = 0; i < fr->o.nhdrs; i++) {
		fr->hdr_values[i] = vd_flow_tmpl_fill(
			fr->o.hdr_values[i], names, vals, fc->nnames, false);
		if (strpbrk(fr->hdr_values[i], "\r\n")) {
			vd_attempt_finish(att, VD_STATUS_FAIL, VD_REASON_VALUE,
					  "header %s: a capture holds a line "
					  "break",
					  fr->o.hdr_names[i]);
			return;
		}
	}
	fr->o.hdr_values = fr->hdr_values;
	if (st->timeout > 0) {
		ev_timer_set(&fr->step_timer, st->timeout, 0.);
		ev_timer_start(att->loop, &fr->step_timer);
	}
	fr->x = vd_http_exch_start(att, st->hc, &fr->o, step_answered,
				   step_passed, fr);
}

static void
flow_start(struct vd_attempt *att)
{
	const struct flow_conf *fc = att->check->conf;
	struct flow_run *fr = vd_xcalloc(1, sizeof(*fr));

	fr->att = att;
	fr->fc = fc;
	fr->vals = vd_xcalloc(fc->nnames + 1, sizeof(char *));
	vd_buf_init(&fr->rx_body, 0);
	fr->jar = curl_share_init();
	if (fr->jar == NULL)
		abort();
	curl_share_setopt(fr->jar, CURLSHOPT_SHARE, CURL_LOCK_DATA_COOKIE);
	curl_share_setopt(fr->jar, CURLSHOPT_SHARE, CURL_LOCK_DATA_DNS);
	ev_timer_init(&fr->step_timer, step_timeout_cb, 0., 0.);
	fr->step_timer.data = fr;
	ev_timer_init(&fr->next, next_cb, 0., 0.);
	fr->next.data = fr;
	att->data = fr;
	step_begin(fr);
}

/* The step that ended the flow goes into the result, with the reason it
 * finished with (its "step NAME: " prefix taken off). */
static void
record_failure(struct flow_run *fr)
{
	struct vd_attempt *att = fr->att;
	struct vd_result *res = att->result;
	const char *why = res->reason ? res->reason : "";
	double t[VD_PHASE_COUNT];
	char *pre;
	int i;

	if (res->status == VD_STATUS_PASS || fr->cur >= fr->fc->nsteps)
		return;
	pre = vd_mask(fr->prefix);
	if (strncmp(why, pre, strlen(pre)) == 0)
		why += strlen(pre);
	free(pre);
	step_timings(fr, t);
	vd_result_step(res, fr->fc->steps[fr->cur].name, res->status,
		       fr->step_status, t, why);
	vd_result_fact_str(res, "flow_step", fr->fc->steps[fr->cur].name);
	vd_result_fact_num(res, "flow_steps", (double)fr->cur + 1);
	for (i = 0; i < VD_PHASE_TOTAL; i++)
		res->timings[i] = fr->sum[i] > 0 ? fr->sum[i] : -1;
	res->timings[VD_PHASE_TOTAL] = ev_now(att->loop) - att->start;
}

static void
flow_cancel(struct vd_attempt *att)
{
	struct flow_run *fr = att->data;
	size_t i;

	if (fr == NULL)
		return;
	record_failure(fr);
	att->reason_prefix = NULL;
	ev_timer_stop(att->loop, &fr->step_timer);
	ev_timer_stop(att->loop, &fr->next);
	vd_search_free(fr->search);
	vd_http_exch_free(fr->x);
	free_step_strings(fr);
	buf_wipe(&fr->rx_body);
	vd_buf_free(&fr->rx_body);
	if (fr->peek)
		curl_easy_cleanup(fr->peek);
	curl_share_cleanup(fr->jar);
	for (i = 0; i < fr->fc->nnames; i++)
		vd_free_secret(fr->vals[i]);
	free(fr->vals);
	for (i = 0; i < fr->nheld; i++) {
		vd_secret_release(fr->held[i]);
		vd_free_secret(fr->held[i]);
	}
	free(fr->held);
	free(fr);
}

static void
flow_timeout_detail(struct vd_attempt *att, char *buf, size_t len)
{
	struct flow_run *fr = att->data;
	if (fr)
		vd_http_exch_progress(fr->x, buf, len);
}

static const struct vd_check_key flow_keys[] = {
	{"steps", VD_KEY_REQUIRED},
	{"max_body", 0},
	{NULL, 0},
};

const struct vd_check_type vd_check_flow = {
	.name = "flow",
	.parse = flow_parse,
	.start = flow_start,
	.cancel = flow_cancel,
	.free = flow_free,
	.timeout_detail = flow_timeout_detail,
	.flags = VD_TYPE_TLS,
	.target = VD_TARGET_NONE,
	.keys = flow_keys,
};
