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

#include "probe_int.h"
#include "util.h"

#define MAX_HEADER_BYTES (64 * 1024)

struct vd_http_req {
	struct vd_attempt *att;
	struct vd_curl *vc;
	CURL *easy;
	struct curl_slist *slist;
	char *body;             /* request body, alive until the end */
	vd_http_req_cb *cb;
	void *udata;
	size_t max_body;
	size_t hdr_bytes;
	struct vd_http_resp resp;
};

static void
hdrs_clear(struct vd_http_resp *r)
{
	size_t i;
	for (i = 0; i < r->nhdrs; i++) {
		free(r->hdrs[i].name);
		free(r->hdrs[i].value);
	}
	free(r->hdrs);
	r->hdrs = NULL;
	r->nhdrs = 0;
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

static size_t
header_cb(char *ptr, size_t size, size_t nmemb, void *userp)
{
	struct vd_http_req *req = userp;
	size_t n = size * nmemb, len = n;
	const char *colon;
	struct vd_http_hdr *h;

	req->hdr_bytes += n;
	if (req->hdr_bytes > MAX_HEADER_BYTES)
		return 0; /* a hostile server; curl reports a write error */
	while (len && (ptr[len - 1] == '\n' || ptr[len - 1] == '\r'))
		len--;
	if (len >= 5 && strncmp(ptr, "HTTP/", 5) == 0) {
		/* a new response (redirect, 100-continue): start over */
		hdrs_clear(&req->resp);
		return n;
	}
	colon = memchr(ptr, ':', len);
	if (colon == NULL || colon == ptr)
		return n;
	req->resp.hdrs = vd_xreallocarray(req->resp.hdrs, req->resp.nhdrs + 1,
					  sizeof(*req->resp.hdrs));
	h = &req->resp.hdrs[req->resp.nhdrs++];
	h->name = vd_xstrndup(ptr, (size_t)(colon - ptr));
	colon++;
	while (colon < ptr + len && (*colon == ' ' || *colon == '\t'))
		colon++;
	h->value = vd_xstrndup(colon, (size_t)(ptr + len - colon));
	return n;
}

static void
done_cb(CURL *easy, CURLcode code, void *udata)
{
	struct vd_http_req *req = udata;
	struct vd_result *res = req->att->result;

	req->resp.code = code;
	curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &req->resp.status);
	curl_easy_getinfo(easy, CURLINFO_HTTP_VERSION, &req->resp.http_version);
	curl_easy_getinfo(easy, CURLINFO_REDIRECT_COUNT, &req->resp.redirects);
	curl_easy_getinfo(easy, CURLINFO_OS_ERRNO, &req->resp.os_errno);
	vd_curl_timings(easy, res);
	if (req->resp.status)
		vd_result_fact_num(res, "http_status", (double)req->resp.status);
	if (req->resp.redirects)
		vd_result_fact_num(res, "http_redirects",
				   (double)req->resp.redirects);
	if (req->resp.truncated)
		vd_result_fact_bool(res, "body_truncated", true);
	req->cb(req, req->udata);
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
	vd_buf_init(&req->resp.body, 0);
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
	if (o->tls)
		vd_curl_tls(req->easy, o->tls);
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
	free(req->body);
	hdrs_clear(&req->resp);
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
			vd_attempt_finish(att, VD_STATUS_ERROR, VD_REASON_REFUSED,
					  "connection refused");
			return true;
		}
		break;
	case CURLE_COULDNT_RESOLVE_HOST:
		vd_attempt_finish(att, VD_STATUS_ERROR, VD_REASON_DNS,
				  "could not resolve host: %s", curl_detail(r));
		return true;
	case CURLE_TOO_MANY_REDIRECTS:
		vd_attempt_finish(att, VD_STATUS_FAIL, VD_REASON_REDIRECT,
				  "redirect loop: more than %ld redirects",
				  r->redirects);
		return true;
	case CURLE_PARTIAL_FILE:
	case CURLE_RECV_ERROR:
		if (r->status) {
			vd_attempt_finish(att, VD_STATUS_ERROR,
					  VD_REASON_PROTOCOL,
					  "connection broken after status %ld "
					  "and %zu body bytes: %s",
					  r->status, r->body_bytes,
					  curl_detail(r));
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
