/*
 * checks.h - every check type the registry lists, and parsing helpers the
 * types share. Internal to probe/.
 */
#ifndef VD_CHECKS_H
#define VD_CHECKS_H

#include "../cfg.h"
#include "../probe.h"

extern const struct vd_check_type vd_check_http;
extern const struct vd_check_type vd_check_tls;
extern const struct vd_check_type vd_check_tcp;
extern const struct vd_check_type vd_check_security_headers;
extern const struct vd_check_type vd_check_cors;
extern const struct vd_check_type vd_check_postgres;
extern const struct vd_check_type vd_check_redis;
extern const struct vd_check_type vd_check_env_file;
extern const struct vd_check_type vd_check_json_file;
extern const struct vd_check_type vd_check_exec;

/*
 * Validates url (taken from key): parses it with libcurl's URL parser and,
 * if http_only, requires an http or https scheme and a host. Returns 0 or
 * VD_ERR_CONFIG (error names the key, never the password).
 */
int vd_check_url(struct vd_cfg *c, const char *key, const char *url,
		 bool http_only);

/*
 * Reads a small local file of at most cap bytes (env_file.c) for a file
 * check. On success returns true with *data (NUL-terminated, len bytes;
 * free with vd_check_file_free, which wipes it). On failure finishes the
 * attempt (missing, not a regular file, too large: fail; unreadable:
 * error) and returns false.
 */
bool vd_check_file_read(struct vd_attempt *att, const char *path, size_t cap,
			char **data, size_t *len);
void vd_check_file_free(char *data, size_t len);

#endif
