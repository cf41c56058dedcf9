/*
 * checks.h - every check type the registry lists, and parsing helpers the
 * types share. Internal to probe/.
 */
#ifndef VD_CHECKS_H
#define VD_CHECKS_H

#include "../cfg.h"
#include "../probe.h"

extern const struct vd_check_type vd_check_http;

/*
 * Validates url (taken from key): parses it with libcurl's URL parser and,
 * if http_only, requires an http or https scheme and a host. Returns 0 or
 * VD_ERR_CONFIG (error names the key, never the password).
 */
int vd_check_url(struct vd_cfg *c, const char *key, const char *url,
		 bool http_only);

#endif
