/*
 * host_port.c - the target keys: "url" of the http-family checks, "host"
 * and "port" of the socket checks (tcp, tls) and the "host:port" target
 * they show. Config parsing only: knows nothing of connecting, suites or
 * reports.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../lib/url.h"
#include "../../lib/util.h"
#include "checks.h"

int
vd_check_host_port(struct vd_cfg *c, long dflt, char **host, char port[8])
{
	long n = dflt;
	int r = vd_cfg_str(c, "host", true, host);

	if (!r && (**host == '\0' || strpbrk(*host, " /\t\r\n")))
		r = vd_cfg_error(c, "host", "expected a host name or address");
	if (!r && dflt == 0 && !vd_cfg_has(c, "port"))
		r = vd_cfg_error(c, "port", "required");
	if (!r)
		r = vd_cfg_int(c, "port", 1, 65535, &n);
	snprintf(port, 8, "%ld", n);
	return r;
}

char *
vd_check_host_target(const char *host, const char *port)
{
	return strchr(host, ':') ? vd_xasprintf("[%s]:%s", host, port)
				 : vd_xasprintf("%s:%s", host, port);
}

int
vd_check_url(struct vd_cfg *c, const char *key, const char *url)
{
	const char *detail = "";
	char *m;
	int r;

	switch (vd_url_http(url, NULL, NULL, &detail)) {
	case VD_URL_OK:
		return 0;
	case VD_URL_SCHEME:
		return vd_cfg_error(c, key,
				    "expected an http:// or https:// URL");
	case VD_URL_NO_HOST:
		return vd_cfg_error(c, key, "URL has no host");
	case VD_URL_INVALID:
		break;
	}
	m = vd_mask_url(url);
	r = vd_cfg_error(c, key, "invalid URL \"%s\": %s", m, detail);
	free(m);
	return r;
}
