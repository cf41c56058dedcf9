/*
 * url.c - the one validator of http(s) URLs (url.h). Depends on libcurl's
 * URL parser and lib/util only.
 */
#include <curl/curl.h>
#include <stdlib.h>
#include <string.h>

#include "url.h"
#include "util.h"

enum vd_url_err
vd_url_http(const char *url, char **norm, char **host, const char **detail)
{
	CURLU *u = curl_url();
	char *scheme = NULL, *h = NULL, *out = NULL;
	enum vd_url_err r = VD_URL_OK;
	CURLUcode rc;

	if (norm)
		*norm = NULL;
	if (host)
		*host = NULL;
	if (u == NULL)
		abort();
	rc = curl_url_set(u, CURLUPART_URL, url, 0);
	if (rc != CURLUE_OK) {
		if (detail)
			*detail = curl_url_strerror(rc);
		r = VD_URL_INVALID;
		goto out;
	}
	if (curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
	    (strcmp(scheme, "http") != 0 && strcmp(scheme, "https") != 0)) {
		r = VD_URL_SCHEME;
		goto out;
	}
	if (curl_url_get(u, CURLUPART_HOST, &h, 0) != CURLUE_OK || *h == '\0') {
		r = VD_URL_NO_HOST;
		goto out;
	}
	if (norm) {
		rc = curl_url_get(u, CURLUPART_URL, &out, 0);
		if (rc != CURLUE_OK) {
			if (detail)
				*detail = curl_url_strerror(rc);
			r = VD_URL_INVALID;
			goto out;
		}
		*norm = vd_xstrdup(out);
	}
	if (host) {
		size_t n = strlen(h);
		*host = h[0] == '[' ? vd_xstrndup(h + 1, n >= 2 ? n - 2 : 0)
				    : vd_xstrdup(h);
	}
out:
	curl_free(out);
	curl_free(h);
	curl_free(scheme);
	curl_url_cleanup(u);
	return r;
}
