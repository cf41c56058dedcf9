/*
 * curl_glue.c - the prober's libcurl: one multi handle per prober on the
 * loop (through curl_ev.c, which holds the libcurl<->libev glue), the
 * options every probe sets, reasons, and the prober's one trust store
 * (lib/trust.c), which its HTTPS transfers and tls checks share. Depends
 * on libcurl and libev, nothing above probe/.
 */
#include <stdlib.h>

#include "../lib/curl_ev.h"
#include "../lib/trust.h"
#include "http_int.h"
#include "../lib/util.h"

struct vd_curl {
	struct ev_loop *loop;
	struct vd_curl_ev *ev;
};

static void *
curl_create(struct vd_prober *p)
{
	struct vd_curl *vc = vd_xcalloc(1, sizeof(*vc));
	CURLM *multi;
	vc->loop = vd_prober_loop(p);
	vc->ev = vd_curl_ev_new(vc->loop);
	multi = vd_curl_ev_multi(vc->ev);
	/* Our own concurrency limit applies; libcurl must not queue. */
	curl_multi_setopt(multi, CURLMOPT_MAX_TOTAL_CONNECTIONS, 0L);
	curl_multi_setopt(multi, CURLMOPT_MAXCONNECTS, 1L);
	return vc;
}

static void
curl_destroy(void *state)
{
	struct vd_curl *vc = state;
	vd_curl_ev_free(vc->ev);
	free(vc);
}

struct vd_curl *
vd_curl_get(struct vd_prober *p)
{
	return vd_prober_shared(p, "curl", curl_create, curl_destroy);
}

void
vd_curl_easy_defaults(CURL *easy)
{
	curl_easy_setopt(easy, CURLOPT_NOSIGNAL, 1L);
	/* A probe measures connect and TLS: never reuse a connection. */
	curl_easy_setopt(easy, CURLOPT_FRESH_CONNECT, 1L);
	curl_easy_setopt(easy, CURLOPT_FORBID_REUSE, 1L);
	curl_easy_setopt(easy, CURLOPT_USERAGENT, "verdict/" VD_VERSION);
	curl_easy_setopt(easy, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(easy, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
	/* Proxies from the environment would send probes elsewhere. */
	curl_easy_setopt(easy, CURLOPT_PROXY, "");
}

int
vd_curl_add(struct vd_curl *vc, CURL *easy, vd_curl_done_cb *cb, void *udata)
{
	return vd_curl_ev_add(vc->ev, easy, cb, udata);
}

void
vd_curl_remove(struct vd_curl *vc, CURL *easy)
{
	vd_curl_ev_remove(vc->ev, easy);
}

static void *
trust_create(struct vd_prober *p)
{
	(void)p;
	return vd_trust_new();
}

static void
trust_destroy(void *state)
{
	vd_trust_free(state);
}

struct vd_trust *
vd_prober_trust(struct vd_prober *p)
{
	return vd_prober_shared(p, "trust", trust_create, trust_destroy);
}

enum vd_reason
vd_curl_reason(CURLcode code)
{
	switch (code) {
	case CURLE_OK:
		return VD_REASON_NONE;
	case CURLE_COULDNT_RESOLVE_HOST:
	case CURLE_COULDNT_RESOLVE_PROXY:
		return VD_REASON_DNS;
	case CURLE_COULDNT_CONNECT:
		return VD_REASON_CONNECT;
	case CURLE_OPERATION_TIMEDOUT:
		return VD_REASON_TIMEOUT;
	case CURLE_SSL_CONNECT_ERROR:
	case CURLE_PEER_FAILED_VERIFICATION:
	case CURLE_SSL_CERTPROBLEM:
	case CURLE_SSL_CIPHER:
	case CURLE_SSL_CACERT_BADFILE:
	case CURLE_SSL_ISSUER_ERROR:
	case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
	case CURLE_SSL_INVALIDCERTSTATUS:
	case CURLE_SSL_CRL_BADFILE:
	case CURLE_SSL_ENGINE_NOTFOUND:
	case CURLE_SSL_ENGINE_SETFAILED:
	case CURLE_SSL_SHUTDOWN_FAILED:
	case CURLE_USE_SSL_FAILED:
		return VD_REASON_TLS;
	case CURLE_TOO_MANY_REDIRECTS:
		return VD_REASON_REDIRECT;
	case CURLE_LOGIN_DENIED:
		return VD_REASON_AUTH;
	default:
		return VD_REASON_PROTOCOL;
	}
}
