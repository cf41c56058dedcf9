/*
 * http_server.c - the HTTP/1.1 front of `verdict serve`, on the libev
 * loop: accepts, reads requests under a deadline for the whole request
 * (not only for idleness), makes room for newcomers by closing the
 * connection that has waited longest for its request, caps connections
 * per client address, and routes /metrics (gzip when asked), /probe,
 * /healthz, /-/healthy, /-/ready and /-/reload. Basic auth is checked off
 * the loop (auth.c). Depends on exporter_int.h, libev, libc and OpenSSL's
 * base64 only: no HTTP library (libmicrohttpd 0.9.75 has no request
 * deadline and no eviction; see docs/serve.md).
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "../probe/probe_int.h"
#include "../lib/util.h"
#include "exporter_int.h"

#define IN_MAX	    ((size_t)16 * 1024) /* request line and headers, bytes */
#define MAX_BODY    ((size_t)64 * 1024) /* request bodies, bytes */
#define MAX_HEADERS 64			/* header lines in one request */
/* After an error answer the rest of the request is read and dropped for
 * at most LINGER seconds or DRAIN_MAX bytes, so that the client reads
 * the answer (closing on unread data would reset the connection). */
#define DRAIN_MAX      ((size_t)1024 * 1024)
#define LINGER	       2.0
#define LISTEN_BACKLOG 1024
#define ACCEPT_BATCH   64
/* Send buffer of each client connection, bytes (the kernel doubles it):
 * bounds the time one write of a large page takes on the loop. */
#define CONN_SNDBUF (128 * 1024)
#define CT_TEXT	    "text/plain; charset=utf-8"
#define CT_METRICS  "text/plain; version=0.0.4; charset=utf-8"

enum cstate {
	C_READ,	  /* waiting for (the rest of) a request */
	C_BUSY,	  /* a request is being answered: auth or /probe running */
	C_WRITE,  /* sending an answer */
	C_LINGER, /* answer sent, dropping what the client still sends */
	C_DEAD,	  /* closed; freed from a clean stack (h->reap) */
};

struct conn {
	struct vd_exp_http *h;
	int fd;
	ev_io io;
	ev_timer timer;
	enum cstate state;
	unsigned char ip[16]; /* client address (IPv4 mapped into 16) */
	double since;	      /* ev_now(): the wait for this request began */
	double req_start;     /* ev_now(): its first byte; 0: none yet */
	double last_io;	      /* ev_now(): the last byte moved */
	char *in;	      /* IN_MAX bytes */
	size_t in_len;
	size_t scanned;	  /* bytes of in searched for the header end */
	size_t hdr_len;	  /* 0: the headers are not complete */
	size_t body_left; /* body bytes still to read and drop */
	size_t drained;
	struct vd_exp_http_request rq;
	/* the answer */
	char *head;
	size_t head_len, head_off;
	const char *body;
	size_t body_len, body_off;
	void (*body_free)(void *);
	void *body_arg;
	bool close_after;
	/* work in flight */
	struct vd_exp_probe *probe;
	struct vd_exp_auth_job *auth;
	struct zjob *zjob;
	struct conn *prev, *next; /* h->conns */
};

struct vd_exp_http {
	struct vd_exp *ex;
	struct vd_exp_routes routes;
	int lfd;
	ev_io accept_io;
	ev_timer accept_retry; /* after EMFILE */
	bool accept_paused;    /* the table is full of busy connections */
	struct conn *conns;
	unsigned nconns;
	struct conn *dead; /* closed, to be freed by reap */
	ev_timer reap;
	struct vd_exp_auth *auth;
	struct vd_workers *zip; /* gzip of /metrics pages */
	struct vd_exp_http_stats stats;
};

static void conn_close(struct conn *c);
static void conn_read(struct conn *c);
static void conn_write(struct conn *c);
static void timer_arm(struct conn *c);
static void accept_resume(struct vd_exp_http *h);

/* --- answers ----------------------------------------------------------- */

static const char *
reason_phrase(unsigned status)
{
	switch (status) {
	case 200:
		return "OK";
	case 400:
		return "Bad Request";
	case 401:
		return "Unauthorized";
	case 403:
		return "Forbidden";
	case 404:
		return "Not Found";
	case 405:
		return "Method Not Allowed";
	case 408:
		return "Request Timeout";
	case 413:
		return "Content Too Large";
	case 414:
		return "URI Too Long";
	case 431:
		return "Request Header Fields Too Large";
	case 500:
		return "Internal Server Error";
	case 501:
		return "Not Implemented";
	case 503:
		return "Service Unavailable";
	case 505:
		return "HTTP Version Not Supported";
	default:
		return "Unknown";
	}
}

struct extra {
	const char *allow;
	const char *www_auth;
	bool gzip;
	bool vary; /* Vary: Accept-Encoding */
};

/*
 * Queues an answer and starts sending it. body stays valid until
 * body_free(body_arg) (NULL: static). A HEAD request gets the headers
 * only.
 */
static void
respond(struct conn *c, unsigned status, const char *ctype, const char *body,
	size_t len, void (*body_free)(void *), void *body_arg,
	const struct extra *x)
{
	struct vd_exp_out o = {NULL, 0, 0};
	char line[160];

	if (status >= 400 && status != 401 && status != 403 && status != 404 &&
	    status != 405)
		c->close_after = true;
	if (!c->rq.keepalive)
		c->close_after = true;
	snprintf(line, sizeof(line), "HTTP/1.1 %u %s\r\n", status,
		 reason_phrase(status));
	vd_exp_out_puts(&o, line);
	vd_exp_out_puts(&o, "Content-Type: ");
	vd_exp_out_puts(&o, ctype);
	snprintf(line, sizeof(line), "\r\nContent-Length: %zu\r\n", len);
	vd_exp_out_puts(&o, line);
	if (x && x->allow) {
		vd_exp_out_puts(&o, "Allow: ");
		vd_exp_out_puts(&o, x->allow);
		vd_exp_out_puts(&o, "\r\n");
	}
	if (x && x->www_auth) {
		vd_exp_out_puts(&o, "WWW-Authenticate: ");
		vd_exp_out_puts(&o, x->www_auth);
		vd_exp_out_puts(&o, "\r\n");
	}
	if (x && x->gzip)
		vd_exp_out_puts(&o, "Content-Encoding: gzip\r\n");
	if (x && x->vary)
		vd_exp_out_puts(&o, "Vary: Accept-Encoding\r\n");
	if (c->close_after)
		vd_exp_out_puts(&o, "Connection: close\r\n");
	else if (c->rq.http10)
		vd_exp_out_puts(&o, "Connection: keep-alive\r\n");
	vd_exp_out_puts(&o, "\r\n");
	c->head = o.data;
	c->head_len = o.len;
	c->head_off = 0;
	if (c->rq.head) {
		if (body_free)
			body_free(body_arg);
		body = NULL;
		len = 0;
		body_free = NULL;
	}
	c->body = body;
	c->body_len = len;
	c->body_off = 0;
	c->body_free = body_free;
	c->body_arg = body_arg;
	c->state = C_WRITE;
	c->last_io = ev_now(c->h->ex->loop);
	conn_write(c);
}

static void
respond_text(struct conn *c, unsigned status, const char *text,
	     const struct extra *x)
{
	char *s = vd_xstrdup(text);
	respond(c, status, CT_TEXT, s, strlen(s), free, s, x);
}

/* An answer before (or instead of) routing: a malformed request. */
static void
refuse(struct conn *c, unsigned status, const char *text)
{
	c->h->stats.bad_requests++;
	c->close_after = true;
	respond_text(c, status, text, NULL);
}

static void
method_not_allowed(struct conn *c, const char *allow, const char *text)
{
	struct extra x = {.allow = allow};
	respond_text(c, 405, text, &x);
}

/* --- routes ------------------------------------------------------------ */

static const char *
arg_get(const struct vd_exp_http_request *rq, const char *key)
{
	size_t i;
	for (i = 0; i < rq->nargs; i++)
		if (strcmp(rq->args[i].key, key) == 0)
			return rq->args[i].val;
	return NULL;
}

static bool
is_get(const struct vd_exp_http_request *rq)
{
	return strcmp(rq->method, "GET") == 0 ||
	       strcmp(rq->method, "HEAD") == 0;
}

/* True if Accept-Encoding admits gzip (a q of 0 refuses it). */
bool
vd_exp_http_wants_gzip(const char *ae)
{
	const char *p = ae;
	while (p && *p) {
		size_t n;
		const char *q, *end;
		while (*p == ' ' || *p == '\t' || *p == ',')
			p++;
		end = strchr(p, ',');
		if (end == NULL)
			end = p + strlen(p);
		n = strcspn(p, ";, \t");
		if ((n == 4 && strncasecmp(p, "gzip", 4) == 0) ||
		    (n == 1 && *p == '*')) {
			q = strstr(p, "q=");
			if (q == NULL || q > end || strtod(q + 2, NULL) > 0)
				return true;
		}
		p = end;
	}
	return false;
}

/* Sends pg, gzip-compressed if asked and made (the reference goes with
 * the response). */
static void
send_page(struct conn *c, struct vd_exp_page *pg, bool gzip)
{
	struct extra x = {.vary = true, .gzip = gzip && pg->gz_ok};
	const struct vd_exp_out *o = x.gzip ? &pg->gz : &pg->out;
	respond(c, 200, CT_METRICS, o->data, o->len, vd_exp_page_unref, pg, &x);
}

/*
 * A page compressed off the loop (a 10 MiB page takes 0.1-0.2 s of CPU).
 * The job holds a reference to the page, so nobody renders into it
 * meanwhile; its own buffer becomes the page's gz on the loop. A job
 * whose connection closed is orphaned (c NULL), never abandoned: the
 * page is only unreferenced on the loop, or in vd_workers_free() while
 * the loop waits.
 */
struct zjob {
	struct conn *c;
	struct vd_exp_page *pg;
	struct vd_exp_out gz;
	bool ok;
};

static void
zjob_run(void *arg)
{
	struct zjob *z = arg;
	z->ok = vd_exp_gzip(z->pg->out.data, z->pg->out.len, &z->gz);
}

static void
zjob_discard(void *arg)
{
	struct zjob *z = arg;
	free(z->gz.data);
	vd_exp_page_unref(z->pg);
	free(z);
}

static void
zjob_done(void *arg)
{
	struct zjob *z = arg;
	struct vd_exp_page *pg = z->pg;
	struct conn *c = z->c;

	if (z->ok && !pg->gz_ok) {
		/* no response sends a gz that was never made ok */
		free(pg->gz.data);
		pg->gz = z->gz;
		pg->gz_ok = true;
		z->gz.data = NULL;
	}
	if (c == NULL) {
		zjob_discard(z);
		return;
	}
	c->zjob = NULL;
	free(z->gz.data);
	free(z);
	send_page(c, pg, true);
}

static void
do_metrics(struct conn *c)
{
	struct vd_exp_page *pg = c->h->routes.metrics(c->h->routes.ctx);
	struct zjob *z;

	if (c->rq.accept_encoding == NULL ||
	    !vd_exp_http_wants_gzip(c->rq.accept_encoding)) {
		send_page(c, pg, false);
		return;
	}
	if (pg->gz_ok) {
		send_page(c, pg, true);
		return;
	}
	z = vd_xcalloc(1, sizeof(*z));
	z->c = c;
	z->pg = pg;
	if (vd_job_submit(c->h->zip, zjob_run, zjob_done, zjob_discard, z) ==
	    NULL) {
		free(z);
		send_page(c, pg, false); /* no thread: plain it is */
		return;
	}
	c->zjob = z; /* c stays C_BUSY until zjob_done */
}

static void
probe_cb(void *udata, unsigned status, const char *ctype, char *body,
	 size_t len)
{
	struct conn *c = udata;
	c->probe = NULL;
	respond(c, status, ctype, body, len, free, body, NULL);
}

/*
 * X-Prometheus-Scrape-Timeout-Seconds, read as blackbox_exporter reads
 * it: a float (Go's ParseFloat: no spaces), 0 meaning 120. Returns false
 * when it does not parse.
 */
bool
vd_exp_http_scrape_timeout(const char *v, double *out)
{
	char *end;
	double t;

	*out = 0;
	if (v == NULL)
		return true;
	if (*v == '\0' || isspace((unsigned char)*v))
		return false;
	t = strtod(v, &end);
	if (*end != '\0')
		return false;
	if (t == 0)
		t = 120;
	/* NaN, negative and absurd values: the module's timeout */
	*out = isfinite(t) && t > 0 && t < 86400 ? t : -1;
	return true;
}

static void
do_probe(struct conn *c)
{
	struct vd_exp_probe_args a;
	unsigned status = 0;
	char *body = NULL;
	const char *v;

	memset(&a, 0, sizeof(a));
	a.module = arg_get(&c->rq, "module");
	a.target = arg_get(&c->rq, "target");
	v = arg_get(&c->rq, "debug");
	a.debug = v && strcmp(v, "true") == 0;
	if (!vd_exp_http_scrape_timeout(c->rq.scrape_timeout,
					&a.scrape_timeout)) {
		char *m = vd_xasprintf("Failed to parse timeout from "
				       "Prometheus header: invalid syntax\n");
		respond(c, 500, CT_TEXT, m, strlen(m), free, m, NULL);
		return;
	}
	c->state = C_BUSY;
	c->probe =
		vd_exp_probe_start(c->h->ex, &a, probe_cb, c, &status, &body);
	if (c->probe == NULL)
		respond(c, status, CT_TEXT, body, strlen(body), free, body,
			NULL);
}

static void
do_reload(struct conn *c)
{
	char err[1200];
	if (c->h->routes.reload(c->h->routes.ctx, err, sizeof(err)) < 0) {
		char *msg = vd_xasprintf("reload refused, the previous config "
					 "keeps running: %s\n",
					 err);
		respond(c, 500, CT_TEXT, msg, strlen(msg), free, msg, NULL);
		return;
	}
	respond_text(c, 200, "config reloaded\n", NULL);
}

static const char landing[] =
	"<html><head><title>verdict</title></head><body>\n"
	"<h1>verdict serve</h1>\n"
	"<p><a href=\"/metrics\">/metrics</a>: the latest results of the "
	"scheduled checks</p>\n"
	"<p>/probe?module=NAME&amp;target=TARGET: one probe, "
	"blackbox_exporter style (add &amp;debug=true for its log)</p>\n"
	"<p><a href=\"/healthz\">/healthz</a>, <a href=\"/-/healthy\">"
	"/-/healthy</a>, <a href=\"/-/ready\">/-/ready</a>; POST /-/reload "
	"reloads the config when serve.enable_lifecycle is true</p>\n"
	"</body></html>\n";

/* Routes that need no credentials. Returns false if path is not one. */
static bool
route_open(struct conn *c)
{
	const char *path = c->rq.path;
	const char *text;

	if (strcmp(path, "/healthz") == 0)
		text = "ok\n";
	else if (strcmp(path, "/-/healthy") == 0)
		text = "verdict is Healthy.\n";
	else if (strcmp(path, "/-/ready") == 0)
		text = "verdict is Ready.\n";
	else
		return false;
	if (!is_get(&c->rq))
		method_not_allowed(c, "GET, HEAD", "method not allowed\n");
	else
		respond_text(c, 200, text, NULL);
	return true;
}

static void
route_authed(struct conn *c)
{
	const char *path = c->rq.path;
	bool get = is_get(&c->rq);

	if (strcmp(path, "/metrics") == 0) {
		if (!get)
			method_not_allowed(c, "GET, HEAD",
					   "method not allowed\n");
		else
			do_metrics(c);
	} else if (strcmp(path, "/probe") == 0) {
		if (!get)
			method_not_allowed(c, "GET, HEAD",
					   "method not allowed\n");
		else
			do_probe(c);
	} else if (strcmp(path, "/-/reload") == 0) {
		if (strcmp(c->rq.method, "POST") != 0 &&
		    strcmp(c->rq.method, "PUT") != 0)
			method_not_allowed(c, "POST, PUT",
					   "method not allowed: use POST\n");
		else if (!c->h->ex->cfg->enable_lifecycle)
			respond_text(c, 403,
				     "Lifecycle API is not enabled "
				     "(serve.enable_lifecycle); SIGHUP "
				     "reloads\n",
				     NULL);
		else
			do_reload(c);
	} else if (strcmp(path, "/") == 0) {
		if (!get)
			method_not_allowed(c, "GET, HEAD",
					   "method not allowed\n");
		else
			respond(c, 200, "text/html; charset=utf-8", landing,
				sizeof(landing) - 1, NULL, NULL, NULL);
	} else {
		respond_text(c, 404, "not found\n", NULL);
	}
}

static void
deny(struct conn *c)
{
	struct extra x = {.www_auth = "Basic realm=\"verdict\", "
				      "charset=\"UTF-8\""};
	respond_text(c, 401, "Unauthorized\n", &x);
}

static void
auth_cb(void *udata, bool ok)
{
	struct conn *c = udata;
	c->auth = NULL;
	if (ok)
		route_authed(c);
	else
		deny(c);
}

/*
 * "Basic base64(user:password)", the scheme matched case-insensitively
 * (RFC 7617). Returns the decoded bytes (NUL-terminated, the caller wipes
 * and frees) with *colon at the first ':', or NULL.
 */
char *
vd_exp_http_basic(const char *h, char **colon)
{
	size_t n, len, pad = 0;
	unsigned char *out;
	int got;

	*colon = NULL;
	if (h == NULL || strncasecmp(h, "basic", 5) != 0 ||
	    (h[5] != ' ' && h[5] != '\t'))
		return NULL;
	h += 5;
	while (*h == ' ' || *h == '\t')
		h++;
	len = strlen(h);
	while (len && (h[len - 1] == ' ' || h[len - 1] == '\t'))
		len--;
	if (len == 0 || len % 4 != 0 || len > 4096)
		return NULL;
	if (h[len - 1] == '=')
		pad++;
	if (h[len - 2] == '=')
		pad++;
	out = vd_xmalloc(len / 4 * 3 + 1);
	got = EVP_DecodeBlock(out, (const unsigned char *)h, (int)len);
	if (got < 0 || (size_t)got < pad) {
		free(out);
		return NULL;
	}
	n = (size_t)got - pad;
	out[n] = '\0';
	if (memchr(out, '\0', n) != NULL ||
	    (*colon = memchr(out, ':', n)) == NULL) {
		explicit_bzero(out, n);
		free(out);
		*colon = NULL;
		return NULL;
	}
	return (char *)out;
}

static void
route(struct conn *c)
{
	const struct vd_exp_config *cfg = c->h->ex->cfg;
	char *cred, *colon;
	enum vd_exp_auth_answer ans;

	if (route_open(c))
		return;
	if (cfg->nusers == 0) {
		route_authed(c);
		return;
	}
	cred = vd_exp_http_basic(c->rq.authorization, &colon);
	if (cred == NULL) {
		deny(c);
		return;
	}
	*colon = '\0';
	c->state = C_BUSY;
	ans = vd_exp_auth_start(c->h->auth, cfg, cred, colon + 1, auth_cb, c,
				&c->auth);
	explicit_bzero(cred, strlen(cred) + 1 + strlen(colon + 1));
	free(cred);
	if (ans == VD_AUTH_OK)
		route_authed(c);
	else if (ans == VD_AUTH_DENIED)
		deny(c);
}

/* --- parsing ----------------------------------------------------------- */

static int
hexval(int ch)
{
	if (ch >= '0' && ch <= '9')
		return ch - '0';
	ch = tolower(ch);
	if (ch >= 'a' && ch <= 'f')
		return ch - 'a' + 10;
	return -1;
}

/* Percent-decodes s in place ('+' is a space when plus). Returns false
 * on a bad escape or an encoded NUL. */
static bool
pct_decode(char *s, bool plus)
{
	char *o = s;
	for (; *s; s++) {
		if (*s == '%') {
			int a = hexval((unsigned char)s[1]), b;
			if (a < 0 || (b = hexval((unsigned char)s[2])) < 0)
				return false;
			if (a == 0 && b == 0)
				return false;
			*o++ = (char)(a * 16 + b);
			s += 2;
		} else if (plus && *s == '+') {
			*o++ = ' ';
		} else {
			*o++ = *s;
		}
	}
	*o = '\0';
	return true;
}

/* Splits the query into rq->args. Returns an HTTP status on error. */
static unsigned
parse_query(struct vd_exp_http_request *rq, const char *q)
{
	char *p, *amp;

	rq->argbuf = vd_xstrdup(q);
	for (p = rq->argbuf; p && *p; p = amp) {
		char *eq;
		amp = strchr(p, '&');
		if (amp)
			*amp++ = '\0';
		if (*p == '\0')
			continue;
		if (rq->nargs == VD_HTTP_MAX_ARGS)
			return 400;
		eq = strchr(p, '=');
		if (eq)
			*eq++ = '\0';
		if (!pct_decode(p, true) || (eq && !pct_decode(eq, true)))
			return 400;
		rq->args[rq->nargs].key = p;
		rq->args[rq->nargs].val = eq ? eq : (char *)"";
		rq->nargs++;
	}
	return 0;
}

static bool
tchar(int ch)
{
	return isalnum(ch) || (ch && strchr("!#$%&'*+-.^_`|~", ch));
}

static char *
trim(char *s)
{
	char *e;
	while (*s == ' ' || *s == '\t')
		s++;
	e = s + strlen(s);
	while (e > s && (e[-1] == ' ' || e[-1] == '\t'))
		*--e = '\0';
	return s;
}

/*
 * Parses the header block c->in[0, hdr_len) in place. Returns 0 or an
 * HTTP status, with *why a short text for the answer.
 */
unsigned
vd_exp_http_parse(char *buf, size_t len, struct vd_exp_http_request *rq,
		  const char **why)
{
	char *p = buf, *end = buf + len, *line, *nl, *sp1, *sp2, *q;
	size_t nh = 0;
	bool have_cl = false, conn_close = false, conn_keep = false;

	memset(rq, 0, sizeof(*rq));
	if (memchr(buf, '\0', len)) {
		*why = "NUL byte in the request\n";
		return 400;
	}
	/* the request line */
	nl = memchr(p, '\n', (size_t)(end - p));
	if (nl == NULL) {
		*why = "malformed request line\n";
		return 400;
	}
	*nl = '\0';
	if (nl > p && nl[-1] == '\r')
		nl[-1] = '\0';
	line = p;
	p = nl + 1;
	for (q = line; *q; q++)
		if (iscntrl((unsigned char)*q)) {
			*why = "control character in the request line\n";
			return 400;
		}
	sp1 = strchr(line, ' ');
	sp2 = sp1 ? strchr(sp1 + 1, ' ') : NULL;
	if (sp1 == NULL || sp2 == NULL || strchr(sp2 + 1, ' ')) {
		*why = "malformed request line\n";
		return 400;
	}
	*sp1 = *sp2 = '\0';
	rq->method = line;
	rq->target_raw = sp1 + 1;
	for (q = rq->method; *q; q++)
		if (!tchar((unsigned char)*q))
			break;
	if (*rq->method == '\0' || *q) {
		*why = "malformed method\n";
		return 400;
	}
	if (strcmp(sp2 + 1, "HTTP/1.1") == 0) {
		rq->http10 = false;
	} else if (strcmp(sp2 + 1, "HTTP/1.0") == 0) {
		rq->http10 = true;
	} else if (strncmp(sp2 + 1, "HTTP/", 5) == 0) {
		*why = "HTTP/1.0 and HTTP/1.1 only\n";
		return 505;
	} else {
		*why = "malformed request line\n";
		return 400;
	}
	rq->head = strcmp(rq->method, "HEAD") == 0;
	if (rq->target_raw[0] != '/') {
		*why = "the target must be a path\n";
		return 400;
	}
	/* headers */
	while (p < end) {
		char *name, *val, *colon;
		nl = memchr(p, '\n', (size_t)(end - p));
		if (nl == NULL)
			break;
		*nl = '\0';
		if (nl > p && nl[-1] == '\r')
			nl[-1] = '\0';
		line = p;
		p = nl + 1;
		if (*line == '\0')
			break; /* the blank line */
		if (++nh > MAX_HEADERS) {
			*why = "too many header lines\n";
			return 431;
		}
		colon = strchr(line, ':');
		if (colon == NULL || colon == line) {
			*why = "malformed header line\n";
			return 400;
		}
		*colon = '\0';
		name = line;
		for (q = name; *q; q++)
			if (!tchar((unsigned char)*q)) {
				*why = "malformed header name\n";
				return 400;
			}
		val = trim(colon + 1);
		for (q = val; *q; q++)
			if (iscntrl((unsigned char)*q) && *q != '\t') {
				*why = "control character in a header\n";
				return 400;
			}
		if (strcasecmp(name, "Content-Length") == 0) {
			char *e;
			unsigned long long n;
			if (!isdigit((unsigned char)*val)) {
				*why = "bad Content-Length\n";
				return 400;
			}
			errno = 0;
			n = strtoull(val, &e, 10);
			if (*e || errno ||
			    (have_cl && n != rq->content_length)) {
				*why = "bad Content-Length\n";
				return 400;
			}
			have_cl = true;
			rq->content_length =
				n > SIZE_MAX ? SIZE_MAX : (size_t)n;
		} else if (strcasecmp(name, "Transfer-Encoding") == 0) {
			*why = "request bodies must have a Content-Length\n";
			return 501;
		} else if (strcasecmp(name, "Connection") == 0) {
			if (strcasestr(val, "close"))
				conn_close = true;
			if (strcasestr(val, "keep-alive"))
				conn_keep = true;
		} else if (strcasecmp(name, "Authorization") == 0) {
			rq->authorization = val;
		} else if (strcasecmp(name, "Accept-Encoding") == 0) {
			rq->accept_encoding = val;
		} else if (strcasecmp(name,
				      "X-Prometheus-Scrape-Timeout-Seconds") ==
			   0) {
			rq->scrape_timeout = val;
		}
	}
	rq->keepalive = rq->http10 ? conn_keep && !conn_close : !conn_close;
	/* the path and the query */
	q = strchr(rq->target_raw, '?');
	rq->path = vd_xstrndup(rq->target_raw, q ? (size_t)(q - rq->target_raw)
						 : strlen(rq->target_raw));
	if (!pct_decode(rq->path, false)) {
		*why = "bad percent-encoding in the path\n";
		return 400;
	}
	if (q && parse_query(rq, q + 1)) {
		*why = rq->nargs == VD_HTTP_MAX_ARGS
			       ? "too many query arguments\n"
			       : "bad percent-encoding in the query\n";
		return 400;
	}
	if (rq->content_length > MAX_BODY) {
		*why = "request body too large\n";
		return 413;
	}
	return 0;
}

void
vd_exp_http_request_clear(struct vd_exp_http_request *rq)
{
	free(rq->path);
	free(rq->argbuf);
	memset(rq, 0, sizeof(*rq));
}

size_t
vd_exp_http_head_end(const char *buf, size_t len, size_t from)
{
	size_t i = from > 2 ? from - 2 : 0;
	for (; i < len; i++) {
		if (buf[i] != '\n')
			continue;
		if (i + 1 < len && buf[i + 1] == '\n')
			return i + 2;
		if (i + 2 < len && buf[i + 1] == '\r' && buf[i + 2] == '\n')
			return i + 3;
	}
	return 0;
}

/* The request is complete: stop reading (the loop must not spin on a
 * readable socket while the answer is made) and answer it. */
static void
complete(struct conn *c)
{
	struct ev_loop *loop = c->h->ex->loop;
	ev_io_stop(loop, &c->io);
	ev_timer_stop(loop, &c->timer);
	c->state = C_BUSY;
	route(c);
}

/* IN_MAX bytes and no end of the headers: a request line that long is
 * most likely a crowd of query arguments (400, as for VD_HTTP_MAX_ARGS), else
 * 414; long headers 431. */
static void
too_large(struct conn *c)
{
	const char *nl = memchr(c->in, '\n', c->in_len);
	size_t amps = 0, i;

	c->hdr_len = c->in_len;
	if (nl) {
		refuse(c, 431, "request headers too large\n");
		return;
	}
	for (i = 0; i < c->in_len; i++)
		amps += c->in[i] == '&';
	if (amps >= VD_HTTP_MAX_ARGS)
		refuse(c, 400, "too many query arguments\n");
	else
		refuse(c, 414, "request line too long\n");
}

/* Looks at what arrived: headers complete? body complete? */
static void
progress(struct conn *c)
{
	if (c->hdr_len == 0) {
		size_t e = vd_exp_http_head_end(c->in, c->in_len, c->scanned);
		c->scanned = c->in_len;
		if (e == 0) {
			if (c->in_len == IN_MAX)
				too_large(c);
			return;
		}
		c->hdr_len = e;
		/* the head is complete: parse it now, its Content-Length
		 * says how much body follows */
		{
			const char *why = NULL;
			unsigned st;
			st = vd_exp_http_parse(c->in, c->hdr_len, &c->rq, &why);
			if (st) {
				refuse(c, st, why);
				return;
			}
			c->body_left = c->rq.content_length;
		}
		{
			size_t extra = c->in_len - c->hdr_len;
			size_t take =
				extra < c->body_left ? extra : c->body_left;
			c->body_left -= take;
			/* the body is dropped; keep only what follows it */
			memmove(c->in + c->hdr_len, c->in + c->hdr_len + take,
				extra - take);
			c->in_len -= take;
		}
	}
	if (c->body_left > 0)
		return;
	complete(c);
}

/* --- connections -------------------------------------------------------- */

/* When c's current deadline falls (ev_now() base); < 0: none. */
static double
deadline(const struct conn *c)
{
	const struct vd_exp_config *cfg = c->h->ex->cfg;

	switch (c->state) {
	case C_READ:
		return c->req_start > 0 ? c->req_start + cfg->request_timeout
					: c->last_io + cfg->conn_timeout;
	case C_WRITE:
		/* progress moves it: a client that reads slowly but reads
		 * is not cut */
		return c->last_io + cfg->conn_timeout;
	case C_LINGER:
		return c->last_io + LINGER;
	case C_BUSY:
	case C_DEAD:
	default:
		return -1;
	}
}

static void
timer_arm(struct conn *c)
{
	struct ev_loop *loop = c->h->ex->loop;
	double now = ev_now(loop), at = deadline(c);

	ev_timer_stop(loop, &c->timer);
	if (at < 0)
		return;
	ev_timer_set(&c->timer, at > now ? at - now : 0., 0.);
	ev_timer_start(loop, &c->timer);
}

static void
timer_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct conn *c = w->data;
	double at = deadline(c);
	(void)revents;

	if (at < 0)
		return;
	if (at > ev_now(loop)) {
		timer_arm(c); /* moved since it was armed */
		return;
	}
	if (c->state == C_READ && c->req_start > 0) {
		static const char msg[] =
			"HTTP/1.1 408 Request Timeout\r\nContent-Length: 0\r\n"
			"Connection: close\r\n\r\n";
		c->h->stats.timed_out++;
		/* one try: a client too slow to send is not waited for */
		(void)!send(c->fd, msg, sizeof(msg) - 1, MSG_NOSIGNAL);
	}
	conn_close(c);
}

/* The answer is out: next request, or linger, or close. */
static void
answered(struct conn *c)
{
	struct ev_loop *loop = c->h->ex->loop;
	size_t rest;

	free(c->head);
	c->head = NULL;
	if (c->body_free)
		c->body_free(c->body_arg);
	c->body_free = NULL;
	c->body = NULL;
	if (c->close_after) {
		shutdown(c->fd, SHUT_WR);
		c->state = C_LINGER;
		c->drained = 0;
		ev_io_stop(loop, &c->io);
		ev_io_set(&c->io, c->fd, EV_READ);
		ev_io_start(loop, &c->io);
		timer_arm(c);
		return;
	}
	/* keep-alive: bytes past this request are the next one's */
	rest = c->in_len - c->hdr_len;
	memmove(c->in, c->in + c->hdr_len, rest);
	c->in_len = rest;
	c->hdr_len = 0;
	c->scanned = 0;
	vd_exp_http_request_clear(&c->rq);
	c->state = C_READ;
	c->since = c->last_io = ev_now(loop);
	c->req_start = rest ? c->since : 0;
	accept_resume(c->h); /* c may now make room for a newcomer */
	ev_io_stop(loop, &c->io);
	ev_io_set(&c->io, c->fd, EV_READ);
	ev_io_start(loop, &c->io);
	timer_arm(c);
	if (rest)
		progress(c);
}

static void
conn_write(struct conn *c)
{
	struct ev_loop *loop = c->h->ex->loop;

	for (;;) {
		struct iovec iov[2];
		int n = 0;
		ssize_t w;

		if (c->head_off < c->head_len) {
			iov[n].iov_base = c->head + c->head_off;
			iov[n].iov_len = c->head_len - c->head_off;
			n++;
		}
		if (c->body_off < c->body_len) {
			iov[n].iov_base = (char *)c->body + c->body_off;
			iov[n].iov_len = c->body_len - c->body_off;
			n++;
		}
		if (n == 0) {
			answered(c);
			return;
		}
		{
			struct msghdr mh;
			memset(&mh, 0, sizeof(mh));
			mh.msg_iov = iov;
			mh.msg_iovlen = (size_t)n;
			w = sendmsg(c->fd, &mh, MSG_NOSIGNAL);
		}
		if (w < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				break;
			conn_close(c);
			return;
		}
		c->last_io = ev_now(loop);
		if (c->head_off < c->head_len) {
			size_t t = c->head_len - c->head_off;
			if ((size_t)w < t) {
				c->head_off += (size_t)w;
				continue;
			}
			c->head_off = c->head_len;
			w -= (ssize_t)t;
		}
		c->body_off += (size_t)w;
	}
	ev_io_stop(loop, &c->io);
	ev_io_set(&c->io, c->fd, EV_WRITE);
	ev_io_start(loop, &c->io);
	timer_arm(c);
}

static void
conn_read(struct conn *c)
{
	struct ev_loop *loop = c->h->ex->loop;

	for (;;) {
		ssize_t r;
		char *dst;
		size_t room;

		if (c->state == C_LINGER) {
			char sink[4096];
			r = recv(c->fd, sink, sizeof(sink), 0);
			if (r > 0) {
				c->drained += (size_t)r;
				if (c->drained < DRAIN_MAX)
					continue;
			} else if (r < 0 &&
				   (errno == EAGAIN || errno == EWOULDBLOCK)) {
				return;
			} else if (r < 0 && errno == EINTR) {
				continue;
			}
			conn_close(c);
			return;
		}
		if (c->state != C_READ)
			return;
		if (c->hdr_len && c->body_left) {
			/* the body: read and dropped */
			char sink[4096];
			size_t want = c->body_left < sizeof(sink)
					      ? c->body_left
					      : sizeof(sink);
			dst = sink;
			r = recv(c->fd, dst, want, 0);
			if (r > 0) {
				c->body_left -= (size_t)r;
				c->last_io = ev_now(loop);
				if (c->body_left == 0) {
					complete(c);
					return;
				}
				continue;
			}
		} else {
			room = IN_MAX - c->in_len;
			dst = c->in + c->in_len;
			if (room == 0)
				return; /* a complete request waits its turn */
			r = recv(c->fd, dst, room, 0);
			if (r > 0) {
				if (c->req_start == 0) {
					c->req_start = ev_now(loop);
					timer_arm(c);
				}
				c->in_len += (size_t)r;
				c->last_io = ev_now(loop);
				progress(c);
				if (c->state != C_READ)
					return;
				continue;
			}
		}
		if (r == 0) {
			conn_close(c);
			return;
		}
		if (errno == EINTR)
			continue;
		if (errno != EAGAIN && errno != EWOULDBLOCK)
			conn_close(c);
		return;
	}
}

static void
io_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	struct conn *c = w->data;
	(void)loop;
	if ((revents & EV_WRITE) && c->state == C_WRITE)
		conn_write(c);
	else if (revents & EV_READ)
		conn_read(c);
}

static void accept_cb(struct ev_loop *loop, ev_io *w, int revents);

static void
accept_resume(struct vd_exp_http *h)
{
	if (!h->accept_paused)
		return;
	h->accept_paused = false;
	ev_io_start(h->ex->loop, &h->accept_io);
}

static void
reap_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct vd_exp_http *h = w->data;
	(void)loop;
	(void)revents;
	while (h->dead) {
		struct conn *c = h->dead;
		h->dead = c->next;
		free(c);
	}
}

/* Closes c now and frees it from a clean stack: callers up the stack may
 * still look at c->state (C_DEAD). A second call is a no-op. */
static void
conn_close(struct conn *c)
{
	struct vd_exp_http *h = c->h;
	struct ev_loop *loop = h->ex->loop;

	if (c->state == C_DEAD)
		return;
	ev_io_stop(loop, &c->io);
	ev_timer_stop(loop, &c->timer);
	vd_exp_probe_cancel(c->probe);
	vd_exp_auth_cancel(c->auth);
	if (c->zjob)
		c->zjob->c = NULL;
	if (c->body_free)
		c->body_free(c->body_arg);
	free(c->head);
	vd_exp_http_request_clear(&c->rq);
	close(c->fd);
	if (c->prev)
		c->prev->next = c->next;
	else
		h->conns = c->next;
	if (c->next)
		c->next->prev = c->prev;
	h->nconns--;
	h->stats.connections = h->nconns;
	free(c->in);
	c->in = NULL;
	c->body_free = NULL;
	c->head = NULL;
	c->state = C_DEAD;
	c->prev = NULL;
	c->next = h->dead;
	h->dead = c;
	if (!ev_is_active(&h->reap)) {
		ev_timer_set(&h->reap, 0., 0.);
		ev_timer_start(loop, &h->reap);
	}
	accept_resume(h);
}

/*
 * The connection that has waited longest for a complete request (idle
 * or slow to send), among those from ip (NULL: any); NULL when every
 * connection is busy answering.
 */
static struct conn *
victim(struct vd_exp_http *h, const unsigned char *ip)
{
	struct conn *c, *best = NULL;
	for (c = h->conns; c; c = c->next) {
		if (c->state != C_READ || (c->hdr_len && !c->body_left))
			continue;
		if (ip && memcmp(c->ip, ip, 16) != 0)
			continue;
		if (best == NULL || c->since < best->since)
			best = c;
	}
	return best;
}

static void
addr_key(const struct sockaddr_storage *ss, unsigned char ip[16])
{
	memset(ip, 0, 16);
	if (ss->ss_family == AF_INET6) {
		memcpy(ip, &((const struct sockaddr_in6 *)ss)->sin6_addr, 16);
	} else if (ss->ss_family == AF_INET) {
		ip[10] = ip[11] = 0xff;
		memcpy(ip + 12, &((const struct sockaddr_in *)ss)->sin_addr, 4);
	}
}

/* Makes room for a newcomer from ip. Returns false to refuse it. */
static bool
make_room(struct vd_exp_http *h, const unsigned char ip[16])
{
	const struct vd_exp_config *cfg = h->ex->cfg;
	unsigned same = 0;
	struct conn *c, *v;

	for (c = h->conns; c; c = c->next)
		if (memcmp(c->ip, ip, 16) == 0)
			same++;
	if (same >= cfg->max_per_client) {
		v = victim(h, ip);
		if (v == NULL) {
			h->stats.rejected++;
			return false;
		}
		h->stats.evicted++;
		conn_close(v);
	}
	if (h->nconns >= cfg->max_connections) {
		v = victim(h, NULL);
		if (v == NULL) {
			h->stats.rejected++;
			return false;
		}
		h->stats.evicted++;
		conn_close(v);
	}
	return true;
}

static void
accept_one(struct vd_exp_http *h, int fd, const struct sockaddr_storage *ss)
{
	struct ev_loop *loop = h->ex->loop;
	struct conn *c;
	unsigned char ip[16];
	int one = 1, sz = CONN_SNDBUF;

	addr_key(ss, ip);
	if (!make_room(h, ip)) {
		close(fd);
		return;
	}
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sz, sizeof(sz));
	c = vd_xcalloc(1, sizeof(*c));
	c->h = h;
	c->fd = fd;
	memcpy(c->ip, ip, 16);
	c->in = vd_xmalloc(IN_MAX);
	c->state = C_READ;
	c->since = c->last_io = ev_now(loop);
	ev_io_init(&c->io, io_cb, fd, EV_READ);
	c->io.data = c;
	ev_io_start(loop, &c->io);
	ev_timer_init(&c->timer, timer_cb, 0., 0.);
	c->timer.data = c;
	timer_arm(c);
	c->next = h->conns;
	if (c->next)
		c->next->prev = c;
	h->conns = c;
	h->nconns++;
	h->stats.accepted++;
	h->stats.connections = h->nconns;
}

static void
accept_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	struct vd_exp_http *h = w->data;
	int i;
	(void)revents;

	for (i = 0; i < ACCEPT_BATCH; i++) {
		struct sockaddr_storage ss = {0};
		socklen_t sl = sizeof(ss);
		int fd;

		if (h->nconns >= h->ex->cfg->max_connections &&
		    victim(h, NULL) == NULL) {
			/* every slot answers a request: the backlog waits
			 * until one is done */
			ev_io_stop(loop, &h->accept_io);
			h->accept_paused = true;
			return;
		}
		fd = accept4(h->lfd, (struct sockaddr *)&ss, &sl,
			     SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0) {
			if (errno == EMFILE || errno == ENFILE ||
			    errno == ENOBUFS || errno == ENOMEM) {
				ev_io_stop(loop, &h->accept_io);
				ev_timer_set(&h->accept_retry, 0.1, 0.);
				ev_timer_start(loop, &h->accept_retry);
			}
			return;
		}
		accept_one(h, fd, &ss);
	}
}

static void
accept_retry_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct vd_exp_http *h = w->data;
	(void)revents;
	if (!h->accept_paused)
		ev_io_start(loop, &h->accept_io);
}

struct vd_exp_http *
vd_exp_http_start(struct vd_exp *ex, int fd, const struct vd_exp_routes *routes)
{
	struct vd_exp_http *h = vd_xcalloc(1, sizeof(*h));

	h->ex = ex;
	h->routes = *routes;
	h->lfd = fd;
	h->auth = vd_exp_auth_new(ex->loop);
	/* join: a compression ends in a fraction of a second */
	h->zip = vd_workers_new(ex->loop, 1, true);
	ev_io_init(&h->accept_io, accept_cb, fd, EV_READ);
	h->accept_io.data = h;
	ev_io_start(ex->loop, &h->accept_io);
	ev_timer_init(&h->accept_retry, accept_retry_cb, 0., 0.);
	h->accept_retry.data = h;
	ev_timer_init(&h->reap, reap_cb, 0., 0.);
	h->reap.data = h;
	return h;
}

const struct vd_exp_http_stats *
vd_exp_http_stats(struct vd_exp_http *h)
{
	if (h == NULL)
		return NULL;
	h->stats.auth_pending = vd_exp_auth_pending(h->auth);
	return &h->stats;
}

void
vd_exp_http_stop(struct vd_exp_http *h)
{
	struct ev_loop *loop;

	if (h == NULL)
		return;
	loop = h->ex->loop;
	ev_io_stop(loop, &h->accept_io);
	ev_timer_stop(loop, &h->accept_retry);
	close(h->lfd);
	while (h->conns) {
		struct conn *c = h->conns;
		if (c->state == C_BUSY && c->probe) {
			/* one try to tell a /probe caller why */
			vd_exp_probe_cancel(c->probe);
			c->probe = NULL;
			c->close_after = true;
			respond_text(c, 503, "verdict is shutting down\n",
				     NULL);
		}
		conn_close(c);
	}
	ev_timer_stop(loop, &h->reap);
	reap_cb(loop, &h->reap, 0);
	/* orphaned compressions drop their page references here (the loop
	 * waits for a running one) */
	vd_workers_free(h->zip);
	vd_exp_auth_free(h->auth);
	free(h);
}

int
vd_exp_listen(const char *addr, char *err, size_t errlen)
{
	char host[256], *port;
	const char *hp;
	struct addrinfo hints, *ai = NULL;
	int fd = -1, one = 1, zero = 0, rc;

	if (strlen(addr) >= sizeof(host)) {
		snprintf(err, errlen, "listen address too long");
		return -1;
	}
	if (addr[0] == '[') {
		const char *close_b = strchr(addr, ']');
		if (close_b == NULL || close_b[1] != ':') {
			snprintf(err, errlen, "%s: expected [IPv6]:PORT", addr);
			return -1;
		}
		snprintf(host, sizeof(host), "%.*s", (int)(close_b - addr - 1),
			 addr + 1);
		hp = close_b + 2;
	} else {
		const char *colon = strrchr(addr, ':');
		if (colon == NULL) {
			snprintf(err, errlen,
				 "%s: expected HOST:PORT, [IPv6]:PORT or :PORT",
				 addr);
			return -1;
		}
		snprintf(host, sizeof(host), "%.*s", (int)(colon - addr), addr);
		hp = colon + 1;
	}
	port = vd_xstrdup(hp);
	memset(&hints, 0, sizeof(hints));
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
	hints.ai_family = *host ? AF_UNSPEC : AF_INET6;
	rc = getaddrinfo(*host ? host : NULL, port, &hints, &ai);
	if (rc != 0) {
		snprintf(err, errlen, "%s: %s", addr, gai_strerror(rc));
		goto out;
	}
	fd = socket(ai->ai_family,
		    ai->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK,
		    ai->ai_protocol);
	if (fd < 0) {
		snprintf(err, errlen, "%s: socket: %s", addr, strerror(errno));
		goto out;
	}
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (ai->ai_family == AF_INET6 && *host == '\0')
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof(zero));
	if (bind(fd, ai->ai_addr, ai->ai_addrlen) != 0 ||
	    listen(fd, LISTEN_BACKLOG) != 0) {
		snprintf(err, errlen, "cannot listen on %s: %s", addr,
			 strerror(errno));
		close(fd);
		fd = -1;
	}
out:
	if (ai)
		freeaddrinfo(ai);
	free(port);
	return fd;
}
