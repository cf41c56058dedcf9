/*
 * cors.c - the "cors" check: a real preflight (OPTIONS with Origin,
 * Access-Control-Request-Method and -Headers), judged the way a browser
 * judges it (the Fetch standard's CORS check), for an origin that must be
 * allowed or, with expect.allowed false, must not be. Speaks through
 * http_req.c; knows nothing of suites or reports.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "../../lib/cfg.h"
#include "../http_int.h"
#include "../../lib/util.h"
#include "checks.h"

#define VALUE_SHOWN 80 /* bytes of a header value in reasons */
/* A peer's header value as a reason quotes it: masked, then cut (cutting
 * first could leave the start of a secret). Uses a buffer of the caller's
 * block. */
#define SHOWN(v)                                                               \
	vd_mask_brief_to((v), VALUE_SHOWN, shown_buf, sizeof(shown_buf))

struct cors_conf {
	char *url;
	char *origin;
	char *method;
	char **req_headers; /* Access-Control-Request-Headers */
	size_t nreq_headers;
	char **hdr_names; /* the request: Origin, ACRM, ACRH, extras */
	char **hdr_values;
	size_t nhdrs;
	bool allowed;	 /* expect.allowed, default true */
	int credentials; /* expect.credentials: -1 not judged, 0, 1 */
	bool allow_link_local;
};

struct cors_run {
	struct vd_http_req *req;
};

static void
cors_free(void *p)
{
	struct cors_conf *c = p;
	if (c == NULL)
		return;
	free(c->url);
	free(c->origin);
	free(c->method);
	vd_strlist_free(c->req_headers, c->nreq_headers);
	vd_strmap_free(c->hdr_names, c->hdr_values, c->nhdrs);
	free(c);
}

static void
add_header(struct cors_conf *cc, const char *name, char *value)
{
	cc->hdr_names =
		vd_xreallocarray(cc->hdr_names, cc->nhdrs + 1, sizeof(char *));
	cc->hdr_values =
		vd_xreallocarray(cc->hdr_values, cc->nhdrs + 1, sizeof(char *));
	cc->hdr_names[cc->nhdrs] = vd_xstrdup(name);
	cc->hdr_values[cc->nhdrs] = value;
	cc->nhdrs++;
}

static bool
token_ok(const char *s)
{
	const char *p;
	if (*s == '\0')
		return false;
	for (p = s; *p; p++)
		if (*p <= ' ' || *p >= 0x7f ||
		    strchr("()<>@,;:\\\"/[]?={}", *p))
			return false;
	return true;
}

/* "https://app.example.com" or "http://localhost:8080", or "null". */
static bool
origin_ok(const char *o)
{
	const char *rest;
	if (strcmp(o, "null") == 0)
		return true;
	rest = strstr(o, "://");
	if (rest == NULL || rest == o || rest[3] == '\0')
		return false;
	return strpbrk(rest + 3, "/?# \t\r\n") == NULL;
}

static int
parse_expect(struct vd_cfg *parent, struct cors_conf *cc)
{
	struct vd_cfg c;
	bool cred = false;
	int r = vd_cfg_child(parent, "expect", &c);

	if (r <= 0)
		return r;
	r = vd_cfg_bool(&c, "allowed", &cc->allowed);
	if (!r && vd_cfg_has(&c, "credentials")) {
		r = vd_cfg_bool(&c, "credentials", &cred);
		cc->credentials = cred;
		if (!r && !cc->allowed)
			r = vd_cfg_error(
				&c, "credentials",
				"applies only with allowed: true (with "
				"allowed: false the origin must not be "
				"allowed at all)");
	}
	if (!r)
		r = vd_cfg_finish(&c);
	vd_cfg_release(&c);
	return r;
}

static int
cors_parse(struct vd_check *chk, struct vd_cfg *c)
{
	struct cors_conf *cc = vd_xcalloc(1, sizeof(*cc));
	char **extra_n = NULL, **extra_v = NULL;
	size_t nextra = 0, i;
	int r;

	chk->conf = cc;
	cc->allowed = true;
	cc->credentials = -1;
	r = vd_cfg_str(c, "url", true, &cc->url);
	if (!r)
		r = vd_cfg_bool(c, "allow_link_local", &cc->allow_link_local);
	if (!r)
		r = vd_check_url(c, "url", cc->url);
	if (!r)
		r = vd_cfg_str(c, "origin", true, &cc->origin);
	if (!r && !origin_ok(cc->origin))
		r = vd_cfg_error(c, "origin",
				 "expected an origin like "
				 "\"https://app.example.com\" (scheme, host, "
				 "optional port; no path)");
	if (!r)
		r = vd_cfg_str(c, "method", false, &cc->method);
	if (!r && cc->method == NULL)
		cc->method = vd_xstrdup("GET");
	if (!r && !token_ok(cc->method))
		r = vd_cfg_error(c, "method", "expected an HTTP method");
	if (!r)
		r = vd_cfg_strlist(c, "request_headers", &cc->req_headers,
				   &cc->nreq_headers);
	for (i = 0; !r && i < cc->nreq_headers; i++)
		if (!token_ok(cc->req_headers[i]))
			r = vd_cfg_error(c, "request_headers",
					 "invalid header name \"%s\"",
					 cc->req_headers[i]);
	if (!r)
		r = vd_cfg_strmap(c, "headers", &extra_n, &extra_v, &nextra);
	for (i = 0; !r && i < nextra; i++)
		if (!token_ok(extra_n[i]) || strpbrk(extra_v[i], "\r\n"))
			r = vd_cfg_error(c, "headers",
					 "header %s: names must be tokens, "
					 "values no newlines",
					 extra_n[i]);
	if (!r)
		r = parse_expect(c, cc);
	if (!r) {
		struct vd_buf b;
		add_header(cc, "Origin", vd_xstrdup(cc->origin));
		add_header(cc, "Access-Control-Request-Method",
			   vd_xstrdup(cc->method));
		if (cc->nreq_headers) {
			vd_buf_init(&b, 0);
			for (i = 0; i < cc->nreq_headers; i++)
				vd_buf_printf(&b, "%s%s", i ? "," : "",
					      cc->req_headers[i]);
			add_header(cc, "Access-Control-Request-Headers",
				   vd_buf_steal(&b));
		}
		for (i = 0; i < nextra; i++) {
			vd_secret_add_header(extra_n[i], extra_v[i]);
			add_header(cc, extra_n[i], vd_xstrdup(extra_v[i]));
		}
		free(chk->target);
		chk->target = vd_mask_url(cc->url);
	}
	for (i = 0; i < nextra; i++) {
		free(extra_n[i]);
		vd_free_secret(extra_v[i]);
	}
	free(extra_n);
	free(extra_v);
	return r;
}

/* --- judging ----------------------------------------------------------- */

/* True if the comma-separated list holds item (case-insensitive). */
static bool
list_has(const char *list, const char *item)
{
	const char *p = list;
	size_t n = strlen(item);
	while (p && *p) {
		size_t len;
		while (*p == ' ' || *p == '\t' || *p == ',')
			p++;
		len = strcspn(p, ",");
		while (len && (p[len - 1] == ' ' || p[len - 1] == '\t'))
			len--;
		if (len == n && strncasecmp(p, item, n) == 0)
			return true;
		p = strchr(p, ',');
	}
	return false;
}

struct preflight {
	long status;
	const char *acao, *acac, *acam, *acah;
};

/*
 * The Fetch standard's checks for one credentials mode. Appends each
 * problem to out ("; "-separated); returns the number of problems.
 */
static unsigned
problems(const struct cors_conf *cc, const struct preflight *pf, bool cred,
	 struct vd_buf *out)
{
	char shown_buf[VALUE_SHOWN * 4 + 8];
	unsigned n = 0;
	size_t i;
#define PROBLEM(...)                                                           \
	do {                                                                   \
		vd_buf_puts(out, n++ ? "; " : "");                             \
		vd_buf_printf(out, __VA_ARGS__);                               \
	} while (0)

	if (pf->status < 200 || pf->status > 299)
		PROBLEM("the preflight answered status %ld (a browser needs "
			"2xx)",
			pf->status);
	if (pf->acao == NULL)
		PROBLEM("no Access-Control-Allow-Origin");
	else if (strcmp(pf->acao, "*") == 0 && cred)
		PROBLEM("Access-Control-Allow-Origin is *, which browsers "
			"refuse with credentials");
	else if (strcmp(pf->acao, "*") != 0 &&
		 strcmp(pf->acao, cc->origin) != 0)
		PROBLEM("Access-Control-Allow-Origin is \"%s\", not the "
			"origin",
			SHOWN(pf->acao));
	if (cred && (pf->acac == NULL || strcmp(pf->acac, "true") != 0))
		PROBLEM("no Access-Control-Allow-Credentials: true");
	/* GET, HEAD and POST need no listing (CORS-safelisted methods) */
	if (strcmp(cc->method, "GET") != 0 && strcmp(cc->method, "HEAD") != 0 &&
	    strcmp(cc->method, "POST") != 0 &&
	    !(pf->acam && list_has(pf->acam, cc->method)) &&
	    !(pf->acam && !cred && list_has(pf->acam, "*")))
		PROBLEM("method %s not in Access-Control-Allow-Methods "
			"(\"%s\")",
			cc->method, SHOWN(pf->acam));
	for (i = 0; i < cc->nreq_headers; i++) {
		const char *h = cc->req_headers[i];
		if (pf->acah && list_has(pf->acah, h))
			continue;
		/* "*" never covers Authorization, and not with credentials */
		if (pf->acah && !cred && list_has(pf->acah, "*") &&
		    strcasecmp(h, "Authorization") != 0)
			continue;
		PROBLEM("header %s not in Access-Control-Allow-Headers "
			"(\"%s\")",
			h, SHOWN(pf->acah));
	}
#undef PROBLEM
	return n;
}

static void
cors_done(struct vd_http_req *req, void *udata)
{
	char shown_buf[VALUE_SHOWN * 4 + 8];
	struct vd_attempt *att = udata;
	const struct cors_conf *cc = att->check->conf;
	const struct vd_http_resp *resp = vd_http_req_resp(req);
	struct vd_result *res = att->result;
	struct preflight pf;
	struct vd_buf pb, pc;
	unsigned np, npc;

	if (vd_http_req_failed(att, req))
		return;
	pf.status = resp->status;
	pf.acao = vd_http_resp_header(resp, "Access-Control-Allow-Origin");
	pf.acac = vd_http_resp_header(resp, "Access-Control-Allow-Credentials");
	pf.acam = vd_http_resp_header(resp, "Access-Control-Allow-Methods");
	pf.acah = vd_http_resp_header(resp, "Access-Control-Allow-Headers");
	if (pf.acao)
		vd_result_fact_str(res, "cors_allow_origin", pf.acao);
	vd_result_fact_bool(res, "cors_allow_credentials",
			    pf.acac && strcmp(pf.acac, "true") == 0);
	if (pf.acam)
		vd_result_fact_str(res, "cors_allow_methods", pf.acam);
	if (pf.acah)
		vd_result_fact_str(res, "cors_allow_headers", pf.acah);

	vd_buf_init(&pb, 0);
	vd_buf_init(&pc, 0);
	if (cc->allowed) {
		bool cred = cc->credentials == 1;
		np = problems(cc, &pf, cred, &pb);
		if (cc->credentials == 0 && pf.acac &&
		    strcmp(pf.acac, "true") == 0) {
			vd_buf_puts(&pb, np++ ? "; " : "");
			vd_buf_puts(&pb, "credentials are allowed "
					 "(Access-Control-Allow-Credentials: "
					 "true), expected not");
		}
		if (np)
			vd_attempt_finish(att, VD_STATUS_FAIL, VD_REASON_POLICY,
					  "origin %s not allowed for %s: %s",
					  cc->origin, cc->method, pb.data);
		else
			vd_attempt_finish(att, VD_STATUS_PASS, VD_REASON_NONE,
					  "origin %s allowed for %s%s",
					  cc->origin, cc->method,
					  cred ? " with credentials" : "");
		goto out;
	}
	/* allowed: false - in neither credentials mode */
	npc = problems(cc, &pf, true, &pc);
	np = problems(cc, &pf, false, &pb);
	if (npc == 0)
		vd_attempt_finish(att, VD_STATUS_FAIL, VD_REASON_POLICY,
				  "origin %s is allowed with credentials: "
				  "Access-Control-Allow-Origin echoes it and "
				  "Access-Control-Allow-Credentials is true "
				  "(a server that reflects any origin lets "
				  "every site make authenticated requests)",
				  cc->origin);
	else if (np == 0)
		vd_attempt_finish(att, VD_STATUS_FAIL, VD_REASON_POLICY,
				  "origin %s is allowed for %s "
				  "(Access-Control-Allow-Origin: %s)",
				  cc->origin, cc->method, SHOWN(pf.acao));
	else
		vd_attempt_finish(att, VD_STATUS_PASS, VD_REASON_NONE,
				  "origin %s not allowed, as expected: %s",
				  cc->origin, pb.data);
out:
	vd_buf_free(&pb);
	vd_buf_free(&pc);
}

static void
cors_start(struct vd_attempt *att)
{
	const struct vd_check *chk = att->check;
	const struct cors_conf *cc = chk->conf;
	struct cors_run *run = vd_xcalloc(1, sizeof(*run));
	struct vd_http_req_opts o;

	memset(&o, 0, sizeof(o));
	o.url = cc->url;
	o.method = "OPTIONS";
	o.hdr_names = cc->hdr_names;
	o.hdr_values = cc->hdr_values;
	o.nhdrs = cc->nhdrs;
	o.follow_redirects = false; /* browsers fail a redirected preflight */
	o.allow_link_local = cc->allow_link_local;
	o.tls = &chk->tls;
	o.max_body = chk->max_body;
	att->data = run;
	run->req = vd_http_req_start(att, &o, cors_done, att);
}

static void
cors_cancel(struct vd_attempt *att)
{
	struct cors_run *run = att->data;
	if (run == NULL)
		return;
	vd_http_req_free(run->req);
	free(run);
}

static void
cors_timeout_detail(struct vd_attempt *att, char *buf, size_t len)
{
	struct cors_run *run = att->data;
	if (run)
		vd_http_req_progress(run->req, buf, len);
}

static const struct vd_check_key cors_keys[] = {
	{"url", VD_KEY_REQUIRED | VD_KEY_TARGET},
	{"origin", VD_KEY_REQUIRED},
	{"method", 0},
	{"headers", 0},
	{"request_headers", 0},
	{"allow_link_local", 0},
	{"expect", 0},
	{"max_body", 0},
	{NULL, 0},
};

const struct vd_check_type vd_check_cors = {
	.name = "cors",
	.parse = cors_parse,
	.start = cors_start,
	.cancel = cors_cancel,
	.free = cors_free,
	.timeout_detail = cors_timeout_detail,
	.flags = VD_TYPE_TLS,
	.target = VD_TARGET_URL,
	.keys = cors_keys,
};
