/*
 * checks.h - every check type the registry lists, and parsing helpers the
 * types share. Internal to probe/.
 */
#ifndef VD_CHECKS_H
#define VD_CHECKS_H

#include "../../lib/cfg.h"
#include "../../lib/match.h"
#include "../probe.h"

extern const struct vd_check_type vd_check_http;
extern const struct vd_check_type vd_check_tls;
extern const struct vd_check_type vd_check_tcp;
extern const struct vd_check_type vd_check_security_headers;
extern const struct vd_check_type vd_check_cors;
extern const struct vd_check_type vd_check_postgres;
extern const struct vd_check_type vd_check_redis;
extern const struct vd_check_type vd_check_env_file;
extern const struct vd_check_type vd_check_json_file;
extern const struct vd_check_type vd_check_exec;
extern const struct vd_check_type vd_check_dns;
extern const struct vd_check_type vd_check_flow;

/*
 * One HTTP exchange (http.c): the http check's request keys and
 * expectations, shared by the http check and each step of a flow.
 */
struct vd_http_conf;
struct vd_http_req_opts;
struct vd_http_resp;
struct vd_http_exch;
/*
 * Reads url, method, headers, body, auth, follow_redirects,
 * max_redirects, allow_link_local and expect from c. templated: strings
 * may hold {{name}} (the URL is validated with each one read as "x").
 * Returns 0 with *out set, or VD_ERR_CONFIG with *out NULL.
 */
int vd_http_conf_parse(struct vd_cfg *c, bool templated,
		       struct vd_http_conf **out);
/* NULL does nothing. */
void vd_http_conf_free(struct vd_http_conf *hc);
const char *vd_http_conf_url(const struct vd_http_conf *hc);
/* Fills o from hc and chk (tls, max_body); o points into hc and chk. */
void vd_http_conf_opts(const struct vd_http_conf *hc,
		       const struct vd_check *chk, struct vd_http_req_opts *o);
/* Every expectation of the exchange held; resp is valid during the call. */
typedef void vd_http_exch_cb(struct vd_http_exch *x,
			     const struct vd_http_resp *resp, void *udata);
/*
 * Sends o (which must stay valid until the exchange is freed) and judges
 * the answer against hc: a failed transfer or an expectation that does
 * not hold finishes the attempt; when all hold, cb runs (from the loop)
 * and the attempt goes on. answered (may be NULL) runs first, once a
 * response arrived and before anything is judged (a flow takes its
 * captures there, so a secret is masked in the judging's reasons); it
 * may finish the attempt. Free with vd_http_exch_free() from cancel or
 * later, never from inside cb; never NULL.
 */
struct vd_http_exch *vd_http_exch_start(struct vd_attempt *att,
					const struct vd_http_conf *hc,
					const struct vd_http_req_opts *o,
					vd_http_exch_cb *answered,
					vd_http_exch_cb *cb, void *udata);
/* NULL does nothing. */
void vd_http_exch_free(struct vd_http_exch *x);
/* Where the exchange stands, for a timeout's reason. */
void vd_http_exch_progress(const struct vd_http_exch *x, char *buf, size_t len);

/*
 * Validates url (taken from key) as an http or https URL with a host
 * (lib/url.h; host_port.c). Returns 0 or VD_ERR_CONFIG (the error names
 * the key, never the password).
 */
int vd_check_url(struct vd_cfg *c, const char *key, const char *url);

/*
 * Reads a small local file of at most cap bytes (file_common.c) for a file
 * check. On success returns true with *data (NUL-terminated, len bytes;
 * free with vd_check_file_free, which wipes it). On failure finishes the
 * attempt (missing, not a regular file, too large: fail; unreadable:
 * error) and returns false.
 */
bool vd_check_file_read(struct vd_attempt *att, const char *path, size_t cap,
			char **data, size_t *len);
void vd_check_file_free(char *data, size_t len);
/* Takes a file check's "path" (required, not empty) into *path. Returns 0
 * or VD_ERR_CONFIG. */
int vd_check_file_path(struct vd_cfg *c, char **path);

struct vd_buf;

/* Findings a file check lists in its reason at most; the rest are counted. */
#define VD_CHECK_MAX_FINDINGS 20
/*
 * Ends a file check's attempt (file_common.c) on nf findings, the first
 * VD_CHECK_MAX_FINDINGS of them listed "; "-separated in f (which gets
 * "; and N more"): sets the facts findings_count and, when nf > 0,
 * findings, and fails (policy) with f as the reason; with no findings,
 * passes with the reason fmt. The caller still frees f.
 */
void vd_check_findings_finish(struct vd_attempt *att, struct vd_buf *f,
			      size_t nf, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/*
 * Socket checks' keys (host_port.c): takes "host" (required, no blanks or
 * slashes) into *host (caller frees) and "port" (1-65535; required when
 * dflt is 0, else dflt when absent) into port as decimal (written even on
 * error). Returns 0 or VD_ERR_CONFIG. vd_check_host_target: "host:port",
 * "[host]:port" for an IPv6 address; the caller frees it.
 */
int vd_check_host_port(struct vd_cfg *c, long dflt, char **host, char port[8]);
char *vd_check_host_target(const char *host, const char *port);

/*
 * JSON helpers (json_path.c) for the http and json_file checks.
 * vd_json_at follows a dotted path ("checks.db", "items.0.id"; numeric
 * parts index arrays) and returns the value inside root, or NULL when
 * absent. vd_json_path_ok: path is non-empty, with no leading, trailing or
 * doubled dot. (vd_json_equal and vd_json_brief are the matcher's:
 * match.h.)
 */
const cJSON *vd_json_at(const cJSON *root, const char *path);
/*
 * Calls fn for every value at path, where a "*" part matches every element
 * of an array (or member of an object), with the concrete path
 * ("items.2.price"); fn returns false to stop. Returns the number of
 * values visited.
 */
typedef bool vd_json_visit(const cJSON *v, const char *path, void *arg);
size_t vd_json_select(const cJSON *root, const char *path, vd_json_visit *fn,
		      void *arg);
/* True when path has a "*" part. */
bool vd_json_path_wild(const char *path);
/*
 * Judges the value at path (every value, for a "*" path) against e.
 * Returns as vd_expect_judge(); on VD_MATCH_NO or VD_MATCH_LIMIT, why is
 * "PATH: what was found", with the concrete path ("items.2.price: 0 is
 * not > 0").
 */
struct vd_expect;
enum vd_match vd_json_expect(const cJSON *root, const char *path,
			     const struct vd_expect *e, char *why, size_t len);
bool vd_json_path_ok(const char *s);

/*
 * Flow helpers (flow.c), exposed for tests and fuzzing.
 * vd_flow_tmpl_scan: checks every {{name}} of s against the n known
 * names; returns 0, or -1 with why ("{{tok}}: no earlier step captures
 * it", "unterminated {{"). vd_flow_tmpl_fill: s with each known {{name}}
 * replaced by its value (JSON-escaped when json; unknown ones left as
 * they are); the caller frees it. vd_flow_capture_json: the value at a
 * dotted path of a JSON body as text (strings bare, others as compact
 * JSON), or NULL when the body is not JSON or the path is absent.
 * vd_flow_cookie_pick: the value of cookie name from a libcurl cookie
 * list (Netscape lines), preferring one whose domain matches host;
 * NULL when none. vd_flow_secret_name: a capture name or source that
 * looks secret (token, session, password, secret, key, auth, cookie).
 */
struct curl_slist;
int vd_flow_tmpl_scan(const char *s, const char *const *names, size_t n,
		      char *why, size_t len);
char *vd_flow_tmpl_fill(const char *s, const char *const *names,
			const char *const *vals, size_t n, bool json);
char *vd_flow_capture_json(const char *body, size_t len, const char *path);
char *vd_flow_cookie_pick(const struct curl_slist *cookies, const char *name,
			  const char *host);
bool vd_flow_secret_name(const char *s);

/*
 * Redis replies (redis.c), exposed for tests and fuzzing. buf holds len
 * bytes hiredis' reader has not parsed yet while it waits on a bulk
 * string: its length line ("1000000000\r\n...", the '$' already read).
 * Returns -1 when that length is complete and more than max_body
 * (*declared: the length; LLONG_MAX past it), else 0.
 * vd_redis_fuzz_replies feeds data in pieces to a reader limited as a
 * check's is, stops where a check would, and shows every reply as a
 * reason would.
 */
int vd_redis_pending_check(const char *buf, size_t len, size_t max_body,
			   long long *declared);
void vd_redis_fuzz_replies(const char *data, size_t len, size_t max_body);
/* For fuzz_pg_error: libpq's connection error text, which quotes what the
 * server said, through the parser and the DSN redactor that build a
 * postgres check's reasons. Returns a reason-like line; caller frees. */
char *vd_pg_fuzz_conn_error(const char *msg);

#endif
