/*
 * security_headers.c - the "security_headers" check: one GET, then a
 * profile of response headers (HSTS, nosniff, framing, CSP, referrer
 * policy, no X-Powered-By, no versioned Server) with per-header overrides.
 * Every finding is reported, not just the first. Speaks through
 * http_req.c; knows nothing of suites or reports.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "../../lib/cfg.h"
#include "../http_int.h"
#include "../../lib/util.h"
#include "checks.h"

#define DEFAULT_HSTS_MAX_AGE 15552000L /* 180 days, in seconds */
#define VALUE_SHOWN	     80	       /* bytes of a header value in findings */
/* A peer's header value as a finding quotes it: masked, then cut (cutting
 * first could leave the start of a secret). Uses a buffer of the caller's
 * block. */
#define SHOWN(v)                                                               \
	vd_mask_brief_to((v), VALUE_SHOWN, shown_buf, sizeof(shown_buf))

enum ov_rule { OV_SKIP, OV_PRESENT, OV_MATCH };

/* One entry of expect.headers. */
struct override {
	char *name;
	enum ov_rule rule;
	struct vd_text_match m; /* OV_MATCH */
};

struct sh_conf {
	char *url;
	bool https;
	char **hdr_names, **hdr_values; /* request headers */
	size_t nhdrs;
	bool follow_redirects;
	long max_redirects;
	bool allow_link_local;
	long hsts_min_max_age; /* seconds */
	struct override *ov;
	size_t nov;
	char **absent; /* extra headers that must be absent */
	size_t nabsent;
};

struct sh_run {
	struct vd_http_req *req;
};

static void
sh_free(void *p)
{
	struct sh_conf *c = p;
	size_t i;
	if (c == NULL)
		return;
	free(c->url);
	vd_strmap_free(c->hdr_names, c->hdr_values, c->nhdrs);
	for (i = 0; i < c->nov; i++) {
		free(c->ov[i].name);
		vd_text_match_release(&c->ov[i].m);
	}
	free(c->ov);
	vd_strlist_free(c->absent, c->nabsent);
	free(c);
}

static int
parse_overrides(struct vd_cfg *c, struct sh_conf *sc)
{
	const cJSON *it = vd_cfg_take(c, "headers"), *el;

	if (it == NULL)
		return 0;
	if (!cJSON_IsObject(it))
		return vd_cfg_error(c, "headers", "expected an object");
	sc->ov =
		vd_xcalloc((size_t)cJSON_GetArraySize(it) + 1, sizeof(*sc->ov));
	cJSON_ArrayForEach(el, it) {
		struct override *o = &sc->ov[sc->nov];
		char key[300];
		snprintf(key, sizeof(key), "headers.%s", el->string);
		if (*el->string == '\0' || strpbrk(el->string, ": \r\n"))
			return vd_cfg_error(c, key, "invalid header name");
		if (cJSON_IsFalse(el)) {
			o->rule = OV_SKIP;
		} else if (cJSON_IsTrue(el)) {
			o->rule = OV_PRESENT;
		} else if (!cJSON_IsString(el) && !cJSON_IsObject(el)) {
			return vd_cfg_error(c, key,
					    "expected false (not judged), true "
					    "(required), a string (the exact "
					    "value) or {\"regex\"|\"contains\"|"
					    "\"equals\": string}");
		} else {
			o->rule = OV_MATCH;
			if (vd_text_match_parse(c, key, el,
						VD_TEXT_ALLOW_STRING,
						&o->m) < 0) {
				vd_text_match_release(&o->m);
				return VD_ERR_CONFIG;
			}
		}
		o->name = vd_xstrdup(el->string);
		sc->nov++;
	}
	return 0;
}

static bool
listed(char **list, size_t n, const char *name)
{
	size_t i;
	for (i = 0; i < n; i++)
		if (strcasecmp(list[i], name) == 0)
			return true;
	return false;
}

static bool in_profile(const char *name);
static const struct override *override_of(const struct sh_conf *sc,
					  const char *name);

static int
parse_expect(struct vd_cfg *parent, struct sh_conf *sc)
{
	struct vd_cfg c;
	size_t i;
	int r = vd_cfg_child(parent, "expect", &c);

	if (r <= 0)
		return r;
	r = vd_cfg_int(&c, "hsts_min_max_age", 0, 1000L * 365 * 86400,
		       &sc->hsts_min_max_age);
	if (!r)
		r = parse_overrides(&c, sc);
	if (!r)
		r = vd_cfg_strlist(&c, "absent", &sc->absent, &sc->nabsent);
	for (i = 0; !r && i < sc->nabsent; i++)
		if (*sc->absent[i] == '\0' || strpbrk(sc->absent[i], ": \r\n"))
			r = vd_cfg_error(&c, "absent",
					 "invalid header name "
					 "\"%s\"",
					 sc->absent[i]);
		else if (in_profile(sc->absent[i]) &&
			 strcasecmp(sc->absent[i], "Server") != 0 &&
			 strcasecmp(sc->absent[i], "X-Powered-By") != 0 &&
			 override_of(sc, sc->absent[i]) == NULL)
			r = vd_cfg_error(&c, "absent",
					 "%s is required by the profile; set "
					 "headers.%s to false to judge it "
					 "yourself",
					 sc->absent[i], sc->absent[i]);
		else if (override_of(sc, sc->absent[i]) &&
			 override_of(sc, sc->absent[i])->rule != OV_SKIP)
			r = vd_cfg_error(&c, "absent",
					 "%s is also required in headers",
					 sc->absent[i]);
	if (!r)
		r = vd_cfg_finish(&c);
	vd_cfg_release(&c);
	return r;
}

static int
sh_parse(struct vd_check *chk, struct vd_cfg *c)
{
	struct sh_conf *sc = vd_xcalloc(1, sizeof(*sc));
	long maxr = 10;
	size_t i;
	int r;

	chk->conf = sc;
	sc->follow_redirects = true;
	sc->hsts_min_max_age = DEFAULT_HSTS_MAX_AGE;
	r = vd_cfg_str(c, "url", true, &sc->url);
	if (!r)
		r = vd_check_url(c, "url", sc->url);
	sc->https = sc->url && strncasecmp(sc->url, "https:", 6) == 0;
	if (!r)
		r = vd_cfg_strmap(c, "headers", &sc->hdr_names, &sc->hdr_values,
				  &sc->nhdrs);
	for (i = 0; !r && i < sc->nhdrs; i++) {
		if (strpbrk(sc->hdr_names[i], ": \r\n") ||
		    strpbrk(sc->hdr_values[i], "\r\n"))
			r = vd_cfg_error(c, "headers",
					 "header %s: names must not hold "
					 "spaces or colons, values no newlines",
					 sc->hdr_names[i]);
		else
			vd_secret_add_header(sc->hdr_names[i],
					     sc->hdr_values[i]);
	}
	if (!r)
		r = vd_cfg_bool(c, "follow_redirects", &sc->follow_redirects);
	if (!r)
		r = vd_cfg_int(c, "max_redirects", 0, 100, &maxr);
	sc->max_redirects = maxr;
	if (!r)
		r = vd_cfg_bool(c, "allow_link_local", &sc->allow_link_local);
	if (!r)
		r = parse_expect(c, sc);
	if (!r) {
		free(chk->target);
		chk->target = vd_mask_url(sc->url);
	}
	return r;
}

/* --- judging ----------------------------------------------------------- */

struct judge {
	const struct sh_conf *sc;
	const struct vd_http_resp *resp;
	struct vd_buf findings; /* "a; b; c" */
	unsigned nfindings;
	unsigned nrules; /* rules judged */
};

static void finding(struct judge *j, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void
finding(struct judge *j, const char *fmt, ...)
{
	va_list ap;
	char *s;
	va_start(ap, fmt);
	s = vd_xvasprintf(fmt, ap);
	va_end(ap);
	vd_buf_printf(&j->findings, "%s%s", j->nfindings ? "; " : "", s);
	j->nfindings++;
	free(s);
}

static const struct override *
override_of(const struct sh_conf *sc, const char *name)
{
	size_t i;
	for (i = 0; i < sc->nov; i++)
		if (strcasecmp(sc->ov[i].name, name) == 0)
			return &sc->ov[i];
	return NULL;
}

static const char *
hdr(const struct judge *j, const char *name)
{
	return vd_http_resp_header(j->resp, name);
}

/* A user's own rule for a header. */
static void
judge_override(struct judge *j, const struct override *o)
{
	char shown_buf[VALUE_SHOWN * 4 + 8];
	const char *v = hdr(j, o->name);
	char why[200];
	enum vd_match m;

	j->nrules++;
	if (v == NULL) {
		finding(j, "missing %s", o->name);
		return;
	}
	if (o->rule != OV_MATCH)
		return;
	m = vd_text_match_judge(&o->m, v, strlen(v), why, sizeof(why));
	if (m == VD_MATCH_LIMIT)
		finding(j, "%s: %s", o->name, why);
	else if (m == VD_MATCH_NO)
		finding(j, "%s is \"%s\", %s", o->name, SHOWN(v), why);
}

/* Trimmed copy of a header value, for comparisons. */
static char *
trimmed(const char *v)
{
	size_t n;
	while (*v == ' ' || *v == '\t')
		v++;
	n = strlen(v);
	while (n && (v[n - 1] == ' ' || v[n - 1] == '\t'))
		n--;
	return vd_xstrndup(v, n);
}

/* max-age of an HSTS value; -1 if absent or not a number. */
static long
hsts_max_age(const char *v)
{
	const char *p = v;
	while (*p) {
		while (*p == ' ' || *p == '\t' || *p == ';')
			p++;
		if (strncasecmp(p, "max-age", 7) == 0) {
			const char *q = p + 7;
			char *end;
			long age;
			while (*q == ' ' || *q == '\t')
				q++;
			if (*q == '=') {
				q++;
				while (*q == ' ' || *q == '\t')
					q++;
				if (*q == '"')
					q++;
				if (isdigit((unsigned char)*q)) {
					age = strtol(q, &end, 10);
					return age;
				}
			}
			return -1;
		}
		p = strchr(p, ';');
		if (p == NULL)
			break;
	}
	return -1;
}

static void
judge_hsts(struct judge *j, bool asked)
{
	char shown_buf[VALUE_SHOWN * 4 + 8];
	const char *name = "Strict-Transport-Security";
	const char *v;
	long age;

	if (!j->sc->https && !asked)
		return;
	j->nrules++;
	v = hdr(j, name);
	if (v == NULL) {
		finding(j, "missing %s", name);
		return;
	}
	age = hsts_max_age(v);
	if (age < 0)
		finding(j, "%s has no max-age (\"%s\")", name, SHOWN(v));
	else if (age < j->sc->hsts_min_max_age)
		finding(j, "%s max-age %ld is below %ld", name, age,
			j->sc->hsts_min_max_age);
}

static void
judge_nosniff(struct judge *j)
{
	char shown_buf[VALUE_SHOWN * 4 + 8];
	const char *name = "X-Content-Type-Options";
	const char *v = hdr(j, name);
	char *t;

	j->nrules++;
	if (v == NULL) {
		finding(j, "missing %s", name);
		return;
	}
	t = trimmed(v);
	if (strcasecmp(t, "nosniff") != 0)
		finding(j, "%s is \"%s\", expected nosniff", name, SHOWN(v));
	free(t);
}

/* True if a CSP value holds a frame-ancestors directive. */
static bool
csp_frame_ancestors(const char *csp)
{
	const char *p = csp;
	while (p && *p) {
		while (*p == ' ' || *p == '\t' || *p == ';')
			p++;
		if (strncasecmp(p, "frame-ancestors", 15) == 0 &&
		    (p[15] == ' ' || p[15] == '\t' || p[15] == ';' ||
		     p[15] == '\0'))
			return true;
		p = strchr(p, ';');
	}
	return false;
}

static void
judge_framing(struct judge *j)
{
	char shown_buf[VALUE_SHOWN * 4 + 8];
	const char *name = "X-Frame-Options";
	const char *v = hdr(j, name);
	const char *csp = hdr(j, "Content-Security-Policy");
	char *t;
	bool ok;

	j->nrules++;
	if (csp && csp_frame_ancestors(csp))
		return;
	if (v == NULL) {
		finding(j, "missing %s (or CSP frame-ancestors)", name);
		return;
	}
	t = trimmed(v);
	ok = strcasecmp(t, "DENY") == 0 || strcasecmp(t, "SAMEORIGIN") == 0;
	free(t);
	if (!ok)
		finding(j, "%s is \"%s\", expected DENY or SAMEORIGIN", name,
			SHOWN(v));
}

static void
judge_present(struct judge *j, const char *name)
{
	const char *v = hdr(j, name);
	j->nrules++;
	if (v == NULL || *v == '\0')
		finding(j, "missing %s", name);
}

static const char *const safe_referrer[] = {
	"no-referrer",
	"same-origin",
	"strict-origin",
	"strict-origin-when-cross-origin",
	"origin",
	"origin-when-cross-origin",
	NULL,
};

static const char *const known_referrer[] = {
	"no-referrer",
	"no-referrer-when-downgrade",
	"same-origin",
	"origin",
	"strict-origin",
	"origin-when-cross-origin",
	"strict-origin-when-cross-origin",
	"unsafe-url",
	NULL,
};

static bool
in_set(const char *const *set, const char *s, size_t n)
{
	size_t i;
	for (i = 0; set[i]; i++)
		if (strlen(set[i]) == n && strncasecmp(set[i], s, n) == 0)
			return true;
	return false;
}

/* The policy in effect is the last token a browser knows (a comma list
 * lets sites name a fallback first). */
static void
judge_referrer(struct judge *j)
{
	char shown_buf[VALUE_SHOWN * 4 + 8];
	const char *name = "Referrer-Policy";
	const char *v = hdr(j, name), *p, *eff = NULL;
	size_t efflen = 0;

	j->nrules++;
	if (v == NULL) {
		finding(j, "missing %s", name);
		return;
	}
	for (p = v; *p;) {
		size_t n;
		while (*p == ' ' || *p == '\t' || *p == ',')
			p++;
		n = strcspn(p, " \t,");
		if (n && in_set(known_referrer, p, n)) {
			eff = p;
			efflen = n;
		}
		p += n;
	}
	if (eff == NULL || !in_set(safe_referrer, eff, efflen))
		finding(j, "%s is \"%s\", not a safe value", name, SHOWN(v));
}

static void
judge_absent(struct judge *j, const char *name)
{
	char shown_buf[VALUE_SHOWN * 4 + 8];
	const char *v = hdr(j, name);
	j->nrules++;
	if (v)
		finding(j, "%s present: %s", name, SHOWN(v));
}

/* "nginx/1.22.1", "Apache/2.4.57 (Debian)": a digit after a slash, or
 * digits around a dot. */
static bool
has_version(const char *v)
{
	const char *p;
	for (p = v; *p; p++) {
		if (*p == '/' && isdigit((unsigned char)p[1]))
			return true;
		if (isdigit((unsigned char)*p) && p[1] == '.' &&
		    isdigit((unsigned char)p[2]))
			return true;
	}
	return false;
}

static void
judge_server(struct judge *j)
{
	char shown_buf[VALUE_SHOWN * 4 + 8];
	const char *v = hdr(j, "Server");
	j->nrules++;
	if (v && has_version(v))
		finding(j, "Server shows a version: %s", SHOWN(v));
}

/*
 * One rule of the profile: skipped when the user said false, replaced
 * when the user gave a value, else the default. Returns true when the
 * default should run.
 */
static bool
profile_rule(struct judge *j, const char *name, bool *asked)
{
	const struct override *o = override_of(j->sc, name);
	if (asked)
		*asked = o && o->rule == OV_PRESENT;
	if (o == NULL || o->rule == OV_PRESENT)
		return true;
	if (o->rule != OV_SKIP)
		judge_override(j, o);
	return false;
}

static const char *const profile_names[] = {
	"Strict-Transport-Security",
	"X-Content-Type-Options",
	"X-Frame-Options",
	"Content-Security-Policy",
	"Referrer-Policy",
	"X-Powered-By",
	"Server",
	NULL,
};

static bool
in_profile(const char *name)
{
	size_t i;
	for (i = 0; profile_names[i]; i++)
		if (strcasecmp(profile_names[i], name) == 0)
			return true;
	return false;
}

static void
sh_done(struct vd_http_req *req, void *udata)
{
	struct vd_attempt *att = udata;
	const struct sh_conf *sc = att->check->conf;
	struct judge j;
	bool asked;
	size_t i;

	if (vd_http_req_failed(att, req))
		return;
	memset(&j, 0, sizeof(j));
	j.sc = sc;
	j.resp = vd_http_req_resp(req);
	vd_buf_init(&j.findings, 0);

	if (profile_rule(&j, "Strict-Transport-Security", &asked))
		judge_hsts(&j, asked);
	if (profile_rule(&j, "X-Content-Type-Options", NULL))
		judge_nosniff(&j);
	if (profile_rule(&j, "X-Frame-Options", &asked)) {
		/* true: the header itself, CSP frame-ancestors does not do */
		if (asked && hdr(&j, "X-Frame-Options") == NULL)
			judge_present(&j, "X-Frame-Options");
		else
			judge_framing(&j);
	}
	if (profile_rule(&j, "Content-Security-Policy", NULL))
		judge_present(&j, "Content-Security-Policy");
	if (profile_rule(&j, "Referrer-Policy", NULL))
		judge_referrer(&j);
	if (profile_rule(&j, "X-Powered-By", &asked)) {
		if (asked)
			judge_present(&j, "X-Powered-By");
		else
			judge_absent(&j, "X-Powered-By");
	}
	if (profile_rule(&j, "Server", &asked)) {
		if (asked)
			judge_present(&j, "Server");
		else if (listed(sc->absent, sc->nabsent, "Server"))
			judge_absent(&j, "Server");
		else
			judge_server(&j);
	}
	for (i = 0; i < sc->nov; i++)
		if (!in_profile(sc->ov[i].name)) {
			if (sc->ov[i].rule == OV_PRESENT)
				judge_present(&j, sc->ov[i].name);
			else if (sc->ov[i].rule != OV_SKIP)
				judge_override(&j, &sc->ov[i]);
		}
	/* profile headers listed here were judged above */
	for (i = 0; i < sc->nabsent; i++)
		if (!in_profile(sc->absent[i]) &&
		    override_of(sc, sc->absent[i]) == NULL)
			judge_absent(&j, sc->absent[i]);

	vd_result_fact_num(att->result, "findings_count", j.nfindings);
	if (j.nfindings)
		vd_result_fact_str(att->result, "findings", j.findings.data);
	if (j.nfindings)
		vd_attempt_finish(att, VD_STATUS_FAIL, VD_REASON_POLICY,
				  "%u finding%s: %s", j.nfindings,
				  j.nfindings == 1 ? "" : "s", j.findings.data);
	else
		vd_attempt_finish(att, VD_STATUS_PASS, VD_REASON_NONE,
				  "status %ld, %u header rules passed",
				  j.resp->status, j.nrules);
	vd_buf_free(&j.findings);
}

static void
sh_start(struct vd_attempt *att)
{
	const struct vd_check *chk = att->check;
	const struct sh_conf *sc = chk->conf;
	struct sh_run *run = vd_xcalloc(1, sizeof(*run));
	struct vd_http_req_opts o;

	memset(&o, 0, sizeof(o));
	o.url = sc->url;
	o.hdr_names = sc->hdr_names;
	o.hdr_values = sc->hdr_values;
	o.nhdrs = sc->nhdrs;
	o.follow_redirects = sc->follow_redirects;
	o.max_redirects = sc->max_redirects;
	o.allow_link_local = sc->allow_link_local;
	o.tls = &chk->tls;
	o.max_body = chk->max_body;
	att->data = run;
	run->req = vd_http_req_start(att, &o, sh_done, att);
}

static void
sh_cancel(struct vd_attempt *att)
{
	struct sh_run *run = att->data;
	if (run == NULL)
		return;
	vd_http_req_free(run->req);
	free(run);
}

static void
sh_timeout_detail(struct vd_attempt *att, char *buf, size_t len)
{
	struct sh_run *run = att->data;
	if (run)
		vd_http_req_progress(run->req, buf, len);
}

static const struct vd_check_key security_headers_keys[] = {
	{"url", VD_KEY_REQUIRED | VD_KEY_TARGET},
	{"headers", 0},
	{"follow_redirects", 0},
	{"max_redirects", 0},
	{"allow_link_local", 0},
	{"expect", 0},
	{"max_body", 0},
	{NULL, 0},
};

const struct vd_check_type vd_check_security_headers = {
	.name = "security_headers",
	.parse = sh_parse,
	.start = sh_start,
	.cancel = sh_cancel,
	.free = sh_free,
	.timeout_detail = sh_timeout_detail,
	.flags = VD_TYPE_TLS,
	.target = VD_TARGET_URL,
	.keys = security_headers_keys,
};
