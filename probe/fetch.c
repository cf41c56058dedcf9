/*
 * fetch.c - one outbound HTTP request outside a suite (the deployer's
 * notifications and registry questions) on the checks' own client
 * (http_req.c), run by the engine as a one-attempt check of a private
 * type: the same caps, header wiping, resolution, address policy, TLS
 * option application and deadline as every check. Depends on the
 * prober only; knows nothing of who asks.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "http_int.h"

struct vd_fetch {
	struct vd_check chk; /* a private type; never in the registry */
	struct vd_probe *probe;
	vd_fetch_cb *cb;
	void *udata;
	/* the request, copied */
	char *url;
	char *method;
	char **hdr_names;
	char **hdr_values;
	size_t nhdrs;
	char *body;
	size_t body_len;
	char *userpwd;
	const struct vd_tls_opts *tls;
	/* the attempt in flight */
	struct vd_http_req *req;
	/* the answer */
	long status;
	struct vd_http_hdr *hdrs;
	size_t nhdrs_resp;
	struct vd_buf body_resp;
	bool truncated;
	char *error;
};

/* The attempt's response is complete: keep what the caller may read. */
static void
req_cb(struct vd_http_req *req, void *udata)
{
	struct vd_attempt *att = udata;
	struct vd_fetch *f = att->check->conf;
	const struct vd_http_resp *r = vd_http_req_resp(req);
	size_t i;

	if (vd_http_req_failed(att, req))
		return;
	f->status = r->status;
	f->truncated = r->truncated;
	vd_buf_reset(&f->body_resp);
	vd_buf_append(&f->body_resp, r->body.data ? r->body.data : "",
		      r->body.len);
	f->hdrs = vd_xcalloc(r->nhdrs ? r->nhdrs : 1, sizeof(*f->hdrs));
	for (i = 0; i < r->nhdrs; i++) {
		f->hdrs[i].name = vd_xstrdup(r->hdrs[i].name);
		f->hdrs[i].value = vd_xstrdup(r->hdrs[i].value);
	}
	f->nhdrs_resp = r->nhdrs;
	vd_attempt_finish(att, VD_STATUS_PASS, VD_REASON_NONE, "HTTP %ld",
			  r->status);
}

static void
fetch_start(struct vd_attempt *att)
{
	struct vd_fetch *f = att->check->conf;
	struct vd_http_req_opts o;

	memset(&o, 0, sizeof(o));
	o.url = f->url;
	o.method = f->method;
	o.hdr_names = f->hdr_names;
	o.hdr_values = f->hdr_values;
	o.nhdrs = f->nhdrs;
	o.body = f->body;
	o.body_len = f->body_len;
	o.follow_redirects = false;
	o.tls = f->tls;
	o.max_body = f->chk.max_body;
	o.userpwd = f->userpwd;
	f->req = vd_http_req_start(att, &o, req_cb, att);
}

static void
fetch_cancel(struct vd_attempt *att)
{
	struct vd_fetch *f = att->check->conf;
	vd_http_req_free(f->req);
	f->req = NULL;
}

static void
fetch_timeout_detail(struct vd_attempt *att, char *buf, size_t len)
{
	struct vd_fetch *f = att->check->conf;
	vd_http_req_progress(f->req, buf, len);
}

static void
fetch_free_conf(void *conf)
{
	(void)conf; /* the fetch owns itself */
}

static const struct vd_check_type fetch_type = {
	.name = "fetch",
	.start = fetch_start,
	.cancel = fetch_cancel,
	.free = fetch_free_conf,
	.timeout_detail = fetch_timeout_detail,
	.flags = VD_TYPE_TLS,
};

static void
probe_cb(const struct vd_check *chk, const struct vd_result *res, void *udata)
{
	struct vd_fetch *f = udata;
	struct vd_fetch_resp resp;
	(void)chk;

	f->probe = NULL; /* the engine lets go of it after this call */
	if (res->status != VD_STATUS_PASS)
		f->error = vd_xstrdup(res->reason && *res->reason
					      ? res->reason
					      : "request failed");
	memset(&resp, 0, sizeof(resp));
	resp.status = f->status;
	resp.error = f->error;
	resp.body = f->body_resp.data ? f->body_resp.data : "";
	resp.body_len = f->body_resp.len;
	resp.truncated = f->truncated;
	f->cb(f, &resp, f->udata);
}

static char fetch_name[] = "fetch";

struct vd_fetch *
vd_fetch_start(struct vd_prober *p, const struct vd_fetch_opts *o,
	       vd_fetch_cb *cb, void *udata)
{
	struct vd_fetch *f = vd_xcalloc(1, sizeof(*f));
	size_t i;

	f->chk.name = fetch_name;
	f->chk.type = &fetch_type;
	f->chk.critical = true;
	f->chk.timeout = o->timeout > 0 ? o->timeout : 30;
	f->chk.max_body = o->max_body ? o->max_body : (size_t)1024 * 1024;
	f->chk.conf = f;
	f->cb = cb;
	f->udata = udata;
	f->url = vd_xstrdup(o->url);
	f->method = vd_xstrdup(o->method ? o->method : "GET");
	f->nhdrs = o->nhdrs;
	f->hdr_names = vd_xcalloc(o->nhdrs + 1, sizeof(char *));
	f->hdr_values = vd_xcalloc(o->nhdrs + 1, sizeof(char *));
	for (i = 0; i < o->nhdrs; i++) {
		f->hdr_names[i] = vd_xstrdup(o->hdr_names[i]);
		f->hdr_values[i] = vd_xstrdup(o->hdr_values[i]);
	}
	if (o->body) {
		f->body = vd_xmalloc(o->body_len + 1);
		memcpy(f->body, o->body, o->body_len);
		f->body[o->body_len] = '\0';
		f->body_len = o->body_len;
	}
	f->userpwd = o->userpwd ? vd_xstrdup(o->userpwd) : NULL;
	f->tls = o->tls;
	vd_buf_init(&f->body_resp, 0);
	f->probe = vd_probe_start(p, &f->chk, probe_cb, f);
	return f;
}

const char *
vd_fetch_header(const struct vd_fetch *f, const char *name)
{
	size_t i = f->nhdrs_resp;
	while (i-- > 0)
		if (strcasecmp(f->hdrs[i].name, name) == 0)
			return f->hdrs[i].value;
	return NULL;
}

void
vd_fetch_free(struct vd_fetch *f)
{
	size_t i;
	if (f == NULL)
		return;
	if (f->probe)
		vd_probe_cancel(f->probe);
	vd_free_secret(f->url);
	free(f->method);
	/* header values carry tokens */
	for (i = 0; i < f->nhdrs; i++) {
		free(f->hdr_names[i]);
		vd_free_secret(f->hdr_values[i]);
	}
	free(f->hdr_names);
	free(f->hdr_values);
	if (f->body) {
		explicit_bzero(f->body, f->body_len);
		free(f->body);
	}
	vd_free_secret(f->userpwd);
	for (i = 0; i < f->nhdrs_resp; i++) {
		free(f->hdrs[i].name);
		free(f->hdrs[i].value);
	}
	free(f->hdrs);
	/* a token endpoint answers with a token */
	if (f->body_resp.data)
		explicit_bzero(f->body_resp.data, f->body_resp.len);
	vd_buf_free(&f->body_resp);
	free(f->error);
	free(f);
}
