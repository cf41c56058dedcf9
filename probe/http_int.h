/*
 * http_int.h - the prober's HTTP machinery, shared only by the types that
 * speak HTTP (http, flow, security_headers, cors) and the outbound client
 * (fetch.c): libcurl's multi on libev and one HTTP request of an attempt.
 * Never included from outside probe/.
 */
#ifndef VD_HTTP_INT_H
#define VD_HTTP_INT_H

#include <curl/curl.h>

#include "../lib/curl_ev.h"
#include "probe_int.h"

/* --- libcurl multi on libev (probe/curl_glue.c) --- */

struct vd_curl;

/* Called once when a transfer added with vd_curl_add() completes. Runs
 * from the loop, outside libcurl's callbacks: the callee may remove and
 * clean up the easy handle. */
typedef void vd_curl_done_cb(CURL *easy, CURLcode code, void *udata);

/* The prober's curl multi handle (created on first use). */
struct vd_curl *vd_curl_get(struct vd_prober *p);
/* Applies the options every transfer needs: a fresh connection, no
 * signals, our own timeouts off. */
void vd_curl_easy_defaults(CURL *easy);
/* Starts a transfer. Returns 0 or VD_ERR_SYSTEM. */
int vd_curl_add(struct vd_curl *vc, CURL *easy, vd_curl_done_cb *cb,
		void *udata);
/* Stops a transfer without calling its callback. Safe for a handle that
 * is already done. Does not clean up the easy handle. */
void vd_curl_remove(struct vd_curl *vc, CURL *easy);
/* Maps a curl error to a reason kind and a short phrase. */
enum vd_reason vd_curl_reason(CURLcode code);

/* --- one HTTP request of an attempt (probe/http_req.c) --- */

struct vd_http_hdr {
	char *name;
	char *value;
};

struct vd_http_req_opts {
	const char *url;
	const char *method;	/* NULL: GET */
	char *const *hdr_names; /* request headers */
	char *const *hdr_values;
	size_t nhdrs;
	const char *body; /* NULL: none */
	size_t body_len;
	bool follow_redirects;
	long max_redirects;
	const struct vd_tls_opts *tls;
	size_t max_body;       /* bytes kept at most; more stops the read */
	const char *userpwd;   /* "user:password" for basic auth, or NULL */
	bool allow_link_local; /* may connect to link-local and cloud
				* metadata addresses */
	/* A flow's cookie jar: a share handle sharing cookies and DNS,
	 * not owned; the request uses libcurl's cookie engine with it
	 * (every hop reads and sets cookies). NULL: no cookies. */
	CURLSH *cookies;
};

struct vd_http_resp {
	CURLcode code; /* CURLE_OK, or why the transfer stopped */
	char errbuf[CURL_ERROR_SIZE];
	long os_errno;
	long status;		  /* 0: no response */
	long http_version;	  /* CURL_HTTP_VERSION_* */
	long redirects;		  /* followed */
	struct vd_http_hdr *hdrs; /* headers of the last response */
	size_t nhdrs;
	struct vd_buf body; /* up to max_body bytes */
	size_t body_bytes;  /* bytes received (kept or not) */
	bool truncated;	    /* max_body reached; the read stopped */
};

struct vd_http_req;
typedef void vd_http_req_cb(struct vd_http_req *req, void *udata);

/*
 * Starts a request for an attempt (fresh connection, the attempt's TLS
 * options). Every hop's host is resolved with vd_resolve and judged
 * (allow_link_local, chk->hop_judge) before libcurl gets its addresses;
 * redirects are followed here, hop by hop (http and https only, at most
 * max_redirects, secret headers and basic credentials only to the first
 * URL's origin). cb runs once, from the loop, when the response is
 * complete or the transfer failed; the attempt's timings are filled in by
 * then. When the request itself decides the attempt (a lookup failed, a
 * hop was refused, a redirect loop, headers over 64 KiB, conflicting
 * Content-Length, out of descriptors) it finishes the attempt and cb is
 * never called. Returns NULL after finishing the attempt with an error.
 */
struct vd_http_req *vd_http_req_start(struct vd_attempt *att,
				      const struct vd_http_req_opts *opts,
				      vd_http_req_cb *cb, void *udata);
/* Stops and frees a request; NULL is a no-op. Never call it from inside
 * cb's caller stack of libcurl (cancel() is the place). */
void vd_http_req_free(struct vd_http_req *req);
const struct vd_http_resp *vd_http_req_resp(const struct vd_http_req *req);
/* Where a request in flight stands, for a timeout's reason ("resolving
 * the name", "connecting", "TLS handshake", "waiting for the response",
 * "reading the body, 512 bytes received"). */
void vd_http_req_progress(const struct vd_http_req *req, char *buf, size_t len);
/* The last value of header name (case-insensitive), or NULL. */
const char *vd_http_resp_header(const struct vd_http_resp *resp,
				const char *name);
/*
 * If the transfer failed before a response could be judged, finishes the
 * attempt with an error and a reason and returns true. A body stopped at
 * max_body is not a failure.
 */
bool vd_http_req_failed(struct vd_attempt *att, const struct vd_http_req *req);

#endif
