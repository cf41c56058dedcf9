/*
 * init.c - `verdict init URL [FILE]`: looks at a URL once and writes a
 * starter suite of the checks that pass today (status and response time,
 * TLS certificate, security headers, a JSON health endpoint), each with a
 * "description" saying what it guards. The candidates are a suite run
 * once through the prober: no HTTP client of its own. Depends on the
 * prober, the suite loader, cJSON and libcurl's URL parser only.
 */
#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "init.h"
#include "suite.h"
#include "../lib/app.h"
#include "../lib/exit.h"
#include "../lib/log.h"
#include "../lib/util.h"

#define DEFAULT_FILE "verdict.json"
#define TLS_MIN_DAYS 14
#define MAX_TIME_X   10	 /* max_time: this many times the time measured */
#define MAX_TIME_MIN 1.0 /* seconds, at least */

/* Paths where applications commonly serve JSON health, in order of
 * preference: the first that answers is kept. */
static const char *const health_paths[] = {
	"/health",
	"/healthz",
	"/health/",
	"/api/health",
	"/api/health/",
	"/api/healthz",
	"/api/system/health/",
	"/status",
	"/readyz",
	"/livez",
	NULL,
};

/* Headers of the security_headers profile worth keeping when present. */
static const char *const sec_headers[] = {
	"Strict-Transport-Security",
	"X-Content-Type-Options",
	"X-Frame-Options",
	"Content-Security-Policy",
	"Referrer-Policy",
	"Permissions-Policy",
	NULL,
};

enum cand_kind { C_HOME, C_TLS, C_SECHDR, C_HEADER, C_HEALTH };

/* One candidate check and what its run said. */
struct cand {
	enum cand_kind kind;
	cJSON *obj;		/* the check as it would be written (owned) */
	const char *what;	/* C_HEADER: the header; C_HEALTH: the path */
	const char *status_val; /* C_HEALTH: the JSON "status" expected,
				 * NULL: none */
	enum vd_status status;
	char *reason;  /* masked */
	double total;  /* seconds, the attempt's total; < 0 unknown */
	double days;   /* C_TLS: days left; < 0 unknown */
	char *tls_ver; /* C_TLS: negotiated protocol, or NULL */
	bool ran;
};

struct target {
	char *url;  /* as given */
	char *host; /* without brackets */
	long port;
	bool https;
	CURLU *cu;
};

static void
usage(FILE *f)
{
	fprintf(f,
		"usage: verdict init [options] URL [FILE]\n"
		"\n"
		"Looks at URL once (status and response time, TLS "
		"certificate, security\n"
		"headers, a JSON health endpoint at common paths such as "
		"/health, /healthz,\n"
		"/api/health/) and writes a starter suite of the checks that "
		"pass today, each\n"
		"with a \"description\" of what it guards, to FILE (default "
		"%s; - for\n"
		"stdout). An existing FILE is never overwritten.\n"
		"\n"
		"options:\n"
		"      --ca-file FILE   trust this CA for URL (written into "
		"the suite's tls\n"
		"                       objects as an absolute path)\n"
		"      --name NAME      the suite's name (default: the host)\n"
		"      --timeout DUR    deadline of each check (default 5s)\n"
		"  -h, --help           this help\n"
		"\n"
		"Exit codes: 0 the suite was written, 1 nothing passed or "
		"FILE could not be\n"
		"written (nothing is left behind), 2 usage error, bad URL, "
		"FILE exists or\n"
		"its folder cannot take it (nothing was probed), 128 + N "
		"stopped by signal N.\n",
		DEFAULT_FILE);
}

/* s with every '$' doubled: suite strings take ${VAR}, and a URL may
 * hold a '$' of its own. */
static char *
lit(const char *s)
{
	struct vd_buf b;
	vd_buf_init(&b, 0);
	for (; *s; s++) {
		if (*s == '$')
			vd_buf_puts(&b, "$$");
		else
			vd_buf_append(&b, s, 1);
	}
	return vd_buf_steal(&b);
}

static void
add_str(cJSON *o, const char *key, const char *val)
{
	char *l = lit(val);
	cJSON_AddStringToObject(o, key, l);
	free(l);
}

static cJSON *
new_check(const char *name, const char *type, const char *descr)
{
	cJSON *o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "name", name);
	cJSON_AddStringToObject(o, "type", type);
	add_str(o, "description", descr);
	return o;
}

static void
add_tls(cJSON *o, const char *ca)
{
	if (ca) {
		cJSON *t = cJSON_AddObjectToObject(o, "tls");
		add_str(t, "ca_file", ca);
	}
}

static struct cand *
cand_add(struct cand **v, size_t *n, enum cand_kind kind, cJSON *obj,
	 const char *what)
{
	struct cand *c;
	*v = vd_xreallocarray(*v, *n + 1, sizeof(**v));
	c = &(*v)[(*n)++];
	memset(c, 0, sizeof(*c));
	c->kind = kind;
	c->obj = obj;
	c->what = what;
	c->total = c->days = -1;
	return c;
}

/* url with its path replaced by path, no query or fragment. */
static char *
url_with_path(CURLU *cu, const char *path)
{
	CURLU *d = curl_url_dup(cu);
	char *u = NULL, *r;
	if (curl_url_set(d, CURLUPART_PATH, path, 0) != CURLUE_OK ||
	    curl_url_set(d, CURLUPART_QUERY, NULL, 0) != CURLUE_OK ||
	    curl_url_set(d, CURLUPART_FRAGMENT, NULL, 0) != CURLUE_OK ||
	    curl_url_get(d, CURLUPART_URL, &u, 0) != CURLUE_OK) {
		curl_url_cleanup(d);
		return NULL;
	}
	r = vd_xstrdup(u);
	curl_free(u);
	curl_url_cleanup(d);
	return r;
}

/* Fills t from url. Returns 0, or -1 after a message on stderr. */
static int
target_parse(struct target *t, const char *url)
{
	char *scheme = NULL, *host = NULL, *port = NULL, *user = NULL,
	     *query = NULL;
	int r = -1;
	size_t n;

	memset(t, 0, sizeof(*t));
	t->cu = curl_url();
	if (curl_url_set(t->cu, CURLUPART_URL, url, 0) != CURLUE_OK ||
	    curl_url_get(t->cu, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
	    curl_url_get(t->cu, CURLUPART_HOST, &host, 0) != CURLUE_OK ||
	    curl_url_get(t->cu, CURLUPART_PORT, &port, CURLU_DEFAULT_PORT) !=
		    CURLUE_OK) {
		vd_log("init", "URL: expected "
			       "http://HOST[:PORT][/PATH] or https://...");
		goto out;
	}
	if (strcmp(scheme, "http") != 0 && strcmp(scheme, "https") != 0) {
		vd_log("init", "URL: scheme must be http or https");
		goto out;
	}
	if (curl_url_get(t->cu, CURLUPART_USER, &user, 0) == CURLUE_OK) {
		/* a password written into a suite file is a secret at rest */
		vd_log("init", "URL: no user or password in the URL; "
			       "add \"auth\" with password_env to the suite "
			       "instead");
		goto out;
	}
	if (curl_url_get(t->cu, CURLUPART_QUERY, &query, 0) == CURLUE_OK) {
		const char *q = query;
		while (*q) {
			size_t len = strcspn(q, "&"), nl = strcspn(q, "=&");
			if (vd_query_name_is_secret(q, nl)) {
				vd_log("init",
				       "URL: the query "
				       "parameter \"%.*s\" looks like a "
				       "secret, which the suite file would "
				       "hold; leave it out and add it to the "
				       "suite as ${VARIABLE}",
				       (int)(nl > 64 ? 64 : nl), q);
				goto out;
			}
			q += len + (q[len] == '&');
		}
	}
	t->url = vd_xstrdup(url);
	n = strlen(host);
	if (n >= 2 && host[0] == '[' && host[n - 1] == ']')
		t->host = vd_xstrndup(host + 1, n - 2);
	else
		t->host = vd_xstrdup(host);
	t->port = strtol(port, NULL, 10);
	t->https = strcmp(scheme, "https") == 0;
	r = 0;
out:
	curl_free(scheme);
	curl_free(host);
	curl_free(port);
	curl_free(user);
	curl_free(query);
	return r;
}

static void
target_free(struct target *t)
{
	free(t->url);
	free(t->host);
	curl_url_cleanup(t->cu);
}

/* Builds every candidate. Returns the number of them. */
static size_t
candidates(const struct target *t, const char *ca, struct cand **out)
{
	struct cand *v = NULL;
	size_t n = 0, i;
	cJSON *o, *e;
	char *d;

	o = new_check("home", "http", "");
	add_str(o, "url", t->url);
	add_tls(o, ca);
	cand_add(&v, &n, C_HOME, o, NULL);

	if (t->https) {
		o = new_check("tls", "tls", "");
		add_str(o, "host", t->host);
		cJSON_AddNumberToObject(o, "port", (double)t->port);
		add_tls(o, ca);
		e = cJSON_AddObjectToObject(o, "expect");
		cJSON_AddTrueToObject(e, "verify");
		cJSON_AddNumberToObject(e, "min_days_left", TLS_MIN_DAYS);
		cJSON_AddStringToObject(e, "min_version", "TLSv1.2");
		cand_add(&v, &n, C_TLS, o, NULL);
	}

	o = new_check("security-headers", "security_headers", "");
	add_str(o, "url", t->url);
	add_tls(o, ca);
	cand_add(&v, &n, C_SECHDR, o, NULL);

	for (i = 0; sec_headers[i]; i++) {
		char *name = vd_xasprintf("header-%zu", i);
		o = new_check(name, "http", "");
		free(name);
		add_str(o, "url", t->url);
		add_tls(o, ca);
		e = cJSON_AddObjectToObject(o, "expect");
		cJSON_AddTrueToObject(cJSON_AddObjectToObject(e, "headers"),
				      sec_headers[i]);
		cand_add(&v, &n, C_HEADER, o, sec_headers[i]);
	}

	for (i = 0; health_paths[i]; i++) {
		char *u = url_with_path(t->cu, health_paths[i]);
		cJSON *h;
		if (u == NULL)
			continue;
		d = vd_xasprintf("health-%zu", i);
		o = new_check(d, "http", "");
		free(d);
		add_str(o, "url", u);
		free(u);
		add_tls(o, ca);
		h = cJSON_AddObjectToObject(o, "headers");
		cJSON_AddStringToObject(h, "Accept", "application/json");
		e = cJSON_AddObjectToObject(o, "expect");
		cJSON_AddStringToObject(
			cJSON_AddObjectToObject(
				cJSON_AddObjectToObject(e, "headers"),
				"Content-Type"),
			"contains", "json");
		cJSON_AddStringToObject(e, "body_regex", "^\\s*[{\\[]");
		cand_add(&v, &n, C_HEALTH, o, health_paths[i]);
	}
	*out = v;
	return n;
}

/* A suite document of checks (duplicated) with the defaults. */
static cJSON *
suite_doc(const char *name, const char *timeout, cJSON *const *checks, size_t n)
{
	cJSON *doc = cJSON_CreateObject(), *arr;
	size_t i;
	add_str(doc, "name", name);
	if (timeout)
		cJSON_AddStringToObject(
			cJSON_AddObjectToObject(doc, "defaults"), "timeout",
			timeout);
	arr = cJSON_AddArrayToObject(doc, "checks");
	for (i = 0; i < n; i++)
		cJSON_AddItemToArray(arr, cJSON_Duplicate(checks[i], 1));
	return doc;
}

/* Parses doc as a suite; NULL after a message on stderr. */
static struct vd_suite *
doc_load(const cJSON *doc)
{
	char err[1200], *text = cJSON_PrintUnformatted(doc);
	struct vd_suite *s = NULL;
	if (vd_suite_parse(text, strlen(text), "init", NULL, &s, err,
			   sizeof(err)) < 0)
		vd_log("init", "%s", err);
	free(text);
	return s;
}

struct run_ctx {
	struct ev_loop *loop;
	struct cand *cands;
	size_t n;
	bool done;
};

static void
run_done(const struct vd_run_summary *sum, void *udata)
{
	struct run_ctx *ctx = udata;
	size_t i;
	for (i = 0; i < sum->n && i < ctx->n; i++) {
		const struct vd_result *r = &sum->results[i];
		const struct vd_fact *f;
		struct cand *c = &ctx->cands[i];
		c->ran = true;
		c->status = r->status;
		c->reason = vd_xstrdup(r->reason ? r->reason : "");
		c->total = r->timings[VD_PHASE_TOTAL] >= 0
				   ? r->timings[VD_PHASE_TOTAL]
				   : r->duration;
		f = vd_result_fact(r, "tls_days_left");
		if (f && f->kind == VD_FACT_NUM)
			c->days = f->num;
		f = vd_result_fact(r, "tls_version");
		if (f && f->kind == VD_FACT_STR && f->str)
			c->tls_ver = vd_xstrdup(f->str);
	}
	ctx->done = true;
	ev_break(ctx->loop, EVBREAK_ALL);
}

/* Runs every candidate once, concurrently, on the app's loop (SIGINT
 * and SIGTERM break it). Returns 0, or -1 when the run did not end. */
static int
probe_all(struct vd_app *app, struct vd_suite *s, struct cand *cands, size_t n)
{
	struct vd_prober *p = vd_prober_new(app->loop, NULL);
	struct run_ctx ctx = {app->loop, cands, n, false};
	struct vd_run *run;

	run = vd_run_start(p, (const struct vd_check *const *)s->checks,
			   s->nchecks, run_done, NULL, &ctx);
	if (!ctx.done)
		ev_run(app->loop, 0);
	vd_run_free(run);
	vd_prober_free(p);
	return ctx.done ? 0 : -1;
}

static void set_descr(cJSON *o, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void
set_descr(cJSON *o, const char *fmt, ...)
{
	va_list ap;
	char *d, *l;
	va_start(ap, fmt);
	d = vd_xvasprintf(fmt, ap);
	va_end(ap);
	l = lit(d);
	cJSON_ReplaceItemInObjectCaseSensitive(o, "description",
					       cJSON_CreateString(l));
	free(l);
	free(d);
}

/* Appends node as JSON indented by two spaces a level; an object or
 * list that fits in INLINE_MAX bytes stays on one line. */
#define INLINE_MAX 64

static void
print_json(struct vd_buf *b, const cJSON *node, int depth)
{
	char *flat = cJSON_PrintUnformatted(node);
	const cJSON *it;
	bool obj = cJSON_IsObject(node);

	if ((!obj && !cJSON_IsArray(node)) || node->child == NULL ||
	    (strlen(flat) <= INLINE_MAX && depth > 1)) {
		/* cJSON's flat form of a short object has no spaces */
		for (const char *p = flat; *p; p++) {
			vd_buf_append(b, p, 1);
			if (*p == '"') { /* copy the string through */
				for (p++; *p && *p != '"'; p++) {
					vd_buf_append(b, p, 1);
					if (*p == '\\' && p[1])
						vd_buf_append(b, ++p, 1);
				}
				if (*p)
					vd_buf_append(b, p, 1);
				else
					break;
			} else if (*p == ':' || *p == ',') {
				vd_buf_puts(b, " ");
			}
		}
		free(flat);
		return;
	}
	free(flat);
	vd_buf_puts(b, obj ? "{\n" : "[\n");
	cJSON_ArrayForEach(it, node) {
		vd_buf_printf(b, "%*s", (depth + 1) * 2, "");
		if (obj) {
			cJSON *ref = cJSON_CreateStringReference(it->string);
			char *k = cJSON_PrintUnformatted(ref);
			vd_buf_printf(b, "%s: ", k);
			free(k);
			cJSON_Delete(ref);
		}
		print_json(b, it, depth + 1);
		vd_buf_puts(b, it->next ? ",\n" : "\n");
	}
	vd_buf_printf(b, "%*s%s", depth * 2, "", obj ? "}" : "]");
}

/* Writes text to path, which must not exist (O_EXCL: never a file
 * someone made meanwhile). Returns 0, or -1 after a message; a file
 * half written is removed. EEXIST gives -2. */
static int
write_new(const char *path, const char *text)
{
	size_t len = strlen(text), off = 0;
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	if (fd < 0) {
		if (errno == EEXIST)
			return -2;
		vd_log("init", "%s: %s", path, strerror(errno));
		return -1;
	}
	while (off < len) {
		ssize_t w = write(fd, text + off, len - off);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			vd_log("init", "%s: %s", path,
			       strerror(w < 0 ? errno : EIO));
			close(fd);
			unlink(path);
			return -1;
		}
		off += (size_t)w;
	}
	if (close(fd) < 0) {
		vd_log("init", "%s: %s", path, strerror(errno));
		unlink(path);
		return -1;
	}
	return 0;
}

static void
say_exists(const char *path)
{
	char *m = vd_mask_brief(path, 200);
	vd_log("init",
	       "%s exists; not overwritten (remove it or "
	       "name another FILE)",
	       m);
	free(m);
}

/* Values of a health document's "status" that say it is up, tried in
 * this order on the health path found. */
static const char *const health_states[] = {
	"ok", "pass", "healthy", "up", "UP", "green", NULL,
};

/* The first passing health path (round one) gets the "status" its JSON
 * body says, when it says one of health_states: a second run of one
 * candidate per value, the first that passes replaces it. Returns 0, or
 * -1 when the run was stopped. */
static int
health_status(struct vd_app *app, const char *name, const char *timeout,
	      struct cand *v, size_t n)
{
	struct cand *h = NULL, *c2 = NULL;
	cJSON **objs = NULL, *doc;
	struct vd_suite *s;
	size_t i, n2 = 0;
	int r = 0;

	for (i = 0; i < n && h == NULL; i++)
		if (v[i].kind == C_HEALTH && v[i].ran &&
		    v[i].status == VD_STATUS_PASS)
			h = &v[i];
	if (h == NULL)
		return 0;
	for (i = 0; health_states[i]; i++) {
		cJSON *o = cJSON_Duplicate(h->obj, 1), *e;
		char *nm = vd_xasprintf("health-status-%zu", i);
		cJSON_ReplaceItemInObjectCaseSensitive(o, "name",
						       cJSON_CreateString(nm));
		free(nm);
		e = cJSON_GetObjectItemCaseSensitive(o, "expect");
		cJSON_AddStringToObject(cJSON_AddObjectToObject(e, "json"),
					"status", health_states[i]);
		cand_add(&c2, &n2, C_HEALTH, o, h->what);
		c2[n2 - 1].status_val = health_states[i];
	}
	/* NOLINTNEXTLINE(bugprone-sizeof-expression) */
	objs = vd_xcalloc(n2, sizeof(*objs));
	for (i = 0; i < n2; i++)
		objs[i] = c2[i].obj;
	doc = suite_doc(name, timeout, objs, n2);
	s = doc_load(doc);
	cJSON_Delete(doc);
	if (s && probe_all(app, s, c2, n2) < 0)
		r = -1;
	for (i = 0; r == 0 && i < n2; i++)
		if (c2[i].ran && c2[i].status == VD_STATUS_PASS) {
			cJSON_Delete(h->obj);
			h->obj = c2[i].obj;
			h->status_val = c2[i].status_val;
			c2[i].obj = NULL;
			break;
		}
	for (i = 0; i < n2; i++) {
		cJSON_Delete(c2[i].obj);
		free(c2[i].reason);
		free(c2[i].tls_ver);
	}
	free(c2);
	free(objs);
	vd_suite_free(s);
	return r;
}

/* Chooses what to keep and fills keep[] (borrowed objects, adjusted in
 * place; a check made of several candidates goes in *made, the caller's
 * to free). Prints what was left out. Returns how many. */
static size_t
choose(const struct target *t, struct cand *v, size_t n, cJSON **keep,
       cJSON **made)
{
	struct cand *home = NULL, *tls = NULL, *sec = NULL, *health = NULL;
	struct vd_buf hdrs;
	cJSON *present = NULL;
	size_t k = 0, i, nhdr = 0;
	char d[32];

	for (i = 0; i < n; i++) {
		struct cand *c = &v[i];
		bool pass = c->ran && c->status == VD_STATUS_PASS;
		if (c->kind == C_HOME)
			home = c;
		else if (c->kind == C_TLS)
			tls = c;
		else if (c->kind == C_SECHDR)
			sec = c;
		else if (c->kind == C_HEALTH && pass && health == NULL)
			health = c; /* the first path, in order of preference */
	}
	if (home == NULL || sec == NULL)
		return 0; /* candidates() always makes both */
	vd_buf_init(&hdrs, 0);
	for (i = 0; i < n; i++) {
		struct cand *c = &v[i];
		if (c->kind != C_HEADER || !c->ran ||
		    c->status != VD_STATUS_PASS)
			continue;
		if (present == NULL)
			present = cJSON_CreateObject();
		cJSON_AddTrueToObject(present, c->what);
		vd_buf_printf(&hdrs, "%s%s", nhdr++ ? ", " : "", c->what);
	}

	if (health) {
		char *st = health->status_val
				   ? vd_xasprintf(" whose \"status\" is \"%s\"",
						  health->status_val)
				   : vd_xstrdup("");
		cJSON_ReplaceItemInObjectCaseSensitive(
			health->obj, "name", cJSON_CreateString("health"));
		set_descr(health->obj,
			  "GET %s answers 2xx with a JSON body%s: the "
			  "application says it is up. In the health stage, "
			  "which must pass before the other checks run.",
			  health->what, st);
		free(st);
		cJSON_AddStringToObject(health->obj, "stage", "health");
		keep[k++] = health->obj;
	}
	if (home->ran && home->status == VD_STATUS_PASS) {
		double max = home->total * MAX_TIME_X;
		if (max < MAX_TIME_MIN)
			max = MAX_TIME_MIN;
		max = (double)(long)(max + 0.999);
		snprintf(d, sizeof(d), "%lds", (long)max);
		cJSON_AddStringToObject(
			cJSON_AddObjectToObject(home->obj, "expect"),
			"max_time", d);
		set_descr(home->obj,
			  "GET %s answers 2xx (redirects followed) within "
			  "%s: verdict init measured %.0f ms; max_time is "
			  "%d times that, at least 1s.",
			  t->url, d, home->total * 1000.0, MAX_TIME_X);
		keep[k++] = home->obj;
	} else {
		vd_log("init", "not kept: home: %s",
		       home->reason ? home->reason : "did not run");
	}
	if (tls && tls->ran && tls->status == VD_STATUS_PASS) {
		set_descr(tls->obj,
			  "The certificate of %s:%ld verifies, has at least "
			  "%d days left (%.0f when verdict init looked), and "
			  "TLS 1.2 or newer is negotiated (it was %s).",
			  t->host, t->port, TLS_MIN_DAYS, tls->days,
			  tls->tls_ver ? tls->tls_ver : "?");
		keep[k++] = tls->obj;
	} else if (tls) {
		vd_log("init", "not kept: tls: %s",
		       tls->reason ? tls->reason : "did not run");
	}
	if (sec->ran && sec->status == VD_STATUS_PASS) {
		set_descr(sec->obj,
			  "%s sends the security headers of verdict's "
			  "profile (HSTS over https, nosniff, framing, CSP, "
			  "Referrer-Policy) and no X-Powered-By or versioned "
			  "Server.",
			  t->url);
		keep[k++] = sec->obj;
	} else {
		vd_log("init", "not kept: security-headers: %s",
		       sec->reason ? sec->reason : "did not run");
		if (present) {
			/* the headers it sends today must not go missing */
			cJSON *o = new_check("security-headers-present", "http",
					     "");
			const cJSON *url = cJSON_GetObjectItemCaseSensitive(
				home->obj, "url");
			const cJSON *tl = cJSON_GetObjectItemCaseSensitive(
				home->obj, "tls");
			cJSON_AddStringToObject(o, "url", url->valuestring);
			if (tl)
				cJSON_AddItemToObject(o, "tls",
						      cJSON_Duplicate(tl, 1));
			cJSON_AddItemToObject(
				cJSON_AddObjectToObject(o, "expect"), "headers",
				present);
			present = NULL;
			set_descr(o,
				  "%s keeps sending the security headers it "
				  "sends today: %s.",
				  t->url, hdrs.data);
			*made = o;
			keep[k++] = o;
		}
	}
	if (health == NULL)
		vd_log("init",
		       "no JSON health endpoint found (tried "
		       "/health, /healthz, /api/health/ and %zu more "
		       "paths)",
		       sizeof(health_paths) / sizeof(health_paths[0]) - 4);
	cJSON_Delete(present);
	vd_buf_free(&hdrs);
	for (i = 0; health && i < k; i++)
		if (keep[i] != health->obj)
			cJSON_AddStringToObject(keep[i], "stage", "smoke");
	return k;
}

int
vd_cmd_init(struct vd_app *app, int argc, char **argv)
{
	static const struct option longopts[] = {
		{"ca-file", required_argument, NULL, 'A'},
		{"name", required_argument, NULL, 'N'},
		{"timeout", required_argument, NULL, 'T'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	const char *name = NULL, *timeout = NULL, *file = DEFAULT_FILE;
	char *ca = NULL, *text = NULL;
	struct target t;
	struct cand *cands = NULL;
	cJSON **objs = NULL, **keep = NULL, *doc = NULL, *made = NULL;
	struct vd_suite *s = NULL;
	size_t n = 0, k = 0, i;
	int ch, status = VD_EXIT_USAGE, r;
	struct stat sb;
	double dur;

	memset(&t, 0, sizeof(t));
	argv[0] = (char *)"verdict init";
	optind = 1;
	while ((ch = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (ch) {
		case 'A':
			free(ca);
			ca = realpath(optarg, NULL);
			if (ca == NULL) {
				vd_log("init", "--ca-file: %s",
				       strerror(errno));
				goto out;
			}
			break;
		case 'N':
			name = optarg;
			break;
		case 'T':
			if (vd_parse_duration(optarg, &dur) < 0 || dur <= 0) {
				vd_log("init", "--timeout: expected a "
					       "duration like 5s or 500ms");
				goto out;
			}
			timeout = optarg;
			break;
		case 'h':
			usage(stdout);
			status = VD_EXIT_OK;
			goto out;
		default:
			usage(stderr);
			goto out;
		}
	}
	if (optind >= argc || argc - optind > 2) {
		vd_log("init", "expected URL [FILE]");
		usage(stderr);
		goto out;
	}
	if (argc - optind == 2)
		file = argv[optind + 1];
	if (target_parse(&t, argv[optind]) < 0)
		goto out;
	if (strcmp(file, "-") != 0 && lstat(file, &sb) == 0) {
		say_exists(file);
		goto out;
	}
	if (strcmp(file, "-") != 0) {
		/* a folder that cannot take the file: said before probing */
		char *dir = vd_xstrdup(file), *slash = strrchr(dir, '/');
		if (slash)
			slash[slash == dir ? 1 : 0] = '\0';
		r = access(slash ? dir : ".", W_OK);
		if (r < 0) {
			char *m = vd_mask_brief(file, 200);
			vd_log("init", "%s: %s", m, strerror(errno));
			free(m);
		}
		free(dir);
		if (r < 0)
			goto out;
	}
	if (ca && !t.https) {
		vd_log("init", "--ca-file: URL is not https");
		goto out;
	}

	n = candidates(&t, ca, &cands);
	/* an array of pointers: the size of a pointer is meant */
	/* NOLINTNEXTLINE(bugprone-sizeof-expression) */
	objs = vd_xcalloc(n, sizeof(*objs));
	for (i = 0; i < n; i++)
		objs[i] = cands[i].obj;
	doc = suite_doc(name ? name : t.host, timeout, objs, n);
	s = doc_load(doc);
	cJSON_Delete(doc);
	doc = NULL;
	if (s == NULL)
		goto out;
	status = VD_EXIT_FAIL;
	if (probe_all(app, s, cands, n) < 0 ||
	    health_status(app, name ? name : t.host, timeout, cands, n) < 0) {
		if (app->signal) {
			vd_log("init", "stopped by %s; nothing written",
			       strsignal(app->signal));
			status = VD_EXIT_SIGNAL_BASE + app->signal;
		} else {
			vd_log("init", "the loop stopped early; nothing "
				       "written");
		}
		goto out;
	}
	/* NOLINTNEXTLINE(bugprone-sizeof-expression) */
	keep = vd_xcalloc(n, sizeof(*keep));
	k = choose(&t, cands, n, keep, &made);
	if (k == 0) {
		vd_log("init", "nothing at the URL passed; no suite "
			       "written");
		goto out;
	}
	doc = suite_doc(name ? name : t.host, timeout, keep, k);
	vd_suite_free(s);
	s = doc_load(doc); /* what is written must load */
	if (s == NULL)
		goto out;
	{
		struct vd_buf b;
		vd_buf_init(&b, 0);
		print_json(&b, doc, 0);
		vd_buf_puts(&b, "\n");
		text = vd_buf_steal(&b);
	}
	if (strcmp(file, "-") == 0) {
		if (fputs(text, stdout) < 0 || fflush(stdout) != 0) {
			vd_log("init", "could not write "
				       "stdout");
			goto out;
		}
	} else {
		r = write_new(file, text);
		if (r == -2) {
			say_exists(file);
			status = VD_EXIT_USAGE;
			goto out;
		}
		if (r < 0)
			goto out;
	}
	{
		struct vd_buf names;
		char *m;
		vd_buf_init(&names, 0);
		for (i = 0; i < k; i++)
			vd_buf_printf(&names, "%s%s", i ? ", " : "",
				      cJSON_GetObjectItemCaseSensitive(keep[i],
								       "name")
					      ->valuestring);
		m = vd_mask_brief(strcmp(file, "-") == 0 ? "stdout" : file,
				  200);
		vd_log("init", "wrote %s: %zu check%s (%s)", m, k,
		       k == 1 ? "" : "s", names.data);
		free(m);
		vd_buf_free(&names);
	}
	status = VD_EXIT_OK;
out:
	for (i = 0; i < n; i++) {
		cJSON_Delete(cands[i].obj);
		free(cands[i].reason);
		free(cands[i].tls_ver);
	}
	free(cands);
	free(objs);
	free(keep);
	cJSON_Delete(made);
	free(text);
	cJSON_Delete(doc);
	vd_suite_free(s);
	free(ca);
	target_free(&t);
	return status;
}
