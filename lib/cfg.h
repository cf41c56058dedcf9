/*
 * cfg.h - reading configuration objects (cJSON) with errors that name
 * their place ("staging.json: checks[3].expect.status: ...") and with
 * unknown keys refused. Used by the suite loader and by every check type's
 * parser. Depends on cJSON and util.h only.
 */
#ifndef VD_CFG_H
#define VD_CFG_H

#include <stdbool.h>
#include <stddef.h>

#include <cjson/cJSON.h>

/* The first error of a load; later ones are dropped. */
struct vd_cfg_err {
	char msg[1024];
	bool set;
};

/*
 * A view of one JSON object being read. Keys taken through the getters are
 * marked; vd_cfg_finish() refuses the ones left over, except (when 'own'
 * is set) keys that came only from the suite's defaults.
 */
struct vd_cfg {
	const cJSON *obj;
	char path[512];	  /* "checks[3].expect" */
	const char *file; /* "staging.json" (basename for messages) */
	struct vd_cfg_err *err;
	bool *taken; /* one per member of obj */
	size_t nmembers;
	const cJSON *own; /* if set, only leftovers present here are refused */
	/* the folder relative paths are taken from (the suite file's);
	 * NULL: the current directory. Not owned; children inherit it. */
	const char *base;
};

/* Starts reading obj (must be an object) at path. */
void vd_cfg_init(struct vd_cfg *c, const cJSON *obj, const char *file,
		 const char *path, struct vd_cfg_err *err);
void vd_cfg_release(struct vd_cfg *c);

/* Records an error at path[.key] (key may be NULL). Returns VD_ERR_CONFIG. */
int vd_cfg_error(struct vd_cfg *c, const char *key, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* Records an error at an explicit path. Returns VD_ERR_CONFIG. */
int vd_cfg_error_at(struct vd_cfg_err *err, const char *file, const char *path,
		    const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/* Marks key as used and returns its item, or NULL when absent. */
const cJSON *vd_cfg_take(struct vd_cfg *c, const char *key);
/* True if key is present (does not mark it). */
bool vd_cfg_has(const struct vd_cfg *c, const char *key);

/*
 * Typed getters. They return 0 when the key is absent (leaving *out
 * untouched) unless 'required', 0 on success, VD_ERR_CONFIG on a wrong
 * type or value (with the error recorded).
 */
int vd_cfg_str(struct vd_cfg *c, const char *key, bool required, char **out);
int vd_cfg_bool(struct vd_cfg *c, const char *key, bool *out);
int vd_cfg_int(struct vd_cfg *c, const char *key, long min, long max,
	       long *out);
int vd_cfg_duration(struct vd_cfg *c, const char *key, double *out);
int vd_cfg_size(struct vd_cfg *c, const char *key, size_t *out);
/* A file path, as vd_cfg_str; a relative one is joined to c->base (an
 * absolute or empty path is left as it is). */
int vd_cfg_path(struct vd_cfg *c, const char *key, bool required, char **out);
/* path joined to base when it is relative and base is set, else a copy
 * (never NULL; aborts on OOM). */
char *vd_path_from(const char *base, const char *path);
/* A list of strings (a single string is accepted as a list of one). */
int vd_cfg_strlist(struct vd_cfg *c, const char *key, char ***out, size_t *n);
/* A JSON object of string values: header maps and the like. */
int vd_cfg_strmap(struct vd_cfg *c, const char *key, char ***keys, char ***vals,
		  size_t *n);
/* Opens key as a nested object. Returns 1 if present, 0 if absent,
 * VD_ERR_CONFIG if it is not an object. child must be released. */
int vd_cfg_child(struct vd_cfg *c, const char *key, struct vd_cfg *child);
/* Refuses keys not taken. Returns 0 or VD_ERR_CONFIG. */
int vd_cfg_finish(struct vd_cfg *c);

void vd_strlist_free(char **list, size_t n);
/* Frees what vd_cfg_strmap() made; values are wiped first (header maps
 * hold credentials). NULL lists are fine. */
void vd_strmap_free(char **keys, char **vals, size_t n);

/* Parses the common "tls" object into opts (defaults: verify on). */
struct vd_tls_opts;
int vd_cfg_tls(struct vd_cfg *c, struct vd_tls_opts *opts);
void vd_tls_opts_free(struct vd_tls_opts *opts);

#endif
