/*
 * config.c - loads deploy.json: environment, state directory, registry
 * pre-flight, hooks, the health and smoke suites (files or inline) and
 * notifiers. Every error names the file and the place. Knows nothing of
 * how a deployment runs.
 */
#include <ctype.h>
#include <errno.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../lib/proc.h"
#include "dep_int.h"

#define MAX_CONFIG_BYTES ((size_t)1024 * 1024)
#define MAX_SUITE_BYTES	 ((size_t)16 * 1024 * 1024)

/* Placeholders filled in when a hook runs, never from the environment. */
static const char *const placeholders[] = {
	"VERSION", "PREVIOUS_VERSION", "DEPLOYMENT_ID", "ENVIRONMENT", NULL};

bool
vd_dep_name_ok(const char *s)
{
	size_t n;
	if (s == NULL)
		return false;
	n = strlen(s);
	if (n == 0 || n > 128 || s[0] == '-' || s[0] == '.' ||
	    strstr(s, "..") != NULL)
		return false;
	for (; *s; s++)
		if (!(isalnum((unsigned char)*s) || *s == '.' || *s == '_' ||
		      *s == '-' || *s == '+'))
			return false;
	return true;
}

char *
vd_dep_escape(const char *s, size_t max, bool quoted)
{
	struct vd_buf b;
	size_t n = 0;
	vd_buf_init(&b, 0);
	for (; s && *s; s++, n++) {
		unsigned char c = (unsigned char)*s;
		if (max && n >= max) {
			vd_buf_puts(&b, "...");
			break;
		}
		if (c == '\n')
			vd_buf_puts(&b, "\\n");
		else if (c == '\r')
			vd_buf_puts(&b, "\\r");
		else if (c == '\t')
			vd_buf_puts(&b, "\\t");
		else if (quoted && (c == '\\' || c == '"'))
			vd_buf_printf(&b, "\\%c", c);
		else if (c < 0x20 || c == 0x7f)
			vd_buf_printf(&b, "\\x%02x", c);
		else
			vd_buf_append(&b, s, 1);
	}
	return vd_buf_steal(&b);
}

/* ${VAR}, ${VAR:-default} and $$, like suite files, but the hook
 * placeholders are kept as they are. NULL (and why) on error. */
static char *
interpolate(const char *s, char *why, size_t whylen)
{
	return vd_interpolate_keep(s, placeholders, why, whylen);
}

/* Values of environment variables whose names look secret are masked
 * wherever verdict prints or records (hook output included), whether or
 * not the config names them. */
static void
register_env_secrets(void)
{
	extern char **environ;
	size_t i;
	for (i = 0; environ[i]; i++) {
		const char *eq = strchr(environ[i], '=');
		char *name;
		if (eq == NULL || eq[1] == '\0')
			continue;
		name = vd_xstrndup(environ[i], (size_t)(eq - environ[i]));
		if (vd_env_name_is_secret(name))
			vd_secret_add(eq + 1);
		free(name);
	}
}

/* path relative to the config's directory, unless absolute. */
static char *
beside(const char *cfgdir, const char *path)
{
	if (path == NULL)
		return NULL;
	if (path[0] == '/' || strcmp(cfgdir, ".") == 0)
		return vd_xstrdup(path);
	if (strcmp(path, ".") == 0)
		return vd_xstrdup(cfgdir);
	return vd_xasprintf("%s/%s", cfgdir, path);
}

static void
hook_free(struct vd_dep_hook_conf *h)
{
	if (h == NULL)
		return;
	free(h->name);
	vd_strlist_free(h->argv, h->argc);
	vd_strlist_free(h->env_names, h->nenv);
	vd_strlist_free(h->env_values, h->nenv);
	free(h->cwd);
	free(h);
}

static int
parse_hook(struct vd_cfg *hooks, const char *name, const char *cfgdir,
	   struct vd_dep_hook_conf **out)
{
	struct vd_cfg c;
	struct vd_dep_hook_conf *h;
	int r;
	size_t i;

	r = vd_cfg_child(hooks, name, &c);
	if (r <= 0)
		return r;
	h = vd_xcalloc(1, sizeof(*h));
	h->name = vd_xstrdup(name);
	h->timeout = 600;
	h->kill_grace = 5;
	h->max_output = (size_t)64 * 1024;
	r = vd_cfg_strlist(&c, "argv", &h->argv, &h->argc);
	if (!r && h->argc == 0)
		r = vd_cfg_error(
			&c, "argv",
			"required: the program and its arguments, e.g. "
			"[\"./deploy.sh\", \"${VERSION}\"]");
	for (i = 0; !r && i < h->argc; i++)
		if (h->argv[i][0] == '\0' && i == 0)
			r = vd_cfg_error(&c, "argv[0]", "empty program name");
	if (!r)
		r = vd_cfg_duration(&c, "timeout", &h->timeout);
	if (!r && h->timeout <= 0)
		r = vd_cfg_error(&c, "timeout", "must be more than 0");
	if (!r)
		r = vd_cfg_duration(&c, "kill_grace", &h->kill_grace);
	if (!r)
		r = vd_cfg_size(&c, "max_output", &h->max_output);
	if (!r)
		r = vd_cfg_strmap(&c, "env", &h->env_names, &h->env_values,
				  &h->nenv);
	for (i = 0; !r && i < h->nenv; i++) {
		const char *k = h->env_names[i];
		if (*k == '\0' || strchr(k, '=') != NULL)
			r = vd_cfg_error(&c, "env",
					 "invalid variable name \"%s\"", k);
	}
	if (!r)
		r = vd_cfg_str(&c, "cwd", false, &h->cwd);
	if (!r) {
		char *cwd = beside(cfgdir, h->cwd ? h->cwd : ".");
		free(h->cwd);
		h->cwd = cwd;
	}
	if (!r)
		r = vd_cfg_finish(&c);
	vd_cfg_release(&c);
	if (r) {
		hook_free(h);
		return r;
	}
	*out = h;
	return 0;
}

static bool
selected(const struct vd_check *chk, char **only, size_t nonly)
{
	size_t i;
	if (nonly == 0)
		return true;
	for (i = 0; i < nonly; i++)
		if (vd_check_matches(chk, only[i]) ||
		    strcmp(chk->stage, only[i]) == 0)
			return true;
	return false;
}

void
vd_dep_suite_src_free(struct vd_dep_suite_src *src)
{
	if (src == NULL)
		return;
	free(src->name);
	free(src->text);
	free(src->file);
	vd_strlist_free(src->only, src->nonly);
	free(src);
}

int
vd_dep_suite_load(const struct vd_dep_suite_src *src,
		  const struct vd_dep_hook_vars *v, struct vd_suite **out,
		  char *err, size_t errlen)
{
	struct vd_suite_load_opts opts;
	struct vd_suite *s = NULL;
	char *vars[5], *dir = NULL;
	size_t i, n = 0;
	int r;

	*out = NULL;
	vars[0] = vd_xasprintf("VERSION=%s", v->version ? v->version : "");
	vars[1] = vd_xasprintf("PREVIOUS_VERSION=%s",
			       v->previous_version ? v->previous_version : "");
	vars[2] = vd_xasprintf("DEPLOYMENT_ID=%s",
			       v->deployment_id ? v->deployment_id : "");
	vars[3] = vd_xasprintf("ENVIRONMENT=%s",
			       v->environment ? v->environment : "");
	vars[4] = NULL;
	memset(&opts, 0, sizeof(opts));
	opts.vars = (const char *const *)vars;
	if (src->file) {
		/* a suite file's relative paths are its folder's */
		char *copy = vd_xstrdup(src->file);
		dir = vd_xstrdup(dirname(copy));
		free(copy);
		opts.base_dir = dir;
	}
	r = vd_suite_parse(src->text, strlen(src->text), src->name, &opts, &s,
			   err, errlen);
	free(dir);
	for (i = 0; i < 4; i++)
		free(vars[i]);
	if (r < 0)
		return r;
	for (i = 0; i < s->nchecks; i++) {
		if (selected(s->checks[i], src->only, src->nonly))
			s->checks[n++] = s->checks[i];
		else
			vd_check_free(s->checks[i]);
	}
	s->nchecks = n;
	if (n == 0) {
		snprintf(err, errlen,
			 "%s: no check has one of the names, tags or stages "
			 "of \"only\"",
			 src->name);
		vd_suite_free(s);
		return VD_ERR_CONFIG;
	}
	if (src->file)
		s->path = vd_xstrdup(src->file);
	*out = s;
	return 0;
}

/* Values the suites are checked with when the config loads: a version
 * like any other; the real ones are filled in per deployment phase. */
static int
load_sample(struct vd_dep_config *cfg, const struct vd_dep_suite_src *src,
	    struct vd_suite **out, char *err, size_t errlen)
{
	struct vd_dep_hook_vars v;
	v.version = "0.0.0";
	v.previous_version = "";
	v.deployment_id = "20000101T000000Z-000000";
	v.environment = cfg->environment;
	return vd_dep_suite_load(src, &v, out, err, errlen);
}

/* { "suite": "staging.json", "only": ["health"] }: the checks of a suite
 * file whose name, tag or stage is listed. */
static int
parse_suite_ref(struct vd_cfg *top, const char *key, const char *cfgdir,
		struct vd_dep_config *cfg, struct vd_dep_suite_src **srcp,
		struct vd_suite **out)
{
	struct vd_cfg c;
	struct vd_dep_suite_src *src;
	struct vd_buf b;
	char *path = NULL, *p = NULL, msg[1200], why[200];
	size_t i;
	int r;

	r = vd_cfg_child(top, key, &c);
	if (r <= 0)
		return r;
	src = vd_xcalloc(1, sizeof(*src));
	r = vd_cfg_str(&c, "suite", true, &path);
	if (!r)
		r = vd_cfg_strlist(&c, "only", &src->only, &src->nonly);
	if (!r)
		r = vd_cfg_finish(&c);
	if (!r && (p = interpolate(path, why, sizeof(why))) == NULL)
		r = vd_cfg_error(&c, "suite", "%s", why);
	for (i = 0; !r && i < src->nonly; i++) {
		char *v = interpolate(src->only[i], why, sizeof(why));
		if (v == NULL) {
			r = vd_cfg_error(&c, "only", "%s", why);
			break;
		}
		free(src->only[i]);
		src->only[i] = v;
	}
	if (!r) {
		src->file = beside(cfgdir, p);
		src->name = vd_xstrdup(src->file);
		r = vd_read_file(src->file, MAX_SUITE_BYTES, &b, msg,
				 sizeof(msg));
		if (r == 0 && memchr(b.data, '\0', b.len) != NULL) {
			snprintf(msg, sizeof(msg),
				 "%s: file contains a NUL byte", src->file);
			r = VD_ERR_CONFIG;
		}
		if (r == 0)
			src->text = vd_buf_steal(&b);
		else
			vd_cfg_error_at(top->err, "", "", "%s", msg);
		vd_buf_free(&b);
	}
	if (!r) {
		r = load_sample(cfg, src, out, msg, sizeof(msg));
		if (r < 0 && *out == NULL && strstr(msg, "no check has") &&
		    src->nonly)
			r = vd_cfg_error(&c, "only",
					 "no check of %s has one of these "
					 "names, tags or stages",
					 p);
		else if (r < 0)
			vd_cfg_error_at(top->err, "", "", "%s", msg);
	}
	vd_cfg_release(&c);
	free(path);
	free(p);
	if (r) {
		vd_dep_suite_src_free(src);
		return VD_ERR_CONFIG;
	}
	*srcp = src;
	return 0;
}

/* "health": a suite file (relative to the config), an inline suite, or
 * { "suite": FILE, "only": [names, tags or stages] }. The text is kept:
 * the suite is loaded again per deployment phase with ${VERSION} & co. */
static int
parse_suite(struct vd_cfg *top, const char *key, const char *file,
	    const char *cfgdir, const cJSON *raw, struct vd_dep_config *cfg,
	    struct vd_dep_suite_src **srcp, struct vd_suite **out)
{
	const cJSON *it = vd_cfg_take(top, key);
	struct vd_dep_suite_src *src;
	char msg[1200];
	int r = 0;

	if (it == NULL)
		return 0;
	if (cJSON_IsObject(it) && cJSON_GetObjectItemCaseSensitive(it, "suite"))
		return parse_suite_ref(top, key, cfgdir, cfg, srcp, out);
	src = vd_xcalloc(1, sizeof(*src));
	if (cJSON_IsString(it)) {
		char why[200], *p;
		struct vd_buf b;
		p = interpolate(it->valuestring, why, sizeof(why));
		if (p == NULL) {
			vd_dep_suite_src_free(src);
			return vd_cfg_error(top, key, "%s", why);
		}
		src->file = beside(cfgdir, p);
		src->name = vd_xstrdup(src->file);
		free(p);
		r = vd_read_file(src->file, MAX_SUITE_BYTES, &b, msg,
				 sizeof(msg));
		if (r == 0 && memchr(b.data, '\0', b.len) != NULL) {
			snprintf(msg, sizeof(msg),
				 "%s: file contains a NUL byte", src->file);
			r = VD_ERR_CONFIG;
		}
		if (r == 0)
			src->text = vd_buf_steal(&b);
		vd_buf_free(&b);
	} else if (cJSON_IsObject(it)) {
		/* the raw object: interpolated once, by the suite loader */
		const cJSON *s = cJSON_GetObjectItemCaseSensitive(raw, key);
		src->text = cJSON_PrintUnformatted(s);
		if (src->text == NULL)
			abort();
		src->name = vd_xasprintf("%s: %s", file, key);
	} else {
		vd_dep_suite_src_free(src);
		return vd_cfg_error(top, key,
				    "expected a suite file name or an inline "
				    "suite object");
	}
	if (r == 0)
		r = load_sample(cfg, src, out, msg, sizeof(msg));
	if (r < 0) {
		vd_cfg_error_at(top->err, "", "", "%s", msg);
		vd_dep_suite_src_free(src);
		return VD_ERR_CONFIG;
	}
	*srcp = src;
	return 0;
}

static int
parse_registry(struct vd_cfg *top, struct vd_dep_config *cfg)
{
	struct vd_cfg c;
	struct vd_dep_registry_conf *rc;
	char *pwenv = NULL;
	size_t i, n;
	int r;

	r = vd_cfg_child(top, "registry", &c);
	if (r <= 0)
		return r;
	rc = vd_xcalloc(1, sizeof(*rc));
	cfg->registry = rc;
	rc->timeout = 30;
	rc->tls.verify = true;
	r = vd_cfg_str(&c, "url", true, &rc->url);
	if (!r && !vd_startswith(rc->url, "https://") &&
	    !vd_startswith(rc->url, "http://"))
		r = vd_cfg_error(&c, "url",
				 "expected an http:// or https:// URL, e.g. "
				 "\"https://ghcr.io\"");
	if (!r) {
		n = strlen(rc->url);
		while (n > 0 && rc->url[n - 1] == '/')
			rc->url[--n] = '\0';
	}
	if (!r)
		r = vd_cfg_strlist(&c, "images", &rc->images, &rc->nimages);
	if (!r && rc->nimages == 0)
		r = vd_cfg_error(&c, "images",
				 "required: repository names, e.g. "
				 "[\"owner/app\"]");
	for (i = 0; !r && i < rc->nimages; i++) {
		const char *s = rc->images[i];
		bool ok = *s && *s != '/' && s[strlen(s) - 1] != '/' &&
			  strstr(s, "..") == NULL && strstr(s, "//") == NULL &&
			  strlen(s) <= 255;
		for (; ok && *s; s++)
			ok = islower((unsigned char)*s) ||
			     isdigit((unsigned char)*s) || *s == '.' ||
			     *s == '_' || *s == '-' || *s == '/';
		if (!ok)
			r = vd_cfg_error(&c, "images",
					 "invalid repository name \"%s\" "
					 "(lower-case letters, digits, '.', "
					 "'_', '-', '/')",
					 rc->images[i]);
	}
	if (!r)
		r = vd_cfg_str(&c, "username", false, &rc->username);
	if (!r)
		r = vd_cfg_str(&c, "password_env", false, &pwenv);
	if (!r && pwenv) {
		const char *v = getenv(pwenv);
		if (v == NULL || *v == '\0')
			r = vd_cfg_error(&c, "password_env",
					 "environment variable %s is not set",
					 pwenv);
		else {
			rc->password = vd_xstrdup(v);
			vd_secret_add(v);
		}
	}
	if (!r)
		r = vd_cfg_duration(&c, "timeout", &rc->timeout);
	if (!r && rc->timeout <= 0)
		r = vd_cfg_error(&c, "timeout", "must be more than 0");
	if (!r)
		r = vd_cfg_tls(&c, &rc->tls);
	if (!r)
		r = vd_cfg_finish(&c);
	free(pwenv);
	vd_cfg_release(&c);
	return r;
}

static int
add_notifier(struct vd_dep_config *cfg, const struct vd_notifier_type *t,
	     const cJSON *obj, const char *file, const char *path,
	     struct vd_cfg_err *err, size_t nth)
{
	struct vd_cfg c;
	struct vd_dep_notifier *n;
	void *conf = NULL;
	int r;

	if (!cJSON_IsObject(obj))
		return vd_cfg_error_at(err, file, path, "expected an object");
	vd_cfg_init(&c, obj, file, path, err);
	r = t->parse(&c, &conf);
	if (!r)
		r = vd_cfg_finish(&c);
	vd_cfg_release(&c);
	if (r) {
		t->free(conf);
		return r;
	}
	cfg->notifiers = vd_xreallocarray(cfg->notifiers, cfg->nnotifiers + 1,
					  sizeof(*cfg->notifiers));
	n = &cfg->notifiers[cfg->nnotifiers++];
	n->type = t;
	n->conf = conf;
	n->key = nth ? vd_xasprintf("%s#%zu", t->name, nth + 1)
		     : vd_xstrdup(t->name);
	return 0;
}

static int
parse_notify(struct vd_cfg *top, struct vd_dep_config *cfg)
{
	struct vd_cfg c;
	const cJSON *it;
	size_t k;
	int r;

	r = vd_cfg_child(top, "notify", &c);
	if (r <= 0)
		return r;
	r = vd_cfg_int(&c, "retries", 0, 20, &cfg->notify_retries);
	if (!r)
		r = vd_cfg_duration(&c, "interval", &cfg->notify_interval);
	if (!r)
		r = vd_cfg_duration(&c, "timeout", &cfg->notify_timeout);
	if (!r && cfg->notify_timeout <= 0)
		r = vd_cfg_error(&c, "timeout", "must be more than 0");
	for (k = 0; !r && vd_notifier_types[k]; k++) {
		const struct vd_notifier_type *t = vd_notifier_types[k];
		char path[600];
		it = vd_cfg_take(&c, t->name);
		if (it == NULL)
			continue;
		snprintf(path, sizeof(path), "%s.%s", c.path, t->name);
		if (cJSON_IsArray(it)) {
			const cJSON *el;
			size_t i = 0;
			cJSON_ArrayForEach(el, it) {
				char sub[640];
				snprintf(sub, sizeof(sub), "%s[%zu]", path, i);
				r = add_notifier(cfg, t, el, c.file, sub, c.err,
						 i);
				if (r)
					break;
				i++;
			}
		} else {
			r = add_notifier(cfg, t, it, c.file, path, c.err, 0);
		}
	}
	if (!r && c.obj->child != NULL) {
		/* name the types we know when a key is unknown */
		size_t i = 0;
		cJSON_ArrayForEach(it, c.obj) {
			if (!c.taken[i]) {
				struct vd_buf known;
				vd_buf_init(&known, 0);
				for (k = 0; vd_notifier_types[k]; k++)
					vd_buf_printf(
						&known, "%s, ",
						vd_notifier_types[k]->name);
				r = vd_cfg_error(&c, it->string,
						 "unknown key (notifiers: %sor "
						 "retries, interval, timeout)",
						 known.data);
				vd_buf_free(&known);
				break;
			}
			i++;
		}
	}
	vd_cfg_release(&c);
	return r;
}

void
vd_dep_config_free(struct vd_dep_config *c)
{
	size_t i;
	if (c == NULL)
		return;
	free(c->path);
	free(c->environment);
	free(c->state_dir);
	if (c->registry) {
		free(c->registry->url);
		vd_strlist_free(c->registry->images, c->registry->nimages);
		free(c->registry->username);
		vd_free_secret(c->registry->password);
		vd_tls_opts_free(&c->registry->tls);
		free(c->registry);
	}
	hook_free(c->deploy);
	hook_free(c->promote);
	hook_free(c->rollback);
	vd_suite_free(c->health);
	vd_suite_free(c->smoke);
	vd_dep_suite_src_free(c->health_src);
	vd_dep_suite_src_free(c->smoke_src);
	for (i = 0; i < c->nnotifiers; i++) {
		c->notifiers[i].type->free(c->notifiers[i].conf);
		free(c->notifiers[i].key);
	}
	free(c->notifiers);
	free(c->environment_url);
	free(c->log_url);
	free(c);
}

static int
read_file(const char *path, struct vd_buf *b, char *err, size_t errlen)
{
	int r = vd_read_file(path, MAX_CONFIG_BYTES, b, err, errlen);
	if (r == 0 && memchr(b->data, '\0', b->len) != NULL) {
		snprintf(err, errlen, "%s: file contains a NUL byte", path);
		return VD_ERR_CONFIG;
	}
	return r;
}

static const char *
log_url_from_env(void)
{
	static char buf[1024];
	const char *srv = getenv("GITHUB_SERVER_URL");
	const char *repo = getenv("GITHUB_REPOSITORY");
	const char *run = getenv("GITHUB_RUN_ID");
	if (!srv || !repo || !run || !*srv || !*repo || !*run)
		return NULL;
	snprintf(buf, sizeof(buf), "%s/%s/actions/runs/%s", srv, repo, run);
	return buf;
}

int
vd_dep_config_load(const char *path, struct vd_dep_config **out, char *errbuf,
		   size_t errlen)
{
	struct vd_cfg_err err = {.set = false};
	struct vd_dep_config *cfg = NULL;
	struct vd_buf text;
	cJSON *root = NULL, *raw = NULL, *it;
	struct vd_cfg c, hooks;
	const char *end = NULL;
	char *dircopy, *cfgdir, *inconc = NULL;
	int r, hr;

	*out = NULL;
	register_env_secrets();
	r = read_file(path, &text, errbuf, errlen);
	if (r < 0) {
		vd_buf_free(&text);
		return r;
	}
	if (vd_json_strip_comments(text.data, text.len) < 0) {
		snprintf(errbuf, errlen, "%s: unterminated /* comment", path);
		vd_buf_free(&text);
		return VD_ERR_CONFIG;
	}
	root = cJSON_ParseWithOpts(text.data, &end, 1);
	if (root == NULL || !cJSON_IsObject(root)) {
		int line = 1;
		const char *p;
		if (end == NULL)
			end = cJSON_GetErrorPtr();
		for (p = text.data; end && p < end && *p; p++)
			line += *p == '\n';
		snprintf(errbuf, errlen, "%s: line %d: %s", path, line,
			 root ? "expected a JSON object at the top"
			      : "invalid JSON");
		cJSON_Delete(root);
		vd_buf_free(&text);
		return VD_ERR_CONFIG;
	}
	vd_buf_free(&text);
	raw = cJSON_Duplicate(root, 1);
	dircopy = vd_xstrdup(path);
	cfgdir = vd_xstrdup(dirname(dircopy));
	free(dircopy);

	cfg = vd_xcalloc(1, sizeof(*cfg));
	cfg->path = vd_xstrdup(path);
	cfg->notify_retries = 3;
	cfg->notify_interval = 1.0;
	cfg->notify_timeout = 10.0;

	/* interpolate everything but the inline suites */
	r = 0;
	cJSON_ArrayForEach(it, root) {
		if (strcmp(it->string, "health") == 0 ||
		    strcmp(it->string, "smoke") == 0)
			continue;
		r = vd_json_interpolate(it, path, it->string, placeholders,
					&err);
		if (r)
			break;
	}
	vd_cfg_init(&c, root, path, "", &err);
	hooks.taken = NULL;
	(void)vd_cfg_take(&c, "$schema");
	if (!r)
		r = vd_cfg_str(&c, "environment", true, &cfg->environment);
	if (!r && !vd_dep_name_ok(cfg->environment))
		r = vd_cfg_error(
			&c, "environment",
			"invalid name \"%s\" (1-128 of A-Z a-z 0-9 . _ "
			"+ -, not starting with '-' or '.', no '..')",
			cfg->environment);
	if (!r)
		r = vd_cfg_str(&c, "state_dir", false, &cfg->state_dir);
	if (!r) {
		char *sd = beside(cfgdir,
				  cfg->state_dir ? cfg->state_dir : ".verdict");
		free(cfg->state_dir);
		cfg->state_dir = sd;
	}
	if (!r)
		r = parse_registry(&c, cfg);
	if (!r) {
		hr = vd_cfg_child(&c, "hooks", &hooks);
		if (hr == 0)
			r = vd_cfg_error(&c, "hooks",
					 "required: at least hooks.deploy");
		else if (hr < 0)
			r = hr;
	}
	if (!r)
		r = parse_hook(&hooks, "deploy", cfgdir, &cfg->deploy);
	if (!r && cfg->deploy == NULL)
		r = vd_cfg_error(&hooks, "deploy", "required");
	if (!r)
		r = parse_hook(&hooks, "promote", cfgdir, &cfg->promote);
	if (!r)
		r = parse_hook(&hooks, "rollback", cfgdir, &cfg->rollback);
	if (!r)
		r = vd_cfg_finish(&hooks);
	if (!r)
		r = parse_suite(&c, "health", path, cfgdir, raw, cfg,
				&cfg->health_src, &cfg->health);
	if (!r && cfg->health == NULL)
		r = vd_cfg_error(&c, "health",
				 "required: a suite file or an inline suite "
				 "(checks that say the deployment is healthy)");
	if (!r)
		r = parse_suite(&c, "smoke", path, cfgdir, raw, cfg,
				&cfg->smoke_src, &cfg->smoke);
	if (!r)
		r = vd_cfg_str(&c, "on_inconclusive", false, &inconc);
	if (!r && inconc) {
		if (strcmp(inconc, "rollback") == 0)
			cfg->rollback_on_inconclusive = true;
		else if (strcmp(inconc, "hold") != 0)
			r = vd_cfg_error(&c, "on_inconclusive",
					 "expected \"hold\" or \"rollback\"");
	}
	if (!r)
		r = vd_cfg_str(&c, "environment_url", false,
			       &cfg->environment_url);
	if (!r)
		r = vd_cfg_str(&c, "log_url", false, &cfg->log_url);
	if (!r && cfg->log_url == NULL && log_url_from_env())
		cfg->log_url = vd_xstrdup(log_url_from_env());
	if (!r)
		r = parse_notify(&c, cfg);
	if (!r)
		r = vd_cfg_finish(&c);
	if (hooks.taken)
		vd_cfg_release(&hooks);
	vd_cfg_release(&c);
	free(inconc);
	free(cfgdir);
	cJSON_Delete(root);
	cJSON_Delete(raw);
	if (r) {
		snprintf(errbuf, errlen, "%s",
			 err.set ? err.msg : "invalid config");
		vd_dep_config_free(cfg);
		return VD_ERR_CONFIG;
	}
	*out = cfg;
	return 0;
}

int
vd_dep_config_check_hooks(const struct vd_dep_config *cfg, char *err,
			  size_t errlen)
{
	const struct vd_dep_hook_conf *hooks[3];
	size_t i, k;

	hooks[0] = cfg->deploy;
	hooks[1] = cfg->promote;
	hooks[2] = cfg->rollback;
	for (i = 0; i < 3; i++) {
		const struct vd_dep_hook_conf *h = hooks[i];
		const char *path = getenv("PATH"), *prog;
		char *found;
		if (h == NULL || h->argc == 0)
			continue;
		prog = h->argv[0];
		if (strstr(prog, "${") != NULL)
			continue; /* known only when it runs */
		for (k = 0; k < h->nenv; k++)
			if (strcmp(h->env_names[k], "PATH") == 0)
				path = h->env_values[k];
		if (path == NULL)
			path = "/bin:/usr/bin"; /* execvpe's default */
		if (vd_proc_find_program(prog, h->cwd, path, &found) != 0) {
			snprintf(err, errlen,
				 "%s: hooks.%s.argv[0]: program \"%s\" not "
				 "found %s%s (or not executable)",
				 cfg->path, h->name, prog,
				 strchr(prog, '/') ? "from " : "in PATH ",
				 strchr(prog, '/') ? (h->cwd ? h->cwd : ".")
						   : path);
			return VD_ERR_CONFIG;
		}
		free(found);
	}
	return 0;
}

int
vd_dep_config_peek(const char *path, char **env, char **state_dir, char *errbuf,
		   size_t errlen)
{
	struct vd_buf text;
	cJSON *root;
	const char *e, *sd;
	char why[200], *dircopy, *cfgdir, *v = NULL;
	int r;

	*env = *state_dir = NULL;
	r = read_file(path, &text, errbuf, errlen);
	if (r < 0) {
		vd_buf_free(&text);
		return r;
	}
	if (vd_json_strip_comments(text.data, text.len) < 0 ||
	    (root = cJSON_Parse(text.data)) == NULL) {
		snprintf(errbuf, errlen, "%s: invalid JSON", path);
		vd_buf_free(&text);
		return VD_ERR_CONFIG;
	}
	vd_buf_free(&text);
	e = vd_dep_jstr(root, "environment");
	sd = vd_dep_jstr(root, "state_dir");
	r = VD_ERR_CONFIG;
	if (e == NULL || (*env = interpolate(e, why, sizeof(why))) == NULL) {
		snprintf(errbuf, errlen, "%s: environment: %s", path,
			 e ? why : "required");
		goto out;
	}
	if (!vd_dep_name_ok(*env)) {
		snprintf(errbuf, errlen, "%s: environment: invalid name", path);
		goto out;
	}
	if (sd && (v = interpolate(sd, why, sizeof(why))) == NULL) {
		snprintf(errbuf, errlen, "%s: state_dir: %s", path, why);
		goto out;
	}
	dircopy = vd_xstrdup(path);
	cfgdir = vd_xstrdup(dirname(dircopy));
	free(dircopy);
	*state_dir = beside(cfgdir, v ? v : ".verdict");
	free(cfgdir);
	r = 0;
out:
	free(v);
	if (r) {
		free(*env);
		*env = NULL;
	}
	cJSON_Delete(root);
	return r;
}
