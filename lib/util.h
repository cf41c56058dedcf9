/*
 * util.h - small helpers shared by every module: allocators that abort on
 * out-of-memory, a growable string buffer with a hard cap, durations,
 * sizes and secret masking. Depends on libc only.
 */
#ifndef VD_UTIL_H
#define VD_UTIL_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>

void *vd_xmalloc(size_t n);
void *vd_xcalloc(size_t nmemb, size_t size);
void *vd_xrealloc(void *p, size_t n);
/* vd_xreallocarray: n * size with overflow check (aborts). */
void *vd_xreallocarray(void *p, size_t nmemb, size_t size);
char *vd_xstrdup(const char *s);
/* NULL in, NULL out. */
char *vd_xstrdup_null(const char *s);
char *vd_xstrndup(const char *s, size_t n);
char *vd_xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
char *vd_xvasprintf(const char *fmt, va_list ap)
	__attribute__((format(printf, 1, 0)));
/* Wipes then frees a string holding a secret; NULL does nothing. */
void vd_free_secret(char *s);

/* A byte buffer. cap_max bounds growth: appends past it are truncated
 * and set 'truncated'. cap_max 0 means unbounded. data is always
 * NUL-terminated. */
struct vd_buf {
	char *data;
	size_t len;
	size_t cap;
	size_t cap_max;
	bool truncated;
};

void vd_buf_init(struct vd_buf *b, size_t cap_max);
void vd_buf_free(struct vd_buf *b);
void vd_buf_reset(struct vd_buf *b);
/* Returns the number of bytes stored (less than n when capped). */
size_t vd_buf_append(struct vd_buf *b, const void *p, size_t n);
void vd_buf_puts(struct vd_buf *b, const char *s);
void vd_buf_printf(struct vd_buf *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* Hands the string to the caller; b is left empty and needs no free. */
char *vd_buf_steal(struct vd_buf *b);

/*
 * Reads the whole file at path into out, which it initialises with a cap
 * of max bytes (free it with vd_buf_free() whatever the result). Blocking
 * stdio: for files read at start-up, never on a running loop. Returns 0,
 * VD_ERR_IO (probe.h) when the file cannot be opened or read, or
 * VD_ERR_CONFIG when it is larger than max; err then says
 * "PATH: why" ("PATH: larger than 16 MiB").
 */
int vd_read_file(const char *path, size_t max, struct vd_buf *out, char *err,
		 size_t errlen);

/* Parses "250ms", "5s", "1m", "1h", "1.5s", "1m30s" into seconds (units
 * d, h, m, s, ms, us; each at most once, largest first; at most 366 days).
 * Returns 0, VD_DURATION_UNIT_ORDER for a unit repeated or out of order
 * ("1h1h", "5s5s", "30s1m"), or -1 for anything else that is not a
 * duration; *out is set only on success. */
#define VD_DURATION_UNIT_ORDER (-2)
int vd_parse_duration(const char *s, double *out);
/* Formats seconds for people: "250ms", "5s", "1m30s". */
void vd_format_duration(double secs, char *buf, size_t len);
/* Parses "1048576", "512KiB", "1MiB", "10MB" (decimal) into bytes. */
int vd_parse_size(const char *s, size_t *out);

/*
 * Secrets: every string registered here is replaced by "***" wherever
 * vd_mask() is applied (reasons, reports, logs, metric labels). Strings
 * shorter than VD_SECRET_MIN bytes are not registered (they would mask
 * ordinary words). Outputs mask first, then escape or quote; the JSON- and
 * XML-escaped forms of a secret are registered too, should one not.
 */
#define VD_SECRET_MIN 3
/* The first VD_SECRET_PREFIX_MIN bytes of a secret, or more, are masked
 * too where the text then ends or goes on as after a cut (a quote, "...",
 * ")", ",", ";", a blank): a value quoted in a reason may be cut short.
 * ("https://example.com/health" keeps its start when the secret is the
 * webhook "https://example.com/hook/...".) */
#define VD_SECRET_PREFIX_MIN 12
void vd_secret_add(const char *s);
/* Registers password and the Basic credentials built from user and
 * password: "user:password" and its base64. */
void vd_secret_add_basic(const char *user, const char *password);
/* Registers an Authorization header value: the whole value, the
 * credentials after the scheme, and for Basic the decoded pair and its
 * password. */
void vd_secret_add_authorization(const char *value);
/*
 * A secret for a while (a value a flow captured): registered as
 * vd_secret_add() does, with its base64 and URL-encoded forms, until as
 * many vd_secret_release() calls as holds. Text masked meanwhile stays
 * masked; a secret also added for good stays. Keeps the list bounded in a
 * long-running serve where every run captures a new token.
 */
void vd_secret_hold(const char *s);
void vd_secret_release(const char *s);
void vd_secret_clear(void);
/* Returns a new string with secrets masked. */
char *vd_mask(const char *s);
/* vd_mask(s), then cut to at most max bytes (on a UTF-8 boundary) plus
 * "..." when longer: for quoting peer values in reasons, where cutting
 * first would leave the start of a secret unmasked. NULL reads as "". */
char *vd_mask_brief(const char *s, size_t max);
/* vd_mask_brief() into out (outlen bytes, cut further if it must);
 * returns out. For reasons built on the stack. */
const char *vd_mask_brief_to(const char *s, size_t max, char *out,
			     size_t outlen);
/*
 * Masks a stream that arrives in pieces (a child's output): a secret
 * split between two pieces is masked as if the stream had come whole.
 * Bytes that may begin a secret are held back (fewer than the longest
 * secret) until the next piece or the end. NUL bytes pass through.
 */
struct vd_mask_stream {
	struct vd_buf held; /* unmasked bytes not yet told; wiped */
};
void vd_mask_stream_init(struct vd_mask_stream *ms);
/* Appends to out the masked bytes that can be told now; holds the rest. */
void vd_mask_stream_feed(struct vd_mask_stream *ms, const char *p, size_t n,
			 struct vd_buf *out);
/* The end of the stream: appends what was held, masked. */
void vd_mask_stream_end(struct vd_mask_stream *ms, struct vd_buf *out);
void vd_mask_stream_free(struct vd_mask_stream *ms);
/* vd_xvasprintf, then vd_mask: a message that may quote a secret. */
char *vd_xvasprintf_masked(const char *fmt, va_list ap)
	__attribute__((format(printf, 1, 0)));
/* Standard base64 with padding; the caller frees. */
char *vd_base64(const void *data, size_t n);

/* Returns a copy of url for people: the password (user:PASS@) and the
 * values of query parameters whose names look secret (see
 * vd_query_name_is_secret) replaced by ***, everything else masked. The
 * password, the Basic credentials curl would send and those values are
 * registered as secrets. */
char *vd_mask_url(const char *url);
/* True for query parameter names (n bytes) whose values are secret: any
 * case of token, key, pass, pwd, secret, sig, auth, cred, session in
 * the name (access_token, api_key, X-Amz-Signature, ...). */
bool vd_query_name_is_secret(const char *name, size_t n);
/* True for header names whose values are secret (Authorization, Cookie,
 * *token*, *secret*, *key*, *password*). */
bool vd_header_is_secret(const char *name);

/* Registers value when name is a secret header: Authorization and
 * Proxy-Authorization as vd_secret_add_authorization(), the others of
 * vd_header_is_secret() as they are. */
void vd_secret_add_header(const char *name, const char *value);

/* True for environment variable names that suggest a secret (PASS,
 * SECRET, TOKEN, KEY, CREDENTIAL, AUTH, WEBHOOK, any case): their values
 * are registered for masking wherever they are used. */
bool vd_env_name_is_secret(const char *name);

/* Length of the valid UTF-8 sequence at s (1-4; 1 for the NUL), or 0
 * when none starts there (overlong forms, surrogates and code points past
 * U+10FFFF included). */
int vd_utf8_seq(const char *s);
/* A copy of s with each byte that starts no valid UTF-8 sequence replaced
 * by U+FFFD: what a peer sent, made safe for JSON and XML outputs. */
char *vd_utf8_fix(const char *s);

/* strcmp-like helpers */
bool vd_streq(const char *a, const char *b);
bool vd_strcaseeq(const char *a, const char *b);
bool vd_startswith(const char *s, const char *prefix);

/* Sets O_NONBLOCK and FD_CLOEXEC; returns 0 or -1. */
int vd_set_nonblock(int fd);

#endif
