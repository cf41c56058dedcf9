/*
 * config.c - the serve config: a suite file whose extra top-level keys
 * "serve" (listen address, default interval, limits, basic-auth users)
 * and "modules" (named check templates for /probe, with allowlists) are
 * read here; plus allowlist matching. Depends on the
 * suite loader and probe/ only.
 */
#include <arpa/inet.h>
#include <crypt.h>
#include <ctype.h>
#include <errno.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "../lib/cfg.h"
#include "../lib/util.h"
#include "exporter_int.h"

#define DEFAULT_EVERY		  30.0
#define DEFAULT_MAX_CONNECTIONS	  512
#define DEFAULT_CONN_TIMEOUT	  30
#define DEFAULT_PROBE_CONCURRENCY 64
#define DEFAULT_REQUEST_TIMEOUT	  10.0

static const char *const extra_keys[] = {"serve", "modules", NULL};

static void
module_clear(struct vd_exp_module *m)
{
	size_t i;
	free(m->name);
	cJSON_Delete(m->tmpl);
	for (i = 0; i < m->nallow; i++)
		free(m->allow[i].name);
	free(m->allow);
}

void
vd_exp_config_free(struct vd_exp_config *cfg)
{
	size_t i;
	if (cfg == NULL)
		return;
	vd_suite_free(cfg->suite);
	free(cfg->listen);
	for (i = 0; i < cfg->nusers; i++) {
		free(cfg->users[i].name);
		vd_free_secret(cfg->users[i].hash);
	}
	free(cfg->users);
	for (i = 0; i < cfg->nmodules; i++)
		module_clear(&cfg->modules[i]);
	free(cfg->modules);
	free(cfg);
}

bool
vd_exp_name_ok(const char *s, size_t max, const char *extra)
{
	if (*s == '\0' || strlen(s) > max)
		return false;
	for (; *s; s++)
		if (!isalnum((unsigned char)*s) && strchr(extra, *s) == NULL)
			return false;
	return true;
}

/* Parses one allowlist entry; returns false if it is not valid. */
static bool
parse_allow(const char *s, struct vd_exp_allow *a)
{
	char buf[128], *slash;
	long bits = -1;

	memset(a, 0, sizeof(*a));
	if (strcmp(s, "*") == 0) {
		a->kind = VD_ALLOW_ANY;
		return true;
	}
	if (strncmp(s, "*.", 2) == 0) {
		if (!vd_exp_name_ok(s + 2, VD_EXP_HOST_MAX, "-._"))
			return false;
		a->kind = VD_ALLOW_SUFFIX;
		a->name = vd_xstrdup(s + 1);
		for (char *c = a->name; *c; c++)
			*c = (char)tolower((unsigned char)*c);
		return true;
	}
	if (strlen(s) >= sizeof(buf))
		return false;
	snprintf(buf, sizeof(buf), "%s", s);
	slash = strchr(buf, '/');
	if (slash) {
		char *end;
		*slash = '\0';
		bits = strtol(slash + 1, &end, 10);
		if (*end || end == slash + 1)
			return false;
	}
	if (inet_pton(AF_INET, buf, a->addr) == 1) {
		if (bits > 32)
			return false;
		a->kind = VD_ALLOW_NET4;
		a->prefix = bits < 0 ? 32 : (unsigned)bits;
		return true;
	}
	if (inet_pton(AF_INET6, buf, a->addr) == 1) {
		if (bits > 128)
			return false;
		a->kind = VD_ALLOW_NET6;
		a->prefix = bits < 0 ? 128 : (unsigned)bits;
		return true;
	}
	if (slash || !vd_exp_name_ok(buf, VD_EXP_HOST_MAX, "-._"))
		return false;
	a->kind = VD_ALLOW_NAME;
	a->name = vd_xstrdup(buf);
	for (char *c = a->name; *c; c++)
		*c = (char)tolower((unsigned char)*c);
	return true;
}

static bool
prefix_match(const unsigned char *a, const unsigned char *b, unsigned bits)
{
	unsigned full = bits / 8, rest = bits % 8;
	if (memcmp(a, b, full) != 0)
		return false;
	if (rest == 0)
		return true;
	return ((a[full] ^ b[full]) & (0xff << (8 - rest))) == 0;
}

bool
vd_exp_allowed(const struct vd_exp_module *m, const char *host)
{
	unsigned char a4[4], a6[16];
	bool is4 = inet_pton(AF_INET, host, a4) == 1;
	bool is6 = !is4 && inet_pton(AF_INET6, host, a6) == 1;
	size_t i, hl = strlen(host);

	for (i = 0; i < m->nallow; i++) {
		const struct vd_exp_allow *a = &m->allow[i];
		size_t sl;
		switch (a->kind) {
		case VD_ALLOW_ANY:
			return true;
		case VD_ALLOW_NAME:
			if (!is4 && !is6 && strcasecmp(a->name, host) == 0)
				return true;
			break;
		case VD_ALLOW_SUFFIX:
			sl = strlen(a->name);
			if (!is4 && !is6 && hl > sl &&
			    strcasecmp(host + hl - sl, a->name) == 0)
				return true;
			break;
		case VD_ALLOW_NET4:
			if (is4 && prefix_match(a4, a->addr, a->prefix))
				return true;
			break;
		case VD_ALLOW_NET6:
			if (is6 && prefix_match(a6, a->addr, a->prefix))
				return true;
			break;
		}
	}
	return false;
}

const struct vd_exp_module *
vd_exp_module_find(const struct vd_exp_config *cfg, const char *name)
{
	size_t i;
	for (i = 0; i < cfg->nmodules; i++)
		if (strcmp(cfg->modules[i].name, name) == 0)
			return &cfg->modules[i];
	return NULL;
}

static int
parse_users(struct vd_cfg *serve, struct vd_exp_config *cfg)
{
	struct vd_cfg c;
	char **names = NULL, **hashes = NULL;
	size_t n = 0, i;
	int r = vd_cfg_child(serve, "basic_auth", &c);

	if (r <= 0)
		return r;
	r = vd_cfg_strmap(&c, "users", &names, &hashes, &n);
	if (!r && n == 0)
		r = vd_cfg_error(&c, "users",
				 "expected an object of user names to password "
				 "hashes");
	for (i = 0; !r && i < n; i++) {
		char key[300];
		snprintf(key, sizeof(key), "users.%s", names[i]);
		if (*names[i] == '\0' || strchr(names[i], ':'))
			r = vd_cfg_error(&c, key, "invalid user name");
		else if (hashes[i][0] != '$' ||
			 crypt_checksalt(hashes[i]) != CRYPT_SALT_OK)
			r = vd_cfg_error(&c, key,
					 "expected a crypt(3) password hash "
					 "such as \"$6$...\" (openssl passwd "
					 "-6), never a plain password");
	}
	if (!r)
		r = vd_cfg_finish(&c);
	vd_cfg_release(&c);
	if (!r) {
		cfg->users = vd_xcalloc(n, sizeof(*cfg->users));
		for (i = 0; i < n; i++) {
			cfg->users[i].name = names[i];
			cfg->users[i].hash = hashes[i];
		}
		cfg->nusers = n;
		free(names);
		free(hashes);
		return 0;
	}
	for (i = 0; i < n; i++) {
		free(names[i]);
		vd_free_secret(hashes[i]);
	}
	free(names);
	free(hashes);
	return r;
}

static int
parse_serve(struct vd_cfg *root, struct vd_exp_config *cfg)
{
	struct vd_cfg c;
	long maxc = DEFAULT_MAX_CONNECTIONS, pconc = DEFAULT_PROBE_CONCURRENCY;
	long perc = 0;
	double ctimeout = DEFAULT_CONN_TIMEOUT;
	double rtimeout = DEFAULT_REQUEST_TIMEOUT;
	bool lifecycle = false;
	int r;

	cfg->every = DEFAULT_EVERY;
	r = vd_cfg_child(root, "serve", &c);
	if (r < 0)
		return r;
	if (r > 0) {
		r = vd_cfg_str(&c, "listen", false, &cfg->listen);
		if (!r)
			r = vd_cfg_duration(&c, "every", &cfg->every);
		if (!r && cfg->every < 0.1)
			r = vd_cfg_error(&c, "every", "must be at least 100ms");
		if (!r)
			r = vd_cfg_int(&c, "max_connections", 1, 100000, &maxc);
		if (!r)
			r = vd_cfg_duration(&c, "connection_timeout",
					    &ctimeout);
		if (!r && (ctimeout < 1 || ctimeout > 3600))
			r = vd_cfg_error(&c, "connection_timeout",
					 "expected 1s to 1h");
		if (!r)
			r = vd_cfg_int(&c, "max_connections_per_client", 1,
				       100000, &perc);
		if (!r)
			r = vd_cfg_duration(&c, "request_timeout", &rtimeout);
		if (!r && (rtimeout < 0.1 || rtimeout > 3600))
			r = vd_cfg_error(&c, "request_timeout",
					 "expected 100ms to 1h");
		if (!r)
			r = vd_cfg_int(&c, "probe_concurrency", 1, 100000,
				       &pconc);
		if (!r)
			r = vd_cfg_bool(&c, "enable_lifecycle", &lifecycle);
		if (!r)
			r = parse_users(&c, cfg);
		if (!r)
			r = vd_cfg_finish(&c);
		vd_cfg_release(&c);
		if (r)
			return r;
	}
	if (cfg->listen == NULL)
		cfg->listen = vd_xstrdup(VD_SERVE_DEFAULT_LISTEN);
	cfg->max_connections = (unsigned)maxc;
	cfg->conn_timeout = (unsigned)ctimeout;
	cfg->probe_concurrency = (unsigned)pconc;
	/* default: one client address may hold a quarter of the table, and
	 * a small table whole */
	if (perc == 0)
		perc = maxc / 4 > 16 ? maxc / 4 : 16;
	cfg->max_per_client = (unsigned)(perc < maxc ? perc : maxc);
	cfg->request_timeout = rtimeout;
	cfg->enable_lifecycle = lifecycle;
	return 0;
}

/* "http, security_headers, cors, tcp, tls": the types /probe can fill. */
static void
probe_types(char *buf, size_t len)
{
	size_t i, off = 0;
	buf[0] = '\0';
	for (i = 0; vd_check_types[i] && off < len; i++)
		if (vd_check_types[i]->target != VD_TARGET_NONE)
			off += (size_t)snprintf(buf + off, len - off, "%s%s",
						off ? ", " : "",
						vd_check_types[i]->name);
}

static int
parse_module(struct vd_cfg *mods, const char *file, const cJSON *it,
	     struct vd_exp_module *m, struct vd_cfg_err *err)
{
	struct vd_cfg c;
	const cJSON *tmpl, *type;
	char path[160], **allow = NULL;
	size_t nallow = 0, i;
	int r;

	snprintf(path, sizeof(path), "modules.%s", it->string);
	m->name = vd_xstrdup(it->string);
	if (!vd_exp_name_ok(it->string, 100, "_-."))
		return vd_cfg_error(mods, it->string,
				    "module names are letters, digits, '_', "
				    "'-' and '.'");
	if (!cJSON_IsObject(it))
		return vd_cfg_error(mods, it->string, "expected an object");
	vd_cfg_init(&c, it, file, path, err);
	tmpl = vd_cfg_take(&c, "check");
	r = vd_cfg_strlist(&c, "allow", &allow, &nallow);
	if (!r && tmpl == NULL)
		r = vd_cfg_error(&c, "check",
				 "required: the check template (type and "
				 "expectations; the target fills its url or "
				 "host)");
	if (!r && !cJSON_IsObject(tmpl))
		r = vd_cfg_error(&c, "check", "expected an object");
	if (!r)
		r = vd_cfg_finish(&c);
	if (!r) {
		type = cJSON_GetObjectItemCaseSensitive(tmpl, "type");
		if (!cJSON_IsString(type))
			r = vd_cfg_error(&c, "check.type",
					 "required: a check type");
	}
	if (!r) {
		const struct vd_check_type *t =
			vd_check_type_find(type->valuestring);
		const char *tkey;
		char kinds[200];
		/* an unknown type is named by the suite loader below */
		m->target = t ? t->target : VD_TARGET_URL;
		probe_types(kinds, sizeof(kinds));
		if (m->target == VD_TARGET_NONE)
			r = vd_cfg_error(&c, "check.type",
					 "a %s check has no url or host for "
					 "/probe to fill (module types: %s)",
					 type->valuestring, kinds);
		tkey = t ? vd_check_type_target_key(t) : NULL;
		if (!r && tkey &&
		    cJSON_GetObjectItemCaseSensitive(tmpl, tkey)) {
			char place[64];
			snprintf(place, sizeof(place), "check.%s", tkey);
			r = vd_cfg_error(&c, place,
					 "set by the /probe target; remove it");
		}
		if (!r && cJSON_GetObjectItemCaseSensitive(tmpl, "name"))
			r = vd_cfg_error(&c, "check.name",
					 "the module's name is the check's; "
					 "remove it");
	}
	m->allow = vd_xcalloc(nallow ? nallow : 1, sizeof(*m->allow));
	for (i = 0; !r && i < nallow; i++) {
		if (!parse_allow(allow[i], &m->allow[i]))
			r = vd_cfg_error(&c, "allow",
					 "\"%s\": expected \"*\", a host name, "
					 "\"*.domain\", an IP address or a "
					 "CIDR network",
					 allow[i]);
		else
			m->nallow = i + 1;
	}
	vd_strlist_free(allow, nallow);
	vd_cfg_release(&c);
	if (r)
		return r;
	m->tmpl = cJSON_Duplicate(tmpl, 1);
	return 0;
}

static struct vd_suite *module_instance(const struct vd_exp_module *m,
					const char *label, const char *url,
					const char *host, long port,
					double timeout, char *err,
					size_t errlen);

/* A module's template must make a valid check: try it on a stand-in,
 * and keep its per-attempt timeout. */
static int
check_module(struct vd_exp_module *m, const char *file, char *err,
	     size_t errlen)
{
	struct vd_suite *s;
	char label[300];

	snprintf(label, sizeof(label), "%s: modules.%s", file, m->name);
	s = module_instance(
		m, label, "http://127.0.0.1/", "127.0.0.1",
		cJSON_GetObjectItemCaseSensitive(m->tmpl, "port") ? -1 : 1, -1,
		err, errlen);
	if (s == NULL)
		return VD_ERR_CONFIG;
	/* the template's timeout, or the loader's default: parsed once */
	m->timeout = s->checks[0]->timeout;
	vd_suite_free(s);
	return 0;
}

/* Doubles every '$' in the strings of node: the suite loader
 * interpolates again, and neither a target nor an already interpolated
 * template may name environment variables. */
static void
escape_dollars(cJSON *node)
{
	cJSON *it;
	if (cJSON_IsString(node) && strchr(node->valuestring, '$')) {
		struct vd_buf b;
		const char *p;
		vd_buf_init(&b, 0);
		for (p = node->valuestring; *p; p++) {
			if (*p == '$')
				vd_buf_append(&b, "$", 1);
			vd_buf_append(&b, p, 1);
		}
		free(node->valuestring);
		node->valuestring = vd_buf_steal(&b);
		return;
	}
	for (it = node->child; it; it = it->next)
		escape_dollars(it);
}

static void
set_item(cJSON *obj, const char *key, cJSON *val)
{
	cJSON_DeleteItemFromObjectCaseSensitive(obj, key);
	cJSON_AddItemToObject(obj, key, val);
}

/* The loader names the place "LABEL: checks[0].key"; people wrote it as
 * "LABEL.check.key". */
static void
rename_place(char *msg, size_t len, const char *label)
{
	size_t ll = strlen(label);
	char rest[1200];
	if (strncmp(msg, label, ll) != 0 ||
	    strncmp(msg + ll, ": checks[0]", 11) != 0)
		return;
	snprintf(rest, sizeof(rest), "%s", msg + ll + 11);
	snprintf(msg + ll, len - ll, ".check%s", rest);
}

/* Builds a one-check suite from the module's template and a target;
 * label names the place in messages. Returns NULL with err set. */
static struct vd_suite *
module_instance(const struct vd_exp_module *m, const char *label,
		const char *url, const char *host, long port, double timeout,
		char *err, size_t errlen)
{
	cJSON *doc = cJSON_CreateObject(), *checks = cJSON_CreateArray();
	cJSON *chk = cJSON_Duplicate(m->tmpl, 1);
	struct vd_suite *s = NULL;
	char *text;

	if (doc == NULL || checks == NULL || chk == NULL)
		abort();
	set_item(chk, "name", cJSON_CreateString(m->name));
	if (m->target == VD_TARGET_URL) {
		set_item(chk, "url", cJSON_CreateString(url));
	} else {
		set_item(chk, "host", cJSON_CreateString(host));
		if (port > 0)
			set_item(chk, "port", cJSON_CreateNumber((double)port));
	}
	escape_dollars(chk);
	cJSON_AddItemToArray(checks, chk);
	cJSON_AddItemToObject(doc, "checks", checks);
	text = cJSON_PrintUnformatted(doc);
	cJSON_Delete(doc);
	if (text == NULL)
		abort();
	if (vd_suite_parse(text, strlen(text), label, NULL, &s, err, errlen) <
	    0) {
		rename_place(err, errlen, label);
		s = NULL;
	} else if (timeout > 0) {
		/* seconds, already parsed and bounded by the caller */
		s->checks[0]->timeout = timeout;
	}
	free(text);
	return s;
}

struct vd_suite *
vd_exp_module_check(const struct vd_exp_module *m, const char *url,
		    const char *host, long port, double timeout, char *err,
		    size_t errlen)
{
	return module_instance(m, m->name, url, host, port, timeout, err,
			       errlen);
}

static int
parse_modules(struct vd_cfg *root, const char *file, struct vd_exp_config *cfg,
	      struct vd_cfg_err *err, char *msg, size_t msglen)
{
	const cJSON *mods = vd_cfg_take(root, "modules"), *it;
	size_t n, i = 0;
	int r = 0;

	if (mods == NULL)
		return 0;
	if (!cJSON_IsObject(mods))
		return vd_cfg_error(root, "modules",
				    "expected an object of module names to "
				    "modules");
	n = (size_t)cJSON_GetArraySize(mods);
	cfg->modules = vd_xcalloc(n ? n : 1, sizeof(*cfg->modules));
	{
		struct vd_cfg mc;
		vd_cfg_init(&mc, mods, file, "modules", err);
		for (it = mods->child; it; it = it->next) {
			(void)vd_cfg_take(&mc, it->string);
			r = parse_module(&mc, file, it, &cfg->modules[i], err);
			cfg->nmodules = ++i;
			if (r)
				break;
		}
		vd_cfg_release(&mc);
	}
	if (r)
		return r;
	for (i = 0; i < cfg->nmodules; i++) {
		r = check_module(&cfg->modules[i], file, msg, msglen);
		if (r)
			return r;
	}
	return 0;
}

int
vd_exp_config_parse(const char *text, size_t len, const char *name,
		    struct vd_exp_config **out, char *errbuf, size_t errlen)
{
	struct vd_suite_load_opts opts = {.extra_keys = extra_keys,
					  .checks_optional = true};
	struct vd_exp_config *cfg;
	struct vd_cfg_err err = {.set = false};
	struct vd_cfg root;
	char msg[1200], *dir = NULL;
	int r;

	*out = NULL;
	cfg = vd_xcalloc(1, sizeof(*cfg));
	msg[0] = '\0';
	if (strchr(name, '/')) {
		/* relative paths in checks are the config file's folder's */
		char *copy = vd_xstrdup(name);
		dir = vd_xstrdup(dirname(copy));
		free(copy);
		opts.base_dir = dir;
	}
	r = vd_suite_parse(text, len, name, &opts, &cfg->suite, errbuf, errlen);
	free(dir);
	if (r < 0) {
		vd_exp_config_free(cfg);
		return r;
	}
	vd_cfg_init(&root, cfg->suite->root, name, "", &err);
	r = parse_serve(&root, cfg);
	if (!r)
		r = parse_modules(&root, name, cfg, &err, msg, sizeof(msg));
	vd_cfg_release(&root);
	if (!r && cfg->suite->nchecks == 0 && cfg->nmodules == 0) {
		snprintf(msg, sizeof(msg),
			 "%s: nothing to serve: no checks and no modules",
			 name);
		r = VD_ERR_CONFIG;
	}
	if (r) {
		snprintf(errbuf, errlen, "%s", msg[0] ? msg : err.msg);
		vd_exp_config_free(cfg);
		return VD_ERR_CONFIG;
	}
	*out = cfg;
	return 0;
}

int
vd_exp_config_load(const char *path, struct vd_exp_config **out, char *err,
		   size_t errlen)
{
	struct vd_buf b;
	int r;

	*out = NULL;
	r = vd_read_file(path, 16u << 20, &b, err, errlen);
	if (r == 0)
		r = vd_exp_config_parse(b.data, b.len, path, out, err, errlen);
	vd_buf_free(&b);
	if (r == 0)
		(*out)->suite->path = vd_xstrdup(path);
	return r;
}
