/*
 * http_req.c - one HTTP request on the shared curl multi handle, for the
 * checks that speak HTTP (http, security_headers, cors). Collects status,
 * the last response's headers and a capped body; counts body bytes in its
 * own write callback (Debian's libcurl 7.88 does not enforce
 * CURLOPT_MAXFILESIZE on bodies of unknown length).
 */
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <openssl/ssl.h>

#include "certfacts.h"
#include "probe_int.h"
#include "util.h"

#define MAX_HEADER_BYTES (64 * 1024)

struct vd_http_req {
	struct vd_attempt *att;
	struct vd_curl *vc;
	CURL *easy;
	struct curl_slist *slist;
	struct curl_slist *connect_to; /* tls.server_name: where to connect */
	char *body;		       /* request body, alive until the end */
	vd_http_req_cb *cb;
	void *udata;
	size_t max_body;
	size_t hdr_bytes;
	struct vd_buf hdr_text; /* the last response's header lines, each
				 * as "name\0 value\0"; resp.hdrs points
				 * into it once the transfer is done */
	size_t hdr_count;
	bool tls_verify; /* verification asked for */
	bool got_status; /* a status line arrived */
	char **visited;	 /* URLs answered, to tell a loop from a chain */
	size_t nvisited;
	long max_visited;
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

static size_t
header_cb(char *ptr, size_t size, size_t nmemb, void *userp)
{
	struct vd_http_req *req = userp;
	size_t n = size * nmemb, len = n, start;
	const char *colon;

	req->hdr_bytes += n;
	if (req->hdr_bytes > MAX_HEADER_BYTES)
		return 0; /* a hostile server; curl reports a write error */
	while (len && (ptr[len - 1] == '\n' || ptr[len - 1] == '\r'))
		len--;
	len = strnlen(ptr, len); /* a NUL ends the line: names stay C strings */
	if (len >= 5 && strncmp(ptr, "HTTP/", 5) == 0) {
		/* a new response (redirect, 100-continue): start over */
		req->got_status = true;
		if (req->att->check->detail)
			detail_tls_version(req);
		char *url = NULL;
		vd_buf_reset(&req->hdr_text);
		req->hdr_count = 0;
		curl_easy_getinfo(req->easy, CURLINFO_EFFECTIVE_URL, &url);
		if (url && (long)req->nvisited < req->max_visited &&
		    (req->nvisited == 0 ||
		     strcmp(req->visited[req->nvisited - 1], url) != 0)) {
			req->visited = vd_xreallocarray(req->visited,
							req->nvisited + 1,
							sizeof(char *));
			req->visited[req->nvisited++] = vd_xstrdup(url);
		}
		return n;
	}
	colon = memchr(ptr, ':', len);
	if (colon == NULL || colon == ptr)
		return n;
	start = req->hdr_text.len;
	vd_buf_append(&req->hdr_text, ptr, len);
	vd_buf_append(&req->hdr_text, "", 1);
	req->hdr_text.data[start + (size_t)(colon - ptr)] = '\0';
	req->hdr_count++;
	return n;
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
	    ip && *ip)
	{
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

static void
done_cb(CURL *easy, CURLcode code, void *udata)
{
	struct vd_http_req *req = udata;
	struct vd_result *res = req->att->result;

	req->resp.code = code;
	hdrs_build(req);
	curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &req->resp.status);
	curl_easy_getinfo(easy, CURLINFO_HTTP_VERSION, &req->resp.http_version);
	curl_easy_getinfo(easy, CURLINFO_REDIRECT_COUNT, &req->resp.redirects);
	curl_easy_getinfo(easy, CURLINFO_OS_ERRNO, &req->resp.os_errno);
	vd_curl_timings(easy, res);
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
 */
static void
use_server_name(struct vd_http_req *req, const char *url, const char *name)
{
	CURLU *u = curl_url();
	char *scheme = NULL, *host = NULL, *port = NULL, *named = NULL, *line;

	if (u == NULL)
		abort();
	if (curl_url_set(u, CURLUPART_URL, url, 0) == CURLUE_OK &&
	    curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) == CURLUE_OK &&
	    strcmp(scheme, "https") == 0 &&
	    curl_url_get(u, CURLUPART_HOST, &host, 0) == CURLUE_OK &&
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
		curl_easy_setopt(req->easy, CURLOPT_URL, named);
	}
	curl_free(scheme);
	curl_free(host);
	curl_free(port);
	curl_free(named);
	curl_url_cleanup(u);
}

struct vd_http_req *
vd_http_req_start(struct vd_attempt *att, const struct vd_http_req_opts *o,
		  vd_http_req_cb *cb, void *udata)
{
	struct vd_http_req *req = vd_xcalloc(1, sizeof(*req));
	const char *method = o->method ? o->method : "GET";
	size_t i;

	req->att = att;
	req->cb = cb;
	req->udata = udata;
	req->max_body = o->max_body;
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
	curl_easy_setopt(req->easy, CURLOPT_URL, o->url);
	curl_easy_setopt(req->easy, CURLOPT_ERRORBUFFER, req->resp.errbuf);
	curl_easy_setopt(req->easy, CURLOPT_WRITEFUNCTION, write_cb);
	curl_easy_setopt(req->easy, CURLOPT_WRITEDATA, req);
	curl_easy_setopt(req->easy, CURLOPT_HEADERFUNCTION, header_cb);
	curl_easy_setopt(req->easy, CURLOPT_HEADERDATA, req);
	curl_easy_setopt(req->easy, CURLOPT_FOLLOWLOCATION,
			 o->follow_redirects ? 1L : 0L);
	curl_easy_setopt(req->easy, CURLOPT_MAXREDIRS, o->max_redirects);
	if (att->check->detail)
		curl_easy_setopt(req->easy, CURLOPT_CERTINFO, 1L);
	if (o->tls) {
		vd_curl_tls(req->easy, o->tls);
		/* plain http: no trust store to load (a redirect to https
		 * then verifies the way libcurl does by default) */
		if (strncasecmp(o->url, "https:", 6) == 0)
			vd_curl_tls_shared(req->vc, req->easy, o->tls);
		if (o->tls->server_name)
			use_server_name(req, o->url, o->tls->server_name);
	}
	if (o->userpwd) {
		curl_easy_setopt(req->easy, CURLOPT_HTTPAUTH, CURLAUTH_BASIC);
		curl_easy_setopt(req->easy, CURLOPT_USERPWD, o->userpwd);
	}
	if (strcmp(method, "HEAD") == 0) {
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
		struct curl_slist *n;
		if (*o->hdr_values[i])
			line = vd_xasprintf("%s: %s", o->hdr_names[i],
					    o->hdr_values[i]);
		else
			line = vd_xasprintf("%s;", o->hdr_names[i]);
		n = curl_slist_append(req->slist, line);
		vd_free_secret(line);
		if (n == NULL)
			abort();
		req->slist = n;
	}
	if (req->slist)
		curl_easy_setopt(req->easy, CURLOPT_HTTPHEADER, req->slist);
	if (vd_curl_add(req->vc, req->easy, done_cb, req) < 0) {
		vd_http_req_free(req);
		vd_attempt_finish(att, VD_STATUS_ERROR, VD_REASON_INTERNAL,
				  "could not start the transfer");
		return NULL;
	}
	return req;
}

void
vd_http_req_free(struct vd_http_req *req)
{
	struct curl_slist *s;
	if (req == NULL)
		return;
	if (req->easy) {
		vd_curl_remove(req->vc, req->easy);
		curl_easy_cleanup(req->easy);
	}
	/* header lines may hold credentials */
	for (s = req->slist; s; s = s->next)
		explicit_bzero(s->data, strlen(s->data));
	curl_slist_free_all(req->slist);
	curl_slist_free_all(req->connect_to);
	free(req->body);
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

/* Too many redirects: a loop when the next URL was answered before. */
static void
redirect_failed(struct vd_attempt *att, const struct vd_http_req *req)
{
	char *next = NULL, *from, *to;
	bool same;
	size_t i;

	curl_easy_getinfo(req->easy, CURLINFO_REDIRECT_URL, &next);
	for (i = 0; next && i < req->nvisited; i++)
		if (strcmp(req->visited[i], next) == 0)
			break;
	if (next && i < req->nvisited && req->nvisited > 0) {
		from = vd_mask_url(req->visited[req->nvisited - 1]);
		to = vd_mask_url(next);
		same = strcmp(from, to) == 0;
		vd_attempt_finish(att, VD_STATUS_FAIL, VD_REASON_REDIRECT,
				  "redirect loop: %.200s redirects %s%.200s",
				  from, same ? "to itself" : "back to ",
				  same ? "" : to);
		free(from);
		free(to);
		return;
	}
	to = next ? vd_mask_url(next) : vd_xstrdup("?");
	vd_attempt_finish(att, VD_STATUS_FAIL, VD_REASON_REDIRECT,
			  "too many redirects: more than %ld (next: %.200s)",
			  req->resp.redirects, to);
	free(to);
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
	case CURLE_COULDNT_RESOLVE_HOST:
		/* curl's message names the host: "Could not resolve host: x" */
		vd_attempt_finish(att, VD_STATUS_ERROR, VD_REASON_DNS, "%s",
				  r->errbuf[0] ? r->errbuf
					       : "could not resolve host");
		return true;
	case CURLE_TOO_MANY_REDIRECTS:
		redirect_failed(att, req);
		return true;
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
	curl_off_t dns = 0, conn = 0, app = 0;
	char *url = NULL;

	if (req == NULL || req->easy == NULL)
		return;
	if (req->resp.body_bytes > 0) {
		snprintf(buf, len, "reading the body, %zu bytes received",
			 req->resp.body_bytes);
		return;
	}
	if (req->got_status) {
		snprintf(buf, len, "reading the response headers");
		return;
	}
	curl_easy_getinfo(req->easy, CURLINFO_NAMELOOKUP_TIME_T, &dns);
	curl_easy_getinfo(req->easy, CURLINFO_CONNECT_TIME_T, &conn);
	curl_easy_getinfo(req->easy, CURLINFO_APPCONNECT_TIME_T, &app);
	curl_easy_getinfo(req->easy, CURLINFO_EFFECTIVE_URL, &url);
	if (dns == 0 && conn == 0)
		snprintf(buf, len, "resolving the name");
	else if (conn == 0)
		snprintf(buf, len, "connecting");
	else if (app == 0 && url && strncmp(url, "https:", 6) == 0)
		snprintf(buf, len, "in the TLS handshake");
	else
		snprintf(buf, len, "waiting for the response");
}
