/*
 * curl_glue.c - the prober's libcurl: one multi handle per prober on the
 * loop (through curl_ev.c, which holds the libcurl<->libev glue), the
 * options every probe sets, the trust stores its HTTPS transfers share,
 * timings and reasons. Depends on libcurl, libev and OpenSSL (Debian's
 * libcurl4-openssl), nothing above probe/.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "../lib/curl_ev.h"
#include "probe_int.h"
#include "../lib/util.h"

/*
 * A trust store loaded once per prober and CA file, shared by every
 * handshake that verifies against it. Debian's libcurl 7.88 has a default
 * CApath, which keeps its own per-multi CA cache off: it re-reads and
 * re-parses the CA file for every connection (about a fifth of the CPU of
 * an HTTPS check). Entries live as long as the prober.
 */
struct ca_store {
	char *path;	   /* the CA file */
	X509_STORE *store; /* NULL: could not be loaded */
	struct stat st;	   /* of path when it was (re)loaded */
	double checked;	   /* ev_now of the last stat(), seconds */
	struct ca_store *next;
};

/* How often a CA file is looked at again for changes, seconds. */
#define CA_RECHECK 1.0

struct vd_curl {
	struct ev_loop *loop;
	struct vd_curl_ev *ev;
	struct ca_store *cas;
	char *default_ca; /* libcurl's built-in CA bundle, or NULL */
};

/* libcurl's built-in CA bundle (Debian: /etc/ssl/certs/ca-certificates.crt),
 * or NULL; the caller frees it. */
static char *
default_ca_file(void)
{
	CURL *easy = curl_easy_init();
	char *ca = NULL, *copy = NULL;

	if (easy && curl_easy_getinfo(easy, CURLINFO_CAINFO, &ca) == CURLE_OK &&
	    ca)
		copy = vd_xstrdup(ca);
	curl_easy_cleanup(easy);
	return copy;
}

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
	vc->default_ca = default_ca_file();
	return vc;
}

static void
curl_destroy(void *state)
{
	struct vd_curl *vc = state;
	struct ca_store *ca, *next;
	vd_curl_ev_free(vc->ev);
	for (ca = vc->cas; ca; ca = next) {
		next = ca->next;
		X509_STORE_free(ca->store);
		free(ca->path);
		free(ca);
	}
	free(vc->default_ca);
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

static bool
same_file(const struct stat *a, const struct stat *b)
{
	return a->st_dev == b->st_dev && a->st_ino == b->st_ino &&
	       a->st_size == b->st_size &&
	       a->st_mtim.tv_sec == b->st_mtim.tv_sec &&
	       a->st_mtim.tv_nsec == b->st_mtim.tv_nsec;
}

/* (Re)loads ca->store from ca->path; NULL when it cannot be read. The
 * flags are the ones libcurl sets on the stores it fills itself. */
static void
ca_load(struct ca_store *ca, const struct stat *st)
{
	X509_STORE *s = X509_STORE_new();

	if (s == NULL)
		abort();
	if (X509_STORE_load_file(s, ca->path) != 1) {
		X509_STORE_free(s);
		s = NULL;
	}
	ERR_clear_error();
	if (s)
		X509_STORE_set_flags(s, X509_V_FLAG_TRUSTED_FIRST |
						X509_V_FLAG_PARTIAL_CHAIN);
	X509_STORE_free(ca->store);
	ca->store = s;
	ca->st = *st;
}

/* The shared store for path, loaded on first use and again when the file
 * changed (looked at once per CA_RECHECK at most); NULL if unreadable. */
static struct ca_store *
ca_get(struct vd_curl *vc, const char *path)
{
	struct ca_store *ca;
	double now = ev_now(vc->loop);
	struct stat st;

	for (ca = vc->cas; ca; ca = ca->next)
		if (strcmp(ca->path, path) == 0)
			break;
	if (ca && now - ca->checked < CA_RECHECK)
		return ca->store ? ca : NULL;
	if (stat(path, &st) != 0)
		memset(&st, 0, sizeof(st));
	if (ca == NULL) {
		ca = vd_xcalloc(1, sizeof(*ca));
		ca->path = vd_xstrdup(path);
		ca->next = vc->cas;
		vc->cas = ca;
		ca_load(ca, &st);
	} else if (!same_file(&ca->st, &st)) {
		ca_load(ca, &st);
	}
	ca->checked = now;
	return ca->store ? ca : NULL;
}

/* libcurl calls this after creating the SSL_CTX of a connection, before
 * the SSL object (which copies the verify store). The verify store takes
 * precedence over the SSL_CTX's own store, which libcurl fills (here:
 * with nothing) after sending the ClientHello. */
static CURLcode
ssl_ctx_cb(CURL *easy, void *ssl_ctx, void *userp)
{
	struct ca_store *ca = userp;
	(void)easy;
	if (ca->store == NULL)
		return CURLE_SSL_CACERT_BADFILE;
	if (!SSL_CTX_set1_verify_cert_store((SSL_CTX *)ssl_ctx, ca->store))
		return CURLE_OUT_OF_MEMORY;
	return CURLE_OK;
}

void
vd_curl_tls_shared(struct vd_curl *vc, CURL *easy,
		   const struct vd_tls_opts *opts)
{
	const char *path = opts->ca_file ? opts->ca_file : vc->default_ca;
	struct ca_store *ca;

	if (!opts->verify || path == NULL)
		return;
	ca = ca_get(vc, path);
	if (ca == NULL)
		return; /* libcurl loads it and says what is wrong */
	curl_easy_setopt(easy, CURLOPT_CAINFO, NULL);
	curl_easy_setopt(easy, CURLOPT_CAPATH, NULL);
	curl_easy_setopt(easy, CURLOPT_SSL_CTX_FUNCTION, ssl_ctx_cb);
	curl_easy_setopt(easy, CURLOPT_SSL_CTX_DATA, ca);
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
