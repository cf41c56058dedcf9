/*
 * registry.c - the one table of check types. Adding a type: one file in
 * probe/checks/, one line in checks.h, one line here.
 */
#include <curl/curl.h>
#include <stdlib.h>
#include <string.h>

#include "../../lib/util.h"
#include "checks.h"

const struct vd_check_type *const vd_check_types[] = {
	&vd_check_http,
	&vd_check_tls,
	&vd_check_tcp,
	&vd_check_security_headers,
	&vd_check_cors,
	&vd_check_postgres,
	&vd_check_redis,
	&vd_check_env_file,
	&vd_check_json_file,
	&vd_check_exec,
	&vd_check_flow, /* one type a line: keeps merges clean */
	NULL,
};

int
vd_check_url(struct vd_cfg *c, const char *key, const char *url, bool http_only)
{
	CURLU *u = curl_url();
	char *scheme = NULL, *host = NULL;
	CURLUcode rc;
	int r = 0;

	if (u == NULL)
		return vd_cfg_error(c, key, "out of memory");
	rc = curl_url_set(u, CURLUPART_URL, url, 0);
	if (rc != CURLUE_OK) {
		char *m = vd_mask_url(url);
		r = vd_cfg_error(c, key, "invalid URL \"%s\": %s", m,
				 curl_url_strerror(rc));
		free(m);
		goto out;
	}
	curl_url_get(u, CURLUPART_SCHEME, &scheme, 0);
	curl_url_get(u, CURLUPART_HOST, &host, 0);
	if (http_only && (scheme == NULL || (strcmp(scheme, "http") != 0 &&
					     strcmp(scheme, "https") != 0))) {
		r = vd_cfg_error(c, key, "expected an http:// or https:// URL");
		goto out;
	}
	if (host == NULL || *host == '\0')
		r = vd_cfg_error(c, key, "URL has no host");
out:
	curl_free(scheme);
	curl_free(host);
	curl_url_cleanup(u);
	return r;
}
