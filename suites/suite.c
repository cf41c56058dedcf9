/*
 * suite.c - loads and validates suite files. Reads JSON with comments,
 * interpolates ${VAR}, merges defaults into each check, hands each check's
 * own keys to its type's parser, and refuses unknown keys, wrong types and
 * duplicate names with a message naming the file and the place.
 */
#include "suite.h"

#include <ctype.h>
#include <errno.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "../lib/cfg.h"
#include "../lib/util.h"

#define MAX_SUITE_BYTES ((size_t)16 * 1024 * 1024)

int
vd_json_strip_comments(char *t, size_t len)
{
	size_t i = 0;
	while (i < len) {
		if (t[i] == '"') {
			i++;
			while (i < len && t[i] != '"') {
				if (t[i] == '\\' && i + 1 < len)
					i++;
				i++;
			}
			i++;
		} else if (t[i] == '/' && i + 1 < len && t[i + 1] == '/') {
			while (i < len && t[i] != '\n')
				t[i++] = ' ';
		} else if (t[i] == '/' && i + 1 < len && t[i + 1] == '*') {
			t[i++] = ' ';
			t[i++] = ' ';
			while (i < len && !(t[i] == '*' && i + 1 < len &&
					    t[i + 1] == '/')) {
				if (t[i] != '\n')
					t[i] = ' ';
				i++;
			}
			if (i >= len)
				return -1;
			t[i++] = ' ';
			t[i++] = ' ';
		} else {
			i++;
		}
	}
	return 0;
}

static bool
kept(const char *const *keep, const char *name, size_t n)
{
	size_t i;
	for (i = 0; keep && keep[i]; i++)
		if (strlen(keep[i]) == n && strncmp(keep[i], name, n) == 0)
			return true;
	return false;
}

/* The value of NAME (n bytes) in vars ("NAME=value" strings), or NULL. */
static const char *
var_value(const char *const *vars, const char *name, size_t n)
{
	size_t i;
	for (i = 0; vars && vars[i]; i++)
		if (strncmp(vars[i], name, n) == 0 && vars[i][n] == '=')
			return vars[i] + n + 1;
	return NULL;
}

char *
vd_interpolate(const char *s, char *missing, size_t missing_len)
{
	return vd_interpolate_vars(s, NULL, NULL, missing, missing_len);
}

char *
vd_interpolate_keep(const char *s, const char *const *keep, char *missing,
		    size_t missing_len)
{
	return vd_interpolate_vars(s, keep, NULL, missing, missing_len);
}

char *
vd_interpolate_vars(const char *s, const char *const *keep,
		    const char *const *vars, char *missing, size_t missing_len)
{
	struct vd_buf b;
	vd_buf_init(&b, 0);
	while (*s) {
		const char *end, *def;
		char *name;
		const char *val;
		size_t nlen;
		bool bad;

		if (s[0] != '$') {
			vd_buf_append(&b, s++, 1);
			continue;
		}
		if (s[1] == '$') {
			vd_buf_append(&b, "$", 1);
			s += 2;
			continue;
		}
		if (s[1] != '{') {
			vd_buf_append(&b, s++, 1);
			continue;
		}
		end = strchr(s + 2, '}');
		if (end == NULL) {
			snprintf(missing, missing_len, "%s", "unterminated ${");
			vd_buf_free(&b);
			return NULL;
		}
		def = strstr(s + 2, ":-");
		if (def && def > end)
			def = NULL;
		nlen = (size_t)((def ? def : end) - (s + 2));
		if (def == NULL && kept(keep, s + 2, nlen)) {
			/* filled in later by the caller (hook placeholders) */
			vd_buf_append(&b, s, (size_t)(end - s + 1));
			s = end + 1;
			continue;
		}
		name = vd_xstrndup(s + 2, nlen);
		/* a shell name: letters, digits and '_', not empty, not
		 * starting with a digit */
		bad = nlen == 0 || isdigit((unsigned char)name[0]);
		for (size_t i = 0; i < nlen; i++)
			if (!(isalnum((unsigned char)name[i]) ||
			      name[i] == '_'))
				bad = true;
		if (bad) {
			snprintf(missing, missing_len,
				 "invalid variable name \"%.60s\"", name);
			free(name);
			vd_buf_free(&b);
			return NULL;
		}
		val = var_value(vars, name, nlen);
		if (val == NULL)
			val = getenv(name);
		/* as in the shell, ":-" also replaces an empty value */
		if (val != NULL && *val == '\0' && def != NULL)
			val = NULL;
		if (val == NULL && def == NULL) {
			snprintf(missing, missing_len,
				 "environment variable %s is not set", name);
			free(name);
			vd_buf_free(&b);
			return NULL;
		}
		if (val == NULL) {
			vd_buf_append(&b, def + 2, (size_t)(end - def - 2));
		} else {
			if (vd_env_name_is_secret(name) &&
			    var_value(vars, name, nlen) == NULL)
				vd_secret_add(val);
			vd_buf_puts(&b, val);
		}
		free(name);
		s = end + 1;
	}
	return vd_buf_steal(&b);
}

/* Why s cannot be a string in a suite (invalid UTF-8, or a control
 * character other than tab, newline and CR: reports, logs and headers
 * would carry it), or NULL. */
static const char *
bad_string(const char *s, char *why, size_t len)
{
	size_t i = 0;
	while (s[i]) {
		unsigned char c = (unsigned char)s[i];
		int n = vd_utf8_seq(s + i);
		if (n == 0) {
			snprintf(why, len, "invalid UTF-8 at byte %zu", i + 1);
			return why;
		}
		if ((c < 0x20 && c != '\t' && c != '\n' && c != '\r') ||
		    c == 0x7f) {
			snprintf(why, len,
				 "control character U+%04X at byte %zu (only "
				 "tab and newline may appear)",
				 c, i + 1);
			return why;
		}
		i += (size_t)n;
	}
	return NULL;
}

/* "path.key" for messages, the key made valid UTF-8. */
static void
sub_path(char *sub, size_t len, const char *path, const char *key)
{
	char *k = vd_utf8_fix(key);
	if (*path)
		snprintf(sub, len, "%s.%s", path, k);
	else
		snprintf(sub, len, "%s", k);
	free(k);
}

static int json_interpolate(cJSON *node, const char *file, const char *path,
			    const char *const *keep, const char *const *vars,
			    struct vd_cfg_err *err);

int
vd_json_interpolate(cJSON *node, const char *file, const char *path,
		    const char *const *keep, struct vd_cfg_err *err)
{
	return json_interpolate(node, file, path, keep, NULL, err);
}

static int
json_interpolate(cJSON *node, const char *file, const char *path,
		 const char *const *keep, const char *const *vars,
		 struct vd_cfg_err *err)
{
	cJSON *it;
	size_t i = 0;
	char sub[600];

	if (cJSON_IsString(node)) {
		char why[200];
		char *v = vd_interpolate_vars(node->valuestring, keep, vars,
					      why, sizeof(why));
		if (v == NULL)
			return vd_cfg_error_at(err, file, path, "%s", why);
		/* after interpolation: a variable's value counts too */
		if (bad_string(v, why, sizeof(why))) {
			free(v);
			return vd_cfg_error_at(err, file, path, "%s", why);
		}
		if (strcmp(v, node->valuestring) != 0) {
			/* cJSON_SetValuestring only shrinks in place */
			free(node->valuestring);
			node->valuestring = v;
		} else {
			free(v);
		}
		return 0;
	}
	if (cJSON_IsObject(node)) {
		cJSON_ArrayForEach(it, node) {
			cJSON *o;
			char why[200];
			sub_path(sub, sizeof(sub), path, it->string);
			if (bad_string(it->string, why, sizeof(why)))
				return vd_cfg_error_at(err, file, sub,
						       "key: %s", why);
			for (o = node->child; o != it; o = o->next)
				if (strcmp(o->string, it->string) == 0)
					return vd_cfg_error_at(err, file, sub,
							       "duplicate key");
			if (json_interpolate(it, file, sub, keep, vars, err) <
			    0)
				return VD_ERR_CONFIG;
		}
	} else if (cJSON_IsArray(node)) {
		cJSON_ArrayForEach(it, node) {
			snprintf(sub, sizeof(sub), "%s[%zu]", path, i++);
			if (json_interpolate(it, file, sub, keep, vars, err) <
			    0)
				return VD_ERR_CONFIG;
		}
	}
	return 0;
}

/* dst gets every key of src it lacks; objects present in both merge. */
static void
merge_defaults(cJSON *dst, const cJSON *src)
{
	const cJSON *it;
	cJSON_ArrayForEach(it, src) {
		cJSON *have = cJSON_GetObjectItemCaseSensitive(dst, it->string);
		if (have == NULL)
			cJSON_AddItemToObject(dst, it->string,
					      cJSON_Duplicate(it, 1));
		else if (cJSON_IsObject(have) && cJSON_IsObject(it))
			merge_defaults(have, it);
	}
}

static bool
name_ok(const char *s)
{
	if (*s == '\0' || strlen(s) > 200)
		return false;
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return false;
	return true;
}

/* Check names seen so far: open addressing over indexes into s->checks,
 * so that 10,000 checks cost 10,000 lookups, not 50 million compares. */
struct name_set {
	size_t *slots; /* index + 1; 0 is empty */
	size_t mask;   /* capacity - 1, capacity a power of two */
};

static void
name_set_init(struct name_set *ns, size_t n)
{
	size_t cap = 16;
	while (cap < 2 * n)
		cap *= 2;
	ns->slots = vd_xcalloc(cap, sizeof(size_t));
	ns->mask = cap - 1;
}

static size_t
name_hash(const char *s)
{
	size_t h = 14695981039346656037ULL; /* FNV-1a */
	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ULL;
	return h;
}

/* Returns the index of the check already named name, or (size_t)-1
 * after adding idx under that name. */
static size_t
name_set_add(struct name_set *ns, struct vd_check *const *checks,
	     const char *name, size_t idx)
{
	size_t i = name_hash(name) & ns->mask;
	while (ns->slots[i]) {
		if (strcmp(checks[ns->slots[i] - 1]->name, name) == 0)
			return ns->slots[i] - 1;
		i = (i + 1) & ns->mask;
	}
	ns->slots[i] = idx + 1;
	return (size_t)-1;
}

static unsigned
stage_index(struct vd_suite *s, const char *stage)
{
	size_t i;
	for (i = 0; i < s->nstages; i++)
		if (strcmp(s->stages[i], stage) == 0)
			return (unsigned)i;
	s->stages = vd_xreallocarray(s->stages, s->nstages + 1, sizeof(char *));
	s->stages[s->nstages] = vd_xstrdup(stage);
	return (unsigned)s->nstages++;
}

/* The type's table entry is the word on its keys: a key the check wrote
 * that the entry does not list is refused, whatever parse took. */
static int
table_keys(const struct vd_check_type *t, struct vd_cfg *c, const cJSON *own)
{
	const cJSON *it;
	if (t->keys == NULL)
		return 0;
	cJSON_ArrayForEach(it, own) {
		if (!vd_check_type_has_key(t, it->string))
			return vd_cfg_error(c, it->string, "unknown key");
	}
	return 0;
}

/* "retry_on": what a failed attempt must be to be retried (a name or a
 * list of names; see vd_retry_on_add). */
static int
parse_retry_on(struct vd_cfg *c, struct vd_check *chk)
{
	char **names = NULL;
	size_t n = 0, i;
	int r = vd_cfg_strlist(c, "retry_on", &names, &n);

	for (i = 0; !r && i < n; i++)
		if (!vd_retry_on_add(chk, names[i]))
			r = vd_cfg_error(
				c, "retry_on",
				"unknown \"%s\" (expected a reason kind such "
				"as timeout, refused, unavailable, tls, "
				"status, "
				"body; a status class 4xx or 5xx; handshake; "
				"default; or any)",
				names[i]);
	if (!r && vd_cfg_has(c, "retry_on") && n == 0)
		r = vd_cfg_error(c, "retry_on",
				 "the list is empty (use retries: 0 for no "
				 "retries)");
	vd_strlist_free(names, n);
	return r;
}

static int
parse_check(struct vd_suite *s, const cJSON *own, const cJSON *defaults,
	    size_t idx, const char *file, struct vd_cfg_err *err,
	    bool *defaults_used, struct name_set *names)
{
	struct vd_check *chk;
	struct vd_cfg c;
	cJSON *merged;
	char path[64], *type = NULL;
	long retries = 0;
	int r;
	size_t i;

	snprintf(path, sizeof(path), "checks[%zu]", idx);
	if (!cJSON_IsObject(own))
		return vd_cfg_error_at(err, file, path, "expected an object");
	merged = cJSON_Duplicate(own, 1);
	if (defaults)
		merge_defaults(merged, defaults);
	vd_cfg_init(&c, merged, file, path, err);
	c.own = own;
	c.base = s->dir;

	chk = vd_xcalloc(1, sizeof(*chk));
	chk->critical = true;
	chk->timeout = 5.0;
	chk->interval = 1.0;
	chk->max_body = (size_t)1024 * 1024;
	chk->tls.verify = true;

	r = vd_cfg_str(&c, "name", true, &chk->name);
	if (!r && !name_ok(chk->name))
		r = vd_cfg_error(&c, "name",
				 "must be 1-200 characters without control "
				 "characters");
	if (!r) {
		/* the check is not in s->checks yet: look it up as if it were
		 */
		s->checks[s->nchecks] = chk;
		i = name_set_add(names, s->checks, chk->name, s->nchecks);
		s->checks[s->nchecks] = NULL;
		if (i != (size_t)-1)
			r = vd_cfg_error(&c, "name",
					 "duplicate check name \"%s\" (also "
					 "checks[%zu])",
					 chk->name, i);
	}
	if (!r)
		r = vd_cfg_str(&c, "type", true, &type);
	if (!r) {
		chk->type = vd_check_type_find(type);
		if (chk->type == NULL) {
			struct vd_buf known;
			vd_buf_init(&known, 0);
			for (i = 0; vd_check_types[i]; i++)
				vd_buf_printf(&known, "%s%s", i ? ", " : "",
					      vd_check_types[i]->name);
			r = vd_cfg_error(
				&c, "type",
				"unknown check type \"%s\" (known: %s)", type,
				known.data);
			vd_buf_free(&known);
		}
	}
	free(type);
	if (!r) {
		char *stage = NULL;
		r = vd_cfg_str(&c, "stage", false, &stage);
		if (!r && stage && !name_ok(stage))
			r = vd_cfg_error(&c, "stage", "invalid stage name");
		chk->stage = stage ? stage : vd_xstrdup("main");
	}
	if (!r)
		r = vd_cfg_bool(&c, "critical", &chk->critical);
	if (!r) {
		/* for people reading the suite (verdict init writes one per
		 * check): what the check guards; the prober never reads it */
		char *description = NULL;
		r = vd_cfg_str(&c, "description", false, &description);
		free(description);
	}
	if (!r)
		r = vd_cfg_strlist(&c, "tags", &chk->tags, &chk->ntags);
	if (!r)
		r = vd_cfg_duration(&c, "timeout", &chk->timeout);
	if (!r && chk->timeout <= 0)
		r = vd_cfg_error(&c, "timeout", "must be more than 0");
	if (!r)
		r = vd_cfg_int(&c, "retries", 0, 10000, &retries);
	chk->retries = (int)retries;
	if (!r)
		r = parse_retry_on(&c, chk);
	if (!r)
		r = vd_cfg_duration(&c, "interval", &chk->interval);
	if (!r)
		r = vd_cfg_duration(&c, "every", &chk->every);
	if (!r && vd_cfg_has(&c, "every") && chk->every < 0.1)
		r = vd_cfg_error(&c, "every", "must be at least 100ms");
	/* taken for every type, so that a defaults.max_body is never
	 * "unused"; a check that writes it on a type whose table entry does
	 * not list it (exec: max_output; tls, dns: no body) is refused */
	if (!r)
		r = vd_cfg_size(&c, "max_body", &chk->max_body);
	if (!r && (chk->type->flags & VD_TYPE_TLS))
		r = vd_cfg_tls(&c, &chk->tls);
	if (!r)
		r = chk->type->parse(chk, &c);
	if (!r)
		r = table_keys(chk->type, &c, own);
	if (!r)
		r = vd_cfg_finish(&c);
	if (!r && chk->target == NULL)
		chk->target = vd_xstrdup("");
	if (!r && defaults) {
		/* note which defaults this check used */
		const cJSON *it, *d;
		size_t k = 0, j;
		cJSON_ArrayForEach(it, merged) {
			if (c.taken[k]) {
				j = 0;
				cJSON_ArrayForEach(d, defaults) {
					if (strcmp(d->string, it->string) == 0)
						defaults_used[j] = true;
					j++;
				}
			}
			k++;
		}
	}
	vd_cfg_release(&c);
	cJSON_Delete(merged);
	if (r) {
		vd_check_free(chk);
		return r;
	}
	chk->stage_index = stage_index(s, chk->stage);
	s->checks[s->nchecks++] = chk;
	return 0;
}

static bool
is_extra(const struct vd_suite_load_opts *opts, const char *key)
{
	size_t i;
	if (opts == NULL || opts->extra_keys == NULL)
		return false;
	for (i = 0; opts->extra_keys[i]; i++)
		if (strcmp(opts->extra_keys[i], key) == 0)
			return true;
	return false;
}

/* The first \\u0000 escape inside a JSON string, or NULL. cJSON would
 * silently end the string there. */
static const char *
nul_escape(const char *t)
{
	bool in_string = false;
	for (; *t; t++) {
		if (*t == '"') {
			in_string = !in_string;
		} else if (in_string && *t == '\\') {
			if (strncmp(t + 1, "u0000", 5) == 0)
				return t;
			if (t[1])
				t++;
		}
	}
	return NULL;
}

static void
pos_of(const char *text, const char *at, int *line, int *col)
{
	const char *p;
	*line = 1;
	*col = 1;
	for (p = text; p < at && *p; p++) {
		if (*p == '\n') {
			(*line)++;
			*col = 1;
		} else {
			(*col)++;
		}
	}
}

int
vd_suite_parse(const char *text, size_t len, const char *name,
	       const struct vd_suite_load_opts *opts, struct vd_suite **out,
	       char *errbuf, size_t errlen)
{
	struct vd_cfg_err err = {.set = false};
	struct vd_suite *s = NULL;
	struct vd_cfg c;
	const cJSON *checks, *defaults, *it;
	const char *end = NULL;
	char *copy;
	bool *dused = NULL;
	long conc = 0;
	int r = 0;
	size_t i;

	*out = NULL;
	if (errlen)
		errbuf[0] = '\0';
	copy = vd_xmalloc(len + 1);
	memcpy(copy, text, len);
	copy[len] = '\0';
	if (memchr(text, '\0', len) != NULL) {
		snprintf(errbuf, errlen, "%s: file contains a NUL byte", name);
		free(copy);
		return VD_ERR_CONFIG;
	}
	if (vd_json_strip_comments(copy, len) < 0) {
		snprintf(errbuf, errlen, "%s: unterminated /* comment", name);
		free(copy);
		return VD_ERR_CONFIG;
	}
	end = nul_escape(copy);
	if (end != NULL) {
		int line, col;
		pos_of(copy, end, &line, &col);
		snprintf(errbuf, errlen,
			 "%s: line %d, column %d: \\u0000 in a string (it "
			 "would cut the string short)",
			 name, line, col);
		free(copy);
		return VD_ERR_CONFIG;
	}
	s = vd_xcalloc(1, sizeof(*s));
	if (opts && opts->base_dir)
		s->dir = vd_xstrdup(opts->base_dir);
	s->root = cJSON_ParseWithOpts(copy, &end, 1);
	if (s->root == NULL) {
		int line, col;
		pos_of(copy, end ? end : cJSON_GetErrorPtr(), &line, &col);
		snprintf(errbuf, errlen,
			 "%s: line %d, column %d: invalid JSON%s", name, line,
			 col, len == 0 ? " (empty file)" : "");
		free(copy);
		vd_suite_free(s);
		return VD_ERR_CONFIG;
	}
	free(copy);
	if (!cJSON_IsObject(s->root)) {
		vd_cfg_error_at(&err, name, "",
				"expected a JSON object at the top");
		r = VD_ERR_CONFIG;
		goto out;
	}
	if (json_interpolate(s->root, name, "", NULL, opts ? opts->vars : NULL,
			     &err) < 0) {
		r = VD_ERR_CONFIG;
		goto out;
	}
	vd_cfg_init(&c, s->root, name, "", &err);
	r = vd_cfg_str(&c, "name", false, &s->name);
	if (!r && s->name && !name_ok(s->name))
		r = vd_cfg_error(&c, "name", "invalid suite name");
	if (!r)
		r = vd_cfg_int(&c, "concurrency", 1, 1000000, &conc);
	s->concurrency = (unsigned)conc;
	(void)vd_cfg_take(&c, "$schema");
	defaults = vd_cfg_take(&c, "defaults");
	if (!r && defaults && !cJSON_IsObject(defaults))
		r = vd_cfg_error(&c, "defaults", "expected an object");
	/* what a check is, not how it runs: never a default (and the
	 * schema can then tell a check's type from the check itself) */
	if (!r && defaults && cJSON_IsObject(defaults) &&
	    cJSON_GetObjectItemCaseSensitive(defaults, "name"))
		r = vd_cfg_error(&c, "defaults.name",
				 "each check names itself; not a default");
	if (!r && defaults && cJSON_IsObject(defaults) &&
	    cJSON_GetObjectItemCaseSensitive(defaults, "type"))
		r = vd_cfg_error(&c, "defaults.type",
				 "each check states its type; not a default");
	checks = vd_cfg_take(&c, "checks");
	if (!r && checks == NULL && !(opts && opts->checks_optional))
		r = vd_cfg_error(&c, "checks", "required");
	if (!r && checks && !cJSON_IsArray(checks))
		r = vd_cfg_error(&c, "checks", "expected a list of checks");
	if (!r && checks && cJSON_GetArraySize(checks) == 0 &&
	    !(opts && opts->checks_optional))
		r = vd_cfg_error(&c, "checks", "the list is empty");
	if (!r) {
		cJSON_ArrayForEach(it, s->root) {
			if (is_extra(opts, it->string))
				(void)vd_cfg_take(&c, it->string);
		}
		r = vd_cfg_finish(&c);
	}
	vd_cfg_release(&c);
	if (r)
		goto out;
	if (s->name == NULL) {
		char *b = vd_xstrdup(name), *dot;
		s->name = vd_xstrdup(basename(b));
		free(b);
		dot = strrchr(s->name, '.');
		if (dot && dot != s->name)
			*dot = '\0';
	}
	if (checks) {
		size_t n = (size_t)cJSON_GetArraySize(checks);
		struct name_set names;

		/* NOLINTNEXTLINE(bugprone-sizeof-expression) */
		s->checks = vd_xcalloc(n ? n : 1, sizeof(*s->checks));
		if (defaults)
			dused = vd_xcalloc(
				(size_t)cJSON_GetArraySize(defaults) + 1,
				sizeof(bool));
		name_set_init(&names, n);
		i = 0;
		cJSON_ArrayForEach(it, checks) {
			r = parse_check(s, it, defaults, i++, name, &err, dused,
					&names);
			if (r)
				break;
		}
		free(names.slots);
		if (r)
			goto out;
	}
	if (defaults && s->nchecks) {
		i = 0;
		cJSON_ArrayForEach(it, defaults) {
			if (!dused[i++]) {
				char p[300];
				snprintf(p, sizeof(p), "defaults.%s",
					 it->string);
				r = vd_cfg_error_at(&err, name, p,
						    "not used by any check "
						    "(unknown key?)");
				goto out;
			}
		}
	}
out:
	free(dused);
	if (r) {
		snprintf(errbuf, errlen, "%s", err.msg);
		vd_suite_free(s);
		return r;
	}
	*out = s;
	return 0;
}

int
vd_suite_load(const char *path, const struct vd_suite_load_opts *opts,
	      struct vd_suite **out, char *err, size_t errlen)
{
	struct vd_suite_load_opts o = {0};
	struct vd_buf b;
	char *dir = NULL;
	int r;

	*out = NULL;
	if (opts)
		o = *opts;
	if (o.base_dir == NULL && strchr(path, '/')) {
		/* relative paths in the suite are the suite folder's */
		char *copy = vd_xstrdup(path);
		dir = vd_xstrdup(dirname(copy));
		free(copy);
		o.base_dir = dir;
	}
	r = vd_read_file(path, MAX_SUITE_BYTES, &b, err, errlen);
	if (r == 0)
		r = vd_suite_parse(b.data, b.len, path, &o, out, err, errlen);
	free(dir);
	vd_buf_free(&b);
	if (r == 0) {
		(*out)->path = vd_xstrdup(path);
	}
	return r;
}

void
vd_suite_free(struct vd_suite *s)
{
	size_t i;
	if (s == NULL)
		return;
	for (i = 0; i < s->nchecks; i++)
		vd_check_free(s->checks[i]);
	free(s->checks);
	vd_strlist_free(s->stages, s->nstages);
	free(s->name);
	free(s->path);
	free(s->dir);
	cJSON_Delete(s->root);
	free(s);
}
