/*
 * http.c - the "http" check: one request, then expectations on status,
 * headers, body, JSON values and time. Speaks through http_req.c; knows
 * nothing of suites, reports or exporters.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "../../lib/cfg.h"
#include "../http_int.h"
#include "../../lib/util.h"
#include "checks.h"

struct hdr_expect {
	char *name;
	struct vd_text_match m;
	struct vd_expect *e; /* operators beyond equals/contains/regex: the
			      * value judged as a JSON string; m unused */
};

struct json_expect {
	char *path; /* dotted: "checks.db", "items.0.id", "items.*.id" */
	struct vd_expect *e;
};

struct vd_http_conf {
	char *url;
	char *method;
	char **hdr_names, **hdr_values;
	size_t nhdrs;
	char *body;
	size_t body_len;
	bool follow_redirects;
	long max_redirects;
	bool allow_link_local;
	char *userpwd; /* basic auth, from the environment */
	/* expectations */
	char **status; /* "200", "2xx", ...; NULL: 2xx */
	size_t nstatus;
	char **body_contains;
	size_t nbody_contains;
	struct vd_regex *body_regex; /* NULL: none */
	struct hdr_expect *hdrs;
	size_t nhdr_expect;
	struct json_expect *json;
	size_t njson;
	double max_time; /* seconds; 0: none */
};

/* One exchange in flight: a request, then its judging. */
struct vd_http_exch {
	struct vd_attempt *att;
	const struct vd_http_conf *hc;
	struct vd_http_req *req;
	struct vd_search *search;  /* body_regex, off the loop */
	double start;		   /* ev_now() when the request began */
	vd_http_exch_cb *answered; /* may be NULL */
	vd_http_exch_cb *cb;
	void *udata;
};

void
vd_http_conf_free(struct vd_http_conf *c)
{
	size_t i;
	if (c == NULL)
		return;
	free(c->url);
	free(c->method);
	vd_strmap_free(c->hdr_names, c->hdr_values, c->nhdrs);
	free(c->body);
	vd_free_secret(c->userpwd);
	vd_strlist_free(c->status, c->nstatus);
	vd_strlist_free(c->body_contains, c->nbody_contains);
	vd_regex_free(c->body_regex);
	for (i = 0; i < c->nhdr_expect; i++) {
		free(c->hdrs[i].name);
		vd_text_match_release(&c->hdrs[i].m);
		vd_expect_free(c->hdrs[i].e);
	}
	free(c->hdrs);
	for (i = 0; i < c->njson; i++) {
		free(c->json[i].path);
		vd_expect_free(c->json[i].e);
	}
	free(c->json);
	free(c);
}

static void
http_free(void *p)
{
	vd_http_conf_free(p);
}

/* "200", "2xx" or 100..599 */
static bool
status_spec_ok(const char *s)
{
	if (strlen(s) != 3 || s[0] < '1' || s[0] > '5')
		return false;
	if (strcasecmp(s + 1, "xx") == 0)
		return true;
	return s[1] >= '0' && s[1] <= '9' && s[2] >= '0' && s[2] <= '9';
}

static int
parse_status(struct vd_cfg *c, struct vd_http_conf *hc)
{
	const cJSON *it = vd_cfg_take(c, "status"), *el;
	size_t n, i = 0;

	if (it == NULL)
		return 0;
	if (cJSON_IsNumber(it) || cJSON_IsString(it)) {
		n = 1;
	} else if (cJSON_IsArray(it) && cJSON_GetArraySize(it) > 0) {
		n = (size_t)cJSON_GetArraySize(it);
	} else {
		return vd_cfg_error(
			c, "status",
			"expected an integer, a class like \"2xx\", "
			"or a list of them");
	}
	hc->status = vd_xcalloc(n, sizeof(char *));
	hc->nstatus = n;
	for (el = cJSON_IsArray(it) ? it->child : it; el && i < n;
	     el = el->next, i++) {
		char buf[32];
		if (cJSON_IsNumber(el) &&
		    el->valuedouble == floor(el->valuedouble) &&
		    el->valuedouble >= 100 && el->valuedouble <= 599)
			snprintf(buf, sizeof(buf), "%d", (int)el->valuedouble);
		else if (cJSON_IsString(el) && status_spec_ok(el->valuestring))
			snprintf(buf, sizeof(buf), "%s", el->valuestring);
		else
			return vd_cfg_error(c, "status",
					    "expected an integer (100-599), a "
					    "class like \"2xx\", or a list of "
					    "them");
		hc->status[i] = vd_xstrdup(buf);
		if (hc->status[i][1] == 'X' || hc->status[i][1] == 'x') {
			hc->status[i][1] = 'x';
			hc->status[i][2] = 'x';
		}
	}
	return 0;
}

static int
compile_re(struct vd_cfg *c, const char *key, const char *src,
	   struct vd_regex **re)
{
	char msg[200];
	*re = vd_regex_new(src, 0, msg, sizeof(msg));
	if (*re == NULL)
		return vd_cfg_error(c, key, "invalid regular expression: %s",
				    msg);
	return 0;
}

/* False for an operator object that needs more than equals, contains or
 * regex (not, one_of, length, lt, ...): judged by the operator language. */
static bool
text_ops_only(const cJSON *v)
{
	const cJSON *el;
	if (!vd_expect_is_ops(v))
		return true;
	cJSON_ArrayForEach(el, v) {
		if (strcmp(el->string, "equals") != 0 &&
		    strcmp(el->string, "contains") != 0 &&
		    strcmp(el->string, "regex") != 0)
			return false;
	}
	return true;
}

static int
parse_expect_headers(struct vd_cfg *c, struct vd_http_conf *hc)
{
	const cJSON *it = vd_cfg_take(c, "headers"), *el;
	size_t i = 0;

	if (it == NULL)
		return 0;
	if (!cJSON_IsObject(it))
		return vd_cfg_error(c, "headers", "expected an object");
	hc->nhdr_expect = (size_t)cJSON_GetArraySize(it);
	hc->hdrs = vd_xcalloc(hc->nhdr_expect ? hc->nhdr_expect : 1,
			      sizeof(*hc->hdrs));
	cJSON_ArrayForEach(el, it) {
		struct hdr_expect *h = &hc->hdrs[i++];
		char key[300];
		snprintf(key, sizeof(key), "headers.%s", el->string);
		h->name = vd_xstrdup(el->string);
		if (text_ops_only(el) == false) {
			h->m.rule = VD_TEXT_PRESENT;
			if (vd_expect_parse(c, key, el, &h->e) < 0)
				return VD_ERR_CONFIG;
			continue;
		}
		if (vd_text_match_parse(c, key, el,
					VD_TEXT_ALLOW_BOOL |
						VD_TEXT_ALLOW_STRING,
					&h->m) < 0)
			return VD_ERR_CONFIG;
	}
	return 0;
}

static int
parse_expect_json(struct vd_cfg *c, struct vd_http_conf *hc)
{
	const cJSON *it = vd_cfg_take(c, "json"), *el;
	size_t i = 0;

	if (it == NULL)
		return 0;
	if (!cJSON_IsObject(it))
		return vd_cfg_error(c, "json",
				    "expected an object of dotted paths to "
				    "expected values");
	hc->njson = (size_t)cJSON_GetArraySize(it);
	hc->json = vd_xcalloc(hc->njson ? hc->njson : 1, sizeof(*hc->json));
	cJSON_ArrayForEach(el, it) {
		char key[300];
		snprintf(key, sizeof(key), "json.%s", el->string);
		if (!vd_json_path_ok(el->string)) {
			hc->njson = i;
			return vd_cfg_error(c, key, "invalid dotted path");
		}
		hc->json[i].path = vd_xstrdup(el->string);
		i++;
		if (vd_expect_parse(c, key, el, &hc->json[i - 1].e) < 0)
			return VD_ERR_CONFIG;
	}
	return 0;
}

static int
parse_expect(struct vd_cfg *parent, struct vd_http_conf *hc)
{
	struct vd_cfg c;
	int r = vd_cfg_child(parent, "expect", &c);
	if (r <= 0)
		return r;
	r = parse_status(&c, hc);
	if (!r)
		r = vd_cfg_strlist(&c, "body_contains", &hc->body_contains,
				   &hc->nbody_contains);
	if (!r) {
		char *src = NULL;
		r = vd_cfg_str(&c, "body_regex", false, &src);
		if (!r && src)
			r = compile_re(&c, "body_regex", src, &hc->body_regex);
		free(src);
	}
	if (!r)
		r = parse_expect_json(&c, hc);
	if (!r)
		r = parse_expect_headers(&c, hc);
	if (!r)
		r = vd_cfg_duration(&c, "max_time", &hc->max_time);
	if (!r)
		r = vd_cfg_finish(&c);
	vd_cfg_release(&c);
	return r;
}

/* "auth": {"type": "basic", "username": "u", "password_env": "VAR"}
 *       | {"type": "bearer", "token_env": "VAR"} */
static int
parse_auth(struct vd_cfg *parent, struct vd_http_conf *hc)
{
	struct vd_cfg c;
	char *type = NULL, *user = NULL, *penv = NULL, *tenv = NULL;
	const char *secret;
	int r = vd_cfg_child(parent, "auth", &c);

	if (r <= 0)
		return r;
	r = vd_cfg_str(&c, "type", true, &type);
	if (!r && strcmp(type, "basic") == 0) {
		r = vd_cfg_str(&c, "username", true, &user);
		if (!r)
			r = vd_cfg_str(&c, "password_env", true, &penv);
		if (!r) {
			secret = getenv(penv);
			if (secret == NULL)
				r = vd_cfg_error(&c, "password_env",
						 "environment variable %s is "
						 "not set",
						 penv);
			else {
				/* and the base64 a target may echo back */
				vd_secret_add_basic(user, secret);
				hc->userpwd =
					vd_xasprintf("%s:%s", user, secret);
			}
		}
	} else if (!r && strcmp(type, "bearer") == 0) {
		r = vd_cfg_str(&c, "token_env", true, &tenv);
		if (!r) {
			secret = getenv(tenv);
			if (secret == NULL || *secret == '\0') {
				r = vd_cfg_error(&c, "token_env",
						 "environment variable %s is "
						 "not set",
						 tenv);
			} else {
				vd_secret_add(secret);
				hc->hdr_names = vd_xreallocarray(
					hc->hdr_names, hc->nhdrs + 1,
					sizeof(char *));
				hc->hdr_values = vd_xreallocarray(
					hc->hdr_values, hc->nhdrs + 1,
					sizeof(char *));
				hc->hdr_names[hc->nhdrs] =
					vd_xstrdup("Authorization");
				hc->hdr_values[hc->nhdrs] =
					vd_xasprintf("Bearer %s", secret);
				vd_secret_add_authorization(
					hc->hdr_values[hc->nhdrs]);
				hc->nhdrs++;
			}
		}
	} else if (!r) {
		r = vd_cfg_error(&c, "type",
				 "expected \"basic\" or \"bearer\"");
	}
	if (!r)
		r = vd_cfg_finish(&c);
	vd_cfg_release(&c);
	free(type);
	free(user);
	free(penv);
	free(tenv);
	return r;
}

static int
parse_body(struct vd_cfg *c, struct vd_http_conf *hc)
{
	const cJSON *it = vd_cfg_take(c, "body");
	if (it == NULL || cJSON_IsNull(it))
		return 0;
	if (cJSON_IsString(it)) {
		hc->body = vd_xstrdup(it->valuestring);
	} else if (cJSON_IsObject(it) || cJSON_IsArray(it)) {
		hc->body = cJSON_PrintUnformatted(it);
		if (hc->body == NULL)
			abort();
	} else {
		return vd_cfg_error(c, "body",
				    "expected a string, a JSON object/list, or "
				    "null");
	}
	hc->body_len = strlen(hc->body);
	return 0;
}

/* url with every {{name}} read as "x": what a flow step's URL must be
 * once its captures are filled in. */
static char *
url_sample(const char *url)
{
	struct vd_buf b;
	const char *p = url, *q;
	vd_buf_init(&b, 0);
	while ((q = strstr(p, "{{")) != NULL) {
		const char *e = strstr(q + 2, "}}");
		if (e == NULL)
			break;
		vd_buf_append(&b, p, (size_t)(q - p));
		vd_buf_puts(&b, "x");
		p = e + 2;
	}
	vd_buf_puts(&b, p);
	return vd_buf_steal(&b);
}

int
vd_http_conf_parse(struct vd_cfg *c, bool templated, struct vd_http_conf **out)
{
	struct vd_http_conf *hc = vd_xcalloc(1, sizeof(*hc));
	long maxr = 10;
	size_t i;
	int r;

	*out = NULL;
	hc->follow_redirects = true;
	r = vd_cfg_str(c, "url", true, &hc->url);
	if (!r) {
		char *u = templated ? url_sample(hc->url) : vd_xstrdup(hc->url);
		r = vd_check_url(c, "url", u);
		free(u);
	}
	if (!r)
		r = vd_cfg_str(c, "method", false, &hc->method);
	if (!r && hc->method) {
		for (i = 0; hc->method[i]; i++)
			if (hc->method[i] < 'A' || hc->method[i] > 'Z')
				break;
		if (hc->method[i] || i == 0 || i > 16)
			r = vd_cfg_error(c, "method",
					 "expected an HTTP method in capitals "
					 "(GET, POST, ...)");
	}
	if (!r)
		r = vd_cfg_strmap(c, "headers", &hc->hdr_names, &hc->hdr_values,
				  &hc->nhdrs);
	for (i = 0; !r && i < hc->nhdrs; i++) {
		if (strpbrk(hc->hdr_names[i], ": \r\n") ||
		    strpbrk(hc->hdr_values[i], "\r\n"))
			r = vd_cfg_error(c, "headers",
					 "header %s: names must not hold "
					 "spaces or colons, values no newlines",
					 hc->hdr_names[i]);
		else
			vd_secret_add_header(hc->hdr_names[i],
					     hc->hdr_values[i]);
	}
	if (!r)
		r = parse_body(c, hc);
	if (!r)
		r = vd_cfg_bool(c, "follow_redirects", &hc->follow_redirects);
	if (!r)
		r = vd_cfg_int(c, "max_redirects", 0, 100, &maxr);
	hc->max_redirects = maxr;
	if (!r)
		r = vd_cfg_bool(c, "allow_link_local", &hc->allow_link_local);
	if (!r)
		r = parse_auth(c, hc);
	if (!r)
		r = parse_expect(c, hc);
	if (r) {
		vd_http_conf_free(hc);
		return r;
	}
	*out = hc;
	return 0;
}

const char *
vd_http_conf_url(const struct vd_http_conf *hc)
{
	return hc->url;
}

static int
http_parse(struct vd_check *chk, struct vd_cfg *c)
{
	struct vd_http_conf *hc;
	int r = vd_http_conf_parse(c, false, &hc);
	if (r)
		return r;
	chk->conf = hc;
	free(chk->target);
	chk->target = vd_mask_url(hc->url);
	return 0;
}

static bool
status_matches(const struct vd_http_conf *hc, long status)
{
	char buf[8];
	size_t i;
	snprintf(buf, sizeof(buf), "%ld", status);
	if (hc->nstatus == 0)
		return status >= 200 && status < 300;
	for (i = 0; i < hc->nstatus; i++) {
		const char *s = hc->status[i];
		if (s[1] == 'x' ? s[0] == buf[0] && strlen(buf) == 3
				: strcmp(s, buf) == 0)
			return true;
	}
	return false;
}

static void
status_wanted(const struct vd_http_conf *hc, char *out, size_t len)
{
	size_t i, off = 0;
	if (hc->nstatus == 0) {
		snprintf(out, len, "2xx");
		return;
	}
	out[0] = '\0';
	for (i = 0; i < hc->nstatus && off < len; i++)
		off += (size_t)snprintf(
			out + off, len - off, "%s%s",
			i ? (i + 1 == hc->nstatus ? " or " : ", ") : "",
			hc->status[i]);
}

/* Returns true if it finished the attempt. */
static bool
judge_json(struct vd_attempt *att, const struct vd_http_conf *hc,
	   const struct vd_http_resp *resp)
{
	cJSON *root;
	size_t i;

	if (hc->njson == 0)
		return false;
	root = cJSON_ParseWithLength(resp->body.data, resp->body.len);
	if (root == NULL) {
		vd_attempt_finish(att, VD_STATUS_FAIL, VD_REASON_BODY,
				  "body is not valid JSON%s",
				  resp->truncated ? " (truncated at max_body)"
						  : "");
		return true;
	}
	for (i = 0; i < hc->njson; i++) {
		char why[500];
		enum vd_match m =
			vd_json_expect(root, hc->json[i].path, hc->json[i].e,
				       why, sizeof(why));
		if (m == VD_MATCH_YES)
			continue;
		vd_attempt_finish_mismatch(att, m, VD_REASON_BODY, "json %s",
					   why);
		cJSON_Delete(root);
		return true;
	}
	cJSON_Delete(root);
	return false;
}

static bool
judge_headers(struct vd_attempt *att, const struct vd_http_conf *hc,
	      const struct vd_http_resp *resp)
{
	size_t i;
	char why[200];
	for (i = 0; i < hc->nhdr_expect; i++) {
		const struct hdr_expect *h = &hc->hdrs[i];
		const char *v = vd_http_resp_header(resp, h->name);
		enum vd_match m;
		if (h->e) {
			cJSON *got = v ? cJSON_CreateString(v) : NULL;
			m = vd_expect_judge(h->e, got, why, sizeof(why));
			cJSON_Delete(got);
			if (m == VD_MATCH_YES)
				continue;
			vd_attempt_finish_mismatch(att, m, VD_REASON_HEADER,
						   "header %s: %s", h->name,
						   why);
			return true;
		}
		m = vd_text_match_judge(&h->m, v, v ? strlen(v) : 0, why,
					sizeof(why));
		if (m == VD_MATCH_YES)
			continue;
		if (m == VD_MATCH_LIMIT) {
			vd_attempt_finish(att, VD_STATUS_ERROR, VD_REASON_LIMIT,
					  "header %s: %s", h->name, why);
		} else if (v && h->m.rule != VD_TEXT_ABSENT) {
			/* masked before it is cut and quoted */
			char *got = vd_mask_brief(v, 80);
			vd_attempt_finish(att, VD_STATUS_FAIL, VD_REASON_HEADER,
					  "header %s: got \"%s\", %s", h->name,
					  got, why);
			free(got);
		} else
			vd_attempt_finish(att, VD_STATUS_FAIL, VD_REASON_HEADER,
					  "header %s: %s", h->name, why);
		return true;
	}
	return false;
}

/* What is judged after the body regex: JSON values and time. Every
 * expectation held: the exchange's callback decides. */
static void
judge_rest(struct vd_http_exch *x, const struct vd_http_resp *resp)
{
	struct vd_attempt *att = x->att;
	const struct vd_http_conf *hc = x->hc;
	/* this exchange's own time, not the attempt's (a flow's steps) */
	double total =
		att->result->timings[VD_PHASE_TOTAL] - (x->start - att->start);

	if (judge_json(att, hc, resp))
		return;
	if (hc->max_time > 0 && total > hc->max_time) {
		char got[32], lim[32];
		vd_format_duration(total, got, sizeof(got));
		vd_format_duration(hc->max_time, lim, sizeof(lim));
		vd_attempt_finish(att, VD_STATUS_FAIL, VD_REASON_SLOW,
				  "took %s, max_time %s", got, lim);
		return;
	}
	x->cb(x, resp, x->udata);
}

static void
body_searched(enum vd_match m, const char *limit, void *udata)
{
	struct vd_http_exch *x = udata;
	struct vd_attempt *att = x->att;
	const struct vd_http_conf *hc = x->hc;
	const struct vd_http_resp *resp = vd_http_req_resp(x->req);
	const char *src = vd_regex_source(hc->body_regex);

	if (m == VD_MATCH_LIMIT) {
		vd_attempt_finish(att, VD_STATUS_ERROR, VD_REASON_LIMIT,
				  "body_regex /%.80s/: the search hit the "
				  "%s (%zu bytes of body)",
				  src, limit, resp->body.len);
		return;
	}
	if (m == VD_MATCH_NO) {
		vd_attempt_finish(
			att, VD_STATUS_FAIL, VD_REASON_BODY,
			"body does not match /%.80s/%s", src,
			resp->truncated ? " (read stopped at max_body)" : "");
		return;
	}
	judge_rest(x, resp);
}

static void
exch_done(struct vd_http_req *req, void *udata)
{
	struct vd_http_exch *x = udata;
	struct vd_attempt *att = x->att;
	const struct vd_http_conf *hc = x->hc;
	const struct vd_http_resp *resp = vd_http_req_resp(req);
	size_t i;
	char want[128];

	if (vd_http_req_failed(att, req))
		return;
	if (x->answered)
		x->answered(x, resp, x->udata);
	if (att->finished)
		return;
	if (!status_matches(hc, resp->status)) {
		status_wanted(hc, want, sizeof(want));
		vd_attempt_finish(att, VD_STATUS_FAIL, VD_REASON_STATUS,
				  "status %ld, expected %s", resp->status,
				  want);
		return;
	}
	if (judge_headers(att, hc, resp))
		return;
	for (i = 0; i < hc->nbody_contains; i++) {
		if (memmem(resp->body.data, resp->body.len,
			   hc->body_contains[i],
			   strlen(hc->body_contains[i])) == NULL) {
			vd_attempt_finish(
				att, VD_STATUS_FAIL, VD_REASON_BODY,
				"body does not contain \"%.80s\"%s",
				hc->body_contains[i],
				resp->truncated ? " (read stopped at max_body)"
						: "");
			return;
		}
	}
	if (hc->body_regex != NULL) {
		x->search =
			vd_search_start(att, hc->body_regex, resp->body.data,
					resp->body.len, body_searched, x);
		return;
	}
	judge_rest(x, resp);
}

void
vd_http_conf_opts(const struct vd_http_conf *hc, const struct vd_check *chk,
		  struct vd_http_req_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->url = hc->url;
	o->method = hc->method;
	o->hdr_names = hc->hdr_names;
	o->hdr_values = hc->hdr_values;
	o->nhdrs = hc->nhdrs;
	o->body = hc->body;
	o->body_len = hc->body_len;
	o->follow_redirects = hc->follow_redirects;
	o->max_redirects = hc->max_redirects;
	o->allow_link_local = hc->allow_link_local;
	o->tls = &chk->tls;
	o->max_body = chk->max_body;
	o->userpwd = hc->userpwd;
}

struct vd_http_exch *
vd_http_exch_start(struct vd_attempt *att, const struct vd_http_conf *hc,
		   const struct vd_http_req_opts *o, vd_http_exch_cb *answered,
		   vd_http_exch_cb *cb, void *udata)
{
	struct vd_http_exch *x = vd_xcalloc(1, sizeof(*x));

	x->att = att;
	x->answered = answered;
	x->hc = hc;
	x->cb = cb;
	x->udata = udata;
	x->start = ev_now(att->loop);
	if (strncmp(o->url, "https:", 6) == 0 && o->tls && !o->tls->verify)
		vd_result_fact_bool(att->result, "tls_verify", false);
	x->req = vd_http_req_start(att, o, exch_done, x);
	return x;
}

void
vd_http_exch_free(struct vd_http_exch *x)
{
	if (x == NULL)
		return;
	vd_search_free(x->search);
	vd_http_req_free(x->req);
	free(x);
}

void
vd_http_exch_progress(const struct vd_http_exch *x, char *buf, size_t len)
{
	if (x && x->req)
		vd_http_req_progress(x->req, buf, len);
}

/* The http check: every expectation held. */
static void
http_passed(struct vd_http_exch *x, const struct vd_http_resp *resp,
	    void *udata)
{
	(void)x;
	vd_attempt_finish(udata, VD_STATUS_PASS, VD_REASON_NONE, "status %ld%s",
			  resp->status,
			  resp->truncated ? ", body truncated at max_body"
					  : "");
}

static void
http_start(struct vd_attempt *att)
{
	const struct vd_check *chk = att->check;
	struct vd_http_req_opts o;

	vd_http_conf_opts(chk->conf, chk, &o);
	att->data =
		vd_http_exch_start(att, chk->conf, &o, NULL, http_passed, att);
}

static void
http_cancel(struct vd_attempt *att)
{
	vd_http_exch_free(att->data);
}

static void
http_timeout_detail(struct vd_attempt *att, char *buf, size_t len)
{
	vd_http_exch_progress(att->data, buf, len);
}

static const struct vd_check_key http_keys[] = {
	{"url", VD_KEY_REQUIRED | VD_KEY_TARGET},
	{"method", 0},
	{"headers", 0},
	{"body", 0},
	{"follow_redirects", 0},
	{"max_redirects", 0},
	{"auth", 0},
	{"allow_link_local", 0},
	{"expect", 0},
	{"max_body", 0},
	{NULL, 0},
};

const struct vd_check_type vd_check_http = {
	.name = "http",
	.parse = http_parse,
	.start = http_start,
	.cancel = http_cancel,
	.free = http_free,
	.timeout_detail = http_timeout_detail,
	.flags = VD_TYPE_TLS,
	.target = VD_TARGET_URL,
	.keys = http_keys,
};
