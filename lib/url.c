/*
 * url.c - the one URL validator (url.h). Depends on libcurl's URL parser
 * and lib/util only.
 */
#include <curl/curl.h>
#include <stdlib.h>
#include <string.h>

#include "url.h"
#include "util.h"

/* A copy of a libcurl string (NULL stays NULL), which is then freed. */
static char *
take(char *s)
{
	char *r = s ? vd_xstrdup(s) : NULL;
	curl_free(s);
	return r;
}

enum vd_url_err
vd_url_split(const char *url, bool any_scheme, struct vd_url *out,
	     const char **detail)
{
	CURLU *u = curl_url();
	char *scheme = NULL, *host = NULL, *port = NULL, *norm = NULL;
	enum vd_url_err r = VD_URL_OK;
	CURLUcode rc;

	memset(out, 0, sizeof(*out));
	if (u == NULL)
		abort();
	rc = curl_url_set(u, CURLUPART_URL, url,
			  any_scheme ? CURLU_NON_SUPPORT_SCHEME : 0);
	if (rc == CURLUE_OK)
		rc = curl_url_get(u, CURLUPART_SCHEME, &scheme, 0);
	if (rc == CURLUE_OK)
		rc = curl_url_get(u, CURLUPART_URL, &norm, 0);
	if (rc != CURLUE_OK) {
		if (detail)
			*detail = curl_url_strerror(rc);
		r = VD_URL_INVALID;
		goto out;
	}
	if (curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK ||
	    *host == '\0') {
		out->scheme = take(scheme);
		scheme = NULL;
		r = VD_URL_NO_HOST;
		goto out;
	}
	/* no port and no default for the scheme: port stays NULL */
	(void)curl_url_get(u, CURLUPART_PORT, &port, CURLU_DEFAULT_PORT);
	out->scheme = take(scheme);
	out->norm = take(norm);
	out->port = take(port);
	if (host[0] == '[') {
		size_t n = strlen(host);
		out->host = vd_xstrndup(host + 1, n >= 2 ? n - 2 : 0);
		curl_free(host);
	} else {
		out->host = take(host);
	}
	curl_url_cleanup(u);
	return VD_URL_OK;
out:
	curl_free(scheme);
	curl_free(host);
	curl_free(port);
	curl_free(norm);
	curl_url_cleanup(u);
	return r;
}

void
vd_url_release(struct vd_url *u)
{
	free(u->scheme);
	free(u->host);
	free(u->port);
	vd_free_secret(u->norm); /* it may hold a password */
	memset(u, 0, sizeof(*u));
}

enum vd_url_err
vd_url_http(const char *url, char **norm, char **host, const char **detail)
{
	struct vd_url u;
	enum vd_url_err r;

	if (norm)
		*norm = NULL;
	if (host)
		*host = NULL;
	r = vd_url_split(url, false, &u, detail);
	/* the scheme is judged first: "file:///x" is not an http URL */
	if (r != VD_URL_INVALID && strcmp(u.scheme, "http") != 0 &&
	    strcmp(u.scheme, "https") != 0)
		r = VD_URL_SCHEME;
	if (r != VD_URL_OK) {
		vd_url_release(&u);
		return r;
	}
	if (norm) {
		*norm = u.norm;
		u.norm = NULL;
	}
	if (host) {
		*host = u.host;
		u.host = NULL;
	}
	vd_url_release(&u);
	return VD_URL_OK;
}
