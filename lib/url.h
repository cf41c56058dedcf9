/*
 * url.h - the one URL validator, for suite checks (http family, tls) and
 * /probe targets alike. Depends on libcurl's URL parser only.
 */
#ifndef VD_URL_H
#define VD_URL_H

#include <stdbool.h>

enum vd_url_err {
	VD_URL_OK = 0,
	VD_URL_INVALID, /* libcurl cannot parse it (detail: libcurl's words) */
	VD_URL_SCHEME,	/* not http:// or https:// */
	VD_URL_NO_HOST, /* no host */
};

/* A URL's parts; every member the caller frees with vd_url_release. */
struct vd_url {
	char *scheme; /* lower case */
	char *host;   /* without brackets */
	char *port;   /* the URL's, or the scheme's default; NULL: none known */
	char *norm;   /* libcurl's normalised URL */
};

/*
 * Parses url, which must have a host; any_scheme: schemes libcurl does
 * not speak are parsed too (else they are VD_URL_INVALID). Returns
 * VD_URL_OK with *out filled, or VD_URL_INVALID (*detail, when not NULL,
 * then points at libcurl's static explanation) or VD_URL_NO_HOST (with
 * out->scheme set). Release *out whatever the answer. Aborts when out of
 * memory.
 */
enum vd_url_err vd_url_split(const char *url, bool any_scheme,
			     struct vd_url *out, const char **detail);
/* Frees what vd_url_split filled (the URL wiped) and zeroes it. */
void vd_url_release(struct vd_url *u);

/*
 * vd_url_split for an http or https URL (VD_URL_SCHEME otherwise). When
 * norm (host) is not NULL, sets *norm to the normalised URL (*host to its
 * host, without brackets); the caller frees both; they stay NULL on
 * failure.
 */
enum vd_url_err vd_url_http(const char *url, char **norm, char **host,
			    const char **detail);

#endif
