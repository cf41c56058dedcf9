/*
 * http_req.c - one HTTP request on the shared curl multi handle, for the
 * checks that speak HTTP (http, security_headers, cors). Collects status,
 * the last response's headers and a capped body; counts body bytes in its
 * own write callback (Debian's libcurl 7.88 does not enforce
 * CURLOPT_MAXFILESIZE on bodies of unknown length).
 *
 * libcurl never resolves a name here: each hop's host is resolved by
 * vd_resolve (off the loop; numeric hosts without a thread), judged by
 * the address policy, and handed to libcurl with CURLOPT_RESOLVE in a DNS
 * cache of the request's own (a share handle), so a stuck lookup is
 * abandoned at the deadline instead of libcurl 7.88 joining its resolver
 * thread on the loop. A resolver-start callback refuses any lookup libcurl
 * would still start. Redirects are followed here, hop by hop, not by
 * CURLOPT_FOLLOWLOCATION: each hop's scheme, host and addresses are judged
 * and its header budget starts again.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <netdb.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <openssl/ssl.h>

#include "certfacts.h"
#include "http_int.h"
#include "../lib/trust.h"
#include "../lib/util.h"

/* Bytes of response headers per hop (1xx responses included). */
#define MAX_HEADER_BYTES ((size_t)64 * 1024)
/* Addresses of one hop's host kept at most. */
#define MAX_ADDRS 16

/* An IPv4 or IPv6 socket address. */
union addr {
	struct sockaddr sa;
	struct sockaddr_in in;
	struct sockaddr_in6 in6;
};

/* Why the request stopped a transfer itself (a callback returned 0). */
enum stop {
	STOP_NONE,
	STOP_REDIRECT,	     /* a 3xx to follow: req->next */
	STOP_BAD_REDIRECT,   /* a 3xx to a URL that does not parse: stop_why */
	STOP_HEADERS,	     /* more than MAX_HEADER_BYTES */
	STOP_CONTENT_LENGTH, /* conflicting Content-Length headers */
};

struct vd_http_req {
	struct vd_attempt *att;
	struct vd_curl *vc;
	CURL *easy;
	CURLSH *share;			 /* the request's own DNS cache */
	bool share_foreign;		 /* share is a flow's jar: not ours */
	struct curl_slist *slist;	 /* request headers */
	struct curl_slist *slist_public; /* the same without secret ones */
	struct curl_slist *connect_to;	 /* tls.server_name: where to connect */
	struct curl_slist *resolve;	 /* this hop's CURLOPT_RESOLVE */
	char *body;			 /* request body, alive until the end */
	vd_http_req_cb *cb;
	void *udata;
	size_t max_body;
	bool follow;
	long max_redirects;
	bool allow_link_local;
	bool has_userpwd;
	bool head; /* a HEAD request */
	const char *userpwd;
	const struct vd_tls_opts *tls;
	bool tls_shared; /* vd_trust_curl() done (at the first https hop) */
	char *sn_name;	 /* tls.server_name mapping: sn_name:sn_port */
	char *sn_host;	 /* ... connects to sn_host (no brackets) */
	char sn_port[8];
	char *origin; /* "scheme://host:port" of the first URL */
	/* the hop in flight */
	char *url;  /* as requested */
	char *host; /* where it connects (no brackets) */
	char port[8];
	bool https;
	bool numeric; /* host is an address literal: no lookup at all */
	bool resolving;
	struct vd_resolve *res;
	union addr *addrs; /* allowed for this hop, MAX_ADDRS at most */
	size_t naddrs;
	double hop_start; /* ev_now */
	long redirects;	  /* hops followed */
	char *next;	  /* STOP_REDIRECT: where to */
	long next_status; /* ... and the status that said so */
	enum stop stop;
	char stop_why[160];
	int fds[2];	   /* libcurl's sockets open now, -1: none */
	int fd_errno;	   /* socket() failed for want of descriptors */
	bool foreign_addr; /* libcurl tried an address not judged */
	bool curl_resolve; /* libcurl tried to resolve by itself */
	/* the response in flight */
	size_t hdr_bytes;
	struct vd_buf hdr_text; /* the last response's header lines, each
				 * as "name\0 value\0"; resp.hdrs points
				 * into it once the transfer is done */
	size_t hdr_count;
	long hop_status;
	char clen[24];	 /* the first Content-Length, digits */
	bool tls_verify; /* verification asked for */
	bool got_status; /* a status line arrived */
	char **visited;	 /* URLs answered, to tell a loop from a chain */
	size_t nvisited;
	long max_visited;
	double t_resolve, t_connect, t_tls, t_first; /* seconds, summed */
	bool t_any_tls;
	struct vd_http_resp resp;
};

/* The names and values live in req->hdr_text. */
static void
hdrs_clear(struct vd_http_resp *r)
{
	free(r->hdrs);
	r->hdrs = NULL;
	r->nhdrs = 0;
}

/* Points resp.hdrs at the fields header_cb kept: one allocation per
 * response instead of three per header line. */
static void
hdrs_build(struct vd_http_req *req)
{
	char *p = req->hdr_text.data, *end = p + req->hdr_text.len;
	size_t i;

	hdrs_clear(&req->resp);
	if (req->hdr_count == 0)
		return;
	req->resp.hdrs = vd_xcalloc(req->hdr_count, sizeof(*req->resp.hdrs));
	for (i = 0; i < req->hdr_count && p < end; i++) {
		req->resp.hdrs[i].name = p;
		p += strlen(p) + 1;
		while (*p == ' ' || *p == '\t')
			p++;
		req->resp.hdrs[i].value = p;
		p += strlen(p) + 1;
	}
	req->resp.nhdrs = i;
}

/* The last value of header name in the response in flight, or NULL. */
static const char *
hdr_last(const struct vd_http_req *req, const char *name)
{
	const char *p = req->hdr_text.data, *end = p + req->hdr_text.len;
	const char *found = NULL;
	size_t i;

	for (i = 0; i < req->hdr_count && p < end; i++) {
		const char *n = p, *v;
		p += strlen(p) + 1;
		v = p;
		p += strlen(p) + 1;
		if (strcasecmp(n, name) == 0) {
			while (*v == ' ' || *v == '\t')
				v++;
			found = v;
		}
	}
	return found;
}

static size_t
write_cb(char *ptr, size_t size, size_t nmemb, void *userp)
{
	struct vd_http_req *req = userp;
	size_t n = size * nmemb;

	req->resp.body_bytes += n;
	if (req->resp.body.len + n > req->max_body) {
		vd_buf_append(&req->resp.body, ptr,
			      req->max_body - req->resp.body.len);
		req->resp.truncated = true;
		return 0; /* stops the transfer: CURLE_WRITE_ERROR */
	}
	vd_buf_append(&req->resp.body, ptr, n);
	return n;
}

/* chk->detail: the TLS version of the response now arriving (the
 * connection is gone by the time the transfer is reported done). */
static void
detail_tls_version(struct vd_http_req *req)
{
	struct curl_tlssessioninfo *ti = NULL;
	if (curl_easy_getinfo(req->easy, CURLINFO_TLS_SSL_PTR, &ti) ==
		    CURLE_OK &&
	    ti && ti->backend == CURLSSLBACKEND_OPENSSL && ti->internals)
		vd_result_fact_str(req->att->result, "tls_version",
				   SSL_get_version(ti->internals));
}

/*
 * A Content-Length value: one number, or a list of equal ones ("5, 5").
 * Writes the number's digits (no leading zeros) to out; returns false on
 * a list of different numbers. Anything not a number is left to libcurl.
 */
static bool
clen_value(const char *v, size_t len, char *out, size_t outlen)
{
	size_t i = 0;
	out[0] = '\0';
	while (i < len) {
		char d[24];
		size_t k = 0;
		while (i < len && (v[i] == ' ' || v[i] == '\t' || v[i] == ','))
			i++;
		while (i < len && v[i] == '0' && i + 1 < len &&
		       isdigit((unsigned char)v[i + 1]))
			i++;
		while (i < len && isdigit((unsigned char)v[i]) &&
		       k + 1 < sizeof(d))
			d[k++] = v[i++];
		d[k] = '\0';
		if (k == 0) {
			while (i < len && v[i] != ',')
				i++;
			continue;
		}
		if (out[0] && strcmp(out, d) != 0)
			return false;
		snprintf(out, outlen, "%s", d);
	}
	return true;
}

/* The end of a header block: a redirect to follow stops the transfer
 * here (its body is never read). Returns false to stop. */
static bool
headers_done(struct vd_http_req *req)
{
	const char *loc;
	CURLU *u;
	char *abs = NULL;
	long st = req->hop_status;

	if (!req->follow ||
	    !(st == 301 || st == 302 || st == 303 || st == 307 || st == 308))
		return true;
	loc = hdr_last(req, "Location");
	if (loc == NULL || *loc == '\0')
		return true; /* judged as it is */
	u = curl_url();
	if (u == NULL)
		abort();
	if (curl_url_set(u, CURLUPART_URL, req->url, 0) == CURLUE_OK &&
	    curl_url_set(u, CURLUPART_URL, loc,
			 CURLU_NON_SUPPORT_SCHEME | CURLU_URLENCODE |
				 CURLU_ALLOW_SPACE) == CURLUE_OK &&
	    curl_url_get(u, CURLUPART_URL, &abs, 0) == CURLUE_OK) {
		req->next = vd_xstrdup(abs);
	} else {
		/* the scheme alone, when there is one, says more */
		size_t n =
			strspn(loc, "abcdefghijklmnopqrstuvwxyz"
				    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789+.-");
		if (n && n < 20 && loc[n] == ':' &&
		    isalpha((unsigned char)*loc) &&
		    strncasecmp(loc, "http:", 5) != 0 &&
		    strncasecmp(loc, "https:", 6) != 0)
			snprintf(req->stop_why, sizeof(req->stop_why),
				 "redirect to %.*s:// refused", (int)n, loc);
		else
			snprintf(req->stop_why, sizeof(req->stop_why),
				 "redirect to an invalid URL refused "
				 "(Location: %.100s)",
				 loc);
	}
	curl_free(abs);
	curl_url_cleanup(u);
	req->next_status = st;
	req->stop = req->next ? STOP_REDIRECT : STOP_BAD_REDIRECT;
	return false;
}

static size_t
header_cb(char *ptr, size_t size, size_t nmemb, void *userp)
{
	struct vd_http_req *req = userp;
	size_t n = size * nmemb, len = n, start;
	const char *colon;

	req->hdr_bytes += n;
	if (req->hdr_bytes > MAX_HEADER_BYTES) {
		req->stop = STOP_HEADERS;
		return 0;
	}
	while (len && (ptr[len - 1] == '\n' || ptr[len - 1] == '\r'))
		len--;
	if (len == 0)
		return req->got_status && !headers_done(req) ? 0 : n;
	len = strnlen(ptr, len); /* a NUL ends the line: names stay C strings */
	if (len >= 5 && strncmp(ptr, "HTTP/", 5) == 0) {
		/* a new response (100-continue): start over */
		const char *sp = memchr(ptr, ' ', len);
		req->got_status = true;
		req->hop_status = sp ? strtol(sp + 1, NULL, 10) : 0;
		req->clen[0] = '\0';
		if (req->att->check->detail)
			detail_tls_version(req);
		vd_buf_reset(&req->hdr_text);
		req->hdr_count = 0;
		if ((long)req->nvisited < req->max_visited &&
		    (req->nvisited == 0 ||
		     strcmp(req->visited[req->nvisited - 1], req->url) != 0)) {
			req->visited = vd_xreallocarray(req->visited,
							req->nvisited + 1,
							sizeof(char *));
			req->visited[req->nvisited++] = vd_xstrdup(req->url);
		}
		return n;
	}
	colon = memchr(ptr, ':', len);
	if (colon == NULL || colon == ptr)
		return n;
	if ((size_t)(colon - ptr) == 14 &&
	    strncasecmp(ptr, "Content-Length", 14) == 0) {
		char v[24];
		bool same = clen_value(colon + 1, len - 15, v, sizeof(v));
		if (!same ||
		    (v[0] && req->clen[0] && strcmp(v, req->clen) != 0)) {
			const char *val = colon + 1, *vend = ptr + len;
			while (val < vend && (*val == ' ' || *val == '\t'))
				val++;
			snprintf(req->stop_why, sizeof(req->stop_why),
				 "conflicting Content-Length headers (%s and "
				 "%.*s)",
				 req->clen[0] ? req->clen : "a list of",
				 (int)(vend - val > 40 ? 40 : vend - val), val);
			req->stop = STOP_CONTENT_LENGTH;
			return 0;
		}
		if (v[0])
			snprintf(req->clen, sizeof(req->clen), "%s", v);
	}
	start = req->hdr_text.len;
	vd_buf_append(&req->hdr_text, ptr, len);
	vd_buf_append(&req->hdr_text, "", 1);
	req->hdr_text.data[start + (size_t)(colon - ptr)] = '\0';
	req->hdr_count++;
	return n;
}

/* True if sa is one of the addresses this hop was allowed. */
static bool
addr_allowed(const struct vd_http_req *req, const struct sockaddr *sa)
{
	size_t i;
	for (i = 0; i < req->naddrs; i++) {
		const struct sockaddr *a =
			(const struct sockaddr *)&req->addrs[i];
		if (a->sa_family != sa->sa_family)
			continue;
		if (sa->sa_family == AF_INET &&
		    memcmp(&((const struct sockaddr_in *)a)->sin_addr,
			   &((const struct sockaddr_in *)sa)->sin_addr,
			   sizeof(struct in_addr)) == 0)
			return true;
		if (sa->sa_family == AF_INET6 &&
		    memcmp(&((const struct sockaddr_in6 *)a)->sin6_addr,
			   &((const struct sockaddr_in6 *)sa)->sin6_addr,
			   sizeof(struct in6_addr)) == 0)
			return true;
	}
	return false;
}

/* libcurl's socket: only to an address judged for this hop, and a want of
 * descriptors noted (it is ours to report, not a refused connection). */
static curl_socket_t
open_cb(void *userp, curlsocktype purpose, struct curl_sockaddr *a)
{
	struct vd_http_req *req = userp;
	int fd;
	(void)purpose;

	if (!addr_allowed(req, &a->addr)) {
		req->foreign_addr = true;
		return CURL_SOCKET_BAD;
	}
	fd = socket(a->family, a->socktype | SOCK_CLOEXEC, a->protocol);
	if (fd < 0 && (errno == EMFILE || errno == ENFILE))
		req->fd_errno = errno;
	if (fd >= 0)
		req->fds[req->fds[0] < 0 ? 0 : 1] = fd;
	return fd < 0 ? CURL_SOCKET_BAD : fd;
}

static int
close_cb(void *userp, curl_socket_t fd)
{
	struct vd_http_req *req = userp;
	if (req->fds[0] == fd)
		req->fds[0] = -1;
	else if (req->fds[1] == fd)
		req->fds[1] = -1;
	return close(fd);
}

/* True if one of libcurl's sockets has a connected peer (read from the
 * kernel: a deadline may run before libcurl has seen the connect). */
static bool
tcp_connected(const struct vd_http_req *req)
{
	struct sockaddr_storage ss;
	socklen_t len;
	int i;

	for (i = 0; i < 2; i++) {
		len = sizeof(ss);
		if (req->fds[i] >= 0 &&
		    getpeername(req->fds[i], (struct sockaddr *)&ss, &len) == 0)
			return true;
	}
	return false;
}

/* Names were resolved by us; only an address literal may pass (libcurl
 * parses it without a thread). */
static int
resolver_start_cb(void *resolver_state, void *reserved, void *userp)
{
	struct vd_http_req *req = userp;
	(void)resolver_state;
	(void)reserved;
	if (req->numeric)
		return 0;
	req->curl_resolve = true;
	return 1;
}

/* "Expire date:Mar 17 12:00:00 2030 GMT" (OpenSSL's ASN1_TIME_print) */
static double
cert_expiry(const struct curl_slist *s)
{
	for (; s; s = s->next) {
		struct tm tm;
		memset(&tm, 0, sizeof(tm));
		if (strncmp(s->data, "Expire date:", 12) == 0 &&
		    strptime(s->data + 12, "%b %d %H:%M:%S %Y", &tm))
			return (double)timegm(&tm);
	}
	return -1;
}

/* chk->detail: the facts /probe reports the way blackbox_exporter does. */
static void
detail_facts(struct vd_http_req *req, CURL *easy, struct vd_result *res)
{
	struct curl_certinfo *ci = NULL;
	curl_off_t clen = -1;
	char *scheme = NULL, *ip = NULL;
	double leaf = -1, earliest = -1;
	int i;

	static const struct {
		long v;
		double num;
	} versions[] = {{CURL_HTTP_VERSION_1_0, 1.0},
			{CURL_HTTP_VERSION_1_1, 1.1},
			{CURL_HTTP_VERSION_2_0, 2},
			{CURL_HTTP_VERSION_3, 3}};
	for (i = 0; i < 4; i++)
		if (req->resp.http_version == versions[i].v)
			vd_result_fact_num(res, "http_version",
					   versions[i].num);
	curl_easy_getinfo(easy, CURLINFO_CONTENT_LENGTH_DOWNLOAD_T, &clen);
	vd_result_fact_num(res, "http_content_length", (double)clen);
	vd_result_fact_num(res, "http_body_bytes",
			   (double)req->resp.body_bytes);
	if (curl_easy_getinfo(easy, CURLINFO_SCHEME, &scheme) == CURLE_OK &&
	    scheme)
		vd_result_fact_bool(res, "http_ssl",
				    req->resp.status > 0 &&
					    strcasecmp(scheme, "https") == 0);
	if (curl_easy_getinfo(easy, CURLINFO_PRIMARY_IP, &ip) == CURLE_OK &&
	    ip && *ip) {
		vd_result_fact_num(res, "ip_protocol", strchr(ip, ':') ? 6 : 4);
		vd_result_fact_str(res, "ip_address", ip);
	}
	if (curl_easy_getinfo(easy, CURLINFO_CERTINFO, &ci) != CURLE_OK ||
	    ci == NULL)
		return;
	for (i = 0; i < ci->num_of_certs; i++) {
		double t = cert_expiry(ci->certinfo[i]);
		if (i == 0) {
			const struct curl_slist *c = ci->certinfo[0];
			leaf = t;
			while (c && strncmp(c->data, "Cert:", 5) != 0)
				c = c->next;
			if (c)
				vd_cert_leaf_facts_pem(res, c->data + 5);
		}
		if (t >= 0 && (earliest < 0 || t < earliest))
			earliest = t;
	}
	if (leaf >= 0)
		vd_result_fact_num(res, "tls_not_after", leaf);
	if (earliest >= 0)
		vd_result_fact_num(res, "tls_earliest_not_after", earliest);
}

static double
usec(CURL *easy, CURLINFO what)
{
	curl_off_t v = 0;
	if (curl_easy_getinfo(easy, what, &v) != CURLE_OK)
		return 0;
	return (double)v / 1e6;
}

/* Adds the phases of the transfer that just ended (one hop). libcurl's
 * connect time includes the TLS handshake in 7.88: connect is taken as
 * the time to the first socket being connected where it can. */
static void
hop_timings(struct vd_http_req *req)
{
	double conn = usec(req->easy, CURLINFO_CONNECT_TIME_T);
	double app = usec(req->easy, CURLINFO_APPCONNECT_TIME_T);
	double pre = usec(req->easy, CURLINFO_PRETRANSFER_TIME_T);
	double first = usec(req->easy, CURLINFO_STARTTRANSFER_TIME_T);
	double ready;

	if (app > 0 && conn >= app)
		conn = 0; /* not told apart: all of it is the handshake */
	req->t_connect += conn;
	if (app > 0) {
		req->t_tls += app - conn;
		req->t_any_tls = true;
	}
	ready = app > 0 ? app : conn > 0 ? conn : pre;
	if (first > 0 && first >= ready)
		req->t_first += first - ready;
}

/* The attempt's timings: phases summed over the hops (blackbox's
 * probe_http_duration_seconds are sums too), total from the start. */
static void
set_timings(struct vd_http_req *req)
{
	struct vd_attempt *att = req->att;
	double *t = att->result->timings;

	ev_now_update(att->loop);
	t[VD_PHASE_RESOLVE] = req->t_resolve;
	t[VD_PHASE_CONNECT] = req->t_connect > 0 ? req->t_connect : -1;
	t[VD_PHASE_TLS] = req->t_any_tls ? req->t_tls : -1;
	t[VD_PHASE_FIRST_BYTE] = req->t_first > 0 ? req->t_first : -1;
	t[VD_PHASE_TOTAL] = ev_now(att->loop) - att->start;
}

static void req_finish(struct vd_http_req *req, enum vd_status st,
		       enum vd_reason kind, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/* Ends the attempt from here (cb is not called). */
static void
req_finish(struct vd_http_req *req, enum vd_status st, enum vd_reason kind,
	   const char *fmt, ...)
{
	va_list ap;
	char *msg;

	set_timings(req);
	if (req->redirects)
		vd_result_fact_num(req->att->result, "http_redirects",
				   (double)req->redirects);
	va_start(ap, fmt);
	msg = vd_xvasprintf(fmt, ap);
	va_end(ap);
	vd_attempt_finish(req->att, st, kind, "%s", msg);
	free(msg);
}

/* A refused hop: an error for the URL itself (nothing was asked), a fail
 * for a redirect (the server answered with one we do not follow). */
static void
refuse(struct vd_http_req *req, const char *what, const char *why)
{
	char *u = vd_mask_url(req->url);
	if (req->redirects)
		req_finish(req, VD_STATUS_FAIL, VD_REASON_REDIRECT,
			   "redirect to %.200s refused: %s %s", u, what, why);
	else
		req_finish(req, VD_STATUS_ERROR, VD_REASON_POLICY,
			   "%.200s refused: %s %s", u, what, why);
	free(u);
}

/* NULL if this hop may go to host (addr NULL) or to addr, else why not. */
static const char *
judge(struct vd_http_req *req, const char *host, const struct sockaddr *addr)
{
	const struct vd_check *chk = req->att->check;

	if (addr && !req->allow_link_local) {
		enum vd_addr_class c = vd_addr_classify(addr);
		if (c == VD_ADDR_LINK_LOCAL)
			return "is link-local (set allow_link_local to allow)";
		if (c == VD_ADDR_METADATA)
			return "is a cloud metadata address (set "
			       "allow_link_local to allow)";
	}
	if (chk->hop_judge)
		return chk->hop_judge(chk->hop_ctx, host, addr);
	return NULL;
}

static void done_cb(CURL *easy, CURLcode code, void *udata);

/* Adds one address to the CURLOPT_RESOLVE line. */
static void
resolve_line_add(struct vd_buf *b, const struct sockaddr *sa)
{
	char a[INET6_ADDRSTRLEN + 2];
	vd_addr_format(sa, a, sizeof(a));
	vd_buf_printf(b, sa->sa_family == AF_INET6 ? "%s[%s]" : "%s%s",
		      b->data[b->len - 1] == ':' ? "" : ",", a);
}

static void
resolved_cb(struct addrinfo *ai, int gai_err, void *udata)
{
	struct vd_http_req *req = udata;
	struct vd_attempt *att = req->att;
	const struct addrinfo *a;
	const char *why = NULL;
	char first[INET6_ADDRSTRLEN] = "";
	struct vd_buf line;
	int err = errno;

	req->res = NULL;
	req->resolving = false;
	req->t_resolve += ev_now(att->loop) - req->hop_start;
	if (ai == NULL) {
		if (gai_err == EAI_SYSTEM && (err == EMFILE || err == ENFILE))
			req_finish(req, VD_STATUS_ERROR, VD_REASON_INTERNAL,
				   "out of file descriptors (resolving %s)",
				   req->host);
		else
			req_finish(req, VD_STATUS_ERROR, VD_REASON_DNS,
				   "could not resolve %s: %s", req->host,
				   gai_err == EAI_SYSTEM
					   ? strerror(err)
					   : gai_strerror(gai_err));
		return;
	}
	req->naddrs = 0;
	if (req->addrs == NULL)
		req->addrs = vd_xcalloc(MAX_ADDRS, sizeof(*req->addrs));
	for (a = ai; a && req->naddrs < MAX_ADDRS; a = a->ai_next) {
		const char *w;
		if ((a->ai_family != AF_INET && a->ai_family != AF_INET6) ||
		    a->ai_addrlen > sizeof(req->addrs[0]) ||
		    addr_allowed(req, a->ai_addr))
			continue;
		w = judge(req, req->host, a->ai_addr);
		if (w) {
			if (why == NULL) {
				why = w;
				vd_addr_format(a->ai_addr, first,
					       sizeof(first));
			}
			continue;
		}
		memcpy(&req->addrs[req->naddrs++], a->ai_addr, a->ai_addrlen);
	}
	freeaddrinfo(ai);
	if (req->naddrs == 0 && why == NULL) {
		req_finish(req, VD_STATUS_ERROR, VD_REASON_DNS,
			   "could not resolve %s: no IPv4 or IPv6 address",
			   req->host);
		return;
	}
	if (req->naddrs == 0) {
		char *what = strcmp(first, req->host) == 0
				     ? vd_xasprintf("address %s", first)
				     : vd_xasprintf("%s (address %s)",
						    req->host, first);
		refuse(req, what, why);
		free(what);
		return;
	}
	curl_slist_free_all(req->resolve);
	req->resolve = NULL;
	if (!req->numeric) {
		size_t i;
		/* made on the first name: an address needs no cache */
		if (req->share == NULL) {
			req->share = curl_share_init();
			if (req->share == NULL)
				abort();
			curl_share_setopt(req->share, CURLSHOPT_SHARE,
					  CURL_LOCK_DATA_DNS);
			curl_easy_setopt(req->easy, CURLOPT_SHARE, req->share);
		}
		vd_buf_init(&line, 0);
		vd_buf_printf(&line, "%s:%s:", req->host, req->port);
		for (i = 0; i < req->naddrs; i++)
			resolve_line_add(&line,
					 (struct sockaddr *)&req->addrs[i]);
		req->resolve = curl_slist_append(NULL, line.data);
		vd_buf_free(&line);
		if (req->resolve == NULL)
			abort();
	}
	curl_easy_setopt(req->easy, CURLOPT_RESOLVE, req->resolve);
	if (vd_curl_add(req->vc, req->easy, done_cb, req) < 0)
		req_finish(req, VD_STATUS_ERROR, VD_REASON_INTERNAL,
			   "could not start the transfer");
}

/* "scheme://host:port", lower case, of a parsed URL; NULL if it has none. */
static char *
origin_of(CURLU *u)
{
	char *scheme = NULL, *host = NULL, *port = NULL, *o = NULL;
	if (curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) == CURLUE_OK &&
	    curl_url_get(u, CURLUPART_HOST, &host, 0) == CURLUE_OK &&
	    curl_url_get(u, CURLUPART_PORT, &port, CURLU_DEFAULT_PORT) ==
		    CURLUE_OK) {
		o = vd_xasprintf("%s://%s:%s", scheme, host, port);
		for (char *c = o; *c; c++)
			*c = (char)tolower((unsigned char)*c);
	}
	curl_free(scheme);
	curl_free(host);
	curl_free(port);
	return o;
}

/* Starts a hop to url: judges its scheme and host, then resolves. */
static void
hop_begin(struct vd_http_req *req, const char *url)
{
	struct vd_attempt *att = req->att;
	CURLU *u = curl_url();
	char *scheme = NULL, *host = NULL, *port = NULL, *origin = NULL;
	const char *why, *chost;
	unsigned char buf[sizeof(struct in6_addr)];
	bool same;

	if (u == NULL)
		abort();
	free(req->url);
	req->url = vd_xstrdup(url);
	if (curl_url_set(u, CURLUPART_URL, url, CURLU_NON_SUPPORT_SCHEME) !=
		    CURLUE_OK ||
	    curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK) {
		refuse(req, "the URL", "is not valid");
		goto out;
	}
	if (strcasecmp(scheme, "http") != 0 &&
	    strcasecmp(scheme, "https") != 0) {
		req_finish(req, VD_STATUS_FAIL, VD_REASON_REDIRECT,
			   "%s to %s:// refused",
			   req->redirects ? "redirect" : "URL", scheme);
		goto out;
	}
	if (curl_url_get(u, CURLUPART_HOST, &host, CURLU_PUNYCODE) !=
		    CURLUE_OK ||
	    curl_url_get(u, CURLUPART_PORT, &port, CURLU_DEFAULT_PORT) !=
		    CURLUE_OK) {
		refuse(req, "the URL", "has no host");
		goto out;
	}
	req->https = strcasecmp(scheme, "https") == 0;
	free(req->host);
	if (host[0] == '[')
		req->host = vd_xstrndup(host + 1, strlen(host) - 2);
	else
		req->host = vd_xstrdup(host);
	snprintf(req->port, sizeof(req->port), "%s", port);
	/* tls.server_name: this name:port connects where the URL said */
	chost = req->host;
	if (req->sn_name && strcasecmp(req->host, req->sn_name) == 0 &&
	    strcmp(req->port, req->sn_port) == 0) {
		free(req->host);
		req->host = vd_xstrdup(req->sn_host);
		chost = req->host;
	}
	req->numeric = inet_pton(AF_INET, chost, buf) == 1 ||
		       inet_pton(AF_INET6, chost, buf) == 1;
	why = judge(req, chost, NULL);
	if (why) {
		char *what = vd_xasprintf("host %s", chost);
		refuse(req, what, why);
		free(what);
		goto out;
	}
	if (req->https && !req->tls_shared) {
		char twhy[512];
		if (vd_trust_curl(vd_prober_trust(att->prober), req->easy,
				  req->tls, twhy, sizeof(twhy)) != 0) {
			req_finish(req, VD_STATUS_ERROR, VD_REASON_INTERNAL,
				   "%s", twhy);
			goto out;
		}
		req->tls_shared = true;
	}
	/* credentials go to the first URL's origin only, as libcurl does
	 * for the redirects it follows itself */
	origin = origin_of(u);
	same = origin && req->origin && strcmp(origin, req->origin) == 0;
	curl_easy_setopt(req->easy, CURLOPT_HTTPHEADER,
			 same ? req->slist : req->slist_public);
	if (req->has_userpwd)
		curl_easy_setopt(req->easy, CURLOPT_USERPWD,
				 same ? req->userpwd : NULL);
	curl_easy_setopt(req->easy, CURLOPT_URL, url);
	/* per hop: the header budget, the response */
	req->hdr_bytes = 0;
	req->got_status = false;
	req->hop_status = 0;
	req->clen[0] = '\0';
	vd_buf_reset(&req->hdr_text);
	req->hdr_count = 0;
	vd_buf_reset(&req->resp.body);
	req->resp.body_bytes = 0;
	req->resp.truncated = false;
	req->stop = STOP_NONE;
	req->naddrs = 0;
	req->resolving = true;
	req->hop_start = ev_now(att->loop);
	req->res = vd_resolve_start(att->prober, chost, req->port, SOCK_STREAM,
				    resolved_cb, req);
out:
	free(origin);
	curl_free(scheme);
	curl_free(host);
	curl_free(port);
	curl_url_cleanup(u);
}

/* Too many redirects: a loop when the next URL was answered before. */
static void
redirect_failed(struct vd_http_req *req, const char *next)
{
	char *from, *to;
	bool same;
	size_t i;

	for (i = 0; i < req->nvisited; i++)
		if (strcmp(req->visited[i], next) == 0)
			break;
	if (i < req->nvisited && req->nvisited > 0) {
		from = vd_mask_url(req->visited[req->nvisited - 1]);
		to = vd_mask_url(next);
		same = strcmp(from, to) == 0;
		req_finish(req, VD_STATUS_FAIL, VD_REASON_REDIRECT,
			   "redirect loop: %.200s redirects %s%.200s", from,
			   same ? "to itself" : "back to ", same ? "" : to);
		free(from);
		free(to);
		return;
	}
	to = vd_mask_url(next);
	req_finish(req, VD_STATUS_FAIL, VD_REASON_REDIRECT,
		   "too many redirects: more than %ld (next: %.200s)",
		   req->max_redirects, to);
	free(to);
}

/* A 3xx said where to go next (req->next). */
static void
follow(struct vd_http_req *req)
{
	char *next = req->next;
	long st = req->next_status;

	req->next = NULL;
	vd_curl_remove(req->vc, req->easy);
	if (req->redirects >= req->max_redirects) {
		redirect_failed(req, next);
		free(next);
		return;
	}
	req->redirects++;
	/* 303 (and 301/302 after a POST, as browsers do): GET from here */
	if ((st == 303 || ((st == 301 || st == 302) && req->body)) &&
	    !req->head) {
		curl_easy_setopt(req->easy, CURLOPT_CUSTOMREQUEST, NULL);
		curl_easy_setopt(req->easy, CURLOPT_HTTPGET, 1L);
	}
	hop_begin(req, next);
	free(next);
}

static void
done_cb(CURL *easy, CURLcode code, void *udata)
{
	struct vd_http_req *req = udata;
	struct vd_result *res = req->att->result;

	hop_timings(req);
	switch (req->stop) {
	case STOP_REDIRECT:
		follow(req);
		return;
	case STOP_HEADERS:
		req_finish(req, VD_STATUS_ERROR, VD_REASON_PROTOCOL,
			   "response headers larger than %zu KiB",
			   MAX_HEADER_BYTES / 1024);
		return;
	case STOP_CONTENT_LENGTH:
		req_finish(req, VD_STATUS_ERROR, VD_REASON_PROTOCOL, "%s",
			   req->stop_why);
		return;
	case STOP_BAD_REDIRECT:
		req_finish(req, VD_STATUS_FAIL, VD_REASON_REDIRECT, "%s",
			   req->stop_why);
		return;
	case STOP_NONE:
		break;
	}
	if (code != CURLE_OK && req->fd_errno) {
		req_finish(req, VD_STATUS_ERROR, VD_REASON_INTERNAL,
			   "out of file descriptors (socket: %s)",
			   strerror(req->fd_errno));
		return;
	}
	if (code != CURLE_OK && (req->foreign_addr || req->curl_resolve)) {
		req_finish(req, VD_STATUS_ERROR, VD_REASON_INTERNAL,
			   "libcurl tried to %s",
			   req->curl_resolve
				   ? "resolve a name itself"
				   : "connect to an address not resolved "
				     "by verdict");
		return;
	}
	req->resp.code = code;
	hdrs_build(req);
	curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &req->resp.status);
	curl_easy_getinfo(easy, CURLINFO_HTTP_VERSION, &req->resp.http_version);
	curl_easy_getinfo(easy, CURLINFO_OS_ERRNO, &req->resp.os_errno);
	req->resp.redirects = req->redirects;
	set_timings(req);
	if (req->resp.status)
		vd_result_fact_num(res, "http_status",
				   (double)req->resp.status);
	if (req->resp.redirects)
		vd_result_fact_num(res, "http_redirects",
				   (double)req->resp.redirects);
	if (req->resp.truncated)
		vd_result_fact_bool(res, "body_truncated", true);
	if (code == CURLE_PEER_FAILED_VERIFICATION) {
		vd_result_fact_bool(res, "tls_verify", false);
		vd_result_fact_str(res, "tls_verify_error", req->resp.errbuf);
	} else if (req->tls_verify && res->timings[VD_PHASE_TLS] >= 0) {
		vd_result_fact_bool(res, "tls_verify", true);
	}
	if (req->att->check->detail)
		detail_facts(req, easy, res);
	req->cb(req, req->udata);
}

/*
 * tls.server_name on an https URL: the request goes to server_name (SNI,
 * verification, Host header) while the connection goes to the URL's host
 * and port, the way `curl --connect-to` does. Other URLs are left alone.
 * Returns the URL to request (the caller frees it).
 */
static char *
use_server_name(struct vd_http_req *req, const char *url, const char *name)
{
	CURLU *u = curl_url();
	char *scheme = NULL, *host = NULL, *port = NULL, *named = NULL, *line;
	char *ret = vd_xstrdup(url);

	if (u == NULL)
		abort();
	if (curl_url_set(u, CURLUPART_URL, url, 0) == CURLUE_OK &&
	    curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) == CURLUE_OK &&
	    strcmp(scheme, "https") == 0 &&
	    curl_url_get(u, CURLUPART_HOST, &host, CURLU_PUNYCODE) ==
		    CURLUE_OK &&
	    curl_url_get(u, CURLUPART_PORT, &port, CURLU_DEFAULT_PORT) ==
		    CURLUE_OK &&
	    curl_url_set(u, CURLUPART_HOST, name, 0) == CURLUE_OK &&
	    curl_url_get(u, CURLUPART_URL, &named, 0) == CURLUE_OK) {
		line = vd_xasprintf("%s:%s:%s:%s", name, port, host, port);
		req->connect_to = curl_slist_append(NULL, line);
		free(line);
		if (req->connect_to == NULL)
			abort();
		curl_easy_setopt(req->easy, CURLOPT_CONNECT_TO,
				 req->connect_to);
		req->sn_name = vd_xstrdup(name);
		req->sn_host = host[0] == '['
				       ? vd_xstrndup(host + 1, strlen(host) - 2)
				       : vd_xstrdup(host);
		snprintf(req->sn_port, sizeof(req->sn_port), "%s", port);
		free(ret);
		ret = vd_xstrdup(named);
	}
	curl_free(scheme);
	curl_free(host);
	curl_free(port);
	curl_free(named);
	curl_url_cleanup(u);
	return ret;
}

static struct curl_slist *
slist_add(struct curl_slist *l, const char *line)
{
	struct curl_slist *n = curl_slist_append(l, line);
	if (n == NULL)
		abort();
	return n;
}

struct vd_http_req *
vd_http_req_start(struct vd_attempt *att, const struct vd_http_req_opts *o,
		  vd_http_req_cb *cb, void *udata)
{
	struct vd_http_req *req = vd_xcalloc(1, sizeof(*req));
	const char *method = o->method ? o->method : "GET";
	char *url;
	size_t i;

	req->att = att;
	req->fds[0] = req->fds[1] = -1;
	req->cb = cb;
	req->udata = udata;
	req->max_body = o->max_body;
	req->follow = o->follow_redirects;
	req->max_redirects = o->max_redirects;
	req->allow_link_local = o->allow_link_local;
	req->tls = o->tls;
	req->tls_verify = o->tls == NULL || o->tls->verify;
	req->max_visited = o->max_redirects + 2;
	vd_buf_init(&req->resp.body, 0);
	vd_buf_init(&req->hdr_text, 0);
	req->vc = vd_curl_get(att->prober);
	req->easy = curl_easy_init();
	if (req->easy == NULL) {
		vd_http_req_free(req);
		vd_attempt_finish(att, VD_STATUS_ERROR, VD_REASON_INTERNAL,
				  "could not create a curl handle");
		return NULL;
	}
	vd_curl_easy_defaults(req->easy);
	curl_easy_setopt(req->easy, CURLOPT_RESOLVER_START_FUNCTION,
			 resolver_start_cb);
	curl_easy_setopt(req->easy, CURLOPT_RESOLVER_START_DATA, req);
	curl_easy_setopt(req->easy, CURLOPT_OPENSOCKETFUNCTION, open_cb);
	curl_easy_setopt(req->easy, CURLOPT_OPENSOCKETDATA, req);
	curl_easy_setopt(req->easy, CURLOPT_CLOSESOCKETFUNCTION, close_cb);
	curl_easy_setopt(req->easy, CURLOPT_CLOSESOCKETDATA, req);
	curl_easy_setopt(req->easy, CURLOPT_ERRORBUFFER, req->resp.errbuf);
	curl_easy_setopt(req->easy, CURLOPT_WRITEFUNCTION, write_cb);
	curl_easy_setopt(req->easy, CURLOPT_WRITEDATA, req);
	curl_easy_setopt(req->easy, CURLOPT_HEADERFUNCTION, header_cb);
	curl_easy_setopt(req->easy, CURLOPT_HEADERDATA, req);
	curl_easy_setopt(req->easy, CURLOPT_FOLLOWLOCATION, 0L);
	if (att->check->detail)
		curl_easy_setopt(req->easy, CURLOPT_CERTINFO, 1L);
	if (o->cookies) {
		/* the jar shares DNS too, so the cache stays the flow's */
		req->share = o->cookies;
		req->share_foreign = true;
		curl_easy_setopt(req->easy, CURLOPT_SHARE, req->share);
		curl_easy_setopt(req->easy, CURLOPT_COOKIEFILE, "");
	}
	url = vd_xstrdup(o->url);
	if (o->tls && o->tls->server_name && *o->tls->server_name) {
		free(url);
		url = use_server_name(req, o->url, o->tls->server_name);
	}
	{
		CURLU *u = curl_url();
		if (u == NULL)
			abort();
		if (curl_url_set(u, CURLUPART_URL, url, 0) == CURLUE_OK)
			req->origin = origin_of(u);
		curl_url_cleanup(u);
	}
	if (o->userpwd) {
		req->has_userpwd = true;
		req->userpwd = o->userpwd;
		curl_easy_setopt(req->easy, CURLOPT_HTTPAUTH, CURLAUTH_BASIC);
	}
	if (strcmp(method, "HEAD") == 0) {
		req->head = true;
		curl_easy_setopt(req->easy, CURLOPT_NOBODY, 1L);
	} else if (strcmp(method, "GET") != 0 || o->body) {
		curl_easy_setopt(req->easy, CURLOPT_CUSTOMREQUEST, method);
	}
	if (o->body) {
		req->body = vd_xmalloc(o->body_len + 1);
		memcpy(req->body, o->body, o->body_len);
		req->body[o->body_len] = '\0';
		curl_easy_setopt(req->easy, CURLOPT_POSTFIELDS, req->body);
		curl_easy_setopt(req->easy, CURLOPT_POSTFIELDSIZE_LARGE,
				 (curl_off_t)o->body_len);
	}
	for (i = 0; i < o->nhdrs; i++) {
		char *line;
		bool secret = vd_header_is_secret(o->hdr_names[i]) ||
			      strcasecmp(o->hdr_names[i], "Cookie") == 0;
		if (*o->hdr_values[i])
			line = vd_xasprintf("%s: %s", o->hdr_names[i],
					    o->hdr_values[i]);
		else
			line = vd_xasprintf("%s;", o->hdr_names[i]);
		req->slist = slist_add(req->slist, line);
		if (!secret)
			req->slist_public = slist_add(req->slist_public, line);
		vd_free_secret(line);
	}
	hop_begin(req, url);
	free(url);
	return req;
}

void
vd_http_req_free(struct vd_http_req *req)
{
	struct curl_slist *s;
	if (req == NULL)
		return;
	vd_resolve_cancel(req->res);
	if (req->easy) {
		vd_curl_remove(req->vc, req->easy);
		curl_easy_cleanup(req->easy);
	}
	if (req->share && !req->share_foreign)
		curl_share_cleanup(req->share);
	/* header lines may hold credentials */
	for (s = req->slist; s; s = s->next)
		explicit_bzero(s->data, strlen(s->data));
	curl_slist_free_all(req->slist);
	curl_slist_free_all(req->slist_public);
	curl_slist_free_all(req->connect_to);
	curl_slist_free_all(req->resolve);
	free(req->body);
	free(req->url);
	free(req->host);
	free(req->next);
	free(req->origin);
	free(req->sn_name);
	free(req->sn_host);
	free(req->addrs);
	while (req->nvisited > 0)
		free(req->visited[--req->nvisited]);
	free(req->visited);
	hdrs_clear(&req->resp);
	vd_buf_free(&req->hdr_text);
	vd_buf_free(&req->resp.body);
	free(req);
}

const struct vd_http_resp *
vd_http_req_resp(const struct vd_http_req *req)
{
	return &req->resp;
}

const char *
vd_http_resp_header(const struct vd_http_resp *resp, const char *name)
{
	size_t i = resp->nhdrs;
	while (i-- > 0)
		if (strcasecmp(resp->hdrs[i].name, name) == 0)
			return resp->hdrs[i].value;
	return NULL;
}

/* The first line of curl's error buffer, or its generic message. */
static const char *
curl_detail(const struct vd_http_resp *r)
{
	return r->errbuf[0] ? r->errbuf : curl_easy_strerror(r->code);
}

bool
vd_http_req_failed(struct vd_attempt *att, const struct vd_http_req *req)
{
	const struct vd_http_resp *r = &req->resp;
	enum vd_reason kind;

	if (r->code == CURLE_OK)
		return false;
	if (r->code == CURLE_WRITE_ERROR && r->truncated)
		return false;
	kind = vd_curl_reason(r->code);
	switch (r->code) {
	case CURLE_COULDNT_CONNECT:
		if (r->os_errno == ECONNREFUSED) {
			vd_attempt_finish(att, VD_STATUS_ERROR,
					  VD_REASON_REFUSED,
					  "connection refused");
			return true;
		}
		break;
	case CURLE_PARTIAL_FILE:
	case CURLE_RECV_ERROR:
		if (r->status) {
			vd_attempt_finish(
				att, VD_STATUS_ERROR, VD_REASON_PROTOCOL,
				"connection broken after status %ld "
				"and %zu body bytes: %s",
				r->status, r->body_bytes, curl_detail(r));
			return true;
		}
		break;
	case CURLE_GOT_NOTHING:
		vd_attempt_finish(att, VD_STATUS_ERROR, VD_REASON_PROTOCOL,
				  "server closed the connection without "
				  "answering");
		return true;
	case CURLE_WEIRD_SERVER_REPLY:
	case CURLE_UNSUPPORTED_PROTOCOL:
		vd_attempt_finish(att, VD_STATUS_ERROR, VD_REASON_PROTOCOL,
				  "malformed response: %s", curl_detail(r));
		return true;
	default:
		break;
	}
	vd_attempt_finish(att, VD_STATUS_ERROR, kind, "%s", curl_detail(r));
	return true;
}

void
vd_http_req_progress(const struct vd_http_req *req, char *buf, size_t len)
{
	curl_off_t app = 0;
	char *ip = NULL;

	if (req == NULL || req->easy == NULL)
		return;
	if (req->resolving) {
		snprintf(buf, len, "resolving the name");
		return;
	}
	if (req->resp.body_bytes > 0) {
		snprintf(buf, len, "reading the body, %zu bytes received",
			 req->resp.body_bytes);
		return;
	}
	if (req->got_status) {
		snprintf(buf, len, "reading the response headers");
		return;
	}
	/* libcurl 7.88 sets its connect time only after the TLS handshake;
	 * the peer's address is known once TCP is connected, to the kernel
	 * at once, to libcurl when it has seen it */
	curl_easy_getinfo(req->easy, CURLINFO_PRIMARY_IP, &ip);
	curl_easy_getinfo(req->easy, CURLINFO_APPCONNECT_TIME_T, &app);
	if ((ip == NULL || *ip == '\0') && !tcp_connected(req))
		snprintf(buf, len, "connecting");
	else if (app == 0 && req->https)
		snprintf(buf, len, "TLS handshake");
	else
		snprintf(buf, len, "waiting for the response");
}
