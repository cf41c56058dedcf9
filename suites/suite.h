/*
 * suite.h - suite files: JSON with comments, ${VAR} interpolation,
 * defaults, and validation with errors that name the file and the place.
 * Loading produces plain structs (struct vd_check) the prober runs.
 * Depends on the prober's public header and cJSON.
 */
#ifndef VD_SUITE_H
#define VD_SUITE_H

#include <stddef.h>

#include <cjson/cJSON.h>

#include "../probe/probe.h"

struct vd_suite {
	char *name;
	char *path; /* as given */
	char *dir;  /* relative paths of checks are taken from here; NULL:
		     * the current directory */
	struct vd_check **checks;
	size_t nchecks;
	char **stages; /* in order of first use */
	size_t nstages;
	unsigned concurrency; /* "concurrency" key; 0: not set */
	cJSON *root;	      /* the interpolated document, for extra keys */
};

struct vd_suite_load_opts {
	/* top-level keys the caller reads itself from suite->root
	 * (NULL-terminated); any other unknown key is refused */
	const char *const *extra_keys;
	/* if true, "checks" may be absent or empty */
	bool checks_optional;
	/* "NAME=value" strings (NULL-terminated, or NULL) that ${NAME}
	 * takes before the environment: values the caller knows better
	 * than the environment does (the deploy gate's ${VERSION}) */
	const char *const *vars;
	/* the folder relative paths in checks (files, tls.ca_file, an exec
	 * check's cwd and argv) are taken from; NULL: the current directory.
	 * vd_suite_load() sets it to the suite file's folder. */
	const char *base_dir;
};

/*
 * Loads the suite at path. On success returns 0 and sets *out (free with
 * vd_suite_free). On failure returns VD_ERR_CONFIG or VD_ERR_IO and writes
 * a one-line message naming the file and the place into err.
 */
int vd_suite_load(const char *path, const struct vd_suite_load_opts *opts,
		  struct vd_suite **out, char *err, size_t errlen);
/* The same from memory; name is used in messages. */
int vd_suite_parse(const char *text, size_t len, const char *name,
		   const struct vd_suite_load_opts *opts, struct vd_suite **out,
		   char *err, size_t errlen);
void vd_suite_free(struct vd_suite *s);

/*
 * Strips // and block comments outside strings, in place, keeping every
 * other byte where it was (comments become spaces) so that error
 * positions stay true. Returns -1 on an unterminated block comment.
 */
int vd_json_strip_comments(char *text, size_t len);

/*
 * Replaces ${VAR}, ${VAR:-default} and $$ in s. On an unset variable
 * without default returns NULL and writes its name to missing. Values of
 * variables whose names suggest a secret are registered for masking.
 */
char *vd_interpolate(const char *s, char *missing, size_t missing_len);
/* The same, leaving ${NAME} as it is for every NAME in keep (a
 * NULL-terminated list, or NULL): placeholders the caller fills later. */
char *vd_interpolate_keep(const char *s, const char *const *keep, char *missing,
			  size_t missing_len);
/* The same, where ${NAME} takes its value from vars ("NAME=value",
 * NULL-terminated, or NULL) before the environment. */
char *vd_interpolate_vars(const char *s, const char *const *keep,
			  const char *const *vars, char *missing,
			  size_t missing_len);

struct vd_cfg_err;
/*
 * Interpolates every string value under node in place (as
 * vd_interpolate_keep) and refuses duplicate object keys. path names node
 * in messages ("" for the top). Returns 0 or VD_ERR_CONFIG with err set.
 */
int vd_json_interpolate(cJSON *node, const char *file, const char *path,
			const char *const *keep, struct vd_cfg_err *err);

#endif
