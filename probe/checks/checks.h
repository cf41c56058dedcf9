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
