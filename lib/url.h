/*
 * url.h - the one validator of http(s) URLs, for suite checks and /probe
 * targets alike. Depends on libcurl's URL parser only.
 */
#ifndef VD_URL_H
#define VD_URL_H

enum vd_url_err {
	VD_URL_OK = 0,
	VD_URL_INVALID, /* libcurl cannot parse it (detail: libcurl's words) */
	VD_URL_SCHEME,	/* not http:// or https:// */
	VD_URL_NO_HOST, /* no host */
};

/*
 * Parses url as an http or https URL with a host. Returns VD_URL_OK and,
 * when norm (host) is not NULL, sets *norm to libcurl's normalised URL
 * (*host to its host, without brackets); the caller frees both. On
 * failure returns the reason, leaves *norm and *host NULL and, for
 * VD_URL_INVALID, points *detail (when not NULL) at libcurl's static
 * explanation. Aborts when out of memory.
 */
enum vd_url_err vd_url_http(const char *url, char **norm, char **host,
			    const char **detail);

#endif
