/*
 * registry.c - the image-exists pre-flight through the OCI distribution
 * API: HEAD /v2/NAME/manifests/TAG with the manifest media types in
 * Accept; on 401 follows the challenge: Bearer (a token from the realm,
 * with service and scope, as GHCR and Docker Hub do) or Basic. Runs on
 * the caller's loop on the checks' client (runtime.c, probe/fetch.c).
 * Knows nothing of hooks or state.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "dep_int.h"

static const char accept_types[] =
	"application/vnd.oci.image.index.v1+json, "
	"application/vnd.oci.image.manifest.v1+json, "
	"application/vnd.docker.distribution.manifest.list.v2+json, "
	"application/vnd.docker.distribution.manifest.v2+json";

struct challenge {
	char scheme[16];
	char *realm;
	char *service;
	char *scope;
};

static void
challenge_free(struct challenge *c)
{
	free(c->realm);
	free(c->service);
	free(c->scope);
	memset(c, 0, sizeof(*c));
}

/* Parses `Bearer realm="…",service="…",scope="…"`. Returns 0 or -1. */
static int
parse_challenge(const char *h, struct challenge *c)
{
	size_t n = 0;
	memset(c, 0, sizeof(*c));
	while (*h == ' ')
		h++;
	while (h[n] && h[n] != ' ' && n < sizeof(c->scheme) - 1) {
		c->scheme[n] = h[n];
		n++;
	}
	c->scheme[n] = '\0';
	h += n;
	while (*h) {
		const char *k, *v;
		size_t kl;
		struct vd_buf val;
		while (*h == ' ' || *h == ',')
			h++;
		k = h;
		while (*h && *h != '=' && *h != ',')
			h++;
		kl = (size_t)(h - k);
		if (*h != '=')
			continue;
		h++;
		vd_buf_init(&val, 4096);
		if (*h == '"') {
			h++;
			for (v = h; *v && *v != '"'; v++) {
				if (*v == '\\' && v[1])
					v++;
				vd_buf_append(&val, v, 1);
			}
			h = *v ? v + 1 : v;
		} else {
			for (v = h; *v && *v != ','; v++)
				vd_buf_append(&val, v, 1);
			h = v;
		}
		if (kl == 5 && strncasecmp(k, "realm", 5) == 0) {
			free(c->realm);
			c->realm = vd_buf_steal(&val);
		} else if (kl == 7 && strncasecmp(k, "service", 7) == 0) {
			free(c->service);
			c->service = vd_buf_steal(&val);
		} else if (kl == 5 && strncasecmp(k, "scope", 5) == 0) {
			free(c->scope);
			c->scope = vd_buf_steal(&val);
		} else {
			vd_buf_free(&val);
		}
	}
	return c->scheme[0] ? 0 : -1;
}

static void
urlenc(struct vd_buf *b, const char *s)
{
	for (; *s; s++) {
		unsigned char ch = (unsigned char)*s;
		if (isalnum(ch) || ch == '-' || ch == '_' || ch == '.' ||
		    ch == '~')
			vd_buf_append(b, s, 1);
		else
			vd_buf_printf(b, "%%%02X", ch);
	}
}

/* The options of one registry request; hdr_* point at the caller's
 * arrays of at most two headers. */
static void
req_setup(struct vd_fetch_opts *o, const struct vd_dep_registry_conf *rc,
	  const char *method, const char *url)
{
	memset(o, 0, sizeof(*o));
	o->method = method;
	o->url = url;
	o->timeout = rc->timeout;
	o->tls = &rc->tls;
	o->max_body = (size_t)64 * 1024;
}

static char *
userpwd(const struct vd_dep_registry_conf *rc)
{
	if (rc->username == NULL && rc->password == NULL)
		return NULL;
	return vd_xasprintf("%s:%s", rc->username ? rc->username : "",
			    rc->password ? rc->password : "");
}

/* Fetches a bearer token for the challenge. Returns the token (a secret,
 * registered) or NULL with why. */
static char *
fetch_token(struct vd_dep_rt *rt, const struct vd_dep_registry_conf *rc,
	    const struct challenge *ch, const char *image, char **why,
	    bool *stopped)
{
	struct vd_fetch_opts o;
	struct vd_dep_http r;
	struct vd_buf url;
	char *scope, *tok = NULL, *up;

	if (ch->realm == NULL || !(vd_startswith(ch->realm, "https://") ||
				   vd_startswith(ch->realm, "http://"))) {
		*why = vd_xstrdup("the registry's Bearer challenge has no "
				  "http(s) realm");
		return NULL;
	}
	scope = ch->scope ? vd_xstrdup(ch->scope)
			  : vd_xasprintf("repository:%s:pull", image);
	vd_buf_init(&url, 0);
	vd_buf_puts(&url, ch->realm);
	vd_buf_puts(&url, strchr(ch->realm, '?') ? "&" : "?");
	if (ch->service) {
		vd_buf_puts(&url, "service=");
		urlenc(&url, ch->service);
		vd_buf_puts(&url, "&");
	}
	vd_buf_puts(&url, "scope=");
	urlenc(&url, scope);
	free(scope);
	req_setup(&o, rc, "GET", url.data);
	up = userpwd(rc);
	o.userpwd = up;
	if (vd_dep_fetch(rt, &o, &r) < 0) {
		*stopped = true;
		vd_dep_http_clear(&r);
		vd_free_secret(up);
		vd_buf_free(&url);
		return NULL;
	}
	vd_free_secret(up);
	vd_buf_free(&url);
	if (r.resp.error || r.resp.status != 200) {
		char *w = vd_dep_http_why(&r);
		*why = vd_xasprintf(
			"token request to the registry's realm: %s%s", w,
			r.resp.status == 401 || r.resp.status == 403
				? " (credentials refused)"
				: "");
		free(w);
		vd_dep_http_clear(&r);
		return NULL;
	}
	{
		cJSON *j = cJSON_Parse(r.resp.body);
		if (vd_dep_jstr(j, "token"))
			tok = vd_xstrdup(vd_dep_jstr(j, "token"));
		else if (vd_dep_jstr(j, "access_token"))
			tok = vd_xstrdup(vd_dep_jstr(j, "access_token"));
		cJSON_Delete(j);
	}
	vd_dep_http_clear(&r);
	if (tok == NULL || *tok == '\0') {
		free(tok);
		*why = vd_xstrdup("token request: the answer has no token");
		return NULL;
	}
	vd_secret_add(tok);
	return tok;
}

/* One image: 0 exists, 1 missing, -1 could not tell, VD_ERR_SYSTEM stop. */
static int
check_image(struct vd_dep_rt *rt, const struct vd_dep_registry_conf *rc,
	    const char *image, const char *tag, cJSON *detail, char **why)
{
	struct vd_fetch_opts o;
	struct vd_dep_http r;
	struct challenge ch;
	char *url = vd_xasprintf("%s/v2/%s/manifests/%s", rc->url, image, tag);
	char *tok = NULL, *up = NULL, *bearer = NULL;
	char *names[2], *values[2];
	const char *auth = "none";
	bool stopped = false;
	int res = -1, round;

	memset(&ch, 0, sizeof(ch));
	memset(&r, 0, sizeof(r));
	for (round = 0; round < 2; round++) {
		req_setup(&o, rc, "HEAD", url);
		names[0] = (char *)"Accept";
		values[0] = (char *)accept_types;
		o.hdr_names = names;
		o.hdr_values = values;
		o.nhdrs = 1;
		if (tok) {
			vd_free_secret(bearer);
			bearer = vd_xasprintf("Bearer %s", tok);
			names[1] = (char *)"Authorization";
			values[1] = bearer;
			o.nhdrs = 2;
		} else if (round == 1) {
			vd_free_secret(up);
			up = userpwd(rc);
			o.userpwd = up;
		}
		if (vd_dep_fetch(rt, &o, &r) < 0) {
			stopped = true;
			break;
		}
		vd_dep_jset_num(detail, "http_status", (double)r.resp.status);
		if (r.resp.error) {
			char *w = vd_dep_http_why(&r);
			*why = vd_xasprintf("%s:%s: registry unreachable: %s",
					    image, tag, w);
			free(w);
			break;
		}
		if (r.resp.status == 200) {
			const char *dg =
				vd_fetch_header(r.f, "Docker-Content-Digest");
			res = 0;
			if (dg)
				vd_dep_jset_str(detail, "digest", dg);
			break;
		}
		if (r.resp.status == 404) {
			res = 1;
			*why = vd_xasprintf(
				"image %s:%s not found in the registry", image,
				tag);
			break;
		}
		if (r.resp.status != 401 || round == 1 ||
		    vd_fetch_header(r.f, "WWW-Authenticate") == NULL ||
		    parse_challenge(vd_fetch_header(r.f, "WWW-Authenticate"),
				    &ch) < 0) {
			*why = vd_xasprintf(
				"%s:%s: the registry answered HTTP %ld%s",
				image, tag, r.resp.status,
				r.resp.status == 401 ? " (credentials refused)"
						     : "");
			break;
		}
		if (strcasecmp(ch.scheme, "Bearer") == 0) {
			auth = "bearer";
			tok = fetch_token(rt, rc, &ch, image, why, &stopped);
			if (tok == NULL)
				break;
		} else if (strcasecmp(ch.scheme, "Basic") == 0) {
			auth = "basic";
			if (rc->username == NULL && rc->password == NULL) {
				*why = vd_xasprintf(
					"%s:%s: the registry wants "
					"credentials (registry.username, "
					"registry.password_env)",
					image, tag);
				break;
			}
		} else {
			*why = vd_xasprintf("%s:%s: unsupported authentication "
					    "scheme \"%s\"",
					    image, tag, ch.scheme);
			break;
		}
		challenge_free(&ch);
		vd_dep_http_clear(&r);
	}
	vd_dep_jset_str(detail, "auth", auth);
	vd_dep_http_clear(&r);
	challenge_free(&ch);
	vd_free_secret(tok);
	vd_free_secret(bearer);
	vd_free_secret(up);
	free(url);
	return stopped ? VD_ERR_SYSTEM : res;
}

int
vd_dep_registry_check(struct vd_dep_rt *rt,
		      const struct vd_dep_registry_conf *rc,
		      const char *version, cJSON *details, char **why)
{
	size_t i;
	int worst = 0;

	*why = NULL;
	for (i = 0; i < rc->nimages; i++) {
		cJSON *d = cJSON_CreateObject();
		char *one = NULL;
		int r;
		vd_dep_jset_str(d, "image", rc->images[i]);
		vd_dep_jset_str(d, "tag", version);
		r = check_image(rt, rc, rc->images[i], version, d, &one);
		vd_dep_jset_str(d, "result",
				r == 0	 ? "exists"
				: r == 1 ? "missing"
					 : "unknown");
		if (one) {
			char *m = vd_mask(one);
			vd_dep_jset_str(d, "reason", m);
			free(m);
		}
		cJSON_AddItemToArray(details, d);
		if (r == 0) {
			vd_dep_say(rt, "  preflight: %s:%s exists",
				   rc->images[i], version);
		} else {
			vd_dep_say(rt, "  preflight: %s",
				   one ? one : "stopped");
		}
		if (r == VD_ERR_SYSTEM) {
			free(one);
			return VD_ERR_SYSTEM;
		}
		if (r != 0 && *why == NULL) {
			*why = one;
			one = NULL;
			worst = r;
		}
		free(one);
	}
	return worst;
}
