/*
 * cfg.c - typed, path-naming readers over cJSON objects.
 * Depends on cJSON, util.h, err.h and tls_opts.h.
 */
#include "cfg.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "tls_opts.h"
#include "util.h"

void
vd_cfg_init(struct vd_cfg *c, const cJSON *obj, const char *file,
	    const char *path, struct vd_cfg_err *err)
{
	const cJSON *it;
	memset(c, 0, sizeof(*c));
	c->obj = obj;
	c->file = file ? file : "";
	c->err = err;
	snprintf(c->path, sizeof(c->path), "%s", path ? path : "");
	cJSON_ArrayForEach(it, obj)
		c->nmembers++;
	c->taken = vd_xcalloc(c->nmembers ? c->nmembers : 1, sizeof(bool));
}

void
vd_cfg_release(struct vd_cfg *c)
{
	free(c->taken);
	c->taken = NULL;
}

static int verror_at(struct vd_cfg_err *err, const char *file, const char *path,
		     const char *key, const char *fmt, va_list ap)
	__attribute__((format(printf, 5, 0)));

/* Messages quote values ("invalid duration \"...\""), and a value may come
 * from a secret variable: they are masked like every other output. */
static int
verror_at(struct vd_cfg_err *err, const char *file, const char *path,
	  const char *key, const char *fmt, va_list ap)
{
	char msg[700];
	char where[600];
	char *masked;

	if (err == NULL || err->set)
		return VD_ERR_CONFIG;
	vsnprintf(msg, sizeof(msg), fmt, ap);
	/* only the message: a short secret must not mask the file name */
	masked = vd_mask(msg);
	snprintf(msg, sizeof(msg), "%s", masked);
	free(masked);
	/* one line: values quoted from the file may hold control characters */
	for (char *p = msg; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			*p = '?';
	if (key && path && *path)
		snprintf(where, sizeof(where), "%s.%s", path, key);
	else if (key)
		snprintf(where, sizeof(where), "%s", key);
	else
		snprintf(where, sizeof(where), "%s", path ? path : "");
	if (*where)
		snprintf(err->msg, sizeof(err->msg), "%.200s%s%.400s: %.400s",
			 file, *file ? ": " : "", where, msg);
	else
		snprintf(err->msg, sizeof(err->msg), "%.200s%s%.700s", file,
			 *file ? ": " : "", msg);
	err->set = true;
	return VD_ERR_CONFIG;
}

int
vd_cfg_error(struct vd_cfg *c, const char *key, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	verror_at(c->err, c->file, c->path, key, fmt, ap);
	va_end(ap);
	return VD_ERR_CONFIG;
}

int
vd_cfg_error_at(struct vd_cfg_err *err, const char *file, const char *path,
		const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	verror_at(err, file, path, NULL, fmt, ap);
	va_end(ap);
	return VD_ERR_CONFIG;
}

const cJSON *
vd_cfg_take(struct vd_cfg *c, const char *key)
{
	const cJSON *it;
	size_t i = 0;
	cJSON_ArrayForEach(it, c->obj) {
		if (it->string && strcmp(it->string, key) == 0) {
			c->taken[i] = true;
			return it;
		}
		i++;
	}
	return NULL;
}

bool
vd_cfg_has(const struct vd_cfg *c, const char *key)
{
	return cJSON_GetObjectItemCaseSensitive(c->obj, key) != NULL;
}

static const char *
json_type_name(const cJSON *it)
{
	if (cJSON_IsNull(it))
		return "null";
	if (cJSON_IsBool(it))
		return "a boolean";
	if (cJSON_IsNumber(it))
		return "a number";
	if (cJSON_IsString(it))
		return "a string";
	if (cJSON_IsArray(it))
		return "a list";
	if (cJSON_IsObject(it))
		return "an object";
	return "an unknown value";
}

int
vd_cfg_str(struct vd_cfg *c, const char *key, bool required, char **out)
{
	const cJSON *it = vd_cfg_take(c, key);
	if (it == NULL) {
		if (required)
			return vd_cfg_error(c, key, "required");
		return 0;
	}
	if (!cJSON_IsString(it))
		return vd_cfg_error(c, key, "expected a string, got %s",
				    json_type_name(it));
	free(*out);
	*out = vd_xstrdup(it->valuestring);
	return 0;
}

int
vd_cfg_bool(struct vd_cfg *c, const char *key, bool *out)
{
	const cJSON *it = vd_cfg_take(c, key);
	if (it == NULL)
		return 0;
	if (!cJSON_IsBool(it))
		return vd_cfg_error(c, key, "expected true or false, got %s",
				    json_type_name(it));
	*out = cJSON_IsTrue(it);
	return 0;
}

int
vd_cfg_int(struct vd_cfg *c, const char *key, long min, long max, long *out)
{
	const cJSON *it = vd_cfg_take(c, key);
	double v;
	if (it == NULL)
		return 0;
	if (cJSON_IsString(it)) {
		/* "${PORT:-443}": interpolation yields strings, so an integer
		 * may be written as a string of decimal digits */
		const char *s = it->valuestring;
		char *end;
		long l;
		errno = 0;
		l = strtol(s, &end, 10);
		if (*s == '\0' || *end != '\0' || errno != 0 ||
		    !(isdigit((unsigned char)*s) || *s == '-'))
			return vd_cfg_error(
				c, key, "expected an integer, got \"%.60s\"",
				s);
		v = (double)l;
	} else if (!cJSON_IsNumber(it)) {
		return vd_cfg_error(c, key, "expected an integer, got %s",
				    json_type_name(it));
	} else {
		v = it->valuedouble;
	}
	if (v != floor(v))
		return vd_cfg_error(c, key, "expected an integer, got %g", v);
	if (v < (double)min || v > (double)max)
		return vd_cfg_error(c, key, "must be between %ld and %ld", min,
				    max);
	*out = (long)v;
	return 0;
}

int
vd_cfg_duration(struct vd_cfg *c, const char *key, double *out)
{
	const cJSON *it = vd_cfg_take(c, key);
	int r;
	if (it == NULL)
		return 0;
	if (!cJSON_IsString(it))
		return vd_cfg_error(c, key,
				    "expected a duration string like \"5s\" "
				    "or \"250ms\", got %s",
				    json_type_name(it));
	r = vd_parse_duration(it->valuestring, out);
	if (r == VD_DURATION_UNIT_ORDER)
		return vd_cfg_error(
			c, key,
			"invalid duration \"%s\": each unit at most "
			"once, largest first (e.g. \"1m30s\")",
			it->valuestring);
	if (r < 0)
		return vd_cfg_error(c, key,
				    "invalid duration \"%s\" (use e.g. "
				    "\"250ms\", \"5s\", \"1m\")",
				    it->valuestring);
	return 0;
}

int
vd_cfg_size(struct vd_cfg *c, const char *key, size_t *out)
{
	const cJSON *it = vd_cfg_take(c, key);
	if (it == NULL)
		return 0;
	if (cJSON_IsNumber(it)) {
		if (it->valuedouble < 0 ||
		    it->valuedouble != floor(it->valuedouble) ||
		    it->valuedouble > 1e15)
			return vd_cfg_error(c, key, "expected a size in bytes");
		*out = (size_t)it->valuedouble;
		return 0;
	}
	if (!cJSON_IsString(it) || vd_parse_size(it->valuestring, out) < 0)
		return vd_cfg_error(c, key,
				    "expected a size (bytes, or a string like "
				    "\"512KiB\", \"1MiB\")");
	return 0;
}

void
vd_strlist_free(char **list, size_t n)
{
	size_t i;
	if (list == NULL)
		return;
	for (i = 0; i < n; i++)
		free(list[i]);
	free(list);
}

void
vd_strmap_free(char **keys, char **vals, size_t n)
{
	size_t i;
	for (i = 0; i < n; i++) {
		if (keys)
			free(keys[i]);
		if (vals)
			vd_free_secret(vals[i]);
	}
	free(keys);
	free(vals);
}

char *
vd_path_from(const char *base, const char *path)
{
	if (base == NULL || *base == '\0' || *path == '\0' || *path == '/')
		return vd_xstrdup(path);
	return vd_xasprintf("%s%s%s", base,
			    base[strlen(base) - 1] == '/' ? "" : "/", path);
}

int
vd_cfg_path(struct vd_cfg *c, const char *key, bool required, char **out)
{
	char *v = NULL, *j;
	int r = vd_cfg_str(c, key, required, &v);

	if (r || v == NULL)
		return r;
	j = vd_path_from(c->base, v);
	free(v);
	free(*out);
	*out = j;
	return 0;
}

int
vd_cfg_strlist(struct vd_cfg *c, const char *key, char ***out, size_t *n)
{
	const cJSON *it = vd_cfg_take(c, key), *el;
	char **list;
	size_t i = 0, cnt;

	if (it == NULL)
		return 0;
	if (cJSON_IsString(it)) {
		list = vd_xcalloc(1, sizeof(*list));
		list[0] = vd_xstrdup(it->valuestring);
		vd_strlist_free(*out, *n);
		*out = list;
		*n = 1;
		return 0;
	}
	if (!cJSON_IsArray(it))
		return vd_cfg_error(c, key,
				    "expected a list of strings, got %s",
				    json_type_name(it));
	cnt = (size_t)cJSON_GetArraySize(it);
	list = vd_xcalloc(cnt ? cnt : 1, sizeof(*list));
	cJSON_ArrayForEach(el, it) {
		if (!cJSON_IsString(el)) {
			char sub[64];
			snprintf(sub, sizeof(sub), "%s[%zu]", key, i);
			vd_strlist_free(list, i);
			return vd_cfg_error(c, sub, "expected a string, got %s",
					    json_type_name(el));
		}
		list[i++] = vd_xstrdup(el->valuestring);
	}
	vd_strlist_free(*out, *n);
	*out = list;
	*n = cnt;
	return 0;
}

int
vd_cfg_strmap(struct vd_cfg *c, const char *key, char ***keys, char ***vals,
	      size_t *n)
{
	const cJSON *it = vd_cfg_take(c, key), *el;
	size_t i = 0, cnt;
	char **k, **v;

	if (it == NULL)
		return 0;
	if (!cJSON_IsObject(it))
		return vd_cfg_error(c, key,
				    "expected an object of strings, got %s",
				    json_type_name(it));
	cnt = (size_t)cJSON_GetArraySize(it);
	k = vd_xcalloc(cnt ? cnt : 1, sizeof(*k));
	v = vd_xcalloc(cnt ? cnt : 1, sizeof(*v));
	cJSON_ArrayForEach(el, it) {
		if (!cJSON_IsString(el)) {
			char sub[300];
			snprintf(sub, sizeof(sub), "%s.%s", key, el->string);
			vd_strlist_free(k, i);
			vd_strlist_free(v, i);
			return vd_cfg_error(c, sub, "expected a string, got %s",
					    json_type_name(el));
		}
		k[i] = vd_xstrdup(el->string);
		v[i] = vd_xstrdup(el->valuestring);
		i++;
	}
	*keys = k;
	*vals = v;
	*n = cnt;
	return 0;
}

int
vd_cfg_child(struct vd_cfg *c, const char *key, struct vd_cfg *child)
{
	const cJSON *it = vd_cfg_take(c, key);
	char path[600];

	memset(child, 0, sizeof(*child));
	if (it == NULL)
		return 0;
	if (!cJSON_IsObject(it))
		return vd_cfg_error(c, key, "expected an object, got %s",
				    json_type_name(it));
	if (*c->path)
		snprintf(path, sizeof(path), "%s.%s", c->path, key);
	else
		snprintf(path, sizeof(path), "%s", key);
	vd_cfg_init(child, it, c->file, path, c->err);
	child->base = c->base;
	return 1;
}

int
vd_cfg_finish(struct vd_cfg *c)
{
	const cJSON *it;
	size_t i = 0;
	cJSON_ArrayForEach(it, c->obj) {
		if (!c->taken[i] && it->string &&
		    (c->own == NULL ||
		     cJSON_GetObjectItemCaseSensitive(c->own, it->string)))
			return vd_cfg_error(c, it->string, "unknown key");
		i++;
	}
	return 0;
}

static void
unset_empty(char **s)
{
	if (*s && **s == '\0') {
		free(*s);
		*s = NULL;
	}
}

int
vd_cfg_tls(struct vd_cfg *c, struct vd_tls_opts *opts)
{
	struct vd_cfg t;
	int r;

	r = vd_cfg_child(c, "tls", &t);
	if (r <= 0)
		return r;
	r = vd_cfg_bool(&t, "verify", &opts->verify);
	if (!r)
		r = vd_cfg_path(&t, "ca_file", false, &opts->ca_file);
	if (!r)
		r = vd_cfg_path(&t, "cert_file", false, &opts->cert_file);
	if (!r)
		r = vd_cfg_path(&t, "key_file", false, &opts->key_file);
	if (!r)
		r = vd_cfg_str(&t, "server_name", false, &opts->server_name);
	/* "" is unset (the default store, no client certificate, the
	 * target's name): what "${OPTIONAL_VAR}" gives when it is not set */
	unset_empty(&opts->ca_file);
	unset_empty(&opts->cert_file);
	unset_empty(&opts->key_file);
	unset_empty(&opts->server_name);
	if (!r && opts->key_file && !opts->cert_file)
		r = vd_cfg_error(&t, "key_file", "needs cert_file as well");
	if (!r)
		r = vd_cfg_finish(&t);
	vd_cfg_release(&t);
	return r;
}

void
vd_tls_opts_free(struct vd_tls_opts *opts)
{
	free(opts->ca_file);
	free(opts->cert_file);
	free(opts->key_file);
	free(opts->server_name);
	opts->ca_file = opts->cert_file = opts->key_file = NULL;
	opts->server_name = NULL;
}
